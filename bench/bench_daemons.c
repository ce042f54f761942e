/*
 * bench_daemons: figures measured on real `lernet run` processes over
 * loopback CurveZMQ:
 *  - catch-up: a hub holding 100,000 events from 100 authors replicates to
 *    a fresh node; events/s from the fresh node's first connection to its
 *    last commit (both stamped by the daemon and read from its status);
 *    and the fresh node's CPU time (all threads) per event, in units of
 *    one Ed25519 verification on one core: a figure that does not depend
 *    on both daemons sharing the machine's cores;
 *  - propagation: publish-to-visible latency at every node of a 20-node
 *    ring with chords, over 200 publishes; "visible" is the event being
 *    readable in that node's store, polled through read-only SQLite;
 *  - footprint: resident memory and start-up time of a daemon whose store
 *    holds 1,000,000 events, and bytes on disk per event.
 */
#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "daemon/control.h"
#include "harness/harness.h"
#include "harness/testutil.h"
#include "util/text.h"
#include "store/attach.h"

#define START 1796112000LL

static const char *places[][2] = {
    {"Lärcentrum Östhammar", "SE"}, {"Lärcentrum Tierp", "SE"},     {"Hällefors lärcenter", "SE"},
    {"Örebro kommun", "SE"},        {"Motala lärcenter", "SE"},     {"Flen vuxenutbildning", "SE"},
    {"Sala lärcenter", "SE"},       {"Fagersta lärcenter", "SE"},   {"Køge Handelsskole", "DK"},
    {"Roskilde Handelsskole", "DK"}, {"ZBC Sjælland Syd", "DK"},     {"CELF Lolland Falster", "DK"},
    {"OWL Lernregion", "DE"},       {"Lernwerkstatt Bielefeld", "DE"}, {"IHK Lippe", "DE"},
    {"Jatkuvan oppimisen palvelu", "FI"}, {"Tampere Oppimiskeskus", "FI"}, {"Turku AMK", "FI"},
    {"Region Örebro län", "SE"},    {"Nyköping lärcentrum", "SE"},
};
#define N_PLACES (sizeof places / sizeof places[0])

static void sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (double)(long)(ms / 1000) * 1000) * 1e6)};
    nanosleep(&ts, NULL);
}

static void node_init(hnode_t *n, size_t i)
{
    if (h_node_init(n, places[i % N_PLACES][0], places[i % N_PLACES][1], BENCH_NET) != 0)
        bench_die("lernet init failed for %s", places[i % N_PLACES][0]);
    snprintf(n->log_level, sizeof n->log_level, "info");
}

static json_t *status(const hnode_t *n)
{
    json_t *r = h_control(n, "status");
    if (!r || !json_is_true(json_object_get(r, "ok")))
        bench_die("%s: no status (see %s/daemon.log)", n->name, n->home);
    return r;
}

static int64_t jint(json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static void fill_home(const hnode_t *n, int authors, int per, uint64_t *raw)
{
    char path[600], why[256];
    store_t *st = NULL;
    snprintf(path, sizeof path, "%s/store.db", n->home);
    if (store_open(&st, path, why, sizeof why) != STORE_OK)
        bench_die("store %s: %s", path, why);
    if (bench_fill(st, authors, per, BENCH_NET, raw) != 0)
        bench_die("filling %s failed", path);
    store_close(&st);
}

/* ---- catch-up ------------------------------------------------------- */


/* Bytes a process has caused to be written to storage so far (its
 * write_bytes in /proc/PID/io), or 0 where the kernel does not say. */
static uint64_t proc_written(pid_t pid)
{
    char path[64], line[128];
    unsigned long long v = 0;
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "write_bytes: %llu", &v) == 1)
            break;
    if (f)
        fclose(f);
    return (uint64_t)v;
}

typedef struct catchup_fig {
    double rate;    /* events/s */
    double cpu_s;   /* the receiver's CPU seconds during the catch-up */
    double sys_s;   /* the system part of cpu_s */
    uint64_t bytes; /* both ways, as the receiver counts them */
    double received; /* envelopes received per event stored (1 + duplicates) */
    uint64_t written; /* bytes the receiver wrote to storage */
    double check_s;  /* the receiver's CPU seconds parsing and checking envelopes, by its
                      * own sampled count (status parse_cpu_us) */
    double sender_s; /* the hub's CPU seconds from its start-up's end to the catch-up's */
    double verified; /* signatures verified per event stored (the rest were vouched for) */
} catchup_fig_t;

