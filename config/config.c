/*
 * config: loads lernet.ini into a validated config_t, and writes the file
 * for a new node.
 *
 * The file is treated as hostile input: its size, every string, every list
 * and the number of peers are bounded (an error, never a truncation), text
 * must be UTF-8 without control characters, and unknown or repeated
 * sections and keys are errors. The first error wins and is reported as one
 * line: "<path>:<line>: [section] key: reason".
 *
 * libinih splits "key = value" lines and strips comments, but it truncates
 * section names to 49 bytes and does not tell the handler the line number.
 * So the file is read into memory and fed to ini_parse_stream() one line at
 * a time through our own reader, which counts lines, parses section headers
 * itself (handing libinih a placeholder) and strips indentation (so that
 * libinih never glues an indented line onto the previous value).
 */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/country.h"
#include "util/text.h"

#define LABEL_SIZE (CONFIG_MAX_NAME + 16)
#define SHOW_MAX 80 /* bytes of a hostile value quoted back in a message */
#define INTERVAL_MIN 100
#define INTERVAL_MAX 3600000
#define INTERVAL_DEFAULT 2000

enum node_key {
    NK_NAME,
    NK_COUNTRY,
    NK_MUNICIPALITY,
    NK_LISTEN,
    NK_NETWORKS,
    NK_DEFAULT,
    NK_LOG_LEVEL,
    NK_INTERVAL,
    NK_WEB,
    NK_WEB_TOKEN,
    NK_WEB_PROXY,
    NK_WEB_LOCALE,
    NK_ATT_KEEP,
    NK_ATT_MAX,
    NK_ATT_QUOTA,
    NK_COUNT
};
enum peer_key { PK_PUBLIC_KEY, PK_ENDPOINT, PK_NETWORKS, PK_COUNT };

static const char *const node_keys[NK_COUNT] = {"name",      "country",         "municipality",
                                                "listen",    "networks",        "default_network",
                                                "log_level", "sync_interval_ms", "web",
                                                "web_token_file", "web_behind_proxy", "web_locale_dir",
                                                "attachments_keep", "attachment_max_mib",
                                                "attachment_quota_mib"};
static const char *const peer_keys[PK_COUNT] = {"public_key", "endpoint", "networks"};
static const char *const log_levels[] = {"error", "warn", "info", "debug"};

enum section { SECT_NONE, SECT_NODE, SECT_PEER, SECT_NETWORK };

/* Where each peer's section and keys are, for messages after the parse. */
typedef struct peer_lines {
    int section;
    int key[PK_COUNT];
} peer_lines_t;

typedef struct parse {
    const char *path;
    char *why;
    size_t whylen;
    int err;      /* first error (CONFIG_ERR_*), 0 while none */
    int err_line; /* its line, 0 when it has none */
    int final;    /* checks after the parse: the earliest line wins */
    config_t *cfg;
    peer_lines_t *lines; /* parallel to cfg->peers */
    size_t cap;
    /* Open-addressed indexes of the peers by name and by key (peer index
     * + 1, 0 = free; twice cap slots, rebuilt as cap grows): a hub lists
     * up to CONFIG_MAX_PEERS partners, and comparing each new one with all
     * before it was 50 million comparisons per load. */
    uint32_t *by_name, *by_key;
    size_t slots;
    /* reader state */
    const char *pos, *end;
    int line;
    /* current section */
    enum section sect;
    char label[LABEL_SIZE];
    int node_section;
    int node_key[NK_COUNT];
    int network_key; /* line of the current [network]'s coordinators */
} parse_t;

/* ---- text checks ------------------------------------------------------ */

/* Names and other free text: bounded, UTF-8, single line. */
static int check_text(const char *v, size_t size, int required, char *reason, size_t rlen)
{
    size_t n = strlen(v);
    if (n == 0 && required)
        snprintf(reason, rlen, "must not be empty");
    else if (n >= size)
        snprintf(reason, rlen, "too long (%zu bytes, at most %zu)", n, size - 1);
    else if (!text_utf8_valid(v, n))
        snprintf(reason, rlen, "not valid UTF-8");
    else if (text_has_control(v, n, 0))
        snprintf(reason, rlen, "contains a control character");
    else
        return 0;
    return -1;
}

static int check_endpoint(const char *v, int required, char *reason, size_t rlen)
{
    char s[TEXT_SHOW_SIZE(SHOW_MAX)];
    size_t n = strlen(v);
    if (n == 0 && !required)
        return 0;
    if (strncmp(v, "tcp://", 6) != 0 && strncmp(v, "ipc://", 6) != 0)
        snprintf(reason, rlen, "'%s' must start with tcp:// or ipc://", text_show(s, sizeof s, v));
    else if (n >= CONFIG_MAX_ENDPOINT)
        snprintf(reason, rlen, "too long (%zu bytes, at most %d)", n, CONFIG_MAX_ENDPOINT - 1);
    else if (n == 6)
        snprintf(reason, rlen, "'%s' has no address after the scheme", v);
    else if (text_has_control(v, n, 0))
        snprintf(reason, rlen, "'%s' contains a control character", text_show(s, sizeof s, v));
    else if (strpbrk(v, " "))
        snprintf(reason, rlen, "'%s' must not contain spaces", text_show(s, sizeof s, v));
    else if (!text_utf8_valid(v, n))
        snprintf(reason, rlen, "not valid UTF-8");
    else
        return 0;
    return -1;
}

int config_check_peer_name(const char *name, char *reason, size_t rlen)
{
    if (check_text(name, CONFIG_MAX_NAME, 1, reason, rlen) != 0)
        return -1;
    /* the header ends the name at its first quote: [peer "a"] ;"] is "a" */
    if (strchr(name, '"')) {
        snprintf(reason, rlen, "contains a double quote");
        return -1;
    }
    return 0;
}

int config_check_endpoint(const char *endpoint, char *reason, size_t rlen)
{
    return check_endpoint(endpoint, 1, reason, rlen);
}

static int check_country(const char *v, char *reason, size_t rlen)
{
    char s[TEXT_SHOW_SIZE(SHOW_MAX)];
    if (country_code_valid(v))
        return 0;
    snprintf(reason, rlen, "'%s' is not two capital letters (ISO 3166-1 alpha-2, e.g. SE)",
             text_show(s, sizeof s, v));
    return -1;
}

