/* completion.c — Tab at the (Pdb) prompt, as each version's pdb has it.
 *
 * cmd.Cmd installs `self.complete` as readline's completer while cmdloop()
 * runs and puts the previous completer back afterwards. readline calls
 * complete(text, state) with state 0, 1, 2... until it answers None; state 0
 * works out every match from the line buffer and keeps them in
 * self.completion_matches, later states index that list. At the start of a
 * line the candidates are command names (completenames); after a command,
 * getattr(self, "complete_" + command) decides, else completedefault. Every
 * one of those is a method of the type, so a Python subclass may override it
 * and complete() finds the override, as cmd.Cmd does.
 *
 * What runs the program's code: dir() and getattr() on the objects of an
 * `a.b.c` chain, and (3.13) rlcompleter, which evaluates such a chain and
 * looks at each attribute. A completer must neither raise into readline nor
 * hang the prompt, so state 0 runs under a deadline (below) and any error
 * reads as "no matches".
 *
 * Sections: helpers, deadline, matchers, Python-facing methods, cmdloop
 * hooks.
 */
#include "completion.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

/* Seconds state 0 may take before the program's code it runs (a __dir__ or
 * __getattr__ that loops) is interrupted, and how often the interruption is
 * repeated if that code swallows it. */
#define COMPLETION_BUDGET 1.0
#define COMPLETION_REFIRE 0.1

/* --- helpers ---------------------------------------------------------------- */

/* 1 if s is a str starting with prefix, 0 if not (or not a str), -1 on error. */
static int
starts_with(PyObject *s, PyObject *prefix)
{
    if (!PyUnicode_Check(s))
        return 0;
    return (int)PyUnicode_Tailmatch(s, prefix, 0, PY_SSIZE_T_MAX, -1);
}

/* For each str in the iterable `names` that starts with `prefix`, append
 * pre + name[drop:] to out (pre may be NULL). 0, or -1 with an exception. */
static int
add_matches(PyObject *out, PyObject *names, PyObject *prefix, Py_ssize_t drop, PyObject *pre)
{
    /* Owned */
    PyObject *seq = PySequence_List(names);   /* a snapshot: names may change */
    PyObject *item = NULL;
    int rc = -1;

    if (!seq)
        return -1;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(seq); i++) {
        PyObject *name = PyList_GET_ITEM(seq, i);
        int m = starts_with(name, prefix);
        if (m < 0)
            goto done;
        if (!m)
            continue;
        item = PyUnicode_Substring(name, drop, PyUnicode_GET_LENGTH(name));
        if (item && pre)
            Py_SETREF(item, PyUnicode_Concat(pre, item));
        if (!item || PyList_Append(out, item) < 0)
            goto done;
        Py_CLEAR(item);
    }
    rc = 0;
done:
    Py_XDECREF(item);
    Py_DECREF(seq);
    return rc;
}

/* The command word of a line as cmd.Cmd.parseline finds it (with pdb's
 * identchars of this version): a new reference, or NULL with no exception
 * when the line has none ("" or a '!' line), or NULL with an exception. */
static PyObject *
command_word(PdbObject *self, PyObject *line_in)
{
    static const char extra[] = SLEUTH_PDB_IDENTCHARS_EXTRA;
    /* Owned */
    PyObject *line = PyObject_CallMethod(line_in, "strip", NULL);
    PyObject *word = NULL;

    if (!line)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(line), start = 0;
    if (n == 0)
        goto done;
    Py_UCS4 c0 = PyUnicode_READ_CHAR(line, 0);
    if (c0 == '?') {
        word = PyUnicode_FromString("help");   /* '?x' reads as 'help x' */
        goto done;
    }
    if (c0 == '!') {
        int has = PyObject_HasAttrString((PyObject *)self, "do_shell");
        if (!has)
            goto done;
        word = PyUnicode_FromString("shell");
        goto done;
    }
    Py_ssize_t i = start;
    for (; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(line, i);
        int ident = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || (c < 128 && c != 0 && strchr(extra, (int)c) != NULL);
        if (!ident)
            break;
    }
    word = PyUnicode_Substring(line, start, i);
done:
    Py_DECREF(line);
    return word;
}

/* self.curframe_locals, or NULL (borrowed; no exception). */
static PyObject *
frame_locals(PdbObject *self)
{
    if (self->curframe_locals && self->curframe_locals != Py_None)
        return self->curframe_locals;
    return NULL;
}

