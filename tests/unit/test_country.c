/*
 * test_country: the one table of the networks' countries
 * (node/util/country), both ways: a node's default zone and language from
 * its country, a report's country from an event's zone; and that each
 * listed zone is a row of util/time's zone table (the iCal VTIMEZONEs and
 * the web form's choices), in the same order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/country.h"
#include "util/time.h"

static const char *const listed[] = {"SE", "DK", "FI", "DE", "NO", "EE", "LV", "LT", "GB"};
#define N_LISTED (sizeof listed / sizeof listed[0])

static void test_zones_both_ways(void **state)
{
    (void)state;
    assert_string_equal(country_zone("SE"), "Europe/Stockholm");
    assert_string_equal(country_zone("FI"), "Europe/Helsinki");
    assert_string_equal(country_zone("US"), "UTC");
    assert_string_equal(country_zone("PL"), "UTC"); /* a language, no zone yet */
    assert_string_equal(country_zone(NULL), "UTC");
    assert_string_equal(country_zone("se"), "UTC");
    assert_string_equal(country_of_zone("Europe/Berlin"), "DE");
    /* beyond the table, the tz database's zone.tab (issue 20: not "other") */
    assert_string_equal(country_of_zone("Europe/Amsterdam"), "NL");
    assert_string_equal(country_of_zone("America/New_York"), "US");
    assert_string_equal(country_of_zone("Etc/GMT-3"), "other");
    assert_string_equal(country_of_zone("Nowhere/Atlantis"), "other");
    assert_string_equal(country_of_zone("UTC"), "other");
    assert_string_equal(country_of_zone(NULL), "other");
    for (size_t i = 0; i < N_LISTED; i++) {
        const char *tz = country_zone(listed[i]);
        assert_true(civil_zone_known(tz));
        assert_string_equal(country_of_zone(tz), listed[i]);
        assert_non_null(civil_zone_at(i));
        assert_string_equal(civil_zone_at(i)->tzid, tz); /* the zone table's order */
    }
    assert_null(civil_zone_at(N_LISTED)); /* and no zone without a country */
}

static void test_languages(void **state)
{
    (void)state;
    assert_string_equal(country_lang("SE"), "sv");
    assert_string_equal(country_lang("DK"), "da");
    assert_string_equal(country_lang("NO"), "nb");
    assert_string_equal(country_lang("PL"), "pl");
    assert_string_equal(country_lang("GB"), "en");
    assert_string_equal(country_lang("US"), "en");
    assert_string_equal(country_lang(NULL), "en");
}

static void test_code_shape(void **state)
{
    (void)state;
    assert_true(country_code_valid("SE"));
    assert_true(country_code_valid("US")); /* not listed, but a code */
    assert_false(country_code_valid("se"));
    assert_false(country_code_valid("S"));
    assert_false(country_code_valid("SWE"));
    assert_false(country_code_valid(""));
    assert_false(country_code_valid("S1"));
    assert_false(country_code_valid("\xc3\x85S"));
    assert_false(country_code_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zones_both_ways),
        cmocka_unit_test(test_languages),
        cmocka_unit_test(test_code_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
