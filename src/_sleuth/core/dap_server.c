/* dap_server.c — the debuggee's DAP server: connection, reader thread, and
 * the requests served while the program runs (see dap_server.h). */
#include "dap_server.h"
#include "breakpoints.h"
#include "engine.h"
#include "util.h"
#include "dapcaps.h"
#include "redact.h"
#include "dapwire.h"
#include "jsonr.h"
#include "jsonw.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>


static DapServer *g_server;   /* the one server; its objects are visited by the module's GC hooks */

/* A forked child (os.fork, multiprocessing's fork start method) inherits
 * the server's sockets but none of its threads: a stop there used to send
 * `stopped` on the parent's connection and wait forever for commands that
 * the parent's reader took (the program hung), and its end sent `exited`
 * for the parent. The child runs without the debugger instead, as after a
 * client that left: set here (async-signal-safe), acted on with the GIL at
 * the child's first stop, event or end (Dap_forked_child). */
static volatile sig_atomic_t g_forked;
static int g_atfork_set;

static void
dap_atfork_child(void)
{
    g_forked = 1;
}

/* Replies go out as a header write then a body write: without this, Nagle's
 * algorithm holds the body until the client's delayed ACK of the header
 * (40 ms on Linux), so every request took 44 ms whatever it did. */
static void
no_delay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef TCP_NOTSENT_LOWAT
    /* A writer waits while this much is unsent in the kernel (see
     * "sending"): a response is written behind little output, not megabytes. */
    int lowat = 16 * 1024;
    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
#endif
}

DapServer *
Dap_current(void)
{
    return g_server;
}

/* The engine's stops of the server's debugger object (its session
 * frontend). A DAP client steps in to a function's first line, not its call
 * event, and out to the caller (where the call was), not the return event;
 * other returns do not stop it. */
static int
dap_frontend_stop(void *ctx, PyObject *frame, PyObject *value, PyObject *tb, SessionStop what)
{
    DapServer *srv = ctx;
    switch (what) {
    case SESSION_STOP_LINE:
        return Dap_stop(srv, frame, NULL, NULL, DAP_STOP_LINE);
    case SESSION_STOP_EXCEPTION:
        return Dap_stop(srv, frame, value, tb, DAP_STOP_EXCEPTION);
    case SESSION_STOP_RETURN: {
        if (frame != srv->pdb->returnframe || !PyFrame_Check(frame))
            return 0;
        PyObject *back = (PyObject *)PyFrame_GetBack((PyFrameObject *)frame);
        if (!back)
            return 0;
        int r = Dap_stop(srv, back, NULL, NULL, DAP_STOP_LINE);
        Py_DECREF(back);
        return r;
    }
    case SESSION_STOP_CALL:
        break;
    }
    return 0;
}

static const SessionFrontend dap_frontend = {dap_frontend_stop};

int
Dap_traverse(DapServer *srv, visitproc visit, void *arg)
{
    if (!srv)
        return 0;
    Py_VISIT(srv->pdb);
    Py_VISIT(srv->stopq);
    Py_VISIT(srv->bp_meta);
    Py_VISIT(srv->bp_by_file);
    Py_VISIT(srv->func_bps);
    Py_VISIT(srv->pending);
    Py_VISIT(srv->lib_prefixes);
    Py_VISIT(srv->thread_ids);
    Py_VISIT(srv->threads_known);
    return Session_traverse(&srv->session, visit, arg);
}

/* --- sending ----------------------------------------------------------------- */

/* Two ways out, so that a response never waits behind a flood of output:
 *
 *  - Responses and every event but `output` (stopped, thread, breakpoint,
 *    exited, terminated) are written by the thread that sends them, under
 *    write_lock, as before. While one waits for the lock, `urgent` is
 *    non-zero and the writer thread takes no new message: a response waits
 *    for at most the one output event being written.
 *  - `output` events (log points, from the program's threads) are numbered
 *    and written by a writer thread (plain C, never the GIL) from a queue of
 *    at most DAP_OUTQ_MAX bytes. When it is full the program's thread waits
 *    for room (the client reads slowly: the program goes at its pace, as
 *    before, nothing lost) for at most DAP_OUTQ_WAIT_MS; if no room comes
 *    (the client stopped reading), events are dropped and counted until the
 *    queue is half empty, and the client gets one `output` line saying how
 *    many, where they were. The program's thread never waits longer.
 *
 * The socket has TCP_NOTSENT_LOWAT (no_delay), so what waits in the kernel
 * unsent stays small and a response is not queued behind megabytes of
 * output there either. */

#define DAP_OUTQ_MAX (1024 * 1024)      /* bytes of queued output events */
#define DAP_OUTQ_WAIT_MS 1000           /* the longest a program thread waits for room */
#define DAP_OUTQ_FLUSH_MS 5000          /* the longest the end waits for the queue */

struct DapOutMsg {
    DapOutMsg *next;
    unsigned long gen;          /* the client it is for */
    unsigned long dropped;      /* a drop marker: how many were dropped here (len 0) */
    size_t len;                 /* the JSON text without "seq", starting after '{' */
    char text[];
};

/* What a message costs in the queue (a marker costs something, so the
 * markers are bounded too). */
static size_t
outmsg_cost(const DapOutMsg *m)
{
    return sizeof *m + m->len;
}

/* Take write_lock without holding the GIL while waiting: its holder
 * releases the GIL while it writes and needs it back to finish, so a
 * thread waiting for the lock with the GIL held would deadlock with it
 * (the program's thread sending an event, the reader thread a response). */
static void
lock_writes(DapServer *srv)
{
    if (PyThread_acquire_lock(srv->write_lock, NOWAIT_LOCK))
        return;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(srv->write_lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
}

/* The writer thread: one queued message at a time, numbered when it is
 * written. No Python here. */
static void *
output_writer(void *arg)
{
    DapServer *srv = arg;
    DapOutQueue *q = &srv->outq;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->head)
            pthread_cond_wait(&q->more, &q->mu);
        DapOutMsg *m = q->head;
        q->head = m->next;
        if (!q->head)
            q->tail = NULL;
        q->bytes -= outmsg_cost(m);
        if (q->bytes <= DAP_OUTQ_MAX / 2)
            q->dropping = 0;
        q->busy = 1;
        pthread_cond_broadcast(&q->room);
        pthread_mutex_unlock(&q->mu);

        /* Responses first: they wait for this one message at most. */
        while (atomic_load(&srv->urgent) > 0)
            usleep(200);
        PyThread_acquire_lock(srv->write_lock, WAIT_LOCK);
        if (srv->fd >= 0 && srv->connected && m->gen == srv->conn_gen) {
            char head[64], note[200];
            const char *rest = m->text;
            size_t nrest = m->len;
            if (m->dropped) {
                nrest = (size_t)snprintf(note, sizeof note,
                                         "\"type\": \"event\", \"event\": \"output\", \"body\": {\"category\": "
                                         "\"console\", \"output\": \"sleuth: %lu output events dropped here: "
                                         "the client did not read them\\n\"}}", m->dropped);
                rest = note;
            }
            /* {"seq": N,  by hand: snprintf cost more than the rest */
            char digits[24];
            size_t nh = 0, nd = 0;
            unsigned long long seq = (unsigned long long)(srv->seq + 1);
            do {
                digits[nd++] = (char)('0' + seq % 10);
                seq /= 10;
            } while (seq);
            memcpy(head, "{\"seq\": ", 8);
            nh = 8;
            while (nd)
                head[nh++] = digits[--nd];
            head[nh++] = ',';
            head[nh++] = ' ';
            srv->seq++;
            DapWire_write2(&srv->writer, head, nh, rest, nrest);
        }
        PyThread_release_lock(srv->write_lock);
        free(m);

        pthread_mutex_lock(&q->mu);
        q->busy = 0;
        pthread_cond_broadcast(&q->room);
        pthread_mutex_unlock(&q->mu);
    }
    return NULL;
}

static int
outq_init(DapServer *srv)
{
    DapOutQueue *q = &srv->outq;
    if (pthread_mutex_init(&q->mu, NULL) != 0)
        return -1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int r = pthread_cond_init(&q->more, NULL) == 0 && pthread_cond_init(&q->room, &ca) == 0 ? 0 : -1;
    pthread_condattr_destroy(&ca);
    return r;
}

/* Start the writer thread, with every signal blocked (they are the main
 * thread's). */
static int
outq_start(DapServer *srv)
{
    sigset_t all, old;
    pthread_t tid;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&tid, NULL, output_writer, srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -1;
    pthread_detach(tid);
    srv->outq.started = 1;
    return 0;
}

