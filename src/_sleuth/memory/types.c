/* types.c — tracemalloc-compatible value types (see types.h).
 *
 * Every str()/repr() reproduces Lib/tracemalloc.py byte for byte: sizes go
 * through PyOS_double_to_string, the same routine behind Python's "%.1f".
 * Instances are not GC-tracked: they hold strings, ints and tuples of them,
 * and cannot form cycles unless a user assigns one to its own attribute.
 */
#include <math.h>
#include "types.h"
#include <structmember.h>   /* after Python.h (3.11) */

/* ------------------------------------------------------------------------ */
/* helpers                                                                  */

static void
sm_dealloc_members(PyObject *self, Py_ssize_t nmembers)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject **m = (PyObject **)((char *)self + sizeof(PyObject));
    for (Py_ssize_t i = 0; i < nmembers; i++)
        Py_CLEAR(m[i]);
    tp->tp_free(self);
    Py_DECREF(tp);
}

#define SM_NMEMBERS(T) ((Py_ssize_t)((sizeof(T) - sizeof(PyObject)) / sizeof(PyObject *)))
#define SM_DEALLOC(name, T) \
    static void name(PyObject *self) { sm_dealloc_members(self, SM_NMEMBERS(T)); }

PyObject *
SmFormat_size(double size, int sign)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0; u < 5; u++) {
        int prec = -1;
        if (fabs(size) < 100 && u != 0)
            prec = 1;   /* 3 digits: xx.x UNIT */
        else if (fabs(size) < 10 * 1024 || u == 4)
            prec = 0;   /* 4 or 5 digits: xxxx UNIT */
        if (prec >= 0) {
            char *num = PyOS_double_to_string(size, 'f', prec, sign ? Py_DTSF_SIGN : 0, NULL);
            if (!num)
                return NULL;
            PyObject *r = PyUnicode_FromFormat("%s %s", num, units[u]);
            PyMem_Free(num);
            return r;
        }
        size /= 1024;
    }
    Py_UNREACHABLE();
}

static PyObject *
sm_format_obj_size(PyObject *size, int sign)
{
    double d = PyFloat_AsDouble(size);
    if (d == -1.0 && PyErr_Occurred())
        return NULL;
    return SmFormat_size(d, sign);
}

/* Python's "%i" % o and "%+i" % o */
static PyObject *
sm_format_int(PyObject *o, int sign)
{
    /* Owned */
    PyObject *i = NULL, *r = NULL;
    i = PyNumber_Long(o);
    if (!i)
        return NULL;
    r = PyUnicode_FromString(sign ? "+d" : "d");
    if (r) {
        PyObject *s = PyObject_Format(i, r);
        Py_SETREF(r, s);
    }
    Py_DECREF(i);
    return r;
}

/* ", average=%s" % _format_size(size / count) when count is true, else "" */
static PyObject *
sm_format_average(PyObject *size, PyObject *count)
{
    /* Owned */
    PyObject *avg = NULL, *txt = NULL, *r = NULL;
    int t = PyObject_IsTrue(count);
    if (t < 0)
        return NULL;
    if (!t)
        return PyUnicode_FromString("");
    avg = PyNumber_TrueDivide(size, count);
    if (!avg)
        goto error;
    txt = sm_format_obj_size(avg, 0);
    if (!txt)
        goto error;
    r = PyUnicode_FromFormat(", average=%U", txt);
error:
    Py_XDECREF(avg);
    Py_XDECREF(txt);
    return r;
}

static PyObject *
sm_alloc(PyTypeObject *tp)
{
    PyObject *o = tp->tp_alloc(tp, 0);
    return o;
}

/* ------------------------------------------------------------------------ */
/* Frame                                                                    */

static PyObject *
Frame_create(PyTypeObject *tp, PyObject *frame)
{
    SmFrameObject *self = (SmFrameObject *)sm_alloc(tp);
    if (!self)
        return NULL;
    self->frame = Py_NewRef(frame);
    return (PyObject *)self;
}

static PyObject *
Frame_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    PyObject *frame;
    static char *kwlist[] = {"frame", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:Frame", kwlist, &frame))
        return NULL;
    return Frame_create(tp, frame);
}

SM_DEALLOC(Frame_dealloc, SmFrameObject)

static PyObject *
Frame_item(SmFrameObject *self, Py_ssize_t i)
{
    return PySequence_GetItem(self->frame, i);
}

static PyObject *
Frame_filename(SmFrameObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    return Frame_item(self, 0);
}

static PyObject *
Frame_lineno(SmFrameObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    return Frame_item(self, 1);
}

static PyObject *
Frame__frame(SmFrameObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    return Py_NewRef(self->frame);
}

static PyObject *
Frame_richcompare(PyObject *a, PyObject *b, int op)
{
    if (Py_TYPE(a) != Py_TYPE(b))
        Py_RETURN_NOTIMPLEMENTED;
    return PyObject_RichCompare(((SmFrameObject *)a)->frame, ((SmFrameObject *)b)->frame, op);
}

static Py_hash_t
Frame_hash(SmFrameObject *self)
{
    return PyObject_Hash(self->frame);
}

static PyObject *
Frame_str(SmFrameObject *self)
{
    /* Owned */
    PyObject *fn = NULL, *ln = NULL, *r = NULL;
    if (!(fn = Frame_item(self, 0)) || !(ln = Frame_item(self, 1)))
        goto error;
    r = PyUnicode_FromFormat("%S:%S", fn, ln);
error:
    Py_XDECREF(fn);
    Py_XDECREF(ln);
    return r;
}

static PyObject *
Frame_repr(SmFrameObject *self)
{
    /* Owned */
    PyObject *fn = NULL, *ln = NULL, *r = NULL;
    if (!(fn = Frame_item(self, 0)) || !(ln = Frame_item(self, 1)))
        goto error;
    r = PyUnicode_FromFormat("<Frame filename=%R lineno=%R>", fn, ln);
error:
    Py_XDECREF(fn);
    Py_XDECREF(ln);
    return r;
}

