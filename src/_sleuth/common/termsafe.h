/* termsafe.h — text from untrusted data made safe to print on a terminal.
 *
 * Evidence files and other processes' memory are data somebody else wrote:
 * printed raw, an escape sequence in a function name or a repr can move the
 * cursor, rewrite earlier lines, set the window title or hide text, and a
 * bidi control (U+202E) can make a line read differently than it is.
 * TermSafe_escape keeps newlines and tabs and shows every other control
 * character as a Python-style escape: C0 and DEL as \xNN, C1 as \x80..\x9f,
 * bidi and other invisible format controls as \uNNNN, and so are lone
 * surrogates (which no output encoding can write).
 */
#ifndef SLEUTH_TERMSAFE_H
#define SLEUTH_TERMSAFE_H
#include <Python.h>
#include <stdio.h>

/* A new str with control characters escaped (text itself, with a new
 * reference, when there is none). NULL with an exception on error. */
PyObject *TermSafe_escape(PyObject *text);

/* 1 if TermSafe_escape shows `ch` escaped (for writers of raw UTF-8). */
int TermSafe_unsafe_char(Py_UCS4 ch);

/* Write the UTF-8 bytes s[0:n] to `f` as TermSafe_escape would show them:
 * unsafe characters and bytes that are not UTF-8 (a NUL, a cut sequence)
 * as \xNN / \uNNNN. Plain C: no Python objects, no GIL needed. */
void TermSafe_fwrite(FILE *f, const char *s, size_t n);

#endif
