/*
 * test_install: `cmake --install` into a temporary prefix puts the binary,
 * the man page, the systemd unit (with its hardening) and the commented
 * default config in place, and the installed binary runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/testutil.h"

static void test_install_layout(void **state)
{
    (void)state;
    char *prefix = tu_tempdir(), cmd[1400], path[800], *out = NULL;
    snprintf(cmd, sizeof cmd, "cmake --install '%s' --prefix '%s' >/dev/null", LERNET_BUILD_DIR,
             prefix);
    assert_int_equal(tu_run(cmd, NULL), 0);
    static const char *files[] = {"bin/lernet", "share/man/man1/lernet.1",
                                  "lib/systemd/system/lernet.service",
                                  "share/doc/lernet/lernet.ini", "share/doc/lernet/operators.md"};
    struct stat sb;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", prefix, files[i]);
        if (stat(path, &sb) != 0 || sb.st_size == 0)
            fail_msg("not installed: %s", files[i]);
    }
    snprintf(cmd, sizeof cmd, "'%s/bin/lernet' --version", prefix);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_non_null(strstr(out, "sync protocol"));
    free(out);
    /* the unit keeps the daemon to its state directory and drops privileges */
    static const char *hardening[] = {"StateDirectory=lernet", "NoNewPrivileges=yes",
                                      "ProtectSystem=strict", "PrivateTmp=yes", "ProtectHome=yes",
                                      "CapabilityBoundingSet=", "ExecStart=", "User=lernet"};
    snprintf(cmd, sizeof cmd, "cat '%s/lib/systemd/system/lernet.service'", prefix);
    assert_int_equal(tu_run(cmd, &out), 0);
    for (size_t i = 0; i < sizeof hardening / sizeof hardening[0]; i++)
        if (!strstr(out, hardening[i]))
            fail_msg("lernet.service lacks %s", hardening[i]);
    free(out);
    tu_rmtree(&prefix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_install_layout)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
