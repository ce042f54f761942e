/*
 * xfer: attached files between partners (docs/protocol.md, "Attachments").
 *
 * Serving. A GetChunk is not answered when it arrives: it waits in a
 * bounded queue (XFER_QUEUE in all, XFER_PER_SESSION per session) and
 * sync_attach_work answers one chunk per call. The daemon calls that once
 * per turn of its loop, after the messages waiting on its sockets, so a
 * chunk never goes before an event request that was already waiting (and
 * a 25 MiB transfer is 100 turns, not one). A chunk is served only of a
 * file held here whole and listed by an item of a network in the asking
 * session's scope, checked when it is served (rights may change while it
 * waits); otherwise "not_found", the same answer as for a file not here,
 * so a partner outside the network learns nothing by asking.
 *
 * Fetching. One file at a time, from one partner at a time, with at most
 * XFER_WINDOW chunk requests outstanding, into attachments/<hex>.part.
 * The first request of a file of several chunks asks for its leaves,
 * checked against the signed hash before anything is written; every chunk
 * is checked against its leaf before it is written at its place. A
 * partner whose chunk or leaves do not match (counted as bad_chunk), that
 * says not_found, or that does not answer within SYNC_REPLY_TIMEOUT_MS is
 * not asked for that file again in this attempt; the next partner whose
 * scope holds one of the file's networks is. A .part left by an earlier
 * attempt or run is re-checked chunk by chunk and continued. When no
 * partner can serve the file, it is put aside for a sync interval.
 *
 * What is fetched: files asked for (sync_attach_fetch), then, newest
 * first, the others while the files held stay within attachments_keep.
 * Never a file above attachment_max, nor one that takes its author's
 * distinct files in that network above attachment_quota (counted in the
 * order the items were made): those are refused by name. A file that no
 * item lists any more (after an update or an erasure) is removed; and
 * once, with the first list read at start, whatever attachments/ holds
 * that no item lists (attach_sweep: left by a run that stopped before it
 * saw the change, or crashed mid-fetch or mid-upload).
 */
#include "store/attach.h"
#include "sync/sync_impl.h"
#include "util/log.h"
#include "util/text.h"
#include "util/why.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XFER_QUEUE 64        /* chunk requests waiting to be served, all sessions */
#define XFER_PER_SESSION 4   /* ... of one session; more get "busy" */
#define XFER_WINDOW 4        /* chunk requests a fetch keeps outstanding (XFER_PER_SESSION):
                              * with the round's one reply and an OfferAck within
                              * NET_ROUTER_SNDHWM (6). Fewer left the server idle while
                              * the fetcher checked and wrote a chunk (bench attach) */
#define XFER_LEAF_CACHE 4    /* files whose leaves are kept for serving */
#define XFER_ASKED 16        /* files asked for, waiting their turn */
#define XFER_ASIDE 64        /* files no partner could serve, waiting to be tried again */
#define XFER_REFS_MS 500     /* the list of referenced files is read again at most this often */
#define XFER_HINT_MS 20      /* ... or this often after an event that may change it was
                              * stored here (xfer_note): a new file is fetched at once */
#define XFER_REFS_SHARE 20   /* ... and not before XFER_REFS_SHARE times as long as the last
                              * reading took: at most a twentieth of the loop's time (a
                              * catch-up changes the store all the time) */

typedef struct ref {
    uint8_t hash[EVENT_HASH_BYTES];
    uint64_t size;
    config_network_t network;
    uint8_t author[KEYS_PUBLIC_BYTES];
    int verdict; /* 0, ATTACH_ERR_TOO_LARGE or ATTACH_ERR_QUOTA */
    bool first;  /* the first ref of its hash (a file listed twice is held once) */
    size_t order; /* its place in the list: the order the items were made */
} ref_t;

typedef struct creq {
    size_t peer;
    uint8_t rid[256];
    size_t rid_len;
    uint8_t hash[EVENT_HASH_BYTES];
    uint32_t index;
    bool leaves;
} creq_t;

typedef struct fetch {
    bool active;
    uint8_t hash[EVENT_HASH_BYTES];
    uint64_t size;
    uint32_t n;        /* chunks */
    uint8_t leaves[ATTACH_MAX_CHUNKS * EVENT_HASH_BYTES];
    bool have_leaves;  /* checked against hash */
    int fd;            /* the .part, once the leaves are known */
    uint32_t done;     /* chunks checked and written from the start */
    uint32_t next;     /* the next chunk to ask for */
    uint32_t guess;    /* where a .part from before will let it go on: asked for
                        * with the leaves, so a resumed fetch asks no chunk twice */
    int source;        /* the partner asked, -1: none yet */
    unsigned out;      /* its requests not answered yet */
    int64_t deadline_ms;
    uint8_t *tried;    /* per partner: not to be asked for this file again in this attempt */
} fetch_t;

