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

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness_mem.h"
#include "util/log.h"
#include "store/store.h"
#include "sync/sync.h"
#include "harness/testutil.h"
#include "proto/wire.pb-c.h"

#define START 1796112000LL

/* Two partner nodes sharing nets, a-side holding extra networks a_nets. */
typedef struct pair {
    hm_net_t *net;
    hm_node_t a, b;
} pair_t;

static pair_t *pair_new(const char *a_nets, const char *b_nets, const char *shared)
{
    pair_t *p = calloc(1, sizeof *p);
    p->net = calloc(1, sizeof *p->net);
    assert_int_equal(hm_node_init(&p->a, p->net, "Lärcentrum Östhammar", a_nets), 0);
    assert_int_equal(hm_node_init(&p->b, p->net, "Roskilde Handelsskole", b_nets), 0);
    assert_int_equal(hm_link(&p->a, &p->b, shared), 0);
    return p;
}

static void pair_free(pair_t *p)
{
    hm_node_free(&p->a);
    hm_node_free(&p->b);
    free(p->net);
    free(p);
}

static void test_converge_and_in_sync_bytes(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    hm_net_t *net = p->net;
    assert_int_equal(hm_add_events(&p->a, NULL, "nordic-wbl", 1000), 0);
    assert_int_equal(hm_add_events(&p->b, NULL, "nordic-wbl", 10), 0);
    assert_int_equal(hm_connect(&p->a, &p->b), 0);
    assert_int_equal(hm_events(&p->a), 1010);
    assert_int_equal(hm_events(&p->b), 1010);

    /* an in-sync round: one Summary each way */
    hm_reset_counters(net);
    assert_int_equal(hm_round(&p->b), 0);
    fprintf(stderr, "in-sync round at 1,010 events: %zu bytes client→server, %zu back\n",
            net->bytes[0], net->bytes[1]);
    assert_true(net->bytes[0] <= 256);
    assert_true(net->bytes[1] <= 256);
    assert_int_equal(net->client_msgs, 1);
    size_t small = net->bytes[0] + net->bytes[1];

    /* ten times the events: the round costs the same */
    assert_int_equal(hm_add_events(&p->a, NULL, "nordic-wbl", 9000), 0);
    assert_int_equal(hm_round(&p->b), 0);
    assert_int_equal(hm_events(&p->b), 10010);
    hm_reset_counters(net);
    assert_int_equal(hm_round(&p->b), 0);
    fprintf(stderr, "in-sync round at 10,010 events: %zu bytes\n", net->bytes[0] + net->bytes[1]);
    assert_int_equal(net->bytes[0] + net->bytes[1], small);
    pair_free(p);
}

static void test_one_missing_event(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    hm_net_t *net = p->net;
    /* 100 other authors' logs, relayed by a */
    for (int i = 0; i < 100; i++) {
        keys_identity_t *k;
        assert_int_equal(keys_generate(&k), 0);
        assert_int_equal(hm_add_events(&p->a, k, "nordic-wbl", 20), 0);
        keys_free(&k);
    }
    assert_int_equal(hm_connect(&p->a, &p->b), 0);
    assert_int_equal(hm_events(&p->b), 2000);
    assert_int_equal(hm_add_events(&p->a, NULL, "nordic-wbl", 1), 0);
    hm_reset_counters(net);
    assert_int_equal(hm_round(&p->b), 0);
    assert_int_equal(hm_events(&p->b), 2001);
    size_t total = net->bytes[0] + net->bytes[1];
    fprintf(stderr, "one missing event among 2,000 from 101 logs: %zu bytes, %zu round trips "
                    "(then 1 to confirm)\n", total, net->client_msgs - 1);
    /* Summary, GetHeads, Want; the final Summary confirms the round */
    assert_true(net->client_msgs - 1 <= 3);
    assert_true(total <= 2048);
    pair_free(p);
}

/* Sends one raw message to a's server side; returns a's single reply. */
static Lernet__Wire__Msg *ask(pair_t *p, const Lernet__Wire__Msg *m)
{
    uint8_t buf[4096];
    size_t len = lernet__wire__msg__pack(m, buf);
    hm_net_t *net = p->net;
    net->head = net->tail = 0;
    sync_server_recv(p->a.sync, 0, (const uint8_t *)"r", 1, buf, len, net->clock_ms);
    assert_int_equal(net->tail, 1);
    Lernet__Wire__Msg *reply = lernet__wire__msg__unpack(NULL, net->q[0].len, net->q[0].buf);
    free(net->q[0].buf);
    net->head = net->tail = 0;
    assert_non_null(reply);
    return reply;
}

