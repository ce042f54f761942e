/*
 * authz: who may sign and who may publish, as this node judges it.
 *
 * Signing keys: an author's identity signs, or a key it certified in a
 * KeyCert of its key log (signing_keys). A KeyRevoke revokes a key with a
 * cut per log (key_cuts): what the key signed up to the cut stands, the
 * rest does not. An IdentityRevoke stops the author altogether.
 *
 * Membership: a network with anchors (its coordinators in the node's
 * config, given by store_trust) is managed: only the anchors, and the
 * members a coordinator admitted in a Membership statement, publish there,
 * within their term and before any removal (members: the latest statement
 * about a member wins). A network without anchors is open.
 *
 * authz_derive records what a control event says; what a revocation or a
 * removal does to the chains is lifecycle.c's. authz_check judges one
 * event at the point where it would join its chain.
 *
 * Invariants kept here: members holds the statements valid under the
 * anchors whose digest meta 'anchors' records (authz_members_sync judges
 * them all again when the anchors change); s->authz moves whenever who
 * may sign or publish may have changed (store_authz_version).
 */
#include "store/store_impl.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/why.h"

/* ---- anchors and members -------------------------------------------- */

static bool anchor(const store_t *s, const char *network, const uint8_t *key)
{
    for (size_t i = 0; i < s->n_anchors; i++)
        if (strcmp(s->anchors[i].network, network) == 0 &&
            (!key || memcmp(s->anchors[i].key, key, KEYS_PUBLIC_BYTES) == 0))
            return true;
    return false;
}

int store_trust(store_t *s, const char *network, const uint8_t coordinator[KEYS_PUBLIC_BYTES])
{
    if (!event_network_valid(network))
        return STORE_ERR_INVALID; /* not a network name */
    if (s->n_anchors >= STORE_MAX_ANCHORS)
        return STORE_ERR_LIMIT;
    if (anchor(s, network, coordinator))
        return STORE_OK;
    snprintf(s->anchors[s->n_anchors].network, sizeof s->anchors[0].network, "%s", network);
    memcpy(s->anchors[s->n_anchors].key, coordinator, KEYS_PUBLIC_BYTES);
    s->n_anchors++;
    s->anchors_synced = 0; /* members is judged again under the new anchors */
    s->authz++;
    return STORE_OK;
}

static int anchor_cmp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof ((store_t *)0)->anchors[0]);
}

/* A digest of the anchors, independent of the order they were given in. */
static void anchors_digest(const store_t *s, uint8_t out[32])
{
    size_t n = s->n_anchors, one = sizeof s->anchors[0];
    uint8_t *copy = malloc(n ? n * one : 1);
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    if (copy) {
        for (size_t i = 0; i < n; i++) {
            memset(copy + i * one, 0, one);
            memcpy(copy + i * one, &s->anchors[i], one);
        }
        qsort(copy, n, one, anchor_cmp);
        crypto_generichash_update(&h, copy, n * one);
        free(copy);
    }
    crypto_generichash_final(&h, out, 32);
}

static int derive_membership(store_t *s, const event_t *ev, int64_t rowid, char *why,
                             size_t whylen);

/* 1 if members was derived under the anchors whose digest this is, 0 if
 * not (or never), < 0 on error. */
static int anchors_same(store_t *s, const uint8_t digest[32], char *why, size_t whylen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'anchors'", -1, &st,
                           NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    int same = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
               memcmp(sqlite3_column_blob(st, 0), digest, 32) == 0;
    sqlite3_finalize(st);
    return same;
}

static int anchors_record(store_t *s, const uint8_t digest[32], char *why, size_t whylen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('anchors', ?1)",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    bind_blob(st, 1, digest, 32);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? STORE_OK : sql_fail(s, rc, why, whylen);
}

/* The rows of the canonical membership statements, in log order. *out is
 * malloc'd (the caller frees it); *out and *count are written on success. */
