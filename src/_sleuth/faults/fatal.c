/* fatal.c — see fatal.h. */
#define _GNU_SOURCE
#include "faults_compat.h"      /* first: it sets Py_BUILD_CORE */

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "extmods.h"
#include "fatal.h"
#include "native.h"
#include "out.h"
#include "pyframes.h"
#include "safemem.h"

typedef struct {
    int signum;
    const char *name;           /* as faulthandler names them */
    int installed;
    struct sigaction previous;
} fatal_signal;

static fatal_signal signals[] = {
    {SIGBUS, "Bus error", 0, {{0}}},
    {SIGILL, "Illegal instruction", 0, {{0}}},
    {SIGFPE, FAULTS_SIGFPE_NAME, 0, {{0}}},
    {SIGABRT, "Aborted", 0, {{0}}},
    /* SIGSEGV last: faulthandler's order, so a fault while (un)installing
     * the others is still reported. */
    {SIGSEGV, "Segmentation fault", 0, {{0}}},
};
#define NSIGNALS ((int)(sizeof(signals) / sizeof(signals[0])))

/* Plain data read by the handler; written only with the GIL held while the
 * handlers are installed, as whole ints, so a handler sees old or new. */
static struct {
    volatile sig_atomic_t enabled;
    volatile sig_atomic_t fd;
    volatile sig_atomic_t all_threads;
    volatile sig_atomic_t native;
    PyInterpreterState *interp;
} config;

/* The report being written; only the thread that holds `reporting` uses it
 * (static so that a fault inside the report can still flush it). */
static Faults_out fatal_out;

/* The thread id (gettid) of the thread writing a report, or 0. */
static atomic_long reporting = 0;

/* The alternate signal stack of the thread that called enable(). */
static void *altstack_mem = NULL;
static size_t altstack_size = 0;

static long
this_tid(void)
{
    return (long)syscall(SYS_gettid);
}

int
Faults_fatal_is_fatal_signal(int signum)
{
    for (int i = 0; i < NSIGNALS; i++)
        if (signals[i].signum == signum)
            return 1;
    return 0;
}

int
Faults_fatal_is_enabled(void)
{
    return config.enabled != 0;
}

static void
restore_previous(fatal_signal *s)
{
    if (s->installed) {
        (void)sigaction(s->signum, &s->previous, NULL);
        s->installed = 0;
    }
}

static void
fatal_handler(int signum, siginfo_t *info, void *ucontext)
{
    int saved_errno = errno;
    fatal_signal *s = NULL;
    long me = this_tid(), expected = 0;
    Faults_out *out = &fatal_out;

    (void)info;
    for (int i = 0; i < NSIGNALS; i++)
        if (signals[i].signum == signum)
            s = &signals[i];
    if (s == NULL || !s->installed || !config.enabled) {
        /* Raced with disable(): act as if we were never installed. */
        if (s != NULL)
            restore_previous(s);
        else
            signal(signum, SIG_DFL);
        goto reraise;
    }

    if (!atomic_compare_exchange_strong(&reporting, &expected, me)) {
        if (expected == me) {
            /* A fault inside our own report: stop reporting, let the
             * previous handlers have the signals. */
            Faults_out_flush(&fatal_out);
            Faults_out_puts(&fatal_out, "\n<sleuth: fault while writing the report>\n");
            Faults_out_flush(&fatal_out);
            for (int i = 0; i < NSIGNALS; i++)
                restore_previous(&signals[i]);
            goto reraise;
        }
        /* Another thread is writing its report: let it finish (it ends the
         * process), but never wait forever. */
        for (int i = 0; i < 500 && atomic_load(&reporting) != 0; i++) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        restore_previous(s);
        goto reraise;
    }

    /* Our handler stays installed while we write: another thread crashing
     * meanwhile waits above instead of killing the process mid-report, and
     * a fault inside the report re-enters here as `expected == me`, which
     * hands the signal to the previous handler. */
    Faults_out_init(out, config.fd);
    {
        PyThreadState *current = Faults_this_tstate();
        /* CPython's Py_FatalError() writes its report (the message, then the
         * stacks as faulthandler writes them) to stderr, switches its own
         * faulthandler off so that abort() does not write a second one, and
         * aborts. On that abort, with the report going to stderr too, sleuth
         * adds only its own sections after CPython's report, as after its
         * own: one report, as with faulthandler. */
        int after_cpython = signum == SIGABRT && config.fd == STDERR_FILENO
                            && Faults_native_in_fatal_error(ucontext);
        if (after_cpython)
            goto sleuth_sections;
        Faults_out_puts(out, "Fatal Python error: ");
        Faults_out_puts(out, s->name);
        Faults_out_puts(out, "\n\n");
        if (config.all_threads) {
            const char *err = Faults_dump_threads(out, config.interp, current, 1);
            if (err != NULL) {
                Faults_out_puts(out, "<");
                Faults_out_puts(out, err);
                Faults_out_puts(out, ">\n");
            }
        }
        else if (current != NULL) {
            Faults_dump_stack(out, current, 1);
        }
        else {
            Faults_out_puts(out, "Stack (most recent call first):\n  <no Python frame>\n");
        }
        Faults_dump_ext_modules(out, config.interp);
        /* What faulthandler writes ends here; sleuth's sections follow. */
sleuth_sections:
        if (config.all_threads)
            Faults_dump_thread_names(out, config.interp, current);
    }
    if (config.native) {
        Faults_out_puts(out, "\n");
        Faults_dump_native(out, ucontext);
    }
    Faults_out_flush(out);
    restore_previous(s);
    atomic_store(&reporting, 0);

reraise:
    errno = saved_errno;
    /* With SA_NODEFER the signal is delivered now, to the previous handler;
     * for a real fault, returning would also re-run the faulting
     * instruction, but a signal sent with kill() needs the raise. */
    raise(signum);
}

