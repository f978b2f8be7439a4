/* jsonr.c — strict JSON reader with limits (see jsonr.h).
 *
 * A recursive-descent parser over a byte range. The error path records the
 * first problem (what and at which byte) and unwinds; the ValueError is made
 * once at the top, with the byte offset turned into a line and column.
 */
#include "jsonr.h"
#include <math.h>
#include <string.h>

const JsonRLimits JsonR_default_limits = {
    JSONR_MAX_SIZE, JSONR_MAX_DEPTH, JSONR_MAX_STRING, JSONR_MAX_NUMBER,
};

typedef struct {
    const unsigned char *s;     /* text */
    Py_ssize_t n, i;            /* length, current position */
    const JsonRLimits *lim;
    int depth;
    const char *err;            /* first error: what (static string) */
    Py_ssize_t err_at;          /* and where */
    char errbuf[96];            /* for messages that carry a number */
    char *sbuf;                 /* scratch for strings with escapes */
    Py_ssize_t scap;
} Parser;

static PyObject *parse_value(Parser *p);

/* Record an error at position `at` (the first one wins) and return NULL. */
static PyObject *
fail_at(Parser *p, Py_ssize_t at, const char *what)
{
    if (!p->err && !PyErr_Occurred()) {
        p->err = what;
        p->err_at = at;
    }
    return NULL;
}

static PyObject *
fail(Parser *p, const char *what)
{
    return fail_at(p, p->i, what);
}

