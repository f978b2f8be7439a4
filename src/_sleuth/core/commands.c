/* commands.c — pdb's commands except the breakpoint family (cmd_break.c) and
 * help (help.c). Messages are pdb's, per version where pdb changed them. */
#include "commands.h"
#include "engine.h"
#include "render.h"
#include "breakpoints.h"
#include "api.h"
#include "termsafe.h"
#include "util.h"

#define MAX_OUTPUT_CHARS 1000000   /* bound for p/pp/display output */

#define RESUME() Py_RETURN_TRUE
#define NOTHING() Py_RETURN_NONE

/* Where parse_int saturates: far beyond any line number or stack depth,
 * and small enough that pdb's sums (first + count, first - 5, first + 10)
 * cannot overflow a C long. */
#define PARSE_INT_MAX (LONG_MAX / 4)

/* int(arg): Python's rules (whitespace, underscores, sign); -1 when pdb's
 * int() raises ValueError. pdb keeps a huge number exact; every use here
 * only compares it or adds a small amount, so one beyond PARSE_INT_MAX is
 * kept as +-PARSE_INT_MAX and the outcome and message are pdb's (`up
 * 99999999999999999999` goes to the oldest frame, `list 1,<huge>` to the
 * end of the file), not "Error in argument". */
static int
parse_int(PyObject *arg, long *out)
{
    PyObject *v = PyLong_FromUnicodeObject(arg, 10);
    if (!v) {
        PyErr_Clear();
        return -1;
    }
    int overflow = 0;
    long n = PyLong_AsLongAndOverflow(v, &overflow);
    Py_DECREF(v);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    if (overflow > 0 || n > PARSE_INT_MAX)
        n = PARSE_INT_MAX;
    else if (overflow < 0 || n < -PARSE_INT_MAX)
        n = -PARSE_INT_MAX;
    *out = n;
    return 0;
}

static int
starts_with(PyObject *s, const char *prefix)
{
    Py_ssize_t n = (Py_ssize_t)strlen(prefix);
    if (!PyUnicode_Check(s) || PyUnicode_GET_LENGTH(s) < n)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyUnicode_READ_CHAR(s, i) != (Py_UCS4)(unsigned char)prefix[i])
            return 0;
    return 1;
}

static int
require_live(PdbObject *self)
{
    if (self->readonly) {
        Pdb_errorf(self, "The program is not running: this session shows a saved evidence file.");
        return 0;
    }
    return 1;
}

#if SLEUTH_PY313
/* pdb._print_invalid_arg (3.13): "*** Invalid argument: ARG" and the usage
 * lines of the command's help (up to its first blank line), indented by the
 * prompt's width as pdb does. Returns -1 only on an error of its own. */
int
Cmd_invalid_arg(PdbObject *self, PyObject *arg, const char *command)
{
    if (Pdb_errorf(self, "Invalid argument: %U", arg) < 0)
        return -1;
    const char *text = Help_text(command);
    if (!text)
        return 0;
    /* The stored text is indented for the 6-character "(Pdb) " prompt. */
    PyObject *prompt = PyObject_Str(self->prompt);
    if (!prompt)
        return -1;
    Py_ssize_t width = PyUnicode_GET_LENGTH(prompt);
    Py_DECREF(prompt);
    PyObject *out = PyUnicode_FromString("");
    const char *p = text;
    int first = 1;
    while (out && *p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t skip = 0;
        while (skip < len && skip < 6 && p[skip] == ' ')
            skip++;
        if (skip == len)
            break;   /* the blank line that ends the usage */
        PyObject *piece = PyUnicode_FromFormat("%s%*s%.*s", first ? "" : "\n", (int)width, "",
                                               (int)(len - skip), p + skip);
        PyObject *joined = piece ? PyUnicode_Concat(out, piece) : NULL;
        Py_XDECREF(piece);
        Py_SETREF(out, joined);
        first = 0;
        if (!end)
            break;
        p = end + 1;
    }
    if (!out)
        return -1;
    int r = Pdb_message(self, out);
    Py_DECREF(out);
    return r;
}
#endif

static PyObject *
curglobals(PdbObject *self)
{
    if (!self->curframe || self->curframe == Py_None) {
        PyErr_SetString(PyExc_RuntimeError, "no current frame");
        return NULL;
    }
    return PyObject_GetAttrString(self->curframe, "f_globals");
}

/* eval(expr, curframe.f_globals, curframe_locals): a new reference, or
 * NULL with an exception set. */
PyObject *
Cmd_eval(PdbObject *self, PyObject *expr)
{
    PyObject *eval = PyDict_GetItemString(PyEval_GetBuiltins(), "eval");   /* borrowed */
    if (!eval) {
        PyErr_SetString(PyExc_RuntimeError, "builtins.eval is missing");
        return NULL;
    }
    PyObject *globals = curglobals(self);
    if (!globals)
        return NULL;
    PyObject *res = PyObject_CallFunctionObjArgs(eval, expr, globals,
                                                 self->curframe_locals ? self->curframe_locals : globals,
                                                 NULL);
    Py_DECREF(globals);
    return res;
}

PyObject *
Cmd_getval(PdbObject *self, PyObject *expr, int *failed)
{
    *failed = 0;
    PyObject *res = Cmd_eval(self, expr);
    if (!res) {
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
            return NULL;
        *failed = 1;
        if (Pdb_error_current_exc(self) < 0)
            return NULL;
    }
    return res;
}

static PyObject *
bounded(PyObject *text)
{
    if (!text || !PyUnicode_Check(text) || PyUnicode_GET_LENGTH(text) <= MAX_OUTPUT_CHARS)
        return text;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *head = PyUnicode_Substring(text, 0, MAX_OUTPUT_CHARS);
    PyObject *res = head ? PyUnicode_FromFormat("%U... [sleuth: %zd more characters not shown]",
                                                head, n - MAX_OUTPUT_CHARS) : NULL;
    Py_XDECREF(head);
    Py_DECREF(text);
    return res;
}

PyObject *
Cmd_safe_repr(PdbObject *self, PyObject *obj, PyObject *expr)
{
    SLEUTH_UNUSED(self);
    PyObject *r = PyObject_Repr(obj);
    if (r)
        return bounded(r);
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
        return NULL;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *text = Pdb_format_exc(exc);
    Py_DECREF(exc);
    if (!text)
        return NULL;
    PyObject *res = PyUnicode_FromFormat("*** repr(%U) failed: %U ***", expr, text);
    Py_DECREF(text);
    return res;
}

/* _getval_except: the value, or a "** raised ... **" marker object. */
static PyObject *
getval_except(PdbObject *self, PyObject *expr)
{
    PyObject *res = Cmd_eval(self, expr);
    if (res || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
        return res;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *text = Pdb_format_exc(exc);
    Py_XDECREF(exc);
    if (!text)
        return NULL;
    /* pdb's _rstr: a str whose repr is itself */
    res = PyUnicode_FromFormat("** raised %U **", text);
    Py_DECREF(text);
    if (!res)
        return NULL;
    PyObject *tuple = PyTuple_Pack(1, res);   /* marker: 1-tuple = raised text */
    Py_DECREF(res);
    return tuple;
}

static PyObject *
display_repr(PdbObject *self, PyObject *val, PyObject *expr)
{
    if (PyTuple_CheckExact(val) && PyTuple_GET_SIZE(val) == 1 &&
        PyUnicode_Check(PyTuple_GET_ITEM(val, 0)))
        return Py_NewRef(PyTuple_GET_ITEM(val, 0));
    return Cmd_safe_repr(self, val, expr);
}

int
Pdb_show_display(PdbObject *self)
{
    if (!self->curframe)
        return 0;
    PyObject *disp = PyDict_GetItemWithError(self->displaying, self->curframe);
    if (!disp)
        return PyErr_Occurred() ? -1 : 0;
    PyObject *items = PyDict_Items(disp);
    if (!items)
        return -1;
    int rc = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items) && rc == 0; i++) {
        PyObject *expr = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
        PyObject *oldv = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
        PyObject *newv = getval_except(self, expr);
        if (!newv) {
            rc = -1;
            break;
        }
        int changed = newv != oldv;
        if (changed) {
            int eq = PyObject_RichCompareBool(newv, oldv, Py_EQ);
            if (eq < 0) {
                PyErr_Clear();
                eq = 0;
            }
            changed = !eq;
        }
        if (changed) {
            if (PyDict_SetItem(disp, expr, newv) < 0) {
                rc = -1;
            } else {
                PyObject *a = display_repr(self, newv, expr);
                PyObject *b = a ? display_repr(self, oldv, expr) : NULL;
                if (!b || Pdb_messagef(self, "display %U: %U  [old: %U]", expr, a, b) < 0)
                    rc = -1;
                Py_XDECREF(a);
                Py_XDECREF(b);
            }
        }
        Py_DECREF(newv);
    }
    Py_DECREF(items);
    return rc;
}

/* --- execution control ---------------------------------------------------- */

static PyObject *
do_step(PdbObject *self, PyObject *arg)
{
    CMD_NO_ARG(self, arg, "step");
    if (!require_live(self))
        NOTHING();
    Engine_set_step(self);
    RESUME();
}

static PyObject *
do_next(PdbObject *self, PyObject *arg)
{
    CMD_NO_ARG(self, arg, "next");
    if (!require_live(self))
        NOTHING();
    Engine_set_next(self, self->curframe);
    RESUME();
}

