/*
 * digest: the fingerprints two nodes compare before they exchange anything
 * (docs/protocol.md, "Digests"). The logs of a scope fall into
 * SYNC_NBUCKETS buckets by author and network; each bucket's digest covers
 * the seqs of its logs, and the root digest covers the buckets, so equal
 * roots end a round and unequal ones name the buckets worth listing.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sync/sync_impl.h"

unsigned sync_bucket_of(const uint8_t author[KEYS_PUBLIC_BYTES], const char *network)
{
    uint8_t h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, author, KEYS_PUBLIC_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)network, strlen(network) + 1);
    crypto_generichash_final(&st, h, sizeof h);
    return h[0] % SYNC_NBUCKETS;
}

static void put_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* Only seqs enter the digest, not head ids: two nodes holding different
 * forks of a log at the same seq have nothing to exchange by sync. */
void sync_digest(const store_feed_t *feeds, size_t n, uint8_t root[SYNC_ROOT_BYTES],
                 uint8_t buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES])
{
    crypto_generichash_state bst[SYNC_NBUCKETS];
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++)
        crypto_generichash_init(&bst[b], NULL, 0, SYNC_BUCKET_BYTES);
    for (size_t i = 0; i < n; i++) {
        uint8_t seq[8];
        unsigned b = sync_bucket_of(feeds[i].author, feeds[i].network);
        put_be64(seq, feeds[i].seq);
        crypto_generichash_update(&bst[b], feeds[i].author, KEYS_PUBLIC_BYTES);
        crypto_generichash_update(&bst[b], (const uint8_t *)feeds[i].network,
                                  strlen(feeds[i].network) + 1);
        crypto_generichash_update(&bst[b], seq, sizeof seq);
    }
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++)
        crypto_generichash_final(&bst[b], buckets + b * SYNC_BUCKET_BYTES, SYNC_BUCKET_BYTES);
    crypto_generichash(root, SYNC_ROOT_BYTES, buckets, SYNC_NBUCKETS * SYNC_BUCKET_BYTES, NULL,
                       0);
}

/* The logs of a scope, sorted by author then network: its networks' logs,
 * and the key logs of the authors among them (store_feeds sorts an
 * author's logs together, so one pass decides each author). */
int scoped_feeds(sync_t *s, const scope_t *sc, store_feed_t **feeds, size_t *n)
{
    *feeds = NULL;
    *n = 0;
    if (sc->n == 0)
        return 0;
    if (store_feeds(s->st, sc->ptrs, sc->n, feeds, n) != STORE_OK)
        return -1;
    size_t keep = 0;
    for (size_t i = 0; i < *n;) {
        size_t j = i;
        bool publishes = false;
        while (j < *n && memcmp((*feeds)[j].author, (*feeds)[i].author, KEYS_PUBLIC_BYTES) == 0)
            publishes |= !event_log_reserved((*feeds)[j++].network);
        for (; i < j; i++)
            if (publishes)
                (*feeds)[keep++] = (*feeds)[i];
    }
    *n = keep;
    return 0;
}

/* The scope's networks as one key, each with its NUL; 0 if it does not fit. */
static size_t scope_key(const scope_t *sc, char *key, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < sc->n; i++) {
        size_t l = strlen(sc->ptrs[i]) + 1;
        if (len + l > cap)
            return 0;
        memcpy(key + len, sc->ptrs[i], l);
        len += l;
    }
    return len;
}

static bool key_has(const digest_memo_t *m, const char *network)
{
    for (size_t at = 0; at < m->key_len; at += strlen(m->key + at) + 1)
        if (strcmp(m->key + at, network) == 0)
            return true;
    return false;
}

/* The memo for the scope with this key: its own if it has one (valid or
 * not), else the least recently used one, emptied. */
static digest_memo_t *memo_slot(sync_t *s, const char *key, size_t key_len)
{
    digest_memo_t *lru = &s->memo[0];
    for (size_t i = 0; i < SYNC_DIGEST_MEMOS; i++) {
        digest_memo_t *m = &s->memo[i];
        if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
            return m;
        if (m->used < lru->used)
            lru = m;
    }
    lru->version = 0;
    lru->n_logs = 0;
    memcpy(lru->key, key, key_len);
    lru->key_len = key_len;
    return lru;
}

static void put_log(memo_log_t *l, const uint8_t *author, const char *network, uint64_t seq)
{
    memcpy(l->author, author, KEYS_PUBLIC_BYTES);
    snprintf(l->network, sizeof l->network, "%s", network);
    l->seq = seq;
    l->bucket = (uint8_t)sync_bucket_of(author, network);
}

/* Hashes the dirty buckets of m again from their logs (in order), then
 * the root: the same bytes as sync_digest over the same logs. */
