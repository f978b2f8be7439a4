/* redact.c — secret names, secret value shapes, and scrubbing (redact.h).
 *
 * Sections: rule sets, names, found secrets, the shape scanner, scrubbing.
 *
 * Everything here runs per value shown or per text written, so it is byte
 * loops over UTF-8 with ASCII case folding: no str.lower() per name, no
 * regular expression per value (only the user's own redact_patterns go
 * through `re`, and only when given). Non-ASCII bytes compare exactly.
 */
#include "redact.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const DEFAULT_PATTERNS[] = {
    "password", "passwd", "secret", "token", "api_key", "apikey", "auth",
    "credential", "private_key", "session", "cookie", "csrf", NULL,
};

const char *const Redact_kind_names[REDACT_NKINDS] = {
    "name", "pair", "assignment", "argv", "url_password", "authorization",
    "aws_access_key", "jwt", "github_token", "stripe_key", "slack_token",
    "private_key", "user_value", "user_pattern", "high_entropy",
};

#define NAME_BUF 256        /* normalised name bytes looked at */

/* ------------------------------------------------------------------------ */
/* Rule sets                                                                */

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

/* Append the lowercased str items of `iterable` to `list` (a lone str is
 * one item, not a sequence of letters). */
static int
add_patterns(PyObject *list, PyObject *iterable, const char *what)
{
    /* Owned */
    PyObject *it = NULL, *item = NULL, *low = NULL;

    if (PyUnicode_Check(iterable)) {
        PyObject *one = PyTuple_Pack(1, iterable);
        if (!one)
            goto error;
        it = PyObject_GetIter(one);
        Py_DECREF(one);
    }
    else
        it = PyObject_GetIter(iterable);
    if (!it)
        goto error;
    while ((item = PyIter_Next(it)) != NULL) {
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what,
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

static Py_ssize_t normalise(const char *s, Py_ssize_t n, char *out, Py_ssize_t cap, int *nwords);
static int may_be_secret(const char *name, Py_ssize_t len);

/* Items of `iterable` (str, or compiled patterns when `compile`) as a tuple:
 * names normalised to " w1 w2 ", patterns compiled once with re. */
static PyObject *
user_items(PyObject *iterable, int mode)
{
    /* Owned */
    PyObject *list = NULL, *raw = NULL, *re = NULL, *res = NULL;

    list = PyList_New(0);
    if (!list)
        goto done;
    if (!iterable || iterable == Py_None) {
        res = PyTuple_New(0);
        goto done;
    }
    if (mode == 2) {            /* patterns: str or already compiled */
        PyObject *it = PyUnicode_Check(iterable) ? NULL : PyObject_GetIter(iterable), *item;
        if (!it && !PyUnicode_Check(iterable))
            goto done;
        re = PyImport_ImportModule("re");
        if (!re) {
            Py_XDECREF(it);
            goto done;
        }
        if (!it) {
            PyObject *one = PyTuple_Pack(1, iterable);
            it = one ? PyObject_GetIter(one) : NULL;
            Py_XDECREF(one);
            if (!it)
                goto done;
        }
        while ((item = PyIter_Next(it)) != NULL) {
            PyObject *pat = PyObject_CallMethod(re, "compile", "O", item);
            Py_DECREF(item);
            if (!pat || PyList_Append(list, pat) < 0) {
                Py_XDECREF(pat);
                Py_DECREF(it);
                goto done;
            }
            Py_DECREF(pat);
        }
        Py_DECREF(it);
        if (PyErr_Occurred())
            goto done;
        res = PyList_AsTuple(list);
        goto done;
    }
    raw = PyList_New(0);
    if (!raw || add_patterns(raw, iterable, mode == 1 ? "redaction names" : "redaction values") < 0)
        goto done;
    if (mode == 3) {            /* values: kept as given (lowercased copies are useless) */
        Py_CLEAR(raw);
        raw = PyList_New(0);
        if (!raw)
            goto done;
        PyObject *it = PyUnicode_Check(iterable) ? NULL : PyObject_GetIter(iterable), *item;
        if (PyUnicode_Check(iterable)) {
            if (PyList_Append(raw, iterable) < 0)
                goto done;
        }
        else {
            if (!it)
                goto done;
            while ((item = PyIter_Next(it)) != NULL) {
                int rc = PyList_Append(raw, item);
                Py_DECREF(item);
                if (rc < 0) {
                    Py_DECREF(it);
                    goto done;
                }
            }
            Py_DECREF(it);
            if (PyErr_Occurred())
                goto done;
        }
        res = PyList_AsTuple(raw);
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(raw); i++) {
        Py_ssize_t len;
        const char *s = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(raw, i), &len);
        char buf[NAME_BUF];
        int nw;
        if (!s)
            goto done;
        Py_ssize_t m = normalise(s, len, buf, sizeof buf, &nw);
        if (nw == 0)
            continue;
        PyObject *word = PyUnicode_FromStringAndSize(buf, m);
        if (!word || PyList_Append(list, word) < 0) {
            Py_XDECREF(word);
            goto done;
        }
        Py_DECREF(word);
    }
    res = PyList_AsTuple(list);
done:
    Py_XDECREF(list);
    Py_XDECREF(raw);
    Py_XDECREF(re);
    return res;
}

PyObject *
Redact_build_full(PyObject *replace, PyObject *extra, PyObject *names, PyObject *patterns,
                  PyObject *values)
{
    /* Owned */
    PyObject *list = NULL, *defaults = NULL, *pats = NULL, *nm = NULL, *rx = NULL, *vals = NULL;
    PyObject *res = NULL;
    int words = replace == NULL || replace == Py_None;

    list = PyList_New(0);
    if (!list)
        goto done;
    if (words) {
        defaults = Redact_default_patterns();
        if (!defaults || add_patterns(list, defaults, "redaction patterns") < 0)
            goto done;
    }
    else if (add_patterns(list, replace, "redaction patterns") < 0)
        goto done;
    if (extra && extra != Py_None && add_patterns(list, extra, "redaction patterns") < 0)
        goto done;
    pats = PyList_AsTuple(list);
    nm = pats ? user_items(names, 1) : NULL;
    rx = nm ? user_items(patterns, 2) : NULL;
    vals = rx ? user_items(values, 3) : NULL;
    if (!vals)
        goto done;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(vals); i++)
        if (!PyUnicode_Check(PyTuple_GET_ITEM(vals, i))) {
            PyErr_Format(PyExc_TypeError, "redaction values must be str, not %.100s",
                         Py_TYPE(PyTuple_GET_ITEM(vals, i))->tp_name);
            goto done;
        }
    res = PyTuple_Pack(5, pats, words ? Py_True : Py_False, nm, rx, vals);
done:
    Py_XDECREF(list);
    Py_XDECREF(defaults);
    Py_XDECREF(pats);
    Py_XDECREF(nm);
    Py_XDECREF(rx);
    Py_XDECREF(vals);
    return res;
}

PyObject *
Redact_build(PyObject *replace, PyObject *extra)
{
    return Redact_build_full(replace, extra, NULL, NULL, NULL);
}

static inline int
is_rules(PyObject *rules)
{
    return rules && PyTuple_Check(rules) && PyTuple_GET_SIZE(rules) == 5;
}

PyObject *
Redact_patterns_of(PyObject *rules)
{
    return is_rules(rules) ? PyTuple_GET_ITEM(rules, 0) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Names                                                                    */

static inline unsigned char
ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static inline int is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
static inline int is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_alnum(unsigned char c) { return is_lower(c) || is_upper(c) || is_digit(c); }
static inline int is_wordc(unsigned char c) { return is_alnum(c) || c >= 0x80; }

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

/* " w1 w2 ... " into out: lowercase words split at anything that is not a
 * letter or digit and at camelCase humps ("apiKey", "HTTPAuth"). */
static Py_ssize_t
normalise(const char *s, Py_ssize_t n, char *out, Py_ssize_t cap, int *nwords)
{
    Py_ssize_t m = 0;
    int inword = 0;
    *nwords = 0;
    out[m++] = ' ';
    for (Py_ssize_t i = 0; i < n && m < cap - 2; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_wordc(c)) {
            if (inword)
                out[m++] = ' ';
            inword = 0;
            continue;
        }
        if (inword && is_upper(c) && i > 0) {
            unsigned char p = (unsigned char)s[i - 1];
            unsigned char nx = i + 1 < n ? (unsigned char)s[i + 1] : 0;
            if (is_lower(p) || is_digit(p) || (is_upper(p) && is_lower(nx)))
                out[m++] = ' ';
        }
        if (!inword)
            (*nwords)++;
        inword = 1;
        out[m++] = (char)ascii_lower(c);
    }
    if (m > 0 && out[m - 1] != ' ')
        out[m++] = ' ';
    out[m] = 0;
    return m;
}

