/* out.c — see out.h. Only write(2) and plain memory operations in here. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "out.h"

void
Faults_out_init(Faults_out *o, int fd)
{
    o->fd = fd;
    o->len = 0;
}

void
Faults_out_flush(Faults_out *o)
{
    const char *p = o->buf;
    size_t left = o->len;
    while (left > 0) {
        ssize_t n = write(o->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;          /* closed or broken fd: drop the text, never block */
        }
        if (n == 0)
            break;
        p += n;
        left -= (size_t)n;
    }
    o->len = 0;
}

void
Faults_out_write(Faults_out *o, const char *s, size_t n)
{
    while (n > 0) {
        size_t room = sizeof(o->buf) - o->len;
        if (room == 0) {
            Faults_out_flush(o);
            room = sizeof(o->buf);
        }
        size_t k = n < room ? n : room;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

void
Faults_out_puts(Faults_out *o, const char *s)
{
    Faults_out_write(o, s, strlen(s));
}

void
Faults_out_dec(Faults_out *o, uintmax_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    Faults_out_write(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
Faults_out_hex(Faults_out *o, uintmax_t v, int width)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[2 * sizeof(uintmax_t)];
    char *end = tmp + sizeof(tmp);
    char *p = end;
    if (width > (int)sizeof(tmp))
        width = (int)sizeof(tmp);
    do {
        *--p = digits[v & 15];
        v >>= 4;
    } while (v || end - p < width);
    Faults_out_write(o, p, (size_t)(end - p));
}

void
Faults_out_char_escaped(Faults_out *o, uint32_t ch)
{
    if (ch >= ' ' && ch <= 126) {
        char c = (char)ch;
        Faults_out_write(o, &c, 1);
    }
    else if (ch <= 0xff) {
        Faults_out_puts(o, "\\x");
        Faults_out_hex(o, ch, 2);
    }
    else if (ch <= 0xffff) {
        Faults_out_puts(o, "\\u");
        Faults_out_hex(o, ch, 4);
    }
    else {
        Faults_out_puts(o, "\\U");
        Faults_out_hex(o, ch, 8);
    }
}