/* {**globals, **locals}: a new dict, or NULL with an exception. */
static PyObject *
merged_namespace(PyObject *globals, PyObject *locals)
{
    PyObject *ns = PyDict_New();
    if (!ns || PyDict_Merge(ns, globals, 1) < 0 || (locals && PyDict_Merge(ns, locals, 1) < 0)) {
        Py_XDECREF(ns);
        return NULL;
    }
    return ns;
}

/* {**curframe.f_globals, **curframe_locals}: a new dict, or NULL with an
 * exception. *globals_out gets a new reference to f_globals. */
static PyObject *
frame_namespace(PdbObject *self, PyObject **globals_out)
{
    PyObject *globals = PyObject_GetAttrString(self->curframe, "f_globals");
    *globals_out = NULL;
    if (!globals)
        return NULL;
    PyObject *ns = merged_namespace(globals, frame_locals(self));
    if (!ns) {
        Py_DECREF(globals);
        return NULL;
    }
    *globals_out = globals;
    return ns;
}

static int
has_frame(PdbObject *self)
{
    return self->curframe && self->curframe != Py_None;
}

/* --- deadline ---------------------------------------------------------------
 *
 * A plain pthread waits for the budget to run out; if the completion is still
 * running then, it takes the GIL and raises TimeoutError asynchronously in
 * the prompt's thread (PyThreadState_SetAsyncExc), so a __dir__ that loops
 * in Python code is interrupted at its next bytecode check. `active` is only
 * read and written under the GIL, and the prompt's thread clears it before
 * it leaves the completion, so the exception can never land in the program:
 * whatever is still pending once the watcher has been joined is raised and
 * dropped on the spot. A
 * call that blocks outside the interpreter (a sleep in C) is not
 * interrupted; nothing short of a signal could do that safely.
 */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int finished;              /* under mu */
    int active;                /* under the GIL */
    int fired;                 /* under the GIL */
    unsigned long target;      /* the prompt's thread */
} Deadline;

static void
add_seconds(struct timespec *t, double s)
{
    long ns = t->tv_nsec + (long)(s * 1e9);
    t->tv_sec += ns / 1000000000L;
    t->tv_nsec = ns % 1000000000L;
}

