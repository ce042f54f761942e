/*
 * test_sync: the protocol logic of sync.c driven in-process, two nodes
 * joined by in-memory queues instead of sockets. Deterministic, so it can
 * assert exact properties: convergence, bytes of an in-sync round, bytes
 * and round trips for one missing event, scope, hostile requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "sync.h"
#include "testutil.h"
#include "wire.pb-c.h"

#define START 1796112000LL
#define QMAX 4096

typedef struct node node_t;

typedef struct frame {
    node_t *to;
    int to_server; /* 1: arrives on the ROUTER, 0: on the DEALER */
    uint8_t *buf;
    size_t len;
} frame_t;

typedef struct net {
    frame_t q[QMAX];
    size_t head, tail;
    size_t client_msgs; /* requests sent by clients (round trips) */
    size_t bytes[2];    /* [0] client→server, [1] server→client */
} net_t;

struct node {
    char *dir;
    store_t *st;
    config_t cfg;
    config_peer_t peer;
    keys_identity_t *k;
    sync_t *sync;
    node_t *other;
    net_t *net;
};

static int64_t clock_ms = 1700000000000LL;

static void enqueue(net_t *n, node_t *to, int to_server, const uint8_t *buf, size_t len)
{
    assert_true(n->tail - n->head < QMAX);
    frame_t *f = &n->q[n->tail++ % QMAX];
    f->to = to;
    f->to_server = to_server;
    f->buf = malloc(len);
    memcpy(f->buf, buf, len);
    f->len = len;
    n->bytes[to_server ? 0 : 1] += len;
    n->client_msgs += to_server;
}

static int io_client(void *ctx, size_t peer, const uint8_t *buf, size_t len)
{
    node_t *self = ctx;
    (void)peer;
    enqueue(self->net, self->other, 1, buf, len);
    return 0;
}

static int io_server(void *ctx, const uint8_t *rid, size_t rid_len, const uint8_t *buf,
                     size_t len)
{
    node_t *self = ctx;
    (void)rid;
    (void)rid_len;
    enqueue(self->net, self->other, 0, buf, len);
    return 0;
}

/* Delivers queued frames until none are left (bounded). */
static void run(net_t *n)
{
    for (int steps = 0; n->head < n->tail && steps < 100000; steps++) {
        frame_t f = n->q[n->head++ % QMAX];
        if (f.to_server)
            sync_server_recv(f.to->sync, 0, (const uint8_t *)"r", 1, f.buf, f.len, clock_ms);
        else
            sync_client_recv(f.to->sync, 0, f.buf, f.len, clock_ms);
        free(f.buf);
    }
    assert_int_equal(n->head, n->tail);
}

static void node_init(node_t *x, net_t *net, const char *name, const char *nets_csv)
{
    char why[256], path[600];
    memset(x, 0, sizeof *x);
    x->net = net;
    x->dir = tu_tempdir();
    snprintf(path, sizeof path, "%s/store.db", x->dir);
    assert_int_equal(store_open(&x->st, path, why, sizeof why), 0);
    assert_int_equal(keys_generate(&x->k), 0);
    snprintf(x->cfg.name, sizeof x->cfg.name, "%s", name);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", nets_csv);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
        snprintf(x->cfg.networks[x->cfg.n_networks++], EVENT_MAX_NETWORK + 1, "%s", t);
    x->cfg.sync_interval_ms = 1000;
    x->cfg.peers = &x->peer;
    x->cfg.n_peers = 1;
}

/* Makes a and b partners sharing nets_csv, then creates their sync_t. */
static void link_nodes(node_t *a, node_t *b, const char *nets_csv)
{
    node_t *pair[2][2] = {{a, b}, {b, a}};
    for (int i = 0; i < 2; i++) {
        node_t *x = pair[i][0], *y = pair[i][1];
        char buf[256];
        x->other = y;
        snprintf(x->peer.name, sizeof x->peer.name, "%s", y->cfg.name);
        memcpy(x->peer.public_key, keys_public(y->k), KEYS_PUBLIC_BYTES);
        snprintf(buf, sizeof buf, "%s", nets_csv);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
            snprintf(x->peer.networks[x->peer.n_networks++], EVENT_MAX_NETWORK + 1, "%s", t);
        sync_io_t io = {io_client, io_server, x};
        assert_int_equal(sync_new(&x->sync, x->st, &x->cfg, &io), 0);
    }
}

static void node_free(node_t *x)
{
    sync_free(&x->sync);
    store_close(&x->st);
    keys_free(&x->k);
    tu_rmtree(&x->dir);
}

