/* saferepr.c — bounded, non-mutating repr() (see saferepr.h for the contract).
 *
 * Sections: text writer, time guard, children, renderer, public API.
 *
 * The renderer writes into a small UTF-8 buffer that refuses text beyond the
 * character budget, and every loop stops as soon as the buffer is full or the
 * value's time is spent. That is what keeps a 100 MB list cheap: we never
 * ask Python for the repr of a builtin container, only of leaves.
 */
#include "saferepr.h"
#include "redact.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GUARD_CAPSULE "sleuth.saferepr.guard"
/* ints with more bits than this are shown as "<int of N bits>": repr() of
 * them is slow and 3.11+ refuses more than 4300 digits anyway. */
#define BIG_INT_BITS 12000
/* How far the secret scan looks into an object before trusting its repr. */
#define SECRET_SCAN_DEPTH 3
#define SECRET_SCAN_ITEMS 64
#define SECRET_SCAN_NODES 256   /* objects looked at per scan, in total */

static double
monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------------------------------ */
/* Text writer: UTF-8 bytes, counted in characters, cut at a limit.          */

typedef struct {
    char *buf;
    Py_ssize_t len, cap;    /* bytes */
    Py_ssize_t chars;       /* characters written */
    Py_ssize_t limit;       /* characters allowed */
    int full;               /* something did not fit: the text is cut */
    int nomem;
} Writer;

static int
w_reserve(Writer *w, Py_ssize_t extra)
{
    if (w->len + extra <= w->cap)
        return 0;
    Py_ssize_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + extra)
        cap *= 2;
    char *nb = PyMem_Realloc(w->buf, (size_t)cap);
    if (!nb) {
        w->nomem = 1;
        w->full = 1;
        return -1;
    }
    w->buf = nb;
    w->cap = cap;
    return 0;
}

/* Append UTF-8 text; raw newlines and carriage returns become \n and \r so
 * the result stays on one line. Stops at the character limit. */
static void
w_put(Writer *w, const char *s, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n && !w->full; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch & 0xC0) != 0x80) {          /* first byte of a character */
            if (w->chars >= w->limit) {
                w->full = 1;
                break;
            }
            w->chars++;
        }
        if (ch == '\n' || ch == '\r') {
            if (w_reserve(w, 2) < 0)
                break;
            w->buf[w->len++] = '\\';
            w->buf[w->len++] = ch == '\n' ? 'n' : 'r';
            w->chars++;
            continue;
        }
        if (w_reserve(w, 1) < 0)
            break;
        w->buf[w->len++] = (char)ch;
    }
}

static void
w_puts(Writer *w, const char *s)
{
    w_put(w, s, (Py_ssize_t)strlen(s));
}

/* Append a str object's text (at most what can still fit). */
static void
w_put_str(Writer *w, PyObject *s)
{
    /* Owned */
    PyObject *prefix = NULL;
    Py_ssize_t room = w->limit - w->chars + 1, n;

    if (w->full)
        return;
    if (PyUnicode_GET_LENGTH(s) > room) {
        /* A 50 MB repr must not be encoded whole just to be cut. */
        prefix = PyUnicode_Substring(s, 0, room);
        if (!prefix) {
            PyErr_Clear();
            w->full = 1;
            return;
        }
        s = prefix;
    }
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) {
        PyErr_Clear();
        w_puts(w, "<unprintable text>");
    }
    else
        w_put(w, u, n);
    Py_XDECREF(prefix);
}

/* Finish: cut to limit-3 characters plus "..." when the text did not fit. */
static PyObject *
w_finish(Writer *w)
{
    PyObject *res;

    if (w->nomem) {
        PyMem_Free(w->buf);
        return PyErr_NoMemory();
    }
    if (w->full) {
        Py_ssize_t keep = w->limit > 3 ? w->limit - 3 : 0, seen = 0, i;
        for (i = 0; i < w->len; i++) {
            if ((((unsigned char)w->buf[i]) & 0xC0) != 0x80) {
                if (seen == keep)
                    break;
                seen++;
            }
        }
        w->len = i;
        w->full = 0;
        w->chars = 0;
        w->limit = PY_SSIZE_T_MAX;
        w_puts(w, "...");
        if (w->nomem) {
            PyMem_Free(w->buf);
            return PyErr_NoMemory();
        }
    }
    res = PyUnicode_DecodeUTF8(w->buf ? w->buf : "", w->len, "replace");
    PyMem_Free(w->buf);
    w->buf = NULL;
    return res;
}

/* ------------------------------------------------------------------------ */
/* Time guard: a C trace function, present only while a batch uses it.     */

static int
guard_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    SLEUTH_UNUSED(frame);
    SLEUTH_UNUSED(what);
    SLEUTH_UNUSED(arg);
    SafeRepr_Context *c = PyCapsule_GetPointer(obj, GUARD_CAPSULE);
    if (!c) {
        PyErr_Clear();
        return 0;
    }
    if (!c->armed)
        return 0;
    if (monotonic_now() > c->guard_deadline) {
        c->timed_out = 1;
        PyErr_SetString(PyExc_TimeoutError, "repr time budget exceeded");
        return -1;
    }
    return 0;
}


/* ------------------------------------------------------------------------ */
/* Watchdog: interrupts a repr blocked in a system call.                    */
/*
 * The trace guard only runs between Python lines: a __repr__ that calls
 * time.sleep(100), waits on a lock or reads a socket is in C, with the GIL
 * released, and no trace event comes. So, on the main thread, a batch also
 * starts a watchdog thread (plain pthread: it never touches Python) that
 * sends WATCHDOG_SIGNAL to the thread running the repr once its deadline has
 * passed, and again every 100 ms while it stays there. The signal has a
 * Python-level handler for the batch's duration (installed with _signal,
 * only when nobody else uses that signal): the system call returns EINTR,
 * CPython runs the handler (PEP 475), and the handler raises TimeoutError
 * inside the repr, which then shows "<repr timed out>". The handler raises
 * only while that repr is still running; at any other time it does nothing,
 * so the exception never reaches the program.
 *
 * Putting SIG_DFL back at the end is only safe once CPython has run the
 * handler for every signal sent (otherwise it would report "Signal N ignored
 * due to race condition" on stderr later): when a signal sent just as the
 * repr returned is still waiting for it, the handler (harmless outside a
 * repr) is left in place for the process.
 *
 * What it cannot do: stop C code that holds the GIL (a long C loop, a
 * regular expression that backtracks), a call that retries on EINTR without
 * running signal handlers, or a repr running on a thread other than the
 * main thread (Python runs signal handlers on the main thread only). Those
 * still take as long as they take.
 */
