/*
 * store: the node's SQLite replica: opening it, transactions, store_add's
 * commit point, and reading the logs (store.h says what the store keeps
 * and the rules it applies).
 *
 * The store's modules, each a .c of node/store sharing the private
 * store_impl.h:
 *   store.c      open and close, transactions, store_add, reading events
 *   schema.c     tables, migrations, the text of every prepared statement
 *   chain.c      each log's chain: append, hold back, fork evidence, pins
 *   authz.c      who may sign and publish: keys, revocations, members
 *   lifecycle.c  what a revocation or a removal does to the chains; the
 *                items derived again after it
 *   items.c      the derived items (workshops, meetings, experiences)
 *   erase.c      erasures: payload and salt removed, the one header-only case
 *   verify.c     store_verify
 *
 * Invariants kept here:
 *  - every store_add runs inside a transaction (its own, or a savepoint of
 *    the caller's store_begin batch) and leaves nothing behind when it
 *    fails, out-parameters included;
 *  - at every commit the items follow from the canonical rows: a write that
 *    made them stale (s->items_stale, or only the items an erasure touched:
 *    s->stale_items) derives them again first, once (store_add outside a
 *    batch, store_commit for a batch);
 *  - a commit that returned is on disk (synchronous=FULL).
 */
#include "store/store.h"
#include "store/store_impl.h"

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"
#include "util/why.h"

const char *store_outcome_name(int outcome)
{
    static const char *names[] = {"applied", "duplicate", "held", "fork"};
    return outcome >= 0 && outcome <= STORE_FORK ? names[outcome] : "unknown";
}

/* ---- open / close --------------------------------------------------- */

/* Every store_add inside a batch is a savepoint, so the first change to
 * each page (event row, id index, chain index, item, feed: ~7 pages of
 * 8 KiB per event) is copied to the sub-journal. SQLite keeps that in
 * memory only up to 64 KiB by default and then moves it to a temporary
 * file for the rest of the transaction: a catch-up made 14 pwrite calls
 * per event (56 KiB), most of the receiver's system time. 4 MiB keeps any
 * one event's savepoint in memory (each RELEASE empties it), and larger
 * ones (a revocation withdrawing a long log) still spill. It is
 * process-wide and can only be set before SQLite initialises; if something
 * opened SQLite first, the defaults stay (slower, not wrong). */
#define STORE_SUBJOURNAL_MEM (4 * 1024 * 1024)

/* Also: multi-thread mode (a store is used by one thread at a time, see
 * store.h, so the mutex SQLite takes around every bind, step and reset is
 * not needed) and no memory statistics (a mutex around every one of its
 * mallocs; nothing here reads them): together ~2.5 % of a receiver's user
 * time. */
static void sqlite_once(void)
{
    sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STORE_SUBJOURNAL_MEM);
}

int store_open(store_t **out, const char *path, char *why, size_t whylen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_once);
    store_t *s = calloc(1, sizeof *s);
    int rc;
    if (!s)
        return why_fail(why, whylen, STORE_ERR_NOMEM, "out of memory");
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        why_fail(why, whylen, STORE_ERR_OPEN, "%s: %s", path,
             s->db ? sqlite3_errmsg(s->db) : "cannot open");
        store_close(&s);
        return STORE_ERR_OPEN;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    /* page_size only takes effect on a new file. 8 KiB pages hold a dozen
     * ~600-byte events where 4 KiB ones hold six and waste the rest.
     * A 16 MiB page cache keeps the random-order id index of a catch-up in
     * memory; checkpointing every 32 MiB of WAL instead of every 8 MiB
     * writes a page rewritten by several commits once, not several times
     * (catch-up 17k -> 20k events/s); the WAL file is cut back to 64 MiB.
     * synchronous=FULL: a commit that returned is durable, so its events
     * may be acknowledged and forwarded. */
    int rederive = 0, reindex = 0;
    if ((rc = exec(s, "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      " PRAGMA cache_size=-16384; PRAGMA wal_autocheckpoint=4096;"
                      " PRAGMA journal_size_limit=67108864;"
                      " PRAGMA foreign_keys=OFF; PRAGMA secure_delete=ON;", why, whylen)) ||
        (rc = search_register(s, why, whylen)) ||
        (rc = schema_migrate(s, &rederive, &reindex, why, whylen))) {
        store_close(&s);
        return rc;
    }
    for (int i = 0; i < N_STMTS; i++) {
        if (sqlite3_prepare_v3(s->db, schema_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i],
                               NULL) != SQLITE_OK) {
            rc = sql_fail(s, SQLITE_ERROR, why, whylen);
            store_close(&s);
            return rc;
        }
    }
    if (rederive && (rc = store_rebuild(s, why, whylen)) != STORE_OK) {
        store_close(&s);
        return rc;
    }
    if (!rederive && reindex && (rc = search_index_all(s, why, whylen)) != STORE_OK) {
        store_close(&s);
        return rc;
    }
    *out = s;
    return STORE_OK;
}