static int check_log_level(const char *v, char *reason, size_t rlen)
{
    char s[TEXT_SHOW_SIZE(SHOW_MAX)];
    for (size_t i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++)
        if (strcmp(v, log_levels[i]) == 0)
            return 0;
    snprintf(reason, rlen, "'%s' is not one of error, warn, info, debug",
             text_show(s, sizeof s, v));
    return -1;
}

/* A whole number of MiB within lo..hi, into bytes. */
static int parse_mib(const char *v, long long lo, long long hi, int64_t *out, char *reason,
                     size_t rlen)
{
    char s[TEXT_SHOW_SIZE(SHOW_MAX)], *end = NULL;
    errno = 0;
    long long n = v[0] >= '0' && v[0] <= '9' ? strtoll(v, &end, 10) : 0;
    if (!end || end == v || *end != '\0' || errno == ERANGE || n < lo || n > hi) {
        snprintf(reason, rlen, "'%s' is not a whole number of MiB within %lld..%lld",
                 text_show(s, sizeof s, v), lo, hi);
        return -1;
    }
    *out = (int64_t)n << 20;
    return 0;
}

static int parse_interval(const char *v, int *out, char *reason, size_t rlen)
{
    char s[TEXT_SHOW_SIZE(SHOW_MAX)], *end = NULL;
    errno = 0;
    long long n = (v[0] >= '0' && v[0] <= '9') || v[0] == '-' ? strtoll(v, &end, 10) : 0;
    if (!end || end == v || *end != '\0') {
        snprintf(reason, rlen, "'%s' is not a whole number of milliseconds",
                 text_show(s, sizeof s, v));
        return -1;
    }
    if (errno == ERANGE || n < INTERVAL_MIN || n > INTERVAL_MAX) {
        snprintf(reason, rlen, "%s is out of range (%d..%d)", text_show(s, sizeof s, v),
                 INTERVAL_MIN, INTERVAL_MAX);
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* The web page's address: "off", or IPv4-HOST:PORT. Binding to anything
 * but loopback needs web_token_file (checked in check_node). */
static int check_web(const char *v, char *reason, size_t rlen)
{
    char s[TEXT_SHOW_SIZE(SHOW_MAX)];
    unsigned a, b, c, d, port;
    int used = 0;
    if (strcmp(v, "off") == 0)
        return 0;
    if (sscanf(v, "%u.%u.%u.%u:%u%n", &a, &b, &c, &d, &port, &used) != 5 ||
        (size_t)used != strlen(v) || a > 255 || b > 255 || c > 255 || d > 255 || port == 0 ||
        port > 65535 || strchr(v, ' ') || strchr(v, '+') || strchr(v, '-')) {
        snprintf(reason, rlen, "'%s' is not off or an IPv4 HOST:PORT like 127.0.0.1:8470",
                 text_show(s, sizeof s, v));
        return -1;
    }
    return 0;
}

static int parse_yes_no(const char *v, int *out, char *reason, size_t rlen)
{
    char s[TEXT_SHOW_SIZE(SHOW_MAX)];
    if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
        *out = v[0] == 'y';
        return 0;
    }
    snprintf(reason, rlen, "'%s' is not yes or no", text_show(s, sizeof s, v));
    return -1;
}

int config_web_local(const config_t *c)
{
    return strncmp(c->web, "127.", 4) == 0;
}

static int list_has(const config_network_t *list, size_t n, const char *network)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], network) == 0)
            return 1;
    return 0;
}

/* One entry of a network list, [s, e) already trimmed. */
static int add_network(config_network_t *out, size_t *n, const char *s, size_t len, char *reason,
                       size_t rlen)
{
    char item[EVENT_MAX_NETWORK + 1], shown[TEXT_SHOW_SIZE(SHOW_MAX)], raw[SHOW_MAX + 1];
    snprintf(raw, sizeof raw, "%.*s", (int)(len < SHOW_MAX ? len : SHOW_MAX), s);
    if (len == 0) {
        snprintf(reason, rlen, "empty entry in the list");
        return -1;
    }
    if (len <= EVENT_MAX_NETWORK) {
        memcpy(item, s, len);
        item[len] = '\0';
    }
    if (len > EVENT_MAX_NETWORK || !event_network_valid(item)) {
        snprintf(reason, rlen,
                 "'%s%s' is not a network name (1-%d of a-z 0-9 . _ -, starting "
                 "with a letter or digit)",
                 text_show(shown, sizeof shown, raw), len > SHOW_MAX ? "..." : "",
                 EVENT_MAX_NETWORK);
        return -1;
    }
    if (list_has(out, *n, item)) {
        snprintf(reason, rlen, "'%s' is listed twice", item);
        return -1;
    }
    if (*n >= CONFIG_MAX_NETWORKS) {
        snprintf(reason, rlen, "more than %d networks", CONFIG_MAX_NETWORKS);
        return -1;
    }
    memcpy(out[(*n)++], item, len + 1);
    return 0;
}

/* "a, b,c" -> {a, b, c}: trimmed, each a valid name, no repeats. */
static int parse_networks(const char *v, config_network_t *out, size_t *n, char *reason,
                          size_t rlen)
{
    *n = 0;
    if (!*v) {
        snprintf(reason, rlen, "must name at least one network");
        return -1;
    }
    for (const char *s = v;; s++) {
        const char *e = s + strcspn(s, ",");
        const char *next = e;
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (add_network(out, n, s, (size_t)(e - s), reason, rlen) != 0)
            return -1;
        if (!*next)
            return 0;
        s = next;
    }
}

/* ---- errors ----------------------------------------------------------- */

/* Records an error unless an earlier one is already there. */
__attribute__((format(printf, 6, 7))) static void
fail(parse_t *p, int code, int line, const char *label, const char *key, const char *fmt, ...)
{
    char reason[512], where[32] = "", k[TEXT_SHOW_SIZE(SHOW_MAX)] = "",
                      ctx[LABEL_SIZE + sizeof k + 4];
    va_list ap;
    if (p->err && !(p->final && line > 0 && line < p->err_line))
        return;
    p->err = code;
    p->err_line = line;
    if (!p->why || !p->whylen)
        return;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(where, sizeof where, ":%d", line);
    if (key)
        text_show(k, sizeof k, key);
    snprintf(ctx, sizeof ctx, "%s%s%s", label ? label : "", label && key ? " " : "", k);
    snprintf(p->why, p->whylen, "%s%s: %s%s%s", p->path, where, ctx, ctx[0] ? ": " : "", reason);
}

