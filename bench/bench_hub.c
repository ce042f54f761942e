/*
 * bench_hub: one hub daemon and many partners that dial it, the deployment
 * of schools behind NAT around a regional hub (docs/operators.md, "Sizing
 * a hub"):
 *  - the hub holds 10,000 logs (10,000 authors x 10 events in one network),
 *    built once with every core signing and kept under the bench directory;
 *  - its lernet.ini lists N simulated partners without endpoint (they dial
 *    it; --hub-partners N, default 1,000);
 *  - one load generator thread holds N CurveZMQ DEALERs, each under its
 *    own identity, and keeps each partner in sync without holding any log:
 *    Hello, then a Summary every 2 s (phases spread evenly, jittered). The
 *    first Summary carries a zero root and gets Buckets; the root of those
 *    256 bytes (BLAKE2b-128, docs/protocol.md "Digests") is what the next
 *    Summaries carry, and equal roots get a Summary back;
 *  - figures: the hub's CPU over a window of that in-sync steady state and
 *    its resident memory at the end (both from /proc), Summary-to-reply
 *    latency at the load generator, and the catch-up rate of a real daemon
 *    that joins (dialling, like the others) while the N keep their rounds.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench.h"
#include "harness/harness.h"
#include "harness/testutil.h"
#include "proto/wire.pb-c.h"
#include "sync/sync.h"

#define START 1796112000LL
#define ROUND_S 2.0          /* each partner's round interval */
#define JITTER_S 0.2         /* each round starts within +-this of its slot */
#define HELLO_RETRY_S 5.0    /* a Hello not acknowledged by then is sent again */
#define REPLY_TIMEOUT_S 15.0 /* as SYNC_REPLY_TIMEOUT_MS: the request counts as lost */
#define MAX_SAMPLES 1000000  /* latency samples kept (bounded; later ones are dropped) */
#define CHUNK_AUTHORS 1000   /* authors signed in parallel, then stored in one transaction */

/* ---- the hub's store ------------------------------------------------ */

typedef struct fill_job {
    event_t **ev; /* per author of the chunk: its key cert, then its events */
    int from, to, per, stride, first;
    atomic_int failed;
} fill_job_t;

typedef struct fill_arg {
    fill_job_t *job;
    int t;
} fill_arg_t;

/* One author: an identity that certifies a signing key in its @keys log,
 * and per events signed by that key, as `lernet init` and publish do. */
static int sign_author(event_t **out, int per, uint64_t base)
{
    keys_identity_t *k = NULL, *sk = NULL;
    Lernet__KeyCert c = LERNET__KEY_CERT__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    int64_t created = event_now_ms() - 86400000LL;
    int rc = keys_generate(&k) || keys_generate(&sk) ? -1 : 0;
    if (rc == 0) {
        c.signing_key.data = (uint8_t *)keys_public(sk);
        c.signing_key.len = KEYS_PUBLIC_BYTES;
        p.body_case = LERNET__PAYLOAD__BODY_KEY_CERT;
        p.key_cert = &c;
        rc = event_create(&out[0], k, EVENT_LOG_KEYS, 1, NULL, created - 1, &p, NULL, 0);
    }
    for (int i = 0; rc == 0 && i < per; i++) {
        Lernet__Payload *pl = bench_payload(base + (uint64_t)i, START + i * 3600);
        rc = event_create_as(&out[i + 1], keys_public(k), sk, BENCH_NET, (uint64_t)i + 1,
                             i ? out[i]->id : NULL, created + i, pl, NULL, 0);
        tu_payload_free(pl);
    }
    keys_free(&k);
    keys_free(&sk);
    return rc;
}

static void *fill_thread(void *v)
{
    fill_arg_t *a = v;
    fill_job_t *j = a->job;
    for (int au = j->from + a->t; au < j->to && !atomic_load(&j->failed); au += j->stride)
        if (sign_author(&j->ev[(size_t)(au - j->from) * (size_t)(j->per + 1)], j->per,
                        (uint64_t)au * (uint64_t)j->per) != 0)
            atomic_store(&j->failed, 1);
    return NULL;
}

/* Signs authors [from, to) on every core, then stores them in one
 * transaction, each author's key cert before its events. */
