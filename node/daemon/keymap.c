/* keymap: see keymap.h. Linear probing in a table at most half full, so a
 * miss ends at an empty slot after a couple of probes on average. */
#include "daemon/keymap.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 64

typedef struct slot {
    keymap_entry_t e;
    int used;
} slot_t;

struct keymap {
    slot_t *slots;
    size_t cap; /* a power of two */
    size_t n;
    uint8_t key[crypto_shorthash_KEYBYTES];
};

int keymap_new(keymap_t **out)
{
    keymap_t *m = calloc(1, sizeof *m);
    if (!m || !(m->slots = calloc(FIRST_CAP, sizeof *m->slots))) {
        free(m);
        return -1;
    }
    m->cap = FIRST_CAP;
    crypto_shorthash_keygen(m->key);
    *out = m;
    return 0;
}

void keymap_free(keymap_t **m)
{
    if (!m || !*m)
        return;
    free((*m)->slots);
    free(*m);
    *m = NULL;
}

void keymap_clear(keymap_t *m)
{
    memset(m->slots, 0, m->cap * sizeof *m->slots);
    m->n = 0;
}

static size_t home_of(const keymap_t *m, const uint8_t x25519[32])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, x25519, 32, m->key);
    memcpy(&v, h, sizeof v);
    return (size_t)v & (m->cap - 1);
}

/* The slot holding x25519, or the empty one where it would go. */
static slot_t *find(const keymap_t *m, const uint8_t x25519[32])
{
    size_t i = home_of(m, x25519);
    while (m->slots[i].used && memcmp(m->slots[i].e.x25519, x25519, 32) != 0)
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

static int grow(keymap_t *m)
{
    keymap_t bigger = *m;
    bigger.cap = m->cap * 2;
    bigger.n = 0;
    if (!(bigger.slots = calloc(bigger.cap, sizeof *bigger.slots)))
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used) {
            *find(&bigger, m->slots[i].e.x25519) = m->slots[i];
            bigger.n++;
        }
    free(m->slots);
    *m = bigger;
    return 0;
}

keymap_entry_t *keymap_put(keymap_t *m, const uint8_t x25519[32],
                           const uint8_t id[KEYS_PUBLIC_BYTES], int peer)
{
    slot_t *s = find(m, x25519);
    if (s->used)
        return &s->e;
    if (m->n >= KEYMAP_MAX)
        return NULL;
    if (2 * (m->n + 1) > m->cap) {
        if (grow(m) != 0)
            return NULL;
        s = find(m, x25519);
    }
    memcpy(s->e.x25519, x25519, 32);
    memcpy(s->e.id, id, KEYS_PUBLIC_BYTES);
    s->e.peer = peer;
    s->used = 1;
    m->n++;
    return &s->e;
}

keymap_entry_t *keymap_get(const keymap_t *m, const uint8_t x25519[32])
{
    slot_t *s = find(m, x25519);
    return s->used ? &s->e : NULL;
}

size_t keymap_count(const keymap_t *m)
{
    return m->n;
}