/* ---- sections ---------------------------------------------------------- */

static uint32_t fnv1a(const void *data, size_t n)
{
    const unsigned char *b = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static uint32_t name_hash(const config_t *c, size_t i)
{
    return fnv1a(c->peers[i].name, strlen(c->peers[i].name));
}

static uint32_t key_hash(const config_t *c, size_t i)
{
    return fnv1a(c->peers[i].public_key, KEYS_PUBLIC_BYTES);
}

/* The slot for hash h in ix: the first free one from h on, or the one of
 * the peer same() finds equal to peer i. */
static size_t slot_of(const parse_t *p, const uint32_t *ix, uint32_t h, size_t i,
                      bool (*same)(const config_t *c, size_t a, size_t b))
{
    size_t mask = p->slots - 1, s = h & mask;
    while (ix[s] && !same(p->cfg, ix[s] - 1, i))
        s = (s + 1) & mask;
    return s;
}

static bool same_name(const config_t *c, size_t a, size_t b)
{
    return strcmp(c->peers[a].name, c->peers[b].name) == 0;
}

static bool same_key(const config_t *c, size_t a, size_t b)
{
    return memcmp(c->peers[a].public_key, c->peers[b].public_key, KEYS_PUBLIC_BYTES) == 0;
}

/* The peer listed before peer i under the same name (or key), or -1; with
 * add, peer i is entered when there is none. */
static long seen_before(parse_t *p, int by_key, size_t i, bool add)
{
    uint32_t *ix = by_key ? p->by_key : p->by_name;
    uint32_t h = by_key ? key_hash(p->cfg, i) : name_hash(p->cfg, i);
    size_t s = slot_of(p, ix, h, i, by_key ? same_key : same_name);
    if (ix[s])
        return ix[s] - 1 == i ? -1 : (long)ix[s] - 1;
    if (add)
        ix[s] = (uint32_t)i + 1;
    return -1;
}

/* Rebuilds both indexes for 2 x cap slots (a power of two). */
static int index_room(parse_t *p, size_t cap)
{
    size_t slots = 16;
    while (slots < 2 * cap)
        slots *= 2;
    uint32_t *n = calloc(slots, sizeof *n), *k = calloc(slots, sizeof *k);
    if (!n || !k) {
        free(n);
        free(k);
        return -1;
    }
    free(p->by_name);
    free(p->by_key);
    p->by_name = n;
    p->by_key = k;
    p->slots = slots;
    for (size_t i = 0; i < p->cfg->n_peers; i++) {
        seen_before(p, 0, i, true);
        if (p->lines[i].key[PK_PUBLIC_KEY])
            seen_before(p, 1, i, true);
    }
    return 0;
}

static int add_peer(parse_t *p, const char *name)
{
    config_t *c = p->cfg;
    if (c->n_peers == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        config_peer_t *peers = realloc(c->peers, cap * sizeof *peers);
        if (peers)
            c->peers = peers;
        peer_lines_t *lines = realloc(p->lines, cap * sizeof *lines);
        if (lines)
            p->lines = lines;
        if (!peers || !lines || index_room(p, cap) != 0) {
            fail(p, CONFIG_ERR_NOMEM, p->line, p->label, NULL, "out of memory");
            return -1;
        }
        p->cap = cap;
    }
    config_peer_t *peer = &c->peers[c->n_peers];
    memset(peer, 0, sizeof *peer);
    memset(&p->lines[c->n_peers], 0, sizeof p->lines[0]);
    snprintf(peer->name, sizeof peer->name, "%s", name);
    p->lines[c->n_peers].section = p->line;
    c->n_peers++;
    return 0;
}

static int peer_section(parse_t *p, const char *name, size_t len)
{
    char reason[128];
    if (len >= CONFIG_MAX_NAME) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->label, NULL,
             "peer name too long (%zu bytes, at most %d)", len, CONFIG_MAX_NAME - 1);
        return -1;
    }
    if (config_check_peer_name(name, reason, sizeof reason) != 0) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->label, NULL, "peer name %s", reason);
        return -1;
    }
    if (p->cfg->n_peers >= CONFIG_MAX_PEERS) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->label, NULL, "more than %d peers",
             CONFIG_MAX_PEERS);
        return -1;
    }
    p->sect = SECT_PEER;
    snprintf(p->label, sizeof p->label, "[peer \"%s\"]", name);
    if (add_peer(p, name) != 0)
        return -1;
    long first = seen_before(p, 0, p->cfg->n_peers - 1, true);
    if (first >= 0) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->label, NULL,
             "duplicate peer name (first at line %d)", p->lines[first].section);
        return -1;
    }
    return 0;
}

/* [network "NAME"]: the coordinators this node trusts for that network. */
static int network_section(parse_t *p, const char *name, size_t len)
{
    config_t *c = p->cfg;
    if (len > EVENT_MAX_NETWORK || !event_network_valid(name)) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->label, NULL, "'%.64s' is not a network name",
             name);
        return -1;
    }
    for (size_t i = 0; i < c->n_netdefs; i++)
        if (strcmp(c->netdefs[i].name, name) == 0) {
            fail(p, CONFIG_ERR_INVALID, p->line, p->label, NULL, "duplicate network section");
            return -1;
        }
    if (c->n_netdefs >= CONFIG_MAX_NETWORKS) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->label, NULL, "more than %d network sections",
             CONFIG_MAX_NETWORKS);
        return -1;
    }
    memset(&c->netdefs[c->n_netdefs], 0, sizeof c->netdefs[0]);
    snprintf(c->netdefs[c->n_netdefs].name, sizeof c->netdefs[0].name, "%.64s", name);
    c->n_netdefs++;
    p->sect = SECT_NETWORK;
    p->network_key = 0;
    snprintf(p->label, sizeof p->label, "[network \"%s\"]", name);
    return 0;
}

