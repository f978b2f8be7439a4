/* capture.c — build an evidence document (see capture.h, docs/evidence.md).
 *
 * Sections: collection (exceptions, frames, threads), value nodes, locals
 * under a byte budget, sources, environment, assembly, file output.
 *
 * Budget order: environment, sources, exceptions and the frame skeletons are
 * written first (they are small and always useful); whatever is left of
 * max_bytes is shared by the frames' locals, innermost failing frame first.
 */
#include "capture.h"
#include "jsonw.h"
#include "redact.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_EXCEPTIONS 100          /* chain/group members kept */
#define MAX_FRAMES 2000             /* frames in the table */
#define MAX_TB_ENTRIES 1000         /* entries per traceback (head + tail) */
#define MAX_THREAD_FRAMES 200       /* frames per other thread */
#define SOURCE_CONTEXT 11           /* lines around the current line */
#define SOURCE_FUNC_SPAN 100        /* function lines kept around the current line */
#define MAX_STR_TEXT 10000          /* characters of str(exc) and notes */
#define MAX_LINE_CHARS 2000         /* characters of one stored source line */
#define SLACK_BYTES 2048            /* room for brackets and separators */

typedef struct {
    const Capture_Options *o;
    SafeRepr_Context rc;
    int rc_open;
    PyObject *frames;       /* list: frame objects, index = frame id */
    PyObject *frame_ids;    /* dict: id(frame) -> index */
    PyObject *priority;     /* list of frame indexes whose locals we want, best first */
    PyObject *wanted;       /* set: the same indexes, for membership tests */
    PyObject *excs;         /* list: exception objects, index = exception id */
    PyObject *exc_ids;      /* dict: id(exc) -> index */
    PyObject *type_names;   /* dict: type -> "module.qualname" */
    PyObject *threads;      /* list of (ident, name, [frame indexes outermost first]) */
    PyObject *stack;        /* list of frame indexes, outermost first (no-exception capture) */
    int truncated;          /* something was left out for the budget */
} Cap;

/* ------------------------------------------------------------------------ */
/* Collection                                                               */

/* Index of `frame` in the table, adding it; -2 when the table is full,
 * -1 on error. */
static Py_ssize_t
frame_index(Cap *c, PyObject *frame)
{
    /* Owned */
    PyObject *key = PyLong_FromVoidPtr(frame), *idx = NULL;
    Py_ssize_t res = -1;

    if (!key)
        return -1;
    idx = PyDict_GetItemWithError(c->frame_ids, key);   /* borrowed */
    if (idx) {
        res = PyLong_AsSsize_t(idx);
        goto done;
    }
    if (PyErr_Occurred())
        goto done;
    if (PyList_GET_SIZE(c->frames) >= MAX_FRAMES) {
        c->truncated = 1;
        res = -2;
        goto done;
    }
    res = PyList_GET_SIZE(c->frames);
    idx = PyLong_FromSsize_t(res);
    if (!idx || PyDict_SetItem(c->frame_ids, key, idx) < 0 || PyList_Append(c->frames, frame) < 0)
        res = -1;
    Py_XDECREF(idx);
done:
    Py_DECREF(key);
    return res;
}

static int
want_locals(Cap *c, Py_ssize_t idx)
{
    PyObject *i = PyLong_FromSsize_t(idx);
    if (!i)
        return -1;
    int has = PySet_Contains(c->wanted, i);
    int rc = has ? (has < 0 ? -1 : 0) : PyList_Append(c->priority, i);
    if (rc == 0 && !has)
        rc = PySet_Add(c->wanted, i);
    Py_DECREF(i);
    return rc;
}

/* Add `frame` and its callers; each gets locals after those already listed. */
static int
add_callers(Cap *c, PyObject *frame, int locals, Py_ssize_t limit)
{
    /* Owned */
    PyObject *f = Py_XNewRef(frame), *back = NULL;

    for (Py_ssize_t n = 0; f && n < limit; n++) {
        Py_ssize_t before = PyList_GET_SIZE(c->frames);
        Py_ssize_t idx = frame_index(c, f);
        if (idx == -1)
            goto error;
        if (idx == -2)
            break;
        if (locals && want_locals(c, idx) < 0)
            goto error;
        if (idx < before)
            break;          /* already known: so are its callers */
        back = (PyObject *)PyFrame_GetBack((PyFrameObject *)f);
        Py_SETREF(f, back);
        back = NULL;
    }
    Py_XDECREF(f);
    return 0;
error:
    Py_XDECREF(f);
    return -1;
}

/* Index of exception `exc`, registering it and (recursively) its cause,
 * context and group members. -1 on error, -2 when over MAX_EXCEPTIONS. */
static Py_ssize_t
exc_index(Cap *c, PyObject *exc)
{
    /* Owned */
    PyObject *key = PyLong_FromVoidPtr(exc), *idx = NULL, *members = NULL;
    PyObject *cause = NULL, *context = NULL;
    Py_ssize_t res = -1;

    if (!key)
        return -1;
    idx = PyDict_GetItemWithError(c->exc_ids, key);
    if (idx) {
        res = PyLong_AsSsize_t(idx);
        Py_DECREF(key);
        return res;
    }
    if (PyErr_Occurred())
        goto done;
    if (PyList_GET_SIZE(c->excs) >= MAX_EXCEPTIONS) {
        c->truncated = 1;
        res = -2;
        goto done;
    }
    res = PyList_GET_SIZE(c->excs);
    idx = PyLong_FromSsize_t(res);
    if (!idx || PyDict_SetItem(c->exc_ids, key, idx) < 0 || PyList_Append(c->excs, exc) < 0) {
        res = -1;
        goto done;
    }
    if (Py_EnterRecursiveCall(" in sleuth evidence capture")) {
        res = -1;
        goto done;
    }
    cause = PyException_GetCause(exc);
    context = PyException_GetContext(exc);
    if ((cause && exc_index(c, cause) == -1) || (context && exc_index(c, context) == -1))
        res = -1;
    if (res >= 0 && PyObject_GetOptionalAttrString(exc, "exceptions", &members) < 0)
        res = -1;
    if (res >= 0 && members && PyTuple_Check(members) &&
            PyObject_TypeCheck(exc, (PyTypeObject *)PyExc_BaseExceptionGroup)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(members); i++) {
            PyObject *m = PyTuple_GET_ITEM(members, i);
            if (PyExceptionInstance_Check(m) && exc_index(c, m) == -1) {
                res = -1;
                break;
            }
        }
    }
    Py_LeaveRecursiveCall();
done:
    Py_DECREF(key);
    Py_XDECREF(idx);
    Py_XDECREF(members);
    Py_XDECREF(cause);
    Py_XDECREF(context);
    return res;
}

/* Frames of every registered exception's traceback; locals are wanted for
 * them innermost first, the first exception's before the others. */
