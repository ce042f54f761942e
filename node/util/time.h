/*
 * time: instants and civil time. An instant is int64 Unix seconds (UTC,
 * no leap seconds); civil time is what a wall clock in a named IANA zone
 * shows. This module converts between the two (parsing and writing
 * ISO 8601 TIMEs, days, any strftime form), says which zones the system
 * knows, and holds the one table of the zones the networks use, with the
 * EU summer-time rule iCal needs to describe them.
 *
 * The prefix is civil_, not time_: these functions are about civil time,
 * and time_ would read like a wrapper of time(2) or a relative of libc's
 * time_t, timegm and timezone.
 *
 * TIME is ISO 8601: "2026-12-03T09:00:00Z" (UTC), "2026-12-03T09:00+01:00"
 * (offset), or "2026-12-03T09:00" (local time in a zone given beside it);
 * seconds optional. A local time is resolved by the system tz database:
 * one in a DST gap is an error, one that occurs twice means the earlier
 * instant.
 *
 * Local times are converted with the C library's own tz code: TZ is
 * pointed at the zone file, tzset()/mktime()/localtime_r() do the work,
 * and TZ is restored afterwards. That changes process-wide state for a
 * moment, so the functions that take a zone must not run concurrently with
 * other threads that use local time or TZ.
 */
#ifndef LERNET_TIME_H
#define LERNET_TIME_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

struct tm;

/* Error codes: CIVIL_ERR_* (-800s) of the one namespace in util/err.h. */

/* ---- zones ------------------------------------------------------------ */

/* The longest zone name taken ("America/Argentina/ComodRivadavia" is 32). */
#define CIVIL_ZONE_NAME_MAX 64

/* 1 if tz has the shape of an IANA zone name: "UTC" or Area/Location[/Sub]
 * of letters, digits, '_', '+' and '-', at most CIVIL_ZONE_NAME_MAX bytes,
 * no empty or ".." part. The rule event content is checked by; it says
 * nothing of whether this system has the zone. */
int civil_zone_name_valid(const char *tz);

/* 1 if the system tz database has tz as a real zone file (TZif), and its
 * name is valid and not a "right/" zone (those count leap seconds, which
 * Unix time does not). NULL is not a zone. */
int civil_zone_known(const char *tz);

/* One zone the networks use. All of them keep EU summer time: from the
 * last Sunday of March to the last Sunday of October, switching at 01:00
 * UTC, one hour ahead of standard time. */
typedef struct civil_zone {
    const char *tzid;                /* "Europe/Stockholm" */
    const char *std_name, *dst_name; /* "CET", "CEST" */
    int std_offset;                  /* seconds east of UTC in standard time: whole hours, >= 0 */
} civil_zone_t;
#define CIVIL_DST_SHIFT 3600 /* summer time is this many seconds ahead */
#define CIVIL_ZONES_MAX 32   /* the table has at most this many rows */

/* The i-th zone of the table (static), NULL past its end: the countries'
 * zones, in the order of util/country's table (the web form's choices). */
const civil_zone_t *civil_zone_at(size_t i);
/* The row of zone tz, NULL when the table has none. */
const civil_zone_t *civil_zone_named(const char *tz);

/* ---- parsing ---------------------------------------------------------- */

/* Parses TIME (see above) into *out; tz is the zone of a time without Z or
 * offset and may be NULL (then such a time is an error). 0, or a
 * civil_error with why. */
int civil_parse(const char *s, const char *tz, int64_t *out, char *why, size_t whylen);

/* YYYY-MM-DD as the instant 00:00 UTC of that day, or (end_of_day) of the
 * next day's 00:00, so that a --to day is inclusive. 0, or -1 if s is not
 * such a day. Periods hand these to civil_in_period, which reads them as
 * wall-clock seconds: the local midnight of that day in each event's zone. */
int civil_day_parse(const char *s, int64_t *out, int end_of_day);

/* ---- writing ---------------------------------------------------------- */

/* TIME of t in zone tz: "2026-12-03T09:00:00+01:00", or the UTC form
 * "2026-12-03T08:00:00Z" when tz is NULL, not known to this system, or
 * has an offset ±HH:MM cannot carry. "" when t is outside years 0-9999
 * (not a TIME civil_parse would take back) or n is too small. */
void civil_format(int64_t t, const char *tz, char *out, size_t n);

/* ---- periods ---------------------------------------------------------- */

/* The wall clock of t in zone tz as seconds from 1970-01-01T00:00 of that
 * clock (timegm of the local reading), UTC's when tz is NULL or a zone this
 * system lacks. Days of a period (civil_day_parse) are compared in this
 * form, so that a day means each event's own local day. */
int64_t civil_wall_seconds(int64_t t, const char *tz);

/* The one period rule of every export and the report: 1 when the event
 * from start to end (instants) in zone tz overlaps the local days
 * [from, to), as civil_day_parse gives them (0: open). An event is in the
 * period when it starts before the local midnight ending it and ends after
 * the local midnight opening it (an event of no length: starts at or after
 * it). So 00:30 in Helsinki on 1 April is in April, and 01:00 on 1 July is
 * outside a period ending 30 June. */
int civil_in_period(int64_t from, int64_t to, int64_t start, int64_t end, const char *tz);

/* 1 when the wall clock of t in zone tz also showed at an earlier instant:
 * the second 02:30 of an autumn night, which a TZID time in iCal (RFC 5545
 * 3.3.5) cannot name, since it means the first. 0 otherwise, or when tz is
 * NULL or unknown. */
int civil_repeated_wall(int64_t t, const char *tz);

/* One observance of a zone from instant at on: the offset before and
 * after (seconds east of UTC), summer time or not, and its abbreviation. */
typedef struct civil_transition {
    int64_t at;
    int offset_from, offset_to;
    int is_dst;
    char name[16]; /* "CEST"; "+03" where the database has no letters */
} civil_transition_t;
#define CIVIL_TRANSITIONS_SPAN_MAX (60LL * 366 * 86400) /* the longest span asked */

/* The zone's history from the system tz database over [from, to]: out[0]
 * is the observance in force at from (at = from, offset_from =
 * offset_to), then each change in order. Zones change at most twice a
 * year, so max = 2 per year of the span + 2 is enough; CIVIL_ERR_RANGE
 * when it is not. CIVIL_ERR_INVALID for an unknown zone or a span longer
 * than CIVIL_TRANSITIONS_SPAN_MAX. *n written only on success. Not
 * thread-safe (TZ, as above). */
int civil_transitions(const char *tz, int64_t from, int64_t to, civil_transition_t *out,
                      size_t max, size_t *n);

/* The wall clock of t in zone tz (a known zone) into *out. 0, or -1 with
 * *out untouched. */
int civil_local(int64_t t, const char *tz, struct tm *out);

/* t written with strftime format fmt as the wall clock of zone tz shows it
 * (UTC when tz is NULL). 0 when so written; -1 when tz is not a zone this
 * system knows (out then holds t in UTC) or t cannot be written (out is
 * ""). out always ends in a NUL when n > 0. */
int civil_strftime(int64_t t, const char *tz, const char *fmt, char *out, size_t n)
    __attribute__((format(strftime, 3, 0)));

#endif
