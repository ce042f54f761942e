/*
 * test_erase: what an Erasure does to one store (issue 17), in process:
 * the payload and salt of the target go, header and signature stay, and
 * verify is clean; no byte of the text is left in store.db or its -wal
 * once the store is closed; a genuine full copy that arrives later is
 * stripped and never refills the row; an erasure held back ahead of a gap
 * makes a header-only copy of its target acceptable, and nothing else does;
 * an erasure of someone else's event is refused (not_erasable) and erases
 * nothing; a control event can never be erased; a node that lacks an event
 * and its author's erasure, more than STORE_MAX_PENDING_PER_LOG events
 * apart, still gets both by sync (two sync modules in process,
 * harness_mem).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "harness/harness_mem.h"
#include "harness/testutil.h"

#define NET "nordic-wbl"
#define START 1796112000LL
#define SECRET "Erase-unit-5c1d-Svensson"

typedef struct fx {
    char *dir;
    char path[600];
    store_t *st;
    keys_identity_t *k, *other;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    f->dir = tu_tempdir();
    snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
    assert_int_equal(store_open(&f->st, f->path, NULL, 0), STORE_OK);
    assert_int_equal(keys_generate(&f->k), 0);
    assert_int_equal(keys_generate(&f->other), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    store_close(&f->st);
    keys_free(&f->k);
    keys_free(&f->other);
    tu_rmtree(&f->dir);
    free(f);
    return 0;
}

/* k's log: a workshop (1), a report holding SECRET (2), an erasure of the
 * report (3). Caller frees. */
static void three(const keys_identity_t *k, event_t *v[3])
{
    Lernet__Payload *w = tu_workshop("Öppet hus", "Open day", START);
    v[0] = tu_next(k, NET, NULL, w);
    Lernet__Payload *x = tu_experience(v[0]->id, SECRET);
    v[1] = tu_next(k, NET, v[0], x);
    Lernet__Payload *e = tu_erasure((const uint8_t(*)[EVENT_ID_BYTES])v[1]->id, 1, "in error");
    v[2] = tu_next(k, NET, v[1], e);
    assert_non_null(v[2]);
    tu_payload_free(w);
    tu_payload_free(x);
    tu_payload_free(e);
}

static int add(fx_t *f, event_t *ev, int *outcome)
{
    char why[256];
    return store_add(f->st, ev, outcome, NULL, why, sizeof why);
}

/* ev as a partner would pass it on header-only: parsed like sync parses. */
static event_t *bare(const event_t *ev)
{
    Lernet__Envelope e = LERNET__ENVELOPE__INIT;
    uint8_t buf[1024];
    e.header.data = ev->header, e.header.len = ev->header_len;
    e.signature.data = (uint8_t *)ev->sig, e.signature.len = KEYS_SIG_BYTES;
    size_t n = lernet__envelope__pack(&e, buf);
    event_t *out = NULL;
    assert_int_equal(event_parse_erasable(&out, buf, n, event_now_ms(), NULL, 0), EV_OK);
    return out;
}

static int file_holds(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    static char buf[8 << 20];
    size_t n = fread(buf, 1, sizeof buf, fp), k = strlen(needle);
    fclose(fp);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(buf + i, needle, k) == 0)
            return 1;
    return 0;
}

typedef struct seen {
    int erased, has_content;
} seen_t;

static int take(void *ctx, const store_item_t *it)
{
    seen_t *s = ctx;
    s->erased = it->erased;
    s->has_content = it->experience != NULL;
    return 0;
}

static seen_t item_of(fx_t *f, const event_t *ev)
{
    char hex[EVENT_ID_HEX_SIZE];
    seen_t s = {-1, -1};
    event_id_hex(hex, ev->id);
    assert_int_equal(store_item(f->st, hex, take, &s, NULL, 0), STORE_OK);
    return s;
}

static void verify_clean(fx_t *f)
{
    size_t checked = 0, problems = 9;
    assert_int_equal(store_verify(f->st, NULL, NULL, &checked, &problems), STORE_OK);
    assert_int_equal(problems, 0);
}

