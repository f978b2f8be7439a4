/* stacks_render.c — text and JSON output (formats in docs/stacks.md).
 *
 * Names, files and reprs come from the target and may hold anything: the
 * text form escapes control characters as \xNN (no terminal escapes reach
 * the user's screen), the JSON form escapes per RFC 8259. Both assume UTF-8
 * input, which stacks_walk guarantees.
 */
#include "stacks_render.h"
#include "termsafe.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
stacks_buf_free(stacks_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static int
buf_reserve(stacks_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 4096;
    while (ncap < b->len + extra + 1)
        ncap *= 2;
    char *nd = realloc(b->data, ncap);
    if (!nd) {
        b->oom = 1;
        return -1;
    }
    b->data = nd;
    b->cap = ncap;
    return 0;
}

static void
buf_put(stacks_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) < 0)
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
buf_puts(stacks_buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

void
stacks_buf_printf(stacks_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n) < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Text: printable as is; what termsafe.h escapes (C0, DEL, C1, bidi and
 * other invisible controls) as \xNN or \uNNNN, like every other reader of
 * untrusted data. The input is UTF-8 (stacks_walk guarantees it). */
static void
put_text(stacks_buf *b, const char *s)
{
    if (!s) {
        buf_puts(b, "?");
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
        Py_UCS4 ch = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
        size_t k = 1;
        for (; k < len && (p[k] & 0xc0) == 0x80; k++)
            ch = (ch << 6) | (p[k] & 0x3f);
        if (k < len) {                   /* cut short: show the byte */
            stacks_buf_printf(b, "\\x%02x", c);
            p++;
            continue;
        }
        if (TermSafe_unsafe_char(ch)) {
            if (ch <= 0xff)
                stacks_buf_printf(b, "\\x%02x", (unsigned)ch);
            else
                stacks_buf_printf(b, "\\u%04x", (unsigned)ch);
        }
        else
            buf_put(b, (const char *)p, len);
        p += len;
    }
}

static void
put_json_str(stacks_buf *b, const char *s)
{
    if (!s) {
        buf_puts(b, "null");
        return;
    }
    buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            buf_put(b, esc, 2);
        }
        else if (*p < 0x20 || *p == 0x7f)
            stacks_buf_printf(b, "\\u%04x", *p);
        else
            buf_put(b, (const char *)p, 1);
    }
    buf_put(b, "\"", 1);
}