static PyObject *
do_return(PdbObject *self, PyObject *arg)
{
    CMD_NO_ARG(self, arg, "return");
    if (!require_live(self))
        NOTHING();
    if (Engine_set_return(self, self->curframe) < 0)
        return NULL;
    RESUME();
}

static PyObject *
do_until(PdbObject *self, PyObject *arg)
{
    if (!require_live(self))
        NOTHING();
    long lineno = 0;
    if (PyUnicode_GET_LENGTH(arg) > 0) {
        if (parse_int(arg, &lineno) < 0) {
            Pdb_errorf(self, "Error in argument: %R", arg);
            NOTHING();
        }
        if (lineno <= Pdb_frame_lineno(self->curframe)) {
            Pdb_errorf(self, "\"until\" line number is smaller than current line number");
            NOTHING();
        }
    }
    /* A target past INT_MAX is never reached either: run to the return. */
    Engine_set_until(self, self->curframe, lineno > INT_MAX ? INT_MAX : (int)lineno);
    RESUME();
}

/* pdb.sigint_handler: Ctrl-C while the program runs stops it at the next
 * line, as a set_trace() there would. */
static PyObject *
sigint_handler(PyObject *module, PyObject *args)
{
    SLEUTH_UNUSED(module);
    PyObject *signum, *frame;
    if (!PyArg_ParseTuple(args, "OO", &signum, &frame))
        return NULL;
    ModState *st = Sleuth_state();
    PdbObject *d = (PdbObject *)st->sigint_pdb;
    if (!d || d->allow_kbdint) {
        PyErr_SetNone(PyExc_KeyboardInterrupt);
        return NULL;
    }
    Py_INCREF(d);
    int r = Pdb_messagef(d, "\nProgram interrupted. (Use 'cont' to resume).");
    if (r == 0 && frame != Py_None)
        r = Api_set_trace(d, frame);
    Py_DECREF(d);
    if (r < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef sigint_def = {"_sleuth_sigint", sigint_handler, METH_VARARGS, NULL};

/* The handler that `continue` replaced lives where pdb keeps it, on the
 * class: Pdb._previous_sigint_handler (None when there is none). pdb's
 * tests and users read it there. */
static PyObject *
prev_sigint_get(void)   /* new reference, or NULL (no exception) for none */
{
    PyObject *v = PyObject_GetAttrString((PyObject *)Sleuth_state()->PdbType, "_previous_sigint_handler");
    if (!v)
        PyErr_Clear();
    else if (v == Py_None)
        Py_CLEAR(v);
    return v;
}

static void
prev_sigint_set(PyObject *v)
{
    if (PyObject_SetAttrString((PyObject *)Sleuth_state()->PdbType, "_previous_sigint_handler",
                               v ? v : Py_None) < 0)
        PyErr_Clear();
}

/* Put the previous SIGINT handler back (at the prompt, and when done). */
int
Cmd_restore_sigint(void)
{
    PyObject *prev = prev_sigint_get();
    if (!prev)
        return 0;
    int truth = PyObject_IsTrue(prev);
    if (truth <= 0) {   /* pdb: `if Pdb._previous_sigint_handler:` */
        PyErr_Clear();
        Py_DECREF(prev);
        return 0;
    }
    PyObject *signal = PyImport_ImportModule("signal");
    PyObject *r = signal ? PyObject_CallMethod(signal, "signal", "iO", 2, prev) : NULL;
    Py_XDECREF(signal);
    Py_DECREF(prev);
    if (!r)
        PyErr_Clear();    /* not the main thread: leave it */
    else
        prev_sigint_set(NULL);
    Py_XDECREF(r);
    return 0;
}

static PyObject *
do_continue(PdbObject *self, PyObject *arg)
{
    CMD_NO_ARG(self, arg, "continue");
    if (!require_live(self))
        NOTHING();
    if (!self->nosigint) {
        ModState *st = Sleuth_state();
        PyObject *signal = PyImport_ImportModule("signal");
        PyObject *handler = PyCFunction_New(&sigint_def, NULL);
        PyObject *prev = signal && handler ? PyObject_CallMethod(signal, "signal", "iO", 2, handler) : NULL;
        if (prev) {
            /* Keep the first one: a second `continue` (no prompt between,
             * e.g. from a command list) must not save our own handler. */
            PyObject *had = prev_sigint_get();
            if (!had)
                prev_sigint_set(prev);
            Py_XDECREF(had);
            Py_XSETREF(st->sigint_pdb, Py_NewRef((PyObject *)self));
        }
        PyErr_Clear();   /* ValueError outside the main thread: go on without it */
        Py_XDECREF(prev);
        Py_XDECREF(signal);
        Py_XDECREF(handler);
    }
    Engine_set_continue(self);
    RESUME();
}

static PyObject *
do_jump(PdbObject *self, PyObject *arg)
{
    if (!require_live(self))
        NOTHING();
    if (self->curindex + 1 != PyList_GET_SIZE(self->stack)) {
        Pdb_errorf(self, "You can only jump within the bottom frame");
        NOTHING();
    }
    /* The exact int goes to f_lineno: a huge one gets the frame's own
     * "lineno out of range", as in pdb. */
    PyObject *lo = PyLong_FromUnicodeObject(arg, 10);
    if (!lo) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            return NULL;
        PyErr_Clear();
        Pdb_errorf(self, "The 'jump' command requires a line number");
        NOTHING();
    }
    if (Util_frame_jump(self->curframe, lo) < 0) {
        Py_DECREF(lo);
        if (!PyErr_ExceptionMatches(PyExc_ValueError))
            return NULL;
        PyObject *exc = PyErr_GetRaisedException();
        PyObject *s = PyObject_Str(exc);
        Py_DECREF(exc);
        if (!s)
            return NULL;
        Pdb_errorf(self, "Jump failed: %U", s);
        Py_DECREF(s);
        NOTHING();
    }
    PyObject *entry = PyTuple_Pack(2, self->curframe, lo);
    Py_DECREF(lo);
    if (!entry || PyList_SetItem(self->stack, self->curindex, entry) < 0)
        return NULL;
    if (Pdb_print_stack_entry(self, entry, NULL) < 0)
        return NULL;
    NOTHING();
}

static PyObject *
do_quit(PdbObject *self, PyObject *arg)
{
    SLEUTH_UNUSED(arg);
    self->user_requested_quit = 1;
    Engine_set_quit(self);
    RESUME();
}

static PyObject *
do_EOF(PdbObject *self, PyObject *arg)
{
    SLEUTH_UNUSED(arg);
    if (Pdb_messagef(self, "") < 0)
        return NULL;
    self->user_requested_quit = 1;
    Engine_set_quit(self);
    RESUME();
}

static PyObject *
do_run(PdbObject *self, PyObject *arg)
{
    if (self->readonly) {
        require_live(self);
        NOTHING();
    }
    if (PyUnicode_GET_LENGTH(arg) > 0) {
        PyObject *shlex = PyImport_ImportModule("shlex");
        if (!shlex)
            return NULL;
        PyObject *argv = PyObject_CallMethod(shlex, "split", "O", arg);
        Py_DECREF(shlex);
        if (!argv) {
            if (!PyErr_ExceptionMatches(PyExc_ValueError))
                return NULL;
            PyObject *exc = PyErr_GetRaisedException();
            Pdb_errorf(self, "Cannot run %U: %S", arg, exc);
            Py_DECREF(exc);
            NOTHING();
        }
        PyObject *old = PySys_GetObject("argv");
        if (old && PyList_Check(old) && PyList_GET_SIZE(old) > 0) {
            if (PyList_Insert(argv, 0, PyList_GET_ITEM(old, 0)) < 0) {
                Py_DECREF(argv);
                return NULL;
            }
        }
        int r = PySys_SetObject("argv", argv);
        Py_DECREF(argv);
        if (r < 0)
            return NULL;
    }
    /* Caught by the main loop of `sleuth script.py`. */
    PyErr_SetNone(Sleuth_state()->Restart);
    return NULL;
}

static PyObject *
do_debug(PdbObject *self, PyObject *arg)
{
    /* Owned */
    PyObject *globals = NULL, *p = NULL, *run = NULL, *sys = NULL, *r = NULL;
    ModState *st = Sleuth_state();
    int was_active = 0;

    if (!require_live(self))
        NOTHING();
    /* pdb: a new Pdb runs `arg` in the current frame's namespaces with
     * bdb.run, its prompt in parentheses; this debugger hears nothing
     * meanwhile (pdb's sys.settrace(None)), so nothing the nested session
     * does (its reset() reads linecache) stops at this prompt, and its `q`
     * ends the nested session only. */
    globals = curglobals(self);
    if (!globals)
        goto error;
    p = PyObject_CallFunction((PyObject *)st->PdbType, "OOO", self->completekey,
                              self->stdin_obj, self->stdout_obj);
    if (!p)
        goto error;
    PyObject *pr = PyObject_Str(self->prompt);
    PyObject *stripped = pr ? PyObject_CallMethod(pr, "strip", NULL) : NULL;
    Py_XDECREF(pr);
    if (!stripped)
        goto error;
    Py_XSETREF(((PdbObject *)p)->prompt, PyUnicode_FromFormat("(%U) ", stripped));
    Py_DECREF(stripped);
    if (!((PdbObject *)p)->prompt)
        goto error;
    ((PdbObject *)p)->use_rawinput = self->use_rawinput;
    if (Pdb_messagef(self, "ENTERING RECURSIVE DEBUGGER") < 0)
        goto error;
    was_active = Engine_is_active(self);
    if (was_active && Engine_detach() < 0)
        goto error;
    /* The prompt runs inside an event callback, where the interpreter
     * delivers no events; sys.call_tracing lifts that for the nested run,
     * as pdb does. */
    run = PyObject_GetAttrString(p, "run");
    sys = run ? PyImport_ImportModule("sys") : NULL;
    r = sys ? PyObject_CallMethod(sys, "call_tracing", "O(OOO)", run, arg, globals,
                                  self->curframe_locals ? self->curframe_locals : globals) : NULL;
    if (!r && PyErr_ExceptionMatches(PyExc_Exception) && Pdb_error_current_exc(self) < 0)
        goto error_reattach;
    if (!r && PyErr_Occurred())
        goto error_reattach;
    if (Pdb_messagef(self, "LEAVING RECURSIVE DEBUGGER") < 0)
        goto error_reattach;
    if (was_active && Engine_attach(self) < 0)
        goto error;
    if (((PdbObject *)p)->lastcmd)
        Py_XSETREF(self->lastcmd, Py_NewRef(((PdbObject *)p)->lastcmd));
    Py_DECREF(globals);
    Py_DECREF(p);
    Py_DECREF(run);
    Py_DECREF(sys);
    Py_XDECREF(r);
    NOTHING();
error_reattach:
    if (was_active) {
        PyObject *exc = PyErr_GetRaisedException();
        if (Engine_attach(self) < 0)
            PyErr_Clear();
        PyErr_SetRaisedException(exc);
    }
error:
    Py_XDECREF(globals);
    Py_XDECREF(p);
    Py_XDECREF(run);
    Py_XDECREF(sys);
    Py_XDECREF(r);
    return NULL;
}

/* --- stack ---------------------------------------------------------------- */

static PyObject *
do_where(PdbObject *self, PyObject *arg)
{
    /* 3.13.0 refuses an argument (a count came in 3.14); 3.11/3.12 ignore it. */
    CMD_NO_ARG(self, arg, "where");
    if (Render_stack_trace(self, -1) < 0)
        return NULL;
    NOTHING();
}

static PyObject *
select_frame(PdbObject *self, Py_ssize_t n)
{
    if (Pdb_set_convenience(self, self->curframe, "_frame", self->curframe) < 0)
        PyErr_Clear();
    if (Pdb_select_frame(self, n) < 0)
        return NULL;
    if (Pdb_set_convenience(self, self->curframe, "_frame", self->curframe) < 0)
        PyErr_Clear();
    if (Pdb_print_stack_entry(self, PyList_GET_ITEM(self->stack, self->curindex), NULL) < 0)
        return NULL;
    NOTHING();
}

static PyObject *
do_up(PdbObject *self, PyObject *arg)
{
    if (self->curindex == 0) {
        Pdb_errorf(self, "Oldest frame");
        NOTHING();
    }
    long count = 1;
    if (PyUnicode_GET_LENGTH(arg) > 0 && parse_int(arg, &count) < 0) {
        Pdb_errorf(self, "Invalid frame count (%U)", arg);
        NOTHING();
    }
    Py_ssize_t nf = count < 0 ? 0 : self->curindex - count;
    if (nf < 0)
        nf = 0;
    return select_frame(self, nf);
}

static PyObject *
do_down(PdbObject *self, PyObject *arg)
{
    Py_ssize_t n = PyList_GET_SIZE(self->stack);
    if (self->curindex + 1 == n) {
        Pdb_errorf(self, "Newest frame");
        NOTHING();
    }
    long count = 1;
    if (PyUnicode_GET_LENGTH(arg) > 0 && parse_int(arg, &count) < 0) {
        Pdb_errorf(self, "Invalid frame count (%U)", arg);
        NOTHING();
    }
    Py_ssize_t nf = count < 0 ? n - 1 : self->curindex + count;
    if (nf > n - 1)
        nf = n - 1;
    return select_frame(self, nf);
}

/* --- inspection ------------------------------------------------------------- */

static PyObject *
do_args(PdbObject *self, PyObject *arg)
{
    CMD_NO_ARG(self, arg, "args");
    PyObject *co = PyObject_GetAttrString(self->curframe, "f_code");
    if (!co)
        return NULL;
    PyObject *argc = PyObject_GetAttrString(co, "co_argcount");
    PyObject *kwc = PyObject_GetAttrString(co, "co_kwonlyargcount");
    PyObject *flags = PyObject_GetAttrString(co, "co_flags");
    PyObject *names = PyObject_GetAttrString(co, "co_varnames");
    Py_DECREF(co);
    PyObject *res = NULL;
    if (!argc || !kwc || !flags || !names)
        goto done;
    long n = PyLong_AsLong(argc) + PyLong_AsLong(kwc);
    long fl = PyLong_AsLong(flags);
    if (fl & CO_VARARGS)
        n++;
    if (fl & CO_VARKEYWORDS)
        n++;
    for (long i = 0; i < n && i < PySequence_Size(names); i++) {
        PyObject *name = PySequence_GetItem(names, i);
        if (!name)
            goto done;
        PyObject *v = PyObject_GetItem(self->curframe_locals, name);
        int r;
        if (v) {
            PyObject *rep = Cmd_safe_repr(self, v, name);
            Py_DECREF(v);
            r = rep ? Pdb_messagef(self, "%U = %U", name, rep) : -1;
            Py_XDECREF(rep);
        } else {
            PyErr_Clear();
            r = Pdb_messagef(self, "%U = *** undefined ***", name);
        }
        Py_DECREF(name);
        if (r < 0)
            goto done;
    }
    res = Py_NewRef(Py_None);
done:
    Py_XDECREF(argc);
    Py_XDECREF(kwc);
    Py_XDECREF(flags);
    Py_XDECREF(names);
    return res;
}

static PyObject *
do_retval(PdbObject *self, PyObject *arg)
{
    CMD_NO_ARG(self, arg, "retval");
    PyObject *v = PyObject_GetItem(self->curframe_locals, Sleuth_state()->str___return__);
    if (!v) {
        PyErr_Clear();
        Pdb_errorf(self, "Not yet returned!");
        NOTHING();
    }
    PyObject *rv = PyUnicode_FromString("retval");
    PyObject *rep = rv ? Cmd_safe_repr(self, v, rv) : NULL;
    Py_XDECREF(rv);
    Py_DECREF(v);
    if (!rep)
        return NULL;
    int r = Pdb_message(self, rep);
    Py_DECREF(rep);
    if (r < 0)
        return NULL;
    NOTHING();
}

static PyObject *
msg_val(PdbObject *self, PyObject *arg, int pretty)
{
    int failed;
    PyObject *val = Cmd_getval(self, arg, &failed);
    if (!val)
        return failed ? Py_NewRef(Py_None) : NULL;
    PyObject *text;
    if (pretty) {
        PyObject *pprint = PyImport_ImportModule("pprint");
        text = pprint ? PyObject_CallMethod(pprint, "pformat", "(O)", val) : NULL;
        Py_XDECREF(pprint);
        text = bounded(text);
    } else {
        text = bounded(PyObject_Repr(val));
    }
    Py_DECREF(val);
    if (!text) {
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
            return NULL;
        /* 3.12+: "*** ValueError: ..." ; 3.11 printed nothing, sleuth says why. */
        if (Pdb_error_current_exc(self) < 0)
            return NULL;
        NOTHING();
    }
    int r = Pdb_message(self, text);
    Py_DECREF(text);
    if (r < 0)
        return NULL;
    NOTHING();
}

static PyObject *
do_p(PdbObject *self, PyObject *arg)
{
    return msg_val(self, arg, 0);
}

static PyObject *
do_pp(PdbObject *self, PyObject *arg)
{
    return msg_val(self, arg, 1);
}

static PyObject *
do_whatis(PdbObject *self, PyObject *arg)
{
    int failed;
    PyObject *value = Cmd_getval(self, arg, &failed);
    if (!value)
        return failed ? Py_NewRef(Py_None) : NULL;
    PyObject *code = NULL, *res = NULL;
    if (self->readonly) {
        /* A saved value knows the type name it had in the program. */
        PyObject *tn = PyObject_GetAttrString(value, "__sleuth_type__");
        if (tn && PyUnicode_Check(tn)) {
            Pdb_messagef(self, "<class '%U'>", tn);
            Py_DECREF(tn);
            Py_DECREF(value);
            if (PyErr_Occurred())
                return NULL;
            Py_RETURN_NONE;
        }
        Py_XDECREF(tn);
        PyErr_Clear();
    }
    PyObject *func = PyObject_GetAttrString(value, "__func__");
    if (func) {
        code = PyObject_GetAttrString(func, "__code__");
        Py_DECREF(func);
    }
    PyErr_Clear();
    if (code) {
        PyObject *name = PyObject_GetAttrString(code, "co_name");
        if (name)
            Pdb_messagef(self, "Method %U", name);
        Py_XDECREF(name);
        goto done;
    }
    code = PyObject_GetAttrString(value, "__code__");
    PyErr_Clear();
    if (code) {
        PyObject *name = PyObject_GetAttrString(code, "co_name");
        if (name)
            Pdb_messagef(self, "Function %U", name);
        Py_XDECREF(name);
        goto done;
    }
    if ((PyObject *)Py_TYPE(value) == (PyObject *)&PyType_Type) {
        PyObject *mod = PyObject_GetAttrString(value, "__module__");
        PyObject *qn = mod ? PyObject_GetAttrString(value, "__qualname__") : NULL;
        if (qn)
            Pdb_messagef(self, "Class %S.%S", mod, qn);
        Py_XDECREF(mod);
        Py_XDECREF(qn);
        goto done;
    }
    Pdb_message(self, (PyObject *)Py_TYPE(value));
done:
    Py_XDECREF(code);
    Py_DECREF(value);
    if (PyErr_Occurred())
        return NULL;
    res = Py_NewRef(Py_None);
    return res;
}

static PyObject *
current_filename(PdbObject *self)
{
    PyObject *co = PyObject_GetAttrString(self->curframe, "f_code");
    PyObject *fn = co ? PyObject_GetAttrString(co, "co_filename") : NULL;
    Py_XDECREF(co);
    if (!fn)
        return NULL;
    /* gh-93696: frozen stdlib modules have a useful __file__ */
    if (starts_with(fn, "<frozen")) {
        PyObject *g = curglobals(self);
        if (g && PyDict_Check(g)) {
            PyObject *f = PyDict_GetItemString(g, "__file__");
            if (f && PyUnicode_Check(f))
                Py_SETREF(fn, Py_NewRef(f));
        }
        Py_XDECREF(g);
    }
    PyErr_Clear();
    return fn;
}

static PyObject *
do_list(PdbObject *self, PyObject *arg)
{
    Py_XSETREF(self->lastcmd, PyUnicode_FromString("list"));
    long first = 0, last = -1;
    int has_last = 0;
    int dot = PyUnicode_CompareWithASCIIString(arg, ".") == 0;
    if (PyUnicode_GET_LENGTH(arg) > 0 && !dot) {
        PyObject *comma = PyUnicode_FromString(",");
        int has_comma = PyUnicode_Contains(arg, comma);
        int bad = 0;
        if (has_comma > 0) {
            PyObject *parts = PyUnicode_Split(arg, comma, -1);
            if (!parts || PyList_GET_SIZE(parts) != 2 ||
                parse_int(PyList_GET_ITEM(parts, 0), &first) < 0 ||
                parse_int(PyList_GET_ITEM(parts, 1), &last) < 0)
                bad = 1;
            Py_XDECREF(parts);
            PyErr_Clear();
            if (!bad) {
                has_last = 1;
                if (last < first)
                    last = first + last;   /* assume it's a count */
            }
        } else {
            if (parse_int(arg, &first) < 0)
                bad = 1;
            else
                first = first - 5 > 1 ? first - 5 : 1;
        }
        Py_DECREF(comma);
        if (bad) {
            Pdb_errorf(self, "Error in argument: %R", arg);
            NOTHING();
        }
    } else if (self->lineno == Py_None || dot) {
        int cur = Pdb_frame_lineno(self->curframe);
        first = cur - 5 > 1 ? cur - 5 : 1;
    } else {
        first = PyLong_AsLong(self->lineno) + 1;
    }
    if (!has_last)
        last = first + 10;
    PyObject *filename = current_filename(self);
    if (!filename)
        return NULL;
    PyObject *breaks = Render_file_breaks(self, filename);
    PyObject *globals = breaks ? curglobals(self) : NULL;
    PyObject *lines = globals ? Render_getlines(filename, globals) : NULL;
    PyObject *res = NULL;
    if (lines) {
        Py_ssize_t n = PyList_GET_SIZE(lines);
        PyObject *slice = PyList_GetSlice(lines, first - 1 < 0 ? 0 : first - 1, last < 0 ? 0 : last);
        if (slice && Render_print_lines(self, slice, first, breaks, self->curframe) == 0) {
            Py_XSETREF(self->lineno, PyLong_FromLong(last < n ? last : (long)n));
            if (n < last)
                Pdb_messagef(self, "[EOF]");
            if (!PyErr_Occurred())
                res = Py_NewRef(Py_None);
        }
        Py_XDECREF(slice);
    }
    Py_XDECREF(filename);
    Py_XDECREF(breaks);
    Py_XDECREF(globals);
    Py_XDECREF(lines);
    if (!res && PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        PyErr_Clear();
        NOTHING();
    }
    return res;
}

/* inspect.getsourcelines(obj) with pdb's lineno = max(1, lineno); reports
 * OSError/TypeError as one `***` line (returns 0 with *lines NULL). */
static int
getsourcelines(PdbObject *self, PyObject *obj, PyObject **lines, long *lineno)
{
    *lines = NULL;
    PyObject *inspect = PyImport_ImportModule("inspect");
    if (!inspect)
        return -1;
    PyObject *r = PyObject_CallMethod(inspect, "getsourcelines", "O", obj);
    Py_DECREF(inspect);
    if (!r) {
        if (PyErr_ExceptionMatches(PyExc_OSError) || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyObject *exc = PyErr_GetRaisedException();
            Pdb_error_obj(self, exc);
            Py_DECREF(exc);
            return 0;
        }
        return -1;
    }
    *lines = Py_NewRef(PyTuple_GET_ITEM(r, 0));
    *lineno = PyLong_AsLong(PyTuple_GET_ITEM(r, 1));
    if (*lineno < 1)
        *lineno = 1;
    Py_DECREF(r);
    return 0;
}

/* A saved frame has no live code object: its source comes from linecache
 * (where the evidence loader put the stored lines), cut to the block that
 * starts at the code's first line, as inspect does. */
static int
snapshot_sourcelines(PdbObject *self, PyObject **lines, long *lineno)
{
    *lines = NULL;
    PyObject *code = PyObject_GetAttrString(self->curframe, "f_code");
    PyObject *fn = code ? PyObject_GetAttrString(code, "co_filename") : NULL;
    PyObject *first = code ? PyObject_GetAttrString(code, "co_firstlineno") : NULL;
    PyObject *name = code ? PyObject_GetAttrString(code, "co_name") : NULL;
    PyObject *globals = PyObject_GetAttrString(self->curframe, "f_globals");
    PyObject *all = fn && globals ? Render_getlines(fn, globals) : NULL;
    int rc = -1;
    if (!all || !first || !name)
        goto done;
    if (PyList_GET_SIZE(all) == 0) {
        Pdb_errorf(self, "could not get source code");
        rc = 0;
        goto done;
    }
    long f = PyLong_AsLong(first);
    if (f < 1 || PyUnicode_CompareWithASCIIString(name, "<module>") == 0) {
        *lines = Py_NewRef(all);
        *lineno = 1;
        rc = 0;
        goto done;
    }
    PyObject *tail = PyList_GetSlice(all, f - 1, PY_SSIZE_T_MAX);
    PyObject *inspect = tail ? PyImport_ImportModule("inspect") : NULL;
    *lines = inspect ? PyObject_CallMethod(inspect, "getblock", "O", tail) : NULL;
    Py_XDECREF(inspect);
    Py_XDECREF(tail);
    if (!*lines) {
        PyErr_Clear();
        Pdb_errorf(self, "could not get source code");
    }
    *lineno = f;
    rc = 0;
done:
    if (rc < 0 && PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        Pdb_error_current_exc(self);
        rc = 0;
    }
    Py_XDECREF(code);
    Py_XDECREF(fn);
    Py_XDECREF(first);
    Py_XDECREF(name);
    Py_XDECREF(globals);
    Py_XDECREF(all);
    return rc;
}

static PyObject *
do_longlist(PdbObject *self, PyObject *arg)
{
    CMD_NO_ARG(self, arg, "longlist");
    PyObject *filename = current_filename(self);
    if (!filename)
        return NULL;
    PyObject *breaks = Render_file_breaks(self, filename);
    Py_DECREF(filename);
    if (!breaks)
        return NULL;
    PyObject *lines;
    long lineno;
    int r;
    if (PyFrame_Check(self->curframe))
        r = getsourcelines(self, self->curframe, &lines, &lineno);
    else
        r = snapshot_sourcelines(self, &lines, &lineno);
    if (r == 0 && lines)
        r = Render_print_lines(self, lines, lineno, breaks, self->curframe);
    Py_XDECREF(lines);
    Py_DECREF(breaks);
    if (r < 0)
        return NULL;
    NOTHING();
}

static PyObject *
do_source(PdbObject *self, PyObject *arg)
{
    int failed;
    PyObject *obj = Cmd_getval(self, arg, &failed);
    if (!obj)
        return failed ? Py_NewRef(Py_None) : NULL;
    PyObject *lines;
    long lineno;
    int r = getsourcelines(self, obj, &lines, &lineno);
    Py_DECREF(obj);
    if (r == 0 && lines) {
        PyObject *empty = PyTuple_New(0);
        r = empty ? Render_print_lines(self, lines, lineno, empty, NULL) : -1;
        Py_XDECREF(empty);
    }
    Py_XDECREF(lines);
    if (r < 0)
        return NULL;
    NOTHING();
}

static PyObject *
do_display(PdbObject *self, PyObject *arg)
{
    if (PyUnicode_GET_LENGTH(arg) == 0) {
#if SLEUTH_PY311
        Pdb_messagef(self, "Currently displaying:");
#else
        if (PyDict_GET_SIZE(self->displaying) == 0) {
            Pdb_messagef(self, "No expression is being displayed");
            NOTHING();
        }
        Pdb_messagef(self, "Currently displaying:");
#endif
        PyObject *disp = PyDict_GetItemWithError(self->displaying, self->curframe);
        if (disp) {
            PyObject *items = PyDict_Items(disp);
            for (Py_ssize_t i = 0; items && i < PyList_GET_SIZE(items); i++) {
                PyObject *k = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 0);
                PyObject *v = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
                PyObject *rep = display_repr(self, v, k);
                if (rep)
                    Pdb_messagef(self, "%U: %U", k, rep);
                Py_XDECREF(rep);
            }
            Py_XDECREF(items);
        }
        if (PyErr_Occurred())
            return NULL;
        NOTHING();
    }
#if !SLEUTH_PY311
    PyObject *err = Breakpoint_compile_error(arg);
    if (err) {
        Pdb_errorf(self, "Unable to display %U: %U", arg, err);
        Py_DECREF(err);
        NOTHING();
    }
#endif
    PyObject *val = getval_except(self, arg);
    if (!val)
        return NULL;
    PyObject *disp = PyDict_GetItemWithError(self->displaying, self->curframe);
    if (!disp) {
        if (PyErr_Occurred()) {
            Py_DECREF(val);
            return NULL;
        }
        disp = PyDict_New();
        if (!disp || PyDict_SetItem(self->displaying, self->curframe, disp) < 0) {
            Py_XDECREF(disp);
            Py_DECREF(val);
            return NULL;
        }
        Py_DECREF(disp);
    }
    if (PyDict_SetItem(disp, arg, val) < 0) {
        Py_DECREF(val);
        return NULL;
    }
    PyObject *rep = display_repr(self, val, arg);
    Py_DECREF(val);
    if (!rep)
        return NULL;
    Pdb_messagef(self, "display %U: %U", arg, rep);
    Py_DECREF(rep);
    if (PyErr_Occurred())
        return NULL;
    NOTHING();
}

