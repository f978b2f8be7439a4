/* cli_debug.h — the pdb-compatible command line (`sleuth [-c cmd] script`). */
#ifndef SLEUTH_CLI_DEBUG_H
#define SLEUTH_CLI_DEBUG_H
#include "compat.h"

extern const char CliDebug_pdb_usage[];    /* pdb._usage of this version */

PyObject *CliDebug_main_py(PyObject *argv);   /* sleuth [-c cmd]... (-m mod | script) args */
PyObject *CliDebug_run_py(PyObject *argv);    /* sleuth run [--evidence DIR] [--faults] script args */

#endif
