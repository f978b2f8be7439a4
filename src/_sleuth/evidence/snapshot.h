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

/* What a loaded file may hold (docs/evidence.md, "Limits"). An evidence file
 * is somebody else's data: every number that drives work or memory while
 * loading or showing it is bounded here, each well above what capture()
 * writes (its own caps are in capture.c). Over a limit, loading stops with
 * one line naming it. */
#define SNAP_MAX_FILE_BYTES   (64L * 1024 * 1024) /* the JSON text, after gunzip */
#define SNAP_MAX_DEPTH        128           /* nesting of JSON arrays/objects */
#define SNAP_MAX_NODES        2000000       /* JSON values in all */
#define SNAP_MAX_STRING       1000000       /* characters of one string */
#define SNAP_MAX_NUMBER       40            /* characters of one number */
#define SNAP_MAX_NAME         4096          /* file, function, type, local, thread names */
#define SNAP_MAX_FRAMES       10000
#define SNAP_MAX_EXCEPTIONS   1000
#define SNAP_MAX_TB_ENTRIES   20000         /* traceback entries, all exceptions */
#define SNAP_MAX_THREADS      1000
#define SNAP_MAX_ITEMS        10000         /* locals of a frame; items, entries,
                                               attributes of a value; notes; argv */
#define SNAP_MAX_SOURCE_FILES 10000
#define SNAP_MAX_SOURCE_LINES 4000000       /* stored lines, gaps included, all files */
#define SNAP_MAX_LINENO       10000000      /* any line number */
#define SNAP_MAX_SPAN         10000         /* lines of one instruction's positions */
#define SNAP_MAX_SPANS        200000        /* those lines, all positions together */
#define SNAP_MAX_COLUMN       2147483647    /* columns cost no work: carets stay within the line */
#define SNAP_MAX_LASTI        16777216      /* bytecode offsets */
#define SNAP_MAX_KINDS        64            /* kinds in "redactions" */
#define SNAP_MAX_COUNT        (1LL << 53)   /* counts in "redactions" */

/* Create the heap types into the state; 0 or -1. */
int Snapshot_init_types(PyObject *module, EvidenceState *st);

/* Load and validate an evidence file. EvidenceError (with a one-line
 * message) for anything that is not a valid file of a supported version;
 * OSError when it cannot be read. */
PyObject *Snapshot_load(EvidenceState *st, PyObject *path);

/* Human-readable summary of a loaded Evidence object (new str). */
PyObject *Snapshot_summary(PyObject *evidence);

#endif /* SLEUTH_SNAPSHOT_H */
