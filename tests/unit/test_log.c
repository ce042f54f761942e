/*
 * test_log: every log record is one line of printable UTF-8, whatever its
 * arguments hold. Text from the network (a partner's error message, a
 * name) with newlines, "<0>" (an emergency under journald), escape
 * sequences or broken UTF-8 is escaped in the line, never written raw.
 * The escaping rules themselves are test_text's (text_escape).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "harness/testutil.h"

/* What the log functions write to stderr, for one call of each kind. */
static char *captured(const char *prefix_env)
{
    char *dir = tu_tempdir(), path[600];
    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    fflush(stderr);
    int saved = dup(2);
    assert_non_null(freopen(path, "w", stderr));
    if (prefix_env)
        setenv("LERNET_LOG_PREFIX", prefix_env, 1);
    log_init(LOG_LVL_DEBUG, "ab12:cd34\n<0>");
    log_error("partner %s refused: %s", "Köge", "bad\n<0>evil\r\n<1>more");
    log_warn("refused event from %s", "x\n<2>y");
    log_info("%s", "\x1b]0;title\x07");
    log_debug("plain");
    unsetenv("LERNET_LOG_PREFIX");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 8192);
    size_t n = fread(buf, 1, 8191, f);
    buf[n] = '\0';
    fclose(f);
    tu_rmtree(&dir);
    return buf;
}

static size_t lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_records_stay_one_line(void **state)
{
    (void)state;
    char *plain = captured(NULL);
    assert_int_equal(lines(plain), 4);
    assert_non_null(strstr(plain, "partner Köge refused: bad\\n<0>evil\\r\\n<1>more\n"));
    assert_non_null(strstr(plain, "refused event from x\\n<2>y\n"));
    assert_non_null(strstr(plain, "\\x1b]0;title\\x07\n"));
    assert_null(strchr(plain, '\x1b'));
    free(plain);

    char *journal = captured("journal");
    assert_int_equal(lines(journal), 4);
    /* each line starts with its own priority; none with one from the text */
    const char *want[] = {"<3>", "<4>", "<6>", "<7>"};
    const char *line = journal;
    for (size_t i = 0; i < 4; i++) {
        assert_memory_equal(line, want[i], 3);
        line = strchr(line, '\n') + 1;
    }
    assert_non_null(strstr(journal, "<3>ab12:cd34\\n<0>: partner Köge refused: bad\\n<0>evil"));
    free(journal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_stay_one_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
