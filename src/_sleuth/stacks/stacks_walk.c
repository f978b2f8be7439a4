/* stacks_walk.c — interpreters, thread states, frames, code objects.
 *
 * Reading without stopping the target means any pointer may be stale by the
 * time we follow it. The defences: every read is bounded and checked; a code
 * object is used only after its ob_type is PyCode_Type; strings only after
 * their ob_type is PyUnicode_Type; every loop has a hard step limit; and a
 * thread's current-frame pointer is read again after its walk, so a stack
 * that moved is reported ("changed while being read") rather than trusted.
 */
#define _GNU_SOURCE
#include "redact.h"
#include "stacks_walk.h"
#include "stacks_values.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Hard limits that hold whatever the options say. */
#define WALK_MAX_STEPS 1000000   /* frames followed per thread, shown or counted */
#define WALK_MAX_THREAD_STEPS 100000
#define WALK_MAX_INTERPS 256     /* = the size of stacks_snapshot.interps */
#define WALK_MAX_LINETABLE (1u << 20)
#define WALK_MAX_NAMES 256       /* localsplus names read per code object */

/* co_localspluskinds bits (Include/internal/pycore_code.h, 3.11-3.13). */
#define KIND_HIDDEN 0x10
#define KIND_LOCAL 0x20
#define KIND_CELL 0x40
#define KIND_FREE 0x80

static uint64_t
u64_at(const unsigned char *buf, uint64_t off)
{
    uint64_t v;
    memcpy(&v, buf + off, sizeof(v));
    return v;
}

static int32_t
i32_at(const unsigned char *buf, uint64_t off)
{
    int32_t v;
    memcpy(&v, buf + off, sizeof(v));
    return v;
}

void
stacks_walk_add_note(stacks_snapshot *s, const char *note)
{
    for (int i = 0; i < s->nnotes; i++)
        if (s->notes[i] == note)
            return;
    if (s->nnotes < STACKS_MAX_NOTES)
        s->notes[s->nnotes++] = note;
}

/* --- strings ---------------------------------------------------------------- */