static void
deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Count one dropped event at the queue's end. Under q->mu. */
static void
outq_drop_unlocked(DapServer *srv)
{
    DapOutQueue *q = &srv->outq;
    if (q->tail && q->tail->dropped) {
        q->tail->dropped++;
        return;
    }
    DapOutMsg *mark = calloc(1, sizeof *mark);
    if (!mark)
        return;
    mark->gen = srv->conn_gen;
    mark->dropped = 1;
    if (q->tail)
        q->tail->next = mark;
    else
        q->head = mark;
    q->tail = mark;
    q->bytes += outmsg_cost(mark);
    pthread_cond_signal(&q->more);
}

/* Queue an output event's JSON text without its opening '{' and "seq"
 * (GIL held). Waits for room (GIL released) DAP_OUTQ_WAIT_MS at most. */
static int
outq_put_text(DapServer *srv, const char *text, size_t n)
{
    DapOutQueue *q = &srv->outq;
    DapOutMsg *m = malloc(sizeof *m + n);
    if (!m)
        return -1;
    memcpy(m->text, text, n);
    m->next = NULL;
    m->dropped = 0;
    m->len = n;
    m->gen = srv->conn_gen;
    size_t cost = outmsg_cost(m);

    pthread_mutex_lock(&q->mu);
    int fits = q->bytes + cost <= DAP_OUTQ_MAX;
    if (!fits && !q->dropping) {
        /* The client is behind: wait for room, without the GIL. */
        pthread_mutex_unlock(&q->mu);
        Py_BEGIN_ALLOW_THREADS
        struct timespec until;
        deadline_in(&until, DAP_OUTQ_WAIT_MS);
        pthread_mutex_lock(&q->mu);
        while (!(fits = q->bytes + cost <= DAP_OUTQ_MAX) && !q->dropping)
            if (pthread_cond_timedwait(&q->room, &q->mu, &until) == ETIMEDOUT) {
                q->dropping = !(q->bytes + cost <= DAP_OUTQ_MAX);
                fits = !q->dropping;
                break;
            }
        pthread_mutex_unlock(&q->mu);
        Py_END_ALLOW_THREADS
        pthread_mutex_lock(&q->mu);
        fits = fits && q->bytes + cost <= DAP_OUTQ_MAX;
    }
    if (fits && !q->dropping) {
        if (q->tail)
            q->tail->next = m;
        else
            q->head = m;
        q->tail = m;
        q->bytes += cost;
        pthread_cond_signal(&q->more);
        m = NULL;
    } else {
        outq_drop_unlocked(srv);
    }
    pthread_mutex_unlock(&q->mu);
    free(m);
    return 0;
}

/* Queue an output event (GIL held; msg has no "seq"). */
static int
outq_put(DapServer *srv, PyObject *msg)
{
    JsonW w;
    JsonW_init(&w);
    int r = -1;
    if (JsonW_obj(&w, msg) == 0 && !w.nomem && w.len >= 2 && w.buf[0] == '{')
        r = outq_put_text(srv, w.buf + 1, (size_t)w.len - 1);
    JsonW_free(&w);
    return r;
}

int
Dap_output_queued(DapServer *srv)
{
    return srv->outq.started && PyThread_get_thread_ident() != srv->reader_ident;
}

int
Dap_output_json(DapServer *srv, const char *text, size_t n)
{
    if (srv->fd < 0 || !srv->connected)
        return -1;
    return outq_put_text(srv, text, n);
}

/* Wait (GIL released) until every queued output event is written, at most
 * DAP_OUTQ_FLUSH_MS: what the program logged comes before its end. */
static void
outq_flush(DapServer *srv)
{
    DapOutQueue *q = &srv->outq;
    if (!q->started)
        return;
    Py_BEGIN_ALLOW_THREADS
    struct timespec until;
    deadline_in(&until, DAP_OUTQ_FLUSH_MS);
    pthread_mutex_lock(&q->mu);
    while ((q->head || q->busy) && srv->connected)
        if (pthread_cond_timedwait(&q->room, &q->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&q->mu);
    Py_END_ALLOW_THREADS
}

/* The client left: what was queued for it goes. */
static void
outq_clear(DapServer *srv)
{
    DapOutQueue *q = &srv->outq;
    pthread_mutex_lock(&q->mu);
    DapOutMsg *m = q->head;
    q->head = q->tail = NULL;
    q->bytes = 0;
    q->dropping = 0;
    pthread_cond_broadcast(&q->room);
    pthread_mutex_unlock(&q->mu);
    while (m) {
        DapOutMsg *next = m->next;
        free(m);
        m = next;
    }
}

int
Dap_send(DapServer *srv, PyObject *msg)
{
    if (srv->fd < 0 || !srv->connected)
        return 0;
    PyObject *saved = PyErr_GetRaisedException();
    int rc = -1;
    /* seq and the write go together: messages leave in seq order. */
    atomic_fetch_add(&srv->urgent, 1);
    lock_writes(srv);
    PyObject *seq = PyLong_FromLong(srv->seq + 1);
    JsonW w;
    JsonW_init(&w);
    PyObject *text = seq && PyDict_SetItemString(msg, "seq", seq) == 0 && JsonW_obj(&w, msg) == 0
                         ? JsonW_finish_bytes(&w) : NULL;
    JsonW_free(&w);
    Py_XDECREF(seq);
    if (text) {
        srv->seq++;
        const char *s = PyBytes_AS_STRING(text);
        size_t n = (size_t)PyBytes_GET_SIZE(text);
        int w_ok;
        Py_BEGIN_ALLOW_THREADS
        w_ok = DapWire_write(&srv->writer, s, n) == 0;
        Py_END_ALLOW_THREADS
        rc = w_ok ? 0 : -1;
    }
    PyThread_release_lock(srv->write_lock);
    atomic_fetch_sub(&srv->urgent, 1);
    Py_XDECREF(text);
    PyErr_Clear();      /* a message that cannot go out is the client's loss, not the program's */
    PyErr_SetRaisedException(saved);
    return rc;
}

/* Send `msg` (a new reference, or NULL on error: -1) with `body` if any,
 * and release it. */
static int
send_with_body(DapServer *srv, PyObject *msg, PyObject *body)
{
    if (!msg)
        return -1;
    int r = body ? PyDict_SetItemString(msg, "body", body) : 0;
    if (r == 0)
        r = Dap_send(srv, msg);
    Py_DECREF(msg);
    return r;
}

static void forget_client(DapServer *srv);

/* In a forked child, once: leave the parent's client (close this process's
 * copies of the sockets, fresh locks and queue: a thread of the parent may
 * have held them at the fork) and drop the client's breakpoints, so the
 * child runs on untraced. Returns 1 in such a child. GIL held. */
int
Dap_forked_child(DapServer *srv)
{
    if (!g_forked)
        return 0;
    if (srv->fd < 0 && srv->listen_fd < 0 && !srv->connected)
        return 1;   /* done already */
    if (srv->fd >= 0)
        close(srv->fd);
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    srv->fd = srv->listen_fd = -1;
    srv->writer.fd = -1;
    srv->connected = 0;
    srv->is_listen = 0;
    srv->reader_running = 0;
    srv->stopped_thread = 0;
    PyThread_type_lock wl = PyThread_allocate_lock(), tl = PyThread_allocate_lock();
    if (wl)
        srv->write_lock = wl;      /* (the old ones are left: they may be held) */
    if (tl)
        srv->threads_lock = tl;
    DapOutQueue *q = &srv->outq;
    for (DapOutMsg *m = q->head, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    q->head = q->tail = NULL;
    q->bytes = 0;
    q->dropping = q->busy = q->started = 0;
    (void)outq_init(srv);
    forget_client(srv);
    return 1;
}

int
Dap_event(DapServer *srv, const char *event, PyObject *body)
{
    if (g_forked && Dap_forked_child(srv))
        return 0;
    /* What the program logged before it stopped comes before the stop. */
    if (strcmp(event, "stopped") == 0)
        outq_flush(srv);
    PyObject *msg = Py_BuildValue("{s:s,s:s}", "type", "event", "event", event);
    /* Output from the program's threads goes through the queue. */
    if (msg && strcmp(event, "output") == 0 && srv->outq.started &&
        PyThread_get_thread_ident() != srv->reader_ident) {
        int r = -1;
        if (srv->fd >= 0 && srv->connected) {
            PyObject *saved = PyErr_GetRaisedException();
            r = (!body || PyDict_SetItemString(msg, "body", body) == 0) ? outq_put(srv, msg) : -1;
            PyErr_Clear();
            PyErr_SetRaisedException(saved);
        }
        Py_DECREF(msg);
        return r;
    }
    return send_with_body(srv, msg, body);
}

static PyObject *
response(PyObject *req, int success)
{
    PyObject *rs = req ? PyDict_GetItemString(req, "seq") : NULL;
    PyObject *cmd = req ? PyDict_GetItemString(req, "command") : NULL;
    if (!rs || !PyLong_Check(rs))
        rs = NULL;
    if (!cmd || !PyUnicode_Check(cmd))
        cmd = NULL;
    PyObject *zero = PyLong_FromLong(0);
    PyObject *empty = PyUnicode_FromString("");
    PyObject *msg = zero && empty ? Py_BuildValue("{s:s,s:O,s:O,s:O}", "type", "response", "request_seq",
                                                  rs ? rs : zero, "success", success ? Py_True : Py_False,
                                                  "command", cmd ? cmd : empty)
                                  : NULL;
    Py_XDECREF(zero);
    Py_XDECREF(empty);
    return msg;
}

int
Dap_respond(DapServer *srv, PyObject *req, PyObject *body)
{
    return send_with_body(srv, response(req, 1), body);
}

int
Dap_fail(DapServer *srv, PyObject *req, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    PyObject *text = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    PyObject *msg = text ? response(req, 0) : NULL;
    int r = -1;
    if (msg && PyDict_SetItemString(msg, "message", text) == 0)
        r = Dap_send(srv, msg);
    Py_XDECREF(msg);
    Py_XDECREF(text);
    PyErr_Clear();
    return r;
}

/* --- arguments ----------------------------------------------------------------- */

static PyObject *
arg_get(PyObject *args, const char *key)
{
    return args && PyDict_Check(args) ? PyDict_GetItemString(args, key) : NULL;
}

int
Dap_arg_long(DapServer *srv, PyObject *req, PyObject *args, const char *key, int required, long *out)
{
    PyObject *v = arg_get(args, key);
    if (!v || (v == Py_None && !required)) {
        if (required)
            Dap_fail(srv, req, "missing argument '%s'", key);
        return required ? -1 : 0;
    }
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        Dap_fail(srv, req, "argument '%s' must be an integer", key);
        return -1;
    }
    long n = PyLong_AsLong(v);
    if (n == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        Dap_fail(srv, req, "argument '%s' is out of range", key);
        return -1;
    }
    *out = n;
    return 1;
}

int
Dap_arg_str(DapServer *srv, PyObject *req, PyObject *args, const char *key, int required, PyObject **out)
{
    PyObject *v = arg_get(args, key);
    if (!v || (v == Py_None && !required)) {
        if (required)
            Dap_fail(srv, req, "missing argument '%s'", key);
        return required ? -1 : 0;
    }
    if (!PyUnicode_Check(v)) {
        Dap_fail(srv, req, "argument '%s' must be a string", key);
        return -1;
    }
    *out = v;   /* borrowed from args */
    return 1;
}

int
Dap_arg_bool(DapServer *srv, PyObject *req, PyObject *args, const char *key, int *out)
{
    PyObject *v = arg_get(args, key);
    if (!v || v == Py_None)
        return 0;
    if (!PyBool_Check(v)) {
        Dap_fail(srv, req, "argument '%s' must be true or false", key);
        return -1;
    }
    *out = v == Py_True;
    return 1;
}

/* --- breakpoints ------------------------------------------------------------------- */

void
Dap_set_running(DapServer *srv)
{
    PdbObject *d = srv->pdb;
    /* No botframe yet (sleuth.listen() in a running program): a stand-in
     * that no frame is, so that nothing steps and the first call event does
     * not take a random frame as the bottom of every stack. */
    if (!d->botframe)
        d->botframe = Py_NewRef(Py_Ellipsis);
    Engine_set_continue(d);
}

/* Re-arm the engine for the table as it is now (the program runs). */
static void
breaks_changed(DapServer *srv)
{
    Engine_breaks_changed();
    if (srv->stopped_thread)
        return;   /* the stopped thread re-arms when it goes on */
    if (!Engine_is_active(srv->pdb)) {
        if (PyDict_GET_SIZE(Sleuth_state()->breaks) == 0 && !srv->pdb->break_on_raise)
            return;
        Dap_set_running(srv);
        if (Engine_attach(srv->pdb) < 0)
            PyErr_Clear();
        return;
    }
    if (Engine_attach(srv->pdb) < 0)
        PyErr_Clear();
}

static int
delete_bp_numbers(ModState *st, PyObject *nums, PyObject *meta)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(nums); i++) {
        long n = PyLong_AsLong(PyList_GET_ITEM(nums, i));
        if (n > 0 && n < PyList_GET_SIZE(st->bpbynumber)) {
            PyObject *bp = PyList_GET_ITEM(st->bpbynumber, n);
            if (bp != Py_None && Breakpoint_delete(st, (BreakpointObject *)bp) < 0)
                return -1;
        }
        if (PyDict_DelItem(meta, PyList_GET_ITEM(nums, i)) < 0)
            PyErr_Clear();
    }
    return 0;
}

