/* hook.c — install(), capture() and the exception hooks (see hook.h). */
#include "hook.h"
#include "capture.h"
#include "redact.h"
#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Everything a capture needs besides the exception. */
typedef struct {
    Capture_Options cap;    /* cap.repr.redact is borrowed from `redact` */
    PyObject *redact;       /* owned tuple */
    int compress;
    int announce;
} Config;

typedef struct {
    PyObject_HEAD
    PyObject *previous;     /* the hook we replaced */
    PyObject *directory;    /* str */
    PyObject *redact;       /* tuple (Config.redact, owned here) */
    Capture_Options cap;
    int compress, announce, is_thread;
} Hook;

/* ------------------------------------------------------------------------ */
/* Options                                                                  */

static int
pop(PyObject *kw, const char *key, PyObject **out)
{
    *out = NULL;
    if (!kw)
        return 0;
    PyObject *v = PyDict_GetItemString(kw, key);
    if (!v)
        return PyErr_Occurred() ? -1 : 0;
    *out = Py_NewRef(v);
    return PyDict_DelItemString(kw, key);
}

static int
pop_ssize(PyObject *kw, const char *key, Py_ssize_t min, Py_ssize_t *out)
{
    PyObject *v;
    if (pop(kw, key, &v) < 0)
        return -1;
    if (!v || v == Py_None) {
        Py_XDECREF(v);
        return 0;
    }
    Py_ssize_t n = PyLong_AsSsize_t(v);
    Py_DECREF(v);
    if (n == -1 && PyErr_Occurred())
        return -1;
    if (n < min) {
        PyErr_Format(PyExc_ValueError, "%s must be at least %zd", key, min);
        return -1;
    }
    *out = n;
    return 0;
}

static int
pop_bool(PyObject *kw, const char *key, int *out)
{
    PyObject *v;
    if (pop(kw, key, &v) < 0)
        return -1;
    if (!v)
        return 0;
    int b = PyObject_IsTrue(v);
    Py_DECREF(v);
    if (b < 0)
        return -1;
    *out = b;
    return 0;
}

static void
config_clear(Config *cfg)
{
    Py_CLEAR(cfg->redact);
}

/* Fill `cfg` from keyword options (a dict we may modify; may be NULL),
 * starting from `base` (NULL: the defaults). Unknown keys are a TypeError. */
static int
config_from_kwargs(PyObject *kw, const Config *base, Config *cfg, const char *fname)
{
    /* Owned */
    PyObject *redact = NULL, *extra = NULL, *timeout = NULL, *total = NULL;
    PyObject *names = NULL, *patterns = NULL, *values = NULL;
    Py_ssize_t depth;
    int rc = -1;

    if (base) {
        *cfg = *base;
        Py_XINCREF(cfg->redact);
    }
    else {
        memset(cfg, 0, sizeof *cfg);
        Capture_options_default(&cfg->cap);
    }
    depth = cfg->cap.struct_depth;
    if (pop_bool(kw, "compress", &cfg->compress) < 0 || pop_bool(kw, "locals", &cfg->cap.locals) < 0
            || pop_bool(kw, "announce", &cfg->announce) < 0
            || pop_ssize(kw, "max_bytes", 4096, &cfg->cap.max_bytes) < 0
            || pop_ssize(kw, "max_length", 8, &cfg->cap.repr.max_chars) < 0
            || pop_ssize(kw, "max_items", 0, &cfg->cap.repr.max_items) < 0
            || pop_ssize(kw, "max_depth", 0, &depth) < 0
            || pop(kw, "repr_timeout", &timeout) < 0
            || pop(kw, "total_repr_timeout", &total) < 0 || pop(kw, "redact", &redact) < 0
            || pop(kw, "redact_extra", &extra) < 0 || pop(kw, "redact_names", &names) < 0
            || pop(kw, "redact_patterns", &patterns) < 0 || pop(kw, "redact_values", &values) < 0)
        goto done;
    cfg->cap.struct_depth = depth > SAFEREPR_MAX_DEPTH_LIMIT ? SAFEREPR_MAX_DEPTH_LIMIT : (int)depth;
    if (timeout && timeout != Py_None) {
        cfg->cap.repr.max_seconds = PyFloat_AsDouble(timeout);
        if (cfg->cap.repr.max_seconds == -1.0 && PyErr_Occurred())
            goto done;
    }
    if (total && total != Py_None) {
        cfg->cap.repr.total_seconds = PyFloat_AsDouble(total);
        if (cfg->cap.repr.total_seconds == -1.0 && PyErr_Occurred())
            goto done;
    }
    if (redact || extra || names || patterns || values || !cfg->redact) {
        Py_XSETREF(cfg->redact, Redact_build_full(redact, extra, names, patterns, values));
        if (!cfg->redact)
            goto done;
    }
    cfg->cap.repr.redact = cfg->redact;
    if (kw && PyDict_GET_SIZE(kw)) {
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        PyDict_Next(kw, &pos, &k, &v);
        PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", fname, k);
        goto done;
    }
    rc = 0;
done:
    if (rc < 0)
        config_clear(cfg);
    Py_XDECREF(redact);
    Py_XDECREF(extra);
    Py_XDECREF(names);
    Py_XDECREF(patterns);
    Py_XDECREF(values);
    Py_XDECREF(timeout);
    Py_XDECREF(total);
    return rc;
}

