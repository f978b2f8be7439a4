/* cli.c — load() and `sleuth open FILE`.
 *
 * `sleuth open` hands the loaded evidence to the debugger's terminal
 * frontend (sleuth._sleuth.open_snapshot) when this build has it; until
 * then it prints a summary. A bad file is one line on stderr and status 2,
 * never a traceback.
 */
#include "cli.h"
#include "snapshot.h"
#include "termsafe.h"

#include <dirent.h>
#include <sys/stat.h>

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

/* `line` on stderr with its control characters escaped: messages quote
 * the file's data and the file's name. */
static void
write_stderr_line(PyObject *line)
{
    PyObject *safe = line ? TermSafe_escape(line) : NULL;
    PyObject *err = PySys_GetObject("stderr");     /* borrowed */
    if (safe && err && err != Py_None && PyFile_WriteObject(safe, err, Py_PRINT_RAW) == 0) {
        PyObject *r = PyObject_CallMethod(err, "flush", NULL);
        Py_XDECREF(r);
    }
    Py_XDECREF(safe);
    PyErr_Clear();
}

/* One line on stderr for the load failure now raised; clears it. */
static void
report_load_error(EvidenceState *st, PyObject *prog, PyObject *path)
{
    PyObject *exc = PyErr_GetRaisedException(), *line = NULL;
    if (exc && PyErr_GivenExceptionMatches(exc, PyExc_OSError)) {
        PyObject *err = PyObject_GetAttrString(exc, "strerror");
        if (err && err != Py_None)
            line = PyUnicode_FromFormat("%U: error: cannot read %R: %S\n", prog, path, err);
        else
            line = PyUnicode_FromFormat("%U: error: cannot read %R\n", prog, path);
        Py_XDECREF(err);
    }
    else if (exc && PyErr_GivenExceptionMatches(exc, st->error))
        line = PyUnicode_FromFormat("%U: error: %R: %S\n", prog, path, exc);
    else if (exc)
        line = PyUnicode_FromFormat("%U: error: %R is not a readable evidence file (%s: %S)\n",
                                    prog, path, Py_TYPE(exc)->tp_name, exc);
    PyErr_Clear();
    if (line) {
        /* One line a terminal can show, though messages may quote the file's
         * text: its newlines escaped, and cut when long. */
        Py_ssize_t n = PyUnicode_GET_LENGTH(line) - 1;
        PyObject *body = PyUnicode_Substring(line, 0, n > 2000 ? 2000 : n);
        PyObject *flat = body ? PyObject_CallMethod(body, "replace", "ss", "\n", "\\n") : NULL;
        Py_SETREF(line, flat ? PyUnicode_FromFormat("%U%s\n", flat, n > 2000 ? "..." : "") : NULL);
        Py_XDECREF(body);
        Py_XDECREF(flat);
    }
    write_stderr_line(line);
    Py_XDECREF(line);
    Py_XDECREF(exc);
}

static const char USAGE[] =
    "usage: %U FILE|DIR [FILE ...]\n"
    "\n"
    "Debug a saved evidence file post-mortem (written by sleuth.evidence.install,\n"
    "`sleuth run --evidence DIR` or SLEUTH_EVIDENCE=DIR).\n"
    "\n"
    "  FILE        an evidence file (.json or .json.gz)\n"
    "  DIR         a folder of them: the newest is opened, the others listed\n"
    "  FILE ...    several files: listed, and the newest is opened\n"
    "  -h, --help  show this help\n"
    "\n"
    "example:\n"
    "  sleuth open /tmp/ev      (after SLEUTH_EVIDENCE=/tmp/ev python app.py)\n";

/* ------------------------------------------------------------------------ */
/* Choosing the file: one file, a folder, or several files                  */

typedef struct {
    PyObject *path;             /* str */
    double mtime;
} Candidate;

