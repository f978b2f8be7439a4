/* snapshot.c — the Snapshot type and its analyses (see snapshot.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include <structmember.h>   /* after Python.h (3.11) */
#include "types.h"
#include "frames.h"

typedef struct {
    PyObject_HEAD
    SmSnapshotObject *snap;
} SmTracesObject;

/* ------------------------------------------------------------------------ */
/* construction                                                             */

PyObject *
SmSnapshot_new_raw(SmState *st, SmTrace *traces, size_t n, PyObject *tbs, PyObject *limit,
                   double sample)
{
    SmSnapshotObject *self = (SmSnapshotObject *)st->Snapshot->tp_alloc(st->Snapshot, 0);
    if (!self) {
        free(traces);
        return NULL;
    }
    self->traces = traces;
    self->ntraces = n;
    self->tbs = Py_NewRef(tbs);
    self->limit = Py_NewRef(limit);
    self->sample = sample;
    return (PyObject *)self;
}

/* (filename, lineno) of one captured frame; the cache maps (code, lasti). */
static PyObject *
sm_resolve_frame(SmState *st, const SmRawFrame *f, PyObject *cache)
{
    /* Owned */
    PyObject *key = NULL, *lasti = NULL, *res = NULL, *ln = NULL, *addr = NULL;

    /* keyed by the code's address: hashing a code object hashes all its
     * instructions (the export keeps each code alive meanwhile) */
    lasti = PyLong_FromSsize_t(f->lasti);
    addr = PyLong_FromVoidPtr(f->code);
    if (!lasti || !addr)
        goto error;
    key = PyTuple_Pack(2, addr, lasti);
    if (!key)
        goto error;
    if (PyDict_GetItemRef(cache, key, &res) != 0)
        goto error;   /* found (res set) or failed (res NULL) */
    PyObject *fn = f->code->co_filename;
    if (!fn || !PyUnicode_Check(fn))
        fn = PyTuple_GET_ITEM(st->unknown, 0);
    int line = PyCode_Addr2Line(f->code, (int)(f->lasti * 2));
    ln = PyLong_FromLong(line < 0 ? 0 : line);
    if (!ln)
        goto error;
    res = PyTuple_Pack(2, fn, ln);
    if (!res || PyDict_SetItem(cache, key, res) < 0)
        Py_CLEAR(res);
error:
    Py_XDECREF(key);
    Py_XDECREF(lasti);
    Py_XDECREF(addr);
    Py_XDECREF(ln);
    return res;
}

PyObject *
SmSnapshot_resolve_frames(SmState *st, SmExport *ex, uint32_t i, PyObject *cache)
{
    const SmTbRec *r = &ex->tbs[i];
    if (r->nframe == 0)
        return PyTuple_Pack(1, st->unknown);
    PyObject *frames = PyTuple_New(r->nframe);
    if (!frames)
        return NULL;
    for (uint16_t k = 0; k < r->nframe; k++) {
        /* captured most recent first; Traceback stores oldest first */
        PyObject *f = sm_resolve_frame(st, &ex->frames[r->first + k], cache);
        if (!f) {
            Py_DECREF(frames);
            return NULL;
        }
        PyTuple_SET_ITEM(frames, r->nframe - 1 - k, f);
    }
    return frames;
}

PyObject *
SmSnapshot_from_export(SmState *st, SmExport *ex)
{
    /* Owned */
    PyObject *cache = NULL, *tbs = NULL, *limit = NULL, *res = NULL;

    cache = PyDict_New();
    tbs = PyTuple_New(ex->ntb);
    limit = PyLong_FromLong(ex->limit);
    if (!cache || !tbs || !limit)
        goto error;
    for (uint32_t i = 0; i < ex->ntb; i++) {
        PyObject *frames = SmSnapshot_resolve_frames(st, ex, i, cache);
        if (!frames)
            goto error;
        /* tracemalloc's empty traceback counts its <unknown> frame */
        PyObject *total = PyLong_FromLong(ex->tbs[i].nframe ? ex->tbs[i].total : 1);
        PyObject *tb = total ? SmTraceback_new(st, frames, total) : NULL;
        Py_DECREF(frames);
        Py_XDECREF(total);
        if (!tb)
            goto error;
        PyTuple_SET_ITEM(tbs, i, tb);
    }
    res = SmSnapshot_new_raw(st, ex->traces, ex->ntraces, tbs, limit, ex->sample);
    ex->traces = NULL;
error:
    SmExport_release(ex);
    Py_XDECREF(cache);
    Py_XDECREF(tbs);
    Py_XDECREF(limit);
    return res;
}

PyObject *
SmSnapshot_take_py(PyObject *module, PyObject *unused)
{
    SmExport ex;
    SLEUTH_UNUSED(unused);
    SmState *st = SmState_of_module(module);
    if (!st)
        return NULL;
    if (!SmTracer_is_tracing()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the tracemalloc module must be tracing memory allocations to take a snapshot");
        return NULL;
    }
    if (SmTracer_export(&ex) < 0)
        return NULL;
    return SmSnapshot_from_export(st, &ex);
}

PyObject *
SmSnapshot_object_traceback_py(PyObject *module, PyObject *obj)
{
    SmExport ex;
    /* Owned */
    PyObject *cache = NULL, *frames = NULL, *res = NULL;
    SmState *st = SmState_of_module(module);
    if (!st)
        return NULL;
    int found = SmTracer_export_block(SmFrames_object_block(obj), &ex);
    if (found < 0)
        return NULL;
    if (!found) {
        SmExport_release(&ex);
        Py_RETURN_NONE;
    }
    cache = PyDict_New();
    if (!cache)
        goto error;
    frames = SmSnapshot_resolve_frames(st, &ex, 0, cache);
    if (!frames)
        goto error;
    /* like tracemalloc.get_object_traceback(): no total_nframe */
    res = SmTraceback_new(st, frames, NULL);
error:
    SmExport_release(&ex);
    Py_XDECREF(cache);
    Py_XDECREF(frames);
    return res;
}

