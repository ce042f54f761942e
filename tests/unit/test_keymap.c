/*
 * test_keymap: the index of transport keys the daemon's ZAP handler asks
 * at every handshake (one lookup, first entry wins, grows without losing
 * anything), and store_authz_version, which says when the index must
 * be rebuilt: it changes on a membership statement, a trusted coordinator,
 * or a commit by another connection, and not on an ordinary event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/keymap.h"
#include "store/store.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"
#define START 1796112000LL
#define MANY 5000

static void test_put_get(void **state)
{
    (void)state;
    keymap_t *m = NULL;
    static uint8_t x[MANY][32], id[MANY][KEYS_PUBLIC_BYTES];
    assert_int_equal(keymap_new(&m), 0);
    for (int i = 0; i < MANY; i++) {
        randombytes_buf(x[i], 32);
        randombytes_buf(id[i], sizeof id[i]);
        keymap_entry_t *e = keymap_put(m, x[i], id[i], i % 3 ? i : -1);
        assert_non_null(e);
        assert_memory_equal(e->id, id[i], KEYS_PUBLIC_BYTES);
    }
    assert_int_equal(keymap_count(m), MANY);
    /* every key still found after the table grew, with what was put */
    for (int i = 0; i < MANY; i++) {
        keymap_entry_t *e = keymap_get(m, x[i]);
        assert_non_null(e);
        assert_memory_equal(e->x25519, x[i], 32);
        assert_memory_equal(e->id, id[i], KEYS_PUBLIC_BYTES);
        assert_int_equal(e->peer, i % 3 ? i : -1);
    }
    /* an unknown key is a miss */
    uint8_t other[32];
    for (int i = 0; i < 1000; i++) {
        randombytes_buf(other, sizeof other);
        assert_null(keymap_get(m, other));
    }
    /* the first entry for a key stays; the caller may update it in place */
    keymap_entry_t *e = keymap_put(m, x[7], id[8], 99);
    assert_memory_equal(e->id, id[7], KEYS_PUBLIC_BYTES);
    assert_int_equal(e->peer, 7);
    e->peer = 42;
    assert_int_equal(keymap_get(m, x[7])->peer, 42);
    assert_int_equal(keymap_count(m), MANY);
    keymap_clear(m);
    assert_int_equal(keymap_count(m), 0);
    assert_null(keymap_get(m, x[0]));
    assert_non_null(keymap_put(m, x[0], id[0], 0));
    assert_int_equal(keymap_count(m), 1);
    keymap_free(&m);
    assert_null(m);
    keymap_free(&m); /* twice is harmless */
}

static event_t *admission(const keys_identity_t *coord, const event_t *prev,
                          const keys_identity_t *who)
{
    Lernet__Membership ms = LERNET__MEMBERSHIP__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    ms.member.data = (uint8_t *)keys_public(who);
    ms.member.len = KEYS_PUBLIC_BYTES;
    ms.name = "Køge Handelsskole";
    ms.endpoint = "";
    p.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP;
    p.membership = &ms;
    return tu_next(coord, NET, prev, &p);
}

static void test_membership_version(void **state)
{
    (void)state;
    char *dir = tu_tempdir(), path[600];
    store_t *st = NULL, *other = NULL;
    keys_identity_t *coord = NULL, *a = NULL, *b = NULL;
    snprintf(path, sizeof path, "%s/store.db", dir);
    assert_int_equal(store_open(&st, path, NULL, 0), STORE_OK);
    assert_int_equal(store_open(&other, path, NULL, 0), STORE_OK);
    assert_int_equal(keys_generate(&coord), 0);
    assert_int_equal(keys_generate(&a), 0);
    assert_int_equal(keys_generate(&b), 0);

    uint64_t v = store_authz_version(st);
    assert_int_equal(store_authz_version(st), v); /* asking changes nothing */
    assert_int_equal(store_trust(st, NET, keys_public(coord)), STORE_OK);
    assert_int_not_equal(store_authz_version(st), v);
    v = store_authz_version(st);
    assert_int_equal(store_trust(st, NET, keys_public(coord)), STORE_OK); /* already */
    assert_int_equal(store_authz_version(st), v);

    /* an ordinary event of this connection: unchanged */
    Lernet__Payload *w = tu_workshop("Arbetsplatslärande", "Workplace learning", START);
    event_t *e1 = tu_next(coord, NET, NULL, w);
    assert_int_equal(store_add(st, e1, NULL, NULL, NULL, 0), STORE_OK);
    assert_int_equal(store_authz_version(st), v);
    /* a statement stored through this connection: changed */
    event_t *e2 = admission(coord, e1, a);
    assert_int_equal(store_add(st, e2, NULL, NULL, NULL, 0), STORE_OK);
    assert_int_not_equal(store_authz_version(st), v);
    v = store_authz_version(st);
    /* anything another connection (the CLI) commits: changed */
    assert_int_equal(store_trust(other, NET, keys_public(coord)), STORE_OK);
    event_t *e3 = admission(coord, e2, b);
    assert_int_equal(store_add(other, e3, NULL, NULL, NULL, 0), STORE_OK);
    assert_int_not_equal(store_authz_version(st), v);
    assert_true(store_is_member(st, NET, keys_public(b), event_now_ms()));

    event_free(&e1);
    event_free(&e2);
    event_free(&e3);
    tu_payload_free(w);
    keys_free(&coord);
    keys_free(&a);
    keys_free(&b);
    store_close(&other);
    store_close(&st);
    tu_rmtree(&dir);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get),
        cmocka_unit_test(test_membership_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
