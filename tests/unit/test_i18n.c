/*
 * test_i18n: the web page's catalogues (node/web/i18n). The .mo files
 * msgfmt built from po/ load and answer in each language, plurals pick
 * their form, a missing file leaves a language English, and malformed
 * catalogues (cut short, offsets outside the file, strings without their
 * NUL, unsorted msgids, another plural rule) are refused with a reason,
 * never read past their end; a translation whose printf conversions are
 * not its msgid's is not used. Dates and numbers as each language writes
 * them.
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
#include <time.h>
#include <unistd.h>

#include "harness/testutil.h"
#include "web/i18n.h"

static i18n_t *open_built(void)
{
    char why[256] = "", missing[64] = "x";
    i18n_t *t = NULL;
    if (i18n_open(&t, LERNET_BUILD_DIR "/locale", missing, sizeof missing, why, sizeof why))
        fail_msg("i18n_open: %s", why);
    assert_string_equal(missing, "");
    return t;
}

static void test_lookups(void **state)
{
    (void)state;
    i18n_t *t = open_built();
    assert_string_equal(i18n_get(t, "sv", "Calendar"), "Kalender");
    assert_string_equal(i18n_get(t, "fi", "Calendar"), "Kalenteri");
    assert_string_equal(i18n_get(t, "de", "Sign and publish"), "Signieren und veröffentlichen");
    assert_string_equal(i18n_get(t, "da", "Skip to content"), "Spring til indholdet");
    /* English is the msgid; unknown texts and languages fall back to it */
    assert_string_equal(i18n_get(t, "en", "Calendar"), "Calendar");
    assert_string_equal(i18n_get(t, "sv", "no such text anywhere"), "no such text anywhere");
    assert_string_equal(i18n_get(t, "xx", "Calendar"), "Calendar");
    assert_string_equal(i18n_get(NULL, "sv", "Calendar"), "Calendar");
    /* plurals */
    assert_string_equal(i18n_nget(t, "de", "%s event", "%s events", 1), "%s Veranstaltung");
    assert_string_equal(i18n_nget(t, "de", "%s event", "%s events", 2), "%s Veranstaltungen");
    assert_string_equal(i18n_nget(t, "fi", "%s event", "%s events", 0), "%s tapahtumaa");
    assert_string_equal(i18n_nget(t, "en", "%s event", "%s events", 1), "%s event");
    assert_string_equal(i18n_nget(t, "en", "%s event", "%s events", 5), "%s events");
    i18n_close(&t);
    assert_null(t);
    i18n_close(&t); /* harmless twice */
}

static void test_lang_of(void **state)
{
    (void)state;
    assert_string_equal(i18n_lang_of("de-AT", 5), "de");
    assert_string_equal(i18n_lang_of("SV", 2), "sv");
    assert_string_equal(i18n_lang_of("fi_FI", 5), "fi");
    assert_null(i18n_lang_of("nb", 2));
    assert_null(i18n_lang_of("d", 1));
    assert_null(i18n_lang_of("deu", 3));
    assert_string_equal(i18n_lang_at(0)->code, "en");
    assert_null(i18n_lang_at(5));
}

static void test_missing_dir(void **state)
{
    (void)state;
    char why[256] = "", missing[64] = "";
    i18n_t *t = NULL;
    assert_int_equal(i18n_open(&t, "/nonexistent-lernet-locale", missing, sizeof missing, why,
                               sizeof why),
                     0);
    assert_string_equal(missing, "sv,da,de,fi");
    assert_string_equal(i18n_get(t, "sv", "Calendar"), "Calendar");
    i18n_close(&t);
}

