/* adapter.c — `sleuth dap [--listen [HOST:]PORT] [--allow-remote]`: the
 * command line, then one client on stdin/stdout, or clients one after
 * another on a TCP port. The protocol work is relay.c's. */
#include "adapter.h"
#include "net.h"
#include "relay.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: sleuth dap [-h] [--listen [HOST:]PORT] [--allow-remote]\n";

static const char HELP[] =
    "\n"
    "Serve the Debug Adapter Protocol, for debugging from an editor (VS Code,\n"
    "Neovim's nvim-dap, Emacs's dap-mode, ...). Without options it speaks on\n"
    "stdin/stdout, which is how editors start an adapter. A client's launch\n"
    "request (program or module, args, cwd, env, stopOnEntry, justMyCode,\n"
    "console, python) starts the program under sleuth; an attach request with\n"
    "connect: {host, port} debugs a program started with\n"
    "`python -m sleuth --listen PORT script.py`.\n"
    "\n"
    "options:\n"
    "  --listen [HOST:]PORT  serve clients one after another on a TCP port\n"
    "                        (HOST defaults to 127.0.0.1; port 0 picks a free one)\n"
    "  --allow-remote        allow a HOST that is not loopback; a connected client\n"
    "                        can run any code as you, so only on a trusted network\n"
    "  -h, --help            show this help\n"
    "\n"
    "examples:\n"
    "  sleuth dap --listen 5678    for VS Code's debugServer or nvim-dap's server adapter\n"
    "  sleuth dap                  as editors run it, speaking on stdin/stdout\n";

/* usage line + "sleuth dap: error: ..." on stderr, status 2 */
static PyObject *
usage_error(const char *fmt, const char *arg)
{
    PySys_WriteStderr("%s", USAGE);
    PySys_WriteStderr("sleuth dap: error: ");
    PySys_WriteStderr(fmt, arg);
    PySys_WriteStderr("\n");
    return PyLong_FromLong(2);
}

/* A private copy of the protocol fds; fd 0 becomes /dev/null and fd 1 a copy
 * of stderr, so nothing printed by accident can corrupt the protocol and no
 * child can read the client's messages. */
static int
take_stdio(int *in_fd, int *out_fd)
{
    *in_fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
    *out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (*in_fd < 0 || *out_fd < 0)
        return -1;
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nul >= 0) {
        dup2(nul, 0);
        close(nul);
    }
    dup2(2, 1);
    return 0;
}

static PyObject *
serve_listen(const char *spec, int allow_remote)
{
    char host[256], err[300];
    int port, bound, lfd;

    if (Net_parse_hostport(spec, host, sizeof host, &port, err, sizeof err) < 0)
        return usage_error("--listen: %s", err);
    if (!Net_is_loopback(host)) {
        if (!allow_remote) {
            PySys_WriteStderr("sleuth dap: --listen %s is not a loopback address: a connected "
                              "client can run any code as you; add --allow-remote to allow it\n",
                              host);
            return PyLong_FromLong(2);
        }
        PySys_WriteStderr("sleuth dap: warning: listening on %s, not loopback: anyone who can "
                          "connect to it can run any code as you\n", host);
    }
    lfd = Net_listen(host, port, &bound, err, sizeof err);
    if (lfd < 0) {
        PySys_WriteStderr("sleuth dap: %s\n", err);
        return PyLong_FromLong(2);
    }
    /* Editors and tests read this line to find a port picked with 0. */
    PySys_WriteStderr("sleuth dap: listening on %s:%d\n", host, bound);
    for (;;) {
        int fd;
        Py_BEGIN_ALLOW_THREADS
        fd = Net_accept(lfd, -1, NULL, err, sizeof err);
        Py_END_ALLOW_THREADS
        if (fd == -3) {
            if (PyErr_CheckSignals() < 0) {
                close(lfd);
                return NULL;
            }
            continue;
        }
        if (fd < 0) {
            PySys_WriteStderr("sleuth dap: %s\n", err);
            close(lfd);
            return PyLong_FromLong(1);
        }
        int rc = Relay_serve(fd, fd);
        close(fd);
        if (rc < 0) {
            close(lfd);
            return NULL;
        }
    }
}

PyObject *
Adapter_main_py(PyObject *module, PyObject *argv)
{
    const char *listen = NULL;
    int allow_remote = 0;

    SLEUTH_UNUSED(module);
    if (!PyList_Check(argv)) {
        PyErr_SetString(PyExc_TypeError, "main() expects a list of strings");
        return NULL;
    }
    for (Py_ssize_t i = 1; i < PyList_GET_SIZE(argv); i++) {
        const char *a = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, i));
        if (!a)
            return NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            PySys_WriteStdout("%s", USAGE);
            PySys_WriteStdout("%s", HELP);
            return PyLong_FromLong(0);
        }
        else if (strcmp(a, "--allow-remote") == 0)
            allow_remote = 1;
        else if (strcmp(a, "--listen") == 0) {
            if (i + 1 >= PyList_GET_SIZE(argv))
                return usage_error("%s", "--listen needs [HOST:]PORT");
            listen = PyUnicode_AsUTF8(PyList_GET_ITEM(argv, ++i));
            if (!listen)
                return NULL;
        }
        else if (strncmp(a, "--listen=", 9) == 0)
            listen = a + 9;
        else
            return usage_error("unrecognized argument: %s", a);
    }
    if (allow_remote && !listen)
        return usage_error("%s", "--allow-remote needs --listen");
    /* An adapter is stopped by its editor closing the connection or by a
     * signal; Ctrl-C in a terminal ends it at once. */
    signal(SIGINT, SIG_DFL);
    if (listen)
        return serve_listen(listen, allow_remote);
    int in_fd, out_fd;
    if (take_stdio(&in_fd, &out_fd) < 0) {
        PySys_WriteStderr("sleuth dap: stdin/stdout are not usable: %s\n", strerror(errno));
        return PyLong_FromLong(2);
    }
    int rc = Relay_serve(in_fd, out_fd);
    close(in_fd);
    close(out_fd);
    return rc < 0 ? NULL : PyLong_FromLong(0);
}
