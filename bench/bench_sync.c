/*
 * bench_sync: the machine's limits and the protocol measured in one
 * process (sync modules joined by in-memory queues, no sockets):
 *  - Ed25519 verifications per second on one core, event-sized message;
 *  - SQLite inserts per second into lernet's event table (store_add of
 *    pre-signed events in one transaction, no verification);
 *  - bytes each way and round trips of an in-sync round at 1,000 and at
 *    100,000 events, and of one missing event among 100,000 / 100 authors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "harness/harness_mem.h"
#include "harness/testutil.h"

#define START 1796112000LL

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Verifications per second of a typical event header on this core, by the
 * clock on the wall, over secs; *cpu_s gets the CPU seconds one took,
 * which other processes on a busy machine inflate less. */
static double verify_rate_for(double secs, double *cpu_s)
{
    keys_identity_t *k;
    Lernet__Payload *p = bench_payload(0, START);
    event_t *ev = NULL;
    if (keys_generate(&k) ||
        event_create(&ev, k, BENCH_NET, 1, NULL, 1700000000000LL, p, NULL, 0))
        bench_die("event_create failed");
    int n = 0;
    double t0 = bench_now(), c0 = thread_cpu_s(), t;
    do {
        for (int i = 0; i < 200; i++, n++)
            if (keys_verify(ev->author, ev->sig, ev->header, ev->header_len) != 0)
                bench_die("verify failed");
    } while ((t = bench_now() - t0) < secs);
    *cpu_s = (thread_cpu_s() - c0) / n;
    event_free(&ev);
    tu_payload_free(p);
    keys_free(&k);
    return n / t;
}

static double verify_rate(double *cpu_s)
{
    return verify_rate_for(1.0, cpu_s);
}

double bench_verify_cpu_s(double secs)
{
    double cpu_s;
    verify_rate_for(secs, &cpu_s);
    return cpu_s;
}

/* store_add of pre-signed events in one transaction. */
static double insert_rate(int n)
{
    hm_net_t *net = calloc(1, sizeof *net);
    hm_node_t x;
    if (hm_node_init(&x, net, "x", BENCH_NET))
        bench_die("init failed");
    event_t **v = calloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        Lernet__Payload *p = bench_payload((uint64_t)i, START);
        if (!(v[i] = tu_next(x.k, BENCH_NET, i ? v[i - 1] : NULL, p)))
            bench_die("sign failed");
        tu_payload_free(p);
    }
    double t0 = bench_now();
    if (store_begin(x.st))
        bench_die("begin failed");
    for (int i = 0; i < n; i++)
        if (store_add(x.st, v[i], NULL, NULL, NULL, 0))
            bench_die("store_add failed");
    if (store_commit(x.st))
        bench_die("commit failed");
    double t = bench_now() - t0;
    for (int i = 0; i < n; i++)
        event_free(&v[i]);
    free(v);
    hm_node_free(&x);
    free(net);
    return n / t;
}

void bench_limits(bench_t *b)
{
    double vr[9], vc[9], ir[9];
    for (int r = 0; r < b->runs; r++) {
        vr[r] = verify_rate(&vc[r]);
        ir[r] = insert_rate(b->quick ? 2000 : 50000);
    }
    b->verify_rate = bench_median(vr, b->runs);
    b->verify_cpu_s = bench_median(vc, b->runs);
    b->insert_rate = bench_median(ir, b->runs);
    bench_row(b, "verify_per_s", "Ed25519 verifications/s, one core", b->verify_rate, "%.0f",
              "machine limit (x %d cores = %.0f)", b->cores, b->verify_rate * b->cores);
    bench_row(b, "insert_per_s", "SQLite inserts/s into the event table", b->insert_rate,
              "%.0f", "machine limit");
}

typedef struct round_fig {
    size_t up, down, trips;
} round_fig_t;

