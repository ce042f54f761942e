/*
 * client: this node pulling from one partner over its own connection. A
 * round: Hello (once per connection) → Summary; equal roots end the round
 * in a few dozen bytes each way. Otherwise the server's bucket digests
 * narrow the difference to a few buckets, their heads give the missing
 * ranges (wants.c), and Want/Events moves them in bounded batches, each
 * verified and committed before it counts (apply.c), in a pipeline (see
 * on_events).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/text.h"
#include "sync/sync_impl.h"

/* The step a client's round is at: for logs and `lernet peers --json`
 * ("round"); whether the nodes are in sync is pstat_t's, not this. */
const char *const cstate_names[] = {"idle", "hello", "summary", "heads", "events", "done"};

static void account(sync_t *s, client_t *c, long applied)
{
    if (applied <= 0)
        return;
    c->round_applied += (uint64_t)applied;
    status_received(s, (size_t)(c - s->clients), (uint64_t)applied);
}

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
    account(s, c, applied);
    return applied;
}

void client_reset(sync_t *s, client_t *c)
{
    store_held(s, c);
    c->state = C_IDLE;
    c->have_scope = false;
    c->after.set = false;
    c->heads_more = false;
    free(c->wants);
    c->wants = NULL;
    c->n_wants = 0;
    offers_clear(c);
}

static void expect_reply(sync_t *s, client_t *c, enum cstate st, int64_t now_ms)
{
    (void)s;
    c->state = st;
    /* A Hello costs the server nothing to answer: if none comes quickly,
     * it was lost in a reconnect and is worth sending again. */
    c->deadline_ms = now_ms + (st == C_HELLO ? SYNC_HELLO_TIMEOUT_MS : SYNC_REPLY_TIMEOUT_MS);
}

static void end_round(sync_t *s, client_t *c, bool in_sync, int64_t now_ms)
{
    store_held(s, c);
    c->state = C_DONE;
    c->next_round_ms = now_ms + s->cfg->sync_interval_ms;
    s->stats.rounds++;
    if (in_sync) {
        s->stats.rounds_in_sync++;
        status_in_sync(s, (size_t)(c - s->clients), now_ms);
    }
}

static void send_hello(sync_t *s, size_t peer, int64_t now_ms)
{
    const config_peer_t *p = &s->cfg->peers[peer];
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Hello h = LERNET__WIRE__HELLO__INIT;
    char *caps[] = {"digest-v1", "push-v1", "offer-v1"};
    char *nets[CONFIG_MAX_NETWORKS];
    size_t n = 0;
    /* only what we let the partner have now: the server digests what we
     * ask for, so asking for more would leave the two roots unequal for good */
    for (size_t i = 0; i < p->n_networks; i++)
        if (net_allowed(s, peer, p->networks[i]))
            nets[n++] = (char *)p->networks[i];
    h.protocol = SYNC_PROTOCOL;
    h.n_capabilities = 3;
    h.capabilities = caps;
    h.n_networks = n;
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
        end_round(s, c, false, now_ms);
        return;
    }
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Summary sum = LERNET__WIRE__SUMMARY__INIT;
    sum.root.data = root;
    sum.root.len = sizeof root;
    sum.logs = (uint32_t)logs;
    const pstat_t *ps = &s->status[peer];
    if (ps->state == SYNC_APART && ps->lack_known) { /* for the server's status only */
        sum.sender_lacks = ps->we_lack;
        sum.receiver_lacks = ps->they_lack;
    }
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
        c->barred = true;
        c->next_round_ms = now_ms + s->cfg->sync_interval_ms;
        return;
    }
    c->barred = false;
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
        pstat_t *ps = &s->status[peer];
        snprintf(ps->last_error, sizeof ps->last_error,
                 "partner speaks protocol %u, this node speaks %d", a->protocol, SYNC_PROTOCOL);
        log_error("partner %s: %s", peer_name(s, (int)peer), ps->last_error);
        client_reset(s, c);
        c->next_round_ms =
            now_ms + SYNC_VERSION_BACKOFF_ROUNDS * (int64_t)s->cfg->sync_interval_ms;
        return;
    }
    c->n_acked = keep_networks(s->cfg, c->acked, a->networks, a->n_networks);
    c->gen = 0; /* derive the scope now */
    if (!client_scope(s, peer)) {
        client_reset(s, c);
        c->next_round_ms = now_ms + s->cfg->sync_interval_ms;
        return;
    }
    c->have_scope = true;
    c->offer_acks = c->push_cap = false;
    for (size_t i = 0; i < a->n_capabilities && i < 16; i++) {
        c->offer_acks |= strcmp(a->capabilities[i], "offer-v1") == 0;
        c->push_cap |= strcmp(a->capabilities[i], "push-to-me") == 0;
    }
    c->push_to_them = !c->offer_acks && c->push_cap; /* else each round's Buckets say */
    snprintf(c->remote_name, sizeof c->remote_name, "%s", a->node_name);
    s->status[peer].last_error[0] = '\0';
    log_info("partner %s: session open, %zu network%s in scope", peer_name(s, (int)peer),
             c->scope.n, c->scope.n == 1 ? "" : "s");
    send_summary(s, peer, now_ms);
}