/* The fresh node starts first and its CPU is read once it is up, so its
 * start-up is not counted; the catch-up begins when the hub starts. */
static catchup_fig_t catchup_once(hnode_t *hub, long total)
{
    hnode_t fresh;
    node_init(&fresh, 1);
    hub->n_peers = 0;
    h_link(hub, &fresh, BENCH_NET);
    if (h_node_write_config(hub) || h_node_write_config(&fresh) || h_node_start(&fresh))
        bench_die("catch-up: daemons did not start");
    double sys0, cpu0 = bench_proc_cpu_s(fresh.pid, &sys0);
    uint64_t w0 = proc_written(fresh.pid);
    if (h_node_start(hub))
        bench_die("catch-up: the hub did not start");
    double hsys, hub0 = bench_proc_cpu_s(hub->pid, &hsys);
    double deadline = bench_now() + 600;
    json_t *st = NULL;
    for (;;) {
        json_t *r = h_control(&fresh, "status"); /* a busy daemon (ASan, load) may miss one */
        if (!r || !json_is_true(json_object_get(r, "ok"))) {
            json_decref(r);
            if (bench_now() > deadline)
                bench_die("catch-up: %s gives no status (see %s/daemon.log)", fresh.name,
                          fresh.home);
            sleep_ms(100);
            continue;
        }
        json_decref(st);
        st = r;
        if (jint(st, "events") >= total)
            break;
        if (bench_now() > deadline)
            bench_die("catch-up: %lld of %ld events after 600 s (see %s/daemon.log)",
                      st ? (long long)jint(st, "events") : -1LL, total, fresh.home);
        /* the daemon stamps the times; polling only notices the end (and a
         * status counts the store: each costs the receiver a little) */
        sleep_ms(250);
    }
    double sys1, cpu1 = bench_proc_cpu_s(fresh.pid, &sys1);
    catchup_fig_t f = {.cpu_s = cpu1 - cpu0, .sys_s = sys1 - sys0,
                       .written = proc_written(fresh.pid) - w0};
    double secs = (double)(jint(st, "last_applied_ms") - jint(st, "first_connected_ms")) / 1000;
    f.rate = secs > 0 ? (double)total / secs : 0;
    f.bytes = (uint64_t)jint(st, "bytes_received") + (uint64_t)jint(st, "bytes_sent");
    f.received = (double)jint(st, "events_received") / (double)total;
    f.check_s = (double)jint(st, "parse_cpu_us") / 1e6;
    f.verified = (double)jint(st, "signatures_verified") / (double)total;
    f.sender_s = bench_proc_cpu_s(hub->pid, &hsys) - hub0;
    json_decref(st);
    h_node_stop(hub);
    h_node_stop(&fresh);
    h_node_free(&fresh);
    return f;
}