static int network_set(parse_t *p, const char *key, const char *v, char *reason, size_t rlen)
{
    config_netdef_t *d = &p->cfg->netdefs[p->cfg->n_netdefs - 1];
    char item[KEYS_PUB_STR_SIZE + 8];
    if (strcmp(key, "coordinators") != 0) {
        snprintf(reason, rlen, "unknown key (known: coordinators)");
        return -1;
    }
    if (p->network_key) {
        snprintf(reason, rlen, "duplicate key (first at line %d)", p->network_key);
        return -1;
    }
    p->network_key = p->line;
    for (const char *s = v; *s;) {
        size_t n = strcspn(s, ",");
        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        size_t m = n;
        while (m && (s[m - 1] == ' ' || s[m - 1] == '\t'))
            m--;
        snprintf(item, sizeof item, "%.*s", (int)(m < sizeof item ? m : sizeof item - 1), s);
        if (d->n_coordinators >= CONFIG_MAX_COORDINATORS) {
            snprintf(reason, rlen, "more than %d coordinators", CONFIG_MAX_COORDINATORS);
            return -1;
        }
        if (keys_pub_decode(d->coordinators[d->n_coordinators], item) != KEYS_OK) {
            snprintf(reason, rlen, "'%.50s' is not a lernet public key", item);
            return -1;
        }
        d->n_coordinators++;
        s += n;
        if (*s == ',')
            s++;
    }
    if (d->n_coordinators == 0) {
        snprintf(reason, rlen, "at least one coordinator key is needed");
        return -1;
    }
    return 0;
}

static int node_section(parse_t *p)
{
    if (p->node_section) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->label, NULL, "duplicate section (first at line %d)",
             p->node_section);
        return -1;
    }
    p->node_section = p->line;
    p->sect = SECT_NODE;
    return 0;
}

/* What follows "]" may only be a comment. */
static int section_tail_ok(const char *s, const char *e)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    return s == e || *s == ';' || *s == '#';
}

static int unknown_section(parse_t *p)
{
    p->sect = SECT_NONE;
    fail(p, CONFIG_ERR_INVALID, p->line, p->label, NULL,
         "unknown section (expected [node] or [peer \"NAME\"], alone on the line)");
    return -1;
}

/* The rest of a [peer "NAME"] (or [network "NAME"]) line after the word,
 * up to the end e. */
static int peer_header(parse_t *p, const char *r, const char *e, int network)
{
    char nm[CONFIG_MAX_NAME];
    while (r < e && (*r == ' ' || *r == '\t'))
        r++;
    if (r == e || *r != '"')
        return unknown_section(p);
    const char *name = r + 1, *endq = memchr(name, '"', (size_t)(e - name));
    if (!endq)
        return unknown_section(p);
    const char *t = endq + 1;
    while (t < e && (*t == ' ' || *t == '\t'))
        t++;
    if (t == e || *t != ']' || !section_tail_ok(t + 1, e))
        return unknown_section(p);
    size_t n = (size_t)(endq - name);
    snprintf(nm, sizeof nm, "%.*s", (int)(n < sizeof nm ? n : sizeof nm - 1), name);
    return network ? network_section(p, nm, n) : peer_section(p, nm, n);
}

/* A "[...]" line, trimmed, [s, e). Accepts [node] and [peer "NAME"]. */
static int section_line(parse_t *p, const char *s, const char *e)
{
    char raw[LABEL_SIZE + 4], shown[TEXT_SHOW_SIZE(SHOW_MAX)];
    const char *close = memchr(s, ']', (size_t)(e - s));
    snprintf(raw, sizeof raw, "%.*s", (int)((close ? close + 1 : e) - s), s);
    snprintf(p->label, sizeof p->label, "%s", text_show(shown, sizeof shown, raw));
    const char *q = s + 1;
    while (q < e && (*q == ' ' || *q == '\t'))
        q++;
    if (e - q >= 4 && memcmp(q, "node", 4) == 0) {
        const char *r = q + 4;
        while (r < e && (*r == ' ' || *r == '\t'))
            r++;
        if (r < e && *r == ']' && section_tail_ok(r + 1, e)) {
            snprintf(p->label, sizeof p->label, "[node]");
            return node_section(p);
        }
    } else if (e - q > 4 && memcmp(q, "peer", 4) == 0 && (q[4] == ' ' || q[4] == '\t')) {
        return peer_header(p, q + 4, e, 0);
    } else if (e - q > 7 && memcmp(q, "network", 7) == 0 && (q[7] == ' ' || q[7] == '\t')) {
        return peer_header(p, q + 7, e, 1);
    }
    return unknown_section(p);
}

/* ---- keys -------------------------------------------------------------- */

static int key_index(const char *const *keys, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (strcmp(keys[i], key) == 0)
            return i;
    return -1;
}

/* Stores v when its check (rc) passed. */
static int keep(int rc, char *dst, size_t size, const char *v)
{
    if (rc == 0)
        snprintf(dst, size, "%s", v);
    return rc;
}

static int node_set(config_t *c, int k, const char *v, char *reason, size_t rlen)
{
    char s[TEXT_SHOW_SIZE(SHOW_MAX)];
    switch (k) {
    case NK_NAME:
        return keep(check_text(v, sizeof c->name, 1, reason, rlen), c->name, sizeof c->name, v);
    case NK_COUNTRY:
        return keep(check_country(v, reason, rlen), c->country, sizeof c->country, v);
    case NK_MUNICIPALITY:
        return keep(check_text(v, sizeof c->municipality, 0, reason, rlen), c->municipality,
                    sizeof c->municipality, v);
    case NK_LISTEN:
        return keep(check_endpoint(v, 0, reason, rlen), c->listen, sizeof c->listen, v);
    case NK_NETWORKS:
        return parse_networks(v, c->networks, &c->n_networks, reason, rlen);
    case NK_DEFAULT:
        if (!event_network_valid(v)) {
            snprintf(reason, rlen, "'%s' is not a network name", text_show(s, sizeof s, v));
            return -1;
        }
        return keep(0, c->default_network, sizeof c->default_network, v);
    case NK_LOG_LEVEL:
        return keep(check_log_level(v, reason, rlen), c->log_level, sizeof c->log_level, v);
    case NK_WEB:
        return keep(check_web(v, reason, rlen), c->web, sizeof c->web, v);
    case NK_WEB_TOKEN:
        return keep(check_text(v, sizeof c->web_token_file, 1, reason, rlen), c->web_token_file,
                    sizeof c->web_token_file, v);
    case NK_WEB_PROXY:
        return parse_yes_no(v, &c->web_behind_proxy, reason, rlen);
    case NK_WEB_LOCALE:
        return keep(check_text(v, sizeof c->web_locale_dir, 1, reason, rlen), c->web_locale_dir,
                    sizeof c->web_locale_dir, v);
    case NK_ATT_KEEP:
        if (strcmp(v, "all") == 0 || strcmp(v, "none") == 0) {
            c->attachments_keep = v[0] == 'a' ? CONFIG_KEEP_ALL : 0;
            c->attachments_keep_set = 1;
            return 0;
        }
        if (parse_mib(v, 1, 1024 * 1024, &c->attachments_keep, reason, rlen) != 0)
            return snprintf(reason + strlen(reason), rlen - strlen(reason),
                            " (or all, or none)"), -1;
        c->attachments_keep_set = 1;
        return 0;
    case NK_ATT_MAX:
        return parse_mib(v, 1, EVENT_MAX_ATTACHMENT_SIZE >> 20, &c->attachment_max, reason, rlen);
    case NK_ATT_QUOTA:
        return parse_mib(v, 1, 1024 * 1024, &c->attachment_quota, reason, rlen);
    default:
        return parse_interval(v, &c->sync_interval_ms, reason, rlen);
    }
}