static void test_erased_on_disk_and_never_refilled(void **state)
{
    fx_t *f = *state;
    event_t *v[3];
    char wal[640], why[256];
    three(f->k, v);
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_int_equal(add(f, v[0], NULL), STORE_OK);
    store_close(&f->st); /* checkpointed: store.db has pages to overwrite */
    assert_int_equal(store_open(&f->st, f->path, why, sizeof why), STORE_OK);
    assert_int_equal(add(f, v[1], NULL), STORE_OK);
    assert_true(file_holds(wal, SECRET)); /* the search can find it */
    assert_int_equal(add(f, v[2], NULL), STORE_OK);
    seen_t s = item_of(f, v[1]);
    assert_int_equal(s.erased, 1);
    assert_int_equal(s.has_content, 0);
    assert_false(file_holds(f->path, SECRET)); /* while open: checkpointed and zeroed */
    assert_false(file_holds(wal, SECRET));
    event_t *back = NULL;
    char hex[EVENT_ID_HEX_SIZE];
    event_id_hex(hex, v[1]->id);
    assert_int_equal(store_get_event(f->st, hex, &back, why, sizeof why), STORE_OK);
    assert_false(back->has_payload); /* header and signature stay, and verify */
    assert_memory_equal(back->header, v[1]->header, v[1]->header_len);
    event_free(&back);
    verify_clean(f);
    /* the genuine copy again (from a partner that has not heard): stripped,
     * in the caller's hands too, and the row is not refilled */
    event_t *again = NULL;
    uint8_t *env;
    size_t len;
    assert_int_equal(event_envelope(v[1], &env, &len), EV_OK);
    assert_int_equal(event_parse(&again, env, len, event_now_ms(), NULL, 0), EV_OK);
    free(env);
    int outcome = -1;
    assert_int_equal(add(f, again, &outcome), STORE_OK);
    assert_int_equal(outcome, STORE_DUPLICATE);
    assert_false(again->has_payload);
    assert_int_equal(item_of(f, v[1]).erased, 1);
    store_close(&f->st);
    assert_false(file_holds(f->path, SECRET));
    assert_false(file_holds(wal, SECRET));
    assert_int_equal(store_open(&f->st, f->path, why, sizeof why), STORE_OK);
    event_free(&again);
    for (int i = 0; i < 3; i++)
        event_free(&v[i]);
}

static void test_header_only_only_under_an_erasure(void **state)
{
    fx_t *f = *state;
    event_t *v[3];
    three(f->k, v);
    event_t *b1 = bare(v[1]), *b0 = bare(v[0]);
    int outcome = -1;
    assert_int_equal(add(f, v[0], NULL), STORE_OK);
    /* no erasure known: refused, and the genuine copy is taken after it */
    assert_int_equal(add(f, b1, &outcome), EV_PAYLOAD_MISSING);
    /* the erasure arrives first, ahead of the gap: held back, and counted */
    assert_int_equal(add(f, v[2], &outcome), STORE_OK);
    assert_int_equal(outcome, STORE_HELD);
    event_t *b1b = bare(v[1]);
    assert_int_equal(add(f, b1b, &outcome), STORE_OK);
    assert_int_equal(outcome, STORE_APPLIED);
    assert_int_equal(item_of(f, v[1]).erased, 1);
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    assert_int_equal(store_head(f->st, keys_public(f->k), NET, &seq, head), STORE_OK);
    assert_int_equal(seq, 3); /* the held erasure followed */
    /* the workshop is not covered: its header-only copy stays refused */
    assert_int_equal(add(f, b0, &outcome), EV_PAYLOAD_MISSING);
    assert_int_equal(item_of(f, v[0]).erased, 0);
    verify_clean(f);
    event_free(&b0);
    event_free(&b1);
    event_free(&b1b);
    for (int i = 0; i < 3; i++)
        event_free(&v[i]);
}

/* An erasure held back ahead of a gap (its place in the chain unproven:
 * a thief may have signed it far ahead with a key revoked since) removes
 * nothing: the report it names keeps its text, and a genuine copy of the
 * report is still taken whole. Once the gap fills and the erasure joins
 * its chain, the text goes. (Before, a held-back erasure erased at once.) */
static void test_held_erasure_removes_nothing_yet(void **state)
{
    fx_t *f = *state;
    event_t *v[3];
    three(f->k, v);
    int outcome = -1;
    /* seq 1 is missing here: the report (2) and the erasure (3) are held */
    assert_int_equal(add(f, v[1], &outcome), STORE_OK);
    assert_int_equal(outcome, STORE_HELD);
    assert_int_equal(add(f, v[2], &outcome), STORE_OK);
    assert_int_equal(outcome, STORE_HELD);
    store_close(&f->st);
    char why[256], wal[640];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    assert_true(file_holds(f->path, SECRET) || file_holds(wal, SECRET));
    assert_int_equal(store_open(&f->st, f->path, why, sizeof why), STORE_OK);
    /* the gap fills: the report, then the erasure, join the chain */
    assert_int_equal(add(f, v[0], &outcome), STORE_OK);
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    assert_int_equal(store_head(f->st, keys_public(f->k), NET, &seq, head), STORE_OK);
    assert_int_equal(seq, 3);
    assert_int_equal(item_of(f, v[1]).erased, 1);
    assert_false(file_holds(f->path, SECRET));
    assert_false(file_holds(wal, SECRET));
    verify_clean(f);
    for (int i = 0; i < 3; i++)
        event_free(&v[i]);
}

