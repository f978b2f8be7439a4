/* help.c — `help` and `help COMMAND`: pdb's text for each command. */
#include "commands.h"
#include "help_text.h"

const char *
Help_text(const char *command)
{
    for (const HelpEntry *e = HELP_ENTRIES; e->names; e++) {
        const char *p = e->names;
        size_t n = strlen(command);
        while (*p) {
            const char *end = strchr(p, ' ');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            if (len == n && strncmp(p, command, n) == 0)
                return e->text;
            if (!end)
                break;
            p = end + 1;
        }
    }
    return NULL;
}

static int
print_columns(PdbObject *self, PyObject *words, Py_ssize_t width)
{
    /* cmd.Cmd.columnize(words, 79) -> rows, left-justified, two spaces apart */
    Py_ssize_t size = PyList_GET_SIZE(words);
    if (size == 0)
        return Pdb_messagef(self, "<empty>");
    Py_ssize_t nrows, ncols = 0;
    Py_ssize_t colwidths[256];
    for (nrows = 1; nrows < size; nrows++) {
        ncols = (size + nrows - 1) / nrows;
        if (ncols > 256)
            continue;
        Py_ssize_t totwidth = -2;
        int fits = 1;
        for (Py_ssize_t col = 0; col < ncols; col++) {
            Py_ssize_t cw = 0;
            for (Py_ssize_t row = 0; row < nrows; row++) {
                Py_ssize_t i = row + nrows * col;
                if (i >= size)
                    break;
                Py_ssize_t l = PyUnicode_GET_LENGTH(PyList_GET_ITEM(words, i));
                if (l > cw)
                    cw = l;
            }
            colwidths[col] = cw;
            totwidth += cw + 2;
            if (totwidth > width) {
                fits = 0;
                break;
            }
        }
        if (fits)
            break;
    }
    if (nrows >= size) {
        nrows = size;
        ncols = 1;
        colwidths[0] = 0;
    }
    for (Py_ssize_t row = 0; row < nrows; row++) {
        PyObject *line = PyUnicode_FromString("");
        int last = -1;
        Py_ssize_t texts = 0;
        for (Py_ssize_t col = 0; col < ncols; col++) {
            Py_ssize_t i = row + nrows * col;
            if (i < size)
                texts = col + 1;
        }
        for (Py_ssize_t col = 0; col < texts && line; col++) {
            Py_ssize_t i = row + nrows * col;
            PyObject *w = i < size ? PyList_GET_ITEM(words, i) : NULL;
            PyObject *piece;
            if (col + 1 < texts)
                piece = PyUnicode_FromFormat("%-*U  ", (int)colwidths[col], w ? w : Py_None);
            else
                piece = PyUnicode_FromFormat("%U", w);
            PyObject *nl = piece ? PyUnicode_Concat(line, piece) : NULL;
            Py_XDECREF(piece);
            Py_SETREF(line, nl);
            last = (int)col;
        }
        SLEUTH_UNUSED(last);
        if (!line)
            return -1;
        PyObject *stripped = PyObject_CallMethod(line, "rstrip", NULL);
        Py_DECREF(line);
        if (!stripped)
            return -1;
        int r = Pdb_message(self, stripped);
        Py_DECREF(stripped);
        if (r < 0)
            return -1;
    }
    return 0;
}

PyObject *
Cmd_do_help(PdbObject *self, PyObject *arg)
{
    if (PyUnicode_GET_LENGTH(arg) == 0) {
        /* cmd.Cmd.do_help: documented commands, columnized. */
        PyObject *names = PyObject_Dir((PyObject *)self);
        if (!names)
            return NULL;
        PyObject *cmds = PyList_New(0);
        for (Py_ssize_t i = 0; cmds && i < PyList_GET_SIZE(names); i++) {
            PyObject *n = PyList_GET_ITEM(names, i);
            if (PyUnicode_Check(n) && PyUnicode_GET_LENGTH(n) > 3 &&
                PyUnicode_READ_CHAR(n, 0) == 'd' && PyUnicode_READ_CHAR(n, 1) == 'o' &&
                PyUnicode_READ_CHAR(n, 2) == '_') {
                PyObject *c = PyUnicode_Substring(n, 3, PY_SSIZE_T_MAX);
                const char *cs = c ? PyUnicode_AsUTF8(c) : NULL;
                if (cs && Help_text(cs) && PyList_Append(cmds, c) < 0) {
                    Py_DECREF(c);
                    Py_CLEAR(cmds);
                    break;
                }
                Py_XDECREF(c);
            }
        }
        Py_DECREF(names);
        if (!cmds)
            return NULL;
        PyErr_Clear();
        Pdb_messagef(self, "");
        Pdb_messagef(self, "Documented commands (type help <topic>):");
        Pdb_messagef(self, "========================================");
        print_columns(self, cmds, 79);
        Pdb_messagef(self, "");
        Py_DECREF(cmds);
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name)
        return NULL;
    if (strcmp(name, "exec") == 0 || strcmp(name, "pdb") == 0) {
        const char *t = Help_text(name);
        if (t)
            Pdb_messagef(self, "%s", t);
        Py_RETURN_NONE;
    }
    PyObject *attr = PyUnicode_FromFormat("do_%s", name);
    int has = attr ? PyObject_HasAttr((PyObject *)self, attr) : 0;
    Py_XDECREF(attr);
    const char *text = Help_text(name);
    if (!has) {
        Pdb_errorf(self, "No help for %R", arg);
    } else if (!text) {
        Pdb_errorf(self, "No help for %R; __doc__ string missing", arg);
    } else {
        Pdb_messagef(self, "%s", text);
    }
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}
