/*
 * programme: the networks' goals and the activities' feedback on the web
 * page (see page.h): /goals, the fields of a goal, questionnaire or
 * feedback on /event/ID, the feedback section of a workshop's or meeting's
 * page (with the way to share it, for its organiser) and the questionnaires
 * listed on /goals; their forms are form.c's (/publish/goal,
 * /publish/questionnaire, /publish/feedback). Content from the network is
 * only ever written through html_text. Every text is translated (T, web.h);
 * numbers and shares are written as the page's language writes them
 * (web_int, web_decimal); roles and themes are content, shown as written.
 */
#include "web/page.h"

#include <stdio.h>
#include <string.h>

#include "core/payload_json.h"
#include "export/programme.h"
#include "web/html.h"

static long long jint(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void strings_text(html_t *h, const json_t *arr)
{
    const json_t *v;
    size_t i;
    json_array_foreach(arr, i, v) {
        html_raw(h, i ? ", " : "");
        html_text(h, json_string_value(v));
    }
}

/* What a goal counts (payload_measure_name's words), in the page's language. */
static const char *measure_label(const web_req_t *r, const char *m)
{
    static const char *const names[][2] = {
        {"participants", N_("participants")},
        {"organisations", N_("organisations")},
        {"events", N_("workshops and meetings held")},
    };
    for (size_t i = 0; m && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(m, names[i][0]) == 0)
            return T(r, names[i][1]);
    return m ? m : "";
}

/* A count as the page writes it (into buf, returned). */
static const char *num(const web_req_t *r, long long v, char *buf, size_t n)
{
    return web_int(r, v, buf, n);
}

/* One goal's row of /goals: what it counts, target, reached, share, what
 * remains, and a bar of the share (plain CSS width, no script). */
static void goal_row(html_t *h, const web_req_t *r, const json_t *g)
{
    double share = json_real_value(json_object_get(g, "share"));
    int pct = share >= 1 ? 100 : (int)(share * 100);
    char a[32], b[32], c[32], d[32];
    html_rawf(h, "<tr class=\"goal%s\" data-id=\"", json_is_true(json_object_get(g, "reached"))
                                                          ? " reached" : "");
    html_text(h, jstr(g, "id"));
    html_rawf(h, "\"><td><a href=\"/event/%.64s\"", jstr(g, "id"));
    const char *tl;
    const json_t *t;
    json_object_foreach((json_t *)json_object_get(g, "titles"), tl, t) /* the title's language */
        if (strcmp(json_string_value(t) ? json_string_value(t) : "", jstr(g, "title")) == 0) {
            html_raw(h, " lang=\"");
            html_text(h, tl);
            html_raw(h, "\"");
            break;
        }
    html_raw(h, ">");
    html_text(h, jstr(g, "title"));
    html_raw(h, "</a></td><td>");
    html_text(h, measure_label(r, jstr(g, "measure")));
    if (json_array_size(json_object_get(g, "roles"))) {
        html_raw(h, " (");
        strings_text(h, json_object_get(g, "roles"));
        html_raw(h, ")");
    }
    html_raw(h, "</td><td>");
    strings_text(h, json_object_get(g, "themes"));
    html_raw(h, "</td><td>");
    html_text(h, jstr(g, "from"));
    html_raw(h, " – ");
    html_text(h, jstr(g, "to"));
    html_rawf(h, "</td><td class=\"target\">%s</td><td class=\"actual\">%s</td>"
                 "<td class=\"share\">%s %%<div class=\"bar\"><span style=\"width:%d%%\">"
                 "</span></div></td><td class=\"remaining\">%s</td><td>",
              num(r, jint(g, "target"), a, sizeof a), num(r, jint(g, "actual"), b, sizeof b),
              web_decimal(r, 100.0 * share, 1, c, sizeof c), pct,
              num(r, jint(g, "remaining"), d, sizeof d));
    html_text(h, jstr(g, "network"));
    html_raw(h, "</td></tr>");
}

typedef struct qlist {
    html_t *h;
    const web_req_t *r;
    size_t n;
} qlist_t;

static int questionnaire_item(void *ctx, const store_item_t *it)
{
    qlist_t *c = ctx;
    html_t *h = c->h;
    const web_req_t *r = c->r;
    const Lernet__Questionnaire *q = it->questionnaire;
    char hex[EVENT_ID_HEX_SIZE], a[32];
    if (!q || it->unauthorised)
        return 0; /* erased, or not counted (as its feedback would not be) */
    event_id_hex(hex, it->id);
    html_rawf(h, "<li data-id=\"%s\"><a href=\"/event/%s\">", hex, hex);
    html_text(h, q->n_title ? payload_text_pick(q->title, q->n_title, r->langs) : "");
    html_raw(h, "</a> <span class=\"meta\">");
    html_rawf(h, TN(r, "%s question", "%s questions", q->n_questions),
              num(r, (long long)q->n_questions, a, sizeof a));
    html_raw(h, " · ");
    html_text(h, it->network);
    html_raw(h, "</span></li>");
    c->n++;
    return 0;
}

/* /goals' list of questionnaires (the counted ones, at most
 * PROGRAMME_MAX_GOALS), and the way to publish one. */
static void questionnaire_list(html_t *h, const web_req_t *r, const char *net)
{
    qlist_t c = {h, r, 0};
    store_query_t q = {.kind = LERNET__KIND__KIND_QUESTIONNAIRE, .network = net,
                       .limit = PROGRAMME_MAX_GOALS};
    html_rawf(h, "<h2 id=\"questionnaires-title\">%s</h2><p>", T(r, "Questionnaires"));
    html_text(h, T(r, "What the networks ask their activities' participants; the organiser of "
                      "a workshop or meeting shares the answers as counts, from its page."));
    html_rawf(h, " <a href=\"/publish/questionnaire\">%s</a></p><ul id=\"questionnaires\">",
              T(r, "Publish a questionnaire"));
    store_items(r->env->st, &q, questionnaire_item, &c);
    html_raw(h, "</ul>");
    if (!c.n)
        html_rawf(h, "<p>%s</p>", T(r, "No questionnaires yet."));
}

void page_goals(const web_req_t *r, web_resp_t *out)
{
    html_t *h = html_new();
    const char *net = web_arg(r, "network");
    json_t *goals = programme_goals(r->env->st, net && *net ? net : NULL, r->langs), *g;
    size_t i;
    html_rawf(h, "<h1>%s</h1><p>", T(r, "Goals"));
    html_text(h, T(r, "The networks' goals and how far they are reached, from the same counts "
                      "as the report: participants from the experience reports' role counts, "
                      "organisations organising or reporting, workshops and meetings held, "
                      "within each goal's period and themes."));
    html_raw(h, " ");
    html_rawf(h, "<a href=\"/publish/goal\">%s</a> ", T(r, "Publish a goal"));
    /* TRANSLATORS: %s is the command, kept as it is */
    html_rawf(h, T(r, "(or with %s)."), "<code>lernet publish goal</code>");
    html_rawf(h, "</p><div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-labelledby=\"goals-caption\">"
                 "<table class=\"goals\" id=\"goals\"><caption id=\"goals-caption\">%s</caption>"
                 "<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                 "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                 "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                 "<th scope=\"col\">%s</th></tr></thead><tbody>",
              T(r, "The goals"), T(r, "Goal"), T(r, "Counts"), T(r, "Themes"), T(r, "Period"),
              T(r, "Target"), T(r, "Reached"), T(r, "Share"), T(r, "Remaining"),
              T(r, "Network"));
    json_array_foreach(goals, i, g)
        goal_row(h, r, g);
    html_raw(h, "</tbody></table></div>");
    if (!goals)
        html_rawf(h, "<p class=\"bad\">%s</p>", T(r, "The goals could not be read from the store."));
    else if (!json_array_size(goals))
        html_rawf(h, "<p>%s</p>", T(r, "No goals yet."));
    json_decref(goals);
    questionnaire_list(h, r, net && *net ? net : NULL);
    web_page(r, out, 200, T(r, "Goals"), html_take(&h, NULL));
}

/* One feedback item's results: respondents, then per question its counts
 * per scale value (with the labels) and the mean. */
static void feedback_block(html_t *h, const web_req_t *r, const json_t *fb)
{
    const json_t *q, *v;
    const char *role;
    size_t j, k;
    char n1[32], n2[32];
    long long resp = jint(fb, "respondents");
    html_rawf(h, "<div class=\"feedback\" data-id=\"%.64s\"><h3>", jstr(fb, "id"));
    html_text(h, jstr(fb, "questionnaire_title"));
    html_raw(h, "</h3><p class=\"meta\">");
    html_rawf(h, TN(r, "%s respondent:", "%s respondents:", resp), num(r, resp, n1, sizeof n1));
    json_object_foreach((json_t *)json_object_get(fb, "respondents_by_role"), role, v) {
        html_raw(h, " ");
        html_text(h, role);
        html_rawf(h, " %s", num(r, (long long)json_integer_value(v), n1, sizeof n1));
    }
    html_raw(h, "</p><table class=\"results\">");
    json_array_foreach(json_object_get(fb, "questions"), j, q) {
        long long min = jint(q, "min");
        html_raw(h, "<tr><th scope=\"row\">");
        html_text(h, jstr(q, "text"));
        html_raw(h, "</th><td>");
        json_array_foreach(json_object_get(q, "counts"), k, v) {
            char key[24];
            snprintf(key, sizeof key, "%lld", min + (long long)k);
            html_rawf(h, "<span class=\"count\">%s", key);
            if (*jstr(json_object_get(q, "labels"), key)) {
                html_raw(h, " (");
                html_text(h, jstr(json_object_get(q, "labels"), key));
                html_raw(h, ")");
            }
            html_rawf(h, ": %s</span> ", num(r, (long long)json_integer_value(v), n2, sizeof n2));
        }
        html_raw(h, "</td><td class=\"mean\">");
        html_rawf(h, T(r, "mean %s"),
                  web_decimal(r, json_real_value(json_object_get(q, "mean")), 2, n1, sizeof n1));
        html_raw(h, "</td></tr>");
    }
    html_raw(h, "</table></div>");
}

void programme_feedback_section(html_t *h, const web_req_t *r, const uint8_t id[EVENT_ID_BYTES],
                                int own)
{
    json_t *fb = programme_feedback(r->env->st, NULL, id, r->langs), *one;
    size_t i;
    char hex[EVENT_ID_HEX_SIZE];
    html_rawf(h, "<h2>%s</h2><div id=\"feedback\">", T(r, "Participants' feedback"));
    json_array_foreach(fb, i, one)
        feedback_block(h, r, one);
    html_raw(h, "</div>");
    if (!json_array_size(fb))
        html_rawf(h, "<p>%s</p>",
                  T(r, "None shared yet (only as counts of at least 5 respondents)."));
    json_decref(fb);
    event_id_hex(hex, id);
    if (own) /* only the organiser shares it (the publisher's rule) */
        html_rawf(h, "<p><a href=\"/publish/feedback?about=%s\" id=\"share-feedback\">%s</a></p>",
                  hex, T(r, "Share the participants' feedback (counts only)"));
}


static void row_start(html_t *h, const char *label)
{
    html_raw(h, "<tr><th>");
    html_text(h, label);
    html_raw(h, "</th><td>");
}

static void goal_rows(html_t *h, const web_req_t *r, const store_item_t *it)
{
    const Lernet__Goal *g = it->goal;
    char a[32], b[32], c[32], d[32];
    row_start(h, T(r, "Goal"));
    library_texts(h, g->title, g->n_title);
    html_raw(h, "</td></tr>");
    row_start(h, T(r, "Counts"));
    html_text(h, measure_label(r, payload_measure_name((int)g->measure)));
    for (size_t i = 0; i < g->n_roles; i++) {
        html_raw(h, i ? ", " : " (");
        html_text(h, g->roles[i]);
    }
    html_raw(h, g->n_roles ? ")</td></tr>" : "</td></tr>");
    if (g->n_themes) {
        row_start(h, T(r, "Themes"));
        for (size_t i = 0; i < g->n_themes; i++) {
            html_raw(h, i ? ", " : "");
            html_text(h, g->themes[i]);
        }
        html_raw(h, "</td></tr>");
    }
    row_start(h, T(r, "Period"));
    html_text(h, g->from);
    html_raw(h, " – ");
    html_text(h, g->to);
    html_raw(h, "</td></tr>");
    row_start(h, T(r, "Target"));
    html_text(h, num(r, g->target, a, sizeof a));
    html_raw(h, "</td></tr>");
    json_t *p = it->unauthorised ? NULL : programme_goal_json(r->env->st, it, r->langs);
    if (p) {
        html_rawf(h, "<tr><th>%s</th><td id=\"progress\">", T(r, "Reached"));
        /* TRANSLATORS: reached 12 of 40 (30.0 %), 28 to go */
        html_rawf(h, T(r, "%s of %s (%s %%), %s to go"), num(r, jint(p, "actual"), a, sizeof a),
                  num(r, jint(p, "target"), b, sizeof b),
                  web_decimal(r, 100.0 * json_real_value(json_object_get(p, "share")), 1, c,
                              sizeof c),
                  num(r, jint(p, "remaining"), d, sizeof d));
        html_raw(h, "</td></tr>");
    }
    json_decref(p);
    if (g->n_description) {
        row_start(h, T(r, "Description"));
        library_texts(h, g->description, g->n_description);
        html_raw(h, "</td></tr>");
    }
}

static void questionnaire_rows(html_t *h, const web_req_t *r, const store_item_t *it)
{
    const Lernet__Questionnaire *q = it->questionnaire;
    for (size_t i = 0; i < q->n_questions; i++) {
        const Lernet__Question *x = q->questions[i];
        char a[32];
        html_raw(h, "<tr><th>");
        /* TRANSLATORS: question 2 (scale 1–5) */
        html_rawf(h, T(r, "Question %s (scale %u–%u)"), num(r, (long long)i + 1, a, sizeof a),
                  x->min, x->max);
        html_raw(h, "</th><td>");
        library_texts(h, x->text, x->n_text);
        for (size_t j = 0; j < x->n_labels; j++) {
            html_rawf(h, "<p class=\"meta\">%u:</p>", x->labels[j]->value);
            library_texts(h, x->labels[j]->text, x->labels[j]->n_text);
        }
        html_raw(h, "</td></tr>");
    }
    char hex[EVENT_ID_HEX_SIZE];
    event_id_hex(hex, it->id);
    html_rawf(h, "<tr><th>%s</th><td><a href=\"/publish/feedback?questionnaire=%s\" "
                 "id=\"share-results\">%s</a></td></tr>",
              T(r, "Results"), hex,
              T(r, "Share its results for a workshop or meeting this node organised"));
}

void programme_rows(html_t *h, const web_req_t *r, const store_item_t *it)
{
    if (it->unauthorised)
        html_rawf(h, "<tr><td class=\"bad\" id=\"not-counted\" colspan=\"2\">%s</td></tr>",
                  it->feedback ? T(r, "Not counted: not published by the organiser of the "
                                      "activity (or the activity is not here).")
                               : T(r, "Not counted: its author was not a coordinator of this "
                                      "managed network."));
    if (it->goal)
        goal_rows(h, r, it);
    else if (it->questionnaire)
        questionnaire_rows(h, r, it);
    else if (it->feedback) {
        char about[EVENT_ID_HEX_SIZE];
        json_t *fb = programme_feedback_json(r->env->st, it, r->langs);
        event_id_hex(about, it->about);
        html_rawf(h, "<tr><th>%s</th><td><a href=\"/event/%s\">%.12s</a></td></tr>",
                  T(r, "About"), about, about);
        html_rawf(h, "<tr><th>%s</th><td>", T(r, "Results"));
        if (fb)
            feedback_block(h, r, fb);
        else
            html_text(h, T(r, "Not shown: its activity or questionnaire is not here, or it "
                              "does not fit the questionnaire."));
        html_raw(h, "</td></tr>");
        json_decref(fb);
    }
}
