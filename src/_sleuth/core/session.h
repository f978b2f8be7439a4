/* session.h — what exists while a thread is stopped, for any frontend.
 *
 * A stop has a stack (bdb's list of (frame, lineno), outermost first, with
 * the traceback's frames after the stopped one in post-mortem), the
 * exception that caused it (if any), and the values a client has been shown.
 * Values get references (small positive ints) that stay valid for the whole
 * stop, so a client can expand them and page through their children in any
 * order; every text shown goes through the safe repr (bounded size and
 * time, never raising, never mutating) with the redaction rules applied.
 *
 * The terminal frontend builds its stack with Session_build_stack; the DAP
 * frontend holds a Session for the stopped thread and answers stackTrace,
 * scopes, variables, evaluate and setVariable from it.
 */
#ifndef SLEUTH_SESSION_H
#define SLEUTH_SESSION_H
#include "compat.h"
#include "redact.h"

/* bdb.get_stack(f, t) without a debugger object: the frames from `f` out to
 * `botframe` (or the outermost), then the traceback's frames below `f`.
 * Returns the list (new ref) and sets *index to the stopped entry. */
PyObject *Session_build_stack(PyObject *botframe, PyObject *f, PyObject *tb, Py_ssize_t *index);

/* The frontend a debugger object reports its stops to. The terminal's
 * command loop is the default (no frontend set); another frontend (DAP)
 * sets one on the debugger object it drives, so the engine's stops reach it
 * through the same bdb hooks and stepping state, and neither frontend knows
 * the other. `stop` returns 0, or -1 with an exception (BdbQuit) like bdb's
 * user_* hooks. For SESSION_STOP_RETURN `value` is the return value; for
 * SESSION_STOP_EXCEPTION `value` is the exception and `tb` its traceback. */
typedef enum {
    SESSION_STOP_LINE,
    SESSION_STOP_CALL,
    SESSION_STOP_RETURN,
    SESSION_STOP_EXCEPTION,
} SessionStop;

typedef struct SessionFrontend {
    int (*stop)(void *ctx, PyObject *frame, PyObject *value, PyObject *tb, SessionStop what);
} SessionFrontend;

typedef enum {
    SESSION_REF_LOCALS = 1,   /* a frame's locals */
    SESSION_REF_GLOBALS,      /* a frame's globals */
    SESSION_REF_VALUE,        /* a value's children (SafeRepr_children) */
} Session_RefKind;

typedef struct {
    PyObject *stack;     /* list of (frame, lineno), outermost first, or NULL */
    Py_ssize_t index;    /* the stopped entry */
    PyObject *exc;       /* the stop's exception, or NULL */
    PyObject *refs;      /* list of (kind, obj, evaluateName or None, frame) */
    PyObject *ref_ids;   /* dict (kind, id(obj)) -> ref: one reference per value */
    PyObject *redact;    /* redaction rule tuple, or NULL: nothing hidden */
    Redact_Found found;  /* secrets hidden during this stop: scrubbed from later texts */
    long generation;     /* which stop: frame ids and references carry it */
} Session;

/* How a text is shown (Session_describe_as): the variables view, hover and
 * watch hide secrets; the repl and the clipboard show what the user asked
 * for (the clipboard the whole repr, within a large bound). */
typedef enum {
    SESSION_SHOW_VIEW = 0,    /* variables, hover, watch: 1000 chars, redacted */
    SESSION_SHOW_REPL,        /* the debug console: 100,000 chars, not redacted */
    SESSION_SHOW_CLIPBOARD,   /* copy value: 1,000,000 chars, every item, not redacted */
} Session_Show;

/* Which children a variables request wants (DAP's `filter`). */
typedef enum {
    SESSION_KIDS_ALL = 0,
    SESSION_KIDS_INDEXED,
    SESSION_KIDS_NAMED,
} Session_Kids;

/* Children shown when a client asks without `count` (clients that do not
 * page); the parent's indexedVariables tells a paging client the total. */
