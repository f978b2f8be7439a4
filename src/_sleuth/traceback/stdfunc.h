/* stdfunc.h — a callable that presents itself as the standard library's
 * traceback function of the same name.
 *
 * sleuth.traceback is a drop-in for `traceback`, so its own five functions
 * say what the standard library's say: __module__ 'traceback', the same
 * __name__ and __qualname__, and inspect.signature() gives the standard
 * library's signature of the running version (computed on first use and
 * kept). sleuth's keyword options (locals=..., max_length=...) are still
 * accepted; the docstring and the .pyi stub document them. A builtin
 * function cannot carry __signature__ or another __module__, hence this
 * small type. Calls cost what a METH_VARARGS | METH_KEYWORDS builtin's do:
 * tp_call hands the implementation the same (args, kwargs).
 *
 * Pickling gives sleuth.traceback's function back (by name, through
 * pkgutil.resolve_name); copy.copy and deepcopy return the object itself,
 * as for any function. */
#ifndef SLEUTH_STDFUNC_H
#define SLEUTH_STDFUNC_H
#include "compat.h"

/* The implementation: module is sleuth._traceback. */
typedef PyObject *(*StdFunc_impl)(PyObject *module, PyObject *args, PyObject *kwargs);

/* The type, created for `module` (new reference), or NULL with an exception. */
PyTypeObject *StdFunc_make_type(PyObject *module);

/* A new function object of `type` named `name` (the standard library's name
 * in module `stdlib`) calling `impl(module, args, kwargs)`, with docstring
 * `doc`. NULL with an exception. */
PyObject *StdFunc_new(PyTypeObject *type, PyObject *module, PyObject *stdlib,
                      const char *name, StdFunc_impl impl, const char *doc);

#endif /* SLEUTH_STDFUNC_H */
