/* relay.c — one client of `sleuth dap` (see relay.h).
 *
 * Locking rules (so the threads cannot deadlock):
 *  - the client writer's mutex is only ever taken with the GIL held, and the
 *    GIL is never taken while holding it (send_client releases the GIL for
 *    the write itself, inside the critical section);
 *  - Python objects of the Relay are touched only with the GIL held;
 *  - flags shared with threads are C11 atomics.
 */
#include "relay.h"
#include "dapcaps.h"
#include "dapwire.h"
#include "jsonr.h"
#include "jsonw.h"
#include "net.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS   30000   /* launched program to connect back */
#define ATTACH_TIMEOUT_MS    10000   /* connecting to a --listen program */
#define ANSWER_TIMEOUT_MS    5000    /* debuggee to answer disconnect */
#define EXIT_GRACE_MS        3000    /* program to end after disconnect, then SIGKILL */

enum { MODE_NONE, MODE_PENDING_TERMINAL, MODE_LAUNCH, MODE_ATTACH };

typedef struct {
    /* the client */
    DapReader *cr;
    DapWriter cw;
    long long seq;                  /* last seq sent to the client (cw.mu) */
    /* the debuggee connection */
    int dfd;
    DapWriter dw;
    int dw_ok;
    /* the launched program (own_pid 0 when we did not start it) */
    pid_t own_pid;
    PyObject *proc;                 /* subprocess.Popen, keeps the pipes open */
    int out_fd[2];                  /* its stdout, stderr read ends, or -1 */
    pthread_t relay_tid, watch_tid;
    int relay_started, watch_started;
    atomic_int child_exited;
    atomic_int exit_code;
    atomic_int debuggee_closed;
    atomic_int terminated_sent;
    atomic_int disconnect_answered;
    atomic_llong disconnect_seq;
    atomic_int init_swallowed;
    int mode;
    int initialized;                /* the client sent initialize */
    int client_rit;                 /* ... saying supportsRunInTerminalRequest */
    PyObject *init_request;         /* its initialize request */
    PyObject *pending_launch;       /* launch request waiting for runInTerminal */
    PyObject *pending_argv;         /* the command line given to the terminal */
    int pending_lfd;                /* listening for the terminal's program */
    long long rit_seq;              /* our runInTerminal request */
    PyObject *reverse;              /* our seq -> debuggee seq, its reverse requests */
    /* restart (launch only): the program ends and starts again with the
     * client's configuration, which is kept here and replayed. */
    PyObject *launch_args;          /* the launch's arguments (a dict) */
    PyObject *cfg_bps;              /* source key -> the client's last setBreakpoints */
    PyObject *cfg_ids;              /* source key -> the ids the client got for it */
    PyObject *cfg_pending;          /* client seq -> source key, until answered */
    PyObject *cfg_other;            /* command -> last setFunctionBreakpoints/setExceptionBreakpoints */
    int cfg_done;                   /* the client sent configurationDone */
    atomic_int restarting;          /* the old program's messages and end are not relayed */
    atomic_int swallow_initialized; /* the new debuggee's `initialized`: the client configured already */
    atomic_llong last_stopped;      /* threadId of the last `stopped` (-1: none) */
    long long replay_seq;           /* our own requests to the debuggee: -1, -2, ... */
    PyObject *replay;               /* our seq -> client ids of a replayed request (or None) */
    /* Breakpoint ids: the debuggee after a restart numbers from 1 again;
     * the client sees id + bp_offset, or the id it had for a replayed one. */
    PyObject *bp_alias;             /* debuggee id -> client id */
    long long bp_offset, bp_max;
} Relay;

static long long
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Print one line about a problem on the adapter's stderr (never the
 * protocol stream). Keeps any pending exception. */
static void
note(const char *fmt, ...)
{
    char buf[600];
    va_list va;
    va_start(va, fmt);
    vsnprintf(buf, sizeof buf, fmt, va);
    va_end(va);
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PySys_WriteStderr("sleuth dap: %.590s\n", buf);
    PyErr_Restore(et, ev, tb);
}

/* --- sending to the client ------------------------------------------------ */

/* Number msg with the next seq and write it to the client. GIL held. If
 * reverse_of >= 0, msg is a debuggee's reverse request whose seq was
 * reverse_of: remember the mapping for the client's response. 0 sent, -1 the
 * client is gone or msg cannot be written (not an exception). */
static int
send_client(Relay *R, PyObject *msg, long long reverse_of, long long *assigned)
{
    JsonW w;
    int rc = -1, err = 0;
    PyObject *seq = NULL;

    JsonW_init(&w);
    pthread_mutex_lock(&R->cw.mu);
    seq = PyLong_FromLongLong(R->seq + 1);
    if (!seq || PyDict_SetItemString(msg, "seq", seq) < 0 || JsonW_obj(&w, msg) < 0
        || w.nomem) {
        pthread_mutex_unlock(&R->cw.mu);
        note("cannot send a message to the client (dropped)");
        PyErr_Clear();
        goto done;
    }
    R->seq++;
    if (assigned)
        *assigned = R->seq;
    if (reverse_of >= 0) {
        PyObject *old = PyLong_FromLongLong(reverse_of);
        if (!old || PyDict_SetItem(R->reverse, seq, old) < 0)
            PyErr_Clear();
        Py_XDECREF(old);
    }
    Py_BEGIN_ALLOW_THREADS
    rc = DapWire_write_unlocked(&R->cw, w.buf, (size_t)w.len);
    err = errno;
    pthread_mutex_unlock(&R->cw.mu);
    Py_END_ALLOW_THREADS
    if (rc < 0 && err != EPIPE && err != ECONNRESET)
        note("writing to the client failed: %s", strerror(err));
done:
    Py_XDECREF(seq);
    JsonW_free(&w);
    return rc;
}

static void
send_event(Relay *R, const char *event, PyObject *body /* borrowed, may be NULL */)
{
    PyObject *msg = Py_BuildValue("{s:s,s:s}", "type", "event", "event", event);
    if (!msg || (body && PyDict_SetItemString(msg, "body", body) < 0)) {
        PyErr_Clear();
        Py_XDECREF(msg);
        return;
    }
    send_client(R, msg, -1, NULL);
    Py_DECREF(msg);
}

static void
send_response(Relay *R, long long request_seq, PyObject *command, int success,
              const char *message, PyObject *body)
{
    /* Owned */
    PyObject *msg = NULL, *m = NULL;

    /* A message too broken to name its command is answered with "". */
    msg = command ? Py_BuildValue("{s:s,s:L,s:O,s:O}", "type", "response", "request_seq",
                                  request_seq, "success", success ? Py_True : Py_False,
                                  "command", command)
                  : Py_BuildValue("{s:s,s:L,s:O,s:s}", "type", "response", "request_seq",
                                  request_seq, "success", success ? Py_True : Py_False,
                                  "command", "");
    if (!msg)
        goto done;
    if (message) {
        m = PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "replace");
        if (!m || PyDict_SetItemString(msg, "message", m) < 0)
            goto done;
    }
    if (body && PyDict_SetItemString(msg, "body", body) < 0)
        goto done;
    send_client(R, msg, -1, NULL);
done:
    PyErr_Clear();
    Py_XDECREF(m);
    Py_XDECREF(msg);
}

/* An error response: "message" is one line. */
static void
send_error(Relay *R, long long request_seq, PyObject *command, const char *fmt, ...)
{
    char buf[1024];
    va_list va;
    va_start(va, fmt);
    vsnprintf(buf, sizeof buf, fmt, va);
    va_end(va);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    send_response(R, request_seq, command, 0, buf, NULL);
}

/* An `output` event; category "console" for the adapter's own notes. */
static void
send_output(Relay *R, const char *category, PyObject *text)
{
    PyObject *body = Py_BuildValue("{s:s,s:O}", "category", category, "output", text);
    if (!body) {
        PyErr_Clear();
        return;
    }
    send_event(R, "output", body);
    Py_DECREF(body);
}

