/* module.c — sleuth._faults: argument handling and module wiring only.
 *
 * The file objects that own the descriptors the handlers write to live in
 * the module state, so the GC sees them and the descriptors stay open while
 * a handler may use them. The handlers themselves only know the int fd.
 */
#include "compat.h"

#include <stdlib.h>
#include <signal.h>
#include <sys/resource.h>

#include "fatal.h"
#include "names.h"
#include "native.h"
#include "out.h"
#include "pyframes.h"
#include "safemem.h"
#include "usersig.h"
#include "watchdog.h"

typedef struct {
    PyObject *fatal_file;               /* owned, or NULL when given an fd */
    PyObject *watchdog_file;
    PyObject *user_file[NSIG];
} faults_state;

static faults_state *
get_state(PyObject *module)
{
    return (faults_state *)PyModule_GetState(module);
}

/* Resolve `file` (None -> sys.stderr, an int fd, or an object with
 * fileno()) to a descriptor; flush a file object so that what it buffered
 * comes before our report. *keep gets a new reference to the object that
 * owns the descriptor, or NULL for a bare fd. 0, or -1 with an exception. */
static int
resolve_file(PyObject *file, int *fd, PyObject **keep)
{
    /* owned */
    PyObject *owner = NULL, *res = NULL;
    long value;

    *keep = NULL;
    if (file == NULL || file == Py_None) {
        file = PySys_GetObject("stderr");       /* borrowed */
        if (file == NULL || file == Py_None) {
            PyErr_SetString(PyExc_RuntimeError, "sys.stderr is None");
            goto error;
        }
    }
    if (PyLong_Check(file)) {
        value = PyLong_AsLong(file);
        if (value == -1 && PyErr_Occurred())
            goto error;
        if (value < 0 || value > INT_MAX) {
            PyErr_SetString(PyExc_ValueError, "file is not a valid file descriptor");
            goto error;
        }
        *fd = (int)value;
        return 0;
    }
    owner = Py_NewRef(file);
    res = PyObject_CallMethod(owner, "fileno", NULL);
    if (res == NULL)
        goto error;
    if (!PyLong_Check(res)) {
        PyErr_SetString(PyExc_TypeError, "fileno() must return an int");
        goto error;
    }
    value = PyLong_AsLong(res);
    if (value == -1 && PyErr_Occurred())
        goto error;
    if (value < 0 || value > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "file is not a valid file descriptor");
        goto error;
    }
    Py_CLEAR(res);
    res = PyObject_CallMethod(owner, "flush", NULL);
    if (res == NULL)
        PyErr_Clear();      /* a failed flush must not stop a crash report */
    Py_XDECREF(res);
    *fd = (int)value;
    *keep = owner;
    return 0;
error:
    Py_XDECREF(res);
    Py_XDECREF(owner);
    return -1;
}

/* ------------------------------------------------------------------------ */

PyDoc_STRVAR(enable_doc,
"enable($module, /, file=None, all_threads=True, c_stack=True)\n--\n\n"
"Report fatal signals (SIGSEGV, SIGFPE, SIGABRT, SIGBUS, SIGILL): the Python\n"
"stacks exactly as faulthandler writes them, then thread names and (with\n"
"c_stack) the crashing thread's C stack; then the previous handler runs.\n"
"file is a file object or a file descriptor; None means sys.stderr.\n"
"native= is the former name of c_stack and still accepted.");

static PyObject *
enable_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"file", "all_threads", "c_stack", "native", NULL};
    PyObject *file = NULL;          /* borrowed */
    PyObject *keep = NULL;          /* owned */
    int all_threads = 1, native = 1, old_native = -1, fd;
    faults_state *st = get_state(module);

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|Opp$p:enable", kwlist,
                                     &file, &all_threads, &native, &old_native))
        return NULL;
    if (old_native != -1)
        native = old_native;
    if (resolve_file(file, &fd, &keep) < 0)
        return NULL;
    if (Faults_fatal_enable(fd, all_threads, native) < 0) {
        Py_XDECREF(keep);
        return NULL;
    }
    Faults_names_follow_threads();
    Py_XSETREF(st->fatal_file, keep);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(disable_doc,
"disable($module, /)\n--\n\nRestore the fatal-signal handlers that were there before enable().");

static PyObject *
disable_py(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)Faults_fatal_disable();
    Py_CLEAR(get_state(module)->fatal_file);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(is_enabled_doc, "is_enabled($module, /)\n--\n\nTrue if enable() is in effect.");

