/* tbformat.c — stdlib traceback text with safe locals (see tbformat.h). */
#include "tbformat.h"
#include "redact.h"
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

/* Borrowed value of `key` removed from `kwargs` into *out (new ref), or
 * *out = NULL when absent. */
static int
pop_key(PyObject *kwargs, const char *key, PyObject **out)
{
    *out = NULL;
    if (!kwargs)
        return 0;
    PyObject *v = PyDict_GetItemString(kwargs, key);   /* borrowed */
    if (!v)
        return PyErr_Occurred() ? -1 : 0;
    *out = Py_NewRef(v);
    if (PyDict_DelItemString(kwargs, key) < 0) {
        Py_CLEAR(*out);
        return -1;
    }
    return 0;
}

int
TbFormat_pop_options(PyObject *kwargs, TbFormat_Options *o)
{
    /* Owned */
    PyObject *locals = NULL, *max_length = NULL, *max_items = NULL, *max_depth = NULL;
    PyObject *timeout = NULL, *total = NULL, *redact = NULL, *extra = NULL;
    PyObject *names = NULL, *patterns = NULL, *values = NULL;
    int rc = -1;

    o->locals = 0;
    SafeRepr_options_default(&o->repr);
    if (pop_key(kwargs, "locals", &locals) < 0 || pop_key(kwargs, "max_length", &max_length) < 0
            || pop_key(kwargs, "max_items", &max_items) < 0
            || pop_key(kwargs, "max_depth", &max_depth) < 0
            || pop_key(kwargs, "repr_timeout", &timeout) < 0
            || pop_key(kwargs, "total_repr_timeout", &total) < 0
            || pop_key(kwargs, "redact", &redact) < 0
            || pop_key(kwargs, "redact_extra", &extra) < 0
            || pop_key(kwargs, "redact_names", &names) < 0
            || pop_key(kwargs, "redact_patterns", &patterns) < 0
            || pop_key(kwargs, "redact_values", &values) < 0)
        goto done;
    if (locals) {
        o->locals = PyObject_IsTrue(locals);
        if (o->locals < 0)
            goto done;
    }
    if (max_length && max_length != Py_None) {
        o->repr.max_chars = PyLong_AsSsize_t(max_length);
        if (o->repr.max_chars == -1 && PyErr_Occurred())
            goto done;
        if (o->repr.max_chars < 8) {
            PyErr_SetString(PyExc_ValueError, "max_length must be at least 8");
            goto done;
        }
    }
    if (max_items && max_items != Py_None) {
        o->repr.max_items = PyLong_AsSsize_t(max_items);
        if (o->repr.max_items == -1 && PyErr_Occurred())
            goto done;
        if (o->repr.max_items < 0) {
            PyErr_SetString(PyExc_ValueError, "max_items must not be negative");
            goto done;
        }
    }
    if (max_depth && max_depth != Py_None) {
        long d = PyLong_AsLong(max_depth);
        if (d == -1 && PyErr_Occurred())
            goto done;
        if (d < 0 || d > SAFEREPR_MAX_DEPTH_LIMIT) {
            PyErr_Format(PyExc_ValueError, "max_depth must be between 0 and %d",
                         SAFEREPR_MAX_DEPTH_LIMIT);
            goto done;
        }
        o->repr.max_depth = (int)d;
    }
    if (timeout && timeout != Py_None) {
        o->repr.max_seconds = PyFloat_AsDouble(timeout);
        if (o->repr.max_seconds == -1.0 && PyErr_Occurred())
            goto done;
    }
    if (total && total != Py_None) {
        o->repr.total_seconds = PyFloat_AsDouble(total);
        if (o->repr.total_seconds == -1.0 && PyErr_Occurred())
            goto done;
    }
    o->repr.redact = Redact_build_full(redact, extra, names, patterns, values);
    if (!o->repr.redact)
        goto done;
    rc = 0;
done:
    Py_XDECREF(locals);
    Py_XDECREF(max_length);
    Py_XDECREF(max_items);
    Py_XDECREF(max_depth);
    Py_XDECREF(timeout);
    Py_XDECREF(total);
    Py_XDECREF(redact);
    Py_XDECREF(extra);
    Py_XDECREF(names);
    Py_XDECREF(patterns);
    Py_XDECREF(values);
    return rc;
}

void
TbFormat_options_clear(TbFormat_Options *o)
{
    Py_CLEAR(o->repr.redact);
}

/* ------------------------------------------------------------------------ */
/* Locals                                                                   */

