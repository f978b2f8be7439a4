/* names.c — see names.h. */
#include "compat.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "fatal.h"
#include "names.h"

#define NAMES_SLOTS 128

typedef struct {
    unsigned long ident;
    char name[FAULTS_NAME_MAX];       /* UTF-8, NUL-terminated, maybe cut */
} name_slot;

typedef struct {
    atomic_int count;
    name_slot slot[NAMES_SLOTS];
} name_table;

/* Two tables: refresh fills the one readers are not told about, then
 * publishes it. A reader racing two refreshes in a row may see a torn name;
 * it can never read out of bounds (fixed sizes, NUL kept at the end). */
static name_table tables[2];
static atomic_int published = 0;

static void
copy_name(char *dst, const char *src, size_t n)
{
    if (n >= FAULTS_NAME_MAX)
        n = FAULTS_NAME_MAX - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

#if PY_VERSION_HEX >= 0x030C0000
/* Append (ident, name) to the published table, or update the entry for
 * ident. GIL held: writers never race each other; a reader sees the old
 * count or the new one, and an entry is complete before the count grows. */
static void
names_put(unsigned long ident, PyObject *name)
{
    name_table *t = &tables[atomic_load(&published)];
    const char *utf8;
    Py_ssize_t n;
    int i;

    if (name == NULL || !PyUnicode_Check(name))
        return;
    utf8 = PyUnicode_AsUTF8AndSize(name, &n);
    if (utf8 == NULL) {
        PyErr_Clear();
        return;
    }
    for (i = 0; i < t->count; i++)
        if (t->slot[i].ident == ident)
            break;
    if (i == t->count) {
        /* Reuse the slot of a thread that ended, if any. */
        for (i = 0; i < t->count; i++)
            if (t->slot[i].ident == 0)
                break;
    }
    if (i == NAMES_SLOTS)
        return;
    t->slot[i].ident = ident;
    copy_name(t->slot[i].name, utf8, (size_t)n);
    if (i == t->count)
        atomic_store(&t->count, i + 1);
}

/* 3.12+: a dict watcher on threading._active hears about every thread that
 * starts (threading inserts it there before calling run()), so threads
 * started after the last refresh are named too, at no cost to anything else. */
static int watcher_id = -1;
static PyObject *watched = NULL;    /* borrowed on purpose: identity only */

static int
active_watcher(PyDict_WatchEvent event, PyObject *dict, PyObject *key, PyObject *value)
{
    /* owned */
    PyObject *name = NULL, *exc;
    unsigned long ident;

    if (dict != watched || key == NULL || !PyLong_Check(key))
        return 0;
    if (event == PyDict_EVENT_DELETED) {
        /* The thread ended: free its slot (ident 0 never names a thread). */
        name_table *t = &tables[atomic_load(&published)];
        ident = PyLong_AsUnsignedLong(key);
        PyErr_Clear();
        if (ident == PyThread_get_thread_ident())
            Faults_fatal_thread_ending();
        for (int i = 0; i < t->count; i++)
            if (t->slot[i].ident == ident)
                t->slot[i].ident = 0;
        return 0;
    }
    if ((event != PyDict_EVENT_ADDED && event != PyDict_EVENT_MODIFIED) || value == NULL)
        return 0;
    exc = PyErr_GetRaisedException();
    ident = PyLong_AsUnsignedLong(key);
    if (!PyErr_Occurred()) {
        name = PyObject_GetAttrString(value, "_name");
        names_put(ident, name);
        Py_XDECREF(name);
        /* threading registers a thread from inside that thread. */
        if (event == PyDict_EVENT_ADDED && ident == PyThread_get_thread_ident())
            Faults_fatal_thread_started();
    }
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    return 0;
}

static void
watch_active(PyObject *active)
{
    if (active == watched)
        return;
    if (watcher_id < 0) {
        watcher_id = PyDict_AddWatcher(active_watcher);
        if (watcher_id < 0) {
            PyErr_Clear();
            return;
        }
    }
    if (PyDict_Watch(watcher_id, active) < 0) {
        PyErr_Clear();
        return;
    }
    watched = active;
}
void
Faults_names_fini(void)
{
    if (watcher_id >= 0) {
        /* Also stops callbacks for dicts still marked as watched. */
        if (PyDict_ClearWatcher(watcher_id) < 0)
            PyErr_Clear();
        watcher_id = -1;
    }
    watched = NULL;
}
#else
void
Faults_names_fini(void)
{
}

/* 3.11 has no dict watchers: threads started after the last refresh show
 * their kernel name only (see names.h). */
static void
watch_active(PyObject *active)
{
    (void)active;
}
#endif

void
Faults_names_refresh(void)
{
    /* borrowed */
    PyObject *modules, *key, *thread;
    /* owned */
    PyObject *threading = NULL, *active = NULL, *name = NULL, *exc = NULL;
    Py_ssize_t pos = 0;
    int target = 1 - atomic_load(&published);
    name_table *t = &tables[target];
    int count = 0;

    exc = PyErr_GetRaisedException();
    modules = PySys_GetObject("modules");
    if (modules == NULL || !PyDict_Check(modules))
        goto done;
    /* Only enable() imports threading (Faults_names_follow_threads). */
    if (PyDict_GetItemStringRef(modules, "threading", &threading) <= 0)
        goto done;
    active = PyObject_GetAttrString(threading, "_active");
    if (active == NULL || !PyDict_Check(active))
        goto done;
    while (count < NAMES_SLOTS && PyDict_Next(active, &pos, &key, &thread)) {
        const char *utf8;
        Py_ssize_t n;
        unsigned long ident = PyLong_AsUnsignedLong(key);
        if (ident == (unsigned long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            continue;
        }
        name = PyObject_GetAttrString(thread, "_name");
        if (name == NULL || !PyUnicode_Check(name)) {
            PyErr_Clear();
            Py_CLEAR(name);
            continue;
        }
        utf8 = PyUnicode_AsUTF8AndSize(name, &n);
        if (utf8 == NULL) {
            PyErr_Clear();
            Py_CLEAR(name);
            continue;
        }
        t->slot[count].ident = ident;
        copy_name(t->slot[count].name, utf8, (size_t)n);
        count++;
        Py_CLEAR(name);
    }
    watch_active(active);
done:
    PyErr_Clear();
    atomic_store(&t->count, count);
    atomic_store(&published, target);
    Py_XDECREF(active);
    Py_XDECREF(threading);
    PyErr_SetRaisedException(exc);
}

/* Read /proc/self/task/<tid>/comm (or /proc/self/comm when tid is 0) into buf. */
static int
read_comm(unsigned long tid, char *buf)
{
    char path[64] = "/proc/self/task/";
    size_t len = strlen(path);
    ssize_t n;
    int fd;
    if (tid == 0) {
        memcpy(path, "/proc/self/comm", sizeof("/proc/self/comm"));
    }
    else {
        char digits[24];
        int k = 0;
        do {
            digits[k++] = (char)('0' + tid % 10);
            tid /= 10;
        } while (tid && k < (int)sizeof(digits));
        while (k > 0)
            path[len++] = digits[--k];
        memcpy(path + len, "/comm", sizeof("/comm"));
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, FAULTS_NAME_MAX - 1);
    close(fd);
    if (n <= 0)
        return 0;
    if (buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    return n > 0;
}

int
Faults_names_lookup(unsigned long ident, unsigned long native_id, char *buf)
{
    name_table *t = &tables[atomic_load(&published)];
    int count = atomic_load(&t->count);
    if (count > NAMES_SLOTS)
        count = NAMES_SLOTS;
    for (int i = 0; i < count; i++) {
        if (t->slot[i].ident == ident) {
            memcpy(buf, t->slot[i].name, FAULTS_NAME_MAX);
            buf[FAULTS_NAME_MAX - 1] = '\0';
            return 1;
        }
    }
    if (native_id != 0) {
        char process[FAULTS_NAME_MAX];
        if (read_comm(native_id, buf) && read_comm(0, process)
                && strcmp(buf, process) != 0)
            return 1;
    }
    buf[0] = '\0';
    return 0;
}

void
Faults_names_follow_threads(void)
{
    /* owned */
    PyObject *threading, *exc = PyErr_GetRaisedException();
    threading = PyImport_ImportModule("threading");
    Py_XDECREF(threading);
    PyErr_Clear();
    PyErr_SetRaisedException(exc);
    Faults_names_refresh();
}
