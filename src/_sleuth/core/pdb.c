/* pdb.c — the debugger object: lifecycle, output, the stack of a stop, the
 * command loop, and the engine's user_* hooks.
 *
 * The command handlers (do_*) live in cmd_*.c; this file only dispatches to
 * them through getattr(self, "do_" + name) so that a Python subclass (pytest
 * wraps the class given to --pdbcls) can override or add commands.
 */
#include "pdb.h"
#include "engine.h"
#include "breakpoints.h"
#include "commands.h"
#include "completion.h"
#include "hooks.h"
#include "render.h"
#include "termsafe.h"
#include "session.h"
#include "pythread.h"
#include <structmember.h>
#include <unistd.h>
#include <sys/stat.h>
#include "termsafe.h"

/* --- output ------------------------------------------------------------- */

static int
write_text(PdbObject *self, PyObject *text)
{
    PyObject *out = self->stdout_obj;
    /* A read-only session shows an evidence file, somebody else's data: all
     * it prints (sources, names, reprs, messages) goes through here, and
     * nothing from the file reaches the terminal raw. */
    PyObject *safe = self->readonly && PyUnicode_Check(text) ? TermSafe_escape(text)
                                                             : Py_NewRef(text);
    PyObject *r = safe ? PyObject_CallMethod(out, "write", "O", safe) : NULL;
    Py_XDECREF(safe);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* print(prefix + str(text), file=self.stdout) */
static int
write_line(PdbObject *self, const char *prefix, PyObject *text)
{
    PyObject *s = PyObject_Str(text);
    if (!s)
        return -1;
    PyObject *line = PyUnicode_FromFormat("%s%U\n", prefix, s);
    Py_DECREF(s);
    if (!line)
        return -1;
    int r = write_text(self, line);
    Py_DECREF(line);
    return r;
}

/* self.message(text) / self.error(text) of a subclass that overrides them. */
static int
call_output_hook(PdbObject *self, const char *name, PyObject *text)
{
    PyObject *r = PyObject_CallMethod((PyObject *)self, name, "O", text);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

static int
write_linev(PdbObject *self, int is_error, const char *fmt, va_list va)
{
    PyObject *s = PyUnicode_FromFormatV(fmt, va);
    if (!s)
        return -1;
    int r = is_error ? Pdb_error_obj(self, s) : Pdb_message(self, s);
    Py_DECREF(s);
    return r;
}

/* print(str(text), end='', file=self.stdout) */
int
Pdb_write(PdbObject *self, PyObject *text)
{
    PyObject *s = PyObject_Str(text);
    if (!s)
        return -1;
    int r = write_text(self, s);
    Py_DECREF(s);
    return r;
}

/* pdb sends all its output through self.message() and self.error(). */
int
Pdb_message(PdbObject *self, PyObject *text)
{
    if (self->hooks & HOOK_MESSAGE)
        return call_output_hook(self, "message", text);
    return write_line(self, "", text);
}

int
Pdb_error_obj(PdbObject *self, PyObject *text)
{
    if (self->hooks & HOOK_ERROR)
        return call_output_hook(self, "error", text);
    return write_line(self, "*** ", text);
}

int
Pdb_messagef(PdbObject *self, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    int r = write_linev(self, 0, fmt, va);
    va_end(va);
    return r;
}

int
Pdb_errorf(PdbObject *self, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    int r = write_linev(self, 1, fmt, va);
    va_end(va);
    return r;
}

PyObject *
Pdb_format_exc(PyObject *exc)
{
    /* traceback.format_exception_only(exc)[-1].strip() */
    PyObject *res = NULL;
    PyObject *tbmod = PyImport_ImportModule("traceback");
    if (!tbmod)
        return NULL;
    PyObject *lines = PyObject_CallMethod(tbmod, "format_exception_only", "OO",
                                          (PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(tbmod);
    if (!lines)
        return NULL;
    if (PyList_Check(lines) && PyList_GET_SIZE(lines) > 0)
        res = PyObject_CallMethod(PyList_GET_ITEM(lines, PyList_GET_SIZE(lines) - 1), "strip", NULL);
    else
        res = PyUnicode_FromString("");
    Py_DECREF(lines);
    return res;
}

int
Pdb_error_current_exc(PdbObject *self)
{
    PyObject *exc = PyErr_GetRaisedException();
    if (!exc)
        return 0;
    PyObject *text = Pdb_format_exc(exc);
    if (!text) {
        /* Formatting itself failed: still one line, never a traceback. */
        PyErr_Clear();
        text = PyUnicode_FromFormat("%s", Py_TYPE(exc)->tp_name);
    }
    Py_DECREF(exc);
    if (!text)
        return -1;
    int r = Pdb_error_obj(self, text);
    Py_DECREF(text);
    return r;
}

/* --- lifecycle ------------------------------------------------------------ */

static int
read_rc(PdbObject *self, PyObject *path)
{
    PyObject *io = PyImport_ImportModule("io");
    if (!io)
        return -1;
    PyObject *f = PyObject_CallMethod(io, "open", "Os", path, "r");
    Py_DECREF(io);
    if (!f) {
        if (PyErr_ExceptionMatches(PyExc_OSError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    PyObject *lines = PyObject_CallMethod(f, "readlines", NULL);
    PyObject *r = PyObject_CallMethod(f, "close", NULL);
    Py_XDECREF(r);
    Py_DECREF(f);
    if (!lines) {
        PyErr_Clear();
        return 0;
    }
    PyObject *ext = PyObject_CallMethod(self->rcLines, "extend", "O", lines);
    Py_DECREF(lines);
    if (!ext)
        return -1;
    Py_DECREF(ext);
    return 0;
}

static int
Pdb_tp_init(PdbObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"completekey", "stdin", "stdout", "skip", "nosigint", "readrc", NULL};
    PyObject *completekey = NULL, *in = Py_None, *out = Py_None, *skip = Py_None;
    int nosigint = 0, readrc = 1;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOOOpp:Pdb", kwlist, &completekey, &in, &out,
                                     &skip, &nosigint, &readrc))
        return -1;
    if (PySys_Audit("pdb.Pdb", NULL) < 0)
        return -1;
    if (Sleuth_load_bdbquit() < 0)    /* what `quit` raises, from now on */
        return -1;
    Py_XSETREF(self->completekey, completekey ? Py_NewRef(completekey) : PyUnicode_FromString("tab"));
    if (in == Py_None)
        in = PySys_GetObject("stdin");
    if (out == Py_None) {
        self->use_rawinput = 1;
        out = PySys_GetObject("stdout");
    } else {
        self->use_rawinput = 0;
    }
    if (!in || !out) {
        PyErr_SetString(PyExc_RuntimeError, "sleuth: sys.stdin/sys.stdout are not set");
        return -1;
    }
    Py_XSETREF(self->stdin_obj, Py_NewRef(in));
    Py_XSETREF(self->stdout_obj, Py_NewRef(out));
    if (skip != Py_None) {
        Py_XSETREF(self->skip, PySet_New(skip));
        if (!self->skip)
            return -1;
    } else {
        Py_XSETREF(self->skip, NULL);
    }
    self->nosigint = nosigint;
    Py_XSETREF(self->prompt, PyUnicode_FromString("(Pdb) "));
    Py_XSETREF(self->lastcmd, PyUnicode_FromString(""));
    Py_XSETREF(self->cmdqueue, PyList_New(0));
    Py_XSETREF(self->aliases, PyDict_New());
    Py_XSETREF(self->displaying, PyDict_New());
    Py_XSETREF(self->mainpyfile, PyUnicode_FromString(""));
    Py_XSETREF(self->tb_lineno, PyDict_New());
    Py_XSETREF(self->rcLines, PyList_New(0));
    Py_XSETREF(self->commands, PyDict_New());
    Py_XSETREF(self->commands_doprompt, PyDict_New());
    Py_XSETREF(self->commands_silent, PyDict_New());
    Py_XSETREF(self->stack, PyList_New(0));
    Py_XSETREF(self->chained_exceptions, PyTuple_New(0));
    Py_XSETREF(self->lineno, Py_NewRef(Py_None));
    if (!self->prompt || !self->lastcmd || !self->cmdqueue || !self->aliases ||
        !self->displaying || !self->mainpyfile || !self->tb_lineno || !self->rcLines ||
        !self->commands || !self->commands_doprompt || !self->commands_silent || !self->stack ||
        !self->chained_exceptions)
        return -1;
    self->stoplineno = 0;
    self->list_count_default = 11;
    if (readrc) {
        PyObject *osp = PyImport_ImportModule("os.path");
        if (!osp)
            return -1;
        PyObject *home = PyObject_CallMethod(osp, "expanduser", "s", "~/.pdbrc");
        Py_DECREF(osp);
        if (!home)
            return -1;
        int r = read_rc(self, home);
        Py_DECREF(home);
        if (r < 0)
            return -1;
        PyObject *local = PyUnicode_FromString(".pdbrc");
        if (!local)
            return -1;
        r = read_rc(self, local);
        Py_DECREF(local);
        if (r < 0)
            return -1;
    }
    /* pdb: remove some common file name delimiters from readline's set. */
    Completion_set_delims();
    return Hooks_refresh(self);
}

static int
Pdb_tp_traverse(PdbObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->dict);
    Py_VISIT(self->stdin_obj);
    Py_VISIT(self->stdout_obj);
    Py_VISIT(self->completekey);
    Py_VISIT(self->prompt);
    Py_VISIT(self->lastcmd);
    Py_VISIT(self->cmdqueue);
    Py_VISIT(self->skip);
    Py_VISIT(self->botframe);
    Py_VISIT(self->stopframe);
    Py_VISIT(self->returnframe);
    Py_VISIT(self->frame_returning);
    Py_VISIT(self->untraced);
    Py_VISIT(self->stack);
    Py_VISIT(self->curframe);
    Py_VISIT(self->curframe_locals);
    Py_VISIT(self->tb_lineno);
    Py_VISIT(self->displaying);
    Py_VISIT(self->aliases);
    Py_VISIT(self->rcLines);
    Py_VISIT(self->commands);
    Py_VISIT(self->commands_doprompt);
    Py_VISIT(self->commands_silent);
    Py_VISIT(self->mainpyfile);
    Py_VISIT(self->chained_exceptions);
    Py_VISIT(self->lineno);
    Py_VISIT(self->snapshot_env);
    return 0;
}

static int
Pdb_tp_clear(PdbObject *self)
{
    Py_CLEAR(self->dict);
    Py_CLEAR(self->stdin_obj);
    Py_CLEAR(self->stdout_obj);
    Py_CLEAR(self->completekey);
    Py_CLEAR(self->prompt);
    Py_CLEAR(self->lastcmd);
    Py_CLEAR(self->cmdqueue);
    Py_CLEAR(self->skip);
    Py_CLEAR(self->botframe);
    Py_CLEAR(self->stopframe);
    Py_CLEAR(self->returnframe);
    Py_CLEAR(self->frame_returning);
    Py_CLEAR(self->untraced);
    Py_CLEAR(self->stack);
    Py_CLEAR(self->curframe);
    Py_CLEAR(self->curframe_locals);
    Py_CLEAR(self->tb_lineno);
    Py_CLEAR(self->displaying);
    Py_CLEAR(self->aliases);
    Py_CLEAR(self->rcLines);
    Py_CLEAR(self->commands);
    Py_CLEAR(self->commands_doprompt);
    Py_CLEAR(self->commands_silent);
    Py_CLEAR(self->mainpyfile);
    Py_CLEAR(self->chained_exceptions);
    Py_CLEAR(self->lineno);
    Py_CLEAR(self->snapshot_env);
    return 0;
}

static void
Pdb_tp_dealloc(PdbObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist)
        PyObject_ClearWeakRefs((PyObject *)self);
    Pdb_tp_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* --- the stack of a stop -------------------------------------------------- */

PyObject *
Pdb_canonic(PdbObject *self, PyObject *filename)
{
    SLEUTH_UNUSED(self);
    if (!PyUnicode_Check(filename)) {
        PyErr_SetString(PyExc_TypeError, "filename must be str");
        return NULL;
    }
    return Engine_canonic(Sleuth_state(), filename);
}

/* bdb.get_stack(f, t) -> (stack, index): the session layer builds it. */
static PyObject *
Pdb_get_stack_impl(PdbObject *self, PyObject *f, PyObject *t)
{
    Py_ssize_t i = 0;
    PyObject *stack = Session_build_stack(self->botframe, f, t, &i);
    if (!stack)
        return NULL;
    return Py_BuildValue("(Nn)", stack, i);
}

static PyObject *
Pdb_get_stack(PdbObject *self, PyObject *args)
{
    PyObject *f, *t;
    if (!PyArg_ParseTuple(args, "OO:get_stack", &f, &t))
        return NULL;
    return Pdb_get_stack_impl(self, f, t);
}

int
Pdb_set_convenience(PdbObject *self, PyObject *frame, const char *name, PyObject *value)
{
#if SLEUTH_PY311
    /* 3.11's pdb has no convenience variables; sleuth offers them anyway. */
#endif
    SLEUTH_UNUSED(self);
    PyObject *globals = PyObject_GetAttrString(frame, "f_globals");
    if (!globals)
        return -1;
    int rc = -1;
    if (!PyDict_Check(globals)) {
        rc = 0;
        goto done;
    }
    PyObject *vars = PyDict_GetItemString(globals, "__pdb_convenience_variables");
    if (!vars) {
        vars = PyDict_New();
        if (!vars || PyDict_SetItemString(globals, "__pdb_convenience_variables", vars) < 0) {
            Py_XDECREF(vars);
            goto done;
        }
        Py_DECREF(vars);
    }
    rc = PyDict_SetItemString(vars, name, value);
done:
    Py_DECREF(globals);
    return rc;
}

static PyObject *
Pdb_forget(PdbObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    Py_XSETREF(self->lineno, Py_NewRef(Py_None));
    Py_XSETREF(self->stack, PyList_New(0));
    self->curindex = 0;
    if (self->curframe && self->curframe != Py_None) {
        PyObject *g = PyObject_GetAttrString(self->curframe, "f_globals");
        if (g && PyDict_Check(g)) {
            if (PyDict_DelItemString(g, "__pdb_convenience_variables") < 0)
                PyErr_Clear();
        }
        Py_XDECREF(g);
        PyErr_Clear();
    }
    Py_CLEAR(self->curframe);
    Py_CLEAR(self->curframe_locals);
    if (self->tb_lineno)
        PyDict_Clear(self->tb_lineno);
    if (!self->stack)
        return NULL;
    Py_RETURN_NONE;
}

/* Point the session at stack[index]. */
int
Pdb_select_frame(PdbObject *self, Py_ssize_t index)
{
    PyObject *entry = PyList_GET_ITEM(self->stack, index);
    self->curindex = index;
    Py_XSETREF(self->curframe, Py_NewRef(PyTuple_GET_ITEM(entry, 0)));
    /* Cache f_locals: on 3.11/3.12 each access re-syncs the dict from the
     * fast locals, which would lose assignments made at the prompt. */
    Py_XSETREF(self->curframe_locals, PyObject_GetAttrString(self->curframe, "f_locals"));
    if (!self->curframe_locals)
        return -1;
    Py_XSETREF(self->lineno, Py_NewRef(Py_None));
    return 0;
}

int Pdb_exec_rc_lines(PdbObject *self);

static PyObject *
Pdb_setup(PdbObject *self, PyObject *args)
{
    PyObject *f, *tb;
    if (!PyArg_ParseTuple(args, "OO:setup", &f, &tb))
        return NULL;
    PyObject *r = Pdb_forget(self, NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    PyObject *si = PyObject_CallMethod((PyObject *)self, "get_stack", "OO", f, tb);
    if (!si)
        return NULL;
    if (!PyTuple_Check(si) || PyTuple_GET_SIZE(si) != 2 || !PyList_Check(PyTuple_GET_ITEM(si, 0))) {
        Py_DECREF(si);
        PyErr_SetString(PyExc_TypeError, "get_stack() must return (list, int)");
        return NULL;
    }
    Py_XSETREF(self->stack, Py_NewRef(PyTuple_GET_ITEM(si, 0)));
    Py_ssize_t idx = PyLong_AsSsize_t(PyTuple_GET_ITEM(si, 1));
    Py_DECREF(si);
    if (idx == -1 && PyErr_Occurred())
        return NULL;
    /* Post-mortem: remember the traceback's line numbers (finally blocks can
     * move a frame's current line). */
    PyObject *t = Py_NewRef(tb);
    while (t != Py_None) {
        PyObject *tf = PyObject_GetAttrString(t, "tb_frame");
        PyObject *tl = tf ? PyObject_GetAttrString(t, "tb_lineno") : NULL;
        int ok = tl && PyDict_SetItem(self->tb_lineno, tf, tl) == 0;
        Py_XDECREF(tf);
        Py_XDECREF(tl);
        PyObject *next = ok ? PyObject_GetAttrString(t, "tb_next") : NULL;
        Py_DECREF(t);
        if (!next)
            return NULL;
        t = next;
    }
    Py_DECREF(t);
    if (PyList_GET_SIZE(self->stack) == 0) {
        PyErr_SetString(PyExc_ValueError, "sleuth: nothing to debug (empty stack)");
        return NULL;
    }
    if (idx < 0 || idx >= PyList_GET_SIZE(self->stack))
        idx = PyList_GET_SIZE(self->stack) - 1;
    if (Pdb_select_frame(self, idx) < 0)
        return NULL;
    if (Pdb_set_convenience(self, self->curframe, "_frame", self->curframe) < 0)
        PyErr_Clear();
    if (PyTuple_GET_SIZE(self->chained_exceptions) > 0) {
        PyObject *exc = PyTuple_GET_ITEM(self->chained_exceptions, self->chained_exception_index);
        if (Pdb_set_convenience(self, self->curframe, "_exception", exc) < 0)
            PyErr_Clear();
    }
    int r2 = Pdb_exec_rc_lines(self);
    if (r2 < 0)
        return NULL;
    return PyBool_FromLong(r2);
}

/* --- command loop ----------------------------------------------------------- */

/* cmd.Cmd.identchars: what a command name is made of. 3.13's pdb adds
 * operators and brackets, so that `c["a"]`, `j=1` or `n(1)` read as one
 * unknown word (an expression) instead of a command and its argument. */
static int
is_identchar(Py_UCS4 c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
        return 1;
#if SLEUTH_PY313
    return c < 128 && c && strchr("=.[](),\"'+-*/%@&|<>~^", (int)c) != NULL;
#else
    return 0;
#endif
}

#if SLEUTH_PY312
/* $name -> __pdb_convenience_variables["name"], everywhere in the line. */
static PyObject *
replace_convenience(PyObject *line)
{
    PyObject *re = PyImport_ImportModule("re");
    if (!re)
        return NULL;
    PyObject *res = PyObject_CallMethod(re, "sub", "ssO", "\\$([a-zA-Z_][a-zA-Z0-9_]*)",
                                        "__pdb_convenience_variables[\"\\1\"]", line);
    Py_DECREF(re);
    return res;
}
#elif SLEUTH_PY313
/* 3.13: $name -> __pdb_convenience_variables["name"] where the tokenizer
 * sees a '$' operator right before a name, so text inside string literals
 * stays as typed. A line the tokenizer cannot read is left alone. */
static PyObject *
replace_convenience(PyObject *line)
{
    /* Owned */
    PyObject *tokenize = NULL, *io = NULL, *sio = NULL, *gen = NULL, *it = NULL, *tok = NULL;
    PyObject *spans = NULL, *dollar_end = NULL, *res = NULL;
    long op_type, name_type;

    if (PyUnicode_FindChar(line, '$', 0, PY_SSIZE_T_MAX, 1) < 0)
        return Py_NewRef(line);
    tokenize = PyImport_ImportModule("tokenize");
    io = tokenize ? PyImport_ImportModule("io") : NULL;
    if (!io)
        goto done;
    {
        PyObject *o = PyObject_GetAttrString(tokenize, "OP");
        PyObject *n = o ? PyObject_GetAttrString(tokenize, "NAME") : NULL;
        op_type = o ? PyLong_AsLong(o) : -1;
        name_type = n ? PyLong_AsLong(n) : -1;
        Py_XDECREF(o);
        Py_XDECREF(n);
        if (PyErr_Occurred())
            goto done;
    }
    sio = PyObject_CallMethod(io, "StringIO", "O", line);
    PyObject *readline = sio ? PyObject_GetAttrString(sio, "readline") : NULL;
    gen = readline ? PyObject_CallMethod(tokenize, "generate_tokens", "O", readline) : NULL;
    Py_XDECREF(readline);
    it = gen ? PyObject_GetIter(gen) : NULL;
    spans = it ? PyList_New(0) : NULL;
    if (!spans)
        goto done;
    Py_ssize_t dollar_start = -1;
    while ((tok = PyIter_Next(it))) {
        PyObject *type = PySequence_GetItem(tok, 0);
        PyObject *string = type ? PySequence_GetItem(tok, 1) : NULL;
        PyObject *start = string ? PySequence_GetItem(tok, 2) : NULL;
        PyObject *end = start ? PySequence_GetItem(tok, 3) : NULL;
        int ok = end != NULL;
        long t = ok ? PyLong_AsLong(type) : -1;
        if (ok && t == op_type && PyUnicode_Check(string) &&
            PyUnicode_CompareWithASCIIString(string, "$") == 0) {
            PyObject *col = PySequence_GetItem(start, 1);
            dollar_start = col ? PyLong_AsSsize_t(col) : -1;
            Py_XDECREF(col);
            Py_XSETREF(dollar_end, Py_NewRef(end));
        } else if (ok && t == name_type && dollar_end) {
            int same = PyObject_RichCompareBool(start, dollar_end, Py_EQ);
            if (same > 0) {
                PyObject *col = PySequence_GetItem(end, 1);
                PyObject *span = col ? Py_BuildValue("(nOO)", dollar_start, col, string) : NULL;
                ok = span && PyList_Append(spans, span) == 0;
                Py_XDECREF(span);
                Py_XDECREF(col);
            } else if (same < 0) {
                ok = 0;
            }
        }
        Py_XDECREF(type);
        Py_XDECREF(string);
        Py_XDECREF(start);
        Py_XDECREF(end);
        Py_CLEAR(tok);
        if (!ok || PyErr_Occurred())
            break;
    }
    if (PyErr_Occurred()) {
        /* tokenize.TokenError and its kin: pdb keeps the line as it is */
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            goto done;
        PyErr_Clear();
        res = Py_NewRef(line);
        goto done;
    }
    /* Rebuild the line around the replaced spans. */
    res = PyUnicode_FromString("");
    Py_ssize_t last = 0;
    for (Py_ssize_t i = 0; res && i < PyList_GET_SIZE(spans); i++) {
        PyObject *span = PyList_GET_ITEM(spans, i);
        Py_ssize_t a = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
        Py_ssize_t b = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
        PyObject *before = PyUnicode_Substring(line, last, a);
        PyObject *piece = before ? PyUnicode_FromFormat("%U__pdb_convenience_variables[\"%U\"]", before,
                                                        PyTuple_GET_ITEM(span, 2)) : NULL;
        Py_XDECREF(before);
        PyObject *joined = piece ? PyUnicode_Concat(res, piece) : NULL;
        Py_XDECREF(piece);
        Py_SETREF(res, joined);
        last = b;
    }
    if (res) {
        PyObject *tail = PyUnicode_Substring(line, last, PY_SSIZE_T_MAX);
        PyObject *joined = tail ? PyUnicode_Concat(res, tail) : NULL;
        Py_XDECREF(tail);
        Py_SETREF(res, joined);
    }
done:
    Py_XDECREF(tokenize);
    Py_XDECREF(io);
    Py_XDECREF(sio);
    Py_XDECREF(gen);
    Py_XDECREF(it);
    Py_XDECREF(spans);
    Py_XDECREF(dollar_end);
    return res;
}
#endif

/* pdb.precmd: alias expansion, ';;' splitting, $convenience variables. */
static PyObject *
Pdb_precmd_impl(PdbObject *self, PyObject *line)
{
    /* Owned */
    PyObject *args = NULL;
    PyObject *cur = Py_NewRef(line);
    int guard = 0;

    PyObject *stripped = PyObject_CallMethod(cur, "strip", NULL);
    if (!stripped)
        goto error;
    int empty = PyUnicode_GET_LENGTH(stripped) == 0;
    Py_DECREF(stripped);
    if (empty)
        return cur;
    args = PyUnicode_Split(cur, NULL, -1);
    if (!args)
        goto error;
    while (PyList_GET_SIZE(args) > 0 && guard++ < 100) {
        PyObject *alias = PyDict_GetItemWithError(self->aliases, PyList_GET_ITEM(args, 0));
        if (!alias) {
            if (PyErr_Occurred())
                goto error;
            break;
        }
        PyObject *nl = Py_NewRef(alias);
#if SLEUTH_PY313
        /* %1..%9 must each have an argument, and without %* every
         * argument must have its %N. */
        PyObject *pct_star = PyUnicode_FromString("%*");
        int has_star = pct_star ? PyUnicode_Contains(nl, pct_star) : -1;
        Py_XDECREF(pct_star);
        if (has_star < 0) {
            Py_DECREF(nl);
            goto error;
        }
        for (Py_ssize_t idx = 1; idx < 10; idx++) {
            PyObject *p = PyUnicode_FromFormat("%%%zd", idx);
            int has = p ? PyUnicode_Contains(nl, p) : -1;
            const char *problem = NULL;
            if (has > 0 && idx >= PyList_GET_SIZE(args))
                problem = "Not enough arguments for alias '%U'";
            else if (has == 0 && !has_star && idx < PyList_GET_SIZE(args))
                problem = "Too many arguments for alias '%U'";
            if (has > 0 && !problem)
                Py_SETREF(nl, PyUnicode_Replace(nl, p, PyList_GET_ITEM(args, idx), -1));
            Py_XDECREF(p);
            if (problem) {
                /* pdb's no-op line: "!" runs an empty statement */
                Py_DECREF(nl);
                if (Pdb_errorf(self, problem, PyList_GET_ITEM(args, 0)) < 0)
                    goto error;
                Py_DECREF(args);
                Py_DECREF(cur);
                return PyUnicode_FromString("!");
            }
            if (has < 0 || !nl) {
                Py_XDECREF(nl);
                goto error;
            }
            if (has == 0 && !has_star)
                break;
        }
#else
        /* %1, %2... each replaced by its argument, in order. */
        for (Py_ssize_t idx = 1; idx < PyList_GET_SIZE(args); idx++) {
            PyObject *p = PyUnicode_FromFormat("%%%zd", idx);
            if (!p) {
                Py_DECREF(nl);
                goto error;
            }
            Py_SETREF(nl, PyUnicode_Replace(nl, p, PyList_GET_ITEM(args, idx), -1));
            Py_DECREF(p);
            if (!nl)
                goto error;
        }
#endif
        /* %* : all the arguments */
        PyObject *rest = PyList_GetSlice(args, 1, PY_SSIZE_T_MAX);
        PyObject *sp = PyUnicode_FromString(" ");
        PyObject *joined = (rest && sp) ? PyUnicode_Join(sp, rest) : NULL;
        PyObject *star = PyUnicode_FromString("%*");
        PyObject *rep = joined && star ? PyUnicode_Replace(nl, star, joined, -1) : NULL;
        Py_XDECREF(rest);
        Py_XDECREF(sp);
        Py_XDECREF(joined);
        Py_XDECREF(star);
        Py_DECREF(nl);
        if (!rep)
            goto error;
        Py_SETREF(cur, rep);
        Py_SETREF(args, PyUnicode_Split(cur, NULL, -1));
        if (!args)
            goto error;
        /* An alias whose expansion starts with its own name stops here. */
        if (PyList_GET_SIZE(args) > 0 && PyDict_Contains(self->aliases, PyList_GET_ITEM(args, 0)) == 1) {
            PyObject *again = PyDict_GetItem(self->aliases, PyList_GET_ITEM(args, 0));
            if (again == alias)
                break;
        }
    }
    if (PyList_GET_SIZE(args) > 0 &&
        PyUnicode_CompareWithASCIIString(PyList_GET_ITEM(args, 0), "alias") != 0) {
        PyObject *sep = PyUnicode_FromString(";;");
        if (!sep)
            goto error;
        Py_ssize_t marker = PyUnicode_Find(cur, sep, 0, PY_SSIZE_T_MAX, 1);
        Py_DECREF(sep);
        if (marker == -2)
            goto error;
        if (marker >= 0) {
            PyObject *next = PyUnicode_Substring(cur, marker + 2, PY_SSIZE_T_MAX);
            PyObject *nexts = next ? PyObject_CallMethod(next, "lstrip", NULL) : NULL;
            Py_XDECREF(next);
            if (!nexts)
                goto error;
#if SLEUTH_PY313
            int r = PyList_Insert(self->cmdqueue, 0, nexts);
#else
            int r = PyList_Append(self->cmdqueue, nexts);
#endif
            Py_DECREF(nexts);
            if (r < 0)
                goto error;
            PyObject *head = PyUnicode_Substring(cur, 0, marker);
            PyObject *heads = head ? PyObject_CallMethod(head, "rstrip", NULL) : NULL;
            Py_XDECREF(head);
            if (!heads)
                goto error;
            Py_SETREF(cur, heads);
        }
    }
#if !SLEUTH_PY311
    {
        PyObject *res = replace_convenience(cur);
        if (!res)
            goto error;
        Py_SETREF(cur, res);
    }
#endif
    Py_DECREF(args);
    return cur;
error:
    Py_XDECREF(args);
    Py_XDECREF(cur);
    return NULL;
}

static PyObject *
Pdb_precmd(PdbObject *self, PyObject *line)
{
    if (!PyUnicode_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "precmd() expects a str");
        return NULL;
    }
    return Pdb_precmd_impl(self, line);
}

/* cmd.Cmd.parseline -> (cmd, arg, line) with cmd NULL for "no command". */
int
Pdb_parseline(PyObject *line_in, PyObject **cmd, PyObject **arg, PyObject **line_out)
{
    *cmd = *arg = NULL;
    PyObject *line = PyObject_CallMethod(line_in, "strip", NULL);
    if (!line)
        return -1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(line);
    if (n == 0) {
        *line_out = line;
        return 0;
    }
    Py_UCS4 c0 = PyUnicode_READ_CHAR(line, 0);
    if (c0 == '?' || c0 == '!') {
        /* '?' is help; '!' has no do_shell in pdb, so it goes to default(). */
        if (c0 == '!') {
            *line_out = line;
            return 0;
        }
        PyObject *rest = PyUnicode_Substring(line, 1, n);
        PyObject *nl = rest ? PyUnicode_FromFormat("help %U", rest) : NULL;
        Py_XDECREF(rest);
        Py_DECREF(line);
        if (!nl)
            return -1;
        line = nl;
        n = PyUnicode_GET_LENGTH(line);
    }
    Py_ssize_t i = 0;
    while (i < n && is_identchar(PyUnicode_READ_CHAR(line, i)))
        i++;
    *cmd = PyUnicode_Substring(line, 0, i);
    PyObject *a = PyUnicode_Substring(line, i, n);
    *arg = a ? PyObject_CallMethod(a, "strip", NULL) : NULL;
    Py_XDECREF(a);
    *line_out = line;
    if (!*cmd || !*arg) {
        Py_CLEAR(*cmd);
        Py_CLEAR(*arg);
        Py_CLEAR(*line_out);
        return -1;
    }
    return 0;
}

PyObject *Pdb_default(PdbObject *self, PyObject *line);

/* Is `func` one of this object's own C methods (not a Python override)? */
static inline int
is_own_c_method(PdbObject *self, PyObject *func)
{
    return PyCFunction_Check(func) && PyCFunction_GET_SELF(func) == (PyObject *)self;
}

/* self.<name>(arg); *ours says whether sleuth's own C code ran. */
static PyObject *
call_hook1(PdbObject *self, const char *name, PyObject *arg, int *ours)
{
    PyObject *func = PyObject_GetAttrString((PyObject *)self, name);
    if (!func)
        return NULL;
    *ours = is_own_c_method(self, func);
    PyObject *res = PyObject_CallOneArg(func, arg);
    Py_DECREF(func);
    return res;
}

#if SLEUTH_PY313
/* 3.13's _validate_file_mtime: before each command typed (or queued) at the
 * prompt, the current frame's file is stat()ed; when its mtime differs from
 * the one seen last time (by any debugger of the process: the table is
 * Pdb._file_mtime_table, a class attribute as in pdb), a warning says the
 * code that runs is stale. A file that cannot be stat()ed is skipped, as
 * pdb's `except Exception: return` does; a restart clears the table. */
static int
validate_file_mtime(PdbObject *self)
{
    ModState *st = Sleuth_state();
    /* Owned */
    PyObject *code = NULL, *fsname = NULL, *mtime = NULL, *shown = NULL;
    int rc = 0;
    struct stat sb;

    if (!self->curframe || self->curframe == Py_None || !st->file_mtimes)
        return 0;
    code = Pdb_frame_code(self->curframe);
    if (!code || !PyCode_Check(code))
        goto skip;
    PyObject *filename = ((PyCodeObject *)code)->co_filename;    /* borrowed */
    if (!PyUnicode_Check(filename) || !PyUnicode_FSConverter(filename, &fsname))
        goto skip;
    if (stat(PyBytes_AS_STRING(fsname), &sb) != 0)
        goto skip;
    /* os.stat's st_mtime: seconds + nanoseconds as one float */
    mtime = PyFloat_FromDouble((double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec * 1e-9);
    if (!mtime)
        goto error;
    PyObject *old = PyDict_GetItemWithError(st->file_mtimes, filename);   /* borrowed */
    if (!old && PyErr_Occurred())
        goto error;
    if (old) {
        int differs = PyObject_RichCompareBool(old, mtime, Py_NE);
        if (differs < 0)
            goto error;
        if (differs) {
            shown = TermSafe_escape(filename);
            if (!shown || Pdb_messagef(self, "*** WARNING: file '%U' was edited, "
                                       "running stale code until the program is rerun", shown) < 0)
                goto error;
        }
    }
    if (PyDict_SetItem(st->file_mtimes, filename, mtime) < 0)
        goto error;
    goto done;
skip:
    PyErr_Clear();
    goto done;
error:
    rc = -1;
done:
    Py_XDECREF(code);
    Py_XDECREF(fsname);
    Py_XDECREF(mtime);
    Py_XDECREF(shown);
    return rc;
}
#endif

/* cmd.Cmd.onecmd (+ pdb's commands-definition mode). Returns a new ref to
 * the "stop" value. An error inside one of sleuth's own commands never
 * escapes as a traceback: it is reported as one `***` line, except
 * BdbQuit/KeyboardInterrupt/SystemExit/Restart which must propagate. What a
 * Python subclass's do_* or default() raises propagates, as through
 * cmd.Cmd (pytest's do_quit raises pytest.exit()). */
static PyObject *
Pdb_onecmd_impl(PdbObject *self, PyObject *line_in)
{
    /* Owned */
    PyObject *cmd = NULL, *arg = NULL, *line = NULL, *func = NULL, *res = NULL;
    int ours = 1;

    if (self->commands_defining)
        return Pdb_handle_command_def(self, line_in);
#if SLEUTH_PY313
    if (validate_file_mtime(self) < 0)
        return NULL;
#endif
    if (Pdb_parseline(line_in, &cmd, &arg, &line) < 0)
        return NULL;
    PyObject *head = cmd && PyUnicode_GET_LENGTH(cmd) > 7 ? PyUnicode_Substring(cmd, 0, 7) : NULL;
    int internal = head && PyUnicode_CompareWithASCIIString(head, "_pdbcmd") == 0;
    Py_XDECREF(head);
    if (internal) {
        /* 3.13's internal queued commands (_pdbcmd_*): run directly, they
         * are not what an empty line repeats. */
        PyObject *f = PyObject_GetAttr((PyObject *)self, cmd);
        if (f) {
            ours = is_own_c_method(self, f);
            res = PyObject_CallOneArg(f, arg);
            Py_DECREF(f);
            goto done;
        }
        PyErr_Clear();
    }
    if (PyUnicode_GET_LENGTH(line) == 0) {
        /* emptyline(): repeat the last command */
        if (PyUnicode_GET_LENGTH(self->lastcmd) > 0) {
            PyObject *last = Py_NewRef(self->lastcmd);
            res = Pdb_onecmd_impl(self, last);
            Py_DECREF(last);
            ours = 0;       /* already reported, or must propagate */
        } else {
            res = Py_NewRef(Py_None);
        }
        goto done;
    }
    if (!cmd) {
        res = call_hook1(self, "default", line, &ours);
        goto done;
    }
    Py_XSETREF(self->lastcmd, Py_NewRef(line));
    if (PyUnicode_CompareWithASCIIString(line, "EOF") == 0)
        Py_XSETREF(self->lastcmd, PyUnicode_FromString(""));
    if (PyUnicode_GET_LENGTH(cmd) == 0) {
        res = call_hook1(self, "default", line, &ours);
        goto done;
    }
    PyObject *name = PyUnicode_FromFormat("do_%U", cmd);
    if (!name)
        goto done;
    func = PyObject_GetAttr((PyObject *)self, name);
    Py_DECREF(name);
    if (!func) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            goto done;
        PyErr_Clear();
        res = call_hook1(self, "default", line, &ours);
        goto done;
    }
    ours = is_own_c_method(self, func);
    res = PyObject_CallOneArg(func, arg);
done:
    if (!res && ours) {
        ModState *st = Sleuth_state();
        if (!Sleuth_bdbquit_matches(st->BdbQuit) && !PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) &&
            !PyErr_ExceptionMatches(PyExc_SystemExit) && !PyErr_ExceptionMatches(st->Restart) &&
            !PyErr_ExceptionMatches(PyExc_MemoryError)) {
            /* A bug in a command must not take the debuggee down. */
            if (Pdb_error_current_exc(self) == 0)
                res = Py_NewRef(Py_None);
        }
    }
    Py_XDECREF(cmd);
    Py_XDECREF(arg);
    Py_XDECREF(line);
    Py_XDECREF(func);
    return res;
}

static PyObject *
Pdb_onecmd(PdbObject *self, PyObject *line)
{
    if (!PyUnicode_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "onecmd() expects a str");
        return NULL;
    }
    return Pdb_onecmd_impl(self, line);
}

int
Pdb_exec_rc_lines(PdbObject *self)
{
    if (!self->rcLines || PyList_GET_SIZE(self->rcLines) == 0)
        return 0;
#if SLEUTH_PY313
    /* 3.13: rc lines become the command queue, so they go through precmd
     * (aliases, ;;) like typed commands. */
    PyObject *queue = PyList_New(0);
    if (!queue)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(self->rcLines); i++) {
        PyObject *line = PyList_GET_ITEM(self->rcLines, i);
        PyObject *st = PyObject_CallMethod(line, "strip", NULL);
        if (!st) {
            Py_DECREF(queue);
            return -1;
        }
        int keep = PyUnicode_GET_LENGTH(st) > 0 && PyUnicode_READ_CHAR(st, 0) != '#';
        Py_DECREF(st);
        if (keep && PyList_Append(queue, line) < 0) {
            Py_DECREF(queue);
            return -1;
        }
    }
    Py_SETREF(self->cmdqueue, queue);
    Py_SETREF(self->rcLines, PyList_New(0));
    return self->rcLines ? 0 : -1;
#endif
    PyObject *lines = self->rcLines;      /* take it: execute each line once */
    self->rcLines = PyList_New(0);
    if (!self->rcLines) {
        self->rcLines = lines;
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(lines);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *l = PyObject_CallMethod(PyList_GET_ITEM(lines, i), "strip", NULL);
        if (!l) {
            Py_DECREF(lines);
            return -1;
        }
        if (PyUnicode_GET_LENGTH(l) == 0 || PyUnicode_READ_CHAR(l, 0) == '#') {
            Py_DECREF(l);
            continue;
        }
        PyObject *stop = PyObject_CallMethod((PyObject *)self, "onecmd", "O", l);
        Py_DECREF(l);
        if (!stop) {
            Py_DECREF(lines);
            return -1;
        }
        int truth = PyObject_IsTrue(stop);
        Py_DECREF(stop);
        if (truth) {
            /* Save the leftover lines for the next interaction. */
            PyObject *left = PyList_GetSlice(lines, i + 1, n);
            if (left) {
                PyObject *ext = PyObject_CallMethod(self->rcLines, "extend", "O", left);
                Py_XDECREF(ext);
                Py_DECREF(left);
            }
            Py_DECREF(lines);
            return 1;
        }
    }
    Py_DECREF(lines);
    return 0;
}

