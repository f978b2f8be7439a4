/* api.c — the ways into a debugging session: Pdb.set_trace/run/runeval/
 * runcall and the module functions set_trace, post_mortem, pm, run, runeval,
 * runcall (pdb's API). */
#include "api.h"
#include "dap_server.h"
#include "commands.h"
#include "engine.h"
#include "pythread.h"
#include "util.h"

static PyObject *
outermost(PyObject *frame)
{
    PyObject *f = Py_NewRef(frame);
    for (;;) {
        PyObject *back = PyObject_GetAttrString(f, "f_back");
        if (!back) {
            Py_DECREF(f);
            return NULL;
        }
        if (back == Py_None) {
            Py_DECREF(back);
            return f;
        }
        Py_SETREF(f, back);
    }
}

static PyObject *
back_of(PyObject *f)
{
    PyObject *b = PyObject_GetAttrString(f, "f_back");
    if (b == Py_None) {
        Py_DECREF(b);
        return NULL;
    }
    return b;
}

/* The frames of this thread that run now and are neither `frame` nor one of
 * its callers (new list, NULL with an exception). bdb's set_trace gives only
 * `frame` and its callers a local trace function, so frames in between
 * (pytest.set_trace's own, any wrapper's) report no line, return or
 * exception event until they are left; calls they make are traced. */
static PyObject *
frames_between(PyObject *frame)
{
    /* Owned */
    PyObject *res = PyList_New(0), *callers = PyList_New(0), *f = NULL;

    if (!res || !callers)
        goto error;
    for (f = Py_NewRef(frame); f;) {
        if (PyList_Append(callers, f) < 0)
            goto error;
        PyObject *b = back_of(f);
        if (!b && PyErr_Occurred())
            goto error;
        Py_SETREF(f, b);
    }
    for (f = Py_XNewRef((PyObject *)PyEval_GetFrame()); f;) {
        int found = 0;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(callers) && !found; i++)
            found = PyList_GET_ITEM(callers, i) == f;
        if (found)
            break;
        if (PyList_Append(res, f) < 0)
            goto error;
        PyObject *b = back_of(f);
        if (!b && PyErr_Occurred())
            goto error;
        Py_SETREF(f, b);
    }
    Py_XDECREF(f);
    Py_DECREF(callers);
    return res;
error:
    Py_XDECREF(f);
    Py_XDECREF(res);
    Py_XDECREF(callers);
    return NULL;
}

int
Api_set_trace(PdbObject *self, PyObject *frame)
{
    /* reset() runs Python (linecache); with the engine possibly attached
     * already (Ctrl-C, a second set_trace), nothing it runs may stop. */
    int was_in = self->in_interaction;
    unsigned long was_thread = self->interaction_thread;
    self->in_interaction = 1;
    self->interaction_thread = PyThread_get_thread_ident();
    PyObject *r = PyObject_CallMethod((PyObject *)self, "reset", NULL);
    self->in_interaction = was_in;
    self->interaction_thread = was_thread;
    if (!r)
        return -1;
    Py_DECREF(r);
    PyObject *between = frames_between(frame);
    if (!between)
        return -1;
    if (PyList_GET_SIZE(between) > 0)
        Py_XSETREF(self->untraced, between);
    else
        Py_DECREF(between);
    PyObject *bot = outermost(frame);
    if (!bot)
        return -1;
    Py_XSETREF(self->botframe, bot);
    Engine_set_step(self);
    if (Engine_claim_thread() < 0)
        return -1;
#if SLEUTH_PY313
    /* 3.13 stops on the line that called set_trace()/breakpoint() itself. */
    if (Engine_attach(self) < 0)
        return -1;
    /* Through the dispatcher, so that a subclass's trace_dispatch sees the
     * stop (doctest's redirects sys.stdout around it). This runs outside
     * any event callback: the Python code of such overrides must not be
     * reported to the engine, as a trace function's own code is not. */
    self->in_interaction = 1;
    self->interaction_thread = PyThread_get_thread_ident();
    int rc = Engine_dispatch_line(self, frame, -1);
    self->in_interaction = was_in;
    self->interaction_thread = was_thread;
    if (rc < 0)
        return -1;
    if (self->quitting) {
        /* `q` at this prompt: pdb raises BdbQuit into the program. */
        if (Sleuth_load_bdbquit() == 0)
            PyErr_SetNone(Sleuth_state()->BdbQuit);
        return -1;
    }
    return 0;
#else
    return Engine_attach(self);
#endif
}

