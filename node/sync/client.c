/*
 * client: this node pulling from one partner over its own connection. A
 * round: Hello (once per connection) → Summary; equal roots end the round
 * in a few dozen bytes each way. Otherwise the server's bucket digests
 * narrow the difference to a few buckets, their heads give the missing
 * ranges (wants), and Want/Events moves them in bounded batches, each
 * verified and committed before it counts (apply.c). Logs a partner serves
 * only refusals or forks for are put aside for a while (stuck_add), so they
 * cannot starve the others.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "sync/sync_impl.h"

const char *const cstate_names[] = {"idle", "hello", "summary", "heads", "events", "in-sync"};

/* The log is put aside for this client now. */
static bool is_stuck(const client_t *c, const uint8_t *author, const char *network,
                     int64_t now_ms)
{
    for (size_t i = 0; i < SYNC_MAX_STUCK; i++)
        if (c->stuck[i].until_ms > now_ms && strcmp(c->stuck[i].network, network) == 0 &&
            memcmp(c->stuck[i].author, author, KEYS_PUBLIC_BYTES) == 0)
            return true;
    return false;
}

/* Puts a log this partner served nothing usable for aside: 60 s, doubling
 * each time it happens again, at most an hour. Returns true if it was new. */
bool stuck_add(sync_t *s, client_t *c, const uint8_t *author, const char *network,
               int64_t now_ms)
{
    size_t slot = 0;
    unsigned strikes = 0;
    for (size_t i = 0; i < SYNC_MAX_STUCK; i++) {
        if (strcmp(c->stuck[i].network, network) == 0 &&
            memcmp(c->stuck[i].author, author, KEYS_PUBLIC_BYTES) == 0) {
            if (c->stuck[i].until_ms > now_ms)
                return false;
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
    return true;
}

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
    c->have_scope = false;
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

static void end_round(sync_t *s, client_t *c, bool in_sync, int64_t now_ms)
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
        end_round(s, c, false, now_ms);
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
    c->have_scope = true;
    c->push_to_them = false;
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
    bool any = false;
    if (b->digests.len != sizeof ours || scope_digest(s, &c->scope, root, ours, NULL) != 0) {
        end_round(s, c, false, now_ms);
        return;
    }
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

/* Their heads name only logs in scope, each with a whole key. */
static bool heads_valid(const client_t *c, const Lernet__Wire__Heads *h)
{
    for (size_t i = 0; i < h->n_heads; i++) {
        const Lernet__Wire__Head *x = h->heads[i];
        if (x->author.len != KEYS_PUBLIC_BYTES || !scope_has(&c->scope, x->network))
            return false;
    }
    return true;
}

static bool bucket_asked(const client_t *c, unsigned b)
{
    return (c->asked[b / 8] >> (b % 8)) & 1;
}

/* Our logs against their (sorted) heads: how many events they lack and,
 * for a partner we push to, the ranges to offer it. A log of ours in a
 * bucket we asked about that their heads do not list is one they lack
 * entirely. */
static void what_they_lack(client_t *c, Lernet__Wire__Heads *h, const store_feed_t *ours,
                           size_t n_ours)
{
    free(c->offers);
    c->offers = c->push_to_them ? calloc(n_ours ? n_ours : 1, sizeof *c->offers) : NULL;
    c->n_offers = 0;
    for (size_t i = 0; i < n_ours; i++) {
        Lernet__Wire__Head *t = find_head(h->heads, h->n_heads, &ours[i]);
        uint64_t from = 0;
        if (!t && bucket_asked(c, sync_bucket_of(ours[i].author, ours[i].network)))
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
}

/* Their heads against what this node holds: the ranges to ask for (not of
 * logs put aside) and how many events we lack. -1: the store failed. */
static int what_we_lack(sync_t *s, client_t *c, const Lernet__Wire__Heads *h)
{
    c->wants = calloc(h->n_heads ? h->n_heads : 1, sizeof *c->wants);
    c->n_wants = 0;
    for (size_t i = 0; i < h->n_heads && c->wants; i++) {
        const Lernet__Wire__Head *x = h->heads[i];
        uint64_t mine = 0;
        if (store_have(s->st, x->author.data, x->network, &mine) != STORE_OK)
            return -1;
        if (x->seq <= mine || is_stuck(c, x->author.data, x->network, event_now_ms()))
            continue;
        want_t *w = &c->wants[c->n_wants++];
        memcpy(w->author, x->author.data, KEYS_PUBLIC_BYTES);
        snprintf(w->network, sizeof w->network, "%s", x->network);
        w->from = mine + 1;
        w->to = x->seq;
        c->we_lack += x->seq - mine;
    }
    return 0;
}

/* Key logs first, so certificates and revocations are stored before the
 * content they decide on (the server sends ranges in order). Stable. */
static void key_logs_first(want_t *wants, size_t n)
{
    size_t front = 0;
    for (size_t i = 0; i < n; i++)
        if (event_log_reserved(wants[i].network)) {
            want_t w = wants[i];
            memmove(&wants[front + 1], &wants[front], (i - front) * sizeof w);
            wants[front++] = w;
        }
}

/* Their heads for the differing buckets → the ranges we miss, and how far
 * apart the two nodes are (for `lernet peers`). -1: malformed heads or
 * the store failed. */
static int heads_to_wants(sync_t *s, client_t *c, Lernet__Wire__Heads *h)
{
    store_feed_t *ours;
    size_t n_ours;
    if (!heads_valid(c, h))
        return -1;
    if (h->n_heads) /* an empty list has a NULL array: not for qsort */
        qsort(h->heads, h->n_heads, sizeof *h->heads, head_cmp);
    if (scoped_feeds(s, &c->scope, &ours, &n_ours) != 0)
        return -1;
    c->we_lack = c->they_lack = 0;
    what_they_lack(c, h, ours, n_ours);
    free(ours);
    if (what_we_lack(s, c, h) != 0)
        return -1;
    key_logs_first(c->wants, c->n_wants);
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
    if (h->n_heads > SYNC_MAX_HEADS || heads_to_wants(s, c, h) != 0) {
        log_warn("partner %s: malformed heads", peer_name(s, (int)peer));
        end_round(s, c, false, now_ms);
        return;
    }
    log_debug("partner %s: heads: we lack %llu, they lack %llu (%zu log%s to offer)",
              peer_name(s, (int)peer), (unsigned long long)c->we_lack,
              (unsigned long long)c->they_lack, c->n_offers, c->n_offers == 1 ? "" : "s");
    if (c->n_offers)
        send_offers(s, peer);
    if (c->n_wants == 0) { /* they lack ours: their own pull (or our offers) brings it */
        end_round(s, c, false, now_ms);
        return;
    }
    send_want(s, peer, now_ms);
}

/* Drops the wants of logs put aside (stuck_add). */
static void drop_stuck_wants(client_t *c, int64_t now_ms)
{
    size_t keep = 0;
    for (size_t i = 0; i < c->n_wants; i++)
        if (!is_stuck(c, c->wants[i].author, c->wants[i].network, now_ms))
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
    STEP_CONFIRM,    /* progress, no wants left: a Summary, which usually ends in sync */
    STEP_END,        /* no progress: do not loop, the next round retries */
    STEP_END_RESUME, /* logs were put aside: a new round asks for the others at once */
};

/* The first stage of the next batch: if this one says more follow, the
 * next Want leaves now (see guess_advance). */
static enum pipe ask_ahead(sync_t *s, size_t peer, const Lernet__Wire__Events *e,
                           int64_t now_ms)
{
    client_t *c = &s->clients[peer];
    if (!e->more || e->n_envelopes == 0)
        return PIPE_LOCKSTEP;
    guess_advance(c, e->n_envelopes);
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
    if (n > SYNC_BATCH_EVENTS) {
        log_warn("partner %s: batch of %zu events exceeds %d", peer_name(s, (int)peer), n,
                 SYNC_BATCH_EVENTS);
        end_round(s, c, false, now_ms);
        return;
    }
    enum pipe pipe = ask_ahead(s, peer, e, now_ms);
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
    account(c, applied);
    advance_wants(s, c);
    drop_stuck_wants(c, now_ms);
    take_step(s, peer, after_store(c, pipe, applied), now_ms);
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
    client_reset(s, c);
    c->connected = true;
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
    c->connected = false;
}
