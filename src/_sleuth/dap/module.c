/* module.c — sleuth._dap: wires up the adapter (`sleuth dap`) and the
 * test-only entry points of the shared DAP pieces. */
#include "compat.h"
#include "adapter.h"
#include "wiretest.h"

PyDoc_STRVAR(main_doc,
"main($module, args, /)\n--\n\n"
"Run `sleuth dap`; args[0] is the program name. Returns the exit status.");

static PyMethodDef module_methods[] = {
    {"main", (PyCFunction)Adapter_main_py, METH_O, main_doc},
    {"_json_loads", (PyCFunction)(void (*)(void))WireTest_json_loads_py,
     METH_VARARGS | METH_KEYWORDS, "Test only: parse JSON with sleuth's reader."},
    {"_json_dumps", (PyCFunction)WireTest_json_dumps_py, METH_O,
     "Test only: write an object tree with sleuth's JSON writer."},
    {"_wire_read_all", (PyCFunction)WireTest_read_all_py, METH_O,
     "Test only: read DAP messages from an fd until the end."},
    {"_wire_write", (PyCFunction)WireTest_write_py, METH_VARARGS,
     "Test only: write one DAP message to an fd."},
    {"_wire_write_threads", (PyCFunction)WireTest_write_threads_py, METH_VARARGS,
     "Test only: write messages from C threads through one writer."},
    {"_capabilities", (PyCFunction)WireTest_capabilities_py, METH_NOARGS,
     "Test only: the initialize response body."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sleuth._dap",
    .m_doc = "The Debug Adapter Protocol adapter (`sleuth dap`).",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__dap(void)
{
    return PyModuleDef_Init(&module_def);
}
