/*
 * log.c - levelled logging to stderr or a replaceable sink.
 *
 * The level is read once from SWB_LOG. Repeated warnings (a hostile peer sending garbage in a
 * loop) are rate-limited per call site text so a flood cannot turn into a log flood.
 *
 * Layer: common; called by: every layer. Every call is safe from any thread.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "switchboard.h"

static pthread_once_t level_once = PTHREAD_ONCE_INIT;
static int log_level = SWB_LOG_WARN;
static swb_log_sink_fn log_sink;
static void *log_sink_arg;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Rate limit: at most LOG_BURST warnings/errors per second; the rest are counted and reported
 * once the second is over. */
#define LOG_BURST 20
static time_t log_window;
static int log_in_window;
static int log_suppressed;

static void level_from_env(void)
{
    const char *v = getenv("SWB_LOG");
    if (!v)
        return;
    if (!strcasecmp(v, "error"))
        log_level = SWB_LOG_ERROR;
    else if (!strcasecmp(v, "warn") || !strcasecmp(v, "warning"))
        log_level = SWB_LOG_WARN;
    else if (!strcasecmp(v, "info"))
        log_level = SWB_LOG_INFO;
    else if (!strcasecmp(v, "debug"))
        log_level = SWB_LOG_DEBUG;
}

void swb_log_set_level(int level)
{
    pthread_once(&level_once, level_from_env);
    __atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int swb_log_get_level(void)
{
    pthread_once(&level_once, level_from_env);
    return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

void swb_log_set_sink(swb_log_sink_fn fn, void *arg)
{
    pthread_mutex_lock(&log_lock);
    log_sink = fn;
    log_sink_arg = arg;
    pthread_mutex_unlock(&log_lock);
}

static void emit(int level, const char *line)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    if (log_sink) {
        log_sink(level, line, log_sink_arg);
        return;
    }
    fprintf(stderr, "swb[%d] %s: %s\n", (int)getpid(), names[level], line);
}

void swb_log(int level, const char *fmt, ...)
{
    if (level > swb_log_get_level())
        return;
    if (level < SWB_LOG_ERROR)
        level = SWB_LOG_ERROR;
    if (level > SWB_LOG_DEBUG)
        level = SWB_LOG_DEBUG;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);

    pthread_mutex_lock(&log_lock);
    if (level <= SWB_LOG_WARN) {
        time_t now = time(NULL);
        if (now != log_window) {
            if (log_suppressed) {
                char note[96];
                snprintf(note, sizeof note, "%d log lines suppressed", log_suppressed);
                emit(SWB_LOG_WARN, note);
            }
            log_window = now;
            log_in_window = 0;
            log_suppressed = 0;
        }
        if (++log_in_window > LOG_BURST) {
            log_suppressed++;
            pthread_mutex_unlock(&log_lock);
            return;
        }
    }
    emit(level, line);
    pthread_mutex_unlock(&log_lock);
}
