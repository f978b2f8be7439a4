/* cmd_break.c — break, tbreak, clear, enable, disable, condition, ignore and
 * commands: pdb's parsing, checks and messages over the shared table. */
#include "commands.h"
#include "breakpoints.h"
#include "engine.h"
#include "util.h"
#include "render.h"

#if SLEUTH_PY313
static int
Str_endswith(PyObject *s, const char *suffix)
{
    PyObject *suf = PyUnicode_FromString(suffix);
    int r = suf && PyUnicode_Check(s) ? (int)PyUnicode_Tailmatch(s, suf, 0, PY_SSIZE_T_MAX, 1) : 0;
    Py_XDECREF(suf);
    PyErr_Clear();
    return r == 1;
}
#endif

/* --- helpers -------------------------------------------------------------- */

/* A line number as pdb's int() reads it, clamped to a C long: a number
 * past any file's end stays past it (pdb then says "End of file"). */
static long
lineno_clamped(PyObject *v)
{
    int overflow;
    long n = PyLong_AsLongAndOverflow(v, &overflow);
    return overflow > 0 ? LONG_MAX : overflow < 0 ? LONG_MIN : n;
}


static int
path_exists(PyObject *p)
{
    PyObject *r = Util_call("os.path", "exists", "(O)", p);
    if (!r)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

static int
path_isabs(PyObject *p)
{
    PyObject *r = Util_call("os.path", "isabs", "(O)", p);
    if (!r)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* pdb.lookupmodule: (possibly incomplete) file or module name -> path, or
 * Py_None (new ref). */
static PyObject *
lookupmodule(PdbObject *self, PyObject *filename)
{
    PyObject *fn = Py_NewRef(filename), *syspath = PySys_GetObject("path");
    int r;
#if SLEUTH_PY313
    SLEUTH_UNUSED(self);
    if (!Str_endswith(fn, ".py")) {
        PyObject *sep = Util_call("os", "fspath", "(s)", "/");
        PyObject *dot = PyUnicode_FromString(".");
        PyObject *rep = sep && dot ? PyUnicode_Replace(fn, dot, sep, -1) : NULL;
        Py_XDECREF(sep);
        Py_XDECREF(dot);
        if (!rep)
            goto error;
        Py_SETREF(fn, PyUnicode_FromFormat("%U.py", rep));
        Py_DECREF(rep);
        if (!fn)
            return NULL;
    }
    r = path_isabs(fn);
    if (r < 0)
        goto error;
    if (r) {
        r = path_exists(fn);
        if (r < 0)
            goto error;
        if (r)
            return fn;
        Py_DECREF(fn);
        Py_RETURN_NONE;
    }
#else
    r = path_isabs(fn);
    if (r < 0)
        goto error;
    if (r && path_exists(fn) == 1)
        return fn;
    if (syspath && PyList_Check(syspath) && PyList_GET_SIZE(syspath) > 0) {
        PyObject *f = Util_call("os.path", "join", "(OO)", PyList_GET_ITEM(syspath, 0), fn);
        if (!f)
            goto error;
        if (path_exists(f) == 1) {
            PyObject *canon = Pdb_canonic(self, f);
            int same = canon ? PyObject_RichCompareBool(canon, self->mainpyfile, Py_EQ) : -1;
            Py_XDECREF(canon);
            if (same == 1) {
                Py_DECREF(fn);
                return f;
            }
        }
        Py_DECREF(f);
        PyErr_Clear();
    }
    PyObject *split = Util_call("os.path", "splitext", "(O)", fn);
    if (!split)
        goto error;
    if (PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(split, 1)) == 0)
        Py_SETREF(fn, PyUnicode_FromFormat("%U.py", fn));
    Py_DECREF(split);
    if (!fn)
        return NULL;
    r = path_isabs(fn);
    if (r < 0)
        goto error;
    if (r)
        return fn;
#endif
    if (syspath && PyList_Check(syspath)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(syspath); i++) {
            PyObject *dir = PyList_GET_ITEM(syspath, i);
            if (!PyUnicode_Check(dir))
                continue;
            PyObject *full = Util_call("os.path", "join", "(OO)", dir, fn);
            if (!full)
                goto error;
            int e = path_exists(full);
            if (e == 1) {
                Py_DECREF(fn);
                return full;
            }
            Py_DECREF(full);
            if (e < 0)
                PyErr_Clear();
        }
    }
    Py_DECREF(fn);
    Py_RETURN_NONE;
error:
    Py_XDECREF(fn);
    return NULL;
}

static PyObject *
default_file(PdbObject *self)
{
    PyObject *co = PyObject_GetAttrString(self->curframe, "f_code");
    PyObject *fn = co ? PyObject_GetAttrString(co, "co_filename") : NULL;
    Py_XDECREF(co);
    if (fn && PyUnicode_CompareWithASCIIString(fn, "<string>") == 0 &&
        PyUnicode_GET_LENGTH(self->mainpyfile) > 0)
        Py_SETREF(fn, Py_NewRef(self->mainpyfile));
    return fn;
}

#if SLEUTH_PY313
static long first_executable_line(PyObject *code);
#endif