/* Snapshot(traces, traceback_limit): tracemalloc's raw form, each trace
 * (domain, size, frames most recent first[, total_nframe]). */
static PyObject *
Snapshot_new(PyTypeObject *tp, PyObject *args, PyObject *kw)
{
    /* Borrowed */
    PyObject *traces, *limit;
    /* Owned */
    PyObject *seq = NULL, *index = NULL, *tbs = NULL, *res = NULL;
    SmTrace *arr = NULL;
    static char *kwlist[] = {"traces", "traceback_limit", NULL};
    SmState *st = SmState_of_type(tp);

    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "OO:Snapshot", kwlist, &traces, &limit))
        return NULL;
    seq = PySequence_Fast(traces, "traces must be a sequence of trace tuples");
    index = PyDict_New();
    tbs = PyList_New(0);
    if (!seq || !index || !tbs)
        goto error;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    arr = malloc(((size_t)n + 1) * sizeof(SmTrace));
    if (!arr) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) < 3 || PyTuple_GET_SIZE(t) > 4) {
            PyErr_SetString(PyExc_TypeError, "each trace must be a tuple "
                            "(domain, size, frames[, total_nframe])");
            goto error;
        }
        unsigned long dom = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(t, 0));
        if (dom == (unsigned long)-1 && PyErr_Occurred())
            goto error;
        unsigned long long size = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(t, 1));
        if (size == (unsigned long long)-1 && PyErr_Occurred())
            goto error;
        if (dom > UINT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "domain out of range");
            goto error;
        }
        PyObject *key = PyTuple_GetSlice(t, 2, PyTuple_GET_SIZE(t)), *idx = NULL;
        if (!key)
            goto error;
        int found = PyDict_GetItemRef(index, key, &idx);
        if (found == 0) {
            PyObject *tb = PyObject_Call((PyObject *)st->Traceback, key, NULL);
            idx = tb ? PyLong_FromSsize_t(PyList_GET_SIZE(tbs)) : NULL;
            if (!idx || PyList_Append(tbs, tb) < 0 || PyDict_SetItem(index, key, idx) < 0)
                Py_CLEAR(idx);
            Py_XDECREF(tb);
        }
        Py_DECREF(key);
        if (!idx)
            goto error;
        arr[i] = (SmTrace){size, (uint32_t)PyLong_AsLong(idx), (uint32_t)dom};
        Py_DECREF(idx);
    }
    Py_SETREF(tbs, PyList_AsTuple(tbs));
    if (!tbs)
        goto error;
    res = SmSnapshot_new_raw(st, arr, (size_t)n, tbs, limit, 0.0);
    arr = NULL;
error:
    free(arr);
    Py_XDECREF(seq);
    Py_XDECREF(index);
    Py_XDECREF(tbs);
    return res;
}

/* GC: a user attribute can refer back to its snapshot. */
static int
Snapshot_traverse(SmSnapshotObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->tbs);
    Py_VISIT(self->limit);
    Py_VISIT(self->dict);
    return 0;
}

static int
Snapshot_clear(SmSnapshotObject *self)
{
    Py_CLEAR(self->dict);
    return 0;
}

static void
Snapshot_dealloc(SmSnapshotObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    free(self->traces);
    Py_CLEAR(self->tbs);
    Py_CLEAR(self->limit);
    Py_CLEAR(self->dict);
    tp->tp_free(self);
    Py_DECREF(tp);
}

void
SmSnapshot_weigh(const SmSnapshotObject *s, const SmTrace *t, double *size, double *count)
{
    if (s->sample > 0) {
        double w = 1.0 / SmTracer_sample_p((double)t->size, s->sample);
        *size = (double)t->size * w;
        *count = w;
    }
    else {
        *size = (double)t->size;
        *count = 1.0;
    }
}

/* ------------------------------------------------------------------------ */
/* grouping                                                                 */

enum { KEY_TRACEBACK, KEY_FILENAME, KEY_LINENO };

typedef struct {
    PyObject *index;   /* key Traceback -> int position in keys */
    PyObject *keys;    /* list of key Tracebacks */
    double *size, *count;
    Py_ssize_t cap;
} SmGroups;

static void
SmGroups_clear(SmGroups *g)
{
    Py_CLEAR(g->index);
    Py_CLEAR(g->keys);
    free(g->size);
    free(g->count);
    g->size = g->count = NULL;
}

static int
sm_parse_key(PyObject *key_type, int cumulative, int *out)
{
    const char *k = PyUnicode_Check(key_type) ? PyUnicode_AsUTF8(key_type) : NULL;
    if (PyUnicode_Check(key_type) && !k)
        return -1;
    if (k && strcmp(k, "traceback") == 0)
        *out = KEY_TRACEBACK;
    else if (k && strcmp(k, "filename") == 0)
        *out = KEY_FILENAME;
    else if (k && strcmp(k, "lineno") == 0)
        *out = KEY_LINENO;
    else {
        PyErr_Format(PyExc_ValueError, "unknown key_type: %R", key_type);
        return -1;
    }
    if (cumulative && *out == KEY_TRACEBACK) {
        PyErr_Format(PyExc_ValueError, "cumulative mode cannot by used with key type %R",
                     key_type);
        return -1;
    }
    return 0;
}

