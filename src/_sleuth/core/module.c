/* module.c — sleuth._sleuth: registers types and functions, nothing else. */
#include "compat.h"
#include "cli.h"

PyDoc_STRVAR(main_doc, "main(argv, /)\n--\n\nRun the sleuth command line; returns the exit status.");

static PyMethodDef module_methods[] = {
    {"main", (PyCFunction)Cli_main_py, METH_O, main_doc},
    {NULL, NULL, 0, NULL},
};

static int
module_exec(PyObject *m)
{
    if (PyModule_AddStringConstant(m, "__version__", "0.1.0") < 0)
        return -1;
    return 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sleuth._sleuth",
    .m_doc = "sleuth's debugger engine, session and frontends.",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__sleuth(void)
{
    return PyModuleDef_Init(&module_def);
}
