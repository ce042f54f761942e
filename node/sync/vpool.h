/*
 * vpool: parses and checks received envelopes (decode, payload hash,
 * Ed25519 signature) on every core, while the caller's thread works too.
 * A batch is checked in two steps: every envelope is parsed
 * (event_parse_unverified); then the signatures are settled with as few
 * verifications as the batch's links allow: the last event of each run of
 * a log is verified, and each settled event vouches for the one before it
 * (event_vouch: same signer key, prev and prev_sig name its exact header
 * and signature bytes). Anything a link does not cover is verified on its
 * own, so a batch costs at most what verifying every envelope did.
 *
 * A vpool_t is used by one thread at a time (the daemon's loop); its
 * workers touch nothing but the items of the current call.
 */
#ifndef LERNET_VPOOL_H
#define LERNET_VPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/event.h"

#define VPOOL_MAX_THREADS 64

typedef struct vpool vpool_t;

/* One envelope in, its parsed event (owned by the caller afterwards) or the
 * reason it was refused out. */
typedef struct vpool_item {
    const uint8_t *buf;
    size_t len;
    event_t *ev;  /* NULL unless rc == EV_OK */
    int rc;       /* EV_OK or an EV_* reason */
    int known;    /* set by the caller: stored here already; not parsed, ev stays NULL */
    char why[200];
} vpool_item_t;

/* workers: extra threads besides the caller; < 0 means one per online
 * core minus one. 0 workers is valid (everything on the caller's thread).
 * *out is owned by the caller: vpool_free() it. Returns 0 or -1. */
int vpool_new(vpool_t **out, int workers);
void vpool_free(vpool_t **p);
/* Parses and checks items[0..n) as event_parse_erasable(now_ms) would (a
 * header-only envelope parses; store_add takes it only under a verified
 * erasure), except that an event may come back EVENT_SIG_VOUCHED instead
 * of verified; returns when all are done. A signature that neither
 * verifies nor is vouched for is refused (rc EV_BAD_SIGNATURE). */
void vpool_parse(vpool_t *p, vpool_item_t *items, size_t n, int64_t now_ms);
/* The same in two steps, so the caller can do other work (store the
 * previous batch) while the workers verify this one: submit returns at
 * once; join makes the caller help and returns when all are done. Items
 * and their buffers must stay untouched in between. One job at a time. */
void vpool_submit(vpool_t *p, vpool_item_t *items, size_t n, int64_t now_ms);
void vpool_join(vpool_t *p);
/* While the caller's thread helps in vpool_join (and vpool_parse), it runs
 * between(ctx) once every every_ms (between items, on that thread): a
 * 4,000-event batch took it seconds to verify under ASan on a loaded
 * machine, and the daemon's loop answers its control socket there. NULL:
 * none (the default). */
void vpool_between(vpool_t *p, void (*between)(void *ctx), void *ctx, int every_ms);
/* Threads that work on a call, the caller's included. */
int vpool_threads(const vpool_t *p);
/* Since vpool_new: *parsed envelopes (known ones are not), and the CPU
 * their checking took on the threads that did it, in ns: parsing (decode,
 * hashes) estimated from a sample of 1 in 8, every signature verification
 * timed; 0 before the first. It is what checking received events costs this process,
 * measured where and when it happens (the benchmark divides the
 * receiver's CPU by it). Any thread may call it. */
void vpool_cost(vpool_t *p, uint64_t *parsed, uint64_t *cpu_ns);
/* Since vpool_new: signatures verified (the others were vouched for). Any
 * thread may call it. */
uint64_t vpool_verified(vpool_t *p);

#endif