static void
put_utf8(char **p, uint32_t c)
{
    unsigned char *q = (unsigned char *)*p;
    if (c >= 0xD800 && c <= 0xDFFF)
        c = 0xFFFD;    /* lone surrogates (e.g. from surrogateescape) */
    if (c > 0x10FFFF)
        c = 0xFFFD;
    if (c < 0x80)
        *q++ = (unsigned char)c;
    else if (c < 0x800) {
        *q++ = (unsigned char)(0xC0 | (c >> 6));
        *q++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    else if (c < 0x10000) {
        *q++ = (unsigned char)(0xE0 | (c >> 12));
        *q++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *q++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    else {
        *q++ = (unsigned char)(0xF0 | (c >> 18));
        *q++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        *q++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *q++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    *p = (char *)q;
}

char *
stacks_walk_read_str(stacks_snapshot *s, uint64_t addr, size_t maxchars, int *truncated)
{
    const stacks_layout *L = &s->L;
    unsigned char head[80];
    unsigned char *data = NULL;
    char *out = NULL;

    *truncated = 0;
    if (!addr || L->uni_compact_size > sizeof(head))
        goto done;
    /* Only the PyASCIIObject part first: a short ASCII string may end
     * right before an unmapped page. */
    if (stacks_mem_read(&s->mem, addr, head, L->uni_ascii_size) < 0)
        goto done;
    if (u64_at(head, L->ob_type) != s->syms.addr[STACKS_SYM_UNICODE_TYPE])
        goto done;
    int64_t length = (int64_t)u64_at(head, L->uni_length);
    uint32_t state = (uint32_t)i32_at(head, L->uni_state);
    unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
    if (length < 0 || !compact || (kind != 1 && kind != 2 && kind != 4))
        goto done;
    size_t n = (size_t)length;
    if (n > maxchars) {
        n = maxchars;
        *truncated = 1;
    }
    uint64_t off = ascii ? L->uni_ascii_size : L->uni_compact_size;
    data = malloc(n * kind + 1);
    out = malloc(n * 4 + 1);
    if (!data || !out)
        goto fail;
    if (stacks_mem_read(&s->mem, addr + off, data, n * kind) < 0)
        goto fail;
    char *p = out;
    for (size_t i = 0; i < n; i++) {
        uint32_t c;
        if (kind == 1)
            c = data[i];
        else if (kind == 2) {
            uint16_t c2;
            memcpy(&c2, data + 2 * i, 2);
            c = c2;
        }
        else
            memcpy(&c, data + 4 * i, 4);
        put_utf8(&p, c);
    }
    *p = '\0';
    goto done;
fail:
    free(out);
    out = NULL;
done:
    free(data);
    return out;
}

/* A str for names and files: truncated ones end in "..." so the cut shows. */
static char *
read_name(stacks_snapshot *s, uint64_t addr)
{
    int truncated;
    char *str = stacks_walk_read_str(s, addr, STACKS_MAX_STR, &truncated);
    if (str && truncated) {
        size_t len = strlen(str);
        char *longer = realloc(str, len + 4);
        if (longer) {
            memcpy(longer + len, "...", 4);
            str = longer;
        }
    }
    return str;
}

/* A bytes object's contents, up to maxlen; NULL if not bytes. */
static unsigned char *
read_bytes(stacks_snapshot *s, uint64_t addr, size_t maxlen, size_t *len_out)
{
    const stacks_layout *L = &s->L;
    unsigned char head[32];
    if (!addr || stacks_mem_read(&s->mem, addr, head, 24) < 0)
        return NULL;
    if (u64_at(head, L->ob_type) != s->syms.addr[STACKS_SYM_BYTES_TYPE])
        return NULL;
    int64_t size = (int64_t)u64_at(head, L->var_size);
    if (size < 0 || (uint64_t)size > maxlen)
        return NULL;
    unsigned char *buf = malloc((size_t)size + 1);
    if (!buf)
        return NULL;
    if (stacks_mem_read(&s->mem, addr + L->bytes_sval, buf, (size_t)size) < 0) {
        free(buf);
        return NULL;
    }
    *len_out = (size_t)size;
    return buf;
}

/* --- code objects ----------------------------------------------------------- */

static void
code_free(stacks_code *c)
{
    if (!c)
        return;
    free(c->filename);
    free(c->name);
    free(c->qualname);
    free(c->linetable);
    if (c->names)
        for (int i = 0; i < c->nnames; i++)
            free(c->names[i]);
    free(c->names);
    free(c->kinds);
    free(c);
}

static int
code_load(stacks_snapshot *s, stacks_code *c)
{
    const stacks_layout *L = &s->L;
    unsigned char buf[256];
    size_t need = L->co_code_adaptive;
    if (need > sizeof(buf) || stacks_mem_read(&s->mem, c->addr, buf, need) < 0)
        return -1;
    if (u64_at(buf, L->ob_type) != s->syms.addr[STACKS_SYM_CODE_TYPE])
        return -1;
    c->firstlineno = i32_at(buf, L->co_firstlineno);
    c->nlocalsplus = i32_at(buf, L->co_nlocalsplus);
    c->firsttraceable = i32_at(buf, L->co_firsttraceable);
    if (c->nlocalsplus < 0 || c->firsttraceable < 0 || c->firsttraceable > (1 << 24))
        return -1;
    c->filename = read_name(s, u64_at(buf, L->co_filename));
    c->name = read_name(s, u64_at(buf, L->co_name));
    c->qualname = read_name(s, u64_at(buf, L->co_qualname));
    c->linetable = read_bytes(s, u64_at(buf, L->co_linetable), WALK_MAX_LINETABLE,
                              &c->linetable_len);
    if (!c->filename || !c->name)
        return -1;
    if (s->want_locals && c->nlocalsplus > 0) {
        uint64_t tuple = u64_at(buf, L->co_localsplusnames);
        unsigned char th[32];
        size_t kinds_len = 0;
        int n = c->nlocalsplus < WALK_MAX_NAMES ? c->nlocalsplus : WALK_MAX_NAMES;
        c->kinds = read_bytes(s, u64_at(buf, L->co_localspluskinds), 1u << 16, &kinds_len);
        if (!c->kinds || kinds_len < (size_t)n)
            return 0;   /* no locals, but the frame itself is fine */
        if (stacks_mem_read(&s->mem, tuple, th, 24) < 0 ||
            (int64_t)u64_at(th, L->var_size) < n)
            return 0;
        uint64_t items[WALK_MAX_NAMES];
        if (stacks_mem_read(&s->mem, tuple + L->tuple_item, items, sizeof(uint64_t) * n) < 0)
            return 0;
        c->names = calloc((size_t)n, sizeof(char *));
        if (!c->names)
            return 0;
        for (int i = 0; i < n; i++)
            c->names[i] = read_name(s, items[i]);
        c->nnames = n;
    }
    return 0;
}

/* The cached code object at `addr`, or NULL if it is not a readable code
 * object (freed, reused, or the frame changed under us). */
static stacks_code *
code_get(stacks_snapshot *s, uint64_t addr)
{
    if (!addr)
        return NULL;
    if (s->ncodes * 2 >= s->codes_cap) {
        size_t ncap = s->codes_cap ? s->codes_cap * 2 : 256;
        stacks_code **nt = calloc(ncap, sizeof(*nt));
        if (!nt)
            return NULL;
        for (size_t i = 0; i < s->codes_cap; i++) {
            stacks_code *c = s->codes[i];
            if (!c)
                continue;
            size_t j = (c->addr >> 4) & (ncap - 1);
            while (nt[j])
                j = (j + 1) & (ncap - 1);
            nt[j] = c;
        }
        free(s->codes);
        s->codes = nt;
        s->codes_cap = ncap;
    }
    size_t j = (addr >> 4) & (s->codes_cap - 1);
    while (s->codes[j]) {
        if (s->codes[j]->addr == addr)
            return s->codes[j]->ok ? s->codes[j] : NULL;
        j = (j + 1) & (s->codes_cap - 1);
    }
    stacks_code *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->addr = addr;
    c->ok = code_load(s, c) == 0;
    s->codes[j] = c;
    s->ncodes++;
    return c->ok ? c : NULL;
}

/* --- the location table ------------------------------------------------------
 * Format (Objects/locations.md, the same in 3.11-3.13): a sequence of entries,
 * each starting with a byte 1CCCCLLL: code C, covering L+1 code units. The line
 * delta is a signed varint for codes 14 (long form) and 13 (no columns), C-10
 * for 10..12 (one-line form), 0 for the short forms 0..9; code 15 has no
 * location. Varints are little-endian 6-bit chunks with bit 6 = "more". */

static int
lt_varint(const unsigned char **pp, const unsigned char *end, uint32_t *out)
{
    const unsigned char *p = *pp;
    uint32_t val = 0;
    int shift = 0;
    for (;;) {
        if (p >= end || shift > 28)
            return -1;
        unsigned char b = *p++;
        val |= (uint32_t)(b & 63) << shift;
        shift += 6;
        if (!(b & 64))
            break;
    }
    *pp = p;
    *out = val;
    return 0;
}

static int
lt_svarint(const unsigned char **pp, const unsigned char *end, int *out)
{
    uint32_t u;
    if (lt_varint(pp, end, &u) < 0)
        return -1;
    *out = (u & 1) ? -(int)(u >> 1) : (int)(u >> 1);
    return 0;
}

int
stacks_walk_addr2line(const stacks_code *code, long addr)
{
    if (addr < 0)
        return code->firstlineno;   /* as PyCode_Addr2Line does */
    if (!code->linetable)
        return -1;
    const unsigned char *p = code->linetable, *end = p + code->linetable_len;
    int line = code->firstlineno;
    long start = 0;
    while (p < end) {
        unsigned char first = *p++;
        if (!(first & 0x80))
            return -1;    /* not at an entry start: corrupt */
        int kind = (first >> 3) & 15;
        long len = (long)((first & 7) + 1) * 2;   /* bytes: code units of 2 */
        int delta = 0;
        uint32_t skip;
        if (kind == 15) {
            /* no location */
        }
        else if (kind == 14) {
            if (lt_svarint(&p, end, &delta) < 0 || lt_varint(&p, end, &skip) < 0 ||
                lt_varint(&p, end, &skip) < 0 || lt_varint(&p, end, &skip) < 0)
                return -1;
        }
        else if (kind == 13) {
            if (lt_svarint(&p, end, &delta) < 0)
                return -1;
        }
        else if (kind >= 10) {
            delta = kind - 10;
            p += 2;
        }
        else
            p += 1;
        line += delta;
        if (addr >= start && addr < start + len)
            return kind == 15 ? -1 : line;
        start += len;
    }
    return -1;
}

/* --- threads and frames ----------------------------------------------------- */

static int
thread_push_frame(stacks_thread *t, const stacks_frame *f)
{
    if (t->nframes == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 32;
        stacks_frame *nf = realloc(t->frames, ncap * sizeof(*nf));
        if (!nf)
            return -1;
        t->frames = nf;
        t->cap = ncap;
    }
    t->frames[t->nframes++] = *f;
    return 0;
}

/* The same name rules as the rest of sleuth (redact.h), built-in set. */
static int
is_secret_name(const char *name)
{
    return Redact_default_name_matches(name, (Py_ssize_t)strlen(name));
}

static void
frame_read_locals(stacks_snapshot *s, uint64_t frame, const stacks_code *c, stacks_frame *f)
{
    uint64_t vals[WALK_MAX_NAMES];
    int n = c->nnames;
    if (n <= 0 || !c->names || !c->kinds)
        return;
    if (stacks_mem_read(&s->mem, frame + s->L.fr_localsplus, vals, sizeof(uint64_t) * n) < 0)
        return;
    f->locals = calloc(STACKS_MAX_LOCALS, sizeof(stacks_local));
    if (!f->locals)
        return;
    for (int i = 0; i < n && f->nlocals < STACKS_MAX_LOCALS; i++) {
        unsigned kind = c->kinds[i];
        if ((kind & KIND_HIDDEN) || !(kind & (KIND_LOCAL | KIND_CELL | KIND_FREE)) ||
            !c->names[i] || !vals[i])
            continue;
        stacks_local *l = &f->locals[f->nlocals];
        l->name = strdup(c->names[i]);
        if (!l->name)
            break;
        if (is_secret_name(c->names[i])) {
            l->redacted = 1;
            /* Read, never shown: its copies elsewhere are hidden too. */
            l->hidden = stacks_values_repr(s, vals[i], (kind & (KIND_CELL | KIND_FREE)) != 0);
        }
        else {
            l->repr = stacks_values_repr(s, vals[i], (kind & (KIND_CELL | KIND_FREE)) != 0);
            /* A random-looking str under a near-miss name (`tok`, `hmac_key`). */
            size_t rl = l->repr ? strlen(l->repr) : 0;
            if (rl > 2 && (l->repr[0] == '\'' || l->repr[0] == '"') && l->repr[rl - 1] == l->repr[0]
                    && Redact_default_near_secret(c->names[i], (Py_ssize_t)strlen(c->names[i]),
                                                  l->repr + 1, (Py_ssize_t)rl - 2)) {
                l->hidden = l->repr;
                l->repr = NULL;
                l->redacted = 1;
                f->nlocals++;
                continue;
            }
            /* Tokens, keys and credential URLs are hidden whatever the name. */
            char *clean = l->repr ? Redact_scrub_cstr(l->repr, strlen(l->repr)) : NULL;
            if (clean) {
                free(l->repr);
                l->repr = clean;
            }
        }
        f->nlocals++;
    }
}

/* The text inside a str repr ('...' or "...", maybe cut: '...'...) as a
 * new string, or NULL when the repr is not a str's or too short to hunt. */
static char *
repr_inner(const char *repr)
{
    size_t n = repr ? strlen(repr) : 0;
    if (n < 2 || (repr[0] != '\'' && repr[0] != '"'))
        return NULL;
    const char *end = strrchr(repr + 1, repr[0]);
    size_t m = end ? (size_t)(end - repr - 1) : n - 1;
    if (m < REDACT_MIN_NEEDLE)
        return NULL;
    char *out = malloc(m + 1);
    if (out) {
        memcpy(out, repr + 1, m);
        out[m] = 0;
    }
    return out;
}

/* `*text` with every `needle` replaced by "[redacted]" (in place). */
static void
replace_all(char **text, const char *needle)
{
    size_t nl = strlen(needle), count = 0;
    for (const char *p = *text; (p = strstr(p, needle)) != NULL; p += nl)
        count++;
    if (!count)
        return;
    size_t len = strlen(*text), rl = sizeof REDACT_TEXT - 1;
    char *out = malloc(len - count * nl + count * rl + 1), *o = out;
    if (!out)
        return;
    const char *p = *text, *q;
    while ((q = strstr(p, needle)) != NULL) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, REDACT_TEXT, rl);
        o += rl;
        p = q + nl;
    }
    strcpy(o, p);
    free(*text);
    *text = out;
}

/* A value hidden by its name is hidden wherever else it shows in the dump:
 * other locals' reprs (a copy under an innocent name) and thread names.
 * At most HIDE_MAX_NEEDLES distinct values are hunted. */
#define HIDE_MAX_NEEDLES 64

static void
hide_copies(stacks_snapshot *s)
{
    char *needles[HIDE_MAX_NEEDLES];
    int n = 0;
    for (size_t t = 0; t < s->nthreads && n < HIDE_MAX_NEEDLES; t++)
        for (size_t fi = 0; fi < s->threads[t].nframes && n < HIDE_MAX_NEEDLES; fi++) {
            stacks_frame *f = &s->threads[t].frames[fi];
            for (int k = 0; k < f->nlocals && n < HIDE_MAX_NEEDLES; k++) {
                char *needle = repr_inner(f->locals[k].hidden);
                int dup = 0;
                for (int d = 0; needle && d < n && !dup; d++)
                    dup = strcmp(needles[d], needle) == 0;
                if (needle && !dup)
                    needles[n++] = needle;
                else
                    free(needle);
            }
        }
    for (size_t t = 0; n && t < s->nthreads; t++) {
        stacks_thread *th = &s->threads[t];
        for (int d = 0; d < n; d++) {
            if (th->name)
                replace_all(&th->name, needles[d]);
            for (size_t fi = 0; fi < th->nframes; fi++)
                for (int k = 0; k < th->frames[fi].nlocals; k++)
                    if (th->frames[fi].locals[k].repr)
                        replace_all(&th->frames[fi].locals[k].repr, needles[d]);
        }
    }
    for (int d = 0; d < n; d++)
        free(needles[d]);
}

static const char NOTE_UNREADABLE[] =
    "a frame could not be read (it changed or was freed under the read); not followed";
static const char NOTE_NOT_CODE[] =
    "a frame's code object is not readable (the frame changed under the read); not followed";
static const char NOTE_CHANGED[] =
    "this stack changed while it was being read; use --pause for a consistent picture";
static const char NOTE_TOO_LONG[] =
    "the frame chain is longer than 1,000,000 frames or circular; stopped";

static uint64_t
thread_current_frame(stacks_snapshot *s, uint64_t tstate, int *ok)
{
    const stacks_layout *L = &s->L;
    uint64_t v = 0;
    *ok = 0;
    if (L->has_cframe) {
        uint64_t cframe;
        if (stacks_mem_read_u64(&s->mem, tstate + L->ts_cframe, &cframe) < 0)
            return 0;
        if (!cframe) {
            *ok = 1;
            return 0;
        }
        if (stacks_mem_read_u64(&s->mem, cframe + L->cf_current_frame, &v) < 0)
            return 0;
    }
    else if (stacks_mem_read_u64(&s->mem, tstate + L->ts_current_frame, &v) < 0)
        return 0;
    *ok = 1;
    return v;
}

static void
thread_walk(stacks_snapshot *s, stacks_thread *t, uint64_t first)
{
    const stacks_layout *L = &s->L;
    unsigned char fb[128];
    uint64_t frame = first;
    size_t steps = 0;
    size_t header = L->fr_localsplus;

    if (header > sizeof(fb))
        return;
    t->cut_count_exact = 1;
    while (frame) {
        if (++steps > WALK_MAX_STEPS) {
            t->note = NOTE_TOO_LONG;
            t->cut_count_exact = 0;
            break;
        }
        if (stacks_mem_read(&s->mem, frame, fb, header) < 0) {
            t->note = NOTE_UNREADABLE;
            break;
        }
        uint64_t code = u64_at(fb, L->fr_code), prev = u64_at(fb, L->fr_previous);
        uint64_t instr = u64_at(fb, L->fr_instr);
        int owner = fb[L->fr_owner];
        /* A shim frame the interpreter pushes when C calls into Python: the
         * frame shown before it ends one run of the interpreter loop. */
        if (L->owner_cstack >= 0 && owner == L->owner_cstack) {
            if (t->nframes && t->nframes <= (size_t)s->max_depth)
                t->frames[t->nframes - 1].entry = 1;
            frame = prev;
            continue;
        }
        if (t->nframes >= (size_t)s->max_depth) {
            t->frames_cut++;
            frame = prev;
            continue;
        }
        stacks_code *c = code_get(s, code);
        if (!c) {
            t->note = NOTE_NOT_CODE;
            break;
        }
        uint64_t base = code + L->co_code_adaptive;
        /* An incomplete frame has not executed its first traceable
         * instruction (still copying free vars, making cells): CPython's
         * own tracebacks skip it, so do we. */
        if (owner != L->owner_generator && instr < base + 2 * (uint64_t)c->firsttraceable) {
            frame = prev;
            continue;
        }
        stacks_frame f = {0};
        f.code = c;
        f.entry = L->fr_is_entry >= 0 && fb[L->fr_is_entry] != 0;
        int64_t lasti = (int64_t)(instr - base);
        f.line = (lasti > (int64_t)1 << 30) ? -1 : stacks_walk_addr2line(c, (long)lasti);
        if (s->want_locals)
            frame_read_locals(s, frame, c, &f);
        if (thread_push_frame(t, &f) < 0) {
            t->note = "out of memory while reading this stack";
            break;
        }
        frame = prev;
    }
}

static char
task_state(pid_t pid, long tid)
{
    char path[96], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/task/%ld/stat", (int)pid, tid);
    FILE *f = fopen(path, "re");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "tid (comm) S ...": comm may hold ')' so take the last one. */
    char *rp = strrchr(buf, ')');
    if (rp && rp[1] == ' ' && rp[2])
        return rp[2];
    return '?';
}

void
stacks_walk_read_states(stacks_snapshot *s)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)s->pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    size_t cap = 0;
    while ((de = readdir(d)) != NULL && s->nprestates < 100000) {
        char *end;
        long tid = strtol(de->d_name, &end, 10);
        if (*end || tid <= 0)
            continue;
        if (s->nprestates == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            void *np = realloc(s->prestates, ncap * sizeof(*s->prestates));
            if (!np)
                break;
            s->prestates = np;
            cap = ncap;
        }
        s->prestates[s->nprestates].tid = tid;
        s->prestates[s->nprestates].state = task_state(s->pid, tid);
        s->nprestates++;
    }
    closedir(d);
}

