/*
 * test_time: instants and civil time (node/util/time). Local times across
 * DST in the partners' zones (a gap is refused, a repeated hour means the
 * earlier instant), UTC and offsets, malformed TIMEs refused with a
 * one-line message that does not echo a huge input, formatting that
 * civil_parse reads back, days, strftime in a zone, which zone names the
 * system may be asked for, and the zone table iCal writes VTIMEZONEs from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/time.h"

/* Instants used below, each checked against `date -u -d ... +%s`. */
#define T_DEC3_0800Z 1796284800LL /* 2026-12-03T08:00:00Z */
#define T_DEC3_0700Z 1796281200LL /* 2026-12-03T07:00:00Z */
#define T_JUN15_0700Z 1781506800LL /* 2026-06-15T07:00:00Z */
#define T_OCT25_0030Z 1792888200LL /* 2026-10-25T00:30:00Z */

/* ---- civil_parse ------------------------------------------------------ */

static int64_t parse_ok(const char *s, const char *tz)
{
    char why[256] = "";
    int64_t t = 0;
    int rc = civil_parse(s, tz, &t, why, sizeof why);
    if (rc != CIVIL_OK)
        fail_msg("civil_parse(%s, %s): %s", s, tz ? tz : "NULL", why);
    return t;
}

static void parse_bad(const char *s, const char *tz, const char *want_why)
{
    char why[256] = "";
    int64_t t = 0;
    assert_int_equal(civil_parse(s, tz, &t, why, sizeof why), CIVIL_ERR_INVALID);
    assert_null(strchr(why, '\n'));
    if (!strstr(why, want_why))
        fail_msg("why '%s' for '%s' lacks '%s'", why, s, want_why);
}

static void test_time_local_zones(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-12-03T09:00", "Europe/Stockholm"), T_DEC3_0800Z);
    assert_int_equal(parse_ok("2026-12-03T09:00:00", "Europe/Stockholm"), T_DEC3_0800Z);
    assert_int_equal(parse_ok("2026-06-15T09:00", "Europe/Stockholm"), T_JUN15_0700Z);
    assert_int_equal(parse_ok("2026-12-03T09:00", "Europe/Helsinki"), T_DEC3_0700Z);
    assert_int_equal(parse_ok("2026-06-15T10:00", "Europe/Helsinki"), T_JUN15_0700Z);
    assert_int_equal(parse_ok("2026-12-03T09:00", "Europe/Berlin"), T_DEC3_0800Z);
    assert_int_equal(parse_ok("2026-12-03T08:00", "UTC"), T_DEC3_0800Z);
    /* the zone in effect before the call is left as it was */
    setenv("TZ", "Asia/Tokyo", 1);
    parse_ok("2026-12-03T09:00", "Europe/Copenhagen");
    assert_string_equal(getenv("TZ"), "Asia/Tokyo");
    unsetenv("TZ");
    parse_ok("2026-12-03T09:00", "Europe/Copenhagen");
    assert_null(getenv("TZ"));
}

static void test_time_utc_and_offset(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("2026-12-03T08:00:00Z", NULL), T_DEC3_0800Z);
    assert_int_equal(parse_ok("2026-12-03T08:00Z", "Europe/Helsinki"), T_DEC3_0800Z);
    assert_int_equal(parse_ok("2026-12-03T09:00+01:00", NULL), T_DEC3_0800Z);
    assert_int_equal(parse_ok("2026-12-03T10:00:00+02:00", NULL), T_DEC3_0800Z);
    assert_int_equal(parse_ok("2026-12-03T02:30-05:30", NULL), T_DEC3_0800Z);
    assert_int_equal(parse_ok("2026-12-03T08:00:00-00:00", NULL), T_DEC3_0800Z);
}

