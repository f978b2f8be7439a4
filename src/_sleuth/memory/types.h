/* types.h — tracemalloc's value types, in C: Frame, Traceback, Trace,
 * the traces sequence, Statistic, StatisticDiff, Filter, DomainFilter.
 * Same constructors, attributes, comparisons and str()/repr() text as
 * Lib/tracemalloc.py. */
#ifndef SLEUTH_MEMORY_TYPES_H
#define SLEUTH_MEMORY_TYPES_H

#include "state.h"

typedef struct {
    PyObject_HEAD
    PyObject *frame;          /* (filename, lineno) */
} SmFrameObject;

typedef struct {
    PyObject_HEAD
    PyObject *frames;         /* tuple of (filename, lineno), oldest first */
    PyObject *total_nframe;   /* int or None */
} SmTracebackObject;

typedef struct {
    PyObject_HEAD
    PyObject *domain, *size, *traceback;
} SmTraceObject;

typedef struct {
    PyObject_HEAD
    PyObject *traceback, *size, *count;
} SmStatisticObject;

typedef struct {
    PyObject_HEAD
    PyObject *traceback, *size, *size_diff, *count, *count_diff;
} SmStatisticDiffObject;

/* Filter and DomainFilter begin like BaseFilter: they are its subclasses. */
typedef struct {
    PyObject_HEAD
    PyObject *inclusive;
} SmBaseFilterObject;

typedef struct {
    PyObject_HEAD
    PyObject *inclusive, *pattern, *lineno, *all_frames, *domain;
} SmFilterObject;

typedef struct {
    PyObject_HEAD
    PyObject *inclusive, *domain;
} SmDomainFilterObject;

int SmTypes_add(PyObject *module, SmState *st);

/* New references; NULL + exception on error. frames: oldest first (stolen
 * reference is NOT taken: arguments are borrowed). */
PyObject *SmTraceback_new(SmState *st, PyObject *frames_oldest_first, PyObject *total);
PyObject *SmTrace_new(SmState *st, PyObject *domain, PyObject *size, PyObject *traceback);
PyObject *SmStatistic_new(SmState *st, PyObject *tb, PyObject *size, PyObject *count);
PyObject *SmStatisticDiff_new(SmState *st, PyObject *tb, PyObject *size, PyObject *size_diff,
                              PyObject *count, PyObject *count_diff);
/* tracemalloc's _format_size(size, sign) */
PyObject *SmFormat_size(double size, int sign);

#endif /* SLEUTH_MEMORY_TYPES_H */
