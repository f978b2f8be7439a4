/* dapwire.c — DAP Content-Length framing (see dapwire.h). No Python here. */
#include "dapwire.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

void
DapReader_init(DapReader *r, int fd)
{
    r->fd = fd;
    r->start = r->end = 0;
}

/* Read more bytes into the buffer (compacting it first). 1 read, 0 EOF, -1 error. */
static int
fill(DapReader *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->end >= sizeof r->buf)
        return 1;                       /* full: the caller decides */
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, sizeof r->buf - r->end);
        if (n > 0) {
            r->end += (size_t)n;
            return 1;
        }
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* Offset of "\r\n\r\n" in the unread bytes, or -1. */
static long
find_blank_line(const DapReader *r)
{
    const char *s = r->buf + r->start;
    size_t n = r->end - r->start;
    for (size_t i = 0; i + 3 < n; i++)
        if (s[i] == '\r' && s[i + 1] == '\n' && s[i + 2] == '\r' && s[i + 3] == '\n')
            return (long)i;
    return -1;
}

/* The body length from a header block (not NUL-terminated): the last
 * "Content-Length:" field, matched without regard to case. Searching the
 * whole block rather than only line starts lets the reader recover when the
 * previous body had a wrong length and its tail precedes this header.
 * 1 found (*out set), 0 absent, -1 present but not a number (err set). */
static int
content_length(const char *h, size_t n, long long *out, char *err, size_t errsize)
{
    static const char key[] = "content-length:";
    const size_t klen = sizeof key - 1;
    const char *found = NULL;

    for (size_t i = 0; i + klen <= n; i++)
        if (strncasecmp(h + i, key, klen) == 0)
            found = h + i;
    if (!found)
        return 0;
    const char *p = found + klen, *end = h + n;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    long long v = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 15) {
        v = v * 10 + (*p - '0');
        p++;
        digits++;
    }
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (!digits || (p < end && *p != '\r')) {
        snprintf(err, errsize, "Content-Length is not a number");
        return -1;
    }
    *out = v;
    return 1;
}

/* Drop `n` bytes of input (an oversized body). 0, or -1 on EOF/error. */
static int
skip_bytes(DapReader *r, long long n)
{
    while (n > 0) {
        size_t have = r->end - r->start;
        if (have == 0) {
            r->start = r->end = 0;
            if (fill(r) <= 0)
                return -1;
            continue;
        }
        size_t take = (long long)have < n ? have : (size_t)n;
        r->start += take;
        n -= (long long)take;
    }
    return 0;
}

