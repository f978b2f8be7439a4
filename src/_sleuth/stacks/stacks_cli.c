/* stacks_cli.c — the command line of `sleuth stacks`.
 *
 * Output goes through sys.stdout / sys.stderr objects (pytest capture and
 * redirections replace them); all reading of the target happens in C
 * without calling back into Python, except to format float and str reprs.
 */
#include "stacks_cli.h"
#include "stacks_pause.h"
#include "stacks_render.h"
#include "stacks_walk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_MAX_DEPTH 1000
#define DEFAULT_MAX_THREADS 1000

static const char USAGE[] =
    "usage: %s [-h] [--json] [--locals] [--pause] [--native] [--max-depth N] [--max-threads N] PID\n";

static const char HELP[] =
    "\nPrint the Python stack of every thread of a running CPython 3.11-3.13 process.\n\n"
    "options:\n"
    "  --json           machine-readable output (schema sleuth.stacks/1, see docs/stacks.md)\n"
    "  --locals         show simple local values (secret-looking names redacted)\n"
    "  --pause          stop the process while reading it (a consistent picture)\n"
    "  --max-depth N    frames shown per thread (default 1000)\n"
    "  --max-threads N  threads shown (default 1000)\n"
    "  --native         native (C) frames too, interleaved (implies --pause; x86-64)\n"
    "  -h, --help       show this help\n"
    "\n"
    "It reads the process's memory: it needs ptrace permission (the same user with\n"
    "kernel.yama.ptrace_scope=0, or root / CAP_SYS_PTRACE; in a container:\n"
    "--cap-add SYS_PTRACE).\n"
    "\n"
    "examples:\n"
    "  sleuth stacks 4242\n"
    "  sleuth stacks --locals --pause $(pgrep -f server.py)\n";

/* Write `text` (UTF-8) to sys.<stream>; -1 with an exception set on failure. */
static int
write_stream(const char *stream, const char *text, size_t len)
{
    PyObject *file = PySys_GetObject(stream);   /* borrowed */
    PyObject *str = NULL, *r = NULL;
    int rc = -1;
    if (!file || file == Py_None) {
        PyErr_Format(PyExc_RuntimeError, "lost sys.%s", stream);
        goto done;
    }
    str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
    if (!str)
        goto done;
    r = PyObject_CallMethod(file, "write", "O", str);
    if (!r)
        goto done;
    Py_DECREF(r);
    r = PyObject_CallMethod(file, "flush", NULL);
    if (!r)
        goto done;
    rc = 0;
done:
    Py_XDECREF(r);
    Py_XDECREF(str);
    return rc;
}

/* "PROG: error: MESSAGE" on stderr; returns 2 (or -1 if writing failed). */
static int
fail(const char *prog, const char *msg)
{
    char line[2048];
    int n = snprintf(line, sizeof(line), "%s: error: %s\n", prog, msg);
    if (n < 0)
        return 2;
    return write_stream("stderr", line, strlen(line)) < 0 ? -1 : 2;
}

static void
denied_message(pid_t pid, const char *detail, char *out, size_t len)
{
    char scope[16] = "";
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    if (f) {
        if (fgets(scope, sizeof(scope), f))
            scope[strcspn(scope, "\n")] = '\0';
        fclose(f);
    }
    snprintf(out, len,
             "permission denied reading process %d (%s): reading another process's memory "
             "needs ptrace access to it. Run sleuth as the same user as the target with "
             "/proc/sys/kernel/yama/ptrace_scope set to 0%s%s%s, or as root with "
             "CAP_SYS_PTRACE; in a container start it with --cap-add=SYS_PTRACE",
             (int)pid, detail, scope[0] ? " (it is " : "", scope, scope[0] ? ")" : "");
}

/* TracerPid from /proc/PID/status: another debugger holds the process. */
static long
tracer_of(pid_t pid)
{
    char path[64], line[256];
    long tracer = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "TracerPid:", 10) == 0) {
            tracer = strtol(line + 10, NULL, 10);
            break;
        }
    fclose(f);
    return tracer;
}

static int
parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

