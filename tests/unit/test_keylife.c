/*
 * test_keylife: the key lifecycle as the store enforces it. Rotation keeps
 * the log verifiable; an uncertified signer is refused until its
 * certificate arrives; a revoked key's events after the cut are refused,
 * ones that raced the revocation are withdrawn and the owner's own events
 * that lost the race take their place; an identity revocation stops
 * everything from that author. In-process sync shows the refusals travel.
 * In a batch the items are re-derived once, when it commits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness_mem.h"
#include "util/log.h"
#include "store/store.h"
#include "harness/testutil.h"

#define START 1796112000LL
#define NET "nordic-wbl"

typedef struct fx {
    char *dir;
    store_t *st;
    keys_identity_t *id, *s1, *s2;
    uint64_t keys_seq;
    uint8_t keys_head[EVENT_ID_BYTES];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char path[600];
    f->dir = tu_tempdir();
    snprintf(path, sizeof path, "%s/store.db", f->dir);
    assert_int_equal(store_open(&f->st, path, NULL, 0), STORE_OK);
    assert_int_equal(keys_generate(&f->id), 0);
    assert_int_equal(keys_generate(&f->s1), 0);
    assert_int_equal(keys_generate(&f->s2), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    store_close(&f->st);
    keys_free(&f->id);
    keys_free(&f->s1);
    keys_free(&f->s2);
    tu_rmtree(&f->dir);
    free(f);
    return 0;
}

static int add(fx_t *f, event_t *ev, char *why)
{
    int outcome = -1;
    int rc = store_add(f->st, ev, &outcome, NULL, why, why ? 256 : 0);
    return rc != STORE_OK ? rc : outcome;
}

/* The next event of the identity's key log, signed by the identity. */
static event_t *key_event(fx_t *f, Lernet__Payload *p)
{
    event_t *ev = NULL;
    char why[256] = "";
    int rc = event_create(&ev, f->id, EVENT_LOG_KEYS, f->keys_seq + 1,
                          f->keys_seq ? f->keys_head : NULL, event_now_ms(), p, why, sizeof why);
    if (rc)
        fprintf(stderr, "key_event: %s\n", why);
    assert_int_equal(rc, EV_OK);
    f->keys_seq++;
    memcpy(f->keys_head, ev->id, EVENT_ID_BYTES);
    return ev;
}

static event_t *cert(fx_t *f, const keys_identity_t *k)
{
    Lernet__KeyCert c = LERNET__KEY_CERT__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    c.signing_key.data = (uint8_t *)keys_public(k);
    c.signing_key.len = KEYS_PUBLIC_BYTES;
    c.note = "rotation";
    p.body_case = LERNET__PAYLOAD__BODY_KEY_CERT;
    p.key_cert = &c;
    return key_event(f, &p);
}

/* Revokes k; the cut keeps NET valid up to and including last_good. */
static event_t *revoke(fx_t *f, const keys_identity_t *k, const event_t *last_good)
{
    Lernet__KeyRevoke r = LERNET__KEY_REVOKE__INIT;
    Lernet__LogCut c = LERNET__LOG_CUT__INIT, *cp = &c;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    c.network = NET;
    c.last_good_seq = last_good ? last_good->seq : 0;
    if (last_good) {
        c.last_good_id.data = (uint8_t *)last_good->id;
        c.last_good_id.len = EVENT_ID_BYTES;
    }
    r.signing_key.data = (uint8_t *)keys_public(k);
    r.signing_key.len = KEYS_PUBLIC_BYTES;
    r.n_cuts = 1;
    r.cuts = &cp;
    r.reason = "laptop stolen";
    p.body_case = LERNET__PAYLOAD__BODY_KEY_REVOKE;
    p.key_revoke = &r;
    return key_event(f, &p);
}

/* A workshop of the identity's NET log at seq, after prev, signed by k;
 * linked (prev_sig) as a node publishes, so that where these events travel
 * by sync a thief's later event signed with the stolen key vouches for the
 * ones before it: the key rule must hold all the same. */
