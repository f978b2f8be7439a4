/* names.c — see names.h. */
#include "compat.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "names.h"

#define NAMES_SLOTS 128

typedef struct {
    unsigned long ident;
    char name[FAULTS_NAME_MAX];       /* UTF-8, NUL-terminated, maybe cut */
} name_slot;

typedef struct {
    int count;
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

void
Faults_names_refresh(void)
{
    /* borrowed */
    PyObject *modules, *active, *key, *thread;
    /* owned */
    PyObject *threading = NULL, *name = NULL, *exc = NULL;
    Py_ssize_t pos = 0;
    int target = 1 - atomic_load(&published);
    name_table *t = &tables[target];

    exc = PyErr_GetRaisedException();
    t->count = 0;
    modules = PySys_GetObject("modules");
    if (modules == NULL || !PyDict_Check(modules))
        goto done;
    /* Never import threading ourselves: if nobody did, there is one thread. */
    if (PyDict_GetItemStringRef(modules, "threading", &threading) <= 0)
        goto done;
    active = PyObject_GetAttrString(threading, "_active");
    if (active == NULL || !PyDict_Check(active)) {
        Py_XDECREF(active);
        goto done;
    }
    while (t->count < NAMES_SLOTS && PyDict_Next(active, &pos, &key, &thread)) {
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
        t->slot[t->count].ident = ident;
        copy_name(t->slot[t->count].name, utf8, (size_t)n);
        t->count++;
        Py_CLEAR(name);
    }
    Py_DECREF(active);
done:
    PyErr_Clear();
    atomic_store(&published, target);
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
    const name_table *t = &tables[atomic_load(&published)];
    int count = t->count;
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
