/* stacks_native.h — native (C) frames of a stopped thread of another process.
 *
 * The thread must be stopped under ptrace (sleuth stacks --native implies
 * --pause). Its registers come from PTRACE_GETREGS; the stack is unwound
 * with the x86-64 call frame information in each module's .eh_frame (found
 * through .eh_frame_hdr's sorted table), and each pc is named from the
 * module's .symtab or .dynsym. Only x86-64 Linux.
 */
#ifndef SLEUTH_STACKS_NATIVE_H
#define SLEUTH_STACKS_NATIVE_H

#include <stdint.h>
#include <sys/types.h>

#include "stacks_mem.h"

#define STACKS_NATIVE_MAX_FRAMES 256

typedef struct {
    uint64_t pc;
    const char *module;    /* file base name, borrowed from the module cache; NULL unknown */
    const char *symbol;    /* borrowed; NULL unknown */
    uint64_t offset;       /* pc - symbol start */
    uint64_t modoff;       /* pc - module load bias: the address in the file */
} stacks_native_frame;

typedef struct stacks_native stacks_native;

/* A module cache for process `pid` (parses /proc/PID/maps); NULL on failure. */
stacks_native *stacks_native_new(pid_t pid);
void stacks_native_free(stacks_native *n);
/* Unwind ptrace-stopped thread `tid` into out[0..max); returns the number of
 * frames (innermost first), or -1 when its registers cannot be read. */
int stacks_native_unwind(stacks_native *n, stacks_mem *mem, pid_t tid,
                         stacks_native_frame *out, int max);
/* Non-zero when `f` is the interpreter loop that runs Python frames. */
int stacks_native_is_eval(const stacks_native_frame *f);

#endif
