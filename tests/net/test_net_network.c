/*
 * test_net_network: managed networks between real daemons, as an operator
 * drives them. C coordinates "nordic-wbl"; N joins with nothing but the
 * invite C printed (C's lernet.ini never names N: C admits it at the
 * handshake as a member, and N pushes what C lacks); a node that is no
 * member is refused at the handshake and its events at the event level;
 * a forged admission (signed by a non-coordinator) is refused; removal
 * stops the member's later events and connections, and what it published
 * before stays.
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

static store_t *open_store(const hnode_t *n)
{
    char path[600], why[256];
    store_t *st = NULL;
    snprintf(path, sizeof path, "%s/store.db", n->home);
    assert_int_equal(store_open(&st, path, why, sizeof why), STORE_OK);
    return st;
}

/* The invite is the last line C prints. */
static char *invite_for(hnode_t *c, const hnode_t *n, const char *name)
{
    char *inv = h_invite(c, n, NET, name);
    assert_non_null(inv);
    return inv;
}
static int c_admitted(void *ctx)
{
    return h_log_contains(ctx, "admitted OWL Lernregion");
}

static int refused_connection(void *ctx)
{
    return h_log_contains(ctx, "unknown transport key (X25519)") &&
           h_log_contains(ctx, "not a partner, nor a member of a managed network");
}

static int refused_removed(void *ctx)
{
    return h_log_contains(ctx, "refused partner OWL Lernregion (") &&
           h_log_contains(ctx, "not a current member of any network shared with it");
}

typedef struct removed_q {
    const hnode_t *at;
    const char *key;
} removed_q_t;

static int shows_removed(void *ctx)
{
    removed_q_t *q = ctx;
    char *out = NULL;
    int ok = h_lernet(q->at, &out, "network members %s --json", NET) == 0 && out &&
             strstr(out, q->key) && strstr(out, "\"removed\"");
    free(out);
    return ok;
}

/* C's store as C's daemon sees it: trusting C as the network's coordinator. */
static store_t *coordinator_store(const hnode_t *c)
{
    uint8_t ck[KEYS_PUBLIC_BYTES];
    store_t *st = open_store(c);
    assert_int_equal(keys_pub_decode(ck, c->pub), KEYS_OK);
    assert_int_equal(store_trust(st, NET, ck), STORE_OK);
    return st;
}

/* The next event of n's NET log as C knows it, signed with n's signing key. */
static event_t *next_of(const hnode_t *n, store_t *at, Lernet__Payload *p)
{
    char dir[600], why[256];
    keys_identity_t *sk = NULL;
    uint8_t id[KEYS_PUBLIC_BYTES], head[EVENT_ID_BYTES];
    uint64_t seq = 0;
    event_t *ev = NULL;
    snprintf(dir, sizeof dir, "%s/keys", n->home);
    assert_int_equal(keystore_load_as(dir, KEYSTORE_SIGNING, NULL, &sk, why, sizeof why), 0);
    assert_int_equal(keys_pub_decode(id, n->pub), KEYS_OK);
    assert_int_equal(store_head(at, id, NET, &seq, head), STORE_OK);
    assert_int_equal(event_create_as(&ev, id, sk, NET, seq + 1, seq ? head : NULL,
                                     event_now_ms(), p, why, sizeof why),
                     EV_OK);
    keys_free(&sk);
    return ev;
}

