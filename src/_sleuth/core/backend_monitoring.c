/* backend_monitoring.c — the engine's event source on 3.12+: sys.monitoring.
 *
 * Which events are on, and where:
 *
 *   event                       scope    when
 *   PY_START PY_RESUME PY_THROW global   always; arms code whose file has
 *                                        breakpoints, then returns DISABLE
 *                                        (never for PY_THROW: see cb_throw)
 *   LINE JUMP                   local    code whose file has breakpoints;
 *                                        lines that cannot stop get DISABLE
 *   LINE JUMP PY_RETURN PY_YIELD local   code of the frame being stepped
 *   all of the above            global   `step` (stop at the next event)
 *   RAISE STOP_ITERATION UNWIND global   while stepping (global-only events);
 *                                        exceptions reach the engine from the
 *                                        stepped frame, or from the frames
 *                                        Engine_gen_caller names
 *
 * DISABLE holds until restart_events(), which runs each time the prompt is
 * left, so a line disabled while continuing is live again for stepping.
 * Callbacks are C functions (METH_FASTCALL): ~15 ns per event instead of
 * ~45 ns for a Python callback.
 */
#include "engine.h"

#if SLEUTH_HAVE_MONITORING

#include "pythread.h"

enum {
    EV_PY_START = 1, EV_PY_RESUME = 2, EV_PY_RETURN = 4, EV_PY_YIELD = 8,
    EV_LINE = 32, EV_JUMP = 128, EV_STOP_ITERATION = 512, EV_RAISE = 1024,
    EV_PY_UNWIND = 4096, EV_PY_THROW = 8192,
};
#define EV_CALLS   (EV_PY_START | EV_PY_RESUME | EV_PY_THROW)
#define EV_LINES   (EV_LINE | EV_JUMP)
#define EV_RETURNS (EV_PY_RETURN | EV_PY_YIELD)
#define EV_EXC     (EV_RAISE | EV_STOP_ITERATION | EV_PY_UNWIND)

/* Codes of the frames being stepped (borrowed from the debugger's frames,
 * which it keeps alive) — compared by pointer on the hot path. */
static PyObject *step_code1, *step_code2;   /* not owned; see above */

static PyObject *
frame_now(void)
{
    return (PyObject *)PyEval_GetFrame();   /* borrowed */
}



/* DISABLE is per code location for every thread: while one thread steps
 * everywhere, no other thread may switch a location off. */
static inline PyObject *
disable_or_none(ModState *st, PdbObject *d)
{
    if (d->stopframe == NULL || d->stopframe == Py_None)
        return Py_NewRef(Py_None);
    return Py_NewRef(st->DISABLE);
}

static PyObject *
mon_call(ModState *st, const char *name, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    PyObject *args = Py_VaBuildValue(fmt, va);
    va_end(va);
    if (!args)
        return NULL;
    PyObject *func = PyObject_GetAttrString(st->monitoring, name);
    PyObject *res = func ? PyObject_Call(func, args, NULL) : NULL;
    Py_XDECREF(func);
    Py_DECREF(args);
    return res;
}

