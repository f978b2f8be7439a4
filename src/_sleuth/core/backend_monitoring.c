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
 * DISABLE holds for a code location until that code is instrumented again
 * without the event for our tool. sys.monitoring.restart_events() would do
 * that for every code of every tool at once, and so hand a program's own tool
 * (or coverage.py's) the events it DISABLEd: sleuth never calls it. Instead,
 * each time the prompt is left, Backend_update puts back its own locations
 * only: the local events of every armed code are set to 0 and back
 * (reset_locals), and the codes whose PY_START/PY_RESUME it DISABLEd are
 * remembered (quiet codes) and re-instrumented where that matters: armed when
 * breakpoints are added in them, refreshed for `step`, and at detach.
 *
 * Another tool may take our tool id (free_tool_id, then use_tool_id): the
 * session then ends, as far as it can without touching that tool (give_up).
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



/* no_session: a callback that finds no debugger to report to answers None,
 * never DISABLE: after give_up our callbacks may still be registered on an
 * id that another tool owns, and a DISABLE there would switch its events
 * off. (While a session is on, events only reach us without a listener
 * from the prompt's own thread, whose locations must stay live.) */

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

static int ensure_tool(ModState *st);

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
    /* Arming is rare (once per code): ask whether the id is still ours, so
     * that nothing is ever set on another tool's id. */
    int ours = ensure_tool(st);
    if (ours == 0 && st->backend_attached)
        Engine_detach();        /* given up: the session ends */
    if (ours <= 0)
        return ours;
    PyObject *ev = PyLong_FromLong(events);
    if (!ev || PyDict_SetItem(st->armed, code, ev) < 0) {
        Py_XDECREF(ev);
        return -1;
    }
    Py_DECREF(ev);
    return set_local(st, code, events);
}

/* --- quiet codes ----------------------------------------------------------
 *
 * on_call answers DISABLE to PY_START and PY_RESUME once it has armed (or
 * not) a code: one callback per code. Those are global events, so the
 * DISABLE holds until the code is instrumented while our global events lack
 * PY_START; setting a local event on it (set_local_events instruments at
 * once) while they do is the only way to do that for one code and one tool.
 * The codes are remembered by identity, weakly (a code object can be
 * collected like any other), in st->quiet_codes. */

static Py_ssize_t quiet_prune_at = 1024;

static void
quiet_prune(ModState *st)
{
    PyObject *dead = PyList_New(0), *key, *ref;
    Py_ssize_t pos = 0;
    while (dead && PyDict_Next(st->quiet_codes, &pos, &key, &ref)) {
        PyObject *code;
        if (PyWeakref_GetRef(ref, &code) == 0 && PyList_Append(dead, key) < 0)
            Py_CLEAR(dead);
        Py_XDECREF(code);
    }
    for (Py_ssize_t i = 0; dead && i < PyList_GET_SIZE(dead); i++)
        if (PyDict_DelItem(st->quiet_codes, PyList_GET_ITEM(dead, i)) < 0)
            break;
    Py_XDECREF(dead);
    PyErr_Clear();
    Py_ssize_t n = PyDict_GET_SIZE(st->quiet_codes) * 2;
    quiet_prune_at = n > 1024 ? n : 1024;
}

/* What on_call answers when it is done with `code`: DISABLE, remembered;
 * None when it cannot be remembered (the code then keeps reporting). */
static PyObject *
quiet_call(ModState *st, PyObject *code)
{
    /* Owned */
    PyObject *key = NULL, *ref = NULL, *live = NULL;
    PyObject *res = Py_None;

    if (!st->quiet_codes && !(st->quiet_codes = PyDict_New()))
        goto done;
    key = PyLong_FromVoidPtr(code);
    if (!key)
        goto done;
    PyObject *old = PyDict_GetItemWithError(st->quiet_codes, key);   /* borrowed */
    if (old && PyWeakref_GetRef(old, &live) > 0 && live == code) {
        res = st->DISABLE;
        goto done;
    }
    if (PyErr_Occurred())
        goto done;
    ref = PyWeakref_NewRef(code, NULL);
    if (!ref || PyDict_SetItem(st->quiet_codes, key, ref) < 0)
        goto done;
    if (PyDict_GET_SIZE(st->quiet_codes) >= quiet_prune_at)
        quiet_prune(st);
    res = st->DISABLE;
done:
    PyErr_Clear();
    Py_XDECREF(key);
    Py_XDECREF(ref);
    Py_XDECREF(live);
    return Py_NewRef(res);
}