static int
is_dunder(PyObject *name)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(name, &n);
    if (!s) {
        PyErr_Clear();
        return 0;
    }
    return n > 4 && s[0] == '_' && s[1] == '_' && s[n - 1] == '_' && s[n - 2] == '_';
}

PyObject *
TbFormat_frame_locals(PyObject *frame, SafeRepr_Context *c)
{
    /* Owned */
    PyObject *locals = NULL, *globals = NULL, *items = NULL, *out = NULL;

    locals = PyFrame_GetLocals((PyFrameObject *)frame);
    if (!locals)
        goto error;
    globals = PyFrame_GetGlobals((PyFrameObject *)frame);
    if (!globals)
        goto error;
    int module_level = locals == globals;
    items = PyMapping_Items(locals);
    if (!items)
        goto error;
    out = PyDict_New();
    if (!out)
        goto error;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2)
            continue;
        PyObject *name = PyTuple_GET_ITEM(pair, 0), *value = PyTuple_GET_ITEM(pair, 1);
        if (!PyUnicode_Check(name) || (module_level && is_dunder(name)))
            continue;
        PyObject *text = SafeRepr_named(c, name, value);
        if (!text)
            goto error;
        int rc = PyDict_SetItem(out, name, text);
        Py_DECREF(text);
        if (rc < 0)
            goto error;
    }
    Py_DECREF(locals);
    Py_DECREF(globals);
    Py_DECREF(items);
    return out;
error:
    Py_XDECREF(locals);
    Py_XDECREF(globals);
    Py_XDECREF(items);
    Py_XDECREF(out);
    return NULL;
}

/* The limit that traceback.extract_tb applies: the argument, else
 * sys.tracebacklimit; -1 in *has when there is none. */
