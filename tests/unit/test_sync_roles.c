/*
 * test_sync_roles: sync over whichever connection exists, in-process (two
 * sync modules joined by in-memory queues, harness_mem). A school that
 * only dials (no listen address: the hub lists it without an endpoint, or
 * with one it cannot reach) gets its whole backlog to the hub as soon as
 * it dials in, a batch at a time, each acknowledged before the next; key
 * logs first, also under an event pushed while its backlog is on the way;
 * partners that both dial do the work once (no offers); and what each
 * side's `lernet peers` says is what the last exchange found.
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

#include "harness/harness_mem.h"
#include "harness/testutil.h"
#include "proto/wire.pb-c.h"
#include "sync/sync.h"
#include "util/log.h"

#define NET "nordic-wbl"
#define HUB_NAME "Region Örebro län"
#define SCHOOL_NAME "Lärcentrum Östhammar"

/* A school S and a hub H, partners in NET. */
typedef struct world {
    hm_net_t *net;
    hm_node_t s, h;
    /* what passed, as the observer saw it */
    size_t offers, acks, pushes, out, max_out, offered_events;
    int drop_offers;     /* the observer drops every Offer */
    int strip_offer_cap; /* the observer removes "offer-v1" from HelloAcks */
    /* the hub publishes this (a certified key's first event) just before a
     * GetHeads reaches it, once */
    const keys_identity_t *publish_at_get_heads;
} world_t;

static Lernet__Wire__Msg *decode(const hm_frame_t *f)
{
    return lernet__wire__msg__unpack(NULL, f->len, f->buf);
}

/* A HelloAck as a server without offer acks sends it. */
static void strip_cap(hm_frame_t *f, Lernet__Wire__Msg *m)
{
    Lernet__Wire__HelloAck *a = m->hello_ack;
    char **orig = a->capabilities, *keep[16];
    size_t n = a->n_capabilities, k = 0;
    for (size_t i = 0; i < n && k < 16; i++)
        if (strcmp(orig[i], "offer-v1") != 0)
            keep[k++] = orig[i];
    a->capabilities = keep;
    a->n_capabilities = k;
    size_t len = lernet__wire__msg__get_packed_size(m);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    lernet__wire__msg__pack(m, buf);
    a->capabilities = orig; /* free_unpacked frees what unpack made */
    a->n_capabilities = n;
    free(f->buf);
    f->buf = buf;
    f->len = len;
}

static int observe(void *ctx, hm_frame_t *f)
{
    world_t *w = ctx;
    Lernet__Wire__Msg *m = decode(f);
    int drop = 0;
    assert_non_null(m);
    switch (m->body_case) {
    case LERNET__WIRE__MSG__BODY_OFFER:
        w->offers++;
        w->offered_events += m->offer->n_envelopes;
        drop = w->drop_offers;
        if (!drop && ++w->out > w->max_out)
            w->max_out = w->out;
        break;
    case LERNET__WIRE__MSG__BODY_OFFER_ACK:
        w->acks++;
        w->out--;
        break;
    case LERNET__WIRE__MSG__BODY_PUSH:
        w->pushes++;
        break;
    case LERNET__WIRE__MSG__BODY_HELLO_ACK:
        if (w->strip_offer_cap)
            strip_cap(f, m);
        break;
    case LERNET__WIRE__MSG__BODY_GET_HEADS:
        if (w->publish_at_get_heads && f->to == &w->h) {
            assert_int_equal(hm_add_signed(&w->h, w->publish_at_get_heads, NET, 1, 0), 0);
            w->publish_at_get_heads = NULL;
        }
        break;
    default:
        break;
    }
    lernet__wire__msg__free_unpacked(m, NULL);
    return drop;
}