static PyObject *
Pdb_set_trace(PdbObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"frame", "commands", NULL};
    PyObject *frame = Py_None, *commands = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$O:set_trace", kwlist, &frame, &commands))
        return NULL;
    if (frame == Py_None) {
        frame = (PyObject *)PyEval_GetFrame();
        if (!frame) {
            PyErr_SetString(PyExc_RuntimeError, "set_trace() needs a Python frame");
            return NULL;
        }
    }
    if (commands != Py_None) {
        PyObject *ext = PyObject_CallMethod(self->cmdqueue, "extend", "O", commands);
        if (!ext)
            return NULL;
        Py_DECREF(ext);
    }
    if (Api_set_trace(self, frame) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* The thread running the program under run/runeval/runcall is the one a
 * `quit` typed in another thread sends BdbQuit to (see engine.c). */
static void
run_started(PdbObject *self)
{
    self->run_thread = PyThread_get_thread_ident();
    self->quit_sent = 0;
    self->quit_in_run = 0;
    self->run_over = 0;
}

static void
run_ended(PdbObject *self)
{
    /* A BdbQuit sent to this thread that it has not met yet must not
     * surface later, outside the run. */
    if (self->quit_sent)
        Util_flush_async_exc();
    Engine_restore_excepthook();
    self->run_thread = 0;
    self->quit_sent = 0;
}

/* bdb.run/runeval: execute `cmd` under the debugger, stepping from its start.
 * The builtin exec()/eval() does the running, as in bdb: it accepts source
 * (str or bytes) and code objects, checks globals/locals, and raises pdb's
 * TypeError for anything else (never hand an unchecked object to
 * PyEval_EvalCode: a non-code object there crashes the interpreter). */
static PyObject *
run_common(PdbObject *self, PyObject *cmd, PyObject *globals, PyObject *locals, int mode)
{
    /* Owned */
    PyObject *code = NULL, *res = NULL, *r = NULL, *builtins = NULL, *runner = NULL;

    if (!globals || globals == Py_None) {
        PyObject *main = PyImport_AddModule("__main__");   /* borrowed */
        if (!main)
            return NULL;
        globals = PyModule_GetDict(main);
    }
    if (!locals || locals == Py_None)
        locals = globals;
    r = PyObject_CallMethod((PyObject *)self, "reset", NULL);
    if (!r)
        return NULL;
    Py_CLEAR(r);
    builtins = PyImport_ImportModule("builtins");
    if (!builtins)
        goto done;
    if (mode == Py_file_input && PyUnicode_Check(cmd)) {
        /* bdb.run compiles str itself (so a SyntaxError comes before tracing). */
        code = PyObject_CallMethod(builtins, "compile", "Oss", cmd, "<string>", "exec");
        if (!code)
            goto done;
    } else {
        code = Py_NewRef(cmd);
    }
    runner = PyObject_GetAttrString(builtins, mode == Py_eval_input ? "eval" : "exec");
    if (!runner)
        goto done;
    if (Engine_claim_thread() < 0 || Engine_attach(self) < 0)
        goto done;
    run_started(self);
    res = PyObject_CallFunctionObjArgs(runner, code, globals, locals, NULL);
    run_ended(self);
    if (!res && Sleuth_bdbquit_matches(Sleuth_state()->BdbQuit)) {
        PyErr_Clear();
        res = Py_NewRef(Py_None);
    }
done:
    self->quitting = 1;
    self->run_over = 1;
    if (Engine_is_active(self)) {
        PyObject *exc = PyErr_GetRaisedException();
        Engine_detach();
        PyErr_SetRaisedException(exc);
    }
    Py_XDECREF(code);
    Py_XDECREF(runner);
    Py_XDECREF(builtins);
    return res;
}

static PyObject *
Pdb_run(PdbObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"cmd", "globals", "locals", NULL};
    PyObject *cmd, *g = Py_None, *l = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OO:run", kwlist, &cmd, &g, &l))
        return NULL;
    PyObject *r = run_common(self, cmd, g, l, Py_file_input);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyObject *
Pdb_runeval(PdbObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"expr", "globals", "locals", NULL};
    PyObject *cmd, *g = Py_None, *l = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OO:runeval", kwlist, &cmd, &g, &l))
        return NULL;
    return run_common(self, cmd, g, l, Py_eval_input);
}

