/*
 * schema: the store's tables, the migrations between their versions, and
 * the text of every prepared statement.
 *
 * PRAGMA user_version is the schema version. schema_migrate takes an
 * older database to STORE_SCHEMA_VERSION in one transaction (migrations[v]
 * goes from version v to v + 1) and refuses a newer one. A migration, once
 * shipped, never changes. The statements (schema_sql, by enum stmt_id) are
 * prepared once, when the store opens, and reused.
 */
#include "store/store_impl.h"

#include <stdio.h>

/* The schema texts are kept as each version shipped them (a migration is
 * history: a database of that version was made by exactly this text), so
 * they spell row states and kinds as numbers: fork = 0 is ROW_CANONICAL
 * (the partial index events_chain holds each log's chain), 2 is
 * ROW_WITHDRAWN; the views' kinds 1, 2 and 3 are LERNET__KIND__KIND_WORKSHOP,
 * _MEETING and _EXPERIENCE. */
static const char *schema_v1 =
    "CREATE TABLE authors(id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE,"
    "  forked INTEGER NOT NULL DEFAULT 0, fork_count INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE feeds(author INTEGER NOT NULL, network TEXT NOT NULL,"
    "  head_seq INTEGER NOT NULL, head_id BLOB NOT NULL, PRIMARY KEY(author, network))"
    "  WITHOUT ROWID;"
    "CREATE TABLE events(rowid INTEGER PRIMARY KEY, id BLOB NOT NULL, author INTEGER NOT NULL,"
    "  network TEXT NOT NULL, seq INTEGER NOT NULL, kind INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL,"
    "  fork INTEGER NOT NULL DEFAULT 0, header BLOB NOT NULL, sig BLOB NOT NULL,"
    "  payload BLOB, salt BLOB);"
    "CREATE UNIQUE INDEX events_id ON events(id);"
    "CREATE UNIQUE INDEX events_chain ON events(author, network, seq) WHERE fork = 0;"
    "CREATE TABLE pending(id BLOB PRIMARY KEY, author BLOB NOT NULL, network TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, received_ms INTEGER NOT NULL, header BLOB NOT NULL,"
    "  sig BLOB NOT NULL, payload BLOB, salt BLOB);"
    "CREATE INDEX pending_log ON pending(author, network, seq);"
    "CREATE TABLE items(id BLOB PRIMARY KEY);"; /* replaced by v2 */

/* v2: an item is keyed by the rowid of the event that created it; its id,
 * network and creation time are that event's, not copies with a second
 * random-order index on the id: a sixth less disk per event and one index
 * fewer to update on every insert. Items are derived, so they are rebuilt. */
#define ITEMS_V2 \
    "DROP VIEW IF EXISTS workshops; DROP VIEW IF EXISTS meetings;" \
    "DROP VIEW IF EXISTS experiences; DROP TABLE items;" \
    "CREATE TABLE items(origin INTEGER PRIMARY KEY, kind INTEGER NOT NULL," \
    "  author INTEGER NOT NULL, content INTEGER," \
    "  start INTEGER NOT NULL, end_ INTEGER NOT NULL, cancelled INTEGER NOT NULL," \
    "  cancel_reason TEXT, revision INTEGER NOT NULL," \
    "  updated_ms INTEGER NOT NULL, about BLOB);" \
    "CREATE INDEX items_kind_start ON items(kind, start);" \
    "CREATE INDEX items_about ON items(about) WHERE about IS NOT NULL;" \
    "CREATE VIEW workshops AS SELECT e.id AS id, e.network AS network," \
    "  e.created_ms AS created_ms, i.* FROM items i" \
    "  JOIN events e ON e.rowid = i.origin WHERE i.kind = 1;" \
    "CREATE VIEW meetings AS SELECT e.id AS id, e.network AS network," \
    "  e.created_ms AS created_ms, i.* FROM items i" \
    "  JOIN events e ON e.rowid = i.origin WHERE i.kind = 2;" \
    "CREATE VIEW experiences AS SELECT e.id AS id, e.network AS network," \
    "  e.created_ms AS created_ms, i.* FROM items i" \
    "  JOIN events e ON e.rowid = i.origin WHERE i.kind = 3;"

/* v3: key lifecycle. events.signer is 0 for an event its author's identity
 * signed, else the signing_keys row of the certified key that did; a
 * revocation adds cuts and withdraws (fork = 2) what was signed after them. */
