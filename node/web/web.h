/*
 * web: the node's web page for staff and operators, served by the daemon
 * itself with libmicrohttpd on the daemon's own thread (MHD's epoll fd is
 * polled in the daemon loop beside the ZeroMQ sockets), so a page reads
 * the store and the sync state without locks, and a publish form signs
 * and pushes exactly as `lernet publish` through the control socket does.
 *
 * Routes: the table in web.c, which web_route_at gives (pages in page.c
 * and library.c, forms in form.c): the calendar, /event/ID (with its thread
 * and, for /event/ID/file/N, its attached files; /event/ID/edit and
 * /event/ID/cancel correct and cancel this node's own), /library,
 * /publish/KIND, /health, /calendar.ics, /feed.atom, /report.csv,
 * /metrics, /style.css (the only asset; no scripts at all) and /login.
 *
 * Who gets in: a request is local when it comes from a loopback address,
 * names this server by a loopback name and its exact port (Host:
 * 127.0.0.1:PORT, localhost:PORT or [::1]:PORT, nothing more; a foreign
 * Host is how DNS rebinding reaches loopback servers), carries no header
 * a proxy adds, and web_behind_proxy is off. Other requests need the token
 * of web_token_file, as "Authorization: Bearer" or through /login, which
 * sets a cookie holding a keyed hash of it. Every POST needs its form's
 * CSRF token (keyed hashes, secret per daemon run; the sign-in form, shown
 * to anyone, has a token of its own, never the publish forms') and an
 * Origin or Sec-Fetch-Site naming this page (a Bearer request may omit
 * both). Bodies are at most WEB_MAX_BODY bytes of
 * application/x-www-form-urlencoded text, at most WEB_MAX_FIELDS fields;
 * or multipart/form-data with one file (web/upload.h), at most
 * upload_bound(attachment_max) bytes in all, streamed to disk, let in
 * (local or token, Origin) on its headers before a byte is read, and
 * given WEB_UPLOAD_S instead of WEB_REQUEST_S to arrive.
 *
 * Languages: every page in English, Swedish, Danish, German or Finnish
 * (web/i18n.h; T and TN below), chosen by ?lang= (the menu on every page,
 * remembered in the lernet_lang cookie), else that cookie, else
 * Accept-Language, else English.
 *
 * During a long catch-up: the daemon calls web_run_between between the
 * slices of its store, where pages that only read are answered (bounded)
 * and every POST waits, received whole, for the loop (web_run).
 *
 * Limits: at most WEB_MAX_CONNECTIONS connections; a request must be in
 * whole within WEB_REQUEST_S of its connection (or of the previous
 * response), however steadily it trickles; and past WEB_MAX_CONNECTIONS -
 * WEB_RESERVED open connections each new one cuts the oldest that is
 * still sending its request, so staff always get a slot.
 */
#ifndef LERNET_WEB_H
#define LERNET_WEB_H

#include "util/err.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "store/store.h"
#include "web/i18n.h"

#define WEB_MAX_BODY (64 * 1024)
/* The largest form is the feedback's counts: one field per value of each
 * question's scale, and a few more (form.c checks that its forms fit). */
#define WEB_MAX_FIELDS (16 + EVENT_MAX_QUESTIONS * EVENT_MAX_SCALE)
#define WEB_MAX_CONNECTIONS 64
#define WEB_RESERVED 8   /* past MAX - RESERVED open, a new one cuts the oldest unfinished */
#define WEB_TIMEOUT_S 15 /* idle */
#define WEB_REQUEST_S 10 /* to send a whole request (headers and body) */
#define WEB_UPLOAD_S 300 /* ... when it is a file upload (25 MiB at ~0.7 Mbit/s) */
#define WEB_BETWEEN_REQUESTS 8 /* answered per web_run_between at most */
#define WEB_BETWEEN_MS 50      /* ... and none started after this long */

/* Error codes: WEB_ERR_* (-1100s) of the one namespace in util/err.h. */

/* The daemon's side, borrowed for the web_t's lifetime. control runs one
 * control-socket command ({"cmd":"publish",...}, "status", "peers") and
 * returns the reply (new reference). */
typedef struct web_env {
    const char *home;
    const config_t *cfg;
    store_t *st;
    const uint8_t *author; /* this node's identity key */
    json_t *(*control)(void *ctx, json_t *req);
    void *control_ctx;
} web_env_t;

typedef struct web web_t;

/* Listens on cfg->web. *out owned by the caller (web_close). */
int web_open(web_t **out, const web_env_t *env, char *why, size_t whylen);
void web_close(web_t **w);
/* The fd to poll for input, and how long until web_run must be called
 * anyway (-1: no deadline). */
int web_fd(const web_t *w);
long web_timeout_ms(web_t *w);
/* Cuts connections past WEB_REQUEST_S, serves whatever is ready (the
 * requests web_run_between held back first); never blocks. */
void web_run(web_t *w);
/* The same, in the middle of a long store (sync_io_t.between: between
 * two of its slices, no transaction open): answers only requests that
 * read (GET and HEAD: the pages, feeds, exports, /health, /metrics, file
 * downloads), and of them at most WEB_BETWEEN_REQUESTS, starting none
 * after WEB_BETWEEN_MS; after a call that took T ms, the calls of the
 * next T ms serve nothing. So the store keeps at least half of its time
 * whatever the pages cost, and most of it for cheap ones (a slice is
 * SYNC_SLICE_MS at least, a page like /health a few ms). A POST is
 * received whole and then held
 * (suspended) until the next web_run: it would publish, that is store and
 * call into sync, in the middle of the store; so do the reads past the
 * bound, until the next call of either. Never blocks; a call from inside
 * a request's handler returns at once. */