static int
collect_traceback_frames(Cap *c)
{
    for (Py_ssize_t e = 0; e < PyList_GET_SIZE(c->excs); e++) {
        /* Owned */
        PyObject *tb = PyException_GetTraceback(PyList_GET_ITEM(c->excs, e));
        PyObject *list = PyList_New(0);
        int rc = list ? 0 : -1;
        for (PyObject *t = tb; rc == 0 && t && PyTraceBack_Check(t);
             t = (PyObject *)((PyTracebackObject *)t)->tb_next)
            rc = PyList_Append(list, (PyObject *)((PyTracebackObject *)t)->tb_frame);
        Py_XDECREF(tb);
        if (rc < 0) {
            Py_XDECREF(list);
            return -1;
        }
        Py_ssize_t n = PyList_GET_SIZE(list);
        for (Py_ssize_t i = n - 1; i >= 0 && rc == 0; i--) {
            if (n > MAX_TB_ENTRIES && i >= MAX_TB_ENTRIES / 2 && i < n - MAX_TB_ENTRIES / 2)
                continue;
            Py_ssize_t idx = frame_index(c, PyList_GET_ITEM(list, i));
            if (idx == -1)
                rc = -1;
            else if (idx >= 0 && c->o->locals)
                rc = want_locals(c, idx);
        }
        /* The callers of the outermost frame (pdb shows them too). */
        if (rc == 0 && n > 0) {
            PyObject *back = (PyObject *)PyFrame_GetBack((PyFrameObject *)PyList_GET_ITEM(list, 0));
            if (back)
                rc = add_callers(c, back, c->o->locals, MAX_FRAMES);
            Py_XDECREF(back);
        }
        Py_DECREF(list);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* name of the threading.Thread with `ident`, or NULL (no exception). */
static PyObject *
thread_name(unsigned long ident)
{
    /* Owned */
    PyObject *active = NULL, *key = NULL, *name = NULL;
    /* Borrowed */
    PyObject *threading = NULL, *thread;

    PyObject *modules = PyImport_GetModuleDict();
    threading = PyDict_GetItemString(modules, "threading");
    if (!threading)
        goto done;
    active = PyObject_GetAttrString(threading, "_active");
    if (!active || !PyDict_Check(active))
        goto done;
    key = PyLong_FromUnsignedLong(ident);
    if (!key)
        goto done;
    thread = PyDict_GetItemWithError(active, key);
    if (thread)
        name = PyObject_GetAttrString(thread, "name");
    if (name && !PyUnicode_Check(name))
        Py_CLEAR(name);
done:
    PyErr_Clear();
    Py_XDECREF(active);
    Py_XDECREF(key);
    return name;
}

/* The stacks of the other threads, without locals. */
static int
collect_threads(Cap *c)
{
    /* Owned */
    PyObject *sys_frames = NULL, *idxs = NULL, *f = NULL, *entry = NULL, *name = NULL;
    unsigned long me = PyThread_get_thread_ident();
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    int rc = -1;

    PyObject *sysmod = PyImport_ImportModule("sys");
    sys_frames = sysmod ? PyObject_CallMethod(sysmod, "_current_frames", NULL) : NULL;
    Py_XDECREF(sysmod);
    if (!sys_frames) {
        PyErr_Clear();      /* no other stacks is not a reason to lose the rest */
        return 0;
    }
    if (!PyDict_Check(sys_frames)) {
        Py_DECREF(sys_frames);
        return 0;
    }
    while (PyDict_Next(sys_frames, &pos, &k, &v)) {
        unsigned long ident = PyLong_AsUnsignedLong(k);
        if (PyErr_Occurred() || ident == me || !PyFrame_Check(v)) {
            PyErr_Clear();
            continue;
        }
        idxs = PyList_New(0);
        if (!idxs)
            goto done;
        f = Py_NewRef(v);
        for (int n = 0; f && n < MAX_THREAD_FRAMES; n++) {
            Py_ssize_t idx = frame_index(c, f);
            if (idx == -1)
                goto done;
            if (idx == -2)
                break;
            PyObject *i = PyLong_FromSsize_t(idx);
            if (!i || PyList_Insert(idxs, 0, i) < 0) {
                Py_XDECREF(i);
                goto done;
            }
            Py_DECREF(i);
            Py_SETREF(f, (PyObject *)PyFrame_GetBack((PyFrameObject *)f));
        }
        Py_CLEAR(f);
        name = thread_name(ident);
        entry = Py_BuildValue("(kOO)", ident, name ? name : Py_None, idxs);
        if (!entry || PyList_Append(c->threads, entry) < 0)
            goto done;
        Py_CLEAR(entry);
        Py_CLEAR(name);
        Py_CLEAR(idxs);
    }
    rc = 0;
done:
    Py_XDECREF(sys_frames);
    Py_XDECREF(idxs);
    Py_XDECREF(f);
    Py_XDECREF(entry);
    Py_XDECREF(name);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Plain data and value nodes                                               */

/* JSON for simple Python data (None, bool, int, float, str, list, tuple,
 * dict with str keys); anything else as its str(). Used for sys.argv and
 * sys.version_info, never for user values. */
static void
write_plain(JsonW *w, PyObject *obj, int depth)
{
    if (obj == Py_None || depth > 8)
        JsonW_lit(w, "null");
    else if (PyBool_Check(obj))
        JsonW_lit(w, obj == Py_True ? "true" : "false");
    else if (PyLong_Check(obj)) {
        long long v = PyLong_AsLongLong(obj);
        if (v == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            JsonW_lit(w, "null");
        }
        else
            JsonW_int(w, v);
    }
    else if (PyFloat_Check(obj))
        JsonW_double(w, PyFloat_AS_DOUBLE(obj));
    else if (PyUnicode_Check(obj))
        JsonW_str(w, obj);
    else if (PyList_Check(obj) || PyTuple_Check(obj)) {
        JsonW_lit(w, "[");
        Py_ssize_t n = PySequence_Fast_GET_SIZE(obj);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (i)
                JsonW_lit(w, ",");
            write_plain(w, PySequence_Fast_GET_ITEM(obj, i), depth + 1);
        }
        JsonW_lit(w, "]");
    }
    else if (PyDict_Check(obj)) {
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        int first = 1;
        JsonW_lit(w, "{");
        while (PyDict_Next(obj, &pos, &k, &v)) {
            if (!PyUnicode_Check(k))
                continue;
            if (!first)
                JsonW_lit(w, ",");
            first = 0;
            JsonW_str(w, k);
            JsonW_lit(w, ":");
            write_plain(w, v, depth + 1);
        }
        JsonW_lit(w, "}");
    }
    else {
        PyObject *s = PyObject_Str(obj);
        if (!s)
            PyErr_Clear();
        JsonW_str(w, s);
        Py_XDECREF(s);
    }
}

/* "module.qualname" of obj's type, cached per capture. Borrowed or NULL. */
static PyObject *
type_name(Cap *c, PyObject *obj)
{
    PyObject *tp = (PyObject *)Py_TYPE(obj);
    PyObject *name = PyDict_GetItemWithError(c->type_names, tp);   /* borrowed */
    if (name || PyErr_Occurred()) {
        PyErr_Clear();
        return name;
    }
    name = SafeRepr_type_name(Py_TYPE(obj));
    if (!name) {
        PyErr_Clear();
        return NULL;
    }
    int rc = PyDict_SetItem(c->type_names, tp, name);
    Py_DECREF(name);
    if (rc < 0) {
        PyErr_Clear();
        return NULL;
    }
    return name;    /* the dict keeps it alive */
}

static void
write_redacted(Cap *c, JsonW *w, PyObject *value, Redact_Kind kind)
{
    /* Counted at the end, in the document as written (scrub_document). */
    SafeRepr_note_secret(&c->rc, value, kind);
    JsonW_lit(w, "{\"type\":\"str\",\"repr\":\"'" REDACT_TEXT "'\",\"value\":\"" REDACT_TEXT
              "\",\"redacted\":true");
    /* A value hidden by its shape says so (scrub_document counts it). */
    JsonW_lit(w, kind == REDACT_K_ENTROPY ? ",\"kind\":\"high_entropy\"}" : "}");
}

/* {"type":..., "repr":..., ["value":...], ["len":..., "items"/"entries"/"attrs":...]} */
static void
write_node(Cap *c, JsonW *w, PyObject *obj, int depth, int detail, Py_ssize_t *nodes)
{
    /* Owned */
    PyObject *text = NULL, *kids = NULL;

    (*nodes)++;
    JsonW_lit(w, "{\"type\":");
    JsonW_str(w, type_name(c, obj));
    text = SafeRepr_value(&c->rc, obj);
    if (!text) {
        PyErr_Clear();
        w->nomem = 1;
        return;
    }
    JsonW_lit(w, ",\"repr\":");
    JsonW_str(w, text);
    /* Exact scalars also keep their value, so `p x + 1` works later. */
    if (obj == Py_None)
        JsonW_lit(w, ",\"value\":null");
    else if (PyBool_Check(obj))
        JsonW_lit(w, obj == Py_True ? ",\"value\":true" : ",\"value\":false");
    else if (PyLong_CheckExact(obj)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (!overflow && !(v == -1 && PyErr_Occurred())) {
            JsonW_lit(w, ",\"value\":");
            JsonW_int(w, v);
        }
        PyErr_Clear();
    }
    else if (PyFloat_CheckExact(obj) && isfinite(PyFloat_AS_DOUBLE(obj))) {
        JsonW_lit(w, ",\"value\":");
        JsonW_double(w, PyFloat_AS_DOUBLE(obj));
    }
    else if (PyUnicode_CheckExact(obj) && PyUnicode_GET_LENGTH(obj) <= c->o->repr.max_chars) {
        JsonW_lit(w, ",\"value\":");
        JsonW_str(w, obj);
    }
    SafeRepr_Kind kind = SafeRepr_kind(obj);
    if (detail && kind != SAFEREPR_ATOM && depth < c->o->struct_depth
            && *nodes < c->o->max_nodes) {
        Py_ssize_t total = 0;
        kids = SafeRepr_children(obj, c->o->repr.max_items, &total);
        if (!kids) {
            PyErr_Clear();
            goto close;
        }
        JsonW_lit(w, ",\"len\":");
        JsonW_int(w, total);
        JsonW_lit(w, kind == SAFEREPR_MAPPING ? ",\"entries\":["
                     : kind == SAFEREPR_OBJECT ? ",\"attrs\":{" : ",\"items\":[");
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(kids) && *nodes < c->o->max_nodes; i++) {
            PyObject *kid = PyList_GET_ITEM(kids, i);
            if (i)
                JsonW_lit(w, ",");
            if (kind == SAFEREPR_SEQUENCE && SafeRepr_hide_item(&c->rc, obj, i)) {
                write_redacted(c, w, kid, REDACT_K_NAME);
                continue;
            }
            if (kind == SAFEREPR_SEQUENCE || kind == SAFEREPR_SET) {
                write_node(c, w, kid, depth + 1, 1, nodes);
                continue;
            }
            PyObject *key = PyTuple_GET_ITEM(kid, 0), *val = PyTuple_GET_ITEM(kid, 1);
            int secret = kind == SAFEREPR_OBJECT ? SafeRepr_is_secret_attr(&c->rc, obj, key)
                                                 : SafeRepr_is_secret_name(&c->rc, key);
            if (kind == SAFEREPR_OBJECT) {
                JsonW_str(w, key);
                JsonW_lit(w, ":");
            }
            else {
                JsonW_lit(w, "[");
                write_node(c, w, key, depth + 1, 0, nodes);
                JsonW_lit(w, ",");
            }
            if (secret)
                write_redacted(c, w, val, REDACT_K_NAME);
            else if (Redact_near_secret(c->o->repr.redact, key, val))
                write_redacted(c, w, val, REDACT_K_ENTROPY);
            else
                write_node(c, w, val, depth + 1, 1, nodes);
            if (kind == SAFEREPR_MAPPING)
                JsonW_lit(w, "]");
        }
        JsonW_lit(w, kind == SAFEREPR_OBJECT ? "}" : "]");
    }
close:
    JsonW_lit(w, "}");
    Py_XDECREF(text);
    Py_XDECREF(kids);
}

/* ------------------------------------------------------------------------ */
/* Locals under a budget                                                    */

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

/* ,"locals":{...}[,"locals_omitted":N] for `frame`, using at most about
 * `budget` bytes: full structure while under half of it, repr text only
 * after that, and nothing once it is spent. */
static void
write_locals(Cap *c, JsonW *w, PyObject *frame, Py_ssize_t budget)
{
    /* Owned */
    PyObject *locals = NULL, *globals = NULL, *items = NULL;
    Py_ssize_t start = w->len, omitted = 0;
    int first = 1;

    locals = PyFrame_GetLocals((PyFrameObject *)frame);
    globals = PyFrame_GetGlobals((PyFrameObject *)frame);
    if (locals)
        items = PyMapping_Items(locals);
    if (!items) {
        PyErr_Clear();
        JsonW_lit(w, ",\"locals\":null");
        goto done;
    }
    int module_level = locals == globals;
    JsonW_lit(w, ",\"locals\":{");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2)
            continue;
        PyObject *name = PyTuple_GET_ITEM(pair, 0), *value = PyTuple_GET_ITEM(pair, 1);
        if (!PyUnicode_Check(name) || (module_level && is_dunder(name)))
            continue;
        Py_ssize_t used = w->len - start;
        if (used >= budget) {
            omitted++;
            continue;
        }
        /* Try with structure (while under half the budget), then the repr
         * text alone; a local that does not fit either way is left out. */
        Py_ssize_t mark = w->len;
        int detail = used < budget / 2, written = 0;
        for (; detail >= 0 && !written; detail--) {
            JsonW_truncate(w, mark);
            if (!first)
                JsonW_lit(w, ",");
            JsonW_str(w, name);
            JsonW_lit(w, ":");
            if (SafeRepr_is_secret_name(&c->rc, name))
                write_redacted(c, w, value, REDACT_K_NAME);
            else if (Redact_near_secret(c->o->repr.redact, name, value))
                write_redacted(c, w, value, REDACT_K_ENTROPY);
            else {
                Py_ssize_t nodes = 0;
                write_node(c, w, value, 0, detail, &nodes);
            }
            written = w->len - start <= budget;
        }
        if (!written) {
            JsonW_truncate(w, mark);
            omitted++;
            continue;
        }
        first = 0;
    }
    JsonW_lit(w, "}");
    if (omitted) {
        c->truncated = 1;
        JsonW_lit(w, ",\"locals_omitted\":");
        JsonW_int(w, omitted);
    }
