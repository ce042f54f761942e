/*
 * store_impl.h: private to the store layer (the .c files of node/store);
 * nothing above the store includes it, store.h is the API. It holds what
 * the store's modules share: struct store, the per-transaction cache, the
 * ids of the prepared statements and the small helpers every module uses
 * to bind and step them.
 */
#ifndef LERNET_STORE_IMPL_H
#define LERNET_STORE_IMPL_H

#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "store/store.h"
#include "util/why.h"

/* A parse of bytes we stored ourselves: the future-time rule was applied
 * when they arrived, so a "now" far ahead disables it here. */
#define STORED_NOW (INT64_MAX / 4)
/* Search rows: rowid = item origin << SEARCH_SLOT_BITS | language slot. */
#define SEARCH_SLOT_BITS 5
/* The index's parts: search_p<N> holds the rows of origins N << bits up. */
#define SEARCH_PART_BITS 13
#define SEARCH_N_STMTS 12      /* search.c's own prepared statements */
#define SEARCH_N_PART_STMTS 6  /* and each part's */
/* How long a statement waits for another process's lock. */
#define STORE_BUSY_MS 5000

/* The prepared statements (their texts: schema_sql in schema.c). */
enum stmt_id {
    Q_HAS_EVENT, Q_HAS_PENDING, Q_AUTHOR_GET, Q_AUTHOR_INS, Q_FEED_GET, Q_FEED_PUT,
    Q_EVENT_INS, Q_FORK_MARK, Q_PENDING_INS, Q_PENDING_LOG_COUNT, Q_PENDING_COUNT,
    Q_PENDING_DEL, Q_PENDING_STALE, Q_ITEM_INS, Q_ITEM_GET, Q_ITEM_UPDATE,
    Q_ITEM_CANCEL, Q_RANGE, Q_HEAD, Q_PENDING_ANY, Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SP_OPEN,
    Q_SP_RELEASE, Q_SP_UNDO, Q_SIGNER_GET, Q_SIGNER_PUT, Q_SIGNER_REVOKE, Q_CUT_GET, Q_CUT_PUT,
    Q_AUTHOR_REVOKE, Q_WITHDRAW_FROM, Q_WITHDRAW, Q_EVENT_AT, Q_FEED_DEL, Q_FORK_AT, Q_FORK_UNMARK,
    Q_MEMBER_GET, Q_MEMBER_PUT, Q_PROFILE_PUT,
    Q_EVENT_STATE, Q_EVENT_DEL_OFF, Q_OFF_BY_ID, Q_PENDING_BY_ID, Q_PENDING_AT, Q_PENDING_SEQ_COUNT,
    Q_PENDING_DISPROVE, Q_PENDING_LOG_SEQS, Q_PIN_ANY, Q_PIN_TOP, Q_PIN_GET, Q_PIN_PUT, Q_PIN_DROP,
    Q_FIRST_SIGNED, Q_FILL_PAYLOAD, Q_PENDING_UPTO, Q_SIGNER_REVOKED,
    Q_ERASURE_INS, Q_ERASURE_OF, Q_ERASURE_APPLY, Q_TARGET_EVENT, Q_TARGET_PENDING,
    Q_STRIP_EVENT, Q_STRIP_PENDING, Q_ERASURE_ANY, Q_PENDING_LOG_ERASURES, Q_HIDE_INS, Q_HIDE_OF, Q_ERASURE_APPLIED,
    Q_OCC_CANCEL, Q_OCC_TOUCH, Q_OCC_OF,
    N_STMTS
};

/* Row states (events.fork) as the store's code names them; ROW_NONE:
 * no such row. */
enum row_state {
    ROW_NONE = -1,
    ROW_CANONICAL = STORE_ROW_CANONICAL,
    ROW_EVIDENCE = STORE_ROW_EVIDENCE,
    ROW_WITHDRAWN = STORE_ROW_WITHDRAWN,
};
/* The same in statement texts. They are literals, not bound parameters:
 * SQLite uses the partial index events_chain (WHERE fork = 0) only for a
 * statement whose text says fork = 0 (with fork = ?N it scans the table,
 * or re-prepares the statement at every new binding). */
#define SQL_CANONICAL "0"
#define SQL_EVIDENCE "1"
#define SQL_WITHDRAWN "2"
_Static_assert(ROW_CANONICAL == 0 && ROW_EVIDENCE == 1 && ROW_WITHDRAWN == 2,
               "SQL_CANONICAL, SQL_EVIDENCE and SQL_WITHDRAWN spell enum row_state");

