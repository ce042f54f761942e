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

const char *const cstate_names[] = {"idle", "hello", "summary", "heads", "events", "in-sync"};

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

static int stuck_at(const client_t *c, const uint8_t *author, const char *network, int64_t now_ms)
{
    for (size_t i = 0; i < SYNC_MAX_STUCK; i++)
        if (c->stuck[i].until_ms > now_ms && strcmp(c->stuck[i].network, network) == 0 &&
            memcmp(c->stuck[i].author, author, KEYS_PUBLIC_BYTES) == 0)
            return (int)i;
    return -1;
}

/* Puts a log this partner served nothing usable for aside: 60 s, doubling
 * each time it happens again, at most an hour. Returns 1 if it was new. */
int stuck_add(sync_t *s, client_t *c, const uint8_t *author, const char *network,
                     int64_t now_ms)
{
    size_t slot = 0;
    unsigned strikes = 0;
    for (size_t i = 0; i < SYNC_MAX_STUCK; i++) {
        if (strcmp(c->stuck[i].network, network) == 0 &&
            memcmp(c->stuck[i].author, author, KEYS_PUBLIC_BYTES) == 0) {
            if (c->stuck[i].until_ms > now_ms)
                return 0;
            slot = i, strikes = c->stuck[i].strikes + 1;
            break;
        }
        if (c->stuck[i].until_ms < c->stuck[slot].until_ms)
            slot = i;
    }
    if (strikes > 6)
        strikes = 6;
    memcpy(c->stuck[slot].author, author, KEYS_PUBLIC_BYTES);
    snprintf(c->stuck[slot].network, sizeof c->stuck[slot].network, "%s", network);
    c->stuck[slot].strikes = strikes;
    c->stuck[slot].until_ms = now_ms + (60000LL << strikes);
    char fpr[KEYS_FPR_STR_SIZE];
    keys_fingerprint(fpr, author);
    log_warn("partner %s: its copy of log %s of %s brought only refusals or forks; not asking it "
             "for that log for %lld s, so the other logs go on", peer_name(s, (int)(c - s->clients)),
             network, fpr, (long long)(60LL << strikes));
    return 1;
}

/* ---- client side ---------------------------------------------------- */

static void account(client_t *c, long applied)
{
    if (applied <= 0)
        return;
    c->round_applied += (uint64_t)applied;
    c->applied_total += (uint64_t)applied;
    c->we_lack = c->we_lack > (uint64_t)applied ? c->we_lack - (uint64_t)applied : 0;
}

static void drop_stuck_wants(client_t *c, int64_t now_ms);

/* Stores the held batch, if any (it is verified: storing is always right). */
static long store_held(sync_t *s, client_t *c)
{
    if (!c->held)
        return 0;
    size_t stuck = 0;
    long applied = store_parsed(s, (int)(c - s->clients), c, &c->scope, c->held, c->n_held,
                                &stuck);
    if (stuck)
        drop_stuck_wants(c, event_now_ms());
    c->held = NULL;
    c->n_held = 0;
    s->holding--;
    account(c, applied);
    return applied;
}

void client_reset(sync_t *s, client_t *c)
{
    store_held(s, c);
    c->state = C_IDLE;
    c->have_scope = 0;
    free(c->wants);
    c->wants = NULL;
    c->n_wants = 0;
}

static void expect_reply(sync_t *s, client_t *c, enum cstate st, int64_t now_ms)
{
    (void)s;
    c->state = st;
    /* A Hello costs the server nothing to answer: if none comes quickly,
     * it was lost in a reconnect and is worth sending again. */
    c->deadline_ms = now_ms + (st == C_HELLO ? SYNC_HELLO_TIMEOUT_MS : SYNC_REPLY_TIMEOUT_MS);
}

static void end_round(sync_t *s, client_t *c, int in_sync, int64_t now_ms)
{
    store_held(s, c);
    c->state = C_DONE;
    c->next_round_ms = now_ms + s->cfg->sync_interval_ms;
    s->stats.rounds++;
    if (in_sync) {
        s->stats.rounds_in_sync++;
        c->last_sync_ms = now_ms;
        c->we_lack = c->they_lack = 0;
    }
}

static void send_hello(sync_t *s, size_t peer, int64_t now_ms)
{
    const config_peer_t *p = &s->cfg->peers[peer];
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Hello h = LERNET__WIRE__HELLO__INIT;
    char *caps[] = {"digest-v1", "push-v1"};
    char *nets[CONFIG_MAX_NETWORKS];
    for (size_t i = 0; i < p->n_networks; i++)
        nets[i] = (char *)p->networks[i];
    h.protocol = SYNC_PROTOCOL;
    h.n_capabilities = 2;
    h.capabilities = caps;
    h.n_networks = p->n_networks;
    h.networks = nets;
    h.node_name = (char *)s->cfg->name;
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO;
    m.hello = &h;
    send_client(s, peer, &m);
    expect_reply(s, &s->clients[peer], C_HELLO, now_ms);
}

