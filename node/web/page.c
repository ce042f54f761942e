/*
 * page: the read-only pages (see page.h). Content from the network is
 * only ever written through html_text; numbers and our own names are
 * written with html_rawf.
 */
#include "web/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/html.h"
#include "export/erased.h"
#include "export/ical.h"
#include "core/payload_json.h"
#include "core/series.h"
#include "export/report.h"
#include "util/text.h"
#include "util/time.h"

/* ---- shared --------------------------------------------------------- */

/* "Tue 09 Feb 2027, 09:00": a time as the pages show it, in the event's
 * zone (UTC if unknown). when() relies on it ending in "HH:MM". */
#define WHEN_FORMAT "%a %d %b %Y, %H:%M"

static const char *kind_label(int kind)
{
    switch (kind) {
    case LERNET__KIND__KIND_WORKSHOP: return "workshop";
    case LERNET__KIND__KIND_MEETING: return "network meeting";
    case LERNET__KIND__KIND_EXPERIENCE: return "experience report";
    case LERNET__KIND__KIND_RESOURCE: return "resource";
    case LERNET__KIND__KIND_REPLY: return "reply";
    case LERNET__KIND__KIND_GOAL: return "goal";
    case LERNET__KIND__KIND_QUESTIONNAIRE: return "questionnaire";
    case LERNET__KIND__KIND_FEEDBACK: return "feedback";
    default: return "event";
    }
}

static void item_texts(const store_item_t *it, Lernet__Text ***t, size_t *n)
{
    *t = NULL;
    *n = 0;
    if (it->workshop)
        *t = it->workshop->title, *n = it->workshop->n_title;
    else if (it->meeting)
        *t = it->meeting->title, *n = it->meeting->n_title;
    else if (it->experience)
        *t = it->experience->title, *n = it->experience->n_title;
    else if (it->resource)
        *t = it->resource->title, *n = it->resource->n_title;
    else if (it->reply) /* no title: its text stands for one */
        *t = it->reply->text, *n = it->reply->n_text;
    else if (it->goal)
        *t = it->goal->title, *n = it->goal->n_title;
    else if (it->questionnaire)
        *t = it->questionnaire->title, *n = it->questionnaire->n_title;
    else if (it->feedback)
        *t = it->feedback->title, *n = it->feedback->n_title;
}

static const char *item_title(const store_item_t *it, const char *langs)
{
    Lernet__Text **t;
    size_t n;
    item_texts(it, &t, &n);
    const char *s = payload_text_pick(t, n, langs);
    return s ? s : "(content erased)";
}

static const char *item_tz(const store_item_t *it)
{
    return it->workshop ? it->workshop->tz : it->meeting ? it->meeting->tz : NULL;
}

/* The organisation behind an item: the author's profile, else the
 * organiser the event names. */
static void item_org(store_t *st, const store_item_t *it, store_profile_t *p)
{
    if (store_profile(st, it->author, p) == 1 && p->name[0])
        return;
    memset(p, 0, sizeof *p);
    const char *org = it->workshop ? it->workshop->organiser
                      : it->meeting ? it->meeting->organiser
                                    : NULL;
    snprintf(p->name, sizeof p->name, "%s", org ? org : "");
}

static void when(html_t *h, const store_item_t *it)
{
    char a[64], b[64];
    const char *tz = item_tz(it);
    civil_strftime(it->start, tz, WHEN_FORMAT, a, sizeof a);
    civil_strftime(it->end, tz, WHEN_FORMAT, b, sizeof b);
    html_text(h, a);
    html_raw(h, " – ");
    /* same day: just the time, which is the last five characters "HH:MM" */
    size_t lb = strlen(b);
    html_text(h, lb > 5 && strncmp(a, b, lb - 5) == 0 ? b + lb - 5 : b);
    html_raw(h, " <span class=\"tz\">(");
    html_text(h, tz ? tz : "UTC");
    html_raw(h, ")</span>");
}

static void list(html_t *h, char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        html_raw(h, i ? ", " : "");
        html_text(h, v[i]);
    }
}

/* ---- calendar -------------------------------------------------------- */

enum { F_NETWORK, F_THEME, F_LANGUAGE, F_ORG, F_COUNTRY, F_COUNT };

typedef struct cal {
    const web_req_t *r;
    html_t *rows;
    json_t *opts[F_COUNT]; /* seen values, one set per filter, for the selects */
    size_t shown, matched;
    int64_t now;
} cal_t;
static const char *const filter_names[F_COUNT] = {"network", "theme", "language", "org",
                                                  "country"};
static const char *const filter_labels[F_COUNT] = {"Network", "Theme", "Language",
                                                   "Organisation", "Country"};

static void seen(cal_t *c, int f, const char *v)
{
    if (v && *v && json_object_size(c->opts[f]) < PAGE_MAX_OPTIONS)
        json_object_set_new(c->opts[f], v, json_true());
}

static int in_list(char **v, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], want) == 0)
            return 1;
    return 0;
}

static int has_language(const store_item_t *it, const char *want)
{
    if (it->workshop && it->workshop->language && *it->workshop->language)
        return strcmp(it->workshop->language, want) == 0;
    Lernet__Text **t;
    size_t n;
    item_texts(it, &t, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i]->lang, want) == 0)
            return 1;
    return 0;
}

/* Records the item's values for the selects, then says if it passes. */
static int passes(cal_t *c, const store_item_t *it, const store_profile_t *p)
{
    char **themes = it->workshop ? it->workshop->themes : it->meeting->themes;
    size_t n_themes = it->workshop ? it->workshop->n_themes : it->meeting->n_themes;
    const char *f[F_COUNT];
    for (int i = 0; i < F_COUNT; i++)
        f[i] = web_arg(c->r, filter_names[i]);
    seen(c, F_NETWORK, it->network);
    for (size_t i = 0; i < n_themes; i++)
        seen(c, F_THEME, themes[i]);
    if (it->workshop)
        seen(c, F_LANGUAGE, it->workshop->language);
    seen(c, F_ORG, p->name);
    seen(c, F_COUNTRY, p->country);
    return (!f[F_NETWORK] || strcmp(f[F_NETWORK], it->network) == 0) &&
           (!f[F_THEME] || in_list(themes, n_themes, f[F_THEME])) &&
           (!f[F_LANGUAGE] || has_language(it, f[F_LANGUAGE])) &&
           (!f[F_ORG] || strcmp(f[F_ORG], p->name) == 0) &&
           (!f[F_COUNTRY] || strcmp(f[F_COUNTRY], p->country) == 0);
}