DapWireStatus
DapWire_read(DapReader *r, char **body, size_t *len, char *err, size_t errsize)
{
    long blank;

    *body = NULL;
    *len = 0;
    err[0] = '\0';
    /* 1. The header block. */
    while ((blank = find_blank_line(r)) < 0) {
        if (r->end - r->start >= DAPWIRE_HEADER_MAX) {
            /* Too long: drop bytes up to the next blank line, keeping the
             * last three in case the terminator straddles two reads. */
            for (;;) {
                if ((blank = find_blank_line(r)) >= 0) {
                    r->start += (size_t)blank + 4;
                    snprintf(err, errsize, "header longer than %d bytes", DAPWIRE_HEADER_MAX);
                    return DAPWIRE_BAD;
                }
                if (r->end - r->start > 3)
                    r->start = r->end - 3;
                int f = fill(r);
                if (f <= 0) {
                    snprintf(err, errsize, "header longer than %d bytes, then %s",
                             DAPWIRE_HEADER_MAX, f == 0 ? "end of input" : strerror(errno));
                    return DAPWIRE_FATAL;
                }
            }
        }
        int f = fill(r);
        if (f < 0) {
            snprintf(err, errsize, "read failed: %s", strerror(errno));
            return DAPWIRE_FATAL;
        }
        if (f == 0) {
            if (r->end == r->start)
                return DAPWIRE_EOF;
            snprintf(err, errsize, "end of input inside a header (%zu bytes)", r->end - r->start);
            return DAPWIRE_FATAL;
        }
    }
    if (blank + 4 > DAPWIRE_HEADER_MAX) {
        r->start += (size_t)blank + 4;
        snprintf(err, errsize, "header longer than %d bytes", DAPWIRE_HEADER_MAX);
        return DAPWIRE_BAD;
    }
    long long n = 0;
    int cl = content_length(r->buf + r->start, (size_t)blank, &n, err, errsize);
    r->start += (size_t)blank + 4;
    if (cl == 0) {
        snprintf(err, errsize, "header without Content-Length");
        return DAPWIRE_BAD;
    }
    if (cl < 0)
        return DAPWIRE_BAD;
    if (n > DAPWIRE_BODY_MAX) {
        if (n > DAPWIRE_SKIP_MAX || skip_bytes(r, n) < 0) {
            snprintf(err, errsize, "body of %lld bytes is over the %d-byte limit", n,
                     DAPWIRE_BODY_MAX);
            return DAPWIRE_FATAL;
        }
        snprintf(err, errsize, "body of %lld bytes is over the %d-byte limit (skipped)", n,
                 DAPWIRE_BODY_MAX);
        return DAPWIRE_BAD;
    }
    /* 2. The body: buffered bytes first, then straight from the fd. */
    char *b = malloc((size_t)n + 1);
    if (!b) {
        snprintf(err, errsize, "out of memory for a %lld-byte body", n);
        return skip_bytes(r, n) < 0 ? DAPWIRE_FATAL : DAPWIRE_BAD;
    }
    size_t got = r->end - r->start;
    if (got > (size_t)n)
        got = (size_t)n;
    memcpy(b, r->buf + r->start, got);
    r->start += got;
    while (got < (size_t)n) {
        ssize_t k = read(r->fd, b + got, (size_t)n - got);
        if (k > 0) {
            got += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        snprintf(err, errsize, "%s after %zu of %lld body bytes",
                 k == 0 ? "end of input" : strerror(errno), got, n);
        free(b);
        return DAPWIRE_FATAL;
    }
    b[n] = '\0';
    *body = b;
    *len = (size_t)n;
    return DAPWIRE_MSG;
}

int
DapWriter_init(DapWriter *w, int fd)
{
    w->fd = fd;
    int rc = pthread_mutex_init(&w->mu, NULL);
    if (rc) {
        errno = rc;
        return -1;
    }
    return 0;
}

void
DapWriter_fini(DapWriter *w)
{
    pthread_mutex_destroy(&w->mu);
}

/* Write all of s: send() with MSG_NOSIGNAL on sockets (no SIGPIPE), write()
 * on pipes (Python ignores SIGPIPE, so a closed pipe is EPIPE). */
static int
write_all(int fd, const char *s, size_t n)
{
    int sock = 1;
    while (n > 0) {
        ssize_t k = sock ? send(fd, s, n, MSG_NOSIGNAL) : write(fd, s, n);
        if (k < 0 && sock && errno == ENOTSOCK) {
            sock = 0;
            continue;
        }
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

int
DapWire_write_unlocked(DapWriter *w, const char *body, size_t len)
{
    char head[64];
    int hn = snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", len);
    int rc = write_all(w->fd, head, (size_t)hn);
    if (rc == 0)
        rc = write_all(w->fd, body, len);
    return rc;
}

/* write_all for pieces, in one system call when the socket takes them. */
static int
writev_all(int fd, struct iovec *iov, int cnt)
{
    int sock = 1;
    while (cnt > 0) {
        ssize_t k;
        if (sock) {
            struct msghdr mh;
            memset(&mh, 0, sizeof mh);
            mh.msg_iov = iov;
            mh.msg_iovlen = (size_t)cnt;
            k = sendmsg(fd, &mh, MSG_NOSIGNAL);
            if (k < 0 && errno == ENOTSOCK) {
                sock = 0;
                continue;
            }
        } else {
            k = writev(fd, iov, cnt);
        }
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t done = (size_t)k;
        while (cnt > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return 0;
}

int
DapWire_write2(DapWriter *w, const char *a, size_t na, const char *b, size_t nb)
{
    /* "Content-Length: N\r\n\r\n", by hand (snprintf costs more than the rest) */
    static const char cl[] = "Content-Length: ";
    char head[sizeof cl + 24 + 4], digits[24];
    size_t len = na + nb, nd = 0;
    do {
        digits[nd++] = (char)('0' + len % 10);
        len /= 10;
    } while (len);
    memcpy(head, cl, sizeof cl - 1);
    size_t hn = sizeof cl - 1;
    while (nd)
        head[hn++] = digits[--nd];
    memcpy(head + hn, "\r\n\r\n", 4);
    hn += 4;
    struct iovec iov[3] = {{head, hn}, {(char *)a, na}, {(char *)b, nb}};
    pthread_mutex_lock(&w->mu);
    int rc = writev_all(w->fd, iov, 3);
    int saved = errno;
    pthread_mutex_unlock(&w->mu);
    errno = saved;
    return rc;
}

int
DapWire_write(DapWriter *w, const char *body, size_t len)
{
    pthread_mutex_lock(&w->mu);
    int rc = DapWire_write_unlocked(w, body, len);
    int saved = errno;
    pthread_mutex_unlock(&w->mu);
    errno = saved;
    return rc;
}