void bench_catchup(bench_t *b)
{
    int authors = 100, per = b->quick ? 20 : 1000;
    if (b->catchup_events > 0) /* --catchup-events: e.g. a shorter run under a profiler */
        per = (int)((b->catchup_events + authors - 1) / authors);
    long total = (long)authors * per;
    uint64_t raw, bytes = 0;
    hnode_t hub;
    node_init(&hub, 18);
    fill_home(&hub, authors, per, &raw);
    double rate[9], cpu[9], recv[9], sys[9], disk[9];
    double us[9], per_check[9], check_unit[9], sender[9], ceiling[9], verified[9];
    for (int r = 0; r < b->runs; r++) {
        /* the unit is measured just before and after each catch-up: others
         * sharing the machine change what a verification costs */
        double v0 = bench_verify_cpu_s(0.5);
        catchup_fig_t f = catchup_once(&hub, total);
        double unit = (v0 + bench_verify_cpu_s(0.5)) / 2;
        rate[r] = f.rate;
        /* CPU per event in units of one verification on one core */
        cpu[r] = f.cpu_s / ((double)total * unit);
        us[r] = f.cpu_s / (double)total * 1e6;
        /* the same CPU over what checking the events cost the receiver
         * itself, during the catch-up: no unit measured elsewhere or at
         * another time, so what shares the cores with it cancels out */
        per_check[r] = f.check_s > 0 ? f.cpu_s / f.check_s : 0;
        check_unit[r] = f.check_s / ((double)total * unit);
        sender[r] = f.sender_s / ((double)total * unit);
        /* both daemons share the cores: CPU-bound, the catch-up can reach
         * cores / (both's CPU per event) events/s, that is 1 / (both's
         * verifications per event) x cores x verify */
        ceiling[r] = cpu[r] + sender[r] > 0 ? 1 / (cpu[r] + sender[r]) : 0;
        bytes = f.bytes;
        recv[r] = f.received;
        verified[r] = f.verified;
        disk[r] = (double)f.written / (double)total;
        sys[r] = f.cpu_s > 0 ? 100 * f.sys_s / f.cpu_s : 0;
    }
    h_node_free(&hub);
    double med = bench_median(rate, b->runs);
    b->catchup_rate = med;
    b->catchup_event_bytes = (double)raw / (double)total;
    char label[96];
    snprintf(label, sizeof label, "catch-up, 2 daemons, CURVE: %ld events/100 authors, ev/s",
             total);
    bench_row(b, "catchup_daemons_per_s", label, med, "%.0f",
              "%.2f x cores x one-core verify; target >= 0.80", med / (b->cores * b->verify_rate));
    bench_row(b, "catchup_receiver_cpu_per_verify",
              "catch-up: receiver CPU per event / one verification", bench_median(cpu, b->runs),
              "%.2f", "%.1f us CPU/event, all threads, %.0f %% system; target <= 1.25",
              bench_median(us, b->runs), bench_median(sys, b->runs));
    bench_row(b, "catchup_receiver_cpu_per_check",
              "catch-up: receiver CPU / its own CPU checking events", bench_median(per_check, b->runs),
              "%.2f", "checking = %.0f %% of it; one check here = %.2f verifications of the unit",
              100 / bench_median(per_check, b->runs), bench_median(check_unit, b->runs));
    bench_row(b, "catchup_sender_cpu_per_verify",
              "catch-up: sender CPU per event / one verification", bench_median(sender, b->runs),
              "%.2f", "the hub's CPU from its start-up's end to the catch-up's end");
    bench_row(b, "catchup_ceiling_x_cores_verify",
              "catch-up: what the two daemons' CPU per event allows", bench_median(ceiling, b->runs),
              "%.2f", "x cores x one-core verify: 1 / (receiver + sender per_verify), as "
              "catchup_daemons_per_s's ratio");
    bench_row(b, "catchup_received_per_event", "catch-up: envelopes received per event stored",
              bench_median(recv, b->runs), "%.2f", "1.00: no duplicates");
    bench_row(b, "catchup_verified_per_event", "catch-up: signatures verified per event stored",
              bench_median(verified, b->runs), "%.3f",
              "the others vouched for by the next event of their log (docs/protocol.md)");
    bench_row(b, "catchup_receiver_disk_bytes_per_event",
              "catch-up: bytes the receiver wrote to disk per event", bench_median(disk, b->runs),
              "%.0f", "WAL and database; raw signed event: %.0f B", (double)raw / (double)total);
    bench_row(b, "catchup_wire_bytes_per_event", "catch-up: bytes on the wire per event",
              (double)bytes / (double)total, "%.0f", "raw signed event: %.0f B",
              (double)raw / (double)total);
}

/* ---- propagation ---------------------------------------------------- */

static int all_connected(hnode_t *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *r = h_control(&nodes[i], "peers");
        json_t *arr = json_object_get(r, "peers"), *p;
        size_t k;
        int ok = json_is_array(arr);
        json_array_foreach(arr, k, p) ok = ok && json_is_true(json_object_get(p, "connected"));
        json_decref(r);
        if (!ok)
            return 0;
    }
    return 1;
}

/* Publishes through the origin's control socket; id of the new event. */
static void publish(const hnode_t *origin, uint64_t i, uint8_t id[EVENT_ID_BYTES])
{
    /* workshops and meetings only: an experience must refer to one */
    Lernet__Payload *p = bench_payload((i / 2) * 3 + i % 2, START + (int64_t)i * 3600);
    size_t len = lernet__payload__get_packed_size(p);
    uint8_t *buf = malloc(len);
    lernet__payload__pack(p, buf);
    tu_payload_free(p);
    size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    sodium_bin2base64(b64, b64len, buf, len, sodium_base64_VARIANT_ORIGINAL);
    free(buf);
    json_t *req = json_pack("{s:s,s:s,s:s}", "cmd", "publish", "payload", b64, "network",
                            BENCH_NET),
           *reply = NULL;
    free(b64);
    control_request(origin->home, req, &reply, 5000);
    json_decref(req);
    const char *hex = json_string_value(json_object_get(reply, "id"));
    if (!hex || text_hex_decode(id, EVENT_ID_BYTES, hex) != 0)
        bench_die("publish at %s failed: %s", origin->name,
                  json_string_value(json_object_get(reply, "error")));
    json_decref(reply);
}

