/*
 * test_programme: goals and feedback (issue 19) with real daemons.
 *
 *  - Three daemons in a line, A – B – C, in a managed network A
 *    coordinates. B, a member, may not publish a goal or a questionnaire
 *    (one-line reason, nothing signed). A publishes four goals modelled on
 *    DOMAIN.md's project ("180 persons in competence activities towards
 *    working life", "75 company representatives", "11 organisations",
 *    "30 workshops in workplace learning"); B and C publish workshops on
 *    the period's edges (the first minute of the first day and the last
 *    hour of the last day in, a minute before and the day after out) and
 *    experience reports with role counts; C, hearing A only through B,
 *    shows each goal's exact progress: role restriction, theme
 *    restriction, a cancelled workshop not held, organisations organising
 *    or reporting, events outside the period and reports about them left
 *    out.
 *  - Feedback: B's feedback on its workshop against A's questionnaire,
 *    refused with 4 respondents and with a histogram that does not sum to
 *    the respondents, published with 14; C (not the organiser) is refused;
 *    C shows B's results (counts, means) in report --feedback and under the
 *    workshop in show --json.
 *  - A lying partner signs feedback of 3 respondents, and feedback whose
 *    histogram does not add up, and pushes them: the daemon refuses both
 *    (too_few_respondents, histogram_mismatch) and shows neither; the
 *    honest one after them is shown.
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

#include "core/payload_json.h"
#include "harness/harness.h"
#include "harness/harness_liar.h"
#include "harness/testutil.h"

#define NET "wbl-programme"

static void printed_id(const char *out, char id[65])
{
    const char *p = out ? strstr(out, "published ") : NULL;
    if (!p || sscanf(p, "published %64[0-9a-f]", id) != 1)
        fail_msg("no id in: %s", out ? out : "(nothing)");
}

/* `lernet ARGS` on n; the new item's id into id (exit 0 required). */
static void pub(const hnode_t *n, char id[65], const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pub(const hnode_t *n, char id[65], const char *fmt, ...)
{
    char args[2048], *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    int rc = h_lernet(n, &out, "%s", args);
    if (rc != 0)
        fail_msg("lernet %s: exit %d: %s", args, rc, out ? out : "");
    printed_id(out, id);
    free(out);
}

/* `lernet ARGS` on n with stderr and the exit code in the output. */
static char *both_of(const hnode_t *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *both_of(const hnode_t *n, const char *fmt, ...)
{
    char args[2048], cmd[2600], *out = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s --home '%s' %s 2>&1; echo \"exit=$?\"", h_bin(), n->home,
             args);
    tu_run(cmd, &out);
    return out;
}

static void want_refused(char *out, const char *needle)
{
    if (!out || !strstr(out, "exit=1\n") || !strstr(out, needle))
        fail_msg("want a refusal naming '%s' (exit 1), got: %s", needle, out ? out : "");
    free(out);
}

static long events_of(const hnode_t *n)
{
    char *out = NULL;
    long lines = 0;
    if (h_lernet(n, &out, "log --json") == 0 && out)
        for (const char *p = out; *p; p++)
            lines += *p == '\n';
    free(out);
    return lines;
}

static json_t *json_of(const hnode_t *n, const char *args)
{
    char *out = NULL;
    json_t *j = NULL;
    if (h_lernet(n, &out, "%s", args) == 0 && out)
        j = json_loads(out, 0, NULL);
    free(out);
    return j;
}

static json_t *find(const json_t *arr, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        const char *v = json_string_value(json_object_get(o, "id"));
        if (v && strcmp(v, id) == 0)
            return o;
    }
    return NULL;
}

static void trust(const hnode_t *n, const hnode_t *coord)
{
    char path[600];
    snprintf(path, sizeof path, "%s/lernet.ini", n->home);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fprintf(f, "\n[network \"%s\"]\ncoordinators = %s\n", NET, coord->pub);
    fclose(f);
}