static event_t *workshop(fx_t *f, const keys_identity_t *k, uint64_t seq, const event_t *prev,
                         const char *title)
{
    event_t *ev = NULL;
    uint8_t prev_sig[EVENT_HASH_BYTES];
    if (prev)
        event_sig_hash(prev_sig, prev->sig);
    Lernet__Payload *p = tu_workshop(title, "Workplace learning", START + (int64_t)seq * 3600);
    assert_int_equal(event_create_linked(&ev, keys_public(f->id), k, NET, seq,
                                         prev ? prev->id : NULL, prev ? prev_sig : NULL,
                                         event_now_ms(), p, NULL, 0),
                     EV_OK);
    tu_payload_free(p);
    return ev;
}

static size_t count_items(fx_t *f)
{
    store_stats_t st;
    assert_int_equal(store_stats(f->st, &st), STORE_OK);
    return (size_t)st.items;
}

static void assert_verifies(fx_t *f)
{
    size_t checked = 0, problems = 0;
    store_verify(f->st, NULL, NULL, &checked, &problems);
    assert_int_equal(problems, 0);
}

static void test_rotation_keeps_log_verifiable(void **state)
{
    fx_t *f = *state;
    event_t *c1 = cert(f, f->s1), *w1 = workshop(f, f->s1, 1, NULL, "Lärcentrum som mäklare");
    event_t *w2 = workshop(f, f->s1, 2, w1, "Validering i Tierp");
    event_t *c2 = cert(f, f->s2), *w3 = workshop(f, f->s2, 3, w2, "Efter rotationen");
    event_t *v[] = {c1, w1, w2, c2, w3};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(add(f, v[i], NULL), STORE_APPLIED);
    assert_int_equal(count_items(f), 3);
    assert_verifies(f);
    assert_int_equal(store_rebuild(f->st, NULL, 0), STORE_OK);
    assert_int_equal(count_items(f), 3);
    for (size_t i = 0; i < 5; i++)
        event_free(&v[i]);
}

static void test_uncertified_then_certified(void **state)
{
    fx_t *f = *state;
    char why[256] = "";
    event_t *w1 = workshop(f, f->s1, 1, NULL, "För tidigt");
    assert_int_equal(add(f, w1, why), STORE_ERR_UNCERTIFIED);
    assert_non_null(strstr(why, "not certified"));
    assert_int_equal(count_items(f), 0); /* nothing partial stored */
    event_t *c1 = cert(f, f->s1);
    assert_int_equal(add(f, c1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, w1, NULL), STORE_APPLIED);
    /* a key the identity never certified, whatever it signs */
    event_t *w2 = workshop(f, f->s2, 2, w1, "Främmande nyckel");
    assert_int_equal(add(f, w2, why), STORE_ERR_UNCERTIFIED);
    event_free(&w1);
    event_free(&w2);
    event_free(&c1);
}

