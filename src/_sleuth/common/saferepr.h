/* saferepr.h — bounded, non-mutating repr() for values nobody has vetted.
 *
 * What it guarantees, for any object:
 *   - the text is at most max_chars characters (cut text ends in "...");
 *   - builtin containers (list, tuple, dict, set, frozenset and their
 *     subclasses) are rendered here, item by item, showing at most
 *     max_items items and max_depth levels, so a 100 MB list costs the same
 *     as a 10-item one; cycles show as "[...]" / "{...}" like repr();
 *   - user __repr__ code runs under a time budget (max_seconds per value):
 *     a trace function installed only while such code runs raises
 *     TimeoutError in it when the budget is spent, and the text is then
 *     "<repr timed out>". On the main thread a watchdog thread also
 *     interrupts a repr blocked in a system call (time.sleep, a lock, a
 *     socket) with a signal whose handler raises TimeoutError there; C code
 *     that holds the GIL, and reprs on other threads, cannot be interrupted;
 *   - all user __repr__ code of a batch together gets total_seconds (2 s by
 *     default); after that, values that would need it show
 *     "<repr skipped: time budget spent>" (builtin values still render);
 *   - a __repr__ that raises gives "<repr failed: ValueError>";
 *   - user __repr__ code runs at most once per object and batch: the text
 *     (or the failure) is remembered and reused wherever the object shows
 *     up again, so a __repr__ that mutates its object or is slow runs once;
 *   - nothing is mutated: no iterator is advanced, no attribute getter or
 *     __getattr__ runs (attributes are read from __dict__ and slots only);
 *   - with a redaction rule set (redact.h), dict keys (str or bytes),
 *     attribute names, namedtuple fields and the first item of a 2-tuple
 *     that match show their value as '[redacted]' (and the value is noted
 *     in c->found), and an object whose own __repr__ would print such a
 *     value is rendered here instead (SimpleNamespace and mappingproxy too);
 *   - newlines in user repr text are escaped, so the text is one line;
 *   - the caller's pending exception, if any, is preserved.
 *
 * Use: one SafeRepr_Context per batch of values (a traceback, a capture),
 * so the time guard is installed at most once per batch:
 *
 *     SafeRepr_Options o; SafeRepr_options_default(&o); o.redact = rules;
 *     SafeRepr_Context c; SafeRepr_begin(&c, &o);
 *     PyObject *text = SafeRepr_named(&c, name, value);   // new str
 *     ...
 *     SafeRepr_end(&c);
 *
 * SafeRepr_repr(obj, &o) does all three for a single value. Every function
 * needs the GIL. The debugger's p/pp/display output and the evidence
 * capture use the same context, so they show the same text.
 */
#ifndef SLEUTH_SAFEREPR_H
#define SLEUTH_SAFEREPR_H
#include "compat.h"
#include "redact.h"

#define SAFEREPR_DEFAULT_MAX_CHARS 200
#define SAFEREPR_DEFAULT_MAX_ITEMS 25
#define SAFEREPR_DEFAULT_MAX_DEPTH 4
#define SAFEREPR_DEFAULT_MAX_SECONDS 0.1
#define SAFEREPR_DEFAULT_TOTAL_SECONDS 2.0
#define SAFEREPR_MAX_DEPTH_LIMIT 32   /* max_depth is clamped to this */

typedef struct {
    Py_ssize_t max_chars;   /* longest text for one value (>= 8) */
    Py_ssize_t max_items;   /* container items shown before "..." */
    int max_depth;          /* nesting levels shown before "[...]" */
    double max_seconds;     /* time budget per value; <= 0 means no guard */
    double total_seconds;   /* user __repr__ time for the whole batch; <= 0: no limit */
    PyObject *redact;       /* borrowed rule tuple (redact.h), or NULL */
} SafeRepr_Options;

