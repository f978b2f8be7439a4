/* backend_trace.c — the engine's event source on 3.11: a C trace function,
 * switched on per frame by a PEP 523 frame-evaluation hook.
 *
 * On 3.11 any installed trace function sends every instruction of every
 * frame down the slow tracing path (fib 4.6x even with a no-op C tracer),
 * whatever f_trace_lines says. What decides the cost is the per-C-frame
 * `use_tracing` flag, which the eval loop copies from its caller when a
 * frame starts. The hook below sets that flag for each frame before it runs:
 * 255 for code that can stop (its file holds a breakpoint, it is being
 * stepped, or `step` is on in this thread), 0 for everything else, which
 * then runs at full speed. When the frame returns, the caller's flag is
 * recomputed for the caller's own code.
 *
 * The hook is only installed while the engine is attached; a `continue`
 * with no breakpoints removes both hook and trace function.
 *
 * Per-code decisions are cached in the code object's co_extra slot as an
 * integer (generation << 1 | armed), so the hook costs one slot read per
 * call; the generation changes whenever breakpoints change.
 */
#include "engine.h"

#if SLEUTH_PY311

#define Py_BUILD_CORE_MODULE 1
#include "internal/pycore_frame.h"
#include "pythread.h"

static Py_ssize_t extra_index = -1;
static PyObject *step_code1, *step_code2;   /* borrowed: kept alive by the debugger's frames */
static int hook_installed;

static inline PdbObject *
active(ModState *st)
{
    PdbObject *d = st->active;
    if (!d || d->quitting || d->in_interaction)
        return NULL;
    return d;
}

static inline int
step_all(PdbObject *d)
{
    return (d->stopframe == NULL || d->stopframe == Py_None) &&
           (d->step_thread == 0 || d->step_thread == PyThread_get_thread_ident());
}

/* Does `code` need events? -1 on error. Cached per code object. */
static int
code_armed(ModState *st, PyObject *code)
{
    void *extra = NULL;
    uintptr_t gen = (uintptr_t)st->bp_generation;
    if (extra_index >= 0 && _PyCode_GetExtra(code, extra_index, &extra) == 0 && extra &&
        ((uintptr_t)extra >> 1) == (gen & (UINTPTR_MAX >> 1)))
        return (int)((uintptr_t)extra & 1);
    int may = Engine_code_may_break(st, code);
    if (may < 0)
        return -1;
    if (extra_index >= 0)
        _PyCode_SetExtra(code, extra_index, (void *)(((gen & (UINTPTR_MAX >> 1)) << 1) | (uintptr_t)may));
    return may;
}

static int
wants_tracing(ModState *st, PyObject *code)
{
    PdbObject *d = st->active;
    if (!d || d->quitting)
        return 0;
    if (step_all(d) || code == step_code1 || code == step_code2)
        return 1;
    int a = code_armed(st, code);
    if (a < 0) {
        PyErr_Clear();
        return 1;
    }
    return a;
}

static PyObject *
eval_hook(PyThreadState *ts, struct _PyInterpreterFrame *frame, int throwflag)
{
    ModState *st = Sleuth_module ? Sleuth_state() : NULL;
    int ours = st && ts->c_tracefunc != NULL && ts->c_traceobj == Sleuth_module;
    if (ours) {
        PyObject *exc = PyErr_Occurred() ? PyErr_GetRaisedException() : NULL;
        ts->cframe->use_tracing = wants_tracing(st, (PyObject *)frame->f_code) ? 255 : 0;
        if (exc)
            PyErr_SetRaisedException(exc);
    }
    PyObject *res = _PyEval_EvalFrameDefault(ts, frame, throwflag);
    if (ours && ts->c_tracefunc != NULL && ts->c_traceobj == Sleuth_module) {
        struct _PyInterpreterFrame *caller = ts->cframe->current_frame;
        if (caller) {
            PyObject *exc = PyErr_GetRaisedException();
            ts->cframe->use_tracing = wants_tracing(st, (PyObject *)caller->f_code) ? 255 : 0;
            PyErr_SetRaisedException(exc);
        }
    }
    return res;
}

static int trace_dispatch(PyObject *mod, PyFrameObject *frame, int what, PyObject *arg);

/* A failing callback (BdbQuit, Restart, an error) ends tracing, as with a
 * settrace function; the exception then propagates without more events. */
static int
trace_cb(PyObject *mod, PyFrameObject *frame, int what, PyObject *arg)
{
    int r = trace_dispatch(mod, frame, what, arg);
    if (r < 0) {
        PyObject *exc = PyErr_GetRaisedException();
        Engine_detach();
        PyErr_SetRaisedException(exc);
    }
    return r;
}

