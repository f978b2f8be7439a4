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
#include <string.h>

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
GC_FUNCS(evidence, 13)

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
 * (None, None, None, None) for every other instruction. */
static PyObject *
code_positions(PyObject *self, PyObject *unused)
{
    /* Owned */
    PyObject *list = NULL, *none4 = NULL, *it = NULL;
    CodeObj *c = (CodeObj *)self;
    PyObject *k, *v;
    Py_ssize_t pos = 0, max = -1;

    SLEUTH_UNUSED(unused);
    while (PyDict_Next(c->positions, &pos, &k, &v)) {
        Py_ssize_t i = PyLong_AsSsize_t(k);
        if (i > max)
            max = i;
    }
    PyErr_Clear();
    none4 = Py_BuildValue("(OOOO)", Py_None, Py_None, Py_None, Py_None);
    list = none4 ? PyList_New(max >= 0 ? max / 2 + 1 : 0) : NULL;
    if (!list)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++)
        PyList_SET_ITEM(list, i, Py_NewRef(none4));
    pos = 0;
    while (PyDict_Next(c->positions, &pos, &k, &v)) {
        Py_ssize_t i = PyLong_AsSsize_t(k);
        if (i >= 0 && i / 2 < PyList_GET_SIZE(list)
                && PyList_SetItem(list, i / 2, Py_NewRef(v)) < 0)
            goto done;
    }
    it = PyObject_GetIter(list);
done:
    Py_XDECREF(list);
    Py_XDECREF(none4);
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
} Loader;

static void
corrupt(Loader *L, const char *fmt, const char *what)
{
    if (PyErr_Occurred() && (PyErr_ExceptionMatches(PyExc_MemoryError)
                             || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)))
        return;     /* not the file's fault */
    PyErr_Clear();
    PyErr_Format(L->st->error, fmt, what);
}

/* Borrowed field `key` of dict `d` of type `tp` (NULL type: any);
 * missing or mistyped -> EvidenceError. */
static PyObject *
need(Loader *L, PyObject *d, const char *key, PyTypeObject *tp, const char *where)
{
    char what[160];
    snprintf(what, sizeof what, "%s.%s", where, key);
    if (!PyDict_Check(d)) {
        corrupt(L, "corrupt evidence file: %s is not an object", where);
        return NULL;
    }
    PyObject *v = PyDict_GetItemString(d, key);
    if (!v) {
        corrupt(L, "corrupt evidence file: %s is missing", what);
        return NULL;
    }
    if (tp && !PyObject_TypeCheck(v, tp)) {
        corrupt(L, "corrupt evidence file: %s has the wrong type", what);
        return NULL;
    }
    return v;
}

/* Optional field: borrowed value or NULL (no error) when absent or null. */
static PyObject *
maybe(PyObject *d, const char *key)
{
    PyObject *v = PyDict_Check(d) ? PyDict_GetItemString(d, key) : NULL;
    return v == Py_None ? NULL : v;
}

static int
need_int(Loader *L, PyObject *d, const char *key, const char *where, long *out)
{
    PyObject *v = need(L, d, key, &PyLong_Type, where);
    if (!v)
        return -1;
    *out = PyLong_AsLong(v);
    if (*out == -1 && PyErr_Occurred()) {
        corrupt(L, "corrupt evidence file: %s is out of range", key);
        return -1;
    }
    return 0;
}

