/*
 * test_payload_json: the JSON form of content. Multilingual input from the
 * partner countries, round trips JSON -> payload -> JSON -> payload, local
 * times in the partners' zones as fields, and refusals of hostile input
 * with a message naming the field. The time rules themselves (DST edges,
 * malformed TIMEs, zones) are test_time's.
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

#include "core/event.h"
#include "core/payload_json.h"
#include "harness/testutil.h"

/* Instants used below, each checked against `date -u -d ... +%s`. */
#define T_DEC3_0800Z 1796284800LL /* 2026-12-03T08:00:00Z */
#define T_DEC3_1200Z 1796299200LL /* 2026-12-03T12:00:00Z */
#define T_JUN15_0700Z 1781506800LL /* 2026-06-15T07:00:00Z */

#define ABOUT_HEX "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"

static const char *workshop_src =
    "{\"title\": {\"sv\": \"Arbetsplatsförlagt lärande på lärcentrum\","
    "  \"en\": \"Workplace learning at learning centres\"},"
    " \"description\": {\"sv\": \"Hur lärcentra i Östhammar och Älvdalen stödjer företag.\\n"
    "Fika ingår ☕\"},"
    " \"start\": \"2026-12-03T09:00\", \"end\": \"2026-12-03T13:00\","
    " \"tz\": \"Europe/Stockholm\", \"place\": \"Lärcentrum Östhammar, Storgatan 1\","
    " \"online_url\": \"https://lernet.example/ws/1\", \"organiser\": \"Lärcentrum Östhammar\","
    " \"capacity\": 30, \"themes\": [\"workplace learning\", \"lärcentrum som mäklare\"],"
    " \"roles\": [\"teachers\", \"study and career counsellors\"],"
    " \"language\": \"sv\", \"status\": \"confirmed\"}";

static const char *meeting_src =
    "{\"title\": {\"da\": \"Netværksmøde: erfaringer fra innovationscamp på Æbelø\"},"
    " \"start\": \"2026-12-03T13:00:00+01:00\", \"end\": \"2026-12-03T15:00:00+01:00\","
    " \"tz\": \"Europe/Copenhagen\", \"place\": \"Roskilde Handelsskole, Bøgevej 7\","
    " \"organiser\": \"Roskilde Handelsskole\","
    " \"agenda\": {\"da\": \"1. Velkomst\\n2. Gæster fra Sønderborg\","
    "  \"de\": \"1. Begrüßung\\n2. Gäste aus Flensburg\"},"
    " \"minutes\": {\"fi\": \"Sovittiin yhteistyöstä. Seuraava tapaaminen Hämeenlinnassa.\"},"
    " \"themes\": [\"entrepreneurship\"]}";

static const char *experience_src =
    "{\"about\": \"" ABOUT_HEX "\","
    " \"title\": {\"de\": \"Erfahrungen aus der Lernwerkstatt Süd 🚀\","
    "  \"fi\": \"Kokemuksia oppimispajasta Jyväskylässä\"},"
    " \"text\": {\"de\": \"Die Lernwerkstatt hat gezeigt, dass Coaching vor Ort wirkt: "
    "Betriebe öffnen sich, wenn Übungen am Arbeitsplatz stattfinden.\"},"
    " \"lessons\": {\"de\": \"Früh mit der Geschäftsführung sprechen.\"},"
    " \"tags\": [\"workplace learning\", \"coaching\"],"
    " \"participants\": {\"teachers\": 12, \"company representatives\": 7, \"guests\": 0}}";

