/* rd_util.c — buffers, hashing, clocks and file helpers (see rd_util.h). */
#define _GNU_SOURCE   /* posix_spawn_file_actions_addchdir_np, pipe2, nftw */
#include "rd_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
rd_buf_reserve(RdBuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            errno = ENOMEM;
            return -1;
        }
        cap *= 2;
    }
    unsigned char *p = realloc(b->data, cap);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int
rd_buf_append(RdBuf *b, const void *p, size_t n)
{
    if (rd_buf_reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int
rd_buf_append_str(RdBuf *b, const char *s)
{
    return rd_buf_append(b, s, strlen(s));
}

int
rd_buf_set(RdBuf *b, const void *p, size_t n)
{
    b->len = 0;
    return rd_buf_append(b, p, n);
}

void
rd_buf_free(RdBuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int
rd_buf_cstr(RdBuf *b)
{
    if (rd_buf_reserve(b, 1) < 0)
        return -1;
    b->data[b->len] = '\0';
    return 0;
}

/* FNV-1a for h1; for h2 a multiply-rotate mix over 8-byte words with a
 * different seed. Both are fast and independent enough for a cache key. */
RdKey
rd_key(const unsigned char *p, size_t n)
{
    RdKey k;
    uint64_t h1 = 0xcbf29ce484222325ULL;
    uint64_t h2 = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        for (int j = 0; j < 8; j++) {
            h1 ^= p[i + j];
            h1 *= 0x100000001b3ULL;
        }
        h2 ^= w * 0xff51afd7ed558ccdULL;
        h2 = (h2 << 31) | (h2 >> 33);
        h2 *= 0xc4ceb9fe1a85ec53ULL;
    }
    for (; i < n; i++) {
        h1 ^= p[i];
        h1 *= 0x100000001b3ULL;
        h2 ^= (uint64_t)p[i] * 0x87c37b91114253d5ULL;
        h2 = (h2 << 27) | (h2 >> 37);
        h2 *= 0x4cf5ad432745937fULL;
    }
    h2 ^= h2 >> 33;
    h2 *= 0xff51afd7ed558ccdULL;
    h2 ^= h2 >> 33;
    k.h1 = h1;
    k.h2 = h2;
    k.len = (uint64_t)n;
    return k;
}

int
rd_key_eq(RdKey a, RdKey b)
{
    return a.h1 == b.h1 && a.h2 == b.h2 && a.len == b.len;
}

double
rd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
rd_read_file(const char *path, RdBuf *out)
{
    return rd_read_file_tail(path, (size_t)-1, out);
}

int
rd_read_file_tail(const char *path, size_t max, RdBuf *out)
{
    int rc = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0)
        goto done;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        goto done;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max &&
        lseek(fd, st.st_size - (off_t)max, SEEK_SET) < 0)
        goto done;
    out->len = 0;
    for (;;) {
        if (out->len >= max)
            break;
        if (rd_buf_reserve(out, 65536) < 0)
            goto done;
        ssize_t r = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            goto done;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
    }
    rc = 0;
done:
    {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return rc;
}

static int
write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int
rd_write_file(const char *path, const unsigned char *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (write_all(fd, p, n) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return close(fd);
}

int
rd_write_file_atomic(const char *path, const unsigned char *p, size_t n)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 32);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    snprintf(tmp, len + 32, "%s.tmp%ld", path, (long)getpid());
    int rc = rd_write_file(tmp, p, n);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    free(tmp);
    return rc;
}

int
rd_shell_quote(RdBuf *b, const char *s)
{
    if (rd_buf_append(b, "'", 1) < 0)
        return -1;
    for (; *s; s++) {
        if (*s == '\'') {
            if (rd_buf_append_str(b, "'\\''") < 0)
                return -1;
        }
        else if (rd_buf_append(b, s, 1) < 0)
            return -1;
    }
    return rd_buf_append(b, "'", 1);
}

char *
rd_subst_command(const char *cmd, const char *arg)
{
    RdBuf b = {0};
    const char *p = cmd;
    int found = 0;
    while (*p) {
        if (p[0] == '{' && p[1] == '}') {
            if (rd_shell_quote(&b, arg) < 0)
                goto error;
            found = 1;
            p += 2;
            continue;
        }
        if (rd_buf_append(&b, p, 1) < 0)
            goto error;
        p++;
    }
    if (!found) {
        if (rd_buf_append(&b, " ", 1) < 0 || rd_shell_quote(&b, arg) < 0)
            goto error;
    }
    if (rd_buf_cstr(&b) < 0)
        goto error;
    return (char *)b.data;
error:
    rd_buf_free(&b);
    return NULL;
}

void
rd_msg(const char *prog, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

const char *
rd_plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}