/* What C must show: each goal's actual value. */
typedef struct want_goals {
    const hnode_t *n;
    const char (*ids)[65];
    const long *actual;
    size_t count;
} want_goals_t;

static int goals_are(void *ctx)
{
    want_goals_t *w = ctx;
    json_t *g = json_of(w->n, "report --goals --format json");
    int ok = json_array_size(g) == w->count;
    for (size_t i = 0; ok && i < w->count; i++) {
        json_t *o = find(g, w->ids[i]);
        ok = o && json_integer_value(json_object_get(o, "actual")) == w->actual[i];
    }
    json_decref(g);
    return ok;
}

typedef struct holds {
    const hnode_t *n;
    const char *id;
} holds_t;

static int holds(void *ctx)
{
    holds_t *h = ctx;
    char args[100];
    snprintf(args, sizeof args, "show %s --json", h->id);
    json_t *j = json_of(h->n, args);
    json_decref(j);
    return j != NULL;
}

/* A workshop of two hours from start, a time in Stockholm (the period's days
 * are each event's local days, the rule of every export) */
#define WS(title, theme, start, end)                                                            \
    "publish workshop --network " NET " --title 'sv:" title "' --theme '" theme "'"             \
    " --start " start " --end " end " --tz Europe/Stockholm --place 'Storgatan 1'"