/* The remembered codes still alive (new list), or NULL with an error. */
static PyObject *
quiet_live(ModState *st)
{
    PyObject *list = PyList_New(0), *key, *ref;
    Py_ssize_t pos = 0;
    while (list && st->quiet_codes && PyDict_Next(st->quiet_codes, &pos, &key, &ref)) {
        PyObject *code;
        int r = PyWeakref_GetRef(ref, &code);
        if (r < 0 || (r > 0 && PyList_Append(list, code) < 0))
            Py_CLEAR(list);
        Py_XDECREF(code);
    }
    return list;
}

/* Instrument each remembered code afresh for our tool: its PY_START and
 * PY_RESUME report again. Our global events must lack PY_START, and no code
 * may have local events of ours (reset_locals), when this runs. */
static int
quiet_refresh(ModState *st)
{
    if (!st->quiet_codes || PyDict_GET_SIZE(st->quiet_codes) == 0)
        return 0;
    PyObject *live = quiet_live(st);
    if (!live)
        return -1;
    int rc = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(live) && rc == 0; i++) {
        PyObject *code = PyList_GET_ITEM(live, i);
        if (set_local(st, code, EV_LINE) < 0 || set_local(st, code, 0) < 0)
            rc = -1;
    }
    Py_DECREF(live);
    if (rc == 0)
        PyDict_Clear(st->quiet_codes);
    return rc;
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
        Py_RETURN_NONE;  /* see no_session */
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
        Py_RETURN_NONE;  /* see no_session */
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
        Py_RETURN_NONE;  /* see no_session */
    if (maybe_arm(st, code) < 0)
        return failed();
    d = Engine_listener(st);     /* arming may have ended the session (give_up) */
    if (!d)
        Py_RETURN_NONE;
    if (!Engine_step_all(d)) {
        if (d->stopframe == NULL || d->stopframe == Py_None)
            Py_RETURN_NONE;     /* another thread steps everywhere */
        return quiet_call(st, code);
    }
    if (Engine_dispatch_call(d, frame_now()) < 0)
        return failed();
    Py_RETURN_NONE;
}

/* PY_THROW (a generator resumed by throw()) is a 'call' for settrace, but
 * a global-only event: returning DISABLE from it raises ValueError into the
 * program's generator and unregisters the callback. Always answer None.
 * It cannot be switched off, so every throw() into a generator (a `with`
 * block of a contextmanager that raises, too) comes here: a code that was
 * already armed or found unable to break, under the same breakpoints, is
 * answered at once. The cache holds addresses only: a code object that
 * reuses a dead one's address was created since, and so reported its own
 * PY_START (and was armed then) before anything could throw into it. */
#define THROW_CACHE 256
static PyObject *throw_seen[THROW_CACHE];   /* addresses only, never dereferenced */
static uint64_t throw_gen;

