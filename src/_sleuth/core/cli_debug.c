/* cli_debug.c — `sleuth [-c command]... (-m module | pyfile) [args...]`:
 * pdb's command line, restart loop, sys.exit report and automatic
 * post-mortem; and `sleuth run`, which runs a program without the debugger
 * but with sleuth's evidence capture and/or fault handler turned on. */
#include "cli_debug.h"
#include "pdb.h"
#include "api.h"
#include "engine.h"
#include "util.h"
#include "dap_server.h"
#include <unistd.h>

/* pdb's _usage text (an interface fact: test_pdb and scripts look for it).
 * 3.11/3.12 print it whole for a bad or empty command line; 3.13 builds an
 * argparse parser around the body. */
#define PDB_USAGE_BODY \
    "Debug the Python program given by pyfile. Alternatively,\n" \
    "an executable module or package to debug can be specified using\n" \
    "the -m switch.\n" \
    "\n" \
    "Initial commands are read from .pdbrc files in your home directory\n" \
    "and in the current directory, if they exist.  Commands supplied with\n" \
    "-c are executed after commands from .pdbrc files.\n" \
    "\n" \
    "To let the script run until an exception occurs, use \"-c continue\".\n" \
    "To let the script run up to a given line X in the debugged file, use\n" \
    "\"-c 'until X'\"."
/* sleuth's own usage line (argparse's, as 3.13's pdb prints it) and what
 * follows pdb's text when run as sleuth. */
#define SLEUTH_USAGE_LINE "usage: sleuth [-h] [-c command] (-m module | pyfile) [args ...]\n\n"
#define OTHER_TOOLS \
    "Other tools (each has --help):\n" \
    "  sleuth run pyfile                       run with evidence files and/or fault dumps\n" \
    "  sleuth open FILE|DIR                    debug a saved evidence file post-mortem\n" \
    "  sleuth stacks PID                       print the Python stacks of a running process\n" \
    "  sleuth mem pyfile                       report memory that keeps growing\n" \
    "  sleuth reduce --test CMD INPUT          shrink a failing input\n" \
    "  sleuth bisect --good R --bad R -- CMD   find the first bad commit\n" \
    "  sleuth dap [--listen PORT]              serve the Debug Adapter Protocol (editors)\n" \
    "\n" \
    "examples:\n" \
    "  sleuth app.py --port 8080       debug app.py (as python -m pdb app.py would)\n" \
    "  sleuth -c continue app.py       run; debug post-mortem if it raises\n" \
    "  sleuth -m http.server 8000      debug a module run as a script"

#if SLEUTH_PY313
const char CliDebug_pdb_usage[] = PDB_USAGE_BODY;
#else
const char CliDebug_pdb_usage[] = "usage: pdb.py [-c command] ... [-m module | pyfile] [arg] ...\n\n" PDB_USAGE_BODY;
#endif

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


/* --- the program to debug (pdb's _ScriptTarget, _ModuleTarget, _ZipTarget) -- */

enum { TARGET_SCRIPT, TARGET_MODULE, TARGET_ZIP };

typedef struct {
    int kind;
    PyObject *name;       /* as given */
    PyObject *shown;      /* how pdb prints the target: the module name, else the realpath */
    PyObject *filename;   /* realpath of the script / the module's code file */
    PyObject *code;       /* compiled code (modules and zipapps: from runpy) */
    PyObject *spec;       /* module spec or NULL */
} Target;

static void
target_clear(Target *t)
{
    Py_CLEAR(t->name);
    Py_CLEAR(t->shown);
    Py_CLEAR(t->filename);
    Py_CLEAR(t->code);
    Py_CLEAR(t->spec);
}

static int
path_test(const char *func, PyObject *path)
{
    PyObject *r = Util_call("os.path", func, "(O)", path);
    if (!r)
        return -1;
    int t = PyObject_IsTrue(r);
    Py_DECREF(r);
    return t;
}

/* runpy's answer (mod_name, spec, code) for -m and zipapps; pdb's messages
 * when there is none. Returns 0, an exit status > 0, or -1. */
