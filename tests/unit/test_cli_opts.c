/*
 * test_cli_opts.c - the option parser every `swb` command uses (tools/cli_opts.c).
 *
 * A made-up command with one option of each kind is parsed from argv arrays as a user would
 * type them; stdout and stderr are captured so that the usage (-h on stdout, errors on
 * stderr) and the messages can be checked along with the exit codes.
 */
#include "swb_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_opts.h"

typedef struct {
    int verbose;
    const char *name;
    long count;
    cli_list_t tags;
    const char *mode;
} args_t;

static const cli_opt_t options[] = {
    {'v', "verbose", CLI_FLAG_AT(args_t, verbose), .help = "say more"},
    {'n', "name", CLI_STRING_AT(args_t, name), .arg = "NAME",
     .help = "who it is for\nsecond line of help"},
    {'c', "count", CLI_LONG_AT(args_t, count, 1, 10), .arg = "N", .what = "thing count",
     .help = "how many (default 3)"},
    {'t', "tag", CLI_LIST_AT(args_t, tags), .arg = "TAG", .help = "a tag; repeatable"},
    {0, "mode", CLI_STRING_AT(args_t, mode), .arg = "M", .help = "long form only"},
};

static const cli_spec_t spec = {
    .name = "test",
    .synopsis = "swb test [--verbose] [--name NAME] [--count N] [--tag TAG]... [ARG...]",
    .about = "A command made up for the tests.",
    CLI_OPTIONS(options),
};

/* The same options, but they end at the first operand (getopt's '+'). */
static const cli_spec_t in_order_spec = {
    .name = "test",
    .synopsis = "swb test [--verbose] COMMAND [ARG...]",
    CLI_OPTIONS(options),
    .in_order = 1,
};

typedef struct {
    int rc, first;
    args_t a;
    char *argv[16];
    int argc;
    char out[8192], err[8192];
} run_t;

/* Point fd at a fresh temporary file; returns the file, *saved keeps the old fd. */
static FILE *capture_begin(int fd, int *saved)
{
    fflush(stdout);
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    *saved = dup(fd);
    assert_true(*saved >= 0);
    assert_true(dup2(fileno(tmp), fd) >= 0);
    return tmp;
}

/* Put fd back and read what was written to it into buf. */
static void capture_end(int fd, FILE *tmp, int saved, char *buf, size_t cap)
{
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(saved, fd) >= 0);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, cap - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
}

/* Parse `swb test ARGS... NULL` against s into r->a (which starts at the defaults). */
static void run(run_t *r, const cli_spec_t *s, ...)
{
    memset(r, 0, sizeof *r);
    r->a.count = 3;
    r->first = -1;
    static char prog[] = "swb test"; /* what main makes argv[0]: getopt's messages name it */
    r->argv[r->argc++] = prog;
    va_list ap;
    va_start(ap, s);
    for (char *arg; (arg = va_arg(ap, char *)) != NULL;) {
        assert_true(r->argc < 15);
        r->argv[r->argc++] = arg;
    }
    va_end(ap);
    unsetenv("POSIXLY_CORRECT"); /* it would make every spec stop at the first operand */
    int so, se;
    FILE *out = capture_begin(1, &so), *err = capture_begin(2, &se);
    r->rc = cli_opts_parse(s, r->argc, r->argv, &r->a, &r->first);
    capture_end(2, err, se, r->err, sizeof r->err);
    capture_end(1, out, so, r->out, sizeof r->out);
}

#define assert_has(hay, needle) assert_non_null(strstr((hay), (needle)))

/* ---- values --------------------------------------------------------------------------------- */

static void test_no_options_keeps_the_defaults(void **state)
{
    run_t r;
    run(&r, &spec, NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.first, 1);
    assert_int_equal(r.a.verbose, 0);
    assert_null(r.a.name);
    assert_int_equal(r.a.count, 3);
    assert_int_equal(r.a.tags.n, 0);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "");
}

