/* fatal.h — the handler for fatal signals (SIGSEGV, SIGFPE, SIGABRT, SIGBUS, SIGILL).
 *
 * The signal-safety contract, kept by fatal.c and everything it calls:
 *  - output with write(2) only (out.c), into a buffer on the signal stack;
 *  - no allocation, no locks of our own, no Python API that touches objects;
 *    all interpreter memory is read through safemem.c, so freed or invalid
 *    frames are reported as such rather than followed;
 *  - errno saved and restored;
 *  - an alternate signal stack, so a stack overflow is reported too;
 *  - a re-entry guard: the first thread to crash writes the report; a second
 *    crashing thread waits for it (up to 5 s); a fault inside the report
 *    itself ends it and falls through to the previous handlers;
 *  - bounded frame and thread counts;
 *  - afterwards the previous handler is restored and the signal raised again,
 *    so core dumps, exit statuses and other handlers see the original crash.
 *
 * The C globals here hold plain data only (fd, flags, saved sigactions); the
 * file object that owns the fd is kept in the module state (module.c).
 */
#ifndef SLEUTH_FAULTS_FATAL_H
#define SLEUTH_FAULTS_FATAL_H

#include "compat.h"

/* Install (or update) the handlers. GIL held. 0, or -1 with an exception. */
int Faults_fatal_enable(int fd, int all_threads, int native);
/* Restore the previous handlers. GIL held. Returns 1 if it was enabled. */
int Faults_fatal_disable(void);
int Faults_fatal_is_enabled(void);
/* Called in a thread that threading just registered / is unregistering
 * (3.12+, from names.c's dict watcher; GIL held): give it an alternate signal
 * stack while enabled / take it back. */
void Faults_fatal_thread_started(void);
void Faults_fatal_thread_ending(void);
/* 1 if signum is one of the fatal signals handled here. */
int Faults_fatal_is_fatal_signal(int signum);

#endif