/* Add (size, count) to the group of key (a Traceback). */
static int
sm_group_add(SmGroups *g, PyObject *key, double size, double count)
{
    PyObject *pos = NULL;
    int r = PyDict_GetItemRef(g->index, key, &pos);
    if (r < 0)
        return -1;
    Py_ssize_t i;
    if (r == 0) {
        i = PyList_GET_SIZE(g->keys);
        if (i == g->cap) {
            Py_ssize_t cap = g->cap ? g->cap * 2 : 64;
            double *s = realloc(g->size, (size_t)cap * sizeof(double));
            if (s)
                g->size = s;
            double *c = realloc(g->count, (size_t)cap * sizeof(double));
            if (c)
                g->count = c;
            if (!s || !c) {
                PyErr_NoMemory();
                return -1;
            }
            g->cap = cap;
        }
        pos = PyLong_FromSsize_t(i);
        if (!pos || PyDict_SetItem(g->index, key, pos) < 0 || PyList_Append(g->keys, key) < 0) {
            Py_XDECREF(pos);
            return -1;
        }
        g->size[i] = g->count[i] = 0;
    }
    else
        i = PyLong_AsSsize_t(pos);
    Py_DECREF(pos);
    g->size[i] += size;
    g->count[i] += count;
    return 0;
}

/* The key Traceback for one frame (filename, lineno), cached per frame. */
static PyObject *
sm_frame_key(SmState *st, PyObject *frame, int kind, PyObject *cache)
{
    /* Owned */
    PyObject *res = NULL, *frames = NULL, *fr = NULL, *zero = NULL;
    if (PyDict_GetItemRef(cache, frame, &res) != 0)
        return res;
    if (kind == KEY_LINENO)
        fr = Py_NewRef(frame);
    else {
        PyObject *fn = PySequence_GetItem(frame, 0);
        zero = PyLong_FromLong(0);
        fr = fn && zero ? PyTuple_Pack(2, fn, zero) : NULL;
        Py_XDECREF(fn);
    }
    if (!fr)
        goto error;
    frames = PyTuple_Pack(1, fr);
    if (!frames)
        goto error;
    res = SmTraceback_new(st, frames, NULL);
    if (res && PyDict_SetItem(cache, frame, res) < 0)
        Py_CLEAR(res);
error:
    Py_XDECREF(frames);
    Py_XDECREF(fr);
    Py_XDECREF(zero);
    return res;
}

static int
sm_group(SmSnapshotObject *self, SmState *st, int kind, int cumulative, SmGroups *g)
{
    /* Owned */
    PyObject *cache = NULL;
    double *tsize = NULL, *tcount = NULL;
    int rc = -1;

    memset(g, 0, sizeof(*g));
    Py_ssize_t ntb = PyTuple_GET_SIZE(self->tbs);
    g->index = PyDict_New();
    g->keys = PyList_New(0);
    cache = PyDict_New();
    tsize = calloc((size_t)ntb + 1, sizeof(double));
    tcount = calloc((size_t)ntb + 1, sizeof(double));
    if (!g->index || !g->keys || !cache)
        goto error;
    if (!tsize || !tcount) {
        PyErr_NoMemory();
        goto error;
    }
    /* 1. per traceback: one pass over the C array */
    for (size_t i = 0; i < self->ntraces; i++) {
        const SmTrace *t = &self->traces[i];
        double s, c;
        SmSnapshot_weigh(self, t, &s, &c);
        tsize[t->tb] += s;
        tcount[t->tb] += c;
    }
    /* 2. per key, over the distinct tracebacks */
    for (Py_ssize_t i = 0; i < ntb; i++) {
        if (tcount[i] == 0)
            continue;
        SmTracebackObject *tb = (SmTracebackObject *)PyTuple_GET_ITEM(self->tbs, i);
        Py_ssize_t n = PyTuple_GET_SIZE(tb->frames);
        if (n == 0 && !cumulative && kind != KEY_TRACEBACK) {
            /* only a hand-made Snapshot has one; do what tracemalloc does:
             * 'lineno' keys it by the empty traceback, 'filename' fails */
            if (kind == KEY_FILENAME) {
                PyErr_SetString(PyExc_IndexError, "tuple index out of range");
                goto error;
            }
            PyObject *key = SmTraceback_new(st, tb->frames, NULL);
            int r = key ? sm_group_add(g, key, tsize[i], tcount[i]) : -1;
            Py_XDECREF(key);
            if (r < 0)
                goto error;
            continue;
        }
        if (kind == KEY_TRACEBACK) {
            PyObject *key = SmTraceback_new(st, tb->frames, NULL);
            int r = key ? sm_group_add(g, key, tsize[i], tcount[i]) : -1;
            Py_XDECREF(key);
            if (r < 0)
                goto error;
            continue;
        }
        /* not cumulative: the most recent frame only (the last one stored) */
        for (Py_ssize_t k = cumulative ? 0 : n - 1; k < n; k++) {
            PyObject *key = sm_frame_key(st, PyTuple_GET_ITEM(tb->frames, k), kind, cache);
            int r = key ? sm_group_add(g, key, tsize[i], tcount[i]) : -1;
            Py_XDECREF(key);
            if (r < 0)
                goto error;
        }
    }
    rc = 0;
error:
    if (rc < 0)
        SmGroups_clear(g);
    Py_XDECREF(cache);
    free(tsize);
    free(tcount);
    return rc;
}

static PyObject *
sm_round(double x)
{
    return PyLong_FromDouble(nearbyint(x));
}

/* Sort items (tuples whose last element is the result) by the rest of the
 * tuple, descending, and return the list of results. Keys are distinct
 * (they end with distinct tracebacks), so ascending + reverse equals
 * tracemalloc's sort(reverse=True). */
