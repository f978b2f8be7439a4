/* breakpoints.c — the breakpoint table, shared by every debugger instance of
 * the process as bdb.Breakpoint's class attributes are. */
#include "breakpoints.h"
#include "cond.h"
#include "engine.h"
#include <structmember.h>

static int
bp_traverse(BreakpointObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->file);
    Py_VISIT(self->cond);
    Py_VISIT(self->cond_code);
    Py_VISIT(self->fast_code);
    Py_VISIT(self->funcname);
    return 0;
}

static int
bp_clear(BreakpointObject *self)
{
    Py_CLEAR(self->file);
    Py_CLEAR(self->cond);
    Py_CLEAR(self->cond_code);
    Cond_free(self->cond_fast);
    self->cond_fast = NULL;
    Py_CLEAR(self->fast_code);
    Py_CLEAR(self->funcname);
    return 0;
}

static void
bp_dealloc(BreakpointObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    bp_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

PyObject *
Breakpoint_compile_error(PyObject *cond)
{
    const char *src = PyUnicode_AsUTF8(cond);
    if (!src)
        return NULL;
    PyObject *code = Py_CompileString(src, "<stdin>", Py_eval_input);
    if (code) {
        Py_DECREF(code);
        return NULL;
    }
    /* pdb: traceback.format_exception_only(exc)[-1].strip() */
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *res = NULL;
    PyObject *tbmod = PyImport_ImportModule("traceback");
    if (tbmod) {
        PyObject *lines = PyObject_CallMethod(tbmod, "format_exception_only", "OO",
                                              (PyObject *)Py_TYPE(exc), exc);
        if (lines && PyList_Check(lines) && PyList_GET_SIZE(lines) > 0)
            res = PyObject_CallMethod(PyList_GET_ITEM(lines, PyList_GET_SIZE(lines) - 1), "strip", NULL);
        Py_XDECREF(lines);
        Py_DECREF(tbmod);
    }
    if (!res) {
        PyErr_Clear();
        res = PyUnicode_FromString("SyntaxError");
    }
    Py_XDECREF(exc);
    return res;
}

int
Breakpoint_set_cond(BreakpointObject *bp, PyObject *cond)
{
    Py_CLEAR(bp->cond_code);
    Cond_free(bp->cond_fast);
    bp->cond_fast = NULL;
    if (cond && cond != Py_None && PyUnicode_Check(cond) && PyUnicode_GET_LENGTH(cond) > 0) {
        const char *s = PyUnicode_AsUTF8(cond);
        if (!s)
            return -1;
        bp->cond_code = Py_CompileString(s, "<string>", Py_eval_input);
        if (!bp->cond_code)
            PyErr_Clear();   /* evaluated lazily: an error stops, as in bdb */
        else
            bp->cond_fast = Cond_compile(cond);
    }
    Py_XSETREF(bp->cond, Py_NewRef(cond ? cond : Py_None));
    return 0;
}

BreakpointObject *
Breakpoint_new(ModState *st, PyObject *file, int line, int temporary, PyObject *cond,
               PyObject *funcname)
{
    /* Owned */
    BreakpointObject *bp = NULL;
    PyObject *key = NULL, *lst = NULL, *lines = NULL, *lineobj = NULL;

    bp = PyObject_GC_New(BreakpointObject, st->BreakpointType);
    if (!bp)
        goto error;
    bp->number = st->bp_next;
    bp->file = Py_NewRef(file);
    bp->line = line;
    bp->temporary = temporary;
    bp->cond = Py_NewRef(Py_None);
    bp->cond_code = NULL;
    bp->cond_fast = NULL;
    bp->fast_code = NULL;
    bp->fast_ok = 0;
    bp->funcname = Py_NewRef(funcname ? funcname : Py_None);
    bp->func_first_executable_line = 0;
    bp->enabled = 1;
    bp->ignore = 0;
    bp->hits = 0;
    PyObject_GC_Track(bp);
    if (Breakpoint_set_cond(bp, cond) < 0)
        goto error;
    if (PyList_Append(st->bpbynumber, (PyObject *)bp) < 0)
        goto error;
    st->bp_next++;
    key = Py_BuildValue("(Oi)", file, line);
    if (!key)
        goto error;
    lst = PyDict_GetItemWithError(st->bplist, key);
    if (lst) {
        if (PyList_Append(lst, (PyObject *)bp) < 0)
            goto error;
    } else {
        if (PyErr_Occurred())
            goto error;
        lst = PyList_New(1);
        if (!lst)
            goto error;
        PyList_SET_ITEM(lst, 0, Py_NewRef(bp));
        int r = PyDict_SetItem(st->bplist, key, lst);
        Py_DECREF(lst);
        if (r < 0)
            goto error;
    }
    lines = PyDict_GetItemWithError(st->breaks, file);
    if (!lines) {
        if (PyErr_Occurred())
            goto error;
        lines = PyList_New(0);
        if (!lines || PyDict_SetItem(st->breaks, file, lines) < 0) {
            Py_XDECREF(lines);
            goto error;
        }
        Py_DECREF(lines);
    }
    lineobj = PyLong_FromLong(line);
    if (!lineobj)
        goto error;
    int has = PySequence_Contains(lines, lineobj);
    if (has < 0 || (!has && PyList_Append(lines, lineobj) < 0))
        goto error;
    st->bp_generation++;
    Py_DECREF(key);
    Py_DECREF(lineobj);
    Py_DECREF(bp);     /* the table keeps it */
    return bp;
error:
    Py_XDECREF(key);
    Py_XDECREF(lineobj);
    Py_XDECREF(bp);
    return NULL;
}

int
Breakpoint_delete(ModState *st, BreakpointObject *bp)
{
    /* Owned */
    PyObject *key = NULL, *lineobj = NULL;
    int rc = -1;

    Py_INCREF(bp);
    if (bp->number > 0 && bp->number < PyList_GET_SIZE(st->bpbynumber) &&
        PyList_GET_ITEM(st->bpbynumber, bp->number) == (PyObject *)bp) {
        if (PyList_SetItem(st->bpbynumber, bp->number, Py_NewRef(Py_None)) < 0)
            goto done;
    }
    key = Py_BuildValue("(Oi)", bp->file, bp->line);
    if (!key)
        goto done;
    PyObject *lst = PyDict_GetItemWithError(st->bplist, key);
    if (lst) {
        Py_ssize_t n = PyList_GET_SIZE(lst);
        for (Py_ssize_t i = 0; i < n; i++) {
            if (PyList_GET_ITEM(lst, i) == (PyObject *)bp) {
                if (PySequence_DelItem(lst, i) < 0)
                    goto done;
                break;
            }
        }
        if (PyList_GET_SIZE(lst) == 0) {
            if (PyDict_DelItem(st->bplist, key) < 0)
                goto done;
            /* bdb's clear_break: drop the line from breaks[file]. */
            PyObject *lines = PyDict_GetItemWithError(st->breaks, bp->file);
            if (lines) {
                lineobj = PyLong_FromLong(bp->line);
                if (!lineobj)
                    goto done;
                Py_ssize_t idx = PySequence_Index(lines, lineobj);
                if (idx >= 0) {
                    if (PySequence_DelItem(lines, idx) < 0)
                        goto done;
                } else {
                    PyErr_Clear();
                }
                if (PyList_GET_SIZE(lines) == 0 && PyDict_DelItem(st->breaks, bp->file) < 0)
                    goto done;
            } else if (PyErr_Occurred()) {
                goto done;
            }
        }
    } else if (PyErr_Occurred()) {
        goto done;
    }
    st->bp_generation++;
    rc = 0;
done:
    Py_XDECREF(key);
    Py_XDECREF(lineobj);
    Py_DECREF(bp);
    return rc;
}

PyObject *
Breakpoint_format(BreakpointObject *bp)
{
    /* Owned */
    PyObject *ret = NULL, *more = NULL;
    char disp[16];

    snprintf(disp, sizeof disp, "%s%s", bp->temporary ? "del  " : "keep ",
             bp->enabled ? "yes  " : "no   ");
    char num[32];
    snprintf(num, sizeof num, "%-4ld", bp->number);
    ret = PyUnicode_FromFormat("%sbreakpoint   %s at %U:%d", num, disp, bp->file, bp->line);
    if (!ret)
        return NULL;
    if (bp->cond != Py_None && PyObject_IsTrue(bp->cond) == 1) {
        more = PyUnicode_FromFormat("%U\n\tstop only if %S", ret, bp->cond);
        Py_SETREF(ret, more);
        if (!ret)
            return NULL;
    }
    if (bp->ignore) {
        more = PyUnicode_FromFormat("%U\n\tignore next %ld hits", ret, bp->ignore);
        Py_SETREF(ret, more);
        if (!ret)
            return NULL;
    }
    if (bp->hits) {
        more = PyUnicode_FromFormat("%U\n\tbreakpoint already hit %ld time%s", ret, bp->hits,
                                    bp->hits > 1 ? "s" : "");
        Py_SETREF(ret, more);
    }
    return ret;
}

PyObject *
Breakpoint_str(BreakpointObject *bp)
{
    return PyUnicode_FromFormat("breakpoint %ld at %U:%d", bp->number, bp->file, bp->line);
}

/* bdb.checkfuncname */
static int
checkfuncname(BreakpointObject *b, PyObject *frame, int f_lineno)
{
    if (b->funcname == Py_None)
        return b->line == f_lineno;
    PyObject *code = Pdb_frame_code(frame);
    if (!code)
        return -1;
    int same = PyObject_RichCompareBool(((PyCodeObject *)code)->co_name, b->funcname, Py_EQ);
    Py_DECREF(code);
    if (same <= 0)
        return same;
    if (!b->func_first_executable_line)
        b->func_first_executable_line = f_lineno;
    return b->func_first_executable_line == f_lineno;
}

/* One breakpoint's verdict, bdb.effective's loop body: -1 error, 0 skip,
 * 1 fires (flag: may delete a temporary), 2 fires after a failed condition
 * (bdb keeps the temporary as a hint). */
static int
effective_one(ModState *st, BreakpointObject *b, PyObject *frame, int f_lineno)
{
    if (!b->enabled)
        return 0;
    int ok = checkfuncname(b, frame, f_lineno);
    if (ok <= 0)
        return ok;
    b->hits++;
    if (b->cond == Py_None || PyUnicode_GET_LENGTH(b->cond) == 0) {
        if (b->ignore > 0) {
            b->ignore--;
            return 0;
        }
        return 1;
    }
    if (!b->cond_code)
        return 2;          /* a condition that does not compile stops */
    /* Conditional: compiled once, evaluated in the frame's namespaces. */
    PyObject *globals, *locals, *val = NULL;
    if (b->cond_fast && Cond_frame_ok_cached(frame, &b->fast_code, &b->fast_ok)) {
        globals = PyFrame_GetGlobals((PyFrameObject *)frame);
        val = Cond_eval_frame(b->cond_fast, globals, frame);
        locals = NULL;
    } else if (PyFrame_Check(frame)) {
        globals = PyFrame_GetGlobals((PyFrameObject *)frame);
        locals = PyFrame_GetLocals((PyFrameObject *)frame);
    } else {
        globals = PyObject_GetAttr(frame, st->str_f_globals);
        locals = globals ? PyObject_GetAttr(frame, st->str_f_locals) : NULL;
    }
    if (locals && !val) {
        /* (the code held: the condition may replace itself while it runs) */
        PyObject *code = Py_NewRef(b->cond_code);
        val = b->cond_fast ? Cond_eval(b->cond_fast, globals, locals)
                           : PyEval_EvalCode(code, globals, locals);
        Py_DECREF(code);
    }
    int truth = val ? PyObject_IsTrue(val) : -1;
    Py_XDECREF(val);
    Py_XDECREF(globals);
    Py_XDECREF(locals);
    if (truth < 0) {
        if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
            return -1;
        PyErr_Clear();
        return 2;
    }
    if (!truth)
        return 0;
    if (b->ignore > 0) {
        b->ignore--;
        return 0;
    }
    return 1;
}

int
Breakpoint_effective(ModState *st, PyObject *bps, PyObject *frame, int f_lineno,
                     BreakpointObject **bp_out, int *flag_out)
{
    *bp_out = NULL;
    *flag_out = 0;
    /* Conditions run Python code that may edit the list or delete the
     * breakpoints: walk strong references taken before the first one. */
    PyObject *small[4], **refs = small;
    Py_ssize_t n = PyList_GET_SIZE(bps);
    if (n > 4 && !(refs = PyMem_Malloc((size_t)n * sizeof(PyObject *)))) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        refs[i] = Py_NewRef(PyList_GET_ITEM(bps, i));
    int rc = 0;
    for (Py_ssize_t i = 0; i < n && rc == 0; i++) {
        int v = effective_one(st, (BreakpointObject *)refs[i], frame, f_lineno);
        if (v < 0) {
            rc = -1;
        } else if (v > 0) {
            *bp_out = (BreakpointObject *)Py_NewRef(refs[i]);
            *flag_out = v == 1;
            rc = 1;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++)
        Py_DECREF(refs[i]);
    if (refs != small)
        PyMem_Free(refs);
    return rc;
}

/* --- Python surface (bdb.Breakpoint attributes) --------------------------- */

static PyObject *
bp_get_cond(BreakpointObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    return Py_NewRef(self->cond);
}

static int
bp_set_cond(BreakpointObject *self, PyObject *v, void *c)
{
    SLEUTH_UNUSED(c);
    return Breakpoint_set_cond(self, v);
}

static PyObject *
bp_get_ffel(BreakpointObject *self, void *c)
{
    SLEUTH_UNUSED(c);
    if (!self->func_first_executable_line)
        Py_RETURN_NONE;
    return PyLong_FromLong(self->func_first_executable_line);
}

static PyGetSetDef bp_getset[] = {
    {"cond", (getter)bp_get_cond, (setter)bp_set_cond, NULL, NULL},
    {"func_first_executable_line", (getter)bp_get_ffel, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef bp_members[] = {
    {"number", T_LONG, offsetof(BreakpointObject, number), READONLY, NULL},
    {"file", T_OBJECT, offsetof(BreakpointObject, file), READONLY, NULL},
    {"line", T_INT, offsetof(BreakpointObject, line), READONLY, NULL},
    {"temporary", T_BOOL, offsetof(BreakpointObject, temporary), 0, NULL},
    {"funcname", T_OBJECT, offsetof(BreakpointObject, funcname), READONLY, NULL},
    {"enabled", T_BOOL, offsetof(BreakpointObject, enabled), 0, NULL},
    {"ignore", T_LONG, offsetof(BreakpointObject, ignore), 0, NULL},
    {"hits", T_LONG, offsetof(BreakpointObject, hits), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
bp_bpformat(BreakpointObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    return Breakpoint_format(self);
}

static PyObject *
bp_enable(BreakpointObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    self->enabled = 1;
    Py_RETURN_NONE;
}

static PyObject *
bp_disable(BreakpointObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    self->enabled = 0;
    Py_RETURN_NONE;
}

static PyObject *
bp_deleteMe(BreakpointObject *self, PyObject *unused)
{
    SLEUTH_UNUSED(unused);
    if (Breakpoint_delete(Sleuth_state(), self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef bp_methods[] = {
    {"bpformat", (PyCFunction)bp_bpformat, METH_NOARGS, NULL},
    {"enable", (PyCFunction)bp_enable, METH_NOARGS, NULL},
    {"disable", (PyCFunction)bp_disable, METH_NOARGS, NULL},
    {"deleteMe", (PyCFunction)bp_deleteMe, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot bp_slots[] = {
    {Py_tp_doc, "A breakpoint (bdb.Breakpoint's attributes)."},
    {Py_tp_traverse, bp_traverse},
    {Py_tp_clear, bp_clear},
    {Py_tp_dealloc, bp_dealloc},
    {Py_tp_str, Breakpoint_str},
    {Py_tp_members, bp_members},
    {Py_tp_getset, bp_getset},
    {Py_tp_methods, bp_methods},
    {0, NULL},
};

static PyType_Spec bp_spec = {
    .name = "sleuth._sleuth.Breakpoint",
    .basicsize = sizeof(BreakpointObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = bp_slots,
};

int
Breakpoint_init_type(PyObject *module, ModState *st)
{
    st->BreakpointType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &bp_spec, NULL);
    if (!st->BreakpointType)
        return -1;
    if (PyModule_AddObjectRef(module, "Breakpoint", (PyObject *)st->BreakpointType) < 0)
        return -1;
    st->bpbynumber = Py_BuildValue("[O]", Py_None);
    st->bplist = PyDict_New();
    st->breaks = PyDict_New();
    st->bp_next = 1;
    if (!st->bpbynumber || !st->bplist || !st->breaks)
        return -1;
    /* bdb.Breakpoint's class attributes, the debugger's own tables. */
    if (PyObject_SetAttrString((PyObject *)st->BreakpointType, "bpbynumber", st->bpbynumber) < 0 ||
        PyObject_SetAttrString((PyObject *)st->BreakpointType, "bplist", st->bplist) < 0)
        return -1;
    return 0;
}