/* S dials H; H lists S without an endpoint unless both_dial. */
static world_t *world_new(int both_dial)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->net = calloc(1, sizeof *w->net);
    assert_non_null(w->net);
    assert_int_equal(hm_node_init(&w->s, w->net, SCHOOL_NAME, NET), 0);
    assert_int_equal(hm_node_init(&w->h, w->net, HUB_NAME, NET), 0);
    assert_int_equal(hm_link(&w->s, &w->h, NET), 0);
    if (!both_dial)
        hm_no_endpoint(&w->h);
    w->net->observe = observe;
    w->net->observe_ctx = w;
    return w;
}

static void world_free(world_t *w)
{
    hm_node_free(&w->s);
    hm_node_free(&w->h);
    free(w->net);
    free(w);
}

/* x's status of its one partner (new reference). */
static json_t *status_of(hm_node_t *x)
{
    json_t *arr = sync_peers_json(x->sync, x->net->clock_ms);
    json_t *p = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    assert_non_null(p);
    return p;
}

static long long jint(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    assert_non_null(v);
    return v;
}

/* x says: in sync, nothing lacking either way, measured at the last tick. */
static void assert_in_sync(hm_node_t *x, const char *dials)
{
    json_t *p = status_of(x);
    assert_true(json_is_true(json_object_get(p, "in_sync")));
    assert_int_equal(jint(p, "we_lack"), 0);
    assert_int_equal(jint(p, "they_lack"), 0);
    assert_true(jint(p, "as_of_ago_ms") <= x->cfg.sync_interval_ms + 1);
    assert_true(jint(p, "since_ms") > 0);
    assert_string_equal(jstr(p, "dials"), dials);
    assert_true(jint(p, "bytes_sent") > 0 && jint(p, "bytes_received") > 0);
    json_decref(p);
}

static uint64_t refused(hm_node_t *x)
{
    sync_stats_t st;
    sync_get_stats(x->sync, &st);
    return st.events_refused;
}

/* The school's whole backlog (three batches' worth) reaches the hub within
 * the round in which it dials in, one batch in flight at a time; and what
 * the hub holds reaches the school by its pull, over the same connection. */
static void test_backlog_in_one_round(void **state)
{
    (void)state;
    world_t *w = world_new(0);
    assert_int_equal(hm_add_events(&w->s, NULL, NET, 9000), 0);
    assert_int_equal(hm_add_events(&w->h, NULL, NET, 100), 0);
    assert_int_equal(hm_connect_one(&w->s), 0);
    assert_int_equal(hm_events(&w->h), 9100);
    assert_int_equal(hm_events(&w->s), 9100);
    assert_int_equal(w->offered_events, 9000);
    assert_int_equal(w->offers, 3); /* 4,000 + 4,000 + 1,000 */
    assert_int_equal(w->acks, 3);
    assert_int_equal(w->max_out, 1);
    assert_int_equal(refused(&w->h), 0);
    /* the next round confirms, and both sides say so */
    assert_int_equal(hm_round(&w->s), 0);
    assert_in_sync(&w->s, "we");
    assert_in_sync(&w->h, "they");
    json_t *p = status_of(&w->h);
    assert_int_equal(jint(p, "events_received"), 9000);
    assert_string_equal(jstr(p, "endpoint"), "");
    assert_true(json_is_null(json_object_get(p, "our_connection")));
    assert_true(json_is_true(json_object_get(p, "its_connection")));
    json_decref(p);
    world_free(w);
}

/* Both list each other with an endpoint: each pulls, nobody offers. */
static void test_both_dial_no_offers(void **state)
{
    (void)state;
    world_t *w = world_new(1);
    assert_int_equal(hm_add_events(&w->s, NULL, NET, 500), 0);
    assert_int_equal(hm_add_events(&w->h, NULL, NET, 300), 0);
    assert_int_equal(hm_connect(&w->s, &w->h), 0);
    assert_int_equal(hm_round(&w->s), 0);
    assert_int_equal(hm_round(&w->h), 0);
    assert_int_equal(hm_events(&w->s), 800);
    assert_int_equal(hm_events(&w->h), 800);
    assert_int_equal(w->offers + w->pushes, 0);
    assert_in_sync(&w->s, "both");
    assert_in_sync(&w->h, "both");
    world_free(w);
}