static PyObject *
sm_sorted_results(PyObject *items)
{
    if (PyList_Sort(items) < 0 || PyList_Reverse(items) < 0)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(items);
    PyObject *res = PyList_New(n);
    if (!res)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyList_GET_ITEM(items, i);
        PyList_SET_ITEM(res, i, Py_NewRef(PyTuple_GET_ITEM(t, PyTuple_GET_SIZE(t) - 1)));
    }
    return res;
}

static PyObject *
Snapshot_statistics(SmSnapshotObject *self, PyObject *args, PyObject *kw)
{
    /* Borrowed */
    PyObject *key_type;
    /* Owned */
    PyObject *items = NULL, *res = NULL;
    SmGroups g = {0};
    int cumulative = 0, kind;
    static char *kwlist[] = {"key_type", "cumulative", NULL};
    SmState *st = SmState_of_type(Py_TYPE(self));

    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "O|p:statistics", kwlist, &key_type,
                                            &cumulative))
        return NULL;
    if (sm_parse_key(key_type, cumulative, &kind) < 0 || sm_group(self, st, kind, cumulative, &g) < 0)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(g.keys);
    items = PyList_New(n);
    if (!items)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *key = PyList_GET_ITEM(g.keys, i);
        PyObject *size = sm_round(g.size[i]), *count = sm_round(g.count[i]);
        PyObject *stat = size && count ? SmStatistic_new(st, key, size, count) : NULL;
        PyObject *t = stat ? PyTuple_Pack(4, size, count, key, stat) : NULL;
        Py_XDECREF(size);
        Py_XDECREF(count);
        Py_XDECREF(stat);
        if (!t)
            goto error;
        PyList_SET_ITEM(items, i, t);
    }
    res = sm_sorted_results(items);
error:
    SmGroups_clear(&g);
    Py_XDECREF(items);
    return res;
}

static PyObject *
sm_diff_item(SmState *st, PyObject *key, double size, double osize, double count, double ocount)
{
    /* Owned */
    PyObject *s = NULL, *sd = NULL, *c = NULL, *cd = NULL, *asd = NULL, *acd = NULL,
             *diff = NULL, *res = NULL;
    double rs = nearbyint(size), rc = nearbyint(count);
    double rsd = rs - nearbyint(osize), rcd = rc - nearbyint(ocount);
    if (!(s = PyLong_FromDouble(rs)) || !(sd = PyLong_FromDouble(rsd)) ||
        !(c = PyLong_FromDouble(rc)) || !(cd = PyLong_FromDouble(rcd)) ||
        !(asd = PyLong_FromDouble(fabs(rsd))) || !(acd = PyLong_FromDouble(fabs(rcd))))
        goto error;
    diff = SmStatisticDiff_new(st, key, s, sd, c, cd);
    if (!diff)
        goto error;
    res = PyTuple_Pack(6, asd, s, acd, c, key, diff);
error:
    Py_XDECREF(s);
    Py_XDECREF(sd);
    Py_XDECREF(c);
    Py_XDECREF(cd);
    Py_XDECREF(asd);
    Py_XDECREF(acd);
    Py_XDECREF(diff);
    return res;
}

static PyObject *
Snapshot_compare_to(SmSnapshotObject *self, PyObject *args, PyObject *kw)
{
    /* Borrowed */
    PyObject *old, *key_type;
    /* Owned */
    PyObject *items = NULL, *res = NULL;
    SmGroups gn = {0}, go = {0};
    int cumulative = 0, kind;
    char *seen = NULL;
    static char *kwlist[] = {"old_snapshot", "key_type", "cumulative", NULL};
    SmState *st = SmState_of_type(Py_TYPE(self));

    if (!st || !PyArg_ParseTupleAndKeywords(args, kw, "O!O|p:compare_to", kwlist, st->Snapshot,
                                            &old, &key_type, &cumulative))
        return NULL;
    if (sm_parse_key(key_type, cumulative, &kind) < 0 ||
        sm_group(self, st, kind, cumulative, &gn) < 0 ||
        sm_group((SmSnapshotObject *)old, st, kind, cumulative, &go) < 0)
        goto error;
    items = PyList_New(0);
    seen = calloc((size_t)PyList_GET_SIZE(go.keys) + 1, 1);
    if (!items)
        goto error;
    if (!seen) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(gn.keys); i++) {
        PyObject *key = PyList_GET_ITEM(gn.keys, i), *pos = NULL;
        double os = 0, oc = 0;
        int r = PyDict_GetItemRef(go.index, key, &pos);
        if (r < 0)
            goto error;
        if (r) {
            Py_ssize_t j = PyLong_AsSsize_t(pos);
            Py_DECREF(pos);
            seen[j] = 1;
            os = go.size[j];
            oc = go.count[j];
        }
        PyObject *t = sm_diff_item(st, key, gn.size[i], os, gn.count[i], oc);
        if (!t || PyList_Append(items, t) < 0) {
            Py_XDECREF(t);
            goto error;
        }
        Py_DECREF(t);
    }
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(go.keys); j++) {
        if (seen[j])
            continue;
        PyObject *t = sm_diff_item(st, PyList_GET_ITEM(go.keys, j), 0, go.size[j], 0, go.count[j]);
        if (!t || PyList_Append(items, t) < 0) {
            Py_XDECREF(t);
            goto error;
        }
        Py_DECREF(t);
    }
    res = sm_sorted_results(items);
error:
    free(seen);
    SmGroups_clear(&gn);
    SmGroups_clear(&go);
    Py_XDECREF(items);
    return res;
}

/* ------------------------------------------------------------------------ */
/* filter_traces                                                            */