/* pdb.find_function: (funcname, filename, lineno) of "def NAME(" or None */
static PyObject *
find_function(PyObject *funcname, PyObject *filename)
{
    PyObject *re = PyImport_ImportModule("re");
    if (!re)
        return NULL;
    PyObject *esc = PyObject_CallMethod(re, "escape", "O", funcname);
#if SLEUTH_PY313
    PyObject *pat = esc ? PyUnicode_FromFormat("def\\s+%U(\\s*\\[.+\\])?\\s*[(]", esc) : NULL;
#else
    PyObject *pat = esc ? PyUnicode_FromFormat("def\\s+%U\\s*[(]", esc) : NULL;
#endif
    PyObject *cre = pat ? PyObject_CallMethod(re, "compile", "O", pat) : NULL;
    Py_XDECREF(esc);
    Py_XDECREF(pat);
    Py_DECREF(re);
    if (!cre)
        return NULL;
    PyObject *res = NULL, *lines = NULL;
    PyObject *fp = Util_call("tokenize", "open", "(O)", filename);
    if (!fp) {
        if (!PyErr_ExceptionMatches(PyExc_OSError) && !PyErr_ExceptionMatches(PyExc_SyntaxError)) {
            Py_DECREF(cre);
            return NULL;
        }
        PyErr_Clear();
#if SLEUTH_PY313
        /* 3.13: source linecache knows (a zipapp, a module's loader). */
        lines = Util_call("linecache", "getlines", "(O)", filename);
        if (lines && (!PyList_Check(lines) || PyList_GET_SIZE(lines) == 0))
            Py_CLEAR(lines);
#endif
    } else {
        lines = PyObject_CallMethod(fp, "readlines", NULL);
        PyObject *cl = PyObject_CallMethod(fp, "close", NULL);
        Py_XDECREF(cl);
        Py_DECREF(fp);
    }
    if (!lines) {
        Py_DECREF(cre);
        PyErr_Clear();
        Py_RETURN_NONE;
    }
#if SLEUTH_PY313
    /* 3.13: compile the def (growing it line by line until it parses) and
     * answer its first executable line. */
    PyObject *funcdef = NULL;
    Py_ssize_t funcstart = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines) && !res; i++) {
        PyObject *line = PyList_GET_ITEM(lines, i);
        PyObject *m = PyObject_CallMethod(cre, "match", "O", line);
        if (!m)
            break;
        int hit = m != Py_None;
        Py_DECREF(m);
        if (hit) {
            funcstart = i + 1;
            Py_XSETREF(funcdef, Py_NewRef(line));
        } else if (funcdef) {
            Py_SETREF(funcdef, PyUnicode_Concat(funcdef, line));
            if (!funcdef)
                break;
        }
        if (!funcdef)
            continue;
        PyObject *compile = PyDict_GetItemString(PyEval_GetBuiltins(), "compile");
        PyObject *code = PyObject_CallFunction(compile, "OOs", funcdef, filename, "exec");
        if (!code) {
            if (!PyErr_ExceptionMatches(PyExc_SyntaxError))
                break;
            PyErr_Clear();
            continue;
        }
        PyObject *consts = ((PyCodeObject *)code)->co_consts;
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(consts); k++) {
            PyObject *c = PyTuple_GET_ITEM(consts, k);
            if (PyCode_Check(c) && PyObject_RichCompareBool(((PyCodeObject *)c)->co_name, funcname, Py_EQ) == 1) {
                long off = first_executable_line(c);
                res = Py_BuildValue("(OOn)", funcname, filename, funcstart + off - 1);
                break;
            }
        }
        Py_DECREF(code);
        break;
    }
    Py_XDECREF(funcdef);
#else
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++) {
        PyObject *m = PyObject_CallMethod(cre, "match", "O", PyList_GET_ITEM(lines, i));
        if (!m)
            break;
        int hit = m != Py_None;
        Py_DECREF(m);
        if (hit) {
            res = Py_BuildValue("(OOn)", funcname, filename, i + 1);
            break;
        }
    }
#endif
    Py_DECREF(lines);
    Py_DECREF(cre);
    if (!res && !PyErr_Occurred())
        res = Py_NewRef(Py_None);
    return res;
}

