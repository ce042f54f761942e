/*
 * apply: what happens to a batch of events a partner sent (an Events reply
 * or a Push). The envelopes are verified on every core (vpool, event_parse:
 * nothing unverified reaches the store; a pushed copy of an event stored
 * here already is dropped before it costs a verification), refused ones
 * are counted and
 * logged by reason, the rest are stored in one transaction (a slice of
 * SYNC_SLICE_MS at most where io.between wants a turn; see next_slice),
 * and only after its commit are the new ones handed on to the other
 * partners (sync_push): an event is never forwarded before it is durable
 * here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "sync/sync_impl.h"

/* Items for a batch's envelopes (which they point into), or NULL. */
vpool_item_t *items_of(ProtobufCBinaryData *envs, size_t n)
{
    vpool_item_t *items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; items && i < n; i++) {
        items[i].buf = envs[i].data;
        items[i].len = envs[i].len;
    }
    return items;
}

void items_free(vpool_item_t *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        event_free(&items[i].ev);
    free(items);
}

/* The logs of one batch: which made progress, which brought only
 * refusals or forks (bounded; logs beyond the bound are not judged). */
#define BATCH_LOGS 32
typedef struct batch_logs {
    struct {
        uint8_t author[KEYS_PUBLIC_BYTES];
        config_network_t network;
        bool progress, bad;
    } l[BATCH_LOGS];
    size_t n;
} batch_logs_t;

static void batch_log_note(batch_logs_t *b, const event_t *ev, bool progress, bool bad)
{
    size_t i = 0;
    while (i < b->n && (memcmp(b->l[i].author, ev->author, KEYS_PUBLIC_BYTES) != 0 ||
                        strcmp(b->l[i].network, ev->network) != 0))
        i++;
    if (i == b->n) {
        if (b->n == BATCH_LOGS)
            return;
        memcpy(b->l[i].author, ev->author, KEYS_PUBLIC_BYTES);
        snprintf(b->l[i].network, sizeof b->l[i].network, "%s", ev->network);
        b->l[i].progress = b->l[i].bad = false;
        b->n++;
    }
    b->l[i].progress |= progress;
    b->l[i].bad |= bad;
}

/* A batch being stored: the events new here in the open slice's
 * transaction (handed on after its commit), the progress made by the whole
 * batch (applied: of them counted in the stats already), and the outcome
 * per log. */
typedef struct stored {
    event_t **fresh;
    size_t n_fresh, applied, counted, held;
    batch_logs_t logs;
    feeds_mark_t mark; /* the digests follow the open slice alone */
} stored_t;

/* Refused like a bad event: one outside the scope of the exchange, or of a
 * network the partner may not have now (local events: any in scope). */
static bool may_receive(sync_t *s, int peer, const scope_t *sc, const char *network)
{
    return scope_has(sc, network) && (peer < 0 || net_allowed(s, (size_t)peer, network));
}

static void log_fork(const event_t *ev)
{
    char fpr[KEYS_FPR_STR_SIZE];
    keys_fingerprint(fpr, ev->author);
    log_warn("fork: author %s signed two different events for seq %llu in %s "
             "(kept as evidence)", fpr, (unsigned long long)ev->seq, ev->network);
}

/* Stores one verified item inside b's transaction, taking its event;
 * refusals are counted and logged. -1: the store failed, the transaction
 * must be rolled back. */
static int store_one(sync_t *s, int peer, const scope_t *sc, vpool_item_t *it, stored_t *b,
                     int64_t now_ms)
{
    event_t *ev = it->ev;
    int outcome, rc = it->rc;
    size_t applied = 0;
    char why[256];
    it->ev = NULL;
    s->stats.events_received++;
    if (it->known) { /* stored already: nothing was parsed, nothing to store */
        s->stats.events_known++;
        return 0;
    }
    snprintf(why, sizeof why, "%s", it->why);
    if (rc == EV_OK && !may_receive(s, peer, sc, ev->network)) {
        snprintf(why, sizeof why, "network '%s' is not shared with this partner", ev->network);
        rc = EV_BAD_NETWORK;
    }
    if (rc != EV_OK) {
        refusal(s, peer, rc, err_name(rc), why, now_ms);
        event_free(&ev);
        return 0;
    }
    rc = store_add(s->st, ev, &outcome, &applied, why, sizeof why);
    if (rc == STORE_ERR_SQL || rc == STORE_ERR_FULL || rc == STORE_ERR_BUSY) {
        log_error("store failed on an event from %s: %s", peer_name(s, peer), why);
        event_free(&ev);
        return -1;
    }
    if (rc != STORE_OK)
        refusal(s, peer, rc, err_text(rc), why, now_ms);
    else if (outcome == STORE_FORK)
        log_fork(ev);
    b->applied += applied;
    b->held += rc == STORE_OK && outcome == STORE_HELD;
    batch_log_note(&b->logs, ev, rc == STORE_OK && (applied > 0 || outcome == STORE_HELD),
                   rc != STORE_OK || outcome == STORE_FORK);
    if (rc == STORE_OK && outcome == STORE_APPLIED)
        b->fresh[b->n_fresh++] = ev;
    else
        event_free(&ev);
    return 0;
}

