/* names.h — thread names that a signal handler can read.
 *
 * Python thread names (threading.Thread.name) live in Python dicts that a
 * signal handler must not touch. So the names are copied, with the GIL held,
 * into a fixed table of plain bytes whenever sleuth.faults is called (enable,
 * dump, dump_later, register) and the handler only reads that table. On 3.12+
 * a dict watcher on threading._active adds each thread as it starts. On 3.11,
 * threads started after the last copy have no Python name; for them the handler
 * falls back to the kernel's thread name (/proc/self/task/TID/comm, read with
 * open/read/close), shown only when it differs from the process's own name,
 * since CPython 3.11-3.13 never set it and every thread would say "python3".
 */
#ifndef SLEUTH_FAULTS_NAMES_H
#define SLEUTH_FAULTS_NAMES_H

#include <stddef.h>

#define FAULTS_NAME_MAX 64

/* Copy the names of threading's live threads (GIL held; never raises). */
void Faults_names_refresh(void);
/* enable(): import threading (so that, on 3.12+, the watcher follows every
 * thread started from now on), then refresh. GIL held; never raises. */
void Faults_names_follow_threads(void);
/* Stop following thread starts (module teardown, GIL held). */
void Faults_names_fini(void);
/* Signal-safe: the name for a thread, as NUL-terminated bytes in buf (size
 * FAULTS_NAME_MAX). Returns 1 if a name was found, 0 if not. */
int Faults_names_lookup(unsigned long ident, unsigned long native_id, char *buf);

#endif
