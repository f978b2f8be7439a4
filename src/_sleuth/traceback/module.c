/* module.c — sleuth._traceback: the traceback module's functions with safe
 * locals. Without sleuth's options every call is forwarded unchanged to the
 * standard library, so the text is byte-identical on each Python version.
 */
#include "compat.h"
#include "redact.h"
#include "saferepr.h"
#include "stdfunc.h"
#include "tbformat.h"

/* The standard library's traceback module, imported once: at interpreter
 * exit (a __del__ printing an exception) it may be gone from sys.modules
 * and importing it again fails. */
typedef struct {
    PyObject *stdlib;
} tb_state;

static PyObject *
stdlib_of(PyObject *module)         /* borrowed */
{
    return ((tb_state *)PyModule_GetState(module))->stdlib;
}

/* Copy of kwargs that we may pop our options from (new dict). */
static PyObject *
kwargs_copy(PyObject *kwargs)
{
    return kwargs ? PyDict_Copy(kwargs) : PyDict_New();
}

/* traceback.<name>(*args, **kwargs) */
static PyObject *
call_stdlib(PyObject *module, const char *name, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *func = NULL, *res = NULL;

    func = PyObject_GetAttrString(stdlib_of(module), name);
    if (!func)
        goto done;
    res = PyObject_Call(func, args, PyDict_GET_SIZE(kwargs) ? kwargs : NULL);
done:
    Py_XDECREF(func);
    return res;
}

/* traceback._parse_value_tb(exc, value, tb) -> (value, tb), new refs. */
static int
parse_value_tb(PyObject *module, PyObject *exc, PyObject *value, PyObject *tb,
               PyObject **v_out, PyObject **tb_out)
{
    /* Owned */
    PyObject *res = NULL;
    int rc = -1;

    res = PyObject_CallMethod(stdlib_of(module), "_parse_value_tb", "OOO", exc, value, tb);
    if (!res)
        goto done;
    if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 2) {
        PyErr_SetString(PyExc_RuntimeError, "unexpected traceback._parse_value_tb result");
        goto done;
    }
    *v_out = Py_NewRef(PyTuple_GET_ITEM(res, 0));
    *tb_out = Py_NewRef(PyTuple_GET_ITEM(res, 1));
    rc = 0;
done:
    Py_XDECREF(res);
    return rc;
}

static PyObject *
get_sentinel(PyObject *module)
{
    return PyObject_GetAttrString(stdlib_of(module), "_sentinel");
}

/* The text signatures say `value=..., tb=...` (inspect can only show
 * constants; the standard library's default is a private sentinel, shown
 * as <implicit>): Ellipsis given for value or tb means "not given". Returns
 * new references to args and kw with each such Ellipsis replaced by the
 * standard library's sentinel, or -1 with an exception. */
static int
implicit_value_tb(PyObject *module, PyObject **args, PyObject *kw)
{
    /* Owned */
    PyObject *sentinel = NULL, *copy = NULL;
    static const char *names[] = {"value", "tb"};
    int rc = -1;

    sentinel = get_sentinel(module);
    if (!sentinel)
        goto done;
    for (Py_ssize_t i = 1; i <= 2 && i < PyTuple_GET_SIZE(*args); i++) {
        if (PyTuple_GET_ITEM(*args, i) != Py_Ellipsis)
            continue;
        if (!copy) {
            /* A new tuple (PyTuple_GetSlice of the whole would share it). */
            copy = PyTuple_New(PyTuple_GET_SIZE(*args));
            if (!copy)
                goto done;
            for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(*args); j++)
                PyTuple_SET_ITEM(copy, j, Py_NewRef(PyTuple_GET_ITEM(*args, j)));
        }
        Py_DECREF(PyTuple_GET_ITEM(copy, i));
        PyTuple_SET_ITEM(copy, i, Py_NewRef(sentinel));
    }
    for (int i = 0; i < 2; i++) {
        PyObject *v = PyDict_GetItemString(kw, names[i]);      /* borrowed */
        if (v == Py_Ellipsis && PyDict_SetItemString(kw, names[i], sentinel) < 0)
            goto done;
    }
    *args = copy ? Py_NewRef(copy) : Py_NewRef(*args);
    rc = 0;
