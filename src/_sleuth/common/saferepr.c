/* saferepr.c — bounded, non-mutating repr() (see saferepr.h for the contract).
 *
 * Sections: text writer, time guard, children, renderer, public API.
 *
 * The renderer writes into a small UTF-8 buffer that refuses text beyond the
 * character budget, and every loop stops as soon as the buffer is full or the
 * value's time is spent. That is what keeps a 100 MB list cheap: we never
 * ask Python for the repr of a builtin container, only of leaves.
 */
#include "saferepr.h"
#include "redact.h"
#include <string.h>
#include <time.h>

#define GUARD_CAPSULE "sleuth.saferepr.guard"
/* ints with more bits than this are shown as "<int of N bits>": repr() of
 * them is slow and 3.11+ refuses more than 4300 digits anyway. */
#define BIG_INT_BITS 12000
/* How far the secret scan looks into an object before trusting its repr. */
#define SECRET_SCAN_DEPTH 3
#define SECRET_SCAN_ITEMS 64
#define SECRET_SCAN_NODES 256   /* objects looked at per scan, in total */

static double
monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* Text writer: UTF-8 bytes, counted in characters, cut at a limit.          */

typedef struct {
    char *buf;
    Py_ssize_t len, cap;    /* bytes */
    Py_ssize_t chars;       /* characters written */
    Py_ssize_t limit;       /* characters allowed */
    int full;               /* something did not fit: the text is cut */
    int nomem;
} Writer;

static int
w_reserve(Writer *w, Py_ssize_t extra)
{
    if (w->len + extra <= w->cap)
        return 0;
    Py_ssize_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + extra)
        cap *= 2;
    char *nb = PyMem_Realloc(w->buf, (size_t)cap);
    if (!nb) {
        w->nomem = 1;
        w->full = 1;
        return -1;
    }
    w->buf = nb;
    w->cap = cap;
    return 0;
}

/* Append UTF-8 text; raw newlines and carriage returns become \n and \r so
 * the result stays on one line. Stops at the character limit. */
static void
w_put(Writer *w, const char *s, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n && !w->full; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch & 0xC0) != 0x80) {          /* first byte of a character */
            if (w->chars >= w->limit) {
                w->full = 1;
                break;
            }
            w->chars++;
        }
        if (ch == '\n' || ch == '\r') {
            if (w_reserve(w, 2) < 0)
                break;
            w->buf[w->len++] = '\\';
            w->buf[w->len++] = ch == '\n' ? 'n' : 'r';
            w->chars++;
            continue;
        }
        if (w_reserve(w, 1) < 0)
            break;
        w->buf[w->len++] = (char)ch;
    }
}

static void
w_puts(Writer *w, const char *s)
{
    w_put(w, s, (Py_ssize_t)strlen(s));
}

/* Append a str object's text (at most what can still fit). */
static void
w_put_str(Writer *w, PyObject *s)
{
    /* Owned */
    PyObject *prefix = NULL;
    Py_ssize_t room = w->limit - w->chars + 1, n;

    if (w->full)
        return;
    if (PyUnicode_GET_LENGTH(s) > room) {
        /* A 50 MB repr must not be encoded whole just to be cut. */
        prefix = PyUnicode_Substring(s, 0, room);
        if (!prefix) {
            PyErr_Clear();
            w->full = 1;
            return;
        }
        s = prefix;
    }
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) {
        PyErr_Clear();
        w_puts(w, "<unprintable text>");
    }
    else
        w_put(w, u, n);
    Py_XDECREF(prefix);
}

/* Finish: cut to limit-3 characters plus "..." when the text did not fit. */
static PyObject *
w_finish(Writer *w)
{
    PyObject *res;

    if (w->nomem) {
        PyMem_Free(w->buf);
        return PyErr_NoMemory();
    }
    if (w->full) {
        Py_ssize_t keep = w->limit > 3 ? w->limit - 3 : 0, seen = 0, i;
        for (i = 0; i < w->len; i++) {
            if ((((unsigned char)w->buf[i]) & 0xC0) != 0x80) {
                if (seen == keep)
                    break;
                seen++;
            }
        }
        w->len = i;
        w->full = 0;
        w->chars = 0;
        w->limit = PY_SSIZE_T_MAX;
        w_puts(w, "...");
        if (w->nomem) {
            PyMem_Free(w->buf);
            return PyErr_NoMemory();
        }
    }
    res = PyUnicode_DecodeUTF8(w->buf ? w->buf : "", w->len, "replace");
    PyMem_Free(w->buf);
    w->buf = NULL;
    return res;
}

