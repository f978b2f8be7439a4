/* snapshot.h — Snapshot: a frozen copy of the traces, and everything that
 * reads it (statistics, compare_to, filter_traces, the traces sequence).
 *
 * Traces are a C array of (size, traceback index, domain); tracebacks are
 * resolved Traceback objects, one per distinct stack. Grouping first sums
 * per traceback index (a tight loop over the array), then per key over the
 * few distinct tracebacks — which is why statistics() over millions of
 * blocks takes milliseconds.
 */
#ifndef SLEUTH_MEMORY_SNAPSHOT_H
#define SLEUTH_MEMORY_SNAPSHOT_H

#include "state.h"
#include "tracer.h"

typedef struct {
    PyObject_HEAD
    SmTrace *traces;      /* malloc'ed (C library): never traced itself */
    size_t ntraces;
    PyObject *tbs;        /* tuple of Traceback, indexed by SmTrace.tb */
    PyObject *limit;      /* traceback_limit (settable, like tracemalloc's) */
    double sample;        /* mean sampling gap in bytes; 0 = exact */
    PyObject *dict;       /* attributes set by the user (tracemalloc's is a
                           * plain class: snapshot.x = ... works), or NULL */
} SmSnapshotObject;

int SmSnapshot_add_types(PyObject *module, SmState *st);
/* Takes ownership of ex->traces; releases the rest of ex. */
PyObject *SmSnapshot_from_export(SmState *st, SmExport *ex);
/* A Snapshot owning traces (malloc'ed) and referencing tbs. */
PyObject *SmSnapshot_new_raw(SmState *st, SmTrace *traces, size_t n, PyObject *tbs,
                             PyObject *limit, double sample);
/* Resolved traceback of an export's traceback i, oldest frame first. */
PyObject *SmSnapshot_resolve_frames(SmState *st, SmExport *ex, uint32_t i, PyObject *cache);
/* Estimated bytes and count that a trace stands for. */
void SmSnapshot_weigh(const SmSnapshotObject *s, const SmTrace *t, double *size, double *count);

/* module functions */
PyObject *SmSnapshot_take_py(PyObject *module, PyObject *unused);
PyObject *SmSnapshot_object_traceback_py(PyObject *module, PyObject *obj);

/* dumpfmt.c */
PyObject *SmSnapshot_dump_py(PyObject *self, PyObject *filename);
PyObject *SmSnapshot_load_py(PyObject *type, PyObject *filename);

#endif /* SLEUTH_MEMORY_SNAPSHOT_H */
