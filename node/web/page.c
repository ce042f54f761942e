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

#include "web/form.h"
#include "web/html.h"
#include "export/erased.h"
#include "export/ical.h"
#include "core/payload_json.h"
#include "core/series.h"
#include "export/report.h"
#include "util/country.h"
#include "util/text.h"
#include "util/time.h"

/* ---- shared --------------------------------------------------------- */

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

/* The item's title in the reader's language, and that language (NULL
 * when erased: the title is then ours, in the page's language). */
static const char *item_title(const web_req_t *r, const store_item_t *it, const char **lang)
{
    Lernet__Text **t;
    size_t n;
    item_texts(it, &t, &n);
    const char *s = payload_text_pick(t, n, r->langs);
    for (size_t i = 0; lang && i < n; i++)
        if (t[i]->text == s)
            *lang = t[i]->lang;
    if (!s && lang)
        *lang = NULL;
    return s ? s : T(r, "(content erased)");
}

/* lang="X" for a text in language X (nothing for one of ours). */
static void lang_attr(html_t *h, const char *lang)
{
    if (!lang || !*lang)
        return;
    html_raw(h, " lang=\"");
    html_text(h, lang);
    html_raw(h, "\"");
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

/* "tors 10 dec. 2026, 09:00 – 12:00 (Europe/Stockholm)": in the event's
 * zone (UTC if unknown), written as the page's language writes dates. */
static void when(html_t *h, const web_req_t *r, const store_item_t *it)
{
    char da[64], ta[16], db[64], tb[16], iso[40];
    const char *tz = item_tz(it);
    web_day_time(r, it->start, tz, da, sizeof da, ta, sizeof ta);
    web_day_time(r, it->end, tz, db, sizeof db, tb, sizeof tb);
    civil_format(it->start, NULL, iso, sizeof iso);
    html_rawf(h, "<time datetime=\"%s\">", iso);
    html_text(h, da);
    html_raw(h, ", ");
    html_text(h, ta);
    html_raw(h, "</time> – ");
    if (strcmp(da, db) != 0) { /* same day: just the time */
        html_text(h, db);
        html_raw(h, ", ");
    }
    html_text(h, tb);
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
    size_t first;      /* ?start=: the index of the first row shown (a page) */
    int64_t now;
    int64_t from, to;  /* the period shown: events overlapping [from, to); to 0: all ahead */
    struct tm day;     /* from, as a day in the node's zone */
    char span[8];      /* "month", "week" or "" (everything ahead) */
} cal_t;
static const char *const filter_names[F_COUNT] = {"network", "theme", "language", "org",
                                                  "country"};
static const char *const filter_labels[F_COUNT] = {N_("Network"), N_("Theme"), N_("Language"),
                                                   N_("Organisation"), N_("Country")};

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
static void titles(html_t *h, const web_req_t *r, const store_item_t *it, const char *id)
{
    Lernet__Text **t;
    size_t n;
    const char *lang = NULL, *best = item_title(r, it, &lang);
    item_texts(it, &t, &n);
    html_rawf(h, "<a class=\"title\" href=\"/event/%s\"", id);
    lang_attr(h, lang);
    html_raw(h, ">");
    html_text(h, best);
    html_raw(h, "</a>");
    if (n < 2)
        return;
    html_raw(h, "<details class=\"langs\"><summary>");
    html_rawf(h, TN(r, "%zu other language", "%zu other languages", n - 1), n - 1);
    html_raw(h, "</summary><ul>");
    for (size_t i = 0; i < n; i++) {
        if (t[i]->text == best)
            continue;
        html_raw(h, "<li><a href=\"?text_lang=");
        html_query(h, t[i]->lang);
        html_raw(h, "\" data-lang=\"");
        html_text(h, t[i]->lang);
        html_raw(h, "\">");
        html_text(h, web_lang_name(r, t[i]->lang));
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
static void series_dates(html_t *h, const web_req_t *r, const store_item_t *it)
{
    series_t sr = series_of(it->workshop, it->meeting);
    series_occ_t *occ;
    size_t n = 0;
    char day[64], clock[16], iso[40], num[32];
    if (!series_repeats(&sr) || !(occ = malloc(SERIES_MAX * sizeof *occ)))
        return;
    if (series_expand(&sr, occ, SERIES_MAX, &n, NULL, 0) == 0) {
        html_raw(h, "<details class=\"series\"><summary>");
        html_rawf(h, TN(r, "Series: %s date", "Series: %s dates", n),
                  web_int(r, (long long)n, num, sizeof num));
        html_raw(h, "</summary><ul>");
        for (size_t i = 0; i < n; i++) {
            int gone = occurrence_cancelled(it, occ[i].start);
            web_day_time(r, occ[i].start, sr.tz, day, sizeof day, clock, sizeof clock);
            civil_format(occ[i].start, NULL, iso, sizeof iso);
            html_raw(h, gone ? "<li class=\"cancelled\"><s>" : "<li>");
            html_rawf(h, "<time datetime=\"%s\">", iso);
            html_text(h, day);
            html_raw(h, ", ");
            html_text(h, clock);
            html_raw(h, "</time>");
            if (occ[i].place && *occ[i].place) {
                html_raw(h, " · ");
                html_text(h, occ[i].place);
            }
            if (gone)
                html_rawf(h, "</s> (%s)", T(r, "cancelled"));
            html_raw(h, "</li>");
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
    when(h, c->r, it);
    series_dates(h, c->r, it);
    html_raw(h, "</div>");
    if (it->cancelled)
        html_rawf(h, "<span class=\"badge cancelled\">%s</span>", T(c->r, "Cancelled"));
    html_rawf(h, "<span class=\"badge\">%s</span>", web_kind_name(c->r, it->kind));
    titles(h, c->r, it, id);
    html_raw(h, "<div class=\"meta\"><span class=\"org\">");
    html_text(h, p->name);
    html_raw(h, "</span>");
    if (p->country[0]) {
        html_raw(h, " (");
        html_text(h, web_country_name(c->r, p->country));
        html_raw(h, ")");
    }
    html_raw(h, " · ");
    html_text(h, it->network);
    if (n_themes) {
        html_raw(h, " · ");
        list(h, themes, n_themes);
    }
    if (it->workshop && it->workshop->language && *it->workshop->language) {
        html_raw(h, " · ");
        html_rawf(h, T(c->r, "in %s"), web_lang_name(c->r, it->workshop->language));
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
    if (c->to && it->start >= c->to)
        return 1; /* ordered by start: the period is over */
    if (!passes(c, it, &p))
        return 0;
    size_t i = c->matched++;
    if (i >= c->first && c->shown < PAGE_MAX_ROWS && c->shown == i - c->first &&
        html_len(c->rows) < PAGE_ROWS_BUDGET) {
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
    html_rawf(h, "<label>%s <select name=\"%s\"><option value=\"\">%s</option>",
              T(c->r, filter_labels[f]), filter_names[f], T(c->r, "all"));
    size_t start = html_len(h);
    for (size_t i = 0; i < n; i++) {
        if (html_len(h) - start > PAGE_OPTIONS_BUDGET) {
            html_raw(h, "<option disabled>(");
            html_rawf(h, TN(c->r, "%zu more", "%zu more", n - i), n - i);
            html_raw(h, ")</option>");
            break;
        }
        html_raw(h, "<option value=\"");
        html_text(h, keys[i]);
        html_raw(h, cur && strcmp(cur, keys[i]) == 0 ? "\" selected>" : "\">");
        html_text(h, f == F_COUNTRY    ? web_country_name(c->r, keys[i])
                     : f == F_LANGUAGE ? web_lang_name(c->r, keys[i])
                                       : keys[i]);
        html_raw(h, "</option>");
    }
    html_raw(h, "</select></label>");
}

/* The report for a funder's period, as `lernet report --format csv`. */
static void report_form(html_t *h, cal_t *c)
{
    const web_req_t *r = c->r;
    html_rawf(h, "<h2>%s</h2><form class=\"filters\" id=\"report\" method=\"get\" "
                 "action=\"/report.csv\"><label>%s <input type=\"date\" name=\"from\"></label>"
                 "<label>%s <input type=\"date\" name=\"to\"></label>",
              T(r, "Report (CSV)"), T(r, "From"), T(r, "To"));
    filter_select(h, c, F_NETWORK);
    html_rawf(h, "<label>%s <select name=\"by\">", T(r, "By"));
    /* the groupings' labels, as report.h names them */
    static const char *const by_label[][2] = {
        {"org", N_("organisation")}, {"theme", N_("theme")}, {"role", N_("role")},
        {"country", N_("country")},  {"month", N_("month")},
    };
    const report_grouping_t *g;
    for (size_t i = 0; (g = report_grouping_at(i)); i++) {
        const char *label = g->label;
        for (size_t j = 0; j < sizeof by_label / sizeof by_label[0]; j++)
            if (strcmp(g->name, by_label[j][0]) == 0)
                label = T(r, by_label[j][1]);
        html_rawf(h, "<option value=\"%s\">%s</option>", g->name, label);
    }
    html_rawf(h, "</select></label><button>%s</button>"
                 "<button name=\"excel\" value=\"1\">%s</button></form>",
              T(r, "Download"), T(r, "Download for Excel"));
}

/* ---- the calendar's period and pages ---------------------------------- */

static const char *const month_names[12] = {
    N_("January"), N_("February"), N_("March"),     N_("April"),   N_("May"),      N_("June"),
    N_("July"),    N_("August"),   N_("September"), N_("October"), N_("November"), N_("December"),
};

/* The instant a day (y, m 0-11, d; normalised by mktime's rules) begins
 * in zone tz, and that day as a struct tm (with its weekday). */
static int64_t day_start(int y, int m, int d, const char *tz, struct tm *out)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m, .tm_mday = d, .tm_hour = 12};
    time_t noon = timegm(&tm); /* normalises, and fills tm_wday */
    gmtime_r(&noon, &tm);
    char s[48], why[128];
    int64_t t = 0;
    snprintf(s, sizeof s, "%04d-%02d-%02dT00:00", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    if (civil_parse(s, tz, &t, why, sizeof why) != 0) /* a zone this system lacks */
        civil_parse(s, "UTC", &t, why, sizeof why);
    if (out)
        *out = tm;
    return t;
}

/* ?from=YYYY-MM-DD and ?span=month|week: the month or the week (from
 * Monday) holding that day, in the node's zone; no span: everything from
 * that day (today without from) on. ?start=: the first row of the page. */
static void cal_period(cal_t *c)
{
    const char *tz = country_zone(c->r->env->cfg->country);
    const char *from = web_arg(c->r, "from"), *span = web_arg(c->r, "span");
    const char *start = web_arg(c->r, "start");
    struct tm tm;
    time_t now = (time_t)c->now;
    int y, m, d;
    if (!from || sscanf(from, "%4d-%2d-%2d", &y, &m, &d) != 3 || y < 1970 || y > 9999 || m < 1 ||
        m > 12 || d < 1 || d > 31) {
        struct tm loc;
        if (civil_local(c->now, tz, &loc) != 0)
            gmtime_r(&now, &loc);
        y = loc.tm_year + 1900, m = loc.tm_mon + 1, d = loc.tm_mday;
        from = NULL;
    }
    snprintf(c->span, sizeof c->span, "%s",
             span && (strcmp(span, "month") == 0 || strcmp(span, "week") == 0) ? span : "");
    if (strcmp(c->span, "month") == 0) {
        c->from = day_start(y, m - 1, 1, tz, &c->day);
        c->to = day_start(y, m, 1, tz, &tm);
    } else if (strcmp(c->span, "week") == 0) {
        day_start(y, m - 1, d, tz, &tm);
        int back = (tm.tm_wday + 6) % 7; /* to Monday */
        c->from = day_start(y, m - 1, d - back, tz, &c->day);
        c->to = day_start(y, m - 1, d - back + 7, tz, &tm);
    } else {
        c->from = from ? day_start(y, m - 1, d, tz, &c->day) : c->now;
        if (!from)
            day_start(y, m - 1, d, tz, &c->day);
        c->to = 0;
    }
    char *end = NULL;
    unsigned long long k = start ? strtoull(start, &end, 10) : 0;
    c->first = start && end && !*end && k < 1000000 ? (size_t)k : 0;
}

/* href to the calendar with the filters kept and this period and page. */
static void cal_href(html_t *h, const cal_t *c, const struct tm *day, const char *span,
                     size_t first)
{
    html_raw(h, "href=\"/?");
    int amp = 0;
    for (int f = 0; f < F_COUNT; f++) {
        const char *v = web_arg(c->r, filter_names[f]);
        if (!v)
            continue;
        html_rawf(h, "%s%s=", amp++ ? "&amp;" : "", filter_names[f]);
        html_query(h, v);
    }
    if (day)
        html_rawf(h, "%sfrom=%04d-%02d-%02d", amp++ ? "&amp;" : "", day->tm_year + 1900,
                  day->tm_mon + 1, day->tm_mday);
    if (span && *span)
        html_rawf(h, "%sspan=%s", amp++ ? "&amp;" : "", span);
    if (first)
        html_rawf(h, "%sstart=%zu", amp++ ? "&amp;" : "", first);
    html_raw(h, "\"");
}

/* "May 2027", or a week as its days: "Mon 10 May 2027 – Sun 16 May 2027". */
static void period_name(html_t *h, const cal_t *c, const struct tm *day, const char *span)
{
    char a[64], b[64];
    if (strcmp(span, "month") == 0) {
        html_rawf(h, "%s %d", T(c->r, month_names[day->tm_mon]), day->tm_year + 1900);
        return;
    }
    struct tm last;
    day_start(day->tm_year + 1900, day->tm_mon, day->tm_mday + 6, "UTC", &last);
    i18n_date(c->r->lang, day, a, sizeof a);
    i18n_date(c->r->lang, &last, b, sizeof b);
    html_text(h, a);
    html_raw(h, " – ");
    html_text(h, b);
}

/* Previous and next month or week, and a jump to any day. */
static void cal_nav(html_t *h, const cal_t *c)
{
    const web_req_t *r = c->r;
    const char *tz = country_zone(r->env->cfg->country);
    const char *span = c->span[0] ? c->span : "month";
    int y = c->day.tm_year + 1900, m = c->day.tm_mon, d = c->day.tm_mday;
    struct tm prev, next, today;
    time_t now = (time_t)c->now;
    int month = strcmp(span, "month") == 0;
    day_start(y, month ? m - 1 : m, month ? 1 : d - 7, tz, &prev);
    day_start(y, month ? m + 1 : m, month ? 1 : d + 7, tz, &next);
    if (civil_local(c->now, tz, &today) != 0)
        gmtime_r(&now, &today);
    html_rawf(h, "<nav class=\"calendar-nav\" aria-label=\"%s\"><ul>", T(r, "Dates"));
    if (c->span[0]) {
        html_raw(h, "<li><a rel=\"prev\" id=\"prev-period\" ");
        cal_href(h, c, &prev, span, 0);
        html_raw(h, ">← ");
        period_name(h, c, &prev, span);
        html_raw(h, "</a></li><li aria-current=\"page\"><strong id=\"period\">");
        period_name(h, c, &c->day, span);
        html_raw(h, "</strong></li><li><a rel=\"next\" id=\"next-period\" ");
        cal_href(h, c, &next, span, 0);
        html_raw(h, ">");
        period_name(h, c, &next, span);
        html_raw(h, " →</a></li>");
    }
    html_raw(h, "<li><a ");
    cal_href(h, c, &today, "month", 0);
    html_rawf(h, ">%s</a></li><li><a ", T(r, "This month"));
    cal_href(h, c, &today, "week", 0);
    html_rawf(h, ">%s</a></li><li><a ", T(r, "This week"));
    cal_href(h, c, NULL, NULL, 0);
    html_rawf(h, ">%s</a></li></ul></nav>", T(r, "Everything ahead"));
    /* the jump: a day and what to show around it (filters kept) */
    html_rawf(h, "<form class=\"filters\" id=\"jump\" method=\"get\" action=\"/\">"
                 "<label>%s <input type=\"date\" name=\"from\" value=\"%04d-%02d-%02d\"></label>"
                 "<label>%s <select name=\"span\">",
              T(r, "Go to"), c->day.tm_year + 1900, c->day.tm_mon + 1, c->day.tm_mday, T(r, "Show"));
    html_rawf(h, "<option value=\"month\"%s>%s</option><option value=\"week\"%s>%s</option>"
                 "<option value=\"\"%s>%s</option></select></label>",
              strcmp(c->span, "month") == 0 ? " selected" : "", T(r, "the month"),
              strcmp(c->span, "week") == 0 ? " selected" : "", T(r, "the week"),
              c->span[0] ? "" : " selected", T(r, "everything from that day"));
    for (int f = 0; f < F_COUNT; f++) {
        const char *v = web_arg(r, filter_names[f]);
        if (!v)
            continue;
        html_rawf(h, "<input type=\"hidden\" name=\"%s\" value=\"", filter_names[f]);
        html_text(h, v);
        html_raw(h, "\">");
    }
    html_rawf(h, "<button>%s</button></form>", T(r, "Go"));
}

/* "Events 51–100 of 2,843" and the pages before and after. */
static void cal_pager(html_t *h, const cal_t *c)
{
    const web_req_t *r = c->r;
    char a[32], b[32], n[32];
    if (!c->matched || (c->first == 0 && c->shown == c->matched))
        return;
    const struct tm *day = c->from == c->now && !c->span[0] && !web_arg(r, "from") ? NULL : &c->day;
    html_rawf(h, "<nav class=\"pager\" aria-label=\"%s\"><p id=\"page\">", T(r, "Pages"));
    html_rawf(h, T(r, "Events %s–%s of %s"), web_int(r, (long long)c->first + (c->shown ? 1 : 0), a, sizeof a),
              web_int(r, (long long)(c->first + c->shown), b, sizeof b),
              web_int(r, (long long)c->matched, n, sizeof n));
    html_raw(h, "</p><ul>");
    if (c->first > 0) {
        size_t back = c->first > PAGE_MAX_ROWS ? c->first - PAGE_MAX_ROWS : 0;
        html_raw(h, "<li><a rel=\"prev\" id=\"prev-page\" ");
        cal_href(h, c, day, c->span, back);
        html_rawf(h, ">← %s</a></li>", T(r, "Earlier"));
    }
    if (c->first + c->shown < c->matched) {
        html_raw(h, "<li><a rel=\"next\" id=\"next-page\" ");
        cal_href(h, c, day, c->span, c->first + (c->shown ? c->shown : 1));
        html_rawf(h, ">%s →</a></li>", T(r, "Later"));
    }
    html_raw(h, "</ul></nav>");
}

void page_calendar(const web_req_t *r, web_resp_t *out)
{
    cal_t c = {.r = r, .rows = html_new(), .now = time(NULL)};
    for (int f = 0; f < F_COUNT; f++)
        c.opts[f] = json_object();
    cal_period(&c);
    store_query_t q = {.starts_after = c.from};
    int rc = store_items(r->env->st, &q, cal_item, &c);
    html_t *h = html_new();
    html_rawf(h, "<h1>%s</h1><p>%s <a href=\"/calendar.ics\">%s</a> · "
                 "<a href=\"/report.csv\">%s</a></p>",
              T(r, "Calendar"),
              T(r, "Upcoming workshops and network meetings from every node this one reaches."),
              T(r, "Subscribe (iCal)"), T(r, "Report (CSV)"));
    cal_nav(h, &c);
    html_raw(h, "<form class=\"filters\" id=\"filters\" method=\"get\" action=\"/\">");
    for (int f = 0; f < F_COUNT; f++)
        filter_select(h, &c, f);
    if (web_arg(r, "from"))
        html_rawf(h, "<input type=\"hidden\" name=\"from\" value=\"%04d-%02d-%02d\">",
                  c.day.tm_year + 1900, c.day.tm_mon + 1, c.day.tm_mday);
    if (c.span[0])
        html_rawf(h, "<input type=\"hidden\" name=\"span\" value=\"%s\">", c.span);
    html_rawf(h, "<button>%s</button></form>", T(r, "Filter"));
    if (rc != 0)
        html_rawf(h, "<p class=\"error\">%s</p>", T(r, "The store could not be read."));
    char num[32];
    html_raw(h, "<p class=\"count\" id=\"count\">");
    html_rawf(h, TN(r, "%s event", "%s events", c.matched), web_int(r, (long long)c.matched, num, sizeof num));
    html_raw(h, "</p>");
    if (!c.matched)
        html_rawf(h, "<p id=\"none\">%s</p>", c.span[0] ? T(r, "Nothing in this period.")
                                                       : T(r, "Nothing ahead."));
    else {
        char *rows = html_take(&c.rows, NULL);
        html_raw(h, "<ul class=\"events\">");
        html_raw(h, rows);
        free(rows);
        html_raw(h, "</ul>");
    }
    html_free(&c.rows);
    cal_pager(h, &c);
    report_form(h, &c);
    for (int f = 0; f < F_COUNT; f++)
        json_decref(c.opts[f]);
    web_page(r, out, 200, T(r, "Calendar"), html_take(&h, NULL));
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

static void url_row(html_t *h, const web_req_t *r, const char *v)
{
    if (!v || !*v)
        return;
    html_rawf(h, "<tr><th>%s</th><td>", T(r, "Online"));
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

static void time_rows(html_t *h, const web_req_t *r, const store_item_t *it)
{
    html_rawf(h, "<tr><th>%s</th><td>", T(r, "When"));
    when(h, r, it);
    series_dates(h, r, it);
    html_raw(h, "</td></tr>");
}

static const char *status_name(const web_req_t *r, int s)
{
    static const char *names[] = {"", N_("planned"), N_("confirmed"), N_("full"),
                                  N_("cancelled")};
    return s > 0 && s <= 4 ? T(r, names[s]) : "";
}

static void workshop_rows(html_t *h, const web_req_t *r, const store_item_t *it)
{
    const Lernet__Workshop *w = it->workshop;
    char num[32];
    texts_row(h, T(r, "Title"), w->title, w->n_title);
    texts_row(h, T(r, "Description"), w->description, w->n_description);
    time_rows(h, r, it);
    text_row(h, T(r, "Place"), w->place);
    url_row(h, r, w->online_url);
    text_row(h, T(r, "Organiser"), w->organiser);
    if (w->capacity)
        html_rawf(h, "<tr><th>%s</th><td>%s</td></tr>", T(r, "Capacity"),
                  web_int(r, w->capacity, num, sizeof num));
    list_row(h, T(r, "Themes"), w->themes, w->n_themes);
    list_row(h, T(r, "For"), w->roles, w->n_roles);
    if (w->language && *w->language)
        text_row(h, T(r, "Language"), web_lang_name(r, w->language));
    text_row(h, T(r, "Status"), it->cancelled ? T(r, "cancelled") : status_name(r, w->status));
}

static void meeting_rows(html_t *h, const web_req_t *r, const store_item_t *it)
{
    const Lernet__Meeting *m = it->meeting;
    texts_row(h, T(r, "Title"), m->title, m->n_title);
    time_rows(h, r, it);
    text_row(h, T(r, "Place"), m->place);
    url_row(h, r, m->online_url);
    text_row(h, T(r, "Organiser"), m->organiser);
    texts_row(h, T(r, "Agenda"), m->agenda, m->n_agenda);
    texts_row(h, T(r, "Minutes"), m->minutes, m->n_minutes);
    list_row(h, T(r, "Themes"), m->themes, m->n_themes);
}

static void experience_rows(html_t *h, const web_req_t *r, const store_item_t *it)
{
    const Lernet__Experience *e = it->experience;
    char about[EVENT_ID_HEX_SIZE];
    event_id_hex(about, it->about);
    html_rawf(h, "<tr><th>%s</th><td><a href=\"/event/%s\">%s</a></td></tr>", T(r, "About"),
              about, T(r, "the workshop or meeting reported on"));
    texts_row(h, T(r, "Title"), e->title, e->n_title);
    texts_row(h, T(r, "Experience"), e->text, e->n_text);
    texts_row(h, T(r, "Lessons"), e->lessons, e->n_lessons);
    list_row(h, T(r, "Tags"), e->tags, e->n_tags);
    if (e->n_participants) {
        html_rawf(h, "<tr><th>%s</th><td>", T(r, "Participants"));
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
    char title_lang[36];
    char network[EVENT_MAX_NETWORK + 1];
    int kind;
    int editable; /* this node's own, and can still be corrected or cancelled */
    int own;      /* this node's own (its organiser shares its feedback) */
} ev_page_t;

static int ev_item(void *ctx, const store_item_t *it)
{
    ev_page_t *e = ctx;
    html_t *h = e->h;
    e->found = 1;
    e->kind = it->kind;
    e->editable = form_editable(e->r, it);
    e->own = memcmp(it->author, e->r->env->author, KEYS_PUBLIC_BYTES) == 0;
    memcpy(e->id, it->id, sizeof e->id);
    memcpy(e->author, it->author, sizeof e->author);
    const web_req_t *r = e->r;
    const char *lang = NULL;
    snprintf(e->title, sizeof e->title, "%s", item_title(r, it, &lang));
    snprintf(e->title_lang, sizeof e->title_lang, "%s", lang ? lang : "");
    html_rawf(h, "<p class=\"kind\"><span class=\"badge\">%s</span> ",
              web_kind_name(r, it->kind));
    html_rawf(h, "%s ", T(r, "in network"));
    html_text(h, it->network);
    html_raw(h, "</p><h1 id=\"title\"");
    lang_attr(h, lang);
    html_raw(h, ">");
    html_text(h, e->title);
    html_raw(h, "</h1>");
    if (it->cancelled) {
        html_rawf(h, "<p class=\"bad\" id=\"cancelled\"><span class=\"badge cancelled\">"
                     "%s</span> ", T(r, "Cancelled"));
        html_text(h, it->cancel_reason);
        html_raw(h, "</p>");
    }
    if (it->author_revoked)
        html_rawf(h, "<p class=\"bad\">%s</p>",
                  T(r, "The publishing node's identity has been revoked."));
    else if (it->author_removed)
        html_rawf(h, "<p class=\"bad\">%s</p>",
                  T(r, "The publishing node is no longer a member of this network."));
    if (it->hidden) {
        store_profile_t p;
        char day[64];
        web_day_time(r, it->hidden_ms / 1000, NULL, day, sizeof day, NULL, 0);
        html_rawf(h, "<p class=\"bad\" id=\"hidden\"><span class=\"badge\">%s</span> ",
                  T(r, "Hidden"));
        html_rawf(h, T(r, "by a coordinator of this network on %s"), day);
        if (store_profile(r->env->st, it->hidden_by, &p)) {
            html_raw(h, " (");
            html_text(h, p.name);
            html_raw(h, ")");
        }
        if (it->hide_reason && *it->hide_reason) {
            html_raw(h, ": ");
            html_text(h, it->hide_reason);
        }
        html_raw(h, "</p>");
    }
    snprintf(e->network, sizeof e->network, "%s", it->network);
    html_raw(h, "<table class=\"fields\">");
    if (it->resource || it->reply)
        library_rows(h, r, it);
    else if (it->workshop)
        workshop_rows(h, r, it);
    else if (it->meeting)
        meeting_rows(h, r, it);
    else if (it->experience)
        experience_rows(h, r, it);
    else if (it->goal || it->questionnaire || it->feedback)
        programme_rows(h, e->r, it);
    else if (it->erased) {
        char line[400];
        /* erased_text: "erased on DAY by ..." (export/erased.h, English) */
        html_rawf(h, "<tr><td class=\"bad\">%s ", T(r, "The content of this event was"));
        html_text(h, erased_text(it, line, sizeof line));
        html_rawf(h, ". %s</td></tr>", T(r, "Only its signed header stays."));
    } else
        html_rawf(h, "<tr><td>%s</td></tr>", T(r, "The content of this event was erased."));
    html_rawf(h, "<tr><th>%s</th><td>%u (%s)</td></tr></table>", T(r, "Revision"), it->revision,
              it->revision ? T(r, "updated by its organiser") : T(r, "as first published"));
    return 1;
}

/* Re-checks the original event from its stored bytes: id, payload hash
 * and Ed25519 signature. What a teacher needs (who, and that it is
 * genuine) is in plain words; the keys and ids, for operators and
 * `lernet verify`, under a collapsed "technical details". */
static void signature_section(html_t *h, ev_page_t *e)
{
    char hex[EVENT_ID_HEX_SIZE], why[256] = "", fpr[KEYS_FPR_STR_SIZE], afpr[KEYS_FPR_STR_SIZE];
    const web_req_t *r = e->r;
    event_t *ev = NULL;
    store_profile_t p;
    event_id_hex(hex, e->id);
    int rc = store_get_event(r->env->st, hex, &ev, why, sizeof why);
    keys_fingerprint(afpr, e->author);
    html_rawf(h, "<h2>%s</h2><table><tr><th>%s</th><td id=\"org\">", T(r, "Organiser"),
              T(r, "Organisation"));
    if (store_profile(r->env->st, e->author, &p) == 1) {
        html_text(h, p.name);
        html_raw(h, p.municipality[0] ? ", " : "");
        html_text(h, p.municipality);
        html_raw(h, " (");
        html_text(h, web_country_name(r, p.country));
        html_raw(h, ")");
    } else {
        html_text(h, T(r, "(no profile published)"));
    }
    html_rawf(h, "</td></tr><tr><th>%s</th>", T(r, "Genuine?"));
    if (rc == STORE_OK)
        html_rawf(h, "<td class=\"ok\" id=\"verified\">%s</td></tr></table>",
                  T(r, "Yes: signed by the organiser's node, checked again just now."));
    else
        html_rawf(h, "<td class=\"bad\" id=\"verified\">%s</td></tr></table>",
                  T(r, "Not confirmed: the signature does not check out. Ask the organiser "
                       "before relying on it."));
    html_rawf(h, "<details class=\"tech\"><summary>%s</summary><table><tr><th>%s</th><td>"
                 "<code>%s</code></td></tr>",
              T(r, "Technical details"), T(r, "Node identity"), afpr);
    if (rc == STORE_OK) {
        keys_fingerprint(fpr, ev->signer);
        html_rawf(h, "<tr><th>%s</th><td class=\"ok\" id=\"signature\">", T(r, "Signature"));
        html_rawf(h, T(r, "verified: Ed25519 signature by %s, checked again from the stored "
                          "bytes just now"),
                  memcmp(ev->signer, ev->author, KEYS_PUBLIC_BYTES) == 0
                      ? T(r, "the node's identity key")
                      : T(r, "a signing key the node certified"));
        html_rawf(h, " <code>%s</code></td></tr>", fpr);
    } else {
        html_rawf(h, "<tr><th>%s</th><td class=\"bad\" id=\"signature\">%s ",
                  T(r, "Signature"), T(r, "NOT verified:"));
        html_text(h, why);
        html_raw(h, "</td></tr>");
    }
    html_rawf(h, "<tr><th>%s</th><td><code class=\"id\">%s</code></td></tr></table></details>",
              T(r, "Event id"), hex);
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
    const char *lang = NULL, *title = item_title(c->r, it, &lang);
    html_rawf(c->h, "<li class=\"report\"><a href=\"/event/%s\"", id);
    lang_attr(c->h, lang);
    html_raw(c->h, ">");
    html_text(c->h, title);
    html_rawf(c->h, "</a> <span class=\"meta\">%s ", T(c->r, "by"));
    html_text(c->h, p.name[0] ? p.name : T(c->r, "(unknown organisation)"));
    html_raw(c->h, ", ");
    html_rawf(c->h, TN(c->r, "%u participant", "%u participants", total), total);
    html_raw(c->h, "</span></li>");
    return 0;
}

void page_event(const web_req_t *r, web_resp_t *out)
{
    ev_page_t e = {.r = r, .h = html_new()};
    char why[256] = "";
    if (strstr(r->path, "/file/") && !r->form) {
        html_free(&e.h);
        library_file(r, out, r->path);
        return;
    }
    /* ID/edit and ID/cancel: the forms that correct and cancel (form.c) */
    size_t len = strlen(r->path);
    char id[EVENT_ID_HEX_SIZE];
    for (int which = 0; which < 2; which++) {
        const char *tail = which ? "/cancel" : "/edit";
        size_t tl = strlen(tail);
        if (len > tl && len - tl < sizeof id && strcmp(r->path + len - tl, tail) == 0) {
            memcpy(id, r->path, len - tl);
            id[len - tl] = '\0';
            html_free(&e.h);
            if (text_hex_prefix(id, EVENT_ID_BYTES, TEXT_HEX_LOWER, NULL, NULL) != 0)
                web_error_page(r, out, 404, T(r, "an event id is 8 to 64 lowercase hex characters"));
            else if (which)
                form_cancel(r, out, id);
            else
                form_edit(r, out, id);
            return;
        }
    }
    if (r->form) {
        html_free(&e.h);
        web_error_page(r, out, 405, T(r, "only the page's forms take POST"));
        return;
    }
    if (text_hex_prefix(r->path, EVENT_ID_BYTES, TEXT_HEX_LOWER, NULL, NULL) != 0) {
        html_free(&e.h);
        web_error_page(r, out, 404, T(r, "an event id is 8 to 64 lowercase hex characters"));
        return;
    }
    if (web_arg(r, "published"))
        html_rawf(e.h, "<p class=\"notice\" id=\"published\" role=\"status\">%s</p>",
                  T(r, "Published, signed by this node and pushed to its partners."));
    else if (web_arg(r, "updated"))
        html_rawf(e.h, "<p class=\"notice\" id=\"updated\" role=\"status\">%s</p>",
                  T(r, "Corrected: the new version is signed and on its way to the partners."));
    else if (web_arg(r, "cancelled"))
        html_rawf(e.h, "<p class=\"notice\" id=\"cancel-notice\" role=\"status\">%s</p>",
                  T(r, "Cancelled: the partners are told."));
    int rc = store_item(r->env->st, r->path, ev_item, &e, why, sizeof why);
    if (!e.found) {
        html_free(&e.h);
        web_error_page(r, out, 404, rc == STORE_ERR_AMBIGUOUS ? why : T(r, "no such event here"));
        return;
    }
    char hex[EVENT_ID_HEX_SIZE];
    event_id_hex(hex, e.id);
    if (e.editable)
        html_rawf(e.h, "<p class=\"actions\"><a href=\"/event/%s/edit\" id=\"edit\">%s</a> · "
                       "<a href=\"/event/%s/cancel\" id=\"cancel\">%s</a></p>",
                  hex, T(r, "Correct this event"), hex, T(r, "Cancel this event"));
    signature_section(e.h, &e);
    if (e.kind == LERNET__KIND__KIND_WORKSHOP || e.kind == LERNET__KIND__KIND_MEETING) {
        reports_t rep = {r, e.h, 0};
        store_query_t q = {.kind = LERNET__KIND__KIND_EXPERIENCE, .about = e.id};
        html_rawf(e.h, "<h2>%s</h2><ul class=\"reports\" id=\"reports\">",
                  T(r, "Experience reports"));
        store_items(r->env->st, &q, report_item, &rep);
        html_raw(e.h, "</ul>");
        if (!rep.n)
            html_rawf(e.h, "<p>%s</p>", T(r, "None yet."));
        html_rawf(e.h, "<p><a href=\"/publish/experience?about=%s\">%s</a></p>", hex,
                  T(r, "Write an experience report about this event"));
        programme_feedback_section(e.h, r, e.id, e.own);
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

static void ago(html_t *h, const web_req_t *r, const json_t *v)
{
    char num[32];
    if (!json_is_integer(v)) {
        html_text(h, T(r, "never"));
        return;
    }
    long long ms = json_integer_value(v);
    if (ms < 60000)
        html_rawf(h, T(r, "%s s ago"), web_decimal(r, (double)ms / 1000.0, 1, num, sizeof num));
    else if (ms < 3600000)
        html_rawf(h, T(r, "%s min ago"), web_int(r, ms / 60000, num, sizeof num));
    else
        html_rawf(h, T(r, "%s h ago"), web_decimal(r, (double)ms / 3600000.0, 1, num, sizeof num));
}

static void bytes(html_t *h, const web_req_t *r, long long v)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    char num[32];
    double x = (double)v;
    size_t u = 0;
    while (x >= 1024 && u + 1 < sizeof unit / sizeof unit[0])
        x /= 1024, u++;
    html_rawf(h, "%s\u00a0%s", web_decimal(r, x, u ? 1 : 0, num, sizeof num), unit[u]);
}

/* A count as of the last exchange, or "?" while never measured. */
static void lack(html_t *h, const web_req_t *r, const json_t *p, const char *k)
{
    const json_t *v = json_object_get(p, k);
    char num[32];
    if (json_is_integer(v))
        html_raw(h, web_int(r, (long long)json_integer_value(v), num, sizeof num));
    else
        html_raw(h, "?");
}

/* In sync or not, since when (sync_peers_json). */
static void sync_cell(html_t *h, const web_req_t *r, const json_t *p)
{
    const json_t *v = json_object_get(p, "in_sync");
    if (!json_is_boolean(v)) {
        html_rawf(h, "<td>%s</td>", T(r, "not known yet"));
        return;
    }
    /* coloured by a span: td.ok marks a partner that is connected */
    html_rawf(h, "<td><span class=\"%s\">%s</span>, %s ", json_is_true(v) ? "ok" : "bad",
              json_is_true(v) ? T(r, "in sync") : T(r, "not in sync"), T(r, "since"));
    ago(h, r, json_object_get(p, "since_ago_ms"));
    html_raw(h, "</td>");
}

/* Who dials whom, in words ("we", "they", "both" in the daemon's JSON). */
static const char *dials_word(const web_req_t *r, const char *d)
{
    if (!d)
        return "";
    if (strcmp(d, "we") == 0)
        return T(r, "this node");
    if (strcmp(d, "they") == 0)
        return T(r, "the partner");
    if (strcmp(d, "both") == 0)
        return T(r, "both");
    return d;
}

/* One line a coordinator can act on: are the partners reached? */
static void peers_summary(html_t *h, const web_req_t *r, const json_t *peers)
{
    size_t n = json_array_size(peers), up = 0, i;
    const json_t *p;
    json_array_foreach(peers, i, p) up += json_is_true(json_object_get(p, "connected"));
    if (!n)
        html_rawf(h, "<p id=\"summary\">%s</p>",
                  T(r, "This node has no partners yet: events published here stay here. Ask "
                       "your network's coordinator which partner to connect to."));
    else if (up == n)
        html_rawf(h, "<p class=\"ok\" id=\"summary\">%s</p>",
                  T(r, "Every partner is connected: what is published here reaches them."));
    else {
        html_raw(h, "<p class=\"bad\" id=\"summary\">");
        html_rawf(h, TN(r, "%zu of %zu partners is not connected.",
                        "%zu of %zu partners are not connected.", n - up),
                  n - up, n);
        html_rawf(h, " %s</p>",
                  T(r, "Events reach them later, when they are back. If this lasts more than a "
                       "day, tell the person who runs this node and the partner's contact "
                       "(\"Last error\" below says what failed)."));
    }
}

static void peers_section(html_t *h, const web_req_t *r, const json_t *peers)
{
    const json_t *p;
    size_t i;
    char num[32];
    html_rawf(h, "<h2>%s</h2>", T(r, "Partners"));
    peers_summary(h, r, peers);
    html_rawf(h, "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"%s\">"
                 "<table id=\"peers\"><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                 "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                 "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                 "<th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr>",
              T(r, "Partners"), T(r, "Partner"), T(r, "Address"), T(r, "Who connects"),
              T(r, "Connection"), T(r, "Sync"), T(r, "Events we lack / it lacks"), T(r, "As of"),
              T(r, "Bytes sent / received"), T(r, "Events received"), T(r, "Last error"));
    json_array_foreach(peers, i, p) {
        int up = json_is_true(json_object_get(p, "connected"));
        const char *ep = json_string_value(json_object_get(p, "endpoint"));
        html_raw(h, "<tr class=\"peer\"><td>");
        html_text(h, json_string_value(json_object_get(p, "name")));
        html_raw(h, "</td><td>");
        if (ep && ep[0]) {
            html_raw(h, "<code class=\"id\">");
            html_text(h, ep);
            html_raw(h, "</code>");
        } else
            html_text(h, T(r, "none: it connects to this node"));
        html_raw(h, "</td><td>");
        html_text(h, dials_word(r, json_string_value(json_object_get(p, "dials"))));
        html_rawf(h, "</td><td class=\"%s\">%s</td>", up ? "ok" : "bad",
                  up ? T(r, "connected") : T(r, "not connected"));
        sync_cell(h, r, p);
        html_raw(h, "<td>");
        lack(h, r, p, "we_lack");
        html_raw(h, " / ");
        lack(h, r, p, "they_lack");
        html_raw(h, "</td><td>");
        ago(h, r, json_object_get(p, "as_of_ago_ms"));
        html_raw(h, "</td><td>");
        bytes(h, r, jint(p, "bytes_sent"));
        html_raw(h, " / ");
        bytes(h, r, jint(p, "bytes_received"));
        html_rawf(h, "</td><td>%s</td><td>", web_int(r, jint(p, "events_received"), num, sizeof num));
        html_text(h, json_string_value(json_object_get(p, "last_error")));
        html_raw(h, "</td></tr>");
    }
    if (!json_array_size(peers))
        html_rawf(h, "<tr><td colspan=\"10\">%s</td></tr>", T(r, "No partners configured."));
    html_raw(h, "</table></div>");
}

static void refusals_section(html_t *h, const web_req_t *r, const json_t *refused)
{
    const char *k;
    json_t *v;
    char num[32];
    html_rawf(h, "<h2>%s</h2><p>%s</p><table id=\"refusals\"><tr><th scope=\"col\">%s</th>"
                 "<th scope=\"col\">%s</th></tr>",
              T(r, "Refused"),
              T(r, "What partners sent that this node did not accept (reasons as the node logs "
                   "them). A few are normal; many of one kind: tell the person who runs this "
                   "node."),
              T(r, "Reason"), T(r, "Count"));
    json_object_foreach((json_t *)refused, k, v) {
        html_raw(h, "<tr><td><code class=\"id\">");
        html_text(h, k);
        html_rawf(h, "</code></td><td>%s</td></tr>",
                  web_int(r, (long long)json_integer_value(v), num, sizeof num));
    }
    if (!json_object_size(refused))
        html_rawf(h, "<tr><td colspan=\"2\">%s</td></tr>",
                  T(r, "Nothing refused since the node started."));
    html_raw(h, "</table>");
}

static void forks_section(html_t *h, const web_req_t *r)
{
    uint8_t(*keys)[KEYS_PUBLIC_BYTES] = NULL;
    size_t n = 0;
    store_forked_authors(r->env->st, &keys, &n);
    html_rawf(h, "<h2>%s</h2><p id=\"forks\">", T(r, "Conflicting publications"));
    if (!n)
        html_text(h, T(r, "None: no organisation has published two different versions of the "
                          "same event."));
    else {
        html_rawf(h, TN(r, "%zu organisation's node published two different versions of the "
                           "same event.",
                        "%zu organisations' nodes published two different versions of the "
                        "same event.",
                        n),
                  n);
        html_rawf(h, " %s", T(r, "Its key may be in someone else's hands: contact that "
                                  "organisation and your network's coordinator (the evidence "
                                  "is kept; `lernet verify` shows it)."));
    }
    html_raw(h, "</p>");
    if (n)
        html_raw(h, "<ul>");
    for (size_t i = 0; i < n && i < PAGE_MAX_ROWS; i++) {
        char fpr[KEYS_FPR_STR_SIZE];
        store_profile_t p;
        keys_fingerprint(fpr, keys[i]);
        html_raw(h, "<li>");
        if (store_profile(r->env->st, keys[i], &p) == 1)
            html_text(h, p.name);
        html_rawf(h, " <code class=\"id\">%s</code></li>", fpr);
    }
    if (n)
        html_raw(h, "</ul>");
    free(keys);
}

typedef struct members {
    const web_req_t *r;
    html_t *h;
} members_t;

static int member_row(void *ctx, const store_member_t *m)
{
    members_t *c = ctx;
    const web_req_t *r = c->r;
    html_t *h = c->h;
    char fpr[KEYS_FPR_STR_SIZE];
    keys_fingerprint(fpr, m->key);
    html_raw(h, "<tr><td>");
    html_text(h, m->name);
    html_rawf(h, "</td><td>%s%s%s</td><td><code class=\"id\">%s</code></td></tr>",
              m->coordinator ? T(r, "coordinator") : T(r, "member"),
              m->removed ? " " : m->anchor ? " " : "",
              m->removed  ? T(r, "(removed)")
              : m->anchor ? T(r, "(trusted in this node's settings)")
                          : "",
              fpr);
    return 0;
}

static void networks_section(html_t *h, const web_req_t *r)
{
    const config_t *cfg = r->env->cfg;
    members_t c = {r, h};
    html_rawf(h, "<h2>%s</h2>", T(r, "Networks"));
    for (size_t i = 0; i < cfg->n_networks; i++) {
        int managed = store_managed(r->env->st, cfg->networks[i]) == 1;
        html_raw(h, "<h3>");
        html_text(h, cfg->networks[i]);
        html_rawf(h, "</h3><p>%s</p>",
                  managed ? T(r, "Managed: its coordinators admit members.")
                          : T(r, "Open to the partners configured for it."));
        if (!managed)
            continue;
        html_rawf(h, "<div class=\"scroll\" role=\"region\" tabindex=\"0\" aria-label=\"%s\">"
                     "<table class=\"members\"><tr><th scope=\"col\">%s"
                     "</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr>",
                  cfg->networks[i], T(r, "Member"), T(r, "Role"), T(r, "Key"));
        store_members(r->env->st, cfg->networks[i], member_row, &c);
        html_raw(h, "</table></div>");
    }
}

void page_health(const web_req_t *r, web_resp_t *out)
{
    json_t *status = control(r, "status"), *peers = control(r, "peers");
    store_stats_t ss = {0};
    char fpr[KEYS_FPR_STR_SIZE], n1[32], n2[32], n3[32];
    html_t *h = html_new();
    store_stats(r->env->st, &ss);
    keys_fingerprint(fpr, r->env->author);
    long long up_s = jint(status, "uptime_ms") / 1000;
    html_rawf(h, "<h1>%s</h1><p>%s</p><table id=\"node\"><tr><th scope=\"row\">%s</th><td>",
              T(r, "Node health"),
              T(r, "How this node is doing, for the coordinator and the person who runs it."),
              T(r, "Organisation"));
    html_text(h, r->env->cfg->name);
    html_rawf(h, "</td></tr><tr><th scope=\"row\">%s</th><td>", T(r, "Running for"));
    if (up_s < 3600)
        html_rawf(h, TN(r, "%lld minute", "%lld minutes", up_s / 60), up_s / 60);
    else
        html_rawf(h, TN(r, "%lld hour", "%lld hours", up_s / 3600), up_s / 3600);
    html_rawf(h, "</td></tr><tr><th scope=\"row\">%s</th><td id=\"store\">", T(r, "Held here"));
    html_rawf(h, T(r, "%s items (workshops, meetings, reports, resources, replies); %s waiting "
                      "for earlier events from partners; %s MiB on disk"),
              web_int(r, (long long)ss.items, n1, sizeof n1),
              web_int(r, (long long)ss.pending, n2, sizeof n2),
              web_decimal(r, (double)ss.bytes / (1024.0 * 1024.0), 1, n3, sizeof n3));
    html_rawf(h, "</td></tr><tr><th scope=\"row\">%s</th><td>", T(r, "Exchanged"));
    html_rawf(h, T(r, "%s events received from partners, %s refused"),
              web_int(r, jint(status, "events_received"), n1, sizeof n1),
              web_int(r, jint(status, "events_refused"), n2, sizeof n2));
    html_raw(h, "</td></tr></table>");
    html_rawf(h, "<details class=\"tech\"><summary>%s</summary><table><tr><th scope=\"row\">"
                 "%s</th><td><code class=\"id\">%s</code></td></tr><tr><th scope=\"row\">%s"
                 "</th><td>",
              T(r, "Technical details"), T(r, "Node identity"), fpr, T(r, "Store"));
    html_rawf(h, T(r, "%s events in %s logs of %s nodes"),
              web_int(r, (long long)ss.events, n1, sizeof n1),
              web_int(r, (long long)ss.logs, n2, sizeof n2),
              web_int(r, (long long)ss.authors, n3, sizeof n3));
    html_rawf(h, "</td></tr><tr><th scope=\"row\">%s</th><td>", T(r, "Traffic"));
    bytes(h, r, jint(status, "bytes_sent"));
    html_rawf(h, " %s, ", T(r, "sent"));
    bytes(h, r, jint(status, "bytes_received"));
    html_rawf(h, " %s</td></tr></table></details>", T(r, "received"));
    peers_section(h, r, json_object_get(peers, "peers"));
    refusals_section(h, r, json_object_get(status, "refused"));
    forks_section(h, r);
    networks_section(h, r);
    html_rawf(h, "<p><a href=\"/metrics\">%s</a></p>", T(r, "Metrics (Prometheus)"));
    json_decref(status);
    json_decref(peers);
    web_page(r, out, 200, T(r, "Node health"), html_take(&h, NULL));
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
        web_error_page(r, out, 500, T(r, "the calendar could not be built"));
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
        web_error_page(r, out, 400, T(r, "by: one of org, theme, role, country, month"));
        return;
    }
    if (from_s && civil_day_parse(from_s, &from, 0) != 0) {
        web_error_page(r, out, 400, T(r, "from: a day as YYYY-MM-DD"));
        return;
    }
    if (to_s && civil_day_parse(to_s, &to, 1) != 0) {
        web_error_page(r, out, 400, T(r, "to: a day as YYYY-MM-DD"));
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
        web_error_page(r, out, 500, T(r, "the report could not be built"));
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
    metric(h, "lernet_events_checked_total", "counter",
           "Received envelopes decoded and checked (signature, hashes).");
    html_rawf(h, "lernet_events_checked_total %lld\n", jint(status, "events_parsed"));
    metric(h, "lernet_signatures_verified_total", "counter",
           "Of them, signatures verified; the others were vouched for by a later event of "
           "their log, signed by the same key.");
    html_rawf(h, "lernet_signatures_verified_total %lld\n", jint(status, "signatures_verified"));
    metric(h, "lernet_check_cpu_seconds_total", "counter",
           "CPU seconds checking them took (parsing estimated from a sample of 1 in 8, "
           "verifications timed).");
    html_rawf(h, "lernet_check_cpu_seconds_total %.6f\n",
              (double)jint(status, "parse_cpu_us") / 1e6);
    metric(h, "lernet_uptime_seconds", "gauge", "Seconds since the daemon started.");
    html_rawf(h, "lernet_uptime_seconds %.3f\n", (double)jint(status, "uptime_ms") / 1000.0);
    json_decref(status);
    json_decref(peers);
    size_t len = 0;
    char *body = html_take(&h, &len);
    memfile(out, body, len, "text/plain; version=0.0.4; charset=utf-8");
}