/* 3.12+: threads started by threading get an alternate stack of their own
 * when they register in threading._active (names.c hears it in the new
 * thread), so a stack overflow in a thread is reported too; it is taken back
 * when the thread leaves threading._active. Never touched by the handler. */
#define THREAD_ALTSTACK_SIZE (256 * 1024)
static __thread void *thread_altstack = NULL;

/* Stacks of ended threads, kept for the next threads: mmap/munmap per
 * thread cost ~60 us of thread start-up (munmap flushes the TLB of every
 * core running the process). Both ends run with the GIL held, which is
 * what serialises the pool. */
#define ALTSTACK_POOL 32
static void *altstack_pool[ALTSTACK_POOL];
static int altstack_pool_len = 0;

void
Faults_fatal_thread_started(void)
{
    stack_t current, ours;
    void *mem;
    if (!config.enabled || thread_altstack != NULL)
        return;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE))
        return;         /* the thread has one already */
    if (altstack_pool_len > 0) {
        mem = altstack_pool[--altstack_pool_len];
    }
    else {
        mem = mmap(NULL, THREAD_ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (mem == MAP_FAILED)
            return;     /* no report on overflow in this thread; nothing worse */
    }
    ours.ss_sp = mem;
    ours.ss_size = THREAD_ALTSTACK_SIZE;
    ours.ss_flags = 0;
    if (sigaltstack(&ours, NULL) < 0) {
        munmap(mem, THREAD_ALTSTACK_SIZE);
        return;
    }
    thread_altstack = mem;
}

void
Faults_fatal_thread_ending(void)
{
    stack_t current, off;
    if (thread_altstack == NULL)
        return;
    if (sigaltstack(NULL, &current) == 0 && current.ss_sp == thread_altstack
            && !(current.ss_flags & SS_ONSTACK)) {
        memset(&off, 0, sizeof(off));
        off.ss_flags = SS_DISABLE;
        if (sigaltstack(&off, NULL) == 0) {
            if (altstack_pool_len < ALTSTACK_POOL)
                altstack_pool[altstack_pool_len++] = thread_altstack;
            else
                munmap(thread_altstack, THREAD_ALTSTACK_SIZE);
            thread_altstack = NULL;
        }
    }
}

static int
install_altstack(void)
{
    stack_t current, ours;
    if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE)
            && current.ss_size >= 64 * 1024)
        return 0;       /* this thread has a big enough one already (ours or not) */
    if (altstack_mem == NULL) {
        /* The unwinder and dladdr need more than SIGSTKSZ. */
        altstack_size = 256 * 1024;
        altstack_mem = mmap(NULL, altstack_size, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (altstack_mem == MAP_FAILED) {
            altstack_mem = NULL;
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
    }
    ours.ss_sp = altstack_mem;
    ours.ss_size = altstack_size;
    ours.ss_flags = 0;
    if (sigaltstack(&ours, NULL) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    return 0;
}

int
Faults_fatal_enable(int fd, int all_threads, int native)
{
    if (Faults_safemem_init() < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    /* Always: the SIGABRT of CPython's own fatal errors is recognised by
     * its C stack (Faults_native_in_fatal_error). */
    Faults_native_init();
    config.fd = fd;
    config.all_threads = all_threads;
    config.native = native;
    config.interp = PyInterpreterState_Get();
    if (config.enabled)
        return 0;
    if (install_altstack() < 0)
        return -1;
    for (int i = 0; i < NSIGNALS; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_sigaction = fatal_handler;
        sigemptyset(&action.sa_mask);
        /* SA_NODEFER: the raise() at the end reaches the previous handler
         * at once. SA_ONSTACK: run on the alternate stack. */
        action.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
        if (sigaction(signals[i].signum, &action, &signals[i].previous) < 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            for (int j = 0; j < i; j++)
                restore_previous(&signals[j]);
            return -1;
        }
        signals[i].installed = 1;
    }
    config.enabled = 1;
    return 0;
}

int
Faults_fatal_disable(void)
{
    if (!config.enabled)
        return 0;
    config.enabled = 0;
    for (int i = 0; i < NSIGNALS; i++)
        restore_previous(&signals[i]);
    /* The alternate stack stays: another handler may rely on it being there
     * now, and it is one mapping, reused if enable() is called again. */
    return 1;
}