static int peer_set(parse_t *p, int k, const char *v, char *reason, size_t rlen)
{
    config_peer_t *peer = &p->cfg->peers[p->cfg->n_peers - 1];
    if (k == PK_ENDPOINT) /* empty: it dials us (no listen address of its own, or behind NAT) */
        return keep(check_endpoint(v, 0, reason, rlen), peer->endpoint, sizeof peer->endpoint, v);
    if (k == PK_NETWORKS)
        return parse_networks(v, peer->networks, &peer->n_networks, reason, rlen);
    if (keys_pub_decode(peer->public_key, v) != KEYS_OK) {
        snprintf(reason, rlen, "not a lernet public key (44 base64 characters)");
        return -1;
    }
    long first = seen_before(p, 1, p->cfg->n_peers - 1, true);
    if (first >= 0) {
        snprintf(reason, rlen, "same key as [peer \"%s\"] (line %d)", p->cfg->peers[first].name,
                 p->lines[first].key[PK_PUBLIC_KEY]);
        return -1;
    }
    return 0;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
    parse_t *p = user;
    char reason[384] = "";
    if (p->sect == SECT_NETWORK) {
        if (network_set(p, key, value, reason, sizeof reason) != 0)
            fail(p, CONFIG_ERR_INVALID, p->line, p->label, key, "%s", reason);
        return p->err == 0;
    }
    int peer = p->sect == SECT_PEER;
    const char *const *keys = peer ? peer_keys : node_keys;
    int n = peer ? PK_COUNT : NK_COUNT, k = key_index(keys, n, key);
    int *seen = k < 0 ? NULL : peer ? &p->lines[p->cfg->n_peers - 1].key[k] : &p->node_key[k];
    (void)section; /* truncated by libinih; the reader tracks sections */
    if (p->sect == SECT_NONE)
        fail(p, CONFIG_ERR_INVALID, p->line, NULL, key,
             "outside any section (settings go under [node] or [peer \"NAME\"])");
    else if (k < 0)
        fail(p, CONFIG_ERR_INVALID, p->line, p->label, key, "unknown key (known: %s)",
             peer ? "public_key, endpoint, networks"
                  : "name, country, municipality, listen, networks, default_network, "
                    "log_level, sync_interval_ms, web, web_token_file, web_behind_proxy, "
                    "web_locale_dir, attachments_keep, attachment_max_mib, attachment_quota_mib");
    else if (*seen)
        fail(p, CONFIG_ERR_INVALID, p->line, p->label, key, "duplicate key (first at line %d)",
             *seen);
    else {
        *seen = p->line;
        int rc = peer ? peer_set(p, k, value, reason, sizeof reason)
                      : node_set(p->cfg, k, value, reason, sizeof reason);
        if (rc != 0)
            fail(p, CONFIG_ERR_INVALID, p->line, p->label, key, "%s", reason);
    }
    return p->err == 0;
}

/* ---- reader ------------------------------------------------------------ */

/* libinih's own test for a "key = value" line: '=' or ':' before any " ;". */
static int has_separator(const char *s, const char *e)
{
    int was_space = 0;
    for (; s < e; s++) {
        if (*s == '=' || *s == ':')
            return 1;
        if (was_space && *s == ';')
            return 0;
        was_space = *s == ' ' || *s == '\t' || *s == '\r';
    }
    return 0;
}

/* Gives libinih one physical line per call, so that p->line is the line of
 * whatever the handler is being called for. */
static char *reader(char *buf, int num, void *stream)
{
    parse_t *p = stream;
    if (p->err || p->pos >= p->end || num < 8)
        return NULL;
    const char *s = p->pos, *nl = memchr(s, '\n', (size_t)(p->end - s));
    const char *e = nl ? nl : p->end;
    p->pos = nl ? nl + 1 : p->end;
    p->line++;
    if (memchr(s, '\0', (size_t)(e - s))) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->sect ? p->label : NULL, NULL,
             "contains a NUL byte");
        return NULL;
    }
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    size_t len = (size_t)(e - s);
    if (len == 0 || *s == ';' || *s == '#') {
        snprintf(buf, (size_t)num, "\n");
    } else if (*s == '[') {
        if (section_line(p, s, e) != 0)
            return NULL;
        snprintf(buf, (size_t)num, "[s]\n"); /* the real name is in p */
    } else if (!has_separator(s, e)) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->sect ? p->label : NULL, NULL,
             "expected 'key = value', '[node]' or '[peer \"NAME\"]'");
        return NULL;
    } else if (len + 2 > (size_t)num) {
        fail(p, CONFIG_ERR_INVALID, p->line, p->sect ? p->label : NULL, NULL,
             "line too long (%zu bytes, at most %d)", len, num - 2);
        return NULL;
    } else {
        memcpy(buf, s, len);
        memcpy(buf + len, "\n", 2);
    }
    return buf;
}

/* ---- loading ----------------------------------------------------------- */

