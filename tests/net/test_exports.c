/*
 * test_exports: issue 20's "The exports", each item on a known data set of
 * a Finnish node (Tampere), read back by two independent parsers each:
 * iCal by ical.js (npm) and python icalendar (Debian), CSV by python's csv
 * module and csv-parse (npm).
 *
 * - Periods are local days and one rule for every export: an item is in
 *   --from 2027-01-01 --to 2027-06-30 when it overlaps those days in its
 *   own zone. 1 January 00:30 in Helsinki is in (22:30 UTC the day before),
 *   1 July 01:00 is out (22:00 UTC on 30 June), and an event from New
 *   Year's Eve 23:00 to 01:00 is in, in ical, json, csv, xapi and the
 *   report alike. Months are local: 00:30 on 1 April is April.
 * - iCal: the second 02:30 of the autumn night (Stockholm, 31 October 2027)
 *   is that instant, not the first; Europe/Amsterdam (outside the built-in
 *   table) has TZID and a VTIMEZONE generated from the tz database that
 *   both parsers read to the right instants in winter and summer, and its
 *   country is NL; the calendar has a name and a refresh hint; a cancelled
 *   event says so in SUMMARY and gives its reason in DESCRIPTION; an
 *   organiser with a quote and a caret is written in RFC 6868.
 * - CSV for Excel: a UTF-8 BOM and CRLF (export and report); the plain
 *   form stays LF without BOM.
 * - xAPI "attended" carries the activity's end, not the report's time.
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
#define PERIOD "--from 2027-01-01 --to 2027-06-30"
#define ORG "Schule \"Nord\" ^1"

static hnode_t A;
static char jan_id[13];

static void publish(const char *args)
{
    char *out = NULL;
    if (h_lernet(&A, &out, "publish %s", args) != 0)
        fail_msg("publish %s: %s", args, out ? out : "");
    free(out);
}

static int setup(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(h_node_init(&A, "Tampereen oppimiskeskus", "FI", NET), 0);
    assert_int_equal(h_lernet(&A, &out, "publish meeting --title 'fi:Tammikuu' "
                                        "--start 2027-01-01T00:30 --end 2027-01-01T01:30 --place Tampere"),
                     0);
    snprintf(jan_id, sizeof jan_id, "%.12s", strchr(out, ' ') + 1);
    free(out);
    publish("meeting --title 'fi:Heinäkuu' --start 2027-07-01T01:00 --end 2027-07-01T02:00 --place Tampere");
    publish("workshop --title 'fi:Vuodenvaihde' --start 2026-12-31T23:00 "
            "--end 2027-01-01T01:00 --place Tampere");
    publish("meeting --title 'fi:Huhtikuu' --start 2027-04-01T00:30 --end 2027-04-01T01:30 --place Tampere");
    publish("workshop --title 'en:Amsterdam winter' --start 2027-03-10T10:00 "
            "--end 2027-03-10T12:00 --tz Europe/Amsterdam --place Amsterdam");
    publish("workshop --title 'en:Amsterdam summer' --start 2027-06-10T10:00 "
            "--end 2027-06-10T12:00 --tz Europe/Amsterdam --place Amsterdam");
    /* 01:30 UTC is 02:30 CET, the second 02:30 of that night in Stockholm */
    publish("workshop --title 'sv:Nattpass' --start 2027-10-31T01:30:00Z "
            "--end 2027-10-31T03:00:00Z --tz Europe/Stockholm --place Örebro");
    assert_int_equal(h_lernet(&A, &out,
                              "publish workshop --title 'de:Werkstatt' --organiser '" ORG "' "
                              "--start 2027-02-01T10:00 --end 2027-02-01T12:00 --tz Europe/Berlin --place Bielefeld"),
                     0);
    char ws[13];
    snprintf(ws, sizeof ws, "%.12s", strchr(out, ' ') + 1);
    free(out);
    assert_int_equal(h_lernet(&A, NULL, "cancel %s --reason Sturm", ws), 0);
    assert_int_equal(h_lernet(&A, NULL,
                              "publish experience --about %s --title 'fi:Mitä opimme' "
                              "--text 'fi:Hyvin meni.' --participants teachers=9",
                              jan_id),
                     0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_node_free(&A);
    return 0;
}

