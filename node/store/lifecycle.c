/*
 * lifecycle: what happens to the chains when rights change, and keeping
 * the items in step with them.
 *
 * A revoked signing key's cuts (lifecycle_key_revoked) and a removed
 * member's cut (lifecycle_member_removed) pin the log's history up to the
 * cut (chain_pin_cut) and withdraw what came after (lifecycle_cut_log:
 * those rows become ROW_WITHDRAWN, kept, never served); then what is held
 * here and follows the shortened chain joins it, such as the owner's own
 * events that lost a race against ones signed with a stolen key.
 *
 * Withdrawing leaves the items stale. They are derived again from the
 * canonical rows once per write, at its commit point (lifecycle_rederive:
 * store_add, store_commit, authz_members_sync), never from inside a
 * derivation. lifecycle_replay derives with items_derive alone, which
 * writes only the items and profiles tables: it changes no event row while
 * it reads them and cannot start another replay.
 */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/why.h"

/* Cuts one log back to before seq `from`: those events are withdrawn
 * (ROW_WITHDRAWN: kept, never served, not in the derived items) and the
 * items marked stale. Then what is held here and may follow the shortened
 * chain joins it (chain_advance with fork evidence: the owner's own events
 * that lost a race against ones signed with a stolen key take their
 * place). */
int lifecycle_cut_log(store_t *s, const logref_t *lr, uint64_t from, char *why, size_t whylen)
{
    sqlite3_stmt *st = Q(s, Q_WITHDRAW);
    sqlite3_bind_int64(st, 1, lr->aid);
    bind_text(st, 2, lr->net);
    sqlite3_bind_int64(st, 3, (int64_t)from);
    int rc = step_done(s, st, why, whylen);
    uint8_t id[EVENT_ID_BYTES];
    int have = rc == STORE_OK && from > 1 && chain_id_at(s, lr->aid, lr->net, from - 1, id);
    if (rc == STORE_OK) {
        st = Q(s, have ? Q_FEED_PUT : Q_FEED_DEL);
        sqlite3_bind_int64(st, 1, lr->aid);
        bind_text(st, 2, lr->net);
        if (have) {
            sqlite3_bind_int64(st, 3, (int64_t)from - 1);
            bind_blob(st, 4, id, EVENT_ID_BYTES);
        }
        rc = step_done(s, st, why, whylen);
    }
    s->c.feed_valid = 0;
    lifecycle_mark_stale(s);
    size_t applied = 0;
    return rc ? rc : chain_advance(s, lr, 1, &applied, why, whylen);
}

/* Rows left or joined the chain out of log order, or a payload was
 * restored: the items no longer follow from the canonical rows. */
void lifecycle_mark_stale(store_t *s)
{
    s->items_stale = true;
}

void lifecycle_item_stale(store_t *s, int64_t origin)
{
    for (size_t i = 0; i < s->n_stale_items; i++)
        if (s->stale_items[i] == origin)
            return;
    if (s->n_stale_items == STALE_ITEMS_MAX)
        s->items_stale = true; /* a bound on the list: all are derived again */
    else
        s->stale_items[s->n_stale_items++] = origin;
}

void lifecycle_stale_clear(store_t *s)
{
    s->items_stale = false;
    s->n_stale_items = 0;
    search_drop_notes(s);
}

/* The items an erasure left stale, each derived again alone with its
 * search rows; then, if text left the index, what of it its segments
 * still hold goes too (search_purge). */
static int rederive_items(store_t *s, char *why, size_t whylen)
{
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < s->n_stale_items; i++)
        rc = items_rederive(s, s->stale_items[i], why, whylen);
    for (size_t i = 0; rc == STORE_OK && i < s->n_stale_items; i++)
        rc = search_item_sync(s, s->stale_items[i], why, whylen);
    if (rc == STORE_OK && s->erase_due)
        rc = search_purge(s, s->stale_items, s->n_stale_items, why, whylen);
    return rc;
}

/* At a commit point of a write: if it left the items stale, they are
 * derived again, once, from the canonical rows; if it left only some
 * items stale (erasures), just those. */
int lifecycle_rederive(store_t *s, char *why, size_t whylen)
{
    size_t skipped = 0;
    int rc = STORE_OK;
    if (s->items_stale) {
        rc = lifecycle_replay(s, &skipped, why, whylen);
        if (rc == STORE_OK)
            rc = search_sync(s, false, why, whylen);
        if (rc == STORE_OK)
            search_drop_notes(s); /* search_sync covered them */
    } else {
        /* the batch's items first: an erasure's purge below then merges
         * segments that hold them already */
        rc = search_flush(s, why, whylen);
        if (rc == STORE_OK && s->n_stale_items)
            rc = rederive_items(s, why, whylen);
    }
    if (rc == STORE_OK)
        lifecycle_stale_clear(s);
    return rc;
}

/* Withdraws, in every log of the author, what the revoked key signed after
 * the cut and everything chained on it. At most MAX_LOGS logs per key. */
