/* report: see report.h. Rows and events live in growing arrays; a period
 * of a network is thousands of events, not millions. */
#include "export/report.h"

#include <stdlib.h>
#include <string.h>

#include "core/payload_json.h"
#include "util/country.h"
#include "util/time.h"

#define KEY_MAX (EVENT_MAX_SHORT + 1) /* organiser, theme, role: never cut */

typedef struct row {
    char key[KEY_MAX];
    uint64_t workshops, meetings, cancelled, reports, participants;
    uint64_t crossed_municipal, crossed_national;
    uint8_t (*orgs)[KEYS_PUBLIC_BYTES];
    size_t n_orgs, cap_orgs;
} row_t;

#define MAX_REPORTERS 16

typedef struct counted { /* an event of the period: where its reports count */
    uint8_t id[EVENT_ID_BYTES];
    uint8_t organiser[KEYS_PUBLIC_BYTES];
    uint8_t reporters[MAX_REPORTERS][KEYS_PUBLIC_BYTES]; /* other organisations */
    size_t n_reporters;
    int cancelled;
    size_t rows[32];
    size_t n_rows;
} counted_t;

struct report {
    enum report_by by;
    int64_t from, to;
    row_t *rows;
    size_t n_rows, cap_rows;
    row_t total;
    json_t *row_index; /* key -> index in rows: one hash lookup per key */
    counted_t *events;
    size_t n_events, cap_events;
    int events_sorted; /* by id, for the experiences' bsearch */
    int failed;
    char *const *only_themes; /* borrowed (report_only_themes); NULL: every event */
    size_t n_only_themes;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 64;
    void *nv = realloc(*v, c * size);
    if (!nv)
        return -1;
    *v = nv;
    *cap = c;
    return 0;
}

static void add_org(report_t *r, row_t *w, const uint8_t *org)
{
    for (size_t i = 0; i < w->n_orgs; i++)
        if (memcmp(w->orgs[i], org, KEYS_PUBLIC_BYTES) == 0)
            return;
    if (grow((void **)&w->orgs, &w->cap_orgs, w->n_orgs, sizeof *w->orgs) != 0) {
        r->failed = 1;
        return;
    }
    memcpy(w->orgs[w->n_orgs++], org, KEYS_PUBLIC_BYTES);
}

static size_t row_of(report_t *r, const char *key)
{
    json_t *at = json_object_get(r->row_index, key);
    if (at)
        return (size_t)json_integer_value(at);
    if (grow((void **)&r->rows, &r->cap_rows, r->n_rows, sizeof *r->rows) != 0 ||
        json_object_set_new(r->row_index, key, json_integer((json_int_t)r->n_rows)) != 0) {
        r->failed = 1;
        return SIZE_MAX;
    }
    memset(&r->rows[r->n_rows], 0, sizeof *r->rows);
    snprintf(r->rows[r->n_rows].key, KEY_MAX, "%s", key);
    return r->n_rows++;
}

static const report_grouping_t groupings[] = {
    {"org", REPORT_BY_ORG, "organisation"}, {"theme", REPORT_BY_THEME, "theme"},
    {"role", REPORT_BY_ROLE, "role"},       {"country", REPORT_BY_COUNTRY, "country"},
    {"month", REPORT_BY_MONTH, "month"},
};
#define N_GROUPINGS (sizeof groupings / sizeof groupings[0])

const report_grouping_t *report_grouping_at(size_t i)
{
    return i < N_GROUPINGS ? &groupings[i] : NULL;
}

int report_by_parse(const char *s, enum report_by *out)
{
    for (size_t i = 0; i < N_GROUPINGS; i++)
        if (strcmp(s, groupings[i].name) == 0) {
            *out = groupings[i].by;
            return 0;
        }
    return -1;
}

int report_new(report_t **out, enum report_by by, int64_t from, int64_t to)
{
    report_t *r = calloc(1, sizeof *r);
    *out = r;
    if (!r || !(r->row_index = json_object()))
        return -1;
    r->by = by;
    r->from = from;
    r->to = to;
    snprintf(r->total.key, KEY_MAX, "total");
    return 0;
}

void report_free(report_t **rp)
{
    if (!rp || !*rp)
        return;
    report_t *r = *rp;
    for (size_t i = 0; i < r->n_rows; i++)
        free(r->rows[i].orgs);
    free(r->rows);
    json_decref(r->row_index);
    free(r->total.orgs);
    free(r->events);
    free(r);
    *rp = NULL;
}

