/* programme: see programme.h. */
#include "export/programme.h"

#include <stdlib.h>
#include <string.h>

#include "core/payload_json.h"
#include "export/report.h"
#include "util/time.h"

/* ---- goals ------------------------------------------------------------ */

static int feed(void *ctx, const store_item_t *it)
{
    return report_add(ctx, it) != 0;
}

static json_int_t row_int(const json_t *row, const char *key)
{
    return json_integer_value(json_object_get(row, key));
}

/* What the report counts for g in its network and period: 0, or -1 on
 * failure (*actual untouched). */
static int goal_actual(store_t *st, const store_item_t *it, uint64_t *actual)
{
    const Lernet__Goal *g = it->goal;
    int64_t from, to;
    if (civil_day_parse(g->from, &from, 0) != 0 || civil_day_parse(g->to, &to, 1) != 0)
        return -1; /* event_check_payload allows no other days */
    int by_role = g->measure == LERNET__MEASURE__MEASURE_PARTICIPANTS && g->n_roles;
    report_t *r = NULL;
    json_t *rows = NULL;
    store_query_t q = {.network = it->network};
    if (report_new(&r, by_role ? REPORT_BY_ROLE : REPORT_BY_ORG, from, to) != 0) {
        report_free(&r);
        return -1;
    }
    report_only_themes(r, g->themes, g->n_themes);
    int rc = store_items(st, &q, feed, r) != 0 || !(rows = report_json(r)) ? -1 : 0;
    report_free(&r);
    if (rc)
        return -1;
    const json_t *total = json_array_get(rows, json_array_size(rows) - 1), *row;
    uint64_t n = 0;
    size_t i;
    switch (g->measure) {
    case LERNET__MEASURE__MEASURE_PARTICIPANTS:
        if (!by_role) {
            n = (uint64_t)row_int(total, "participants");
            break;
        }
        json_array_foreach(rows, i, row) {
            const char *key = json_string_value(json_object_get(row, "key"));
            for (size_t k = 0; key && i + 1 < json_array_size(rows) && k < g->n_roles; k++)
                if (strcmp(key, g->roles[k]) == 0)
                    n += (uint64_t)row_int(row, "participants");
        }
        break;
    case LERNET__MEASURE__MEASURE_ORGANISATIONS:
        n = (uint64_t)row_int(total, "organisations");
        break;
    default: /* events: held, not cancelled */
        n = (uint64_t)(row_int(total, "workshops") + row_int(total, "meetings"));
        break;
    }
    json_decref(rows);
    *actual = n;
    return 0;
}

static json_t *strings(char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *texts(Lernet__Text **t, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, t[i]->lang, json_string(t[i]->text));
    return o;
}

json_t *programme_goal_json(store_t *st, const store_item_t *it, const char *langs)
{
    const Lernet__Goal *g = it->goal;
    char id[EVENT_ID_HEX_SIZE];
    uint64_t actual = 0;
    if (!g || goal_actual(st, it, &actual) != 0)
        return NULL;
    event_id_hex(id, it->id);
    uint64_t remaining = actual >= g->target ? 0 : g->target - actual;
    /* a share to four places, in integers: exact for the same counts */
    double share = (double)(actual * 10000 / g->target) / 10000.0;
    const char *title = payload_text_pick(g->title, g->n_title, langs);
    return json_pack("{s:s,s:s,s:s,s:o,s:s,s:o,s:o,s:s,s:s,s:I,s:I,s:f,s:I,s:b}", "id", id,
                     "network", it->network, "title", title ? title : "", "titles",
                     texts(g->title, g->n_title), "measure",
                     payload_measure_name((int)g->measure), "roles",
                     strings(g->roles, g->n_roles), "themes", strings(g->themes, g->n_themes),
                     "from", g->from, "to", g->to, "target", (json_int_t)g->target, "actual",
                     (json_int_t)actual, "share", share, "remaining", (json_int_t)remaining,
                     "reached", actual >= g->target);
}

typedef struct goals_ctx {
    store_t *st;
    const char *langs;
    json_t *arr;
    int failed;
} goals_ctx_t;

static int take_goal(void *vctx, const store_item_t *it)
{
    goals_ctx_t *c = vctx;
    if (!it->goal || it->erased || it->unauthorised)
        return 0; /* a member's goal in a managed network counts nowhere */
    if (json_array_size(c->arr) >= PROGRAMME_MAX_GOALS)
        return 1;
    json_t *o = programme_goal_json(c->st, it, c->langs);
    if (!o || json_array_append_new(c->arr, o) != 0) {
        c->failed = 1;
        return 1;
    }
    return 0;
}