done:
    Py_XDECREF(locals);
    Py_XDECREF(globals);
    Py_XDECREF(items);
}

/* ------------------------------------------------------------------------ */
/* Frames, exceptions, threads                                              */

static void
write_index_or_null(JsonW *w, Py_ssize_t i)
{
    if (i < 0)
        JsonW_lit(w, "null");
    else
        JsonW_int(w, i);
}

/* ,"positions":[lineno, end_lineno, col, end_col] of the instruction at
 * `lasti` (what co_positions() gives; null where unknown). */
static void
write_positions(JsonW *w, PyCodeObject *code, int lasti)
{
    int l = -1, col = -1, el = -1, ec = -1;
    if (code && lasti >= 0)
        PyCode_Addr2Location(code, lasti, &l, &col, &el, &ec);
    JsonW_lit(w, ",\"positions\":[");
    write_index_or_null(w, l);
    JsonW_lit(w, ",");
    write_index_or_null(w, el);
    JsonW_lit(w, ",");
    write_index_or_null(w, col);
    JsonW_lit(w, ",");
    write_index_or_null(w, ec);
    JsonW_lit(w, "]");
}

static PyObject *
code_attr(PyCodeObject *code, const char *name)
{
    PyObject *v = PyObject_GetAttrString((PyObject *)code, name);
    if (!v)
        PyErr_Clear();
    return v;
}

