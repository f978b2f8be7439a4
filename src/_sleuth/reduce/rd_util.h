/* rd_util.h — small plain-C helpers shared by the reducer and bisect:
 * growable byte buffers, content hashing, clocks, whole-file I/O, shell
 * quoting and message printing.
 *
 * Nothing here touches the Python C API: the reducer core runs with the GIL
 * released.
 */
#ifndef SLEUTH_RD_UTIL_H
#define SLEUTH_RD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    unsigned char *data;
    size_t len;
    size_t cap;
} RdBuf;

/* All return 0 on success, -1 on out of memory (errno = ENOMEM). */
int rd_buf_reserve(RdBuf *b, size_t extra);
int rd_buf_append(RdBuf *b, const void *p, size_t n);
int rd_buf_append_str(RdBuf *b, const char *s);
int rd_buf_set(RdBuf *b, const void *p, size_t n);
void rd_buf_free(RdBuf *b);
/* NUL-terminates without counting the NUL in len. */
int rd_buf_cstr(RdBuf *b);

/* 128-bit content key: two independent 64-bit hashes plus the length make a
 * collision between two candidates practically impossible. */
typedef struct {
    uint64_t h1, h2;
    uint64_t len;
} RdKey;

RdKey rd_key(const unsigned char *p, size_t n);
int rd_key_eq(RdKey a, RdKey b);

double rd_now(void);   /* monotonic seconds */

/* Reads a whole file. Returns 0, or -1 with errno set. */
int rd_read_file(const char *path, RdBuf *out);
/* Its last MAX bytes at most (the whole of a shorter file). */
int rd_read_file_tail(const char *path, size_t max, RdBuf *out);
/* Writes a whole file (create/truncate, mode 0644 before umask). */
int rd_write_file(const char *path, const unsigned char *p, size_t n);
/* Writes via a temporary file in the same folder and rename(2), so that a
 * reader (or a Ctrl-C) never sees a half-written OUTPUT. */
int rd_write_file_atomic(const char *path, const unsigned char *p, size_t n);

/* Appends S to B quoted for /bin/sh ('...' with embedded ' escaped). */
int rd_shell_quote(RdBuf *b, const char *s);
/* CMD with every "{}" replaced by the quoted ARG, or ARG appended after a
 * space when CMD has no "{}". Returns a malloc'ed string or NULL. */
char *rd_subst_command(const char *cmd, const char *arg);

/* Messages on stderr, prefixed with the program name. */
void rd_msg(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Human-readable size ("1234 bytes"). */
const char *rd_plural(size_t n, const char *one, const char *many);

#endif