#define KEYS_V3 \
    "ALTER TABLE authors ADD COLUMN revoked INTEGER NOT NULL DEFAULT 0;" \
    "ALTER TABLE events ADD COLUMN signer INTEGER NOT NULL DEFAULT 0;" \
    "CREATE TABLE signing_keys(id INTEGER PRIMARY KEY, author INTEGER NOT NULL," \
    "  key BLOB NOT NULL, cert INTEGER, revoked INTEGER NOT NULL DEFAULT 0," \
    "  UNIQUE(author, key));" \
    "CREATE TABLE key_cuts(key INTEGER NOT NULL, network TEXT NOT NULL," \
    "  last_good_seq INTEGER NOT NULL, PRIMARY KEY(key, network)) WITHOUT ROWID;"

/* v4: network membership as the coordinators' statements say it (the latest
 * statement about a member wins). */
#define MEMBERS_V4 \
    "CREATE TABLE members(network TEXT NOT NULL, member BLOB NOT NULL," \
    "  coordinator INTEGER NOT NULL, until_ms INTEGER NOT NULL, removed INTEGER NOT NULL," \
    "  last_good_seq INTEGER NOT NULL, name TEXT, endpoint TEXT, stmt_ms INTEGER NOT NULL," \
    "  stmt INTEGER NOT NULL, PRIMARY KEY(network, member)) WITHOUT ROWID;"

/* v5: who each author is (its latest Profile event), for reports. */
#define PROFILES_V5 \
    "CREATE TABLE profiles(author INTEGER PRIMARY KEY, name TEXT NOT NULL," \
    "  country TEXT NOT NULL, municipality TEXT NOT NULL, stmt_ms INTEGER NOT NULL);"

/* v6: cuts pin the history, not only its length. A cut (of a revoked key,
 * or of a removed member) names its last good event by id; pins holds the
 * ids a log must have at seqs above its head, learned top-down from the
 * cut's id and each pinned event's prev (see pin_follow). meta keeps
 * facts about how derived tables were made (which anchors). */
#define PINS_V6 \
    "ALTER TABLE key_cuts ADD COLUMN last_good_id BLOB;" \
    "ALTER TABLE members ADD COLUMN last_good_id BLOB;" \
    "CREATE TABLE pins(author INTEGER NOT NULL, network TEXT NOT NULL, seq INTEGER NOT NULL," \
    "  id BLOB NOT NULL, PRIMARY KEY(author, network, seq)) WITHOUT ROWID;" \
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB);"

/* v7: erasures. One row per (target, erasure) a verified Erasure event
 * named: by (its author's key), its network and time, its reason. Kept
 * whether or not the target is held yet, so a target that arrives later is
 * stored without its payload. applied: this erasure is the one that removed
 * the target's payload here (readers show it, with its date and author).
 * held: the erasure is held back ahead of a gap in its log, not on its
 * chain yet; it lets header-only copies of its targets fill that gap but
 * removes nothing until it joins the chain (a key stolen and revoked
 * later must not erase by signing far ahead). */
#define ERASURES_V7 \
    "CREATE TABLE erasures(target BLOB NOT NULL, erasure BLOB NOT NULL, by BLOB NOT NULL," \
    "  network TEXT NOT NULL, erased_ms INTEGER NOT NULL, reason TEXT," \
    "  applied INTEGER NOT NULL DEFAULT 0, held INTEGER NOT NULL DEFAULT 0," \
    "  PRIMARY KEY(target, erasure)) WITHOUT ROWID;"

/* v8: the library and discussions. Resources (kind 6) and replies (7) are
 * items like the others (their "about" in items.about); hides keeps every
 * Hide statement (kind 8) by its target, whoever signed it and whether or
 * not the target is held yet: whether one counts (its signer a coordinator
 * of the network then) is decided when the item is read, so the answer
 * never depends on the order the statements came in. stmt is the rowid of
 * the Hide event. Derived: rebuilt with the items. */
#define LIBRARY_V8 \
    "CREATE TABLE hides(target BLOB NOT NULL, stmt INTEGER NOT NULL, by BLOB NOT NULL," \
    "  network TEXT NOT NULL, unhide INTEGER NOT NULL, reason TEXT, stmt_ms INTEGER NOT NULL," \
    "  PRIMARY KEY(target, stmt)) WITHOUT ROWID;"

/* v9: full-text search (search.c). search_text has one row per (item,
 * language), rowid = the item's origin << 5 | the language's slot, and is
 * tokenized by the "lernet" tokenizer (diacritics folded, trigrams), which
 * every connection registers before it touches the schema. The rank is
 * bm25 with a title word worth four of the body's. search_docs: per item,
 * the content event its rows were made from (NULL: erased, no rows).
 * Derived: store_open indexes the items of a store migrated to v9. */
