/*
 * test_attack_rights: a partner that loses its rights keeps none, even on
 * a connection it opened before (issue 14, items 4 and 6), with real
 * daemons and the liar harness:
 *  - a member removed while connected gets nothing published after the
 *    removal; its open connection is closed;
 *  - a partner whose identity is revoked while connected is cut off and
 *    cannot dial again;
 *  - a configured partner that shares an open network gets no managed
 *    network it is not a member of in scope;
 *  - an author's key logs (its profile) reach no partner that shares no
 *    network with it;
 *  - one partner opening hundreds of connections evicts no other
 *    partner's session.
 * Each fails on a2e1d4a (LERNET_TEST_BIN runs it against another build).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zmq.h>

#include "harness/harness.h"
#include "harness/harness_liar.h"
#include "keys/keystore.h"
#include "daemon/net.h"
#include "sync/sync.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"

static int logged(const hnode_t *n, const char *needle)
{
    return h_log_contains(n, needle);
}

typedef struct log_q {
    const hnode_t *n;
    const char *needle;
} log_q_t;

static int log_has(void *ctx)
{
    log_q_t *q = ctx;
    return logged(q->n, q->needle);
}

static void await_log(const hnode_t *n, const char *needle)
{
    log_q_t q = {n, needle};
    if (!h_wait(log_has, &q, H_DEADLINE_MS))
        fail_msg("%s's log lacks: %s", n->name, needle);
}

typedef struct list_q {
    const hnode_t *n;
    const char *title;
} list_q_t;

static int lists(void *ctx)
{
    list_q_t *q = ctx;
    char *out = NULL;
    int ok = h_lernet(q->n, &out, "list --json") == 0 && out && strstr(out, q->title);
    free(out);
    return ok;
}

static char *invite_for(hnode_t *c, const hnode_t *n, const char *name)
{
    char *inv = h_invite(c, n, NET, name);
    assert_non_null(inv);
    return inv;
}
static void join(hnode_t *c, hnode_t *n, const char *name)
{
    char *inv = invite_for(c, n, name), *out = NULL;
    assert_int_equal(h_lernet(n, &out, "network join '%s'", inv), 0);
    free(out);
    free(inv);
}

/* Item 4: N is removed while its connection to C is open; what C
 * publishes afterwards reaches K, a member, and never N (before: N's open
 * connection kept receiving, since membership was checked only at the
 * handshake). */
static void test_removed_member_cut_off(void **state)
{
    (void)state;
    hnode_t C, N, K;
    char *out = NULL;
    assert_int_equal(h_node_init(&C, "Region Örebro län", "SE", NET), 0);
    assert_int_equal(h_node_init(&N, "OWL Lernregion", "DE", NET), 0);
    assert_int_equal(h_node_init(&K, "Tampere Oppimiskeskus", "FI", NET), 0);
    hnode_t *all[] = {&C, &N, &K};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(h_node_write_config(all[i]), 0);
    assert_int_equal(h_lernet(&C, &out, "network create %s", NET), 0);
    free(out);
    join(&C, &N, "OWL Lernregion");
    join(&C, &K, "Tampere Oppimiskeskus");
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(h_node_start(all[i]), 0);
    assert_int_equal(h_publish_workshop(&C, "Före borttagningen", NET), 0);
    assert_true(h_wait_items(all, 3, 1, H_DEADLINE_MS));
    /* removed through C's running daemon, N still connected */
    assert_int_equal(h_lernet(&C, &out, "network remove %s '%s'", NET, N.pub), 0);
    free(out);
    assert_int_equal(h_publish_workshop(&C, "Efter borttagningen", NET), 0);
    list_q_t at_k = {&K, "Efter borttagningen"};
    assert_true(h_wait(lists, &at_k, H_DEADLINE_MS));
    /* K has it; give N several rounds over its old connection (300 ms each) */
    list_q_t at_n = {&N, "Efter borttagningen"};
    assert_false(h_wait(lists, &at_n, 3000));
    await_log(&C, "its session is closed");
    await_log(&C, "closed every connection partners made to this node");
    for (size_t i = 0; i < 3; i++)
        h_node_free(all[i]);
}

