/*
 * harness: real lernet daemons as separate processes for integration
 * tests. Every node gets a temporary home, a free 127.0.0.1 port and a
 * log file; conditions are awaited by polling with a deadline, never by
 * sleeping a fixed time.
 */
#ifndef LERNET_HARNESS_H
#define LERNET_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "keys/keys.h"

#define H_MAX_PEERS 128 /* a hub's partners in test_net_star */
#define H_DEADLINE_MS 30000

typedef struct hnode {
    char *home;
    char name[64];
    char country[3];
    int port;
    int no_listen; /* writes listen = (empty): it only dials, like a node behind NAT */
    pid_t pid;
    char pub[KEYS_PUB_STR_SIZE];
    char networks[256]; /* comma-separated */
    int sync_interval_ms;
    char log_level[8]; /* "debug" unless changed before writing the config */
    int web_port;      /* 0: the web page is off */
    char web_token[128]; /* non-empty: written to HOME/web.token (0600) as web_token_file */
    int web_behind_proxy; /* writes web_behind_proxy = yes */
    char node_extra[256]; /* more lines for [node], each ending in \n (attachments_keep = none) */
    struct {
        const struct hnode *node;
        char networks[256];
        int no_endpoint; /* written without endpoint: it dials us */
        char endpoint[64]; /* non-empty: written instead of the node's own */
    } peers[H_MAX_PEERS];
    size_t n_peers;
} hnode_t;

/* The lernet binary the harness runs: $LERNET_TEST_BIN if set (to run a
 * test against another build, e.g. to show it fails on older code), else
 * the one built beside the tests. */
const char *h_bin(void);

/* A free TCP port on 127.0.0.1 (bind to port 0, read it back). */
int h_free_port(void);

/* lernet init (unencrypted key) in a fresh temporary home; networks is a
 * comma-separated list, the first is the default. */
int h_node_init(hnode_t *n, const char *name, const char *country, const char *networks);
/* A copy of a stopped node in a fresh temporary home: the same identity,
 * keys and store (files copied with their modes), its own port, no
 * partners. Lets several tests start from one expensive fill. */
int h_node_clone(hnode_t *dst, const hnode_t *src);
/* Adds (a, b) as partners of each other, sharing networks. */
void h_link(hnode_t *a, hnode_t *b, const char *networks);
/* Adds (school, hub) as partners where only the school can dial: it gets
 * no listen address and lists the hub's endpoint; the hub lists it
 * without one. */
void h_link_dialing(hnode_t *school, hnode_t *hub, const char *networks);
/* Writes lernet.ini from the node's fields and peers. */
int h_node_write_config(hnode_t *n);
/* Starts `lernet run`; returns once the control socket answers. */
int h_node_start(hnode_t *n);
/* Starts `lernet run` and returns at once (pair with h_node_up). */
int h_node_spawn(hnode_t *n);
/* 1 if the daemon's control socket answers a status request. */
int h_node_up(void *n);
/* 1 if the daemon reports every partner of its config connected: its own
 * connection to those it dials, the others' requests arriving. */
int h_partners_up(void *n);
/* SIGTERM and wait (SIGKILL after the deadline); returns exit status. */
int h_node_stop(hnode_t *n);
/* SIGKILL and reap. */
void h_node_kill(hnode_t *n);
/* Stops if running, removes the home. */
void h_node_free(hnode_t *n);

/* Runs `lernet --home <home> <args>`; stdout into *out (malloc'd) if out. */
int h_lernet(const hnode_t *n, char **out, const char *args_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* `lernet status`-like JSON from the daemon's control socket (new ref). */
json_t *h_control(const hnode_t *n, const char *cmd);
/* Number of items `lernet list` shows (all kinds), or -1. */
long h_count_items(const hnode_t *n);
/* Number of stored events per the daemon (or the store), or -1. */
long h_count_events(const hnode_t *n);

/* Polls cond every 20 ms until it returns non-zero or timeout_ms passes.
 * Returns 1 if the condition came true. */
int h_wait(int (*cond)(void *ctx), void *ctx, int timeout_ms);
/* Waits until every node in nodes[] shows `want` items. */
int h_wait_items(hnode_t **nodes, size_t n, long want, int timeout_ms);
/* 1 if the node's daemon log contains needle. */
int h_log_contains(const hnode_t *n, const char *needle);
/* Lines of the node's daemon log that contain needle (-1: no log). */
int h_log_count(const hnode_t *n, const char *needle);
/* `lernet network invite NET --key n's key --name NAME` on coordinator c:
 * the invite it prints (malloc'd), or NULL if it printed none. */
char *h_invite(const hnode_t *c, const hnode_t *n, const char *network, const char *name);

/* Publishes a workshop titled title via the CLI; returns exit code. */
int h_publish_workshop(const hnode_t *n, const char *title, const char *network);

#endif