static int fill_chunk(store_t *st, int from, int to, int per, int threads, uint64_t *raw)
{
    size_t n = (size_t)(to - from) * (size_t)(per + 1);
    fill_job_t job = {
        .ev = calloc(n, sizeof(event_t *)), .from = from, .to = to, .per = per, .stride = threads};
    pthread_t tid[16];
    fill_arg_t args[16];
    int rc = job.ev ? 0 : -1;
    for (int t = 0; rc == 0 && t < threads; t++) {
        args[t] = (fill_arg_t){&job, t};
        if (pthread_create(&tid[t], NULL, fill_thread, &args[t]) != 0)
            bench_die("hub: cannot start a signing thread");
    }
    for (int t = 0; rc == 0 && t < threads; t++)
        pthread_join(tid[t], NULL);
    if (rc == 0 && (atomic_load(&job.failed) || store_begin(st) != STORE_OK))
        rc = -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int outcome = 0;
        uint8_t *env = NULL;
        size_t len = 0;
        if (store_add(st, job.ev[i], &outcome, NULL, NULL, 0) != STORE_OK ||
            outcome != STORE_APPLIED || event_envelope(job.ev[i], &env, &len) != 0)
            rc = -1;
        *raw += len;
        free(env);
    }
    if (rc == 0 && store_commit(st) != STORE_OK)
        rc = -1;
    for (size_t i = 0; job.ev && i < n; i++)
        event_free(&job.ev[i]);
    free(job.ev);
    return rc;
}

/* The hub's store, built once into the bench directory (named by size and
 * schema version) and copied into the hub's home each run. */
static void hub_store(const bench_t *b, const char *home, int authors, int per)
{
    char cache[600], tmp[640], why[256], cmd[1400];
    snprintf(cache, sizeof cache, "%s/hub-%dx%d-v%d.db", b->workdir, authors, per,
             STORE_SCHEMA_VERSION);
    if (access(cache, R_OK) != 0) {
        store_t *st = NULL;
        uint64_t raw = 0;
        int threads = b->cores < 16 ? b->cores : 16;
        double t0 = bench_now();
        fprintf(stderr, "bench: building the hub's store, %d authors x %d events (kept in %s)\n",
                authors, per, cache);
        snprintf(tmp, sizeof tmp, "%s.tmp", cache);
        unlink(tmp);
        if (store_open(&st, tmp, why, sizeof why) != STORE_OK)
            bench_die("hub: store %s: %s", tmp, why);
        for (int a = 0; a < authors; a += CHUNK_AUTHORS)
            if (fill_chunk(st, a, a + CHUNK_AUTHORS < authors ? a + CHUNK_AUTHORS : authors, per,
                           threads, &raw) != 0)
                bench_die("hub: filling %s failed", tmp);
        store_close(&st);
        if (rename(tmp, cache) != 0)
            bench_die("hub: cannot keep %s: %s", cache, strerror(errno));
        fprintf(stderr, "bench: hub store built in %.0f s\n", bench_now() - t0);
    }
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/store.db'", cache, home);
    if (tu_run(cmd, NULL) != 0)
        bench_die("hub: cannot copy %s", cache);
}

/* ---- the load generator --------------------------------------------- */

enum { SIM_NEW, SIM_HELLO, SIM_READY };

typedef struct sim {
    keys_transport_t *tk; /* until its socket is set up */
    void *sock;
    int state;
    bool have_root, in_sync;
    uint8_t root[SYNC_ROOT_BYTES];
    double hello_at, sent_at; /* sent_at 0: no Summary outstanding */
    double phase, next_at;
    uint64_t round;
} sim_t;

typedef struct lg_counts {
    uint64_t sent, summaries, buckets, skipped, timeouts, errors, hello_retries, other;
} lg_counts_t;

typedef struct lg {
    sim_t *sims;
    size_t n, opened;
    void *zctx;
    char endpoint[64];
    uint8_t hub_x25519[32];
    pthread_t thread;
    atomic_int stop;
    const char *failure;           /* set by the thread when it gives up */
    pthread_mutex_t mu;            /* guards what follows */
    size_t ready, rooted, in_sync; /* rooted: partners that know the hub's root */
    uint32_t logs;                 /* Summary.logs of the hub's last in-sync reply */
    lg_counts_t c;
    double *sample_at, *sample_ms;
    size_t n_samples;
} lg_t;

static int set_int(void *s, int opt, int v)
{
    return zmq_setsockopt(s, opt, &v, sizeof v);
}