static int
target_from_runpy(Target *t, PyObject *details)
{
    if (!details) {
        if (PyErr_ExceptionMatches(PyExc_ImportError)) {
            PyObject *exc = PyErr_GetRaisedException();
            int r = print_stdout("ImportError: %S\n", exc);
            Py_DECREF(exc);
            return r < 0 ? -1 : 1;
        }
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return -1;
        PyObject *exc = PyErr_GetRaisedException();
        PyObject *r = Util_call("traceback", "print_exception", "(O)", exc);
        Py_DECREF(exc);
        if (!r)
            return -1;
        Py_DECREF(r);
        return 1;
    }
    if (!PyTuple_Check(details) || PyTuple_GET_SIZE(details) != 3) {
        Py_DECREF(details);
        PyErr_SetString(PyExc_TypeError, "runpy gave no (name, spec, code)");
        return -1;
    }
    t->spec = Py_NewRef(PyTuple_GET_ITEM(details, 1));
    t->code = Py_NewRef(PyTuple_GET_ITEM(details, 2));
    Py_DECREF(details);
    t->filename = PyObject_GetAttrString(t->code, "co_filename");
    return t->filename ? 0 : -1;
}

/* Returns 0, or an exit status > 0 after printing pdb's error, or -1. */
static int
target_prepare(Target *t)
{
    PyObject *path = PySys_GetObject("path");   /* borrowed */
    if (!path || !PyList_Check(path) || PyList_GET_SIZE(path) == 0) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a non-empty list");
        return -1;
    }
    if (t->kind == TARGET_MODULE) {
        t->shown = Py_NewRef(t->name);
        return target_from_runpy(t, Util_call("runpy", "_get_module_details", "(O)", t->name));
    }
    t->shown = Util_call("os.path", "realpath", "(O)", t->name);
    if (!t->shown)
        return -1;
    if (t->kind == TARGET_ZIP) {
        if (PyList_Insert(path, 0, t->shown) < 0)
            return -1;
        return target_from_runpy(t, Util_call("runpy", "_get_main_module_details", "()"));
    }
    t->filename = Py_NewRef(t->shown);
    int exists = path_test("exists", t->filename);
    if (exists < 0)
        return -1;
    if (!exists)
        return print_stdout("Error: %U does not exist\n", t->name) < 0 ? -1 : 1;
    int isdir = path_test("isdir", t->filename);
    if (isdir < 0)
        return -1;
    if (isdir)
        return print_stdout("Error: %U is a directory\n", t->name) < 0 ? -1 : 1;
#if SLEUTH_PY313
    /* 3.13: with -P / PYTHONSAFEPATH, sys.path[0] is left alone. */
    PyObject *flags = PySys_GetObject("flags");   /* borrowed */
    PyObject *safe = flags ? PyObject_GetAttrString(flags, "safe_path") : NULL;
    if (!safe)
        return -1;
    int is_safe = PyObject_IsTrue(safe);
    Py_DECREF(safe);
    if (is_safe)
        return is_safe < 0 ? -1 : 0;
#endif
    /* Replace sleuth's dir with the script's dir in front of sys.path. */
    PyObject *dir = Util_call("os.path", "dirname", "(O)", t->filename);
    if (!dir)
        return -1;
    return PyList_SetItem(path, 0, dir);   /* steals dir */
}

/* The code to run: modules and zipapps as runpy compiled them; a script is
 * read and compiled afresh each run (it may have been edited). A script that
 * does not compile runs as pdb runs every script, through
 * exec(compile(source, path, 'exec')), so that its SyntaxError is raised
 * (and shown, and post-mortem debugged) the way pdb's is. */
static PyObject *
target_code(Target *t)
{
    if (t->kind != TARGET_SCRIPT)
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
    if (!code && PyErr_ExceptionMatches(PyExc_Exception)) {
        PyErr_Clear();
        code = PyUnicode_FromFormat("exec(compile(%R, %R, 'exec'))", src, t->filename);
    }
    Py_DECREF(src);
    return code;
}

/* Clear __main__ and fill it with the target's namespace, in pdb's order
 * (`p globals()` shows it). */
