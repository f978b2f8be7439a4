/* memcli.c — `sleuth mem [options] script.py [args...]`.
 *
 * Runs the script as __main__ with tracing on. A native thread wakes every
 * --interval seconds, takes the GIL, takes a snapshot and records the live
 * size of every allocation site (a traceback of --frames frames); one more
 * snapshot is taken when the script ends. Then it reports the sites whose
 * size grew at every interval since they first appeared — a leak grows at
 * every interval, a big steady or cycling allocation does not — as text on
 * stderr (the script keeps its stdout) and as an HTML page with one inline
 * SVG plot per site.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "tracer.h"
#include "types.h"

typedef struct {
    PyObject *module;        /* sleuth._memory (owned) */
    PyObject *series;        /* key Traceback -> list of sizes, one per snapshot */
    PyObject *times;         /* list of float seconds since start */
    Py_ssize_t nsnap;
    double t0;
    long interval_us;
    PyThread_type_lock wake, done;
    int stop;
    long frames;             /* --frames: what the user sees */
    PyObject *launcher;      /* (filename, lineno) of the frames under run_path, oldest first */
} SmRun;

static double
sm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A frame (filename, lineno) of runpy's. */
static int
sm_is_runpy(PyObject *frame)
{
    PyObject *name = PyTuple_GET_ITEM(frame, 0);
    if (!PyUnicode_Check(name))
        return 0;
    const char *s = PyUnicode_AsUTF8(name);
    if (!s) {
        PyErr_Clear();
        return 0;
    }
    size_t n = strlen(s);
    return strcmp(s, "<frozen runpy>") == 0 || (n >= 9 && strcmp(s + n - 9, "/runpy.py") == 0);
}

/* The allocation site as the user thinks of it: the traceback without the
 * launcher's frames under the script (the stack that called `sleuth mem`,
 * then runpy's), cut to the newest --frames frames. The tracer captures
 * --frames plus the launcher's depth, so a deep stack still shows --frames
 * of the user's own. New reference. */
static PyObject *
sm_user_site(SmRun *r, PyObject *tb)
{
    PyObject *frames = ((SmTracebackObject *)tb)->frames;     /* oldest first */
    Py_ssize_t len = PyTuple_GET_SIZE(frames), nl = PyTuple_GET_SIZE(r->launcher), k = 0;
    while (k < nl && k < len) {
        int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(frames, k),
                                          PyTuple_GET_ITEM(r->launcher, k), Py_EQ);
        if (eq < 0)
            return NULL;
        if (!eq)
            break;
        k++;
    }
    if (k == nl)
        while (k < len - 1 && k < nl + 3 && sm_is_runpy(PyTuple_GET_ITEM(frames, k)))
            k++;
    else
        k = 0;              /* a deep stack: the launcher is below what was captured */
    Py_ssize_t drop = len - k > r->frames ? len - r->frames : k;
    if (drop <= 0)
        return Py_NewRef(tb);
    PyObject *kept = PyTuple_GetSlice(frames, drop, len);
    PyObject *res = kept ? SmTraceback_new(PyModule_GetState(r->module), kept, NULL) : NULL;
    Py_XDECREF(kept);
    return res;
}