static int statement_rows(store_t *s, int64_t **out, size_t *count, char *why, size_t whylen)
{
    sqlite3_stmt *st;
    size_t n = 0, cap = 64;
    int64_t *rows = malloc(cap * sizeof *rows);
    if (!rows)
        return why_fail(why, whylen, STORE_ERR_NOMEM, "out of memory");
    if (sqlite3_prepare_v2(s->db, "SELECT rowid FROM events WHERE fork = " SQL_CANONICAL
                                  " AND kind = ?1 ORDER BY rowid", -1, &st, NULL) != SQLITE_OK) {
        free(rows);
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    }
    sqlite3_bind_int(st, 1, LERNET__KIND__KIND_MEMBERSHIP);
    int rc = STORE_OK, step;
    while (rc == STORE_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t *more = n < cap ? rows : realloc(rows, 2 * cap * sizeof *rows);
        if (!more) {
            rc = why_fail(why, whylen, STORE_ERR_NOMEM, "out of memory");
            break;
        }
        cap = more == rows ? cap : 2 * cap;
        rows = more;
        rows[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc == STORE_OK && step != SQLITE_DONE)
        rc = sql_fail(s, step, why, whylen);
    sqlite3_finalize(st);
    if (rc != STORE_OK) {
        free(rows);
        return rc;
    }
    *out = rows;
    *count = n;
    return STORE_OK;
}

/* Judges the statements at rows again, in that order. One that left the
 * chain since the rows were read (a removal judged before it cut its
 * author's log) counts no more. */
static int judge_statements(store_t *s, const int64_t *rows, size_t n, char *why, size_t whylen)
{
    sqlite3_stmt *st;
    int rc = STORE_OK;
    if (sqlite3_prepare_v2(s->db, "SELECT header, sig, payload, salt FROM events"
                                  " WHERE rowid = ?1 AND fork = " SQL_CANONICAL, -1, &st,
                           NULL) != SQLITE_OK)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, rows[i]);
        event_t *ev = sqlite3_step(st) == SQLITE_ROW ? store_row_event(st, 0) : NULL;
        sqlite3_reset(st); /* done reading before judging writes */
        if (ev && ev->body)
            rc = derive_membership(s, ev, rows[i], why, whylen);
        event_free(&ev);
    }
    sqlite3_finalize(st);
    return rc;
}

/* members holds the statements that are valid under the anchors this node
 * trusts now. When those differ from the ones it was derived under (meta
 * 'anchors'), every membership statement is judged again in log order
 * (a statement stored while a network was open, or before its
 * coordinators were known, counts only if its author may make it now).
 * Runs inside the caller's write transaction; a removal judged here may
 * cut its author's log, and the items are then derived again once, at
 * the end. */
int authz_members_sync(store_t *s, char *why, size_t whylen)
{
    uint8_t digest[32];
    int64_t *rows = NULL;
    size_t n = 0;
    if (s->anchors_synced)
        return STORE_OK;
    anchors_digest(s, digest);
    int rc = anchors_same(s, digest, why, whylen);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        s->anchors_synced = 1;
        return STORE_OK;
    }
    /* the statements' rows first: judging one may withdraw events */
    if ((rc = statement_rows(s, &rows, &n, why, whylen)))
        return rc;
    rc = exec(s, "DELETE FROM members", why, whylen);
    if (rc == STORE_OK)
        rc = judge_statements(s, rows, n, why, whylen);
    free(rows);
    if (rc == STORE_OK)
        rc = lifecycle_rederive(s, why, whylen);
    if (rc == STORE_OK)
        rc = anchors_record(s, digest, why, whylen);
    if (rc == STORE_OK)
        s->anchors_synced = 1;
    return rc;
}

/* For readers outside a write transaction: authz_members_sync in one of its
 * own. A failure (a locked or read-only store) leaves the old judgement. */
static void members_ensure(store_t *s)
{
    if (s->anchors_synced || s->in_batch)
        return;
    if (exec(s, "BEGIN IMMEDIATE", NULL, 0) != STORE_OK)
        return;
    store_cache_clear(s);
    lifecycle_stale_clear(s);
    if (authz_members_sync(s, NULL, 0) == STORE_OK)
        exec(s, "COMMIT", NULL, 0);
    else
        exec(s, "ROLLBACK", NULL, 0);
    store_cache_clear(s);
    lifecycle_stale_clear(s);
}

/* PRAGMA data_version: moves with every commit by another connection. */
static int64_t data_version(store_t *s)
{
    int64_t other = 0;
    /* asked on every loop turn of the daemon: the place where a checkpoint
     * an erasure owes, and another process's reader held up, is retried */
    erase_checkpoint(s);
    if (s->data_version ||
        sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &s->data_version, NULL) ==
            SQLITE_OK) {
        if (sqlite3_step(s->data_version) == SQLITE_ROW)
            other = sqlite3_column_int64(s->data_version, 0);
        sqlite3_reset(s->data_version);
    }
    return other;
}

