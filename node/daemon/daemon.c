/*
 * daemon: `lernet run`. One poll loop over every socket the node has:
 * the ZAP handler, the ROUTER partners connect to, one DEALER (and its
 * monitor) per configured partner with an endpoint (one without dials us),
 * and the local control socket. Handlers are short; the sync module does
 * the protocol work, dial.c decides when to try an unreachable partner
 * again and what to log.
 */
#include "daemon/daemon.h"
#include "store/publish.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "daemon/control.h"
#include "daemon/dial.h"
#include "daemon/keymap.h"
#include "keys/keystore.h"
#include "util/log.h"
#include "util/text.h"
#include "daemon/net.h"
#include "store/attach.h"
#include "store/publish.h"
#include "sync/sync.h"
#include "web/web.h"

/* Set by the signal handler; the only process-wide state, since a signal
 * handler can reach nothing else. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct daemon {
    const config_t *cfg;  /* = own_cfg: configured partners, then admitted members */
    config_t *own_cfg;    /* a copy whose peers array grows as members are admitted */
    size_t peer_cap;      /* room in own_cfg->peers and peer_x25519 */
    size_t n_dialed;      /* the configured partners: those with an endpoint have a DEALER */
    store_t *st;
    const keys_transport_t *k;      /* CurveZMQ under the node's identity */
    publish_signer_t signer;        /* signs what this node publishes */
    keys_identity_t *own_signing;   /* a signing key loaded by reload-signer (owned) */
    const char *home;
    void *zctx, *zap, *router, *control;
    void **dealers, **monitors; /* per configured partner; NULL: no endpoint, it dials us */
    uint8_t (*peer_x25519)[32];
    keymap_t *keys;        /* every transport key this node knows (see known_key) */
    uint64_t keys_version; /* store_authz_version when keys was built */
    int64_t refusal_window_ms;
    uint64_t refusals_logged, refusals_unlogged;
    sync_t *sync;
    web_t *web; /* the web page, NULL when off */
    int64_t started_ms;
    uint64_t authz;   /* store_authz_version when partners' rights were last derived */
    struct coalesce { /* see COALESCE_WAKES */
        int64_t window_ms;
        unsigned thin; /* ROUTER wake-ups in the window that found one or two requests */
        bool on;
    } co;
    uint8_t *attached; /* per configured partner: its DEALER is connected to its endpoint */
    dial_t *dial;      /* per configured partner: attempts to reach it */
    json_t *held_req;  /* a control request that waits for the loop (see serve_control) */
    bool between;      /* in io_between: in the middle of a store, only reads may run */
} daemon_t;

/* ---- sync_io ---------------------------------------------------------- */

static int io_send_client(void *ctx, size_t peer, const uint8_t *buf, size_t len)
{
    daemon_t *d = ctx;
    if (peer >= d->n_dialed || !d->dealers[peer])
        return NET_ERR_AGAIN; /* it dials us: sync never has a client of ours to send on */
    return net_send(d->dealers[peer], NULL, 0, buf, len);
}

static int io_send_server(void *ctx, const uint8_t *rid, size_t rid_len, const uint8_t *buf,
                          size_t len)
{
    daemon_t *d = ctx;
    int rc = net_send(d->router, rid, rid_len, buf, len);
    if (rc != NET_OK)
        log_debug("reply to a partner dropped: %s", zmq_strerror(zmq_errno()));
    return rc;
}

/* ---- who may connect ------------------------------------------------ */

/* 1 if id may take part with this node in net: a network of this node that
 * is open, or managed with id a current member there. */
static int allowed_in(daemon_t *d, const char *net, const uint8_t id[KEYS_PUBLIC_BYTES],
                      int64_t now)
{
    return config_has_network(d->cfg, net) &&
           (!store_managed(d->st, net) || store_is_member(d->st, net, id, now));
}

/* The admission rule, the one place it is decided: the ZAP handler asks it
 * at every handshake, and whatever re-checks open sessions when membership
 * changes must ask it too. The node with identity id may be connected now
 * while its identity is not revoked and
 *  - p, a partner (configured, or a member admitted before): one of p's
 *    networks allows it (allowed_in);
 *  - p NULL, a node lernet.ini does not name: it is a current member of at
 *    least one of this node's managed networks (open networks never let
 *    such a node in). Those networks go into nets->networks (nets may be
 *    NULL).
 * Returns 1 or 0; on 0, *why says why, for the log. Reads the store only
 * (a few lookups by key), changes nothing. */
static int may_connect(daemon_t *d, const uint8_t id[KEYS_PUBLIC_BYTES], const config_peer_t *p,
                       config_peer_t *nets, const char **why)
{
    int64_t now = event_now_ms();
    size_t n = 0;
    if (store_author_revoked(d->st, id) == 1) {
        *why = "its identity was revoked";
        return 0;
    }
    if (p) {
        for (size_t i = 0; i < p->n_networks; i++)
            if (allowed_in(d, p->networks[i], id, now))
                return 1;
        *why = "not a current member of any network shared with it";
        return 0;
    }
    for (size_t i = 0; i < d->cfg->n_networks; i++) {
        const char *net = d->cfg->networks[i];
        if (!store_managed(d->st, net) || !store_is_member(d->st, net, id, now))
            continue;
        if (nets && n < CONFIG_MAX_NETWORKS)
            snprintf(nets->networks[n], sizeof nets->networks[0], "%s", net);
        n++;
    }
    if (nets)
        nets->n_networks = n < CONFIG_MAX_NETWORKS ? n : CONFIG_MAX_NETWORKS;
    *why = "not a current member of a managed network this node takes part in";
    return n > 0;
}

/* ---- the transport keys this node knows ----------------------------- */

