/*
 * bench_search: the full-text index at 100,000 items (`make bench
 * ONLY=search`):
 *  - search latency, p50 and p99, of a mix of realistic queries (a common
 *    word, a compound part, two words, a Danish word typed without ø, a
 *    rare number), and of a three-letter query that matches most items
 *    (the worst a user can type; ranked among its newest 500 matches);
 *  - the index's disk: bytes per event of the search tables (the inverted
 *    index, and the copy of the text snippets are cut from) against the
 *    whole database;
 *  - what indexing costs when storing, and what one erasure costs (it
 *    derives its item again and merges the segments of its part of the
 *    index).
 * The 100,000-item store is built once into build/bench (named by the
 * generator's and the schema's versions) and copied for each run.
 * The items are signed and stored through the store API by one author in
 * one transaction: no daemons.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "harness/testutil.h"

#define START 1796112000LL

/* n content events of one author in one transaction; the id of the
 * event seq `keep` (1-based) in keep_id. Returns the seconds it took. */
static double fill(store_t *st, const keys_identity_t *k, long n, long keep,
                   uint8_t keep_id[EVENT_ID_BYTES], uint8_t head[EVENT_ID_BYTES])
{
    uint8_t prev[EVENT_ID_BYTES];
    int64_t created = event_now_ms() - n - 1000;
    double t0 = bench_now();
    if (store_begin(st))
        bench_die("search: begin failed");
    for (long i = 0; i < n; i++) {
        Lernet__Payload *p = bench_payload((uint64_t)i, START + i * 3600);
        event_t *ev = NULL;
        char why[256];
        if (event_create(&ev, k, BENCH_NET, (uint64_t)i + 1, i ? prev : NULL, created + i, p, why,
                         sizeof why) ||
            store_add(st, ev, NULL, NULL, why, sizeof why))
            bench_die("search: event %ld: %s", i, why);
        memcpy(prev, ev->id, EVENT_ID_BYTES);
        if (i + 1 == keep)
            memcpy(keep_id, ev->id, EVENT_ID_BYTES);
        event_free(&ev);
        tu_payload_free(p);
    }
    if (store_commit(st))
        bench_die("search: commit failed");
    memcpy(head, prev, EVENT_ID_BYTES);
    return bench_now() - t0;
}

static int count_hit(void *ctx, const store_hit_t *h)
{
    (void)h;
    (*(size_t *)ctx)++;
    return 0;
}

/* This thread's CPU seconds: what a query costs, without the time the
 * shared machine gave other processes while it ran. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds of each of reps rounds of the queries, into ms[] (wall)
 * and cpu[] (this thread's CPU); each query's median and maximum on
 * stderr (what to tune). */
static size_t time_queries(store_t *st, const char *const *qs, size_t nq, int reps, double *ms,
                           double *cpu)
{
    size_t k = 0;
    double *one = calloc((size_t)reps, sizeof *one);
    for (int r = 0; r < reps; r++)
        for (size_t i = 0; i < nq; i++) {
            size_t hits = 0;
            char why[256];
            store_search_t q = {.text = qs[i]};
            double t0 = bench_now(), c0 = cpu_now();
            if (store_search(st, &q, count_hit, &hits, why, sizeof why) != STORE_OK)
                bench_die("search '%s': %s", qs[i], why);
            cpu[k] = (cpu_now() - c0) * 1000;
            ms[k++] = (bench_now() - t0) * 1000;
            if (hits == 0)
                bench_die("search '%s' found nothing", qs[i]);
        }
    for (size_t i = 0; i < nq; i++) {
        for (int r = 0; r < reps; r++)
            one[r] = ms[(size_t)r * nq + i];
        double med = bench_median(one, reps), max = bench_quantile(one, (size_t)reps, 1.0);
        for (int r = 0; r < reps; r++)
            one[r] = cpu[(size_t)r * nq + i];
        fprintf(stderr, "bench: search '%s': median %.1f ms, max %.1f ms (CPU median %.1f ms)\n",
                qs[i], med, max, bench_median(one, reps));
    }
    free(one);
    return k;
}

/* Bytes of the tables whose name is LIKE pattern (dbstat), or of all
 * (pattern NULL). */
static double table_bytes(const char *path, const char *pattern)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    double n = -1;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        bench_die("search: cannot open %s", path);
    if (sqlite3_prepare_v2(db, "SELECT sum(pgsize) FROM dbstat WHERE ?1 IS NULL"
                               " OR name LIKE ?1", -1, &st, NULL) != SQLITE_OK)
        bench_die("search: dbstat: %s", sqlite3_errmsg(db));
    if (pattern)
        sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* What a cached store was made with: the author's secret, the victim's
 * and the head's ids, and how fast it was filled. */
typedef struct made {
    uint8_t secret[KEYS_SECRET_BYTES];
    uint8_t victim[EVENT_ID_BYTES], head[EVENT_ID_BYTES];
    double fill_s;
} made_t;

/* The generator's version: bumped whenever fill() or bench_payload make
 * other events, so a cached store is only reused for the same data (the
 * schema version is in the name too: a changed index is a migration). */
#define SEARCH_GEN 1

/* The n-item store, built once into the bench directory and copied to
 * path for each run (the erasure changes it). */
