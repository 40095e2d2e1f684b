/*
 * Latency percentiles of a service (service.c): STATS's p50_us and p99_us are estimates within
 * 1/8 of the true value, checked against the exact percentiles of known samples across six
 * orders of magnitude, and exact below 8 us.
 */
#include "swb_test.h"

#include <stdlib.h>
#include <string.h>

#include "service.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The exact p-th percentile the estimate stands for: the sample of rank floor(p * n). */
static uint64_t exact(uint64_t *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_u64);
    size_t k = (size_t)(p * (double)n);
    return v[k < n ? k : n - 1];
}

static void assert_within_an_eighth(uint64_t est, uint64_t truth)
{
    double err = est > truth ? (double)(est - truth) : (double)(truth - est);
    if (err > (double)truth / 8.0 + 1.0)
        fail_msg("estimate %llu for %llu is off by more than 1/8", (unsigned long long)est,
                 (unsigned long long)truth);
}

static void test_percentiles_are_within_an_eighth_across_magnitudes(void **state)
{
    (void)state;
    enum { N = 5000 };
    static uint64_t v[N];
    static const uint64_t scales[] = {10, 100, 1000, 10000, 100000, 1000000, 10000000};
    srand(7);
    for (size_t k = 0; k < sizeof scales / sizeof *scales; k++) {
        service_t *s = calloc(1, sizeof *s);
        assert_non_null(s);
        for (size_t i = 0; i < N; i++) {
            /* A skewed spread: most near the scale, a tail up to 20 times it. */
            uint64_t x = scales[k] + (uint64_t)rand() % scales[k];
            if (i % 50 == 0)
                x *= 1 + (uint64_t)rand() % 20;
            v[i] = x;
            svc_latency_add(s, (int64_t)x);
        }
        uint64_t p50 = svc_latency_pct(s, 0.50), p99 = svc_latency_pct(s, 0.99);
        assert_within_an_eighth(p50, exact(v, N, 0.50));
        assert_within_an_eighth(p99, exact(v, N, 0.99));
        free(s);
    }
}

static void test_small_latencies_are_exact(void **state)
{
    (void)state;
    service_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(svc_latency_pct(s, 0.5), 0); /* none yet */
    for (int i = 0; i < 10; i++)
        svc_latency_add(s, 3);
    assert_int_equal(svc_latency_pct(s, 0.5), 3);
    assert_int_equal(svc_latency_pct(s, 0.99), 3);
    svc_latency_add(s, -5); /* a clock step: counted as 0, never out of the table */
    svc_latency_add(s, (int64_t)1 << 50);
    assert_true(svc_latency_pct(s, 0.0) == 0);
    assert_true(svc_latency_pct(s, 1.0) >= (uint64_t)1 << 36);
    free(s);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_are_within_an_eighth_across_magnitudes),
        cmocka_unit_test(test_small_latencies_are_exact),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