static PyGetSetDef Frame_getset[] = {
    {"filename", (getter)Frame_filename, NULL, NULL, NULL},
    {"lineno", (getter)Frame_lineno, NULL, NULL, NULL},
    {"_frame", (getter)Frame__frame, NULL, NULL, NULL},
    {NULL},
};

static PyType_Slot Frame_slots[] = {
    {Py_tp_doc, "Frame(frame)\n--\n\nFrame of a traceback: (filename, lineno)."},
    {Py_tp_new, Frame_new},
    {Py_tp_dealloc, Frame_dealloc},
    {Py_tp_richcompare, Frame_richcompare},
    {Py_tp_hash, Frame_hash},
    {Py_tp_str, Frame_str},
    {Py_tp_repr, Frame_repr},
    {Py_tp_getset, Frame_getset},
    {0, NULL},
};

static PyType_Spec Frame_spec = {
    "sleuth.memory.Frame", sizeof(SmFrameObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, Frame_slots,
};

/* ------------------------------------------------------------------------ */
/* Traceback                                                                */

PyObject *
SmTraceback_new(SmState *st, PyObject *frames, PyObject *total)
{
    SmTracebackObject *self = (SmTracebackObject *)sm_alloc(st->Traceback);
    if (!self)
        return NULL;
    self->frames = Py_NewRef(frames);
    self->total_nframe = Py_NewRef(total ? total : Py_None);
    return (PyObject *)self;
}

static PyObject *
Traceback_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    /* Borrowed */
    PyObject *frames, *total = Py_None;
    /* Owned */
    PyObject *seq = NULL, *rev = NULL, *r = NULL;
    static char *kwlist[] = {"frames", "total_nframe", NULL};

    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:Traceback", kwlist, &frames, &total))
        return NULL;
    /* tracemalloc's constructor takes frames most recent first and stores
     * them reversed (oldest first). */
    seq = PySequence_Tuple(frames);
    if (!seq)
        goto error;
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    rev = PyTuple_New(n);
    if (!rev)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(rev, i, Py_NewRef(PyTuple_GET_ITEM(seq, n - 1 - i)));
    r = sm_alloc(tp);
    if (!r)
        goto error;
    ((SmTracebackObject *)r)->frames = Py_NewRef(rev);
    ((SmTracebackObject *)r)->total_nframe = Py_NewRef(total);
error:
    Py_XDECREF(seq);
    Py_XDECREF(rev);
    return r;
}

SM_DEALLOC(Traceback_dealloc, SmTracebackObject)

static Py_ssize_t
Traceback_len(SmTracebackObject *self)
{
    return PyTuple_GET_SIZE(self->frames);
}

static PyObject *
Traceback_frame(SmTracebackObject *self, Py_ssize_t i)
{
    SmState *st = SmState_of_type(Py_TYPE(self));
    if (!st)
        return NULL;
    return Frame_create(st->Frame, PyTuple_GET_ITEM(self->frames, i));
}

static PyObject *
Traceback_item(SmTracebackObject *self, Py_ssize_t i)
{
    if (i < 0 || i >= PyTuple_GET_SIZE(self->frames)) {
        PyErr_SetString(PyExc_IndexError, "tuple index out of range");
        return NULL;
    }
    return Traceback_frame(self, i);
}

static PyObject *
Traceback_subscript(SmTracebackObject *self, PyObject *key)
{
    Py_ssize_t n = PyTuple_GET_SIZE(self->frames);
    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0)
            return NULL;
        Py_ssize_t len = PySlice_AdjustIndices(n, &start, &stop, step);
        PyObject *res = PyTuple_New(len);
        if (!res)
            return NULL;
        for (Py_ssize_t k = 0, i = start; k < len; k++, i += step) {
            PyObject *f = Traceback_frame(self, i);
            if (!f) {
                Py_DECREF(res);
                return NULL;
            }
            PyTuple_SET_ITEM(res, k, f);
        }
        return res;
    }
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (i < 0)
        i += n;
    return Traceback_item(self, i);
}

static int
Traceback_contains(SmTracebackObject *self, PyObject *frame)
{
    SmState *st = SmState_of_type(Py_TYPE(self));
    if (!st)
        return -1;
    if (Py_TYPE(frame) != st->Frame)
        return 0;
    return PySequence_Contains(self->frames, ((SmFrameObject *)frame)->frame);
}

static Py_hash_t
Traceback_hash(SmTracebackObject *self)
{
    return PyObject_Hash(self->frames);
}

static PyObject *
Traceback_richcompare(PyObject *a, PyObject *b, int op)
{
    if (Py_TYPE(a) != Py_TYPE(b))
        Py_RETURN_NOTIMPLEMENTED;
    return PyObject_RichCompare(((SmTracebackObject *)a)->frames,
                                ((SmTracebackObject *)b)->frames, op);
}

static PyObject *
Traceback_str(SmTracebackObject *self)
{
    PyObject *f = Traceback_item(self, 0);
    if (!f)
        return NULL;
    PyObject *r = PyObject_Str(f);
    Py_DECREF(f);
    return r;
}

static PyObject *
Traceback_repr(SmTracebackObject *self)
{
    /* Owned */
    PyObject *slice = NULL, *all = NULL, *r = NULL;
    slice = PySlice_New(NULL, NULL, NULL);
    if (!slice)
        return NULL;
    all = Traceback_subscript(self, slice);
    Py_DECREF(slice);
    if (!all)
        return NULL;
    if (self->total_nframe == Py_None)
        r = PyUnicode_FromFormat("<Traceback %R>", all);
    else
        r = PyUnicode_FromFormat("<Traceback %R total_nframe=%S>", all, self->total_nframe);
    Py_DECREF(all);
    return r;
}

