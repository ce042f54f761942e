/*
 * sync_impl: what the files of node/sync/ share and nothing outside it may
 * use (the layer's API is sync.h): the state of a sync_t, of each client
 * (this node pulling from a partner) and of each server session (a partner
 * pulling from this node), and the functions one file of the protocol
 * calls in another. The files, in the order a received event passes them:
 *
 *   sync.c    sync_new/free, refusals, sending, timers, status, rescope
 *   scope.c   what a partner may have: rights, scopes of clients and sessions
 *   digest.c  bucket and root digests of a scope's logs
 *   client.c  a client round: Hello, Summary, Buckets, Heads, Want/Events
 *   wants.c   what a round asks for: heads → wants, offers, logs put aside
 *   server.c  sessions and their quotas; answers to Hello..Want and Push
 *   apply.c   a received batch: verified on every core, stored, forwarded
 *   push.c    eager push of new events, key logs, and offers (what a
 *             partner that does not pull from us itself lacks)
 *   xfer.c    attached files: chunks served after event requests, and
 *             fetched, each checked, from partners that may have them
 */
#ifndef LERNET_SYNC_IMPL_H
#define LERNET_SYNC_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/wire.pb-c.h"
#include "sync/sync.h"
#include "sync/vpool.h"

typedef Lernet__Wire__Msg msg_t;

enum cstate { C_IDLE, C_HELLO, C_SUMMARY, C_HEADS, C_EVENTS, C_DONE };
extern const char *const cstate_names[]; /* for logs and `lernet peers` */

typedef struct want {
    uint8_t author[KEYS_PUBLIC_BYTES];
    char network[EVENT_MAX_NETWORK + 1];
    uint64_t from, to;
} want_t;

/* The logs a session exchanges: the networks both sides share and the
 * partner may have now (see rights_of), and the key logs ("@keys",
 * "@revoked") of the authors that publish in them, which belong to no
 * network and must reach everyone who may receive those authors' events.
 * An author's key logs go to no partner that shares no network with it
 * (scoped_feeds, serve_want, sync_push): they hold its profile. */
#define SCOPE_RESERVED 2
typedef struct scope {
    config_network_t nets[CONFIG_MAX_NETWORKS + SCOPE_RESERVED];
    const char *ptrs[CONFIG_MAX_NETWORKS + SCOPE_RESERVED];
    size_t n;
} scope_t;

typedef struct client {
    bool connected;
    bool listed; /* in sync_t.dialed: sync_tick looks at it */
    int64_t down_since_ms; /* not connected since (0: not looked at since it went down) */
    enum cstate state;
    int64_t deadline_ms;   /* reply expected by */
    int64_t next_round_ms; /* next round starts */
    scope_t scope;
    bool have_scope;
    want_t *wants;
    size_t n_wants;
    uint64_t round_applied;
    char remote_name[CONFIG_MAX_NAME];
    /* A verified batch not stored yet: it is stored while the workers
     * verify the next one (see on_events). */
    vpool_item_t *held;
    size_t n_held;
    /* Offers (see push.c): the partner does not pull from us itself, so we
     * send it what its heads show it lacks, over this connection. The
     * server's HelloAck says whether it acknowledges offers ("offer-v1":
     * then each round's Buckets say whether it wants them, and a batch
     * leaves only once the one before was acknowledged) or only that it
     * never dials us ("push-to-me": a batch per round, as a Push). */
    bool offer_acks;     /* the server has "offer-v1" */
    bool push_cap;       /* the server has "push-to-me" */
    bool push_to_them;   /* as of the last Buckets (or push_cap) */
    uint8_t asked[SYNC_NBUCKETS / 8]; /* buckets of the last GetHeads */
    /* Heads come in pages (see serve_get_heads): the page asked for starts
     * after this cursor (none: the first page); heads_more says the
     * partner has more after the page being worked on, asked for once
     * its wants are done. */
    struct heads_cursor {
        bool set;
        uint8_t author[KEYS_PUBLIC_BYTES];
        config_network_t network;
    } after;
    bool heads_more;
    uint64_t page_we_lack, page_they_lack; /* summed over this round's pages so far */
    want_t *offers;      /* key logs first; offers[offer_next..] still to send */
    size_t n_offers, offer_next;
    bool offer_out;      /* a batch awaits its OfferAck */
    int64_t offer_deadline_ms;
    uint64_t offer_applied; /* acknowledged as new in this stream */
    /* the networks the partner's HelloAck put in scope; the scope is these
     * as far as the partner's rights go now (re-derived when gen moves) */
    config_network_t acked[CONFIG_MAX_NETWORKS];
    size_t n_acked;
    uint64_t gen;
    bool barred; /* it has no right to any network now: no rounds */
    /* Logs this partner served only refusals or forks for (an author that
     * equivocates, a history that cannot apply here): not asked for again
     * until the time passes, so they cannot starve the other logs. */
    struct stuck {
        uint8_t author[KEYS_PUBLIC_BYTES];
        config_network_t network;
        int64_t until_ms;
        unsigned strikes; /* each time again: twice as long, up to an hour */
    } stuck[SYNC_MAX_STUCK];
    size_t put_aside; /* logs put aside by the batches of this round's last reply */
} client_t;