static void test_goals_and_feedback_across_three_daemons(void **state)
{
    (void)state;
    hnode_t A, B, C;
    char path[700], *out = NULL;
    assert_int_equal(h_node_init(&A, "Region Örebro län", "SE", NET), 0);
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&C, "OWL Lernregion", "DE", NET), 0);
    h_link(&A, &B, NET);
    h_link(&B, &C, NET);
    hnode_t *all[] = {&A, &B, &C};
    for (int i = 0; i < 3; i++)
        assert_int_equal(h_node_write_config(all[i]), 0);
    assert_int_equal(h_lernet(&A, &out, "network create %s", NET), 0);
    free(out);
    trust(&B, &A);
    trust(&C, &A);
    free(h_invite(&A, &B, NET, "Roskilde Handelsskole"));
    free(h_invite(&A, &C, NET, "OWL Lernregion"));
    snprintf(path, sizeof path, "%s/members.bundle", A.home);
    assert_int_equal(h_lernet(&A, NULL, "export bundle '%s'", path), 0);
    assert_int_equal(h_lernet(&B, NULL, "import bundle '%s'", path), 0);
    assert_int_equal(h_lernet(&C, NULL, "import bundle '%s'", path), 0);

    /* a member is no coordinator: refused, nothing signed */
    long before = events_of(&B);
    want_refused(both_of(&B, "publish goal --network %s --title 'en:Ours' --measure events "
                             "--target 3 --from 2027-01-01 --to 2027-12-31", NET),
                 "only a coordinator of 'wbl-programme' may publish a goal");
    want_refused(both_of(&B, "publish questionnaire --network %s --title 'en:Ours' "
                             "--question 'en:Good?'", NET),
                 "only a coordinator of 'wbl-programme' may publish a questionnaire");
    assert_int_equal(events_of(&B), before);

    for (int i = 0; i < 3; i++)
        assert_int_equal(h_node_start(all[i]), 0);
    assert_true(h_wait(h_partners_up, &B, H_DEADLINE_MS));

    /* A's goals for 2027 (the fourth for its first half) */
    char g[4][65], q[65], w[7][65], x[65], m[65];
    pub(&A, g[0], "publish goal --network %s --title 'sv:180 personer i kompetensinsatser mot "
                  "arbetslivet' --title 'en:180 persons in competence activities towards "
                  "working life' --measure participants --theme 'competence towards working "
                  "life' --target 180 --from 2027-01-01 --to 2027-12-31", NET);
    pub(&A, g[1], "publish goal --network %s --title 'en:75 company representatives' "
                  "--measure participants --role 'company representatives' --target 75 "
                  "--from 2027-01-01 --to 2027-12-31", NET);
    pub(&A, g[2], "publish goal --network %s --title 'en:11 organisations improved their "
                  "relations with companies' --measure organisations --target 11 "
                  "--from 2027-01-01 --to 2027-12-31", NET);
    pub(&A, g[3], "publish goal --network %s --title 'en:30 thematic workshops' --measure "
                  "events --theme 'workplace learning' --target 30 --from 2027-01-01 "
                  "--to 2027-06-30", NET);
    pub(&A, m, "publish meeting --network %s --title 'sv:Nätverksmöte' --start 2027-05-05T09:00 "
               "--end 2027-05-05T12:00 --place Örebro", NET);
    pub(&A, q, "publish questionnaire --network %s --title 'sv:Deltagarnas utvärdering' "
               "--title 'en:Participants evaluation' --question 'sv:Hur nöjd är du?' "
               "--question 'en:How satisfied are you?' --question 'sv:Kan du använda det?' "
               "--question 'en:Can you use it?' --scale 1-5 --label '1=en:Not at all' "
               "--label '5=en:Very much'", NET);
    /* B's and C's workshops: on the edges of the period, in and out */
    pub(&B, w[0], WS("Kompetens mot arbetslivet", "competence towards working life",
                     "2027-01-01T00:00+01:00", "2027-01-01T02:00+01:00"));
    pub(&B, w[1], WS("Före perioden", "competence towards working life", "2026-12-31T21:59+01:00",
                     "2026-12-31T23:59+01:00"));
    pub(&B, w[2], WS("Sista dagen", "workplace learning", "2027-06-30T22:00+02:00",
                     "2027-06-30T23:59+02:00"));
    pub(&B, w[3], WS("Dagen efter", "workplace learning", "2027-07-01T00:00+02:00", "2027-07-01T02:00+02:00"));
    pub(&C, w[4], WS("Arbeitsplatzlernen", "competence towards working life",
                     "2027-03-10T08:00+01:00", "2027-03-10T10:00+01:00"));
    pub(&C, w[5], WS("Abgesagt", "workplace learning", "2027-03-01T08:00+01:00", "2027-03-01T10:00+01:00"));
    assert_int_equal(h_lernet(&C, NULL, "cancel %s --reason Schneesturm", w[5]), 0);
    /* experience reports with role counts, made on B and on C */
    holds_t hb = {&B, w[4]}, hc = {&C, w[0]};
    assert_true(h_wait(holds, &hb, H_DEADLINE_MS));
    assert_true(h_wait(holds, &hc, H_DEADLINE_MS));
    pub(&B, x, "publish experience --about %s --title 'en:Report' --text 'en:Good.' "
               "--participants teachers=12 --participants 'company representatives=7'", w[0]);
    pub(&B, x, "publish experience --about %s --title 'en:Before' --text 'en:Not counted.' "
               "--participants teachers=50", w[1]);
    pub(&B, x, "publish experience --about %s --title 'en:Last day' --text 'en:Other theme.' "
               "--participants teachers=10", w[2]);
    pub(&C, x, "publish experience --about %s --title 'en:Bericht' --text 'en:Gut.' "
               "--participants 'company representatives=5' --participants students=3", w[0]);
    pub(&C, x, "publish experience --about %s --title 'en:Bericht 2' --text 'en:Gut.' "
               "--participants teachers=20 --participants 'company representatives=3'", w[4]);
    /* goal 1: participants of the theme in 2027: w0 (19 + 8) and w4 (23);
     *         w1 ends at the last minute before the period (local), w2 of another theme
     * goal 2: company representatives in 2027, any theme: 7 + 5 + 3
     * goal 3: organisations organising or reporting in 2027: A, B, C
     * goal 4: workshops of the theme held in the first half: w2 on its last
     *         day; w3 the day after, w5 cancelled */
    const long actual[4] = {50, 15, 3, 1};
    want_goals_t wg = {&C, (const char(*)[65])g, actual, 4};
    if (!h_wait(goals_are, &wg, H_DEADLINE_MS)) {
        char *got = NULL;
        h_lernet(&C, &got, "report --goals --format json");
        fail_msg("C's goal progress is not 50, 15, 3, 1: %s", got ? got : "");
    }
    json_t *goals = json_of(&C, "report --goals --format json");
    json_t *g1 = find(goals, g[0]), *g2 = find(goals, g[1]);
    assert_int_equal(json_integer_value(json_object_get(g1, "target")), 180);
    assert_int_equal(json_integer_value(json_object_get(g1, "remaining")), 130);
    assert_true(json_real_value(json_object_get(g1, "share")) == 0.2777);
    assert_string_equal(json_string_value(json_object_get(g1, "measure")), "participants");
    assert_string_equal(json_string_value(json_object_get(g1, "from")), "2027-01-01");
    assert_string_equal(json_string_value(json_object_get(g1, "to")), "2027-12-31");
    assert_true(json_real_value(json_object_get(g2, "share")) == 0.2);
    assert_int_equal(json_integer_value(json_object_get(find(goals, g[2]), "remaining")), 8);
    json_decref(goals);
    /* the same figures as CSV and as a table */
    assert_int_equal(h_lernet(&C, &out, "report --goals --format csv"), 0);
    assert_non_null(strstr(out, "id,title,measure,roles,themes,from,to,target,actual,share,"
                                "remaining\n"));
    char row[400];
    snprintf(row, sizeof row, "%s,75 company representatives,participants,company "
                              "representatives,,2027-01-01,2027-12-31,75,15,0.2000,60\n", g[1]);
    if (!strstr(out, row))
        fail_msg("no CSV row %s in: %s", row, out);
    free(out);
    assert_int_equal(h_lernet(&C, &out, "report --goals"), 0);
    assert_non_null(strstr(out, "27.8%"));
    free(out);

    /* feedback: the organiser's, aggregates of at least 5 that add up */
    holds_t hq = {&B, q};
    assert_true(h_wait(holds, &hq, H_DEADLINE_MS));
    before = events_of(&B);
    want_refused(both_of(&B, "publish feedback --about %.12s --questionnaire %.12s "
                             "--respondents teachers=4 --result 0,0,1,2,1 --result 0,1,1,1,1",
                         w[0], q),
                 "4 in all; results of fewer than 5 respondents are never shared");
    want_refused(both_of(&B, "publish feedback --about %.12s --questionnaire %.12s "
                             "--respondents teachers=9 --respondents 'company "
                             "representatives=5' --result 0,1,2,6,5 --result 1,0,3,7,2",
                         w[0], q),
                 "its counts sum to 13, the respondents to 14");
    want_refused(both_of(&B, "publish feedback --about %.12s --questionnaire %.12s "
                             "--respondents teachers=9 --respondents 'company "
                             "representatives=5' --result 0,1,2,6,5", w[0], q),
                 "1 histograms; the questionnaire has 2 questions");
    assert_int_equal(events_of(&B), before);
    char fb[65];
    snprintf(path, sizeof path, "%s/results.json", B.home);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"respondents\": {\"teachers\": 9, \"company representatives\": 5},\n"
          " \"results\": [[0, 1, 2, 6, 5], [1, 0, 3, 7, 3]]}\n", f);
    fclose(f);
    pub(&B, fb, "publish feedback --about %.12s --questionnaire %.12s --results '%s'", w[0], q,
        path);
    want_refused(both_of(&C, "publish feedback --about %.12s --questionnaire %.12s --results "
                             "'%s'", w[0], q, path),
                 "only the organiser publishes its feedback");
    holds_t hf = {&C, fb};
    assert_true(h_wait(holds, &hf, H_DEADLINE_MS));
    json_t *r = json_of(&C, "report --feedback --format json");
    json_t *one = find(r, fb);
    assert_int_equal(json_array_size(r), 1);
    assert_non_null(one);
    assert_int_equal(json_integer_value(json_object_get(one, "respondents")), 14);
    assert_string_equal(json_string_value(json_object_get(one, "activity")),
                        "Kompetens mot arbetslivet");
    json_t *qs = json_object_get(one, "questions");
    assert_true(json_real_value(json_object_get(json_array_get(qs, 0), "mean")) == 4.07);
    assert_true(json_real_value(json_object_get(json_array_get(qs, 1), "mean")) == 3.79);
    assert_int_equal(json_integer_value(json_array_get(
                         json_object_get(json_array_get(qs, 1), "counts"), 3)), 7);
    json_decref(r);
    char args[120];
    snprintf(args, sizeof args, "show %s --json", w[0]);
    json_t *s = json_of(&C, args);
    assert_non_null(find(json_object_get(s, "feedback"), fb));
    json_decref(s);
    snprintf(args, sizeof args, "show %s", w[0]);
    assert_int_equal(h_lernet(&C, &out, "%s", args), 0);
    assert_non_null(strstr(out, "1:0 2:1 3:2 4:6 5:5   mean 4.07"));
    free(out);
    for (int i = 0; i < 3; i++)
        h_node_free(all[i]);
}

