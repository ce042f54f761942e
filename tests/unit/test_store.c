/*
 * test_store: the chain rules (append, duplicate, gap held back then
 * applied, forks kept as evidence), bounds, derived items (update, cancel,
 * foreign updates ignored, an updated meeting read as a meeting only),
 * rebuild equivalence, persistence, schema versions and verify; failed
 * calls leave their out-parameters alone, damaged rows are not over-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "harness/testutil.h"

#define START 1796112000LL
#define NET "malardalen-skills"

typedef struct fx {
    char *dir;
    char path[600];
    store_t *st;
    keys_identity_t *k;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
    assert_int_equal(store_open(&f->st, f->path, NULL, 0), STORE_OK);
    assert_int_equal(keys_generate(&f->k), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    store_close(&f->st);
    keys_free(&f->k);
    tu_rmtree(&f->dir);
    free(f);
    return 0;
}

/* n signed workshops of k's log; caller frees each and the array. */
static event_t **chain(const keys_identity_t *k, int n)
{
    event_t **v = calloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        Lernet__Payload *p = tu_workshop("Lärande på arbetsplatsen", "Workplace learning",
                                         START + i * 3600);
        v[i] = tu_next(k, NET, i ? v[i - 1] : NULL, p);
        assert_non_null(v[i]);
        tu_payload_free(p);
    }
    return v;
}

static void free_chain(event_t **v, int n)
{
    for (int i = 0; i < n; i++)
        event_free(&v[i]);
    free(v);
}

static int add(fx_t *f, event_t *ev, size_t *applied)
{
    int outcome = -1;
    char why[256];
    assert_int_equal(store_add(f->st, ev, &outcome, applied, why, sizeof why), STORE_OK);
    return outcome;
}

static uint64_t head_of(fx_t *f, const keys_identity_t *k)
{
    uint64_t seq;
    uint8_t id[32];
    assert_int_equal(store_head(f->st, keys_public(k), NET, &seq, id), STORE_OK);
    return seq;
}

typedef struct bytes_ctx {
    const event_t *ev;
    int matched;
} bytes_ctx_t;

static int same_bytes(void *ctx, const store_row_t *r)
{
    bytes_ctx_t *c = ctx;
    c->matched = r->header_len == c->ev->header_len &&
                 memcmp(r->header, c->ev->header, r->header_len) == 0 &&
                 memcmp(r->sig, c->ev->sig, 64) == 0 && r->payload_len == c->ev->payload_len &&
                 memcmp(r->payload, c->ev->payload, r->payload_len) == 0;
    return 0;
}

static void test_append_byte_exact_and_duplicate(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(add(f, v[i], NULL), STORE_APPLIED);
    assert_int_equal(head_of(f, f->k), 3);
    bytes_ctx_t c = {v[1], 0};
    assert_int_equal(store_range(f->st, keys_public(f->k), NET, 2, 2, same_bytes, &c), 0);
    assert_true(c.matched);
    assert_int_equal(add(f, v[1], NULL), STORE_DUPLICATE);
    store_stats_t s;
    store_stats(f->st, &s);
    assert_int_equal(s.events, 3);
    free_chain(v, 3);
}

static void test_gap_held_then_applied(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 4);
    size_t applied = 0;
    assert_int_equal(add(f, v[0], NULL), STORE_APPLIED);
    assert_int_equal(add(f, v[2], NULL), STORE_HELD);
    assert_int_equal(add(f, v[3], NULL), STORE_HELD);
    assert_int_equal(head_of(f, f->k), 1);
    store_stats_t s;
    store_stats(f->st, &s);
    assert_int_equal(s.pending, 2);
    assert_int_equal(s.items, 1); /* held back: not applied */
    assert_int_equal(add(f, v[1], &applied), STORE_APPLIED);
    assert_int_equal(applied, 3);
    assert_int_equal(head_of(f, f->k), 4);
    store_stats(f->st, &s);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.items, 4);
    free_chain(v, 4);
}

