/* module.c — sleuth._evidence: registers types and functions, nothing else. */
#include "evidence_state.h"
#include "capture.h"
#include "cli.h"
#include "hook.h"
#include "snapshot.h"

#define KW (PyCFunction)(void (*)(void))

PyDoc_STRVAR(install_doc,
"install(directory, *, compress=False, locals=True, max_bytes=1000000, max_length=200,\n"
"        max_items=25, max_depth=3, repr_timeout=0.1, total_repr_timeout=2.0,\n"
"        redact=None, redact_extra=None, redact_names=None, redact_patterns=None,\n"
"        redact_values=None,\n"
"        threads=True, announce=False)\n--\n\n"
"Write an evidence file into `directory` for every uncaught exception (main\n"
"thread via sys.excepthook, other threads via threading.excepthook). The hooks\n"
"they replace still run first, so stderr and the exit status are unchanged.");

PyDoc_STRVAR(uninstall_doc,
"uninstall()\n--\n\nRestore the hooks install() replaced; True if it removed any.");

PyDoc_STRVAR(capture_doc,
"capture(exc=None, path=None, **options)\n--\n\n"
"Write one evidence file now and return its path (None, after one line on\n"
"stderr, if it could not be written). exc defaults to the exception being\n"
"handled; with none, the calling stack is captured. path defaults to a new\n"
"file in install()'s directory, else $SLEUTH_EVIDENCE, else the current one.");

PyDoc_STRVAR(capture_json_doc,
"capture_json(exc=None, **options)\n--\n\nThe evidence document as JSON text, without writing a file.");

PyDoc_STRVAR(load_doc,
"load(path)\n--\n\n"
"Read and validate an evidence file; return an Evidence object whose frames,\n"
"tracebacks and exceptions look like live ones. Raises EvidenceError for a\n"
"file that is not valid evidence of a supported version, OSError if unreadable.");

PyDoc_STRVAR(main_doc, "main(args, /)\n--\n\n`sleuth open FILE`; returns the exit status.");

PyDoc_STRVAR(autostart_doc,
"_autostart()\n--\n\nCall install($SLEUTH_EVIDENCE) when that variable is set\n"
"(gzip when $SLEUTH_EVIDENCE_COMPRESS is set and not 0); True if installed.");

static PyMethodDef module_methods[] = {
    {"install", KW Hook_install_py, METH_VARARGS | METH_KEYWORDS, install_doc},
    {"uninstall", Hook_uninstall_py, METH_NOARGS, uninstall_doc},
    {"capture", KW Hook_capture_py, METH_VARARGS | METH_KEYWORDS, capture_doc},
    {"capture_json", KW Hook_capture_json_py, METH_VARARGS | METH_KEYWORDS, capture_json_doc},
    {"load", Cli_load_py, METH_O, load_doc},
    {"main", Cli_main_py, METH_O, main_doc},
    {"_autostart", Hook_autostart_py, METH_NOARGS, autostart_doc},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *m)
{
    EvidenceState *st = Evidence_state(m);
    st->error = PyErr_NewExceptionWithDoc(
        "sleuth._evidence.EvidenceError",
        "The file is not a valid sleuth evidence file of a supported format version.",
        PyExc_ValueError, NULL);
    if (!st->error || PyModule_AddObjectRef(m, "EvidenceError", st->error) < 0)
        return -1;
    st->pkg_cache = PyDict_New();
    if (!st->pkg_cache)
        return -1;
    if (Snapshot_init_types(m, st) < 0 || Hook_init_type(m, st) < 0)
        return -1;
    if (PyModule_AddIntConstant(m, "FORMAT_VERSION", CAPTURE_FORMAT_VERSION) < 0)
        return -1;
    return 0;
}

static int
module_traverse(PyObject *m, visitproc visit, void *arg)
{
    EvidenceState *st = Evidence_state(m);
    Py_VISIT(st->code_type);
    Py_VISIT(st->frame_type);
    Py_VISIT(st->tb_type);
    Py_VISIT(st->exc_type);
    Py_VISIT(st->value_type);
    Py_VISIT(st->evidence_type);
    Py_VISIT(st->hook_type);
    Py_VISIT(st->error);
    Py_VISIT(st->pkg_cache);
    Py_VISIT(st->config);
    return 0;
}

static int
module_clear(PyObject *m)
{
    EvidenceState *st = Evidence_state(m);
    Py_CLEAR(st->code_type);
    Py_CLEAR(st->frame_type);
    Py_CLEAR(st->tb_type);
    Py_CLEAR(st->exc_type);
    Py_CLEAR(st->value_type);
    Py_CLEAR(st->evidence_type);
    Py_CLEAR(st->hook_type);
    Py_CLEAR(st->error);
    Py_CLEAR(st->pkg_cache);
    Py_CLEAR(st->config);
    return 0;
}

static void
module_free(void *m)
{
    module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

struct PyModuleDef Evidence_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sleuth._evidence",
    .m_doc = "Evidence files: capture a failure's state safely, load it back for post-mortem.",
    .m_size = sizeof(EvidenceState),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__evidence(void)
{
    return PyModuleDef_Init(&Evidence_module_def);
}
