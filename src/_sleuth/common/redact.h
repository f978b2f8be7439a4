/* redact.h — decide which names hide their value as '[redacted]'.
 *
 * A rule set is a plain Python tuple of lowercase str patterns; a name
 * matches when it contains any pattern, ignoring case ("DB_Password"
 * matches "password"). Tuples keep the rules immutable, GC-visible and
 * cheap to share between a hook object and the calls it makes.
 *
 * Callers own the tuple; these functions never keep a reference.
 */
#ifndef SLEUTH_REDACT_H
#define SLEUTH_REDACT_H
#include "compat.h"

/* What a redacted value looks like: its repr text and the str it stands for. */
#define REDACT_TEXT "[redacted]"
#define REDACT_REPR "'[redacted]'"

/* New tuple of the built-in patterns (password, secret, token, ...). */
PyObject *Redact_default_patterns(void);

/* Build a rule set from the user's options:
 *   replace: None -> the defaults, else an iterable of str that replaces them;
 *   extra:   None or an iterable of str added to the result.
 * Returns a new tuple of lowercase patterns (empty patterns dropped);
 * NULL with TypeError when an item is not a str. */
PyObject *Redact_build(PyObject *replace, PyObject *extra);

/* 1 when `name` (any object; only str can match) contains a pattern of
 * `patterns` ignoring case, 0 when not (or patterns is NULL/empty),
 * -1 with an exception set on failure. */
int Redact_name_matches(PyObject *patterns, PyObject *name);

/* Same test for a UTF-8 C string of `len` bytes. Never fails. */
int Redact_utf8_matches(PyObject *patterns, const char *name, Py_ssize_t len);

#endif /* SLEUTH_REDACT_H */
