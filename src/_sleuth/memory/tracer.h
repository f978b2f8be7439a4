/* tracer.h — the allocation tracer: hooks, lock, trace table, counters.
 *
 * Process-wide by nature (PyMem_SetAllocator is process-wide), so its state
 * is C globals; it holds no Python object except strong references to code
 * objects inside the traceback store.
 *
 * Locking: one spin lock protects the table, the traceback store and the
 * counters. The RAW domain is called without the GIL, so the GIL alone would
 * not do. The hooks never call a Python allocator while holding the lock
 * (the tracer's own memory comes from the C library), and a re-entrant call
 * on the lock owner's thread passes through untraced instead of deadlocking.
 */
#ifndef SLEUTH_MEMORY_TRACER_H
#define SLEUTH_MEMORY_TRACER_H

#include "tbstore.h"

#define SM_MAX_NFRAME 65535

typedef struct {
    uint64_t size;     /* bytes of the block */
    uint32_t tb;       /* traceback index (tracer id, then snapshot index) */
    uint32_t domain;
} SmTrace;

/* What a snapshot copies out of the tracer under its lock. */
typedef struct {
    SmTrace *traces;
    size_t ntraces;
    uint32_t ntb;      /* tracebacks; traces[i].tb indexes these */
    SmTbRec *tbs;      /* .first indexes frames */
    SmRawFrame *frames;  /* each code holds a strong reference */
    size_t nframes;
    int limit;
    double sample;     /* 0: exact */
} SmExport;

/* All of these need the GIL; -1 with an exception set on error. */
/* reuse: retag blocks reused from free lists (3.13+, exact mode; else a
 * ValueError). */
int SmTracer_start(int nframe, double sample, uint64_t seed, int seeded, int reuse);
int SmTracer_stop(void);
int SmTracer_is_tracing(void);
/* Stop (on=1) or resume tracing the calling thread's own allocations; one
 * thread at a time (sleuth mem's sampler, whose bookkeeping is not the
 * program's memory). */
void SmTracer_ignore_this_thread(int on);
int SmTracer_limit(void);
double SmTracer_sample(void);
void SmTracer_clear(void);
void SmTracer_traced_memory(double *cur, double *peak);
void SmTracer_reset_peak(void);
size_t SmTracer_own_memory(void);
int SmTracer_export(SmExport *out);
/* Traceback of one block: 1 found (ex holds its frames, ntraces 0), 0 not. */
int SmTracer_export_block(uintptr_t block, SmExport *ex);
void SmExport_release(SmExport *ex);
/* Probability that Poisson sampling with mean gap `sample` picks `size`. */
double SmTracer_sample_p(double size, double sample);

#endif /* SLEUTH_MEMORY_TRACER_H */
