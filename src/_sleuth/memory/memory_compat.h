/* memory_compat.h — every CPython version difference of sleuth.memory.
 *
 * The allocation hooks must read the current thread's Python stack without
 * allocating (an allocation inside an allocator hook would recurse) and in a
 * few nanoseconds (they run on every allocation). The public frame API
 * (PyEval_GetFrame, PyFrame_GetBack) materialises a PyFrameObject for every
 * frame it touches — it allocates, and it changes the program's own memory
 * profile — so the frame walk reads _PyInterpreterFrame directly, from the
 * internal headers of the very interpreter we are compiled against.
 *
 * Only frames.c includes this header: it is the one file that sees
 * Py_BUILD_CORE internals.
 */
#ifndef SLEUTH_MEMORY_COMPAT_H
#define SLEUTH_MEMORY_COMPAT_H

#include "compat.h"

#ifdef Py_GIL_DISABLED
#  error "sleuth.memory does not support the free-threaded build"
#endif

#ifndef Py_BUILD_CORE
#  define Py_BUILD_CORE 1
#endif
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "internal/pycore_frame.h"
#pragma GCC diagnostic pop

typedef _PyInterpreterFrame SmPyFrame;

/* The innermost frame of a thread (may be incomplete). */
static inline SmPyFrame *
SmCompat_top_frame(PyThreadState *ts)
{
#if SLEUTH_PY313
    return ts->current_frame;
#else
    return ts->cframe->current_frame;
#endif
}

/* Read one frame: 0 if it is skipped, as tracemalloc and tracebacks skip
 * it (a C-stack shim frame, or a frame that has not reached its first
 * traceable instruction), else 1 with its code and instruction offset (code
 * units). The offset doubles as the "not started" test, so each frame costs
 * one pass over its fields. */
static inline int
SmCompat_frame_read(SmPyFrame *f, PyCodeObject **code, intptr_t *lasti)
{
#if SLEUTH_PY313
    if (f->owner == FRAME_OWNED_BY_CSTACK || !PyCode_Check(f->f_executable))
        return 0;
    PyCodeObject *co = (PyCodeObject *)f->f_executable;
    intptr_t i = f->instr_ptr - _PyCode_CODE(co);
#else
#  if SLEUTH_PY312
    if (f->owner == FRAME_OWNED_BY_CSTACK)
        return 0;
#  endif
    PyCodeObject *co = f->f_code;
    intptr_t i = f->prev_instr - _PyCode_CODE(co);
#endif
    /* _PyFrame_IsIncomplete(), with the offset computed once */
    if (f->owner != FRAME_OWNED_BY_GENERATOR && i < co->_co_firsttraceable)
        return 0;
    *code = co;
    *lasti = i;   /* _PyInterpreterFrame_LASTI (which also casts to int) */
    return 1;
}

/* Does frame f hold `code` at `lasti`, where lasti is past the code's
 * prologue (lasti >= code->_co_firsttraceable)? Then it is neither a shim
 * nor a frame that has not started, and SmCompat_frame_read() would give
 * exactly (code, lasti): a cheaper test when the expected frame is known. */
static inline int
SmCompat_frame_is(SmPyFrame *f, PyCodeObject *code, intptr_t lasti)
{
#if SLEUTH_PY313
    if (f->owner == FRAME_OWNED_BY_CSTACK || f->f_executable != (PyObject *)code)
        return 0;
    return f->instr_ptr - _PyCode_CODE(code) == lasti;
#else
#  if SLEUTH_PY312
    if (f->owner == FRAME_OWNED_BY_CSTACK)
        return 0;
#  endif
    return f->f_code == code && f->prev_instr - _PyCode_CODE(code) == lasti;
#endif
}

/* A frame that tracebacks never show: the C stack's shim (entry) frame.
 * The other frames SmCompat_frame_read() skips are incomplete ones. */
static inline int
SmCompat_frame_is_shim(SmPyFrame *f)
{
#if SLEUTH_PY313
    return f->owner == FRAME_OWNED_BY_CSTACK || !PyCode_Check(f->f_executable);
#elif SLEUTH_PY312
    return f->owner == FRAME_OWNED_BY_CSTACK;
#else
    (void)f;
    return 0;
#endif
}

/* The interpreter's own count of the Python frames a thread has entered
 * and not left, or -1 where it has none to offer.
 *
 * 3.12 keeps it for the recursion limit: every frame is counted when it
 * starts executing (the eval loop's start_frame, the one way in for calls,
 * inlined calls and generator resumptions) and uncounted when it is
 * unlinked; setrecursionlimit() keeps limit - remaining. So it is the
 * number of non-shim frames on the thread's stack, less those pushed and
 * not yet started. Those sit only at the top (nothing runs Python code
 * between a frame's push and its start); a frame in its prologue (counted,
 * but skipped by tracebacks) can be under other frames only if Python code
 * ran during a prologue instruction, and 3.12 runs no Python code there
 * (the GC and signal handlers wait for the eval breaker, which prologue
 * instructions never check). The capture therefore counts the started
 * frames it skips at the top and compares what is left with the count it
 * saw when it last walked the whole stack for the same innermost frame.
 * One case is left: a generator resumed from C whose eval loop hits the C
 * recursion limit is linked, readable and not yet counted while its
 * RecursionError is allocated (total_nframe of those few blocks can be one
 * short).
 * Not on 3.13: a class call specialised for a Python __init__ pushes an
 * _Py_InitCleanup frame under __init__ that is counted but never started,
 * anywhere in the stack (found in review: every block allocated under an
 * __init__ got a total one too high). 3.11 counts C recursion in the same
 * counter and runs the GC inside allocations. Both walk the stack. */
#if SLEUTH_PY312
#  define SM_HAVE_PY_DEPTH 1
#else
#  define SM_HAVE_PY_DEPTH 0
#endif
static inline int32_t
SmCompat_py_depth(PyThreadState *ts)
{
#if SM_HAVE_PY_DEPTH
    return (int32_t)(ts->py_recursion_limit - ts->py_recursion_remaining);
#else
    (void)ts;
    return -1;
#endif
}

/* Has an incomplete (skipped) frame started executing, i.e. is it counted
 * in SmCompat_py_depth()? 3.12 sets a new frame's last instruction to the
 * one before its first. */
static inline int
SmCompat_frame_started(SmPyFrame *f)
{
#if SLEUTH_PY312
    return f->prev_instr >= _PyCode_CODE(f->f_code);
#else
    (void)f;
    return 1;
#endif
}

static inline int
SmCompat_past_prologue(PyCodeObject *code, intptr_t lasti)
{
    return lasti >= code->_co_firsttraceable;
}

/* The thread state of the calling thread if (and only if) it holds the GIL,
 * else NULL. Raw-domain hooks run without the GIL; they may only look at
 * frames when this is non-NULL. */
static inline PyThreadState *
SmCompat_tstate_with_gil(void)
{
#if SLEUTH_PY311
    /* 3.11: the "current" thread state is the GIL holder's, process-wide;
     * compare it with this thread's own (thread-specific storage). */
    PyThreadState *mine = PyGILState_GetThisThreadState();
    if (!mine || mine != _PyThreadState_UncheckedGet())
        return NULL;
    return mine;
#else
    /* 3.12+: a thread-local "attached" state, NULL while detached. */
    return _PyThreadState_UncheckedGet();
#endif
}

#endif /* SLEUTH_MEMORY_COMPAT_H */
