/* capture.h — turn an exception (or the current stack) into an evidence
 * document: JSON text in the format of docs/evidence.md, version 1.
 *
 * Capture reads frames, tracebacks and locals without running user code
 * except bounded __repr__ calls (saferepr.h), redacts secret-looking names,
 * and keeps the whole document under max_bytes by giving the innermost
 * frames of the failure their locals first and degrading the rest (repr
 * text only, then omitted) when the budget runs short.
 */
#ifndef SLEUTH_CAPTURE_H
#define SLEUTH_CAPTURE_H
#include "compat.h"
#include "saferepr.h"

#define CAPTURE_FORMAT_NAME "sleuth-evidence"
#define CAPTURE_FORMAT_VERSION 1
#define CAPTURE_DEFAULT_MAX_BYTES 1000000
#define CAPTURE_DEFAULT_STRUCT_DEPTH 3   /* levels of items/attributes kept */
#define CAPTURE_DEFAULT_MAX_NODES 64     /* structure nodes per local */

typedef struct {
    int locals;                 /* capture locals at all */
    Py_ssize_t max_bytes;       /* budget for the whole JSON text */
    int struct_depth;           /* container/object levels kept below a local */
    Py_ssize_t max_nodes;       /* structure nodes per local */
    SafeRepr_Options repr;      /* repr budgets; repr.redact is borrowed */
} Capture_Options;

void Capture_options_default(Capture_Options *o);

/* The evidence JSON (bytes) for `exc` (an exception instance), or, when exc
 * is NULL or None, for the stack that starts at `frame` (borrowed; may be
 * NULL for "no stack"). `reason` is a short text ("uncaught exception",
 * ...). `pkg_cache` is a dict the caller keeps between captures (module
 * name -> {dist: version}); may be NULL. NULL with an exception on failure. */
PyObject *Capture_document(PyObject *exc, PyFrameObject *frame, const char *reason,
                           const Capture_Options *o, PyObject *pkg_cache);

/* Write `data` (bytes) to `path` atomically (temporary file + rename),
 * gzip-compressed when `compress`. Mode 0600: evidence may be sensitive.
 * 0, or -1 with OSError set. */
int Capture_write_file(PyObject *data, PyObject *path, int compress);

#endif /* SLEUTH_CAPTURE_H */