/* --- the debuggee -> client direction (relay thread) ---------------------- */

/* The client's id for debuggee breakpoint id `v` (a new reference). */
static PyObject *
client_bp_id(Relay *R, PyObject *v)
{
    if (!PyLong_Check(v))
        return Py_NewRef(v);
    PyObject *a = PyDict_GetItemWithError(R->bp_alias, v);
    if (a)
        return Py_NewRef(a);
    PyErr_Clear();
    long long id = PyLong_AsLongLong(v);
    if (id <= 0)
        return Py_NewRef(v);      /* 0: a breakpoint refused */
    id += R->bp_offset;
    if (id > R->bp_max)
        R->bp_max = id;
    return PyLong_FromLongLong(id);
}

/* Rewrite the "id" of a breakpoint dict in place. */
static void
map_bp(Relay *R, PyObject *bp)
{
    PyObject *id = PyDict_Check(bp) ? PyDict_GetItemString(bp, "id") : NULL;
    if (!id)
        return;
    PyObject *c = client_bp_id(R, id);
    if (c)
        PyDict_SetItemString(bp, "id", c);
    Py_XDECREF(c);
    PyErr_Clear();
}

/* The ids in a setBreakpoints/setFunctionBreakpoints response body, mapped
 * (a new list of the client's ids), or NULL. */
static PyObject *
map_bp_list(Relay *R, PyObject *body)
{
    PyObject *bps = body && PyDict_Check(body) ? PyDict_GetItemString(body, "breakpoints") : NULL;
    if (!bps || !PyList_Check(bps))
        return NULL;
    PyObject *ids = PyList_New(0);
    for (Py_ssize_t i = 0; ids && i < PyList_GET_SIZE(bps); i++) {
        PyObject *bp = PyList_GET_ITEM(bps, i);
        map_bp(R, bp);
        PyObject *id = PyDict_Check(bp) ? PyDict_GetItemString(bp, "id") : NULL;
        if (PyList_Append(ids, id ? id : Py_None) < 0)
            Py_CLEAR(ids);
    }
    PyErr_Clear();
    return ids;
}

/* The answer to one of our replayed requests after a restart: each
 * breakpoint keeps the client's id, and the client hears its state now in
 * a `breakpoint` event (reason `changed`). */
static void
replay_answered(Relay *R, PyObject *msg, PyObject *rs)
{
    PyObject *old = PyDict_GetItemWithError(R->replay, rs);   /* borrowed */
    PyObject *body = PyDict_GetItemString(msg, "body");
    PyObject *bps = body && PyDict_Check(body) ? PyDict_GetItemString(body, "breakpoints") : NULL;
    if (old && PyList_Check(old) && bps && PyList_Check(bps)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(bps) && i < PyList_GET_SIZE(old); i++) {
            PyObject *bp = PyList_GET_ITEM(bps, i), *was = PyList_GET_ITEM(old, i);
            PyObject *id = PyDict_Check(bp) ? PyDict_GetItemString(bp, "id") : NULL;
            if (!id || !PyLong_Check(id) || PyLong_AsLong(id) <= 0 || !PyLong_Check(was) || PyLong_AsLong(was) <= 0)
                continue;
            PyDict_SetItem(R->bp_alias, id, was);
            PyDict_SetItemString(bp, "id", was);
            PyObject *ev = Py_BuildValue("{s:s,s:O}", "reason", "changed", "breakpoint", bp);
            if (ev)
                send_event(R, "breakpoint", ev);
            Py_XDECREF(ev);
        }
    }
    if (PyDict_DelItem(R->replay, rs) < 0)
        PyErr_Clear();
    PyErr_Clear();
}

static void
handle_debuggee_message(Relay *R, const char *body, size_t len)
{
    /* Owned */
    PyObject *msg = NULL;
    /* Borrowed */
    PyObject *type, *name, *seq;

    msg = JsonR_parse(body, (Py_ssize_t)len, NULL);
    if (!msg || !PyDict_Check(msg)) {
        note("the debuggee sent a message that is not a JSON object (dropped)");
        PyErr_Clear();
        goto done;
    }
    type = PyDict_GetItemString(msg, "type");
    if (!type || !PyUnicode_Check(type))
        goto done;
    if (atomic_load(&R->restarting))
        goto done;      /* the program being ended for a restart */
    if (PyUnicode_CompareWithASCIIString(type, "response") == 0) {
        name = PyDict_GetItemString(msg, "command");
        seq = PyDict_GetItemString(msg, "request_seq");
        if (seq && PyLong_Check(seq) && PyLong_AsLongLong(seq) < 0) {
            replay_answered(R, msg, seq);   /* ours: the client did not ask */
            goto done;
        }
        PyObject *rbody = PyDict_GetItemString(msg, "body");
        if (name && PyUnicode_Check(name)
            && (PyUnicode_CompareWithASCIIString(name, "setBreakpoints") == 0
                || PyUnicode_CompareWithASCIIString(name, "setFunctionBreakpoints") == 0)) {
            PyObject *ids = map_bp_list(R, rbody);
            PyObject *key = seq ? PyDict_GetItemWithError(R->cfg_pending, seq) : NULL;
            if (ids && key)
                PyDict_SetItem(R->cfg_ids, key, ids);
            if (key)
                PyDict_DelItem(R->cfg_pending, seq);
            Py_XDECREF(ids);
            PyErr_Clear();
        }
        /* The client has its initialize answer from us already. */
        if (name && PyUnicode_Check(name)
            && PyUnicode_CompareWithASCIIString(name, "initialize") == 0
            && !atomic_exchange(&R->init_swallowed, 1))
            goto done;
        seq = PyDict_GetItemString(msg, "request_seq");
        if (seq && PyLong_Check(seq)
            && PyLong_AsLongLong(seq) == atomic_load(&R->disconnect_seq)) {
            send_client(R, msg, -1, NULL);
            atomic_store(&R->disconnect_answered, 1);
            goto done;
        }
    }
    else if (PyUnicode_CompareWithASCIIString(type, "event") == 0) {
        name = PyDict_GetItemString(msg, "event");
        int is_exited = name && PyUnicode_Check(name)
                        && PyUnicode_CompareWithASCIIString(name, "exited") == 0;
        int is_terminated = name && PyUnicode_Check(name)
                            && PyUnicode_CompareWithASCIIString(name, "terminated") == 0;
        int is_process = name && PyUnicode_Check(name)
                         && PyUnicode_CompareWithASCIIString(name, "process") == 0;
        /* A program we started: its exit status comes from waitpid, with
         * our own exited/terminated once its output is all sent, and the
         * client has our `process` event (startMethod launch) already. */
        if (R->own_pid && (is_exited || is_terminated || is_process))
            goto done;
        if (is_terminated)
            atomic_store(&R->terminated_sent, 1);
        PyObject *ebody = PyDict_GetItemString(msg, "body");
        if (name && PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, "initialized") == 0
            && atomic_exchange(&R->swallow_initialized, 0))
            goto done;
        if (ebody && PyDict_Check(ebody) && name && PyUnicode_Check(name)) {
            if (PyUnicode_CompareWithASCIIString(name, "breakpoint") == 0) {
                map_bp(R, PyDict_GetItemString(ebody, "breakpoint"));
            } else if (PyUnicode_CompareWithASCIIString(name, "stopped") == 0) {
                PyObject *hits = PyDict_GetItemString(ebody, "hitBreakpointIds");
                for (Py_ssize_t i = 0; hits && PyList_Check(hits) && i < PyList_GET_SIZE(hits); i++) {
                    PyObject *c = client_bp_id(R, PyList_GET_ITEM(hits, i));
                    if (c)
                        PyList_SetItem(hits, i, c);
                }
                PyObject *tid = PyDict_GetItemString(ebody, "threadId");
                if (tid && PyLong_Check(tid))
                    atomic_store(&R->last_stopped, PyLong_AsLongLong(tid));
            } else if (PyUnicode_CompareWithASCIIString(name, "continued") == 0) {
                atomic_store(&R->last_stopped, -1);
            }
            PyErr_Clear();
        }
    }
    else if (PyUnicode_CompareWithASCIIString(type, "request") == 0) {
        seq = PyDict_GetItemString(msg, "seq");
        send_client(R, msg, seq && PyLong_Check(seq) ? PyLong_AsLongLong(seq) : 0, NULL);
        PyErr_Clear();
        goto done;
    }
    send_client(R, msg, -1, NULL);