uint64_t store_authz_version(store_t *s)
{
    return (uint64_t)data_version(s) << 32 ^ s->authz;
}

uint64_t store_foreign_version(store_t *s)
{
    return (uint64_t)data_version(s);
}

uint64_t store_feeds_version(store_t *s)
{
    int64_t dv = data_version(s), changes = sqlite3_total_changes64(s->db);
    struct feeds_version *v = &s->fv;
    if (v->n == 0 || dv != v->data_version || changes != v->changes ||
        v->rollbacks != 0) {
        v->n++;
        v->data_version = dv;
        v->changes = changes;
        v->rollbacks = 0;
    }
    return v->n;
}

bool store_managed(store_t *s, const char *network)
{
    return anchor(s, network, NULL);
}

typedef struct member_row {
    bool found, coordinator, removed;
    int64_t until_ms;
    uint64_t last_good_seq;
} member_row_t;

static member_row_t member_get(store_t *s, const char *network, const uint8_t *key)
{
    member_row_t m = {0};
    sqlite3_stmt *st = Q(s, Q_MEMBER_GET);
    bind_text(st, 1, network);
    bind_blob(st, 2, key, KEYS_PUBLIC_BYTES);
    if ((m.found = sqlite3_step(st) == SQLITE_ROW)) {
        m.coordinator = sqlite3_column_int(st, 0);
        m.until_ms = sqlite3_column_int64(st, 1);
        m.removed = sqlite3_column_int(st, 2);
        m.last_good_seq = (uint64_t)sqlite3_column_int64(st, 3);
    }
    sqlite3_reset(st);
    return m;
}

/* In a managed network, only coordinators and current members publish, and
 * only coordinators state memberships. */
static int member_ok(store_t *s, const event_t *ev, char *why, size_t whylen)
{
    char fpr[KEYS_FPR_STR_SIZE];
    if (event_log_reserved(ev->network) || !anchor(s, ev->network, NULL) ||
        anchor(s, ev->network, ev->author))
        return STORE_OK;
    keys_fingerprint(fpr, ev->author);
    member_row_t m = member_get(s, ev->network, ev->author);
    if (!m.found)
        return why_fail(why, whylen, STORE_ERR_NOT_MEMBER,
                        "author %s is not a member of %s (no statement from its coordinators, "
                        "or not yet)", fpr, ev->network);
    if (m.removed && ev->seq > m.last_good_seq)
        return why_fail(why, whylen, STORE_ERR_NOT_MEMBER,
                        "author %s was removed from %s after seq %llu", fpr, ev->network,
                        (unsigned long long)m.last_good_seq);
    if (m.until_ms && ev->created_ms > m.until_ms)
        return why_fail(why, whylen, STORE_ERR_NOT_MEMBER,
                        "author %s: membership of %s ended at %lld (ms), the event is later",
                        fpr, ev->network, (long long)m.until_ms);
    if (ev->kind == LERNET__KIND__KIND_MEMBERSHIP && (!m.coordinator || m.removed))
        return why_fail(why, whylen, STORE_ERR_NOT_MEMBER,
                        "author %s states memberships of %s but is not its coordinator", fpr,
                        ev->network);
    return STORE_OK;
}

bool store_is_member(store_t *s, const char *network, const uint8_t key[KEYS_PUBLIC_BYTES],
                     int64_t now_ms)
{
    members_ensure(s);
    if (anchor(s, network, key))
        return true;
    member_row_t m = member_get(s, network, key);
    return m.found && !m.removed && (!m.until_ms || now_ms <= m.until_ms);
}

/* Whether key may state memberships of network now: a coordinator this
 * node trusts (config), or one a valid statement made coordinator, not
 * removed, within its term at when_ms. */
static bool coordinator_now(store_t *s, const char *network, const uint8_t *key, int64_t when_ms)
{
    if (anchor(s, network, key))
        return true;
    member_row_t c = member_get(s, network, key);
    return c.found && c.coordinator && !c.removed && (!c.until_ms || when_ms <= c.until_ms);
}

bool store_is_coordinator(store_t *s, const char *network, const uint8_t key[KEYS_PUBLIC_BYTES],
                          int64_t now_ms)
{
    members_ensure(s);
    return anchor(s, network, NULL) && coordinator_now(s, network, key, now_ms);
}