static json_t *load(const char *text)
{
    json_error_t err;
    /* with "\u0000" let through, as a careless caller might */
    json_t *j = json_loads(text, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail_msg("test JSON does not parse: %s (line %d)", err.text, err.line);
    return j;
}

/* payload_from_json of obj; asserts rc and, on failure, that why names
 * what it should and is one line. */
static Lernet__Payload *from_obj(int kind, const json_t *obj, int want_rc, const char *want_why)
{
    char why[512] = "";
    Lernet__Payload *p = (Lernet__Payload *)0x1;
    int rc = payload_from_json(&p, kind, obj, why, sizeof why);
    if (rc != want_rc)
        fail_msg("rc %d (%s), want %d", rc, why, want_rc);
    if (rc != PJ_OK) {
        assert_ptr_equal(p, (Lernet__Payload *)0x1); /* out-parameters only on success */
        p = NULL;
        assert_null(strchr(why, '\n'));
        if (want_why && !strstr(why, want_why))
            fail_msg("why '%s' lacks '%s'", why, want_why);
    }
    return p;
}

static Lernet__Payload *from_text(int kind, const char *text, int want_rc, const char *want_why)
{
    json_t *j = load(text);
    Lernet__Payload *p = from_obj(kind, j, want_rc, want_why);
    json_decref(j);
    return p;
}

/* The base content of kind with one key replaced (value NULL: removed). */
static void expect_refused(int kind, const char *base, const char *key, json_t *value,
                           int want_rc, const char *want_why)
{
    json_t *j = load(base);
    if (value)
        json_object_set_new(j, key, value);
    else
        json_object_del(j, key);
    Lernet__Payload *p = from_obj(kind, j, want_rc, want_why);
    if (p)
        lernet__payload__free_unpacked(p, NULL);
    json_decref(j);
}

static void assert_packed_equal(const Lernet__Payload *a, const Lernet__Payload *b)
{
    size_t na = lernet__payload__get_packed_size(a), nb = lernet__payload__get_packed_size(b);
    assert_int_equal(na, nb);
    uint8_t *ba = malloc(na + 1), *bb = malloc(nb + 1);
    lernet__payload__pack(a, ba);
    lernet__payload__pack(b, bb);
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
}

/* JSON -> payload -> JSON -> payload gives the same bytes; returns the
 * intermediate JSON for shape checks. */
static json_t *round_trip(int kind, const Lernet__Payload *p)
{
    json_t *j = kind == LERNET__KIND__KIND_WORKSHOP  ? payload_workshop_json(p->workshop)
                : kind == LERNET__KIND__KIND_MEETING ? payload_meeting_json(p->meeting)
                                                     : payload_experience_json(p->experience);
    assert_non_null(j);
    /* through text as well, as a file edited by hand would be */
    char *text = json_dumps(j, 0);
    json_t *again = load(text);
    free(text);
    Lernet__Payload *q = from_obj(kind, again, PJ_OK, NULL);
    json_decref(again);
    assert_packed_equal(p, q);
    lernet__payload__free_unpacked(q, NULL);
    return j;
}

/* ---- content ----------------------------------------------------------- */

static void test_workshop_swedish(void **state)
{
    (void)state;
    Lernet__Payload *p = from_text(LERNET__KIND__KIND_WORKSHOP, workshop_src, PJ_OK, NULL);
    Lernet__Workshop *w = p->workshop;
    assert_int_equal(p->body_case, LERNET__PAYLOAD__BODY_WORKSHOP);
    assert_int_equal(w->n_title, 2);
    assert_string_equal(w->title[0]->lang, "sv");
    assert_string_equal(w->title[0]->text, "Arbetsplatsförlagt lärande på lärcentrum");
    assert_string_equal(w->title[1]->lang, "en");
    assert_string_equal(w->description[0]->text,
                        "Hur lärcentra i Östhammar och Älvdalen stödjer företag.\nFika ingår ☕");
    assert_int_equal(w->start, T_DEC3_0800Z); /* 09:00 CET */
    assert_int_equal(w->end, T_DEC3_1200Z);
    assert_string_equal(w->tz, "Europe/Stockholm");
    assert_string_equal(w->place, "Lärcentrum Östhammar, Storgatan 1");
    assert_string_equal(w->organiser, "Lärcentrum Östhammar");
    assert_int_equal(w->capacity, 30);
    assert_int_equal(w->n_themes, 2);
    assert_string_equal(w->themes[1], "lärcentrum som mäklare");
    assert_int_equal(w->n_roles, 2);
    assert_string_equal(w->roles[1], "study and career counsellors");
    assert_string_equal(w->language, "sv");
    assert_int_equal(w->status, LERNET__STATUS__STATUS_CONFIRMED);
    lernet__payload__free_unpacked(p, NULL);
}

static void test_meeting_danish(void **state)
{
    (void)state;
    Lernet__Payload *p = from_text(LERNET__KIND__KIND_MEETING, meeting_src, PJ_OK, NULL);
    Lernet__Meeting *m = p->meeting;
    assert_int_equal(p->body_case, LERNET__PAYLOAD__BODY_MEETING);
    assert_string_equal(m->title[0]->text,
                        "Netværksmøde: erfaringer fra innovationscamp på Æbelø");
    assert_int_equal(m->start, T_DEC3_1200Z);
    assert_int_equal(m->end, T_DEC3_1200Z + 2 * 3600);
    assert_int_equal(m->n_agenda, 2);
    assert_string_equal(m->agenda[1]->lang, "de");
    assert_string_equal(m->agenda[1]->text, "1. Begrüßung\n2. Gäste aus Flensburg");
    assert_string_equal(m->minutes[0]->lang, "fi");
    assert_string_equal(m->online_url, "");
    assert_int_equal(m->n_themes, 1);
    lernet__payload__free_unpacked(p, NULL);
}

static void test_experience_german(void **state)
{
    (void)state;
    static const uint8_t about[EVENT_ID_BYTES] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
        0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
        0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
    Lernet__Payload *p = from_text(LERNET__KIND__KIND_EXPERIENCE, experience_src, PJ_OK, NULL);
    Lernet__Experience *e = p->experience;
    assert_int_equal(p->body_case, LERNET__PAYLOAD__BODY_EXPERIENCE);
    assert_int_equal(e->about.len, EVENT_ID_BYTES);
    assert_memory_equal(e->about.data, about, EVENT_ID_BYTES);
    assert_string_equal(e->title[0]->text, "Erfahrungen aus der Lernwerkstatt Süd 🚀");
    assert_string_equal(e->title[1]->text, "Kokemuksia oppimispajasta Jyväskylässä");
    assert_int_equal(e->n_text, 1);
    assert_int_equal(e->n_lessons, 1);
    assert_int_equal(e->n_tags, 2);
    assert_int_equal(e->n_participants, 3);
    assert_string_equal(e->participants[0]->role, "teachers");
    assert_int_equal(e->participants[0]->count, 12);
    assert_string_equal(e->participants[1]->role, "company representatives");
    assert_int_equal(e->participants[1]->count, 7);
    assert_int_equal(e->participants[2]->count, 0);
    lernet__payload__free_unpacked(p, NULL);
}

static void test_workshop_defaults(void **state)
{
    (void)state;
    /* online only, no capacity, no status: planned */
    Lernet__Payload *p = from_text(
        LERNET__KIND__KIND_WORKSHOP,
        "{\"title\": {\"fi\": \"Työpaikalla oppiminen\"}, \"start\": \"2026-12-03T08:00:00Z\","
        " \"end\": \"2026-12-03T09:00:00Z\", \"tz\": \"Europe/Helsinki\", \"place\": null,"
        " \"online_url\": \"https://meet.example/abc\", \"organiser\": \"Omnia\"}",
        PJ_OK, NULL);
    assert_int_equal(p->workshop->status, LERNET__STATUS__STATUS_PLANNED);
    assert_int_equal(p->workshop->capacity, 0);
    assert_string_equal(p->workshop->place, "");
    assert_int_equal(p->workshop->n_themes, 0);
    lernet__payload__free_unpacked(p, NULL);
}

/* ---- round trips -------------------------------------------------------- */

static void test_round_trip_workshop(void **state)
{
    (void)state;
    Lernet__Payload *p = from_text(LERNET__KIND__KIND_WORKSHOP, workshop_src, PJ_OK, NULL);
    json_t *j = round_trip(LERNET__KIND__KIND_WORKSHOP, p);
    assert_string_equal(json_string_value(json_object_get(j, "start")), "2026-12-03T08:00:00Z");
    assert_string_equal(json_string_value(json_object_get(j, "start_local")),
                        "2026-12-03T09:00:00+01:00");
    assert_string_equal(json_string_value(json_object_get(j, "end_local")),
                        "2026-12-03T13:00:00+01:00");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "confirmed");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "title"), "sv")),
                        "Arbetsplatsförlagt lärande på lärcentrum");
    assert_int_equal(json_integer_value(json_object_get(j, "capacity")), 30);
    assert_int_equal(json_array_size(json_object_get(j, "roles")), 2);
    json_decref(j);
    lernet__payload__free_unpacked(p, NULL);
}