static void *
deadline_main(void *arg)
{
    Deadline *d = arg;
    struct timespec until;

    clock_gettime(CLOCK_MONOTONIC, &until);
    add_seconds(&until, COMPLETION_BUDGET);
    pthread_mutex_lock(&d->mu);
    while (!d->finished) {
        int rc = pthread_cond_timedwait(&d->cv, &d->mu, &until);
        if (d->finished || rc != ETIMEDOUT)
            continue;
        /* Never wait for the GIL while holding mu: the prompt's thread takes
         * mu with the GIL held. */
        pthread_mutex_unlock(&d->mu);
        PyGILState_STATE g = PyGILState_Ensure();
        if (d->active) {
            PyThreadState_SetAsyncExc(d->target, PyExc_TimeoutError);
            d->fired = 1;
        }
        PyGILState_Release(g);
        pthread_mutex_lock(&d->mu);
        add_seconds(&until, COMPLETION_REFIRE);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* GIL held. 0 when the watcher runs, -1 (no exception) when it could not be
 * started: the completion then runs without one. */
static int
deadline_start(Deadline *d)
{
    pthread_condattr_t ca;

    memset(d, 0, sizeof *d);
    d->target = PyThread_get_thread_ident();
    d->active = 1;
    if (pthread_mutex_init(&d->mu, NULL) != 0)
        return -1;
    if (pthread_condattr_init(&ca) != 0)
        goto fail_mu;
    int ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&d->cv, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (!ok)
        goto fail_mu;
    if (pthread_create(&d->thread, NULL, deadline_main, d) != 0) {
        pthread_cond_destroy(&d->cv);
        goto fail_mu;
    }
    return 0;
fail_mu:
    pthread_mutex_destroy(&d->mu);
    return -1;
}

/* GIL held; keeps the exception that may be set. */
static void
deadline_stop(Deadline *d)
{
    d->active = 0;
    pthread_mutex_lock(&d->mu);
    d->finished = 1;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    Py_BEGIN_ALLOW_THREADS      /* the watcher may be waiting for the GIL */
    pthread_join(d->thread, NULL);
    Py_END_ALLOW_THREADS
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    if (d->fired)
        Util_flush_async_exc();     /* one may still be pending */
}

/* --- matchers: each returns a new list, or NULL with an exception ----------- */

#if SLEUTH_PDB_COMPLETES_EXPRESSIONS
/* "$name" for pdb's convenience variables (kept in the frame's globals). */
static PyObject *
convenience_matches(PyObject *globals, PyObject *text)
{
    /* Owned */
    PyObject *out = PyList_New(0), *prefix = NULL, *dollar = NULL, *vars = NULL;

    if (!out)
        return NULL;
    if (!PyDict_Check(globals))
        return out;
    if (PyDict_GetItemStringRef(globals, "__pdb_convenience_variables", &vars) < 0)
        goto error;
    if (!vars)
        return out;
    prefix = PyUnicode_Substring(text, 1, PyUnicode_GET_LENGTH(text));
    dollar = PyUnicode_FromString("$");
    if (!prefix || !dollar || add_matches(out, vars, prefix, 0, dollar) < 0)
        goto error;
    Py_DECREF(prefix);
    Py_DECREF(dollar);
    Py_DECREF(vars);
    return out;
error:
    Py_XDECREF(prefix);
    Py_XDECREF(dollar);
    Py_XDECREF(vars);
    Py_DECREF(out);
    return NULL;
}

static int
is_dollar(PyObject *text)
{
    return PyUnicode_GET_LENGTH(text) > 0 && PyUnicode_READ_CHAR(text, 0) == '$';
}
#endif

/* Names of `ns` (and of `more`, a dict or NULL) that start with `text`, or
 * the attributes at the end of an `a.b.c` chain rooted in ns: a new list,
 * or NULL with an exception. */
static PyObject *
namespace_matches(PyObject *ns, PyObject *more, PyObject *text)
{
    /* Owned */
    PyObject *out = NULL, *parts = NULL, *obj = NULL;
    PyObject *names = NULL, *pre = NULL, *sep = NULL, *head = NULL;

    out = PyList_New(0);
    if (!out)
        goto error;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (PyUnicode_FindChar(text, '.', 0, n, 1) < 0) {
        if (add_matches(out, ns, text, 0, NULL) < 0 || (more && add_matches(out, more, text, 0, NULL) < 0))
            goto error;
        goto done;
    }
    /* Walk the chain up to its last part, plain attribute access only. */
    sep = PyUnicode_FromString(".");
    parts = sep ? PyUnicode_Split(text, sep, -1) : NULL;
    if (!parts)
        goto error;
    Py_ssize_t np = PyList_GET_SIZE(parts);
    if (PyDict_GetItemRef(ns, PyList_GET_ITEM(parts, 0), &obj) < 0)
        goto error;
    if (!obj && more && PyDict_GetItemRef(more, PyList_GET_ITEM(parts, 0), &obj) < 0)
        goto error;
    if (!obj)
        goto done;
    for (Py_ssize_t i = 1; i < np - 1; i++) {
        PyObject *next = PyObject_GetAttr(obj, PyList_GET_ITEM(parts, i));
        if (!next) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError))
                goto error;
            PyErr_Clear();
            goto done;
        }
        Py_SETREF(obj, next);
    }
    head = PyList_GetSlice(parts, 0, np - 1);
    PyObject *joined = head ? PyUnicode_Join(sep, head) : NULL;
    pre = joined ? PyUnicode_Concat(joined, sep) : NULL;
    Py_XDECREF(joined);
    if (!pre)
        goto error;
    names = PyObject_Dir(obj);
    if (!names || add_matches(out, names, PyList_GET_ITEM(parts, np - 1), 0, pre) < 0)
        goto error;
done:
    Py_XDECREF(parts);
    Py_XDECREF(obj);
    Py_XDECREF(names);
    Py_XDECREF(pre);
    Py_XDECREF(sep);
    Py_XDECREF(head);
    return out;
error:
    Py_CLEAR(out);
    goto done;
}

/* pdb's _complete_expression: names of the frame's globals and locals (no
 * builtins), or the attributes at the end of an `a.b.c` chain. */
static PyObject *
expression_matches(PdbObject *self, PyObject *text)
{
    PyObject *globals = NULL, *ns = NULL, *out = NULL;

    if (!has_frame(self))
        return PyList_New(0);
#if SLEUTH_PDB_COMPLETES_EXPRESSIONS
    if (is_dollar(text)) {
        globals = PyObject_GetAttrString(self->curframe, "f_globals");
        if (!globals)
            return NULL;
        out = convenience_matches(globals, text);
        Py_DECREF(globals);
        return out;
    }
#endif
    ns = frame_namespace(self, &globals);
    out = ns ? namespace_matches(ns, NULL, text) : NULL;
    Py_XDECREF(globals);
    Py_XDECREF(ns);
    return out;
}

/* glob.glob(glob.escape(text) + '*'), then directories get '/' and Python
 * files ':' (pdb's _complete_location). Appends to out; 0 or -1. */