/* The same for erase.c: a coordinator may erase members' content
 * (moderation) in a managed network only. */
bool authz_coordinator(store_t *s, const char *network, const uint8_t *key, int64_t when_ms)
{
    return anchor(s, network, NULL) && coordinator_now(s, network, key, when_ms);
}

/* Records a coordinator's statement (the latest about a member wins); a
 * removal that is the latest pins the member's history up to its cut and
 * withdraws what it published after. Statements count only in a managed network and only
 * from who may make them when they are judged: an open network's
 * statements mean nothing here, and when the trusted coordinators change,
 * authz_members_sync judges every statement again. */
static int derive_membership(store_t *s, const event_t *ev, int64_t rowid, char *why,
                             size_t whylen)
{
    const Lernet__Membership *m = ev->body->membership;
    if (!anchor(s, ev->network, NULL) ||
        !coordinator_now(s, ev->network, ev->author, ev->created_ms))
        return STORE_OK;
    sqlite3_stmt *st = Q(s, Q_MEMBER_PUT);
    bind_text(st, 1, ev->network);
    bind_blob(st, 2, m->member.data, KEYS_PUBLIC_BYTES);
    sqlite3_bind_int(st, 3, m->coordinator);
    sqlite3_bind_int64(st, 4, m->until_ms);
    sqlite3_bind_int(st, 5, m->removed);
    sqlite3_bind_int64(st, 6, (int64_t)m->last_good_seq);
    bind_text(st, 7, m->name);
    bind_text(st, 8, m->endpoint);
    sqlite3_bind_int64(st, 9, ev->created_ms);
    sqlite3_bind_int64(st, 10, rowid);
    bind_blob(st, 11, m->last_good_id.len ? m->last_good_id.data : NULL, EVENT_ID_BYTES);
    int rc = step_done(s, st, why, whylen);
    s->authz++;
    /* a removal older than the statement members holds was superseded:
     * it cuts nothing (the upsert changed no row) */
    if (rc || !m->removed || sqlite3_changes(s->db) == 0)
        return rc;
    return lifecycle_member_removed(s, ev->network, m, why, whylen);
}

/* ---- signing keys and revocations ----------------------------------- */

/* A certified signing key's row, for ev's author (aid): may it sign ev?
 * Not once it was revoked, except for seqs up to the cut of ev's log. */
static int check_signer(store_t *s, const event_t *ev, int64_t aid, int64_t *signer, char *why,
                        size_t whylen)
{
    char fpr[KEYS_FPR_STR_SIZE];
    sqlite3_stmt *st = Q(s, Q_SIGNER_GET);
    sqlite3_bind_int64(st, 1, aid);
    bind_blob(st, 2, ev->signer, KEYS_PUBLIC_BYTES);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    bool revoked = found && sqlite3_column_int(st, 1), certified = found && sqlite3_column_int(st, 2);
    int64_t id = found ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    keys_fingerprint(fpr, ev->signer);
    if (!certified)
        return why_fail(why, whylen, STORE_ERR_UNCERTIFIED,
                        "signing key %s is not certified by the author (not yet, or never)", fpr);
    if (revoked) {
        st = Q(s, Q_CUT_GET);
        sqlite3_bind_int64(st, 1, id);
        bind_text(st, 2, ev->network);
        uint64_t cut = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
        if (ev->seq > cut)
            return why_fail(why, whylen, STORE_ERR_REVOKED,
                            "signing key %s was revoked after seq %llu of %s", fpr,
                            (unsigned long long)cut, ev->network);
    } else {
        s->c.signer_valid = 1;
        s->c.signer_aid = aid;
        s->c.signer_id = id;
        memcpy(s->c.signer, ev->signer, KEYS_PUBLIC_BYTES);
    }
    *signer = id;
    return STORE_OK;
}

/* Whether ev's signer may sign for its author at this point of this log:
 * the identity itself, or a certified key not revoked before ev->seq; and
 * in a managed network, whether its author may publish there (member_ok).
 * On success *signer gets the key's signing_keys row (0 for the identity). */
