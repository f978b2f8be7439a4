/* cli_debug.c — `sleuth [-c command]... (-m module | pyfile) [args...]`:
 * pdb's command line, restart loop, sys.exit report and automatic
 * post-mortem; and `sleuth run`, which runs a program without the debugger
 * but with sleuth's evidence capture and/or fault handler turned on. */
#include "cli_debug.h"
#include "pdb.h"
#include "api.h"
#include "engine.h"
#include "util.h"

static const char USAGE[] =
    "usage: sleuth [-h] [-c command] (-m module | pyfile) [args ...]\n"
    "\n"
    "Debug the Python program given by pyfile. Alternatively,\n"
    "an executable module or package to debug can be specified using\n"
    "the -m switch.\n"
    "\n"
    "Initial commands are read from .pdbrc files in your home directory\n"
    "and in the current directory, if they exist.  Commands supplied with\n"
    "-c are executed after commands from .pdbrc files.\n"
    "\n"
    "To let the script run until an exception occurs, use \"-c continue\".\n"
    "To let the script run up to a given line X in the debugged file, use\n"
    "\"-c 'until X'\".\n"
    "\n"
    "Other tools (each has --help):\n"
    "  sleuth run pyfile                       run with evidence files and/or fault dumps\n"
    "  sleuth open FILE|DIR                    debug a saved evidence file post-mortem\n"
    "  sleuth stacks PID                       print the Python stacks of a running process\n"
    "  sleuth mem pyfile                       report memory that keeps growing\n"
    "  sleuth reduce --test CMD INPUT          shrink a failing input\n"
    "  sleuth bisect --good R --bad R -- CMD   find the first bad commit\n"
    "\n"
    "examples:\n"
    "  sleuth app.py --port 8080       debug app.py (as python -m pdb app.py would)\n"
    "  sleuth -c continue app.py       run; debug post-mortem if it raises\n"
    "  sleuth -m http.server 8000      debug a module run as a script";

static int
print_stdout(const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    PyObject *s = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    if (!s)
        return -1;
    PyObject *out = PySys_GetObject("stdout");   /* borrowed */
    if (!out) {
        Py_DECREF(s);
        PyErr_SetString(PyExc_RuntimeError, "sys.stdout is not set");
        return -1;
    }
    PyObject *r = PyObject_CallMethod(out, "write", "O", s);
    Py_DECREF(s);
    if (!r)
        return -1;
    Py_DECREF(r);
    r = PyObject_CallMethod(out, "flush", NULL);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}


typedef struct {
    int is_module;
    PyObject *name;       /* as given */
    PyObject *filename;   /* realpath of the script / module's file */
    PyObject *code;       /* compiled code (modules: from runpy) */
    PyObject *spec;       /* module spec or NULL */
} Target;

static void
target_clear(Target *t)
{
    Py_CLEAR(t->name);
    Py_CLEAR(t->filename);
    Py_CLEAR(t->code);
    Py_CLEAR(t->spec);
}