/* A .mo built here: n msgids and translations in the order given. */
static size_t build_mo(uint8_t *buf, size_t cap, const char *const *ids, const char *const *strs,
                       uint32_t n)
{
    uint32_t hdr[7] = {0x950412de, 0, n, 28, 28 + 8 * n, 0, 0};
    size_t off = 28 + 16 * (size_t)n;
    memset(buf, 0, cap);
    memcpy(buf, hdr, sizeof hdr);
    for (uint32_t pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < n; i++) {
            const char *s = pass ? strs[i] : ids[i];
            uint32_t ent[2] = {(uint32_t)strlen(s), (uint32_t)off};
            memcpy(buf + hdr[3 + pass] + 8 * i, ent, sizeof ent);
            memcpy(buf + off, s, strlen(s) + 1);
            off += strlen(s) + 1;
        }
    assert_true(off <= cap);
    return off;
}

static void bad(const uint8_t *buf, size_t len, const char *want)
{
    char why[256] = "";
    size_t n = 99;
    assert_int_equal(i18n_check_mo(buf, len, &n, why, sizeof why), -1);
    assert_int_equal(n, 99); /* untouched on failure */
    if (!strstr(why, want))
        fail_msg("want '%s' in '%s'", want, why);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const ids[] = {"", "Calendar", "Library"};
    static const char *const strs[] = {"Plural-Forms: nplurals=2; plural=(n != 1);\n", "Kalender",
                                       "Bibliotek"};
    uint8_t buf[512], copy[512];
    char why[256] = "";
    size_t n = 0, len = build_mo(buf, sizeof buf, ids, strs, 3);
    assert_int_equal(i18n_check_mo(buf, len, &n, why, sizeof why), 0);
    assert_int_equal(n, 3);
    bad(buf, 20, "too short");
    memcpy(copy, buf, len);
    copy[0] = 'x';
    bad(copy, len, "not a GNU .mo file");
    /* a table past the end of the file */
    memcpy(copy, buf, len);
    uint32_t far = 4000;
    memcpy(copy + 16, &far, 4);
    bad(copy, len, "translation table lies outside");
    /* a string whose length runs past the file, and one without its NUL */
    memcpy(copy, buf, len);
    uint32_t huge = 100000;
    memcpy(copy + 28 + 8, &huge, 4);
    bad(copy, len, "msgid string 1");
    bad(buf, len - 1, "translation string 2");
    /* unsorted msgids: a binary search would miss them */
    static const char *const unsorted[] = {"", "Library", "Calendar"};
    len = build_mo(copy, sizeof copy, unsorted, strs, 3);
    bad(copy, len, "not sorted");
    /* another plural rule than the lookups assume */
    static const char *const pl[] = {"Plural-Forms: nplurals=3; plural=(n==1 ? 0 : 1);\n", "K",
                                     "B"};
    len = build_mo(copy, sizeof copy, ids, pl, 3);
    bad(copy, len, "Plural-Forms");
    /* too many messages */
    memcpy(copy, buf, 28);
    uint32_t many = I18N_MAX_MSGS + 1;
    memcpy(copy + 8, &many, 4);
    bad(copy, len, "more than");
}

/* A catalogue msgfmt --check would refuse (built here, so nothing checked
 * it): each translation whose printf conversions differ from its msgid's
 * is not used, the English is; one that matches is. Plural forms are each
 * checked against their own English form. */