static void test_forks_are_evidence(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 2);
    assert_int_equal(add(f, v[0], NULL), STORE_APPLIED);
    assert_int_equal(add(f, v[1], NULL), STORE_APPLIED);
    /* a different event for seq 2, signed by the same author */
    Lernet__Payload *p = tu_meeting("Ett annat möte", START);
    event_t *other = tu_next(f->k, NET, v[0], p);
    assert_int_equal(add(f, other, NULL), STORE_FORK);
    /* a seq-3 event whose prev is not our seq 2 also proves a fork */
    event_t *next = tu_next(f->k, NET, other, p);
    assert_int_equal(add(f, next, NULL), STORE_FORK);
    assert_int_equal(head_of(f, f->k), 2);
    uint8_t(*forked)[KEYS_PUBLIC_BYTES];
    size_t n;
    assert_int_equal(store_forked_authors(f->st, &forked, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_memory_equal(forked[0], keys_public(f->k), 32);
    free(forked);
    size_t checked, problems;
    store_verify(f->st, NULL, NULL, &checked, &problems);
    assert_int_equal(checked, 4);
    assert_int_equal(problems, 1); /* the fork itself, nothing else */
    event_free(&other);
    event_free(&next);
    tu_payload_free(p);
    free_chain(v, 2);
}

static void test_pending_bound(void **state)
{
    fx_t *f = *state;
    int n = STORE_MAX_PENDING_PER_LOG + 2;
    event_t **v = chain(f->k, n);
    char why[256];
    int outcome;
    assert_int_equal(store_begin(f->st), STORE_OK);
    for (int i = 1; i <= STORE_MAX_PENDING_PER_LOG; i++)
        assert_int_equal(add(f, v[i], NULL), STORE_HELD);
    assert_int_equal(store_add(f->st, v[n - 1], &outcome, NULL, why, sizeof why),
                     STORE_ERR_PENDING_FULL);
    assert_non_null(strstr(why, "held back"));
    assert_int_equal(store_commit(f->st), STORE_OK);
    size_t applied = 0;
    assert_int_equal(add(f, v[0], &applied), STORE_APPLIED);
    assert_int_equal(applied, STORE_MAX_PENDING_PER_LOG + 1);
    free_chain(v, n);
}

typedef struct snap {
    char text[65536];
    size_t len;
} snap_t;

static int snap_item(void *ctx, const store_item_t *it)
{
    snap_t *s = ctx;
    char id[65];
    event_id_hex(id, it->id);
    s->len += (size_t)snprintf(s->text + s->len, sizeof s->text - s->len,
                               "%s %d %s %lld %lld %d %u %s|", id, it->kind, it->network,
                               (long long)it->start, (long long)it->end, it->cancelled,
                               it->revision,
                               it->workshop ? it->workshop->title[0]->text : "-");
    return 0;
}

/* Items' kinds, in the order store_items gives them; only resources and
 * replies when kinds_with_files is set. */
typedef struct kinds {
    int kind[16];
    uint8_t id[16][EVENT_ID_BYTES];
    size_t n;
    int with_files_only;
} kinds_t;

static int note_kind(void *ctx, const store_item_t *it)
{
    kinds_t *k = ctx;
    if (k->with_files_only && it->kind != LERNET__KIND__KIND_RESOURCE &&
        it->kind != LERNET__KIND__KIND_REPLY)
        return 0;
    assert_true(k->n < 16);
    k->kind[k->n] = it->kind;
    memcpy(k->id[k->n++], it->id, EVENT_ID_BYTES);
    return 0;
}

/* with_files (what the attachment transfer reads, at every change of the
 * store during a catch-up) gives exactly the resources and replies of the
 * full list, in its order (the order the quota counts files in), and no
 * other item. */
static void test_items_with_files(void **state)
{
    fx_t *f = *state;
    Lernet__Payload *p[7] = {tu_workshop("Lärcafé", "Learning café", START),
                             tu_resource("Metodbeskrivelse", 2), NULL,
                             tu_meeting("Styrgruppsmöte", START + 3600), NULL,
                             tu_resource("Værktøjskasse", 0), NULL};
    event_t *e[7] = {0};
    for (int i = 0; i < 7; i++) {
        if (i == 2)
            p[i] = tu_reply(e[1]->id, "Tack, vi provar den i Tierp");
        else if (i == 4)
            p[i] = tu_experience(e[0]->id, "Bra upplägg");
        else if (i == 6)
            p[i] = tu_reply(e[5]->id, "Finns den på svenska?");
        e[i] = tu_next(f->k, NET, i ? e[i - 1] : NULL, p[i]);
        assert_int_equal(add(f, e[i], NULL), STORE_APPLIED);
    }
    kinds_t all = {.with_files_only = 1}, files = {0};
    store_query_t q = {0}, qf = {.with_files = true};
    assert_int_equal(store_items(f->st, &q, note_kind, &all), 0);
    assert_int_equal(store_items(f->st, &qf, note_kind, &files), 0);
    assert_int_equal(all.n, 4);
    assert_int_equal(files.n, all.n);
    for (size_t i = 0; i < all.n; i++) {
        assert_int_equal(files.kind[i], all.kind[i]);
        assert_memory_equal(files.id[i], all.id[i], EVENT_ID_BYTES);
    }
    store_query_t qn = {.with_files = true, .network = "another-network"};
    kinds_t none = {0};
    assert_int_equal(store_items(f->st, &qn, note_kind, &none), 0);
    assert_int_equal(none.n, 0);
    for (int i = 0; i < 7; i++) {
        tu_payload_free(p[i]);
        event_free(&e[i]);
    }
}

static void test_derived_and_rebuild(void **state)
{
    fx_t *f = *state;
    keys_identity_t *stranger;
    assert_int_equal(keys_generate(&stranger), 0);
    Lernet__Payload *w = tu_workshop("Kompetensmäklare", "Brokers", START);
    event_t *e1 = tu_next(f->k, NET, NULL, w);
    Lernet__Payload *u = tu_update_workshop(e1->id, "Kompetensmäklare (flyttad)", START + 86400);
    event_t *e2 = tu_next(f->k, NET, e1, u);
    Lernet__Payload *c = tu_cancel(e1->id, "Snöstorm");
    event_t *e3 = tu_next(f->k, NET, e2, c);
    event_t *foreign = tu_next(stranger, NET, NULL, u); /* not the author: ignored */
    Lernet__Payload *x = tu_experience(e1->id, "Erfahrungen");
    event_t *e4 = tu_next(stranger, NET, foreign, x);
    assert_int_equal(add(f, e1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, e2, NULL), STORE_APPLIED);
    assert_int_equal(add(f, foreign, NULL), STORE_APPLIED);
    assert_int_equal(add(f, e3, NULL), STORE_APPLIED);
    assert_int_equal(add(f, e4, NULL), STORE_APPLIED);

    snap_t before = {0}, after = {0};
    store_query_t q = {0};
    assert_int_equal(store_items(f->st, &q, snap_item, &before), 0);
    /* one workshop (updated, then cancelled) and one experience */
    assert_non_null(strstr(before.text, "Kompetensmäklare (flyttad)"));
    char expect[128];
    snprintf(expect, sizeof expect, " %lld %lld 1 2 ", (long long)START + 86400,
             (long long)START + 86400 + 3 * 3600);
    assert_non_null(strstr(before.text, expect));
    store_query_t qa = {.kind = LERNET__KIND__KIND_EXPERIENCE, .about = e1->id};
    snap_t about = {0};
    store_items(f->st, &qa, snap_item, &about);
    assert_int_equal(strchr(about.text, '|') - about.text + 1, (long)about.len);

    assert_int_equal(store_rebuild(f->st, NULL, 0), STORE_OK);
    assert_int_equal(store_items(f->st, &q, snap_item, &after), 0);
    assert_string_equal(before.text, after.text);
    size_t checked, problems;
    store_verify(f->st, NULL, NULL, &checked, &problems);
    assert_int_equal(problems, 0);

    event_free(&e1);
    event_free(&e2);
    event_free(&e3);
    event_free(&e4);
    event_free(&foreign);
    tu_payload_free(w);
    tu_payload_free(u);
    tu_payload_free(c);
    tu_payload_free(x);
    keys_free(&stranger);
}

/* What emit_item hands a reader for an updated meeting. */
typedef struct content_seen {
    int items, workshop, meeting, experience;
    char minutes[64], tz[64];
} content_seen_t;

static int see_content(void *ctx, const store_item_t *it)
{
    content_seen_t *c = ctx;
    c->items++;
    c->workshop += it->workshop != NULL;
    c->meeting += it->meeting != NULL;
    c->experience += it->experience != NULL;
    if (it->meeting && it->meeting->n_minutes)
        snprintf(c->minutes, sizeof c->minutes, "%s", it->meeting->minutes[0]->text);
    if (it->meeting)
        snprintf(c->tz, sizeof c->tz, "%s", it->meeting->tz);
    return 0;
}

/* An update's content is a oneof (workshop and meeting share a union in
 * protobuf-c): an updated meeting must reach readers as a meeting only,
 * never also as a workshop read from the same pointer (which crashed
 * `lernet show` and the calendar of every node holding such an update). */
static void test_updated_meeting_is_only_a_meeting(void **state)
{
    fx_t *f = *state;
    Lernet__Payload *m = tu_meeting("Netværksmøde", START);
    event_t *e1 = tu_next(f->k, NET, NULL, m);
    Lernet__Payload *u = tu_update_meeting(e1->id, "Netværksmøde", START, "Referat: mødet holdt");
    event_t *e2 = tu_next(f->k, NET, e1, u);
    assert_int_equal(add(f, e1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, e2, NULL), STORE_APPLIED);
    char hex[EVENT_ID_HEX_SIZE];
    event_id_hex(hex, e1->id);
    for (int pass = 0; pass < 2; pass++) { /* as stored, then as rebuilt */
        content_seen_t one = {0}, all = {0};
        store_query_t q = {0};
        assert_int_equal(store_item(f->st, hex, see_content, &one, NULL, 0), STORE_OK);
        assert_int_equal(store_items(f->st, &q, see_content, &all), 0);
        assert_int_equal(one.items, 1);
        assert_int_equal(one.meeting, 1);
        assert_int_equal(one.workshop, 0);
        assert_int_equal(one.experience, 0);
        assert_string_equal(one.minutes, "Referat: mødet holdt");
        assert_string_equal(one.tz, "Europe/Copenhagen");
        assert_int_equal(all.items, 1);
        assert_int_equal(all.workshop, 0);
        assert_int_equal(all.meeting, 1);
        assert_int_equal(store_rebuild(f->st, NULL, 0), STORE_OK);
    }
    event_free(&e1);
    event_free(&e2);
    tu_payload_free(m);
    tu_payload_free(u);
}

static void test_persistence_and_schema(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 2);
    add(f, v[0], NULL);
    add(f, v[1], NULL);
    store_close(&f->st);
    assert_int_equal(store_open(&f->st, f->path, NULL, 0), STORE_OK);
    assert_int_equal(head_of(f, f->k), 2);
    store_close(&f->st);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char why[256];
    assert_int_equal(store_open(&f->st, f->path, why, sizeof why), STORE_ERR_SCHEMA);
    assert_non_null(strstr(why, "newer"));
    free_chain(v, 2);
}