void web_run_between(web_t *w);

/* ---- routes -------------------------------------------------------- */

enum web_method { WEB_GET = 1, WEB_POST = 2 }; /* GET includes HEAD */

/* One address of the page. The server dispatches by the table of these in
 * web.c; help, docs and tests/test_matrix.c (which fetches every GET route
 * for every kind of item) walk it, so a new page is one row there. */
typedef struct web_route {
    const char *path;    /* the URL path, or with prefix what it starts with */
    int prefix;          /* the rest of the path goes to the handler (r->path) */
    unsigned methods;    /* enum web_method bits */
    const char *example; /* the path as asked for, the rest as a placeholder:
                          * {id} an event id, {kind} a content kind's name */
    const char *summary; /* one line, for people */
} web_route_t;
/* The i-th route in the order they are tried, NULL past the end (static). */
const web_route_t *web_route_at(size_t i);

/* ---- for page.c and form.c ----------------------------------------- */

/* One request as a page handler sees it (all borrowed). */
typedef struct web_req {
    const web_env_t *env;
    void *conn;             /* the MHD connection, for web_arg */
    const char *path;       /* after the route prefix (the ID of /event/ID) */
    const char *lang;       /* the page's language: "en", "sv", "da", "de" or "fi" (static;
                               ?lang=, else the lernet_lang cookie, else Accept-Language) */
    const char *langs;      /* preferred languages for content, "de,sv,en": ?text_lang=,
                               the page's, Accept-Language, then always en */
    const struct i18n *i18n; /* the catalogues (web/i18n.h), or NULL: English */
    const char *csrf;       /* the token this page's form must carry (the sign-in form
                               has its own: it is shown to visitors not yet let in) */
    const json_t *form;     /* POST fields (name → string), or NULL for GET */
    int guest;              /* the sign-in page of a visitor not let in: no search box */
    struct upload *upload;  /* a multipart POST's file (web/upload.h), or NULL */
} web_req_t;

/* A handler's answer. body is malloc'd and owned by whoever holds it. */
typedef struct web_resp {
    int status;
    const char *type; /* static */
    char *body;
    size_t len;
    char location[200];       /* a redirect (303) when set */
    const char *disposition;  /* Content-Disposition, static, or NULL */
    /* A file answer instead of body (an attachment, never held whole in
     * memory): when has_fd, fd (owned by the response from then on: it is
     * closed after sending, or on failure) holds fd_len bytes from its
     * current start, and disposition_buf, when set, is the header. */
    int has_fd, fd;
    uint64_t fd_len;
    char disposition_buf[900];
} web_resp_t;

/* A query-string argument, or NULL when absent or empty, as a form's
 * untouched field or "all" option sends it (borrowed until the request ends). */
const char *web_arg(const web_req_t *r, const char *name);
/* A POST field, or NULL. */
const char *web_field(const web_req_t *r, const char *name);
/* ---- translation ---------------------------------------------------- *
 * Every English text the page shows goes through T (or TN for a count),
 * so that xgettext finds it (scripts/update-po) and the visitor reads it
 * in the page's language:
 *     html_text(h, T(r, "Calendar"));
 *     html_rawf(h, TN(r, "%zu event", "%zu events", n), n);
 * A text in a static table is marked N_("...") where it is written and
 * translated with T(r, table[i].label) where it is shown. Format strings
 * stay checked (format_arg), and msgfmt --check keeps every translation's
 * conversions equal to its msgid's. Markup stays out of msgids where it
 * can; a msgid with markup is written with html_raw, so a translator's
 * markup must be as safe as the msgid's (it is reviewed like code). */
#define T(r, msgid) web_tr((r), (msgid))
#define TN(r, one, many, n) web_trn((r), (one), (many), (unsigned long)(n))
#define N_(msgid) (msgid)
const char *web_tr(const web_req_t *r, const char *msgid) __attribute__((format_arg(2)));
const char *web_trn(const web_req_t *r, const char *one, const char *many, unsigned long n)
    __attribute__((format_arg(2), format_arg(3)));
/* t as the page's language writes a day and a time of day, in zone tz
 * (UTC when NULL or unknown): "tors 10 dec. 2026" and "09:00". Either out
 * may be NULL. */
void web_day_time(const web_req_t *r, int64_t t, const char *tz, char *day, size_t dn,
                  char *clock, size_t cn);
/* A count and a decimal in the page's language ("12 345", "1,5"). */
const char *web_int(const web_req_t *r, long long v, char *buf, size_t n);
const char *web_decimal(const web_req_t *r, double v, int digits, char *buf, size_t n);

/* words.c: a country code ("DE"), a language tag ("da") and a content
 * kind as the page's language names them ("Tyskland", "Dänisch", ...); an
 * unknown code as it is. Static or borrowed from the catalogues. */
const char *web_country_name(const web_req_t *r, const char *cc);
const char *web_lang_name(const web_req_t *r, const char *tag);
const char *web_kind_name(const web_req_t *r, int kind);

/* A complete HTML page: header with navigation, body, footer; takes body
 * (malloc'd HTML, may be NULL when building it ran out of memory). title
 * is text (escaped here). */
void web_page(const web_req_t *r, web_resp_t *out, int status, const char *title, char *body);
/* A page with one line of error text (escaped). */
void web_error_page(const web_req_t *r, web_resp_t *out, int status, const char *msg);

#endif