static void
skip_ws(Parser *p)
{
    while (p->i < p->n) {
        unsigned char c = p->s[p->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->i++;
    }
}

/* Does the text at the current position start with `word`? Consumes it. */
static int
eat_word(Parser *p, const char *word)
{
    Py_ssize_t k = (Py_ssize_t)strlen(word);
    if (p->n - p->i < k || memcmp(p->s + p->i, word, (size_t)k) != 0)
        return 0;
    p->i += k;
    return 1;
}

/* --- strings ------------------------------------------------------------ */

static int
sbuf_reserve(Parser *p, Py_ssize_t need)
{
    if (need <= p->scap)
        return 0;
    Py_ssize_t cap = p->scap ? p->scap : 256;
    while (cap < need)
        cap *= 2;
    char *nb = PyMem_Realloc(p->sbuf, (size_t)cap);
    if (!nb) {
        PyErr_NoMemory();
        return -1;
    }
    p->sbuf = nb;
    p->scap = cap;
    return 0;
}

static int
hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static Py_ssize_t
put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode UTF-8 bytes that must be valid; an invalid sequence is a JSON error
 * at the byte where the string started. */
static PyObject *
decode_utf8(Parser *p, const char *b, Py_ssize_t n, Py_ssize_t start)
{
    PyObject *u = PyUnicode_DecodeUTF8(b, n, "strict");
    if (!u && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        return fail_at(p, start, "invalid UTF-8 in a string");
    }
    return u;
}

/* At an opening quote. */
static PyObject *
parse_string(Parser *p)
{
    Py_ssize_t start = p->i;
    Py_ssize_t j = ++p->i;
    int escapes = 0;

    /* Find the end, checking characters; note whether decoding is needed. */
    for (;;) {
        if (j >= p->n)
            return fail_at(p, start, "unterminated string");
        unsigned char c = p->s[j];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail_at(p, j, "control character in a string (escape it)");
        if (c == '\\') {
            escapes = 1;
            j++;
            if (j >= p->n)
                return fail_at(p, start, "unterminated string");
        }
        j++;
    }
    if (j - p->i > p->lim->max_string) {
        PyOS_snprintf(p->errbuf, sizeof p->errbuf,
                      "string longer than %zd bytes", p->lim->max_string);
        return fail_at(p, start, p->errbuf);
    }
    if (!escapes) {
        PyObject *u = decode_utf8(p, (const char *)p->s + p->i, j - p->i, start);
        p->i = j + 1;
        return u;
    }
    /* Escapes never grow the text: \uXXXX (6 bytes) becomes at most 3, a
     * surrogate pair (12 bytes) 4. */
    if (sbuf_reserve(p, j - p->i + 1) < 0)
        return NULL;
    Py_ssize_t o = 0;
    while (p->i < j) {
        unsigned char c = p->s[p->i];
        if (c != '\\') {
            p->sbuf[o++] = (char)c;
            p->i++;
            continue;
        }
        Py_ssize_t esc = p->i;
        c = p->s[p->i + 1];
        p->i += 2;
        switch (c) {
        case '"': p->sbuf[o++] = '"'; break;
        case '\\': p->sbuf[o++] = '\\'; break;
        case '/': p->sbuf[o++] = '/'; break;
        case 'b': p->sbuf[o++] = '\b'; break;
        case 'f': p->sbuf[o++] = '\f'; break;
        case 'n': p->sbuf[o++] = '\n'; break;
        case 'r': p->sbuf[o++] = '\r'; break;
        case 't': p->sbuf[o++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (j - p->i < 4 || hex4(p->s + p->i, &cp) < 0)
                return fail_at(p, esc, "\\u needs four hex digits");
            p->i += 4;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail_at(p, esc, "lone low surrogate escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (j - p->i < 6 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u'
                    || hex4(p->s + p->i + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return fail_at(p, esc, "lone high surrogate escape");
                p->i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            o += put_utf8(p->sbuf + o, cp);
            break;
        }
        default:
            return fail_at(p, esc, "invalid escape in a string");
        }
    }
    p->i = j + 1;
    return decode_utf8(p, p->sbuf, o, start);
}

/* --- numbers ------------------------------------------------------------ */

static int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static PyObject *
parse_number(Parser *p)
{
    Py_ssize_t start = p->i, i = p->i;
    int is_float = 0;
    char tmp[JSONR_MAX_NUMBER + 1 > 400 ? JSONR_MAX_NUMBER + 1 : 400];

    if (i < p->n && p->s[i] == '-')
        i++;
    if (i >= p->n || !is_digit(p->s[i]))
        return fail_at(p, start, "expected a digit in a number");
    if (p->s[i] == '0') {
        i++;
        if (i < p->n && is_digit(p->s[i]))
            return fail_at(p, start, "leading zero in a number");
    }
    else
        while (i < p->n && is_digit(p->s[i]))
            i++;
    if (i < p->n && p->s[i] == '.') {
        is_float = 1;
        i++;
        if (i >= p->n || !is_digit(p->s[i]))
            return fail_at(p, i, "expected a digit after the decimal point");
        while (i < p->n && is_digit(p->s[i]))
            i++;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        is_float = 1;
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (i >= p->n || !is_digit(p->s[i]))
            return fail_at(p, i, "expected a digit in the exponent");
        while (i < p->n && is_digit(p->s[i]))
            i++;
    }
    Py_ssize_t len = i - start;
    if (len > p->lim->max_number || len >= (Py_ssize_t)sizeof tmp) {
        PyOS_snprintf(p->errbuf, sizeof p->errbuf,
                      "number longer than %d characters", p->lim->max_number);
        return fail_at(p, start, p->errbuf);
    }
    memcpy(tmp, p->s + start, (size_t)len);
    tmp[len] = '\0';
    p->i = i;
    if (!is_float)
        return PyLong_FromString(tmp, NULL, 10);
    double d = PyOS_string_to_double(tmp, NULL, NULL);
    if (d == -1.0 && PyErr_Occurred())
        return NULL;
    if (!isfinite(d))
        return fail_at(p, start, "number out of range");
    return PyFloat_FromDouble(d);
}

/* --- containers --------------------------------------------------------- */

static int
enter(Parser *p)
{
    if (p->depth >= p->lim->max_depth) {
        PyOS_snprintf(p->errbuf, sizeof p->errbuf,
                      "nested deeper than %d levels", p->lim->max_depth);
        fail(p, p->errbuf);
        return -1;
    }
    p->depth++;
    return 0;
}

static PyObject *
parse_array(Parser *p)
{
    /* Owned */
    PyObject *list = NULL, *item = NULL;

    if (enter(p) < 0)
        return NULL;
    p->i++;                                 /* [ */
    list = PyList_New(0);
    if (!list)
        goto error;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == ']') {
        p->i++;
        goto done;
    }
    for (;;) {
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ']') {
            fail(p, "trailing comma in an array");
            goto error;
        }
        item = parse_value(p);
        if (!item || PyList_Append(list, item) < 0)
            goto error;
        Py_CLEAR(item);
        skip_ws(p);
        if (p->i >= p->n) {
            fail(p, "unterminated array");
            goto error;
        }
        if (p->s[p->i] == ']') {
            p->i++;
            goto done;
        }
        if (p->s[p->i] != ',') {
            fail(p, "expected ',' or ']' in an array");
            goto error;
        }
        p->i++;
    }
error:
    Py_CLEAR(list);
done:
    Py_XDECREF(item);
    p->depth--;
    return list;
}

static PyObject *
parse_object(Parser *p)
{
    /* Owned */
    PyObject *dict = NULL, *key = NULL, *value = NULL;

    if (enter(p) < 0)
        return NULL;
    p->i++;                                 /* { */
    dict = PyDict_New();
    if (!dict)
        goto error;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == '}') {
        p->i++;
        goto done;
    }
    for (;;) {
        skip_ws(p);
        if (p->i >= p->n) {
            fail(p, "unterminated object");
            goto error;
        }
        if (p->s[p->i] == '}') {
            fail(p, "trailing comma in an object");
            goto error;
        }
        if (p->s[p->i] != '"') {
            fail(p, "expected a string key in an object");
            goto error;
        }
        key = parse_string(p);
        if (!key)
            goto error;
        skip_ws(p);
        if (p->i >= p->n || p->s[p->i] != ':') {
            fail(p, "expected ':' after an object key");
            goto error;
        }
        p->i++;
        skip_ws(p);
        value = parse_value(p);
        if (!value || PyDict_SetItem(dict, key, value) < 0)
            goto error;
        Py_CLEAR(key);
        Py_CLEAR(value);
        skip_ws(p);
        if (p->i >= p->n) {
            fail(p, "unterminated object");
            goto error;
        }
        if (p->s[p->i] == '}') {
            p->i++;
            goto done;
        }
        if (p->s[p->i] != ',') {
            fail(p, "expected ',' or '}' in an object");
            goto error;
        }
        p->i++;
    }
error:
    Py_CLEAR(dict);
done:
    Py_XDECREF(key);
    Py_XDECREF(value);
    p->depth--;
    return dict;
}

