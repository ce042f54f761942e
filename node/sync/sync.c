/*
 * sync: the partner protocol, client and server halves (see sync.h and
 * docs/protocol.md). Everything a partner can send is decoded and bounded
 * here before anything else sees it.
 *
 * A client round: Hello (once per connection) → Summary; equal roots end
 * the round in a few dozen bytes each way. Otherwise the server's bucket
 * digests narrow the difference to a few buckets, their heads give the
 * missing ranges, and Want/Events moves them in bounded batches. Each batch
 * is verified and committed in one transaction before the next is asked
 * for (flow control) and before any of it is pushed on to other partners.
 */
#include "sync/sync.h"
#include "sync/vpool.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "proto/wire.pb-c.h"
#include "sync/sync_impl.h"

static void count_refusal(sync_t *s, int slot)
{
    s->stats.events_refused += slot != SLOT_HANDSHAKE;
    if (slot > 0 && slot < SYNC_REFUSAL_SLOTS)
        s->refused[slot]++;
}

/* Counts a refused event and logs it, at most SYNC_REFUSAL_LINES a minute
 * per partner and reason (a partner that sends thousands must not fill
 * the log): the rest are summed up in one line when the minute is over. */
void refusal(sync_t *s, int peer, int slot, const char *name, const char *why,
                    int64_t now_ms)
{
    count_refusal(s, slot);
    refusal_log_t *r = s->rlog && slot > 0 && slot < SYNC_REFUSAL_SLOTS && peer >= -1 &&
                               peer < CONFIG_MAX_PEERS
                           ? &s->rlog[(size_t)(peer + 1) * SYNC_REFUSAL_SLOTS + (size_t)slot]
                           : NULL;
    const char *who = peer >= 0 ? s->cfg->peers[peer].name : "local";
    if (r && now_ms - r->window_ms >= 60000) {
        if (r->suppressed)
            log_warn("refused %u more events from %s in the last minute: %s", r->suppressed,
                     who, name);
        r->window_ms = now_ms;
        r->lines = r->suppressed = 0;
    }
    if (r && r->lines >= SYNC_REFUSAL_LINES) {
        r->suppressed++;
        return;
    }
    if (r)
        r->lines++;
    log_warn("refused event from %s: %s: %s", who, name, why);
}

void sync_note_refused_handshake(sync_t *s)
{
    count_refusal(s, SLOT_HANDSHAKE);
}

json_t *sync_refusals_json(const sync_t *s)
{
    json_t *o = json_object();
    for (int i = 1; i < SYNC_REFUSAL_SLOTS; i++) {
        if (!s->refused[i])
            continue;
        const char *name = i == SLOT_HANDSHAKE ? "handshake_not_allowed"
                           : i < SLOT_STORE     ? event_reason_name(-i)
                                                : store_reason_name(SLOT_STORE - i);
        json_object_set_new(o, name, json_integer((json_int_t)s->refused[i]));
    }
    return o;
}

/* ---- sending -------------------------------------------------------- */

static uint8_t *pack(const msg_t *m, size_t *len)
{
    *len = lernet__wire__msg__get_packed_size(m);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        lernet__wire__msg__pack(m, buf);
    return buf;
}

void send_client(sync_t *s, size_t peer, const msg_t *m)
{
    size_t len;
    uint8_t *buf = pack(m, &len);
    if (buf && s->io.send_client(s->io.ctx, peer, buf, len) == 0)
        s->stats.bytes_sent += len;
    free(buf);
}

void send_server(sync_t *s, const session_t *se, const msg_t *m)
{
    size_t len;
    uint8_t *buf = pack(m, &len);
    if (buf && s->io.send_server(s->io.ctx, se->rid, se->rid_len, buf, len) == 0)
        s->stats.bytes_sent += len;
    free(buf);
}

void send_error(sync_t *s, const session_t *se, Lernet__Wire__Error__Code code,
                       const char *text)
{
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Error e = LERNET__WIRE__ERROR__INIT;
    e.code = code;
    e.message = (char *)text;
    m.body_case = LERNET__WIRE__MSG__BODY_ERROR;
    m.error = &e;
    send_server(s, se, &m);
}