static void send_summary(sync_t *s, size_t peer, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    uint8_t root[SYNC_ROOT_BYTES], buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES];
    size_t logs = 0;
    if (scope_digest(s, &c->scope, root, buckets, &logs) != 0) {
        end_round(s, c, 0, now_ms);
        return;
    }
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Summary sum = LERNET__WIRE__SUMMARY__INIT;
    sum.root.data = root;
    sum.root.len = sizeof root;
    sum.logs = (uint32_t)logs;
    m.body_case = LERNET__WIRE__MSG__BODY_SUMMARY;
    m.summary = &sum;
    send_client(s, peer, &m);
    expect_reply(s, c, C_SUMMARY, now_ms);
}

void start_round(sync_t *s, size_t peer, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    if (!rights_of(s, peer)) { /* nothing to exchange with it: no rounds until that changes */
        if (!c->barred)
            log_warn("partner %s: it shares no network with this node any more (membership "
                     "ended, or its identity was revoked); not syncing with it",
                     peer_name(s, (int)peer));
        c->barred = 1;
        c->next_round_ms = now_ms + s->cfg->sync_interval_ms;
        return;
    }
    c->barred = 0;
    if (c->have_scope && client_scope(s, peer))
        send_summary(s, peer, now_ms);
    else
        send_hello(s, peer, now_ms);
}

static void on_hello_ack(sync_t *s, size_t peer, const Lernet__Wire__HelloAck *a,
                         int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    if (a->protocol != SYNC_PROTOCOL) {
        snprintf(c->last_error, sizeof c->last_error,
                 "partner speaks protocol %u, this node speaks %d", a->protocol, SYNC_PROTOCOL);
        log_error("partner %s: %s", peer_name(s, (int)peer), c->last_error);
        client_reset(s, c);
        c->next_round_ms = now_ms + 10 * (int64_t)s->cfg->sync_interval_ms;
        return;
    }
    c->n_acked = keep_networks(s->cfg, c->acked, a->networks, a->n_networks);
    c->gen = 0; /* derive the scope now */
    if (!client_scope(s, peer)) {
        client_reset(s, c);
        c->next_round_ms = now_ms + s->cfg->sync_interval_ms;
        return;
    }
    c->have_scope = 1;
    c->push_to_them = 0;
    for (size_t i = 0; i < a->n_capabilities && i < 16; i++)
        c->push_to_them |= strcmp(a->capabilities[i], "push-to-me") == 0;
    snprintf(c->remote_name, sizeof c->remote_name, "%s", a->node_name);
    c->last_error[0] = '\0';
    log_info("partner %s: session open, %zu network%s in scope", peer_name(s, (int)peer),
             c->scope.n, c->scope.n == 1 ? "" : "s");
    send_summary(s, peer, now_ms);
}

static void on_buckets(sync_t *s, size_t peer, const Lernet__Wire__Buckets *b, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    uint8_t root[SYNC_ROOT_BYTES], ours[SYNC_NBUCKETS * SYNC_BUCKET_BYTES];
    uint8_t bitmap[SYNC_NBUCKETS / 8] = {0};
    int any = 0;
    if (b->digests.len != sizeof ours || scope_digest(s, &c->scope, root, ours, NULL) != 0) {
        end_round(s, c, 0, now_ms);
        return;
    }
    for (unsigned i = 0; i < SYNC_NBUCKETS; i++) {
        if (memcmp(ours + i * SYNC_BUCKET_BYTES, b->digests.data + i * SYNC_BUCKET_BYTES,
                   SYNC_BUCKET_BYTES) != 0) {
            bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            any = 1;
        }
    }
    if (!any) { /* changed between the two messages; the next round sees it */
        end_round(s, c, 1, now_ms);
        return;
    }
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__GetHeads g = LERNET__WIRE__GET_HEADS__INIT;
    memcpy(c->asked, bitmap, sizeof bitmap);
    g.buckets.data = bitmap;
    g.buckets.len = sizeof bitmap;
    m.body_case = LERNET__WIRE__MSG__BODY_GET_HEADS;
    m.get_heads = &g;
    send_client(s, peer, &m);
    expect_reply(s, c, C_HEADS, now_ms);
}