done:
    Py_XDECREF(msg);
}

static void *
relay_thread(void *arg)
{
    Relay *R = arg;
    DapReader *dr = malloc(sizeof *dr);
    char err[256];

    if (dr) {
        DapReader_init(dr, R->dfd);
        for (;;) {
            char *body;
            size_t len;
            DapWireStatus st = DapWire_read(dr, &body, &len, err, sizeof err);
            if (st == DAPWIRE_EOF || st == DAPWIRE_FATAL)
                break;
            if (st == DAPWIRE_BAD)
                continue;
            PyGILState_STATE g = PyGILState_Ensure();
            handle_debuggee_message(R, body, len);
            PyGILState_Release(g);
            free(body);
        }
        free(dr);
    }
    atomic_store(&R->debuggee_closed, 1);
    /* Attached (or started in a terminal): the program's own exited and
     * terminated were relayed; if the connection just dropped, say so. */
    if (!R->own_pid && !atomic_exchange(&R->terminated_sent, 1)) {
        PyGILState_STATE g = PyGILState_Ensure();
        send_event(R, "terminated", NULL);
        PyGILState_Release(g);
    }
    return NULL;
}

/* --- the launched program (watch thread) ---------------------------------- */

static void
forward_output(Relay *R, int k, const char *buf, size_t n, char *carry, size_t *ncarry)
{
    /* Output arrives in arbitrary chunks: a UTF-8 sequence cut at the end
     * waits in carry for the next chunk. */
    char tmp[8192 + 4];
    size_t total = *ncarry + n;
    memcpy(tmp, carry, *ncarry);
    memcpy(tmp + *ncarry, buf, n);
    Py_ssize_t consumed = 0;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *text = PyUnicode_DecodeUTF8Stateful(tmp, (Py_ssize_t)total, "replace",
                                                  n ? &consumed : NULL);
    if (!n)
        consumed = (Py_ssize_t)total;
    if (text) {
        if (PyUnicode_GET_LENGTH(text))
            send_output(R, k == 0 ? "stdout" : "stderr", text);
        Py_DECREF(text);
    }
    else
        PyErr_Clear();
    PyGILState_Release(g);
    *ncarry = total - (size_t)consumed;
    memmove(carry, tmp + consumed, *ncarry);
}

static void *
watch_thread(void *arg)
{
    Relay *R = arg;
    char buf[8192], carry[2][4];
    size_t ncarry[2] = {0, 0};
    long long exited_at = -1;
    int status = 0;

    for (;;) {
        struct pollfd pfd[2];
        int nfds = 0, idx[2];
        for (int k = 0; k < 2; k++)
            if (R->out_fd[k] >= 0) {
                pfd[nfds] = (struct pollfd){R->out_fd[k], POLLIN, 0};
                idx[nfds++] = k;
            }
        if (!atomic_load(&R->child_exited)) {
            pid_t p = waitpid(R->own_pid, &status, WNOHANG);
            if (p == R->own_pid || (p < 0 && errno == ECHILD)) {
                int code = p < 0 ? 0 : WIFEXITED(status) ? WEXITSTATUS(status)
                                                          : -WTERMSIG(status);
                atomic_store(&R->exit_code, code);
                atomic_store(&R->child_exited, 1);
                exited_at = now_ms();
            }
        }
        /* After the exit, read what is left; a grandchild holding the pipes
         * open gets half a second. */
        if (nfds == 0 || (exited_at >= 0 && now_ms() - exited_at > 500)) {
            if (atomic_load(&R->child_exited))
                break;
            sleep_ms(50);
            continue;
        }
        int rc = poll(pfd, (nfds_t)nfds, 50);
        if (rc <= 0)
            continue;
        for (int i = 0; i < nfds; i++) {
            if (!pfd[i].revents)
                continue;
            int k = idx[i];
            ssize_t n = read(R->out_fd[k], buf, sizeof buf);
            if (n > 0)
                forward_output(R, k, buf, (size_t)n, carry[k], &ncarry[k]);
            else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                if (ncarry[k])
                    forward_output(R, k, buf, 0, carry[k], &ncarry[k]);
                R->out_fd[k] = -1;          /* the Popen object closes it */
            }
        }
    }
    /* Let the debuggee's last messages through before our exited/terminated. */
    for (int waited = 0; !atomic_load(&R->debuggee_closed) && R->dfd >= 0 && waited < 2000
                         && !atomic_load(&R->restarting);
         waited += 20)
        sleep_ms(20);
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *rc = PyLong_FromLong(atomic_load(&R->exit_code));
    if (rc && R->proc)
        PyObject_SetAttrString(R->proc, "returncode", rc);   /* reaped here, not by Popen */
    PyErr_Clear();
    if (atomic_load(&R->restarting)) {
        /* Ended for a restart: the session goes on, no exited/terminated
         * (as lldb-dap does). */
        Py_XDECREF(rc);
        PyGILState_Release(g);
        return NULL;
    }
    PyObject *body = Py_BuildValue("{s:O}", "exitCode", rc ? rc : Py_None);
    if (body)
        send_event(R, "exited", body);
    PyErr_Clear();
    Py_XDECREF(body);
    Py_XDECREF(rc);
    if (!atomic_exchange(&R->terminated_sent, 1))
        send_event(R, "terminated", NULL);
    PyGILState_Release(g);
    return NULL;
}

/* End the program we started: SIGTERM, then SIGKILL if it lingers. GIL held. */
static void
kill_child(Relay *R, int grace_ms)
{
    if (!R->own_pid || atomic_load(&R->child_exited))
        return;
    Py_BEGIN_ALLOW_THREADS
    for (int waited = 0; waited < grace_ms && !atomic_load(&R->child_exited); waited += 20)
        sleep_ms(20);
    if (!atomic_load(&R->child_exited)) {
        kill(R->own_pid, SIGTERM);
        for (int waited = 0; waited < 2000 && !atomic_load(&R->child_exited); waited += 20)
            sleep_ms(20);
    }
    if (!atomic_load(&R->child_exited))
        kill(R->own_pid, SIGKILL);
    Py_END_ALLOW_THREADS
}

/* --- argument checks -------------------------------------------------------- */

/* Each returns 0 (value or NULL when absent and optional), or -1 after
 * answering the request with an error. */
typedef struct {
    Relay *R;
    long long seq;
    PyObject *command;
    PyObject *args;
} Req;

static int
arg_str(Req *q, const char *key, PyObject **out)
{
    PyObject *v = PyDict_GetItemString(q->args, key);
    *out = NULL;
    if (!v || v == Py_None)
        return 0;
    if (!PyUnicode_Check(v)) {
        send_error(q->R, q->seq, q->command, "%s: '%s' must be a string, not %s",
                   PyUnicode_AsUTF8(q->command), key, Py_TYPE(v)->tp_name);
        return -1;
    }
    *out = v;
    return 0;
}

