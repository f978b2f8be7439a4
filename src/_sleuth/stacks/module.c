/* module.c — sleuth._stacks: registers functions, nothing else. */
#include "compat.h"
#include "stacks_cli.h"

PyDoc_STRVAR(main_doc,
"main(args, /)\n--\n\n"
"Run `sleuth stacks`: args[0] is the program name, the rest the arguments.\n"
"Returns the exit status (0 ok, 2 for bad input or an unreadable process).");

static PyMethodDef module_methods[] = {
    {"main", (PyCFunction)StacksCli_main_py, METH_O, main_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sleuth._stacks",
    .m_doc = "Read the Python stacks of another running CPython process.",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__stacks(void)
{
    return PyModuleDef_Init(&module_def);
}