/* The lines that hold code in `code` and the code objects inside it (what
 * co_lines() names), added to the set `lines`. */
static int
add_code_lines(PyObject *code, PyObject *lines, int depth)
{
    PyObject *it = PyObject_CallMethod(code, "co_lines", NULL);
    PyObject *iter = it ? PyObject_GetIter(it) : NULL;
    Py_XDECREF(it);
    if (!iter)
        return -1;
    PyObject *t;
    while ((t = PyIter_Next(iter))) {
        PyObject *ln = PyTuple_Check(t) && PyTuple_GET_SIZE(t) == 3 ? PyTuple_GET_ITEM(t, 2) : Py_None;
        int r = ln != Py_None ? PySet_Add(lines, ln) : 0;
        Py_DECREF(t);
        if (r < 0) {
            Py_DECREF(iter);
            return -1;
        }
    }
    Py_DECREF(iter);
    if (PyErr_Occurred())
        return -1;
    PyObject *consts = ((PyCodeObject *)code)->co_consts;
    for (Py_ssize_t i = 0; depth < 100 && i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *c = PyTuple_GET_ITEM(consts, i);
        if (PyCode_Check(c) && add_code_lines(c, lines, depth + 1) < 0)
            return -1;
    }
    return 0;
}

/* The lines of `file` that can hold a breakpoint, from its source as it is
 * now on disk (compiled, not run), as debugpy verifies a breakpoint by its
 * path; NULL (no exception) when the source cannot be read or compiled yet. */
static PyObject *
file_code_lines(PyObject *file)
{
    /* Owned */
    PyObject *src_lines = NULL, *empty = NULL, *src = NULL, *code = NULL, *lines = NULL;

    PyObject *fresh = Util_call("linecache", "checkcache", "(O)", file);   /* edited since? */
    Py_XDECREF(fresh);
    PyErr_Clear();
    src_lines = Util_call("linecache", "getlines", "(O)", file);
    if (!src_lines || !PyList_Check(src_lines) || PyList_GET_SIZE(src_lines) == 0)
        goto done;
    empty = PyUnicode_FromString("");
    src = empty ? PyUnicode_Join(empty, src_lines) : NULL;
    const char *utf8 = src ? PyUnicode_AsUTF8(src) : NULL;
    PyCompilerFlags flags = _PyCompilerFlags_INIT;
    flags.cf_flags = PyCF_IGNORE_COOKIE;   /* linecache decoded it already */
    code = utf8 ? Py_CompileStringObject(utf8, file, Py_file_input, &flags, 0) : NULL;
    lines = code ? PySet_New(NULL) : NULL;
    if (lines && add_code_lines(code, lines, 0) < 0)
        Py_CLEAR(lines);
done:
    PyErr_Clear();
    Py_XDECREF(src_lines);
    Py_XDECREF(empty);
    Py_XDECREF(src);
    Py_XDECREF(code);
    return lines;
}

static int
line_in(PyObject *lines, long line)
{
    PyObject *n = PyLong_FromLong(line);
    int r = n ? PySet_Contains(lines, n) : -1;
    Py_XDECREF(n);
    PyErr_Clear();
    return r > 0;
}

#define PENDING_MESSAGE "Waiting for code to be loaded to verify breakpoint."
#define NO_CODE_MESSAGE "no code on this line"

static PyObject *
bp_body(BreakpointObject *bp, int verified, const char *message, PyObject *path)
{
    PyObject *d = Py_BuildValue("{s:l,s:O,s:i,s:{s:O}}", "id", bp ? bp->number : 0L, "verified",
                                verified ? Py_True : Py_False, "line", bp ? bp->line : 0, "source",
                                "path", path);
    if (d && message) {
        PyObject *m = PyUnicode_FromString(message);
        if (!m || PyDict_SetItemString(d, "message", m) < 0)
            Py_CLEAR(d);
        Py_XDECREF(m);
    }
    return d;
}

/* hitCondition as debugpy reads it: "N" or "==N", ">N", ">=N", "<N", "<=N",
 * "%N". 1 when valid. */
static int
hit_condition_valid(PyObject *hc)
{
    const char *s = PyUnicode_AsUTF8(hc);
    if (!s) {
        PyErr_Clear();
        return 0;
    }
    while (*s == ' ')
        s++;
    if (s[0] == '=' && s[1] == '=')
        s += 2;
    else if (s[0] == '>' || s[0] == '<')
        s += s[1] == '=' ? 2 : 1;
    else if (s[0] == '%')
        s++;
    while (*s == ' ')
        s++;
    if (!*s)
        return 0;
    char *end;
    strtol(s, &end, 10);
    while (*end == ' ')
        end++;
    return *end == 0;
}

