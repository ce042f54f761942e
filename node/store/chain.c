/*
 * chain: each log's chain of canonical rows, and what waits beside it.
 *
 * chain_add decides what an arriving event is. One that links to its
 * log's head is appended (and derived: authz_derive, items_derive); one
 * ahead of a gap is held back in pending until the gap closes; a second,
 * different event for a seq already taken is kept as fork evidence and
 * its author marked forked; where a cut pinned the log's history
 * ("pinned history" below) an event joins only once the pins prove it is
 * on that history. chain_advance appends, in order, what may follow a
 * head that moved.
 *
 * Invariants kept here:
 *  - an event's bytes, once stored, never change, and a row is dropped
 *    only to be inserted again at once (a withdrawn or fork-evidence copy
 *    joining the chain, so that rowid order stays chain order). What does
 *    change is a row's state (enum row_state; lifecycle_cut_log withdraws)
 *    and a payload a stripped copy lacked, filled in from a genuine one
 *    (fill_payload);
 *  - the canonical rows of a log have seq 1..head, each prev = id of seq-1
 *    (the partial unique index events_chain allows one per seq);
 *  - pins only name seqs above their log's head;
 *  - feeds.head_seq/head_id always name the last canonical row of the log;
 *  - held-back events and fork evidence are bounded (STORE_MAX_PENDING,
 *    STORE_MAX_PENDING_PER_LOG, STORE_MAX_FORKS per author).
 */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/why.h"

/* Where an event above its log's head stands against the log's pins (see
 * "pinned history"): above every pin (FREE), the pinned event (PROVEN),
 * not it (WRONG), or at a seq the pins have not reached yet (UNKNOWN). */
enum pin_state { PIN_FREE, PIN_PROVEN, PIN_WRONG, PIN_UNKNOWN };

/* ---- authors and heads ---------------------------------------------- */

static void author_cache(store_t *s, const uint8_t key[KEYS_PUBLIC_BYTES], int64_t aid,
                         int64_t forks, int revoked)
{
    memcpy(s->c.author, key, KEYS_PUBLIC_BYTES);
    s->c.aid = aid;
    s->c.forks = forks;
    s->c.revoked = revoked;
    s->c.author_valid = 1;
}

/* The author's row id (created if new), fork count and whether its identity
 * was revoked (revoked may be NULL). Written on success only. */
int chain_author(store_t *s, const uint8_t key[KEYS_PUBLIC_BYTES], int64_t *aid,
                 int64_t *forks, int *revoked, char *why, size_t whylen)
{
    if (!s->c.author_valid || memcmp(s->c.author, key, KEYS_PUBLIC_BYTES) != 0) {
        sqlite3_stmt *st = Q(s, Q_AUTHOR_GET);
        bind_blob(st, 1, key, KEYS_PUBLIC_BYTES);
        if (sqlite3_step(st) == SQLITE_ROW) {
            author_cache(s, key, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                         sqlite3_column_int(st, 2));
            sqlite3_reset(st);
        } else {
            sqlite3_reset(st);
            st = Q(s, Q_AUTHOR_INS);
            bind_blob(st, 1, key, KEYS_PUBLIC_BYTES);
            int rc = step_done(s, st, why, whylen);
            if (rc != STORE_OK)
                return rc;
            author_cache(s, key, sqlite3_last_insert_rowid(s->db), 0, 0);
        }
    }
    *aid = s->c.aid;
    *forks = s->c.forks;
    if (revoked)
        *revoked = s->c.revoked;
    return STORE_OK;
}

void chain_head(store_t *s, int64_t aid, const char *network, uint64_t *seq,
                uint8_t id[EVENT_ID_BYTES])
{
    if (s->c.feed_valid && s->c.feed_aid == aid && strcmp(s->c.feed_net, network) == 0) {
        *seq = s->c.feed_seq;
        memcpy(id, s->c.feed_id, EVENT_ID_BYTES);
        return;
    }
    sqlite3_stmt *st = Q(s, Q_FEED_GET);
    sqlite3_bind_int64(st, 1, aid);
    bind_text(st, 2, network);
    *seq = 0;
    memset(id, 0, EVENT_ID_BYTES);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *seq = (uint64_t)sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == EVENT_ID_BYTES)
            memcpy(id, sqlite3_column_blob(st, 1), EVENT_ID_BYTES);
    }
    sqlite3_reset(st);
}