/* Returns 0, or an exit status > 0 after printing pdb's error. */
static int
target_prepare(Target *t)
{
    if (t->is_module) {
        PyObject *det = Util_call("runpy", "_get_module_details", "(O)", t->name);
        if (!det) {
            if (PyErr_ExceptionMatches(PyExc_ImportError)) {
                PyObject *exc = PyErr_GetRaisedException();
                print_stdout("ImportError: %S\n", exc);
                Py_DECREF(exc);
                return 1;
            }
            PyErr_Print();
            return 1;
        }
        t->spec = Py_NewRef(PyTuple_GET_ITEM(det, 1));
        t->code = Py_NewRef(PyTuple_GET_ITEM(det, 2));
        Py_DECREF(det);
        t->filename = PyObject_GetAttrString(t->code, "co_filename");
        return t->filename ? 0 : -1;
    }
    PyObject *real = Util_call("os.path", "realpath", "(O)", t->name);
    if (!real)
        return -1;
    t->filename = real;
    PyObject *ex = Util_call("os.path", "exists", "(O)", real);
    if (!ex)
        return -1;
    int exists = PyObject_IsTrue(ex);
    Py_DECREF(ex);
    if (!exists) {
        print_stdout("Error: %U does not exist\n", t->name);
        return 1;
    }
    PyObject *isdir = Util_call("os.path", "isdir", "(O)", real);
    if (!isdir)
        return -1;
    int d = PyObject_IsTrue(isdir);
    Py_DECREF(isdir);
    if (d) {
        print_stdout("Error: %U is a directory\n", t->name);
        return 1;
    }
    /* Replace sleuth's dir with the script's dir in front of sys.path. */
    PyObject *dir = Util_call("os.path", "dirname", "(O)", real);
    if (!dir)
        return -1;
    PyObject *path = PySys_GetObject("path");   /* borrowed */
    if (!path || !PyList_Check(path) || PyList_GET_SIZE(path) == 0) {
        Py_DECREF(dir);
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a non-empty list");
        return -1;
    }
    return PyList_SetItem(path, 0, dir);   /* steals dir */
}

/* Compile the script afresh each run (it may have been edited). */
static PyObject *
target_code(Target *t)
{
    if (t->is_module)
        return Py_NewRef(t->code);
    PyObject *io = PyImport_ImportModule("io");
    if (!io)
        return NULL;
    PyObject *f = PyObject_CallMethod(io, "open_code", "O", t->filename);
    Py_DECREF(io);
    if (!f)
        return NULL;
    PyObject *src = PyObject_CallMethod(f, "read", NULL);
    PyObject *r = PyObject_CallMethod(f, "close", NULL);
    Py_XDECREF(r);
    Py_DECREF(f);
    if (!src)
        return NULL;
    PyObject *compile = PyDict_GetItemString(PyEval_GetBuiltins(), "compile");
    PyObject *code = PyObject_CallFunction(compile, "OOs", src, t->filename, "exec");
    Py_DECREF(src);
    return code;
}

static PyObject *
main_namespace(Target *t)
{
    PyObject *main = PyImport_AddModule("__main__");
    if (!main)
        return NULL;
    PyObject *d = PyModule_GetDict(main);
    PyDict_Clear(d);
    PyObject *name = PyUnicode_FromString("__main__");
    int r = name ? PyDict_SetItemString(d, "__name__", name) : -1;
    Py_XDECREF(name);
    if (r < 0)
        return NULL;
    if (PyDict_SetItemString(d, "__builtins__", PyEval_GetBuiltins()) < 0)
        return NULL;
    if (t->is_module) {
        PyObject *abs = Util_call("os.path", "abspath", "(O)", t->filename);
        PyObject *nc = abs ? Util_call("os.path", "normcase", "(O)", abs) : NULL;
        Py_XDECREF(abs);
        PyObject *parent = PyObject_GetAttrString(t->spec, "parent");
        PyObject *loader = PyObject_GetAttrString(t->spec, "loader");
        int bad = !nc || !parent || !loader ||
                  PyDict_SetItemString(d, "__file__", nc) < 0 ||
                  PyDict_SetItemString(d, "__package__", parent) < 0 ||
                  PyDict_SetItemString(d, "__loader__", loader) < 0 ||
                  PyDict_SetItemString(d, "__spec__", t->spec) < 0;
        Py_XDECREF(nc);
        Py_XDECREF(parent);
        Py_XDECREF(loader);
        if (bad)
            return NULL;
    } else if (PyDict_SetItemString(d, "__file__", t->filename) < 0) {
        return NULL;
    }
    return d;   /* borrowed */
}