static void
thread_proc_state(stacks_snapshot *s, stacks_thread *t)
{
    t->state = '?';
    if (t->native_id <= 0)
        return;
    if (s->prestates) {
        for (size_t i = 0; i < s->nprestates; i++)
            if (s->prestates[i].tid == t->native_id)
                t->state = s->prestates[i].state;
        return;
    }
    t->state = task_state(s->pid, t->native_id);
}

static int
snapshot_push_thread(stacks_snapshot *s, stacks_thread **out)
{
    if (s->nthreads == s->threads_cap) {
        size_t ncap = s->threads_cap ? s->threads_cap * 2 : 16;
        stacks_thread *nt = realloc(s->threads, ncap * sizeof(*nt));
        if (!nt)
            return -1;
        s->threads = nt;
        s->threads_cap = ncap;
    }
    *out = &s->threads[s->nthreads++];
    memset(*out, 0, sizeof(**out));
    return 0;
}

/* Native frames of a ptrace-stopped thread (--native). */
static void
thread_native(stacks_snapshot *s, stacks_thread *t)
{
    t->nnative = -1;
    if (t->native_id <= 0)
        return;
    if (!s->native_cache && !(s->native_cache = stacks_native_new(s->pid)))
        return;
    t->native = calloc(STACKS_NATIVE_MAX_FRAMES, sizeof(*t->native));
    if (!t->native)
        return;
    t->nnative = stacks_native_unwind(s->native_cache, &s->mem, (pid_t)t->native_id,
                                      t->native, STACKS_NATIVE_MAX_FRAMES);
}

