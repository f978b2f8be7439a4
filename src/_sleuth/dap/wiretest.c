/* wiretest.c — test-only wrappers around jsonr, jsonw, dapwire, dapcaps. */
#include "wiretest.h"
#include "dapcaps.h"
#include "dapwire.h"
#include "jsonr.h"
#include "jsonw.h"
#include <errno.h>
#include <pthread.h>

/* _json_loads(data, max_size=-1, max_depth=-1, max_string=-1, max_number=-1):
 * data is bytes or str; a negative limit keeps the default. */
PyObject *
WireTest_json_loads_py(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"data", "max_size", "max_depth", "max_string", "max_number", NULL};
    PyObject *data;                 /* borrowed */
    Py_ssize_t max_size = -1, max_string = -1;
    int max_depth = -1, max_number = -1;
    JsonRLimits lim = JsonR_default_limits;
    const char *s;
    Py_ssize_t n;

    SLEUTH_UNUSED(module);
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|nini:_json_loads", kwlist, &data,
                                     &max_size, &max_depth, &max_string, &max_number))
        return NULL;
    if (max_size >= 0) lim.max_size = max_size;
    if (max_depth >= 0) lim.max_depth = max_depth;
    if (max_string >= 0) lim.max_string = max_string;
    if (max_number >= 0) lim.max_number = max_number;
    if (PyBytes_Check(data)) {
        s = PyBytes_AS_STRING(data);
        n = PyBytes_GET_SIZE(data);
    }
    else if (PyUnicode_Check(data)) {
        s = PyUnicode_AsUTF8AndSize(data, &n);
        if (!s)
            return NULL;
    }
    else {
        PyErr_SetString(PyExc_TypeError, "_json_loads() needs bytes or str");
        return NULL;
    }
    return JsonR_parse(s, n, &lim);
}

PyObject *
WireTest_json_dumps_py(PyObject *module, PyObject *obj)
{
    JsonW w;
    PyObject *res = NULL;

    SLEUTH_UNUSED(module);
    JsonW_init(&w);
    if (JsonW_obj(&w, obj) == 0)
        res = JsonW_finish_bytes(&w);
    JsonW_free(&w);
    return res;
}

/* _wire_read_all(fd) -> [(kind, payload)]: reads messages until the end of
 * input or a fatal error. kind is "message" (payload: bytes), "bad" or
 * "fatal" (payload: the reason), or "eof" (payload None). */
PyObject *
WireTest_read_all_py(PyObject *module, PyObject *fdobj)
{
    /* Owned */
    PyObject *out = NULL, *item = NULL;
    DapReader *r = NULL;
    int fd = PyObject_AsFileDescriptor(fdobj);

    SLEUTH_UNUSED(module);
    if (fd < 0)
        return NULL;
    r = PyMem_RawMalloc(sizeof *r);
    out = PyList_New(0);
    if (!r || !out) {
        PyErr_NoMemory();
        goto error;
    }
    DapReader_init(r, fd);
    for (;;) {
        char *body = NULL, err[200];
        size_t len = 0;
        DapWireStatus st;
        Py_BEGIN_ALLOW_THREADS
        st = DapWire_read(r, &body, &len, err, sizeof err);
        Py_END_ALLOW_THREADS
        switch (st) {
        case DAPWIRE_MSG:
            item = Py_BuildValue("(sy#)", "message", body, (Py_ssize_t)len);
            free(body);
            break;
        case DAPWIRE_EOF:
            item = Py_BuildValue("(sO)", "eof", Py_None);
            break;
        case DAPWIRE_BAD:
            item = Py_BuildValue("(ss)", "bad", err);
            break;
        default:
            item = Py_BuildValue("(ss)", "fatal", err);
        }
        if (!item || PyList_Append(out, item) < 0)
            goto error;
        Py_CLEAR(item);
        if (st == DAPWIRE_EOF || st == DAPWIRE_FATAL)
            break;
    }
    PyMem_RawFree(r);
    return out;
error:
    PyMem_RawFree(r);
    Py_XDECREF(item);
    Py_XDECREF(out);
    return NULL;
}