/* Item 4: P's identity is revoked while its connection to V is open (the
 * thief of P's keys keeps it open). V cuts it off at once: its requests
 * get nothing, its connection is closed, and it cannot dial again. */
static void test_revoked_identity_cut_off(void **state)
{
    (void)state;
    hnode_t V, P;
    liar_t *thief = NULL;
    char *out = NULL;
    assert_int_equal(h_node_init(&V, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&P, "Stulen Skola", "SE", NET), 0);
    h_link(&V, &P, NET);
    assert_int_equal(h_node_write_config(&V), 0);
    assert_int_equal(h_node_start(&V), 0);
    assert_int_equal(h_publish_workshop(&V, "Före", NET), 0);
    assert_int_equal(liar_open(&thief, &P), 0);
    assert_int_equal(liar_dial(thief, &V), 0);
    uint8_t vkey[KEYS_PUBLIC_BYTES];
    assert_int_equal(keys_pub_decode(vkey, V.pub), KEYS_OK);
    assert_int_equal(liar_want(thief, vkey, NET, 1, 10), 1); /* served while it may be */
    /* P's owner publishes its identity revocation; it reaches V */
    assert_int_equal(h_lernet(&P, &out, "keys revoke-identity '%s/keys/identity-revocation.txt'",
                              P.home),
                     0);
    free(out);
    event_t **rev;
    size_t n = liar_log(&P, NULL, "@revoked", &rev);
    assert_int_equal(n, 1);
    assert_int_equal(liar_push(thief, rev, 1, LIAR_AS_IS), 0);
    event_free(&rev[0]);
    free(rev);
    await_log(&V, "its session is closed");
    assert_int_equal(h_publish_workshop(&V, "Efter", NET), 0);
    /* over the connection it had: nothing */
    assert_true(liar_want(thief, vkey, NET, 1, 10) < 0);
    liar_hang_up(thief);
    /* and no new one */
    assert_int_not_equal(liar_dial(thief, &V), 0);
    liar_close(&thief);
    h_node_free(&V);
    h_node_free(&P);
}

/* Item 4: P is a configured partner of V in an open network and in a
 * managed one V coordinates, where P is no member: P gets the open
 * network only (before: the managed one was in scope too). */
static void test_managed_scope_for_configured_partner(void **state)
{
    (void)state;
    hnode_t V, P;
    liar_t *l = NULL;
    char *out = NULL;
    const char *open_net = "open-wbl", *managed = NET;
    assert_int_equal(h_node_init(&V, "Roskilde Handelsskole", "DK", "open-wbl,nordic-wbl"), 0);
    assert_int_equal(h_node_init(&P, "Mallory AB", "SE", "open-wbl,nordic-wbl"), 0);
    h_link(&V, &P, "open-wbl,nordic-wbl");
    assert_int_equal(h_node_write_config(&V), 0);
    assert_int_equal(h_lernet(&V, &out, "network create %s", managed), 0);
    free(out);
    assert_int_equal(h_node_start(&V), 0);
    assert_int_equal(h_publish_workshop(&V, "Öppet", open_net), 0);
    assert_int_equal(h_publish_workshop(&V, "Bara för medlemmar", managed), 0);
    assert_int_equal(liar_open(&l, &P), 0);
    assert_int_equal(liar_dial(l, &V), 0);
    uint8_t vkey[KEYS_PUBLIC_BYTES];
    assert_int_equal(keys_pub_decode(vkey, V.pub), KEYS_OK);
    assert_int_equal(liar_want(l, vkey, open_net, 1, 10), 1);
    assert_int_equal(liar_want(l, vkey, managed, 1, 10), 0);
    liar_close(&l);
    h_node_free(&V);
    h_node_free(&P);
}

/* Item 6: Q publishes only in net-x, which V shares with Q but not with
 * P; P shares net-a with V. P must not get Q's key logs, which hold Q's
 * profile (before: every author's key logs reached every partner). */
