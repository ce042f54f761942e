/*
 * time: instants and civil time (see time.h).
 *
 * Parsing is syntax first (parse_wall, parse_offset), then range checks
 * and a timegm round trip for the date, then, for a local time, mktime in
 * the zone with every tm_isdst hint, keeping only candidates that
 * localtime_r turns back into the same wall clock. Every zone is entered
 * by its absolute file name, so that TZDIR cannot make the conversion
 * disagree with civil_zone_known.
 */
#include "util/time.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/text.h"
#include "util/why.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define TIME_STR_MAX 40 /* longest TIME: "2026-12-03T09:00:00+01:00" is 25 */
#define SHOW_MAX 48     /* bytes of user input echoed in a message */

/* ---- zones ------------------------------------------------------------ */

/* In the order of util/country's table: the web form lists them so. */
static const civil_zone_t zones[] = {
    {"Europe/Stockholm", "CET", "CEST", 3600}, {"Europe/Copenhagen", "CET", "CEST", 3600},
    {"Europe/Helsinki", "EET", "EEST", 7200},  {"Europe/Berlin", "CET", "CEST", 3600},
    {"Europe/Oslo", "CET", "CEST", 3600},      {"Europe/Tallinn", "EET", "EEST", 7200},
    {"Europe/Riga", "EET", "EEST", 7200},      {"Europe/Vilnius", "EET", "EEST", 7200},
    {"Europe/London", "GMT", "BST", 0},
};
#define N_ZONES (sizeof zones / sizeof zones[0])
_Static_assert(N_ZONES <= CIVIL_ZONES_MAX, "CIVIL_ZONES_MAX is too small for the zone table");

const civil_zone_t *civil_zone_at(size_t i)
{
    return i < N_ZONES ? &zones[i] : NULL;
}

const civil_zone_t *civil_zone_named(const char *tz)
{
    for (size_t i = 0; tz && i < N_ZONES; i++)
        if (strcmp(zones[i].tzid, tz) == 0)
            return &zones[i];
    return NULL;
}

int civil_zone_name_valid(const char *tz)
{
    size_t n = strlen(tz);
    if (n == 0 || n > CIVIL_ZONE_NAME_MAX || tz[0] == '/' || tz[n - 1] == '/' || strstr(tz, "..") ||
        strstr(tz, "//"))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = tz[i];
        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
            c != '/' && c != '_' && c != '+' && c != '-')
            return 0;
    }
    return 1;
}