/* Words that are secret wherever they stand in a name (plural too), and
 * endings that make a longer word secret ("dbpassword", "clientsecret"). */
static const char *const SECRET_WORDS[] = {
    "password", "passwd", "passphrase", "pwd", "pw", "secret", "token", "apikey", "auth",
    "authorization", "credential", "creds", "cred", "cookie", "session", "sessionid", "csrf",
    "xsrf", "privatekey", "accesskey", "secretkey", "signingkey", "authtoken", "accesstoken",
    "refreshtoken", "bearer", NULL,
};
static const char *const SECRET_ENDINGS[] = {
    "password", "passwd", "secret", "token", "apikey", "cookie", "credential", NULL,
};
/* "<word> key" is a secret key unless the word says otherwise. */
static const char *const INNOCENT_KEY_WORDS[] = {
    "sort", "cache", "primary", "foreign", "dict", "lookup", "partition", "group", "index",
    "hash", "map", "row", "column", "col", "cmp", "public", "pub", "hot", "short", "shortcut",
    "unique", "natural", "composite", "routing", "object", "bucket", "sequence", "the", "a",
    "by", "of", "to", "from", "dedup", "idempotency", "ordering", "order", "type", NULL,
};

static int
word_in(const char *w, Py_ssize_t n, const char *const *list)
{
    /* First letter first: most names start with none of the list's. */
    if (n <= 0)
        return 0;
    for (int i = 0; list[i]; i++)
        if (list[i][0] == w[0] && (Py_ssize_t)strlen(list[i]) == n
                && memcmp(list[i], w, (size_t)n) == 0)
            return 1;
    return 0;
}

static int
secret_word(const char *w, Py_ssize_t n)
{
    if (word_in(w, n, SECRET_WORDS))
        return 1;
    if (n > 1 && w[n - 1] == 's' && word_in(w, n - 1, SECRET_WORDS))
        return 1;
    for (int i = 0; SECRET_ENDINGS[i]; i++) {
        Py_ssize_t k = (Py_ssize_t)strlen(SECRET_ENDINGS[i]);
        if (n > k && memcmp(w + n - k, SECRET_ENDINGS[i], (size_t)k) == 0)
            return 1;
    }
    return 0;
}

/* The built-in word rules on a normalised name " w1 w2 ... ". */
static int
words_match(const char *norm, Py_ssize_t m, int nwords)
{
    const char *prev = NULL;
    Py_ssize_t prevn = 0;
    int idx = 0;
    for (Py_ssize_t i = 1; i < m; idx++) {
        Py_ssize_t j = i;
        while (j < m && norm[j] != ' ')
            j++;
        const char *w = norm + i;
        Py_ssize_t n = j - i;
        if (n == 0)
            break;
        if (secret_word(w, n))
            return 1;
        /* "pass" and "pat" are secret as a later word (DB_PASS, GITHUB_PAT);
         * alone they are the keyword escape "pass_" or a pattern. */
        if ((n == 4 && memcmp(w, "pass", 4) == 0) || (n == 3 && memcmp(w, "pat", 3) == 0)) {
            if (idx > 0)
                return 1;
        }
        if ((n == 3 && memcmp(w, "key", 3) == 0) || (n == 4 && memcmp(w, "keys", 4) == 0)) {
            if (prev && (idx == nwords - 1 || (prevn == 3 && memcmp(prev, "api", 3) == 0)
                         || (prevn == 7 && memcmp(prev, "private", 7) == 0)
                         || (prevn == 6 && memcmp(prev, "access", 6) == 0))
                    && !word_in(prev, prevn, INNOCENT_KEY_WORDS))
                return 1;
        }
        prev = w;
        prevn = n;
        i = j + 1;
    }
    return 0;
}

int
Redact_default_name_matches(const char *name, Py_ssize_t len)
{
    char norm[NAME_BUF];
    int nwords;
    if (!may_be_secret(name, len))
        return 0;
    for (int i = 0; DEFAULT_PATTERNS[i]; i++)
        if (contains_folded(name, len, DEFAULT_PATTERNS[i], (Py_ssize_t)strlen(DEFAULT_PATTERNS[i])))
            return 1;
    Py_ssize_t m = normalise(name, len, norm, sizeof norm, &nwords);
    if (nwords == 0)
        return 0;
    return words_match(norm, m, nwords) || (len == 4 && m == 6 && memcmp(norm, " pass ", 6) == 0);
}

/* The scanner's name test: the rule set's, or the defaults without one. */
static int
name_secret(PyObject *rules, const char *name, Py_ssize_t len)
{
    return rules ? Redact_utf8_matches(rules, name, len) : Redact_default_name_matches(name, len);
}

/* Can `name` match the built-in rules at all? Every default pattern and
 * secret word contains one of these letter groups; most names (and most
 * "x: y" in the text the scanner reads) contain none, and are answered here
 * in one pass instead of a dozen substring searches and a normalisation. */
static int
may_be_secret(const char *name, Py_ssize_t len)
{
    for (Py_ssize_t i = 0; i + 1 < len; i++) {
        unsigned char a = ascii_lower((unsigned char)name[i]);
        unsigned char b = ascii_lower((unsigned char)name[i + 1]);
        unsigned char c = i + 2 < len ? ascii_lower((unsigned char)name[i + 2]) : 0;
        switch (a) {
        case 'p':
            if (b == 'w' || (b == 'a' && (c == 's' || c == 't')) || (b == 'r' && c == 'i'))
                return 1;
            break;
        case 's': if (b == 'e' && (c == 'c' || c == 's')) return 1; break;
        case 't': if (b == 'o' && c == 'k') return 1; break;
        case 'k': if (b == 'e' && c == 'y') return 1; break;
        case 'a': if ((b == 'u' && c == 't') || (b == 'c' && c == 'c')) return 1; break;
        case 'c':
            if ((b == 'r' && c == 'e') || (b == 'o' && c == 'o') || (b == 's' && c == 'r'))
                return 1;
            break;
        case 'x': if (b == 's' && c == 'r') return 1; break;
        case 'b': if (b == 'e' && c == 'a') return 1; break;
        default: break;
        }
    }
    return 0;
}

#define N_DEFAULT_PATTERNS 12

int
Redact_utf8_matches(PyObject *rules, const char *name, Py_ssize_t len)
{
    if (!is_rules(rules) || !name)
        return 0;
    PyObject *patterns = PyTuple_GET_ITEM(rules, 0);
    /* The built-in rules only (the usual case): a quick no for most names. */
    if (PyTuple_GET_ITEM(rules, 1) == Py_True && PyTuple_GET_SIZE(patterns) == N_DEFAULT_PATTERNS
            && PyTuple_GET_SIZE(PyTuple_GET_ITEM(rules, 2)) == 0 && !may_be_secret(name, len))
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
    PyObject *names = PyTuple_GET_ITEM(rules, 2);
    int words = PyTuple_GET_ITEM(rules, 1) == Py_True;
    if (!words && PyTuple_GET_SIZE(names) == 0)
        return 0;
    char norm[NAME_BUF];
    int nwords;
    Py_ssize_t m = normalise(name, len, norm, sizeof norm, &nwords);
    if (nwords == 0)
        return 0;
    if (words) {
        if (words_match(norm, m, nwords))
            return 1;
        /* The name "pass" itself (a dict key; as a variable it is a keyword). */
        if (len == 4 && m == 6 && memcmp(norm, " pass ", 6) == 0)
            return 1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        Py_ssize_t wl;
        const char *w = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(names, i), &wl);
        if (!w) {
            PyErr_Clear();
            continue;
        }
        /* " w1 w2 " inside " ... w1 w2 ... ": whole words only. */
        if (wl <= m) {
            for (Py_ssize_t k = 0; k + wl <= m; k++)
                if (memcmp(norm + k, w, (size_t)wl) == 0)
                    return 1;
        }
    }
    return 0;
}