static void test_round_trip_meeting_experience(void **state)
{
    (void)state;
    Lernet__Payload *p = from_text(LERNET__KIND__KIND_MEETING, meeting_src, PJ_OK, NULL);
    json_t *j = round_trip(LERNET__KIND__KIND_MEETING, p);
    assert_string_equal(json_string_value(json_object_get(j, "start_local")),
                        "2026-12-03T13:00:00+01:00");
    assert_null(json_object_get(j, "online_url")); /* empty: left out */
    json_decref(j);
    lernet__payload__free_unpacked(p, NULL);

    p = from_text(LERNET__KIND__KIND_EXPERIENCE, experience_src, PJ_OK, NULL);
    j = round_trip(LERNET__KIND__KIND_EXPERIENCE, p);
    /* ids are written in lower case whatever case came in */
    char lower[65];
    for (int i = 0; i < 64; i++)
        lower[i] = (char)(ABOUT_HEX[i] >= 'A' && ABOUT_HEX[i] <= 'F' ? ABOUT_HEX[i] + 32
                                                                     : ABOUT_HEX[i]);
    lower[64] = '\0';
    assert_string_equal(json_string_value(json_object_get(j, "about")), lower);
    json_t *parts = json_object_get(j, "participants");
    assert_true(json_is_object(parts));
    assert_int_equal(json_integer_value(json_object_get(parts, "company representatives")), 7);
    assert_null(json_object_get(j, "start"));
    json_decref(j);
    lernet__payload__free_unpacked(p, NULL);
}