/* pdb.lineinfo: (funcname, filename, lineno) or None */
static PyObject *
lineinfo(PdbObject *self, PyObject *identifier)
{
    PyObject *q = PyUnicode_FromString("'");
    PyObject *parts = q ? PyUnicode_Split(identifier, q, -1) : NULL;
    Py_XDECREF(q);
    if (!parts)
        return NULL;
    PyObject *id = NULL, *res = NULL, *dots = NULL, *fname = NULL, *item = NULL;
    if (PyList_GET_SIZE(parts) == 1)
        id = PyObject_CallMethod(PyList_GET_ITEM(parts, 0), "strip", NULL);
    else if (PyList_GET_SIZE(parts) == 3)
        id = PyObject_CallMethod(PyList_GET_ITEM(parts, 1), "strip", NULL);
    else {
        res = Py_NewRef(Py_None);
        goto done;
    }
    if (!id)
        goto done;
    if (PyUnicode_GET_LENGTH(id) == 0) {
        res = Py_NewRef(Py_None);
        goto done;
    }
    PyObject *dot = PyUnicode_FromString(".");
    dots = dot ? PyUnicode_Split(id, dot, -1) : NULL;
    Py_XDECREF(dot);
    if (!dots)
        goto done;
    if (PyUnicode_CompareWithASCIIString(PyList_GET_ITEM(dots, 0), "self") == 0) {
        if (PySequence_DelItem(dots, 0) < 0)
            goto done;
        if (PyList_GET_SIZE(dots) == 0) {
            res = Py_NewRef(Py_None);
            goto done;
        }
    }
    fname = default_file(self);
    if (!fname)
        goto done;
    if (PyList_GET_SIZE(dots) == 1) {
        item = Py_NewRef(PyList_GET_ITEM(dots, 0));
    } else {
        PyObject *f = lookupmodule(self, PyList_GET_ITEM(dots, 0));
        if (!f)
            goto done;
        if (f != Py_None)
            Py_SETREF(fname, f);
        else
            Py_DECREF(f);
        item = Py_NewRef(PyList_GET_ITEM(dots, 1));
    }
#if SLEUTH_PY313
    PyObject *canon = Pdb_canonic(self, fname);
    if (!canon)
        goto done;
    Py_SETREF(fname, canon);
#endif
    res = find_function(item, fname);
done:
    Py_DECREF(parts);
    Py_XDECREF(id);
    Py_XDECREF(dots);
    Py_XDECREF(fname);
    Py_XDECREF(item);
    return res;
}

/* pdb.checkline: the line if it can hold a breakpoint, else 0 (message
 * printed). */
static long
checkline(PdbObject *self, PyObject *filename, long lineno)
{
    PyObject *globs = self->curframe ? PyObject_GetAttrString(self->curframe, "f_globals") : Py_NewRef(Py_None);
    if (!globs)
        return -1;
    PyObject *line = Render_getline(filename, lineno, globs);
    Py_DECREF(globs);
    if (!line)
        return -1;
    if (!PyUnicode_Check(line) || PyUnicode_GET_LENGTH(line) == 0) {
        Py_DECREF(line);
        Pdb_messagef(self, "End of file");
        return PyErr_Occurred() ? -1 : 0;
    }
    PyObject *s = PyObject_CallMethod(line, "strip", NULL);
    Py_DECREF(line);
    if (!s)
        return -1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int bad = n == 0 || PyUnicode_READ_CHAR(s, 0) == '#';
    if (!bad && n >= 3) {
        PyObject *head = PyUnicode_Substring(s, 0, 3);
        bad = head && (PyUnicode_CompareWithASCIIString(head, "\"\"\"") == 0 ||
                       PyUnicode_CompareWithASCIIString(head, "'''") == 0);
        Py_XDECREF(head);
    }
    Py_DECREF(s);
    if (bad) {
        Pdb_errorf(self, "Blank or comment");
        return PyErr_Occurred() ? -1 : 0;
    }
    return lineno;
}