static int
set_local(ModState *st, PyObject *code, int events)
{
    PyObject *r = mon_call(st, "set_local_events", "(iOi)", st->tool_id, code, events);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

static int tool_is_ours(ModState *st);
static int reclaim_tool(ModState *st);

int
Backend_arm_code(ModState *st, PyObject *code, int events)
{
    PyObject *cur = PyDict_GetItemWithError(st->armed, code);
    if (cur) {
        if ((PyLong_AsLong(cur) | events) == PyLong_AsLong(cur))
            return 0;
        events |= (int)PyLong_AsLong(cur);
    } else if (PyErr_Occurred()) {
        return -1;
    }
    PyObject *ev = PyLong_FromLong(events);
    if (!ev || PyDict_SetItem(st->armed, code, ev) < 0) {
        Py_XDECREF(ev);
        return -1;
    }
    Py_DECREF(ev);
    if (set_local(st, code, events) == 0)
        return 0;
    if (tool_is_ours(st))
        return -1;
    PyErr_Clear();
    /* Re-arms `code` too (it is in st->armed). Without any tool id no
     * event can come anyway; leaving the prompt next time reports it. */
    if (reclaim_tool(st) < 0)
        PyErr_Clear();
    return 0;
}

/* A callback that fails (BdbQuit, Restart, an error) ends tracing, as an
 * exception in a settrace function does: the exception then propagates
 * through the program with no more events. */
static PyObject *
failed(void)
{
    PyObject *exc = PyErr_GetRaisedException();
    Engine_detach();
    PyErr_SetRaisedException(exc);
    return NULL;
}

static PyObject *
on_line_at(ModState *st, PdbObject *d, PyObject *code, int line)
{
    int relevant = Engine_step_all(d) || code == step_code1 || code == step_code2;
    if (!relevant) {
        relevant = Engine_code_breaks(st, code, line, NULL);
        if (relevant < 0)
            return failed();
        if (!relevant)
            return disable_or_none(st, d);
    }
    if (Engine_dispatch_line(d, frame_now(), line) < 0)
        return failed();
    Py_RETURN_NONE;
}

static PyObject *
cb_line(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    SLEUTH_UNUSED(nargs);
    ModState *st = (ModState *)PyModule_GetState(mod);
    PdbObject *d = Engine_listener(st);
    if (!d)
        return st->active ? Py_NewRef(Py_None) : Py_NewRef(st->DISABLE);
    int line = (int)PyLong_AsLong(args[1]);
    return on_line_at(st, d, args[0], line);
}

/* settrace reports a line event for every backward jump, even to the same
 * line (a one-line loop); LINE alone fires once. */
static PyObject *
cb_jump(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    SLEUTH_UNUSED(nargs);
    ModState *st = (ModState *)PyModule_GetState(mod);
    PdbObject *d = Engine_listener(st);
    if (!d)
        return st->active ? Py_NewRef(Py_None) : Py_NewRef(st->DISABLE);
    long from = PyLong_AsLong(args[1]), to = PyLong_AsLong(args[2]);
    if (to > from)
        return Py_NewRef(st->DISABLE);
    PyCodeObject *code = (PyCodeObject *)args[0];
    int to_line = PyCode_Addr2Line(code, (int)to);
    int from_line = PyCode_Addr2Line(code, (int)from);
    if (to_line != from_line || to_line < 0)
        return Py_NewRef(st->DISABLE);
    return on_line_at(st, d, args[0], to_line);
}

static int
maybe_arm(ModState *st, PyObject *code)
{
    int may = Engine_code_may_break(st, code);
    if (may <= 0)
        return may;
    return Backend_arm_code(st, code, EV_LINES);
}

static PyObject *
on_call(ModState *st, PyObject *code)
{
    PdbObject *d = Engine_listener(st);
    if (!d)
        return st->active ? Py_NewRef(Py_None) : Py_NewRef(st->DISABLE);
    if (maybe_arm(st, code) < 0)
        return failed();
    if (!Engine_step_all(d))
        return disable_or_none(st, d);
    if (Engine_dispatch_call(d, frame_now()) < 0)
        return failed();
    Py_RETURN_NONE;
}

/* PY_THROW (a generator resumed by throw()) is a 'call' for settrace, but
 * a global-only event: returning DISABLE from it raises ValueError into the
 * program's generator and unregisters the callback. Always answer None. */
static PyObject *
cb_throw(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    SLEUTH_UNUSED(nargs);
    ModState *st = (ModState *)PyModule_GetState(mod);
    PdbObject *d = Engine_listener(st);
    if (!d)
        Py_RETURN_NONE;
    if (maybe_arm(st, args[0]) < 0)
        return failed();
    if (Engine_step_all(d) && Engine_dispatch_call(d, frame_now()) < 0)
        return failed();
    Py_RETURN_NONE;
}

static PyObject *
cb_call(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    SLEUTH_UNUSED(nargs);
    /* PY_START and PY_RESUME only: PY_THROW, which cannot be disabled, has
     * cb_throw (cb_table). */
    return on_call((ModState *)PyModule_GetState(mod), args[0]);
}

static PyObject *
cb_return(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    SLEUTH_UNUSED(nargs);
    ModState *st = (ModState *)PyModule_GetState(mod);
    PdbObject *d = Engine_listener(st);
    if (!d)
        return st->active ? Py_NewRef(Py_None) : Py_NewRef(st->DISABLE);
    PyObject *code = args[0];
    if (!(Engine_step_all(d) || code == step_code1 || code == step_code2))
        return disable_or_none(st, d);
    if (Engine_dispatch_return(d, frame_now(), args[2]) < 0)
        return failed();
    Py_RETURN_NONE;
}

/* Global-only events: DISABLE is not allowed, always answer None. */
static PyObject *
cb_unwind(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    SLEUTH_UNUSED(nargs);
    ModState *st = (ModState *)PyModule_GetState(mod);
    PdbObject *d = Engine_listener(st);
    if (d && (Engine_step_all(d) || args[0] == step_code1 || args[0] == step_code2)) {
        /* An unwinding frame reports 'return' with None, as settrace does. The
         * exception being propagated must survive the callback. */
        if (Engine_dispatch_return(d, frame_now(), Py_None) < 0)
            return failed();
    }
    Py_RETURN_NONE;
}

static PyObject *
cb_raise(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    SLEUTH_UNUSED(nargs);
    ModState *st = (ModState *)PyModule_GetState(mod);
    PdbObject *d = Engine_listener(st);
    if (d && PyExceptionInstance_Check(args[2]) &&
        (Engine_step_all(d) || args[0] == step_code1 || Engine_gen_caller(st, args[0]))) {
        if (Engine_dispatch_exception(d, frame_now(), args[2], NULL) < 0)
            return failed();
    }
    Py_RETURN_NONE;
}

static PyMethodDef cb_defs[] = {
    {"_sleuth_line", (PyCFunction)(void (*)(void))cb_line, METH_FASTCALL, NULL},
    {"_sleuth_jump", (PyCFunction)(void (*)(void))cb_jump, METH_FASTCALL, NULL},
    {"_sleuth_call", (PyCFunction)(void (*)(void))cb_call, METH_FASTCALL, NULL},
    {"_sleuth_return", (PyCFunction)(void (*)(void))cb_return, METH_FASTCALL, NULL},
    {"_sleuth_unwind", (PyCFunction)(void (*)(void))cb_unwind, METH_FASTCALL, NULL},
    {"_sleuth_raise", (PyCFunction)(void (*)(void))cb_raise, METH_FASTCALL, NULL},
    {"_sleuth_throw", (PyCFunction)(void (*)(void))cb_throw, METH_FASTCALL, NULL},
};

static const struct { int event; int cb; } cb_table[] = {
    {EV_LINE, 0}, {EV_JUMP, 1},
    {EV_PY_START, 2}, {EV_PY_RESUME, 2}, {EV_PY_THROW, 6},
    {EV_PY_RETURN, 3}, {EV_PY_YIELD, 3},
    {EV_PY_UNWIND, 4},
    {EV_RAISE, 5}, {EV_STOP_ITERATION, 5},
};

/* Take tool id `id` if it is free: 1 taken, 0 in use by another, -1 error. */
static int
claim_id(ModState *st, int id)
{
    PyObject *r = mon_call(st, "get_tool", "(i)", id);
    if (!r)
        return -1;
    int free_id = (r == Py_None);
    Py_DECREF(r);
    if (!free_id)
        return 0;
    r = mon_call(st, "use_tool_id", "(is)", id, "sleuth");
    if (!r)
        return -1;
    Py_DECREF(r);
    st->tool_id = id;
    return 1;
}

/* Claim a free tool id: `prefer` if it is free, else the debugger's own,
 * else one of two that CPython leaves unnamed. */
static int
claim_tool(ModState *st, int prefer)
{
    static const int tool_ids[] = {0 /* DEBUGGER_ID */, 3, 4};
    st->tool_id = -1;
    int got = prefer >= 0 ? claim_id(st, prefer) : 0;
    for (size_t i = 0; got == 0 && i < sizeof tool_ids / sizeof tool_ids[0]; i++)
        got = claim_id(st, tool_ids[i]);
    if (got < 0)
        return -1;
    if (got == 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "sleuth: no free sys.monitoring tool id (another debugger is active)");
        return -1;
    }
    return 0;
}

