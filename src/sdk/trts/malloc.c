/*
 * malloc over the module's heap. The runtime hands out chunks of the module's heap (enclave_heap_alloc, the
 * same HeapMaxSize budget its call buffers come from); this file carves them into blocks: boundary tags, one
 * first-fit free list, coalescing on free, and a chunk that becomes wholly free goes back to the runtime
 * (but a last small one) so call buffers can use the room again. One lock: ECALLs of a module run in parallel.
 *
 * A block: a 16-byte header { size (with the header; bit 0 = in use), size of the block before it in the
 * chunk (0 for the first) }, then the payload, 16-byte aligned. A free block keeps its free-list links in the
 * payload. A chunk: { next chunk, size }, its blocks, and an end header of size 0, in use.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trts_runtime.h"

#define HDR       16u
#define MIN_BLOCK 32u
#define USED      1u
#define CHUNK_MIN (64u << 10)
#define CHUNK_MAX (4u << 20)

struct block {
    size_t size;
    size_t prev_size;
    struct block *next_free, *prev_free;   /* only while free */
};

struct chunk {
    struct chunk *next;
    size_t size;
};

static struct trts_lock lock;
static struct block *free_list;
static struct chunk *chunks;
static unsigned chunk_count;

static size_t size_of(const struct block *b)
{
    return b->size & ~(size_t)USED;
}

static struct block *after(struct block *b)
{
    return (struct block *)((char *)b + size_of(b));
}

static struct block *before(struct block *b)
{
    return (struct block *)((char *)b - b->prev_size);
}

static void unlink_free(struct block *b)
{
    if (b->prev_free)
        b->prev_free->next_free = b->next_free;
    else
        free_list = b->next_free;
    if (b->next_free)
        b->next_free->prev_free = b->prev_free;
}

static void push_free(struct block *b)
{
    b->prev_free = NULL;
    b->next_free = free_list;
    if (free_list)
        free_list->prev_free = b;
    free_list = b;
}

/* A new chunk with room for a block of need bytes; its one block goes on the free list. 0 or -1. */
static int grow(size_t need)
{
    size_t want = CHUNK_MIN << (chunk_count < 6 ? chunk_count : 6);
    if (want > CHUNK_MAX)
        want = CHUNK_MAX;
    size_t least = (sizeof(struct chunk) + need + HDR + 4095) & ~(size_t)4095;
    if (least < need)
        return -1;
    if (want < least)
        want = least;
    struct chunk *c = enclave_heap_alloc(want);
    if (!c && want > least)
        c = enclave_heap_alloc(want = least);
    if (!c)
        return -1;
    c->size = want;
    c->next = chunks;
    chunks = c;
    chunk_count++;
    struct block *b = (struct block *)(c + 1);
    b->size = want - sizeof *c - HDR;
    b->prev_size = 0;
    struct block *end = after(b);
    end->size = USED;
    end->prev_size = b->size;
    push_free(b);
    return 0;
}

/* Gives b's chunk back if b is all of it, unless it is the last one and small (kept against thrashing). */
static int release_chunk(struct block *b)
{
    struct chunk *c = (struct chunk *)b - 1;
    if (b->prev_size != 0 || after(b)->size != USED || (chunk_count == 1 && c->size <= CHUNK_MIN))
        return 0;
    for (struct chunk **p = &chunks; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            chunk_count--;
            enclave_heap_free(c);
            return 1;
        }
    }
    return 0;
}

/* Cuts b (in use) down to size, freeing the rest when it is worth a block. */
static void trim(struct block *b, size_t size)
{
    size_t have = size_of(b);
    if (have - size < MIN_BLOCK)
        return;
    struct block *rest = (struct block *)((char *)b + size), *next = after(b);
    b->size = size | USED;
    rest->size = have - size;
    rest->prev_size = size;
    next->prev_size = rest->size;
    if (!(next->size & USED)) {   /* merge with a free block behind */
        unlink_free(next);
        rest->size += next->size;
        after(rest)->prev_size = rest->size;
    }
    push_free(rest);
}

static size_t block_size(size_t n)
{
    if (n > SIZE_MAX - HDR - 15)
        return 0;
    size_t s = (n + HDR + 15) & ~(size_t)15;
    return s < MIN_BLOCK ? MIN_BLOCK : s;
}

static void *alloc_locked(size_t need)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        for (struct block *b = free_list; b; b = b->next_free) {
            if (b->size >= need) {
                unlink_free(b);
                b->size |= USED;
                trim(b, need);
                return (char *)b + HDR;
            }
        }
        if (attempt == 0 && grow(need) != 0)
            break;
    }
    return NULL;
}

void *malloc(size_t n)
{
    size_t need = block_size(n);
    void *p = NULL;
    if (need) {
        trts_lock(&lock);
        p = alloc_locked(need);
        trts_unlock(&lock);
    }
    if (!p)
        errno = ENOMEM;
    return p;
}

void *calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

static void free_locked(struct block *b)
{
    b->size &= ~(size_t)USED;
    struct block *next = after(b);
    if (!(next->size & USED)) {
        unlink_free(next);
        b->size += next->size;
    }
    if (b->prev_size != 0) {
        struct block *prev = before(b);
        if (!(prev->size & USED)) {
            unlink_free(prev);
            prev->size += b->size;
            b = prev;
        }
    }
    after(b)->prev_size = b->size;
    if (!release_chunk(b))
        push_free(b);
}

void free(void *p)
{
    if (!p)
        return;
    struct block *b = (struct block *)((char *)p - HDR);
    if (!(b->size & USED))
        abort();   /* a double free, or not malloc's pointer: memory is corrupt, stop here */
    trts_lock(&lock);
    free_locked(b);
    trts_unlock(&lock);
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    size_t need = block_size(n);
    if (!need) {
        errno = ENOMEM;
        return NULL;
    }
    struct block *b = (struct block *)((char *)p - HDR);
    trts_lock(&lock);
    struct block *next = after(b);
    if (size_of(b) < need && !(next->size & USED) && size_of(b) + next->size >= need) {
        unlink_free(next);   /* grow in place into the free block behind */
        b->size += next->size;
        after(b)->prev_size = size_of(b);
    }
    if (size_of(b) >= need) {
        trim(b, need);
        trts_unlock(&lock);
        return p;
    }
    void *q = alloc_locked(need);
    if (q) {
        memcpy(q, p, size_of(b) - HDR);
        free_locked(b);
    }
    trts_unlock(&lock);
    if (!q)
        errno = ENOMEM;
    return q;
}
