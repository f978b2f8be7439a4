/* stacks_elf.h — find the CPython runtime in another process.
 *
 * Reads /proc/PID/maps for a mapped libpython3.X.so (or an executable with
 * the interpreter linked in), opens that file, and looks the runtime's
 * symbols up in its ELF symbol tables (.dynsym, then .symtab). Addresses are
 * returned already relocated by the file's load bias in the target.
 */
#ifndef SLEUTH_STACKS_ELF_H
#define SLEUTH_STACKS_ELF_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

/* The symbols sleuth stacks reads; order = index into stacks_syms.addr. */
enum {
    STACKS_SYM_RUNTIME,      /* _PyRuntime */
    STACKS_SYM_VERSION,      /* Py_Version (3.11+) */
    STACKS_SYM_CODE_TYPE,
    STACKS_SYM_NONE,
    STACKS_SYM_TRUE,
    STACKS_SYM_FALSE,
    STACKS_SYM_LONG_TYPE,
    STACKS_SYM_BOOL_TYPE,
    STACKS_SYM_FLOAT_TYPE,
    STACKS_SYM_UNICODE_TYPE,
    STACKS_SYM_BYTES_TYPE,
    STACKS_SYM_CELL_TYPE,
    STACKS_SYM_DICT_TYPE,
    STACKS_SYM_MODULE_TYPE,
    STACKS_SYM_COUNT
};

typedef struct {
    uint64_t addr[STACKS_SYM_COUNT]; /* 0 = not found */
    char path[PATH_MAX];             /* file the runtime was found in */
    char exe[PATH_MAX];              /* /proc/PID/exe target */
    int name_minor;                  /* 3.X from the file name, -1 unknown */
} stacks_syms;

/* Return values of stacks_elf_find. */
enum {
    STACKS_ELF_OK = 0,
    STACKS_ELF_NO_PROCESS = 1,  /* /proc/PID/maps does not exist */
    STACKS_ELF_DENIED = 2,      /* maps not readable */
    STACKS_ELF_NOT_PYTHON = 3,  /* no mapping holds _PyRuntime */
    STACKS_ELF_ERROR = 4,       /* errmsg says what */
};

int stacks_elf_find(pid_t pid, stacks_syms *out, char *errmsg, size_t errlen);

#endif