static int set_curve(void *ctx, const uint8_t pub[KEYS_X25519_BYTES],
                     const uint8_t secret[KEYS_X25519_BYTES])
{
    return zmq_setsockopt(ctx, ZMQ_CURVE_PUBLICKEY, pub, KEYS_X25519_BYTES) == 0 &&
                   zmq_setsockopt(ctx, ZMQ_CURVE_SECRETKEY, secret, KEYS_X25519_BYTES) == 0
               ? KEYS_OK
               : KEYS_ERR_CRYPTO;
}

static void send_msg(sim_t *s, const Lernet__Wire__Msg *m)
{
    uint8_t buf[512];
    size_t len = lernet__wire__msg__get_packed_size(m);
    if (len <= sizeof buf) {
        lernet__wire__msg__pack(m, buf);
        zmq_send(s->sock, buf, len, ZMQ_DONTWAIT); /* a full queue: the round times out */
    }
}

static void send_hello(sim_t *s, size_t i, double now)
{
    char name[32], *caps[] = {"digest-v1"}, *nets[] = {BENCH_NET};
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Hello h = LERNET__WIRE__HELLO__INIT;
    snprintf(name, sizeof name, "sim-%05zu", i);
    h.protocol = SYNC_PROTOCOL;
    h.n_capabilities = 1;
    h.capabilities = caps;
    h.n_networks = 1;
    h.networks = nets;
    h.node_name = name;
    m.body_case = LERNET__WIRE__MSG__BODY_HELLO;
    m.hello = &h;
    send_msg(s, &m);
    s->state = SIM_HELLO;
    s->hello_at = now;
    s->sent_at = 0;
}

/* Partner i's DEALER: CURVE under its own identity, the hub's transport
 * key as server key, small queues and messages (it only ever gets
 * Summary, Buckets, HelloAck or Error). */