static void memo_hash(digest_memo_t *m, const bool dirty[SYNC_NBUCKETS])
{
    crypto_generichash_state bst[SYNC_NBUCKETS];
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++)
        if (dirty[b])
            crypto_generichash_init(&bst[b], NULL, 0, SYNC_BUCKET_BYTES);
    for (size_t i = 0; i < m->n_logs; i++) {
        const memo_log_t *l = &m->logs[i];
        if (!dirty[l->bucket])
            continue;
        uint8_t seq[8];
        put_be64(seq, l->seq);
        crypto_generichash_update(&bst[l->bucket], l->author, KEYS_PUBLIC_BYTES);
        crypto_generichash_update(&bst[l->bucket], (const uint8_t *)l->network,
                                  strlen(l->network) + 1);
        crypto_generichash_update(&bst[l->bucket], seq, sizeof seq);
    }
    for (unsigned b = 0; b < SYNC_NBUCKETS; b++)
        if (dirty[b])
            crypto_generichash_final(&bst[b], m->buckets + b * SYNC_BUCKET_BYTES,
                                     SYNC_BUCKET_BYTES);
    crypto_generichash(m->root, SYNC_ROOT_BYTES, m->buckets, sizeof m->buckets, NULL, 0);
}

static int memo_room(digest_memo_t *m, size_t n)
{
    if (n <= m->cap_logs)
        return 0;
    size_t cap = m->cap_logs ? m->cap_logs : 64;
    while (cap < n)
        cap *= 2;
    memo_log_t *l = realloc(m->logs, cap * sizeof *l);
    if (!l)
        return -1;
    m->logs = l;
    m->cap_logs = cap;
    return 0;
}

/* m made again from the store. -1: the store failed (m is then empty). */
static int memo_make(sync_t *s, digest_memo_t *m, const scope_t *sc, uint64_t version)
{
    store_feed_t *feeds;
    size_t n;
    m->version = 0;
    m->n_logs = 0;
    if (scoped_feeds(s, sc, &feeds, &n) != 0)
        return -1;
    if (memo_room(m, n) != 0) {
        free(feeds);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        put_log(&m->logs[i], feeds[i].author, feeds[i].network, feeds[i].seq);
    free(feeds);
    m->n_logs = n;
    bool all[SYNC_NBUCKETS];
    memset(all, 1, sizeof all);
    memo_hash(m, all);
    m->version = version;
    s->stats.digests_made++;
    return 0;
}

int scope_digest(sync_t *s, const scope_t *sc, uint8_t root[SYNC_ROOT_BYTES],
                 uint8_t buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES], size_t *logs)
{
    char key[sizeof s->memo[0].key];
    size_t key_len = scope_key(sc, key, sizeof key);
    uint64_t version = store_feeds_version(s->st);
    if (!key_len) { /* cannot happen for a scope within its bounds: computed, not kept */
        store_feed_t *feeds;
        size_t n;
        if (scoped_feeds(s, sc, &feeds, &n) != 0)
            return -1;
        sync_digest(feeds, n, root, buckets);
        free(feeds);
        if (logs)
            *logs = n;
        return 0;
    }
    digest_memo_t *m = memo_slot(s, key, key_len);
    if (m->version != version && memo_make(s, m, sc, version) != 0)
        return -1;
    m->used = ++s->memo_tick;
    memcpy(root, m->root, SYNC_ROOT_BYTES);
    memcpy(buckets, m->buckets, sizeof m->buckets);
    if (logs)
        *logs = m->n_logs;
    return 0;
}

/* ---- keeping memos up to date ------------------------------------------ */

feeds_mark_t digest_mark(sync_t *s)
{
    feeds_mark_t k = {store_feeds_version(s->st), store_foreign_version(s->st)};
    return k;
}

