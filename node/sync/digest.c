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
    memcpy(lru->key, key, key_len);
    lru->key_len = key_len;
    return lru;
}

int scope_digest(sync_t *s, const scope_t *sc, uint8_t root[SYNC_ROOT_BYTES],
                 uint8_t buckets[SYNC_NBUCKETS * SYNC_BUCKET_BYTES], size_t *logs)
{
    char key[sizeof s->memo[0].key];
    size_t key_len = scope_key(sc, key, sizeof key);
    uint64_t version = store_feeds_version(s->st);
    digest_memo_t *m = key_len ? memo_slot(s, key, key_len) : NULL;
    if (m && m->version != version) {
        store_feed_t *feeds;
        size_t n;
        if (scoped_feeds(s, sc, &feeds, &n) != 0)
            return -1;
        sync_digest(feeds, n, m->root, m->buckets);
        free(feeds);
        m->logs = n;
        m->version = version;
        s->stats.digests_made++;
    } else if (!m) { /* cannot happen for a scope within its bounds; computed, not kept */
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
    m->used = ++s->memo_tick;
    memcpy(root, m->root, SYNC_ROOT_BYTES);
    memcpy(buckets, m->buckets, sizeof m->buckets);
    if (logs)
        *logs = m->logs;
    return 0;
}