static sqlite3_stmt *open_probe(const hnode_t *n, sqlite3 **db)
{
    char path[600];
    sqlite3_stmt *st = NULL;
    snprintf(path, sizeof path, "%s/store.db", n->home);
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(*db, "SELECT 1 FROM events WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
        bench_die("%s: cannot read the store", n->name);
    return st;
}

/* Seconds until each node can read event id (origin included), polled
 * until all can or 10 s pass. Returns the number that could. */
static size_t await_visible(sqlite3_stmt **probe, size_t n, const uint8_t *id, double t0,
                            double *lat)
{
    size_t seen = 0;
    for (size_t j = 0; j < n; j++)
        lat[j] = -1;
    while (seen < n && bench_now() - t0 < 10) {
        for (size_t j = 0; j < n; j++) {
            if (lat[j] >= 0)
                continue;
            sqlite3_bind_blob(probe[j], 1, id, EVENT_ID_BYTES, SQLITE_STATIC);
            int row = sqlite3_step(probe[j]) == SQLITE_ROW;
            sqlite3_reset(probe[j]);
            if (row) {
                lat[j] = bench_now() - t0;
                seen++;
            }
        }
        if (seen < n)
            sleep_ms(0.5);
    }
    return seen;
}

static void link_ring(hnode_t *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h_link(&nodes[i], &nodes[(i + 1) % n], BENCH_NET);
    for (size_t i = 0; i + n / 2 < n && i < n / 2; i += 4) /* chords across the ring */
        h_link(&nodes[i], &nodes[i + n / 2], BENCH_NET);
}

/* 20 daemons (ring + chords), all connected, with a read-only probe of
 * each store. extra(i) (may be NULL) gives node i's more [node] lines. */
typedef struct mesh {
    size_t n;
    hnode_t *nodes;
    sqlite3 **dbs;
    sqlite3_stmt **probe;
    double *lat;
} mesh_t;

static void mesh_open(mesh_t *m, size_t n, const char *(*extra)(size_t i))
{
    m->n = n;
    m->nodes = calloc(n, sizeof *m->nodes);
    m->dbs = calloc(n, sizeof *m->dbs);
    m->probe = calloc(n, sizeof *m->probe);
    m->lat = calloc(n, sizeof *m->lat);
    for (size_t i = 0; i < n; i++) {
        node_init(&m->nodes[i], i);
        if (extra)
            snprintf(m->nodes[i].node_extra, sizeof m->nodes[i].node_extra, "%s", extra(i));
    }
    link_ring(m->nodes, n);
    for (size_t i = 0; i < n; i++)
        if (h_node_write_config(&m->nodes[i]) || h_node_start(&m->nodes[i]))
            bench_die("propagation: %s did not start", m->nodes[i].name);
    for (double end = bench_now() + 30; !all_connected(m->nodes, n); sleep_ms(20))
        if (bench_now() > end)
            bench_die("propagation: partners not all connected after 30 s");
    for (size_t i = 0; i < n; i++)
        m->probe[i] = open_probe(&m->nodes[i], &m->dbs[i]);
}

static void mesh_close(mesh_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        sqlite3_finalize(m->probe[i]);
        sqlite3_close(m->dbs[i]);
        h_node_free(&m->nodes[i]);
    }
    free(m->nodes);
    free(m->dbs);
    free(m->probe);
    free(m->lat);
}

/* Publish p from node p % n until every node can read it: each other
 * node's latency (ms) appended to all, the slowest into *last. */
