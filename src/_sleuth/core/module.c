/* module.c — sleuth._sleuth: registers types and functions, nothing else. */
#include "state.h"
#include "cli.h"
#include "cli_debug.h"
#include "commands.h"
#include "pdb.h"
#include "api.h"
#include "breakpoints.h"
#include "engine.h"
#include "hooks.h"
#include "dap_server.h"

PyObject *Sleuth_module = NULL;

PyDoc_STRVAR(main_doc, "main(argv, /)\n--\n\nRun the sleuth command line; returns the exit status.");

/* bdb.BdbQuit, imported on first need (module state keeps it). pytest,
 * doctest and IDE glue catch `bdb.BdbQuit`, and both spellings must catch
 * what `quit` raises, so sleuth raises bdb's own class. Any exception already
 * set is kept. 0, or -1 with an exception set (the pending one dropped). */
int
Sleuth_load_bdbquit(void)
{
    ModState *st = Sleuth_state();
    if (st->BdbQuit)
        return 0;
    PyObject *pending = PyErr_GetRaisedException();
    PyObject *bdb = PyImport_ImportModule("bdb");
    PyObject *cls = bdb ? PyObject_GetAttrString(bdb, "BdbQuit") : NULL;
    Py_XDECREF(bdb);
    if (cls && !PyExceptionClass_Check(cls)) {
        Py_CLEAR(cls);
        PyErr_SetString(PyExc_TypeError, "bdb.BdbQuit is not an exception class");
    }
    if (!cls) {
        Py_XDECREF(pending);
        return -1;
    }
    if (!st->BdbQuit)       /* the import may have run code that loaded it */
        st->BdbQuit = cls;
    else
        Py_DECREF(cls);
    PyErr_SetRaisedException(pending);
    return 0;
}

/* Module __getattr__ (PEP 562): BdbQuit is read lazily. */
static PyObject *
module_getattr(PyObject *m, PyObject *name)
{
    if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "BdbQuit") == 0) {
        if (Sleuth_load_bdbquit() < 0)
            return NULL;
        return Py_NewRef(Sleuth_state()->BdbQuit);
    }
    PyErr_Format(PyExc_AttributeError, "module '%s' has no attribute '%U'", PyModule_GetName(m), name);
    return NULL;
}

static PyMethodDef module_methods[] = {
    {"__getattr__", (PyCFunction)module_getattr, METH_O, NULL},
    {"listen", (PyCFunction)(void (*)(void))Dap_listen_py, METH_VARARGS | METH_KEYWORDS,
     "listen(address, *, allow_remote=False)\n--\n\n"
     "Serve the Debug Adapter Protocol on address (a port, or (host, port)) for one\n"
     "client at a time; returns the (host, port) bound. Loopback only unless allow_remote."},
    {"wait_for_client", (PyCFunction)Dap_wait_for_client_py, METH_NOARGS,
     "wait_for_client()\n--\n\nBlock until a DAP client has attached and sent configurationDone."},
#if SLEUTH_PY311
    {"_empty_eval_hook", (PyCFunction)Backend_empty_hook_py, METH_O,
     "Benchmarks only: install (True) or remove an empty PEP 523 hook."},
#endif
    {"main", (PyCFunction)Cli_main_py, METH_O, main_doc},
    {"set_trace", (PyCFunction)(void (*)(void))Api_set_trace_py, METH_VARARGS | METH_KEYWORDS,
     "set_trace(*, header=None, commands=None)\n--\n\nEnter the debugger at the calling frame."},
    {"post_mortem", (PyCFunction)Api_post_mortem_py, METH_VARARGS,
     "post_mortem(t=None)\n--\n\nDebug a traceback or exception (default: the one being handled)."},
    {"_post_mortem", (PyCFunction)Api_post_mortem_with_py, METH_VARARGS,
     "_post_mortem(t, pdb_instance)\n--\n\npost_mortem() with a given debugger (pdb's testing entry)."},
    {"pm", (PyCFunction)Api_pm_py, METH_NOARGS,
     "pm()\n--\n\nDebug the last uncaught exception (sys.last_exc)."},
    {"run", (PyCFunction)(void (*)(void))Api_run_py, METH_VARARGS | METH_KEYWORDS,
     "run(statement, globals=None, locals=None)\n--\n\nExecute a statement under the debugger."},
    {"runeval", (PyCFunction)(void (*)(void))Api_runeval_py, METH_VARARGS | METH_KEYWORDS,
     "runeval(expression, globals=None, locals=None)\n--\n\nEvaluate an expression under the debugger."},
    {"runctx", (PyCFunction)(void (*)(void))Api_runctx_py, METH_VARARGS | METH_KEYWORDS,
     "runctx(statement, globals, locals)\n--\n\nrun() with globals and locals (kept for compatibility)."},
    {"find_function", (PyCFunction)CmdBreak_find_function_py, METH_VARARGS,
     "find_function(funcname, filename)\n--\n\n(funcname, filename, lineno) of `def funcname(` in the file, or None."},
    {"runcall", (PyCFunction)(void (*)(void))Api_runcall_py, METH_VARARGS | METH_KEYWORDS,
     "runcall(function, *args, **kwds)\n--\n\nCall a function under the debugger."},
    {"open_snapshot", (PyCFunction)(void (*)(void))Api_open_snapshot_py, METH_VARARGS | METH_KEYWORDS,
     "open_snapshot(exc, tb, environment=None, threads=None, stdin=None, stdout=None)\n--\n\n"
     "Debug a saved failure (duck-typed frames from an evidence file), read-only."},
    {NULL, NULL, 0, NULL},
};