/* Borrowed item of `list` at index value `v` (an int), or EvidenceError. */
static PyObject *
at_index(Loader *L, PyObject *list, PyObject *v, const char *what)
{
    if (!PyLong_Check(v)) {
        corrupt(L, "corrupt evidence file: %s is not an index", what);
        return NULL;
    }
    Py_ssize_t i = PyLong_AsSsize_t(v);
    if (i < 0 || i >= PyList_GET_SIZE(list)) {
        corrupt(L, "corrupt evidence file: %s index out of range", what);
        return NULL;
    }
    return PyList_GET_ITEM(list, i);
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */

static PyObject *
decode_value(Loader *L, PyObject *node)
{
    /* Owned */
    ValueObj *v = NULL;
    PyObject *items = NULL, *entries = NULL, *attrs = NULL;

    PyObject *repr = need(L, node, "repr", &PyUnicode_Type, "value");
    if (!repr)
        return NULL;
    PyObject *value = PyDict_GetItemString(node, "value");      /* borrowed */
    if (value) {
        if (value == Py_None || PyBool_Check(value) || PyLong_CheckExact(value)
                || PyFloat_CheckExact(value) || PyUnicode_CheckExact(value))
            return Py_NewRef(value);
        corrupt(L, "corrupt evidence file: %s is not a scalar", "value.value");
        return NULL;
    }
    if (Py_EnterRecursiveCall(" while loading an evidence file"))
        return NULL;
    v = (ValueObj *)snap_new(L->st->value_type);
    if (!v)
        goto error;
    PyObject *tname = maybe(node, "type");
    v->type_name = tname && PyUnicode_Check(tname) ? Py_NewRef(tname) : PyUnicode_FromString("object");
    v->repr_text = Py_NewRef(repr);
    v->length = -1;
    if (!v->type_name)
        goto error;
    PyObject *len = maybe(node, "len");
    if (len) {
        if (!PyLong_Check(len)) {
            corrupt(L, "corrupt evidence file: %s has the wrong type", "value.len");
            goto error;
        }
        v->length = PyLong_AsSsize_t(len);
        if (v->length < 0) {
            PyErr_Clear();
            v->length = -1;
        }
    }
    PyObject *raw;
    if ((raw = maybe(node, "items")) != NULL) {
        if (!PyList_Check(raw)) {
            corrupt(L, "corrupt evidence file: %s has the wrong type", "value.items");
            goto error;
        }
        items = PyList_New(PyList_GET_SIZE(raw));
        if (!items)
            goto error;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(raw); i++) {
            PyObject *x = decode_value(L, PyList_GET_ITEM(raw, i));
            if (!x)
                goto error;
            PyList_SET_ITEM(items, i, x);
        }
        v->items = items;
        items = NULL;
    }
    else if ((raw = maybe(node, "entries")) != NULL) {
        if (!PyList_Check(raw)) {
            corrupt(L, "corrupt evidence file: %s has the wrong type", "value.entries");
            goto error;
        }
        entries = PyList_New(PyList_GET_SIZE(raw));
        if (!entries)
            goto error;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(raw); i++) {
            PyObject *pair = PyList_GET_ITEM(raw, i);
            if (!PyList_Check(pair) || PyList_GET_SIZE(pair) != 2) {
                corrupt(L, "corrupt evidence file: %s is not a [key, value] pair", "value.entries");
                goto error;
            }
            PyObject *k = decode_value(L, PyList_GET_ITEM(pair, 0));
            PyObject *x = k ? decode_value(L, PyList_GET_ITEM(pair, 1)) : NULL;
            PyObject *t = x ? PyTuple_Pack(2, k, x) : NULL;
            Py_XDECREF(k);
            Py_XDECREF(x);
            if (!t)
                goto error;
            PyList_SET_ITEM(entries, i, t);
        }
        v->entries = entries;
        entries = NULL;
    }
    else if ((raw = maybe(node, "attrs")) != NULL) {
        if (!PyDict_Check(raw)) {
            corrupt(L, "corrupt evidence file: %s has the wrong type", "value.attrs");
            goto error;
        }
        attrs = PyDict_New();
        if (!attrs)
            goto error;
        PyObject *k, *x;
        Py_ssize_t pos = 0;
        while (PyDict_Next(raw, &pos, &k, &x)) {
            PyObject *d = decode_value(L, x);
            if (!d || PyDict_SetItem(attrs, k, d) < 0) {
                Py_XDECREF(d);
                goto error;
            }
            Py_DECREF(d);
        }
        v->attrs = attrs;
        attrs = NULL;
    }
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

static PyObject *
str_list_tuple(Loader *L, PyObject *list, const char *what)
{
    if (!PyList_Check(list)) {
        corrupt(L, "corrupt evidence file: %s has the wrong type", what);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++)
        if (!PyUnicode_Check(PyList_GET_ITEM(list, i))) {
            corrupt(L, "corrupt evidence file: %s has the wrong type", what);
            return NULL;
        }
    return PyList_AsTuple(list);
}

