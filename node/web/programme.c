/*
 * programme: the networks' goals and the activities' feedback on the web
 * page (see page.h): /goals, the fields of a goal, questionnaire or
 * feedback on /event/ID, the feedback section of a workshop's or meeting's
 * page, and the page /publish/goal|questionnaire|feedback answers (those
 * are published with `lernet publish`: a questionnaire and its results are
 * easier to check in a file than in a form). Content from the network is
 * only ever written through html_text. The markup is kept here, apart
 * from page.c, whose texts are being translated.
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

/* One goal's row of /goals: what it counts, target, reached, share, what
 * remains, and a bar of the share (plain CSS width, no script). */
static void goal_row(html_t *h, const json_t *g)
{
    double share = json_real_value(json_object_get(g, "share"));
    int pct = share >= 1 ? 100 : (int)(share * 100);
    html_rawf(h, "<tr class=\"goal%s\" data-id=\"", json_is_true(json_object_get(g, "reached"))
                                                          ? " reached" : "");
    html_text(h, jstr(g, "id"));
    html_rawf(h, "\"><td><a href=\"/event/%.64s\">", jstr(g, "id"));
    html_text(h, jstr(g, "title"));
    html_raw(h, "</a></td><td>");
    html_text(h, jstr(g, "measure"));
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
    html_rawf(h, "</td><td class=\"target\">%lld</td><td class=\"actual\">%lld</td>"
                 "<td class=\"share\">%.1f %%<div class=\"bar\"><span style=\"width:%d%%\">"
                 "</span></div></td><td class=\"remaining\">%lld</td><td>",
              jint(g, "target"), jint(g, "actual"), 100.0 * share, pct, jint(g, "remaining"));
    html_text(h, jstr(g, "network"));
    html_raw(h, "</td></tr>");
}

void page_goals(const web_req_t *r, web_resp_t *out)
{
    html_t *h = html_new();
    const char *net = web_arg(r, "network");
    json_t *goals = programme_goals(r->env->st, net && *net ? net : NULL, r->langs), *g;
    size_t i;
    html_raw(h, "<h1>Goals</h1><p>The networks' goals and how far they are reached, from the "
                "same counts as the report: participants from the experience reports' role "
                "counts, organisations organising or reporting, workshops and meetings held, "
                "within each goal's period and themes. Publish one with <code>lernet publish "
                "goal</code>.</p><table class=\"goals\" id=\"goals\"><thead><tr><th>Goal</th>"
                "<th>Counts</th><th>Themes</th><th>Period</th><th>Target</th><th>Reached</th>"
                "<th>Share</th><th>Remaining</th><th>Network</th></tr></thead><tbody>");
    json_array_foreach(goals, i, g)
        goal_row(h, g);
    html_raw(h, "</tbody></table>");
    if (!goals)
        html_raw(h, "<p class=\"bad\">The goals could not be read from the store.</p>");
    else if (!json_array_size(goals))
        html_raw(h, "<p>No goals yet.</p>");
    json_decref(goals);
    web_page(r, out, 200, "Goals", html_take(&h, NULL));
}

/* One feedback item's results: respondents, then per question its counts
 * per scale value (with the labels) and the mean. */
static void feedback_block(html_t *h, const json_t *fb)
{
    const json_t *q, *v;
    const char *role;
    size_t j, k;
    html_rawf(h, "<div class=\"feedback\" data-id=\"%.64s\"><h3>", jstr(fb, "id"));
    html_text(h, jstr(fb, "questionnaire_title"));
    html_rawf(h, "</h3><p class=\"meta\">%lld respondents:", jint(fb, "respondents"));
    json_object_foreach((json_t *)json_object_get(fb, "respondents_by_role"), role, v) {
        html_raw(h, " ");
        html_text(h, role);
        html_rawf(h, " %lld", (long long)json_integer_value(v));
    }
    html_raw(h, "</p><table class=\"results\">");
    json_array_foreach(json_object_get(fb, "questions"), j, q) {
        long long min = jint(q, "min");
        html_raw(h, "<tr><th>");
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
            html_rawf(h, ": %lld</span> ", (long long)json_integer_value(v));
        }
        html_rawf(h, "</td><td class=\"mean\">mean %.2f</td></tr>",
                  json_real_value(json_object_get(q, "mean")));
    }
    html_raw(h, "</table></div>");
}

