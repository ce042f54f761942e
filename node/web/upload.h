/*
 * upload: a publish form posted as multipart/form-data with a file in its
 * "attachment" field (the resource and reply forms, and the reply form
 * under every item's thread). The body is parsed as it arrives
 * (libmicrohttpd's post processor): text fields go into the same form
 * object a urlencoded body gives (the same bounds: WEB_MAX_FIELDS fields,
 * WEB_MAX_BODY bytes of text, no field twice); the file goes straight to a
 * temporary file in the node's attachments/ (store/attach's writer), hashed
 * with the attachment hash on the way, never held whole in memory.
 *
 * Bounds: the file at most max bytes (the node's attachment_max_mib, the
 * same limit publishing applies: attachment_too_large); the whole body at
 * most upload_bound(max) bytes (past it the connection is dropped; an
 * announced Content-Length past it is refused before the body is read, in
 * web.c). The file is taken only after the form's csrf field, which the
 * page's form sends first: a body from elsewhere never reaches the disk.
 *
 * A refusal (a file too large, empty, in another field, a second file) is
 * kept as one line naming the field, for the form to show beside it; the
 * temporary file is removed at once. A body that is not whole and valid
 * multipart/form-data is refused as a whole (upload_form). The file lands
 * under its hash only at upload_place, just before the publish, and is
 * removed again by upload_unplace when the publish is refused; whatever
 * was not placed is removed by upload_close.
 */
#ifndef LERNET_UPLOAD_H
#define LERNET_UPLOAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

struct web_req;

/* The text a multipart body may carry beside its file: its part headers
 * and the fields (at most WEB_MAX_BODY). */
#define UPLOAD_SLACK (128 * 1024)
#define UPLOAD_BUFFER (16 * 1024) /* the post processor's buffer */

typedef struct upload upload_t;

/* The largest body a form with a file of at most max bytes may send. */
uint64_t upload_bound(int64_t max);

/* For the MHD connection conn (whose Content-Type names the boundary),
 * files into home's attachments/ (home and csrf borrowed for the
 * upload's life; csrf is the token the form must carry before its file).
 * The refusals are written in r's language (only r's lang and i18n are
 * kept: they live as long as the daemon). *out owned by the caller
 * (upload_close). -1 with why when the body cannot be multipart/form-data
 * (no boundary). */
int upload_open(upload_t **out, void *conn, const char *home, int64_t max, const char *csrf,
                const struct web_req *r, char *why, size_t whylen);
/* The next bytes of the body; -1 when the body passed upload_bound: drop
 * the connection. */
int upload_feed(upload_t *u, const char *data, size_t len);
/* The body is in: its text fields as a form object (new reference), or
 * NULL with why when it is not whole and valid multipart/form-data. */
json_t *upload_form(upload_t *u, char *why, size_t whylen);

/* For form.c, with the form upload_form gave (u may be NULL: a body
 * without a file). A refusal of the body's file: *field ("attachment", or
 * "" for the form) and the line, 0 if none. */
int upload_refused(const upload_t *u, const char **field, const char **line);
/* Lists the uploaded file (if there was one) in content's "attachments"
 * as `publish --attach` does: its hash, size, media type by its name, and
 * its name. 0 (nothing listed without a file), -1 with why. */
int upload_list(upload_t *u, json_t *content, char *why, size_t whylen);
/* Puts a listed file in place under its hash (before the publish that
 * names it); 0, or -1 with why. upload_unplace removes it again (the
 * publish was refused) unless a copy was here before. */
int upload_place(upload_t *u, char *why, size_t whylen);
void upload_unplace(upload_t *u);

/* Removes what was not placed, frees *u, sets it to NULL. Safe on NULL. */
void upload_close(upload_t **u);

#endif
