/*
 * harness_mem: two nodes' sync modules joined by in-memory queues instead
 * of sockets, for deterministic protocol tests and the benchmark. Counts
 * the bytes each way and the requests (round trips) clients send.
 */
#ifndef LERNET_HARNESS_MEM_H
#define LERNET_HARNESS_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "store/store.h"
#include "sync/sync.h"

#define HM_QMAX 4096

typedef struct hm_node hm_node_t;

typedef struct hm_frame {
    hm_node_t *to;
    int to_server; /* 1: arrives on the ROUTER, 0: on the DEALER */
    uint8_t *buf;
    size_t len;
} hm_frame_t;

typedef struct hm_net {
    hm_frame_t q[HM_QMAX];
    size_t head, tail;
    size_t client_msgs; /* requests sent by clients (round trips) */
    size_t bytes[2];    /* [0] client→server, [1] server→client */
    int64_t clock_ms;
    /* Called with each frame before it is delivered (may be NULL): it may
     * replace f->buf (malloc'd, freed by hm_run) or return 1 to drop it. */
    int (*observe)(void *ctx, hm_frame_t *f);
    void *observe_ctx;
} hm_net_t;

struct hm_node {
    char *dir;
    store_t *st;
    config_t cfg;
    config_peer_t peer;
    keys_identity_t *k;
    sync_t *sync;
    hm_node_t *other;
    hm_net_t *net;
};

/* A node with a fresh store in a temporary directory. 0 on success. */
int hm_node_init(hm_node_t *x, hm_net_t *net, const char *name, const char *nets_csv);
/* Makes a and b partners sharing nets_csv and creates their sync_t. Both
 * list the other with an endpoint (each dials the other). */
int hm_link(hm_node_t *a, hm_node_t *b, const char *nets_csv);
/* After hm_link: x lists its partner without an endpoint (the partner has
 * no listen address: only it dials, x never does; use hm_connect_one). */
void hm_no_endpoint(hm_node_t *x);
void hm_node_free(hm_node_t *x);
/* Appends n workshops to the log of k (x's own key when k is NULL) in
 * network net, stored at x in one transaction. 0 on success. */
int hm_add_events(hm_node_t *x, const keys_identity_t *k, const char *net, int n);
/* Delivers queued frames until none are left; -1 if the bound was hit. */
int hm_run(hm_net_t *n);
/* Both clients connected (handshake done), then run to quiescence. */
int hm_connect(hm_node_t *a, hm_node_t *b);
/* Only x's client connected (it alone dials), then run to quiescence. */
int hm_connect_one(hm_node_t *x);
/* One round of x pulling from its partner, run to quiescence. */
int hm_round(hm_node_t *x);
/* Zeroes the byte and request counters. */
void hm_reset_counters(hm_net_t *n);
uint64_t hm_events(hm_node_t *x);
/* Appends n workshops to x's log in net signed by signing, a key x's
 * identity certifies in its @keys log first (unless seq 1 of it exists).
 * Each event is stored at x; if push, it is also pushed (sync_push) at
 * once, as a daemon does on publishing. 0 on success. */
int hm_add_signed(hm_node_t *x, const keys_identity_t *signing, const char *net, int n,
                  int push);

#endif
