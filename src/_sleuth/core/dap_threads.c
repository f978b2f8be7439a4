/* dap_threads.c — the program's threads as a DAP client sees them.
 *
 * Thread ids: small integers (1, 2, ...) handed out in the order threads are
 * first seen, never reused in the process, as debugpy does. The same id is
 * in `threads`, `stopped`, `thread` events and every threadId argument. An OS
 * thread ident would do for the protocol, but idents are reused as soon as a
 * thread ends (pthread_t is an address), and a client would take a new
 * thread for the old one.
 *
 * Which threads: every thread state of the interpreter but the reader
 * thread's (threads started with _thread, or by C code through
 * PyGILState_Ensure, count too). Names come from threading._active when
 * threading is loaded (read as dicts: no user code runs, and threading is
 * never imported here: importing it from the reader thread makes that thread
 * threading's main thread).
 *
 * `thread` events: the interpreter tells no one when a thread starts or
 * ends, so the list is compared with the last one: whenever the reader has
 * had nothing to read for DAP_THREAD_POLL_MS, before each `stopped` event (a
 * new thread's `started` comes first), before answering `threads`, and when
 * the program ends. The idle reader looks only when the process's OS threads
 * (/proc/self/task) changed since the last scan, so it does not take the GIL
 * five times a second for nothing; a scan that saw a thread state not bound
 * to its thread yet (thread_id 0) makes it look again at the next tick. One scan at a time (threads_lock), so a `started` is
 * never overtaken by a `stopped` of the same thread.
 *
 * All functions here: GIL held.
 */
#include "dap_server.h"
#include <dirent.h>
#include <stdlib.h>

/* A signature of the process's OS threads (/proc/self/task), read without
 * the GIL: when it has not changed since the last scan, no Python thread
 * can have started or ended, and the reader need not take the GIL to look.
 * 0 when it cannot be read (then the reader always looks). */
unsigned long long
DapThreads_os_signature(void)
{
    DIR *dir = opendir("/proc/self/task");
    if (!dir)
        return 0;
    unsigned long long sum = 0, x = 0, count = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        unsigned long long t = strtoull(e->d_name, NULL, 10);
        t *= 0x9E3779B97F4A7C15ULL;     /* spread the bits: ids are close together */
        t ^= t >> 29;
        sum += t;
        x ^= t;
        count++;
    }
    closedir(dir);
    unsigned long long sig = (sum ^ (x << 1)) + count * 0x100000001B3ULL;
    return sig ? sig : 1;
}

int
DapThreads_may_have_changed(DapServer *srv)
{
    if (!srv->threads_announced)
        return 0;       /* the scan would do nothing */
    unsigned long long seen = atomic_load(&srv->os_threads_seen);
    return seen == 0 || DapThreads_os_signature() != seen;
}

static PyObject *
ident_key(unsigned long ident)
{
    return PyLong_FromUnsignedLong(ident);
}

long
DapThreads_id(DapServer *srv, unsigned long ident)
{
    PyObject *key = ident_key(ident);
    if (!key)
        goto error;
    PyObject *id = PyDict_GetItemWithError(srv->thread_ids, key);   /* borrowed */
    if (id) {
        Py_DECREF(key);
        return PyLong_AsLong(id);
    }
    if (PyErr_Occurred()) {
        Py_DECREF(key);
        goto error;
    }
    long n = ++srv->last_thread_id;
    PyObject *val = PyLong_FromLong(n);
    int r = val ? PyDict_SetItem(srv->thread_ids, key, val) : -1;
    Py_XDECREF(val);
    Py_DECREF(key);
    if (r < 0)
        goto error;
    return n;
error:
    PyErr_Clear();
    return 0;
}

unsigned long
DapThreads_ident(DapServer *srv, long id)
{
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(srv->thread_ids, &pos, &k, &v)) {
        if (PyLong_AsLong(v) == id) {
            unsigned long ident = PyLong_AsUnsignedLong(k);
            if (PyErr_Occurred()) {
                PyErr_Clear();
                return 0;
            }
            return ident;
        }
    }
    PyErr_Clear();
    return 0;
}

/* The name of thread `ident`: threading's name for it, else "MainThread"
 * for the thread that started the server's program, else "Thread-N". */
static PyObject *
thread_name(DapServer *srv, unsigned long ident, long id)
{
    PyObject *name = NULL;
    PyObject *modname = PyUnicode_FromString("threading");
    PyObject *threading = modname ? PyImport_GetModule(modname) : NULL;   /* never imports */
    Py_XDECREF(modname);
    PyObject *mdict = threading && PyModule_Check(threading) ? PyModule_GetDict(threading) : NULL;
    PyObject *active = mdict ? PyDict_GetItemString(mdict, "_active") : NULL;   /* borrowed */
    PyObject *key = active && PyDict_Check(active) ? ident_key(ident) : NULL;
    PyObject *th = key ? PyDict_GetItemWithError(active, key) : NULL;           /* borrowed */
    if (th) {
        PyObject **dictp = _PyObject_GetDictPtr(th);
        PyObject *n = dictp && *dictp ? PyDict_GetItemString(*dictp, "_name") : NULL;
        if (n && PyUnicode_Check(n))
            name = Py_NewRef(n);
    }
    Py_XDECREF(key);
    Py_XDECREF(threading);
    PyErr_Clear();
    if (!name)
        name = ident == srv->main_ident ? PyUnicode_FromString("MainThread")
                                        : PyUnicode_FromFormat("Thread-%ld", id);
    return name;
}

