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