#define WATCHDOG_SIGNAL (SIGRTMAX - 5)
#define WATCHDOG_RESEND 0.1

typedef struct SafeRepr_Watchdog {
    pthread_t thread;
    pthread_t target;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int quit, armed;
    double deadline;
    volatile sig_atomic_t fired;         /* a signal was sent for this repr */
    volatile sig_atomic_t trip_pending;  /* sent, the Python handler has not run yet */
    int installed;                       /* we put the handler in (and may take it out) */
} Watchdog;

/* The batch whose repr the handler may interrupt (main thread only). */
static SafeRepr_Context *wd_active = NULL;

static PyObject *
wd_handler(PyObject *self, PyObject *args)
{
    SLEUTH_UNUSED(self);
    SLEUTH_UNUSED(args);
    SafeRepr_Context *c = wd_active;
    Watchdog *wd = c ? c->watchdog : NULL;
    if (wd)
        wd->trip_pending = 0;
    if (wd && c->armed && wd->fired) {
        c->timed_out = 1;
        PyErr_SetString(PyExc_TimeoutError, "repr time budget exceeded");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef wd_handler_def = {
    "_sleuth_repr_watchdog", wd_handler, METH_VARARGS,
    "sleuth: interrupts a repr that passed its time budget (does nothing otherwise)."};

static void
abs_after(struct timespec *ts, double secs)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    double t = (double)ts->tv_sec + (double)ts->tv_nsec * 1e-9 + secs;
    ts->tv_sec = (time_t)t;
    ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *
wd_main(void *arg)
{
    Watchdog *wd = arg;
    struct timespec ts;
    pthread_mutex_lock(&wd->mu);
    while (!wd->quit) {
        if (!wd->armed) {
            pthread_cond_wait(&wd->cv, &wd->mu);
            continue;
        }
        double left = wd->deadline - monotonic_now();
        if (left > 0) {
            abs_after(&ts, left);
            pthread_cond_timedwait(&wd->cv, &wd->mu, &ts);
            continue;
        }
        wd->fired = 1;
        wd->trip_pending = 1;
        pthread_kill(wd->target, WATCHDOG_SIGNAL);
        abs_after(&ts, WATCHDOG_RESEND);
        pthread_cond_timedwait(&wd->cv, &wd->mu, &ts);
    }
    pthread_mutex_unlock(&wd->mu);
    return NULL;
}

static int
is_our_handler(PyObject *h)
{
    return h && PyCFunction_Check(h) && ((PyCFunctionObject *)h)->m_ml == &wd_handler_def;
}

/* Start the watchdog for batch C, when this thread can have signal
 * handlers and the signal is free. Failure only costs the watchdog. */
static void
watchdog_start(SafeRepr_Context *c)
{
    /* Owned */
    PyObject *pending = PyErr_GetRaisedException();
    PyObject *mod = NULL, *old = NULL, *handler = NULL, *r = NULL;
    Watchdog *wd = NULL;
    int installed = 0;
    struct sigaction cur;

    if (wd_active || c->watchdog)
        goto done;
    mod = PyImport_ImportModule("_signal");
    old = mod ? PyObject_CallMethod(mod, "getsignal", "i", (int)WATCHDOG_SIGNAL) : NULL;
    if (!old)
        goto done;
    if (!is_our_handler(old)) {
        /* Only a signal nobody uses: default in Python and in the OS. */
        if (!PyLong_Check(old) || PyLong_AsLong(old) != (long)(intptr_t)SIG_DFL)
            goto done;
        if (sigaction(WATCHDOG_SIGNAL, NULL, &cur) < 0 || (cur.sa_flags & SA_SIGINFO) ||
            cur.sa_handler != SIG_DFL)
            goto done;
        handler = PyCFunction_New(&wd_handler_def, NULL);
        /* ValueError off the main thread: no watchdog there. */
        r = handler ? PyObject_CallMethod(mod, "signal", "iO", (int)WATCHDOG_SIGNAL, handler)
                    : NULL;
        if (!r)
            goto done;
        installed = 1;
    }
    wd = calloc(1, sizeof *wd);
    if (!wd)
        goto fail;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wd->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&wd->mu, NULL);
    wd->target = pthread_self();
    wd->installed = installed;
    {
        /* The watchdog takes no signal meant for the program. */
        sigset_t all, saved;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &saved);
        int e = pthread_create(&wd->thread, NULL, wd_main, wd);
        pthread_sigmask(SIG_SETMASK, &saved, NULL);
        if (e != 0) {
            pthread_mutex_destroy(&wd->mu);
            pthread_cond_destroy(&wd->cv);
            free(wd);
            wd = NULL;
            goto fail;
        }
    }
    c->watchdog = wd;
    wd_active = c;
    goto done;
fail:
    if (installed) {
        Py_XDECREF(r);
        r = PyObject_CallMethod(mod, "signal", "ii", (int)WATCHDOG_SIGNAL, 0);
    }
done:
    PyErr_Clear();
    Py_XDECREF(mod);
    Py_XDECREF(old);
    Py_XDECREF(handler);
    Py_XDECREF(r);
    PyErr_SetRaisedException(pending);
}

static void
watchdog_arm(SafeRepr_Context *c, int on)
{
    Watchdog *wd = c->watchdog;
    if (!wd)
        return;
    pthread_mutex_lock(&wd->mu);
    wd->armed = on;
    if (on) {
        wd->fired = 0;
        wd->deadline = c->guard_deadline;
    }
    pthread_cond_signal(&wd->cv);
    pthread_mutex_unlock(&wd->mu);
}