void store_close(store_t **sp)
{
    if (!sp || !*sp)
        return;
    store_t *s = *sp;
    s->erase_tried_ms = 0;
    if (s->db && s->q[N_STMTS - 1])
        erase_checkpoint(s);
    for (int i = 0; i < N_STMTS; i++)
        sqlite3_finalize(s->q[i]);
    search_close(s);
    sqlite3_finalize(s->data_version);
    sqlite3_close(s->db);
    free(s);
    *sp = NULL;
}

/* ---- transactions --------------------------------------------------- */

/* Steps one of the prepared transaction-control statements. */
static int run(store_t *s, enum stmt_id id, char *why, size_t whylen)
{
    sqlite3_stmt *st = Q(s, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_OK : sql_fail(s, rc, why, whylen);
}

void store_cache_clear(store_t *s)
{
    s->fv.rollbacks++; /* called where writes are undone: see store_feeds_version */
    memset(&s->c, 0, sizeof s->c);
    s->c.pending = 1;
    s->c.pins = 1;
    s->c.erasures = 1;
    s->c.n_pending = -1;
}

/* Opens a write transaction and fills what the cache may know. */
static int tx_begin(store_t *s, char *why, size_t whylen)
{
    int rc = run(s, Q_BEGIN, why, whylen);
    store_cache_clear(s);
    lifecycle_stale_clear(s);
    if (rc == STORE_OK && (rc = authz_members_sync(s, why, whylen)) != STORE_OK) {
        run(s, Q_ROLLBACK, NULL, 0);
        lifecycle_stale_clear(s);
    }
    if (rc == STORE_OK) {
        sqlite3_stmt *st = Q(s, Q_PENDING_ANY);
        s->c.pending = sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 0;
        sqlite3_reset(st);
        st = Q(s, Q_PIN_ANY);
        s->c.pins = sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 0;
        sqlite3_reset(st);
        st = Q(s, Q_ERASURE_ANY);
        s->c.erasures = sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 0;
        sqlite3_reset(st);
    }
    return rc;
}

int store_begin(store_t *s)
{
    if (s->in_batch)
        return STORE_ERR_SQL;
    int rc = tx_begin(s, NULL, 0);
    if (rc == STORE_OK)
        s->in_batch = 1;
    return rc;
}

int store_commit(store_t *s)
{
    if (!s->in_batch)
        return STORE_ERR_SQL;
    int rc = lifecycle_rederive(s, NULL, 0); /* once for the whole batch */
    if (rc == STORE_OK)
        rc = run(s, Q_COMMIT, NULL, 0);
    if (rc == STORE_OK) {
        s->in_batch = 0;
        erase_checkpoint(s);
    }
    return rc;
}

int store_rollback(store_t *s)
{
    if (!s->in_batch)
        return STORE_ERR_SQL;
    s->in_batch = 0;
    store_cache_clear(s);
    lifecycle_stale_clear(s);
    return run(s, Q_ROLLBACK, NULL, 0);
}

/* One event's write: chain_add decides what the event is; outside a batch
 * this is also the commit point. */
int store_add(store_t *s, event_t *ev, int *outcome, size_t *applied, char *why,
              size_t whylen)
{
    int out = STORE_DUPLICATE, rc;
    size_t n = 0;
    bool stale = s->items_stale, stripped = false; /* what the batch owes so far */
    size_t n_stale = s->n_stale_items;
    /* the one door into the log: nothing whose signature nobody settled */
    if (ev->sig_state == EVENT_SIG_UNCHECKED)
        return why_fail(why, whylen, EV_BAD_SIGNATURE,
                        "signature not checked (neither verified nor vouched for)");
    /* Inside a batch a savepoint undoes just this event on failure (or,
     * after a long run of held-back events it let follow, the part since
     * chain.c's savepoint_renew; the batch then fails whole). */
    if ((rc = s->in_batch ? run(s, Q_SP_OPEN, why, whylen) : tx_begin(s, why, whylen)))
        return rc;
    /* an erased event is stored, and handed on, without its content */
    rc = erase_incoming(s, ev, &stripped);
    if (rc == STORE_OK)
        rc = chain_add(s, ev, &out, &n, why, whylen);
    /* SQLite rolls the whole transaction back on some errors (SQLITE_FULL)
     * that a statement whose result is not checked would hide: the batch
     * must end here, not go on committing statement by statement */
    if (rc == STORE_OK && s->in_batch && sqlite3_get_autocommit(s->db))
        rc = why_fail(why, whylen, STORE_ERR_SQL,
                      "sqlite: the batch's transaction was rolled back under it");
    /* outside a batch this is the commit point; a batch re-derives at its end */
    if (rc == STORE_OK && !s->in_batch)
        rc = lifecycle_rederive(s, why, whylen);
    if (rc == STORE_OK)
        rc = run(s, s->in_batch ? Q_SP_RELEASE : Q_COMMIT, why, whylen);
    if (rc != STORE_OK) {
        if (s->in_batch) {
            run(s, Q_SP_UNDO, NULL, 0);
            run(s, Q_SP_RELEASE, NULL, 0);
        } else
            run(s, Q_ROLLBACK, NULL, 0);
        store_cache_clear(s);
        s->items_stale = s->in_batch && stale;
        s->n_stale_items = s->in_batch ? n_stale : 0;
        n = 0;
    }
    if (rc == STORE_OK && outcome)
        *outcome = out;
    if (rc == STORE_OK && applied)
        *applied = n;
    if (rc == STORE_OK && !s->in_batch)
        erase_checkpoint(s);
    return rc;
}

/* ---- reading -------------------------------------------------------- */

/* Parses four columns (header, sig, payload, salt) from col on, of a row
 * this store wrote, into *out (the caller's): STORE_ERR_CORRUPT, with the
 * reason in why, if they no longer parse. A signature or salt of the
 * wrong length is not read past its end. */
static int row_parse(sqlite3_stmt *st, int col, event_t **out, char *why, size_t whylen)
{
    event_t *ev = NULL;
    const void *payload = sqlite3_column_blob(st, col + 2);
    if (sqlite3_column_bytes(st, col + 1) != KEYS_SIG_BYTES ||
        (payload && sqlite3_column_bytes(st, col + 3) != EVENT_SALT_BYTES))
        return why_fail(why, whylen, STORE_ERR_CORRUPT,
                        "stored signature or salt has the wrong length");
    if (event_from_parts(&ev, sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col),
                         sqlite3_column_blob(st, col + 1), payload,
                         (size_t)sqlite3_column_bytes(st, col + 2),
                         payload ? sqlite3_column_blob(st, col + 3) : NULL, STORED_NOW, why,
                         whylen) != EV_OK)
        return STORE_ERR_CORRUPT;
    *out = ev;
    return STORE_OK;
}