static PyObject *
main_namespace(Target *t)
{
    /* Owned */
    PyObject *file = NULL, *parent = NULL, *loader = NULL;
    PyObject *d = NULL;   /* borrowed */

    PyObject *main = PyImport_AddModule("__main__");   /* borrowed */
    if (!main)
        return NULL;
    if (t->kind != TARGET_SCRIPT) {
        /* Computed first: the imports they run read __main__'s builtins. */
        PyObject *abs = Util_call("os.path", "abspath", "(O)", t->filename);
        file = abs ? Util_call("os.path", "normcase", "(O)", abs) : NULL;
        Py_XDECREF(abs);
        parent = file ? PyObject_GetAttrString(t->spec, "parent") : NULL;
        loader = parent ? PyObject_GetAttrString(t->spec, "loader") : NULL;
        if (!loader)
            goto done;
    } else {
        file = Py_NewRef(t->filename);
    }
    d = PyModule_GetDict(main);
    PyDict_Clear(d);
    PyObject *name = PyUnicode_FromString("__main__");
    int bad = !name || PyDict_SetItemString(d, "__name__", name) < 0 ||
              PyDict_SetItemString(d, "__file__", file) < 0;
    Py_XDECREF(name);
    if (!bad && t->kind != TARGET_SCRIPT)
        bad = PyDict_SetItemString(d, "__package__", parent) < 0 ||
              PyDict_SetItemString(d, "__loader__", loader) < 0 ||
              PyDict_SetItemString(d, "__spec__", t->spec) < 0;
    if (!bad)
        bad = PyDict_SetItemString(d, "__builtins__", PyEval_GetBuiltins()) < 0;
#if SLEUTH_PY313
    /* 3.13 gives a script __spec__ = None, as `python script.py` does. */
    if (!bad && t->kind == TARGET_SCRIPT)
        bad = PyDict_SetItemString(d, "__spec__", Py_None) < 0;
#endif
    if (bad)
        d = NULL;
done:
    Py_XDECREF(file);
    Py_XDECREF(parent);
    Py_XDECREF(loader);
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
#if SLEUTH_PY313
    /* pdb._run: a (re)run starts with every file taken as up to date, so no
     * "was edited" warning for an edit made before `restart`. */
    if (Sleuth_state()->file_mtimes)
        PyDict_Clear(Sleuth_state()->file_mtimes);
#endif
    PyObject *globals = main_namespace(t);
    if (!globals)
        return -1;
    PyObject *code = target_code(t);
    if (!code)
        return -1;
    /* A code object runs as the bottom frame; pdb's exec() string (a script
     * that did not compile) runs below its own <string> frame. */
    p->bot_is_first = PyCode_Check(code);
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
    int r = print_stdout("Restarting %U with arguments:\n\t%U\n", t->shown, joined);
    Py_DECREF(joined);
    return r;
}

/* --- the command line --------------------------------------------------- */

typedef struct {
    int pdb_name;         /* run as pdb (argv[0] is pdb.py): pdb's own words */
    PyObject *commands;   /* -c/--command values */
    PyObject *args;       /* [target, program args...] */
    int kind;
} Cmdline;

/* argv[0] names pdb when sleuth stands in for it (a pdb.py shim): then the
 * usage and argparse's messages say "pdb" as pdb's do; else "sleuth". */
static int
named_pdb(PyObject *argv)
{
    if (PyList_GET_SIZE(argv) < 1 || !PyUnicode_Check(PyList_GET_ITEM(argv, 0)))
        return 0;
    PyObject *base = Util_call("os.path", "basename", "(O)", PyList_GET_ITEM(argv, 0));
    if (!base) {
        PyErr_Clear();
        return 0;
    }
    int r = PyUnicode_CompareWithASCIIString(base, "pdb.py") == 0 ||
            PyUnicode_CompareWithASCIIString(base, "pdb") == 0;
    Py_DECREF(base);
    return r;
}

#if SLEUTH_PY313
/* The status of a SystemExit being raised (argparse's exit), cleared. */
static long
take_exit_status(void)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *code = PyObject_GetAttrString(exc, "code");
    Py_DECREF(exc);
    long status = 1;
    if (!code) {
        PyErr_Clear();
    } else if (code == Py_None) {
        status = 0;
    } else if (PyLong_Check(code)) {
        status = PyLong_AsLong(code);
        if (status == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            status = 1;
        }
    } else {
        PyObject *r = PyObject_Str(code);
        if (r)
            PySys_FormatStderr("%U\n", r);
        Py_XDECREF(r);
        PyErr_Clear();
    }
    Py_XDECREF(code);
    return status;
}

