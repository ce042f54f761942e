/*
 * harness_liar: a lying partner for attack tests (see harness_liar.h).
 */
#include "harness/harness_liar.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "keys/keystore.h"
#include "daemon/net.h"
#include "store/attach.h"
#include "store/store.h"
#include "harness/testutil.h"

#include <sys/stat.h>

#define LIAR_MAX_CONNS 8
#define LIAR_WAIT_MS 10000

struct liar {
    /* the lying server (liar_serve) */
    void *zap, *router;
    const char *src_home;
    long lies;
    const hnode_t *self;
    keys_identity_t *k;
    keys_transport_t *t;
    void *ctx;
    void *dealers[LIAR_MAX_CONNS], *monitors[LIAR_MAX_CONNS];
    size_t n_conns;
    unsigned serial;
};

int liar_open(liar_t **out, const hnode_t *self)
{
    char dir[600], why[256];
    liar_t *l = calloc(1, sizeof *l);
    *out = NULL;
    if (!l)
        return -1;
    l->self = self;
    snprintf(dir, sizeof dir, "%s/keys", self->home);
    if (keystore_load(dir, NULL, &l->k, why, sizeof why) != 0 ||
        keys_transport_from_identity(&l->t, l->k) != KEYS_OK || !(l->ctx = zmq_ctx_new())) {
        fprintf(stderr, "liar: cannot take %s's identity: %s\n", self->name, why);
        liar_close(&l);
        return -1;
    }
    *out = l;
    return 0;
}

static void close_conn(liar_t *l, size_t i)
{
    zmq_socket_monitor(l->dealers[i], NULL, 0);
    zmq_close(l->monitors[i]);
    zmq_close(l->dealers[i]);
    memmove(&l->dealers[i], &l->dealers[i + 1], (l->n_conns - i - 1) * sizeof l->dealers[0]);
    memmove(&l->monitors[i], &l->monitors[i + 1], (l->n_conns - i - 1) * sizeof l->monitors[0]);
    l->n_conns--;
}

void liar_close(liar_t **lp)
{
    if (!lp || !*lp)
        return;
    liar_t *l = *lp;
    while (l->n_conns)
        close_conn(l, 0);
    if (l->router)
        zmq_close(l->router);
    if (l->zap)
        zmq_close(l->zap);
    if (l->ctx)
        zmq_ctx_term(l->ctx);
    keys_free(&l->k);
    keys_transport_free(&l->t);
    free(l);
    *lp = NULL;
}

void liar_hang_up(liar_t *l)
{
    if (l->n_conns)
        close_conn(l, 0);
}

static void *newest(liar_t *l)
{
    return l->n_conns ? l->dealers[l->n_conns - 1] : NULL;
}

static int send_msg(void *d, const Lernet__Wire__Msg *m)
{
    size_t len = lernet__wire__msg__get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -1;
    lernet__wire__msg__pack(m, buf);
    int rc = zmq_send(d, buf, len, ZMQ_DONTWAIT) == (int)len ? 0 : -1;
    free(buf);
    return rc;
}

static Lernet__Wire__Msg *recv_msg(void *d, int timeout_ms)
{
    zmq_pollitem_t it = {d, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return NULL;
    zmq_msg_t m;
    zmq_msg_init(&m);
    Lernet__Wire__Msg *r = NULL;
    if (zmq_msg_recv(&m, d, ZMQ_DONTWAIT) >= 0)
        r = lernet__wire__msg__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    return r;
}

static int wait_up(void *mon, int timeout_ms)
{
    zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (zmq_poll(&it, 1, 50) > 0) {
            int ev = net_monitor_read(mon);
            if (ev == NET_UP)
                return 1;
            if (ev == NET_REFUSED)
                return 0;
        }
    }
    return 0;
}