/* The same, NULL if they no longer parse. Owned by the caller. */
event_t *store_row_event(sqlite3_stmt *st, int col)
{
    event_t *ev = NULL;
    return row_parse(st, col, &ev, NULL, 0) == STORE_OK ? ev : NULL;
}

/* store_head, and store_head_linked when sig_hash is not NULL. */
static int head_read(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
                     uint64_t *seq, uint8_t id[EVENT_ID_BYTES], uint8_t *sig_hash, bool *linked)
{
    uint64_t head = 0;
    uint8_t head_id[EVENT_ID_BYTES] = {0}, hash[EVENT_HASH_BYTES] = {0};
    bool has_sig = false;
    sqlite3_stmt *st = Q(s, Q_HEAD);
    bind_blob(st, 1, author, KEYS_PUBLIC_BYTES);
    bind_text(st, 2, network);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        head = (uint64_t)sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) == EVENT_ID_BYTES)
            memcpy(head_id, sqlite3_column_blob(st, 1), EVENT_ID_BYTES);
        else
            rc = SQLITE_CORRUPT;
        /* a head this node does not hold as an event row is not linked */
        if ((has_sig = sig_hash && sqlite3_column_bytes(st, 2) == KEYS_SIG_BYTES))
            event_sig_hash(hash, sqlite3_column_blob(st, 2));
    }
    sqlite3_reset(st);
    if (rc == SQLITE_CORRUPT)
        return STORE_ERR_CORRUPT;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sql_fail(s, rc, NULL, 0);
    *seq = head;
    memcpy(id, head_id, EVENT_ID_BYTES);
    if (sig_hash) {
        memcpy(sig_hash, hash, EVENT_HASH_BYTES);
        *linked = has_sig;
    }
    return STORE_OK;
}

