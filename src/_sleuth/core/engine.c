/* engine.c — bdb's stop decisions, in C.
 *
 * The logic is bdb's, event for event, so that sleuth stops exactly where
 * pdb stops; what differs is which events reach it (see the backends).
 *
 *   stepping command   stopframe      returnframe  stoplineno   events needed
 *   step               NULL           NULL         0            all, this thread
 *   next               frame          NULL         0            frame's code
 *   return             frame.f_back   frame        0            both codes
 *   until [line]       frame          frame        line         frame's code
 *   continue           botframe       NULL         -1           breakpoints only
 */
#include "engine.h"
#include "breakpoints.h"
#include "hooks.h"
#include "pythread.h"

#define GEN_FLAGS (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)

PyObject *
Pdb_frame_code(PyObject *frame)
{
    if (PyFrame_Check(frame))
        return (PyObject *)PyFrame_GetCode((PyFrameObject *)frame);
    return PyObject_GetAttrString(frame, "f_code");
}

int
Pdb_frame_lineno(PyObject *frame)
{
    if (PyFrame_Check(frame))
        return PyFrame_GetLineNumber((PyFrameObject *)frame);
    PyObject *v = PyObject_GetAttrString(frame, "f_lineno");
    if (!v) {
        PyErr_Clear();
        return 0;
    }
    int n = (int)PyLong_AsLong(v);
    Py_DECREF(v);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return n;
}

int
Engine_is_generator_code(PyObject *code)
{
    return PyCode_Check(code) && (((PyCodeObject *)code)->co_flags & GEN_FLAGS);
}

static int
frame_is_generator(PyObject *frame)
{
    PyObject *code = Pdb_frame_code(frame);
    if (!code) {
        PyErr_Clear();
        return 0;
    }
    int r = Engine_is_generator_code(code);
    Py_DECREF(code);
    return r;
}

PyObject *
Engine_canonic(ModState *st, PyObject *filename)
{
    /* bdb.canonic: "<...>" unchanged, else abspath+normcase, cached. */
    PyObject *res = PyDict_GetItemWithError(st->fncache, filename);
    if (res)
        return Py_NewRef(res);
    if (PyErr_Occurred())
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(filename);
    if (n >= 2 && PyUnicode_READ_CHAR(filename, 0) == '<' &&
        PyUnicode_READ_CHAR(filename, n - 1) == '>') {
        res = Py_NewRef(filename);
    } else {
        PyObject *osp = PyImport_ImportModule("os.path");
        if (!osp)
            return NULL;
        PyObject *abs = PyObject_CallMethod(osp, "abspath", "O", filename);
        if (abs) {
            res = PyObject_CallMethod(osp, "normcase", "O", abs);
            Py_DECREF(abs);
        }
        Py_DECREF(osp);
        if (!res)
            return NULL;
    }
    if (PyDict_SetItem(st->fncache, filename, res) < 0) {
        Py_DECREF(res);
        return NULL;
    }
    return res;
}

int
Engine_file_has_breaks(ModState *st, PyObject *canonical)
{
    PyObject *lines = PyDict_GetItemWithError(st->breaks, canonical);
    if (!lines)
        return PyErr_Occurred() ? -1 : 0;
    return PyList_GET_SIZE(lines) > 0;
}

int
Engine_line_has_break(ModState *st, PyObject *canonical, int line)
{
    PyObject *lines = PyDict_GetItemWithError(st->breaks, canonical);
    if (!lines)
        return PyErr_Occurred() ? -1 : 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++) {
        long v = PyLong_AsLong(PyList_GET_ITEM(lines, i));
        if (v == line)
            return 1;
    }
    return 0;
}

/* Last line number any instruction of `code` maps to. */
static int
code_last_line(PyObject *code)
{
    int last = ((PyCodeObject *)code)->co_firstlineno;
    PyObject *it = PyObject_CallMethod(code, "co_lines", NULL);
    PyObject *iter = it ? PyObject_GetIter(it) : NULL;
    Py_XDECREF(it);
    if (!iter)
        return -1;
    PyObject *item;
    while ((item = PyIter_Next(iter))) {
        PyObject *ln = PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 3 ? PyTuple_GET_ITEM(item, 2) : Py_None;
        if (ln != Py_None) {
            long v = PyLong_AsLong(ln);
            if (v > last)
                last = (int)v;
        }
        Py_DECREF(item);
    }
    Py_DECREF(iter);
    return PyErr_Occurred() ? -1 : last;
}

