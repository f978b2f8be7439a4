/* extmods.c — see extmods.h. Everything here may run in a signal handler. */
#include "faults_compat.h"     /* first: defines Py_BUILD_CORE for Python.h */

#include <string.h>

#include "extmods.h"
#include "pyframes.h"
#include "safemem.h"

/* ------------------------------------------------------------------------ */
/* dicts: iterate a combined table in insertion order, as PyDict_Next does  */

typedef struct {
    uintptr_t entries;          /* address of the first entry */
    Py_ssize_t nentries;
    int unicode;                /* PyDictUnicodeEntry (no hash) or PyDictKeyEntry */
    Py_ssize_t pos;             /* next entry to look at */
} dict_iter;

/* 0 and *it ready, or -1 if `op` is not a readable combined-table dict. */
static int
dict_iter_init(PyObject *op, dict_iter *it)
{
    PyTypeObject *type;
    PyDictObject dict;
    PyDictKeysObject keys;

    if (!FAULTS_PLAUSIBLE(op) || FAULTS_LOAD_FIELD(type, op, PyObject, ob_type) < 0
            || !Faults_type_is(type, &PyDict_Type)
            || Faults_safe_read(&dict, op, sizeof(dict)) < 0
            || dict.ma_values != NULL || !FAULTS_PLAUSIBLE(dict.ma_keys)
            || Faults_safe_read(&keys, dict.ma_keys, sizeof(keys)) < 0)
        return -1;
    if (keys.dk_kind != DICT_KEYS_GENERAL && keys.dk_kind != DICT_KEYS_UNICODE)
        return -1;
    if (keys.dk_log2_index_bytes > 40 || keys.dk_nentries < 0
            || keys.dk_nentries > FAULTS_MAX_DICT_ENTRIES)
        return -1;
    /* Where DK_ENTRIES() puts them: after 2**dk_log2_index_bytes index bytes. */
    it->entries = (uintptr_t)dict.ma_keys + offsetof(PyDictKeysObject, dk_indices)
                  + ((uintptr_t)1 << keys.dk_log2_index_bytes);
    it->nentries = keys.dk_nentries;
    it->unicode = keys.dk_kind == DICT_KEYS_UNICODE;
    it->pos = 0;
    return 0;
}

