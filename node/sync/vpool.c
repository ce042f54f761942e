/* vpool: see vpool.h. One job at a time; items are claimed one by one
 * with an atomic counter, so a slow item never holds up a whole share. */
#include "sync/vpool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One item in VPOOL_SAMPLE has its parse timed on its thread's CPU clock
 * (a system call each way: timing every one would cost a percent of what
 * it measures); the others are counted, and the sum scaled up. */
#define VPOOL_SAMPLE 8

enum phase {
    PH_PARSE,  /* every item: event_parse_unverified */
    PH_VERIFY, /* the items idx names: event_verify */
};

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
    /* the current phase of it: over items[0..n), or items[idx[k]] for k in
     * [0..count) (idx NULL: every item) */
    enum phase phase;
    const size_t *idx;
    size_t count;
    atomic_size_t next, finished;
    int busy; /* workers inside the current phase */
    /* since vpool_new: envelopes parsed, of them timed, their CPU ns;
     * signatures verified and their CPU ns (each timed: a verification
     * costs a hundred times the clock reads) */
    atomic_uint_fast64_t parsed, timed, timed_ns, verified, verify_ns;
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

static void parse_one(vpool_t *p, vpool_item_t *it, int64_t now_ms)
{
    it->why[0] = '\0';
    it->ev = NULL;
    if (it->known) {
        it->rc = EV_OK;
        return;
    }
    bool timed = atomic_fetch_add(&p->parsed, 1) % VPOOL_SAMPLE == 0;
    int64_t t0 = timed ? thread_cpu_ns() : 0;
    it->rc = event_parse_unverified(&it->ev, it->buf, it->len, now_ms, it->why, sizeof it->why);
    if (timed) {
        atomic_fetch_add(&p->timed_ns, (uint64_t)(thread_cpu_ns() - t0));
        atomic_fetch_add(&p->timed, 1);
    }
}

/* A refusal frees the event: the caller sees rc and why, as for a parse. */
static void verify_one(vpool_t *p, vpool_item_t *it)
{
    int64_t t0 = thread_cpu_ns();
    it->rc = event_verify(it->ev, it->why, sizeof it->why);
    atomic_fetch_add(&p->verify_ns, (uint64_t)(thread_cpu_ns() - t0));
    atomic_fetch_add(&p->verified, 1);
    if (it->rc != EV_OK)
        event_free(&it->ev);
}

/* ---- the links of a batch (for settle) --------------------------------- */

/* For each parsed item, the item of the batch its prev names (or -1), and
 * whether a later item of the batch names it. Ids are looked up in an
 * open-addressing table of item indexes (ids are hashes: their first bytes
 * spread well). */
typedef struct links {
    vpool_item_t *items;
    size_t n, cap;
    long *slot;    /* cap entries: an item index, or -1 */
    long *prev_of; /* n entries */
    bool *linked;  /* n entries */
} links_t;

static size_t id_home(const uint8_t id[EVENT_ID_BYTES], size_t cap)
{
    uint64_t h;
    memcpy(&h, id, sizeof h);
    return (size_t)h & (cap - 1);
}

static long links_find(const links_t *l, const uint8_t id[EVENT_ID_BYTES])
{
    size_t k = id_home(id, l->cap);
    for (size_t tries = 0; tries < l->cap; tries++, k = (k + 1) & (l->cap - 1)) {
        long i = l->slot[k];
        if (i < 0)
            return -1;
        if (memcmp(l->items[i].ev->id, id, EVENT_ID_BYTES) == 0)
            return i;
    }
    return -1;
}

static void links_put(links_t *l, long i)
{
    const uint8_t *id = l->items[i].ev->id;
    size_t k = id_home(id, l->cap);
    while (l->slot[k] >= 0) {
        if (memcmp(l->items[l->slot[k]].ev->id, id, EVENT_ID_BYTES) == 0)
            return; /* a second copy in the batch: the first is the one linked */
        k = (k + 1) & (l->cap - 1);
    }
    l->slot[k] = i;
}

static void links_free(links_t *l)
{
    if (!l)
        return;
    free(l->slot);
    free(l->prev_of);
    free(l->linked);
    free(l);
}

/* NULL when out of memory. */
static links_t *links_new(vpool_item_t *items, size_t n)
{
    links_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->items = items;
    l->n = n;
    for (l->cap = 16; l->cap < 2 * n; l->cap *= 2)
        ;
    l->slot = malloc(l->cap * sizeof *l->slot);
    l->prev_of = malloc((n ? n : 1) * sizeof *l->prev_of);
    l->linked = calloc(n ? n : 1, sizeof *l->linked);
    if (!l->slot || !l->prev_of || !l->linked) {
        links_free(l);
        return NULL;
    }
    for (size_t k = 0; k < l->cap; k++)
        l->slot[k] = -1;
    for (size_t i = 0; i < n; i++)
        if (items[i].ev)
            links_put(l, (long)i);
    for (size_t j = 0; j < n; j++) {
        const event_t *ev = items[j].ev;
        long i = ev && ev->has_prev_sig ? links_find(l, ev->prev) : -1;
        l->prev_of[j] = i;
        if (i >= 0)
            l->linked[i] = true;
    }
    return l;
}

/* From item top, once settled, down its chain while each link vouches. At
 * most n steps: each one lowers seq by one (event_vouch). */
