/* dapwire.h — Debug Adapter Protocol framing on a file descriptor.
 *
 * A DAP message is a header block ("Content-Length: N\r\n", other fields
 * ignored, then an empty line "\r\n") followed by N bytes of JSON. Both
 * functions are plain C on a blocking fd and never touch Python: call them
 * with the GIL released (Py_BEGIN_ALLOW_THREADS).
 *
 * Reading is bounded: a header block longer than DAPWIRE_HEADER_MAX or a body
 * longer than DAPWIRE_BODY_MAX is an error, never an allocation. After a bad
 * header the reader resynchronises (it skips to the end of the header block,
 * and an oversized body is read and dropped), so one bad message costs one
 * error, and the caller can answer it and go on. Only a broken stream
 * (read error, end of input in the middle of a message, a body too large to
 * skip) is fatal.
 *
 * Writing takes the writer's mutex for the whole message, so threads (the
 * relay's two directions, the program's output) never interleave bytes.
 */
#ifndef SLEUTH_DAPWIRE_H
#define SLEUTH_DAPWIRE_H
#include <pthread.h>
#include <stddef.h>

#define DAPWIRE_HEADER_MAX  4096                    /* bytes of one header block */
#define DAPWIRE_BODY_MAX    (16 * 1024 * 1024)      /* bytes of one body */
#define DAPWIRE_SKIP_MAX    (1024 * 1024 * 1024)    /* larger bodies are not skipped: fatal */

typedef enum {
    DAPWIRE_MSG = 1,        /* *body (malloc'd, NUL-terminated) and *len are set */
    DAPWIRE_EOF = 0,        /* the peer closed between messages */
    DAPWIRE_BAD = -1,       /* a bad message, skipped: err says why; read on */
    DAPWIRE_FATAL = -2,     /* the stream is unusable: err says why; close it */
} DapWireStatus;

typedef struct {
    int fd;
    size_t start, end;                      /* unread bytes are buf[start:end] */
    char buf[DAPWIRE_HEADER_MAX + 4096];
} DapReader;

void DapReader_init(DapReader *r, int fd);

/* Read one message. On DAPWIRE_MSG the caller frees *body with free().
 * err (errsize bytes) receives a one-line reason for BAD and FATAL. */
DapWireStatus DapWire_read(DapReader *r, char **body, size_t *len, char *err, size_t errsize);

typedef struct {
    int fd;
    pthread_mutex_t mu;
} DapWriter;

int DapWriter_init(DapWriter *w, int fd);   /* 0, or -1 with errno */
void DapWriter_fini(DapWriter *w);

/* Write one framed message: 0, or -1 with errno (EPIPE when the peer is
 * gone; SIGPIPE is never raised). Retries EINTR and partial writes. */
int DapWire_write(DapWriter *w, const char *body, size_t len);
/* One framed message whose body is a then b (na + nb bytes), written with
 * one system call when the fd takes it: the same bytes as DapWire_write of
 * the two joined, without joining them. */
int DapWire_write2(DapWriter *w, const char *a, size_t na, const char *b, size_t nb);
/* The same with w->mu already held by the caller (to number messages and
 * write them in one critical section). */
int DapWire_write_unlocked(DapWriter *w, const char *body, size_t len);

#endif /* SLEUTH_DAPWIRE_H */
