/*
 * web: the HTTP side of the web page (see web.h): the listening socket,
 * who gets in, how long a connection may take to ask, form bodies, routing
 * and responses. What the pages show is in page.c and form.c.
 */
#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "web/form.h"
#include "web/html.h"
#include "util/log.h"
#include "util/time.h"
#include "util/text.h"
#include "web/page.h"
#include "web/upload.h"
#include "util/why.h"

#define TOKEN_MIN 32
#define TOKEN_MAX 512
#define MAC_BYTES 32
#define MAC_HEX (2 * MAC_BYTES + 1)
#define LANGS_MAX 512
#define STR_(x) #x
#define STR(x) STR_(x)
#define WEB_BETWEEN_RUNS 8 /* MHD runs per web_run_between at most */

/* One TCP connection, from MHD's connect notification to its close. */
typedef struct slot {
    struct MHD_Connection *c; /* NULL: free */
    int fd;
    int64_t since_ms; /* when the request now being received began */
    int answering;    /* the request is in; a response is under way */
    int cut;          /* shut down by us, MHD has not closed it yet */
    int upload;       /* the request is a file upload: WEB_UPLOAD_S to arrive */
    int held;         /* suspended before its answer: HELD_READ or HELD_WRITE (see hold) */
} slot_t;

/* Why a request whose whole body is in waits for its answer (see hold). */
enum { HELD_READ = 1, HELD_WRITE = 2 };

struct web {
    web_env_t env;
    struct MHD_Daemon *mhd;
    int listen_fd;
    unsigned port; /* the one a local Host header must name */
    /* per daemon run: keys the CSRF tokens and the login cookie */
    uint8_t *secret;         /* sodium_malloc'd, MAC_BYTES */
    char csrf[MAC_HEX];      /* the forms': not secret from the page, only from other sites */
    char login_csrf[MAC_HEX]; /* the sign-in page's: shown to anyone, so never csrf */
    char *cookie;            /* sodium_malloc'd hex of MAC(token); NULL: no token */
    slot_t slots[WEB_MAX_CONNECTIONS];
    size_t n_live;   /* slots in use and not cut */
    size_t n_closed; /* connections MHD has closed, ever */
    i18n_t *i18n;    /* the page's catalogues; NULL: English only */
    /* web_run_between: inside it (requests that write are held), how many
     * requests it answered and until when it may start one; in_run: inside
     * MHD_run, which must not be entered again from a handler */
    int between, in_run;
    unsigned between_answered;
    int64_t between_until_ms;
    int64_t between_rest_ms; /* until then web_run_between serves nothing (see there) */
};

/* State of one request across MHD's calls to the handler. */
typedef struct conn {
    char *body;
    size_t len;
    upload_t *up; /* a multipart/form-data body, parsed as it comes */
} conn_t;

/* The only asset: plain CSS, no fonts or scripts from anywhere. */
static const char style_css[] =
    "body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}"
    "header{background:#1f4e79;color:#fff;padding:.6em 1em;display:flex;flex-wrap:wrap;"
    "gap:.3em 1em;align-items:baseline}"
    "header a{color:#fff}.brand{font-weight:700;font-size:1.2em;text-decoration:none}"
    "nav{display:flex;flex-wrap:wrap;gap:1em;margin-left:auto}"
    "form.search{margin-left:1em}form.search label{margin-right:.3em}mark{background:#ffe58a}"
    "main{max-width:64em;margin:1em auto;padding:0 1em}"
    "footer{color:#667;font-size:.85em;text-align:center;margin:2em}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}"
    "table{border-collapse:collapse;width:100%;background:#fff}"
    "th,td{border-bottom:1px solid #dde;padding:.35em .5em;text-align:left;vertical-align:top}"
    "ul.events{list-style:none;padding:0}"
    "li.event{background:#fff;border:1px solid #dde;border-radius:6px;padding:.6em .8em;"
    "margin:.5em 0}"
    "li.event .when{color:#445;font-size:.9em}.meta{color:#556;font-size:.9em}"
    ".badge{display:inline-block;font-size:.75em;padding:0 .4em;border-radius:3px;"
    "background:#e3ebf3;margin-right:.3em}"
    ".cancelled .title{text-decoration:line-through}"
    ".badge.cancelled{background:#b3261e;color:#fff}"
    ".ok{color:#18794e}.bad,.error{color:#b3261e}.notice{background:#e6f4ea;padding:.5em}"
    "form.filters{display:flex;flex-wrap:wrap;gap:.5em;align-items:end;margin-bottom:1em}"
    "form.publish label{display:block;margin:.6em 0 .1em;font-weight:600}"
    "form.publish input[type=text],form.publish input[type=url],form.publish textarea,"
    "form.publish select,form.publish input[type=datetime-local],"
    "form.publish input[type=number]{width:100%;box-sizing:border-box;padding:.3em}"
    "form.publish .field-error{color:#b3261e;font-weight:600;margin:.1em 0}"
    "form.publish .invalid{border:2px solid #b3261e}"
    /* a questionnaire's rows, a feedback's counts: one box per value, side by side */
    "form.publish fieldset{margin:1em 0;border:1px solid #dde}"
    "form.publish fieldset.question input[type=number]{width:8em}"
    "fieldset.counts{display:flex;flex-wrap:wrap;align-items:flex-end;gap:0 .6em}"
    "fieldset.counts .field-error{flex-basis:100%}fieldset.counts .value{width:7.5em}"
    "button{margin-top:1em;padding:.4em 1.2em}"
    "details{margin-top:.2em}code{font-size:.9em}"
    /* reachable by keyboard first, visible only when focused */
    ".skip{position:absolute;left:-999em;top:0;background:#fff;color:#1f4e79;padding:.5em}"
    ".skip:focus{left:.5em;z-index:10}"
    ".visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;"
    "clip:rect(0 0 0 0);white-space:nowrap}"
    "nav.langs ul{list-style:none;display:flex;flex-wrap:wrap;gap:.6em;margin:0;padding:0}"
    "nav.langs span[aria-current]{font-weight:700;text-decoration:underline}"
    ".error-summary{border:3px solid #b3261e;background:#fff;padding:.5em 1em;margin:1em 0}"
    ".error-summary:focus{outline:3px solid #1f4e79}"
    ".error-summary a{color:#b3261e;font-weight:600}"
    ".req{color:#b3261e}label.second{font-weight:400}"
    ".hint{display:block;color:#4a5563;font-size:.9em}"
    /* a phone: nothing wider than the screen (ids wrap, wide tables scroll in their box) */
    "body{overflow-wrap:break-word}code.id,code{overflow-wrap:anywhere;word-break:break-word}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "main,header,footer{max-width:100%;box-sizing:border-box}"
    "input,select,textarea{max-width:100%}"
    "a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus"
    "{outline:3px solid #f2a900;outline-offset:1px}\n";