PyObject *
StacksCli_main_py(PyObject *Py_UNUSED(module), PyObject *args)
{
    /* borrowed */
    const char *prog = "sleuth stacks";
    /* owned: the snapshot and buffer, released at done */
    stacks_snapshot snap;
    stacks_buf out = {0};
    stacks_pause *pause = NULL;
    char msg[1536], err[1024];
    int status = 2, opened = 0;
    int json = 0, locals = 0, want_pause = 0, native = 0;
    long pid = -1, max_depth = DEFAULT_MAX_DEPTH, max_threads = DEFAULT_MAX_THREADS;

    memset(&snap, 0, sizeof(snap));
    if (!PyList_Check(args) || PyList_GET_SIZE(args) < 1) {
        PyErr_SetString(PyExc_TypeError, "main() expects a list of str, args[0] the program name");
        return NULL;
    }
    Py_ssize_t argc = PyList_GET_SIZE(args);
    for (Py_ssize_t i = 0; i < argc; i++) {
        if (!PyUnicode_Check(PyList_GET_ITEM(args, i))) {
            PyErr_SetString(PyExc_TypeError, "main() expects a list of str");
            return NULL;
        }
    }
    prog = PyUnicode_AsUTF8(PyList_GET_ITEM(args, 0));
    if (!prog)
        return NULL;
    for (Py_ssize_t i = 1; i < argc; i++) {
        const char *a = PyUnicode_AsUTF8(PyList_GET_ITEM(args, i));
        if (!a)
            return NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            snprintf(msg, sizeof(msg), USAGE, prog);
            if (write_stream("stdout", msg, strlen(msg)) < 0 ||
                write_stream("stdout", HELP, strlen(HELP)) < 0)
                return NULL;
            return PyLong_FromLong(0);
        }
        else if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--locals") == 0)
            locals = 1;
        else if (strcmp(a, "--pause") == 0)
            want_pause = 1;
        else if (strcmp(a, "--native") == 0)
            native = 1;
        else if (strcmp(a, "--max-depth") == 0 || strcmp(a, "--max-threads") == 0) {
            long v;
            const char *val = i + 1 < argc ? PyUnicode_AsUTF8(PyList_GET_ITEM(args, i + 1)) : NULL;
            if (!val || parse_int(val, 1, 1000000, &v) < 0) {
                snprintf(msg, sizeof(msg), "%s needs a number from 1 to 1000000", a);
                status = fail(prog, msg);
                goto done;
            }
            if (a[6] == 'd')
                max_depth = v;
            else
                max_threads = v;
            i++;
        }
        else if (a[0] == '-' ) {
            snprintf(msg, sizeof(msg), "unknown option: %.200s", a);
            status = fail(prog, msg);
            goto done;
        }
        else if (pid >= 0) {
            status = fail(prog, "only one PID may be given");
            goto done;
        }
        else if (parse_int(a, 1, 0x7fffffff, &pid) < 0) {
            snprintf(msg, sizeof(msg), "not a process id: %.200s", a);
            status = fail(prog, msg);
            goto done;
        }
    }
    if (pid < 0) {
        snprintf(msg, sizeof(msg), USAGE, prog);
        if (write_stream("stderr", msg, strlen(msg)) < 0)
            return NULL;
        status = fail(prog, "a PID is required");
        goto done;
    }

    snap.max_depth = (int)max_depth;
    snap.max_threads = (int)max_threads;
    snap.want_locals = locals;
    /* Registers can only be read from a stopped thread: --native pauses. */
    snap.want_native = native;
    if (native)
        want_pause = 1;
    int rc = stacks_walk_open(&snap, (pid_t)pid, err, sizeof(err));
    opened = 1;
    if (rc == STACKS_OK && want_pause && (pid_t)pid == getpid()) {
        /* ptrace cannot stop the caller's own thread group. */
        snprintf(err, sizeof(err), "cannot pause process %ld: it is sleuth itself "
                 "(--pause and --native read other processes)", pid);
        rc = STACKS_ERR_READ;
    }
    if (rc == STACKS_OK && want_pause) {
        stacks_walk_read_states(&snap);
        pause = PyMem_RawMalloc(sizeof(*pause));
        if (!pause) {
            PyErr_NoMemory();
            status = -1;
            goto done;
        }
        if (stacks_pause_stop(pause, (pid_t)pid) < 0) {
            int e = pause->err;
            PyMem_RawFree(pause);
            pause = NULL;
            long tracer = tracer_of((pid_t)pid);
            if (e == EPERM && tracer > 0) {
                snprintf(err, sizeof(err), "cannot pause process %ld: it is already being "
                         "traced by process %ld (a debugger?); run without --pause", pid, tracer);
                rc = STACKS_ERR_READ;
            }
            else if (e == EPERM || e == EACCES) {
                snprintf(err, sizeof(err), "cannot pause process %ld: %s", pid, strerror(e));
                rc = STACKS_ERR_DENIED;
            }
            else if (e == ESRCH) {
                snprintf(err, sizeof(err), "no such process: %ld (it exited)", pid);
                rc = STACKS_ERR_NO_PROCESS;
            }
            else {
                snprintf(err, sizeof(err), "cannot pause process %ld: %s", pid, strerror(e));
                rc = STACKS_ERR_READ;
            }
        }
        else
            snap.paused = 1;
    }
    if (rc == STACKS_OK)
        rc = stacks_walk_collect(&snap, err, sizeof(err));
    if (pause) {
        stacks_pause_resume(pause);
        PyMem_RawFree(pause);
        pause = NULL;
    }
    if (rc == STACKS_ERR_DENIED) {
        denied_message((pid_t)pid, err, msg, sizeof(msg));
        status = fail(prog, msg);
        goto done;
    }
    if (rc == STACKS_ERR_NOMEM) {
        PyErr_NoMemory();
        status = -1;
        goto done;
    }
    if (rc != STACKS_OK) {
        status = fail(prog, err);
        goto done;
    }
    if (json)
        stacks_render_json(&snap, &out);
    else
        stacks_render_text(&snap, &out);
    if (out.oom) {
        PyErr_NoMemory();
        status = -1;
        goto done;
    }
    status = write_stream("stdout", out.data ? out.data : "", out.len) < 0 ? -1 : 0;
done:
    if (pause) {
        stacks_pause_resume(pause);
        PyMem_RawFree(pause);
    }
    stacks_buf_free(&out);
    if (opened)
        stacks_walk_free(&snap);
    if (status < 0)
        return NULL;
    return PyLong_FromLong(status);
}