/* The file FILE in the node's home, written by `lernet ARGS --out FILE`. */
static char *export_to(const char *file, const char *args)
{
    static char path[700];
    snprintf(path, sizeof path, "%s/%s", A.home, file);
    assert_int_equal(h_lernet(&A, NULL, "%s --out '%s'", args, path), 0);
    return path;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* The event of a parser's output whose summary contains s, or NULL. */
static json_t *event_with(json_t *doc, const char *s)
{
    json_t *ev;
    size_t i;
    json_array_foreach(json_object_get(doc, "events"), i, ev) {
        const char *sum = json_string_value(json_object_get(ev, "summary"));
        if (sum && strstr(sum, s))
            return ev;
    }
    return NULL;
}

static const char *str(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "(none)";
}

/* Both parsers: the period's events, and each time as the instant meant. */
static void check_ical_both(json_t *js, json_t *py, const char *who_js, const char *who_py)
{
    json_t *docs[2] = {js, py};
    const char *who[2] = {who_js, who_py};
    for (int d = 0; d < 2; d++) {
        json_t *doc = docs[d];
        assert_non_null(doc);
        if (!event_with(doc, "Tammikuu") || !event_with(doc, "Vuodenvaihde") ||
            !event_with(doc, "Huhtikuu"))
            fail_msg("%s: an event overlapping the period is missing", who[d]);
        if (event_with(doc, "Heinäkuu") || event_with(doc, "Nattpass"))
            fail_msg("%s: an event after the period is in it", who[d]);
        json_t *w = event_with(doc, "Amsterdam winter"), *s = event_with(doc, "Amsterdam summer");
        assert_non_null(w);
        assert_non_null(s);
        assert_string_equal(str(w, "tzid"), "Europe/Amsterdam");
        assert_string_equal(str(w, "start_utc"), d ? "2027-03-10T09:00:00Z"
                                                   : "2027-03-10T09:00:00.000Z");
        assert_string_equal(str(s, "start_utc"), d ? "2027-06-10T08:00:00Z"
                                                   : "2027-06-10T08:00:00.000Z");
        json_t *c = event_with(doc, "Werkstatt");
        assert_non_null(c);
        assert_string_equal(str(c, "summary"), "Abgesagt: Werkstatt");
        assert_string_equal(str(c, "status"), "CANCELLED");
        assert_string_equal(str(c, "description"), "Abgesagt: Sturm");
    }
}

static void test_ical_period_and_zones(void **state)
{
    (void)state;
    char *file = export_to("period.ics", "export ical " PERIOD), args[800];
    json_t *js = tu_node_json("ical_check.js", file);
    snprintf(args, sizeof args, "'%s'", file);
    json_t *py = tu_python_json("ical_check.py", args);
    check_ical_both(js, py, "ical.js", "python icalendar");
    char *text = slurp(file, NULL);
    /* RFC 6868: the quote as ^' and the caret as ^^, in a quoted CN */
    assert_non_null(strstr(text, "ORGANIZER;CN=\"Schule ^'Nord^' ^^1\":"));
    assert_non_null(strstr(text, "BEGIN:VTIMEZONE\r\nTZID:Europe/Amsterdam\r\n"));
    assert_non_null(strstr(text, "X-WR-CALNAME:Tampereen oppimiskeskus\r\n"));
    assert_non_null(strstr(text, "NAME:Tampereen oppimiskeskus\r\n"));
    assert_non_null(strstr(text, "REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n"));
    assert_non_null(strstr(text, "X-PUBLISHED-TTL:PT1H\r\n"));
    free(text);
    assert_string_equal(str(js, "x_wr_calname"), "Tampereen oppimiskeskus");
    assert_string_equal(str(py, "x_wr_calname"), "Tampereen oppimiskeskus");
    assert_string_equal(str(js, "refresh"), "PT1H");
    assert_string_equal(str(py, "refresh"), "PT1H");
    assert_string_equal(str(py, "refresh_value"), "DURATION");
    /* ical.js decodes RFC 6868; python icalendar 4 keeps the parameter as written */
    assert_string_equal(str(event_with(js, "Werkstatt"), "organizer_cn"), ORG);
    assert_string_equal(str(event_with(py, "Werkstatt"), "organizer_cn"),
                        "Schule ^'Nord^' ^^1");
    json_decref(js);
    json_decref(py);
}

/* The second 02:30 of the autumn night: both parsers read the instant
 * meant (01:30 UTC), not the first 02:30 (00:30 UTC). */
static void test_ical_repeated_hour(void **state)
{
    (void)state;
    char *file = export_to("all.ics", "export ical --network " NET), args[800];
    char *text = slurp(file, NULL);
    assert_non_null(strstr(text, "DTSTART:20271031T013000Z\r\n"));
    assert_non_null(strstr(text, "X-WR-CALNAME:" NET "\r\n")); /* the network's calendar */
    free(text);
    json_t *js = tu_node_json("ical_check.js", file);
    snprintf(args, sizeof args, "'%s'", file);
    json_t *py = tu_python_json("ical_check.py", args);
    assert_non_null(js);
    assert_non_null(py);
    assert_string_equal(str(event_with(js, "Nattpass"), "start_utc"), "2027-10-31T01:30:00.000Z");
    assert_string_equal(str(event_with(py, "Nattpass"), "start_utc"), "2027-10-31T01:30:00Z");
    json_decref(js);
    json_decref(py);
}

/* The titles of `export json` items that have a start. */
static int json_has(json_t *arr, const char *title)
{
    json_t *it;
    size_t i;
    char *dump;
    json_array_foreach(arr, i, it) {
        dump = json_dumps(it, 0);
        int found = dump && strstr(dump, title) != NULL;
        free(dump);
        if (found)
            return 1;
    }
    return 0;
}

static void test_rows_period(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(h_lernet(&A, &out, "export json " PERIOD), 0);
    json_t *arr = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(arr);
    assert_true(json_has(arr, "Tammikuu"));
    assert_true(json_has(arr, "Vuodenvaihde")); /* starts before, ends in the period */
    assert_false(json_has(arr, "Heinäkuu"));
    json_decref(arr);
    assert_int_equal(h_lernet(&A, &out, "export csv " PERIOD), 0);
    assert_non_null(strstr(out, "Tammikuu"));
    assert_non_null(strstr(out, "Vuodenvaihde"));
    assert_null(strstr(out, "Heinäkuu"));
    free(out);
}

static json_int_t cell(json_t *rows, const char *key, const char *col)
{
    json_t *row;
    size_t i;
    json_array_foreach(rows, i, row)
        if (strcmp(json_string_value(json_object_get(row, "key")), key) == 0)
            return json_integer_value(json_object_get(row, col));
    char *d = json_dumps(rows, 0);
    fail_msg("no row %s in %s", key, d);
    return -1;
}

static json_t *report(const char *args)
{
    char *out = NULL;
    assert_int_equal(h_lernet(&A, &out, "report --format json %s", args), 0);
    json_t *rows = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(rows);
    return rows;
}

static void test_report_local_days(void **state)
{
    (void)state;
    json_t *rows = report("--by month");
    assert_int_equal(cell(rows, "2027-04", "meetings"), 1); /* 00:30 on 1 April, Helsinki */
    assert_int_equal(cell(rows, "2027-01", "meetings"), 1);
    assert_int_equal(cell(rows, "2027-07", "meetings"), 1);
    json_decref(rows);
    rows = report("--by country " PERIOD);
    assert_int_equal(cell(rows, "NL", "workshops"), 2); /* zone.tab, not "other" */
    /* Tammikuu, Huhtikuu; Vuodenvaihde, both Amsterdam; Werkstatt cancelled */
    assert_int_equal(cell(rows, "total", "meetings"), 2);
    assert_int_equal(cell(rows, "total", "workshops"), 3);
    assert_int_equal(cell(rows, "total", "cancelled"), 1);
    assert_int_equal(cell(rows, "total", "experience_reports"), 1);
    json_decref(rows);
}

static void test_xapi_activity_time(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(h_lernet(&A, &out, "export xapi"), 0);
    json_t *arr = json_loads(out, 0, NULL), *st;
    free(out);
    assert_non_null(arr);
    assert_int_equal(json_array_size(arr), 2);
    size_t i;
    int attended = 0;
    json_array_foreach(arr, i, st) {
        const char *verb = json_string_value(json_object_get(json_object_get(st, "verb"), "id"));
        if (strstr(verb, "attended")) {
            attended = 1; /* Tammikuu ends 01:30 Helsinki, 23:30 UTC on New Year's Eve */
            assert_string_equal(str(st, "timestamp"), "2026-12-31T23:30:00.000Z");
        }
    }
    assert_true(attended);
    json_decref(arr);
    /* the report was written now (December 2026): its activity is in the period */
    assert_int_equal(h_lernet(&A, &out, "export xapi " PERIOD), 0);
    arr = json_loads(out, 0, NULL);
    free(out);
    assert_int_equal(json_array_size(arr), 2);
    json_decref(arr);
}

/* Both CSV readers: header, the row of Heinäkuu with its ä intact. */
static void check_csv_readers(const char *file, const char *header0, const char *want)
{
    char cmd[1200], *out = NULL;
    snprintf(cmd, sizeof cmd,
             TU_PYTHON " -c 'import csv, json, sys\n"
                       "with open(sys.argv[1], newline=\"\", encoding=\"utf-8-sig\") as f:\n"
                       "    print(json.dumps(list(csv.reader(f, strict=True))))' '%s'",
             file);
    assert_int_equal(tu_run(cmd, &out), 0);
    json_t *py = json_loads(out, 0, NULL);
    free(out);
    json_t *node = tu_node_json("csv_check.js", file);
    assert_non_null(py);
    assert_non_null(node);
    assert_true(json_is_true(json_object_get(node, "bom")));
    json_t *rows = json_object_get(node, "rows");
    assert_true(json_equal(rows, py)); /* the two readers agree, row by row, field by field */
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 0)), header0);
    char *d = json_dumps(rows, 0);
    if (!strstr(d, want))
        fail_msg("%s: no %s in %.300s", file, want, d);
    free(d);
    json_decref(py);
    json_decref(node);
}