/* {"filename":..., ..., "back": i|null  (locals are appended later) */
static void
write_frame_skeleton(Cap *c, JsonW *w, PyObject *frame)
{
    /* Owned */
    PyCodeObject *code = PyFrame_GetCode((PyFrameObject *)frame);
    PyObject *globals = PyFrame_GetGlobals((PyFrameObject *)frame);
    PyObject *back = (PyObject *)PyFrame_GetBack((PyFrameObject *)frame);
    PyObject *qual = code_attr(code, "co_qualname"), *varnames = code_attr(code, "co_varnames");
    PyObject *key = NULL, *idx = NULL;

    JsonW_lit(w, "{\"filename\":");
    JsonW_str(w, code->co_filename);
    JsonW_lit(w, ",\"name\":");
    JsonW_str(w, code->co_name);
    JsonW_lit(w, ",\"qualname\":");
    JsonW_str(w, qual);
    JsonW_lit(w, ",\"firstlineno\":");
    JsonW_int(w, code->co_firstlineno);
    JsonW_lit(w, ",\"lineno\":");
    JsonW_int(w, PyFrame_GetLineNumber((PyFrameObject *)frame));
    int lasti = PyFrame_GetLasti((PyFrameObject *)frame);
    JsonW_lit(w, ",\"lasti\":");
    JsonW_int(w, lasti);
    write_positions(w, code, lasti);
    /* What pdb's `args` needs: counts, flags and the argument names. */
    JsonW_lit(w, ",\"code\":{\"argcount\":");
    JsonW_int(w, code->co_argcount);
    JsonW_lit(w, ",\"posonlyargcount\":");
    JsonW_int(w, code->co_posonlyargcount);
    JsonW_lit(w, ",\"kwonlyargcount\":");
    JsonW_int(w, code->co_kwonlyargcount);
    JsonW_lit(w, ",\"flags\":");
    JsonW_int(w, code->co_flags);
    JsonW_lit(w, ",\"varnames\":[");
    if (varnames && PyTuple_Check(varnames)) {
        Py_ssize_t n = code->co_argcount + code->co_kwonlyargcount
                       + ((code->co_flags & CO_VARARGS) ? 1 : 0)
                       + ((code->co_flags & CO_VARKEYWORDS) ? 1 : 0);
        for (Py_ssize_t i = 0; i < n && i < PyTuple_GET_SIZE(varnames); i++) {
            if (i)
                JsonW_lit(w, ",");
            JsonW_str(w, PyTuple_GET_ITEM(varnames, i));
        }
    }
    JsonW_lit(w, "]}");
    JsonW_lit(w, ",\"globals\":{\"__name__\":");
    PyObject *mod = globals ? PyDict_GetItemString(globals, "__name__") : NULL;    /* borrowed */
    JsonW_str(w, mod);
    JsonW_lit(w, ",\"__file__\":");
    PyObject *file = globals ? PyDict_GetItemString(globals, "__file__") : NULL;   /* borrowed */
    JsonW_str(w, file);
    JsonW_lit(w, "},\"back\":");
    if (back && (key = PyLong_FromVoidPtr(back)) != NULL
            && (idx = PyDict_GetItemWithError(c->frame_ids, key)) != NULL)
        JsonW_int(w, PyLong_AsSsize_t(idx));
    else
        JsonW_lit(w, "null");
    PyErr_Clear();
    Py_XDECREF(code);
    Py_XDECREF(globals);
    Py_XDECREF(back);
    Py_XDECREF(qual);
    Py_XDECREF(varnames);
    Py_XDECREF(key);
}

static Py_ssize_t
lookup_index(PyObject *ids, PyObject *obj)
{
    PyObject *key = PyLong_FromVoidPtr(obj);
    if (!key) {
        PyErr_Clear();
        return -1;
    }
    PyObject *idx = PyDict_GetItemWithError(ids, key);
    Py_DECREF(key);
    if (!idx) {
        PyErr_Clear();
        return -1;
    }
    return PyLong_AsSsize_t(idx);
}

/* str() of a user object, bounded; NULL-safe for JsonW_str. */
static PyObject *
bounded_str(PyObject *obj)
{
    PyObject *s = PyObject_Str(obj);
    if (!s) {
        PyErr_Clear();
        return PyUnicode_FromString("<exception str() failed>");
    }
    if (PyUnicode_GET_LENGTH(s) > MAX_STR_TEXT) {
        PyObject *cut = PyUnicode_Substring(s, 0, MAX_STR_TEXT);
        Py_DECREF(s);
        s = cut;
        if (!s)
            PyErr_Clear();
    }
    return s;
}

static void
write_traceback(Cap *c, JsonW *w, PyObject *exc)
{
    /* Owned */
    PyObject *tb = PyException_GetTraceback(exc);
    Py_ssize_t n = 0, i = 0, omitted = 0;
    int first = 1;

    for (PyObject *t = tb; t && PyTraceBack_Check(t); t = (PyObject *)((PyTracebackObject *)t)->tb_next)
        n++;
    JsonW_lit(w, "[");
    for (PyObject *t = tb; t && PyTraceBack_Check(t);
         t = (PyObject *)((PyTracebackObject *)t)->tb_next, i++) {
        PyTracebackObject *tbo = (PyTracebackObject *)t;
        if (n > MAX_TB_ENTRIES && i >= MAX_TB_ENTRIES / 2 && i < n - MAX_TB_ENTRIES / 2) {
            omitted++;
            continue;
        }
        Py_ssize_t fi = lookup_index(c->frame_ids, (PyObject *)tbo->tb_frame);
        if (fi < 0) {
            omitted++;
            continue;
        }
        PyObject *lineno = PyObject_GetAttrString(t, "tb_lineno");
        long ln = lineno ? PyLong_AsLong(lineno) : -1;
        Py_XDECREF(lineno);
        PyErr_Clear();
        PyCodeObject *code = PyFrame_GetCode(tbo->tb_frame);
        if (!first)
            JsonW_lit(w, ",");
        first = 0;
        JsonW_lit(w, "{\"frame\":");
        JsonW_int(w, fi);
        JsonW_lit(w, ",\"lineno\":");
        write_index_or_null(w, ln);
        JsonW_lit(w, ",\"lasti\":");
        JsonW_int(w, tbo->tb_lasti);
        write_positions(w, code, tbo->tb_lasti);
        Py_XDECREF(code);
        JsonW_lit(w, "}");
    }
    JsonW_lit(w, "]");
    if (omitted) {
        c->truncated = 1;
        JsonW_lit(w, ",\"traceback_omitted\":");
        JsonW_int(w, omitted);
    }
    Py_XDECREF(tb);
}

static void
write_exception(Cap *c, JsonW *w, PyObject *exc)
{
    /* Owned */
    PyObject *qual = PyType_GetQualName(Py_TYPE(exc)), *modname = NULL, *s = bounded_str(exc);
    PyObject *text = SafeRepr_value(&c->rc, exc), *cause = PyException_GetCause(exc);
    PyObject *context = PyException_GetContext(exc), *notes = NULL, *members = NULL;

    if (!qual)
        PyErr_Clear();
    PyObject *full = type_name(c, exc);     /* borrowed */
    if (full && qual && PyUnicode_GET_LENGTH(full) > PyUnicode_GET_LENGTH(qual) + 1)
        modname = PyUnicode_Substring(full, 0, PyUnicode_GET_LENGTH(full) - PyUnicode_GET_LENGTH(qual) - 1);
    else
        modname = PyUnicode_FromString("builtins");
    if (!modname)
        PyErr_Clear();
    JsonW_lit(w, "{\"type\":");
    JsonW_str(w, qual);
    JsonW_lit(w, ",\"module\":");
    JsonW_str(w, modname);
    JsonW_lit(w, ",\"str\":");
    JsonW_str(w, s);
    JsonW_lit(w, ",\"repr\":");
    JsonW_str(w, text);
    JsonW_lit(w, ",\"cause\":");
    write_index_or_null(w, cause ? lookup_index(c->exc_ids, cause) : -1);
    JsonW_lit(w, ",\"context\":");
    write_index_or_null(w, context ? lookup_index(c->exc_ids, context) : -1);
    JsonW_lit(w, ",\"suppress_context\":");
    JsonW_lit(w, ((PyBaseExceptionObject *)exc)->suppress_context ? "true" : "false");
    if (PyObject_GetOptionalAttrString(exc, "__notes__", &notes) < 0)
        PyErr_Clear();
    if (notes && PyList_Check(notes)) {
        JsonW_lit(w, ",\"notes\":[");
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(notes); i++) {
            PyObject *ns = bounded_str(PyList_GET_ITEM(notes, i));
            if (i)
                JsonW_lit(w, ",");
            JsonW_str(w, ns);
            Py_XDECREF(ns);
        }
        JsonW_lit(w, "]");
    }
    if (PyObject_TypeCheck(exc, (PyTypeObject *)PyExc_BaseExceptionGroup)) {
        if (PyObject_GetOptionalAttrString(exc, "exceptions", &members) < 0)
            PyErr_Clear();
        JsonW_lit(w, ",\"members\":[");
        int first = 1;
        for (Py_ssize_t i = 0; members && PyTuple_Check(members) && i < PyTuple_GET_SIZE(members); i++) {
            Py_ssize_t mi = lookup_index(c->exc_ids, PyTuple_GET_ITEM(members, i));
            if (mi < 0)
                continue;
            if (!first)
                JsonW_lit(w, ",");
            first = 0;
            JsonW_int(w, mi);
        }
        JsonW_lit(w, "]");
    }
    JsonW_lit(w, ",\"traceback\":");
    write_traceback(c, w, exc);
    JsonW_lit(w, "}");
    Py_XDECREF(qual);
    Py_XDECREF(modname);
    Py_XDECREF(s);
    Py_XDECREF(text);
    Py_XDECREF(cause);
    Py_XDECREF(context);
    Py_XDECREF(notes);
    Py_XDECREF(members);
}