static void test_revocation_withdraws_raced_and_refuses_late(void **state)
{
    fx_t *f = *state;
    char why[256] = "";
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    event_t *c1 = cert(f, f->s1), *c2 = cert(f, f->s2);
    event_t *w1 = workshop(f, f->s1, 1, NULL, "Äkta workshop");
    event_t *thief = workshop(f, f->s1, 2, w1, "Falsk workshop"); /* stolen S1 */
    event_t *own = workshop(f, f->s2, 2, w1, "Ägarens workshop"); /* lost the race */
    event_t *late = workshop(f, f->s1, 3, thief, "Ännu en falsk");
    assert_int_equal(add(f, c1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, c2, NULL), STORE_APPLIED);
    assert_int_equal(add(f, w1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, thief, NULL), STORE_APPLIED); /* raced the revocation */
    assert_int_equal(add(f, own, NULL), STORE_FORK);
    assert_int_equal(count_items(f), 2);

    event_t *r = revoke(f, f->s1, w1);
    assert_int_equal(add(f, r, NULL), STORE_APPLIED);
    /* the thief's event is withdrawn, the owner's takes seq 2 */
    assert_int_equal(store_head(f->st, keys_public(f->id), NET, &seq, head), STORE_OK);
    assert_int_equal(seq, 2);
    assert_memory_equal(head, own->id, EVENT_ID_BYTES);
    assert_int_equal(count_items(f), 2); /* w1 and the owner's */
    assert_verifies(f);                   /* no fork left to report */
    /* late arrivals signed with the revoked key are refused, with the reason */
    assert_int_equal(add(f, late, why), STORE_ERR_REVOKED);
    assert_non_null(strstr(why, "revoked after seq 1"));
    event_t *late2 = workshop(f, f->s1, 3, own, "Falsk, men kedjad rätt");
    assert_int_equal(add(f, late2, why), STORE_ERR_REVOKED);
    /* before the cut it stays valid: a fresh store accepts w1 after the revocation */
    store_close(&f->st);
    tu_rmtree(&f->dir);
    char path[600];
    f->dir = tu_tempdir();
    snprintf(path, sizeof path, "%s/store.db", f->dir);
    assert_int_equal(store_open(&f->st, path, NULL, 0), STORE_OK);
    assert_int_equal(add(f, c1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, c2, NULL), STORE_APPLIED);
    assert_int_equal(add(f, r, NULL), STORE_APPLIED);
    assert_int_equal(add(f, w1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, thief, why), STORE_ERR_REVOKED);
    assert_int_equal(add(f, own, NULL), STORE_APPLIED);
    event_t *v[] = {c1, c2, w1, thief, own, late, r, late2};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        event_free(&v[i]);
}

static void test_identity_revocation_stops_everything(void **state)
{
    fx_t *f = *state;
    char why[256] = "";
    Lernet__IdentityRevoke ir = LERNET__IDENTITY_REVOKE__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    ir.reason = "identity key lost";
    p.body_case = LERNET__PAYLOAD__BODY_IDENTITY_REVOKE;
    p.identity_revoke = &ir;
    event_t *stmt = NULL, *c1 = cert(f, f->s1);
    assert_int_equal(event_create(&stmt, f->id, EVENT_LOG_REVOKED, 1, NULL, event_now_ms(), &p,
                                  NULL, 0),
                     EV_OK);
    event_t *w1 = workshop(f, f->s1, 1, NULL, "Före");
    assert_int_equal(add(f, c1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, w1, NULL), STORE_APPLIED);
    assert_int_equal(store_author_revoked(f->st, keys_public(f->id)), 0);
    assert_int_equal(add(f, stmt, NULL), STORE_APPLIED);
    assert_int_equal(store_author_revoked(f->st, keys_public(f->id)), 1);
    event_t *w2 = workshop(f, f->s1, 2, w1, "Efter");
    assert_int_equal(add(f, w2, why), STORE_ERR_REVOKED);
    assert_non_null(strstr(why, "identity was revoked"));
    event_t *c2 = cert(f, f->s2); /* not even the identity itself */
    assert_int_equal(add(f, c2, why), STORE_ERR_REVOKED);
    assert_int_equal(count_items(f), 1); /* what it published before stays */
    /* the statement must be seq 1 of @revoked: anywhere else it is malformed */
    event_t *bad = NULL;
    assert_int_equal(event_create(&bad, f->id, EVENT_LOG_KEYS, 3, f->keys_head, event_now_ms(),
                                  &p, why, sizeof why),
                     EV_WRONG_LOG);
    event_t *v[] = {stmt, c1, w1, w2, c2};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        event_free(&v[i]);
}

/* Through the real protocol: a partner refuses what the revoked key signed
 * after the cut, and withdraws what it had taken before it learned. */
