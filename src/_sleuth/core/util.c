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
