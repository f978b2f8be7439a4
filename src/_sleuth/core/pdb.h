/* pdb.h — the debugger object: bdb's stepping state, pdb's session state and
 * the terminal frontend. Field names follow pdb's attribute names because
 * they are part of pdb's public surface (subclasses read them). */
#ifndef SLEUTH_PDB_H
#define SLEUTH_PDB_H
#include "state.h"
#include "session.h"

struct PdbObject {
    PyObject_HEAD
    PyObject *dict;             /* instance __dict__: subclasses add attributes */
    PyObject *weakreflist;

    /* I/O (cmd.Cmd) */
    PyObject *stdin_obj, *stdout_obj;
    int use_rawinput;
    PyObject *completekey;
    PyObject *prompt;
    PyObject *lastcmd;          /* str */
    PyObject *cmdqueue;         /* list of str */
    int nosigint;
    int allow_kbdint;

    /* bdb stepping state */
    PyObject *skip;             /* set of glob patterns or None */
    PyObject *botframe, *stopframe, *returnframe;
    int stoplineno;
    int quitting;
    unsigned long step_thread;  /* thread whose stepping state this is */
    PyObject *frame_returning;
    PyObject *untraced;         /* list of frames that report no events, or NULL (api.c) */

    /* pdb session state (valid while stopped) */
    PyObject *stack;            /* list of (frame, lineno) */
    Py_ssize_t curindex;
    PyObject *curframe;
    PyObject *curframe_locals;
    PyObject *tb_lineno;        /* dict frame -> original lineno */
    PyObject *displaying;       /* dict frame -> dict expr -> value */
    PyObject *aliases;          /* dict */
    PyObject *rcLines;          /* list */
    PyObject *commands;         /* dict bpnum -> list of command lines */
    PyObject *commands_doprompt, *commands_silent;
    int commands_defining;
    long commands_bnum;
    long currentbp;
    PyObject *mainpyfile;       /* str */
    int wait_for_mainpyfile;
    int user_requested_quit;
    PyObject *chained_exceptions; /* tuple */
    Py_ssize_t chained_exception_index;
    PyObject *lineno;           /* last `list` position (int or None) */
    int readonly;               /* post-mortem on a snapshot: no execution */
    PyObject *snapshot_env;     /* environment of an evidence file, or NULL */
    int in_interaction;
    unsigned long interaction_thread;  /* thread at the prompt */
    int bot_is_first;           /* botframe = first frame called (script runs) */
    unsigned long run_thread;   /* thread inside run/runeval/runcall, else 0 */
    int quit_sent;              /* BdbQuit sent to run_thread (quit elsewhere) */
    int quit_in_run;            /* `quit` typed while run_thread was set: the
                                   other threads unwind quietly, also after
                                   run() has returned */
    int run_over;               /* run/runeval/runcall returned (bdb's final
                                   quitting = True): not a quit */
    int list_count_default;
    int hooks;                  /* HOOK_* bits: methods a subclass overrides (hooks.h) */
    int break_on_raise;         /* every raised exception reaches user_exception (DAP's 'raised' filter) */
    const SessionFrontend *frontend;  /* stops go here instead of the command loop, or NULL */
    void *frontend_ctx;
};

#define Pdb_Check(op) PyObject_TypeCheck(op, Sleuth_state()->PdbType)

int Pdb_init_type(PyObject *module, ModState *st);

/* Engine -> frontend (bdb's user_* hooks): a subclass's override if there
 * is one, else the _c versions (sleuth's own). Return -1 with an exception
 * set on error (BdbQuit included). */
int Pdb_user_line(PdbObject *self, PyObject *frame);
int Pdb_user_call(PdbObject *self, PyObject *frame);
int Pdb_user_return(PdbObject *self, PyObject *frame, PyObject *retval);
int Pdb_user_exception(PdbObject *self, PyObject *frame, PyObject *exc, PyObject *tb);
int Pdb_user_line_c(PdbObject *self, PyObject *frame);
int Pdb_user_call_c(PdbObject *self, PyObject *frame);
int Pdb_user_return_c(PdbObject *self, PyObject *frame, PyObject *retval);
int Pdb_user_exception_c(PdbObject *self, PyObject *frame, PyObject *exc, PyObject *tb);
int Pdb_preloop_c(PdbObject *self);

/* Output: pdb's message()/error() to self.stdout. */
int Pdb_message(PdbObject *self, PyObject *text);
int Pdb_write(PdbObject *self, PyObject *text);       /* no newline */
int Pdb_messagef(PdbObject *self, const char *fmt, ...);
int Pdb_errorf(PdbObject *self, const char *fmt, ...);
int Pdb_error_obj(PdbObject *self, PyObject *text);
int Pdb_error_current_exc(PdbObject *self);  /* *** Type: msg of the raised exc */

/* cmd.Cmd.parseline: *cmd and *arg NULL when the line names no command
 * (empty, or '!'); '?' reads as help. New references. */
int Pdb_parseline(PyObject *line, PyObject **cmd, PyObject **arg, PyObject **line_out);
PyObject *Pdb_read_line(PdbObject *self, PyObject *prompt);
PyObject *Pdb_canonic(PdbObject *self, PyObject *filename);
int Pdb_interaction(PdbObject *self, PyObject *frame, PyObject *tb_or_exc);
/* Leave a stop: re-arm the engine for the stepping state (errors are said
 * in one line and the program runs on without the debugger). */
int Pdb_resume_engine(PdbObject *self);
int Pdb_print_stack_entry(PdbObject *self, PyObject *entry, const char *prefix);
PyObject *Pdb_frame_code(PyObject *frame);   /* new ref */
int Pdb_frame_lineno(PyObject *frame);

#endif