/* pdb._run(target): one run of the program under the debugger. */
static int
run_once(PdbObject *p, Target *t)
{
    PyObject *canon = Pdb_canonic(p, t->filename);
    if (!canon)
        return -1;
    Py_XSETREF(p->mainpyfile, canon);
    p->wait_for_mainpyfile = 1;
    p->user_requested_quit = 0;
    p->bot_is_first = 1;
    PyObject *globals = main_namespace(t);
    if (!globals)
        return -1;
    PyObject *code = target_code(t);
    if (!code)
        return -1;
    PyObject *r = PyObject_CallMethod((PyObject *)p, "run", "OO", code, globals);
    Py_DECREF(code);
    p->bot_is_first = 0;
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

static int
print_restart(Target *t)
{
    PyObject *args = PyList_GetSlice(PySys_GetObject("argv"), 1, PY_SSIZE_T_MAX);
    PyObject *sp = PyUnicode_FromString(" ");
    PyObject *joined = args && sp ? PyUnicode_Join(sp, args) : NULL;
    Py_XDECREF(args);
    Py_XDECREF(sp);
    if (!joined)
        return -1;
    int r = print_stdout("Restarting %U with arguments:\n\t%U\n", t->is_module ? t->name : t->filename, joined);
    Py_DECREF(joined);
    return r;
}

PyObject *
CliDebug_main_py(PyObject *argv)
{
    /* Owned */
    PyObject *commands = NULL, *rest = NULL;
    PdbObject *p = NULL;
    Target t = {0};
    long status = 0;
    int is_module = 0;
    Py_ssize_t n = PyList_GET_SIZE(argv), i = 1;

    commands = PyList_New(0);
    if (!commands)
        goto error;
    if (n <= 1) {
        print_stdout("%s\n", USAGE);
        status = 2;
        goto done;
    }
    for (; i < n; i++) {
        const char *a = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, i));
        if (!a)
            goto error;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_stdout("%s\n", USAGE);
            status = 0;
            goto done;
        } else if (strcmp(a, "-m") == 0) {
            is_module = 1;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--command") == 0) {
            if (i + 1 >= n) {
                PySys_WriteStderr("sleuth: option %s requires an argument\n", a);
                status = 2;
                goto done;
            }
            if (PyList_Append(commands, PyList_GET_ITEM(argv, ++i)) < 0)
                goto error;
        } else if (strncmp(a, "--command=", 10) == 0 || (strncmp(a, "-c", 2) == 0 && a[2])) {
            PyObject *c = PyUnicode_FromString(a[1] == '-' ? a + 10 : a + 2);
            if (!c || PyList_Append(commands, c) < 0) {
                Py_XDECREF(c);
                goto error;
            }
            Py_DECREF(c);
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (a[0] == '-' && a[1]) {
            PySys_WriteStderr("sleuth: unknown option %s\n%s\n", a, USAGE);
            status = 2;
            goto done;
        } else {
            break;
        }
    }
    if (i >= n) {
        PySys_WriteStderr("%s\nsleuth: error: no module or script to run\n", USAGE);
        status = 2;
        goto done;
    }
    t.is_module = is_module;
    t.name = Py_NewRef(PyList_GET_ITEM(argv, i));
    int prep = target_prepare(&t);
    if (prep < 0)
        goto error;
    if (prep > 0) {
        status = prep;
        goto done;
    }
    /* Hide sleuth and its options from the program's argv. */
    rest = PyList_GetSlice(argv, i, n);
    if (!rest || PySys_SetObject("argv", rest) < 0)
        goto error;

    p = (PdbObject *)PyObject_CallNoArgs((PyObject *)Sleuth_state()->PdbType);
    if (!p)
        goto error;
    PyObject *ext = PyObject_CallMethod(p->rcLines, "extend", "O", commands);
    if (!ext)
        goto error;
    Py_DECREF(ext);
    ModState *st = Sleuth_state();
    for (;;) {
        /* pdb.main's loop, as each version words it. */
        int restarted_in_pm = 0;
        if (run_once(p, &t) == 0) {
#if !SLEUTH_PY313
            if (p->user_requested_quit)
                break;
            print_stdout("The program finished and will be restarted\n");
            continue;
#endif
        } else if (PyErr_ExceptionMatches(st->Restart)) {
            PyErr_Clear();
            if (print_restart(&t) < 0)
                goto error;
#if !SLEUTH_PY313
            continue;
#endif
        } else if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
            PyObject *exc = PyErr_GetRaisedException();
            PyObject *s = PyObject_Str(exc);
            Py_DECREF(exc);
            if (!s)
                goto error;
            print_stdout("The program exited via sys.exit(). Exit status: %U\n", s);
            Py_DECREF(s);
#if !SLEUTH_PY313
            continue;
#endif
        } else if (!SLEUTH_PY313 && PyErr_ExceptionMatches(PyExc_SyntaxError)) {
            PyErr_Print();
            status = 1;
            goto done;
        } else {
            /* Uncaught exception: post-mortem, then restart. */
            PyObject *exc = PyErr_GetRaisedException();
            PyObject *r = Util_call("traceback", "print_exception", "(O)", exc);
            Py_XDECREF(r);
            PyErr_Clear();
            print_stdout("Uncaught exception. Entering post mortem debugging\n");
            print_stdout("Running 'cont' or 'step' will restart the program\n");
#if SLEUTH_PY313
            PyObject *what = Py_NewRef(exc);
#else
            PyObject *what = PyException_GetTraceback(exc);
            if (!what)
                what = Py_NewRef(Py_None);
#endif
            p->quitting = 0;
            r = PyObject_CallMethod((PyObject *)p, "interaction", "OO", Py_None, what);
            Py_DECREF(what);
            Py_DECREF(exc);
            if (!r) {
                if (!PyErr_ExceptionMatches(st->Restart))
                    goto error;
                PyErr_Clear();
                if (print_restart(&t) < 0)
                    goto error;
                restarted_in_pm = 1;
            } else {
                Py_DECREF(r);
            }
#if !SLEUTH_PY313
            print_stdout("Post mortem debugger finished. The %U will be restarted\n",
                         t.is_module ? t.name : t.filename);
            continue;
#endif
        }
        if (restarted_in_pm)
            continue;
        if (p->user_requested_quit)
            break;
        print_stdout("The program finished and will be restarted\n");
    }
