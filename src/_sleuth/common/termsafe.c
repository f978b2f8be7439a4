/* termsafe.c — see termsafe.h. */
#include "termsafe.h"

/* Characters that change how a terminal shows what follows, and lone
 * surrogates (no encoding can write them: printing one would fail). */
int
TermSafe_unsafe_char(Py_UCS4 ch)
{
    if (ch < 0x20)
        return ch != '\n' && ch != '\t';
    if (ch < 0x7f)
        return 0;
    if (ch <= 0x9f)                              /* DEL and the C1 controls */
        return 1;
    return ch == 0x061c || ch == 0x200b || ch == 0x200e || ch == 0x200f ||
           (ch >= 0x202a && ch <= 0x202e) || (ch >= 0x2066 && ch <= 0x2069) ||
           ch == 0x2028 || ch == 0x2029 || ch == 0xfeff || (ch >= 0xd800 && ch <= 0xdfff);
}

PyObject *
TermSafe_escape(PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "TermSafe_escape() needs a str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), extra = 0;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (TermSafe_unsafe_char(ch))
            extra += ch <= 0xff ? 3 : 5;
    }
    if (!extra)
        return Py_NewRef(text);
    PyObject *res = PyUnicode_New(n + extra, PyUnicode_MAX_CHAR_VALUE(text));
    if (!res)
        return NULL;
    int rkind = PyUnicode_KIND(res);
    void *rdata = PyUnicode_DATA(res);
    static const char hex[] = "0123456789abcdef";
    Py_ssize_t o = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (!TermSafe_unsafe_char(ch)) {
            PyUnicode_WRITE(rkind, rdata, o++, ch);
            continue;
        }
        PyUnicode_WRITE(rkind, rdata, o++, '\\');
        if (ch <= 0xff) {
            PyUnicode_WRITE(rkind, rdata, o++, 'x');
        }
        else {
            PyUnicode_WRITE(rkind, rdata, o++, 'u');
            PyUnicode_WRITE(rkind, rdata, o++, hex[(ch >> 12) & 0xf]);
            PyUnicode_WRITE(rkind, rdata, o++, hex[(ch >> 8) & 0xf]);
        }
        PyUnicode_WRITE(rkind, rdata, o++, hex[(ch >> 4) & 0xf]);
        PyUnicode_WRITE(rkind, rdata, o++, hex[ch & 0xf]);
    }
    return res;
}

void
TermSafe_fwrite(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4 : 0;
        Py_UCS4 ch = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        size_t k = 1;
        for (; len && k < len && p + k < end && (p[k] & 0xc0) == 0x80; k++)
            ch = (ch << 6) | (p[k] & 0x3f);
        if (len == 0 || k < len || (len > 1 && ch < 0x80) || ch > 0x10ffff) {
            fprintf(f, "\\x%02x", c);     /* not UTF-8: the byte itself */
            p++;
            continue;
        }
        if (TermSafe_unsafe_char(ch)) {
            if (ch <= 0xff)
                fprintf(f, "\\x%02x", (unsigned)ch);
            else
                fprintf(f, "\\u%04x", (unsigned)ch);
        }
        else
            fwrite(p, 1, len, f);
        p += len;
    }
}