int authz_check(store_t *s, const event_t *ev, int64_t aid, int author_revoked,
                int64_t *signer, char *why, size_t whylen)
{
    if (author_revoked)
        return why_fail(why, whylen, STORE_ERR_REVOKED, "the author's identity was revoked");
    int rc = member_ok(s, ev, why, whylen);
    if (rc != STORE_OK)
        return rc;
    if (memcmp(ev->signer, ev->author, KEYS_PUBLIC_BYTES) == 0) {
        *signer = 0;
        return STORE_OK;
    }
    if (s->c.signer_valid && s->c.signer_aid == aid &&
        memcmp(s->c.signer, ev->signer, KEYS_PUBLIC_BYTES) == 0) {
        *signer = s->c.signer_id; /* a batch is mostly one signer: skip the lookup */
        return STORE_OK;
    }
    return check_signer(s, ev, aid, signer, why, whylen);
}

static int signer_row(store_t *s, int64_t aid, const uint8_t *key, int64_t cert, int64_t *id,
                      char *why, size_t whylen)
{
    sqlite3_stmt *st = Q(s, Q_SIGNER_PUT);
    sqlite3_bind_int64(st, 1, aid);
    bind_blob(st, 2, key, KEYS_PUBLIC_BYTES);
    if (cert)
        sqlite3_bind_int64(st, 3, cert);
    int rc = step_done(s, st, why, whylen);
    if (rc || !id)
        return rc;
    st = Q(s, Q_SIGNER_GET);
    sqlite3_bind_int64(st, 1, aid);
    bind_blob(st, 2, key, KEYS_PUBLIC_BYTES);
    int64_t row = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (!row)
        return sql_fail(s, SQLITE_ERROR, why, whylen);
    *id = row;
    return STORE_OK;
}

static int derive_key_cert(store_t *s, const event_t *ev, int64_t aid, int64_t rowid,
                           char *why, size_t whylen)
{
    return signer_row(s, aid, ev->body->key_cert->signing_key.data, rowid, NULL, why, whylen);
}

static int derive_key_revoke(store_t *s, const event_t *ev, int64_t aid, char *why,
                             size_t whylen)
{
    const Lernet__KeyRevoke *r = ev->body->key_revoke;
    int64_t key;
    int rc = signer_row(s, aid, r->signing_key.data, 0, &key, why, whylen);
    sqlite3_stmt *st;
    s->c.signer_valid = 0; /* a revocation changes what the cache may say */
    s->authz++;
    if (rc == STORE_OK) {
        st = Q(s, Q_SIGNER_REVOKE);
        sqlite3_bind_int64(st, 1, key);
        rc = step_done(s, st, why, whylen);
    }
    for (size_t i = 0; rc == STORE_OK && i < r->n_cuts; i++) {
        const Lernet__LogCut *c = r->cuts[i];
        st = Q(s, Q_CUT_PUT);
        sqlite3_bind_int64(st, 1, key);
        bind_text(st, 2, c->network);
        sqlite3_bind_int64(st, 3, (int64_t)c->last_good_seq);
        bind_blob(st, 4, c->last_good_id.len ? c->last_good_id.data : NULL, EVENT_ID_BYTES);
        rc = step_done(s, st, why, whylen);
    }
    return rc ? rc : lifecycle_key_revoked(s, aid, ev->author, key, r, why, whylen);
}

static int derive_identity_revoke(store_t *s, int64_t aid, char *why, size_t whylen)
{
    sqlite3_stmt *st = Q(s, Q_AUTHOR_REVOKE);
    sqlite3_bind_int64(st, 1, aid);
    s->c.author_valid = 0;
    s->authz++;
    return step_done(s, st, why, whylen);
}

/* What a control event of the chain says, recorded: a certificate, a
 * revocation (with its cuts), an identity revocation, a membership
 * statement, an erasure (erase.c). Other kinds change nothing here. */
int authz_derive(store_t *s, const event_t *ev, int64_t aid, int64_t rowid, char *why,
                 size_t whylen)
{
    switch (ev->kind) {
    case LERNET__KIND__KIND_KEY_CERT:
        return ev->body ? derive_key_cert(s, ev, aid, rowid, why, whylen) : STORE_OK;
    case LERNET__KIND__KIND_KEY_REVOKE:
        return ev->body ? derive_key_revoke(s, ev, aid, why, whylen) : STORE_OK;
    case LERNET__KIND__KIND_MEMBERSHIP:
        return ev->body ? derive_membership(s, ev, rowid, why, whylen) : STORE_OK;
    case LERNET__KIND__KIND_IDENTITY_REVOKE:
        return derive_identity_revoke(s, aid, why, whylen);
    case LERNET__KIND__KIND_ERASURE:
        return ev->body ? erase_note(s, ev, false, why, whylen) : STORE_OK;
    default:
        return STORE_OK;
    }
}