static int head_cmp(const void *a, const void *b)
{
    const Lernet__Wire__Head *x = *(Lernet__Wire__Head *const *)a;
    const Lernet__Wire__Head *y = *(Lernet__Wire__Head *const *)b;
    int c = memcmp(x->author.data, y->author.data, KEYS_PUBLIC_BYTES);
    return c ? c : strcmp(x->network, y->network);
}

static Lernet__Wire__Head *find_head(Lernet__Wire__Head **sorted, size_t n,
                                     const store_feed_t *f)
{
    Lernet__Wire__Head key = LERNET__WIRE__HEAD__INIT, *kp = &key;
    if (n == 0)
        return NULL;
    key.author.data = (uint8_t *)f->author;
    key.author.len = KEYS_PUBLIC_BYTES;
    key.network = (char *)f->network;
    Lernet__Wire__Head **hit = bsearch(&kp, sorted, n, sizeof *sorted, head_cmp);
    return hit ? *hit : NULL;
}

/* Their heads for the differing buckets → the ranges we miss, and how far
 * apart the two nodes are (for `lernet peers`). */
static int heads_to_wants(sync_t *s, client_t *c, Lernet__Wire__Heads *h)
{
    store_feed_t *ours;
    size_t n_ours;
    /* A log of ours in a bucket we asked about that their heads do not
     * list is one they lack entirely. */
    uint8_t in_bucket[SYNC_NBUCKETS] = {0};
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++)
        in_bucket[b] = (c->asked[b / 8] >> (b % 8)) & 1;
    for (size_t i = 0; i < h->n_heads; i++) {
        Lernet__Wire__Head *x = h->heads[i];
        if (x->author.len != KEYS_PUBLIC_BYTES || !scope_has(&c->scope, x->network))
            return -1;
    }
    if (h->n_heads) /* an empty list has a NULL array: not for qsort */
        qsort(h->heads, h->n_heads, sizeof *h->heads, head_cmp);
    if (scoped_feeds(s, &c->scope, &ours, &n_ours) != 0)
        return -1;
    c->wants = calloc(h->n_heads ? h->n_heads : 1, sizeof *c->wants);
    c->n_wants = 0;
    c->we_lack = c->they_lack = 0;
    free(c->offers);
    c->offers = c->push_to_them ? calloc(n_ours ? n_ours : 1, sizeof *c->offers) : NULL;
    c->n_offers = 0;
    for (size_t i = 0; i < n_ours; i++) {
        Lernet__Wire__Head *t = find_head(h->heads, h->n_heads, &ours[i]);
        uint64_t from = 0;
        if (!t && in_bucket[sync_bucket_of(ours[i].author, ours[i].network)])
            from = 1;
        else if (t && ours[i].seq > t->seq)
            from = t->seq + 1;
        if (!from)
            continue;
        c->they_lack += ours[i].seq - from + 1;
        if (c->offers) {
            want_t *o = &c->offers[c->n_offers++];
            memcpy(o->author, ours[i].author, KEYS_PUBLIC_BYTES);
            snprintf(o->network, sizeof o->network, "%s", ours[i].network);
            o->from = from;
            o->to = ours[i].seq;
        }
    }
    free(ours);
    for (size_t i = 0; i < h->n_heads && c->wants; i++) {
        Lernet__Wire__Head *x = h->heads[i];
        uint64_t mine = 0;
        if (store_have(s->st, x->author.data, x->network, &mine) != STORE_OK)
            return -1;
        if (x->seq <= mine || stuck_at(c, x->author.data, x->network, event_now_ms()) >= 0)
            continue;
        want_t *w = &c->wants[c->n_wants++];
        memcpy(w->author, x->author.data, KEYS_PUBLIC_BYTES);
        snprintf(w->network, sizeof w->network, "%s", x->network);
        w->from = mine + 1;
        w->to = x->seq;
        c->we_lack += x->seq - mine;
    }
    /* Key logs first, so certificates and revocations are stored before
     * the content they decide on (the server sends ranges in order). */
    size_t front = 0;
    for (size_t i = 0; i < c->n_wants; i++)
        if (event_log_reserved(c->wants[i].network)) {
            want_t w = c->wants[i];
            memmove(&c->wants[front + 1], &c->wants[front], (i - front) * sizeof w);
            c->wants[front++] = w;
        }
    return 0;
}

