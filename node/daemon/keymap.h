/*
 * keymap: transport keys (X25519) to the identities (Ed25519) they stand
 * for, so that the ZAP handler answers a handshake with one lookup however
 * many partners and members a node knows. Open addressing under SipHash
 * with a random key per map: nobody can pick keys that pile up in one
 * place. Keys are public; nothing secret is kept here.
 */
#ifndef LERNET_KEYMAP_H
#define LERNET_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

#include "keys/keys.h"

#define KEYMAP_MAX (1u << 20) /* entries; a put beyond fails */

typedef struct keymap keymap_t;
typedef struct keymap_entry {
    uint8_t x25519[32];
    uint8_t id[KEYS_PUBLIC_BYTES];
    int peer; /* the caller's index for this identity, or -1 */
} keymap_entry_t;

/* 0, or -1 out of memory. *out owned by the caller (keymap_free). */
int keymap_new(keymap_t **out);
void keymap_free(keymap_t **m);
/* Forgets every entry (keeps the memory). */
void keymap_clear(keymap_t *m);
/* Adds x25519 -> (id, peer) unless x25519 is there already, in which case
 * the first stays (Ed25519 keys P and -P share one X25519 key). Returns the
 * entry for x25519, or NULL when full or out of memory. Borrowed, valid
 * until the next put or clear. */
keymap_entry_t *keymap_put(keymap_t *m, const uint8_t x25519[32],
                           const uint8_t id[KEYS_PUBLIC_BYTES], int peer);
/* The entry for x25519, or NULL. Borrowed, valid until the next put or
 * clear. */
keymap_entry_t *keymap_get(const keymap_t *m, const uint8_t x25519[32]);
size_t keymap_count(const keymap_t *m);

#endif
