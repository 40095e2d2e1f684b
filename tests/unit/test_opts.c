/*
 * Option structs that grow: swbi_opts_take reads only the bytes the caller's size says it has,
 * takes a zero size as the first layout, accepts a newer caller's struct while the fields it
 * does not know are zero, and refuses one that sets them. Callers' structs are heap blocks of
 * exactly their size, so AddressSanitizer catches any read past them.
 */
#include <stdlib.h>
#include <string.h>

#include "swb_test.h"
#include "swbi.h"

/* Three releases of one options struct: v2 and v3 add fields at the end. */
typedef struct {
    uint32_t size;
    uint32_t a;
    const char *b;
} opts_v1_t;
typedef struct {
    uint32_t size;
    uint32_t a;
    const char *b;
    uint64_t c;
} opts_v2_t;
typedef struct {
    uint32_t size;
    uint32_t a;
    const char *b;
    uint64_t c;
    uint64_t d;
} opts_v3_t;

#define V1_SIZE SWBI_OPTS_END(opts_v2_t, b)

static void *exact_copy(const void *src, size_t n)
{
    void *p = malloc(n);
    assert_non_null(p);
    memcpy(p, src, n);
    return p;
}

static void test_an_older_callers_struct_is_read_to_its_size_only(void **state)
{
    opts_v1_t v1 = {.size = sizeof v1, .a = 7, .b = "x"};
    opts_v1_t *given = exact_copy(&v1, sizeof v1);
    opts_v2_t got;
    memset(&got, 0xee, sizeof got);
    assert_int_equal(swbi_opts_take(&got, sizeof got, given, V1_SIZE, "t"), SWB_OK);
    assert_int_equal(got.a, 7);
    assert_string_equal(got.b, "x");
    assert_int_equal(got.c, 0); /* the field it did not know of reads as the default */
    assert_int_equal(got.size, sizeof got);
    free(given);
}

static void test_a_zero_size_is_the_first_layout(void **state)
{
    opts_v1_t v1 = {.a = 3}; /* zeroed without SWB_OPTS */
    opts_v1_t *given = exact_copy(&v1, sizeof v1);
    opts_v2_t got;
    assert_int_equal(swbi_opts_take(&got, sizeof got, given, V1_SIZE, "t"), SWB_OK);
    assert_int_equal(got.a, 3);
    assert_int_equal(got.c, 0);
    free(given);
}

static void test_a_newer_callers_struct_is_taken_while_its_new_fields_are_zero(void **state)
{
    opts_v3_t v3 = {.size = sizeof v3, .a = 9, .c = 5};
    opts_v3_t *given = exact_copy(&v3, sizeof v3);
    opts_v2_t got;
    assert_int_equal(swbi_opts_take(&got, sizeof got, given, V1_SIZE, "t"), SWB_OK);
    assert_int_equal(got.a, 9);
    assert_int_equal(got.c, 5);
    free(given);
}

static void test_a_newer_callers_struct_that_sets_a_new_field_is_refused(void **state)
{
    opts_v3_t v3 = {.size = sizeof v3, .a = 9, .d = 1};
    opts_v3_t *given = exact_copy(&v3, sizeof v3);
    opts_v2_t got;
    assert_int_equal(swbi_opts_take(&got, sizeof got, given, V1_SIZE, "t"), SWB_E_INVALID);
    free(given);
}

static void test_a_size_below_the_first_layout_is_refused(void **state)
{
    opts_v2_t v = {.size = 4};
    opts_v2_t got;
    assert_int_equal(swbi_opts_take(&got, sizeof got, &v, V1_SIZE, "t"), SWB_E_INVALID);
}

static void test_no_struct_means_every_default(void **state)
{
    opts_v2_t got;
    memset(&got, 0xee, sizeof got);
    assert_int_equal(swbi_opts_take(&got, sizeof got, NULL, V1_SIZE, "t"), SWB_OK);
    assert_int_equal(got.a, 0);
    assert_null(got.b);
    assert_int_equal(got.c, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_older_callers_struct_is_read_to_its_size_only),
        cmocka_unit_test(test_a_zero_size_is_the_first_layout),
        cmocka_unit_test(test_a_newer_callers_struct_is_taken_while_its_new_fields_are_zero),
        cmocka_unit_test(test_a_newer_callers_struct_that_sets_a_new_field_is_refused),
        cmocka_unit_test(test_a_size_below_the_first_layout_is_refused),
        cmocka_unit_test(test_no_struct_means_every_default),
    };
    swb_log_set_level(-1); /* the refusals log an error line each */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
