/*
 * server: this node answering the partners that dial it, on the ROUTER.
 * Each connection (routing id) is a session that starts with a Hello; a
 * partner holds at most SYNC_SESSIONS_PER_PEER of them, and a full table
 * evicts from the partner holding the most. Every request is answered from
 * the session's scope as of now (rights can be lost mid-session), and
 * every size a request names is bounded before anything is read.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "sync/sync_impl.h"

/* The SYNC_SESSIONS_PER_PEER session slots of peer. */
static session_t **peer_sessions(sync_t *s, size_t peer)
{
    return &s->sessions[peer * SYNC_SESSIONS_PER_PEER];
}

/* Where a new session of peer goes: a free slot of its own, else its own
 * least recently used session, replaced (a partner opening hundreds of
 * connections only ever evicts its own). NULL: out of memory. */
static session_t *session_slot(sync_t *s, size_t peer)
{
    session_t **mine = peer_sessions(s, peer), *lru = NULL;
    for (size_t k = 0; k < SYNC_SESSIONS_PER_PEER; k++) {
        if (!mine[k])
            return mine[k] = calloc(1, sizeof *mine[k]);
        if (!mine[k]->used)
            return mine[k];
        if (!lru || mine[k]->last_ms < lru->last_ms)
            lru = mine[k];
    }
    return lru;
}

static session_t *session_find(sync_t *s, size_t peer, const uint8_t *rid, size_t rid_len,
                               bool create, int64_t now_ms)
{
    session_t **mine = peer_sessions(s, peer);
    for (size_t k = 0; k < SYNC_SESSIONS_PER_PEER; k++) {
        session_t *se = mine[k];
        if (se && se->used && se->rid_len == rid_len && memcmp(se->rid, rid, rid_len) == 0) {
            se->last_ms = now_ms;
            return se;
        }
    }
    if (!create)
        return NULL;
    session_t *oldest = session_slot(s, peer);
    if (!oldest)
        return NULL;
    memset(oldest, 0, sizeof *oldest);
    oldest->used = true;
    oldest->peer = peer;
    oldest->rid_len = rid_len;
    memcpy(oldest->rid, rid, rid_len);
    oldest->last_ms = now_ms;
    return oldest;
}

session_t *session_lookup(sync_t *s, size_t peer, const uint8_t *rid, size_t rid_len)
{
    if (peer >= s->cap || peer >= s->cfg->n_peers)
        return NULL;
    session_t **mine = peer_sessions(s, peer);
    for (size_t k = 0; k < SYNC_SESSIONS_PER_PEER; k++)
        if (mine[k] && mine[k]->used && mine[k]->rid_len == rid_len &&
            memcmp(mine[k]->rid, rid, rid_len) == 0)
            return mine[k];
    return NULL;
}

/* The partner may have nothing now: it is told so, and its session ends
 * (the daemon also closes its connection, see sync_rescope). */
void bar_session(sync_t *s, session_t *se)
{
    log_warn("partner %s: it shares no network with this node any more (membership ended, or "
             "its identity was revoked); its session is closed", peer_name(s, (int)se->peer));
    send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_SCOPE,
               "this node shares no network with you any more");
    se->used = false;
}

static void serve_hello(sync_t *s, session_t *se, const Lernet__Wire__Hello *h)
{
    char text[160];
    if (h->protocol != SYNC_PROTOCOL) {
        snprintf(text, sizeof text, "protocol version %u is not supported; this node speaks %d",
                 h->protocol, SYNC_PROTOCOL);
        log_error("partner %s: %s", peer_name(s, (int)se->peer), text);
        send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_VERSION, text);
        se->used = false;
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
    char *caps[] = {"digest-v1", "push-v1", "offer-v1", "push-to-me"}, *nets[CONFIG_MAX_NETWORKS];
    size_t n_nets = 0;
    for (size_t i = 0; i < se->scope.n; i++)
        if (!event_log_reserved(se->scope.nets[i]) && n_nets < CONFIG_MAX_NETWORKS)
            nets[n_nets++] = se->scope.nets[i]; /* implied on both sides */
    a.protocol = SYNC_PROTOCOL;
    /* offer-v1: each round's Buckets say whether we pull from it ourselves
     * (push_to_me); push-to-me: we never can (no endpoint), for a client
     * without offer-v1 */
    a.n_capabilities = s->cfg->peers[se->peer].endpoint[0] ? 3 : 4;
    a.capabilities = caps;
    a.n_networks = n_nets;
    a.networks = nets;
    a.node_name = (char *)s->cfg->name;
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO_ACK;
    m.hello_ack = &a;
    send_server(s, se, &m);
}

/* The partner's Summary tells us where the two nodes stand: equal roots,
 * in sync; else what its last comparison of heads found, as it says. */