static int
register_callbacks(ModState *st)
{
    for (size_t i = 0; i < sizeof cb_table / sizeof cb_table[0]; i++) {
        PyObject *r = mon_call(st, "register_callback", "(iiO)", st->tool_id, cb_table[i].event,
                               PyList_GET_ITEM(st->cb_list, cb_table[i].cb));
        if (!r)
            return -1;
        Py_DECREF(r);
    }
    return 0;
}

/* Is our tool id still ours? Any code may call
 * sys.monitoring.free_tool_id(id) (and then use_tool_id(id, ...)). 0 also
 * when the question itself fails: reclaiming then says what is wrong. */
static int
tool_is_ours(ModState *st)
{
    if (st->tool_id < 0)
        return 0;
    PyObject *r = mon_call(st, "get_tool", "(i)", st->tool_id);
    if (!r) {
        PyErr_Clear();
        return 0;
    }
    int ours = PyUnicode_Check(r) && PyUnicode_CompareWithASCIIString(r, "sleuth") == 0;
    Py_DECREF(r);
    return ours;
}

/* Another tool holds the id we had: take back the callbacks free_tool_id
 * left registered there (they would report its events to us twice over),
 * and leave whatever it registered itself. */
static void
drop_callbacks_of(ModState *st, int id)
{
    for (size_t i = 0; i < sizeof cb_table / sizeof cb_table[0]; i++) {
        PyObject *prev = mon_call(st, "register_callback", "(iiO)", id, cb_table[i].event, Py_None);
        if (!prev) {
            PyErr_Clear();
            return;
        }
        /* Not certainly ours (-1 too): it is the other tool's, put it back. */
        if (prev != Py_None && PySequence_Contains(st->cb_list, prev) != 1) {
            PyObject *r = mon_call(st, "register_callback", "(iiO)", id, cb_table[i].event, prev);
            Py_XDECREF(r);
        }
        PyErr_Clear();
        Py_DECREF(prev);
    }
}

