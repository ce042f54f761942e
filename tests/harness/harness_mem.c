/*
 * harness_mem: in-memory transport between two sync modules (see
 * harness_mem.h).
 */
#include "harness/harness_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/testutil.h"

#define START 1796112000LL

static int enqueue(hm_net_t *n, hm_node_t *to, int to_server, const uint8_t *buf, size_t len)
{
    if (n->tail - n->head >= HM_QMAX)
        return -1;
    hm_frame_t *f = &n->q[n->tail++ % HM_QMAX];
    f->to = to;
    f->to_server = to_server;
    f->buf = malloc(len ? len : 1);
    if (!f->buf)
        return -1;
    memcpy(f->buf, buf, len);
    f->len = len;
    n->bytes[to_server ? 0 : 1] += len;
    n->client_msgs += (size_t)to_server;
    return 0;
}

static int io_client(void *ctx, size_t peer, const uint8_t *buf, size_t len)
{
    hm_node_t *self = ctx;
    (void)peer;
    return enqueue(self->net, self->other, 1, buf, len);
}

static int io_server(void *ctx, const uint8_t *rid, size_t rid_len, const uint8_t *buf,
                     size_t len)
{
    hm_node_t *self = ctx;
    (void)rid;
    (void)rid_len;
    return enqueue(self->net, self->other, 0, buf, len);
}

int hm_run(hm_net_t *n)
{
    for (int steps = 0; n->head < n->tail; steps++) {
        if (steps > 1000000)
            return -1;
        hm_frame_t f = n->q[n->head++ % HM_QMAX];
        if (n->observe && n->observe(n->observe_ctx, &f)) {
            free(f.buf);
            continue;
        }
        if (f.to_server)
            sync_server_recv(f.to->sync, 0, (const uint8_t *)"r", 1, f.buf, f.len, n->clock_ms);
        else
            sync_client_recv(f.to->sync, 0, f.buf, f.len, n->clock_ms);
        free(f.buf);
    }
    return 0;
}

static void add_networks(config_network_t *nets, size_t *n, const char *csv)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", csv);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && *n < CONFIG_MAX_NETWORKS;
         t = strtok_r(NULL, ",", &save))
        snprintf(nets[(*n)++], EVENT_MAX_NETWORK + 1, "%s", t);
}

int hm_node_init(hm_node_t *x, hm_net_t *net, const char *name, const char *nets_csv)
{
    char path[600];
    memset(x, 0, sizeof *x);
    x->net = net;
    if (!net->clock_ms)
        net->clock_ms = 1700000000000LL;
    if (!(x->dir = tu_tempdir()))
        return -1;
    snprintf(path, sizeof path, "%s/store.db", x->dir);
    if (store_open(&x->st, path, NULL, 0) != STORE_OK || keys_generate(&x->k) != KEYS_OK)
        return -1;
    snprintf(x->cfg.name, sizeof x->cfg.name, "%s", name);
    add_networks(x->cfg.networks, &x->cfg.n_networks, nets_csv);
    x->cfg.sync_interval_ms = 1000;
    x->cfg.peers = &x->peer;
    x->cfg.n_peers = 1;
    return 0;
}

int hm_link(hm_node_t *a, hm_node_t *b, const char *nets_csv)
{
    hm_node_t *pair[2][2] = {{a, b}, {b, a}};
    for (int i = 0; i < 2; i++) {
        hm_node_t *x = pair[i][0], *y = pair[i][1];
        x->other = y;
        snprintf(x->peer.name, sizeof x->peer.name, "%s", y->cfg.name);
        memcpy(x->peer.public_key, keys_public(y->k), KEYS_PUBLIC_BYTES);
        /* configured partners dial each other; an empty endpoint would make
         * y a member that only dials in (see push-to-me in sync.c) */
        snprintf(x->peer.endpoint, sizeof x->peer.endpoint, "inproc://%s", y->cfg.name);
        add_networks(x->peer.networks, &x->peer.n_networks, nets_csv);
        sync_io_t io = {io_client, io_server, x, NULL};
        if (sync_new(&x->sync, x->st, &x->cfg, &io) != 0)
            return -1;
    }
    return 0;
}

void hm_no_endpoint(hm_node_t *x)
{
    x->peer.endpoint[0] = '\0';
}

void hm_node_free(hm_node_t *x)
{
    sync_free(&x->sync);
    store_close(&x->st);
    keys_free(&x->k);
    tu_rmtree(&x->dir);
}

