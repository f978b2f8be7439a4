/* rd_proc.h — running test commands: `/bin/sh -c CMD` started with
 * posix_spawn in its own process group, waited on with deadlines, killed as a
 * group; plus a signal latch (SIGINT, SIGTERM, SIGHUP, ...) so that Ctrl-C ends a reduction or a
 * bisection cleanly instead of raising KeyboardInterrupt in the middle of it.
 *
 * Contract: nothing here uses the Python C API, so callers may (and do) hold
 * the GIL released for the whole run.
 */
#ifndef SLEUTH_RD_PROC_H
#define SLEUTH_RD_PROC_H

#include <signal.h>
#include <sys/types.h>

#include "rd_util.h"

typedef struct {
    pid_t pid;          /* > 0 while started and not yet reaped */
    int pidfd;          /* pidfd_open(2) of pid, or -1 (then we poll) */
    double deadline;    /* rd_now() value after which it is killed; 0 = none */
    int status;         /* wait(2) status once done */
    int timed_out;      /* killed because its deadline passed */
    int done;           /* reaped */
} RdProc;

/* Set (to the signal number) by the handler that rd_signals_install puts in
 * place; read by the wait loops. */
extern volatile sig_atomic_t rd_interrupted;

/* Every signal whose default action ends the process and that can be
 * caught: each one ends a reduction or a bisection cleanly (temporary
 * folders removed, the best result saved, the repository restored), not
 * only Ctrl-C. A closed terminal sends SIGHUP. */
#define RD_CAUGHT_SIGNALS \
    { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU }
#define RD_NCAUGHT 10

typedef struct {
    struct sigaction old[RD_NCAUGHT];
} RdSigSave;

void rd_signals_install(RdSigSave *save);
void rd_signals_restore(const RdSigSave *save);

/* Starts /bin/sh -c CMD with stdin from /dev/null and stdout+stderr into
 * OUT_PATH (or /dev/null when NULL), in CWD (NULL = ours). TIMEOUT <= 0 means
 * no deadline. Returns 0, or -1 with errno set. */
int rd_proc_spawn_shell(RdProc *p, const char *cmd, const char *cwd,
                        const char *out_path, double timeout);

/* Waits until at least one of the N processes is done (reaped), one passed
 * its deadline (it is then killed, reaped and marked timed_out), a signal
 * was latched in rd_interrupted, or MAX_WAIT seconds passed (< 0: no limit).
 * Entries that are already done or have pid 0 are ignored. */
void rd_proc_wait(RdProc *const *procs, size_t n, double max_wait);

/* Kills the whole process group with SIGKILL and reaps the leader. */
void rd_proc_kill(RdProc *p);

/* Runs ARGV (PATH lookup, no shell) in CWD and collects its stdout into OUT
 * and its stderr into ERR (either may be NULL to discard). *STATUS gets the
 * wait status. Returns 0, or -1 with errno set if it could not be run. */
int rd_proc_capture(char *const argv[], const char *cwd, RdBuf *out, RdBuf *err,
                    int *status);

#endif