static void test_sync_carries_revocation(void **state)
{
    fx_t *f = *state;
    hm_net_t *net = calloc(1, sizeof *net);
    hm_node_t a, b;
    assert_int_equal(hm_node_init(&a, net, "a", NET), 0);
    assert_int_equal(hm_node_init(&b, net, "b", NET), 0);
    assert_int_equal(hm_link(&a, &b, NET), 0);
    net->clock_ms = event_now_ms(); /* the events below are stamped with the real clock */
    event_t *c1 = cert(f, f->s1), *c2 = cert(f, f->s2);
    event_t *w1 = workshop(f, f->s1, 1, NULL, "Äkta");
    event_t *thief = workshop(f, f->s1, 2, w1, "Falsk");
    event_t *own = workshop(f, f->s2, 2, w1, "Ägarens");
    event_t *r = revoke(f, f->s1, w1);
    /* b took the thief's event before the revocation existed */
    event_t *at_b[] = {c1, c2, w1, thief};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(store_add(b.st, at_b[i], NULL, NULL, NULL, 0), STORE_OK);
    /* a knows the revocation and the owner's event */
    event_t *at_a[] = {c1, c2, w1, r, own};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(store_add(a.st, at_a[i], NULL, NULL, NULL, 0), STORE_OK);
    assert_int_equal(hm_connect(&a, &b), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hm_round(&a), 0);
        assert_int_equal(hm_round(&b), 0);
    }
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    hm_node_t *both[] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(store_head(both[i]->st, keys_public(f->id), NET, &seq, head), STORE_OK);
        assert_int_equal(seq, 2);
        assert_memory_equal(head, own->id, EVENT_ID_BYTES);
    }
    /* a either never asked for the thief's event or refused it; never stored */
    assert_int_equal(store_add(a.st, thief, NULL, NULL, NULL, 0), STORE_ERR_REVOKED);
    event_t *v[] = {c1, c2, w1, thief, own, r};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        event_free(&v[i]);
    hm_node_free(&a);
    hm_node_free(&b);
    free(net);
}


static void assert_head(store_t *st, const keys_identity_t *id, uint64_t want_seq,
                        const event_t *want)
{
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    assert_int_equal(store_head(st, keys_public(id), NET, &seq, head), STORE_OK);
    assert_int_equal(seq, want_seq);
    if (want)
        assert_memory_equal(head, want->id, EVENT_ID_BYTES);
}

/* Issue 14 item 3: a revocation cutting at seq 3; the thief signs another
 * seq 2 and 3 with the stolen key; a node holding only seq 1 must not take
 * them (before: it applied both and kept them after meeting the owner, and
 * verify was clean). The genuine 2 and 3 still arrive. */
static void test_cut_pins_history_against_forged_seqs(void **state)
{
    fx_t *f = *state;
    char why[256] = "";
    event_t *c1 = cert(f, f->s1);
    event_t *w1 = workshop(f, f->s1, 1, NULL, "Äkta ett");
    event_t *w2 = workshop(f, f->s1, 2, w1, "Äkta två");
    event_t *w3 = workshop(f, f->s1, 3, w2, "Äkta tre");
    event_t *r = revoke(f, f->s1, w3);
    event_t *f2 = workshop(f, f->s1, 2, w1, "Falsk två"); /* the thief, after the cut */
    event_t *f3 = workshop(f, f->s1, 3, f2, "Falsk tre");
    assert_int_equal(add(f, c1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, w1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, r, NULL), STORE_APPLIED);
    /* even seq 1 was signed with the stolen key: unproven until the pins reach it */
    assert_head(f->st, f->id, 0, NULL);
    assert_int_equal(count_items(f), 0);
    /* seq 2 cannot be told apart yet: it waits; seq 3 is not the pinned one */
    assert_int_equal(add(f, f2, NULL), STORE_HELD);
    assert_int_equal(add(f, f3, why), STORE_ERR_REVOKED);
    assert_non_null(strstr(why, "not on the history its cut pins"));
    assert_head(f->st, f->id, 0, NULL);
    /* the owner's events arrive and take their place, in order */
    assert_int_equal(add(f, w2, NULL), STORE_HELD);
    assert_int_equal(add(f, w3, NULL), STORE_HELD); /* proven: the chain follows down to 1 */
    assert_head(f->st, f->id, 3, w3);
    assert_int_equal(count_items(f), 3);
    assert_verifies(f);
    store_stats_t st;
    assert_int_equal(store_stats(f->st, &st), STORE_OK);
    assert_int_equal(st.pending, 0); /* the forged seq 2 did not stay */
    /* later, the forged seq 2 is refused, not kept as evidence of a fork by the owner */
    assert_int_equal(add(f, f2, why), STORE_ERR_REVOKED);
    assert_non_null(strstr(why, "conflicts with the history its cut keeps"));
    event_t *v[] = {c1, w1, w2, w3, r, f2, f3};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        event_free(&v[i]);
}