static void test_scope(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl,sweden-local", "nordic-wbl", "nordic-wbl");
    assert_int_equal(hm_add_events(&p->a, NULL, "sweden-local", 5), 0);
    assert_int_equal(hm_add_events(&p->a, NULL, "nordic-wbl", 3), 0);
    assert_int_equal(hm_connect(&p->a, &p->b), 0);
    assert_int_equal(hm_round(&p->b), 0);
    assert_int_equal(hm_events(&p->b), 3);
    store_feed_t *feeds;
    size_t n;
    assert_int_equal(store_feeds(p->b.st, NULL, 0, &feeds, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(feeds[0].network, "nordic-wbl");
    free(feeds);

    /* a hostile Want for the other network gets nothing */
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Want w = LERNET__WIRE__WANT__INIT;
    Lernet__Wire__Range r = LERNET__WIRE__RANGE__INIT, *rp = &r;
    r.author.data = (uint8_t *)keys_public(p->a.k);
    r.author.len = 32;
    r.network = "sweden-local";
    r.from = 1;
    r.to = 5;
    w.n_ranges = 1;
    w.ranges = &rp;
    m.body_case = LERNET__WIRE__MSG__BODY_WANT;
    m.want = &w;
    Lernet__Wire__Msg *reply = ask(p, &m);
    assert_int_equal(reply->body_case, LERNET__WIRE__MSG__BODY_EVENTS);
    assert_int_equal(reply->events->n_envelopes, 0);
    lernet__wire__msg__free_unpacked(reply, NULL);
    pair_free(p);
}

static void test_garbage_and_pushes(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    assert_int_equal(hm_connect(&p->a, &p->b), 0);
    /* undecodable bytes: an error reply, nothing stored, still serving */
    uint8_t junk[32];
    memset(junk, 0xff, sizeof junk);
    p->net->head = p->net->tail = 0;
    sync_server_recv(p->a.sync, 0, (const uint8_t *)"r", 1, junk, sizeof junk, p->net->clock_ms);
    assert_int_equal(p->net->tail, 1);
    Lernet__Wire__Msg *err = lernet__wire__msg__unpack(NULL, p->net->q[0].len, p->net->q[0].buf);
    assert_int_equal(err->body_case, LERNET__WIRE__MSG__BODY_ERROR);
    assert_int_equal(err->error->code, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED);
    lernet__wire__msg__free_unpacked(err, NULL);
    assert_int_equal(hm_run(p->net), 0);
    assert_int_equal(hm_add_events(&p->a, NULL, "nordic-wbl", 2), 0);

    /* a push of an event with a flipped signature byte is refused */
    char why[256];
    Lernet__Payload *pl = tu_workshop("Förfalskad", NULL, START);
    event_t *ev = NULL;
    keys_identity_t *k;
    assert_int_equal(keys_generate(&k), 0);
    assert_int_equal(event_create(&ev, k, "nordic-wbl", 1, NULL, p->net->clock_ms, pl, why,
                                  sizeof why),
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
    sync_server_recv(p->b.sync, 0, (const uint8_t *)"r", 1, buf, n, p->net->clock_ms);
    sync_stats_t st;
    sync_get_stats(p->b.sync, &st);
    assert_int_equal(st.events_refused, 1);
    assert_int_equal(hm_events(&p->b), 0);
    /* the honest events still arrive */
    assert_int_equal(hm_round(&p->b), 0);
    assert_int_equal(hm_events(&p->b), 2);
    /* the genuine event pushed is stored; a copy of it pushed again (here
     * with a broken signature) is dropped as known before any verification:
     * not refused, not stored twice */
    ev->sig[10] ^= 1;
    free(env);
    assert_int_equal(event_envelope(ev, &env, &len), 0);
    one = (ProtobufCBinaryData){len, env};
    n = lernet__wire__msg__pack(&m, buf);
    sync_server_recv(p->b.sync, 0, (const uint8_t *)"r", 1, buf, n, p->net->clock_ms);
    assert_int_equal(hm_events(&p->b), 3);
    ev->sig[10] ^= 1;
    free(env);
    assert_int_equal(event_envelope(ev, &env, &len), 0);
    one = (ProtobufCBinaryData){len, env};
    n = lernet__wire__msg__pack(&m, buf);
    sync_stats_t before;
    sync_get_stats(p->b.sync, &before);
    sync_server_recv(p->b.sync, 0, (const uint8_t *)"r", 1, buf, n, p->net->clock_ms);
    sync_get_stats(p->b.sync, &st);
    assert_int_equal(st.events_received, before.events_received + 1);
    assert_int_equal(st.events_refused, before.events_refused);
    assert_int_equal(st.events_known, before.events_known + 1);
    assert_int_equal(hm_events(&p->b), 3);
    free(env);
    event_free(&ev);
    keys_free(&k);
    tu_payload_free(pl);
    pair_free(p);
}


/* Issue 14 item 6: an author that equivocates (branch A at the victim,
 * 8,400 events of branch B at the relay) must not starve the other logs:
 * before, every round ended on a batch of B that applied nothing and the
 * logs after it were never asked for. Now the log is put aside and the
 * others come in the same pull. Refusal lines are bounded too. */
static void test_fork_does_not_starve(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    keys_identity_t *x = NULL, *y = NULL;
    /* x sorts before y, so its log comes first in the wants */
    do {
        keys_free(&x);
        keys_free(&y);
        assert_int_equal(keys_generate(&x), 0);
        assert_int_equal(keys_generate(&y), 0);
    } while (memcmp(keys_public(x), keys_public(y), KEYS_PUBLIC_BYTES) > 0);
    p->net->clock_ms = event_now_ms();
    assert_int_equal(hm_add_events(&p->b, x, "nordic-wbl", 10), 0);   /* branch A, victim b */
    assert_int_equal(hm_add_events(&p->a, x, "nordic-wbl", 8400), 0); /* branch B, relay a */
    assert_int_equal(hm_add_events(&p->a, y, "nordic-wbl", 100), 0);  /* an honest author */
    char logpath[600];
    snprintf(logpath, sizeof logpath, "%s/stderr.log", p->b.dir);
    fflush(stderr);
    int saved = dup(2), fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    dup2(fd, 2);
    close(fd);
    log_init(LOG_LVL_WARN, "");
    assert_int_equal(hm_connect(&p->a, &p->b), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(hm_round(&p->b), 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    log_init(LOG_LVL_ERROR, "");
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    assert_int_equal(store_head(p->b.st, keys_public(y), "nordic-wbl", &seq, head), STORE_OK);
    assert_int_equal(seq, 100); /* y's log came through despite x's fork */
    assert_int_equal(store_head(p->b.st, keys_public(x), "nordic-wbl", &seq, head), STORE_OK);
    assert_int_equal(seq, 10);
    char cmd[700], *out = NULL;
    snprintf(cmd, sizeof cmd, "grep -c 'refused event from' '%s'", logpath);
    tu_run(cmd, &out);
    long lines = out ? atol(out) : -1;
    free(out);
    fprintf(stderr, "refusal lines logged for thousands of refused events: %ld\n", lines);
    assert_true(lines >= 1 && lines <= SYNC_REFUSAL_LINES * 2);
    keys_free(&x);
    keys_free(&y);
    pair_free(p);
}

/* One event in each of n new authors' logs, stored at x in one
 * transaction (hm_add_events commits per author: too slow for thousands). */
static void add_authors(hm_node_t *x, const char *net, int n)
{
    Lernet__Payload *pl = tu_workshop("Handledarutbildning", "Supervisor training", START);
    assert_int_equal(store_begin(x->st), STORE_OK);
    for (int i = 0; i < n; i++) {
        keys_identity_t *k;
        event_t *ev = NULL;
        int outcome;
        assert_int_equal(keys_generate(&k), 0);
        assert_int_equal(event_create(&ev, k, net, 1, NULL, x->net->clock_ms, pl, NULL, 0), 0);
        assert_int_equal(store_add(x->st, ev, &outcome, NULL, NULL, 0), STORE_OK);
        event_free(&ev);
        keys_free(&k);
    }
    assert_int_equal(store_commit(x->st), STORE_OK);
    tu_payload_free(pl);
}

/* Issue 16 item 5: a Heads reply holds at most SYNC_MAX_HEADS heads. With
 * more logs than that in the buckets that differ, the server used to send
 * the first 8,192 (in author order) every round and say nothing of the
 * rest: once those were in sync, the client found nothing to ask for and
 * the logs past them never came. Now Heads says `more` and the client
 * asks for the next page after the last head it got. */
static void test_heads_continue_past_bound(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    const int n = SYNC_MAX_HEADS + 808;
    add_authors(&p->a, "nordic-wbl", n);
    add_authors(&p->b, "nordic-wbl", 100); /* logs only b has, in most buckets */
    /* only b pulls (a's pulls and pushes would bring it b's logs) */
    sync_client_connected(p->b.sync, 0, p->net->clock_ms);
    assert_int_equal(hm_run(p->net), 0);
    for (int i = 0; i < 3 && hm_events(&p->b) < (uint64_t)n + 100; i++)
        assert_int_equal(hm_round(&p->b), 0);
    fprintf(stderr, "%d logs of one event each, more than the %d heads of one reply: %llu "
                    "arrived\n", n, SYNC_MAX_HEADS, (unsigned long long)hm_events(&p->b) - 100);
    assert_int_equal(hm_events(&p->b), n + 100);
    /* what a lacks is counted once over the pages: a log of b's past the
     * end of one page is not taken for missing there */
    json_t *peers = sync_peers_json(p->b.sync, p->net->clock_ms);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(peers, 0), "they_lack")),
                     100);
    json_decref(peers);
    /* once a has b's logs too, a round finds the two in sync */
    sync_client_connected(p->a.sync, 0, p->net->clock_ms);
    assert_int_equal(hm_run(p->net), 0);
    assert_int_equal(hm_events(&p->a), n + 100);
    sync_stats_t before, after;
    sync_get_stats(p->b.sync, &before);
    assert_int_equal(hm_round(&p->b), 0);
    sync_get_stats(p->b.sync, &after);
    assert_int_equal(after.rounds_in_sync, before.rounds_in_sync + 1);
    pair_free(p);
}

/* Issue 16 item 2: every in-sync round used to digest every log in scope
 * from SQLite (partners × logs at a hub). The digest of a scope is now
 * made once per change of the store and shared by every round in the same
 * scope; a change (an event stored here, or by another connection) makes
 * it again, and the new event is found. */
static void test_digest_made_once_per_change(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    add_authors(&p->a, "nordic-wbl", 2000);
    assert_int_equal(hm_connect(&p->a, &p->b), 0);
    assert_int_equal(hm_events(&p->b), 2000);
    sync_stats_t a0, a1, b0, b1;
    sync_get_stats(p->a.sync, &a0);
    sync_get_stats(p->b.sync, &b0);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(hm_round(&p->b), 0);
        assert_int_equal(hm_round(&p->a), 0);
    }
    sync_get_stats(p->a.sync, &a1);
    sync_get_stats(p->b.sync, &b1);
    fprintf(stderr, "100 in-sync rounds over 2,000 logs: %llu digests made at a, %llu at b\n",
            (unsigned long long)(a1.digests_made - a0.digests_made),
            (unsigned long long)(b1.digests_made - b0.digests_made));
    assert_int_equal(a1.rounds_in_sync - a0.rounds_in_sync, 50);
    assert_int_equal(b1.rounds_in_sync - b0.rounds_in_sync, 50);
    assert_true(a1.digests_made - a0.digests_made <= 1);
    assert_true(b1.digests_made - b0.digests_made <= 1);
    /* a new event at a: the next round finds the roots apart and brings it */
    assert_int_equal(hm_add_events(&p->a, NULL, "nordic-wbl", 1), 0);
    assert_int_equal(hm_round(&p->b), 0);
    assert_int_equal(hm_events(&p->b), 2001);
    /* a commit by another connection to b's store (another process) */
    char path[600];
    snprintf(path, sizeof path, "%s/store.db", p->b.dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sync_get_stats(p->b.sync, &b0);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE other_process(x); DROP TABLE other_process",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(hm_round(&p->b), 0);
    sync_get_stats(p->b.sync, &b1);
    assert_true(b1.digests_made > b0.digests_made);
    pair_free(p);
}

/* The digests kept in memory follow each stored batch in place (only the
 * buckets of the logs it moved hashed again): after every round of a
 * random mix of changes (new authors, more events in known logs, certified
 * signing keys whose certificates come first, a second network), the
 * digest kept equals the one made afresh from the store, and rounds end in
 * sync. */
static void test_digest_follows_batches(void **state)
{
    (void)state;
    const char *nets = "nordic-wbl,malardalen-skills", *two[] = {"nordic-wbl",
                                                                  "malardalen-skills"};
    pair_t *p = pair_new(nets, nets, nets);
    keys_identity_t *signer = NULL;
    assert_int_equal(keys_generate(&signer), 0);
    add_authors(&p->a, two[0], 300);
    assert_int_equal(hm_connect(&p->a, &p->b), 0);
    srand(1616);
    sync_stats_t b0, b1;
    sync_get_stats(p->b.sync, &b0);
    for (int i = 0; i < 40; i++) {
        const char *net = two[rand() % 2];
        switch (rand() % 4) {
        case 0:
            add_authors(&p->a, net, 1 + rand() % 40);
            break;
        case 1:
            assert_int_equal(hm_add_events(&p->a, NULL, net, 1 + rand() % 30), 0);
            break;
        case 2:
            assert_int_equal(hm_add_signed(&p->a, signer, net, 1 + rand() % 5, 0), 0);
            break;
        default:
            assert_int_equal(hm_add_events(&p->b, NULL, net, 1 + rand() % 10), 0);
        }
        assert_int_equal(hm_round(&p->b), 0);
        assert_int_equal(hm_round(&p->a), 0);
        assert_int_equal(sync_digest_check(p->b.sync), 0);
        assert_int_equal(sync_digest_check(p->a.sync), 0);
    }
    assert_int_equal(hm_events(&p->a), hm_events(&p->b));
    sync_get_stats(p->b.sync, &b1);
    fprintf(stderr, "40 rounds of random changes: %llu digests kept up to date in place, %llu "
                    "made afresh at b\n",
            (unsigned long long)(b1.digests_followed - b0.digests_followed),
            (unsigned long long)(b1.digests_made - b0.digests_made));
    assert_true(b1.digests_followed - b0.digests_followed >= 10);
    uint64_t before = b1.rounds_in_sync;
    assert_int_equal(hm_round(&p->b), 0);
    sync_get_stats(p->b.sync, &b1);
    assert_int_equal(b1.rounds_in_sync, before + 1);
    keys_free(&signer);
    pair_free(p);
}

/* Pages of heads and offers together: a school that only dials holds
 * more logs than one Heads reply names, and the hub (which lists it
 * without an endpoint) lacks them all. The school's offers cover every
 * page, not only the first, and its count of what the hub lacks is the
 * whole round's, not the last page's. */
static void test_offers_past_heads_bound(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    const int n = SYNC_MAX_HEADS + 808;
    hm_no_endpoint(&p->a); /* a is the hub: b dials it, it never dials b */
    add_authors(&p->b, "nordic-wbl", n);
    add_authors(&p->a, "nordic-wbl", 100);
    sync_client_connected(p->b.sync, 0, p->net->clock_ms);
    assert_int_equal(hm_run(p->net), 0);
    json_t *peers = sync_peers_json(p->b.sync, p->net->clock_ms);
    uint64_t counted = (uint64_t)json_integer_value(
        json_object_get(json_array_get(peers, 0), "they_lack"));
    json_decref(peers);
    for (int i = 0; i < 4 && hm_events(&p->a) < (uint64_t)n + 100; i++)
        assert_int_equal(hm_round(&p->b), 0);
    fprintf(stderr, "%d logs offered by a node that only dials, over pages of %d heads: %llu "
                    "arrived; it counted %llu lacking\n", n, SYNC_MAX_HEADS,
            (unsigned long long)hm_events(&p->a) - 100, (unsigned long long)counted);
    assert_int_equal(hm_events(&p->a), n + 100);
    assert_int_equal(hm_events(&p->b), n + 100);
    /* the first round's figure, less what was acknowledged since: never
     * more than what the hub lacked, never counted twice over pages */
    assert_true(counted <= (uint64_t)n);
    sync_stats_t before, after;
    sync_get_stats(p->b.sync, &before);
    assert_int_equal(hm_round(&p->b), 0);
    sync_get_stats(p->b.sync, &after);
    assert_int_equal(after.rounds_in_sync, before.rounds_in_sync + 1);
    pair_free(p);
}

/* Sends one raw message to a's server side from connection rid; returns
 * how many replies came and, when one did, the reply in *out. */
static size_t ask_rid(pair_t *p, const char *rid, const Lernet__Wire__Msg *m,
                      Lernet__Wire__Msg **out)
{
    size_t len = lernet__wire__msg__get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    lernet__wire__msg__pack(m, buf);
    hm_net_t *net = p->net;
    net->head = net->tail = 0;
    sync_server_recv(p->a.sync, 0, (const uint8_t *)rid, strlen(rid), buf, len, net->clock_ms);
    free(buf);
    size_t n = net->tail;
    *out = NULL;
    if (n == 1) {
        *out = lernet__wire__msg__unpack(NULL, net->q[0].len, net->q[0].buf);
        assert_non_null(*out);
    }
    for (size_t i = 0; i < n; i++)
        free(net->q[i].buf);
    net->head = net->tail = 0;
    return n;
}

/* The reply is an Error with this code; frees it. */
static void expect_error(Lernet__Wire__Msg *r, int code)
{
    assert_non_null(r);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_ERROR);
    assert_int_equal(r->error->code, code);
    lernet__wire__msg__free_unpacked(r, NULL);
}

static size_t send_hello(pair_t *p, const char *rid, uint32_t protocol, Lernet__Wire__Msg **out)
{
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Hello h = LERNET__WIRE__HELLO__INIT;
    char *nets[] = {"nordic-wbl"};
    h.protocol = protocol;
    h.n_networks = 1;
    h.networks = nets;
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO;
    m.hello = &h;
    return ask_rid(p, rid, &m, out);
}

static size_t send_get_heads(pair_t *p, size_t bitmap_len, size_t after_len,
                             Lernet__Wire__Msg **out)
{
    uint8_t bitmap[8], after[33] = {0};
    memset(bitmap, 0xff, sizeof bitmap);
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__GetHeads g = LERNET__WIRE__GET_HEADS__INIT;
    g.buckets.data = bitmap;
    g.buckets.len = bitmap_len;
    g.after_author.data = after;
    g.after_author.len = after_len;
    m.body_case = LERNET__WIRE__MSG__BODY_GET_HEADS;
    m.get_heads = &g;
    return ask_rid(p, "s", &m, out);
}

/* A Want of n copies of range r, for at most max events. */
static size_t send_want(pair_t *p, Lernet__Wire__Range *r, size_t n, uint32_t max,
                        Lernet__Wire__Msg **out)
{
    Lernet__Wire__Range **rp = calloc(n, sizeof *rp);
    for (size_t i = 0; i < n; i++)
        rp[i] = r;
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Want w = LERNET__WIRE__WANT__INIT;
    w.n_ranges = n;
    w.ranges = rp;
    w.max_events = max;
    m.body_case = LERNET__WIRE__MSG__BODY_WANT;
    m.want = &w;
    size_t replies = ask_rid(p, "s", &m, out);
    free(rp);
    return replies;
}

/* A GetChunk's replies (docs/protocol.md, "Attachments"): none before
 * Hello but CODE_NO_SESSION; "not_found" from a node that serves no files;
 * "bad_request" for a hash of another length; four wait unanswered per
 * session and a fifth is "busy"; sync_attach_work answers one per call
 * (here "not_found": no item lists the hash). */
static Lernet__Wire__Msg chunk_msg(Lernet__Wire__GetChunk *g, uint8_t *hash, size_t len)
{
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    lernet__wire__get_chunk__init(g);
    g->hash = (ProtobufCBinaryData){len, hash};
    m.body_case = LERNET__WIRE__MSG__BODY_GET_CHUNK;
    m.get_chunk = g;
    return m;
}

static void expect_refused(Lernet__Wire__Msg *r, const char *why)
{
    assert_non_null(r);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_CHUNK);
    assert_string_equal(r->chunk->refused, why);
    assert_int_equal(r->chunk->data.len, 0);
    lernet__wire__msg__free_unpacked(r, NULL);
}

