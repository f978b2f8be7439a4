/* native.h — the crashing thread's native (C) frames, from a signal handler.
 *
 * Unwinding: libgcc's _Unwind_Backtrace, which walks the DWARF call-frame
 * information (.eh_frame) that every shared object on Linux carries, so it
 * works through CPython and extensions built without frame pointers, and it
 * steps through the kernel's signal frame into the code that faulted. It is
 * not async-signal-safe by any standard, so the choices that make it safe
 * enough are: Faults_native_init() runs it once at enable() time, so libgcc's
 * lazy set-up (and any allocation in it) happens then, not in the handler;
 * with glibc >= 2.35 and libgcc >= 12 (checked by the tests on this system)
 * finding a frame's unwind table goes through _dl_find_object, which takes no
 * lock and allocates nothing; frames are collected into a fixed array.
 *
 * Symbols: dladdr(), which only reads the loader's tables; it takes the
 * loader lock recursively, so a crash inside the dynamic loader in the same
 * thread does not deadlock. It names exported (dynamic) symbols only; other
 * frames print as "??" with the offset inside their module, which is what
 * addr2line -e MODULE takes.
 */
#ifndef SLEUTH_FAULTS_NATIVE_H
#define SLEUTH_FAULTS_NATIVE_H

#include "out.h"

#define FAULTS_MAX_NATIVE 64

/* Warm the unwinder up (GIL held, not in a handler). */
void Faults_native_init(void);
/* "Current thread's C stack trace (most recent call first):" (CPython 3.14's
 * header and line form), then the calling thread's native frames, starting at
 * the frame that was interrupted (`ucontext`, the third argument of an
 * SA_SIGINFO handler, or NULL to start at the caller). */
void Faults_dump_native(Faults_out *o, void *ucontext);

/* Whether the calling thread (in a signal handler, `ucontext` its third
 * argument) is inside CPython's fatal-error path: Py_FatalError() and the
 * like, which have written their own report to stderr and then called
 * abort(). Needs Faults_native_init() first; 0 when unsure. */
int Faults_native_in_fatal_error(void *ucontext);

#endif