/* --- per-code breakpoint lines (the hot path of every LINE event) ------- *
 *
 * A code object that may break (see below) gets an entry here, made once per
 * breakpoint generation: the breakpoint lines of its file, each with its
 * list of breakpoints (bdb's Breakpoint.bplist[file, line]). A LINE event in
 * it then costs a pointer-hash probe and a scan of a few ints, instead of a
 * file-name canonicalization, a walk of Python lists and a tuple-keyed
 * lookup. Entries hold strong references (so a freed code object's address
 * can never alias an entry); they all go when the breakpoints change (every
 * change bumps the generation) or the engine detaches. */

#define CI_MAXLINES 8

typedef struct {
    PyObject *code;     /* strong; NULL marks an empty slot */
    int first;          /* co_firstlineno */
    int n;              /* lines[] used; -1: too many, take the slow path */
    int lines[CI_MAXLINES];
    PyObject *bps[CI_MAXLINES];   /* strong: the breakpoint list of each line */
} CodeInfo;

static struct {
    CodeInfo *slots;
    size_t cap, used;
    size_t last;        /* slot of the last code found */
    uint64_t gen;
} ci;

static inline size_t
ci_hash(PyObject *code, size_t cap)
{
    return (size_t)(((uintptr_t)code >> 4) * (uintptr_t)0x9E3779B97F4A7C15ull) & (cap - 1);
}

static void
ci_entry_clear(CodeInfo *e)
{
    for (int i = 0; i < e->n; i++)
        Py_XDECREF(e->bps[i]);
    Py_XDECREF(e->code);
}

/* Drop every entry. The table is emptied before any reference is released:
 * a code object's dealloc can run Python code (weakref callbacks), which may
 * come back here. */
static void
ci_clear(void)
{
    CodeInfo *slots = ci.slots;
    size_t cap = ci.cap;
    ci.slots = NULL;
    ci.cap = ci.used = 0;
    for (size_t i = 0; i < cap; i++)
        if (slots[i].code)
            ci_entry_clear(&slots[i]);
    PyMem_RawFree(slots);
}

static CodeInfo *
ci_find(ModState *st, PyObject *code)
{
    if (ci.gen != st->bp_generation) {
        ci_clear();
        ci.gen = st->bp_generation;
    }
    if (!ci.slots)
        return NULL;
    /* Events come in runs from the same code: check the last hit first. */
    if (ci.last < ci.cap && ci.slots[ci.last].code == code)
        return &ci.slots[ci.last];
    for (size_t i = ci_hash(code, ci.cap);; i = (i + 1) & (ci.cap - 1)) {
        if (ci.slots[i].code == code) {
            ci.last = i;
            return &ci.slots[i];
        }
        if (!ci.slots[i].code)
            return NULL;
    }
}

/* bdb's Breakpoint.bplist[file, line], borrowed, or NULL (maybe with an error). */
static PyObject *
bplist_at(ModState *st, PyObject *canon, int line)
{
    PyObject *ln = PyLong_FromLong(line);
    PyObject *key = ln ? PyTuple_Pack(2, canon, ln) : NULL;
    Py_XDECREF(ln);
    if (!key)
        return NULL;
    PyObject *lst = PyDict_GetItemWithError(st->bplist, key);
    Py_DECREF(key);
    return lst;
}

/* Remember `code` as one that may break; `lines` is its file's list. Any
 * failure only means no entry: the slow path stays correct. */
static void
ci_insert(ModState *st, PyObject *code, PyObject *canon, PyObject *lines)
{
    if (ci_find(st, code) || PyList_GET_SIZE(lines) > CI_MAXLINES)
        return;
    CodeInfo e = {0};
    e.first = ((PyCodeObject *)code)->co_firstlineno;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines); i++) {
        long v = PyLong_AsLong(PyList_GET_ITEM(lines, i));
        PyObject *lst = v == -1 && PyErr_Occurred() ? NULL : bplist_at(st, canon, (int)v);
        if (!lst) {
            PyErr_Clear();
            ci_entry_clear(&e);
            return;
        }
        e.lines[e.n] = (int)v;
        e.bps[e.n++] = Py_NewRef(lst);
    }
    if ((ci.used + 1) * 2 > ci.cap) {
        size_t ncap = ci.cap ? ci.cap * 2 : 64;
        CodeInfo *ns = PyMem_RawCalloc(ncap, sizeof(CodeInfo));
        if (!ns) {
            ci_entry_clear(&e);
            return;
        }
        for (size_t i = 0; i < ci.cap; i++) {
            if (!ci.slots[i].code)
                continue;
            size_t j = ci_hash(ci.slots[i].code, ncap);
            while (ns[j].code)
                j = (j + 1) & (ncap - 1);
            ns[j] = ci.slots[i];
        }
        PyMem_RawFree(ci.slots);
        ci.slots = ns;
        ci.cap = ncap;
    }
    e.code = Py_NewRef(code);
    size_t j = ci_hash(code, ci.cap);
    while (ci.slots[j].code)
        j = (j + 1) & (ci.cap - 1);
    ci.slots[j] = e;
    ci.used++;
}

