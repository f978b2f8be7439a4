/* adapter.c — `sleuth dap` (work in progress: the relay lands next). */
#include "adapter.h"

PyObject *
Adapter_main_py(PyObject *module, PyObject *argv)
{
    SLEUTH_UNUSED(module);
    SLEUTH_UNUSED(argv);
    PySys_WriteStderr("sleuth dap: not available yet in this build\n");
    return PyLong_FromLong(2);
}