static PyObject *
Traceback_format(SmTracebackObject *self, PyObject *args, PyObject *kw)
{
    /* Borrowed */
    PyObject *limit = Py_None;
    /* Owned */
    PyObject *lines = NULL, *linecache = NULL, *getline = NULL, *res = NULL;
    int recent_first = 0;
    static char *kwlist[] = {"limit", "most_recent_first", NULL};

    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Op:format", kwlist, &limit, &recent_first))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(self->frames), lo = 0, hi = n;
    if (limit != Py_None) {
        Py_ssize_t l = PyNumber_AsSsize_t(limit, PyExc_OverflowError);
        if (l == -1 && PyErr_Occurred())
            return NULL;
        if (l > 0)
            lo = l >= n ? 0 : n - l;      /* self[-limit:] */
        else
            hi = -l >= n ? 0 : n + l;     /* self[:limit] */
        if (l == 0)
            hi = 0;
    }
    lines = PyList_New(0);
    linecache = PyImport_ImportModule("linecache");
    if (!lines || !linecache)
        goto error;
    getline = PyObject_GetAttrString(linecache, "getline");
    if (!getline)
        goto error;
    for (Py_ssize_t k = 0; k < hi - lo; k++) {
        Py_ssize_t i = recent_first ? hi - 1 - k : lo + k;
        PyObject *fr = PyTuple_GET_ITEM(self->frames, i);
        PyObject *fn = PySequence_GetItem(fr, 0), *ln = fn ? PySequence_GetItem(fr, 1) : NULL;
        PyObject *txt = NULL, *src = NULL, *strip = NULL;
        int ok = 0;
        if (!fn || !ln)
            goto frame_done;
        txt = PyUnicode_FromFormat("  File \"%S\", line %S", fn, ln);
        if (!txt || PyList_Append(lines, txt) < 0)
            goto frame_done;
        src = PyObject_CallFunctionObjArgs(getline, fn, ln, NULL);
        if (!src)
            goto frame_done;
        strip = PyObject_CallMethod(src, "strip", NULL);
        if (!strip)
            goto frame_done;
        if (PyObject_IsTrue(strip) == 1) {
            Py_SETREF(txt, PyUnicode_FromFormat("    %S", strip));
            if (!txt || PyList_Append(lines, txt) < 0)
                goto frame_done;
        }
        ok = 1;
frame_done:
        Py_XDECREF(fn);
        Py_XDECREF(ln);
        Py_XDECREF(txt);
        Py_XDECREF(src);
        Py_XDECREF(strip);
        if (!ok)
            goto error;
    }
    res = Py_NewRef(lines);
error:
    Py_XDECREF(lines);
    Py_XDECREF(linecache);
    Py_XDECREF(getline);
    return res;
}

static PyObject *
Traceback_total(SmTracebackObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    return Py_NewRef(self->total_nframe);
}

static PyObject *
Traceback__frames(SmTracebackObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    return Py_NewRef(self->frames);
}

static PyGetSetDef Traceback_getset[] = {
    {"total_nframe", (getter)Traceback_total, NULL, NULL, NULL},
    {"_frames", (getter)Traceback__frames, NULL, NULL, NULL},
    {NULL},
};

static PyMethodDef Traceback_methods[] = {
    {"format", (PyCFunction)(void (*)(void))Traceback_format, METH_VARARGS | METH_KEYWORDS,
     "format($self, /, limit=None, most_recent_first=False)\n--\n\n"
     "Lines like the traceback module's, oldest frame first."},
    {NULL},
};

static PyType_Slot Traceback_slots[] = {
    {Py_tp_doc, "Traceback(frames, total_nframe=None)\n--\n\n"
                "Sequence of Frame instances sorted from the oldest frame to the most recent."},
    {Py_tp_new, Traceback_new},
    {Py_tp_dealloc, Traceback_dealloc},
    {Py_tp_richcompare, Traceback_richcompare},
    {Py_tp_hash, Traceback_hash},
    {Py_tp_str, Traceback_str},
    {Py_tp_repr, Traceback_repr},
    {Py_tp_getset, Traceback_getset},
    {Py_tp_methods, Traceback_methods},
    {Py_sq_length, Traceback_len},
    {Py_sq_item, Traceback_item},
    {Py_sq_contains, Traceback_contains},
    {Py_mp_length, Traceback_len},
    {Py_mp_subscript, Traceback_subscript},
    {0, NULL},
};

static PyType_Spec Traceback_spec = {
    "sleuth.memory.Traceback", sizeof(SmTracebackObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_SEQUENCE, Traceback_slots,
};

/* ------------------------------------------------------------------------ */
/* Trace                                                                    */

PyObject *
SmTrace_new(SmState *st, PyObject *domain, PyObject *size, PyObject *traceback)
{
    SmTraceObject *self = (SmTraceObject *)sm_alloc(st->Trace);
    if (!self)
        return NULL;
    self->domain = Py_NewRef(domain);
    self->size = Py_NewRef(size);
    self->traceback = Py_NewRef(traceback);
    return (PyObject *)self;
}

static PyObject *
Trace_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    /* Borrowed */
    PyObject *trace;
    /* Owned */
    PyObject *seq = NULL, *tbargs = NULL, *tb = NULL, *r = NULL;
    static char *kwlist[] = {"trace", NULL};
    SmState *st = SmState_of_type(tp);

    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "O:Trace", kwlist, &trace))
        return NULL;
    /* (domain, size, frames[, total_nframe]), frames most recent first */
    seq = PySequence_Tuple(trace);
    if (!seq)
        goto error;
    if (PyTuple_GET_SIZE(seq) < 3 || PyTuple_GET_SIZE(seq) > 4) {
        PyErr_SetString(PyExc_TypeError, "trace must be (domain, size, frames[, total_nframe])");
        goto error;
    }
    tbargs = PyTuple_GetSlice(seq, 2, PyTuple_GET_SIZE(seq));
    if (!tbargs)
        goto error;
    tb = Traceback_new(st->Traceback, tbargs, NULL);
    if (!tb)
        goto error;
    r = sm_alloc(tp);
    if (!r)
        goto error;
    ((SmTraceObject *)r)->domain = Py_NewRef(PyTuple_GET_ITEM(seq, 0));
    ((SmTraceObject *)r)->size = Py_NewRef(PyTuple_GET_ITEM(seq, 1));
    ((SmTraceObject *)r)->traceback = Py_NewRef(tb);
