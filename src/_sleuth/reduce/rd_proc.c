/* rd_proc.c — spawn, wait with deadlines, kill process groups (rd_proc.h).
 *
 * Why process groups: a test is usually a shell running a Python script that
 * may start more processes. Killing only the shell on a timeout would leave
 * the rest running and holding the per-job folder, so every test runs in its
 * own group and a timeout or Ctrl-C kills the group.
 *
 * Why pidfds: waiting on N children with one poll(2) and a timeout is exactly
 * what a pidfd gives, without a SIGCHLD handler that would fight with the
 * host Python process. When pidfd_open is unavailable we fall back to
 * polling waitpid(WNOHANG) every millisecond.
 */
#define _GNU_SOURCE   /* posix_spawn_file_actions_addchdir_np, pipe2, nftw */
#include "rd_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

volatile sig_atomic_t rd_interrupted = 0;

static void
latch_signal(int signo)
{
    /* Async-signal-safe: only stores into a sig_atomic_t. */
    rd_interrupted = signo;
}

void
rd_signals_install(RdSigSave *save)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = latch_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: poll(2) must return EINTR so the wait loop notices. */
    sa.sa_flags = 0;
    rd_interrupted = 0;
    static const int sigs[RD_NCAUGHT] = RD_CAUGHT_SIGNALS;
    for (int i = 0; i < RD_NCAUGHT; i++)
        sigaction(sigs[i], &sa, &save->old[i]);
}

void
rd_signals_restore(const RdSigSave *save)
{
    static const int sigs[RD_NCAUGHT] = RD_CAUGHT_SIGNALS;
    for (int i = 0; i < RD_NCAUGHT; i++)
        sigaction(sigs[i], &save->old[i], NULL);
}

static int
open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        return (int)fd;
    }
#else
    (void)pid;
#endif
    return -1;
}

/* Signals the child restores: Python ignores SIGPIPE (and an ignored
 * disposition survives exec), and tests must see Ctrl-C/TERM normally. */
static int
init_attr(posix_spawnattr_t *attr, int new_group)
{
    sigset_t empty, deflt;
    sigemptyset(&empty);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGPIPE);
    sigaddset(&deflt, SIGINT);
    sigaddset(&deflt, SIGTERM);
    sigaddset(&deflt, SIGQUIT);
    sigaddset(&deflt, SIGXFSZ);
    sigaddset(&deflt, SIGCHLD);
    if (posix_spawnattr_init(attr) != 0)
        return -1;
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_group)
        flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setflags(attr, flags);
    posix_spawnattr_setsigmask(attr, &empty);
    posix_spawnattr_setsigdefault(attr, &deflt);
    if (new_group)
        posix_spawnattr_setpgroup(attr, 0);
    return 0;
}

int
rd_proc_spawn_shell(RdProc *p, const char *cmd, const char *cwd,
                    const char *out_path, double timeout)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc;
    char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};

    memset(p, 0, sizeof *p);
    p->pidfd = -1;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    if (init_attr(&attr, 1) < 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    rc = posix_spawn(&p->pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        p->pid = 0;
        errno = rc;
        return -1;
    }
    p->pidfd = open_pidfd(p->pid);
    p->deadline = timeout > 0 ? rd_now() + timeout : 0;
    return 0;
}

static void
reap(RdProc *p, int options)
{
    int status;
    pid_t r;
    do {
        r = waitpid(p->pid, &status, options);
    } while (r < 0 && errno == EINTR);
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->status = r == p->pid ? status : 0;
        p->done = 1;
        if (p->pidfd >= 0)
            close(p->pidfd);
        p->pidfd = -1;
        /* The leader is gone; make sure nothing it started stays behind. */
        kill(-p->pid, SIGKILL);
        p->pid = 0;
    }
}

void
rd_proc_kill(RdProc *p)
{
    if (p->done || p->pid <= 0)
        return;
    kill(-p->pid, SIGKILL);
    kill(p->pid, SIGKILL);
    reap(p, 0);
}

void
rd_proc_wait(RdProc *const *procs, size_t n, double max_wait)
{
    struct pollfd fds[64];
    double start = rd_now();

    for (;;) {
        double now = rd_now();
        double wait = max_wait < 0 ? 0.1 : max_wait - (now - start);
        size_t nfds = 0;
        int have_fallback = 0, any_done = 0, live = 0;

        for (size_t i = 0; i < n; i++) {
            RdProc *p = procs[i];
            if (!p || p->done || p->pid <= 0)
                continue;
            reap(p, WNOHANG);
            if (p->done) {
                any_done = 1;
                continue;
            }
            if (p->deadline > 0 && now >= p->deadline) {
                rd_proc_kill(p);
                p->timed_out = 1;
                any_done = 1;
                continue;
            }
            live++;
            if (p->deadline > 0 && p->deadline - now < wait)
                wait = p->deadline - now;
            if (p->pidfd >= 0 && nfds < 64) {
                fds[nfds].fd = p->pidfd;
                fds[nfds].events = POLLIN;
                fds[nfds].revents = 0;
                nfds++;
            }
            else
                have_fallback = 1;
        }
        if (any_done || rd_interrupted || !live)
            return;
        if (max_wait >= 0 && now - start >= max_wait)
            return;
        /* Wake at least every 100 ms: a signal may have been delivered to
         * another thread of the host process. */
        if (wait > 0.1)
            wait = 0.1;
        if (have_fallback && wait > 0.001)
            wait = 0.001;
        if (wait < 0)
            wait = 0;
        int ms = (int)(wait * 1000.0) + 1;
        if (nfds)
            poll(fds, nfds, ms);
        else {
            struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

/* ---- capture (used for git) ---------------------------------------------- */

int
rd_proc_capture(char *const argv[], const char *cwd, RdBuf *out, RdBuf *err,
                int *status)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    pid_t pid;
    int rc = -1, saved;

    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
        goto done;
    if (posix_spawn_file_actions_init(&fa) != 0)
        goto done;
    /* Its own group: a Ctrl-C on the terminal must not kill git halfway
     * through a checkout; we finish the command and then stop cleanly. */
    if (init_attr(&attr, 1) < 0) {
        posix_spawn_file_actions_destroy(&fa);
        goto done;
    }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd);
    int sr = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (sr != 0) {
        errno = sr;
        goto done;
    }
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;
    {
        struct pollfd fds[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
        RdBuf *dst[2] = {out, err};
        int open_fds = 2;
        char chunk[8192];
        while (open_fds) {
            int pr = poll(fds, 2, -1);
            if (pr < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            for (int i = 0; i < 2; i++) {
                if (fds[i].fd < 0 || !fds[i].revents)
                    continue;
                ssize_t r = read(fds[i].fd, chunk, sizeof chunk);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0) {
                    fds[i].fd = -1;
                    open_fds--;
                    continue;
                }
                if (dst[i] && rd_buf_append(dst[i], chunk, (size_t)r) < 0) {
                    fds[i].fd = -1;
                    open_fds--;
                }
            }
        }
    }
    {
        int st = 0;
        pid_t r;
        do {
            r = waitpid(pid, &st, 0);
        } while (r < 0 && errno == EINTR);
        *status = st;
    }
    rc = 0;
done:
    saved = errno;
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    if (out)
        rd_buf_cstr(out);
    if (err)
        rd_buf_cstr(err);
    errno = saved;
    return rc;
}