/* Take one snapshot and append a column to the series. GIL held. */
static int
sm_run_sample(SmRun *r)
{
    /* Owned */
    PyObject *snap = NULL, *stats = NULL, *t = NULL;
    int rc = -1;

    if (!SmTracer_is_tracing())
        return 0;
    snap = PyObject_CallMethod(r->module, "take_snapshot", NULL);
    if (!snap)
        goto error;
    stats = PyObject_CallMethod(snap, "statistics", "s", "traceback");
    if (!stats)
        goto error;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(stats); i++) {
        SmStatisticObject *st = (SmStatisticObject *)PyList_GET_ITEM(stats, i);
        PyObject *col = NULL;
        PyObject *site = sm_user_site(r, st->traceback);
        if (!site)
            goto error;
        int found = PyDict_GetItemRef(r->series, site, &col);
        if (found < 0) {
            Py_DECREF(site);
            goto error;
        }
        if (found && PyList_GET_SIZE(col) == r->nsnap + 1) {
            /* Two captured stacks that differ only below --frames: one site. */
            PyObject *last = PyList_GET_ITEM(col, r->nsnap);
            PyObject *sum = PyNumber_Add(last, st->size);
            int ok = sum && PyList_SetItem(col, r->nsnap, sum) == 0;
            Py_DECREF(col);
            Py_DECREF(site);
            if (!ok)
                goto error;
            continue;
        }
        if (!found) {
            col = PyList_New(0);
            if (!col || PyDict_SetItem(r->series, site, col) < 0) {
                Py_XDECREF(col);
                Py_DECREF(site);
                goto error;
            }
            PyObject *zero = PyLong_FromLong(0);
            for (Py_ssize_t k = 0; zero && k < r->nsnap; k++)
                if (PyList_Append(col, zero) < 0)
                    Py_CLEAR(zero);
            if (!zero) {
                Py_DECREF(col);
                Py_DECREF(site);
                goto error;
            }
            Py_DECREF(zero);
        }
        Py_DECREF(site);
        int ok = PyList_Append(col, st->size) == 0;
        Py_DECREF(col);
        if (!ok)
            goto error;
    }
    /* sites gone from this snapshot: size 0 */
    Py_ssize_t pos = 0;
    PyObject *key, *col;
    while (PyDict_Next(r->series, &pos, &key, &col)) {
        if (PyList_GET_SIZE(col) < r->nsnap + 1) {
            PyObject *zero = PyLong_FromLong(0);
            int ok = zero && PyList_Append(col, zero) == 0;
            Py_XDECREF(zero);
            if (!ok)
                goto error;
        }
    }
    t = PyFloat_FromDouble(sm_now() - r->t0);
    if (!t || PyList_Append(r->times, t) < 0)
        goto error;
    r->nsnap++;
    rc = 0;
error:
    Py_XDECREF(snap);
    Py_XDECREF(stats);
    Py_XDECREF(t);
    return rc;
}