static int
add_file_matches(PyObject *out, PyObject *text)
{
    /* Owned */
    PyObject *btext = PyUnicode_EncodeFSDefault(text);
    PyObject *item = NULL;
    char *dirname = NULL, *path = NULL;
    DIR *dir = NULL;
    int rc = -1;

    if (!btext)
        return -1;
    const char *t = PyBytes_AS_STRING(btext);
    size_t tlen = (size_t)PyBytes_GET_SIZE(btext);
    if (strlen(t) != tlen) {    /* glob raises on an embedded NUL */
        PyErr_SetString(PyExc_ValueError, "embedded null byte");
        goto done;
    }
    /* os.path.split: the head loses its trailing slashes unless it is all
     * slashes; the names found are joined back with os.path.join. */
    const char *slash = strrchr(t, '/');
    const char *base = slash ? slash + 1 : t;
    size_t dlen = slash ? (size_t)(slash - t) + 1 : 0;
    size_t keep = dlen;
    while (keep > 0 && t[keep - 1] == '/')
        keep--;
    if (keep == 0)
        keep = dlen;            /* "", or a run of slashes (the root) */
    dirname = PyMem_Malloc(keep + 2);
    if (!dirname) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(dirname, t, keep);
    dirname[keep] = '\0';
    int need_sep = keep > 0 && dirname[keep - 1] != '/';
    size_t blen = strlen(base);
    int show_hidden = base[0] == '.';

    Py_BEGIN_ALLOW_THREADS
    dir = opendir(keep ? dirname : ".");
    Py_END_ALLOW_THREADS
    if (!dir) {                 /* glob: an unreadable directory has no names */
        rc = 0;
        goto done;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(dir);
        if (!e)
            break;
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        if (name[0] == '.' && !show_hidden)
            continue;
        if (strncmp(name, base, blen) != 0)
            continue;
        size_t nlen = strlen(name);
        PyMem_Free(path);
        path = PyMem_Malloc(keep + 1 + nlen + 2);
        if (!path) {
            PyErr_NoMemory();
            goto done;
        }
        size_t plen = keep;
        memcpy(path, dirname, keep);
        if (need_sep)
            path[plen++] = '/';
        memcpy(path + plen, name, nlen);
        plen += nlen;
        path[plen] = '\0';
        struct stat sb;
        const char *suffix = NULL;
        if (stat(path, &sb) == 0) {
            if (S_ISDIR(sb.st_mode))
                suffix = "/";
            else if (S_ISREG(sb.st_mode) &&
                     ((plen >= 3 && strcasecmp(path + plen - 3, ".py") == 0) ||
                      (plen >= 4 && strcasecmp(path + plen - 4, ".pyw") == 0)))
                suffix = ":";
        }
        if (!suffix)
            continue;
        strcpy(path + plen, suffix);
        item = PyUnicode_DecodeFSDefault(path);
        if (!item || PyList_Append(out, item) < 0)
            goto done;
        Py_CLEAR(item);
    }
    rc = 0;
done:
    if (dir)
        closedir(dir);
    PyMem_Free(dirname);
    PyMem_Free(path);
    Py_XDECREF(item);
    Py_DECREF(btext);
    return rc;
}

/* pdb's _complete_location (break, tbreak, clear). */
static PyObject *
location_matches(PdbObject *self, PyObject *text, PyObject *line)
{
    /* Owned */
    PyObject *stripped = PyObject_CallMethod(line, "strip", NULL);
    PyObject *out = NULL;

    if (!stripped)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(stripped);
    Py_UCS4 last = n ? PyUnicode_READ_CHAR(stripped, n - 1) : 0;
    Py_DECREF(stripped);
    if (last == ':' || last == ',')     /* a line number or a condition follows */
        return PyList_New(0);
    out = expression_matches(self, text);
    if (!out) {
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return NULL;
        PyErr_Clear();
        out = PyList_New(0);
        if (!out)
            return NULL;
    }
    if (add_file_matches(out, text) < 0)
        Py_CLEAR(out);
    return out;
}

/* pdb's _complete_bpnumber: numbers of the breakpoints that exist. */
static PyObject *
bpnumber_matches(PyObject *text)
{
    PyObject *table = Sleuth_state()->bpbynumber;
    PyObject *out = PyList_New(0);

    if (!out)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(table); i++) {
        if (PyList_GET_ITEM(table, i) == Py_None)
            continue;
        PyObject *s = PyUnicode_FromFormat("%zd", i);
        int m = s ? starts_with(s, text) : -1;
        if (m < 0 || (m && PyList_Append(out, s) < 0)) {
            Py_XDECREF(s);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(s);
    }
    return out;
}