int
Redact_name_matches(PyObject *rules, PyObject *name)
{
    /* Owned */
    PyObject *low = NULL;
    int res = 0;

    if (!is_rules(rules) || !name)
        return 0;
    if (PyBytes_Check(name))
        return Redact_utf8_matches(rules, PyBytes_AS_STRING(name), PyBytes_GET_SIZE(name));
    if (!PyUnicode_Check(name))
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
        return Redact_utf8_matches(rules, s, len);
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
        res = Redact_utf8_matches(rules, s, len);
    Py_DECREF(low);
    return res;
}

/* ------------------------------------------------------------------------ */
/* Found secrets                                                            */

void
Redact_found_clear(Redact_Found *f)
{
    Py_CLEAR(f->values);
    memset(f, 0, sizeof *f);
}

static void
note_str(Redact_Found *f, PyObject *s, Redact_Kind kind, Py_ssize_t min_len)
{
    if (PyUnicode_GET_LENGTH(s) < min_len || PyUnicode_GET_LENGTH(s) < 1)
        return;
    if (PyUnicode_GET_LENGTH(s) > 100000)
        return;             /* hunting megabytes through every text costs too much */
    if (!f->values) {
        f->values = PyDict_New();
        if (!f->values) {
            PyErr_Clear();
            return;
        }
    }
    int has = PyDict_Contains(f->values, s);
    if (has != 0) {
        PyErr_Clear();
        return;
    }
    PyObject *k = PyLong_FromLong(kind);
    if (!k || PyDict_SetItem(f->values, s, k) < 0)
        PyErr_Clear();
    Py_XDECREF(k);
}

static void
note_leaf(Redact_Found *f, PyObject *v, Redact_Kind kind, Py_ssize_t min_len)
{
    if (PyUnicode_Check(v))
        note_str(f, v, kind, min_len);
    else if (PyBytes_Check(v) || PyByteArray_Check(v)) {
        PyObject *s = PyUnicode_FromEncodedObject(v, "utf-8", "strict");
        if (s)
            note_str(f, s, kind, min_len);
        PyErr_Clear();
        Py_XDECREF(s);
    }
}

void
Redact_note(Redact_Found *f, PyObject *value, Redact_Kind kind, Py_ssize_t min_len)
{
    PyObject *pending = PyErr_GetRaisedException();
    if (!value)
        goto done;
    if (PyList_CheckExact(value) || PyTuple_CheckExact(value)) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(value);
        for (Py_ssize_t i = 0; i < n && i < 25; i++)
            note_leaf(f, PySequence_Fast_GET_ITEM(value, i), kind, min_len);
    }
    else if (PyDict_CheckExact(value)) {
        PyObject *k, *v;
        Py_ssize_t pos = 0, i = 0;
        while (i++ < 25 && PyDict_Next(value, &pos, &k, &v))
            note_leaf(f, v, kind, min_len);
    }
    else
        note_leaf(f, value, kind, min_len);
done:
    PyErr_SetRaisedException(pending);
}

void
Redact_note_rules(Redact_Found *f, PyObject *rules)
{
    if (!is_rules(rules))
        return;
    PyObject *vals = PyTuple_GET_ITEM(rules, 4);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(vals); i++)
        note_str(f, PyTuple_GET_ITEM(vals, i), REDACT_K_USER_VALUE, 1);
}

void
Redact_note_argv(Redact_Found *f, PyObject *rules, PyObject *argv)
{
    PyObject *pending = PyErr_GetRaisedException();
    if (!is_rules(rules) || !argv || !PyList_Check(argv))
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(argv); i++) {
        PyObject *a = PyList_GET_ITEM(argv, i);
        Py_ssize_t n;
        const char *s = PyUnicode_Check(a) ? PyUnicode_AsUTF8AndSize(a, &n) : NULL;
        if (!s) {
            PyErr_Clear();
            continue;
        }
        const char *eq = memchr(s, '=', (size_t)n);
        const char *name = s;
        while (name < s + n && *name == '-')
            name++;
        if (eq) {
            /* --password=VALUE, token=VALUE */
            if (eq > name && Redact_utf8_matches(rules, name, eq - name) && eq + 1 < s + n) {
                PyObject *v = PyUnicode_FromStringAndSize(eq + 1, s + n - eq - 1);
                if (v)
                    note_str(f, v, REDACT_K_ARGV, 1);
                PyErr_Clear();
                Py_XDECREF(v);
            }
        }
        else if (name > s && name < s + n && i + 1 < PyList_GET_SIZE(argv)
                 && Redact_utf8_matches(rules, name, s + n - name)) {
            /* --token VALUE */
            note_leaf(f, PyList_GET_ITEM(argv, i + 1), REDACT_K_ARGV, 1);
        }
    }
done:
    PyErr_SetRaisedException(pending);
}

/* ------------------------------------------------------------------------ */
/* High-entropy values next to auth words (redact.h, REDACT_ENTROPY_*)      */

/* Words that make a name a near miss: not secret alone (a dict's `key`, a
 * `sig` file), secret when the value looks random. */
static const char *const NEAR_WORDS[] = {
    "key", "keys", "tok", "tkn", "toks", "sig", "sigs", "signature", "hmac", "pass", "pat", "otp",
    NULL,
};
/* Words saying the value is a digest or an identifier, not a secret. */
static const char *const DIGEST_WORDS[] = {
    "hash", "hashes", "sha", "sha1", "sha256", "sha512", "md5", "digest", "hexdigest", "checksum",
    "crc", "etag", "commit", "rev", "revision", "uuid", "guid", "id", "ids", "fingerprint",
    "version", "nonce", "salt", NULL,
};
/* "<word> key" said in prose that is a secret key ("api key 8f3a..."). */
static const char *const KEY_QUALIFIERS[] = {
    "api", "access", "private", "secret", "signing", "encryption", "master", "license", "client",
    "app", NULL,
};

static inline int
is_runc(unsigned char c)
{
    return is_alnum(c) || c == '+' || c == '/' || c == '_' || c == '-';
}

static inline int
is_hexc(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
is_uuid(const unsigned char *s, Py_ssize_t n)
{
    if (n != 36)
        return 0;
    for (Py_ssize_t i = 0; i < 36; i++)
        if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' : !is_hexc(s[i]))
            return 0;
    return 1;
}

/* Does the run s[0:n] (padding excluded) look random? */
static int
looks_random(const unsigned char *s, Py_ssize_t n)
{
    unsigned int counts[256];
    int hex = 1, up = 0, low = 0, dig = 0;

    if (n < REDACT_ENTROPY_MIN_LEN || s[0] == '/' || is_uuid(s, n))
        return 0;
    memset(counts, 0, sizeof counts);
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        counts[c]++;
        up |= is_upper(c);
        low |= is_lower(c);
        dig |= is_digit(c);
        hex &= is_hexc(c);
    }
    /* Shannon entropy of the run's own characters, bits per character. */
    double h = 0.0;
    for (int c = 0; c < 256; c++)
        if (counts[c]) {
            double p = (double)counts[c] / (double)n;
            h -= p * log2(p);
        }
    if (hex)
        return dig && (up || low) && h >= REDACT_ENTROPY_HEX_BITS;
    if (up + low + dig < 2 || h < REDACT_ENTROPY_B64_BITS)
        return 0;
    /* Words: letters in runs of 4+ ("Factory", "install", "HTTP") making
     * up most of it say identifier or phrase (CamelCaseNames,
     * 00251-change-user-install-location), not a random token: of 20,000
     * random 32-character base62 tokens, 24 have that much. Lower case
     * and digits alone (base36) are left out of this test: random ones
     * have long letter runs too. */
    if (!up && !memchr(s, '-', (size_t)n) && !memchr(s, '_', (size_t)n) && !memchr(s, '/', (size_t)n))
        return 1;
    Py_ssize_t in_words = 0;
    for (Py_ssize_t i = 0; i < n;) {
        Py_ssize_t j = i;
        if (is_upper(s[j]) && j + 1 < n && is_lower(s[j + 1]))
            j++;
        if (is_lower(s[j]))
            while (j < n && is_lower(s[j]))
                j++;
        else if (is_upper(s[j]))
            while (j < n && is_upper(s[j]) && !(j + 1 < n && is_lower(s[j + 1])))
                j++;
        if (j == i)
            j++;
        else if (j - i >= 4)
            in_words += j - i;
        i = j;
    }
    return in_words * 10 < n * 7;
}