int civil_zone_known(const char *tz)
{
    char path[sizeof ZONEINFO_DIR + CIVIL_ZONE_NAME_MAX + 2], magic[4];
    struct stat st;
    if (!tz || !civil_zone_name_valid(tz) || strncmp(tz, "right/", 6) == 0)
        return 0;
    snprintf(path, sizeof path, "%s/%s", ZONEINFO_DIR, tz);
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    /* zone.tab, tzdata.zi, ... are regular files too; the C library would
     * silently treat them as UTC, so only real TZif files count. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, magic, sizeof magic);
    close(fd);
    return got == (ssize_t)sizeof magic && memcmp(magic, "TZif", 4) == 0;
}

typedef struct tz_saved {
    char *old;
    int had;
} tz_saved_t;

/* Points TZ at the zone file (absolute, so TZDIR cannot make it disagree
 * with civil_zone_known). tz must be known. */
static int tz_enter(const char *tz, tz_saved_t *sv)
{
    char val[sizeof ZONEINFO_DIR + CIVIL_ZONE_NAME_MAX + 3];
    const char *old = getenv("TZ");
    sv->had = old != NULL;
    sv->old = old ? strdup(old) : NULL;
    if (sv->had && !sv->old)
        return CIVIL_ERR_NOMEM;
    snprintf(val, sizeof val, ":%s/%s", ZONEINFO_DIR, tz);
    if (setenv("TZ", val, 1) != 0) {
        free(sv->old);
        return CIVIL_ERR_NOMEM;
    }
    tzset();
    return CIVIL_OK;
}

static void tz_leave(tz_saved_t *sv)
{
    if (sv->had)
        setenv("TZ", sv->old, 1);
    else
        unsetenv("TZ");
    tzset();
    free(sv->old);
    sv->old = NULL;
}

/* ---- parsing ---------------------------------------------------------- */

/* A wall-clock reading, as written: not yet checked for range. */
typedef struct wall {
    int y, mo, d, h, mi, s;
} wall_t;

/* Exactly n ASCII digits. */
static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* "YYYY-MM-DDTHH:MM[:SS]"; *rest is what follows. Syntax only. */
static int parse_wall(const char *s, wall_t *c, const char **rest)
{
    c->s = 0;
    if (!digits(s, 4, &c->y) || s[4] != '-' || !digits(s + 5, 2, &c->mo) || s[7] != '-' ||
        !digits(s + 8, 2, &c->d) || s[10] != 'T' || !digits(s + 11, 2, &c->h) || s[13] != ':' ||
        !digits(s + 14, 2, &c->mi))
        return 0;
    s += 16;
    if (*s == ':') {
        if (!digits(s + 1, 2, &c->s))
            return 0;
        s += 3;
    }
    *rest = s;
    return 1;
}

/* "" (local), "Z", or "+HH:MM"/"-HH:MM" → seconds east of UTC. */
static int parse_offset(const char *s, int *is_local, int *offset)
{
    int hh, mm;
    *is_local = *s == '\0';
    *offset = 0;
    if (*is_local || strcmp(s, "Z") == 0)
        return 1;
    if ((s[0] != '+' && s[0] != '-') || !digits(s + 1, 2, &hh) || s[3] != ':' ||
        !digits(s + 4, 2, &mm) || s[6] != '\0' || hh > 18 || mm > 59)
        return 0;
    *offset = (s[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    return 1;
}

static void wall_to_tm(const wall_t *c, struct tm *tm)
{
    memset(tm, 0, sizeof *tm);
    tm->tm_year = c->y - 1900;
    tm->tm_mon = c->mo - 1;
    tm->tm_mday = c->d;
    tm->tm_hour = c->h;
    tm->tm_min = c->mi;
    tm->tm_sec = c->s;
}

static int same_wall(const struct tm *tm, const wall_t *c)
{
    return tm->tm_year == c->y - 1900 && tm->tm_mon == c->mo - 1 && tm->tm_mday == c->d &&
           tm->tm_hour == c->h && tm->tm_min == c->mi && tm->tm_sec == c->s;
}

/* Range checks, then a timegm round trip: it normalises Feb 30 to Mar 2,
 * which is how an impossible date shows itself. */
static int wall_to_utc(const wall_t *c, int64_t *out)
{
    struct tm tm;
    if (c->mo < 1 || c->mo > 12 || c->d < 1 || c->d > 31 || c->h > 23 || c->mi > 59 || c->s > 59)
        return 0;
    wall_to_tm(c, &tm);
    time_t t = timegm(&tm);
    if (!same_wall(&tm, c))
        return 0;
    *out = (int64_t)t;
    return 1;
}

/* Wall-clock time in the zone currently in TZ. mktime is tried with each
 * tm_isdst hint; a candidate counts only if localtime_r gives the same wall
 * clock back. None: the time falls in a gap (spring forward). Two: it is
 * ambiguous (fall back), and the earlier instant is taken. */
static int local_to_utc_here(const wall_t *c, int64_t *out)
{
    static const int hints[] = {-1, 0, 1};
    int found = 0;
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        struct tm tm, back;
        wall_to_tm(c, &tm);
        tm.tm_isdst = hints[i];
        time_t t = mktime(&tm);
        if (!localtime_r(&t, &back) || !same_wall(&back, c))
            continue;
        if (!found || (int64_t)t < *out)
            *out = (int64_t)t;
        found = 1;
    }
    return found;
}

static int local_to_utc(const wall_t *c, const char *s, const char *tz, int64_t *out, char *why,
                        size_t whylen)
{
    char a[TEXT_SHOW_SIZE(SHOW_MAX)], b[TEXT_SHOW_SIZE(SHOW_MAX)];
    tz_saved_t sv;
    if (!tz || !*tz)
        return why_fail(why, whylen, CIVIL_ERR_INVALID,
                        "%s has no Z or offset, and no time zone is given",
                        text_show(a, sizeof a, s));
    if (!civil_zone_known(tz))
        return why_fail(why, whylen, CIVIL_ERR_INVALID,
                        "'%s' is not a time zone known to this system", text_show(a, sizeof a, tz));
    if (tz_enter(tz, &sv) != CIVIL_OK)
        return why_fail(why, whylen, CIVIL_ERR_NOMEM, "out of memory");
    int ok = local_to_utc_here(c, out);
    tz_leave(&sv);
    if (!ok)
        return why_fail(why, whylen, CIVIL_ERR_INVALID, "%s does not exist in %s",
                        text_show(a, sizeof a, s), text_show(b, sizeof b, tz));
    return CIVIL_OK;
}

int civil_day_parse(const char *s, int64_t *out, int end_of_day)
{
    struct tm tm = {0};
    const char *e = strptime(s, "%Y-%m-%d", &tm);
    if (!e || *e)
        return -1;
    *out = (int64_t)timegm(&tm) + (end_of_day ? 86400 : 0);
    return 0;
}

int civil_parse(const char *s, const char *tz, int64_t *out, char *why, size_t whylen)
{
    char a[TEXT_SHOW_SIZE(SHOW_MAX)];
    const char *rest;
    wall_t c;
    int is_local, offset;
    int64_t t;
    if (!s)
        return why_fail(why, whylen, CIVIL_ERR_INVALID, "no time given");
    if (strlen(s) > TIME_STR_MAX || !parse_wall(s, &c, &rest) ||
        !parse_offset(rest, &is_local, &offset))
        return why_fail(why, whylen, CIVIL_ERR_INVALID,
                        "'%s' is not a time like 2026-12-03T09:00, 2026-12-03T09:00:00Z or "
                        "2026-12-03T09:00+01:00",
                        text_show(a, sizeof a, s));
    if (!wall_to_utc(&c, &t))
        return why_fail(why, whylen, CIVIL_ERR_INVALID, "%s is not a valid date and time",
                        text_show(a, sizeof a, s));
    if (is_local)
        return local_to_utc(&c, s, tz, out, why, whylen);
    *out = t - offset;
    return CIVIL_OK;
}

/* ---- writing ---------------------------------------------------------- */

static void format_tm(const struct tm *tm, long off, int utc, char *out, size_t n)
{
    long a = off < 0 ? -off : off;
    int y = tm->tm_year + 1900;
    if (y < 0 || y > 9999) {
        out[0] = '\0'; /* not a TIME that civil_parse would take back */
        return;
    }
    if (utc)
        snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, tm->tm_mon + 1, tm->tm_mday,
                 tm->tm_hour, tm->tm_min, tm->tm_sec);
    else
        snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", y, tm->tm_mon + 1,
                 tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, off < 0 ? '-' : '+', a / 3600,
                 a / 60 % 60);
}