static void publish_once(mesh_t *m, size_t p, double *all, size_t *n_all, double *last)
{
    const hnode_t *origin = &m->nodes[p % m->n];
    uint8_t id[EVENT_ID_BYTES];
    double t0 = bench_now();
    publish(origin, p, id);
    if (await_visible(m->probe, m->n, id, t0, m->lat) < m->n)
        bench_die("propagation: publish %zu from %s did not reach every node in 10 s", p,
                  origin->name);
    *last = 0;
    for (size_t j = 0; j < m->n; j++) {
        if (&m->nodes[j] == origin)
            continue;
        all[(*n_all)++] = m->lat[j] * 1000;
        if (m->lat[j] * 1000 > *last)
            *last = m->lat[j] * 1000;
    }
}

void bench_propagation(bench_t *b)
{
    size_t n = b->quick ? 5 : 20, pubs = b->quick ? 10 : 200, n_lat = 0;
    double *all = calloc(n * pubs, sizeof *all), *last = calloc(pubs, sizeof *last), warm;
    mesh_t m;
    mesh_open(&m, n, NULL);
    size_t none = 0;
    double *scratch = calloc(n, sizeof *scratch);
    publish_once(&m, 0, scratch, &none, &warm); /* warms up, not counted */
    for (size_t p = 1; p <= pubs; p++)
        publish_once(&m, p, all, &n_lat, &last[p - 1]);
    char label[96];
    double p50 = bench_quantile(all, n_lat, 0.5), p99 = bench_quantile(all, n_lat, 0.99);
    snprintf(label, sizeof label, "propagation, %zu daemons (ring + chords), %zu publishes: p50 ms",
             n, pubs);
    bench_row(b, "propagation_p50_ms", label, p50, "%.1f", "publish to visible, every other node");
    bench_row(b, "propagation_p99_ms", "propagation: p99 ms", p99, "%.1f", "target < 500");
    bench_row(b, "propagation_all_p99_ms", "propagation: p99 ms until the last node has it",
              bench_quantile(last, pubs, 0.99), "%.1f", "p50 %.1f ms",
              bench_quantile(last, pubs, 0.5));
    mesh_close(&m);
    free(scratch);
    free(all);
    free(last);
}

/* Nodes 0 and 1 (partners) carry the transfer; none fetches a file unasked. */
static const char *transfer_pair(size_t i)
{
    return i == 0 ? "attachment_quota_mib = 1000\n" : "attachments_keep = none\n";
}

typedef struct shows {
    const hnode_t *n;
    const char *id;
} shows_t;

static int shows(void *ctx)
{
    const shows_t *s = ctx;
    return h_lernet(s->n, NULL, "show %s", s->id) == 0;
}

/* Node 1 drops its copy of the file and asks for it again: a new transfer
 * of the same 25 MiB from node 0, with nothing else (no import, no
 * erasure) between the measured publishes. */
static void transfer_again(const hnode_t *n, const char *hex)
{
    char path[700], out[700];
    snprintf(path, sizeof path, "%s/attachments/%s", n->home, hex);
    unlink(path);
    snprintf(out, sizeof out, "%s/got.webm", n->home);
    /* exit 1: "on its way", the fetch has begun */
    h_lernet(n, NULL, "attachment get %s --out '%s'", hex, out);
}

/* The propagation figure while a 25 MiB transfer runs from node 0 to node
 * 1: a publish counts only when the transfer was still under way when the
 * last node could read it; a transfer that ends is begun again, until
 * pubs publishes have counted. */
void bench_propagation_loaded(bench_t *b)
{
    size_t n = b->quick ? 5 : 20, pubs = b->quick ? 10 : 100, n_lat = 0, counted = 0;
    long size = b->quick ? 2L << 20 : 25L << 20;
    double *all = calloc(n * pubs, sizeof *all), slowest;
    mesh_t m;
    mesh_open(&m, n, transfer_pair);
    char hex[ATTACH_HEX_SIZE], id[EVENT_ID_HEX_SIZE];
    bench_attach_publish(&m.nodes[0], size, 0, hex, id);
    if (!h_wait(shows, &(shows_t){&m.nodes[1], id}, 30000))
        bench_die("propagation: the resource did not reach %s", m.nodes[1].name);
    int transfers = 0;
    for (size_t p = 1; counted < pubs; p++) {
        if (!transfers || bench_attach_wait(&m.nodes[1], hex, 0)) {
            if (transfers >= 400)
                bench_die("propagation: 400 transfers and only %zu publishes during them",
                          counted);
            transfer_again(&m.nodes[1], hex);
            transfers++;
        }
        size_t before = n_lat;
        publish_once(&m, p, all, &n_lat, &slowest);
        if (bench_attach_wait(&m.nodes[1], hex, 0)) {
            n_lat = before; /* the transfer ended meanwhile: not counted */
            continue;
        }
        counted++;
    }
    char label[96];
    snprintf(label, sizeof label, "propagation during a %ld MiB transfer, %zu daemons: p99 ms",
             size >> 20, n);
    bench_row(b, "propagation_transfer_p99_ms", label, bench_quantile(all, n_lat, 0.99), "%.1f",
              "target < 500; p50 %.1f ms; %d transfers, %zu publishes",
              bench_quantile(all, n_lat, 0.5), transfers, pubs);
    mesh_close(&m);
    free(all);
}

