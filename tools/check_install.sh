#!/bin/sh
# check_install.sh BUILD_DIR [SOURCE_DIR] - installs BUILD_DIR into a fresh prefix and builds
# examples/plugin_template against that prefix alone, as a user would: with
# find_package(Switchboard) (shared, then static) and with plain cc + pkg-config. Runs the
# template's program each time and checks that its plugin answered as a thread and as a
# process, the process being the prefix's own swb-worker (found by the installed library, not
# the build tree's). Exits 0 if all of that held, 77 (skipped) without cmake or pkg-config.
# CC and CFLAGS (e.g. sanitizer flags of the build) are used for the template.
set -eu
build=$(cd "$1" && pwd)
src=$(cd "${2:-$(dirname "$0")/..}" && pwd)
cc=${CC:-cc}
cflags="-Wall -Wextra -Werror ${CFLAGS:-}"
for tool in cmake pkg-config "$cc"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "check_install: no $tool: skipped"; exit 77; }
done

work=$(mktemp -d /tmp/swb-install-XXXXXX)
broker=
trap '[ -z "$broker" ] || kill "$broker" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM PIPE # so that the EXIT trap cleans up then too
prefix=$work/prefix
# Only what the prefix provides: no plugin or worker overrides, no library path of the build.
unset SWB_PLUGIN_DIR SWB_WORKER_EXE LD_LIBRARY_PATH || true

fail() {
    echo "check_install: $*"
    exit 1
}

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || {
    cat "$work/install.log"
    fail "install failed"
}
libdir=$(dirname "$(find "$prefix" -name 'libswitchboard.so.*.*' | head -n 1)")
[ -d "$libdir" ] || fail "no libswitchboard.so.X.Y under $prefix"
for f in bin/swb bin/swb-worker "${libdir#"$prefix"/}/libswitchboard.so" \
    "${libdir#"$prefix"/}/libswitchboard.a" "${libdir#"$prefix"/}/switchboard/plugins/echo.so" \
    "${libdir#"$prefix"/}/pkgconfig/switchboard.pc" \
    "${libdir#"$prefix"/}/cmake/Switchboard/SwitchboardConfig.cmake"; do
    [ -e "$prefix/$f" ] || fail "$f not installed"
done
for h in "$prefix"/include/switchboard/*.h; do
    [ -e "$src/runtime/include/$(basename "$h")" ] || fail "$h is not a public header"
done
for h in "$src"/runtime/include/*.h; do
    [ -e "$prefix/include/switchboard/$(basename "$h")" ] || fail "$(basename "$h") not installed"
done

export PKG_CONFIG_PATH="$libdir/pkgconfig"
got=$(pkg-config --variable=prefix switchboard)
[ "$got" = "$prefix" ] || fail "switchboard.pc: prefix is $got, not $prefix"
case "$(pkg-config --cflags switchboard)" in
*"-I$prefix/include/switchboard"*) ;;
*) fail "switchboard.pc: cflags $(pkg-config --cflags switchboard)" ;;
esac

echo "== the installed swb: a broker with the built-in echo plugin in threads"
ep=ipc://$work/broker.sock
"$prefix/bin/swb" broker --endpoint "$ep" --workers 1 --plugin echo --threads >"$work/broker.log" 2>&1 &
broker=$!
tries=0
until "$prefix/bin/swb" call --endpoint "$ep" echo '{"a":1}' --timeout 5000 >"$work/out" 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || { cat "$work/broker.log" "$work/out"; fail "swb call echo failed"; }
    sleep 0.1
done
cat "$work/out"
grep -q '"a": *1' "$work/out" || fail "swb call echo: wrong answer"
# The plugin was found by name in the prefix's plugin folder, not the build tree's.
grep -qF "$libdir/switchboard/plugins/echo.so" "/proc/$broker/maps" ||
    fail "swb broker did not load $libdir/switchboard/plugins/echo.so"
kill -TERM "$broker"
wait "$broker" || fail "swb broker did not end cleanly"
broker=

# The template is copied out of the source tree, so nothing can find its way back there.
cp -r "$src/examples/plugin_template" "$work/template"
cd "$work/template"

# run NAME ARGS... - runs the template's program, checks its lines.
run() {
    name=$1
    shift
    echo "-- $name: $*"
    "$@" >"$work/out" 2>&1 || {
        cat "$work/out"
        fail "$name: the program failed"
    }
    cat "$work/out"
    grep -q '^greet_client: ok$' "$work/out" || fail "$name: no ok"
}
check_modes() {
    name=$1
    grep -q '^thread: hello, world (pid [0-9]*, this process)$' "$work/out" ||
        fail "$name: no answer from a worker thread"
    check_process "$name"
}
check_process() {
    grep -q "^process: hello, world (pid [0-9]*, $prefix/bin/swb-worker)\$" "$work/out" ||
        fail "$1: no answer from the installed swb-worker"
}
no_build_rpath() {
    if readelf -d "$1" 2>/dev/null | grep -E 'RPATH|RUNPATH' | grep -qF "$build"; then
        fail "$1 has a run path into $build"
    fi
}
no_build_rpath "$prefix/bin/swb-worker"
no_build_rpath "$libdir/libswitchboard.so"

echo "== find_package(Switchboard)"
cmake -S . -B "$work/b-cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="$cflags" >"$work/log" 2>&1 || {
    cat "$work/log"
    fail "find_package build: configure failed"
}
cmake --build "$work/b-cmake" >"$work/log" 2>&1 || {
    cat "$work/log"
    fail "find_package build failed"
}
no_build_rpath "$work/b-cmake/greet_client"
run find_package "$work/b-cmake/greet_client" "$work/b-cmake/greet.so"
check_modes find_package

echo "== find_package(Switchboard), Switchboard::switchboard_static"
cmake -S . -B "$work/b-static" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_C_FLAGS="$cflags" -DGREET_STATIC=ON >"$work/log" 2>&1 &&
    cmake --build "$work/b-static" >"$work/log" 2>&1 || {
    cat "$work/log"
    fail "static build failed"
}
# A static library cannot tell where it was installed: it is told where swb-worker is.
run static env SWB_WORKER_EXE="$prefix/bin/swb-worker" "$work/b-static/greet_client" \
    "$work/b-static/greet.so" process
check_process static

echo "== cc \$(pkg-config --cflags --libs switchboard)"
mkdir "$work/b-pc"
# shellcheck disable=SC2046 # pkg-config's output is a list of words
"$cc" -std=c11 $cflags -shared -fPIC -fvisibility=hidden greet.c -o "$work/b-pc/greet.so" \
    $(pkg-config --cflags --libs switchboard) || fail "pkg-config build of greet.so failed"
# shellcheck disable=SC2046
"$cc" -std=c11 $cflags client.c -o "$work/b-pc/greet_client" \
    $(pkg-config --cflags --libs switchboard) -Wl,-rpath,"$libdir" ||
    fail "pkg-config build of greet_client failed"
run pkg-config "$work/b-pc/greet_client" "$work/b-pc/greet.so" thread process
check_modes pkg-config
echo "check_install: ok"