json_t *programme_goals(store_t *st, const char *network, const char *langs)
{
    goals_ctx_t c = {st, langs, json_array(), 0};
    store_query_t q = {.kind = LERNET__KIND__KIND_GOAL, .network = network};
    if (!c.arr)
        return NULL;
    int rc = store_items(st, &q, take_goal, &c);
    if (c.failed || (rc != 0 && json_array_size(c.arr) < PROGRAMME_MAX_GOALS)) {
        json_decref(c.arr);
        return NULL;
    }
    return c.arr;
}

/* A list of strings as one CSV field: "teachers; company representatives". */
static void csv_list(const json_t *arr, FILE *f)
{
    char buf[4096];
    size_t n = 0, i;
    const json_t *v;
    buf[0] = '\0';
    json_array_foreach(arr, i, v)
        if (n < sizeof buf)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "; " : "",
                                  json_string_value(v));
    report_csv_field(f, buf);
}

void programme_goals_csv(const json_t *goals, FILE *f)
{
    const json_t *g;
    size_t i;
    fputs(PROGRAMME_GOAL_COLUMNS "\n", f);
    json_array_foreach(goals, i, g) {
        fprintf(f, "%s,", json_string_value(json_object_get(g, "id")));
        report_csv_field(f, json_string_value(json_object_get(g, "title")));
        fprintf(f, ",%s,", json_string_value(json_object_get(g, "measure")));
        csv_list(json_object_get(g, "roles"), f);
        fputc(',', f);
        csv_list(json_object_get(g, "themes"), f);
        fprintf(f, ",%s,%s,%lld,%lld,%.4f,%lld\n", json_string_value(json_object_get(g, "from")),
                json_string_value(json_object_get(g, "to")),
                json_integer_value(json_object_get(g, "target")),
                json_integer_value(json_object_get(g, "actual")),
                json_real_value(json_object_get(g, "share")),
                json_integer_value(json_object_get(g, "remaining")));
    }
}

/* ---- feedback --------------------------------------------------------- */

typedef struct fb_ctx {
    const store_item_t *fb;
    const char *langs;
    json_t *out; /* the feedback's object being filled */
    int ok;
} fb_ctx_t;

/* The workshop or meeting the feedback is about: its title and start. */
static int take_activity(void *vctx, const store_item_t *it)
{
    fb_ctx_t *c = vctx;
    const Lernet__Workshop *w = it->workshop;
    const Lernet__Meeting *m = it->meeting;
    char start[64];
    if (it->erased || (!w && !m) || strcmp(it->network, c->fb->network) != 0)
        return 0;
    const char *title = w ? payload_text_pick(w->title, w->n_title, c->langs)
                          : payload_text_pick(m->title, m->n_title, c->langs);
    civil_format(it->start, w ? w->tz : m->tz, start, sizeof start);
    json_object_set_new(c->out, "activity", json_string(title ? title : ""));
    json_object_set_new(c->out, "activity_start", json_string(start));
    c->ok = 1;
    return 0;
}

static json_t *question_json(const Lernet__Question *q, const Lernet__Histogram *h,
                             uint64_t total, const char *langs)
{
    json_t *counts = json_array(), *labels = json_object();
    uint64_t sum = 0;
    char key[16];
    for (size_t i = 0; i < h->n_counts; i++) {
        json_array_append_new(counts, json_integer((json_int_t)h->counts[i]));
        sum += (uint64_t)(q->min + i) * h->counts[i];
    }
    for (size_t i = 0; i < q->n_labels; i++) {
        const char *t = payload_text_pick(q->labels[i]->text, q->labels[i]->n_text, langs);
        snprintf(key, sizeof key, "%u", q->labels[i]->value);
        json_object_set_new(labels, key, json_string(t ? t : ""));
    }
    const char *text = payload_text_pick(q->text, q->n_text, langs);
    /* two places, rounded half up, in integers: the same on every node */
    double mean = (double)((sum * 200 + total) / (2 * total)) / 100.0;
    return json_pack("{s:s,s:I,s:I,s:o,s:f,s:o}", "text", text ? text : "", "min",
                     (json_int_t)q->min, "max", (json_int_t)q->max, "counts", counts, "mean",
                     mean, "labels", labels);
}

/* The questionnaire: a counted one of the same network whose scales the
 * results fit; then the questions with their results. */
