/* evidence_state.h — module state of sleuth._evidence and version shims.
 *
 * Every type is a heap type created per module; nothing Python-visible
 * lives in C globals. Functions that need the state find it through their
 * module or through their (heap) type with PyType_GetModuleByDef.
 */
#ifndef SLEUTH_EVIDENCE_STATE_H
#define SLEUTH_EVIDENCE_STATE_H
#include "compat.h"
#include <stddef.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030C0000
/* 3.12 moved the member-definition constants into Python.h. */
#  include "structmember.h"
#  define Py_T_OBJECT_EX T_OBJECT_EX
#  define Py_T_INT T_INT
#  define Py_T_PYSSIZET T_PYSSIZET
#  define Py_T_BOOL T_BOOL
#  define Py_READONLY READONLY
#endif

typedef struct {
    PyTypeObject *code_type;        /* SnapshotCode */
    PyTypeObject *frame_type;       /* SnapshotFrame */
    PyTypeObject *tb_type;          /* SnapshotTraceback */
    PyTypeObject *exc_type;         /* SnapshotException */
    PyTypeObject *value_type;       /* SnapshotValue */
    PyTypeObject *evidence_type;    /* Evidence (a loaded file) */
    PyTypeObject *hook_type;        /* ExceptHook */
    PyObject *error;                /* EvidenceError (ValueError subclass) */
    PyObject *pkg_cache;            /* dict kept between captures */
    PyObject *config;               /* the last install()'s Hook, or NULL */
    unsigned long seq;              /* files written by this process */
} EvidenceState;

extern struct PyModuleDef Evidence_module_def;

static inline EvidenceState *
Evidence_state(PyObject *module)
{
    return (EvidenceState *)PyModule_GetState(module);
}

/* State from an instance of one of our heap types. */
static inline EvidenceState *
Evidence_state_from_type(PyTypeObject *tp)
{
    PyObject *m = PyType_GetModuleByDef(tp, &Evidence_module_def);
    return m ? Evidence_state(m) : NULL;
}

#endif /* SLEUTH_EVIDENCE_STATE_H */