static int
arg_str_list(Req *q, const char *key, PyObject **out)
{
    PyObject *v = PyDict_GetItemString(q->args, key);
    *out = NULL;
    if (!v || v == Py_None)
        return 0;
    int ok = PyList_Check(v);
    for (Py_ssize_t i = 0; ok && i < PyList_GET_SIZE(v); i++)
        ok = PyUnicode_Check(PyList_GET_ITEM(v, i));
    if (!ok) {
        send_error(q->R, q->seq, q->command, "%s: '%s' must be a list of strings",
                   PyUnicode_AsUTF8(q->command), key);
        return -1;
    }
    *out = v;
    return 0;
}

static int
arg_bool(Req *q, const char *key, int dflt, int *out)
{
    PyObject *v = PyDict_GetItemString(q->args, key);
    *out = dflt;
    if (!v || v == Py_None)
        return 0;
    if (!PyBool_Check(v)) {
        send_error(q->R, q->seq, q->command, "%s: '%s' must be true or false, not %s",
                   PyUnicode_AsUTF8(q->command), key, Py_TYPE(v)->tp_name);
        return -1;
    }
    *out = v == Py_True;
    return 0;
}

/* --- connecting to the debuggee ------------------------------------------- */

static int
start_thread(pthread_t *tid, void *(*fn)(void *), Relay *R)
{
    sigset_t all, old;
    /* Signals go to the main thread, never to ours. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(tid, NULL, fn, R);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Write an object to the debuggee (GIL held). */
static int
send_debuggee_obj(Relay *R, PyObject *msg)
{
    JsonW w;
    int rc = -1;
    JsonW_init(&w);
    if (JsonW_obj(&w, msg) == 0 && !w.nomem) {
        Py_BEGIN_ALLOW_THREADS
        rc = DapWire_write(&R->dw, w.buf, (size_t)w.len);
        Py_END_ALLOW_THREADS
    }
    PyErr_Clear();
    JsonW_free(&w);
    return rc;
}

/* The debuggee is connected on fd: start relaying and replay the client's
 * initialize and the launch/attach request (raw bytes of it). */
static int
connected(Relay *R, int fd, const char *body, size_t len)
{
    R->dfd = fd;
    if (DapWriter_init(&R->dw, fd) < 0) {
        close(fd);
        R->dfd = -1;
        return -1;
    }
    R->dw_ok = 1;
    if (start_thread(&R->relay_tid, relay_thread, R) != 0) {
        note("cannot start the relay thread");
        return -1;
    }
    R->relay_started = 1;
    if (!R->init_request) {
        R->init_request = Py_BuildValue("{s:i,s:s,s:s,s:{s:s}}", "seq", 0, "type", "request",
                                        "command", "initialize", "arguments",
                                        "adapterID", "sleuth");
        if (!R->init_request) {
            PyErr_Clear();
            return -1;
        }
    }
    int rc;
    if (send_debuggee_obj(R, R->init_request) < 0)
        return -1;
    Py_BEGIN_ALLOW_THREADS
    rc = DapWire_write(&R->dw, body, len);
    Py_END_ALLOW_THREADS
    return rc;
}

/* Wait for the launched program to connect to lfd. fd, or -1 after
 * answering the request with an error. */
static int
accept_debuggee(Relay *R, int lfd, long long seq, PyObject *command)
{
    char err[256] = "";
    int fd;
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        fd = Net_accept(lfd, CONNECT_TIMEOUT_MS, R->own_pid ? (volatile int *)&R->child_exited : NULL,
                        err, sizeof err);
        Py_END_ALLOW_THREADS
        if (fd != -3)
            break;
    }
    if (fd >= 0)
        return fd;
    if (atomic_load(&R->child_exited))
        send_error(R, seq, command, "launch: the program exited with status %d before the "
                   "debugger connected (its output is above)", atomic_load(&R->exit_code));
    else if (fd == -2)
        send_error(R, seq, command, "launch: the program did not connect to the debugger "
                   "within %d s", CONNECT_TIMEOUT_MS / 1000);
    else
        send_error(R, seq, command, "launch: %s", err);
    kill_child(R, 0);
    return -1;
}

/* The command line: PYTHON... -m sleuth --connect 127.0.0.1:PORT (program | -m module) args */
static PyObject *
debuggee_argv(PyObject *python, PyObject *program, PyObject *module, PyObject *args, int port)
{
    /* Owned */
    PyObject *argv = NULL, *item = NULL;

    argv = PyList_New(0);
    if (!argv)
        return NULL;
    if (python && PyList_Check(python)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(python); i++)
            if (PyList_Append(argv, PyList_GET_ITEM(python, i)) < 0)
                goto error;
    }
    else if (python) {
        if (PyList_Append(argv, python) < 0)
            goto error;
    }
    else {
        PyObject *exe = PySys_GetObject("executable");      /* borrowed */
        if (!exe || !PyUnicode_Check(exe) || !PyUnicode_GET_LENGTH(exe)) {
            PyErr_SetString(PyExc_RuntimeError, "sys.executable is not set: give 'python'");
            goto error;
        }
        if (PyList_Append(argv, exe) < 0)
            goto error;
    }
    item = PyUnicode_FromFormat("127.0.0.1:%d", port);
    if (!item)
        goto error;
    const char *fixed[] = {"-m", "sleuth", "--connect"};
    for (int i = 0; i < 3; i++) {
        PyObject *s = PyUnicode_FromString(fixed[i]);
        if (!s || PyList_Append(argv, s) < 0) {
            Py_XDECREF(s);
            goto error;
        }
        Py_DECREF(s);
    }
    if (PyList_Append(argv, item) < 0)
        goto error;
    Py_CLEAR(item);
    if (module) {
        PyObject *s = PyUnicode_FromString("-m");
        if (!s || PyList_Append(argv, s) < 0) {
            Py_XDECREF(s);
            goto error;
        }
        Py_DECREF(s);
        if (PyList_Append(argv, module) < 0)
            goto error;
    }
    else if (PyList_Append(argv, program) < 0)
        goto error;
    for (Py_ssize_t i = 0; args && i < PyList_GET_SIZE(args); i++)
        if (PyList_Append(argv, PyList_GET_ITEM(args, i)) < 0)
            goto error;
    return argv;
error:
    Py_XDECREF(item);
    Py_XDECREF(argv);
    return NULL;
}

/* os.environ + the launch's env (a null value removes a variable);
 * PYTHONUNBUFFERED=1 unless given, so output events come as it is printed. */
static PyObject *
debuggee_env(PyObject *env)
{
    /* Owned */
    PyObject *os = NULL, *environ = NULL, *res = NULL;
    PyObject *k, *v;        /* borrowed */
    Py_ssize_t pos = 0;

    os = PyImport_ImportModule("os");
    if (!os)
        goto done;
    environ = PyObject_GetAttrString(os, "environ");
    if (!environ)
        goto done;
    res = PyDict_New();
    if (!res || PyDict_Update(res, environ) < 0)
        goto error;
    if (PyDict_SetItemString(res, "PYTHONUNBUFFERED", PyUnicode_FromString("1")) < 0)
        goto error;
    while (env && PyDict_Next(env, &pos, &k, &v)) {
        if (v == Py_None) {
            if (PyDict_DelItem(res, k) < 0)
                PyErr_Clear();
        }
        else if (PyDict_SetItem(res, k, v) < 0)
            goto error;
    }
    goto done;
error:
    Py_CLEAR(res);
done:
    Py_XDECREF(os);
    Py_XDECREF(environ);
    return res;
}