done:
    Py_XDECREF(copy);
    Py_XDECREF(sentinel);
    return rc;
}

/* Write each line to `file` (sys.stderr when None), like TracebackException.print. */
static PyObject *
write_lines(PyObject *lines, PyObject *file)
{
    if (!file || file == Py_None)
        file = PySys_GetObject("stderr");   /* borrowed */
    if (!file || file == Py_None)
        Py_RETURN_NONE;
    Py_INCREF(file);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++) {
        if (PyFile_WriteObject(PyList_GET_ITEM(lines, i), file, Py_PRINT_RAW) < 0) {
            Py_DECREF(file);
            return NULL;
        }
    }
    Py_DECREF(file);
    Py_RETURN_NONE;
}

static PyObject *
join_lines(PyObject *lines)
{
    PyObject *empty = PyUnicode_FromString("");
    if (!empty)
        return NULL;
    PyObject *res = PyUnicode_Join(empty, lines);
    Py_DECREF(empty);
    return res;
}

/* Lines for format_exception/print_exception with locals: NULL + error, or
 * a list. `*plain` is set when the stdlib must be used instead (no
 * exception object to read frames from). */
static PyObject *
exception_lines(PyObject *module, PyObject *exc, PyObject *value, PyObject *tb,
                PyObject *limit, int chain, const TbFormat_Options *o)
{
    /* Owned */
    PyObject *v = NULL, *t = NULL, *lines = NULL;

    if (parse_value_tb(module, exc, value, tb, &v, &t) < 0)
        goto done;
    lines = TbFormat_exception_lines(stdlib_of(module), v, t, limit, chain, o);
done:
    Py_XDECREF(v);
    Py_XDECREF(t);
    return lines;
}

/* The docstrings start with the full call, sleuth's options included: the
 * runtime signature (inspect.signature) is the standard library's, so help()
 * and the .pyi stub are where the options are shown. */
#define SLEUTH_TB_OPTIONS \
    "\n    *, locals=False, max_length=200, max_items=25, max_depth=4, repr_timeout=0.1,\n" \
    "    total_repr_timeout=2.0, redact=None, redact_extra=None, redact_names=None,\n" \
    "    redact_patterns=None, redact_values=None"

#define SLEUTH_TB_OPTIONS_DOC \
"\n\nsleuth's keyword-only options (none given: the standard library's text):\n" \
"  locals=False            add '    name = safe repr' lines under each frame\n" \
"                          (sorted by name)\n" \
"  max_length=200          characters per value\n" \
"  max_items=25            container items shown\n" \
"  max_depth=4             nesting levels shown\n" \
"  repr_timeout=0.1        seconds of user __repr__ code per value\n" \
"  total_repr_timeout=2.0  seconds of user __repr__ code per call\n" \
"  redact=None             patterns that replace DEFAULT_REDACT\n" \
"  redact_extra=None       patterns added to them\n" \
"  redact_names=None, redact_patterns=None, redact_values=None\n" \
"                          names (whole words), regular expressions and\n" \
"                          literal values to hide as well (docs/traceback.md)"

PyDoc_STRVAR(format_exception_doc,
"format_exception(exc, /, value=<implicit>, tb=<implicit>, limit=None, chain=True,"
SLEUTH_TB_OPTIONS SLEUTH_TB_VARKW_DOC ")\n\n"
"traceback.format_exception, with sleuth's options. value and tb left out\n"
"(or given as ...) are the exception's own."
SLEUTH_TB_OPTIONS_DOC);

static PyObject *
tb_format_exception(PyObject *module, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *kw = NULL, *sentinel = NULL, *res = NULL;
    /* Borrowed */
    PyObject *exc, *value, *tb, *limit = Py_None;
    int chain = 1;
    static char *kwlist[] = {"", "value", "tb", "limit", "chain", NULL};
    TbFormat_Options o = {0};

    kw = kwargs_copy(kwargs);
    if (!kw || TbFormat_pop_options(kw, &o) < 0 || implicit_value_tb(module, &args, kw) < 0) {
        args = NULL;
        goto done;
    }
    if (!o.locals) {
        res = call_stdlib(module, "format_exception", args, kw);
        goto done;
    }
    sentinel = get_sentinel(module);
    if (!sentinel)
        goto done;
    value = tb = sentinel;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOp:format_exception", kwlist,
                                     &exc, &value, &tb, &limit, &chain))
        goto done;
    res = exception_lines(module, exc, value, tb, limit, chain, &o);