/* Our tool id was freed under us. free_tool_id (3.12, 3.13) leaves the
 * callbacks and events in place, still reporting, but set_events and
 * set_local_events then refuse the id ("tool 0 is not in use"). Claim an id again (the same one if it
 * is still free; if another tool took it, what we armed there is its now)
 * and put back the callbacks, the global events and every armed code's
 * local events, so that the session goes on as before. */
static int
reclaim_tool(ModState *st)
{
    /* Owned */
    PyObject *items = NULL, *r = NULL;
    int rc = -1;

    int old = st->tool_id;
    if (claim_tool(st, old) < 0)
        goto done;
    if (old >= 0 && old != st->tool_id)
        drop_callbacks_of(st, old);
    if (register_callbacks(st) < 0)
        goto done;
    items = PyDict_Items(st->armed);
    if (!items)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *kv = PyList_GET_ITEM(items, i);
        if (set_local(st, PyTuple_GET_ITEM(kv, 0), (int)PyLong_AsLong(PyTuple_GET_ITEM(kv, 1))) < 0)
            goto done;
    }
    r = mon_call(st, "set_events", "(ii)", st->tool_id, st->events_global);
    if (!r)
        goto done;
    rc = 0;
done:
    Py_XDECREF(items);
    Py_XDECREF(r);
    return rc;
}