/* Start the program with its output piped to us. 0, or -1 after answering. */
static int
spawn_piped(Relay *R, Req *q, PyObject *argv, PyObject *cwd, PyObject *env)
{
    /* Owned */
    PyObject *sp = NULL, *popen = NULL, *kw = NULL, *callargs = NULL, *pid = NULL;
    int rc = -1;

    sp = PyImport_ImportModule("subprocess");
    if (!sp)
        goto pyerror;
    popen = PyObject_GetAttrString(sp, "Popen");
    if (!popen)
        goto pyerror;
    PyObject *devnull = PyObject_GetAttrString(sp, "DEVNULL");
    PyObject *pipe = PyObject_GetAttrString(sp, "PIPE");
    kw = Py_BuildValue("{s:N,s:N,s:O,s:O,s:O}", "stdin", devnull, "stdout", pipe, "stderr",
                       pipe ? pipe : Py_None, "cwd", cwd ? cwd : Py_None, "env", env);
    if (!kw)
        goto pyerror;
    callargs = PyTuple_Pack(1, argv);
    if (!callargs)
        goto pyerror;
    R->proc = PyObject_Call(popen, callargs, kw);
    if (!R->proc) {
        /* Not found, not executable, bad cwd: say so and go on. */
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyErr_NormalizeException(&et, &ev, &tb);
        PyObject *s = ev ? PyObject_Str(ev) : NULL;
        send_error(R, q->seq, q->command, "launch: cannot start the program: %s",
                   s ? PyUnicode_AsUTF8(s) : "unknown error");
        PyErr_Clear();
        Py_XDECREF(s);
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        goto done;
    }
    pid = PyObject_GetAttrString(R->proc, "pid");
    if (!pid)
        goto pyerror;
    R->own_pid = (pid_t)PyLong_AsLong(pid);
    for (int k = 0; k < 2; k++) {
        PyObject *f = PyObject_GetAttrString(R->proc, k == 0 ? "stdout" : "stderr");
        R->out_fd[k] = f ? PyObject_AsFileDescriptor(f) : -1;
        Py_XDECREF(f);
        if (R->out_fd[k] < 0)
            goto pyerror;
    }
    rc = 0;
    goto done;
pyerror:
    note("launch failed inside the adapter");
    PyErr_Print();
    send_error(R, q->seq, q->command, "launch: the adapter failed to start the program");
done:
    Py_XDECREF(sp);
    Py_XDECREF(popen);
    Py_XDECREF(kw);
    Py_XDECREF(callargs);
    Py_XDECREF(pid);
    return rc;
}

static int
do_launch(Relay *R, Req *q, const char *body, size_t len)
{
    /* Borrowed */
    PyObject *program, *module, *args, *cwd, *env, *python = NULL, *console;
    /* Owned */
    PyObject *argv = NULL, *fullenv = NULL, *pev = NULL;
    int stop_on_entry, just_my_code, lfd = -1, port = 0, fd;
    char err[256];

    if (arg_str(q, "program", &program) < 0 || arg_str(q, "module", &module) < 0
        || arg_str_list(q, "args", &args) < 0 || arg_str(q, "cwd", &cwd) < 0
        || arg_str(q, "console", &console) < 0
        || arg_bool(q, "stopOnEntry", 0, &stop_on_entry) < 0
        || arg_bool(q, "justMyCode", 1, &just_my_code) < 0)
        return 0;
    if (!program == !module) {
        send_error(R, q->seq, q->command, "launch: give 'program' (a script) or 'module', "
                   "not %s", program ? "both" : "neither");
        return 0;
    }
    env = PyDict_GetItemString(q->args, "env");
    if (env == Py_None)
        env = NULL;
    if (env) {
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        int ok = PyDict_Check(env);
        while (ok && PyDict_Next(env, &pos, &k, &v))
            ok = PyUnicode_Check(v) || v == Py_None;
        if (!ok) {
            send_error(R, q->seq, q->command,
                       "launch: 'env' must be an object of strings (null removes a variable)");
            return 0;
        }
    }
    python = PyDict_GetItemString(q->args, "python");
    if (python == Py_None)
        python = NULL;
    if (python) {
        int ok = PyUnicode_Check(python) && PyUnicode_GET_LENGTH(python) > 0;
        if (!ok && PyList_Check(python) && PyList_GET_SIZE(python) > 0) {
            ok = 1;
            for (Py_ssize_t i = 0; ok && i < PyList_GET_SIZE(python); i++)
                ok = PyUnicode_Check(PyList_GET_ITEM(python, i));
        }
        if (!ok) {
            send_error(R, q->seq, q->command,
                       "launch: 'python' must be a path or a list of strings (path, options)");
            return 0;
        }
    }
    int terminal = 0;       /* 1 integrated, 2 external */
    if (console) {
        const char *c = PyUnicode_AsUTF8(console);
        if (!c)
            return -1;
        if (strcmp(c, "integratedTerminal") == 0)
            terminal = 1;
        else if (strcmp(c, "externalTerminal") == 0)
            terminal = 2;
        else if (strcmp(c, "internalConsole") != 0) {
            send_error(R, q->seq, q->command, "launch: 'console' must be internalConsole, "
                       "integratedTerminal or externalTerminal");
            return 0;
        }
    }
    if (terminal && !R->client_rit) {
        PyObject *t = PyUnicode_FromString(
            "sleuth dap: this client cannot run a terminal (no supportsRunInTerminalRequest): "
            "the program's output appears here.\n");
        if (t)
            send_output(R, "console", t);
        Py_XDECREF(t);
        PyErr_Clear();
        terminal = 0;
    }

    lfd = Net_listen("127.0.0.1", 0, &port, err, sizeof err);
    if (lfd < 0) {
        send_error(R, q->seq, q->command, "launch: %s", err);
        return 0;
    }
    argv = debuggee_argv(python, program, module, args, port);
    if (!argv)
        goto pyerror;

    if (terminal) {
        /* The client runs it: ask, and finish the launch when it answers. */
        PyObject *rit = Py_BuildValue(
            "{s:s,s:s,s:{s:s,s:O,s:N,s:O}}", "type", "request", "command", "runInTerminal",
            "arguments", "kind", terminal == 1 ? "integrated" : "external", "title",
            program ? program : module, "cwd",
            cwd ? Py_NewRef(cwd) : PyObject_CallMethod(PyImport_AddModule("os"), "getcwd", NULL),
            "args", argv);
        if (!rit)
            goto pyerror;
        if (env && PyDict_SetItemString(PyDict_GetItemString(rit, "arguments"), "env", env) < 0) {
            Py_DECREF(rit);
            goto pyerror;
        }
        R->mode = MODE_PENDING_TERMINAL;
        R->pending_launch = Py_BuildValue("(Ly#O)", q->seq, body, (Py_ssize_t)len, q->command);
        R->pending_lfd = lfd;
        lfd = -1;
        if (!R->pending_launch || send_client(R, rit, -1, &R->rit_seq) < 0)
            PyErr_Clear();
        Py_DECREF(rit);
        goto done;
    }

    fullenv = debuggee_env(env);
    if (!fullenv)
        goto pyerror;
    if (spawn_piped(R, q, argv, cwd, fullenv) < 0)
        goto done;
    R->mode = MODE_LAUNCH;
    Py_XSETREF(R->launch_args, PyDict_Copy(q->args));
    PyErr_Clear();
    if (start_thread(&R->watch_tid, watch_thread, R) != 0) {
        note("cannot start the output thread");
        kill_child(R, 0);
        goto done;
    }
    R->watch_started = 1;
    pev = Py_BuildValue("{s:O,s:i,s:O,s:s}", "name", program ? program : module,
                        "systemProcessId", (int)R->own_pid, "isLocalProcess", Py_True,
                        "startMethod", "launch");
    if (pev)
        send_event(R, "process", pev);
    PyErr_Clear();
    fd = accept_debuggee(R, lfd, q->seq, q->command);
    if (fd >= 0 && connected(R, fd, body, len) < 0) {
        send_error(R, q->seq, q->command, "launch: lost the connection to the program");
        kill_child(R, 0);
    }
    goto done;
pyerror:
    note("launch failed inside the adapter");
    PyErr_Print();
    send_error(R, q->seq, q->command, "launch: the adapter failed (see its stderr)");
done:
    if (lfd >= 0)
        close(lfd);
    Py_XDECREF(argv);
    Py_XDECREF(fullenv);
    Py_XDECREF(pev);
    return 0;
}

