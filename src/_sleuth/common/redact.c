/* redact.c — case-insensitive "name contains a secret-looking word" test.
 *
 * Names are nearly always ASCII identifiers or dict keys, and this runs for
 * every local of every captured frame, so the match is a byte loop over
 * UTF-8 with ASCII case folding instead of a str.lower() call per name.
 * Non-ASCII bytes compare exactly; patterns are lowercased once (with
 * str.lower) when the rule set is built.
 */
#include "redact.h"
#include <string.h>

static const char *const DEFAULT_PATTERNS[] = {
    "password", "passwd", "secret", "token", "api_key", "apikey", "auth",
    "credential", "private_key", "session", "cookie", "csrf", NULL,
};

PyObject *
Redact_default_patterns(void)
{
    /* Owned */
    PyObject *tuple = NULL;
    Py_ssize_t n = 0;

    while (DEFAULT_PATTERNS[n])
        n++;
    tuple = PyTuple_New(n);
    if (!tuple)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyUnicode_FromString(DEFAULT_PATTERNS[i]);
        if (!s)
            goto error;
        PyTuple_SET_ITEM(tuple, i, s);
    }
    return tuple;
error:
    Py_XDECREF(tuple);
    return NULL;
}

/* Append the lowercased str items of `iterable` to `list`. */
static int
add_patterns(PyObject *list, PyObject *iterable)
{
    /* Owned */
    PyObject *it = NULL, *item = NULL, *low = NULL;

    if (PyUnicode_Check(iterable)) {
        /* A lone string is one pattern, not a sequence of letters. */
        low = PyObject_CallMethod(iterable, "lower", NULL);
        if (!low)
            goto error;
        if (PyUnicode_GET_LENGTH(low) > 0 && PyList_Append(list, low) < 0)
            goto error;
        Py_DECREF(low);
        return 0;
    }
    it = PyObject_GetIter(iterable);
    if (!it)
        goto error;
    while ((item = PyIter_Next(it)) != NULL) {
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "redaction patterns must be str, not %.100s",
                         Py_TYPE(item)->tp_name);
            goto error;
        }
        low = PyObject_CallMethod(item, "lower", NULL);
        if (!low)
            goto error;
        if (PyUnicode_GET_LENGTH(low) > 0 && PyList_Append(list, low) < 0)
            goto error;
        Py_CLEAR(low);
        Py_CLEAR(item);
    }
    if (PyErr_Occurred())
        goto error;
    Py_DECREF(it);
    return 0;
error:
    Py_XDECREF(it);
    Py_XDECREF(item);
    Py_XDECREF(low);
    return -1;
}

PyObject *
Redact_build(PyObject *replace, PyObject *extra)
{
    /* Owned */
    PyObject *list = NULL, *defaults = NULL, *res = NULL;

    list = PyList_New(0);
    if (!list)
        goto done;
    if (replace == NULL || replace == Py_None) {
        defaults = Redact_default_patterns();
        if (!defaults || add_patterns(list, defaults) < 0)
            goto done;
    }
    else if (add_patterns(list, replace) < 0)
        goto done;
    if (extra && extra != Py_None && add_patterns(list, extra) < 0)
        goto done;
    res = PyList_AsTuple(list);
done:
    Py_XDECREF(list);
    Py_XDECREF(defaults);
    return res;
}

static inline unsigned char
ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Does `hay` contain `needle` (already lowercase), folding ASCII case in hay? */
static int
contains_folded(const char *hay, Py_ssize_t hlen, const char *needle, Py_ssize_t nlen)
{
    if (nlen == 0 || nlen > hlen)
        return 0;
    unsigned char first = (unsigned char)needle[0];
    for (Py_ssize_t i = 0; i + nlen <= hlen; i++) {
        if (ascii_lower((unsigned char)hay[i]) != first)
            continue;
        Py_ssize_t j = 1;
        while (j < nlen && ascii_lower((unsigned char)hay[i + j]) == (unsigned char)needle[j])
            j++;
        if (j == nlen)
            return 1;
    }
    return 0;
}

int
Redact_utf8_matches(PyObject *patterns, const char *name, Py_ssize_t len)
{
    if (!patterns || !PyTuple_Check(patterns) || !name)
        return 0;
    Py_ssize_t n = PyTuple_GET_SIZE(patterns);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t plen;
        /* Patterns come from Redact_build: str whose UTF-8 is cached. */
        const char *p = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(patterns, i), &plen);
        if (!p) {
            PyErr_Clear();
            continue;
        }
        if (contains_folded(name, len, p, plen))
            return 1;
    }
    return 0;
}

int
Redact_name_matches(PyObject *patterns, PyObject *name)
{
    /* Owned */
    PyObject *low = NULL;
    int res = 0;

    if (!patterns || !PyTuple_Check(patterns) || PyTuple_GET_SIZE(patterns) == 0)
        return 0;
    if (!name || !PyUnicode_Check(name))
        return 0;
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(name, &len);
    if (!s) {
        /* Lone surrogates cannot be encoded; such a name is no secret word. */
        if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    if (PyUnicode_IS_ASCII(name))
        return Redact_utf8_matches(patterns, s, len);
    /* Non-ASCII: fold with str.lower so "PÄSSWORD"-style names still match. */
    low = PyObject_CallMethod(name, "lower", NULL);
    if (!low)
        return -1;
    s = PyUnicode_AsUTF8AndSize(low, &len);
    if (!s) {
        PyErr_Clear();
        res = 0;
    }
    else
        res = Redact_utf8_matches(patterns, s, len);
    Py_DECREF(low);
    return res;
}