/* Local form; 0 if the zone cannot express t (e.g. a historic offset with
 * seconds, which ±HH:MM cannot carry). */
static int format_local(time_t t, const char *tz, char *out, size_t n)
{
    struct tm tm;
    tz_saved_t sv;
    if (tz_enter(tz, &sv) != CIVIL_OK)
        return 0;
    int ok = localtime_r(&t, &tm) != NULL;
    tz_leave(&sv);
    if (!ok || tm.tm_gmtoff % 60 != 0)
        return 0;
    format_tm(&tm, tm.tm_gmtoff, 0, out, n);
    return 1;
}

int civil_local(int64_t t, const char *tz, struct tm *out)
{
    struct tm tm;
    tz_saved_t sv;
    time_t tt = (time_t)t;
    if (!tz || !civil_zone_known(tz) || tz_enter(tz, &sv) != CIVIL_OK)
        return -1;
    int ok = localtime_r(&tt, &tm) != NULL;
    tz_leave(&sv);
    if (!ok)
        return -1;
    *out = tm;
    return 0;
}

void civil_format(int64_t t, const char *tz, char *out, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!out || n == 0)
        return;
    if (tz && civil_zone_known(tz) && format_local(tt, tz, out, n))
        return;
    if (!gmtime_r(&tt, &tm)) {
        out[0] = '\0';
        return;
    }
    format_tm(&tm, 0, 1, out, n);
}

/* strftime's 0 means "did not fit" (and out undefined) unless the result
 * is empty by rights. fmt is civil_strftime's, which the compiler checks
 * at each call of that (its format attribute). */
static int strftime_into(const struct tm *tm, const char *fmt, char *out, size_t n)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t len = strftime(out, n, fmt, tm);
#pragma GCC diagnostic pop
    if (len != 0)
        return 0;
    out[0] = '\0';
    return fmt[0] ? -1 : 0;
}