/* Inserts ev as a row in state `state`. A canonical row takes the place of an
 * off-chain copy of itself (fork evidence, or withdrawn while its place in
 * the chain was unproven): the copy is deleted and the event inserted
 * afresh, so that rowid order stays the order in which events joined
 * their log's chain (replay relies on it). no_copy: the caller looked the
 * id up in this transaction and found no row, so there is no copy to
 * delete (the common case, and the delete, a second probe of the random
 * id index with a RETURNING table, cost as much as the insert). */
static int insert_event(store_t *s, const event_t *ev, int64_t aid, int64_t signer,
                        enum row_state state, bool no_copy, int64_t *rowid, char *why,
                        size_t whylen)
{
    sqlite3_stmt *st;
    if (state == ROW_CANONICAL && !no_copy) {
        st = Q(s, Q_EVENT_DEL_OFF);
        bind_blob(st, 1, ev->id, EVENT_ID_BYTES);
        int was = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : ROW_NONE;
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_reset(st);
        if (was == ROW_EVIDENCE) { /* no longer evidence of a fork */
            st = Q(s, Q_FORK_UNMARK);
            sqlite3_bind_int64(st, 1, aid);
            int rc = step_done(s, st, why, whylen);
            s->c.author_valid = 0;
            if (rc)
                return rc;
        }
    }
    st = Q(s, Q_EVENT_INS);
    bind_blob(st, 1, ev->id, EVENT_ID_BYTES);
    sqlite3_bind_int64(st, 2, aid);
    bind_text(st, 3, ev->network);
    sqlite3_bind_int64(st, 4, (int64_t)ev->seq);
    sqlite3_bind_int(st, 5, ev->kind);
    sqlite3_bind_int64(st, 6, ev->created_ms);
    sqlite3_bind_int64(st, 7, event_now_ms());
    sqlite3_bind_int(st, 8, state);
    bind_blob(st, 9, ev->header, ev->header_len);
    bind_blob(st, 10, ev->sig, KEYS_SIG_BYTES);
    bind_blob(st, 11, ev->has_payload ? ev->payload : NULL, ev->payload_len);
    bind_blob(st, 12, ev->has_payload ? ev->salt : NULL, EVENT_SALT_BYTES);
    sqlite3_bind_int64(st, 13, signer);
    int rc = step_done(s, st, why, whylen);
    if (rc == STORE_OK)
        *rowid = sqlite3_last_insert_rowid(s->db);
    return rc;
}

/* ---- append, fork evidence, hold back ------------------------------- */

/* Appends ev to its log's chain; no_copy as for insert_event. */
static int append(store_t *s, const event_t *ev, int64_t aid, int64_t signer, bool no_copy,
                  char *why, size_t whylen)
{
    int64_t rowid;
    int rc = insert_event(s, ev, aid, signer, ROW_CANONICAL, no_copy, &rowid, why, whylen);
    if (rc)
        return rc;
    sqlite3_stmt *st = Q(s, Q_FEED_PUT);
    sqlite3_bind_int64(st, 1, aid);
    bind_text(st, 2, ev->network);
    sqlite3_bind_int64(st, 3, (int64_t)ev->seq);
    bind_blob(st, 4, ev->id, EVENT_ID_BYTES);
    if ((rc = step_done(s, st, why, whylen)))
        return rc;
    s->c.feed_valid = 1;
    s->c.feed_aid = aid;
    snprintf(s->c.feed_net, sizeof s->c.feed_net, "%s", ev->network);
    s->c.feed_seq = ev->seq;
    memcpy(s->c.feed_id, ev->id, EVENT_ID_BYTES);
    /* what the event says beyond its place in the log: who may sign or
     * publish (control kinds), and the derived items */
    if ((rc = authz_derive(s, ev, aid, rowid, why, whylen)))
        return rc;
    return items_derive(s, ev, aid, rowid, why, whylen);
}

static int keep_fork(store_t *s, const event_t *ev, int64_t aid, int64_t signer, int64_t forks,
                     char *why, size_t whylen)
{
    int64_t rowid;
    if (forks >= STORE_MAX_FORKS)
        return why_fail(why, whylen, STORE_ERR_FORKS_FULL,
                    "author already has %d fork evidence events; not keeping more",
                    STORE_MAX_FORKS);
    int rc = insert_event(s, ev, aid, signer, ROW_EVIDENCE, false, &rowid, why, whylen);
    if (rc)
        return rc;
    sqlite3_stmt *st = Q(s, Q_FORK_MARK);
    sqlite3_bind_int64(st, 1, aid);
    s->c.author_valid = 0; /* fork_count changed */
    return step_done(s, st, why, whylen);
}