static void cached_store(const bench_t *b, long n, const char *path, made_t *m)
{
    char cache[600], meta[640], tmp[640], cmd[1400], why[256];
    snprintf(cache, sizeof cache, "%s/search-%ld-g%d-v%d.db", b->workdir, n, SEARCH_GEN,
             STORE_SCHEMA_VERSION);
    snprintf(meta, sizeof meta, "%s.made", cache);
    FILE *fp = fopen(meta, "rb");
    int have = fp && fread(m, sizeof *m, 1, fp) == 1 && access(cache, R_OK) == 0;
    if (fp)
        fclose(fp);
    if (!have) {
        store_t *st = NULL;
        keys_identity_t *k = NULL;
        fprintf(stderr, "bench: building the %ld-item search store (kept in %s)\n", n, cache);
        snprintf(tmp, sizeof tmp, "%s.tmp", cache);
        unlink(tmp);
        if (store_open(&st, tmp, why, sizeof why) || keys_generate(&k))
            bench_die("search: %s", why);
        m->fill_s = fill(st, k, n, 7, m->victim, m->head);
        keys_export_secret(k, m->secret);
        keys_free(&k);
        store_close(&st); /* checkpoints: the file holds everything */
        fp = fopen(meta, "wb");
        if (!fp || fwrite(m, sizeof *m, 1, fp) != 1 || fclose(fp) != 0 || rename(tmp, cache))
            bench_die("search: cannot keep %s", cache);
    }
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", cache, path);
    if (tu_run(cmd, NULL) != 0)
        bench_die("search: cannot copy %s", cache);
}

void bench_search(bench_t *b)
{
    long n = b->quick ? 2000 : 100000;
    char path[600];
    snprintf(path, sizeof path, "%s/search-bench.db", b->workdir);
    unlink(path);
    store_t *st = NULL;
    keys_identity_t *k = NULL;
    made_t m;
    char why[256];
    cached_store(b, n, path, &m);
    if (store_open(&st, path, why, sizeof why) || keys_from_secret(&k, m.secret))
        bench_die("search: %s", why);
    double fill_s = m.fill_s;
    const uint8_t *head = m.head;

    static const char *mix[] = {"larande", "werkstatt", "osthammar larande", "koge",
                                "erfaringsudveksling", "auftakt", "workplace learning",
                                "1234"};
    static const char *broad[] = {"lar"};
    int reps = b->quick ? 2 : 25;
    size_t nq = sizeof mix / sizeof mix[0];
    double *ms = calloc(nq * (size_t)reps, sizeof *ms), wide[25], wide_cpu[25];
    double *cpu = calloc(nq * (size_t)reps, sizeof *cpu);
    /* one untimed round first: a daemon's connection has its statements
     * prepared (a part's are prepared when first searched) and the index's
     * pages cached */
    time_queries(st, mix, nq, 1, ms, cpu);
    size_t k1 = time_queries(st, mix, nq, reps, ms, cpu);
    size_t k2 = time_queries(st, broad, 1, reps, wide, wide_cpu);
    char label[96];
    snprintf(label, sizeof label, "search at %ld items: p50 ms (a mix of %zu queries)", n, nq);
    bench_row(b, "search_p50_ms", label, bench_quantile(ms, k1, 0.5), "%.1f", "median");
    snprintf(label, sizeof label, "search at %ld items: p99 ms", n);
    double load[1] = {-1};
    getloadavg(load, 1);
    bench_row(b, "search_p99_ms", label, bench_quantile(ms, k1, 0.99), "%.1f",
              "target <= 50 (load %.1f, verify %.0f/s)", load[0], b->verify_rate);
    snprintf(label, sizeof label, "search at %ld items: p99 CPU ms (the query's own)", n);
    bench_row(b, "search_p99_cpu_ms", label, bench_quantile(cpu, k1, 0.99), "%.1f",
              "p50 %.1f: what the wall figures cost without the machine's other load",
              bench_quantile(cpu, k1, 0.5));
    free(cpu);
    snprintf(label, sizeof label, "search at %ld items: p99 ms, 'lar' (matches most)", n);
    bench_row(b, "search_broad_p99_ms", label, bench_quantile(wide, k2, 0.99), "%.1f",
              "ranked among its newest 500 matches");
    free(ms);

    /* one erasure: its item derived again, the segments of its part merged */
    Lernet__Payload *x = tu_erasure((const uint8_t(*)[EVENT_ID_BYTES])m.victim, 1, "bench");
    event_t *ev = NULL;
    if (event_create(&ev, k, BENCH_NET, (uint64_t)n + 1, head, event_now_ms(), x, why,
                     sizeof why))
        bench_die("search: erasure: %s", why);
    double t0 = bench_now();
    if (store_add(st, ev, NULL, NULL, why, sizeof why))
        bench_die("search: erasure: %s", why);
    double erase_s = bench_now() - t0;
    event_free(&ev);
    tu_payload_free(x);
    store_close(&st); /* checkpoints: the file holds everything */
    keys_free(&k);

    double all = table_bytes(path, NULL), idx = table_bytes(path, "search_p%_data") +
                                                table_bytes(path, "search_p%_idx");
    double index = table_bytes(path, "search_%");
    bench_row(b, "search_fill_per_s", "search: events/s stored with indexing (sign + store)",
              (double)n / fill_s, "%.0f", "one author, one transaction (when the cached store was built)");
    bench_row(b, "search_erase_ms", "search: one erasure at this size, ms", erase_s * 1000,
              "%.0f", "target < 1000");
    bench_row(b, "search_index_per_event", "search: index bytes per event (all search tables)",
              index / (double)n, "%.0f", "%.0f%% of the database's %.0f B per event",
              100 * index / all, all / (double)n);
    bench_row(b, "search_inverted_per_event", "search: of which the inverted index (suffixes)",
              idx / (double)n, "%.0f", "the rest: the text copy snippets are cut from");
    unlink(path);
}