/* --- Python-facing methods ---------------------------------------------------
 * Each complete_* takes (text, line, begidx, endidx) and returns a list. */

static int
parse_args(PyObject *args, const char *fname, PyObject **text, PyObject **line)
{
    PyObject *b = NULL, *e = NULL;
    char fmt[64];
    PyOS_snprintf(fmt, sizeof fmt, "U|UOO:%s", fname);
    *line = NULL;
    return PyArg_ParseTuple(args, fmt, text, line, &b, &e) ? 0 : -1;
}

static PyObject *
Completion_expression_py(PdbObject *self, PyObject *args)
{
    PyObject *text, *line;
    if (parse_args(args, "complete_expression", &text, &line) < 0)
        return NULL;
    return expression_matches(self, text);
}

static PyObject *
Completion_location_py(PdbObject *self, PyObject *args)
{
    PyObject *text, *line;
    if (parse_args(args, "complete_location", &text, &line) < 0)
        return NULL;
    if (!line) {
        PyErr_SetString(PyExc_TypeError, "complete_location() needs the line");
        return NULL;
    }
    return location_matches(self, text, line);
}

static PyObject *
Completion_bpnumber_py(PdbObject *self, PyObject *args)
{
    PyObject *text, *line;
    SLEUTH_UNUSED(self);
    if (parse_args(args, "complete_bpnumber", &text, &line) < 0)
        return NULL;
    return bpnumber_matches(text);
}

