/* tbstore.h — interned tracebacks of the live tracer.
 *
 * A traceback is captured as an array of (code object, instruction offset)
 * pairs, most recent call first, and interned: each distinct stack is stored
 * once and named by a small integer id that the trace table keeps per block.
 * File names and line numbers are computed only when a snapshot is taken, once
 * per distinct (code, offset) — not on every allocation as tracemalloc does.
 *
 * Id 0 is the empty traceback (an allocation made with no Python frame, or
 * without the GIL); snapshots show it as tracemalloc does: <unknown>:0.
 * The store holds a strong reference to every code object it names.
 * Not thread-safe: the tracer calls it with its lock held. Memory comes from
 * the C library's malloc, never from the hooked Python allocators.
 */
#ifndef SLEUTH_MEMORY_TBSTORE_H
#define SLEUTH_MEMORY_TBSTORE_H

#include "compat.h"
#include <stdint.h>

typedef struct {
    PyCodeObject *code;
    intptr_t lasti;    /* instruction index in code units (full width:
                        * no padding, so frames compare with memcmp) */
} SmRawFrame;

typedef struct {
    uint32_t first;    /* index of the first frame in SmTbStore.frames */
    uint32_t hash;
    uint16_t nframe;   /* frames stored (<= the traceback limit) */
    uint16_t total;    /* frames on the stack, capped at 65535 */
} SmTbRec;

typedef struct {
    SmTbRec *recs;
    uint32_t nrec, rcap;
    SmRawFrame *frames;
    size_t nframes, fcap;
    uint32_t *index;   /* open addressing: rec id + 1, 0 = empty */
    size_t imask;
} SmTbStore;

/* Hash of a stack, built one frame at a time during the capture. Each
 * frame's term is independent of the others (no serial chain), so the
 * multiplies of a deep stack pipeline. */
static inline uint64_t
SmTb_hash_step(uint64_t h, int i, const SmRawFrame *f)
{
    uint64_t x = ((uint64_t)(uintptr_t)f->code >> 4) ^ ((uint64_t)f->lasti << 40);
    x *= UINT64_C(0x9E3779B97F4A7C15);
    unsigned r = (unsigned)(i * 7) & 63;
    return h + (r ? (x << r) | (x >> (64 - r)) : x);
}

static inline uint32_t
SmTb_hash_final(uint64_t h, uint16_t total)
{
    h ^= total;
    h *= UINT64_C(0xBF58476D1CE4E5B9);
    h ^= h >> 31;
    return (uint32_t)(h ^ (h >> 32));
}

int SmTbStore_init(SmTbStore *s);
/* The id of this traceback, interning it if new; 0 (empty) on exhaustion. */
uint32_t SmTbStore_intern(SmTbStore *s, const SmRawFrame *frames, int n, uint16_t total,
                          uint32_t hash);
/* Free everything; drops the code references, so needs the GIL. */
void SmTbStore_release(SmTbStore *s);
size_t SmTbStore_bytes(const SmTbStore *s);

#endif /* SLEUTH_MEMORY_TBSTORE_H */