int liar_dial(liar_t *l, const hnode_t *victim)
{
    char ep[64], mon_ep[64], why[256];
    uint8_t vkey[KEYS_PUBLIC_BYTES];
    if (l->n_conns >= LIAR_MAX_CONNS || keys_pub_decode(vkey, victim->pub) != KEYS_OK)
        return -1;
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", victim->port);
    snprintf(mon_ep, sizeof mon_ep, "inproc://liar-%p-%u", (void *)l, l->serial++);
    void *d = net_client_open(l->ctx, l->t, vkey, ep, mon_ep, why, sizeof why);
    void *mon = d ? net_monitor_open(l->ctx, mon_ep) : NULL;
    if (!d || !mon || !wait_up(mon, LIAR_WAIT_MS)) {
        if (d) {
            zmq_socket_monitor(d, NULL, 0);
            zmq_close(d);
        }
        if (mon)
            zmq_close(mon);
        return -1;
    }
    l->dealers[l->n_conns] = d;
    l->monitors[l->n_conns] = mon;
    l->n_conns++;
    /* Hello with the networks self takes part in */
    char nets_csv[256], *nets[32], *save = NULL;
    size_t n = 0;
    snprintf(nets_csv, sizeof nets_csv, "%s", l->self->networks);
    for (char *t = strtok_r(nets_csv, ",", &save); t && n < 32; t = strtok_r(NULL, ",", &save))
        nets[n++] = t;
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Hello h = LERNET__WIRE__HELLO__INIT;
    h.protocol = 1, h.n_networks = n, h.networks = nets, h.node_name = (char *)l->self->name;
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO, m.hello = &h;
    Lernet__Wire__Msg *r = liar_ask(l, &m, LIAR_WAIT_MS);
    int ok = r && r->body_case == LERNET__WIRE__MSG__BODY_HELLO_ACK;
    if (r)
        lernet__wire__msg__free_unpacked(r, NULL);
    return ok ? 0 : -1;
}

/* A daemon may drop a reply when its queue to this connection is full
 * (ZMQ_SNDHWM 4 on its ROUTER, and libzmq learns late that the queue was
 * read): honest clients then retry after a timeout. A liar asks again every
 * second instead, until timeout_ms; requests are idempotent. Replies left
 * from an earlier ask are dropped first, so each ask gets its own. */
Lernet__Wire__Msg *liar_ask(liar_t *l, const Lernet__Wire__Msg *m, int timeout_ms)
{
    void *d = newest(l);
    Lernet__Wire__Msg *stale;
    if (!d)
        return NULL;
    while ((stale = recv_msg(d, 0)))
        lernet__wire__msg__free_unpacked(stale, NULL);
    for (int waited = 0; waited < timeout_ms; waited += 1000) {
        if (send_msg(d, m) != 0)
            return NULL;
        Lernet__Wire__Msg *r = recv_msg(d, timeout_ms - waited < 1000 ? timeout_ms - waited : 1000);
        if (r)
            return r;
    }
    return NULL;
}

static int push(liar_t *l, event_t *const *evs, size_t n, const enum liar_mangle *each,
                enum liar_mangle all);

int liar_push(liar_t *l, event_t *const *evs, size_t n, enum liar_mangle how)
{
    return push(l, evs, n, NULL, how);
}

int liar_push_each(liar_t *l, event_t *const *evs, size_t n, const enum liar_mangle *how)
{
    return push(l, evs, n, how, LIAR_AS_IS);
}

static int push(liar_t *l, event_t *const *evs, size_t n, const enum liar_mangle *each,
                enum liar_mangle all)
{
    ProtobufCBinaryData *envs = calloc(n ? n : 1, sizeof *envs);
    int rc = envs && newest(l) ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        Lernet__Envelope e = LERNET__ENVELOPE__INIT;
        uint8_t sig[KEYS_SIG_BYTES];
        enum liar_mangle how = each ? each[i] : all;
        memcpy(sig, evs[i]->sig, sizeof sig);
        if (how == LIAR_BAD_SIG)
            sig[7] ^= 0x10;
        e.header.data = evs[i]->header, e.header.len = evs[i]->header_len;
        e.signature.data = sig, e.signature.len = KEYS_SIG_BYTES;
        if (how != LIAR_STRIP && evs[i]->has_payload) {
            e.payload.data = evs[i]->payload, e.payload.len = evs[i]->payload_len;
            e.salt.data = (uint8_t *)evs[i]->salt, e.salt.len = EVENT_SALT_BYTES;
        }
        envs[i].len = lernet__envelope__get_packed_size(&e);
        if (!(envs[i].data = malloc(envs[i].len ? envs[i].len : 1)))
            rc = -1;
        else
            lernet__envelope__pack(&e, envs[i].data);
    }
    if (rc == 0) {
        Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
        Lernet__Wire__Events e = LERNET__WIRE__EVENTS__INIT;
        e.n_envelopes = n, e.envelopes = envs;
        m.body_case = LERNET__WIRE__MSG__BODY_PUSH, m.push = &e;
        rc = send_msg(newest(l), &m);
    }
    for (size_t i = 0; envs && i < n; i++)
        free(envs[i].data);
    free(envs);
    return rc;
}