/* The client answered our runInTerminal: wait for the program to connect. */
static void
finish_terminal_launch(Relay *R, PyObject *resp)
{
    PyObject *p = R->pending_launch;
    long long seq = PyLong_AsLongLong(PyTuple_GET_ITEM(p, 0));
    PyObject *raw = PyTuple_GET_ITEM(p, 1), *command = PyTuple_GET_ITEM(p, 2);
    PyObject *ok = PyDict_GetItemString(resp, "success");
    int lfd = R->pending_lfd;

    R->pending_lfd = -1;
    R->mode = MODE_LAUNCH;
    if (ok != Py_True) {
        PyObject *m = PyDict_GetItemString(resp, "message");
        send_error(R, seq, command, "launch: the client could not run the terminal: %s",
                   m && PyUnicode_Check(m) ? PyUnicode_AsUTF8(m) : "no reason given");
        PyErr_Clear();
        close(lfd);
        R->mode = MODE_NONE;
        return;
    }
    int fd = accept_debuggee(R, lfd, seq, command);
    close(lfd);
    if (fd >= 0 && connected(R, fd, PyBytes_AS_STRING(raw), (size_t)PyBytes_GET_SIZE(raw)) < 0)
        send_error(R, seq, command, "launch: lost the connection to the program");
    if (fd < 0)
        R->mode = MODE_NONE;
}

static int
do_attach(Relay *R, Req *q, const char *body, size_t len)
{
    PyObject *conn = PyDict_GetItemString(q->args, "connect");   /* borrowed */
    PyObject *src = conn && PyDict_Check(conn) ? conn : q->args;
    PyObject *host = PyDict_GetItemString(src, "host"), *port = PyDict_GetItemString(src, "port");
    char err[300];
    long p;
    int fd;

    if (conn && !PyDict_Check(conn) && conn != Py_None) {
        send_error(R, q->seq, q->command, "attach: 'connect' must be an object {host, port}");
        return 0;
    }
    if (host == Py_None)
        host = NULL;
    if (host && !PyUnicode_Check(host)) {
        send_error(R, q->seq, q->command, "attach: 'host' must be a string");
        return 0;
    }
    if (!port || !PyLong_Check(port) || PyBool_Check(port)
        || (p = PyLong_AsLong(port)) < 1 || p > 65535) {
        PyErr_Clear();
        send_error(R, q->seq, q->command, "attach: give 'connect': {\"host\": ..., \"port\": N} "
                   "with the port of a program started with python -m sleuth --listen");
        return 0;
    }
    const char *h = host ? PyUnicode_AsUTF8(host) : "127.0.0.1";
    if (!h)
        return -1;
    char hbuf[256];
    snprintf(hbuf, sizeof hbuf, "%s", h);
    Py_BEGIN_ALLOW_THREADS
    fd = Net_connect(hbuf, (int)p, ATTACH_TIMEOUT_MS, err, sizeof err);
    Py_END_ALLOW_THREADS
    if (fd < 0) {
        send_error(R, q->seq, q->command, "attach: %s", err);
        return 0;
    }
    R->mode = MODE_ATTACH;
    if (connected(R, fd, body, len) < 0)
        send_error(R, q->seq, q->command, "attach: lost the connection to the program");
    return 0;
}

/* --- restart ------------------------------------------------------------- */

/* Remember the client's configuration requests (msg: the request, GIL held),
 * to replay them to the program after a restart. */
static void
remember_config(Relay *R, const char *cmd, PyObject *msg, PyObject *args)
{
    PyObject *key = NULL;
    if (strcmp(cmd, "setBreakpoints") == 0) {
        PyObject *src = args ? PyDict_GetItemString(args, "source") : NULL;
        PyObject *path = src && PyDict_Check(src) ? PyDict_GetItemString(src, "path") : NULL;
        if (path && PyUnicode_Check(path)) {
            key = Py_NewRef(path);
            PyDict_SetItem(R->cfg_bps, key, msg);
        }
    } else if (strcmp(cmd, "setFunctionBreakpoints") == 0) {
        key = PyUnicode_FromString(" functions");
        if (key)
            PyDict_SetItemString(R->cfg_other, cmd, msg);
    } else if (strcmp(cmd, "setExceptionBreakpoints") == 0) {
        PyDict_SetItemString(R->cfg_other, cmd, msg);
    } else if (strcmp(cmd, "configurationDone") == 0) {
        R->cfg_done = 1;
    }
    PyObject *seq = key ? PyDict_GetItemString(msg, "seq") : NULL;
    if (seq)
        PyDict_SetItem(R->cfg_pending, seq, key);
    Py_XDECREF(key);
    PyErr_Clear();
}

/* Send a copy of the client's request `msg` to the debuggee with our own
 * seq; `ids`: the client's breakpoint ids for it, or None. */
static void
replay(Relay *R, PyObject *msg, PyObject *ids)
{
    PyObject *copy = PyDict_Copy(msg);
    PyObject *seq = copy ? PyLong_FromLongLong(--R->replay_seq) : NULL;
    if (seq && PyDict_SetItemString(copy, "seq", seq) == 0 && PyDict_SetItem(R->replay, seq, ids) == 0)
        send_debuggee_obj(R, copy);
    Py_XDECREF(seq);
    Py_XDECREF(copy);
    PyErr_Clear();
}

/* Close the connection to the program for reading and wait for the relay
 * and output threads to end (GIL released while waiting). */
static void
join_program_threads(Relay *R)
{
    if (R->dfd >= 0)
        shutdown(R->dfd, SHUT_RDWR);
    Py_BEGIN_ALLOW_THREADS
    if (R->relay_started)
        pthread_join(R->relay_tid, NULL);
    if (R->watch_started)
        pthread_join(R->watch_tid, NULL);
    Py_END_ALLOW_THREADS
    R->relay_started = R->watch_started = 0;
}

/* End the launched program and forget it (its threads joined). GIL held. */
static void
end_for_restart(Relay *R)
{
    atomic_store(&R->restarting, 1);
    kill_child(R, 0);
    join_program_threads(R);
    if (R->dfd >= 0)
        close(R->dfd);
    R->dfd = -1;
    if (R->dw_ok)
        DapWriter_fini(&R->dw);
    R->dw_ok = 0;
    if (R->proc) {
        PyObject *res = PyObject_CallMethod(R->proc, "__exit__", "OOO", Py_None, Py_None, Py_None);
        Py_XDECREF(res);
        PyErr_Clear();
    }
    Py_CLEAR(R->proc);
    R->own_pid = 0;
    R->out_fd[0] = R->out_fd[1] = -1;
    atomic_store(&R->child_exited, 0);
    atomic_store(&R->exit_code, 0);
    atomic_store(&R->debuggee_closed, 0);
    atomic_store(&R->terminated_sent, 0);
    atomic_store(&R->init_swallowed, 0);
    atomic_store(&R->disconnect_answered, 0);
    atomic_store(&R->disconnect_seq, -1);
    PyDict_Clear(R->reverse);
    PyDict_Clear(R->replay);
    PyDict_Clear(R->cfg_pending);
    PyDict_Clear(R->bp_alias);
    R->bp_offset = R->bp_max;
    R->mode = MODE_NONE;
    atomic_store(&R->restarting, 0);
}

/* `restart` (supportsRestartRequest): a launched program ends (no exited
 * or terminated: the session goes on) and starts again with the same
 * launch arguments, or arguments.arguments when the client gives them (its
 * latest launch configuration); the client's breakpoints, function and
 * exception breakpoints and configurationDone are replayed, and each
 * breakpoint keeps its id. An attached program was not started here: the
 * request fails, saying so. */