static void test_time_dst_edges(void **state)
{
    (void)state;
    /* spring forward: 02:00-03:00 does not happen in Stockholm */
    parse_bad("2026-03-29T02:30", "Europe/Stockholm",
              "2026-03-29T02:30 does not exist in Europe/Stockholm");
    parse_bad("2026-03-29T03:30", "Europe/Helsinki", "does not exist in Europe/Helsinki");
    /* fall back: 02:30 happens twice; the first (summer time) is taken */
    assert_int_equal(parse_ok("2026-10-25T02:30", "Europe/Stockholm"), T_OCT25_0030Z);
    assert_int_equal(parse_ok("2026-10-25T03:30", "Europe/Stockholm"), T_OCT25_0030Z + 7200);
}

static void test_time_malformed(void **state)
{
    (void)state;
    parse_bad("2026-02-30T09:00Z", NULL, "not a valid date");
    parse_bad("2026-02-29T09:00", "Europe/Stockholm", "not a valid date");
    parse_bad("2026-13-01T09:00Z", NULL, "not a valid date");
    parse_bad("2026-00-10T09:00Z", NULL, "not a valid date");
    parse_bad("2026-04-31T09:00Z", NULL, "not a valid date");
    parse_bad("2026-12-03T24:00Z", NULL, "not a valid date");
    parse_bad("2026-12-03T09:60Z", NULL, "not a valid date");
    parse_bad("2026-12-03T09:00:60Z", NULL, "not a valid date");
    parse_bad("2026-12-03T09:00Zjunk", NULL, "not a time like");
    parse_bad("2026-12-03T09:00:00 ", NULL, "not a time like");
    parse_bad("2026-12-03T09:00+01:00x", NULL, "not a time like");
    parse_bad("2026-12-03T09:00+0100", NULL, "not a time like");
    parse_bad("2026-12-03T09:00+19:00", NULL, "not a time like");
    parse_bad("2026-12-03 09:00Z", NULL, "not a time like");
    parse_bad("2026-12-03T9:00Z", NULL, "not a time like");
    parse_bad("2026-12-03T09:00:00.5Z", NULL, "not a time like");
    parse_bad("2026-12-03", NULL, "not a time like");
    parse_bad("", NULL, "not a time like");
    parse_bad("2026-12-03T09:00\n", NULL, "not a time like"); /* and why stays one line */
    parse_bad("2026-12-03T09:00", NULL, "no time zone");
    parse_bad("2026-12-03T09:00", "Mars/Olympus_Mons", "not a time zone known");
    parse_bad("2026-12-03T09:00", "../../etc/passwd", "not a time zone known");
    parse_bad(NULL, NULL, "no time");
    /* a 100 kB "time" is refused without echoing it all */
    char *big = malloc(100000);
    memset(big, '2', 99999);
    big[99999] = '\0';
    char why[256];
    int64_t t;
    assert_int_equal(civil_parse(big, NULL, &t, why, sizeof why), CIVIL_ERR_INVALID);
    assert_true(strlen(why) < 200);
    free(big);
}

static void test_time_format(void **state)
{
    (void)state;
    char s[64];
    civil_format(T_DEC3_0800Z, "Europe/Stockholm", s, sizeof s);
    assert_string_equal(s, "2026-12-03T09:00:00+01:00");
    civil_format(T_JUN15_0700Z, "Europe/Stockholm", s, sizeof s);
    assert_string_equal(s, "2026-06-15T09:00:00+02:00");
    civil_format(T_DEC3_0800Z, "Europe/Helsinki", s, sizeof s);
    assert_string_equal(s, "2026-12-03T10:00:00+02:00");
    civil_format(T_DEC3_0800Z, "America/St_Johns", s, sizeof s);
    assert_string_equal(s, "2026-12-03T04:30:00-03:30");
    civil_format(T_DEC3_0800Z, NULL, s, sizeof s);
    assert_string_equal(s, "2026-12-03T08:00:00Z");
    civil_format(T_DEC3_0800Z, "Mars/Olympus_Mons", s, sizeof s);
    assert_string_equal(s, "2026-12-03T08:00:00Z");
    civil_format(T_DEC3_0800Z, "", s, sizeof s);
    assert_string_equal(s, "2026-12-03T08:00:00Z");
    /* format and parse agree */
    civil_format(T_OCT25_0030Z, "Europe/Copenhagen", s, sizeof s);
    assert_int_equal(parse_ok(s, NULL), T_OCT25_0030Z);
    /* Stockholm mean time (+01:00:14) cannot be written as +HH:MM */
    civil_format(-2524521600LL, "Europe/Stockholm", s, sizeof s);
    assert_string_equal(s, "1890-01-01T00:00:00Z");
    /* a short buffer is cut, never overrun */
    char tiny[8];
    civil_format(T_DEC3_0800Z, "Europe/Stockholm", tiny, sizeof tiny);
    assert_string_equal(tiny, "2026-12");
}

