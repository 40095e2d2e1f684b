/*
 * opts.c - public option structs that can grow: the library copies the caller's struct into
 * one of its own size, so a program built against an older (smaller) or newer header works.
 *
 * Layer: common; uses: nothing of ZeroMQ; called by: every constructor that takes a
 * swb_*_opts_t.
 */
#include <string.h>

#include "swb_plugin.h"
#include "swbi.h"

/* A new field that fits in trailing padding would leave sizeof unchanged, and the size field
 * could not tell the layouts apart: every public options struct ends without padding. */
#define NO_TAIL_PADDING(type, last)                                                                \
    _Static_assert(sizeof(type) == SWBI_OPTS_END(type, last), #type " ends in padding")
NO_TAIL_PADDING(swb_broker_opts_t, reserved1);
NO_TAIL_PADDING(swb_peer_opts_t, reserved0);
NO_TAIL_PADDING(swb_task_opts_t, arg);
NO_TAIL_PADDING(swb_pool_opts_t, config_len);
NO_TAIL_PADDING(swb_spawn_opts_t, config_len);
NO_TAIL_PADDING(swb_host_opts_t, config_len);
NO_TAIL_PADDING(swb_plugin_t, fini);

int swbi_opts_take(void *dst, size_t dst_size, const void *src, size_t v1_size, const char *what)
{
    memset(dst, 0, dst_size);
    if (!src)
        return SWB_OK;
    uint32_t size;
    memcpy(&size, src, sizeof size); /* the first field of every options struct */
    if (size == 0)
        size = (uint32_t)v1_size; /* zero-initialised without SWB_OPTS: the first layout */
    if (size < v1_size) {
        swb_log(SWB_LOG_ERROR, "%s: size %u is smaller than any layout (%zu bytes)", what, size,
                v1_size);
        return SWB_E_INVALID;
    }
    if (size > dst_size) {
        /* Built against a newer header: fine while it set none of the fields this build does
         * not know. */
        const unsigned char *extra = (const unsigned char *)src + dst_size;
        for (size_t i = 0; i < size - dst_size; i++) {
            if (extra[i]) {
                swb_log(SWB_LOG_ERROR,
                        "%s: sets fields this library (%s) does not know; it was built "
                        "against a newer switchboard.h",
                        what, SWB_VERSION_STRING);
                return SWB_E_INVALID;
            }
        }
        size = (uint32_t)dst_size;
    }
    memcpy(dst, src, size);
    ((uint32_t *)dst)[0] = (uint32_t)dst_size;
    return SWB_OK;
}