int
Engine_code_breaks(ModState *st, PyObject *code, int line, PyObject **bps_out)
{
    if (bps_out)
        *bps_out = NULL;
    if (PyDict_GET_SIZE(st->breaks) == 0)
        return 0;
    CodeInfo *e = ci_find(st, code);
    if (e) {
        PyObject *on_line = NULL, *on_first = NULL;
        for (int i = 0; i < e->n; i++) {
            if (e->lines[i] == line)
                on_line = e->bps[i];
            if (e->lines[i] == e->first)
                on_first = e->bps[i];
        }
        int r = (on_line ? BRK_LINE : 0) | (on_first ? BRK_FIRST : 0);
        if (r && bps_out)
            *bps_out = Py_NewRef(on_line ? on_line : on_first);
        return r;
    }
    int first = ((PyCodeObject *)code)->co_firstlineno;
    PyObject *canon = Engine_canonic(st, ((PyCodeObject *)code)->co_filename);
    if (!canon)
        return -1;
    int a = Engine_line_has_break(st, canon, line);
    int b = a < 0 ? 0 : Engine_line_has_break(st, canon, first);
    int r = a < 0 || b < 0 ? -1 : (a ? BRK_LINE : 0) | (b ? BRK_FIRST : 0);
    if (r > 0 && bps_out) {
        PyObject *lst = bplist_at(st, canon, a ? line : first);
        if (lst)
            *bps_out = Py_NewRef(lst);
        else
            r = PyErr_Occurred() ? -1 : 0;
    }
    Py_DECREF(canon);
    return r;
}

/* Can a breakpoint fire in `code`? Its file must hold a breakpoint on a
 * line within the code's own span (nested functions make this a superset,
 * which only costs a few extra events). */
int
Engine_code_may_break(ModState *st, PyObject *code)
{
    if (PyDict_GET_SIZE(st->breaks) == 0)
        return 0;
    if (ci_find(st, code))
        return 1;
    PyObject *canon = Engine_canonic(st, ((PyCodeObject *)code)->co_filename);
    if (!canon)
        return -1;
    PyObject *lines = PyDict_GetItemWithError(st->breaks, canon);
    if (!lines) {
        Py_DECREF(canon);
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_INCREF(lines);
    int first = ((PyCodeObject *)code)->co_firstlineno, last = -2, may = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lines) && !may; i++) {
        long v = PyLong_AsLong(PyList_GET_ITEM(lines, i));
        if (v < first)
            continue;
        if (last == -2) {
            last = code_last_line(code);
            if (last < 0) {
                may = -1;
                break;
            }
        }
        may = v <= last;
    }
    if (may == 1)
        ci_insert(st, code, canon, lines);
    Py_DECREF(lines);
    Py_DECREF(canon);
    return may;
}

/* --- bdb predicates ------------------------------------------------------- */

static int
is_skipped_module(PdbObject *d, PyObject *frame)
{
    if (!d->skip || d->skip == Py_None || PySet_GET_SIZE(d->skip) == 0)
        return 0;
    ModState *st = Sleuth_state();
    PyObject *globals = PyObject_GetAttr(frame, st->str_f_globals);
    if (!globals)
        return -1;
    PyObject *name = NULL;
    int r = 0;
    if (PyDict_Check(globals)) {
        name = PyDict_GetItemWithError(globals, st->str___name__);
        Py_XINCREF(name);
    }
    Py_DECREF(globals);
    if (!name || !PyUnicode_Check(name)) {
        Py_XDECREF(name);
        return PyErr_Occurred() ? -1 : 0;
    }
    PyObject *fnmatch = PyImport_ImportModule("fnmatch");
    if (!fnmatch) {
        Py_DECREF(name);
        return -1;
    }
    PyObject *it = PyObject_GetIter(d->skip), *pat;
    while (it && (pat = PyIter_Next(it))) {
        PyObject *m = PyObject_CallMethod(fnmatch, "fnmatch", "OO", name, pat);
        Py_DECREF(pat);
        if (!m) { r = -1; break; }
        r = PyObject_IsTrue(m);
        Py_DECREF(m);
        if (r)
            break;
    }
    if (!it || PyErr_Occurred())
        r = -1;
    Py_XDECREF(it);
    Py_DECREF(fnmatch);
    Py_DECREF(name);
    return r;
}