/* d->keys maps the X25519 key of every partner (configured, or admitted)
 * and of every coordinator and member of this node's managed networks to
 * its identity, so that a handshake costs one lookup, not a conversion of
 * every member key. It is rebuilt when a key is not in it and the store's
 * membership may have changed since it was built. */
static int add_identity(void *ctx, const store_member_t *m)
{
    daemon_t *d = ctx;
    uint8_t x[32];
    if (keys_curve_public(x, m->key) == KEYS_OK && !keymap_put(d->keys, x, m->key, -1)) {
        log_warn("more than %u partners and members: the rest cannot connect", KEYMAP_MAX);
        return 1;
    }
    return 0;
}

static void rebuild_keys(daemon_t *d)
{
    keymap_clear(d->keys);
    d->keys_version = store_authz_version(d->st);
    for (size_t i = 0; i < d->cfg->n_peers; i++) /* first: a partner's own entry wins */
        keymap_put(d->keys, d->peer_x25519[i], d->cfg->peers[i].public_key, (int)i);
    for (size_t i = 0; i < d->cfg->n_networks; i++)
        if (store_managed(d->st, d->cfg->networks[i]))
            store_members(d->st, d->cfg->networks[i], add_identity, d);
    log_debug("%zu transport keys known", keymap_count(d->keys));
}

static keymap_entry_t *known_key(daemon_t *d, const uint8_t x25519[32])
{
    keymap_entry_t *e = keymap_get(d->keys, x25519);
    if (!e && store_authz_version(d->st) != d->keys_version) {
        rebuild_keys(d);
        e = keymap_get(d->keys, x25519);
    }
    return e;
}

typedef struct member_name_q {
    const uint8_t *key;
    char name[CONFIG_MAX_NAME];
} member_name_q_t;

static int note_member_name(void *ctx, const store_member_t *m)
{
    member_name_q_t *q = ctx;
    if (memcmp(m->key, q->key, KEYS_PUBLIC_BYTES) != 0)
        return 0;
    snprintf(q->name, sizeof q->name, "%s", m->name);
    return 1;
}

/* Room for one more partner in the peers array, its transport keys and
 * sync's tables: grown by doubling, between calls into sync (which reads
 * the array afresh each time). -1: out of memory. */
static int peer_room(daemon_t *d)
{
    config_t *c = d->own_cfg;
    if (c->n_peers < d->peer_cap)
        return d->sync && sync_reserve(d->sync, c->n_peers + 1) != 0 ? -1 : 0;
    size_t cap = d->peer_cap * 2;
    config_peer_t *p = realloc(c->peers, cap * sizeof *p);
    if (!p)
        return -1;
    c->peers = p;
    uint8_t(*x)[32] = realloc(d->peer_x25519, cap * sizeof *x);
    if (!x)
        return -1;
    d->peer_x25519 = x;
    d->peer_cap = cap;
    return d->sync && sync_reserve(d->sync, c->n_peers + 1) != 0 ? -1 : 0;
}

/* A member lernet.ini does not name, admitted as a partner that dials us
 * (no DEALER of ours) in the networks where it is a member: members are
 * not limited by the file. Returns its index, or -1 out of memory. */
static int admit_member(daemon_t *d, keymap_entry_t *e, const config_peer_t *nets)
{
    config_t *c = d->own_cfg;
    member_name_q_t q = {.key = e->id};
    if (peer_room(d) != 0)
        return -1;
    config_peer_t p = *nets;
    char fpr[KEYS_FPR_STR_SIZE];
    store_members(d->st, nets->networks[0], note_member_name, &q);
    keys_fingerprint(fpr, e->id);
    snprintf(p.name, sizeof p.name, "%.100s (%s)", q.name[0] ? q.name : "member", fpr);
    memcpy(p.public_key, e->id, KEYS_PUBLIC_BYTES);
    c->peers[c->n_peers] = p;
    memcpy(d->peer_x25519[c->n_peers], e->x25519, 32);
    e->peer = (int)c->n_peers;
    char key[KEYS_PUB_STR_SIZE];
    keys_pub_encode(key, e->id);
    log_info("admitted %s, key %s: a member of %s%s", p.name, key, p.networks[0],
             p.n_networks > 1 ? " and more" : "");
    return (int)c->n_peers++;
}

/* ---- ZAP ------------------------------------------------------------ */

/* Refusals are logged one by one up to REFUSALS_LOGGED per window, then
 * only counted: a flood of handshakes must not become a flood of log lines
 * that buries everything else. */
#define REFUSALS_LOGGED 20
#define REFUSAL_WINDOW_MS 10000

static void refusal_window(daemon_t *d, int64_t now)
{
    if (now - d->refusal_window_ms < REFUSAL_WINDOW_MS)
        return;
    if (d->refusals_unlogged)
        log_warn("%llu more connections refused in the last %d s (only the first %d of a "
                 "window are logged one by one)",
                 (unsigned long long)d->refusals_unlogged, REFUSAL_WINDOW_MS / 1000,
                 REFUSALS_LOGGED);
    d->refusal_window_ms = now;
    d->refusals_logged = d->refusals_unlogged = 0;
}