struct xfer {
    char home[PATH_MAX];
    int64_t keep, max, quota;
    ref_t *refs;
    size_t n_refs;
    uint64_t refs_version, refs_foreign;
    int64_t refs_ms, refs_checked_ms; /* the list read; the store's versions looked at */
    int64_t refs_wait_ms; /* the store's versions are looked at again after this long */
    int64_t hint_wait_ms; /* ... or this long after a hint (xfer_note) */
    bool refs_read;
    bool hinted; /* xfer_note: an event that may list or unlist files was stored */
    bool swept; /* attachments/ swept of what no item lists (once, at start) */
    int64_t next_pick_ms; /* pick() found nothing: not looked at again before (unless the
                           * list changes or a file is asked for) */
    creq_t q[XFER_QUEUE];
    size_t q_head, q_n;
    struct leafc {
        uint8_t hash[EVENT_HASH_BYTES];
        uint32_t n;
        uint8_t *leaves;
        attach_stamp_t checked; /* the file when its bytes were last checked whole */
    } cache[XFER_LEAF_CACHE];
    size_t cache_next;
    fetch_t f;
    uint8_t asked[XFER_ASKED][EVENT_HASH_BYTES];
    size_t n_asked;
    struct aside {
        uint8_t hash[EVENT_HASH_BYTES];
        int64_t until_ms;
    } aside[XFER_ASIDE];
    uint8_t buf[ATTACH_CHUNK]; /* one chunk read to serve */
    uint64_t chunks_served, chunks_fetched, files_fetched;
    uint64_t chunks_checked; /* of those served, hashed again first (attach_stamp_t) */
    int64_t fetch_start_ms;  /* when the fetch under way began */
    int64_t last_fetch_ms;   /* the last file fetched: from its start to in place */
    uint64_t last_fetch_bytes;
};

static void hex16(char out[17], const uint8_t *hash)
{
    char hex[ATTACH_HEX_SIZE];
    text_hex(hex, hash, EVENT_HASH_BYTES);
    memcpy(out, hex, 16);
    out[16] = '\0';
}

/* ---- what the items list ----------------------------------------------- */

typedef struct collect {
    ref_t *refs;
    size_t n, cap;
    bool oom;
} collect_t;

static int collect_item(void *ctx, const store_item_t *it)
{
    collect_t *c = ctx;
    Lernet__Attachment **a = it->resource ? it->resource->attachments
                             : it->reply  ? it->reply->attachments : NULL;
    size_t n = it->resource ? it->resource->n_attachments
               : it->reply  ? it->reply->n_attachments : 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i]->hash.len != EVENT_HASH_BYTES)
            continue; /* event_parse refuses it: never stored */
        if (c->n == c->cap) {
            size_t cap = c->cap ? 2 * c->cap : 64;
            ref_t *r = realloc(c->refs, cap * sizeof *r);
            if (!r) {
                c->oom = true;
                return 1;
            }
            c->refs = r;
            c->cap = cap;
        }
        ref_t *r = &c->refs[c->n++];
        memset(r, 0, sizeof *r);
        memcpy(r->hash, a[i]->hash.data, EVENT_HASH_BYTES);
        r->size = a[i]->size;
        snprintf(r->network, sizeof r->network, "%s", it->network);
        memcpy(r->author, it->author, KEYS_PUBLIC_BYTES);
    }
    return 0;
}