static void test_tz_known(void **state)
{
    (void)state;
    assert_true(civil_zone_known("Europe/Stockholm"));
    assert_true(civil_zone_known("Europe/Copenhagen"));
    assert_true(civil_zone_known("Europe/Berlin"));
    assert_true(civil_zone_known("Europe/Helsinki"));
    assert_true(civil_zone_known("UTC"));
    assert_false(civil_zone_known(NULL));
    assert_false(civil_zone_known(""));
    assert_false(civil_zone_known("Europe"));          /* a directory */
    assert_false(civil_zone_known("Europe/../UTC"));   /* no climbing */
    assert_false(civil_zone_known("/etc/localtime"));  /* no absolute paths */
    assert_false(civil_zone_known("Europe/Stockholm/")); /* not a directory either */
    assert_false(civil_zone_known("zone.tab"));        /* a file, but not a zone */
    assert_false(civil_zone_known("leapseconds"));     /* the same, with a zone-like name */
    assert_false(civil_zone_known("right/Europe/Stockholm")); /* counts leap seconds */
    assert_false(civil_zone_known("Mars/Olympus_Mons"));
}

/* ---- days, strftime, local ------------------------------------------- */

static void test_day_parse(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(civil_day_parse("2026-12-03", &t, 0), 0);
    assert_int_equal(t, T_DEC3_0800Z - 8 * 3600);
    assert_int_equal(civil_day_parse("2026-12-03", &t, 1), 0); /* a --to day is inclusive */
    assert_int_equal(t, T_DEC3_0800Z + 16 * 3600);
    t = 42;
    assert_int_equal(civil_day_parse("2026-12-03T09:00", &t, 0), -1);
    assert_int_equal(civil_day_parse("03.12.2026", &t, 0), -1);
    assert_int_equal(civil_day_parse("", &t, 0), -1);
    assert_int_equal(t, 42); /* untouched */
}