/* ---- receiving events ----------------------------------------------- */

const char *peer_name(const sync_t *s, int peer)
{
    return peer >= 0 ? s->cfg->peers[peer].name : "local";
}

/* ---- server side ---------------------------------------------------- */

/* Where a new session of peer goes. Quotas: a partner holds at most
 * SYNC_SESSIONS_PER_PEER (a new one replaces its own least recently used);
 * in a full table, the least recently used session of the partner holding
 * the most goes: a partner opening hundreds of connections only ever
 * evicts its own. */
static session_t *session_slot(sync_t *s, size_t peer)
{
    size_t own = 0, *count = calloc(CONFIG_MAX_PEERS, sizeof *count);
    session_t *own_lru = NULL, *free_slot = NULL, *victim = NULL;
    for (size_t i = 0; i < SYNC_MAX_SESSIONS; i++) {
        session_t *se = &s->sessions[i];
        if (!se->used) {
            free_slot = free_slot ? free_slot : se;
            continue;
        }
        if (count && se->peer < CONFIG_MAX_PEERS)
            count[se->peer]++;
        if (se->peer == peer) {
            own++;
            if (!own_lru || se->last_ms < own_lru->last_ms)
                own_lru = se;
        }
    }
    if (own >= SYNC_SESSIONS_PER_PEER || (!free_slot && own_lru)) {
        free(count);
        return own_lru;
    }
    if (free_slot || !count) {
        free(count);
        return free_slot ? free_slot : &s->sessions[0];
    }
    for (size_t i = 0; i < SYNC_MAX_SESSIONS; i++) {
        session_t *se = &s->sessions[i];
        if (!victim || count[se->peer] > count[victim->peer] ||
            (count[se->peer] == count[victim->peer] && se->last_ms < victim->last_ms))
            victim = se;
    }
    free(count);
    return victim;
}

static session_t *session_find(sync_t *s, size_t peer, const uint8_t *rid, size_t rid_len,
                               int create, int64_t now_ms)
{
    for (size_t i = 0; i < SYNC_MAX_SESSIONS; i++) {
        session_t *se = &s->sessions[i];
        if (se->used && se->rid_len == rid_len && memcmp(se->rid, rid, rid_len) == 0 &&
            se->peer == peer) {
            se->last_ms = now_ms;
            return se;
        }
    }
    if (!create)
        return NULL;
    session_t *oldest = session_slot(s, peer);
    memset(oldest, 0, sizeof *oldest);
    oldest->used = 1;
    oldest->peer = peer;
    oldest->rid_len = rid_len;
    memcpy(oldest->rid, rid, rid_len);
    oldest->last_ms = now_ms;
    return oldest;
}

/* The partner may have nothing now: it is told so, and its session ends
 * (the daemon also closes its connection, see sync_rescope). */
void bar_session(sync_t *s, session_t *se)
{
    log_warn("partner %s: it shares no network with this node any more (membership ended, or "
             "its identity was revoked); its session is closed", peer_name(s, (int)se->peer));
    send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_SCOPE,
               "this node shares no network with you any more");
    se->used = 0;
}

static void serve_hello(sync_t *s, session_t *se, const Lernet__Wire__Hello *h)
{
    char text[160];
    if (h->protocol != SYNC_PROTOCOL) {
        snprintf(text, sizeof text, "protocol version %u is not supported; this node speaks %d",
                 h->protocol, SYNC_PROTOCOL);
        log_error("partner %s: %s", peer_name(s, (int)se->peer), text);
        send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_VERSION, text);
        se->used = 0;
        return;
    }
    se->n_asked = keep_networks(s->cfg, se->asked, h->networks, h->n_networks);
    se->gen = 0;
    if (!session_scope(s, se)) {
        bar_session(s, se);
        return;
    }
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__HelloAck a = LERNET__WIRE__HELLO_ACK__INIT;
    char *caps[] = {"digest-v1", "push-v1", "push-to-me"}, *nets[CONFIG_MAX_NETWORKS];
    size_t n_nets = 0;
    for (size_t i = 0; i < se->scope.n; i++)
        if (!event_log_reserved(se->scope.nets[i]) && n_nets < CONFIG_MAX_NETWORKS)
            nets[n_nets++] = se->scope.nets[i]; /* implied on both sides */
    a.protocol = SYNC_PROTOCOL;
    /* no DEALER of ours to this partner: ask it to push what we lack */
    a.n_capabilities = s->cfg->peers[se->peer].endpoint[0] ? 2 : 3;
    a.capabilities = caps;
    a.n_networks = n_nets;
    a.networks = nets;
    a.node_name = (char *)s->cfg->name;
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO_ACK;
    m.hello_ack = &a;
    send_server(s, se, &m);
}

