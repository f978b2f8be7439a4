/* usersig.c — see usersig.h. */
#define _GNU_SOURCE
#include "compat.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "fatal.h"
#include "out.h"
#include "pyframes.h"
#include "safemem.h"
#include "usersig.h"

typedef struct {
    volatile sig_atomic_t enabled;
    volatile sig_atomic_t fd;
    volatile sig_atomic_t all_threads;
    volatile sig_atomic_t chain;
    PyInterpreterState *interp;
    struct sigaction previous;
} user_signal;

static user_signal users[NSIG];
static atomic_flag busy = ATOMIC_FLAG_INIT;

static void
call_previous(const struct sigaction *prev, int signum, siginfo_t *info, void *uc)
{
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction != NULL)
            prev->sa_sigaction(signum, info, uc);
    }
    else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN
             && prev->sa_handler != NULL) {
        prev->sa_handler(signum);
    }
}

static void
user_handler(int signum, siginfo_t *info, void *ucontext)
{
    int saved_errno = errno;
    user_signal *u;

    if (signum <= 0 || signum >= NSIG)
        return;
    u = &users[signum];
    if (!u->enabled)
        goto done;
    if (!atomic_flag_test_and_set(&busy)) {
        Faults_out out;
        PyThreadState *current = Faults_this_tstate();
        Faults_out_init(&out, u->fd);
        if (u->all_threads) {
            const char *err = Faults_dump_threads(&out, u->interp, current, 0);
            if (err != NULL) {
                Faults_out_puts(&out, "<");
                Faults_out_puts(&out, err);
                Faults_out_puts(&out, ">\n");
            }
        }
        else if (current != NULL) {
            Faults_dump_stack(&out, current, 1);
        }
        else {
            Faults_out_puts(&out, "Stack (most recent call first):\n  <no Python frame>\n");
        }
        Faults_out_flush(&out);
        atomic_flag_clear(&busy);
    }
    if (u->chain) {
        /* A default action (e.g. terminate) is taken by putting the previous
         * disposition back and raising again, then re-installing ourselves. */
        if (!(u->previous.sa_flags & SA_SIGINFO) && u->previous.sa_handler == SIG_DFL) {
            struct sigaction ours;
            sigaction(signum, &u->previous, &ours);
            raise(signum);
            sigaction(signum, &ours, NULL);
        }
        else {
            call_previous(&u->previous, signum, info, ucontext);
        }
    }
done:
    errno = saved_errno;
}

int
Faults_usersig_check(int signum)
{
    if (signum < 1 || signum >= NSIG) {
        PyErr_SetString(PyExc_ValueError, "signal number out of range");
        return 0;
    }
    return 1;
}

int
Faults_usersig_register(int signum, int fd, int all_threads, int chain)
{
    user_signal *u;
    if (!Faults_usersig_check(signum))
        return -1;
    if (Faults_fatal_is_fatal_signal(signum)) {
        PyErr_Format(PyExc_RuntimeError,
                     "signal %d cannot be registered, use enable() instead", signum);
        return -1;
    }
    if (Faults_safemem_init() < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    u = &users[signum];
    u->fd = fd;
    u->all_threads = all_threads;
    u->chain = chain;
    u->interp = PyInterpreterState_Get();
    {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_sigaction = user_handler;
        sigemptyset(&action.sa_mask);
        /* SA_NODEFER when chaining so a default action raised from inside
         * the handler is delivered at once. SA_RESTART otherwise, so that
         * a dump does not make the program's system calls fail with EINTR.
         * Re-registering only updates the flags: `previous` stays the
         * disposition from before the first register(). */
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | (chain ? SA_NODEFER : SA_RESTART);
        if (sigaction(signum, &action, u->enabled ? NULL : &u->previous) < 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        u->enabled = 1;
    }
    return 0;
}

int
Faults_usersig_unregister(int signum)
{
    user_signal *u;
    if (!Faults_usersig_check(signum))
        return -1;
    u = &users[signum];
    if (!u->enabled)
        return 0;
    u->enabled = 0;
    if (sigaction(signum, &u->previous, NULL) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return 1;
}

void
Faults_usersig_unregister_all(void)
{
    for (int signum = 1; signum < NSIG; signum++) {
        if (users[signum].enabled) {
            users[signum].enabled = 0;
            (void)sigaction(signum, &users[signum].previous, NULL);
        }
    }
}