void programme_feedback_section(html_t *h, const web_req_t *r, const uint8_t id[EVENT_ID_BYTES])
{
    json_t *fb = programme_feedback(r->env->st, NULL, id, r->langs), *one;
    size_t i;
    html_raw(h, "<h2>Participants' feedback</h2><div id=\"feedback\">");
    json_array_foreach(fb, i, one)
        feedback_block(h, one);
    html_raw(h, "</div>");
    if (!json_array_size(fb))
        html_raw(h, "<p>None shared yet (only as counts of at least 5 respondents).</p>");
    json_decref(fb);
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
    row_start(h, "Goal");
    library_texts(h, g->title, g->n_title);
    html_raw(h, "</td></tr>");
    row_start(h, "Counts");
    html_text(h, payload_measure_name((int)g->measure));
    for (size_t i = 0; i < g->n_roles; i++) {
        html_raw(h, i ? ", " : " (");
        html_text(h, g->roles[i]);
    }
    html_raw(h, g->n_roles ? ")</td></tr>" : "</td></tr>");
    if (g->n_themes) {
        row_start(h, "Themes");
        for (size_t i = 0; i < g->n_themes; i++) {
            html_raw(h, i ? ", " : "");
            html_text(h, g->themes[i]);
        }
        html_raw(h, "</td></tr>");
    }
    row_start(h, "Period");
    html_text(h, g->from);
    html_raw(h, " – ");
    html_text(h, g->to);
    html_rawf(h, "</td></tr><tr><th>Target</th><td>%u</td></tr>", g->target);
    json_t *p = it->unauthorised ? NULL : programme_goal_json(r->env->st, it, r->langs);
    if (p)
        html_rawf(h, "<tr><th>Reached</th><td id=\"progress\">%lld of %lld (%.1f %%), %lld "
                     "to go</td></tr>", jint(p, "actual"), jint(p, "target"),
                  100.0 * json_real_value(json_object_get(p, "share")), jint(p, "remaining"));
    json_decref(p);
    if (g->n_description) {
        row_start(h, "Description");
        library_texts(h, g->description, g->n_description);
        html_raw(h, "</td></tr>");
    }
}

static void questionnaire_rows(html_t *h, const store_item_t *it)
{
    const Lernet__Questionnaire *q = it->questionnaire;
    for (size_t i = 0; i < q->n_questions; i++) {
        const Lernet__Question *x = q->questions[i];
        html_rawf(h, "<tr><th>Question %zu (scale %u–%u)</th><td>", i + 1, x->min, x->max);
        library_texts(h, x->text, x->n_text);
        for (size_t j = 0; j < x->n_labels; j++) {
            html_rawf(h, "<p class=\"meta\">%u:</p>", x->labels[j]->value);
            library_texts(h, x->labels[j]->text, x->labels[j]->n_text);
        }
        html_raw(h, "</td></tr>");
    }
}

void programme_rows(html_t *h, const web_req_t *r, const store_item_t *it)
{
    if (it->unauthorised)
        html_raw(h, it->feedback
                        ? "<tr><td class=\"bad\" id=\"not-counted\">Not counted: not published "
                          "by the organiser of the activity (or the activity is not here).</td>"
                          "</tr>"
                        : "<tr><td class=\"bad\" id=\"not-counted\">Not counted: its author was "
                          "not a coordinator of this managed network.</td></tr>");
    if (it->goal)
        goal_rows(h, r, it);
    else if (it->questionnaire)
        questionnaire_rows(h, it);
    else if (it->feedback) {
        char about[EVENT_ID_HEX_SIZE];
        json_t *fb = programme_feedback_json(r->env->st, it, r->langs);
        event_id_hex(about, it->about);
        html_rawf(h, "<tr><th>About</th><td><a href=\"/event/%s\">%.12s</a></td></tr>", about,
                  about);
        html_raw(h, "<tr><th>Results</th><td>");
        if (fb)
            feedback_block(h, fb);
        else
            html_raw(h, "Not shown: its activity or questionnaire is not here, or it does not "
                        "fit the questionnaire.");
        html_raw(h, "</td></tr>");
        json_decref(fb);
    }
}

void programme_form(const web_req_t *r, web_resp_t *out, const char *kind)
{
    html_t *h = html_new();
    html_raw(h, "<h1>Publish ");
    html_text(h, kind);
    html_raw(h, "</h1><p>Goals, questionnaires and feedback are published with the command "
                "line, from flags or a JSON file checked before anything is signed:</p><pre>");
    html_rawf(h, "lernet publish %s --help", strcmp(kind, "goal") == 0            ? "goal"
                                             : strcmp(kind, "questionnaire") == 0 ? "questionnaire"
                                                                                  : "feedback");
    html_raw(h, "</pre><p>Feedback is shared only as counts of at least 5 respondents. See "
                "<a href=\"/goals\">the goals</a>.</p>");
    web_page(r, out, 200, "Publish", html_take(&h, NULL));
}