int store_head(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
               uint64_t *seq, uint8_t id[EVENT_ID_BYTES])
{
    return head_read(s, author, network, seq, id, NULL, NULL);
}

int store_head_linked(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
                      uint64_t *seq, uint8_t id[EVENT_ID_BYTES],
                      uint8_t sig_hash[EVENT_HASH_BYTES], bool *linked)
{
    return head_read(s, author, network, seq, id, sig_hash, linked);
}

int store_known(store_t *s, const uint8_t id[EVENT_ID_BYTES])
{
    sqlite3_stmt *st = Q(s, Q_EVENT_STATE);
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    int known = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == ROW_CANONICAL &&
                sqlite3_column_int(st, 1) == 0;
    sqlite3_reset(st);
    return known;
}

int store_id_at(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
                uint64_t seq, uint8_t id[EVENT_ID_BYTES])
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT e.id FROM events e JOIN authors a ON a.id = e.author"
                                  " WHERE a.key = ?1 AND e.network = ?2 AND e.seq = ?3"
                                  " AND e.fork = " SQL_CANONICAL, -1, &st, NULL) != SQLITE_OK)
        return STORE_ERR_SQL;
    bind_blob(st, 1, author, KEYS_PUBLIC_BYTES);
    bind_text(st, 2, network);
    sqlite3_bind_int64(st, 3, (int64_t)seq);
    int rc = STORE_ERR_NOT_FOUND;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == EVENT_ID_BYTES) {
        memcpy(id, sqlite3_column_blob(st, 0), EVENT_ID_BYTES);
        rc = STORE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int store_have(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
               uint64_t *seq)
{
    uint8_t id[EVENT_ID_BYTES];
    uint64_t have;
    int rc = store_head(s, author, network, &have, id);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st = Q(s, Q_PENDING_LOG_SEQS);
    bind_blob(st, 1, author, KEYS_PUBLIC_BYTES);
    bind_text(st, 2, network);
    sqlite3_bind_int64(st, 3, (int64_t)have);
    sqlite3_bind_int64(st, 4, STORE_MAX_PENDING);
    while (sqlite3_step(st) == SQLITE_ROW && (uint64_t)sqlite3_column_int64(st, 0) == have + 1)
        have++;
    sqlite3_reset(st);
    *seq = have;
    return STORE_OK;
}

static bool net_in(const char *net, const char *const *nets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(net, nets[i]) == 0)
            return true;
    return false;
}