static int sim_open(lg_t *g, size_t i, double now)
{
    sim_t *s = &g->sims[i];
    int64_t maxmsg = 64 * 1024;
    if (!(s->sock = zmq_socket(g->zctx, ZMQ_DEALER)))
        return -1;
    int rc = keys_transport_lend(s->tk, set_curve, s->sock) != KEYS_OK ||
             zmq_setsockopt(s->sock, ZMQ_CURVE_SERVERKEY, g->hub_x25519, 32) != 0 ||
             zmq_setsockopt(s->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
             set_int(s->sock, ZMQ_SNDHWM, 4) || set_int(s->sock, ZMQ_RCVHWM, 16) ||
             set_int(s->sock, ZMQ_LINGER, 0) || set_int(s->sock, ZMQ_RECONNECT_IVL, 500) ||
             set_int(s->sock, ZMQ_HANDSHAKE_IVL, 10000) || zmq_connect(s->sock, g->endpoint);
    keys_transport_free(&s->tk);
    if (rc)
        return -1;
    send_hello(s, i, now); /* queued until the handshake is done */
    return 0;
}

static void record(lg_t *g, double now, double ms)
{
    if (g->n_samples < MAX_SAMPLES) {
        g->sample_at[g->n_samples] = now;
        g->sample_ms[g->n_samples++] = ms;
    }
}

static void set_in_sync(lg_t *g, sim_t *s, bool v)
{
    if (s->in_sync != v)
        g->in_sync += v ? 1 : (size_t)-1;
    s->in_sync = v;
}

/* One message from the hub to partner i (mu held). */
static void sim_recv(lg_t *g, size_t i, const uint8_t *buf, size_t len, double now)
{
    sim_t *s = &g->sims[i];
    Lernet__Wire__Msg *m = lernet__wire__msg__unpack(NULL, len, buf);
    if (!m) {
        g->c.other++;
        return;
    }
    bool reply = s->sent_at > 0;
    if (m->body_case == LERNET__WIRE__MSG__BODY_HELLO_ACK && s->state == SIM_HELLO) {
        s->state = SIM_READY;
        g->ready++;
        s->round = 0;
        s->phase = now + ROUND_S * (double)i / (double)g->n; /* spread evenly */
        s->next_at = s->phase;
    } else if (m->body_case == LERNET__WIRE__MSG__BODY_SUMMARY && reply) {
        record(g, now, (now - s->sent_at) * 1000);
        g->c.summaries++;
        g->logs = m->summary->logs;
        set_in_sync(g, s, true);
        s->sent_at = 0;
    } else if (m->body_case == LERNET__WIRE__MSG__BODY_BUCKETS && reply) {
        record(g, now, (now - s->sent_at) * 1000);
        g->c.buckets++;
        if (m->buckets->digests.len == SYNC_NBUCKETS * SYNC_BUCKET_BYTES) {
            crypto_generichash(s->root, SYNC_ROOT_BYTES, m->buckets->digests.data,
                               m->buckets->digests.len, NULL, 0);
            g->rooted += !s->have_root;
            s->have_root = true;
        }
        set_in_sync(g, s, false);
        s->sent_at = 0;
    } else if (m->body_case == LERNET__WIRE__MSG__BODY_ERROR) {
        g->c.errors++; /* no session (any more): start over */
        set_in_sync(g, s, false);
        if (s->state == SIM_READY)
            g->ready--;
        send_hello(s, i, now);
    } else {
        g->c.other++;
    }
    lernet__wire__msg__free_unpacked(m, NULL);
}

/* Partner i's round, when due: a Summary unless one is still out. */
static void sim_round(lg_t *g, size_t i, double now)
{
    sim_t *s = &g->sims[i];
    if (s->state == SIM_HELLO && now - s->hello_at > HELLO_RETRY_S) {
        g->c.hello_retries++;
        send_hello(s, i, now);
    }
    if (s->state == SIM_READY && s->sent_at > 0 && now - s->sent_at > REPLY_TIMEOUT_S) {
        g->c.timeouts++;
        s->sent_at = 0;
    }
    if (s->state != SIM_READY || now < s->next_at)
        return;
    s->round++;
    s->next_at = s->phase + ROUND_S * (double)s->round +
                 JITTER_S * ((double)randombytes_uniform(2001) / 1000.0 - 1.0);
    if (s->sent_at > 0) {
        g->c.skipped++;
        return;
    }
    uint8_t zero[SYNC_ROOT_BYTES] = {0};
    Lernet__Wire__Msg m = LERNET__WIRE__MSG__INIT;
    Lernet__Wire__Summary q = LERNET__WIRE__SUMMARY__INIT;
    q.root.data = s->have_root ? s->root : zero;
    q.root.len = SYNC_ROOT_BYTES;
    m.body_case = LERNET__WIRE__MSG__BODY_SUMMARY;
    m.summary = &q;
    send_msg(s, &m);
    s->sent_at = now;
    g->c.sent++;
}

/* Reads what waits on partner i's socket (mu held). Its ZMQ_FD only
 * says that something changed, and a send may consume that signal, so
 * after every wake-up and every send the socket is read until ZMQ_EVENTS
 * shows nothing left. Reads at most 32 messages; true if more are left. */
static bool sim_drain(lg_t *g, size_t i)
{
    void *sock = g->sims[i].sock;
    for (int k = 0; k < 32; k++) {
        int ev = 0;
        size_t elen = sizeof ev;
        uint8_t buf[2048];
        if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &elen) != 0 || !(ev & ZMQ_POLLIN))
            return false;
        int len = zmq_recv(sock, buf, sizeof buf, ZMQ_DONTWAIT);
        if (len < 0)
            return false;
        if ((size_t)len <= sizeof buf)
            sim_recv(g, i, buf, (size_t)len, bench_now());
        else
            g->c.other++; /* truncated: nothing the hub should send a partner */
    }
    return true;
}

/* The load generator's own bookkeeping, owned by its thread. */
typedef struct lg_loop {
    int ep;                 /* epoll over the DEALERs' ZMQ_FDs */
    size_t *again, n_again; /* sockets with messages left after a drain */
    uint8_t *queued;        /* per partner: in `again` */
    double next_open, next_due, next_scan;
} lg_loop_t;

static void drain_or_queue(lg_t *g, lg_loop_t *l, size_t i)
{
    if (sim_drain(g, i) && !l->queued[i]) {
        l->queued[i] = 1;
        l->again[l->n_again++] = i;
    }
}

/* Opens the next sockets, a few hundred a second, so that the hub does
 * not get every handshake at once. */
static void open_some(lg_t *g, lg_loop_t *l, double now)
{
    for (size_t k = 0; k < 50 && g->opened < g->n && now >= l->next_open; k++) {
        size_t i = g->opened;
        int fd = -1;
        size_t flen = sizeof fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = i};
        if (sim_open(g, i, now) != 0 || zmq_getsockopt(g->sims[i].sock, ZMQ_FD, &fd, &flen) ||
            epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            g->failure = "cannot open a DEALER (file descriptors? see ulimit -n)";
            atomic_store(&g->stop, 1);
            return;
        }
        g->opened++;
        drain_or_queue(g, l, i);
    }
    if (g->opened < g->n && now >= l->next_open)
        l->next_open = now + 0.1;
}