static void send_want(sync_t *s, size_t peer, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    size_t n = c->n_wants < SYNC_MAX_RANGES ? c->n_wants : SYNC_MAX_RANGES;
    Lernet__Wire__Range *ranges = calloc(n, sizeof *ranges);
    Lernet__Wire__Range **rp = calloc(n, sizeof *rp);
    if (!ranges || !rp) {
        free(ranges);
        free(rp);
        end_round(s, c, 0, now_ms);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        lernet__wire__range__init(&ranges[i]);
        ranges[i].author.data = c->wants[i].author;
        ranges[i].author.len = KEYS_PUBLIC_BYTES;
        ranges[i].network = c->wants[i].network;
        ranges[i].from = c->wants[i].from;
        ranges[i].to = c->wants[i].to;
        rp[i] = &ranges[i];
    }
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Want w = LERNET__WIRE__WANT__INIT;
    w.n_ranges = n;
    w.ranges = rp;
    w.max_events = SYNC_BATCH_EVENTS;
    m.body_case = LERNET__WIRE__MSG__BODY_WANT;
    m.want = &w;
    send_client(s, peer, &m);
    free(ranges);
    free(rp);
    expect_reply(s, c, C_EVENTS, now_ms);
}

static void on_heads(sync_t *s, size_t peer, Lernet__Wire__Heads *h, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    free(c->wants);
    c->wants = NULL;
    c->n_wants = 0;
    c->round_applied = 0;
    if (h->n_heads > SYNC_MAX_HEADS || heads_to_wants(s, c, h) != 0) {
        log_warn("partner %s: malformed heads", peer_name(s, (int)peer));
        end_round(s, c, 0, now_ms);
        return;
    }
    log_debug("partner %s: heads: we lack %llu, they lack %llu (%zu log%s to offer)",
              peer_name(s, (int)peer), (unsigned long long)c->we_lack,
              (unsigned long long)c->they_lack, c->n_offers, c->n_offers == 1 ? "" : "s");
    if (c->n_offers)
        send_offers(s, peer);
    if (c->n_wants == 0) { /* they lack ours: their own pull (or our offers) brings it */
        end_round(s, c, 0, now_ms);
        return;
    }
    send_want(s, peer, now_ms);
}

/* Drops the wants of logs put aside (stuck_add). */
static void drop_stuck_wants(client_t *c, int64_t now_ms)
{
    size_t keep = 0;
    for (size_t i = 0; i < c->n_wants; i++)
        if (stuck_at(c, c->wants[i].author, c->wants[i].network, now_ms) < 0)
            c->wants[keep++] = c->wants[i];
    c->n_wants = keep;
}

/* After a batch: move each range past what is now held; drop finished. */
static void advance_wants(sync_t *s, client_t *c)
{
    size_t keep = 0;
    for (size_t i = 0; i < c->n_wants; i++) {
        uint64_t mine = 0;
        store_have(s->st, c->wants[i].author, c->wants[i].network, &mine);
        if (mine >= c->wants[i].to)
            continue;
        c->wants[i].from = mine + 1;
        c->wants[keep++] = c->wants[i];
    }
    c->n_wants = keep;
}

/* Moves the wants past the next `count` events, assuming the batch holds
 * them in the order the server reads ranges (see serve_want), so the next
 * Want can leave before this batch is verified. A wrong guess costs only a
 * batch of duplicates or held-back events: advance_wants then corrects the
 * wants from what the store really holds. */
static void guess_advance(client_t *c, size_t count)
{
    size_t keep = 0, n = c->n_wants < SYNC_MAX_RANGES ? c->n_wants : SYNC_MAX_RANGES;
    for (size_t i = 0; i < c->n_wants; i++) {
        want_t *w = &c->wants[i];
        uint64_t span = w->to - w->from + 1;
        if (i < n && count >= span) {
            count -= (size_t)span;
            continue;
        }
        if (i < n) {
            w->from += count;
            count = 0;
        }
        c->wants[keep++] = *w;
    }
    c->n_wants = keep;
}

