/*
 * bench_attach: `make bench ONLY=attach`, attached files between real
 * daemons (docs/protocol.md, "Attachments"):
 *  - the machine's raw CURVE throughput, measured in the same run: a plain
 *    ZeroMQ DEALER pushing 256 KiB messages to a ROUTER over loopback
 *    CURVE, in two threads (as two daemons would use two cores);
 *  - the attachment transfer between two daemons: a 25 MiB file published
 *    on A and fetched by B in 256 KiB chunks, each checked on both sides;
 *    MB/s of the fetch (B's last_fetch: first request until the file is
 *    synced in place) as a share of the raw figure, and from the
 *    publish's return until B holds the file;
 *  - publish-to-visible latency across 20 daemons while a 25 MiB transfer
 *    runs between two of them (bench_daemons.c, bench_propagation_loaded).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bench.h"
#include "harness/harness.h"
#include "harness/testutil.h"
#include "store/attach.h"
#include "util/text.h"

#define MSG_BYTES (256 * 1024)
#define TRANSFERS 3 /* files sent per run */

/* ---- raw CURVE ------------------------------------------------------ */

typedef struct rx {
    void *zctx;
    int port, n;
    char pub[41], sec[41];
    double t_first, t_last;
    int got, ready, failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} rx_t;

static void *rx_main(void *arg)
{
    rx_t *r = arg;
    char ep[64];
    int one = 1, hwm = 16;
    void *s = zmq_socket(r->zctx, ZMQ_ROUTER);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", r->port);
    int ok = s && zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one) == 0 &&
             zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, r->sec, 40) == 0 &&
             zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) == 0 && zmq_bind(s, ep) == 0;
    pthread_mutex_lock(&r->mu);
    r->ready = 1;
    r->failed = !ok;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    static char buf[MSG_BYTES + 64];
    char id[256];
    while (ok && r->got < r->n) {
        if (zmq_recv(s, id, sizeof id, 0) < 0 || zmq_recv(s, buf, sizeof buf, 0) < 0)
            break;
        double t = bench_now();
        if (r->got++ == 0)
            r->t_first = t;
        r->t_last = t;
    }
    if (s)
        zmq_close(s);
    return NULL;
}

/* MB/s (10^6 bytes) of n messages of MSG_BYTES, first to last received. */
static double curve_once(int n)
{
    rx_t r = {.n = n, .port = h_free_port()};
    char cpub[41], csec[41], ep[64];
    pthread_t th;
    int hwm = 16;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    r.zctx = zmq_ctx_new();
    if (!r.zctx || zmq_curve_keypair(r.pub, r.sec) || zmq_curve_keypair(cpub, csec) ||
        pthread_create(&th, NULL, rx_main, &r))
        bench_die("raw CURVE: cannot set up ZeroMQ");
    pthread_mutex_lock(&r.mu);
    while (!r.ready)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    if (r.failed)
        bench_die("raw CURVE: the ROUTER cannot bind");
    void *d = zmq_socket(r.zctx, ZMQ_DEALER);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", r.port);
    if (!d || zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY, r.pub, 40) ||
        zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY, cpub, 40) ||
        zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY, csec, 40) ||
        zmq_setsockopt(d, ZMQ_SNDHWM, &hwm, sizeof hwm) || zmq_connect(d, ep))
        bench_die("raw CURVE: the DEALER cannot connect");
    char *msg = malloc(MSG_BYTES);
    for (int i = 0; i < MSG_BYTES; i++)
        msg[i] = (char)(i * 131);
    for (int i = 0; i < n; i++)
        if (zmq_send(d, msg, MSG_BYTES, 0) != MSG_BYTES)
            bench_die("raw CURVE: send failed");
    pthread_join(th, NULL);
    free(msg);
    int linger = 0;
    zmq_setsockopt(d, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(d);
    zmq_ctx_term(r.zctx);
    if (r.got < n || r.t_last <= r.t_first)
        bench_die("raw CURVE: %d of %d messages arrived", r.got, n);
    return (double)(n - 1) * MSG_BYTES / (r.t_last - r.t_first) / 1e6;
}

/* ---- the transfer ----------------------------------------------------- */

static int present_at(const hnode_t *n, const char *hex)
{
    char path[700];
    struct stat sb;
    snprintf(path, sizeof path, "%s/attachments/%s", n->home, hex);
    return stat(path, &sb) == 0;
}

void bench_attach_publish(const hnode_t *n, long size, int i, char *hex, char *id)
{
    char path[700], cmd[1600], *out = NULL;
    uint8_t h[EVENT_HASH_BYTES];
    uint64_t got;
    struct stat sb;
    /* one file of random bytes, made once; each publish changes its first
     * bytes so that every one is a new file (a new hash) */
    snprintf(path, sizeof path, "%s/Inspelning.webm", n->home);
    snprintf(cmd, sizeof cmd, "head -c %ld /dev/urandom > '%s'", size, path);
    if ((stat(path, &sb) != 0 || sb.st_size != size) && tu_run(cmd, NULL) != 0)
        bench_die("attach: cannot make %s", path);
    FILE *f = fopen(path, "r+b");
    if (!f || fprintf(f, "%08d", i) < 0 || fclose(f) != 0)
        bench_die("attach: cannot write %s", path);
    if (attach_hash_file(path, h, &got, NULL, 0) != ATTACH_OK)
        bench_die("attach: cannot hash %s", path);
    text_hex(hex, h, EVENT_HASH_BYTES);
    if (h_lernet(n, &out, "publish resource --title 'sv:Föreläsning %d' --type recording "
                          "--attach '%s'", i, path) != 0)
        bench_die("attach: publish at %s failed", n->name);
    const char *p = out ? strstr(out, "published ") : NULL;
    if (!p || sscanf(p, "published %64[0-9a-f]", id) != 1)
        bench_die("attach: no id in %s", out ? out : "(nothing)");
    free(out);
}

