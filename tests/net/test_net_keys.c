/*
 * test_net_keys: the key lifecycle between real daemons, driven by the CLI
 * an operator uses. A–B–C in a chain, D behind C:
 *  - `keys rotate` while A runs: A's next events are signed with the new key
 *    and accepted everywhere, with no change at the partners;
 *  - `keys revoke` of the old key: every node refuses what it signs after
 *    the cut, also D, which stored such an event while it was offline and
 *    learns of the revocation late, through the relay: it withdraws it;
 *  - the identity revocation statement written at init, published by a
 *    partner: nothing more from A is accepted, and B refuses A's handshake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness.h"
#include "keys/keystore.h"
#include "store/store.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"
#define START 1796112000LL

static hnode_t A, B, C, D;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&C, "OWL Lernregion", "DE", NET), 0);
    assert_int_equal(h_node_init(&D, "Tampere Oppimiskeskus", "FI", NET), 0);
    h_link(&A, &B, NET);
    h_link(&B, &C, NET);
    h_link(&C, &D, NET);
    hnode_t *all[] = {&A, &B, &C, &D};
    /* D's operator keeps the identity key offline: the daemon runs on the
     * transport and signing keys alone */
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "mkdir '%s/offline' && mv '%s/keys/identity.key' '%s/offline/'",
             D.home, D.home, D.home);
    assert_int_equal(tu_run(cmd, NULL), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(h_node_write_config(all[i]), 0);
        assert_int_equal(h_node_start(all[i]), 0);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_node_free(&A);
    h_node_free(&B);
    h_node_free(&C);
    h_node_free(&D);
    return 0;
}

static store_t *open_store(const hnode_t *n)
{
    char path[600], why[256];
    store_t *st = NULL;
    snprintf(path, sizeof path, "%s/store.db", n->home);
    assert_int_equal(store_open(&st, path, why, sizeof why), STORE_OK);
    return st;
}

static void identity_of(const hnode_t *n, uint8_t pk[KEYS_PUBLIC_BYTES])
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/keys", n->home);
    assert_int_equal(keystore_load_public(dir, pk, NULL, 0), KEYSTORE_OK);
}

typedef struct key_q {
    const hnode_t *node;
    uint8_t author[KEYS_PUBLIC_BYTES], key[KEYS_PUBLIC_BYTES];
    int revoked;
} key_q_t;

static int note_key(void *ctx, const store_signing_key_t *k)
{
    key_q_t *q = ctx;
    if (memcmp(k->key, q->key, KEYS_PUBLIC_BYTES) == 0)
        q->revoked = k->revoked;
    return 0;
}

/* 1 once the node's store knows q->key of q->author as revoked. */
static int knows_revoked(void *ctx)
{
    key_q_t *q = ctx;
    store_t *st = open_store(q->node);
    q->revoked = 0;
    store_signing_keys(st, q->author, note_key, q);
    store_close(&st);
    return q->revoked;
}

typedef struct head_q {
    const hnode_t *node;
    uint8_t author[KEYS_PUBLIC_BYTES], want[EVENT_ID_BYTES];
} head_q_t;

static int head_is(void *ctx)
{
    head_q_t *q = ctx;
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    store_t *st = open_store(q->node);
    int ok = store_head(st, q->author, NET, &seq, head) == STORE_OK &&
             memcmp(head, q->want, EVENT_ID_BYTES) == 0;
    store_close(&st);
    return ok;
}

static int author_revoked_at(void *ctx)
{
    head_q_t *q = ctx; /* author only */
    store_t *st = open_store(q->node);
    int r = store_author_revoked(st, q->author) == 1;
    store_close(&st);
    return r;
}

static int add_to(const hnode_t *n, event_t *ev, char *why)
{
    store_t *st = open_store(n);
    int rc = store_add(st, ev, NULL, NULL, why, 256);
    store_close(&st);
    return rc;
}

static int refused_revoked_handshake(void *ctx)
{
    return h_log_contains(ctx, "its identity was revoked");
}