/* What this node knows of how far apart it and a partner are, from
 * whichever connection the last exchange was over: our own rounds (we
 * dial), or the partner's rounds on our ROUTER (it dials), or both. An
 * exchange is a comparison of roots (equal: in sync) or of heads (the
 * counts each way); events stored or acknowledged since lower the counts.
 * This is what `lernet peers` shows (sync_peers_json). */
enum { SYNC_UNKNOWN = -1, SYNC_APART = 0, SYNC_IN_SYNC = 1 };
typedef struct pstat {
    int state;            /* SYNC_UNKNOWN until the first exchange */
    int64_t since_ms;     /* when state took its value */
    int64_t as_of_ms;     /* the last exchange */
    int64_t last_in_sync_ms;
    bool lack_known;      /* the counts were measured (not only "roots differ") */
    uint64_t we_lack, they_lack;
    int64_t last_request_ms; /* the partner's last request on our ROUTER */
    uint64_t bytes_sent, bytes_received;
    uint64_t events_sent, events_received; /* sent: served, pushed, offered */
    char last_error[200];
} pstat_t;

typedef struct session {
    uint8_t rid[256];
    size_t rid_len;
    size_t peer;
    bool used;
    int64_t last_ms;
    scope_t scope;
    /* the networks its Hello asked for (only ones this node takes part
     * in); the scope is these as far as its rights go now */
    config_network_t asked[CONFIG_MAX_NETWORKS];
    size_t n_asked;
    uint64_t gen;
} session_t;

/* Refusals from one partner for one reason: logged a few a minute, the
 * rest counted and summed up when the minute is over. */
typedef struct refusal_log {
    int64_t window_ms;
    uint32_t lines, suppressed;
} refusal_log_t;

/* What a partner may exchange now, as of generation gen of sync's view of
 * the store (see rights_of). */
typedef struct rights {
    uint64_t gen;
    uint32_t nets; /* bit i: cfg->networks[i] */
} rights_t;

/* The digest of one scope as of one store_feeds_version: partners that
 * share a scope (a hub's hundreds of schools in one network) share it, and
 * an in-sync round then costs the same at 10 logs and at 100,000. A batch
 * sync stores itself brings it up to date in place (only the buckets of
 * the logs it moved are hashed again: digest_note_batch); any other change
 * of the store (a local publish, another process, a revocation or
 * membership that may withdraw events) makes it again from the store, once. */
