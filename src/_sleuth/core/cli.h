/* cli.h — the `sleuth` command line: pdb-compatible options plus subcommands. */
#ifndef SLEUTH_CLI_H
#define SLEUTH_CLI_H
#include "compat.h"

/* main(argv: list[str]) -> int — argv[0] is the program name. */
PyObject *Cli_main_py(PyObject *module, PyObject *argv);

#endif
