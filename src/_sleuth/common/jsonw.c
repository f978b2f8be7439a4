/* jsonw.c — JSON text writer (see jsonw.h). */
#include "jsonw.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

void
JsonW_init(JsonW *w)
{
    memset(w, 0, sizeof *w);
}

void
JsonW_init_buf(JsonW *w, char *buf, Py_ssize_t cap)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = cap;
    w->borrowed = 1;
}

void
JsonW_free(JsonW *w)
{
    if (!w->borrowed)
        PyMem_Free(w->buf);
    memset(w, 0, sizeof *w);
}

static int
reserve(JsonW *w, Py_ssize_t extra)
{
    if (w->nomem)
        return -1;
    if (w->len + extra <= w->cap)
        return 0;
    Py_ssize_t cap = w->cap ? w->cap : 1024;
    while (cap < w->len + extra) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            w->nomem = 1;
            return -1;
        }
        cap *= 2;
    }
    char *nb = PyMem_Realloc(w->borrowed ? NULL : w->buf, (size_t)cap);
    if (!nb) {
        w->nomem = 1;
        return -1;
    }
    if (w->borrowed && w->len > 0)
        memcpy(nb, w->buf, (size_t)w->len);
    w->borrowed = 0;
    w->buf = nb;
    w->cap = cap;
    return 0;
}

void
JsonW_raw(JsonW *w, const char *s, Py_ssize_t n)
{
    if (n <= 0 || reserve(w, n) < 0)
        return;
    memcpy(w->buf + w->len, s, (size_t)n);
    w->len += n;
}

void
JsonW_lit(JsonW *w, const char *s)
{
    JsonW_raw(w, s, (Py_ssize_t)strlen(s));
}

/* The escaped bytes, in quotes when `quote`. */
static void
escape(JsonW *w, const char *s, Py_ssize_t n, int quote)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case every byte becomes \u00XX. */
    if (reserve(w, n * 6 + 2) < 0)
        return;
    char *o = w->buf + w->len;
    if (quote)
        *o++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) {
            *o++ = (char)c;     /* the common case first */
            continue;
        }
        switch (c) {
        case '"': *o++ = '\\'; *o++ = '"'; break;
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                *o++ = '\\'; *o++ = 'u'; *o++ = '0'; *o++ = '0';
                *o++ = hex[c >> 4]; *o++ = hex[c & 15];
            }
            else
                *o++ = (char)c;
        }
    }
    if (quote)
        *o++ = '"';
    w->len = o - w->buf;
}

void
JsonW_cstr(JsonW *w, const char *s, Py_ssize_t n)
{
    escape(w, s, n, 1);
}

static void
str_escaped(JsonW *w, PyObject *s, int quote)
{
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (u) {
        escape(w, u, n, quote);
        return;
    }
    /* Lone surrogates (from os.fsdecode of odd file names): escape them. */
    PyErr_Clear();
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace");
    if (!b) {
        PyErr_Clear();
        JsonW_lit(w, quote ? "\"?\"" : "?");
        return;
    }
    escape(w, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b), quote);
    Py_DECREF(b);
}

void
JsonW_str(JsonW *w, PyObject *s)
{
    if (!s || !PyUnicode_Check(s)) {
        JsonW_lit(w, "null");
        return;
    }
    str_escaped(w, s, 1);
}

void
JsonW_str_text(JsonW *w, PyObject *s)
{
    if (s && PyUnicode_Check(s))
        str_escaped(w, s, 0);
}

void
JsonW_int(JsonW *w, long long v)
{
    /* By hand: snprintf was 8% of a 200-frame capture_json (callgrind). */
    char buf[24];
    char *p = buf + sizeof buf;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    JsonW_raw(w, p, buf + sizeof buf - p);
}

void
JsonW_double(JsonW *w, double v)
{
    if (!isfinite(v)) {
        JsonW_lit(w, "null");
        return;
    }
    char *s = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!s) {
        PyErr_Clear();
        JsonW_lit(w, "null");
        return;
    }
    JsonW_lit(w, s);
    PyMem_Free(s);
}

void
JsonW_key(JsonW *w, const char *key)
{
    JsonW_cstr(w, key, (Py_ssize_t)strlen(key));
    JsonW_raw(w, ":", 1);
}

void
JsonW_append(JsonW *w, const JsonW *other)
{
    if (other->nomem)
        w->nomem = 1;
    JsonW_raw(w, other->buf, other->len);
}

void
JsonW_truncate(JsonW *w, Py_ssize_t len)
{
    if (len >= 0 && len < w->len)
        w->len = len;
}

PyObject *
JsonW_finish_bytes(JsonW *w)
{
    if (w->nomem)
        return PyErr_NoMemory();
    return PyBytes_FromStringAndSize(w->buf ? w->buf : "", w->len);
}

static int
write_obj(JsonW *w, PyObject *o, int depth)
{
    if (depth > JSONW_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError, "JSON: nested deeper than %d levels (a cycle?)",
                     JSONW_MAX_DEPTH);
        return -1;
    }
    if (o == Py_None)
        JsonW_lit(w, "null");
    else if (o == Py_True)
        JsonW_lit(w, "true");
    else if (o == Py_False)
        JsonW_lit(w, "false");
    else if (PyUnicode_Check(o))
        JsonW_str(w, o);
    else if (PyLong_Check(o)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (!overflow)
            JsonW_int(w, v);
        else {
            /* Exact big integers: their decimal text (PyLong_Type's repr, so
             * an int subclass's __repr__ is not called). */
            PyObject *s = PyLong_Type.tp_repr(o);
            if (!s)
                return -1;
            Py_ssize_t n;
            const char *u = PyUnicode_AsUTF8AndSize(s, &n);
            if (u)
                JsonW_raw(w, u, n);
            Py_DECREF(s);
            if (!u)
                return -1;
        }
    }
    else if (PyFloat_Check(o))
        JsonW_double(w, PyFloat_AS_DOUBLE(o));
    else if (PyList_Check(o) || PyTuple_Check(o)) {
        JsonW_raw(w, "[", 1);
        /* Index every time: a list may not change under us (GIL held, and
         * nothing here runs Python code), but stay safe if it did. */
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(o); i++) {
            if (i)
                JsonW_raw(w, ",", 1);
            if (write_obj(w, PySequence_Fast_GET_ITEM(o, i), depth + 1) < 0)
                return -1;
        }
        JsonW_raw(w, "]", 1);
    }
    else if (PyDict_Check(o)) {
        PyObject *k, *v;            /* borrowed */
        Py_ssize_t pos = 0;
        int first = 1;
        JsonW_raw(w, "{", 1);
        while (PyDict_Next(o, &pos, &k, &v)) {
            if (!PyUnicode_Check(k)) {
                PyErr_Format(PyExc_TypeError, "JSON: object keys must be str, not %.100s",
                             Py_TYPE(k)->tp_name);
                return -1;
            }
            if (!first)
                JsonW_raw(w, ",", 1);
            first = 0;
            JsonW_str(w, k);
            JsonW_raw(w, ":", 1);
            if (write_obj(w, v, depth + 1) < 0)
                return -1;
        }
        JsonW_raw(w, "}", 1);
    }
    else {
        PyErr_Format(PyExc_TypeError, "JSON: cannot write a %.100s", Py_TYPE(o)->tp_name);
        return -1;
    }
    return 0;
}

int
JsonW_obj(JsonW *w, PyObject *obj)
{
    return write_obj(w, obj, 0);
}
