/* jsonr.h — a strict JSON (RFC 8259) reader into Python objects, with limits.
 *
 * Text comes from untrusted peers (DAP clients and debuggees), so every
 * dimension is bounded: the whole text, the nesting depth (the parser is
 * recursive), the length of one string and of one number. On any error the
 * result is NULL with a one-line ValueError that names what is wrong and
 * where ("invalid JSON: expected ':' after an object key at line 1 column 9").
 *
 * Strict means: no NaN/Infinity, no leading zeros, no trailing commas, no
 * comments, no control characters inside strings, valid UTF-8 only, no lone
 * surrogate escapes, nothing but whitespace after the value. Objects become
 * dicts (a repeated key keeps its last value, as json.loads does), arrays
 * lists, numbers int or float.
 *
 * Needs the GIL (it creates Python objects).
 */
#ifndef SLEUTH_JSONR_H
#define SLEUTH_JSONR_H
#include "compat.h"

#define JSONR_MAX_SIZE    (16 * 1024 * 1024)   /* bytes of the whole text */
#define JSONR_MAX_DEPTH   64                   /* nested arrays/objects */
#define JSONR_MAX_STRING  (16 * 1024 * 1024)   /* bytes of one string, as written */
#define JSONR_MAX_NUMBER  64                   /* characters of one number */

typedef struct {
    Py_ssize_t max_size;
    int max_depth;
    Py_ssize_t max_string;
    int max_number;
} JsonRLimits;

/* The limits above. */
extern const JsonRLimits JsonR_default_limits;

/* Parse `len` bytes of UTF-8 JSON text. lim NULL means the defaults.
 * New reference, or NULL with ValueError (MemoryError if allocation failed). */
PyObject *JsonR_parse(const char *text, Py_ssize_t len, const JsonRLimits *lim);

#endif /* SLEUTH_JSONR_H */
