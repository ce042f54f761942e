/*
 * form: the publish forms of the web page (a workshop, a network meeting,
 * an experience report, a resource, a reply, a goal, a questionnaire, and
 * feedback in two steps: the activity and questionnaire, then the counts).
 * A posted form becomes the same JSON object that
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
 * the last year or are ahead, whose title holds ?q= (a search above the
 * form), the latest this many, most recent first. */
#define FORM_MAX_ABOUT 1000
/* Errors shown at once on a form that is sent back (one per field). */
#define FORM_MAX_ERRORS 16

/* GET or POST /publish/KIND (r->path is KIND). */
void form_publish(const web_req_t *r, web_resp_t *out);

/* Correcting and cancelling on the page, as `lernet update` and `lernet
 * cancel` do (the same update and cancel payloads, through the same
 * publish command; CSRF and Origin checked as for every POST): only this
 * node's own workshops and meetings, not cancelled (form_editable; others
 * get 403). GET or POST /event/ID/edit: the kind's form filled with the
 * current content, laid over it on POST (texts in languages the form does
 * not show are kept). GET or POST /event/ID/cancel: a reason, then the
 * cancellation. Both go back to /event/ID (?updated=1, ?cancelled=1). */
int form_editable(const web_req_t *r, const store_item_t *it);
void form_edit(const web_req_t *r, web_resp_t *out, const char *id);
void form_cancel(const web_req_t *r, web_resp_t *out, const char *id);

#endif
