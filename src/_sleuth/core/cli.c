/* cli.c — `sleuth ...` and `python -m sleuth ...`.
 *
 * A first word that names a subcommand is dispatched to that tool's own
 * extension module (sleuth._<tool>.main(args) -> int); anything else is the
 * pdb-compatible debugger command line, handled by the debugger frontend.
 */
#include "cli.h"
#include "cli_debug.h"

typedef struct {
    const char *name;      /* word on the command line */
    const char *module;    /* extension that implements it */
    const char *summary;   /* one line for `sleuth help` */
} Subcommand;

static const Subcommand SUBCOMMANDS[] = {
    {"run",    "sleuth._sleuth",    "run a program with evidence capture and/or fault dumps"},
    {"open",   "sleuth._evidence",  "debug a saved evidence file post-mortem"},
    {"stacks", "sleuth._stacks",    "print the Python stacks of a running process"},
    {"mem",    "sleuth._memory",    "run a program and report memory that keeps growing"},
    {"reduce", "sleuth._reduce",    "shrink a failing input (parallel delta debugging)"},
    {"bisect", "sleuth._reduce",    "find the first bad commit or list item"},
    {"dap",    "sleuth._dap",       "serve the Debug Adapter Protocol"},
    {NULL, NULL, NULL},
};

static PyObject *
dispatch(const Subcommand *sc, PyObject *argv)
{
    /* Owned */
    PyObject *mod = NULL, *args = NULL, *func = NULL, *res = NULL;

    if (strcmp(sc->name, "run") == 0)
        return CliDebug_run_py(argv);
    mod = PyImport_ImportModule(sc->module);
    if (!mod) {
        if (PyErr_ExceptionMatches(PyExc_ImportError)) {
            PyErr_Clear();
            PySys_FormatStderr("sleuth %s: this build of sleuth does not include it\n", sc->name);
            res = PyLong_FromLong(2);
        }
        goto done;
    }
    /* The tool sees its own arguments; argv[0] becomes "sleuth NAME". */
    args = PyList_GetSlice(argv, 1, PyList_GET_SIZE(argv));
    if (!args)
        goto done;
    PyObject *prog = PyUnicode_FromFormat("sleuth %s", sc->name);
    if (!prog || PyList_SetItem(args, 0, prog) < 0)
        goto done;
    func = PyObject_GetAttrString(mod, strcmp(sc->name, "bisect") == 0 ? "bisect_main" : "main");
    if (!func)
        goto done;
    res = PyObject_CallOneArg(func, args);
done:
    Py_XDECREF(mod);
    Py_XDECREF(args);
    Py_XDECREF(func);
    return res;
}

PyObject *
Cli_main_py(PyObject *module, PyObject *argv)
{
    SLEUTH_UNUSED(module);
    if (!PyList_Check(argv)) {
        PyErr_SetString(PyExc_TypeError, "main() expects a list of strings");
        return NULL;
    }
    if (PyList_GET_SIZE(argv) >= 2) {
        const char *first = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, 1));
        if (!first)
            return NULL;
        for (const Subcommand *sc = SUBCOMMANDS; sc->name; sc++)
            if (strcmp(first, sc->name) == 0)
                return dispatch(sc, argv);
    }
    return CliDebug_main_py(argv);
}