/* bdb.runctx: kept for backwards compatibility; defers to run(). */
static PyObject *
Pdb_runctx(PdbObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"cmd", "globals", "locals", NULL};
    PyObject *cmd, *g, *l;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:runctx", kwlist, &cmd, &g, &l))
        return NULL;
    PyObject *r = PyObject_CallMethod((PyObject *)self, "run", "OOO", cmd, g, l);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyObject *
Pdb_runcall(PdbObject *self, PyObject *args, PyObject *kwds)
{
    if (PyTuple_GET_SIZE(args) < 1) {
        PyErr_SetString(PyExc_TypeError, "runcall() missing the function to call");
        return NULL;
    }
    PyObject *r = PyObject_CallMethod((PyObject *)self, "reset", NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    PyObject *func = PyTuple_GET_ITEM(args, 0);
    PyObject *rest = PyTuple_GetSlice(args, 1, PY_SSIZE_T_MAX);
    if (!rest)
        return NULL;
    PyObject *res = NULL;
    if (Engine_claim_thread() == 0 && Engine_attach(self) == 0) {
        run_started(self);
        res = PyObject_Call(func, rest, kwds);
        run_ended(self);
        if (!res && Sleuth_bdbquit_matches(Sleuth_state()->BdbQuit)) {
            PyErr_Clear();
            res = Py_NewRef(Py_None);
        }
    }
    Py_DECREF(rest);
    self->quitting = 1;
    self->run_over = 1;
    if (Engine_is_active(self)) {
        PyObject *exc = PyErr_GetRaisedException();
        Engine_detach();
        PyErr_SetRaisedException(exc);
    }
    return res;
}

PyMethodDef PdbApi_methods[] = {
    {"set_trace", (PyCFunction)(void (*)(void))Pdb_set_trace, METH_VARARGS | METH_KEYWORDS,
     "set_trace(frame=None)\n--\n\nStart debugging from `frame` (default: the caller)."},
    {"run", (PyCFunction)(void (*)(void))Pdb_run, METH_VARARGS | METH_KEYWORDS, NULL},
    {"runeval", (PyCFunction)(void (*)(void))Pdb_runeval, METH_VARARGS | METH_KEYWORDS, NULL},
    {"runcall", (PyCFunction)(void (*)(void))Pdb_runcall, METH_VARARGS | METH_KEYWORDS, NULL},
    {"runctx", (PyCFunction)(void (*)(void))Pdb_runctx, METH_VARARGS | METH_KEYWORDS, NULL},
    {NULL, NULL, 0, NULL},
};

/* --- module functions ------------------------------------------------------ */

static PyObject *
new_pdb(void)
{
    /* With a DAP client attached, set_trace()/breakpoint() stop in it. */
    DapServer *dap = Dap_current();
    if (dap && dap->connected)
        return Py_NewRef((PyObject *)dap->pdb);
    return PyObject_CallNoArgs((PyObject *)Sleuth_state()->PdbType);
}

/* pdb.set_trace(): Pdb().set_trace(caller), through the class's own
 * set_trace and message, which a subclass or a patch may replace. */
PyObject *
Api_set_trace_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    SLEUTH_UNUSED(module);
    static char *kwlist[] = {"header", "commands", NULL};
    PyObject *header = Py_None, *commands = Py_None, *r = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|$OO:set_trace", kwlist, &header, &commands))
        return NULL;
    PyObject *frame = (PyObject *)PyEval_GetFrame();
    if (!frame) {
        PyErr_SetString(PyExc_RuntimeError, "set_trace() needs a Python frame");
        return NULL;
    }
    Py_INCREF(frame);
    PyObject *p = new_pdb();
    if (!p)
        goto done;
    if (header != Py_None) {
        r = PyObject_CallMethod(p, "message", "O", header);
        if (!r)
            goto done;
        Py_CLEAR(r);
    }
    if (commands != Py_None) {
        r = PyObject_CallMethod(((PdbObject *)p)->cmdqueue, "extend", "O", commands);
        if (!r)
            goto done;
        Py_CLEAR(r);
    }
    r = PyObject_CallMethod(p, "set_trace", "O", frame);
done:
    Py_DECREF(frame);
    Py_XDECREF(p);
    return r;
}