static PyObject *
cb_throw(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    SLEUTH_UNUSED(nargs);
    ModState *st = (ModState *)PyModule_GetState(mod);
    PdbObject *d = Engine_listener(st);
    if (!d)
        Py_RETURN_NONE;
    PyObject *code = args[0];
    size_t h = ((uintptr_t)code >> 4) & (THROW_CACHE - 1);
    if (throw_gen != st->bp_generation) {
        memset(throw_seen, 0, sizeof throw_seen);
        throw_gen = st->bp_generation;
    }
    if (throw_seen[h] != code) {
        if (maybe_arm(st, code) < 0)
            return failed();
        throw_seen[h] = code;
        d = Engine_listener(st);     /* arming may have ended the session (give_up) */
        if (!d)
            Py_RETURN_NONE;
    }
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
        Py_RETURN_NONE;  /* see no_session */
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
        (Engine_step_all(d) || args[0] == step_code1 || d->break_on_raise || Engine_gen_caller(st, args[0]))) {
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

/* Our tool id was freed under us (sys.monitoring.free_tool_id, by the
 * program or at the prompt), and no one took it. free_tool_id (3.12, 3.13)
 * leaves the callbacks and events in place, still reporting, but set_events
 * and set_local_events then refuse the id ("tool 0 is not in use"). Take the
 * same id again and put back the callbacks, the global events and every armed
 * code's local events: the session goes on as before. */
static int
reclaim_tool(ModState *st)
{
    /* Owned */
    PyObject *items = NULL, *r = NULL;
    int rc = -1;

    r = mon_call(st, "use_tool_id", "(is)", st->tool_id, "sleuth");
    if (!r)
        goto done;
    Py_CLEAR(r);
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

/* sys.monitoring.get_events / get_local_events of `id`, or -1. */
static long
events_of(ModState *st, int id, PyObject *code)
{
    PyObject *r = code ? mon_call(st, "get_local_events", "(iO)", id, code)
                       : mon_call(st, "get_events", "(i)", id);
    long v = r ? PyLong_AsLong(r) : -1;
    Py_XDECREF(r);
    PyErr_Clear();
    return v;
}

/* Another tool owns the id we had (free_tool_id, then use_tool_id): the
 * session ends here. Its callbacks are never called nor replaced, and of
 * what free_tool_id left of ours on that id only the events still exactly as
 * we set them are switched off (the other tool has not set its own there).
 * Our callbacks may stay registered for events it has not claimed; with no
 * session they answer None, which changes nothing for it (no_session).
 * Says so once, on the debugger's stdout. The caller detaches. */
static void
give_up(ModState *st, PyObject *other)
{
    /* Owned */
    PyObject *items = NULL;
    PyObject *exc = PyErr_GetRaisedException();

    int id = st->tool_id;
    st->tool_id = -1;
    items = PyDict_Items(st->armed);
    for (Py_ssize_t i = 0; items && i < PyList_GET_SIZE(items); i++) {
        PyObject *code = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
        long ours = PyLong_AsLong(PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1));
        if (events_of(st, id, code) == ours) {
            PyObject *r = mon_call(st, "set_local_events", "(iOi)", id, code, 0);
            Py_XDECREF(r);
        }
    }
    if (st->events_global && events_of(st, id, NULL) == st->events_global) {
        PyObject *r = mon_call(st, "set_events", "(ii)", id, 0);
        Py_XDECREF(r);
        /* With no PY_START on the id now, codes whose PY_START we DISABLEd
         * are instrumented afresh: the new owner's calls report there. Their
         * local events on the id are changed and put back at once. */
        PyObject *live = r ? quiet_live(st) : NULL;
        for (Py_ssize_t i = 0; live && i < PyList_GET_SIZE(live); i++) {
            PyObject *code = PyList_GET_ITEM(live, i);
            long cur = events_of(st, id, code);
            if (cur < 0)
                continue;
            PyObject *a = mon_call(st, "set_local_events", "(iOi)", id, code, (int)(cur ^ EV_LINE));
            PyObject *b = a ? mon_call(st, "set_local_events", "(iOi)", id, code, (int)cur) : NULL;
            Py_XDECREF(a);
            Py_XDECREF(b);
        }
        Py_XDECREF(live);
    }
    PyErr_Clear();
    PyDict_Clear(st->armed);
    if (st->quiet_codes)
        PyDict_Clear(st->quiet_codes);
    st->events_global = 0;
    if (st->active && Pdb_errorf(st->active, "sleuth: sys.monitoring tool id %d was taken by "
                                 "another tool (%R): the debugger stops, the program goes on",
                                 id, other) < 0)
        PyErr_Clear();
    Py_XDECREF(items);
    PyErr_SetRaisedException(exc);
}

/* Is our tool id still ours? Any code may call
 * sys.monitoring.free_tool_id(id), and then use_tool_id(id, ...).
 * 1: ours (taken back if it was only freed); 0: no id any more (given up,
 * the caller detaches); -1: an error. */
static int
ensure_tool(ModState *st)
{
    if (st->tool_id < 0)
        return 0;
    PyObject *r = mon_call(st, "get_tool", "(i)", st->tool_id);
    if (!r)
        return -1;
    int rc;
    if (PyUnicode_Check(r) && PyUnicode_CompareWithASCIIString(r, "sleuth") == 0)
        rc = 1;
    else if (r == Py_None)
        rc = reclaim_tool(st) < 0 ? -1 : 1;
    else {
        give_up(st, r);
        rc = 0;
    }
    Py_DECREF(r);
    return rc;
}

/* Audit hook: a tool registering a callback has just claimed its id. If
 * that id is ours (free_tool_id, then use_tool_id), end the session now,
 * before its callback can get an event of ours. Only a tool taken by
 * another is acted on: a merely freed id is taken back when sleuth next
 * arms or leaves the prompt (here that would make the program's own
 * register_callback on a free id succeed, where it fails without sleuth). */
static int in_audit;

static int
audit_hook(const char *event, PyObject *args, void *data)
{
    SLEUTH_UNUSED(args);
    SLEUTH_UNUSED(data);
    if (event[0] != 's' || strcmp(event, "sys.monitoring.register_callback") != 0 ||
        !Sleuth_module || in_audit)
        return 0;
    ModState *st = Sleuth_state();
    if (!st || st->tool_id < 0 || !st->backend_attached || !st->monitoring)
        return 0;
    in_audit = 1;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *r = mon_call(st, "get_tool", "(i)", st->tool_id);
    if (r && r != Py_None &&
        !(PyUnicode_Check(r) && PyUnicode_CompareWithASCIIString(r, "sleuth") == 0)) {
        give_up(st, r);
        Engine_detach();
    }
    Py_XDECREF(r);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    in_audit = 0;
    return 0;
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
    static int audit_added;
    if (!audit_added) {
        audit_added = 1;
        if (PySys_AddAuditHook(audit_hook, NULL) < 0)
            PyErr_Clear();      /* refused by another hook: detection waits for the prompt */
    }
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
    /* A previous owner may have freed the id with its events still on. */
    PyObject *r = mon_call(st, "set_events", "(ii)", st->tool_id, 0);
    if (!r)
        return -1;
    Py_DECREF(r);
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

static int
set_global(ModState *st, int events)
{
    if (events == st->events_global)
        return 0;
    PyObject *r = mon_call(st, "set_events", "(ii)", st->tool_id, events);
    if (!r)
        return -1;
    Py_DECREF(r);
    st->events_global = events;
    return 0;
}

/* `wanted[code] |= events` */
static int
want(PyObject *wanted, PyObject *code, int events)
{
    PyObject *cur = PyDict_GetItemWithError(wanted, code);
    if (!cur && PyErr_Occurred())
        return -1;
    PyObject *ev = PyLong_FromLong((cur ? PyLong_AsLong(cur) : 0) | events);
    int r = ev ? PyDict_SetItem(wanted, code, ev) : -1;
    Py_XDECREF(ev);
    return r;
}

int
Backend_update(ModState *st, PdbObject *d)
{
    /* Owned */
    PyObject *wanted = NULL, *items = NULL;
    int rc = -1;

    int stepping_frame = d->stopframe && d->stopframe != Py_None && d->stoplineno != -1;
    step_code1 = stepping_frame ? code_of(d->stopframe) : NULL;
    step_code2 = code_of(d->returnframe);
    int all = (d->stopframe == NULL || d->stopframe == Py_None) && !d->quitting;

    int ours = ensure_tool(st);
    if (ours == 0) {
        step_code1 = step_code2 = NULL;
        return Engine_detach();   /* given up: the session ends, the program goes on */
    }
    if (ours < 0)
        goto done;

    /* Local events each armed code should have now. */
    wanted = PyDict_New();
    if (!wanted)
        goto done;
    items = PyDict_Keys(st->armed);
    if (!items)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        int may = Engine_code_may_break(st, PyList_GET_ITEM(items, i));
        if (may < 0 || (may && want(wanted, PyList_GET_ITEM(items, i), EV_LINES) < 0))
            goto done;
    }
    Py_CLEAR(items);
    /* Breakpoints changed: codes that ran before (their PY_START is off)
     * and may break now will not report a call again to be armed. */
    if (st->quiet_gen != st->bp_generation && st->quiet_codes &&
        PyDict_GET_SIZE(st->quiet_codes) && PyDict_GET_SIZE(st->breaks)) {
        items = quiet_live(st);
        if (!items)
            goto done;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
            int may = Engine_code_may_break(st, PyList_GET_ITEM(items, i));
            if (may < 0 || (may && want(wanted, PyList_GET_ITEM(items, i), EV_LINES) < 0))
                goto done;
        }
        Py_CLEAR(items);
    }
    st->quiet_gen = st->bp_generation;
    PyObject *codes[2] = {step_code1, step_code2};
    for (int k = 0; k < 2; k++)
        if (codes[k] && want(wanted, codes[k], EV_LINES | EV_RETURNS) < 0)
            goto done;

    int global = EV_CALLS;
    if (all)
        global |= EV_LINES | EV_RETURNS | EV_EXC;
    else if (stepping_frame || step_code2 || st->gen_callers)
        global |= EV_RAISE | EV_STOP_ITERATION | EV_PY_UNWIND;
    if (d->break_on_raise)
        global |= EV_RAISE;

    /* Every location of ours live again, and no other tool's (see the top):
     * with no global LINE/JUMP/PY_RETURN/PY_YIELD of ours (none for `step`,
     * which also needs PY_START back everywhere), each armed code's local
     * events go to 0, which drops our DISABLEs there, then to what it needs. */
    if (set_global(st, all ? 0 : st->events_global & ~(EV_LINES | EV_RETURNS)) < 0)
        goto done;
    items = PyDict_Keys(st->armed);
    if (!items)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++)
        if (set_local(st, PyList_GET_ITEM(items, i), 0) < 0)
            goto done;
    Py_CLEAR(items);
    PyDict_Clear(st->armed);
    if (all && quiet_refresh(st) < 0)
        goto done;
    if (set_global(st, global) < 0)
        goto done;
    items = PyDict_Items(wanted);
    if (!items)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *code = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
        PyObject *ev = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
        if (set_local(st, code, (int)PyLong_AsLong(ev)) < 0 ||
            PyDict_SetItem(st->armed, code, ev) < 0)
            goto done;
    }
    if (arm_running_frames(st) < 0)
        goto done;
    rc = 0;
