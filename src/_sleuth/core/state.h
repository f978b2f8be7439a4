/* state.h — module state of sleuth._sleuth and the debugger object layout.
 *
 * Everything the engine needs across calls lives in module state (visible to
 * the GC through m_traverse), never in C globals. The one exception is
 * `Sleuth_module`, a borrowed pointer used to find that state from callbacks
 * that receive no module argument; it is set in exec and cleared in m_free.
 */
#ifndef SLEUTH_STATE_H
#define SLEUTH_STATE_H
#include "compat.h"

typedef struct PdbObject PdbObject;

typedef struct {
    PyTypeObject *PdbType;
    PyTypeObject *BreakpointType;
    PyObject *BdbQuit;          /* bdb.BdbQuit (sleuth.BdbQuit), NULL until loaded */
    PyObject *Restart;          /* sleuth.Restart */
    PyObject *hook_orig;        /* tuple: Pdb's own overridable methods (hooks.c) */

    /* Breakpoints: the same three indexes bdb keeps (process-wide, like
     * bdb.Breakpoint's class attributes). */
    PyObject *bpbynumber;       /* list: [None, bp1, bp2, ...] */
    PyObject *bplist;           /* dict: (file, line) -> [bp, ...] */
    PyObject *breaks;           /* dict: canonical file -> {line: None} */
    long bp_next;               /* next breakpoint number */
    uint64_t bp_generation;     /* bumped on every change of the table */

    /* Engine */
    PdbObject *active;          /* debugger the engine reports to (strong) */
    PyObject *fncache;          /* raw co_filename -> canonical filename */
    PyObject *armed;            /* set of code objects with local events on */
    int backend_attached;
    int tool_id;                /* sys.monitoring tool id, -1 if none */
    PyObject *monitoring;       /* sys.monitoring module (3.12+) */
    PyObject *DISABLE;          /* sys.monitoring.DISABLE */
    PyObject *cb_list;          /* callback function objects we registered */
    int events_global;          /* global event set currently requested */
    PyObject *quiet_codes;      /* dict id(code) -> weakref: codes whose PY_START or
                                 * PY_RESUME we DISABLEd (backend_monitoring.c) */
    uint64_t quiet_gen;         /* bp_generation those codes were last checked at */
    PyObject *gen_callers;      /* tuple of codes, or NULL: see Engine_gen_caller */
    PyObject *sigint_pdb;       /* debugger that Ctrl-C drops into (strong) */
    PyObject *file_mtimes;      /* 3.13: filename -> mtime, Pdb._file_mtime_table */

    /* Interned names used on hot paths */
    PyObject *str_f_locals, *str_f_globals, *str_f_back, *str_f_code, *str_f_lineno;
    PyObject *str___return__, *str___exception__, *str___name__;
} ModState;

extern PyObject *Sleuth_module;   /* borrowed; see above */

/* st->BdbQuit is NULL until this is called (module.c). */
int Sleuth_load_bdbquit(void);

/* Does the pending exception match bdb.BdbQuit? Never, while bdb has not
 * been loaded: sleuth raises nothing before that. */
static inline int
Sleuth_bdbquit_matches(PyObject *st_bdbquit)
{
    return st_bdbquit && PyErr_ExceptionMatches(st_bdbquit);
}

static inline ModState *
Sleuth_state(void)
{
    return (ModState *)PyModule_GetState(Sleuth_module);
}

#endif