static void
config_from_hook(Hook *h, Config *cfg)
{
    cfg->cap = h->cap;
    cfg->redact = Py_XNewRef(h->redact);
    cfg->cap.repr.redact = cfg->redact;
    cfg->compress = h->compress;
    cfg->announce = h->announce;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */

/* directory/sleuth-evidence-<UTC time>-<pid>-<n>.json[.gz] (new str). */
static PyObject *
auto_path(EvidenceState *st, PyObject *directory, int compress)
{
    /* Owned */
    PyObject *bdir = NULL, *res = NULL;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;

    if (!PyUnicode_FSConverter(directory, &bdir))
        return NULL;
    /* One level of directory is created on demand; deeper is the user's job. */
    if (mkdir(PyBytes_AS_STRING(bdir), 0700) < 0 && errno != EEXIST) {
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, directory);
        goto done;
    }
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    st->seq++;
    res = PyUnicode_FromFormat("%U/sleuth-evidence-%s-%ld-%lu.json%s", directory, stamp,
                               (long)getpid(), st->seq, compress ? ".gz" : "");
done:
    Py_XDECREF(bdir);
    return res;
}

/* Capture and write; the path written (new str), or NULL with an error. */
static PyObject *
write_evidence(EvidenceState *st, const Config *cfg, PyObject *directory, PyObject *path,
               PyObject *exc, PyFrameObject *frame, const char *reason)
{
    /* Owned */
    PyObject *doc = NULL, *target = NULL;

    doc = Capture_document(exc, frame, reason, &cfg->cap, st->pkg_cache);
    if (!doc)
        goto error;
    if (path && path != Py_None) {
        target = PyOS_FSPath(path);
        if (target && PyBytes_Check(target)) {
            PyObject *s = PyUnicode_DecodeFSDefaultAndSize(PyBytes_AS_STRING(target),
                                                          PyBytes_GET_SIZE(target));
            Py_SETREF(target, s);
        }
    }
    else
        target = auto_path(st, directory, cfg->compress);
    if (!target || Capture_write_file(doc, target, cfg->compress) < 0)
        goto error;
    Py_DECREF(doc);
    if (cfg->announce)
        PySys_FormatStderr("sleuth: evidence saved to %U\n", target);
    return target;
error:
    Py_XDECREF(doc);
    Py_XDECREF(target);
    return NULL;
}

/* The one line a failed capture costs. Clears the error. */
static void
report_failure(void)
{
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *msg = exc ? PyObject_Str(exc) : NULL;
    if (!msg)
        PyErr_Clear();
    PySys_FormatStderr("sleuth: could not write evidence file: %s%s%S\n",
                       exc ? Py_TYPE(exc)->tp_name : "error", msg ? ": " : "",
                       msg ? msg : Py_None);
    PyErr_Clear();
    Py_XDECREF(exc);
    Py_XDECREF(msg);
}