error:
    Py_XDECREF(seq);
    Py_XDECREF(tbargs);
    Py_XDECREF(tb);
    return r;
}

SM_DEALLOC(Trace_dealloc, SmTraceObject)

static PyObject *
sm_tuple3(PyObject *a, PyObject *b, PyObject *c)
{
    return PyTuple_Pack(3, a, b, c);
}

static PyObject *
Trace_richcompare(PyObject *a, PyObject *b, int op)
{
    if (Py_TYPE(a) != Py_TYPE(b) || (op != Py_EQ && op != Py_NE))
        Py_RETURN_NOTIMPLEMENTED;
    SmTraceObject *x = (SmTraceObject *)a, *y = (SmTraceObject *)b;
    PyObject *tx = sm_tuple3(x->domain, x->size, x->traceback);
    PyObject *ty = tx ? sm_tuple3(y->domain, y->size, y->traceback) : NULL;
    PyObject *r = ty ? PyObject_RichCompare(tx, ty, op) : NULL;
    Py_XDECREF(tx);
    Py_XDECREF(ty);
    return r;
}

static Py_hash_t
Trace_hash(SmTraceObject *self)
{
    PyObject *t = sm_tuple3(self->domain, self->size, self->traceback);
    if (!t)
        return -1;
    Py_hash_t h = PyObject_Hash(t);
    Py_DECREF(t);
    return h;
}

static PyObject *
Trace_str(SmTraceObject *self)
{
    PyObject *sz = sm_format_obj_size(self->size, 0);
    if (!sz)
        return NULL;
    PyObject *r = PyUnicode_FromFormat("%S: %U", self->traceback, sz);
    Py_DECREF(sz);
    return r;
}

static PyObject *
Trace_repr(SmTraceObject *self)
{
    PyObject *sz = sm_format_obj_size(self->size, 0);
    if (!sz)
        return NULL;
    PyObject *r = PyUnicode_FromFormat("<Trace domain=%S size=%U, traceback=%R>",
                                       self->domain, sz, self->traceback);
    Py_DECREF(sz);
    return r;
}

static PyMemberDef Trace_members[] = {
    {"domain", T_OBJECT, offsetof(SmTraceObject, domain), READONLY, NULL},
    {"size", T_OBJECT, offsetof(SmTraceObject, size), READONLY, NULL},
    {"traceback", T_OBJECT, offsetof(SmTraceObject, traceback), READONLY, NULL},
    {NULL},
};

static PyType_Slot Trace_slots[] = {
    {Py_tp_doc, "Trace(trace)\n--\n\nTrace of a memory block: domain, size, traceback."},
    {Py_tp_new, Trace_new},
    {Py_tp_dealloc, Trace_dealloc},
    {Py_tp_richcompare, Trace_richcompare},
    {Py_tp_hash, Trace_hash},
    {Py_tp_str, Trace_str},
    {Py_tp_repr, Trace_repr},
    {Py_tp_members, Trace_members},
    {0, NULL},
};

static PyType_Spec Trace_spec = {
    "sleuth.memory.Trace", sizeof(SmTraceObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, Trace_slots,
};

/* ------------------------------------------------------------------------ */
/* Statistic and StatisticDiff                                              */

PyObject *
SmStatistic_new(SmState *st, PyObject *tb, PyObject *size, PyObject *count)
{
    SmStatisticObject *self = (SmStatisticObject *)sm_alloc(st->Statistic);
    if (!self)
        return NULL;
    self->traceback = Py_NewRef(tb);
    self->size = Py_NewRef(size);
    self->count = Py_NewRef(count);
    return (PyObject *)self;
}

static PyObject *
Statistic_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    PyObject *tb, *size, *count;
    static char *kwlist[] = {"traceback", "size", "count", NULL};
    SmState *st = SmState_of_type(tp);
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "OOO:Statistic", kwlist, &tb, &size, &count))
        return NULL;
    return SmStatistic_new(st, tb, size, count);
}

SM_DEALLOC(Statistic_dealloc, SmStatisticObject)

static PyObject *
Statistic_astuple(SmStatisticObject *s)
{
    return sm_tuple3(s->traceback, s->size, s->count);
}

static PyObject *
Statistic_richcompare(PyObject *a, PyObject *b, int op)
{
    if (Py_TYPE(a) != Py_TYPE(b) || (op != Py_EQ && op != Py_NE))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *x = Statistic_astuple((SmStatisticObject *)a);
    PyObject *y = x ? Statistic_astuple((SmStatisticObject *)b) : NULL;
    PyObject *r = y ? PyObject_RichCompare(x, y, op) : NULL;
    Py_XDECREF(x);
    Py_XDECREF(y);
    return r;
}

static Py_hash_t
Statistic_hash(SmStatisticObject *self)
{
    PyObject *t = Statistic_astuple(self);
    if (!t)
        return -1;
    Py_hash_t h = PyObject_Hash(t);
    Py_DECREF(t);
    return h;
}

static PyObject *
Statistic_str(SmStatisticObject *self)
{
    /* Owned */
    PyObject *sz = NULL, *cnt = NULL, *avg = NULL, *r = NULL;
    if (!(sz = sm_format_obj_size(self->size, 0)) || !(cnt = sm_format_int(self->count, 0)) ||
        !(avg = sm_format_average(self->size, self->count)))
        goto error;
    r = PyUnicode_FromFormat("%S: size=%U, count=%U%U", self->traceback, sz, cnt, avg);
error:
    Py_XDECREF(sz);
    Py_XDECREF(cnt);
    Py_XDECREF(avg);
    return r;
}

