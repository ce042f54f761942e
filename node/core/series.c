/* series: see series.h. Days are counted from 1970-01-01 on the local
 * calendar; an occurrence is a local day plus the first one's wall time,
 * made an instant in the item's zone (util/time). */
#include "core/series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/err.h"
#include "util/time.h"
#include "util/why.h"

static const char *const day_names[7] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};

typedef struct local {
    int64_t day; /* local date, days from 1970-01-01 */
    int y, mo, d, wd; /* wd: 0 Monday .. 6 Sunday */
    int h, mi, s;
} local_t;

typedef struct gen {
    const series_t *s;
    local_t first;
    series_occ_t *out;
    size_t max, n;
    uint32_t count;  /* 0: until */
    int64_t until;
    int done;
    char *why;
    size_t whylen;
} gen_t;

series_t series_of(const Lernet__Workshop *w, const Lernet__Meeting *m)
{
    series_t s = {0};
    if (w)
        s = (series_t){w->start, w->end, w->tz, w->place, w->recurrence, w->occurrences,
                       w->n_occurrences};
    else if (m)
        s = (series_t){m->start, m->end, m->tz, m->place, m->recurrence, m->occurrences,
                       m->n_occurrences};
    return s;
}

int series_repeats(const series_t *s)
{
    return s->rule != NULL || s->n_dates > 0;
}

static void day_to_civil(int64_t day, local_t *l)
{
    time_t t = (time_t)(day * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    l->day = day;
    l->y = tm.tm_year + 1900;
    l->mo = tm.tm_mon + 1;
    l->d = tm.tm_mday;
    l->wd = (tm.tm_wday + 6) % 7;
}

static int64_t civil_to_day(int y, int mo, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = 12};
    return (int64_t)timegm(&tm) / 86400;
}

static int days_in_month(int y, int mo)
{
    return (int)(civil_to_day(mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1) -
                 civil_to_day(y, mo, 1));
}

static int local_of(int64_t t, const char *tz, local_t *l)
{
    struct tm tm;
    if (civil_local(t, tz, &tm) != 0)
        return -1;
    day_to_civil(civil_to_day(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday), l);
    l->h = tm.tm_hour;
    l->mi = tm.tm_min;
    l->s = tm.tm_sec;
    return 0;
}

/* One occurrence of the rule on local day `day`: stops the generator at
 * COUNT or past UNTIL, refuses past the bounds. */
static int emit(gen_t *g, int64_t day)
{
    local_t l;
    char wall[64], inner[160];
    int64_t t;
    day_to_civil(day, &l);
    snprintf(wall, sizeof wall, "%04d-%02d-%02dT%02d:%02d:%02d", l.y, l.mo, l.d, g->first.h,
             g->first.mi, g->first.s);
    if (civil_parse(wall, g->s->tz, &t, inner, sizeof inner) != 0)
        return why_fail(g->why, g->whylen, EV_BAD_SERIES, "field 'recurrence': the occurrence %s: %s",
                        wall, inner);
    if (g->until && t > g->until) {
        g->done = 1;
        return 0;
    }
    if (t - g->s->start > SERIES_SPAN_S)
        return why_fail(g->why, g->whylen, EV_BAD_SERIES,
                        "field 'recurrence': occurrences go on more than 3 years after the first");
    if (g->n == g->max || g->n == SERIES_MAX)
        return why_fail(g->why, g->whylen, EV_BAD_SERIES,
                        "field 'recurrence': more than %d occurrences", SERIES_MAX);
    g->out[g->n++] = (series_occ_t){t, t + (g->s->end - g->s->start), g->s->place};
    if (g->count && g->n == g->count)
        g->done = 1;
    return 0;
}

static int weekly(gen_t *g, unsigned mask, uint32_t interval)
{
    int64_t week0 = g->first.day - g->first.wd;
    for (int64_t k = 0; !g->done; k++) {
        int64_t week = week0 + 7 * (int64_t)interval * k;
        if ((week - week0) * 86400 > SERIES_SPAN_S + 7 * 86400)
            return why_fail(g->why, g->whylen, EV_BAD_SERIES,
                            "field 'recurrence': occurrences go on more than 3 years after the first");
        for (int d = 0; d < 7 && !g->done; d++)
            if ((mask & (1u << d)) && week + d >= g->first.day && emit(g, week + d) != 0)
                return EV_BAD_SERIES;
    }
    return 0;
}

