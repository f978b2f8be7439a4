/* pyframes.h — write Python stacks in faulthandler's format, signal-safely.
 *
 * Contract: no allocation, no locks, no Python API that touches objects;
 * every pointer found in interpreter structures is read with
 * Faults_safe_read(), checked (type pointer, bounds), and a frame that fails a
 * check is printed as "<invalid frame>" and not followed. Frame and thread
 * counts are bounded (FAULTS_MAX_FRAMES, FAULTS_MAX_THREADS, like faulthandler),
 * so a corrupted, cyclic or huge stack still produces a finite report.
 */
#ifndef SLEUTH_FAULTS_PYFRAMES_H
#define SLEUTH_FAULTS_PYFRAMES_H

#include "compat.h"
#include "out.h"

#define FAULTS_MAX_FRAMES 100
#define FAULTS_MAX_THREADS 100
#define FAULTS_MAX_STRING 500

/* A str object as read through safe copies: where its characters are, how
 * wide, how many, and its cached hash (-1 if not computed yet). */
typedef struct {
    uintptr_t data;
    Py_ssize_t length;
    int kind;
    Py_hash_t hash;
} Faults_str;

/* 1 if `type` is `base` or inherits from it (tp_base links, read safely). */
int Faults_type_is(PyTypeObject *type, PyTypeObject *base);
/* Fill *s from a str object (or subclass): 0, or -1 if `text` is not a
 * readable str. */
int Faults_read_str(PyObject *text, Faults_str *s);
/* Its characters, escaped like faulthandler's _Py_DumpASCII: printable ASCII
 * as is, others \xHH/\uHHHH/\UHHHHHHHH, cut at FAULTS_MAX_STRING with "...". */
void Faults_write_str(Faults_out *o, const Faults_str *s);

/* The calling thread's PyThreadState even when it does not hold the GIL
 * (read from thread-specific storage), or NULL. Signal-safe. */
PyThreadState *Faults_this_tstate(void);

/* "Stack (most recent call first):" (if header) and the frames of tstate. */
void Faults_dump_stack(Faults_out *o, PyThreadState *tstate, int header);

/* Every thread of interp, "Current thread" marking `current` (may be NULL).
 * With show_gc, the current thread says "  Garbage-collecting" when the crash
 * happened inside the cyclic garbage collector. Returns NULL or a short
 * reason why nothing could be dumped. */
const char *Faults_dump_threads(Faults_out *o, PyInterpreterState *interp,
                                PyThreadState *current, int show_gc);

/* sleuth's addition after faulthandler's part: "\nThread names:\n" and one
 * line `  [Current thread|Thread] 0x... "name"` a thread whose name is known
 * (nothing when none is). */
void Faults_dump_thread_names(Faults_out *o, PyInterpreterState *interp,
                              PyThreadState *current);

#endif