/* Payloads built by other code (testutil) come out as JSON that builds the
 * same bytes. */
static void test_round_trip_testutil(void **state)
{
    (void)state;
    static const uint8_t id[EVENT_ID_BYTES] = {1, 2, 3};
    Lernet__Payload *w = tu_workshop("Lärande på arbetsplatsen", "Learning at work",
                                     T_JUN15_0700Z);
    Lernet__Payload *m = tu_meeting("Netværksmøde i Køge", T_DEC3_1200Z);
    Lernet__Payload *e = tu_experience(id, "Erfahrungsbericht Lüneburg");
    json_decref(round_trip(LERNET__KIND__KIND_WORKSHOP, w));
    json_decref(round_trip(LERNET__KIND__KIND_MEETING, m));
    json_decref(round_trip(LERNET__KIND__KIND_EXPERIENCE, e));
    tu_payload_free(w);
    tu_payload_free(m);
    tu_payload_free(e);
}

/* An edited start_local alone moves the event; a stale one next to an
 * edited start is refused rather than silently ignored. */
static void test_local_keys(void **state)
{
    (void)state;
    json_t *j = load(workshop_src);
    json_object_del(j, "start");
    json_object_set_new(j, "start_local", json_string("2026-12-03T10:00:00+01:00"));
    Lernet__Payload *p = from_obj(LERNET__KIND__KIND_WORKSHOP, j, PJ_OK, NULL);
    assert_int_equal(p->workshop->start, T_DEC3_0800Z + 3600);
    lernet__payload__free_unpacked(p, NULL);

    json_object_set_new(j, "start", json_string("2026-12-03T09:00:00Z"));
    p = from_obj(LERNET__KIND__KIND_WORKSHOP, j, PJ_OK, NULL);
    lernet__payload__free_unpacked(p, NULL);

    json_object_set_new(j, "start", json_string("2026-12-03T08:00:00Z"));
    from_obj(LERNET__KIND__KIND_WORKSHOP, j, PJ_ERR_INVALID, "field 'start_local'");
    json_decref(j);
}

/* ---- refusals ----------------------------------------------------------- */