static void test_invite_join_refuse_remove(void **state)
{
    (void)state;
    hnode_t C, N, X;
    char *out = NULL, why[256];
    assert_int_equal(h_node_init(&C, "Region Örebro län", "SE", NET), 0);
    assert_int_equal(h_node_init(&N, "OWL Lernregion", "DE", NET), 0);
    assert_int_equal(h_node_init(&X, "Unbekannte GmbH", "DE", NET), 0);
    assert_int_equal(h_node_write_config(&C), 0);
    assert_int_equal(h_node_write_config(&N), 0);
    assert_int_equal(h_lernet(&C, &out, "network create %s", NET), 0);
    free(out);
    assert_int_equal(h_node_start(&C), 0);
    assert_int_equal(h_publish_workshop(&C, "Nätverksträff i Örebro", NET), 0);

    /* N joins with the invite alone and syncs both ways: C never names N */
    char *inv = invite_for(&C, &N, "OWL Lernregion");
    assert_int_equal(h_lernet(&N, &out, "network join '%s'", inv), 0);
    assert_non_null(strstr(out, "joined " NET));
    free(out);
    assert_int_equal(h_node_start(&N), 0);
    hnode_t *both[] = {&C, &N};
    assert_true(h_wait_items(both, 2, 1, H_DEADLINE_MS));
    assert_true(h_wait(c_admitted, &C, H_DEADLINE_MS));
    assert_int_equal(h_publish_workshop(&N, "Lernwerkstatt Auftakt", NET), 0);
    assert_true(h_wait_items(both, 2, 2, H_DEADLINE_MS));
    assert_int_equal(h_lernet(&C, &out, "network members %s", NET), 0);
    assert_non_null(strstr(out, "OWL Lernregion"));
    assert_non_null(strstr(out, "coordinator (trusted here)"));
    free(out);
    /* an invite admits one node: X cannot use N's */
    assert_int_equal(h_lernet(&X, &out, "network join '%s'", inv), 1);
    free(out);

    /* X is no member: C refuses its handshake... */
    h_link(&X, &C, NET);
    C.n_peers = 0; /* C's lernet.ini stays as `network create` left it */
    assert_int_equal(h_node_write_config(&X), 0);
    assert_int_equal(h_node_start(&X), 0);
    assert_true(h_wait(refused_connection, &C, H_DEADLINE_MS));
    /* ...and its events, however they would arrive */
    store_t *cs = coordinator_store(&C);
    Lernet__Payload *p = tu_workshop("Unerwünscht", "Unwanted", START);
    event_t *xev = next_of(&X, cs, p);
    assert_int_equal(store_add(cs, xev, NULL, NULL, why, sizeof why), STORE_ERR_NOT_MEMBER);
    assert_non_null(strstr(why, "is not a member of " NET));
    /* a member that is no coordinator cannot admit anyone: a forged admission */
    Lernet__Membership m = LERNET__MEMBERSHIP__INIT;
    Lernet__Payload mp = LERNET__PAYLOAD__INIT;
    uint8_t xkey[KEYS_PUBLIC_BYTES];
    assert_int_equal(keys_pub_decode(xkey, X.pub), KEYS_OK);
    m.member.data = xkey;
    m.member.len = KEYS_PUBLIC_BYTES;
    m.name = "Unbekannte GmbH";
    m.endpoint = "";
    mp.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP;
    mp.membership = &m;
    event_t *forged = next_of(&N, cs, &mp);
    assert_int_equal(store_add(cs, forged, NULL, NULL, why, sizeof why), STORE_ERR_NOT_MEMBER);
    assert_non_null(strstr(why, "not its coordinator"));
    /* an admission that has expired refuses events created after it */
    m.until_ms = 1000;
    event_free(&forged);
    store_close(&cs);

    /* N removed: its later events and connections are refused, what it
     * published before stays */
    assert_int_equal(h_lernet(&C, &out, "network remove %s '%s'", NET, N.pub), 0);
    assert_non_null(strstr(out, "after seq 1"));
    free(out);
    removed_q_t rq = {&C, N.pub};
    assert_true(h_wait(shows_removed, &rq, H_DEADLINE_MS));
    cs = coordinator_store(&C);
    event_t *late = next_of(&N, cs, p);
    assert_int_equal(store_add(cs, late, NULL, NULL, why, sizeof why), STORE_ERR_NOT_MEMBER);
    assert_non_null(strstr(why, "removed from " NET " after seq 1"));
    store_close(&cs);
    assert_int_equal(h_count_items(&C), 2);
    assert_int_equal(h_lernet(&C, &out, "list"), 0); /* what N published stays, marked */
    assert_non_null(strstr(out, "Lernwerkstatt Auftakt (en)  (author no longer a member)"));
    free(out);
    assert_int_equal(h_node_stop(&N), 0);
    assert_int_equal(h_node_start(&N), 0);
    assert_true(h_wait(refused_removed, &C, H_DEADLINE_MS));
    event_free(&late);
    event_free(&xev);
    tu_payload_free(p);
    free(inv);
    h_node_free(&X);
    h_node_free(&N);
    h_node_free(&C);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invite_join_refuse_remove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