static void test_rotate_revoke_and_identity_revocation(void **state)
{
    (void)state;
    hnode_t *all[] = {&A, &B, &C, &D};
    char why[256], dir[600], *out = NULL;
    assert_int_equal(h_publish_workshop(&A, "Arbetsplatslärande", NET), 0);
    /* D publishes with its identity key offline; only rotation needs it */
    assert_int_equal(h_publish_workshop(&D, "Jatkuva oppiminen", NET), 0);
    assert_true(h_wait_items(all, 4, 2, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&D, NULL, "keys rotate 2>/dev/null"), 5);

    /* the signing key a thief copies before A rotates */
    keys_identity_t *stolen = NULL;
    snprintf(dir, sizeof dir, "%s/keys", A.home);
    assert_int_equal(keystore_load_as(dir, KEYSTORE_SIGNING, NULL, &stolen, why, sizeof why),
                     KEYSTORE_OK);
    assert_int_equal(h_lernet(&A, &out, "keys rotate --note 'yearly rotation'"), 0);
    assert_non_null(strstr(out, "signs with it from now on"));
    free(out);
    assert_int_equal(h_publish_workshop(&A, "Efter rotationen", NET), 0);
    assert_true(h_wait_items(all, 4, 3, H_DEADLINE_MS));
    for (int i = 0; i < 4; i++)
        assert_int_equal(h_lernet(all[i], NULL, "verify"), 0);

    /* D goes offline; A revokes the old key while the others run */
    assert_int_equal(h_node_stop(&D), 0);
    char fpr[KEYS_FPR_STR_SIZE];
    keys_fingerprint(fpr, keys_public(stolen));
    assert_int_equal(h_lernet(&A, &out, "keys revoke %s --reason 'laptop stolen'", fpr), 0);
    assert_non_null(strstr(out, "events after seq 2"));
    free(out);
    key_q_t q = {.node = &C};
    identity_of(&A, q.author);
    memcpy(q.key, keys_public(stolen), KEYS_PUBLIC_BYTES);
    assert_true(h_wait(knows_revoked, &q, H_DEADLINE_MS)); /* through B */

    /* the thief signs seq 3 on top of A's seq 2 */
    head_q_t h = {.node = &C};
    memcpy(h.author, q.author, KEYS_PUBLIC_BYTES);
    store_t *st = open_store(&C);
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    assert_int_equal(store_head(st, h.author, NET, &seq, head), STORE_OK);
    store_close(&st);
    assert_int_equal(seq, 2);
    memcpy(h.want, head, EVENT_ID_BYTES);
    Lernet__Payload *p = tu_workshop("Falsk workshop", "Forged", START);
    event_t *forged = NULL;
    assert_int_equal(event_create_as(&forged, h.author, stolen, NET, 3, head, event_now_ms(), p,
                                     NULL, 0),
                     EV_OK);
    tu_payload_free(p);
    /* every node that knows refuses it, with the reason */
    hnode_t *knowing[] = {&A, &B, &C};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(add_to(knowing[i], forged, why), STORE_ERR_REVOKED);
        assert_non_null(strstr(why, "revoked after seq 2"));
    }
    /* D, offline, takes it; back online it learns through C and withdraws it */
    assert_int_equal(add_to(&D, forged, why), STORE_OK);
    assert_int_equal(h_node_start(&D), 0);
    key_q_t qd = q;
    qd.node = &D;
    assert_true(h_wait(knows_revoked, &qd, H_DEADLINE_MS));
    h.node = &D;
    assert_true(h_wait(head_is, &h, H_DEADLINE_MS));
    assert_true(h_log_contains(&D, "withdrawing events from seq 3"));
    for (int i = 0; i < 4; i++)
        assert_int_equal(h_count_items(all[i]), 3);
    st = open_store(&C);
    event_t *got = NULL;
    char hex[EVENT_ID_HEX_SIZE];
    event_id_hex(hex, forged->id);
    assert_int_equal(store_get_event(st, hex, &got, NULL, 0), STORE_ERR_NOT_FOUND);
    store_close(&st);

    /* A's identity key is lost: B publishes A's revocation statement */
    assert_int_equal(h_lernet(&B, &out, "keys revoke-identity '%s/keys/identity-revocation.txt'",
                              A.home),
                     0);
    assert_non_null(strstr(out, "revoked"));
    free(out);
    h.node = &C;
    assert_true(h_wait(author_revoked_at, &h, H_DEADLINE_MS));
    /* A itself learned it (B pushed it): it cannot publish any more */
    h.node = &A;
    assert_true(h_wait(author_revoked_at, &h, H_DEADLINE_MS));
    assert_int_equal(h_publish_workshop(&A, "Efter återkallelsen", NET), 1);
    /* whoever holds A's keys is refused everywhere, whatever key signs */
    keys_identity_t *current = NULL;
    assert_int_equal(keystore_load_as(dir, KEYSTORE_SIGNING, NULL, &current, why, sizeof why),
                     KEYSTORE_OK);
    p = tu_workshop("Efter återkallelsen", "After the revocation", START);
    event_t *after = NULL;
    assert_int_equal(event_create_as(&after, h.author, current, NET, 3, head, event_now_ms(), p,
                                     NULL, 0),
                     EV_OK);
    tu_payload_free(p);
    for (int i = 1; i < 4; i++) {
        h.node = all[i];
        assert_true(h_wait(author_revoked_at, &h, H_DEADLINE_MS));
        assert_int_equal(add_to(all[i], after, why), STORE_ERR_REVOKED);
        assert_non_null(strstr(why, "identity was revoked"));
    }
    event_free(&after);
    keys_free(&current);
    for (int i = 0; i < 4; i++)
        assert_int_equal(h_count_items(all[i]), 3);
    /* and at the handshake: B no longer lets A in */
    assert_int_equal(h_node_stop(&A), 0);
    assert_int_equal(h_node_start(&A), 0);
    assert_true(h_wait(refused_revoked_handshake, &B, H_DEADLINE_MS));
    event_free(&forged);
    keys_free(&stolen);
}

