/* engine.h — "should we stop here?": bdb's stepping state machine in C.
 *
 * The engine never prints. Backends (sys.monitoring on 3.12+, a C trace
 * function plus a PEP 523 frame-evaluation hook on 3.11) translate
 * interpreter events into the four dispatch calls below, and only deliver
 * events that could make the debugger stop: code that holds no breakpoint
 * and is not being stepped runs without callbacks.
 */
#ifndef SLEUTH_ENGINE_H
#define SLEUTH_ENGINE_H
#include "pdb.h"
#include "pythread.h"

/* Put back the threading.excepthook a quit from a worker thread replaced
 * (run()'s end; deferred until the last thread unwinding from it is reported). */
void Engine_restore_excepthook(void);

/* Dispatch: 0 to go on, -1 with an exception set (BdbQuit to abandon). */
int Engine_dispatch_line(PdbObject *d, PyObject *frame, int line);   /* line < 0: the frame's */
int Engine_dispatch_call(PdbObject *d, PyObject *frame);
int Engine_dispatch_return(PdbObject *d, PyObject *frame, PyObject *retval);
/* `tb`: the traceback the event reports (borrowed; NULL: the exception's
 * own). 3.11's trace event carries it before it is attached to `exc`. */
int Engine_dispatch_exception(PdbObject *d, PyObject *frame, PyObject *exc, PyObject *tb);
/* The same decisions with no subclass hook in the way: what the C methods
 * trace_dispatch and dispatch_* run (hooks.c). */
int Engine_line_c(PdbObject *d, PyObject *frame, int line);
int Engine_call_c(PdbObject *d, PyObject *frame);
int Engine_return_c(PdbObject *d, PyObject *frame, PyObject *retval);
int Engine_exception_c(PdbObject *d, PyObject *frame, PyObject *exc, PyObject *tb);
/* bdb's stop_here / break_here (sleuth's own): 1, 0 or -1. */
int Engine_stop_here(PdbObject *d, PyObject *frame);
int Engine_break_here(PdbObject *d, PyObject *frame);

/* Stepping commands (bdb's set_*). They only change state; the backend
 * re-arms events when the prompt is left (Engine_resume). */
void Engine_set_stopinfo(PdbObject *d, PyObject *stopframe, PyObject *returnframe, int stoplineno);
void Engine_set_step(PdbObject *d);
void Engine_set_next(PdbObject *d, PyObject *frame);
int  Engine_set_return(PdbObject *d, PyObject *frame);
void Engine_set_until(PdbObject *d, PyObject *frame, int lineno);
void Engine_set_continue(PdbObject *d);
void Engine_set_quit(PdbObject *d);

/* Make `d` the debugger the engine reports to and arm the backend for its
 * current state; called when a session starts and each time the prompt is
 * left. Engine_detach removes every hook (zero cost afterwards). */
int Engine_attach(PdbObject *d);
int Engine_resume(PdbObject *d);
int Engine_detach(void);
int Engine_is_active(PdbObject *d);
/* A session starts in this thread (set_trace, run, runcall): take the
 * thread's trace function over where pdb's sys.settrace would (3.11). */
int Engine_claim_thread(void);

/* Breakpoint table queries used by the backends. */
int Engine_file_has_breaks(ModState *st, PyObject *canonical);
int Engine_line_has_break(ModState *st, PyObject *canonical, int line);
PyObject *Engine_canonic(ModState *st, PyObject *filename);   /* new ref */
int Engine_code_may_break(ModState *st, PyObject *code);       /* file has breaks */
/* Breakpoints a LINE event at `line` of `code` may hit: BRK_LINE (on the line
 * itself) | BRK_FIRST (on the def line: function breakpoints), 0, or -1.
 * With bps_out, a hit also returns the list of breakpoints there, the line's
 * own if any, else the def line's (new ref). */
#define BRK_LINE 1
#define BRK_FIRST 2
int Engine_code_breaks(ModState *st, PyObject *code, int line, PyObject **bps_out);
int Engine_is_generator_code(PyObject *code);

/* Stepping whose stopframe is a generator or coroutine (`next`, `until`,
 * `return` in one) stops at a StopIteration or GeneratorExit raised in
 * another frame: bdb's dispatch_exception. pdb only sees that exception in
 * frames it traces: in effect the frames that were on the stack when the
 * command was given, and frames started since whose file holds a breakpoint
 * (bdb's break_anywhere). Engine_attach records the codes of the former in
 * st->gen_callers while such stepping is on; NULL otherwise. */
int Engine_gen_caller_slow(ModState *st, PyObject *code);
static inline int
Engine_gen_caller(ModState *st, PyObject *code)
{
    return st->gen_callers ? Engine_gen_caller_slow(st, code) : 0;
}

/* Breakpoints changed: re-arm code that is running or will run. */
int Engine_breaks_changed(void);

/* The debugger that events should reach now, or NULL: none attached, it is
 * quitting, or this thread is at the prompt (code run from the prompt, such
 * as `p f()`, must not stop again; other threads still reach their
 * breakpoints and wait for the prompt). */
static inline PdbObject *
Engine_listener(ModState *st)
{
    PdbObject *d = st->active;
    if (!d || d->quitting)
        return NULL;
    if (d->in_interaction && d->interaction_thread == PyThread_get_thread_ident())
        return NULL;
    return d;
}

/* `step`: every event of the stepping thread may stop. */
static inline int
Engine_step_all(PdbObject *d)
{
    return (d->stopframe == NULL || d->stopframe == Py_None) &&
           (d->step_thread == 0 || d->step_thread == PyThread_get_thread_ident());
}

/* Backend interface (backend_monitoring.c or backend_trace.c). */
int Backend_install(ModState *st);
int Backend_update(ModState *st, PdbObject *d);
int Backend_uninstall(ModState *st);
int Backend_arm_code(ModState *st, PyObject *code, int events);
int Backend_claim_thread(ModState *st);
#if SLEUTH_PY311
PyObject *Backend_empty_hook_py(PyObject *mod, PyObject *on);   /* bench only */
#endif

#endif
