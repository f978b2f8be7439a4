/* compat.h — every PY_VERSION_HEX difference lives here, nowhere else.
 *
 * sleuth supports CPython 3.11, 3.12 and 3.13. Files include this header
 * instead of Python.h so that version shims are in one place.
 */
#ifndef SLEUTH_COMPAT_H
#define SLEUTH_COMPAT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>   /* PyFrame_LocalsToFast (3.11/3.12) */

#if PY_VERSION_HEX < 0x030B0000
#  error "sleuth needs CPython 3.11 or newer"
#endif

#define SLEUTH_PY311 (PY_VERSION_HEX < 0x030C0000)
#define SLEUTH_PY312 (PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030D0000)
#define SLEUTH_PY313 (PY_VERSION_HEX >= 0x030D0000)
/* sys.monitoring exists from 3.12 on. */
#define SLEUTH_HAVE_MONITORING (PY_VERSION_HEX >= 0x030C0000)

#if PY_VERSION_HEX < 0x030D0000
/* 3.13 names for calls that 3.11/3.12 spell differently. */
static inline int
PyDict_GetItemRef(PyObject *d, PyObject *k, PyObject **out)
{
    PyObject *v = PyDict_GetItemWithError(d, k);
    if (v) { *out = Py_NewRef(v); return 1; }
    *out = NULL;
    return PyErr_Occurred() ? -1 : 0;
}
static inline int
PyDict_GetItemStringRef(PyObject *d, const char *k, PyObject **out)
{
    PyObject *ks = PyUnicode_FromString(k);
    if (!ks) { *out = NULL; return -1; }
    int r = PyDict_GetItemRef(d, ks, out);
    Py_DECREF(ks);
    return r;
}
/* 1 and a new reference to the referent, 0 if it is dead, -1 on error. */
static inline int
PyWeakref_GetRef(PyObject *ref, PyObject **out)
{
    if (!PyWeakref_Check(ref)) {
        *out = NULL;
        PyErr_SetString(PyExc_TypeError, "expected a weakref");
        return -1;
    }
    PyObject *o = PyWeakref_GET_OBJECT(ref);
    *out = o == Py_None ? NULL : Py_NewRef(o);
    return *out != NULL;
}
static inline int
PyObject_GetOptionalAttr(PyObject *o, PyObject *name, PyObject **out)
{
    *out = PyObject_GetAttr(o, name);
    if (*out) return 1;
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) { PyErr_Clear(); return 0; }
    return -1;
}
static inline int
PyObject_GetOptionalAttrString(PyObject *o, const char *name, PyObject **out)
{
    *out = PyObject_GetAttrString(o, name);
    if (*out) return 1;
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) { PyErr_Clear(); return 0; }
    return -1;
}
#endif

#if PY_VERSION_HEX < 0x030C0000
/* 3.12's single-object exception API, emulated on 3.11. */
static inline PyObject *
PyErr_GetRaisedException(void)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    if (!t) return NULL;
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb) PyException_SetTraceback(v, tb);
    Py_XDECREF(t);
    Py_XDECREF(tb);
    return v;
}
static inline void
PyErr_SetRaisedException(PyObject *exc)
{
    if (!exc) { PyErr_Clear(); return; }
    PyObject *tb = PyException_GetTraceback(exc);
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, tb);
}
#endif

/* pdb's Tab completion. 3.13 keeps '$' inside a word (for $convenience
 * variables), widens cmd.Cmd.identchars, completes aliases, $variables and
 * bare expressions (rlcompleter with builtins and keywords); 3.11/3.12
 * complete command names only at the start of a line. */
#if PY_VERSION_HEX >= 0x030D0000
#  define SLEUTH_PDB_COMPLETER_DELIMS " \t\n`@#%^&*()=+[{]}\\|;:'\",<>?"
#  define SLEUTH_PDB_IDENTCHARS_EXTRA "=.[](),\"'+-*/%@&|<>~^"
#  define SLEUTH_PDB_COMPLETES_EXPRESSIONS 1
#else
#  define SLEUTH_PDB_COMPLETER_DELIMS " \t\n`@#$%^&*()=+[{]}\\|;:'\",<>?"
#  define SLEUTH_PDB_IDENTCHARS_EXTRA ""
#  define SLEUTH_PDB_COMPLETES_EXPRESSIONS 0
#endif

#define SLEUTH_UNUSED(x) ((void)(x))

/* PyImport_ImportModule calls the __import__ of the *current frame's*
 * __builtins__; when the debugged code runs with globals that lack
 * __builtins__ (a function built with types.FunctionType(code, a module's
 * __dict__)), it raises KeyError('__builtins__') from inside the debugger.
 * A module already in sys.modules needs no __import__: take it from there
 * first. Every file includes this header, so the name is redirected here. */
static inline PyObject *
Sleuth_ImportModule(const char *name)
{
    PyObject *n = PyUnicode_FromString(name);
    if (!n)
        return NULL;
    PyObject *m = PyImport_GetModule(n);
    Py_DECREF(n);
    if (m && m != Py_None)
        return m;
    Py_XDECREF(m);
    if (PyErr_Occurred())
        return NULL;
    return PyImport_ImportModule(name);
}
#define PyImport_ImportModule(name) Sleuth_ImportModule(name)

/* In the docstrings of traceback.format_exception and print_exception:
 * 3.13's take **kwargs (colorize), which sleuth passes on. */
#if SLEUTH_PY313
#  define SLEUTH_TB_VARKW_DOC ", **kwargs"
#else
#  define SLEUTH_TB_VARKW_DOC ""
#endif

#endif /* SLEUTH_COMPAT_H */