static void
do_restart(Relay *R, long long seq, PyObject *command, PyObject *args)
{
    /* Owned */
    PyObject *launch = NULL, *newargs = NULL;
    JsonW w;

    JsonW_init(&w);
    if (R->mode == MODE_ATTACH) {
        send_error(R, seq, command, "restart: this program was started outside the debugger "
                   "(attach): it cannot be restarted from here; disconnect and attach again");
        goto done;
    }
    if (R->mode != MODE_LAUNCH || !R->launch_args) {
        send_error(R, seq, command, "restart: %s", R->mode == MODE_PENDING_TERMINAL
                   ? "waiting for the terminal to start the program" : "launch first");
        goto done;
    }
    if (!R->own_pid) {
        send_error(R, seq, command, "restart: the program runs in the client's terminal "
                   "(console: integratedTerminal/externalTerminal), which the debugger cannot "
                   "end and start again; stop and start the session instead");
        goto done;
    }
    PyObject *given = args ? PyDict_GetItemString(args, "arguments") : NULL;
    if (given && given != Py_None && !PyDict_Check(given)) {
        send_error(R, seq, command, "restart: 'arguments' must be the launch configuration (an object)");
        goto done;
    }
    newargs = PyDict_Copy(given && given != Py_None ? given : R->launch_args);
    if (!newargs)
        goto pyerror;
    PyObject *console = PyDict_GetItemString(newargs, "console");
    if (console && PyUnicode_Check(console) && R->client_rit
        && PyUnicode_CompareWithASCIIString(console, "internalConsole") != 0) {
        send_error(R, seq, command, "restart: the new configuration runs the program in the "
                   "client's terminal: stop and start the session instead");
        goto done;
    }
    /* A client's runInTerminal answer can no longer come for this one. */
    long long was_stopped = atomic_exchange(&R->last_stopped, -1);
    end_for_restart(R);
    if (was_stopped >= 0) {
        PyObject *b = Py_BuildValue("{s:L,s:O}", "threadId", was_stopped, "allThreadsContinued", Py_True);
        if (b)
            send_event(R, "continued", b);
        Py_XDECREF(b);
        PyErr_Clear();
    }
    launch = Py_BuildValue("{s:L,s:s,s:s,s:O}", "seq", --R->replay_seq, "type", "request",
                           "command", "launch", "arguments", newargs);
    if (!launch || PyDict_SetItem(R->replay, PyDict_GetItemString(launch, "seq"), Py_None) < 0
        || JsonW_obj(&w, launch) < 0 || w.nomem)
        goto pyerror;
    atomic_store(&R->swallow_initialized, 1);
    Req q = {R, seq, command, newargs};
    do_launch(R, &q, w.buf, (size_t)w.len);
    if (!R->dw_ok) {
        /* It did not start (the error went to the client): the session is over. */
        atomic_store(&R->swallow_initialized, 0);
        if (!atomic_exchange(&R->terminated_sent, 1))
            send_event(R, "terminated", NULL);
        goto done;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(R->cfg_bps, &pos, &k, &v)) {
        PyObject *ids = PyDict_GetItemWithError(R->cfg_ids, k);
        replay(R, v, ids ? ids : Py_None);
    }
    const char *others[] = {"setFunctionBreakpoints", "setExceptionBreakpoints"};
    for (int i = 0; i < 2; i++) {
        PyObject *m = PyDict_GetItemString(R->cfg_other, others[i]);
        PyObject *key = i == 0 ? PyUnicode_FromString(" functions") : NULL;
        PyObject *ids = key ? PyDict_GetItemWithError(R->cfg_ids, key) : NULL;
        if (m)
            replay(R, m, ids ? ids : Py_None);
        Py_XDECREF(key);
        PyErr_Clear();
    }
    if (R->cfg_done) {
        PyObject *cd = Py_BuildValue("{s:i,s:s,s:s}", "seq", 0, "type", "request", "command",
                                     "configurationDone");
        if (cd)
            replay(R, cd, Py_None);
        Py_XDECREF(cd);
    }
    PyErr_Clear();
    send_response(R, seq, command, 1, NULL, NULL);
    goto done;
pyerror:
    note("restart failed inside the adapter");
    PyErr_Print();
    send_error(R, seq, command, "restart: the adapter failed (see its stderr)");
done:
    JsonW_free(&w);
    Py_XDECREF(launch);
    Py_XDECREF(newargs);
}

/* --- the client -> adapter direction (caller's thread) --------------------- */

/* 1 when the session is over. */
static int
after_disconnect(Relay *R, PyObject *args)
{
    int terminate = R->own_pid != 0;
    PyObject *t = args ? PyDict_GetItemString(args, "terminateDebuggee") : NULL;
    if (t == Py_True || t == Py_False)
        terminate = t == Py_True;
    Py_BEGIN_ALLOW_THREADS
    long long until = now_ms() + ANSWER_TIMEOUT_MS;
    while (!atomic_load(&R->disconnect_answered) && !atomic_load(&R->debuggee_closed)
           && now_ms() < until)
        sleep_ms(10);
    Py_END_ALLOW_THREADS
    if (R->own_pid && terminate)
        kill_child(R, EXIT_GRACE_MS);
    return 1;
}

