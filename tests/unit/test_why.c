/*
 * test_why: a reason is English unless the thread set a translator; a
 * translation is used only when it has its msgid's conversions, spelled
 * alike and in order (a catalogue that swapped a %s for a %d, dropped or
 * added one, or numbered them costs the sentence its translation, never
 * memory safety); the translator is the calling thread's alone; cleared,
 * the reason is English again; a newline never survives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "util/why.h"

#define MSG "author %s is not a member of %s (not yet)"

typedef struct catalogue {
    const char *msgid, *msgstr;
} catalogue_t;

static const char *lookup(void *ctx, const char *msgid)
{
    const catalogue_t *c = ctx;
    for (; c->msgid; c++)
        if (strcmp(c->msgid, msgid) == 0)
            return c->msgstr;
    return msgid;
}

static void test_english_without_translator(void **state)
{
    (void)state;
    char why[128];
    errno = EACCES;
    assert_int_equal(why_fail(why, sizeof why, -214, MSG, "ab12", "nordic-wbl"), -214);
    assert_string_equal(why, "author ab12 is not a member of nordic-wbl (not yet)");
    assert_int_equal(errno, EACCES); /* left for the caller's report of the cause */
    assert_int_equal(why_fail(why, sizeof why, -1, "line %s", "one\ntwo\rthree"), -1);
    assert_string_equal(why, "line one two three");
    assert_int_equal(why_fail(NULL, 0, -2, "nothing %d", 1), -2);
}

static void test_translation_used_when_it_fits(void **state)
{
    (void)state;
    static const catalogue_t sv[] = {
        {MSG, "upphovsnoden %s är inte medlem i %s (inte ännu)"},
        {"only %d%% of %zu", "bara %d %% av %zu"},
        {NULL, NULL}};
    char why[128];
    why_translate_set(lookup, (void *)sv);
    why_fail(why, sizeof why, -214, MSG, "ab12", "nordic-wbl");
    assert_string_equal(why, "upphovsnoden ab12 är inte medlem i nordic-wbl (inte ännu)");
    why_fail(why, sizeof why, -1, "only %d%% of %zu", 40, (size_t)7);
    assert_string_equal(why, "bara 40 % av 7");
    why_fail(why, sizeof why, -1, "not in the catalogue: %s", "x");
    assert_string_equal(why, "not in the catalogue: x");
    why_translate_set(NULL, NULL);
    why_fail(why, sizeof why, -214, MSG, "ab12", "nordic-wbl");
    assert_string_equal(why, "author ab12 is not a member of nordic-wbl (not yet)");
}

/* Each of these would read the arguments wrongly: English instead. */
static void test_translation_refused_when_it_does_not_fit(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "upphovsnoden %d är inte medlem i %s",   /* another conversion */
        "upphovsnoden %s är inte medlem",        /* one fewer */
        "upphovsnoden %s i %s, %s",              /* one more */
        "i %2$s är %1$s inte medlem",            /* numbered */
        "upphovsnoden %.8s är inte medlem i %s", /* spelled otherwise */
        "upphovsnoden %s är inte medlem i %",    /* cut off */
    };
    char why[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        catalogue_t c[] = {{MSG, bad[i]}, {NULL, NULL}};
        why_translate_set(lookup, c);
        why_fail(why, sizeof why, -214, MSG, "ab12", "nordic-wbl");
        why_translate_set(NULL, NULL);
        if (strcmp(why, "author ab12 is not a member of nordic-wbl (not yet)") != 0)
            fail_msg("translation %zu \"%s\" was used: \"%s\"", i, bad[i], why);
    }
}

static void test_same_conversions(void **state)
{
    (void)state;
    assert_true(why_same_conversions("no conversion", "ingen"));
    assert_true(why_same_conversions("%.16s… is %zu", "%.16s… är %zu"));
    assert_true(why_same_conversions("100%% of %s", "%s helt"));
    assert_true(why_same_conversions("%.*s x", "y %.*s"));
    assert_false(why_same_conversions("%s and %s", "%s"));
    assert_false(why_same_conversions("%s", "%s and %s"));
    assert_false(why_same_conversions("%llu", "%lu"));
    assert_false(why_same_conversions("%s %d", "%d %s"));
    assert_false(why_same_conversions("%1$s", "%1$s"));
    assert_false(why_same_conversions("%s", "%"));
}

static void *reason_elsewhere(void *out)
{
    why_fail(out, 128, -214, MSG, "ab12", "nordic-wbl");
    return NULL;
}

/* Another thread (the daemon's verifying workers, the web page's) keeps
 * its own language: English here. */
static void test_translator_is_per_thread(void **state)
{
    (void)state;
    static const catalogue_t sv[] = {{MSG, "upphovsnoden %s är inte medlem i %s"}, {NULL, NULL}};
    char why[128] = "";
    pthread_t t;
    why_translate_set(lookup, (void *)sv);
    assert_int_equal(pthread_create(&t, NULL, reason_elsewhere, why), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    why_translate_set(NULL, NULL);
    assert_string_equal(why, "author ab12 is not a member of nordic-wbl (not yet)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_english_without_translator),
        cmocka_unit_test(test_translation_used_when_it_fits),
        cmocka_unit_test(test_translation_refused_when_it_does_not_fit),
        cmocka_unit_test(test_same_conversions),
        cmocka_unit_test(test_translator_is_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