/* The logs of the batch that brought only refusals or forks are put aside
 * for client c (stuck_add). Returns how many were new. */
static size_t put_aside_logs(sync_t *s, client_t *c, const batch_logs_t *logs, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; c && i < logs->n; i++)
        if (logs->l[i].bad && !logs->l[i].progress &&
            stuck_add(s, c, logs->l[i].author, logs->l[i].network, now_ms)) {
            c->put_aside++;
            n++;
        }
    return n;
}

/* Durable now: only from here may others hear of these events. */
static void hand_on(sync_t *s, int peer, stored_t *b)
{
    for (size_t i = 0; i < b->n_fresh; i++) {
        if (s->on_applied)
            s->on_applied(s->on_applied_ctx, b->fresh[i], peer);
        sync_push(s, b->fresh[i], peer);
        event_free(&b->fresh[i]);
    }
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Commits the open slice; then the digests follow it, the stats count it
 * and its new events are handed on. -1: the commit failed (the slice's
 * fresh events are still in b, for the caller's rollback). */
static int commit_slice(sync_t *s, int peer, stored_t *b)
{
    if (store_commit(s->st) != STORE_OK)
        return -1;
    digest_note_batch(s, b->mark, b->fresh, b->n_fresh);
    s->stats.events_applied += b->applied - b->counted;
    if (b->applied > b->counted)
        s->stats.last_applied_ms = event_now_ms();
    b->counted = b->applied;
    hand_on(s, peer, b);
    b->n_fresh = 0;
    return 0;
}

/* The open slice is committed, io.between runs, the next one begins: once
 * the slice has run SYNC_SLICE_MS, and only if there is an io.between to
 * run (else one transaction is cheaper). -1: the store failed (then no
 * transaction may be open, which store_rollback tolerates). */
static int next_slice(sync_t *s, int peer, stored_t *b, int64_t *since_ms)
{
    if (!s->io.between || mono_ms() - *since_ms < SYNC_SLICE_MS)
        return 0;
    if (commit_slice(s, peer, b) != 0)
        return -1;
    s->io.between(s->io.ctx);
    b->mark = digest_mark(s);
    *since_ms = mono_ms();
    return store_begin(s->st) == STORE_OK ? 0 : -1;
}

long store_parsed(sync_t *s, int peer, client_t *c, const scope_t *sc, vpool_item_t *items,
                  size_t n, size_t *stuck)
{
    stored_t b = {.fresh = calloc(n ? n : 1, sizeof *b.fresh), .mark = digest_mark(s)};
    int64_t now_ms = event_now_ms(), since_ms = mono_ms();
    bool failed = false;
    if (stuck)
        *stuck = 0;
    if (!b.fresh || store_begin(s->st) != STORE_OK) {
        items_free(items, n);
        free(b.fresh);
        return -1;
    }
    for (size_t i = 0; i < n && !failed; i++) {
        failed = store_one(s, peer, sc, &items[i], &b, now_ms) != 0;
        if (!failed && i + 1 < n)
            failed = next_slice(s, peer, &b, &since_ms) != 0;
    }
    if (failed || commit_slice(s, peer, &b) != 0) {
        store_rollback(s->st);
        for (size_t i = 0; i < b.n_fresh; i++)
            event_free(&b.fresh[i]);
        free(b.fresh);
        items_free(items, n);
        return -1;
    }
    size_t aside = put_aside_logs(s, c, &b.logs, now_ms);
    if (stuck)
        *stuck = aside;
    free(b.fresh);
    items_free(items, n);
    return (long)(b.applied + b.held);
}

/* Marks the items whose event is stored here already (store_known): in a
 * mesh every event is pushed by each partner that has it, so most pushed
 * copies are duplicates, and verifying one costs far more than the lookup
 * of its id. A pull asks only for what is missing, so it is not checked. */
static void mark_known(sync_t *s, vpool_item_t *items, size_t n)
{
    uint8_t id[EVENT_ID_BYTES];
    for (size_t i = 0; i < n; i++)
        items[i].known = event_envelope_id(items[i].buf, items[i].len, id) == 0 &&
                         store_known(s->st, id);
}

/* Verifies a received batch (a Push) on every core, then stores it. */
long apply_batch(sync_t *s, int peer, const scope_t *sc, ProtobufCBinaryData *envs,
                 size_t n, int64_t now_ms)
{
    vpool_item_t *items = items_of(envs, n);
    if (!items)
        return -1;
    mark_known(s, items, n);
    vpool_parse(s->pool, items, n, now_ms);
    return store_parsed(s, peer, NULL, sc, items, n, NULL);
}