int store_feeds(store_t *s, const char *const *networks, size_t n_networks, store_feed_t **out,
                size_t *count)
{
    sqlite3_stmt *st;
    size_t cap = 64, n = 0;
    store_feed_t *v = malloc(cap * sizeof *v);
    if (!v || sqlite3_prepare_v2(s->db,
                                 "SELECT a.key, f.network, f.head_seq, f.head_id, a.forked"
                                 " FROM feeds f JOIN authors a ON a.id = f.author"
                                 " ORDER BY a.key, f.network",
                                 -1, &st, NULL) != SQLITE_OK) {
        free(v);
        return STORE_ERR_SQL;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *net = (const char *)sqlite3_column_text(st, 1);
        if (!net || sqlite3_column_bytes(st, 0) != KEYS_PUBLIC_BYTES ||
            sqlite3_column_bytes(st, 3) != EVENT_ID_BYTES)
            continue; /* a damaged row: store_verify reports it */
        if (networks && !net_in(net, networks, n_networks))
            continue;
        if (n == cap) {
            store_feed_t *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                sqlite3_finalize(st);
                return STORE_ERR_NOMEM;
            }
            v = nv;
            cap *= 2;
        }
        memcpy(v[n].author, sqlite3_column_blob(st, 0), KEYS_PUBLIC_BYTES);
        snprintf(v[n].network, sizeof v[n].network, "%s", net);
        v[n].seq = (uint64_t)sqlite3_column_int64(st, 2);
        memcpy(v[n].head, sqlite3_column_blob(st, 3), EVENT_ID_BYTES);
        v[n].forked = sqlite3_column_int(st, 4);
        n++;
    }
    sqlite3_finalize(st);
    *out = v;
    *count = n;
    return STORE_OK;
}

/* Fills a row from columns: rowid, id, network, seq, kind, created_ms,
 * received_ms, fork, header, sig, payload, salt (author given). */
static void row_from(sqlite3_stmt *st, const uint8_t *author, store_row_t *r)
{
    r->rowid = sqlite3_column_int64(st, 0);
    r->id = sqlite3_column_blob(st, 1);
    r->network = (const char *)sqlite3_column_text(st, 2);
    r->seq = (uint64_t)sqlite3_column_int64(st, 3);
    r->kind = sqlite3_column_int(st, 4);
    r->created_ms = sqlite3_column_int64(st, 5);
    r->received_ms = sqlite3_column_int64(st, 6);
    r->fork = sqlite3_column_int(st, 7);
    r->header = sqlite3_column_blob(st, 8);
    r->header_len = (size_t)sqlite3_column_bytes(st, 8);
    r->sig = sqlite3_column_blob(st, 9);
    r->payload = sqlite3_column_blob(st, 10);
    r->payload_len = (size_t)sqlite3_column_bytes(st, 10);
    r->salt = r->payload ? sqlite3_column_blob(st, 11) : NULL;
    r->author = author;
}

int store_range(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
                uint64_t from, uint64_t to, store_row_cb cb, void *ctx)
{
    sqlite3_stmt *st = s->q[Q_RANGE];
    int rc, stop = 0;
    /* The callback may use the store, so this statement is not shared
     * through Q() while stepping: nothing else uses Q_RANGE. */
    sqlite3_reset(st);
    bind_blob(st, 1, author, KEYS_PUBLIC_BYTES);
    bind_text(st, 2, network);
    sqlite3_bind_int64(st, 3, (int64_t)from);
    sqlite3_bind_int64(st, 4, to > INT64_MAX ? INT64_MAX : (int64_t)to);
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_row_t r;
        row_from(st, author, &r);
        stop = cb(ctx, &r);
    }
    sqlite3_reset(st);
    return stop ? stop : STORE_OK;
}