/* Where (author, network) is or would go in m's sorted logs. */
static size_t memo_find(const digest_memo_t *m, const uint8_t *author, const char *network,
                        bool *found)
{
    size_t lo = 0, hi = m->n_logs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(m->logs[mid].author, author, KEYS_PUBLIC_BYTES);
        if (c == 0)
            c = strcmp(m->logs[mid].network, network);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Whether m holds a network log of author (then its key logs are in scope). */
static bool memo_publishes(const digest_memo_t *m, const uint8_t *author)
{
    bool found;
    size_t i = memo_find(m, author, "", &found); /* "" sorts before every network */
    for (; i < m->n_logs && memcmp(m->logs[i].author, author, KEYS_PUBLIC_BYTES) == 0; i++)
        if (!event_log_reserved(m->logs[i].network))
            return true;
    return false;
}

/* (author, network) at its head in the store now, in m. -1: the store
 * failed or out of memory. */
static int memo_set(sync_t *s, digest_memo_t *m, const uint8_t *author, const char *network,
                    bool dirty[SYNC_NBUCKETS])
{
    uint64_t seq = 0;
    uint8_t id[EVENT_ID_BYTES];
    int rc = store_head(s->st, author, network, &seq, id);
    if (rc == STORE_ERR_NOT_FOUND || (rc == STORE_OK && seq == 0))
        return 0; /* nothing on its chain: not a log of the digest */
    if (rc != STORE_OK)
        return -1;
    bool found;
    size_t i = memo_find(m, author, network, &found);
    if (!found) {
        if (memo_room(m, m->n_logs + 1) != 0)
            return -1;
        memmove(&m->logs[i + 1], &m->logs[i], (m->n_logs - i) * sizeof *m->logs);
        m->n_logs++;
    }
    put_log(&m->logs[i], author, network, seq);
    dirty[m->logs[i].bucket] = true;
    return 0;
}

/* The logs an event of author in network may have moved in m: that log,
 * and with an author's first network log its key logs; a key log may have
 * let held-back events of the author's other logs join their chains, so
 * all of its logs in the scope. */
static int memo_follow(sync_t *s, digest_memo_t *m, const event_t *ev, bool dirty[SYNC_NBUCKETS])
{
    static const char *key_logs[] = {EVENT_LOG_KEYS, EVENT_LOG_REVOKED};
    bool reserved = event_log_reserved(ev->network);
    if (!reserved && !key_has(m, ev->network))
        return 0;
    bool had = memo_publishes(m, ev->author);
    if (reserved && !had)
        return 0; /* key logs of an author not in the scope */
    if (!reserved && memo_set(s, m, ev->author, ev->network, dirty) != 0)
        return -1;
    if (reserved || !had)
        for (size_t k = 0; k < 2; k++)
            if (memo_set(s, m, ev->author, key_logs[k], dirty) != 0)
                return -1;
    for (size_t at = 0; reserved && at < m->key_len; at += strlen(m->key + at) + 1)
        if (!event_log_reserved(m->key + at) && memo_set(s, m, ev->author, m->key + at, dirty))
            return -1;
    return 0;
}

/* Kinds whose storing moves nothing but their own log (and, for a key
 * log, the author's held-back events): everything else may withdraw
 * events of other logs (revocations, membership) and the memos are made
 * again instead. */
static bool moves_only_own_logs(int kind)
{
    return (kind >= LERNET__KIND__KIND_WORKSHOP && kind <= LERNET__KIND__KIND_CANCEL) ||
           kind == LERNET__KIND__KIND_KEY_CERT || kind == LERNET__KIND__KIND_PROFILE;
}

/* Whether fresh[i] is of the same log as the event before it and neither is
 * of a key log: following it would look up the same head again (the store
 * is read after the commit), and a catch-up's batch is runs of one log
 * (a store_head each was 3 % of a receiver's CPU). */
static bool same_log(event_t *const *fresh, size_t i)
{
    return i > 0 && !event_log_reserved(fresh[i]->network) &&
           memcmp(fresh[i]->author, fresh[i - 1]->author, KEYS_PUBLIC_BYTES) == 0 &&
           strcmp(fresh[i]->network, fresh[i - 1]->network) == 0;
}

void digest_note_batch(sync_t *s, feeds_mark_t mark, event_t *const *fresh, size_t n)
{
    feeds_mark_t now = digest_mark(s);
    bool alone = now.foreign == mark.foreign;
    for (size_t i = 0; alone && i < n; i++)
        alone = moves_only_own_logs(fresh[i]->kind);
    for (size_t j = 0; j < SYNC_DIGEST_MEMOS; j++) {
        digest_memo_t *m = &s->memo[j];
        if (m->version != mark.version || m->version == now.version)
            continue;
        bool dirty[SYNC_NBUCKETS] = {false}, ok = alone;
        for (size_t i = 0; ok && i < n; i++)
            ok = same_log(fresh, i) || memo_follow(s, m, fresh[i], dirty) == 0;
        if (!ok) {
            m->version = 0; /* made again when next asked for */
            continue;
        }
        memo_hash(m, dirty);
        m->version = now.version;
        s->stats.digests_followed++;
    }
}

int sync_digest_check(sync_t *s)
{
    uint64_t version = store_feeds_version(s->st);
    int wrong = 0;
    for (size_t j = 0; j < SYNC_DIGEST_MEMOS; j++) {
        const digest_memo_t *m = &s->memo[j];
        if (!m->version || m->version != version)
            continue;
        scope_t sc = {0};
        for (size_t at = 0; at < m->key_len; at += strlen(m->key + at) + 1)
            scope_add(&sc, m->key + at);
        store_feed_t *feeds;
        size_t n;
        uint8_t root[SYNC_ROOT_BYTES], buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES];
        if (scoped_feeds(s, &sc, &feeds, &n) != 0)
            return -1;
        sync_digest(feeds, n, root, buckets);
        free(feeds);
        wrong += memcmp(root, m->root, sizeof root) != 0 || n != m->n_logs;
    }
    return wrong;
}

void digest_memos_free(sync_t *s)
{
    for (size_t j = 0; j < SYNC_DIGEST_MEMOS; j++)
        free(s->memo[j].logs);
}
