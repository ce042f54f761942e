/*
 * form: the publish forms of the web page (a workshop, a network meeting,
 * an experience report). A posted form becomes the same JSON object that
 * `lernet publish` builds from its flags and goes through the same
 * payload_from_json (and so event_check_payload, the wire rules). What the
 * form checks itself (required fields, times, numbers, languages) is
 * reported all at once: a summary at the top, which takes the focus, links
 * to each field, and each message stands next to its field, tied to it by
 * aria-describedby; then the first error of the wire rules, placed on the
 * field it names ("field 'start': ..."). Everything typed is kept. A valid form is published through the
 * daemon's publish command, which signs, stores and pushes to partners.
 */
#ifndef LERNET_FORM_H
#define LERNET_FORM_H

#include "web/web.h"

/* The report form's "about" choices: workshops and meetings that ended in
 * the last year or are ahead, the earliest this many. */
#define FORM_MAX_ABOUT 1000
/* Errors shown at once on a form that is sent back (one per field). */
#define FORM_MAX_ERRORS 16

/* GET or POST /publish/KIND (r->path is KIND). */
void form_publish(const web_req_t *r, web_resp_t *out);

#endif