done:
    Py_XDECREF(commands);
    Py_XDECREF(rest);
    Py_XDECREF(p);
    target_clear(&t);
    return PyLong_FromLong(status);
error:
    Py_XDECREF(commands);
    Py_XDECREF(rest);
    Py_XDECREF(p);
    target_clear(&t);
    return NULL;
}

/* `sleuth run [--evidence DIR] [--faults] (-m module | pyfile) [args]`:
 * the program runs normally (no debugger) with the chosen tools on. */
PyObject *
CliDebug_run_py(PyObject *argv)
{
    static const char RUN_USAGE[] =
        "usage: sleuth run [--evidence DIR] [--faults] (-m module | pyfile) [args ...]";
    static const char RUN_HELP[] =
        "\n"
        "Run a program as python would (no debugger), with sleuth's crash tools on.\n"
        "\n"
        "  --evidence DIR  write an evidence file into DIR for every uncaught exception;\n"
        "                  debug it later, anywhere, with `sleuth open DIR`\n"
        "  --faults        on a fatal signal, print every thread's Python and native\n"
        "                  stack (sleuth.faults)\n"
        "  -m module       run a library module as a script\n"
        "\n"
        "example:\n"
        "  sleuth run --evidence /tmp/ev --faults server.py --port 8080\n";
    Py_ssize_t n = PyList_GET_SIZE(argv), i = 2;
    PyObject *evidence = NULL;
    int faults = 0, is_module = 0;
    for (; i < n; i++) {
        const char *a = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, i));
        if (!a)
            return NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_stdout("%s\n%s", RUN_USAGE, RUN_HELP);
            return PyLong_FromLong(0);
        } else if (strcmp(a, "--faults") == 0) {
            faults = 1;
        } else if (strcmp(a, "--evidence") == 0 && i + 1 < n) {
            evidence = PyList_GET_ITEM(argv, ++i);
        } else if (strncmp(a, "--evidence=", 11) == 0) {
            evidence = PyList_GET_ITEM(argv, i);   /* parsed below */
        } else if (strcmp(a, "-m") == 0) {
            is_module = 1;
        } else if (a[0] == '-') {
            PySys_WriteStderr("sleuth run: unknown option %s\n%s\n", a, RUN_USAGE);
            return PyLong_FromLong(2);
        } else {
            break;
        }
    }
    if (i >= n) {
        PySys_WriteStderr("%s\n", RUN_USAGE);
        return PyLong_FromLong(2);
    }
    if (faults) {
        PyObject *r = Util_call("sleuth._faults", "enable", "()");
        if (!r) {
            PyErr_Clear();
            PySys_WriteStderr("sleuth run: --faults is not available in this build\n");
            return PyLong_FromLong(2);
        }
        Py_DECREF(r);
    }
    if (evidence) {
        PyObject *dir = evidence;
        const char *e = PyUnicode_AsUTF8(evidence);
        PyObject *own = NULL;
        if (e && strncmp(e, "--evidence=", 11) == 0)
            dir = own = PyUnicode_FromString(e + 11);
        /* announce: the file's name is chosen here, so say where it went. */
        PyObject *mod = dir ? PyImport_ImportModule("sleuth._evidence") : NULL;
        PyObject *install = mod ? PyObject_GetAttrString(mod, "install") : NULL;
        Py_XDECREF(mod);
        PyObject *args = install ? PyTuple_Pack(1, dir) : NULL;
        PyObject *kw = args ? Py_BuildValue("{sO}", "announce", Py_True) : NULL;
        PyObject *r = kw ? PyObject_Call(install, args, kw) : NULL;
        Py_XDECREF(install);
        Py_XDECREF(args);
        Py_XDECREF(kw);
        Py_XDECREF(own);
        if (!r) {
            PyErr_Clear();
            PySys_WriteStderr("sleuth run: --evidence is not available in this build\n");
            return PyLong_FromLong(2);
        }
        Py_DECREF(r);
    }
    PyObject *rest = PyList_GetSlice(argv, i, n);
    if (!rest || PySys_SetObject("argv", rest) < 0) {
        Py_XDECREF(rest);
        return NULL;
    }
    PyObject *runpy = PyImport_ImportModule("runpy");
    if (!runpy) {
        Py_DECREF(rest);
        return NULL;
    }
    PyObject *r;
    PyObject *kw = Py_BuildValue("{s:s}", "run_name", "__main__");
    if (!kw) {
        Py_DECREF(runpy);
        Py_DECREF(rest);
        return NULL;
    }
    if (is_module) {
        if (PyDict_SetItemString(kw, "alter_sys", Py_True) < 0) {
            Py_DECREF(kw);
            Py_DECREF(runpy);
            Py_DECREF(rest);
            return NULL;
        }
        PyObject *f = PyObject_GetAttrString(runpy, "run_module");
        PyObject *a = PyTuple_Pack(1, PyList_GET_ITEM(rest, 0));
        r = f && a ? PyObject_Call(f, a, kw) : NULL;
        Py_XDECREF(f);
        Py_XDECREF(a);
    } else {
        PyObject *real = Util_call("os.path", "realpath", "(O)", PyList_GET_ITEM(rest, 0));
        PyObject *dir = real ? Util_call("os.path", "dirname", "(O)", real) : NULL;
        PyObject *path = PySys_GetObject("path");
        if (dir && path)
            PyList_SetItem(path, 0, Py_NewRef(dir));
        Py_XDECREF(dir);
        Py_XDECREF(real);
        PyObject *f = PyObject_GetAttrString(runpy, "run_path");
        PyObject *a = PyTuple_Pack(1, PyList_GET_ITEM(rest, 0));
        r = f && a ? PyObject_Call(f, a, kw) : NULL;
        Py_XDECREF(f);
        Py_XDECREF(a);
    }
    Py_DECREF(kw);
    Py_DECREF(runpy);
    Py_DECREF(rest);
    if (!r)
        return NULL;   /* the exception (SystemExit included) ends the process as usual */
    Py_DECREF(r);
    return PyLong_FromLong(0);
}