static int
trace_dispatch(PyObject *mod, PyFrameObject *frame, int what, PyObject *arg)
{
    ModState *st = (ModState *)PyModule_GetState(mod);
    PdbObject *d = active(st);
    if (!d)
        return 0;
    PyObject *code = (PyObject *)PyFrame_GetCode(frame);
    Py_DECREF(code);   /* the frame keeps it */
    int relevant = step_all(d) || code == step_code1 || code == step_code2;
    switch (what) {
    case PyTrace_CALL:
        if (!relevant)
            return 0;
        return Engine_dispatch_call(d, (PyObject *)frame);
    case PyTrace_LINE:
        if (!relevant) {
            int line = PyFrame_GetLineNumber(frame);
            PyObject *canon = Engine_canonic(st, ((PyCodeObject *)code)->co_filename);
            if (!canon)
                return -1;
            relevant = Engine_line_has_break(st, canon, line);
            if (relevant == 0)
                relevant = Engine_line_has_break(st, canon, ((PyCodeObject *)code)->co_firstlineno);
            Py_DECREF(canon);
            if (relevant <= 0)
                return relevant;
        }
        return Engine_dispatch_line(d, (PyObject *)frame);
    case PyTrace_RETURN:
        if (!relevant)
            return 0;
        return Engine_dispatch_return(d, (PyObject *)frame, arg ? arg : Py_None);
    case PyTrace_EXCEPTION:
        if (!relevant && !(d->stopframe && d->stopframe != Py_None))
            return 0;
        if (arg && PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) == 3) {
            PyObject *value = PyTuple_GET_ITEM(arg, 1);
            if (PyExceptionInstance_Check(value))
                return Engine_dispatch_exception(d, (PyObject *)frame, value);
        }
        return 0;
    default:
        return 0;
    }
}

/* threading.settrace hook: new threads install the C tracer themselves. */
static PyObject *
thread_start_hook(PyObject *mod, PyObject *args)
{
    SLEUTH_UNUSED(args);
    ModState *st = (ModState *)PyModule_GetState(mod);
    if (st->active) {
        PyEval_SetTrace(trace_cb, mod);
        PyThreadState_Get()->cframe->use_tracing = 0;
    }
    Py_RETURN_NONE;   /* no Python-level tracing for this frame */
}

static PyMethodDef thread_hook_def = {"_sleuth_thread_trace", thread_start_hook, METH_VARARGS, NULL};

static int
set_threading_hook(PyObject *value)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading)
        return -1;
    PyObject *r = PyObject_CallMethod(threading, "settrace", "O", value);
    Py_DECREF(threading);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

int
Backend_install(ModState *st)
{
    if (extra_index < 0) {
        extra_index = _PyEval_RequestCodeExtraIndex(NULL);
        if (extra_index < 0)
            return -1;
    }
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *t = PyInterpreterState_ThreadHead(me->interp); t; t = PyThreadState_Next(t)) {
        if (_PyEval_SetTrace(t, trace_cb, Sleuth_module) < 0)
            return -1;
        t->cframe->use_tracing = 0;
    }
    PyObject *hook = PyCFunction_New(&thread_hook_def, Sleuth_module);
    if (!hook)
        return -1;
    int r = set_threading_hook(hook);
    Py_DECREF(hook);
    if (r < 0)
        PyErr_Clear();   /* threading not importable: main thread only */
    _PyInterpreterState_SetEvalFrameFunc(me->interp, eval_hook);
    hook_installed = 1;
    SLEUTH_UNUSED(st);
    return 0;
}

/* Re-decide use_tracing for frames already running in this thread. */
static void
retune_running(ModState *st, PyThreadState *ts)
{
    for (_PyCFrame *cf = ts->cframe; cf; cf = cf->previous) {
        struct _PyInterpreterFrame *f = cf->current_frame;
        if (!f)
            continue;
        /* Any frame of this C frame that wants events turns it on. */
        int want = 0;
        for (struct _PyInterpreterFrame *g = f; g && !want; g = g->previous) {
            want = wants_tracing(st, (PyObject *)g->f_code);
            if (cf->previous && g == cf->previous->current_frame)
                break;
        }
        cf->use_tracing = want ? 255 : 0;
    }
}

int
Backend_update(ModState *st, PdbObject *d)
{
    int stepping_frame = d->stopframe && d->stopframe != Py_None && d->stoplineno != -1;
    step_code1 = NULL;
    step_code2 = NULL;
    if (stepping_frame && PyFrame_Check(d->stopframe)) {
        step_code1 = (PyObject *)PyFrame_GetCode((PyFrameObject *)d->stopframe);
        Py_DECREF(step_code1);
    }
    if (d->returnframe && PyFrame_Check(d->returnframe)) {
        step_code2 = (PyObject *)PyFrame_GetCode((PyFrameObject *)d->returnframe);
        Py_DECREF(step_code2);
    }
    st->bp_generation++;   /* stepping state changed: re-decide cached codes */
    retune_running(st, PyThreadState_Get());
    return 0;
}

int
Backend_arm_code(ModState *st, PyObject *code, int events)
{
    SLEUTH_UNUSED(st);
    SLEUTH_UNUSED(code);
    SLEUTH_UNUSED(events);
    return 0;
}

int
Backend_uninstall(ModState *st)
{
    SLEUTH_UNUSED(st);
    PyObject *exc = PyErr_GetRaisedException();
    step_code1 = step_code2 = NULL;
    PyThreadState *me = PyThreadState_Get();
    if (hook_installed) {
        _PyInterpreterState_SetEvalFrameFunc(me->interp, NULL);
        hook_installed = 0;
    }
    for (PyThreadState *t = PyInterpreterState_ThreadHead(me->interp); t; t = PyThreadState_Next(t)) {
        if (t->c_traceobj == Sleuth_module)
            _PyEval_SetTrace(t, NULL, NULL);
    }
    if (set_threading_hook(Py_None) < 0)
        PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return 0;
}

#endif /* SLEUTH_PY311 */