static void test_refuse_keys_and_types(void **state)
{
    (void)state;
    const int W = LERNET__KIND__KIND_WORKSHOP;
    expect_refused(W, workshop_src, "organizer", json_string("x"), PJ_ERR_INVALID,
                   "field 'organizer': unknown for a workshop");
    expect_refused(LERNET__KIND__KIND_MEETING, meeting_src, "capacity", json_integer(3),
                   PJ_ERR_INVALID, "field 'capacity': unknown for a meeting");
    expect_refused(W, workshop_src, "capacity", json_string("30"), PJ_ERR_INVALID,
                   "field 'capacity': must be an integer 0..100000");
    expect_refused(W, workshop_src, "capacity", json_real(30.0), PJ_ERR_INVALID,
                   "field 'capacity'");
    expect_refused(W, workshop_src, "capacity", json_integer(100001), PJ_ERR_INVALID,
                   "field 'capacity'");
    expect_refused(W, workshop_src, "capacity", json_integer(-1), PJ_ERR_INVALID,
                   "field 'capacity'");
    expect_refused(W, workshop_src, "capacity", json_integer(INT64_MAX), PJ_ERR_INVALID,
                   "field 'capacity'");
    expect_refused(W, workshop_src, "title", json_string("Workshop"), PJ_ERR_INVALID,
                   "field 'title': must be an object of language tag to text");
    expect_refused(W, workshop_src, "title", load("{\"sv\": {\"text\": \"x\"}}"),
                   PJ_ERR_INVALID, "field 'title.sv': must be a string");
    expect_refused(W, workshop_src, "title", load("{\"sv\": 5}"), PJ_ERR_INVALID,
                   "field 'title.sv'");
    expect_refused(W, workshop_src, "place", load("{\"a\": \"b\"}"), PJ_ERR_INVALID,
                   "field 'place': must be a string");
    expect_refused(W, workshop_src, "themes", json_string("x"), PJ_ERR_INVALID,
                   "field 'themes': must be an array of strings");
    expect_refused(W, workshop_src, "themes", load("[\"ok\", [\"nested\"]]"), PJ_ERR_INVALID,
                   "field 'themes[1]'");
    expect_refused(W, workshop_src, "status", json_string("postponed"), PJ_ERR_INVALID,
                   "field 'status': must be one of");
    expect_refused(W, workshop_src, "start", json_integer(1796284800), PJ_ERR_INVALID,
                   "field 'start': must be a time string");
    expect_refused(W, workshop_src, "tz", json_string("Mars/Olympus_Mons"), PJ_ERR_INVALID,
                   "field 'tz': 'Mars/Olympus_Mons' is not a time zone known to this system");
    expect_refused(W, workshop_src, "tz", json_integer(1), PJ_ERR_INVALID,
                   "field 'tz': must be a string");
    /* top level must be an object */
    json_t *arr = load("[1, 2]");
    from_obj(W, arr, PJ_ERR_INVALID, "must be a JSON object");
    json_decref(arr);
    from_obj(W, NULL, PJ_ERR_INVALID, "must be a JSON object");
    from_obj(LERNET__KIND__KIND_CANCEL, NULL, PJ_ERR_INVALID, "no JSON form");
}

static void test_refuse_times(void **state)
{
    (void)state;
    const int W = LERNET__KIND__KIND_WORKSHOP;
    expect_refused(W, workshop_src, "start", json_string("2026-03-29T02:30"), PJ_ERR_INVALID,
                   "field 'start': 2026-03-29T02:30 does not exist in Europe/Stockholm");
    expect_refused(W, workshop_src, "end", json_string("2026-02-30T10:00"), PJ_ERR_INVALID,
                   "field 'end': 2026-02-30T10:00 is not a valid date");
    expect_refused(W, workshop_src, "start", json_string("2026-12-03T09:00 please"),
                   PJ_ERR_INVALID, "field 'start'");
    expect_refused(W, workshop_src, "start", NULL, PJ_ERR_INVALID, "field 'start' is required");
    expect_refused(LERNET__KIND__KIND_MEETING, meeting_src, "end", NULL, PJ_ERR_INVALID,
                   "field 'end' is required");
    /* the rules of event_check_payload apply too */
    expect_refused(W, workshop_src, "end", json_string("2026-12-03T08:00"), EV_BAD_TIME,
                   "field 'end' must be after 'start'");
}

