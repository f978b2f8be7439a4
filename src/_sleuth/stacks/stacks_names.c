/* stacks_names.c — thread names.
 *
 * Python thread names live in the target's threading module, not in the
 * kernel (3.11-3.13 do not set the OS thread name), so we read
 * sys.modules["threading"]._active, a dict {ident: Thread}, and each
 * Thread's "_name" attribute out of its instance dict. Any step that fails
 * leaves the name to /proc/PID/task/TID/comm. Dict layouts (3.11-3.13):
 * PyDictKeysObject = header, dk_indices[1 << dk_log2_index_bytes], then
 * entries of 24 bytes (hash, key, value; DICT_KEYS_GENERAL) or 16 bytes
 * (key, value; unicode-keyed and split tables); split tables keep the values
 * in a separate array (ma_values, or the instance's inline values).
 */
#define _GNU_SOURCE
#include "stacks_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMES_MAX_ENTRIES 8192
#define NAMES_MAX_MATCH 1024    /* threads named per dump */
#define DICT_KEYS_GENERAL 0
#define TPFLAGS_INLINE_VALUES (1UL << 2)   /* 3.13 */
#define TPFLAGS_MANAGED_DICT (1UL << 4)

static uint64_t
u64_at(const unsigned char *buf, uint64_t off)
{
    uint64_t v;
    memcpy(&v, buf + off, sizeof(v));
    return v;
}

typedef struct {
    uint64_t keys;       /* PyDictKeysObject * */
    uint64_t values;     /* address of the first value slot, 0 = combined */
} dict_view;

typedef struct {
    unsigned char *entries;
    size_t n, esize;
    uint64_t *vals;      /* split tables only */
} dict_entries;

/* Read the entries (and split values) of a keys object. */
static int
entries_read(stacks_snapshot *s, const dict_view *v, dict_entries *out)
{
    const stacks_layout *L = &s->L;
    unsigned char kh[40];
    memset(out, 0, sizeof(*out));
    if (stacks_mem_read(&s->mem, v->keys, kh, L->dk_indices) < 0)
        return -1;
    unsigned log2_index_bytes = kh[L->dk_log2_index_bytes], kind = kh[L->dk_kind];
    int64_t n = (int64_t)u64_at(kh, L->dk_nentries);
    if (log2_index_bytes > 20 || n < 0 || n > NAMES_MAX_ENTRIES)
        return -1;
    out->esize = kind == DICT_KEYS_GENERAL ? 24 : 16;
    out->n = (size_t)n;
    out->entries = malloc(out->n * out->esize + 1);
    if (!out->entries)
        return -1;
    uint64_t start = v->keys + L->dk_indices + ((uint64_t)1 << log2_index_bytes);
    if (stacks_mem_read(&s->mem, start, out->entries, out->n * out->esize) < 0)
        goto fail;
    if (v->values) {
        out->vals = malloc(out->n * 8 + 1);
        if (!out->vals || stacks_mem_read(&s->mem, v->values, out->vals, out->n * 8) < 0)
            goto fail;
    }
    return 0;
fail:
    free(out->entries);
    free(out->vals);
    out->entries = NULL;
    out->vals = NULL;
    return -1;
}

static void
entry_kv(const dict_entries *e, size_t i, uint64_t *key, uint64_t *value)
{
    const unsigned char *p = e->entries + i * e->esize;
    size_t koff = e->esize == 24 ? 8 : 0;
    *key = u64_at(p, koff);
    *value = e->vals ? e->vals[i] : u64_at(p, koff + 8);
}

/* A dict object's view; 3.13 puts split values 8 bytes into PyDictValues. */
static int
dict_view_of(stacks_snapshot *s, uint64_t dict, dict_view *v)
{
    unsigned char dh[48];
    if (!dict || stacks_mem_read(&s->mem, dict, dh, s->L.dict_values + 8) < 0)
        return -1;
    if (u64_at(dh, s->L.ob_type) != s->syms.addr[STACKS_SYM_DICT_TYPE])
        return -1;
    v->keys = u64_at(dh, s->L.dict_keys);
    uint64_t values = u64_at(dh, s->L.dict_values);
    v->values = values ? values + (s->L.minor >= 13 ? 8 : 0) : 0;
    return 0;
}

/* The value of str key `name` in the dict viewed by v, or 0. */
static uint64_t
dict_lookup_str(stacks_snapshot *s, const dict_view *v, const char *name)
{
    dict_entries e;
    uint64_t found = 0;
    if (entries_read(s, v, &e) < 0)
        return 0;
    for (size_t i = 0; i < e.n && !found; i++) {
        uint64_t k, val;
        entry_kv(&e, i, &k, &val);
        if (!k || !val)
            continue;
        int truncated;
        char *ks = stacks_walk_read_str(s, k, 64, &truncated);
        if (ks && !truncated && strcmp(ks, name) == 0)
            found = val;
        free(ks);
    }
    free(e.entries);
    free(e.vals);
    return found;
}