/* A version-1 store (items keyed by a copy of the id) is migrated to v2 and
 * its items re-derived on open, with the same result. */
static void test_migrates_v1_items(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 3);
    for (int i = 0; i < 3; i++)
        add(f, v[i], NULL);
    snap_t before = {0}, after = {0};
    store_query_t q = {0};
    assert_int_equal(store_items(f->st, &q, snap_item, &before), 0);
    store_close(&f->st);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP VIEW workshops; DROP VIEW meetings; DROP VIEW experiences;"
                                  "DROP TABLE items; CREATE TABLE items(id BLOB PRIMARY KEY,"
                                  " kind INTEGER NOT NULL, author INTEGER NOT NULL);"
                                  "CREATE VIEW workshops AS SELECT * FROM items WHERE kind = 1;"
                                  "ALTER TABLE authors DROP COLUMN revoked;"
                                  "ALTER TABLE events DROP COLUMN signer;"
                                  "DROP TABLE signing_keys; DROP TABLE key_cuts;"
                                  "DROP TABLE members; DROP TABLE profiles;"
                                  "DROP TABLE pins; DROP TABLE meta;"
                                  "DROP TABLE erasures; DROP TABLE hides;"
                                  /* search_p0 needs lernet's tokenizer to be
                                   * dropped: its shadow tables go, then its entry */
                                  "DROP TABLE search_docs; DROP TABLE search_parts;"
                                  "DROP INDEX events_changes; DROP TABLE search_p0_data;"
                                  "DROP TABLE search_p0_idx; DROP TABLE search_p0_content;"
                                  "DROP TABLE search_p0_docsize; DROP TABLE search_p0_config;"
                                  "PRAGMA writable_schema = ON;"
                                  "DELETE FROM sqlite_master WHERE name = 'search_p0';"
                                  "PRAGMA writable_schema = OFF;"
                                  "DROP TABLE occurrence_cancels;"
                                  "DROP INDEX events_evidence;"
                                  "PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    char why[256] = "";
    assert_int_equal(store_open(&f->st, f->path, why, sizeof why), STORE_OK);
    assert_int_equal(store_items(f->st, &q, snap_item, &after), 0);
    assert_string_equal(before.text, after.text);
    assert_true(strlen(after.text) > 0);
    free_chain(v, 3);
}

