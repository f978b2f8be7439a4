/* module.c — sleuth._reduce: the two command-line entry points, nothing else.
 *
 * main(args) runs `sleuth reduce`, bisect_main(args) runs `sleuth bisect`.
 * The arguments are copied into a C argv, then the whole run happens in plain
 * C with the GIL released: it only waits on child processes, and other Python
 * threads (or an embedding application) keep running meanwhile. Ctrl-C is
 * handled inside the run (see rd_proc.h), not as KeyboardInterrupt.
 */
#include "compat.h"
#include "rd_bisect.h"
#include "rd_reduce.h"

typedef int (*MainFn)(int, char **);

/* RdParseFn for the reducer: does the candidate parse as Python? Called
 * from the reducer with the GIL released, so it takes the GIL. Only the
 * parser runs (PyCF_ONLY_AST): tests commonly use ast.parse, which accepts
 * code that the compiler proper would reject. */
static int
python_parses(const unsigned char *p, size_t n)
{
    PyGILState_STATE g;
    PyCompilerFlags flags = {PyCF_ONLY_AST, PY_MINOR_VERSION};
    PyObject *tree;
    char *src;
    int ok;

    if (memchr(p, 0, n))
        return 0;
    src = malloc(n + 1);
    if (!src)
        return -1;
    memcpy(src, p, n);
    src[n] = '\0';
    g = PyGILState_Ensure();
    tree = Py_CompileStringExFlags(src, "<candidate>", Py_file_input, &flags, 0);
    ok = tree != NULL;
    Py_XDECREF(tree);
    if (!ok)
        PyErr_Clear();
    PyGILState_Release(g);
    free(src);
    return ok;
}

static int
reduce_main_c(int argc, char **argv)
{
    return rd_reduce_main(argc, argv, python_parses);
}

static void
flush_std(const char *name)
{
    PyObject *f = PySys_GetObject(name);   /* borrowed */
    if (f && f != Py_None) {
        PyObject *r = PyObject_CallMethod(f, "flush", NULL);
        if (r)
            Py_DECREF(r);
        else
            PyErr_Clear();
    }
}

/* warnings.catch_warnings() entered, with simplefilter("ignore"). */
static PyObject *
enter_quiet_warnings(void)
{
    /* Owned */
    PyObject *warnings = NULL, *cm = NULL, *r = NULL;

    warnings = PyImport_ImportModule("warnings");
    if (!warnings)
        goto error;
    cm = PyObject_CallMethod(warnings, "catch_warnings", NULL);
    if (!cm)
        goto error;
    r = PyObject_CallMethod(cm, "__enter__", NULL);
    if (!r)
        goto error;
    Py_DECREF(r);
    r = PyObject_CallMethod(warnings, "simplefilter", "s", "ignore");
    if (!r) {
        PyObject *x = PyObject_CallMethod(cm, "__exit__", "OOO", Py_None, Py_None, Py_None);
        Py_XDECREF(x);
        goto error;
    }
    Py_DECREF(r);
    Py_DECREF(warnings);
    return cm;
error:
    Py_XDECREF(warnings);
    Py_XDECREF(cm);
    return NULL;
}

static int
exit_quiet_warnings(PyObject *cm)
{
    PyObject *r = PyObject_CallMethod(cm, "__exit__", "OOO", Py_None, Py_None, Py_None);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

static PyObject *
run_main(PyObject *args, MainFn fn, const char *default_prog)
{
    /* Owned */
    PyObject *seq = NULL;
    char **argv = NULL;
    PyObject *result = NULL;
    PyObject *catcher = NULL;
    Py_ssize_t n, i;
    int rc;

    seq = PySequence_Fast(args, "main() expects a list of strings");
    if (!seq)
        goto error;
    n = PySequence_Fast_GET_SIZE(seq);
    argv = PyMem_Calloc((size_t)n + 2, sizeof *argv);
    if (!argv) {
        PyErr_NoMemory();
        goto error;
    }
    if (n == 0) {
        argv[0] = PyMem_Malloc(strlen(default_prog) + 1);
        if (!argv[0]) {
            PyErr_NoMemory();
            goto error;
        }
        strcpy(argv[0], default_prog);
    }
    for (i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);   /* borrowed */
        Py_ssize_t len;
        const char *s;
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "argument %zd is %.100s, not str", i,
                         Py_TYPE(item)->tp_name);
            goto error;
        }
        /* Arguments are file names and shell text: the filesystem encoding
         * (with surrogateescape) round-trips what the shell gave Python. */
        PyObject *b = PyUnicode_EncodeFSDefault(item);
        if (!b)
            goto error;
        s = PyBytes_AS_STRING(b);
        len = PyBytes_GET_SIZE(b);
        if ((Py_ssize_t)strlen(s) != len) {
            Py_DECREF(b);
            PyErr_Format(PyExc_ValueError, "argument %zd contains a NUL character", i);
            goto error;
        }
        argv[i] = PyMem_Malloc((size_t)len + 1);
        if (!argv[i]) {
            Py_DECREF(b);
            PyErr_NoMemory();
            goto error;
        }
        memcpy(argv[i], s, (size_t)len + 1);
        Py_DECREF(b);
    }
    flush_std("stdout");
    flush_std("stderr");
    /* Parsing candidates must not print SyntaxWarnings ("invalid escape
     * sequence") for every try: warnings are ignored during the run. */
    catcher = enter_quiet_warnings();
    if (!catcher)
        goto error;
    Py_BEGIN_ALLOW_THREADS
    rc = fn(n ? (int)n : 1, argv);
    Py_END_ALLOW_THREADS
    if (exit_quiet_warnings(catcher) < 0)
        goto error;
    result = PyLong_FromLong(rc);
error:
    if (argv) {
        for (i = 0; i < n + 1; i++)
            PyMem_Free(argv[i]);
        PyMem_Free(argv);
    }
    Py_XDECREF(seq);
    Py_XDECREF(catcher);
    return result;
}

static PyObject *
reduce_main_py(PyObject *module, PyObject *args)
{
    (void)module;
    return run_main(args, reduce_main_c, "sleuth reduce");
}

static PyObject *
bisect_main_py(PyObject *module, PyObject *args)
{
    (void)module;
    return run_main(args, rd_bisect_main, "sleuth bisect");
}

PyDoc_STRVAR(main_doc,
"main(args, /)\n--\n\n"
"Run `sleuth reduce`; args[0] is the program name. Returns the exit status.");
PyDoc_STRVAR(bisect_main_doc,
"bisect_main(args, /)\n--\n\n"
"Run `sleuth bisect`; args[0] is the program name. Returns the exit status.");

static PyMethodDef module_methods[] = {
    {"main", (PyCFunction)reduce_main_py, METH_O, main_doc},
    {"bisect_main", (PyCFunction)bisect_main_py, METH_O, bisect_main_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sleuth._reduce",
    .m_doc = "sleuth reduce (parallel delta debugging) and sleuth bisect.",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__reduce(void)
{
    return PyModuleDef_Init(&module_def);
}