static int take_questionnaire(void *vctx, const store_item_t *it)
{
    fb_ctx_t *c = vctx;
    const Lernet__Questionnaire *q = it->questionnaire;
    const Lernet__Feedback *f = c->fb->feedback;
    uint64_t total = 0;
    if (!q || it->erased || it->unauthorised || strcmp(it->network, c->fb->network) != 0 ||
        q->n_questions != f->n_results)
        return 0;
    for (size_t i = 0; i < q->n_questions; i++)
        if (f->results[i]->n_counts != q->questions[i]->max - q->questions[i]->min + 1)
            return 0;
    for (size_t i = 0; i < f->n_respondents; i++)
        total += f->respondents[i]->count;
    if (total < EVENT_MIN_RESPONDENTS)
        return 0;
    json_t *qs = json_array();
    for (size_t i = 0; i < q->n_questions; i++)
        json_array_append_new(qs, question_json(q->questions[i], f->results[i], total, c->langs));
    const char *title = payload_text_pick(q->title, q->n_title, c->langs);
    json_object_set_new(c->out, "questionnaire_title", json_string(title ? title : ""));
    json_object_set_new(c->out, "questions", qs);
    json_object_set_new(c->out, "respondents", json_integer((json_int_t)total));
    c->ok = 1;
    return 0;
}

json_t *programme_feedback_json(store_t *st, const store_item_t *it, const char *langs)
{
    const Lernet__Feedback *f = it->feedback;
    char id[EVENT_ID_HEX_SIZE], about[EVENT_ID_HEX_SIZE], qid[EVENT_ID_HEX_SIZE];
    if (!f || it->erased || it->unauthorised || f->questionnaire.len != EVENT_ID_BYTES)
        return NULL;
    event_id_hex(id, it->id);
    event_id_hex(about, f->about.data);
    event_id_hex(qid, f->questionnaire.data);
    json_t *by_role = json_object();
    for (size_t i = 0; by_role && i < f->n_respondents; i++)
        json_object_set_new(by_role, f->respondents[i]->role,
                            json_integer((json_int_t)f->respondents[i]->count));
    const char *title = payload_text_pick(f->title, f->n_title, langs);
    fb_ctx_t c = {it, langs, json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "id", id, "network",
                                       it->network, "about", about, "questionnaire", qid,
                                       "title", title ? title : "", "respondents_by_role",
                                       by_role),
                  0};
    if (!c.out)
        return NULL;
    if (store_item(st, about, take_activity, &c, NULL, 0) != STORE_OK || !c.ok ||
        (c.ok = 0, store_item(st, qid, take_questionnaire, &c, NULL, 0) != STORE_OK) || !c.ok) {
        json_decref(c.out);
        return NULL; /* not all of it is here, or not what it claims: shown nowhere */
    }
    return c.out;
}

typedef struct fbs_ctx {
    store_t *st;
    const char *langs;
    json_t *arr;
} fbs_ctx_t;

static int take_feedback(void *vctx, const store_item_t *it)
{
    fbs_ctx_t *c = vctx;
    if (json_array_size(c->arr) >= PROGRAMME_MAX_FEEDBACK)
        return 1;
    json_t *o = programme_feedback_json(c->st, it, c->langs);
    if (o)
        json_array_append_new(c->arr, o);
    return 0;
}

json_t *programme_feedback(store_t *st, const char *network, const uint8_t *about,
                           const char *langs)
{
    fbs_ctx_t c = {st, langs, json_array()};
    store_query_t q = {.kind = LERNET__KIND__KIND_FEEDBACK, .network = network, .about = about};
    if (!c.arr)
        return NULL;
    int rc = store_items(st, &q, take_feedback, &c);
    if (rc != 0 && json_array_size(c.arr) < PROGRAMME_MAX_FEEDBACK) {
        json_decref(c.arr);
        return NULL;
    }
    return c.arr;
}

void programme_feedback_csv(const json_t *items, FILE *f)
{
    const json_t *it, *q, *v;
    size_t i, j, k;
    fputs(PROGRAMME_FEEDBACK_COLUMNS "\n", f);
    json_array_foreach(items, i, it) {
        json_array_foreach(json_object_get(it, "questions"), j, q) {
            fprintf(f, "%s,", json_string_value(json_object_get(it, "id")));
            report_csv_field(f, json_string_value(json_object_get(it, "activity")));
            fprintf(f, ",%s,", json_string_value(json_object_get(it, "about")));
            report_csv_field(f, json_string_value(json_object_get(it, "questionnaire_title")));
            fprintf(f, ",%lld,%zu,", json_integer_value(json_object_get(it, "respondents")),
                    j + 1);
            report_csv_field(f, json_string_value(json_object_get(q, "text")));
            fprintf(f, ",%lld,%lld,%.2f,", json_integer_value(json_object_get(q, "min")),
                    json_integer_value(json_object_get(q, "max")),
                    json_real_value(json_object_get(q, "mean")));
            json_array_foreach(json_object_get(q, "counts"), k, v)
                fprintf(f, "%s%lld", k ? ";" : "", json_integer_value(v));
            fputc('\n', f);
        }
    }
}