/* The row keys an event counts in (several for themes). */
static size_t event_keys(const report_t *r, const store_item_t *it, int64_t start,
                         const char *tz, char **themes, size_t n_themes, const char *organiser,
                         char keys[][KEY_MAX], size_t max)
{
    switch (r->by) {
    case REPORT_BY_ORG:
        snprintf(keys[0], KEY_MAX, "%s", organiser && *organiser ? organiser : "(unnamed)");
        return 1;
    case REPORT_BY_COUNTRY:
        snprintf(keys[0], KEY_MAX, "%s", country_of_zone(tz));
        return 1;
    case REPORT_BY_MONTH:
        civil_strftime(start, tz, "%Y-%m", keys[0], KEY_MAX); /* the local month */
        return 1;
    case REPORT_BY_THEME: {
        size_t n = 0;
        for (size_t i = 0; i < n_themes && n < max; i++)
            snprintf(keys[n++], KEY_MAX, "%s", themes[i]);
        if (n == 0)
            snprintf(keys[n++], KEY_MAX, "(no theme)");
        return n;
    }
    default: /* by role: events count in the total only; reports carry the roles */
        (void)it;
        return 0;
    }
}

void report_only_themes(report_t *r, char *const *themes, size_t n)
{
    r->only_themes = n ? themes : NULL;
    r->n_only_themes = n;
}

static int has_theme(const report_t *r, char **themes, size_t n)
{
    for (size_t i = 0; i < r->n_only_themes; i++)
        for (size_t j = 0; j < n; j++)
            if (strcmp(r->only_themes[i], themes[j]) == 0)
                return 1;
    return 0;
}

/* Erased items are not counted: their times, themes and participant
 * counts went with their content. */
static void add_event(report_t *r, const store_item_t *it)
{
    if (it->erased)
        return;
    const Lernet__Workshop *w = it->workshop;
    const Lernet__Meeting *m = it->meeting;
    int64_t start = w ? w->start : m ? m->start : it->start;
    int64_t end = w ? w->end : m ? m->end : it->end;
    if (!civil_in_period(r->from, r->to, start, end, w ? w->tz : m ? m->tz : NULL))
        return;
    if (r->only_themes && !has_theme(r, w ? w->themes : m ? m->themes : NULL,
                                     w ? w->n_themes : m ? m->n_themes : 0))
        return; /* nor are the reports about it: they find no event */
    char keys[32][KEY_MAX];
    size_t n = event_keys(r, it, start, w ? w->tz : m ? m->tz : NULL,
                          w ? w->themes : m ? m->themes : NULL,
                          w ? w->n_themes : m ? m->n_themes : 0,
                          w ? w->organiser : m ? m->organiser : NULL, keys, 32);
    if (grow((void **)&r->events, &r->cap_events, r->n_events, sizeof *r->events) != 0) {
        r->failed = 1;
        return;
    }
    counted_t *c = &r->events[r->n_events++];
    r->events_sorted = 0;
    memcpy(c->id, it->id, EVENT_ID_BYTES);
    memcpy(c->organiser, it->author, KEYS_PUBLIC_BYTES);
    c->n_reporters = 0;
    c->cancelled = it->cancelled;
    c->n_rows = 0;
    row_t *targets[33];
    size_t nt = 0;
    targets[nt++] = &r->total;
    for (size_t i = 0; i < n; i++) {
        size_t k = row_of(r, keys[i]);
        if (k == SIZE_MAX)
            return;
        c->rows[c->n_rows++] = k;
    }
    for (size_t i = 0; i < c->n_rows; i++)
        targets[nt++] = &r->rows[c->rows[i]];
    for (size_t i = 0; i < nt; i++) {
        row_t *row = targets[i];
        if (it->cancelled)
            row->cancelled++;
        else if (it->kind == LERNET__KIND__KIND_WORKSHOP)
            row->workshops++;
        else
            row->meetings++;
        add_org(r, row, it->author);
    }
}

static int by_id(const void *a, const void *b)
{
    return memcmp(a, b, EVENT_ID_BYTES); /* id is counted_t's first member */
}

static void add_experience(report_t *r, const store_item_t *it)
{
    const Lernet__Experience *x = it->experience;
    if (it->erased)
        return;
    /* store_items gives every event before the first report: sort once */
    if (!r->events_sorted && r->n_events) {
        qsort(r->events, r->n_events, sizeof *r->events, by_id);
        r->events_sorted = 1;
    }
    counted_t *c = r->n_events ? bsearch(it->about, r->events, r->n_events, sizeof *r->events,
                                         by_id)
                               : NULL;
    if (!c || !x)
        return; /* about an event outside the period (or the network) */
    uint64_t people = 0;
    for (size_t i = 0; i < x->n_participants; i++)
        people += x->participants[i]->count;
    int known = memcmp(it->author, c->organiser, KEYS_PUBLIC_BYTES) == 0;
    for (size_t i = 0; i < c->n_reporters && !known; i++)
        known = memcmp(it->author, c->reporters[i], KEYS_PUBLIC_BYTES) == 0;
    if (!known && c->n_reporters < MAX_REPORTERS)
        memcpy(c->reporters[c->n_reporters++], it->author, KEYS_PUBLIC_BYTES);
    r->total.reports++;
    r->total.participants += people;
    add_org(r, &r->total, it->author);
    if (r->by == REPORT_BY_ROLE) {
        for (size_t i = 0; i < x->n_participants; i++) {
            size_t k = row_of(r, x->participants[i]->role);
            if (k == SIZE_MAX)
                return;
            r->rows[k].reports++;
            r->rows[k].participants += x->participants[i]->count;
            add_org(r, &r->rows[k], it->author);
        }
        return;
    }
    for (size_t i = 0; i < c->n_rows; i++) {
        row_t *row = &r->rows[c->rows[i]];
        row->reports++;
        row->participants += people;
        add_org(r, row, it->author);
    }
}