/* ------------------------------------------------------------------------ */
/* The hook type                                                            */

static int
hook_traverse(PyObject *self, visitproc visit, void *arg)
{
    Hook *h = (Hook *)self;
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(h->previous);
    Py_VISIT(h->directory);
    Py_VISIT(h->redact);
    return 0;
}

static int
hook_clear(PyObject *self)
{
    Hook *h = (Hook *)self;
    Py_CLEAR(h->previous);
    Py_CLEAR(h->directory);
    Py_CLEAR(h->redact);
    h->cap.repr.redact = NULL;
    return 0;
}

static void
hook_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    hook_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* Write evidence for an uncaught exception; never raises. */
static void
hook_capture(Hook *h, PyObject *exc, const char *reason)
{
    Config cfg;
    EvidenceState *st = Evidence_state_from_type(Py_TYPE(h));
    if (!st || !h->redact) {
        PyErr_Clear();
        return;
    }
    config_from_hook(h, &cfg);
    PyObject *path = write_evidence(st, &cfg, h->directory, NULL, exc, NULL, reason);
    if (!path)
        report_failure();
    Py_XDECREF(path);
    config_clear(&cfg);
}

static PyObject *
hook_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *res = NULL, *err = NULL, *exc = NULL, *etype = NULL, *thread = NULL, *name = NULL;
    Hook *h = (Hook *)self;
    char reason[200];

    /* 1. The previous hook prints exactly what it always printed. */
    if (h->previous)
        res = PyObject_Call(h->previous, args, kwargs);
    else
        res = Py_NewRef(Py_None);
    if (!res)
        err = PyErr_GetRaisedException();

    /* 2. The evidence. */
    if (h->is_thread) {
        /* threading.excepthook(args): args.exc_type, exc_value, thread */
        if (PyTuple_GET_SIZE(args) == 1) {
            PyObject *a = PyTuple_GET_ITEM(args, 0);
            etype = PyObject_GetAttrString(a, "exc_type");
            exc = etype ? PyObject_GetAttrString(a, "exc_value") : NULL;
            thread = exc ? PyObject_GetAttrString(a, "thread") : NULL;
            name = thread && thread != Py_None ? PyObject_GetAttrString(thread, "name") : NULL;
        }
        PyErr_Clear();
        snprintf(reason, sizeof reason, "uncaught exception in thread %s",
                 name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : "?");
        PyErr_Clear();
    }
    else {
        if (PyTuple_GET_SIZE(args) >= 2)
            exc = Py_NewRef(PyTuple_GET_ITEM(args, 1));
        snprintf(reason, sizeof reason, "uncaught exception");
    }
    /* SystemExit never reaches sys.excepthook; threading ignores it too. */
    if (exc && PyExceptionInstance_Check(exc)
            && !PyErr_GivenExceptionMatches(exc, PyExc_SystemExit))
        hook_capture(h, exc, reason);

    Py_XDECREF(exc);
    Py_XDECREF(etype);
    Py_XDECREF(thread);
    Py_XDECREF(name);
    if (err) {
        PyErr_SetRaisedException(err);
        return NULL;
    }
    return res;
}

static PyObject *
hook_repr(PyObject *self)
{
    Hook *h = (Hook *)self;
    return PyUnicode_FromFormat("<sleuth evidence %s hook writing to %R>",
                                h->is_thread ? "threading.excepthook" : "sys.excepthook",
                                h->directory);
}

