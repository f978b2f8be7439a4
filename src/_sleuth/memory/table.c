/* table.c — growth and lifetime of the trace table (see table.h). */
#include <stdlib.h>
#include "table.h"

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
    t->slots = calloc(cap, sizeof(SmSlot));
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
    free(t->slots);
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
    free(t->slots);
    *t = bigger;
    return 0;
}
