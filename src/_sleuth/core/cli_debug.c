/* cli_debug.c — placeholder until the debugger frontend lands. */
#include "cli_debug.h"

PyObject *
CliDebug_main_py(PyObject *argv)
{
    SLEUTH_UNUSED(argv);
    PySys_WriteStderr("usage: sleuth [-c command] (-m module | pyfile) [args ...]\n");
    return PyLong_FromLong(2);
}

PyObject *
CliDebug_run_py(PyObject *argv)
{
    SLEUTH_UNUSED(argv);
    PySys_WriteStderr("usage: sleuth run [--evidence DIR] [--faults] pyfile [args ...]\n");
    return PyLong_FromLong(2);
}