typedef struct {
    int inclusive;
    int is_domain;     /* DomainFilter */
    PyObject *domain;  /* owned */
    char *tbmatch;     /* per traceback: _match_traceback() result */
    long last_dom;     /* one-entry cache of the domain comparison */
    int last_eq;
    PyObject *match;   /* owned: the filter's bound _match, when it is called per
                        * trace (a filter that is not exactly Filter or
                        * DomainFilter: a subclass or another class), else NULL */
} SmFilt;

static int
sm_fnmatch(PyObject *fnmatch, PyObject *cache, PyObject *filename, PyObject *pattern)
{
    PyObject *r = NULL;
    int res = PyDict_GetItemRef(cache, filename, &r);
    if (res == 0) {
        PyObject *norm = NULL;
        Py_ssize_t tail = 0;
        PyObject *pyc = PyUnicode_FromString(".pyc");
        if (pyc && PyUnicode_Check(filename))
            tail = PyUnicode_Tailmatch(filename, pyc, 0, PY_SSIZE_T_MAX, 1);
        Py_XDECREF(pyc);
        if (!pyc || tail < 0)
            return -1;
        norm = tail ? PyUnicode_Substring(filename, 0, PyUnicode_GET_LENGTH(filename) - 1)
                    : Py_NewRef(filename);
        if (!norm)
            return -1;
        r = PyObject_CallFunctionObjArgs(fnmatch, norm, pattern, NULL);
        Py_DECREF(norm);
        if (!r || PyDict_SetItem(cache, filename, r) < 0) {
            Py_XDECREF(r);
            return -1;
        }
    }
    else if (res < 0)
        return -1;
    res = PyObject_IsTrue(r);
    Py_DECREF(r);
    return res;
}

/* _match_frame_impl(filename, lineno) */
static int
sm_frame_impl(PyObject *fnmatch, PyObject *cache, PyObject *flt, PyObject *pattern,
              PyObject *lineno, PyObject *frame)
{
    SLEUTH_UNUSED(flt);
    PyObject *fn = PySequence_GetItem(frame, 0);
    if (!fn)
        return -1;
    int m = sm_fnmatch(fnmatch, cache, fn, pattern);
    Py_DECREF(fn);
    if (m <= 0 || lineno == Py_None)
        return m;
    PyObject *ln = PySequence_GetItem(frame, 1);
    if (!ln)
        return -1;
    m = PyObject_RichCompareBool(ln, lineno, Py_EQ);
    Py_DECREF(ln);
    return m;
}

static int
sm_prepare_filter(SmState *st, SmSnapshotObject *self, PyObject *fnmatch, PyObject *flt,
                  SmFilt *f)
{
    /* Owned */
    PyObject *incl = NULL, *pattern = NULL, *lineno = NULL, *allf = NULL, *cache = NULL;
    int rc = -1;

    memset(f, 0, sizeof(*f));
    f->last_dom = -1;
    if (!(incl = PyObject_GetAttrString(flt, "inclusive")))
        goto error;
    if ((f->inclusive = PyObject_IsTrue(incl)) < 0)
        goto error;
    /* tracemalloc calls each filter's _match(trace): a subclass may override
     * it (or _match_traceback, _match_frame_impl, ...). Exactly Filter and
     * DomainFilter are matched here in C, once per traceback; an object
     * without _match is read through its attributes as before. */
    if (!Py_IS_TYPE(flt, st->Filter) && !Py_IS_TYPE(flt, st->DomainFilter)) {
        int has_match = PyObject_GetOptionalAttrString(flt, "_match", &f->match);
        if (has_match < 0)
            goto error;
        if (has_match) {
            rc = 0;
            goto error;
        }
    }
    int has = PyObject_GetOptionalAttrString(flt, "filename_pattern", &pattern);
    if (has < 0)
        goto error;
    if (!(f->domain = PyObject_GetAttrString(flt, "domain")))
        goto error;
    if (!has) {
        f->is_domain = 1;
        rc = 0;
        goto error;
    }
    if (!(lineno = PyObject_GetAttrString(flt, "lineno")) ||
        !(allf = PyObject_GetAttrString(flt, "all_frames")) || !(cache = PyDict_New()))
        goto error;
    int all = PyObject_IsTrue(allf);
    if (all < 0)
        goto error;
    Py_ssize_t ntb = PyTuple_GET_SIZE(self->tbs);
    f->tbmatch = malloc((size_t)ntb + 1);
    if (!f->tbmatch) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < ntb; i++) {
        PyObject *frames = ((SmTracebackObject *)PyTuple_GET_ITEM(self->tbs, i))->frames;
        Py_ssize_t n = PyTuple_GET_SIZE(frames);
        int m;
        if (all) {
            int any = 0;
            for (Py_ssize_t k = n - 1; k >= 0 && !any; k--) {
                any = sm_frame_impl(fnmatch, cache, flt, pattern, lineno, PyTuple_GET_ITEM(frames, k));
                if (any < 0)
                    goto error;
            }
            m = any ? f->inclusive : !f->inclusive;
        }
        else {
            if (n == 0) {
                PyErr_SetString(PyExc_IndexError, "empty traceback");
                goto error;
            }
            m = sm_frame_impl(fnmatch, cache, flt, pattern, lineno, PyTuple_GET_ITEM(frames, n - 1));
            if (m < 0)
                goto error;
            m = m ^ !f->inclusive;
        }
        f->tbmatch[i] = (char)m;
    }
    rc = 0;
error:
    Py_XDECREF(incl);
    Py_XDECREF(pattern);
    Py_XDECREF(lineno);
    Py_XDECREF(allf);
    Py_XDECREF(cache);
    return rc;
}