typedef struct logged {
    const hnode_t *n;
    const char *needle;
} logged_t;

static int has_logged(void *ctx)
{
    logged_t *l = ctx;
    return h_log_contains(l->n, l->needle);
}

/* Feedback with results as JSON, signed raw by k as seq of its log. */
static event_t *raw_feedback(const keys_identity_t *k, uint64_t seq, const event_t *prev,
                             const event_t *about, const event_t *q, const char *people,
                             const char *results)
{
    char text[600], a[EVENT_ID_HEX_SIZE], qh[EVENT_ID_HEX_SIZE];
    event_id_hex(a, about->id);
    event_id_hex(qh, q->id);
    snprintf(text, sizeof text, "{\"about\": \"%s\", \"questionnaire\": \"%s\", "
                                "\"respondents\": %s, \"results\": %s}", a, qh, people, results);
    /* the JSON path checks the rules: the lie is made on its protobuf */
    json_t *o = json_loads(text, 0, NULL);
    assert_non_null(o);
    Lernet__Payload *p = calloc(1, sizeof *p);
    Lernet__Feedback *f = calloc(1, sizeof *f);
    lernet__payload__init(p);
    lernet__feedback__init(f);
    p->body_case = LERNET__PAYLOAD__BODY_FEEDBACK;
    p->feedback = f;
    f->about.data = (uint8_t *)about->id, f->about.len = EVENT_ID_BYTES;
    f->questionnaire.data = (uint8_t *)q->id, f->questionnaire.len = EVENT_ID_BYTES;
    const char *role;
    json_t *v, *arr = json_object_get(o, "results"), *h;
    size_t i, j;
    Lernet__RoleCount rcs[8], *rcp[8];
    Lernet__Histogram hs[8], *hp[8];
    uint32_t counts[8][11];
    json_object_foreach(json_object_get(o, "respondents"), role, v) {
        lernet__role_count__init(&rcs[f->n_respondents]);
        rcs[f->n_respondents].role = (char *)role;
        rcs[f->n_respondents].count = (uint32_t)json_integer_value(v);
        rcp[f->n_respondents] = &rcs[f->n_respondents];
        f->n_respondents++;
    }
    f->respondents = rcp;
    json_array_foreach(arr, i, h) {
        lernet__histogram__init(&hs[i]);
        json_array_foreach(h, j, v)
            counts[i][j] = (uint32_t)json_integer_value(v);
        hs[i].counts = counts[i];
        hs[i].n_counts = json_array_size(h);
        hp[i] = &hs[i];
    }
    f->results = hp;
    f->n_results = json_array_size(arr);
    event_t *ev = liar_sign_raw(k, keys_public(k), NET, seq, prev->id,
                                LERNET__KIND__KIND_FEEDBACK, p);
    free(f);
    free(p);
    json_decref(o);
    assert_non_null(ev);
    return ev;
}

