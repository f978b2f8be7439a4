/* hooks.c — pdb's overridable methods (see hooks.h): which ones a Python
 * subclass or a patch replaced, the event path through them, and the C
 * methods (trace_dispatch, dispatch_*, user_*, stop_here, break_here,
 * preloop, postloop) that an override reaches with super(). */
#include "hooks.h"
#include "engine.h"

/* In bit order (hooks.h). */
static const char *const hook_names[] = {
    "trace_dispatch", "dispatch_line", "dispatch_call", "dispatch_return", "dispatch_exception",
    "user_line", "user_call", "user_return", "user_exception", "stop_here", "break_here",
    "interaction", "message", "error", "preloop", "postloop",
};
#define N_HOOKS ((int)(sizeof hook_names / sizeof hook_names[0]))

static const char *const event_names[] = {"line", "call", "return", "exception"};

int
Hooks_init(ModState *st)
{
    PyObject *orig = PyTuple_New(N_HOOKS);
    if (!orig)
        return -1;
    for (int i = 0; i < N_HOOKS; i++) {
        PyObject *m = PyObject_GetAttrString((PyObject *)st->PdbType, hook_names[i]);
        if (!m) {
            Py_DECREF(orig);
            return -1;
        }
        PyTuple_SET_ITEM(orig, i, m);
    }
    Py_XSETREF(st->hook_orig, orig);
    return 0;
}

int
Hooks_refresh(PdbObject *self)
{
    ModState *st = Sleuth_state();
    PyObject *tp = (PyObject *)Py_TYPE(self);
    int mask = 0;
    if (!st->hook_orig)
        return 0;
    for (int i = 0; i < N_HOOKS; i++) {
        if (self->dict && PyDict_GET_SIZE(self->dict) > 0) {
            PyObject *own = PyDict_GetItemString(self->dict, hook_names[i]);
            if (own) {
                mask |= 1 << i;
                continue;
            }
        }
        PyObject *cur = PyObject_GetAttrString(tp, hook_names[i]);
        if (!cur)
            return -1;
        if (cur != PyTuple_GET_ITEM(st->hook_orig, i))
            mask |= 1 << i;
        Py_DECREF(cur);
    }
    self->hooks = mask;
    return 0;
}