#define SYNC_DIGEST_MEMOS 16
typedef struct memo_log {
    uint8_t author[KEYS_PUBLIC_BYTES];
    config_network_t network;
    uint64_t seq;
    uint8_t bucket;
} memo_log_t;
typedef struct digest_memo {
    uint64_t version; /* 0: empty */
    uint64_t used;    /* last use, for replacing the least recently used */
    char key[(CONFIG_MAX_NETWORKS + SCOPE_RESERVED) * (EVENT_MAX_NETWORK + 1)];
    size_t key_len;   /* the scope's networks, each with its NUL */
    uint8_t root[SYNC_ROOT_BYTES];
    uint8_t buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES];
    memo_log_t *logs; /* the scope's logs, in store_feeds order */
    size_t n_logs, cap_logs;
} digest_memo_t;

struct sync {
    store_t *st;
    const config_t *cfg;
    sync_io_t io;
    size_t cap;        /* partners the per-partner tables have room for (sync_reserve) */
    size_t *dialed, n_dialed; /* the partners with an endpoint, as sync_new found them */
    client_t *clients; /* per partner */
    /* per partner SYNC_SESSIONS_PER_PEER slots, each NULL until its first
     * session (a session is looked up among its partner's few, not among
     * all: constant time however many partners) */
    session_t **sessions;
    sync_stats_t stats;
    void (*on_applied)(void *ctx, const event_t *ev, int from_peer);
    void *on_applied_ctx;
    vpool_t *pool; /* verifies received batches on every core */
    int holding;   /* clients with a held batch: at most one, to bound memory */
    /* refusals by reason: event reasons, then store errors, then handshakes */
    uint64_t refused[SYNC_REFUSAL_SLOTS];
    uint64_t gen;      /* moves when rights may have changed (sync_rescope) */
    rights_t *rights;  /* per partner */
    pstat_t *status;   /* per partner */
    refusal_log_t *rlog; /* (cap + 1) x SYNC_REFUSAL_SLOTS, [0]: local */
    digest_memo_t memo[SYNC_DIGEST_MEMOS];
    uint64_t memo_tick;
    struct xfer *xf; /* attached files (xfer.c); NULL until sync_attachments */
};

/* Slots of sync_t.refused: event reasons, then store errors, then handshakes. */
/* Refusal counters: one slot per error code (err_index), then handshakes. */
enum { SLOT_HANDSHAKE = SYNC_REFUSAL_SLOTS - 1 };

/* An Events or Push message being filled from the store (batch_row): at
 * most max events and about SYNC_BATCH_BYTES; full once either is reached. */
typedef struct batch {
    ProtobufCBinaryData *envs;
    size_t n, max, bytes;
    bool full;
    /* set for what a partner asked for (Want, Offer): each erased event
     * goes with the erasure that took its payload, as an extra (batch_seal) */
    store_t *st;
    ProtobufCBinaryData extra[SYNC_BATCH_EXTRA];
    uint8_t extra_id[SYNC_BATCH_EXTRA][EVENT_ID_BYTES];
    size_t n_extra;
} batch_t;
/* Appends b's extras after its envelopes (envs has room for
 * SYNC_BATCH_EXTRA more) and returns how many: Events.extra. */
uint32_t batch_seal(batch_t *b);
/* Events.extra within its bounds, and the extras moved to the front: the
 * erasures are stored before the erased events they let in. false:
 * malformed. */
bool extras_first(Lernet__Wire__Events *e);

/* ---- sync.c ----------------------------------------------------------- */

/* Counts a refused event (slot: SLOT_* or an event reason) and logs it,
 * rate-limited per partner and reason. peer -1: local. */
void refusal(sync_t *s, int peer, int code, const char *name, const char *why, int64_t now_ms);
const char *peer_name(const sync_t *s, int peer);
/* Sends m; a failure is not an error for sync (see sync_io_t). */
void send_client(sync_t *s, size_t peer, const msg_t *m);
void send_server(sync_t *s, const session_t *se, const msg_t *m);
void send_error(sync_t *s, const session_t *se, Lernet__Wire__Error__Code code,
                const char *text);

/* ---- status (sync.c) -------------------------------------------------- */