static void
watchdog_stop(SafeRepr_Context *c)
{
    Watchdog *wd = c->watchdog;
    if (!wd)
        return;
    /* Owned */
    PyObject *pending = PyErr_GetRaisedException(), *mod = NULL, *r = NULL;
    pthread_mutex_lock(&wd->mu);
    wd->quit = 1;
    wd->armed = 0;
    pthread_cond_signal(&wd->cv);
    pthread_mutex_unlock(&wd->mu);
    /* Joined with the GIL held: the watchdog never takes it, and the
     * batch's caller keeps the GIL from start to end as before. */
    pthread_join(wd->thread, NULL);
    /* A signal sent just before the disarm is delivered on the way back
     * from this system call, while the handler is still ours. */
    sigset_t set;
    sigpending(&set);
    if (wd->installed && !wd->trip_pending) {
        mod = PyImport_ImportModule("_signal");
        r = mod ? PyObject_CallMethod(mod, "signal", "ii", (int)WATCHDOG_SIGNAL,
                                      (int)(intptr_t)SIG_DFL) : NULL;
    }
    PyErr_Clear();
    Py_XDECREF(mod);
    Py_XDECREF(r);
    pthread_mutex_destroy(&wd->mu);
    pthread_cond_destroy(&wd->cv);
    free(wd);
    c->watchdog = NULL;
    if (wd_active == c)
        wd_active = NULL;
    PyErr_SetRaisedException(pending);
}

/* Install the guard (once per batch). Failure only costs the guard. */
static void
guard_install(SafeRepr_Context *c)
{
    if (c->guard_installed || c->opts.max_seconds <= 0)
        return;
    PyThreadState *ts = PyThreadState_Get();
    c->capsule = PyCapsule_New(c, GUARD_CAPSULE, NULL);
    if (!c->capsule) {
        PyErr_Clear();
        return;
    }
    c->saved_func = ts->c_tracefunc;
    c->saved_obj = Py_XNewRef(ts->c_traceobj);
    /* Inside a trace or sys.monitoring callback (the debugger at a stop)
     * the thread is marked as tracing and no trace function would be
     * called: a looping __repr__ would hang the debugger. The mark is
     * lifted while the guard is on and put back as it was. */
    c->tracing_lowered = 0;
    while (ts->tracing > 0) {
        PyThreadState_LeaveTracing(ts);
        c->tracing_lowered++;
    }
    PyEval_SetTrace(guard_trace, c->capsule);
    c->guard_installed = 1;
    watchdog_start(c);
}

static void
guard_remove(SafeRepr_Context *c)
{
    watchdog_stop(c);
    if (c->guard_installed) {
        PyEval_SetTrace(c->saved_func, c->saved_obj);
        c->guard_installed = 0;
        PyThreadState *ts = PyThreadState_Get();
        for (; c->tracing_lowered > 0; c->tracing_lowered--)
            PyThreadState_EnterTracing(ts);
    }
    Py_CLEAR(c->saved_obj);
    Py_CLEAR(c->capsule);
    Py_CLEAR(c->secret_cache);
    Py_CLEAR(c->repr_memo);
}

/* repr(obj) of user code, under the guard. New str, or NULL with the
 * exception that the repr raised (TimeoutError when the guard fired). */
static PyObject *
guarded_repr(SafeRepr_Context *c, PyObject *obj)
{
    PyObject *res;

    guard_install(c);
    int was_armed = c->armed;
    c->armed = 1;
    watchdog_arm(c, 1);
    res = PyObject_Repr(obj);
    watchdog_arm(c, was_armed);
    c->armed = was_armed;
    return res;
}

static int
time_is_up(SafeRepr_Context *c)
{
    if (c->timed_out)
        return 1;
    if (c->opts.max_seconds > 0 && monotonic_now() > c->deadline) {
        c->timed_out = 1;
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Children: what lies inside a value, read without running user code.      */

static int
has_builtin_set_iter(PyObject *obj)
{
    return Py_TYPE(obj)->tp_iter == PySet_Type.tp_iter;
}

/* The tp_dealloc of classes made by a class statement (or type()): C
 * types, heap or static, have their own. Found once from a probe class. */
static destructor
python_class_dealloc(void)
{
    static destructor found = NULL;
    static int tried = 0;
    if (!tried) {
        tried = 1;
        PyObject *pending = PyErr_GetRaisedException();
        PyObject *cls = PyObject_CallFunction((PyObject *)&PyType_Type, "s(){}",
                                              "_sleuth_probe");
        if (cls) {
            found = ((PyTypeObject *)cls)->tp_dealloc;
            Py_DECREF(cls);
        }
        PyErr_Clear();
        PyErr_SetRaisedException(pending);
    }
    return found;
}

/* Instances of classes written in Python, whose state is in __dict__ and
 * __slots__. C types made as heap types (functools.partial since 3.10, and
 * many more in 3.12) are not: their members are C fields such as
 * __vectorcalloffset__, and their own repr says what they hold. */
static int
is_python_class(PyTypeObject *tp)
{
    destructor d = python_class_dealloc();
    return (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) && (!d || tp->tp_dealloc == d);
}

/* The dict behind a types.MappingProxyType (borrowed), when it is a real
 * dict; NULL otherwise. The proxy's layout (one PyObject *mapping after the
 * header) is the same in 3.11 to 3.13 and reading it runs no user code. */
typedef struct { PyObject_HEAD PyObject *mapping; } ProxyLayout;

static PyObject *
proxy_dict(PyObject *obj)
{
    if (!Py_IS_TYPE(obj, &PyDictProxy_Type))
        return NULL;
    PyObject *m = ((ProxyLayout *)obj)->mapping;
    return m && PyDict_Check(m) ? m : NULL;
}

/* The dict whose items a MAPPING shows (borrowed). */
static PyObject *
mapping_dict(PyObject *obj)
{
    return PyDict_Check(obj) ? obj : proxy_dict(obj);
}

static int
is_namespace(PyTypeObject *tp)
{
    return strcmp(tp->tp_name, "types.SimpleNamespace") == 0 && tp->tp_dictoffset != 0;
}

SafeRepr_Kind
SafeRepr_kind(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);

    if (PyList_Check(obj) || PyTuple_Check(obj))
        return SAFEREPR_SEQUENCE;
    if (PyDict_Check(obj) || proxy_dict(obj))
        return SAFEREPR_MAPPING;
    if (PyAnySet_Check(obj))
        return has_builtin_set_iter(obj) ? SAFEREPR_SET : SAFEREPR_ATOM;
    if (PyType_Check(obj) || PyModule_Check(obj) || PyExceptionInstance_Check(obj))
        return SAFEREPR_ATOM;
    /* Instances of Python classes: their state is in __dict__ and slots,
     * which are read directly, so __getattr__/__getattribute__ and
     * properties never run. */
    if (is_python_class(tp) || is_namespace(tp))
        return SAFEREPR_OBJECT;
    return SAFEREPR_ATOM;
}

/* Append (name, value) for every filled member slot of heap classes. */
static int
add_slots(PyObject *obj, PyObject *out, Py_ssize_t max_items, Py_ssize_t *total)
{
    PyObject *mro = Py_TYPE(obj)->tp_mro;   /* borrowed */
    if (!mro || !PyTuple_Check(mro))
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE) || !base->tp_dict)
            continue;
        /* Only the slots a class statement declared: a C base's members
         * (partial's __vectorcalloffset__) are not attributes. */
        if (!PyDict_GetItemString(base->tp_dict, "__slots__"))   /* borrowed */
            continue;
        PyObject *k, *descr;
        Py_ssize_t pos = 0;
        while (PyDict_Next(base->tp_dict, &pos, &k, &descr)) {
            /* Member descriptors read a C slot: no user code runs. */
            if (!Py_IS_TYPE(descr, &PyMemberDescr_Type) || !PyUnicode_Check(k))
                continue;
            PyObject *v = Py_TYPE(descr)->tp_descr_get(descr, obj, (PyObject *)Py_TYPE(obj));
            if (!v) {
                PyErr_Clear();          /* an unset slot */
                continue;
            }
            (*total)++;
            int rc = 0;
            if (PyList_GET_SIZE(out) < max_items) {
                PyObject *pair = PyTuple_Pack(2, k, v);
                rc = pair ? PyList_Append(out, pair) : -1;
                Py_XDECREF(pair);
            }
            Py_DECREF(v);
            if (rc < 0)
                return -1;
        }
    }
    return 0;
}