/* The day of the nth (1..4, or -1: last) weekday wd in a month. */
static int64_t nth_weekday(int y, int mo, int nth, int wd)
{
    local_t l;
    if (nth > 0) {
        day_to_civil(civil_to_day(y, mo, 1), &l);
        return l.day + (wd - l.wd + 7) % 7 + 7 * (nth - 1);
    }
    day_to_civil(civil_to_day(y, mo, days_in_month(y, mo)), &l);
    return l.day - (l.wd - wd + 7) % 7;
}

static int monthly(gen_t *g, int nth, int wd, uint32_t interval)
{
    int m0 = g->first.y * 12 + (g->first.mo - 1);
    for (int k = 0; !g->done; k++) {
        int m = m0 + (int)interval * k, y = m / 12, mo = m % 12 + 1;
        if ((int64_t)k * interval > 12 * 3 + 1)
            return why_fail(g->why, g->whylen, EV_BAD_SERIES,
                            "field 'recurrence': occurrences go on more than 3 years after the first");
        if (nth) {
            if (emit(g, nth_weekday(y, mo, nth, wd)) != 0)
                return EV_BAD_SERIES;
        } else if (g->first.d <= days_in_month(y, mo) &&
                   emit(g, civil_to_day(y, mo, g->first.d)) != 0) /* no 31st: skipped, as RFC 5545 */
            return EV_BAD_SERIES;
    }
    return 0;
}

/* BYDAY of a weekly rule: a set of days, the first occurrence's among them. */
static int byday_weekly(gen_t *g, const Lernet__Recurrence *r, unsigned *mask)
{
    *mask = 0;
    if (r->n_byday > 7)
        return why_fail(g->why, g->whylen, EV_BAD_SERIES,
                        "field 'recurrence.byday' has %zu days, at most 7", r->n_byday);
    for (size_t i = 0; i < r->n_byday; i++) {
        int d = 0;
        while (d < 7 && strcmp(r->byday[i], day_names[d]) != 0)
            d++;
        if (d == 7)
            return why_fail(g->why, g->whylen, EV_BAD_SERIES,
                            "field 'recurrence.byday[%zu]': '%.8s' is not MO, TU, WE, TH, FR, SA or SU",
                            i, r->byday[i]);
        *mask |= 1u << d;
    }
    if (!*mask)
        *mask = 1u << g->first.wd;
    if (!(*mask & (1u << g->first.wd)))
        return why_fail(g->why, g->whylen, EV_BAD_SERIES,
                        "field 'recurrence.byday': the first occurrence's day (%s) is not among them",
                        day_names[g->first.wd]);
    return 0;
}

/* BYDAY of a monthly rule: none (the first's day of the month) or one
 * "1TU".."4TU" / "-1TU" that the first occurrence is. */
static int byday_monthly(gen_t *g, const Lernet__Recurrence *r, int *nth, int *wd)
{
    *nth = 0;
    if (r->n_byday == 0)
        return 0;
    const char *b = r->byday[0];
    int n = b[0] == '-' && b[1] == '1' ? -1 : b[0] >= '1' && b[0] <= '4' ? b[0] - '0' : 0;
    const char *name = b + (n < 0 ? 2 : 1);
    int d = 0;
    while (n && d < 7 && strcmp(name, day_names[d]) != 0)
        d++;
    if (r->n_byday > 1 || !n || d == 7)
        return why_fail(g->why, g->whylen, EV_BAD_SERIES,
                        "field 'recurrence.byday': a monthly rule takes one day like 2TU or -1SU");
    if (nth_weekday(g->first.y, g->first.mo, n, d) != g->first.day)
        return why_fail(g->why, g->whylen, EV_BAD_SERIES,
                        "field 'recurrence.byday': the first occurrence is not on %.8s of its month", b);
    *nth = n;
    *wd = d;
    return 0;
}

/* The bounds of a rule that need no zone: frequency, interval, count or
 * until (one of the two), the span. Shared by the expansion and the
 * zone-free check of received events. */