/* Appends n workshops to x's own log in network net, in one batch. */
static void add_events(node_t *x, const char *net, int n)
{
    char why[256];
    uint64_t seq;
    uint8_t head[32];
    assert_int_equal(store_head(x->st, keys_public(x->k), net, &seq, head), 0);
    assert_int_equal(store_begin(x->st), 0);
    for (int i = 0; i < n; i++) {
        char title[64];
        snprintf(title, sizeof title, "Workshop %llu om lärande", (unsigned long long)seq + 1);
        Lernet__Payload *p = tu_workshop(title, "Learning workshop", START + i * 3600);
        event_t *ev = NULL;
        assert_int_equal(event_create(&ev, x->k, net, seq + 1, seq ? head : NULL, clock_ms, p,
                                      why, sizeof why),
                         0);
        int outcome;
        assert_int_equal(store_add(x->st, ev, &outcome, NULL, why, sizeof why), 0);
        assert_int_equal(outcome, STORE_APPLIED);
        memcpy(head, ev->id, 32);
        seq++;
        event_free(&ev);
        tu_payload_free(p);
    }
    assert_int_equal(store_commit(x->st), 0);
}

static uint64_t events_of(node_t *x)
{
    store_stats_t s;
    assert_int_equal(store_stats(x->st, &s), 0);
    return s.events;
}

/* One full round of x pulling from its partner. */
static void round_from(node_t *x)
{
    clock_ms += x->cfg.sync_interval_ms + 1;
    sync_tick(x->sync, clock_ms);
    run(x->net);
}

static void connect_both(node_t *a, node_t *b)
{
    sync_client_connected(a->sync, 0, clock_ms);
    sync_client_connected(b->sync, 0, clock_ms);
    run(a->net);
}

static void test_converge_and_in_sync_bytes(void **state)
{
    (void)state;
    net_t net = {0};
    node_t a, b;
    node_init(&a, &net, "Lärcentrum Östhammar", "nordic-wbl");
    node_init(&b, &net, "Roskilde Handelsskole", "nordic-wbl");
    link_nodes(&a, &b, "nordic-wbl");
    add_events(&a, "nordic-wbl", 1000);
    add_events(&b, "nordic-wbl", 10);
    connect_both(&a, &b);
    assert_int_equal(events_of(&a), 1010);
    assert_int_equal(events_of(&b), 1010);

    /* an in-sync round: one Summary each way */
    memset(net.bytes, 0, sizeof net.bytes);
    net.client_msgs = 0;
    round_from(&b);
    fprintf(stderr, "in-sync round at 1,010 events: %zu bytes client→server, %zu back\n",
            net.bytes[0], net.bytes[1]);
    assert_true(net.bytes[0] <= 256);
    assert_true(net.bytes[1] <= 256);
    assert_int_equal(net.client_msgs, 1);
    size_t small = net.bytes[0] + net.bytes[1];

    /* ten times the events: the round costs the same */
    add_events(&a, "nordic-wbl", 9000);
    round_from(&b);
    assert_int_equal(events_of(&b), 10010);
    memset(net.bytes, 0, sizeof net.bytes);
    round_from(&b);
    fprintf(stderr, "in-sync round at 10,010 events: %zu bytes\n", net.bytes[0] + net.bytes[1]);
    assert_int_equal(net.bytes[0] + net.bytes[1], small);
    node_free(&a);
    node_free(&b);
}

static void test_one_missing_event(void **state)
{
    (void)state;
    net_t net = {0};
    node_t a, b;
    node_init(&a, &net, "A", "nordic-wbl");
    node_init(&b, &net, "B", "nordic-wbl");
    link_nodes(&a, &b, "nordic-wbl");
    /* 100 authors' logs at b's side via a: a holds them all */
    keys_identity_t *own = a.k;
    for (int i = 0; i < 100; i++) {
        keys_identity_t *k;
        assert_int_equal(keys_generate(&k), 0);
        a.k = k;
        add_events(&a, "nordic-wbl", 20);
        keys_free(&k);
    }
    a.k = own;
    connect_both(&a, &b);
    assert_int_equal(events_of(&b), 2000);
    add_events(&a, "nordic-wbl", 1);
    memset(net.bytes, 0, sizeof net.bytes);
    net.client_msgs = 0;
    round_from(&b);
    assert_int_equal(events_of(&b), 2001);
    size_t total = net.bytes[0] + net.bytes[1];
    fprintf(stderr, "one missing event among 2,000 from 101 logs: %zu bytes, %zu round trips "
                    "(then 1 to confirm)\n", total, net.client_msgs - 1);
    /* Summary, GetHeads, Want; the final Summary confirms the round */
    assert_true(net.client_msgs - 1 <= 3);
    assert_true(total <= 2048);
    node_free(&a);
    node_free(&b);
}