/* Every partner's due round; every 100 ms also the Hellos and Summaries
 * waiting too long. Sets when the next round is due. */
static void run_rounds(lg_t *g, lg_loop_t *l, double now)
{
    bool all = now >= l->next_scan;
    if (!all && now < l->next_due)
        return;
    l->next_due = now + 1;
    if (all)
        l->next_scan = now + 0.1;
    for (size_t i = 0; i < g->opened; i++) {
        sim_t *s = &g->sims[i];
        if (all || (s->state == SIM_READY && s->next_at <= now)) {
            uint64_t sent = g->c.sent + g->c.hello_retries;
            sim_round(g, i, now);
            if (g->c.sent + g->c.hello_retries != sent)
                drain_or_queue(g, l, i);
        }
        if (s->state == SIM_READY && s->next_at < l->next_due)
            l->next_due = s->next_at;
    }
}

/* The one poll loop (epoll: each turn costs what is ready, not N) over
 * every partner's socket, until told to stop. */
static void *lg_thread(void *v)
{
    lg_t *g = v;
    lg_loop_t l = {.ep = epoll_create1(0),
                   .again = calloc(g->n, sizeof(size_t)),
                   .queued = calloc(g->n, 1),
                   .next_open = bench_now()};
    struct epoll_event evs[256];
    if (l.ep < 0 || !l.again || !l.queued)
        g->failure = "cannot set up the poll loop";
    while (!g->failure && !atomic_load(&g->stop)) {
        pthread_mutex_lock(&g->mu);
        double now = bench_now();
        open_some(g, &l, now);
        size_t n_again = l.n_again;
        l.n_again = 0;
        for (size_t k = 0; k < n_again; k++) {
            l.queued[l.again[k]] = 0;
            drain_or_queue(g, &l, l.again[k]);
        }
        run_rounds(g, &l, now);
        double wake = l.next_due < l.next_scan ? l.next_due : l.next_scan;
        if (g->opened < g->n && l.next_open < wake)
            wake = l.next_open;
        pthread_mutex_unlock(&g->mu);
        long ms = l.n_again ? 0 : (long)((wake - bench_now()) * 1000) + 1;
        int n = epoll_wait(l.ep, evs, 256, ms > 0 ? (int)ms : 0);
        if (n < 0 && errno != EINTR)
            g->failure = "epoll_wait failed";
        pthread_mutex_lock(&g->mu);
        for (int k = 0; k < n; k++)
            drain_or_queue(g, &l, (size_t)evs[k].data.u64);
        pthread_mutex_unlock(&g->mu);
    }
    if (l.ep >= 0)
        close(l.ep);
    free(l.again);
    free(l.queued);
    return NULL;
}

/* N partner identities; their public keys go into the hub's lernet.ini. */
static void lg_init(lg_t *g, size_t n, const hnode_t *hub, FILE *ini)
{
    uint8_t hub_pk[KEYS_PUBLIC_BYTES];
    memset(g, 0, sizeof *g);
    g->n = n;
    g->sims = calloc(n, sizeof *g->sims);
    g->sample_at = calloc(MAX_SAMPLES, sizeof(double));
    g->sample_ms = calloc(MAX_SAMPLES, sizeof(double));
    pthread_mutex_init(&g->mu, NULL);
    snprintf(g->endpoint, sizeof g->endpoint, "tcp://127.0.0.1:%d", hub->port);
    if (!g->sims || !g->sample_at || !g->sample_ms || keys_pub_decode(hub_pk, hub->pub) ||
        keys_curve_public(g->hub_x25519, hub_pk))
        bench_die("hub: load generator setup failed");
    for (size_t i = 0; i < n; i++) {
        keys_identity_t *k = NULL;
        char pub[KEYS_PUB_STR_SIZE];
        if (keys_generate(&k) || keys_transport_from_identity(&g->sims[i].tk, k))
            bench_die("hub: cannot make partner %zu's keys", i);
        keys_pub_encode(pub, keys_public(k));
        keys_free(&k);
        fprintf(ini, "\n[peer \"sim-%05zu\"]\npublic_key = %s\nnetworks = %s\n", i, pub, BENCH_NET);
    }
}

static void lg_start(lg_t *g)
{
    if (!(g->zctx = zmq_ctx_new()) || zmq_ctx_set(g->zctx, ZMQ_IO_THREADS, 1) != 0 ||
        zmq_ctx_set(g->zctx, ZMQ_MAX_SOCKETS, (int)g->n + 64) != 0)
        bench_die("hub: cannot set up the load generator's ZeroMQ context");
    if (pthread_create(&g->thread, NULL, lg_thread, g) != 0)
        bench_die("hub: cannot start the load generator");
}

