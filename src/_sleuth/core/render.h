/* render.h — pdb-identical text: location lines, stack traces, listings. */
#ifndef SLEUTH_RENDER_H
#define SLEUTH_RENDER_H
#include "pdb.h"

/* bdb.format_stack_entry((frame, lineno), lprefix) */
PyObject *Render_stack_entry(PdbObject *self, PyObject *entry, const char *lprefix);
/* pdb.print_stack_trace; count < 0 prints the whole stack */
int Render_stack_trace(PdbObject *self, Py_ssize_t count);
/* pdb._print_lines(lines[...], start, breaks, frame) */
int Render_print_lines(PdbObject *self, PyObject *lines, long start, PyObject *breaks, PyObject *frame);
/* linecache.getline / getlines with the frame's globals */
PyObject *Render_getline(PyObject *filename, long lineno, PyObject *globals);
PyObject *Render_getlines(PyObject *filename, PyObject *globals);
/* self.get_file_breaks(filename): list of lines (new ref) */
PyObject *Render_file_breaks(PdbObject *self, PyObject *filename);

#endif
