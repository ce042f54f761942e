/*
 * dial: this node's attempts to reach one partner it dials, as a small
 * state machine without sockets (daemon.c feeds it the connection's
 * monitor events and acts on its answers), so the policy can be tested on
 * its own:
 *
 *  - Back-off. A partner that cannot be reached at all (no route, refused,
 *    down) is retried by libzmq itself, exponentially with jitter
 *    (net_client_open sets the intervals). One that is reached but fails
 *    the handshake (it does not list our key, or is not a lernet node)
 *    would be retried by libzmq at the base interval for ever, so after
 *    each such failure the connection is dropped and made again only
 *    after dial_backoff_ms: exponential from DIAL_BASE_MS to DIAL_MAX_MS,
 *    each delay drawn from its upper half (jitter, so that partners that
 *    lost a hub at the same moment do not all come back at the same one).
 *  - Logging. The first failure after the partner was up (or since start)
 *    is logged once, and its return once; the tries between are counted,
 *    not logged (`lernet peers` shows them).
 */
#ifndef LERNET_DIAL_H
#define LERNET_DIAL_H

#include <stdbool.h>
#include <stdint.h>

#define DIAL_BASE_MS 1000
#define DIAL_MAX_MS 60000
/* libzmq's own reconnect intervals for a partner it cannot reach: the
 * base (each socket adds up to as much again, so that partners' retries
 * drift apart) doubling up to the max; libzmq adds its own jitter. */
#define DIAL_ZMQ_IVL_MS 250
#define DIAL_ZMQ_IVL_MAX_MS 60000

typedef struct dial {
    bool up;               /* handshake done, not disconnected since */
    unsigned fails;        /* failed tries since it was last up */
    int64_t down_since_ms; /* the first of them (0: none) */
    int64_t retry_at_ms;   /* dropped after a failed handshake: dial again then (0: not) */
    char error[160];       /* what the last try found */
} dial_t;

/* What the caller does after an event. */
typedef enum dial_act {
    DIAL_NOTHING = 0,
    DIAL_LOG_DOWN = 1, /* log once: the partner cannot be reached now (error says why) */
    DIAL_LOG_BACK = 2, /* log once: reachable again (after the failures counted) */
    DIAL_DETACH = 4,   /* drop the connection; connect again at retry_at_ms */
} dial_act_t;

/* The handshake succeeded. Returns DIAL_LOG_BACK if its being down was logged. */
int dial_up(dial_t *d, int64_t now_ms);
/* The connection dropped (after being up: the partner may come back at
 * once, so nothing is counted yet). */
void dial_down(dial_t *d);
/* A try failed: unreachable (libzmq retries it, backing off) or, when
 * handshake is true, reached but the handshake failed (DIAL_DETACH: the
 * caller drops the connection until retry_at_ms). rnd is a uniform random
 * 32-bit value for the jitter. Returns DIAL_* flags; error (may be NULL)
 * says what failed. */
int dial_failed(dial_t *d, bool handshake, const char *error, uint32_t rnd, int64_t now_ms);
/* Dropped and due: the caller connects again now. */
bool dial_due(dial_t *d, int64_t now_ms);
/* The delay before try number fails+1 after a failed handshake, with
 * jitter from rnd: in [max/2, max] where max = DIAL_BASE_MS << (fails-1),
 * at most DIAL_MAX_MS. */
int64_t dial_backoff_ms(unsigned fails, uint32_t rnd);

#endif