/* ------------------------------------------------------------------------ */
/* Sources                                                                  */

/* Last line number of a code object (max of co_lines()), or -1. */
static long
code_last_line(PyCodeObject *code)
{
    /* Owned */
    PyObject *it = PyObject_CallMethod((PyObject *)code, "co_lines", NULL), *item = NULL;
    long last = -1;

    if (!it) {
        PyErr_Clear();
        return -1;
    }
    PyObject *iter = PyObject_GetIter(it);
    Py_DECREF(it);
    if (!iter) {
        PyErr_Clear();
        return -1;
    }
    while ((item = PyIter_Next(iter)) != NULL) {
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 3) {
            PyObject *ln = PyTuple_GET_ITEM(item, 2);
            if (ln != Py_None) {
                long v = PyLong_AsLong(ln);
                if (v > last)
                    last = v;
            }
        }
        Py_DECREF(item);
    }
    PyErr_Clear();
    Py_DECREF(iter);
    return last;
}

/* A source line, cut at MAX_LINE_CHARS (minified code must not eat the
 * budget); a cut line keeps its newline. */
static void
write_source_line(Cap *c, JsonW *w, PyObject *line)
{
    if (!PyUnicode_Check(line) || PyUnicode_GET_LENGTH(line) <= MAX_LINE_CHARS) {
        JsonW_str(w, line);
        return;
    }
    c->truncated = 1;
    PyObject *cut = PyUnicode_Substring(line, 0, MAX_LINE_CHARS);
    PyObject *nl = cut ? PyUnicode_FromFormat("%U...\n", cut) : NULL;
    if (!nl)
        PyErr_Clear();
    JsonW_str(w, nl);
    Py_XDECREF(cut);
    Py_XDECREF(nl);
}

typedef struct { long lo, hi; } Range;