int
Hooks_call_bool(PdbObject *self, const char *name, PyObject *frame)
{
    PyObject *r = PyObject_CallMethod((PyObject *)self, name, "O", frame);
    if (!r)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* bdb's form of an exception event's argument. */
static PyObject *
exc_info_of(PyObject *exc, PyObject *tb)
{
    PyObject *own = tb ? NULL : PyException_GetTraceback(exc);
    PyObject *r = PyTuple_Pack(3, (PyObject *)Py_TYPE(exc), exc, tb ? tb : own ? own : Py_None);
    Py_XDECREF(own);
    return r;
}

/* What bdb's dispatch_* return: the trace function for the scope. */
static PyObject *
trace_function(PdbObject *self)
{
    return PyObject_GetAttrString((PyObject *)self, "trace_dispatch");
}

/* dispatch_<ev>, overridden or sleuth's own; new reference or NULL. */
static PyObject *
dispatch_event(PdbObject *self, PyObject *frame, HookEvent ev, PyObject *arg, PyObject *tb)
{
    static const int bits[] = {HOOK_DISPATCH_LINE, HOOK_DISPATCH_CALL, HOOK_DISPATCH_RETURN,
                               HOOK_DISPATCH_EXCEPTION};
    static const char *const meths[] = {"dispatch_line", "dispatch_call", "dispatch_return",
                                        "dispatch_exception"};
    if (self->hooks & bits[ev]) {
        if (ev == EV_NAME_LINE)
            return PyObject_CallMethod((PyObject *)self, meths[ev], "O", frame);
        PyObject *a = ev == EV_NAME_EXCEPTION ? exc_info_of(arg, tb) : Py_NewRef(arg ? arg : Py_None);
        if (!a)
            return NULL;
        PyObject *r = PyObject_CallMethod((PyObject *)self, meths[ev], "OO", frame, a);
        Py_DECREF(a);
        return r;
    }
    int r;
    switch (ev) {
    case EV_NAME_LINE:
        r = Engine_line_c(self, frame, -1);
        break;
    case EV_NAME_CALL:
        r = Engine_call_c(self, frame);
        break;
    case EV_NAME_RETURN:
        r = Engine_return_c(self, frame, arg ? arg : Py_None);
        break;
    default:
        r = Engine_exception_c(self, frame, arg, tb);
        break;
    }
    if (r < 0)
        return NULL;
    return trace_function(self);
}

int
Hooks_dispatch(PdbObject *self, PyObject *frame, HookEvent ev, PyObject *arg, PyObject *tb)
{
    PyObject *r;
    if (self->hooks & HOOK_TRACE_DISPATCH) {
        PyObject *a = ev == EV_NAME_EXCEPTION ? exc_info_of(arg, tb) : Py_NewRef(arg ? arg : Py_None);
        if (!a)
            return -1;
        r = PyObject_CallMethod((PyObject *)self, "trace_dispatch", "OsO", frame, event_names[ev], a);
        Py_DECREF(a);
    } else {
        r = dispatch_event(self, frame, ev, arg, tb);
    }
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* --- the C methods an override reaches with super() ---------------------- */

/* The exception of bdb's (type, value, traceback), or NULL with TypeError;
 * *tb: the traceback given (borrowed), or NULL for the exception's own. */
static PyObject *
exc_from_info(PyObject *info, PyObject **tb)
{
    PyObject *v = info;
    *tb = NULL;
    if (PyTuple_Check(info) && PyTuple_GET_SIZE(info) == 3) {
        v = PyTuple_GET_ITEM(info, 1);
        *tb = PyTuple_GET_ITEM(info, 2);
    }
    if (!PyExceptionInstance_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "expected (type, value, traceback) of an exception");
        return NULL;
    }
    return v;
}

static PyObject *
Hooks_trace_dispatch_py(PdbObject *self, PyObject *args)
{
    PyObject *frame, *event, *arg;
    if (!PyArg_ParseTuple(args, "OUO:trace_dispatch", &frame, &event, &arg))
        return NULL;
    if (self->quitting)
        Py_RETURN_NONE;
    int ev = -1;
    for (int i = 0; i < 4; i++)
        if (PyUnicode_CompareWithASCIIString(event, event_names[i]) == 0)
            ev = i;
    if (ev < 0) {
        /* c_call, c_return, c_exception, opcode: nothing to decide. */
        return trace_function(self);
    }
    PyObject *tb = NULL;
    if (ev == EV_NAME_EXCEPTION) {
        arg = exc_from_info(arg, &tb);
        if (!arg)
            return NULL;
    }
    return dispatch_event(self, frame, (HookEvent)ev, arg, tb);
}

static PyObject *
Hooks_dispatch_line_py(PdbObject *self, PyObject *frame)
{
    if (Engine_line_c(self, frame, -1) < 0)
        return NULL;
    return trace_function(self);
}

static PyObject *
Hooks_dispatch_call_py(PdbObject *self, PyObject *args)
{
    PyObject *frame, *arg;
    if (!PyArg_ParseTuple(args, "OO:dispatch_call", &frame, &arg))
        return NULL;
    if (Engine_call_c(self, frame) < 0)
        return NULL;
    return trace_function(self);
}

static PyObject *
Hooks_dispatch_return_py(PdbObject *self, PyObject *args)
{
    PyObject *frame, *arg;
    if (!PyArg_ParseTuple(args, "OO:dispatch_return", &frame, &arg))
        return NULL;
    if (Engine_return_c(self, frame, arg) < 0)
        return NULL;
    return trace_function(self);
}

static PyObject *
Hooks_dispatch_exception_py(PdbObject *self, PyObject *args)
{
    PyObject *frame, *arg;
    if (!PyArg_ParseTuple(args, "OO:dispatch_exception", &frame, &arg))
        return NULL;
    PyObject *tb;
    PyObject *exc = exc_from_info(arg, &tb);
    if (!exc || Engine_exception_c(self, frame, exc, tb) < 0)
        return NULL;
    return trace_function(self);
}

static PyObject *
Hooks_user_line_py(PdbObject *self, PyObject *frame)
{
    if (Pdb_user_line_c(self, frame) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Hooks_user_call_py(PdbObject *self, PyObject *args)
{
    PyObject *frame, *arglist;
    if (!PyArg_ParseTuple(args, "OO:user_call", &frame, &arglist))
        return NULL;
    if (Pdb_user_call_c(self, frame) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Hooks_user_return_py(PdbObject *self, PyObject *args)
{
    PyObject *frame, *retval;
    if (!PyArg_ParseTuple(args, "OO:user_return", &frame, &retval))
        return NULL;
    if (Pdb_user_return_c(self, frame, retval) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Hooks_user_exception_py(PdbObject *self, PyObject *args)
{
    PyObject *frame, *info;
    if (!PyArg_ParseTuple(args, "OO:user_exception", &frame, &info))
        return NULL;
    PyObject *tb;
    PyObject *exc = exc_from_info(info, &tb);
    if (!exc || Pdb_user_exception_c(self, frame, exc, tb) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Hooks_stop_here_py(PdbObject *self, PyObject *frame)
{
    int r = Engine_stop_here(self, frame);
    if (r < 0)
        return NULL;
    return PyBool_FromLong(r);
}

static PyObject *
Hooks_break_here_py(PdbObject *self, PyObject *frame)
{
    int r = Engine_break_here(self, frame);
    if (r < 0)
        return NULL;
    return PyBool_FromLong(r);
}

static PyObject *
Hooks_preloop_py(PdbObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    if (Pdb_preloop_c(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Hooks_postloop_py(PdbObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(self);
    SLEUTH_UNUSED(unused);
    Py_RETURN_NONE;
}

PyMethodDef Hooks_methods[] = {
    {"trace_dispatch", (PyCFunction)Hooks_trace_dispatch_py, METH_VARARGS,
     "trace_dispatch(frame, event, arg)\n--\n\nbdb's dispatcher: one event through dispatch_*."},
    {"dispatch_line", (PyCFunction)Hooks_dispatch_line_py, METH_O, NULL},
    {"dispatch_call", (PyCFunction)Hooks_dispatch_call_py, METH_VARARGS, NULL},
    {"dispatch_return", (PyCFunction)Hooks_dispatch_return_py, METH_VARARGS, NULL},
    {"dispatch_exception", (PyCFunction)Hooks_dispatch_exception_py, METH_VARARGS, NULL},
    {"user_line", (PyCFunction)Hooks_user_line_py, METH_O, NULL},
    {"user_call", (PyCFunction)Hooks_user_call_py, METH_VARARGS, NULL},
    {"user_return", (PyCFunction)Hooks_user_return_py, METH_VARARGS, NULL},
    {"user_exception", (PyCFunction)Hooks_user_exception_py, METH_VARARGS, NULL},
    {"stop_here", (PyCFunction)Hooks_stop_here_py, METH_O, NULL},
    {"break_here", (PyCFunction)Hooks_break_here_py, METH_O, NULL},
    {"preloop", (PyCFunction)Hooks_preloop_py, METH_NOARGS, NULL},
    {"postloop", (PyCFunction)Hooks_postloop_py, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};