/* The instance __dict__ (new ref) or NULL without an exception. */
static PyObject *
instance_dict(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    int has_dict = tp->tp_dictoffset != 0;
#ifdef Py_TPFLAGS_MANAGED_DICT
    has_dict = has_dict || (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT);
#endif
    if (!has_dict)
        return NULL;
    PyObject *d = PyObject_GenericGetDict(obj, NULL);
    if (!d || !PyDict_Check(d)) {
        PyErr_Clear();
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

PyObject *
SafeRepr_children(PyObject *obj, Py_ssize_t max_items, Py_ssize_t *total)
{
    /* Owned */
    PyObject *out = NULL, *it = NULL, *item = NULL, *d = NULL;
    SafeRepr_Kind kind = SafeRepr_kind(obj);

    *total = 0;
    out = PyList_New(0);
    if (!out)
        goto error;
    switch (kind) {
    case SAFEREPR_SEQUENCE: {
        int is_list = PyList_Check(obj);
        *total = is_list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
        for (Py_ssize_t i = 0; i < max_items; i++) {
            Py_ssize_t n = is_list ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
            if (i >= n)
                break;
            PyObject *v = is_list ? PyList_GET_ITEM(obj, i) : PyTuple_GET_ITEM(obj, i);
            if (PyList_Append(out, v) < 0)
                goto error;
        }
        break;
    }
    case SAFEREPR_SET:
        *total = PySet_GET_SIZE(obj);
        it = PyObject_GetIter(obj);
        if (!it)
            goto error;
        while (PyList_GET_SIZE(out) < max_items && (item = PyIter_Next(it)) != NULL) {
            if (PyList_Append(out, item) < 0)
                goto error;
            Py_CLEAR(item);
        }
        PyErr_Clear();      /* "set changed size during iteration": keep what we have */
        break;
    case SAFEREPR_MAPPING: {
        PyObject *k, *v, *dict = mapping_dict(obj);
        Py_ssize_t pos = 0;
        *total = PyDict_GET_SIZE(dict);
        while (PyList_GET_SIZE(out) < max_items && PyDict_Next(dict, &pos, &k, &v)) {
            PyObject *pair = PyTuple_Pack(2, k, v);
            if (!pair || PyList_Append(out, pair) < 0) {
                Py_XDECREF(pair);
                goto error;
            }
            Py_DECREF(pair);
        }
        break;
    }
    case SAFEREPR_OBJECT: {
        d = instance_dict(obj);
        if (d) {
            PyObject *k, *v;
            Py_ssize_t pos = 0;
            while (PyDict_Next(d, &pos, &k, &v)) {
                if (!PyUnicode_Check(k))
                    continue;
                (*total)++;
                if (PyList_GET_SIZE(out) >= max_items)
                    continue;
                PyObject *pair = PyTuple_Pack(2, k, v);
                if (!pair || PyList_Append(out, pair) < 0) {
                    Py_XDECREF(pair);
                    goto error;
                }
                Py_DECREF(pair);
            }
        }
        if (add_slots(obj, out, max_items, total) < 0)
            goto error;
        break;
    }
    case SAFEREPR_ATOM:
        break;
    }
    Py_XDECREF(it);
    Py_XDECREF(d);
    return out;
error:
    Py_XDECREF(out);
    Py_XDECREF(it);
    Py_XDECREF(item);
    Py_XDECREF(d);
    return NULL;
}

PyObject *
SafeRepr_type_name(PyTypeObject *tp)
{
    /* Owned */
    PyObject *qual = NULL, *mod = NULL, *res = NULL;

    qual = PyType_GetQualName(tp);
    if (!qual)
        goto done;
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        /* Static types: the module is the part of tp_name before the dot. */
        const char *dot = strrchr(tp->tp_name, '.');
        if (!dot) {
            res = Py_NewRef(qual);
            goto done;
        }
        res = PyUnicode_FromFormat("%.*s.%U", (int)(dot - tp->tp_name), tp->tp_name, qual);
        goto done;
    }
    mod = PyDict_GetItemString(tp->tp_dict, "__module__");   /* borrowed */
    if (mod && PyUnicode_Check(mod) && PyUnicode_CompareWithASCIIString(mod, "builtins") != 0)
        res = PyUnicode_FromFormat("%U.%U", mod, qual);
    else
        res = Py_NewRef(qual);
    mod = NULL;
done:
    Py_XDECREF(qual);
    return res;
}

/* ------------------------------------------------------------------------ */
/* Renderer                                                                 */

static void render(SafeRepr_Context *c, Writer *w, PyObject *obj, int depth);

int
SafeRepr_is_secret_name(SafeRepr_Context *c, PyObject *name)
{
    int r = Redact_name_matches(c->opts.redact, name);
    if (r < 0) {
        PyErr_Clear();
        return 0;
    }
    return r;
}

void
SafeRepr_note_secret(SafeRepr_Context *c, PyObject *value, Redact_Kind kind)
{
    if (c->opts.redact)
        Redact_note(&c->found, value, kind, REDACT_MIN_NEEDLE);
}

int
SafeRepr_near_secret(SafeRepr_Context *c, PyObject *name, PyObject *value)
{
    if (!c->opts.redact || !Redact_near_secret(c->opts.redact, name, value))
        return 0;
    SafeRepr_note_secret(c, value, REDACT_K_ENTROPY);
    return 1;
}

/* A namedtuple's field names: `_fields` found in the class dicts of its
 * MRO (borrowed; no descriptor or __getattr__ runs), or NULL. */
static PyObject *
tuple_fields(PyObject *obj)
{
    if (PyTuple_CheckExact(obj) || !PyTuple_Check(obj))
        return NULL;
    PyObject *mro = Py_TYPE(obj)->tp_mro;
    for (Py_ssize_t i = 0; mro && PyTuple_Check(mro) && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!base->tp_dict)
            continue;
        PyObject *f = PyDict_GetItemString(base->tp_dict, "_fields");   /* borrowed */
        if (f)
            return PyTuple_Check(f) ? f : NULL;
    }
    return NULL;
}