static int read_all(parse_t *p, char **out, size_t *outlen)
{
    struct stat st;
    int fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        fail(p, CONFIG_ERR_IO, 0, NULL, NULL, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fail(p, CONFIG_ERR_IO, 0, NULL, NULL, "not a regular file");
    } else if (st.st_size > CONFIG_MAX_FILE) {
        fail(p, CONFIG_ERR_INVALID, 0, NULL, NULL, "file too large (%lld bytes, at most %d)",
             (long long)st.st_size, CONFIG_MAX_FILE);
    } else if (!(*out = malloc(CONFIG_MAX_FILE + 1))) {
        fail(p, CONFIG_ERR_NOMEM, 0, NULL, NULL, "out of memory");
    } else {
        /* read up to one byte past the limit: the file may grow after fstat */
        *outlen = 0;
        ssize_t n;
        while (*outlen <= CONFIG_MAX_FILE &&
               (n = read(fd, *out + *outlen, CONFIG_MAX_FILE + 1 - *outlen)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                fail(p, CONFIG_ERR_IO, 0, NULL, NULL, "cannot read: %s", strerror(errno));
                break;
            }
            *outlen += (size_t)n;
        }
        if (!p->err && *outlen > CONFIG_MAX_FILE)
            fail(p, CONFIG_ERR_INVALID, 0, NULL, NULL, "file too large (at most %d bytes)",
                 CONFIG_MAX_FILE);
    }
    close(fd);
    return p->err ? -1 : 0;
}

static void check_node(parse_t *p)
{
    config_t *c = p->cfg;
    static const int required[] = {NK_NAME, NK_COUNTRY, NK_NETWORKS};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!p->node_key[required[i]])
            fail(p, CONFIG_ERR_INVALID, p->node_section, "[node]", node_keys[required[i]],
                 "missing (required)");
    if (!c->default_network[0] && c->n_networks)
        snprintf(c->default_network, sizeof c->default_network, "%s", c->networks[0]);
    else if (c->default_network[0] && !config_has_network(c, c->default_network))
        fail(p, CONFIG_ERR_INVALID, p->node_key[NK_DEFAULT], "[node]", "default_network",
             "'%s' is not one of the node's networks", c->default_network);
    if (!c->log_level[0])
        snprintf(c->log_level, sizeof c->log_level, "info");
    if (!c->sync_interval_ms)
        c->sync_interval_ms = INTERVAL_DEFAULT;
    if (!c->attachments_keep_set)
        c->attachments_keep = CONFIG_KEEP_DEFAULT;
    if (!c->attachment_max)
        c->attachment_max = EVENT_MAX_ATTACHMENT_SIZE;
    if (!c->attachment_quota)
        c->attachment_quota = CONFIG_QUOTA_DEFAULT;
    if (!c->web[0]) {
        snprintf(c->web, sizeof c->web, CONFIG_WEB_DEFAULT);
        c->web_defaulted = 1;
    }
    /* Anyone who can reach a non-loopback address could read and publish. */
    if (strcmp(c->web, "off") != 0 && !config_web_local(c) && !c->web_token_file[0])
        fail(p, CONFIG_ERR_INVALID, p->node_key[NK_WEB], "[node]", "web",
             "%s is not a loopback address: set web_token_file (a file holding a secret of "
             "at least 32 characters, mode 0600) so that only those with it get in", c->web);
    /* Behind a proxy every visitor arrives from loopback: only the token tells them apart. */
    if (c->web_behind_proxy && !c->web_token_file[0])
        fail(p, CONFIG_ERR_INVALID, p->node_key[NK_WEB_PROXY], "[node]", "web_behind_proxy",
             "yes needs web_token_file: every visitor then signs in with the token");
}

static void check_peer(parse_t *p, size_t i)
{
    const config_peer_t *peer = &p->cfg->peers[i];
    const peer_lines_t *l = &p->lines[i];
    char label[LABEL_SIZE];
    snprintf(label, sizeof label, "[peer \"%s\"]", peer->name);
    for (int k = 0; k < PK_COUNT; k++)
        if (!l->key[k] && k != PK_ENDPOINT)
            fail(p, CONFIG_ERR_INVALID, l->section, label, peer_keys[k], "missing (required)");
    /* a partner without an endpoint must dial us: it can only if we listen */
    if (!peer->endpoint[0] && !p->cfg->listen[0])
        fail(p, CONFIG_ERR_INVALID, l->key[PK_ENDPOINT] ? l->key[PK_ENDPOINT] : l->section, label,
             "endpoint", "empty, and [node] listen is empty too: neither node could dial the "
                         "other (give its endpoint, or set listen)");
    for (size_t j = 0; j < peer->n_networks; j++)
        if (!config_has_network(p->cfg, peer->networks[j]))
            fail(p, CONFIG_ERR_INVALID, l->key[PK_NETWORKS], label, "networks",
                 "'%s' is not one of the node's networks ([node] networks)", peer->networks[j]);
}

/* Rules that need the whole file; the earliest line among them wins. */
static void check_all(parse_t *p)
{
    if (!p->node_section) {
        fail(p, CONFIG_ERR_INVALID, 0, NULL, NULL,
             "missing [node] section (name, country, networks, ...)");
        return;
    }
    p->final = 1;
    check_node(p);
    for (size_t i = 0; i < p->cfg->n_peers; i++)
        check_peer(p, i);
}

static void parse(parse_t *p, const char *text, size_t len)
{
    p->pos = text;
    p->end = text + len;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        p->pos += 3; /* a UTF-8 byte order mark, as some editors write */
    int rc = ini_parse_stream(reader, p, handler, p);
    if (rc == -2)
        fail(p, CONFIG_ERR_NOMEM, 0, NULL, NULL, "out of memory");
    else if (rc != 0) /* only if the reader's checks missed something */
        fail(p, CONFIG_ERR_INVALID, rc > 0 ? rc : p->line, NULL, NULL, "syntax error");
    if (!p->err)
        check_all(p);
}

/* What a parse allocated besides the config it fills. */
static void parse_free(parse_t *p)
{
    free(p->lines);
    free(p->by_name);
    free(p->by_key);
    p->lines = NULL;
    p->by_name = p->by_key = NULL;
}