static void links_vouch_down(const links_t *l, size_t top)
{
    size_t cur = top;
    for (size_t steps = 0; steps < l->n; steps++) {
        const event_t *next = l->items[cur].ev;
        long i = l->prev_of[cur];
        if (!next || next->sig_state == EVENT_SIG_UNCHECKED || i < 0)
            return;
        event_t *ev = l->items[i].ev;
        if (!ev || ev->sig_state != EVENT_SIG_UNCHECKED || !event_vouch(ev, next))
            return;
        cur = (size_t)i;
    }
}

/* Claims and does the phase's items until none are left; returns how many
 * it did. joiner: the caller's thread, which runs p->between on the way. */
static size_t drain(vpool_t *p, enum phase ph, vpool_item_t *items, const size_t *idx,
                    size_t count, int64_t now_ms, bool joiner)
{
    size_t did = 0;
    int64_t since = joiner && p->between ? mono_ms() : 0;
    for (size_t k; (k = atomic_fetch_add(&p->next, 1)) < count; did++) {
        if (since && mono_ms() - since >= p->between_ms) {
            p->between(p->between_ctx);
            since = mono_ms();
        }
        vpool_item_t *it = &items[idx ? idx[k] : k];
        if (ph == PH_PARSE)
            parse_one(p, it, now_ms);
        else
            verify_one(p, it);
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
        enum phase ph = p->phase;
        const size_t *idx = p->idx;
        size_t count = p->count;
        int64_t now = p->now_ms;
        p->busy++;
        pthread_mutex_unlock(&p->mu);
        size_t did = drain(p, ph, items, idx, count, now, false);
        pthread_mutex_lock(&p->mu);
        p->busy--;
        if (atomic_fetch_add(&p->finished, did) + did == count || p->busy == 0)
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
    *cpu_ns = (k ? (uint64_t)((double)ns * ((double)n / (double)k)) : 0) +
              (uint64_t)atomic_load(&p->verify_ns);
}

uint64_t vpool_verified(vpool_t *p)
{
    return atomic_load(&p->verified);
}

/* Starts a phase over count items: the workers join in at once. With mu
 * held; a job's first phase (items NULL: the current job's) sets it. */
static void phase_start_locked(vpool_t *p, vpool_item_t *items, size_t n, int64_t now_ms,
                               enum phase ph, const size_t *idx, size_t count)
{
    /* A worker that woke late for the previous phase may still be in
     * drain() with its items: never reset the counters under it. */
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    if (items) {
        p->items = items;
        p->n = n;
        p->now_ms = now_ms;
    }
    p->phase = ph;
    p->idx = idx;
    p->count = count;
    atomic_store(&p->next, 0);
    atomic_store(&p->finished, 0);
    if (p->n_threads > 0 && count > 1) { /* one item is not worth waking anyone */
        p->generation++;
        pthread_cond_broadcast(&p->work);
    }
}

/* The caller helps with the phase and returns when it is done. */
static void phase_finish(vpool_t *p)
{
    size_t did = drain(p, p->phase, p->items, p->idx, p->count, p->now_ms, true);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->finished, did);
    /* Every item claimed is finished by whoever claimed it; wait for the
     * workers still inside this phase so none touches items after it. */
    while (atomic_load(&p->finished) < p->count || p->busy > 0)
        pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void vpool_submit(vpool_t *p, vpool_item_t *items, size_t n, int64_t now_ms)
{
    pthread_mutex_lock(&p->mu);
    phase_start_locked(p, items, n, now_ms, PH_PARSE, NULL, n);
    pthread_mutex_unlock(&p->mu);
}

/* The items whose event is still EVENT_SIG_UNCHECKED, into idx; their
 * number. */
static size_t unchecked(const vpool_item_t *items, size_t n, size_t *idx)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].ev && items[i].ev->sig_state == EVENT_SIG_UNCHECKED)
            idx[m++] = i;
    return m;
}

static void verify_all(vpool_t *p, const size_t *idx, size_t m)
{
    if (m) {
        pthread_mutex_lock(&p->mu);
        phase_start_locked(p, NULL, 0, 0, PH_VERIFY, idx, m);
        pthread_mutex_unlock(&p->mu);
        phase_finish(p);
    }
}

/* Settles every parsed event's signature with as few verifications as
 * the links allow: the tops of the chains the batch holds (events that
 * no later event of the batch links to) are verified; each verified or
 * vouched event then vouches for the one its prev and prev_sig name
 * (event_vouch), down the chain. Whatever is left (a top that failed, a
 * link that does not hold) is verified on its own. */
static void settle(vpool_t *p)
{
    vpool_item_t *items = p->items;
    size_t n = p->n;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) { /* no memory to share the work: every one here */
        for (size_t i = 0; i < n; i++)
            if (items[i].ev)
                verify_one(p, &items[i]);
        return;
    }
    links_t *l = links_new(items, n); /* NULL (no memory): no links, all are tops */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].ev && !(l && l->linked[i]))
            idx[m++] = i;
    verify_all(p, idx, m);
    for (size_t k = 0; l && k < m; k++)
        links_vouch_down(l, idx[k]);
    verify_all(p, idx, unchecked(items, n, idx));
    links_free(l);
    free(idx);
}

void vpool_join(vpool_t *p)
{
    phase_finish(p);
    settle(p);
    pthread_mutex_lock(&p->mu);
    p->items = NULL;
    p->n = 0;
    pthread_mutex_unlock(&p->mu);
}

void vpool_parse(vpool_t *p, vpool_item_t *items, size_t n, int64_t now_ms)
{
    vpool_submit(p, items, n, now_ms);
    vpool_join(p);
}