static void test_refuse_experience(void **state)
{
    (void)state;
    const int E = LERNET__KIND__KIND_EXPERIENCE;
    char bad[80];
    snprintf(bad, sizeof bad, "%.63sg", ABOUT_HEX);
    expect_refused(E, experience_src, "about", json_string(bad), PJ_ERR_INVALID,
                   "field 'about': character 64 is not a hex digit");
    expect_refused(E, experience_src, "about", json_string("0011"), PJ_ERR_INVALID,
                   "field 'about': must be an event id of 64 hex digits");
    expect_refused(E, experience_src, "about", json_integer(17), PJ_ERR_INVALID,
                   "field 'about'");
    expect_refused(E, experience_src, "about", NULL, EV_MISSING_FIELD, "field 'about'");
    expect_refused(E, experience_src, "participants", load("{\"teachers\": -3}"),
                   PJ_ERR_INVALID, "field 'participants.teachers': must be an integer");
    expect_refused(E, experience_src, "participants", load("{\"teachers\": 1000001}"),
                   PJ_ERR_INVALID, "field 'participants.teachers'");
    expect_refused(E, experience_src, "participants", load("{\"teachers\": \"12\"}"),
                   PJ_ERR_INVALID, "field 'participants.teachers'");
    expect_refused(E, experience_src, "participants", load("[12]"), PJ_ERR_INVALID,
                   "field 'participants': must be an object");
    expect_refused(E, experience_src, "start", json_string("2026-12-03T09:00Z"),
                   PJ_ERR_INVALID, "field 'start': unknown for an experience report");
}

static void test_refuse_by_event_rules(void **state)
{
    (void)state;
    const int W = LERNET__KIND__KIND_WORKSHOP;
    expect_refused(W, workshop_src, "title", NULL, EV_MISSING_FIELD, "field 'title'");
    expect_refused(W, workshop_src, "title", json_object(), EV_MISSING_FIELD, "field 'title'");
    expect_refused(W, workshop_src, "title", load("{\"sv\": \"\"}"), EV_MISSING_FIELD,
                   "field 'title[0]'");
    expect_refused(W, workshop_src, "title", load("{\"swedish\": \"Hej\"}"), EV_BAD_LANG,
                   "field 'title[0].lang'");
    expect_refused(W, workshop_src, "organiser", NULL, EV_MISSING_FIELD, "field 'organiser'");
    expect_refused(W, workshop_src, "online_url", json_string("ftp://x"), EV_BAD_URL,
                   "field 'online_url'");
    expect_refused(W, workshop_src, "themes", load("[\"\"]"), EV_MISSING_FIELD,
                   "field 'themes[0]'");
}

static void test_refuse_bounds(void **state)
{
    (void)state;
    const int W = LERNET__KIND__KIND_WORKSHOP;
    json_t *langs = json_object(), *tags = json_array(), *roles = json_object();
    char key[8];
    for (int i = 0; i < EVENT_MAX_LANGS + 1; i++) {
        snprintf(key, sizeof key, "x%c", 'a' + i);
        json_object_set_new(langs, key, json_string("text"));
    }
    for (int i = 0; i < EVENT_MAX_TAGS + 1; i++)
        json_array_append_new(tags, json_string("tag"));
    for (int i = 0; i < EVENT_MAX_TAGS + 1; i++) {
        snprintf(key, sizeof key, "r%d", i);
        json_object_set_new(roles, key, json_integer(1));
    }
    expect_refused(W, workshop_src, "title", langs, PJ_ERR_INVALID,
                   "field 'title' has 9 languages, at most 8");
    expect_refused(W, workshop_src, "roles", tags, PJ_ERR_INVALID,
                   "field 'roles' has 33 entries, at most 32");
    expect_refused(LERNET__KIND__KIND_EXPERIENCE, experience_src, "participants", roles,
                   PJ_ERR_INVALID, "field 'participants' has 33 roles");
    /* a title over the byte limit: event_check_payload's bound */
    char *big = malloc(EVENT_MAX_TITLE + 2);
    memset(big, 'a', EVENT_MAX_TITLE + 1);
    big[EVENT_MAX_TITLE + 1] = '\0';
    json_t *t = json_object();
    json_object_set_new(t, "sv", json_string(big));
    free(big);
    expect_refused(W, workshop_src, "title", t, EV_FIELD_TOO_LONG, "field 'title[0]'");
}

