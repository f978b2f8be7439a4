/* api.c — Python-facing wrappers of the tracer (tracemalloc's functions). */
#include <math.h>
#include "api.h"
#include "tracer.h"
#include "snapshot.h"

static PyObject *
Api_start(PyObject *m, PyObject *args, PyObject *kw)
{
    int nframe = 1;
    PyObject *sample = Py_None, *seed = Py_None, *reuse_arg = Py_None;
    int reuse = -1;     /* default: SmTracer_start decides */
    double gap = 0;
    unsigned long long sd = 0;
    static char *kwlist[] = {"nframe", "sample", "seed", "reuse", NULL};
    SLEUTH_UNUSED(m);

    if (!PyArg_ParseTupleAndKeywords(args, kw, "|i$OOO:start", kwlist, &nframe, &sample, &seed,
                                     &reuse_arg))
        return NULL;
    if (reuse_arg != Py_None) {
        reuse = PyObject_IsTrue(reuse_arg);
        if (reuse < 0)
            return NULL;
    }
    if (sample != Py_None) {
        gap = PyFloat_AsDouble(sample);
        if (gap == -1.0 && PyErr_Occurred())
            return NULL;
        if (!(gap >= 1.0) || !isfinite(gap)) {
            PyErr_SetString(PyExc_ValueError, "sample must be a mean gap of at least 1 byte");
            return NULL;
        }
    }
    if (seed != Py_None) {
        PyObject *mask = PyLong_FromUnsignedLongLong(UINT64_MAX);
        PyObject *masked = mask ? PyNumber_And(seed, mask) : NULL;
        Py_XDECREF(mask);
        if (!masked)
            return NULL;
        sd = PyLong_AsUnsignedLongLong(masked);
        Py_DECREF(masked);
        if (sd == (unsigned long long)-1 && PyErr_Occurred())
            return NULL;
    }
    if (SmTracer_start(nframe, gap, sd, seed != Py_None, reuse) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Api_stop(PyObject *m, PyObject *unused)
{
    SLEUTH_UNUSED(m);
    SLEUTH_UNUSED(unused);
    if (SmTracer_stop() < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Api_is_tracing(PyObject *m, PyObject *unused)
{
    SLEUTH_UNUSED(m);
    SLEUTH_UNUSED(unused);
    return PyBool_FromLong(SmTracer_is_tracing());
}

static PyObject *
Api_clear_traces(PyObject *m, PyObject *unused)
{
    SLEUTH_UNUSED(m);
    SLEUTH_UNUSED(unused);
    SmTracer_clear();
    Py_RETURN_NONE;
}

static PyObject *
Api_get_traceback_limit(PyObject *m, PyObject *unused)
{
    SLEUTH_UNUSED(m);
    SLEUTH_UNUSED(unused);
    return PyLong_FromLong(SmTracer_limit());
}

static PyObject *
Api_get_traced_memory(PyObject *m, PyObject *unused)
{
    double cur, peak;
    SLEUTH_UNUSED(m);
    SLEUTH_UNUSED(unused);
    SmTracer_traced_memory(&cur, &peak);
    return Py_BuildValue("(NN)", PyLong_FromDouble(nearbyint(cur)),
                         PyLong_FromDouble(nearbyint(peak)));
}

static PyObject *
Api_reset_peak(PyObject *m, PyObject *unused)
{
    SLEUTH_UNUSED(m);
    SLEUTH_UNUSED(unused);
    SmTracer_reset_peak();
    Py_RETURN_NONE;
}

static PyObject *
Api_get_tracemalloc_memory(PyObject *m, PyObject *unused)
{
    SLEUTH_UNUSED(m);
    SLEUTH_UNUSED(unused);
    return PyLong_FromSize_t(SmTracer_own_memory());
}

static PyObject *
Api_get_sample(PyObject *m, PyObject *unused)
{
    SLEUTH_UNUSED(m);
    SLEUTH_UNUSED(unused);
    double s = SmTracer_sample();
    if (s <= 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble(s);
}

/* tracemalloc's is a Python function: get_object_traceback(obj=x) works too. */
static PyObject *
Api_get_object_traceback(PyObject *m, PyObject *args, PyObject *kw)
{
    PyObject *obj;
    static char *kwlist[] = {"obj", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O:get_object_traceback", kwlist, &obj))
        return NULL;
    return SmSnapshot_object_traceback_py(m, obj);
}

PyMethodDef SmApi_methods[] = {
    {"start", (PyCFunction)(void (*)(void))Api_start, METH_VARARGS | METH_KEYWORDS,
     "start(nframe=1, *, sample=None, seed=None, reuse=None)\n--\n\n"
     "Start tracing Python memory allocations, keeping nframe frames per traceback.\n"
     "sample=BYTES records a Poisson sample with that mean gap instead of every block;\n"
     "seed makes the sampling reproducible. reuse=True (Python 3.13+, exact mode) gives\n"
     "an object reused from a free list the traceback of its creation, as tracemalloc\n"
     "does, instead of its block's allocation; reuse=None (the default) does so where\n"
     "it can: 3.13+, exact mode, the interpreter's reference tracer free."},
    {"stop", Api_stop, METH_NOARGS,
     "stop($module, /)\n--\n\nStop tracing and clear the traces; removes the allocator hooks."},
    {"is_tracing", Api_is_tracing, METH_NOARGS,
     "is_tracing($module, /)\n--\n\nTrue if sleuth.memory is tracing memory allocations."},
    {"clear_traces", Api_clear_traces, METH_NOARGS,
     "clear_traces($module, /)\n--\n\nForget all traces (and the peak)."},
    {"get_traceback_limit", Api_get_traceback_limit, METH_NOARGS,
     "get_traceback_limit($module, /)\n--\n\nMaximum number of frames stored per traceback."},
    {"get_traced_memory", Api_get_traced_memory, METH_NOARGS,
     "get_traced_memory($module, /)\n--\n\n(current, peak) size of traced blocks in bytes."},
    {"reset_peak", Api_reset_peak, METH_NOARGS,
     "reset_peak($module, /)\n--\n\nSet the peak to the current traced size."},
    {"get_tracemalloc_memory", Api_get_tracemalloc_memory, METH_NOARGS,
     "get_tracemalloc_memory($module, /)\n--\n\nBytes the tracer uses for its own tables."},
    {"get_sample", Api_get_sample, METH_NOARGS,
     "get_sample($module, /)\n--\n\nThe mean sampling gap in bytes, or None in exact mode."},
    {"get_object_traceback", (PyCFunction)(void (*)(void))Api_get_object_traceback,
     METH_VARARGS | METH_KEYWORDS,
     "get_object_traceback($module, obj)\n--\n\nTraceback where obj was allocated, or None."},
    {"take_snapshot", SmSnapshot_take_py, METH_NOARGS,
     "take_snapshot($module, /)\n--\n\nA Snapshot of the traces of live memory blocks."},
    {"main", SmCli_main_py, METH_O,
     "main(argv, /)\n--\n\n`sleuth mem`: run a program and report memory that keeps growing."},
    {NULL, NULL, 0, NULL},
};
