/* tracer.c — allocation hooks and the live trace state (see tracer.h).
 *
 * Per allocation in exact mode: forward to the wrapped allocator, then under
 * the lock walk the stack (frames.c), intern it (tbstore.c) and store
 * (address -> size, traceback id) in the table (table.h). A free removes the
 * block *before* forwarding, so another thread cannot be handed the same
 * address and have its new trace removed by us.
 *
 * Sampling mode (start(sample=B)): allocations form a stream of bytes in
 * which sample points fall as a Poisson process of rate 1/B, i.e. with
 * exponentially distributed gaps. A block of S bytes is recorded iff a point
 * falls inside it, with probability p = 1 - exp(-S/B); snapshots weight it
 * by 1/p, which makes sizes and counts per site unbiased estimates. The
 * countdown to the next point is one shared counter updated with relaxed
 * atomics outside the lock (a lost update between threads only moves a
 * sample point; the GIL serialises all but raw-domain calls anyway).
 */
#define _GNU_SOURCE 1   /* dladdr */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tracer.h"
#include "table.h"
#include "frames.h"

/* ------------------------------------------------------------------------ */
/* state                                                                    */

typedef struct {
    PyMemAllocatorEx wrapped;  /* the allocator our hook forwards to */
    PyMemAllocatorDomain domain;
} SmHookCtx;

/* Static forever: a hook still running on another thread while stop()
 * restores the allocators keeps a valid ctx. */
static SmHookCtx sm_ctx[3];

static int sm_tracing;          /* read without the lock, re-checked under it */
static int sm_nframe = 1;
static double sm_sample;        /* 0: exact mode */
static int sm_sampling;         /* sm_sample > 0, for the hot paths */
static int sm_reuse;            /* start(reuse=True) */
static SmTable sm_table;
static SmTbStore sm_tbs;
static SmRawFrame *sm_buf;      /* capture buffer, sm_nframe long */
static uint64_t sm_traced, sm_peak;        /* exact mode */
static double sm_est_traced, sm_est_peak;  /* sampling mode */
static int64_t sm_countdown;    /* bytes to the next sample point */
static uint64_t sm_rng[2];      /* xorshift128+ */

/* Pending table operations. The table is far bigger than the caches, so
 * each insert or remove is a cache miss on a random slot: most of the cost
 * of exact tracing. Operations go into a ring of SM_QLEN with a prefetch of
 * their slot; a push that finds the ring full first applies the oldest
 * operation, whose slot was prefetched SM_QLEN operations earlier. Every
 * operation thus gets the same long lead, and the misses overlap instead of
 * stalling one by one (a batch flush gave the last few operations of each
 * batch almost no lead). Everything that reads the table flushes first. */
#define SM_QLEN 32   /* a power of two */
#define SM_QMASK (SM_QLEN - 1)
/* A block freed while its own insert is still queued (a short-lived
 * temporary: most blocks) never touches the table: the insert becomes an
 * accounting-only ADD_ONLY, and the free's size is added to the sub_after of
 * the newest queued operation, which subtracts it right after its own
 * accounting. Frees only ever lower the total, so merging the ones between
 * two queued operations keeps the current and peak totals exact, and they
 * take no slot of the ring. */
/* SM_OP_RETAG: a traced block now holds an object created on another stack
 * (reused from a free list, 3.13): give it that traceback, keep its size. */
enum { SM_OP_DONE, SM_OP_PUT, SM_OP_REMOVE, SM_OP_ADD_ONLY, SM_OP_RETAG };
typedef struct {
    uintptr_t key;
    uint64_t meta;   /* the meta to store (PUT, ADD_ONLY) */
    union {
        uint64_t n;  /* exact mode: bytes */
        double est;  /* sampling mode: weighted bytes */
    } sub_after;
    int kind;        /* SM_OP_DONE once applied */
} SmOp;
static SmOp sm_q[SM_QLEN];
static unsigned sm_qhead;   /* slot of the oldest pending operation */
static unsigned sm_qn;      /* pending operations */
/* Where a queued insert may be: the ring slot of the latest PUT whose key
 * hashes here. Only a hint, checked against the slot (kind and key): when
 * two queued inserts share an entry the older one is not found, and its free
 * is queued as an ordinary remove behind it, which is just as exact. This
 * replaces a scan of the whole ring on every free. */
#define SM_QPOS_BITS 6
static uint8_t sm_qpos[1u << SM_QPOS_BITS];

static inline size_t
sm_qpos_slot(uintptr_t key)
{
    return (size_t)(((key >> 4) ^ (key >> 10)) & ((1u << SM_QPOS_BITS) - 1));
}

/* Sampling mode: a counting filter of the live sampled blocks, so that a
 * free of an unsampled block (nearly all of them) costs one byte test and
 * no lock. A counter goes up (under the lock) before a sampled block's
 * address is handed to the program and down when its trace is removed; it
 * is 16 KiB, so it stays in cache. A saturated counter never goes down (it
 * just keeps saying "maybe"). Reset by start() and clear_traces(). */
#define SM_FILTER_BITS 14
static uint8_t sm_filter[1u << SM_FILTER_BITS];

static inline size_t
sm_filter_slot(uintptr_t p)
{
    return (size_t)((((uint64_t)p >> 4) * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - SM_FILTER_BITS));
}

static inline int
sm_filter_has(void *p)
{
    return __atomic_load_n(&sm_filter[sm_filter_slot((uintptr_t)p)], __ATOMIC_RELAXED) != 0;
}

/* lock held */
static inline void
sm_filter_inc(uintptr_t p)
{
    if (!sm_sampling)
        return;
    uint8_t *c = &sm_filter[sm_filter_slot(p)];
    if (*c < 255)
        __atomic_store_n(c, (uint8_t)(*c + 1), __ATOMIC_RELAXED);
}