static int
stop_here(PdbObject *d, PyObject *frame)
{
    int skipped = is_skipped_module(d, frame);
    if (skipped)
        return skipped < 0 ? -1 : 0;
    if (frame == d->stopframe) {
        if (d->stoplineno == -1)
            return 0;
        return Pdb_frame_lineno(frame) >= d->stoplineno;
    }
    return d->stopframe == NULL || d->stopframe == Py_None;
}

/* Returns 1 if the calling thread is the one the stepping state is for:
 * stepping never stops other threads; breakpoints stop any thread. */
static inline int
stepping_thread(PdbObject *d)
{
    return d->step_thread == 0 || d->step_thread == PyThread_get_thread_ident();
}

static int
break_here(PdbObject *d, PyObject *frame, int line)
{
    /* Owned */
    PyObject *code = NULL, *bps = NULL;
    ModState *st = Sleuth_state();
    int rc = 0;

    if (PyDict_GET_SIZE(st->breaks) == 0)
        return 0;
    code = Pdb_frame_code(frame);
    if (!code)
        return -1;
    /* bdb: the line's own breakpoints, else the function's (its def line). */
    int has = Engine_code_breaks(st, code, line, &bps);
    if (has <= 0) {
        rc = has;
        goto done;
    }
    BreakpointObject *bp;
    int flag;
    has = Breakpoint_effective(st, bps, frame, line, &bp, &flag);
    if (has < 0)
        goto error;
    if (has && bp) {
        d->currentbp = bp->number;
        if (flag && bp->temporary) {
            /* bdb calls self.do_clear(str(number)): a subclass may override. */
            PyObject *r = PyObject_CallMethod((PyObject *)d, "do_clear", "N",
                                              PyUnicode_FromFormat("%ld", bp->number));
            Py_XDECREF(r);
            if (!r) {
                Py_DECREF(bp);
                goto error;
            }
        }
        Py_DECREF(bp);
        rc = 1;
    }
done:
    Py_XDECREF(code);
    Py_XDECREF(bps);
    return rc;
error:
    rc = -1;
    goto done;
}

/* A frame that set_trace(frame) found running between itself and `frame`
 * (d->untraced, see api.c) reports nothing; once it is left (return, yield
 * or unwinding), it is forgotten and reports again if resumed, as a frame
 * that bdb's global trace function sees anew. Returns 1 to ignore the event. */
static int
untraced_frame(PdbObject *d, PyObject *frame, int leaving)
{
    PyObject *lst = d->untraced;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(lst); i++) {
        if (PyList_GET_ITEM(lst, i) != frame)
            continue;
        if (leaving) {
            if (PyList_GET_SIZE(lst) == 1)
                Py_CLEAR(d->untraced);
            else if (PyList_SetSlice(lst, i, i + 1, NULL) < 0)
                PyErr_Clear();      /* cannot fail for a valid index */
        }
        return 1;
    }
    return 0;
}

/* The attribute that marks the BdbQuit instances a quit raises in threads
 * other than run()'s: only those end a thread quietly, never a BdbQuit of
 * the program's own (or of another debugger). */
#define QUIT_MARK "_sleuth_quit"

/* Marked BdbQuits raised and not yet seen by the hook, and whether run()
 * ended meanwhile: the hook is put back once the last one is reported, not
 * before (a worker may still be unwinding when run()'s thread has ended).
 * Only touched with the GIL held. */
static int quits_unwinding;
static int restore_wanted;

static void restore_excepthook_now(void);

/* threading.excepthook while a quit unwinds threads: the debugger's own
 * BdbQuit ends a thread without a traceback (bdb.run catches it in the
 * thread that runs the program); anything else goes to the hook that was
 * there before (the function's self). */