static int
req_set_breakpoints(DapServer *srv, PyObject *req, PyObject *args)
{
    ModState *st = Sleuth_state();
    /* Owned */
    PyObject *canon = NULL, *out = NULL, *nums = NULL, *lines = NULL;

    PyObject *source = arg_get(args, "source"), *path = NULL;
    if (!source || !PyDict_Check(source))
        return Dap_fail(srv, req, "missing argument 'source'");
    if (Dap_arg_str(srv, req, source, "path", 1, &path) < 0)
        return 0;
    PyObject *bps = arg_get(args, "breakpoints");
    if (bps && bps != Py_None && !PyList_Check(bps))
        return Dap_fail(srv, req, "argument 'breakpoints' must be an array");
    for (Py_ssize_t i = 0; bps && bps != Py_None && i < PyList_GET_SIZE(bps); i++) {
        PyObject *b = PyList_GET_ITEM(bps, i);
        long line;
        PyObject *tmp;
        if (!PyDict_Check(b))
            return Dap_fail(srv, req, "each breakpoint must be an object");
        if (Dap_arg_long(srv, req, b, "line", 1, &line) < 0 ||
            Dap_arg_str(srv, req, b, "condition", 0, &tmp) < 0 ||
            Dap_arg_str(srv, req, b, "hitCondition", 0, &tmp) < 0 ||
            Dap_arg_str(srv, req, b, "logMessage", 0, &tmp) < 0)
            return 0;
    }
    canon = Engine_canonic(st, path);
    if (!canon)
        goto error;
    /* This source's previous breakpoints go. */
    PyObject *old = PyDict_GetItemWithError(srv->bp_by_file, canon);
    if (old && delete_bp_numbers(st, old, srv->bp_meta) < 0)
        goto error;
    if (PyErr_Occurred())
        goto error;
    out = PyList_New(0);
    nums = PyList_New(0);
    if (!out || !nums)
        goto error;
    /* NULL: not readable or not compilable now; verified when it loads. */
    lines = file_code_lines(canon);
    if (PyDict_DelItem(srv->pending, canon) < 0)
        PyErr_Clear();
    for (Py_ssize_t i = 0; bps && bps != Py_None && i < PyList_GET_SIZE(bps); i++) {
        PyObject *b = PyList_GET_ITEM(bps, i);
        long line = 0;
        PyObject *cond = NULL, *hit = NULL, *log = NULL, *body = NULL;
        Dap_arg_long(srv, req, b, "line", 1, &line);
        Dap_arg_str(srv, req, b, "condition", 0, &cond);
        Dap_arg_str(srv, req, b, "hitCondition", 0, &hit);
        Dap_arg_str(srv, req, b, "logMessage", 0, &log);
        if (cond && PyUnicode_GET_LENGTH(cond) == 0)
            cond = NULL;
        if (hit && PyUnicode_GET_LENGTH(hit) == 0)
            hit = NULL;
        const char *problem = NULL;
        PyObject *cerr = cond ? Breakpoint_compile_error(cond) : NULL;
        if (PyErr_Occurred())
            goto error;
        PyObject *bad_expr = NULL, *logparts = NULL;
        if (log && PyUnicode_GET_LENGTH(log) > 0) {
            logparts = DapLog_compile(log, &bad_expr);
            if (!logparts && !bad_expr) {
                Py_XDECREF(cerr);
                goto error;
            }
        }
        if (line <= 0 || line > INT_MAX || (lines && !line_in(lines, line)))
            problem = NO_CODE_MESSAGE;
        else if (cerr)
            problem = "invalid condition";
        else if (hit && !hit_condition_valid(hit))
            problem = "invalid hit condition (use N, ==N, >N, >=N, <N, <=N or %N)";
        else if (bad_expr)
            problem = "invalid expression in the log message";
        Py_XDECREF(cerr);
        Py_XDECREF(bad_expr);
        if (problem) {
            BreakpointObject fake = {.number = 0, .line = (int)line};
            body = bp_body(&fake, 0, problem, path);
            Py_XDECREF(logparts);
        } else {
            BreakpointObject *bp = Breakpoint_new(st, canon, (int)line, 0, cond, NULL);
            if (!bp) {
                Py_XDECREF(logparts);
                goto error;
            }
            PyObject *num = PyLong_FromLong(bp->number);
            PyObject *meta = Py_BuildValue("[OOsi]", logparts ? logparts : Py_None, hit ? hit : Py_None, "line", 0);
            Py_XDECREF(logparts);
            int bad = !num || !meta || PyList_Append(nums, num) < 0 ||
                      PyDict_SetItem(srv->bp_meta, num, meta) < 0;
            Py_XDECREF(num);
            Py_XDECREF(meta);
            if (bad)
                goto error;
            body = bp_body(bp, lines != NULL, lines ? NULL : PENDING_MESSAGE, path);
        }
        if (!body || PyList_Append(out, body) < 0) {
            Py_XDECREF(body);
            goto error;
        }
        Py_DECREF(body);
    }
    if (PyDict_SetItem(srv->bp_by_file, canon, nums) < 0)
        goto error;
    if (!lines && PyList_GET_SIZE(nums) > 0) {
        PyObject *p = Py_BuildValue("(OO)", path, nums);
        if (!p || PyDict_SetItem(srv->pending, canon, p) < 0) {
            Py_XDECREF(p);
            goto error;
        }
        Py_DECREF(p);
    }
    Py_XDECREF(lines);
    breaks_changed(srv);
    PyObject *rbody = Py_BuildValue("{s:O}", "breakpoints", out);
    if (rbody) {
        Dap_respond(srv, req, rbody);
        Py_DECREF(rbody);
    }
    Py_DECREF(canon);
    Py_DECREF(out);
    Py_DECREF(nums);
    return 0;
error:
    Dap_fail(srv, req, "%s", "could not set the breakpoints");
    PyErr_Clear();
    Py_XDECREF(lines);
    Py_XDECREF(canon);
    Py_XDECREF(out);
    Py_XDECREF(nums);
    return 0;
}

/* --- breakpoints verified when their code loads ------------------------------------ */

/* The code of a module (or any exec'd code) of a file with breakpoints not
 * verified yet: each is verified, or found on a line without code (and
 * removed from the engine's table), and the client hears it in a
 * `breakpoint` event (reason `changed`), as debugpy sends it. */
static void
code_loaded(DapServer *srv, PyObject *code)
{
    ModState *st = Sleuth_state();
    PyObject *canon = Engine_canonic(st, ((PyCodeObject *)code)->co_filename);
    PyObject *pend = canon ? PyDict_GetItemWithError(srv->pending, canon) : NULL;
    if (!pend) {
        Py_XDECREF(canon);
        return;
    }
    Py_INCREF(pend);
    PyDict_DelItem(srv->pending, canon);
    PyObject *lines = PySet_New(NULL);
    if (lines && add_code_lines(code, lines, 0) == 0) {
        PyObject *path = PyTuple_GET_ITEM(pend, 0), *nums = PyTuple_GET_ITEM(pend, 1);
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(nums); i++) {
            long n = PyLong_AsLong(PyList_GET_ITEM(nums, i));
            if (n <= 0 || n >= PyList_GET_SIZE(st->bpbynumber) || PyList_GET_ITEM(st->bpbynumber, n) == Py_None)
                continue;   /* deleted since */
            BreakpointObject *bp = (BreakpointObject *)PyList_GET_ITEM(st->bpbynumber, n);
            int ok = line_in(lines, bp->line);
            PyObject *b = bp_body(bp, ok, ok ? NULL : NO_CODE_MESSAGE, path);
            if (!ok) {
                Py_INCREF(bp);
                if (Breakpoint_delete(st, bp) < 0)
                    PyErr_Clear();
                Py_DECREF(bp);
                PyDict_DelItem(srv->bp_meta, PyList_GET_ITEM(nums, i));
                Engine_breaks_changed();
            }
            PyObject *ev = b ? Py_BuildValue("{s:s,s:O}", "reason", "changed", "breakpoint", b) : NULL;
            if (ev)
                Dap_event(srv, "breakpoint", ev);
            Py_XDECREF(ev);
            Py_XDECREF(b);
        }
    }
    Py_XDECREF(lines);
    Py_DECREF(pend);
    Py_DECREF(canon);
}

static int
audit_hook(const char *event, PyObject *args, void *data)
{
    SLEUTH_UNUSED(data);
    DapServer *srv = g_server;
    if (event[0] != 'e' || strcmp(event, "exec") != 0 || !srv || !srv->pending ||
        PyDict_GET_SIZE(srv->pending) == 0 || !PyTuple_Check(args) || PyTuple_GET_SIZE(args) < 1 ||
        !PyCode_Check(PyTuple_GET_ITEM(args, 0)) || PyThread_get_thread_ident() == srv->reader_ident)
        return 0;
    PyObject *saved = PyErr_GetRaisedException();
    code_loaded(srv, PyTuple_GET_ITEM(args, 0));
    PyErr_Clear();
    PyErr_SetRaisedException(saved);
    return 0;
}