int store_foreach_event(store_t *s, store_row_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int stop = 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT e.rowid, e.id, e.network, e.seq, e.kind, e.created_ms,"
                           " e.received_ms, e.fork, e.header, e.sig, e.payload, e.salt, a.key"
                           " FROM events e JOIN authors a ON a.id = e.author ORDER BY e.rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return STORE_ERR_SQL;
    while (!stop && sqlite3_step(st) == SQLITE_ROW) {
        store_row_t r;
        row_from(st, sqlite3_column_blob(st, 12), &r);
        stop = cb(ctx, &r);
    }
    sqlite3_finalize(st);
    return stop;
}

/* Hex prefix → the blob range [lo, hi] of ids it covers. */
static int prefix_range(const char *hex, uint8_t lo[EVENT_ID_BYTES], uint8_t hi[EVENT_ID_BYTES],
                        char *why, size_t whylen)
{
    char shown[TEXT_SHOW_SIZE(70)];
    if (text_hex_prefix(hex, EVENT_ID_BYTES, 0, lo, hi) != 0)
        return why_fail(why, whylen, STORE_ERR_NOT_FOUND,
                        "'%s' is not an event id (%d to %d hex characters)",
                        text_show(shown, sizeof shown, hex), TEXT_HEX_PREFIX_MIN,
                        2 * EVENT_ID_BYTES);
    return STORE_OK;
}
/* Resolves a prefix in table (events or items) to the one full id. */
int store_resolve(store_t *s, const char *table, const char *hex, uint8_t id[EVENT_ID_BYTES],
                  char *why, size_t whylen)
{
    uint8_t lo[EVENT_ID_BYTES], hi[EVENT_ID_BYTES];
    char sql[160];
    sqlite3_stmt *st;
    uint8_t first[EVENT_ID_BYTES];
    int rc = prefix_range(hex, lo, hi, why, whylen), found = 0;
    if (rc)
        return rc;
    snprintf(sql, sizeof sql, "SELECT e.id FROM events e%s WHERE e.id BETWEEN ?1 AND ?2 LIMIT 2",
             strcmp(table, "items") == 0 ? " JOIN items i ON i.origin = e.rowid" : "");
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    bind_blob(st, 1, lo, EVENT_ID_BYTES);
    bind_blob(st, 2, hi, EVENT_ID_BYTES);
    while (sqlite3_step(st) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == EVENT_ID_BYTES && found++ == 0)
            memcpy(first, sqlite3_column_blob(st, 0), EVENT_ID_BYTES);
    sqlite3_finalize(st);
    if (found == 0)
        return why_fail(why, whylen, STORE_ERR_NOT_FOUND, "no %s with id %s",
                    strcmp(table, "items") == 0 ? "workshop, meeting or report" : "event", hex);
    if (found > 1)
        return why_fail(why, whylen, STORE_ERR_AMBIGUOUS, "id %s matches several; give more digits",
                    hex);
    memcpy(id, first, EVENT_ID_BYTES);
    return STORE_OK;
}

