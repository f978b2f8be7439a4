/* hooks.h — pdb's overridable methods and the Python subclasses that replace
 * them.
 *
 * pdb calls these through `self.name(...)`, so a subclass (pytest's wrapper,
 * doctest's output-redirecting Pdb, pdbpp) or a patch of the class changes
 * what the debugger does. sleuth calls its C code directly unless the
 * method's bit is set in `PdbObject.hooks`; the bits are worked out when a
 * debugger is made and each time the engine is attached for it (session
 * start, leaving the prompt), never per event.
 */
#ifndef SLEUTH_HOOKS_H
#define SLEUTH_HOOKS_H
#include "pdb.h"

enum {
    HOOK_TRACE_DISPATCH = 1 << 0,
    HOOK_DISPATCH_LINE = 1 << 1,
    HOOK_DISPATCH_CALL = 1 << 2,
    HOOK_DISPATCH_RETURN = 1 << 3,
    HOOK_DISPATCH_EXCEPTION = 1 << 4,
    HOOK_USER_LINE = 1 << 5,
    HOOK_USER_CALL = 1 << 6,
    HOOK_USER_RETURN = 1 << 7,
    HOOK_USER_EXCEPTION = 1 << 8,
    HOOK_STOP_HERE = 1 << 9,
    HOOK_BREAK_HERE = 1 << 10,
    HOOK_INTERACTION = 1 << 11,
    HOOK_MESSAGE = 1 << 12,
    HOOK_ERROR = 1 << 13,
    HOOK_PRELOOP = 1 << 14,
    HOOK_POSTLOOP = 1 << 15,
};
#define HOOK_DISPATCH_ANY \
    (HOOK_TRACE_DISPATCH | HOOK_DISPATCH_LINE | HOOK_DISPATCH_CALL | HOOK_DISPATCH_RETURN | \
     HOOK_DISPATCH_EXCEPTION)

/* Remember the C methods the hooks start as (module init, after the type). */
int Hooks_init(ModState *st);
/* Recompute self->hooks. */
int Hooks_refresh(PdbObject *self);

/* Events as bdb's trace_dispatch names them. */
typedef enum { EV_NAME_LINE, EV_NAME_CALL, EV_NAME_RETURN, EV_NAME_EXCEPTION } HookEvent;

/* An event for a debugger with an overridden trace_dispatch or dispatch_*:
 * calls self.trace_dispatch(frame, event, arg), or the overridden
 * dispatch_<event>(frame[, arg]). `arg` is the return value or the
 * exception (passed to Python as bdb's (type, value, traceback), `tb` the
 * event's traceback or NULL for the exception's own).
 * 0 or -1 with an exception set. */
int Hooks_dispatch(PdbObject *self, PyObject *frame, HookEvent ev, PyObject *arg, PyObject *tb);

/* bool(self.<name>(frame)): 1, 0 or -1. */
int Hooks_call_bool(PdbObject *self, const char *name, PyObject *frame);

extern PyMethodDef Hooks_methods[];   /* trace_dispatch, dispatch_*, user_*, ... */

#endif