/* The GIL holder of one interpreter (3.12+) or of the runtime (3.11):
 * the last holder counts only while the lock is taken. */
static uint64_t
gil_holder(stacks_snapshot *s, uint64_t interp)
{
    const stacks_layout *L = &s->L;
    uint64_t gil, holder;
    int32_t locked;
    if (L->minor == 11)
        gil = s->syms.addr[STACKS_SYM_RUNTIME] + L->rt_gil;
    else if (stacks_mem_read_u64(&s->mem, interp + L->is_gil_ptr, &gil) < 0 || !gil)
        return 0;
    if (stacks_mem_read(&s->mem, gil + L->gil_locked, &locked, sizeof(locked)) < 0 ||
        locked <= 0)
        return 0;
    if (stacks_mem_read_u64(&s->mem, gil + L->gil_last_holder, &holder) < 0)
        return 0;
    return holder;
}

int
stacks_walk_collect(stacks_snapshot *s, char *errmsg, size_t errlen)
{
    const stacks_layout *L = &s->L;
    uint64_t interp;

    if (stacks_mem_read_u64(&s->mem, s->syms.addr[STACKS_SYM_RUNTIME] + L->rt_interpreters_head,
                            &interp) < 0) {
        int e = s->mem.last_errno;
        snprintf(errmsg, errlen, "cannot read the runtime state: %s", strerror(e));
        return e == ESRCH ? STACKS_ERR_NO_PROCESS :
               (e == EPERM || e == EACCES) ? STACKS_ERR_DENIED : STACKS_ERR_READ;
    }
    if (!interp)
        stacks_walk_add_note(s, "the interpreter is not initialised (starting up or shutting down)");
    /* The list is newest first; show the main interpreter's threads first. */
    while (interp && s->ninterps < WALK_MAX_INTERPS) {
        s->interps[s->ninterps++] = interp;
        if (stacks_mem_read_u64(&s->mem, interp + L->is_next, &interp) < 0) {
            stacks_walk_add_note(s, "the interpreter list could not be read to its end");
            break;
        }
    }
    for (int a = 0, b = s->ninterps - 1; a < b; a++, b--) {
        uint64_t tmp = s->interps[a];
        s->interps[a] = s->interps[b];
        s->interps[b] = tmp;
    }
    for (int ni = 0; ni < s->ninterps; ni++) {
        int64_t interp_id = 0;
        interp = s->interps[ni];
        uint64_t ts = 0, holder = gil_holder(s, interp);
        size_t first_index = s->nthreads;
        if (stacks_mem_read(&s->mem, interp + L->is_id, &interp_id, sizeof(interp_id)) < 0 ||
            stacks_mem_read_u64(&s->mem, interp + L->is_threads_head, &ts) < 0) {
            stacks_walk_add_note(s, "an interpreter state could not be read; its threads are missing");
            break;
        }
        for (int nt = 0; ts && nt < WALK_MAX_THREAD_STEPS; nt++) {
            unsigned char tb[256];
            size_t tsize = L->ts_native_thread_id + 8;
            if (tsize > sizeof(tb) || stacks_mem_read(&s->mem, ts, tb, tsize) < 0) {
                stacks_walk_add_note(s, "a thread state could not be read (a thread ended during the read); "
                                        "later threads of that interpreter are missing");
                break;
            }
            uint64_t next = u64_at(tb, L->ts_next);
            if (s->nthreads >= (size_t)s->max_threads) {
                s->threads_cut++;
                ts = next;
                continue;
            }
            stacks_thread *t;
            if (snapshot_push_thread(s, &t) < 0)
                return STACKS_ERR_NOMEM;
            t->tstate = ts;
            t->thread_id = u64_at(tb, L->ts_thread_id);
            t->native_id = (long)u64_at(tb, L->ts_native_thread_id);
            t->interp_id = (long)interp_id;
            t->has_gil = holder && holder == ts;
            int ok;
            uint64_t first = thread_current_frame(s, ts, &ok);
            if (!ok)
                t->note = NOTE_UNREADABLE;
            else {
                thread_walk(s, t, first);
                if (!s->paused) {
                    uint64_t again = thread_current_frame(s, ts, &ok);
                    if (!ok || again != first) {
                        if (!t->note)
                            t->note = NOTE_CHANGED;
                        s->changed = 1;
                    }
                }
            }
            thread_proc_state(s, t);
            if (s->want_native && s->paused)
                thread_native(s, t);
            ts = next;
        }
        /* The list is newest first; show threads in creation order. */
        for (size_t a = first_index, b = s->nthreads; b > a + 1; a++, b--) {
            stacks_thread tmp = s->threads[a];
            s->threads[a] = s->threads[b - 1];
            s->threads[b - 1] = tmp;
        }
    }
    stacks_names_fill(s);
    hide_copies(s);
    return STACKS_OK;
}