/* Whether an erasure may be held back in a log that holds
 * STORE_MAX_PENDING_PER_LOG events already: up to
 * STORE_MAX_PENDING_ERASURES_PER_LOG more. A node that lacks an event and
 * its author's erasure of it is served the target header-only first and
 * refuses it until it holds the erasure, which comes later in the same
 * log, perhaps further on than the per-log bound reaches: without this it
 * would refuse both on every round. Held back, an erasure still removes
 * nothing (erase.c). */
static bool erasure_room(store_t *s, const event_t *ev)
{
    if (ev->kind != LERNET__KIND__KIND_ERASURE)
        return false;
    sqlite3_stmt *st = Q(s, Q_PENDING_LOG_ERASURES);
    bind_blob(st, 1, ev->author, KEYS_PUBLIC_BYTES);
    bind_text(st, 2, ev->network);
    return count_of(st) < STORE_MAX_PENDING_ERASURES_PER_LOG;
}

/* Holds ev back in pending. Bounds: STORE_MAX_PENDING in all; an event
 * ahead of a gap at most STORE_MAX_PENDING_PER_LOG per log, and beyond
 * that erasures (erasure_room); an unproven event of a pinned range at
 * most two copies per seq (one is the real one when a liar got there
 * first; the pins delete the others); a proven one only the total, since
 * there is one per seq. */
static int hold(store_t *s, const event_t *ev, enum pin_state pin, char *why, size_t whylen)
{
    sqlite3_stmt *st;
    if (s->c.n_pending < 0)
        s->c.n_pending = count_of(Q(s, Q_PENDING_COUNT));
    int full = s->c.n_pending >= STORE_MAX_PENDING;
    if (!full && pin != PIN_PROVEN) {
        st = Q(s, pin == PIN_UNKNOWN ? Q_PENDING_SEQ_COUNT : Q_PENDING_LOG_COUNT);
        bind_blob(st, 1, ev->author, KEYS_PUBLIC_BYTES);
        bind_text(st, 2, ev->network);
        if (pin == PIN_UNKNOWN)
            sqlite3_bind_int64(st, 3, (int64_t)ev->seq);
        full = count_of(st) >= (pin == PIN_UNKNOWN ? 2 : STORE_MAX_PENDING_PER_LOG);
        if (full && pin == PIN_FREE)
            full = !erasure_room(s, ev);
    }
    if (full)
        return why_fail(why, whylen, STORE_ERR_PENDING_FULL,
                        "seq %llu %s and too many events are already held back",
                        (unsigned long long)ev->seq,
                        pin == PIN_UNKNOWN ? "waits for proof that it is on its log's pinned history"
                                           : "is ahead of a gap");
    s->c.pending = 1;
    s->c.n_pending++;
    st = Q(s, Q_PENDING_INS);
    bind_blob(st, 1, ev->id, EVENT_ID_BYTES);
    bind_blob(st, 2, ev->author, KEYS_PUBLIC_BYTES);
    bind_text(st, 3, ev->network);
    sqlite3_bind_int64(st, 4, (int64_t)ev->seq);
    sqlite3_bind_int64(st, 5, event_now_ms());
    bind_blob(st, 6, ev->header, ev->header_len);
    bind_blob(st, 7, ev->sig, KEYS_SIG_BYTES);
    bind_blob(st, 8, ev->payload, ev->payload_len);
    bind_blob(st, 9, ev->salt, EVENT_SALT_BYTES);
    return step_done(s, st, why, whylen);
}

/* ---- pinned history ------------------------------------------------ */

/* A cut (of a revoked signing key, or of a removed member) names the last
 * good event of a log by seq and id. Up to that seq the log's history is
 * fixed: only the chain that ends at that id may be there. This node shows
 * an event of such a range to be on it top-down: the cut's id pins its seq,
 * and every pinned event's prev pins the seq below (pins holds those, above
 * the log's head). An event at a seq without a pin yet waits in pending;
 * when the pins reach the head, what they proved is appended in order. */