static int
handle_client_message(Relay *R, const char *body, size_t len)
{
    /* Owned */
    PyObject *msg = NULL;
    /* Borrowed */
    PyObject *type, *seqo, *command = NULL, *args;
    long long seq = 0;
    int rc = 0;

    msg = JsonR_parse(body, (Py_ssize_t)len, NULL);
    if (!msg) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyObject *s = ev ? PyObject_Str(ev) : NULL;
        PyErr_Clear();
        send_error(R, 0, NULL, "sleuth dap: %s", s ? PyUnicode_AsUTF8(s) : "invalid JSON");
        PyErr_Clear();
        Py_XDECREF(s);
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        goto done;
    }
    if (!PyDict_Check(msg)) {
        send_error(R, 0, NULL, "sleuth dap: a message must be a JSON object, not %s",
                   Py_TYPE(msg)->tp_name);
        goto done;
    }
    seqo = PyDict_GetItemString(msg, "seq");
    if (seqo && PyLong_Check(seqo) && !PyBool_Check(seqo)) {
        seq = PyLong_AsLongLong(seqo);
        if (seq == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            seq = 0;
        }
    }
    type = PyDict_GetItemString(msg, "type");
    command = PyDict_GetItemString(msg, "command");
    if (command && !PyUnicode_Check(command))
        command = NULL;
    if (!seqo || !PyLong_Check(seqo) || PyBool_Check(seqo)) {
        send_error(R, 0, command, "sleuth dap: a message needs an integer 'seq'");
        goto done;
    }
    if (!type || !PyUnicode_Check(type)) {
        send_error(R, seq, command, "sleuth dap: a message needs a 'type' "
                   "(request, response or event)");
        goto done;
    }
    if (PyUnicode_CompareWithASCIIString(type, "response") == 0) {
        /* An answer to a reverse request: ours (runInTerminal) or the debuggee's. */
        PyObject *rs = PyDict_GetItemString(msg, "request_seq");
        long long r = rs && PyLong_Check(rs) ? PyLong_AsLongLong(rs) : -1;
        PyErr_Clear();
        if (R->mode == MODE_PENDING_TERMINAL && r == R->rit_seq)
            finish_terminal_launch(R, msg);
        else if (rs && R->dw_ok && PyDict_Contains(R->reverse, rs) == 1) {
            PyObject *orig = PyDict_GetItem(R->reverse, rs);
            if (PyDict_SetItemString(msg, "request_seq", orig) == 0)
                send_debuggee_obj(R, msg);
            PyDict_DelItem(R->reverse, rs);
            PyErr_Clear();
        }
        goto done;
    }
    if (PyUnicode_CompareWithASCIIString(type, "request") != 0) {
        send_error(R, seq, command, "sleuth dap: a client sends requests and responses, "
                   "not '%s'", PyUnicode_AsUTF8(type));
        goto done;
    }
    if (!command) {
        send_error(R, seq, NULL, "sleuth dap: a request needs a string 'command'");
        goto done;
    }
    args = PyDict_GetItemString(msg, "arguments");
    if (args && args != Py_None && !PyDict_Check(args)) {
        send_error(R, seq, command, "%s: 'arguments' must be an object",
                   PyUnicode_AsUTF8(command));
        goto done;
    }
    if (args == Py_None)
        args = NULL;
    const char *cmd = PyUnicode_AsUTF8(command);
    if (!cmd) {
        PyErr_Clear();
        send_error(R, seq, NULL, "sleuth dap: bad command name");
        goto done;
    }
    int is_disconnect = strcmp(cmd, "disconnect") == 0;

    if (strcmp(cmd, "restart") == 0) {
        do_restart(R, seq, command, args);
        goto done;
    }
    /* Relaying: the debuggee answers everything. */
    if (R->dw_ok && !atomic_load(&R->debuggee_closed)) {
        remember_config(R, cmd, msg, args);
        if (strcmp(cmd, "initialize") == 0 || strcmp(cmd, "launch") == 0
            || strcmp(cmd, "attach") == 0) {
            send_error(R, seq, command, "%s: the session has already started", cmd);
            goto done;
        }
        if (is_disconnect)
            atomic_store(&R->disconnect_seq, seq);
        int wrc;
        Py_BEGIN_ALLOW_THREADS
        wrc = DapWire_write(&R->dw, body, len);
        Py_END_ALLOW_THREADS
        if (wrc < 0 && !is_disconnect)
            send_error(R, seq, command, "%s: the program is gone", cmd);
        if (is_disconnect) {
            rc = after_disconnect(R, args);
            if (!atomic_load(&R->disconnect_answered))
                send_response(R, seq, command, 1, NULL, NULL);
        }
        goto done;
    }

    /* The adapter alone. */
    if (R->mode == MODE_PENDING_TERMINAL && !is_disconnect) {
        send_error(R, seq, command, "%s: waiting for the terminal to start the program", cmd);
        goto done;
    }
    if (strcmp(cmd, "initialize") == 0) {
        if (R->initialized) {
            send_error(R, seq, command, "initialize: already initialized");
            goto done;
        }
        PyObject *caps = DapCaps_body();
        if (!caps) {
            rc = -1;
            goto done;
        }
        /* The adapter restarts what it launched (the debuggee server
         * alone does not: its capabilities leave it out). */
        if (PyDict_SetItemString(caps, "supportsRestartRequest", Py_True) < 0) {
            Py_DECREF(caps);
            rc = -1;
            goto done;
        }
        R->initialized = 1;
        R->init_request = Py_NewRef(msg);
        PyObject *rit = args ? PyDict_GetItemString(args, "supportsRunInTerminalRequest") : NULL;
        R->client_rit = rit == Py_True;
        send_response(R, seq, command, 1, NULL, caps);
        Py_DECREF(caps);
        goto done;
    }
    if (strcmp(cmd, "launch") == 0 || strcmp(cmd, "attach") == 0) {
        if (R->mode != MODE_NONE || R->dw_ok) {
            send_error(R, seq, command, "%s: the session has already %s", cmd,
                       atomic_load(&R->debuggee_closed) ? "ended" : "started");
            goto done;
        }
        PyObject *empty = NULL;
        if (!args) {
            empty = PyDict_New();
            if (!empty) {
                rc = -1;
                goto done;
            }
        }
        Req q = {R, seq, command, args ? args : empty};
        rc = cmd[0] == 'l' ? do_launch(R, &q, body, len) : do_attach(R, &q, body, len);
        Py_XDECREF(empty);
        goto done;
    }
    if (is_disconnect || strcmp(cmd, "terminate") == 0) {
        if (R->own_pid)
            kill_child(R, 0);
        send_response(R, seq, command, 1, NULL, NULL);
        rc = is_disconnect;
        goto done;
    }
    if (R->dw_ok)
        send_error(R, seq, command, "%s: the program has ended", cmd);
    else
        send_error(R, seq, command, "%s: launch or attach first", cmd);
done:
    Py_XDECREF(msg);
    return rc;
}

/* --- one client from start to end ------------------------------------------ */

int
Relay_serve(int in_fd, int out_fd)
{
    Relay *R = PyMem_Calloc(1, sizeof *R);
    int rc = 0, client_gone = 0;
    char err[256];

    if (!R) {
        PyErr_NoMemory();
        return -1;
    }
    R->dfd = R->pending_lfd = -1;
    R->out_fd[0] = R->out_fd[1] = -1;
    atomic_init(&R->disconnect_seq, -1);
    R->cr = PyMem_RawMalloc(sizeof *R->cr);
    R->reverse = PyDict_New();
    R->cfg_bps = PyDict_New();
    R->cfg_ids = PyDict_New();
    R->cfg_pending = PyDict_New();
    R->cfg_other = PyDict_New();
    R->replay = PyDict_New();
    R->bp_alias = PyDict_New();
    atomic_init(&R->last_stopped, -1);
    if (!R->cfg_bps || !R->cfg_ids || !R->cfg_pending || !R->cfg_other || !R->replay || !R->bp_alias) {
        Py_CLEAR(R->reverse);   /* reported below */
        Py_XDECREF(R->cfg_bps);
        Py_XDECREF(R->cfg_ids);
        Py_XDECREF(R->cfg_pending);
        Py_XDECREF(R->cfg_other);
        Py_XDECREF(R->replay);
        Py_XDECREF(R->bp_alias);
    }
    if (!R->cr || !R->reverse || DapWriter_init(&R->cw, out_fd) < 0) {
        PyMem_RawFree(R->cr);
        Py_XDECREF(R->reverse);
        PyMem_Free(R);
        PyErr_NoMemory();
        return -1;
    }
    DapReader_init(R->cr, in_fd);

    for (;;) {
        char *body = NULL;
        size_t len = 0;
        DapWireStatus st;
        Py_BEGIN_ALLOW_THREADS
        st = DapWire_read(R->cr, &body, &len, err, sizeof err);
        Py_END_ALLOW_THREADS
        if (st == DAPWIRE_EOF || st == DAPWIRE_FATAL) {
            if (st == DAPWIRE_FATAL)
                note("client connection: %s", err);
            client_gone = 1;
            break;
        }
        if (st == DAPWIRE_BAD) {
            send_error(R, 0, NULL, "sleuth dap: bad message framing: %s", err);
            continue;
        }
        int r = handle_client_message(R, body, len);
        free(body);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 1)
            break;
    }

    /* The end: a client that went away ends a program we launched; an
     * attached program goes on without the debugger. */
    if (client_gone || rc < 0)
        kill_child(R, 0);
    join_program_threads(R);
    if (R->dfd >= 0)
        close(R->dfd);
    if (R->pending_lfd >= 0)
        close(R->pending_lfd);
    if (R->dw_ok)
        DapWriter_fini(&R->dw);
    DapWriter_fini(&R->cw);
    if (R->proc) {
        PyObject *res = PyObject_CallMethod(R->proc, "__exit__", "OOO", Py_None, Py_None, Py_None);
        if (!res)
            PyErr_Clear();
        Py_XDECREF(res);
    }
    Py_XDECREF(R->proc);
    Py_XDECREF(R->init_request);
    Py_XDECREF(R->pending_launch);
    Py_XDECREF(R->reverse);
    Py_XDECREF(R->launch_args);
    Py_XDECREF(R->cfg_bps);
    Py_XDECREF(R->cfg_ids);
    Py_XDECREF(R->cfg_pending);
    Py_XDECREF(R->cfg_other);
    Py_XDECREF(R->replay);
    Py_XDECREF(R->bp_alias);
    PyMem_RawFree(R->cr);
    PyMem_Free(R);
    return rc;
}