/* --- opening -------------------------------------------------------------- */

static void
read_cmdline(stacks_snapshot *s)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)s->pid);
    s->cmdline[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    size_t n = fread(s->cmdline, 1, sizeof(s->cmdline) - 1, f);
    fclose(f);
    s->cmdline[n] = '\0';
    while (n > 0 && s->cmdline[n - 1] == '\0')
        n--;
    for (size_t i = 0; i < n; i++)
        if (s->cmdline[i] == '\0')
            s->cmdline[i] = ' ';
    s->cmdline[n] = '\0';
}

int
stacks_walk_open(stacks_snapshot *s, pid_t pid, char *errmsg, size_t errlen)
{
    char detail[PATH_MAX + 128];
    s->pid = pid;
    stacks_mem_init(&s->mem, pid);
    if (kill(pid, 0) < 0 && errno == ESRCH) {
        snprintf(errmsg, errlen, "no such process: %d", (int)pid);
        return STACKS_ERR_NO_PROCESS;
    }
    int rc = stacks_elf_find(pid, &s->syms, detail, sizeof(detail));
    if (rc == STACKS_ELF_NO_PROCESS) {
        snprintf(errmsg, errlen, "no such process: %d", (int)pid);
        return STACKS_ERR_NO_PROCESS;
    }
    if (rc == STACKS_ELF_DENIED) {
        snprintf(errmsg, errlen, "permission denied: %s", detail);
        return STACKS_ERR_DENIED;
    }
    if (rc != STACKS_ELF_OK) {
        if (s->syms.name_minor >= 0 && (s->syms.name_minor < 11 || s->syms.name_minor > 13)) {
            snprintf(errmsg, errlen, "process %d runs Python 3.%d, which is not supported "
                     "(sleuth stacks reads CPython 3.11, 3.12 and 3.13)", (int)pid, s->syms.name_minor);
            return STACKS_ERR_VERSION;
        }
        snprintf(errmsg, errlen, "process %d is not a Python process: %s", (int)pid, detail);
        return STACKS_ERR_NOT_PYTHON;
    }
    read_cmdline(s);
    uint64_t version = 0;
    if (!s->syms.addr[STACKS_SYM_VERSION]) {
        if (s->syms.name_minor >= 0)
            snprintf(errmsg, errlen, "process %d runs Python 3.%d, which is not supported "
                     "(sleuth stacks reads CPython 3.11, 3.12 and 3.13)", (int)pid, s->syms.name_minor);
        else
            snprintf(errmsg, errlen, "process %d runs a CPython older than 3.11 (no Py_Version), "
                     "which is not supported (sleuth stacks reads 3.11, 3.12 and 3.13)", (int)pid);
        return STACKS_ERR_VERSION;
    }
    if (stacks_mem_read_u64(&s->mem, s->syms.addr[STACKS_SYM_VERSION], &version) < 0) {
        int e = s->mem.last_errno;
        if (e == EPERM || e == EACCES) {
            snprintf(errmsg, errlen, "permission denied reading the memory of process %d", (int)pid);
            return STACKS_ERR_DENIED;
        }
        if (e == ESRCH) {
            snprintf(errmsg, errlen, "no such process: %d (it exited)", (int)pid);
            return STACKS_ERR_NO_PROCESS;
        }
        snprintf(errmsg, errlen, "cannot read the memory of process %d: %s", (int)pid, strerror(e));
        return STACKS_ERR_READ;
    }
    s->hexversion = (unsigned long)(version & 0xffffffffu);
    int major = (int)(s->hexversion >> 24), minor = (int)((s->hexversion >> 16) & 0xff);
    if (major != 3 || minor < 11 || minor > 13) {
        snprintf(errmsg, errlen, "process %d runs Python %d.%d.%d, which is not supported "
                 "(sleuth stacks reads CPython 3.11, 3.12 and 3.13)", (int)pid, major, minor,
                 (int)((s->hexversion >> 8) & 0xff));
        return STACKS_ERR_VERSION;
    }
    if (stacks_layout_load(&s->L, s->hexversion, &s->mem, s->syms.addr[STACKS_SYM_RUNTIME],
                           detail, sizeof(detail)) < 0) {
        snprintf(errmsg, errlen, "process %d runs Python %d.%d, but its layout is not "
                 "understood: %s", (int)pid, major, minor, detail);
        return STACKS_ERR_VERSION;
    }
    return STACKS_OK;
}

void
stacks_walk_free(stacks_snapshot *s)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        stacks_thread *t = &s->threads[i];
        for (size_t j = 0; j < t->nframes; j++) {
            stacks_frame *f = &t->frames[j];
            for (int k = 0; k < f->nlocals; k++) {
                free(f->locals[k].name);
                free(f->locals[k].repr);
                free(f->locals[k].hidden);
            }
            free(f->locals);
        }
        free(t->frames);
        free(t->name);
        free(t->native);
    }
    free(s->threads);
    s->threads = NULL;
    s->nthreads = 0;
    for (size_t i = 0; i < s->codes_cap; i++)
        code_free(s->codes[i]);
    free(s->codes);
    s->codes = NULL;
    free(s->prestates);
    s->prestates = NULL;
    stacks_native_free(s->native_cache);
    s->native_cache = NULL;
    s->nprestates = 0;
    s->codes_cap = s->ncodes = 0;
    stacks_mem_close(&s->mem);
}