static PyObject *
do_undisplay(PdbObject *self, PyObject *arg)
{
    PyObject *disp = PyDict_GetItemWithError(self->displaying, self->curframe);
    if (PyUnicode_GET_LENGTH(arg) > 0) {
        if (!disp || PyDict_DelItem(disp, arg) < 0) {
            PyErr_Clear();
            Pdb_errorf(self, "not displaying %U", arg);
        }
    } else if (disp) {
        if (PyDict_DelItem(self->displaying, self->curframe) < 0)
            return NULL;
    }
    PyErr_Clear();
    NOTHING();
}

#if SLEUTH_PY313
/* 3.13's console writes (prompts' echo aside: banners, tracebacks) go to
 * pdb's stdout, not stderr. */
static PyObject *
interact_write(PyObject *self, PyObject *data)
{
    if (Pdb_write((PdbObject *)self, data) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef interact_write_def = {"write", interact_write, METH_O, NULL};
#else
/* exit() / quit() inside the console: site's versions close sys.stdin
 * first, which ends the debugger's session too. These only leave the
 * console, as 3.13's pdb does. */
static PyObject *
console_exit(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    SLEUTH_UNUSED(self);
    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "exit() takes at most 1 argument (%zd given)", nargs);
        return NULL;
    }
    PyErr_SetObject(PyExc_SystemExit, nargs ? args[0] : Py_None);
    return NULL;
}