static void
version_string(unsigned long hex, char *out, size_t len)
{
    unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;
    const char *lv = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : "";
    if (*lv)
        snprintf(out, len, "%lu.%lu.%lu%s%u", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff,
                 lv, serial);
    else
        snprintf(out, len, "%lu.%lu.%lu", hex >> 24, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
}

static const char *
thread_status(const stacks_thread *t)
{
    int active = t->state == 'R';
    if (t->state == '?')
        return t->has_gil ? "gil" : "unknown";
    if (active)
        return t->has_gil ? "active+gil" : "active";
    return t->has_gil ? "idle+gil" : "idle";
}

/* One frame in display order: a Python frame (py) or a native one (nat). */
typedef void (*frame_visitor)(const stacks_snapshot *s, stacks_buf *b, const stacks_frame *py,
                              const stacks_native_frame *nat, size_t index);

/* Visit a thread's frames innermost first: its Python frames, or with
 * --native its native frames with each run of the interpreter loop
 * (_PyEval_EvalFrameDefault) replaced by the Python frames that run
 * executes (up to and including the frame marked `entry`). Python frames
 * left over when native unwinding stopped early come last. */
static void
visit_frames(const stacks_snapshot *s, const stacks_thread *t, stacks_buf *b, frame_visitor v)
{
    size_t j = 0, index = 0;
    if (s->want_native && t->nnative > 0) {
        for (int k = 0; k < t->nnative; k++) {
            const stacks_native_frame *nf = &t->native[k];
            if (stacks_native_is_eval(nf) && j < t->nframes) {
                int entry;
                do {
                    entry = t->frames[j].entry;
                    v(s, b, &t->frames[j++], NULL, index++);
                } while (!entry && j < t->nframes);
                continue;
            }
            v(s, b, NULL, nf, index++);
        }
    }
    while (j < t->nframes)
        v(s, b, &t->frames[j++], NULL, index++);
}

static void
text_frame(const stacks_snapshot *s, stacks_buf *b, const stacks_frame *f,
           const stacks_native_frame *nf, size_t index)
{
    (void)s;
    (void)index;
    buf_puts(b, "    ");
    if (nf) {
        if (nf->symbol) {
            put_text(b, nf->symbol);
            stacks_buf_printf(b, "+0x%llx", (unsigned long long)nf->offset);
        }
        else
            stacks_buf_printf(b, "0x%llx", (unsigned long long)nf->pc);
        buf_puts(b, " (");
        put_text(b, nf->module ? nf->module : "?");
        if (!nf->symbol && nf->module)
            stacks_buf_printf(b, "+0x%llx", (unsigned long long)nf->modoff);
        buf_puts(b, ")\n");
        return;
    }
    /* The qualified name, as py-spy shows for 3.11+ ("Thread.run"). */
    put_text(b, f->code->qualname ? f->code->qualname : f->code->name);
    buf_puts(b, " (");
    put_text(b, f->code->filename);
    if (f->line >= 0)
        stacks_buf_printf(b, ":%d)\n", f->line);
    else
        buf_puts(b, ")\n");
    if (f->nlocals) {
        buf_puts(b, "        Locals:\n");
        for (int k = 0; k < f->nlocals; k++) {
            buf_puts(b, "            ");
            put_text(b, f->locals[k].name);
            buf_puts(b, ": ");
            put_text(b, f->locals[k].redacted ? "[redacted]" : f->locals[k].repr);
            buf_puts(b, "\n");
        }
    }
}

static void
json_frame(const stacks_snapshot *s, stacks_buf *b, const stacks_frame *f,
           const stacks_native_frame *nf, size_t index)
{
    buf_puts(b, index ? ",\n    {" : "\n    {");
    if (nf) {
        stacks_buf_printf(b, "\"kind\": \"native\", \"address\": %llu, \"symbol\": ",
                          (unsigned long long)nf->pc);
        put_json_str(b, nf->symbol);
        stacks_buf_printf(b, ", \"offset\": %llu, \"module\": ", (unsigned long long)nf->offset);
        put_json_str(b, nf->module);
        stacks_buf_printf(b, ", \"module_offset\": %llu", (unsigned long long)nf->modoff);
        buf_puts(b, "}");
        return;
    }
    if (s->want_native)
        buf_puts(b, "\"kind\": \"python\", ");
    buf_puts(b, "\"function\": ");
    put_json_str(b, f->code->name);
    buf_puts(b, ", \"qualname\": ");
    put_json_str(b, f->code->qualname);
    buf_puts(b, ", \"file\": ");
    put_json_str(b, f->code->filename);
    if (f->line >= 0)
        stacks_buf_printf(b, ", \"line\": %d", f->line);
    else
        buf_puts(b, ", \"line\": null");
    if (s->want_locals) {
        buf_puts(b, ", \"locals\": [");
        for (int k = 0; k < f->nlocals; k++) {
            buf_puts(b, k ? ", {\"name\": " : "{\"name\": ");
            put_json_str(b, f->locals[k].name);
            if (f->locals[k].redacted)
                buf_puts(b, ", \"redacted\": true}");
            else {
                buf_puts(b, ", \"repr\": ");
                put_json_str(b, f->locals[k].repr);
                buf_puts(b, "}");
            }
        }
        buf_puts(b, "]");
    }
    buf_puts(b, "}");
}

void
stacks_render_text(const stacks_snapshot *s, stacks_buf *b)
{
    char ver[32];
    version_string(s->hexversion, ver, sizeof(ver));
    stacks_buf_printf(b, "Process %d: ", (int)s->pid);
    put_text(b, s->cmdline);
    buf_puts(b, "\nPython v");
    buf_puts(b, ver);
    buf_puts(b, " (");
    put_text(b, s->syms.exe);
    buf_puts(b, s->paused ? ") [paused while read]\n" : ")\n");
    if (s->nthreads == 0)
        buf_puts(b, "\n(no Python threads)\n");
    for (size_t i = 0; i < s->nthreads; i++) {
        const stacks_thread *t = &s->threads[i];
        buf_puts(b, "\n");
        if (t->native_id > 0)
            stacks_buf_printf(b, "Thread %ld", t->native_id);
        else
            stacks_buf_printf(b, "Thread 0x%llx", (unsigned long long)t->thread_id);
        stacks_buf_printf(b, " (%s)", thread_status(t));
        if (t->name) {
            buf_puts(b, ": \"");
            put_text(b, t->name);
            buf_puts(b, "\"");
        }
        if (t->interp_id != 0)
            stacks_buf_printf(b, " [interpreter %ld]", t->interp_id);
        buf_puts(b, "\n");
        visit_frames(s, t, b, text_frame);
        if (t->nnative < 0 && s->want_native)
            buf_puts(b, "    note: native frames unavailable (registers could not be read)\n");
        if (t->frames_cut)
            stacks_buf_printf(b, "    ... %s%zu more frames not shown (--max-depth %d)\n",
                              t->cut_count_exact ? "" : "at least ", t->frames_cut, s->max_depth);
        if (t->note) {
            buf_puts(b, "    note: ");
            buf_puts(b, t->note);
            buf_puts(b, "\n");
        }
    }
    if (s->threads_cut)
        stacks_buf_printf(b, "\n... %zu more threads not shown (--max-threads %d)\n",
                          s->threads_cut, s->max_threads);
    for (int i = 0; i < s->nnotes; i++)
        stacks_buf_printf(b, "\nnote: %s\n", s->notes[i]);
    if (s->changed)
        buf_puts(b, "\nnote: the process kept running while it was read and some stacks "
                    "changed under the read; use --pause for a consistent picture\n");
}

void
stacks_render_json(const stacks_snapshot *s, stacks_buf *b)
{
    char ver[32];
    version_string(s->hexversion, ver, sizeof(ver));
    stacks_buf_printf(b, "{\"schema\": \"sleuth.stacks/1\", \"pid\": %d, \"command\": ", (int)s->pid);
    put_json_str(b, s->cmdline);
    buf_puts(b, ", \"python\": {\"version\": ");
    put_json_str(b, ver);
    stacks_buf_printf(b, ", \"hexversion\": %lu, \"executable\": ", s->hexversion);
    put_json_str(b, s->syms.exe);
    buf_puts(b, ", \"runtime_file\": ");
    put_json_str(b, s->syms.path);
    stacks_buf_printf(b, "}, \"paused\": %s, \"changed_during_read\": %s, \"threads\": [",
                      s->paused ? "true" : "false", s->changed ? "true" : "false");
    for (size_t i = 0; i < s->nthreads; i++) {
        const stacks_thread *t = &s->threads[i];
        stacks_buf_printf(b, "%s\n  {\"native_id\": %ld, \"thread_id\": %llu, \"name\": ",
                          i ? "," : "", t->native_id, (unsigned long long)t->thread_id);
        put_json_str(b, t->name);
        stacks_buf_printf(b, ", \"name_source\": %s, \"interpreter\": %ld, \"gil\": %s, "
                          "\"state\": \"%c\", \"active\": %s, \"frames\": [",
                          t->name ? (t->name_from_threading ? "\"threading\"" : "\"comm\"") : "null",
                          t->interp_id, t->has_gil ? "true" : "false", t->state,
                          t->state == 'R' ? "true" : "false");
        visit_frames(s, t, b, json_frame);
        if (s->want_native)
            stacks_buf_printf(b, "], \"native_frames\": %d", t->nnative);
        else
            buf_puts(b, "]");
        stacks_buf_printf(b, ", \"frames_cut\": %zu, \"note\": ", t->frames_cut);
        put_json_str(b, t->note);
        buf_puts(b, "}");
    }
    stacks_buf_printf(b, "], \"threads_cut\": %zu, \"notes\": [", s->threads_cut);
    for (int i = 0; i < s->nnotes; i++) {
        if (i)
            buf_puts(b, ", ");
        put_json_str(b, s->notes[i]);
    }
    buf_puts(b, "]}\n");
}
