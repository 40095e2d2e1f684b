/*
 * swb_test.h - the few lines every cmocka test executable shares.
 *
 * CTest runs each case as its own test by passing the case name as argv[1]; with no argument
 * the executable runs all its cases.
 */
#ifndef SWB_TEST_H
#define SWB_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define SWB_TEST_MAIN(tests)                                                                       \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        if (argc > 1)                                                                              \
            cmocka_set_test_filter(argv[1]);                                                       \
        return cmocka_run_group_tests(tests, NULL, NULL);                                          \
    }

#endif
