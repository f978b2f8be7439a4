/* stacks_mem.h — bounded, checked reads of another process's memory.
 *
 * Every read names an exact length, is refused above STACKS_MEM_MAX_READ and
 * for addresses in the first page, and either fills the whole buffer or
 * fails: a partial read is a failure, never half-initialised data.
 */
#ifndef SLEUTH_STACKS_MEM_H
#define SLEUTH_STACKS_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STACKS_MEM_MAX_READ (1u << 20)

typedef struct {
    pid_t pid;
    int mem_fd;          /* /proc/PID/mem, opened on first need; -1 before */
    int use_fd;          /* process_vm_readv is unavailable: use mem_fd */
    int last_errno;      /* errno of the last failed read */
    unsigned long reads; /* statistics: remote reads issued */
} stacks_mem;

void stacks_mem_init(stacks_mem *m, pid_t pid);
void stacks_mem_close(stacks_mem *m);
/* 0 when all `len` bytes at `addr` were copied into `buf`, -1 otherwise
 * (m->last_errno says why: ESRCH gone, EPERM/EACCES denied, EFAULT unmapped). */
int stacks_mem_read(stacks_mem *m, uint64_t addr, void *buf, size_t len);
int stacks_mem_read_u64(stacks_mem *m, uint64_t addr, uint64_t *out);

#endif