static PyObject *
quiet_quit_hook(PyObject *prev, PyObject *args)
{
    PyObject *value = PyObject_GetAttrString(args, "exc_value");
    if (!value)
        return NULL;
    PyObject *mark = NULL;
    int is_ours = value != Py_None && PyObject_GetOptionalAttrString(value, QUIT_MARK, &mark) > 0;
    Py_XDECREF(mark);
    Py_DECREF(value);
    PyErr_Clear();
    if (is_ours) {
        if (--quits_unwinding <= 0 && restore_wanted)
            restore_excepthook_now();
        Py_RETURN_NONE;
    }
    return PyObject_CallOneArg(prev, args);
}

static PyMethodDef quiet_quit_def = {
    "excepthook", (PyCFunction)quiet_quit_hook, METH_O,
    "threading.excepthook that lets the debugger's BdbQuit end a thread quietly."};

static int
install_quiet_quit_hook(void)
{
    /* Owned */
    PyObject *threading = NULL, *cur = NULL, *hook = NULL;
    int rc = -1;

    PyObject *name = PyUnicode_FromString("threading");
    if (!name)
        goto done;
    threading = PyImport_GetModule(name);
    Py_DECREF(name);
    if (!threading) {
        rc = PyErr_Occurred() ? -1 : 0;     /* no threading module: no hook */
        goto done;
    }
    cur = PyObject_GetAttrString(threading, "excepthook");
    if (!cur)
        goto done;
    if (PyCFunction_Check(cur) && ((PyCFunctionObject *)cur)->m_ml == &quiet_quit_def) {
        rc = 0;
        goto done;
    }
    hook = PyCFunction_New(&quiet_quit_def, cur);
    if (!hook)
        goto done;
    rc = PyObject_SetAttrString(threading, "excepthook", hook);
done:
    Py_XDECREF(threading);
    Py_XDECREF(cur);
    Py_XDECREF(hook);
    return rc;
}

void
Engine_restore_excepthook(void)
{
    if (quits_unwinding > 0) {
        restore_wanted = 1;     /* when the last marked BdbQuit is reported */
        return;
    }
    restore_excepthook_now();
}

static void
restore_excepthook_now(void)
{
    restore_wanted = 0;
    quits_unwinding = 0;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *name = PyUnicode_FromString("threading");
    PyObject *threading = name ? PyImport_GetModule(name) : NULL;
    PyObject *cur = threading ? PyObject_GetAttrString(threading, "excepthook") : NULL;
    if (cur && PyCFunction_Check(cur) && ((PyCFunctionObject *)cur)->m_ml == &quiet_quit_def)
        (void)PyObject_SetAttrString(threading, "excepthook", ((PyCFunctionObject *)cur)->m_self);
    Py_XDECREF(cur);
    Py_XDECREF(threading);
    Py_XDECREF(name);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}

/* Raise a marked BdbQuit in this thread, which the hook lets end it
 * quietly. `after_run`: run() has returned already (and put the hook
 * back), so the hook goes again once this one is reported. */
static int
raise_quiet_quit(ModState *st, int after_run)
{
    if (install_quiet_quit_hook() < 0)
        PyErr_Clear();      /* then the thread shows a traceback, as pdb's would */
    PyObject *quit = PyObject_CallNoArgs(st->BdbQuit);
    if (!quit)
        return -1;
    if (PyObject_SetAttrString(quit, QUIT_MARK, Py_True) < 0) {
        Py_DECREF(quit);
        return -1;
    }
    PyErr_SetObject(st->BdbQuit, quit);
    Py_DECREF(quit);
    quits_unwinding++;
    if (after_run)
        restore_wanted = 1;
    return -1;
}

/* `quit` ends the debugged program, as with pdb, from whichever thread it
 * is typed in. bdb raises BdbQuit in the thread being traced, and run()
 * catches it there. A thread of the program other than the one running
 * run() (sleuth stops in every thread) unwinds with BdbQuit too, without
 * a traceback, and run()'s own thread gets BdbQuit at its next bytecode,
 * so that run() returns and `python -m sleuth` ends as pdb's does. A
 * thread that was waiting for the prompt meanwhile meets the quit when
 * run() may have returned already: it unwinds quietly as well. If run()
 * returned without a quit (its final `quitting`), that thread just goes
 * on, untraced, as the rest of the program does. */