/* Pdb.checkline(filename, lineno): pdb's method, callable before debugging. */
PyObject *
CmdBreak_checkline_py(PdbObject *self, PyObject *args)
{
    PyObject *filename;
    long lineno;
    if (!PyArg_ParseTuple(args, "Ol:checkline", &filename, &lineno))
        return NULL;
    long r = checkline(self, filename, lineno);
    if (r < 0 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLong(r);
}

/* pdb.find_function(funcname, filename): (funcname, filename, lineno) or None. */
PyObject *
CmdBreak_find_function_py(PyObject *module, PyObject *args)
{
    SLEUTH_UNUSED(module);
    PyObject *funcname, *filename;
    if (!PyArg_ParseTuple(args, "UO:find_function", &funcname, &filename))
        return NULL;
    return find_function(funcname, filename);
}

PyObject *
Cmd_set_break(PdbObject *self, PyObject *filename, int lineno, int temporary, PyObject *cond,
              PyObject *funcname)
{
    ModState *st = Sleuth_state();
    PyObject *canon = Pdb_canonic(self, filename);
    if (!canon)
        return NULL;
    PyObject *line = Render_getline(canon, lineno, NULL);
    if (!line) {
        Py_DECREF(canon);
        return NULL;
    }
    int empty = !PyUnicode_Check(line) || PyUnicode_GET_LENGTH(line) == 0;
    Py_DECREF(line);
    if (empty) {
        PyObject *msg = PyUnicode_FromFormat("Line %U:%d does not exist", canon, lineno);
        Py_DECREF(canon);
        return msg;
    }
    BreakpointObject *bp = Breakpoint_new(st, canon, lineno, temporary, cond, funcname);
    Py_DECREF(canon);
    if (!bp)
        return NULL;
    if (Engine_breaks_changed() < 0)
        return NULL;
    Py_RETURN_NONE;   /* "no error": callers test for Py_None */
}

#if SLEUTH_PY313
/* 3.13: the line of the first instruction after RESUME. */
static long
first_executable_line(PyObject *code)
{
    long first = ((PyCodeObject *)code)->co_firstlineno;
#if SLEUTH_PY313
    PyObject *dis = PyImport_ImportModule("dis");
    PyObject *it = dis ? PyObject_CallMethod(dis, "get_instructions", "O", code) : NULL;
    Py_XDECREF(dis);
    PyObject *iter = it ? PyObject_GetIter(it) : NULL;
    Py_XDECREF(it);
    PyObject *prev = NULL, *ins;
    while (iter && (ins = PyIter_Next(iter))) {
        if (prev) {
            PyObject *op = PyObject_GetAttrString(prev, "opname");
            int resume = op && PyUnicode_CompareWithASCIIString(op, "RESUME") == 0;
            Py_XDECREF(op);
            if (resume) {
                PyObject *pos = PyObject_GetAttrString(ins, "positions");
                PyObject *ln = pos ? PyObject_GetAttrString(pos, "lineno") : NULL;
                if (ln && ln != Py_None)
                    first = PyLong_AsLong(ln);
                Py_XDECREF(pos);
                Py_XDECREF(ln);
                Py_DECREF(ins);
                break;
            }
        }
        Py_XSETREF(prev, ins);
    }
    Py_XDECREF(prev);
    Py_XDECREF(iter);
#endif
    PyErr_Clear();
    return first;
}
#endif

static PyObject *
do_break_impl(PdbObject *self, PyObject *arg, int temporary)
{
    ModState *st = Sleuth_state();
    /* Owned */
    PyObject *a = NULL, *filename = NULL, *cond = NULL, *funcname = NULL, *res = NULL;
    long lineno = 0;

    if (PyUnicode_GET_LENGTH(arg) == 0) {
        if (PyDict_GET_SIZE(st->breaks) > 0) {
            Pdb_messagef(self, "Num Type         Disp Enb   Where");
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(st->bpbynumber); i++) {
                PyObject *bp = PyList_GET_ITEM(st->bpbynumber, i);
                if (bp == Py_None)
                    continue;
                PyObject *txt = Breakpoint_format((BreakpointObject *)bp);
                if (!txt || Pdb_message(self, txt) < 0) {
                    Py_XDECREF(txt);
                    return NULL;
                }
                Py_DECREF(txt);
            }
        }
        Py_RETURN_NONE;
    }
    a = Py_NewRef(arg);
    Py_ssize_t comma = PyUnicode_FindChar(a, ',', 0, PY_SSIZE_T_MAX, 1);
    if (comma > 0) {
        PyObject *c = PyUnicode_Substring(a, comma + 1, PY_SSIZE_T_MAX);
        cond = c ? PyObject_CallMethod(c, "lstrip", NULL) : NULL;
        Py_XDECREF(c);
        if (!cond)
            goto error;
#if !SLEUTH_PY311
        PyObject *err = Breakpoint_compile_error(cond);
        if (err) {
            Pdb_errorf(self, "Invalid condition %U: %U", cond, err);
            Py_DECREF(err);
            goto ok;
        }
#endif
        PyObject *h = PyUnicode_Substring(a, 0, comma);
        PyObject *hs = h ? PyObject_CallMethod(h, "rstrip", NULL) : NULL;
        Py_XDECREF(h);
        if (!hs)
            goto error;
        Py_SETREF(a, hs);
    }
    Py_ssize_t colon = PyUnicode_FindChar(a, ':', 0, PY_SSIZE_T_MAX, -1);
    if (colon >= 0) {
        PyObject *h = PyUnicode_Substring(a, 0, colon);
        PyObject *fname = h ? PyObject_CallMethod(h, "rstrip", NULL) : NULL;
        Py_XDECREF(h);
        if (!fname)
            goto error;
        PyObject *f = lookupmodule(self, fname);
        if (!f) {
            Py_DECREF(fname);
            goto error;
        }
        if (f == Py_None) {
            Pdb_errorf(self, "%R not found from sys.path", fname);
            Py_DECREF(fname);
            Py_DECREF(f);
            goto ok;
        }
        Py_DECREF(fname);
        filename = f;
        PyObject *t = PyUnicode_Substring(a, colon + 1, PY_SSIZE_T_MAX);
        PyObject *ts = t ? PyObject_CallMethod(t, "lstrip", NULL) : NULL;
        Py_XDECREF(t);
        if (!ts)
            goto error;
        Py_SETREF(a, ts);
        PyObject *v = PyLong_FromUnicodeObject(a, 10);
        if (!v) {
            PyErr_Clear();
            Pdb_errorf(self, "Bad lineno: %U", a);
            goto ok;
        }
        lineno = lineno_clamped(v);
        Py_DECREF(v);
    } else {
        PyObject *v = PyLong_FromUnicodeObject(a, 10);
        if (v) {
            lineno = lineno_clamped(v);
            Py_DECREF(v);
        } else {
            PyErr_Clear();
            int failed = 0;
            PyObject *func = NULL;
            if (self->curframe)
                func = Cmd_eval(self, a);
            if (!func) {
                if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
                    goto error;
                PyErr_Clear();
                func = Py_NewRef(a);
            }
            PyObject *code = NULL;
            PyObject *inner = PyObject_GetAttrString(func, "__func__");
            if (inner)
                Py_SETREF(func, inner);
            PyErr_Clear();
            code = PyObject_GetAttrString(func, "__code__");
            if (code && PyCode_Check(code)) {
                funcname = Py_NewRef(((PyCodeObject *)code)->co_name);
                filename = Py_NewRef(((PyCodeObject *)code)->co_filename);
#if SLEUTH_PY313
                lineno = first_executable_line(code);
#else
                lineno = ((PyCodeObject *)code)->co_firstlineno;
#endif
            } else {
                PyErr_Clear();
                failed = 1;
            }
            Py_XDECREF(code);
            Py_DECREF(func);
            if (failed) {
                PyObject *info = lineinfo(self, a);
                if (!info)
                    goto error;
                if (info == Py_None || !PyTuple_Check(info)) {
                    Py_DECREF(info);
                    Pdb_errorf(self, "The specified object %R is not a function or was not found along sys.path.", a);
                    goto ok;
                }
                funcname = Py_NewRef(PyTuple_GET_ITEM(info, 0));
                filename = Py_NewRef(PyTuple_GET_ITEM(info, 1));
                lineno = PyLong_AsLong(PyTuple_GET_ITEM(info, 2));
                Py_DECREF(info);
            }
        }
    }
    if (!filename || PyObject_IsTrue(filename) != 1) {
        Py_XSETREF(filename, default_file(self));
        if (!filename)
            goto error;
    }
    long line = checkline(self, filename, lineno);
    if (line < 0)
        goto error;
    if (line) {
        PyObject *err = Cmd_set_break(self, filename, (int)line, temporary, cond, funcname);
        if (!err)
            goto error;
        if (err != Py_None) {
            Pdb_error_obj(self, err);
            Py_DECREF(err);
            goto ok;
        }
        Py_DECREF(err);
        BreakpointObject *bp = (BreakpointObject *)PyList_GET_ITEM(st->bpbynumber,
                                                                   PyList_GET_SIZE(st->bpbynumber) - 1);
        Pdb_messagef(self, "Breakpoint %ld at %U:%d", bp->number, bp->file, bp->line);
    }
ok:
    if (!PyErr_Occurred())
        res = Py_NewRef(Py_None);
error:
    Py_XDECREF(a);
    Py_XDECREF(filename);
    Py_XDECREF(cond);
    Py_XDECREF(funcname);
    return res;
}

