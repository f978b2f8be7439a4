/* snapshot.h — evidence files read back as objects that look like live
 * frames, tracebacks and exceptions, so the debugger can walk them.
 *
 *   SnapshotCode       co_filename, co_name, co_qualname, co_firstlineno,
 *                      co_argcount, co_posonlyargcount, co_kwonlyargcount,
 *                      co_flags, co_varnames (the argument names only)
 *   SnapshotFrame      f_code, f_lineno, f_lasti, f_locals, f_globals
 *                      (__name__, __file__), f_builtins ({}), f_back,
 *                      f_trace (None), locals_omitted
 *   SnapshotTraceback  tb_frame, tb_lineno, tb_lasti, tb_next, positions
 *   SnapshotException  __traceback__, __cause__, __context__,
 *                      __suppress_context__, __notes__ (when present),
 *                      exceptions (groups), args, type_name, module;
 *                      str() and repr() give the captured text
 *   SnapshotValue      repr() is the captured text; x[i], x[key], x.attr,
 *                      len(x), iter(x), k in x, bool(x) use the captured
 *                      structure;
 *                      __sleuth_type__ names the original type
 *   Evidence           the whole file: exception, traceback, frames,
 *                      stack, threads, environment, sources, ...
 *
 * Captured locals that were exact scalars (None, bool, int, float, short
 * str) come back as the real Python values.
 */
#ifndef SLEUTH_SNAPSHOT_H
#define SLEUTH_SNAPSHOT_H
#include "evidence_state.h"

/* Create the heap types into the state; 0 or -1. */
int Snapshot_init_types(PyObject *module, EvidenceState *st);

/* Load and validate an evidence file. EvidenceError (with a one-line
 * message) for anything that is not a valid file of a supported version;
 * OSError when it cannot be read. */
PyObject *Snapshot_load(EvidenceState *st, PyObject *path);

/* Human-readable summary of a loaded Evidence object (new str). */
PyObject *Snapshot_summary(PyObject *evidence);

#endif /* SLEUTH_SNAPSHOT_H */
