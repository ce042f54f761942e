/*
 * test_net_hostile: a partner with a valid, allow-listed key that speaks
 * the protocol badly on purpose, against node B, while an honest partner A
 * keeps syncing through B. The hostile side sends garbage and truncated
 * messages, an oversized frame, a wrong protocol version, events with bad
 * signatures, gaps, forks, replays, a flood of far-ahead sequence numbers,
 * requests for ranges that do not exist, and opens a connection that asks
 * and never reads. Afterwards: A and B converge, B's peak memory is under
 * a fixed bound, every kind of refusal is in B's log with its reason, and
 * nothing invalid is stored (verify finds only the fork it was shown, kept
 * as evidence).
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
#include <zmq.h>

#include "harness/harness.h"
#include "keys/keystore.h"
#include "daemon/net.h"
#include "sync/sync.h"
#include "harness/testutil.h"
#include "proto/wire.pb-c.h"

#define NET "nordic-wbl"
#define START 1796112000LL
#define MEMORY_BOUND_KIB (96 * 1024)

typedef struct hostile {
    void *ctx, *dealer, *mon;
    keys_identity_t *k;
    keys_transport_t *t;
} hostile_t;

static int wait_up(void *mon, int timeout_ms)
{
    zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
    for (int waited = 0; waited < timeout_ms; waited += 50)
        if (zmq_poll(&it, 1, 50) > 0 && net_monitor_read(mon) == NET_UP)
            return 1;
    return 0;
}

static void *dial(hostile_t *h, const hnode_t *b, const char *mon_ep, void **mon)
{
    char ep[64], why[256];
    uint8_t bkey[32];
    assert_int_equal(keys_pub_decode(bkey, b->pub), 0);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", b->port);
    void *d = net_client_open(h->ctx, h->t, bkey, ep, mon_ep, why, sizeof why);
    assert_non_null(d);
    *mon = net_monitor_open(h->ctx, mon_ep);
    assert_true(wait_up(*mon, 10000));
    return d;
}

static void send_raw(void *d, const void *buf, size_t len)
{
    assert_int_equal(zmq_send(d, buf, len, ZMQ_DONTWAIT), (int)len);
}

static void send_msg(void *d, Lernet__Wire__Msg *m)
{
    size_t len = lernet__wire__msg__get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    lernet__wire__msg__pack(m, buf);
    send_raw(d, buf, len);
    free(buf);
}

static void hello(void *d, uint32_t protocol)
{
    char *nets[] = {NET};
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Hello h = LERNET__WIRE__HELLO__INIT;
    h.protocol = protocol, h.n_networks = 1, h.networks = nets, h.node_name = "Hostile";
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO, m.hello = &h;
    send_msg(d, &m);
}

/* Pushes n envelopes in one Events message. */
static void push(void *d, event_t **evs, size_t n, int corrupt)
{
    ProtobufCBinaryData *envs = calloc(n, sizeof *envs);
    for (size_t i = 0; i < n; i++) {
        if (corrupt)
            evs[i]->sig[5] ^= 0x20; /* a signature that does not verify */
        event_envelope(evs[i], &envs[i].data, &envs[i].len);
    }
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Events e = LERNET__WIRE__EVENTS__INIT;
    e.n_envelopes = n, e.envelopes = envs;
    m.body_case = LERNET__WIRE__MSG__BODY_PUSH, m.push = &e;
    send_msg(d, &m);
    for (size_t i = 0; i < n; i++)
        free(envs[i].data);
    free(envs);
}

static event_t *ev_at(const keys_identity_t *k, uint64_t seq, const uint8_t *prev,
                      const char *title)
{
    event_t *ev = NULL;
    Lernet__Payload *p = tu_workshop(title, "Hostile", START + (int64_t)seq * 60);
    assert_int_equal(event_create(&ev, k, NET, seq, prev, event_now_ms(), p, NULL, 0), EV_OK);
    tu_payload_free(p);
    return ev;
}