/* A function named "name" or "module.name" (or "module.Class.name"), found
 * in the modules loaded now, by dictionary reads only (no user code). */
static PyObject *
find_function_code(PyObject *name)
{
    PyObject *modules = PySys_GetObject("modules");   /* borrowed */
    if (!modules || !PyDict_Check(modules))
        return NULL;
    PyObject *parts = PyUnicode_Split(name, NULL, -1);
    Py_XDECREF(parts);
    PyObject *dot = PyUnicode_FromString(".");
    PyObject *pieces = dot ? PyUnicode_Split(name, dot, -1) : NULL;
    Py_XDECREF(dot);
    if (!pieces) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *found = NULL;
    Py_ssize_t n = PyList_GET_SIZE(pieces);
    /* The longest prefix that names a module, then attributes from __dict__. */
    for (Py_ssize_t split = n - 1; split >= 0 && !found; split--) {
        PyObject *obj;
        Py_ssize_t k;
        if (split == 0) {
            obj = PyDict_GetItemString(modules, "__main__");
            k = 0;
        } else {
            PyObject *sep = PyUnicode_FromString(".");
            PyObject *head = sep ? PyList_GetSlice(pieces, 0, split) : NULL;
            PyObject *modname = head ? PyUnicode_Join(sep, head) : NULL;
            Py_XDECREF(sep);
            Py_XDECREF(head);
            obj = modname ? PyDict_GetItem(modules, modname) : NULL;
            Py_XDECREF(modname);
            k = split;
        }
        for (; obj && k < n; k++) {
            PyObject *dict = PyModule_Check(obj) ? PyModule_GetDict(obj)
                             : PyType_Check(obj) ? ((PyTypeObject *)obj)->tp_dict : NULL;
            obj = dict ? PyDict_GetItem(dict, PyList_GET_ITEM(pieces, k)) : NULL;
        }
        if (obj && PyFunction_Check(obj))
            found = Py_NewRef(PyFunction_GET_CODE(obj));
    }
    PyErr_Clear();
    Py_DECREF(pieces);
    return found;
}

static int
req_set_function_breakpoints(DapServer *srv, PyObject *req, PyObject *args)
{
    ModState *st = Sleuth_state();
    PyObject *bps = arg_get(args, "breakpoints");
    if (!bps || !PyList_Check(bps))
        return Dap_fail(srv, req, "argument 'breakpoints' must be an array");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(bps); i++) {
        PyObject *b = PyList_GET_ITEM(bps, i), *tmp;
        if (!PyDict_Check(b))
            return Dap_fail(srv, req, "each breakpoint must be an object");
        if (Dap_arg_str(srv, req, b, "name", 1, &tmp) < 0 || Dap_arg_str(srv, req, b, "condition", 0, &tmp) < 0 ||
            Dap_arg_str(srv, req, b, "hitCondition", 0, &tmp) < 0)
            return 0;
    }
    if (delete_bp_numbers(st, srv->func_bps, srv->bp_meta) < 0 || PyList_SetSlice(srv->func_bps, 0, PY_SSIZE_T_MAX, NULL) < 0)
        goto error;
    PyObject *out = PyList_New(0);
    if (!out)
        goto error;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(bps); i++) {
        PyObject *b = PyList_GET_ITEM(bps, i), *name = NULL, *cond = NULL, *hit = NULL, *body = NULL;
        Dap_arg_str(srv, req, b, "name", 1, &name);
        Dap_arg_str(srv, req, b, "condition", 0, &cond);
        Dap_arg_str(srv, req, b, "hitCondition", 0, &hit);
        if (cond && PyUnicode_GET_LENGTH(cond) == 0)
            cond = NULL;
        PyObject *code = find_function_code(name);
        PyObject *cerr = cond ? Breakpoint_compile_error(cond) : NULL;
        if (!code || cerr || (hit && !hit_condition_valid(hit))) {
            body = Py_BuildValue("{s:O,s:s}", "verified", Py_False, "message",
                                 !code ? "no such function loaded" : cerr ? "invalid condition" : "invalid hit condition");
        } else {
            PyCodeObject *co = (PyCodeObject *)code;
            PyObject *canon = Engine_canonic(st, co->co_filename);
            BreakpointObject *bp = canon ? Breakpoint_new(st, canon, co->co_firstlineno, 0, cond, co->co_name) : NULL;
            PyObject *num = bp ? PyLong_FromLong(bp->number) : NULL;
            PyObject *meta = num ? Py_BuildValue("[OOsi]", Py_None, hit ? hit : Py_None, "function", 0) : NULL;
            if (meta && PyList_Append(srv->func_bps, num) == 0 && PyDict_SetItem(srv->bp_meta, num, meta) == 0)
                body = bp_body(bp, 1, NULL, co->co_filename);
            Py_XDECREF(canon);
            Py_XDECREF(num);
            Py_XDECREF(meta);
        }
        Py_XDECREF(code);
        Py_XDECREF(cerr);
        if (!body || PyList_Append(out, body) < 0) {
            Py_XDECREF(body);
            Py_DECREF(out);
            goto error;
        }
        Py_DECREF(body);
    }
    breaks_changed(srv);
    PyObject *rbody = Py_BuildValue("{s:N}", "breakpoints", out);
    if (rbody) {
        Dap_respond(srv, req, rbody);
        Py_DECREF(rbody);
    }
    return 0;
error:
    PyErr_Clear();
    return Dap_fail(srv, req, "%s", "could not set the function breakpoints");
}

/* --- uncaught exceptions in threads -------------------------------------------- */

/* threading.excepthook while a client wants uncaught exceptions: a thread's
 * uncaught exception stops it there (post-mortem, its frames alive in the
 * traceback), then the hook that was there before (the function's self)
 * reports it as it would have. SystemExit ends a thread silently in
 * threading: no stop for it either. */
static PyObject *
thread_excepthook(PyObject *prev, PyObject *args)
{
    DapServer *srv = g_server;
    if (srv && srv->connected && srv->filter_uncaught && srv->configured) {
        PyObject *saved = PyErr_GetRaisedException();
        PyObject *value = PyObject_GetAttrString(args, "exc_value");
        PyObject *tb = value ? PyObject_GetAttrString(args, "exc_traceback") : NULL;
        ModState *st = Sleuth_state();
        if (tb && PyExceptionInstance_Check(value) &&
            !PyErr_GivenExceptionMatches(value, PyExc_SystemExit) &&
            !(st->BdbQuit && PyErr_GivenExceptionMatches(value, st->BdbQuit))) {
            if (Dap_stop(srv, NULL, value, tb, DAP_STOP_POST_MORTEM) < 0)
                PyErr_Clear();
        }
        Py_XDECREF(value);
        Py_XDECREF(tb);
        PyErr_Clear();
        PyErr_SetRaisedException(saved);
    }
    return PyObject_CallOneArg(prev, args);
}

static PyMethodDef thread_hook_def = {
    "excepthook", (PyCFunction)thread_excepthook, METH_O,
    "threading.excepthook that stops a DAP client at a thread's uncaught exception."};

/* Put the hook in (on) or take it out (off), leaving any hook the program
 * set meanwhile alone. */
static void
thread_hook(int on)
{
    PyObject *saved = PyErr_GetRaisedException();
    /* Never imported here: this runs in the reader thread, which threading
     * would take for the main thread (Dap_start imports it). */
    PyObject *name = PyUnicode_FromString("threading");
    PyObject *threading = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    PyObject *cur = threading ? PyObject_GetAttrString(threading, "excepthook") : NULL;
    int ours = cur && PyCFunction_Check(cur) && ((PyCFunctionObject *)cur)->m_ml == &thread_hook_def;
    if (cur && on && !ours) {
        PyObject *hook = PyCFunction_New(&thread_hook_def, cur);
        if (hook)
            (void)PyObject_SetAttrString(threading, "excepthook", hook);
        Py_XDECREF(hook);
    } else if (cur && !on && ours) {
        (void)PyObject_SetAttrString(threading, "excepthook", ((PyCFunctionObject *)cur)->m_self);
    }
    Py_XDECREF(cur);
    Py_XDECREF(threading);
    PyErr_Clear();
    PyErr_SetRaisedException(saved);
}

