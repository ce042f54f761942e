/*
 * report: the figures a project owner gives a funder, from aggregate
 * numbers in shared events only (never personal data): workshops and
 * meetings held and cancelled, organisations taking part, experience
 * reports, and participants by role from the reports' role counts, per
 * organiser, theme, role, country or month, with a total.
 *
 * Country (the --by dimension) is that of the event's time zone
 * (Europe/Stockholm is SE, ...), the one place events say where they
 * happen. An organisation takes part when it organised an event of the
 * period or reported on one. An event crossed a national (municipal) border
 * when an organisation that reported on it is, by its profile, in another
 * country (municipality) than the organiser; unknown profiles never count.
 */
#ifndef LERNET_REPORT_H
#define LERNET_REPORT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

enum report_by { REPORT_BY_ORG, REPORT_BY_THEME, REPORT_BY_ROLE, REPORT_BY_COUNTRY,
                 REPORT_BY_MONTH };

typedef struct report report_t;

/* Events overlapping the local days [from, to) as civil_day_parse gives
 * them (0: open), each in its own zone (civil_in_period, the one rule of
 * every export); months (--by month) are the local month of the start. */
int report_new(report_t **out, enum report_by by, int64_t from, int64_t to);
void report_free(report_t **r);
/* Counts only events with one of themes (and the reports about them);
 * themes is borrowed and must outlive r. n == 0: every event (the
 * default). For goals restricted to themes. */
void report_only_themes(report_t *r, char *const *themes, size_t n);
/* Feed every item, events before the experiences about them (the order
 * store_items gives). 0, or -1 when out of memory. */
int report_add(report_t *r, const store_item_t *it);
/* After the last report_add: counts the border crossings, reading the
 * organisations' profiles from st. */
void report_finish(report_t *r, store_t *st);
/* Rows sorted by key, then "total": a JSON array of objects (new ref). */
json_t *report_json(const report_t *r);
/* The CSV form: a header line of REPORT_COLUMNS, then one line per row. */
#define REPORT_COLUMNS                                                                          \
    "key,workshops,meetings,cancelled,organisations,crossed_municipal_border,"                   \
    "crossed_national_border,experience_reports,participants"
#define REPORT_N_COLUMNS 8
extern const char *const report_columns[REPORT_N_COLUMNS]; /* after "key" */
void report_write_csv(const json_t *rows, FILE *f);
/* The CSV for Excel: what Excel on Windows needs to read UTF-8 (a byte
 * order mark first) and RFC 4180's CRLF line ends. The plain form keeps LF
 * and no BOM: scripts read it as they always have. */
#define REPORT_EXCEL_BOM "\xEF\xBB\xBF"
void report_write_csv_excel(const json_t *rows, FILE *f);
/* One CSV field (RFC 4180), quoted when it holds a comma, quote or
 * newline; shared with `lernet export csv`. Text from the network that
 * starts like a spreadsheet formula (= + - @ tab CR) gets a leading ' so
 * that opening the file in Excel or LibreOffice never runs it. */
void report_csv_field(FILE *f, const char *s);

/* The groupings (--by, ?by=), one row each: the CLI, the web form and
 * tests/test_matrix.c walk this table. */
typedef struct report_grouping {
    const char *name;  /* "org", as --by takes it */
    enum report_by by;
    const char *label; /* "organisation", for people */
} report_grouping_t;
/* The i-th grouping, NULL past the end (static). */
const report_grouping_t *report_grouping_at(size_t i);
/* Parses a grouping's name (org|theme|role|country|month). */
int report_by_parse(const char *s, enum report_by *out);

#endif