PyObject *
Cmd_do_break(PdbObject *self, PyObject *arg)
{
    return do_break_impl(self, arg, 0);
}

PyObject *
Cmd_do_tbreak(PdbObject *self, PyObject *arg)
{
    return do_break_impl(self, arg, 1);
}

/* bdb.get_bpbynumber: the breakpoint, or NULL with *err set to the message. */
static BreakpointObject *
get_bpbynumber(PyObject *arg, PyObject **err)
{
    ModState *st = Sleuth_state();
    *err = NULL;
    if (!arg || PyUnicode_GET_LENGTH(arg) == 0) {
        *err = PyUnicode_FromString("Breakpoint number expected");
        return NULL;
    }
    PyObject *v = PyLong_FromUnicodeObject(arg, 10);
    if (!v) {
        PyErr_Clear();
        *err = PyUnicode_FromFormat("Non-numeric breakpoint number %U", arg);
        return NULL;
    }
    int overflow;
    long number = PyLong_AsLongAndOverflow(v, &overflow);
    Py_ssize_t n = PyList_GET_SIZE(st->bpbynumber);
    Py_ssize_t idx = number < 0 ? n + number : number;
    if (overflow || idx < 0 || idx >= n) {
        *err = PyUnicode_FromFormat("Breakpoint number %S out of range", v);
        Py_DECREF(v);
        return NULL;
    }
    Py_DECREF(v);
    PyObject *bp = PyList_GET_ITEM(st->bpbynumber, idx);
    if (bp == Py_None) {
        *err = PyUnicode_FromFormat("Breakpoint %ld already deleted", number);
        return NULL;
    }
    return (BreakpointObject *)bp;
}

static PyObject *
enable_disable(PdbObject *self, PyObject *arg, int enable)
{
    PyObject *args = PyUnicode_Split(arg, NULL, -1);
    if (!args)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(args); i++) {
        PyObject *err;
        BreakpointObject *bp = get_bpbynumber(PyList_GET_ITEM(args, i), &err);
        if (!bp) {
            if (err) {
                Pdb_error_obj(self, err);
                Py_DECREF(err);
            }
            continue;
        }
        bp->enabled = enable;
        PyObject *s = Breakpoint_str(bp);
        if (s) {
            Pdb_messagef(self, "%s %U", enable ? "Enabled" : "Disabled", s);
            Py_DECREF(s);
        }
    }
    Py_DECREF(args);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

PyObject *
Cmd_do_enable(PdbObject *self, PyObject *arg)
{
    return enable_disable(self, arg, 1);
}

PyObject *
Cmd_do_disable(PdbObject *self, PyObject *arg)
{
    return enable_disable(self, arg, 0);
}