static int rule_bounds(const series_t *s, char *why, size_t whylen)
{
    const Lernet__Recurrence *r = s->rule;
    uint32_t interval = r->interval ? r->interval : 1;
    if (r->freq != LERNET__FREQ__FREQ_WEEKLY && r->freq != LERNET__FREQ__FREQ_MONTHLY)
        return why_fail(why, whylen, EV_BAD_SERIES, "field 'recurrence.freq': weekly or monthly");
    if (interval > SERIES_INTERVAL_MAX)
        return why_fail(why, whylen, EV_BAD_SERIES, "field 'recurrence.interval': %u is above %d",
                        interval, SERIES_INTERVAL_MAX);
    if (!r->count == !r->until)
        return why_fail(why, whylen, EV_BAD_SERIES,
                        "field 'recurrence': give count or until, one of the two");
    if (r->count > SERIES_MAX)
        return why_fail(why, whylen, EV_BAD_SERIES, "field 'recurrence.count': %u is above %d",
                        r->count, SERIES_MAX);
    if (r->until && (r->until < s->start || r->until - s->start > SERIES_SPAN_S))
        return why_fail(why, whylen, EV_BAD_SERIES,
                        "field 'recurrence.until': not within 3 years after the start");
    return 0;
}

static int expand_rule(const series_t *s, series_occ_t *out, size_t max, size_t *n, int lenient,
                       char *why, size_t whylen)
{
    const Lernet__Recurrence *r = s->rule;
    gen_t g = {.s = s, .out = out, .max = max, .count = r->count, .until = r->until, .why = why,
               .whylen = whylen};
    uint32_t interval = r->interval ? r->interval : 1;
    if (rule_bounds(s, why, whylen))
        return EV_BAD_SERIES;
    if ((!s->tz || !civil_zone_known(s->tz)) && lenient) {
        out[0] = (series_occ_t){s->start, s->end, s->place};
        *n = 1; /* a zone this system lacks: the bounds above are all it can check */
        return 0;
    }
    if (!s->tz || local_of(s->start, s->tz, &g.first) != 0)
        return why_fail(why, whylen, EV_BAD_SERIES,
                        "field 'recurrence': the zone '%.64s' is not known to this system",
                        s->tz ? s->tz : "");
    int rc, nth = 0, wd = 0;
    unsigned mask = 0;
    if (r->freq == LERNET__FREQ__FREQ_WEEKLY)
        rc = byday_weekly(&g, r, &mask) || weekly(&g, mask, interval);
    else
        rc = byday_monthly(&g, r, &nth, &wd) || monthly(&g, nth, wd, interval);
    if (rc)
        return EV_BAD_SERIES;
    *n = g.n;
    return 0;
}

static int expand_dates(const series_t *s, series_occ_t *out, size_t max, size_t *n, char *why,
                        size_t whylen)
{
    if (s->n_dates + 1 > SERIES_MAX || s->n_dates + 1 > max)
        return why_fail(why, whylen, EV_BAD_SERIES, "field 'occurrences' has %zu dates, at most %d",
                        s->n_dates, SERIES_MAX - 1);
    out[0] = (series_occ_t){s->start, s->end, s->place};
    for (size_t i = 0; i < s->n_dates; i++) {
        const Lernet__Occurrence *o = s->dates[i];
        if (o->start <= out[i].start)
            return why_fail(why, whylen, EV_BAD_SERIES,
                            "field 'occurrences[%zu].start' is not after the one before", i);
        if (o->start - s->start > SERIES_SPAN_S)
            return why_fail(why, whylen, EV_BAD_SERIES,
                            "field 'occurrences[%zu].start' is more than 3 years after the first", i);
        if (o->end <= o->start || o->end - o->start > 366LL * 86400)
            return why_fail(why, whylen, EV_BAD_SERIES,
                            "field 'occurrences[%zu].end' must be after its start, within a year", i);
        out[i + 1] = (series_occ_t){o->start, o->end, *o->place ? o->place : s->place};
    }
    *n = s->n_dates + 1;
    return 0;
}

