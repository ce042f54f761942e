/*
 * series: a workshop or meeting that happens more than once (issue 19):
 * its first occurrence is the item's own start/end, the rest come from a
 * rule (Recurrence: a subset of RFC 5545's RRULE, FREQ=WEEKLY|MONTHLY,
 * INTERVAL, COUNT or UNTIL, BYDAY) or from a list of further dates
 * (Occurrence: start, end and place each). A rule is expanded on the
 * wall clock of the item's zone, as calendar clients expand an RRULE with
 * TZID: 18:00 stays 18:00 across summer time.
 *
 * Bounds, named in one line: at most SERIES_MAX occurrences, none starting
 * more than SERIES_SPAN_S after the first (checked for all content,
 * series_check); a rule's first occurrence on a day the rule gives (so that
 * RRULE readers count it as the rule does) and no occurrence at a wall time
 * summer time skips (checked when publishing, series_check_local). Readers
 * of content from elsewhere expand with series_expand and fall back to the
 * first occurrence when it refuses.
 */
#ifndef LERNET_SERIES_H
#define LERNET_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/event.pb-c.h"

#define SERIES_MAX 200                      /* occurrences in all, the first included */
#define SERIES_SPAN_S (3LL * 366 * 86400)   /* the last starts within 3 years of the first */
#define SERIES_INTERVAL_MAX 52

typedef struct series_occ {
    int64_t start, end;
    const char *place; /* the series' place or the occurrence's own; borrowed */
} series_occ_t;

/* What a series is made of: a workshop's or meeting's fields (borrowed). */
typedef struct series {
    int64_t start, end;
    const char *tz, *place;
    const Lernet__Recurrence *rule;  /* NULL: none */
    Lernet__Occurrence *const *dates;
    size_t n_dates;
} series_t;

/* The series of a workshop or meeting (either may be NULL). */
series_t series_of(const Lernet__Workshop *w, const Lernet__Meeting *m);
/* 1 when it has more than its own start/end (a rule or dates). */
int series_repeats(const series_t *s);

/* Every occurrence in order of start into out (room for max), the first
 * the item's own. 0 with *n set, or EV_BAD_SERIES with a one-line reason
 * naming the field (recurrence.count, occurrences[2].start, ...). */
int series_expand(const series_t *s, series_occ_t *out, size_t max, size_t *n, char *why,
                  size_t whylen);

/* Validation of untrusted content (core/event.c), on any thread: the
 * bounds that need no zone (freq, interval, count or until, BYDAY's form,
 * at most SERIES_MAX occurrences and SERIES_SPAN_S counted as weeks or
 * months times days, the dates in full). 0 or EV_BAD_SERIES, one line. */
int series_check(const series_t *s, char *why, size_t whylen);
/* What publishing adds (store/publish.c; not thread-safe: util/time sets
 * TZ): the rule expanded on the zone's wall clock, so a first occurrence
 * off the rule's days or one in a summer-time gap is refused. A zone this
 * system lacks is let through (nothing to expand it with). */
int series_check_local(const series_t *s, char *why, size_t whylen);

#endif
