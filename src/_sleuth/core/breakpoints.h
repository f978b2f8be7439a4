/* breakpoints.h — bdb-compatible breakpoints (numbers, file:line, function,
 * temporary, condition compiled once, ignore counts, hit counts). */
#ifndef SLEUTH_BREAKPOINTS_H
#define SLEUTH_BREAKPOINTS_H
#include "state.h"

typedef struct {
    PyObject_HEAD
    long number;
    PyObject *file;          /* canonical filename (str) */
    int line;
    int temporary;
    PyObject *cond;          /* str or None */
    PyObject *cond_code;     /* compiled cond, or NULL */
    struct CondNode *cond_fast;   /* cond for Cond_eval, or NULL (cond.h) */
    PyObject *fast_code;     /* the code Cond_frame_ok last answered for (strong) */
    int fast_ok;             /* and its answer */
    PyObject *funcname;      /* str or None */
    int func_first_executable_line;   /* 0 = not known yet */
    int enabled;
    long ignore;
    long hits;
} BreakpointObject;

int Breakpoint_init_type(PyObject *module, ModState *st);

/* Create and register a breakpoint; returns a borrowed reference owned by
 * the table, or NULL with an exception set. */
BreakpointObject *Breakpoint_new(ModState *st, PyObject *file, int line, int temporary,
                                 PyObject *cond, PyObject *funcname);
int Breakpoint_delete(ModState *st, BreakpointObject *bp);
int Breakpoint_set_cond(BreakpointObject *bp, PyObject *cond);
PyObject *Breakpoint_format(BreakpointObject *bp);   /* bpformat() */
PyObject *Breakpoint_str(BreakpointObject *bp);

/* bdb.effective(): which of the breakpoints `bps` (a bplist entry) fires
 * for frame at f_lineno. Returns 1 and sets bp_out (a new reference) and
 * flag_out, 0 for none, -1 on error. */
int Breakpoint_effective(ModState *st, PyObject *bps, PyObject *frame, int f_lineno,
                         BreakpointObject **bp_out, int *flag_out);

/* "Invalid condition" check: returns NULL if it compiles, else a new ref to
 * the error message (e.g. "SyntaxError: invalid syntax"). */
PyObject *Breakpoint_compile_error(PyObject *cond);

#endif