static void want(void *d, const uint8_t *author, uint64_t from, uint64_t to)
{
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Range r = LERNET__WIRE__RANGE__INIT, *rp = &r;
    Lernet__Wire__Want w = LERNET__WIRE__WANT__INIT;
    r.author.data = (uint8_t *)author, r.author.len = 32, r.network = NET, r.from = from,
    r.to = to;
    w.n_ranges = 1, w.ranges = &rp, w.max_events = 4000;
    m.body_case = LERNET__WIRE__MSG__BODY_WANT, m.want = &w;
    send_msg(d, &m);
}

typedef struct log_q {
    const hnode_t *n;
    const char *needle;
} log_q_t;

static int logged(void *ctx)
{
    log_q_t *q = ctx;
    return h_log_contains(q->n, q->needle);
}

static void await_log(const hnode_t *n, const char *needle)
{
    log_q_t q = {n, needle};
    if (!h_wait(logged, &q, H_DEADLINE_MS))
        fail_msg("%s's log lacks: %s", n->name, needle);
}

static long peak_kib(pid_t pid)
{
    char path[64], line[256];
    long v = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            v = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static void attack(hostile_t *h, const hnode_t *b, const hnode_t *a)
{
    uint8_t junk[4096], akey[32];
    randombytes_buf(junk, sizeof junk);
    /* garbage, truncated and empty messages; then one far beyond the limit */
    for (size_t n = 0; n < 64; n++)
        send_raw(h->dealer, junk, n * 61 % sizeof junk);
    hello(h->dealer, 7); /* a protocol version nobody speaks */
    hello(h->dealer, SYNC_PROTOCOL);
    /* the dealer lingers 0: closing it below would drop whatever its I/O
     * thread has not flushed yet, so wait until B has seen these first */
    await_log(b, "undecodable message");
    await_log(b, "protocol version 7 is not supported");
    uint8_t *big = calloc(1, SYNC_MAX_MSG + 1024);
    zmq_send(h->dealer, big, SYNC_MAX_MSG + 1024, ZMQ_DONTWAIT); /* drops this connection */
    free(big);
    zmq_socket_monitor(h->dealer, NULL, 0);
    zmq_close(h->mon);
    zmq_close(h->dealer);
    h->dealer = dial(h, b, "inproc://hostile-2", &h->mon);
    hello(h->dealer, SYNC_PROTOCOL);

    /* its own log: seq 1, a replayed seq 1, a fork of seq 1, a gap, a flood */
    event_t *e1 = ev_at(h->k, 1, NULL, "Äkta"), *fork1 = ev_at(h->k, 1, NULL, "Gaffel");
    event_t *evs[3] = {e1, e1, e1};
    push(h->dealer, evs, 3, 0);
    push(h->dealer, &fork1, 1, 0);
    event_t *bad = ev_at(h->k, 2, e1->id, "Förfalskad");
    push(h->dealer, &bad, 1, 1);
    enum { FLOOD = 1500 };
    event_t **far = calloc(FLOOD, sizeof *far);
    uint8_t fake_prev[32];
    for (size_t i = 0; i < FLOOD; i++) { /* far ahead of a gap: held until the bound */
        randombytes_buf(fake_prev, sizeof fake_prev);
        far[i] = ev_at(h->k, 1000 + i, fake_prev, "Långt fram");
    }
    for (size_t i = 0; i < FLOOD; i += 500)
        push(h->dealer, far + i, 500, 0);
    /* ranges that do not exist */
    assert_int_equal(keys_pub_decode(akey, a->pub), 0);
    want(h->dealer, akey, 1, UINT64_MAX);
    want(h->dealer, keys_public(h->k), 5, 2);
    randombytes_buf(junk, 32);
    want(h->dealer, junk, 1, 1000000);
    /* a connection that asks and never reads */
    void *mon3, *mute = dial(h, b, "inproc://hostile-3", &mon3);
    hello(mute, SYNC_PROTOCOL);
    for (int i = 0; i < 200; i++)
        want(mute, akey, 1, UINT64_MAX);

    for (size_t i = 0; i < FLOOD; i++)
        event_free(&far[i]);
    free(far);
    event_free(&e1);
    event_free(&fork1);
    event_free(&bad);
    zmq_socket_monitor(mute, NULL, 0);
    zmq_close(mon3);
    zmq_close(mute);
}

/* The next reply on d within timeout_ms, or NULL. */
static Lernet__Wire__Msg *next_reply(void *d, int timeout_ms)
{
    zmq_pollitem_t it = {d, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return NULL;
    zmq_msg_t m;
    zmq_msg_init(&m);
    Lernet__Wire__Msg *r = NULL;
    if (zmq_msg_recv(&m, d, ZMQ_DONTWAIT) >= 0)
        r = lernet__wire__msg__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    zmq_msg_close(&m);
    return r;
}

/* Issue 16 item 5: a message of more than one frame is dropped whole. (A
 * request with one extra frame was answered, one with two was not.) Two
 * Wants that would each be answered with an event, sent with one and with
 * two extra frames, then a one-frame Summary: the first reply is the
 * Summary's. */
static void extra_frames(hostile_t *h, const hnode_t *b, const hnode_t *a)
{
    void *mon, *d = dial(h, b, "inproc://hostile-4", &mon);
    uint8_t akey[32];
    assert_int_equal(keys_pub_decode(akey, a->pub), 0);
    hello(d, SYNC_PROTOCOL);
    Lernet__Wire__Msg *r = next_reply(d, H_DEADLINE_MS);
    assert_non_null(r);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_HELLO_ACK);
    lernet__wire__msg__free_unpacked(r, NULL);
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Range rg = LERNET__WIRE__RANGE__INIT, *rp = &rg;
    Lernet__Wire__Want w = LERNET__WIRE__WANT__INIT;
    rg.author.data = akey, rg.author.len = 32, rg.network = NET, rg.from = 1, rg.to = 1;
    w.n_ranges = 1, w.ranges = &rp;
    m.body_case = LERNET__WIRE__MSG__BODY_WANT, m.want = &w;
    uint8_t buf[256];
    size_t len = lernet__wire__msg__pack(&m, buf);
    for (int extra = 1; extra <= 2; extra++) {
        assert_int_equal(zmq_send(d, buf, len, ZMQ_SNDMORE), (int)len);
        for (int i = 0; i < extra; i++)
            assert_int_equal(zmq_send(d, buf, len, i + 1 < extra ? ZMQ_SNDMORE : 0), (int)len);
    }
    Lernet__Wire__Summary sum = LERNET__WIRE__SUMMARY__INIT;
    m.body_case = LERNET__WIRE__MSG__BODY_SUMMARY, m.summary = &sum;
    send_msg(d, &m);
    r = next_reply(d, H_DEADLINE_MS);
    assert_non_null(r);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_BUCKETS);
    lernet__wire__msg__free_unpacked(r, NULL);
    zmq_socket_monitor(d, NULL, 0);
    zmq_close(mon);
    zmq_close(d);
}

