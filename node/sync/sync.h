/*
 * sync: the partner protocol (proto/wire.proto, docs/protocol.md) as pure
 * logic: bytes in, bytes out through a sync_io_t, no sockets. The daemon
 * owns the ZeroMQ sockets and feeds this module; tests can drive it
 * directly.
 *
 * Roles: for every configured partner this node is a client (it pulls over
 * its own DEALER connection) and a server (it answers the partner's pulls
 * and receives its pushes on the ROUTER). Scope: a partner is only ever
 * sent, or accepted from, events of networks both sides take part in and
 * the config allows for that partner.
 *
 * Invariants: an event is forwarded only after the store transaction that
 * holds it has committed; every received event is fully verified
 * (event_parse) before it is stored; every queue and batch is bounded.
 */
#ifndef LERNET_SYNC_H
#define LERNET_SYNC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/event.h"
#include "store/store.h"

#define SYNC_PROTOCOL 1
#define SYNC_MAX_MSG (8 * 1024 * 1024) /* also ZMQ_MAXMSGSIZE */
#define SYNC_NBUCKETS 32
#define SYNC_ROOT_BYTES 16
#define SYNC_BUCKET_BYTES 8
/* The bounds of docs/protocol.md ("Sizes"), each the one value of its limit. */
#define SYNC_MAX_HEADS 8192       /* heads in one Heads message: a page (Heads.more) */
#define SYNC_MAX_RANGES 256       /* ranges in one Want */
#define SYNC_BATCH_EVENTS 4000    /* envelopes in one Events, reply or push */
#define SYNC_BATCH_EXTRA 64       /* erasures beside them (Events.extra) */
#define SYNC_BATCH_BYTES (4 * 1024 * 1024) /* a batch stops once its envelopes reach it */
#define SYNC_REPLY_TIMEOUT_MS 15000
/* A batch is stored in transactions of about this long at most (the event
 * that passes it still goes in), io.between running between them: storing
 * 4,000 events took 3.5-9 s under ASan on a loaded machine, and the
 * daemon's loop answered no control request for as long. Each slice is
 * committed and handed on like a batch of its own. */
#define SYNC_SLICE_MS 100
#define SYNC_HELLO_TIMEOUT_MS 3000
/* Rounds (sync_interval_ms) a client waits after a partner speaking another
 * protocol version, however it learnt it (Error CODE_VERSION or HelloAck). */
#define SYNC_VERSION_BACKOFF_ROUNDS 30
#define SYNC_SESSIONS_PER_PEER 4 /* a partner's connections beyond these replace its own */
#define SYNC_MAX_STUCK 32         /* logs put aside per partner (see stuck_add) */
#define SYNC_REFUSAL_LINES 5      /* refusals logged per partner and reason a minute */
#define SYNC_DIAL_GRACE_MS 5000   /* a connection of ours this new to being down may come back */

/* How sync sends. Both return 0 on success; a failure (peer gone, queue
 * full) is not an error for sync: the next round repairs it. */
typedef struct sync_io {
    /* to partner `peer` (index in config) over our client connection */
    int (*send_client)(void *ctx, size_t peer, const uint8_t *buf, size_t len);
    /* to the client connection identified by a ROUTER routing id */
    int (*send_server)(void *ctx, const uint8_t *rid, size_t rid_len, const uint8_t *buf,
                       size_t len);
    void *ctx;
    /* May be NULL. Called between the slices of a long store (see
     * SYNC_SLICE_MS) and as often while this thread helps verify a batch
     * (vpool_between), with no transaction open, so that the owner can
     * answer what may not wait for a whole batch (the daemon: the control
     * socket's status requests and the web page's reads). It may read
     * sync's state (sync_get_stats, sync_peers_json, ...) and the store,
     * but must not call into sync in any other way nor write to the store. */
    void (*between)(void *ctx);
} sync_io_t;

typedef struct sync sync_t;

/* st, cfg and io are borrowed and must outlive the sync_t. cfg->peers may
 * grow (members admitted later) and move, but only between calls into
 * sync, and only after sync_reserve made room for the new count. */
int sync_new(sync_t **out, store_t *st, const config_t *cfg, const sync_io_t *io);
/* Room for n_peers partners in every per-partner table (grown by doubling;
 * nothing of a partner's state is lost). 0, or -1 out of memory (the
 * tables are then as they were, with room for fewer). What a partner costs
 * here, without its sessions: sync_peer_bytes(). */
int sync_reserve(sync_t *s, size_t n_peers);
size_t sync_peer_bytes(void);
size_t sync_session_bytes(void);
void sync_free(sync_t **s);

/* Client side, per partner. connected: the CURVE handshake succeeded, a
 * round starts now. */
void sync_client_connected(sync_t *s, size_t peer, int64_t now_ms);
void sync_client_disconnected(sync_t *s, size_t peer);
void sync_client_recv(sync_t *s, size_t peer, const uint8_t *buf, size_t len, int64_t now_ms);

/* Server side: a message on the ROUTER from the partner whose key ZAP
 * authenticated (peer index in config). */
void sync_server_recv(sync_t *s, size_t peer, const uint8_t *rid, size_t rid_len,
                      const uint8_t *buf, size_t len, int64_t now_ms);