static PyMemberDef hook_members[] = {
    {"previous", Py_T_OBJECT_EX, offsetof(Hook, previous), Py_READONLY,
     "The hook this one calls first."},
    {"directory", Py_T_OBJECT_EX, offsetof(Hook, directory), Py_READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot hook_slots[] = {
    {Py_tp_call, hook_call},
    {Py_tp_repr, hook_repr},
    {Py_tp_members, hook_members},
    {Py_tp_traverse, hook_traverse},
    {Py_tp_clear, hook_clear},
    {Py_tp_dealloc, hook_dealloc},
    {Py_tp_doc, "An exception hook that writes an evidence file after the previous hook ran."},
    {0, NULL},
};

static PyType_Spec hook_spec = {
    "sleuth._evidence.ExceptHook", sizeof(Hook), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE
        | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    hook_slots,
};

int
Hook_init_type(PyObject *module, EvidenceState *st)
{
    st->hook_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &hook_spec, NULL);
    if (!st->hook_type)
        return -1;
    return PyModule_AddType(module, st->hook_type);
}

static Hook *
hook_new(EvidenceState *st, PyObject *previous, PyObject *directory, const Config *cfg, int is_thread)
{
    Hook *h = (Hook *)st->hook_type->tp_alloc(st->hook_type, 0);
    if (!h)
        return NULL;
    /* Never chain to one of our own hooks: re-installing replaces it. */
    while (previous && Py_IS_TYPE(previous, st->hook_type))
        previous = ((Hook *)previous)->previous;
    h->previous = Py_XNewRef(previous);
    h->directory = Py_NewRef(directory);
    h->redact = Py_NewRef(cfg->redact);
    h->cap = cfg->cap;
    h->cap.repr.redact = h->redact;
    h->compress = cfg->compress;
    h->announce = cfg->announce;
    h->is_thread = is_thread;
    return h;
}

/* ------------------------------------------------------------------------ */
/* Python-facing functions                                                  */

/* str path from str/bytes/os.PathLike (new ref). */
static PyObject *
fs_str(PyObject *p)
{
    PyObject *s = PyOS_FSPath(p);
    if (s && PyBytes_Check(s))
        Py_SETREF(s, PyUnicode_DecodeFSDefaultAndSize(PyBytes_AS_STRING(s), PyBytes_GET_SIZE(s)));
    return s;
}

PyObject *
Hook_install_py(PyObject *module, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *kw = NULL, *dir = NULL, *threading = NULL, *prev_thread = NULL;
    Hook *sys_hook = NULL, *thread_hook = NULL;
    PyObject *res = NULL;
    /* Borrowed */
    PyObject *directory;
    EvidenceState *st = Evidence_state(module);
    Config cfg = {0};
    int threads = 1;

    if (!PyArg_ParseTuple(args, "O:install", &directory))
        return NULL;
    kw = kwargs ? PyDict_Copy(kwargs) : PyDict_New();
    if (!kw || pop_bool(kw, "threads", &threads) < 0
            || config_from_kwargs(kw, NULL, &cfg, "install") < 0)
        goto done;
    dir = fs_str(directory);
    if (!dir)
        goto done;
    {
        /* Absolute now: the program may chdir before it fails. */
        PyObject *osp = PyImport_ImportModule("os.path");
        PyObject *abs = osp ? PyObject_CallMethod(osp, "abspath", "O", dir) : NULL;
        Py_XDECREF(osp);
        if (!abs)
            goto done;
        Py_SETREF(dir, abs);
    }
    sys_hook = hook_new(st, PySys_GetObject("excepthook"), dir, &cfg, 0);
    if (!sys_hook)
        goto done;
    if (threads) {
        threading = PyImport_ImportModule("threading");
        prev_thread = threading ? PyObject_GetAttrString(threading, "excepthook") : NULL;
        thread_hook = prev_thread ? hook_new(st, prev_thread, dir, &cfg, 1) : NULL;
        if (!thread_hook || PyObject_SetAttrString(threading, "excepthook", (PyObject *)thread_hook) < 0)
            goto done;
    }
    if (PySys_SetObject("excepthook", (PyObject *)sys_hook) < 0)
        goto done;
    Py_XSETREF(st->config, Py_NewRef((PyObject *)sys_hook));
    res = Py_NewRef(Py_None);
done:
    config_clear(&cfg);
    Py_XDECREF(kw);
    Py_XDECREF(dir);
    Py_XDECREF(threading);
    Py_XDECREF(prev_thread);
    Py_XDECREF(sys_hook);
    Py_XDECREF(thread_hook);
    return res;
}

PyObject *
Hook_uninstall_py(PyObject *module, PyObject *unused)
{
    /* Owned */
    PyObject *threading = NULL, *cur = NULL;
    EvidenceState *st = Evidence_state(module);
    int removed = 0;

    SLEUTH_UNUSED(unused);
    PyObject *hook = PySys_GetObject("excepthook");     /* borrowed */
    if (hook && Py_IS_TYPE(hook, st->hook_type)) {
        PyObject *prev = ((Hook *)hook)->previous;
        if (PySys_SetObject("excepthook", prev ? prev : PySys_GetObject("__excepthook__")) < 0)
            return NULL;
        removed = 1;
    }
    PyObject *modules = PyImport_GetModuleDict();
    threading = Py_XNewRef(PyDict_GetItemString(modules, "threading"));
    if (threading) {
        cur = PyObject_GetAttrString(threading, "excepthook");
        if (cur && Py_IS_TYPE(cur, st->hook_type)) {
            PyObject *prev = ((Hook *)cur)->previous;
            if (prev && PyObject_SetAttrString(threading, "excepthook", prev) < 0) {
                Py_DECREF(threading);
                Py_DECREF(cur);
                return NULL;
            }
            removed = 1;
        }
        PyErr_Clear();
    }
    Py_CLEAR(st->config);
    Py_XDECREF(threading);
    Py_XDECREF(cur);
    return PyBool_FromLong(removed);
}

/* Shared by capture() and capture_json(): exc, options. */
static int
capture_args(PyObject *module, PyObject *args, PyObject *kwargs, const char *fname,
             PyObject **exc, PyObject **path, Config *cfg)
{
    /* Owned */
    PyObject *kw = NULL;
    EvidenceState *st = Evidence_state(module);
    int rc = -1;

    *exc = Py_None;
    *path = Py_None;
    kw = kwargs ? PyDict_Copy(kwargs) : PyDict_New();
    if (!kw)
        return -1;
    PyObject *v = PyDict_GetItemString(kw, "exc");
    if (v) {
        *exc = v;
        Py_INCREF(v);
        PyDict_DelItemString(kw, "exc");
    }
    else if (PyTuple_GET_SIZE(args) >= 1)
        *exc = Py_NewRef(PyTuple_GET_ITEM(args, 0));
    else
        Py_INCREF(*exc);
    v = path ? PyDict_GetItemString(kw, "path") : NULL;
    if (v) {
        *path = Py_NewRef(v);
        PyDict_DelItemString(kw, "path");
    }
    else if (PyTuple_GET_SIZE(args) >= 2)
        *path = Py_NewRef(PyTuple_GET_ITEM(args, 1));
    else
        Py_INCREF(*path);
    if (PyTuple_GET_SIZE(args) > 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most 2 positional arguments", fname);
        goto done;
    }
    if (*exc != Py_None && !PyExceptionInstance_Check(*exc)) {
        PyErr_Format(PyExc_TypeError, "%s(): exc must be an exception instance or None", fname);
        goto done;
    }
    Config base = {0};
    int have_base = st->config != NULL;
    if (have_base)
        config_from_hook((Hook *)st->config, &base);
    rc = config_from_kwargs(kw, have_base ? &base : NULL, cfg, fname);
    if (have_base)
        config_clear(&base);
done:
    if (rc < 0) {
        Py_CLEAR(*exc);
        Py_CLEAR(*path);
    }
    Py_XDECREF(kw);
    return rc;
}

/* The exception to capture: the given one, else the one being handled. */
static PyObject *
exception_to_capture(PyObject *exc)
{
    if (exc != Py_None)
        return Py_NewRef(exc);
    PyObject *handled = PyErr_GetHandledException();
    if (handled == Py_None)
        Py_CLEAR(handled);
    return handled;
}

PyObject *
Hook_capture_py(PyObject *module, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *exc = NULL, *path = NULL, *target = NULL, *dir = NULL;
    EvidenceState *st = Evidence_state(module);
    Config cfg = {0};

    if (capture_args(module, args, kwargs, "capture", &exc, &path, &cfg) < 0)
        return NULL;
    /* Bad arguments raise; from here on a failure is one line on stderr. */
    PyObject *e = exception_to_capture(exc);
    if (st->config)
        dir = Py_NewRef(((Hook *)st->config)->directory);
    else {
        const char *env = getenv("SLEUTH_EVIDENCE");
        dir = PyUnicode_DecodeFSDefault(env && *env ? env : ".");
    }
    if (dir)
        target = write_evidence(st, &cfg, dir, path, e, e ? NULL : PyEval_GetFrame(), "capture");
    if (!target)
        report_failure();
    Py_XDECREF(e);
    Py_XDECREF(exc);
    Py_XDECREF(path);
    Py_XDECREF(dir);
    config_clear(&cfg);
    return target ? target : Py_NewRef(Py_None);
}

PyObject *
Hook_capture_json_py(PyObject *module, PyObject *args, PyObject *kwargs)
{
    /* Owned */
    PyObject *exc = NULL, *path = NULL, *doc = NULL, *res = NULL;
    EvidenceState *st = Evidence_state(module);
    Config cfg = {0};

    if (capture_args(module, args, kwargs, "capture_json", &exc, &path, &cfg) < 0)
        return NULL;
    if (path != Py_None) {
        PyErr_SetString(PyExc_TypeError, "capture_json() takes no path");
        goto done;
    }
    PyObject *e = exception_to_capture(exc);
    doc = Capture_document(e, e ? NULL : PyEval_GetFrame(), "capture", &cfg.cap, st->pkg_cache);
    Py_XDECREF(e);
    if (doc)
        res = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(doc), PyBytes_GET_SIZE(doc), "strict");
done:
    Py_XDECREF(exc);
    Py_XDECREF(path);
    Py_XDECREF(doc);
    config_clear(&cfg);
    return res;
}

