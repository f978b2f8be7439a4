/* watchdog.c — see watchdog.h. */
#include "compat.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "out.h"
#include "pyframes.h"
#include "safemem.h"
#include "watchdog.h"

/* All fields are protected by `lock`, except that the thread reads its
 * parameters once per round under the lock and then works on copies. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int cond_ready;
    int running;                /* a thread exists and must be joined */
    int cancel;                 /* set by cancel(); the thread exits */
    pthread_t thread;
    struct timespec period;
    int repeat;
    int fd;
    int exit_process;
    PyInterpreterState *interp;
    char header[64];            /* "Timeout (0:00:01.500000)!\n" */
} wd = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void
add_timespec(struct timespec *t, const struct timespec *d)
{
    t->tv_sec += d->tv_sec;
    t->tv_nsec += d->tv_nsec;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec += 1;
        t->tv_nsec -= 1000000000L;
    }
}

static void *
watchdog_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wd.lock);
    for (;;) {
        struct timespec deadline;
        int rc = 0;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        add_timespec(&deadline, &wd.period);
        while (!wd.cancel && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&wd.wake, &wd.lock, &deadline);
        if (wd.cancel)
            break;
        {
            /* The report is written with the lock held: cancel() then waits
             * for a report in progress instead of racing it. */
            Faults_out out;
            Faults_out_init(&out, wd.fd);
            Faults_out_puts(&out, wd.header);
            const char *err = Faults_dump_threads(&out, wd.interp, NULL, 0);
            if (err != NULL) {
                Faults_out_puts(&out, "<");
                Faults_out_puts(&out, err);
                Faults_out_puts(&out, ">\n");
            }
            Faults_out_flush(&out);
        }
        if (wd.exit_process)
            _exit(1);
        if (!wd.repeat)
            break;
    }
    pthread_mutex_unlock(&wd.lock);
    return NULL;
}

/* faulthandler's format: H:MM:SS, then .ffffff when there are microseconds. */
static void
format_header(double timeout)
{
    unsigned long long us = (unsigned long long)(timeout * 1e6 + 0.5);
    unsigned long long sec = us / 1000000ULL;
    unsigned long frac = (unsigned long)(us % 1000000ULL);
    if (frac)
        PyOS_snprintf(wd.header, sizeof(wd.header), "Timeout (%llu:%02llu:%02llu.%06lu)!\n",
                      sec / 3600, (sec / 60) % 60, sec % 60, frac);
    else
        PyOS_snprintf(wd.header, sizeof(wd.header), "Timeout (%llu:%02llu:%02llu)!\n",
                      sec / 3600, (sec / 60) % 60, sec % 60);
}

/* In a forked child the watchdog thread does not exist: forget it rather
 * than join a thread id that means nothing there. The parent keeps its own. */
static void
after_fork_child(void)
{
    pthread_mutex_init(&wd.lock, NULL);
    wd.running = 0;
    wd.cancel = 0;
}

int
Faults_watchdog_arm(double timeout, int repeat, int fd, int exit_process)
{
    pthread_attr_t attr;
    int rc;

    if (!(timeout > 0) || timeout > 1e9) {
        PyErr_SetString(PyExc_ValueError, "timeout must be greater than 0");
        return -1;
    }
    if (Faults_safemem_init() < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    (void)Faults_watchdog_cancel();
    if (!wd.cond_ready) {
        /* Timeouts are measured on the monotonic clock: changing the wall
         * clock must not fire (or delay) the watchdog. */
        pthread_condattr_t cattr;
        pthread_condattr_init(&cattr);
        pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
        pthread_cond_destroy(&wd.wake);
        pthread_cond_init(&wd.wake, &cattr);
        pthread_condattr_destroy(&cattr);
        wd.cond_ready = 1;
        (void)pthread_atfork(NULL, NULL, after_fork_child);
    }
    pthread_mutex_lock(&wd.lock);
    wd.period.tv_sec = (time_t)timeout;
    wd.period.tv_nsec = (long)((timeout - (double)wd.period.tv_sec) * 1e9);
    wd.repeat = repeat;
    wd.fd = fd;
    wd.exit_process = exit_process;
    wd.interp = PyInterpreterState_Get();
    wd.cancel = 0;
    format_header(timeout);
    pthread_mutex_unlock(&wd.lock);

    pthread_attr_init(&attr);
    /* Enough for the dumper's buffers; far less than a default thread. */
    pthread_attr_setstacksize(&attr, 256 * 1024);
    rc = pthread_create(&wd.thread, &attr, watchdog_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        PyErr_SetFromErrno(PyExc_RuntimeError);
        return -1;
    }
    wd.running = 1;
    return 0;
}

int
Faults_watchdog_cancel(void)
{
    if (!wd.running)
        return 0;
    pthread_mutex_lock(&wd.lock);
    wd.cancel = 1;
    pthread_cond_signal(&wd.wake);
    pthread_mutex_unlock(&wd.lock);
    /* The watchdog never needs the GIL, but other Python threads may be
     * waiting for it while this one waits for a report to finish. */
    Py_BEGIN_ALLOW_THREADS
    pthread_join(wd.thread, NULL);
    Py_END_ALLOW_THREADS
    wd.running = 0;
    return 1;
}

int
Faults_watchdog_armed(void)
{
    return wd.running;
}