static void test_chunk_requests(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    uint8_t hash[EVENT_HASH_BYTES];
    Lernet__Wire__GetChunk g;
    Lernet__Wire__Msg *r, m = chunk_msg(&g, hash, sizeof hash);
    randombytes_buf(hash, sizeof hash);
    assert_int_equal(ask_rid(p, "s", &m, &r), 1);
    expect_error(r, LERNET__WIRE__ERROR__CODE__CODE_NO_SESSION);
    assert_int_equal(send_hello(p, "s", SYNC_PROTOCOL, &r), 1);
    lernet__wire__msg__free_unpacked(r, NULL);
    assert_int_equal(ask_rid(p, "s", &m, &r), 1);
    expect_refused(r, "not_found"); /* serves no files yet */

    char *home = tu_tempdir();
    assert_int_equal(sync_attachments(p->a.sync, home), 0);
    Lernet__Wire__Msg bad = chunk_msg(&(Lernet__Wire__GetChunk){0}, hash, 31);
    assert_int_equal(ask_rid(p, "s", &bad, &r), 1);
    expect_refused(r, "bad_request");
    for (int i = 0; i < 4; i++) /* they wait: event requests go first */
        assert_int_equal(ask_rid(p, "s", &m, &r), 0);
    assert_int_equal(ask_rid(p, "s", &m, &r), 1);
    expect_refused(r, "busy");
    hm_net_t *net = p->net;
    for (int i = 0; i < 4; i++) {
        net->head = net->tail = 0;
        assert_true(sync_attach_work(p->a.sync, net->clock_ms) == (i < 3));
        assert_int_equal(net->tail, 1);
        expect_refused(lernet__wire__msg__unpack(NULL, net->q[0].len, net->q[0].buf),
                       "not_found");
        free(net->q[0].buf);
    }
    net->head = net->tail = 0;
    sync_attach_work(p->a.sync, net->clock_ms);
    assert_int_equal(net->tail, 0);
    pair_free(p);
    tu_rmtree(&home);
}

