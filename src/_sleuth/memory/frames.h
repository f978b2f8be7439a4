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
 * during interpreter start-up and shutdown). */
PyThreadState *SmFrames_tstate_unchecked(void);
/* Up to max frames, most recent first, into buf; *total is the depth of the
 * whole stack (capped at 65535), *hash the stack's SmTb hash. Never
 * allocates. */
int SmFrames_capture(PyThreadState *ts, SmRawFrame *buf, int max, uint16_t *total,
                     uint32_t *hash);
/* Address of the memory block that holds obj (before its GC header). */
uintptr_t SmFrames_object_block(PyObject *obj);

#endif /* SLEUTH_MEMORY_FRAMES_H */
