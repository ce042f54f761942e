/* arena: see arena.h. */
#include "core/arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define ARENA_ALIGN alignof(max_align_t)
#define ARENA_MIN_BLOCK 1024
#define ARENA_MAX_BLOCK (1024 * 1024) /* growth stops doubling here */

#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ONE_PER_ALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ONE_PER_ALLOC 1
#endif
#endif

struct arena_block {
    arena_block_t *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

static arena_block_t *block_new(arena_t *a, size_t need)
{
    size_t cap = need > a->block_size ? need : a->block_size;
    if (cap > SIZE_MAX - sizeof(arena_block_t))
        return NULL;
    arena_block_t *b = malloc(sizeof *b + cap);
    if (!b)
        return NULL;
    b->cap = cap;
    b->used = 0;
    b->next = a->blocks;
    a->blocks = b;
    if (a->block_size < ARENA_MAX_BLOCK)
        a->block_size *= 2;
    return b;
}

static void *arena_alloc(void *data, size_t size)
{
    arena_t *a = data;
    if (size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size == 0)
        size = ARENA_ALIGN;
    arena_block_t *b = a->blocks;
#ifdef ARENA_ONE_PER_ALLOC
    b = NULL;
#endif
    if (!b || b->cap - b->used < size)
        b = block_new(a, size);
    if (!b)
        return NULL;
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

static void arena_nofree(void *data, void *ptr)
{
    (void)data; /* everything goes at arena_free */
    (void)ptr;
}

void arena_init(arena_t *a, size_t first_block)
{
    a->pc.alloc = arena_alloc;
    a->pc.free = arena_nofree;
    a->pc.allocator_data = a;
    a->blocks = NULL;
    a->block_size = first_block < ARENA_MIN_BLOCK ? ARENA_MIN_BLOCK : first_block;
#ifdef ARENA_ONE_PER_ALLOC
    a->block_size = 0; /* each block exactly its allocation */
#endif
}

void arena_free(arena_t *a)
{
    while (a->blocks) {
        arena_block_t *b = a->blocks;
        a->blocks = b->next;
        free(b);
    }
}
