/*
 * broker_mem.c - the memory bound (max_memory_mb): past it, new tasks are refused.
 *
 * The broker's other limits are counts (queued tasks, tasks known, answers held for a slow
 * reader, messages per pipe), and a count of 16 MiB bodies is a lot of memory. So when the
 * heap in use passes the bound, new TASKs get `queue_full` with a text that says why, while
 * every task already known runs to its one answer and frees its body; below 7/8 of the bound
 * they are taken again. Nobody is dropped: a dropped client's tasks would be left without an
 * answer. The heap is what the allocator has handed out and not had back (libzmq's messages
 * included), not RSS, which does not fall when memory is freed. Checked each tick.
 *
 * Layer: broker; uses: dispatch, common; called by: broker.c (each tick), broker_stats.c.
 */
#include <malloc.h>
#include <stdio.h>

#include "broker_int.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifdef SANITIZED
/* The sanitizer runtimes' allocator statistics (sanitizer/allocator_interface.h, which gcc
 * does not install). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

uint64_t broker_heap_bytes(void)
{
#ifdef SANITIZED
    /* The sanitizer's allocator serves every malloc: glibc's arenas are empty. */
    return (uint64_t)__sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
#endif
}

void broker_mem_guard(swb_broker_t *b)
{
    if (!b->mem.max_mb)
        return;
    uint64_t limit = (uint64_t)b->mem.max_mb << 20;
    b->mem.heap = broker_heap_bytes();
    if (!b->mem.over && b->mem.heap > limit) {
        b->mem.over = 1;
        b->mem.pauses++;
        char why[128];
        snprintf(why, sizeof why, "broker memory bound reached (%llu MiB in use, bound %u MiB)",
                 (unsigned long long)(b->mem.heap >> 20), b->mem.max_mb);
        swb_log(SWB_LOG_WARN, "%s: new tasks get queue_full until it is back under %llu KiB", why,
                (unsigned long long)(limit / 8 * 7 >> 10));
        dispatch_refuse_new(b->disp, why);
    } else if (b->mem.over && b->mem.heap < limit / 8 * 7) {
        b->mem.over = 0;
        swb_log(SWB_LOG_INFO, "broker memory back to %llu MiB: taking new tasks again",
                (unsigned long long)(b->mem.heap >> 20));
        dispatch_refuse_new(b->disp, NULL);
    }
}