static void summary_status(sync_t *s, size_t peer, bool equal, const Lernet__Wire__Summary *q,
                           int64_t now_ms)
{
    if (equal)
        status_in_sync(s, peer, now_ms);
    else if (q->sender_lacks || q->receiver_lacks)
        status_apart(s, peer, true, q->receiver_lacks, q->sender_lacks, now_ms);
    else if (s->status[peer].state != SYNC_APART)
        status_apart(s, peer, false, 0, 0, now_ms); /* how far apart: not known yet */
    /* else it has not compared heads since: what the last comparison found
     * (ours, or its) stands, as of when it was made */
}

static void serve_summary(sync_t *s, session_t *se, const scope_t *sc,
                          const Lernet__Wire__Summary *q, int64_t now_ms)
{
    uint8_t root[SYNC_ROOT_BYTES], buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES];
    size_t logs;
    if (scope_digest(s, sc, root, buckets, &logs) != 0)
        return;
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Summary sum = LERNET__WIRE__SUMMARY__INIT;
    Lernet__Wire__Buckets b = LERNET__WIRE__BUCKETS__INIT;
    bool equal = q->root.len == sizeof root && sodium_memcmp(q->root.data, root, sizeof root) == 0;
    summary_status(s, se->peer, equal, q, now_ms);
    if (equal) {
        sum.root.data = root;
        sum.root.len = sizeof root;
        sum.logs = (uint32_t)logs;
        m.body_case = LERNET__WIRE__MSG__BODY_SUMMARY;
        m.summary = &sum;
    } else {
        b.digests.data = buckets;
        b.digests.len = sizeof buckets;
        /* what we lack of its comes by our own rounds, or it must offer it */
        b.push_to_me = !pulls_from(s, se->peer, now_ms);
        m.body_case = LERNET__WIRE__MSG__BODY_BUCKETS;
        m.buckets = &b;
    }
    send_server(s, se, &m);
}

/* (author, network) of feed f comes after the cursor of a GetHeads: the
 * order store_feeds sorts in, which pages of heads follow. */
static bool after_cursor(const store_feed_t *f, const Lernet__Wire__GetHeads *g)
{
    if (g->after_author.len == 0)
        return true;
    int c = memcmp(f->author, g->after_author.data, KEYS_PUBLIC_BYTES);
    return c > 0 || (c == 0 && strcmp(f->network, g->after_network) > 0);
}

/* Whether the logs feeds[from..to) of one author (store_feeds keeps an
 * author's logs together) have a network log in a bucket of the bitmap. */
static bool author_asked(const store_feed_t *feeds, size_t from, size_t to, const uint8_t *bitmap)
{
    for (size_t i = from; i < to; i++) {
        unsigned b = sync_bucket_of(feeds[i].author, feeds[i].network);
        if (!event_log_reserved(feeds[i].network) && (bitmap[b / 8] & (1u << (b % 8))))
            return true;
    }
    return false;
}

/* The heads of the logs in the buckets asked for, and with an author's
 * network log its key logs wherever they fall: they hash to other
 * buckets, which may not have differed when the client compared (the key
 * logs came in between), and without them the client would ask for
 * events it must refuse as signed by a key not yet certified. Only logs
 * after the cursor, at most SYNC_MAX_HEADS; `more` when one more would
 * have followed. */
static void serve_get_heads(sync_t *s, session_t *se, const scope_t *sc,
                            const Lernet__Wire__GetHeads *g)
{
    store_feed_t *feeds;
    size_t n;
    if (g->buckets.len != SYNC_NBUCKETS / 8) {
        send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED, "get_heads: bad bitmap");
        return;
    }
    if (g->after_author.len != 0 && g->after_author.len != KEYS_PUBLIC_BYTES) {
        send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED,
                   "get_heads: after_author is not a key");
        return;
    }
    if (scoped_feeds(s, sc, &feeds, &n) != 0)
        return;
    size_t cap = n < SYNC_MAX_HEADS ? n : SYNC_MAX_HEADS;
    Lernet__Wire__Head *heads = calloc(cap ? cap : 1, sizeof *heads);
    Lernet__Wire__Head **hp = calloc(cap ? cap : 1, sizeof *hp);
    size_t k = 0;
    bool more = false;
    for (size_t i = 0, end; heads && hp && i < n && !more; i = end) {
        for (end = i + 1; end < n && memcmp(feeds[end].author, feeds[i].author,
                                            KEYS_PUBLIC_BYTES) == 0; end++)
            ;
        bool keys_too = author_asked(feeds, i, end, g->buckets.data);
        for (size_t j = i; j < end; j++) {
            unsigned b = sync_bucket_of(feeds[j].author, feeds[j].network);
            if ((!(g->buckets.data[b / 8] & (1u << (b % 8))) &&
                 !(keys_too && event_log_reserved(feeds[j].network))) ||
                !after_cursor(&feeds[j], g))
                continue;
            if (k == SYNC_MAX_HEADS) {
                more = true;
                break;
            }
            lernet__wire__head__init(&heads[k]);
            heads[k].author.data = feeds[j].author;
            heads[k].author.len = KEYS_PUBLIC_BYTES;
            heads[k].network = feeds[j].network;
            heads[k].seq = feeds[j].seq;
            hp[k] = &heads[k];
            k++;
        }
    }
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Heads h = LERNET__WIRE__HEADS__INIT;
    h.n_heads = k;
    h.heads = hp;
    h.more = more;
    m.body_case = LERNET__WIRE__MSG__BODY_HEADS;
    m.heads = &h;
    if (heads && hp)
        send_server(s, se, &m);
    free(heads);
    free(hp);
    free(feeds);
}

