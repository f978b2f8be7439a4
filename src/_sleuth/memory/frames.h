/* frames.h — reading the running thread's Python stack from the hooks.
 *
 * The one place that looks at interpreter internals (via memory_compat.h).
 */
#ifndef SLEUTH_MEMORY_FRAMES_H
#define SLEUTH_MEMORY_FRAMES_H

#include "tbstore.h"

/* Thread state of the caller if it holds the GIL, else NULL. */
PyThreadState *SmFrames_tstate_with_gil(void);
/* Thread state of the caller, who is known to hold the GIL (may be NULL
 * during interpreter start-up and shutdown). Public API, so inline here: it
 * runs on every allocation. */
static inline PyThreadState *
SmFrames_tstate_unchecked(void)
{
    return _PyThreadState_UncheckedGet();
}
/* The interned id of the thread's stack: its max innermost frames, most
 * recent first, and its whole depth (capped at 65535). Read into buf (max
 * long) and interned in s, unless one of s's hints already names it. Never
 * calls a Python allocator. */
uint32_t SmFrames_capture(PyThreadState *ts, SmTbStore *s, SmRawFrame *buf, int max);
/* Address of the memory block that holds obj (before its GC header). */
uintptr_t SmFrames_object_block(PyObject *obj);

#endif /* SLEUTH_MEMORY_FRAMES_H */