/* A chain row without its payload (stored by an older lernet from a relay
 * that stripped it) is reported by verify, and a genuine copy restores it
 * instead of being dropped as a duplicate (issue 14 item 2). */
static void test_stripped_row_reported_and_restored(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 3);
    for (int i = 0; i < 3; i++)
        add(f, v[i], NULL);
    store_close(&f->st);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE events SET payload = NULL, salt = NULL WHERE seq = 2",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(&f->st, f->path, NULL, 0), STORE_OK);
    size_t checked = 0, problems = 0;
    store_verify(f->st, NULL, NULL, &checked, &problems);
    assert_true(problems >= 1);
    int outcome = -1;
    assert_int_equal(store_add(f->st, v[1], &outcome, NULL, NULL, 0), STORE_OK);
    assert_int_equal(outcome, STORE_DUPLICATE);
    store_verify(f->st, NULL, NULL, &checked, &problems);
    assert_int_equal(problems, 0);
    free_chain(v, 3);
}

static void test_verify_catches_altered_bytes(void **state)
{
    fx_t *f = *state;
    /* one byte flipped to a value it cannot already hold (a random key or
     * signature byte is 0 one time in 256) */
#define FLIP(col, at)                                                                           \
    "UPDATE events SET " col " = substr(" col ",1," #at ") || CASE substr(" col "," #at "+1,1)" \
    " WHEN X'00' THEN X'01' ELSE X'00' END || substr(" col "," #at "+2)"
    static const char *alter[] = {
        FLIP("payload", 5),
        FLIP("sig", 5),
        FLIP("header", 20),
        "UPDATE feeds SET head_seq = 7",
    };
#undef FLIP
    event_t **v = chain(f->k, 3);
    for (int i = 0; i < 3; i++)
        add(f, v[i], NULL);
    store_close(&f->st);
    for (size_t i = 0; i < sizeof alter / sizeof alter[0]; i++) {
        char copy[700], cmd[1500];
        snprintf(copy, sizeof copy, "%s/copy%zu.db", f->dir, i);
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", f->path, copy);
        assert_int_equal(tu_run(cmd, NULL), 0);
        sqlite3 *db;
        assert_int_equal(sqlite3_open(copy, &db), SQLITE_OK);
        char sql[300];
        snprintf(sql, sizeof sql, "%s WHERE rowid = 2", alter[i]);
        if (strstr(alter[i], "feeds"))
            snprintf(sql, sizeof sql, "%s", alter[i]);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        store_t *st;
        size_t checked = 0, problems = 0;
        assert_int_equal(store_open(&st, copy, NULL, 0), STORE_OK);
        store_verify(st, NULL, NULL, &checked, &problems);
        assert_true(problems >= 1);
        store_close(&st);
    }
    assert_int_equal(store_open(&f->st, f->path, NULL, 0), STORE_OK);
    size_t problems = 1;
    store_verify(f->st, NULL, NULL, NULL, &problems);
    assert_int_equal(problems, 0);
    free_chain(v, 3);
}

