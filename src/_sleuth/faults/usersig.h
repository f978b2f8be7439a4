/* usersig.h — register(): dump the stacks when a chosen signal arrives.
 *
 * Same signal-safety contract as fatal.h (write(2) only, safe reads, bounded
 * output, errno kept, alternate stack, no re-entry: a second signal arriving
 * while a report is being written is not reported again). The process goes on
 * afterwards; with chain=True the previous handler is called too.
 */
#ifndef SLEUTH_FAULTS_USERSIG_H
#define SLEUTH_FAULTS_USERSIG_H

#include "compat.h"

/* GIL held. 0, or -1 with an exception. */
int Faults_usersig_register(int signum, int fd, int all_threads, int chain);
/* GIL held. 1 if it was registered, 0 if not, -1 with an exception. */
int Faults_usersig_unregister(int signum);
/* Restore every registered signal (module teardown; never raises). */
void Faults_usersig_unregister_all(void);
/* 1 if signum is in range for register()/unregister(); else sets ValueError. */
int Faults_usersig_check(int signum);

#endif