/* Record raw [l, el, c, ec] (ints or null) for `lasti` on the frame's code. */
static int
record_positions(Loader *L, PyObject *frame, long lasti, PyObject *raw)
{
    if (!raw || lasti < 0)
        return 0;
    if (!PyList_Check(raw) || PyList_GET_SIZE(raw) != 4) {
        corrupt(L, "corrupt evidence file: %s has the wrong shape", "positions");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        PyObject *x = PyList_GET_ITEM(raw, i);
        if (x != Py_None && !PyLong_CheckExact(x)) {
            corrupt(L, "corrupt evidence file: %s has the wrong type", "positions");
            return -1;
        }
    }
    PyObject *key = PyLong_FromLong(lasti), *tup = PyList_AsTuple(raw);
    int rc = key && tup ? PyDict_SetItem(((CodeObj *)((FrameObj *)frame)->f_code)->positions,
                                         key, tup) : -1;
    Py_XDECREF(key);
    Py_XDECREF(tup);
    return rc;
}

static PyObject *
build_code(Loader *L, PyObject *fd)
{
    CodeObj *c = (CodeObj *)snap_new(L->st->code_type);
    long v;
    if (!c)
        return NULL;
    PyObject *filename = need(L, fd, "filename", &PyUnicode_Type, "frame");
    PyObject *name = filename ? need(L, fd, "name", &PyUnicode_Type, "frame") : NULL;
    if (!name || need_int(L, fd, "firstlineno", "frame", &v) < 0)
        goto error;
    c->co_filename = Py_NewRef(filename);
    c->co_name = Py_NewRef(name);
    PyObject *qual = maybe(fd, "qualname");
    c->co_qualname = Py_NewRef(qual && PyUnicode_Check(qual) ? qual : name);
    c->co_firstlineno = (int)v;
    c->positions = PyDict_New();
    if (!c->positions)
        goto error;
    PyObject *code = maybe(fd, "code");
    if (code) {
        long n;
        if (need_int(L, code, "argcount", "frame.code", &n) < 0)
            goto error;
        c->co_argcount = (int)n;
        if (need_int(L, code, "posonlyargcount", "frame.code", &n) < 0)
            goto error;
        c->co_posonlyargcount = (int)n;
        if (need_int(L, code, "kwonlyargcount", "frame.code", &n) < 0)
            goto error;
        c->co_kwonlyargcount = (int)n;
        if (need_int(L, code, "flags", "frame.code", &n) < 0)
            goto error;
        c->co_flags = (int)n;
        PyObject *names = need(L, code, "varnames", &PyList_Type, "frame.code");
        if (!names || !(c->co_varnames = str_list_tuple(L, names, "frame.code.varnames")))
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
build_frames(Loader *L, PyObject *raw)
{
    Py_ssize_t n = PyList_GET_SIZE(raw);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *fd = PyList_GET_ITEM(raw, i);
        FrameObj *f = (FrameObj *)snap_new(L->st->frame_type);
        long v;
        if (!f)
            return -1;
        if (PyList_Append(L->frames, (PyObject *)f) < 0) {
            Py_DECREF(f);
            return -1;
        }
        Py_DECREF(f);       /* the list keeps it */
        f->f_code = build_code(L, fd);
        if (!f->f_code || need_int(L, fd, "lineno", "frame", &v) < 0)
            return -1;
        f->f_lineno = (int)v;
        PyObject *lasti = maybe(fd, "lasti");
        f->f_lasti = lasti && PyLong_Check(lasti) ? (int)PyLong_AsLong(lasti) : -1;
        PyErr_Clear();
        if (record_positions(L, (PyObject *)f, f->f_lasti, maybe(fd, "positions")) < 0)
            return -1;
        f->f_locals = PyDict_New();
        f->f_builtins = PyDict_New();
        f->f_trace = Py_NewRef(Py_None);
        f->f_back = Py_NewRef(Py_None);
        if (!f->f_locals || !f->f_builtins)
            return -1;
        PyObject *locals = maybe(fd, "locals");
        if (locals) {
            if (!PyDict_Check(locals)) {
                corrupt(L, "corrupt evidence file: %s has the wrong type", "frame.locals");
                return -1;
            }
            PyObject *k, *x;
            Py_ssize_t pos = 0;
            while (PyDict_Next(locals, &pos, &k, &x)) {
                PyObject *d = decode_value(L, x);
                if (!d || PyDict_SetItem(f->f_locals, k, d) < 0) {
                    Py_XDECREF(d);
                    return -1;
                }
                Py_DECREF(d);
            }
        }
        PyObject *omitted = maybe(fd, "locals_omitted");
        f->locals_omitted = omitted && PyLong_Check(omitted) ? PyLong_AsSsize_t(omitted) : 0;
        PyErr_Clear();
        PyObject *g = maybe(fd, "globals");
        f->f_globals = g && PyDict_Check(g) ? PyDict_Copy(g) : PyDict_New();
        if (!f->f_globals)
            return -1;
        /* The debugger's linecache lookups pass f_globals: keep the keys. */
        if (PyDict_GetItemString(f->f_globals, "__name__") == NULL
                && PyDict_SetItemString(f->f_globals, "__name__", Py_None) < 0)
            return -1;
        if (PyDict_GetItemString(f->f_globals, "__file__") == NULL
                && PyDict_SetItemString(f->f_globals, "__file__", Py_None) < 0)
            return -1;
    }
    /* Second pass: f_back links, refusing cycles (a debugger walks them). */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *back = maybe(PyList_GET_ITEM(raw, i), "back");
        if (!back)
            continue;
        PyObject *b = at_index(L, L->frames, back, "frame.back");
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
            PyErr_SetString(L->st->error, "corrupt evidence file: frame.back links form a cycle");
            return -1;
        }
    }
    return 0;
}