static int
req_set_exception_breakpoints(DapServer *srv, PyObject *req, PyObject *args)
{
    PyObject *filters = arg_get(args, "filters");
    if (!filters || !PyList_Check(filters))
        return Dap_fail(srv, req, "argument 'filters' must be an array");
    int raised = 0, uncaught = 0, user_unhandled = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(filters); i++) {
        PyObject *f = PyList_GET_ITEM(filters, i);
        if (!PyUnicode_Check(f))
            return Dap_fail(srv, req, "each filter must be a string");
        if (PyUnicode_CompareWithASCIIString(f, "raised") == 0)
            raised = 1;
        else if (PyUnicode_CompareWithASCIIString(f, "uncaught") == 0)
            uncaught = 1;
        else if (PyUnicode_CompareWithASCIIString(f, "userUnhandled") == 0)
            user_unhandled = 1;
        else
            return Dap_fail(srv, req, "unknown exception filter %R (this server offers 'raised', 'uncaught' "
                                      "and 'userUnhandled')", f);
    }
    srv->filter_raised = raised;
    srv->filter_uncaught = uncaught;
    srv->filter_user_unhandled = user_unhandled;
    thread_hook(uncaught);
    /* every exception event, in each frame it reaches, for both */
    srv->pdb->break_on_raise = raised || user_unhandled;
    breaks_changed(srv);
    return Dap_respond(srv, req, NULL);
}

/* Every breakpoint the client made goes, exception filters are off, the
 * stopped thread goes on: the program runs on without the debugger. */
static void
forget_client(DapServer *srv)
{
    ModState *st = Sleuth_state();
    PyObject *files = PyDict_Values(srv->bp_by_file);
    for (Py_ssize_t i = 0; files && i < PyList_GET_SIZE(files); i++)
        delete_bp_numbers(st, PyList_GET_ITEM(files, i), srv->bp_meta);
    Py_XDECREF(files);
    delete_bp_numbers(st, srv->func_bps, srv->bp_meta);
    PyErr_Clear();
    PyDict_Clear(srv->bp_by_file);
    PyDict_Clear(srv->pending);
    PyList_SetSlice(srv->func_bps, 0, PY_SSIZE_T_MAX, NULL);
    PyDict_Clear(srv->bp_meta);
    srv->filter_raised = srv->filter_user_unhandled = 0;
    srv->filter_uncaught = 1;   /* the default for the next client */
    srv->pdb->break_on_raise = 0;
    thread_hook(0);
    DapThreads_forget(srv);
    outq_clear(srv);
    srv->pause_requested = 0;
    srv->configured = 0;
    Engine_breaks_changed();
    if (srv->stopped_thread) {
        srv->resume_now = 1;
    } else if (Engine_is_active(srv->pdb)) {
        Dap_set_running(srv);
        if (Engine_resume(srv->pdb) < 0)
            PyErr_Clear();
    }
    PyErr_Clear();
}

/* --- the other requests while running ------------------------------------------- */

static int
req_initialize(DapServer *srv, PyObject *req, PyObject *args)
{
    /* debugpy sends no `continued` events to Visual Studio, which assumes
     * that a step resumes every thread and behaves erratically when told. */
    PyObject *client = arg_get(args, "clientID");
    srv->continued_events = !(client && PyUnicode_Check(client) &&
                              (PyUnicode_CompareWithASCIIString(client, "visualstudio") == 0 ||
                               PyUnicode_CompareWithASCIIString(client, "vsformac") == 0));
    PyObject *caps = DapCaps_body();
    if (!caps)
        return -1;
    int r = Dap_respond(srv, req, caps);
    Py_DECREF(caps);
    Dap_event(srv, "initialized", NULL);
    return r;
}

/* The variables view's redaction rules from launch/attach arguments:
 * `redact`: true (the default rules, as evidence files use), false (none),
 * or a list of name patterns that replaces the defaults; `redactExtra`: a
 * list of patterns added. 1 set, 0 unchanged, -1 (a failure was sent). */
static int
redaction_args(DapServer *srv, PyObject *req, PyObject *args)
{
    PyObject *r = arg_get(args, "redact"), *extra = arg_get(args, "redactExtra");
    if (r == Py_None)
        r = NULL;
    if (extra == Py_None)
        extra = NULL;
    if (r && !PyBool_Check(r) && !PyList_Check(r))
        return Dap_fail(srv, req, "%s", "argument 'redact' must be true, false or a list of strings"), -1;
    if (extra && !PyList_Check(extra))
        return Dap_fail(srv, req, "%s", "argument 'redactExtra' must be a list of strings"), -1;
    if (!r && !extra)
        return 0;
    PyObject *rules = NULL;
    if (r != Py_False) {
        rules = Redact_build(r && PyList_Check(r) ? r : NULL, extra);
        if (!rules) {
            PyObject *why = Session_take_error();
            Dap_fail(srv, req, "bad redaction rules: %U", why);
            Py_XDECREF(why);
            return -1;
        }
    }
    Py_XSETREF(srv->session.redact, rules);
    return 1;
}

static int
req_attach(DapServer *srv, PyObject *req, PyObject *args)
{
    int stop = srv->stop_on_entry, jmc = srv->just_my_code;
    if (Dap_arg_bool(srv, req, args, "stopOnEntry", &stop) < 0 ||
        Dap_arg_bool(srv, req, args, "justMyCode", &jmc) < 0 || redaction_args(srv, req, args) < 0)
        return 0;
    srv->stop_on_entry = stop;
    srv->just_my_code = jmc;
    PyObject *pid = Py_BuildValue("{s:s,s:i,s:O,s:s}", "name", "python", "systemProcessId", (int)getpid(),
                                  "isLocalProcess", Py_True, "startMethod", "attach");
    if (pid) {
        Dap_event(srv, "process", pid);
        Py_DECREF(pid);
    }
    int r = Dap_respond(srv, req, NULL);
    DapThreads_start(srv);
    return r;
}

static int
req_configuration_done(DapServer *srv, PyObject *req, PyObject *args)
{
    SLEUTH_UNUSED(args);
    srv->configured = 1;
    if (srv->filter_uncaught)
        thread_hook(1);   /* 'uncaught' is on by default */
    return Dap_respond(srv, req, NULL);
}

static int
req_threads(DapServer *srv, PyObject *req, PyObject *args)
{
    SLEUTH_UNUSED(args);
    PyObject *body = DapThreads_body(srv);
    int r = body ? Dap_respond(srv, req, body) : -1;
    Py_XDECREF(body);
    return r;
}


static int
req_pause(DapServer *srv, PyObject *req, PyObject *args)
{
    long tid = 0;
    if (Dap_arg_long(srv, req, args, "threadId", 0, &tid) < 0)
        return 0;
    unsigned long ident = tid > 0 ? DapThreads_ident(srv, tid) : srv->main_ident;
    if (!ident)
        return Dap_fail(srv, req, "no thread %ld", tid);
    if (srv->stopped_thread)
        return Dap_respond(srv, req, NULL);   /* already stopped */
    PdbObject *d = srv->pdb;
    if (!d->botframe)
        d->botframe = Py_NewRef(Py_Ellipsis);
    /* `step` for that thread: it stops at its next line (bdb's stepping
     * state names one thread; the backends arm it wherever it runs). */
    Engine_set_stopinfo(d, NULL, NULL, 0);
    d->step_thread = ident;
    srv->pause_requested = 1;
    if (Engine_attach(d) < 0) {
        PyErr_Clear();
        return Dap_fail(srv, req, "%s", "could not pause: the engine could not be armed");
    }
    return Dap_respond(srv, req, NULL);
}

static void
terminate_now(DapServer *srv)
{
    /* What the adapter would do with a kill: the program ends here, its
     * buffered output first. */
    PyObject *r = Util_call("sys", "exc_info", "()");
    Py_XDECREF(r);
    PyObject *out = PySys_GetObject("stdout"), *err = PySys_GetObject("stderr");
    if (out)
        Py_XDECREF(PyObject_CallMethod(out, "flush", NULL));
    if (err)
        Py_XDECREF(PyObject_CallMethod(err, "flush", NULL));
    PyErr_Clear();
    outq_flush(srv);
    Dap_event(srv, "terminated", NULL);
    _exit(0);
}

static int
req_disconnect(DapServer *srv, PyObject *req, PyObject *args)
{
    int terminate = 0;
    if (Dap_arg_bool(srv, req, args, "terminateDebuggee", &terminate) < 0)
        return 0;
    Dap_respond(srv, req, NULL);
    if (terminate)
        terminate_now(srv);
    forget_client(srv);
    srv->connected = 0;
    return 0;
}

static int
req_terminate(DapServer *srv, PyObject *req, PyObject *args)
{
    SLEUTH_UNUSED(args);
    Dap_respond(srv, req, NULL);
    terminate_now(srv);
    return 0;
}

/* --- dispatch --------------------------------------------------------------------- */

typedef int (*Handler)(DapServer *, PyObject *, PyObject *);