/* Whether ev, at a seq its log's chain holds already, falls under a cut: its
 * signer was revoked, or its author removed, with that seq still in the
 * part the cut keeps. That part of the chain is the pinned history, so a
 * different event there is not evidence of the author forking but of a
 * revoked key or a removed member signing another history. */
bool authz_under_cut(store_t *s, const event_t *ev, int64_t signer)
{
    if (signer) {
        sqlite3_stmt *st = Q(s, Q_SIGNER_REVOKED);
        sqlite3_bind_int64(st, 1, signer);
        bool revoked = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
        sqlite3_reset(st);
        if (revoked)
            return true; /* authz_check() let it through: its seq is within the cut */
    }
    member_row_t m = member_get(s, ev->network, ev->author);
    return anchor(s, ev->network, NULL) && m.found && m.removed && ev->seq <= m.last_good_seq;
}

/* ---- reading -------------------------------------------------------- */

int store_author_revoked(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES])
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, "SELECT revoked FROM authors WHERE key = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return STORE_ERR_SQL;
    bind_blob(st, 1, author, KEYS_PUBLIC_BYTES);
    int r = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) != 0 : 0;
    sqlite3_finalize(st);
    return r;
}

int store_signing_keys(store_t *s, const uint8_t author[KEYS_PUBLIC_BYTES],
                       store_signing_key_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT k.key, k.cert IS NOT NULL, k.revoked, coalesce(e.created_ms, 0)"
                           " FROM signing_keys k JOIN authors a ON a.id = k.author"
                           " LEFT JOIN events e ON e.rowid = k.cert WHERE a.key = ?1 ORDER BY k.id",
                           -1, &st, NULL) != SQLITE_OK)
        return STORE_ERR_SQL;
    bind_blob(st, 1, author, KEYS_PUBLIC_BYTES);
    int stop = 0;
    while (!stop && sqlite3_step(st) == SQLITE_ROW) {
        store_signing_key_t k = {.certified = sqlite3_column_int(st, 1),
                                 .revoked = sqlite3_column_int(st, 2),
                                 .certified_ms = sqlite3_column_int64(st, 3)};
        if (sqlite3_column_bytes(st, 0) != KEYS_PUBLIC_BYTES)
            continue;
        memcpy(k.key, sqlite3_column_blob(st, 0), KEYS_PUBLIC_BYTES);
        stop = cb(ctx, &k);
    }
    sqlite3_finalize(st);
    return STORE_OK;
}

int store_members(store_t *s, const char *network, store_member_cb cb, void *ctx)
{
    sqlite3_stmt *st;
    int stop = 0;
    members_ensure(s);
    for (size_t i = 0; !stop && i < s->n_anchors; i++) {
        if (strcmp(s->anchors[i].network, network) != 0)
            continue;
        store_member_t m = {.name = "", .endpoint = "", .coordinator = 1, .anchor = 1};
        memcpy(m.key, s->anchors[i].key, KEYS_PUBLIC_BYTES);
        stop = cb(ctx, &m);
    }
    if (stop || sqlite3_prepare_v2(s->db,
                                   "SELECT member, name, endpoint, coordinator, removed, until_ms,"
                                   " last_good_seq FROM members WHERE network = ?1 ORDER BY stmt",
                                   -1, &st, NULL) != SQLITE_OK)
        return stop ? STORE_OK : STORE_ERR_SQL;
    bind_text(st, 1, network);
    while (!stop && sqlite3_step(st) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != KEYS_PUBLIC_BYTES)
            continue;
        store_member_t m = {.name = (const char *)sqlite3_column_text(st, 1),
                            .endpoint = (const char *)sqlite3_column_text(st, 2),
                            .coordinator = sqlite3_column_int(st, 3),
                            .removed = sqlite3_column_int(st, 4),
                            .until_ms = sqlite3_column_int64(st, 5),
                            .last_good_seq = (uint64_t)sqlite3_column_int64(st, 6)};
        memcpy(m.key, sqlite3_column_blob(st, 0), KEYS_PUBLIC_BYTES);
        if (!m.name)
            m.name = "";
        if (!m.endpoint)
            m.endpoint = "";
        m.anchor = anchor(s, network, m.key);
        stop = cb(ctx, &m);
    }
    sqlite3_finalize(st);
    return STORE_OK;
}