/* A resource, reply, update or erasure stored here has the list of files
 * looked at within 20 ms (a new file is fetched, and our own served, at
 * once); other events leave it to the 500 ms look. The list was read 500 ms
 * after a partner's resource came (bench attach: a fetch began 540 ms
 * after the publish). */
static void test_attach_prompt(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    char *home = tu_tempdir(), *home_b = tu_tempdir();
    assert_int_equal(hm_connect(&p->a, &p->b), 0);
    assert_int_equal(sync_attachments(p->a.sync, home), 0);
    assert_int_equal(sync_attachments(p->b.sync, home_b), 0);
    int64_t t = p->net->clock_ms;
    sync_attach_work(p->a.sync, t); /* the list read, at t */
    sync_attach_work(p->b.sync, t);
    assert_int_equal(sync_attach_due(p->a.sync, t), t + 500);
    Lernet__Payload *w = tu_workshop("Arbetsplatslärande", "Workplace learning", 1796112000);
    Lernet__Payload *r = tu_resource("Metodbok", 1);
    event_t *ev = NULL, *ev2 = NULL; /* made at the harness's clock, as B judges times by it */
    int outcome = -1;
    assert_int_equal(event_create(&ev, p->a.k, "nordic-wbl", 1, NULL, t, w, NULL, 0), 0);
    assert_int_equal(store_add(p->a.st, ev, &outcome, NULL, NULL, 0), STORE_OK);
    sync_push(p->a.sync, ev, -1);
    assert_int_equal(sync_attach_due(p->a.sync, t), t + 500);
    assert_int_equal(hm_round(&p->b), 0); /* B pulls the workshop: nothing to look at */
    assert_int_equal(sync_attach_due(p->b.sync, t), t + 500);
    assert_int_equal(event_create(&ev2, p->a.k, "nordic-wbl", 2, ev->id, t + 1, r, NULL, 0), 0);
    assert_int_equal(store_add(p->a.st, ev2, &outcome, NULL, NULL, 0), STORE_OK);
    sync_push(p->a.sync, ev2, -1);
    /* at t + 20, or later when the last reading of the list took more than
     * a millisecond (the wait is at least 20 times that reading: a loaded
     * machine, ASan), but well before the 500 ms look */
    assert_in_range(sync_attach_due(p->a.sync, t), t + 20, t + 250);
    assert_int_equal(hm_round(&p->b), 0); /* and the resource, stored at B: B looks too */
    assert_in_range(sync_attach_due(p->b.sync, t), t + 20, t + 250);
    /* due then (not at a fixed t + 30: on a loaded machine the wait can
     * be 40 ms, the reading having taken 2), and after the look, 500 ms on */
    int64_t due = sync_attach_due(p->a.sync, t);
    assert_int_equal(sync_attach_due(p->a.sync, due), due); /* due: look now */
    sync_attach_work(p->a.sync, due);
    assert_int_equal(sync_attach_due(p->a.sync, due), due + 500);
    event_free(&ev);
    event_free(&ev2);
    tu_payload_free(w);
    tu_payload_free(r);
    pair_free(p);
    tu_rmtree(&home);
    tu_rmtree(&home_b);
}