int hm_add_events(hm_node_t *x, const keys_identity_t *k, const char *net, int n)
{
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    int rc = 0;
    if (!k)
        k = x->k;
    if (store_head(x->st, keys_public(k), net, &seq, head) != STORE_OK ||
        store_begin(x->st) != STORE_OK)
        return -1;
    for (int i = 0; i < n && rc == 0; i++) {
        char title[96];
        event_t *ev = NULL;
        int outcome;
        snprintf(title, sizeof title, "Workshop %llu: lärande på arbetsplatsen",
                 (unsigned long long)seq + 1);
        Lernet__Payload *p = tu_workshop(title, "Learning at the workplace", START + i * 3600);
        rc = event_create(&ev, k, net, seq + 1, seq ? head : NULL, x->net->clock_ms, p, NULL, 0);
        if (rc == 0)
            rc = store_add(x->st, ev, &outcome, NULL, NULL, 0);
        if (rc == 0 && outcome != STORE_APPLIED)
            rc = -1;
        if (ev)
            memcpy(head, ev->id, EVENT_ID_BYTES);
        seq++;
        event_free(&ev);
        tu_payload_free(p);
    }
    if (rc) {
        store_rollback(x->st);
        return -1;
    }
    return store_commit(x->st) == STORE_OK ? 0 : -1;
}

uint64_t hm_events(hm_node_t *x)
{
    store_stats_t s = {0};
    store_stats(x->st, &s);
    return s.events;
}

int hm_round(hm_node_t *x)
{
    x->net->clock_ms += x->cfg.sync_interval_ms + 1;
    sync_tick(x->sync, x->net->clock_ms);
    return hm_run(x->net);
}

int hm_connect(hm_node_t *a, hm_node_t *b)
{
    sync_client_connected(a->sync, 0, a->net->clock_ms);
    sync_client_connected(b->sync, 0, b->net->clock_ms);
    return hm_run(a->net);
}

int hm_connect_one(hm_node_t *x)
{
    sync_client_connected(x->sync, 0, x->net->clock_ms);
    return hm_run(x->net);
}

static int store_new(hm_node_t *x, event_t *ev)
{
    int outcome = -1;
    return store_add(x->st, ev, &outcome, NULL, NULL, 0) == STORE_OK &&
                   outcome == STORE_APPLIED
               ? 0
               : -1;
}

/* The KeyCert for signing, seq 1 of x's @keys log, unless it is there. */
static int certify(hm_node_t *x, const keys_identity_t *signing)
{
    uint64_t seq = 0;
    uint8_t head[EVENT_ID_BYTES];
    if (store_head(x->st, keys_public(x->k), EVENT_LOG_KEYS, &seq, head) != STORE_OK)
        return -1;
    if (seq)
        return 0;
    Lernet__KeyCert c = LERNET__KEY_CERT__INIT;
    Lernet__Payload p = LERNET__PAYLOAD__INIT;
    c.signing_key.data = (uint8_t *)keys_public(signing);
    c.signing_key.len = KEYS_PUBLIC_BYTES;
    c.note = "signing key of the school's office";
    p.body_case = LERNET__PAYLOAD__BODY_KEY_CERT;
    p.key_cert = &c;
    event_t *ev = NULL;
    int rc = event_create(&ev, x->k, EVENT_LOG_KEYS, 1, NULL, x->net->clock_ms, &p, NULL, 0);
    rc = rc == EV_OK ? store_new(x, ev) : -1;
    event_free(&ev);
    return rc;
}

int hm_add_signed(hm_node_t *x, const keys_identity_t *signing, const char *net, int n,
                  int push)
{
    uint64_t seq;
    uint8_t head[EVENT_ID_BYTES];
    if (certify(x, signing) != 0 ||
        store_head(x->st, keys_public(x->k), net, &seq, head) != STORE_OK)
        return -1;
    for (int i = 0; i < n; i++, seq++) {
        char title[96];
        event_t *ev = NULL;
        snprintf(title, sizeof title, "Verkstad %llu: validering på arbetsplatsen",
                 (unsigned long long)seq + 1);
        Lernet__Payload *p = tu_workshop(title, "Validation at the workplace", START + i * 3600);
        int rc = event_create_as(&ev, keys_public(x->k), signing, net, seq + 1,
                                 seq ? head : NULL, x->net->clock_ms, p, NULL, 0);
        tu_payload_free(p);
        if (rc == EV_OK)
            rc = store_new(x, ev);
        if (rc == 0 && push)
            sync_push(x->sync, ev, -1);
        if (ev)
            memcpy(head, ev->id, EVENT_ID_BYTES);
        event_free(&ev);
        if (rc != 0)
            return -1;
    }
    return 0;
}

void hm_reset_counters(hm_net_t *n)
{
    n->bytes[0] = n->bytes[1] = 0;
    n->client_msgs = 0;
}