static void serve_summary(sync_t *s, session_t *se, const scope_t *sc,
                          const Lernet__Wire__Summary *q)
{
    uint8_t root[SYNC_ROOT_BYTES], buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES];
    size_t logs;
    if (scope_digest(s, sc, root, buckets, &logs) != 0)
        return;
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Summary sum = LERNET__WIRE__SUMMARY__INIT;
    Lernet__Wire__Buckets b = LERNET__WIRE__BUCKETS__INIT;
    if (q->root.len == sizeof root && sodium_memcmp(q->root.data, root, sizeof root) == 0) {
        sum.root.data = root;
        sum.root.len = sizeof root;
        sum.logs = (uint32_t)logs;
        m.body_case = LERNET__WIRE__MSG__BODY_SUMMARY;
        m.summary = &sum;
    } else {
        b.digests.data = buckets;
        b.digests.len = sizeof buckets;
        m.body_case = LERNET__WIRE__MSG__BODY_BUCKETS;
        m.buckets = &b;
    }
    send_server(s, se, &m);
}

static void serve_get_heads(sync_t *s, session_t *se, const scope_t *sc,
                            const Lernet__Wire__GetHeads *g)
{
    store_feed_t *feeds;
    size_t n;
    if (g->buckets.len != SYNC_NBUCKETS / 8) {
        send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED, "get_heads: bad bitmap");
        return;
    }
    if (scoped_feeds(s, sc, &feeds, &n) != 0)
        return;
    Lernet__Wire__Head *heads = calloc(n ? n : 1, sizeof *heads);
    Lernet__Wire__Head **hp = calloc(n ? n : 1, sizeof *hp);
    size_t k = 0;
    for (size_t i = 0; heads && hp && i < n && k < SYNC_MAX_HEADS; i++) {
        unsigned b = sync_bucket_of(feeds[i].author, feeds[i].network);
        if (!(g->buckets.data[b / 8] & (1u << (b % 8))))
            continue;
        lernet__wire__head__init(&heads[k]);
        heads[k].author.data = feeds[i].author;
        heads[k].author.len = KEYS_PUBLIC_BYTES;
        heads[k].network = feeds[i].network;
        heads[k].seq = feeds[i].seq;
        hp[k] = &heads[k];
        k++;
    }
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Heads h = LERNET__WIRE__HEADS__INIT;
    h.n_heads = k;
    h.heads = hp;
    m.body_case = LERNET__WIRE__MSG__BODY_HEADS;
    m.heads = &h;
    if (heads && hp)
        send_server(s, se, &m);
    free(heads);
    free(hp);
    free(feeds);
}

/* Envelope bytes straight from the stored parts: no parse, no re-encode
 * of the header. */
int batch_row(void *ctx, const store_row_t *r)
{
    batch_t *b = ctx;
    if (b->n >= b->max || b->bytes >= SYNC_BATCH_BYTES) {
        b->full = 1;
        return 1;
    }
    uint8_t *buf;
    size_t len;
    if (store_row_envelope(r, &buf, &len) != 0)
        return 1;
    b->envs[b->n].data = buf;
    b->envs[b->n].len = len;
    b->n++;
    b->bytes += len;
    return 0;
}

void batch_free(batch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->envs[i].data);
    free(b->envs);
}

/* Pushes, as one batch at most, what the partner's heads showed it lacks
 * (key logs first, like wants). */
