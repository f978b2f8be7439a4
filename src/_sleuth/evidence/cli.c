/* cli.c — load() and `sleuth open FILE`.
 *
 * `sleuth open` hands the loaded evidence to the debugger's terminal
 * frontend (sleuth._sleuth.open_snapshot) when this build has it; until
 * then it prints a summary. A bad file is one line on stderr and status 2,
 * never a traceback.
 */
#include "cli.h"
#include "snapshot.h"

PyObject *
Cli_load_py(PyObject *module, PyObject *path)
{
    PyObject *p = PyOS_FSPath(path);
    if (!p)
        return NULL;
    if (PyBytes_Check(p))
        Py_SETREF(p, PyUnicode_DecodeFSDefaultAndSize(PyBytes_AS_STRING(p), PyBytes_GET_SIZE(p)));
    if (!p)
        return NULL;
    PyObject *res = Snapshot_load(Evidence_state(module), p);
    Py_DECREF(p);
    return res;
}

static int
write_stdout(PyObject *text)
{
    PyObject *out = PySys_GetObject("stdout");     /* borrowed */
    if (!out || out == Py_None)
        return 0;
    if (PyFile_WriteObject(text, out, Py_PRINT_RAW) < 0)
        return -1;
    PyObject *r = PyObject_CallMethod(out, "flush", NULL);
    Py_XDECREF(r);
    PyErr_Clear();
    return 0;
}

/* One line on stderr for the load failure now raised; clears it. */
static void
report_load_error(EvidenceState *st, PyObject *prog, PyObject *path)
{
    PyObject *exc = PyErr_GetRaisedException();
    if (exc && PyErr_GivenExceptionMatches(exc, PyExc_OSError)) {
        PyObject *err = PyObject_GetAttrString(exc, "strerror");
        if (err && err != Py_None)
            PySys_FormatStderr("%U: error: cannot read %R: %S\n", prog, path, err);
        else
            PySys_FormatStderr("%U: error: cannot read %R\n", prog, path);
        Py_XDECREF(err);
    }
    else if (exc && PyErr_GivenExceptionMatches(exc, st->error))
        PySys_FormatStderr("%U: error: %R: %S\n", prog, path, exc);
    else if (exc)
        PySys_FormatStderr("%U: error: %R is not a readable evidence file (%s: %S)\n", prog, path,
                           Py_TYPE(exc)->tp_name, exc);
    PyErr_Clear();
    Py_XDECREF(exc);
}

static const char USAGE[] =
    "usage: %U FILE\n"
    "\n"
    "Debug a saved evidence file post-mortem (written by sleuth.evidence.install,\n"
    "`sleuth run --evidence DIR` or SLEUTH_EVIDENCE=DIR).\n";

PyObject *
Cli_main_py(PyObject *module, PyObject *args)
{
    /* Owned */
    PyObject *prog = NULL, *ev = NULL, *core = NULL, *open_snapshot = NULL, *res = NULL;
    PyObject *exc = NULL, *tb = NULL, *env = NULL, *threads = NULL, *text = NULL;
    EvidenceState *st = Evidence_state(module);

    if (!PyList_Check(args) || PyList_GET_SIZE(args) < 1) {
        PyErr_SetString(PyExc_TypeError, "main() expects a list of strings: [prog, args...]");
        return NULL;
    }
    prog = Py_NewRef(PyList_GET_ITEM(args, 0));
    Py_ssize_t n = PyList_GET_SIZE(args);
    for (Py_ssize_t i = 1; i < n; i++) {
        PyObject *a = PyList_GET_ITEM(args, i);
        if (PyUnicode_Check(a) && (PyUnicode_CompareWithASCIIString(a, "-h") == 0
                                   || PyUnicode_CompareWithASCIIString(a, "--help") == 0)) {
            text = PyUnicode_FromFormat(USAGE, prog);
            if (!text || write_stdout(text) < 0)
                goto done;
            res = PyLong_FromLong(0);
            goto done;
        }
    }
    if (n != 2 || !PyUnicode_Check(PyList_GET_ITEM(args, 1))) {
        PySys_FormatStderr("usage: %U FILE\n%U: error: expected exactly one evidence file\n",
                           prog, prog);
        res = PyLong_FromLong(2);
        goto done;
    }
    PyObject *path = PyList_GET_ITEM(args, 1);
    ev = Snapshot_load(st, path);
    if (!ev) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
            goto done;
        report_load_error(st, prog, path);
        res = PyLong_FromLong(2);
        goto done;
    }
    PyObject *r = PyObject_CallMethod(ev, "register_sources", NULL);
    Py_XDECREF(r);
    PyErr_Clear();

    core = PyImport_ImportModule("sleuth._sleuth");
    if (!core)
        PyErr_Clear();
    else if (PyObject_GetOptionalAttrString(core, "open_snapshot", &open_snapshot) < 0)
        goto done;
    if (open_snapshot) {
        /* What failed, where and on what machine, then the prompt on the
         * innermost frame of the failure. */
        text = Snapshot_summary(ev);
        if (!text || write_stdout(text) < 0) {
            if (!text && !PyErr_ExceptionMatches(PyExc_MemoryError) &&
                !PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
                report_load_error(st, prog, path);
                res = PyLong_FromLong(2);
            }
            goto done;
        }
        exc = PyObject_GetAttrString(ev, "exception");
        tb = exc ? PyObject_GetAttrString(ev, "traceback") : NULL;
        env = tb ? PyObject_GetAttrString(ev, "environment") : NULL;
        threads = env ? PyObject_GetAttrString(ev, "threads") : NULL;
        if (!threads)
            goto done;
        PyObject *rv = PyObject_CallFunctionObjArgs(open_snapshot, exc, tb, env, threads, NULL);
        if (!rv)
            goto done;
        if (PyLong_Check(rv))
            res = rv;
        else {
            Py_DECREF(rv);
            res = PyLong_FromLong(0);
        }
        goto done;
    }
    text = Snapshot_summary(ev);
    if (!text) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
            goto done;
        report_load_error(st, prog, path);
        res = PyLong_FromLong(2);
        goto done;
    }
    if (write_stdout(text) < 0)
        goto done;
    res = PyLong_FromLong(0);
done:
    Py_XDECREF(prog);
    Py_XDECREF(ev);
    Py_XDECREF(core);
    Py_XDECREF(open_snapshot);
    Py_XDECREF(exc);
    Py_XDECREF(tb);
    Py_XDECREF(env);
    Py_XDECREF(threads);
    Py_XDECREF(text);
    return res;
}