done:
    Py_XDECREF(wanted);
    Py_XDECREF(items);
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
    r = mon_call(st, "get_tool", "(i)", st->tool_id);
    if (!r)
        goto done;
    if (r != Py_None && !(PyUnicode_Check(r) && PyUnicode_CompareWithASCIIString(r, "sleuth") == 0)) {
        give_up(st, r);         /* another tool's now: leave it alone */
        goto done;
    }
    if (r == Py_None) {
        /* Freed under us: our callbacks and events are still there, so
         * take the id back to clear them. */
        Py_CLEAR(r);
        r = mon_call(st, "use_tool_id", "(is)", st->tool_id, "sleuth");
        if (!r)
            goto done;
    }
    Py_CLEAR(r);
    if (set_global(st, 0) < 0)
        rc = -1;
    /* free_tool_id does not remove local events, nor our DISABLEs: the next
     * owner of the id must find nothing of ours. */
    items = PyDict_Keys(st->armed);
    for (Py_ssize_t i = 0; items && i < PyList_GET_SIZE(items); i++)
        if (set_local(st, PyList_GET_ITEM(items, i), 0) < 0)
            rc = -1;
    PyDict_Clear(st->armed);
    if (quiet_refresh(st) < 0)
        rc = -1;
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
    Py_XDECREF(r);
    if (st->quiet_codes)
        PyDict_Clear(st->quiet_codes);
    if (rc < 0 || PyErr_Occurred())
        PyErr_Clear();      /* best effort: never mask the program's own state */
    PyErr_SetRaisedException(exc);
    return 0;
}

#endif /* SLEUTH_HAVE_MONITORING */