/* The idents of the program's threads now (a new list of int). */
static PyObject *
live_idents(DapServer *srv, int *unbound)
{
    PyObject *out = PyList_New(0);
    if (!out)
        return NULL;
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    for (PyThreadState *t = PyInterpreterState_ThreadHead(interp); t; t = PyThreadState_Next(t)) {
        if (t->thread_id == 0 && unbound)
            *unbound = 1;   /* a thread starting: look again */
        if (t->thread_id == 0 || t->thread_id == srv->reader_ident)
            continue;
        PyObject *k = ident_key(t->thread_id);
        if (!k || PyList_Append(out, k) < 0) {
            Py_XDECREF(k);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(k);
    }
    /* The interpreter lists the newest thread first. */
    if (PyList_Reverse(out) < 0)
        Py_CLEAR(out);
    return out;
}

static void
lock_threads(DapServer *srv)
{
    if (PyThread_acquire_lock(srv->threads_lock, NOWAIT_LOCK))
        return;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(srv->threads_lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS
}

static void
send_thread_event(DapServer *srv, const char *reason, long id)
{
    PyObject *b = Py_BuildValue("{s:s,s:l}", "reason", reason, "threadId", id);
    if (b) {
        Dap_event(srv, "thread", b);
        Py_DECREF(b);
    }
    PyErr_Clear();
}

void
DapThreads_scan(DapServer *srv)
{
    if (!srv->threads_announced)
        return;
    PyObject *saved = PyErr_GetRaisedException();
    lock_threads(srv);
    /* The OS threads first: one that starts after this is seen at the next look. */
    unsigned long long os_sig = DapThreads_os_signature();
    int unbound = 0;
    /* Owned */
    PyObject *live = live_idents(srv, &unbound), *started = PyList_New(0), *exited = PyList_New(0);
    if (!live || !started || !exited)
        goto done;
    /* The events are decided with the GIL held and sent after: Dap_send
     * lets other threads run while it writes. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(live); i++) {
        PyObject *k = PyList_GET_ITEM(live, i);
        int known = PyDict_Contains(srv->threads_known, k);
        if (known < 0)
            goto done;
        if (known)
            continue;
        long id = DapThreads_id(srv, PyLong_AsUnsignedLong(k));
        PyObject *idobj = id > 0 ? PyLong_FromLong(id) : NULL;
        if (!idobj || PyDict_SetItem(srv->threads_known, k, Py_None) < 0 || PyList_Append(started, idobj) < 0) {
            Py_XDECREF(idobj);
            goto done;
        }
        Py_DECREF(idobj);
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    PyObject *gone = PyList_New(0);
    if (!gone)
        goto done;
    while (PyDict_Next(srv->threads_known, &pos, &k, &v)) {
        int alive = PySequence_Contains(live, k);
        if (alive == 0 && PyList_Append(gone, k) < 0)
            alive = -1;
        if (alive < 0) {
            Py_DECREF(gone);
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(gone); i++) {
        PyObject *g = PyList_GET_ITEM(gone, i);
        PyObject *id = PyDict_GetItemWithError(srv->thread_ids, g);   /* borrowed */
        if (id)
            PyList_Append(exited, id);
        /* An ended thread's ident may come back for a new thread: that one
         * gets a new id. */
        PyDict_DelItem(srv->threads_known, g);
        if (id)
            PyDict_DelItem(srv->thread_ids, g);
        PyErr_Clear();
    }
    Py_DECREF(gone);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(exited); i++)
        send_thread_event(srv, "exited", PyLong_AsLong(PyList_GET_ITEM(exited, i)));
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(started); i++)
        send_thread_event(srv, "started", PyLong_AsLong(PyList_GET_ITEM(started, i)));
    atomic_store(&srv->os_threads_seen, unbound ? 0 : os_sig);
done:
    Py_XDECREF(live);
    Py_XDECREF(started);
    Py_XDECREF(exited);
    PyThread_release_lock(srv->threads_lock);
    PyErr_Clear();
    PyErr_SetRaisedException(saved);
}

void
DapThreads_start(DapServer *srv)
{
    srv->threads_announced = 1;
    DapThreads_scan(srv);
}

void
DapThreads_forget(DapServer *srv)
{
    srv->threads_announced = 0;
    atomic_store(&srv->os_threads_seen, 0);
    PyDict_Clear(srv->threads_known);
}

PyObject *
DapThreads_body(DapServer *srv)
{
    DapThreads_scan(srv);
    PyObject *live = live_idents(srv, NULL);
    PyObject *out = live ? PyList_New(0) : NULL;
    for (Py_ssize_t i = 0; out && i < PyList_GET_SIZE(live); i++) {
        unsigned long ident = PyLong_AsUnsignedLong(PyList_GET_ITEM(live, i));
        long id = DapThreads_id(srv, ident);
        PyObject *name = id > 0 ? thread_name(srv, ident, id) : NULL;
        PyObject *t = name ? Py_BuildValue("{s:l,s:N}", "id", id, "name", name) : NULL;
        if (!t || PyList_Append(out, t) < 0)
            Py_CLEAR(out);
        Py_XDECREF(t);
    }
    Py_XDECREF(live);
    return out ? Py_BuildValue("{s:N}", "threads", out) : NULL;
}
