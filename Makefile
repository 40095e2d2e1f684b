# Thin wrapper over CMake so that a fresh machine needs two commands: `make demo`, `make test`.
BUILD ?= build
JOBS  ?= $(shell nproc)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local

.PHONY: all setup configure build demo test install bench bench-peers format format-check clean

all: build

setup:
	@sh tools/setup.sh

configure: setup
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/bin/swb demo

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 120

# Headers, libraries, swb, swb-worker, plugins, switchboard.pc and the CMake package under PREFIX.
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	@$(BUILD)/bin/swb bench

# The Node.js peers (child_process.fork, worker_threads, Piscina) on the same task and counts;
# PEERS_ARGS is passed on, e.g. PEERS_ARGS=--json.
bench-peers:
	@cd bench/peers && npm install --no-audit --no-fund --loglevel=error >/dev/null && node bench.js $(PEERS_ARGS)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	@rm -rf $(BUILD)