/* "\u0000" is legal JSON; C strings would silently cut the text there. */
static void test_refuse_nul(void **state)
{
    (void)state;
    const int W = LERNET__KIND__KIND_WORKSHOP;
    expect_refused(W, workshop_src, "title", load("{\"sv\": \"Hej\\u0000då\"}"),
                   PJ_ERR_INVALID, "field 'title.sv': must not contain a NUL character");
    expect_refused(W, workshop_src, "place", json_stringn("Kalmar\0x", 8), PJ_ERR_INVALID,
                   "field 'place': must not contain a NUL");
    expect_refused(W, workshop_src, "themes", load("[\"a\\u0000b\"]"), PJ_ERR_INVALID,
                   "field 'themes[0]'");
    expect_refused(W, workshop_src, "start", json_stringn("2026-12-03T09:00\0Z", 17),
                   PJ_ERR_INVALID, "field 'start'");
    /* a NUL inside a key */
    json_t *j = load(workshop_src);
    json_object_setn_new(j, "tz\0x", 4, json_string("UTC"));
    from_obj(W, j, PJ_ERR_INVALID, "NUL");
    json_decref(j);
    /* the parser refuses those in keys, but the API makes them */
    json_t *t = json_object();
    json_object_setn_new(t, "sv\0x", 4, json_string("Hej"));
    expect_refused(W, workshop_src, "title", t, PJ_ERR_INVALID,
                   "field 'title': a key contains a NUL");
    /* control characters in an unknown key do not break the line */
    expect_refused(W, workshop_src, "evil\nkey", json_true(), PJ_ERR_INVALID,
                   "field 'evil?key': unknown");
}

/* ---- language choice ---------------------------------------------------- */

static void test_text_pick(void **state)
{
    (void)state;
    Lernet__Text sv = LERNET__TEXT__INIT, en = LERNET__TEXT__INIT, da = LERNET__TEXT__INIT,
                 fi_sv = LERNET__TEXT__INIT;
    sv.lang = "sv";
    sv.text = "Lärande";
    en.lang = "en";
    en.text = "Learning";
    da.lang = "DA";
    da.text = "Læring";
    fi_sv.lang = "sv-FI";
    fi_sv.text = "Lärande i Finland";
    Lernet__Text *texts[] = {&sv, &en, &da};
    Lernet__Text *fin[] = {&en, &fi_sv};
    assert_null(payload_text_pick(texts, 0, "sv"));
    assert_string_equal(payload_text_pick(texts, 3, "en,sv"), "Learning");
    assert_string_equal(payload_text_pick(texts, 3, "sv,en"), "Lärande");
    assert_string_equal(payload_text_pick(texts, 3, "de, da"), "Læring"); /* case, spaces */
    assert_string_equal(payload_text_pick(texts, 3, "EN"), "Learning");
    /* sv-FI falls back to sv, before any later preference */
    assert_string_equal(payload_text_pick(texts, 3, "sv-FI,en"), "Lärande");
    assert_string_equal(payload_text_pick(fin, 2, "sv,en"), "Lärande i Finland");
    assert_string_equal(payload_text_pick(fin, 2, "sv-fi"), "Lärande i Finland");
    /* exact match before primary-subtag match */
    Lernet__Text *both[] = {&fi_sv, &sv};
    assert_string_equal(payload_text_pick(both, 2, "sv"), "Lärande");
    /* nothing matches: the first text */
    assert_string_equal(payload_text_pick(texts, 3, "fi,de"), "Lärande");
    assert_string_equal(payload_text_pick(texts, 3, ""), "Lärande");
    assert_string_equal(payload_text_pick(texts, 3, NULL), "Lärande");
    assert_string_equal(payload_text_pick(texts, 3, ",,-,"), "Lärande");
}

/* "ROLE=COUNT", as typed on the CLI and in the web form's lines. */
static void count_bad(json_t *o, const char *spec, const char *needle)
{
    char why[256] = "";
    assert_int_equal(payload_count_add(o, spec, strlen(spec), why, sizeof why), PJ_ERR_INVALID);
    if (!strstr(why, needle))
        fail_msg("'%s': want '%s' in '%s'", spec, needle, why);
}

