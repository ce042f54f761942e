/* ical: see ical.h. */
#include "export/ical.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/payload_json.h"
#include "util/text.h"
#include "util/time.h"

#define FOLD_OCTETS 75

struct ical {
    char *buf;
    size_t len, cap;
    char *events; /* VEVENTs, appended after the VTIMEZONEs at the end */
    size_t ev_len, ev_cap;
    int used[CIVIL_ZONES_MAX]; /* the rows of util/time's zone table in use */
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

static void ev_put(ical_t *c, const char *s, size_t n)
{
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

/* DTSTART/DTEND in the event's zone when it has a VTIMEZONE here, else UTC. */
static void time_line(ical_t *c, const char *name, int64_t t, const char *tz)
{
    char head[96], val[24];
    int z = zone_index(tz);
    if (z >= 0 && civil_strftime(t, tz, "%Y%m%dT%H%M%S", val, sizeof val) == 0) {
        c->used[z] = 1;
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

void ical_free(ical_t **cp)
{
    if (!cp || !*cp)
        return;
    free((*cp)->buf);
    free((*cp)->events);
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
    const Lernet__Text *t = pick(c, w.title, w.n_title);
    if (t)
        text_line(c, "SUMMARY", t->lang, t->text);
    if ((t = pick(c, w.text, w.n_text)))
        text_line(c, "DESCRIPTION", t->lang, t->text);
    if (w.place && *w.place)
        text_line(c, "LOCATION", NULL, w.place);
    if (w.url && *w.url)
        line(c, "URL", w.url); /* a URI, validated at input: no escaping */
    if (w.organiser && *w.organiser) {
        char cn[EVENT_MAX_SHORT + 16], author[2 * KEYS_PUBLIC_BYTES + 1], *q;
        snprintf(cn, sizeof cn, "ORGANIZER;CN=\"%s\"", w.organiser);
        for (q = cn + 14; *q; q++) /* a quoted parameter may not hold a quote */
            if (*q == '"' && q[1])
                *q = '\'';
        text_hex(author, it->author, KEYS_PUBLIC_BYTES);
        snprintf(buf, sizeof buf, "urn:lernet:author:%s", author);
        line(c, cn, buf);
    }
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
    return c->failed ? -1 : 0;
}

/* "+0100": an offset as TZOFFSETFROM/TO write it. */
static void ical_offset(char out[16], int seconds)
{
    int a = seconds < 0 ? -seconds : seconds;
    snprintf(out, 16, "%c%02d%02d", seconds < 0 ? '-' : '+', a / 3600, a / 60 % 60);
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

int ical_finish(ical_t *c, const char **text, size_t *len)
{
    static const char head[] = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                               "PRODID:-//lernet//lernet " LERNET_VERSION "//EN\r\n"
                               "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n";
    c->len = 0;
    put(c, &c->buf, &c->len, &c->cap, head, sizeof head - 1);
    for (size_t i = 0; civil_zone_at(i); i++)
        if (c->used[i])
            timezone_block(c, civil_zone_at(i));
    if (c->events)
        put(c, &c->buf, &c->len, &c->cap, c->events, c->ev_len);
    put(c, &c->buf, &c->len, &c->cap, "END:VCALENDAR\r\n", 15);
    if (c->failed)
        return -1;
    *text = c->buf;
    *len = c->len;
    return 0;
}
