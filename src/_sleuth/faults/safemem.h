/* safemem.h — read memory that may be freed, unmapped or garbage, without faulting.
 *
 * The dumper follows pointers of a process that just crashed (or, for the
 * watchdog, of threads that keep running while it reads). A plain load from a
 * bad pointer would fault inside the fault handler, so every pointer the dumper
 * did not create itself is read through Faults_safe_read(), which copies with
 * process_vm_readv(2) on our own pid: the kernel reports EFAULT instead of
 * delivering SIGSEGV. Where that system call is refused (seccomp, old kernel),
 * it falls back to bouncing the bytes through a pipe, which fails the same way.
 * Both are plain system calls and async-signal-safe.
 */
#ifndef SLEUTH_FAULTS_SAFEMEM_H
#define SLEUTH_FAULTS_SAFEMEM_H

#include <stddef.h>
#include <stdint.h>

/* Prepare the fallback (needs the GIL; not signal-safe). 0 or -1 with errno. */
int Faults_safemem_init(void);
/* Copy n bytes from src to dst. 0 if all were readable, -1 otherwise. */
int Faults_safe_read(void *dst, const void *src, size_t n);

/* Read one object of the type of *dst from src: 0 or -1. */
#define FAULTS_LOAD(dst, src) Faults_safe_read(&(dst), (src), sizeof(dst))

/* Read field `field` of a `type` at `ptr`, which may be any garbage value:
 * the address is computed with integer arithmetic, because `&ptr->field`
 * on a misaligned or wild pointer is undefined behaviour in C (and UBSan
 * says so), even though nothing is dereferenced. */
#define FAULTS_LOAD_FIELD(dst, ptr, type, field) \
    Faults_safe_read(&(dst), (const void *)((uintptr_t)(ptr) + offsetof(type, field)), \
                     sizeof(dst))

/* 1 if p is non-NULL and aligned like a pointer: the least an object,
 * frame or thread state address must be before it is worth reading. */
#define FAULTS_PLAUSIBLE(p) \
    ((p) != NULL && ((uintptr_t)(p) & (sizeof(void *) - 1)) == 0)

#endif