static int
intern(PyObject **slot, const char *s)
{
    *slot = PyUnicode_InternFromString(s);
    return *slot ? 0 : -1;
}

static int
module_exec(PyObject *m)
{
    ModState *st = (ModState *)PyModule_GetState(m);
    Sleuth_module = m;
    st->tool_id = -1;
    if (PyModule_AddStringConstant(m, "__version__", "0.1.0") < 0)
        return -1;
    /* sleuth.BdbQuit is bdb.BdbQuit itself, but bdb (with fnmatch, re and
     * inspect) is most of what `import sleuth` would cost: it is imported by
     * Sleuth_load_bdbquit when a debugger is made or the name is read. */
    st->Restart = PyErr_NewExceptionWithDoc("sleuth.Restart", "Causes a debugger to be restarted for the debugged python program.",
                                            PyExc_Exception, NULL);
    if (!st->Restart || PyModule_AddObjectRef(m, "Restart", st->Restart) < 0)
        return -1;
    st->fncache = PyDict_New();
    st->armed = PyDict_New();
    if (!st->fncache || !st->armed)
        return -1;
    if (intern(&st->str_f_locals, "f_locals") < 0 || intern(&st->str_f_globals, "f_globals") < 0 ||
        intern(&st->str_f_back, "f_back") < 0 || intern(&st->str_f_code, "f_code") < 0 ||
        intern(&st->str_f_lineno, "f_lineno") < 0 || intern(&st->str___return__, "__return__") < 0 ||
        intern(&st->str___exception__, "__exception__") < 0 || intern(&st->str___name__, "__name__") < 0)
        return -1;
    /* pdb's module-level names that pdb's users and tests read. */
    if (PyModule_AddStringConstant(m, "_usage", CliDebug_pdb_usage) < 0 ||
        PyModule_AddStringConstant(m, "line_prefix", "\n-> ") < 0)
        return -1;
    if (Breakpoint_init_type(m, st) < 0)
        return -1;
    if (Pdb_init_type(m, st) < 0)
        return -1;
    if (Hooks_init(st) < 0)
        return -1;
    return 0;
}

static int
module_traverse(PyObject *m, visitproc visit, void *arg)
{
    ModState *st = (ModState *)PyModule_GetState(m);
    if (!st)
        return 0;
    Py_VISIT(st->PdbType);
    Py_VISIT(st->BreakpointType);
    Py_VISIT(st->BdbQuit);
    Py_VISIT(st->Restart);
    Py_VISIT(st->hook_orig);
    Py_VISIT(st->bpbynumber);
    Py_VISIT(st->bplist);
    Py_VISIT(st->breaks);
    Py_VISIT(st->active);
    Py_VISIT(st->fncache);
    Py_VISIT(st->armed);
    Py_VISIT(st->gen_callers);
    Py_VISIT(st->monitoring);
    Py_VISIT(st->DISABLE);
    Py_VISIT(st->cb_list);
    Py_VISIT(st->quiet_codes);
    Py_VISIT(st->sigint_pdb);
    Py_VISIT(st->file_mtimes);
    if (Dap_traverse(Dap_current(), visit, arg) < 0)
        return -1;
    return 0;
}

static int
module_clear(PyObject *m)
{
    ModState *st = (ModState *)PyModule_GetState(m);
    if (!st)
        return 0;
    Py_CLEAR(st->PdbType);
    Py_CLEAR(st->BreakpointType);
    Py_CLEAR(st->BdbQuit);
    Py_CLEAR(st->Restart);
    Py_CLEAR(st->hook_orig);
    Py_CLEAR(st->bpbynumber);
    Py_CLEAR(st->bplist);
    Py_CLEAR(st->breaks);
    Py_CLEAR(st->active);
    Py_CLEAR(st->fncache);
    Py_CLEAR(st->armed);
    Py_CLEAR(st->gen_callers);
    Py_CLEAR(st->monitoring);
    Py_CLEAR(st->DISABLE);
    Py_CLEAR(st->cb_list);
    Py_CLEAR(st->quiet_codes);
    Py_CLEAR(st->sigint_pdb);
    Py_CLEAR(st->file_mtimes);
    Py_CLEAR(st->str_f_locals);
    Py_CLEAR(st->str_f_globals);
    Py_CLEAR(st->str_f_back);
    Py_CLEAR(st->str_f_code);
    Py_CLEAR(st->str_f_lineno);
    Py_CLEAR(st->str___return__);
    Py_CLEAR(st->str___exception__);
    Py_CLEAR(st->str___name__);
    return 0;
}

static void
module_free(void *m)
{
    module_clear((PyObject *)m);
    if (Sleuth_module == m)
        Sleuth_module = NULL;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sleuth._sleuth",
    .m_doc = "sleuth's debugger engine, session and frontends.",
    .m_size = sizeof(ModState),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__sleuth(void)
{
    return PyModuleDef_Init(&module_def);
}