long liar_want(liar_t *l, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
               uint64_t from, uint64_t to)
{
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Range r = LERNET__WIRE__RANGE__INIT, *rp = &r;
    Lernet__Wire__Want w = LERNET__WIRE__WANT__INIT;
    r.author.data = (uint8_t *)author, r.author.len = KEYS_PUBLIC_BYTES;
    r.network = (char *)network, r.from = from, r.to = to;
    w.n_ranges = 1, w.ranges = &rp, w.max_events = 4000;
    m.body_case = LERNET__WIRE__MSG__BODY_WANT, m.want = &w;
    Lernet__Wire__Msg *reply = liar_ask(l, &m, LIAR_WAIT_MS);
    long n = reply && reply->body_case == LERNET__WIRE__MSG__BODY_EVENTS
                 ? (long)reply->events->n_envelopes
                 : -1;
    if (reply)
        lernet__wire__msg__free_unpacked(reply, NULL);
    return n;
}

keys_identity_t *liar_steal_key(const hnode_t *n, int signing)
{
    char dir[600], why[256];
    keys_identity_t *k = NULL;
    snprintf(dir, sizeof dir, "%s/keys", n->home);
    if ((signing ? keystore_load_as(dir, KEYSTORE_SIGNING, NULL, &k, why, sizeof why)
                 : keystore_load(dir, NULL, &k, why, sizeof why)) != 0) {
        fprintf(stderr, "liar: cannot steal %s's key: %s\n", n->name, why);
        return NULL;
    }
    return k;
}

typedef struct collect {
    event_t **evs;
    size_t n, cap;
} collect_t;

static int collect_row(void *ctx, const store_row_t *r)
{
    collect_t *c = ctx;
    event_t *ev = NULL;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        event_t **more = realloc(c->evs, cap * sizeof *more);
        if (!more)
            return 1;
        c->evs = more, c->cap = cap;
    }
    if (event_from_parts(&ev, r->header, r->header_len, r->sig, r->payload, r->payload_len,
                         r->salt, INT64_MAX / 4, NULL, 0) == EV_OK)
        c->evs[c->n++] = ev;
    return 0;
}

static uint8_t *own_key(const hnode_t *n, uint8_t key[KEYS_PUBLIC_BYTES])
{
    return keys_pub_decode(key, n->pub) == KEYS_OK ? key : NULL;
}

size_t liar_log(const hnode_t *n, const uint8_t *author, const char *network, event_t ***out)
{
    char path[600];
    store_t *st = NULL;
    uint8_t key[KEYS_PUBLIC_BYTES], head_id[EVENT_ID_BYTES];
    uint64_t head = 0;
    collect_t c = {0};
    *out = NULL;
    if (!author && !(author = own_key(n, key)))
        return 0;
    snprintf(path, sizeof path, "%s/store.db", n->home);
    if (store_open(&st, path, NULL, 0) != STORE_OK)
        return 0;
    if (store_head(st, author, network, &head, head_id) == STORE_OK && head)
        store_range(st, author, network, 1, head, collect_row, &c);
    store_close(&st);
    *out = c.evs;
    return c.n;
}

event_t *liar_event_at(const hnode_t *n, const uint8_t *author, const char *network,
                       uint64_t seq)
{
    event_t **evs, *ev = NULL;
    size_t count = liar_log(n, author, network, &evs);
    for (size_t i = 0; i < count; i++) {
        if (evs[i]->seq == seq && !ev)
            ev = evs[i];
        else
            event_free(&evs[i]);
    }
    free(evs);
    return ev;
}