#define SEARCH_V9 \
    "CREATE TABLE search_docs(origin INTEGER PRIMARY KEY, content INTEGER);" \
    "CREATE VIRTUAL TABLE search_text USING fts5(title, body, lang UNINDEXED," \
    "  tokenize = 'lernet');" \
    "INSERT INTO search_text(search_text, rank) VALUES('rank', 'bm25(4.0, 1.0, 0.0)');"

/* v10: series (issue 19). One row per occurrence of a series its author
 * cancelled (a Cancel with occurrence set): the series by its original
 * event's id, the occurrence by its start (Unix s), the reason. Derived:
 * rebuilt with the items. */
#define SERIES_V10 \
    "CREATE TABLE occurrence_cancels(target BLOB NOT NULL, occurrence INTEGER NOT NULL," \
    "  reason TEXT, PRIMARY KEY(target, occurrence)) WITHOUT ROWID;"

/* v11: the rows off the chain (fork = 1, fork evidence) by log. Status
 * counted them by reading the whole events table (a catch-up's receiver
 * spent 2 % of its CPU on the four status calls a second of the bench),
 * and a fork's evidence was looked up the same way; forks are rare, so the
 * index is small and events on the chain never enter it. */
#define EVIDENCE_V11 \
    "CREATE INDEX events_evidence ON events(author, network, seq) WHERE fork = 1;"

/* v12: the search index in parts (search.c): search_p<N> holds the rows
 * of the items whose origin >> SEARCH_PART_BITS is N, made when its first
 * row comes and listed in search_parts, so an erasure merges the segments
 * of one part, not of the whole index; each word is indexed as its
 * suffixes at one position (a query word is a prefix query), not as
 * trigrams. events_changes lists each log's updates and cancels (kinds 4,
 * 5), so an item is derived again from its own events without reading its
 * log. The v9 index (v9 to v11) is dropped and the items are indexed again. */
#define SEARCH_V12 \
    "DROP TABLE search_text; DELETE FROM search_docs;" \
    "CREATE TABLE search_parts(part INTEGER PRIMARY KEY);" \
    "CREATE INDEX events_changes ON events(author, network, seq)" \
    "  WHERE fork = 0 AND kind IN (4, 5);"

/* v13: a word's suffixes are indexed only where they could be a part of
 * a compound (search.c, PART_MIN_CPS): the index is made again, from
 * nothing (search_index_all drops the parts). */
#define SEARCH_V13 "DELETE FROM search_docs;"

/* Migrations: entry i takes the schema from version i to i+1. */
static const char *migrations[] = {NULL /* 0 → 1 is schema_v1 */, ITEMS_V2, KEYS_V3,
                                   MEMBERS_V4, PROFILES_V5, PINS_V6, ERASURES_V7, LIBRARY_V8,
                                   SEARCH_V9, SERIES_V10, EVIDENCE_V11, SEARCH_V12,
                                   SEARCH_V13};
_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
               "one migration per version");

/* The first version whose items must be re-derived after migrating. */
#define ITEMS_REDERIVED_AT 2
/* The version that made the search index as it is: a store migrated from
 * below it has its items indexed when it opens. */
#define SEARCH_INDEXED_AT 13

