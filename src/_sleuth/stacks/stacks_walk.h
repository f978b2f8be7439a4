/* stacks_walk.h — a snapshot of another CPython process's thread stacks.
 *
 * stacks_walk_collect() fills a stacks_snapshot from the target's memory:
 * interpreters -> thread states -> _PyInterpreterFrame chains. It never
 * calls into Python and never trusts what it reads: every pointer is read
 * with a bounded, checked read, every object's type is compared with the
 * runtime's type objects before its fields are used, and every count is
 * capped. What could not be read becomes a note on the thread, not a crash.
 */
#ifndef SLEUTH_STACKS_WALK_H
#define SLEUTH_STACKS_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "stacks_elf.h"
#include "stacks_layout.h"
#include "stacks_mem.h"
#include "stacks_native.h"

#define STACKS_MAX_STR 1024      /* characters kept of a file or function name */
#define STACKS_MAX_LOCALS 64     /* locals shown per frame */
#define STACKS_MAX_NOTES 8

typedef struct {
    uint64_t addr;              /* remote PyCodeObject *, 0 = free slot */
    int ok;                     /* 1 when the fields below were read */
    char *filename, *name, *qualname;  /* UTF-8, owned */
    unsigned char *linetable;
    size_t linetable_len;
    int firstlineno, firsttraceable, nlocalsplus;
    int nnames;                 /* names read (<= STACKS_MAX_LOCALS cap applied later) */
    char **names;               /* localsplus names, UTF-8 */
    unsigned char *kinds;       /* localsplus kinds */
} stacks_code;

typedef struct {
    char *name;
    char *repr;                 /* NULL when redacted or unbound */
    char *hidden;               /* a redacted value's text, only to hide its
                                   copies (stacks_walk_collect); never shown */
    int redacted;
} stacks_local;

typedef struct {
    const stacks_code *code;    /* borrowed from the snapshot's cache */
    int line;                   /* -1 when the location table has none */
    stacks_local *locals;
    int nlocals;
    int entry;                  /* the outermost Python frame of one run of the
                                   interpreter loop (_PyEval_EvalFrameDefault) */
} stacks_frame;

typedef struct {
    uint64_t tstate;
    uint64_t thread_id;         /* pthread_t */
    long native_id;             /* kernel TID, 0 unknown */
    long interp_id;
    char *name;                 /* threading name or /proc comm, UTF-8, owned; may be NULL */
    int name_from_threading;
    int has_gil;
    char state;                 /* /proc/PID/task/TID/stat state letter, '?' unknown */
    stacks_frame *frames;
    size_t nframes, cap;
    size_t frames_cut;          /* frames beyond max_depth, not shown */
    int cut_count_exact;        /* 0 when counting the cut frames stopped early */
    const char *note;           /* static text: why the stack ended early */
    stacks_native_frame *native; /* --native: innermost first */
    int nnative;                /* -1: registers could not be read */
} stacks_thread;

typedef struct stacks_snapshot {
    pid_t pid;
    stacks_mem mem;
    stacks_syms syms;
    stacks_layout L;
    unsigned long hexversion;
    int max_depth, max_threads, want_locals, want_native, paused;
    stacks_native *native_cache;
    stacks_thread *threads;
    size_t nthreads, threads_cap, threads_cut;
    stacks_code **codes;        /* open-addressing cache keyed by address */
    size_t ncodes, codes_cap;
    const char *notes[STACKS_MAX_NOTES];
    int nnotes;
    int changed;                /* some stack changed while it was read */
    uint64_t interps[256];      /* interpreter states, main (oldest) first */
    int ninterps;
    char cmdline[256];
    /* Kernel thread states taken before --pause stopped the threads (while
     * stopped every thread reads 't'). */
    struct { long tid; char state; } *prestates;
    size_t nprestates;
} stacks_snapshot;

/* Error kinds returned by stacks_walk_open and stacks_walk_collect. */
enum {
    STACKS_OK = 0,
    STACKS_ERR_NO_PROCESS,
    STACKS_ERR_DENIED,
    STACKS_ERR_NOT_PYTHON,
    STACKS_ERR_VERSION,
    STACKS_ERR_READ,
    STACKS_ERR_NOMEM,
};

/* Locate the runtime and load the layout. On error, errmsg says what. */
int stacks_walk_open(stacks_snapshot *s, pid_t pid, char *errmsg, size_t errlen);
/* Read every thread's stack. */
int stacks_walk_collect(stacks_snapshot *s, char *errmsg, size_t errlen);
void stacks_walk_free(stacks_snapshot *s);
/* Name the collected threads (stacks_names.c): threading names, else comm. */
void stacks_names_fill(stacks_snapshot *s);
/* Remember every thread's run state now (call before pausing). */
void stacks_walk_read_states(stacks_snapshot *s);
/* Read a remote str (bounded to maxchars) into a new UTF-8 string; NULL if
 * it is not a readable compact str. *truncated set when cut. */
char *stacks_walk_read_str(stacks_snapshot *s, uint64_t addr, size_t maxchars, int *truncated);
/* The line of byte offset `addr` in `code`, per the 3.11+ location table. */
int stacks_walk_addr2line(const stacks_code *code, long addr);
void stacks_walk_add_note(stacks_snapshot *s, const char *note);

#endif