/* Does obj's class define a property with a secret name? Its value lives
 * in some private attribute that sleuth shows instead (getters never run). */
static int
has_secret_property(SafeRepr_Context *c, PyObject *obj)
{
    PyObject *mro = Py_TYPE(obj)->tp_mro;
    for (Py_ssize_t i = 0; mro && PyTuple_Check(mro) && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE) || !base->tp_dict)
            continue;
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(base->tp_dict, &pos, &k, &v))
            if (PyObject_TypeCheck(v, &PyProperty_Type) && SafeRepr_is_secret_name(c, k))
                return 1;
    }
    return 0;
}

int
SafeRepr_is_secret_attr(SafeRepr_Context *c, PyObject *obj, PyObject *name)
{
    if (SafeRepr_is_secret_name(c, name))
        return 1;
    if (!c->opts.redact || !PyUnicode_Check(name) || PyUnicode_GET_LENGTH(name) < 2
            || PyUnicode_READ_CHAR(name, 0) != '_' || SafeRepr_kind(obj) != SAFEREPR_OBJECT)
        return 0;
    return has_secret_property(c, obj);
}

/* Is item i of a sequence secret by its field name or its pair's name? */
static int
secret_item(SafeRepr_Context *c, PyObject *seq, Py_ssize_t i, Redact_Kind *kind)
{
    if (!c->opts.redact || !PyTuple_Check(seq))
        return 0;
    PyObject *fields = tuple_fields(seq);
    if (fields) {
        *kind = REDACT_K_NAME;
        return i < PyTuple_GET_SIZE(fields)
               && SafeRepr_is_secret_name(c, PyTuple_GET_ITEM(fields, i));
    }
    /* ("password", value): the value of a name/value pair. */
    *kind = REDACT_K_PAIR;
    return i == 1 && PyTuple_GET_SIZE(seq) == 2
           && (PyUnicode_Check(PyTuple_GET_ITEM(seq, 0)) || PyBytes_Check(PyTuple_GET_ITEM(seq, 0)))
           && SafeRepr_is_secret_name(c, PyTuple_GET_ITEM(seq, 0));
}

int
SafeRepr_hide_item(SafeRepr_Context *c, PyObject *seq, Py_ssize_t i)
{
    Redact_Kind kind;
    if (!secret_item(c, seq, i, &kind) || i >= PyTuple_GET_SIZE(seq))
        return 0;
    SafeRepr_note_secret(c, PyTuple_GET_ITEM(seq, i), kind);
    return 1;
}

/* Would the object's own __repr__ show a secret? Looks a few levels into
 * dicts, lists and instance attributes for a name that must be redacted. */
static int
holds_secret_inner(SafeRepr_Context *c, PyObject *obj, int depth, int *budget)
{
    /* Owned */
    PyObject *kids = NULL;
    Py_ssize_t total;
    int found = 0;

    if (depth > SECRET_SCAN_DEPTH || !c->opts.redact || PyTuple_GET_SIZE(c->opts.redact) == 0)
        return 0;
    /* Too big to be sure: treat it as holding a secret (render it here). */
    if (--(*budget) < 0)
        return 1;
    SafeRepr_Kind kind = SafeRepr_kind(obj);
    if (kind == SAFEREPR_ATOM || kind == SAFEREPR_SET)
        return 0;
    if (Py_EnterRecursiveCall(" in sleuth's secret scan"))  {
        PyErr_Clear();
        return 0;
    }
    kids = SafeRepr_children(obj, SECRET_SCAN_ITEMS, &total);
    if (!kids) {
        PyErr_Clear();
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(kids) && !found; i++) {
        PyObject *kid = PyList_GET_ITEM(kids, i);
        if (kind == SAFEREPR_SEQUENCE) {
            Redact_Kind why;
            found = secret_item(c, obj, i, &why) || holds_secret_inner(c, kid, depth + 1, budget);
            continue;
        }
        if (kind == SAFEREPR_OBJECT ? SafeRepr_is_secret_attr(c, obj, PyTuple_GET_ITEM(kid, 0))
                                    : SafeRepr_is_secret_name(c, PyTuple_GET_ITEM(kid, 0)))
            found = 1;
        else
            found = holds_secret_inner(c, PyTuple_GET_ITEM(kid, 1), depth + 1, budget);
    }
done:
    Py_LeaveRecursiveCall();
    Py_XDECREF(kids);
    return found;
}

/* Scans are remembered for the batch (structure capture asks about the
 * same objects again at every level). The cache holds a reference to each
 * object so that its id cannot be reused by another one meanwhile. */