void send_offers(sync_t *s, size_t peer)
{
    client_t *c = &s->clients[peer];
    batch_t b = {calloc(SYNC_BATCH_EVENTS, sizeof(ProtobufCBinaryData)), 0, SYNC_BATCH_EVENTS,
                 0, 0};
    for (int pass = 0; pass < 2 && b.envs; pass++)
        for (size_t i = 0; i < c->n_offers && !b.full; i++)
            if (event_log_reserved(c->offers[i].network) == (pass == 0))
                store_range(s->st, c->offers[i].author, c->offers[i].network, c->offers[i].from,
                            c->offers[i].to, batch_row, &b);
    if (b.n) {
        msg_t m = LERNET__WIRE__MSG__INIT;
        Lernet__Wire__Events ev = LERNET__WIRE__EVENTS__INIT;
        ev.n_envelopes = b.n;
        ev.envelopes = b.envs;
        m.body_case = LERNET__WIRE__MSG__BODY_PUSH;
        m.push = &ev;
        send_client(s, peer, &m);
        s->stats.events_sent += b.n;
    }
    batch_free(&b);
    free(c->offers);
    c->offers = NULL;
    c->n_offers = 0;
}

static void serve_want(sync_t *s, session_t *se, const scope_t *sc,
                       const Lernet__Wire__Want *w)
{
    size_t max = w->max_events && w->max_events < SYNC_BATCH_EVENTS ? w->max_events
                                                                    : SYNC_BATCH_EVENTS;
    batch_t b = {calloc(max, sizeof(ProtobufCBinaryData)), 0, max, 0, 0};
    if (w->n_ranges > SYNC_MAX_RANGES || !b.envs) {
        send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED, "want: too many ranges");
        free(b.envs);
        return;
    }
    for (size_t i = 0; i < w->n_ranges && !b.full; i++) {
        const Lernet__Wire__Range *r = w->ranges[i];
        if (r->author.len != KEYS_PUBLIC_BYTES || !scope_has(sc, r->network) ||
            r->from == 0 || r->to < r->from ||
            (event_log_reserved(r->network) && !author_in_scope(s, sc, r->author.data)))
            continue; /* out of scope or nonsense: nothing to send for it */
        store_range(s->st, r->author.data, r->network, r->from, r->to, batch_row, &b);
    }
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Events ev = LERNET__WIRE__EVENTS__INIT;
    ev.n_envelopes = b.n;
    ev.envelopes = b.envs;
    ev.more = b.full;
    m.body_case = LERNET__WIRE__MSG__BODY_EVENTS;
    m.events = &ev;
    send_server(s, se, &m);
    s->stats.events_sent += b.n;
    batch_free(&b);
}

static void serve_push(sync_t *s, size_t peer, Lernet__Wire__Events *e, int64_t now_ms)
{
    scope_t sc;
    uint32_t nets = rights_of(s, peer);
    scope_reserved(&sc);
    for (size_t i = 0; i < s->cfg->n_networks && i < 32; i++)
        if ((nets >> i) & 1)
            scope_add(&sc, s->cfg->networks[i]);
    if (e->n_envelopes > SYNC_BATCH_EVENTS)
        return;
    apply_batch(s, (int)peer, &sc, e->envelopes, e->n_envelopes, now_ms);
}