static int
range_cmp(const void *a, const void *b)
{
    const Range *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* "sources": {filename: [[first_lineno, [lines...]], ...]} for the frames
 * in priority order, then the rest; files whose lines linecache cannot
 * find (<stdin>, -c) are left out. Stops widening ranges past `budget`. */
static int
write_sources(Cap *c, JsonW *w, Py_ssize_t budget)
{
    /* Owned */
    PyObject *linecache = NULL, *byfile = NULL, *order = NULL, *lines = NULL;
    Range *ranges = NULL;
    Py_ssize_t start = w->len;
    int rc = -1, firstfile = 1;

    linecache = PyImport_ImportModule("linecache");
    byfile = PyDict_New();     /* filename -> list of (lo, hi, globals) */
    order = PyList_New(0);
    if (!linecache || !byfile || !order)
        goto done;
    Py_ssize_t nframes = PyList_GET_SIZE(c->frames);
    for (Py_ssize_t i = 0; i < nframes; i++) {
        PyObject *frame = PyList_GET_ITEM(c->frames, i);
        PyCodeObject *code = PyFrame_GetCode((PyFrameObject *)frame);
        PyObject *globals = PyFrame_GetGlobals((PyFrameObject *)frame);
        long ln = PyFrame_GetLineNumber((PyFrameObject *)frame);
        long lo = ln - SOURCE_CONTEXT, hi = ln + SOURCE_CONTEXT;
        long first = code->co_firstlineno, last = code_last_line(code);
        if (first > 0 && first < lo)
            lo = first < ln - SOURCE_FUNC_SPAN ? ln - SOURCE_FUNC_SPAN : first;
        if (last > hi)
            hi = last > ln + SOURCE_FUNC_SPAN ? ln + SOURCE_FUNC_SPAN : last;
        if (lo < 1)
            lo = 1;
        PyObject *entry = Py_BuildValue("(llO)", lo, hi, globals ? globals : Py_None);
        PyObject *list = entry ? PyDict_GetItemWithError(byfile, code->co_filename) : NULL;
        int ok = entry != NULL;
        if (ok && !list && !PyErr_Occurred()) {
            list = PyList_New(0);
            ok = list && PyDict_SetItem(byfile, code->co_filename, list) == 0
                 && PyList_Append(order, code->co_filename) == 0;
            Py_XDECREF(list);   /* the dict holds it */
        }
        ok = ok && list && PyList_Append(list, entry) == 0;
        Py_XDECREF(entry);
        Py_XDECREF(code);
        Py_XDECREF(globals);
        if (!ok)
            goto done;
    }
    JsonW_lit(w, "{");
    for (Py_ssize_t f = 0; f < PyList_GET_SIZE(order); f++) {
        PyObject *filename = PyList_GET_ITEM(order, f);
        PyObject *list = PyDict_GetItem(byfile, filename);    /* borrowed */
        Py_ssize_t n = PyList_GET_SIZE(list);
        PyObject *globals = PyTuple_GET_ITEM(PyList_GET_ITEM(list, 0), 2);
        lines = PyObject_CallMethod(linecache, "getlines", "OO", filename, globals);
        if (!lines || !PyList_Check(lines) || PyList_GET_SIZE(lines) == 0) {
            PyErr_Clear();
            Py_CLEAR(lines);
            continue;
        }
        if (w->len - start > 2 * budget) {
            /* Far over: this file's lines are left out altogether. */
            c->truncated = 1;
            Py_CLEAR(lines);
            continue;
        }
        int narrow = w->len - start > budget;
        ranges = PyMem_Calloc((size_t)n, sizeof(Range));
        if (!ranges) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *e = PyList_GET_ITEM(list, i);
            ranges[i].lo = PyLong_AsLong(PyTuple_GET_ITEM(e, 0));
            ranges[i].hi = PyLong_AsLong(PyTuple_GET_ITEM(e, 1));
            if (narrow) {       /* over budget: only the current line and two around it */
                long mid = (ranges[i].lo + ranges[i].hi) / 2;
                long ln = ranges[i].lo + SOURCE_CONTEXT;
                if (ln > ranges[i].hi)
                    ln = mid;
                ranges[i].lo = ln > 2 ? ln - 2 : 1;
                ranges[i].hi = ln + 2;
                c->truncated = 1;
            }
        }
        qsort(ranges, (size_t)n, sizeof(Range), range_cmp);
        if (!firstfile)
            JsonW_lit(w, ",");
        firstfile = 0;
        JsonW_str(w, filename);
        JsonW_lit(w, ":[");
        Py_ssize_t total = PyList_GET_SIZE(lines);
        long cur_lo = ranges[0].lo, cur_hi = ranges[0].hi;
        int firstrange = 1;
        for (Py_ssize_t i = 1; i <= n; i++) {
            if (i < n && ranges[i].lo <= cur_hi + 1) {
                if (ranges[i].hi > cur_hi)
                    cur_hi = ranges[i].hi;
                continue;
            }
            if (cur_hi > total)
                cur_hi = (long)total;
            if (cur_lo <= cur_hi) {
                if (!firstrange)
                    JsonW_lit(w, ",");
                firstrange = 0;
                JsonW_lit(w, "[");
                JsonW_int(w, cur_lo);
                JsonW_lit(w, ",[");
                for (long ln = cur_lo; ln <= cur_hi; ln++) {
                    if (ln > cur_lo)
                        JsonW_lit(w, ",");
                    write_source_line(c, w, PyList_GET_ITEM(lines, ln - 1));
                }
                JsonW_lit(w, "]]");
            }
            if (i < n) {
                cur_lo = ranges[i].lo;
                cur_hi = ranges[i].hi;
            }
        }
        JsonW_lit(w, "]");
        PyMem_Free(ranges);
        ranges = NULL;
        Py_CLEAR(lines);
    }
    JsonW_lit(w, "}");
    rc = 0;
done:
    PyMem_Free(ranges);
    Py_XDECREF(linecache);
    Py_XDECREF(byfile);
    Py_XDECREF(order);
    Py_XDECREF(lines);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Environment                                                              */

/* Does an environment value carry a credential in a URL (scheme://u:p@h)? */
static int
url_has_password(const char *v)
{
    const char *p = strstr(v, "://");
    if (!p)
        return 0;
    p += 3;
    const char *at = strchr(p, '@'), *colon = strchr(p, ':'), *slash = strchr(p, '/');
    return at && colon && colon < at && (!slash || at < slash);
}

/* Installed distributions (name -> version) providing the top-level
 * packages of the modules on the stack that are not in the stdlib. */
static void
write_packages(Cap *c, JsonW *w, PyObject *pkg_cache)
{
    /* Owned */
    PyObject *tops = PySet_New(NULL), *metadata = NULL, *mapping = NULL, *seen = PyDict_New();
    /* Borrowed */
    PyObject *stdlib = PySys_GetObject("stdlib_module_names"), *versions = NULL;
    int first = 1;

    JsonW_lit(w, "{");
    if (!tops || !seen)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(c->frames); i++) {
        PyObject *globals = PyFrame_GetGlobals((PyFrameObject *)PyList_GET_ITEM(c->frames, i));
        PyObject *name = globals ? PyDict_GetItemString(globals, "__name__") : NULL;
        if (name && PyUnicode_Check(name)) {
            Py_ssize_t dot = PyUnicode_FindChar(name, '.', 0, PyUnicode_GET_LENGTH(name), 1);
            PyObject *top = dot >= 0 ? PyUnicode_Substring(name, 0, dot) : Py_NewRef(name);
            if (top && PyUnicode_CompareWithASCIIString(top, "__main__") != 0
                    && !(stdlib && PySequence_Contains(stdlib, top) == 1))
                PySet_Add(tops, top);
            Py_XDECREF(top);
        }
        Py_XDECREF(globals);
        PyErr_Clear();
    }
    if (PySet_GET_SIZE(tops) == 0)
        goto done;
    mapping = pkg_cache ? PyDict_GetItemString(pkg_cache, "packages_distributions") : NULL;
    Py_XINCREF(mapping);
    if (!mapping) {
        metadata = PyImport_ImportModule("importlib.metadata");
        mapping = metadata ? PyObject_CallMethod(metadata, "packages_distributions", NULL) : NULL;
        if (!mapping || !PyDict_Check(mapping))
            goto done;
        if (pkg_cache)
            PyDict_SetItemString(pkg_cache, "packages_distributions", mapping);
    }
    if (!metadata)
        metadata = PyImport_ImportModule("importlib.metadata");
    if (!metadata)
        goto done;
    versions = pkg_cache ? PyDict_GetItemString(pkg_cache, "versions") : NULL;
    if (pkg_cache && !versions) {
        PyObject *fresh = PyDict_New();
        if (fresh && PyDict_SetItemString(pkg_cache, "versions", fresh) == 0)
            versions = fresh;
        Py_XDECREF(fresh);      /* the cache keeps it */
    }
    PyErr_Clear();
    PyObject *it = PyObject_GetIter(tops), *top;
    while (it && (top = PyIter_Next(it)) != NULL) {
        PyObject *dists = PyDict_GetItemWithError(mapping, top);   /* borrowed */
        Py_DECREF(top);
        if (!dists || !PyList_Check(dists))
            continue;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(dists); i++) {
            PyObject *dist = PyList_GET_ITEM(dists, i);
            if (PyDict_Contains(seen, dist) != 0)
                continue;
            /* importlib.metadata.version() scans sys.path: once per process. */
            PyObject *ver = versions ? Py_XNewRef(PyDict_GetItemWithError(versions, dist)) : NULL;
            if (!ver) {
                PyErr_Clear();
                ver = PyObject_CallMethod(metadata, "version", "O", dist);
                if (ver && versions && PyUnicode_Check(ver))
                    PyDict_SetItem(versions, dist, ver);
            }
            if (!ver || !PyUnicode_Check(ver)) {
                PyErr_Clear();
                Py_XDECREF(ver);
                continue;
            }
            PyDict_SetItem(seen, dist, ver);
            if (!first)
                JsonW_lit(w, ",");
            first = 0;
            JsonW_str(w, dist);
            JsonW_lit(w, ":");
            JsonW_str(w, ver);
            Py_DECREF(ver);
        }
    }
    Py_XDECREF(it);
done:
    PyErr_Clear();
    JsonW_lit(w, "}");
    Py_XDECREF(tops);
    Py_XDECREF(metadata);
    Py_XDECREF(mapping);
    Py_XDECREF(seen);
}