static int
check_quit(PdbObject *d)
{
    if (!d->quitting)
        return 0;
    ModState *st = Sleuth_state();
    if (!d->run_thread && d->run_over && !d->quit_in_run)
        return 0;
    if (Sleuth_load_bdbquit() < 0)
        return -1;
    if (d->run_thread && d->run_thread != PyThread_get_thread_ident()) {
        if (!d->quit_sent) {
            d->quit_sent = 1;
            PyThreadState_SetAsyncExc(d->run_thread, st->BdbQuit);
        }
        return raise_quiet_quit(st, 0);
    }
    if (!d->run_thread && d->quit_in_run)
        return raise_quiet_quit(st, 1);
    PyErr_SetNone(st->BdbQuit);
    return -1;
}

/* --- dispatch ------------------------------------------------------------- */

/* bdb's stop_here and break_here, or a subclass's. */
static inline int
stop_here_hooked(PdbObject *d, PyObject *frame)
{
    if (d->hooks & HOOK_STOP_HERE)
        return Hooks_call_bool(d, "stop_here", frame);
    return stop_here(d, frame);
}

static inline int
break_here_hooked(PdbObject *d, PyObject *frame, int line)
{
    if (d->hooks & HOOK_BREAK_HERE)
        return Hooks_call_bool(d, "break_here", frame);
    return break_here(d, frame, line);
}

int
Engine_stop_here(PdbObject *d, PyObject *frame)
{
    return stop_here(d, frame);
}

int
Engine_break_here(PdbObject *d, PyObject *frame)
{
    return break_here(d, frame, Pdb_frame_lineno(frame));
}

/* Each event goes to a subclass's trace_dispatch or dispatch_* when there
 * is one (hooks.h), else straight to the C decisions below. */
int
Engine_dispatch_line(PdbObject *d, PyObject *frame, int line)
{
    if (d->untraced && untraced_frame(d, frame, 0))
        return 0;
    if (d->hooks & HOOK_DISPATCH_ANY)
        return Hooks_dispatch(d, frame, EV_NAME_LINE, NULL, NULL);
    return Engine_line_c(d, frame, line);
}

int
Engine_dispatch_call(PdbObject *d, PyObject *frame)
{
    if (d->hooks & HOOK_DISPATCH_ANY)
        return Hooks_dispatch(d, frame, EV_NAME_CALL, NULL, NULL);
    return Engine_call_c(d, frame);
}

int
Engine_dispatch_return(PdbObject *d, PyObject *frame, PyObject *retval)
{
    if (d->untraced && untraced_frame(d, frame, 1))
        return 0;
    if (d->hooks & HOOK_DISPATCH_ANY)
        return Hooks_dispatch(d, frame, EV_NAME_RETURN, retval, NULL);
    return Engine_return_c(d, frame, retval);
}

int
Engine_dispatch_exception(PdbObject *d, PyObject *frame, PyObject *exc, PyObject *tb)
{
    if (d->untraced && untraced_frame(d, frame, 0))
        return 0;
    if (d->hooks & HOOK_DISPATCH_ANY)
        return Hooks_dispatch(d, frame, EV_NAME_EXCEPTION, exc, tb);
    return Engine_exception_c(d, frame, exc, tb);
}

int
Engine_line_c(PdbObject *d, PyObject *frame, int line)
{
    if (d->quitting)
        return 0;
    int stop = stepping_thread(d) ? stop_here_hooked(d, frame) : 0;
    if (stop < 0)
        return -1;
    if (!stop) {
        if (line < 0)
            line = Pdb_frame_lineno(frame);
        stop = break_here_hooked(d, frame, line);
        if (stop < 0)
            return -1;
    }
    if (stop) {
        if (Pdb_user_line(d, frame) < 0)
            return -1;
        return check_quit(d);
    }
    return 0;
}

int
Engine_call_c(PdbObject *d, PyObject *frame)
{
    if (d->quitting || !stepping_thread(d))
        return 0;
    if (d->botframe == NULL) {
        /* bdb: the first call event names the bottom of the stack. sleuth's
         * script runner makes it the script's own frame, so that no
         * debugger frames show in `where`. */
        if (d->bot_is_first) {
            d->botframe = Py_NewRef(frame);
        } else {
            PyObject *back = PyObject_GetAttrString(frame, "f_back");
            if (!back)
                return -1;
            d->botframe = back;
        }
        return 0;
    }
    int stop = stop_here_hooked(d, frame);
    if (stop <= 0)
        return stop;
    if (d->stopframe && d->stopframe != Py_None && frame_is_generator(frame))
        return 0;
    if (Pdb_user_call(d, frame) < 0)
        return -1;
    return check_quit(d);
}