static PyObject *
is_enabled_py(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    return PyBool_FromLong(Faults_fatal_is_enabled());
}

PyDoc_STRVAR(dump_traceback_doc,
"dump_traceback($module, /, file=None, all_threads=True, *, thread_names=False)\n--\n\n"
"Write the stacks of all threads (or only the current one) now to file\n"
"(a file object or descriptor; None means sys.stderr), as faulthandler\n"
"does; with thread_names, a \"Thread names:\" section follows.");

PyDoc_STRVAR(dump_doc,
"dump($module, /, file=None, all_threads=True, *, thread_names=False)\n--\n\n"
"Another name of dump_traceback().");

static PyObject *
dump_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"file", "all_threads", "thread_names", NULL};
    PyObject *file = NULL;          /* borrowed */
    PyObject *keep = NULL;          /* owned */
    int all_threads = 1, thread_names = 0, fd;
    PyThreadState *tstate = PyThreadState_Get();
    Faults_out out;

    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|Op$p:dump_traceback", kwlist,
                                     &file, &all_threads, &thread_names))
        return NULL;
    if (resolve_file(file, &fd, &keep) < 0)
        return NULL;
    Faults_names_refresh();
    if (Faults_safemem_init() < 0) {
        Py_XDECREF(keep);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Faults_out_init(&out, fd);
    if (all_threads) {
        const char *err = Faults_dump_threads(&out, tstate->interp, tstate, 0);
        if (err != NULL) {
            Faults_out_flush(&out);
            Py_XDECREF(keep);
            PyErr_SetString(PyExc_RuntimeError, err);
            return NULL;
        }
    }
    else {
        Faults_dump_stack(&out, tstate, 1);
    }
    if (thread_names)
        Faults_dump_thread_names(&out, tstate->interp, tstate);
    Faults_out_flush(&out);
    Py_XDECREF(keep);
    if (PyErr_CheckSignals() < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyDoc_STRVAR(dump_c_stack_doc,
"dump_c_stack($module, /, file=None)\n--\n\n"
"Write the current thread's C stack now to file (a file object or\n"
"descriptor; None means sys.stderr), in CPython 3.14's form.");

static PyObject *
dump_c_stack_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"file", NULL};
    PyObject *file = NULL;          /* borrowed */
    PyObject *keep = NULL;          /* owned */
    int fd;
    Faults_out out;

    (void)module;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:dump_c_stack", kwlist, &file))
        return NULL;
    if (resolve_file(file, &fd, &keep) < 0)
        return NULL;
    Faults_native_init();
    Faults_out_init(&out, fd);
    Faults_dump_native(&out, NULL);
    Faults_out_flush(&out);
    Py_XDECREF(keep);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(dump_traceback_later_doc,
"dump_traceback_later($module, /, timeout, repeat=False, file=None, exit=False)\n--\n\n"
"Dump all threads' stacks after timeout seconds (every timeout seconds with\n"
"repeat), then exit the process with status 1 if exit is true. A thread of\n"
"its own does it without taking the GIL, so a program stuck holding the GIL\n"
"is reported too. Calling it again replaces the previous timer.");

PyDoc_STRVAR(dump_later_doc,
"dump_later($module, /, timeout, repeat=False, file=None, exit=False)\n--\n\n"
"Another name of dump_traceback_later().");

static PyObject *
dump_later_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", "repeat", "file", "exit", NULL};
    PyObject *file = NULL;          /* borrowed */
    PyObject *keep = NULL;          /* owned */
    double timeout;
    int repeat = 0, exit_process = 0, fd;
    faults_state *st = get_state(module);

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "d|pOp:dump_traceback_later", kwlist,
                                     &timeout, &repeat, &file, &exit_process))
        return NULL;
    if (!(timeout > 0)) {
        PyErr_SetString(PyExc_ValueError, "timeout must be greater than 0");
        return NULL;
    }
    if (resolve_file(file, &fd, &keep) < 0)
        return NULL;
    Faults_names_refresh();
    if (Faults_watchdog_arm(timeout, repeat, fd, exit_process) < 0) {
        Py_XDECREF(keep);
        return NULL;
    }
    Py_XSETREF(st->watchdog_file, keep);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(cancel_dump_traceback_later_doc,
"cancel_dump_traceback_later($module, /)\n--\n\n"
"Cancel the timer set by dump_traceback_later().");