typedef struct SafeRepr_Context {
    SafeRepr_Options opts;
    /* Time guard: installed lazily before the first user __repr__ runs. */
    int guard_installed;
    Py_tracefunc saved_func;        /* the trace function we displaced */
    PyObject *saved_obj;            /* owned: its argument */
    int tracing_lowered;            /* tracing levels lifted for the guard (see guard_install) */
    PyObject *capsule;              /* owned: points back at this context */
    double deadline;                /* monotonic seconds; the current value's */
    double batch_deadline;          /* end of the batch's user-code budget */
    double guard_deadline;          /* min of the two: when the guard fires */
    int armed;                      /* 1 while user code runs under the guard */
    int timed_out;                  /* the guard fired for the current value */
    PyObject *secret_cache;         /* owned: id -> (obj, bool) of secret scans */
    PyObject *repr_memo;            /* owned: id -> (obj, text) of user reprs run */
    struct SafeRepr_Watchdog *watchdog;   /* owned: interrupts blocked reprs, or NULL */
    Redact_Found found;             /* secrets hidden so far (memory only) */
    int keep_found;                 /* SafeRepr_end leaves `found` to the caller */
    /* Containers being rendered (borrowed; the renderer holds references). */
    PyObject *ancestors[SAFEREPR_MAX_DEPTH_LIMIT + 1];
    int nancestors;
} SafeRepr_Context;

/* What the renderer can look inside without running user code. */
typedef enum {
    SAFEREPR_ATOM = 0,      /* shown by its repr text only */
    SAFEREPR_SEQUENCE,      /* list or tuple (or subclass): items by index */
    SAFEREPR_SET,           /* set or frozenset with the builtin iterator */
    SAFEREPR_MAPPING,       /* dict or subclass: (key, value) pairs */
    SAFEREPR_OBJECT,        /* instance of a Python class: attributes */
} SafeRepr_Kind;

/* Fill `o` with the defaults above (no redaction). */
void SafeRepr_options_default(SafeRepr_Options *o);

/* Start a batch. Never fails; the options are copied, `o->redact` is
 * borrowed and must outlive the context. */
void SafeRepr_begin(SafeRepr_Context *c, const SafeRepr_Options *o);

/* End a batch: restore the previous trace function and, unless keep_found
 * is set (the caller then calls Redact_found_clear), forget c->found. */
void SafeRepr_end(SafeRepr_Context *c);

/* Safe repr text of `obj` (new str). NULL only on MemoryError. */
PyObject *SafeRepr_value(SafeRepr_Context *c, PyObject *obj);

/* Same, but the value is hidden when `name` matches the redaction rules. */
PyObject *SafeRepr_named(SafeRepr_Context *c, PyObject *name, PyObject *obj);

/* 1 when `name` matches the context's redaction rules, else 0. Never fails. */
int SafeRepr_is_secret_name(SafeRepr_Context *c, PyObject *name);

/* Same for an attribute `name` of `obj`; a private attribute (`_x`) of an
 * object whose class has a property with a secret name is secret too: the
 * property's value lives there and getters never run. Never fails. */
int SafeRepr_is_secret_attr(SafeRepr_Context *c, PyObject *obj, PyObject *name);

/* Remember `value`, hidden because of its name (kind), so that the batch's
 * output can be scrubbed of it elsewhere (Redact_scrub_*). Never fails. */
void SafeRepr_note_secret(SafeRepr_Context *c, PyObject *value, Redact_Kind kind);

/* 1 when `name` is a near-miss name (key, tok, sig, hmac...) and `value` a
 * random-looking str or bytes (redact.h, Redact_near_secret): the value is
 * then noted (REDACT_K_ENTROPY) and must be shown redacted. */
int SafeRepr_near_secret(SafeRepr_Context *c, PyObject *name, PyObject *value);

/* 1 when item i of a SEQUENCE must be hidden: a namedtuple field with a
 * secret name, or the value of a ("password", value) pair; it is then
 * noted. Never fails. */
int SafeRepr_hide_item(SafeRepr_Context *c, PyObject *seq, Py_ssize_t i);

/* One-shot: begin, value, end. */
PyObject *SafeRepr_repr(PyObject *obj, const SafeRepr_Options *o);

/* Classify `obj` (see SafeRepr_Kind). Never fails. */
SafeRepr_Kind SafeRepr_kind(PyObject *obj);

/* The first `max_items` children of `obj`, read without running user code,
 * as a new list: items for SEQUENCE and SET, (key, value) tuples for
 * MAPPING, (name, value) tuples for OBJECT (instance __dict__ with str keys,
 * then slots); an empty list for ATOM. `*total` receives the full count.
 * NULL with an exception on failure. */
PyObject *SafeRepr_children(PyObject *obj, Py_ssize_t max_items, Py_ssize_t *total);

/* "qualname" for builtins, "module.qualname" otherwise (new str). */
PyObject *SafeRepr_type_name(PyTypeObject *tp);

#endif /* SLEUTH_SAFEREPR_H */