/* The same when the forged events were taken before the revocation was
 * known: they are withdrawn (from the first event the stolen key signed,
 * since nothing shows where the histories part), and the owner's copies,
 * including the ones identical to withdrawn rows, rejoin when proven. */
static void test_cut_withdraws_unproven_then_reinstates(void **state)
{
    fx_t *f = *state;
    event_t *c1 = cert(f, f->s1);
    event_t *w1 = workshop(f, f->s1, 1, NULL, "Äkta ett");
    event_t *w2 = workshop(f, f->s1, 2, w1, "Äkta två");
    event_t *w3 = workshop(f, f->s1, 3, w2, "Äkta tre");
    event_t *r = revoke(f, f->s1, w3);
    event_t *f3 = workshop(f, f->s1, 3, w2, "Falsk tre");
    event_t *f4 = workshop(f, f->s1, 4, f3, "Falsk fyra");
    event_t *at_b[] = {c1, w1, w2, f3, f4};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(add(f, at_b[i], NULL), STORE_APPLIED);
    assert_int_equal(count_items(f), 4);
    assert_int_equal(add(f, r, NULL), STORE_APPLIED);
    assert_head(f->st, f->id, 0, NULL); /* nothing the stolen key signed is proven */
    assert_int_equal(count_items(f), 0);
    assert_int_equal(add(f, w1, NULL), STORE_HELD); /* a withdrawn row's twin waits too */
    assert_int_equal(add(f, w2, NULL), STORE_HELD);
    assert_int_equal(add(f, f3, NULL), STORE_ERR_REVOKED);
    assert_int_equal(add(f, w3, NULL), STORE_HELD);
    assert_head(f->st, f->id, 3, w3);
    assert_int_equal(count_items(f), 3);
    assert_int_equal(add(f, f4, NULL), STORE_ERR_REVOKED);
    assert_verifies(f);
    assert_int_equal(store_rebuild(f->st, NULL, 0), STORE_OK);
    assert_int_equal(count_items(f), 3);
    event_t *v[] = {c1, w1, w2, w3, r, f3, f4};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        event_free(&v[i]);
}

/* A stored fork-evidence copy that the pins prove is the real one is not
 * a duplicate that blocks it: it joins the chain. */
static void test_cut_uses_evidence_copy(void **state)
{
    fx_t *f = *state;
    event_t *c1 = cert(f, f->s1), *c2 = cert(f, f->s2);
    event_t *w1 = workshop(f, f->s2, 1, NULL, "Äkta ett");
    event_t *w2 = workshop(f, f->s1, 2, w1, "Äkta två");
    event_t *f2 = workshop(f, f->s1, 2, w1, "Falsk två");
    event_t *r = revoke(f, f->s1, w2);
    assert_int_equal(add(f, c1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, c2, NULL), STORE_APPLIED);
    assert_int_equal(add(f, w1, NULL), STORE_APPLIED);
    assert_int_equal(add(f, f2, NULL), STORE_APPLIED);
    assert_int_equal(add(f, w2, NULL), STORE_FORK); /* lost the race: evidence */
    assert_int_equal(add(f, r, NULL), STORE_APPLIED);
    /* w1 (another key) stands; the forged 2 left; the evidence copy of w2 is pinned */
    assert_head(f->st, f->id, 2, w2);
    assert_int_equal(count_items(f), 2);
    assert_verifies(f);
    event_t *v[] = {c1, c2, w1, w2, f2, r};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        event_free(&v[i]);
}