/* Read one line: input() on a terminal-like rawinput setup, else stdin;
 * end of input reads as "EOF" (cmd.Cmd's convention). */
PyObject *
Pdb_read_line(PdbObject *self, PyObject *prompt)
{
    if (self->use_rawinput) {
        PyObject *builtins = PyEval_GetBuiltins();
        PyObject *input = PyDict_GetItemString(builtins, "input");
        if (!input) {
            PyErr_SetString(PyExc_RuntimeError, "input() is missing");
            return NULL;
        }
        PyObject *line = PyObject_CallOneArg(input, prompt);
        if (!line && PyErr_ExceptionMatches(PyExc_EOFError)) {
            PyErr_Clear();
            return PyUnicode_FromString("EOF");
        }
        return line;
    }
    if (write_text(self, prompt) < 0)
        return NULL;
    PyObject *r = PyObject_CallMethod(self->stdout_obj, "flush", NULL);
    if (!r)
        return NULL;
    Py_DECREF(r);
    PyObject *line = PyObject_CallMethod(self->stdin_obj, "readline", NULL);
    if (!line)
        return NULL;
    if (!PyUnicode_Check(line)) {
        Py_DECREF(line);
        PyErr_SetString(PyExc_TypeError, "stdin.readline() must return str");
        return NULL;
    }
    if (PyUnicode_GET_LENGTH(line) == 0) {
        Py_DECREF(line);
        return PyUnicode_FromString("EOF");
    }
    PyObject *s = PyObject_CallMethod(line, "rstrip", "s", "\r\n");
    Py_DECREF(line);
    return s;
}