int
Backend_install(ModState *st)
{
    if (!st->monitoring) {
        PyObject *sys = PyImport_ImportModule("sys");
        if (!sys)
            return -1;
        st->monitoring = PyObject_GetAttrString(sys, "monitoring");
        Py_DECREF(sys);
        if (!st->monitoring)
            return -1;
        st->DISABLE = PyObject_GetAttrString(st->monitoring, "DISABLE");
        if (!st->DISABLE)
            return -1;
    }
    if (claim_tool(st, -1) < 0)
        return -1;
    if (!st->cb_list) {
        st->cb_list = PyList_New(0);
        if (!st->cb_list)
            return -1;
        for (size_t i = 0; i < sizeof cb_defs / sizeof cb_defs[0]; i++) {
            PyObject *f = PyCFunction_NewEx(&cb_defs[i], Sleuth_module, NULL);
            if (!f || PyList_Append(st->cb_list, f) < 0) {
                Py_XDECREF(f);
                return -1;
            }
            Py_DECREF(f);
        }
    }
    if (register_callbacks(st) < 0)
        return -1;
    st->events_global = 0;
    return 0;
}

static PyObject *
code_of(PyObject *frame)
{
    if (!frame || frame == Py_None)
        return NULL;
    PyObject *c = Pdb_frame_code(frame);
    if (!c) {
        PyErr_Clear();
        return NULL;
    }
    Py_DECREF(c);       /* the frame keeps its code alive */
    return c;
}

/* Arm code objects of frames that are running now (they will see no
 * PY_START again) in every thread. */
static int
arm_running_frames(ModState *st)
{
    PyObject *sys = PyImport_ImportModule("sys");
    if (!sys)
        return -1;
    PyObject *frames = PyObject_CallMethod(sys, "_current_frames", NULL);
    Py_DECREF(sys);
    if (!frames)
        return -1;
    PyObject *values = PyDict_Values(frames);
    Py_DECREF(frames);
    if (!values)
        return -1;
    int rc = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(values) && rc == 0; i++) {
        PyFrameObject *f = (PyFrameObject *)Py_NewRef(PyList_GET_ITEM(values, i));
        while (f && rc == 0) {
            PyObject *code = (PyObject *)PyFrame_GetCode(f);
            rc = maybe_arm(st, code);
            Py_DECREF(code);
            PyFrameObject *back = PyFrame_GetBack(f);
            Py_DECREF(f);
            f = back;
        }
        Py_XDECREF(f);
    }
    Py_DECREF(values);
    return rc;
}