static void on_events(sync_t *s, size_t peer, Lernet__Wire__Events *e, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    if (e->n_envelopes > SYNC_BATCH_EVENTS) {
        log_warn("partner %s: batch of %zu events exceeds %d", peer_name(s, (int)peer),
                 e->n_envelopes, SYNC_BATCH_EVENTS);
        end_round(s, c, 0, now_ms);
        return;
    }
    /* A pipeline of three: while the workers verify this batch, this
     * thread stores the previous one, and the partner already reads and
     * sends the next one. */
    size_t n = e->n_envelopes;
    int early = 0;
    if (e->more && n > 0) {
        guess_advance(c, n);
        if ((early = c->n_wants > 0))
            send_want(s, peer, now_ms);
    }
    vpool_item_t *items = items_of(e->envelopes, n);
    if (!items) {
        end_round(s, c, 0, now_ms);
        return;
    }
    vpool_submit(s->pool, items, n, now_ms);
    long prev = c->held ? store_held(s, c) : 1;
    vpool_join(s->pool);
    if (prev <= 0) { /* the store failed or the last batch brought nothing new */
        items_free(items, n);
        end_round(s, c, 0, now_ms); /* a reply in flight is dropped */
        if (c->put_aside && c->n_wants)
            c->next_round_ms = now_ms; /* logs put aside: the others go on at once */
        c->put_aside = 0;
        return;
    }
    if (early && s->holding == 0) {
        c->held = items; /* stored when the next batch arrives */
        c->n_held = n;
        s->holding++;
        return;
    }
    size_t stuck = 0;
    c->put_aside = 0;
    long applied = store_parsed(s, (int)peer, c, &c->scope, items, n, &stuck);
    if (applied < 0) {
        end_round(s, c, 0, now_ms);
        return;
    }
    account(c, applied);
    advance_wants(s, c);
    drop_stuck_wants(c, now_ms);
    if (early && applied > 0)
        return; /* the next batch is on its way */
    if (early || (applied <= 0 && c->put_aside && c->n_wants)) {
        /* no progress: the reply in flight is dropped; where a log was put
         * aside, the others are asked for at once in a new round */
        end_round(s, c, 0, now_ms);
        if (c->put_aside && c->n_wants)
            c->next_round_ms = now_ms;
    } else if (c->n_wants && applied > 0)
        send_want(s, peer, now_ms);
    else if (applied > 0)
        send_summary(s, peer, now_ms); /* confirm: usually ends in sync */
    else
        end_round(s, c, 0, now_ms); /* no progress: do not loop, retry next round */
}

static void on_client_error(sync_t *s, size_t peer, const Lernet__Wire__Error *e,
                            int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    /* escaped here too: `lernet peers` prints it to a terminal, JSON needs UTF-8 */
    log_escape(c->last_error, sizeof c->last_error, e->message ? e->message : "");
    log_error("partner %s refused: %.190s", peer_name(s, (int)peer), e->message ? e->message : "");
    client_reset(s, c);
    /* A version mismatch will not fix itself soon: back off. */
    c->next_round_ms = now_ms + (e->code == LERNET__WIRE__ERROR__CODE__CODE_VERSION
                                     ? 30 * (int64_t)s->cfg->sync_interval_ms
                                     : (int64_t)s->cfg->sync_interval_ms);
}

void sync_client_recv(sync_t *s, size_t peer, const uint8_t *buf, size_t len, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    s->stats.bytes_received += len;
    msg_t *m = lernet__wire__msg__unpack(NULL, len, buf);
    if (!m) {
        log_warn("partner %s: undecodable reply (%zu bytes)", peer_name(s, (int)peer), len);
        return;
    }
    enum cstate st = c->state;
    if (m->body_case == LERNET__WIRE__MSG__BODY_ERROR)
        on_client_error(s, peer, m->error, now_ms);
    else if (st == C_HELLO && m->body_case == LERNET__WIRE__MSG__BODY_HELLO_ACK)
        on_hello_ack(s, peer, m->hello_ack, now_ms);
    else if (st == C_SUMMARY && m->body_case == LERNET__WIRE__MSG__BODY_SUMMARY)
        end_round(s, c, 1, now_ms);
    else if (st == C_SUMMARY && m->body_case == LERNET__WIRE__MSG__BODY_BUCKETS)
        on_buckets(s, peer, m->buckets, now_ms);
    else if (st == C_HEADS && m->body_case == LERNET__WIRE__MSG__BODY_HEADS)
        on_heads(s, peer, m->heads, now_ms);
    else if (st == C_EVENTS && m->body_case == LERNET__WIRE__MSG__BODY_EVENTS)
        on_events(s, peer, m->events, now_ms);
    else
        log_debug("partner %s: unexpected message %d in state %s", peer_name(s, (int)peer),
                  (int)m->body_case, cstate_names[st]);
    lernet__wire__msg__free_unpacked(m, NULL);
}

void sync_client_connected(sync_t *s, size_t peer, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    client_reset(s, c);
    c->connected = 1;
    if (!s->stats.first_connected_ms)
        s->stats.first_connected_ms = event_now_ms();
    log_info("partner %s: connected", peer_name(s, (int)peer));
    send_hello(s, peer, now_ms);
}

void sync_client_disconnected(sync_t *s, size_t peer)
{
    client_t *c = &s->clients[peer];
    if (c->connected)
        log_info("partner %s: disconnected", peer_name(s, (int)peer));
    client_reset(s, c);
    c->connected = 0;
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
