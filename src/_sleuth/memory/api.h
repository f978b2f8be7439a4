/* api.h — the module-level functions of sleuth._memory (tracemalloc's API). */
#ifndef SLEUTH_MEMORY_API_H
#define SLEUTH_MEMORY_API_H

#include "compat.h"

extern PyMethodDef SmApi_methods[];

/* memcli.c: `sleuth mem` */
PyObject *SmCli_main_py(PyObject *module, PyObject *argv);

#endif /* SLEUTH_MEMORY_API_H */