/* ---- secrets ------------------------------------------------------- */

static void mac_hex(const web_t *w, const char *msg, size_t len, char out[MAC_HEX])
{
    uint8_t mac[MAC_BYTES];
    crypto_generichash(mac, sizeof mac, (const uint8_t *)msg, len, w->secret, MAC_BYTES);
    text_hex(out, mac, sizeof mac);
    sodium_memzero(mac, sizeof mac);
}

/* The token file: its own line of at least TOKEN_MIN characters, mode
 * 0600, like the key files. Only a keyed hash of it is kept. */
static int load_token(web_t *w, char *why, size_t whylen)
{
    const config_t *cfg = w->env.cfg;
    char path[1024];
    struct stat sb;
    if (cfg->web_token_file[0] == '/')
        snprintf(path, sizeof path, "%s", cfg->web_token_file);
    else
        snprintf(path, sizeof path, "%s/%s", w->env.home, cfg->web_token_file);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return why_fail(why, whylen, WEB_ERR_TOKEN, "web_token_file %s: %s", path,
                        strerror(errno));
    char *tok = sodium_malloc(TOKEN_MAX + 1);
    ssize_t n = -1;
    if (fstat(fd, &sb) == 0 && (sb.st_mode & 077) == 0 && tok)
        n = read(fd, tok, TOKEN_MAX + 1);
    close(fd);
    int rc = WEB_OK;
    while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r'))
        n--;
    if (!tok)
        rc = why_fail(why, whylen, WEB_ERR_NOMEM, "out of memory");
    else if ((sb.st_mode & 077) != 0)
        rc = why_fail(why, whylen, WEB_ERR_TOKEN, "web_token_file %s: mode %03o, must be 0600",
                      path, (unsigned)(sb.st_mode & 0777));
    else if (n < TOKEN_MIN || n > TOKEN_MAX || memchr(tok, '\n', (size_t)n))
        rc = why_fail(why, whylen, WEB_ERR_TOKEN,
                      "web_token_file %s: must hold one line of %d to %d characters", path,
                      TOKEN_MIN, TOKEN_MAX);
    else if (!(w->cookie = sodium_malloc(MAC_HEX)))
        rc = why_fail(why, whylen, WEB_ERR_NOMEM, "out of memory");
    else
        mac_hex(w, tok, (size_t)n, w->cookie);
    if (tok)
        sodium_free(tok); /* wipes */
    return rc;
}

/* ---- who gets in ---------------------------------------------------- */

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static int loopback_addr(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
        return 0;
    const struct sockaddr_in *in = (const struct sockaddr_in *)ci->client_addr;
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
}

/* A loopback name for this very server, and nothing else: "localhost",
 * "[::1]" or a 127.x address in its canonical dotted form, then exactly
 * ":PORT" (no port only when it is 80). Anything after the port, as in
 * "localhost:8470.evil.example", is another site's name. */
static int loopback_host(const char *host, unsigned port)
{
    char name[64], canon[INET_ADDRSTRLEN], want[8];
    struct in_addr a;
    if (!host)
        return 0;
    const char *colon = host[0] == '[' ? strstr(host, "]:") : strchr(host, ':');
    size_t n = colon ? (size_t)(colon - host) + (host[0] == '[') : strlen(host);
    if (n >= sizeof name)
        return 0;
    memcpy(name, host, n);
    name[n] = '\0';
    snprintf(want, sizeof want, "%u", port);
    if (colon ? strcmp(host + n + 1, want) != 0 : port != 80)
        return 0;
    if (strcasecmp(name, "localhost") == 0 || strcmp(name, "[::1]") == 0)
        return 1;
    return inet_pton(AF_INET, name, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127 &&
           inet_ntop(AF_INET, &a, canon, sizeof canon) && strcmp(canon, name) == 0;
}

/* A proxy on this machine makes every visitor look local; the headers
 * proxies add give it away even when web_behind_proxy was forgotten. */
static int proxied(struct MHD_Connection *c)
{
    static const char *const marks[] = {"X-Forwarded-For", "X-Forwarded-Host",
                                        "X-Forwarded-Proto", "Forwarded", "X-Real-IP", "Via"};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (header(c, marks[i]))
            return 1;
    return 0;
}

static int is_local(const web_t *w, struct MHD_Connection *c)
{
    return !w->env.cfg->web_behind_proxy && loopback_addr(c) &&
           loopback_host(header(c, MHD_HTTP_HEADER_HOST), w->port) && !proxied(c);
}

static int has_token(const web_t *w, struct MHD_Connection *c)
{
    if (!w->cookie)
        return 0;
    const char *auth = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *ck = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "lernet_auth");
    char given[MAC_HEX];
    if (auth && strncmp(auth, "Bearer ", 7) == 0 && strlen(auth + 7) <= TOKEN_MAX) {
        mac_hex(w, auth + 7, strlen(auth + 7), given);
        return sodium_memcmp(given, w->cookie, MAC_HEX) == 0;
    }
    return ck && strlen(ck) == MAC_HEX - 1 && sodium_memcmp(ck, w->cookie, MAC_HEX) == 0;
}

/* Origin is scheme://Host; https when a TLS proxy keeps the Host header. */
static int same_origin(const char *origin, const char *host)
{
    size_t skip = strncmp(origin, "http://", 7) == 0    ? 7
                  : strncmp(origin, "https://", 8) == 0 ? 8
                                                        : 0;
    return skip && host && strcmp(origin + skip, host) == 0;
}

/* A POST must come from our own page: the CSRF field, and Origin or
 * Sec-Fetch-Site present and naming this site (every current browser sends
 * one of them). A script holding the token as a Bearer header needs neither. */