/* One id from a statement over (author row, network, seq): the canonical
 * event there (Q_EVENT_AT), or the log's pin there (Q_PIN_GET). true, with
 * the id in id, if there is one. */
static bool id_by(store_t *s, enum stmt_id q, int64_t aid, const char *net, uint64_t seq,
                  uint8_t id[EVENT_ID_BYTES])
{
    sqlite3_stmt *st = Q(s, q);
    sqlite3_bind_int64(st, 1, aid);
    bind_text(st, 2, net);
    sqlite3_bind_int64(st, 3, (int64_t)seq);
    bool found = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == EVENT_ID_BYTES;
    if (found)
        memcpy(id, sqlite3_column_blob(st, 0), EVENT_ID_BYTES);
    sqlite3_reset(st);
    return found;
}

/* Whether the log has a canonical event at seq; its id in id if so. */
bool chain_id_at(store_t *s, int64_t aid, const char *net, uint64_t seq,
                 uint8_t id[EVENT_ID_BYTES])
{
    return id_by(s, Q_EVENT_AT, aid, net, seq, id);
}

/* One seq from a statement over (author row, network[, extra]): 0 if none. */
static uint64_t seq_by(store_t *s, enum stmt_id q, int64_t aid, const char *net, int64_t extra)
{
    sqlite3_stmt *st = Q(s, q);
    sqlite3_bind_int64(st, 1, aid);
    bind_text(st, 2, net);
    if (extra)
        sqlite3_bind_int64(st, 3, extra);
    uint64_t seq = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return seq;
}

/* The first seq of the log on the chain that signing key `key` signed
 * (0: none). */
static uint64_t first_signed(store_t *s, int64_t aid, const char *net, int64_t key)
{
    return seq_by(s, Q_FIRST_SIGNED, aid, net, key);
}

/* The highest pinned seq of the log (0: not pinned). */
static uint64_t pin_top(store_t *s, int64_t aid, const char *net)
{
    return s->c.pins ? seq_by(s, Q_PIN_TOP, aid, net, 0) : 0;
}

static bool pin_get(store_t *s, int64_t aid, const char *net, uint64_t seq,
                    uint8_t id[EVENT_ID_BYTES])
{
    return id_by(s, Q_PIN_GET, aid, net, seq, id);
}

/* Where ev stands against its log's pins (ev->seq is above the head). */
static enum pin_state pin_state(store_t *s, int64_t aid, const event_t *ev)
{
    uint8_t id[EVENT_ID_BYTES];
    if (!s->c.pins || ev->seq > pin_top(s, aid, ev->network))
        return PIN_FREE;
    if (!pin_get(s, aid, ev->network, ev->seq, id))
        return PIN_UNKNOWN;
    return memcmp(id, ev->id, EVENT_ID_BYTES) == 0 ? PIN_PROVEN : PIN_WRONG;
}

/* A copy of the event with this id that is held here but on no chain:
 * held back (pending; *in_pending = 1) or off the chain (fork evidence,
 * withdrawn). NULL if none. Owned by the caller. */
static event_t *held_copy(store_t *s, const uint8_t id[EVENT_ID_BYTES], int *in_pending)
{
    static const enum stmt_id where[] = {Q_PENDING_BY_ID, Q_OFF_BY_ID};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = Q(s, where[i]);
        bind_blob(st, 1, id, EVENT_ID_BYTES);
        event_t *ev = sqlite3_step(st) == SQLITE_ROW ? store_row_event(st, 0) : NULL;
        sqlite3_reset(st);
        if (ev) {
            *in_pending = i == 0;
            return ev;
        }
    }
    return NULL;
}

/* Its failure must stop the caller: SQLite answers some (SQLITE_FULL) by
 * rolling the whole transaction back, and every statement after that
 * would be committed on its own, half a batch. */
static int pending_del(store_t *s, const uint8_t id[EVENT_ID_BYTES], char *why, size_t whylen)
{
    sqlite3_stmt *st = Q(s, Q_PENDING_DEL);
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    return step_done(s, st, why, whylen);
}

/* Pins (seq, id) in the log; other copies held back for that seq are not
 * on the pinned history and are dropped. */