static void test_flag_is_set_by_short_and_long_form(void **state)
{
    run_t r;
    run(&r, &spec, "-v", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.a.verbose, 1);
    run(&r, &spec, "--verbose", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.a.verbose, 1);
}

static void test_flag_with_an_argument_exits_2(void **state)
{
    run_t r;
    run(&r, &spec, "--verbose=yes", NULL);
    assert_int_equal(r.rc, 2);
    assert_has(r.err, "swb test: ");
    assert_has(r.err, "usage: swb test ");
}

static void test_string_takes_the_argument_in_every_spelling(void **state)
{
    run_t r;
    run(&r, &spec, "-n", "ann", NULL);
    assert_string_equal(r.a.name, "ann");
    run(&r, &spec, "-nbob", NULL);
    assert_string_equal(r.a.name, "bob");
    run(&r, &spec, "--name", "cy", NULL);
    assert_string_equal(r.a.name, "cy");
    run(&r, &spec, "--name=dee", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_string_equal(r.a.name, "dee");
}

static void test_string_given_twice_keeps_the_last(void **state)
{
    run_t r;
    run(&r, &spec, "-n", "first", "--name", "last", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_string_equal(r.a.name, "last");
}

static void test_long_only_option_is_parsed(void **state)
{
    run_t r;
    run(&r, &spec, "--mode", "fast", "-v", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_string_equal(r.a.mode, "fast");
    assert_int_equal(r.a.verbose, 1);
}

static void test_integer_within_bounds_is_stored(void **state)
{
    run_t r;
    run(&r, &spec, "-c", "1", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.a.count, 1);
    run(&r, &spec, "--count=10", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.a.count, 10);
}

static void test_integer_below_the_minimum_exits_2(void **state)
{
    run_t r;
    run(&r, &spec, "-c", "0", NULL);
    assert_int_equal(r.rc, 2);
    assert_int_equal(r.a.count, 3); /* untouched */
    assert_has(r.err, "swb test: bad thing count '0' (expected 1..10)\n");
    assert_has(r.err, "usage: swb test ");
    assert_string_equal(r.out, "");
}

static void test_integer_above_the_maximum_exits_2(void **state)
{
    run_t r;
    run(&r, &spec, "--count", "11", NULL);
    assert_int_equal(r.rc, 2);
    assert_has(r.err, "swb test: bad thing count '11' (expected 1..10)\n");
}

static void test_integer_that_is_not_a_whole_number_exits_2(void **state)
{
    static char *const bad[] = {"x", "5x", "", "-", "2.5", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_t r;
        run(&r, &spec, "-c", bad[i], NULL);
        assert_int_equal(r.rc, 2);
        assert_has(r.err, "swb test: bad thing count '");
    }
}

static void test_repeatable_option_keeps_every_value_in_order(void **state)
{
    run_t r;
    run(&r, &spec, "-t", "a", "--tag", "b", "--tag=c", "-td", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.a.tags.n, 4);
    assert_string_equal(r.a.tags.items[0], "a");
    assert_string_equal(r.a.tags.items[1], "b");
    assert_string_equal(r.a.tags.items[2], "c");
    assert_string_equal(r.a.tags.items[3], "d");
    cli_opts_free(&spec, &r.a);
    assert_null(r.a.tags.items);
    assert_int_equal(r.a.tags.n, 0);
    cli_opts_free(&spec, &r.a); /* again: harmless */
}

static void test_repeatable_option_is_freed_on_an_error(void **state)
{
    run_t r;
    run(&r, &spec, "-t", "a", "-t", "b", "--nope", NULL);
    assert_int_equal(r.rc, 2);
    assert_null(r.a.tags.items);
    assert_int_equal(r.a.tags.n, 0);
}

/* ---- errors and help ------------------------------------------------------------------------ */

static void test_unknown_long_option_exits_2_with_the_usage(void **state)
{
    run_t r;
    run(&r, &spec, "--nope", NULL);
    assert_int_equal(r.rc, 2);
    assert_has(r.err, "swb test: unrecognized option '--nope'");
    assert_has(r.err, "usage: swb test [--verbose]");
    assert_string_equal(r.out, "");
}

static void test_unknown_short_option_exits_2(void **state)
{
    run_t r;
    run(&r, &spec, "-v", "-q", NULL);
    assert_int_equal(r.rc, 2);
    assert_has(r.err, "swb test: invalid option -- 'q'");
    assert_has(r.err, "usage: swb test ");
}

static void test_missing_argument_exits_2(void **state)
{
    run_t r;
    run(&r, &spec, "-n", NULL);
    assert_int_equal(r.rc, 2);
    assert_has(r.err, "swb test: option requires an argument -- 'n'");
    assert_has(r.err, "usage: swb test ");
    run(&r, &spec, "--count", NULL);
    assert_int_equal(r.rc, 2);
    assert_has(r.err, "swb test: option '--count' requires an argument");
}

static void test_help_prints_the_usage_on_stdout_and_exits_0(void **state)
{
    run_t r;
    run(&r, &spec, "-h", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_has(r.out, "usage: swb test [--verbose] [--name NAME] [--count N] [--tag TAG]... "
                      "[ARG...]\n\nA command made up for the tests.\n\n");
    assert_has(r.out, "\n  -v, --verbose  ");
    assert_has(r.out, "\n  -c, --count N  ");
    assert_has(r.out, "\n  -t, --tag TAG    a tag; repeatable\n");
    assert_has(r.out, "\n      --mode M     long form only\n");
    assert_has(r.out, "\n  -h, --help       this text\n");
    run_t l;
    run(&l, &spec, "--help", NULL);
    assert_int_equal(l.rc, 0);
    assert_string_equal(l.out, r.out);
}

static void test_help_indents_every_line_of_an_options_help(void **state)
{
    run_t r;
    run(&r, &spec, "--help", NULL);
    assert_has(r.out, "\n  -n, --name NAME  who it is for\n"
                      "                   second line of help\n");
}

static void test_help_wins_over_other_options_before_it(void **state)
{
    run_t r;
    run(&r, &spec, "-t", "a", "-v", "-h", "-c", "0", NULL);
    assert_int_equal(r.rc, 0);
    assert_has(r.out, "usage: swb test ");
    assert_null(r.a.tags.items); /* freed: the command returns at once */
}

static void test_usage_error_prints_the_message_then_the_usage(void **state)
{
    int se;
    FILE *err = capture_begin(2, &se);
    int rc = cli_usage_error(&spec, "expected %d things", 2);
    char buf[4096];
    capture_end(2, err, se, buf, sizeof buf);
    assert_int_equal(rc, 2);
    static const char want[] = "swb test: expected 2 things\nusage: swb test ";
    assert_true(strncmp(buf, want, strlen(want)) == 0);
}

/* ---- operands ------------------------------------------------------------------------------- */

static void test_operands_start_after_the_options(void **state)
{
    run_t r;
    run(&r, &spec, "-v", "-n", "x", "one", "two", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.first, 4);
    assert_int_equal(r.argc - r.first, 2);
    assert_string_equal(r.argv[r.first], "one");
    assert_string_equal(r.argv[r.first + 1], "two");
}

static void test_options_may_follow_operands_by_default(void **state)
{
    run_t r;
    run(&r, &spec, "one", "-v", "two", "--count", "4", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.a.verbose, 1);
    assert_int_equal(r.a.count, 4);
    assert_int_equal(r.argc - r.first, 2);
    assert_string_equal(r.argv[r.first], "one");
    assert_string_equal(r.argv[r.first + 1], "two");
}

static void test_double_dash_ends_the_options(void **state)
{
    run_t r;
    run(&r, &spec, "-v", "--", "-5", "-n", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_null(r.a.name);
    assert_int_equal(r.argc - r.first, 2);
    assert_string_equal(r.argv[r.first], "-5");
    assert_string_equal(r.argv[r.first + 1], "-n");
}

static void test_in_order_stops_at_the_first_operand(void **state)
{
    run_t r;
    run(&r, &in_order_spec, "-v", "sub", "-n", "x", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.a.verbose, 1);
    assert_null(r.a.name); /* "-n x" belongs to the operands */
    assert_int_equal(r.first, 2);
    assert_string_equal(r.argv[2], "sub");
    assert_string_equal(r.argv[3], "-n");
    assert_string_equal(r.argv[4], "x");
}

static void test_in_order_unknown_option_after_an_operand_is_an_operand(void **state)
{
    run_t r;
    run(&r, &in_order_spec, "sub", "--nope", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_string_equal(r.err, "");
    assert_int_equal(r.first, 1);
    assert_string_equal(r.argv[2], "--nope");
}

static void test_a_second_parse_starts_afresh(void **state)
{
    /* The first stops inside "-hv"; the second must not pick up where it left off. */
    run_t r;
    run(&r, &spec, "-hv", NULL);
    assert_int_equal(r.rc, 0);
    run(&r, &spec, "-c", "2", "op", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.a.verbose, 0);
    assert_int_equal(r.a.count, 2);
    assert_int_equal(r.first, 3);
}

static void test_command_without_options_still_takes_help(void **state)
{
    static const cli_spec_t bare = {.name = "bare", .synopsis = "swb bare [NAME...]"};
    run_t r;
    run(&r, &bare, "x", "-h", NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "usage: swb bare [NAME...]\n\n  -h, --help  this text\n");
    run(&r, &bare, "x", "y", NULL);
    assert_int_equal(r.rc, CLI_GO_ON);
    assert_int_equal(r.first, 1);
    run(&r, &bare, "-v", NULL);
    assert_int_equal(r.rc, 2);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_no_options_keeps_the_defaults),
    cmocka_unit_test(test_flag_is_set_by_short_and_long_form),
    cmocka_unit_test(test_flag_with_an_argument_exits_2),
    cmocka_unit_test(test_string_takes_the_argument_in_every_spelling),
    cmocka_unit_test(test_string_given_twice_keeps_the_last),
    cmocka_unit_test(test_long_only_option_is_parsed),
    cmocka_unit_test(test_integer_within_bounds_is_stored),
    cmocka_unit_test(test_integer_below_the_minimum_exits_2),
    cmocka_unit_test(test_integer_above_the_maximum_exits_2),
    cmocka_unit_test(test_integer_that_is_not_a_whole_number_exits_2),
    cmocka_unit_test(test_repeatable_option_keeps_every_value_in_order),
    cmocka_unit_test(test_repeatable_option_is_freed_on_an_error),
    cmocka_unit_test(test_unknown_long_option_exits_2_with_the_usage),
    cmocka_unit_test(test_unknown_short_option_exits_2),
    cmocka_unit_test(test_missing_argument_exits_2),
    cmocka_unit_test(test_help_prints_the_usage_on_stdout_and_exits_0),
    cmocka_unit_test(test_help_indents_every_line_of_an_options_help),
    cmocka_unit_test(test_help_wins_over_other_options_before_it),
    cmocka_unit_test(test_usage_error_prints_the_message_then_the_usage),
    cmocka_unit_test(test_operands_start_after_the_options),
    cmocka_unit_test(test_options_may_follow_operands_by_default),
    cmocka_unit_test(test_double_dash_ends_the_options),
    cmocka_unit_test(test_in_order_stops_at_the_first_operand),
    cmocka_unit_test(test_in_order_unknown_option_after_an_operand_is_an_operand),
    cmocka_unit_test(test_a_second_parse_starts_afresh),
    cmocka_unit_test(test_command_without_options_still_takes_help),
};

SWB_TEST_MAIN(tests)