int bench_attach_wait(const hnode_t *n, const char *hex, double secs)
{
    for (double end = bench_now() + secs; !present_at(n, hex);) {
        if (bench_now() > end)
            return 0;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 1;
}

/* One 25 MiB file published on A until B holds it: MB/s end to end (from
 * the publish's return) and of the fetch itself (B's figure: from its
 * first request until the file is in place). */
static void transfer_once(hnode_t *A, hnode_t *B, long size, int i, double *e2e, double *fetch)
{
    char hex[ATTACH_HEX_SIZE], id[EVENT_ID_HEX_SIZE];
    bench_attach_publish(A, size, i, hex, id);
    double t0 = bench_now(); /* signed, stored and pushed to B */
    if (!bench_attach_wait(B, hex, 300))
        bench_die("attach: %s did not get the file in 300 s (see %s/daemon.log)", B->name,
                  B->home);
    *e2e = (double)size / (bench_now() - t0) / 1e6;
    json_t *r = h_control(B, "attachments");
    json_t *last = json_object_get(json_object_get(r, "attachments"), "last_fetch");
    double ms = (double)json_integer_value(json_object_get(last, "ms"));
    /* a daemon that does not say (LERNET_TEST_BIN: an older build) is
     * timed from the publish */
    *fetch = json_integer_value(json_object_get(last, "bytes")) == size && ms > 0
                 ? (double)size / (ms / 1000) / 1e6
                 : *e2e;
    json_decref(r);
    /* erased again: the bench leaves no 25 MiB files behind */
    if (h_lernet(A, NULL, "erase %s --reason 'bench'", id) != 0)
        bench_die("attach: erase at %s failed", A->name);
}

void bench_attach(bench_t *b)
{
    int msgs = b->quick ? 64 : 1024; /* 16 MiB, 256 MiB */
    long size = b->quick ? 2L << 20 : 25L << 20;
    double raw[9], e2e[9], fetch[9];
    hnode_t A, B;
    if (h_node_init(&A, "Region Örebro län", "SE", BENCH_NET) ||
        h_node_init(&B, "Roskilde Handelsskole", "DK", BENCH_NET))
        bench_die("attach: lernet init failed");
    snprintf(A.log_level, sizeof A.log_level, "info");
    snprintf(B.log_level, sizeof B.log_level, "info");
    h_link(&A, &B, BENCH_NET);
    snprintf(A.node_extra, sizeof A.node_extra, "attachment_quota_mib = 1000\n");
    snprintf(B.node_extra, sizeof B.node_extra, "attachment_quota_mib = 1000\n");
    if (h_node_write_config(&A) || h_node_write_config(&B) || h_node_start(&A) ||
        h_node_start(&B) || !h_wait(h_partners_up, &B, 30000))
        bench_die("attach: daemons did not start");
    for (int r = 0; r < b->runs; r++) {
        /* the raw figure beside each run's transfers: the machine is
         * shared. A 25 MiB transfer lasts a tenth of a second, so one
         * pause of the scheduler moved a single one by a fifth: each run
         * gives the median of TRANSFERS */
        double e[TRANSFERS], f[TRANSFERS];
        raw[r] = curve_once(msgs);
        for (int t = 0; t < TRANSFERS; t++)
            transfer_once(&A, &B, size, r * TRANSFERS + t, &e[t], &f[t]);
        e2e[r] = bench_median(e, TRANSFERS);
        fetch[r] = bench_median(f, TRANSFERS);
    }
    h_node_free(&A);
    h_node_free(&B);
    double rw = bench_median(raw, b->runs), tr = bench_median(fetch, b->runs);
    char label[96];
    bench_row(b, "curve_raw_mb_per_s", "raw CURVE, DEALER -> ROUTER, 256 KiB messages: MB/s", rw,
              "%.0f", "machine limit, loopback, this run");
    snprintf(label, sizeof label, "attachment transfer, 2 daemons, %ld MiB: MB/s", size >> 20);
    bench_row(b, "attach_transfer_mb_per_s", label, tr, "%.1f",
              "%.2f x raw CURVE; target >= 0.5 (first request to file in place, synced; 3 files a run)",
              rw > 0 ? tr / rw : 0);
    bench_row(b, "attach_publish_to_file_mb_per_s", "attachment: publish on A to file whole at B, MB/s",
              bench_median(e2e, b->runs), "%.1f", "the transfer and its start: B hears of the "
              "item and reads its list of files");
    bench_propagation_loaded(b);
}
