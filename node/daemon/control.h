/*
 * control: the local control socket through which CLI commands reach a
 * running daemon: ZeroMQ ipc at <home>/control.sock, created 0600 inside
 * the 0700 node home, so no other user can open it. Requests and replies
 * are single JSON objects, at most CONTROL_MAX_MSG bytes. The commands are
 * the table ctl_commands in daemon.c (the web page runs the same ones);
 * an unknown command is refused with the list of them:
 *   {"cmd":"publish","network":"…"|null,"payload":"<base64 Payload>"}
 *      → {"ok":true,"id":"…","seq":N,"network":"…","kind":"…"}
 *      sign with the node's signing key, store, push to partners
 *   {"cmd":"peers"}  → {"ok":true,"peers":[…]}   each partner's sync state
 *   {"cmd":"status"} → {"ok":true,"events":N,…}  store and sync counters
 *   {"cmd":"announce","id":"<event id>"} → {"ok":true}
 *      push an event the CLI stored itself (key events)
 *   {"cmd":"reload-signer"} → {"ok":true,"signing_key":"<fingerprint>"}
 *      sign with keys/signing.key from now on (after `lernet keys rotate`)
 *   {"cmd":"attachment-fetch","hash":"<64 hex>"} → {"ok":true,"state":"here"|"fetching"}
 *      fetch the attached file before any other (lernet attachment get);
 *      refused by this node's limits: {"ok":false,"error":…,"reason":"attachment_quota"}
 *   {"cmd":"attachments"} → {"ok":true,"attachments":{…}}  the transfer's
 *      counters, files refused by the limits, the fetch under way, the last
 *      file fetched ("last_fetch": bytes, ms from its start until in place)
 *   any failure      → {"ok":false,"error":"one line"}
 */
#ifndef LERNET_CONTROL_H
#define LERNET_CONTROL_H

#include "util/err.h"

#include <jansson.h>
#include <stddef.h>

#define CONTROL_SOCKET "control.sock"
#define CONTROL_MAX_MSG (256 * 1024)
#define CONTROL_TIMEOUT_MS 10000

/* Error codes: CONTROL_ERR_* (-1200s) of the one namespace in util/err.h. */

/* Daemon side: a REP socket bound to <home>/control.sock. */
void *control_open(void *zctx, const char *home, char *why, size_t whylen);
/* Daemon side: reads one request (NULL if malformed; *err says why). New
 * reference; caller replies with control_reply. */
json_t *control_recv(void *sock, char *err, size_t errlen);
void control_reply(void *sock, json_t *reply /* stolen */);

/* CLI side: sends req, waits up to timeout_ms for the reply (new
 * reference in *reply). */
int control_request(const char *home, json_t *req, json_t **reply, int timeout_ms);

#endif