/* Gives A a log big enough that every reply B sends the mute connection is
 * a full batch: the memory bound is then tested, not assumed. */
#define A_EVENTS 8000
static void fill(const hnode_t *a)
{
    char path[600], why[256];
    store_t *st = NULL;
    keys_identity_t *k = NULL;
    event_t *prev = NULL;
    snprintf(path, sizeof path, "%s/keys", a->home);
    assert_int_equal(keystore_load(path, NULL, &k, why, sizeof why), 0);
    snprintf(path, sizeof path, "%s/store.db", a->home);
    assert_int_equal(store_open(&st, path, why, sizeof why), 0);
    assert_int_equal(store_begin(st), 0);
    for (int i = 0; i < A_EVENTS; i++) {
        event_t *ev = ev_at(k, (uint64_t)i + 1, prev ? prev->id : NULL, "Arbetsplatslärande");
        assert_int_equal(store_add(st, ev, NULL, NULL, why, sizeof why), 0);
        event_free(&prev);
        prev = ev;
    }
    event_free(&prev);
    assert_int_equal(store_commit(st), 0);
    store_close(&st);
    keys_free(&k);
}

static void test_hostile_partner(void **state)
{
    (void)state;
    hnode_t A, B, H;
    hostile_t h = {0};
    char dir[600], why[256], *out = NULL;
    assert_int_equal(h_node_init(&A, "Lärcentrum Östhammar", "SE", NET), 0);
    assert_int_equal(h_node_init(&B, "Roskilde Handelsskole", "DK", NET), 0);
    assert_int_equal(h_node_init(&H, "Mallory AB", "SE", NET), 0); /* never started */
    h_link(&A, &B, NET);
    h_link(&B, &H, NET);
    assert_int_equal(h_node_write_config(&A), 0);
    assert_int_equal(h_node_write_config(&B), 0);
    fill(&A);
    assert_int_equal(h_node_start(&A), 0);
    assert_int_equal(h_node_start(&B), 0);
    hnode_t *honest[] = {&A, &B};
    assert_int_equal(h_publish_workshop(&A, "Före angreppet", NET), 0);
    /* a catch-up of 8,000 events: under ASan on a busy machine it took
     * just over 30 s once (both nodes at 8,001 when the wait gave up) */
    assert_true(h_wait_items(honest, 2, A_EVENTS + 1, 4 * H_DEADLINE_MS));

    snprintf(dir, sizeof dir, "%s/keys", H.home);
    assert_int_equal(keystore_load(dir, NULL, &h.k, why, sizeof why), 0);
    assert_int_equal(keys_transport_from_identity(&h.t, h.k), KEYS_OK);
    h.ctx = zmq_ctx_new();
    h.dealer = dial(&h, &B, "inproc://hostile-1", &h.mon);
    attack(&h, &B, &A);

    /* the honest partner keeps syncing through B, both ways */
    assert_int_equal(h_publish_workshop(&A, "Under angreppet", NET), 0);
    assert_int_equal(h_publish_workshop(&B, "Svar under angreppet", NET), 0);
    /* A's, B's and the one valid event of H's */
    assert_true(h_wait_items(honest, 2, A_EVENTS + 4, H_DEADLINE_MS));

    extra_frames(&h, &B, &A);

    /* every refusal, with its reason */
    static const char *reasons[] = {
        "protocol version 7 is not supported", "bad_signature", "too many events are already held back",
        "fork: author", "undecodable message"};
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        await_log(&B, reasons[i]);
    long peak = peak_kib(B.pid);
    fprintf(stderr, "B's peak resident memory during the attack: %ld KiB (bound %d KiB)\n", peak,
            MEMORY_BOUND_KIB);
    assert_true(peak > 0);
#ifndef __SANITIZE_ADDRESS__ /* ASan's quarantine keeps freed memory resident: no bound there */
    assert_true(peak < MEMORY_BOUND_KIB);
#endif
    /* nothing invalid stored: verify's only finding is the fork, kept as evidence */
    assert_int_equal(h_node_stop(&B), 0);
    assert_int_equal(h_lernet(&B, &out, "verify"), 3);
    assert_non_null(strstr(out, "fork: author"));
    assert_null(strstr(out, "bad_signature"));
    assert_null(strstr(out, "chain broken"));
    free(out);
    zmq_socket_monitor(h.dealer, NULL, 0);
    zmq_close(h.mon);
    zmq_close(h.dealer);
    zmq_ctx_term(h.ctx);
    keys_free(&h.k);
    keys_transport_free(&h.t);
    h_node_free(&A);
    h_node_free(&B);
    h_node_free(&H);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_hostile_partner)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