#define SESSION_FIRST_PAGE 300
/* Containers with more children than this present them as indexed (a
 * paging client fetches them in chunks), whatever their kind. */
#define SESSION_BIG 100

/* Start a stop at `frame` (None in post-mortem) with traceback `tb` (None
 * if none) and exception `exc` (NULL if none). 0 or -1. */
int Session_begin(Session *s, PyObject *botframe, PyObject *frame, PyObject *tb, PyObject *exc);
void Session_end(Session *s);
int Session_traverse(Session *s, visitproc visit, void *arg);
void Session_clear(Session *s);

/* Frames, innermost first: level 0 is the stopped frame. Frame ids carry
 * the stop's generation, so an id from an earlier stop is refused. */
Py_ssize_t Session_depth(Session *s);
long Session_frame_id(Session *s, Py_ssize_t level);
/* The frame with that id (borrowed) and its line, or NULL (no exception). */
PyObject *Session_frame(Session *s, long frame_id, int *lineno);

/* The reference of a value shown to a client (0: nothing to expand).
 * -1 with an exception on failure. */
long Session_ref(Session *s, Session_RefKind kind, PyObject *obj, PyObject *evaluate_name,
                 PyObject *frame);

/* The children of reference `ref` as a list of dicts in DAP's Variable
 * shape: name, value, type, variablesReference, evaluateName (when there is
 * one), indexedVariables/namedVariables (containers). `start`.. `count`
 * children (count <= 0: all of a scope, the first SESSION_FIRST_PAGE of a
 * value, then a virtual "..." entry saying how many more). The cost is
 * that of the window: a list is read by index, a dict or set from its
 * start. `kids` filters as DAP's filter: a container presents its
 * children either as indexed (sequences, sets, anything bigger than
 * SESSION_BIG) or as named, as its indexedVariables/namedVariables said.
 * NULL with ValueError for an unknown reference. */
PyObject *Session_variables(Session *s, long ref, Py_ssize_t start, Py_ssize_t count, Session_Kids kids);

/* The same shape for one value (new dict): value, type, variablesReference,
 * indexedVariables or namedVariables. A value whose `name` is secret shows
 * "[redacted]" and cannot be expanded; secret shapes in any text are
 * scrubbed (when the session has rules). */
PyObject *Session_describe(Session *s, PyObject *name, PyObject *value, PyObject *evaluate_name,
                           PyObject *frame);
/* Same, shown as `how` (an evaluate context). */
PyObject *Session_describe_as(Session *s, PyObject *name, PyObject *value, PyObject *evaluate_name,
                              PyObject *frame, Session_Show how);

/* The name an expression's value goes by, for the redaction rules: the
 * last identifier of `a.b.token`, or the string key of `cfg["password"]`
 * (new str), or NULL (no exception). */
PyObject *Session_expression_name(PyObject *expr);

/* A frame's locals mapping as pdb reads it (new ref). */
PyObject *Session_frame_locals(PyObject *frame);

/* Evaluate `source` in `frame` as pdb does: as an expression, else (when
 * allow_statement) as statements, whose value is None. The program sees no
 * exception afterwards: a failure returns NULL with *error set to a new
 * "Type: message" str and no exception set (NULL *error: out of memory, an
 * exception set). Assignments reach the frame's fast locals at once. */
PyObject *Session_eval(PyObject *frame, PyObject *source, int allow_statement, PyObject **error);

/* Set child `name` of reference `ref` to the value of `expr` evaluated in
 * the reference's frame. Returns the new value (new ref), or NULL with
 * *error set as Session_eval does. */
PyObject *Session_set_variable(Session *s, long ref, PyObject *name, PyObject *expr, PyObject **error);

/* The frame a reference belongs to (borrowed), or NULL. */
PyObject *Session_ref_frame(Session *s, long ref);

/* "Type: message" for the exception being raised, which is cleared. */
PyObject *Session_take_error(void);

#endif