/* Issue 16 item 5: what each out-of-bounds or hostile request gets, as
 * docs/protocol.md ("What a request gets") lists it, one row at a time. */
static void test_request_replies(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    assert_int_equal(hm_add_events(&p->a, NULL, "nordic-wbl", 12), 0);
    Lernet__Wire__Msg *r;
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Summary sum = LERNET__WIRE__SUMMARY__INIT;
    uint8_t root[3] = {1, 2, 3};
    sum.root.data = root;
    sum.root.len = sizeof root;
    m.body_case = LERNET__WIRE__MSG__BODY_SUMMARY;
    m.summary = &sum;

    /* a request before Hello: CODE_NO_SESSION */
    assert_int_equal(ask_rid(p, "s", &m, &r), 1);
    expect_error(r, LERNET__WIRE__ERROR__CODE__CODE_NO_SESSION);
    /* another protocol version: CODE_VERSION, and no session */
    assert_int_equal(send_hello(p, "s", 2, &r), 1);
    expect_error(r, LERNET__WIRE__ERROR__CODE__CODE_VERSION);
    assert_int_equal(ask_rid(p, "s", &m, &r), 1);
    expect_error(r, LERNET__WIRE__ERROR__CODE__CODE_NO_SESSION);
    assert_int_equal(send_hello(p, "s", SYNC_PROTOCOL, &r), 1);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_HELLO_ACK);
    assert_int_equal(r->hello_ack->n_networks, 1); /* the key logs are not listed */
    lernet__wire__msg__free_unpacked(r, NULL);

    /* a root that is not 16 bytes: differs, so the buckets come */
    assert_int_equal(ask_rid(p, "s", &m, &r), 1);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_BUCKETS);
    assert_int_equal(r->buckets->digests.len, SYNC_NBUCKETS * SYNC_BUCKET_BYTES);
    lernet__wire__msg__free_unpacked(r, NULL);

    /* GetHeads: a bitmap of other than 4 bytes, a cursor not a key: CODE_MALFORMED */
    assert_int_equal(send_get_heads(p, 3, 0, &r), 1);
    expect_error(r, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED);
    assert_int_equal(send_get_heads(p, 5, 0, &r), 1);
    expect_error(r, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED);
    assert_int_equal(send_get_heads(p, 4, 31, &r), 1);
    expect_error(r, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED);
    /* every bucket: a's one log (a holds no key logs of its own here) */
    assert_int_equal(send_get_heads(p, 4, 0, &r), 1);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_HEADS);
    assert_int_equal(r->heads->n_heads, 1);
    assert_int_equal(r->heads->heads[0]->seq, 12);
    assert_false(r->heads->more);
    lernet__wire__msg__free_unpacked(r, NULL);
    /* the bit order: bucket b is 1 << (b % 8) of byte b / 8 */
    unsigned b = sync_bucket_of(keys_public(p->a.k), "nordic-wbl");
    for (int only = 1; only >= 0; only--) {
        uint8_t bits[4];
        memset(bits, only ? 0 : 0xff, sizeof bits);
        bits[b / 8] ^= (uint8_t)(1u << (b % 8));
        Lernet__Wire__GetHeads one = LERNET__WIRE__GET_HEADS__INIT;
        one.buckets.data = bits;
        one.buckets.len = 4;
        Lernet__Wire__Msg om = LERNET__WIRE__MSG__INIT;
        om.body_case = LERNET__WIRE__MSG__BODY_GET_HEADS;
        om.get_heads = &one;
        assert_int_equal(ask_rid(p, "s", &om, &r), 1);
        assert_int_equal(r->heads->n_heads, only ? 1 : 0);
        lernet__wire__msg__free_unpacked(r, NULL);
    }
    /* after the all-0xff key nothing follows: an empty page */
    uint8_t ff[32];
    memset(ff, 0xff, sizeof ff);
    Lernet__Wire__GetHeads g = LERNET__WIRE__GET_HEADS__INIT;
    uint8_t bitmap[4] = {0xff, 0xff, 0xff, 0xff};
    g.buckets.data = bitmap;
    g.buckets.len = 4;
    g.after_author.data = ff;
    g.after_author.len = 32;
    Lernet__Wire__Msg gm = LERNET__WIRE__MSG__INIT;
    gm.body_case = LERNET__WIRE__MSG__BODY_GET_HEADS;
    gm.get_heads = &g;
    assert_int_equal(ask_rid(p, "s", &gm, &r), 1);
    assert_int_equal(r->heads->n_heads, 0);
    lernet__wire__msg__free_unpacked(r, NULL);

    /* Want: more than 256 ranges: CODE_MALFORMED */
    Lernet__Wire__Range range = LERNET__WIRE__RANGE__INIT;
    range.author.data = (uint8_t *)keys_public(p->a.k);
    range.author.len = 32;
    range.network = "nordic-wbl";
    range.from = 1;
    range.to = 12;
    assert_int_equal(send_want(p, &range, SYNC_MAX_RANGES + 1, 0, &r), 1);
    expect_error(r, LERNET__WIRE__ERROR__CODE__CODE_MALFORMED);
    /* max_events bounds the batch and `more` says it stopped there */
    assert_int_equal(send_want(p, &range, 1, 5, &r), 1);
    assert_int_equal(r->body_case, LERNET__WIRE__MSG__BODY_EVENTS);
    assert_int_equal(r->events->n_envelopes, 5);
    assert_true(r->events->more);
    lernet__wire__msg__free_unpacked(r, NULL);
    /* 0: the server's bound; the same range twice is served twice */
    assert_int_equal(send_want(p, &range, 2, 0, &r), 1);
    assert_int_equal(r->events->n_envelopes, 24);
    assert_false(r->events->more);
    lernet__wire__msg__free_unpacked(r, NULL);
    /* nonsense ranges are skipped: an empty batch, not an error */
    range.from = 0;
    assert_int_equal(send_want(p, &range, 1, 0, &r), 1);
    assert_int_equal(r->events->n_envelopes, 0);
    lernet__wire__msg__free_unpacked(r, NULL);
    range.from = 5, range.to = 4;
    assert_int_equal(send_want(p, &range, 1, 0, &r), 1);
    assert_int_equal(r->events->n_envelopes, 0);
    lernet__wire__msg__free_unpacked(r, NULL);
    range.from = 1, range.to = 12, range.author.len = 31;
    assert_int_equal(send_want(p, &range, 1, 0, &r), 1);
    assert_int_equal(r->events->n_envelopes, 0);
    lernet__wire__msg__free_unpacked(r, NULL);
    range.author.len = 32, range.network = "@keys"; /* a's key log: none stored */
    assert_int_equal(send_want(p, &range, 1, 0, &r), 1);
    assert_int_equal(r->events->n_envelopes, 0);
    lernet__wire__msg__free_unpacked(r, NULL);

    /* a reply sent as a request: no answer */
    Lernet__Wire__Msg hm = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Heads heads = LERNET__WIRE__HEADS__INIT;
    hm.body_case = LERNET__WIRE__MSG__BODY_HEADS;
    hm.heads = &heads;
    assert_int_equal(ask_rid(p, "s", &hm, &r), 0);
    /* a Push, even one over the batch bound: never an answer */
    Lernet__Wire__Msg pm = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Events ev = LERNET__WIRE__EVENTS__INIT;
    ProtobufCBinaryData *envs = calloc(SYNC_BATCH_EVENTS + 1, sizeof *envs);
    uint8_t junk[4] = {1, 2, 3, 4};
    for (size_t i = 0; i <= SYNC_BATCH_EVENTS; i++)
        envs[i] = (ProtobufCBinaryData){sizeof junk, junk};
    ev.envelopes = envs;
    ev.n_envelopes = SYNC_BATCH_EVENTS + 1;
    pm.body_case = LERNET__WIRE__MSG__BODY_PUSH;
    pm.push = &ev;
    sync_stats_t before, after;
    sync_get_stats(p->a.sync, &before);
    assert_int_equal(ask_rid(p, "t", &pm, &r), 0);
    sync_get_stats(p->a.sync, &after);
    assert_int_equal(after.events_received, before.events_received); /* dropped unread */
    /* Events.extra out of its bounds: more extras than envelopes, or more
     * than SYNC_BATCH_EXTRA, or a batch over the bound besides its extras:
     * dropped unread */
    const struct { size_t n; uint32_t extra; } bad[] = {
        {1, 2}, {SYNC_BATCH_EXTRA + 1, SYNC_BATCH_EXTRA + 1}, {SYNC_BATCH_EVENTS + 1, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ev.n_envelopes = bad[i].n;
        ev.extra = bad[i].extra;
        assert_int_equal(ask_rid(p, "t", &pm, &r), 0);
        sync_get_stats(p->a.sync, &after);
        assert_int_equal(after.events_received, before.events_received);
    }
    /* within them (4,000 and 1 extra): read, and each refused on its own */
    ev.n_envelopes = SYNC_BATCH_EVENTS + 1;
    ev.extra = 1;
    assert_int_equal(ask_rid(p, "t", &pm, &r), 0);
    sync_get_stats(p->a.sync, &after);
    assert_int_equal(after.events_received, before.events_received + SYNC_BATCH_EVENTS + 1);
    sync_get_stats(p->a.sync, &before);
    ev.extra = 0;
    ev.n_envelopes = 1;
    assert_int_equal(ask_rid(p, "t", &pm, &r), 0);
    sync_get_stats(p->a.sync, &after);
    assert_int_equal(after.events_refused, before.events_refused + 1); /* read and refused */
    free(envs);
    pair_free(p);

    /* a partner that may have no network here: CODE_SCOPE, at Hello */
    p = pair_new("nordic-wbl", "nordic-wbl", "sweden-local");
    assert_int_equal(send_hello(p, "s", SYNC_PROTOCOL, &r), 1);
    expect_error(r, LERNET__WIRE__ERROR__CODE__CODE_SCOPE);
    pair_free(p);
}