static int pin_put(store_t *s, const logref_t *lr, uint64_t seq, const uint8_t id[EVENT_ID_BYTES],
                   char *why, size_t whylen)
{
    sqlite3_stmt *st = Q(s, Q_PIN_PUT);
    sqlite3_bind_int64(st, 1, lr->aid);
    bind_text(st, 2, lr->net);
    sqlite3_bind_int64(st, 3, (int64_t)seq);
    bind_blob(st, 4, id, EVENT_ID_BYTES);
    int rc = step_done(s, st, why, whylen);
    s->c.pins = 1;
    if (rc || !s->c.pending)
        return rc;
    st = Q(s, Q_PENDING_DISPROVE);
    bind_blob(st, 1, lr->key, KEYS_PUBLIC_BYTES);
    bind_text(st, 2, lr->net);
    sqlite3_bind_int64(st, 3, (int64_t)seq);
    bind_blob(st, 4, id, EVENT_ID_BYTES);
    return step_done(s, st, why, whylen);
}

static bool links_to(const event_t *ev, uint64_t seq, const uint8_t head_id[EVENT_ID_BYTES])
{
    return ev->seq == seq && (seq == 1 || memcmp(ev->prev, head_id, EVENT_ID_BYTES) == 0);
}

/* The copy held here that may take seq (the one after head_id) now: the
 * pinned one where the log is pinned there; nothing where the seq is in a
 * pinned range without its pin yet; else a held-back event that links,
 * else (with_forks) fork evidence that links. */
static event_t *next_link(store_t *s, const logref_t *lr, uint64_t seq,
                          const uint8_t head_id[EVENT_ID_BYTES], int with_forks, int *in_pending)
{
    uint8_t pin[EVENT_ID_BYTES];
    event_t *ev = NULL;
    if (s->c.pins && pin_get(s, lr->aid, lr->net, seq, pin)) {
        ev = held_copy(s, pin, in_pending);
        if (ev && !links_to(ev, seq, head_id))
            event_free(&ev);
        return ev;
    }
    if (s->c.pins && seq <= pin_top(s, lr->aid, lr->net))
        return NULL; /* unproven yet */
    for (int i = 0; i < 2 && !ev; i++) {
        if ((i == 0 && !s->c.pending) || (i == 1 && !with_forks))
            continue;
        sqlite3_stmt *st = Q(s, i == 0 ? Q_PENDING_AT : Q_FORK_AT);
        if (i == 0)
            bind_blob(st, 1, lr->key, KEYS_PUBLIC_BYTES);
        else
            sqlite3_bind_int64(st, 1, lr->aid);
        bind_text(st, 2, lr->net);
        sqlite3_bind_int64(st, 3, (int64_t)seq);
        while (!ev && sqlite3_step(st) == SQLITE_ROW)
            if ((ev = store_row_event(st, 1)) && !links_to(ev, seq, head_id))
                event_free(&ev);
        sqlite3_reset(st);
        *in_pending = i == 0;
    }
    return ev;
}

/* After the chain moved past held-back copies: those at or below the head
 * conflict with it. In a log without pins they are evidence of a fork
 * (kept, bounded); where the log was pinned they were not on the pinned
 * history and are dropped. Pins at or below the head have done their job. */
static int settle(store_t *s, const logref_t *lr, int pinned, char *why, size_t whylen)
{
    enum { MAX_SETTLE = 16 };
    uint64_t head;
    uint8_t head_id[EVENT_ID_BYTES];
    int rc = STORE_OK;
    chain_head(s, lr->aid, lr->net, &head, head_id);
    if (s->c.pending && !pinned) {
        event_t *left[MAX_SETTLE];
        size_t n = 0;
        sqlite3_stmt *st = Q(s, Q_PENDING_UPTO);
        bind_blob(st, 1, lr->key, KEYS_PUBLIC_BYTES);
        bind_text(st, 2, lr->net);
        sqlite3_bind_int64(st, 3, (int64_t)head);
        while (n < MAX_SETTLE && sqlite3_step(st) == SQLITE_ROW)
            if ((left[n] = store_row_event(st, 1)))
                n++;
        sqlite3_reset(st);
        int64_t aid, forks;
        for (size_t i = 0; i < n; i++) {
            if (rc == STORE_OK &&
                (rc = chain_author(s, lr->key, &aid, &forks, NULL, why, whylen)) == STORE_OK &&
                !exists(s, Q_HAS_EVENT, left[i]->id))
                rc = keep_fork(s, left[i], lr->aid, 0, forks, why, whylen);
            if (rc == STORE_ERR_FORKS_FULL)
                rc = STORE_OK;
            event_free(&left[i]);
        }
    }
    if (rc == STORE_OK && s->c.pending) {
        sqlite3_stmt *st = Q(s, Q_PENDING_STALE);
        bind_blob(st, 1, lr->key, KEYS_PUBLIC_BYTES);
        bind_text(st, 2, lr->net);
        sqlite3_bind_int64(st, 3, (int64_t)head);
        rc = step_done(s, st, why, whylen);
    }
    if (rc == STORE_OK && pinned) {
        sqlite3_stmt *st = Q(s, Q_PIN_DROP);
        sqlite3_bind_int64(st, 1, lr->aid);
        bind_text(st, 2, lr->net);
        sqlite3_bind_int64(st, 3, (int64_t)head);
        rc = step_done(s, st, why, whylen);
    }
    return rc;
}