PyObject *
Hook_autostart_py(PyObject *module, PyObject *unused)
{
    /* Owned */
    PyObject *args = NULL, *kw = NULL, *res = NULL;

    SLEUTH_UNUSED(unused);
    const char *dir = getenv("SLEUTH_EVIDENCE");
    if (!dir || !*dir)
        Py_RETURN_FALSE;
    const char *gz = getenv("SLEUTH_EVIDENCE_COMPRESS");
    args = Py_BuildValue("(N)", PyUnicode_DecodeFSDefault(dir));
    /* Started from the environment, nobody chose a file name: say where it went. */
    kw = Py_BuildValue("{sOsO}", "compress", gz && *gz && strcmp(gz, "0") ? Py_True : Py_False,
                       "announce", Py_True);
    if (!args || !kw)
        goto done;
    /* SLEUTH_EVIDENCE_REDACT_NAMES=a,b and SLEUTH_EVIDENCE_REDACT_PATTERNS
     * (one regular expression per line) extend the rules like the options. */
    static const struct { const char *env, *opt, *sep; } extra_rules[] = {
        {"SLEUTH_EVIDENCE_REDACT_NAMES", "redact_names", ","},
        {"SLEUTH_EVIDENCE_REDACT_PATTERNS", "redact_patterns", "\n"},
    };
    for (size_t i = 0; i < sizeof extra_rules / sizeof extra_rules[0]; i++) {
        const char *v = getenv(extra_rules[i].env);
        if (!v || !*v)
            continue;
        PyObject *text = PyUnicode_DecodeFSDefault(v);
        PyObject *parts = text ? PyObject_CallMethod(text, "split", "s", extra_rules[i].sep) : NULL;
        PyObject *kept = parts ? PyList_New(0) : NULL;
        for (Py_ssize_t k = 0; kept && k < PyList_GET_SIZE(parts); k++) {
            PyObject *one = PyObject_CallMethod(PyList_GET_ITEM(parts, k), "strip", NULL);
            if (one && PyUnicode_GET_LENGTH(one) > 0 && PyList_Append(kept, one) < 0)
                Py_CLEAR(kept);
            Py_XDECREF(one);
        }
        int ok = kept && PyDict_SetItemString(kw, extra_rules[i].opt, kept) == 0;
        Py_XDECREF(text);
        Py_XDECREF(parts);
        Py_XDECREF(kept);
        if (!ok)
            goto done;
    }
    res = Hook_install_py(module, args, kw);
    if (res)
        Py_SETREF(res, Py_NewRef(Py_True));
done:
    Py_XDECREF(args);
    Py_XDECREF(kw);
    return res;
}