PyObject *
Cmd_do_condition(PdbObject *self, PyObject *arg)
{
    PyObject *sp = PyUnicode_FromString(" ");
    PyObject *args = sp ? PyUnicode_Split(arg, sp, 1) : NULL;
    Py_XDECREF(sp);
    if (!args)
        return NULL;
    PyObject *cond = NULL;
    if (PyList_GET_SIZE(args) > 1) {
        cond = PyList_GET_ITEM(args, 1);
#if !SLEUTH_PY311
        PyObject *err = Breakpoint_compile_error(cond);
        if (err) {
            Pdb_errorf(self, "Invalid condition %U: %U", cond, err);
            Py_DECREF(err);
            Py_DECREF(args);
            Py_RETURN_NONE;
        }
#endif
    }
    PyObject *num = PyObject_CallMethod(PyList_GET_ITEM(args, 0), "strip", NULL);
    PyObject *err = NULL;
    BreakpointObject *bp = num ? get_bpbynumber(num, &err) : NULL;
    Py_XDECREF(num);
    if (!bp) {
        if (err) {
            Pdb_error_obj(self, err);
            Py_DECREF(err);
        }
    } else {
        Breakpoint_set_cond(bp, cond ? cond : Py_None);
        if (!cond || PyUnicode_GET_LENGTH(cond) == 0)
            Pdb_messagef(self, "Breakpoint %ld is now unconditional.", bp->number);
        else
            Pdb_messagef(self, "New condition set for breakpoint %ld.", bp->number);
    }
    Py_DECREF(args);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

PyObject *
Cmd_do_ignore(PdbObject *self, PyObject *arg)
{
    PyObject *args = PyUnicode_Split(arg, NULL, -1);
    if (!args)
        return NULL;
    /* Owned: the count as pdb's int() reads it (any size) */
    PyObject *count = NULL;
    Py_ssize_t nargs = PyList_GET_SIZE(args);
#if SLEUTH_PY313
    if (nargs == 0) {
        Pdb_errorf(self, "Breakpoint number expected");
        goto done;
    }
    if (nargs > 2) {
        Cmd_invalid_arg(self, arg, "ignore");
        goto done;
    }
#endif
    if (nargs > 1) {
        count = PyLong_FromUnicodeObject(PyList_GET_ITEM(args, 1), 10);
        if (!count) {
            PyErr_Clear();
#if SLEUTH_PY313
            Cmd_invalid_arg(self, arg, "ignore");
            goto done;
#endif
        }
    }
    if (!count)
        count = PyLong_FromLong(0);
    if (!count)
        goto done;
    PyObject *err = NULL;
    BreakpointObject *bp = get_bpbynumber(nargs > 0 ? PyList_GET_ITEM(args, 0) : NULL, &err);
    if (!bp) {
        if (err) {
            Pdb_error_obj(self, err);
            Py_DECREF(err);
        }
        goto done;
    }
    /* A count beyond a C long is as good as forever. */
    int overflow;
    long c = PyLong_AsLongAndOverflow(count, &overflow);
    bp->ignore = overflow > 0 ? LONG_MAX : overflow < 0 ? LONG_MIN : c;
    if (overflow > 0 || c > 1)
        Pdb_messagef(self, "Will ignore next %S crossings of breakpoint %ld.", count, bp->number);
    else if (c == 1)
        Pdb_messagef(self, "Will ignore next 1 crossing of breakpoint %ld.", bp->number);
    else
        Pdb_messagef(self, "Will stop next time breakpoint %ld is reached.", bp->number);
done:
    Py_XDECREF(count);
    Py_DECREF(args);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

static int
delete_bp_msg(PdbObject *self, BreakpointObject *bp)
{
    Py_INCREF(bp);
    PyObject *s = Breakpoint_str(bp);
    int r = s ? Breakpoint_delete(Sleuth_state(), bp) : -1;
    if (r == 0)
        r = Pdb_messagef(self, "Deleted %U", s);
    Py_XDECREF(s);
    Py_DECREF(bp);
    Engine_breaks_changed();
    return r;
}

PyObject *
Cmd_do_clear(PdbObject *self, PyObject *arg)
{
    ModState *st = Sleuth_state();
    if (PyUnicode_GET_LENGTH(arg) == 0) {
        PyObject *input = PyDict_GetItemString(PyEval_GetBuiltins(), "input");
        PyObject *reply = input ? PyObject_CallFunction(input, "s", "Clear all breaks? ") : NULL;
        if (!reply) {
            if (!PyErr_ExceptionMatches(PyExc_EOFError))
                return NULL;
            PyErr_Clear();
            reply = PyUnicode_FromString("no");
        }
        PyObject *s = reply ? PyObject_CallMethod(reply, "strip", NULL) : NULL;
        PyObject *l = s ? PyObject_CallMethod(s, "lower", NULL) : NULL;
        Py_XDECREF(reply);
        Py_XDECREF(s);
        if (!l)
            return NULL;
        int yes = PyUnicode_CompareWithASCIIString(l, "y") == 0 ||
                  PyUnicode_CompareWithASCIIString(l, "yes") == 0;
        Py_DECREF(l);
        if (yes) {
            PyObject *all = PyList_GetSlice(st->bpbynumber, 0, PY_SSIZE_T_MAX);
            for (Py_ssize_t i = 0; all && i < PyList_GET_SIZE(all); i++) {
                PyObject *bp = PyList_GET_ITEM(all, i);
                if (bp != Py_None && delete_bp_msg(self, (BreakpointObject *)bp) < 0)
                    break;
            }
            Py_XDECREF(all);
            PyDict_Clear(st->breaks);
        }
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    Py_ssize_t colon = PyUnicode_FindChar(arg, ':', 0, PY_SSIZE_T_MAX, -1);
    if (colon >= 0) {
        PyObject *fname = PyUnicode_Substring(arg, 0, colon);
        PyObject *ln = PyUnicode_Substring(arg, colon + 1, PY_SSIZE_T_MAX);
        if (!fname || !ln) {
            Py_XDECREF(fname);
            Py_XDECREF(ln);
            return NULL;
        }
        PyObject *v = PyLong_FromUnicodeObject(ln, 10);
        if (!v) {
            PyErr_Clear();
            Pdb_errorf(self, "Invalid line number (%U)", ln);
        } else {
            long lineno = lineno_clamped(v);
            PyObject *canon = Pdb_canonic(self, fname);
            if (!canon) {
                Py_DECREF(v);
                Py_DECREF(fname);
                Py_DECREF(ln);
                return NULL;
            }
            int has_file = PyDict_Contains(st->breaks, canon);
            int has_line = has_file == 1 && lineno >= INT_MIN && lineno <= INT_MAX
                               ? Engine_line_has_break(st, canon, (int)lineno) : 0;
            if (has_file != 1) {
                Pdb_errorf(self, "There are no breakpoints in %U", canon);
            } else if (has_line != 1) {
                Pdb_errorf(self, "There is no breakpoint at %U:%S", canon, v);
            } else {
                PyObject *key = Py_BuildValue("(Ol)", canon, lineno);
                PyObject *lst = key ? PyDict_GetItemWithError(st->bplist, key) : NULL;
                PyObject *copy = lst ? PyList_GetSlice(lst, 0, PY_SSIZE_T_MAX) : NULL;
                Py_XDECREF(key);
                for (Py_ssize_t i = 0; copy && i < PyList_GET_SIZE(copy); i++)
                    if (delete_bp_msg(self, (BreakpointObject *)PyList_GET_ITEM(copy, i)) < 0)
                        break;
                Py_XDECREF(copy);
            }
            Py_DECREF(canon);
            Py_DECREF(v);
        }
        Py_DECREF(fname);
        Py_DECREF(ln);
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *nums = PyUnicode_Split(arg, NULL, -1);
    if (!nums)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(nums); i++) {
        PyObject *err;
        BreakpointObject *bp = get_bpbynumber(PyList_GET_ITEM(nums, i), &err);
        if (!bp) {
            if (err) {
                Pdb_error_obj(self, err);
                Py_DECREF(err);
            }
            continue;
        }
        if (delete_bp_msg(self, bp) < 0)
            break;
    }
    Py_DECREF(nums);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* --- commands ----------------------------------------------------------------- */

static int
is_resuming(PyObject *cmd)
{
    static const char *names[] = {"c", "cont", "continue", "s", "step", "n", "next", "r",
                                  "return", "q", "quit", "exit", "j", "jump", NULL};
    for (int i = 0; names[i]; i++)
        if (PyUnicode_CompareWithASCIIString(cmd, names[i]) == 0)
            return 1;
    return 0;
}

PyObject *
Pdb_handle_command_def(PdbObject *self, PyObject *line)
{
    PyObject *cmd, *arg, *s;
    if (Pdb_parseline(line, &cmd, &arg, &s) < 0)
        return NULL;
    Py_DECREF(s);
    if (!cmd)
        Py_RETURN_FALSE;
    PyObject *res = NULL;
    if (!cmd || !arg)
        goto done;
    PyObject *key = PyLong_FromLong(self->commands_bnum);
    if (!key)
        goto done;
    if (PyUnicode_GET_LENGTH(cmd) == 0) {
        res = Py_NewRef(Py_False);
    } else if (PyUnicode_CompareWithASCIIString(cmd, "silent") == 0) {
        PyDict_SetItem(self->commands_silent, key, Py_True);
        res = Py_NewRef(Py_False);
    } else if (PyUnicode_CompareWithASCIIString(cmd, "end") == 0) {
        res = Py_NewRef(Py_True);
    } else {
        PyObject *lst = PyDict_GetItem(self->commands, key);
        PyObject *entry = PyUnicode_GET_LENGTH(arg) ? PyUnicode_FromFormat("%U %U", cmd, arg) : Py_NewRef(cmd);
        if (lst && entry)
            PyList_Append(lst, entry);
        Py_XDECREF(entry);
        if (is_resuming(cmd)) {
            PyDict_SetItem(self->commands_doprompt, key, Py_False);
            res = Py_NewRef(Py_True);
        } else {
            res = Py_NewRef(Py_False);
        }
    }
    Py_DECREF(key);
    if (PyErr_Occurred())
        Py_CLEAR(res);
done:
    Py_XDECREF(cmd);
    Py_XDECREF(arg);
    return res;
}

PyObject *
Cmd_do_commands(PdbObject *self, PyObject *arg)
{
    ModState *st = Sleuth_state();
    long bnum;
    PyObject *numtxt;
    if (PyUnicode_GET_LENGTH(arg) == 0) {
        bnum = (long)PyList_GET_SIZE(st->bpbynumber) - 1;
        numtxt = PyUnicode_FromFormat("%ld", bnum);
    } else {
        PyObject *v = PyLong_FromUnicodeObject(arg, 10);
        if (!v) {
            PyErr_Clear();
#if SLEUTH_PY313
            if (Cmd_invalid_arg(self, arg, "commands") < 0)
                return NULL;
#else
            Pdb_errorf(self, "Usage: commands [bnum]\n        ...\n        end");
#endif
            Py_RETURN_NONE;
        }
        /* get_bpbynumber reads the number again, at any size; one it
         * accepts fits a C long (pdb keeps -1 as -1, as here). */
        numtxt = PyObject_Str(v);
        bnum = PyLong_AsLong(v);
        Py_DECREF(v);
        PyErr_Clear();
    }
    PyObject *err = NULL;
    BreakpointObject *bp = numtxt ? get_bpbynumber(numtxt, &err) : NULL;
    Py_XDECREF(numtxt);
    if (!bp) {
        if (err) {
            Pdb_errorf(self, "cannot set commands: %U", err);
            Py_DECREF(err);
        }
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_NONE;
    }
    self->commands_bnum = bnum;
    PyObject *key = PyLong_FromLong(bnum);
    PyObject *old_cmds = key ? PyDict_GetItem(self->commands, key) : NULL;
    PyObject *old_prompt_flag = old_cmds ? PyDict_GetItem(self->commands_doprompt, key) : NULL;
    PyObject *old_silent = old_cmds ? PyDict_GetItem(self->commands_silent, key) : NULL;
    Py_XINCREF(old_cmds);
    Py_XINCREF(old_prompt_flag);
    Py_XINCREF(old_silent);
    PyObject *lst = PyList_New(0);
    if (!key || !lst || PyDict_SetItem(self->commands, key, lst) < 0 ||
        PyDict_SetItem(self->commands_doprompt, key, Py_True) < 0 ||
        PyDict_SetItem(self->commands_silent, key, Py_False) < 0) {
        Py_XDECREF(lst);
        Py_XDECREF(key);
        Py_XDECREF(old_cmds);
        Py_XDECREF(old_prompt_flag);
        Py_XDECREF(old_silent);
        return NULL;
    }
    Py_DECREF(lst);
    PyObject *prompt_back = Py_NewRef(self->prompt);
    Py_XSETREF(self->prompt, PyUnicode_FromString("(com) "));
    self->commands_defining = 1;
    /* the nested loop reads lines until `end` or a resuming command */
    PyObject *r = NULL;
    for (;;) {
        PyObject *line;
        if (PyList_GET_SIZE(self->cmdqueue) > 0) {
            line = Py_NewRef(PyList_GET_ITEM(self->cmdqueue, 0));
            if (PySequence_DelItem(self->cmdqueue, 0) < 0)
                Py_CLEAR(line);
        } else {
            line = Pdb_read_line(self, self->prompt);
        }
        if (!line)
            break;
        PyObject *stop;
        if (PyUnicode_CompareWithASCIIString(line, "EOF") == 0) {
            /* pdb would run do_EOF here; ending the definition is kinder
             * and leaves the session usable. */
            stop = Py_NewRef(Py_True);
        } else {
            /* As in pdb's cmdloop: precmd first, so aliases, ';;' and $names
             * are expanded when the list is defined, not when it runs. */
            PyObject *pre = PyObject_CallMethod((PyObject *)self, "precmd", "O", line);
            stop = pre ? Pdb_handle_command_def(self, pre) : NULL;
            Py_XDECREF(pre);
        }
        Py_DECREF(line);
        if (!stop)
            break;
        int t = PyObject_IsTrue(stop);
        Py_DECREF(stop);
        if (t) {
            r = Py_NewRef(Py_None);
            break;
        }
    }
    if (!r && PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        PyErr_Clear();
        if (old_cmds) {
            PyDict_SetItem(self->commands, key, old_cmds);
            PyDict_SetItem(self->commands_doprompt, key, old_prompt_flag);
            PyDict_SetItem(self->commands_silent, key, old_silent);
        } else {
            PyDict_DelItem(self->commands, key);
            PyDict_DelItem(self->commands_doprompt, key);
            PyDict_DelItem(self->commands_silent, key);
        }
        Pdb_errorf(self, "command definition aborted, old commands restored");
        r = PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    self->commands_defining = 0;
    Py_XSETREF(self->prompt, prompt_back);
    Py_XDECREF(key);
    Py_XDECREF(old_cmds);
    Py_XDECREF(old_prompt_flag);
    Py_XDECREF(old_silent);
    return r;
}