static void
write_environment(Cap *c, JsonW *w, PyObject *pkg_cache)
{
    struct utsname u;
    struct timeval tv;
    char cwd[4096], stamp[64];
    /* Borrowed */
    PyObject *impl = PySys_GetObject("implementation");
    PyObject *impl_name = NULL;     /* owned */

    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
    JsonW_lit(w, "{\"python\":{\"version\":");
    JsonW_str(w, PySys_GetObject("version"));
    JsonW_lit(w, ",\"version_info\":");
    PyObject *vi = PySys_GetObject("version_info");
    PyObject *vt = vi ? PySequence_Tuple(vi) : NULL;
    if (vt)
        write_plain(w, vt, 0);
    else
        JsonW_lit(w, "null");
    Py_XDECREF(vt);
    PyErr_Clear();
    JsonW_lit(w, ",\"implementation\":");
    impl_name = impl ? PyObject_GetAttrString(impl, "name") : NULL;
    PyErr_Clear();
    JsonW_str(w, impl_name);
    Py_XDECREF(impl_name);
    JsonW_lit(w, ",\"executable\":");
    JsonW_str(w, PySys_GetObject("executable"));
    JsonW_lit(w, "},\"platform\":{\"sys_platform\":");
    JsonW_str(w, PySys_GetObject("platform"));
    if (uname(&u) == 0) {
        JsonW_lit(w, ",\"system\":");
        JsonW_cstr(w, u.sysname, (Py_ssize_t)strlen(u.sysname));
        JsonW_lit(w, ",\"release\":");
        JsonW_cstr(w, u.release, (Py_ssize_t)strlen(u.release));
        JsonW_lit(w, ",\"version\":");
        JsonW_cstr(w, u.version, (Py_ssize_t)strlen(u.version));
        JsonW_lit(w, ",\"machine\":");
        JsonW_cstr(w, u.machine, (Py_ssize_t)strlen(u.machine));
        JsonW_lit(w, "},\"hostname\":");
        JsonW_cstr(w, u.nodename, (Py_ssize_t)strlen(u.nodename));
    }
    else
        JsonW_lit(w, "},\"hostname\":null");
    JsonW_lit(w, ",\"pid\":");
    JsonW_int(w, (long long)getpid());
    JsonW_lit(w, ",\"argv\":");
    PyObject *argv = PySys_GetObject("argv");
    if (argv)
        write_plain(w, argv, 0);
    else
        JsonW_lit(w, "[]");
    JsonW_lit(w, ",\"cwd\":");
    if (getcwd(cwd, sizeof cwd))
        JsonW_cstr(w, cwd, (Py_ssize_t)strlen(cwd));
    else
        JsonW_lit(w, "null");
    JsonW_lit(w, ",\"time\":");
    JsonW_cstr(w, stamp, (Py_ssize_t)strlen(stamp));
    JsonW_lit(w, ",\"timestamp\":");
    JsonW_double(w, (double)tv.tv_sec + (double)tv.tv_usec * 1e-6);
    JsonW_lit(w, ",\"packages\":");
    write_packages(c, w, pkg_cache);
    /* Variable names, and values unless the name or a URL looks secret. */
    JsonW_lit(w, ",\"env\":{");
    int first = 1;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        if (!first)
            JsonW_lit(w, ",");
        first = 0;
        JsonW_cstr(w, *e, eq - *e);
        JsonW_lit(w, ":");
        if (Redact_env_name_matches(c->o->repr.redact, *e, eq - *e) || url_has_password(eq + 1))
            JsonW_lit(w, "\"" REDACT_TEXT "\"");
        else
            JsonW_cstr(w, eq + 1, (Py_ssize_t)strlen(eq + 1));
    }
    JsonW_lit(w, "}}");
}

/* ------------------------------------------------------------------------ */
/* Redaction of the whole document                                          */

/* Secrets that come from outside the frames: the user's literal values,
 * the command line's `--token VALUE`, and environment variables with a
 * secret name (long values only: XDG_SESSION_TYPE=x11 must not blank every
 * "x11"). Their text is then hidden wherever else it appears. */
static void
note_outside_secrets(Cap *c)
{
    PyObject *rules = c->o->repr.redact;
    if (!rules)
        return;
    Redact_note_rules(&c->rc.found, rules);
    Redact_note_argv(&c->rc.found, rules, PySys_GetObject("argv"));
    Redact_note_environ(&c->rc.found, rules);
}

/* Scrub every noted secret and value shape from the document's strings
 * (redact.h), then put the summary at `top`, after "version":
 * "redactions": {"count": N, "kinds": {"name": 2, "jwt": 1}}: how many
 * places were hidden and why, never what. */
static int
scrub_document(Cap *c, JsonW *doc, Py_ssize_t top)
{
    char *out = NULL;
    Py_ssize_t outn = 0;
    JsonW res;

    if (!c->o->repr.redact)
        return 0;
    if (Redact_scrub_json(c->o->repr.redact, &c->rc.found, doc->buf, doc->len, &out, &outn) < 0)
        return -1;
    JsonW_init(&res);
    const char *src = out ? out : doc->buf;
    Py_ssize_t srcn = out ? outn : doc->len;
    /* Values hidden by name, as they stand in the final text (a local may
     * have been written twice while fitting the budget). */
    static const char mark[] = "\"redacted\":true";
    for (const char *p = src; (p = memmem(p, (size_t)(src + srcn - p), mark, sizeof mark - 1)) != NULL;
         p += sizeof mark - 1) {
        int entropy = src + srcn - p > (Py_ssize_t)sizeof mark && p[sizeof mark - 1] == ',';
        c->rc.found.counts[entropy ? REDACT_K_ENTROPY : REDACT_K_NAME]++;
        c->rc.found.replaced++;
    }
    JsonW_raw(&res, src, top);
    JsonW_lit(&res, ",\"redactions\":{\"count\":");
    JsonW_int(&res, c->rc.found.replaced);
    JsonW_lit(&res, ",\"kinds\":{");
    int first = 1;
    for (int k = 0; k < REDACT_NKINDS; k++) {
        if (!c->rc.found.counts[k])
            continue;
        if (!first)
            JsonW_lit(&res, ",");
        first = 0;
        JsonW_cstr(&res, Redact_kind_names[k], (Py_ssize_t)strlen(Redact_kind_names[k]));
        JsonW_lit(&res, ":");
        JsonW_int(&res, c->rc.found.counts[k]);
    }
    JsonW_lit(&res, "}}");
    JsonW_raw(&res, src + top, srcn - top);
    PyMem_Free(out);
    if (res.nomem) {
        JsonW_free(&res);
        PyErr_NoMemory();
        return -1;
    }
    JsonW_free(doc);
    *doc = res;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Assembly                                                                 */

void
Capture_options_default(Capture_Options *o)
{
    o->locals = 1;
    o->max_bytes = CAPTURE_DEFAULT_MAX_BYTES;
    o->struct_depth = CAPTURE_DEFAULT_STRUCT_DEPTH;
    o->max_nodes = CAPTURE_DEFAULT_MAX_NODES;
    SafeRepr_options_default(&o->repr);
}

static void
cap_clear(Cap *c)
{
    if (c->rc_open)
        SafeRepr_end(&c->rc);
    c->rc_open = 0;
    Redact_found_clear(&c->rc.found);
    Py_CLEAR(c->frames);
    Py_CLEAR(c->frame_ids);
    Py_CLEAR(c->priority);
    Py_CLEAR(c->wanted);
    Py_CLEAR(c->excs);
    Py_CLEAR(c->exc_ids);
    Py_CLEAR(c->type_names);
    Py_CLEAR(c->threads);
    Py_CLEAR(c->stack);
}

PyObject *
Capture_document(PyObject *exc, PyFrameObject *frame, const char *reason,
                 const Capture_Options *o, PyObject *pkg_cache)
{
    Cap c = {0};
    JsonW head, tail, *fw = NULL;
    Py_ssize_t nframes = 0;
    PyObject *res = NULL;
    PyObject *tname = NULL;     /* owned */

    JsonW_init(&head);
    JsonW_init(&tail);
    c.o = o;
    c.frames = PyList_New(0);
    c.frame_ids = PyDict_New();
    c.priority = PyList_New(0);
    c.wanted = PySet_New(NULL);
    c.excs = PyList_New(0);
    c.exc_ids = PyDict_New();
    c.type_names = PyDict_New();
    c.threads = PyList_New(0);
    c.stack = PyList_New(0);
    if (!c.frames || !c.frame_ids || !c.priority || !c.wanted || !c.excs || !c.exc_ids || !c.type_names
            || !c.threads || !c.stack)
        goto done;

    /* 1. What to keep. */
    if (exc && exc != Py_None) {
        if (exc_index(&c, exc) == -1 || collect_traceback_frames(&c) < 0)
            goto done;
    }
    else if (frame) {
        if (add_callers(&c, (PyObject *)frame, o->locals, MAX_FRAMES) < 0)
            goto done;
        for (Py_ssize_t i = PyList_GET_SIZE(c.frames) - 1; i >= 0; i--) {
            PyObject *idx = PyLong_FromSsize_t(i);
            if (!idx || PyList_Append(c.stack, idx) < 0) {
                Py_XDECREF(idx);
                goto done;
            }
            Py_DECREF(idx);
        }
    }
    if (collect_threads(&c) < 0)
        goto done;
    nframes = PyList_GET_SIZE(c.frames);

    /* 2. Environment and sources (outside the repr batch: they run
     * linecache and importlib.metadata, which need no time guard). */
    JsonW_lit(&tail, ",\"environment\":");
    write_environment(&c, &tail, pkg_cache);
    JsonW_lit(&tail, ",\"sources\":");
    if (write_sources(&c, &tail, o->max_bytes / 4) < 0)
        goto done;

    /* 3. Header, exceptions, threads; then frames with locals. */
    SafeRepr_begin(&c.rc, &o->repr);
    c.rc_open = 1;
    c.rc.keep_found = 1;
    note_outside_secrets(&c);
    JsonW_lit(&head, "{\"format\":\"" CAPTURE_FORMAT_NAME "\",\"version\":");
    JsonW_int(&head, CAPTURE_FORMAT_VERSION);
    Py_ssize_t top = head.len;     /* the redaction summary goes here */
    JsonW_lit(&head, ",\"reason\":");
    JsonW_cstr(&head, reason, (Py_ssize_t)strlen(reason));
    JsonW_lit(&head, ",\"thread\":{\"ident\":");
    JsonW_int(&head, (long long)PyThread_get_thread_ident());
    JsonW_lit(&head, ",\"name\":");
    tname = thread_name(PyThread_get_thread_ident());
    JsonW_str(&head, tname);
    JsonW_lit(&head, "},\"exception\":");
    JsonW_lit(&head, PyList_GET_SIZE(c.excs) ? "0" : "null");
    JsonW_lit(&head, ",\"exceptions\":[");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(c.excs); i++) {
        if (i)
            JsonW_lit(&head, ",");
        write_exception(&c, &head, PyList_GET_ITEM(c.excs, i));
    }
    JsonW_lit(&head, "],\"stack\":");
    write_plain(&head, c.stack, 0);
    JsonW_lit(&head, ",\"threads\":[");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(c.threads); i++) {
        PyObject *t = PyList_GET_ITEM(c.threads, i);
        if (i)
            JsonW_lit(&head, ",");
        JsonW_lit(&head, "{\"ident\":");
        write_plain(&head, PyTuple_GET_ITEM(t, 0), 0);
        JsonW_lit(&head, ",\"name\":");
        JsonW_str(&head, PyTuple_GET_ITEM(t, 1));
        JsonW_lit(&head, ",\"frames\":");
        write_plain(&head, PyTuple_GET_ITEM(t, 2), 0);
        JsonW_lit(&head, "}");
    }
    JsonW_lit(&head, "]");

    fw = PyMem_Calloc((size_t)(nframes ? nframes : 1), sizeof(JsonW));
    if (!fw) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t used = head.len + tail.len + SLACK_BYTES;
    for (Py_ssize_t i = 0; i < nframes; i++) {
        write_frame_skeleton(&c, &fw[i], PyList_GET_ITEM(c.frames, i));
        used += fw[i].len + 16;
    }
    /* Locals: each wanted frame may use an eighth of what is left or twice
     * its fair share, whichever is more: the innermost frames of the failure
     * keep full detail and the budget still reaches the outer ones. */
    Py_ssize_t left = o->max_bytes - used;
    Py_ssize_t nwant = PyList_GET_SIZE(c.priority);
    for (Py_ssize_t k = 0; k < nwant; k++) {
        Py_ssize_t fi = PyLong_AsSsize_t(PyList_GET_ITEM(c.priority, k));
        Py_ssize_t share = left > 0 ? 2 * left / (nwant - k) : 0;
        if (share < left / 8)
            share = left / 8;
        if (share > left)
            share = left;
        Py_ssize_t before = fw[fi].len;
        if (share <= 64) {
            c.truncated = 1;
            JsonW_lit(&fw[fi], ",\"locals\":null,\"locals_omitted\":-1");
        }
        else
            write_locals(&c, &fw[fi], PyList_GET_ITEM(c.frames, fi), share - 64);
        left -= fw[fi].len - before;
    }
    /* 4. Assemble: head, tail, frames, limits. */
    JsonW_append(&head, &tail);
    JsonW_lit(&head, ",\"frames\":[");
    for (Py_ssize_t i = 0; i < nframes; i++) {
        if (i)
            JsonW_lit(&head, ",");
        JsonW_append(&head, &fw[i]);
        JsonW_lit(&head, "}");
    }
    JsonW_lit(&head, "],\"limits\":{\"max_bytes\":");
    JsonW_int(&head, o->max_bytes);
    JsonW_lit(&head, ",\"max_length\":");
    JsonW_int(&head, o->repr.max_chars);
    JsonW_lit(&head, ",\"max_items\":");
    JsonW_int(&head, o->repr.max_items);
    JsonW_lit(&head, ",\"max_depth\":");
    JsonW_int(&head, o->struct_depth);
    JsonW_lit(&head, "},\"truncated\":");
    JsonW_lit(&head, c.truncated ? "true" : "false");
    JsonW_lit(&head, "}\n");
    if (head.nomem || scrub_document(&c, &head, top) < 0)
        goto done;
    res = JsonW_finish_bytes(&head);