static void test_strftime(void **state)
{
    (void)state;
    char s[64];
    assert_int_equal(civil_strftime(T_DEC3_0800Z, "Europe/Stockholm", "%a %d %b %Y, %H:%M", s,
                                    sizeof s), 0);
    assert_string_equal(s, "Thu 03 Dec 2026, 09:00");
    assert_int_equal(civil_strftime(T_JUN15_0700Z, "Europe/Helsinki", "%H:%M %Z", s, sizeof s), 0);
    assert_string_equal(s, "10:00 EEST");
    assert_int_equal(civil_strftime(T_DEC3_0800Z, NULL, "%Y%m%dT%H%M%SZ", s, sizeof s), 0);
    assert_string_equal(s, "20261203T080000Z");
    /* an unknown zone: said so, and written in UTC */
    assert_int_equal(civil_strftime(T_DEC3_0800Z, "Mars/Olympus_Mons", "%H:%M", s, sizeof s), -1);
    assert_string_equal(s, "08:00");
    assert_int_equal(civil_strftime(T_DEC3_0800Z, "", "%H:%M", s, sizeof s), -1);
    assert_string_equal(s, "08:00");
    /* too small: "" rather than what strftime leaves */
    char tiny[4] = "xyz";
    assert_int_equal(civil_strftime(T_DEC3_0800Z, NULL, "%Y-%m", tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "");
}

static void test_local(void **state)
{
    (void)state;
    struct tm tm, before;
    assert_int_equal(civil_local(T_OCT25_0030Z, "Europe/Copenhagen", &tm), 0);
    assert_int_equal(tm.tm_hour, 2);
    assert_int_equal(tm.tm_min, 30);
    assert_int_equal(tm.tm_isdst, 1);
    memset(&before, 0x5a, sizeof before);
    tm = before;
    assert_int_equal(civil_local(T_OCT25_0030Z, "Mars/Olympus_Mons", &tm), -1);
    assert_int_equal(civil_local(T_OCT25_0030Z, NULL, &tm), -1);
    assert_memory_equal(&tm, &before, sizeof tm); /* untouched */
}

/* ---- zones ------------------------------------------------------------ */

static void test_zone_names(void **state)
{
    (void)state;
    assert_true(civil_zone_name_valid("UTC"));
    assert_true(civil_zone_name_valid("America/Argentina/ComodRivadavia"));
    assert_true(civil_zone_name_valid("Etc/GMT+1"));
    assert_true(civil_zone_name_valid("right/Europe/Stockholm")); /* a name; not one we take */
    assert_false(civil_zone_name_valid(""));
    assert_false(civil_zone_name_valid("/etc/localtime"));
    assert_false(civil_zone_name_valid("Europe/"));
    assert_false(civil_zone_name_valid("Europe//Oslo"));
    assert_false(civil_zone_name_valid("Europe/../UTC"));
    assert_false(civil_zone_name_valid("Europe/Stock holm"));
    assert_false(civil_zone_name_valid("Europe/Sträng"));
    char longest[CIVIL_ZONE_NAME_MAX + 2];
    memset(longest, 'a', sizeof longest - 1);
    longest[CIVIL_ZONE_NAME_MAX] = '\0';
    assert_true(civil_zone_name_valid(longest));
    longest[CIVIL_ZONE_NAME_MAX] = 'a';
    longest[CIVIL_ZONE_NAME_MAX + 1] = '\0';
    assert_false(civil_zone_name_valid(longest));
}

/* 01:00 UTC on day d of month m (1-12) of 2026, + delta seconds. */
static int64_t utc_0100(int m, int d, int delta)
{
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 1};
    return (int64_t)timegm(&tm) + delta;
}

static long offset_at(const char *tz, int64_t t)
{
    struct tm tm;
    assert_int_equal(civil_local(t, tz, &tm), 0);
    return tm.tm_gmtoff;
}

/* What iCal says of each zone in the table (names, offsets, the EU rule
 * switching at 01:00 UTC on the last Sundays of March and October; in
 * 2026 the 29th and the 25th) is what the system tz database says. */
static void test_zone_table(void **state)
{
    (void)state;
    char name[16];
    size_t n = 0;
    for (const civil_zone_t *z; (z = civil_zone_at(n)); n++) {
        assert_true(civil_zone_known(z->tzid));
        assert_ptr_equal(civil_zone_named(z->tzid), z);
        assert_int_equal(z->std_offset % 3600, 0);
        long dst = z->std_offset + CIVIL_DST_SHIFT;
        assert_int_equal(offset_at(z->tzid, utc_0100(3, 29, -1)), z->std_offset);
        assert_int_equal(offset_at(z->tzid, utc_0100(3, 29, 0)), dst);
        assert_int_equal(offset_at(z->tzid, utc_0100(10, 25, -1)), dst);
        assert_int_equal(offset_at(z->tzid, utc_0100(10, 25, 0)), z->std_offset);
        civil_strftime(T_DEC3_0800Z, z->tzid, "%Z", name, sizeof name);
        assert_string_equal(name, z->std_name);
        civil_strftime(T_JUN15_0700Z, z->tzid, "%Z", name, sizeof name);
        assert_string_equal(name, z->dst_name);
    }
    assert_int_equal(n, 9);
    assert_true(n <= CIVIL_ZONES_MAX);
    assert_string_equal(civil_zone_at(0)->tzid, "Europe/Stockholm");
    assert_null(civil_zone_named("America/New_York"));
    assert_null(civil_zone_named(NULL));
}

