/* rd_cache.c — open-addressing table of content keys (rd_cache.h). */
#define _GNU_SOURCE   /* posix_spawn_file_actions_addchdir_np, pipe2, nftw */
#include "rd_cache.h"

#include <stdlib.h>

static size_t
slot_of(const RdCache *c, RdKey k)
{
    return (size_t)(k.h1 ^ (k.h2 >> 7)) & (c->cap - 1);
}

int
rd_cache_get(const RdCache *c, RdKey k, int *verdict)
{
    if (!c->cap)
        return 0;
    for (size_t i = slot_of(c, k);; i = (i + 1) & (c->cap - 1)) {
        const RdCacheSlot *s = &c->slots[i];
        if (!s->used)
            return 0;
        if (rd_key_eq(s->key, k)) {
            *verdict = s->verdict;
            return 1;
        }
    }
}

static void
insert_unchecked(RdCache *c, RdKey k, int verdict)
{
    size_t i = slot_of(c, k);
    while (c->slots[i].used && !rd_key_eq(c->slots[i].key, k))
        i = (i + 1) & (c->cap - 1);
    if (!c->slots[i].used)
        c->count++;
    c->slots[i].used = 1;
    c->slots[i].key = k;
    c->slots[i].verdict = verdict;
}

int
rd_cache_put(RdCache *c, RdKey k, int verdict)
{
    if ((c->count + 1) * 2 > c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        RdCacheSlot *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return -1;
        RdCache old = *c;
        c->slots = ns;
        c->cap = ncap;
        c->count = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.slots[i].used)
                insert_unchecked(c, old.slots[i].key, old.slots[i].verdict);
        free(old.slots);
    }
    insert_unchecked(c, k, verdict);
    return 0;
}

void
rd_cache_free(RdCache *c)
{
    free(c->slots);
    c->slots = NULL;
    c->cap = c->count = 0;
}