done:
    TbFormat_options_clear(&o);
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_XDECREF(sentinel);
    return res;
}

PyDoc_STRVAR(print_exception_doc,
"print_exception(exc, /, value=<implicit>, tb=<implicit>, limit=None, file=None, chain=True,"
SLEUTH_TB_OPTIONS SLEUTH_TB_VARKW_DOC ")\n\n"
"traceback.print_exception, with sleuth's options."
SLEUTH_TB_OPTIONS_DOC);

static PyObject *
tb_print_exception(PyObject *module, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *kw = NULL, *sentinel = NULL, *lines = NULL, *res = NULL;
    /* Borrowed */
    PyObject *exc, *value, *tb, *limit = Py_None, *file = Py_None;
    int chain = 1;
    static char *kwlist[] = {"", "value", "tb", "limit", "file", "chain", NULL};
    TbFormat_Options o = {0};

    kw = kwargs_copy(kwargs);
    if (!kw || TbFormat_pop_options(kw, &o) < 0 || implicit_value_tb(module, &args, kw) < 0) {
        args = NULL;
        goto done;
    }
    if (!o.locals) {
        res = call_stdlib(module, "print_exception", args, kw);
        goto done;
    }
    sentinel = get_sentinel(module);
    if (!sentinel)
        goto done;
    value = tb = sentinel;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOOOp:print_exception", kwlist,
                                     &exc, &value, &tb, &limit, &file, &chain))
        goto done;
    lines = exception_lines(module, exc, value, tb, limit, chain, &o);
    if (!lines)
        goto done;
    res = write_lines(lines, file);
done:
    TbFormat_options_clear(&o);
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_XDECREF(sentinel);
    Py_XDECREF(lines);
    return res;
}

PyDoc_STRVAR(format_exc_doc,
"format_exc(limit=None, chain=True," SLEUTH_TB_OPTIONS ")\n\n"
"traceback.format_exc, with sleuth's options."
SLEUTH_TB_OPTIONS_DOC);