int
Api_post_mortem(PdbObject *p, PyObject *t)
{
    PyObject *r = PyObject_CallMethod((PyObject *)p, "reset", NULL);
    if (!r)
        return -1;
    Py_DECREF(r);
    r = PyObject_CallMethod((PyObject *)p, "interaction", "OO", Py_None, t);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* pdb._post_mortem: debug t (a traceback or an exception; None means the
 * traceback of the exception being handled) with the given debugger. */
static PyObject *
post_mortem_with(PyObject *t, PyObject *p)
{
    Py_INCREF(t);
    if (t == Py_None) {
        /* pdb takes the handled exception's traceback, not the exception:
         * `exceptions` then has no chain to walk, as in pdb. */
        PyObject *exc = PyErr_GetHandledException();
        if (exc && exc != Py_None) {
            PyObject *tb = PyException_GetTraceback(exc);
            if (tb)
                Py_SETREF(t, tb);
        }
        Py_XDECREF(exc);
    }
    int bad = t == Py_None;
    if (!bad && PyExceptionInstance_Check(t)) {
        PyObject *tb = PyException_GetTraceback(t);
        bad = tb == NULL;
        Py_XDECREF(tb);
    } else if (!bad && !PyTraceBack_Check(t)) {
        /* Duck-typed tracebacks (evidence snapshots) need tb_frame. */
        bad = !PyObject_HasAttrString(t, "tb_frame");
    }
    if (bad) {
        Py_DECREF(t);
        PyErr_SetString(PyExc_ValueError,
                        "A valid traceback must be passed if no exception is being handled");
        return NULL;
    }
    int r = Api_post_mortem((PdbObject *)p, t);
    Py_DECREF(t);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *
Api_post_mortem_py(PyObject *module, PyObject *args)
{
    SLEUTH_UNUSED(module);
    PyObject *t = Py_None;
    if (!PyArg_ParseTuple(args, "|O:post_mortem", &t))
        return NULL;
    PyObject *p = new_pdb();
    if (!p)
        return NULL;
    PyObject *r = post_mortem_with(t, p);
    Py_DECREF(p);
    return r;
}

/* 3.13's pdb._post_mortem(t, pdb_instance) (its tests pass their own
 * debugger); offered on every version. */
PyObject *
Api_post_mortem_with_py(PyObject *module, PyObject *args)
{
    SLEUTH_UNUSED(module);
    PyObject *t, *p;
    if (!PyArg_ParseTuple(args, "OO:_post_mortem", &t, &p))
        return NULL;
    return post_mortem_with(t, p);
}

PyObject *
Api_pm_py(PyObject *module, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    PyObject *t = PySys_GetObject("last_exc");
    if (!t || t == Py_None)
        t = PySys_GetObject("last_value");
    if (!t || t == Py_None)
        t = PySys_GetObject("last_traceback");
    if (!t || t == Py_None) {
        PyErr_SetString(PyExc_ValueError, "A valid traceback must be passed if no exception is being handled");
        return NULL;
    }
    PyObject *args = PyTuple_Pack(1, t);
    if (!args)
        return NULL;
    PyObject *r = Api_post_mortem_py(module, args);
    Py_DECREF(args);
    return r;
}

static PyObject *
call_new(const char *meth, PyObject *args, PyObject *kwds)
{
    PyObject *p = new_pdb();
    if (!p)
        return NULL;
    PyObject *m = PyObject_GetAttrString(p, meth);
    PyObject *r = m ? PyObject_Call(m, args, kwds) : NULL;
    Py_XDECREF(m);
    Py_DECREF(p);
    return r;
}

/* pdb.run/runeval/runctx: a new Pdb's method with pdb's parameter names. */
static PyObject *
run_new(const char *meth, const char *fmt, char **kwlist, PyObject *args, PyObject *kwds)
{
    PyObject *cmd, *g = Py_None, *l = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, fmt, kwlist, &cmd, &g, &l))
        return NULL;
    PyObject *p = new_pdb();
    if (!p)
        return NULL;
    PyObject *r = PyObject_CallMethod(p, meth, "OOO", cmd, g, l);
    Py_DECREF(p);
    return r;
}