static void test_lying_partner_cannot_show_individual_answers(void **state)
{
    (void)state;
    hnode_t V, L;
    assert_int_equal(h_node_init(&V, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&L, "Liar", "DK", NET), 0);
    h_link(&V, &L, NET);
    assert_int_equal(h_node_write_config(&V), 0);
    assert_int_equal(h_node_start(&V), 0);
    liar_t *liar = NULL;
    assert_int_equal(liar_open(&liar, &L), 0);
    keys_identity_t *k = liar_steal_key(&L, 0);
    assert_non_null(k);
    /* its own workshop and questionnaire (an open network: any member's) */
    event_t *ws = liar_forge(k, NULL, NET, 1, NULL, "Workshop");
    Lernet__Payload *qp = NULL;
    char why[256];
    json_t *qo = json_loads(payload_kind_named("questionnaire")->sample, 0, NULL);
    assert_int_equal(payload_from_json(&qp, LERNET__KIND__KIND_QUESTIONNAIRE, qo, why,
                                       sizeof why), PJ_OK);
    json_decref(qo);
    event_t *qe = NULL;
    assert_int_equal(event_create(&qe, k, NET, 2, ws->id, event_now_ms(), qp, why, sizeof why),
                     EV_OK);
    tu_payload_free(qp);
    event_t *few = raw_feedback(k, 3, qe, ws, qe, "{\"teachers\": 3}",
                                "[[0, 0, 1, 1, 1], [0, 1, 1, 1, 0]]");
    event_t *odd = raw_feedback(k, 3, qe, ws, qe, "{\"teachers\": 9}",
                                "[[0, 0, 1, 1, 1], [0, 1, 1, 1, 6]]");
    event_t *fine = raw_feedback(k, 3, qe, ws, qe, "{\"teachers\": 9}",
                                 "[[0, 0, 1, 4, 4], [0, 1, 1, 1, 6]]");
    assert_int_equal(liar_dial(liar, &V), 0);
    event_t *first[] = {ws, qe, few};
    assert_int_equal(liar_push(liar, first, 3, LIAR_AS_IS), 0);
    logged_t l1 = {&V, "too_few_respondents"};
    assert_true(h_wait(has_logged, &l1, H_DEADLINE_MS));
    assert_int_equal(liar_push(liar, &odd, 1, LIAR_AS_IS), 0);
    logged_t l2 = {&V, "histogram_mismatch"};
    assert_true(h_wait(has_logged, &l2, H_DEADLINE_MS));
    char few_hex[65], odd_hex[65], fine_hex[65], args[100];
    event_id_hex(few_hex, few->id);
    event_id_hex(odd_hex, odd->id);
    event_id_hex(fine_hex, fine->id);
    json_t *r = json_of(&V, "report --feedback --format json");
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);
    snprintf(args, sizeof args, "show %s --json", few_hex);
    assert_null(json_of(&V, args));
    snprintf(args, sizeof args, "show %s --json", odd_hex);
    assert_null(json_of(&V, args));
    /* the honest one after them is taken and shown */
    assert_int_equal(liar_push(liar, &fine, 1, LIAR_AS_IS), 0);
    holds_t hf = {&V, fine_hex};
    assert_true(h_wait(holds, &hf, H_DEADLINE_MS));
    r = json_of(&V, "report --feedback --format json");
    assert_int_equal(json_array_size(r), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "respondents")),
                     9);
    json_decref(r);
    event_free(&ws);
    event_free(&qe);
    event_free(&few);
    event_free(&odd);
    event_free(&fine);
    keys_free(&k);
    liar_close(&liar);
    h_node_free(&V);
    h_node_free(&L);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goals_and_feedback_across_three_daemons),
        cmocka_unit_test(test_lying_partner_cannot_show_individual_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
