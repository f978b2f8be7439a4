/* net.c — sockets for `sleuth dap` (see net.h). No Python here. */
#define _GNU_SOURCE
#include "net.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int
Net_parse_hostport(const char *spec, char *host, size_t hostsize, int *port,
                   char *err, size_t errsize)
{
    const char *p = spec, *colon = strrchr(spec, ':');
    size_t hl;

    snprintf(host, hostsize, "127.0.0.1");
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errsize, "expected [HOST]:PORT, got '%s'", spec);
            return -1;
        }
        hl = (size_t)(close - spec - 1);
        if (hl == 0 || hl >= hostsize) {
            snprintf(err, errsize, "bad host in '%s'", spec);
            return -1;
        }
        memcpy(host, spec + 1, hl);
        host[hl] = '\0';
        p = close + 2;
    }
    else if (colon) {
        hl = (size_t)(colon - spec);
        if (hl == 0 || hl >= hostsize || memchr(spec, ':', hl)) {
            snprintf(err, errsize, "expected [HOST:]PORT, got '%s'", spec);
            return -1;
        }
        memcpy(host, spec, hl);
        host[hl] = '\0';
        p = colon + 1;
    }
    char *end;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (!*p || *end || errno || v < 0 || v > 65535 || *p == '-' || *p == '+' || *p == ' ') {
        snprintf(err, errsize, "bad port in '%s' (0 to 65535)", spec);
        return -1;
    }
    *port = (int)v;
    return 0;
}

int
Net_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

static struct addrinfo *
resolve(const char *host, int port, int passive, char *err, size_t errsize)
{
    struct addrinfo hints, *res = NULL;
    char ps[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(host, ps, &hints, &res);
    if (rc) {
        snprintf(err, errsize, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return NULL;
    }
    return res;
}

int
Net_listen(const char *host, int port, int *bound_port, char *err, size_t errsize)
{
    struct addrinfo *res = resolve(host, port, 1, err, errsize), *ai;
    int fd = -1, one = 1;
    if (!res)
        return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0)
            break;
        snprintf(err, errsize, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *bound_port = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static long long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
Net_accept(int lfd, int timeout_ms, volatile int *stop, char *err, size_t errsize)
{
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        if (stop && *stop)
            return -2;
        int slice = 100;
        if (deadline >= 0) {
            long long left = deadline - now_ms();
            if (left <= 0)
                return -2;
            if (left < slice)
                slice = (int)left;
        }
        struct pollfd pfd = {lfd, POLLIN, 0};
        int rc = poll(&pfd, 1, slice);
        if (rc < 0) {
            if (errno == EINTR)
                return -3;
            snprintf(err, errsize, "poll failed: %s", strerror(errno));
            return -1;
        }
        if (rc == 0)
            continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        if (errno == EINTR)
            return -3;
        if (errno == ECONNABORTED || errno == EAGAIN)
            continue;
        snprintf(err, errsize, "accept failed: %s", strerror(errno));
        return -1;
    }
}

int
Net_connect(const char *host, int port, int timeout_ms, char *err, size_t errsize)
{
    struct addrinfo *res = resolve(host, port, 0, err, errsize), *ai;
    int fd = -1;
    if (!res)
        return -1;
    snprintf(err, errsize, "cannot connect to %s:%d", host, port);
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0)
            continue;
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            struct pollfd pfd = {fd, POLLOUT, 0};
            do
                rc = poll(&pfd, 1, timeout_ms);
            while (rc < 0 && errno == EINTR);
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                rc = 0;
            else {
                errno = rc == 0 ? ETIMEDOUT : (soerr ? soerr : errno);
                rc = -1;
            }
        }
        if (rc == 0) {
            int fl = fcntl(fd, F_GETFL);
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            break;
        }
        snprintf(err, errsize, "cannot connect to %s:%d: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}
