/* stdfunc.c — sleuth.traceback's functions as the standard library's names
 * (see stdfunc.h for why). */
#include "stdfunc.h"
#include <stddef.h>

typedef struct {
    PyObject_HEAD
    StdFunc_impl impl;
    PyObject *module;       /* sleuth._traceback: its state is the implementation's */
    PyObject *stdlib;       /* the standard library's traceback module */
    PyObject *name;         /* str: __name__ and __qualname__ */
    PyObject *doc;          /* str or None */
    PyObject *signature;    /* inspect.Signature once computed, else NULL */
} StdFunc;

static PyObject *
StdFunc_call(PyObject *op, PyObject *args, PyObject *kwargs)
{
    StdFunc *self = (StdFunc *)op;
    return self->impl(self->module, args, kwargs);
}

static PyObject *
StdFunc_repr(PyObject *op)
{
    return PyUnicode_FromFormat("<function %U at %p>", ((StdFunc *)op)->name, op);
}

/* Not bound when read from a class or instance: a builtin function is not
 * either (and having __get__ makes inspect.isroutine() true, so pydoc and
 * help() document it as a function). */
static PyObject *
StdFunc_descr_get(PyObject *op, PyObject *obj, PyObject *type)
{
    SLEUTH_UNUSED(obj);
    SLEUTH_UNUSED(type);
    return Py_NewRef(op);
}

/* inspect.signature(traceback.<name>) of the running version, kept. */
static PyObject *
StdFunc_get_signature(PyObject *op, void *closure)
{
    StdFunc *self = (StdFunc *)op;
    /* Owned */
    PyObject *inspect = NULL, *theirs = NULL, *sig = NULL;

    SLEUTH_UNUSED(closure);
    if (self->signature)
        return Py_NewRef(self->signature);
    inspect = PyImport_ImportModule("inspect");
    if (!inspect)
        goto done;
    theirs = PyObject_GetAttr(self->stdlib, self->name);
    if (!theirs)
        goto done;
    sig = PyObject_CallMethod(inspect, "signature", "O", theirs);
    if (sig && !self->signature)
        self->signature = Py_NewRef(sig);
done:
    Py_XDECREF(inspect);
    Py_XDECREF(theirs);
    return sig;
}

static PyObject *
StdFunc_get_module(PyObject *op, void *closure)
{
    SLEUTH_UNUSED(op);
    SLEUTH_UNUSED(closure);
    return PyUnicode_InternFromString("traceback");
}

static PyObject *
StdFunc_get_name(PyObject *op, void *closure)
{
    SLEUTH_UNUSED(closure);
    return Py_NewRef(((StdFunc *)op)->name);
}

static PyObject *
StdFunc_get_doc(PyObject *op, void *closure)
{
    SLEUTH_UNUSED(closure);
    return Py_NewRef(((StdFunc *)op)->doc);
}

/* No text signature: __signature__ answers, and inspect reads it first. */
static PyObject *
StdFunc_get_none(PyObject *op, void *closure)
{
    SLEUTH_UNUSED(op);
    SLEUTH_UNUSED(closure);
    Py_RETURN_NONE;
}

/* pickle: looked up again by name in sleuth.traceback, so a round trip
 * gives this very object (a lookup by __module__ and __qualname__ would
 * find the standard library's function, which pickle refuses as "not the
 * same object"). */
static PyObject *
StdFunc_reduce(PyObject *op, PyObject *unused)
{
    /* Owned */
    PyObject *pkgutil = NULL, *resolve = NULL, *res = NULL;

    SLEUTH_UNUSED(unused);
    pkgutil = PyImport_ImportModule("pkgutil");
    if (!pkgutil)
        goto done;
    resolve = PyObject_GetAttrString(pkgutil, "resolve_name");
    if (!resolve)
        goto done;
    res = Py_BuildValue("O(N)", resolve,
                        PyUnicode_FromFormat("sleuth.traceback:%U", ((StdFunc *)op)->name));
done:
    Py_XDECREF(pkgutil);
    Py_XDECREF(resolve);
    return res;
}

/* copy.copy(f) and copy.deepcopy(f) are f, as for functions. */
static PyObject *
StdFunc_copy(PyObject *op, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    return Py_NewRef(op);
}

static int
StdFunc_traverse(PyObject *op, visitproc visit, void *arg)
{
    StdFunc *self = (StdFunc *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->module);
    Py_VISIT(self->stdlib);
    Py_VISIT(self->name);
    Py_VISIT(self->doc);
    Py_VISIT(self->signature);
    return 0;
}

static int
StdFunc_clear(PyObject *op)
{
    StdFunc *self = (StdFunc *)op;
    Py_CLEAR(self->module);
    Py_CLEAR(self->stdlib);
    Py_CLEAR(self->name);
    Py_CLEAR(self->doc);
    Py_CLEAR(self->signature);
    return 0;
}

static void
StdFunc_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    (void)StdFunc_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyGetSetDef StdFunc_getset[] = {
    {"__signature__", StdFunc_get_signature, NULL, NULL, NULL},
    {"__module__", StdFunc_get_module, NULL, NULL, NULL},
    {"__name__", StdFunc_get_name, NULL, NULL, NULL},
    {"__qualname__", StdFunc_get_name, NULL, NULL, NULL},
    {"__doc__", StdFunc_get_doc, NULL, NULL, NULL},
    {"__text_signature__", StdFunc_get_none, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef StdFunc_methods[] = {
    {"__reduce__", StdFunc_reduce, METH_NOARGS, NULL},
    {"__copy__", StdFunc_copy, METH_NOARGS, NULL},
    {"__deepcopy__", StdFunc_copy, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot StdFunc_slots[] = {
    {Py_tp_call, StdFunc_call},
    {Py_tp_repr, StdFunc_repr},
    {Py_tp_descr_get, StdFunc_descr_get},
    {Py_tp_getset, StdFunc_getset},
    {Py_tp_methods, StdFunc_methods},
    {Py_tp_traverse, StdFunc_traverse},
    {Py_tp_clear, StdFunc_clear},
    {Py_tp_dealloc, StdFunc_dealloc},
    {0, NULL},
};

static PyType_Spec StdFunc_spec = {
    .name = "sleuth._traceback.function",
    .basicsize = sizeof(StdFunc),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = StdFunc_slots,
};

PyTypeObject *
StdFunc_make_type(PyObject *module)
{
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &StdFunc_spec, NULL);
}

PyObject *
StdFunc_new(PyTypeObject *type, PyObject *module, PyObject *stdlib, const char *name,
            StdFunc_impl impl, const char *doc)
{
    StdFunc *self = PyObject_GC_New(StdFunc, type);
    if (!self)
        return NULL;
    self->impl = impl;
    self->module = Py_NewRef(module);
    self->stdlib = Py_NewRef(stdlib);
    self->doc = doc ? PyUnicode_FromString(doc) : Py_NewRef(Py_None);
    self->name = PyUnicode_InternFromString(name);
    self->signature = NULL;
    PyObject_GC_Track(self);
    if (!self->doc || !self->name) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}
