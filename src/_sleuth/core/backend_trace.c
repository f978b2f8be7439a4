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
static int g_on;                   /* engine attached (hot-path copy) */
static ModState *g_st;             /* module state while attached (hot path) */
static uint64_t g_gen;             /* bumped whenever stepping state changes */
static int g_step_all;             /* `step`: every frame of g_step_thread */
static int g_gen_callers;
static int g_raise_all;            /* every raised exception is wanted (DAP 'raised') */          /* st->gen_callers is set (hot-path copy) */
static unsigned long g_step_thread;

static int trace_cb(PyObject *mod, PyFrameObject *frame, int what, PyObject *arg);



/* co_extra's layout in 3.11 (private to codeobject.c): a size and the
 * slots. Reading it directly saves a call per frame; Backend_install checks
 * the layout against _PyCode_GetExtra once and falls back to the call if
 * they ever disagree. */
typedef struct {
    Py_ssize_t ce_size;
    void *ce_extras[1];
} CodeExtra;
static int direct_extra;

static inline void *
read_extra(PyCodeObject *code)
{
    if (direct_extra) {
        CodeExtra *ex = (CodeExtra *)code->co_extra;
        return ex && extra_index < ex->ce_size ? ex->ce_extras[extra_index] : NULL;
    }
    void *extra = NULL;
    if (_PyCode_GetExtra((PyObject *)code, extra_index, &extra) < 0) {
        PyErr_Clear();
        return NULL;
    }
    return extra;
}

/* Slow path of code_armed (once per code and generation); keeps any
 * pending exception. */
static int
code_armed_slow(PyObject *code, uintptr_t gen)
{
    PyObject *exc = PyErr_GetRaisedException();
    int may = Engine_code_may_break(g_st, code);
    if (may < 0) {
        PyErr_Clear();
        may = 1;            /* when unsure, trace: correctness over speed */
    }
    _PyCode_SetExtra(code, extra_index, (void *)((gen << 1) | (uintptr_t)may));
    PyErr_SetRaisedException(exc);
    return may;
}

/* Can a breakpoint fire in `code`? Cached per code object in co_extra as
 * (generation << 1 | armed); the generation changes with the breakpoints. */
static inline int
code_armed(PyCodeObject *code)
{
    uintptr_t gen = ((uintptr_t)g_st->bp_generation) & (UINTPTR_MAX >> 1);
    uintptr_t extra = (uintptr_t)read_extra(code);
    if (extra && (extra >> 1) == gen)
        return (int)(extra & 1);
    return code_armed_slow((PyObject *)code, gen);
}

/* Stepping in a generator: its callers are traced too, for the StopIteration
 * that ends it (Engine_gen_caller). Keeps any pending exception. */
static Py_NO_INLINE int
gen_caller_slow(PyObject *code)
{
    PyObject *exc = PyErr_GetRaisedException();
    int r = Engine_gen_caller(g_st, code);
    PyErr_SetRaisedException(exc);
    return r;
}

/* Should a frame of `code` be traced in thread `tid` (0: the calling one)? */
static inline __attribute__((always_inline)) int
wants_in(PyObject *code, unsigned long tid)
{
    if (!g_on)
        return 0;
    if (g_step_all && g_step_thread == (tid ? tid : PyThread_get_thread_ident()))
        return 1;
    if (g_raise_all)
        return 1;   /* every frame, for its exception events */
    if (code == step_code1 || code == step_code2)
        return 1;
    if (g_gen_callers && gen_caller_slow(code))
        return 1;
    return code_armed((PyCodeObject *)code);
}

static inline int
wants(PyObject *code)
{
    return wants_in(code, 0);
}

/* Turn this thread's tracing on or off for the frame about to run. No trace
 * object goes with it: sys.gettrace() shows c_traceobj, and a program that
 * saves it and puts it back (`old = sys.gettrace(); sys.settrace(f); ...;
 * sys.settrace(old)`) must get what it gets without sleuth, None (it got this
 * module, and calling a module as a trace function raised TypeError into the
 * program). */
static inline void
set_tracing(PyThreadState *ts, int on)
{
    if (on) {
        if (ts->c_tracefunc != trace_cb) {
            ts->c_traceobj = NULL;
            ts->c_tracefunc = trace_cb;
        }
        ts->cframe->use_tracing = 255;
    } else {
        if (ts->c_tracefunc == trace_cb) {
            PyObject *o = ts->c_traceobj;
            ts->c_tracefunc = NULL;
            ts->c_traceobj = NULL;
            Py_XDECREF(o);
        }
        ts->cframe->use_tracing = ts->c_profilefunc ? 255 : 0;
    }
}