static int expand(const series_t *s, series_occ_t *out, size_t max, size_t *n, int lenient,
                  char *why, size_t whylen)
{
    if (max == 0)
        return why_fail(why, whylen, EV_BAD_SERIES, "no room for occurrences");
    if (s->rule && s->n_dates)
        return why_fail(why, whylen, EV_BAD_SERIES,
                        "field 'occurrences': a series has a rule or dates, not both");
    if (s->rule)
        return expand_rule(s, out, max, n, lenient, why, whylen);
    if (s->n_dates)
        return expand_dates(s, out, max, n, why, whylen);
    out[0] = (series_occ_t){s->start, s->end, s->place};
    *n = 1;
    return 0;
}

int series_expand(const series_t *s, series_occ_t *out, size_t max, size_t *n, char *why,
                  size_t whylen)
{
    return expand(s, out, max, n, 0, why, whylen);
}

/* The number of BYDAY entries of a weekly rule (0 when one is not a day
 * name: reported by the caller). */
static int weekly_days(const Lernet__Recurrence *r, int *ok)
{
    unsigned mask = 0;
    *ok = 1;
    for (size_t i = 0; i < r->n_byday; i++) {
        int d = 0;
        while (d < 7 && strcmp(r->byday[i], day_names[d]) != 0)
            d++;
        if (d == 7)
            *ok = 0;
        else
            mask |= 1u << d;
    }
    return mask ? __builtin_popcount(mask) : 1;
}

/* Validation without the zone: only date arithmetic, so that it runs on
 * any thread (core/event.c is called by sync's verification pool, and the
 * zone conversions of util/time set TZ for the process). What needs the
 * wall clock (the first occurrence on a rule day, no occurrence in a
 * summer-time gap) is checked when this node publishes (series_expand,
 * store/publish.c). Bounds by counting weeks (months) times days: never
 * fewer than the rule gives. */
int series_check(const series_t *s, char *why, size_t whylen)
{
    if (s->rule && s->n_dates)
        return why_fail(why, whylen, EV_BAD_SERIES,
                        "field 'occurrences': a series has a rule or dates, not both");
    if (s->n_dates) {
        series_occ_t *occ = malloc(SERIES_MAX * sizeof *occ);
        size_t n = 0;
        if (!occ)
            return why_fail(why, whylen, EV_NO_MEMORY, "out of memory");
        int rc = expand_dates(s, occ, SERIES_MAX, &n, why, whylen); /* no zone needed */
        free(occ);
        return rc;
    }
    if (!s->rule)
        return 0;
    const Lernet__Recurrence *r = s->rule;
    uint32_t interval = r->interval ? r->interval : 1;
    int rc = rule_bounds(s, why, whylen);
    if (rc)
        return rc;
    int ok = 1;
    int64_t days = 1, span_units, unit = r->freq == LERNET__FREQ__FREQ_WEEKLY ? 7 : 31;
    if (r->freq == LERNET__FREQ__FREQ_WEEKLY) {
        days = weekly_days(r, &ok);
        if (!ok || r->n_byday > 7)
            return why_fail(why, whylen, EV_BAD_SERIES,
                            "field 'recurrence.byday': at most 7 of MO, TU, WE, TH, FR, SA, SU");
    } else if (r->n_byday > 1)
        return why_fail(why, whylen, EV_BAD_SERIES,
                        "field 'recurrence.byday': a monthly rule takes one day like 2TU or -1SU");
    if (r->until) {
        span_units = (r->until - s->start) / (unit * 86400) / interval + 1;
        if (span_units * days > SERIES_MAX)
            return why_fail(why, whylen, EV_BAD_SERIES,
                            "field 'recurrence': more than %d occurrences", SERIES_MAX);
    } else if (r->freq == LERNET__FREQ__FREQ_WEEKLY
                   ? ((r->count + days - 1) / days - 1) * 7 * (int64_t)interval * 86400 > SERIES_SPAN_S
                   : (int64_t)(r->count - 1) * interval > 36)
        return why_fail(why, whylen, EV_BAD_SERIES,
                        "field 'recurrence': occurrences go on more than 3 years after the first");
    return 0;
}

int series_check_local(const series_t *s, char *why, size_t whylen)
{
    series_occ_t *occ = malloc(SERIES_MAX * sizeof *occ);
    size_t n = 0;
    if (!occ)
        return why_fail(why, whylen, EV_NO_MEMORY, "out of memory");
    int rc = expand(s, occ, SERIES_MAX, &n, 1, why, whylen);
    free(occ);
    return rc;
}
