/* jsonw.h — a small JSON text writer into a growable UTF-8 buffer.
 *
 * Evidence capture writes JSON directly instead of building Python dicts for
 * json.dumps: it is faster, and the byte size of what has been written is
 * known at every step, which is what the size budget is measured in.
 * A failed allocation sets `nomem` and turns later writes into no-ops;
 * check it once at the end (JsonW_finish).
 */
#ifndef SLEUTH_JSONW_H
#define SLEUTH_JSONW_H
#include "compat.h"

typedef struct {
    char *buf;
    Py_ssize_t len, cap;
    int nomem;
    int borrowed;           /* buf is the caller's (JsonW_init_buf): never freed here */
} JsonW;

void JsonW_init(JsonW *w);
/* Start in the caller's buffer (a stack array): no allocation until the
 * text outgrows it, then it moves to the heap. JsonW_free as usual. */
void JsonW_init_buf(JsonW *w, char *buf, Py_ssize_t cap);
void JsonW_free(JsonW *w);
void JsonW_raw(JsonW *w, const char *s, Py_ssize_t n);
void JsonW_lit(JsonW *w, const char *s);               /* raw C string */
void JsonW_cstr(JsonW *w, const char *s, Py_ssize_t n); /* quoted, escaped UTF-8 */
void JsonW_str(JsonW *w, PyObject *s);                  /* quoted str object; non-str -> null */
/* The inside of JsonW_str's quotes: the escaped text of str `s` (lone
 * surrogates backslash-replaced, as JsonW_str does); non-str writes nothing. */
void JsonW_str_text(JsonW *w, PyObject *s);
void JsonW_int(JsonW *w, long long v);
void JsonW_double(JsonW *w, double v);                  /* non-finite -> null */
void JsonW_key(JsonW *w, const char *key);              /* "key": (no comma) */
void JsonW_append(JsonW *w, const JsonW *other);
/* Remove the last n bytes (used to drop a trailing comma). */
void JsonW_truncate(JsonW *w, Py_ssize_t len);
/* Write a tree of dict (str keys) / list / tuple / str / int / float / bool /
 * None as JSON. 0, or -1 with TypeError (another type, a non-str key) or
 * ValueError (nested deeper than JSONW_MAX_DEPTH: a cycle). Needs the GIL. */
#define JSONW_MAX_DEPTH 100
int JsonW_obj(JsonW *w, PyObject *obj);
/* New bytes object of the text, or NULL (MemoryError) if a write failed. */
PyObject *JsonW_finish_bytes(JsonW *w);

#endif /* SLEUTH_JSONW_H */
