/* stacks_values.c — reprs of simple remote values (see stacks_values.h). */
#include "compat.h"   /* Python.h first: pyconfig.h sets _GNU_SOURCE */
#include "stacks_values.h"
#include "stacks_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
u64_at(const unsigned char *buf, uint64_t off)
{
    uint64_t v;
    memcpy(&v, buf + off, sizeof(v));
    return v;
}

/* A NUL-terminated C string in the target (a type's tp_name), bounded; the
 * read shrinks toward the page end so a short string near the end of a
 * mapping is still read. */
static int
read_cstr(struct stacks_snapshot *s, uint64_t addr, char *out, size_t outlen)
{
    size_t want = outlen - 1;
    size_t to_page = 4096 - (size_t)(addr & 4095);
    if (stacks_mem_read(&s->mem, addr, out, want) < 0) {
        if (to_page >= want || stacks_mem_read(&s->mem, addr, out, to_page) < 0)
            return -1;
        want = to_page;
    }
    out[want] = '\0';
    for (size_t i = 0; out[i]; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
            out[i] = '?';
    return 0;
}

/* The repr of a Python object built locally from copied data. */
static char *
local_repr(PyObject *obj, const char *suffix)
{
    char *out = NULL;
    PyObject *r = NULL;
    if (!obj)
        goto done;
    r = PyObject_Repr(obj);
    if (!r)
        goto done;
    const char *u = PyUnicode_AsUTF8(r);
    if (!u)
        goto done;
    size_t n = strlen(u), m = strlen(suffix);
    out = malloc(n + m + 1);
    if (out) {
        memcpy(out, u, n);
        memcpy(out + n, suffix, m + 1);
    }
done:
    if (PyErr_Occurred())
        PyErr_Clear();
    Py_XDECREF(r);
    Py_XDECREF(obj);
    return out;
}

static char *
int_repr(struct stacks_snapshot *s, uint64_t obj, const unsigned char *head)
{
    const stacks_layout *L = &s->L;
    char buf[96];
    int negative;
    uint64_t ndigits;
    int64_t size = (int64_t)u64_at(head, L->var_size);
    if (L->long_tagged) {
        /* lv_tag = ndigits << 3 | sign (0 positive, 1 zero, 2 negative) */
        uint64_t tag = (uint64_t)size;
        negative = (tag & 3) == 2;
        ndigits = tag >> 3;
        if ((tag & 3) == 1)
            return strdup("0");
    }
    else {
        negative = size < 0;
        ndigits = (uint64_t)(size < 0 ? -size : size);
    }
    if (ndigits == 0)
        return strdup("0");
    if (ndigits > 4) {
        snprintf(buf, sizeof(buf), "<int of about %llu decimal digits>",
                 (unsigned long long)(ndigits * 30 * 30103 / 100000));
        return strdup(buf);
    }
    uint32_t digits[4];
    if (stacks_mem_read(&s->mem, obj + L->long_digit, digits, 4 * ndigits) < 0)
        return strdup("<int, unreadable>");
    unsigned __int128 v = 0;
    for (int i = (int)ndigits - 1; i >= 0; i--)
        v = (v << 30) | (digits[i] & 0x3fffffffu);
    char tmp[64];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v && n < 60);
    int p = 0;
    if (negative)
        buf[p++] = '-';
    while (n > 0)
        buf[p++] = tmp[--n];
    buf[p] = '\0';
    return strdup(buf);
}

char *
stacks_values_repr(struct stacks_snapshot *s, uint64_t obj, int cell)
{
    const stacks_layout *L = &s->L;
    const uint64_t *A = s->syms.addr;
    unsigned char head[32];
    char buf[192];

    if (stacks_mem_read(&s->mem, obj, head, 24) < 0)
        return strdup("<unreadable>");
    uint64_t type = u64_at(head, L->ob_type);
    if (cell && A[STACKS_SYM_CELL_TYPE] && type == A[STACKS_SYM_CELL_TYPE]) {
        uint64_t inner;
        if (stacks_mem_read_u64(&s->mem, obj + L->cell_ref, &inner) < 0)
            return strdup("<unreadable>");
        if (!inner)
            return strdup("<empty cell>");
        obj = inner;
        if (stacks_mem_read(&s->mem, obj, head, 24) < 0)
            return strdup("<unreadable>");
        type = u64_at(head, L->ob_type);
    }
    if (obj == A[STACKS_SYM_NONE])
        return strdup("None");
    if (obj == A[STACKS_SYM_TRUE])
        return strdup("True");
    if (obj == A[STACKS_SYM_FALSE])
        return strdup("False");
    if (type == A[STACKS_SYM_LONG_TYPE])
        return int_repr(s, obj, head);
    if (type == A[STACKS_SYM_FLOAT_TYPE]) {
        double d;
        if (stacks_mem_read(&s->mem, obj + L->float_fval, &d, sizeof(d)) < 0)
            return strdup("<float, unreadable>");
        char *r = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
        if (!r) {
            PyErr_Clear();
            return strdup("<float>");
        }
        char *out = strdup(r);
        PyMem_Free(r);
        return out;
    }
    if (type == A[STACKS_SYM_UNICODE_TYPE]) {
        int truncated;
        char *u = stacks_walk_read_str(s, obj, STACKS_REPR_MAX_STR, &truncated);
        if (!u)
            return strdup("<str, unreadable>");
        PyObject *o = PyUnicode_DecodeUTF8(u, (Py_ssize_t)strlen(u), "replace");
        free(u);
        return local_repr(o, truncated ? "..." : "");
    }
    if (type == A[STACKS_SYM_BYTES_TYPE]) {
        int64_t size = (int64_t)u64_at(head, L->var_size);
        if (size < 0)
            return strdup("<bytes, unreadable>");
        size_t n = size > STACKS_REPR_MAX_BYTES ? STACKS_REPR_MAX_BYTES : (size_t)size;
        unsigned char data[STACKS_REPR_MAX_BYTES];
        if (stacks_mem_read(&s->mem, obj + L->bytes_sval, data, n) < 0)
            return strdup("<bytes, unreadable>");
        PyObject *o = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)n);
        return local_repr(o, (size_t)size > n ? "..." : "");
    }
    /* Anything else: its type's name only; its contents are not interpreted. */
    uint64_t tp_name;
    char name[80];
    if (!type || stacks_mem_read_u64(&s->mem, type + L->type_name, &tp_name) < 0 ||
        read_cstr(s, tp_name, name, sizeof(name)) < 0)
        snprintf(name, sizeof(name), "?");
    snprintf(buf, sizeof(buf), "<%s object at 0x%llx>", name, (unsigned long long)obj);
    return strdup(buf);
}