/* The title in the reader's language, the others one click away. */
static void titles(html_t *h, const store_item_t *it, const char *langs, const char *id)
{
    Lernet__Text **t;
    size_t n;
    const char *best = item_title(it, langs);
    item_texts(it, &t, &n);
    html_rawf(h, "<a class=\"title\" href=\"/event/%s\">", id);
    html_text(h, best);
    html_raw(h, "</a>");
    if (n < 2)
        return;
    html_rawf(h, "<details class=\"langs\"><summary>%zu other language%s</summary><ul>", n - 1,
              n == 2 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        if (t[i]->text == best)
            continue;
        html_raw(h, "<li><a href=\"?lang=");
        html_query(h, t[i]->lang);
        html_raw(h, "\">");
        html_text(h, t[i]->lang);
        html_raw(h, "</a> <span lang=\"");
        html_text(h, t[i]->lang);
        html_raw(h, "\">");
        html_text(h, t[i]->text);
        html_raw(h, "</span></li>");
    }
    html_raw(h, "</ul></details>");
}

static int occurrence_cancelled(const store_item_t *it, int64_t start)
{
    for (size_t i = 0; i < it->n_cancelled_occurrences; i++)
        if (it->cancelled_occurrences[i] == start)
            return 1;
    return 0;
}

/* A series (core/series.h) is one row: its occurrences listed under it,
 * each with its place, the ones cancelled one by one marked. */
static void series_dates(html_t *h, const store_item_t *it)
{
    series_t sr = series_of(it->workshop, it->meeting);
    series_occ_t *occ;
    size_t n = 0;
    char when_s[40];
    if (!series_repeats(&sr) || !(occ = malloc(SERIES_MAX * sizeof *occ)))
        return;
    if (series_expand(&sr, occ, SERIES_MAX, &n, NULL, 0) == 0) {
        html_rawf(h, "<details class=\"series\"><summary>Series: %zu dates</summary><ul>", n);
        for (size_t i = 0; i < n; i++) {
            int gone = occurrence_cancelled(it, occ[i].start);
            civil_strftime(occ[i].start, sr.tz, "%a %d %b %Y %H:%M", when_s, sizeof when_s);
            html_raw(h, gone ? "<li class=\"cancelled\"><s>" : "<li>");
            html_text(h, when_s);
            if (occ[i].place && *occ[i].place) {
                html_raw(h, " · ");
                html_text(h, occ[i].place);
            }
            html_raw(h, gone ? "</s> (cancelled)</li>" : "</li>");
        }
        html_raw(h, "</ul></details>");
    }
    free(occ);
}

static void cal_row(cal_t *c, const store_item_t *it, const store_profile_t *p)
{
    html_t *h = c->rows;
    char id[EVENT_ID_HEX_SIZE];
    char **themes = it->workshop ? it->workshop->themes : it->meeting->themes;
    size_t n_themes = it->workshop ? it->workshop->n_themes : it->meeting->n_themes;
    event_id_hex(id, it->id);
    html_rawf(h, "<li class=\"event%s\" data-id=\"%s\" data-kind=\"%s\"><div class=\"when\">",
              it->cancelled ? " cancelled" : "", id,
              it->kind == LERNET__KIND__KIND_WORKSHOP ? "workshop" : "meeting");
    when(h, it);
    series_dates(h, it);
    html_raw(h, "</div>");
    if (it->cancelled)
        html_raw(h, "<span class=\"badge cancelled\">Cancelled</span>");
    html_rawf(h, "<span class=\"badge\">%s</span>", kind_label(it->kind));
    titles(h, it, c->r->langs, id);
    html_raw(h, "<div class=\"meta\"><span class=\"org\">");
    html_text(h, p->name);
    html_raw(h, "</span>");
    if (p->country[0]) {
        html_raw(h, " (");
        html_text(h, p->country);
        html_raw(h, ")");
    }
    html_raw(h, " · ");
    html_text(h, it->network);
    if (n_themes) {
        html_raw(h, " · ");
        list(h, themes, n_themes);
    }
    if (it->workshop && it->workshop->language && *it->workshop->language) {
        html_raw(h, " · in ");
        html_text(h, it->workshop->language);
    }
    html_raw(h, "</div></li>");
}