PyDoc_STRVAR(cancel_dump_later_doc,
"cancel_dump_later($module, /)\n--\n\nAnother name of cancel_dump_traceback_later().");

static PyObject *
cancel_dump_later_py(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)Faults_watchdog_cancel();
    Py_CLEAR(get_state(module)->watchdog_file);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(register_doc,
"register($module, /, signum, file=None, all_threads=True, chain=False)\n--\n\n"
"Dump the stacks whenever signal signum arrives; with chain, then call the\n"
"handler that was there before.");

static PyObject *
register_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"signum", "file", "all_threads", "chain", NULL};
    PyObject *file = NULL;          /* borrowed */
    PyObject *keep = NULL;          /* owned */
    int signum, all_threads = 1, chain = 0, fd;
    faults_state *st = get_state(module);

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "i|Opp:register", kwlist,
                                     &signum, &file, &all_threads, &chain))
        return NULL;
    if (!Faults_usersig_check(signum))
        return NULL;
    if (resolve_file(file, &fd, &keep) < 0)
        return NULL;
    Faults_names_refresh();
    if (Faults_usersig_register(signum, fd, all_threads, chain) < 0) {
        Py_XDECREF(keep);
        return NULL;
    }
    Py_XSETREF(st->user_file[signum], keep);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(unregister_doc,
"unregister($module, signum, /)\n--\n\n"
"Stop dumping on signal signum; True if it was registered.");

static PyObject *
unregister_py(PyObject *module, PyObject *arg)
{
    long value = PyLong_AsLong(arg);
    int signum, rc;
    if (value == -1 && PyErr_Occurred())
        return NULL;
    signum = (value < 1 || value >= NSIG) ? 0 : (int)value;
    rc = Faults_usersig_unregister(signum);
    if (rc < 0)
        return NULL;
    Py_CLEAR(get_state(module)->user_file[signum]);
    return PyBool_FromLong(rc);
}

PyDoc_STRVAR(autostart_doc,
"_autostart($module, /)\n--\n\n"
"Call enable(file=2) when the environment variable SLEUTH_FAULTS is set to a\n"
"value other than empty or \"0\" (what the start-up hook and `sleuth run\n"
"--faults` use). Returns True if it enabled the handler.");

static PyObject *
autostart_py(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    const char *value = getenv("SLEUTH_FAULTS");
    (void)module;
    if (value == NULL || value[0] == '\0' || (value[0] == '0' && value[1] == '\0'))
        Py_RETURN_FALSE;
    /* fd 2 rather than sys.stderr: at start-up they are the same, and a
     * crash report should reach the real stderr even when a test runner
     * later swaps sys.stderr for a capture object. */
    if (Faults_fatal_enable(2, 1, 1) < 0)
        return NULL;
    Faults_names_follow_threads();
    Py_RETURN_TRUE;
}

/* ------------------------------------------------------------------------
 * Deliberate crashes, under faulthandler's private names, so that CPython's
 * test_faulthandler (and sleuth's tests) can crash a child process the way
 * they crash it with faulthandler. No core file: a test crash is no evidence. */

static void
no_core_file(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_CORE, &rl) == 0) {
        rl.rlim_cur = 0;
        (void)setrlimit(RLIMIT_CORE, &rl);
    }
}

PyDoc_STRVAR(sigsegv_doc,
"_sigsegv($module, release_gil=False, /)\n--\n\n"
"Raise SIGSEGV (with the GIL released if release_gil is true).");