static void test_rollback_leaves_nothing(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 5);
    assert_int_equal(store_begin(f->st), STORE_OK);
    for (int i = 0; i < 5; i++)
        add(f, v[i], NULL);
    assert_int_equal(store_rollback(f->st), STORE_OK);
    store_stats_t s;
    store_stats(f->st, &s);
    assert_int_equal(s.events, 0);
    assert_int_equal(s.items, 0);
    assert_int_equal(head_of(f, f->k), 0);
    free_chain(v, 5);
}

/* A call that fails leaves its out-parameters as the caller had them:
 * store_open and store_get_event set them to NULL before. */
static void test_failed_calls_leave_outputs(void **state)
{
    fx_t *f = *state;
    char path[700], why[256] = "";
    int sentinel;
    store_t *st = (store_t *)&sentinel;
    snprintf(path, sizeof path, "%s/no-such-dir/store.db", f->dir);
    assert_int_equal(store_open(&st, path, why, sizeof why), STORE_ERR_OPEN);
    assert_ptr_equal(st, &sentinel);
    event_t *ev = (event_t *)&sentinel;
    assert_int_equal(store_get_event(f->st, "00000000deadbeef", &ev, NULL, 0), STORE_ERR_NOT_FOUND);
    assert_ptr_equal(ev, &sentinel);
    assert_int_equal(store_get_event(f->st, "abc", &ev, NULL, 0), STORE_ERR_NOT_FOUND);
    assert_ptr_equal(ev, &sentinel);
    uint8_t id[EVENT_ID_BYTES], id_was[EVENT_ID_BYTES];
    memset(id, 7, sizeof id);
    memcpy(id_was, id, sizeof id);
    assert_int_equal(store_id_at(f->st, keys_public(f->k), NET, 2, id), STORE_ERR_NOT_FOUND);
    assert_memory_equal(id, id_was, sizeof id);
}