int config_load(config_t **out, const char *path, char *why, size_t whylen)
{
    parse_t p = {.path = path ? path : "(null)", .why = why, .whylen = whylen};
    char *text = NULL;
    size_t len = 0;
    if (why && whylen)
        why[0] = '\0';
    if (!out || !path) {
        fail(&p, CONFIG_ERR_INVALID, 0, NULL, NULL, "no path");
        return p.err;
    }
    if (keys_init() != KEYS_OK) {
        fail(&p, CONFIG_ERR_NOMEM, 0, NULL, NULL, "libsodium initialisation failed");
        return p.err;
    }
    if (!(p.cfg = calloc(1, sizeof *p.cfg))) {
        fail(&p, CONFIG_ERR_NOMEM, 0, NULL, NULL, "out of memory");
        return p.err;
    }
    if (read_all(&p, &text, &len) == 0)
        parse(&p, text, len);
    free(text);
    parse_free(&p);
    if (p.err) {
        config_free(&p.cfg);
        return p.err;
    }
    *out = p.cfg;
    return CONFIG_OK;
}

void config_free(config_t **c)
{
    if (!c || !*c)
        return;
    free((*c)->peers);
    free(*c);
    *c = NULL;
}

/* ---- queries ----------------------------------------------------------- */

int config_has_network(const config_t *c, const char *network)
{
    return c && network && list_has(c->networks, c->n_networks, network);
}

const config_peer_t *config_peer_by_key(const config_t *c, const uint8_t key[KEYS_PUBLIC_BYTES])
{
    if (!c || !key)
        return NULL;
    for (size_t i = 0; i < c->n_peers; i++)
        if (memcmp(c->peers[i].public_key, key, KEYS_PUBLIC_BYTES) == 0)
            return &c->peers[i];
    return NULL;
}

int config_peer_has_network(const config_peer_t *p, const char *network)
{
    return p && network && list_has(p->networks, p->n_networks, network);
}

/* ---- writing a new file ------------------------------------------------- */

static const char new_config[] =
    "# lernet.ini: configuration of this lernet node, written by `lernet init`.\n"
    "# Check it after a change with `lernet config check`; the node refuses to\n"
    "# start on any error and names the line, section and key that are wrong.\n"
    "#\n"
    "# Lines starting with '#' or ';' are comments; after a value, \" ;\" starts a\n"
    "# comment too. Unknown sections and keys are errors, each key may appear\n"
    "# once per section, and a setting line may be at most 198 bytes long.\n"
    "# Text is UTF-8; network names are 1-64 of a-z 0-9 '.' '_' '-'.\n"
    "\n"
    "[node]\n"
    "# The organisation running this node, as partners see it. Required.\n"
    "name = %s\n"
    "# ISO 3166-1 alpha-2 country code (SE, DK, FI, DE, ...). Required.\n"
    "country = %s\n"
    "# Municipality, shown with the name. Optional: may be left empty.\n"
    "municipality =%s%s\n"
    "# ZeroMQ endpoint partners connect to: tcp://HOST:PORT or ipc://PATH.\n"
    "# Only keys listed as peers below are let in. Empty: do not listen (a\n"
    "# node behind NAT): it then dials its partners, and syncs both ways all\n"
    "# the same.\n"
    "listen =%s%s\n"
    "# Networks this node takes part in, comma-separated (at least one).\n"
    "# Events are only shared inside their network, with peers listed for it.\n"
    "networks = %s\n"
    "# Network used by `lernet publish` when none is given; one of networks.\n"
    "default_network = %s\n"
    "# error, warn, info or debug.\n"
    "log_level = info\n"
    "# Milliseconds between synchronisation rounds with each partner (100-3600000).\n"
    "sync_interval_ms = 2000\n"
    "# The node's web page for staff (calendar, publishing, health): HOST:PORT or\n"
    "# off. Off loopback (127.x) it needs web_token_file = PATH too: a file of\n"
    "# at least 32 secret characters, mode 0600, that visitors must present.\n"
    "# Behind a reverse proxy on this machine set web_behind_proxy = yes: the\n"
    "# proxy's requests come from loopback, so every visitor must sign in.\n"
    "web = %s\n"
    "\n"
    "# One section per partner node; the quoted name is a label for logs.\n"
    "#   public_key  the partner's key as `lernet keys show` prints it (required)\n"
    "#   endpoint    tcp://HOST:PORT or ipc://PATH to reach it; empty or left\n"
    "#               out: it dials this node (it has no listen address of its\n"
    "#               own, or sits behind NAT), which then needs listen above\n"
    "#   networks    networks shared with this partner, each one of the node's\n"
    "#               networks above (required)\n"
    "# Example (remove the '# ' and put in your partner's real key):\n"
    "#\n"
    "# [peer \"Roskilde Handelsskole\"]\n"
    "# public_key = 31L0tLV6rf4B9AaCLI5knukrBfH5jqLqwbCgAvfdW1w=\n"
    "# endpoint = tcp://lernet.roskilde-handelsskole.example:7400\n"
    "# networks = %s\n";

/* A value libinih would read back differently (trimmed, or cut at " ;"). */
static int ini_unsafe(const char *v)
{
    size_t n = strlen(v);
    if (n && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        return 1;
    if (v[0] == ';')
        return 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] == ';' && (v[i - 1] == ' ' || v[i - 1] == '\t'))
            return 1;
    return 0;
}

static int check_new(parse_t *p, const char *name, const char *country, const char *municipality,
                     const char *listen, const char *network)
{
    char r[256] = "";
    if (check_text(name, CONFIG_MAX_NAME, 1, r, sizeof r) || ini_unsafe(name))
        fail(p, CONFIG_ERR_INVALID, 0, "[node]", "name", "%s",
             r[0] ? r : "must not have surrounding spaces or \" ;\"");
    else if (check_country(country, r, sizeof r))
        fail(p, CONFIG_ERR_INVALID, 0, "[node]", "country", "%s", r);
    else if (check_text(municipality, CONFIG_MAX_NAME, 0, r, sizeof r) || ini_unsafe(municipality))
        fail(p, CONFIG_ERR_INVALID, 0, "[node]", "municipality", "%s",
             r[0] ? r : "must not have surrounding spaces or \" ;\"");
    else if (check_endpoint(listen, 0, r, sizeof r))
        fail(p, CONFIG_ERR_INVALID, 0, "[node]", "listen", "%s", r);
    else if (!event_network_valid(network))
        fail(p, CONFIG_ERR_INVALID, 0, "[node]", "networks", "not a network name");
    return p->err;
}

