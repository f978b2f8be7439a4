/* stacks_mem.c — reading another process's memory.
 *
 * process_vm_readv is one syscall per read and needs no file descriptor; it is
 * missing under some seccomp profiles (ENOSYS) and refused by others (EPERM),
 * so /proc/PID/mem with pread is the fallback. Both are subject to the same
 * ptrace access check in the kernel.
 */
#define _GNU_SOURCE
#include "stacks_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

void
stacks_mem_init(stacks_mem *m, pid_t pid)
{
    m->pid = pid;
    m->mem_fd = -1;
    m->use_fd = 0;
    m->last_errno = 0;
    m->reads = 0;
}

void
stacks_mem_close(stacks_mem *m)
{
    if (m->mem_fd >= 0)
        close(m->mem_fd);
    m->mem_fd = -1;
}

static int
mem_read_fd(stacks_mem *m, uint64_t addr, void *buf, size_t len)
{
    if (m->mem_fd < 0) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/mem", (int)m->pid);
        m->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (m->mem_fd < 0) {
            m->last_errno = errno;
            return -1;
        }
    }
    /* pread takes a signed offset: addresses above 2^63 are not user space. */
    if (addr > (uint64_t)INT64_MAX - len) {
        m->last_errno = EFAULT;
        return -1;
    }
    ssize_t n = pread(m->mem_fd, buf, len, (off_t)addr);
    if (n == (ssize_t)len)
        return 0;
    m->last_errno = n < 0 ? (errno == EIO ? EFAULT : errno) : EFAULT;
    return -1;
}

int
stacks_mem_read(stacks_mem *m, uint64_t addr, void *buf, size_t len)
{
    if (len == 0)
        return 0;
    if (len > STACKS_MEM_MAX_READ || addr < 4096 || addr + len < addr) {
        m->last_errno = EFAULT;
        return -1;
    }
    m->reads++;
    if (!m->use_fd) {
        struct iovec local = {buf, len};
        struct iovec remote = {(void *)(uintptr_t)addr, len};
        ssize_t n = process_vm_readv(m->pid, &local, 1, &remote, 1, 0);
        if (n == (ssize_t)len)
            return 0;
        if (n >= 0) {
            m->last_errno = EFAULT;
            return -1;
        }
        if (errno != ENOSYS && errno != EPERM) {
            m->last_errno = errno;
            return -1;
        }
        /* The syscall itself is unavailable (seccomp) or refused: try the
         * file; if that is refused too, the caller reports EPERM. */
        m->use_fd = 1;
    }
    return mem_read_fd(m, addr, buf, len);
}

int
stacks_mem_read_u64(stacks_mem *m, uint64_t addr, uint64_t *out)
{
    return stacks_mem_read(m, addr, out, sizeof(*out));
}