/* End of the candidate run at s[a] (padding included), or -1 when s[a] does
 * not start one (too short, a file name "<hash>.json"). */
static Py_ssize_t
candidate_end(const unsigned char *s, Py_ssize_t n, Py_ssize_t a, Py_ssize_t *runend)
{
    if (a > 0 && is_runc(s[a - 1]))
        return -1;
    Py_ssize_t b = a;
    while (b < n && is_runc(s[b]))
        b++;
    if (b - a < REDACT_ENTROPY_MIN_LEN)
        return -1;
    Py_ssize_t e = b;
    while (e < n && e - b < 2 && s[e] == '=')
        e++;
    if (e + 1 < n && s[e] == '.' && is_alnum(s[e + 1]))
        return -1;
    *runend = b;
    return e;
}

int
Redact_high_entropy(const char *text, Py_ssize_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    Py_ssize_t a = 0, b = n, runend;
    if (!text || n < REDACT_ENTROPY_MIN_LEN)
        return 0;
    while (a < b && (s[a] == ' ' || s[a] == '\n' || s[a] == '\t' || s[a] == '\r'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\n' || s[b - 1] == '\t' || s[b - 1] == '\r'))
        b--;
    return candidate_end(s, b, a, &runend) == b && looks_random(s + a, runend - a);
}

/* Is the normalised name " w1 w2 ... " a near miss? */
static int
near_words(const char *norm, Py_ssize_t m)
{
    const char *prev = NULL;
    Py_ssize_t prevn = 0;
    int near = 0;
    for (Py_ssize_t i = 1; i < m;) {
        Py_ssize_t j = i;
        while (j < m && norm[j] != ' ')
            j++;
        const char *w = norm + i;
        Py_ssize_t n = j - i;
        if (n == 0)
            break;
        if (word_in(w, n, DIGEST_WORDS))
            return 0;
        if (word_in(w, n, NEAR_WORDS)) {
            if (!(w[0] == 'k' && prev && word_in(prev, prevn, INNOCENT_KEY_WORDS)))
                near = 1;
        }
        prev = w;
        prevn = n;
        i = j + 1;
    }
    return near;
}

static int
near_name(const char *name, Py_ssize_t len)
{
    char norm[NAME_BUF];
    int nwords;
    Py_ssize_t m = normalise(name, len, norm, sizeof norm, &nwords);
    return nwords > 0 && near_words(norm, m);
}

static inline int
words_on(PyObject *rules)
{
    return !rules || (is_rules(rules) && PyTuple_GET_ITEM(rules, 1) == Py_True);
}

/* The bytes of a str (its UTF-8) or bytes object; NULL (no exception) for
 * anything else or a str that cannot be encoded. */
static const char *
text_bytes(PyObject *o, Py_ssize_t *n)
{
    if (PyBytes_Check(o)) {
        *n = PyBytes_GET_SIZE(o);
        return PyBytes_AS_STRING(o);
    }
    if (!PyUnicode_Check(o))
        return NULL;
    const char *s = PyUnicode_AsUTF8AndSize(o, n);
    if (!s)
        PyErr_Clear();
    return s;
}

int
Redact_near_secret(PyObject *rules, PyObject *name, PyObject *value)
{
    const char *v, *nm;
    Py_ssize_t vn, nn;
    if (!is_rules(rules) || !words_on(rules) || !name || !value)
        return 0;
    if (PyUnicode_Check(value) &&
        (PyUnicode_GET_LENGTH(value) < REDACT_ENTROPY_MIN_LEN || !PyUnicode_IS_ASCII(value)))
        return 0;
    v = text_bytes(value, &vn);
    if (!v || vn < REDACT_ENTROPY_MIN_LEN)
        return 0;
    nm = text_bytes(name, &nn);
    if (!nm)
        return 0;
    return near_name(nm, nn) && Redact_high_entropy(v, vn);
}

int
Redact_default_near_secret(const char *name, Py_ssize_t nlen, const char *value, Py_ssize_t vlen)
{
    return name && value && vlen >= REDACT_ENTROPY_MIN_LEN && near_name(name, nlen)
           && Redact_high_entropy(value, vlen);
}

static int name_secret(PyObject *rules, const char *name, Py_ssize_t len);

/* Is the text before the run at s[a] an auth word and a separator? A secret
 * name (`token 8f3a`, `secret is 8f3a`, `Authorization: 8f3a`, `api key
 * 8f3a`), or a near-miss name with '=' or ':' (`key=8f3a`, `"sig": "8f3a"`).
 * Separators: blanks, quotes, backslashes (JSON and repr escapes), one '='
 * or ':', and one of the words is/was/as/to. */
static int
auth_before(PyObject *rules, const unsigned char *s, Py_ssize_t a)
{
    static const char SEPS[] = " \t'\"\\:=";
    Py_ssize_t j = a, gap = 0;
    int assign = 0;
    for (int round = 0; round < 2; round++) {
        int blank = 0;
        while (j > 0 && gap < 12 && s[j - 1] && strchr(SEPS, s[j - 1])) {
            assign |= s[j - 1] == ':' || s[j - 1] == '=';
            blank |= s[j - 1] == ' ' || s[j - 1] == '\t';
            j--;
            gap++;
        }
        if (gap == 0)
            return 0;
        if (round == 1 || !blank)
            break;
        static const char *const FILLERS[] = {"is", "was", "as", "to", NULL};
        int filler = 0;
        for (int k = 0; FILLERS[k] && !filler; k++) {
            Py_ssize_t fl = (Py_ssize_t)strlen(FILLERS[k]);
            if (j > fl && memcmp(s + j - fl, FILLERS[k], (size_t)fl) == 0 && s[j - fl - 1] == ' ') {
                j -= fl;
                filler = 1;
            }
        }
        if (!filler)
            break;
    }
    Py_ssize_t ne = j;
    while (j > 0 && ne - j < 64 && (is_wordc(s[j - 1]) || s[j - 1] == '_' || s[j - 1] == '-'
                                    || s[j - 1] == '.'))
        j--;
    Py_ssize_t ns = j;
    while (ns < ne && (s[ns] == '-' || s[ns] == '.'))
        ns++;
    if (ns >= ne)
        return 0;
    if (name_secret(rules, (const char *)s + ns, ne - ns))
        return 1;
    if (!words_on(rules))
        return 0;
    /* "api key 8f3a...": the word before a lone "key" said how secret. */
    if (ns > 1 && s[ns - 1] == ' ' && ((ne - ns == 3 && contains_folded((const char *)s + ns, 3, "key", 3))
                                       || (ne - ns == 4 && contains_folded((const char *)s + ns, 4, "keys", 4)))) {
        Py_ssize_t ps = ns - 1;
        while (ps > 0 && ns - 1 - ps < 16 && is_alnum(s[ps - 1]))
            ps--;
        char low[16];
        Py_ssize_t pl = ns - 1 - ps;
        for (Py_ssize_t k = 0; k < pl && k < 16; k++)
            low[k] = (char)ascii_lower(s[ps + k]);
        if (pl > 0 && pl < 16 && word_in(low, pl, KEY_QUALIFIERS))
            return 1;
    }
    return assign && near_name((const char *)s + ns, ne - ns);
}

/* The random-looking run at s[a] with an auth word before it: its end, or -1. */
static Py_ssize_t
entropy_at(PyObject *rules, const unsigned char *s, Py_ssize_t n, Py_ssize_t a)
{
    Py_ssize_t runend, e = candidate_end(s, n, a, &runend);
    if (e < 0 || !auth_before(rules, s, a) || !looks_random(s + a, runend - a))
        return -1;
    return e;
}

/* ------------------------------------------------------------------------ */
/* The shape scanner                                                        */

typedef struct { Py_ssize_t a, b; int kind; } Span;
typedef struct { Span *v; Py_ssize_t n, cap; int nomem; } Spans;

static void
spans_add(Spans *s, Py_ssize_t a, Py_ssize_t b, int kind)
{
    if (b <= a || s->nomem)
        return;
    if (s->n == s->cap) {
        Py_ssize_t cap = s->cap ? s->cap * 2 : 8;
        Span *nv = PyMem_Realloc(s->v, (size_t)cap * sizeof(Span));
        if (!nv) {
            s->nomem = 1;
            return;
        }
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n].a = a;
    s->v[s->n].b = b;
    s->v[s->n].kind = kind;
    s->n++;
}

#define SCAN_CODE 1     /* source code: only quoted values after NAME = */

static inline int is_tokc(unsigned char c) { return is_alnum(c) || c == '_' || c == '-'; }
static inline int is_b64c(unsigned char c) { return is_alnum(c) || c == '_' || c == '-'; }

static int
starts(const unsigned char *s, Py_ssize_t n, Py_ssize_t i, const char *lit)
{
    Py_ssize_t k = (Py_ssize_t)strlen(lit);
    return i + k <= n && memcmp(s + i, lit, (size_t)k) == 0;
}

static Py_ssize_t
find_lit(const unsigned char *s, Py_ssize_t n, Py_ssize_t from, const char *lit)
{
    Py_ssize_t k = (Py_ssize_t)strlen(lit);
    for (Py_ssize_t i = from; i + k <= n; i++)
        if (s[i] == (unsigned char)lit[0] && memcmp(s + i, lit, (size_t)k) == 0)
            return i;
    return -1;
}

static int
is_redacted_at(const unsigned char *s, Py_ssize_t n, Py_ssize_t i)
{
    return starts(s, n, i, REDACT_TEXT);
}

/* Trim whitespace and "\n"-style escapes from both ends of [a, b). */
static void
trim(const unsigned char *s, Py_ssize_t *a, Py_ssize_t *b)
{
    for (;;) {
        if (*a < *b && (s[*a] == ' ' || s[*a] == '\n' || s[*a] == '\r' || s[*a] == '\t'))
            (*a)++;
        else if (*a + 1 < *b && s[*a] == '\\' && (s[*a + 1] == 'n' || s[*a + 1] == 'r'))
            *a += 2;
        else if (*a + 2 < *b && s[*a] == '\\' && s[*a + 1] == '\\' && s[*a + 2] == 'n')
            *a += 3;
        else
            break;
    }
    for (;;) {
        if (*b > *a && (s[*b - 1] == ' ' || s[*b - 1] == '\n' || s[*b - 1] == '\r'
                        || s[*b - 1] == '\t'))
            (*b)--;
        else if (*b - 1 > *a && s[*b - 2] == '\\' && (s[*b - 1] == 'n' || s[*b - 1] == 'r')) {
            *b -= 2;
            if (*b > *a && s[*b - 1] == '\\')
                (*b)--;
        }
        else
            break;
    }
}

/* "-----BEGIN ... PRIVATE KEY-----" at i: end of the marker, or -1. */
static Py_ssize_t
pem_begin(const unsigned char *s, Py_ssize_t n, Py_ssize_t i)
{
    if (!starts(s, n, i, "-----BEGIN "))
        return -1;
    Py_ssize_t e = find_lit(s, n, i + 11, "-----");
    if (e < 0 || e - i > 80)
        return -1;
    Py_ssize_t pk = find_lit(s, e, i + 11, "PRIVATE KEY");
    return pk < 0 ? -1 : e + 5;
}

/* NAME=value / NAME: "value" at the separator s[i]. Returns where to go on. */
static Py_ssize_t
scan_assign(PyObject *rules, const unsigned char *s, Py_ssize_t n, Py_ssize_t i, int flags,
            Spans *out)
{
    unsigned char sep = s[i];
    if (i + 1 < n && (s[i + 1] == '=' || (sep == '=' && s[i + 1] == '>')))
        return i + 2;
    if (sep == '=' && i > 0 && strchr("=!<>:+-*/%&|^@", s[i - 1]))
        return i + 1;
    Py_ssize_t j = i;
    int sp_before = 0;
    while (j > 0 && s[j - 1] == ' ') {
        j--;
        sp_before = 1;
    }
    if (j > 0 && (s[j - 1] == '\'' || s[j - 1] == '"')) {
        j--;
        if (j > 0 && s[j - 1] == '\\')
            j--;
    }
    Py_ssize_t ne = j;
    while (j > 0 && (is_wordc(s[j - 1]) || s[j - 1] == '_' || s[j - 1] == '-' || s[j - 1] == '.'))
        j--;
    Py_ssize_t ns = j;
    while (ns < ne && (s[ns] == '-' || s[ns] == '.'))
        ns++;
    if (ns >= ne || ne - ns > 64)
        return i + 1;
    Py_ssize_t p = i + 1;
    int sp_after = 0;
    while (p < n && s[p] == ' ') {
        p++;
        sp_after = 1;
    }
    if (p >= n)
        return i + 1;
    Py_ssize_t vs, ve;
    int qlen = 0;
    unsigned char q = 0;
    if (s[p] == '\\' && p + 1 < n && (s[p + 1] == '"' || s[p + 1] == '\'')) {
        q = s[p + 1];
        qlen = 2;
    }
    else if (s[p] == '"' || s[p] == '\'') {
        q = s[p];
        qlen = 1;
    }
    if (qlen) {
        vs = p + qlen;
        ve = vs;
        while (ve < n) {
            if (qlen == 2 && s[ve] == '\\' && ve + 1 < n && s[ve + 1] == q)
                break;
            if (qlen == 1 && s[ve] == q && s[ve - 1] != '\\')
                break;
            if (qlen == 1 && s[ve] == '\\' && ve + 1 < n && s[ve + 1] == '\\') {
                ve += 2;
                continue;
            }
            ve++;
        }
    }
    else {
        if (flags & SCAN_CODE)
            return i + 1;
        if ((sep == '=' && (sp_before || sp_after)) || (sep == ':' && sp_before))
            return i + 1;
        if (strchr("{[(<", s[p]))
            return i + 1;
        vs = p;
        ve = vs;
        while (ve < n && !strchr(" \t,;&)]}'\"\\<>", s[ve]))
            ve++;
        /* "Authorization: Bearer TOKEN": the credential is the next word. */
        if (ve < n && s[ve] == ' ' && ve - vs <= 6) {
            static const char *const schemes[] = {"bearer", "basic", "token", "digest", NULL};
            for (int k = 0; schemes[k]; k++)
                if ((Py_ssize_t)strlen(schemes[k]) == ve - vs
                        && contains_folded((const char *)s + vs, ve - vs, schemes[k], ve - vs)) {
                    vs = ve + 1;
                    ve = vs;
                    while (ve < n && !strchr(" \t,;&)]}'\"\\<>", s[ve]))
                        ve++;
                    break;
                }
        }
    }
    if (ve <= vs || is_redacted_at(s, n, vs))
        return i + 1;
    if (!name_secret(rules, (const char *)s + ns, ne - ns))
        return i + 1;
    spans_add(out, vs, ve, REDACT_K_ASSIGN);
    return ve;
}

/* Every secret span of s[0:n]. `in_pem` carries an open PEM block from one
 * text to the next (source lines). */
static void
scan(PyObject *rules, const unsigned char *s, Py_ssize_t n, int flags, int *in_pem, Spans *out)
{
    Py_ssize_t i = 0;
    if (*in_pem) {
        Py_ssize_t e = find_lit(s, n, 0, "-----END");
        Py_ssize_t a = 0, b = e < 0 ? n : e;
        trim(s, &a, &b);
        spans_add(out, a, b, REDACT_K_PEM);
        if (e < 0)
            return;
        *in_pem = 0;
        i = e + 8;
    }
    /* run_from: where the current run of [A-Za-z0-9+/_-] began; a run
     * reaching REDACT_ENTROPY_MIN_LEN is looked at once (entropy_at). After
     * a jump (a span, a separator) the run starts again where i lands. */
    Py_ssize_t run_from = i, last = i - 1;
    while (i < n) {
        unsigned char c = s[i];
        /* Only the cases that start a token shape look at this. */
#define boundary (i == 0 || !is_tokc(s[i - 1]))
        Py_ssize_t e;
        if (i != last + 1)
            run_from = i;
        last = i;
        if (!is_runc(c))
            run_from = i + 1;
        else if (i + 1 - run_from == REDACT_ENTROPY_MIN_LEN
                 && (e = entropy_at(rules, s, n, run_from)) >= 0) {
            spans_add(out, run_from, e, REDACT_K_ENTROPY);
            i = e;
            continue;
        }
        switch (c) {
        case ':':
            if (i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/') {
                if (i == 0 || !is_alnum(s[i - 1])) {
                    i += 3;
                    continue;
                }
                Py_ssize_t a = i + 3;
                e = a;
                while (e < n && !strchr("/?# \t\r\n'\"\\<>", s[e]))
                    e++;
                Py_ssize_t at = -1, colon = -1;
                for (Py_ssize_t k = a; k < e; k++)
                    if (s[k] == '@')
                        at = k;
                for (Py_ssize_t k = a; at >= 0 && k < at; k++)
                    if (s[k] == ':') {
                        colon = k;
                        break;
                    }
                if (colon >= 0 && at > colon + 1 && !is_redacted_at(s, n, colon + 1))
                    spans_add(out, colon + 1, at, REDACT_K_URL);
                i = e > i + 3 ? e : i + 3;
                continue;
            }
            i = scan_assign(rules, s, n, i, flags, out);
            continue;
        case '=':
            i = scan_assign(rules, s, n, i, flags, out);
            continue;
        case 'B': case 'b':
            if (boundary && (starts(s, n, i + 1, "earer ") || starts(s, n, i + 1, "asic "))) {
                Py_ssize_t a = i + (s[i + 1] == 'e' ? 7 : 6);
                while (a < n && s[a] == ' ')
                    a++;
                e = a;
                int strong = 0;
                while (e < n && (is_b64c(s[e]) || strchr("._~+/=", s[e]))) {
                    if (is_digit(s[e]) || strchr("._~+/=-", s[e]) || (e > a && is_upper(s[e])))
                        strong = 1;
                    e++;
                }
                if (e - a >= 8 && strong && !is_redacted_at(s, n, a)) {
                    spans_add(out, a, e, REDACT_K_AUTH);
                    i = e;
                    continue;
                }
            }
            break;
        case 'A':
            if (boundary && (starts(s, n, i, "AKIA") || starts(s, n, i, "ASIA"))) {
                e = i + 4;
                while (e < n && (is_upper(s[e]) || is_digit(s[e])))
                    e++;
                if (e - i == 20 && (e == n || !is_alnum(s[e]))) {
                    spans_add(out, i, e, REDACT_K_AWS);
                    i = e;
                    continue;
                }
            }
            break;
        case 'e':
            if (boundary && starts(s, n, i, "eyJ")) {
                e = i + 3;
                while (e < n && is_b64c(s[e]))
                    e++;
                if (e - i >= 13) {
                    for (int part = 0; part < 2 && e < n && s[e] == '.'; part++) {
                        Py_ssize_t k = e + 1;
                        while (k < n && is_b64c(s[k]))
                            k++;
                        e = k;
                    }
                    spans_add(out, i, e, REDACT_K_JWT);
                    i = e;
                    continue;
                }
            }
            break;
        case 'g':
            if (boundary && (starts(s, n, i, "github_pat_")
                             || (starts(s, n, i, "gh") && i + 3 < n && strchr("pousr", s[i + 2])
                                 && s[i + 3] == '_'))) {
                Py_ssize_t a = s[i + 2] == 't' ? i + 11 : i + 4;
                e = a;
                while (e < n && (is_alnum(s[e]) || s[e] == '_'))
                    e++;
                if (e - a >= 20) {
                    spans_add(out, i, e, REDACT_K_GITHUB);
                    i = e;
                    continue;
                }
            }
            break;
        case 's': case 'r':
            if (boundary && s[i + 1 < n ? i + 1 : i] == 'k'
                    && (starts(s, n, i + 2, "_live_") || starts(s, n, i + 2, "_test_"))) {
                e = i + 8;
                while (e < n && is_alnum(s[e]))
                    e++;
                if (e - i >= 18) {
                    spans_add(out, i, e, REDACT_K_STRIPE);
                    i = e;
                    continue;
                }
            }
            break;
        case 'x':
            if (boundary && starts(s, n, i, "xox") && i + 4 < n && strchr("bpars", s[i + 3])
                    && s[i + 4] == '-') {
                e = i + 5;
                while (e < n && (is_alnum(s[e]) || s[e] == '-'))
                    e++;
                if (e - i >= 15) {
                    spans_add(out, i, e, REDACT_K_SLACK);
                    i = e;
                    continue;
                }
            }
            break;
        case '-':
            if ((e = pem_begin(s, n, i)) >= 0) {
                Py_ssize_t end = find_lit(s, n, e, "-----END");
                Py_ssize_t a = e, b = end < 0 ? n : end;
                trim(s, &a, &b);
                spans_add(out, a, b, REDACT_K_PEM);
                if (end < 0) {
                    *in_pem = 1;
                    return;
                }
                i = end + 8;
                continue;
            }
            break;
        default:
            break;
        }
        i++;
    }
#undef boundary
}

/* ------------------------------------------------------------------------ */
/* Scrubbing                                                                */

typedef struct { char *p; Py_ssize_t n, cap; int nomem; } Buf;

static void
buf_put(Buf *b, const void *s, Py_ssize_t n)
{
    if (n <= 0 || b->nomem)
        return;
    if (b->n + n > b->cap) {
        Py_ssize_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n)
            cap *= 2;
        char *np = PyMem_Realloc(b->p, (size_t)cap);
        if (!np) {
            b->nomem = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, (size_t)n);
    b->n += n;
}

/* The body of JsonW_cstr's quoted text (same escapes, see jsonw.c). */
static void
buf_json_escape(Buf *b, const char *s, Py_ssize_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[6];
        switch (c) {
        case '"': buf_put(b, "\\\"", 2); break;
        case '\\': buf_put(b, "\\\\", 2); break;
        case '\n': buf_put(b, "\\n", 2); break;
        case '\r': buf_put(b, "\\r", 2); break;
        case '\t': buf_put(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                e[0] = '\\'; e[1] = 'u'; e[2] = '0'; e[3] = '0';
                e[4] = hex[c >> 4]; e[5] = hex[c & 15];
                buf_put(b, e, 6);
            }
            else
                buf_put(b, &s[i], 1);
        }
    }
}

typedef struct { char *p; Py_ssize_t n; int kind; } Needle;
typedef struct { Needle *v; Py_ssize_t n; } Needles;

static void
needles_free(Needles *nd)
{
    for (Py_ssize_t i = 0; i < nd->n; i++)
        PyMem_Free(nd->v[i].p);
    PyMem_Free(nd->v);
    nd->v = NULL;
    nd->n = 0;
}

static void
needle_add(Needles *nd, Py_ssize_t *cap, const char *s, Py_ssize_t n, int json, int kind)
{
    Buf b = {0};
    if (n <= 0)
        return;
    if (json)
        buf_json_escape(&b, s, n);
    else
        buf_put(&b, s, n);
    if (b.nomem || b.n == 0) {
        PyMem_Free(b.p);
        return;
    }
    for (Py_ssize_t i = 0; i < nd->n; i++)
        if (nd->v[i].n == b.n && memcmp(nd->v[i].p, b.p, (size_t)b.n) == 0) {
            PyMem_Free(b.p);
            return;
        }
    if (nd->n == *cap) {
        Py_ssize_t nc = *cap ? *cap * 2 : 8;
        Needle *nv = PyMem_Realloc(nd->v, (size_t)nc * sizeof(Needle));
        if (!nv) {
            PyMem_Free(b.p);
            return;
        }
        nd->v = nv;
        *cap = nc;
    }
    nd->v[nd->n].p = b.p;
    nd->v[nd->n].n = b.n;
    nd->v[nd->n].kind = kind;
    nd->n++;
}

/* Each noted secret as it appears in text: itself, and the inside of its
 * repr() (escapes differ), JSON-escaped when `json`. */
static void
needles_build(Redact_Found *f, int json, Needles *nd)
{
    Py_ssize_t cap = 0;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    if (!f->values)
        return;
    while (PyDict_Next(f->values, &pos, &k, &v)) {
        int kind = (int)PyLong_AsLong(v);
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(k, &n);
        if (!s) {
            PyErr_Clear();
            continue;
        }
        needle_add(nd, &cap, s, n, json, kind);
        PyObject *r = PyObject_Repr(k);
        const char *rs = r ? PyUnicode_AsUTF8AndSize(r, &n) : NULL;
        if (rs && n > 2)
            needle_add(nd, &cap, rs + 1, n - 2, json, kind);
        PyErr_Clear();
        Py_XDECREF(r);
    }
}

static void
find_needles(const Needles *nd, const unsigned char *s, Py_ssize_t n, Spans *sp)
{
    for (Py_ssize_t k = 0; k < nd->n; k++) {
        const Needle *d = &nd->v[k];
        if (d->n == n && memcmp(d->p, s, (size_t)n) == 0) {
            spans_add(sp, 0, n, d->kind);
            continue;
        }
        if (d->n < REDACT_MIN_NEEDLE || d->n > n)
            continue;
        const unsigned char *p = s, *end = s + n - d->n;
        while (p <= end) {
            p = memchr(p, (unsigned char)d->p[0], (size_t)(end - p + 1));
            if (!p)
                break;
            if (memcmp(p, d->p, (size_t)d->n) == 0) {
                spans_add(sp, p - s, p - s + d->n, d->kind);
                p += d->n;
            }
            else
                p++;
        }
    }
}

static int
span_cmp(const void *x, const void *y)
{
    const Span *a = x, *b = y;
    return (a->a > b->a) - (a->a < b->a);
}

/* s[0:n] with the spans replaced (merged where they overlap). */
static void
write_scrubbed(Buf *out, Redact_Found *f, const unsigned char *s, Py_ssize_t n, Spans *sp)
{
    qsort(sp->v, (size_t)sp->n, sizeof(Span), span_cmp);
    Py_ssize_t pos = 0;
    for (Py_ssize_t i = 0; i < sp->n;) {
        Py_ssize_t a = sp->v[i].a, b = sp->v[i].b;
        int kind = sp->v[i].kind;
        for (i++; i < sp->n && sp->v[i].a <= b; i++)
            if (sp->v[i].b > b)
                b = sp->v[i].b;
        if (a < pos)
            a = pos;
        buf_put(out, s + pos, a - pos);
        buf_put(out, REDACT_TEXT, (Py_ssize_t)strlen(REDACT_TEXT));
        f->counts[kind]++;
        f->replaced++;
        pos = b;
    }
    buf_put(out, s + pos, n - pos);
}

/* Note the spans' texts, and the user's pattern matches, found in s[0:n]. */
static void
note_spans(PyObject *rules, Redact_Found *f, const unsigned char *s, Py_ssize_t n, Spans *sp)
{
    for (Py_ssize_t i = 0; i < sp->n; i++) {
        PyObject *t = PyUnicode_DecodeUTF8((const char *)s + sp->v[i].a,
                                           sp->v[i].b - sp->v[i].a, "replace");
        if (t)
            note_str(f, t, (Redact_Kind)sp->v[i].kind, REDACT_MIN_NEEDLE);
        PyErr_Clear();
        Py_XDECREF(t);
    }
    PyObject *rx = is_rules(rules) ? PyTuple_GET_ITEM(rules, 3) : NULL;
    if (!rx || PyTuple_GET_SIZE(rx) == 0 || n == 0)
        return;
    PyObject *text = PyUnicode_DecodeUTF8((const char *)s, n, "replace");
    for (Py_ssize_t k = 0; text && k < PyTuple_GET_SIZE(rx); k++) {
        PyObject *found = PyObject_CallMethod(PyTuple_GET_ITEM(rx, k), "findall", "O", text);
        for (Py_ssize_t i = 0; found && PyList_Check(found) && i < PyList_GET_SIZE(found); i++) {
            PyObject *m = PyList_GET_ITEM(found, i);
            if (PyTuple_Check(m))       /* groups: the first one is the secret */
                m = PyTuple_GET_SIZE(m) ? PyTuple_GET_ITEM(m, 0) : NULL;
            if (m && PyUnicode_Check(m))
                note_str(f, m, REDACT_K_USER_PATTERN, 1);
        }
        Py_XDECREF(found);
    }
    PyErr_Clear();
    Py_XDECREF(text);
}

static const char *const JSON_KEEP[] = {
    "filename", "format", "type", "module", "qualname", NULL,
};

/* One pass over the string values of a JSON text: pass 1 notes (out is
 * NULL), pass 2 writes the scrubbed text into out. */
static const unsigned char JSON_STOP[256] = {
    ['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1,
};

/* Offsets of the strings where pass 1 found a shape (pass 2 rescans only
 * those; the others can only hold noted secrets). */
typedef struct { Py_ssize_t *v; Py_ssize_t n, cap, next; int nomem; } Hits;

static void
hits_add(Hits *h, Py_ssize_t off)
{
    if (h->n == h->cap) {
        Py_ssize_t cap = h->cap ? h->cap * 2 : 16;
        Py_ssize_t *nv = PyMem_Realloc(h->v, (size_t)cap * sizeof(Py_ssize_t));
        if (!nv) {
            h->nomem = 1;
            return;
        }
        h->v = nv;
        h->cap = cap;
    }
    h->v[h->n++] = off;
}

static void
json_pass(PyObject *rules, Redact_Found *f, const Needles *nd, const char *in, Py_ssize_t n,
          Buf *out, int *any, Hits *hits)
{
    Spans sp = {0};
    Py_ssize_t i = 0, seg = 0;
    int depth = 0, in_pem = 0, code = 0, keep = 0;
    const unsigned char *s = (const unsigned char *)in;

    while (i < n) {
        /* Between strings only brackets and quotes matter. */
        while (i < n && !JSON_STOP[(unsigned char)in[i]])
            i++;
        if (i >= n)
            break;
        char c = in[i];
        if (c == '{' || c == '[') {
            depth++;
            i++;
            continue;
        }
        if (c == '}' || c == ']') {
            depth--;
            in_pem = 0;
            i++;
            continue;
        }
        if (c != '"') {
            i++;
            continue;
        }
        /* The closing quote: the next '"' not escaped by an odd run of '\\'. */
        Py_ssize_t a = i + 1, b = a;
        for (;;) {
            const char *q = b < n ? memchr(in + b, '"', (size_t)(n - b)) : NULL;
            if (!q) {
                b = n;
                break;
            }
            b = q - in;
            Py_ssize_t bs = 0;
            while (b - bs - 1 >= a && in[b - bs - 1] == '\\')
                bs++;
            if (bs % 2 == 0)
                break;
            b++;
        }
        Py_ssize_t k = b + 1;
        while (k < n && (in[k] == ' ' || in[k] == '\n'))
            k++;
        if (k < n && in[k] == ':') {
            /* A key: remember it, scrub nothing. */
            keep = word_in(in + a, b - a, JSON_KEEP);
            if (depth == 1)
                code = b - a == 7 && memcmp(in + a, "sources", 7) == 0;
            i = b + 1;
            continue;
        }
        if (!keep && b > a) {
            sp.n = 0;
            int pem_before = in_pem;
            if (!out)
                scan(rules, s + a, b - a, code ? SCAN_CODE : 0, &in_pem, &sp);
            else if (hits->nomem || (hits->next < hits->n && hits->v[hits->next] == a)) {
                hits->next++;
                scan(rules, s + a, b - a, code ? SCAN_CODE : 0, &in_pem, &sp);
            }
            if (!out) {
                if (sp.n || in_pem != pem_before)
                    hits_add(hits, a);
                if (sp.n) {
                    *any = 1;
                    note_spans(rules, f, s + a, b - a, &sp);
                }
                else if (is_rules(rules) && PyTuple_GET_SIZE(PyTuple_GET_ITEM(rules, 3)))
                    note_spans(rules, f, s + a, b - a, &sp);
            }
            else {
                find_needles(nd, s + a, b - a, &sp);
                if (sp.n) {
                    buf_put(out, in + seg, a - seg);
                    write_scrubbed(out, f, s + a, b - a, &sp);
                    seg = b;
                }
            }
        }
        i = b + 1;
    }
    if (out)
        buf_put(out, in + seg, n - seg);
    if (sp.nomem && out)
        out->nomem = 1;
    PyMem_Free(sp.v);
}

int
Redact_scrub_json(PyObject *rules, Redact_Found *f, const char *in, Py_ssize_t n, char **out,
                  Py_ssize_t *outn)
{
    Needles nd = {0};
    Buf b = {0};
    Hits hits = {0};
    int any = 0;
    PyObject *pending = PyErr_GetRaisedException();

    *out = NULL;
    *outn = 0;
    if (!is_rules(rules))
        goto done;
    json_pass(rules, f, NULL, in, n, NULL, &any, &hits);
    if (!any && (!f->values || PyDict_GET_SIZE(f->values) == 0))
        goto done;
    needles_build(f, 1, &nd);
    if (!any) {
        /* Only noted secrets (the environment's, say): when none of them
         * occurs anywhere in the text, nothing is to be rewritten. */
        int occurs = 0;
        for (Py_ssize_t k = 0; k < nd.n && !occurs; k++)
            occurs = memmem(in, (size_t)n, nd.v[k].p, (size_t)nd.v[k].n) != NULL;
        if (!occurs) {
            needles_free(&nd);
            goto done;
        }
    }
    json_pass(rules, f, &nd, in, n, &b, &any, &hits);
    needles_free(&nd);
    if (b.nomem) {
        PyMem_Free(hits.v);
        PyMem_Free(b.p);
        Py_XDECREF(pending);
        PyErr_NoMemory();
        return -1;
    }
    *out = b.p;
    *outn = b.n;
done:
    PyMem_Free(hits.v);
    PyErr_SetRaisedException(pending);
    return 0;
}

/* Scrub one text: pass 1 and 2 when `nd` is NULL (notes, then builds its
 * own needles), else pass 2 with the given needles. New str or NULL. */
static PyObject *
scrub_one(PyObject *rules, Redact_Found *f, const Needles *nd, PyObject *text, int *in_pem)
{
    Py_ssize_t n;
    Spans sp = {0};
    Buf b = {0};
    PyObject *res = NULL;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (!s) {
        PyErr_Clear();
        return Py_NewRef(text);
    }
    scan(rules, (const unsigned char *)s, n, 0, in_pem, &sp);
    find_needles(nd, (const unsigned char *)s, n, &sp);
    if (sp.nomem) {
        PyMem_Free(sp.v);
        return PyErr_NoMemory();
    }
    if (sp.n == 0) {
        PyMem_Free(sp.v);
        return Py_NewRef(text);
    }
    write_scrubbed(&b, f, (const unsigned char *)s, n, &sp);
    PyMem_Free(sp.v);
    if (b.nomem) {
        PyMem_Free(b.p);
        return PyErr_NoMemory();
    }
    res = PyUnicode_DecodeUTF8(b.p, b.n, "replace");
    PyMem_Free(b.p);
    return res;
}

/* Pass 1 over one text: note what the shapes and user patterns find. */
static void
note_text(PyObject *rules, Redact_Found *f, PyObject *text, int *in_pem)
{
    Py_ssize_t n;
    Spans sp = {0};
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (!s) {
        PyErr_Clear();
        return;
    }
    scan(rules, (const unsigned char *)s, n, 0, in_pem, &sp);
    note_spans(rules, f, (const unsigned char *)s, n, &sp);
    PyMem_Free(sp.v);
}

PyObject *
Redact_scrub_str(PyObject *rules, Redact_Found *f, PyObject *text)
{
    Needles nd = {0};
    int pem = 0;
    if (!is_rules(rules) || !text || !PyUnicode_Check(text))
        return Py_XNewRef(text);
    note_text(rules, f, text, &pem);
    needles_build(f, 0, &nd);
    pem = 0;
    PyObject *res = scrub_one(rules, f, &nd, text, &pem);
    needles_free(&nd);
    return res;
}

int
Redact_scrub_lines(PyObject *rules, Redact_Found *f, PyObject *lines)
{
    Needles nd = {0};
    int pem = 0, rc = 0;
    if (!is_rules(rules) || !lines || !PyList_Check(lines))
        return 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++)
        if (PyUnicode_Check(PyList_GET_ITEM(lines, i)))
            note_text(rules, f, PyList_GET_ITEM(lines, i), &pem);
    needles_build(f, 0, &nd);
    pem = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++) {
        PyObject *line = PyList_GET_ITEM(lines, i);
        if (!PyUnicode_Check(line))
            continue;
        PyObject *t = scrub_one(rules, f, &nd, line, &pem);
        if (!t) {
            rc = -1;
            break;
        }
        if (t == line)
            Py_DECREF(t);
        else if (PyList_SetItem(lines, i, t) < 0) {
            rc = -1;
            break;
        }
    }
    needles_free(&nd);
    return rc;
}