/* What the current write transaction already looked up. Only valid while
 * it holds the write lock (another process may write between two
 * transactions), so it is cleared when one begins or rolls back. */
typedef struct tx_cache {
    int author_valid, feed_valid;
    uint8_t author[KEYS_PUBLIC_BYTES];
    int64_t aid, forks;
    int revoked;
    int signer_valid; /* last certified, unrevoked signing key looked up */
    int64_t signer_aid, signer_id;
    uint8_t signer[KEYS_PUBLIC_BYTES];
    int64_t feed_aid;
    char feed_net[EVENT_MAX_NETWORK + 1];
    uint64_t feed_seq;
    uint8_t feed_id[EVENT_ID_BYTES];
    int pending; /* 0: the pending table is empty, its lookups can be skipped */
    int pins;    /* 0: no log is pinned above its head, pin lookups can be skipped */
    int erasures; /* 0: no erasure is stored, coverage lookups can be skipped */
    int64_t n_pending; /* rows in pending, counted once per transaction (-1: not yet) */
    int64_t search_part1; /* 1 + the search part whose table exists (0: none known) */
} tx_cache_t;

#define STORE_MAX_ANCHORS 256 /* trusted coordinators (store_trust) */

/* One log, as the chain code addresses it: the author's row and key (the
 * pending table names authors by key) and the network. Borrowed. */
typedef struct logref {
    int64_t aid;
    const uint8_t *key;
    const char *net;
} logref_t;

struct store {
    struct {
        char network[EVENT_MAX_NETWORK + 1];
        uint8_t key[KEYS_PUBLIC_BYTES];
    } anchors[STORE_MAX_ANCHORS]; /* trusted coordinators, from config */
    size_t n_anchors;
    sqlite3 *db;
    sqlite3_stmt *q[N_STMTS];
    int in_batch;
    /* This write took rows off the chain or restored a payload, so the
     * items no longer follow from the canonical rows; its commit point
     * re-derives them once (lifecycle_rederive). */
    bool items_stale;
    /* An erasure took the content of events of these items (their
     * origins): when the items are not stale as a whole, the commit point
     * derives just these again, each from its own events (items_rederive),
     * and their search rows (search_item_sync), so an erasure costs what
     * it erased, not the store. More than STALE_ITEMS_MAX: all are. */
#define STALE_ITEMS_MAX 64
    int64_t stale_items[STALE_ITEMS_MAX];
    size_t n_stale_items;
    /* Items a batch derived or updated, indexed for search at its commit
     * point (search_flush), not as each event is stored: FTS5 writes its
     * pending terms out at every savepoint, and a batch has one per event,
     * which doubled a catch-up receiver's CPU per event (91 to 198 us) and
     * tripled its disk writes. More than SEARCH_PENDING_MAX: every item is
     * checked against the index (search_sync). */
#define SEARCH_PENDING_MAX 8192
    int64_t search_pending[SEARCH_PENDING_MAX];
    size_t n_search_pending;
    bool search_pending_over;
    int anchors_synced; /* members was derived under the anchors set now */
    uint64_t authz;     /* moves when who may do what may have changed here */
    tx_cache_t c;
    /* An erasure removed a payload since the last checkpoint that got
     * through: after the next commit the WAL is checkpointed and truncated
     * (erase_checkpoint), so no old copy of the page stays in it. */
    bool erase_due;
    int64_t erase_tried_ms;
    sqlite3_stmt *data_version;   /* PRAGMA data_version: commits by other connections */
    /* search.c's statements, prepared when first used */
    sqlite3_stmt *search_q[SEARCH_N_STMTS];
    sqlite3_stmt *(*search_pq)[SEARCH_N_PART_STMTS]; /* by part, n_search_pq of them */
    size_t n_search_pq;
    void *search_api; /* the connection's fts5_api (the tokenizer for snippets) */
    /* lifecycle_replay is deriving the items: the search index is brought
     * in step once after it (search_sync), not per event */
    bool replaying;
    /* store_feeds_version: the count, and what it was last derived from */
    struct feeds_version {
        uint64_t n, rollbacks;
        int64_t data_version, changes;
    } fv;
};