/* 3.13: pdb's argparse parser, built the same way. */
static PyObject *
make_parser(int pdb_name)
{
    /* Owned */
    PyObject *argparse = NULL, *fmt = NULL, *kw = NULL, *parser = NULL, *r = NULL;

    argparse = PyImport_ImportModule("argparse");
    if (!argparse)
        goto error;
    fmt = PyObject_GetAttrString(argparse, "RawDescriptionHelpFormatter");
    if (!fmt)
        goto error;
    kw = Py_BuildValue("{s:s,s:s,s:s,s:O,s:O}", "prog", pdb_name ? "pdb" : "sleuth",
                       "usage", "%(prog)s [-h] [-c command] (-m module | pyfile) [args ...]",
                       "description", PDB_USAGE_BODY, "formatter_class", fmt,
                       "allow_abbrev", Py_False);
    if (!kw)
        goto error;
    if (!pdb_name) {
        PyObject *epi = PyUnicode_FromString(OTHER_TOOLS);
        if (!epi || PyDict_SetItemString(kw, "epilog", epi) < 0) {
            Py_XDECREF(epi);
            goto error;
        }
        Py_DECREF(epi);
    }
    PyObject *cls = PyObject_GetAttrString(argparse, "ArgumentParser");
    if (!cls)
        goto error;
    PyObject *empty = PyTuple_New(0);
    parser = empty ? PyObject_Call(cls, empty, kw) : NULL;
    Py_XDECREF(empty);
    Py_DECREF(cls);
    if (!parser)
        goto error;
    Py_SETREF(kw, Py_BuildValue("{s:s,s:[],s:s,s:s,s:s}", "action", "append", "default",
                                "metavar", "command", "dest", "commands",
                                "help", "pdb commands to execute as if given in a .pdbrc file"));
    if (!kw)
        goto error;
    PyObject *add = PyObject_GetAttrString(parser, "add_argument");
    if (!add)
        goto error;
    PyObject *a = Py_BuildValue("(ss)", "-c", "--command");
    r = a ? PyObject_Call(add, a, kw) : NULL;
    Py_XDECREF(a);
    if (r) {
        Py_SETREF(r, NULL);
        Py_SETREF(kw, Py_BuildValue("{s:s,s:s}", "metavar", "module", "dest", "module"));
        a = kw ? Py_BuildValue("(s)", "-m") : NULL;
        r = a ? PyObject_Call(add, a, kw) : NULL;
        Py_XDECREF(a);
    }
    if (r) {
        Py_SETREF(r, NULL);
        Py_SETREF(kw, Py_BuildValue("{s:s,s:s}", "nargs", "*", "help",
                                    "when -m is not specified, the first arg is the script to debug"));
        a = kw ? Py_BuildValue("(s)", "args") : NULL;
        r = a ? PyObject_Call(add, a, kw) : NULL;
        Py_XDECREF(a);
    }
    Py_DECREF(add);
    if (!r)
        goto error;
    Py_DECREF(r);
    Py_DECREF(kw);
    Py_DECREF(fmt);
    Py_DECREF(argparse);
    return parser;
error:
    Py_XDECREF(argparse);
    Py_XDECREF(fmt);
    Py_XDECREF(kw);
    Py_XDECREF(parser);
    return NULL;
}