/* The traceback chain of exception dict `ed`: first entry or None. */
static PyObject *
build_traceback(Loader *L, PyObject *ed)
{
    /* Owned */
    PyObject *next = Py_NewRef(Py_None);

    PyObject *raw = need(L, ed, "traceback", &PyList_Type, "exception");
    if (!raw)
        goto error;
    for (Py_ssize_t i = PyList_GET_SIZE(raw) - 1; i >= 0; i--) {
        PyObject *td = PyList_GET_ITEM(raw, i);
        PyObject *fv = need(L, td, "frame", &PyLong_Type, "traceback");
        PyObject *frame = fv ? at_index(L, L->frames, fv, "traceback.frame") : NULL;
        if (!frame)
            goto error;
        TbObj *t = (TbObj *)snap_new(L->st->tb_type);
        if (!t)
            goto error;
        t->tb_frame = Py_NewRef(frame);
        t->tb_next = next;
        next = (PyObject *)t;
        PyObject *ln = maybe(td, "lineno"), *lasti = maybe(td, "lasti"), *pos = maybe(td, "positions");
        t->tb_lineno = ln && PyLong_Check(ln) ? (int)PyLong_AsLong(ln) : ((FrameObj *)frame)->f_lineno;
        t->tb_lasti = lasti && PyLong_Check(lasti) ? (int)PyLong_AsLong(lasti) : -1;
        PyErr_Clear();
        if (record_positions(L, frame, t->tb_lasti, pos) < 0)
            goto error;
        if (pos && PyList_Check(pos) && PyList_GET_SIZE(pos) == 4)
            t->positions = PyList_AsTuple(pos);
        else
            t->positions = Py_BuildValue("(OOOO)", Py_None, Py_None, Py_None, Py_None);
        if (!t->positions)
            goto error;
    }
    return next;
error:
    Py_XDECREF(next);
    return NULL;
}