static PyObject *
parse_value(Parser *p)
{
    skip_ws(p);
    if (p->i >= p->n)
        return fail(p, "expected a value, found the end of the text");
    switch (p->s[p->i]) {
    case '{': return parse_object(p);
    case '[': return parse_array(p);
    case '"': return parse_string(p);
    case 't': if (eat_word(p, "true")) Py_RETURN_TRUE; break;
    case 'f': if (eat_word(p, "false")) Py_RETURN_FALSE; break;
    case 'n': if (eat_word(p, "null")) Py_RETURN_NONE; break;
    default:
        if (p->s[p->i] == '-' || is_digit(p->s[p->i]))
            return parse_number(p);
    }
    return fail(p, "expected a value");
}

/* --- entry point -------------------------------------------------------- */

static void
set_error(Parser *p)
{
    Py_ssize_t line = 1, col = 1;
    for (Py_ssize_t k = 0; k < p->err_at && k < p->n; k++) {
        if (p->s[k] == '\n') {
            line++;
            col = 1;
        }
        else if ((p->s[k] & 0xC0) != 0x80)      /* count characters, not bytes */
            col++;
    }
    PyErr_Format(PyExc_ValueError, "invalid JSON: %s at line %zd column %zd (byte %zd)",
                 p->err, line, col, p->err_at);
}

PyObject *
JsonR_parse(const char *text, Py_ssize_t len, const JsonRLimits *lim)
{
    Parser p;
    PyObject *res = NULL;

    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)text;
    p.n = len;
    p.lim = lim ? lim : &JsonR_default_limits;
    if (len > p.lim->max_size) {
        PyErr_Format(PyExc_ValueError, "invalid JSON: text of %zd bytes is over the %zd-byte limit",
                     len, p.lim->max_size);
        return NULL;
    }
    res = parse_value(&p);
    if (res) {
        skip_ws(&p);
        if (p.i < p.n) {
            Py_CLEAR(res);
            fail(&p, "extra data after the value");
        }
    }
    if (!res && p.err && !PyErr_Occurred())
        set_error(&p);
    PyMem_Free(p.sbuf);
    return res;
}
