/*
 * bench: `make bench`. Every section adds rows (figure, value, what it is
 * compared to) to one table, printed at the end and written as JSON.
 * Figures that depend on noise are medians of several runs.
 */
#ifndef LERNET_BENCH_H
#define LERNET_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/event.h"
#include "keys/keys.h"
#include "store/store.h"

#define BENCH_MAX_ROWS 48
#define BENCH_NET "nordic-wbl"

typedef struct bench_row {
    char key[48];      /* JSON key */
    char label[96];    /* what was measured */
    double value;
    char shown[32];    /* value as printed */
    char compared[160];
} bench_row_t;

typedef struct bench {
    int quick; /* small sizes: the ctest smoke run */
    int runs;  /* repetitions whose median is reported */
    int cores;
    long catchup_events; /* --catchup-events N (> 0): catch-up size instead of 100,000 */
    const char *workdir; /* build/bench: cached stores live here */
    double verify_rate;  /* one-core Ed25519 verifications/s, this run */
    double verify_cpu_s; /* CPU seconds of one verification, this run (bench_limits) */
    double insert_rate;
    /* the catchup section's figures, for the hypercore section's ratio and
     * block size (0: catchup did not run) */
    double catchup_rate, catchup_event_bytes;
    int hub_partners; /* --hub-partners or $LERNET_BENCH_HUB_PARTNERS; 0: the section's default */
    bench_row_t rows[BENCH_MAX_ROWS];
    size_t n_rows;
} bench_t;

/* Adds a row; fmt formats value (e.g. "%.0f"); compared is printf-like. */
void bench_row(bench_t *b, const char *key, const char *label, double value, const char *fmt,
               const char *compared, ...) __attribute__((format(printf, 6, 7)));
double bench_now(void);
/* CPU seconds (user + system, all threads) process pid has used so far;
 * *sys_s (may be NULL) gets the system part. Dies if it cannot be read. */
double bench_proc_cpu_s(pid_t pid, double *sys_s);
_Noreturn void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Median of n values (sorts v in place). */
double bench_median(double *v, int n);
/* Value at quantile q in [0,1] of n values (sorts v in place). */
double bench_quantile(double *v, size_t n, double q);

/* A realistic payload of a few hundred bytes; i picks language and title. */
Lernet__Payload *bench_payload(uint64_t i, int64_t start);
/* Signs and stores `authors` x `per_author` events in network net, in
 * large transactions. *raw gets the total envelope bytes. 0 on success. */
int bench_fill(store_t *st, int authors, int per_author, const char *net, uint64_t *raw);

/* Sections, in the order the table shows them. */
void bench_limits(bench_t *b);
/* CPU seconds of one verification on this thread, measured now for secs
 * (a machine shared with others changes it from minute to minute). */
double bench_verify_cpu_s(double secs);
void bench_inprocess(bench_t *b);
void bench_catchup(bench_t *b);
void bench_hypercore(bench_t *b);
void bench_propagation(bench_t *b);
void bench_footprint(bench_t *b);
void bench_hub(bench_t *b);
void bench_search(bench_t *b);
void bench_attach(bench_t *b);
/* For bench_attach: publish-to-visible across daemons while a transfer runs
 * (bench_daemons.c); a resource with a file of size random bytes published
 * on n through the CLI (its attachment hash and item id in hex), and
 * waiting up to secs (0: just look) until n holds the file of hex. */
void bench_propagation_loaded(bench_t *b);
struct hnode;
void bench_attach_publish(const struct hnode *n, long size, int i, char *hex, char *id);
int bench_attach_wait(const struct hnode *n, const char *hex, double secs);

#endif