int
Backend_update(ModState *st, PdbObject *d)
{
    /* Owned */
    PyObject *wanted = NULL, *items = NULL, *r = NULL;
    int rc = -1;

    int stepping_frame = d->stopframe && d->stopframe != Py_None && d->stoplineno != -1;
    step_code1 = stepping_frame ? code_of(d->stopframe) : NULL;
    step_code2 = code_of(d->returnframe);
    int all = (d->stopframe == NULL || d->stopframe == Py_None) && !d->quitting;

    if (!tool_is_ours(st) && reclaim_tool(st) < 0)
        goto done;

    /* Local events each armed code should have now. */
    wanted = PyDict_New();
    if (!wanted)
        goto done;
    items = PyDict_Items(st->armed);
    if (!items)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *code = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
        int may = Engine_code_may_break(st, code);
        if (may < 0)
            goto done;
        PyObject *ev = PyLong_FromLong(may ? EV_LINES : 0);
        if (!ev || PyDict_SetItem(wanted, code, ev) < 0) {
            Py_XDECREF(ev);
            goto done;
        }
        Py_DECREF(ev);
    }
    PyObject *codes[2] = {step_code1, step_code2};
    for (int k = 0; k < 2; k++) {
        if (!codes[k])
            continue;
        PyObject *cur = PyDict_GetItemWithError(wanted, codes[k]);
        long ev = cur ? PyLong_AsLong(cur) : 0;
        PyObject *nev = PyLong_FromLong(ev | EV_LINES | EV_RETURNS);
        if (!nev || PyDict_SetItem(wanted, codes[k], nev) < 0) {
            Py_XDECREF(nev);
            goto done;
        }
        Py_DECREF(nev);
    }
    /* Apply: drop codes that need nothing, update the rest. */
    Py_CLEAR(items);
    items = PyDict_Items(wanted);
    if (!items)
        goto done;
    PyDict_Clear(st->armed);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *code = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
        PyObject *ev = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
        if (set_local(st, code, (int)PyLong_AsLong(ev)) < 0)
            goto done;
        if (PyLong_AsLong(ev) && PyDict_SetItem(st->armed, code, ev) < 0)
            goto done;
    }
    if (arm_running_frames(st) < 0)
        goto done;

    int global = EV_CALLS;
    if (all)
        global |= EV_LINES | EV_RETURNS | EV_EXC;
    else if (stepping_frame || step_code2 || st->gen_callers)
        global |= EV_RAISE | EV_STOP_ITERATION | EV_PY_UNWIND;
    r = mon_call(st, "set_events", "(ii)", st->tool_id, global);
    if (!r)
        goto done;
    Py_CLEAR(r);
    st->events_global = global;
    r = mon_call(st, "restart_events", "()");
    if (!r)
        goto done;
    rc = 0;
done:
    Py_XDECREF(wanted);
    Py_XDECREF(items);
    Py_XDECREF(r);
    return rc;
}

/* sys.monitoring tools do not displace each other: a tracer of another
 * tool (coverage.py's) keeps working beside the session, unchanged. */
int
Backend_claim_thread(ModState *st)
{
    SLEUTH_UNUSED(st);
    return 0;
}

int
Backend_uninstall(ModState *st)
{
    /* Owned */
    PyObject *items = NULL, *r = NULL;
    int rc = 0;
    /* Keep the exception being propagated (BdbQuit, SystemExit...). */
    PyObject *exc = PyErr_GetRaisedException();

    step_code1 = step_code2 = NULL;
    if (st->tool_id < 0)
        goto done;
    if (!tool_is_ours(st)) {
        /* Freed under us: our callbacks and events are still there, so
         * take the id back to clear them. Taken by another tool: what
         * is there is its own now, leave it alone. */
        if (claim_id(st, st->tool_id) != 1) {
            PyErr_Clear();
            drop_callbacks_of(st, st->tool_id);
            PyDict_Clear(st->armed);
            st->tool_id = -1;
            goto done;
        }
    }
    r = mon_call(st, "set_events", "(ii)", st->tool_id, 0);
    if (!r)
        rc = -1;
    Py_CLEAR(r);
    /* free_tool_id does not remove local events. */
    items = PyDict_Keys(st->armed);
    for (Py_ssize_t i = 0; items && i < PyList_GET_SIZE(items); i++)
        if (set_local(st, PyList_GET_ITEM(items, i), 0) < 0)
            rc = -1;
    PyDict_Clear(st->armed);
    for (size_t i = 0; i < sizeof cb_table / sizeof cb_table[0]; i++) {
        r = mon_call(st, "register_callback", "(iiO)", st->tool_id, cb_table[i].event, Py_None);
        if (!r)
            rc = -1;
        Py_CLEAR(r);
    }
    r = mon_call(st, "free_tool_id", "(i)", st->tool_id);
    if (!r)
        rc = -1;
    Py_CLEAR(r);
    st->tool_id = -1;
done:
    Py_XDECREF(items);
    if (rc < 0)
        PyErr_Clear();      /* best effort: never mask the program's own state */
    PyErr_SetRaisedException(exc);
    return 0;
}

#endif /* SLEUTH_HAVE_MONITORING */