/* A frame that switches tracing on or off: set it for the frame, put the
 * caller's state back afterwards. */
static Py_NO_INLINE PyObject *
eval_switching(PyThreadState *ts, struct _PyInterpreterFrame *frame, int throwflag,
               int on, uint64_t gen)
{
    int was_on = ts->c_tracefunc == trace_cb;
    set_tracing(ts, on);
    PyObject *res = _PyEval_EvalFrameDefault(ts, frame, throwflag);
    if (ts->c_tracefunc == NULL || ts->c_tracefunc == trace_cb) {
        if (gen == g_gen) {
            set_tracing(ts, was_on);
        } else {
            /* Stepping changed inside the call (e.g. `step` at a return):
             * decide again for the caller's code. */
            struct _PyInterpreterFrame *caller = ts->cframe->current_frame;
            set_tracing(ts, caller != NULL && wants((PyObject *)caller->f_code));
        }
    }
    return res;
}

static Py_NO_INLINE void
redecide_caller(PyThreadState *ts)
{
    if (ts->c_tracefunc == NULL || ts->c_tracefunc == trace_cb) {
        struct _PyInterpreterFrame *caller = ts->cframe->current_frame;
        set_tracing(ts, caller != NULL && wants((PyObject *)caller->f_code));
    }
}

static PyObject *
eval_hook(PyThreadState *ts, struct _PyInterpreterFrame *frame, int throwflag)
{
    Py_tracefunc tf = ts->c_tracefunc;
    if (tf != NULL && tf != trace_cb)
        return _PyEval_EvalFrameDefault(ts, frame, throwflag);   /* a foreign tracer owns it */
    uint64_t gen = g_gen;
    int on = wants((PyObject *)frame->f_code);
    if (on || tf != NULL || ts->cframe->use_tracing || ts->c_profilefunc)
        return eval_switching(ts, frame, throwflag, on, gen);
    /* The common case: an untraced frame called from an untraced one.
     * Nothing to switch, nothing to put back. */
    PyObject *res = _PyEval_EvalFrameDefault(ts, frame, throwflag);
    if (gen != g_gen)
        redecide_caller(ts);
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
    SLEUTH_UNUSED(mod);
    ModState *st = g_st;
    PdbObject *d = Engine_listener(st);
    if (!d)
        return 0;
    PyObject *code = (PyObject *)frame->f_frame->f_code;   /* the frame keeps it */
    int relevant = Engine_step_all(d) || code == step_code1 || code == step_code2;
    switch (what) {
    case PyTrace_CALL:
        if (!relevant)
            return 0;
        return Engine_dispatch_call(d, (PyObject *)frame);
    case PyTrace_LINE:
    {
        /* The eval loop sets f_lineno for the duration of a trace call. */
        int line = frame->f_lineno > 0 ? frame->f_lineno : PyFrame_GetLineNumber(frame);
        if (!relevant) {
            relevant = Engine_code_breaks(st, code, line, NULL);
            if (relevant <= 0)
                return relevant;
        }
        return Engine_dispatch_line(d, (PyObject *)frame, line);
    }
    case PyTrace_RETURN:
        if (!relevant)
            return 0;
        return Engine_dispatch_return(d, (PyObject *)frame, arg ? arg : Py_None);
    case PyTrace_EXCEPTION:
        if (!relevant && !d->break_on_raise && !Engine_gen_caller(st, code))
            return 0;
        if (arg && PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) == 3) {
            PyObject *value = PyTuple_GET_ITEM(arg, 1);
            if (PyExceptionInstance_Check(value))
                return Engine_dispatch_exception(d, (PyObject *)frame, value,
                                                 PyTuple_GET_ITEM(arg, 2));
        }
        return 0;
    default:
        return 0;
    }
}

int
Backend_install(ModState *st)
{
    SLEUTH_UNUSED(st);
    if (extra_index < 0) {
        extra_index = _PyEval_RequestCodeExtraIndex(NULL);
        if (extra_index < 0)
            return -1;
        /* Check the direct co_extra read against the API on a code object of
         * our own before trusting it. */
        PyObject *probe = (PyObject *)PyCode_NewEmpty("<sleuth>", "<probe>", 1);
        void *got = NULL;
        if (probe && _PyCode_SetExtra(probe, extra_index, (void *)(uintptr_t)0x5A) == 0 &&
            _PyCode_GetExtra(probe, extra_index, &got) == 0 && got == (void *)(uintptr_t)0x5A) {
            CodeExtra *ex = (CodeExtra *)((PyCodeObject *)probe)->co_extra;
            direct_extra = ex && ex->ce_size > extra_index && ex->ce_extras[extra_index] == got;
        }
        Py_XDECREF(probe);
        PyErr_Clear();
    }
    PyThreadState *me = PyThreadState_Get();
    _PyInterpreterState_SetEvalFrameFunc(me->interp, eval_hook);
    hook_installed = 1;
    g_st = Sleuth_state();
    g_gen++;
    g_on = 1;
    return 0;
}