int Pdb_show_display(PdbObject *self);

/* pdb's preloop: the display expressions that changed (3.13 shows them with
 * the frame status instead). */
int
Pdb_preloop_c(PdbObject *self)
{
#if !SLEUTH_PY313
    return Pdb_show_display(self);
#else
    SLEUTH_UNUSED(self);
    return 0;
#endif
}

static int
call_loop_hook(PdbObject *self, const char *name)
{
    PyObject *r = PyObject_CallMethod((PyObject *)self, name, NULL);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* cmd.Cmd.cmdloop: lines until a command says stop. */
static int
cmdloop_lines(PdbObject *self)
{
    for (;;) {
        PyObject *line;
        if (PyList_GET_SIZE(self->cmdqueue) > 0) {
            line = Py_NewRef(PyList_GET_ITEM(self->cmdqueue, 0));
            if (PySequence_DelItem(self->cmdqueue, 0) < 0) {
                Py_DECREF(line);
                return -1;
            }
        } else {
            PyObject *prompt = PyObject_Str(self->prompt);
            if (!prompt)
                return -1;
            line = Pdb_read_line(self, prompt);
            Py_DECREF(prompt);
            if (!line)
                return -1;
        }
        PyObject *pre = PyObject_CallMethod((PyObject *)self, "precmd", "O", line);
        Py_DECREF(line);
        if (!pre)
            return -1;
        PyObject *stop = PyObject_CallMethod((PyObject *)self, "onecmd", "O", pre);
        if (!stop) {
            Py_DECREF(pre);
            return -1;
        }
        PyObject *post = PyObject_CallMethod((PyObject *)self, "postcmd", "OO", stop, pre);
        Py_DECREF(stop);
        Py_DECREF(pre);
        if (!post)
            return -1;
        int truth = PyObject_IsTrue(post);
        Py_DECREF(post);
        if (truth < 0)
            return -1;
        if (truth)
            return 0;
    }
}

/* cmd.Cmd.cmdloop: preloop, then Tab completion for as long as it runs,
 * postloop when a command ended the loop. */
static int
cmdloop(PdbObject *self)
{
    if ((self->hooks & HOOK_PRELOOP ? call_loop_hook(self, "preloop") : Pdb_preloop_c(self)) < 0)
        return -1;
    Completion_preloop(self);
    int rc = cmdloop_lines(self);
    if (rc == 0 && (self->hooks & HOOK_POSTLOOP))
        rc = call_loop_hook(self, "postloop");
    Completion_postloop(self);
    return rc;
}

/* pdb._cmdloop: Ctrl-C at the prompt cancels the command, not the session. */
static int
Pdb_cmdloop_outer(PdbObject *self)
{
    for (;;) {
        self->allow_kbdint = 1;
        int r = cmdloop(self);
        self->allow_kbdint = 0;
        if (r == 0)
            return 0;
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
            PyErr_Clear();
            if (Pdb_messagef(self, "--KeyboardInterrupt--") < 0)
                return -1;
            continue;
        }
        return -1;
    }
}

