/*
 * ical: workshops and meetings as one RFC 5545 VCALENDAR. Content lines end
 * in CRLF and are folded at 75 octets, never inside a UTF-8 character; TEXT
 * values escape backslash, comma, semicolon and newline. Times are given in
 * the event's own zone with TZID and its VTIMEZONE: the EU rule for the
 * zones of util/time's table (Europe/Stockholm, Copenhagen, Berlin, Oslo,
 * Helsinki, Tallinn, Riga, Vilnius, London), and for any other zone this
 * system's tz database knows, its changes over the years the calendar
 * uses, generated from that database (local times keep a series on its
 * wall-clock hour across summer time, which UTC would not). UTC only for a
 * zone the system lacks, and for the second of a repeated wall time (the
 * autumn night's second 02:30), which a TZID time cannot name. UID is
 * derived from the original event id, so it stays across updates;
 * SEQUENCE is the item's revision. A cancelled item is STATUS:CANCELLED,
 * its SUMMARY prefixed ("Inställt: " in Swedish, "Cancelled: " ...) and its
 * DESCRIPTION opening with the reason. The calendar carries its name
 * (ical_set_name) and a refresh hint of an hour.
 *
 * Usage: ical_new, ical_add for each item, ical_finish; the text is owned
 * by the ical_t and freed by ical_free.
 */
#ifndef LERNET_ICAL_H
#define LERNET_ICAL_H

#include <stddef.h>

#include "store/store.h"

typedef struct ical ical_t;

/* langs: preferred languages for SUMMARY/DESCRIPTION ("sv,en"), or NULL. */
int ical_new(ical_t **out, const char *langs);
void ical_free(ical_t **c);
/* The calendar's name for clients (NAME, X-WR-CALNAME): copied; NULL: none.
 * 0 or -1 (memory). */
int ical_set_name(ical_t *c, const char *name);
/* Adds a workshop or meeting (other kinds are ignored). 0 or -1 (memory). */
int ical_add(ical_t *c, const store_item_t *it);
/* Closes the calendar; *text stays owned by c. */
int ical_finish(ical_t *c, const char **text, size_t *len);

#endif