/* Asks for the heads of the buckets in c->asked: the first page, or the
 * one after c->after (see serve_get_heads). */
static void send_get_heads(sync_t *s, size_t peer, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    msg_t m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__GetHeads g = LERNET__WIRE__GET_HEADS__INIT;
    g.buckets.data = c->asked;
    g.buckets.len = sizeof c->asked;
    if (c->after.set) {
        g.after_author.data = c->after.author;
        g.after_author.len = KEYS_PUBLIC_BYTES;
        g.after_network = c->after.network;
    }
    m.body_case = LERNET__WIRE__MSG__BODY_GET_HEADS;
    m.get_heads = &g;
    send_client(s, peer, &m);
    expect_reply(s, c, C_HEADS, now_ms);
}

static void on_buckets(sync_t *s, size_t peer, const Lernet__Wire__Buckets *b, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    uint8_t root[SYNC_ROOT_BYTES], ours[SYNC_NBUCKETS * SYNC_BUCKET_BYTES];
    uint8_t bitmap[SYNC_NBUCKETS / 8] = {0};
    bool any = false;
    if (b->digests.len != sizeof ours || scope_digest(s, &c->scope, root, ours, NULL) != 0) {
        end_round(s, c, false, now_ms);
        return;
    }
    /* whether the server pulls from us itself now, or relies on our offers */
    c->push_to_them = c->offer_acks ? b->push_to_me : c->push_cap;
    for (unsigned i = 0; i < SYNC_NBUCKETS; i++) {
        if (memcmp(ours + i * SYNC_BUCKET_BYTES, b->digests.data + i * SYNC_BUCKET_BYTES,
                   SYNC_BUCKET_BYTES) != 0) {
            bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            any = true;
        }
    }
    if (!any) { /* changed between the two messages; the next round sees it */
        end_round(s, c, true, now_ms);
        return;
    }
    memcpy(c->asked, bitmap, sizeof bitmap);
    c->after.set = false;
    c->heads_more = false;
    send_get_heads(s, peer, now_ms);
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
        end_round(s, c, false, now_ms);
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
    uint64_t we_lack, they_lack;
    if (h->n_heads > SYNC_MAX_HEADS || heads_to_wants(s, c, h, &we_lack, &they_lack) != 0) {
        log_warn("partner %s: malformed heads", peer_name(s, (int)peer));
        end_round(s, c, false, now_ms);
        return;
    }
    if (!c->heads_more) /* the counts of the whole round, not of a page */
        status_apart(s, peer, true, we_lack, they_lack, now_ms);
    log_debug("partner %s: heads: we lack %llu, they lack %llu (%zu log%s to offer)",
              peer_name(s, (int)peer), (unsigned long long)we_lack,
              (unsigned long long)they_lack, c->n_offers - c->offer_next,
              c->n_offers - c->offer_next == 1 ? "" : "s");
    send_offers(s, peer, now_ms); /* if any, and none awaits its acknowledgement */
    if (c->n_wants == 0 && c->heads_more) /* nothing to ask in this page: the next one */
        send_get_heads(s, peer, now_ms);
    else if (c->n_wants == 0) /* they lack ours: their own pull (or our offers) brings it */
        end_round(s, c, false, now_ms);
    else
        send_want(s, peer, now_ms);
}