/* ---- footprint ------------------------------------------------------ */

static long proc_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            v = strtol(line + strlen(field) + 1, NULL, 10);
    fclose(f);
    return v;
}

static int peers_up(void *ctx)
{
    json_t *r = h_control(ctx, "peers");
    int ok = r && json_is_true(json_object_get(r, "ok"));
    json_decref(r);
    return ok;
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : 0;
}

/* The million-event store is built once and kept under the bench
 * directory; a copy goes into each run's home. */
static void cached_store(const bench_t *b, const hnode_t *n, long total, uint64_t *raw)
{
    char cache[600], meta[640], cmd[1400];
    /* named by schema version: an older one would be migrated at start-up */
    snprintf(cache, sizeof cache, "%s/footprint-%ld-v%d.db", b->workdir, total,
             STORE_SCHEMA_VERSION);
    snprintf(meta, sizeof meta, "%s.raw", cache);
    FILE *f = fopen(meta, "r");
    unsigned long long r = 0;
    if (!(f && fscanf(f, "%llu", &r) == 1 && r > 0 && file_size(cache) > 0)) {
        if (f)
            fclose(f);
        f = NULL;
        fprintf(stderr, "bench: building a %ld-event store (kept in %s)\n", total, cache);
        fill_home(n, 100, (int)(total / 100), raw);
        snprintf(cmd, sizeof cmd, "cp '%s/store.db' '%s'", n->home, cache);
        FILE *m = fopen(meta, "w");
        if (tu_run(cmd, NULL) != 0 || !m || fprintf(m, "%llu\n", (unsigned long long)*raw) < 0)
            bench_die("cannot keep %s", cache);
        fclose(m);
        return;
    }
    fclose(f);
    *raw = r;
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/store.db'", cache, n->home);
    if (tu_run(cmd, NULL) != 0)
        bench_die("cannot copy %s", cache);
}

void bench_footprint(bench_t *b)
{
    long total = b->quick ? 5000 : 1000000;
    uint64_t raw = 0;
    hnode_t n;
    char path[600];
    node_init(&n, 3);
    if (h_node_write_config(&n))
        bench_die("footprint: config failed");
    cached_store(b, &n, total, &raw);
    snprintf(path, sizeof path, "%s/store.db", n.home);
    double disk = (double)file_size(path);
    double start[9], rss = 0;
    for (int r = 0; r < b->runs; r++) {
        double t0 = bench_now();
        if (h_node_spawn(&n) != 0)
            bench_die("footprint: cannot start");
        while (!peers_up(&n)) {
            if (bench_now() - t0 > 60)
                bench_die("footprint: daemon did not answer in 60 s");
            sleep_ms(1);
        }
        start[r] = (bench_now() - t0) * 1000;
        json_decref(status(&n)); /* counts the events: touches the whole index */
        long hwm = proc_kib(n.pid, "VmHWM:");
        if ((double)hwm > rss)
            rss = (double)hwm;
        h_node_stop(&n);
    }
    char label[96];
    snprintf(label, sizeof label, "footprint, %ld events: peak resident MiB", total);
    bench_row(b, "footprint_rss_mib", label, rss / 1024, "%.1f", "target <= 64");
    bench_row(b, "footprint_start_ms", "footprint: start-up ms (until the control socket answers)",
              bench_median(start, b->runs), "%.0f", "target < 500");
    bench_row(b, "footprint_disk_per_event", "footprint: bytes on disk per event",
              disk / (double)total, "%.0f", "%.2f x raw signed event (%.0f B); target <= 1.5",
              disk / (double)raw, (double)raw / (double)total);
    h_node_free(&n);
}