/* Held events applied in one go between renewals of store_add's savepoint
 * (savepoint_renew). */
#define CHAIN_SAVEPOINT_EVENTS 32

/* Inside a batch, store_add's savepoint keeps the first image of every
 * page changed since it opened (the sub-journal): applying a long run of
 * held-back events grew it past STORE_SUBJOURNAL_MEM, and SQLite 3.40's
 * move of it into a temporary file then failed with SQLITE_FULL, rolling
 * the whole batch back every time (test_keylife's 5,000-event pinned
 * history, linked). Renewed every CHAIN_SAVEPOINT_EVENTS, it stays in
 * memory; what was applied before stays (a chain in order), and a failure
 * after it still fails the batch, whose transaction is rolled back. */
static int savepoint_renew(store_t *s, size_t applied, char *why, size_t whylen)
{
    if (!s->in_batch || applied % CHAIN_SAVEPOINT_EVENTS != 0)
        return STORE_OK;
    int rc = step_done(s, Q(s, Q_SP_RELEASE), why, whylen);
    return rc ? rc : step_done(s, Q(s, Q_SP_OPEN), why, whylen);
}

/* Appends to the log, in order, what is held here and may now follow its
 * head (next_link), counting into *applied; then settles what is left.
 * Bounded: every step takes one held copy off the pending table or off
 * the chain's side. */
int chain_advance(store_t *s, const logref_t *lr, int with_forks, size_t *applied, char *why,
                  size_t whylen)
{
    int rc = STORE_OK, pinned = pin_top(s, lr->aid, lr->net) > 0;
    if (!s->c.pending && !pinned && !with_forks)
        return STORE_OK; /* nothing held back anywhere: the common case */
    for (size_t i = 0; rc == STORE_OK && i < STORE_MAX_PENDING + STORE_MAX_FORKS; i++) {
        uint64_t head;
        uint8_t head_id[EVENT_ID_BYTES];
        int in_pending = 0;
        int64_t signer;
        chain_head(s, lr->aid, lr->net, &head, head_id);
        event_t *ev = next_link(s, lr, head + 1, head_id, with_forks, &in_pending);
        if (!ev)
            break;
        if (in_pending && (rc = pending_del(s, ev->id, why, whylen)) != STORE_OK) {
            event_free(&ev);
            break;
        }
        if (authz_check(s, ev, lr->aid, 0, &signer, NULL, 0) != STORE_OK) {
            event_free(&ev); /* held before its key was revoked, or its author removed */
            if (in_pending)
                continue;
            break;
        }
        rc = append(s, ev, lr->aid, signer, false, why, whylen);
        (*applied)++;
        event_free(&ev);
        if (rc == STORE_OK)
            rc = savepoint_renew(s, *applied, why, whylen);
    }
    return rc ? rc : settle(s, lr, pinned, why, whylen);
}

/* Pins the log at (seq, id) and follows the chain down from there through
 * the copies held here, each one's prev pinning the seq below, until a
 * copy is missing (the next arrival goes on from there) or the chain
 * reaches the head: then, if it meets the head's id, what it proved is
 * appended. Bounded by seq - head steps. */