/* Starts due rounds, expires silent ones. Returns the next time (ms) it
 * wants to be called. */
int64_t sync_tick(sync_t *s, int64_t now_ms);

/* An event this node just committed (published locally: from_peer < 0; or
 * received from partner from_peer): push it at once to every other
 * partner in its network. */
void sync_push(sync_t *s, const event_t *ev, int from_peer);

/* What a partner may have can change under open connections: a coordinator
 * removes it, its identity is revoked, the store was changed by another
 * process. The daemon calls this when the store says so
 * (store_authz_version): every partner's rights are derived again, every
 * session and client scope follows, and sessions of partners that may
 * have nothing now are told so and ended; clients of such partners stop
 * their rounds. A partner whose rights changed otherwise says Hello again,
 * so that both sides digest the same networks: its sessions are ended with
 * CODE_SCOPE (its client then sends a new Hello) and this node's client to
 * it starts over with one. Returns how many sessions were ended for having
 * no rights (the daemon then closes the connections made to it; its own it
 * disconnects by sync_peer_allowed). Rights are checked again on every
 * request and push. */
size_t sync_rescope(sync_t *s, int64_t now_ms);
/* Partner peer may exchange some network with this node now. */
bool sync_peer_allowed(sync_t *s, size_t peer);

/* Called with every event sync stores, after commit (for the daemon's
 * logging/metrics; may be NULL). */
void sync_on_applied(sync_t *s, void (*cb)(void *ctx, const event_t *ev, int from_peer),
                     void *ctx);

/* Refusals by reason since start, as {"bad_signature": 2, ...} (new
 * reference): err_name of each code (util/err.h), and
 * "handshake_not_allowed" for connections the allow-list turned away. */
#define SYNC_REFUSAL_SLOTS (ERR_COUNT + 2)
json_t *sync_refusals_json(const sync_t *s);
void sync_note_refused_handshake(sync_t *s);

/* Status of every partner, for `lernet peers` (new reference). */
json_t *sync_peers_json(sync_t *s, int64_t now_ms);

/* Attached files (docs/protocol.md, "Attachments"; sync/xfer.c): from
 * now on this node answers GetChunk for files held in home (borrowed,
 * must outlive s) and fetches those of its items, within cfg's
 * attachments_keep, attachment_max and attachment_quota. 0, or -1 out of
 * memory. Without it, every GetChunk gets "not_found". */
int sync_attachments(sync_t *s, const char *home);
/* One step of the transfer: answers the oldest chunk request waiting (one
 * chunk), starts or moves on the fetch. The daemon calls it once per turn
 * of its loop, after the messages waiting on its sockets: event sync goes
 * first. true: more requests wait (call again without waiting). */
bool sync_attach_work(sync_t *s, int64_t now_ms);
/* When sync_attach_work wants to be called next (now_ms: at once). */
int64_t sync_attach_due(sync_t *s, int64_t now_ms);
/* Someone asked for the file of hash: fetched before any other. ATTACH_OK:
 * it is here; ATTACH_ERR_ABSENT: on its way; ATTACH_ERR_TOO_LARGE,
 * ATTACH_ERR_QUOTA: refused by this node's limits; STORE_ERR_NOT_FOUND: no
 * item here lists it; each with why. */
int sync_attach_fetch(sync_t *s, const uint8_t hash[EVENT_HASH_BYTES], int64_t now_ms, char *why,
                      size_t whylen);
/* The transfer's counters, refusals by file and the fetch under way (new
 * reference; null without sync_attachments). */
json_t *sync_attach_json(sync_t *s);

/* Counters. */
typedef struct sync_stats {
    uint64_t bytes_sent, bytes_received;
    uint64_t events_received, events_applied, events_refused, events_sent;
    uint64_t events_known; /* of events_received: pushed copies of events stored
                            * here already, dropped before verification */
    uint64_t rounds, rounds_in_sync;
    /* wall-clock ms: first client connection, last commit that applied
     * received events (0: never); the benchmark times catch-up with them */
    int64_t first_connected_ms, last_applied_ms;
    /* digests computed from the store: once per scope and change, however
     * many partners' rounds ask (the rest are answered from memory) */
    uint64_t digests_made;
    uint64_t digests_followed; /* memos brought up to date in place by a batch */
    /* envelopes parsed (decoded, hashes and signature settled) and the CPU
     * ns that took, estimated from a sample (vpool_cost); of their
     * signatures, how many were verified (the rest were vouched for by a
     * later event of their log: vpool.h) */
    uint64_t events_parsed, parse_cpu_ns, sigs_verified;
} sync_stats_t;
void sync_get_stats(const sync_t *s, sync_stats_t *out);

/* Digest helpers, exposed for tests and the benchmark: the root and bucket
 * digests of a set of logs (sorted as store_feeds returns them). */
void sync_digest(const store_feed_t *feeds, size_t n, uint8_t root[SYNC_ROOT_BYTES],
                 uint8_t buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES]);
unsigned sync_bucket_of(const uint8_t author[KEYS_PUBLIC_BYTES], const char *network);
/* For tests: how many of the digests kept in memory as current differ from
 * the digest made afresh from the store (0: all agree); -1 if the store
 * failed. */
int sync_digest_check(sync_t *s);

#endif
