/* faults_compat.h — how to find frames in each CPython version's structures.
 *
 * Reading a crashed interpreter's stacks from a signal handler means reading
 * its frame structures directly: there is no API that is both public and
 * signal-safe. The layouts are taken from CPython's own internal headers for
 * the version being compiled against (installed with every CPython), so they
 * are exact. The files that read interpreter structures (pyframes.c,
 * extmods.c, fatal.c) include it before anything else, so that
 * Py_BUILD_CORE is seen by Python.h.
 *
 * Only plain field offsets and constants are used from the internal headers:
 * calling internal functions would need symbols extensions cannot link.
 */
#ifndef SLEUTH_FAULTS_COMPAT_H
#define SLEUTH_FAULTS_COMPAT_H

#ifndef Py_BUILD_CORE
#  define Py_BUILD_CORE 1
#endif
#include "compat.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "internal/pycore_frame.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_moduleobject.h"
#pragma GCC diagnostic pop

typedef struct _PyInterpreterFrame faults_iframe;

/* How faulthandler names SIGFPE: "Floating point exception" up to 3.12,
 * "Floating-point exception" from 3.13. */
#if SLEUTH_PY313
#  define FAULTS_SIGFPE_NAME "Floating-point exception"
#else
#  define FAULTS_SIGFPE_NAME "Floating point exception"
#endif

/* Address of the field holding a thread's innermost frame, and the frame. */
#if SLEUTH_PY313
#  define FAULTS_FRAME_CODE(f)    ((f)->f_executable)
#  define FAULTS_FRAME_INSTR(f)   ((f)->instr_ptr)
#else
#  define FAULTS_FRAME_CODE(f)    ((PyObject *)(f)->f_code)
#  define FAULTS_FRAME_INSTR(f)   ((f)->prev_instr)
#endif

/* sys.modules: a field of the interpreter state up to 3.11, of its import
 * state from 3.12. */
#if SLEUTH_PY311
#  define FAULTS_INTERP_MODULES modules
#else
#  define FAULTS_INTERP_MODULES imports.modules
#endif

/* 3.12+ put a C-stack-owned "shim" frame between some Python frames; it is
 * bookkeeping, not user code, and faulthandler does not print it. */
#if SLEUTH_PY311
#  define FAULTS_FRAME_IS_SHIM(f) 0
#else
#  define FAULTS_FRAME_IS_SHIM(f) ((f)->owner == FRAME_OWNED_BY_CSTACK)
#endif

#endif
