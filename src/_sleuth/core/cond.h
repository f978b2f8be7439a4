/* cond.h — breakpoint conditions evaluated without the interpreter.
 *
 * bdb evaluates a condition with eval() on every hit: a function object, a
 * frame and a trip through the eval loop for `n == -1`. Most conditions are
 * names, constants, attribute and item access, arithmetic, comparisons,
 * boolean operators and plain calls; those are compiled once, from the
 * condition's AST, into a small tree that C walks with the same C-API calls
 * the interpreter makes (PyObject_RichCompare, PyNumber_Add, ...), names
 * resolved through the same locals mapping, globals and builtins, in the
 * same order (f-strings, keyword arguments, conditional expressions and
 * displays too). Anything else (comprehensions, lambdas, walrus, *args and
 * **kwargs, frame-introspecting builtins) keeps the eval() path.
 */
#ifndef SLEUTH_COND_H
#define SLEUTH_COND_H
#include <Python.h>

typedef struct CondNode CondNode;

/* The compiled form of `source`, or NULL when it is not a simple condition
 * (never with an exception set). */
CondNode *Cond_compile(PyObject *source);
void Cond_free(CondNode *node);

/* The condition's value (new reference), or NULL with an exception set, as
 * eval(source, globals, locals) would give. */
PyObject *Cond_eval(CondNode *node, PyObject *globals, PyObject *locals);

/* The same with `frame`'s locals read in place, for a frame Cond_frame_ok
 * accepts (3.11 and 3.12 build frame.f_locals anew on each access; a
 * function with plain locals only can skip that). */
int Cond_frame_ok(PyObject *frame);
/* Cond_frame_ok remembered per code object: *code holds a strong reference
 * to the last code answered for (or NULL), *ok its answer. */
int Cond_frame_ok_cached(PyObject *frame, PyObject **code, int *ok);
PyObject *Cond_eval_frame(CondNode *node, PyObject *globals, PyObject *frame);

#endif