/* A read-only session's console (an evidence file's values): what it
 * writes to stderr (tracebacks quoting the file's names) shown escaped. */
static PyObject *
console_write_escaped(PyObject *self, PyObject *data)
{
    SLEUTH_UNUSED(self);
    PyObject *safe = PyUnicode_Check(data) ? TermSafe_escape(data) : PyObject_Str(data);
    PyObject *err = PySys_GetObject("stderr");      /* borrowed */
    int rc = safe && err && err != Py_None ? PyFile_WriteObject(safe, err, Py_PRINT_RAW) : 0;
    Py_XDECREF(safe);
    if (!safe || rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef console_write_def = {"write", console_write_escaped, METH_O, NULL};

static PyMethodDef console_exit_defs[] = {
    {"exit", (PyCFunction)(void (*)(void))console_exit, METH_FASTCALL, NULL},
    {"quit", (PyCFunction)(void (*)(void))console_exit, METH_FASTCALL, NULL},
};
#endif

static PyMethodDef displayhook_def;    /* below, with the `!` statements */

/* interact: a console on a copy of the frame's globals and locals. 3.11 and
 * 3.12 use code.interact("*interactive*"); 3.13 a console whose output goes
 * to pdb's stdout, with its own banner and exit message, where exit() ends
 * only the console. sleuth also keeps a SystemExit from the console in the
 * debugger on every version: the program being debugged goes on. */
static PyObject *
do_interact(PdbObject *self, PyObject *arg)
{
    SLEUTH_UNUSED(arg);
    /* Owned */
    PyObject *g = NULL, *ns = NULL, *code = NULL, *r = NULL, *save_hook = NULL;

    g = curglobals(self);
    if (!g)
        return NULL;
    ns = PyDict_Copy(g);
    if (!ns || PyDict_Update(ns, self->curframe_locals) < 0)
        goto done;
    code = PyImport_ImportModule("code");
    if (!code)
        goto done;
    if (self->readonly) {
        /* Values of an evidence file: the console shows their reprs through
         * the session's output, which escapes them. */
        save_hook = Py_XNewRef(PySys_GetObject("displayhook"));
        PyObject *hook = PyCFunction_New(&displayhook_def, (PyObject *)self);
        if (!hook || PySys_SetObject("displayhook", hook) < 0) {
            Py_XDECREF(hook);
            goto done;
        }
        Py_DECREF(hook);
    }
#if SLEUTH_PY313
    {
        PyObject *cls = PyObject_GetAttrString(code, "InteractiveConsole");
        PyObject *kw = Py_BuildValue("{s:O,s:O}", "locals", ns, "local_exit", Py_True);
        PyObject *empty = PyTuple_New(0);
        PyObject *console = cls && kw && empty ? PyObject_Call(cls, empty, kw) : NULL;
        PyObject *w = console ? PyCFunction_New(&interact_write_def, (PyObject *)self) : NULL;
        if (w && PyObject_SetAttrString(console, "write", w) == 0)
            r = PyObject_CallMethod(console, "interact", "ss", "*pdb interact start*",
                                    "*exit from pdb interact command*");
        Py_XDECREF(w);
        Py_XDECREF(console);
        Py_XDECREF(empty);
        Py_XDECREF(kw);
        Py_XDECREF(cls);
    }
#else
    for (int i = 0; i < 2; i++) {
        /* Only where the name would reach the builtin: the program's own
         * exit or quit stays as it is. */
        PyObject *f = NULL;
        const char *name = console_exit_defs[i].ml_name;
        int has = PyDict_GetItemStringRef(ns, name, &f);
        Py_XDECREF(f);
        if (has < 0)
            goto done;
        if (has)
            continue;
        f = PyCFunction_New(&console_exit_defs[i], NULL);
        if (!f || PyDict_SetItemString(ns, name, f) < 0) {
            Py_XDECREF(f);
            goto done;
        }
        Py_DECREF(f);
    }
    if (self->readonly) {
        PyObject *console = PyObject_CallMethod(code, "InteractiveConsole", "O", ns);
        PyObject *w = console ? PyCFunction_New(&console_write_def, NULL) : NULL;
        if (w && PyObject_SetAttrString(console, "write", w) == 0)
            r = PyObject_CallMethod(console, "interact", "sO", "*interactive*", Py_None);
        Py_XDECREF(w);
        Py_XDECREF(console);
    }
    else
        r = PyObject_CallMethod(code, "interact", "sOOO", "*interactive*", Py_None, ns, Py_None);
#endif
done:
    if (save_hook) {
        PyObject *exc = PyErr_GetRaisedException();
        PySys_SetObject("displayhook", save_hook);
        Py_DECREF(save_hook);
        PyErr_SetRaisedException(exc);
    }
    Py_XDECREF(code);
    Py_XDECREF(ns);
    Py_DECREF(g);
    if (!r) {
        if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
            PyErr_Clear();
            NOTHING();
        }
        return NULL;
    }
    Py_DECREF(r);
    NOTHING();
}

static PyObject *
do_alias(PdbObject *self, PyObject *arg)
{
    PyObject *args = PyUnicode_Split(arg, NULL, -1);
    if (!args)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(args);
    PyObject *res = NULL;
    if (n == 0) {
        PyObject *keys = PyDict_Keys(self->aliases);
        if (!keys || PyList_Sort(keys) < 0) {
            Py_XDECREF(keys);
            goto done;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keys); i++) {
            PyObject *k = PyList_GET_ITEM(keys, i);
            Pdb_messagef(self, "%U = %U", k, PyDict_GetItem(self->aliases, k));
        }
        Py_DECREF(keys);
    } else if (n == 1) {
        PyObject *v = PyDict_GetItemWithError(self->aliases, PyList_GET_ITEM(args, 0));
        if (v)
            Pdb_messagef(self, "%U = %U", PyList_GET_ITEM(args, 0), v);
        else if (!PyErr_Occurred())
            Pdb_errorf(self, "Unknown alias '%U'", PyList_GET_ITEM(args, 0));
    } else {
        PyObject *rest = PyList_GetSlice(args, 1, n);
        PyObject *sp = PyUnicode_FromString(" ");
        PyObject *joined = rest && sp ? PyUnicode_Join(sp, rest) : NULL;
        Py_XDECREF(rest);
        Py_XDECREF(sp);
#if SLEUTH_PY313
        /* Without %*, the %N must run 1, 2, 3... with no gap. */
        PyObject *star = joined ? PyUnicode_FromString("%*") : NULL;
        int has_star = star ? PyUnicode_Contains(joined, star) : -1;
        Py_XDECREF(star);
        int gap = 0, bad = has_star < 0;
        for (int idx = 1; idx < 10 && !has_star && !bad; idx++) {
            PyObject *p = PyUnicode_FromFormat("%%%d", idx);
            int has = p ? PyUnicode_Contains(joined, p) : -1;
            Py_XDECREF(p);
            if (has < 0) {
                bad = 1;
            } else if (!has) {
                gap = 1;
            } else if (gap) {
                Py_DECREF(joined);
                Pdb_errorf(self, "Replaceable parameters must be consecutive");
                goto done_ok;
            }
        }
        if (bad)
            Py_CLEAR(joined);
#endif
        if (!joined || PyDict_SetItem(self->aliases, PyList_GET_ITEM(args, 0), joined) < 0) {
            Py_XDECREF(joined);
            goto done;
        }
        Py_DECREF(joined);
    }
#if SLEUTH_PY313
done_ok:
#endif
    if (!PyErr_Occurred())
        res = Py_NewRef(Py_None);
done:
    Py_DECREF(args);
    return res;
}

