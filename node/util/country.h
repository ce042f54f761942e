/*
 * country: what the node knows of the networks' countries, in one table:
 * the ISO 3166-1 alpha-2 code, the time zone (a row of util/time's zone
 * table) and the language most people there read. It gives the defaults
 * for a node's own country (the zone of a time given without one, in the
 * CLI and the web form alike; the web form's first language) and the
 * country of an event's zone (reports by country). A country not listed
 * gets the neutral answer: zone "UTC", language "en", country "other".
 *
 * Static data only: every string returned is static (zone.tab is read once,
 * under pthread_once, into a static table). Safe from any thread.
 */
#ifndef LERNET_COUNTRY_H
#define LERNET_COUNTRY_H

/* 1 if cc has the shape of an ISO 3166-1 alpha-2 code (two ASCII capital
 * letters; "SE"), listed here or not; else 0. NULL is not a code. */
int country_code_valid(const char *cc);

/* The zone of country cc (SE -> "Europe/Stockholm"), "UTC" when not listed. */
const char *country_zone(const char *cc);
/* And back: the country of zone tz (Europe/Stockholm -> "SE"): the table's,
 * else the system tz database's zone.tab (Europe/Amsterdam -> "NL"), read
 * once; "other" when neither has it (UTC, Etc/...). */
const char *country_of_zone(const char *tz);
/* The BCP-47 tag of country cc's language (SE -> "sv"), "en" when not
 * listed. */
const char *country_lang(const char *cc);

#endif