/* Maps a SQLite failure to a store error, with its message in why. */
static inline int sql_fail(store_t *s, int rc, char *why, size_t whylen)
{
    int code = STORE_ERR_SQL;
    /* SQLite reports a write that hit a full disk or a file-size limit as a
     * generic I/O error; the operating system's errno says which it was. */
    int sys = s && s->db ? sqlite3_system_errno(s->db) : 0;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        code = STORE_ERR_BUSY;
    else if (rc == SQLITE_FULL || sys == ENOSPC || sys == EFBIG || sys == EDQUOT)
        code = STORE_ERR_FULL;
    else if (rc == SQLITE_NOMEM)
        code = STORE_ERR_NOMEM;
    if (code == STORE_ERR_FULL)
        return why_fail(why, whylen, code, "disk full: %s; nothing was stored",
                        sys ? strerror(sys) : "no space left");
    return why_fail(why, whylen, code, "sqlite: %s", s && s->db ? sqlite3_errmsg(s->db)
                                                               : sqlite3_errstr(rc));
}

static inline sqlite3_stmt *Q(store_t *s, enum stmt_id id)
{
    sqlite3_stmt *st = s->q[id];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static inline int exec(store_t *s, const char *sql, char *why, size_t whylen)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? STORE_OK : sql_fail(s, rc, why, whylen);
}

static inline void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    if (p)
        sqlite3_bind_blob(st, i, p, (int)n, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static inline void bind_text(sqlite3_stmt *st, int i, const char *t)
{
    sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
}

/* Runs a statement that returns no rows. */
static inline int step_done(store_t *s, sqlite3_stmt *st, char *why, size_t whylen)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? STORE_OK : sql_fail(s, rc, why, whylen);
}