static const struct {
    const char *name;
    Handler fn;   /* NULL: for the stopped thread */
} COMMANDS[] = {
    {"initialize", req_initialize},
    {"attach", req_attach},
    {"launch", req_attach},
    {"configurationDone", req_configuration_done},
    {"setBreakpoints", req_set_breakpoints},
    {"setFunctionBreakpoints", req_set_function_breakpoints},
    {"setExceptionBreakpoints", req_set_exception_breakpoints},
    {"threads", req_threads},
    {"pause", req_pause},
    {"disconnect", req_disconnect},
    {"terminate", req_terminate},
    {"loadedSources", DapSource_loaded_request},
    {"source", DapSource_request},
    {"stackTrace", NULL},
    {"scopes", NULL},
    {"variables", NULL},
    {"evaluate", NULL},
    {"setVariable", NULL},
    {"setExpression", NULL},
    {"exceptionInfo", NULL},
    {"continue", NULL},
    {"next", NULL},
    {"stepIn", NULL},
    {"stepOut", NULL},
    {"goto", NULL},
    {"gotoTargets", NULL},
    {"completions", NULL},
    {NULL, NULL},
};

static void
handle_message(DapServer *srv, const char *body, size_t len)
{
    PyObject *req = JsonR_parse(body, (Py_ssize_t)len, NULL);
    if (!req) {
        PyObject *why = Session_take_error();
        Dap_fail(srv, NULL, "invalid message: %U", why);
        Py_XDECREF(why);
        return;
    }
    if (!PyDict_Check(req)) {
        Dap_fail(srv, NULL, "%s", "a message must be a JSON object");
        goto done;
    }
    PyObject *type = PyDict_GetItemString(req, "type"), *cmd = PyDict_GetItemString(req, "command");
    PyObject *seq = PyDict_GetItemString(req, "seq");
    if (!type || !PyUnicode_Check(type) || PyUnicode_CompareWithASCIIString(type, "request") != 0) {
        /* Responses to reverse requests and events from a client: nothing
         * here asks for them. */
        if (!(type && PyUnicode_Check(type) && PyUnicode_CompareWithASCIIString(type, "response") == 0))
            Dap_fail(srv, NULL, "%s", "a message must have \"type\": \"request\"");
        goto done;
    }
    if (!seq || !PyLong_Check(seq)) {
        Dap_fail(srv, req, "%s", "a request needs an integer 'seq'");
        goto done;
    }
    if (!cmd || !PyUnicode_Check(cmd)) {
        Dap_fail(srv, req, "%s", "a request needs a string 'command'");
        goto done;
    }
    PyObject *args = PyDict_GetItemString(req, "arguments");
    if (args && args != Py_None && !PyDict_Check(args)) {
        Dap_fail(srv, req, "%s", "'arguments' must be an object");
        goto done;
    }
    const char *name = PyUnicode_AsUTF8(cmd);
    if (!name) {
        PyErr_Clear();
        Dap_fail(srv, req, "%s", "bad command name");
        goto done;
    }
    for (int i = 0; COMMANDS[i].name; i++) {
        if (strcmp(COMMANDS[i].name, name) != 0)
            continue;
        if (COMMANDS[i].fn) {
            if (COMMANDS[i].fn(srv, req, args) < 0)
                Dap_fail(srv, req, "%s", "internal error");
        } else if (srv->stopped_thread) {
            if (PyList_Append(srv->stopq, req) < 0)
                Dap_fail(srv, req, "%s", "internal error");
        } else if (strcmp(name, "continue") == 0) {
            PyObject *b = Py_BuildValue("{s:O}", "allThreadsContinued", Py_True);
            Dap_respond(srv, req, b);
            Py_XDECREF(b);
        } else {
            Dap_fail(srv, req, "%s", "no thread is stopped");
        }
        PyErr_Clear();
        goto done;
    }
    Dap_fail(srv, req, "unknown command %R", cmd);
done:
    PyErr_Clear();
    Py_DECREF(req);
}

/* --- the reader thread -------------------------------------------------------------- */

static void
reader_thread(void *arg)
{
    DapServer *srv = arg;
    PyGILState_STATE g = PyGILState_Ensure();
    srv->reader_ident = PyThread_get_thread_ident();
    DapReader *rd = PyMem_RawCalloc(1, sizeof(DapReader));
    for (;;) {
        if (srv->fd < 0 && srv->listen_fd >= 0) {
            int lfd = srv->listen_fd, fd;
            Py_BEGIN_ALLOW_THREADS
            do
                fd = accept(lfd, NULL, NULL);
            while (fd < 0 && errno == EINTR);
            Py_END_ALLOW_THREADS
            if (fd < 0)
                break;
            no_delay(fd);
            lock_writes(srv);
            srv->fd = fd;
            srv->writer.fd = fd;
            srv->seq = 0;
            srv->conn_gen++;
            PyThread_release_lock(srv->write_lock);
            srv->connected = 1;
        }
        if (srv->fd < 0 || !rd)
            break;
        DapReader_init(rd, srv->fd);
        for (;;) {
            char *body = NULL;
            size_t len = 0;
            char err[200] = "";
            DapWireStatus r;
            if (rd->start == rd->end) {
                /* Nothing buffered: wait a while for the client, and when
                 * it has nothing to say, look at the threads. */
                struct pollfd pfd = {.fd = srv->fd, .events = POLLIN};
                int ready;
                Py_BEGIN_ALLOW_THREADS
                /* The GIL only when there is something to read or the
                 * threads may have changed. */
                do
                    ready = poll(&pfd, 1, DAP_THREAD_POLL_MS);
                while (ready == 0 && !DapThreads_may_have_changed(srv));
                Py_END_ALLOW_THREADS
                if (ready == 0 || (ready < 0 && errno == EINTR)) {
                    if (ready == 0)
                        DapThreads_scan(srv);
                    continue;
                }
            }
            Py_BEGIN_ALLOW_THREADS
            r = DapWire_read(rd, &body, &len, err, sizeof err);
            Py_END_ALLOW_THREADS
            if (r == DAPWIRE_EOF || r == DAPWIRE_FATAL)
                break;
            if (r == DAPWIRE_BAD) {
                Dap_fail(srv, NULL, "%s", err);
                continue;
            }
            handle_message(srv, body, len);
            free(body);
            if (!srv->connected)
                break;
        }
        /* The client left (disconnect, or the socket closed). */
        if (srv->connected)
            forget_client(srv);
        srv->connected = 0;
        lock_writes(srv);
        close(srv->fd);
        srv->fd = -1;
        srv->writer.fd = -1;
        PyThread_release_lock(srv->write_lock);
        if (!srv->is_listen)
            break;
    }
    PyMem_RawFree(rd);
    srv->reader_running = 0;
    PyGILState_Release(g);
}

/* --- starting ------------------------------------------------------------------------ */

static int
is_loopback(const char *host)
{
    return strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
           strncmp(host, "127.", 4) == 0;
}

static PyObject *
library_prefixes(void)
{
    /* The standard library and site-packages, as sysconfig names them, and
     * sleuth's own package. */
    PyObject *paths = Util_call("sysconfig", "get_paths", "()");
    PyObject *out = PyList_New(0);
    if (!paths || !out || !PyDict_Check(paths))
        goto done;
    const char *keys[] = {"stdlib", "platstdlib", "purelib", "platlib"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        PyObject *p = PyDict_GetItemString(paths, keys[i]);
        if (p && PyUnicode_Check(p)) {
            PyObject *real = Util_call("os.path", "realpath", "(O)", p);
            if (real) {
                PyList_Append(out, real);
                Py_DECREF(real);
            }
            PyList_Append(out, p);
        }
    }
done:
    PyErr_Clear();
    Py_XDECREF(paths);
    PyObject *t = out ? PyList_AsTuple(out) : NULL;
    Py_XDECREF(out);
    return t;
}

int
Dap_is_library_frame(DapServer *srv, PyObject *frame)
{
    PyObject *code = Pdb_frame_code(frame);
    if (!code) {
        PyErr_Clear();
        return 0;
    }
    PyObject *file = ((PyCodeObject *)code)->co_filename;
    int lib = 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(file);
    if (n >= 2 && PyUnicode_READ_CHAR(file, 0) == '<')
        lib = PyUnicode_READ_CHAR(file, 1) == 'f';   /* <frozen ...> */
    for (Py_ssize_t i = 0; !lib && srv->lib_prefixes && i < PyTuple_GET_SIZE(srv->lib_prefixes); i++) {
        PyObject *p = PyTuple_GET_ITEM(srv->lib_prefixes, i);
        lib = PyUnicode_Tailmatch(file, p, 0, n, -1) == 1;
    }
    PyErr_Clear();
    Py_DECREF(code);
    return lib;
}