/* The hub lists the school with an endpoint it cannot reach (NAT): the
 * hub's own connection does not come up, so after a grace (it might have
 * been a moment from coming up: then the work would be done twice) it
 * asks the school to offer. */
static void test_unreachable_endpoint_is_offered(void **state)
{
    (void)state;
    world_t *w = world_new(1);
    assert_int_equal(hm_add_events(&w->s, NULL, NET, 50), 0);
    assert_int_equal(hm_connect_one(&w->s), 0);
    assert_int_equal(w->offers, 0);
    assert_int_equal(hm_events(&w->h), 0);
    w->net->clock_ms += SYNC_DIAL_GRACE_MS;
    assert_int_equal(hm_round(&w->s), 0);
    assert_int_equal(hm_events(&w->h), 50);
    assert_int_equal(w->offers, 1);
    world_free(w);
}

/* The school published offline (its key certificate and seq 1 are not at
 * the hub), dials in, and publishes seq 2 before its first round is
 * answered: the push carries the key logs, so the hub holds seq 2 back
 * until the offers bring seq 1, and refuses nothing. */
static void test_push_before_backlog_not_refused(void **state)
{
    (void)state;
    world_t *w = world_new(0);
    keys_identity_t *signing = NULL;
    assert_int_equal(keys_generate(&signing), KEYS_OK);
    assert_int_equal(hm_add_signed(&w->s, signing, NET, 1, 0), 0);
    sync_client_connected(w->s.sync, 0, w->net->clock_ms); /* Hello queued, not answered */
    assert_int_equal(hm_add_signed(&w->s, signing, NET, 1, 1), 0);
    assert_int_equal(hm_run(w->net), 0);
    assert_int_equal(refused(&w->h), 0);
    assert_int_equal(hm_events(&w->h), 3); /* the certificate, seq 1, seq 2 */
    keys_free(&signing);
    world_free(w);
}

/* The hub certifies a signing key and publishes with it between the
 * client's look at its buckets and its GetHeads: the key log falls in a
 * bucket that did not differ then, the network log in one that did. The
 * heads carry the key log all the same, so the client asks for it first
 * and refuses nothing. */
static void test_key_logs_in_heads_of_other_buckets(void **state)
{
    (void)state;
    world_t *w = world_new(1);
    keys_identity_t *signing = NULL;
    assert_int_equal(keys_generate(&signing), KEYS_OK);
    /* a hub identity whose key logs and network log fall in different buckets */
    for (;;) {
        const uint8_t *id = keys_public(w->h.k);
        unsigned net = sync_bucket_of(id, NET);
        if (sync_bucket_of(id, "@keys") != net && sync_bucket_of(id, "@revoked") != net)
            break;
        keys_free(&w->h.k);
        assert_int_equal(keys_generate(&w->h.k), KEYS_OK);
        memcpy(w->s.peer.public_key, keys_public(w->h.k), KEYS_PUBLIC_BYTES);
    }
    assert_int_equal(hm_add_events(&w->h, NULL, NET, 1), 0); /* signed by the identity */
    w->publish_at_get_heads = signing;
    assert_int_equal(hm_connect_one(&w->s), 0);
    assert_null(w->publish_at_get_heads); /* it happened */
    assert_int_equal(refused(&w->s), 0);
    assert_int_equal(hm_events(&w->s), 3); /* seq 1, the certificate, seq 2 */
    keys_free(&signing);
    world_free(w);
}

/* A hub that does not acknowledge offers (no "offer-v1") gets them as
 * pushes, a batch per round. */