static inline bool exists(store_t *s, enum stmt_id q, const uint8_t id[EVENT_ID_BYTES])
{
    sqlite3_stmt *st = Q(s, q);
    bind_blob(st, 1, id, EVENT_ID_BYTES);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

static inline int64_t count_of(sqlite3_stmt *st)
{
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return n;
}

/* ---- what each module offers the others ----------------------------- */

/* store.c */
event_t *store_row_event(sqlite3_stmt *st, int col);
/* The one integer sql selects, in *out. */
int store_scalar(store_t *s, const char *sql, int64_t *out);
int store_resolve(store_t *s, const char *table, const char *hex, uint8_t id[EVENT_ID_BYTES],
                  char *why, size_t whylen);
/* Forgets what the transaction cache knew (a transaction began or ended). */
void store_cache_clear(store_t *s);

/* schema.c: the text of every prepared statement, by id; migrations. */
extern const char *const schema_sql[N_STMTS];
int schema_migrate(store_t *s, int *rederive, int *reindex, char *why, size_t whylen);

/* chain.c */
int chain_author(store_t *s, const uint8_t key[KEYS_PUBLIC_BYTES], int64_t *aid,
                 int64_t *forks, int *revoked, char *why, size_t whylen);
/* The log's head (seq 0 and a zero id when it is empty). */
void chain_head(store_t *s, int64_t aid, const char *network, uint64_t *seq,
                uint8_t id[EVENT_ID_BYTES]);
bool chain_id_at(store_t *s, int64_t aid, const char *net, uint64_t seq,
                 uint8_t id[EVENT_ID_BYTES]);
int chain_advance(store_t *s, const logref_t *lr, int with_forks, size_t *applied, char *why,
                  size_t whylen);
int chain_pin_cut(store_t *s, const logref_t *lr, uint64_t c, const uint8_t *x, int64_t key,
                  size_t *applied, char *why, size_t whylen);
int chain_add(store_t *s, const event_t *ev, int *outcome, size_t *applied, char *why,
              size_t whylen);

/* authz.c */
int authz_check(store_t *s, const event_t *ev, int64_t aid, int author_revoked,
                int64_t *signer, char *why, size_t whylen);
bool authz_under_cut(store_t *s, const event_t *ev, int64_t signer);
int authz_members_sync(store_t *s, char *why, size_t whylen);
int authz_derive(store_t *s, const event_t *ev, int64_t aid, int64_t rowid, char *why,
                 size_t whylen);

bool authz_coordinator(store_t *s, const char *network, const uint8_t *key, int64_t when_ms);

/* erase.c */
/* Whether a stored erasure (on its chain, or held back) covers ev: the one
 * case in which a header-only copy is taken. */
bool erase_covers(store_t *s, const event_t *ev);
int erase_check(store_t *s, const event_t *ev, char *why, size_t whylen);
/* Records a verified erasure being stored; held: ahead of a gap, so it
 * removes nothing yet (it does once it joins its chain and is noted again). */
int erase_note(store_t *s, const event_t *ev, bool held, char *why, size_t whylen);
/* An event about to be stored that an erasure covers loses its payload
 * here (*stripped), before anything of it is written. */
int erase_incoming(store_t *s, event_t *ev, bool *stripped);
void erase_checkpoint(store_t *s);

/* lifecycle.c */
int lifecycle_cut_log(store_t *s, const logref_t *lr, uint64_t from, char *why, size_t whylen);
int lifecycle_key_revoked(store_t *s, int64_t aid, const uint8_t *author, int64_t key,
                          const Lernet__KeyRevoke *r, char *why, size_t whylen);
int lifecycle_member_removed(store_t *s, const char *network, const Lernet__Membership *m,
                             char *why, size_t whylen);
void lifecycle_mark_stale(store_t *s);
/* The item at origin no longer follows from its events (an erasure took
 * the content of one of them): derived again at the commit point. */
void lifecycle_item_stale(store_t *s, int64_t origin);
/* The write's staleness is forgotten (it was undone, or is derived). */
void lifecycle_stale_clear(store_t *s);
int lifecycle_rederive(store_t *s, char *why, size_t whylen);
int lifecycle_replay(store_t *s, size_t *skipped, char *why, size_t whylen);

/* items.c */
/* Derives the item at origin again from its canonical events alone: the
 * one that made it and the updates and cancels of its log that name it,
 * in log order (the same result as a replay: an item follows from its own
 * log's events). Its search rows are not touched (search_item_sync). */
int items_rederive(store_t *s, int64_t origin, char *why, size_t whylen);
int items_derive(store_t *s, const event_t *ev, int64_t aid, int64_t rowid, char *why,
                 size_t whylen);
/* Whether a coordinator hid the item id of network (as store_items says). */
bool items_hidden(store_t *s, const uint8_t id[EVENT_ID_BYTES], const char *network);

/* search.c */
/* Registers the "lernet" FTS5 tokenizer on the connection (before the
 * schema, which names it, is touched). */
int search_register(store_t *s, char *why, size_t whylen);
void search_close(store_t *s);
/* Indexes the item at origin from content p (the payload of event row
 * content; NULL: erased, nothing indexed), unless it was indexed from that
 * content already. */
int search_put(store_t *s, int64_t origin, int64_t content, const Lernet__Payload *p, char *why,
               size_t whylen);
/* The same for the item whose original event is target (an update). */
int search_put_target(store_t *s, const uint8_t target[EVENT_ID_BYTES], int64_t content,
                      const Lernet__Payload *p, char *why, size_t whylen);
/* Inside a batch: the item at origin (or whose original event is target)
 * is indexed at the batch's commit point (search_flush). */
void search_note(store_t *s, int64_t origin);
int search_note_target(store_t *s, const uint8_t target[EVENT_ID_BYTES], char *why,
                       size_t whylen);
/* At a commit point: the items noted are indexed from their content now;
 * the list is emptied (search_drop_notes also on rollback). */
int search_flush(store_t *s, char *why, size_t whylen);
void search_drop_notes(store_t *s);
/* After all the items were derived again: every item indexed from its
 * content now, rows of items that are gone deleted; full: the index's parts
 * are dropped and it is made anew. When text left it in a write that
 * erased, every part's segments are merged so nothing of that text stays
 * in them. */
int search_sync(store_t *s, bool full, char *why, size_t whylen);
/* The item at origin (derived again alone) indexed from its content now;
 * its rows deleted if it has none or is gone. */
int search_item_sync(store_t *s, int64_t origin, char *why, size_t whylen);
/* After text of the items at origins[n] left the index: the segments of
 * their parts are merged, which drops the deleted entries (FTS5 keeps them
 * in the old segments, marked deleted, until then). Costs the size of the
 * parts, never of the whole index. */
int search_purge(store_t *s, const int64_t *origins, size_t n, char *why, size_t whylen);
/* Makes the index again from nothing (every part dropped, every item
 * indexed), in one transaction: store_open, after the migration to the
 * schema that made the index as it is (SEARCH_INDEXED_AT). */
int search_index_all(store_t *s, char *why, size_t whylen);
/* Items the index is not in step with (store_verify). */
int search_stale_count(store_t *s, int64_t *n);

#endif