static round_fig_t measure_round(hm_node_t *x)
{
    hm_reset_counters(x->net);
    if (hm_round(x))
        bench_die("round failed");
    return (round_fig_t){x->net->bytes[0], x->net->bytes[1], x->net->client_msgs};
}

static void sync_rows(bench_t *b, int total, round_fig_t small, round_fig_t large,
                      round_fig_t one)
{
    char label[96];
    bench_row(b, "in_sync_1000_up", "in-sync round at 1,000 events: bytes up", (double)small.up,
              "%.0f", "target <= 256");
    bench_row(b, "in_sync_1000_down", "in-sync round at 1,000 events: bytes down",
              (double)small.down, "%.0f", "target <= 256");
    snprintf(label, sizeof label, "in-sync round at %d events: bytes up", total);
    bench_row(b, "in_sync_n_up", label, (double)large.up, "%.0f", "target <= 256");
    snprintf(label, sizeof label, "in-sync round at %d events: bytes down", total);
    bench_row(b, "in_sync_n_down", label, (double)large.down, "%.0f", "target <= 256");
    snprintf(label, sizeof label, "one missing among %d (100 authors): bytes, both ways", total);
    bench_row(b, "one_missing_bytes", label, (double)(one.up + one.down), "%.0f",
              "target <= 2048");
    bench_row(b, "one_missing_round_trips", "one missing: round trips (+1 to confirm)",
              (double)(one.trips - 1), "%.0f", "target <= 3");
}

/* Reconciliation figures, and the in-process catch-up rate (protocol,
 * verify and store without sockets, CURVE or a second process). */
void bench_inprocess(bench_t *b)
{
    int total = b->quick ? 2000 : 100000, authors = 100;
    hm_net_t *net = calloc(1, sizeof *net);
    hm_node_t a, x;
    if (hm_node_init(&a, net, "hub", BENCH_NET) || hm_node_init(&x, net, "new", BENCH_NET) ||
        hm_link(&a, &x, BENCH_NET))
        bench_die("setup failed");
    keys_identity_t **ks = calloc((size_t)authors, sizeof *ks);
    for (int i = 0; i < authors; i++) /* 1,000 events first, for the small in-sync figure */
        if (keys_generate(&ks[i]) || hm_add_events(&a, ks[i], BENCH_NET, 10))
            bench_die("events failed");
    if (hm_connect(&a, &x))
        bench_die("connect failed");
    round_fig_t small = measure_round(&x);
    for (int i = 0; i < authors; i++)
        if (hm_add_events(&a, ks[i], BENCH_NET, total / authors - 10))
            bench_die("events failed");
    double rate[9];
    round_fig_t large = {0}, one = {0};
    for (int r = 0; r < b->runs; r++) {
        hm_node_free(&x);
        sync_free(&a.sync);
        if (hm_node_init(&x, net, "fresh", BENCH_NET) || hm_link(&a, &x, BENCH_NET))
            bench_die("link failed");
        double t0 = bench_now();
        if (hm_connect(&a, &x) || hm_events(&x) != (uint64_t)total)
            bench_die("in-process catch-up incomplete");
        rate[r] = total / (bench_now() - t0);
    }
    large = measure_round(&x);
    if (hm_add_events(&a, ks[0], BENCH_NET, 1))
        bench_die("one more failed");
    one = measure_round(&x);
    if (hm_events(&x) != (uint64_t)total + 1)
        bench_die("the missing event did not arrive");
    double med = bench_median(rate, b->runs);
    bench_row(b, "catchup_in_process_per_s", "in-process catch-up, events/s (verify + store)",
              med, "%.0f", "%.2f x cores x one-core verify", med / (b->cores * b->verify_rate));
    sync_rows(b, total, small, large, one);
    for (int i = 0; i < authors; i++)
        keys_free(&ks[i]);
    free(ks);
    hm_node_free(&a);
    hm_node_free(&x);
    free(net);
}