/* Every line end CRLF, and a BOM first. */
static void check_excel_bytes(const char *path)
{
    size_t len;
    char *b = slurp(path, &len);
    assert_true(len > 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        if (b[i] == '\n') {
            assert_true(i > 0 && b[i - 1] == '\r');
            lines++;
        }
    assert_true(lines >= 2 && b[len - 1] == '\n');
    free(b);
}

static void test_csv_excel(void **state)
{
    (void)state;
    char *path = export_to("items-excel.csv", "export csv-excel");
    check_excel_bytes(path);
    check_csv_readers(path, "id", "Heinäkuu");
    /* report prints to stdout: write it to a file for the readers */
    char *out = NULL, file[700];
    assert_int_equal(h_lernet(&A, &out, "report --by country --format csv-excel"), 0);
    snprintf(file, sizeof file, "%s/report-excel.csv", A.home);
    FILE *f = fopen(file, "wb");
    fwrite(out, 1, strlen(out), f);
    fclose(f);
    free(out);
    check_excel_bytes(file);
    check_csv_readers(file, "key", "NL");
    /* the plain form is as scripts have always read it: no BOM, LF */
    assert_int_equal(h_lernet(&A, &out, "export csv"), 0);
    assert_true(strncmp(out, "id,kind,", 8) == 0);
    assert_null(strchr(out, '\r'));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ical_period_and_zones), cmocka_unit_test(test_ical_repeated_hour),
        cmocka_unit_test(test_rows_period),           cmocka_unit_test(test_report_local_days),
        cmocka_unit_test(test_xapi_activity_time),    cmocka_unit_test(test_csv_excel),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
