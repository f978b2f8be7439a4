/* api.h — pdb's module-level API and the entry points into a session. */
#ifndef SLEUTH_API_H
#define SLEUTH_API_H
#include "pdb.h"

int Api_set_trace(PdbObject *self, PyObject *frame);
int Api_post_mortem(PdbObject *p, PyObject *tb_or_exc);

PyObject *Api_set_trace_py(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *Api_post_mortem_py(PyObject *module, PyObject *args);
PyObject *Api_post_mortem_with_py(PyObject *module, PyObject *args);
PyObject *Api_pm_py(PyObject *module, PyObject *unused);
PyObject *Api_run_py(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *Api_runeval_py(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *Api_open_snapshot_py(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *Api_runctx_py(PyObject *module, PyObject *args, PyObject *kwds);
PyObject *Api_runcall_py(PyObject *module, PyObject *args, PyObject *kwds);

#endif