/* Returns 0 (cl filled), an exit status > 0 (or 0 via *done), or -1. */
static int
parse_cmdline(PyObject *argv, Cmdline *cl, int *done)
{
    /* Owned */
    PyObject *parser = NULL, *rest = NULL, *opts = NULL, *module = NULL;
    int status = -1;

    parser = make_parser(cl->pdb_name);
    if (!parser)
        goto out;
    if (PyList_GET_SIZE(argv) <= 1) {
        /* pdb prints the whole help (argparse would only name what is missing). */
        PyObject *r = PyObject_CallMethod(parser, "print_help", NULL);
        if (!r)
            goto out;
        Py_DECREF(r);
        *done = 1;
        status = 2;
        goto out;
    }
    rest = PyList_GetSlice(argv, 1, PY_SSIZE_T_MAX);
    opts = rest ? PyObject_CallMethod(parser, "parse_args", "O", rest) : NULL;
    if (!opts)
        goto exit_or_error;
    cl->commands = PyObject_GetAttrString(opts, "commands");
    module = PyObject_GetAttrString(opts, "module");
    PyObject *args = PyObject_GetAttrString(opts, "args");
    cl->args = args ? PySequence_List(args) : NULL;
    Py_XDECREF(args);
    if (!cl->commands || !module || !cl->args)
        goto out;
    int has_module = PyObject_IsTrue(module);
    if (has_module < 0)
        goto out;
    if (has_module) {
        cl->kind = TARGET_MODULE;
        if (PyList_Insert(cl->args, 0, module) < 0)
            goto out;
    } else {
        if (PyList_GET_SIZE(cl->args) == 0) {
            PyObject *r = PyObject_CallMethod(parser, "error", "s", "no module or script to run");
            Py_XDECREF(r);
            goto exit_or_error;
        }
        PyObject *suffix = PyUnicode_FromString(".pyz");
        if (!suffix)
            goto out;
        Py_ssize_t zip = PyUnicode_Tailmatch(PyList_GET_ITEM(cl->args, 0), suffix, 0, PY_SSIZE_T_MAX, 1);
        Py_DECREF(suffix);
        if (zip < 0)
            goto out;
        cl->kind = zip ? TARGET_ZIP : TARGET_SCRIPT;
    }
    status = 0;
    goto out;
exit_or_error:
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        status = (int)take_exit_status();
        *done = 1;
    }
out:
    Py_XDECREF(parser);
    Py_XDECREF(rest);
    Py_XDECREF(opts);
    Py_XDECREF(module);
    return status;
}
#else
static int
print_usage(int pdb_name)
{
    if (pdb_name)
        return print_stdout("%s\n", CliDebug_pdb_usage);
    return print_stdout("%s\n", SLEUTH_USAGE_LINE PDB_USAGE_BODY "\n\n" OTHER_TOOLS);
}

/* 3.11/3.12: pdb's getopt command line. */
static int
parse_cmdline(PyObject *argv, Cmdline *cl, int *done)
{
    /* Owned */
    PyObject *rest = NULL, *res = NULL, *err = NULL;
    int status = -1, help = 0;

    rest = PyList_GetSlice(argv, 1, PY_SSIZE_T_MAX);
    if (!rest)
        goto out;
    res = Util_call("getopt", "getopt", "(Os[ss])", rest, "mhc:", "help", "command=");
    if (!res) {
        /* pdb lets getopt's error end it with a traceback of pdb's own
         * frames; its last line is the message. */
        PyObject *exc = PyErr_GetRaisedException();
        PyObject *g = PyImport_ImportModule("getopt");
        err = g ? PyObject_GetAttrString(g, "GetoptError") : NULL;
        Py_XDECREF(g);
        if (!err) {
            Py_DECREF(exc);
            goto out;
        }
        PyErr_SetRaisedException(exc);
        goto out;
    }
    PyObject *opts = PyTuple_GET_ITEM(res, 0), *args = PyTuple_GET_ITEM(res, 1);
    cl->args = PySequence_List(args);
    cl->commands = PyList_New(0);
    if (!cl->args || !cl->commands)
        goto out;
    cl->kind = TARGET_SCRIPT;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(opts); i++) {
        PyObject *o = PyList_GET_ITEM(opts, i);
        const char *name = PyUnicode_AsUTF8(PyTuple_GET_ITEM(o, 0));
        if (!name)
            goto out;
        if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0)
            help = 1;
        else if (strcmp(name, "-m") == 0)
            cl->kind = TARGET_MODULE;
        else if (PyList_Append(cl->commands, PyTuple_GET_ITEM(o, 1)) < 0)
            goto out;
    }
    if (PyList_GET_SIZE(cl->args) == 0) {
        /* pdb checks for a target first: `pdb --help` alone exits 2. As
         * sleuth, asking for help is a success (as on 3.13). */
        if (print_usage(cl->pdb_name) < 0)
            goto out;
        *done = 1;
        status = help && !cl->pdb_name ? 0 : 2;
        goto out;
    }
    if (help) {
        if (print_usage(cl->pdb_name) < 0)
            goto out;
        *done = 1;
    }
    status = 0;