static void serve_want(sync_t *s, session_t *se, const scope_t *sc,
                       const Lernet__Wire__Want *w)
{
    size_t max = w->max_events && w->max_events < SYNC_BATCH_EVENTS ? w->max_events
                                                                    : SYNC_BATCH_EVENTS;
    batch_t b = {calloc(max + SYNC_BATCH_EXTRA, sizeof(ProtobufCBinaryData)), 0, max, 0, 0,
                 .st = s->st};
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
    ev.extra = batch_seal(&b); /* the same network as their erased events: in scope */
    ev.n_envelopes = b.n;
    ev.envelopes = b.envs;
    ev.more = b.full;
    m.body_case = LERNET__WIRE__MSG__BODY_EVENTS;
    m.events = &ev;
    send_server(s, se, &m);
    s->stats.events_sent += b.n;
    s->status[se->peer].events_sent += b.n;
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
    if (!extras_first(e))
        return;
    long got = apply_batch(s, (int)peer, &sc, e->envelopes, e->n_envelopes, now_ms);
    if (got > 0)
        status_received(s, peer, (uint64_t)got);
}

/* What the partner offers (what our heads showed it we lack): stored like
 * any received batch, within the session's scope, then acknowledged, so
 * that it sends the next batch only once this one is durable here. */
static void serve_offer(sync_t *s, session_t *se, const scope_t *sc, Lernet__Wire__Events *e,
                        int64_t now_ms)
{
    if (!extras_first(e)) {
        send_error(s, se, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED, "offer: too many events");
        return;
    }
    long got = apply_batch(s, (int)se->peer, sc, e->envelopes, e->n_envelopes, now_ms);
    if (got > 0)
        status_received(s, se->peer, (uint64_t)got);
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__OfferAck a = LERNET__WIRE__OFFER_ACK__INIT;
    a.events = (uint32_t)e->n_envelopes;
    a.applied = got > 0 ? (uint32_t)got : 0;
    m.body_case = LERNET__WIRE__MSG__BODY_OFFER_ACK;
    m.offer_ack = &a;
    send_server(s, se, &m);
}

void sync_server_recv(sync_t *s, size_t peer, const uint8_t *rid, size_t rid_len,
                      const uint8_t *buf, size_t len, int64_t now_ms)
{
    s->stats.bytes_received += len;
    if (rid_len == 0 || rid_len > sizeof ((session_t *)0)->rid || peer >= s->cfg->n_peers ||
        peer >= s->cap)
        return;
    s->status[peer].bytes_received += len;
    s->status[peer].last_request_ms = now_ms;
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
    } else if (m->body_case == LERNET__WIRE__MSG__BODY_HELLO) {
        if (se) /* else out of memory: no session, its Hello times out */
            serve_hello(s, se, m->hello);
    }
    else if (!se) {
        session_t tmp = {.rid_len = rid_len, .peer = peer};
        memcpy(tmp.rid, rid, rid_len);
        send_error(s, &tmp, LERNET__WIRE__ERROR__CODE__CODE_NO_SESSION, "send hello first");
    } else if (!sc)
        bar_session(s, se); /* rights lost since its Hello: checked on every request */
    else if (m->body_case == LERNET__WIRE__MSG__BODY_SUMMARY)
        serve_summary(s, se, sc, m->summary, now_ms);
    else if (m->body_case == LERNET__WIRE__MSG__BODY_GET_HEADS)
        serve_get_heads(s, se, sc, m->get_heads);
    else if (m->body_case == LERNET__WIRE__MSG__BODY_WANT)
        serve_want(s, se, sc, m->want);
    else if (m->body_case == LERNET__WIRE__MSG__BODY_OFFER)
        serve_offer(s, se, sc, m->offer, now_ms);
    else if (m->body_case == LERNET__WIRE__MSG__BODY_GET_CHUNK)
        xfer_request(s, se, m->get_chunk); /* waits: served after event requests */
    else
        log_debug("partner %s: unexpected request %d", peer_name(s, (int)peer),
                  (int)m->body_case);
    lernet__wire__msg__free_unpacked(m, NULL);
}