static int
holds_secret(SafeRepr_Context *c, PyObject *obj, int depth)
{
    int budget = SECRET_SCAN_NODES;
    PyObject *key = NULL, *hit = NULL, *entry = NULL;

    if (!c->opts.redact || PyTuple_GET_SIZE(c->opts.redact) == 0)
        return 0;
    if (!c->secret_cache)
        c->secret_cache = PyDict_New();
    key = c->secret_cache ? PyLong_FromVoidPtr(obj) : NULL;
    if (key) {
        hit = PyDict_GetItemWithError(c->secret_cache, key);   /* borrowed */
        if (hit) {
            Py_DECREF(key);
            return PyTuple_GET_ITEM(hit, 1) == Py_True;
        }
    }
    PyErr_Clear();
    int found = holds_secret_inner(c, obj, depth, &budget);
    if (key) {
        entry = PyTuple_Pack(2, obj, found ? Py_True : Py_False);
        if (!entry || PyDict_SetItem(c->secret_cache, key, entry) < 0)
            PyErr_Clear();
        Py_XDECREF(entry);
        Py_DECREF(key);
    }
    return found;
}

static int
is_ancestor(SafeRepr_Context *c, PyObject *obj)
{
    for (int i = 0; i < c->nancestors; i++)
        if (c->ancestors[i] == obj)
            return 1;
    return 0;
}

/* "TypeName" of obj's type, for prefixes such as "OrderedDict(". */
static void
w_type_name(Writer *w, PyObject *obj)
{
    PyObject *name = PyType_GetName(Py_TYPE(obj));
    if (!name) {
        PyErr_Clear();
        w_puts(w, Py_TYPE(obj)->tp_name);
        return;
    }
    w_put_str(w, name);
    Py_DECREF(name);
}

/* What user repr code said about OBJ earlier in this batch (borrowed str),
 * or NULL. A capture reaches one object from many places (each frame that
 * holds it, each container, the structure view): its __repr__ runs once,
 * which matters when it is slow or mutates the object. */
static PyObject *
memo_get(SafeRepr_Context *c, PyObject *obj)
{
    if (!c->repr_memo)
        return NULL;
    PyObject *key = PyLong_FromVoidPtr(obj);
    PyObject *hit = key ? PyDict_GetItemWithError(c->repr_memo, key) : NULL;   /* borrowed */
    Py_XDECREF(key);
    PyErr_Clear();
    return hit ? PyTuple_GET_ITEM(hit, 1) : NULL;
}

/* Remembers TEXT (cut to what a value can show) for OBJ. The memo keeps a
 * reference to OBJ so that its id is not reused by another object during
 * the batch. Failures only cost the memo. */
static void
memo_put(SafeRepr_Context *c, PyObject *obj, PyObject *text)
{
    /* Owned */
    PyObject *key = NULL, *cut = NULL, *entry = NULL;

    if (!c->repr_memo && !(c->repr_memo = PyDict_New()))
        goto done;
    if (PyUnicode_GET_LENGTH(text) > c->opts.max_chars + 1) {
        cut = PyUnicode_Substring(text, 0, c->opts.max_chars + 1);
        if (!cut)
            goto done;
        text = cut;
    }
    key = PyLong_FromVoidPtr(obj);
    entry = key ? PyTuple_Pack(2, obj, text) : NULL;
    if (entry)
        PyDict_SetItem(c->repr_memo, key, entry);
done:
    PyErr_Clear();
    Py_XDECREF(key);
    Py_XDECREF(cut);
    Py_XDECREF(entry);
}

/* Leaf repr through Python: builtin leaves directly, everything else under
 * the time guard, at most once per batch. */
static void
render_via_repr(SafeRepr_Context *c, Writer *w, PyObject *obj, int trusted)
{
    /* Owned */
    PyObject *text = NULL, *exc = NULL;
    /* Borrowed */
    PyObject *known;

    c->timed_out = 0;
    if (!trusted && (known = memo_get(c, obj)) != NULL) {
        w_put_str(w, known);
        return;
    }
    if (!trusted && c->opts.total_seconds > 0 && monotonic_now() > c->batch_deadline) {
        w_puts(w, "<repr skipped: time budget spent>");
        return;
    }
    text = trusted ? PyObject_Repr(obj) : guarded_repr(c, obj);
    if (text && !PyUnicode_Check(text)) {
        Py_CLEAR(text);     /* cannot happen: PyObject_Repr checks; be sure */
        PyErr_SetString(PyExc_TypeError, "repr is not a str");
    }
    if (!text) {
        exc = PyErr_GetRaisedException();
        if (c->timed_out)
            text = PyUnicode_FromString("<repr timed out>");
        else if (exc) {
            PyObject *name = PyType_GetName(Py_TYPE(exc));
            text = name ? PyUnicode_FromFormat("<repr failed: %U>", name)
                        : PyUnicode_FromString("<repr failed: ?>");
            Py_XDECREF(name);
        }
        else
            text = PyUnicode_FromString("<repr failed>");
        Py_XDECREF(exc);
        if (!text) {
            PyErr_Clear();
            w_puts(w, "<repr failed>");
            return;
        }
    }
    if (!trusted)
        memo_put(c, obj, text);
    w_put_str(w, text);
    Py_DECREF(text);
}

static void
render_str_prefix(Writer *w, PyObject *obj)
{
    /* Owned */
    PyObject *part = NULL, *text = NULL;
    Py_ssize_t room = w->limit - w->chars + 1;
    int cut = PyUnicode_GET_LENGTH(obj) > room;

    part = cut ? PyUnicode_Substring(obj, 0, room) : Py_NewRef(obj);
    if (!part)
        goto fail;
    text = PyObject_Repr(part);
    if (!text)
        goto fail;
    w_put_str(w, text);
    if (cut)
        w->full = 1;
    Py_DECREF(part);
    Py_DECREF(text);
    return;
fail:
    PyErr_Clear();
    Py_XDECREF(part);
    w_puts(w, "<str>");
}

static void
render_bytes_prefix(Writer *w, PyObject *obj)
{
    /* Owned */
    PyObject *part = NULL, *text = NULL;
    Py_ssize_t room = w->limit - w->chars + 1;
    int is_array = PyByteArray_Check(obj);
    Py_ssize_t n = is_array ? PyByteArray_GET_SIZE(obj) : PyBytes_GET_SIZE(obj);
    int cut = n > room;

    if (cut)
        n = room;
    part = PyBytes_FromStringAndSize(is_array ? PyByteArray_AS_STRING(obj) : PyBytes_AS_STRING(obj), n);
    if (!part)
        goto fail;
    text = PyObject_Repr(part);
    if (!text)
        goto fail;
    if (is_array)
        w_puts(w, "bytearray(");
    w_put_str(w, text);
    if (is_array)
        w_puts(w, ")");
    if (cut)
        w->full = 1;
    Py_DECREF(part);
    Py_DECREF(text);
    return;
fail:
    PyErr_Clear();
    Py_XDECREF(part);
    w_puts(w, "<bytes>");
}