/* Issue 16 item 5: a partner speaking another protocol version is asked
 * again after SYNC_VERSION_BACKOFF_ROUNDS rounds, however the client learnt
 * it (a HelloAck waited 10 rounds, an Error 30). */
static void test_version_backoff(void **state)
{
    (void)state;
    pair_t *p = pair_new("nordic-wbl", "nordic-wbl", "nordic-wbl");
    hm_net_t *net = p->net;
    int64_t round = p->b.cfg.sync_interval_ms;
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__HelloAck a = LERNET__WIRE__HELLO_ACK__INIT;
    Lernet__Wire__Error e = LERNET__WIRE__ERROR__INIT;
    a.protocol = SYNC_PROTOCOL + 1;
    e.code = LERNET__WIRE__ERROR__CODE__CODE_VERSION;
    e.message = "protocol version 1 is not supported";
    for (int way = 0; way < 2; way++) {
        uint8_t buf[256];
        m.body_case = way ? LERNET__WIRE__MSG__BODY_ERROR : LERNET__WIRE__MSG__BODY_HELLO_ACK;
        if (way)
            m.error = &e; /* one member of a oneof */
        else
            m.hello_ack = &a;
        size_t len = lernet__wire__msg__pack(&m, buf);
        sync_client_connected(p->b.sync, 0, net->clock_ms); /* sends a Hello */
        for (size_t i = net->head; i < net->tail; i++)
            free(net->q[i % HM_QMAX].buf);
        net->head = net->tail = 0;
        sync_client_recv(p->b.sync, 0, buf, len, net->clock_ms);
        int64_t t0 = net->clock_ms;
        net->clock_ms = t0 + (SYNC_VERSION_BACKOFF_ROUNDS - 1) * round;
        sync_tick(p->b.sync, net->clock_ms);
        assert_int_equal(net->tail, 0); /* not asked again yet */
        net->clock_ms = t0 + SYNC_VERSION_BACKOFF_ROUNDS * round;
        sync_tick(p->b.sync, net->clock_ms);
        assert_int_equal(net->tail, 1); /* a Hello again */
        free(net->q[0].buf);
        net->head = net->tail = 0;
    }
    pair_free(p);
}