/* _wire_write(fd, body: bytes) */
PyObject *
WireTest_write_py(PyObject *module, PyObject *args)
{
    int fd, rc;
    Py_buffer body;
    DapWriter w;

    SLEUTH_UNUSED(module);
    if (!PyArg_ParseTuple(args, "iy*:_wire_write", &fd, &body))
        return NULL;
    if (DapWriter_init(&w, fd) < 0) {
        PyBuffer_Release(&body);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_BEGIN_ALLOW_THREADS
    rc = DapWire_write(&w, body.buf, (size_t)body.len);
    Py_END_ALLOW_THREADS
    DapWriter_fini(&w);
    PyBuffer_Release(&body);
    if (rc < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    Py_RETURN_NONE;
}

/* _wire_write_threads(fd, bodies, nthreads): nthreads C threads write the
 * bodies (thread k takes bodies k, k+n, ...) through one shared writer, with
 * the GIL released: shows that the writer's lock keeps messages whole. */
typedef struct {
    DapWriter *w;
    char **bodies;
    size_t *lens;
    Py_ssize_t count, first, step;
    int failed;
} WriteJob;

static void *
write_job(void *arg)
{
    WriteJob *j = arg;
    for (Py_ssize_t i = j->first; i < j->count; i += j->step)
        if (DapWire_write(j->w, j->bodies[i], j->lens[i]) < 0)
            j->failed = errno;
    return NULL;
}

PyObject *
WireTest_write_threads_py(PyObject *module, PyObject *args)
{
    int fd, nthreads, failed = 0;
    PyObject *list;                 /* borrowed */
    DapWriter w;
    char **bodies = NULL;
    size_t *lens = NULL;
    WriteJob jobs[16];
    pthread_t tids[16];
    Py_ssize_t n;

    SLEUTH_UNUSED(module);
    if (!PyArg_ParseTuple(args, "iO!i:_wire_write_threads", &fd, &PyList_Type, &list, &nthreads))
        return NULL;
    if (nthreads < 1 || nthreads > 16) {
        PyErr_SetString(PyExc_ValueError, "1 to 16 threads");
        return NULL;
    }
    n = PyList_GET_SIZE(list);
    bodies = PyMem_Calloc((size_t)n + 1, sizeof *bodies);
    lens = PyMem_Calloc((size_t)n + 1, sizeof *lens);
    if (!bodies || !lens) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *b = PyList_GET_ITEM(list, i);
        if (!PyBytes_Check(b)) {
            PyErr_SetString(PyExc_TypeError, "bodies must be bytes");
            goto done;
        }
        bodies[i] = PyBytes_AS_STRING(b);       /* the list keeps them alive */
        lens[i] = (size_t)PyBytes_GET_SIZE(b);
    }
    if (DapWriter_init(&w, fd) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (int k = 0; k < nthreads; k++) {
        jobs[k] = (WriteJob){&w, bodies, lens, n, k, nthreads, 0};
        pthread_create(&tids[k], NULL, write_job, &jobs[k]);
    }
    for (int k = 0; k < nthreads; k++) {
        pthread_join(tids[k], NULL);
        if (jobs[k].failed)
            failed = jobs[k].failed;
    }
    Py_END_ALLOW_THREADS
    DapWriter_fini(&w);
    if (failed) {
        errno = failed;
        PyErr_SetFromErrno(PyExc_OSError);
    }
done:
    PyMem_Free(bodies);
    PyMem_Free(lens);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

PyObject *
WireTest_capabilities_py(PyObject *module, PyObject *unused)
{
    SLEUTH_UNUSED(module);
    SLEUTH_UNUSED(unused);
    return DapCaps_body();
}
