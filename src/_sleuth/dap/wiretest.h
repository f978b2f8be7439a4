/* wiretest.h — test-only entry points of sleuth._dap: the shared JSON reader
 * and writer and the DAP framing, callable from Python so tests/test_dap_wire.py
 * can check them directly (names start with an underscore: not an API). */
#ifndef SLEUTH_DAP_WIRETEST_H
#define SLEUTH_DAP_WIRETEST_H
#include "compat.h"

PyObject *WireTest_json_loads_py(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *WireTest_json_dumps_py(PyObject *module, PyObject *obj);
PyObject *WireTest_read_all_py(PyObject *module, PyObject *fd);
PyObject *WireTest_write_py(PyObject *module, PyObject *args);
PyObject *WireTest_write_threads_py(PyObject *module, PyObject *args);
PyObject *WireTest_capabilities_py(PyObject *module, PyObject *unused);

#endif