static PyObject *
Statistic_repr(SmStatisticObject *self)
{
    /* Owned */
    PyObject *sz = NULL, *cnt = NULL, *r = NULL;
    if (!(sz = sm_format_int(self->size, 0)) || !(cnt = sm_format_int(self->count, 0)))
        goto error;
    r = PyUnicode_FromFormat("<Statistic traceback=%R size=%U count=%U>", self->traceback, sz, cnt);
error:
    Py_XDECREF(sz);
    Py_XDECREF(cnt);
    return r;
}

static PyMemberDef Statistic_members[] = {
    {"traceback", T_OBJECT_EX, offsetof(SmStatisticObject, traceback), 0, NULL},
    {"size", T_OBJECT_EX, offsetof(SmStatisticObject, size), 0, NULL},
    {"count", T_OBJECT_EX, offsetof(SmStatisticObject, count), 0, NULL},
    {NULL},
};

static PyType_Slot Statistic_slots[] = {
    {Py_tp_doc, "Statistic(traceback, size, count)\n--\n\nStatistic on memory allocations."},
    {Py_tp_new, Statistic_new},
    {Py_tp_dealloc, Statistic_dealloc},
    {Py_tp_richcompare, Statistic_richcompare},
    {Py_tp_hash, Statistic_hash},
    {Py_tp_str, Statistic_str},
    {Py_tp_repr, Statistic_repr},
    {Py_tp_members, Statistic_members},
    {0, NULL},
};

static PyType_Spec Statistic_spec = {
    "sleuth.memory.Statistic", sizeof(SmStatisticObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, Statistic_slots,
};

PyObject *
SmStatisticDiff_new(SmState *st, PyObject *tb, PyObject *size, PyObject *size_diff,
                    PyObject *count, PyObject *count_diff)
{
    SmStatisticDiffObject *self = (SmStatisticDiffObject *)sm_alloc(st->StatisticDiff);
    if (!self)
        return NULL;
    self->traceback = Py_NewRef(tb);
    self->size = Py_NewRef(size);
    self->size_diff = Py_NewRef(size_diff);
    self->count = Py_NewRef(count);
    self->count_diff = Py_NewRef(count_diff);
    return (PyObject *)self;
}

static PyObject *
StatisticDiff_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    PyObject *tb, *size, *sd, *count, *cd;
    static char *kwlist[] = {"traceback", "size", "size_diff", "count", "count_diff", NULL};
    SmState *st = SmState_of_type(tp);
    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "OOOOO:StatisticDiff", kwlist, &tb, &size,
                                            &sd, &count, &cd))
        return NULL;
    return SmStatisticDiff_new(st, tb, size, sd, count, cd);
}

SM_DEALLOC(StatisticDiff_dealloc, SmStatisticDiffObject)

static PyObject *
StatisticDiff_astuple(SmStatisticDiffObject *s)
{
    return PyTuple_Pack(5, s->traceback, s->size, s->size_diff, s->count, s->count_diff);
}

static PyObject *
StatisticDiff_richcompare(PyObject *a, PyObject *b, int op)
{
    if (Py_TYPE(a) != Py_TYPE(b) || (op != Py_EQ && op != Py_NE))
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *x = StatisticDiff_astuple((SmStatisticDiffObject *)a);
    PyObject *y = x ? StatisticDiff_astuple((SmStatisticDiffObject *)b) : NULL;
    PyObject *r = y ? PyObject_RichCompare(x, y, op) : NULL;
    Py_XDECREF(x);
    Py_XDECREF(y);
    return r;
}

static Py_hash_t
StatisticDiff_hash(SmStatisticDiffObject *self)
{
    PyObject *t = StatisticDiff_astuple(self);
    if (!t)
        return -1;
    Py_hash_t h = PyObject_Hash(t);
    Py_DECREF(t);
    return h;
}

static PyObject *
StatisticDiff_str(SmStatisticDiffObject *self)
{
    /* Owned */
    PyObject *sz = NULL, *sd = NULL, *cnt = NULL, *cd = NULL, *avg = NULL, *r = NULL;
    if (!(sz = sm_format_obj_size(self->size, 0)) || !(sd = sm_format_obj_size(self->size_diff, 1)) ||
        !(cnt = sm_format_int(self->count, 0)) || !(cd = sm_format_int(self->count_diff, 1)) ||
        !(avg = sm_format_average(self->size, self->count)))
        goto error;
    r = PyUnicode_FromFormat("%S: size=%U (%U), count=%U (%U)%U", self->traceback, sz, sd, cnt,
                             cd, avg);
error:
    Py_XDECREF(sz);
    Py_XDECREF(sd);
    Py_XDECREF(cnt);
    Py_XDECREF(cd);
    Py_XDECREF(avg);
    return r;
}

static PyObject *
StatisticDiff_repr(SmStatisticDiffObject *self)
{
    /* Owned */
    PyObject *sz = NULL, *sd = NULL, *cnt = NULL, *cd = NULL, *r = NULL;
    if (!(sz = sm_format_int(self->size, 0)) || !(sd = sm_format_int(self->size_diff, 1)) ||
        !(cnt = sm_format_int(self->count, 0)) || !(cd = sm_format_int(self->count_diff, 1)))
        goto error;
    r = PyUnicode_FromFormat("<StatisticDiff traceback=%R size=%U (%U) count=%U (%U)>",
                             self->traceback, sz, sd, cnt, cd);
error:
    Py_XDECREF(sz);
    Py_XDECREF(sd);
    Py_XDECREF(cnt);
    Py_XDECREF(cd);
    return r;
}

static PyMemberDef StatisticDiff_members[] = {
    {"traceback", T_OBJECT_EX, offsetof(SmStatisticDiffObject, traceback), 0, NULL},
    {"size", T_OBJECT_EX, offsetof(SmStatisticDiffObject, size), 0, NULL},
    {"size_diff", T_OBJECT_EX, offsetof(SmStatisticDiffObject, size_diff), 0, NULL},
    {"count", T_OBJECT_EX, offsetof(SmStatisticDiffObject, count), 0, NULL},
    {"count_diff", T_OBJECT_EX, offsetof(SmStatisticDiffObject, count_diff), 0, NULL},
    {NULL},
};