static int
effective_limit(PyObject *limit, Py_ssize_t *value)
{
    if (!limit || limit == Py_None)
        limit = PySys_GetObject("tracebacklimit");     /* borrowed */
    if (!limit || limit == Py_None || !PyLong_Check(limit))
        return 0;
    *value = PyLong_AsSsize_t(limit);
    if (*value == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

int
TbFormat_fill_stack(PyObject *stack, PyObject *tb, PyObject *limit, SafeRepr_Context *c)
{
    /* Owned */
    PyObject *frames = NULL, *fs = NULL, *d = NULL;
    int rc = -1;

    frames = PyList_New(0);
    if (!frames)
        goto done;
    for (PyObject *t = tb; t && PyTraceBack_Check(t); t = (PyObject *)((PyTracebackObject *)t)->tb_next)
        if (PyList_Append(frames, (PyObject *)((PyTracebackObject *)t)->tb_frame) < 0)
            goto done;
    Py_ssize_t n = PySequence_Size(stack), m = PyList_GET_SIZE(frames), lim = 0, offset = 0;
    if (n < 0)
        goto done;
    /* A negative limit keeps the innermost frames (see extract_tb). */
    if (effective_limit(limit, &lim) && lim < 0 && m > n)
        offset = m - n;
    for (Py_ssize_t i = 0; i < n && offset + i < m; i++) {
        fs = PySequence_GetItem(stack, i);
        if (!fs)
            goto done;
        d = TbFormat_frame_locals(PyList_GET_ITEM(frames, offset + i), c);
        if (!d || PyObject_SetAttrString(fs, "locals", d) < 0)
            goto done;
        Py_CLEAR(d);
        Py_CLEAR(fs);
    }
    rc = 0;
done:
    Py_XDECREF(frames);
    Py_XDECREF(fs);
    Py_XDECREF(d);
    return rc;
}

/* Walk a TracebackException and the exception it was built from side by
 * side (cause, context, group members) and fill every stack. */
static int
fill_te(PyObject *te, PyObject *exc, PyObject *tb, PyObject *limit, SafeRepr_Context *c,
        PyObject *seen)
{
    /* Owned */
    PyObject *key = NULL, *stack = NULL, *sub_te = NULL, *sub_exc = NULL, *sub_tb = NULL;
    PyObject *te_list = NULL, *exc_list = NULL;
    static const char *const links[] = {"__cause__", "__context__"};
    int rc = -1;

    if (te == Py_None || !PyExceptionInstance_Check(exc))
        return 0;
    key = PyLong_FromVoidPtr(te);
    if (!key)
        return -1;
    int already = PySet_Contains(seen, key);
    if (already != 0) {
        Py_DECREF(key);
        return already < 0 ? -1 : 0;
    }
    if (PySet_Add(seen, key) < 0 || Py_EnterRecursiveCall(" in sleuth traceback locals")) {
        Py_DECREF(key);
        return -1;
    }
    stack = PyObject_GetAttrString(te, "stack");
    if (!stack || TbFormat_fill_stack(stack, tb, limit, c) < 0)
        goto done;
    for (int i = 0; i < 2; i++) {
        sub_te = PyObject_GetAttrString(te, links[i]);
        if (!sub_te)
            goto done;
        sub_exc = i == 0 ? PyException_GetCause(exc) : PyException_GetContext(exc);
        if (sub_te != Py_None && sub_exc) {
            sub_tb = PyException_GetTraceback(sub_exc);
            if (fill_te(sub_te, sub_exc, sub_tb, limit, c, seen) < 0)
                goto done;
        }
        Py_CLEAR(sub_te);
        Py_CLEAR(sub_exc);
        Py_CLEAR(sub_tb);
    }
    /* Exception groups: te.exceptions lines up with exc.exceptions. */
    if (PyObject_GetOptionalAttrString(te, "exceptions", &te_list) < 0)
        goto done;
    if (te_list && PyList_Check(te_list)) {
        if (PyObject_GetOptionalAttrString(exc, "exceptions", &exc_list) < 0)
            goto done;
        if (exc_list && PyTuple_Check(exc_list)) {
            Py_ssize_t n = PyList_GET_SIZE(te_list);
            for (Py_ssize_t i = 0; i < n && i < PyTuple_GET_SIZE(exc_list); i++) {
                PyObject *e = PyTuple_GET_ITEM(exc_list, i);
                if (!PyExceptionInstance_Check(e))
                    continue;
                sub_tb = PyException_GetTraceback(e);
                int r = fill_te(PyList_GET_ITEM(te_list, i), e, sub_tb, limit, c, seen);
                Py_CLEAR(sub_tb);
                if (r < 0)
                    goto done;
            }
        }
    }
    rc = 0;
done:
    Py_LeaveRecursiveCall();
    Py_XDECREF(key);
    Py_XDECREF(stack);
    Py_XDECREF(sub_te);
    Py_XDECREF(sub_exc);
    Py_XDECREF(sub_tb);
    Py_XDECREF(te_list);
    Py_XDECREF(exc_list);
    return rc;
}

PyObject *
TbFormat_exception_lines(PyObject *stdlib, PyObject *value, PyObject *tb, PyObject *limit,
                         int chain, const TbFormat_Options *o)
{
    /* Owned */
    PyObject *te_type = NULL, *args = NULL, *kw = NULL, *te = NULL;
    PyObject *seen = NULL, *gen = NULL, *lines = NULL;
    SafeRepr_Context c;
    memset(&c, 0, sizeof c);
    int ctx_open = 0;

    te_type = PyObject_GetAttrString(stdlib, "TracebackException");
    if (!te_type)
        goto done;
    args = PyTuple_Pack(3, (PyObject *)Py_TYPE(value), value, tb ? tb : Py_None);
    kw = Py_BuildValue("{sOsO}", "limit", limit ? limit : Py_None, "compact", Py_True);
    if (!args || !kw)
        goto done;
    te = PyObject_Call(te_type, args, kw);
    if (!te)
        goto done;
    seen = PySet_New(NULL);
    if (!seen)
        goto done;
    SafeRepr_begin(&c, &o->repr);
    ctx_open = 1;
    c.keep_found = 1;       /* the secrets of the locals are scrubbed below */
    Redact_note_rules(&c.found, o->repr.redact);
    Redact_note_environ(&c.found, o->repr.redact);
    if (fill_te(te, value, tb ? tb : Py_None, limit, &c, seen) < 0)
        goto done;
    SafeRepr_end(&c);
    ctx_open = 0;
    Py_DECREF(kw);
    kw = Py_BuildValue("{sO}", "chain", chain ? Py_True : Py_False);
    if (!kw)
        goto done;
    {
        PyObject *meth = PyObject_GetAttrString(te, "format");
        PyObject *empty = PyTuple_New(0);
        if (meth && empty)
            gen = PyObject_Call(meth, empty, kw);
        Py_XDECREF(meth);
        Py_XDECREF(empty);
    }
    if (!gen)
        goto done;
    lines = PySequence_List(gen);
    /* With locals shown, a secret hidden in one place is hidden in all:
     * source lines, the message, notes, other locals (redact.h). */
    if (lines && o->locals && Redact_scrub_lines(o->repr.redact, &c.found, lines) < 0)
        Py_CLEAR(lines);
done:
    if (ctx_open)
        SafeRepr_end(&c);
    Redact_found_clear(&c.found);
    Py_XDECREF(te_type);
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_XDECREF(te);
    Py_XDECREF(seen);
    Py_XDECREF(gen);
    return lines;
}