/* Re-decide tracing for the frames already running in this thread: the
 * innermost decides the thread's trace function, each C frame its flag. */
static void
retune_running(PyThreadState *ts)
{
    if (ts->c_tracefunc != NULL && ts->c_tracefunc != trace_cb)
        return;
    struct _PyInterpreterFrame *cur = ts->cframe->current_frame;
    set_tracing(ts, cur && wants_in((PyObject *)cur->f_code, ts->thread_id));
    for (_PyCFrame *cf = ts->cframe->previous; cf; cf = cf->previous) {
        int want = 0;
        for (struct _PyInterpreterFrame *g = cf->current_frame; g && !want; g = g->previous) {
            want = wants_in((PyObject *)g->f_code, ts->thread_id);
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
    g_step_all = (d->stopframe == NULL || d->stopframe == Py_None) && !d->quitting;
    g_gen_callers = st->gen_callers != NULL;
    g_raise_all = d->break_on_raise;
    g_step_thread = d->step_thread ? d->step_thread : PyThread_get_thread_ident();
    g_gen++;
    /* Every thread: a breakpoint may have been set in a loop another thread
     * is running right now. They all wait for the GIL we hold, so their C
     * frames' flags can be rewritten safely. */
    PyThreadState *me = PyThreadState_Get();
    for (PyThreadState *t = PyInterpreterState_ThreadHead(me->interp); t; t = PyThreadState_Next(t))
        retune_running(t);
    return 0;
}

/* A session starting in this thread takes its trace function over, as
 * pdb's sys.settrace does: while a foreign C tracer (coverage.py's, say)
 * holds it, eval_hook leaves every frame to that tracer and nothing could
 * stop until it went away (coverage's shutdown). Its reference is released
 * the way sys.settrace(None) releases it. */
int
Backend_claim_thread(ModState *st)
{
    SLEUTH_UNUSED(st);
    PyThreadState *ts = PyThreadState_Get();
    if (ts->c_tracefunc == NULL || ts->c_tracefunc == trace_cb)
        return 0;
    return _PyEval_SetTrace(ts, NULL, NULL);
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
    g_on = 0;
    g_gen_callers = 0;
    g_raise_all = 0;
    g_step_all = 0;
    g_gen++;
    PyThreadState *me = PyThreadState_Get();
    if (hook_installed) {
        _PyInterpreterState_SetEvalFrameFunc(me->interp, NULL);
        hook_installed = 0;
    }
    for (PyThreadState *t = PyInterpreterState_ThreadHead(me->interp); t; t = PyThreadState_Next(t)) {
        if (t->c_tracefunc == trace_cb) {
            PyObject *o = t->c_traceobj;
            t->c_tracefunc = NULL;
            t->c_traceobj = NULL;
            Py_XDECREF(o);
        }
        for (_PyCFrame *cf = t->cframe; cf; cf = cf->previous)
            cf->use_tracing = (t->c_tracefunc || t->c_profilefunc) ? 255 : 0;
    }
    PyErr_SetRaisedException(exc);
    return 0;
}

/* For bench/: the same frame-evaluation hook with nothing in it, to measure
 * what any PEP 523 hook costs by itself (CPython stops inlining calls). */
static PyObject *
empty_hook(PyThreadState *ts, struct _PyInterpreterFrame *frame, int throwflag)
{
    return _PyEval_EvalFrameDefault(ts, frame, throwflag);
}

PyObject *
Backend_empty_hook_py(PyObject *mod, PyObject *on)
{
    SLEUTH_UNUSED(mod);
    int yes = PyObject_IsTrue(on);
    if (yes < 0)
        return NULL;
    if (hook_installed) {
        PyErr_SetString(PyExc_RuntimeError, "the debugger's hook is installed");
        return NULL;
    }
    _PyInterpreterState_SetEvalFrameFunc(PyThreadState_Get()->interp, yes ? empty_hook : NULL);
    Py_RETURN_NONE;
}

#endif /* SLEUTH_PY311 */