static int
candidate_cmp(const void *a, const void *b)
{
    double x = ((const Candidate *)a)->mtime, y = ((const Candidate *)b)->mtime;
    return x < y ? 1 : x > y ? -1 : 0;            /* newest first */
}

static int
has_evidence_suffix(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".json") == 0)
        || (n > 8 && strcmp(name + n - 8, ".json.gz") == 0);
}

/* Take path (a new reference, stolen) into the list. 0, or -1 with MemoryError. */
static int
push_candidate(Candidate **list, size_t *n, size_t *cap, PyObject *path, const struct stat *sb)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        Candidate *nl = PyMem_Realloc(*list, ncap * sizeof **list);
        if (!nl) {
            Py_DECREF(path);
            PyErr_NoMemory();
            return -1;
        }
        *list = nl, *cap = ncap;
    }
    (*list)[*n].path = path;
    (*list)[*n].mtime = (double)sb->st_mtim.tv_sec + sb->st_mtim.tv_nsec * 1e-9;
    (*n)++;
    return 0;
}

/* Add path (a str) if it names a regular file; a folder adds its evidence
 * files (`*.json`, `*.json.gz`, not hidden). 0, or -1 after one line on
 * stderr (or with an exception set, e.g. MemoryError). */
static int
add_candidates(PyObject *prog, PyObject *path, Candidate **list, size_t *n, size_t *cap)
{
    /* Owned */
    PyObject *bytes = NULL, *child = NULL;
    DIR *dir = NULL;
    int rc = -1;
    struct stat sb;

    if (!PyUnicode_FSConverter(path, &bytes))
        goto done;
    const char *p = PyBytes_AS_STRING(bytes);
    size_t plen = (size_t)PyBytes_GET_SIZE(bytes);
    if (stat(p, &sb) < 0) {
        PySys_FormatStderr("%U: error: cannot read %R: %s\n", prog, path, strerror(errno));
        goto done;
    }
    if (S_ISREG(sb.st_mode)) {
        rc = push_candidate(list, n, cap, Py_NewRef(path), &sb);
        goto done;
    }
    if (!S_ISDIR(sb.st_mode)) {
        /* A FIFO or a device would block or never end. */
        PySys_FormatStderr("%U: error: %R is not a regular file\n", prog, path);
        goto done;
    }
    dir = opendir(p);
    if (!dir) {
        PySys_FormatStderr("%U: error: cannot read %R: %s\n", prog, path, strerror(errno));
        goto done;
    }
    const char *sep = plen && p[plen - 1] == '/' ? "" : "/";
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.' || !has_evidence_suffix(de->d_name))
            continue;
        PyObject *cb = PyBytes_FromFormat("%s%s%s", p, sep, de->d_name);
        if (!cb)
            goto done;
        struct stat cs;
        int regular = stat(PyBytes_AS_STRING(cb), &cs) == 0 && S_ISREG(cs.st_mode);
        child = regular ? PyUnicode_DecodeFSDefaultAndSize(PyBytes_AS_STRING(cb),
                                                           PyBytes_GET_SIZE(cb)) : NULL;
        Py_DECREF(cb);
        if (!regular)
            continue;
        if (!child)
            goto done;
        PyObject *taken = child;
        child = NULL;
        if (push_candidate(list, n, cap, taken, &cs) < 0)
            goto done;
    }
    rc = 0;
done:
    if (dir)
        closedir(dir);
    Py_XDECREF(child);
    Py_XDECREF(bytes);
    return rc;
}

/* The file to open (new str) from the command line's paths; the others are
 * listed on stdout first. NULL with nothing set: a usage line was printed
 * (status 2); NULL with an exception: a real error. */
