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

/* 3.13's pdb completes only expressions while a multi-line statement is
 * typed: it sets the instance attribute completenames = completedefault for
 * that time, and complete() finds completenames with getattr, so doing the
 * same from C works here too. */

#endif
