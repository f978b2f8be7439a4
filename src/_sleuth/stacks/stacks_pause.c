/* stacks_pause.c — see stacks_pause.h. */
#define _GNU_SOURCE
#include "stacks_pause.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

static int
have_tid(const stacks_pause *p, pid_t tid)
{
    for (int i = 0; i < p->n; i++)
        if (p->tids[i] == tid)
            return 1;
    return 0;
}

/* Seize the threads not yet held; returns how many were added, -1 on a
 * failure other than a thread that just ended. */
static int
seize_new(stacks_pause *p, pid_t pid)
{
    char path[64];
    int added = 0;
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) {
        p->err = errno == ENOENT ? ESRCH : errno;
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long tid = strtol(de->d_name, &end, 10);
        if (*end || tid <= 0 || have_tid(p, (pid_t)tid))
            continue;
        if (p->n >= STACKS_PAUSE_MAX_TASKS)
            break;
        if (ptrace(PTRACE_SEIZE, (pid_t)tid, NULL, NULL) < 0) {
            if (errno == ESRCH)
                continue;   /* the thread ended between readdir and seize */
            /* The kernel refuses a thread that is exiting with EPERM. The
             * permission check is the same for every thread of a process, so
             * once one thread was seized, EPERM means "exiting": skip it. */
            if (errno == EPERM && p->n > 0)
                continue;
            p->err = errno;
            closedir(d);
            return -1;
        }
        p->tids[p->n] = (pid_t)tid;
        p->n++;
        added++;
        if (ptrace(PTRACE_INTERRUPT, (pid_t)tid, NULL, NULL) < 0)
            continue;
        /* Wait for this thread's stop. A signal-delivery stop comes first if
         * a signal was pending: deliver it at once (so no signal is lost or
         * reordered) and wait for our interrupt. A thread in uninterruptible
         * sleep stops when it leaves it; we wait rather than leave a seized
         * thread behind. */
        for (int tries = 0; tries < 64; tries++) {
            int st;
            pid_t r = waitpid((pid_t)tid, &st, __WALL);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 || !WIFSTOPPED(st))
                break;   /* gone */
            if ((st >> 16) == PTRACE_EVENT_STOP)
                break;
            if (ptrace(PTRACE_CONT, (pid_t)tid, NULL, (void *)(long)WSTOPSIG(st)) < 0)
                break;
            ptrace(PTRACE_INTERRUPT, (pid_t)tid, NULL, NULL);
        }
    }
    closedir(d);
    return added;
}

int
stacks_pause_stop(stacks_pause *p, pid_t pid)
{
    p->n = 0;
    p->err = 0;
    /* Threads created while we seize are found by the next listing; three
     * passes without a new one is "all of them" for any real program. */
    for (int pass = 0; pass < 8; pass++) {
        int added = seize_new(p, pid);
        if (added < 0) {
            stacks_pause_resume(p);
            return -1;
        }
        if (added == 0 && pass > 0)
            break;
    }
    return 0;
}

void
stacks_pause_resume(stacks_pause *p)
{
    for (int i = 0; i < p->n; i++)
        ptrace(PTRACE_DETACH, p->tids[i], NULL, NULL);
    p->n = 0;
}
