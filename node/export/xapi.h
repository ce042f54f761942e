/*
 * xapi: experience reports and participation as xAPI 1.0.3 statements for
 * a learning record store. The actor is always the organisation, as an
 * account (its lernet key), never a person. Two statements per experience
 * report: the organisation "attended" the workshop or meeting (the activity,
 * with its network as grouping context and the participants per role as
 * result extensions), and "shared" the report. Statement ids are derived
 * from the report's event id, so exporting twice gives the same ids and an
 * LRS keeps one copy. Timestamps (xAPI: when the experience happened):
 * "attended" carries the activity's end, the moment the attendance it
 * counts was complete; "shared" the report's creation time.
 */
#ifndef LERNET_XAPI_H
#define LERNET_XAPI_H

#include <jansson.h>

#include "store/store.h"

#define XAPI_HOME "https://lernet.invalid/authors"
#define XAPI_EXT "https://lernet.invalid/xapi/"

/* Appends the statements for an experience report to arr. about is the
 * item it reports on (NULL when this node does not hold it: skipped). */
int xapi_statements(json_t *arr, const store_item_t *report, const store_item_t *about);

#endif