void sync_server_recv(sync_t *s, size_t peer, const uint8_t *rid, size_t rid_len,
                      const uint8_t *buf, size_t len, int64_t now_ms)
{
    s->stats.bytes_received += len;
    if (rid_len == 0 || rid_len > sizeof s->sessions[0].rid || peer >= s->cfg->n_peers)
        return;
    msg_t *m = lernet__wire__msg__unpack(NULL, len, buf);
    session_t *se = session_find(s, peer, rid, rid_len, m && m->body_case ==
                                 LERNET__WIRE__MSG__BODY_HELLO, now_ms);
    if (!m) {
        log_warn("partner %s: undecodable message (%zu bytes)", peer_name(s, (int)peer), len);
        session_t tmp = {.rid_len = rid_len, .peer = peer};
        memcpy(tmp.rid, rid, rid_len);
        send_error(s, &tmp, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED, "undecodable message");
        return;
    }
    const scope_t *sc = se && m->body_case != LERNET__WIRE__MSG__BODY_HELLO
                            ? session_scope(s, se) : NULL;
    if (m->body_case == LERNET__WIRE__MSG__BODY_PUSH) {
        if (rights_of(s, peer))
            serve_push(s, peer, m->push, now_ms);
    } else if (m->body_case == LERNET__WIRE__MSG__BODY_HELLO)
        serve_hello(s, se, m->hello);
    else if (!se) {
        session_t tmp = {.rid_len = rid_len, .peer = peer};
        memcpy(tmp.rid, rid, rid_len);
        send_error(s, &tmp, LERNET__WIRE__ERROR__CODE__CODE_NO_SESSION, "send hello first");
    } else if (!sc)
        bar_session(s, se); /* rights lost since its Hello: checked on every request */
    else if (m->body_case == LERNET__WIRE__MSG__BODY_SUMMARY)
        serve_summary(s, se, sc, m->summary);
    else if (m->body_case == LERNET__WIRE__MSG__BODY_GET_HEADS)
        serve_get_heads(s, se, sc, m->get_heads);
    else if (m->body_case == LERNET__WIRE__MSG__BODY_WANT)
        serve_want(s, se, sc, m->want);
    else
        log_debug("partner %s: unexpected request %d", peer_name(s, (int)peer),
                  (int)m->body_case);
    lernet__wire__msg__free_unpacked(m, NULL);
}

/* ---- push, timers, status ------------------------------------------- */

/* An author's key logs go to a partner only once the author publishes in
 * a network they share (author_in_scope), so with its first event there
 * the partner may lack them: they go first, in one Push, or the event
 * would be refused as signed by a key not (yet) certified. */
static void push_key_logs(sync_t *s, size_t peer, const uint8_t *author)
{
    static const char *logs[] = {EVENT_LOG_KEYS, EVENT_LOG_REVOKED};
    batch_t b = {calloc(SYNC_BATCH_EVENTS, sizeof(ProtobufCBinaryData)), 0, SYNC_BATCH_EVENTS,
                 0, 0};
    for (size_t i = 0; i < 2 && b.envs; i++)
        store_range(s->st, author, logs[i], 1, UINT64_MAX, batch_row, &b);
    if (b.n) {
        msg_t m = LERNET__WIRE__MSG__INIT;
        Lernet__Wire__Events e = LERNET__WIRE__EVENTS__INIT;
        e.n_envelopes = b.n, e.envelopes = b.envs;
        m.body_case = LERNET__WIRE__MSG__BODY_PUSH, m.push = &e;
        send_client(s, peer, &m);
        s->stats.events_sent += b.n;
    }
    batch_free(&b);
}

void sync_push(sync_t *s, const event_t *ev, int from_peer)
{
    uint8_t *env;
    size_t len;
    if (event_envelope(ev, &env, &len) != EV_OK)
        return;
    ProtobufCBinaryData one = {len, env};
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Events e = LERNET__WIRE__EVENTS__INIT;
    e.n_envelopes = 1;
    e.envelopes = &one;
    m.body_case = LERNET__WIRE__MSG__BODY_PUSH;
    m.push = &e;
    for (size_t p = 0; p < s->cfg->n_peers; p++) {
        if ((int)p == from_peer || !s->clients[p].connected ||
            !net_allowed(s, p, ev->network) || !client_scope(s, p) ||
            (event_log_reserved(ev->network) &&
             !author_in_scope(s, &s->clients[p].scope, ev->author)))
            continue;
        if (ev->seq == 1 && !event_log_reserved(ev->network))
            push_key_logs(s, p, ev->author);
        send_client(s, p, &m);
        s->stats.events_sent++;
    }
    free(env);
}

int64_t sync_tick(sync_t *s, int64_t now_ms)
{
    int64_t next = now_ms + s->cfg->sync_interval_ms;
    for (size_t p = 0; p < s->cfg->n_peers; p++) {
        client_t *c = &s->clients[p];
        if (!c->connected)
            continue;
        int waiting = c->state != C_IDLE && c->state != C_DONE;
        if (waiting && now_ms >= c->deadline_ms) {
            log_warn("partner %s: no reply for %d s in state %s, starting over",
                     peer_name(s, (int)p), SYNC_REPLY_TIMEOUT_MS / 1000, cstate_names[c->state]);
            client_reset(s, c);
            c->next_round_ms = now_ms;
            waiting = 0;
        }
        if (!waiting && now_ms >= c->next_round_ms)
            start_round(s, p, now_ms);
        int64_t due = (c->state == C_IDLE || c->state == C_DONE) ? c->next_round_ms
                                                                  : c->deadline_ms;
        if (due < next)
            next = due;
    }
    return next;
}