event_t *liar_forge(const keys_identity_t *k, const uint8_t *author, const char *network,
                    uint64_t seq, const uint8_t *prev, const char *title)
{
    event_t *ev = NULL;
    char why[256] = "";
    Lernet__Payload *p = tu_workshop(title, "Forged", 1796112000LL + (int64_t)seq * 3600);
    if (event_create_as(&ev, author, k, network, seq, prev, event_now_ms(), p, why, sizeof why) !=
        EV_OK)
        fprintf(stderr, "liar: cannot forge: %s\n", why);
    tu_payload_free(p);
    return ev;
}

event_t *liar_forge_linked(const keys_identity_t *k, const uint8_t *author, const char *network,
                           const event_t *prev, const char *title)
{
    event_t *ev = NULL;
    char why[256] = "";
    uint8_t prev_sig[EVENT_HASH_BYTES];
    uint64_t seq = prev ? prev->seq + 1 : 1;
    if (prev)
        event_sig_hash(prev_sig, prev->sig);
    Lernet__Payload *p = tu_workshop(title, "Forged", 1796112000LL + (int64_t)seq * 3600);
    if (event_create_linked(&ev, author, k, network, seq, prev ? prev->id : NULL,
                            prev ? prev_sig : NULL, event_now_ms(), p, why, sizeof why) != EV_OK)
        fprintf(stderr, "liar: cannot forge: %s\n", why);
    tu_payload_free(p);
    return ev;
}

event_t *liar_sign_raw(const keys_identity_t *k, const uint8_t *author, const char *network,
                       uint64_t seq, const uint8_t *prev, int kind, const Lernet__Payload *p)
{
    return liar_sign_as(k, NULL, author, network, seq, prev, NULL, kind, p);
}

event_t *liar_sign_as(const keys_identity_t *k, const uint8_t *signer, const uint8_t *author,
                      const char *network, uint64_t seq, const uint8_t *prev,
                      const uint8_t *prev_sig, int kind, const Lernet__Payload *p)
{
    size_t plen = lernet__payload__get_packed_size(p);
    event_t *ev = calloc(1, sizeof *ev);
    uint8_t phash[EVENT_HASH_BYTES], hbuf[EVENT_MAX_HEADER];
    if (!ev || !(ev->payload = malloc(plen ? plen : 1))) {
        free(ev);
        return NULL;
    }
    lernet__payload__pack(p, ev->payload);
    ev->payload_len = plen;
    randombytes_buf(ev->salt, sizeof ev->salt);
    crypto_generichash(phash, sizeof phash, ev->payload, plen, ev->salt, sizeof ev->salt);
    Lernet__Header h = LERNET__HEADER__INIT;
    h.version = EVENT_VERSION;
    h.author.data = (uint8_t *)author, h.author.len = KEYS_PUBLIC_BYTES;
    h.signer.data = (uint8_t *)(signer ? signer : keys_public(k));
    h.signer.len = KEYS_PUBLIC_BYTES;
    h.seq = seq;
    h.prev.data = (uint8_t *)prev, h.prev.len = prev ? EVENT_ID_BYTES : 0;
    h.prev_sig.data = (uint8_t *)prev_sig, h.prev_sig.len = prev_sig ? EVENT_HASH_BYTES : 0;
    h.created_ms = event_now_ms();
    h.network = (char *)network;
    h.kind = (Lernet__Kind)kind;
    h.payload_hash.data = phash, h.payload_hash.len = sizeof phash;
    h.payload_size = plen;
    ev->header_len = lernet__header__get_packed_size(&h);
    if (ev->header_len > sizeof hbuf || !(ev->header = malloc(ev->header_len))) {
        free(ev->payload);
        free(ev);
        return NULL;
    }
    lernet__header__pack(&h, ev->header);
    keys_sign(k, ev->sig, ev->header, ev->header_len);
    crypto_generichash(ev->id, EVENT_ID_BYTES, ev->header, ev->header_len, NULL, 0);
    ev->has_payload = 1;
    ev->seq = seq;
    ev->kind = kind;
    return ev;
}

/* ---- the lying server of attached files -------------------------------- */

static int allow_all(void *ctx, const uint8_t x25519[32], const char *address,
                     char user_id[NET_USER_ID_SIZE])
{
    (void)ctx, (void)x25519, (void)address;
    snprintf(user_id, NET_USER_ID_SIZE, "liar");
    return 1;
}