void report_finish(report_t *r, store_t *st)
{
    for (size_t e = 0; e < r->n_events; e++) {
        counted_t *c = &r->events[e];
        store_profile_t org, other;
        int national = 0, municipal = 0;
        if (c->cancelled || !store_profile(st, c->organiser, &org))
            continue;
        for (size_t i = 0; i < c->n_reporters; i++) {
            if (!store_profile(st, c->reporters[i], &other))
                continue;
            int abroad = strcmp(org.country, other.country) != 0;
            national |= abroad;
            municipal |= abroad || (org.municipality[0] && other.municipality[0] &&
                                    strcmp(org.municipality, other.municipality) != 0);
        }
        r->total.crossed_national += (uint64_t)national;
        r->total.crossed_municipal += (uint64_t)municipal;
        for (size_t i = 0; i < c->n_rows; i++) {
            r->rows[c->rows[i]].crossed_national += (uint64_t)national;
            r->rows[c->rows[i]].crossed_municipal += (uint64_t)municipal;
        }
    }
}

int report_add(report_t *r, const store_item_t *it)
{
    /* the figures are about activities: resources, replies, goals,
     * questionnaires and feedback count nowhere */
    if (it->kind == LERNET__KIND__KIND_EXPERIENCE)
        add_experience(r, it);
    else if (it->kind == LERNET__KIND__KIND_WORKSHOP || it->kind == LERNET__KIND__KIND_MEETING)
        add_event(r, it);
    return r->failed ? -1 : 0;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(((const row_t *)a)->key, ((const row_t *)b)->key);
}

static json_t *row_json(const row_t *w)
{
    return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "key", w->key, "workshops",
                     (json_int_t)w->workshops, "meetings", (json_int_t)w->meetings, "cancelled",
                     (json_int_t)w->cancelled, "organisations", (json_int_t)w->n_orgs,
                     "crossed_municipal_border", (json_int_t)w->crossed_municipal,
                     "crossed_national_border", (json_int_t)w->crossed_national,
                     "experience_reports", (json_int_t)w->reports, "participants",
                     (json_int_t)w->participants);
}

json_t *report_json(const report_t *r)
{
    json_t *arr = json_array();
    row_t *sorted = malloc((r->n_rows ? r->n_rows : 1) * sizeof *sorted);
    if (!arr || !sorted) {
        free(sorted);
        json_decref(arr);
        return NULL;
    }
    if (r->n_rows)
        memcpy(sorted, r->rows, r->n_rows * sizeof *sorted);
    qsort(sorted, r->n_rows, sizeof *sorted, by_key);
    int failed = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        failed |= json_array_append_new(arr, row_json(&sorted[i]));
    failed |= json_array_append_new(arr, row_json(&r->total));
    free(sorted);
    if (failed) { /* a row lost would make the total disagree with the rows */
        json_decref(arr);
        return NULL;
    }
    return arr;
}

const char *const report_columns[REPORT_N_COLUMNS] = {
    "workshops",       "meetings",        "cancelled",          "organisations",
    "crossed_municipal_border", "crossed_national_border", "experience_reports",
    "participants"};

void report_csv_field(FILE *f, const char *s)
{
    int formula = s && *s && strchr("=+-@\t\r", *s);
    if (!s || (!formula && !strpbrk(s, ",\"\n\r"))) {
        fputs(s ? s : "", f);
        return;
    }
    fputs(formula ? "\"'" : "\"", f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void write_csv(const json_t *rows, FILE *f, const char *eol)
{
    const json_t *row;
    size_t i;
    fprintf(f, "%s%s", REPORT_COLUMNS, eol);
    json_array_foreach(rows, i, row) {
        report_csv_field(f, json_string_value(json_object_get(row, "key")));
        for (size_t c = 0; c < REPORT_N_COLUMNS; c++)
            fprintf(f, ",%lld", json_integer_value(json_object_get(row, report_columns[c])));
        fputs(eol, f);
    }
}

void report_write_csv(const json_t *rows, FILE *f)
{
    write_csv(rows, f, "\n");
}

void report_write_csv_excel(const json_t *rows, FILE *f)
{
    fputs(REPORT_EXCEL_BOM, f);
    write_csv(rows, f, "\r\n");
}
