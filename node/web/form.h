/*
 * form: the publish forms of the web page (a workshop, a network meeting,
 * an experience report). A posted form becomes the same JSON object that
 * `lernet publish` builds from its flags and goes through the same
 * payload_from_json (and so event_check_payload, the wire rules); an error
 * that names a field ("field 'start': ...") is shown next to that field,
 * with everything typed kept. A valid form is published through the
 * daemon's publish command, which signs, stores and pushes to partners.
 */
#ifndef LERNET_FORM_H
#define LERNET_FORM_H

#include "web/web.h"

/* The report form's "about" choices: workshops and meetings that ended in
 * the last year or are ahead, the earliest this many. */
#define FORM_MAX_ABOUT 1000

/* GET or POST /publish/KIND (r->path is KIND). */
void form_publish(const web_req_t *r, web_resp_t *out);

#endif