/* Exceptions may be real or duck-typed (evidence snapshots): read their
 * chain through attributes. Each returns a new reference or NULL (no error). */
static PyObject *
exc_attr(PyObject *exc, const char *name)
{
    PyObject *v = PyObject_GetAttrString(exc, name);
    if (!v) {
        PyErr_Clear();
        return NULL;
    }
    if (v == Py_None) {
        Py_DECREF(v);
        return NULL;
    }
    return v;
}

static int
is_exception_like(PyObject *obj)
{
    if (PyExceptionInstance_Check(obj))
        return 1;
    if (obj == Py_None || PyTraceBack_Check(obj) || PyObject_HasAttrString(obj, "tb_frame"))
        return 0;
    return PyObject_HasAttrString(obj, "__traceback__");
}

static PyObject *
get_tb_and_exceptions(PdbObject *self, PyObject *tb_or_exc, PyObject **chain_out)
{
    /* Returns the traceback (new ref) and sets *chain_out to a tuple of the
     * chained exceptions, oldest first (3.13's pdb; offered on every
     * version). */
    *chain_out = NULL;
    if (!is_exception_like(tb_or_exc)) {
        *chain_out = PyTuple_New(0);
        return *chain_out ? Py_NewRef(tb_or_exc) : NULL;
    }
    PyObject *list = PyList_New(0);
    if (!list)
        return NULL;
    PyObject *cur = Py_NewRef(tb_or_exc);
    while (cur) {
        int seen = PySequence_Contains(list, cur);
        if (seen != 0 || PyList_Append(list, cur) < 0) {
            Py_DECREF(cur);
            if (seen < 0) {
                Py_DECREF(list);
                return NULL;
            }
            break;
        }
        PyObject *next = exc_attr(cur, "__cause__");
        if (!next) {
            PyObject *suppress = exc_attr(cur, "__suppress_context__");
            int sup = suppress ? PyObject_IsTrue(suppress) : 0;
            Py_XDECREF(suppress);
            if (sup <= 0)
                next = exc_attr(cur, "__context__");
        }
        Py_DECREF(cur);
        cur = next;
        if (PyList_GET_SIZE(list) >= 999) {
            Py_XDECREF(cur);
            Pdb_messagef(self, "More than 999 chained exceptions found, not all exceptionswill be browsable with `exceptions`.");
            break;
        }
    }
    if (PyList_Reverse(list) < 0) {
        Py_DECREF(list);
        return NULL;
    }
    *chain_out = PyList_AsTuple(list);
    Py_DECREF(list);
    if (!*chain_out)
        return NULL;
    PyObject *tb = exc_attr(tb_or_exc, "__traceback__");
    return tb ? tb : Py_NewRef(Py_None);
}

