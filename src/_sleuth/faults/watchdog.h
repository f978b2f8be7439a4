/* watchdog.h — dump_later(): dump every thread's stack after a timeout.
 *
 * The watchdog is a plain pthread of its own, never a Python thread: it does
 * not hold or take the GIL, so it can report a program that is stuck holding
 * the GIL (a deadlock in C, an endless loop in an extension). It writes with
 * the same signal-safe dumper as the fatal handler, reading thread states
 * that keep running under it; every pointer is read through safemem.c, so a
 * frame freed while it reads is printed as invalid instead of crashing.
 */
#ifndef SLEUTH_FAULTS_WATCHDOG_H
#define SLEUTH_FAULTS_WATCHDOG_H

#include "compat.h"

/* Arm (or re-arm) the watchdog. GIL held. 0, or -1 with an exception. */
int Faults_watchdog_arm(double timeout, int repeat, int fd, int exit_process);
/* Disarm and join the watchdog thread if any (releases the GIL meanwhile).
 * Returns 1 if one was armed. */
int Faults_watchdog_cancel(void);
/* 1 while armed. */
int Faults_watchdog_armed(void);

#endif
