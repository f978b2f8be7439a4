/* table.c — growth and lifetime of the trace table (see table.h). */
#include <stdlib.h>
#include <sys/mman.h>
#include "table.h"

/* Big tables get their own mapping with transparent huge pages: a probe
 * lands on a random slot, and with 4 KiB pages nearly every probe of a
 * table of millions of blocks was also a TLB miss. */
#define SM_HUGE_MIN ((size_t)2 << 20)

static SmSlot *
slots_alloc(size_t cap)
{
    size_t bytes = cap * sizeof(SmSlot);
    if (bytes < SM_HUGE_MIN)
        return calloc(cap, sizeof(SmSlot));
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;   /* anonymous mappings are zero-filled */
}

static void
slots_free(SmSlot *slots, size_t cap)
{
    size_t bytes = cap * sizeof(SmSlot);
    if (!slots)
        return;
    if (bytes < SM_HUGE_MIN)
        free(slots);
    else
        munmap(slots, bytes);
}

static unsigned
log2_pow2(size_t n)
{
    unsigned b = 0;
    while (((size_t)1 << b) < n)
        b++;
    return b;
}

int
SmTable_init(SmTable *t, size_t capacity)
{
    size_t cap = 1024;
    while (cap < capacity)
        cap <<= 1;
    t->slots = slots_alloc(cap);
    if (!t->slots) {
        t->mask = 0;
        t->count = 0;
        return -1;
    }
    t->mask = cap - 1;
    t->shift = 64 - log2_pow2(cap);
    t->count = 0;
    return 0;
}

void
SmTable_free(SmTable *t)
{
    if (t->slots)
        slots_free(t->slots, t->mask + 1);
    t->slots = NULL;
    t->mask = 0;
    t->count = 0;
}

int
SmTable_grow(SmTable *t)
{
    SmTable bigger;
    if (SmTable_init(&bigger, (t->mask + 1) * 2) < 0)
        return -1;
    for (size_t i = 0; i <= t->mask; i++) {
        SmSlot *s = &t->slots[i];
        if (s->key) {
            size_t j = SmTable_home(&bigger, s->key);
            while (bigger.slots[j].key)
                j = (j + 1) & bigger.mask;
            bigger.slots[j] = *s;
        }
    }
    bigger.count = t->count;
    slots_free(t->slots, t->mask + 1);
    *t = bigger;
    return 0;
}