/* The same while the gap stays: the held erasure has not removed the
 * report's text from the held-back copy either. */
static void test_held_erasure_keeps_text_while_gap_stays(void **state)
{
    fx_t *f = *state;
    event_t *v[3];
    three(f->k, v);
    int outcome = -1;
    assert_int_equal(add(f, v[1], &outcome), STORE_OK);
    assert_int_equal(add(f, v[2], &outcome), STORE_OK);
    assert_int_equal(outcome, STORE_HELD);
    store_close(&f->st);
    char why[256], wal[640];
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    /* not removed: the text is still held (in the file or its WAL) */
    assert_true(file_holds(f->path, SECRET) || file_holds(wal, SECRET));
    assert_int_equal(store_open(&f->st, f->path, why, sizeof why), STORE_OK);
    for (int i = 0; i < 3; i++)
        event_free(&v[i]);
}

static void test_forged_and_control_erasures_refused(void **state)
{
    fx_t *f = *state;
    event_t *v[3];
    char why[256];
    three(f->k, v);
    assert_int_equal(add(f, v[0], NULL), STORE_OK);
    assert_int_equal(add(f, v[1], NULL), STORE_OK);
    /* another node's erasure of k's report: refused, the report stays */
    Lernet__Payload *e = tu_erasure((const uint8_t(*)[EVENT_ID_BYTES])v[1]->id, 1, "");
    event_t *forged = tu_next(f->other, NET, NULL, e);
    assert_int_equal(store_add(f->st, forged, NULL, NULL, why, sizeof why),
                     STORE_ERR_NOT_ERASABLE);
    assert_non_null(strstr(why, "published by another node"));
    assert_int_equal(item_of(f, v[1]).erased, 0);
    assert_int_equal(item_of(f, v[1]).has_content, 1);
    tu_payload_free(e);
    event_free(&forged);
    /* an erasure naming a membership (a control event) is refused too */
    Lernet__Membership m = LERNET__MEMBERSHIP__INIT;
    Lernet__Payload mp = LERNET__PAYLOAD__INIT;
    m.member.data = (uint8_t *)keys_public(f->other), m.member.len = KEYS_PUBLIC_BYTES;
    m.name = "OWL", m.endpoint = "";
    mp.body_case = LERNET__PAYLOAD__BODY_MEMBERSHIP, mp.membership = &m;
    event_t *ms = tu_next(f->k, NET, v[1], &mp);
    assert_int_equal(add(f, ms, NULL), STORE_OK);
    e = tu_erasure((const uint8_t(*)[EVENT_ID_BYTES])ms->id, 1, "");
    event_t *ce = tu_next(f->k, NET, ms, e);
    assert_int_equal(store_add(f->st, ce, NULL, NULL, why, sizeof why), STORE_ERR_NOT_ERASABLE);
    assert_non_null(strstr(why, "control events are never erased"));
    tu_payload_free(e);
    event_free(&ce);
    event_free(&ms);
    verify_clean(f);
    for (int i = 0; i < 3; i++)
        event_free(&v[i]);
}

/* Appends an erasure of target to x's log in NET; its seq in *seq. */
static void erase_at(hm_node_t *x, const uint8_t target[EVENT_ID_BYTES], uint64_t *seq)
{
    uint8_t head[EVENT_ID_BYTES];
    event_t *ev = NULL;
    int outcome = -1;
    assert_int_equal(store_head(x->st, keys_public(x->k), NET, seq, head), STORE_OK);
    Lernet__Payload *p = tu_erasure((const uint8_t(*)[EVENT_ID_BYTES])target, 1, "in error");
    assert_int_equal(event_create(&ev, x->k, NET, *seq + 1, head, x->net->clock_ms, p, NULL, 0),
                     EV_OK);
    assert_int_equal(store_add(x->st, ev, &outcome, NULL, NULL, 0), STORE_OK);
    assert_int_equal(outcome, STORE_APPLIED);
    *seq = ev->seq;
    event_free(&ev);
    tu_payload_free(p);
}

typedef struct erased_seen {
    int erased, content;
} erased_seen_t;

static int take_workshop(void *ctx, const store_item_t *it)
{
    erased_seen_t *s = ctx;
    s->erased = it->erased;
    s->content = it->workshop != NULL;
    return 0;
}

/* A (the author: a workshop, gap more, its erasure of the workshop) and B
 * (a fresh partner), linked and connected; A's head seq in *seq, the
 * workshop's id in target. */