static void
sm_sampler_thread(void *arg)
{
    SmRun *r = arg;
    SmTracer_ignore_this_thread(1);
    for (;;) {
        PyLockStatus s = PyThread_acquire_lock_timed(r->wake, r->interval_us, 0);
        if (s == PY_LOCK_ACQUIRED || __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
            break;
        PyGILState_STATE g = PyGILState_Ensure();
        if (!r->stop && sm_run_sample(r) < 0)
            PyErr_WriteUnraisable(r->module);
        PyGILState_Release(g);
    }
    PyThread_release_lock(r->done);
}

/* ------------------------------------------------------------------------ */
/* analysis and reports                                                     */

typedef struct {
    PyObject *key;    /* borrowed from series */
    PyObject *col;    /* borrowed */
    double growth, first, last;
    Py_ssize_t from;  /* first snapshot where the site is present */
} SmSite;

static int
sm_site_cmp(const void *a, const void *b)
{
    double x = ((const SmSite *)a)->growth, y = ((const SmSite *)b)->growth;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Sites that kept growing since they appeared (see the rule below). */
static SmSite *
sm_growing(SmRun *r, Py_ssize_t *n)
{
    SmSite *out = malloc(((size_t)PyDict_GET_SIZE(r->series) + 1) * sizeof(SmSite));
    Py_ssize_t pos = 0, k = 0;
    PyObject *key, *col;
    *n = 0;
    if (!out) {
        PyErr_NoMemory();
        return NULL;
    }
    while (PyDict_Next(r->series, &pos, &key, &col)) {
        Py_ssize_t len = PyList_GET_SIZE(col), f = 0;
        while (f < len && PyLong_AsDouble(PyList_GET_ITEM(col, f)) <= 0)
            f++;
        if (len - f < 3)
            continue;
        /* Never shrank, and grew at least twice. An interval with no change
         * at all does not break the streak: the program may simply not have
         * run between two snapshots (the last one is taken at exit). */
        int shrank = 0, grew = 0;
        for (Py_ssize_t i = f + 1; i < len && !shrank; i++) {
            double a = PyLong_AsDouble(PyList_GET_ITEM(col, i - 1));
            double b = PyLong_AsDouble(PyList_GET_ITEM(col, i));
            shrank = b < a;
            grew += b > a;
        }
        if (shrank || grew < 2)
            continue;
        double first = PyLong_AsDouble(PyList_GET_ITEM(col, f));
        double last = PyLong_AsDouble(PyList_GET_ITEM(col, len - 1));
        out[k++] = (SmSite){key, col, last - first, first, last, f};
    }
    if (PyErr_Occurred()) {
        free(out);
        return NULL;
    }
    qsort(out, (size_t)k, sizeof(SmSite), sm_site_cmp);
    *n = k;
    return out;
}

static PyObject *
sm_fmt_size(double v, int sign)
{
    return SmFormat_size(v, sign);
}

static int
sm_text_report(SmRun *r, SmSite *sites, Py_ssize_t n, int top, const char *mode)
{
    double span = r->nsnap ? PyFloat_AsDouble(PyList_GET_ITEM(r->times, r->nsnap - 1)) : 0;
    char spans[32];
    snprintf(spans, sizeof(spans), "%.1f", span);
    PySys_FormatStderr("sleuth mem: %zd snapshots over %s s, %s, %zd allocation sites\n",
                       r->nsnap, spans, mode, PyDict_GET_SIZE(r->series));
    if (n == 0) {
        PySys_WriteStderr("sleuth mem: no allocation site grew at every interval\n");
        return 0;
    }
    PySys_FormatStderr("sleuth mem: %zd site(s) grew at every interval; top %d:\n", n,
                       (int)(n < top ? n : top));
    for (Py_ssize_t i = 0; i < n && i < top; i++) {
        PyObject *g = sm_fmt_size(sites[i].growth, 1), *a = sm_fmt_size(sites[i].first, 0),
                 *b = sm_fmt_size(sites[i].last, 0);
        PyObject *lines = PyObject_CallMethod(sites[i].key, "format", NULL);
        if (!g || !a || !b || !lines) {
            Py_XDECREF(g);
            Py_XDECREF(a);
            Py_XDECREF(b);
            Py_XDECREF(lines);
            return -1;
        }
        PySys_FormatStderr("#%zd %U (%U -> %U over %zd snapshots)\n", i + 1, g, a, b,
                           r->nsnap - sites[i].from);
        for (Py_ssize_t k = 0; k < PyList_GET_SIZE(lines); k++)
            PySys_FormatStderr("  %U\n", PyList_GET_ITEM(lines, k));
        Py_DECREF(g);
        Py_DECREF(a);
        Py_DECREF(b);
        Py_DECREF(lines);
    }
    return 0;
}

/* html.escape(str(obj)) */
static PyObject *
sm_escape(PyObject *escape, PyObject *obj)
{
    PyObject *s = PyObject_Str(obj);
    if (!s)
        return NULL;
    PyObject *r = PyObject_CallOneArg(escape, s);
    Py_DECREF(s);
    return r;
}

static int
sm_html_report(SmRun *r, SmSite *sites, Py_ssize_t n, int top, const char *mode,
               PyObject *path)
{
    /* Owned */
    PyObject *html = NULL, *escape = NULL, *parts = NULL, *doc = NULL, *io = NULL, *f = NULL,
             *res = NULL;
    int rc = -1;
#define ADD(...) do { PyObject *_s = PyUnicode_FromFormat(__VA_ARGS__); \
        if (!_s || PyList_Append(parts, _s) < 0) { Py_XDECREF(_s); goto error; } \
        Py_DECREF(_s); } while (0)

    if (!(html = PyImport_ImportModule("html")) || !(escape = PyObject_GetAttrString(html, "escape")) ||
        !(parts = PyList_New(0)))
        goto error;
    ADD("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sleuth mem</title>\n"
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:.5em}"
        "svg{background:#fff;border:1px solid #ccc}</style></head><body>\n"
        "<h1>sleuth mem: memory that kept growing</h1>\n"
        "<p>%zd snapshots, %s, %zd allocation sites, %zd grew at every interval.</p>\n",
        r->nsnap, mode, PyDict_GET_SIZE(r->series), n);
    for (Py_ssize_t i = 0; i < n && i < top; i++) {
        PyObject *lines = PyObject_CallMethod(sites[i].key, "format", NULL), *joined = NULL,
                 *esc = NULL, *g = NULL, *mx = NULL;
        PyObject *nl = PyUnicode_FromString("\n");
        int ok = 0;
        if (!lines || !nl || !(joined = PyUnicode_Join(nl, lines)) ||
            !(esc = sm_escape(escape, joined)) || !(g = sm_fmt_size(sites[i].growth, 1)) ||
            !(mx = sm_fmt_size(sites[i].last, 0)))
            goto site_done;
        ADD("<h2>#%zd %U</h2>\n<pre>%U</pre>\n", i + 1, g, esc);
        /* the plot: size over time, 600x200, y from 0 to the maximum */
        double maxv = 1, tmax = 1e-9;
        Py_ssize_t len = PyList_GET_SIZE(sites[i].col);
        for (Py_ssize_t k = 0; k < len; k++) {
            double v = PyLong_AsDouble(PyList_GET_ITEM(sites[i].col, k));
            double t = PyFloat_AsDouble(PyList_GET_ITEM(r->times, k));
            if (v > maxv)
                maxv = v;
            if (t > tmax)
                tmax = t;
        }
        ADD("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"230\" "
            "viewBox=\"0 0 640 230\"><text x=\"4\" y=\"14\" font-size=\"12\">%U</text>"
            "<text x=\"4\" y=\"214\" font-size=\"12\">0 B</text>"
            "<text x=\"30\" y=\"226\" font-size=\"12\">0 s</text>"
            "<line x1=\"30\" y1=\"210\" x2=\"630\" y2=\"210\" stroke=\"#888\"/>"
            "<line x1=\"30\" y1=\"20\" x2=\"30\" y2=\"210\" stroke=\"#888\"/>"
            "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"", mx);
        for (Py_ssize_t k = 0; k < len; k++) {
            double v = PyLong_AsDouble(PyList_GET_ITEM(sites[i].col, k));
            double t = PyFloat_AsDouble(PyList_GET_ITEM(r->times, k));
            char pt[64];
            snprintf(pt, sizeof(pt), "%.1f,%.1f ", 30 + 600 * t / tmax, 210 - 190 * v / maxv);
            ADD("%s", pt);
        }
        ADD("\"/>");
        for (Py_ssize_t k = 0; k < len; k++) {      /* a marker on each snapshot */
            double v = PyLong_AsDouble(PyList_GET_ITEM(sites[i].col, k));
            double t = PyFloat_AsDouble(PyList_GET_ITEM(r->times, k));
            char pt[96];
            snprintf(pt, sizeof(pt), "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#c0392b\"/>",
                     30 + 600 * t / tmax, 210 - 190 * v / maxv);
            ADD("%s", pt);
        }
        char tl[64];
        snprintf(tl, sizeof(tl), "%.1f s", tmax);
        ADD("<text x=\"590\" y=\"226\" font-size=\"12\">%s</text></svg>\n", tl);
        ok = 1;
site_done:
        Py_XDECREF(lines);
        Py_XDECREF(nl);
        Py_XDECREF(joined);
        Py_XDECREF(esc);
        Py_XDECREF(g);
        Py_XDECREF(mx);
        if (!ok)
            goto error;
    }
    ADD("</body></html>\n");
    PyObject *empty = PyUnicode_FromString("");
    doc = empty ? PyUnicode_Join(empty, parts) : NULL;
    Py_XDECREF(empty);
    if (!doc || !(io = PyImport_ImportModule("io")))
        goto error;
    {
        PyObject *fn = PyObject_GetAttrString(io, "open");
        PyObject *args = fn ? Py_BuildValue("(Os)", path, "w") : NULL;
        PyObject *kw = args ? Py_BuildValue("{ss}", "encoding", "utf-8") : NULL;
        f = kw ? PyObject_Call(fn, args, kw) : NULL;
        Py_XDECREF(fn);
        Py_XDECREF(args);
        Py_XDECREF(kw);
    }
    if (!f)
        goto error;
    res = PyObject_CallMethod(f, "write", "O", doc);
    Py_XSETREF(res, res ? PyObject_CallMethod(f, "close", NULL) : NULL);
    if (!res)
        goto error;
    PySys_FormatStderr("sleuth mem: HTML report written to %S\n", path);
    rc = 0;
#undef ADD
error:
    Py_XDECREF(html);
    Py_XDECREF(escape);
    Py_XDECREF(parts);
    Py_XDECREF(doc);
    Py_XDECREF(io);
    Py_XDECREF(f);
    Py_XDECREF(res);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* command line                                                             */

static const char SM_HELP[] =
    "usage: %S [options] script.py [args ...]\n"
    "\n"
    "Run script.py with sleuth.memory tracing, snapshot its heap every interval,\n"
    "and report the allocation sites that grew at every interval (a leak grows\n"
    "steadily; a big steady or cycling allocation does not). The report goes to\n"
    "stderr (the script keeps its stdout) and to an HTML page with a plot per site.\n"
    "\n"
    "options:\n"
    "  --interval SECONDS  time between snapshots (default 1.0)\n"
    "  --top N             sites to report (default 10)\n"
    "  --frames N          frames of the script's stack per site (default 10)\n"
    "  --sample BYTES      sample one allocation per BYTES on average instead of\n"
    "                      tracing each one (about 1.0x CPU; sizes are estimates)\n"
    "  --reuse             charge objects reused from free lists to the line that\n"
    "                      reused them, as tracemalloc does (3.13+, exact mode)\n"
    "  --html FILE         where to write the HTML report (default sleuth-mem.html)\n"
    "  --no-html           no HTML report\n"
    "  -h, --help          show this help\n"
    "\n"
    "example:\n"
    "  %S --interval 0.5 --top 5 server.py --port 8080\n";

static int
sm_usage(PyObject *prog, const char *msg)
{
    if (msg)
        PySys_FormatStderr("%S: %s\n", prog, msg);
    PySys_FormatStderr("usage: %S [--interval SECONDS] [--top N] [--frames N] [--sample BYTES]\n"
                       "       [--reuse] [--html FILE | --no-html] script.py [args...]\n", prog);
    return 2;
}

/* The calling stack as (filename, lineno) tuples, oldest first: what a
 * traceback captured under the script starts with. New reference. */
static PyObject *
sm_launcher_frames(void)
{
    PyObject *list = PyList_New(0), *res = NULL;
    PyFrameObject *f = (PyFrameObject *)Py_XNewRef(PyEval_GetFrame());
    while (list && f) {
        PyCodeObject *code = PyFrame_GetCode(f);
        PyObject *item = Py_BuildValue("(Oi)", code->co_filename, PyFrame_GetLineNumber(f));
        Py_DECREF(code);
        if (!item || PyList_Append(list, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
        PyFrameObject *back = PyFrame_GetBack(f);
        Py_DECREF(f);
        f = back;
    }
    Py_XDECREF(f);
    if (list && PyList_Reverse(list) == 0)
        res = PyList_AsTuple(list);
    Py_XDECREF(list);
    return res;
}

/* Run the script; returns its exit status (or -1 with an exception set
 * for an error of ours). */
static int
sm_run_script(PyObject *script, PyObject *argv)
{
    /* Owned */
    PyObject *runpy = NULL, *res = NULL;
    int status = -1;

    if (PySys_SetObject("argv", argv) < 0)
        return -1;
    runpy = PyImport_ImportModule("runpy");
    if (!runpy)
        return -1;
    PyObject *fn = PyObject_GetAttrString(runpy, "run_path");
    PyObject *args = fn ? PyTuple_Pack(1, script) : NULL;
    PyObject *kw = args ? Py_BuildValue("{ss}", "run_name", "__main__") : NULL;
    res = kw ? PyObject_Call(fn, args, kw) : NULL;
    Py_XDECREF(fn);
    Py_XDECREF(args);
    Py_XDECREF(kw);
    Py_DECREF(runpy);
    if (res) {
        Py_DECREF(res);
        return 0;
    }
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *exc = PyErr_GetRaisedException();
        PyObject *code = PyObject_GetAttrString(exc, "code");
        if (!code || code == Py_None)
            status = 0;
        else if (PyLong_Check(code))
            status = (int)PyLong_AsLong(code);
        else {
            PyObject_Print(code, stderr, Py_PRINT_RAW);
            fputc('\n', stderr);
            status = 1;
        }
        PyErr_Clear();
        Py_XDECREF(code);
        Py_DECREF(exc);
        return status;
    }
    PyErr_Print();   /* the script's own traceback, as python would print it */
    return 1;
}

/* A usage error while parsing: exit status 2 (html may be set by then). */
#define SM_USAGE_ERROR(msg) do { \
        Py_XDECREF(html); \
        return PyLong_FromLong(sm_usage(prog, (msg))); \
    } while (0)

PyObject *
SmCli_main_py(PyObject *module, PyObject *argv)
{
    /* Owned */
    PyObject *html = NULL, *sargv = NULL;
    SmRun run = {0};
    SmSite *sites = NULL;
    Py_ssize_t nsites = 0;
    double interval = 1.0, sample = 0;
    long top = 10, frames = 10;
    int no_html = 0, reuse = 0, status = 2, started = 0;

    if (!PyList_Check(argv) || PyList_GET_SIZE(argv) < 1) {
        PyErr_SetString(PyExc_TypeError, "main() expects a list of strings");
        return NULL;
    }
    PyObject *prog = PyList_GET_ITEM(argv, 0);
    Py_ssize_t i = 1, n = PyList_GET_SIZE(argv);
    for (; i < n; i++) {
        const char *a = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, i));
        if (!a) {
            Py_XDECREF(html);
            return NULL;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0)
            break;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            Py_XDECREF(html);
            PySys_FormatStdout(SM_HELP, prog, prog);
            return PyLong_FromLong(0);
        }
        if (strcmp(a, "--no-html") == 0) {
            no_html = 1;
            continue;
        }
        if (strcmp(a, "--reuse") == 0) {
            if (!SLEUTH_PY313)
                SM_USAGE_ERROR("--reuse needs Python 3.13 or later");
            reuse = 1;
            continue;
        }
        const char *eq = strchr(a, '=');
        char name[32];
        const char *val;
        if (eq) {
            snprintf(name, sizeof(name), "%.*s", (int)(eq - a), a);
            val = eq + 1;
        }
        else {
            snprintf(name, sizeof(name), "%s", a);
            if (i + 1 >= n)
                SM_USAGE_ERROR("option needs a value");
            val = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, ++i));
            if (!val) {
                Py_XDECREF(html);
                return NULL;
            }
        }
        char *end = NULL;
        if (strcmp(name, "--interval") == 0) {
            interval = strtod(val, &end);
            if (*end || !(interval > 0) || interval > 86400)
                SM_USAGE_ERROR("--interval must be a positive number of seconds");
        }
        else if (strcmp(name, "--top") == 0) {
            top = strtol(val, &end, 10);
            if (*end || top < 1 || top > 100000)
                SM_USAGE_ERROR("--top must be a positive integer");
        }
        else if (strcmp(name, "--frames") == 0) {
            frames = strtol(val, &end, 10);
            if (*end || frames < 1 || frames > SM_MAX_NFRAME)
                SM_USAGE_ERROR("--frames must be in range [1; 65535]");
        }
        else if (strcmp(name, "--sample") == 0) {
            sample = strtod(val, &end);
            if (*end || !(sample >= 1) || !isfinite(sample))
                SM_USAGE_ERROR("--sample must be a mean gap of at least 1 byte");
        }
        else if (strcmp(name, "--html") == 0) {
            Py_XSETREF(html, PyUnicode_FromString(val));
            if (!html)
                return NULL;
        }
        else {
            PySys_FormatStderr("%S: unknown option %s\n", prog, a);
            SM_USAGE_ERROR(NULL);
        }
    }
    if (i >= n)
        SM_USAGE_ERROR("missing script");
    if (reuse && sample > 0)
        SM_USAGE_ERROR("--reuse is for exact tracing, not with --sample");
    PyObject *script = PyList_GET_ITEM(argv, i);
    if (!html && !(html = PyUnicode_FromString("sleuth-mem.html")))
        return NULL;
    sargv = PyList_GetSlice(argv, i, n);
    run.module = Py_NewRef(module);
    run.series = PyDict_New();
    run.times = PyList_New(0);
    if (!sargv || !run.series || !run.times)
        goto error;
    {
        PyObject *os = PyImport_ImportModule("os.path");
        PyObject *ex = os ? PyObject_CallMethod(os, "isfile", "O", script) : NULL;
        Py_XDECREF(os);
        if (!ex)
            goto error;
        int is = PyObject_IsTrue(ex);
        Py_DECREF(ex);
        if (!is) {
            PySys_FormatStderr("%S: can't open file %R\n", prog, script);
            status = 2;
            goto report;
        }
    }
    if (SmTracer_is_tracing()) {
        PyErr_SetString(PyExc_RuntimeError, "sleuth.memory is already tracing");
        goto error;
    }
    run.wake = PyThread_allocate_lock();
    run.done = PyThread_allocate_lock();
    if (!run.wake || !run.done) {
        PyErr_NoMemory();
        goto error;
    }
    PyThread_acquire_lock(run.wake, WAIT_LOCK);
    PyThread_acquire_lock(run.done, WAIT_LOCK);
    run.interval_us = (long)(interval * 1e6);
    /* Under the script's <module> frame: every frame on the stack now, and
     * runpy.run_path's three (run_path, _run_module_code, _run_code). */
    run.frames = frames;
    run.launcher = sm_launcher_frames();
    if (!run.launcher)
        goto error;
    /* + runpy.run_path's three: run_path, _run_module_code, _run_code */
    long depth = frames + PyTuple_GET_SIZE(run.launcher) + 3;
    if (SmTracer_start((int)(depth < SM_MAX_NFRAME ? depth : SM_MAX_NFRAME),
                       sample, 0, 0, reuse) < 0)
        goto error;
    started = 1;
    run.t0 = sm_now();
    if (PyThread_start_new_thread(sm_sampler_thread, &run) == PYTHREAD_INVALID_THREAD_ID) {
        PyErr_SetString(PyExc_RuntimeError, "sleuth mem: cannot start the sampling thread");
        PyThread_release_lock(run.done);
        goto error;
    }
    status = sm_run_script(script, sargv);
    /* stop the sampler, then the final snapshot */
    __atomic_store_n(&run.stop, 1, __ATOMIC_RELEASE);
    PyThread_release_lock(run.wake);
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(run.done, WAIT_LOCK);
    Py_END_ALLOW_THREADS
    if (status < 0)
        goto error;
    SmTracer_ignore_this_thread(1);   /* the final snapshot's bookkeeping */
    int final = sm_run_sample(&run);
    SmTracer_ignore_this_thread(0);
    if (final < 0)
        goto error;
    if (SmTracer_stop() < 0) {
        /* the script started tracemalloc and left it running on top of us:
         * our hooks stay (passing through) until it stops; report anyway */
        PyErr_Clear();
        PySys_FormatStderr("%S: warning: tracemalloc is still tracing on top of sleuth's "
                           "hooks\n", prog);
    }
    started = 0;
    {
        char mode[96];
        if (sample > 0)
            snprintf(mode, sizeof(mode), "sampling (mean gap %.0f bytes), %ld frames", sample, frames);
        else
            snprintf(mode, sizeof(mode), "exact tracing, %ld frames%s", frames,
                     reuse ? ", free-list reuse retagged" : "");
        sites = sm_growing(&run, &nsites);
        if (!sites || sm_text_report(&run, sites, nsites, (int)top, mode) < 0)
            goto error;
        if (!no_html && sm_html_report(&run, sites, nsites, (int)top, mode, html) < 0)
            goto error;
    }
report:
    free(sites);
    Py_XDECREF(html);
    Py_XDECREF(sargv);
    Py_XDECREF(run.module);
    Py_XDECREF(run.series);
    Py_XDECREF(run.times);
    Py_XDECREF(run.launcher);
    if (run.wake)
        PyThread_free_lock(run.wake);
    if (run.done)
        PyThread_free_lock(run.done);
    return PyLong_FromLong(status);
error:
    if (started) {
        PyObject *exc = PyErr_GetRaisedException();
        (void)SmTracer_stop();
        PyErr_SetRaisedException(exc);
    }
    if (PyErr_Occurred()) {
        PySys_FormatStderr("%S: internal error:\n", prog);
        PyErr_Print();
    }
    status = 2;
    goto report;
}
