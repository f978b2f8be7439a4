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
 *   trailer    8 bytes  "SLMEMEND"
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
    if (b->oom)
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
    SmBuf b = {0}, tbpart = {0};

    long long limit = PyLong_AsLongLong(self->limit);
    if (limit == -1 && PyErr_Occurred())
        return NULL;
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
    put_u32(&b, SM_FORMAT_VERSION);
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
    buf_put(&b, SM_TRAILER, 8);
    if (b.oom || tbpart.oom) {
        PyErr_NoMemory();
        goto error;
    }
    if (sm_write_file(filename, b.buf, b.len) < 0)
        goto error;
    res = Py_NewRef(Py_None);
error:
    free(b.buf);
    free(tbpart.buf);
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
    if (!r.bad && version != SM_FORMAT_VERSION) {
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
    if (!rd_need(&r, 8) || memcmp(r.p, SM_TRAILER, 8) != 0 || r.p + 8 != r.end)
        goto corrupt;
    limit = PyLong_FromLongLong(lim);
    if (!limit)
        goto error;
    res = SmSnapshot_new_raw(st, traces, (size_t)nt, tbs, limit, sample);
    traces = NULL;
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
