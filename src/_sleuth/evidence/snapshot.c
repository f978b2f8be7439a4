/* snapshot.c — evidence files back as frame-like objects (see snapshot.h).
 *
 * Sections: types, value decoding, validation helpers, loading, summary.
 *
 * Loading never executes anything from the file: it is json.loads of the
 * (optionally gunzipped) bytes, then checks of every field we use. Any
 * mismatch raises EvidenceError with one line saying what is wrong.
 */
#include "snapshot.h"
#include "capture.h"
#include <limits.h>
#include <stdarg.h>
#include <string.h>

/* Field paths in messages ("exceptions[0].traceback[3].positions") are
 * built in fixed buffers: a path cut short is still a fine message. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* ------------------------------------------------------------------------ */
/* Types                                                                    */

typedef struct {
    PyObject_HEAD
    PyObject *co_filename, *co_name, *co_qualname, *co_varnames;
    PyObject *positions;    /* dict: lasti -> (lineno, end_lineno, col, end_col) */
    int co_firstlineno, co_argcount, co_posonlyargcount, co_kwonlyargcount, co_flags;
} CodeObj;

typedef struct {
    PyObject_HEAD
    PyObject *f_code, *f_locals, *f_globals, *f_builtins, *f_back, *f_trace;
    int f_lineno, f_lasti;
    Py_ssize_t locals_omitted;
} FrameObj;

typedef struct {
    PyObject_HEAD
    PyObject *tb_frame, *tb_next, *positions;
    int tb_lineno, tb_lasti;
} TbObj;

typedef struct {
    PyObject_HEAD
    PyObject *traceback, *cause, *context, *notes, *exceptions, *args;
    PyObject *type_name, *module, *str_text, *repr_text;
    char suppress_context;
} ExcObj;

typedef struct {
    PyObject_HEAD
    PyObject *type_name, *repr_text;
    PyObject *items;        /* list, or NULL */
    PyObject *entries;      /* list of (key, value), or NULL */
    PyObject *attrs;        /* dict, or NULL */
    Py_ssize_t length;      /* original length, -1 unknown */
} ValueObj;

typedef struct {
    PyObject_HEAD
    PyObject *path, *reason, *created, *exception, *traceback, *frames, *stack;
    PyObject *threads, *thread, *environment, *sources, *exceptions, *limits;
    PyObject *redactions;   /* validated {"count": int, "kinds": {str: int}}, or None */
    int version;
    char truncated;
} EvidenceObj;

/* Every object field sits right after the head, so one traverse, clear and
 * dealloc per type only needs the count of PyObject * fields. */
#define OBJ_FIELDS(obj) ((PyObject **)((char *)(obj) + sizeof(PyObject)))

static int
fields_traverse(PyObject *self, visitproc visit, void *arg, int n)
{
    Py_VISIT(Py_TYPE(self));
    for (int i = 0; i < n; i++)
        Py_VISIT(OBJ_FIELDS(self)[i]);
    return 0;
}

static void
fields_clear(PyObject *self, int n)
{
    for (int i = 0; i < n; i++)
        Py_CLEAR(OBJ_FIELDS(self)[i]);
}

static void
fields_dealloc(PyObject *self, int n)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    fields_clear(self, n);
    tp->tp_free(self);
    Py_DECREF(tp);
}

#define GC_FUNCS(prefix, n) \
    static int prefix##_traverse(PyObject *s, visitproc v, void *a) { return fields_traverse(s, v, a, n); } \
    static int prefix##_clear(PyObject *s) { fields_clear(s, n); return 0; } \
    static void prefix##_dealloc(PyObject *s) { fields_dealloc(s, n); }

GC_FUNCS(code, 5)
GC_FUNCS(frame, 6)
GC_FUNCS(tb, 3)
GC_FUNCS(exc, 10)
GC_FUNCS(value, 5)
GC_FUNCS(evidence, 14)