static void lg_stop(lg_t *g)
{
    atomic_store(&g->stop, 1);
    pthread_join(g->thread, NULL);
    for (size_t i = 0; i < g->n; i++) {
        if (g->sims[i].sock)
            zmq_close(g->sims[i].sock);
        keys_transport_free(&g->sims[i].tk);
    }
    zmq_ctx_term(g->zctx);
    pthread_mutex_destroy(&g->mu);
    free(g->sims);
    free(g->sample_at);
    free(g->sample_ms);
}

typedef struct lg_snap {
    size_t ready, rooted, in_sync, n_samples;
    uint32_t logs;
    lg_counts_t c;
} lg_snap_t;

static lg_snap_t lg_snapshot(lg_t *g)
{
    pthread_mutex_lock(&g->mu);
    lg_snap_t s = {g->ready, g->rooted, g->in_sync, g->n_samples, g->logs, g->c};
    pthread_mutex_unlock(&g->mu);
    return s;
}

/* Latency quantile q of the samples [from, to) (taken between two
 * snapshots; the thread only appends, so they stay put). */
static double lg_quantile(lg_t *g, size_t from, size_t to, double q)
{
    if (to <= from)
        return 0;
    double *v = malloc((to - from) * sizeof *v);
    if (!v)
        bench_die("out of memory");
    memcpy(v, g->sample_ms + from, (to - from) * sizeof *v);
    double r = bench_quantile(v, to - from, q);
    free(v);
    return r;
}

/* ---- the hub process ------------------------------------------------ */

/* The daemons of this section, stopped (and their homes removed) at exit,
 * also when bench_die ends the run half way. */
static hnode_t *live_nodes[2];

static void stop_live(void)
{
    for (size_t i = 0; i < 2; i++)
        if (live_nodes[i]) {
            h_node_free(live_nodes[i]);
            free(live_nodes[i]);
            live_nodes[i] = NULL;
        }
}


static double proc_rss_mib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    if (kib < 0)
        bench_die("hub: cannot read %s", path);
    return (double)kib / 1024;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Two descriptors per DEALER here (its connection and its mailbox), one
 * connection each at the hub, which inherits this limit. */
static unsigned long long raise_nofile(size_t partners)
{
    struct rlimit r;
    rlim_t need = (rlim_t)(3 * partners + 256);
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        bench_die("hub: getrlimit: %s", strerror(errno));
    if (r.rlim_cur < need) {
        if (r.rlim_max != RLIM_INFINITY && r.rlim_max < need)
            bench_die("hub: %zu partners need %llu file descriptors; the hard limit is %llu "
                      "(raise it, or pass --hub-partners fewer)",
                      partners, (unsigned long long)need, (unsigned long long)r.rlim_max);
        r.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &r) != 0)
            bench_die("hub: setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)need,
                      strerror(errno));
    }
    return (unsigned long long)r.rlim_cur;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

static void hub_check(const lg_t *g, const hnode_t *hub)
{
    if (g->failure)
        bench_die("hub: load generator: %s", g->failure);
    if (kill(hub->pid, 0) != 0)
        bench_die("hub: the hub daemon exited; see %s/daemon.log", hub->home);
}

/* Waits until every partner has its session (HelloAck) and knows the
 * hub's root, so that every Summary from then on is an in-sync one (which
 * a saturated hub answers late, but answers); dies naming what is missing. */
static void await_rooted(lg_t *g, const hnode_t *hub, double limit_s)
{
    double end = bench_now() + limit_s;
    for (lg_snap_t s = lg_snapshot(g); s.rooted < g->n; s = lg_snapshot(g)) {
        hub_check(g, hub);
        if (bench_now() > end)
            bench_die("hub: after %.0f s only %zu of %zu partners have a session and %zu know "
                      "the hub's root (%llu Summaries sent, %llu replies, %llu errors); the hub "
                      "does not answer: see %s/daemon.log",
                      limit_s, s.ready, g->n, s.rooted, (unsigned long long)s.c.sent,
                      (unsigned long long)(s.c.summaries + s.c.buckets),
                      (unsigned long long)s.c.errors, hub->home);
        sleep_s(0.1);
    }
}

