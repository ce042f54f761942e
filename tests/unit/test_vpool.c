/*
 * test_vpool: parallel verification gives exactly the serial result, for
 * valid and corrupted envelopes, with and without workers, over many
 * back-to-back jobs (the hand-over between jobs is where a pool races);
 * and its count of what parsing cost counts every envelope parsed, and no
 * known one, with a CPU time that is there and plausible; and its
 * between callback runs on the caller's thread only, between items, at the
 * interval asked, without changing a result. And vouching (vpool.h): a
 * linked chain costs one verification per log, and what a lying relay or
 * author makes of a chain (a signature garbled below or at the top, a
 * forged event linked by another key, events not linked at all, a batch in
 * any order) is refused or taken exactly as checking each envelope alone
 * would, and never costs more verifications than envelopes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "harness/testutil.h"
#include "sync/vpool.h"

#define START 1796112000LL
#define N 64

typedef struct fx {
    uint8_t *env[N];
    size_t len[N];
    int expect[N];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    keys_identity_t *k;
    event_t *prev = NULL;
    assert_int_equal(keys_generate(&k), 0);
    for (int i = 0; i < N; i++) {
        Lernet__Payload *p = tu_workshop("Lärcentrum som mäklare", "Brokers", START + i);
        event_t *ev = tu_next(k, "nordic-wbl", prev, p);
        assert_non_null(ev);
        assert_int_equal(event_envelope(ev, &f->env[i], &f->len[i]), 0);
        if (i % 5 == 3) /* corrupt one byte near the end: signature or payload */
            f->env[i][f->len[i] - 40] ^= 0x01;
        event_t *chk = NULL;
        f->expect[i] = event_parse(&chk, f->env[i], f->len[i], event_now_ms(), NULL, 0);
        event_free(&chk);
        event_free(&prev);
        prev = ev;
        tu_payload_free(p);
    }
    event_free(&prev);
    keys_free(&k);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    for (int i = 0; i < N; i++)
        free(f->env[i]);
    free(f);
    return 0;
}

/* One job of the fixture's first n envelopes: the serial results, a
 * refusal with its reason. */
static void parse_checked(fx_t *f, vpool_t *p, size_t n)
{
    vpool_item_t items[N];
    memset(items, 0, sizeof items);
    for (size_t i = 0; i < n; i++) {
        items[i].buf = f->env[i];
        items[i].len = f->len[i];
    }
    vpool_parse(p, items, n, event_now_ms());
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(items[i].rc, f->expect[i]);
        assert_true((items[i].ev != NULL) == (f->expect[i] == EV_OK));
        if (f->expect[i] != EV_OK)
            assert_true(strlen(items[i].why) > 0);
        event_free(&items[i].ev);
    }
}

static void run_jobs(fx_t *f, int workers, int jobs)
{
    vpool_t *p;
    assert_int_equal(vpool_new(&p, workers), 0);
    assert_int_equal(vpool_threads(p), workers + 1);
    for (int j = 0; j < jobs; j++)
        parse_checked(f, p, (size_t)(j % N) + 1); /* sizes 1..N, so hand-overs vary */
    vpool_free(&p);
    assert_null(p);
}

static void test_serial_and_parallel_agree(void **state)
{
    fx_t *f = *state;
    int refused = 0;
    for (int i = 0; i < N; i++)
        refused += f->expect[i] != EV_OK;
    assert_int_equal(refused, (N + 1) / 5); /* the corrupted ones, and only they */
    run_jobs(f, 0, 8);
    run_jobs(f, 1, 300);
    run_jobs(f, 3, 300);
}

/* vpool_cost: every envelope parsed is counted (known ones are not), and
 * the CPU it reports is that of a sample scaled up: more than nothing, and
 * no more than the process spent. */
