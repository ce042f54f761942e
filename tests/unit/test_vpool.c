/*
 * test_vpool: parallel verification gives exactly the serial result, for
 * valid and corrupted envelopes, with and without workers, over many
 * back-to-back jobs (the hand-over between jobs is where a pool races);
 * and its count of what parsing cost counts every envelope parsed, and no
 * known one, with a CPU time that is there and plausible; and its
 * between callback runs on the caller's thread only, between items, at the
 * interval asked, without changing a result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <pthread.h>
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
 * once per item, often enough at a short interval, never at a long one,
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
            if (e == 0) { /* due before every item the caller claims after its first */
                assert_true(c.n > 0);
                assert_true(c.n <= 4 * N);
            } else
                assert_int_equal(c.n, 0);
        }
        assert_int_equal(c.elsewhere, 0);
        vpool_free(&p);
    }
}

int main(void)
{
    keys_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_serial_and_parallel_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_between, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