/* issue 20: periods are local days; one rule, overlap. */
static void test_period(void **state)
{
    (void)state;
    int64_t from, to, t, e;
    assert_int_equal(civil_day_parse("2027-01-01", &from, 0), 0);
    assert_int_equal(civil_day_parse("2027-06-30", &to, 1), 0);
    assert_int_equal(civil_parse("2027-01-01T00:30", "Europe/Helsinki", &t, NULL, 0), 0);
    assert_true(civil_in_period(from, to, t, t + 3600, "Europe/Helsinki"));
    assert_false(civil_in_period(from, to, t, t + 3600, NULL)); /* in UTC it is 2026 */
    assert_int_equal(civil_parse("2027-07-01T01:00", "Europe/Helsinki", &t, NULL, 0), 0);
    assert_false(civil_in_period(from, to, t, t + 3600, "Europe/Helsinki"));
    /* New Year's Eve 23:00 to 01:00: overlaps; one ending at midnight does not */
    assert_int_equal(civil_parse("2026-12-31T23:00", "Europe/Helsinki", &t, NULL, 0), 0);
    assert_true(civil_in_period(from, to, t, t + 7200, "Europe/Helsinki"));
    assert_false(civil_in_period(from, to, t, t + 3600, "Europe/Helsinki"));
    assert_true(civil_in_period(0, 0, t, t, NULL));
    assert_int_equal(civil_parse("2027-01-01T00:00", "Europe/Helsinki", &e, NULL, 0), 0);
    assert_true(civil_in_period(from, to, e, e, "Europe/Helsinki")); /* no length, at midnight */
}

static void test_repeated_wall(void **state)
{
    (void)state;
    int64_t first, second = 1824946200; /* 2027-10-31T01:30Z: 02:30 CET, the second 02:30 */
    assert_int_equal(civil_parse("2027-10-31T02:30", "Europe/Stockholm", &first, NULL, 0), 0);
    assert_int_equal(first, second - 3600);
    assert_false(civil_repeated_wall(first, "Europe/Stockholm"));
    assert_true(civil_repeated_wall(second, "Europe/Stockholm"));
    assert_false(civil_repeated_wall(second, "Asia/Tokyo"));
    assert_false(civil_repeated_wall(second, NULL));
}

/* The history of a zone from the tz database: Amsterdam in 2027 has two
 * changes at 01:00 UTC on the last Sundays of March and October. */
static void test_transitions(void **state)
{
    (void)state;
    civil_transition_t t[8];
    size_t n = 99;
    int64_t jan = 1798761600; /* 2027-01-01T00:00Z */
    assert_int_equal(civil_transitions("Europe/Amsterdam", jan, jan + 365 * 86400, t, 8, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(t[0].offset_to, 3600);
    assert_false(t[0].is_dst);
    assert_int_equal(t[1].at, 1806195600); /* 2027-03-28T01:00Z */
    assert_int_equal(t[1].offset_from, 3600);
    assert_int_equal(t[1].offset_to, 7200);
    assert_true(t[1].is_dst);
    assert_string_equal(t[1].name, "CEST");
    assert_int_equal(t[2].at, 1824944400); /* 2027-10-31T01:00Z */
    assert_int_equal(civil_transitions("Europe/Amsterdam", jan, jan + 365 * 86400, t, 2, &n),
                     CIVIL_ERR_RANGE);
    assert_int_equal(n, 3); /* untouched on failure */
    assert_int_equal(civil_transitions("Nowhere/Atlantis", jan, jan + 86400, t, 8, &n),
                     CIVIL_ERR_INVALID);
    assert_int_equal(civil_transitions("Asia/Tokyo", jan, jan + 365 * 86400, t, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].offset_to, 9 * 3600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_local_zones),
        cmocka_unit_test(test_time_utc_and_offset),
        cmocka_unit_test(test_time_dst_edges),
        cmocka_unit_test(test_time_malformed),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_tz_known),
        cmocka_unit_test(test_day_parse),
        cmocka_unit_test(test_strftime),
        cmocka_unit_test(test_local),
        cmocka_unit_test(test_zone_names),
        cmocka_unit_test(test_zone_table),
        cmocka_unit_test(test_period),
        cmocka_unit_test(test_repeated_wall),
        cmocka_unit_test(test_transitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