static void
render_int(SafeRepr_Context *c, Writer *w, PyObject *obj)
{
    int overflow = 0;
    (void)PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (overflow) {
        PyObject *bits = PyObject_CallMethod(obj, "bit_length", NULL);
        long long nbits = bits ? PyLong_AsLongLong(bits) : -1;
        Py_XDECREF(bits);
        if (nbits < 0)
            PyErr_Clear();
        if (nbits < 0 || nbits > BIG_INT_BITS) {
            char buf[64];
            snprintf(buf, sizeof buf, "<int of %lld bits>", nbits);
            w_puts(w, buf);
            return;
        }
    }
    render_via_repr(c, w, obj, 1);
}

/* Items of obj (a SEQUENCE, SET or MAPPING, or OBJECT attributes) between
 * `open` and `close`. */
static void
render_container(SafeRepr_Context *c, Writer *w, PyObject *obj, int depth,
                 SafeRepr_Kind kind, const char *open, const char *close)
{
    /* Owned */
    PyObject *kids = NULL;
    Py_ssize_t total = 0;

    w_puts(w, open);
    if (is_ancestor(c, obj) || depth >= c->opts.max_depth
            || c->nancestors >= SAFEREPR_MAX_DEPTH_LIMIT) {
        w_puts(w, "...");
        w_puts(w, close);
        return;
    }
    kids = SafeRepr_children(obj, c->opts.max_items, &total);
    if (!kids) {
        PyErr_Clear();
        w_puts(w, "...");
        w_puts(w, close);
        return;
    }
    c->ancestors[c->nancestors++] = obj;
    Py_ssize_t n = PyList_GET_SIZE(kids);
    for (Py_ssize_t i = 0; i < n && !w->full; i++) {
        if (time_is_up(c)) {
            w_puts(w, i ? ", ..." : "...");
            w->full = 1;
            break;
        }
        if (i)
            w_puts(w, ", ");
        PyObject *kid = PyList_GET_ITEM(kids, i);
        if (kind == SAFEREPR_SEQUENCE || kind == SAFEREPR_SET) {
            PyObject *fields = kind == SAFEREPR_SEQUENCE ? tuple_fields(obj) : NULL;
            if (fields && i < PyTuple_GET_SIZE(fields) && PyUnicode_Check(PyTuple_GET_ITEM(fields, i))) {
                w_put_str(w, PyTuple_GET_ITEM(fields, i));
                w_puts(w, "=");
            }
            if (kind == SAFEREPR_SEQUENCE && SafeRepr_hide_item(c, obj, i))
                w_puts(w, REDACT_REPR);
            else
                render(c, w, kid, depth + 1);
            continue;
        }
        PyObject *key = PyTuple_GET_ITEM(kid, 0), *val = PyTuple_GET_ITEM(kid, 1);
        if (kind == SAFEREPR_OBJECT) {
            w_put_str(w, key);
            w_puts(w, "=");
        }
        else {
            render(c, w, key, depth + 1);
            w_puts(w, ": ");
        }
        if (kind == SAFEREPR_OBJECT ? SafeRepr_is_secret_attr(c, obj, key)
                                    : SafeRepr_is_secret_name(c, key)) {
            w_puts(w, REDACT_REPR);
            SafeRepr_note_secret(c, val, REDACT_K_NAME);
        }
        else if (SafeRepr_near_secret(c, key, val))
            w_puts(w, REDACT_REPR);
        else
            render(c, w, val, depth + 1);
    }
    c->nancestors--;
    if (total > n && !w->full)
        w_puts(w, n ? ", ..." : "...");
    if (kind == SAFEREPR_SEQUENCE && PyTuple_Check(obj) && total == 1)
        w_puts(w, ",");
    w_puts(w, close);
    Py_DECREF(kids);
}

/* Builtin reprs that cannot run user code: they format names, numbers and
 * addresses only (no repr() of anything the object refers to). Bound
 * methods, partial, classmethod, weakref, deque... do call other reprs and
 * are not here. */
static int
repr_runs_no_user_code(PyObject *obj)
{
    static PyTypeObject *const types[] = {
        &PyGen_Type, &PyCoro_Type, &PyAsyncGen_Type, &PyFunction_Type, &PyCFunction_Type,
        &PyCode_Type, &PyFrame_Type, &PyCell_Type, &PyRange_Type, &PyType_Type,
        &PyMethodDescr_Type, &PyClassMethodDescr_Type, &PyGetSetDescr_Type,
        &PyMemberDescr_Type, &PyWrapperDescr_Type, &PyCapsule_Type, &PyEllipsis_Type,
        &PyTraceBack_Type, &PySeqIter_Type, &PyCallIter_Type,
    };
    reprfunc f = Py_TYPE(obj)->tp_repr;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (f == types[i]->tp_repr)
            return 1;
    return 0;
}

/* Does the type keep the base type's repr (so ours is equivalent)? */
static int
inherits_repr(PyObject *obj, PyTypeObject *base)
{
    return Py_TYPE(obj)->tp_repr == base->tp_repr;
}

