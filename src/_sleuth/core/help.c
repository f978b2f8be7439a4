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

/* cmd.Cmd.columnize: as few rows as fit in `width`, columns padded with
 * ljust (trailing spaces included, as cmd prints them). */
static int
print_columns(PdbObject *self, PyObject *words, Py_ssize_t width)
{
    Py_ssize_t size = PyList_GET_SIZE(words);
    if (size == 0)
        return Pdb_messagef(self, "<empty>");
    if (size == 1)
        return Pdb_message(self, PyList_GET_ITEM(words, 0));
    Py_ssize_t nrows = 0, ncols = 1;
    Py_ssize_t *colwidths = PyMem_Calloc((size_t)size + 1, sizeof(Py_ssize_t));
    if (!colwidths) {
        PyErr_NoMemory();
        return -1;
    }
    int found = 0;
    for (nrows = 1; nrows < size; nrows++) {
        ncols = (size + nrows - 1) / nrows;
        Py_ssize_t totwidth = -2;
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
            if (totwidth > width)
                break;
        }
        if (totwidth <= width) {
            found = 1;
            break;
        }
    }
    if (!found) {
        nrows = size;
        ncols = 1;
        colwidths[0] = 0;
    }
    int rc = 0;
    for (Py_ssize_t row = 0; row < nrows && rc == 0; row++) {
        Py_ssize_t ntexts = 0;
        for (Py_ssize_t col = 0; col < ncols; col++)
            if (row + nrows * col < size)
                ntexts = col + 1;
        PyObject *line = PyUnicode_FromString("");
        for (Py_ssize_t col = 0; col < ntexts && line; col++) {
            Py_ssize_t i = row + nrows * col;
            /* i < size here: only trailing cells can be empty, and those
             * were cut by ntexts. */
            PyObject *w = PyList_GET_ITEM(words, i);
            Py_ssize_t len = PyUnicode_GET_LENGTH(w);
            Py_ssize_t pad = colwidths[col] > len ? colwidths[col] - len : 0;
            PyObject *spaces = PyUnicode_New(pad, 127);
            if (spaces) {
                for (Py_ssize_t k = 0; k < pad; k++)
                    PyUnicode_WRITE(PyUnicode_1BYTE_KIND, PyUnicode_DATA(spaces), k, ' ');
            }
            PyObject *piece = spaces ? PyUnicode_FromFormat("%s%U%U", col ? "  " : "", w, spaces) : NULL;
            Py_XDECREF(spaces);
            PyObject *nl = piece ? PyUnicode_Concat(line, piece) : NULL;
            Py_XDECREF(piece);
            Py_SETREF(line, nl);
        }
        rc = line ? Pdb_message(self, line) : -1;
        Py_XDECREF(line);
    }
    PyMem_Free(colwidths);
    return rc;
}

/* Commands sleuth adds; pdb's help listing does not show them. */
static int
sleuth_only(const char *cmd)
{
    if (strcmp(cmd, "env") == 0)
        return 1;
#if !SLEUTH_PY313
    if (strcmp(cmd, "exceptions") == 0)
        return 1;
#endif
    return 0;
}

/* `help pdb`: pdb pages its module documentation (the introduction and
 * every command's help, as that version's pdb module holds it) with pydoc's
 * pager, on sys.stdout. The text is the standard library's own, read from
 * the pdb module as data. */
static PyObject *
help_pdb(void)
{
    PyObject *pdb = PyImport_ImportModule("pdb");
    PyObject *doc = pdb ? PyObject_GetAttrString(pdb, "__doc__") : NULL;
    Py_XDECREF(pdb);
    if (!doc)
        return NULL;
    PyObject *r = NULL;
    if (doc == Py_None) {
        PyErr_SetString(PyExc_RuntimeError, "no documentation (python -OO)");
    } else {
        PyObject *pydoc = PyImport_ImportModule("pydoc");
        if (pydoc) {
            r = PyObject_CallMethod(pydoc, "pager", "O", doc);
            Py_DECREF(pydoc);
        }
    }
    Py_DECREF(doc);
    return r;
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
            if (!PyUnicode_Check(n) || PyUnicode_GET_LENGTH(n) <= 3 || PyUnicode_READ_CHAR(n, 0) != 'd' ||
                PyUnicode_READ_CHAR(n, 1) != 'o' || PyUnicode_READ_CHAR(n, 2) != '_')
                continue;
            PyObject *c = PyUnicode_Substring(n, 3, PY_SSIZE_T_MAX);
            const char *cs = c ? PyUnicode_AsUTF8(c) : NULL;
            if (!cs || (!sleuth_only(cs) && PyList_Append(cmds, c) < 0)) {
                Py_XDECREF(c);
                Py_CLEAR(cmds);
                break;
            }
            Py_DECREF(c);
        }
        Py_DECREF(names);
        if (!cmds)
            return NULL;
        int rc = PyList_Sort(cmds);
        if (rc == 0)
            rc = Pdb_messagef(self, "");
        if (rc == 0)
            rc = Pdb_messagef(self, "Documented commands (type help <topic>):");
        if (rc == 0)
            rc = Pdb_messagef(self, "========================================");
        if (rc == 0)
            rc = print_columns(self, cmds, 79);
        if (rc == 0)
            rc = Pdb_messagef(self, "");
        Py_DECREF(cmds);
        if (rc == 0)
            rc = Pdb_messagef(self, "Miscellaneous help topics:");
        if (rc == 0)
            rc = Pdb_messagef(self, "==========================");
        if (rc == 0)
            rc = Pdb_messagef(self, "exec  pdb");
        if (rc == 0)
            rc = Pdb_messagef(self, "");
        if (rc < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    const char *name = PyUnicode_AsUTF8(arg);
    if (!name)
        return NULL;
    if (strcmp(name, "pdb") == 0)
        return help_pdb();
    if (strcmp(name, "exec") == 0) {
        const char *t = Help_text(name);
        if (t && Pdb_messagef(self, "%s", t) < 0)
            return NULL;
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
