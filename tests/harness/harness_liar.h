/*
 * harness_liar: a partner, or a relay, that lies, for attack tests against
 * real daemons. It takes the identity of a harness node that is linked to
 * its victims but never started (so the victims allow-list its key), dials
 * a victim over CurveZMQ and speaks the wire protocol itself: it pushes
 * what the test gives it, mangled as a dishonest relay would (payload
 * stripped, signature broken), asks for ranges, and keeps connections open
 * as long as the test likes. Keys of other nodes' homes can be "stolen"
 * (loaded from their key files) to sign forged history.
 *
 * Every liar_* call that waits does so with a deadline; none sleeps a fixed
 * time. Failures are returned, not asserted, so tests say what they expected.
 */
#ifndef LERNET_HARNESS_LIAR_H
#define LERNET_HARNESS_LIAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"
#include "harness/harness.h"
#include "keys/keys.h"
#include "proto/wire.pb-c.h"

typedef struct liar liar_t;

/* How a liar passes an event on. */
enum liar_mangle {
    LIAR_AS_IS = 0,    /* the genuine envelope */
    LIAR_STRIP = 1,    /* payload and salt removed: still verifies by its header */
    LIAR_BAD_SIG = 2,  /* one bit of the signature flipped */
};

/* A liar with self's identity (self: h_node_init'ed, h_link'ed, never
 * started; borrowed, must outlive the liar). *out: liar_close() it. */
int liar_open(liar_t **out, const hnode_t *self);
void liar_close(liar_t **l);

/* Dials victim over CURVE and opens a session (Hello with self's networks,
 * HelloAck awaited). A liar holds one connection at a time; dialing again
 * opens a new one and keeps the old one open (liar_hang_up closes it).
 * 0 on success, -1 if the victim refused or did not answer. */
int liar_dial(liar_t *l, const hnode_t *victim);
/* Closes the oldest connection still open. */
void liar_hang_up(liar_t *l);

/* Pushes evs, mangled, in one Push message on the newest connection. */
int liar_push(liar_t *l, event_t *const *evs, size_t n, enum liar_mangle how);
/* The same, evs[i] mangled as how[i] says: a relay that garbles some
 * envelopes of a batch and passes the others on. */
int liar_push_each(liar_t *l, event_t *const *evs, size_t n, const enum liar_mangle *how);
/* Sends m on the newest connection and returns the next reply (caller
 * frees with lernet__wire__msg__free_unpacked), or NULL after timeout_ms. */
Lernet__Wire__Msg *liar_ask(liar_t *l, const Lernet__Wire__Msg *m, int timeout_ms);
/* Asks the victim for events [from, to] of (author, network): the number
 * of envelopes it served, or -1 on no answer / an Error reply. */
long liar_want(liar_t *l, const uint8_t author[KEYS_PUBLIC_BYTES], const char *network,
               uint64_t from, uint64_t to);

/* The key of n's home: its identity (signing 0) or its current signing
 * key (signing 1), as a thief who copied the key files has it. Caller
 * keys_free()s; NULL on failure. */
keys_identity_t *liar_steal_key(const hnode_t *n, int signing);
/* The event at seq of author's log in network as n's store holds it (n may
 * be running). author NULL: n's own. Caller frees; NULL if absent. */
event_t *liar_event_at(const hnode_t *n, const uint8_t *author, const char *network,
                       uint64_t seq);
/* Every event of (author, network) from seq 1 to n's head, in order, into
 * a malloc'd array (caller frees the events and the array). */
size_t liar_log(const hnode_t *n, const uint8_t *author, const char *network, event_t ***out);
/* Signs a workshop titled title as seq of author's log in network, after
 * prev, with key k (a stolen signing key signs on behalf of author). */
event_t *liar_forge(const keys_identity_t *k, const uint8_t *author, const char *network,
                    uint64_t seq, const uint8_t *prev, const char *title);

/* liar_forge linked as a node publishes (prev_sig: the hash of prev's
 * signature), after prev (NULL for seq 1). */
event_t *liar_forge_linked(const keys_identity_t *k, const uint8_t *author, const char *network,
                           const event_t *prev, const char *title);

/* Signs payload p as an event of kind at seq of author's log in network,
 * after prev, with key k, checking none of the field rules (what a
 * partner's node that lies about its content signs and sends): the
 * header, signature, salt and payload hash are genuine. Caller
 * event_free()s; NULL when it cannot be encoded. */
event_t *liar_sign_raw(const keys_identity_t *k, const uint8_t *author, const char *network,
                       uint64_t seq, const uint8_t *prev, int kind, const Lernet__Payload *p);
/* The same with a header that names signer (NULL: k's key) and carries
 * prev_sig (NULL: none). A signer other than k's key makes a signature
 * that does not verify for the key the header names. */
event_t *liar_sign_as(const keys_identity_t *k, const uint8_t *signer, const uint8_t *author,
                      const char *network, uint64_t seq, const uint8_t *prev,
                      const uint8_t *prev_sig, int kind, const Lernet__Payload *p);
/* A lying server of attached files: binds self's port (the ROUTER a
 * victim that lists self with an endpoint dials), answers every Hello
 * with a HelloAck of the networks asked for, nothing else of a round, and
 * every GetChunk with the chunk of the file held in src_home (the hash
 * and leaves genuine) with one byte of its data flipped. Call
 * liar_serve_step often while the victim fetches. */
int liar_serve(liar_t *l, const char *src_home);
/* Handles what waits (up to timeout_ms); how many chunks it lied with so
 * far. */
long liar_serve_step(liar_t *l, int timeout_ms);

#endif