static void test_scope(void **state)
{
    (void)state;
    net_t net = {0};
    node_t a, b;
    node_init(&a, &net, "A", "nordic-wbl,sweden-local");
    node_init(&b, &net, "B", "nordic-wbl");
    link_nodes(&a, &b, "nordic-wbl");
    add_events(&a, "sweden-local", 5);
    add_events(&a, "nordic-wbl", 3);
    connect_both(&a, &b);
    round_from(&b);
    assert_int_equal(events_of(&b), 3);
    store_feed_t *feeds;
    size_t n;
    assert_int_equal(store_feeds(b.st, NULL, 0, &feeds, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(feeds[0].network, "nordic-wbl");
    free(feeds);

    /* a hostile Want for the other network gets nothing */
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Want w = LERNET__WIRE__WANT__INIT;
    Lernet__Wire__Range r = LERNET__WIRE__RANGE__INIT, *rp = &r;
    r.author.data = (uint8_t *)keys_public(a.k);
    r.author.len = 32;
    r.network = "sweden-local";
    r.from = 1;
    r.to = 5;
    w.n_ranges = 1;
    w.ranges = &rp;
    m.body_case = LERNET__WIRE__MSG__BODY_WANT;
    m.want = &w;
    uint8_t buf[512];
    size_t len = lernet__wire__msg__pack(&m, buf);
    net.head = net.tail = 0;
    sync_server_recv(a.sync, 0, (const uint8_t *)"r", 1, buf, len, clock_ms);
    assert_int_equal(net.tail, 1);
    Lernet__Wire__Msg *reply = lernet__wire__msg__unpack(NULL, net.q[0].len, net.q[0].buf);
    assert_non_null(reply);
    assert_int_equal(reply->body_case, LERNET__WIRE__MSG__BODY_EVENTS);
    assert_int_equal(reply->events->n_envelopes, 0);
    lernet__wire__msg__free_unpacked(reply, NULL);
    free(net.q[0].buf);
    net.head = net.tail = 0;
    node_free(&a);
    node_free(&b);
}

static void test_garbage_and_pushes(void **state)
{
    (void)state;
    net_t net = {0};
    node_t a, b;
    node_init(&a, &net, "A", "nordic-wbl");
    node_init(&b, &net, "B", "nordic-wbl");
    link_nodes(&a, &b, "nordic-wbl");
    connect_both(&a, &b);
    /* undecodable bytes: an error reply, nothing stored, still serving */
    uint8_t junk[32];
    memset(junk, 0xff, sizeof junk);
    sync_server_recv(a.sync, 0, (const uint8_t *)"r", 1, junk, sizeof junk, clock_ms);
    run(&net);
    add_events(&a, "nordic-wbl", 2);
    /* a push of an event with a flipped signature byte is refused */
    char why[256];
    Lernet__Payload *p = tu_workshop("Förfalskad", NULL, START);
    event_t *ev = NULL;
    keys_identity_t *k;
    assert_int_equal(keys_generate(&k), 0);
    assert_int_equal(event_create(&ev, k, "nordic-wbl", 1, NULL, clock_ms, p, why, sizeof why),
                     0);
    ev->sig[10] ^= 1;
    uint8_t *env;
    size_t len;
    assert_int_equal(event_envelope(ev, &env, &len), 0);
    ProtobufCBinaryData one = {len, env};
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Events e = LERNET__WIRE__EVENTS__INIT;
    e.n_envelopes = 1;
    e.envelopes = &one;
    m.body_case = LERNET__WIRE__MSG__BODY_PUSH;
    m.push = &e;
    uint8_t buf[4096];
    size_t n = lernet__wire__msg__pack(&m, buf);
    sync_server_recv(b.sync, 0, (const uint8_t *)"r", 1, buf, n, clock_ms);
    sync_stats_t st;
    sync_get_stats(b.sync, &st);
    assert_int_equal(st.events_refused, 1);
    assert_int_equal(events_of(&b), 0);
    /* the honest events still arrive */
    round_from(&b);
    assert_int_equal(events_of(&b), 2);
    free(env);
    event_free(&ev);
    keys_free(&k);
    tu_payload_free(p);
    node_free(&a);
    node_free(&b);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converge_and_in_sync_bytes),
        cmocka_unit_test(test_one_missing_event),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_garbage_and_pushes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