/* An exchange with peer found the roots equal. */
void status_in_sync(sync_t *s, size_t peer, int64_t now_ms);
/* An exchange found the roots apart; known: we_lack and they_lack were
 * measured (heads compared), else they are not known. */
void status_apart(sync_t *s, size_t peer, bool known, uint64_t we_lack, uint64_t they_lack,
                  int64_t now_ms);
/* Events from peer stored here (we lack fewer), or acknowledged by it
 * (it lacks fewer). */
void status_received(sync_t *s, size_t peer, uint64_t applied);
void status_acked(sync_t *s, size_t peer, uint64_t applied);
/* This node pulls from peer itself: it has an endpoint for it, and its
 * connection to it is up, or has been down less than SYNC_DIAL_GRACE_MS
 * (it may be a moment from coming up: a restart, a reconnect). */
bool pulls_from(sync_t *s, size_t peer, int64_t now_ms);

/* ---- digest.c --------------------------------------------------------- */

/* The logs of a scope (its networks' logs, and the key logs of the authors
 * among them), sorted as store_feeds sorts; *feeds is the caller's to free. */
int scoped_feeds(sync_t *s, const scope_t *sc, store_feed_t **feeds, size_t *n);
/* The root and bucket digests of a scope's logs; *logs (may be NULL) gets
 * how many logs they cover. */
/* What store_feeds_version and PRAGMA data_version said before a batch's
 * transaction began (digest_note_batch compares them after its commit). */
typedef struct feeds_mark {
    uint64_t version, foreign;
} feeds_mark_t;
feeds_mark_t digest_mark(sync_t *s);
/* After the commit of a batch this module stored (mark taken before it
 * began): memos that were current at the mark follow the logs of the
 * fresh events in place, if nothing else can have changed; else they are
 * made again when next asked for. */
void digest_note_batch(sync_t *s, feeds_mark_t mark, event_t *const *fresh, size_t n);
void digest_memos_free(sync_t *s);
int scope_digest(sync_t *s, const scope_t *sc, uint8_t root[SYNC_ROOT_BYTES],
                 uint8_t buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES], size_t *logs);

/* ---- scope.c ---------------------------------------------------------- */

/* A scope's networks: add one (bounded), ask for one, start from the key
 * logs alone. */
void scope_add(scope_t *sc, const char *net);
bool scope_has(const scope_t *sc, const char *net);
void scope_reserved(scope_t *out);
/* Bit i: partner peer may exchange cfg->networks[i] now (cached until
 * sync_rescope moves the generation). */
uint32_t rights_of(sync_t *s, size_t peer);
/* peer may have net now (a key log: if it may have any network). */
bool net_allowed(sync_t *s, size_t peer, const char *net);
/* The key logs of author belong in sc: it publishes in one of its networks. */
bool author_in_scope(sync_t *s, const scope_t *sc, const uint8_t *author);
/* The networks of a Hello or HelloAck this node takes part in, bounded. */
size_t keep_networks(const config_t *cfg, config_network_t *out, char **nets, size_t n);
/* The scope of a session, or of the client of peer, as of now; NULL once
 * the partner may have nothing. */
const scope_t *session_scope(sync_t *s, session_t *se);
const scope_t *client_scope(sync_t *s, size_t peer);

/* ---- apply.c ---------------------------------------------------------- */

/* Items for a batch's envelopes (which they point into), or NULL; freed
 * with items_free, which frees their parsed events too. */
vpool_item_t *items_of(ProtobufCBinaryData *envs, size_t n);
void items_free(vpool_item_t *items, size_t n);
/* Stores a verified batch from peer (-1: local) in one transaction; after
 * the commit, pushes what was new to the other partners. Events outside sc,
 * or that peer may not have now, are refused. c (may be NULL): the client
 * whose round this is; logs that brought only refusals or forks are put
 * aside for it, and *stuck (may be NULL) says how many. Frees the items.
 * Returns the progress made: events applied plus events newly held back (a
 * puller asks past those, see store_have); -1 when the store failed (the
 * rest of the batch is then dropped: the slices committed before stay,
 * counted in the stats and handed on, see SYNC_SLICE_MS). */