const char *const schema_sql[N_STMTS] = {
    [Q_HAS_EVENT] = "SELECT 1 FROM events WHERE id = ?1",
    [Q_HAS_PENDING] = "SELECT 1 FROM pending WHERE id = ?1",
    [Q_AUTHOR_GET] = "SELECT id, fork_count, revoked FROM authors WHERE key = ?1",
    [Q_AUTHOR_INS] = "INSERT INTO authors(key) VALUES (?1)",
    [Q_FEED_GET] = "SELECT head_seq, head_id FROM feeds WHERE author = ?1 AND network = ?2",
    [Q_FEED_PUT] = "INSERT INTO feeds(author, network, head_seq, head_id) VALUES (?1,?2,?3,?4)"
                   " ON CONFLICT(author, network) DO UPDATE SET head_seq = ?3, head_id = ?4",
    [Q_EVENT_INS] = "INSERT INTO events(id, author, network, seq, kind, created_ms, received_ms,"
                    " fork, header, sig, payload, salt, signer) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,"
                    "?9,?10,?11,?12,?13)",
    [Q_FORK_MARK] = "UPDATE authors SET forked = 1, fork_count = fork_count + 1 WHERE id = ?1",
    [Q_PENDING_INS] = "INSERT INTO pending(id, author, network, seq, received_ms, header, sig,"
                      " payload, salt) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
    [Q_PENDING_LOG_COUNT] = "SELECT count(*) FROM pending WHERE author = ?1 AND network = ?2",
    [Q_PENDING_COUNT] = "SELECT count(*) FROM pending",
    [Q_PENDING_LOG_ERASURES] = "SELECT count(*) FROM pending p WHERE p.author = ?1"
                               " AND p.network = ?2 AND EXISTS(SELECT 1 FROM erasures x"
                               " WHERE x.erasure = p.id AND x.held = 1)",
    [Q_PENDING_DEL] = "DELETE FROM pending WHERE id = ?1",
    [Q_PENDING_STALE] = "DELETE FROM pending WHERE author = ?1 AND network = ?2 AND seq <= ?3",
    /* the item's id, network and creation time are its origin event's (?1):
     * not stored twice */
    [Q_ITEM_INS] = "INSERT OR IGNORE INTO items(origin, kind, author, content,"
                   " start, end_, cancelled, cancel_reason, revision, updated_ms,"
                   " about) VALUES (?1,?2,?3,?1,?4,?5,?6,NULL,0,?7,?8)",
    [Q_ITEM_GET] = "SELECT i.kind, i.author, e.network FROM items i JOIN events e"
                   " ON e.rowid = i.origin WHERE e.id = ?1",
    [Q_ITEM_UPDATE] = "UPDATE items SET content = ?2, start = ?3, end_ = ?4, cancelled = ?5,"
                      " cancel_reason = NULL, revision = revision + 1, updated_ms = ?6"
                      " WHERE origin = (SELECT rowid FROM events WHERE id = ?1)",
    [Q_ITEM_CANCEL] = "UPDATE items SET cancelled = 1, cancel_reason = ?2,"
                      " revision = revision + 1, updated_ms = ?3"
                      " WHERE origin = (SELECT rowid FROM events WHERE id = ?1)",
    [Q_RANGE] = "SELECT e.rowid, e.id, e.network, e.seq, e.kind, e.created_ms, e.received_ms,"
                " e.fork, e.header, e.sig, e.payload, e.salt FROM events e"
                " WHERE e.author = (SELECT id FROM authors WHERE key = ?1) AND e.network = ?2"
                " AND e.seq BETWEEN ?3 AND ?4 AND e.fork = " SQL_CANONICAL " ORDER BY e.seq",
    [Q_HEAD] = "SELECT f.head_seq, f.head_id, (SELECT sig FROM events WHERE id = f.head_id)"
               " FROM feeds f JOIN authors a ON a.id = f.author"
               " WHERE a.key = ?1 AND f.network = ?2",
    [Q_PENDING_ANY] = "SELECT EXISTS(SELECT 1 FROM pending)",
    /* prepared once: parsing these for every event cost as much as an insert */
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SP_OPEN] = "SAVEPOINT store_add",
    [Q_SP_RELEASE] = "RELEASE store_add",
    [Q_SP_UNDO] = "ROLLBACK TO store_add",
    [Q_SIGNER_GET] = "SELECT id, revoked, cert IS NOT NULL FROM signing_keys"
                     " WHERE author = ?1 AND key = ?2",
    [Q_SIGNER_PUT] = "INSERT INTO signing_keys(author, key, cert) VALUES (?1,?2,?3)"
                     " ON CONFLICT(author, key) DO UPDATE SET cert = coalesce(cert, ?3)",
    [Q_SIGNER_REVOKE] = "UPDATE signing_keys SET revoked = 1 WHERE id = ?1",
    [Q_CUT_GET] = "SELECT last_good_seq FROM key_cuts WHERE key = ?1 AND network = ?2",
    [Q_CUT_PUT] = "INSERT OR REPLACE INTO key_cuts(key, network, last_good_seq, last_good_id)"
                  " VALUES (?1,?2,?3,?4)",
    [Q_AUTHOR_REVOKE] = "UPDATE authors SET revoked = 1 WHERE id = ?1",
    /* per log, the first canonical event the revoked key signed after the cut */
    [Q_WITHDRAW_FROM] = "SELECT e.network, min(e.seq) FROM events e"
                        " LEFT JOIN key_cuts c ON c.key = ?2 AND c.network = e.network"
                        " WHERE e.author = ?1 AND e.signer = ?2 AND e.fork = " SQL_CANONICAL
                        " AND e.seq > coalesce(c.last_good_seq, 0) GROUP BY e.network",
    [Q_WITHDRAW] = "UPDATE events SET fork = " SQL_WITHDRAWN " WHERE author = ?1 AND network = ?2"
                   " AND fork = " SQL_CANONICAL " AND seq >= ?3",
    [Q_EVENT_AT] = "SELECT id FROM events WHERE author = ?1 AND network = ?2 AND seq = ?3"
                   " AND fork = " SQL_CANONICAL,
    [Q_FEED_DEL] = "DELETE FROM feeds WHERE author = ?1 AND network = ?2",
    [Q_FORK_AT] = "SELECT rowid, header, sig, payload, salt FROM events WHERE author = ?1"
                  " AND network = ?2 AND seq = ?3 AND fork = " SQL_EVIDENCE,
    [Q_PROFILE_PUT] = "INSERT INTO profiles(author, name, country, municipality, stmt_ms)"
                      " VALUES (?1,?2,?3,?4,?5) ON CONFLICT(author) DO UPDATE SET name = ?2,"
                      " country = ?3, municipality = ?4, stmt_ms = ?5 WHERE ?5 >= stmt_ms",
    [Q_MEMBER_GET] = "SELECT coordinator, until_ms, removed, last_good_seq FROM members"
                     " WHERE network = ?1 AND member = ?2",
    [Q_MEMBER_PUT] = "INSERT INTO members(network, member, coordinator, until_ms, removed,"
                     " last_good_seq, name, endpoint, stmt_ms, stmt, last_good_id)"
                     " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11) ON CONFLICT(network, member)"
                     " DO UPDATE SET coordinator = ?3, until_ms = ?4, removed = ?5,"
                     " last_good_seq = ?6, name = ?7, endpoint = ?8, stmt_ms = ?9, stmt = ?10,"
                     " last_good_id = ?11"
                     " WHERE ?9 >= members.stmt_ms",
    [Q_FORK_UNMARK] = "UPDATE authors SET fork_count = max(fork_count - 1, 0),"
                      " forked = fork_count > 1 WHERE id = ?1",
    /* state of a stored event: its row state and whether its payload is gone */
    [Q_EVENT_STATE] = "SELECT fork, payload IS NULL FROM events WHERE id = ?1",
    /* an event off the chain (evidence or withdrawn) that is about to join it */
    [Q_EVENT_DEL_OFF] = "DELETE FROM events WHERE id = ?1 AND fork != " SQL_CANONICAL
                        " RETURNING fork",
    [Q_OFF_BY_ID] = "SELECT header, sig, payload, salt FROM events WHERE id = ?1"
                    " AND fork != " SQL_CANONICAL,
    [Q_PENDING_BY_ID] = "SELECT header, sig, payload, salt FROM pending WHERE id = ?1",
    [Q_PENDING_AT] = "SELECT id, header, sig, payload, salt FROM pending"
                     " WHERE author = ?1 AND network = ?2 AND seq = ?3",
    [Q_PENDING_SEQ_COUNT] = "SELECT count(*) FROM pending WHERE author = ?1 AND network = ?2"
                            " AND seq = ?3",
    [Q_PENDING_DISPROVE] = "DELETE FROM pending WHERE author = ?1 AND network = ?2 AND seq = ?3"
                           " AND id != ?4",
    [Q_PENDING_LOG_SEQS] = "SELECT DISTINCT seq FROM pending WHERE author = ?1 AND network = ?2"
                           " AND seq > ?3 ORDER BY seq LIMIT ?4",
    [Q_PIN_ANY] = "SELECT EXISTS(SELECT 1 FROM pins)",
    [Q_PIN_TOP] = "SELECT max(seq) FROM pins WHERE author = ?1 AND network = ?2",
    [Q_PIN_GET] = "SELECT id FROM pins WHERE author = ?1 AND network = ?2 AND seq = ?3",
    [Q_PIN_PUT] = "INSERT OR IGNORE INTO pins(author, network, seq, id) VALUES (?1,?2,?3,?4)",
    [Q_PIN_DROP] = "DELETE FROM pins WHERE author = ?1 AND network = ?2 AND seq <= ?3",
    [Q_FIRST_SIGNED] = "SELECT min(seq) FROM events WHERE author = ?1 AND network = ?2"
                       " AND signer = ?3 AND fork = " SQL_CANONICAL,
    [Q_FILL_PAYLOAD] = "UPDATE events SET payload = ?2, salt = ?3 WHERE id = ?1"
                       " AND payload IS NULL",
    [Q_SIGNER_REVOKED] = "SELECT revoked FROM signing_keys WHERE id = ?1",
    [Q_PENDING_UPTO] = "SELECT id, header, sig, payload, salt FROM pending"
                       " WHERE author = ?1 AND network = ?2 AND seq <= ?3",
    /* erasures (erase.c) */
    [Q_ERASURE_INS] = "INSERT INTO erasures(target, erasure, by, network, erased_ms, reason, held)"
                      " VALUES (?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(target, erasure)"
                      " DO UPDATE SET held = MIN(held, excluded.held)",
    [Q_ERASURE_OF] = "SELECT erasure, by, erased_ms FROM erasures WHERE target = ?1"
                     " AND network = ?2 AND (held = 0 OR ?3) ORDER BY erased_ms, erasure",
    [Q_ERASURE_APPLY] = "UPDATE erasures SET applied = 1 WHERE target = ?1 AND erasure = ?2",
    [Q_TARGET_EVENT] = "SELECT e.kind, a.key, e.network FROM events e JOIN authors a"
                       " ON a.id = e.author WHERE e.id = ?1",
    [Q_TARGET_PENDING] = "SELECT header, sig FROM pending WHERE id = ?1",
    [Q_STRIP_EVENT] = "UPDATE events SET payload = NULL, salt = NULL WHERE id = ?1"
                      " AND payload IS NOT NULL",
    [Q_ERASURE_ANY] = "SELECT EXISTS(SELECT 1 FROM erasures)",
    [Q_ERASURE_APPLIED] = "SELECT erasure FROM erasures WHERE target = ?1 AND applied = 1"
                          " ORDER BY erased_ms, erasure LIMIT 1",
    [Q_STRIP_PENDING] = "UPDATE pending SET payload = NULL, salt = NULL WHERE id = ?1"
                        " AND payload IS NOT NULL",
    /* hides (items.c) */
    [Q_HIDE_INS] = "INSERT OR IGNORE INTO hides(target, stmt, by, network, unhide, reason,"
                   " stmt_ms) VALUES (?1,?2,?3,?4,?5,?6,?7)",
    [Q_OCC_CANCEL] = "INSERT OR REPLACE INTO occurrence_cancels(target, occurrence, reason)"
                     " VALUES (?1, ?2, ?3)",
    [Q_OCC_TOUCH] = "UPDATE items SET revision = revision + 1, updated_ms = ?2"
                    " WHERE origin = (SELECT rowid FROM events WHERE id = ?1)",
    [Q_OCC_OF] = "SELECT occurrence FROM occurrence_cancels WHERE target = ?1"
                 " ORDER BY occurrence LIMIT 200",
    [Q_HIDE_OF] = "SELECT by, unhide, reason, stmt_ms FROM hides WHERE target = ?1"
                  " AND network = ?2 ORDER BY stmt_ms DESC, stmt DESC",
};