static PyObject *
tb_format_exc(PyObject *module, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *kw = NULL, *exc = NULL, *tb = NULL, *lines = NULL, *res = NULL;
    /* Borrowed */
    PyObject *limit = Py_None;
    int chain = 1;
    static char *kwlist[] = {"limit", "chain", NULL};
    TbFormat_Options o = {0};

    kw = kwargs_copy(kwargs);
    if (!kw || TbFormat_pop_options(kw, &o) < 0)
        goto done;
    exc = PyErr_GetHandledException();
    if (!o.locals || !exc || exc == Py_None) {
        res = call_stdlib(module, "format_exc", args, kw);
        goto done;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Op:format_exc", kwlist, &limit, &chain))
        goto done;
    tb = PyException_GetTraceback(exc);
    lines = TbFormat_exception_lines(stdlib_of(module), exc, tb, limit, chain, &o);
    if (!lines)
        goto done;
    res = join_lines(lines);
done:
    TbFormat_options_clear(&o);
    Py_XDECREF(kw);
    Py_XDECREF(exc);
    Py_XDECREF(tb);
    Py_XDECREF(lines);
    return res;
}

PyDoc_STRVAR(print_exc_doc,
"print_exc(limit=None, file=None, chain=True," SLEUTH_TB_OPTIONS ")\n\n"
"traceback.print_exc, with sleuth's options."
SLEUTH_TB_OPTIONS_DOC);

static PyObject *
tb_print_exc(PyObject *module, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *kw = NULL, *exc = NULL, *tb = NULL, *lines = NULL, *res = NULL;
    /* Borrowed */
    PyObject *limit = Py_None, *file = Py_None;
    int chain = 1;
    static char *kwlist[] = {"limit", "file", "chain", NULL};
    TbFormat_Options o = {0};

    kw = kwargs_copy(kwargs);
    if (!kw || TbFormat_pop_options(kw, &o) < 0)
        goto done;
    exc = PyErr_GetHandledException();
    if (!o.locals || !exc || exc == Py_None) {
        res = call_stdlib(module, "print_exc", args, kw);
        goto done;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOp:print_exc", kwlist, &limit, &file, &chain))
        goto done;
    tb = PyException_GetTraceback(exc);
    lines = TbFormat_exception_lines(stdlib_of(module), exc, tb, limit, chain, &o);
    if (!lines)
        goto done;
    res = write_lines(lines, file);
done:
    TbFormat_options_clear(&o);
    Py_XDECREF(kw);
    Py_XDECREF(exc);
    Py_XDECREF(tb);
    Py_XDECREF(lines);
    return res;
}

PyDoc_STRVAR(format_tb_doc,
"format_tb(tb, limit=None," SLEUTH_TB_OPTIONS ")\n\n"
"traceback.format_tb, with sleuth's options."
SLEUTH_TB_OPTIONS_DOC);

static PyObject *
tb_format_tb(PyObject *module, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *kw = NULL, *stack = NULL, *res = NULL;
    /* Borrowed */
    PyObject *tb, *limit = Py_None;
    static char *kwlist[] = {"tb", "limit", NULL};
    TbFormat_Options o = {0};
    SafeRepr_Context c;

    kw = kwargs_copy(kwargs);
    if (!kw || TbFormat_pop_options(kw, &o) < 0)
        goto done;
    if (!o.locals) {
        res = call_stdlib(module, "format_tb", args, kw);
        goto done;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:format_tb", kwlist, &tb, &limit))
        goto done;
    stack = PyObject_CallMethod(stdlib_of(module), "extract_tb", "OO", tb, limit);
    if (!stack)
        goto done;
    SafeRepr_begin(&c, &o.repr);
    c.keep_found = 1;
    Redact_note_rules(&c.found, o.repr.redact);
    Redact_note_environ(&c.found, o.repr.redact);
    int rc = TbFormat_fill_stack(stack, tb, limit, &c);
    SafeRepr_end(&c);
    if (rc == 0) {
        res = PyObject_CallMethod(stack, "format", NULL);
        if (res && PyList_Check(res) && Redact_scrub_lines(o.repr.redact, &c.found, res) < 0)
            Py_CLEAR(res);
    }
    Redact_found_clear(&c.found);
done:
    TbFormat_options_clear(&o);
    Py_XDECREF(kw);
    Py_XDECREF(stack);
    return res;
}

PyDoc_STRVAR(safe_repr_doc,
"safe_repr(obj, /, *, name=None, max_length=200, max_items=25, max_depth=4,\n"
"          repr_timeout=0.1, total_repr_timeout=2.0, redact=None, redact_extra=None,\n"
"          redact_names=None, redact_patterns=None, redact_values=None)\n--\n\n"
"Bounded, non-mutating repr text of obj. When `name` matches the redaction\n"
"patterns the text is \"'[redacted]'\".");

static PyObject *
tb_safe_repr(PyObject *module, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *kw = NULL, *name = NULL, *res = NULL;
    /* Borrowed */
    PyObject *obj;
    TbFormat_Options o = {0};
    SafeRepr_Context c;

    SLEUTH_UNUSED(module);
    kw = kwargs_copy(kwargs);
    if (!kw || TbFormat_pop_options(kw, &o) < 0)
        goto done;
    name = PyDict_GetItemString(kw, "name");
    if (name) {
        Py_INCREF(name);
        if (PyDict_DelItemString(kw, "name") < 0)
            goto done;
    }
    if (!PyArg_ParseTuple(args, "O:safe_repr", &obj))
        goto done;
    if (PyDict_GET_SIZE(kw)) {
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        PyDict_Next(kw, &pos, &k, &v);
        PyErr_Format(PyExc_TypeError, "safe_repr() got an unexpected keyword argument %R", k);
        goto done;
    }
    SafeRepr_begin(&c, &o.repr);
    c.keep_found = 1;
    Redact_note_rules(&c.found, o.repr.redact);
    Redact_note_environ(&c.found, o.repr.redact);
    res = SafeRepr_named(&c, name, obj);
    SafeRepr_end(&c);
    if (res)
        Py_SETREF(res, Redact_scrub_str(o.repr.redact, &c.found, res));
    Redact_found_clear(&c.found);
done:
    TbFormat_options_clear(&o);
    Py_XDECREF(kw);
    Py_XDECREF(name);
    return res;
}

PyDoc_STRVAR(redaction_patterns_doc,
"redaction_patterns(redact=None, redact_extra=None)\n--\n\n"
"The lowercase patterns that a call with these options redacts.");

static PyObject *
tb_redaction_patterns(PyObject *module, PyObject *args, PyObject *kwargs)
{
    PyObject *redact = Py_None, *extra = Py_None;
    static char *kwlist[] = {"redact", "redact_extra", NULL};

    SLEUTH_UNUSED(module);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:redaction_patterns", kwlist,
                                     &redact, &extra))
        return NULL;
    /* Owned */
    PyObject *rules = Redact_build(redact, extra), *res = NULL;
    if (rules)
        res = Py_NewRef(Redact_patterns_of(rules));
    Py_XDECREF(rules);
    return res;
}

#define KW (PyCFunction)(void (*)(void))
static PyMethodDef module_methods[] = {
    {"safe_repr", KW tb_safe_repr, METH_VARARGS | METH_KEYWORDS, safe_repr_doc},
    {"redaction_patterns", KW tb_redaction_patterns, METH_VARARGS | METH_KEYWORDS,
     redaction_patterns_doc},
    {NULL, NULL, 0, NULL},
};

/* The standard library's names, as objects that say they are the standard
 * library's (stdfunc.h). */
static const struct {
    const char *name;
    StdFunc_impl impl;
    const char *doc;
} stdlib_functions[] = {
    {"format_exception", tb_format_exception, format_exception_doc},
    {"print_exception", tb_print_exception, print_exception_doc},
    {"format_exc", tb_format_exc, format_exc_doc},
    {"print_exc", tb_print_exc, print_exc_doc},
    {"format_tb", tb_format_tb, format_tb_doc},
};

static int
add_stdlib_functions(PyObject *m, PyObject *stdlib)
{
    /* Owned */
    PyTypeObject *type = NULL;
    PyObject *func = NULL;
    int rc = -1;

    type = StdFunc_make_type(m);
    if (!type)
        goto done;
    for (size_t i = 0; i < sizeof(stdlib_functions) / sizeof(stdlib_functions[0]); i++) {
        func = StdFunc_new(type, m, stdlib, stdlib_functions[i].name, stdlib_functions[i].impl,
                           stdlib_functions[i].doc);
        if (!func || PyModule_AddObjectRef(m, stdlib_functions[i].name, func) < 0)
            goto done;
        Py_CLEAR(func);
    }
    rc = 0;
done:
    Py_XDECREF(type);
    Py_XDECREF(func);
    return rc;
}

static int
module_exec(PyObject *m)
{
    tb_state *st = PyModule_GetState(m);
    st->stdlib = PyImport_ImportModule("traceback");
    if (!st->stdlib)
        return -1;
    if (add_stdlib_functions(m, st->stdlib) < 0)
        return -1;
    PyObject *defaults = Redact_default_patterns();
    if (!defaults)
        return -1;
    if (PyModule_AddObject(m, "DEFAULT_REDACT", defaults) < 0) {
        Py_DECREF(defaults);
        return -1;
    }
    return 0;
}

static int
module_traverse(PyObject *m, visitproc visit, void *arg)
{
    tb_state *st = PyModule_GetState(m);
    Py_VISIT(st->stdlib);
    return 0;
}

static int
module_clear(PyObject *m)
{
    tb_state *st = PyModule_GetState(m);
    Py_CLEAR(st->stdlib);
    return 0;
}

static void
module_free(void *m)
{
    (void)module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sleuth._traceback",
    .m_doc = "Standard-library tracebacks, optionally with safe, redacted locals.",
    .m_size = sizeof(tb_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__traceback(void)
{
    return PyModuleDef_Init(&module_def);
}
