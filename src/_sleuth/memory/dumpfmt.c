/* dumpfmt.c — Snapshot.dump() and Snapshot.load(): a data-only file format.
 *
 * tracemalloc pickles snapshots, so loading one can run code. This format is
 * plain tables; loading validates every count and index against the file
 * size before using it. All integers little-endian.
 *
 *   magic      8 bytes  "\x89SLMEM\r\n"
 *   version    u32      1
 *   flags      u32      0
 *   limit      i64      traceback_limit
 *   sample     f64      mean sampling gap in bytes, 0 for an exact snapshot
 *   nstrings   u32      then per string: u32 length, UTF-8 bytes (surrogatepass)
 *   nframes    u32      then per frame: u32 filename string index, i64 lineno
 *   ntb        u32      then per traceback: i32 total_nframe (-1: None),
 *                       u32 nframe, nframe x u32 frame index (oldest first)
 *   ntraces    u64      then per trace: u32 domain, u32 traceback index, u64 size
 *   nattrs     u32      (version 2 only) then per attribute set on the snapshot:
 *                       its name and its value, each a value as below
 *   trailer    8 bytes  "SLMEMEND"
 *
 * A snapshot without attributes is written as version 1, so that earlier
 * sleuth versions read it. Attribute values are plain data, one tag byte
 * each, never an object to rebuild:
 *
 *   'N' None   'T' True   'F' False
 *   'i' int    u32 length, ASCII hexadecimal as hex() writes it ("-0x1f")
 *   'f' float  u64, the IEEE 754 bits
 *   's' str    u32 length, UTF-8 (surrogatepass)
 *   'b' bytes  u32 length, the bytes
 *   't' tuple, 'l' list   u32 count, then the items
 *   'd' dict   u32 count, then key, value, key, value, ...
 *
 * Nesting is limited to SM_ATTR_MAX_DEPTH levels on both sides. Any other
 * value makes dump() raise TypeError before the file is opened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "types.h"

static const char SM_MAGIC[8] = {'\x89', 'S', 'L', 'M', 'E', 'M', '\r', '\n'};
static const char SM_TRAILER[8] = {'S', 'L', 'M', 'E', 'M', 'E', 'N', 'D'};
#define SM_FORMAT_VERSION 1
#define SM_FORMAT_VERSION_ATTRS 2
#define SM_ATTR_MAX_DEPTH 100
#define SM_ATTR_KINDS "None, bool, int, float, str, bytes, or a tuple, list or dict of these"

/* ------------------------------------------------------------------------ */
/* writing                                                                  */

typedef struct {
    char *buf;
    size_t len, cap;
    int oom;
} SmBuf;