json_t *sync_peers_json(sync_t *s, int64_t now_ms)
{
    json_t *arr = json_array();
    for (size_t p = 0; p < s->cfg->n_peers; p++) {
        const config_peer_t *cp = &s->cfg->peers[p];
        client_t *c = &s->clients[p];
        char key[KEYS_PUB_STR_SIZE];
        keys_pub_encode(key, cp->public_key);
        json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:s,s:I,s:I,s:I}", "name", cp->name,
                              "public_key", key, "endpoint", cp->endpoint, "connected",
                              c->connected, "state", cstate_names[c->state], "we_lack",
                              (json_int_t)c->we_lack, "they_lack", (json_int_t)c->they_lack,
                              "events_received", (json_int_t)c->applied_total);
        json_object_set_new(o, "last_sync_ms",
                            c->last_sync_ms ? json_integer(c->last_sync_ms) : json_null());
        json_object_set_new(o, "last_sync_ago_ms", c->last_sync_ms
                                                       ? json_integer(now_ms - c->last_sync_ms)
                                                       : json_null());
        if (c->last_error[0])
            json_object_set_new(o, "last_error", json_string(c->last_error));
        json_array_append_new(arr, o);
    }
    return arr;
}

size_t sync_rescope(sync_t *s, int64_t now_ms)
{
    size_t closed = 0;
    s->gen++;
    for (size_t i = 0; i < SYNC_MAX_SESSIONS; i++) {
        session_t *se = &s->sessions[i];
        if (se->used && !session_scope(s, se)) {
            bar_session(s, se);
            closed++;
        }
    }
    for (size_t p = 0; p < s->cfg->n_peers; p++) {
        client_t *c = &s->clients[p];
        if (c->connected && !rights_of(s, p) && !c->barred) {
            client_reset(s, c);
            start_round(s, p, now_ms); /* logs it, and holds the rounds */
        }
    }
    return closed;
}

int sync_peer_allowed(sync_t *s, size_t peer)
{
    return peer < s->cfg->n_peers && rights_of(s, peer) != 0;
}

void sync_get_stats(const sync_t *s, sync_stats_t *out)
{
    *out = s->stats;
}

void sync_on_applied(sync_t *s, void (*cb)(void *ctx, const event_t *ev, int from_peer),
                     void *ctx)
{
    s->on_applied = cb;
    s->on_applied_ctx = ctx;
}

int sync_new(sync_t **out, store_t *st, const config_t *cfg, const sync_io_t *io)
{
    sync_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->st = st;
    s->cfg = cfg;
    s->io = *io;
    /* room for partners admitted later (members of managed networks) */
    s->clients = calloc(CONFIG_MAX_PEERS, sizeof *s->clients);
    s->sessions = calloc(SYNC_MAX_SESSIONS, sizeof *s->sessions);
    s->rights = calloc(CONFIG_MAX_PEERS, sizeof *s->rights);
    s->rlog = calloc((size_t)(CONFIG_MAX_PEERS + 1) * SYNC_REFUSAL_SLOTS, sizeof *s->rlog);
    s->gen = 1;
    if (!s->clients || !s->sessions || !s->rights || !s->rlog ||
        vpool_new(&s->pool, -1) != 0) {
        sync_free(&s);
        return -1;
    }
    *out = s;
    return 0;
}

void sync_free(sync_t **sp)
{
    if (!sp || !*sp)
        return;
    sync_t *s = *sp;
    for (size_t p = 0; s->clients && p < s->cfg->n_peers; p++) {
        free(s->clients[p].wants);
        free(s->clients[p].offers);
        items_free(s->clients[p].held, s->clients[p].n_held); /* never stored */
    }
    free(s->clients);
    free(s->sessions);
    free(s->rights);
    free(s->rlog);
    vpool_free(&s->pool);
    free(s);
    *sp = NULL;
}
