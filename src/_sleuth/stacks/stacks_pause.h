/* stacks_pause.h — stop every thread of a process while it is read.
 *
 * PTRACE_SEIZE + PTRACE_INTERRUPT per thread, rather than SIGSTOP: the
 * target's parent sees no stop, a process that was already stopped stays
 * stopped, and detaching resumes exactly what we stopped. A signal that
 * arrives while a thread is being stopped is delivered at once.
 */
#ifndef SLEUTH_STACKS_PAUSE_H
#define SLEUTH_STACKS_PAUSE_H

#include <sys/types.h>

#define STACKS_PAUSE_MAX_TASKS 4096

typedef struct {
    pid_t tids[STACKS_PAUSE_MAX_TASKS];
    int n;
    int err;                            /* errno of the first failed seize */
} stacks_pause;

/* 0: all threads stopped; -1: nothing left stopped, p->err says why. */
int stacks_pause_stop(stacks_pause *p, pid_t pid);
void stacks_pause_resume(stacks_pause *p);

#endif