/* ------------------------------------------------------------------------ */
/* Time guard: a C trace function, present only while a batch uses it.     */

static int
guard_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    SLEUTH_UNUSED(frame);
    SLEUTH_UNUSED(what);
    SLEUTH_UNUSED(arg);
    SafeRepr_Context *c = PyCapsule_GetPointer(obj, GUARD_CAPSULE);
    if (!c) {
        PyErr_Clear();
        return 0;
    }
    if (!c->armed)
        return 0;
    if (monotonic_now() > c->guard_deadline) {
        c->timed_out = 1;
        PyErr_SetString(PyExc_TimeoutError, "repr time budget exceeded");
        return -1;
    }
    return 0;
}

/* Install the guard (once per batch). Failure only costs the guard. */
static void
guard_install(SafeRepr_Context *c)
{
    if (c->guard_installed || c->opts.max_seconds <= 0)
        return;
    PyThreadState *ts = PyThreadState_Get();
    c->capsule = PyCapsule_New(c, GUARD_CAPSULE, NULL);
    if (!c->capsule) {
        PyErr_Clear();
        return;
    }
    c->saved_func = ts->c_tracefunc;
    c->saved_obj = Py_XNewRef(ts->c_traceobj);
    PyEval_SetTrace(guard_trace, c->capsule);
    c->guard_installed = 1;
}

static void
guard_remove(SafeRepr_Context *c)
{
    if (c->guard_installed) {
        PyEval_SetTrace(c->saved_func, c->saved_obj);
        c->guard_installed = 0;
    }
    Py_CLEAR(c->saved_obj);
    Py_CLEAR(c->capsule);
    Py_CLEAR(c->secret_cache);
}

/* repr(obj) of user code, under the guard. New str, or NULL with the
 * exception that the repr raised (TimeoutError when the guard fired). */
static PyObject *
guarded_repr(SafeRepr_Context *c, PyObject *obj)
{
    PyObject *res;

    guard_install(c);
    int was_armed = c->armed;
    c->armed = 1;
    res = PyObject_Repr(obj);
    c->armed = was_armed;
    return res;
}