static const char *cross_origin(const web_t *w, struct MHD_Connection *c)
{
    const char *origin = header(c, "Origin"), *host = header(c, MHD_HTTP_HEADER_HOST);
    const char *site = header(c, "Sec-Fetch-Site"), *auth = header(c, "Authorization");
    if (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
        return N_("the form was sent from another site (Sec-Fetch-Site)");
    if (origin && !same_origin(origin, host))
        return N_("the form was sent from another site (Origin)");
    if (!origin && !site && !(auth && strncmp(auth, "Bearer ", 7) == 0 && has_token(w, c)))
        return N_("the form's origin is unknown (no Origin or Sec-Fetch-Site header)");
    return NULL;
}

static const char *cross_site(const web_t *w, struct MHD_Connection *c, const char *url,
                              const json_t *form)
{
    const char *want = strcmp(url, "/login") == 0 ? w->login_csrf : w->csrf;
    const char *tok = json_string_value(json_object_get(form, "csrf"));
    const char *origin = cross_origin(w, c);
    if (origin)
        return origin;
    if (!tok || strlen(tok) != MAC_HEX - 1 || sodium_memcmp(tok, want, MAC_HEX - 1) != 0)
        return N_("the form's CSRF token is missing or out of date: reload the page");
    return NULL;
}

/* ---- slots ------------------------------------------------------------ *
 * MHD's connection timeout is idle time only: a client sending a byte now
 * and then keeps its connection, and 64 of them held every slot. So each
 * connection's request must be in whole within WEB_REQUEST_S of its start
 * (or of the end of its previous response): web_run shuts down any that is
 * still receiving past that. And while more than WEB_MAX_CONNECTIONS -
 * WEB_RESERVED are open, each new connection cuts the oldest one still
 * receiving, so a quick request from staff always finds a slot. MHD's limit
 * per address is not used: local staff share 127.0.0.1 with any local
 * trickler, and would be the ones shut out. */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cut(web_t *w, slot_t *s, const char *why)
{
    log_debug("web: closed a connection %s", why);
    shutdown(s->fd, SHUT_RDWR); /* MHD sees the end and closes it */
    s->cut = 1;
    w->n_live--;
}

/* The connection receiving a request for longest, other than keep. */
static slot_t *oldest_receiving(web_t *w, const slot_t *keep)
{
    slot_t *old = NULL;
    for (size_t i = 0; i < WEB_MAX_CONNECTIONS; i++) {
        slot_t *s = &w->slots[i];
        if (s->c && !s->cut && !s->answering && s != keep && (!old || s->since_ms < old->since_ms))
            old = s;
    }
    return old;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    web_t *w = cls;
    slot_t *s = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        w->n_closed++;
        if (s && !s->cut)
            w->n_live--;
        if (s)
            memset(s, 0, sizeof *s);
        *socket_context = NULL;
        return;
    }
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    for (size_t i = 0; !s && i < WEB_MAX_CONNECTIONS; i++)
        if (!w->slots[i].c)
            s = &w->slots[i];
    if (!s || !ci) { /* MHD's limit is the table's size: cannot happen */
        if (ci)
            shutdown(ci->connect_fd, SHUT_RDWR);
        return;
    }
    *s = (slot_t){.c = c, .fd = ci->connect_fd, .since_ms = now_ms()};
    *socket_context = s;
    if (++w->n_live > WEB_MAX_CONNECTIONS - WEB_RESERVED) {
        slot_t *old = oldest_receiving(w, s);
        if (old)
            cut(w, old, "to make room: the slots are nearly all taken");
    }
}

static slot_t *slot_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The request is in: from here on only MHD's idle timeout applies. */
static void answering(struct MHD_Connection *c)
{
    slot_t *s = slot_of(c);
    if (s)
        s->answering = 1;
}

static void uploading(struct MHD_Connection *c)
{
    slot_t *s = slot_of(c);
    if (s)
        s->upload = 1;
}

static int64_t limit_ms(const slot_t *s)
{
    return (int64_t)(s->upload ? WEB_UPLOAD_S : WEB_REQUEST_S) * 1000;
}

/* ms until the first connection still receiving is due (0: overdue), or -1. */
static long next_due(const web_t *w)
{
    int64_t now = now_ms(), next = -1;
    for (size_t i = 0; i < WEB_MAX_CONNECTIONS; i++) {
        const slot_t *s = &w->slots[i];
        if (!s->c || s->cut || s->answering)
            continue;
        int64_t left = s->since_ms + limit_ms(s) - now;
        left = left < 0 ? 0 : left;
        if (next < 0 || left < next)
            next = left;
    }
    return (long)next;
}

/* Cuts every connection that has had WEB_REQUEST_S for a request and not
 * sent it whole. */
static void cut_slow(web_t *w)
{
    int64_t now = now_ms();
    for (size_t i = 0; i < WEB_MAX_CONNECTIONS; i++) {
        slot_t *s = &w->slots[i];
        if (s->c && !s->cut && !s->answering && now >= s->since_ms + limit_ms(s))
            cut(w, s, s->upload ? "that had not sent a whole upload in " STR(WEB_UPLOAD_S) " s"
                                : "that had not sent a whole request in " STR(WEB_REQUEST_S)
                                  " s");
    }
}

/* ---- requests -------------------------------------------------------- */

static int lang_tag_ok(const char *q)
{
    return q && strlen(q) >= 2 && strlen(q) <= 35 &&
           strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") == strlen(q);
}

/* Accept-Language by q (at most 8 tags), best first. */
static size_t accept_tags(struct MHD_Connection *c, char tags[8][36])
{
    const char *al = header(c, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
    struct { char tag[36]; int q; } t[8];
    size_t n = 0;
    for (const char *p = al; p && *p && n < 8;) {
        p += strspn(p, " ,");
        size_t tl = strcspn(p, ";, ");
        const char *semi = p + tl, *next = strchr(p, ',');
        int qv = 1000;
        if (*semi == ';' && (!next || semi < next) && strncmp(semi, ";q=", 3) == 0)
            qv = (int)(strtod(semi + 3, NULL) * 1000);
        if (tl >= 2 && tl <= 35 && qv > 0 && p[0] != '*') {
            snprintf(t[n].tag, sizeof t[n].tag, "%.*s", (int)tl, p);
            t[n++].q = qv;
        }
        p = next ? next + 1 : p + strlen(p);
    }
    for (size_t i = 1; i < n; i++) /* stable insertion sort by q, descending */
        for (size_t j = i; j > 0 && t[j].q > t[j - 1].q; j--) {
            __typeof__(t[0]) x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    for (size_t i = 0; i < n; i++)
        memcpy(tags[i], t[i].tag, sizeof tags[i]);
    return n;
}

static void add_lang(char out[LANGS_MAX], const char *tag)
{
    size_t len = strlen(out);
    if (tag && *tag)
        snprintf(out + len, LANGS_MAX - len, "%s%s", len ? "," : "", tag);
}

/* The page's language: ?lang= when it is one of the page's (*remember is
 * then set: the menu's choice holds for the next pages), else the
 * lernet_lang cookie, else the first Accept-Language tag the page has,
 * else English. And the content languages: ?text_lang= (a title's other
 * language, one click away), the page's, Accept-Language's, then en, so
 * that a visitor who reads only German is shown the English title of an
 * event written in Swedish and English, not the Swedish one. */
static const char *pick_langs(struct MHD_Connection *c, char out[LANGS_MAX], int *remember)
{
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lang");
    const char *tq = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "text_lang");
    const char *ck = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "lernet_lang");
    char tags[8][36];
    size_t n = accept_tags(c, tags);
    const char *page = lang_tag_ok(q) ? i18n_lang_of(q, strlen(q)) : NULL;
    *remember = page != NULL;
    if (!page && lang_tag_ok(ck))
        page = i18n_lang_of(ck, strlen(ck));
    for (size_t i = 0; !page && i < n; i++)
        page = i18n_lang_of(tags[i], strlen(tags[i]));
    page = page ? page : "en";
    out[0] = '\0';
    add_lang(out, lang_tag_ok(tq) ? tq : NULL);
    add_lang(out, lang_tag_ok(q) ? q : NULL);
    add_lang(out, page);
    for (size_t i = 0; i < n; i++)
        add_lang(out, tags[i]);
    add_lang(out, "en");
    return page;
}