static int refuse(daemon_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(daemon_t *d, const char *fmt, ...)
{
    refusal_window(d, event_now_ms());
    if (d->refusals_logged < REFUSALS_LOGGED) {
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        log_warn("%s", line);
        d->refusals_logged++;
    } else {
        d->refusals_unlogged++;
    }
    if (d->sync)
        sync_note_refused_handshake(d->sync);
    return 0;
}

static int allow_partner(void *ctx, const uint8_t x25519[32], const char *addr,
                         char user_id[NET_USER_ID_SIZE])
{
    daemon_t *d = ctx;
    char key[KEYS_PUB_STR_SIZE];
    const char *why = "";
    keymap_entry_t *e = known_key(d, x25519);
    if (!e) {
        /* only the X25519 key is known: it is no `lernet keys show` key */
        sodium_bin2base64(key, sizeof key, x25519, 32, sodium_base64_VARIANT_ORIGINAL);
        return refuse(d, "refused a connection from %s: unknown transport key (X25519) %s: "
                         "not a partner, nor a member of a managed network this node takes "
                         "part in",
                      addr, key);
    }
    const config_peer_t *p = e->peer >= 0 ? &d->cfg->peers[e->peer] : NULL;
    config_peer_t nets = {0};
    keys_pub_encode(key, e->id);
    if (!may_connect(d, e->id, p, &nets, &why))
        return p ? refuse(d, "refused partner %s (%s) from %s: %s", p->name, key, addr, why)
                 : refuse(d, "refused member %s from %s: %s", key, addr, why);
    if (!p && admit_member(d, e, &nets) < 0)
        return refuse(d, "refused member %s from %s: out of memory for another partner (%zu "
                         "now)", key, addr, d->cfg->n_peers);
    /* the partner's index with its key: each message finds its partner
     * in constant time (peer_of_message), however many there are */
    snprintf(user_id, NET_USER_ID_SIZE, "%d:%s", e->peer, key);
    return 1;
}

/* ---- sockets -------------------------------------------------------- */

static int open_partners(daemon_t *d, char *why, size_t whylen)
{
    size_t n = d->n_dialed;
    d->dealers = calloc(n ? n : 1, sizeof *d->dealers);
    d->monitors = calloc(n ? n : 1, sizeof *d->monitors);
    d->attached = calloc(n ? n : 1, 1);
    d->dial = calloc(n ? n : 1, sizeof *d->dial);
    d->peer_x25519 = calloc(d->peer_cap, sizeof *d->peer_x25519);
    if (!d->dealers || !d->monitors || !d->peer_x25519 || !d->attached || !d->dial ||
        keymap_new(&d->keys) != 0) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const config_peer_t *p = &d->cfg->peers[i];
        char mon[64];
        if (keys_curve_public(d->peer_x25519[i], p->public_key) != KEYS_OK) {
            snprintf(why, whylen, "peer '%s': public key has no X25519 form", p->name);
            return -1;
        }
        if (!p->endpoint[0])
            continue; /* it dials us */
        snprintf(mon, sizeof mon, "inproc://monitor-%zu", i);
        d->dealers[i] = net_client_open(d->zctx, d->k, p->public_key, p->endpoint, mon, why,
                                        whylen);
        if (!d->dealers[i] || !(d->monitors[i] = net_monitor_open(d->zctx, mon)))
            return -1;
        d->attached[i] = 1;
    }
    return 0;
}

/* File descriptors: each connection takes one, so a hub needs about one
 * per partner plus the store's and the web page's. The soft limit is
 * raised to the hard one (1,024 is a common soft default; a service may
 * set LimitNOFILE); a limit below what the partners need is said once, at
 * the start, not discovered as connections that silently never come. */
static void fd_room(size_t partners)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return;
    if (r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
        getrlimit(RLIMIT_NOFILE, &r);
    }
    size_t need = 2 * partners + 256;
    if (r.rlim_cur != RLIM_INFINITY && r.rlim_cur < need)
        log_warn("only %llu file descriptors allowed: %zu partners need about %zu (raise "
                 "LimitNOFILE in the service, or ulimit -n); partners past the limit cannot "
                 "connect", (unsigned long long)r.rlim_cur, partners, need);
}