static void test_hostile_formats(void **state)
{
    (void)state;
    /* a plural entry holds both forms, NUL-separated */
    static const tu_msg_t msgs[] = {
        TU_MSG("", "Plural-Forms: nplurals=2; plural=(n != 1);\n"),
        TU_MSG("%d extra", "%d extra %s"),                            /* an extra conversion */
        TU_MSG("%s event\0%s events", "%s händelse\0%n händelser"), /* the plural form's %n */
        TU_MSG("%s item\0%s items", "%s post\0%s poster"),           /* both fine */
        TU_MSG("Calendar", "Kalender %n"), /* a %n where the English has none */
        TU_MSG("Gave %u", "Gav %s"),       /* %s for %u */
        TU_MSG("Question %u", "Fråga %1$u"), /* positional */
        TU_MSG("by %s on %s", "av %s den %s"), /* fine */
        /* the quotes dropped, the same conversions */
        TU_MSG("field '%s' is required", "obligatoriskt: %s")};
    char dir[] = "/tmp/lernet-test-i18n-XXXXXX", path[128], why[256] = "", missing[64];
    assert_non_null(mkdtemp(dir)); /* mkdtemp's template: the X's become the name */
    tu_write_mo(dir, "sv", msgs, sizeof msgs / sizeof msgs[0]);
    snprintf(path, sizeof path, "%s/sv/LC_MESSAGES/lernet.mo", dir);
    i18n_t *t = NULL;
    if (i18n_open(&t, dir, missing, sizeof missing, why, sizeof why) != 0)
        fail_msg("i18n_open: %s", why);
    assert_string_equal(i18n_get(t, "sv", "%d extra"), "%d extra");
    assert_string_equal(i18n_get(t, "sv", "Calendar"), "Calendar");
    assert_string_equal(i18n_get(t, "sv", "Gave %u"), "Gave %u");
    assert_string_equal(i18n_get(t, "sv", "Question %u"), "Question %u");
    assert_string_equal(i18n_get(t, "sv", "by %s on %s"), "av %s den %s");
    assert_string_equal(i18n_get(t, "sv", "field '%s' is required"), "obligatoriskt: %s");
    assert_string_equal(i18n_nget(t, "sv", "%s event", "%s events", 1), "%s händelse");
    assert_string_equal(i18n_nget(t, "sv", "%s event", "%s events", 3), "%s events");
    assert_string_equal(i18n_nget(t, "sv", "%s item", "%s items", 1), "%s post");
    assert_string_equal(i18n_nget(t, "sv", "%s item", "%s items", 3), "%s poster");
    i18n_close(&t);
    unlink(path);
    snprintf(path, sizeof path, "%s/sv/LC_MESSAGES", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/sv", dir);
    rmdir(path);
    rmdir(dir);
}

static void test_dates_numbers(void **state)
{
    (void)state;
    /* Thursday 10 December 2026, 09:05 */
    struct tm tm = {.tm_year = 126, .tm_mon = 11, .tm_mday = 10, .tm_wday = 4, .tm_hour = 9,
                    .tm_min = 5};
    char s[64];
    static const char *const want[][3] = {
        {"en", "Thu 10 Dec 2026", "09:05"},   {"sv", "tors 10 dec. 2026", "09:05"},
        {"da", "tors. 10. dec. 2026", "09.05"}, {"de", "Do., 10. Dez. 2026", "09:05"},
        {"fi", "to 10.12.2026", "9.05"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        i18n_date(want[i][0], &tm, s, sizeof s);
        assert_string_equal(s, want[i][1]);
        i18n_clock(want[i][0], &tm, s, sizeof s);
        assert_string_equal(s, want[i][2]);
    }
    i18n_int("en", 1234567, s, sizeof s);
    assert_string_equal(s, "1,234,567");
    i18n_int("de", 12345, s, sizeof s);
    assert_string_equal(s, "12.345");
    i18n_int("sv", 12345, s, sizeof s);
    assert_string_equal(s, "12\u00a0345");
    i18n_int("fi", 2843, s, sizeof s);
    assert_string_equal(s, "2\u00a0843");
    i18n_int("en", 2843, s, sizeof s);
    assert_string_equal(s, "2,843");
    i18n_int("en", 999, s, sizeof s);
    assert_string_equal(s, "999");
    i18n_int("da", -98765, s, sizeof s);
    assert_string_equal(s, "-98.765");
    i18n_decimal("de", 1.25, 1, s, sizeof s);
    assert_string_equal(s, "1,2");
    i18n_decimal("en", 1.5, 1, s, sizeof s);
    assert_string_equal(s, "1.5");
    i18n_int("sv", 5, s, 2); /* bounded */
    assert_string_equal(s, "5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),      cmocka_unit_test(test_lang_of),
        cmocka_unit_test(test_missing_dir),  cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_dates_numbers), cmocka_unit_test(test_hostile_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