/* domain == f->domain, for a trace domain */
static int
sm_domain_eq(SmFilt *f, uint32_t d)
{
    if ((long)d == f->last_dom)
        return f->last_eq;
    PyObject *o = PyLong_FromUnsignedLong(d);
    if (!o)
        return -1;
    int r = PyObject_RichCompareBool(o, f->domain, Py_EQ);
    Py_DECREF(o);
    if (r >= 0) {
        f->last_dom = (long)d;
        f->last_eq = r;
    }
    return r;
}

/* tracemalloc's raw trace (domain, size, traceback, total_nframe), the
 * traceback a tuple of (filename, lineno) most recent first; raw_tbs[tb]
 * caches each traceback's tuple (owned). */
static PyObject *
sm_raw_trace(SmSnapshotObject *self, const SmTrace *t, PyObject **raw_tbs)
{
    SmTracebackObject *tbo = (SmTracebackObject *)PyTuple_GET_ITEM(self->tbs, t->tb);
    if (!raw_tbs[t->tb]) {
        Py_ssize_t n = PyTuple_GET_SIZE(tbo->frames);
        PyObject *raw = PyTuple_New(n);
        if (!raw)
            return NULL;
        for (Py_ssize_t i = 0; i < n; i++)
            PyTuple_SET_ITEM(raw, i, Py_NewRef(PyTuple_GET_ITEM(tbo->frames, n - 1 - i)));
        raw_tbs[t->tb] = raw;
    }
    if (tbo->total_nframe && tbo->total_nframe != Py_None)
        return Py_BuildValue("(kKOO)", (unsigned long)t->domain, (unsigned long long)t->size,
                             raw_tbs[t->tb], tbo->total_nframe);
    return Py_BuildValue("(kKOn)", (unsigned long)t->domain, (unsigned long long)t->size,
                         raw_tbs[t->tb], PyTuple_GET_SIZE(tbo->frames));
}

/* f->match(trace): tracemalloc's _match for a filter of another type */
static int
sm_filter_match_py(SmFilt *f, SmSnapshotObject *self, const SmTrace *t, PyObject **raw_tbs)
{
    PyObject *raw = sm_raw_trace(self, t, raw_tbs);
    if (!raw)
        return -1;
    PyObject *r = PyObject_CallOneArg(f->match, raw);
    Py_DECREF(raw);
    if (!r)
        return -1;
    int m = PyObject_IsTrue(r);
    Py_DECREF(r);
    return m;
}

/* Filter._match / DomainFilter._match */
static int
sm_filter_match(SmFilt *f, const SmTrace *t)
{
    if (f->is_domain) {
        int eq = sm_domain_eq(f, t->domain);
        return eq < 0 ? -1 : eq ^ !f->inclusive;
    }
    int res = f->tbmatch[t->tb];
    if (f->domain == Py_None)
        return res;
    int eq = sm_domain_eq(f, t->domain);
    if (eq < 0)
        return -1;
    return f->inclusive ? (res && eq) : (res || !eq);
}

static PyObject *
Snapshot_filter_traces(SmSnapshotObject *self, PyObject *filters)
{
    /* Owned */
    PyObject *list = NULL, *it = NULL, *fnmod = NULL, *fnmatch = NULL, *res = NULL;
    SmFilt *fs = NULL;
    SmTrace *out = NULL;
    PyObject **raw_tbs = NULL;     /* owned items: sm_raw_trace's cache */
    Py_ssize_t nf = 0, ntbs = 0;
    SmState *st = SmState_of_type(Py_TYPE(self));

    if (!st)
        return NULL;
    it = PyObject_GetIter(filters);
    if (!it) {
        PyErr_Format(PyExc_TypeError, "filters must be a list of filters, not %s",
                     Py_TYPE(filters)->tp_name);
        return NULL;
    }
    list = PySequence_List(it);
    if (!list)
        goto error;
    nf = PyList_GET_SIZE(list);
    fnmod = PyImport_ImportModule("fnmatch");
    if (!fnmod || !(fnmatch = PyObject_GetAttrString(fnmod, "fnmatch")))
        goto error;
    fs = calloc((size_t)nf + 1, sizeof(SmFilt));
    out = malloc((self->ntraces + 1) * sizeof(SmTrace));
    if (!fs || !out) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t k = 0; k < nf; k++) {
        if (sm_prepare_filter(st, self, fnmatch, PyList_GET_ITEM(list, k), &fs[k]) < 0)
            goto error;
        if (fs[k].match && !raw_tbs) {
            ntbs = PyTuple_GET_SIZE(self->tbs);
            raw_tbs = calloc((size_t)ntbs + 1, sizeof(PyObject *));
            if (!raw_tbs) {
                PyErr_NoMemory();
                goto error;
            }
        }
    }
    size_t n = 0;
    int have_incl = 0;
    for (Py_ssize_t k = 0; k < nf; k++)
        have_incl |= fs[k].inclusive;
    for (size_t i = 0; i < self->ntraces; i++) {
        const SmTrace *t = &self->traces[i];
        int keep = 1, any = 0;
        for (Py_ssize_t k = 0; k < nf && keep; k++) {
            int m = fs[k].match ? sm_filter_match_py(&fs[k], self, t, raw_tbs)
                                : sm_filter_match(&fs[k], t);
            if (m < 0)
                goto error;
            if (fs[k].inclusive)
                any |= m;
            else if (!m)
                keep = 0;
        }
        if (have_incl && !any)
            keep = 0;
        if (keep)
            out[n++] = *t;
    }
    res = SmSnapshot_new_raw(st, out, n, self->tbs, self->limit, self->sample);
    out = NULL;
