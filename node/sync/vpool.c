/* vpool: see vpool.h. One job at a time; items are claimed one by one
 * with an atomic counter, so a slow item never holds up a whole share. */
#include "sync/vpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* One item in VPOOL_SAMPLE has its parse timed on its thread's CPU clock
 * (a system call each way: timing every one would cost a percent of what
 * it measures); the others are counted, and the sum scaled up. */
#define VPOOL_SAMPLE 8

struct vpool {
    pthread_t threads[VPOOL_MAX_THREADS];
    int n_threads;
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    /* the current job, guarded by mu except for the atomic counters */
    uint64_t generation;
    int stopping;
    vpool_item_t *items;
    size_t n;
    int64_t now_ms;
    atomic_size_t next, finished;
    int busy; /* workers inside the current job */
    /* since vpool_new: envelopes parsed, of them timed, their CPU ns */
    atomic_uint_fast64_t parsed, timed, timed_ns;
    void (*between)(void *ctx); /* see vpool_between; NULL: none */
    void *between_ctx;
    int between_ms;
};

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Claims and parses items until none are left; returns how many it did.
 * joiner: the caller's thread, which runs p->between on the way. */
static size_t drain(vpool_t *p, vpool_item_t *items, size_t n, int64_t now_ms, bool joiner)
{
    size_t did = 0;
    int64_t since = joiner && p->between ? mono_ms() : 0;
    for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < n; did++) {
        if (since && mono_ms() - since >= p->between_ms) {
            p->between(p->between_ctx);
            since = mono_ms();
        }
        vpool_item_t *it = &items[i];
        it->why[0] = '\0';
        it->ev = NULL;
        if (it->known) {
            it->rc = EV_OK;
            continue;
        }
        bool timed = atomic_fetch_add(&p->parsed, 1) % VPOOL_SAMPLE == 0;
        int64_t t0 = timed ? thread_cpu_ns() : 0;
        it->rc = event_parse_erasable(&it->ev, it->buf, it->len, now_ms, it->why, sizeof it->why);
        if (timed) {
            atomic_fetch_add(&p->timed_ns, (uint64_t)(thread_cpu_ns() - t0));
            atomic_fetch_add(&p->timed, 1);
        }
    }
    return did;
}

static void *worker(void *arg)
{
    vpool_t *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && p->generation == seen)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stopping)
            break;
        seen = p->generation;
        vpool_item_t *items = p->items;
        size_t n = p->n;
        int64_t now = p->now_ms;
        p->busy++;
        pthread_mutex_unlock(&p->mu);
        size_t did = drain(p, items, n, now, false);
        pthread_mutex_lock(&p->mu);
        p->busy--;
        if (atomic_fetch_add(&p->finished, did) + did == n || p->busy == 0)
            pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int vpool_new(vpool_t **out, int workers)
{
    vpool_t *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    if (workers < 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        workers = cores > 1 ? (int)cores - 1 : 0;
    }
    if (workers > VPOOL_MAX_THREADS)
        workers = VPOOL_MAX_THREADS;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0)
            break; /* fewer threads is slower, not wrong */
        p->n_threads++;
    }
    *out = p;
    return 0;
}

void vpool_free(vpool_t **pp)
{
    if (!pp || !*pp)
        return;
    vpool_t *p = *pp;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p);
    *pp = NULL;
}

int vpool_threads(const vpool_t *p)
{
    return p->n_threads + 1;
}

void vpool_between(vpool_t *p, void (*between)(void *ctx), void *ctx, int every_ms)
{
    p->between = between;
    p->between_ctx = ctx;
    p->between_ms = every_ms;
}

void vpool_cost(vpool_t *p, uint64_t *parsed, uint64_t *cpu_ns)
{
    uint64_t n = atomic_load(&p->parsed), k = atomic_load(&p->timed);
    uint64_t ns = atomic_load(&p->timed_ns);
    *parsed = n;
    *cpu_ns = k ? (uint64_t)((double)ns * ((double)n / (double)k)) : 0;
}

void vpool_submit(vpool_t *p, vpool_item_t *items, size_t n, int64_t now_ms)
{
    pthread_mutex_lock(&p->mu);
    /* A worker that woke late for the previous job may still be in drain()
     * with that job's items: never reset the counters under it. */
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    p->items = items;
    p->n = n;
    p->now_ms = now_ms;
    atomic_store(&p->next, 0);
    atomic_store(&p->finished, 0);
    if (p->n_threads > 0 && n > 1) { /* one item is not worth waking anyone */
        p->generation++;
        pthread_cond_broadcast(&p->work);
    }
    pthread_mutex_unlock(&p->mu);
}

void vpool_join(vpool_t *p)
{
    size_t did = drain(p, p->items, p->n, p->now_ms, true);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->finished, did);
    /* Every item claimed is finished by whoever claimed it; wait for the
     * workers still inside this job so none touches items after return. */
    while (atomic_load(&p->finished) < p->n || p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    p->items = NULL;
    p->n = 0;
    pthread_mutex_unlock(&p->mu);
}

void vpool_parse(vpool_t *p, vpool_item_t *items, size_t n, int64_t now_ms)
{
    vpool_submit(p, items, n, now_ms);
    vpool_join(p);
}