static void test_key_logs_scope(void **state)
{
    (void)state;
    hnode_t V, P, Q;
    liar_t *l = NULL;
    char *out = NULL, bundle[700];
    assert_int_equal(h_node_init(&V, "Roskilde Handelsskole", "DK", "net-a,net-x"), 0);
    assert_int_equal(h_node_init(&P, "Partner A", "SE", "net-a"), 0);
    assert_int_equal(h_node_init(&Q, "Hemlig Partner", "FI", "net-x"), 0);
    h_link(&V, &P, "net-a");
    assert_int_equal(h_node_write_config(&V), 0);
    assert_int_equal(h_publish_workshop(&Q, "Bara i net-x", "net-x"), 0);
    snprintf(bundle, sizeof bundle, "%s/q.bundle", Q.home);
    assert_int_equal(h_lernet(&Q, &out, "export bundle '%s'", bundle), 0);
    free(out);
    assert_int_equal(h_lernet(&V, &out, "import bundle '%s'", bundle), 0);
    free(out);
    assert_int_equal(h_publish_workshop(&V, "I net-a", "net-a"), 0);
    assert_int_equal(h_node_start(&V), 0);
    assert_int_equal(liar_open(&l, &P), 0);
    assert_int_equal(liar_dial(l, &V), 0);
    uint8_t vkey[KEYS_PUBLIC_BYTES], qkey[KEYS_PUBLIC_BYTES];
    assert_int_equal(keys_pub_decode(vkey, V.pub), KEYS_OK);
    assert_int_equal(keys_pub_decode(qkey, Q.pub), KEYS_OK);
    assert_true(liar_want(l, vkey, "@keys", 1, 10) >= 1); /* V publishes in net-a */
    assert_int_equal(liar_want(l, qkey, "@keys", 1, 10), 0);
    assert_int_equal(liar_want(l, qkey, "@revoked", 1, 10), 0);
    /* nor do Q's key logs show among the heads of every bucket */
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__GetHeads g = LERNET__WIRE__GET_HEADS__INIT;
    uint8_t all[SYNC_NBUCKETS / 8];
    memset(all, 0xff, sizeof all);
    g.buckets.data = all, g.buckets.len = sizeof all;
    m.body_case = LERNET__WIRE__MSG__BODY_GET_HEADS, m.get_heads = &g;
    Lernet__Wire__Msg *r = liar_ask(l, &m, 10000);
    if (!r) { /* say why: V's log tells whether the connection was closed */
        char cmd[700];
        snprintf(cmd, sizeof cmd, "tail -n 30 '%s/daemon.log' >&2", V.home);
        tu_run(cmd, NULL);
        fail_msg("no answer to GetHeads from %s", V.name);
    }
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_HEADS);
    size_t of_v = 0;
    for (size_t i = 0; i < r->heads->n_heads; i++) {
        assert_memory_not_equal(r->heads->heads[i]->author.data, qkey, KEYS_PUBLIC_BYTES);
        of_v += memcmp(r->heads->heads[i]->author.data, vkey, KEYS_PUBLIC_BYTES) == 0;
    }
    assert_true(of_v >= 2); /* V's own net-a and @keys logs are there */
    lernet__wire__msg__free_unpacked(r, NULL);
    liar_close(&l);
    h_node_free(&V);
    h_node_free(&P);
    h_node_free(&Q);
}

/* Rounds of a node's client since rounds_base (set on the first call). */
static long rounds_base = -1;
static int rounds_done(void *ctx)
{
    json_t *r = h_control(ctx, "status");
    long n = r ? (long)json_integer_value(json_object_get(r, "rounds")) : -1;
    json_decref(r);
    if (n < 0)
        return 0;
    if (rounds_base < 0)
        rounds_base = n;
    return n >= rounds_base + 2;
}

/* Item 6: L, an allow-listed partner, opens hundreds of connections to V and says
 * Hello on each (700 here); A, an honest partner syncing with V, keeps its session
 * (before: V's 512-session table evicted A's, which got "send hello
 * first"). */