static PyObject *
do_unalias(PdbObject *self, PyObject *arg)
{
    PyObject *args = PyUnicode_Split(arg, NULL, -1);
    if (!args)
        return NULL;
    if (PyList_GET_SIZE(args) == 0) {
        Py_DECREF(args);
        /* 3.13 shows the usage; older pdbs say nothing. */
#if SLEUTH_PY313
        if (Cmd_invalid_arg(self, arg, "unalias") < 0)
            return NULL;
#endif
        NOTHING();
    }
    PyObject *k = PyList_GET_ITEM(args, 0);
    if (PyDict_Contains(self->aliases, k) == 1)
        PyDict_DelItem(self->aliases, k);
    Py_DECREF(args);
    if (PyErr_Occurred())
        return NULL;
    NOTHING();
}

/* exceptions [number]: walk a chained exception (3.13's command, offered on
 * every version). */
static PyObject *
do_exceptions(PdbObject *self, PyObject *arg)
{
    Py_ssize_t n = PyTuple_GET_SIZE(self->chained_exceptions);
    if (n == 0) {
        Pdb_messagef(self, "Did not find chained exceptions. To move between exceptions, pdb/post_mortem must be given an exception object rather than a traceback.");
        NOTHING();
    }
    if (PyUnicode_GET_LENGTH(arg) == 0) {
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *exc = PyTuple_GET_ITEM(self->chained_exceptions, i);
            PyObject *rep = PyObject_Repr(exc);
            if (!rep) {
                PyErr_Clear();
                rep = PyUnicode_FromFormat("<%s object (repr failed)>", Py_TYPE(exc)->tp_name);
                if (!rep)
                    return NULL;
            }
            if (PyUnicode_GET_LENGTH(rep) > 80) {
                PyObject *head = PyUnicode_Substring(rep, 0, 77);
                Py_SETREF(rep, head ? PyUnicode_FromFormat("%U...", head) : NULL);
                Py_XDECREF(head);
                if (!rep)
                    return NULL;
            }
            PyObject *tb = PyObject_GetAttrString(exc, "__traceback__");
            if (!tb)
                PyErr_Clear();
            else if (tb == Py_None)
                Py_CLEAR(tb);
            char indicator[32];
            if (tb)
                snprintf(indicator, sizeof indicator, "%3zd", i);
            else
                snprintf(indicator, sizeof indicator, "  -");
            Py_XDECREF(tb);
            const char *prompt = i == self->chained_exception_index ? ">" : " ";
            int r = Pdb_messagef(self, "%s %s %U", prompt, indicator, rep);
            Py_DECREF(rep);
            if (r < 0)
                return NULL;
        }
        NOTHING();
    }
    long number;
    if (parse_int(arg, &number) < 0) {
        Pdb_errorf(self, "Argument must be an integer");
        NOTHING();
    }
    if (number < 0 || number >= n) {
        Pdb_errorf(self, "No exception with that number");
        NOTHING();
    }
    self->chained_exception_index = number;
    PyObject *exc = PyTuple_GET_ITEM(self->chained_exceptions, number);
    PyObject *tb = PyObject_GetAttrString(exc, "__traceback__");
    if (!tb)
        PyErr_Clear();
    else if (tb == Py_None)
        Py_CLEAR(tb);
    if (!tb) {
        Pdb_errorf(self, "This exception does not have a traceback, cannot jump to it");
        NOTHING();
    }
    PyObject *r = PyObject_CallMethod((PyObject *)self, "setup", "OO", Py_None, tb);
    Py_DECREF(tb);
    if (!r)
        return NULL;
    Py_DECREF(r);
    if (Pdb_set_convenience(self, self->curframe, "_exception", exc) < 0)
        PyErr_Clear();
    if (Pdb_print_stack_entry(self, PyList_GET_ITEM(self->stack, self->curindex), NULL) < 0)
        return NULL;
    NOTHING();
}