PyObject *
Api_run_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    SLEUTH_UNUSED(module);
    static char *kwlist[] = {"statement", "globals", "locals", NULL};
    PyObject *r = run_new("run", "O|OO:run", kwlist, args, kwds);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

PyObject *
Api_runctx_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    SLEUTH_UNUSED(module);
    static char *kwlist[] = {"statement", "globals", "locals", NULL};
    PyObject *r = run_new("run", "OOO:runctx", kwlist, args, kwds);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

PyObject *
Api_runeval_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    SLEUTH_UNUSED(module);
    static char *kwlist[] = {"expression", "globals", "locals", NULL};
    return run_new("runeval", "O|OO:runeval", kwlist, args, kwds);
}

PyObject *
Api_runcall_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    SLEUTH_UNUSED(module);
    return call_new("runcall", args, kwds);
}

/* open_snapshot(exc, tb, environment, threads): the terminal frontend on a
 * saved failure (sleuth open FILE). Frames, tracebacks and exceptions are
 * duck-typed objects from the evidence loader; nothing can be executed:
 * commands that need a running program answer one line saying so. */
PyObject *
Api_open_snapshot_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    SLEUTH_UNUSED(module);
    static char *kwlist[] = {"exc", "tb", "environment", "threads", "stdin", "stdout", NULL};
    PyObject *exc = Py_None, *tb = Py_None, *env = Py_None, *threads = Py_None;
    PyObject *in = Py_None, *out = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|OOOO:open_snapshot", kwlist, &exc, &tb, &env,
                                     &threads, &in, &out))
        return NULL;
    SLEUTH_UNUSED(threads);
    PyObject *p = PyObject_CallFunction((PyObject *)Sleuth_state()->PdbType, "sOOOii", "tab", in, out,
                                        Py_None, 1, 0);
    if (!p)
        return NULL;
    PdbObject *d = (PdbObject *)p;
    d->readonly = 1;
    if (env != Py_None)
        d->snapshot_env = Py_NewRef(env);
    PyObject *target = exc != Py_None ? exc : tb;
    if (target == Py_None) {
        Py_DECREF(p);
        PyErr_SetString(PyExc_ValueError, "open_snapshot() needs an exception or a traceback");
        return NULL;
    }
    int r = Api_post_mortem(d, target);
    Py_DECREF(p);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}