static void far_setup(hm_net_t *net, hm_node_t *a, hm_node_t *b, int gap,
                      uint8_t target[EVENT_ID_BYTES], uint64_t *seq)
{
    assert_int_equal(hm_node_init(a, net, "Lärcentrum Östhammar", NET), 0);
    assert_int_equal(hm_node_init(b, net, "Roskilde Handelsskole", NET), 0);
    assert_int_equal(hm_add_events(a, NULL, NET, 1), 0);
    assert_int_equal(store_head(a->st, keys_public(a->k), NET, seq, target), STORE_OK);
    assert_int_equal(hm_add_events(a, NULL, NET, gap), 0);
    erase_at(a, target, seq);
    assert_int_equal(*seq, (uint64_t)gap + 2);
    assert_int_equal(hm_link(a, b, NET), 0);
    assert_int_equal(hm_connect(a, b), 0);
}

/* Up to `rounds` sync rounds of b, two hours apart (a log put aside as
 * stuck, at most 64 minutes, is asked for again each time), until b holds
 * want of a's log; how far b then holds it. */
static uint64_t far_rounds(hm_net_t *net, hm_node_t *a, hm_node_t *b, uint64_t want, int rounds)
{
    uint64_t have = 0;
    for (int round = 0; round < rounds && have < want; round++) {
        net->clock_ms += 2 * 3600 * 1000LL;
        assert_int_equal(hm_round(b), 0);
        assert_int_equal(store_have(b->st, keys_public(a->k), NET, &have), STORE_OK);
    }
    return have;
}

/* b holds the target erased, and verifies clean. */
static void far_erased(hm_node_t *b, const uint8_t target[EVENT_ID_BYTES])
{
    char hex[EVENT_ID_HEX_SIZE];
    erased_seen_t s = {-1, -1};
    size_t checked = 0, problems = 9;
    event_id_hex(hex, target);
    assert_int_equal(store_item(b->st, hex, take_workshop, &s, NULL, 0), STORE_OK);
    assert_int_equal(s.erased, 1);
    assert_int_equal(s.content, 0);
    assert_int_equal(store_verify(b->st, NULL, NULL, &checked, &problems), STORE_OK);
    assert_int_equal(problems, 0);
}

/* A node that lacks an event and its author's erasure of it, with more
 * events of that log between the two than it holds back for one log
 * (STORE_MAX_PENDING_PER_LOG): it is served the target header-only first,
 * may take it only under the erasure, and the erasure lies past what it
 * holds back. It must still reach the author's head, the target erased,
 * by sync alone, and verify clean. (Before erasures could be held beyond
 * the per-log limit it stayed at seq 0 forever.) */
static void test_erasure_far_behind_its_target(void **state)
{
    hm_net_t *net = calloc(1, sizeof *net);
    hm_node_t a, b;
    uint8_t target[EVENT_ID_BYTES];
    uint64_t seq = 0;
    (void)state;
    assert_non_null(net);
    far_setup(net, &a, &b, STORE_MAX_PENDING_PER_LOG + 200, target, &seq);
    assert_int_equal(far_rounds(net, &a, &b, seq, 20), seq);
    far_erased(&b, target);
    hm_node_free(&a);
    hm_node_free(&b);
    free(net);
}

/* An erasure beyond the first two batches served from its target
 * (SYNC_BATCH_EVENTS each): a round that makes no progress past the gap
 * asks again from it, so the erasure never came by the log's own order,
 * and the node stayed before the target for good (it did so until the
 * serving side sent each erased event with the erasure that took its
 * payload, just before it: batch_row). Now it reaches the author's head,
 * the target erased, and verifies clean. */
static void test_erasure_beyond_sync_reach(void **state)
{
    hm_net_t *net = calloc(1, sizeof *net);
    hm_node_t a, b;
    uint8_t target[EVENT_ID_BYTES];
    uint64_t seq = 0;
    (void)state;
    assert_non_null(net);
    far_setup(net, &a, &b, 2 * SYNC_BATCH_EVENTS + 100, target, &seq);
    assert_int_equal(far_rounds(net, &a, &b, seq, 20), seq);
    far_erased(&b, target);
    hm_node_free(&a);
    hm_node_free(&b);
    free(net);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_erased_on_disk_and_never_refilled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_only_only_under_an_erasure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_erasure_removes_nothing_yet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_erasure_keeps_text_while_gap_stays, setup,
                                        teardown),
        cmocka_unit_test(test_erasure_far_behind_its_target),
        cmocka_unit_test(test_erasure_beyond_sync_reach),
        cmocka_unit_test_setup_teardown(test_forged_and_control_erasures_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