error:
    if (fs)
        for (Py_ssize_t k = 0; k < nf; k++) {
            free(fs[k].tbmatch);
            Py_XDECREF(fs[k].domain);
            Py_XDECREF(fs[k].match);
        }
    if (raw_tbs)
        for (Py_ssize_t i = 0; i < ntbs; i++)
            Py_XDECREF(raw_tbs[i]);
    free(raw_tbs);
    free(fs);
    free(out);
    Py_XDECREF(list);
    Py_XDECREF(it);
    Py_XDECREF(fnmod);
    Py_XDECREF(fnmatch);
    return res;
}

/* ------------------------------------------------------------------------ */
/* the traces sequence                                                      */

static PyObject *
Snapshot_traces(SmSnapshotObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    SmState *st = SmState_of_type(Py_TYPE(self));
    if (!st)
        return NULL;
    SmTracesObject *t = (SmTracesObject *)st->Traces->tp_alloc(st->Traces, 0);
    if (!t)
        return NULL;
    t->snap = (SmSnapshotObject *)Py_NewRef(self);
    return (PyObject *)t;
}

static PyObject *
Snapshot_sample(SmSnapshotObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    if (self->sample <= 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(self->sample);
}

static PyObject *
Snapshot_repr(SmSnapshotObject *self)
{
    return PyUnicode_FromFormat("<sleuth.memory.Snapshot traces=%zu traceback_limit=%S>",
                                self->ntraces, self->limit);
}

static PyMemberDef Snapshot_members[] = {
    {"traceback_limit", T_OBJECT_EX, offsetof(SmSnapshotObject, limit), 0, NULL},
    {"__dictoffset__", T_PYSSIZET, offsetof(SmSnapshotObject, dict), READONLY, NULL},
    {NULL},
};

static PyGetSetDef Snapshot_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {"traces", (getter)Snapshot_traces, NULL, "Sequence of Trace instances.", NULL},
    {"sample", (getter)Snapshot_sample, NULL,
     "Mean sampling gap in bytes, or None for an exact snapshot.", NULL},
    {NULL},
};

static PyMethodDef Snapshot_methods[] = {
    {"statistics", (PyCFunction)(void (*)(void))Snapshot_statistics, METH_VARARGS | METH_KEYWORDS,
     "statistics($self, /, key_type, cumulative=False)\n--\n\n"
     "Statistic instances grouped by key_type ('traceback', 'filename', 'lineno'), biggest first."},
    {"compare_to", (PyCFunction)(void (*)(void))Snapshot_compare_to, METH_VARARGS | METH_KEYWORDS,
     "compare_to($self, /, old_snapshot, key_type, cumulative=False)\n--\n\n"
     "StatisticDiff instances against an older snapshot, biggest change first."},
    {"filter_traces", (PyCFunction)Snapshot_filter_traces, METH_O,
     "filter_traces($self, filters, /)\n--\n\nA new Snapshot keeping the traces the filters select."},
    {"dump", (PyCFunction)SmSnapshot_dump_py, METH_O,
     "dump($self, filename, /)\n--\n\nWrite the snapshot to a file (data only; see docs/memory.md)."},
    {"load", (PyCFunction)SmSnapshot_load_py, METH_O | METH_CLASS,
     "load(filename, /)\n--\n\nRead a snapshot written by dump()."},
    {NULL},
};

static PyType_Slot Snapshot_slots[] = {
    {Py_tp_doc, "Snapshot(traces, traceback_limit)\n--\n\n"
                "Snapshot of traces of memory blocks allocated by Python."},
    {Py_tp_new, Snapshot_new},
    {Py_tp_dealloc, Snapshot_dealloc},
    {Py_tp_traverse, Snapshot_traverse},
    {Py_tp_clear, Snapshot_clear},
    {Py_tp_repr, Snapshot_repr},
    {Py_tp_members, Snapshot_members},
    {Py_tp_getset, Snapshot_getset},
    {Py_tp_methods, Snapshot_methods},
    {0, NULL},
};

static PyType_Spec Snapshot_spec = {
    "sleuth.memory.Snapshot", sizeof(SmSnapshotObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC, Snapshot_slots,
};

static Py_ssize_t
Traces_len(SmTracesObject *self)
{
    return (Py_ssize_t)self->snap->ntraces;
}

static PyObject *
Traces_item(SmTracesObject *self, Py_ssize_t i)
{
    /* Owned */
    PyObject *dom = NULL, *size = NULL, *res = NULL;
    SmState *st = SmState_of_type(Py_TYPE(self));
    if (!st)
        return NULL;
    if (i < 0 || (size_t)i >= self->snap->ntraces) {
        PyErr_SetString(PyExc_IndexError, "tuple index out of range");
        return NULL;
    }
    const SmTrace *t = &self->snap->traces[i];
    double s, c;
    SmSnapshot_weigh(self->snap, t, &s, &c);
    dom = PyLong_FromUnsignedLong(t->domain);
    size = self->snap->sample > 0 ? sm_round(s) : PyLong_FromUnsignedLongLong(t->size);
    if (dom && size)
        res = SmTrace_new(st, dom, size, PyTuple_GET_ITEM(self->snap->tbs, t->tb));
    Py_XDECREF(dom);
    Py_XDECREF(size);
    return res;
}

static PyObject *
Traces_subscript(SmTracesObject *self, PyObject *key)
{
    Py_ssize_t n = (Py_ssize_t)self->snap->ntraces;
    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0)
            return NULL;
        Py_ssize_t len = PySlice_AdjustIndices(n, &start, &stop, step);
        PyObject *res = PyTuple_New(len);
        if (!res)
            return NULL;
        for (Py_ssize_t k = 0, i = start; k < len; k++, i += step) {
            PyObject *t = Traces_item(self, i);
            if (!t) {
                Py_DECREF(res);
                return NULL;
            }
            PyTuple_SET_ITEM(res, k, t);
        }
        return res;
    }
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (i < 0)
        i += n;
    return Traces_item(self, i);
}