int
Engine_return_c(PdbObject *d, PyObject *frame, PyObject *retval)
{
    if (d->quitting || !stepping_thread(d))
        return 0;
    int stop = stop_here_hooked(d, frame);
    if (stop < 0)
        return -1;
    if (!stop && frame != d->returnframe)
        return 0;
    if (d->stopframe && d->stopframe != Py_None && frame_is_generator(frame))
        return 0;
    Py_XSETREF(d->frame_returning, Py_NewRef(frame));
    int r = Pdb_user_return(d, frame, retval);
    Py_CLEAR(d->frame_returning);
    if (r < 0)
        return -1;
    if (check_quit(d) < 0)
        return -1;
    if (d->stopframe == frame && d->stoplineno != -1) {
        /* bdb: after the return of the frame being stepped, stop at the
         * next event anywhere (the caller's next line). */
        Engine_set_stopinfo(d, NULL, NULL, 0);
        return Engine_resume(d);
    }
    return 0;
}

int
Engine_exception_c(PdbObject *d, PyObject *frame, PyObject *exc, PyObject *tb)
{
    if (d->quitting || (!stepping_thread(d) && !d->break_on_raise))
        return 0;
    /* The debugger's own control exceptions (raised by `run`/`restart` or
     * `quit` out of a callback) are not the program's. */
    ModState *st = Sleuth_state();
    if (PyObject_TypeCheck(exc, (PyTypeObject *)st->Restart) ||
        (st->BdbQuit && PyObject_TypeCheck(exc, (PyTypeObject *)st->BdbQuit)))
        return 0;
    int stop = stepping_thread(d) ? stop_here_hooked(d, frame) : 0;
    if (stop < 0)
        return -1;
    int is_stopiter = Py_TYPE(exc) == (PyTypeObject *)PyExc_StopIteration;
    if (stop) {
        /* A generator's StopIteration without a traceback is internal (a
         * subiterator of `yield from` returning). */
        PyObject *own = tb ? NULL : PyException_GetTraceback(exc);
        int no_tb = tb ? tb == Py_None : own == NULL;
        Py_XDECREF(own);
        if (is_stopiter && no_tb && frame_is_generator(frame))
            return 0;
    } else {
        int gen_case = d->stopframe && d->stopframe != Py_None && frame != d->stopframe &&
                       frame_is_generator(d->stopframe) &&
                       (Py_TYPE(exc) == (PyTypeObject *)PyExc_StopIteration ||
                        Py_TYPE(exc) == (PyTypeObject *)PyExc_GeneratorExit);
        /* A frontend that asked for every raised exception (DAP's 'raised'
         * filter) decides itself; StopIteration/GeneratorExit are the
         * interpreter's own traffic there. */
        if (!gen_case && !(d->break_on_raise && Py_TYPE(exc) != (PyTypeObject *)PyExc_StopIteration &&
                           Py_TYPE(exc) != (PyTypeObject *)PyExc_GeneratorExit))
            return 0;
    }
    if (Pdb_user_exception(d, frame, exc, tb) < 0)
        return -1;
    return check_quit(d);
}

/* --- stepping state ------------------------------------------------------- */

void
Engine_set_stopinfo(PdbObject *d, PyObject *stopframe, PyObject *returnframe, int stoplineno)
{
    Py_XSETREF(d->stopframe, Py_XNewRef(stopframe));
    Py_XSETREF(d->returnframe, Py_XNewRef(returnframe));
    d->quitting = 0;
    d->quit_in_run = 0;
    d->run_over = 0;
    d->stoplineno = stoplineno;
    d->step_thread = PyThread_get_thread_ident();
}

void
Engine_set_step(PdbObject *d)
{
    Engine_set_stopinfo(d, NULL, NULL, 0);
}

void
Engine_set_next(PdbObject *d, PyObject *frame)
{
    Engine_set_stopinfo(d, frame, NULL, 0);
}

int
Engine_set_return(PdbObject *d, PyObject *frame)
{
    if (frame_is_generator(frame)) {
        Engine_set_stopinfo(d, frame, NULL, -1);
        return 0;
    }
    PyObject *back = PyObject_GetAttrString(frame, "f_back");
    if (!back)
        return -1;
    Engine_set_stopinfo(d, back == Py_None ? NULL : back, frame, 0);
    Py_DECREF(back);
    return 0;
}

void
Engine_set_until(PdbObject *d, PyObject *frame, int lineno)
{
    if (lineno <= 0)
        lineno = Pdb_frame_lineno(frame) + 1;
    Engine_set_stopinfo(d, frame, frame, lineno);
}