static void test_cost(void **state)
{
    fx_t *f = *state;
    vpool_t *p;
    vpool_item_t items[N];
    uint64_t parsed = 1, ns = 1;
    assert_int_equal(vpool_new(&p, 1), 0);
    vpool_cost(p, &parsed, &ns);
    assert_int_equal(parsed, 0);
    assert_int_equal(ns, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (int j = 0; j < 10; j++) {
        memset(items, 0, sizeof items);
        for (size_t i = 0; i < N; i++) {
            items[i].buf = f->env[i];
            items[i].len = f->len[i];
            items[i].known = i % 4 == 0; /* stored here: not parsed, not counted */
        }
        vpool_parse(p, items, N, event_now_ms());
        for (size_t i = 0; i < N; i++)
            event_free(&items[i].ev);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    vpool_cost(p, &parsed, &ns);
    assert_int_equal(parsed, 10 * (N - N / 4));
    double spent = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    assert_true(ns > 0);
    /* a sample of 1 in 8 of 480 envelopes: within a factor of two of the
     * whole even if the sampled ones were the slowest */
    assert_true((double)ns <= 2 * spent);
    vpool_free(&p);
}

typedef struct calls {
    pthread_t caller;
    int n, elsewhere;
} calls_t;

static void count_call(void *ctx)
{
    calls_t *c = ctx;
    c->n++;
    c->elsewhere += !pthread_equal(pthread_self(), c->caller);
}

/* vpool_between: called on the caller's thread while it helps (the daemon
 * answers its control socket there, which no worker may touch), at most
 * once per item and step, often enough at a short interval, never at a long one,
 * and not at all once cleared; the results stay the serial ones. */
static void test_between(void **state)
{
    fx_t *f = *state;
    for (int workers = 0; workers <= 1; workers++) {
        vpool_t *p;
        calls_t c = {pthread_self(), 0, 0};
        assert_int_equal(vpool_new(&p, workers), 0);
        int every[] = {0, 3600 * 1000, -1}; /* at once, never in time, cleared */
        for (int e = 0; e < 3; e++) {
            c.n = 0;
            if (every[e] >= 0)
                vpool_between(p, count_call, &c, every[e]);
            else
                vpool_between(p, NULL, NULL, 0);
            for (int j = 0; j < 4; j++)
                parse_checked(f, p, N);
            if (e == 0) { /* due before every item the caller claims after its first,
                             in each of the two steps (parse; verify) */
                assert_true(c.n > 0);
                assert_true(c.n <= 4 * 2 * N);
            } else
                assert_int_equal(c.n, 0);
        }
        assert_int_equal(c.elsewhere, 0);
        vpool_free(&p);
    }
}


/* ---- vouching ---------------------------------------------------------- */

#define CHAIN 40

typedef struct chain {
    uint8_t *env[2 * CHAIN];
    size_t len[2 * CHAIN];
    size_t n;
} chain_t;

static void chain_add_ev(chain_t *c, const event_t *ev)
{
    assert_true(c->n < 2 * CHAIN);
    assert_int_equal(event_envelope(ev, &c->env[c->n], &c->len[c->n]), 0);
    c->n++;
}

static void chain_free(chain_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->env[i]);
    c->n = 0;
}

/* A log of n events by k in net, linked (tu_next) or not, each with its
 * signature's first byte flipped where garble says (NULL: none), as a
 * lying relay would hand it on; the events stay linked to the garbled
 * bytes only if relink (the author itself signed over them). */
static void chain_make(chain_t *c, keys_identity_t *k, const char *net, size_t n, bool linked,
                       const bool *garble)
{
    event_t *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        Lernet__Payload *p = tu_workshop("Validering i arbetslivet", "Validation", START + (int64_t)i);
        event_t *ev = linked ? tu_next(k, net, prev, p) : NULL;
        if (!linked)
            assert_int_equal(event_create(&ev, k, net, i + 1, prev ? prev->id : NULL,
                                          event_now_ms(), p, NULL, 0),
                             0);
        assert_non_null(ev);
        uint8_t keep = ev->sig[0];
        if (garble && garble[i])
            ev->sig[0] ^= 0x01;
        chain_add_ev(c, ev);
        ev->sig[0] = keep; /* the next one links the author's own bytes */
        event_free(&prev);
        prev = ev;
        tu_payload_free(p);
    }
    event_free(&prev);
}

/* One vpool job over c (in the order given by order, NULL: as made): each
 * result must be what event_parse_erasable gives that envelope alone.
 * Returns how many signatures the job verified. */
static uint64_t chain_check(vpool_t *p, const chain_t *c, const size_t *order)
{
    vpool_item_t items[2 * CHAIN];
    memset(items, 0, sizeof items);
    uint64_t before = vpool_verified(p);
    for (size_t i = 0; i < c->n; i++) {
        size_t j = order ? order[i] : i;
        items[i].buf = c->env[j];
        items[i].len = c->len[j];
    }
    vpool_parse(p, items, c->n, event_now_ms());
    for (size_t i = 0; i < c->n; i++) {
        event_t *alone = NULL;
        int want = event_parse_erasable(&alone, items[i].buf, items[i].len, event_now_ms(), NULL, 0);
        assert_int_equal(items[i].rc, want);
        assert_true((items[i].ev != NULL) == (want == EV_OK));
        if (items[i].ev) {
            assert_int_not_equal(items[i].ev->sig_state, EVENT_SIG_UNCHECKED);
            assert_memory_equal(items[i].ev->id, alone->id, EVENT_ID_BYTES);
        }
        event_free(&alone);
        event_free(&items[i].ev);
    }
    uint64_t verified = vpool_verified(p) - before;
    assert_true(verified <= c->n);
    return verified;
}