static int by_hash(const void *a, const void *b)
{
    const ref_t *x = *(ref_t *const *)a, *y = *(ref_t *const *)b;
    int c = memcmp(x->hash, y->hash, EVENT_HASH_BYTES);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

static int by_log(const void *a, const void *b)
{
    const ref_t *x = *(ref_t *const *)a, *y = *(ref_t *const *)b;
    int c = memcmp(x->author, y->author, KEYS_PUBLIC_BYTES);
    if (!c)
        c = strcmp(x->network, y->network);
    return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* The limits, in the order the items were made: a file above the size
 * limit is refused; one that takes its author's distinct files in that
 * network above the quota too (a file listed twice there counts once).
 * Sorted by author and network, so the cost is n log n and the square of
 * one author's files in one network, not of all. */
static int judge(const struct xfer *x, ref_t *r, size_t n)
{
    ref_t **p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return -1;
    for (size_t i = 0; i < n; i++)
        p[i] = &r[i], r[i].order = i;
    qsort(p, n, sizeof *p, by_hash);
    for (size_t i = 0; i < n; i++)
        p[i]->first = i == 0 || memcmp(p[i]->hash, p[i - 1]->hash, EVENT_HASH_BYTES) != 0;
    qsort(p, n, sizeof *p, by_log);
    for (size_t g = 0; g < n;) {
        size_t end = g + 1;
        while (end < n &&
               memcmp(p[end]->author, p[g]->author, KEYS_PUBLIC_BYTES) == 0 &&
               strcmp(p[end]->network, p[g]->network) == 0)
            end++;
        int64_t used = 0;
        for (size_t i = g; i < end; i++) {
            bool again = false;
            for (size_t j = g; j < i && !again; j++)
                again = !p[j]->verdict && !memcmp(p[j]->hash, p[i]->hash, EVENT_HASH_BYTES);
            if ((int64_t)p[i]->size > x->max)
                p[i]->verdict = ATTACH_ERR_TOO_LARGE;
            else if (!again && used + (int64_t)p[i]->size > x->quota)
                p[i]->verdict = ATTACH_ERR_QUOTA;
            else if (!again)
                used += (int64_t)p[i]->size;
        }
        g = end;
    }
    free(p);
    return 0;
}

static const ref_t *ref_find(const struct xfer *x, const uint8_t *hash, size_t from)
{
    for (size_t i = from; i < x->n_refs; i++)
        if (memcmp(x->refs[i].hash, hash, EVENT_HASH_BYTES) == 0)
            return &x->refs[i];
    return NULL;
}

static void fetch_stop(sync_t *s);

static int listed(void *ctx, const uint8_t *hash)
{
    return ref_find(ctx, hash, 0) != NULL;
}

/* Once, with the first whole list: files and .part no item lists (left by
 * an earlier run: an erasure while it was stopped, a crash mid-fetch of a
 * file since unlisted, a crash mid-upload) are removed. */
static void sweep(struct xfer *x)
{
    if (x->swept)
        return;
    x->swept = true;
    size_t n = attach_sweep(x->home, listed, x, ATTACH_SWEEP_AGE_S);
    if (n)
        log_info("attachments: removed %zu file(s) no item lists", n);
}

/* Reads the list again when the store moved; files listed before and not
 * now (an update or an erasure took them out) are removed from the home. */
static void refs_refresh(sync_t *s, int64_t now_ms)
{
    struct xfer *x = s->xf;
    /* looked at every XFER_REFS_MS at most (longer when reading the list is
     * slow): the daemon calls this every turn of its loop, PRAGMA
     * data_version is a call into SQLite, and while a catch-up stores
     * batches the versions move at every look. After an event that may
     * change the list (xfer_note), within XFER_HINT_MS, so a partner's new
     * file is fetched, and our own served, at once; both waits are at least
     * XFER_REFS_SHARE times as long as the last reading took, so a catch-up
     * of many such events spends at most a twentieth of its time on the
     * list. Only the resources and replies are read (with_files): reading
     * every item cost a catch-up's receiver a quarter of its CPU at 30,000
     * events, and grew with them. */
    int64_t since = now_ms - x->refs_checked_ms;
    if (x->refs_read && since < x->refs_wait_ms && !(x->hinted && since >= x->hint_wait_ms))
        return;
    x->refs_checked_ms = now_ms;
    x->hinted = false;
    uint64_t v = store_feeds_version(s->st), fv = store_foreign_version(s->st);
    if (x->refs_read && v == x->refs_version && fv == x->refs_foreign)
        return;
    collect_t c = {0};
    store_query_t q = {.with_files = true};
    int64_t t0 = event_now_ms();
    int rc = store_items(s->st, &q, collect_item, &c);
    int64_t took = event_now_ms() - t0;
    x->refs_wait_ms = took > 0 && took * XFER_REFS_SHARE > XFER_REFS_MS ? took * XFER_REFS_SHARE
                                                                        : XFER_REFS_MS;
    x->hint_wait_ms = took > 0 && took * XFER_REFS_SHARE > XFER_HINT_MS ? took * XFER_REFS_SHARE
                                                                        : XFER_HINT_MS;
    if (rc != STORE_OK || c.oom) {
        free(c.refs);
        return; /* tried again at the next change */
    }
    if (judge(x, c.refs, c.n) != 0) {
        free(c.refs);
        return;
    }
    ref_t *old = x->refs;
    size_t n_old = x->n_refs;
    x->refs = c.refs;
    x->n_refs = c.n;
    for (size_t i = 0; i < n_old; i++) {
        if (!old[i].first || ref_find(x, old[i].hash, 0))
            continue;
        char h[17];
        hex16(h, old[i].hash);
        if (x->f.active && memcmp(x->f.hash, old[i].hash, EVENT_HASH_BYTES) == 0)
            fetch_stop(s);
        if (attach_present(x->home, old[i].hash, old[i].size) ||
            attach_part_bytes(x->home, old[i].hash, &(uint64_t){0}) == ATTACH_OK)
            log_info("attachment %s: no item lists it any more; removed", h);
        attach_remove(x->home, old[i].hash);
    }
    free(old);
    sweep(x);
    x->refs_version = v;
    x->refs_foreign = fv;
    x->refs_ms = now_ms;
    x->refs_read = true;
    x->next_pick_ms = 0; /* the list changed: look for what to fetch */
}

/* ---- serving ----------------------------------------------------------- */

static void send_chunk(sync_t *s, const session_t *se, const creq_t *r, const uint8_t *data,
                       size_t len, const uint8_t *leaves, uint32_t n, const char *refused)
{
    Lernet__Wire__Chunk ch = LERNET__WIRE__CHUNK__INIT;
    msg_t m = LERNET__WIRE__MSG__INIT;
    ch.hash = (ProtobufCBinaryData){EVENT_HASH_BYTES, (uint8_t *)r->hash};
    ch.index = r->index;
    ch.data = (ProtobufCBinaryData){data ? len : 0, (uint8_t *)data};
    if (leaves && n > 1)
        ch.leaves = (ProtobufCBinaryData){(size_t)n * EVENT_HASH_BYTES, (uint8_t *)leaves};
    ch.refused = (char *)(refused ? refused : "");
    m.body_case = LERNET__WIRE__MSG__BODY_CHUNK;
    m.chunk = &ch;
    send_server(s, se, &m);
}

void xfer_request(sync_t *s, session_t *se, const Lernet__Wire__GetChunk *g)
{
    struct xfer *x = s->xf;
    creq_t r = {.peer = se->peer, .rid_len = se->rid_len, .index = g->index,
                .leaves = g->leaves};
    memcpy(r.rid, se->rid, se->rid_len);
    if (g->hash.len == EVENT_HASH_BYTES)
        memcpy(r.hash, g->hash.data, EVENT_HASH_BYTES);
    if (!x) {
        send_chunk(s, se, &r, NULL, 0, NULL, 0, "not_found");
        return;
    }
    if (g->hash.len != EVENT_HASH_BYTES) {
        send_chunk(s, se, &r, NULL, 0, NULL, 0, "bad_request");
        return;
    }
    size_t mine = 0;
    for (size_t i = 0; i < x->q_n; i++) {
        const creq_t *o = &x->q[(x->q_head + i) % XFER_QUEUE];
        mine += o->peer == r.peer && o->rid_len == r.rid_len && !memcmp(o->rid, r.rid, r.rid_len);
    }
    if (mine >= XFER_PER_SESSION || x->q_n == XFER_QUEUE) {
        send_chunk(s, se, &r, NULL, 0, NULL, 0, "busy");
        return;
    }
    x->q[(x->q_head + x->q_n++) % XFER_QUEUE] = r;
}

/* The leaves of a file held here (checked against its hash) and its stamp
 * when its bytes were checked whole, kept for the next requests; NULL when
 * it is not here whole. */
static const struct leafc *leaves_of(sync_t *s, const ref_t *ref)
{
    struct xfer *x = s->xf;
    for (size_t i = 0; i < XFER_LEAF_CACHE; i++)
        if (x->cache[i].leaves && !memcmp(x->cache[i].hash, ref->hash, EVENT_HASH_BYTES))
            return &x->cache[i];
    uint32_t n = attach_chunks(ref->size);
    uint8_t *l = malloc((size_t)n * EVENT_HASH_BYTES);
    attach_stamp_t st;
    char why[300] = "";
    int rc = l ? attach_leaves(x->home, ref->hash, ref->size, l, &st, why, sizeof why)
               : ATTACH_ERR_IO;
    if (rc != ATTACH_OK) {
        if (rc == ATTACH_ERR_DAMAGED)
            log_warn("attachment: %s; not served", why);
        free(l);
        return NULL;
    }
    struct leafc *c = &x->cache[x->cache_next++ % XFER_LEAF_CACHE];
    free(c->leaves);
    memcpy(c->hash, ref->hash, EVENT_HASH_BYTES);
    c->n = n;
    c->leaves = l;
    c->checked = st;
    return c;
}

static void cache_drop(struct xfer *x, const uint8_t *hash)
{
    for (size_t i = 0; i < XFER_LEAF_CACHE; i++)
        if (x->cache[i].leaves && !memcmp(x->cache[i].hash, hash, EVENT_HASH_BYTES)) {
            free(x->cache[i].leaves);
            x->cache[i].leaves = NULL;
        }
}

/* The file a session may have by this hash: held here, and listed by an
 * item of a network in its scope. */
static const ref_t *servable(sync_t *s, const scope_t *sc, const uint8_t *hash)
{
    for (const ref_t *r = ref_find(s->xf, hash, 0); r;
         r = ref_find(s->xf, hash, (size_t)(r - s->xf->refs) + 1))
        if (scope_has(sc, r->network))
            return attach_present(s->xf->home, hash, r->size) ? r : NULL;
    return NULL;
}

static void serve_one(sync_t *s, int64_t now_ms)
{
    struct xfer *x = s->xf;
    creq_t r = x->q[x->q_head];
    x->q_head = (x->q_head + 1) % XFER_QUEUE;
    x->q_n--;
    session_t *se = session_lookup(s, r.peer, r.rid, r.rid_len);
    const scope_t *sc = se ? session_scope(s, se) : NULL;
    if (!sc)
        return; /* gone, or barred meanwhile: nothing to answer */
    refs_refresh(s, now_ms);
    const ref_t *ref = servable(s, sc, r.hash);
    const struct leafc *c = ref ? leaves_of(s, ref) : NULL;
    if (!c) {
        send_chunk(s, se, &r, NULL, 0, NULL, 0, "not_found");
        return;
    }
    const uint8_t *leaves = c->leaves;
    uint32_t n = attach_chunks(ref->size);
    size_t len = 0;
    uint8_t h[EVENT_HASH_BYTES];
    attach_stamp_t now;
    if (r.index >= n) {
        send_chunk(s, se, &r, NULL, 0, NULL, 0, "bad_request");
        return;
    }
    /* A chunk is checked against its leaf unless the file is as it was when
     * its bytes were checked whole (attach_stamp_t): hashing every chunk
     * served cost this side as much CPU as the cipher. The receiver checks
     * each chunk in any case. */
    bool read = attach_read_chunk(x->home, r.hash, ref->size, r.index, x->buf, &len, &now) ==
                ATTACH_OK;
    bool trusted = read && attach_stamp_same(&c->checked, &now);
    if (read && !trusted) {
        crypto_generichash(h, sizeof h, x->buf, len, NULL, 0);
        x->chunks_checked++;
    }
    if (!read || (!trusted &&
                  sodium_memcmp(h, leaves + (size_t)r.index * EVENT_HASH_BYTES, sizeof h) != 0)) {
        char hx[17];
        hex16(hx, r.hash);
        log_warn("attachment %s: chunk %u held here does not match its hash; not served", hx,
                 r.index);
        cache_drop(x, r.hash);
        send_chunk(s, se, &r, NULL, 0, NULL, 0, "not_found");
        return;
    }
    send_chunk(s, se, &r, x->buf, len, r.leaves ? leaves : NULL, n, NULL);
    x->chunks_served++;
}

/* ---- fetching ---------------------------------------------------------- */

static void fetch_stop(sync_t *s)
{
    fetch_t *f = &s->xf->f;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    f->active = false;
    f->source = -1;
    f->out = 0;
}

static bool is_aside(const struct xfer *x, const uint8_t *hash, int64_t now_ms)
{
    for (size_t i = 0; i < XFER_ASIDE; i++)
        if (x->aside[i].until_ms > now_ms && !memcmp(x->aside[i].hash, hash, EVENT_HASH_BYTES))
            return true;
    return false;
}

static void put_aside(sync_t *s, const uint8_t *hash, int64_t now_ms)
{
    struct xfer *x = s->xf;
    size_t slot = 0;
    for (size_t i = 0; i < XFER_ASIDE; i++)
        if (x->aside[i].until_ms < x->aside[slot].until_ms)
            slot = i;
    memcpy(x->aside[slot].hash, hash, EVENT_HASH_BYTES);
    x->aside[slot].until_ms = now_ms + s->cfg->sync_interval_ms;
}

static void unask(struct xfer *x, const uint8_t *hash)
{
    for (size_t i = 0; i < x->n_asked; i++)
        if (!memcmp(x->asked[i], hash, EVENT_HASH_BYTES)) {
            memmove(x->asked[i], x->asked[i + 1], (x->n_asked - i - 1) * EVENT_HASH_BYTES);
            x->n_asked--;
            return;
        }
}

/* A file to fetch now: not here, within the limits, not aside; asked-for
 * ones first, then the newest while the files held stay within keep. */
static const ref_t *pick(sync_t *s, int64_t now_ms)
{
    struct xfer *x = s->xf;
    for (size_t i = 0; i < x->n_asked; i++) {
        const ref_t *r = ref_find(x, x->asked[i], 0);
        if (!r || r->verdict || attach_present(x->home, r->hash, r->size)) {
            unask(x, x->asked[i--]);
            continue;
        }
        if (!is_aside(x, r->hash, now_ms))
            return r;
    }
    if (x->keep == 0)
        return NULL;
    int64_t held = 0;
    for (size_t i = 0; i < x->n_refs; i++)
        if (x->refs[i].first && attach_present(x->home, x->refs[i].hash, x->refs[i].size))
            held += (int64_t)x->refs[i].size;
    for (size_t i = x->n_refs; i-- > 0;) {
        const ref_t *r = &x->refs[i];
        if (!r->verdict && held + (int64_t)r->size <= x->keep && !is_aside(x, r->hash, now_ms) &&
            !attach_present(x->home, r->hash, r->size))
            return r;
    }
    return NULL;
}

/* Partner p may be asked for the file: we pull from it now, over a
 * session whose scope holds one of the networks whose items list it. */
static bool may_ask(sync_t *s, size_t p)
{
    fetch_t *f = &s->xf->f;
    client_t *c = &s->clients[p];
    if (!c->connected || !c->have_scope || c->state == C_HELLO || f->tried[p])
        return false;
    const scope_t *sc = client_scope(s, p);
    for (const ref_t *r = ref_find(s->xf, f->hash, 0); sc && r;
         r = ref_find(s->xf, f->hash, (size_t)(r - s->xf->refs) + 1))
        if (scope_has(sc, r->network))
            return true;
    return false;
}

static void send_get(sync_t *s, size_t p, uint32_t index, bool leaves, int64_t now_ms)
{
    fetch_t *f = &s->xf->f;
    Lernet__Wire__GetChunk g = LERNET__WIRE__GET_CHUNK__INIT;
    msg_t m = LERNET__WIRE__MSG__INIT;
    g.hash = (ProtobufCBinaryData){EVENT_HASH_BYTES, f->hash};
    g.index = index;
    g.leaves = leaves;
    m.body_case = LERNET__WIRE__MSG__BODY_GET_CHUNK;
    m.get_chunk = &g;
    send_client(s, p, &m);
    f->out++;
    f->deadline_ms = now_ms + SYNC_REPLY_TIMEOUT_MS;
}

/* Asks the source for what the window has room for. */
static void fill_window(sync_t *s, int64_t now_ms)
{
    fetch_t *f = &s->xf->f;
    if (f->source < 0)
        return;
    if (!f->have_leaves) {
        if (f->out == 0)
            send_get(s, (size_t)f->source, f->guess, true, now_ms);
        return;
    }
    while (f->out < XFER_WINDOW && f->next < f->n)
        send_get(s, (size_t)f->source, f->next++, false, now_ms);
}

/* The source failed this file (not_found, a bad chunk, silence): the next
 * partner is asked, from the first chunk not written. */
static void drop_source(sync_t *s)
{
    fetch_t *f = &s->xf->f;
    if (f->source >= 0)
        f->tried[f->source] = 1;
    f->source = -1;
    f->out = 0;
    f->next = f->done;
}

/* Opens the .part once the leaves are known: what is there and checks
 * out is kept. */
static int open_part(sync_t *s)
{
    fetch_t *f = &s->xf->f;
    char why[400] = "", h[17];
    hex16(h, f->hash);
    if (attach_part_open(s->xf->home, f->hash, f->leaves, f->n, f->size, &f->fd, &f->done, why,
                         sizeof why) != ATTACH_OK) {
        log_warn("attachment %s: %s", h, why);
        return -1;
    }
    if (f->done)
        log_info("attachment %s: continuing from chunk %u of %u (%s.part)", h, f->done, f->n,
                 h);
    f->next = f->done;
    return 0;
}

static void finish(sync_t *s, size_t p)
{
    struct xfer *x = s->xf;
    fetch_t *f = &x->f;
    char why[400] = "", h[17];
    hex16(h, f->hash);
    close(f->fd);
    f->fd = -1;
    if (attach_part_finish(x->home, f->hash, f->size, f->leaves, why, sizeof why) != ATTACH_OK)
        log_warn("attachment %s: %s", h, why);
    else {
        log_info("attachment %s: fetched, %llu bytes, from %s", h, (unsigned long long)f->size,
                 peer_name(s, (int)p));
        x->files_fetched++;
        /* the finishing hash and fsync are part of it */
        x->last_fetch_ms = event_now_ms() - x->fetch_start_ms;
        x->last_fetch_bytes = f->size;
    }
    unask(x, f->hash);
    fetch_stop(s);
}

/* Starts a fetch, or moves the one under way on to its next partner. */
static void fetch_advance(sync_t *s, int64_t now_ms)
{
    struct xfer *x = s->xf;
    fetch_t *f = &x->f;
    if (f->active && f->out > 0 && now_ms >= f->deadline_ms) {
        char h[17];
        hex16(h, f->hash);
        log_warn("attachment %s: partner %s did not answer for %d s; asking another", h,
                 peer_name(s, f->source), SYNC_REPLY_TIMEOUT_MS / 1000);
        drop_source(s);
    }
    if (!f->active) {
        if (now_ms < x->next_pick_ms)
            return;
        const ref_t *r = pick(s, now_ms);
        if (!r) {
            x->next_pick_ms = now_ms + XFER_REFS_MS;
            return;
        }
        memset(f->tried, 0, s->cap);
        x->fetch_start_ms = now_ms;
        memcpy(f->hash, r->hash, EVENT_HASH_BYTES);
        f->size = r->size;
        f->n = attach_chunks(r->size);
        f->have_leaves = f->n == 1; /* one chunk: its leaf is the hash */
        if (f->have_leaves)
            memcpy(f->leaves, f->hash, EVENT_HASH_BYTES);
        f->fd = -1;
        f->done = f->next = 0;
        uint64_t part = 0;
        f->guess = attach_part_bytes(x->home, f->hash, &part) == ATTACH_OK
                       ? (uint32_t)(part / ATTACH_CHUNK) : 0;
        if (f->guess >= f->n)
            f->guess = f->n - 1;
        f->source = -1;
        f->out = 0;
        f->active = true;
        if (f->have_leaves && open_part(s) != 0) {
            put_aside(s, f->hash, now_ms);
            fetch_stop(s);
            return;
        }
    }
    if (f->source >= 0)
        return;
    for (size_t k = 0; k < s->n_dialed; k++)
        if (may_ask(s, s->dialed[k])) {
            f->source = (int)s->dialed[k];
            fill_window(s, now_ms);
            return;
        }
    put_aside(s, f->hash, now_ms); /* no partner can serve it now */
    fetch_stop(s);
}

static void bad_chunk(sync_t *s, size_t peer, const char *what, int64_t now_ms)
{
    char h[17], why[200];
    hex16(h, s->xf->f.hash);
    snprintf(why, sizeof why, "attachment %s: %s; asking another partner", h, what);
    refusal(s, (int)peer, ATTACH_ERR_BAD_CHUNK, err_name(ATTACH_ERR_BAD_CHUNK), why, now_ms);
    if ((int)peer == s->xf->f.source)
        drop_source(s);
    else
        s->xf->f.tried[peer] = 1;
}

/* The leaves of a file of several chunks, from the first reply. */
static bool take_leaves(sync_t *s, size_t peer, const Lernet__Wire__Chunk *c, int64_t now_ms)
{
    fetch_t *f = &s->xf->f;
    uint8_t root[EVENT_HASH_BYTES];
    if (c->leaves.len != (size_t)f->n * EVENT_HASH_BYTES) {
        bad_chunk(s, peer, "its chunk list has the wrong length", now_ms);
        return false;
    }
    attach_root(c->leaves.data, f->n, root);
    if (sodium_memcmp(root, f->hash, sizeof root) != 0) {
        bad_chunk(s, peer, "its chunk list does not give the signed hash", now_ms);
        return false;
    }
    memcpy(f->leaves, c->leaves.data, c->leaves.len);
    f->have_leaves = true;
    if (open_part(s) != 0) {
        put_aside(s, f->hash, now_ms);
        fetch_stop(s);
        return false;
    }
    return true;
}

void xfer_on_chunk(sync_t *s, size_t peer, const Lernet__Wire__Chunk *c, int64_t now_ms)
{
    struct xfer *x = s->xf;
    fetch_t *f = x ? &x->f : NULL;
    if (!f || !f->active || c->hash.len != EVENT_HASH_BYTES ||
        memcmp(c->hash.data, f->hash, EVENT_HASH_BYTES) != 0)
        return; /* not (any more) what we fetch */
    bool from_source = (int)peer == f->source;
    if (from_source && f->out)
        f->out--;
    if (c->refused && c->refused[0]) {
        if (from_source) {
            char h[17];
            hex16(h, f->hash);
            char said[64];
            log_debug("attachment %s: partner %s says %s", h, peer_name(s, (int)peer),
                      text_show(said, sizeof said, c->refused));
            drop_source(s);
            fetch_advance(s, now_ms);
        }
        return;
    }
    if (!f->have_leaves && !take_leaves(s, peer, c, now_ms)) {
        if (f->active)
            fetch_advance(s, now_ms);
        return;
    }
    if (c->index == f->done && c->index < f->n) {
        uint64_t off = (uint64_t)c->index * ATTACH_CHUNK;
        size_t want = f->size - off < ATTACH_CHUNK ? (size_t)(f->size - off) : ATTACH_CHUNK;
        uint8_t h[EVENT_HASH_BYTES];
        crypto_generichash(h, sizeof h, c->data.data, c->data.len, NULL, 0);
        if (c->data.len != want ||
            sodium_memcmp(h, f->leaves + (size_t)c->index * EVENT_HASH_BYTES, sizeof h) != 0) {
            bad_chunk(s, peer, "a chunk does not match its hash", now_ms);
            fetch_advance(s, now_ms);
            return;
        }
        if (attach_part_write(f->fd, c->index, c->data.data, c->data.len) != ATTACH_OK) {
            log_warn("attachment: cannot write its .part; tried again later");
            put_aside(s, f->hash, now_ms);
            fetch_stop(s);
            return;
        }
        f->done++;
        x->chunks_fetched++;
        if (f->next < f->done)
            f->next = f->done;
        if (f->done == f->n) {
            finish(s, peer);
            return;
        }
    } else if (from_source && c->index > f->done)
        f->next = f->done; /* one went missing: ask again from the first not written */
    if (f->source >= 0)
        fill_window(s, now_ms);
    else
        fetch_advance(s, now_ms);
}

void xfer_client_down(sync_t *s, size_t peer)
{
    if (s->xf && s->xf->f.active && s->xf->f.source == (int)peer) {
        s->xf->f.source = -1; /* not tried: it may come back */
        s->xf->f.out = 0;
        s->xf->f.next = s->xf->f.done;
    }
}

/* ---- the API ----------------------------------------------------------- */

int sync_attachments(sync_t *s, const char *home)
{
    struct xfer *x = calloc(1, sizeof *x);
    if (!x || snprintf(x->home, sizeof x->home, "%s", home) >= (int)sizeof x->home) {
        free(x);
        return -1;
    }
    x->f.tried = calloc(s->cap ? s->cap : 1, 1);
    if (!x->f.tried) {
        free(x);
        return -1;
    }
    x->keep = s->cfg->attachments_keep;
    x->max = s->cfg->attachment_max;
    x->quota = s->cfg->attachment_quota;
    x->f.fd = -1;
    x->f.source = -1;
    s->xf = x;
    return 0;
}

int xfer_reserve(sync_t *s, size_t cap)
{
    if (!s->xf)
        return 0;
    uint8_t *t = realloc(s->xf->f.tried, cap);
    if (!t)
        return -1;
    memset(t + s->cap, 0, cap - s->cap);
    s->xf->f.tried = t;
    return 0;
}

void xfer_free(sync_t *s)
{
    struct xfer *x = s->xf;
    if (!x)
        return;
    if (x->f.fd >= 0)
        close(x->f.fd);
    for (size_t i = 0; i < XFER_LEAF_CACHE; i++)
        free(x->cache[i].leaves);
    free(x->f.tried);
    free(x->refs);
    free(x);
    s->xf = NULL;
}

bool sync_attach_work(sync_t *s, int64_t now_ms)
{
    struct xfer *x = s->xf;
    if (!x)
        return false;
    refs_refresh(s, now_ms);
    if (x->q_n)
        serve_one(s, now_ms);
    fetch_advance(s, now_ms);
    return x->q_n > 0;
}

void xfer_note(sync_t *s, int kind)
{
    if (s->xf && (kind == LERNET__KIND__KIND_RESOURCE || kind == LERNET__KIND__KIND_REPLY ||
                  kind == LERNET__KIND__KIND_UPDATE || kind == LERNET__KIND__KIND_ERASURE))
        s->xf->hinted = true;
}

int64_t sync_attach_due(sync_t *s, int64_t now_ms)
{
    struct xfer *x = s->xf;
    if (!x)
        return INT64_MAX;
    if (x->q_n)
        return now_ms;
    if (x->hinted)
        return x->refs_checked_ms + x->hint_wait_ms > now_ms ? x->refs_checked_ms + x->hint_wait_ms
                                                             : now_ms;
    /* the store is looked at for new files every XFER_REFS_MS (cheap when
     * nothing changed); a fetch wakes the loop by its replies, and by its
     * deadline when they do not come */
    int64_t due = now_ms + XFER_REFS_MS;
    if (x->f.active && x->f.out && x->f.deadline_ms < due)
        due = x->f.deadline_ms > now_ms ? x->f.deadline_ms : now_ms;
    for (size_t i = 0; i < XFER_ASIDE; i++)
        if (x->aside[i].until_ms > now_ms && x->aside[i].until_ms < due)
            due = x->aside[i].until_ms;
    return due;
}

int sync_attach_fetch(sync_t *s, const uint8_t hash[EVENT_HASH_BYTES], int64_t now_ms, char *why,
                      size_t whylen)
{
    struct xfer *x = s->xf;
    if (!x)
        return why_fail(why, whylen, ATTACH_ERR_ABSENT, "this node does not fetch attachments");
    x->refs_read = false; /* read the list now: the item may have just come */
    refs_refresh(s, now_ms);
    const ref_t *r = ref_find(x, hash, 0);
    char h[17];
    hex16(h, hash);
    if (!r)
        return why_fail(why, whylen, STORE_ERR_NOT_FOUND, "no item here lists %s", h);
    for (const ref_t *o = r; o; o = ref_find(x, hash, (size_t)(o - x->refs) + 1))
        if (!o->verdict) {
            r = o;
            break;
        }
    if (r->verdict == ATTACH_ERR_TOO_LARGE)
        return why_fail(why, whylen, r->verdict,
                        "%s: %llu bytes, larger than this node's attachment_max_mib (%lld MiB)",
                        err_name(r->verdict), (unsigned long long)r->size,
                        (long long)(x->max >> 20));
    if (r->verdict == ATTACH_ERR_QUOTA)
        return why_fail(why, whylen, r->verdict,
                        "%s: its author's files in %s would pass this node's "
                        "attachment_quota_mib (%lld MiB)",
                        err_name(r->verdict), r->network, (long long)(x->quota >> 20));
    if (attach_present(x->home, hash, r->size))
        return ATTACH_OK;
    for (size_t i = 0; i < XFER_ASIDE; i++)
        if (!memcmp(x->aside[i].hash, hash, EVENT_HASH_BYTES))
            x->aside[i].until_ms = 0; /* asked for: try again now */
    bool listed = false;
    for (size_t i = 0; i < x->n_asked && !listed; i++)
        listed = !memcmp(x->asked[i], hash, EVENT_HASH_BYTES);
    x->next_pick_ms = 0; /* look for what to fetch at once */
    if (!listed) {
        if (x->n_asked == XFER_ASKED)
            return why_fail(why, whylen, STORE_ERR_LIMIT,
                            "%d files are asked for already; ask again later", XFER_ASKED);
        memcpy(x->asked[x->n_asked++], hash, EVENT_HASH_BYTES);
    }
    fetch_advance(s, now_ms);
    return ATTACH_ERR_ABSENT;
}

json_t *sync_attach_json(sync_t *s)
{
    struct xfer *x = s->xf;
    if (!x)
        return json_null();
    json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I}}", "chunks_served",
                          (json_int_t)x->chunks_served, "chunks_checked",
                          (json_int_t)x->chunks_checked, "chunks_fetched",
                          (json_int_t)x->chunks_fetched, "files_fetched",
                          (json_int_t)x->files_fetched, "requests_waiting", (json_int_t)x->q_n,
                          "last_fetch", "bytes", (json_int_t)x->last_fetch_bytes, "ms",
                          (json_int_t)x->last_fetch_ms);
    json_t *refused = json_object();
    for (size_t i = 0; i < x->n_refs; i++)
        if (x->refs[i].verdict) {
            char hex[ATTACH_HEX_SIZE];
            text_hex(hex, x->refs[i].hash, EVENT_HASH_BYTES);
            json_object_set_new(refused, hex, json_string(err_name(x->refs[i].verdict)));
        }
    json_object_set_new(o, "refused", refused);
    if (x->f.active) {
        char hex[ATTACH_HEX_SIZE];
        text_hex(hex, x->f.hash, EVENT_HASH_BYTES);
        json_object_set_new(o, "fetching",
                            json_pack("{s:s,s:I,s:I,s:s}", "hash", hex, "chunks_done",
                                      (json_int_t)x->f.done, "chunks", (json_int_t)x->f.n,
                                      "from", x->f.source >= 0 ? peer_name(s, x->f.source) : ""));
    }
    return o;
}
