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

/* A hint: the traceback most recently interned for a stack whose innermost
 * frame is (code, lasti). The capture compares the running stack with the
 * hinted record's frames while it walks it, and on a match (every stored
 * frame and the total depth: the very test interning does) it has the id
 * without hashing the stack or probing the index. */
typedef struct {
    PyCodeObject *code;
    intptr_t lasti;
    uint32_t id;       /* 0: no hint */
    uint32_t first;    /* the record's first frame in SmTbStore.frames */
    uint16_t nframe, total;
    uint8_t plain;     /* every frame past its code's prologue (set by the
                        * capture, which alone sees the code's fields) */
    int32_t depth;     /* the interpreter's frame count for which `total`
                        * holds, or -1 (set by the capture: frames.c) */
} SmTbHint;

#define SM_TB_HINT_BITS 8

typedef struct {
    SmTbRec *recs;
    uint32_t nrec, rcap;
    SmRawFrame *frames;
    size_t nframes, fcap;
    uint32_t *index;   /* open addressing: rec id + 1, 0 = empty */
    size_t imask;
    SmTbHint hints[1u << SM_TB_HINT_BITS];   /* direct-mapped */
} SmTbStore;

static inline SmTbHint *
SmTbStore_hint(SmTbStore *s, PyCodeObject *code, intptr_t lasti)
{
    uint64_t x = (((uint64_t)(uintptr_t)code >> 4) + (uint64_t)lasti) * UINT64_C(0x9E3779B97F4A7C15);
    return &s->hints[x >> (64 - SM_TB_HINT_BITS)];
}

int SmTbStore_init(SmTbStore *s);
/* The id of this traceback, interning it if new; 0 (empty) on exhaustion.
 * Also makes it the hint of its innermost frame. */
uint32_t SmTbStore_intern(SmTbStore *s, const SmRawFrame *frames, int n, uint16_t total);
/* Free everything; drops the code references, so needs the GIL. */
void SmTbStore_release(SmTbStore *s);
size_t SmTbStore_bytes(const SmTbStore *s);

#endif /* SLEUTH_MEMORY_TBSTORE_H */