static int cal_item(void *ctx, const store_item_t *it)
{
    cal_t *c = ctx;
    store_profile_t p;
    if (!it->workshop && !it->meeting) /* erased content */
        return 0;
    item_org(c->r->env->st, it, &p);
    if (!passes(c, it, &p))
        return 0;
    if (c->matched++ < PAGE_MAX_ROWS && html_len(c->rows) < PAGE_ROWS_BUDGET) {
        c->shown++;
        cal_row(c, it, &p);
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void filter_select(html_t *h, cal_t *c, int f)
{
    const char *cur = web_arg(c->r, filter_names[f]), *k;
    const char *keys[PAGE_MAX_OPTIONS];
    size_t n = 0;
    json_t *v;
    json_object_foreach(c->opts[f], k, v) keys[n++] = k;
    qsort(keys, n, sizeof keys[0], cmp_str);
    html_rawf(h, "<label>%s <select name=\"%s\"><option value=\"\">all</option>",
              filter_labels[f], filter_names[f]);
    size_t start = html_len(h);
    for (size_t i = 0; i < n; i++) {
        if (html_len(h) - start > PAGE_OPTIONS_BUDGET) {
            html_rawf(h, "<option disabled>(%zu more)</option>", n - i);
            break;
        }
        html_raw(h, "<option value=\"");
        html_text(h, keys[i]);
        html_raw(h, cur && strcmp(cur, keys[i]) == 0 ? "\" selected>" : "\">");
        html_text(h, keys[i]);
        html_raw(h, "</option>");
    }
    html_raw(h, "</select></label>");
}

/* The report for a funder's period, as `lernet report --format csv`. */
static void report_form(html_t *h, cal_t *c)
{
    html_raw(h, "<h2>Report (CSV)</h2><form class=\"filters\" id=\"report\" method=\"get\" "
                "action=\"/report.csv\"><label>From <input type=\"date\" name=\"from\"></label>"
                "<label>To <input type=\"date\" name=\"to\"></label>");
    filter_select(h, c, F_NETWORK);
    html_raw(h, "<label>By <select name=\"by\">");
    const report_grouping_t *g;
    for (size_t i = 0; (g = report_grouping_at(i)); i++)
        html_rawf(h, "<option value=\"%s\">%s</option>", g->name, g->label);
    html_raw(h, "</select></label><button>Download</button>"
                "<button name=\"excel\" value=\"1\">Download for Excel</button></form>");
}

void page_calendar(const web_req_t *r, web_resp_t *out)
{
    cal_t c = {.r = r, .rows = html_new(), .now = time(NULL)};
    for (int f = 0; f < F_COUNT; f++)
        c.opts[f] = json_object();
    store_query_t q = {.starts_after = c.now};
    int rc = store_items(r->env->st, &q, cal_item, &c);
    html_t *h = html_new();
    html_raw(h, "<h1>Calendar</h1><p>Upcoming workshops and network meetings from every node "
                "this one reaches. <a href=\"/calendar.ics\">Subscribe (iCal)</a> · "
                "<a href=\"/report.csv\">Report (CSV)</a></p><form class=\"filters\" "
                "method=\"get\" action=\"/\">");
    for (int f = 0; f < F_COUNT; f++)
        filter_select(h, &c, f);
    html_raw(h, "<button>Filter</button></form>");
    if (rc != 0)
        html_raw(h, "<p class=\"error\">The store could not be read.</p>");
    html_rawf(h, "<p class=\"count\" id=\"count\">%zu event%s</p><ul class=\"events\">",
              c.matched, c.matched == 1 ? "" : "s");
    char *rows = html_take(&c.rows, NULL);
    html_raw(h, rows);
    free(rows);
    html_raw(h, "</ul>");
    if (c.matched > c.shown)
        html_rawf(h, "<p>%zu more not shown: narrow the filters.</p>", c.matched - c.shown);
    report_form(h, &c);
    for (int f = 0; f < F_COUNT; f++)
        json_decref(c.opts[f]);
    web_page(r, out, 200, "Calendar", html_take(&h, NULL));
}

/* ---- one event -------------------------------------------------------- */

static void texts_row(html_t *h, const char *label, Lernet__Text **t, size_t n)
{
    if (!n)
        return;
    html_rawf(h, "<tr><th>%s</th><td>", label);
    library_texts(h, t, n);
    html_raw(h, "</td></tr>");
}

static void text_row(html_t *h, const char *label, const char *v)
{
    if (!v || !*v)
        return;
    html_rawf(h, "<tr><th>%s</th><td>", label);
    html_text(h, v);
    html_raw(h, "</td></tr>");
}

static void list_row(html_t *h, const char *label, char **v, size_t n)
{
    if (!n)
        return;
    html_rawf(h, "<tr><th>%s</th><td>", label);
    list(h, v, n);
    html_raw(h, "</td></tr>");
}

static void url_row(html_t *h, const char *v)
{
    if (!v || !*v)
        return;
    html_raw(h, "<tr><th>Online</th><td>");
    /* links only for web addresses; the wire check allows http(s) only */
    if (strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0) {
        html_raw(h, "<a rel=\"noopener noreferrer\" href=\"");
        html_text(h, v);
        html_raw(h, "\">");
        html_text(h, v);
        html_raw(h, "</a>");
    } else {
        html_text(h, v);
    }
    html_raw(h, "</td></tr>");
}

static void time_rows(html_t *h, const store_item_t *it)
{
    html_raw(h, "<tr><th>When</th><td>");
    when(h, it);
    series_dates(h, it);
    html_raw(h, "</td></tr>");
}

static const char *status_name(int s)
{
    static const char *names[] = {"", "planned", "confirmed", "full", "cancelled"};
    return s >= 0 && s <= 4 ? names[s] : "";
}

static void workshop_rows(html_t *h, const store_item_t *it)
{
    const Lernet__Workshop *w = it->workshop;
    texts_row(h, "Title", w->title, w->n_title);
    texts_row(h, "Description", w->description, w->n_description);
    time_rows(h, it);
    text_row(h, "Place", w->place);
    url_row(h, w->online_url);
    text_row(h, "Organiser", w->organiser);
    if (w->capacity)
        html_rawf(h, "<tr><th>Capacity</th><td>%u</td></tr>", w->capacity);
    list_row(h, "Themes", w->themes, w->n_themes);
    list_row(h, "For", w->roles, w->n_roles);
    text_row(h, "Language", w->language);
    text_row(h, "Status", it->cancelled ? "cancelled" : status_name(w->status));
}

static void meeting_rows(html_t *h, const store_item_t *it)
{
    const Lernet__Meeting *m = it->meeting;
    texts_row(h, "Title", m->title, m->n_title);
    time_rows(h, it);
    text_row(h, "Place", m->place);
    url_row(h, m->online_url);
    text_row(h, "Organiser", m->organiser);
    texts_row(h, "Agenda", m->agenda, m->n_agenda);
    texts_row(h, "Minutes", m->minutes, m->n_minutes);
    list_row(h, "Themes", m->themes, m->n_themes);
}

static void experience_rows(html_t *h, const store_item_t *it)
{
    const Lernet__Experience *e = it->experience;
    char about[EVENT_ID_HEX_SIZE];
    event_id_hex(about, it->about);
    html_rawf(h, "<tr><th>About</th><td><a href=\"/event/%s\">%.16s…</a></td></tr>", about,
              about);
    texts_row(h, "Title", e->title, e->n_title);
    texts_row(h, "Experience", e->text, e->n_text);
    texts_row(h, "Lessons", e->lessons, e->n_lessons);
    list_row(h, "Tags", e->tags, e->n_tags);
    if (e->n_participants) {
        html_raw(h, "<tr><th>Participants</th><td>");
        for (size_t i = 0; i < e->n_participants; i++) {
            html_raw(h, i ? ", " : "");
            html_text(h, e->participants[i]->role);
            html_rawf(h, ": %u", e->participants[i]->count);
        }
        html_raw(h, "</td></tr>");
    }
}

typedef struct ev_page {
    const web_req_t *r;
    html_t *h;
    int found;
    uint8_t id[EVENT_ID_BYTES];
    uint8_t author[KEYS_PUBLIC_BYTES];
    char title[512];
    char network[EVENT_MAX_NETWORK + 1];
    int kind;
} ev_page_t;

static int ev_item(void *ctx, const store_item_t *it)
{
    ev_page_t *e = ctx;
    html_t *h = e->h;
    e->found = 1;
    e->kind = it->kind;
    memcpy(e->id, it->id, sizeof e->id);
    memcpy(e->author, it->author, sizeof e->author);
    snprintf(e->title, sizeof e->title, "%s", item_title(it, e->r->langs));
    html_rawf(h, "<p class=\"kind\"><span class=\"badge\">%s</span> in network ",
              kind_label(it->kind));
    html_text(h, it->network);
    html_raw(h, "</p><h1 id=\"title\">");
    html_text(h, e->title);
    html_raw(h, "</h1>");
    if (it->cancelled) {
        html_raw(h, "<p class=\"bad\" id=\"cancelled\"><span class=\"badge cancelled\">"
                    "Cancelled</span> ");
        html_text(h, it->cancel_reason);
        html_raw(h, "</p>");
    }
    if (it->author_revoked)
        html_raw(h, "<p class=\"bad\">The publishing node's identity has been revoked.</p>");
    else if (it->author_removed)
        html_raw(h, "<p class=\"bad\">The publishing node is no longer a member of this "
                    "network.</p>");
    if (it->hidden) {
        store_profile_t p;
        char day[16];
        civil_strftime(it->hidden_ms / 1000, NULL, "%Y-%m-%d", day, sizeof day);
        html_raw(h, "<p class=\"bad\" id=\"hidden\"><span class=\"badge\">Hidden</span> by ");
        if (store_profile(e->r->env->st, it->hidden_by, &p))
            html_text(h, p.name);
        else
            html_raw(h, "a coordinator");
        html_rawf(h, " (coordinator of this network), %s", day);
        if (it->hide_reason && *it->hide_reason) {
            html_raw(h, ": ");
            html_text(h, it->hide_reason);
        }
        html_raw(h, "</p>");
    }
    snprintf(e->network, sizeof e->network, "%s", it->network);
    html_raw(h, "<table class=\"fields\">");
    if (it->resource || it->reply)
        library_rows(h, e->r, it);
    else if (it->workshop)
        workshop_rows(h, it);
    else if (it->meeting)
        meeting_rows(h, it);
    else if (it->experience)
        experience_rows(h, it);
    else if (it->goal || it->questionnaire || it->feedback)
        programme_rows(h, e->r, it);
    else if (it->erased) {
        char line[400];
        html_raw(h, "<tr><td class=\"bad\">The content of this event was ");
        html_text(h, erased_text(it, line, sizeof line));
        html_raw(h, ". Only its signed header stays.</td></tr>");
    } else
        html_raw(h, "<tr><td>The content of this event was erased.</td></tr>");
    html_rawf(h, "<tr><th>Revision</th><td>%u%s</td></tr></table>", it->revision,
              it->revision ? " (updated by its organiser)" : " (as first published)");
    return 1;
}

/* Re-checks the original event from its stored bytes: id, payload hash
 * and Ed25519 signature. */
static void signature_section(html_t *h, ev_page_t *e)
{
    char hex[EVENT_ID_HEX_SIZE], why[256] = "", fpr[KEYS_FPR_STR_SIZE], afpr[KEYS_FPR_STR_SIZE];
    event_t *ev = NULL;
    store_profile_t p;
    event_id_hex(hex, e->id);
    int rc = store_get_event(e->r->env->st, hex, &ev, why, sizeof why);
    keys_fingerprint(afpr, e->author);
    html_raw(h, "<h2>Organiser's node</h2><table><tr><th>Organisation</th><td id=\"org\">");
    if (store_profile(e->r->env->st, e->author, &p) == 1) {
        html_text(h, p.name);
        html_raw(h, p.municipality[0] ? ", " : "");
        html_text(h, p.municipality);
        html_raw(h, " (");
        html_text(h, p.country);
        html_raw(h, ")");
    } else {
        html_raw(h, "(no profile published)");
    }
    html_rawf(h, "</td></tr><tr><th>Node identity</th><td><code>%s</code></td></tr>", afpr);
    if (rc == STORE_OK) {
        keys_fingerprint(fpr, ev->signer);
        html_rawf(h, "<tr><th>Signature</th><td class=\"ok\" id=\"signature\">verified: "
                     "Ed25519 signature by %s <code>%s</code>, checked again from the stored "
                     "bytes just now</td></tr>",
                  memcmp(ev->signer, ev->author, KEYS_PUBLIC_BYTES) == 0
                      ? "the node's identity key"
                      : "a signing key the node certified",
                  fpr);
    } else {
        html_raw(h, "<tr><th>Signature</th><td class=\"bad\" id=\"signature\">NOT verified: ");
        html_text(h, why);
        html_raw(h, "</td></tr>");
    }
    html_rawf(h, "<tr><th>Event id</th><td><code>%s</code></td></tr></table>", hex);
    event_free(&ev);
}

typedef struct reports {
    const web_req_t *r;
    html_t *h;
    size_t n;
} reports_t;

static int report_item(void *ctx, const store_item_t *it)
{
    reports_t *c = ctx;
    char id[EVENT_ID_HEX_SIZE];
    store_profile_t p;
    unsigned total = 0;
    if (c->n++ >= PAGE_MAX_ROWS)
        return 1;
    event_id_hex(id, it->id);
    item_org(c->r->env->st, it, &p);
    for (size_t i = 0; it->experience && i < it->experience->n_participants; i++)
        total += it->experience->participants[i]->count;
    html_rawf(c->h, "<li class=\"report\"><a href=\"/event/%s\">", id);
    html_text(c->h, item_title(it, c->r->langs));
    html_raw(c->h, "</a> <span class=\"meta\">by ");
    html_text(c->h, p.name[0] ? p.name : "(unknown organisation)");
    html_rawf(c->h, ", %u participant%s</span></li>", total, total == 1 ? "" : "s");
    return 0;
}

void page_event(const web_req_t *r, web_resp_t *out)
{
    ev_page_t e = {.r = r, .h = html_new()};
    char why[256] = "";
    if (strstr(r->path, "/file/")) {
        html_free(&e.h);
        library_file(r, out, r->path);
        return;
    }
    if (text_hex_prefix(r->path, EVENT_ID_BYTES, TEXT_HEX_LOWER, NULL, NULL) != 0) {
        html_free(&e.h);
        web_error_page(r, out, 404, "an event id is 8 to 64 lowercase hex characters");
        return;
    }
    if (web_arg(r, "published"))
        html_raw(e.h, "<p class=\"notice\" id=\"published\">Published, signed by this node and "
                      "pushed to its partners.</p>");
    int rc = store_item(r->env->st, r->path, ev_item, &e, why, sizeof why);
    if (!e.found) {
        html_free(&e.h);
        web_error_page(r, out, 404, rc == STORE_ERR_AMBIGUOUS ? why : "no such event here");
        return;
    }
    signature_section(e.h, &e);
    char hex[EVENT_ID_HEX_SIZE];
    event_id_hex(hex, e.id);
    if (e.kind == LERNET__KIND__KIND_WORKSHOP || e.kind == LERNET__KIND__KIND_MEETING) {
        reports_t rep = {r, e.h, 0};
        store_query_t q = {.kind = LERNET__KIND__KIND_EXPERIENCE, .about = e.id};
        html_raw(e.h, "<h2>Experience reports</h2><ul class=\"reports\" id=\"reports\">");
        store_items(r->env->st, &q, report_item, &rep);
        html_raw(e.h, "</ul>");
        if (!rep.n)
            html_raw(e.h, "<p>None yet.</p>");
        html_rawf(e.h, "<p><a href=\"/publish/experience?about=%s\">Write an experience "
                       "report about this event</a></p>", hex);
        programme_feedback_section(e.h, r, e.id);
    }
    library_thread(e.h, r, e.id, e.network);
    web_page(r, out, 200, e.title, html_take(&e.h, NULL));
}

/* ---- health ---------------------------------------------------------- */

static json_t *control(const web_req_t *r, const char *cmd)
{
    json_t *req = json_pack("{s:s}", "cmd", cmd);
    json_t *rep = req ? r->env->control(r->env->control_ctx, req) : NULL;
    json_decref(req);
    return rep;
}

static long long jint(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static void ago(html_t *h, const json_t *v)
{
    if (!json_is_integer(v)) {
        html_raw(h, "never");
        return;
    }
    long long ms = json_integer_value(v);
    if (ms < 60000)
        html_rawf(h, "%.1f s ago", (double)ms / 1000.0);
    else if (ms < 3600000)
        html_rawf(h, "%lld min ago", ms / 60000);
    else
        html_rawf(h, "%.1f h ago", (double)ms / 3600000.0);
}

static void bytes(html_t *h, long long v)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double x = (double)v;
    size_t u = 0;
    while (x >= 1024 && u + 1 < sizeof unit / sizeof unit[0])
        x /= 1024, u++;
    html_rawf(h, u ? "%.1f %s" : "%.0f %s", x, unit[u]);
}

/* A count as of the last exchange, or "?" while never measured. */
static void lack(html_t *h, const json_t *p, const char *k)
{
    const json_t *v = json_object_get(p, k);
    if (json_is_integer(v))
        html_rawf(h, "%lld", (long long)json_integer_value(v));
    else
        html_raw(h, "?");
}

/* In sync or not, since when (sync_peers_json). */
static void sync_cell(html_t *h, const json_t *p)
{
    const json_t *v = json_object_get(p, "in_sync");
    if (!json_is_boolean(v)) {
        html_raw(h, "<td>not known yet</td>");
        return;
    }
    /* coloured by a span: td.ok marks a partner that is connected */
    html_rawf(h, "<td><span class=\"%s\">%s</span>, since ", json_is_true(v) ? "ok" : "bad",
              json_is_true(v) ? "in sync" : "not in sync");
    ago(h, json_object_get(p, "since_ago_ms"));
    html_raw(h, "</td>");
}

static void peers_section(html_t *h, const json_t *peers)
{
    const json_t *p;
    size_t i;
    html_raw(h, "<h2>Partners</h2><table id=\"peers\"><tr><th>Partner</th><th>Endpoint</th>"
                "<th>Dials</th><th>Connection</th><th>Sync</th>"
                "<th>Events we lack / it lacks</th><th>As of</th><th>Bytes sent / received</th>"
                "<th>Events received</th><th>Last error</th></tr>");
    json_array_foreach(peers, i, p) {
        int up = json_is_true(json_object_get(p, "connected"));
        const char *ep = json_string_value(json_object_get(p, "endpoint"));
        html_raw(h, "<tr class=\"peer\"><td>");
        html_text(h, json_string_value(json_object_get(p, "name")));
        html_raw(h, "</td><td>");
        if (ep && ep[0]) {
            html_raw(h, "<code>");
            html_text(h, ep);
            html_raw(h, "</code>");
        } else
            html_raw(h, "none: it dials this node");
        html_raw(h, "</td><td>");
        html_text(h, json_string_value(json_object_get(p, "dials")));
        html_rawf(h, "</td><td class=\"%s\">%s</td>", up ? "ok" : "bad",
                  up ? "connected" : "not connected");
        sync_cell(h, p);
        html_raw(h, "<td>");
        lack(h, p, "we_lack");
        html_raw(h, " / ");
        lack(h, p, "they_lack");
        html_raw(h, "</td><td>");
        ago(h, json_object_get(p, "as_of_ago_ms"));
        html_raw(h, "</td><td>");
        bytes(h, jint(p, "bytes_sent"));
        html_raw(h, " / ");
        bytes(h, jint(p, "bytes_received"));
        html_rawf(h, "</td><td>%lld</td><td>", jint(p, "events_received"));
        html_text(h, json_string_value(json_object_get(p, "last_error")));
        html_raw(h, "</td></tr>");
    }
    if (!json_array_size(peers))
        html_raw(h, "<tr><td colspan=\"10\">No partners configured.</td></tr>");
    html_raw(h, "</table>");
}

static void refusals_section(html_t *h, const json_t *refused)
{
    const char *k;
    json_t *v;
    html_raw(h, "<h2>Refused</h2><table id=\"refusals\"><tr><th>Reason</th><th>Count</th></tr>");
    json_object_foreach((json_t *)refused, k, v) {
        html_raw(h, "<tr><td>");
        html_text(h, k);
        html_rawf(h, "</td><td>%lld</td></tr>", (long long)json_integer_value(v));
    }
    if (!json_object_size(refused))
        html_raw(h, "<tr><td colspan=\"2\">Nothing refused since the node started.</td></tr>");
    html_raw(h, "</table>");
}

static void forks_section(html_t *h, const web_req_t *r)
{
    uint8_t(*keys)[KEYS_PUBLIC_BYTES] = NULL;
    size_t n = 0;
    store_forked_authors(r->env->st, &keys, &n);
    html_rawf(h, "<h2>Forks</h2><p id=\"forks\">%zu author%s signed two different events for "
                 "the same place in a log%s</p>",
              n, n == 1 ? "" : "s", n ? " (kept as evidence, shown in `lernet verify`):" : ".");
    if (n)
        html_raw(h, "<ul>");
    for (size_t i = 0; i < n && i < PAGE_MAX_ROWS; i++) {
        char fpr[KEYS_FPR_STR_SIZE];
        store_profile_t p;
        keys_fingerprint(fpr, keys[i]);
        html_rawf(h, "<li><code>%s</code> ", fpr);
        if (store_profile(r->env->st, keys[i], &p) == 1)
            html_text(h, p.name);
        html_raw(h, "</li>");
    }
    if (n)
        html_raw(h, "</ul>");
    free(keys);
}

static int member_row(void *ctx, const store_member_t *m)
{
    html_t *h = ctx;
    char fpr[KEYS_FPR_STR_SIZE];
    keys_fingerprint(fpr, m->key);
    html_raw(h, "<tr><td>");
    html_text(h, m->name);
    html_rawf(h, "</td><td><code>%s</code></td><td>%s%s</td></tr>", fpr,
              m->coordinator ? "coordinator" : "member",
              m->removed ? " (removed)" : m->anchor ? " (trusted in lernet.ini)" : "");
    return 0;
}

static void networks_section(html_t *h, const web_req_t *r)
{
    const config_t *cfg = r->env->cfg;
    html_raw(h, "<h2>Networks</h2>");
    for (size_t i = 0; i < cfg->n_networks; i++) {
        int managed = store_managed(r->env->st, cfg->networks[i]) == 1;
        html_raw(h, "<h3>");
        html_text(h, cfg->networks[i]);
        html_rawf(h, "</h3><p>%s</p>", managed ? "Managed: coordinators admit members."
                                               : "Open to the partners configured for it.");
        if (!managed)
            continue;
        html_raw(h, "<table class=\"members\"><tr><th>Member</th><th>Key</th><th>Role</th></tr>");
        store_members(r->env->st, cfg->networks[i], member_row, h);
        html_raw(h, "</table>");
    }
}

void page_health(const web_req_t *r, web_resp_t *out)
{
    json_t *status = control(r, "status"), *peers = control(r, "peers");
    store_stats_t ss = {0};
    char fpr[KEYS_FPR_STR_SIZE];
    html_t *h = html_new();
    store_stats(r->env->st, &ss);
    keys_fingerprint(fpr, r->env->author);
    html_raw(h, "<h1>Node health</h1><table id=\"node\"><tr><th>Organisation</th><td>");
    html_text(h, r->env->cfg->name);
    html_rawf(h, "</td></tr><tr><th>Identity</th><td><code>%s</code></td></tr>"
                 "<tr><th>Up for</th><td>%.0f s</td></tr>"
                 "<tr><th>Store</th><td id=\"store\">%llu events in %llu logs of %llu authors; "
                 "%llu items; %llu held back; %.1f MiB on disk</td></tr>"
                 "<tr><th>Synchronised</th><td>%lld bytes sent, %lld received; %lld events "
                 "received, %lld refused</td></tr></table>",
              fpr, (double)jint(status, "uptime_ms") / 1000.0, (unsigned long long)ss.events,
              (unsigned long long)ss.logs, (unsigned long long)ss.authors,
              (unsigned long long)ss.items, (unsigned long long)ss.pending,
              (double)ss.bytes / (1024.0 * 1024.0), jint(status, "bytes_sent"),
              jint(status, "bytes_received"), jint(status, "events_received"),
              jint(status, "events_refused"));
    peers_section(h, json_object_get(peers, "peers"));
    refusals_section(h, json_object_get(status, "refused"));
    forks_section(h, r);
    networks_section(h, r);
    html_raw(h, "<p><a href=\"/metrics\">Metrics (Prometheus)</a></p>");
    json_decref(status);
    json_decref(peers);
    web_page(r, out, 200, "Node health", html_take(&h, NULL));
}

/* ---- feeds ------------------------------------------------------------ */

static void memfile(web_resp_t *out, char *buf, size_t len, const char *type)
{
    out->status = 200;
    out->type = type;
    out->body = buf;
    out->len = len;
}

static int ical_item(void *ctx, const store_item_t *it)
{
    return ical_add(ctx, it) != 0;
}

void page_ical(const web_req_t *r, web_resp_t *out)
{
    ical_t *cal = NULL;
    const char *text;
    size_t len;
    store_query_t q = {.network = web_arg(r, "network"),
                       .starts_after = time(NULL) - PAGE_ICAL_PAST_S,
                       .limit = PAGE_ICAL_MAX};
    if (ical_new(&cal, r->langs[0] ? r->langs : NULL) != 0 ||
        ical_set_name(cal, q.network ? q.network : r->env->cfg->name) != 0 ||
        store_items(r->env->st, &q, ical_item, cal) != 0 || ical_finish(cal, &text, &len) != 0) {
        ical_free(&cal);
        web_error_page(r, out, 500, "the calendar could not be built");
        return;
    }
    char *copy = malloc(len + 1);
    if (copy)
        memcpy(copy, text, len);
    ical_free(&cal);
    memfile(out, copy, len, "text/calendar; charset=utf-8");
    out->disposition = "inline; filename=\"lernet.ics\"";
}

/* ?excel=1 (the form's second button): the CSV Excel reads right, with a
 * UTF-8 byte order mark and CRLF (export/report.h). */
static void report_csv_to(FILE *f, const json_t *rows, int excel)
{
    if (excel)
        report_write_csv_excel(rows, f);
    else
        report_write_csv(rows, f);
}

static int report_feed(void *ctx, const store_item_t *it)
{
    return report_add(ctx, it) != 0;
}

void page_report_csv(const web_req_t *r, web_resp_t *out)
{
    enum report_by by = REPORT_BY_ORG;
    const char *b = web_arg(r, "by"), *from_s = web_arg(r, "from"), *to_s = web_arg(r, "to");
    int64_t from = 0, to = 0;
    report_t *rep = NULL;
    json_t *rows = NULL;
    char *buf = NULL;
    size_t len = 0;
    if (b && report_by_parse(b, &by) != 0) {
        web_error_page(r, out, 400, "by: one of org, theme, role, country, month");
        return;
    }
    if (from_s && civil_day_parse(from_s, &from, 0) != 0) {
        web_error_page(r, out, 400, "from: a day as YYYY-MM-DD");
        return;
    }
    if (to_s && civil_day_parse(to_s, &to, 1) != 0) {
        web_error_page(r, out, 400, "to: a day as YYYY-MM-DD");
        return;
    }
    store_query_t q = {.network = web_arg(r, "network")};
    FILE *f = NULL;
    if (report_new(&rep, by, from, to) == 0 && store_items(r->env->st, &q, report_feed, rep) == 0 &&
        (report_finish(rep, r->env->st), (rows = report_json(rep))) &&
        (f = open_memstream(&buf, &len))) {
        report_csv_to(f, rows, web_arg(r, "excel") != NULL);
        fclose(f);
    }
    json_decref(rows);
    report_free(&rep);
    if (!f) {
        web_error_page(r, out, 500, "the report could not be built");
        return;
    }
    memfile(out, buf, len, "text/csv; charset=utf-8");
    out->disposition = web_arg(r, "excel") ? "attachment; filename=\"lernet-report-excel.csv\""
                                           : "attachment; filename=\"lernet-report.csv\"";
}

/* ---- metrics ----------------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void label(html_t *h, const char *v)
{
    for (; v && *v; v++) {
        if (*v == '\\' || *v == '"')
            html_rawf(h, "\\%c", *v);
        else if (*v == '\n')
            html_raw(h, "\\n");
        else
            html_rawf(h, "%c", *v);
    }
}

static void metric(html_t *h, const char *name, const char *type, const char *help)
{
    html_rawf(h, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{peer="P"} value, for each partner whose field k is a number
 * (scaled by div: ms to seconds). */
static void per_peer(html_t *h, const json_t *peers, const char *name, const char *k, double div)
{
    const json_t *p;
    size_t i;
    json_array_foreach(peers, i, p) {
        const json_t *v = json_object_get(p, k);
        if (!json_is_integer(v))
            continue;
        html_rawf(h, "%s{peer=\"", name);
        label(h, json_string_value(json_object_get(p, "name")));
        if (div == 1)
            html_rawf(h, "\"} %lld\n", (long long)json_integer_value(v));
        else
            html_rawf(h, "\"} %.3f\n", (double)json_integer_value(v) / div);
    }
}

static void peer_metrics(html_t *h, const json_t *peers)
{
    const json_t *p;
    size_t i;
    metric(h, "lernet_peer_connected", "gauge", "1 while the partner is connected.");
    json_array_foreach(peers, i, p) {
        html_raw(h, "lernet_peer_connected{peer=\"");
        label(h, json_string_value(json_object_get(p, "name")));
        html_rawf(h, "\"} %d\n", json_is_true(json_object_get(p, "connected")));
    }
    metric(h, "lernet_peer_info", "gauge",
           "Always 1: who dials (we, they, both) and the endpoint we dial (empty: none).");
    json_array_foreach(peers, i, p) {
        html_raw(h, "lernet_peer_info{peer=\"");
        label(h, json_string_value(json_object_get(p, "name")));
        html_raw(h, "\",dials=\"");
        label(h, json_string_value(json_object_get(p, "dials")));
        html_raw(h, "\",endpoint=\"");
        label(h, json_string_value(json_object_get(p, "endpoint")));
        html_raw(h, "\"} 1\n");
    }
    metric(h, "lernet_peer_in_sync", "gauge",
           "1 if the last exchange with the partner found nothing to exchange, 0 if not "
           "(absent until the first).");
    json_array_foreach(peers, i, p) {
        const json_t *v = json_object_get(p, "in_sync");
        if (!json_is_boolean(v))
            continue;
        html_raw(h, "lernet_peer_in_sync{peer=\"");
        label(h, json_string_value(json_object_get(p, "name")));
        html_rawf(h, "\"} %d\n", json_is_true(v));
    }
    metric(h, "lernet_peer_in_sync_state_seconds", "gauge",
           "Seconds since lernet_peer_in_sync took its value.");
    per_peer(h, peers, "lernet_peer_in_sync_state_seconds", "since_ago_ms", 1000.0);
    metric(h, "lernet_peer_lag_events", "gauge",
           "Events one side lacks, as of the last exchange with the partner "
           "(lernet_peer_lag_age_seconds), less what was stored or acknowledged since.");
    json_array_foreach(peers, i, p) {
        for (int d = 0; d < 2; d++) {
            const json_t *v = json_object_get(p, d ? "they_lack" : "we_lack");
            if (!json_is_integer(v))
                continue;
            html_raw(h, "lernet_peer_lag_events{peer=\"");
            label(h, json_string_value(json_object_get(p, "name")));
            html_rawf(h, "\",direction=\"%s\"} %lld\n", d ? "they_lack" : "we_lack",
                      (long long)json_integer_value(v));
        }
    }
    metric(h, "lernet_peer_lag_age_seconds", "gauge",
           "Seconds since the last exchange with the partner.");
    per_peer(h, peers, "lernet_peer_lag_age_seconds", "as_of_ago_ms", 1000.0);
    metric(h, "lernet_peer_last_sync_age_seconds", "gauge",
           "Seconds since an exchange with the partner last found the two in sync.");
    per_peer(h, peers, "lernet_peer_last_sync_age_seconds", "last_sync_ago_ms", 1000.0);
    metric(h, "lernet_peer_bytes_total", "counter", "Bytes of sync traffic with the partner.");
    json_array_foreach(peers, i, p) {
        for (int d = 0; d < 2; d++) {
            html_raw(h, "lernet_peer_bytes_total{peer=\"");
            label(h, json_string_value(json_object_get(p, "name")));
            html_rawf(h, "\",direction=\"%s\"} %lld\n", d ? "received" : "sent",
                      jint(p, d ? "bytes_received" : "bytes_sent"));
        }
    }
    metric(h, "lernet_peer_failed_tries", "gauge",
           "Failed tries to reach a partner this node dials, since it was last reached.");
    per_peer(h, peers, "lernet_peer_failed_tries", "failed_tries", 1);
}

void page_metrics(const web_req_t *r, web_resp_t *out)
{
    json_t *status = control(r, "status"), *peers = control(r, "peers");
    store_stats_t ss = {0};
    html_t *h = html_new();
    const char *k;
    json_t *v;
    store_stats(r->env->st, &ss);
    metric(h, "lernet_events_stored", "gauge", "Events in the local store.");
    html_rawf(h, "lernet_events_stored %llu\n", (unsigned long long)ss.events);
    metric(h, "lernet_events_pending", "gauge", "Events held back until a gap is filled.");
    html_rawf(h, "lernet_events_pending %llu\n", (unsigned long long)ss.pending);
    metric(h, "lernet_forks", "gauge", "Fork evidence events kept.");
    html_rawf(h, "lernet_forks %llu\n", (unsigned long long)ss.forks);
    metric(h, "lernet_store_bytes", "gauge", "Size of the store on disk.");
    html_rawf(h, "lernet_store_bytes %llu\n", (unsigned long long)ss.bytes);
    metric(h, "lernet_sync_bytes_total", "counter", "Bytes of sync traffic since start.");
    html_rawf(h, "lernet_sync_bytes_total{direction=\"sent\"} %lld\n"
                 "lernet_sync_bytes_total{direction=\"received\"} %lld\n",
              jint(status, "bytes_sent"), jint(status, "bytes_received"));
    metric(h, "lernet_events_received_total", "counter", "Events received from partners.");
    html_rawf(h, "lernet_events_received_total %lld\n", jint(status, "events_received"));
    metric(h, "lernet_refusals_total", "counter", "Events and connections refused, by reason.");
    json_object_foreach(json_object_get(status, "refused"), k, v)
        html_rawf(h, "lernet_refusals_total{reason=\"%s\"} %lld\n", k,
                  (long long)json_integer_value(v));
    peer_metrics(h, json_object_get(peers, "peers"));
    metric(h, "lernet_partners", "gauge", "Partners: configured, and members admitted since start.");
    html_rawf(h, "lernet_partners %lld\n", jint(status, "partners"));
    metric(h, "lernet_partner_memory_bytes", "gauge",
           "Memory kept for each partner, and for each open connection of one.");
    html_rawf(h, "lernet_partner_memory_bytes{per=\"partner\"} %lld\n"
                 "lernet_partner_memory_bytes{per=\"session\"} %lld\n",
              jint(status, "bytes_per_partner"), jint(status, "bytes_per_session"));
    metric(h, "lernet_digests_made_total", "counter",
           "Digests computed from the store (once per change and set of networks).");
    html_rawf(h, "lernet_digests_made_total %lld\n", jint(status, "digests_made"));
    metric(h, "lernet_uptime_seconds", "gauge", "Seconds since the daemon started.");
    html_rawf(h, "lernet_uptime_seconds %.3f\n", (double)jint(status, "uptime_ms") / 1000.0);
    json_decref(status);
    json_decref(peers);
    size_t len = 0;
    char *body = html_take(&h, &len);
    memfile(out, body, len, "text/plain; version=0.0.4; charset=utf-8");
}
