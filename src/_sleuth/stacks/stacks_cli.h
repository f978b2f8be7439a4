/* stacks_cli.h — `sleuth stacks PID`: options, errors, output. */
#ifndef SLEUTH_STACKS_CLI_H
#define SLEUTH_STACKS_CLI_H

#include "compat.h"

/* main(args) -> int: args[0] is the program name. */
PyObject *StacksCli_main_py(PyObject *module, PyObject *args);

#endif