static void
render(SafeRepr_Context *c, Writer *w, PyObject *obj, int depth)
{
    if (w->full)
        return;
    if (time_is_up(c)) {
        w_puts(w, "...");
        w->full = 1;
        return;
    }
    if (obj == Py_None) { w_puts(w, "None"); return; }
    if (obj == Py_True) { w_puts(w, "True"); return; }
    if (obj == Py_False) { w_puts(w, "False"); return; }
    if (PyLong_CheckExact(obj)) { render_int(c, w, obj); return; }
    if (PyFloat_CheckExact(obj) || PyComplex_CheckExact(obj)) {
        render_via_repr(c, w, obj, 1);
        return;
    }
    if (PyUnicode_CheckExact(obj)) { render_str_prefix(w, obj); return; }
    if (PyBytes_CheckExact(obj) || PyByteArray_CheckExact(obj)) {
        render_bytes_prefix(w, obj);
        return;
    }
    /* Builtin containers and their subclasses are walked here: their own
     * repr would visit every item, and a subclass's repr could be slow. */
    if (PyList_Check(obj)) {
        if (inherits_repr(obj, &PyList_Type)) {
            render_container(c, w, obj, depth, SAFEREPR_SEQUENCE, "[", "]");
            return;
        }
        w_type_name(w, obj);
        render_container(c, w, obj, depth, SAFEREPR_SEQUENCE, "([", "])");
        return;
    }
    if (PyTuple_Check(obj)) {
        if (inherits_repr(obj, &PyTuple_Type)) {
            render_container(c, w, obj, depth, SAFEREPR_SEQUENCE, "(", ")");
            return;
        }
        if (!c->opts.redact || !holds_secret(c, obj, 0)) {
            /* namedtuples and friends: their repr only formats the fields,
             * which are few; trust it under the time guard. */
            render_via_repr(c, w, obj, 0);
            return;
        }
        w_type_name(w, obj);
        render_container(c, w, obj, depth, SAFEREPR_SEQUENCE, "(", ")");
        return;
    }
    if (proxy_dict(obj)) {
        /* Its repr would run the items' reprs unguarded: walk it here. */
        w_puts(w, "mappingproxy(");
        render_container(c, w, obj, depth, SAFEREPR_MAPPING, "{", "}");
        w_puts(w, ")");
        return;
    }
    if (PyDict_Check(obj)) {
        if (inherits_repr(obj, &PyDict_Type)) {
            render_container(c, w, obj, depth, SAFEREPR_MAPPING, "{", "}");
            return;
        }
        w_type_name(w, obj);
        render_container(c, w, obj, depth, SAFEREPR_MAPPING, "({", "})");
        return;
    }
    if (PyAnySet_Check(obj) && has_builtin_set_iter(obj)) {
        int frozen = PyFrozenSet_Check(obj);
        Py_ssize_t n = PySet_GET_SIZE(obj);
        int plain = PyAnySet_CheckExact(obj);
        if (!plain || frozen || n == 0) {
            w_type_name(w, obj);
            if (n == 0) {
                w_puts(w, "()");
                return;
            }
            render_container(c, w, obj, depth, SAFEREPR_SET, "({", "})");
            return;
        }
        render_container(c, w, obj, depth, SAFEREPR_SET, "{", "}");
        return;
    }
    /* The default object repr names the class and address, and a few
     * builtin reprs only show names and addresses: no user code runs, so
     * they are neither timed nor ever skipped. */
    if (Py_TYPE(obj)->tp_repr == PyBaseObject_Type.tp_repr || repr_runs_no_user_code(obj)) {
        render_via_repr(c, w, obj, 1);
        return;
    }
    if (SafeRepr_kind(obj) == SAFEREPR_OBJECT && holds_secret(c, obj, 0)) {
        /* Its own repr might print a password: show the attributes here. */
        if (is_namespace(Py_TYPE(obj)))
            w_puts(w, "namespace");
        else
            w_type_name(w, obj);
        render_container(c, w, obj, depth, SAFEREPR_OBJECT, "(", ")");
        return;
    }
    render_via_repr(c, w, obj, 0);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

void
SafeRepr_options_default(SafeRepr_Options *o)
{
    o->max_chars = SAFEREPR_DEFAULT_MAX_CHARS;
    o->max_items = SAFEREPR_DEFAULT_MAX_ITEMS;
    o->max_depth = SAFEREPR_DEFAULT_MAX_DEPTH;
    o->max_seconds = SAFEREPR_DEFAULT_MAX_SECONDS;
    o->total_seconds = SAFEREPR_DEFAULT_TOTAL_SECONDS;
    o->redact = NULL;
}

void
SafeRepr_begin(SafeRepr_Context *c, const SafeRepr_Options *o)
{
    memset(c, 0, sizeof *c);
    c->opts = *o;
    if (c->opts.max_chars < 8)
        c->opts.max_chars = 8;
    if (c->opts.max_items < 0)
        c->opts.max_items = 0;
    if (c->opts.max_depth < 0)
        c->opts.max_depth = 0;
    if (c->opts.max_depth > SAFEREPR_MAX_DEPTH_LIMIT)
        c->opts.max_depth = SAFEREPR_MAX_DEPTH_LIMIT;
    if (c->opts.redact && !PyTuple_Check(c->opts.redact))
        c->opts.redact = NULL;
    c->batch_deadline = c->opts.total_seconds > 0 ? monotonic_now() + c->opts.total_seconds : 1e300;
}

void
SafeRepr_end(SafeRepr_Context *c)
{
    /* Owned */
    PyObject *pending = PyErr_GetRaisedException();
    guard_remove(c);
    if (!c->keep_found)
        Redact_found_clear(&c->found);
    PyErr_SetRaisedException(pending);
}

PyObject *
SafeRepr_value(SafeRepr_Context *c, PyObject *obj)
{
    /* Owned */
    PyObject *pending = NULL, *res = NULL;
    Writer w = {0};

    /* The caller may be in the middle of reporting an error. */
    pending = PyErr_GetRaisedException();
    w.limit = c->opts.max_chars;
    c->timed_out = 0;
    c->nancestors = 0;
    c->deadline = monotonic_now() + c->opts.max_seconds;
    c->guard_deadline = c->deadline < c->batch_deadline ? c->deadline : c->batch_deadline;
    render(c, &w, obj, 0);
    if (PyErr_Occurred())
        PyErr_Clear();      /* nothing the renderer tried may leak out */
    res = w_finish(&w);
    if (!res) {
        Py_XDECREF(pending);
        return NULL;
    }
    PyErr_SetRaisedException(pending);
    return res;
}

PyObject *
SafeRepr_named(SafeRepr_Context *c, PyObject *name, PyObject *obj)
{
    if (name && SafeRepr_is_secret_name(c, name)) {
        SafeRepr_note_secret(c, obj, REDACT_K_NAME);
        return PyUnicode_FromString(REDACT_REPR);
    }
    if (name && SafeRepr_near_secret(c, name, obj))
        return PyUnicode_FromString(REDACT_REPR);
    return SafeRepr_value(c, obj);
}

PyObject *
SafeRepr_repr(PyObject *obj, const SafeRepr_Options *o)
{
    SafeRepr_Context c;
    SafeRepr_begin(&c, o);
    PyObject *res = SafeRepr_value(&c, obj);
    SafeRepr_end(&c);
    return res;
}
