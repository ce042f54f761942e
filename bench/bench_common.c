/* bench_common: the table, timing, statistics and store filling. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "harness/testutil.h"

#define START 1796112000LL /* 2026-12-01, start time of the sample workshops */

void bench_row(bench_t *b, const char *key, const char *label, double value, const char *fmt,
               const char *compared, ...)
{
    if (b->n_rows >= BENCH_MAX_ROWS)
        bench_die("too many rows");
    bench_row_t *r = &b->rows[b->n_rows++];
    snprintf(r->key, sizeof r->key, "%s", key);
    snprintf(r->label, sizeof r->label, "%s", label);
    r->value = value;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(r->shown, sizeof r->shown, fmt, value);
#pragma GCC diagnostic pop
    va_list ap;
    va_start(ap, compared);
    vsnprintf(r->compared, sizeof r->compared, compared, ap);
    va_end(ap);
    fprintf(stderr, "bench: %-60s %s\n", r->label, r->shown);
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_quantile(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

double bench_median(double *v, int n)
{
    return bench_quantile(v, (size_t)n, 0.5);
}

Lernet__Payload *bench_payload(uint64_t i, int64_t start)
{
    static const char *sv[] = {"Arbetsplatslärande i Östhammar", "Lärcentrum som mäklare",
                               "Validering av yrkeskunskaper i Tierp"};
    static const char *da[] = {"Netværksmøde: innovationscamp i Køge",
                               "Erfaringsudveksling, Roskilde Handelsskole"};
    static const char *de[] = {"Lernwerkstatt OWL: Auftaktveranstaltung",
                               "Ideenwettbewerb für lernende Regionen"};
    char title[160];
    switch (i % 3) {
    case 0:
        snprintf(title, sizeof title, "%s (%llu)", sv[i % 3], (unsigned long long)i);
        return tu_workshop(title, "Workplace learning across borders", start);
    case 1:
        snprintf(title, sizeof title, "%s (%llu)", da[i % 2], (unsigned long long)i);
        return tu_meeting(title, start);
    default: {
        uint8_t about[EVENT_ID_BYTES];
        memset(about, (int)(i & 0xff), sizeof about);
        snprintf(title, sizeof title, "%s (%llu)", de[i % 2], (unsigned long long)i);
        return tu_experience(about, title);
    }
    }
}

/* The author's key log: its identity certifies the signing key sk, as
 * `lernet init` does, so content is signed the way real nodes sign it. */
static int certify(store_t *st, const keys_identity_t *k, const keys_identity_t *sk)
{
    Lernet__KeyCert c = LERNET__KEY_CERT__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    event_t *ev = NULL;
    int outcome = -1;
    c.signing_key.data = (uint8_t *)keys_public(sk);
    c.signing_key.len = KEYS_PUBLIC_BYTES;
    p.body_case = LERNET__PAYLOAD__BODY_KEY_CERT;
    p.key_cert = &c;
    int rc = event_create(&ev, k, EVENT_LOG_KEYS, 1, NULL, event_now_ms() - 86400000LL - 1, &p,
                          NULL, 0);
    if (rc == 0)
        rc = store_add(st, ev, &outcome, NULL, NULL, 0);
    event_free(&ev);
    return rc == 0 && outcome == STORE_APPLIED ? 0 : -1;
}

/* One author's log, signed in order by its certified signing key and added
 * in one transaction. */
static int fill_author(store_t *st, const keys_identity_t *k, int n, const char *net,
                       uint64_t base, uint64_t *raw)
{
    uint8_t prev[EVENT_ID_BYTES], prev_sig[EVENT_HASH_BYTES];
    int64_t created = event_now_ms() - 86400000LL;
    keys_identity_t *sk = NULL;
    if (keys_generate(&sk) != 0 || store_begin(st) != STORE_OK) {
        keys_free(&sk);
        return -1;
    }
    if (certify(st, k, sk) != 0) {
        store_rollback(st);
        keys_free(&sk);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        event_t *ev = NULL;
        int outcome = 0;
        Lernet__Payload *p = bench_payload(base + (uint64_t)i, START + i * 3600);
        /* linked as a node publishes (publish_event) */
        int rc = event_create_linked(&ev, keys_public(k), sk, net, (uint64_t)i + 1,
                                     i ? prev : NULL, i ? prev_sig : NULL, created + i, p, NULL,
                                     0);
        tu_payload_free(p);
        if (rc == 0)
            rc = store_add(st, ev, &outcome, NULL, NULL, 0);
        if (rc == 0 && outcome != STORE_APPLIED)
            rc = -1;
        uint8_t *env = NULL;
        size_t env_len = 0;
        if (rc == 0 && (rc = event_envelope(ev, &env, &env_len)) == 0) {
            memcpy(prev, ev->id, EVENT_ID_BYTES);
            event_sig_hash(prev_sig, ev->sig);
            *raw += env_len; /* the signed event as the wire carries it */
        }
        free(env);
        event_free(&ev);
        if (rc) {
            store_rollback(st);
            keys_free(&sk);
            return -1;
        }
    }
    keys_free(&sk);
    return store_commit(st) == STORE_OK ? 0 : -1;
}

int bench_fill(store_t *st, int authors, int per_author, const char *net, uint64_t *raw)
{
    *raw = 0;
    for (int a = 0; a < authors; a++) {
        keys_identity_t *k = NULL;
        int rc = keys_generate(&k) ? -1
                                   : fill_author(st, k, per_author, net,
                                                 (uint64_t)a * (uint64_t)per_author, raw);
        keys_free(&k);
        if (rc)
            return -1;
    }
    return 0;
}

/* CPU seconds (user + system, all threads) a process has used so far;
 * *sys_s (may be NULL) gets the system part. */
double bench_proc_cpu_s(pid_t pid, double *sys_s)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    /* the name in parentheses may hold spaces: fields are counted after it */
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &st) != 2)
        bench_die("cannot read the CPU time of process %d (did it exit?)", (int)pid);
    double tck = (double)sysconf(_SC_CLK_TCK);
    if (sys_s)
        *sys_s = (double)st / tck;
    return (double)(ut + st) / tck;
}