static inline void
sm_filter_dec(uintptr_t p)
{
    if (!sm_sampling)
        return;
    uint8_t *c = &sm_filter[sm_filter_slot(p)];
    if (*c != 255 && *c != 0)
        __atomic_store_n(c, (uint8_t)(*c - 1), __ATOMIC_RELAXED);
}

static int sm_lockword;
/* Thread ids for the lock's owner: the thread pointer (one instruction)
 * where the compiler offers it, else pthread_self() (a library call; on
 * glibc it returns that same pointer). */
static inline uintptr_t
sm_self(void)
{
#if defined(__has_builtin) && (defined(__x86_64__) || defined(__aarch64__))
#  if __has_builtin(__builtin_thread_pointer)
    return (uintptr_t)__builtin_thread_pointer();
#  else
    return (uintptr_t)pthread_self();
#  endif
#else
    return (uintptr_t)pthread_self();
#endif
}

static uintptr_t sm_owner;
static int sm_atfork_done;
/* Re-entrancy guard without thread-local storage: > 0 while a MEM/OBJ hook
 * (which runs with the GIL) is inside the allocator it wraps. pymalloc
 * passes big blocks on to PyMem_RawMalloc, so the raw hook then sees the
 * same block again; it skips it when the caller holds the GIL and this is
 * set, because the outer hook records it (once: a double chance of being
 * sampled would bias the sampling estimates). Only the GIL holder writes it. */
static int sm_obj_depth;
static uintptr_t sm_ignored;     /* a thread whose allocations are not traced */
static int sm_ignoring;

/* ------------------------------------------------------------------------ */
/* lock                                                                     */

/* Returns 1 with the lock held, 0 if this thread already holds it (a
 * re-entrant call: the caller must pass through without tracing). */
static inline int
sm_lock(void)
{
    if (__atomic_exchange_n(&sm_lockword, 1, __ATOMIC_ACQUIRE) == 0) {
        sm_owner = sm_self();
        return 1;
    }
    if (__atomic_load_n(&sm_owner, __ATOMIC_RELAXED) == sm_self())
        return 0;
    for (unsigned spins = 0;; spins++) {
        if (__atomic_load_n(&sm_lockword, __ATOMIC_RELAXED) == 0 &&
            __atomic_exchange_n(&sm_lockword, 1, __ATOMIC_ACQUIRE) == 0)
            break;
        if (spins > 64)
            sched_yield();
        else
            __builtin_ia32_pause();
    }
    sm_owner = sm_self();
    return 1;
}

static inline void
sm_unlock(void)
{
    sm_owner = 0;
    __atomic_store_n(&sm_lockword, 0, __ATOMIC_RELEASE);
}

/* A child forked while another thread held the lock must not inherit it. */
static void
sm_atfork_child(void)
{
    sm_owner = 0;
    sm_lockword = 0;
}

/* ------------------------------------------------------------------------ */
/* sampling                                                                 */

static uint64_t
sm_rand64(void)
{
    uint64_t s1 = sm_rng[0];
    const uint64_t s0 = sm_rng[1];
    sm_rng[0] = s0;
    s1 ^= s1 << 23;
    sm_rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return sm_rng[1] + s0;
}

static void
sm_seed(uint64_t seed)
{
    /* splitmix64 expands the seed into a non-zero state */
    for (int i = 0; i < 2; i++) {
        uint64_t z = (seed += UINT64_C(0x9E3779B97F4A7C15));
        z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
        sm_rng[i] = z ^ (z >> 31);
    }
    if (!sm_rng[0] && !sm_rng[1])
        sm_rng[0] = 1;
}