/* In-place percent-decoding of one urlencoded part; -1 if malformed. */
static int url_decode(char *s, size_t n, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            s[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? text_hex_digit((unsigned char)s[i + 1]) : -1;
            int lo = i + 2 < n ? text_hex_digit((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    *outlen = o;
    return 0;
}

/* application/x-www-form-urlencoded → {"name": "value"}; NULL with why. */
static json_t *parse_form(char *body, size_t len, char *why, size_t whylen)
{
    json_t *form = json_object();
    size_t nfields = 0;
    for (char *p = body, *end = body + len; form && p < end;) {
        char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
        char *eq = memchr(p, '=', (size_t)(stop - p));
        size_t kl, vl;
        if (stop == p) {
            p = stop + 1;
            continue;
        }
        if (!eq) {
            why_fail(why, whylen, -1, "the form body is not urlencoded name=value pairs");
            goto bad;
        }
        char key[64];
        if (url_decode(p, (size_t)(eq - p), &kl) != 0 || kl == 0 || kl >= sizeof key ||
            memchr(p, '\0', kl)) {
            why_fail(why, whylen, -1, "a form field's name is empty, overlong or badly encoded");
            goto bad;
        }
        memcpy(key, p, kl);
        key[kl] = '\0';
        if (url_decode(eq + 1, (size_t)(stop - eq - 1), &vl) != 0) {
            why_fail(why, whylen, -1, "field '%s': a %% not followed by two hex digits", key);
            goto bad;
        }
        json_t *v = json_stringn(eq + 1, vl);
        if (!v || memchr(eq + 1, '\0', vl)) {
            json_decref(v);
            why_fail(why, whylen, -1, "field '%s': not valid UTF-8 text", key);
            goto bad;
        }
        if (++nfields > WEB_MAX_FIELDS || json_object_get(form, key)) {
            json_decref(v);
            if (nfields > WEB_MAX_FIELDS)
                why_fail(why, whylen, -1, "more than %d form fields", WEB_MAX_FIELDS);
            else
                why_fail(why, whylen, -1, "field '%s' given twice", key);
            goto bad;
        }
        json_object_set_new(form, key, v);
        p = stop + 1;
    }
    return form;
bad:
    json_decref(form);
    return NULL;
}

const char *web_arg(const web_req_t *r, const char *name)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    return v && *v ? v : NULL;
}

const char *web_field(const web_req_t *r, const char *name)
{
    return json_string_value(json_object_get(r->form, name));
}

/* ---- translation ----------------------------------------------------- */

const char *web_tr(const web_req_t *r, const char *msgid)
{
    return i18n_get(r->i18n, r->lang, msgid);
}

const char *web_trn(const web_req_t *r, const char *one, const char *many, unsigned long n)
{
    return i18n_nget(r->i18n, r->lang, one, many, n);
}

void web_day_time(const web_req_t *r, int64_t t, const char *tz, char *day, size_t dn,
                  char *clock, size_t cn)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (!tz || civil_local(t, tz, &tm) != 0)
        gmtime_r(&tt, &tm);
    if (day)
        i18n_date(r->lang, &tm, day, dn);
    if (clock)
        i18n_clock(r->lang, &tm, clock, cn);
}

const char *web_int(const web_req_t *r, long long v, char *buf, size_t n)
{
    i18n_int(r->lang, v, buf, n);
    return buf;
}

const char *web_decimal(const web_req_t *r, double v, int digits, char *buf, size_t n)
{
    i18n_decimal(r->lang, v, digits, buf, n);
    return buf;
}

/* ---- pages ----------------------------------------------------------- */

/* The language menu: each language named in itself (and marked so), the
 * current one as text. Links keep the page, not its query. */
static void lang_menu(html_t *h, const web_req_t *r)
{
    const i18n_lang_t *l;
    html_rawf(h, "<nav class=\"langs\" aria-label=\"%s\"><ul>", T(r, "Language"));
    for (size_t i = 0; (l = i18n_lang_at(i)); i++) {
        if (strcmp(l->code, r->lang) == 0)
            html_rawf(h, "<li><span lang=\"%s\" aria-current=\"true\">%s</span></li>", l->code,
                      l->name);
        else
            html_rawf(h, "<li><a href=\"?lang=%s\" lang=\"%s\" hreflang=\"%s\">%s</a></li>",
                      l->code, l->code, l->code, l->name);
    }
    html_raw(h, "</ul></nav>");
}

void web_page(const web_req_t *r, web_resp_t *out, int status, const char *title, char *body)
{
    html_t *h = html_new();
    const config_t *cfg = r->env->cfg;
    html_rawf(h, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<link rel=\"stylesheet\" href=\"/style.css\"><title>",
              r->lang);
    html_text(h, title);
    html_raw(h, " · ");
    html_text(h, cfg->name);
    html_rawf(h, "</title></head><body><a class=\"skip\" href=\"#main\">%s</a><header>"
                 "<a class=\"brand\" href=\"/\">lernet</a> <span class=\"node\">",
              T(r, "Skip to content"));
    html_text(h, cfg->name);
    html_rawf(h, " (%s)</span>", cfg->country);
    html_rawf(h, "<nav aria-label=\"%s\"><a href=\"/\">%s</a><a href=\"/publish/workshop\">"
                 "%s</a><a href=\"/publish/meeting\">%s</a><a href=\"/publish/experience\">%s</a>"
                 "<a href=\"/library\">%s</a><a href=\"/publish/resource\">%s</a>"
                 "<a href=\"/goals\">%s</a><a href=\"/health\">%s</a></nav>",
              T(r, "Main"), T(r, "Calendar"), T(r, "New workshop"), T(r, "New meeting"),
              T(r, "New experience report"), T(r, "Library"), T(r, "New resource"),
              T(r, "Goals"), T(r, "Node health"));
    if (!r->guest) /* the sign-in page's first button stays its own */
        page_search_box(h, r);
    lang_menu(h, r);
    html_raw(h, "</header><main id=\"main\" tabindex=\"-1\">");
    if (!body) { /* html_take failed: over HTML_MAX or out of memory */
        log_warn("web: the %s page could not be built (size bound or memory)", title);
        status = 500;
    }
    if (body)
        html_raw(h, body);
    else
        html_rawf(h, "<p class=\"error\">%s</p>",
                  T(r, "This page could not be built: it grew past its size bound or memory "
                       "ran out."));
    html_rawf(h, "</main><footer>lernet " LERNET_VERSION " · %s</footer></body></html>\n",
              T(r, "every event is signed by the node that published it"));
    free(body);
    out->status = status;
    out->type = "text/html; charset=utf-8";
    out->body = html_take(&h, &out->len);
}

void web_error_page(const web_req_t *r, web_resp_t *out, int status, const char *msg)
{
    html_t *h = html_new();
    html_rawf(h, "<h1>%d</h1><p class=\"error\" id=\"error\">", status);
    html_text(h, msg);
    html_raw(h, "</p>");
    web_page(r, out, status, T(r, "Error"), html_take(&h, NULL));
}

/* Spoken to whoever stands at the door: a coordinator or staff member
 * sent the address, not the operator who knows the config file. */
static void login_page(const web_req_t *r, web_resp_t *out, int status, const char *msg)
{
    html_t *h = html_new();
    html_rawf(h, "<h1>%s</h1><p>%s</p><p>%s</p>", T(r, "Sign in"),
              T(r, "This page is opened from another computer than the node's own, so it asks "
                   "for the node's access code."),
              T(r, "Ask the person who runs this node (your school's IT contact) for the access "
                   "code. Coordinators: give it only to your organisation's staff, who then "
                   "stay signed in on that browser for a working day."));
    if (msg) {
        html_raw(h, "<p class=\"error\" id=\"error\" role=\"alert\">");
        html_text(h, msg);
        html_raw(h, "</p>");
    }
    html_rawf(h, "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" "
                 "value=\"%s\"><label for=\"f-token\">%s</label> <input type=\"password\" "
                 "name=\"token\" id=\"f-token\" autocomplete=\"current-password\" required "
                 "aria-required=\"true\"%s> <button id=\"submit\">%s</button></form>",
              r->csrf, T(r, "Access code"),
              msg ? " aria-invalid=\"true\" aria-describedby=\"error\"" : "", T(r, "Sign in"));
    web_req_t guest = *r;
    guest.guest = 1;
    web_page(&guest, out, status, T(r, "Sign in"), html_take(&h, NULL));
}

static void do_login(web_t *w, const web_req_t *r, web_resp_t *out, char *cookie_hdr,
                     size_t n)
{
    const char *tok = web_field(r, "token");
    char mac[MAC_HEX];
    if (!w->cookie || !tok || strlen(tok) > TOKEN_MAX) {
        login_page(r, out, 403, T(r, "That is not the access code: check it and try again."));
        return;
    }
    mac_hex(w, tok, strlen(tok), mac);
    if (sodium_memcmp(mac, w->cookie, MAC_HEX) != 0) {
        log_warn("web: a sign-in with a wrong token");
        login_page(r, out, 403, T(r, "That is not the access code: check it and try again."));
        return;
    }
    /* a working day; Secure once a TLS proxy is in front */
    snprintf(cookie_hdr, n, "lernet_auth=%s; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict%s",
             w->cookie, w->env.cfg->web_behind_proxy ? "; Secure" : "");
    out->status = 303;
    snprintf(out->location, sizeof out->location, "/");
}

static void style(const web_req_t *r, web_resp_t *out)
{
    (void)r;
    out->status = 200;
    out->type = "text/css; charset=utf-8";
    out->body = strdup(style_css);
    out->len = out->body ? strlen(out->body) : 0;
}

static void login(web_t *w, web_req_t *r, int post, web_resp_t *out, char *cookie_hdr,
                  size_t n)
{
    if (post)
        do_login(w, r, out, cookie_hdr, n);
    else
        login_page(r, out, 200, NULL);
}

/* Every address the page answers, tried in order; the first whose path
 * matches answers. A row has one handler: page (page.c, form.c) or, for
 * what needs this file's secrets, own. */
static const struct route {
    web_route_t pub;
    void (*page)(const web_req_t *r, web_resp_t *out);
    void (*own)(web_t *w, web_req_t *r, int post, web_resp_t *out, char *cookie_hdr,
                size_t n);
} routes[] = {
    {{"/login", 0, WEB_GET | WEB_POST, "/login", "sign in with the node's web token"},
     NULL, login},
    {{"/style.css", 0, WEB_GET, "/style.css", "the only asset: plain CSS, no scripts"},
     style, NULL},
    {{"/publish/", 1, WEB_GET | WEB_POST, "/publish/{kind}",
      "the form for a content kind (workshop, meeting, experience, resource, reply, goal, "
      "questionnaire, feedback); POST publishes"},
     form_publish, NULL},
    {{"/", 0, WEB_GET, "/",
      "calendar of what is ahead (?network= &theme= &language= &org= &country=)"},
     page_calendar, NULL},
    {{"/event/", 1, WEB_GET | WEB_POST, "/event/{id}",
      "one event, its signature check, its reports and its thread of replies with a reply "
      "form; /event/ID/file/N downloads its N-th attached file when this node holds it; "
      "/event/ID/edit and /event/ID/cancel correct and cancel this node's own (POST)"},
     page_event, NULL},
    {{"/library", 0, WEB_GET, "/library",
      "the shared library: resources (?type= &theme= &language= &network=)"},
     page_library, NULL},
    {{"/search", 0, WEB_GET, "/search",
      "full-text search of every language's titles and texts (?q= &kind= &network=)"},
     page_search, NULL},
    {{"/goals", 0, WEB_GET, "/goals",
      "the networks' goals: target, reached, share, remaining (?network=)"},
     page_goals, NULL},
    {{"/feed.atom", 0, WEB_GET, "/feed.atom",
      "Atom feed of new resources and experience reports (?network=)"},
     page_atom, NULL},
    {{"/health", 0, WEB_GET, "/health", "node health for operators"}, page_health, NULL},
    {{"/calendar.ics", 0, WEB_GET, "/calendar.ics", "iCal feed (?network= &lang=)"},
     page_ical, NULL},
    {{"/report.csv", 0, WEB_GET, "/report.csv",
      "report (?from=&to= YYYY-MM-DD, ?by= a grouping, ?network=, ?excel=1: BOM and CRLF)"},
     page_report_csv, NULL},
    {{"/metrics", 0, WEB_GET, "/metrics", "Prometheus text format"}, page_metrics, NULL},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

const web_route_t *web_route_at(size_t i)
{
    return i < N_ROUTES ? &routes[i].pub : NULL;
}

static void route(web_t *w, web_req_t *r, const char *url, int post, web_resp_t *out,
                  char *cookie_hdr, size_t n)
{
    for (size_t i = 0; i < N_ROUTES; i++) {
        const struct route *rt = &routes[i];
        size_t len = strlen(rt->pub.path);
        if (rt->pub.prefix ? strncmp(url, rt->pub.path, len) != 0 : strcmp(url, rt->pub.path) != 0)
            continue;
        if (!(rt->pub.methods & (post ? WEB_POST : WEB_GET))) {
            web_error_page(r, out, 405, post ? T(r, "only the page's forms take POST")
                                             : T(r, "this address only takes POST"));
            return;
        }
        r->path = rt->pub.prefix ? url + len : "";
        if (rt->own)
            rt->own(w, r, post, out, cookie_hdr, n);
        else
            rt->page(r, out);
        return;
    }
    web_error_page(r, out, 404, T(r, "no such page"));
}

static enum MHD_Result reply(struct MHD_Connection *c, web_resp_t *out, const char *cookie,
                             const char *lang_cookie)
{
    static const char csp[] = "default-src 'none'; style-src 'self'; img-src 'self'; "
                              "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    struct MHD_Response *resp = NULL;
    if (out->has_fd) { /* MHD reads it as it sends, and closes it */
        free(out->body);
        out->body = NULL;
        resp = MHD_create_response_from_fd64(out->fd_len, out->fd);
        if (!resp) {
            close(out->fd);
            return MHD_NO;
        }
        if (out->disposition_buf[0])
            out->disposition = out->disposition_buf;
    }
    if (!resp && !out->body && !out->location[0]) {
        out->status = 500;
        out->type = "text/plain; charset=utf-8";
        out->body = strdup("out of memory\n");
        out->len = out->body ? strlen(out->body) : 0;
    }
    if (!resp)
        resp = MHD_create_response_from_buffer(out->len, out->body ? out->body : (char *)"",
                                               out->body ? MHD_RESPMEM_MUST_FREE
                                                         : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(out->body);
        return MHD_NO;
    }
    if (out->type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, out->type);
    if (out->location[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, out->location);
    if (out->disposition)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, out->disposition);
    if (cookie && cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
    if (lang_cookie && lang_cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, lang_cookie);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)out->status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* why_translator_t: a lower layer's reason in the page's language. */
static const char *why_in_page_lang(void *ctx, const char *msgid)
{
    const web_req_t *r = ctx;
    return i18n_get(r->i18n, r->lang, msgid);
}

static enum MHD_Result answer(web_t *w, struct MHD_Connection *c, const char *url,
                              const char *method, conn_t *cs)
{
    char langs[LANGS_MAX], why[256] = "out of memory", cookie[160] = "", lang_cookie[80] = "";
    web_resp_t out = {0};
    int post = strcmp(method, "POST") == 0, remember = 0;
    json_t *form = NULL;
    const char *lang = pick_langs(c, langs, &remember);
    if (remember) /* a preference, not a secret: a year, readable by any page of this site */
        snprintf(lang_cookie, sizeof lang_cookie,
                 "lernet_lang=%s; Path=/; Max-Age=31536000; SameSite=Lax", lang);
    int allowed = is_local(w, c) || has_token(w, c);
    /* a visitor not let in sees only the sign-in form, and only its token */
    const char *csrf = allowed && strcmp(url, "/login") != 0 ? w->csrf : w->login_csrf;
    web_req_t r = {.env = &w->env, .conn = c, .path = "", .lang = lang, .langs = langs,
                   .i18n = w->i18n, .csrf = csrf};
    if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        web_error_page(&r, &out, 405, T(&r, "method not allowed"));
        return reply(c, &out, NULL, NULL);
    }
    if (post && cs->up)
        form = upload_form(cs->up, why, sizeof why);
    else if (post)
        form = parse_form(cs->body ? cs->body : (char *)"", cs->len, why, sizeof why);
    if (post && !form) {
        web_error_page(&r, &out, 400, why);
        return reply(c, &out, NULL, NULL);
    }
    r.form = form;
    r.upload = cs->up;
    const char *xsite = post ? cross_site(w, c, url, form) : NULL;
    if (xsite) {
        log_warn("web: refused a %s %s: %s", method, url, xsite);
        web_error_page(&r, &out, 403, T(&r, xsite));
    } else if (!allowed && strcmp(url, "/login") != 0 && strcmp(url, "/style.css") != 0) {
        login_page(&r, &out, 401,
                   T(&r, "This computer is not the node's own: sign in with the access code "
                         "first."));
    } else {
        /* a reason a lower layer gives (the store refusing a publish, the
         * index a query) reads in the page's language (why.h) */
        why_translate_set(why_in_page_lang, &r);
        route(w, &r, url, post, &out, cookie, sizeof cookie);
        why_translate_set(NULL, NULL);
    }
    json_decref(form);
    return reply(c, &out, cookie, lang_cookie);
}

static int is_multipart(struct MHD_Connection *c)
{
    const char *ct = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

/* A file upload's headers are in: it is let in (or not) and bounded now,
 * before a byte of its body is read or written anywhere. */
static enum MHD_Result begin_upload(web_t *w, struct MHD_Connection *c, const char *url,
                                    void **con_cls)
{
    char langs[LANGS_MAX], why[300] = "out of memory";
    web_resp_t out = {0};
    int allowed = is_local(w, c) || has_token(w, c), remember = 0;
    const char *lang = pick_langs(c, langs, &remember);
    web_req_t r = {.env = &w->env, .conn = c, .path = "", .lang = lang, .langs = langs,
                   .i18n = w->i18n, .csrf = allowed ? w->csrf : w->login_csrf};
    const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t bound = upload_bound(w->env.cfg->attachment_max);
    const char *xsite = cross_origin(w, c);
    conn_t *cs = NULL;
    if (!allowed) {
        login_page(&r, &out, 401,
                   T(&r, "This computer is not the node's own: sign in with the access code "
                         "first."));
    } else if (xsite) {
        log_warn("web: refused an upload to %s: %s", url, xsite);
        web_error_page(&r, &out, 403, T(&r, xsite));
    } else if (strncmp(url, "/publish/", 9) != 0) {
        web_error_page(&r, &out, 415, T(&r, "only the publish forms take multipart/form-data"));
    } else if (cl && strtoull(cl, NULL, 10) > bound) {
        snprintf(why, sizeof why,
                 T(&r, "field 'attachment': %s: the upload is %llu bytes; this node takes a "
                       "file of at most attachment_max_mib (%lld MiB); nothing was stored"),
                 err_name(ATTACH_ERR_TOO_LARGE), strtoull(cl, NULL, 10),
                 (long long)(w->env.cfg->attachment_max >> 20));
        web_error_page(&r, &out, 413, why);
    } else if (!(cs = calloc(1, sizeof *cs)) ||
               upload_open(&cs->up, c, w->env.home, w->env.cfg->attachment_max, w->csrf, &r,
                           why, sizeof why) != 0) {
        free(cs);
        web_error_page(&r, &out, 400, why);
    } else {
        uploading(c);
        *con_cls = cs;
        return MHD_YES;
    }
    answering(c);
    return reply(c, &out, NULL, NULL); /* MHD closes: the body is never read */
}

/* ---- between the slices of a store ------------------------------------ *
 * A long catch-up is stored in slices (sync.h, SYNC_SLICE_MS), and after
 * each the daemon calls web_run_between, so that staff who open a page
 * meanwhile wait a slice, not the whole batch. Only a request that reads
 * may be answered there. A POST (a publish form, with or without a file,
 * an edit, a cancel; the sign-in too, for one simple rule) goes through
 * the daemon's publish path, which stores and calls into sync: the very
 * store under way would be entered again in its middle. So a POST is
 * received whole (its body goes to memory or to a temporary file of
 * upload.c, never to the store), then suspended (MHD_suspend_connection)
 * at the point where it would be answered; web_run, from the loop once the
 * store is over, resumes it and MHD calls on_request again, which answers
 * it then. Reads are bounded, so that a flood of them cannot stall the
 * store: one call answers at most WEB_BETWEEN_REQUESTS requests and starts
 * none once WEB_BETWEEN_MS have passed (the one under way finishes); the
 * rest are suspended the same way until the next call or the loop; and a
 * call that took T ms is followed by T ms of store in which none serves
 * (web_run_between). A suspended connection is neither timed out by MHD
 * nor cut by cut_slow (its request is in), and MHD sees its client leave
 * only once it is resumed; web_close resumes every one before MHD stops
 * (MHD's rule). */

/* 0: answer now; 1: c is suspended, on_request answers it once resumed;
 * -1: drop it (a POST of a connection without a slot, never resumed). */
static int hold(web_t *w, struct MHD_Connection *c, int post)
{
    slot_t *s = slot_of(c);
    if (!w->between)
        return 0;
    if (!post && w->between_answered < WEB_BETWEEN_REQUESTS &&
        now_ms() < w->between_until_ms) {
        w->between_answered++;
        return 0;
    }
    if (!s) /* cannot happen: on_connection shut it down already */
        return post ? -1 : 0;
    s->held = post ? HELD_WRITE : HELD_READ;
    MHD_suspend_connection(c);
    return 1;
}

/* Resumes the held requests: those that read, and with writes those that
 * write too; how many. The next MHD_run calls on_request for them again;
 * sending the answer and closing may take more runs, so the caller runs
 * MHD while it has more to do (mhd_ready). */
static size_t resume_held(web_t *w, int writes)
{
    size_t n = 0;
    for (size_t i = 0; i < WEB_MAX_CONNECTIONS; i++) {
        slot_t *s = &w->slots[i];
        if (s->c && s->held && (writes || s->held == HELD_READ)) {
            s->held = 0;
            MHD_resume_connection(s->c);
            n++;
        }
    }
    return n;
}

static int any_held(const web_t *w)
{
    for (size_t i = 0; i < WEB_MAX_CONNECTIONS; i++)
        if (w->slots[i].c && w->slots[i].held)
            return 1;
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    web_t *w = cls;
    conn_t *cs = *con_cls;
    (void)version;
    if (!cs && is_multipart(c) && strcmp(method, "POST") == 0)
        return begin_upload(w, c, url, con_cls);
    if (!cs) { /* headers only: refuse an announced oversized body at once */
        const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > WEB_MAX_BODY) {
            web_resp_t out = {.status = 413, .type = "text/plain; charset=utf-8"};
            answering(c);
            if ((out.body = strdup("request body larger than 65536 bytes\n")))
                out.len = strlen(out.body);
            return reply(c, &out, NULL, NULL); /* MHD closes: the body is never read */
        }
        if (!(cs = calloc(1, sizeof *cs)))
            return MHD_NO;
        *con_cls = cs;
        return MHD_YES;
    }
    if (*upload_size && cs->up) {
        /* past the bound (a chunked body): drop the connection, read no more */
        if (upload_feed(cs->up, upload, *upload_size) != 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        /* a chunked body past the bound: drop the connection, read no more */
        if (cs->len + *upload_size > WEB_MAX_BODY)
            return MHD_NO;
        char *b = realloc(cs->body, cs->len + *upload_size + 1);
        if (!b)
            return MHD_NO;
        memcpy(b + cs->len, upload, *upload_size);
        cs->body = b;
        cs->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    answering(c);
    int held = hold(w, c, strcmp(method, "POST") == 0);
    if (held)
        return held > 0 ? MHD_YES : MHD_NO;
    return answer(w, c, url, method, cs);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    conn_t *cs = *con_cls;
    slot_t *s = slot_of(c);
    (void)cls, (void)toe;
    if (cs) {
        upload_close(&cs->up);
        free(cs->body);
        free(cs);
    }
    *con_cls = NULL;
    if (s) { /* kept alive: the next request has its own WEB_REQUEST_S */
        s->answering = 0;
        s->upload = 0;
        s->held = 0;
        s->since_ms = now_ms();
    }
}

/* The format comes from libmicrohttpd itself, never from a request. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[256];
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_debug("web: %s", line);
}
#pragma GCC diagnostic pop

/* ---- lifecycle ------------------------------------------------------- */

static int listen_on(const char *addr, char *why, size_t whylen)
{
    char host[32];
    unsigned port = 0;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    snprintf(host, sizeof host, "%s", addr);
    char *colon = strrchr(host, ':');
    if (colon) {
        *colon = '\0';
        port = (unsigned)strtoul(colon + 1, NULL, 10);
    }
    if (!colon || inet_pton(AF_INET, host, &sa.sin_addr) != 1 || port == 0 || port > 65535)
        return why_fail(why, whylen, -1, "web: '%s' is not an IPv4 HOST:PORT", addr);
    sa.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0)
        return why_fail(why, whylen, -1, "web: socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
        int e = errno;
        close(fd);
        return why_fail(why, whylen, -1, "web: cannot listen on %s: %s", addr, strerror(e));
    }
    return fd;
}

/* Where the catalogues are: web_locale_dir, else beside the program as
 * the build tree has them (build/lernet, build/locale), else as installed
 * (bin/lernet, share/locale), else the install prefix CMake was given. */
static void locale_dir(const config_t *cfg, char *out, size_t n)
{
    char exe[900], try[1000];
    struct stat sb;
    if (cfg->web_locale_dir[0]) {
        snprintf(out, n, "%s", cfg->web_locale_dir);
        return;
    }
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = len > 0 ? (exe[len] = '\0', strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = '\0';
        snprintf(try, sizeof try, "%s/locale", exe);
        if (stat(try, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            snprintf(out, n, "%s", try);
            return;
        }
        snprintf(try, sizeof try, "%s/../share/locale/sv/LC_MESSAGES/lernet.mo", exe);
        if (stat(try, &sb) == 0) {
            snprintf(out, n, "%s/../share/locale", exe);
            return;
        }
    }
    snprintf(out, n, "%s", LERNET_LOCALEDIR);
}

static int open_catalogues(web_t *w, char *why, size_t whylen)
{
    char dir[1000], missing[64], inner[512];
    locale_dir(w->env.cfg, dir, sizeof dir);
    if (i18n_open(&w->i18n, dir, missing, sizeof missing, inner, sizeof inner) != 0)
        return why_fail(why, whylen, WEB_ERR_LOCALE, "web: a translation in %s: %s", dir, inner);
    if (missing[0])
        log_warn("web: no translation for %s in %s: the page is in English for them", missing,
                 dir);
    return WEB_OK;
}

int web_open(web_t **out, const web_env_t *env, char *why, size_t whylen)
{
    web_t *w = calloc(1, sizeof *w);
    if (!w || !(w->secret = sodium_malloc(MAC_BYTES))) {
        free(w);
        return why_fail(why, whylen, WEB_ERR_NOMEM, "out of memory");
    }
    w->env = *env;
    w->listen_fd = -1;
    randombytes_buf(w->secret, MAC_BYTES);
    mac_hex(w, "csrf", 4, w->csrf);
    mac_hex(w, "login", 5, w->login_csrf);
    int rc = env->cfg->web_token_file[0] ? load_token(w, why, whylen) : WEB_OK;
    if (rc == WEB_OK)
        rc = open_catalogues(w, why, whylen);
    if (rc == WEB_OK && (w->listen_fd = listen_on(env->cfg->web, why, whylen)) < 0)
        rc = WEB_ERR_LISTEN;
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    if (rc == WEB_OK && getsockname(w->listen_fd, (struct sockaddr *)&bound, &blen) != 0)
        rc = why_fail(why, whylen, WEB_ERR_LISTEN, "web: getsockname: %s", strerror(errno));
    else if (rc == WEB_OK)
        w->port = ntohs(bound.sin_port);
    if (rc == WEB_OK &&
        !(w->mhd = MHD_start_daemon(
              /* suspend/resume: the POSTs held back during a store (see hold) */
              MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
              on_request, w,
              MHD_OPTION_LISTEN_SOCKET, w->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
              (unsigned)WEB_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
              (unsigned)WEB_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
              MHD_OPTION_NOTIFY_COMPLETED, on_completed, w, MHD_OPTION_NOTIFY_CONNECTION,
              on_connection, w, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, w, MHD_OPTION_END)))
        rc = why_fail(why, whylen, WEB_ERR_LISTEN, "web: libmicrohttpd did not start");
    if (rc != WEB_OK) {
        web_close(&w);
        return rc;
    }
    w->listen_fd = -1; /* MHD closes it when it stops */
    *out = w;
    return WEB_OK;
}

void web_close(web_t **w)
{
    if (!w || !*w)
        return;
    if ((*w)->mhd) {
        /* MHD must not be stopped with a connection suspended; resumed,
         * it is closed unanswered (never so in practice: the loop's last
         * web_run came after the last store) */
        resume_held(*w, 1);
        MHD_stop_daemon((*w)->mhd);
    }
    if ((*w)->listen_fd >= 0)
        close((*w)->listen_fd);
    sodium_free((*w)->secret);
    i18n_close(&(*w)->i18n);
    if ((*w)->cookie)
        sodium_free((*w)->cookie);
    free(*w);
    *w = NULL;
}

int web_fd(const web_t *w)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    return di ? di->epoll_fd : -1;
}

long web_timeout_ms(web_t *w)
{
    MHD_UNSIGNED_LONG_LONG t;
    long due = next_due(w);
    if (any_held(w)) /* held back by a store that is over now: web_run resumes them */
        return 0;
    if (MHD_get_timeout(w->mhd, &t) != MHD_YES) {
        if (due < 0)
            return -1;
        t = (MHD_UNSIGNED_LONG_LONG)due;
    }
    if (due >= 0 && (MHD_UNSIGNED_LONG_LONG)due < t)
        t = (MHD_UNSIGNED_LONG_LONG)due;
    return t > 1000 ? 1000 : (long)t;
}

/* MHD has more to do at once: its epoll set has events, or it holds
 * connections it knows are ready (then its timeout is 0). */
static int mhd_ready(web_t *w)
{
    MHD_UNSIGNED_LONG_LONG t;
    struct pollfd pf = {web_fd(w), POLLIN, 0};
    return poll(&pf, 1, 0) > 0 || (MHD_get_timeout(w->mhd, &t) == MHD_YES && t == 0);
}

/* Cuts the slow, runs MHD. At its connection limit MHD stops polling the
 * listening socket and takes it back only in a later run than the one
 * that closed connections: run again while runs close some, or a client
 * waiting in the backlog (staff, after cuts made room) waits for the next
 * unrelated event. Never entered again from a handler (a page's call into
 * the daemon that came back here). */
static void run_mhd(web_t *w)
{
    cut_slow(w);
    w->in_run = 1;
    for (int i = 0; i < 4; i++) {
        size_t closed = w->n_closed;
        MHD_run(w->mhd);
        if (w->n_closed == closed)
            break;
    }
    w->in_run = 0;
}

void web_run(web_t *w)
{
    if (w->in_run)
        return;
    size_t resumed = resume_held(w, 1);
    run_mhd(w);
    for (int i = 0; resumed && i < WEB_BETWEEN_RUNS && mhd_ready(w); i++)
        run_mhd(w);
}

/* A request takes MHD several runs (accept, read and answer, send, close),
 * which the loop makes one after the other as the epoll fd wakes it; a
 * call here comes once a slice, so it runs MHD while it has more to do,
 * within WEB_BETWEEN_MS and WEB_BETWEEN_RUNS (else a page waited three or
 * four slices). A page under way is never cut, and one can cost far more
 * than WEB_BETWEEN_MS (the calendar of 20,000 items: 0.4 s plain): so a
 * call that took T ms is followed by T ms in which the calls serve
 * nothing, and the page has at most about half of a long store's time,
 * whatever its pages cost. */
void web_run_between(web_t *w)
{
    int64_t start = now_ms();
    if (w->in_run || start < w->between_rest_ms)
        return;
    w->between = 1;
    w->between_answered = 0;
    w->between_until_ms = start + WEB_BETWEEN_MS;
    resume_held(w, 0);
    for (int i = 0; i < WEB_BETWEEN_RUNS; i++) {
        run_mhd(w);
        if (now_ms() >= w->between_until_ms || !mhd_ready(w))
            break;
    }
    w->between = 0;
    int64_t end = now_ms();
    w->between_rest_ms = end + (end - start);
}