static int open_sockets(daemon_t *d, char *why, size_t whylen)
{
    if (net_check_version(why, whylen) != NET_OK)
        return -1;
    fd_room(d->cfg->n_peers);
    if (!(d->zctx = zmq_ctx_new())) {
        snprintf(why, whylen, "zmq context: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    /* ZeroMQ sockets (not connections): a DEALER and a monitor per partner
     * we dial, and a few more; libzmq's default stops at 1,023 */
    zmq_ctx_set(d->zctx, ZMQ_MAX_SOCKETS, (int)(2 * d->n_dialed + 64));
    /* The ZAP handler must be bound before the ROUTER accepts anyone. */
    if (!(d->zap = net_zap_open(d->zctx, why, whylen)))
        return -1;
    if (d->cfg->listen[0] &&
        !(d->router = net_server_open(d->zctx, d->k, d->cfg->listen, why, whylen)))
        return -1;
    if (!(d->control = control_open(d->zctx, d->home, why, whylen)))
        return -1;
    return open_partners(d, why, whylen);
}

static void close_sockets(daemon_t *d)
{
    char path[4200];
    for (size_t i = 0; d->dealers && i < d->n_dialed; i++) {
        if (d->dealers[i]) {
            zmq_socket_monitor(d->dealers[i], NULL, 0);
            zmq_close(d->dealers[i]);
        }
        if (d->monitors && d->monitors[i])
            zmq_close(d->monitors[i]);
    }
    if (d->router)
        zmq_close(d->router);
    if (d->control)
        zmq_close(d->control);
    if (d->zap)
        zmq_close(d->zap);
    if (d->zctx)
        zmq_ctx_term(d->zctx);
    snprintf(path, sizeof path, "%s/%s", d->home, CONTROL_SOCKET);
    unlink(path);
    free(d->dealers);
    free(d->monitors);
    free(d->attached);
    free(d->dial);
    free(d->peer_x25519);
    keymap_free(&d->keys);
}

/* ---- handlers ------------------------------------------------------- */

/* At most this many messages per socket per loop turn, so one busy
 * partner cannot starve the others or the control socket. A client
 * connection gets fewer: during catch-up every message there is a batch of
 * up to 1,000 events to verify and store, and the next one is already
 * waiting (the request for it left before this one was verified). */
#define TURN_MAX 64
#define CLIENT_TURN_MAX 1

/* The partner a message came from, by the ZAP User-Id allow_partner gave
 * its connection ("INDEX:KEY"): the index, if that partner has that key. */
static int peer_of_message(daemon_t *d, zmq_msg_t *body)
{
    const char *uid = zmq_msg_gets(body, "User-Id"), *colon = uid ? strchr(uid, ':') : NULL;
    uint8_t key[KEYS_PUBLIC_BYTES];
    char *end = NULL;
    long i = colon ? strtol(uid, &end, 10) : -1;
    if (!colon || end != colon || i < 0 || (size_t)i >= d->cfg->n_peers ||
        keys_pub_decode(key, colon + 1) != KEYS_OK ||
        memcmp(d->cfg->peers[i].public_key, key, KEYS_PUBLIC_BYTES) != 0)
        return -1;
    return (int)i;
}

/* Returns how many requests it took. */
static int handle_router(daemon_t *d)
{
    int turn = 0;
    for (; turn < TURN_MAX; turn++) {
        zmq_msg_t rid, body;
        zmq_msg_init(&rid);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&rid, d->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            zmq_msg_close(&body);
            return turn;
        }
        if (zmq_msg_more(&rid) && zmq_msg_recv(&body, d->router, 0) >= 0) {
            int peer = peer_of_message(d, &body);
            /* A sender that appends extra frames is speaking badly: the
             * whole message is drained and dropped, unanswered. */
            while (zmq_msg_more(&body)) {
                zmq_msg_t extra;
                zmq_msg_init(&extra);
                zmq_msg_recv(&extra, d->router, 0);
                int more = zmq_msg_more(&extra);
                zmq_msg_close(&extra);
                peer = -1;
                if (!more)
                    break;
            }
            if (peer >= 0)
                sync_server_recv(d->sync, (size_t)peer, zmq_msg_data(&rid), zmq_msg_size(&rid),
                                 zmq_msg_data(&body), zmq_msg_size(&body), event_now_ms());
        }
        zmq_msg_close(&rid);
        zmq_msg_close(&body);
    }
    return turn;
}

static void handle_dealer(daemon_t *d, size_t peer)
{
    for (int turn = 0; turn < CLIENT_TURN_MAX; turn++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, d->dealers[peer], ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        sync_client_recv(d->sync, peer, zmq_msg_data(&m), zmq_msg_size(&m), event_now_ms());
        zmq_msg_close(&m);
    }
}

/* Connects partner i's DEALER to its endpoint again, or drops it. */
static void attach(daemon_t *d, size_t i)
{
    if (!d->attached[i] && zmq_connect(d->dealers[i], d->cfg->peers[i].endpoint) == 0)
        d->attached[i] = 1;
}

static void detach(daemon_t *d, size_t i)
{
    /* a failed handshake may have ended the connection already (libzmq
     * does not try again after one): then there is nothing to disconnect */
    if (d->attached[i])
        zmq_disconnect(d->dealers[i], d->cfg->peers[i].endpoint);
    d->attached[i] = 0;
}

/* "12 s", "5 min", "3.0 h": for the one line logged when a partner is back. */
static const char *span(char *buf, size_t n, int64_t ms)
{
    if (ms < 120000)
        snprintf(buf, n, "%lld s", (long long)(ms / 1000));
    else if (ms < 7200000)
        snprintf(buf, n, "%lld min", (long long)(ms / 60000));
    else
        snprintf(buf, n, "%.1f h", (double)ms / 3600000.0);
    return buf;
}

/* A try to reach partner i failed: counted, logged only the first time,
 * and after a failed handshake the connection is dropped for a while
 * (libzmq alone would try again at once, for ever). */
static void dial_fail(daemon_t *d, size_t i, bool handshake)
{
    const config_peer_t *p = &d->cfg->peers[i];
    char err[160];
    if (handshake)
        snprintf(err, sizeof err, "it refused our handshake (is this node's key in its "
                                  "lernet.ini, and is it a lernet node?)");
    else
        snprintf(err, sizeof err, "cannot connect to %.100s", p->endpoint);
    int act = dial_failed(&d->dial[i], handshake, err, randombytes_random(), event_now_ms());
    if (act & DIAL_LOG_DOWN)
        log_warn("partner %s unreachable: %s; trying again, backing off up to %d s (logged "
                 "again once it is back)",
                 p->name, err, DIAL_MAX_MS / 1000);
    if (act & DIAL_DETACH)
        detach(d, i);
}

static void handle_monitor(daemon_t *d, size_t peer)
{
    dial_t *dl = &d->dial[peer];
    int ev = net_monitor_read(d->monitors[peer]);
    if (ev == NET_UP) {
        char buf[32];
        unsigned fails = dl->fails;
        int64_t since = dl->down_since_ms;
        if (dial_up(dl, event_now_ms()) & DIAL_LOG_BACK)
            log_info("partner %s reachable again after %s (%u failed tr%s)",
                     d->cfg->peers[peer].name, span(buf, sizeof buf, event_now_ms() - since),
                     fails, fails == 1 ? "y" : "ies");
        sync_client_connected(d->sync, peer, event_now_ms());
    } else if (ev == NET_DOWN) {
        dial_down(dl);
        sync_client_disconnected(d->sync, peer);
    } else if (ev == NET_RETRY) {
        dial_fail(d, peer, false);
    } else if (ev == NET_REFUSED) {
        dial_fail(d, peer, true);
    }
}

/* Partners dropped after a failed handshake whose back-off is over are
 * dialled again; returns the time the next one is due (or `next`). */
static int64_t redial_due(daemon_t *d, int64_t now, int64_t next)
{
    for (size_t i = 0; i < d->n_dialed; i++) {
        if (!d->dealers[i])
            continue;
        if (dial_due(&d->dial[i], now))
            attach(d, i);
        else if (d->dial[i].retry_at_ms && d->dial[i].retry_at_ms < next)
            next = d->dial[i].retry_at_ms;
    }
    return next;
}

static json_t *ctl_error(const char *msg)
{
    return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static json_t *ctl_publish(daemon_t *d, json_t *req)
{
    const char *b64 = json_string_value(json_object_get(req, "payload"));
    const char *net = json_string_value(json_object_get(req, "network"));
    uint8_t *buf = NULL;
    size_t len = 0;
    char why[512] = "", hex[EVENT_ID_HEX_SIZE];
    event_t *ev = NULL;
    if (!b64 || strlen(b64) > CONTROL_MAX_MSG)
        return ctl_error("publish: 'payload' (base64) is required");
    if (net && !config_has_network(d->cfg, net))
        return ctl_error("publish: this node does not take part in that network");
    buf = malloc(strlen(b64));
    if (!buf || sodium_base642bin(buf, strlen(b64), b64, strlen(b64), NULL, &len, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(buf);
        return ctl_error("publish: 'payload' is not base64");
    }
    Lernet__Payload *p = lernet__payload__unpack(NULL, len, buf);
    free(buf);
    if (!p)
        return ctl_error("publish: 'payload' is not a lernet Payload");
    int rc = publish_event(d->st, &d->signer, net, p, &ev, why, sizeof why);
    lernet__payload__free_unpacked(p, NULL);
    if (rc != PUBLISH_OK)
        return ctl_error(why);
    event_id_hex(hex, ev->id);
    log_info("published %s %.16s (seq %llu in %s)", event_kind_name(ev->kind), hex,
             (unsigned long long)ev->seq, ev->network);
    sync_push(d->sync, ev, -1); /* committed above: safe to push */
    json_t *r = json_pack("{s:b,s:s,s:I,s:s,s:s}", "ok", 1, "id", hex, "seq",
                          (json_int_t)ev->seq, "network", ev->network, "kind",
                          event_kind_name(ev->kind));
    event_free(&ev);
    return r;
}

/* An event the CLI stored itself (key events are signed with the identity
 * key, which the daemon does not hold): push it now. */
static json_t *ctl_announce(daemon_t *d, json_t *req)
{
    const char *id = json_string_value(json_object_get(req, "id"));
    char why[256] = "";
    event_t *ev = NULL;
    if (!id || store_get_event(d->st, id, &ev, why, sizeof why) != STORE_OK)
        return ctl_error(why[0] ? why : "announce: 'id' is required");
    sync_push(d->sync, ev, -1);
    event_free(&ev);
    return json_pack("{s:b}", "ok", 1);
}

/* After `lernet keys rotate`: sign with the new key from now on. */
static json_t *ctl_reload_signer(daemon_t *d, json_t *req)
{
    (void)req;
    char why[512] = "", dir[600];
    keys_identity_t *k = NULL;
    snprintf(dir, sizeof dir, "%s/keys", d->home);
    if (keystore_load_as(dir, KEYSTORE_SIGNING, NULL, &k, why, sizeof why) != KEYSTORE_OK)
        return ctl_error(why);
    keys_free(&d->own_signing);
    d->own_signing = k;
    d->signer.key = k;
    char fpr[KEYS_FPR_STR_SIZE];
    keys_fingerprint(fpr, keys_public(k));
    log_info("signing with key %s from now on", fpr);
    return json_pack("{s:b,s:s}", "ok", 1, "signing_key", fpr);
}

static json_t *ctl_status(daemon_t *d, json_t *req)
{
    (void)req;
    store_stats_t st = {0};
    sync_stats_t sy;
    store_stats(d->st, &st);
    sync_get_stats(d->sync, &sy);
    json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "ok", 1,
                     "events",
                     (json_int_t)st.events, "forks", (json_int_t)st.forks, "pending",
                     (json_int_t)st.pending, "logs", (json_int_t)st.logs, "bytes_sent",
                     (json_int_t)sy.bytes_sent, "bytes_received", (json_int_t)sy.bytes_received,
                     "events_refused", (json_int_t)sy.events_refused, "events_received",
                     (json_int_t)sy.events_received, "rounds",
                     (json_int_t)sy.rounds, "rounds_in_sync", (json_int_t)sy.rounds_in_sync,
                     "first_connected_ms", (json_int_t)sy.first_connected_ms,
                     "last_applied_ms", (json_int_t)sy.last_applied_ms, "uptime_ms",
                     (json_int_t)(event_now_ms() - d->started_ms), "refused",
                     sync_refusals_json(d->sync));
    /* what a partner costs: its tables here and in sync (its sessions,
     * each sync_session_bytes, come only while it is connected) */
    json_object_set_new(o, "digests_made", json_integer((json_int_t)sy.digests_made));
    /* what checking received envelopes cost this process (sampled) */
    json_object_set_new(o, "events_parsed", json_integer((json_int_t)sy.events_parsed));
    json_object_set_new(o, "parse_cpu_us", json_integer((json_int_t)(sy.parse_cpu_ns / 1000)));
    json_object_set_new(o, "signatures_verified", json_integer((json_int_t)sy.sigs_verified));
    json_object_set_new(o, "partners", json_integer((json_int_t)d->cfg->n_peers));
    json_object_set_new(o, "bytes_per_partner",
                        json_integer((json_int_t)(sync_peer_bytes() + sizeof(config_peer_t) +
                                                  32 + sizeof(void *) * 2 + sizeof(dial_t) + 1)));
    json_object_set_new(o, "bytes_per_session", json_integer((json_int_t)sync_session_bytes()));
    return o;
}

/* sync's status of each partner, and for those we dial, our tries to
 * reach it: failed ones since it was last up, since when, and why (also
 * its last error while it cannot be reached). */
static json_t *ctl_peers(daemon_t *d, json_t *req)
{
    (void)req;
    int64_t now = event_now_ms();
    json_t *peers = sync_peers_json(d->sync, now), *p;
    size_t i;
    json_array_foreach(peers, i, p) {
        if (i >= d->n_dialed || !d->dealers[i])
            continue;
        const dial_t *dl = &d->dial[i];
        json_object_set_new(p, "failed_tries", json_integer(dl->fails));
        json_object_set_new(p, "unreachable_since_ms",
                            dl->fails ? json_integer(dl->down_since_ms) : json_null());
        json_object_set_new(p, "unreachable_since_ago_ms",
                            dl->fails ? json_integer(now - dl->down_since_ms) : json_null());
        if (dl->fails && dl->error[0])
            json_object_set_new(p, "last_error", json_string(dl->error));
    }
    return json_pack("{s:b,s:o}", "ok", 1, "peers", peers);
}

/* `lernet attachment get`: the file of hash, fetched before any other. */
static json_t *ctl_attachment_fetch(daemon_t *d, json_t *req)
{
    const char *hex = json_string_value(json_object_get(req, "hash"));
    uint8_t hash[EVENT_HASH_BYTES];
    char why[400] = "";
    size_t len = 0;
    if (!hex || strlen(hex) != 2 * EVENT_HASH_BYTES ||
        sodium_hex2bin(hash, sizeof hash, hex, strlen(hex), NULL, &len, NULL) != 0 ||
        len != sizeof hash)
        return ctl_error("attachment-fetch: 'hash' (64 hex digits) is required");
    int rc = sync_attach_fetch(d->sync, hash, event_now_ms(), why, sizeof why);
    if (rc != ATTACH_OK && rc != ATTACH_ERR_ABSENT)
        return json_pack("{s:b,s:s,s:s}", "ok", 0, "error", why, "reason", err_name(rc));
    return json_pack("{s:b,s:s}", "ok", 1, "state", rc == ATTACH_OK ? "here" : "fetching");
}

static json_t *ctl_attachments(daemon_t *d, json_t *req)
{
    (void)req;
    return json_pack("{s:b,s:o}", "ok", 1, "attachments", sync_attach_json(d->sync));
}

/* The control commands, for the CLI (control.h documents them to match)
 * and the web page: a request {"cmd": name, args...} runs the handler,
 * which checks its own fields and replies {"ok":true,...} or ctl_error. */
typedef struct ctl_cmd {
    const char *name;
    const char *args; /* the request's fields besides "cmd" */
    json_t *(*run)(daemon_t *d, json_t *req);
    const char *summary;
    bool anytime; /* it only reads: it may run between the slices of a store */
} ctl_cmd_t;

static const ctl_cmd_t ctl_commands[] = {
    {"publish", "network, payload", ctl_publish,
     "sign a Payload (base64) with the node's signing key, store it, push it", false},
    {"peers", "", ctl_peers, "each partner's connection and sync state (lernet peers)", true},
    {"status", "", ctl_status, "store and sync counters, refusals by reason, uptime", true},
    {"announce", "id", ctl_announce, "push an event the CLI stored itself (key events)", false},
    {"reload-signer", "", ctl_reload_signer,
     "sign with keys/signing.key from now on (after lernet keys rotate)", false},
    {"attachment-fetch", "hash", ctl_attachment_fetch,
     "fetch the attached file of hash (64 hex digits) from partners before any other", false},
    {"attachments", "", ctl_attachments,
     "the attachment transfer: counters, files refused by this node's limits, the fetch under way",
     true},
};
#define N_CTL_COMMANDS (sizeof ctl_commands / sizeof ctl_commands[0])

/* "publish(network, payload), peers, ...": for a request that names none. */
static void ctl_list(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_CTL_COMMANDS && used < len; i++) {
        const ctl_cmd_t *c = &ctl_commands[i];
        int n = snprintf(buf + used, len - used, "%s%s%s%s%s", i ? ", " : "", c->name,
                         c->args[0] ? "(" : "", c->args, c->args[0] ? ")" : "");
        used += n > 0 ? (size_t)n : 0;
    }
}

/* The command req names, or NULL. */
static const ctl_cmd_t *ctl_find(json_t *req)
{
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    for (size_t i = 0; cmd && i < N_CTL_COMMANDS; i++)
        if (strcmp(cmd, ctl_commands[i].name) == 0)
            return &ctl_commands[i];
    return NULL;
}

/* One control command, from the control socket or the web page. */
static json_t *dispatch(daemon_t *d, json_t *req)
{
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    const ctl_cmd_t *c = ctl_find(req);
    char known[256], name[65], msg[400];
    if (c)
        return c->run(d, req);
    ctl_list(known, sizeof known);
    if (cmd) {
        text_escape(name, sizeof name, cmd); /* one line of UTF-8 whatever it holds */
        snprintf(msg, sizeof msg, "unknown command '%s'; the commands: %s", name, known);
    } else
        snprintf(msg, sizeof msg, "'cmd' (a string) is required; the commands: %s", known);
    return ctl_error(msg);
}

/* The web page holds back every request that could write while a store
 * is under way (web_run_between); this keeps the daemon's own rule for
 * the web as for the control socket, should a page ever ask otherwise. */
static json_t *web_control(void *ctx, json_t *req)
{
    daemon_t *d = ctx;
    const ctl_cmd_t *c = ctl_find(req);
    if (d->between && c && !c->anytime)
        return ctl_error("the node is storing a batch: only reading commands run now");
    return dispatch(d, req);
}

static bool control_waiting(daemon_t *d)
{
    int ev = 0;
    size_t len = sizeof ev;
    return zmq_getsockopt(d->control, ZMQ_EVENTS, &ev, &len) == 0 && (ev & ZMQ_POLLIN);
}

/* Answers the control requests waiting, up to TURN_MAX, the one held back
 * first. All of them, not one a turn: a client that gave up (the CLI and
 * the tests wait a few seconds) leaves its request in the REP socket, which
 * hands it out like any other, and a backlog of those got every answer
 * while the live request waited behind them. between: in the middle of a
 * store (sync_io_t.between), where only commands that read may run; the
 * first other one is held back for the loop, and the requests behind it
 * wait with it (REP hands out the next request only after this one's
 * answer). */
static void serve_control(daemon_t *d, bool between)
{
    char err[128];
    for (int turn = 0; turn < TURN_MAX; turn++) {
        json_t *req = d->held_req, *reply;
        d->held_req = NULL;
        if (!req && !control_waiting(d))
            return;
        if (!req && !(req = control_recv(d->control, err, sizeof err))) {
            control_reply(d->control, ctl_error(err));
            continue;
        }
        const ctl_cmd_t *c = ctl_find(req);
        if (between && c && !c->anytime) {
            d->held_req = req;
            return;
        }
        reply = dispatch(d, req);
        control_reply(d->control, reply);
        json_decref(req);
    }
}

/* sync_io_t.between: a long store lets the control socket and the web
 * page be answered, for what only reads (web_run_between holds back the
 * rest for the loop, bounded so that the store keeps going). */
static void io_between(void *ctx)
{
    daemon_t *d = ctx;
    d->between = true;
    serve_control(d, true);
    if (d->web)
        web_run_between(d->web);
    d->between = false;
}

/* The web page, unless off. A busy default port is no reason to stop
 * syncing; a port the operator chose is. */
static int open_web(daemon_t *d, char *why, size_t whylen)
{
    web_env_t env = {d->home, d->cfg, d->st, d->signer.author, web_control, d};
    if (strcmp(d->cfg->web, "off") == 0)
        return 0;
    int rc = web_open(&d->web, &env, why, whylen);
    if (rc == WEB_ERR_LISTEN && d->cfg->web_defaulted) {
        log_warn("%s; running without the web page (set web = HOST:PORT or off in "
                 "lernet.ini)", why);
        return 0;
    }
    if (rc != WEB_OK)
        return -1;
    log_info("web page on http://%s/", d->cfg->web);
    return 0;
}

/* ---- rights under open connections --------------------------------- */

/* Closes every connection partners made to us by opening the ROUTER
 * afresh: libzmq cannot drop one accepted connection, and a partner that
 * lost its rights must not keep one open. The others reconnect at once
 * (their handshakes pass ZAP again); the port may take a moment to be
 * free, so this retries, bounded. */
static void reopen_router(daemon_t *d)
{
    char why[256] = "";
    if (!d->router)
        return;
    zmq_close(d->router);
    d->router = NULL;
    for (int i = 0; i < 100 && !d->router; i++) {
        d->router = net_server_open(d->zctx, d->k, d->cfg->listen, why, sizeof why);
        if (!d->router) {
            struct timespec ts = {0, 10 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (d->router)
        log_info("closed every connection partners made to this node, so that one that lost "
                 "its rights keeps none; the others reconnect");
    else
        log_error("cannot listen again on %s: %s", d->cfg->listen, why);
}

/* After a change of who may do what (store_authz_version moved): rights
 * derived again, and sessions of partners that lost them ended and their
 * connections to us closed. Our own connection to such a partner stays
 * open but carries nothing of ours any more (no rounds, no pushes; sync
 * refuses what it sends) except the statements that tell it why (its own
 * identity revocation, its removal), so that its honest owner learns it. */
static void recheck_rights(daemon_t *d)
{
    uint64_t v = store_authz_version(d->st);
    if (v == d->authz)
        return;
    d->authz = v;
    if (sync_rescope(d->sync, event_now_ms()) > 0)
        reopen_router(d);
}

/* ---- loop ----------------------------------------------------------- */

/* The poll set: ZAP, control, ROUTER, then a monitor and a DEALER for each
 * partner we dial (peer_of[k]: the partner of the k-th pair), then the web
 * page's fd. */
typedef struct pollset {
    zmq_pollitem_t *items;
    size_t n, n_pairs;
    size_t *peer_of;
} pollset_t;

/* A busy hub is woken by nearly every single request, and the context
 * switches between libzmq's I/O thread and this loop cost more than the
 * requests. Once the ROUTER woke it more than COALESCE_WAKES times in a
 * second with one or two requests each, the loop rests COALESCE_MS before
 * it polls again, so requests are taken several at a time (each reply a
 * few ms later); it stops resting once a second passes with fewer. */
#define COALESCE_WAKES 200
#define COALESCE_MS 5

static void note_wake(daemon_t *d, int requests)
{
    int64_t now = event_now_ms();
    if (now - d->co.window_ms >= 1000) {
        d->co.on = d->co.thin > COALESCE_WAKES;
        d->co.thin = 0;
        d->co.window_ms = now;
    }
    d->co.thin += requests > 0 && requests <= 2;
}

static int poll_once(daemon_t *d, const pollset_t *ps, long timeout_ms)
{
    zmq_pollitem_t *items = ps->items;
    size_t n = ps->n;
    int rc = zmq_poll(items, (int)n, timeout_ms);
    if (rc < 0)
        return errno == EINTR ? 0 : -1;
    if (items[0].revents & ZMQ_POLLIN)
        net_zap_handle(d->zap, allow_partner, d);
    refusal_window(d, event_now_ms()); /* the count of unlogged refusals, when due */
    if ((items[1].revents & ZMQ_POLLIN) || d->held_req)
        serve_control(d, false);
    if (d->router && (items[2].revents & ZMQ_POLLIN))
        note_wake(d, handle_router(d));
    for (size_t k = 0; k < ps->n_pairs; k++) {
        if (items[3 + 2 * k].revents & ZMQ_POLLIN)
            handle_monitor(d, ps->peer_of[k]);
        if (items[4 + 2 * k].revents & ZMQ_POLLIN)
            handle_dealer(d, ps->peer_of[k]);
    }
    if (d->web && ((items[n - 1].revents & ZMQ_POLLIN) || web_timeout_ms(d->web) == 0))
        web_run(d->web);
    if (d->held_req) /* held back during a store this turn: it waits no longer */
        serve_control(d, false);
    return 0;
}

static int loop(daemon_t *d)
{
    pollset_t ps = {0};
    for (size_t i = 0; i < d->n_dialed; i++)
        ps.n_pairs += d->dealers[i] != NULL;
    size_t n = 3 + 2 * ps.n_pairs + (d->web != NULL);
    zmq_pollitem_t *items = calloc(n, sizeof *items);
    ps.items = items;
    ps.n = n;
    ps.peer_of = calloc(ps.n_pairs ? ps.n_pairs : 1, sizeof *ps.peer_of);
    if (!items || !ps.peer_of) {
        free(items);
        free(ps.peer_of);
        return -1;
    }
    items[0] = (zmq_pollitem_t){d->zap, 0, ZMQ_POLLIN, 0};
    items[1] = (zmq_pollitem_t){d->control, 0, ZMQ_POLLIN, 0};
    items[2] = (zmq_pollitem_t){d->router, 0, d->router ? ZMQ_POLLIN : 0, 0};
    for (size_t i = 0, k = 0; i < d->n_dialed; i++) {
        if (!d->dealers[i])
            continue;
        ps.peer_of[k] = i;
        items[3 + 2 * k] = (zmq_pollitem_t){d->monitors[i], 0, ZMQ_POLLIN, 0};
        items[4 + 2 * k] = (zmq_pollitem_t){d->dealers[i], 0, ZMQ_POLLIN, 0};
        k++;
    }
    if (d->web) /* a plain fd: MHD's epoll set */
        items[n - 1] = (zmq_pollitem_t){NULL, web_fd(d->web), ZMQ_POLLIN, 0};
    if (!d->router) /* zmq_poll refuses NULL sockets: poll the ZAP socket twice */
        items[2].socket = d->zap, items[2].events = 0;
    int rc = 0;
    d->authz = store_authz_version(d->st);
    while (!stop_requested && rc == 0) {
        recheck_rights(d);
        items[2].socket = d->router ? d->router : d->zap;
        items[2].events = d->router ? ZMQ_POLLIN : 0;
        int64_t now = event_now_ms(), next = redial_due(d, now, sync_tick(d->sync, now));
        int64_t att = sync_attach_due(d->sync, now);
        if (att < next)
            next = att;
        long timeout = next > now ? (long)(next - now) : 0, wt = d->web ? web_timeout_ms(d->web) : -1;
        if (wt >= 0 && wt < timeout)
            timeout = wt;
        if (d->co.on && timeout > 0) {
            struct timespec rest = {0, COALESCE_MS * 1000000L};
            nanosleep(&rest, NULL);
            timeout = timeout > COALESCE_MS ? timeout - COALESCE_MS : 0;
        }
        rc = poll_once(d, &ps, timeout > 1000 ? 1000 : timeout);
        /* Attached files after events: one chunk served per turn, once
         * the event requests that were waiting on the sockets are handled
         * (poll_once took up to TURN_MAX of them). */
        if (rc == 0)
            sync_attach_work(d->sync, event_now_ms());
    }
    free(items);
    free(ps.peer_of);
    return rc;
}

int daemon_run(const char *home, const config_t *cfg, store_t *st, const keys_transport_t *t,
               const keys_identity_t *signing, char *why, size_t whylen)
{
    daemon_t d = {.st = st, .k = t, .home = home, .started_ms = event_now_ms()};
    /* A copy with room for members admitted at the handshake; the peers
     * array grows (peer_room) between calls into sync, which keeps no
     * pointer into it. */
    config_t own = *cfg;
    d.peer_cap = cfg->n_peers > 16 ? cfg->n_peers : 16;
    own.peers = calloc(d.peer_cap, sizeof *own.peers);
    if (!own.peers) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (cfg->n_peers)
        memcpy(own.peers, cfg->peers, cfg->n_peers * sizeof *own.peers);
    d.own_cfg = &own;
    d.cfg = &own;
    d.n_dialed = cfg->n_peers;
    d.signer.key = signing;
    d.signer.author = keys_transport_identity(t);
    d.signer.attachment_max = cfg->attachment_max; /* its own files: the limits it applies */
    d.signer.attachment_quota = cfg->attachment_quota;
    sync_io_t io = {io_send_client, io_send_server, &d, io_between};
    struct sigaction sa = {0};
    int rc = -1;
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    stop_requested = 0;
    if (open_sockets(&d, why, whylen) != 0)
        goto done;
    rebuild_keys(&d);
    if (sync_new(&d.sync, st, d.cfg, &io) != 0 || sync_attachments(d.sync, home) != 0) {
        snprintf(why, whylen, "out of memory");
        goto done;
    }
    if (open_web(&d, why, whylen) != 0)
        goto done;
    log_info("listening on %s, %zu partner%s, network%s:%s%s%s",
             cfg->listen[0] ? cfg->listen : "nothing (this node only dials)",
             cfg->n_peers, cfg->n_peers == 1 ? "" : "s", cfg->n_networks == 1 ? "" : "s",
             cfg->networks[0], cfg->n_networks > 1 ? ", " : "",
             cfg->n_networks > 1 ? cfg->networks[1] : "");
    rc = loop(&d);
    if (rc != 0)
        snprintf(why, whylen, "poll failed: %s", zmq_strerror(zmq_errno()));
    else
        log_info("stopping on signal");
done:
    json_decref(d.held_req);
    web_close(&d.web);
    sync_free(&d.sync);
    close_sockets(&d);
    keys_free(&d.own_signing);
    free(own.peers);
    return rc;
}
