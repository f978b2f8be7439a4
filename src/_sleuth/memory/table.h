/* table.h — the trace table: block address -> (size, traceback id).
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), 16 bytes a slot, grown x2 at 4/5 load: between 20 and 40
 * bytes of metadata per live block. The slots live in memory from the C
 * library's malloc, never the Python allocators the tracer hooks.
 *
 * Not thread-safe: the tracer calls every function here with its lock held.
 * The lookups are inline because they run on every allocation and free.
 */
#ifndef SLEUTH_MEMORY_TABLE_H
#define SLEUTH_MEMORY_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* meta packs the block size (40 bits: up to 1 TiB) and a traceback id (24). */
#define SM_TB_BITS 24
#define SM_TB_MAX ((1u << SM_TB_BITS) - 1)
#define SM_SIZE_MAX ((UINT64_C(1) << (64 - SM_TB_BITS)) - 1)
#define SM_META(size, tb) (((uint64_t)(size) << SM_TB_BITS) | (uint64_t)(tb))
#define SM_META_SIZE(m) ((m) >> SM_TB_BITS)
#define SM_META_TB(m) ((uint32_t)((m) & SM_TB_MAX))

typedef struct {
    uintptr_t key;   /* block address; 0 = empty slot */
    uint64_t meta;
} SmSlot;

typedef struct {
    SmSlot *slots;
    size_t mask;     /* capacity - 1 (capacity is a power of two) */
    unsigned shift;  /* 64 - log2(capacity) */
    size_t count;
} SmTable;

int SmTable_init(SmTable *t, size_t capacity);
void SmTable_free(SmTable *t);
/* Grow to twice the capacity; -1 when out of memory (table unchanged). */
int SmTable_grow(SmTable *t);

static inline size_t
SmTable_home(const SmTable *t, uintptr_t key)
{
    /* Blocks are 16-byte aligned: drop the constant bits, then Fibonacci
     * hashing spreads consecutive addresses over the whole table. */
    return (size_t)(((uint64_t)(key >> 4) * UINT64_C(0x9E3779B97F4A7C15)) >> t->shift);
}

/* Insert or replace. Returns 1 if key was present (*old set), 0 if inserted,
 * -1 if the table was full and could not grow. */
static inline int
SmTable_put(SmTable *t, uintptr_t key, uint64_t meta, uint64_t *old)
{
    if ((t->count + 1) * 5 > (t->mask + 1) * 4 && SmTable_grow(t) < 0)
        return -1;
    size_t i = SmTable_home(t, key);
    for (;;) {
        SmSlot *s = &t->slots[i];
        if (s->key == key) {
            *old = s->meta;
            s->meta = meta;
            return 1;
        }
        if (s->key == 0) {
            s->key = key;
            s->meta = meta;
            t->count++;
            return 0;
        }
        i = (i + 1) & t->mask;
    }
}

static inline int
SmTable_get(const SmTable *t, uintptr_t key, uint64_t *meta)
{
    if (!t->slots)
        return 0;
    size_t i = SmTable_home(t, key);
    for (;;) {
        const SmSlot *s = &t->slots[i];
        if (s->key == key) {
            *meta = s->meta;
            return 1;
        }
        if (s->key == 0)
            return 0;
        i = (i + 1) & t->mask;
    }
}

/* Give key, if present, traceback id tb (its size stays). */
static inline void
SmTable_set_tb(SmTable *t, uintptr_t key, uint32_t tb)
{
    if (!t->slots)
        return;
    size_t i = SmTable_home(t, key);
    for (;;) {
        SmSlot *s = &t->slots[i];
        if (s->key == key) {
            s->meta = SM_META(SM_META_SIZE(s->meta), tb);
            return;
        }
        if (s->key == 0)
            return;
        i = (i + 1) & t->mask;
    }
}

/* Remove key; returns 1 and its meta if it was present. */
static inline int
SmTable_pop(SmTable *t, uintptr_t key, uint64_t *meta)
{
    if (!t->slots || t->count == 0)
        return 0;
    size_t i = SmTable_home(t, key);
    for (;;) {
        SmSlot *s = &t->slots[i];
        if (s->key == key)
            break;
        if (s->key == 0)
            return 0;
        i = (i + 1) & t->mask;
    }
    *meta = t->slots[i].meta;
    t->count--;
    /* Backward shift: pull later members of the probe run into the hole
     * unless their home lies cyclically in (hole, j]. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        SmSlot *s = &t->slots[j];
        if (s->key == 0)
            break;
        size_t h = SmTable_home(t, s->key);
        if (((j - h) & t->mask) >= ((j - i) & t->mask)) {
            t->slots[i] = *s;
            i = j;
        }
    }
    t->slots[i].key = 0;
    t->slots[i].meta = 0;
    return 1;
}

#endif /* SLEUTH_MEMORY_TABLE_H */