/* Through the protocol, a revoked key's long history (more than one batch
 * and more than the per-log hold-back bound) reaches a fresh node: it asks
 * past what it holds for proof (store_have) until the cut's event arrives. */
static void test_sync_long_pinned_history(void **state)
{
    fx_t *f = *state;
    enum { N = 5000 }; /* more than a batch (4,000) and the per-log hold-back bound */
    hm_net_t *net = calloc(1, sizeof *net);
    hm_node_t a, b;
    assert_int_equal(hm_node_init(&a, net, "a", NET), 0);
    assert_int_equal(hm_node_init(&b, net, "b", NET), 0);
    assert_int_equal(hm_link(&a, &b, NET), 0);
    net->clock_ms = event_now_ms();
    event_t *c1 = cert(f, f->s1), *prev = NULL, *last = NULL;
    assert_int_equal(store_add(a.st, c1, NULL, NULL, NULL, 0), STORE_OK);
    assert_int_equal(store_begin(a.st), STORE_OK);
    for (uint64_t i = 1; i <= N; i++) {
        event_t *w = workshop(f, f->s1, i, prev, "Lång historia");
        assert_int_equal(store_add(a.st, w, NULL, NULL, NULL, 0), STORE_OK);
        event_free(&prev);
        prev = w;
    }
    assert_int_equal(store_commit(a.st), STORE_OK);
    last = prev;
    event_t *r = revoke(f, f->s1, last);
    assert_int_equal(store_add(a.st, r, NULL, NULL, NULL, 0), STORE_OK);
    assert_int_equal(hm_connect(&a, &b), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(hm_round(&b), 0);
    assert_head(b.st, f->id, N, last);
    size_t checked = 0, problems = 0;
    store_verify(b.st, NULL, NULL, &checked, &problems);
    assert_int_equal(problems, 0);
    event_free(&c1);
    event_free(&last);
    event_free(&r);
    hm_node_free(&a);
    hm_node_free(&b);
    free(net);
}

/* In a batch the items are derived again once, when it commits, also when
 * a later event of the batch fails (its savepoint is undone, what the
 * revocation made stale is not forgotten). */
static void test_batch_rederives_at_commit(void **state)
{
    fx_t *f = *state;
    event_t *c1 = cert(f, f->s1), *c2 = cert(f, f->s2);
    event_t *w1 = workshop(f, f->s1, 1, NULL, "Äkta workshop");
    event_t *thief = workshop(f, f->s1, 2, w1, "Falsk workshop");
    event_t *own = workshop(f, f->s2, 2, w1, "Ägarens workshop");
    event_t *late = workshop(f, f->s1, 3, thief, "Ännu en falsk");
    event_t *r = revoke(f, f->s1, w1);
    assert_int_equal(store_begin(f->st), STORE_OK);
    event_t *v[] = {c1, c2, w1, thief, own, r};
    int want[] = {STORE_APPLIED, STORE_APPLIED, STORE_APPLIED, STORE_APPLIED, STORE_FORK,
                  STORE_APPLIED};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(add(f, v[i], NULL), want[i]);
    assert_int_equal(add(f, late, NULL), STORE_ERR_REVOKED);
    assert_int_equal(store_commit(f->st), STORE_OK);
    assert_head(f->st, f->id, 2, own);
    assert_int_equal(count_items(f), 2); /* w1 and the owner's; not the thief's */
    assert_verifies(f);
    for (size_t i = 0; i < 6; i++)
        event_free(&v[i]);
    event_free(&late);
}

int main(void)
{
    keys_init();
    log_init(LOG_LVL_ERROR, "");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rotation_keeps_log_verifiable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uncertified_then_certified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revocation_withdraws_raced_and_refuses_late, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_identity_revocation_stops_everything, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sync_carries_revocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_pins_history_against_forged_seqs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cut_withdraws_unproven_then_reinstates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cut_uses_evidence_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_rederives_at_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_long_pinned_history, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