static int withdraw_signed(store_t *s, int64_t aid, const uint8_t *author, int64_t key,
                           char *why, size_t whylen)
{
    enum { MAX_LOGS = 1024 };
    char(*nets)[EVENT_MAX_NETWORK + 1] = calloc(MAX_LOGS, sizeof *nets);
    uint64_t *from = calloc(MAX_LOGS, sizeof *from);
    size_t n = 0;
    int rc = nets && from ? STORE_OK : STORE_ERR_NOMEM;
    sqlite3_stmt *st = Q(s, Q_WITHDRAW_FROM);
    sqlite3_bind_int64(st, 1, aid);
    sqlite3_bind_int64(st, 2, key);
    while (rc == STORE_OK && n < MAX_LOGS && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(nets[n], sizeof nets[n], "%s", (const char *)sqlite3_column_text(st, 0));
        from[n++] = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        logref_t lr = {aid, author, nets[i]};
        log_warn("withdrawing events from seq %llu of %s: signed with a revoked key",
                 (unsigned long long)from[i], nets[i]);
        rc = lifecycle_cut_log(s, &lr, from[i], why, whylen);
    }
    free(nets);
    free(from);
    return rc;
}

/* After authz recorded the revocation of signing key `key` (its
 * signing_keys row) with its cuts r: each cut pins its log's history, then
 * what the key signed after the cuts leaves the chains. */
int lifecycle_key_revoked(store_t *s, int64_t aid, const uint8_t *author, int64_t key,
                          const Lernet__KeyRevoke *r, char *why, size_t whylen)
{
    size_t applied = 0;
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < r->n_cuts; i++) {
        const Lernet__LogCut *c = r->cuts[i];
        logref_t lr = {aid, author, c->network};
        rc = chain_pin_cut(s, &lr, c->last_good_seq, c->last_good_id.len ? c->last_good_id.data : NULL,
                           key, &applied, why, whylen);
    }
    return rc ? rc : withdraw_signed(s, aid, author, key, why, whylen);
}

/* After authz recorded a coordinator's removal m of a member of network:
 * the member's history is pinned up to its cut, and what it published
 * after the cut leaves the chain. */
int lifecycle_member_removed(store_t *s, const char *network, const Lernet__Membership *m,
                             char *why, size_t whylen)
{
    int64_t aid, forks;
    uint64_t head;
    uint8_t head_id[EVENT_ID_BYTES];
    size_t applied = 0;
    int rc = chain_author(s, m->member.data, &aid, &forks, NULL, why, whylen);
    if (rc)
        return rc;
    logref_t lr = {aid, m->member.data, network};
    rc = chain_pin_cut(s, &lr, m->last_good_seq, m->last_good_id.len ? m->last_good_id.data : NULL,
                       0, &applied, why, whylen);
    if (rc)
        return rc;
    chain_head(s, aid, network, &head, head_id);
    if (head <= m->last_good_seq)
        return STORE_OK;
    log_warn("withdrawing events from seq %llu of %s: their author was removed",
             (unsigned long long)m->last_good_seq + 1, network);
    return lifecycle_cut_log(s, &lr, m->last_good_seq + 1, why, whylen);
}

/* Replays canonical events in rowid order into an emptied items table;
 * *skipped counts events whose stored bytes no longer parse. Only
 * items_derive runs, which writes the items, hides and profiles tables and
 * nothing else: the events table is not changed while it is read here,
 * and nothing here can mark the items stale again. */
int lifecycle_replay(store_t *s, size_t *skipped, char *why, size_t whylen)
{
    sqlite3_stmt *st;
    int rc = exec(s, "DELETE FROM items; DELETE FROM hides; DELETE FROM occurrence_cancels", why, whylen);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(s->db, "SELECT rowid, author, header, sig, payload, salt FROM events"
                                  " WHERE fork = " SQL_CANONICAL " ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    s->replaying = true;
    while (rc == STORE_OK && sqlite3_step(st) == SQLITE_ROW) {
        event_t *ev = store_row_event(st, 2);
        if (!ev) {
            (*skipped)++;
            continue;
        }
        rc = items_derive(s, ev, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 0), why,
                          whylen);
        event_free(&ev);
    }
    s->replaying = false;
    sqlite3_finalize(st);
    return rc;
}

int store_rebuild(store_t *s, char *why, size_t whylen)
{
    size_t skipped = 0;
    int rc = exec(s, "BEGIN IMMEDIATE", why, whylen);
    if (rc)
        return rc;
    rc = lifecycle_replay(s, &skipped, why, whylen);
    if (rc == STORE_OK) /* the search index is made anew too: a repair */
        rc = search_sync(s, true, why, whylen);
    if (rc == STORE_OK && skipped)
        rc = why_fail(why, whylen, STORE_ERR_CORRUPT,
                  "%zu stored events no longer verify; run 'lernet verify'", skipped);
    if (rc == STORE_OK)
        rc = exec(s, "COMMIT", why, whylen);
    if (rc != STORE_OK) {
        exec(s, "ROLLBACK", NULL, 0);
        store_cache_clear(s);
    }
    return rc;
}