static int
time_is_up(SafeRepr_Context *c)
{
    if (c->timed_out)
        return 1;
    if (c->opts.max_seconds > 0 && monotonic_now() > c->deadline) {
        c->timed_out = 1;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Children: what lies inside a value, read without running user code.      */

static int
has_builtin_set_iter(PyObject *obj)
{
    return Py_TYPE(obj)->tp_iter == PySet_Type.tp_iter;
}

SafeRepr_Kind
SafeRepr_kind(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);

    if (PyList_Check(obj) || PyTuple_Check(obj))
        return SAFEREPR_SEQUENCE;
    if (PyDict_Check(obj))
        return SAFEREPR_MAPPING;
    if (PyAnySet_Check(obj))
        return has_builtin_set_iter(obj) ? SAFEREPR_SET : SAFEREPR_ATOM;
    if (PyType_Check(obj) || PyModule_Check(obj) || PyExceptionInstance_Check(obj))
        return SAFEREPR_ATOM;
    /* Instances of Python classes: their state is in __dict__ and slots,
     * which are read directly, so __getattr__/__getattribute__ and
     * properties never run. */
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
        return SAFEREPR_OBJECT;
    return SAFEREPR_ATOM;
}

/* Append (name, value) for every filled member slot of heap classes. */
static int
add_slots(PyObject *obj, PyObject *out, Py_ssize_t max_items, Py_ssize_t *total)
{
    PyObject *mro = Py_TYPE(obj)->tp_mro;   /* borrowed */
    if (!mro || !PyTuple_Check(mro))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE) || !base->tp_dict)
            continue;
        PyObject *k, *descr;
        Py_ssize_t pos = 0;
        while (PyDict_Next(base->tp_dict, &pos, &k, &descr)) {
            /* Member descriptors read a C slot: no user code runs. */
            if (!Py_IS_TYPE(descr, &PyMemberDescr_Type) || !PyUnicode_Check(k))
                continue;
            PyObject *v = Py_TYPE(descr)->tp_descr_get(descr, obj, (PyObject *)Py_TYPE(obj));
            if (!v) {
                PyErr_Clear();          /* an unset slot */
                continue;
            }
            (*total)++;
            int rc = 0;
            if (PyList_GET_SIZE(out) < max_items) {
                PyObject *pair = PyTuple_Pack(2, k, v);
                rc = pair ? PyList_Append(out, pair) : -1;
                Py_XDECREF(pair);
            }
            Py_DECREF(v);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

/* The instance __dict__ (new ref) or NULL without an exception. */
static PyObject *
instance_dict(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    int has_dict = tp->tp_dictoffset != 0;
#ifdef Py_TPFLAGS_MANAGED_DICT
    has_dict = has_dict || (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT);
#endif
    if (!has_dict)
        return NULL;
    PyObject *d = PyObject_GenericGetDict(obj, NULL);
    if (!d || !PyDict_Check(d)) {
        PyErr_Clear();
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

PyObject *
SafeRepr_children(PyObject *obj, Py_ssize_t max_items, Py_ssize_t *total)
{
    /* Owned */
    PyObject *out = NULL, *it = NULL, *item = NULL, *d = NULL;
    SafeRepr_Kind kind = SafeRepr_kind(obj);

    *total = 0;
    out = PyList_New(0);
    if (!out)
        goto error;
    switch (kind) {
    case SAFEREPR_SEQUENCE: {
        int is_list = PyList_Check(obj);
        *total = is_list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
        for (Py_ssize_t i = 0; i < max_items; i++) {
            Py_ssize_t n = is_list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
            if (i >= n)
                break;
            PyObject *v = is_list ? PyList_GET_ITEM(obj, i) : PyTuple_GET_ITEM(obj, i);
            if (PyList_Append(out, v) < 0)
                goto error;
        }
        break;
    }
    case SAFEREPR_SET:
        *total = PySet_GET_SIZE(obj);
        it = PyObject_GetIter(obj);
        if (!it)
            goto error;
        while (PyList_GET_SIZE(out) < max_items && (item = PyIter_Next(it)) != NULL) {
            if (PyList_Append(out, item) < 0)
                goto error;
            Py_CLEAR(item);
        }
        PyErr_Clear();      /* "set changed size during iteration": keep what we have */
        break;
    case SAFEREPR_MAPPING: {
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        *total = PyDict_GET_SIZE(obj);
        while (PyList_GET_SIZE(out) < max_items && PyDict_Next(obj, &pos, &k, &v)) {
            PyObject *pair = PyTuple_Pack(2, k, v);
            if (!pair || PyList_Append(out, pair) < 0) {
                Py_XDECREF(pair);
                goto error;
            }
            Py_DECREF(pair);
        }
        break;
    }
    case SAFEREPR_OBJECT: {
        d = instance_dict(obj);
        if (d) {
            PyObject *k, *v;
            Py_ssize_t pos = 0;
            while (PyDict_Next(d, &pos, &k, &v)) {
                if (!PyUnicode_Check(k))
                    continue;
                (*total)++;
                if (PyList_GET_SIZE(out) >= max_items)
                    continue;
                PyObject *pair = PyTuple_Pack(2, k, v);
                if (!pair || PyList_Append(out, pair) < 0) {
                    Py_XDECREF(pair);
                    goto error;
                }
                Py_DECREF(pair);
            }
        }
        if (add_slots(obj, out, max_items, total) < 0)
            goto error;
        break;
    }
    case SAFEREPR_ATOM:
        break;
    }
    Py_XDECREF(it);
    Py_XDECREF(d);
    return out;
error:
    Py_XDECREF(out);
    Py_XDECREF(it);
    Py_XDECREF(item);
    Py_XDECREF(d);
    return NULL;
}

PyObject *
SafeRepr_type_name(PyTypeObject *tp)
{
    /* Owned */
    PyObject *qual = NULL, *mod = NULL, *res = NULL;

    qual = PyType_GetQualName(tp);
    if (!qual)
        goto done;
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        /* Static types: the module is the part of tp_name before the dot. */
        const char *dot = strrchr(tp->tp_name, '.');
        if (!dot) {
            res = Py_NewRef(qual);
            goto done;
        }
        res = PyUnicode_FromFormat("%.*s.%U", (int)(dot - tp->tp_name), tp->tp_name, qual);
        goto done;
    }
    mod = PyDict_GetItemString(tp->tp_dict, "__module__");   /* borrowed */
    if (mod && PyUnicode_Check(mod) && PyUnicode_CompareWithASCIIString(mod, "builtins") != 0)
        res = PyUnicode_FromFormat("%U.%U", mod, qual);
    else
        res = Py_NewRef(qual);
    mod = NULL;
done:
    Py_XDECREF(qual);
    return res;
}

/* ------------------------------------------------------------------------ */
/* Renderer                                                                 */

static void render(SafeRepr_Context *c, Writer *w, PyObject *obj, int depth);

int
SafeRepr_is_secret_name(SafeRepr_Context *c, PyObject *name)
{
    int r = Redact_name_matches(c->opts.redact, name);
    if (r < 0) {
        PyErr_Clear();
        return 0;
    }
    return r;
}

/* Would the object's own __repr__ show a secret? Looks a few levels into
 * dicts, lists and instance attributes for a name that must be redacted. */
static int
holds_secret_inner(SafeRepr_Context *c, PyObject *obj, int depth, int *budget)
{
    /* Owned */
    PyObject *kids = NULL;
    Py_ssize_t total;
    int found = 0;

    if (depth > SECRET_SCAN_DEPTH || !c->opts.redact || PyTuple_GET_SIZE(c->opts.redact) == 0)
        return 0;
    /* Too big to be sure: treat it as holding a secret (render it here). */
    if (--(*budget) < 0)
        return 1;
    SafeRepr_Kind kind = SafeRepr_kind(obj);
    if (kind == SAFEREPR_ATOM || kind == SAFEREPR_SET)
        return 0;
    if (Py_EnterRecursiveCall(" in sleuth's secret scan"))  {
        PyErr_Clear();
        return 0;
    }
    kids = SafeRepr_children(obj, SECRET_SCAN_ITEMS, &total);
    if (!kids) {
        PyErr_Clear();
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(kids) && !found; i++) {
        PyObject *kid = PyList_GET_ITEM(kids, i);
        if (kind == SAFEREPR_SEQUENCE) {
            found = holds_secret_inner(c, kid, depth + 1, budget);
            continue;
        }
        if (SafeRepr_is_secret_name(c, PyTuple_GET_ITEM(kid, 0)))
            found = 1;
        else
            found = holds_secret_inner(c, PyTuple_GET_ITEM(kid, 1), depth + 1, budget);
    }
done:
    Py_LeaveRecursiveCall();
    Py_XDECREF(kids);
    return found;
}

/* Scans are remembered for the batch (structure capture asks about the
 * same objects again at every level). The cache holds a reference to each
 * object so that its id cannot be reused by another one meanwhile. */
static int
holds_secret(SafeRepr_Context *c, PyObject *obj, int depth)
{
    int budget = SECRET_SCAN_NODES;
    PyObject *key = NULL, *hit = NULL, *entry = NULL;

    if (!c->opts.redact || PyTuple_GET_SIZE(c->opts.redact) == 0)
        return 0;
    if (!c->secret_cache)
        c->secret_cache = PyDict_New();
    key = c->secret_cache ? PyLong_FromVoidPtr(obj) : NULL;
    if (key) {
        hit = PyDict_GetItemWithError(c->secret_cache, key);   /* borrowed */
        if (hit) {
            Py_DECREF(key);
            return PyTuple_GET_ITEM(hit, 1) == Py_True;
        }
    }
    PyErr_Clear();
    int found = holds_secret_inner(c, obj, depth, &budget);
    if (key) {
        entry = PyTuple_Pack(2, obj, found ? Py_True : Py_False);
        if (!entry || PyDict_SetItem(c->secret_cache, key, entry) < 0)
            PyErr_Clear();
        Py_XDECREF(entry);
        Py_DECREF(key);
    }
    return found;
}

static int
is_ancestor(SafeRepr_Context *c, PyObject *obj)
{
    for (int i = 0; i < c->nancestors; i++)
        if (c->ancestors[i] == obj)
            return 1;
    return 0;
}

/* "TypeName" of obj's type, for prefixes such as "OrderedDict(". */
static void
w_type_name(Writer *w, PyObject *obj)
{
    PyObject *name = PyType_GetName(Py_TYPE(obj));
    if (!name) {
        PyErr_Clear();
        w_puts(w, Py_TYPE(obj)->tp_name);
        return;
    }
    w_put_str(w, name);
    Py_DECREF(name);
}

/* Write the text of an exception class name for "<repr failed: X>". */
static void
w_exc_name(Writer *w, PyObject *exc)
{
    PyObject *name = PyType_GetName(Py_TYPE(exc));
    if (!name) {
        PyErr_Clear();
        w_puts(w, "?");
        return;
    }
    w_put_str(w, name);
    Py_DECREF(name);
}

/* Leaf repr through Python: builtin leaves directly, everything else under
 * the time guard. */
static void
render_via_repr(SafeRepr_Context *c, Writer *w, PyObject *obj, int trusted)
{
    /* Owned */
    PyObject *text = NULL, *exc = NULL;

    c->timed_out = 0;
    if (!trusted && c->opts.total_seconds > 0 && monotonic_now() > c->batch_deadline) {
        w_puts(w, "<repr skipped: time budget spent>");
        return;
    }
    text = trusted ? PyObject_Repr(obj) : guarded_repr(c, obj);
    if (text) {
        w_put_str(w, text);
        Py_DECREF(text);
        return;
    }
    exc = PyErr_GetRaisedException();
    if (c->timed_out)
        w_puts(w, "<repr timed out>");
    else if (exc) {
        w_puts(w, "<repr failed: ");
        w_exc_name(w, exc);
        w_puts(w, ">");
    }
    else
        w_puts(w, "<repr failed>");
    Py_XDECREF(exc);
}

static void
render_str_prefix(Writer *w, PyObject *obj)
{
    /* Owned */
    PyObject *part = NULL, *text = NULL;
    Py_ssize_t room = w->limit - w->chars + 1;
    int cut = PyUnicode_GET_LENGTH(obj) > room;

    part = cut ? PyUnicode_Substring(obj, 0, room) : Py_NewRef(obj);
    if (!part)
        goto fail;
    text = PyObject_Repr(part);
    if (!text)
        goto fail;
    w_put_str(w, text);
    if (cut)
        w->full = 1;
    Py_DECREF(part);
    Py_DECREF(text);
    return;
fail:
    PyErr_Clear();
    Py_XDECREF(part);
    w_puts(w, "<str>");
}

static void
render_bytes_prefix(Writer *w, PyObject *obj)
{
    /* Owned */
    PyObject *part = NULL, *text = NULL;
    Py_ssize_t room = w->limit - w->chars + 1;
    int is_array = PyByteArray_Check(obj);
    Py_ssize_t n = is_array ? PyByteArray_GET_SIZE(obj) : PyBytes_GET_SIZE(obj);
    int cut = n > room;

    if (cut)
        n = room;
    part = PyBytes_FromStringAndSize(is_array ? PyByteArray_AS_STRING(obj) : PyBytes_AS_STRING(obj), n);
    if (!part)
        goto fail;
    text = PyObject_Repr(part);
    if (!text)
        goto fail;
    if (is_array)
        w_puts(w, "bytearray(");
    w_put_str(w, text);
    if (is_array)
        w_puts(w, ")");
    if (cut)
        w->full = 1;
    Py_DECREF(part);
    Py_DECREF(text);
    return;
fail:
    PyErr_Clear();
    Py_XDECREF(part);
    w_puts(w, "<bytes>");
}

static void
render_int(SafeRepr_Context *c, Writer *w, PyObject *obj)
{
    int overflow = 0;
    (void)PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow) {
        PyObject *bits = PyObject_CallMethod(obj, "bit_length", NULL);
        long long nbits = bits ? PyLong_AsLongLong(bits) : -1;
        Py_XDECREF(bits);
        if (nbits < 0)
            PyErr_Clear();
        if (nbits < 0 || nbits > BIG_INT_BITS) {
            char buf[64];
            snprintf(buf, sizeof buf, "<int of %lld bits>", nbits);
            w_puts(w, buf);
            return;
        }
    }
    render_via_repr(c, w, obj, 1);
}

/* Items of obj (a SEQUENCE, SET or MAPPING, or OBJECT attributes) between
 * `open` and `close`. */
static void
render_container(SafeRepr_Context *c, Writer *w, PyObject *obj, int depth,
                 SafeRepr_Kind kind, const char *open, const char *close)
{
    /* Owned */
    PyObject *kids = NULL;
    Py_ssize_t total = 0;

    w_puts(w, open);
    if (is_ancestor(c, obj) || depth >= c->opts.max_depth
            || c->nancestors >= SAFEREPR_MAX_DEPTH_LIMIT) {
        w_puts(w, "...");
        w_puts(w, close);
        return;
    }
    kids = SafeRepr_children(obj, c->opts.max_items, &total);
    if (!kids) {
        PyErr_Clear();
        w_puts(w, "...");
        w_puts(w, close);
        return;
    }
    c->ancestors[c->nancestors++] = obj;
    Py_ssize_t n = PyList_GET_SIZE(kids);
    for (Py_ssize_t i = 0; i < n && !w->full; i++) {
        if (time_is_up(c)) {
            w_puts(w, i ? ", ..." : "...");
            w->full = 1;
            break;
        }
        if (i)
            w_puts(w, ", ");
        PyObject *kid = PyList_GET_ITEM(kids, i);
        if (kind == SAFEREPR_SEQUENCE || kind == SAFEREPR_SET) {
            render(c, w, kid, depth + 1);
            continue;
        }
        PyObject *key = PyTuple_GET_ITEM(kid, 0), *val = PyTuple_GET_ITEM(kid, 1);
        if (kind == SAFEREPR_OBJECT) {
            w_put_str(w, key);
            w_puts(w, "=");
        }
        else {
            render(c, w, key, depth + 1);
            w_puts(w, ": ");
        }
        if (SafeRepr_is_secret_name(c, key))
            w_puts(w, REDACT_REPR);
        else
            render(c, w, val, depth + 1);
    }
    c->nancestors--;
    if (total > n && !w->full)
        w_puts(w, n ? ", ..." : "...");
    if (kind == SAFEREPR_SEQUENCE && PyTuple_Check(obj) && total == 1)
        w_puts(w, ",");
    w_puts(w, close);
    Py_DECREF(kids);
}

/* Does the type keep the base type's repr (so ours is equivalent)? */
static int
inherits_repr(PyObject *obj, PyTypeObject *base)
{
    return Py_TYPE(obj)->tp_repr == base->tp_repr;
}

static void
render(SafeRepr_Context *c, Writer *w, PyObject *obj, int depth)
{
    if (w->full)
        return;
    if (time_is_up(c)) {
        w_puts(w, "...");
        w->full = 1;
        return;
    }
    if (obj == Py_None) { w_puts(w, "None"); return; }
    if (obj == Py_True) { w_puts(w, "True"); return; }
    if (obj == Py_False) { w_puts(w, "False"); return; }
    if (PyLong_CheckExact(obj)) { render_int(c, w, obj); return; }
    if (PyFloat_CheckExact(obj) || PyComplex_CheckExact(obj)) {
        render_via_repr(c, w, obj, 1);
        return;
    }
    if (PyUnicode_CheckExact(obj)) { render_str_prefix(w, obj); return; }
    if (PyBytes_CheckExact(obj) || PyByteArray_CheckExact(obj)) {
        render_bytes_prefix(w, obj);
        return;
    }
    /* Builtin containers and their subclasses are walked here: their own
     * repr would visit every item, and a subclass's repr could be slow. */
    if (PyList_Check(obj)) {
        if (inherits_repr(obj, &PyList_Type)) {
            render_container(c, w, obj, depth, SAFEREPR_SEQUENCE, "[", "]");
            return;
        }
        w_type_name(w, obj);
        render_container(c, w, obj, depth, SAFEREPR_SEQUENCE, "([", "])");
        return;
    }
    if (PyTuple_Check(obj)) {
        if (inherits_repr(obj, &PyTuple_Type)) {
            render_container(c, w, obj, depth, SAFEREPR_SEQUENCE, "(", ")");
            return;
        }
        if (!c->opts.redact || !holds_secret(c, obj, 0)) {
            /* namedtuples and friends: their repr only formats the fields,
             * which are few; trust it under the time guard. */
            render_via_repr(c, w, obj, 0);
            return;
        }
        w_type_name(w, obj);
        render_container(c, w, obj, depth, SAFEREPR_SEQUENCE, "(", ")");
        return;
    }
    if (PyDict_Check(obj)) {
        if (inherits_repr(obj, &PyDict_Type)) {
            render_container(c, w, obj, depth, SAFEREPR_MAPPING, "{", "}");
            return;
        }
        w_type_name(w, obj);
        render_container(c, w, obj, depth, SAFEREPR_MAPPING, "({", "})");
        return;
    }
    if (PyAnySet_Check(obj) && has_builtin_set_iter(obj)) {
        int frozen = PyFrozenSet_Check(obj);
        Py_ssize_t n = PySet_GET_SIZE(obj);
        int plain = PyAnySet_CheckExact(obj);
        if (!plain || frozen || n == 0) {
            w_type_name(w, obj);
            if (n == 0) {
                w_puts(w, "()");
                return;
            }
            render_container(c, w, obj, depth, SAFEREPR_SET, "({", "})");
            return;
        }
        render_container(c, w, obj, depth, SAFEREPR_SET, "{", "}");
        return;
    }
    /* The default object repr names the class and address: no user code. */
    if (Py_TYPE(obj)->tp_repr == PyBaseObject_Type.tp_repr) {
        render_via_repr(c, w, obj, 1);
        return;
    }
    if (SafeRepr_kind(obj) == SAFEREPR_OBJECT && holds_secret(c, obj, 0)) {
        /* Its own repr might print a password: show the attributes here. */
        w_type_name(w, obj);
        render_container(c, w, obj, depth, SAFEREPR_OBJECT, "(", ")");
        return;
    }
    render_via_repr(c, w, obj, 0);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

void
SafeRepr_options_default(SafeRepr_Options *o)
{
    o->max_chars = SAFEREPR_DEFAULT_MAX_CHARS;
    o->max_items = SAFEREPR_DEFAULT_MAX_ITEMS;
    o->max_depth = SAFEREPR_DEFAULT_MAX_DEPTH;
    o->max_seconds = SAFEREPR_DEFAULT_MAX_SECONDS;
    o->total_seconds = SAFEREPR_DEFAULT_TOTAL_SECONDS;
    o->redact = NULL;
}

void
SafeRepr_begin(SafeRepr_Context *c, const SafeRepr_Options *o)
{
    memset(c, 0, sizeof *c);
    c->opts = *o;
    if (c->opts.max_chars < 8)
        c->opts.max_chars = 8;
    if (c->opts.max_items < 0)
        c->opts.max_items = 0;
    if (c->opts.max_depth < 0)
        c->opts.max_depth = 0;
    if (c->opts.max_depth > SAFEREPR_MAX_DEPTH_LIMIT)
        c->opts.max_depth = SAFEREPR_MAX_DEPTH_LIMIT;
    if (c->opts.redact && !PyTuple_Check(c->opts.redact))
        c->opts.redact = NULL;
    c->batch_deadline = c->opts.total_seconds > 0 ? monotonic_now() + c->opts.total_seconds : 1e300;
}

void
SafeRepr_end(SafeRepr_Context *c)
{
    /* Owned */
    PyObject *pending = PyErr_GetRaisedException();
    guard_remove(c);
    PyErr_SetRaisedException(pending);
}

PyObject *
SafeRepr_value(SafeRepr_Context *c, PyObject *obj)
{
    /* Owned */
    PyObject *pending = NULL, *res = NULL;
    Writer w = {0};

    /* The caller may be in the middle of reporting an error. */
    pending = PyErr_GetRaisedException();
    w.limit = c->opts.max_chars;
    c->timed_out = 0;
    c->nancestors = 0;
    c->deadline = monotonic_now() + c->opts.max_seconds;
    c->guard_deadline = c->deadline < c->batch_deadline ? c->deadline : c->batch_deadline;
    render(c, &w, obj, 0);
    if (PyErr_Occurred())
        PyErr_Clear();      /* nothing the renderer tried may leak out */
    res = w_finish(&w);
    if (!res) {
        Py_XDECREF(pending);
        return NULL;
    }
    PyErr_SetRaisedException(pending);
    return res;
}

PyObject *
SafeRepr_named(SafeRepr_Context *c, PyObject *name, PyObject *obj)
{
    if (name && SafeRepr_is_secret_name(c, name))
        return PyUnicode_FromString(REDACT_REPR);
    return SafeRepr_value(c, obj);
}

PyObject *
SafeRepr_repr(PyObject *obj, const SafeRepr_Options *o)
{
    SafeRepr_Context c;
    SafeRepr_begin(&c, o);
    PyObject *res = SafeRepr_value(&c, obj);
    SafeRepr_end(&c);
    return res;
}
