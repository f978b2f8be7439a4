/* completion.h — Tab completion at the (Pdb) prompt, as each version's pdb
 * (cmd.Cmd.complete and pdb's complete_* methods) does it. */
#ifndef SLEUTH_COMPLETION_H
#define SLEUTH_COMPLETION_H
#include "pdb.h"

/* complete, completenames, completedefault, complete_help and every
 * complete_<command> pdb has: Python-visible so a subclass can override or
 * add them (complete() finds them with getattr, like cmd.Cmd). */
extern PyMethodDef Completion_methods[];

/* Pdb.__init__: pdb's readline word delimiters (no-op without readline). */
void Completion_set_delims(void);

/* cmd.Cmd.cmdloop's set-up and tear-down: with use_rawinput and a
 * completekey, save readline's completer in self.old_completer, install
 * self.complete and bind the key; afterwards put the old one back. Neither
 * fails: a readline that misbehaves only means no completion. postloop
 * keeps the exception that may be set. */
void Completion_preloop(PdbObject *self);
void Completion_postloop(PdbObject *self);

/* The DAP frontend's completions: the matches of `text` (a name or an
 * `a.b.c` chain) among the names of `globals`, `locals` (over them, or
 * NULL) and the builtins, found as the terminal's expression completion
 * finds them (the chain's objects' dir() and getattr(), under the same
 * deadline): sorted, no repeats, exact str of at most 1000 characters, at
 * most `max`. Never raises: an error or the deadline gives fewer matches.
 * New list, or NULL on MemoryError. */
PyObject *Completion_in_namespace(PyObject *globals, PyObject *locals, PyObject *text, Py_ssize_t max);

/* 3.13's pdb completes only expressions while a multi-line statement is
 * typed: it sets the instance attribute completenames = completedefault for
 * that time, and complete() finds completenames with getattr, so doing the
 * same from C works here too. */

#endif