static void
buf_put(SmBuf *b, const void *p, size_t n)
{
    /* n == 0 may come with p == NULL (an empty part): memcpy's arguments
     * must not be NULL even then. */
    if (b->oom || n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = 1;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void
put_u32(SmBuf *b, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    buf_put(b, x, 4);
}

static void
put_u64(SmBuf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    buf_put(b, x, 8);
}

/* index of obj in (dict, list), adding it if new; -1 on error */
static long
intern_idx(PyObject *dict, PyObject *list, PyObject *obj)
{
    PyObject *v = NULL;
    int r = PyDict_GetItemRef(dict, obj, &v);
    if (r < 0)
        return -1;
    if (r) {
        long i = PyLong_AsLong(v);
        Py_DECREF(v);
        return i;
    }
    long i = (long)PyList_GET_SIZE(list);
    v = PyLong_FromLong(i);
    if (!v || PyDict_SetItem(dict, obj, v) < 0 || PyList_Append(list, obj) < 0)
        i = -1;
    Py_XDECREF(v);
    return i;
}

static int
put_len(SmBuf *b, char tag, Py_ssize_t n)
{
    if ((uint64_t)n > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError,
                        "Snapshot.dump(): an attribute value is too large for the file format");
        return -1;
    }
    buf_put(b, &tag, 1);
    put_u32(b, (uint32_t)n);
    return 0;
}

/* One attribute value (see the format above). `name`: the attribute, for
 * the error message. 0, or -1 with an exception. */
static int
put_value(SmBuf *b, PyObject *name, PyObject *v, int depth)
{
    /* Owned */
    PyObject *text = NULL;
    int rc = -1;

    if (depth > SM_ATTR_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError,
                     "Snapshot.dump(): attribute %R is nested more than %d levels deep",
                     name, SM_ATTR_MAX_DEPTH);
        return -1;
    }
    if (v == Py_None || v == Py_True || v == Py_False) {
        char tag = v == Py_None ? 'N' : v == Py_True ? 'T' : 'F';
        buf_put(b, &tag, 1);
        rc = 0;
    }
    else if (PyLong_CheckExact(v)) {
        /* Base 16: not bound by the int/str conversion digit limit. */
        text = PyNumber_ToBase(v, 16);
        const char *a = text ? PyUnicode_AsUTF8(text) : NULL;
        if (a && put_len(b, 'i', (Py_ssize_t)strlen(a)) == 0) {
            buf_put(b, a, strlen(a));
            rc = 0;
        }
    }
    else if (PyFloat_CheckExact(v)) {
        double d = PyFloat_AS_DOUBLE(v);
        uint64_t bits;
        memcpy(&bits, &d, 8);
        buf_put(b, "f", 1);
        put_u64(b, bits);
        rc = 0;
    }
    else if (PyUnicode_CheckExact(v)) {
        text = PyUnicode_AsEncodedString(v, "utf-8", "surrogatepass");
        if (text && put_len(b, 's', PyBytes_GET_SIZE(text)) == 0) {
            buf_put(b, PyBytes_AS_STRING(text), (size_t)PyBytes_GET_SIZE(text));
            rc = 0;
        }
    }
    else if (PyBytes_CheckExact(v)) {
        if (put_len(b, 'b', PyBytes_GET_SIZE(v)) == 0) {
            buf_put(b, PyBytes_AS_STRING(v), (size_t)PyBytes_GET_SIZE(v));
            rc = 0;
        }
    }
    else if (PyTuple_CheckExact(v) || PyList_CheckExact(v)) {
        /* A list may change while its items are written (a str's encoding
         * runs no Python code, but stay safe): index it afresh each time. */
        int is_tuple = PyTuple_CheckExact(v);
        if (put_len(b, is_tuple ? 't' : 'l', PySequence_Fast_GET_SIZE(v)) < 0)
            return -1;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (i >= PySequence_Fast_GET_SIZE(v)) {
                PyErr_Format(PyExc_RuntimeError,
                             "Snapshot.dump(): attribute %R changed size while written", name);
                return -1;
            }
            PyObject *item = Py_NewRef(PySequence_Fast_GET_ITEM(v, i));
            int r = put_value(b, name, item, depth + 1);
            Py_DECREF(item);
            if (r < 0)
                return -1;
        }
        rc = 0;
    }
    else if (PyDict_CheckExact(v)) {
        Py_ssize_t pos = 0, n = PyDict_GET_SIZE(v), done = 0;
        PyObject *key, *value;
        if (put_len(b, 'd', n) < 0)
            return -1;
        while (PyDict_Next(v, &pos, &key, &value)) {
            if (done++ == n) {
                PyErr_Format(PyExc_RuntimeError,
                             "Snapshot.dump(): attribute %R changed size while written", name);
                return -1;
            }
            Py_INCREF(key);
            Py_INCREF(value);
            int r = put_value(b, name, key, depth + 1);
            if (r == 0)
                r = put_value(b, name, value, depth + 1);
            Py_DECREF(key);
            Py_DECREF(value);
            if (r < 0)
                return -1;
        }
        if (done != n) {
            PyErr_Format(PyExc_RuntimeError,
                         "Snapshot.dump(): attribute %R changed size while written", name);
            return -1;
        }
        rc = 0;
    }
    else {
        PyErr_Format(PyExc_TypeError,
                     "Snapshot.dump(): cannot write attribute %R, a value of type '%.200s' (sleuth's "
                     "snapshot files hold data, never pickles: " SM_ATTR_KINDS ")",
                     name, Py_TYPE(v)->tp_name);
    }
    Py_XDECREF(text);
    return rc;
}

/* The attributes set on the snapshot (its __dict__), or nothing when none
 * are. *nattrs: how many. */