/* x, the coordinator of net, states that y is a member (stored at x). */
static void admit(hm_node_t *x, hm_node_t *y, const char *net)
{
    Lernet__Membership m = LERNET__MEMBERSHIP__INIT;
    Lernet__Payload pl = LERNET__PAYLOAD__INIT;
    event_t *ev = NULL;
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    int outcome;
    m.member.data = (uint8_t *)keys_public(y->k);
    m.member.len = KEYS_PUBLIC_BYTES;
    m.name = y->cfg.name;
    m.endpoint = "";
    pl.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP;
    pl.membership = &m;
    assert_int_equal(store_head(x->st, keys_public(x->k), net, &seq, head), STORE_OK);
    assert_int_equal(event_create(&ev, x->k, net, seq + 1, seq ? head : NULL, x->net->clock_ms,
                                  &pl, NULL, 0),
                     EV_OK);
    assert_int_equal(store_add(x->st, ev, &outcome, NULL, NULL, 0), STORE_OK);
    assert_int_equal(outcome, STORE_APPLIED);
    event_free(&ev);
}

/* Issue 16 item 5 (scope): both sides of a session must compute digests
 * over the same networks. A client asked in its Hello for every network it
 * lists for the partner, also one it does not let the partner have (a
 * managed network the partner is not a member of, as the client sees
 * it); the server put it in scope, the client did not, so the roots never
 * matched and every Heads reply named a log outside the client's scope:
 * "malformed heads", and nothing came at all, not even the open network's
 * events. Now a Hello asks only for what the client may exchange. */
