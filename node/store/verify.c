/*
 * verify: store_verify, the whole store re-checked (lernet verify).
 *
 * It changes nothing: every check reads the stored rows; the derived
 * items are compared with a fresh replay inside a savepoint that is
 * rolled back. Each problem is one line to the caller's report callback.
 */
#include "store/store_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct verify {
    store_t *s;
    store_report_cb report;
    void *ctx;
    size_t problems, checked;
    /* chain state of the log being walked */
    int64_t author;
    char network[EVENT_MAX_NETWORK + 1];
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    int damaged; /* the log's last event did not parse: its id is unknown */
} verify_t;

static void problem(verify_t *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(verify_t *v, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    v->problems++;
    if (v->report)
        v->report(v->ctx, line);
}

static void check_integrity(verify_t *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(v->s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
        problem(v, "sqlite integrity check could not run: %s", sqlite3_errmsg(v->s->db));
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (r && strcmp(r, "ok") != 0)
            problem(v, "sqlite integrity: %s", r);
    }
    sqlite3_finalize(st);
}

/* At the end of a log: the feeds row must name the last canonical event. */
static void check_feed_end(verify_t *v)
{
    uint64_t seq;
    uint8_t id[EVENT_ID_BYTES];
    if (v->author == 0 || v->damaged)
        return;
    chain_head(v->s, v->author, v->network, &seq, id);
    if (seq != v->seq || memcmp(id, v->head, EVENT_ID_BYTES) != 0)
        problem(v, "log %s of author #%lld: head says seq %llu, events end at %llu", v->network,
                (long long)v->author, (unsigned long long)seq, (unsigned long long)v->seq);
}

static void check_row(verify_t *v, sqlite3_stmt *st)
{
    char hex[EVENT_ID_HEX_SIZE] = "?";
    event_t *ev = NULL;
    char why[256];
    int64_t author = sqlite3_column_int64(st, 1);
    const char *network = (const char *)sqlite3_column_text(st, 2);
    uint64_t seq = (uint64_t)sqlite3_column_int64(st, 3);
    bool canonical = sqlite3_column_int(st, 5) == ROW_CANONICAL;
    const void *payload = sqlite3_column_blob(st, 8);
    v->checked++;
    if (sqlite3_column_bytes(st, 0) == EVENT_ID_BYTES)
        event_id_hex(hex, sqlite3_column_blob(st, 0));
    if (canonical && (author != v->author || !network || strcmp(network, v->network) != 0)) {
        check_feed_end(v);
        v->author = author;
        snprintf(v->network, sizeof v->network, "%s", network ? network : "");
        v->seq = 0;
        v->damaged = 0;
        memset(v->head, 0, EVENT_ID_BYTES);
    }
    int rc = sqlite3_column_bytes(st, 7) != KEYS_SIG_BYTES
                 ? EV_BAD_SIGNATURE
                 : event_from_parts(&ev, sqlite3_column_blob(st, 6),
                                    (size_t)sqlite3_column_bytes(st, 6), sqlite3_column_blob(st, 7),
                                    payload, (size_t)sqlite3_column_bytes(st, 8),
                                    payload ? sqlite3_column_blob(st, 9) : NULL, STORED_NOW, why,
                                    sizeof why);
    if (rc != EV_OK) {
        problem(v, "event %.16s… (%s seq %llu): %s: %s", hex, network ? network : "?",
                (unsigned long long)seq, err_name(rc),
                rc == EV_BAD_SIGNATURE ? "stored bytes were altered" : why);
        if (canonical) { /* keep walking the chain past the damage */
            v->seq = seq;
            v->damaged = 1;
        }
        return;
    }
    /* every column `lernet log` prints beside the header bytes */
    if (memcmp(ev->id, sqlite3_column_blob(st, 0), EVENT_ID_BYTES) != 0 || ev->seq != seq ||
        strcmp(ev->network, network) != 0 || ev->kind != sqlite3_column_int(st, 4) ||
        sqlite3_column_bytes(st, 10) != KEYS_PUBLIC_BYTES ||
        memcmp(ev->author, sqlite3_column_blob(st, 10), KEYS_PUBLIC_BYTES) != 0 ||
        ev->created_ms != sqlite3_column_int64(st, 11))
        problem(v, "event %.16s…: stored columns disagree with its signed header", hex);
    if (canonical) {
        if (seq != v->seq + 1 || (seq > 1 && memcmp(ev->prev, v->head, EVENT_ID_BYTES) != 0))
            problem(v, "event %.16s…: chain broken in %s at seq %llu", hex, network,
                    (unsigned long long)seq);
        v->seq = seq;
        v->damaged = 0;
        memcpy(v->head, ev->id, EVENT_ID_BYTES);
    }
    event_free(&ev);
}

static void check_events(verify_t *v)
{
    sqlite3_stmt *st;
    /* each log's chain first (ROW_CANONICAL is the lowest state), in seq order */
    if (sqlite3_prepare_v2(v->s->db,
                           "SELECT e.id, e.author, e.network, e.seq, e.kind, e.fork, e.header,"
                           " e.sig, e.payload, e.salt, a.key, e.created_ms"
                           " FROM events e LEFT JOIN authors a ON a.id = e.author"
                           " ORDER BY e.author, e.network, e.fork, e.seq, e.rowid",
                           -1, &st, NULL) != SQLITE_OK) {
        problem(v, "events could not be read: %s", sqlite3_errmsg(v->s->db));
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        check_row(v, st);
    check_feed_end(v);
    sqlite3_finalize(st);
}

static void check_forks(verify_t *v)
{
    sqlite3_stmt *st;
    char key[KEYS_PUB_STR_SIZE];
    if (sqlite3_prepare_v2(v->s->db, "SELECT key, fork_count FROM authors WHERE forked = 1", -1,
                           &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        keys_pub_encode(key, sqlite3_column_blob(st, 0));
        problem(v, "fork: author %s signed %d conflicting event%s (kept as evidence)", key,
                sqlite3_column_int(st, 1), sqlite3_column_int(st, 1) == 1 ? "" : "s");
    }
    sqlite3_finalize(st);
}

/* Derived tables equal a fresh rebuild: rebuild inside a savepoint,
 * compare with a snapshot, roll back. */
static void check_derived(verify_t *v)
{
    size_t skipped = 0;
    if (exec(v->s, "SAVEPOINT verify; CREATE TEMP TABLE verify_snap AS SELECT * FROM items",
             NULL, 0) != STORE_OK) {
        problem(v, "derived tables could not be checked: %s", sqlite3_errmsg(v->s->db));
        return;
    }
    int64_t extra = 0, missing = 0;
    if (lifecycle_replay(v->s, &skipped, NULL, 0) != STORE_OK ||
        store_scalar(v->s, "SELECT count(*) FROM (SELECT * FROM verify_snap EXCEPT"
                           " SELECT * FROM items)", &extra) != STORE_OK ||
        store_scalar(v->s, "SELECT count(*) FROM (SELECT * FROM items EXCEPT"
                           " SELECT * FROM verify_snap)", &missing) != STORE_OK)
        problem(v, "derived tables could not be compared with the signed events: %s",
                sqlite3_errmsg(v->s->db));
    else if (extra || missing)
        problem(v, "derived tables differ from the signed events (%lld rows altered or "
                   "extra, %lld missing); 'lernet store rebuild' re-derives them",
                (long long)extra, (long long)missing);
    exec(v->s, "ROLLBACK TO verify; RELEASE verify", NULL, 0);
    exec(v->s, "DROP TABLE IF EXISTS temp.verify_snap", NULL, 0);
}

/* The search index follows the items: every item indexed from its
 * content now, no rows of items that are gone. */
static void check_search(verify_t *v)
{
    int64_t stale = 0;
    if (search_stale_count(v->s, &stale) != STORE_OK)
        problem(v, "the search index could not be checked: %s", sqlite3_errmsg(v->s->db));
    else if (stale)
        problem(v, "the search index is out of step with %lld item%s; 'lernet store rebuild'"
                   " makes it anew", (long long)stale, stale == 1 ? "" : "s");
}

/* Chain rows without their payload that no applied erasure accounts for:
 * only an erasure may remove one, so each such row is a copy that was
 * stripped. */
static void check_payloads(verify_t *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(v->s->db, "SELECT e.id, e.network, e.seq FROM events e"
                                     " WHERE e.fork = " SQL_CANONICAL " AND e.payload IS NULL"
                                     " AND NOT EXISTS (SELECT 1 FROM erasures x"
                                     " WHERE x.target = e.id AND x.applied = 1)", -1,
                           &st, NULL) != SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char hex[EVENT_ID_HEX_SIZE] = "?";
        if (sqlite3_column_bytes(st, 0) == EVENT_ID_BYTES)
            event_id_hex(hex, sqlite3_column_blob(st, 0));
        problem(v, "event %.16s… (%s seq %lld): payload missing, and nothing erased it; a "
                   "genuine copy from a partner restores it",
                hex, (const char *)sqlite3_column_text(st, 1),
                (long long)sqlite3_column_int64(st, 2));
    }
    sqlite3_finalize(st);
}

/* Every cut (a revoked key's, a removed member's) names its last good
 * event: where the chain reaches that seq, the id there must be it. */
static void check_cuts(verify_t *v)
{
    static const char *sql =
        "SELECT c.network, c.last_good_seq, c.last_good_id, e.id FROM key_cuts c"
        " JOIN signing_keys k ON k.id = c.key JOIN events e ON e.author = k.author"
        " AND e.network = c.network AND e.seq = c.last_good_seq AND e.fork = " SQL_CANONICAL
        " WHERE c.last_good_id IS NOT NULL AND e.id != c.last_good_id"
        " UNION ALL SELECT m.network, m.last_good_seq, m.last_good_id, e.id FROM members m"
        " JOIN authors a ON a.key = m.member JOIN events e ON e.author = a.id"
        " AND e.network = m.network AND e.seq = m.last_good_seq AND e.fork = " SQL_CANONICAL
        " WHERE m.removed = 1 AND m.last_good_id IS NOT NULL AND e.id != m.last_good_id";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(v->s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        problem(v, "cuts could not be checked: %s", sqlite3_errmsg(v->s->db));
        return;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
        problem(v, "log of %s: seq %lld is not the event its cut names (a history the cut "
                   "does not pin is on the chain)",
                (const char *)sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
}

int store_verify(store_t *s, store_report_cb report, void *ctx, size_t *checked,
                 size_t *problems)
{
    verify_t v = {.s = s, .report = report, .ctx = ctx};
    check_integrity(&v);
    check_events(&v);
    check_payloads(&v);
    check_cuts(&v);
    check_forks(&v);
    check_derived(&v);
    check_search(&v);
    if (checked)
        *checked = v.checked;
    if (problems)
        *problems = v.problems;
    return STORE_OK;
}