/* `env`: sleuth's own command for evidence sessions — the environment the
 * file recorded. */
static PyObject *
do_env(PdbObject *self, PyObject *arg)
{
    SLEUTH_UNUSED(arg);
    if (!self->snapshot_env) {
        Pdb_errorf(self, "No recorded environment: this is a live session (see os.environ, sys.version).");
        NOTHING();
    }
    PyObject *pprint = PyImport_ImportModule("pprint");
    PyObject *text = pprint ? PyObject_CallMethod(pprint, "pformat", "O", self->snapshot_env) : NULL;
    Py_XDECREF(pprint);
    if (!text)
        return NULL;
    Pdb_message(self, text);
    Py_DECREF(text);
    if (PyErr_Occurred())
        return NULL;
    NOTHING();
}

/* --- statements ------------------------------------------------------------- */

static PyObject *
displayhook(PyObject *pdb, PyObject *obj)
{
    if (obj != Py_None) {
        PyObject *r = bounded(PyObject_Repr(obj));
        if (!r)
            return NULL;
        int rc = Pdb_message((PdbObject *)pdb, r);
        Py_DECREF(r);
        if (rc < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef displayhook_def = {"displayhook", (PyCFunction)displayhook, METH_O, NULL};

#if SLEUTH_PY313
/* One continuation line of a multi-line statement (3.13): 1 with *out set,
 * 0 when input ended (pdb then forgets the last command and prints a
 * newline), -1 on error. */
static int
read_continuation(PdbObject *self, PyObject **out)
{
    static const char *prompt = "...   ";
    *out = NULL;
    if (self->use_rawinput) {
        PyObject *input = PyDict_GetItemString(PyEval_GetBuiltins(), "input");   /* borrowed */
        if (!input) {
            PyErr_SetString(PyExc_RuntimeError, "input() is missing");
            return -1;
        }
        *out = PyObject_CallFunction(input, "s", prompt);
        if (*out)
            return 1;
        if (!PyErr_ExceptionMatches(PyExc_EOFError) && !PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
            return -1;
        PyErr_Clear();
        /* pdb prints this one with print(): sys.stdout, not self.stdout */
        PyObject *so = PySys_GetObject("stdout");   /* borrowed */
        if (so && so != Py_None) {
            PyObject *r = PyObject_CallMethod(so, "write", "s", "\n\n");
            if (!r)
                return -1;
            Py_DECREF(r);
        }
    } else {
        PyObject *r = PyObject_CallMethod(self->stdout_obj, "write", "s", prompt);
        Py_XDECREF(r);
        r = r ? PyObject_CallMethod(self->stdout_obj, "flush", NULL) : NULL;
        Py_XDECREF(r);
        if (!r)
            return -1;
        PyObject *l = PyObject_CallMethod(self->stdin_obj, "readline", NULL);
        if (!l)
            return -1;
        if (!PyUnicode_Check(l)) {
            Py_DECREF(l);
            PyErr_SetString(PyExc_TypeError, "stdin.readline() must return str");
            return -1;
        }
        if (PyUnicode_GET_LENGTH(l) > 0) {
            *out = PyObject_CallMethod(l, "rstrip", "s", "\r\n");
            Py_DECREF(l);
            return *out ? 1 : -1;
        }
        Py_DECREF(l);
        r = PyObject_CallMethod(self->stdout_obj, "write", "s", "\n");
        Py_XDECREF(r);
        r = r ? PyObject_CallMethod(self->stdout_obj, "flush", NULL) : NULL;
        Py_XDECREF(r);
        if (!r)
            return -1;
    }
    Py_XSETREF(self->lastcmd, PyUnicode_FromString(""));
    return self->lastcmd ? 0 : -1;
}

/* 3.13's statement reading: codeop decides whether the statement is
 * complete; while it is not, more lines are read with the "...   " prompt.
 * 1 with *code and *buffer (the whole source) set, 0 when input ended
 * first, -1 with an exception set (a SyntaxError is the user's). */
static int
read_statement(PdbObject *self, PyObject *line, PyObject **buffer, PyObject **code)
{
    *buffer = *code = NULL;
    PyObject *saved_names = NULL;   /* the instance's own completenames, if any */
    int swapped = 0;
    PyObject *codeop = PyImport_ImportModule("codeop");
    if (!codeop)
        return -1;
    PyObject *compile_command = PyObject_GetAttrString(codeop, "compile_command");
    Py_DECREF(codeop);
    if (!compile_command)
        return -1;
    int rc = -1;
    PyObject *first = PyUnicode_FromFormat("%U\n", line);
    PyObject *c = first ? PyObject_CallFunction(compile_command, "Oss", first, "<stdin>", "single") : NULL;
    Py_XDECREF(first);
    if (!c)
        goto done;
    PyObject *buf = Py_NewRef(line);
    /* While "...   " lines are read, Tab completes names, not commands:
     * pdb makes self.completenames self.completedefault for that time. */
    if (c == Py_None) {
        PyObject *cd = PyObject_GetAttrString((PyObject *)self, "completedefault");
        if (cd) {
            saved_names = self->dict ? PyDict_GetItemString(self->dict, "completenames") : NULL;
            Py_XINCREF(saved_names);
            swapped = PyObject_SetAttrString((PyObject *)self, "completenames", cd) == 0;
            Py_DECREF(cd);
        }
        if (!swapped)
            PyErr_Clear();      /* no completion change; the statement still reads */
    }
    while (c == Py_None) {
        Py_DECREF(c);
        c = PyObject_CallFunction(compile_command, "Oss", buf, "<stdin>", "single");
        if (!c)
            break;
        if (c != Py_None)
            break;
        PyObject *more;
        int got = read_continuation(self, &more);
        if (got <= 0) {
            Py_CLEAR(c);
            Py_DECREF(buf);
            rc = got;
            goto done;
        }
        PyObject *joined = PyUnicode_FromFormat("%U\n%U", buf, more);
        Py_DECREF(more);
        Py_SETREF(buf, joined);
        if (!buf) {
            Py_CLEAR(c);
            goto done;
        }
    }
    if (!c) {
        Py_DECREF(buf);
        goto done;
    }
    *buffer = buf;
    *code = c;
    rc = 1;
done:
    if (swapped) {
        PyObject *exc = PyErr_GetRaisedException();
        int r = saved_names ? PyObject_SetAttrString((PyObject *)self, "completenames", saved_names)
                            : PyObject_DelAttrString((PyObject *)self, "completenames");
        (void)r;
        PyErr_Clear();
        PyErr_SetRaisedException(exc);
    }
    Py_XDECREF(saved_names);
    Py_DECREF(compile_command);
    return rc;
}

/* textwrap.indent(text, prefix) */
static PyObject *
indent(PyObject *text, const char *prefix)
{
    PyObject *textwrap = PyImport_ImportModule("textwrap");
    if (!textwrap)
        return NULL;
    PyObject *r = PyObject_CallMethod(textwrap, "indent", "Os", text, prefix);
    Py_DECREF(textwrap);
    return r;
}

/* pdb._exec_in_closure (3.13): a statement that creates code objects
 * (lambdas, comprehensions, nested defs) runs as the body of a function
 * whose free variables are cells holding a copy of the frame's locals, so
 * that the inner code can see them; assignments are written back after.
 * 1 when it ran, 0 when the caller must exec the plain way (no inner code,
 * or the closure could not be built or raised: pdb then runs it again the
 * plain way, and so does sleuth), -1 on an error of sleuth's own. */
static int
exec_in_closure(PyObject *source, PyObject *globals, PyObject *locals)
{
    /* Owned */
    PyObject *code = NULL, *lcopy = NULL, *pdb_eval = NULL, *write_back = NULL, *src = NULL;
    PyObject *outer_src = NULL, *ns = NULL, *inner = NULL, *cells = NULL, *r = NULL;
    int rc = -1;

    PyObject *compile = PyDict_GetItemString(PyEval_GetBuiltins(), "compile");   /* borrowed */
    if (!compile) {
        PyErr_SetString(PyExc_RuntimeError, "builtins.compile is missing");
        return -1;
    }
    code = PyObject_CallFunction(compile, "Oss", source, "<string>", "exec");
    if (!code)
        return -1;
    int nested = 0;
    PyObject *consts = ((PyCodeObject *)code)->co_consts;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(consts) && !nested; i++)
        nested = PyCode_Check(PyTuple_GET_ITEM(consts, i));
    if (!nested) {
        rc = 0;
        goto done;
    }
    lcopy = PyDict_New();
    if (!lcopy || PyDict_Merge(lcopy, locals, 1) < 0)
        goto done;
    pdb_eval = Py_BuildValue("{s:O,s:N}", "result", Py_None, "write_back", PyDict_New());
    if (!pdb_eval || PyDict_SetItemString(lcopy, "__pdb_eval__", pdb_eval) < 0)
        goto done;
    /* An expression's value is kept to be printed. */
    PyObject *as_eval = PyObject_CallFunction(compile, "Oss", source, "<string>", "eval");
    if (as_eval) {
        Py_DECREF(as_eval);
        src = PyUnicode_FromFormat("__pdb_eval__['result'] = %U", source);
    } else if (PyErr_ExceptionMatches(PyExc_SyntaxError)) {
        PyErr_Clear();
        src = Py_NewRef(source);
    }
    if (!src)
        goto done;
    PyObject *body = indent(src, "  ");
    Py_SETREF(src, body ? PyUnicode_FromFormat("try:\n%U\nfinally:\n  __pdb_eval__['write_back'] = locals()", body)
                        : NULL);
    Py_XDECREF(body);
    if (!src)
        goto done;
    /* def __pdb_outer():
     *   <each local> = None
     *   def __pdb_scope():
     *     nonlocal <each local>
     *     <source>
     *   return __pdb_scope.__code__ */
    {
        PyObject *parts = PyList_New(0), *keys = PyDict_Keys(lcopy);
        PyObject *scope_body = indent(src, "    ");
        int ok = parts && keys && scope_body;
        PyObject *t = ok ? PyUnicode_FromString("def __pdb_outer():") : NULL;
        ok = t && PyList_Append(parts, t) == 0;
        Py_XDECREF(t);
        for (Py_ssize_t i = 0; ok && i < PyList_GET_SIZE(keys); i++) {
            t = PyUnicode_FromFormat("  %S = None", PyList_GET_ITEM(keys, i));
            ok = t && PyList_Append(parts, t) == 0;
            Py_XDECREF(t);
        }
        t = ok ? PyUnicode_FromString("  def __pdb_scope():") : NULL;
        ok = t && PyList_Append(parts, t) == 0;
        Py_XDECREF(t);
        for (Py_ssize_t i = 0; ok && i < PyList_GET_SIZE(keys); i++) {
            t = PyUnicode_FromFormat("    nonlocal %S", PyList_GET_ITEM(keys, i));
            ok = t && PyList_Append(parts, t) == 0;
            Py_XDECREF(t);
        }
        ok = ok && PyList_Append(parts, scope_body) == 0;
        t = ok ? PyUnicode_FromString("  return __pdb_scope.__code__") : NULL;
        ok = t && PyList_Append(parts, t) == 0;
        Py_XDECREF(t);
        PyObject *nl = ok ? PyUnicode_FromString("\n") : NULL;
        outer_src = nl ? PyUnicode_Join(nl, parts) : NULL;
        Py_XDECREF(nl);
        Py_XDECREF(parts);
        Py_XDECREF(keys);
        Py_XDECREF(scope_body);
        if (!outer_src)
            goto done;
    }
    ns = PyDict_New();
    PyObject *empty = ns ? PyDict_New() : NULL;
    PyObject *outer_code = empty ? PyObject_CallFunction(compile, "Oss", outer_src, "<string>", "exec") : NULL;
    r = outer_code ? PyEval_EvalCode(outer_code, empty, ns) : NULL;
    Py_XDECREF(outer_code);
    Py_XDECREF(empty);
    if (!r) {
        if (!ns || !PyErr_ExceptionMatches(PyExc_Exception))
            goto done;
        PyErr_Clear();
        rc = 0;
        goto done;
    }
    Py_CLEAR(r);
    PyObject *outer = PyDict_GetItemString(ns, "__pdb_outer");   /* borrowed */
    inner = outer ? PyObject_CallNoArgs(outer) : NULL;
    if (!inner) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "__pdb_outer is missing");
        goto done;
    }
    if (!PyCode_Check(inner)) {
        PyErr_SetString(PyExc_TypeError, "__pdb_outer() did not return a code object");
        goto done;
    }
    PyObject *freevars = PyCode_GetFreevars((PyCodeObject *)inner);
    if (!freevars)
        goto done;
    cells = PyTuple_New(PyTuple_GET_SIZE(freevars));
    for (Py_ssize_t i = 0; cells && i < PyTuple_GET_SIZE(freevars); i++) {
        PyObject *v = PyDict_GetItemWithError(lcopy, PyTuple_GET_ITEM(freevars, i));   /* borrowed */
        PyObject *cell = v || !PyErr_Occurred() ? PyCell_New(v) : NULL;
        if (!cell)
            Py_CLEAR(cells);
        else
            PyTuple_SET_ITEM(cells, i, cell);
    }
    Py_DECREF(freevars);
    if (!cells)
        goto done;
    r = PyEval_EvalCodeEx(inner, globals, lcopy, NULL, 0, NULL, 0, NULL, 0, NULL, cells);
    if (!r) {
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            goto done;
        PyErr_Clear();
        rc = 0;
        goto done;
    }
    Py_CLEAR(r);
    /* The statement ran: write its locals back, print an expression's value. */
    /* pdb_eval is the dict the cells shared (locals_copy's entry). */
    write_back = PyDict_GetItemString(pdb_eval, "write_back");   /* borrowed, then owned */
    if (!write_back) {
        PyErr_SetString(PyExc_KeyError, "write_back");
        goto done;
    }
    Py_INCREF(write_back);
    r = PyObject_CallMethod(write_back, "pop", "s", "__pdb_eval__");
    if (!r)
        goto done;
    Py_CLEAR(r);
    r = PyObject_CallMethod(locals, "update", "O", write_back);
    if (!r)
        goto done;
    Py_CLEAR(r);
    PyObject *result = PyDict_GetItemString(pdb_eval, "result");   /* borrowed */
    if (result && result != Py_None) {
        /* print(repr(result)): sys.stdout is the debugger's here */
        PyObject *rep = PyObject_Repr(result);
        PyObject *text = rep ? PyUnicode_FromFormat("%U\n", rep) : NULL;
        Py_XDECREF(rep);
        PyObject *out = PySys_GetObject("stdout");   /* borrowed */
        r = text && out ? PyObject_CallMethod(out, "write", "O", text) : NULL;
        Py_XDECREF(text);
        if (!r)
            goto done;
        Py_CLEAR(r);
    }
    rc = 1;
done:
    Py_XDECREF(code);
    Py_XDECREF(lcopy);
    Py_XDECREF(pdb_eval);
    Py_XDECREF(write_back);
    Py_XDECREF(src);
    Py_XDECREF(outer_src);
    Py_XDECREF(ns);
    Py_XDECREF(inner);
    Py_XDECREF(cells);
    Py_XDECREF(r);
    return rc;
}
#endif

PyObject *
Pdb_default(PdbObject *self, PyObject *line)
{
    /* Owned */
    PyObject *stmt = NULL, *src = NULL, *code = NULL, *globals = NULL, *hook = NULL;
    PyObject *save_out = NULL, *save_in = NULL, *save_hook = NULL, *r = NULL;

    if (PyUnicode_GET_LENGTH(line) > 0 && PyUnicode_READ_CHAR(line, 0) == '!') {
        PyObject *rest = PyUnicode_Substring(line, 1, PY_SSIZE_T_MAX);
        stmt = rest ? PyObject_CallMethod(rest, "strip", NULL) : NULL;
        Py_XDECREF(rest);
    } else {
        stmt = Py_NewRef(line);
    }
    if (!stmt)
        return NULL;
    if (self->readonly) {
        /* Evidence sessions: expressions are evaluated on the saved values;
         * statements (assignments, imports...) need a running program. */
        PyObject *compile = PyDict_GetItemString(PyEval_GetBuiltins(), "compile");
        PyObject *as_expr = PyObject_CallFunction(compile, "Oss", stmt, "<stdin>", "eval");
        if (!as_expr) {
            PyErr_Clear();
            PyObject *as_stmt = PyObject_CallFunction(compile, "Oss", stmt, "<stdin>", "single");
            if (as_stmt) {
                Py_DECREF(as_stmt);
                Py_DECREF(stmt);
                require_live(self);
                Py_RETURN_NONE;
            }
            Py_DECREF(stmt);
            if (Pdb_error_current_exc(self) < 0)
                return NULL;
            Py_RETURN_NONE;
        }
        Py_DECREF(as_expr);
        int failed;
        PyObject *v = Cmd_getval(self, stmt, &failed);
        Py_DECREF(stmt);
        if (!v)
            return failed ? Py_NewRef(Py_None) : NULL;
        PyObject *res = displayhook((PyObject *)self, v);
        Py_DECREF(v);
        return res;
    }
#if SLEUTH_PY313
    {
        int got = read_statement(self, stmt, &src, &code);
        if (got < 0)
            goto report;
        if (got == 0) {
            r = Py_NewRef(Py_None);
            goto done;
        }
    }
#else
    src = PyUnicode_FromFormat("%U\n", stmt);
    if (!src)
        goto error;
    PyObject *builtins = PyEval_GetBuiltins();
    PyObject *compile = PyDict_GetItemString(builtins, "compile");
    code = PyObject_CallFunction(compile, "Oss", src, "<stdin>", "single");
    if (!code)
        goto report;
#endif
    globals = curglobals(self);
    if (!globals)
        goto report;
    hook = PyCFunction_New(&displayhook_def, (PyObject *)self);
    if (!hook)
        goto error;
    save_out = Py_XNewRef(PySys_GetObject("stdout"));
    save_in = Py_XNewRef(PySys_GetObject("stdin"));
    save_hook = Py_XNewRef(PySys_GetObject("displayhook"));
    PySys_SetObject("stdin", self->stdin_obj);
    PySys_SetObject("stdout", self->stdout_obj);
    PySys_SetObject("displayhook", hook);
    {
        PyObject *locals = self->curframe_locals ? self->curframe_locals : globals;
#if SLEUTH_PY313
        int ran = exec_in_closure(src, globals, locals);
        if (ran != 0)
            r = ran > 0 ? Py_NewRef(Py_None) : NULL;
        else
#endif
        r = PyEval_EvalCode(code, globals, locals);
    }
    {
        PyObject *exc = PyErr_GetRaisedException();
        PySys_SetObject("stdout", save_out);
        PySys_SetObject("stdin", save_in);
        PySys_SetObject("displayhook", save_hook);
        PyErr_SetRaisedException(exc);
    }
    if (!r)
        goto report;
    Py_DECREF(r);
    r = Py_NewRef(Py_None);
    goto done;
report:
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
        goto error;
    if (Pdb_error_current_exc(self) < 0)
        goto error;
    r = Py_NewRef(Py_None);
done:
    Py_XDECREF(stmt);
    Py_XDECREF(src);
    Py_XDECREF(code);
    Py_XDECREF(globals);
    Py_XDECREF(hook);
    Py_XDECREF(save_out);
    Py_XDECREF(save_in);
    Py_XDECREF(save_hook);
    return r;
error:
    r = NULL;
    goto done;
}

#if SLEUTH_PY313
/* 3.13: the location line (and changed displays), queued before a prompt. */
static PyObject *
do_print_frame_status(PdbObject *self, PyObject *arg)
{
    SLEUTH_UNUSED(arg);
    if (PyList_GET_SIZE(self->stack) == 0)
        NOTHING();
    if (Pdb_print_stack_entry(self, PyList_GET_ITEM(self->stack, self->curindex), NULL) < 0)
        return NULL;
    if (Pdb_show_display(self) < 0)
        return NULL;
    NOTHING();
}
#endif

/* --- the table ---------------------------------------------------------------- */

#define CMD(name, fn) {"do_" name, (PyCFunction)(fn), METH_O, NULL}

PyMethodDef Commands_methods[] = {
    CMD("help", Cmd_do_help), CMD("h", Cmd_do_help),
    CMD("where", do_where), CMD("w", do_where), CMD("bt", do_where),
    CMD("up", do_up), CMD("u", do_up),
    CMD("down", do_down), CMD("d", do_down),
    CMD("break", Cmd_do_break), CMD("b", Cmd_do_break),
    CMD("tbreak", Cmd_do_tbreak),
    CMD("clear", Cmd_do_clear), CMD("cl", Cmd_do_clear),
    CMD("enable", Cmd_do_enable), CMD("disable", Cmd_do_disable),
    CMD("condition", Cmd_do_condition), CMD("ignore", Cmd_do_ignore),
    CMD("commands", Cmd_do_commands),
    CMD("step", do_step), CMD("s", do_step),
    CMD("next", do_next), CMD("n", do_next),
    CMD("until", do_until), CMD("unt", do_until),
    CMD("return", do_return), CMD("r", do_return),
    CMD("continue", do_continue), CMD("cont", do_continue), CMD("c", do_continue),
    CMD("jump", do_jump), CMD("j", do_jump),
    CMD("run", do_run), CMD("restart", do_run),
    CMD("debug", do_debug),
    CMD("quit", do_quit), CMD("q", do_quit), CMD("exit", do_quit),
    CMD("EOF", do_EOF),
    CMD("args", do_args), CMD("a", do_args),
    CMD("retval", do_retval), CMD("rv", do_retval),
    CMD("p", do_p), CMD("pp", do_pp),
    CMD("whatis", do_whatis),
    CMD("list", do_list), CMD("l", do_list),
    CMD("longlist", do_longlist), CMD("ll", do_longlist),
    CMD("source", do_source),
    CMD("display", do_display), CMD("undisplay", do_undisplay),
    CMD("interact", do_interact),
    CMD("alias", do_alias), CMD("unalias", do_unalias),
    CMD("exceptions", do_exceptions),
    CMD("env", do_env),
#if SLEUTH_PY313
    {FRAME_STATUS_CMD, (PyCFunction)do_print_frame_status, METH_O, NULL},
#endif
    {NULL, NULL, 0, NULL},
};
