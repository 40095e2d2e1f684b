/*
 * Where the worker executable and plugins are looked for first: the build tree's when this
 * code runs from the build tree, the installed ones otherwise, so an installed program never
 * picks up a stale build. The second case runs a copy of this test program from outside the
 * build tree and asks it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "swb_test.h"
#include "swbi.h"

static void test_code_in_the_build_tree_knows_it(void **state)
{
    assert_int_equal(swbi_from_build_tree(), 1);
}

static void test_a_copy_outside_the_build_tree_prefers_what_is_installed(void **state)
{
    char dir[] = "/tmp/swb-paths-XXXXXX", exe[64], out[64];
    assert_non_null(mkdtemp(dir));
    snprintf(exe, sizeof exe, "%s/copy", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    int dst = open(exe, O_WRONLY | O_CREAT | O_CLOEXEC, 0700);
    struct stat st;
    assert_true(src >= 0 && dst >= 0 && fstat(src, &st) == 0);
    assert_int_equal(sendfile(dst, src, NULL, (size_t)st.st_size), st.st_size);
    close(src);
    close(dst);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "%s --report > %s", exe, out);
    int rc = system(cmd);
    char got[32] = "";
    FILE *f = fopen(out, "r");
    if (f) {
        if (!fgets(got, sizeof got, f))
            got[0] = '\0';
        fclose(f);
    }
    unlink(out);
    unlink(exe);
    rmdir(dir);
    assert_int_equal(WEXITSTATUS(rc), 0);
    assert_string_equal(got, "from_build=0\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--report") == 0) {
        printf("from_build=%d\n", swbi_from_build_tree());
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_in_the_build_tree_knows_it),
        cmocka_unit_test(test_a_copy_outside_the_build_tree_prefers_what_is_installed),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
