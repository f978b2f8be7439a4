/* rd_cache.h — verdicts already known, keyed by candidate content.
 *
 * Delta debugging revisits the same candidate often (after a change, coarse
 * and fine passes meet the same text; two equal neighbouring bytes give the
 * same removal), so a test is never run twice on the same bytes.
 */
#ifndef SLEUTH_RD_CACHE_H
#define SLEUTH_RD_CACHE_H

#include "rd_util.h"

typedef struct {
    RdKey key;
    int used;
    int verdict;
} RdCacheSlot;

typedef struct {
    RdCacheSlot *slots;
    size_t cap;     /* power of two */
    size_t count;
} RdCache;

/* Returns 1 and sets *verdict when known, 0 when not. */
int rd_cache_get(const RdCache *c, RdKey k, int *verdict);
/* Returns 0, or -1 when out of memory (the cache then just stays smaller). */
int rd_cache_put(RdCache *c, RdKey k, int verdict);
void rd_cache_free(RdCache *c);

#endif