int liar_serve(liar_t *l, const char *src_home)
{
    char ep[64], why[256];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", l->self->port);
    l->src_home = src_home;
    l->zap = net_zap_open(l->ctx, why, sizeof why);
    l->router = l->zap ? net_server_open(l->ctx, l->t, ep, why, sizeof why) : NULL;
    if (!l->router)
        fprintf(stderr, "liar: cannot serve on %s: %s\n", ep, why);
    return l->router ? 0 : -1;
}

static void reply(liar_t *l, zmq_msg_t *rid, const Lernet__Wire__Msg *m)
{
    size_t len = lernet__wire__msg__get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return;
    lernet__wire__msg__pack(m, buf);
    zmq_send(l->router, zmq_msg_data(rid), zmq_msg_size(rid), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(l->router, buf, len, ZMQ_DONTWAIT);
    free(buf);
}

/* The genuine chunk and leaves of the file of hash in src_home, the chunk
 * with one byte flipped. */
static void lie_chunk(liar_t *l, zmq_msg_t *rid, const Lernet__Wire__GetChunk *g)
{
    static uint8_t data[ATTACH_CHUNK], leaves[ATTACH_MAX_CHUNKS * EVENT_HASH_BYTES];
    char path[700];
    struct stat sb;
    size_t len = 0;
    Lernet__Wire__Chunk c = LERNET__WIRE__CHUNK__INIT;
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    c.hash = g->hash;
    c.index = g->index;
    c.refused = "";
    if (g->hash.len != EVENT_HASH_BYTES ||
        attach_path(path, sizeof path, l->src_home, g->hash.data) != 0 || stat(path, &sb) != 0 ||
        attach_read_chunk(l->src_home, g->hash.data, (uint64_t)sb.st_size, g->index, data,
                          &len, NULL) != ATTACH_OK) {
        c.refused = "not_found";
    } else {
        uint32_t n = attach_chunks((uint64_t)sb.st_size);
        if (g->leaves && n > 1 &&
            attach_leaves(l->src_home, g->hash.data, (uint64_t)sb.st_size, leaves, NULL, NULL,
                          0) == ATTACH_OK)
            c.leaves = (ProtobufCBinaryData){(size_t)n * EVENT_HASH_BYTES, leaves};
        data[len / 2] ^= 0x01;
        c.data = (ProtobufCBinaryData){len, data};
        l->lies++;
    }
    m.body_case = LERNET__WIRE__MSG__BODY_CHUNK;
    m.chunk = &c;
    reply(l, rid, &m);
}

long liar_serve_step(liar_t *l, int timeout_ms)
{
    zmq_pollitem_t it[2] = {{l->zap, 0, ZMQ_POLLIN, 0}, {l->router, 0, ZMQ_POLLIN, 0}};
    if (!l->router || zmq_poll(it, 2, timeout_ms) <= 0)
        return l->lies;
    if (it[0].revents & ZMQ_POLLIN)
        net_zap_handle(l->zap, allow_all, l);
    for (int turn = 0; turn < 64 && (it[1].revents & ZMQ_POLLIN); turn++) {
        zmq_msg_t rid, body;
        zmq_msg_init(&rid);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&rid, l->router, ZMQ_DONTWAIT) < 0 ||
            zmq_msg_recv(&body, l->router, 0) < 0) {
            zmq_msg_close(&rid);
            zmq_msg_close(&body);
            break;
        }
        Lernet__Wire__Msg *q = lernet__wire__msg__unpack(NULL, zmq_msg_size(&body),
                                                         zmq_msg_data(&body));
        if (q && q->body_case == LERNET__WIRE__MSG__BODY_HELLO) {
            Lernet__Wire__HelloAck a = LERNET__WIRE__HELLO_ACK__INIT;
            Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
            a.protocol = 1;
            a.networks = q->hello->networks;
            a.n_networks = q->hello->n_networks;
            a.node_name = "liar";
            m.body_case = LERNET__WIRE__MSG__BODY_HELLO_ACK;
            m.hello_ack = &a;
            reply(l, &rid, &m);
        } else if (q && q->body_case == LERNET__WIRE__MSG__BODY_GET_CHUNK)
            lie_chunk(l, &rid, q->get_chunk);
        if (q)
            lernet__wire__msg__free_unpacked(q, NULL);
        zmq_msg_close(&rid);
        zmq_msg_close(&body);
    }
    return l->lies;
}