static int pin_follow(store_t *s, const logref_t *lr, uint64_t seq,
                      const uint8_t id[EVENT_ID_BYTES], size_t *applied, char *why, size_t whylen)
{
    uint8_t cur[EVENT_ID_BYTES], head_id[EVENT_ID_BYTES];
    uint64_t head;
    memcpy(cur, id, EVENT_ID_BYTES);
    chain_head(s, lr->aid, lr->net, &head, head_id);
    while (seq > head) {
        int in_pending, rc = pin_put(s, lr, seq, cur, why, whylen);
        if (rc)
            return rc;
        event_t *ev = held_copy(s, cur, &in_pending);
        int found = ev && ev->seq == seq && strcmp(ev->network, lr->net) == 0 &&
                    memcmp(ev->author, lr->key, KEYS_PUBLIC_BYTES) == 0;
        if (found && seq > 1)
            memcpy(cur, ev->prev, EVENT_ID_BYTES);
        event_free(&ev);
        if (!found)
            return STORE_OK;
        seq--;
    }
    if (seq > 0 && seq == head && memcmp(head_id, cur, EVENT_ID_BYTES) != 0) {
        char fpr[KEYS_FPR_STR_SIZE];
        keys_fingerprint(fpr, lr->key);
        log_warn("log %s of %s: the history a cut pins does not continue this node's chain at "
                 "seq %llu; it waits", lr->net, fpr, (unsigned long long)seq);
        return STORE_OK;
    }
    return chain_advance(s, lr, 0, applied, why, whylen);
}

/* A cut names the last good event of a log by seq c and id x. If this
 * node's chain reaches c with x there, nothing changes. Otherwise what it
 * holds from the first event the cut could concern is unproven: from the
 * first one the revoked key signed (key; events signed by other keys
 * cannot have been forged with it), or all of it for a removed member
 * (key 0). That part is withdrawn (lifecycle_cut_log, which marks the items
 * stale), the log is pinned at (c, x), and copies held or arriving later
 * rejoin the chain as the pins prove them. */
int chain_pin_cut(store_t *s, const logref_t *lr, uint64_t c, const uint8_t *x, int64_t key,
                  size_t *applied, char *why, size_t whylen)
{
    uint64_t head, w;
    uint8_t head_id[EVENT_ID_BYTES], at[EVENT_ID_BYTES];
    if (c == 0 || !x)
        return STORE_OK;
    chain_head(s, lr->aid, lr->net, &head, head_id);
    if (head >= c && chain_id_at(s, lr->aid, lr->net, c, at) && memcmp(at, x, EVENT_ID_BYTES) == 0)
        return STORE_OK;
    w = key ? first_signed(s, lr->aid, lr->net, key) : 1;
    if (head >= c && (w == 0 || w > c))
        w = 1; /* a history the revoked key alone cannot explain: nothing up to c stands */
    /* pinned first, so that what lifecycle_cut_log lets rejoin must be on the history */
    int rc = pin_put(s, lr, c, x, why, whylen);
    if (rc == STORE_OK && w && w <= head) {
        char fpr[KEYS_FPR_STR_SIZE];
        keys_fingerprint(fpr, lr->key);
        log_warn("withdrawing seq %llu to %llu of %s by %s until they are shown to lead to the "
                 "event its cut names", (unsigned long long)w, (unsigned long long)head, lr->net,
                 fpr);
        rc = lifecycle_cut_log(s, lr, w, why, whylen);
    }
    return rc ? rc : pin_follow(s, lr, c, x, applied, why, whylen);
}

/* ---- adding events -------------------------------------------------- */

/* How the events table holds id; *gone: stored without its payload. */
static enum row_state event_state(store_t *s, const uint8_t id[EVENT_ID_BYTES], int *gone)
{
    sqlite3_stmt *st = Q(s, Q_EVENT_STATE);
    enum row_state r = ROW_NONE;
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    if (sqlite3_step(st) == SQLITE_ROW) {
        r = (enum row_state)sqlite3_column_int(st, 0);
        *gone = sqlite3_column_int(st, 1);
    }
    sqlite3_reset(st);
    return r;
}

/* A chain row stored without its payload (by an older lernet, from a
 * partner that stripped it) gets it back from a genuine copy, and what it
 * says is derived again (the items are marked stale: the commit re-derives
 * them): a stored copy never keeps the real one out. */
static int fill_payload(store_t *s, const event_t *ev, char *why, size_t whylen)
{
    char hex[EVENT_ID_HEX_SIZE];
    sqlite3_stmt *st = Q(s, Q_FILL_PAYLOAD);
    bind_blob(st, 1, ev->id, EVENT_ID_BYTES);
    bind_blob(st, 2, ev->payload, ev->payload_len);
    bind_blob(st, 3, ev->salt, EVENT_SALT_BYTES);
    int rc = step_done(s, st, why, whylen);
    event_id_hex(hex, ev->id);
    log_warn("event %.16s… was stored without its payload; a genuine copy restores it", hex);
    if (rc == STORE_OK)
        lifecycle_mark_stale(s);
    return rc;
}