static PyObject *
Completion_undisplay_py(PdbObject *self, PyObject *args)
{
    PyObject *text, *line, *exprs = NULL;
    if (parse_args(args, "complete_undisplay", &text, &line) < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    if (self->displaying && self->curframe &&
        PyDict_GetItemRef(self->displaying, self->curframe, &exprs) < 0)
        goto error;
    if (exprs && add_matches(out, exprs, text, 0, NULL) < 0)
        goto error;
    Py_XDECREF(exprs);
    return out;
error:
    Py_XDECREF(exprs);
    Py_DECREF(out);
    return NULL;
}

static PyObject *
Completion_unalias_py(PdbObject *self, PyObject *args)
{
    PyObject *text, *line;
    if (parse_args(args, "complete_unalias", &text, &line) < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    if (out && self->aliases && add_matches(out, self->aliases, text, 0, NULL) < 0)
        Py_CLEAR(out);
    return out;
}

/* cmd.Cmd.completedefault: nothing (3.11, 3.12). 3.13's pdb: $variables,
 * else rlcompleter over the frame's names, builtins and keywords. */
static PyObject *
Completion_default_py(PdbObject *self, PyObject *args)
{
#if SLEUTH_PDB_COMPLETES_EXPRESSIONS
    /* Owned */
    PyObject *text, *line, *globals = NULL, *ns = NULL, *mod = NULL, *completer = NULL;
    PyObject *out = NULL;

    if (parse_args(args, "completedefault", &text, &line) < 0)
        return NULL;
    if (!has_frame(self))
        return PyList_New(0);
    if (is_dollar(text)) {
        globals = PyObject_GetAttrString(self->curframe, "f_globals");
        out = globals ? convenience_matches(globals, text) : NULL;
        Py_XDECREF(globals);
        return out;
    }
    ns = frame_namespace(self, &globals);
    mod = ns ? PyImport_ImportModule("rlcompleter") : NULL;
    completer = mod ? PyObject_CallMethod(mod, "Completer", "O", ns) : NULL;
    out = completer ? PyList_New(0) : NULL;
    for (Py_ssize_t state = 0; out; state++) {
        PyObject *m = PyObject_CallMethod(completer, "complete", "On", text, state);
        if (m == Py_None) {
            Py_DECREF(m);
            break;
        }
        if (!m || PyList_Append(out, m) < 0)
            Py_CLEAR(out);
        Py_XDECREF(m);
    }
    Py_XDECREF(globals);
    Py_XDECREF(ns);
    Py_XDECREF(mod);
    Py_XDECREF(completer);
    return out;
#else
    SLEUTH_UNUSED(self);
    SLEUTH_UNUSED(args);
    return PyList_New(0);
#endif
}

/* cmd.Cmd.completenames: the do_* names of the class; 3.13's pdb adds the
 * aliases and, when nothing matched, completes an expression. */
static PyObject *
Completion_names_py(PdbObject *self, PyObject *args)
{
    /* Owned */
    PyObject *out = NULL, *names = NULL, *prefix = NULL;
    PyObject *text;

    if (PyTuple_GET_SIZE(args) < 1 || !PyUnicode_Check(PyTuple_GET_ITEM(args, 0))) {
        PyErr_SetString(PyExc_TypeError, "completenames() expects the text to complete");
        return NULL;
    }
    text = PyTuple_GET_ITEM(args, 0);
    out = PyList_New(0);
    names = PyObject_Dir((PyObject *)Py_TYPE(self));
    prefix = PyUnicode_FromFormat("do_%U", text);
    if (!out || !names || !prefix || add_matches(out, names, prefix, 3, NULL) < 0)
        goto error;
#if SLEUTH_PDB_COMPLETES_EXPRESSIONS
    if (self->aliases && add_matches(out, self->aliases, text, 0, NULL) < 0)
        goto error;
    if (PyList_GET_SIZE(out) == 0) {
        Py_SETREF(out, expression_matches(self, text));
        if (!out)
            goto error;
        if (PyList_GET_SIZE(out) == 0) {
            PyObject *f = PyObject_GetAttrString((PyObject *)self, "completedefault");
            Py_SETREF(out, f ? PyObject_Call(f, args, NULL) : NULL);
            Py_XDECREF(f);
            if (!out)
                goto error;
        }
    }
#endif
    Py_DECREF(names);
    Py_DECREF(prefix);
    return out;
error:
    Py_XDECREF(out);
    Py_XDECREF(names);
    Py_XDECREF(prefix);
    return NULL;
}

/* cmd.Cmd.complete_help: command names and help topics (help_* methods;
 * sleuth's own topics are `exec` and `pdb`, as pdb's). Sorted, no repeats. */
static PyObject *
Completion_help_py(PdbObject *self, PyObject *args)
{
    static const char *const topics[] = {"exec", "pdb", NULL};
    /* Owned */
    PyObject *f = NULL, *cmds = NULL, *set = NULL, *names = NULL, *prefix = NULL, *topic = NULL;
    PyObject *out = NULL, *extra = NULL;

    if (PyTuple_GET_SIZE(args) < 1 || !PyUnicode_Check(PyTuple_GET_ITEM(args, 0))) {
        PyErr_SetString(PyExc_TypeError, "complete_help() expects the text to complete");
        return NULL;
    }
    PyObject *text = PyTuple_GET_ITEM(args, 0);
    f = PyObject_GetAttrString((PyObject *)self, "completenames");
    cmds = f ? PyObject_Call(f, args, NULL) : NULL;
    set = cmds ? PySet_New(cmds) : NULL;
    extra = PyList_New(0);
    names = PyObject_Dir((PyObject *)Py_TYPE(self));
    prefix = PyUnicode_FromFormat("help_%U", text);
    if (!set || !extra || !names || !prefix || add_matches(extra, names, prefix, 5, NULL) < 0)
        goto done;
    for (int i = 0; topics[i]; i++) {
        topic = PyUnicode_FromString(topics[i]);
        int m = topic ? starts_with(topic, text) : -1;
        if (m < 0 || (m && PyList_Append(extra, topic) < 0))
            goto done;
        Py_CLEAR(topic);
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(extra); i++)
        if (PySet_Add(set, PyList_GET_ITEM(extra, i)) < 0)
            goto done;
    out = PySequence_List(set);
    if (out && PyList_Sort(out) < 0)
        Py_CLEAR(out);
done:
    Py_XDECREF(f);
    Py_XDECREF(cmds);
    Py_XDECREF(set);
    Py_XDECREF(names);
    Py_XDECREF(prefix);
    Py_XDECREF(topic);
    Py_XDECREF(extra);
    return out;
}

/* cmd.Cmd.complete, state 0: every match for the line being edited. */
static PyObject *
compute_matches(PdbObject *self, PyObject *text)
{
    /* Owned */
    PyObject *rl = NULL, *orig = NULL, *line = NULL, *word = NULL, *f = NULL, *res = NULL;
    PyObject *out = NULL;

    rl = PyImport_ImportModule("readline");
    orig = rl ? PyObject_CallMethod(rl, "get_line_buffer", NULL) : NULL;
    line = orig ? PyObject_CallMethod(orig, "lstrip", NULL) : NULL;
    if (!line)
        goto done;
    Py_ssize_t stripped = PyUnicode_GET_LENGTH(orig) - PyUnicode_GET_LENGTH(line);
    PyObject *b = PyObject_CallMethod(rl, "get_begidx", NULL);
    Py_ssize_t begidx = b ? PyLong_AsSsize_t(b) : -1;
    Py_XDECREF(b);
    PyObject *e = PyObject_CallMethod(rl, "get_endidx", NULL);
    Py_ssize_t endidx = e ? PyLong_AsSsize_t(e) : -1;
    Py_XDECREF(e);
    if (PyErr_Occurred())
        goto done;
    begidx -= stripped;
    endidx -= stripped;
    if (begidx > 0) {
        word = command_word(self, line);
        if (!word) {
            if (!PyErr_Occurred())
                out = PyList_New(0);  /* cmd.Cmd fails on a '!' line: nothing */
            goto done;
        }
        if (PyUnicode_GET_LENGTH(word) > 0) {
            PyObject *name = PyUnicode_FromFormat("complete_%U", word);
            if (!name || PyObject_GetOptionalAttr((PyObject *)self, name, &f) < 0) {
                Py_XDECREF(name);
                goto done;
            }
            Py_DECREF(name);
        }
        if (!f && !(f = PyObject_GetAttrString((PyObject *)self, "completedefault")))
            goto done;
    } else {
        f = PyObject_GetAttrString((PyObject *)self, "completenames");
        if (!f)
            goto done;
    }
    res = PyObject_CallFunction(f, "OOnn", text, line, begidx, endidx);
    out = res ? PySequence_List(res) : NULL;
done:
    Py_XDECREF(rl);
    Py_XDECREF(orig);
    Py_XDECREF(line);
    Py_XDECREF(word);
    Py_XDECREF(f);
    Py_XDECREF(res);
    return out;
}

/* cmd.Cmd.complete(text, state), readline's completer. Never raises once
 * its arguments are right: an error, or the deadline, means no matches. */
static PyObject *
Completion_complete_py(PdbObject *self, PyObject *args)
{
    PyObject *text;
    Py_ssize_t state;

    if (!PyArg_ParseTuple(args, "Un:complete", &text, &state))
        return NULL;
    if (state == 0) {
        Deadline d;
        int guarded = deadline_start(&d) == 0;
        PyObject *m = compute_matches(self, text);
        if (guarded)
            deadline_stop(&d);
        if (!m) {
            PyErr_Clear();
            m = PyList_New(0);
        }
        if (!m || PyObject_SetAttrString((PyObject *)self, "completion_matches", m) < 0) {
            Py_XDECREF(m);
            PyErr_Clear();
            Py_RETURN_NONE;
        }
        Py_DECREF(m);
    }
    PyObject *matches = PyObject_GetAttrString((PyObject *)self, "completion_matches");
    PyObject *item = matches && state >= 0 ? PySequence_GetItem(matches, state) : NULL;
    Py_XDECREF(matches);
    if (!item) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return item;
}

#define COMP(name, fn) {"complete_" name, (PyCFunction)(fn), METH_VARARGS, NULL}

PyMethodDef Completion_methods[] = {
    {"complete", (PyCFunction)Completion_complete_py, METH_VARARGS,
     "complete($self, text, state, /)\n--\n\nreadline's completer: the state-th match, or None."},
    {"completenames", (PyCFunction)Completion_names_py, METH_VARARGS, NULL},
    {"completedefault", (PyCFunction)Completion_default_py, METH_VARARGS, NULL},
    COMP("help", Completion_help_py),
    COMP("break", Completion_location_py), COMP("b", Completion_location_py),
    COMP("tbreak", Completion_location_py),
    COMP("clear", Completion_location_py), COMP("cl", Completion_location_py),
    COMP("commands", Completion_bpnumber_py), COMP("enable", Completion_bpnumber_py),
    COMP("disable", Completion_bpnumber_py), COMP("condition", Completion_bpnumber_py),
    COMP("ignore", Completion_bpnumber_py),
    COMP("debug", Completion_expression_py), COMP("print", Completion_expression_py),
    COMP("p", Completion_expression_py), COMP("pp", Completion_expression_py),
    COMP("source", Completion_expression_py), COMP("whatis", Completion_expression_py),
    COMP("display", Completion_expression_py),
    COMP("undisplay", Completion_undisplay_py),
    COMP("unalias", Completion_unalias_py),
    {NULL, NULL, 0, NULL},
};

/* --- for the DAP frontend ------------------------------------------------- */

PyObject *
Completion_in_namespace(PyObject *globals, PyObject *locals, PyObject *text, Py_ssize_t max)
{
    /* Owned */
    PyObject *ns = NULL, *m = NULL, *out = NULL, *seen = NULL;
    PyObject *saved = PyErr_GetRaisedException();

    PyObject *builtins = PyEval_GetBuiltins();   /* borrowed */
    Deadline d;
    int guarded = deadline_start(&d) == 0;
    ns = PyDict_Check(globals) ? merged_namespace(globals, locals) : NULL;
    m = ns ? namespace_matches(ns, builtins && PyDict_Check(builtins) ? builtins : NULL, text) : NULL;
    if (guarded)
        deadline_stop(&d);
    PyErr_Clear();
    out = PyList_New(0);
    seen = PySet_New(NULL);
    if (!out || !seen)
        goto done;
    if (m && PyList_Sort(m) < 0)
        PyErr_Clear();
    /* Labels are names: exact str, of a sane length, no repeats. */
    for (Py_ssize_t i = 0; m && i < PyList_GET_SIZE(m) && PyList_GET_SIZE(out) < max; i++) {
        PyObject *item = PyList_GET_ITEM(m, i);
        if (!PyUnicode_CheckExact(item) || PyUnicode_GET_LENGTH(item) > 1000)
            continue;
        int have = PySet_Contains(seen, item);
        if (have != 0 || PySet_Add(seen, item) < 0 || PyList_Append(out, item) < 0) {
            PyErr_Clear();
            continue;
        }
    }
done:
    Py_XDECREF(ns);
    Py_XDECREF(m);
    Py_XDECREF(seen);
    PyErr_Clear();
    PyErr_SetRaisedException(saved);
    if (!out)
        PyErr_NoMemory();
    return out;
}

/* --- cmdloop hooks ---------------------------------------------------------- */

void
Completion_set_delims(void)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *rl = PyImport_ImportModule("readline");
    if (rl) {
        PyObject *r = PyObject_CallMethod(rl, "set_completer_delims", "s",
                                          SLEUTH_PDB_COMPLETER_DELIMS);
        Py_XDECREF(r);
        Py_DECREF(rl);
    }
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}

/* cmd.Cmd: completion only with input() (use_rawinput) and a completekey. */
static int
wants_completion(PdbObject *self)
{
    if (!self->use_rawinput || !self->completekey)
        return 0;
    int t = PyObject_IsTrue(self->completekey);
    if (t < 0)
        PyErr_Clear();
    return t > 0;
}

void
Completion_preloop(PdbObject *self)
{
    /* Owned */
    PyObject *rl = NULL, *old = NULL, *complete = NULL, *bind = NULL, *r = NULL;

    if (!wants_completion(self))
        return;
    rl = PyImport_ImportModule("readline");
    old = rl ? PyObject_CallMethod(rl, "get_completer", NULL) : NULL;
    if (!old || PyObject_SetAttrString((PyObject *)self, "old_completer", old) < 0)
        goto done;
#if SLEUTH_PDB_COMPLETES_EXPRESSIONS
    /* completedefault needs rlcompleter, whose first import installs its own
     * completer: import it now, between saving the program's completer and
     * installing ours, so that neither is lost. */
    PyObject *rlc = PyImport_ImportModule("rlcompleter");
    Py_XDECREF(rlc);
    PyErr_Clear();
#endif
    complete = PyObject_GetAttrString((PyObject *)self, "complete");
    r = complete ? PyObject_CallMethod(rl, "set_completer", "O", complete) : NULL;
    if (!r)
        goto done;
    Py_CLEAR(r);
#if SLEUTH_PDB_COMPLETES_EXPRESSIONS
    {
        PyObject *backend = PyObject_GetAttrString(rl, "backend");
        int editline = backend && PyUnicode_Check(backend) &&
                       PyUnicode_CompareWithASCIIString(backend, "editline") == 0;
        Py_XDECREF(backend);
        PyErr_Clear();
        if (!editline)
            bind = PyUnicode_FromFormat("%S: complete", self->completekey);
        else if (PyUnicode_Check(self->completekey) &&
                 PyUnicode_CompareWithASCIIString(self->completekey, "tab") == 0)
            bind = PyUnicode_FromString("bind ^I rl_complete");   /* libedit's name */
        else
            bind = PyUnicode_FromFormat("bind %S rl_complete", self->completekey);
    }
#else
    bind = PyUnicode_FromFormat("%S: complete", self->completekey);
#endif
    r = bind ? PyObject_CallMethod(rl, "parse_and_bind", "O", bind) : NULL;
done:
    PyErr_Clear();  /* no readline, or a broken one: no completion */
    Py_XDECREF(rl);
    Py_XDECREF(old);
    Py_XDECREF(complete);
    Py_XDECREF(bind);
    Py_XDECREF(r);
}

void
Completion_postloop(PdbObject *self)
{
    if (!wants_completion(self))
        return;
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *rl = PyImport_ImportModule("readline");
    PyObject *old = rl ? PyObject_GetAttrString((PyObject *)self, "old_completer") : NULL;
    PyObject *r = old ? PyObject_CallMethod(rl, "set_completer", "O", old) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(old);
    Py_XDECREF(rl);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
}