/* Brings the schema to STORE_SCHEMA_VERSION; *rederive is set when the
 * items were recreated empty and must be replayed (needs the statements),
 * *reindex when the search index is new and the items must be indexed. */
int schema_migrate(store_t *s, int *rederive, int *reindex, char *why, size_t whylen)
{
    sqlite3_stmt *st;
    int version = 0, rc;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > STORE_SCHEMA_VERSION)
        return why_fail(why, whylen, STORE_ERR_SCHEMA,
                    "database schema %d is newer than this lernet (%d); upgrade lernet",
                    version, STORE_SCHEMA_VERSION);
    if (version == STORE_SCHEMA_VERSION)
        return STORE_OK;
    *rederive = version > 0 && version < ITEMS_REDERIVED_AT;
    *reindex = version > 0 && version < SEARCH_INDEXED_AT;
    if ((rc = exec(s, "BEGIN IMMEDIATE", why, whylen)))
        return rc;
    for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
        const char *sql = v == 0 ? schema_v1 : migrations[v];
        if ((rc = exec(s, sql, why, whylen))) {
            exec(s, "ROLLBACK", NULL, 0);
            return rc;
        }
    }
    char set[64];
    snprintf(set, sizeof set, "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
    if ((rc = exec(s, set, why, whylen)) || (rc = exec(s, "COMMIT", why, whylen))) {
        exec(s, "ROLLBACK", NULL, 0);
        return rc;
    }
    return STORE_OK;
}