/* Two linked logs, in order and shuffled: one verification each. */
static void test_vouch_chain(void **state)
{
    (void)state;
    keys_identity_t *a, *b;
    assert_int_equal(keys_generate(&a), 0);
    assert_int_equal(keys_generate(&b), 0);
    chain_t c = {0};
    chain_make(&c, a, "nordic-wbl", CHAIN, true, NULL);
    chain_make(&c, b, "nordic-wbl", CHAIN, true, NULL);
    size_t order[2 * CHAIN];
    for (size_t i = 0; i < c.n; i++)
        order[i] = (i * 37) % c.n; /* 37 is prime to 80: a permutation */
    for (int workers = 0; workers <= 2; workers++) {
        vpool_t *p;
        assert_int_equal(vpool_new(&p, workers), 0);
        assert_int_equal(chain_check(p, &c, NULL), 2);
        assert_int_equal(chain_check(p, &c, order), 2);
        vpool_free(&p);
    }
    /* the same events not linked (no prev_sig): each verified on its own */
    chain_free(&c);
    chain_make(&c, a, "nordic-wbl", CHAIN, false, NULL);
    vpool_t *p;
    assert_int_equal(vpool_new(&p, 1), 0);
    assert_int_equal(chain_check(p, &c, NULL), CHAIN);
    vpool_free(&p);
    chain_free(&c);
    keys_free(&a);
    keys_free(&b);
}

/* A relay flips a signature byte: in the middle of the chain, at its top,
 * and in several places. The garbled events are refused and the rest are
 * taken, exactly as one by one. */
static void test_vouch_garbled(void **state)
{
    (void)state;
    keys_identity_t *a;
    assert_int_equal(keys_generate(&a), 0);
    size_t where[][3] = {{CHAIN / 2, CHAIN, CHAIN}, {CHAIN - 1, CHAIN, CHAIN}, {0, 7, CHAIN - 1}};
    for (size_t w = 0; w < sizeof where / sizeof where[0]; w++) {
        bool garble[CHAIN] = {false};
        for (int k = 0; k < 3; k++)
            if (where[w][k] < CHAIN)
                garble[where[w][k]] = true;
        chain_t c = {0};
        chain_make(&c, a, "nordic-wbl", CHAIN, true, garble);
        vpool_t *p;
        assert_int_equal(vpool_new(&p, 1), 0);
        assert_true(chain_check(p, &c, NULL) > 1);
        vpool_free(&p);
        chain_free(&c);
    }
    keys_free(&a);
}

/* A forger holding only its own key: event F claims to be signed by the
 * author's key (its signature is garbage), and event G, signed by the
 * forger's key on the author's behalf, links F's exact bytes. G verifies
 * (the store would then refuse its uncertified key), but it must not vouch
 * for F: another key can only vouch for nothing. */
static void test_vouch_other_key(void **state)
{
    (void)state;
    keys_identity_t *a, *x;
    assert_int_equal(keys_generate(&a), 0);
    assert_int_equal(keys_generate(&x), 0);
    Lernet__Payload *p1 = tu_workshop("Falsk verkstad", "Forged", START);
    event_t *f = tu_next(a, "nordic-wbl", NULL, p1), *g = NULL;
    assert_non_null(f);
    f->sig[5] ^= 0x20; /* what the forger sends as F */
    uint8_t h[EVENT_HASH_BYTES];
    event_sig_hash(h, f->sig);
    assert_int_equal(event_create_linked(&g, keys_public(a), x, "nordic-wbl", 2, f->id, h,
                                         event_now_ms(), p1, NULL, 0),
                     0);
    chain_t c = {0};
    chain_add_ev(&c, f);
    chain_add_ev(&c, g);
    vpool_t *p;
    assert_int_equal(vpool_new(&p, 1), 0);
    assert_int_equal(chain_check(p, &c, NULL), 2); /* both verified: F refused */
    vpool_item_t items[2] = {{.buf = c.env[0], .len = c.len[0]}, {.buf = c.env[1], .len = c.len[1]}};
    vpool_parse(p, items, 2, event_now_ms());
    assert_int_equal(items[0].rc, EV_BAD_SIGNATURE);
    assert_int_equal(items[1].rc, EV_OK);
    event_free(&items[1].ev);
    vpool_free(&p);
    chain_free(&c);
    event_free(&f);
    event_free(&g);
    tu_payload_free(p1);
    keys_free(&a);
    keys_free(&x);
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_serial_and_parallel_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_between, setup, teardown),
        cmocka_unit_test(test_vouch_chain),
        cmocka_unit_test(test_vouch_garbled),
        cmocka_unit_test(test_vouch_other_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