static void test_scope_same_both_sides(void **state)
{
    (void)state;
    const char *nets = "nordic-wbl,sweden-local";
    pair_t *p = pair_new(nets, nets, nets);
    /* b manages sweden-local and never admitted a; a sees it as open */
    assert_int_equal(store_trust(p->b.st, "sweden-local", keys_public(p->b.k)), STORE_OK);
    assert_int_equal(hm_add_events(&p->a, NULL, "nordic-wbl", 5), 0);
    assert_int_equal(hm_add_events(&p->a, NULL, "sweden-local", 3), 0);
    sync_client_connected(p->b.sync, 0, p->net->clock_ms);
    assert_int_equal(hm_run(p->net), 0);
    assert_int_equal(hm_events(&p->b), 5);
    sync_stats_t before, after;
    sync_get_stats(p->b.sync, &before);
    assert_int_equal(hm_round(&p->b), 0);
    sync_get_stats(p->b.sync, &after);
    assert_int_equal(after.rounds_in_sync, before.rounds_in_sync + 1);
    /* b admits a: its rights grow, the client asks again with a Hello */
    admit(&p->b, &p->a, "sweden-local");
    sync_rescope(p->b.sync, p->net->clock_ms);
    assert_int_equal(hm_round(&p->b), 0);
    assert_int_equal(hm_events(&p->b), 5 + 3 + 1);
    pair_free(p);

    /* the mirror case: the server's rights for its client grow under an
     * open session (a manages sweden-local and admits b): the session is
     * ended so that the client says Hello again, or the server would
     * digest a network the client's scope lacks, and every Heads reply
     * would be malformed to it */
    p = pair_new(nets, nets, nets);
    assert_int_equal(store_trust(p->a.st, "sweden-local", keys_public(p->a.k)), STORE_OK);
    assert_int_equal(hm_add_events(&p->a, NULL, "nordic-wbl", 5), 0);
    assert_int_equal(hm_add_events(&p->a, NULL, "sweden-local", 3), 0);
    sync_client_connected(p->b.sync, 0, p->net->clock_ms);
    assert_int_equal(hm_run(p->net), 0);
    assert_int_equal(hm_events(&p->b), 5);
    admit(&p->a, &p->b, "sweden-local");
    sync_rescope(p->a.sync, p->net->clock_ms);
    assert_int_equal(hm_run(p->net), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(hm_round(&p->b), 0);
    assert_int_equal(hm_events(&p->b), 5 + 4); /* a's sweden-local log, the admission last */
    sync_get_stats(p->b.sync, &before);
    assert_int_equal(hm_round(&p->b), 0);
    sync_get_stats(p->b.sync, &after);
    assert_int_equal(after.rounds_in_sync, before.rounds_in_sync + 1);
    pair_free(p);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converge_and_in_sync_bytes),
        cmocka_unit_test(test_one_missing_event),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_garbage_and_pushes),
        cmocka_unit_test(test_fork_does_not_starve),
        cmocka_unit_test(test_heads_continue_past_bound),
        cmocka_unit_test(test_offers_past_heads_bound),
        cmocka_unit_test(test_digest_made_once_per_change),
        cmocka_unit_test(test_digest_follows_batches),
        cmocka_unit_test(test_request_replies),
        cmocka_unit_test(test_chunk_requests),
        cmocka_unit_test(test_attach_prompt),
        cmocka_unit_test(test_version_backoff),
        cmocka_unit_test(test_scope_same_both_sides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