/* tracemalloc's _Traces compare equal when their trace tuples do: same
 * length, and trace by trace the same domain, size and traceback (so a
 * snapshot read back by load() equals the one dump() wrote). */
static PyObject *
Traces_richcompare(PyObject *a, PyObject *b, int op)
{
    SmState *st = SmState_of_type(Py_TYPE(a));
    SmSnapshotObject *x, *y;
    int equal = 1;

    if (!st)
        return NULL;
    if ((op != Py_EQ && op != Py_NE) || !PyObject_TypeCheck(b, st->Traces))
        Py_RETURN_NOTIMPLEMENTED;
    x = ((SmTracesObject *)a)->snap;
    y = ((SmTracesObject *)b)->snap;
    if (x != y) {
        if (x->ntraces != y->ntraces)
            equal = 0;
        for (size_t i = 0; equal && i < x->ntraces; i++) {
            const SmTrace *s = &x->traces[i], *t = &y->traces[i];
            PyObject *tb1 = PyTuple_GET_ITEM(x->tbs, s->tb);
            PyObject *tb2 = PyTuple_GET_ITEM(y->tbs, t->tb);
            if (s->domain != t->domain) {
                equal = 0;
                break;
            }
            if (x->sample > 0 || y->sample > 0) {
                /* Sizes as the traces show them (scaled by the sampling). */
                PyObject *u = Traces_item((SmTracesObject *)a, (Py_ssize_t)i);
                PyObject *v = u ? Traces_item((SmTracesObject *)b, (Py_ssize_t)i) : NULL;
                int r = v ? PyObject_RichCompareBool(u, v, Py_EQ) : -1;
                Py_XDECREF(u);
                Py_XDECREF(v);
                if (r < 0)
                    return NULL;
                equal = r;
                continue;
            }
            if (s->size != t->size) {
                equal = 0;
                break;
            }
            if (tb1 != tb2) {
                int r = PyObject_RichCompareBool(tb1, tb2, Py_EQ);
                if (r < 0)
                    return NULL;
                equal = r;
            }
        }
    }
    return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

/* _traces: tracemalloc's private list of raw traces (domain, size,
 * traceback most recent first, total_nframe), a new list on each read;
 * code written for tracemalloc (and CPython's own tests) reads it. */
static PyObject *
Traces_raw(SmTracesObject *self, void *closure)
{
    SmSnapshotObject *snap = self->snap;
    /* Owned */
    PyObject *list = NULL, **raw_tbs = NULL;
    Py_ssize_t ntbs = PyTuple_GET_SIZE(snap->tbs);

    SLEUTH_UNUSED(closure);
    raw_tbs = calloc((size_t)ntbs + 1, sizeof(PyObject *));
    if (!raw_tbs)
        return PyErr_NoMemory();
    list = PyList_New((Py_ssize_t)snap->ntraces);
    for (size_t i = 0; list && i < snap->ntraces; i++) {
        const SmTrace *t = &snap->traces[i];
        PyObject *raw = sm_raw_trace(snap, t, raw_tbs);
        if (raw && snap->sample > 0) {
            /* The estimated size, as Trace.size says. */
            double sz, count;
            SmSnapshot_weigh(snap, t, &sz, &count);
            PyObject *est = sm_round(sz);
            if (!est) {
                Py_CLEAR(raw);
            }
            else {
                /* raw is a new tuple of ours: its item may be replaced */
                PyObject *exact = PyTuple_GET_ITEM(raw, 1);
                PyTuple_SET_ITEM(raw, 1, est);
                Py_DECREF(exact);
            }
        }
        if (!raw)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, raw);
    }
    for (Py_ssize_t i = 0; i < ntbs; i++)
        Py_XDECREF(raw_tbs[i]);
    free(raw_tbs);
    return list;
}

static PyGetSetDef Traces_getset[] = {
    {"_traces", (getter)Traces_raw, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyObject *
Traces_repr(SmTracesObject *self)
{
    return PyUnicode_FromFormat("<Traces len=%zu>", self->snap->ntraces);
}

static void
Traces_dealloc(SmTracesObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_CLEAR(self->snap);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot Traces_slots[] = {
    {Py_tp_doc, "Sequence of Trace instances of a Snapshot."},
    {Py_tp_dealloc, Traces_dealloc},
    {Py_tp_repr, Traces_repr},
    {Py_tp_richcompare, Traces_richcompare},
    {Py_tp_getset, Traces_getset},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_sq_length, Traces_len},
    {Py_sq_item, Traces_item},
    {Py_mp_length, Traces_len},
    {Py_mp_subscript, Traces_subscript},
    {0, NULL},
};

static PyType_Spec Traces_spec = {
    "sleuth.memory._Traces", sizeof(SmTracesObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_SEQUENCE |
        Py_TPFLAGS_DISALLOW_INSTANTIATION, Traces_slots,
};

int
SmSnapshot_add_types(PyObject *m, SmState *st)
{
    st->Snapshot = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Snapshot_spec, NULL);
    if (!st->Snapshot || PyModule_AddType(m, st->Snapshot) < 0)
        return -1;
    st->Traces = (PyTypeObject *)PyType_FromModuleAndSpec(m, &Traces_spec, NULL);
    if (!st->Traces)
        return -1;
    return 0;
}
