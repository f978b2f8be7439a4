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
/* Address of the memory block that holds obj: tracemalloc's rule, the
 * bytes in front of the object that belong to its block (GC header, managed
 * dict/weakref pointers) skipped. Public API only; inline because the 3.13
 * reference tracer asks on every object creation. */
static inline uintptr_t
SmFrames_object_block(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    size_t n = PyType_IS_GC(tp) ? 2 * sizeof(uintptr_t) : 0;
#if SLEUTH_PY311
    if (PyType_HasFeature(tp, Py_TPFLAGS_MANAGED_DICT))
        n += 2 * sizeof(PyObject *);
#else
    if (PyType_HasFeature(tp, Py_TPFLAGS_PREHEADER))
        n += 2 * sizeof(PyObject *);
#endif
    return (uintptr_t)obj - n;
}

#endif /* SLEUTH_MEMORY_FRAMES_H */
