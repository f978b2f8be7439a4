/* util.h — small helpers shared by the core's files. */
#ifndef SLEUTH_UTIL_H
#define SLEUTH_UTIL_H
#include "compat.h"

/* module.func(*Py_BuildValue(fmt, ...)): a new reference, or NULL with an
 * exception set. fmt must build a tuple ("(O)", "(OO)"...). */
PyObject *Util_call(const char *module, const char *func, const char *fmt, ...);

#endif