static PyObject *
choose_file(PyObject *prog, PyObject *args)
{
    Candidate *list = NULL;
    size_t n = 0, cap = 0;
    PyObject *res = NULL, *text = NULL;
    Py_ssize_t nargs = PyList_GET_SIZE(args);

    for (Py_ssize_t i = 1; i < nargs; i++) {
        PyObject *a = PyList_GET_ITEM(args, i);
        if (!PyUnicode_Check(a)) {
            PyErr_SetString(PyExc_TypeError, "main() expects a list of strings");
            goto done;
        }
        if (add_candidates(prog, a, &list, &n, &cap) < 0)
            goto done;
    }
    if (n == 0) {
        PySys_FormatStderr("%U: error: no evidence file (*.json, *.json.gz) in %R\n", prog,
                           PyList_GET_ITEM(args, 1));
        goto done;
    }
    qsort(list, n, sizeof *list, candidate_cmp);
    if (n > 1) {
        text = PyUnicode_FromFormat("%U: %zu evidence files, newest first; opening %R\n",
                                    prog, n, list[0].path);
        for (size_t i = 1; text && i < n; i++) {
            char when[32];
            time_t t = (time_t)list[i].mtime;
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
            PyObject *line = PyUnicode_FromFormat("  %s  %R\n", when, list[i].path);
            Py_SETREF(text, line ? PyUnicode_Concat(text, line) : NULL);
            Py_XDECREF(line);
        }
        if (!text || write_stdout(text) < 0)
            goto done;
    }
    res = Py_NewRef(list[0].path);
done:
    for (size_t i = 0; i < n; i++)
        Py_DECREF(list[i].path);
    PyMem_Free(list);
    Py_XDECREF(text);
    return res;
}

PyObject *
Cli_main_py(PyObject *module, PyObject *args)
{
    /* Owned */
    PyObject *prog = NULL, *ev = NULL, *core = NULL, *open_snapshot = NULL, *res = NULL;
    PyObject *exc = NULL, *tb = NULL, *env = NULL, *threads = NULL, *text = NULL;
    PyObject *path = NULL;
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
    if (n < 2) {
        PySys_FormatStderr("usage: %U FILE|DIR [FILE ...]\n%U: error: expected an evidence file\n",
                           prog, prog);
        res = PyLong_FromLong(2);
        goto done;
    }
    path = choose_file(prog, args);
    if (!path) {
        if (!PyErr_Occurred())
            res = PyLong_FromLong(2);
        goto done;
    }
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
        if (text)                   /* written by somebody else: no raw control characters */
            Py_SETREF(text, TermSafe_escape(text));
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
        if (tb == Py_None) {
            /* capture(exc=...) of an exception never raised, or a file with
             * no frame to stand on: the summary is all there is. */
            PyObject *line = PyUnicode_FromFormat(
                "%U: error: %R: nothing to debug: the file holds no stack (an exception "
                "captured without a traceback, or no frames)\n", prog, path);
            write_stderr_line(line);
            Py_XDECREF(line);
            res = PyLong_FromLong(2);
            goto done;
        }
        PyObject *rv = PyObject_CallFunctionObjArgs(open_snapshot, exc, tb, env, threads, NULL);
        if (!rv) {
            if (PyErr_ExceptionMatches(PyExc_MemoryError)
                    || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)
                    || PyErr_ExceptionMatches(PyExc_SystemExit))
                goto done;
            /* Never a traceback for a file's content: one line, status 2. */
            PyObject *e = PyErr_GetRaisedException();
            PyObject *line = PyUnicode_FromFormat("%U: error: %R: the debugger stopped (%s: %S)\n",
                                                  prog, path, Py_TYPE(e)->tp_name, e);
            write_stderr_line(line);
            Py_XDECREF(line);
            Py_XDECREF(e);
            res = PyLong_FromLong(2);
            goto done;
        }
        if (PyLong_Check(rv))
            res = rv;
        else {
            Py_DECREF(rv);
            res = PyLong_FromLong(0);
        }
        goto done;
    }
    text = Snapshot_summary(ev);
    if (text)
        Py_SETREF(text, TermSafe_escape(text));
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
    Py_XDECREF(path);
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
