/* safemem.c — see safemem.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "safemem.h"

/* 1 while process_vm_readv works, 0 once it was refused. */
static atomic_int use_vm_readv = 1;
/* The fallback pipe; one reader at a time (the flag), others give up. */
static int bounce[2] = {-1, -1};
static atomic_flag bounce_busy = ATOMIC_FLAG_INIT;

int
Faults_safemem_init(void)
{
    if (bounce[0] >= 0)
        return 0;
    if (pipe2(bounce, O_CLOEXEC | O_NONBLOCK) < 0) {
        bounce[0] = bounce[1] = -1;
        return -1;
    }
    return 0;
}

static int
read_via_pipe(void *dst, const void *src, size_t n)
{
    int rc = -1;
    if (bounce[0] < 0 || atomic_flag_test_and_set(&bounce_busy))
        return -1;
    /* A pipe holds at least 4 KiB; copy in chunks well below that. */
    char *d = dst;
    const char *s = src;
    while (n > 0) {
        size_t k = n < 1024 ? n : 1024;
        ssize_t w = write(bounce[1], s, k);
        if (w != (ssize_t)k) {
            if (w > 0) {        /* drain a partial write so the pipe stays empty */
                char sink[1024];
                (void)!read(bounce[0], sink, (size_t)w);
            }
            goto done;
        }
        if (read(bounce[0], d, k) != (ssize_t)k)
            goto done;
        d += k;
        s += k;
        n -= k;
    }
    rc = 0;
done:
    atomic_flag_clear(&bounce_busy);
    return rc;
}

int
Faults_safe_read(void *dst, const void *src, size_t n)
{
    if (n == 0)
        return 0;
    if (src == NULL || (uintptr_t)src < 4096)
        return -1;
    if (atomic_load_explicit(&use_vm_readv, memory_order_relaxed)) {
        struct iovec local = {dst, n};
        struct iovec remote = {(void *)src, n};
        int saved = errno;
        ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
        int err = errno;
        errno = saved;
        if (got == (ssize_t)n)
            return 0;
        if (got >= 0 || err == EFAULT)
            return -1;
        if (err != ENOSYS && err != EPERM && err != EACCES)
            return -1;
        atomic_store(&use_vm_readv, 0);
    }
    return read_via_pipe(dst, src, n);
}