static PyType_Slot StatisticDiff_slots[] = {
    {Py_tp_doc, "StatisticDiff(traceback, size, size_diff, count, count_diff)\n--\n\n"
                "Statistic difference between an old and a new Snapshot."},
    {Py_tp_new, StatisticDiff_new},
    {Py_tp_dealloc, StatisticDiff_dealloc},
    {Py_tp_richcompare, StatisticDiff_richcompare},
    {Py_tp_hash, StatisticDiff_hash},
    {Py_tp_str, StatisticDiff_str},
    {Py_tp_repr, StatisticDiff_repr},
    {Py_tp_members, StatisticDiff_members},
    {0, NULL},
};

static PyType_Spec StatisticDiff_spec = {
    "sleuth.memory.StatisticDiff", sizeof(SmStatisticDiffObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, StatisticDiff_slots,
};

/* ------------------------------------------------------------------------ */
/* BaseFilter, Filter and DomainFilter                                      */

/* tracemalloc.BaseFilter: the common base of Filter and DomainFilter, which
 * holds `inclusive`. A Python subclass may add what it likes, as with
 * tracemalloc's plain class; snapshots filter with Filter and DomainFilter. */
static int
BaseFilter_init(PyObject *self, PyObject *args, PyObject *kw)
{
    PyObject *inclusive;
    static char *kwlist[] = {"inclusive", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:BaseFilter", kwlist, &inclusive))
        return -1;
    Py_XSETREF(((SmBaseFilterObject *)self)->inclusive, Py_NewRef(inclusive));
    return 0;
}

SM_DEALLOC(BaseFilter_dealloc, SmBaseFilterObject)

static PyMemberDef BaseFilter_members[] = {
    {"inclusive", T_OBJECT_EX, offsetof(SmBaseFilterObject, inclusive), 0, NULL},
    {NULL},
};

/* tracemalloc.BaseFilter._match (the private methods are described below,
 * before Filter's). */
static PyObject *
BaseFilter_match(PyObject *self, PyObject *trace)
{
    SLEUTH_UNUSED(self);
    SLEUTH_UNUSED(trace);
    PyErr_SetNone(PyExc_NotImplementedError);
    return NULL;
}

static PyMethodDef BaseFilter_methods[] = {
    {"_match", BaseFilter_match, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot BaseFilter_slots[] = {
    {Py_tp_doc, "BaseFilter(inclusive)\n--\n\nBase class of Filter and DomainFilter."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, BaseFilter_init},
    {Py_tp_dealloc, BaseFilter_dealloc},
    {Py_tp_members, BaseFilter_members},
    {Py_tp_methods, BaseFilter_methods},
    {0, NULL},
};

static PyType_Spec BaseFilter_spec = {
    "sleuth.memory.BaseFilter", sizeof(SmBaseFilterObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE, BaseFilter_slots,
};

/* tracemalloc's private matching methods, for code that calls them or
 * overrides them in a subclass: Snapshot.filter_traces calls _match(trace)
 * of any filter that is not exactly Filter or DomainFilter, as tracemalloc
 * does (snapshot.c). They take tracemalloc's raw forms: a traceback is a
 * tuple of (filename, lineno), most recent first; a trace is (domain, size,
 * traceback, total_nframe). Each calls the next through the instance, as
 * Lib/tracemalloc.py does, so an override of one is seen by the others. */

/* tracemalloc._normalize_filename (os.path.normcase is the identity on POSIX). */
static PyObject *
sm_normalize_filename(PyObject *filename)
{
    PyObject *pyc = PyUnicode_FromString(".pyc");
    if (!pyc)
        return NULL;
    Py_ssize_t tail = PyUnicode_Tailmatch(filename, pyc, 0, PY_SSIZE_T_MAX, 1);
    Py_DECREF(pyc);
    if (tail < 0)
        return NULL;
    if (tail == 1)
        return PyUnicode_Substring(filename, 0, PyUnicode_GET_LENGTH(filename) - 1);
    return Py_NewRef(filename);
}

/* Filter._match_frame_impl(filename, lineno) */
static PyObject *
Filter_match_frame_impl(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    SmFilterObject *self = (SmFilterObject *)op;
    /* Owned */
    PyObject *norm = NULL, *fnmatch = NULL, *res = NULL;

    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_match_frame_impl() takes filename and lineno");
        return NULL;
    }
    if (!PyUnicode_Check(args[0])) {
        PyErr_Format(PyExc_TypeError, "filename must be str, not %s", Py_TYPE(args[0])->tp_name);
        return NULL;
    }
    norm = sm_normalize_filename(args[0]);
    if (!norm)
        goto done;
    fnmatch = PyImport_ImportModule("fnmatch");
    if (!fnmatch)
        goto done;
    res = PyObject_CallMethod(fnmatch, "fnmatch", "OO", norm, self->pattern);
    if (!res)
        goto done;
    int m = PyObject_IsTrue(res);
    Py_CLEAR(res);
    if (m < 0)
        goto done;
    if (!m)
        res = Py_NewRef(Py_False);
    else if (self->lineno == NULL || self->lineno == Py_None)
        res = Py_NewRef(Py_True);
    else
        res = PyObject_RichCompare(args[1], self->lineno, Py_EQ);
done:
    Py_XDECREF(norm);
    Py_XDECREF(fnmatch);
    return res;
}

/* bool(a) ^ (not inclusive), or -1 */
static int
sm_xor_not_inclusive(PyObject *a, PyObject *inclusive)
{
    int x = PyObject_IsTrue(a);
    int incl = x < 0 ? -1 : PyObject_IsTrue(inclusive);
    if (x < 0 || incl < 0)
        return -1;
    return x ^ !incl;
}

/* Filter._match_frame(filename, lineno) */
static PyObject *
Filter_match_frame(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    SmFilterObject *self = (SmFilterObject *)op;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_match_frame() takes filename and lineno");
        return NULL;
    }
    PyObject *m = PyObject_CallMethod(op, "_match_frame_impl", "OO", args[0], args[1]);
    if (!m)
        return NULL;
    int r = sm_xor_not_inclusive(m, self->inclusive);
    Py_DECREF(m);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

/* (filename, lineno) of a raw traceback entry, borrowed from a new tuple */
static PyObject *
sm_frame_pair(PyObject *frame)
{
    PyObject *t = PySequence_Tuple(frame);
    if (t && PyTuple_GET_SIZE(t) != 2) {
        PyErr_SetString(PyExc_ValueError, "a frame is a (filename, lineno) pair");
        Py_CLEAR(t);
    }
    return t;
}

/* Filter._match_traceback(traceback) */
static PyObject *
Filter_match_traceback(PyObject *op, PyObject *traceback)
{
    SmFilterObject *self = (SmFilterObject *)op;
    /* Owned */
    PyObject *it = NULL, *item = NULL, *pair = NULL, *m = NULL, *res = NULL;

    int all = PyObject_IsTrue(self->all_frames);
    if (all < 0)
        goto done;
    if (!all) {
        if (!(item = PySequence_GetItem(traceback, 0)) || !(pair = sm_frame_pair(item)))
            goto done;
        res = PyObject_CallMethod(op, "_match_frame", "OO", PyTuple_GET_ITEM(pair, 0),
                                  PyTuple_GET_ITEM(pair, 1));
        goto done;
    }
    if (!(it = PyObject_GetIter(traceback)))
        goto done;
    int any = 0;
    while (!any && (item = PyIter_Next(it))) {
        if (!(pair = sm_frame_pair(item)))
            goto done;
        m = PyObject_CallMethod(op, "_match_frame_impl", "OO", PyTuple_GET_ITEM(pair, 0),
                                PyTuple_GET_ITEM(pair, 1));
        if (!m || (any = PyObject_IsTrue(m)) < 0)
            goto done;
        Py_CLEAR(m);
        Py_CLEAR(pair);
        Py_CLEAR(item);
    }
    if (PyErr_Occurred())
        goto done;
    if (any)
        res = Py_NewRef(self->inclusive);
    else {
        int incl = PyObject_IsTrue(self->inclusive);
        if (incl >= 0)
            res = PyBool_FromLong(!incl);
    }
done:
    Py_XDECREF(it);
    Py_XDECREF(item);
    Py_XDECREF(pair);
    Py_XDECREF(m);
    return res;
}

/* Filter._match(trace) */
static PyObject *
Filter_match(PyObject *op, PyObject *trace)
{
    SmFilterObject *self = (SmFilterObject *)op;
    /* Owned */
    PyObject *t = NULL, *res = NULL;

    t = PySequence_Tuple(trace);
    if (!t)
        goto done;
    if (PyTuple_GET_SIZE(t) != 4) {
        PyErr_SetString(PyExc_ValueError, "a trace is (domain, size, traceback, total_nframe)");
        goto done;
    }
    res = PyObject_CallMethod(op, "_match_traceback", "(O)", PyTuple_GET_ITEM(t, 2));
    if (!res || self->domain == NULL || self->domain == Py_None)
        goto done;
    int incl = PyObject_IsTrue(self->inclusive);
    int r = incl < 0 ? -1 : PyObject_IsTrue(res);
    if (r < 0) {
        Py_CLEAR(res);
        goto done;
    }
    /* inclusive: res and domain == self.domain; else res or domain != self.domain */
    if (incl ? r : !r)
        Py_SETREF(res, PyObject_RichCompare(PyTuple_GET_ITEM(t, 0), self->domain,
                                            incl ? Py_EQ : Py_NE));
done:
    Py_XDECREF(t);
    return res;
}

static PyMethodDef Filter_methods[] = {
    {"_match", Filter_match, METH_O, NULL},
    {"_match_traceback", Filter_match_traceback, METH_O, NULL},
    {"_match_frame", (PyCFunction)(void (*)(void))Filter_match_frame, METH_FASTCALL, NULL},
    {"_match_frame_impl", (PyCFunction)(void (*)(void))Filter_match_frame_impl, METH_FASTCALL,
     NULL},
    {NULL, NULL, 0, NULL},
};

/* DomainFilter._match(trace) */
static PyObject *
DomainFilter_match(PyObject *op, PyObject *trace)
{
    SmDomainFilterObject *self = (SmDomainFilterObject *)op;
    PyObject *t = PySequence_Tuple(trace), *eq = NULL, *res = NULL;
    if (!t)
        return NULL;
    if (PyTuple_GET_SIZE(t) != 4)
        PyErr_SetString(PyExc_ValueError, "a trace is (domain, size, traceback, total_nframe)");
    else if ((eq = PyObject_RichCompare(PyTuple_GET_ITEM(t, 0), self->domain, Py_EQ))) {
        int r = sm_xor_not_inclusive(eq, self->inclusive);
        if (r >= 0)
            res = PyBool_FromLong(r);
    }
    Py_XDECREF(eq);
    Py_DECREF(t);
    return res;
}

static PyMethodDef DomainFilter_methods[] = {
    {"_match", DomainFilter_match, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

/* Filter and DomainFilter take their arguments in tp_new; BaseFilter's
 * __init__ must not see them again. */
static int
Filter_init(PyObject *self, PyObject *args, PyObject *kw)
{
    SLEUTH_UNUSED(self);
    SLEUTH_UNUSED(args);
    SLEUTH_UNUSED(kw);
    return 0;
}

static PyObject *
Filter_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    /* Borrowed */
    PyObject *inclusive, *pattern, *lineno = Py_None, *all_frames = Py_False, *domain = Py_None;
    /* Owned */
    PyObject *norm = NULL;
    SmFilterObject *self = NULL;
    static char *kwlist[] = {"inclusive", "filename_pattern", "lineno", "all_frames", "domain", NULL};

    if (!PyArg_ParseTupleAndKeywords(args, kw, "OU|OOO:Filter", kwlist, &inclusive, &pattern,
                                     &lineno, &all_frames, &domain))
        return NULL;
    /* tracemalloc's _normalize_filename: os.path.normcase is the identity
     * on POSIX; a .pyc pattern matches the .py file. */
    PyObject *pyc = PyUnicode_FromString(".pyc");
    if (!pyc)
        return NULL;
    Py_ssize_t tail = PyUnicode_Tailmatch(pattern, pyc, 0, PY_SSIZE_T_MAX, 1);
    Py_DECREF(pyc);
    if (tail < 0)
        return NULL;
    if (tail == 1)
        norm = PyUnicode_Substring(pattern, 0, PyUnicode_GET_LENGTH(pattern) - 1);
    else
        norm = Py_NewRef(pattern);
    if (!norm)
        return NULL;
    self = (SmFilterObject *)sm_alloc(tp);
    if (!self) {
        Py_DECREF(norm);
        return NULL;
    }
    self->inclusive = Py_NewRef(inclusive);
    self->pattern = norm;
    self->lineno = Py_NewRef(lineno);
    self->all_frames = Py_NewRef(all_frames);
    self->domain = Py_NewRef(domain);
    return (PyObject *)self;
}

SM_DEALLOC(Filter_dealloc, SmFilterObject)

static PyObject *
Filter_repr(SmFilterObject *self)
{
    return PyUnicode_FromFormat("<Filter inclusive=%R filename_pattern=%R lineno=%R "
                                "all_frames=%R domain=%R>",
                                self->inclusive, self->pattern, self->lineno, self->all_frames,
                                self->domain);
}

static PyMemberDef Filter_members[] = {
    {"inclusive", T_OBJECT_EX, offsetof(SmFilterObject, inclusive), 0, NULL},
    {"filename_pattern", T_OBJECT_EX, offsetof(SmFilterObject, pattern), READONLY, NULL},
    {"lineno", T_OBJECT, offsetof(SmFilterObject, lineno), 0, NULL},
    {"all_frames", T_OBJECT_EX, offsetof(SmFilterObject, all_frames), 0, NULL},
    {"domain", T_OBJECT, offsetof(SmFilterObject, domain), 0, NULL},
    {NULL},
};

static PyType_Slot Filter_slots[] = {
    {Py_tp_doc, "Filter(inclusive, filename_pattern, lineno=None, all_frames=False, domain=None)\n"
                "--\n\nFilter on traces of memory blocks (see Snapshot.filter_traces)."},
    {Py_tp_new, Filter_new},
    {Py_tp_init, Filter_init},
    {Py_tp_dealloc, Filter_dealloc},
    {Py_tp_repr, Filter_repr},
    {Py_tp_members, Filter_members},
    {Py_tp_methods, Filter_methods},
    {0, NULL},
};

static PyType_Spec Filter_spec = {
    "sleuth.memory.Filter", sizeof(SmFilterObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE, Filter_slots,
};

static PyObject *
DomainFilter_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    PyObject *inclusive, *domain;
    static char *kwlist[] = {"inclusive", "domain", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO:DomainFilter", kwlist, &inclusive, &domain))
        return NULL;
    SmDomainFilterObject *self = (SmDomainFilterObject *)sm_alloc(tp);
    if (!self)
        return NULL;
    self->inclusive = Py_NewRef(inclusive);
    self->domain = Py_NewRef(domain);
    return (PyObject *)self;
}

SM_DEALLOC(DomainFilter_dealloc, SmDomainFilterObject)

static PyObject *
DomainFilter_repr(SmDomainFilterObject *self)
{
    return PyUnicode_FromFormat("<DomainFilter inclusive=%R domain=%R>", self->inclusive,
                                self->domain);
}

static PyMemberDef DomainFilter_members[] = {
    {"inclusive", T_OBJECT_EX, offsetof(SmDomainFilterObject, inclusive), 0, NULL},
    {"domain", T_OBJECT_EX, offsetof(SmDomainFilterObject, domain), READONLY, NULL},
    {NULL},
};

static PyType_Slot DomainFilter_slots[] = {
    {Py_tp_doc, "DomainFilter(inclusive, domain)\n--\n\nFilter traces by address space."},
    {Py_tp_new, DomainFilter_new},
    {Py_tp_init, Filter_init},
    {Py_tp_dealloc, DomainFilter_dealloc},
    {Py_tp_repr, DomainFilter_repr},
    {Py_tp_members, DomainFilter_members},
    {Py_tp_methods, DomainFilter_methods},
    {0, NULL},
};

static PyType_Spec DomainFilter_spec = {
    "sleuth.memory.DomainFilter", sizeof(SmDomainFilterObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE, DomainFilter_slots,
};

/* ------------------------------------------------------------------------ */

static int
sm_add_type(PyObject *m, PyType_Spec *spec, PyTypeObject *base, PyTypeObject **out)
{
    *out = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, (PyObject *)base);
    if (!*out)
        return -1;
    return PyModule_AddType(m, *out);
}

int
SmTypes_add(PyObject *m, SmState *st)
{
    if (sm_add_type(m, &Frame_spec, NULL, &st->Frame) < 0 ||
        sm_add_type(m, &Traceback_spec, NULL, &st->Traceback) < 0 ||
        sm_add_type(m, &Trace_spec, NULL, &st->Trace) < 0 ||
        sm_add_type(m, &Statistic_spec, NULL, &st->Statistic) < 0 ||
        sm_add_type(m, &StatisticDiff_spec, NULL, &st->StatisticDiff) < 0 ||
        sm_add_type(m, &BaseFilter_spec, NULL, &st->BaseFilter) < 0 ||
        sm_add_type(m, &Filter_spec, st->BaseFilter, &st->Filter) < 0 ||
        sm_add_type(m, &DomainFilter_spec, st->BaseFilter, &st->DomainFilter) < 0)
        return -1;
    return 0;
}