/* An author without a profile: false, and *out untouched (it was zeroed). */
static void test_unknown_profile_leaves_output(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 1);
    add(f, v[0], NULL);
    store_profile_t p, was;
    memset(&p, 'x', sizeof p);
    was = p;
    assert_false(store_profile(f->st, keys_public(f->k), &p));
    assert_memory_equal(&p, &was, sizeof p);
    free_chain(v, 1);
}

/* A head id of the wrong length is not read past its end nor handed out:
 * store_head says the row is corrupt and writes nothing. */
static void test_damaged_head_not_overread(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 2);
    add(f, v[0], NULL);
    add(f, v[1], NULL);
    tu_store_sql(&f->st, f->path, "UPDATE feeds SET head_id = x'01'");
    uint64_t seq = 77;
    uint8_t head[EVENT_ID_BYTES];
    assert_int_equal(store_head(f->st, keys_public(f->k), NET, &seq, head), STORE_ERR_CORRUPT);
    assert_int_equal(seq, 77);
    free_chain(v, 2);
}

/* store_feeds leaves such a row out (sync would announce garbage). */
static void test_damaged_feed_left_out(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 1);
    add(f, v[0], NULL);
    tu_store_sql(&f->st, f->path, "UPDATE feeds SET head_id = x'01'");
    store_feed_t *feeds = NULL;
    size_t n = 99;
    assert_int_equal(store_feeds(f->st, NULL, 0, &feeds, &n), STORE_OK);
    assert_int_equal(n, 0);
    free(feeds);
    free_chain(v, 1);
}

/* store_forked_authors leaves out a key of the wrong length. */
static void test_damaged_key_left_out(void **state)
{
    fx_t *f = *state;
    event_t **v = chain(f->k, 1);
    add(f, v[0], NULL);
    tu_store_sql(&f->st, f->path, "UPDATE authors SET forked = 1, key = x'02'");
    uint8_t(*forked)[KEYS_PUBLIC_BYTES] = NULL;
    size_t n = 99;
    assert_int_equal(store_forked_authors(f->st, &forked, &n), STORE_OK);
    assert_int_equal(n, 0);
    free(forked);
    free_chain(v, 1);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_byte_exact_and_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_held_then_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forks_are_evidence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_derived_and_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items_with_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_updated_meeting_is_only_a_meeting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrates_v1_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_catches_altered_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stripped_row_reported_and_restored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_calls_leave_outputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_profile_leaves_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_head_not_overread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_feed_left_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_key_left_out, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