static void test_participant_counts(void **state)
{
    (void)state;
    json_t *o = json_object();
    char why[256], zeros[300], role[400];
    const char *spaced = "  company representatives = 7 ";
    assert_int_equal(payload_count_add(o, "lärare=12", strlen("lärare=12"), why, sizeof why),
                     PJ_OK);
    assert_int_equal(payload_count_add(o, spaced, strlen(spaced), why, sizeof why), PJ_OK);
    assert_int_equal(payload_count_add(o, "students=3\nrest", 10, why, sizeof why), PJ_OK);
    assert_int_equal(json_integer_value(json_object_get(o, "lärare")), 12);
    assert_int_equal(json_integer_value(json_object_get(o, "company representatives")), 7);
    assert_int_equal(json_integer_value(json_object_get(o, "students")), 3);
    count_bad(o, "lärare=5", "given twice");
    count_bad(o, "teachers", "write ROLE=COUNT");
    count_bad(o, "=5", "write ROLE=COUNT");
    count_bad(o, "teachers=", "write ROLE=COUNT");
    count_bad(o, "teachers=-1", "whole number from 0 to 1000000");
    count_bad(o, "teachers=1000001", "whole number from 0 to 1000000");
    count_bad(o, "teachers=12x", "whole number");
    /* a long count is refused, not cut to its first digits */
    memset(zeros, '0', sizeof zeros - 3);
    snprintf(zeros + sizeof zeros - 3, 3, "42");
    snprintf(role, sizeof role, "teachers=%s", zeros);
    count_bad(o, role, "whole number");
    memset(role, 'a', 301);
    snprintf(role + 301, sizeof role - 301, "=4");
    count_bad(o, role, "longer than 300 bytes");
    assert_int_equal(json_object_size(o), 3);
    json_decref(o);
}

/* Every content kind of the table has a sample that is valid content of
 * its kind (the "about" of a report, a prefix for the CLI to resolve,
 * replaced by a full id), and its names find its row again. */
static void test_kind_table_samples(void **state)
{
    (void)state;
    const payload_kind_t *k;
    size_t n = 0;
    for (size_t i = 0; (k = payload_kind_at(i)); i++, n++) {
        json_error_t e;
        char why[256] = "";
        Lernet__Payload *p = NULL;
        if (!k->sample)
            fail_msg("content kind %s has no sample", k->name);
        json_t *o = json_loads(k->sample, JSON_REJECT_DUPLICATES, &e);
        if (!json_is_object(o))
            fail_msg("the sample of %s is not a JSON object: %s", k->name, e.text);
        assert_int_equal(!!json_object_get(o, "about"),
                         !!(k->ops & (PAYLOAD_KIND_ABOUT | PAYLOAD_KIND_ANSWERS |
                                      PAYLOAD_KIND_RESULTS)));
        assert_int_equal(!!json_object_get(o, "questionnaire"), !!(k->ops & PAYLOAD_KIND_RESULTS));
        if (json_object_get(o, "about"))
            json_object_set_new(o, "about", json_string(ABOUT_HEX));
        if (json_object_get(o, "questionnaire"))
            json_object_set_new(o, "questionnaire", json_string(ABOUT_HEX));
        if (payload_from_json(&p, k->kind, o, why, sizeof why) != PJ_OK)
            fail_msg("the sample of %s is refused: %s", k->name, why);
        lernet__payload__free_unpacked(p, NULL);
        json_decref(o);
        assert_ptr_equal(payload_kind_named(k->name), k);
        assert_ptr_equal(payload_kind_named(k->plural), k);
        assert_ptr_equal(payload_kind_of(k->kind), k);
        assert_string_equal(event_kind_name(k->kind), k->name);
    }
    assert_true(n >= 3);
    assert_null(payload_kind_named("poem"));
    assert_null(payload_kind_of(LERNET__KIND__KIND_UPDATE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workshop_swedish),
        cmocka_unit_test(test_meeting_danish),
        cmocka_unit_test(test_experience_german),
        cmocka_unit_test(test_workshop_defaults),
        cmocka_unit_test(test_round_trip_workshop),
        cmocka_unit_test(test_round_trip_meeting_experience),
        cmocka_unit_test(test_round_trip_testutil),
        cmocka_unit_test(test_local_keys),
        cmocka_unit_test(test_refuse_keys_and_types),
        cmocka_unit_test(test_refuse_times),
        cmocka_unit_test(test_refuse_experience),
        cmocka_unit_test(test_refuse_by_event_rules),
        cmocka_unit_test(test_refuse_bounds),
        cmocka_unit_test(test_participant_counts),
        cmocka_unit_test(test_kind_table_samples),
        cmocka_unit_test(test_refuse_nul),
        cmocka_unit_test(test_text_pick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