static int
build_exceptions(Loader *L, PyObject *raw)
{
    Py_ssize_t n = PyList_GET_SIZE(raw);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ed = PyList_GET_ITEM(raw, i);
        ExcObj *e = (ExcObj *)snap_new(L->st->exc_type);
        if (!e)
            return -1;
        if (PyList_Append(L->excs, (PyObject *)e) < 0) {
            Py_DECREF(e);
            return -1;
        }
        Py_DECREF(e);
        PyObject *type = need(L, ed, "type", &PyUnicode_Type, "exception");
        PyObject *s = type ? need(L, ed, "str", &PyUnicode_Type, "exception") : NULL;
        if (!s)
            return -1;
        PyObject *mod = maybe(ed, "module"), *repr = maybe(ed, "repr");
        e->type_name = Py_NewRef(type);
        e->module = Py_NewRef(mod && PyUnicode_Check(mod) ? mod : Py_None);
        e->str_text = Py_NewRef(s);
        if (repr && PyUnicode_Check(repr))
            e->repr_text = Py_NewRef(repr);
        else
            e->repr_text = PyUnicode_FromFormat("%U(%R)", type, s);
        e->args = PyTuple_Pack(1, s);
        e->traceback = build_traceback(L, ed);
        e->cause = Py_NewRef(Py_None);
        e->context = Py_NewRef(Py_None);
        PyObject *sup = maybe(ed, "suppress_context");
        e->suppress_context = sup == Py_True;
        PyObject *notes = maybe(ed, "notes");
        if (notes) {
            if (!PyList_Check(notes)) {
                corrupt(L, "corrupt evidence file: %s has the wrong type", "exception.notes");
                return -1;
            }
            e->notes = PyList_GetSlice(notes, 0, PY_SSIZE_T_MAX);
            if (!e->notes)
                return -1;
        }
        if (!e->repr_text || !e->args || !e->traceback)
            return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ed = PyList_GET_ITEM(raw, i);
        ExcObj *e = (ExcObj *)PyList_GET_ITEM(L->excs, i);
        PyObject *v;
        if ((v = maybe(ed, "cause")) != NULL) {
            PyObject *x = at_index(L, L->excs, v, "exception.cause");
            if (!x)
                return -1;
            Py_SETREF(e->cause, Py_NewRef(x));
        }
        if ((v = maybe(ed, "context")) != NULL) {
            PyObject *x = at_index(L, L->excs, v, "exception.context");
            if (!x)
                return -1;
            Py_SETREF(e->context, Py_NewRef(x));
        }
        if ((v = maybe(ed, "members")) != NULL) {
            if (!PyList_Check(v)) {
                corrupt(L, "corrupt evidence file: %s has the wrong type", "exception.members");
                return -1;
            }
            e->exceptions = PyTuple_New(PyList_GET_SIZE(v));
            if (!e->exceptions)
                return -1;
            for (Py_ssize_t k = 0; k < PyList_GET_SIZE(v); k++) {
                PyObject *x = at_index(L, L->excs, PyList_GET_ITEM(v, k), "exception.members");
                if (!x)
                    return -1;
                PyTuple_SET_ITEM(e->exceptions, k, Py_NewRef(x));
            }
        }
    }
    return 0;
}

