/* util.c — small helpers shared by the core's files. */
#include "util.h"

PyObject *
Util_call(const char *module, const char *func, const char *fmt, ...)
{
    PyObject *m = PyImport_ImportModule(module);
    if (!m)
        return NULL;
    PyObject *f = PyObject_GetAttrString(m, func);
    Py_DECREF(m);
    if (!f)
        return NULL;
    va_list va;
    va_start(va, fmt);
    PyObject *args = Py_VaBuildValue(fmt, va);
    va_end(va);
    PyObject *r = args ? PyObject_Call(f, args, NULL) : NULL;
    Py_XDECREF(args);
    Py_DECREF(f);
    return r;
}

void
Util_flush_async_exc(void)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *code = Py_CompileString("None", "<sleuth>", Py_eval_input);
    PyObject *ns = code ? PyDict_New() : NULL;
    PyObject *r = ns ? PyEval_EvalCode(code, ns, ns) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(ns);
    Py_XDECREF(code);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}

int
Util_frame_jump(PyObject *frame, PyObject *lineno)
{
#if SLEUTH_PY311
    /* 3.11 only lets a frame with f_trace set jump; sleuth's tracer is a C
     * function, so lend the frame a marker for the assignment. */
    PyObject *old_trace = PyObject_GetAttrString(frame, "f_trace");
    if (!old_trace || PyObject_SetAttrString(frame, "f_trace", Py_True) < 0) {
        Py_XDECREF(old_trace);
        return -1;
    }
    int r = PyObject_SetAttrString(frame, "f_lineno", lineno);
    PyObject *exc = PyErr_GetRaisedException();
    PyObject_SetAttrString(frame, "f_trace", old_trace);
    Py_DECREF(old_trace);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return r;
#else
    return PyObject_SetAttrString(frame, "f_lineno", lineno);
#endif
}