static int
put_attrs(SmBuf *b, SmSnapshotObject *self, Py_ssize_t *nattrs)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    *nattrs = 0;
    if (self->dict == NULL || PyDict_GET_SIZE(self->dict) == 0)
        return 0;
    *nattrs = PyDict_GET_SIZE(self->dict);
    put_u32(b, (uint32_t)*nattrs);
    while (PyDict_Next(self->dict, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) {
            PyErr_Format(PyExc_TypeError,
                         "Snapshot.dump(): attribute names must be str, not %.200s",
                         Py_TYPE(key)->tp_name);
            return -1;
        }
        Py_INCREF(key);
        Py_INCREF(value);
        int r = put_value(b, key, key, 0);
        if (r == 0)
            r = put_value(b, key, value, 0);
        Py_DECREF(key);
        Py_DECREF(value);
        if (r < 0)
            return -1;
    }
    return 0;
}

static int
sm_write_file(PyObject *filename, const char *data, size_t len)
{
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(filename, &path))
        return -1;
    FILE *f = fopen(PyBytes_AS_STRING(path), "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, filename);
    Py_DECREF(path);
    return ok ? 0 : -1;
}

PyObject *
SmSnapshot_dump_py(PyObject *op, PyObject *filename)
{
    SmSnapshotObject *self = (SmSnapshotObject *)op;
    /* Owned */
    PyObject *sdict = NULL, *slist = NULL, *fdict = NULL, *flist = NULL, *res = NULL;
    SmBuf b = {0}, tbpart = {0}, attrs = {0};
    Py_ssize_t nattrs = 0;

    long long limit = PyLong_AsLongLong(self->limit);
    if (limit == -1 && PyErr_Occurred())
        return NULL;
    /* Attributes first: a value the format cannot hold is refused before
     * anything else is done (and before the file is opened). */
    if (put_attrs(&attrs, self, &nattrs) < 0)
        goto error;
    sdict = PyDict_New();
    slist = PyList_New(0);
    fdict = PyDict_New();
    flist = PyList_New(0);
    if (!sdict || !slist || !fdict || !flist)
        goto error;
    /* tracebacks first (into tbpart), collecting frames and strings */
    Py_ssize_t ntb = PyTuple_GET_SIZE(self->tbs);
    for (Py_ssize_t i = 0; i < ntb; i++) {
        SmTracebackObject *tb = (SmTracebackObject *)PyTuple_GET_ITEM(self->tbs, i);
        long total = -1;
        if (tb->total_nframe != Py_None) {
            total = PyLong_AsLong(tb->total_nframe);
            if (total == -1 && PyErr_Occurred())
                goto error;
        }
        put_u32(&tbpart, (uint32_t)(int32_t)total);
        put_u32(&tbpart, (uint32_t)PyTuple_GET_SIZE(tb->frames));
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(tb->frames); k++) {
            long fi = intern_idx(fdict, flist, PyTuple_GET_ITEM(tb->frames, k));
            if (fi < 0)
                goto error;
            put_u32(&tbpart, (uint32_t)fi);
        }
    }
    buf_put(&b, SM_MAGIC, 8);
    put_u32(&b, nattrs ? SM_FORMAT_VERSION_ATTRS : SM_FORMAT_VERSION);
    put_u32(&b, 0);
    put_u64(&b, (uint64_t)limit);
    uint64_t sbits;
    memcpy(&sbits, &self->sample, 8);
    put_u64(&b, sbits);
    /* frames refer to strings: intern the file names, then write */
    SmBuf fpart = {0};
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(flist); k++) {
        PyObject *fr = PyList_GET_ITEM(flist, k);
        PyObject *fn = PySequence_GetItem(fr, 0), *ln = fn ? PySequence_GetItem(fr, 1) : NULL;
        long long lineno = ln ? PyLong_AsLongLong(ln) : -1;
        int bad = !ln || (lineno == -1 && PyErr_Occurred()) || !PyUnicode_Check(fn);
        if (!bad && !PyErr_Occurred()) {
            long si = intern_idx(sdict, slist, fn);
            bad = si < 0;
            put_u32(&fpart, (uint32_t)si);
            put_u64(&fpart, (uint64_t)lineno);
        }
        Py_XDECREF(fn);
        Py_XDECREF(ln);
        if (bad) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "frames must be (str filename, int lineno)");
            free(fpart.buf);
            goto error;
        }
    }
    put_u32(&b, (uint32_t)PyList_GET_SIZE(slist));
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(slist); k++) {
        PyObject *enc = PyUnicode_AsEncodedString(PyList_GET_ITEM(slist, k), "utf-8",
                                                  "surrogatepass");
        if (!enc) {
            free(fpart.buf);
            goto error;
        }
        put_u32(&b, (uint32_t)PyBytes_GET_SIZE(enc));
        buf_put(&b, PyBytes_AS_STRING(enc), (size_t)PyBytes_GET_SIZE(enc));
        Py_DECREF(enc);
    }
    put_u32(&b, (uint32_t)PyList_GET_SIZE(flist));
    buf_put(&b, fpart.buf, fpart.len);
    free(fpart.buf);
    put_u32(&b, (uint32_t)ntb);
    buf_put(&b, tbpart.buf, tbpart.len);
    put_u64(&b, self->ntraces);
    for (size_t i = 0; i < self->ntraces; i++) {
        const SmTrace *t = &self->traces[i];
        put_u32(&b, t->domain);
        put_u32(&b, t->tb);
        put_u64(&b, t->size);
    }
    if (attrs.len)
        buf_put(&b, attrs.buf, attrs.len);
    buf_put(&b, SM_TRAILER, 8);
    if (b.oom || tbpart.oom || attrs.oom) {
        PyErr_NoMemory();
        goto error;
    }
    if (sm_write_file(filename, b.buf, b.len) < 0)
        goto error;
    res = Py_NewRef(Py_None);