/* The text must load back exactly as config_load will read it (this also
 * catches values too long for a line, and a file grown past the limit);
 * check, if given, then sees that very config. */
static int check_written(parse_t *p, const char *text, size_t len, config_check_fn check,
                         void *check_ctx)
{
    parse_t chk = {.path = p->path, .why = p->why, .whylen = p->whylen};
    if (len > CONFIG_MAX_FILE) {
        fail(p, CONFIG_ERR_INVALID, 0, NULL, NULL, "would grow too large (%zu bytes, at most %d)",
             len, CONFIG_MAX_FILE);
        return p->err;
    }
    if (!(chk.cfg = calloc(1, sizeof *chk.cfg))) {
        fail(p, CONFIG_ERR_NOMEM, 0, NULL, NULL, "out of memory");
        return p->err;
    }
    parse(&chk, text, len);
    parse_free(&chk);
    if (!chk.err && check && check(check_ctx, chk.cfg, p->why, p->whylen) != 0)
        chk.err = CONFIG_ERR_INVALID;
    config_free(&chk.cfg);
    p->err = chk.err;
    return p->err;
}

/* text as the file's whole content, 0600 (it names the node's partners
 * and files), through the node's one atomic writer (node/fileio.h). */
static int write_all(parse_t *p, const char *text, size_t len, int flags)
{
    char w[512] = "";
    int rc = fileio_write_atomic(p->path, text, len, 0600, flags, w, sizeof w);
    if (rc == FILEIO_ERR_EXISTS) {
        fail(p, CONFIG_ERR_IO, 0, NULL, NULL, "exists; refusing to overwrite it");
    } else if (rc != FILEIO_OK && !p->err) {
        p->err = CONFIG_ERR_IO; /* fileio's reason names the path already */
        if (p->why && p->whylen)
            snprintf(p->why, p->whylen, "%s", w);
    }
    return p->err;
}

int config_write_new(const char *path, const char *name, const char *country,
                     const char *municipality, const char *listen, const char *web,
                     const char *network, char *why, size_t whylen)
{
    parse_t p = {.path = path ? path : "(null)", .why = why, .whylen = whylen};
    if (why && whylen)
        why[0] = '\0';
    if (!path || !name || !country || !network) {
        fail(&p, CONFIG_ERR_INVALID, 0, NULL, NULL, "missing argument");
        return p.err;
    }
    municipality = municipality ? municipality : "";
    listen = listen ? listen : "";
    web = web ? web : CONFIG_WEB_DEFAULT;
    if (check_new(&p, name, country, municipality, listen, network))
        return p.err;
    char *text = NULL;
    int len = asprintf(&text, new_config, name, country, municipality[0] ? " " : "", municipality,
                       listen[0] ? " " : "", listen, network, network, web, network);
    if (len < 0) {
        fail(&p, CONFIG_ERR_NOMEM, 0, NULL, NULL, "out of memory");
        return p.err;
    }
    if (check_written(&p, text, (size_t)len, NULL, NULL) == 0)
        write_all(&p, text, (size_t)len, FILEIO_NOREPLACE);
    free(text);
    return p.err;
}

/* ---- editing ----------------------------------------------------------- */

/* The [node] "networks" line of text rebuilt with net added, or NULL. */
static char *with_network(const char *text, const config_t *c, const char *net)
{
    const char *line = text, *sect = NULL;
    char list[CONFIG_MAX_NETWORKS * (EVENT_MAX_NETWORK + 2) + 1] = "";
    for (size_t i = 0; i < c->n_networks; i++) {
        strcat(list, c->networks[i]);
        strcat(list, ", ");
    }
    strcat(list, net);
    while (line && *line) {
        const char *s = line, *nl = strchr(line, '\n');
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '[')
            sect = s;
        else if (sect && strncmp(sect, "[node]", 6) == 0 && strncmp(s, "networks", 8) == 0 &&
                 (s[8] == ' ' || s[8] == '\t' || s[8] == '=')) {
            char *out = NULL;
            int len = asprintf(&out, "%.*snetworks = %s%s", (int)(line - text), text, list,
                               nl ? nl : "\n");
            return len < 0 ? NULL : out;
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

int config_edit(const char *path, const char *add_network, const char *append, char *why,
                size_t whylen)
{
    return config_edit_checked(path, add_network, append, NULL, NULL, why, whylen);
}

int config_edit_checked(const char *path, const char *add_network, const char *append,
                        config_check_fn check, void *check_ctx, char *why, size_t whylen)
{
    parse_t p = {.path = path, .why = why, .whylen = whylen};
    config_t *c = NULL;
    char *text = NULL, *edited = NULL;
    size_t len = 0;
    if (why && whylen)
        why[0] = '\0';
    if (config_load(&c, path, why, whylen) != CONFIG_OK)
        return CONFIG_ERR_INVALID;
    if (read_all(&p, &text, &len) != 0)
        goto done;
    text[len] = '\0';
    if (add_network && !config_has_network(c, add_network)) {
        if (c->n_networks >= CONFIG_MAX_NETWORKS || !(edited = with_network(text, c, add_network))) {
            fail(&p, CONFIG_ERR_INVALID, 0, "[node]", "networks",
                 "cannot add '%s' (no networks line, or %d networks already)", add_network,
                 CONFIG_MAX_NETWORKS);
            goto done;
        }
        free(text);
        text = edited;
        edited = NULL;
    }
    if (append && asprintf(&edited, "%s%s%s", text,
                           text[0] && text[strlen(text) - 1] != '\n' ? "\n" : "", append) < 0) {
        fail(&p, CONFIG_ERR_NOMEM, 0, NULL, NULL, "out of memory");
        goto done;
    }
    if (edited) {
        free(text);
        text = edited;
        edited = NULL;
    }
    if (check_written(&p, text, strlen(text), check, check_ctx) != 0)
        goto done;
    /* a whole new file renamed over the old one: never half an edit */
    write_all(&p, text, strlen(text), 0); /* fileio: rename, then the directory synced */
done:
    free(text);
    free(edited);
    config_free(&c);
    return p.err;
}