done:
    cap_clear(&c);
    Py_XDECREF(tname);
    if (fw) {
        for (Py_ssize_t i = 0; i < nframes; i++)
            JsonW_free(&fw[i]);
        PyMem_Free(fw);
    }
    JsonW_free(&head);
    JsonW_free(&tail);
    return res;
}

/* ------------------------------------------------------------------------ */
/* File output                                                              */

static PyObject *
gzip_bytes(PyObject *data)
{
    /* Owned */
    PyObject *zlib = NULL, *co = NULL, *a = NULL, *b = NULL, *res = NULL;

    zlib = PyImport_ImportModule("zlib");
    if (!zlib)
        goto done;
    /* wbits 31 = gzip container, readable by `gzip -d` and gzip.open. */
    co = PyObject_CallMethod(zlib, "compressobj", "iii", 6, 8, 31);
    if (!co)
        goto done;
    a = PyObject_CallMethod(co, "compress", "O", data);
    b = a ? PyObject_CallMethod(co, "flush", NULL) : NULL;
    if (!b)
        goto done;
    res = PyBytes_FromStringAndSize(NULL, PyBytes_GET_SIZE(a) + PyBytes_GET_SIZE(b));
    if (!res)
        goto done;
    memcpy(PyBytes_AS_STRING(res), PyBytes_AS_STRING(a), (size_t)PyBytes_GET_SIZE(a));
    memcpy(PyBytes_AS_STRING(res) + PyBytes_GET_SIZE(a), PyBytes_AS_STRING(b),
           (size_t)PyBytes_GET_SIZE(b));
done:
    Py_XDECREF(zlib);
    Py_XDECREF(co);
    Py_XDECREF(a);
    Py_XDECREF(b);
    return res;
}

int
Capture_write_file(PyObject *data, PyObject *path, int compress)
{
    /* Owned */
    PyObject *payload = NULL, *bpath = NULL, *btmp = NULL;
    int fd = -1, rc = -1;

    payload = compress ? gzip_bytes(data) : Py_NewRef(data);
    if (!payload)
        goto done;
    if (!PyUnicode_FSConverter(path, &bpath))
        goto done;
    btmp = PyBytes_FromFormat("%s.tmp%ld", PyBytes_AS_STRING(bpath), (long)getpid());
    if (!btmp)
        goto done;
    const char *tmp = PyBytes_AS_STRING(btmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        goto done;
    }
    const char *p = PyBytes_AS_STRING(payload);
    Py_ssize_t left = PyBytes_GET_SIZE(payload);
    while (left > 0) {
        ssize_t n = write(fd, p, (size_t)left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
            goto done;
        }
        p += n;
        left -= n;
    }
    if (close(fd) < 0) {
        fd = -1;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        goto done;
    }
    fd = -1;
    if (rename(tmp, PyBytes_AS_STRING(bpath)) < 0) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path);
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    if (rc < 0 && btmp)
        unlink(PyBytes_AS_STRING(btmp));
    Py_XDECREF(payload);
    Py_XDECREF(bpath);
    Py_XDECREF(btmp);
    return rc;
}
