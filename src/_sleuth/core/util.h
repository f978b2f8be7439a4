/* util.h — small helpers shared by the core's files. */
#ifndef SLEUTH_UTIL_H
#define SLEUTH_UTIL_H
#include "compat.h"

/* module.func(*Py_BuildValue(fmt, ...)): a new reference, or NULL with an
 * exception set. fmt must build a tuple ("(O)", "(OO)"...). */
PyObject *Util_call(const char *module, const char *func, const char *fmt, ...);

/* Let an asynchronous exception still pending for this thread (one that
 * PyThreadState_SetAsyncExc sent) be raised into a line of nothing, and drop
 * it. Clearing it with PyThreadState_SetAsyncExc(id, NULL) instead leaves
 * 3.11's eval breaker set for good, and the interpreter spins. Keeps the
 * exception being handled, if any. */
void Util_flush_async_exc(void);

/* frame.f_lineno = lineno (pdb's `jump`, DAP's `goto`), also on 3.11,
 * where only a frame with f_trace set may jump. 0, or -1 with an exception
 * (ValueError: the frame's own reason). */
int Util_frame_jump(PyObject *frame, PyObject *lineno);

#endif