static DapServer *
server_new(void)
{
    DapServer *srv = PyMem_RawCalloc(1, sizeof(DapServer));
    if (!srv) {
        PyErr_NoMemory();
        return NULL;
    }
    srv->listen_fd = srv->fd = -1;
    srv->just_my_code = 1;
    srv->entry_pending = 1;
    srv->filter_uncaught = 1;
    srv->continued_events = 1;
    srv->write_lock = PyThread_allocate_lock();
    srv->pdb = (PdbObject *)PyObject_CallNoArgs((PyObject *)Sleuth_state()->PdbType);
    srv->stopq = PyList_New(0);
    srv->bp_meta = PyDict_New();
    srv->bp_by_file = PyDict_New();
    srv->func_bps = PyList_New(0);
    srv->pending = PyDict_New();
    srv->thread_ids = PyDict_New();
    srv->threads_known = PyDict_New();
    srv->threads_lock = PyThread_allocate_lock();
    srv->lib_prefixes = library_prefixes();
    /* The variables view hides secrets as evidence files do, unless the
     * launch/attach arguments say otherwise (redaction_args). */
    srv->session.redact = Redact_build(NULL, NULL);
    PyErr_Clear();
    DapWriter_init(&srv->writer, -1);
    if (outq_init(srv) < 0)
        Py_CLEAR(srv->stopq);   /* (reported below as a failure) */
    if (!srv->write_lock || !srv->pdb || !srv->stopq || !srv->bp_meta || !srv->bp_by_file ||
        !srv->func_bps || !srv->pending || !srv->thread_ids || !srv->threads_known || !srv->threads_lock) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        Py_XDECREF(srv->pdb);
        Py_XDECREF(srv->stopq);
        Py_XDECREF(srv->bp_meta);
        Py_XDECREF(srv->bp_by_file);
        Py_XDECREF(srv->func_bps);
        Py_XDECREF(srv->pending);
        Py_XDECREF(srv->thread_ids);
        Py_XDECREF(srv->threads_known);
        if (srv->threads_lock)
            PyThread_free_lock(srv->threads_lock);
        Py_XDECREF(srv->lib_prefixes);
        if (srv->write_lock)
            PyThread_free_lock(srv->write_lock);
        PyMem_RawFree(srv);
        return NULL;
    }
    srv->pdb->frontend = &dap_frontend;
    srv->pdb->frontend_ctx = srv;
    return srv;
}

DapServer *
Dap_start(const char *host, int port, int listen_mode, int allow_remote)
{
    if (g_server) {
        PyErr_SetString(PyExc_RuntimeError, "a DAP server is already running in this process");
        return NULL;
    }
    if (listen_mode && !is_loopback(host) && !allow_remote) {
        PyErr_Format(PyExc_ValueError,
                     "refusing to listen on %s: a connected client can run any code; "
                     "pass --allow-remote to allow it", host);
        return NULL;
    }
    if (listen_mode && !is_loopback(host))
        PySys_WriteStderr("sleuth: warning: listening on %s: anyone who can connect can run code in this process\n", host);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = listen_mode ? AI_PASSIVE : 0;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int gai, fd = -1;
    Py_BEGIN_ALLOW_THREADS
    gai = getaddrinfo(host, portstr, &hints, &ai);
    Py_END_ALLOW_THREADS
    if (gai != 0) {
        PyErr_Format(PyExc_OSError, "cannot resolve %s: %s", host, gai_strerror(gai));
        return NULL;
    }
    int ok = 0, err = 0;
    Py_BEGIN_ALLOW_THREADS
    for (struct addrinfo *p = ai; p && !ok; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (listen_mode) {
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            ok = bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, 1) == 0;
        } else {
            ok = connect(fd, p->ai_addr, p->ai_addrlen) == 0;
            if (ok)
                no_delay(fd);
        }
        if (!ok) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    Py_END_ALLOW_THREADS
    freeaddrinfo(ai);
    if (!ok) {
        PyErr_Format(PyExc_OSError, "cannot %s %s:%d: %s", listen_mode ? "listen on" : "connect to", host,
                     port, strerror(err));
        return NULL;
    }
    DapServer *srv = server_new();
    if (!srv) {
        close(fd);
        return NULL;
    }
    snprintf(srv->host, sizeof srv->host, "%s", host);
    srv->port = port;
    if (listen_mode) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
            srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                       : ((struct sockaddr_in *)&ss)->sin_port);
        srv->listen_fd = fd;
        srv->is_listen = 1;
    } else {
        srv->fd = fd;
        srv->writer.fd = fd;
        srv->connected = 1;
    }
    srv->main_ident = PyThread_get_thread_ident();
    if (outq_start(srv) < 0)
        PyErr_Clear();      /* no writer thread: output events are written directly */
    g_server = srv;
    if (!g_atfork_set && pthread_atfork(NULL, NULL, dap_atfork_child) == 0)
        g_atfork_set = 1;
    if (PySys_AddAuditHook(audit_hook, NULL) < 0)
        PyErr_Clear();      /* refused by another hook: breakpoints stay waiting */
    /* threading.excepthook is where a thread's uncaught exception stops
     * (thread_hook): threading is imported here, in the program's thread. */
    PyObject *threading = PyImport_ImportModule("threading");
    Py_XDECREF(threading);
    PyErr_Clear();
    srv->reader_running = 1;
    if (PyThread_start_new_thread(reader_thread, srv) == PYTHREAD_INVALID_THREAD_ID) {
        srv->reader_running = 0;
        PyErr_SetString(PyExc_RuntimeError, "cannot start the DAP reader thread");
        return NULL;
    }
    if (listen_mode)
        PySys_WriteStderr("sleuth: listening on %s:%d\n", srv->host, srv->port);
    /* breakpoint() stops in the client (PYTHONBREAKPOINT, when set, wins as usual). */
    const char *env = getenv("PYTHONBREAKPOINT");
    if (!env || !*env) {
        PyObject *mod = PyImport_ImportModule("sleuth");
        PyObject *st = mod ? PyObject_GetAttrString(mod, "set_trace") : NULL;
        if (st)
            PySys_SetObject("breakpointhook", st);
        Py_XDECREF(st);
        Py_XDECREF(mod);
        PyErr_Clear();
    }
    return srv;
}

int
Dap_wait_configured(DapServer *srv)
{
    while (!srv->configured && (srv->connected || (srv->is_listen && srv->reader_running))) {
        Py_BEGIN_ALLOW_THREADS
        usleep(2000);
        Py_END_ALLOW_THREADS
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
    return srv->configured;
}

void
Dap_program_ended(DapServer *srv, int exit_code)
{
    if (g_forked && Dap_forked_child(srv))
        return;     /* a forked child's end is not the program's */
    DapThreads_scan(srv);   /* the threads that ended before the program */
    outq_flush(srv);        /* what it logged comes first */
    if (exit_code >= 0) {
        PyObject *b = Py_BuildValue("{s:i}", "exitCode", exit_code);
        if (b) {
            Dap_event(srv, "exited", b);
            Py_DECREF(b);
        }
    }
    Dap_event(srv, "terminated", NULL);
    PyErr_Clear();
    /* Done: a reader blocked in recv ends with the process. */
    if (srv->fd >= 0)
        shutdown(srv->fd, SHUT_WR);
}

/* --- Python API ------------------------------------------------------------------------ */

PyObject *
Dap_listen_py(PyObject *module, PyObject *args, PyObject *kwds)
{
    SLEUTH_UNUSED(module);
    static char *kwlist[] = {"address", "allow_remote", NULL};
    PyObject *address;
    int allow_remote = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$p:listen", kwlist, &address, &allow_remote))
        return NULL;
    const char *host = "127.0.0.1";
    long port;
    if (PyLong_Check(address)) {
        port = PyLong_AsLong(address);
    } else if (PyTuple_Check(address) && PyTuple_GET_SIZE(address) == 2 &&
               PyUnicode_Check(PyTuple_GET_ITEM(address, 0)) && PyLong_Check(PyTuple_GET_ITEM(address, 1))) {
        host = PyUnicode_AsUTF8(PyTuple_GET_ITEM(address, 0));
        port = PyLong_AsLong(PyTuple_GET_ITEM(address, 1));
        if (!host)
            return NULL;
    } else {
        PyErr_SetString(PyExc_TypeError, "listen() takes a port or a (host, port) tuple");
        return NULL;
    }
    if (port == -1 && PyErr_Occurred())
        return NULL;
    if (port < 0 || port > 65535) {
        PyErr_SetString(PyExc_ValueError, "port must be 0-65535");
        return NULL;
    }
    DapServer *srv = Dap_start(host, (int)port, 1, allow_remote);
    if (!srv)
        return NULL;
    srv->entry_pending = 0;
    return Py_BuildValue("(si)", srv->host, srv->port);
}

PyObject *
Dap_wait_for_client_py(PyObject *module, PyObject *unused)
{
    SLEUTH_UNUSED(module);
    SLEUTH_UNUSED(unused);
    DapServer *srv = g_server;
    if (!srv) {
        PyErr_SetString(PyExc_RuntimeError, "wait_for_client() needs listen() first");
        return NULL;
    }
    if (Dap_wait_configured(srv) < 0)
        return NULL;
    Py_RETURN_NONE;
}