static PyObject *
sigsegv_py(PyObject *module, PyObject *args)
{
    int release_gil = 0;
    (void)module;
    if (!PyArg_ParseTuple(args, "|p:_sigsegv", &release_gil))
        return NULL;
    no_core_file();
    if (release_gil) {
        Py_BEGIN_ALLOW_THREADS
        raise(SIGSEGV);
        Py_END_ALLOW_THREADS
    }
    else {
        raise(SIGSEGV);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(read_null_doc, "_read_null($module, /)\n--\n\nRead from the NULL pointer (SIGSEGV).");

static PyObject *
read_null_py(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    /* volatile: the compiler may neither drop the read nor assume it away. */
    volatile int *volatile null = NULL;
    (void)module;
    no_core_file();
    return PyLong_FromLong(*null);
}

PyDoc_STRVAR(sigabrt_doc, "_sigabrt($module, /)\n--\n\nCall abort() (SIGABRT).");

static PyObject *
sigabrt_py(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    no_core_file();
    abort();
}

PyDoc_STRVAR(sigfpe_doc, "_sigfpe($module, /)\n--\n\nRaise SIGFPE.");

static PyObject *
sigfpe_py(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    no_core_file();
    /* raise() rather than a division by zero, which C leaves undefined. */
    raise(SIGFPE);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(atexit_doc, "_atexit($module, /)\n--\n\nStop the watchdog at interpreter exit.");

static PyObject *
atexit_py(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)Faults_watchdog_cancel();
    Py_CLEAR(get_state(module)->watchdog_file);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"enable", (PyCFunction)(void (*)(void))enable_py, METH_VARARGS | METH_KEYWORDS, enable_doc},
    {"disable", disable_py, METH_NOARGS, disable_doc},
    {"is_enabled", is_enabled_py, METH_NOARGS, is_enabled_doc},
    {"dump_traceback", (PyCFunction)(void (*)(void))dump_py, METH_VARARGS | METH_KEYWORDS,
     dump_traceback_doc},
    {"dump_traceback_later", (PyCFunction)(void (*)(void))dump_later_py,
     METH_VARARGS | METH_KEYWORDS, dump_traceback_later_doc},
    {"cancel_dump_traceback_later", cancel_dump_later_py, METH_NOARGS,
     cancel_dump_traceback_later_doc},
    {"dump_c_stack", (PyCFunction)(void (*)(void))dump_c_stack_py, METH_VARARGS | METH_KEYWORDS,
     dump_c_stack_doc},
    /* sleuth's earlier names for three of them, documented: kept as aliases. */
    {"dump", (PyCFunction)(void (*)(void))dump_py, METH_VARARGS | METH_KEYWORDS, dump_doc},
    {"dump_later", (PyCFunction)(void (*)(void))dump_later_py, METH_VARARGS | METH_KEYWORDS,
     dump_later_doc},
    {"cancel_dump_later", cancel_dump_later_py, METH_NOARGS, cancel_dump_later_doc},
    {"register", (PyCFunction)(void (*)(void))register_py, METH_VARARGS | METH_KEYWORDS,
     register_doc},
    {"unregister", unregister_py, METH_O, unregister_doc},
    {"_autostart", autostart_py, METH_NOARGS, autostart_doc},
    {"_atexit", atexit_py, METH_NOARGS, atexit_doc},
    {"_sigsegv", sigsegv_py, METH_VARARGS, sigsegv_doc},
    {"_read_null", read_null_py, METH_NOARGS, read_null_doc},
    {"_sigabrt", sigabrt_py, METH_NOARGS, sigabrt_doc},
    {"_sigfpe", sigfpe_py, METH_NOARGS, sigfpe_doc},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *m)
{
    /* owned */
    PyObject *atexit = NULL, *hook = NULL, *res = NULL;
    int rc = -1;

    atexit = PyImport_ImportModule("atexit");
    if (atexit == NULL)
        goto error;
    hook = PyObject_GetAttrString(m, "_atexit");
    if (hook == NULL)
        goto error;
    res = PyObject_CallMethod(atexit, "register", "O", hook);
    if (res == NULL)
        goto error;
    rc = 0;
error:
    Py_XDECREF(res);
    Py_XDECREF(hook);
    Py_XDECREF(atexit);
    return rc;
}

static int
module_traverse(PyObject *m, visitproc visit, void *arg)
{
    faults_state *st = get_state(m);
    Py_VISIT(st->fatal_file);
    Py_VISIT(st->watchdog_file);
    for (int i = 0; i < NSIG; i++)
        Py_VISIT(st->user_file[i]);
    return 0;
}

static int
module_clear(PyObject *m)
{
    faults_state *st = get_state(m);
    Py_CLEAR(st->fatal_file);
    Py_CLEAR(st->watchdog_file);
    for (int i = 0; i < NSIG; i++)
        Py_CLEAR(st->user_file[i]);
    return 0;
}

static void
module_free(void *m)
{
    /* The interpreter is going away: nothing may read it from a handler or
     * the watchdog any more, and the fds we were given may close. */
    (void)Faults_watchdog_cancel();
    (void)Faults_fatal_disable();
    Faults_usersig_unregister_all();
    Faults_names_fini();
    (void)module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    /* Signal handlers are per process: one interpreter may own them. */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sleuth._faults",
    .m_doc = "sleuth's fault handler: fatal signals, watchdog and on-demand stack dumps.",
    .m_size = sizeof(faults_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__faults(void)
{
    return PyModuleDef_Init(&module_def);
}