/* Frame list (outermost first) from a list of indexes. */
static PyObject *
frame_list(Loader *L, PyObject *raw, const char *what)
{
    if (!PyList_Check(raw)) {
        corrupt(L, "corrupt evidence file: %s has the wrong type", what);
        return NULL;
    }
    PyObject *out = PyList_New(PyList_GET_SIZE(raw));
    if (!out)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(raw); i++) {
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
    if (raw && !PyList_Check(raw)) {
        corrupt(L, "corrupt evidence file: %s has the wrong type", "file.threads");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    for (Py_ssize_t i = 0; raw && i < PyList_GET_SIZE(raw); i++) {
        PyObject *td = PyList_GET_ITEM(raw, i);
        PyObject *ident = need(L, td, "ident", &PyLong_Type, "thread");
        PyObject *fr = ident ? need(L, td, "frames", &PyList_Type, "thread") : NULL;
        PyObject *frames = fr ? frame_list(L, fr, "thread.frames") : NULL;
        if (!frames) {
            Py_DECREF(out);
            return NULL;
        }
        PyObject *name = maybe(td, "name");
        Py_ssize_t nf = PyList_GET_SIZE(frames);
        PyObject *d = Py_BuildValue("{sOsOsOsO}", "ident", ident, "name", name ? name : Py_None,
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

/* Check "sources": {filename: [[int >= 1, [str...]], ...]}. */
static int
check_sources(Loader *L, PyObject *sources)
{
    PyObject *k, *ranges;
    Py_ssize_t pos = 0;
    while (PyDict_Next(sources, &pos, &k, &ranges)) {
        if (!PyList_Check(ranges))
            goto bad;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ranges); i++) {
            PyObject *r = PyList_GET_ITEM(ranges, i);
            if (!PyList_Check(r) || PyList_GET_SIZE(r) != 2 || !PyLong_Check(PyList_GET_ITEM(r, 0))
                    || !PyList_Check(PyList_GET_ITEM(r, 1)))
                goto bad;
            long first = PyLong_AsLong(PyList_GET_ITEM(r, 0));
            if (first < 1 || first > 10000000) {
                PyErr_Clear();
                goto bad;
            }
            PyObject *lines = PyList_GET_ITEM(r, 1);
            for (Py_ssize_t j = 0; j < PyList_GET_SIZE(lines); j++)
                if (!PyUnicode_Check(PyList_GET_ITEM(lines, j)))
                    goto bad;
        }
    }
    return 0;
bad:
    corrupt(L, "corrupt evidence file: %s has the wrong shape", "sources");
    return -1;
}

/* The file's bytes, gunzipped when they start with the gzip magic. */
static PyObject *
read_bytes(Loader *L, PyObject *path)
{
    /* Owned */
    PyObject *io = NULL, *f = NULL, *data = NULL, *zlib = NULL, *d = NULL, *out = NULL, *eof = NULL;

    io = PyImport_ImportModule("io");
    if (!io)
        goto done;
    f = PyObject_CallMethod(io, "open", "Os", path, "rb");
    if (!f)
        goto done;
    data = PyObject_CallMethod(f, "read", NULL);
    PyObject *closed = PyObject_CallMethod(f, "close", NULL);
    Py_XDECREF(closed);
    if (!data || !closed)
        goto done;
    if (!PyBytes_Check(data)) {
        PyErr_SetString(PyExc_TypeError, "read() did not return bytes");
        goto done;
    }
    if (PyBytes_GET_SIZE(data) >= 2 && memcmp(PyBytes_AS_STRING(data), "\x1f\x8b", 2) == 0) {
        zlib = PyImport_ImportModule("zlib");
        d = zlib ? PyObject_CallMethod(zlib, "decompressobj", "i", 47) : NULL;
        if (!d)
            goto done;
        /* 1 GB of JSON is far beyond anything capture writes: a bomb. */
        out = PyObject_CallMethod(d, "decompress", "On", data, (Py_ssize_t)1 << 30);
        if (!out) {
            PyObject *exc = PyErr_GetRaisedException();
            PyObject *msg = exc ? PyObject_Str(exc) : NULL;
            Py_XDECREF(exc);
            PyErr_Clear();
            PyErr_Format(L->st->error, "corrupt gzip data (%S)", msg ? msg : Py_None);
            Py_XDECREF(msg);
            goto done;
        }
        eof = PyObject_GetAttrString(d, "eof");
        if (!eof)
            goto done;
        if (eof != Py_True) {
            Py_CLEAR(out);
            PyErr_SetString(L->st->error, "truncated gzip data (the file ends early)");
            goto done;
        }
        goto done;
    }
    out = Py_NewRef(data);
done:
    Py_XDECREF(io);
    Py_XDECREF(f);
    Py_XDECREF(data);
    Py_XDECREF(zlib);
    Py_XDECREF(d);
    Py_XDECREF(eof);
    return out;
}

PyObject *
Snapshot_load(EvidenceState *st, PyObject *path)
{
    /* Owned */
    PyObject *data = NULL, *json = NULL, *doc = NULL, *res = NULL;
    EvidenceObj *ev = NULL;
    Loader L = {st, NULL, NULL};

    data = read_bytes(&L, path);
    if (!data)
        goto done;
    if (PyBytes_GET_SIZE(data) == 0) {
        PyErr_SetString(st->error, "the file is empty");
        goto done;
    }
    const char *p = PyBytes_AS_STRING(data);
    Py_ssize_t i = 0;
    while (i < PyBytes_GET_SIZE(data) && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'))
        i++;
    if (i >= PyBytes_GET_SIZE(data) || p[i] != '{') {
        PyErr_SetString(st->error, "not a sleuth evidence file (it is not a JSON object)");
        goto done;
    }
    json = PyImport_ImportModule("json");
    if (!json)
        goto done;
    doc = PyObject_CallMethod(json, "loads", "O", data);
    if (!doc) {
        if (PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(PyExc_RecursionError)) {
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
    PyObject *fmt = maybe(doc, "format");
    if (!PyDict_Check(doc) || !fmt || !PyUnicode_Check(fmt)
            || PyUnicode_CompareWithASCIIString(fmt, CAPTURE_FORMAT_NAME) != 0) {
        PyErr_SetString(st->error, "not a sleuth evidence file (no \"format\": \""
                        CAPTURE_FORMAT_NAME "\")");
        goto done;
    }
    PyObject *version = maybe(doc, "version");
    if (!version || !PyLong_CheckExact(version)) {
        PyErr_SetString(st->error, "corrupt evidence file: the format version is missing");
        goto done;
    }
    long ver = PyLong_AsLong(version);
    if (ver == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        ver = LONG_MAX;
    }
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
    PyObject *frames = need(&L, doc, "frames", &PyList_Type, "file");
    PyObject *excs = frames ? need(&L, doc, "exceptions", &PyList_Type, "file") : NULL;
    PyObject *env = excs ? need(&L, doc, "environment", &PyDict_Type, "file") : NULL;
    PyObject *sources = env ? need(&L, doc, "sources", &PyDict_Type, "file") : NULL;
    if (!sources || check_sources(&L, sources) < 0)
        goto done;
    if (build_frames(&L, frames) < 0 || build_exceptions(&L, excs) < 0)
        goto done;
    ev = (EvidenceObj *)snap_new(st->evidence_type);
    if (!ev)
        goto done;
    ev->version = (int)ver;
    ev->path = Py_NewRef(path);
    PyObject *reason = maybe(doc, "reason");
    ev->reason = Py_NewRef(reason && PyUnicode_Check(reason) ? reason : Py_None);
    PyObject *created = maybe(env, "time");
    ev->created = Py_NewRef(created && PyUnicode_Check(created) ? created : Py_None);
    ev->frames = Py_NewRef(L.frames);
    ev->exceptions = Py_NewRef(L.excs);
    ev->environment = Py_NewRef(env);
    ev->sources = Py_NewRef(sources);
    PyObject *limits = maybe(doc, "limits"), *thread = maybe(doc, "thread");
    ev->limits = limits && PyDict_Check(limits) ? Py_NewRef(limits) : PyDict_New();
    ev->thread = thread && PyDict_Check(thread) ? Py_NewRef(thread) : PyDict_New();
    ev->truncated = maybe(doc, "truncated") == Py_True;
    PyObject *exc = maybe(doc, "exception");
    if (exc) {
        PyObject *e = at_index(&L, L.excs, exc, "file.exception");
        if (!e)
            goto done;
        ev->exception = Py_NewRef(e);
        ev->traceback = Py_NewRef(((ExcObj *)e)->traceback);
    }
    else {
        ev->exception = Py_NewRef(Py_None);
        ev->traceback = Py_NewRef(Py_None);
    }
    PyObject *stack = maybe(doc, "stack");
    ev->stack = stack ? frame_list(&L, stack, "file.stack") : PyList_New(0);
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
    ev->threads = build_threads(&L, maybe(doc, "threads"));
    if (!ev->threads)
        goto done;
    res = (PyObject *)ev;
    ev = NULL;
done:
    Py_XDECREF(data);
    Py_XDECREF(json);
    Py_XDECREF(doc);
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
        PyObject *mod = PyImport_ImportModule("traceback");
        PyObject *lines = mod ? PyObject_CallMethod(mod, "format_tb", "O", e->traceback) : NULL;
        Py_XDECREF(mod);
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