out:
    if (status < 0 && err && PyErr_ExceptionMatches(err)) {
        PyObject *exc = PyErr_GetRaisedException();
        PySys_FormatStderr("getopt.GetoptError: %S\n", exc);
        Py_DECREF(exc);
        *done = 1;
        status = 1;
    }
    Py_XDECREF(rest);
    Py_XDECREF(res);
    Py_XDECREF(err);
    return status;
}
#endif

static PyObject *CliDebug_main_py_pdb(PyObject *argv);

/* --- `--listen` / `--connect`: the program under a DAP client ------------- */

#define DAP_USAGE "usage: sleuth (--listen [HOST:]PORT [--wait-for-client] [--allow-remote] | --connect HOST:PORT)\n" \
                  "              (pyfile | -m module) [args ...]"

static int
dap_usage_error(const char *fmt, const char *what)
{
    PySys_WriteStderr("sleuth: ");
    PySys_WriteStderr(fmt, what);
    PySys_WriteStderr("\n%s\n", DAP_USAGE);
    return 2;
}

/* "[HOST:]PORT" -> host (default 127.0.0.1) and port. 0 or -1. */
static int
parse_address(const char *a, char *host, size_t hostsz, int *port)
{
    const char *colon = strrchr(a, ':');
    const char *p = colon ? colon + 1 : a;
    if (colon) {
        size_t n = (size_t)(colon - a);
        if (n == 0 || n >= hostsz)
            return -1;
        memcpy(host, a, n);
        host[n] = 0;
    } else {
        snprintf(host, hostsz, "127.0.0.1");
    }
    char *end;
    long v = strtol(p, &end, 10);
    if (!*p || *end || v < 0 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

/* The exit status a SystemExit stands for (Python's own rules), cleared. */
static int
system_exit_status(PyObject *exc)
{
    PyObject *code = PyObject_GetAttrString(exc, "code");
    int status = 1;
    if (!code)
        PyErr_Clear();
    else if (code == Py_None)
        status = 0;
    else if (PyLong_Check(code))
        status = (int)PyLong_AsLong(code);
    PyErr_Clear();
    Py_XDECREF(code);
    return status;
}

static PyObject *
CliDebug_dap_py(PyObject *argv)
{
    Target t = {0};
    PyObject *rest = NULL;
    Py_ssize_t n = PyList_GET_SIZE(argv), i = 1;
    int listen_mode = -1, wait = 0, allow_remote = 0, port = 0, status = 0;
    char host[256];
    const char *addr = NULL;
    for (; i < n; i++) {
        const char *a = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, i));
        if (!a)
            return NULL;
        if ((strcmp(a, "--listen") == 0 || strcmp(a, "--connect") == 0) && i + 1 < n) {
            if (listen_mode >= 0)
                return PyLong_FromLong(dap_usage_error("%s: give only one of --listen and --connect", a));
            listen_mode = a[2] == 'l';
            addr = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, ++i));
            if (!addr)
                return NULL;
        } else if (strcmp(a, "--wait-for-client") == 0) {
            wait = 1;
        } else if (strcmp(a, "--allow-remote") == 0) {
            allow_remote = 1;
        } else if (strcmp(a, "-m") == 0 || a[0] != '-') {
            break;
        } else {
            return PyLong_FromLong(dap_usage_error("unknown option %s", a));
        }
    }
    if (listen_mode < 0 || !addr)
        return PyLong_FromLong(dap_usage_error("%s", "--listen or --connect needs an address"));
    if (parse_address(addr, host, sizeof host, &port) < 0)
        return PyLong_FromLong(dap_usage_error("bad address '%s' (expected [HOST:]PORT)", addr));
    if (i >= n)
        return PyLong_FromLong(dap_usage_error("%s", "no module or script to run"));
    int is_module = PyUnicode_CompareWithASCIIString(PyList_GET_ITEM(argv, i), "-m") == 0;
    if (is_module && i + 1 >= n)
        return PyLong_FromLong(dap_usage_error("%s", "-m needs a module name"));
    rest = PyList_GetSlice(argv, i + is_module, n);
    if (!rest)
        return NULL;
    t.kind = is_module ? TARGET_MODULE : TARGET_SCRIPT;
    t.name = Py_NewRef(PyList_GET_ITEM(rest, 0));
    int prep = target_prepare(&t);
    if (prep != 0) {
        target_clear(&t);
        Py_DECREF(rest);
        return prep < 0 ? NULL : PyLong_FromLong(prep);
    }
    PyObject *sysargv = PySys_GetObject("argv");   /* borrowed */
    if (sysargv && PyList_Check(sysargv) ? PyList_SetSlice(sysargv, 0, PY_SSIZE_T_MAX, rest) < 0
                                         : PySys_SetObject("argv", rest) < 0)
        goto error;
    DapServer *srv = Dap_start(host, port, listen_mode, allow_remote);
    if (!srv) {
        if (!PyErr_ExceptionMatches(PyExc_OSError) && !PyErr_ExceptionMatches(PyExc_ValueError))
            goto error;
        PyObject *exc = PyErr_GetRaisedException();
        PySys_FormatStderr("sleuth: %S\n", exc);
        Py_DECREF(exc);
        status = 2;
        goto finish;
    }
    /* --connect: an adapter is there and configures first; --listen waits
     * only when asked to. */
    if ((!listen_mode || wait) && Dap_wait_configured(srv) < 0)
        goto error;
    PdbObject *p = srv->pdb;
    int ran = run_once(p, &t);
    PyObject *exc = ran < 0 ? PyErr_GetRaisedException() : NULL;
    if (!exc) {
        status = 0;
    } else if (PyErr_GivenExceptionMatches(exc, PyExc_SystemExit)) {
        status = system_exit_status(exc);
        /* Python's own handling (a message for a str code) after the client heard. */
        Dap_program_ended(srv, status);
        PyErr_SetRaisedException(exc);
        goto error;
    } else if (Sleuth_state()->BdbQuit && PyErr_GivenExceptionMatches(exc, Sleuth_state()->BdbQuit)) {
        Py_DECREF(exc);
        status = 0;
    } else {
        /* Uncaught: the client sees it where it was raised (its frames are
         * still alive in the traceback), then Python's report and status 1. */
        if (srv->filter_uncaught && srv->connected) {
            PyObject *tb = PyException_GetTraceback(exc);
            if (Dap_stop(srv, NULL, exc, tb ? tb : Py_None, DAP_STOP_POST_MORTEM) < 0)
                PyErr_Clear();
            Py_XDECREF(tb);
        }
        PyObject *r = Util_call("traceback", "print_exception", "(O)", exc);
        Py_XDECREF(r);
        PyErr_Clear();
        Py_DECREF(exc);
        status = 1;
    }
    Engine_detach();
    {
        PyObject *out = PySys_GetObject("stdout");
        PyObject *r = out ? PyObject_CallMethod(out, "flush", NULL) : NULL;
        Py_XDECREF(r);
        PyErr_Clear();
    }
    Dap_program_ended(srv, status);
