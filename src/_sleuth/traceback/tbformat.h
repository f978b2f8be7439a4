/* tbformat.h — stdlib-identical traceback text, plus safe locals.
 *
 * The plain text comes from the standard library's traceback module (the
 * only sure way to stay byte-identical on every version). With locals, we
 * build the same traceback.TracebackException and, before formatting it,
 * give each FrameSummary a `locals` dict of safe repr texts: the stdlib then
 * prints them in its capture_locals layout ("    name = value" lines, sorted
 * by name, under the frame's source and position markers).
 */
#ifndef SLEUTH_TBFORMAT_H
#define SLEUTH_TBFORMAT_H
#include "compat.h"
#include "saferepr.h"

/* Options shared by every locals-aware entry point. */
typedef struct {
    int locals;                 /* add safe locals under each frame line */
    SafeRepr_Options repr;      /* budgets; repr.redact owned by the caller */
} TbFormat_Options;

/* Pop sleuth's keyword options (locals, max_length, max_items, max_depth,
 * repr_timeout, total_repr_timeout, redact, redact_extra) from `kwargs` (a dict we may modify)
 * into `o`; o->repr.redact becomes a new reference the caller releases with
 * TbFormat_options_clear. -1 with an exception on bad values. */
int TbFormat_pop_options(PyObject *kwargs, TbFormat_Options *o);
void TbFormat_options_clear(TbFormat_Options *o);

/* Lines (list of str) of exception `value` with traceback `tb`, as
 * traceback.format_exception(value, limit=limit, chain=chain) prints them,
 * with safe locals. `limit` may be None. */
PyObject *TbFormat_exception_lines(PyObject *stdlib, PyObject *value, PyObject *tb,
                                   PyObject *limit,
                                   int chain, const TbFormat_Options *o);

/* Give the FrameSummary entries of `stack` (a traceback.StackSummary that
 * was extracted from `tb` with `limit`) safe locals from the frames. */
int TbFormat_fill_stack(PyObject *stack, PyObject *tb, PyObject *limit, SafeRepr_Context *c);

/* Safe locals of a frame: dict name -> repr text. Module-level frames leave
 * out dunder names (__builtins__, __spec__, ...). */
PyObject *TbFormat_frame_locals(PyObject *frame, SafeRepr_Context *c);

#endif /* SLEUTH_TBFORMAT_H */