/* The next live (key, value): 1, or 0 at the end (or on an unreadable entry). */
static int
dict_iter_next(dict_iter *it, PyObject **key, PyObject **value)
{
    while (it->pos < it->nentries) {
        Py_ssize_t i = it->pos++;
        if (it->unicode) {
            PyDictUnicodeEntry e;
            if (Faults_safe_read(&e, (const void *)(it->entries + (uintptr_t)i * sizeof(e)),
                                 sizeof(e)) < 0)
                return 0;
            *key = e.me_key;
            *value = e.me_value;
        }
        else {
            PyDictKeyEntry e;
            if (Faults_safe_read(&e, (const void *)(it->entries + (uintptr_t)i * sizeof(e)),
                                 sizeof(e)) < 0)
                return 0;
            *key = e.me_key;
            *value = e.me_value;
        }
        if (*key != NULL && *value != NULL)     /* NULL value: a deleted entry */
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* strings and the stdlib names                                             */

static int
str_equal(const Faults_str *a, const Faults_str *b)
{
    /* A module name longer than this is in no stdlib list; the cap bounds
     * the time spent on a garbage length. */
    if (a->length != b->length || a->kind != b->kind || a->length > 4096)
        return 0;
    if (a->hash != -1 && b->hash != -1 && a->hash != b->hash)
        return 0;
    for (Py_ssize_t i = 0; i < a->length * a->kind;) {
        unsigned char x[256], y[256];
        Py_ssize_t n = a->length * a->kind - i;
        if (n > (Py_ssize_t)sizeof(x))
            n = (Py_ssize_t)sizeof(x);
        if (Faults_safe_read(x, (const void *)(a->data + (uintptr_t)i), (size_t)n) < 0
                || Faults_safe_read(y, (const void *)(b->data + (uintptr_t)i), (size_t)n) < 0
                || memcmp(x, y, (size_t)n) != 0)
            return 0;
        i += n;
    }
    return 1;
}

/* sys.stdlib_module_names if it is a readable frozenset now, else NULL (then
 * nothing is left out, as in CPython). */
static PyObject *
find_stdlib_names(PyInterpreterState *interp)
{
    PyObject *sysdict = NULL, *key, *value;
    PyTypeObject *type;
    dict_iter it;
    static const char wanted[] = "stdlib_module_names";

    if (FAULTS_LOAD_FIELD(sysdict, interp, PyInterpreterState, sysdict) < 0
            || dict_iter_init(sysdict, &it) < 0)
        return NULL;
    while (dict_iter_next(&it, &key, &value)) {
        Faults_str s;
        char name[sizeof(wanted)];
        if (Faults_read_str(key, &s) < 0 || s.kind != PyUnicode_1BYTE_KIND
                || s.length != (Py_ssize_t)sizeof(wanted) - 1
                || Faults_safe_read(name, (const void *)s.data, sizeof(wanted) - 1) < 0
                || memcmp(name, wanted, sizeof(wanted) - 1) != 0)
            continue;
        if (!FAULTS_PLAUSIBLE(value) || FAULTS_LOAD_FIELD(type, value, PyObject, ob_type) < 0
                || !Faults_type_is(type, &PyFrozenSet_Type))
            return NULL;
        return value;
    }
    return NULL;
}

/* 1 if `name` is an item of the frozenset `names` (read entry by entry: the
 * hash decides most of them without touching the item). */
static int
set_contains_str(PyObject *names, const Faults_str *name)
{
    PySetObject set;
    if (Faults_safe_read(&set, names, sizeof(set)) < 0 || set.mask < 0
            || set.mask >= FAULTS_MAX_DICT_ENTRIES || !FAULTS_PLAUSIBLE(set.table))
        return 0;
    for (Py_ssize_t i = 0; i <= set.mask;) {
        setentry chunk[64];
        Py_ssize_t n = set.mask + 1 - i;
        if (n > 64)
            n = 64;
        if (Faults_safe_read(chunk, (const void *)((uintptr_t)set.table
                                                   + (uintptr_t)i * sizeof(setentry)),
                             (size_t)n * sizeof(setentry)) < 0)
            return 0;
        for (Py_ssize_t j = 0; j < n; j++) {
            Faults_str item;
            /* Empty slots are NULL; the deleted-entry dummy is no str. */
            if (chunk[j].key == NULL
                    || (name->hash != -1 && chunk[j].hash != name->hash))
                continue;
            if (Faults_read_str(chunk[j].key, &item) == 0 && str_equal(name, &item))
                return 1;
        }
        i += n;
    }
    return 0;
}

/* CPython's _PyModule_IsExtension(): a module whose PyModuleDef has methods. */
static int
is_extension(PyObject *value)
{
    PyTypeObject *type;
    PyModuleDef *def;
    PyMethodDef *methods;

    return FAULTS_PLAUSIBLE(value) && FAULTS_LOAD_FIELD(type, value, PyObject, ob_type) == 0
           && Faults_type_is(type, &PyModule_Type)
           && FAULTS_LOAD_FIELD(def, value, PyModuleObject, md_def) == 0
           && FAULTS_PLAUSIBLE(def)
           && FAULTS_LOAD_FIELD(methods, def, PyModuleDef, m_methods) == 0
           && methods != NULL;
}

/* ------------------------------------------------------------------------ */

void
Faults_dump_ext_modules(Faults_out *o, PyInterpreterState *interp)
{
    PyObject *modules = NULL, *stdlib_names, *key, *value;
    dict_iter it;
    uintmax_t count = 0;

    if (!FAULTS_PLAUSIBLE(interp)
            || FAULTS_LOAD_FIELD(modules, interp, PyInterpreterState, FAULTS_INTERP_MODULES) < 0
            || dict_iter_init(modules, &it) < 0)
        return;
    stdlib_names = find_stdlib_names(interp);
    while (dict_iter_next(&it, &key, &value)) {
        Faults_str name;
        if (Faults_read_str(key, &name) < 0 || !is_extension(value))
            continue;
        if (stdlib_names != NULL && set_contains_str(stdlib_names, &name))
            continue;
        Faults_out_puts(o, count == 0 ? "\nExtension modules: " : ", ");
        Faults_write_str(o, &name);
        count++;
    }
    if (count) {
        Faults_out_puts(o, " (total: ");
        Faults_out_dec(o, count);
        Faults_out_puts(o, ")\n");
    }
}