int civil_strftime(int64_t t, const char *tz, const char *fmt, char *out, size_t n)
{
    struct tm tm;
    tz_saved_t sv;
    time_t tt = (time_t)t;
    if (!out || n == 0)
        return -1;
    out[0] = '\0';
    if (tz && civil_zone_known(tz) && tz_enter(tz, &sv) == CIVIL_OK) {
        /* written inside the zone's window, so that even %Z names it */
        int rc = localtime_r(&tt, &tm) ? strftime_into(&tm, fmt, out, n) : -1;
        tz_leave(&sv);
        return rc;
    }
    if (!gmtime_r(&tt, &tm) || strftime_into(&tm, fmt, out, n) != 0)
        return -1;
    return tz ? -1 : 0;
}

/* ---- periods and zone history ----------------------------------------- */

int64_t civil_wall_seconds(int64_t t, const char *tz)
{
    struct tm tm;
    if (civil_local(t, tz, &tm) != 0)
        return t; /* no zone, or one this system lacks: UTC's wall clock */
    return (int64_t)timegm(&tm);
}

int civil_in_period(int64_t from, int64_t to, int64_t start, int64_t end, const char *tz)
{
    if (!from && !to)
        return 1;
    int64_t s = civil_wall_seconds(start, tz);
    int64_t e = end > start ? civil_wall_seconds(end, tz) : s;
    if (to && s >= to)
        return 0;
    /* an event ending at the period's first midnight is over before it; one
     * of no length at that midnight is in it */
    return !from || e > from || s >= from;
}

int civil_repeated_wall(int64_t t, const char *tz)
{
    char wall[32];
    int64_t first;
    if (!tz || civil_strftime(t, tz, "%Y-%m-%dT%H:%M:%S", wall, sizeof wall) != 0 ||
        civil_parse(wall, tz, &first, NULL, 0) != CIVIL_OK)
        return 0;
    return first != t;
}

/* Offset, summer flag and name of the zone in TZ at t. */
static int observe(int64_t t, civil_transition_t *o)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!localtime_r(&tt, &tm))
        return -1;
    o->offset_to = (int)tm.tm_gmtoff;
    o->is_dst = tm.tm_isdst > 0;
    snprintf(o->name, sizeof o->name, "%s", tm.tm_zone ? tm.tm_zone : "");
    return 0;
}

static int same_observance(const civil_transition_t *a, const civil_transition_t *b)
{
    return a->offset_to == b->offset_to && a->is_dst == b->is_dst && !strcmp(a->name, b->name);
}

/* Steps a day at a time and bisects to the second where the zone's
 * offset, summer flag or name changed: no zone changes twice in a day. */
static int scan_transitions(int64_t from, int64_t to, civil_transition_t *out, size_t max,
                            size_t *n)
{
    civil_transition_t cur, next;
    if (observe(from, &cur) != 0)
        return CIVIL_ERR_INVALID;
    cur.at = from;
    cur.offset_from = cur.offset_to;
    out[0] = cur;
    *n = 1;
    for (int64_t t = from; t < to; t += 86400) {
        int64_t hi = t + 86400 < to ? t + 86400 : to;
        if (observe(hi, &next) != 0)
            return CIVIL_ERR_INVALID;
        if (same_observance(&cur, &next))
            continue;
        int64_t lo = t; /* cur holds at lo, next at hi */
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            civil_transition_t m;
            if (observe(mid, &m) != 0)
                return CIVIL_ERR_INVALID;
            if (same_observance(&cur, &m))
                lo = mid;
            else
                hi = mid;
        }
        if (observe(hi, &next) != 0)
            return CIVIL_ERR_INVALID;
        if (*n == max)
            return CIVIL_ERR_RANGE;
        next.at = hi;
        next.offset_from = cur.offset_to;
        out[(*n)++] = next;
        cur = next;
        t = hi - 86400; /* go on from the switch */
    }
    return CIVIL_OK;
}

int civil_transitions(const char *tz, int64_t from, int64_t to, civil_transition_t *out,
                      size_t max, size_t *n)
{
    tz_saved_t sv;
    size_t got = 0;
    if (!tz || !civil_zone_known(tz) || max == 0 || to < from ||
        to - from > CIVIL_TRANSITIONS_SPAN_MAX)
        return CIVIL_ERR_INVALID;
    if (tz_enter(tz, &sv) != CIVIL_OK)
        return CIVIL_ERR_NOMEM;
    int rc = scan_transitions(from, to, out, max, &got);
    tz_leave(&sv);
    if (rc == CIVIL_OK)
        *n = got;
    return rc;
}