static void test_server_without_offer_acks(void **state)
{
    (void)state;
    world_t *w = world_new(0);
    w->strip_offer_cap = 1;
    assert_int_equal(hm_add_events(&w->s, NULL, NET, 9000), 0);
    assert_int_equal(hm_connect_one(&w->s), 0);
    assert_int_equal(hm_events(&w->h), 4000);
    assert_int_equal(w->offers, 0);
    assert_int_equal(hm_round(&w->s), 0);
    assert_int_equal(hm_events(&w->h), 8000);
    assert_int_equal(hm_round(&w->s), 0);
    assert_int_equal(hm_events(&w->h), 9000);
    assert_int_equal(w->pushes, 3);
    world_free(w);
}

/* What the hub shows of a school that only dials comes from the school's
 * own comparison, as its Summary reports it; a lost acknowledgement ends
 * the offers after the reply timeout and the next round offers again. */
static void test_dialing_partner_status_and_lost_ack(void **state)
{
    (void)state;
    world_t *w = world_new(0);
    json_t *p = status_of(&w->h);
    assert_true(json_is_null(json_object_get(p, "in_sync"))); /* no exchange yet */
    assert_true(json_is_null(json_object_get(p, "we_lack")));
    json_decref(p);
    assert_int_equal(hm_add_events(&w->s, NULL, NET, 10), 0);
    w->drop_offers = 1;
    assert_int_equal(hm_connect_one(&w->s), 0);
    assert_int_equal(hm_events(&w->h), 0);
    assert_int_equal(hm_round(&w->s), 0); /* its Summary says the hub lacks 10 */
    p = status_of(&w->h);
    assert_true(json_is_false(json_object_get(p, "in_sync")));
    assert_int_equal(jint(p, "we_lack"), 10);
    assert_int_equal(jint(p, "they_lack"), 0);
    json_decref(p);
    p = status_of(&w->s);
    assert_true(json_is_false(json_object_get(p, "in_sync")));
    assert_int_equal(jint(p, "they_lack"), 10);
    json_decref(p);
    size_t offers = w->offers;
    assert_int_equal(hm_round(&w->s), 0); /* still awaiting the ack: nothing offered again */
    assert_int_equal(w->offers, offers);
    w->drop_offers = 0;
    w->net->clock_ms += 15000; /* the acknowledgement is given up on */
    assert_int_equal(hm_round(&w->s), 0);
    assert_int_equal(hm_events(&w->h), 10);
    assert_int_equal(hm_round(&w->s), 0);
    assert_in_sync(&w->h, "they");
    world_free(w);
}

/* Both dial. The hub's round finds the school lacking 5; then the
 * school's own round fetches them. The hub's status follows the school's
 * exchange on its ROUTER (in sync, nothing lacking) without a round of
 * its own: not the 5 of its last round. */
static void test_status_follows_either_connection(void **state)
{
    (void)state;
    world_t *w = world_new(1);
    assert_int_equal(hm_connect(&w->s, &w->h), 0);
    assert_int_equal(hm_add_events(&w->h, NULL, NET, 5), 0);
    assert_int_equal(hm_round(&w->h), 0);
    json_t *p = status_of(&w->h);
    assert_true(json_is_false(json_object_get(p, "in_sync")));
    assert_int_equal(jint(p, "they_lack"), 5);
    long long apart_since = jint(p, "since_ms");
    json_decref(p);
    assert_int_equal(hm_round(&w->s), 0);
    assert_int_equal(hm_events(&w->s), 5);
    assert_in_sync(&w->h, "both");
    p = status_of(&w->h);
    assert_true(jint(p, "since_ms") > apart_since);
    json_decref(p);
    world_free(w);
}

int main(void)
{
    keys_init();
    log_init(LOG_LVL_WARN, "test_sync_roles");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backlog_in_one_round),
        cmocka_unit_test(test_both_dial_no_offers),
        cmocka_unit_test(test_unreachable_endpoint_is_offered),
        cmocka_unit_test(test_push_before_backlog_not_refused),
        cmocka_unit_test(test_key_logs_in_heads_of_other_buckets),
        cmocka_unit_test(test_server_without_offer_acks),
        cmocka_unit_test(test_dialing_partner_status_and_lost_ack),
        cmocka_unit_test(test_status_follows_either_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