/* The instance dict (or inline values + cached keys) of a Python object. */
static int
instance_view(stacks_snapshot *s, uint64_t obj, dict_view *v)
{
    const stacks_layout *L = &s->L;
    uint64_t type, flags, basicsize;
    if (stacks_mem_read_u64(&s->mem, obj + L->ob_type, &type) < 0 ||
        stacks_mem_read_u64(&s->mem, type + L->type_flags, &flags) < 0 ||
        stacks_mem_read_u64(&s->mem, type + L->type_basicsize, &basicsize) < 0)
        return -1;
    if (!(flags & TPFLAGS_MANAGED_DICT))
        return -1;
    uint64_t slot, cached;
    if (stacks_mem_read_u64(&s->mem, obj - 3 * 8, &slot) < 0)
        return -1;
    if (L->minor == 12 && (slot & 1)) {
        /* 3.12 stores a values pointer minus one (odd, so bit 0 tags it) in
         * the dict-or-values slot: the real pointer is slot + 1. */
        if (stacks_mem_read_u64(&s->mem, type + L->type_cached_keys, &cached) < 0 || !cached)
            return -1;
        v->keys = cached;
        v->values = slot + 1;
        return 0;
    }
    if (slot)
        return dict_view_of(s, slot, v);
    if (stacks_mem_read_u64(&s->mem, type + L->type_cached_keys, &cached) < 0 || !cached)
        return -1;
    v->keys = cached;
    if (L->minor == 11) {
        uint64_t values;
        if (stacks_mem_read_u64(&s->mem, obj - 4 * 8, &values) < 0 || !values)
            return -1;
        v->values = values;
        return 0;
    }
    if (L->minor >= 13 && (flags & TPFLAGS_INLINE_VALUES) && basicsize < (1u << 20)) {
        unsigned char hdr[8];
        if (stacks_mem_read(&s->mem, obj + basicsize, hdr, sizeof(hdr)) < 0 || !hdr[3])
            return -1;   /* values not valid: the dict would have been set */
        v->values = obj + basicsize + 8;
        return 0;
    }
    return -1;
}

/* A small non-negative int (a thread ident) or -1. */
static int
read_ident(stacks_snapshot *s, uint64_t obj, uint64_t *out)
{
    const stacks_layout *L = &s->L;
    unsigned char head[24];
    uint32_t digits[3] = {0, 0, 0};
    if (stacks_mem_read(&s->mem, obj, head, 24) < 0 ||
        u64_at(head, L->ob_type) != s->syms.addr[STACKS_SYM_LONG_TYPE])
        return -1;
    uint64_t size = u64_at(head, L->var_size), nd;
    if (L->long_tagged) {
        if ((size & 3) == 2)
            return -1;
        nd = size >> 3;
    }
    else {
        if ((int64_t)size < 0)
            return -1;
        nd = size;
    }
    if (nd > 3 || (nd && stacks_mem_read(&s->mem, obj + L->long_digit, digits, 4 * nd) < 0))
        return -1;
    *out = (uint64_t)digits[0] | ((uint64_t)digits[1] << 30) | ((uint64_t)digits[2] << 60);
    return 0;
}

static void
names_from_threading(stacks_snapshot *s, uint64_t interp)
{
    dict_view v;
    dict_entries e;
    uint64_t modules, mod, mdict, active;
    if (stacks_mem_read_u64(&s->mem, interp + s->L.is_modules, &modules) < 0 ||
        dict_view_of(s, modules, &v) < 0)
        return;
    mod = dict_lookup_str(s, &v, "threading");
    if (!mod || stacks_mem_read_u64(&s->mem, mod + s->L.module_dict, &mdict) < 0 ||
        dict_view_of(s, mdict, &v) < 0)
        return;
    active = dict_lookup_str(s, &v, "_active");
    if (!active || dict_view_of(s, active, &v) < 0 || entries_read(s, &v, &e) < 0)
        return;
    for (size_t i = 0; i < e.n && i < NAMES_MAX_MATCH; i++) {
        uint64_t k, val, ident;
        entry_kv(&e, i, &k, &val);
        if (!k || !val || read_ident(s, k, &ident) < 0)
            continue;
        int wanted = 0;
        for (size_t j = 0; j < s->nthreads && !wanted; j++)
            wanted = s->threads[j].thread_id == ident && !s->threads[j].name_from_threading;
        if (!wanted)
            continue;
        dict_view iv;
        if (instance_view(s, val, &iv) < 0)
            continue;
        uint64_t name = dict_lookup_str(s, &iv, "_name");
        int truncated;
        char *str = name ? stacks_walk_read_str(s, name, 200, &truncated) : NULL;
        if (str && truncated) {
            /* Show that the name was cut. */
            size_t len = strlen(str);
            char *longer = realloc(str, len + 4);
            if (longer) {
                memcpy(longer + len, "...", 4);
                str = longer;
            }
        }
        if (!str)
            continue;
        /* One OS thread can have a thread state in several interpreters. */
        for (size_t j = 0; j < s->nthreads; j++) {
            stacks_thread *t = &s->threads[j];
            if (t->thread_id != ident || t->name_from_threading)
                continue;
            char *copy = strdup(str);
            if (!copy)
                break;
            free(t->name);
            t->name = copy;
            t->name_from_threading = 1;
        }
        free(str);
    }
    free(e.entries);
    free(e.vals);
}

static void
name_from_comm(stacks_snapshot *s, stacks_thread *t)
{
    char path[96], buf[64];
    if (t->native_id <= 0)
        return;
    snprintf(path, sizeof(path), "/proc/%d/task/%ld/comm", (int)s->pid, t->native_id);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    /* comm is raw bytes: keep printable ASCII only so output stays UTF-8. */
    for (size_t i = 0; buf[i]; i++)
        if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
            buf[i] = '?';
    t->name = strdup(buf);
}

void
stacks_names_fill(stacks_snapshot *s)
{
    /* Each interpreter has its own threading module; the main one's first.
     * A thread ident names one OS thread whichever interpreter it runs. */
    for (int i = 0; i < s->ninterps && s->nthreads; i++)
        names_from_threading(s, s->interps[i]);
    for (size_t i = 0; i < s->nthreads; i++)
        if (!s->threads[i].name)
            name_from_comm(s, &s->threads[i]);
}