/* Keys exported from one home and imported into a fresh one keep working:
 * the restored node gets its own earlier events back from its partner and
 * continues its log. */
static void test_export_import(void **state)
{
    (void)state;
    hnode_t E, F;
    char cmd[1400], *out = NULL, backup[700];
    assert_int_equal(h_node_init(&E, "Hällefors lärcenter", "SE", NET), 0);
    assert_int_equal(h_node_init(&F, "ZBC Sjælland Syd", "DK", NET), 0);
    h_link(&E, &F, NET);
    assert_int_equal(h_node_write_config(&E), 0);
    assert_int_equal(h_node_write_config(&F), 0);
    assert_int_equal(h_node_start(&E), 0);
    assert_int_equal(h_node_start(&F), 0);
    hnode_t *both[] = {&E, &F};
    assert_int_equal(h_publish_workshop(&E, "Före säkerhetskopian", NET), 0);
    assert_true(h_wait_items(both, 2, 1, H_DEADLINE_MS));
    snprintf(backup, sizeof backup, "%s/backup.txt", F.home);
    setenv("LERNET_PASSPHRASE", "rätt lösenfras", 1); /* the backup passphrase */
    assert_int_equal(h_lernet(&E, &out, "keys export '%s'", backup), 0);
    free(out);
    /* the backup is encrypted: no secret in the clear, and a wrong passphrase fails */
    snprintf(cmd, sizeof cmd, "grep -c 'argon2id' '%s'", backup);
    assert_int_equal(tu_run(cmd, &out), 0);
    assert_true(atoi(out) >= 2);
    free(out);

    /* E's machine is lost; a fresh home takes its place at the same address */
    assert_int_equal(h_node_stop(&E), 0);
    hnode_t E2 = E;
    E2.home = tu_tempdir();
    E2.pid = 0;
    snprintf(cmd, sizeof cmd, "LERNET_PASSPHRASE=fel '%s' --home '%s' keys import '%s' 2>&1",
             LERNET_BIN, E2.home, backup);
    assert_int_equal(tu_run(cmd, &out), 5);
    assert_non_null(strstr(out, "passphrase"));
    free(out);
    assert_int_equal(h_lernet(&E2, &out, "keys import '%s'", backup), 0);
    assert_non_null(strstr(out, "restored identity"));
    free(out);
    assert_int_equal(h_node_write_config(&E2), 0);
    assert_int_equal(h_node_start(&E2), 0);
    hnode_t *restored[] = {&E2, &F};
    assert_true(h_wait_items(restored, 2, 1, H_DEADLINE_MS)); /* its own event came back */
    assert_int_equal(h_publish_workshop(&E2, "Efter återställningen", NET), 0);
    assert_true(h_wait_items(restored, 2, 2, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&F, NULL, "verify"), 0); /* one chain, no fork */
    h_node_free(&E2);
    h_node_free(&E);
    h_node_free(&F);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotate_revoke_and_identity_revocation),
        cmocka_unit_test(test_export_import),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