finish:
    target_clear(&t);
    Py_XDECREF(rest);
    return PyLong_FromLong(status);
error:
    target_clear(&t);
    Py_XDECREF(rest);
    return NULL;
}

PyObject *
CliDebug_main_py(PyObject *argv)
{
    if (PyList_GET_SIZE(argv) >= 2) {
        const char *first = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, 1));
        if (!first)
            return NULL;
        if (strcmp(first, "--listen") == 0 || strcmp(first, "--connect") == 0)
            return CliDebug_dap_py(argv);
    }
    return CliDebug_main_py_pdb(argv);
}

static PyObject *
CliDebug_main_py_pdb(PyObject *argv)
{
    /* Owned */
    PdbObject *p = NULL;
    Target t = {0};
    Cmdline cl = {0};
    long status = 0;
    int done = 0;

    cl.pdb_name = named_pdb(argv);
    int r = parse_cmdline(argv, &cl, &done);
    if (r < 0)
        goto error;
    if (done) {
        status = r;
        goto finish;
    }
    t.kind = cl.kind;
    t.name = Py_NewRef(PyList_GET_ITEM(cl.args, 0));
    int prep = target_prepare(&t);
    if (prep < 0)
        goto error;
    if (prep > 0) {
        status = prep;
        goto finish;
    }
    /* Hide sleuth and its options from the program's argv (in place, as
     * pdb does: sys.argv[:] = args). */
    PyObject *sysargv = PySys_GetObject("argv");   /* borrowed */
    if (sysargv && PyList_Check(sysargv)) {
        if (PyList_SetSlice(sysargv, 0, PY_SSIZE_T_MAX, cl.args) < 0)
            goto error;
    } else if (PySys_SetObject("argv", cl.args) < 0) {
        goto error;
    }

    p = (PdbObject *)PyObject_CallNoArgs((PyObject *)Sleuth_state()->PdbType);
    if (!p)
        goto error;
    PyObject *ext = PyObject_CallMethod(p->rcLines, "extend", "O", cl.commands);
    if (!ext)
        goto error;
    Py_DECREF(ext);
    ModState *st = Sleuth_state();
    for (;;) {
        /* pdb.main's loop, as each version words it. */
        int restarted_in_pm = 0;
        int ran = run_once(p, &t);
        if (ran < 0 && !PyErr_Occurred()) {
            PyErr_SetString(PyExc_SystemError, "sleuth: a run failed without an exception");
            goto error;
        }
        if (ran == 0) {
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
            PyObject *exc = PyErr_GetRaisedException();
            PyObject *r = Util_call("traceback", "print_exception", "(O)", exc);
            Py_DECREF(exc);
            if (!r)
                goto error;
            Py_DECREF(r);
            status = 1;
            goto finish;
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
            print_stdout("Post mortem debugger finished. The %U will be restarted\n", t.shown);
            continue;
#endif
        }
        if (restarted_in_pm)
            continue;
        if (p->user_requested_quit)
            break;
        print_stdout("The program finished and will be restarted\n");
    }
finish:
    Py_XDECREF(p);
    target_clear(&t);
    Py_XDECREF(cl.commands);
    Py_XDECREF(cl.args);
    return PyLong_FromLong(status);
error:
    Py_XDECREF(p);
    target_clear(&t);
    Py_XDECREF(cl.commands);
    Py_XDECREF(cl.args);
    return NULL;
}