char *
Redact_scrub_cstr(const char *text, size_t n)
{
    Spans sp = {0};
    int pem = 0;
    char *res = NULL;
    Redact_Found f = {0};
    Buf b = {0};

    scan(NULL, (const unsigned char *)text, (Py_ssize_t)n, 0, &pem, &sp);
    if (sp.n && !sp.nomem) {
        write_scrubbed(&b, &f, (const unsigned char *)text, (Py_ssize_t)n, &sp);
        if (!b.nomem && (res = malloc((size_t)b.n + 1)) != NULL) {
            memcpy(res, b.p, (size_t)b.n);
            res[b.n] = 0;
        }
    }
    PyMem_Free(b.p);
    PyMem_Free(sp.v);
    return res;
}

int
Redact_env_name_matches(PyObject *rules, const char *name, Py_ssize_t len)
{
    /* The shell's working directories, not passwords. */
    if ((len == 3 && memcmp(name, "PWD", 3) == 0) || (len == 6 && memcmp(name, "OLDPWD", 6) == 0))
        return 0;
    return Redact_utf8_matches(rules, name, len);
}

extern char **environ;

void
Redact_note_environ(Redact_Found *f, PyObject *rules)
{
    PyObject *pending = PyErr_GetRaisedException();
    for (char **e = environ; is_rules(rules) && e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strlen(eq + 1) < REDACT_MIN_ENV_NEEDLE
                || !Redact_env_name_matches(rules, *e, eq - *e))
            continue;
        PyObject *v = PyUnicode_DecodeUTF8(eq + 1, (Py_ssize_t)strlen(eq + 1), "strict");
        if (v)
            note_str(f, v, REDACT_K_NAME, REDACT_MIN_ENV_NEEDLE);
        PyErr_Clear();
        Py_XDECREF(v);
    }
    PyErr_SetRaisedException(pending);
}
