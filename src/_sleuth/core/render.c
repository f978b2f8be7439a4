/* render.c — the text pdb prints for locations and listings. Editors and
 * scripts parse these lines, so they are reproduced exactly. */
#include "render.h"
#include "engine.h"

PyObject *
Render_getline(PyObject *filename, long lineno, PyObject *globals)
{
    PyObject *lc = PyImport_ImportModule("linecache");
    if (!lc)
        return NULL;
    PyObject *r = PyObject_CallMethod(lc, "getline", "OlO", filename, lineno,
                                      globals ? globals : Py_None);
    Py_DECREF(lc);
    return r;
}

PyObject *
Render_getlines(PyObject *filename, PyObject *globals)
{
    PyObject *lc = PyImport_ImportModule("linecache");
    if (!lc)
        return NULL;
    PyObject *r = PyObject_CallMethod(lc, "getlines", "OO", filename, globals ? globals : Py_None);
    Py_DECREF(lc);
    return r;
}

PyObject *
Render_file_breaks(PdbObject *self, PyObject *filename)
{
    PyObject *canon = Pdb_canonic(self, filename);
    if (!canon)
        return NULL;
    PyObject *lines = PyDict_GetItemWithError(Sleuth_state()->breaks, canon);
    Py_DECREF(canon);
    if (lines)
        return PyList_GetSlice(lines, 0, PY_SSIZE_T_MAX);
    if (PyErr_Occurred())
        return NULL;
    return PyList_New(0);
}

static PyObject *
frame_locals_get(PyObject *frame, PyObject *name)
{
    /* '__return__' in frame.f_locals -> value (new ref) or NULL without error */
    PyObject *locals = PyObject_GetAttrString(frame, "f_locals");
    if (!locals) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *v = PyObject_GetItem(locals, name);
    Py_DECREF(locals);
    if (!v)
        PyErr_Clear();
    return v;
}

PyObject *
Render_stack_entry(PdbObject *self, PyObject *entry, const char *lprefix)
{
    /* Owned */
    PyObject *frame, *lineno_obj;
    PyObject *code = NULL, *filename = NULL, *s = NULL, *rv = NULL, *globals = NULL, *line = NULL;

    if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2) {
        PyErr_SetString(PyExc_TypeError, "stack entry must be (frame, lineno)");
        return NULL;
    }
    frame = PyTuple_GET_ITEM(entry, 0);
    lineno_obj = PyTuple_GET_ITEM(entry, 1);
    code = PyObject_GetAttrString(frame, "f_code");
    if (!code)
        goto error;
    PyObject *raw = PyObject_GetAttrString(code, "co_filename");
    if (!raw)
        goto error;
    filename = Pdb_canonic(self, raw);
    Py_DECREF(raw);
    if (!filename)
        goto error;
    PyObject *name = PyObject_GetAttrString(code, "co_name");
    if (!name)
        goto error;
    if (PyObject_IsTrue(name) == 1 && PyUnicode_Check(name))
        s = PyUnicode_FromFormat("%U(%R)%U()", filename, lineno_obj, name);
    else
        s = PyUnicode_FromFormat("%U(%R)<lambda>()", filename, lineno_obj);
    Py_DECREF(name);
    if (!s)
        goto error;
    rv = frame_locals_get(frame, Sleuth_state()->str___return__);
    if (rv) {
        PyObject *reprlib = PyImport_ImportModule("reprlib");
        /* "(O)": a tuple is one argument (a bare "O" would spread it). */
        PyObject *r = reprlib ? PyObject_CallMethod(reprlib, "repr", "(O)", rv) : NULL;
        Py_XDECREF(reprlib);
        if (!r)
            goto error;
        Py_SETREF(s, PyUnicode_FromFormat("%U->%U", s, r));
        Py_DECREF(r);
        if (!s)
            goto error;
    }
    if (lineno_obj != Py_None) {
        globals = PyObject_GetAttrString(frame, "f_globals");
        if (!globals)
            goto error;
        line = Render_getline(filename, PyLong_AsLong(lineno_obj), globals);
        if (!line)
            goto error;
        if (PyUnicode_Check(line) && PyUnicode_GET_LENGTH(line) > 0) {
            PyObject *stripped = PyObject_CallMethod(line, "strip", NULL);
            if (!stripped)
                goto error;
            Py_SETREF(s, PyUnicode_FromFormat("%U%s%U", s, lprefix, stripped));
            Py_DECREF(stripped);
        }
    } else {
        Py_SETREF(s, PyUnicode_FromFormat("%U%sWarning: lineno is None", s, lprefix));
    }
    Py_XDECREF(code);
    Py_XDECREF(filename);
    Py_XDECREF(rv);
    Py_XDECREF(globals);
    Py_XDECREF(line);
    return s;
error:
    Py_XDECREF(code);
    Py_XDECREF(filename);
    Py_XDECREF(s);
    Py_XDECREF(rv);
    Py_XDECREF(globals);
    Py_XDECREF(line);
    return NULL;
}

int
Pdb_print_stack_entry(PdbObject *self, PyObject *entry, const char *prefix)
{
    PyObject *frame = PyTuple_GET_ITEM(entry, 0);
    PyObject *text = Render_stack_entry(self, entry, prefix ? prefix : "\n-> ");
    if (!text)
        return -1;
    int r = Pdb_messagef(self, "%s%U", frame == self->curframe ? "> " : "  ", text);
    Py_DECREF(text);
    return r;
}

int
Render_stack_trace(PdbObject *self, Py_ssize_t count)
{
    Py_ssize_t n = PyList_GET_SIZE(self->stack);
    Py_ssize_t start = 0;
    if (count >= 0 && count < n)
        start = n - count;
    for (Py_ssize_t i = start; i < n; i++) {
        if (Pdb_print_stack_entry(self, PyList_GET_ITEM(self->stack, i), NULL) < 0) {
            if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
                PyErr_Clear();
                return 0;
            }
            return -1;
        }
    }
    return 0;
}

int
Render_print_lines(PdbObject *self, PyObject *lines, long start, PyObject *breaks, PyObject *frame)
{
    long current = -1, exc_lineno = -1;
    if (frame && frame != Py_None) {
        current = Pdb_frame_lineno(frame);
        PyObject *e = PyDict_GetItemWithError(self->tb_lineno, frame);
        if (e)
            exc_lineno = PyLong_AsLong(e);
        else if (PyErr_Occurred())
            return -1;
    }
    Py_ssize_t n = PySequence_Size(lines);
    if (n < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        long lineno = start + (long)i;
        char head[48];
        int len = snprintf(head, sizeof head, "%3ld", lineno);
        if (len < 4)
            head[len++] = ' ';
        PyObject *lo = PyLong_FromLong(lineno);
        int isbp = lo ? PySequence_Contains(breaks, lo) : -1;
        Py_XDECREF(lo);
        if (isbp < 0)
            return -1;
        head[len++] = isbp ? 'B' : ' ';
        if (lineno == current) {
            head[len++] = '-';
            head[len++] = '>';
        } else if (lineno == exc_lineno) {
            head[len++] = '>';
            head[len++] = '>';
        }
        head[len] = '\0';
        PyObject *line = PySequence_GetItem(lines, i);
        if (!line)
            return -1;
        PyObject *stripped = PyObject_CallMethod(line, "rstrip", NULL);
        Py_DECREF(line);
        if (!stripped)
            return -1;
        int r = Pdb_messagef(self, "%s\t%U", head, stripped);
        Py_DECREF(stripped);
        if (r < 0)
            return -1;
    }
    return 0;
}
