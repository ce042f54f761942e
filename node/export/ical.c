/* ical: see ical.h. */
#include "export/ical.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/payload_json.h"
#include "core/series.h"
#include "util/text.h"
#include "util/time.h"

#define FOLD_OCTETS 75
#define EXTRA_ZONES 64 /* zones outside util/time's table given a VTIMEZONE; others: UTC */
#define REFRESH "PT1H" /* how often a subscribed client should look again */

/* A zone outside the table, written with TZID and a VTIMEZONE generated
 * from the system tz database over the instants the calendar uses. */
typedef struct extra_zone {
    char tzid[CIVIL_ZONE_NAME_MAX + 1];
    int64_t min, max;
} extra_zone_t;

struct ical {
    char *buf;
    size_t len, cap;
    char *events; /* VEVENTs, appended after the VTIMEZONEs at the end */
    size_t ev_len, ev_cap;
    int used[CIVIL_ZONES_MAX]; /* the rows of util/time's zone table in use */
    extra_zone_t extra[EXTRA_ZONES];
    size_t n_extra;
    char *name; /* X-WR-CALNAME and NAME; NULL: none */
    int in_head; /* line() writes to buf (the head), not to events */
    char langs[64];
    int failed;
};

static void put(ical_t *c, char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (c->failed)
        return;
    if (*len + n + 1 > *cap) {
        size_t nc = (*cap ? *cap * 2 : 4096) + n;
        char *b = realloc(*buf, nc);
        if (!b) {
            c->failed = 1;
            return;
        }
        *buf = b;
        *cap = nc;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
}

/* Where line() writes: the VEVENTs, or (in_head) the calendar's head. */
static void ev_put(ical_t *c, const char *s, size_t n)
{
    if (c->in_head)
        put(c, &c->buf, &c->len, &c->cap, s, n);
    else
        put(c, &c->events, &c->ev_len, &c->ev_cap, s, n);
}

/* One content line: name (with parameters) ':' value, folded between
 * characters (a stray byte, which validated input does not hold, is one). */
static void line(ical_t *c, const char *name, const char *value)
{
    char *text = NULL;
    size_t col = 0;
    if (asprintf(&text, "%s:%s", name, value) < 0) {
        c->failed = 1;
        return;
    }
    for (size_t i = 0, len = strlen(text); i < len;) {
        size_t n = text_utf8_seq((const unsigned char *)text + i, len - i);
        n = n ? n : 1;
        if (col + n > FOLD_OCTETS) { /* CRLF + space: the space counts on the next line */
            ev_put(c, "\r\n ", 3);
            col = 1;
        }
        ev_put(c, text + i, n);
        col += n;
        i += n;
    }
    ev_put(c, "\r\n", 2);
    free(text);
}

/* TEXT escaping (RFC 5545 3.3.11). Newlines become \n; CR is dropped. */
static char *escape(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(2 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (; *s; s++) {
        if (*s == '\\' || *s == ';' || *s == ',') {
            *o++ = '\\';
            *o++ = *s;
        } else if (*s == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else if (*s != '\r')
            *o++ = *s;
    }
    *o = '\0';
    return out;
}

static void text_line(ical_t *c, const char *name, const char *lang, const char *value)
{
    char head[64];
    char *v = escape(value);
    if (!v) {
        c->failed = 1;
        return;
    }
    if (lang && *lang)
        snprintf(head, sizeof head, "%s;LANGUAGE=%s", name, lang);
    else
        snprintf(head, sizeof head, "%s", name);
    line(c, head, v);
    free(v);
}

/* The text in the first preferred language that has one, else the first. */
static const Lernet__Text *pick(const ical_t *c, Lernet__Text **t, size_t n)
{
    if (n == 0)
        return NULL;
    for (const char *p = c->langs; *p;) {
        size_t l = strcspn(p, ",");
        for (size_t i = 0; i < n; i++)
            if (strlen(t[i]->lang) == l && strncmp(t[i]->lang, p, l) == 0)
                return t[i];
        p += l;
        if (*p == ',')
            p++;
    }
    return t[0];
}

static void utc_stamp(char out[20], int64_t ms)
{
    civil_strftime(ms / 1000, NULL, "%Y%m%dT%H%M%SZ", out, 20);
}

/* The row of zone tz in util/time's table, -1 when it has none. */
static int zone_index(const char *tz)
{
    const civil_zone_t *z;
    for (size_t i = 0; tz && (z = civil_zone_at(i)); i++)
        if (strcmp(z->tzid, tz) == 0)
            return (int)i;
    return -1;
}

/* The slot of zone tz among the extra zones, t now within its span; -1
 * when tz is not a zone of this system or no slot is left. */
static int extra_index(ical_t *c, const char *tz, int64_t t)
{
    size_t i;
    for (i = 0; i < c->n_extra && strcmp(c->extra[i].tzid, tz) != 0; i++)
        ;
    if (i == c->n_extra) {
        if (i == EXTRA_ZONES || !civil_zone_known(tz))
            return -1;
        snprintf(c->extra[i].tzid, sizeof c->extra[i].tzid, "%s", tz);
        c->extra[i].min = c->extra[i].max = t;
        c->n_extra++;
    }
    if (t < c->extra[i].min)
        c->extra[i].min = t;
    if (t > c->extra[i].max)
        c->extra[i].max = t;
    return (int)i;
}

/* Marks the VTIMEZONE zone tz needs for instant t: 1 if it has one (a row
 * of the table, or an extra zone), 0 when t is to be written in UTC. */
static int zone_use(ical_t *c, const char *tz, int64_t t)
{
    int z;
    if (!tz || !*tz)
        return 0;
    if ((z = zone_index(tz)) >= 0) {
        c->used[z] = 1;
        return 1;
    }
    return extra_index(c, tz, t) >= 0;
}

/* DTSTART/DTEND in the event's zone when it has a VTIMEZONE here, else UTC.
 * The second of a repeated wall time (the autumn night's second 02:30) is
 * written in UTC: with TZID it would mean the first (RFC 5545 3.3.5). */
static void time_line(ical_t *c, const char *name, int64_t t, const char *tz)
{
    char head[96], val[24];
    if (!civil_repeated_wall(t, tz) && civil_strftime(t, tz, "%Y%m%dT%H%M%S", val, sizeof val) == 0 &&
        zone_use(c, tz, t)) {
        snprintf(head, sizeof head, "%s;TZID=%s", name, tz);
    } else {
        snprintf(head, sizeof head, "%s", name);
        utc_stamp(val, t * 1000);
    }
    line(c, head, val);
}

int ical_new(ical_t **out, const char *langs)
{
    ical_t *c = calloc(1, sizeof *c);
    *out = c;
    if (!c)
        return -1;
    snprintf(c->langs, sizeof c->langs, "%s", langs ? langs : "");
    return 0;
}

int ical_set_name(ical_t *c, const char *name)
{
    char *copy = name ? strdup(name) : NULL;
    if (name && !copy)
        return -1;
    free(c->name);
    c->name = copy;
    return 0;
}

void ical_free(ical_t **cp)
{
    if (!cp || !*cp)
        return;
    free((*cp)->buf);
    free((*cp)->events);
    free((*cp)->name);
    free(*cp);
    *cp = NULL;
}

typedef struct what {
    Lernet__Text **title, **text;
    size_t n_title, n_text;
    int64_t start, end;
    const char *tz, *place, *url, *organiser, *kind;
    char **themes;
    size_t n_themes;
    int tentative;
} what_t;

static int describe(const store_item_t *it, what_t *w)
{
    memset(w, 0, sizeof *w);
    if (it->workshop) {
        const Lernet__Workshop *x = it->workshop;
        *w = (what_t){x->title, x->description, x->n_title, x->n_description, x->start, x->end,
                      x->tz, x->place, x->online_url, x->organiser, "Workshop", x->themes,
                      x->n_themes, x->status == LERNET__STATUS__STATUS_PLANNED};
        return 0;
    }
    if (it->meeting) {
        const Lernet__Meeting *x = it->meeting;
        *w = (what_t){x->title, x->agenda, x->n_title, x->n_agenda, x->start, x->end, x->tz,
                      x->place, x->online_url, x->organiser, "Network meeting", x->themes,
                      x->n_themes, 0};
        return 0;
    }
    return -1;
}

/* "Cancelled: " in the summary's language (en where not listed): a client
 * shows STATUS:CANCELLED in ways people miss, or not at all. */
static const char *cancelled_prefix(const char *lang)
{
    static const struct {
        const char *lang, *prefix;
    } words[] = {{"sv", "Inställt: "}, {"da", "Aflyst: "}, {"de", "Abgesagt: "},
                 {"fi", "Peruttu: "},  {"nb", "Avlyst: "}, {"no", "Avlyst: "},
                 {"et", "Tühistatud: "}, {"lv", "Atcelts: "}, {"lt", "Atšaukta: "}};
    for (size_t i = 0; lang && i < sizeof words / sizeof words[0]; i++)
        if (strncmp(lang, words[i].lang, 2) == 0 && (!lang[2] || lang[2] == '-'))
            return words[i].prefix;
    return "Cancelled: ";
}

/* SUMMARY and DESCRIPTION; a cancelled item's summary says so, and its
 * description opens with the reason. */
static void summary_lines(ical_t *c, const store_item_t *it, const what_t *w)
{
    const Lernet__Text *t = pick(c, w->title, w->n_title), *d = pick(c, w->text, w->n_text);
    const char *lang = t ? t->lang : d ? d->lang : NULL, *prefix = cancelled_prefix(lang);
    const char *reason = it->cancel_reason && *it->cancel_reason ? it->cancel_reason : NULL;
    char *text = NULL;
    if (!it->cancelled) {
        if (t)
            text_line(c, "SUMMARY", t->lang, t->text);
        if (d)
            text_line(c, "DESCRIPTION", d->lang, d->text);
        return;
    }
    if (asprintf(&text, "%s%s", prefix, t ? t->text : "") < 0) {
        c->failed = 1;
        return;
    }
    text_line(c, "SUMMARY", lang, text);
    free(text);
    text = NULL;
    if (reason && asprintf(&text, "%s%s%s%s", prefix, reason, d ? "\n\n" : "", d ? d->text : "") < 0) {
        c->failed = 1;
        return;
    }
    if (text || d)
        text_line(c, "DESCRIPTION", d ? d->lang : lang, text ? text : d->text);
    free(text);
}

/* ORGANIZER;CN="...": a quoted parameter value (RFC 5545 3.2) cannot hold
 * a DQUOTE or a control character, so ^, " and newline are written as RFC
 * 6868 has them (^^, ^' and ^n), which readers that know RFC 6868 turn
 * back; others show them as written. */
static void organizer_line(ical_t *c, const char *organiser, const uint8_t *key)
{
    char cn[2 * EVENT_MAX_SHORT + 32], author[2 * KEYS_PUBLIC_BYTES + 1], uri[160];
    size_t o = (size_t)snprintf(cn, sizeof cn, "ORGANIZER;CN=\"");
    for (const char *p = organiser; *p && o + 4 < sizeof cn; p++) {
        if (*p == '^' || *p == '"' || *p == '\n') {
            cn[o++] = '^';
            cn[o++] = *p == '"' ? '\'' : *p == '\n' ? 'n' : '^';
        } else if ((unsigned char)*p >= 0x20 && *p != 0x7f)
            cn[o++] = *p;
    }
    cn[o++] = '"';
    cn[o] = '\0';
    text_hex(author, key, KEYS_PUBLIC_BYTES);
    snprintf(uri, sizeof uri, "urn:lernet:author:%s", author);
    line(c, cn, uri);
}

/* A time in the form the series' DTSTART has: local with TZID (the
 * zone's VTIMEZONE is written), else UTC. Into val; the head gets
 * ";TZID=..." or nothing. */
static void series_time(ical_t *c, const series_t *sr, int64_t t, char head[96], char val[24])
{
    head[0] = '\0';
    if (!civil_repeated_wall(sr->start, sr->tz) &&
        civil_strftime(t, sr->tz, "%Y%m%dT%H%M%S", val, 24) == 0 && zone_use(c, sr->tz, t)) {
        snprintf(head, 96, ";TZID=%s", sr->tz);
        return;
    }
    utc_stamp(val, t * 1000);
}

/* RRULE (UNTIL in UTC, as RFC 5545 wants with a TZID start), or RDATE for
 * a list of dates; EXDATE for each occurrence cancelled one by one. */
static void series_lines(ical_t *c, const store_item_t *it, const series_t *sr)
{
    char rule[160], head[128], val[24], until[20], stamp[96];
    zone_use(c, sr->tz, it->end); /* the VTIMEZONE spans to the last occurrence */
    if (sr->rule) {
        const Lernet__Recurrence *r = sr->rule;
        int n = snprintf(rule, sizeof rule, "FREQ=%s",
                         r->freq == LERNET__FREQ__FREQ_MONTHLY ? "MONTHLY" : "WEEKLY");
        if (r->interval > 1)
            n += snprintf(rule + n, sizeof rule - (size_t)n, ";INTERVAL=%u", r->interval);
        if (r->count)
            n += snprintf(rule + n, sizeof rule - (size_t)n, ";COUNT=%u", r->count);
        else {
            utc_stamp(until, r->until * 1000);
            n += snprintf(rule + n, sizeof rule - (size_t)n, ";UNTIL=%s", until);
        }
        for (size_t i = 0; i < r->n_byday && n < (int)sizeof rule - 8; i++)
            n += snprintf(rule + n, sizeof rule - (size_t)n, "%s%s", i ? "," : ";BYDAY=",
                          r->byday[i]);
        line(c, "RRULE", rule);
    }
    /* DTSTART is the first instance (RFC 5545 3.8.5.2); it is listed as an
     * RDATE too, which the RFC makes harmless (one instance of duplicates),
     * because ical.js leaves it out of an RDATE-only expansion otherwise */
    for (size_t i = 0; sr->n_dates && i <= sr->n_dates; i++) {
        series_time(c, sr, i ? sr->dates[i - 1]->start : sr->start, stamp, val);
        snprintf(head, sizeof head, "RDATE%s", stamp);
        line(c, head, val);
    }
    for (size_t i = 0; i < it->n_cancelled_occurrences; i++) {
        series_time(c, sr, it->cancelled_occurrences[i], stamp, val);
        snprintf(head, sizeof head, "EXDATE%s", stamp);
        line(c, head, val);
    }
}

static int cancelled_occurrence(const store_item_t *it, int64_t start)
{
    for (size_t i = 0; i < it->n_cancelled_occurrences; i++)
        if (it->cancelled_occurrences[i] == start)
            return 1;
    return 0;
}

/* A date of the list whose place or length is not the series' own: a
 * VEVENT of its own with the series' UID and RECURRENCE-ID (RFC 5545
 * 3.8.4.4), which clients show in place of that occurrence. */
static void overrides(ical_t *c, const store_item_t *it, const what_t *w, const series_t *sr,
                      const char *uid)
{
    char head[128], val[24], stamp[96], buf[32];
    for (size_t i = 0; i < sr->n_dates && !c->failed; i++) {
        const Lernet__Occurrence *o = sr->dates[i];
        const char *place = *o->place ? o->place : sr->place;
        if (cancelled_occurrence(it, o->start) ||
            (strcmp(place, sr->place) == 0 && o->end - o->start == sr->end - sr->start))
            continue;
        ev_put(c, "BEGIN:VEVENT\r\n", 14);
        line(c, "UID", uid);
        utc_stamp(buf, it->updated_ms);
        line(c, "DTSTAMP", buf);
        snprintf(buf, sizeof buf, "%u", it->revision);
        line(c, "SEQUENCE", buf);
        series_time(c, sr, o->start, stamp, val);
        snprintf(head, sizeof head, "RECURRENCE-ID%s", stamp);
        line(c, head, val);
        snprintf(head, sizeof head, "DTSTART%s", stamp);
        line(c, head, val);
        series_time(c, sr, o->end, stamp, val);
        snprintf(head, sizeof head, "DTEND%s", stamp);
        line(c, head, val);
        summary_lines(c, it, w);
        if (*place)
            text_line(c, "LOCATION", NULL, place);
        line(c, "STATUS", it->cancelled ? "CANCELLED" : w->tentative ? "TENTATIVE" : "CONFIRMED");
        ev_put(c, "END:VEVENT\r\n", 12);
    }
}

int ical_add(ical_t *c, const store_item_t *it)
{
    what_t w;
    char hex[EVENT_ID_HEX_SIZE], uid[96], stamp[20], buf[160];
    /* An erased item is left out: its time and text are gone, and a feed
     * that no longer holds a UID makes a subscribed client drop its copy. */
    if ((it->kind != LERNET__KIND__KIND_WORKSHOP && it->kind != LERNET__KIND__KIND_MEETING) ||
        it->erased || describe(it, &w) != 0)
        return 0;
    event_id_hex(hex, it->id);
    ev_put(c, "BEGIN:VEVENT\r\n", 14);
    snprintf(uid, sizeof uid, "%s@lernet", hex);
    line(c, "UID", uid);
    utc_stamp(stamp, it->updated_ms);
    line(c, "DTSTAMP", stamp);
    line(c, "LAST-MODIFIED", stamp);
    utc_stamp(stamp, it->created_ms);
    line(c, "CREATED", stamp);
    snprintf(buf, sizeof buf, "%u", it->revision);
    line(c, "SEQUENCE", buf);
    time_line(c, "DTSTART", w.start, w.tz);
    time_line(c, "DTEND", w.end, w.tz);
    series_t sr = series_of(it->workshop, it->meeting);
    if (series_repeats(&sr))
        series_lines(c, it, &sr);
    summary_lines(c, it, &w);
    if (w.place && *w.place)
        text_line(c, "LOCATION", NULL, w.place);
    if (w.url && *w.url)
        line(c, "URL", w.url); /* a URI, validated at input: no escaping */
    if (w.organiser && *w.organiser)
        organizer_line(c, w.organiser, it->author);
    char *cats = escape(w.kind);
    for (size_t i = 0; cats && i < w.n_themes; i++) {
        char *e = escape(w.themes[i]), *joined = NULL;
        if (e && asprintf(&joined, "%s,%s", cats, e) >= 0) {
            free(cats);
            cats = joined;
        }
        free(e);
    }
    if (cats)
        line(c, "CATEGORIES", cats); /* the commas between categories stay unescaped */
    free(cats);
    line(c, "STATUS", it->cancelled ? "CANCELLED" : w.tentative ? "TENTATIVE" : "CONFIRMED");
    ev_put(c, "END:VEVENT\r\n", 12);
    if (series_repeats(&sr))
        overrides(c, it, &w, &sr, uid);
    return c->failed ? -1 : 0;
}

/* "+0100": an offset as TZOFFSETFROM/TO write it ("+005328" with seconds). */
static void ical_offset(char out[16], int seconds)
{
    int a = seconds < 0 ? -seconds : seconds;
    snprintf(out, 16, "%c%02d%02d", seconds < 0 ? '-' : '+', a / 3600 % 100, a / 60 % 60);
    if (a % 60)
        snprintf(out + 5, 11, "%02d", a % 60);
}

/* One VTIMEZONE: the EU rule of util/time's table, written out. Both
 * switches are at 01:00 UTC; DTSTART is the local time just before each,
 * in the offset then in force (October 1970 and March 1970 are merely the
 * first years the rule is stated for). */
static void timezone_block(ical_t *c, const civil_zone_t *z)
{
    char b[512], std_off[16], dst_off[16], std_start[32], dst_start[32];
    int dst = z->std_offset + CIVIL_DST_SHIFT;
    ical_offset(std_off, z->std_offset);
    ical_offset(dst_off, dst);
    snprintf(std_start, sizeof std_start, "19701025T%02d0000", 1 + dst / 3600);
    snprintf(dst_start, sizeof dst_start, "19700329T%02d0000", 1 + z->std_offset / 3600);
    int n = snprintf(b, sizeof b,
                     "BEGIN:VTIMEZONE\r\nTZID:%s\r\n"
                     "BEGIN:STANDARD\r\nDTSTART:%s\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
                     "TZOFFSETFROM:%s\r\nTZOFFSETTO:%s\r\nTZNAME:%s\r\nEND:STANDARD\r\n"
                     "BEGIN:DAYLIGHT\r\nDTSTART:%s\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
                     "TZOFFSETFROM:%s\r\nTZOFFSETTO:%s\r\nTZNAME:%s\r\nEND:DAYLIGHT\r\n"
                     "END:VTIMEZONE\r\n",
                     z->tzid, std_start, dst_off, std_off, z->std_name, dst_start, std_off, dst_off,
                     z->dst_name);
    put(c, &c->buf, &c->len, &c->cap, b, (size_t)n);
}

/* One observance of a generated VTIMEZONE. DTSTART is the local time at
 * which it begins, read on the clock of the offset before (RFC 5545
 * 3.6.5); the first observance, at the start of the span, has no before. */
static void observance(ical_t *c, const civil_transition_t *t)
{
    char b[320], from[16], to[16], start[24], name[20];
    const char *kind = t->is_dst ? "DAYLIGHT" : "STANDARD";
    ical_offset(from, t->offset_from);
    ical_offset(to, t->offset_to);
    civil_strftime(t->at + t->offset_from, NULL, "%Y%m%dT%H%M%S", start, sizeof start);
    snprintf(name, sizeof name, "%s", t->name[0] ? t->name : to);
    for (char *p = name; *p; p++) /* a TEXT value: the database's names are letters, +, - */
        if (*p == ',' || *p == ';' || *p == '\\')
            *p = '_';
    int n = snprintf(b, sizeof b,
                     "BEGIN:%s\r\nDTSTART:%s\r\nTZOFFSETFROM:%s\r\nTZOFFSETTO:%s\r\n"
                     "TZNAME:%s\r\nEND:%s\r\n",
                     kind, start, from, to, name, kind);
    put(c, &c->buf, &c->len, &c->cap, b, (size_t)n);
}

/* A zone outside the table: its history from the system tz database, each
 * change an observance of its own (no RRULE: what the database says, also
 * for zones whose rules changed), from a year before the first instant
 * used to a year after the last, at most CIVIL_TRANSITIONS_SPAN_MAX. */
static void generated_block(ical_t *c, const extra_zone_t *z)
{
    int64_t to = z->max + 366 * 86400, from = z->min - 366 * 86400;
    if (to - from > CIVIL_TRANSITIONS_SPAN_MAX)
        from = to - CIVIL_TRANSITIONS_SPAN_MAX;
    size_t max = (size_t)((to - from) / (366 * 86400) + 1) * 8 + 4, n = 0;
    civil_transition_t *t = malloc(max * sizeof *t);
    char head[128];
    if (!t || civil_transitions(z->tzid, from, to, t, max, &n) != CIVIL_OK) {
        free(t);
        c->failed = 1;
        return;
    }
    int hn = snprintf(head, sizeof head, "BEGIN:VTIMEZONE\r\nTZID:%s\r\n", z->tzid);
    put(c, &c->buf, &c->len, &c->cap, head, (size_t)hn);
    for (size_t i = 0; i < n; i++)
        observance(c, &t[i]);
    put(c, &c->buf, &c->len, &c->cap, "END:VTIMEZONE\r\n", 15);
    free(t);
}

/* The calendar's name (RFC 7986 NAME, and X-WR-CALNAME, which Outlook,
 * Google and Apple read) and how often to look again (RFC 7986
 * REFRESH-INTERVAL, and Outlook's X-PUBLISHED-TTL). Written through
 * line(), so a long name is folded and the text escaped. */
static void calendar_props(ical_t *c)
{
    c->in_head = 1;
    if (c->name)
        text_line(c, "NAME", NULL, c->name);
    if (c->name)
        text_line(c, "X-WR-CALNAME", NULL, c->name);
    line(c, "REFRESH-INTERVAL;VALUE=DURATION", REFRESH);
    line(c, "X-PUBLISHED-TTL", REFRESH);
    c->in_head = 0;
}

int ical_finish(ical_t *c, const char **text, size_t *len)
{
    static const char head[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                               "PRODID:-//lernet//lernet " LERNET_VERSION "//EN\r\n"
                               "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n";
    c->len = 0;
    put(c, &c->buf, &c->len, &c->cap, head, sizeof head - 1);
    calendar_props(c);
    for (size_t i = 0; civil_zone_at(i); i++)
        if (c->used[i])
            timezone_block(c, civil_zone_at(i));
    for (size_t i = 0; i < c->n_extra; i++)
        generated_block(c, &c->extra[i]);
    if (c->events)
        put(c, &c->buf, &c->len, &c->cap, c->events, c->ev_len);
    put(c, &c->buf, &c->len, &c->cap, "END:VCALENDAR\r\n", 15);
    if (c->failed)
        return -1;
    *text = c->buf;
    *len = c->len;
    return 0;
}
