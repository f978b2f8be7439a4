/* commands.h — pdb's commands (do_*), one handler each, and the helpers
 * they share. Each handler takes the argument string and returns None, or
 * True when the command resumes the program (cmd.Cmd's "stop"). */
#ifndef SLEUTH_COMMANDS_H
#define SLEUTH_COMMANDS_H
#include "pdb.h"

#define FRAME_STATUS_CMD "_pdbcmd_print_frame_status"

extern PyMethodDef Commands_methods[];   /* do_* (commands.c) */
extern PyMethodDef PdbApi_methods[];     /* set_trace, run... (api.c) */

PyObject *Pdb_default(PdbObject *self, PyObject *line);
PyObject *Pdb_handle_command_def(PdbObject *self, PyObject *line);
int Pdb_show_display(PdbObject *self);
int Pdb_select_frame(PdbObject *self, Py_ssize_t index);
int Pdb_set_convenience(PdbObject *self, PyObject *frame, const char *name, PyObject *value);
PyObject *Pdb_format_exc(PyObject *exc);

PyObject *Cmd_eval(PdbObject *self, PyObject *expr);

/* eval(arg, curframe.f_globals, curframe_locals); on error prints the
 * `*** ...` line and returns NULL with no exception set (*failed = 1). */
PyObject *Cmd_getval(PdbObject *self, PyObject *expr, int *failed);
/* repr() bounded to a sane size, never raising: "*** repr(x) failed" text. */
PyObject *Cmd_safe_repr(PdbObject *self, PyObject *obj, PyObject *expr);

int Cmd_restore_sigint(void);

#if SLEUTH_PY313
/* 3.13's pdb._print_invalid_arg for COMMAND: error line and usage. */
int Cmd_invalid_arg(PdbObject *self, PyObject *arg, const char *command);
/* For commands that take no argument: on 3.13 an argument is refused with
 * the usage (the handler returns None); older pdbs ignore it. */
#define CMD_NO_ARG(self, arg, command)                                           \
    do {                                                                         \
        if (PyUnicode_GET_LENGTH(arg) > 0) {                                     \
            if (Cmd_invalid_arg((self), (arg), (command)) < 0)                   \
                return NULL;                                                     \
            Py_RETURN_NONE;                                                      \
        }                                                                        \
    } while (0)
#else
#define CMD_NO_ARG(self, arg, command) SLEUTH_UNUSED(arg)
#endif

/* cmd_break.c */
PyObject *Cmd_do_break(PdbObject *self, PyObject *arg);
PyObject *Cmd_do_tbreak(PdbObject *self, PyObject *arg);
PyObject *Cmd_do_clear(PdbObject *self, PyObject *arg);
PyObject *Cmd_do_enable(PdbObject *self, PyObject *arg);
PyObject *Cmd_do_disable(PdbObject *self, PyObject *arg);
PyObject *Cmd_do_condition(PdbObject *self, PyObject *arg);
PyObject *Cmd_do_ignore(PdbObject *self, PyObject *arg);
PyObject *Cmd_do_commands(PdbObject *self, PyObject *arg);
/* bdb.set_break: returns NULL (ok) or an error message (new ref) */
PyObject *Cmd_set_break(PdbObject *self, PyObject *filename, int lineno, int temporary,
                        PyObject *cond, PyObject *funcname);

PyObject *CmdBreak_checkline_py(PdbObject *self, PyObject *args);
PyObject *CmdBreak_find_function_py(PyObject *module, PyObject *args);

/* help.c */
PyObject *Cmd_do_help(PdbObject *self, PyObject *arg);
const char *Help_text(const char *command);

#endif