/* `sleuth run`'s target that is not there: pdb's one-line error (on stderr:
 * stdout is the program's) and exit status 1, never a traceback through
 * sleuth's frames. Returns 0 (go on), 1, or -1. An ImportError raised by the
 * program's own imports (a package __init__ run by the lookup) is not a
 * missing target: it propagates as the program's failure. */
static int
run_target_missing(PyObject *target, int is_module)
{
    if (!is_module) {
        int exists = path_test("exists", target);
        if (exists < 0)
            return -1;
        if (!exists)
            PySys_FormatStderr("Error: %U does not exist\n", target);
        return !exists;
    }
    PyObject *det = Util_call("runpy", "_get_module_details", "(O)", target);
    if (det) {
        Py_DECREF(det);
        return 0;
    }
    if (!PyErr_ExceptionMatches(PyExc_ImportError))
        return -1;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *name = PyObject_GetAttrString(exc, "name");
    int lookup = 0;
    if (!name) {
        PyErr_Clear();
    } else if (name == Py_None) {
        lookup = 1;   /* runpy's own "is a package", "no code object"... */
    } else if (PyUnicode_Check(name)) {
        /* "No module named X" for the target or one of its parents */
        Py_ssize_t n = PyUnicode_GET_LENGTH(name), tn = PyUnicode_GET_LENGTH(target);
        lookup = PyUnicode_Tailmatch(target, name, 0, n, -1) == 1 &&
                 (n == tn || (n < tn && PyUnicode_READ_CHAR(target, n) == '.'));
    }
    Py_XDECREF(name);
    if (!lookup) {
        PyErr_SetRaisedException(exc);
        return -1;
    }
    PySys_FormatStderr("ImportError: %S\n", exc);
    Py_DECREF(exc);
    return 1;
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
    /* After sys.argv is the program's: the lookup may run its packages. */
    int missing = run_target_missing(PyList_GET_ITEM(rest, 0), is_module);
    if (missing) {
        Py_DECREF(rest);
        return missing < 0 ? NULL : PyLong_FromLong(missing);
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
