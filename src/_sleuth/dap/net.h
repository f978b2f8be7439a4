/* net.h — the sockets `sleuth dap` needs: parse [HOST:]PORT, listen, accept
 * and connect with a deadline. Plain C, callable without the GIL; errors are
 * a one-line reason in the caller's buffer. */
#ifndef SLEUTH_DAP_NET_H
#define SLEUTH_DAP_NET_H
#include <stddef.h>

/* "[HOST:]PORT" (HOST may be "[v6addr]"); host defaults to 127.0.0.1.
 * 0, or -1 with err set. */
int Net_parse_hostport(const char *spec, char *host, size_t hostsize, int *port,
                       char *err, size_t errsize);

/* Is host a loopback name or address (127.0.0.0/8, ::1, localhost)? */
int Net_is_loopback(const char *host);

/* A listening TCP socket, or -1 with err set. *bound_port gets the port
 * (useful with port 0). */
int Net_listen(const char *host, int port, int *bound_port, char *err, size_t errsize);

/* Wait up to timeout_ms (-1: forever) for a connection; the wait is cut in
 * slices and gives up early when *stop becomes nonzero (stop may be NULL).
 * The connected fd, -1 with err set, or -2 on timeout/stop. EINTR returns
 * -3 so the caller can check for signals. */
int Net_accept(int lfd, int timeout_ms, volatile int *stop, char *err, size_t errsize);

/* Connect with a deadline: fd, or -1 with err set. */
int Net_connect(const char *host, int port, int timeout_ms, char *err, size_t errsize);

#endif