error:
    free(b.buf);
    free(tbpart.buf);
    free(attrs.buf);
    Py_XDECREF(sdict);
    Py_XDECREF(slist);
    Py_XDECREF(fdict);
    Py_XDECREF(flist);
    return res;
}

/* ------------------------------------------------------------------------ */
/* reading                                                                  */

typedef struct {
    const unsigned char *p, *end;
    int bad;
} SmReader;

static int
rd_need(SmReader *r, uint64_t n)
{
    if (r->bad || (uint64_t)(r->end - r->p) < n) {
        r->bad = 1;
        return 0;
    }
    return 1;
}

static uint32_t
get_u32(SmReader *r)
{
    if (!rd_need(r, 4))
        return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)r->p[i] << (8 * i);
    r->p += 4;
    return v;
}

static uint64_t
get_u64(SmReader *r)
{
    if (!rd_need(r, 8))
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    return v;
}

/* One attribute value (see the format): a new reference, or NULL with
 * r->bad set (corrupt) or an exception set (memory). */
static PyObject *
get_value(SmReader *r, int depth)
{
    if (depth > SM_ATTR_MAX_DEPTH || !rd_need(r, 1)) {
        r->bad = 1;
        return NULL;
    }
    char tag = (char)*r->p++;
    switch (tag) {
    case 'N':
        return Py_NewRef(Py_None);
    case 'T':
        return Py_NewRef(Py_True);
    case 'F':
        return Py_NewRef(Py_False);
    case 'f': {
        uint64_t bits = get_u64(r);
        double d;
        memcpy(&d, &bits, 8);
        return r->bad ? NULL : PyFloat_FromDouble(d);
    }
    case 'i': case 's': case 'b': {
        uint32_t n = get_u32(r);
        if (!rd_need(r, n))
            return NULL;
        const char *p = (const char *)r->p;
        r->p += n;
        if (tag == 'b')
            return PyBytes_FromStringAndSize(p, n);
        if (tag == 's') {
            PyObject *v = PyUnicode_DecodeUTF8(p, n, "surrogatepass");
            if (!v)
                r->bad = 1;
            return v;
        }
        /* [-]0x then hex digits, nothing else */
        size_t i = (n > 0 && p[0] == '-') ? 1 : 0;
        char digits[64];
        if (n < i + 3 || p[i] != '0' || p[i + 1] != 'x') {
            r->bad = 1;
            return NULL;
        }
        for (size_t k = i + 2; k < n; k++)
            if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f'))) {
                r->bad = 1;
                return NULL;
            }
        char *text = n < sizeof(digits) ? digits : PyMem_Malloc((size_t)n + 1);
        if (!text)
            return PyErr_NoMemory();
        memcpy(text, p, n);
        text[n] = '\0';
        PyObject *v = PyLong_FromString(text, NULL, 16);
        if (text != digits)
            PyMem_Free(text);
        if (!v)
            r->bad = 1;
        return v;
    }
    case 't': case 'l': case 'd': {
        uint32_t n = get_u32(r);
        /* every item takes at least its tag byte */
        if (!rd_need(r, (uint64_t)n * (tag == 'd' ? 2 : 1)))
            return NULL;
        PyObject *v = tag == 't' ? PyTuple_New(n) : tag == 'l' ? PyList_New(n) : PyDict_New();
        if (!v)
            return NULL;
        for (uint32_t i = 0; i < n; i++) {
            PyObject *item = get_value(r, depth + 1);
            if (!item)
                goto bad_container;
            if (tag == 't') {
                PyTuple_SET_ITEM(v, i, item);
            }
            else if (tag == 'l') {
                PyList_SET_ITEM(v, i, item);
            }
            else {
                PyObject *value = get_value(r, depth + 1);
                int rc = value ? PyDict_SetItem(v, item, value) : -1;
                Py_DECREF(item);
                Py_XDECREF(value);
                if (rc < 0) {
                    if (value)
                        r->bad = 1;      /* an unhashable key: not what dump writes */
                    goto bad_container;
                }
            }
        }
        return v;
    bad_container:
        Py_DECREF(v);
        return NULL;
    }
    default:
        r->bad = 1;
        return NULL;
    }
}

