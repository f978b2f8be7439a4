/* adapter.h — `sleuth dap`: the Debug Adapter Protocol adapter. */
#ifndef SLEUTH_DAP_ADAPTER_H
#define SLEUTH_DAP_ADAPTER_H
#include "compat.h"

/* main(argv: list[str]) -> int; argv[0] is "sleuth dap". */
PyObject *Adapter_main_py(PyObject *module, PyObject *argv);

#endif