/* An exponential gap with mean sm_sample, at least 1 byte. Lock held. */
static int64_t
sm_draw_gap(void)
{
    double u = ((double)(sm_rand64() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double g = -log(u) * sm_sample;
    if (g < 1.0)
        g = 1.0;
    if (g > 9e18)
        g = 9e18;
    return (int64_t)g;
}

double
SmTracer_sample_p(double size, double sample)
{
    if (sample <= 0)
        return 1.0;
    return -expm1(-size / sample);
}

/* ------------------------------------------------------------------------ */
/* recording (hot path)                                                     */

static inline void
sm_account_add(uint64_t size)
{
    if (sm_sampling) {
        sm_est_traced += (double)size / SmTracer_sample_p((double)size, sm_sample);
        if (sm_est_traced > sm_est_peak)
            sm_est_peak = sm_est_traced;
    }
    else {
        sm_traced += size;
        if (sm_traced > sm_peak)
            sm_peak = sm_traced;
    }
}

static inline void
sm_account_sub(uint64_t size)
{
    if (sm_sampling) {
        sm_est_traced -= (double)size / SmTracer_sample_p((double)size, sm_sample);
        if (sm_est_traced < 0)
            sm_est_traced = 0;
    }
    else {
        sm_traced -= size;
    }
}

static inline void
sm_q_apply_unlocked(SmOp *op)
{
    uint64_t old;
    switch (op->kind) {
    case SM_OP_PUT: {
        int r = SmTable_put(&sm_table, op->key, op->meta, &old);
        if (r == 1) {
            sm_account_sub(SM_META_SIZE(old));
            sm_filter_dec(op->key);   /* the replaced trace's count */
        }
        if (r >= 0)
            sm_account_add(SM_META_SIZE(op->meta));
        break;
    }
    case SM_OP_REMOVE:
        if (SmTable_pop(&sm_table, op->key, &old)) {
            sm_account_sub(SM_META_SIZE(old));
            sm_filter_dec(op->key);
        }
        break;
    case SM_OP_ADD_ONLY:
        sm_account_add(SM_META_SIZE(op->meta));
        break;
    case SM_OP_RETAG:
        SmTable_set_tb(&sm_table, op->key, SM_META_TB(op->meta));
        break;
    }
    if (sm_sampling) {
        sm_est_traced -= op->sub_after.est;
        if (sm_est_traced < 0)
            sm_est_traced = 0;
    }
    else
        sm_traced -= op->sub_after.n;
    op->kind = SM_OP_DONE;
}

static void
sm_q_flush_unlocked(void)
{
    while (sm_qn) {
        sm_q_apply_unlocked(&sm_q[sm_qhead]);
        sm_qhead = (sm_qhead + 1) & SM_QMASK;
        sm_qn--;
    }
}

/* Drop every pending operation (they belong to a table being dropped). */
static void
sm_q_discard_unlocked(void)
{
    memset(sm_q, 0, sizeof(sm_q));
    sm_qhead = sm_qn = 0;
}

/* Queue one operation, applying the oldest first if the ring is full;
 * returns its slot. */
static inline unsigned
sm_q_push_unlocked(uintptr_t key, uint64_t meta, int kind)
{
    if (__builtin_expect(sm_qn == SM_QLEN, 1)) {
        sm_q_apply_unlocked(&sm_q[sm_qhead]);
        sm_qhead = (sm_qhead + 1) & SM_QMASK;
        sm_qn--;
    }
    unsigned slot = (sm_qhead + sm_qn++) & SM_QMASK;
    sm_q[slot].key = key;
    sm_q[slot].meta = meta;
    sm_q[slot].sub_after.n = 0;   /* also 0.0 */
    sm_q[slot].kind = kind;
    return slot;
}

static inline void
sm_q_put_unlocked(uintptr_t key, uint64_t meta)
{
    if (sm_table.slots)
        __builtin_prefetch(&sm_table.slots[SmTable_home(&sm_table, key)], 1, 0);
    sm_qpos[sm_qpos_slot(key)] = (uint8_t)sm_q_push_unlocked(key, meta, SM_OP_PUT);
}

/* If key's insert is still queued, turn it into accounting and return 1
 * with its meta: the block never reaches the table. */
static inline int
sm_q_cancel_unlocked(uintptr_t key, uint64_t *meta)
{
    SmOp *put = &sm_q[sm_qpos[sm_qpos_slot(key)]];
    if (put->kind != SM_OP_PUT || put->key != key)
        return 0;
    /* It is the latest operation on key: a later one would be a free of
     * this very block. Its add stays in place; the free comes after the
     * newest queued operation (there is one: put). */
    SmOp *last = &sm_q[(sm_qhead + sm_qn - 1) & SM_QMASK];
    uint64_t size = SM_META_SIZE(put->meta);
    put->kind = SM_OP_ADD_ONLY;
    *meta = put->meta;
    if (sm_sampling)
        last->sub_after.est += (double)size / SmTracer_sample_p((double)size, sm_sample);
    else
        last->sub_after.n += size;
    sm_filter_dec(key);
    return 1;
}

static inline void
sm_q_remove_unlocked(uintptr_t key)
{
    uint64_t meta;
    if (sm_q_cancel_unlocked(key, &meta))
        return;
    if (sm_table.slots)
        __builtin_prefetch(&sm_table.slots[SmTable_home(&sm_table, key)], 1, 0);
    (void)sm_q_push_unlocked(key, 0, SM_OP_REMOVE);
}

/* Block key now holds an object created with traceback tb: if it is traced,
 * that is its traceback from now on. Its insert may still be queued. */
static inline void
sm_q_retag_unlocked(uintptr_t key, uint32_t tb)
{
    SmOp *put = &sm_q[sm_qpos[sm_qpos_slot(key)]];
    if (put->kind == SM_OP_PUT && put->key == key) {
        put->meta = SM_META(SM_META_SIZE(put->meta), tb);
        return;
    }
    if (sm_table.slots)
        __builtin_prefetch(&sm_table.slots[SmTable_home(&sm_table, key)], 1, 0);
    (void)sm_q_push_unlocked(key, SM_META(0, tb), SM_OP_RETAG);
}

/* Sampling mode: does a sample point fall in this block? (Counts it off.) */
static inline int
sm_sample_hit(size_t size)
{
    int64_t c = __atomic_load_n(&sm_countdown, __ATOMIC_RELAXED) - (int64_t)size;
    if (c > 0) {
        __atomic_store_n(&sm_countdown, c, __ATOMIC_RELAXED);
        return 0;
    }
    return 1;
}

#if SLEUTH_PY313
/* The block the hooks recorded last: an object created in it right after
 * its allocation already has the right traceback. */
static uintptr_t sm_last_block;
#endif

/* Record block p of `size` bytes, just allocated (and picked, in sampling
 * mode). ts: the caller's thread state if it holds the GIL (frames can be
 * read), else NULL. */
static void
sm_record(void *p, size_t size, PyThreadState *ts)
{
    if (!sm_lock())
        return;
    if (!__atomic_load_n(&sm_tracing, __ATOMIC_RELAXED))
        goto done;
    /* the next gap first: even a block we then ignore used up its point */
    if (sm_sampling)
        __atomic_store_n(&sm_countdown, sm_draw_gap(), __ATOMIC_RELAXED);
    if (sm_ignoring && sm_owner == sm_ignored)
        goto done;
    uint32_t tb = 0;
    if (ts)
        tb = SmFrames_capture(ts, &sm_tbs, sm_buf, sm_nframe);
    uint64_t sz = size > SM_SIZE_MAX ? SM_SIZE_MAX : size;
    sm_filter_inc((uintptr_t)p);
    sm_q_put_unlocked((uintptr_t)p, SM_META(sz, tb));
#if SLEUTH_PY313
    if (sm_reuse)
        __atomic_store_n(&sm_last_block, (uintptr_t)p, __ATOMIC_RELAXED);
#endif
done:
    sm_unlock();
}

/* Forget block p; returns 1 and its meta if it was traced. */
static inline int
sm_forget(void *p, uint64_t *meta)
{
    int found = 0;
    if (!sm_lock())
        return 0;
    if (sm_q_cancel_unlocked((uintptr_t)p, meta)) {
        found = 1;
        goto done;
    }
    sm_q_flush_unlocked();
    if (SmTable_pop(&sm_table, (uintptr_t)p, meta)) {
        sm_account_sub(SM_META_SIZE(*meta));
        sm_filter_dec((uintptr_t)p);
        found = 1;
    }
done:
    sm_unlock();
    return found;
}

static void
sm_restore(void *p, uint64_t meta)
{
    if (!sm_lock())
        return;
    if (__atomic_load_n(&sm_tracing, __ATOMIC_RELAXED)) {
        sm_filter_inc((uintptr_t)p);
        sm_q_put_unlocked((uintptr_t)p, meta);
    }
    sm_unlock();
}

/* ------------------------------------------------------------------------ */
/* hooks                                                                    */

/* The caller's thread state if frames may be read, with *skip set when
 * this is a raw call nested in one of our MEM/OBJ hooks. */
static inline PyThreadState *
sm_caller(int raw, int *skip)
{
    *skip = 0;
    if (!raw)
        return SmFrames_tstate_unchecked();
    PyThreadState *ts = SmFrames_tstate_with_gil();
    if (ts && sm_obj_depth)
        *skip = 1;
    return ts;
}

/* A raw call nested in one of our MEM/OBJ hooks (the outer hook records the
 * block)? Frees and reallocs only need this answer, not the thread state:
 * sm_obj_depth is tested first, so the MEM/OBJ domains and most raw calls
 * never look the thread state up. */
static inline int
sm_nested(int raw)
{
    if (!raw || !sm_obj_depth)
        return 0;
    return SmFrames_tstate_with_gil() != NULL;
}

/* Should a free or realloc of a block forget its trace? Not in a raw call
 * nested in our own hook (the outer hook forgets its block), except in
 * sampling mode: there pymalloc's own raw bookkeeping (its arena table)
 * can be recorded from a fast-hook malloc, which keeps no nesting count,
 * and moved or freed later from a full-hook one, nested. A call frees the
 * pointer it is given, so forgetting it is always right; the filter has
 * already made it rare. (Found in review: the moved arena table's trace
 * outlived it.) */
static inline int
sm_should_forget(int raw)
{
    return sm_sampling || !sm_nested(raw);
}

/* After the wrapped allocator returned p: decide and record. */
static inline void
sm_after_alloc(int raw, void *p, size_t size)
{
    PyThreadState *ts;
    int skip;
    if (!p || !__atomic_load_n(&sm_tracing, __ATOMIC_RELAXED))
        return;
    if (raw) {
        /* nested-call check first: a nested block must not count twice */
        ts = sm_caller(raw, &skip);
        if (skip || (sm_sampling && !sm_sample_hit(size)))
            return;
    }
    else {
        /* the common case in sampling mode ends here, before any other work */
        if (sm_sampling && !sm_sample_hit(size))
            return;
        ts = SmFrames_tstate_unchecked();
    }
    sm_record(p, size, ts);
}

/* The hooks exist twice, for the RAW domain (raw = 1) and for MEM/OBJ
 * (raw = 0): each copy is compiled with its domain's tests folded away. */
#define SM_INLINE static inline __attribute__((always_inline))
#define SM_ENTER(raw) do { if (!(raw)) sm_obj_depth++; } while (0)
#define SM_LEAVE(raw) do { if (!(raw)) sm_obj_depth--; } while (0)

SM_INLINE void *
sm_malloc(void *ctx, size_t size, int raw)
{
    SmHookCtx *c = ctx;
    SM_ENTER(raw);
    void *p = c->wrapped.malloc(c->wrapped.ctx, size);
    SM_LEAVE(raw);
    sm_after_alloc(raw, p, size);
    return p;
}

SM_INLINE void *
sm_calloc(void *ctx, size_t nelem, size_t elsize, int raw)
{
    SmHookCtx *c = ctx;
    SM_ENTER(raw);
    void *p = c->wrapped.calloc(c->wrapped.ctx, nelem, elsize);
    SM_LEAVE(raw);
    /* the wrapped calloc checked nelem * elsize for overflow */
    sm_after_alloc(raw, p, nelem * elsize);
    return p;
}

SM_INLINE void *
sm_realloc(void *ctx, void *ptr, size_t size, int raw)
{
    SmHookCtx *c = ctx;
    uint64_t meta = 0;
    int had = 0;
    if (ptr && __atomic_load_n(&sm_tracing, __ATOMIC_RELAXED) &&
        !(sm_sampling && !sm_filter_has(ptr)) && sm_should_forget(raw))
        had = sm_forget(ptr, &meta);
    SM_ENTER(raw);
    void *p = c->wrapped.realloc(c->wrapped.ctx, ptr, size);
    SM_LEAVE(raw);
    if (!p) {
        /* failed: the old block is still there, and still ours to trace */
        if (had)
            sm_restore(ptr, meta);
        return NULL;
    }
    sm_after_alloc(raw, p, size);
    return p;
}

SM_INLINE void
sm_free(void *ctx, void *ptr, int raw)
{
    SmHookCtx *c = ctx;
    if (ptr && __atomic_load_n(&sm_tracing, __ATOMIC_RELAXED)) {
        if (sm_sampling && !sm_filter_has(ptr))
            goto forward;   /* never sampled */
        if (sm_should_forget(raw) && sm_lock()) {
            if (__atomic_load_n(&sm_tracing, __ATOMIC_RELAXED))
                sm_q_remove_unlocked((uintptr_t)ptr);
            sm_unlock();
        }
    }
forward:
    SM_ENTER(raw);
    c->wrapped.free(c->wrapped.ctx, ptr);
    SM_LEAVE(raw);
}

static void *sm_hook_malloc_raw(void *ctx, size_t size) { return sm_malloc(ctx, size, 1); }
/* (noinline: the sampling hooks below tail-call them) */
static __attribute__((noinline)) void *
sm_hook_malloc_obj(void *ctx, size_t size)
{
    return sm_malloc(ctx, size, 0);
}
static void *
sm_hook_calloc_raw(void *ctx, size_t nelem, size_t elsize)
{
    return sm_calloc(ctx, nelem, elsize, 1);
}
static __attribute__((noinline)) void *
sm_hook_calloc_obj(void *ctx, size_t nelem, size_t elsize)
{
    return sm_calloc(ctx, nelem, elsize, 0);
}
static void *
sm_hook_realloc_raw(void *ctx, void *ptr, size_t size)
{
    return sm_realloc(ctx, ptr, size, 1);
}
static void *
sm_hook_realloc_obj(void *ctx, void *ptr, size_t size)
{
    return sm_realloc(ctx, ptr, size, 0);
}
static void sm_hook_free_raw(void *ctx, void *ptr) { sm_free(ctx, ptr, 1); }
static __attribute__((noinline)) void
sm_hook_free_obj(void *ctx, void *ptr)
{
    sm_free(ctx, ptr, 0);
}

/* Sampling mode, MEM/OBJ domains: nearly every call neither holds a sample
 * point nor frees a sampled block, and these copies settle that first and
 * jump straight to the wrapped allocator (a tail call: no frame, no
 * sm_obj_depth bookkeeping, no tracing test). sm_obj_depth is there so that
 * the raw block pymalloc takes for a large request is not recorded twice;
 * a request of at most SM_SMALL_REQUEST bytes is served from pymalloc's
 * pools (512 bytes at most, less 64 for PYTHONMALLOC=debug's guard bytes),
 * so it reaches the raw domain only when pymalloc grows its own
 * bookkeeping (the arena table, the radix tree): such a block then just
 * counts down to the next sample point like any raw allocation, where
 * tracemalloc would not trace it (and sm_should_forget() forgets it when
 * it moves, whichever hook it moves under). A free of a block the filter
 * has never seen cannot be a traced block's, nor can any raw free nested
 * in it (that is the same block). Anything else takes the full hook. */
#define SM_SMALL_REQUEST 448

static void *
sm_hook_malloc_sampling(void *ctx, size_t size)
{
    SmHookCtx *c = ctx;
    if (size <= SM_SMALL_REQUEST && !sm_sample_hit(size))
        return c->wrapped.malloc(c->wrapped.ctx, size);
    return sm_hook_malloc_obj(ctx, size);
}

static void *
sm_hook_calloc_sampling(void *ctx, size_t nelem, size_t elsize)
{
    SmHookCtx *c = ctx;
    size_t size;
    if (!__builtin_mul_overflow(nelem, elsize, &size) && size <= SM_SMALL_REQUEST &&
        !sm_sample_hit(size))
        return c->wrapped.calloc(c->wrapped.ctx, nelem, elsize);
    return sm_hook_calloc_obj(ctx, nelem, elsize);
}

static void
sm_hook_free_sampling(void *ctx, void *ptr)
{
    SmHookCtx *c = ctx;
    if (!sm_filter_has(ptr)) {
        c->wrapped.free(c->wrapped.ctx, ptr);
        return;
    }
    sm_hook_free_obj(ctx, ptr);
}

/* The hooks of domain i (0: RAW, 1: MEM, 2: OBJ) for the mode, ctx left
 * NULL. */
static PyMemAllocatorEx
sm_hooks_of(int i, int sampling)
{
    PyMemAllocatorEx raw = {NULL, sm_hook_malloc_raw, sm_hook_calloc_raw, sm_hook_realloc_raw,
                            sm_hook_free_raw};
    PyMemAllocatorEx obj = {NULL, sm_hook_malloc_obj, sm_hook_calloc_obj, sm_hook_realloc_obj,
                            sm_hook_free_obj};
    PyMemAllocatorEx obj_sampling = {NULL, sm_hook_malloc_sampling, sm_hook_calloc_sampling,
                                     sm_hook_realloc_obj, sm_hook_free_sampling};
    return i == 0 ? raw : sampling ? obj_sampling : obj;
}

static int
sm_hooks_on_top(void)
{
    static const PyMemAllocatorDomain doms[3] = {
        PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    for (int i = 0; i < 3; i++) {
        PyMemAllocatorEx cur;
        PyMem_GetAllocator(doms[i], &cur);
        if (cur.malloc != sm_hooks_of(i, sm_sampling).malloc || cur.ctx != &sm_ctx[i])
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* objects reused from free lists (3.13)                                    */

/* A tuple, list, dict or float taken from a free list is a new object in a
 * block traced where an earlier object was allocated. tracemalloc gives the
 * block the new object's traceback (its hook in object creation is private
 * before 3.13); sleuth does with start(reuse=True) on 3.13+, through the
 * public reference tracer. Otherwise such a block keeps its first one. */
#if SLEUTH_PY313
static int sm_reftracer_on;

/* An object made in a block that is not the one just allocated for it. */
static int __attribute__((noinline))
sm_reftrace_reused(PyObject *op)
{
    if (!__atomic_load_n(&sm_tracing, __ATOMIC_RELAXED))
        return 0;
    uintptr_t block = SmFrames_object_block(op);
    PyThreadState *ts = SmFrames_tstate_unchecked();
    if (!sm_lock())
        return 0;
    if (__atomic_load_n(&sm_tracing, __ATOMIC_RELAXED) && !(sm_ignoring && sm_owner == sm_ignored)) {
        uint32_t tb = ts ? SmFrames_capture(ts, &sm_tbs, sm_buf, sm_nframe) : 0;
        sm_q_retag_unlocked(block, tb);
    }
    sm_unlock();
    return 0;
}

/* Called for every object created and destroyed while tracing: the usual
 * case (a new object in the block just allocated for it) is a few tests.
 * The first object made in the block the hooks recorded last is the one it
 * was allocated for, on this very stack; it uses that up, so a second
 * object in the block (the first went to a free list and came back with no
 * allocation in between) is a reuse. (DESTROY events are not sent on every
 * path that frees an object, so they cannot tell.) An object lies at most
 * 32 bytes into its block. */
static int
sm_reftrace(PyObject *op, PyRefTracerEvent event, void *data)
{
    (void)data;
    if (event != PyRefTracer_CREATE)
        return 0;
    uintptr_t last = __atomic_load_n(&sm_last_block, __ATOMIC_RELAXED);
    if ((uintptr_t)op - last <= 32 && SmFrames_object_block(op) == last) {
        __atomic_store_n(&sm_last_block, 0, __ATOMIC_RELAXED);
        return 0;
    }
    return sm_reftrace_reused(op);
}
#endif

/* start(reuse=True), exact mode only, and the default there on 3.13
 * (tracemalloc's behaviour, which test_tracemalloc's test_new_reference
 * checks): a call on every object creation and a stack capture per reuse
 * cost 0.16x more instructions at start(1) and 0.45x at start(25) on
 * memory_bench's workload (whose tuples, lists and dicts mostly come from
 * free lists); in sampling mode the calls alone would cost more than the
 * sampler, so it is never the default there. */
static void
sm_reftracer_install(void)
{
#if SLEUTH_PY313
    void *data = NULL;
    /* (start() refused another tool's tracer; never drop one) */
    if (PyRefTracer_GetTracer(&data) == NULL && PyRefTracer_SetTracer(sm_reftrace, NULL) == 0)
        sm_reftracer_on = 1;
#endif
}

static void
sm_reftracer_remove(void)
{
#if SLEUTH_PY313
    void *data = NULL;
    if (sm_reftracer_on && PyRefTracer_GetTracer(&data) == sm_reftrace)
        (void)PyRefTracer_SetTracer(NULL, NULL);
    sm_reftracer_on = 0;
#endif
}

/* ------------------------------------------------------------------------ */
/* control (GIL held)                                                       */

static int
sm_tracemalloc_is_tracing(void)
{
    /* Owned */
    PyObject *mod = NULL, *res = NULL;
    int r = -1;

    mod = PyImport_ImportModule("_tracemalloc");
    if (!mod) {
        if (!PyErr_ExceptionMatches(PyExc_ImportError))
            goto error;
        PyErr_Clear();
        r = 0;
        goto error;
    }
    res = PyObject_CallMethod(mod, "is_tracing", NULL);
    if (!res)
        goto error;
    r = PyObject_IsTrue(res);
error:
    Py_XDECREF(mod);
    Py_XDECREF(res);
    return r;
}

/* Another tool's allocator hook (memray with trace_python_allocators, a
 * profiler...) lives outside the interpreter's own binary. Stacking on it
 * would break when it uninstalls itself first: it restores the allocator it
 * saved, which silently drops ours. Returns the foreign object's file name,
 * or NULL. (tracemalloc's hooks live inside the interpreter: checked apart.) */
static const char *
sm_foreign_hook(void)
{
    static const PyMemAllocatorDomain doms[3] = {
        PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    Dl_info python, hook;
    if (!dladdr((void *)PyMem_Malloc, &python))
        return NULL;
    for (int i = 0; i < 3; i++) {
        PyMemAllocatorEx cur;
        PyMem_GetAllocator(doms[i], &cur);
        if (dladdr((void *)cur.malloc, &hook) && hook.dli_fbase != python.dli_fbase)
            return hook.dli_fname ? hook.dli_fname : "?";
    }
    return NULL;
}

/* Whether the interpreter's reference tracer is free for start(reuse=). */
static int
sm_reftracer_free(void)
{
#if SLEUTH_PY313
    void *data = NULL;
    return PyRefTracer_GetTracer(&data) == NULL;
#else
    return 0;
#endif
}

/* reuse: 1, 0, or -1 for the default: what a running tracer does, else on
 * where it can be (3.13+, exact mode, the reference tracer free: another
 * tool's stays, and the tracer keeps blocks' first tracebacks). */
int
SmTracer_start(int nframe, double sample, uint64_t seed, int seeded, int reuse)
{
    if (reuse < 0)
        reuse = sm_tracing ? sm_reuse : SLEUTH_PY313 && !(sample > 0) && sm_reftracer_free();
    if (reuse && !SLEUTH_PY313) {
        PyErr_SetString(PyExc_ValueError,
                        "reuse=True needs Python 3.13 or later (its reference tracer): before "
                        "3.13 a block reused from a free list keeps its allocation's traceback");
        return -1;
    }
    if (reuse && sample > 0) {
        PyErr_SetString(PyExc_ValueError, "reuse=True is for exact mode, not with sample=");
        return -1;
    }
    if (nframe < 1 || nframe > SM_MAX_NFRAME) {
        PyErr_Format(PyExc_ValueError, "the number of frames must be in range [1; %d]",
                     SM_MAX_NFRAME);
        return -1;
    }
    if (sm_tracing) {
        if (sample != sm_sample || reuse != sm_reuse) {
            PyErr_SetString(PyExc_RuntimeError,
                            "sleuth.memory is already tracing in another mode "
                            "(exact vs sample=, or reuse=); call stop() first");
            return -1;
        }
        /* like tracemalloc: a second start() only changes the frame limit */
        SmRawFrame *buf = malloc((size_t)nframe * sizeof(SmRawFrame));
        if (!buf) {
            PyErr_NoMemory();
            return -1;
        }
        (void)sm_lock();
        SmRawFrame *oldbuf = sm_buf;
        sm_buf = buf;
        sm_nframe = nframe;
        sm_unlock();
        free(oldbuf);
        return 0;
    }
#if SLEUTH_PY313
    if (reuse && !sm_reftracer_free()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "reuse=True needs the interpreter's reference tracer, and another "
                        "tool has installed one (PyRefTracer_SetTracer): stop that tool "
                        "first, or start without reuse=True");
        return -1;
    }
#endif
    int tm = sm_tracemalloc_is_tracing();
    if (tm < 0)
        return -1;
    if (tm) {
        PyErr_SetString(PyExc_RuntimeError,
                        "tracemalloc is tracing: sleuth.memory will not install its "
                        "allocator hooks on top of tracemalloc's; call tracemalloc.stop() first");
        return -1;
    }
    const char *foreign = sm_foreign_hook();
    if (foreign) {
        PyErr_Format(PyExc_RuntimeError,
                     "another tool's allocator hook is installed (from %s): sleuth.memory "
                     "will not stack on it; stop that tracer first", foreign);
        return -1;
    }
    if (!sm_atfork_done) {
        if (pthread_atfork(NULL, NULL, sm_atfork_child) == 0)
            sm_atfork_done = 1;
    }
    sm_buf = malloc((size_t)nframe * sizeof(SmRawFrame));
    if (!sm_buf || SmTable_init(&sm_table, 1 << 16) < 0 || SmTbStore_init(&sm_tbs) < 0) {
        free(sm_buf);
        sm_buf = NULL;
        SmTable_free(&sm_table);
        PyErr_NoMemory();
        return -1;
    }
    sm_nframe = nframe;
    sm_sample = sample;
    sm_sampling = sample > 0;
    memset(sm_filter, 0, sizeof(sm_filter));
    sm_traced = sm_peak = 0;
    sm_est_traced = sm_est_peak = 0;
    if (!seeded)
        seed = (uint64_t)time(NULL) * UINT64_C(6364136223846793005) ^ (uint64_t)getpid() ^
               (uint64_t)clock();
    sm_seed(seed);
    if (sample > 0)
        sm_countdown = sm_draw_gap();

    static const PyMemAllocatorDomain doms[3] = {
        PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    for (int i = 0; i < 3; i++) {
        sm_ctx[i].domain = doms[i];
        PyMem_GetAllocator(doms[i], &sm_ctx[i].wrapped);
    }
    __atomic_store_n(&sm_tracing, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++) {
        PyMemAllocatorEx hook = sm_hooks_of(i, sm_sampling);
        hook.ctx = &sm_ctx[i];
        PyMem_SetAllocator(doms[i], &hook);
    }
    sm_reuse = reuse;
    if (reuse)
        sm_reftracer_install();
    return 0;
}

/* Detach the live state under the lock; free it after (needs the GIL). */
static void
sm_detach(SmTable *t, SmTbStore *s, int reinit)
{
    SmTable fresh_t = {0};
    SmTbStore fresh_s = {0};
    if (reinit && (SmTable_init(&fresh_t, 1 << 16) < 0 || SmTbStore_init(&fresh_s) < 0)) {
        /* keep tracing into the old table rather than lose the hook state */
        SmTable_free(&fresh_t);
        memset(t, 0, sizeof(*t));
        memset(s, 0, sizeof(*s));
        return;
    }
    (void)sm_lock();
    sm_q_discard_unlocked();   /* pending operations belong to the dropped table */
    if (reinit)
        memset(sm_filter, 0, sizeof(sm_filter));
    *t = sm_table;
    *s = sm_tbs;
    sm_table = fresh_t;
    sm_tbs = fresh_s;
    sm_traced = sm_peak = 0;
    sm_est_traced = sm_est_peak = 0;
    if (!reinit)
        __atomic_store_n(&sm_tracing, 0, __ATOMIC_RELEASE);
    sm_unlock();
}

int
SmTracer_stop(void)
{
    if (!sm_tracing)
        return 0;
    if (!sm_hooks_on_top()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "another allocator hook (tracemalloc?) was installed on top of "
                        "sleuth.memory's: stop it first, then sleuth.memory.stop()");
        return -1;
    }
    static const PyMemAllocatorDomain doms[3] = {
        PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    for (int i = 0; i < 3; i++)
        PyMem_SetAllocator(doms[i], &sm_ctx[i].wrapped);
    sm_reftracer_remove();
    sm_reuse = 0;
    SmTable t;
    SmTbStore s;
    sm_detach(&t, &s, 0);
    (void)sm_lock();
    SmRawFrame *buf = sm_buf;
    sm_buf = NULL;
    sm_unlock();
    free(buf);
    SmTable_free(&t);
    SmTbStore_release(&s);
    return 0;
}

void
SmTracer_ignore_this_thread(int on)
{
    (void)sm_lock();
    sm_ignored = sm_self();
    sm_ignoring = on;
    sm_unlock();
}

int
SmTracer_is_tracing(void)
{
    return sm_tracing;
}

int
SmTracer_limit(void)
{
    return sm_nframe;
}

double
SmTracer_sample(void)
{
    return sm_tracing ? sm_sample : 0.0;
}

void
SmTracer_clear(void)
{
    if (!sm_tracing)
        return;
    SmTable t;
    SmTbStore s;
    sm_detach(&t, &s, 1);
    SmTable_free(&t);
    SmTbStore_release(&s);
}

void
SmTracer_traced_memory(double *cur, double *peak)
{
    *cur = *peak = 0;
    if (!sm_tracing)
        return;
    (void)sm_lock();
    sm_q_flush_unlocked();
    if (sm_sample > 0) {
        *cur = sm_est_traced;
        *peak = sm_est_peak;
    }
    else {
        *cur = (double)sm_traced;
        *peak = (double)sm_peak;
    }
    sm_unlock();
}

void
SmTracer_reset_peak(void)
{
    if (!sm_tracing)
        return;
    (void)sm_lock();
    sm_q_flush_unlocked();
    sm_peak = sm_traced;
    sm_est_peak = sm_est_traced;
    sm_unlock();
}

size_t
SmTracer_own_memory(void)
{
    size_t n = 0;
    if (!sm_tracing)
        return 0;
    (void)sm_lock();
    n = (sm_table.mask + 1) * sizeof(SmSlot) + SmTbStore_bytes(&sm_tbs) +
        (size_t)sm_nframe * sizeof(SmRawFrame);
    sm_unlock();
    return n;
}

/* ------------------------------------------------------------------------ */
/* export for snapshots                                                     */

void
SmExport_release(SmExport *ex)
{
    for (size_t k = 0; k < ex->nframes; k++)
        Py_XDECREF(ex->frames[k].code);
    free(ex->traces);
    free(ex->tbs);
    free(ex->frames);
    memset(ex, 0, sizeof(*ex));
}

/* Copy the tracebacks named in map (map[id] != UINT32_MAX, numbered in
 * order) out of the store. Lock held. */
static int
sm_copy_tbs(SmExport *ex, const uint32_t *map, uint32_t nused)
{
    size_t nfr = 0;
    ex->tbs = malloc(((size_t)nused + 1) * sizeof(SmTbRec));
    if (!ex->tbs)
        return -1;
    for (uint32_t id = 0; id < sm_tbs.nrec; id++)
        if (map[id] != UINT32_MAX)
            nfr += sm_tbs.recs[id].nframe;
    ex->frames = malloc((nfr + 1) * sizeof(SmRawFrame));
    if (!ex->frames)
        return -1;
    for (uint32_t id = 0; id < sm_tbs.nrec; id++) {
        if (map[id] == UINT32_MAX)
            continue;
        SmTbRec r = sm_tbs.recs[id];
        SmTbRec *o = &ex->tbs[map[id]];
        *o = r;
        o->first = (uint32_t)ex->nframes;
        for (uint16_t k = 0; k < r.nframe; k++) {
            SmRawFrame f = sm_tbs.frames[r.first + k];
            Py_INCREF(f.code);
            ex->frames[ex->nframes++] = f;
        }
    }
    ex->ntb = nused;
    return 0;
}

int
SmTracer_export(SmExport *ex)
{
    uint32_t *map = NULL;
    int rc = -1;

    memset(ex, 0, sizeof(*ex));
    (void)sm_lock();
    ex->limit = sm_nframe;
    ex->sample = sm_sample;
    if (!sm_tracing) {
        rc = 0;
        goto done;
    }
    sm_q_flush_unlocked();
    map = malloc(((size_t)sm_tbs.nrec + 1) * sizeof(uint32_t));
    ex->traces = malloc((sm_table.count + 1) * sizeof(SmTrace));
    if (!map || !ex->traces)
        goto done;
    memset(map, 0xff, ((size_t)sm_tbs.nrec + 1) * sizeof(uint32_t));
    uint32_t nused = 0;
    for (size_t i = 0; i <= sm_table.mask; i++) {
        const SmSlot *s = &sm_table.slots[i];
        if (!s->key)
            continue;
        uint32_t tb = SM_META_TB(s->meta);
        if (map[tb] == UINT32_MAX)
            map[tb] = nused++;
        ex->traces[ex->ntraces++] = (SmTrace){SM_META_SIZE(s->meta), map[tb], 0};
    }
    if (sm_copy_tbs(ex, map, nused) < 0)
        goto done;
    rc = 0;
done:
    sm_unlock();
    free(map);
    if (rc < 0) {
        SmExport_release(ex);
        PyErr_NoMemory();
    }
    return rc;
}

int
SmTracer_export_block(uintptr_t block, SmExport *ex)
{
    uint32_t *map = NULL;
    uint64_t meta;
    int rc = -1;

    memset(ex, 0, sizeof(*ex));
    (void)sm_lock();
    ex->limit = sm_nframe;
    ex->sample = sm_sample;
    if (sm_tracing)
        sm_q_flush_unlocked();
    if (!sm_tracing || !SmTable_get(&sm_table, block, &meta)) {
        rc = 0;
        goto done;
    }
    map = malloc(((size_t)sm_tbs.nrec + 1) * sizeof(uint32_t));
    if (!map)
        goto done;
    memset(map, 0xff, ((size_t)sm_tbs.nrec + 1) * sizeof(uint32_t));
    map[SM_META_TB(meta)] = 0;
    if (sm_copy_tbs(ex, map, 1) < 0)
        goto done;
    rc = 1;
done:
    sm_unlock();
    free(map);
    if (rc < 0) {
        SmExport_release(ex);
        PyErr_NoMemory();
    }
    return rc;
}
