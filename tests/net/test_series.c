/*
 * test_series: issue 19's series. A weekly seminar series in Örebro
 * (Europe/Stockholm, Tuesdays 18:00, six times from 9 March 2027) crosses
 * the spring change on the last Sunday of March; one occurrence is
 * cancelled with `lernet cancel ID --occurrence 2027-03-23`. A network
 * meeting on tour (19 October in Örebro, then Uppsala and Västerås)
 * crosses the autumn change on the last Sunday of October. The iCal
 * export is expanded by two independent readers, ical.js (npm) and python
 * icalendar with recurring_ical_events (Debian), and both must give the
 * same instants: 17:00 UTC before the change, 16:00 after (18:00 local
 * throughout), the cancelled one absent, each date at its own place. And
 * the bounds are refused with one line naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"

static hnode_t A;

static const char *const want[] = {
    "2027-03-09T17:00:00Z Örebro",  "2027-03-16T17:00:00Z Örebro",
    /* 23 March cancelled; summer time from 28 March: 18:00 is 16:00 UTC */
    "2027-03-30T16:00:00Z Örebro",  "2027-04-06T16:00:00Z Örebro",
    "2027-04-13T16:00:00Z Örebro",  "2027-10-19T08:00:00Z Örebro",
    "2027-10-26T08:00:00Z Uppsala", "2027-11-02T09:00:00Z Västerås", /* CET from 31 October */
};
#define N_WANT (sizeof want / sizeof want[0])

static int setup(void **state)
{
    (void)state;
    char *out = NULL, id[13];
    assert_int_equal(h_node_init(&A, "Lärcentrum Örebro", "SE", NET), 0);
    assert_int_equal(h_lernet(&A, &out,
                              "publish workshop --title 'sv:Seminarieserie: lärcentrum som mäklare' "
                              "--start 2027-03-09T18:00 --end 2027-03-09T20:00 --place Örebro "
                              "--repeat weekly --byday TU --count 6"),
                     0);
    snprintf(id, sizeof id, "%.12s", strchr(out, ' ') + 1);
    free(out);
    assert_int_equal(h_lernet(&A, NULL,
                              "publish meeting --title 'sv:Nätverksmöte på turné' "
                              "--start 2027-10-19T10:00 --end 2027-10-19T12:00 --place Örebro "
                              "--dates 2027-10-26,2027-11-02 --places 'Uppsala;Västerås'"),
                     0);
    assert_int_equal(h_lernet(&A, &out, "cancel %s --occurrence 2027-03-23 --reason Sjukdom", id),
                     0);
    free(out);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_node_free(&A);
    return 0;
}

static void check_instances(json_t *doc, const char *who)
{
    assert_non_null(doc);
    json_t *inst = json_object_get(doc, "instances"), *i;
    size_t k;
    char got[1024] = "";
    json_array_foreach(inst, k, i)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s %s; ",
                 json_string_value(json_object_get(i, "start_utc")),
                 json_string_value(json_object_get(i, "location")));
    if (json_array_size(inst) != N_WANT)
        fail_msg("%s expands %zu instances, want %zu: %s", who, json_array_size(inst), N_WANT, got);
    json_array_foreach(inst, k, i) {
        char one[128];
        snprintf(one, sizeof one, "%s %s", json_string_value(json_object_get(i, "start_utc")),
                 json_string_value(json_object_get(i, "location")));
        if (strcmp(one, want[k]) != 0)
            fail_msg("%s: instance %zu is %s, want %s (all: %s)", who, k, one, want[k], got);
    }
}

static void test_expanded_by_two_readers(void **state)
{
    (void)state;
    char file[700], cmd[1600], args[800], *out = NULL;
    snprintf(file, sizeof file, "%s/series.ics", A.home);
    assert_int_equal(h_lernet(&A, NULL, "export ical --out '%s'", file), 0);
    snprintf(cmd, sizeof cmd, "cat '%s'", file);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_non_null(strstr(out, "RRULE:FREQ=WEEKLY;COUNT=6;BYDAY=TU\r\n"));
    assert_non_null(strstr(out, "EXDATE;TZID=Europe/Stockholm:20270323T180000\r\n"));
    assert_non_null(strstr(out, "RDATE;TZID=Europe/Stockholm:20271026T100000\r\n"));
    assert_non_null(strstr(out, "RECURRENCE-ID;TZID=Europe/Stockholm:20271102T100000\r\n"));
    free(out);
    snprintf(cmd, sizeof cmd, "node '%s/tests/harness/ical_check.js' '%s/build-npm/node_modules' "
                              "'%s' 2027-01-01 2028-01-01",
             LERNET_SOURCE_DIR, LERNET_SOURCE_DIR, file);
    assert_int_equal(tu_run(cmd, &out), 0);
    json_t *js = json_loads(out, 0, NULL);
    free(out);
    check_instances(js, "ical.js");
    snprintf(args, sizeof args, "'%s' 2027-01-01 2028-01-01", file);
    json_t *py = tu_python_json("ical_check.py", args);
    check_instances(py, "python recurring_ical_events");
    json_decref(js);
    json_decref(py);
}

/* The series as `list --json` and `export json` show it: the rule and the dates. */
static void test_json_form(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(h_lernet(&A, &out, "export json"), 0);
    assert_non_null(strstr(out, "\"recurrence\""));
    assert_non_null(strstr(out, "\"freq\": \"weekly\""));
    assert_non_null(strstr(out, "\"occurrences\""));
    assert_non_null(strstr(out, "Västerås"));
    free(out);
}

static void refused(const char *args, const char *needle)
{
    char cmd[1200], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' --home '%s' publish workshop --title 'sv:Serie' "
                              "--place Örebro %s 2>&1",
             h_bin(), A.home, args);
    int rc = tu_run(cmd, &out);
    int want_rc = strncmp(needle, "--", 2) == 0 ? 2 : 1; /* a flag's usage, or content refused */
    if (rc != want_rc || !strstr(out, needle) || strchr(out, '\n') != out + strlen(out) - 1)
        fail_msg("%s: exit %d, want %d and one line with '%s': %s", args, rc, want_rc, needle, out);
    free(out);
}

static void test_bounds(void **state)
{
    (void)state;
    refused("--start 2027-03-09T18:00 --end 2027-03-09T20:00 --repeat weekly --count 201",
            "--count");
    refused("--start 2027-03-09T18:00 --end 2027-03-09T20:00 --repeat weekly --until 2030-06-01",
            "recurrence.until");
    refused("--start 2027-03-09T18:00 --end 2027-03-09T20:00 --repeat weekly --byday WE --count 3",
            "recurrence.byday");
    refused("--start 2027-03-09T18:00 --end 2027-03-09T20:00 --repeat yearly --count 3",
            "recurrence.freq");
    refused("--start 2027-03-09T18:00 --end 2027-03-09T20:00 --repeat weekly --interval 52 "
            "--count 200",
            "3 years");
    refused("--start 2027-03-09T18:00 --end 2027-03-09T20:00 --dates 2027-03-01",
            "occurrences[0].start");
    /* 02:30 does not exist on 28 March in Stockholm */
    refused("--start 2027-03-21T02:30 --end 2027-03-21T04:00 --repeat weekly --count 3",
            "recurrence");
    char *out = NULL;
    assert_int_equal(h_lernet(&A, &out, "list --json"), 0);
    assert_null(strstr(out, "\"sv\": \"Serie\"")); /* nothing stored */
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expanded_by_two_readers),
        cmocka_unit_test(test_json_form),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