/*
 * The batch pipeline. A batch of events passes three stages: the partner
 * reads and sends it, the workers verify it, this thread stores it. When a
 * batch says more follow, the next Want leaves before the batch is
 * verified (PIPE_AHEAD: asked for past it as far as can be guessed), and
 * the verified batch is held, stored only while the workers verify the
 * next one: so all three stages run at once, on three batches. One client
 * at a time may hold a batch (sync_t.holding), which bounds the memory.
 * Otherwise (PIPE_LOCKSTEP) a batch is stored at once and the next Want
 * waits for it.
 */
enum pipe { PIPE_LOCKSTEP, PIPE_AHEAD };

/* What a client does once a batch is stored. */
enum next_step {
    STEP_AWAIT,      /* progress, and the next batch is on its way already */
    STEP_WANT,       /* progress: ask for the next batch */
    STEP_CONFIRM,    /* progress, no wants left: the next page of heads, if the partner
                      * has more; else a Summary, which usually ends in sync */
    STEP_END,        /* no progress: do not loop, the next round retries */
    STEP_END_RESUME, /* logs were put aside: a new round asks for the others at once */
};

/* The first stage of the next batch: if this one says more follow, the
 * next Want leaves now (see guess_advance). */
static enum pipe ask_ahead(sync_t *s, size_t peer, const Lernet__Wire__Events *e,
                           int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    size_t of_ranges = e->n_envelopes - e->extra; /* the extras are beside the ranges */
    if (!e->more || of_ranges == 0)
        return PIPE_LOCKSTEP;
    guess_advance(c, of_ranges);
    if (c->n_wants == 0)
        return PIPE_LOCKSTEP;
    send_want(s, peer, now_ms);
    return PIPE_AHEAD;
}

/* A round that makes no progress ends; a reply in flight is then dropped. */
static enum next_step no_progress(const client_t *c)
{
    return c->put_aside && c->n_wants ? STEP_END_RESUME : STEP_END;
}

static enum next_step after_store(const client_t *c, enum pipe pipe, long applied)
{
    if (applied <= 0 || pipe == PIPE_AHEAD)
        return applied > 0 ? STEP_AWAIT : no_progress(c);
    return c->n_wants ? STEP_WANT : STEP_CONFIRM;
}

static void take_step(sync_t *s, size_t peer, enum next_step step, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    switch (step) {
    case STEP_AWAIT:
        break;
    case STEP_WANT:
        send_want(s, peer, now_ms);
        break;
    case STEP_CONFIRM:
        if (c->heads_more)
            send_get_heads(s, peer, now_ms);
        else
            send_summary(s, peer, now_ms);
        break;
    case STEP_END:
    case STEP_END_RESUME:
        end_round(s, c, false, now_ms);
        if (step == STEP_END_RESUME)
            c->next_round_ms = now_ms;
        break;
    }
}

/* Verified: kept to be stored while the next batch is verified. */
static void hold_batch(sync_t *s, client_t *c, vpool_item_t *items, size_t n)
{
    c->held = items;
    c->n_held = n;
    s->holding++;
}

