/* cli.h — `sleuth open FILE` and load(). */
#ifndef SLEUTH_EVIDENCE_CLI_H
#define SLEUTH_EVIDENCE_CLI_H
#include "evidence_state.h"

PyObject *Cli_load_py(PyObject *module, PyObject *path);
PyObject *Cli_main_py(PyObject *module, PyObject *args);

#endif