/* Put the attributes of a version-2 file in the new snapshot's __dict__
 * (as pickle's default __setstate__ would: no descriptor runs). */
static int
get_attrs(SmReader *r, PyObject *snapshot)
{
    uint32_t n = get_u32(r);
    PyObject *dict;
    if (r->bad || !rd_need(r, (uint64_t)n * 2))
        return -1;
    dict = PyObject_GenericGetDict(snapshot, NULL);
    if (!dict)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        PyObject *name = get_value(r, 0);
        PyObject *value = name ? get_value(r, 0) : NULL;
        int rc = -1;
        if (value && PyUnicode_CheckExact(name))
            rc = PyDict_SetItem(dict, name, value);
        else if (value)
            r->bad = 1;
        Py_XDECREF(name);
        Py_XDECREF(value);
        if (rc < 0) {
            Py_DECREF(dict);
            return -1;
        }
    }
    Py_DECREF(dict);
    return 0;
}

static int
sm_read_file(PyObject *filename, char **data, size_t *len)
{
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(filename, &path))
        return -1;
    FILE *f = fopen(PyBytes_AS_STRING(path), "rb");
    Py_DECREF(path);
    if (!f) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, filename);
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) {
        PyErr_NoMemory();
        return -1;
    }
    if (err) {
        free(buf);
        errno = EIO;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, filename);
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

