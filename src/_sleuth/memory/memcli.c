/* memcli.c — `sleuth mem script.py` (placeholder until the report lands). */
#include "api.h"

PyObject *
SmCli_main_py(PyObject *module, PyObject *argv)
{
    SLEUTH_UNUSED(module);
    SLEUTH_UNUSED(argv);
    PySys_WriteStderr("sleuth mem: not implemented yet\n");
    return PyLong_FromLong(2);
}