static json_t *status_of(const hnode_t *n)
{
    json_t *r = h_control(n, "status");
    if (!r || !json_is_true(json_object_get(r, "ok")))
        bench_die("hub: %s gives no status (see %s/daemon.log)", n->name, n->home);
    return r;
}

static int64_t jint(json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

/* A fresh daemon dials the hub and takes everything it holds; events/s
 * from its first connection to its last commit, as the daemon stamps them.
 * One that has not finished within the limit is given as the rate so far,
 * and *done says so (a saturated hub is a figure, not a failure). */
static double catch_up(const bench_t *b, lg_t *g, hnode_t *hub, hnode_t *fresh, long want,
                       long *got)
{
    double limit = b->quick ? 60 : 120, end = bench_now() + limit;
    if (h_node_start(fresh) != 0)
        bench_die("hub: the joining partner did not start (see %s/daemon.log)", fresh->home);
    json_t *st = NULL;
    for (;;) {
        json_t *r = h_control(fresh, "status"); /* a busy daemon may miss one */
        if (r && json_is_true(json_object_get(r, "ok"))) {
            json_decref(st);
            st = r;
            *got = (long)jint(st, "events_received");
        } else {
            json_decref(r);
            if (kill(fresh->pid, 0) != 0)
                bench_die("hub: the joining partner exited; see %s/daemon.log", fresh->home);
        }
        if (*got >= want || bench_now() > end)
            break;
        hub_check(g, hub);
        sleep_s(0.1); /* the daemon stamps the times; polling only notices the end */
    }
    if (!st)
        bench_die("hub: the joining partner gave no status in %.0f s (see %s/daemon.log)", limit,
                  fresh->home);
    int64_t first = jint(st, "first_connected_ms");
    int64_t last = *got >= want ? jint(st, "last_applied_ms") : event_now_ms();
    json_decref(st);
    if (*got < want)
        fprintf(stderr, "bench: hub: the joining partner has %ld of %ld events after %.0f s\n",
                *got, want, limit);
    if (!first)
        bench_die("hub: the joining partner never connected to the hub (see %s/daemon.log)",
                  fresh->home);
    return last > first ? (double)*got / ((double)(last - first) / 1000) : 0;
}

static void write_hub_config(hnode_t *hub, lg_t *g, size_t n)
{
    char path[600];
    if (h_node_write_config(hub) != 0)
        bench_die("hub: cannot write the hub's config");
    snprintf(path, sizeof path, "%s/lernet.ini", hub->home);
    FILE *ini = fopen(path, "a");
    if (!ini)
        bench_die("hub: cannot append to %s", path);
    lg_init(g, n, hub, ini);
    if (fclose(ini) != 0)
        bench_die("hub: cannot write %s", path);
}

typedef struct hub_fig {
    double cpu_pct, self_pct, rounds_per_s, p50, p99, p99_catchup, rss, catchup;
    lg_snap_t a, z;
    long events, got;
} hub_fig_t;

static void hub_rows(bench_t *b, const hub_fig_t *f, size_t n, int authors, int per,
                     unsigned long long nofile)
{
    char label[96];
    uint64_t rounds = f->z.c.summaries + f->z.c.buckets - f->a.c.summaries - f->a.c.buckets;
    uint64_t late = f->z.c.skipped - f->a.c.skipped + f->z.c.timeouts - f->a.c.timeouts;
    bench_row(b, "hub_partners", "hub: simulated partners dialling it (CURVE, 2 s rounds)",
              (double)n, "%.0f", "target >= 1,000; %d cores, RLIMIT_NOFILE %llu", b->cores, nofile);
    snprintf(label, sizeof label, "hub: logs (%d authors x %d events, one network)", authors, per);
    bench_row(b, "hub_logs", label, (double)authors, "%.0f",
              "%u logs in its digest with the authors' @keys; %ld events", f->z.logs, f->events);
    bench_row(b, "hub_cpu_pct_in_sync", "hub: CPU in the in-sync steady state, % of one core",
              f->cpu_pct, "%.1f", "target <= 10; %.0f rounds/s, %.0f us per round", f->rounds_per_s,
              f->rounds_per_s > 0 ? f->cpu_pct / 100 / f->rounds_per_s * 1e6 : 0);
    bench_row(b, "hub_round_ms_p99", "hub: Summary-to-reply ms at the partners, p99", f->p99,
              "%.1f", "p50 %.2f ms; %llu of %llu rounds late or lost", f->p50,
              (unsigned long long)late, (unsigned long long)(rounds + late));
    bench_row(b, "hub_rss_mib", "hub: resident MiB at the end", f->rss, "%.1f", "target <= 256");
    snprintf(label, sizeof label, "hub: a new partner catches up %ld events, ev/s", f->events);
    if (f->got >= f->events)
        bench_row(b, "hub_catchup_per_s", label, f->catchup, "%.0f",
                  "%.2f x cores x one-core verify; rounds p99 %.1f ms meanwhile",
                  f->catchup / (b->cores * b->verify_rate), f->p99_catchup);
    else
        bench_row(b, "hub_catchup_per_s", label, f->catchup, "%.0f",
                  "INCOMPLETE: %ld of %ld events in the time allowed; rounds p99 %.1f ms "
                  "meanwhile",
                  f->got, f->events, f->p99_catchup);
    bench_row(b, "hub_loadgen_cpu_pct", "hub: the load generator's CPU, % of one core", f->self_pct,
              "%.1f", "same machine: it competes with the hub");
}

void bench_hub(bench_t *b)
{
    int authors = b->quick ? 100 : 10000, per = 10;
    size_t n = b->hub_partners ? (size_t)b->hub_partners : b->quick ? 20 : 1000;
    double window = b->quick ? 4 : 25;
    unsigned long long nofile = raise_nofile(n);
    hnode_t *hub = calloc(1, sizeof *hub), *fresh = calloc(1, sizeof *fresh);
    lg_t *g = calloc(1, sizeof *g);
    hub_fig_t f = {0};
    if (h_node_init(hub, "Region Örebro län", "SE", BENCH_NET) ||
        h_node_init(fresh, "Lärcentrum Tierp", "SE", BENCH_NET))
        bench_die("hub: lernet init failed");
    live_nodes[0] = hub;
    live_nodes[1] = fresh;
    atexit(stop_live);
    snprintf(hub->log_level, sizeof hub->log_level, "info");
    snprintf(fresh->log_level, sizeof fresh->log_level, "info");
    hub->sync_interval_ms = 2000;
    h_link_dialing(fresh, hub, BENCH_NET);
    if (h_node_write_config(fresh) != 0)
        bench_die("hub: cannot write the joining partner's config");
    write_hub_config(hub, g, n);
    hub_store(b, hub->home, authors, per);
    if (h_node_start(hub) != 0)
        bench_die("hub: the hub did not start (see %s/daemon.log)", hub->home);
    json_t *hs = status_of(hub);
    f.events = (long)jint(hs, "events");
    json_decref(hs);
    double t_start = bench_now();
    lg_start(g);
    await_rooted(g, hub, b->quick ? 30 : 90);
    f.a = lg_snapshot(g);
    fprintf(stderr, "bench: hub: %zu partners know the root after %.1f s (%zu in sync)\n", n,
            bench_now() - t_start, f.a.in_sync);
    double c0 = bench_proc_cpu_s(hub->pid, NULL), s0 = self_cpu_s(), t0 = bench_now();
    sleep_s(window); /* the measurement window itself, not a wait for a condition */
    hub_check(g, hub);
    double c1 = bench_proc_cpu_s(hub->pid, NULL), s1 = self_cpu_s(), t1 = bench_now();
    f.z = lg_snapshot(g);
    f.cpu_pct = (c1 - c0) / (t1 - t0) * 100;
    f.self_pct = (s1 - s0) / (t1 - t0) * 100;
    f.rounds_per_s =
        (double)(f.z.c.summaries + f.z.c.buckets - f.a.c.summaries - f.a.c.buckets) / (t1 - t0);
    f.p50 = lg_quantile(g, f.a.n_samples, f.z.n_samples, 0.5);
    f.p99 = lg_quantile(g, f.a.n_samples, f.z.n_samples, 0.99);
    fprintf(stderr,
            "bench: hub: in sync, %.0f s: CPU %.1f %%, %.0f rounds/s, p50 %.1f ms, "
            "p99 %.1f ms\n",
            t1 - t0, f.cpu_pct, f.rounds_per_s, f.p50, f.p99);
    f.catchup = catch_up(b, g, hub, fresh, f.events, &f.got);
    lg_snap_t c = lg_snapshot(g);
    f.p99_catchup = lg_quantile(g, f.z.n_samples, c.n_samples, 0.99);
    f.rss = proc_rss_mib(hub->pid);
    hub_check(g, hub);
    lg_stop(g);
    stop_live();
    hub_rows(b, &f, n, authors, per, nofile);
    free(g);
}