static void test_session_flood(void **state)
{
    (void)state;
    enum { FLOOD = 700 };
    hnode_t V, A, L;
    assert_int_equal(h_node_init(&V, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&L, "Mallory AB", "SE", NET), 0);
    h_link(&V, &A, NET);
    h_link(&V, &L, NET);
    /* A asks V every 4 s: its session at V goes unused while the flood
     * comes, as an honest partner's does between rounds */
    A.sync_interval_ms = 4000;
    assert_int_equal(h_node_write_config(&V), 0);
    assert_int_equal(h_node_write_config(&A), 0);
    assert_int_equal(h_node_start(&V), 0);
    assert_int_equal(h_node_start(&A), 0);
    assert_true(h_wait(h_partners_up, &A, H_DEADLINE_MS));
    assert_true(h_wait(rounds_done, &A, H_DEADLINE_MS)); /* A's session at V is open */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    char dir[600], why[256], ep[64];
    keys_identity_t *k = NULL;
    keys_transport_t *t = NULL;
    snprintf(dir, sizeof dir, "%s/keys", L.home);
    assert_int_equal(keystore_load(dir, NULL, &k, why, sizeof why), 0);
    assert_int_equal(keys_transport_from_identity(&t, k), KEYS_OK);
    uint8_t vkey[KEYS_PUBLIC_BYTES];
    assert_int_equal(keys_pub_decode(vkey, V.pub), KEYS_OK);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", V.port);
    void *ctx = zmq_ctx_new();
    zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, FLOOD + 64);
    void **socks = calloc(FLOOD, sizeof *socks);
    char *nets[] = {NET};
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Hello h = LERNET__WIRE__HELLO__INIT;
    h.protocol = 1, h.n_networks = 1, h.networks = nets, h.node_name = "Mallory";
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO, m.hello = &h;
    uint8_t buf[256];
    size_t len = lernet__wire__msg__pack(&m, buf);
    for (size_t i = 0; i < FLOOD; i++) {
        socks[i] = net_client_open(ctx, t, vkey, ep, NULL, why, sizeof why);
        assert_non_null(socks[i]);
    }
    for (size_t i = 0; i < FLOOD; i++) { /* each Hello once its handshake is done */
        int sent = 0;
        for (int tries = 0; !sent && tries < 4000; tries++) {
            sent = zmq_send(socks[i], buf, len, ZMQ_DONTWAIT) == (int)len;
            if (!sent) {
                struct timespec ts = {0, 5 * 1000000};
                nanosleep(&ts, NULL);
            }
        }
        assert_true(sent);
    }
    /* V has answered them all once it has logged as many sessions... wait
     * until it has handled the flood: A's next rounds come after */
    for (size_t i = 0; i < FLOOD; i++) {
        zmq_pollitem_t it = {socks[i], 0, ZMQ_POLLIN, 0};
        assert_true(zmq_poll(&it, 1, 20000) == 1); /* its HelloAck */
    }
    /* two more of A's rounds over its session at V, after the flood */
    rounds_base = -1;
    assert_true(h_wait(rounds_done, &A, H_DEADLINE_MS));
    assert_false(logged(&A, "send hello first"));
    assert_int_equal(h_publish_workshop(&V, "Efter flodvågen", NET), 0);
    list_q_t at_a = {&A, "Efter flodvågen"};
    assert_true(h_wait(lists, &at_a, H_DEADLINE_MS));
    for (size_t i = 0; i < FLOOD; i++)
        zmq_close(socks[i]);
    free(socks);
    zmq_ctx_term(ctx);
    keys_free(&k);
    keys_transport_free(&t);
    h_node_free(&V);
    h_node_free(&A);
    h_node_free(&L);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_removed_member_cut_off),
        cmocka_unit_test(test_revoked_identity_cut_off),
        cmocka_unit_test(test_managed_scope_for_configured_partner),
        cmocka_unit_test(test_key_logs_scope),
        cmocka_unit_test(test_session_flood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