#define GC_SLOTS(prefix) \
    {Py_tp_traverse, prefix##_traverse}, {Py_tp_clear, prefix##_clear}, \
    {Py_tp_dealloc, prefix##_dealloc}

static PyObject *
snap_new(PyTypeObject *tp)
{
    /* tp_alloc zero-fills; all object fields start NULL. */
    return tp->tp_alloc(tp, 0);
}

#define RO Py_READONLY
static PyMemberDef code_members[] = {
    {"co_filename", Py_T_OBJECT_EX, offsetof(CodeObj, co_filename), RO, NULL},
    {"co_name", Py_T_OBJECT_EX, offsetof(CodeObj, co_name), RO, NULL},
    {"co_qualname", Py_T_OBJECT_EX, offsetof(CodeObj, co_qualname), RO, NULL},
    {"co_varnames", Py_T_OBJECT_EX, offsetof(CodeObj, co_varnames), RO, NULL},
    {"co_firstlineno", Py_T_INT, offsetof(CodeObj, co_firstlineno), RO, NULL},
    {"co_argcount", Py_T_INT, offsetof(CodeObj, co_argcount), RO, NULL},
    {"co_posonlyargcount", Py_T_INT, offsetof(CodeObj, co_posonlyargcount), RO, NULL},
    {"co_kwonlyargcount", Py_T_INT, offsetof(CodeObj, co_kwonlyargcount), RO, NULL},
    {"co_flags", Py_T_INT, offsetof(CodeObj, co_flags), RO, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* co_positions(): what the stdlib traceback module reads at index
 * lasti // 2; the positions recorded for each captured lasti, and
 * (None, None, None, None) for every other instruction. A lazy chain of
 * repeats: the memory it takes does not grow with the offsets. */
static PyObject *
code_positions(PyObject *self, PyObject *unused)
{
    /* Owned */
    PyObject *keys = NULL, *parts = NULL, *none4 = NULL, *itertools = NULL, *it = NULL;
    CodeObj *c = (CodeObj *)self;
    Py_ssize_t next = 0;

    SLEUTH_UNUSED(unused);
    keys = PyDict_Keys(c->positions);
    parts = PyList_New(0);
    none4 = Py_BuildValue("(OOOO)", Py_None, Py_None, Py_None, Py_None);
    itertools = PyImport_ImportModule("itertools");
    if (!keys || !parts || !none4 || !itertools || PyList_Sort(keys) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
        PyObject *k = PyList_GET_ITEM(keys, i);
        Py_ssize_t at = PyLong_AsSsize_t(k) / 2;
        if (at < next)
            continue;
        PyObject *gap = at > next ? PyObject_CallMethod(itertools, "repeat", "On", none4, at - next)
                                  : PyTuple_New(0);
        PyObject *one = gap ? PyTuple_Pack(1, PyDict_GetItem(c->positions, k)) : NULL;
        int rc = one ? PyList_Append(parts, gap) : -1;
        rc = rc == 0 ? PyList_Append(parts, one) : -1;
        Py_XDECREF(gap);
        Py_XDECREF(one);
        if (rc < 0)
            goto done;
        next = at + 1;
    }
    PyObject *chain = PyObject_GetAttrString(itertools, "chain");
    it = chain ? PyObject_CallMethod(chain, "from_iterable", "O", parts) : NULL;
    Py_XDECREF(chain);
done:
    Py_XDECREF(keys);
    Py_XDECREF(parts);
    Py_XDECREF(none4);
    Py_XDECREF(itertools);
    return it;
}

static PyMethodDef code_methods[] = {
    {"co_positions", code_positions, METH_NOARGS,
     "co_positions()\n--\n\nPositions of the captured instructions (others are all None)."},
    {NULL, NULL, 0, NULL},
};

static PyObject *
code_repr(PyObject *self)
{
    CodeObj *c = (CodeObj *)self;
    return PyUnicode_FromFormat("<snapshot code object %S, file %R, line %d>", c->co_name,
                                c->co_filename, c->co_firstlineno);
}

static PyType_Slot code_slots[] = {
    {Py_tp_members, code_members},
    {Py_tp_methods, code_methods},
    {Py_tp_repr, code_repr},
    GC_SLOTS(code),
    {Py_tp_doc, "A code object read from an evidence file."},
    {0, NULL},
};

static PyMemberDef frame_members[] = {
    {"f_code", Py_T_OBJECT_EX, offsetof(FrameObj, f_code), RO, NULL},
    {"f_locals", Py_T_OBJECT_EX, offsetof(FrameObj, f_locals), RO, NULL},
    {"f_globals", Py_T_OBJECT_EX, offsetof(FrameObj, f_globals), RO, NULL},
    {"f_builtins", Py_T_OBJECT_EX, offsetof(FrameObj, f_builtins), RO, NULL},
    {"f_back", Py_T_OBJECT_EX, offsetof(FrameObj, f_back), RO, NULL},
    {"f_trace", Py_T_OBJECT_EX, offsetof(FrameObj, f_trace), RO, NULL},
    {"f_lineno", Py_T_INT, offsetof(FrameObj, f_lineno), RO, NULL},
    {"f_lasti", Py_T_INT, offsetof(FrameObj, f_lasti), RO, NULL},
    {"locals_omitted", Py_T_PYSSIZET, offsetof(FrameObj, locals_omitted), RO,
     "Locals left out for the size budget (-1: all of them)."},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
frame_repr(PyObject *self)
{
    FrameObj *f = (FrameObj *)self;
    CodeObj *c = (CodeObj *)f->f_code;
    return PyUnicode_FromFormat("<snapshot frame, file %R, line %d, code %S>", c->co_filename,
                                f->f_lineno, c->co_name);
}

static PyType_Slot frame_slots[] = {
    {Py_tp_members, frame_members},
    {Py_tp_repr, frame_repr},
    GC_SLOTS(frame),
    {Py_tp_doc, "A frame read from an evidence file (the program is not running)."},
    {0, NULL},
};

static PyMemberDef tb_members[] = {
    {"tb_frame", Py_T_OBJECT_EX, offsetof(TbObj, tb_frame), RO, NULL},
    {"tb_next", Py_T_OBJECT_EX, offsetof(TbObj, tb_next), RO, NULL},
    {"positions", Py_T_OBJECT_EX, offsetof(TbObj, positions), RO,
     "(lineno, end_lineno, col_offset, end_col_offset) of the instruction, items may be None."},
    {"tb_lineno", Py_T_INT, offsetof(TbObj, tb_lineno), RO, NULL},
    {"tb_lasti", Py_T_INT, offsetof(TbObj, tb_lasti), RO, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot tb_slots[] = {
    {Py_tp_members, tb_members},
    GC_SLOTS(tb),
    {Py_tp_doc, "A traceback entry read from an evidence file."},
    {0, NULL},
};

static PyMemberDef exc_members[] = {
    {"__traceback__", Py_T_OBJECT_EX, offsetof(ExcObj, traceback), RO, NULL},
    {"__cause__", Py_T_OBJECT_EX, offsetof(ExcObj, cause), RO, NULL},
    {"__context__", Py_T_OBJECT_EX, offsetof(ExcObj, context), RO, NULL},
    {"__notes__", Py_T_OBJECT_EX, offsetof(ExcObj, notes), RO, NULL},
    {"exceptions", Py_T_OBJECT_EX, offsetof(ExcObj, exceptions), RO, NULL},
    {"args", Py_T_OBJECT_EX, offsetof(ExcObj, args), RO, NULL},
    {"type_name", Py_T_OBJECT_EX, offsetof(ExcObj, type_name), RO,
     "The exception class's qualified name, e.g. 'ValueError'."},
    {"module", Py_T_OBJECT_EX, offsetof(ExcObj, module), RO, "The class's module."},
    {"__suppress_context__", Py_T_BOOL, offsetof(ExcObj, suppress_context), RO, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
exc_str(PyObject *self)
{
    return Py_NewRef(((ExcObj *)self)->str_text);
}

static PyObject *
exc_repr(PyObject *self)
{
    return Py_NewRef(((ExcObj *)self)->repr_text);
}

static PyType_Slot exc_slots[] = {
    {Py_tp_members, exc_members},
    {Py_tp_str, exc_str},
    {Py_tp_repr, exc_repr},
    GC_SLOTS(exc),
    {Py_tp_doc, "An exception read from an evidence file."},
    {0, NULL},
};

/* --- SnapshotValue --- */

static PyObject *
value_repr(PyObject *self)
{
    return Py_NewRef(((ValueObj *)self)->repr_text);
}

static Py_ssize_t
value_len(PyObject *self)
{
    ValueObj *v = (ValueObj *)self;
    if (v->length < 0) {
        PyErr_Format(PyExc_TypeError, "the length of this %U was not captured", v->type_name);
        return -1;
    }
    return v->length;
}

static PyObject *
value_getitem(PyObject *self, PyObject *key)
{
    ValueObj *v = (ValueObj *)self;
    if (v->items) {
        Py_ssize_t n = PyList_GET_SIZE(v->items);
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred())
            return NULL;
        Py_ssize_t length = v->length >= 0 ? v->length : n;
        if (i < 0)
            i += length;
        if (i < 0 || i >= length) {
            PyErr_Format(PyExc_IndexError, "%U index out of range", v->type_name);
            return NULL;
        }
        if (i >= n) {
            PyErr_Format(PyExc_IndexError,
                         "item %zd of this %U was not captured (only the first %zd of %zd)",
                         i, v->type_name, n, length);
            return NULL;
        }
        return Py_NewRef(PyList_GET_ITEM(v->items, i));
    }
    if (v->entries) {
        /* Keys that were scalars compare by value; the others by repr text. */
        PyObject *key_repr = NULL;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v->entries); i++) {
            PyObject *pair = PyList_GET_ITEM(v->entries, i);
            PyObject *k = PyTuple_GET_ITEM(pair, 0);
            int eq;
            if (k == key)
                eq = 1;
            else if (Py_IS_TYPE(k, Py_TYPE(self))) {
                if (!key_repr && !(key_repr = PyObject_Repr(key)))
                    return NULL;
                eq = PyUnicode_Compare(((ValueObj *)k)->repr_text, key_repr) == 0;
            }
            else {
                eq = PyObject_RichCompareBool(k, key, Py_EQ);
                if (eq < 0) {
                    PyErr_Clear();
                    eq = 0;
                }
            }
            if (eq) {
                Py_XDECREF(key_repr);
                return Py_NewRef(PyTuple_GET_ITEM(pair, 1));
            }
        }
        Py_XDECREF(key_repr);
        if (v->length > PyList_GET_SIZE(v->entries))
            PyErr_Format(PyExc_KeyError, "%R (not among the %zd captured keys of %zd)", key,
                         PyList_GET_SIZE(v->entries), v->length);
        else
            PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    PyErr_Format(PyExc_TypeError, "the items of this %U were not captured", v->type_name);
    return NULL;
}

/* `x in value`: captured keys of a mapping, captured items otherwise;
 * matched like value_getitem (scalars by value, the rest by repr text). */
static int
value_contains(PyObject *self, PyObject *key)
{
    ValueObj *v = (ValueObj *)self;
    PyObject *pool = v->entries ? v->entries : v->items;
    PyObject *key_repr = NULL;
    int found = 0;

    if (!pool) {
        PyErr_Format(PyExc_TypeError, "the items of this %U were not captured", v->type_name);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(pool) && !found; i++) {
        PyObject *k = PyList_GET_ITEM(pool, i);
        if (v->entries)
            k = PyTuple_GET_ITEM(k, 0);
        if (k == key)
            found = 1;
        else if (Py_IS_TYPE(k, Py_TYPE(self))) {
            if (!key_repr && !(key_repr = PyObject_Repr(key)))
                return -1;
            found = PyUnicode_Compare(((ValueObj *)k)->repr_text, key_repr) == 0;
        }
        else {
            found = PyObject_RichCompareBool(k, key, Py_EQ);
            if (found < 0) {
                PyErr_Clear();
                found = 0;
            }
        }
    }
    Py_XDECREF(key_repr);
    return found;
}

/* Truth like the original's: empty containers are false. */
static int
value_bool(PyObject *self)
{
    ValueObj *v = (ValueObj *)self;
    return v->length != 0;
}

static PyObject *
value_getattro(PyObject *self, PyObject *name)
{
    ValueObj *v = (ValueObj *)self;
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(name, &n);
    if (!s)
        return NULL;
    int dunder = n > 4 && s[0] == '_' && s[1] == '_' && s[n - 1] == '_' && s[n - 2] == '_';
    if (v->attrs && !dunder) {
        PyObject *res = PyDict_GetItemWithError(v->attrs, name);
        if (res)
            return Py_NewRef(res);
        if (PyErr_Occurred())
            return NULL;
    }
    PyObject *res = PyObject_GenericGetAttr(self, name);
    if (res || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return res;
    PyErr_Clear();
    PyErr_Format(PyExc_AttributeError, "%R object has no captured attribute %R", v->type_name,
                 name);
    return NULL;
}

static PyObject *
value_iter(PyObject *self)
{
    ValueObj *v = (ValueObj *)self;
    if (v->items)
        return PyObject_GetIter(v->items);
    if (v->entries) {
        PyObject *keys = PyList_New(0);
        if (!keys)
            return NULL;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v->entries); i++)
            if (PyList_Append(keys, PyTuple_GET_ITEM(PyList_GET_ITEM(v->entries, i), 0)) < 0) {
                Py_DECREF(keys);
                return NULL;
            }
        PyObject *it = PyObject_GetIter(keys);
        Py_DECREF(keys);
        return it;
    }
    PyErr_Format(PyExc_TypeError, "the items of this %U were not captured", v->type_name);
    return NULL;
}

static PyObject *
value_dir(PyObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    ValueObj *v = (ValueObj *)self;
    return v->attrs ? PyDict_Keys(v->attrs) : PyList_New(0);
}

static PyObject *
value_items_py(PyObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    ValueObj *v = (ValueObj *)self;
    if (v->entries)
        return PyList_GetSlice(v->entries, 0, PY_SSIZE_T_MAX);
    if (v->attrs)
        return PyDict_Items(v->attrs);
    return PyList_New(0);
}

static PyMethodDef value_methods[] = {
    {"__dir__", value_dir, METH_NOARGS, NULL},
    {"__sleuth_items__", value_items_py, METH_NOARGS,
     "Captured (key, value) pairs of a mapping or (name, value) of an object."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef value_members[] = {
    {"__sleuth_type__", Py_T_OBJECT_EX, offsetof(ValueObj, type_name), RO,
     "The original value's type, 'module.qualname'."},
    {"__sleuth_repr__", Py_T_OBJECT_EX, offsetof(ValueObj, repr_text), RO,
     "The captured (safe) repr text."},
    {"__sleuth_len__", Py_T_PYSSIZET, offsetof(ValueObj, length), RO,
     "The original length of a container, -1 when unknown."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot value_slots[] = {
    {Py_tp_repr, value_repr},
    {Py_tp_str, value_repr},
    {Py_tp_getattro, value_getattro},
    {Py_tp_iter, value_iter},
    {Py_mp_subscript, value_getitem},
    {Py_mp_length, value_len},
    {Py_sq_contains, value_contains},
    {Py_nb_bool, value_bool},
    {Py_tp_methods, value_methods},
    {Py_tp_members, value_members},
    GC_SLOTS(value),
    {Py_tp_doc, "A value captured in an evidence file: its repr text and a bounded structure."},
    {0, NULL},
};

/* --- Evidence --- */

static PyObject *
evidence_register_sources(PyObject *self, PyObject *unused)
{
    /* Owned */
    PyObject *linecache = NULL, *cache = NULL, *lines = NULL, *entry = NULL, *nl = NULL;
    /* Borrowed */
    PyObject *filename, *ranges;
    Py_ssize_t pos = 0, count = 0;
    EvidenceObj *ev = (EvidenceObj *)self;

    SLEUTH_UNUSED(unused);
    linecache = PyImport_ImportModule("linecache");
    if (!linecache)
        goto error;
    cache = PyObject_GetAttrString(linecache, "cache");
    nl = PyUnicode_FromString("\n");
    if (!cache || !nl)
        goto error;
    while (PyDict_Next(ev->sources, &pos, &filename, &ranges)) {
        /* Missing lines read as empty so that line numbers stay right. */
        lines = PyList_New(0);
        if (!lines)
            goto error;
        Py_ssize_t size = 0;
        for (Py_ssize_t r = 0; r < PyList_GET_SIZE(ranges); r++) {
            PyObject *range = PyList_GET_ITEM(ranges, r);
            Py_ssize_t first = PyLong_AsSsize_t(PyList_GET_ITEM(range, 0));
            PyObject *text = PyList_GET_ITEM(range, 1);
            while (PyList_GET_SIZE(lines) < first - 1)
                if (PyList_Append(lines, nl) < 0)
                    goto error;
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(text); i++) {
                Py_ssize_t at = first - 1 + i;
                PyObject *line = PyList_GET_ITEM(text, i);
                size += PyUnicode_GET_LENGTH(line);
                if (at < PyList_GET_SIZE(lines)) {
                    if (PyList_SetItem(lines, at, Py_NewRef(line)) < 0)
                        goto error;
                }
                else if (PyList_Append(lines, line) < 0)
                    goto error;
            }
        }
        /* mtime None: linecache.checkcache leaves such entries alone. */
        entry = Py_BuildValue("(nOOO)", size, Py_None, lines, filename);
        if (!entry || PyObject_SetItem(cache, filename, entry) < 0)
            goto error;
        Py_CLEAR(entry);
        Py_CLEAR(lines);
        count++;
    }
    Py_DECREF(linecache);
    Py_DECREF(cache);
    Py_DECREF(nl);
    return PyLong_FromSsize_t(count);
error:
    Py_XDECREF(linecache);
    Py_XDECREF(cache);
    Py_XDECREF(lines);
    Py_XDECREF(entry);
    Py_XDECREF(nl);
    return NULL;
}

static PyObject *
evidence_summary_py(PyObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    return Snapshot_summary(self);
}

static PyObject *
evidence_repr(PyObject *self)
{
    EvidenceObj *ev = (EvidenceObj *)self;
    return PyUnicode_FromFormat("<sleuth evidence %R, version %d, %S>", ev->path, ev->version,
                                ev->reason);
}

static PyMethodDef evidence_methods[] = {
    {"register_sources", evidence_register_sources, METH_NOARGS,
     "register_sources()\n--\n\nPut the stored source lines into linecache.cache under their\n"
     "original file names (so listings work on another machine); returns the count."},
    {"summary", evidence_summary_py, METH_NOARGS,
     "summary()\n--\n\nA short text: the exception, where it happened, the environment."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef evidence_members[] = {
    {"path", Py_T_OBJECT_EX, offsetof(EvidenceObj, path), RO, NULL},
    {"reason", Py_T_OBJECT_EX, offsetof(EvidenceObj, reason), RO, NULL},
    {"created", Py_T_OBJECT_EX, offsetof(EvidenceObj, created), RO, NULL},
    {"exception", Py_T_OBJECT_EX, offsetof(EvidenceObj, exception), RO,
     "The SnapshotException, or None for a capture without one."},
    {"traceback", Py_T_OBJECT_EX, offsetof(EvidenceObj, traceback), RO,
     "The exception's first SnapshotTraceback entry; for a capture without exception,\n"
     "a traceback over the captured stack; None if there is neither."},
    {"frames", Py_T_OBJECT_EX, offsetof(EvidenceObj, frames), RO, "Every SnapshotFrame."},
    {"stack", Py_T_OBJECT_EX, offsetof(EvidenceObj, stack), RO,
     "Frames of a capture without exception, outermost first."},
    {"threads", Py_T_OBJECT_EX, offsetof(EvidenceObj, threads), RO,
     "Other threads: dicts with ident, name, frames (outermost first), frame (innermost)."},
    {"thread", Py_T_OBJECT_EX, offsetof(EvidenceObj, thread), RO,
     "The capturing thread: dict with ident and name."},
    {"environment", Py_T_OBJECT_EX, offsetof(EvidenceObj, environment), RO, NULL},
    {"sources", Py_T_OBJECT_EX, offsetof(EvidenceObj, sources), RO,
     "filename -> [[first_lineno, [lines]], ...]"},
    {"exceptions", Py_T_OBJECT_EX, offsetof(EvidenceObj, exceptions), RO,
     "Every SnapshotException of the chain."},
    {"limits", Py_T_OBJECT_EX, offsetof(EvidenceObj, limits), RO, NULL},
    {"redactions", Py_T_OBJECT_EX, offsetof(EvidenceObj, redactions), RO,
     "What capture hid: {'count': N, 'kinds': {kind: N}} (never the values), or None."},
    {"version", Py_T_INT, offsetof(EvidenceObj, version), RO, NULL},
    {"truncated", Py_T_BOOL, offsetof(EvidenceObj, truncated), RO,
     "True when the size budget left something out."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot evidence_slots[] = {
    {Py_tp_members, evidence_members},
    {Py_tp_methods, evidence_methods},
    {Py_tp_repr, evidence_repr},
    GC_SLOTS(evidence),
    {Py_tp_doc, "A loaded evidence file."},
    {0, NULL},
};

#define SPEC(name, type, slots) \
    {"sleuth._evidence." name, sizeof(type), 0, \
     Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE | \
     Py_TPFLAGS_DISALLOW_INSTANTIATION, slots}

static PyType_Spec code_spec = SPEC("SnapshotCode", CodeObj, code_slots);
static PyType_Spec frame_spec = SPEC("SnapshotFrame", FrameObj, frame_slots);
static PyType_Spec tb_spec = SPEC("SnapshotTraceback", TbObj, tb_slots);
static PyType_Spec exc_spec = SPEC("SnapshotException", ExcObj, exc_slots);
static PyType_Spec value_spec = SPEC("SnapshotValue", ValueObj, value_slots);
static PyType_Spec evidence_spec = SPEC("Evidence", EvidenceObj, evidence_slots);

static int
add_type(PyObject *module, PyType_Spec *spec, PyTypeObject **out)
{
    *out = (PyTypeObject *)PyType_FromModuleAndSpec(module, spec, NULL);
    if (!*out)
        return -1;
    return PyModule_AddType(module, *out);
}

int
Snapshot_init_types(PyObject *module, EvidenceState *st)
{
    if (add_type(module, &code_spec, &st->code_type) < 0
            || add_type(module, &frame_spec, &st->frame_type) < 0
            || add_type(module, &tb_spec, &st->tb_type) < 0
            || add_type(module, &exc_spec, &st->exc_type) < 0
            || add_type(module, &value_spec, &st->value_type) < 0
            || add_type(module, &evidence_spec, &st->evidence_type) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Validation helpers: each raises EvidenceError naming the field.          */

typedef struct {
    EvidenceState *st;
    PyObject *frames;       /* list of FrameObj */
    PyObject *excs;         /* list of ExcObj */
    Py_ssize_t spans;       /* lines covered by positions so far */
    Py_ssize_t tb_entries;  /* traceback entries so far */
} Loader;

#define CORRUPT "corrupt evidence file: "
#define LIMITS " (see \"Limits\" in docs/evidence.md)"

/* Not the file's fault: let these through unchanged. */
static int
is_fatal_error(void)
{
    return PyErr_Occurred() && (PyErr_ExceptionMatches(PyExc_MemoryError)
                                || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt));
}

/* EvidenceError with a printf-style message (%s, %zd, %lld only). */
static void
fail(Loader *L, const char *fmt, ...)
{
    char msg[600];
    va_list va;
    if (is_fatal_error())
        return;
    PyErr_Clear();
    va_start(va, fmt);
    vsnprintf(msg, sizeof msg, fmt, va);
    va_end(va);
    PyErr_SetString(L->st->error, msg);
}

/* What a JSON value is, for messages ("version is a string, not an integer"). */
static const char *
json_kind(PyObject *v)
{
    if (v == Py_None)
        return "null";
    if (PyBool_Check(v))
        return v == Py_True ? "true" : "false";
    if (PyLong_CheckExact(v))
        return "an integer";
    if (PyFloat_CheckExact(v))
        return "a number with a fraction or an exponent";
    if (PyUnicode_CheckExact(v))
        return "a string";
    if (PyList_CheckExact(v))
        return "an array";
    if (PyDict_CheckExact(v))
        return "an object";
    return "of an unknown kind";
}

enum { K_INT, K_STR, K_LIST, K_DICT, K_BOOL };

static const char *const KIND_NAMES[] = {"an integer", "a string", "an array", "an object",
                                         "true or false"};

static int
has_kind(PyObject *v, int kind)
{
    switch (kind) {
    case K_INT: return PyLong_CheckExact(v);
    case K_STR: return PyUnicode_CheckExact(v);
    case K_LIST: return PyList_CheckExact(v);
    case K_DICT: return PyDict_CheckExact(v);
    default: return PyBool_Check(v);
    }
}

/* "frames[3].lineno" from "frames[3]" and "lineno" (a top-level key alone). */
static void
path_join(char *out, size_t n, const char *where, const char *key)
{
    if (*where)
        snprintf(out, n, "%s.%s", where, key);
    else
        snprintf(out, n, "%s", key);
}

/* Field `key` of object `d` (described by `where`): borrowed, or Py_None when
 * it is absent or null and `required` is 0. NULL with EvidenceError when it is
 * missing (required) or of another kind. */
static PyObject *
field(Loader *L, PyObject *d, const char *where, const char *key, int kind, int required)
{
    char what[300];
    path_join(what, sizeof what, where, key);
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v || v == Py_None) {
        if (!required)
            return Py_None;
        fail(L, CORRUPT "%s is %s", what, v ? "null" : "missing");
        return NULL;
    }
    if (!has_kind(v, kind)) {
        fail(L, CORRUPT "%s is %s, not %s", what, json_kind(v), KIND_NAMES[kind]);
        return NULL;
    }
    return v;
}

/* An integer in lo..hi, from an already-fetched value `v` described by `what`. */
static int
int_value(Loader *L, PyObject *v, const char *what, long long lo, long long hi, long long *out)
{
    int overflow;
    if (!PyLong_CheckExact(v)) {
        fail(L, CORRUPT "%s is %s, not an integer", what, json_kind(v));
        return -1;
    }
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || x < lo || x > hi) {
        PyErr_Clear();
        if (overflow)
            fail(L, CORRUPT "%s is out of range (%lld..%lld)", what, lo, hi);
        else
            fail(L, CORRUPT "%s is %lld, out of range (%lld..%lld)", what, x, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

/* Integer field in lo..hi; `dflt` when absent or null and not required. */
static int
int_field(Loader *L, PyObject *d, const char *where, const char *key, int required,
          long long lo, long long hi, long long dflt, long long *out)
{
    char what[300];
    PyObject *v = field(L, d, where, key, K_INT, required);
    if (!v)
        return -1;
    if (v == Py_None) {
        *out = dflt;
        return 0;
    }
    path_join(what, sizeof what, where, key);
    return int_value(L, v, what, lo, hi, out);
}

#define NAME 1          /* a name: SNAP_MAX_NAME characters */
#define PATHNAME 2      /* a file name: a name without NUL */

/* A string value within its limit (`flags`: NAME, PATHNAME or 0 for text). */
static int
check_str(Loader *L, PyObject *v, const char *what, int flags)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    if (flags && n > SNAP_MAX_NAME) {
        fail(L, "%s is over a limit: %zd characters, names have at most %d" LIMITS, what, n,
             SNAP_MAX_NAME);
        return -1;
    }
    if ((flags & PATHNAME) && PyUnicode_FindChar(v, 0, 0, n, 1) >= 0) {
        fail(L, CORRUPT "%s holds a NUL character (no file name can)", what);
        return -1;
    }
    return 0;
}

/* String field (borrowed), Py_None when optional and absent or null. */
static PyObject *
str_field(Loader *L, PyObject *d, const char *where, const char *key, int required, int flags)
{
    char what[300];
    PyObject *v = field(L, d, where, key, K_STR, required);
    if (!v || v == Py_None)
        return v;
    path_join(what, sizeof what, where, key);
    return check_str(L, v, what, flags) < 0 ? NULL : v;
}

/* An array field of at most `limit` items (Py_None when optional and absent). */
static PyObject *
list_field(Loader *L, PyObject *d, const char *where, const char *key, int required,
           Py_ssize_t limit, const char *limit_name)
{
    char what[300];
    PyObject *v = field(L, d, where, key, K_LIST, required);
    if (!v || v == Py_None)
        return v;
    if (PyList_GET_SIZE(v) > limit) {
        path_join(what, sizeof what, where, key);
        fail(L, "%s is over a limit: %zd %s, at most %zd" LIMITS, what, PyList_GET_SIZE(v),
             limit_name, limit);
        return NULL;
    }
    return v;
}

/* Object `v` (described by `what`) or EvidenceError. */
static int
check_dict(Loader *L, PyObject *v, const char *what)
{
    if (PyDict_CheckExact(v))
        return 0;
    fail(L, CORRUPT "%s is %s, not an object", what, json_kind(v));
    return -1;
}

/* Borrowed item of `list` at index value `v` (an int), or EvidenceError. */
static PyObject *
at_index(Loader *L, PyObject *list, PyObject *v, const char *what)
{
    long long i;
    if (int_value(L, v, what, 0, PyList_GET_SIZE(list) - 1, &i) < 0) {
        if (PyList_GET_SIZE(list) == 0 && PyLong_CheckExact(v))
            fail(L, CORRUPT "%s is an index into an empty list", what);
        return NULL;
    }
    return PyList_GET_ITEM(list, (Py_ssize_t)i);
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */

static PyObject *
decode_value(Loader *L, PyObject *node, const char *where)
{
    /* Owned */
    ValueObj *v = NULL;
    PyObject *items = NULL, *entries = NULL, *attrs = NULL;
    char what[300];
    long long n;

    if (check_dict(L, node, where) < 0)
        return NULL;
    PyObject *repr = str_field(L, node, where, "repr", 1, 0);
    PyObject *tname = repr ? str_field(L, node, where, "type", 0, NAME) : NULL;
    if (!tname || !field(L, node, where, "redacted", K_BOOL, 0))
        return NULL;
    PyObject *value = PyDict_GetItemString(node, "value");      /* borrowed */
    if (value) {
        path_join(what, sizeof what, where, "value");
        if (value == Py_None || PyBool_Check(value) || PyLong_CheckExact(value)
                || PyFloat_CheckExact(value))
            return Py_NewRef(value);
        if (PyUnicode_CheckExact(value))
            return check_str(L, value, what, 0) < 0 ? NULL : Py_NewRef(value);
        fail(L, CORRUPT "%s is %s, not a number, a string, true, false or null", what,
             json_kind(value));
        return NULL;
    }
    if (Py_EnterRecursiveCall(" while loading an evidence file"))
        return NULL;
    v = (ValueObj *)snap_new(L->st->value_type);
    if (!v)
        goto error;
    v->type_name = tname != Py_None ? Py_NewRef(tname) : PyUnicode_FromString("object");
    v->repr_text = Py_NewRef(repr);
    if (!v->type_name || int_field(L, node, where, "len", 0, -1, PY_SSIZE_T_MAX, -1, &n) < 0)
        goto error;
    v->length = (Py_ssize_t)n;
    PyObject *raw;
    if (!(raw = list_field(L, node, where, "items", 0, SNAP_MAX_ITEMS, "items")))
        goto error;
    if (raw != Py_None) {
        items = PyList_New(PyList_GET_SIZE(raw));
        if (!items)
            goto error;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(raw); i++) {
            snprintf(what, sizeof what, "%s.items[%zd]", where, i);
            PyObject *x = decode_value(L, PyList_GET_ITEM(raw, i), what);
            if (!x)
                goto error;
            PyList_SET_ITEM(items, i, x);
        }
        v->items = items;
        items = NULL;
        goto done;
    }
    if (!(raw = list_field(L, node, where, "entries", 0, SNAP_MAX_ITEMS, "entries")))
        goto error;
    if (raw != Py_None) {
        entries = PyList_New(PyList_GET_SIZE(raw));
        if (!entries)
            goto error;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(raw); i++) {
            PyObject *pair = PyList_GET_ITEM(raw, i);
            snprintf(what, sizeof what, "%s.entries[%zd]", where, i);
            if (!PyList_CheckExact(pair) || PyList_GET_SIZE(pair) != 2) {
                fail(L, CORRUPT "%s is not a [key, value] pair", what);
                goto error;
            }
            PyObject *k = decode_value(L, PyList_GET_ITEM(pair, 0), what);
            PyObject *x = k ? decode_value(L, PyList_GET_ITEM(pair, 1), what) : NULL;
            PyObject *t = x ? PyTuple_Pack(2, k, x) : NULL;
            Py_XDECREF(k);
            Py_XDECREF(x);
            if (!t)
                goto error;
            PyList_SET_ITEM(entries, i, t);
        }
        v->entries = entries;
        entries = NULL;
        goto done;
    }
    if (!(raw = field(L, node, where, "attrs", K_DICT, 0)))
        goto error;
    if (raw != Py_None) {
        path_join(what, sizeof what, where, "attrs");
        if (PyDict_GET_SIZE(raw) > SNAP_MAX_ITEMS) {
            fail(L, "%s is over a limit: %zd attributes, at most %d" LIMITS, what,
                 PyDict_GET_SIZE(raw), SNAP_MAX_ITEMS);
            goto error;
        }
        attrs = PyDict_New();
        if (!attrs)
            goto error;
        PyObject *k, *x;
        Py_ssize_t pos = 0;
        while (PyDict_Next(raw, &pos, &k, &x)) {
            snprintf(what, sizeof what, "%s.attrs[%zd]", where, pos - 1);
            if (check_str(L, k, what, NAME) < 0)
                goto error;
            PyObject *d = decode_value(L, x, what);
            if (!d || PyDict_SetItem(attrs, k, d) < 0) {
                Py_XDECREF(d);
                goto error;
            }
            Py_DECREF(d);
        }
        v->attrs = attrs;
        attrs = NULL;
    }
done:
    Py_LeaveRecursiveCall();
    return (PyObject *)v;
error:
    Py_LeaveRecursiveCall();
    Py_XDECREF(v);
    Py_XDECREF(items);
    Py_XDECREF(entries);
    Py_XDECREF(attrs);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */

/* Tuple of the names in array `list` (described by `what`). */
static PyObject *
name_tuple(Loader *L, PyObject *list, const char *what)
{
    char item[320];
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *x = PyList_GET_ITEM(list, i);
        snprintf(item, sizeof item, "%s[%zd]", what, i);
        if (!PyUnicode_CheckExact(x)) {
            fail(L, CORRUPT "%s is %s, not a string", item, json_kind(x));
            return NULL;
        }
        if (check_str(L, x, item, NAME) < 0)
            return NULL;
    }
    return PyList_AsTuple(list);
}

/* Validated (lineno, end_lineno, col, end_col) from field "positions" of
 * `d`: a new tuple, (None,)*4 when absent. Lines and columns are bounded,
 * and so are the lines an instruction spans, one by one and all together:
 * the standard library's traceback formatting reads every one of them. */
static PyObject *
positions_field(Loader *L, PyObject *d, const char *where)
{
    char what[300], item[320];
    long long x[4];
    int known[4];
    PyObject *raw = list_field(L, d, where, "positions", 0, 4, "items");
    if (!raw)
        return NULL;
    if (raw == Py_None)
        return Py_BuildValue("(OOOO)", Py_None, Py_None, Py_None, Py_None);
    path_join(what, sizeof what, where, "positions");
    if (PyList_GET_SIZE(raw) != 4) {
        fail(L, CORRUPT "%s has %zd items, not 4 (line, end line, column, end column)", what,
             PyList_GET_SIZE(raw));
        return NULL;
    }
    for (int i = 0; i < 4; i++) {
        PyObject *v = PyList_GET_ITEM(raw, i);
        snprintf(item, sizeof item, "%s[%d]", what, i);
        known[i] = v != Py_None;
        x[i] = 0;
        if (known[i] && int_value(L, v, item, 0, i < 2 ? SNAP_MAX_LINENO : SNAP_MAX_COLUMN,
                                  &x[i]) < 0)
            return NULL;
    }
    if (known[0] && known[1]) {
        if (x[1] < x[0]) {
            fail(L, CORRUPT "%s: the end line %lld is before the line %lld", what, x[1], x[0]);
            return NULL;
        }
        if (x[1] - x[0] >= SNAP_MAX_SPAN) {
            fail(L, "%s is over a limit: the instruction spans %lld lines, at most %d" LIMITS,
                 what, x[1] - x[0] + 1, SNAP_MAX_SPAN);
            return NULL;
        }
        L->spans += (Py_ssize_t)(x[1] - x[0] + 1);
        if (L->spans > SNAP_MAX_SPANS) {
            fail(L, "%s is over a limit: positions span more than %d lines in all" LIMITS,
                 what, SNAP_MAX_SPANS);
            return NULL;
        }
    }
    return PyList_AsTuple(raw);
}

/* Record positions `pos` (a 4-tuple) for `lasti` on the frame's code. */
static int
record_positions(PyObject *frame, long long lasti, PyObject *pos)
{
    if (lasti < 0 || PyTuple_GET_ITEM(pos, 0) == Py_None)
        return 0;
    PyObject *key = PyLong_FromLongLong(lasti);
    int rc = key ? PyDict_SetItem(((CodeObj *)((FrameObj *)frame)->f_code)->positions, key, pos)
                 : -1;
    Py_XDECREF(key);
    return rc;
}

static PyObject *
build_code(Loader *L, PyObject *fd, const char *where)
{
    char what[300];
    long long v;
    CodeObj *c = (CodeObj *)snap_new(L->st->code_type);
    if (!c)
        return NULL;
    PyObject *filename = str_field(L, fd, where, "filename", 1, PATHNAME);
    PyObject *name = filename ? str_field(L, fd, where, "name", 1, NAME) : NULL;
    PyObject *qual = name ? str_field(L, fd, where, "qualname", 0, NAME) : NULL;
    if (!qual || int_field(L, fd, where, "firstlineno", 1, 0, SNAP_MAX_LINENO, 0, &v) < 0)
        goto error;
    c->co_filename = Py_NewRef(filename);
    c->co_name = Py_NewRef(name);
    c->co_qualname = Py_NewRef(qual != Py_None ? qual : name);
    c->co_firstlineno = (int)v;
    c->positions = PyDict_New();
    if (!c->positions)
        goto error;
    PyObject *code = field(L, fd, where, "code", K_DICT, 0);
    if (!code)
        goto error;
    if (code != Py_None) {
        path_join(what, sizeof what, where, "code");
        long long n[4];
        static const char *const keys[] = {"argcount", "posonlyargcount", "kwonlyargcount", "flags"};
        for (int i = 0; i < 4; i++)
            if (int_field(L, code, what, keys[i], 1, 0, i < 3 ? SNAP_MAX_ITEMS : INT_MAX, 0,
                          &n[i]) < 0)
                goto error;
        c->co_argcount = (int)n[0];
        c->co_posonlyargcount = (int)n[1];
        c->co_kwonlyargcount = (int)n[2];
        c->co_flags = (int)n[3];
        PyObject *names = list_field(L, code, what, "varnames", 1, SNAP_MAX_ITEMS, "names");
        char vwhat[300];
        path_join(vwhat, sizeof vwhat, what, "varnames");
        if (!names || !(c->co_varnames = name_tuple(L, names, vwhat)))
            goto error;
    }
    else if (!(c->co_varnames = PyTuple_New(0)))
        goto error;
    return (PyObject *)c;
error:
    Py_DECREF(c);
    return NULL;
}

static int
build_frame(Loader *L, FrameObj *f, PyObject *fd, const char *where)
{
    char what[300];
    long long v;
    if (check_dict(L, fd, where) < 0)
        return -1;
    f->f_code = build_code(L, fd, where);
    if (!f->f_code || int_field(L, fd, where, "lineno", 0, -1, SNAP_MAX_LINENO, -1, &v) < 0)
        return -1;
    f->f_lineno = (int)v;
    if (int_field(L, fd, where, "lasti", 0, -1, SNAP_MAX_LASTI, -1, &v) < 0)
        return -1;
    f->f_lasti = (int)v;
    PyObject *pos = positions_field(L, fd, where);
    int rc = pos ? record_positions((PyObject *)f, f->f_lasti, pos) : -1;
    Py_XDECREF(pos);
    if (rc < 0)
        return -1;
    f->f_locals = PyDict_New();
    f->f_builtins = PyDict_New();
    f->f_trace = Py_NewRef(Py_None);
    f->f_back = Py_NewRef(Py_None);
    f->f_globals = PyDict_New();
    if (!f->f_locals || !f->f_builtins || !f->f_globals)
        return -1;
    PyObject *locals = field(L, fd, where, "locals", K_DICT, 0);
    if (!locals)
        return -1;
    if (locals != Py_None && PyDict_GET_SIZE(locals) > SNAP_MAX_ITEMS) {
        fail(L, "%s.locals is over a limit: %zd locals, at most %d" LIMITS, where,
             PyDict_GET_SIZE(locals), SNAP_MAX_ITEMS);
        return -1;
    }
    PyObject *k, *x;
    Py_ssize_t p = 0;
    while (locals != Py_None && PyDict_Next(locals, &p, &k, &x)) {
        snprintf(what, sizeof what, "%s.locals[%zd]", where, p - 1);
        if (check_str(L, k, what, NAME) < 0)
            return -1;
        PyObject *d = decode_value(L, x, what);
        if (!d || PyDict_SetItem(f->f_locals, k, d) < 0) {
            Py_XDECREF(d);
            return -1;
        }
        Py_DECREF(d);
    }
    if (int_field(L, fd, where, "locals_omitted", 0, -1, PY_SSIZE_T_MAX, 0, &v) < 0)
        return -1;
    f->locals_omitted = (Py_ssize_t)v;
    /* Only the two globals capture writes; the debugger's linecache lookups
     * pass f_globals, so both keys are always there. */
    PyObject *g = field(L, fd, where, "globals", K_DICT, 0);
    if (!g)
        return -1;
    path_join(what, sizeof what, where, "globals");
    PyObject *gname = g != Py_None ? str_field(L, g, what, "__name__", 0, NAME) : Py_None;
    PyObject *gfile = gname && g != Py_None ? str_field(L, g, what, "__file__", 0, PATHNAME)
                                            : gname;
    if (!gfile || PyDict_SetItemString(f->f_globals, "__name__", gname) < 0
            || PyDict_SetItemString(f->f_globals, "__file__", gfile) < 0)
        return -1;
    return 0;
}

static int
build_frames(Loader *L, PyObject *raw)
{
    char where[64];
    Py_ssize_t n = PyList_GET_SIZE(raw);
    for (Py_ssize_t i = 0; i < n; i++) {
        FrameObj *f = (FrameObj *)snap_new(L->st->frame_type);
        if (!f)
            return -1;
        if (PyList_Append(L->frames, (PyObject *)f) < 0) {
            Py_DECREF(f);
            return -1;
        }
        Py_DECREF(f);       /* the list keeps it */
        snprintf(where, sizeof where, "frames[%zd]", i);
        if (build_frame(L, f, PyList_GET_ITEM(raw, i), where) < 0)
            return -1;
    }
    /* Second pass: f_back links, refusing cycles (a debugger walks them). */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *back = PyDict_GetItemString(PyList_GET_ITEM(raw, i), "back");
        if (!back || back == Py_None)
            continue;
        snprintf(where, sizeof where, "frames[%zd].back", i);
        PyObject *b = at_index(L, L->frames, back, where);
        if (!b)
            return -1;
        Py_SETREF(((FrameObj *)PyList_GET_ITEM(L->frames, i))->f_back, Py_NewRef(b));
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *f = PyList_GET_ITEM(L->frames, i);
        Py_ssize_t steps = 0;
        while (f != Py_None && steps <= n) {
            f = ((FrameObj *)f)->f_back;
            steps++;
        }
        if (steps > n) {
            PyErr_SetString(L->st->error, CORRUPT "frame.back links form a cycle");
            return -1;
        }
    }
    return 0;
}

/* The traceback chain of exception dict `ed`: first entry or None. */
static PyObject *
build_traceback(Loader *L, PyObject *ed, const char *where)
{
    /* Owned */
    PyObject *next = Py_NewRef(Py_None);
    char what[300];
    long long ln, lasti;

    PyObject *raw = list_field(L, ed, where, "traceback", 1, SNAP_MAX_TB_ENTRIES, "entries");
    if (!raw)
        goto error;
    L->tb_entries += PyList_GET_SIZE(raw);
    if (L->tb_entries > SNAP_MAX_TB_ENTRIES) {
        fail(L, "%s.traceback is over a limit: more than %d traceback entries in all" LIMITS,
             where, SNAP_MAX_TB_ENTRIES);
        goto error;
    }
    for (Py_ssize_t i = PyList_GET_SIZE(raw) - 1; i >= 0; i--) {
        PyObject *td = PyList_GET_ITEM(raw, i);
        snprintf(what, sizeof what, "%s.traceback[%zd]", where, i);
        if (check_dict(L, td, what) < 0)
            goto error;
        PyObject *fv = field(L, td, what, "frame", K_INT, 1);
        char fwhat[320];
        snprintf(fwhat, sizeof fwhat, "%s.frame", what);
        PyObject *frame = fv ? at_index(L, L->frames, fv, fwhat) : NULL;
        if (!frame || int_field(L, td, what, "lineno", 0, -1, SNAP_MAX_LINENO,
                                ((FrameObj *)frame)->f_lineno, &ln) < 0
                || int_field(L, td, what, "lasti", 0, -1, SNAP_MAX_LASTI, -1, &lasti) < 0
                || !field(L, td, what, "traceback_omitted", K_INT, 0))
            goto error;
        TbObj *t = (TbObj *)snap_new(L->st->tb_type);
        if (!t)
            goto error;
        t->tb_frame = Py_NewRef(frame);
        t->tb_next = next;
        next = (PyObject *)t;
        t->tb_lineno = (int)ln;
        t->tb_lasti = (int)lasti;
        t->positions = positions_field(L, td, what);
        if (!t->positions || record_positions(frame, lasti, t->positions) < 0)
            goto error;
    }
    return next;
error:
    Py_XDECREF(next);
    return NULL;
}

static int
build_exception(Loader *L, ExcObj *e, PyObject *ed, const char *where)
{
    char what[300];
    if (check_dict(L, ed, where) < 0)
        return -1;
    PyObject *type = str_field(L, ed, where, "type", 1, NAME);
    PyObject *s = type ? str_field(L, ed, where, "str", 1, 0) : NULL;
    PyObject *mod = s ? str_field(L, ed, where, "module", 0, NAME) : NULL;
    PyObject *repr = mod ? str_field(L, ed, where, "repr", 0, 0) : NULL;
    PyObject *sup = repr ? field(L, ed, where, "suppress_context", K_BOOL, 0) : NULL;
    PyObject *notes = sup ? list_field(L, ed, where, "notes", 0, SNAP_MAX_ITEMS, "notes") : NULL;
    if (!notes || !field(L, ed, where, "traceback_omitted", K_INT, 0))
        return -1;
    e->type_name = Py_NewRef(type);
    e->module = Py_NewRef(mod);
    e->str_text = Py_NewRef(s);
    if (repr != Py_None)
        e->repr_text = Py_NewRef(repr);
    else
        e->repr_text = PyUnicode_FromFormat("%U(%R)", type, s);
    e->args = PyTuple_Pack(1, s);
    e->cause = Py_NewRef(Py_None);
    e->context = Py_NewRef(Py_None);
    e->suppress_context = sup == Py_True;
    if (!e->repr_text || !e->args)
        return -1;
    if (notes != Py_None) {
        path_join(what, sizeof what, where, "notes");
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(notes); i++)
            if (!PyUnicode_CheckExact(PyList_GET_ITEM(notes, i))) {
                fail(L, CORRUPT "%s[%zd] is %s, not a string", what, i,
                     json_kind(PyList_GET_ITEM(notes, i)));
                return -1;
            }
        e->notes = PyList_GetSlice(notes, 0, PY_SSIZE_T_MAX);
        if (!e->notes)
            return -1;
    }
    e->traceback = build_traceback(L, ed, where);
    return e->traceback ? 0 : -1;
}

static int
build_exceptions(Loader *L, PyObject *raw)
{
    char where[64], what[128];
    Py_ssize_t n = PyList_GET_SIZE(raw);
    for (Py_ssize_t i = 0; i < n; i++) {
        ExcObj *e = (ExcObj *)snap_new(L->st->exc_type);
        if (!e)
            return -1;
        if (PyList_Append(L->excs, (PyObject *)e) < 0) {
            Py_DECREF(e);
            return -1;
        }
        Py_DECREF(e);
        snprintf(where, sizeof where, "exceptions[%zd]", i);
        if (build_exception(L, e, PyList_GET_ITEM(raw, i), where) < 0)
            return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ed = PyList_GET_ITEM(raw, i);
        ExcObj *e = (ExcObj *)PyList_GET_ITEM(L->excs, i);
        PyObject *v;
        static const char *const links[] = {"cause", "context"};
        for (int j = 0; j < 2; j++) {
            if ((v = PyDict_GetItemString(ed, links[j])) == NULL || v == Py_None)
                continue;
            snprintf(what, sizeof what, "exceptions[%zd].%s", i, links[j]);
            PyObject *x = at_index(L, L->excs, v, what);
            if (!x)
                return -1;
            Py_SETREF(*(j ? &e->context : &e->cause), Py_NewRef(x));
        }
        snprintf(where, sizeof where, "exceptions[%zd]", i);
        if (!(v = list_field(L, ed, where, "members", 0, SNAP_MAX_EXCEPTIONS, "members")))
            return -1;
        if (v == Py_None)
            continue;
        e->exceptions = PyTuple_New(PyList_GET_SIZE(v));
        if (!e->exceptions)
            return -1;
        for (Py_ssize_t k = 0; k < PyList_GET_SIZE(v); k++) {
            snprintf(what, sizeof what, "exceptions[%zd].members[%zd]", i, k);
            PyObject *x = at_index(L, L->excs, PyList_GET_ITEM(v, k), what);
            if (!x)
                return -1;
            PyTuple_SET_ITEM(e->exceptions, k, Py_NewRef(x));
        }
    }
    return 0;
}

/* Frame list (outermost first) from an array of indexes. */
static PyObject *
frame_list(Loader *L, PyObject *raw, const char *where)
{
    char what[300];
    PyObject *out = PyList_New(PyList_GET_SIZE(raw));
    if (!out)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(raw); i++) {
        snprintf(what, sizeof what, "%s[%zd]", where, i);
        PyObject *f = at_index(L, L->frames, PyList_GET_ITEM(raw, i), what);
        if (!f) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, Py_NewRef(f));
    }
    return out;
}

/* tb-like chain over `frames` (outermost first), at each frame's line. */
static PyObject *
stack_traceback(Loader *L, PyObject *frames)
{
    PyObject *next = Py_NewRef(Py_None);
    for (Py_ssize_t i = PyList_GET_SIZE(frames) - 1; i >= 0; i--) {
        FrameObj *f = (FrameObj *)PyList_GET_ITEM(frames, i);
        TbObj *t = (TbObj *)snap_new(L->st->tb_type);
        if (!t) {
            Py_DECREF(next);
            return NULL;
        }
        t->tb_frame = Py_NewRef((PyObject *)f);
        t->tb_next = next;
        t->tb_lineno = f->f_lineno;
        t->tb_lasti = f->f_lasti;
        t->positions = Py_BuildValue("(OOOO)", Py_None, Py_None, Py_None, Py_None);
        next = (PyObject *)t;
        if (!t->positions) {
            Py_DECREF(next);
            return NULL;
        }
    }
    return next;
}

static PyObject *
build_threads(Loader *L, PyObject *raw)
{
    char where[64];
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    for (Py_ssize_t i = 0; raw != Py_None && i < PyList_GET_SIZE(raw); i++) {
        PyObject *td = PyList_GET_ITEM(raw, i);
        snprintf(where, sizeof where, "threads[%zd]", i);
        PyObject *id = NULL, *name = NULL, *frames = NULL, *fr = NULL;
        if (check_dict(L, td, where) == 0
                && field(L, td, where, "ident", K_INT, 1) != NULL
                && (name = str_field(L, td, where, "name", 0, NAME)) != NULL
                && (fr = list_field(L, td, where, "frames", 1, SNAP_MAX_FRAMES, "frames")) != NULL) {
            char what[80];
            snprintf(what, sizeof what, "%s.frames", where);
            frames = frame_list(L, fr, what);
        }
        if (!frames) {
            Py_DECREF(out);
            return NULL;
        }
        id = PyDict_GetItemString(td, "ident");
        Py_ssize_t nf = PyList_GET_SIZE(frames);
        PyObject *d = Py_BuildValue("{sOsOsOsO}", "ident", id, "name", name,
                                    "frames", frames, "frame",
                                    nf ? PyList_GET_ITEM(frames, nf - 1) : Py_None);
        Py_DECREF(frames);
        if (!d || PyList_Append(out, d) < 0) {
            Py_XDECREF(d);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(d);
    }
    return out;
}

/* "sources": {filename: [[first_lineno >= 1, [str, ...]], ...]}. The lines
 * register_sources() will hold for each file, gaps included, are bounded in
 * all. */
static int
check_sources(Loader *L, PyObject *sources)
{
    PyObject *k, *ranges;
    Py_ssize_t pos = 0, total = 0;
    char what[320];
    if (PyDict_GET_SIZE(sources) > SNAP_MAX_SOURCE_FILES) {
        fail(L, "sources is over a limit: %zd files, at most %d" LIMITS, PyDict_GET_SIZE(sources),
             SNAP_MAX_SOURCE_FILES);
        return -1;
    }
    while (PyDict_Next(sources, &pos, &k, &ranges)) {
        Py_ssize_t end = 0;
        snprintf(what, sizeof what, "sources[%zd]", pos - 1);
        if (check_str(L, k, what, PATHNAME) < 0)
            return -1;
        if (!PyList_CheckExact(ranges)) {
            fail(L, CORRUPT "%s is %s, not an array", what, json_kind(ranges));
            return -1;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ranges); i++) {
            PyObject *r = PyList_GET_ITEM(ranges, i);
            long long first;
            snprintf(what, sizeof what, "sources[%zd][%zd]", pos - 1, i);
            if (!PyList_CheckExact(r) || PyList_GET_SIZE(r) != 2
                    || !PyList_CheckExact(PyList_GET_ITEM(r, 1))) {
                fail(L, CORRUPT "%s is not [first line, [lines]]", what);
                return -1;
            }
            if (int_value(L, PyList_GET_ITEM(r, 0), what, 1, SNAP_MAX_LINENO, &first) < 0)
                return -1;
            PyObject *lines = PyList_GET_ITEM(r, 1);
            for (Py_ssize_t j = 0; j < PyList_GET_SIZE(lines); j++)
                if (!PyUnicode_CheckExact(PyList_GET_ITEM(lines, j))) {
                    fail(L, CORRUPT "%s line %zd is %s, not a string", what, j,
                         json_kind(PyList_GET_ITEM(lines, j)));
                    return -1;
                }
            if ((Py_ssize_t)first - 1 + PyList_GET_SIZE(lines) > end)
                end = (Py_ssize_t)first - 1 + PyList_GET_SIZE(lines);
        }
        total += end;
        if (total > SNAP_MAX_SOURCE_LINES) {
            fail(L, "sources is over a limit: more than %d lines in all (gaps before a "
                 "file's first stored line count)" LIMITS, SNAP_MAX_SOURCE_LINES);
            return -1;
        }
    }
    return 0;
}

/* "redactions": {"count": N, "kinds": {"name": N, ...}}, optional: a new
 * dict holding only what was checked, or None when absent. */
static PyObject *
check_redactions(Loader *L, PyObject *doc)
{
    /* Owned */
    PyObject *res = NULL, *kinds = NULL;
    long long count, n;
    char what[320];

    PyObject *red = field(L, doc, "", "redactions", K_DICT, 0);
    if (!red)
        return NULL;
    if (red == Py_None)
        return Py_NewRef(Py_None);
    if (int_field(L, red, "redactions", "count", 1, 0, SNAP_MAX_COUNT, 0, &count) < 0)
        return NULL;
    PyObject *k = field(L, red, "redactions", "kinds", K_DICT, 1), *key, *v;
    if (!k)
        return NULL;
    if (PyDict_GET_SIZE(k) > SNAP_MAX_KINDS) {
        fail(L, "redactions.kinds is over a limit: %zd kinds, at most %d" LIMITS,
             PyDict_GET_SIZE(k), SNAP_MAX_KINDS);
        return NULL;
    }
    kinds = PyDict_New();
    if (!kinds)
        return NULL;
    Py_ssize_t pos = 0;
    while (PyDict_Next(k, &pos, &key, &v)) {
        snprintf(what, sizeof what, "redactions.kinds[%zd]", pos - 1);
        if (check_str(L, key, what, NAME) < 0 || int_value(L, v, what, 0, SNAP_MAX_COUNT, &n) < 0)
            goto done;
        if (PyDict_SetItem(kinds, key, v) < 0)
            goto done;
    }
    res = Py_BuildValue("{s:L,s:O}", "count", count, "kinds", kinds);
done:
    Py_XDECREF(kinds);
    return res;
}

/* The environment fields the summary shows: of the right kind, or absent. */
static int
check_environment(Loader *L, PyObject *env)
{
    PyObject *py = field(L, env, "environment", "python", K_DICT, 0);
    PyObject *plat = py ? field(L, env, "environment", "platform", K_DICT, 0) : NULL;
    if (!plat)
        return -1;
    if (py != Py_None && (!str_field(L, py, "environment.python", "version", 0, 0)
                          || !str_field(L, py, "environment.python", "executable", 0, NAME)))
        return -1;
    if (plat != Py_None && !str_field(L, plat, "environment.platform", "sys_platform", 0, NAME))
        return -1;
    if (!str_field(L, env, "environment", "hostname", 0, NAME)
            || !str_field(L, env, "environment", "cwd", 0, NAME)
            || !str_field(L, env, "environment", "time", 0, NAME)
            || !field(L, env, "environment", "pid", K_INT, 0))
        return -1;
    PyObject *argv = list_field(L, env, "environment", "argv", 0, SNAP_MAX_ITEMS, "arguments");
    if (!argv)
        return -1;
    for (Py_ssize_t i = 0; argv != Py_None && i < PyList_GET_SIZE(argv); i++)
        if (!PyUnicode_CheckExact(PyList_GET_ITEM(argv, i))) {
            fail(L, CORRUPT "environment.argv[%zd] is %s, not a string", i,
                 json_kind(PyList_GET_ITEM(argv, i)));
            return -1;
        }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading the text, within limits                                          */

#define READ_CHUNK (1 << 20)

static int
grow_append(Loader *L, PyObject *buf, const char *p, Py_ssize_t n, const char *what)
{
    Py_ssize_t have = PyByteArray_GET_SIZE(buf);
    if (have + n > SNAP_MAX_FILE_BYTES) {
        fail(L, "the file is over a limit: %s more than %ld bytes (64 MiB)" LIMITS, what,
             (long)SNAP_MAX_FILE_BYTES);
        return -1;
    }
    if (PyByteArray_Resize(buf, have + n) < 0)
        return -1;
    memcpy(PyByteArray_AS_STRING(buf) + have, p, (size_t)n);
    return 0;
}

/* Feed compressed `data` to the gzip stream `*d`, appending at most the size
 * limit to `out`: zlib's max_length keeps memory bounded however much the
 * data expands. A new member starts after the end of one (gzip allows
 * several). */
static int
gunzip_feed(Loader *L, PyObject *zlib, PyObject **d, PyObject *data, PyObject *out)
{
    /* Owned */
    PyObject *buf = Py_NewRef(data), *piece = NULL, *eof = NULL;
    int rc = -1;

    while (PyBytes_GET_SIZE(buf) > 0) {
        eof = PyObject_GetAttrString(*d, "eof");
        if (!eof)
            goto done;
        if (eof == Py_True) {
            if (memcmp(PyBytes_AS_STRING(buf), "\x1f\x8b", PyBytes_GET_SIZE(buf) < 2 ? 1 : 2)) {
                fail(L, "corrupt gzip data (something else follows the compressed data)");
                goto done;
            }
            Py_SETREF(*d, PyObject_CallMethod(zlib, "decompressobj", "i", 47));
            if (!*d)
                goto done;
        }
        Py_CLEAR(eof);
        Py_ssize_t room = SNAP_MAX_FILE_BYTES - PyByteArray_GET_SIZE(out);
        piece = PyObject_CallMethod(*d, "decompress", "On", buf, room + 1);
        if (!piece) {
            if (is_fatal_error())
                goto done;
            PyObject *exc = PyErr_GetRaisedException();
            PyObject *msg = exc ? PyObject_Str(exc) : NULL;
            Py_XDECREF(exc);
            PyErr_Clear();
            PyErr_Format(L->st->error, "corrupt gzip data (%S)", msg ? msg : Py_None);
            Py_XDECREF(msg);
            goto done;
        }
        if (grow_append(L, out, PyBytes_AS_STRING(piece), PyBytes_GET_SIZE(piece),
                        "decompressed, it holds") < 0)
            goto done;
        Py_CLEAR(piece);
        eof = PyObject_GetAttrString(*d, "eof");
        if (!eof)
            goto done;
        Py_SETREF(buf, PyObject_GetAttrString(*d, eof == Py_True ? "unused_data"
                                                                 : "unconsumed_tail"));
        Py_CLEAR(eof);
        if (!buf || !PyBytes_Check(buf))
            goto done;
    }
    rc = 0;
done:
    Py_XDECREF(buf);
    Py_XDECREF(piece);
    Py_XDECREF(eof);
    return rc;
}

/* The file's text (a bytearray), gunzipped when it starts with the gzip
 * magic; read in chunks, never more than the size limit. */
static PyObject *
read_text(Loader *L, PyObject *path)
{
    /* Owned */
    PyObject *io = NULL, *f = NULL, *chunk = NULL, *zlib = NULL, *d = NULL, *out = NULL;
    PyObject *res = NULL;
    Py_ssize_t raw = 0;
    int gz = -1;

    io = PyImport_ImportModule("io");
    f = io ? PyObject_CallMethod(io, "open", "Os", path, "rb") : NULL;
    out = f ? PyByteArray_FromStringAndSize(NULL, 0) : NULL;
    if (!out)
        goto done;
    for (;;) {
        chunk = PyObject_CallMethod(f, "read", "i", READ_CHUNK);
        if (!chunk)
            goto done;
        if (!PyBytes_Check(chunk)) {
            PyErr_SetString(PyExc_TypeError, "read() did not return bytes");
            goto done;
        }
        if (PyBytes_GET_SIZE(chunk) == 0)
            break;
        raw += PyBytes_GET_SIZE(chunk);
        if (gz < 0) {
            gz = PyBytes_GET_SIZE(chunk) >= 2 && memcmp(PyBytes_AS_STRING(chunk), "\x1f\x8b", 2) == 0;
            if (gz) {
                zlib = PyImport_ImportModule("zlib");
                d = zlib ? PyObject_CallMethod(zlib, "decompressobj", "i", 47) : NULL;
                if (!d)
                    goto done;
            }
        }
        if (gz) {
            if (raw > SNAP_MAX_FILE_BYTES) {
                fail(L, "the file is over a limit: more than %ld bytes (64 MiB)" LIMITS,
                     (long)SNAP_MAX_FILE_BYTES);
                goto done;
            }
            if (gunzip_feed(L, zlib, &d, chunk, out) < 0)
                goto done;
        }
        else if (grow_append(L, out, PyBytes_AS_STRING(chunk), PyBytes_GET_SIZE(chunk),
                             "it holds") < 0)
            goto done;
        Py_CLEAR(chunk);
    }
    if (gz == 1) {
        PyObject *eof = PyObject_GetAttrString(d, "eof");
        if (!eof)
            goto done;
        Py_DECREF(eof);
        if (eof != Py_True) {
            fail(L, "truncated gzip data (the file ends early)");
            goto done;
        }
    }
    res = Py_NewRef(out);
done:
    if (f) {
        PyObject *exc = PyErr_GetRaisedException();
        PyObject *r = PyObject_CallMethod(f, "close", NULL);
        Py_XDECREF(r);
        if (exc)
            PyErr_SetRaisedException(exc);
        else if (!r)
            Py_CLEAR(res);
    }
    Py_XDECREF(io);
    Py_XDECREF(f);
    Py_XDECREF(chunk);
    Py_XDECREF(zlib);
    Py_XDECREF(d);
    Py_XDECREF(out);
    return res;
}

/* One pass over the JSON text before json.loads builds anything: nesting,
 * string and number lengths and the count of values stay within limits, so
 * what json.loads then builds is bounded too. Not a validator (json.loads
 * is one): it only counts what drives work. */
static int
scan_json(Loader *L, const unsigned char *p, Py_ssize_t n)
{
    Py_ssize_t depth = 0, nodes = 0, i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '"') {
            Py_ssize_t chars = 0, start = i++;
            while (i < n && p[i] != '"') {
                if (p[i] == '\\')
                    i += i + 1 < n && p[i + 1] == 'u' ? 6 : 2;
                else {
                    do
                        i++;
                    while (i < n && (p[i] & 0xc0) == 0x80);   /* one UTF-8 character */
                }
                chars++;
            }
            if (chars > SNAP_MAX_STRING) {
                fail(L, "the file is over a limit: a string of %zd characters (at byte %zd), "
                     "strings have at most %d" LIMITS, chars, start, SNAP_MAX_STRING);
                return -1;
            }
            i++;
            nodes++;
        }
        else if (c == '{' || c == '[') {
            if (++depth > SNAP_MAX_DEPTH) {
                fail(L, "the file is over a limit: arrays and objects nest more than %d "
                     "deep (at byte %zd)" LIMITS, SNAP_MAX_DEPTH, i);
                return -1;
            }
            nodes++;
            i++;
        }
        else if (c == '}' || c == ']') {
            depth--;
            i++;
        }
        else if (c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
                 || (c >= 'A' && c <= 'Z')) {
            Py_ssize_t start = i;
            while (i < n && (p[i] == '-' || p[i] == '+' || p[i] == '.' || (p[i] >= '0' && p[i] <= '9')
                             || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
                i++;
            if (i - start > SNAP_MAX_NUMBER) {
                fail(L, "the file is over a limit: a number or word of %zd characters (at "
                     "byte %zd), at most %d" LIMITS, i - start, start, SNAP_MAX_NUMBER);
                return -1;
            }
            nodes++;
        }
        else
            i++;
        if (nodes > SNAP_MAX_NODES) {
            fail(L, "the file is over a limit: more than %d JSON values" LIMITS, SNAP_MAX_NODES);
            return -1;
        }
    }
    return 0;
}

PyObject *
Snapshot_load(EvidenceState *st, PyObject *path)
{
    /* Owned */
    PyObject *data = NULL, *json = NULL, *doc = NULL, *res = NULL, *redactions = NULL;
    EvidenceObj *ev = NULL;
    Loader L = {st, NULL, NULL, 0, 0};
    long long ver;

    data = read_text(&L, path);
    if (!data)
        goto done;
    if (PyByteArray_GET_SIZE(data) == 0) {
        PyErr_SetString(st->error, "the file is empty");
        goto done;
    }
    const unsigned char *p = (const unsigned char *)PyByteArray_AS_STRING(data);
    Py_ssize_t size = PyByteArray_GET_SIZE(data), i = 0;
    while (i < size && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
        i++;
    if (i >= size || p[i] != '{') {
        PyErr_SetString(st->error, "not a sleuth evidence file (it is not a JSON object)");
        goto done;
    }
    if (scan_json(&L, p, size) < 0)
        goto done;
    json = PyImport_ImportModule("json");
    if (!json)
        goto done;
    doc = PyObject_CallMethod(json, "loads", "O", data);
    Py_CLEAR(data);
    if (!doc) {
        if (!is_fatal_error()) {
            PyObject *exc = PyErr_GetRaisedException();
            PyObject *msg = PyObject_Str(exc);
            Py_DECREF(exc);
            PyErr_Clear();
            PyErr_Format(st->error, "truncated or corrupt evidence file (invalid JSON: %S)",
                         msg ? msg : Py_None);
            Py_XDECREF(msg);
        }
        goto done;
    }
    PyObject *fmt = PyDict_CheckExact(doc) ? PyDict_GetItemString(doc, "format") : NULL;
    if (!fmt || !PyUnicode_Check(fmt)
            || PyUnicode_CompareWithASCIIString(fmt, CAPTURE_FORMAT_NAME) != 0) {
        PyErr_SetString(st->error, "not a sleuth evidence file (no \"format\": \""
                        CAPTURE_FORMAT_NAME "\")");
        goto done;
    }
    PyObject *version = field(&L, doc, "", "version", K_INT, 1);
    if (!version)
        goto done;
    int overflow;
    ver = PyLong_AsLongLongAndOverflow(version, &overflow);
    if (overflow)
        ver = overflow > 0 ? LLONG_MAX : LLONG_MIN;
    if (ver > CAPTURE_FORMAT_VERSION) {
        PyErr_Format(st->error, "the file has evidence format version %R, newer than the "
                     "version %d this sleuth reads; open it with a newer sleuth",
                     version, CAPTURE_FORMAT_VERSION);
        goto done;
    }
    if (ver < 1) {
        PyErr_Format(st->error, "unknown evidence format version %R", version);
        goto done;
    }
    L.frames = PyList_New(0);
    L.excs = PyList_New(0);
    if (!L.frames || !L.excs)
        goto done;
    PyObject *frames = list_field(&L, doc, "", "frames", 1, SNAP_MAX_FRAMES, "frames");
    PyObject *excs = frames ? list_field(&L, doc, "", "exceptions", 1, SNAP_MAX_EXCEPTIONS,
                                         "exceptions") : NULL;
    PyObject *env = excs ? field(&L, doc, "", "environment", K_DICT, 1) : NULL;
    PyObject *sources = env ? field(&L, doc, "", "sources", K_DICT, 1) : NULL;
    PyObject *reason = sources ? str_field(&L, doc, "", "reason", 0, 0) : NULL;
    PyObject *thread = reason ? field(&L, doc, "", "thread", K_DICT, 0) : NULL;
    PyObject *limits = thread ? field(&L, doc, "", "limits", K_DICT, 0) : NULL;
    PyObject *trunc = limits ? field(&L, doc, "", "truncated", K_BOOL, 0) : NULL;
    PyObject *stack = trunc ? list_field(&L, doc, "", "stack", 0, SNAP_MAX_FRAMES, "frames") : NULL;
    PyObject *threads = stack ? list_field(&L, doc, "", "threads", 0, SNAP_MAX_THREADS,
                                           "threads") : NULL;
    if (!threads || check_sources(&L, sources) < 0 || check_environment(&L, env) < 0)
        goto done;
    if (thread != Py_None && (!field(&L, thread, "thread", "ident", K_INT, 0)
                              || !str_field(&L, thread, "thread", "name", 0, NAME)))
        goto done;
    redactions = check_redactions(&L, doc);
    if (!redactions)
        goto done;
    if (build_frames(&L, frames) < 0 || build_exceptions(&L, excs) < 0)
        goto done;
    ev = (EvidenceObj *)snap_new(st->evidence_type);
    if (!ev)
        goto done;
    ev->redactions = Py_NewRef(redactions);
    ev->version = (int)ver;
    ev->path = Py_NewRef(path);
    ev->reason = Py_NewRef(reason);
    PyObject *created = PyDict_GetItemString(env, "time");
    ev->created = Py_NewRef(created ? created : Py_None);
    ev->frames = Py_NewRef(L.frames);
    ev->exceptions = Py_NewRef(L.excs);
    ev->environment = Py_NewRef(env);
    ev->sources = Py_NewRef(sources);
    ev->limits = limits != Py_None ? Py_NewRef(limits) : PyDict_New();
    ev->thread = thread != Py_None ? Py_NewRef(thread) : PyDict_New();
    ev->truncated = trunc == Py_True;
    PyObject *exc = PyDict_GetItemString(doc, "exception");
    if (exc && exc != Py_None) {
        PyObject *e = at_index(&L, L.excs, exc, "exception");
        if (!e)
            goto done;
        ev->exception = Py_NewRef(e);
        ev->traceback = Py_NewRef(((ExcObj *)e)->traceback);
    }
    else {
        ev->exception = Py_NewRef(Py_None);
        ev->traceback = Py_NewRef(Py_None);
    }
    ev->stack = stack != Py_None ? frame_list(&L, stack, "stack") : PyList_New(0);
    if (!ev->stack || !ev->limits || !ev->thread)
        goto done;
    if (ev->traceback == Py_None && PyList_GET_SIZE(ev->stack)) {
        /* A capture without exception: a traceback over its stack lets the
         * debugger walk it the same way. */
        PyObject *tb = stack_traceback(&L, ev->stack);
        if (!tb)
            goto done;
        Py_SETREF(ev->traceback, tb);
    }
    ev->threads = build_threads(&L, threads);
    if (!ev->threads)
        goto done;
    res = (PyObject *)ev;
    ev = NULL;
done:
    Py_XDECREF(data);
    Py_XDECREF(json);
    Py_XDECREF(doc);
    Py_XDECREF(redactions);
    Py_XDECREF(ev);
    Py_XDECREF(L.frames);
    Py_XDECREF(L.excs);
    return res;
}

/* ------------------------------------------------------------------------ */
/* Summary                                                                  */

/* Stored source line `lineno` of `filename`, stripped, or NULL. */
static PyObject *
stored_line(EvidenceObj *ev, PyObject *filename, long lineno)
{
    PyObject *ranges = PyDict_GetItemWithError(ev->sources, filename);   /* borrowed */
    if (!ranges || !PyList_Check(ranges)) {
        PyErr_Clear();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ranges); i++) {
        PyObject *r = PyList_GET_ITEM(ranges, i);
        long first = PyLong_AsLong(PyList_GET_ITEM(r, 0));
        PyObject *lines = PyList_GET_ITEM(r, 1);
        if (lineno >= first && lineno - first < PyList_GET_SIZE(lines))
            return PyObject_CallMethod(PyList_GET_ITEM(lines, lineno - first), "strip", NULL);
    }
    return NULL;
}

/* Never NULL, for %S formats: dict lookups in a foreign file may miss. */
static PyObject *
or_none(PyObject *d, const char *key)
{
    PyObject *v = d && PyDict_Check(d) ? PyDict_GetItemString(d, key) : NULL;
    return v ? v : Py_None;
}

static int
append(PyObject *parts, PyObject *s)
{
    if (!s)
        return -1;
    int rc = PyList_Append(parts, s);
    Py_DECREF(s);
    return rc;
}

static int
append_frame_line(PyObject *parts, EvidenceObj *ev, PyObject *frame, int lineno)
{
    CodeObj *c = (CodeObj *)((FrameObj *)frame)->f_code;
    if (append(parts, PyUnicode_FromFormat("  File \"%U\", line %d, in %U\n", c->co_filename,
                                           lineno, c->co_name)) < 0)
        return -1;
    PyObject *src = stored_line(ev, c->co_filename, lineno);
    if (src && PyUnicode_GET_LENGTH(src))
        return append(parts, PyUnicode_FromFormat("    %U\n", src));
    Py_XDECREF(src);
    PyErr_Clear();
    return 0;
}

/* traceback.format_tb(tb) of a snapshot traceback, from the positions the
 * loader validated (the standard library's own walk reads co_positions()
 * up to each lasti instead): the same lines, source and markers. */
static PyObject *
format_tb(PyObject *tb)
{
    /* Owned */
    PyObject *mod = NULL, *ss = NULL, *entries = NULL, *summary = NULL, *res = NULL;

    mod = PyImport_ImportModule("traceback");
    ss = mod ? PyObject_GetAttrString(mod, "StackSummary") : NULL;
    entries = ss ? PyList_New(0) : NULL;
    if (!entries)
        goto done;
    if (!PyObject_HasAttrString(ss, "_extract_from_extended_frame_gen")) {
        res = PyObject_CallMethod(mod, "format_tb", "O", tb);
        goto done;
    }
    for (PyObject *t = tb; t && t != Py_None; t = ((TbObj *)t)->tb_next) {
        TbObj *x = (TbObj *)t;
        PyObject *pos = x->positions;
        PyObject *item;
        if (x->tb_lasti < 0 || PyTuple_GET_ITEM(pos, 0) == Py_None)
            item = Py_BuildValue("(O(iOOO))", x->tb_frame, x->tb_lineno,
                                 x->tb_lasti < 0 ? Py_None : PyTuple_GET_ITEM(pos, 1),
                                 x->tb_lasti < 0 ? Py_None : PyTuple_GET_ITEM(pos, 2),
                                 x->tb_lasti < 0 ? Py_None : PyTuple_GET_ITEM(pos, 3));
        else
            item = Py_BuildValue("(OO)", x->tb_frame, pos);
        if (!item || PyList_Append(entries, item) < 0) {
            Py_XDECREF(item);
            goto done;
        }
        Py_DECREF(item);
    }
    summary = PyObject_CallMethod(ss, "_extract_from_extended_frame_gen", "O", entries);
    res = summary ? PyObject_CallMethod(summary, "format", NULL) : NULL;
done:
    Py_XDECREF(mod);
    Py_XDECREF(ss);
    Py_XDECREF(entries);
    Py_XDECREF(summary);
    return res;
}

/* The exception chain, oldest first, in the standard library's words. */
static int
append_chain(PyObject *parts, EvidenceObj *ev, PyObject *exc_obj, PyObject *seen, int depth)
{
    ExcObj *e = (ExcObj *)exc_obj;
    PyObject *key = PyLong_FromVoidPtr(exc_obj);
    if (!key)
        return -1;
    int known = PySet_Contains(seen, key);
    if (known == 0)
        known = PySet_Add(seen, key) < 0 ? -1 : 0;
    Py_DECREF(key);
    if (known != 0 || depth > 100)
        return known < 0 ? -1 : 0;
    if (e->cause != Py_None) {
        if (append_chain(parts, ev, e->cause, seen, depth + 1) < 0
                || append(parts, PyUnicode_FromString(
                       "\nThe above exception was the direct cause of the following exception:\n\n")) < 0)
            return -1;
    }
    else if (e->context != Py_None && !e->suppress_context) {
        if (append_chain(parts, ev, e->context, seen, depth + 1) < 0
                || append(parts, PyUnicode_FromString(
                       "\nDuring handling of the above exception, another exception occurred:\n\n")) < 0)
            return -1;
    }
    if (e->traceback != Py_None) {
        if (append(parts, PyUnicode_FromString("Traceback (most recent call last):\n")) < 0)
            return -1;
        /* The snapshot objects are enough for the stdlib's own formatting
         * (stored sources and positions: the same lines and carets as a
         * live traceback); our plain listing is the fallback. */
        PyObject *lines = format_tb(e->traceback);
        if (lines && PyList_Check(lines)) {
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++)
                if (PyList_Append(parts, PyList_GET_ITEM(lines, i)) < 0) {
                    Py_DECREF(lines);
                    return -1;
                }
            Py_DECREF(lines);
        }
        else {
            Py_XDECREF(lines);
            PyErr_Clear();
            for (PyObject *t = e->traceback; t && t != Py_None; t = ((TbObj *)t)->tb_next)
                if (append_frame_line(parts, ev, ((TbObj *)t)->tb_frame,
                                      ((TbObj *)t)->tb_lineno) < 0)
                    return -1;
        }
    }
    PyObject *line = PyUnicode_GET_LENGTH(e->str_text)
        ? PyUnicode_FromFormat("%U: %U\n", e->type_name, e->str_text)
        : PyUnicode_FromFormat("%U\n", e->type_name);
    if (append(parts, line) < 0)
        return -1;
    for (Py_ssize_t i = 0; e->notes && i < PyList_GET_SIZE(e->notes); i++)
        if (append(parts, PyUnicode_FromFormat("%S\n", PyList_GET_ITEM(e->notes, i))) < 0)
            return -1;
    for (Py_ssize_t i = 0; e->exceptions && i < PyTuple_GET_SIZE(e->exceptions); i++) {
        ExcObj *m = (ExcObj *)PyTuple_GET_ITEM(e->exceptions, i);
        if (append(parts, PyUnicode_FromFormat("  +-- %zd: %U: %U\n", i + 1, m->type_name,
                                               m->str_text)) < 0)
            return -1;
    }
    return 0;
}

PyObject *
Snapshot_summary(PyObject *self)
{
    /* Owned */
    PyObject *parts = NULL, *res = NULL, *empty = NULL, *seen = NULL;
    EvidenceObj *ev = (EvidenceObj *)self;
    PyObject *env = ev->environment, *py = NULL, *plat = NULL;

    parts = PyList_New(0);
    if (!parts)
        goto done;
    if (append(parts, PyUnicode_FromFormat("Evidence file %U (format version %d), written %S\n",
                                           ev->path, ev->version, ev->created)) < 0)
        goto done;
    if (append(parts, PyUnicode_FromFormat("Reason: %S\n", ev->reason)) < 0)
        goto done;
    /* What capture hid (checked at load: a count and kind names). */
    if (ev->redactions && PyDict_Check(ev->redactions)) {
        PyObject *kinds = PyDict_GetItemString(ev->redactions, "kinds");
        PyObject *count = PyDict_GetItemString(ev->redactions, "count");
        long n = count ? PyLong_AsLong(count) : 0;
        PyObject *line = n == 0 ? PyUnicode_FromString("Redacted: nothing")
                                : PyUnicode_FromFormat("Redacted: %ld place%s", n, n == 1 ? "" : "s");
        PyObject *key, *v;
        Py_ssize_t pos = 0;
        int first = 1;
        while (line && kinds && PyDict_Check(kinds) && PyDict_Next(kinds, &pos, &key, &v)) {
            Py_SETREF(line, PyUnicode_FromFormat("%U%s%U %S", line, first ? " (" : ", ", key, v));
            first = 0;
        }
        if (line)
            Py_SETREF(line, PyUnicode_FromFormat("%U%s\n", line, first ? "" : ")"));
        if (append(parts, line) < 0)
            goto done;
    }
    if (ev->exception != Py_None) {
        seen = PySet_New(NULL);
        if (!seen || append_chain(parts, ev, ev->exception, seen, 0) < 0)
            goto done;
    }
    else {
        if (append(parts, PyUnicode_FromString("Stack (most recent call last):\n")) < 0)
            goto done;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ev->stack); i++) {
            PyObject *f = PyList_GET_ITEM(ev->stack, i);
            if (append_frame_line(parts, ev, f, ((FrameObj *)f)->f_lineno) < 0)
                goto done;
        }
    }
    /* The innermost frame's locals: what `sleuth open` can show without the
     * debugger. Values are captured text or plain scalars: repr() is safe. */
    PyObject *inner = NULL;
    for (PyObject *t = ev->traceback; t && t != Py_None; t = ((TbObj *)t)->tb_next)
        inner = ((TbObj *)t)->tb_frame;
    if (inner && PyDict_GET_SIZE(((FrameObj *)inner)->f_locals)) {
        PyObject *names = PyDict_Keys(((FrameObj *)inner)->f_locals);
        if (!names || PyList_Sort(names) < 0) {
            Py_XDECREF(names);
            goto done;
        }
        CodeObj *code = (CodeObj *)((FrameObj *)inner)->f_code;
        int rc = append(parts, PyUnicode_FromFormat("Locals of %U:\n", code->co_name));
        for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(names); i++) {
            PyObject *k = PyList_GET_ITEM(names, i);
            PyObject *v = PyDict_GetItem(((FrameObj *)inner)->f_locals, k);
            rc = append(parts, v ? PyUnicode_FromFormat("    %S = %R\n", k, v) : NULL);
        }
        Py_DECREF(names);
        if (rc < 0)
            goto done;
    }
    py = or_none(env, "python");
    plat = or_none(env, "platform");
    if (append(parts, PyUnicode_FromFormat(
            "Python: %S\nExecutable: %S\nPlatform: %S\nHost: %S  pid: %S\nCommand line: %S\n"
            "Directory: %S\nOther threads: %zd\n",
            or_none(py, "version"), or_none(py, "executable"), or_none(plat, "sys_platform"),
            or_none(env, "hostname"), or_none(env, "pid"), or_none(env, "argv"),
            or_none(env, "cwd"), PyList_GET_SIZE(ev->threads))) < 0)
        goto done;
    empty = PyUnicode_FromString("");
    if (empty)
        res = PyUnicode_Join(empty, parts);
done:
    Py_XDECREF(parts);
    Py_XDECREF(empty);
    Py_XDECREF(seen);
    return res;
}