void
Engine_set_continue(PdbObject *d)
{
    /* Don't stop except at breakpoints or when finished. */
    Engine_set_stopinfo(d, d->botframe, NULL, -1);
}

void
Engine_set_quit(PdbObject *d)
{
    Py_XSETREF(d->stopframe, Py_XNewRef(d->botframe));
    Py_CLEAR(d->returnframe);
    d->quitting = 1;
    if (d->run_thread)
        d->quit_in_run = 1;
}

/* --- attaching the backend ------------------------------------------------ */

int
Engine_is_active(PdbObject *d)
{
    return Sleuth_state()->active == d;
}

int
Engine_gen_caller_slow(ModState *st, PyObject *code)
{
    PyObject *codes = st->gen_callers;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(codes); i++)
        if (PyTuple_GET_ITEM(codes, i) == code)
            return 1;
    if (PyDict_GET_SIZE(st->breaks) == 0 || !PyCode_Check(code))
        return 0;
    PyObject *canon = Engine_canonic(st, ((PyCodeObject *)code)->co_filename);
    int r = canon ? Engine_file_has_breaks(st, canon) : -1;
    Py_XDECREF(canon);
    if (r < 0) {
        PyErr_Clear();      /* unsure: let the engine decide */
        return 1;
    }
    return r;
}

/* Stepping in a generator: see Engine_gen_caller. */
static int
gen_stepping(PdbObject *d)
{
    return d->stopframe && d->stopframe != Py_None && d->stopframe != d->botframe &&
           !d->quitting && frame_is_generator(d->stopframe);
}

/* The codes of this thread's frames now, innermost first (new ref). */
static PyObject *
stack_codes(void)
{
    PyObject *list = PyList_New(0);
    if (!list)
        return NULL;
    PyFrameObject *f = (PyFrameObject *)Py_XNewRef(PyEval_GetFrame());
    while (f) {
        PyObject *code = (PyObject *)PyFrame_GetCode(f);
        int r = PyList_Append(list, code);
        Py_DECREF(code);
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
        if (r < 0) {
            Py_XDECREF(f);
            Py_DECREF(list);
            return NULL;
        }
    }
    Py_SETREF(list, PyList_AsTuple(list));
    return list;
}

int
Engine_attach(PdbObject *d)
{
    ModState *st = Sleuth_state();
    if (gen_stepping(d)) {
        PyObject *codes = stack_codes();
        if (!codes)
            return -1;
        Py_XSETREF(st->gen_callers, codes);
    } else {
        Py_CLEAR(st->gen_callers);
    }
    if (!st->backend_attached) {
        /* Nothing may report while hooks go in (installing can import). */
        Py_CLEAR(st->active);
        if (Backend_install(st) < 0)
            return -1;
        st->backend_attached = 1;
    }
    if (st->active != d)
        Py_XSETREF(st->active, (PdbObject *)Py_NewRef(d));
    if (Hooks_refresh(d) < 0)
        return -1;
    return Backend_update(st, d);
}

int
Engine_claim_thread(void)
{
    return Backend_claim_thread(Sleuth_state());
}

int
Engine_resume(PdbObject *d)
{
    ModState *st = Sleuth_state();
    if (st->active != d)
        return 0;
    /* bdb.set_continue: with no breakpoints and nothing to step, tracing is
     * removed altogether, so the rest of the program runs at full speed. */
    if (!d->quitting && d->stoplineno == -1 && d->returnframe == NULL &&
        PyDict_GET_SIZE(st->breaks) == 0 && !gen_stepping(d) && !d->break_on_raise) {
        return Engine_detach();
    }
    if (d->quitting) {
        /* The unwinding BdbQuit needs no more events. */
        return Engine_detach();
    }
    return Engine_attach(d);
}

int
Engine_detach(void)
{
    ModState *st = Sleuth_state();
    int rc = 0;
    if (st->backend_attached) {
        rc = Backend_uninstall(st);
        st->backend_attached = 0;
    }
    Py_CLEAR(st->active);
    /* Drop the per-code table, and with a new generation every decision
     * cached from it (3.11 keeps "may break" in each code's co_extra): the
     * next attach rebuilds both. */
    ci_clear();
    Py_CLEAR(st->gen_callers);
    st->bp_generation++;
    return rc;
}

int
Engine_breaks_changed(void)
{
    ModState *st = Sleuth_state();
    st->bp_generation++;
    return 0;
}
