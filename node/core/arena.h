/*
 * arena: a ProtobufCAllocator that hands out memory from a few large blocks
 * and frees them all at once, for unpacking one message: protobuf-c
 * otherwise makes one malloc per field (and the free_unpacked walk one free
 * each), a visible part of what a catch-up receiver spends per event.
 *
 * Not thread-safe: one arena per message being unpacked. The memory it
 * holds is bounded by what protobuf-c asks for while unpacking (O(input
 * size)); its free is a no-op, so temporaries of a successful unpack stay
 * until arena_free. Under AddressSanitizer each allocation is its own
 * malloc, so out-of-bounds reads into an unpacked message are still caught.
 */
#ifndef LERNET_ARENA_H
#define LERNET_ARENA_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

typedef struct arena_block arena_block_t;

/* Initialise with arena_init; the struct may live on the stack. */
typedef struct arena {
    ProtobufCAllocator pc; /* pass &a->pc to protobuf-c */
    arena_block_t *blocks;
    size_t block_size; /* size of the next block allocated */
} arena_t;

/* first_block: bytes of the first block (a good guess avoids a second). */
void arena_init(arena_t *a, size_t first_block);
/* Frees every block; the arena may be initialised again. */
void arena_free(arena_t *a);

#endif
