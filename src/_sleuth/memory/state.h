/* state.h — module state of sleuth._memory: its heap types. */
#ifndef SLEUTH_MEMORY_STATE_H
#define SLEUTH_MEMORY_STATE_H

#include "compat.h"

typedef struct {
    PyTypeObject *Frame;
    PyTypeObject *Traceback;
    PyTypeObject *Trace;
    PyTypeObject *Traces;
    PyTypeObject *Statistic;
    PyTypeObject *StatisticDiff;
    PyTypeObject *BaseFilter;
    PyTypeObject *Filter;
    PyTypeObject *DomainFilter;
    PyTypeObject *Snapshot;
    PyObject *unknown;   /* ("<unknown>", 0): the frame of an empty traceback */
} SmState;

/* The state of the module that defined tp (borrowed; NULL + exception). */
SmState *SmState_of_type(PyTypeObject *tp);
SmState *SmState_of_module(PyObject *module);

#endif /* SLEUTH_MEMORY_STATE_H */