/* One prompt at a time: a thread that stops while another thread is at the
 * prompt, or runs a breakpoint's commands, waits for it (the GIL is released
 * while waiting). Returns 1 if it waited, 0 if not, -1 with an exception. */
static int
wait_prompt_turn(PdbObject *self)
{
    unsigned long me = PyThread_get_thread_ident();
    int waited = 0;
    while (self->in_interaction && self->interaction_thread != me) {
        waited = 1;
        Py_BEGIN_ALLOW_THREADS
        usleep(2000);
        Py_END_ALLOW_THREADS
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
    return waited;
}

int
Pdb_interaction(PdbObject *self, PyObject *frame, PyObject *tb_or_exc)
{
    /* Owned */
    PyObject *chain = NULL, *tb = NULL, *r = NULL;
    int rc = -1;
    int was_in = self->in_interaction;

    unsigned long me = PyThread_get_thread_ident();
    int waited = wait_prompt_turn(self);
    if (waited < 0)
        return -1;
    /* `quit` was typed at the prompt this thread waited for: the program
     * is being abandoned, so no prompt (the caller raises BdbQuit). */
    if (waited && self->quitting)
        return 0;
    if (Hooks_refresh(self) < 0)
        return -1;
    /* Nested prompts (bp commands, `debug`) of this thread restore these. */
    was_in = self->in_interaction;
    unsigned long was_thread = self->interaction_thread;
    self->interaction_thread = me;
    tb = get_tb_and_exceptions(self, tb_or_exc ? tb_or_exc : Py_None, &chain);
    if (!tb)
        goto done;
    Py_XSETREF(self->chained_exceptions, Py_NewRef(chain));
    self->chained_exception_index = PyTuple_GET_SIZE(chain) - 1;
    if (self->chained_exception_index < 0)
        self->chained_exception_index = 0;
    self->in_interaction = 1;
    Cmd_restore_sigint();   /* pdb: the previous handler is back at the prompt */
    r = PyObject_CallMethod((PyObject *)self, "setup", "OO", frame ? frame : Py_None, tb);
    if (!r)
        goto done;
    int skip = PyObject_IsTrue(r);
    Py_CLEAR(r);
    if (!skip) {
#if SLEUTH_PY313
        /* 3.13 prints the location just before the prompt, after any queued
         * (rc) commands, through a queued internal command. */
        PyObject *marker = PyUnicode_FromString(FRAME_STATUS_CMD);
        int ar = marker ? PyList_Append(self->cmdqueue, marker) : -1;
        Py_XDECREF(marker);
        if (ar < 0)
            goto done;
        if (Pdb_cmdloop_outer(self) < 0)
            goto done;
        Py_ssize_t qn = PyList_GET_SIZE(self->cmdqueue);
        if (qn > 0 && PyUnicode_Check(PyList_GET_ITEM(self->cmdqueue, qn - 1)) &&
            PyUnicode_CompareWithASCIIString(PyList_GET_ITEM(self->cmdqueue, qn - 1), FRAME_STATUS_CMD) == 0 &&
            PySequence_DelItem(self->cmdqueue, qn - 1) < 0)
            goto done;
#else
        /* A location that cannot be shown (a failing linecache loader, say)
         * is the debugger's problem, not the program's: one `***` line, and
         * the prompt still comes (3.13 gets the same from its queued command). */
        if (Pdb_print_stack_entry(self, PyList_GET_ITEM(self->stack, self->curindex), NULL) < 0) {
            if (!PyErr_ExceptionMatches(PyExc_Exception) || Pdb_error_current_exc(self) < 0)
                goto done;
        }
        if (Pdb_cmdloop_outer(self) < 0)
            goto done;
#endif
    }
    r = Pdb_forget(self, NULL);
    if (!r)
        goto done;
    rc = 0;
done:
    self->in_interaction = was_in;
    self->interaction_thread = was_in ? was_thread : 0;
    if (self->chained_exceptions)
        Py_XSETREF(self->chained_exceptions, PyTuple_New(0));
    self->chained_exception_index = 0;
    Py_XDECREF(chain);
    Py_XDECREF(tb);
    Py_XDECREF(r);
    return rc;
}

static int resume_engine(PdbObject *self);

int
Pdb_resume_engine(PdbObject *self)
{
    return resume_engine(self);
}

static PyObject *
Pdb_interaction_py(PdbObject *self, PyObject *args)
{
    PyObject *frame, *tb;
    if (!PyArg_ParseTuple(args, "OO:interaction", &frame, &tb))
        return NULL;
    int standalone = !Engine_is_active(self);
    if (Pdb_interaction(self, frame, tb) < 0)
        return NULL;
    if (!standalone && resume_engine(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Leaving the prompt: re-arm the engine for the new stepping state. When
 * that fails (another tool holds every sys.monitoring tool id, say), the
 * program must not get the error: say it in one line and let the program
 * run on without the debugger. The debugger's own BdbQuit/Restart pass. */
static int
resume_engine(PdbObject *self)
{
    if (Engine_resume(self) == 0)
        return 0;
    ModState *st = Sleuth_state();
    if (Sleuth_bdbquit_matches(st->BdbQuit) || PyErr_ExceptionMatches(st->Restart))
        return -1;
    int r = Pdb_error_current_exc(self);
    Engine_detach();
    return r;
}

/* --- engine hooks (pdb.user_*) ------------------------------------------- */

static int
wait_for_main(PdbObject *self, PyObject *frame, int is_line)
{
    if (!self->wait_for_mainpyfile)
        return 0;
    if (!is_line)
        return 1;
    PyObject *code = Pdb_frame_code(frame);
    if (!code)
        return -1;
    PyObject *canon = Pdb_canonic(self, ((PyCodeObject *)code)->co_filename);
    Py_DECREF(code);
    if (!canon)
        return -1;
    int same = PyObject_RichCompareBool(canon, self->mainpyfile, Py_EQ);
    Py_DECREF(canon);
    if (same < 0)
        return -1;
    if (!same || Pdb_frame_lineno(frame) <= 0)
        return 1;
    self->wait_for_mainpyfile = 0;
    return 0;
}

/* After the prompt is left, re-arm the engine for the new stepping state. */
static int
interact_and_resume(PdbObject *self, PyObject *frame, PyObject *tb)
{
    if (self->hooks & HOOK_INTERACTION) {
        PyObject *r = PyObject_CallMethod((PyObject *)self, "interaction", "OO", frame, tb);
        if (!r)
            return -1;
        Py_DECREF(r);
    } else if (Pdb_interaction(self, frame, tb) < 0) {
        return -1;
    }
#if !SLEUTH_PY313
    /* 3.11/3.12: write assignments made at the prompt back into the frame. */
    if (PyFrame_Check(frame)) {
        PyFrame_LocalsToFast((PyFrameObject *)frame, 1);
        if (PyErr_Occurred())
            return -1;
    }
#endif
    return resume_engine(self);
}

static int bp_commands(PdbObject *self, PyObject *frame);

/* bdb's user_* hooks: a subclass's override, else sleuth's own. */
int
Pdb_user_line(PdbObject *self, PyObject *frame)
{
    if (!(self->hooks & HOOK_USER_LINE))
        return Pdb_user_line_c(self, frame);
    PyObject *r = PyObject_CallMethod((PyObject *)self, "user_line", "O", frame);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

int
Pdb_user_call(PdbObject *self, PyObject *frame)
{
    if (!(self->hooks & HOOK_USER_CALL))
        return Pdb_user_call_c(self, frame);
    /* bdb passes None as the argument list. */
    PyObject *r = PyObject_CallMethod((PyObject *)self, "user_call", "OO", frame, Py_None);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

int
Pdb_user_return(PdbObject *self, PyObject *frame, PyObject *retval)
{
    if (!(self->hooks & HOOK_USER_RETURN))
        return Pdb_user_return_c(self, frame, retval);
    PyObject *r = PyObject_CallMethod((PyObject *)self, "user_return", "OO", frame, retval);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

int
Pdb_user_exception(PdbObject *self, PyObject *frame, PyObject *exc, PyObject *tb)
{
    if (!(self->hooks & HOOK_USER_EXCEPTION))
        return Pdb_user_exception_c(self, frame, exc, tb);
    PyObject *own = tb ? NULL : PyException_GetTraceback(exc);
    PyObject *info = PyTuple_Pack(3, (PyObject *)Py_TYPE(exc), exc, tb ? tb : own ? own : Py_None);
    Py_XDECREF(own);
    if (!info)
        return -1;
    PyObject *r = PyObject_CallMethod((PyObject *)self, "user_exception", "OO", frame, info);
    Py_DECREF(info);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

int
Pdb_user_line_c(PdbObject *self, PyObject *frame)
{
    int w = wait_for_main(self, frame, 1);
    if (w)
        return w < 0 ? -1 : 0;
    if (self->frontend)
        return self->frontend->stop(self->frontend_ctx, frame, NULL, NULL, SESSION_STOP_LINE);
    int r = bp_commands(self, frame);
    if (r <= 0)
        return r;
    return interact_and_resume(self, frame, Py_None);
}

int
Pdb_user_call_c(PdbObject *self, PyObject *frame)
{
    if (self->wait_for_mainpyfile)
        return 0;
    if (self->frontend)
        return self->frontend->stop(self->frontend_ctx, frame, NULL, NULL, SESSION_STOP_CALL);
    if (Pdb_messagef(self, "--Call--") < 0)
        return -1;
    return interact_and_resume(self, frame, Py_None);
}

static int
set_frame_local(PyObject *frame, PyObject *name, PyObject *value)
{
    PyObject *locals = PyObject_GetAttrString(frame, "f_locals");
    if (!locals)
        return -1;
    int r = PyObject_SetItem(locals, name, value);
    Py_DECREF(locals);
    return r;
}

int
Pdb_user_return_c(PdbObject *self, PyObject *frame, PyObject *retval)
{
    if (self->wait_for_mainpyfile)
        return 0;
    if (self->frontend)
        return self->frontend->stop(self->frontend_ctx, frame, retval, NULL, SESSION_STOP_RETURN);
    ModState *st = Sleuth_state();
    if (set_frame_local(frame, st->str___return__, retval) < 0)
        return -1;
#if !SLEUTH_PY311
    if (Pdb_set_convenience(self, frame, "_retval", retval) < 0)
        return -1;
#endif
    if (Pdb_messagef(self, "--Return--") < 0)
        return -1;
    return interact_and_resume(self, frame, Py_None);
}

int
Pdb_user_exception_c(PdbObject *self, PyObject *frame, PyObject *exc, PyObject *tb)
{
    if (self->wait_for_mainpyfile)
        return 0;
    if (self->frontend)
        return self->frontend->stop(self->frontend_ctx, frame, exc, tb, SESSION_STOP_EXCEPTION);
    ModState *st = Sleuth_state();
    PyObject *pair = PyTuple_Pack(2, (PyObject *)Py_TYPE(exc), exc);
    if (!pair)
        return -1;
    int r = set_frame_local(frame, st->str___exception__, pair);
    Py_DECREF(pair);
    if (r < 0)
        return -1;
#if !SLEUTH_PY311
    if (Pdb_set_convenience(self, frame, "_exception", exc) < 0)
        return -1;
#endif
    /* pdb: "Internal StopIteration" is the interpreter's own event for a
     * generator returning into a for loop or `yield from`/`await`: no
     * traceback. */
    tb = tb ? Py_NewRef(tb) : PyException_GetTraceback(exc);
    int internal = (!tb || tb == Py_None) && Py_TYPE(exc) == (PyTypeObject *)PyExc_StopIteration;
    PyObject *text = Pdb_format_exc(exc);
    if (!text) {
        Py_XDECREF(tb);
        return -1;
    }
    r = Pdb_messagef(self, "%s%U", internal ? "Internal " : "", text);
    Py_DECREF(text);
    if (r == 0)
        r = interact_and_resume(self, frame, tb ? tb : Py_None);
    Py_XDECREF(tb);
    return r;
}

/* pdb.bp_commands: run the commands attached to the breakpoint just hit.
 * Returns 1 if the normal interaction must follow. */
static int
bp_commands(PdbObject *self, PyObject *frame)
{
    long bpnum = self->currentbp;
    if (!bpnum)
        return 1;
    /* The commands take the prompt's turn like a prompt does: two threads
     * running breakpoint commands at once each restored the other's
     * in_interaction, which could stay set after both had gone on, and the
     * next stop (any thread) then waited for it forever. */
    int waited = wait_prompt_turn(self);
    if (waited < 0)
        return -1;
    /* `quit` was typed at the prompt this thread waited for: no commands,
     * as Pdb_interaction shows no prompt then. */
    if (waited && self->quitting)
        return resume_engine(self) < 0 ? -1 : 0;
    unsigned long was_thread = self->interaction_thread;
    PyObject *key = PyLong_FromLong(bpnum);
    if (!key)
        return -1;
    PyObject *cmds = PyDict_GetItemWithError(self->commands, key);
    if (!cmds) {
        Py_DECREF(key);
        return PyErr_Occurred() ? -1 : 1;
    }
    Py_INCREF(cmds);
    self->currentbp = 0;
    PyObject *lastcmd_back = Py_NewRef(self->lastcmd);
    int rc = -1;
    int was_in = self->in_interaction;
    self->in_interaction = 1;
    self->interaction_thread = PyThread_get_thread_ident();
    PyObject *r = PyObject_CallMethod((PyObject *)self, "setup", "OO", frame, Py_None);
    if (!r)
        goto done;
    Py_DECREF(r);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(cmds); i++) {
        r = PyObject_CallMethod((PyObject *)self, "onecmd", "O", PyList_GET_ITEM(cmds, i));
        if (!r)
            goto done;
        Py_DECREF(r);
    }
    Py_XSETREF(self->lastcmd, Py_NewRef(lastcmd_back));
    PyObject *silent = PyDict_GetItem(self->commands_silent, key);
    if (!(silent && PyObject_IsTrue(silent)))
        if (Pdb_print_stack_entry(self, PyList_GET_ITEM(self->stack, self->curindex), NULL) < 0)
            goto done;
    PyObject *doprompt = PyDict_GetItem(self->commands_doprompt, key);
    if (doprompt && PyObject_IsTrue(doprompt))
        if (Pdb_cmdloop_outer(self) < 0)
            goto done;
    r = Pdb_forget(self, NULL);
    if (!r)
        goto done;
    Py_DECREF(r);
    rc = 0;
done:
    self->in_interaction = was_in;
    self->interaction_thread = was_in ? was_thread : 0;
    Py_DECREF(lastcmd_back);
    Py_DECREF(cmds);
    Py_DECREF(key);
    if (rc == 0 && resume_engine(self) < 0)
        rc = -1;
    return rc;
}

/* --- Python-visible methods ------------------------------------------------- */

static PyObject *
Pdb_message_py(PdbObject *self, PyObject *msg)
{
    if (write_line(self, "", msg) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Pdb_error_py(PdbObject *self, PyObject *msg)
{
    if (write_line(self, "*** ", msg) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Pdb_canonic_py(PdbObject *self, PyObject *filename)
{
    return Pdb_canonic(self, filename);
}

static PyObject *
Pdb_reset(PdbObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    PyObject *lc = PyImport_ImportModule("linecache");
    if (!lc)
        return NULL;
    PyObject *r = PyObject_CallMethod(lc, "checkcache", NULL);
    Py_DECREF(lc);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_CLEAR(self->botframe);
    Py_CLEAR(self->untraced);
    Engine_set_stopinfo(self, NULL, NULL, 0);
    Py_RETURN_NONE;
}

static PyObject *
Pdb_postcmd(PdbObject *self, PyObject *args)
{
    SLEUTH_UNUSED(self);
    PyObject *stop, *line;
    if (!PyArg_ParseTuple(args, "OO:postcmd", &stop, &line))
        return NULL;
    return Py_NewRef(stop);
}

static PyObject *
Pdb_print_stack_entry_py(PdbObject *self, PyObject *args)
{
    PyObject *entry;
    const char *prefix = NULL;
    if (!PyArg_ParseTuple(args, "O|s:print_stack_entry", &entry, &prefix))
        return NULL;
    if (Pdb_print_stack_entry(self, entry, prefix) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Pdb_format_stack_entry_py(PdbObject *self, PyObject *args)
{
    PyObject *entry;
    const char *prefix = ": ";
    if (!PyArg_ParseTuple(args, "O|s:format_stack_entry", &entry, &prefix))
        return NULL;
    return Render_stack_entry(self, entry, prefix);
}

static PyObject *
Pdb_print_stack_trace_py(PdbObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    if (Render_stack_trace(self, -1) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Pdb_set_step_py(PdbObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    Engine_set_step(self);
    Py_RETURN_NONE;
}

static PyObject *
Pdb_set_next_py(PdbObject *self, PyObject *frame)
{
    Engine_set_next(self, frame);
    Py_RETURN_NONE;
}

static PyObject *
Pdb_set_return_py(PdbObject *self, PyObject *frame)
{
    if (Engine_set_return(self, frame) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
Pdb_set_until_py(PdbObject *self, PyObject *args)
{
    PyObject *frame;
    int lineno = 0;
    if (!PyArg_ParseTuple(args, "O|i:set_until", &frame, &lineno))
        return NULL;
    Engine_set_until(self, frame, lineno);
    Py_RETURN_NONE;
}

static PyObject *
Pdb_set_continue_py(PdbObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    Engine_set_continue(self);
    Py_RETURN_NONE;
}

static PyObject *
Pdb_set_quit_py(PdbObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    Engine_set_quit(self);
    Py_RETURN_NONE;
}

static PyObject *
Pdb_get_breaks(PdbObject *self, void *c)
{
    SLEUTH_UNUSED(self);
    SLEUTH_UNUSED(c);
    return Py_NewRef(Sleuth_state()->breaks);
}

static PyObject *
Pdb_get_curframe_locals(PdbObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    return Py_NewRef(self->curframe_locals ? self->curframe_locals : Py_None);
}

static PyObject *
Pdb_get_chained(PdbObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    return Py_NewRef(self->chained_exceptions);
}

static PyGetSetDef Pdb_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {"breaks", (getter)Pdb_get_breaks, NULL, "breakpoint lines by canonical file", NULL},
    {"curframe_locals", (getter)Pdb_get_curframe_locals, NULL, NULL, NULL},
    {"_chained_exceptions", (getter)Pdb_get_chained, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Pdb_members[] = {
    {"stdin", T_OBJECT, offsetof(PdbObject, stdin_obj), 0, NULL},
    {"stdout", T_OBJECT, offsetof(PdbObject, stdout_obj), 0, NULL},
    {"use_rawinput", T_INT, offsetof(PdbObject, use_rawinput), 0, NULL},
    {"completekey", T_OBJECT, offsetof(PdbObject, completekey), 0, NULL},
    {"prompt", T_OBJECT, offsetof(PdbObject, prompt), 0, NULL},
    {"lastcmd", T_OBJECT, offsetof(PdbObject, lastcmd), 0, NULL},
    {"cmdqueue", T_OBJECT, offsetof(PdbObject, cmdqueue), 0, NULL},
    {"nosigint", T_BOOL, offsetof(PdbObject, nosigint), 0, NULL},
    {"allow_kbdint", T_BOOL, offsetof(PdbObject, allow_kbdint), 0, NULL},
    {"skip", T_OBJECT, offsetof(PdbObject, skip), 0, NULL},
    {"botframe", T_OBJECT, offsetof(PdbObject, botframe), 0, NULL},
    {"stopframe", T_OBJECT, offsetof(PdbObject, stopframe), READONLY, NULL},
    {"returnframe", T_OBJECT, offsetof(PdbObject, returnframe), READONLY, NULL},
    {"stoplineno", T_INT, offsetof(PdbObject, stoplineno), READONLY, NULL},
    {"quitting", T_BOOL, offsetof(PdbObject, quitting), 0, NULL},
    {"stack", T_OBJECT, offsetof(PdbObject, stack), 0, NULL},
    {"curindex", T_PYSSIZET, offsetof(PdbObject, curindex), 0, NULL},
    {"curframe", T_OBJECT, offsetof(PdbObject, curframe), 0, NULL},
    {"tb_lineno", T_OBJECT, offsetof(PdbObject, tb_lineno), READONLY, NULL},
    {"displaying", T_OBJECT, offsetof(PdbObject, displaying), READONLY, NULL},
    {"aliases", T_OBJECT, offsetof(PdbObject, aliases), READONLY, NULL},
    {"rcLines", T_OBJECT, offsetof(PdbObject, rcLines), 0, NULL},
    {"commands", T_OBJECT, offsetof(PdbObject, commands), READONLY, NULL},
    {"mainpyfile", T_OBJECT, offsetof(PdbObject, mainpyfile), 0, NULL},
    {"_wait_for_mainpyfile", T_BOOL, offsetof(PdbObject, wait_for_mainpyfile), 0, NULL},
    {"_user_requested_quit", T_BOOL, offsetof(PdbObject, user_requested_quit), 0, NULL},
    {"currentbp", T_LONG, offsetof(PdbObject, currentbp), 0, NULL},
    {"lineno", T_OBJECT, offsetof(PdbObject, lineno), 0, NULL},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(PdbObject, weakreflist), READONLY, NULL},
    {"__dictoffset__", T_PYSSIZET, offsetof(PdbObject, dict), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyMethodDef Pdb_core_methods[] = {
    {"message", (PyCFunction)Pdb_message_py, METH_O, NULL},
    {"error", (PyCFunction)Pdb_error_py, METH_O, NULL},
    {"canonic", (PyCFunction)Pdb_canonic_py, METH_O, NULL},
    {"reset", (PyCFunction)Pdb_reset, METH_NOARGS, NULL},
    {"forget", (PyCFunction)Pdb_forget, METH_NOARGS, NULL},
    {"setup", (PyCFunction)Pdb_setup, METH_VARARGS, NULL},
    {"get_stack", (PyCFunction)Pdb_get_stack, METH_VARARGS, NULL},
    {"interaction", (PyCFunction)Pdb_interaction_py, METH_VARARGS, NULL},
    {"precmd", (PyCFunction)Pdb_precmd, METH_O, NULL},
    {"onecmd", (PyCFunction)Pdb_onecmd, METH_O, NULL},
    {"postcmd", (PyCFunction)Pdb_postcmd, METH_VARARGS, NULL},
    {"default", (PyCFunction)Pdb_default, METH_O, NULL},
    {"print_stack_entry", (PyCFunction)Pdb_print_stack_entry_py, METH_VARARGS, NULL},
    {"format_stack_entry", (PyCFunction)Pdb_format_stack_entry_py, METH_VARARGS, NULL},
    {"print_stack_trace", (PyCFunction)Pdb_print_stack_trace_py, METH_NOARGS, NULL},
    {"set_step", (PyCFunction)Pdb_set_step_py, METH_NOARGS, NULL},
    {"set_next", (PyCFunction)Pdb_set_next_py, METH_O, NULL},
    {"set_return", (PyCFunction)Pdb_set_return_py, METH_O, NULL},
    {"set_until", (PyCFunction)Pdb_set_until_py, METH_VARARGS, NULL},
    {"set_continue", (PyCFunction)Pdb_set_continue_py, METH_NOARGS, NULL},
    {"set_quit", (PyCFunction)Pdb_set_quit_py, METH_NOARGS, NULL},
    {"checkline", (PyCFunction)CmdBreak_checkline_py, METH_VARARGS,
     "checkline(filename, lineno)\n--\n\nlineno if that line can hold a breakpoint, else 0 (with pdb's message)."},
    {NULL, NULL, 0, NULL},
};

int
Pdb_init_type(PyObject *module, ModState *st)
{
    /* Methods: the core ones above, the entry points (api.c) and every do_*
     * command (commands.c) and the complete* methods (completion.c), joined
     * into one table kept for the process. */
    size_t n_core = sizeof Pdb_core_methods / sizeof Pdb_core_methods[0] - 1;
    size_t n_cmd = 0, n_api = 0, n_comp = 0, n_hooks = 0;
    while (Commands_methods[n_cmd].ml_name)
        n_cmd++;
    while (PdbApi_methods[n_api].ml_name)
        n_api++;
    while (Completion_methods[n_comp].ml_name)
        n_comp++;
    while (Hooks_methods[n_hooks].ml_name)
        n_hooks++;
    PyMethodDef *all = PyMem_RawCalloc(n_core + n_cmd + n_api + n_comp + n_hooks + 1,
                                       sizeof(PyMethodDef));
    if (!all) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(all, Pdb_core_methods, n_core * sizeof(PyMethodDef));
    memcpy(all + n_core, Commands_methods, n_cmd * sizeof(PyMethodDef));
    memcpy(all + n_core + n_cmd, PdbApi_methods, n_api * sizeof(PyMethodDef));
    memcpy(all + n_core + n_cmd + n_api, Completion_methods, n_comp * sizeof(PyMethodDef));
    memcpy(all + n_core + n_cmd + n_api + n_comp, Hooks_methods, n_hooks * sizeof(PyMethodDef));

    PyType_Slot slots[] = {
        {Py_tp_doc, "Pdb(completekey='tab', stdin=None, stdout=None, skip=None, nosigint=False, readrc=True)\n--\n\n"
                    "sleuth's debugger: pdb's commands, output and API on a C engine."},
        {Py_tp_init, Pdb_tp_init},
        {Py_tp_new, PyType_GenericNew},
        {Py_tp_traverse, Pdb_tp_traverse},
        {Py_tp_clear, Pdb_tp_clear},
        {Py_tp_dealloc, Pdb_tp_dealloc},
        {Py_tp_members, Pdb_members},
        {Py_tp_getset, Pdb_getset},
        {Py_tp_methods, all},
        {0, NULL},
    };
    PyType_Spec spec = {
        .name = "sleuth.Pdb",
        .basicsize = sizeof(PdbObject),
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
        .slots = slots,
    };
    st->PdbType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &spec, NULL);
    if (!st->PdbType)
        return -1;
    if (PyObject_SetAttrString((PyObject *)st->PdbType, "_previous_sigint_handler", Py_None) < 0)
        return -1;
#if SLEUTH_PY313
    st->file_mtimes = PyDict_New();
    if (!st->file_mtimes ||
        PyObject_SetAttrString((PyObject *)st->PdbType, "_file_mtime_table", st->file_mtimes) < 0)
        return -1;
#endif
    return PyModule_AddObjectRef(module, "Pdb", (PyObject *)st->PdbType);
}
