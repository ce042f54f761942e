/*
 * net: ZeroMQ transport for partner connections. Every socket is CURVE;
 * the server side enforces the ZAP domain (libzmq accepts any client key
 * when no ZAP handler answers unless ZMQ_ZAP_ENFORCE_DOMAIN is set, so it
 * is set, and a stopped handler means refused connections).
 *
 * Transport keys are the node identity keys converted to X25519 (libsodium
 * crypto_sign_ed25519_*_to_curve25519): one Ed25519 public key names a node
 * in config, logs and signatures, and no second key needs binding.
 *
 * Bounds set on every socket: ZMQ_MAXMSGSIZE, send/receive high-water
 * marks, handshake timeout, heartbeats (dead peers are noticed), and
 * ZMQ_ROUTER_MANDATORY on the ROUTER (unroutable sends fail loudly
 * instead of being dropped silently).
 */
#ifndef LERNET_NET_H
#define LERNET_NET_H

#include "util/err.h"

#include <stddef.h>
#include <stdint.h>

#include "keys/keys.h"

#define NET_ZAP_DOMAIN "lernet"
#define NET_ZAP_ENDPOINT "inproc://zeromq.zap.01"
/* Messages queued per connection: receiving on every socket, sending on
 * the DEALERs (ZMQ_IMMEDIATE: only to a connected partner). */
#define NET_HWM 1000
/* Replies queued per partner connection on the ROUTER. An honest client
 * has one event request out at a time (its reply at most one batch,
 * SYNC_BATCH_BYTES plus one envelope) besides an OfferAck, and at most
 * XFER_PER_SESSION (4) chunk requests (a chunk is 256 KiB): 6. A client
 * that never reads can make this node hold about 2 batches and 4 chunks
 * (about 9 MiB); a server sends a session a batch only in answer to its
 * one request, so the other 4 places hold chunks. A reply past it is
 * dropped (the client's round times out, SYNC_REPLY_TIMEOUT_MS). */
#define NET_ROUTER_SNDHWM 6
#define NET_HANDSHAKE_MS 5000
/* A DEALER pings every 2 s and drops a connection silent for 6 s: a node
 * learns soon that a partner it dials is gone. It asks no TTL of the
 * ROUTER, and the ROUTER pings only every 30 s (dropping a connection
 * silent for 90 s): libzmq 4.3 re-arms a heartbeat timer by walking all of
 * its I/O thread's timers, so a hub answering a thousand connections at
 * the DEALERs' pace spent a sixth of its time there (bench hub). */
#define NET_HEARTBEAT_MS 2000
#define NET_HEARTBEAT_TIMEOUT_MS 6000
#define NET_SERVER_HEARTBEAT_MS 30000
#define NET_SERVER_HEARTBEAT_TIMEOUT_MS 90000
#define NET_USER_ID_SIZE 64

/* Error codes: NET_ERR_* (-1000s) of the one namespace in util/err.h. */

/* Refuses libzmq older than 4.3.3 (known CVEs) and builds without CURVE. */
int net_check_version(char *why, size_t whylen);

/* ZAP: decides which client keys may connect. allow() gets the client's
 * X25519 key and its address (for its log line: a refusal is logged by
 * allow(), which knows why) and returns 1 to admit it, filling user_id
 * (shown on every message of that connection as the "User-Id" property). */
typedef int (*net_allow_fn)(void *ctx, const uint8_t x25519[32], const char *address,
                            char user_id[NET_USER_ID_SIZE]);
void *net_zap_open(void *zctx, char *why, size_t whylen);
/* Answers every pending ZAP request, at most NET_ZAP_TURN_MAX, without
 * blocking (call when the socket is readable); returns how many. All of
 * them, not one: while requests wait, libzmq holds those handshakes, and
 * one answer per loop turn lets a flood of unknown keys push honest
 * partners past their handshake timeout. */
#define NET_ZAP_TURN_MAX 256
int net_zap_handle(void *zap, net_allow_fn allow, void *allow_ctx);

/* CURVE server (ROUTER) bound to endpoint, enforcing the ZAP domain. */
void *net_server_open(void *zctx, const keys_transport_t *k, const char *endpoint, char *why,
                      size_t whylen);
/* CURVE client (DEALER) to a partner; monitor_ep receives connection
 * events (open a ZMQ_PAIR to it with net_monitor_open). libzmq reconnects
 * it, backing off exponentially while the partner cannot be reached (see
 * daemon/dial.h). */
void *net_client_open(void *zctx, const keys_transport_t *k, const uint8_t partner[32],
                      const char *endpoint, const char *monitor_ep, char *why, size_t whylen);
void *net_monitor_open(void *zctx, const char *monitor_ep);

/* Reads one monitor event: NET_UP (handshake done), NET_DOWN, NET_REFUSED
 * (handshake failed, e.g. not allowed), NET_RETRY (could not connect;
 * libzmq tries again later), or 0 for other events. */
enum { NET_UP = 1, NET_DOWN = 2, NET_REFUSED = 3, NET_RETRY = 4 };
int net_monitor_read(void *mon);

/* Sends one frame; via a ROUTER when rid is given. Never blocks. */
int net_send(void *sock, const uint8_t *rid, size_t rid_len, const uint8_t *buf, size_t len);

#endif