static void on_events(sync_t *s, size_t peer, Lernet__Wire__Events *e, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    size_t n = e->n_envelopes;
    enum pipe pipe = PIPE_LOCKSTEP;
    if (!extras_first(e)) {
        log_warn("partner %s: batch of %zu events (%u extra) exceeds %d (%d)",
                 peer_name(s, (int)peer), n, e->extra, SYNC_BATCH_EVENTS, SYNC_BATCH_EXTRA);
        end_round(s, c, false, now_ms);
        return;
    }
    pipe = ask_ahead(s, peer, e, now_ms);
    vpool_item_t *items = items_of(e->envelopes, n);
    if (!items) {
        end_round(s, c, false, now_ms);
        return;
    }
    /* the workers verify this batch while this thread stores the one before */
    vpool_submit(s->pool, items, n, now_ms);
    long prev = c->held ? store_held(s, c) : 1;
    vpool_join(s->pool);
    if (prev <= 0) { /* the store failed or the batch before brought nothing new */
        items_free(items, n);
        take_step(s, peer, no_progress(c), now_ms);
        c->put_aside = 0;
        return;
    }
    if (pipe == PIPE_AHEAD && s->holding == 0) {
        hold_batch(s, c, items, n);
        return;
    }
    c->put_aside = 0;
    long applied = store_parsed(s, (int)peer, c, &c->scope, items, n, NULL);
    if (applied < 0) {
        end_round(s, c, false, now_ms);
        return;
    }
    account(s, c, applied);
    advance_wants(s, c);
    drop_stuck_wants(c, now_ms);
    take_step(s, peer, after_store(c, pipe, applied), now_ms);
}

static void on_client_error(sync_t *s, size_t peer, const Lernet__Wire__Error *e,
                            int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    pstat_t *ps = &s->status[peer];
    /* escaped here too: `lernet peers` prints it to a terminal, JSON needs UTF-8 */
    text_escape(ps->last_error, sizeof ps->last_error, e->message ? e->message : "");
    log_error("partner %s refused: %.190s", peer_name(s, (int)peer), e->message ? e->message : "");
    client_reset(s, c);
    /* A version mismatch will not fix itself soon: back off. */
    int64_t rounds = e->code == LERNET__WIRE__ERROR__CODE__CODE_VERSION
                         ? SYNC_VERSION_BACKOFF_ROUNDS : 1;
    c->next_round_ms = now_ms + rounds * (int64_t)s->cfg->sync_interval_ms;
}

void sync_client_recv(sync_t *s, size_t peer, const uint8_t *buf, size_t len, int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    s->stats.bytes_received += len;
    s->status[peer].bytes_received += len;
    msg_t *m = lernet__wire__msg__unpack(NULL, len, buf);
    if (!m) {
        log_warn("partner %s: undecodable reply (%zu bytes)", peer_name(s, (int)peer), len);
        return;
    }
    enum cstate st = c->state;
    if (m->body_case == LERNET__WIRE__MSG__BODY_ERROR)
        on_client_error(s, peer, m->error, now_ms);
    else if (m->body_case == LERNET__WIRE__MSG__BODY_OFFER_ACK) /* offers run beside the round */
        on_offer_ack(s, peer, m->offer_ack, now_ms);
    else if (m->body_case == LERNET__WIRE__MSG__BODY_CHUNK) /* so do attachment fetches */
        xfer_on_chunk(s, peer, m->chunk, now_ms);
    else if (st == C_HELLO && m->body_case == LERNET__WIRE__MSG__BODY_HELLO_ACK)
        on_hello_ack(s, peer, m->hello_ack, now_ms);
    else if (st == C_SUMMARY && m->body_case == LERNET__WIRE__MSG__BODY_SUMMARY)
        end_round(s, c, true, now_ms);
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
    if (!c->listed) { /* a partner sync_new did not see with an endpoint */
        size_t *d = realloc(s->dialed, (s->n_dialed + 1) * sizeof *d);
        if (!d)
            return;
        s->dialed = d;
        s->dialed[s->n_dialed++] = peer;
        c->listed = true;
    }
    client_reset(s, c);
    c->connected = true;
    c->down_since_ms = 0;
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
    xfer_client_down(s, peer);
    c->connected = false;
    c->down_since_ms = 0; /* pulls_from starts the grace when first asked */
}