int chain_add(store_t *s, const event_t *ev, int *outcome, size_t *applied, char *why,
              size_t whylen)
{
    int64_t aid, forks, signer;
    uint64_t head;
    uint8_t head_id[EVENT_ID_BYTES];
    int rc, revoked, gone = 0;
    /* the one header-only copy taken: one a verified erasure covers */
    if (!ev->has_payload && !erase_covers(s, ev))
        return why_fail(why, whylen, EV_PAYLOAD_MISSING,
                        "payload_missing: the event came without its payload and no erasure "
                        "covers it (nothing but an erasure may remove one)");
    enum row_state state = event_state(s, ev->id, &gone);
    *outcome = STORE_DUPLICATE;
    if (state == ROW_CANONICAL) /* an erased row is never filled again: ev was stripped */
        return gone && ev->has_payload ? fill_payload(s, ev, why, whylen) : STORE_OK;
    if (s->c.pending && exists(s, Q_HAS_PENDING, ev->id))
        return STORE_OK;
    if ((rc = chain_author(s, ev->author, &aid, &forks, &revoked, why, whylen)) ||
        (rc = authz_check(s, ev, aid, revoked, &signer, why, whylen)) ||
        (ev->kind == LERNET__KIND__KIND_ERASURE && (rc = erase_check(s, ev, why, whylen))))
        return rc;
    logref_t lr = {aid, ev->author, ev->network};
    chain_head(s, aid, ev->network, &head, head_id);
    enum pin_state pin = ev->seq > head ? pin_state(s, aid, ev) : PIN_FREE;
    /* Fork evidence stays that unless it is in a pinned range (where it
     * may be the real one); a withdrawn copy may rejoin above the head. */
    if ((state == ROW_EVIDENCE && pin == PIN_FREE) ||
        (state == ROW_WITHDRAWN && pin == PIN_FREE && ev->seq <= head))
        return STORE_OK;
    if (pin == PIN_WRONG) {
        char fpr[KEYS_FPR_STR_SIZE];
        keys_fingerprint(fpr, ev->author);
        return why_fail(why, whylen, STORE_ERR_REVOKED,
                        "seq %llu of %s by %s is not on the history its cut pins (signed with "
                        "a revoked key, or by a removed member, for another history)",
                        (unsigned long long)ev->seq, ev->network, fpr);
    }
    int links = links_to(ev, head + 1, head_id);
    if (links && pin != PIN_UNKNOWN) {
        *outcome = STORE_APPLIED;
        if ((rc = append(s, ev, aid, signer, state == ROW_NONE, why, whylen)))
            return rc;
        (*applied)++;
        return chain_advance(s, &lr, 0, applied, why, whylen);
    }
    if (ev->seq <= head + 1 && pin == PIN_FREE) { /* a taken seq, or a next one that disowns our chain */
        if (state != ROW_NONE)
            return STORE_OK;
        if (authz_under_cut(s, ev, signer)) {
            char fpr[KEYS_FPR_STR_SIZE];
            keys_fingerprint(fpr, ev->author);
            return why_fail(why, whylen, STORE_ERR_REVOKED,
                            "seq %llu of %s by %s conflicts with the history its cut keeps "
                            "(signed with a revoked key, or by a removed member)",
                            (unsigned long long)ev->seq, ev->network, fpr);
        }
        *outcome = STORE_FORK;
        return keep_fork(s, ev, aid, signer, forks, why, whylen);
    }
    *outcome = STORE_HELD;
    if ((rc = hold(s, ev, pin, why, whylen)))
        return rc;
    /* a held-back erasure lets the header-only copies of its targets that
     * fill the gap before it be taken, but removes nothing until its place
     * in the chain is proven (it joins the chain: noted again, not held) */
    if (ev->kind == LERNET__KIND__KIND_ERASURE && (rc = erase_note(s, ev, true, why, whylen)))
        return rc;
    return pin == PIN_PROVEN ? pin_follow(s, &lr, ev->seq, ev->id, applied, why, whylen)
                             : STORE_OK;
}
