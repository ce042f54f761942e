/*
 * test_bundle: `lernet export bundle` from one home and `lernet import
 * bundle` into another give the same items and a clean verify; importing
 * again stores nothing twice; a tampered bundle is refused event by event
 * with the reason and nothing invalid is stored; a file that is not a
 * bundle is refused whole. Also `export json` and `export csv`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/bundle.h"
#include "harness/harness.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void test_bundle_round_trip_and_tamper(void **state)
{
    (void)state;
    hnode_t A, B, C;
    char path[700], bad[700], *out = NULL, *la = NULL, *lb = NULL;
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&B, "Tampere Oppimiskeskus", "FI", NET), 0);
    assert_int_equal(h_node_init(&C, "OWL Lernregion", "DE", NET), 0);
    assert_int_equal(h_publish_workshop(&A, "Arbetsplatslärande", NET), 0);
    assert_int_equal(h_publish_workshop(&A, "Validering i Tierp", NET), 0);
    snprintf(path, sizeof path, "%s/a.bundle", A.home);
    assert_int_equal(h_lernet(&A, &out, "export bundle '%s'", path), 0);
    /* the key certificate, the profile and two workshops */
    assert_non_null(strstr(out, "4 signed events"));
    free(out);

    assert_int_equal(h_lernet(&B, &out, "import bundle '%s'", path), 0);
    assert_non_null(strstr(out, "4 stored, 0 already here"));
    free(out);
    assert_int_equal(h_lernet(&A, &la, "list --json"), 0);
    assert_int_equal(h_lernet(&B, &lb, "list --json"), 0);
    assert_true(strstr(lb, "Arbetsplatslärande") && strstr(lb, "Validering i Tierp"));
    assert_int_equal(h_count_items(&B), 2);
    free(la);
    free(lb);
    assert_int_equal(h_lernet(&B, NULL, "verify"), 0);
    assert_int_equal(h_lernet(&B, &out, "import bundle '%s'", path), 0);
    assert_non_null(strstr(out, "0 stored, 4 already here"));
    free(out);

    /* one byte changed near the end: the last event no longer verifies */
    size_t len;
    char *buf = slurp(path, &len);
    buf[len - 50] ^= 0x01;
    snprintf(bad, sizeof bad, "%s/tampered.bundle", A.home);
    FILE *f = fopen(bad, "wb");
    fwrite(buf, 1, len, f);
    fclose(f);
    free(buf);
    assert_int_equal(h_lernet(&C, &out, "import bundle '%s' 2>&1", bad), 0);
    assert_non_null(strstr(out, "refused"));
    assert_non_null(strstr(out, "3 stored"));
    assert_non_null(strstr(out, "1 refused"));
    free(out);
    assert_int_equal(h_count_items(&C), 1);
    assert_int_equal(h_lernet(&C, NULL, "verify"), 0);
    /* the same bundle with every envelope stripped of payload and salt (a
     * courier that lies): each is refused, nothing stored (issue 14 item 2) */
    hnode_t D;
    assert_int_equal(h_node_init(&D, "Køge Handelsskole", "DK", NET), 0);
    buf = slurp(path, &len);
    snprintf(bad, sizeof bad, "%s/stripped.bundle", A.home);
    f = fopen(bad, "wb");
    fputs(BUNDLE_MAGIC, f);
    for (size_t off = strlen(BUNDLE_MAGIC); off + 4 <= len;) {
        const uint8_t *p = (const uint8_t *)buf + off;
        size_t n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        Lernet__Envelope *e = lernet__envelope__unpack(NULL, n, p + 4);
        assert_non_null(e);
        e->payload.len = 0, e->salt.len = 0;
        uint8_t out4[4], env[2048];
        size_t m = lernet__envelope__pack(e, env);
        out4[0] = (uint8_t)(m >> 24), out4[1] = (uint8_t)(m >> 16), out4[2] = (uint8_t)(m >> 8),
        out4[3] = (uint8_t)m;
        fwrite(out4, 1, 4, f);
        fwrite(env, 1, m, f);
        lernet__envelope__free_unpacked(e, NULL);
        off += 4 + n;
    }
    fclose(f);
    free(buf);
    assert_int_equal(h_lernet(&D, &out, "import bundle '%s'", bad), 0);
    assert_non_null(strstr(out, "0 stored"));
    assert_non_null(strstr(out, "4 refused"));
    free(out);
    char cmd[1200]; /* each refusal named on stderr (the harness keeps it in cli.log) */
    snprintf(cmd, sizeof cmd, "grep -c 'refused: payload_missing' '%s/cli.log'", D.home);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_int_equal(atoi(out), 4);
    free(out);
    assert_int_equal(h_count_items(&D), 0);
    assert_int_equal(h_lernet(&D, NULL, "verify"), 0);
    h_node_free(&D);
    /* not a bundle at all */
    snprintf(bad, sizeof bad, "%s/lernet.ini", A.home);
    assert_int_equal(h_lernet(&C, NULL, "import bundle '%s'", bad), 1);

    /* the derived view as JSON and CSV */
    assert_int_equal(h_lernet(&A, &out, "export json"), 0);
    assert_non_null(strstr(out, "\"title\""));
    free(out);
    assert_int_equal(h_lernet(&A, &out, "export csv"), 0);
    assert_non_null(strstr(out, "id,kind,network,author,organiser,title,start,end,tz,place,"));
    assert_non_null(strstr(out, ",workshop,nordic-wbl,"));
    free(out);
    h_node_free(&A);
    h_node_free(&B);
    h_node_free(&C);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bundle_round_trip_and_tamper)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