long store_parsed(sync_t *s, int peer, client_t *c, const scope_t *sc, vpool_item_t *items,
                  size_t n, size_t *stuck);
/* Verifies a received batch on every core, then stores it (store_parsed). */
long apply_batch(sync_t *s, int peer, const scope_t *sc, ProtobufCBinaryData *envs, size_t n,
                 int64_t now_ms);

/* ---- client.c --------------------------------------------------------- */

/* Ends what the client was doing (a held batch is stored first) and
 * forgets its scope and wants. */
void client_reset(sync_t *s, client_t *c);
/* Starts a round with peer (Summary, or Hello without a scope), or holds
 * the rounds while the partner has no rights. */
void start_round(sync_t *s, size_t peer, int64_t now_ms);

/* ---- wants.c ---------------------------------------------------------- */

/* Puts a log that brought only refusals or forks aside for client c; true
 * if it was not aside already. */
bool stuck_add(sync_t *s, client_t *c, const uint8_t *author, const char *network,
               int64_t now_ms);
/* Their heads (sorted here) → c's wants and, when it has sent all its
 * last ones, its offers; and how far apart the two nodes are (written only
 * on success). -1: malformed heads or the store failed. */
int heads_to_wants(sync_t *s, client_t *c, Lernet__Wire__Heads *h, uint64_t *we_lack,
                   uint64_t *they_lack);
/* Drops the wants of logs put aside. */
void drop_stuck_wants(client_t *c, int64_t now_ms);
/* After a stored batch: each want past what the store now holds. */
void advance_wants(sync_t *s, client_t *c);
/* Before a batch is verified: the wants past its count events, guessed. */
void guess_advance(client_t *c, size_t count);

/* ---- server.c --------------------------------------------------------- */

/* Tells the session's partner it may have nothing now, and ends it. */
void bar_session(sync_t *s, session_t *se);
/* The open session of peer with that routing id, or NULL (never made). */
session_t *session_lookup(sync_t *s, size_t peer, const uint8_t *rid, size_t rid_len);

/* ---- xfer.c ----------------------------------------------------------- */

/* A GetChunk on an open session in scope: queued (bounded), answered by
 * sync_attach_work after the event requests waiting. */
void xfer_request(sync_t *s, session_t *se, const Lernet__Wire__GetChunk *g);
/* A Chunk on our client connection to peer. */
void xfer_on_chunk(sync_t *s, size_t peer, const Lernet__Wire__Chunk *c, int64_t now_ms);
/* Our connection to peer went down: a fetch from it moves on. */
void xfer_client_down(sync_t *s, size_t peer);
/* An event of kind was stored here (sync_push: our own published, or a
 * partner's applied): a resource, reply, update or erasure may change the
 * files listed, so the list is read again within XFER_HINT_MS rather than
 * XFER_REFS_MS. */
void xfer_note(sync_t *s, int kind);
/* Room for cap partners (sync_reserve); -1 out of memory. */
int xfer_reserve(sync_t *s, size_t cap);
void xfer_free(sync_t *s);

/* ---- push.c ----------------------------------------------------------- */

/* store_range callback: appends a stored envelope to a batch_t. */
int batch_row(void *ctx, const store_row_t *r);
void batch_free(batch_t *b);
/* Sends the next batch of c's offers, unless one awaits its OfferAck (or,
 * to a server without offer acks, as a Push: the next only a round later). */
void send_offers(sync_t *s, size_t peer, int64_t now_ms);
/* The partner acknowledged the batch in flight: the next one leaves. */
void on_offer_ack(sync_t *s, size_t peer, const Lernet__Wire__OfferAck *a, int64_t now_ms);
/* Forgets the offers (a reset, a lost acknowledgement). */
void offers_clear(client_t *c);

#endif