PyObject *
SmSnapshot_load_py(PyObject *type, PyObject *filename)
{
    /* Owned */
    PyObject *strings = NULL, *frames = NULL, *tbs = NULL, *limit = NULL, *res = NULL;
    char *data = NULL;
    size_t len = 0;
    SmTrace *traces = NULL;
    SmState *st = SmState_of_type((PyTypeObject *)type);

    if (!st || sm_read_file(filename, &data, &len) < 0)
        return NULL;
    SmReader r = {(const unsigned char *)data, (const unsigned char *)data + len, 0};
    if (len < 8 || memcmp(data, SM_MAGIC, 8) != 0) {
        PyErr_Format(PyExc_ValueError,
                     "%R is not a sleuth.memory snapshot file (bad magic; a tracemalloc "
                     "snapshot is a pickle: load it with tracemalloc.Snapshot.load)", filename);
        goto error;
    }
    r.p += 8;
    uint32_t version = get_u32(&r);
    (void)get_u32(&r);
    if (!r.bad && version != SM_FORMAT_VERSION && version != SM_FORMAT_VERSION_ATTRS) {
        PyErr_Format(PyExc_ValueError, "%R: unsupported sleuth.memory snapshot version %u",
                     filename, (unsigned)version);
        goto error;
    }
    int64_t lim = (int64_t)get_u64(&r);
    uint64_t sbits = get_u64(&r);
    double sample;
    memcpy(&sample, &sbits, 8);
    if (!(sample >= 0 && sample < 1e300))
        r.bad = 1;
    uint32_t ns = get_u32(&r);
    if (r.bad || !rd_need(&r, (uint64_t)ns * 4))
        goto corrupt;
    strings = PyList_New(ns);
    if (!strings)
        goto error;
    for (uint32_t i = 0; i < ns; i++) {
        uint32_t n = get_u32(&r);
        if (!rd_need(&r, n))
            goto corrupt;
        PyObject *s = PyUnicode_DecodeUTF8((const char *)r.p, n, "surrogatepass");
        if (!s)
            goto corrupt;
        PyList_SET_ITEM(strings, i, s);
        r.p += n;
    }
    uint32_t nf = get_u32(&r);
    if (r.bad || !rd_need(&r, (uint64_t)nf * 12))
        goto corrupt;
    frames = PyList_New(nf);
    if (!frames)
        goto error;
    for (uint32_t i = 0; i < nf; i++) {
        uint32_t si = get_u32(&r);
        int64_t ln = (int64_t)get_u64(&r);
        if (si >= ns)
            goto corrupt;
        PyObject *lno = PyLong_FromLongLong(ln);
        PyObject *fr = lno ? PyTuple_Pack(2, PyList_GET_ITEM(strings, si), lno) : NULL;
        Py_XDECREF(lno);
        if (!fr)
            goto error;
        PyList_SET_ITEM(frames, i, fr);
    }
    uint32_t ntb = get_u32(&r);
    if (r.bad || !rd_need(&r, (uint64_t)ntb * 8))
        goto corrupt;
    tbs = PyTuple_New(ntb);
    if (!tbs)
        goto error;
    for (uint32_t i = 0; i < ntb; i++) {
        int32_t total = (int32_t)get_u32(&r);
        uint32_t n = get_u32(&r);
        if (r.bad || !rd_need(&r, (uint64_t)n * 4) || total < -1)
            goto corrupt;
        PyObject *fr = PyTuple_New(n);
        if (!fr)
            goto error;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t fi = get_u32(&r);
            if (fi >= nf) {
                Py_DECREF(fr);
                goto corrupt;
            }
            PyTuple_SET_ITEM(fr, k, Py_NewRef(PyList_GET_ITEM(frames, fi)));
        }
        PyObject *tot = total < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(total);
        PyObject *tb = tot ? SmTraceback_new(st, fr, tot) : NULL;
        Py_DECREF(fr);
        Py_XDECREF(tot);
        if (!tb)
            goto error;
        PyTuple_SET_ITEM(tbs, i, tb);
    }
    uint64_t nt = get_u64(&r);
    if (r.bad || nt > (uint64_t)(r.end - r.p) / 16 || !rd_need(&r, nt * 16 + 8))
        goto corrupt;
    traces = malloc((size_t)(nt + 1) * sizeof(SmTrace));
    if (!traces) {
        PyErr_NoMemory();
        goto error;
    }
    for (uint64_t i = 0; i < nt; i++) {
        traces[i].domain = get_u32(&r);
        traces[i].tb = get_u32(&r);
        traces[i].size = get_u64(&r);
        if (traces[i].tb >= ntb)
            goto corrupt;
    }
    limit = PyLong_FromLongLong(lim);
    if (!limit)
        goto error;
    res = SmSnapshot_new_raw(st, traces, (size_t)nt, tbs, limit, sample);
    traces = NULL;
    if (!res)
        goto error;
    if (version == SM_FORMAT_VERSION_ATTRS && get_attrs(&r, res) < 0) {
        Py_CLEAR(res);
        if (r.bad)
            goto corrupt;
        goto error;
    }
    if (!rd_need(&r, 8) || memcmp(r.p, SM_TRAILER, 8) != 0 || r.p + 8 != r.end) {
        Py_CLEAR(res);
        goto corrupt;
    }
    goto error;
corrupt:
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError,
                 "%R: truncated or corrupt sleuth.memory snapshot file (at byte %zd of %zu)",
                 filename, (Py_ssize_t)(r.p - (const unsigned char *)data), len);
error:
    free(data);
    free(traces);
    Py_XDECREF(strings);
    Py_XDECREF(frames);
    Py_XDECREF(tbs);
    Py_XDECREF(limit);
    return res;
}