int store_get_event(store_t *s, const char *id_hex, event_t **out, char *why, size_t whylen)
{
    uint8_t id[EVENT_ID_BYTES];
    sqlite3_stmt *st;
    event_t *ev = NULL;
    int rc = store_resolve(s, "events", id_hex, id, why, whylen);
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(s->db, "SELECT header, sig, payload, salt FROM events WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    rc = sqlite3_step(st) == SQLITE_ROW ? row_parse(st, 0, &ev, why, whylen)
                                        : why_fail(why, whylen, STORE_ERR_NOT_FOUND,
                                                   "no event with id %s", id_hex);
    sqlite3_finalize(st);
    if (rc == STORE_OK)
        *out = ev;
    return rc;
}

/* ---- counts, envelopes, profiles ------------------------------------ */

int store_scalar(store_t *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return STORE_ERR_SQL;
    int rc = sqlite3_step(st) == SQLITE_ROW ? STORE_OK : STORE_ERR_SQL;
    if (rc == STORE_OK)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int store_stats(store_t *s, store_stats_t *out)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM events WHERE fork = " SQL_CANONICAL,
        "SELECT count(*) FROM events WHERE fork = " SQL_EVIDENCE,
        "SELECT count(*) FROM pending",
        "SELECT count(*) FROM authors",
        "SELECT count(*) FROM feeds",
        "SELECT count(*) FROM items",
        "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
    };
    int64_t v[sizeof sql / sizeof sql[0]];
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        int rc = store_scalar(s, sql[i], &v[i]);
        if (rc != STORE_OK)
            return rc;
    }
    *out = (store_stats_t){.events = (uint64_t)v[0], .forks = (uint64_t)v[1],
                           .pending = (uint64_t)v[2], .authors = (uint64_t)v[3],
                           .logs = (uint64_t)v[4], .items = (uint64_t)v[5],
                           .bytes = (uint64_t)v[6]};
    return STORE_OK;
}

int store_forked_authors(store_t *s, uint8_t (**out)[KEYS_PUBLIC_BYTES], size_t *count)
{
    sqlite3_stmt *st;
    size_t n = 0, cap = 16;
    uint8_t(*v)[KEYS_PUBLIC_BYTES] = malloc(cap * sizeof *v);
    if (!v)
        return STORE_ERR_NOMEM;
    if (sqlite3_prepare_v2(s->db, "SELECT key FROM authors WHERE forked = 1 ORDER BY key", -1,
                           &st, NULL) != SQLITE_OK) {
        free(v);
        return STORE_ERR_SQL;
    }
    int rc = STORE_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != KEYS_PUBLIC_BYTES)
            continue;
        if (n == cap) {
            uint8_t(*more)[KEYS_PUBLIC_BYTES] = realloc(v, 2 * cap * sizeof *v);
            if (!more) {
                rc = STORE_ERR_NOMEM;
                break;
            }
            v = more;
            cap *= 2;
        }
        memcpy(v[n++], sqlite3_column_blob(st, 0), KEYS_PUBLIC_BYTES);
    }
    if (rc == STORE_OK && step != SQLITE_DONE)
        rc = STORE_ERR_SQL;
    sqlite3_finalize(st);
    if (rc != STORE_OK) {
        free(v);
        return rc;
    }
    *out = v;
    *count = n;
    return STORE_OK;
}

int store_row_envelope(const store_row_t *r, uint8_t **out, size_t *len)
{
    Lernet__Envelope e = LERNET__ENVELOPE__INIT;
    e.header.data = (uint8_t *)r->header;
    e.header.len = r->header_len;
    e.signature.data = (uint8_t *)r->sig;
    e.signature.len = KEYS_SIG_BYTES;
    if (r->payload) {
        e.payload.data = (uint8_t *)r->payload;
        e.payload.len = r->payload_len;
        e.salt.data = (uint8_t *)r->salt;
        e.salt.len = EVENT_SALT_BYTES;
    }
    size_t n = lernet__envelope__get_packed_size(&e);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return -1;
    lernet__envelope__pack(&e, buf);
    *out = buf;
    *len = n;
    return 0;
}

bool store_profile(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES], store_profile_t *out)
{
    sqlite3_stmt *st;
    store_profile_t p;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT p.name, p.country, p.municipality FROM profiles p"
                           " JOIN authors a ON a.id = p.author WHERE a.key = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    bind_blob(st, 1, author, KEYS_PUBLIC_BYTES);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(p.name, sizeof p.name, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(p.country, sizeof p.country, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(p.municipality, sizeof p.municipality, "%s",
                 (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (found)
        *out = p;
    return found;
}
