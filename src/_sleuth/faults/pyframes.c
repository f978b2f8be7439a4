/* pyframes.c — see pyframes.h. Everything here may run in a signal handler. */
#include "faults_compat.h"     /* first: defines Py_BUILD_CORE for Python.h */

#include <string.h>

#include "names.h"
#include "pyframes.h"
#include "safemem.h"

/* ------------------------------------------------------------------------ */
/* strings                                                                  */

int
Faults_type_is(PyTypeObject *type, PyTypeObject *base)
{
    /* tp_base links, read safely; bounded so that a cycle in garbage ends. */
    for (int depth = 0; depth < 64 && FAULTS_PLAUSIBLE(type); depth++) {
        if (type == base)
            return 1;
        if (FAULTS_LOAD_FIELD(type, type, PyTypeObject, tp_base) < 0)
            return 0;
    }
    return 0;
}

int
Faults_read_str(PyObject *text, Faults_str *s)
{
    PyCompactUnicodeObject head;
    PyTypeObject *type;

    if (!FAULTS_PLAUSIBLE(text) || FAULTS_LOAD_FIELD(type, text, PyObject, ob_type) < 0
            || !Faults_type_is(type, &PyUnicode_Type))
        return -1;
    /* The compact header is the largest prefix of every str layout; reading
     * it whole from a short ASCII string may run into the next object, which
     * is harmless because it is only a copy. */
    if (Faults_safe_read(&head, text, sizeof(PyASCIIObject)) < 0)
        return -1;
    s->length = head._base.length;
    s->kind = head._base.state.kind;
    s->hash = head._base.hash;
    if (s->length < 0 || (s->kind != PyUnicode_1BYTE_KIND && s->kind != PyUnicode_2BYTE_KIND
                          && s->kind != PyUnicode_4BYTE_KIND))
        return -1;
    if (head._base.state.compact) {
        if (head._base.state.ascii)
            s->data = (uintptr_t)text + sizeof(PyASCIIObject);
        else
            s->data = (uintptr_t)text + sizeof(PyCompactUnicodeObject);
    }
    else {
        void *any;
        if (FAULTS_LOAD_FIELD(any, text, PyUnicodeObject, data.any) < 0 || any == NULL)
            return -1;
        s->data = (uintptr_t)any;
    }
    return 0;
}

void
Faults_write_str(Faults_out *o, const Faults_str *s)
{
    Py_ssize_t size = s->length, i;
    int kind = s->kind, truncated = 0;

    if (size > FAULTS_MAX_STRING) {
        size = FAULTS_MAX_STRING;
        truncated = 1;
    }
    /* Copy in chunks so long names need no big buffer. */
    for (i = 0; i < size;) {
        unsigned char chunk[256];
        Py_ssize_t n = (Py_ssize_t)sizeof(chunk) / kind;
        if (n > size - i)
            n = size - i;
        if (Faults_safe_read(chunk, (const void *)(s->data + (uintptr_t)(i * kind)),
                             (size_t)(n * kind)) < 0) {
            Faults_out_puts(o, "<unreadable>");
            return;
        }
        for (Py_ssize_t j = 0; j < n; j++) {
            uint32_t ch;
            if (kind == PyUnicode_1BYTE_KIND)
                ch = chunk[j];
            else if (kind == PyUnicode_2BYTE_KIND)
                ch = ((const Py_UCS2 *)chunk)[j];
            else
                ch = ((const Py_UCS4 *)chunk)[j];
            Faults_out_char_escaped(o, ch);
        }
        i += n;
    }
    if (truncated)
        Faults_out_puts(o, "...");
}

/* Write a str object escaped like faulthandler, or "???" when `text` is not
 * a readable str. Returns 0 if written, -1 if it printed "???". */
static int
dump_str(Faults_out *o, PyObject *text)
{
    Faults_str s;
    if (Faults_read_str(text, &s) < 0) {
        Faults_out_puts(o, "???");
        return -1;
    }
    Faults_write_str(o, &s);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* line numbers from the location table (format: CPython's
 * Objects/locations.md, the same for 3.11-3.13), read through safe copies so
 * that a damaged table ends the search instead of the process. */

typedef struct {
    const unsigned char *src;   /* next unread byte in the live object */
    Py_ssize_t left;            /* bytes not yet copied */
    unsigned char buf[128];
    int pos, len;
    int failed;
} table_reader;

static int
table_next(table_reader *r)
{
    if (r->pos == r->len) {
        Py_ssize_t n = r->left < (Py_ssize_t)sizeof(r->buf) ? r->left
                                                            : (Py_ssize_t)sizeof(r->buf);
        if (n <= 0 || Faults_safe_read(r->buf, r->src, (size_t)n) < 0) {
            r->failed = 1;
            return -1;
        }
        r->src += n;
        r->left -= n;
        r->pos = 0;
        r->len = (int)n;
    }
    return r->buf[r->pos++];
}

static unsigned int
table_varint(table_reader *r)
{
    unsigned int value = 0;
    int shift = 0, b;
    do {
        b = table_next(r);
        if (b < 0 || shift > 28)
            return 0;
        value |= (unsigned int)(b & 63) << shift;
        shift += 6;
    } while (b & 64);
    return value;
}

static int
table_svarint(table_reader *r)
{
    unsigned int u = table_varint(r);
    return (u & 1) ? -(int)(u >> 1) : (int)(u >> 1);
}

/* Line of the instruction at byte offset `addr`, or -1 if unknown. */
static int
line_for_offset(PyObject *linetable, int firstlineno, Py_ssize_t addr)
{
    PyVarObject head;
    PyTypeObject *type;
    table_reader r;
    Py_ssize_t start = 0;
    int line = firstlineno;

    if (addr < 0)
        return firstlineno;
    if (!FAULTS_PLAUSIBLE(linetable) || FAULTS_LOAD_FIELD(type, linetable, PyObject, ob_type) < 0
            || type != &PyBytes_Type)
        return -1;
    if (FAULTS_LOAD(head, linetable) < 0 || head.ob_size < 0 || head.ob_size > (1 << 24))
        return -1;
    memset(&r, 0, sizeof(r));
    r.src = (const unsigned char *)linetable + offsetof(PyBytesObject, ob_sval);
    r.left = head.ob_size;
    while (r.left > 0 || r.pos < r.len) {
        int first = table_next(&r);
        if (first < 0 || !(first & 128))
            return -1;          /* not at an entry start: the table is damaged */
        int code = (first >> 3) & 15;
        Py_ssize_t end = start + ((first & 7) + 1) * (Py_ssize_t)sizeof(_Py_CODEUNIT);
        int entry_line;
        if (code == 15) {
            entry_line = -1;
        }
        else {
            int delta;
            if (code == 14) {
                delta = table_svarint(&r);
                (void)table_varint(&r);     /* end line */
                (void)table_varint(&r);     /* start column */
                (void)table_varint(&r);     /* end column */
            }
            else if (code == 13) {
                delta = table_svarint(&r);
            }
            else if (code >= 10) {
                delta = code - 10;
                (void)table_next(&r);
                (void)table_next(&r);
            }
            else {
                delta = 0;
                (void)table_next(&r);
            }
            if (r.failed)
                return -1;
            line += delta;
            entry_line = line;
        }
        if (addr < end)
            return entry_line;
        start = end;
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
/* frames and threads                                                       */

PyThreadState *
Faults_this_tstate(void)
{
    return PyGILState_GetThisThreadState();
}

static faults_iframe *
thread_top_frame(PyThreadState *tstate, int *ok)
{
    faults_iframe *frame = NULL;
#if SLEUTH_PY313
    *ok = FAULTS_LOAD_FIELD(frame, tstate, PyThreadState, current_frame) == 0;
#else
    _PyCFrame *cframe;
    *ok = FAULTS_LOAD_FIELD(cframe, tstate, PyThreadState, cframe) == 0
          && (cframe == NULL
              || FAULTS_LOAD_FIELD(frame, cframe, _PyCFrame, current_frame) == 0);
#endif
    return frame;
}

/* Write one frame; 0 if it was valid, -1 if it was shown as invalid. */
static int
dump_frame(Faults_out *o, const faults_iframe *frame)
{
    PyObject *code_obj = FAULTS_FRAME_CODE(frame);
    PyCodeObject code;
    PyTypeObject *type;
    Py_ssize_t addr = -1;
    int line;

    if (!FAULTS_PLAUSIBLE(code_obj) || FAULTS_LOAD_FIELD(type, code_obj, PyObject, ob_type) < 0
            || type != &PyCode_Type
            || Faults_safe_read(&code, code_obj, sizeof(code)) < 0
            || Py_REFCNT(&code) <= 0) {
        Faults_out_puts(o, "  <invalid frame: its code object is freed or unreadable>\n");
        return -1;
    }
    Faults_out_puts(o, "  File \"");
    (void)dump_str(o, code.co_filename);   /* "???" inside the quotes if bad */
    Faults_out_puts(o, "\", line ");
    {
        /* Integer arithmetic: the instruction pointer may be garbage. */
        const uintptr_t unit = sizeof(_Py_CODEUNIT);
        uintptr_t base = (uintptr_t)code_obj + offsetof(PyCodeObject, co_code_adaptive);
        uintptr_t instr = (uintptr_t)FAULTS_FRAME_INSTR(frame);
        Py_ssize_t ncodeunits = Py_SIZE(&code);
        /* base - 1 unit: a frame that has not started yet (3.11, 3.12). */
        if (ncodeunits >= 0 && ncodeunits < (1 << 24) && instr + unit >= base
                && instr < base + (uintptr_t)ncodeunits * unit) {
            addr = ((Py_ssize_t)instr - (Py_ssize_t)base) / (Py_ssize_t)unit
                   * (Py_ssize_t)unit;
            line = line_for_offset(code.co_linetable, code.co_firstlineno, addr);
        }
        else {
            line = -1;
        }
    }
    if (line >= 0)
        Faults_out_dec(o, (uintmax_t)line);
    else
        Faults_out_puts(o, "???");
    Faults_out_puts(o, " in ");
    (void)dump_str(o, code.co_name);
    Faults_out_puts(o, "\n");
    return 0;
}

static void
dump_frames(Faults_out *o, PyThreadState *tstate)
{
    int ok;
    faults_iframe *ptr = thread_top_frame(tstate, &ok);
    unsigned int depth = 0;

    if (!ok) {
        Faults_out_puts(o, "  <thread state is freed or unreadable>\n");
        return;
    }
    if (ptr == NULL) {
        Faults_out_puts(o, "  <no Python frame>\n");
        return;
    }
    while (ptr != NULL) {
        faults_iframe frame;
        if (!FAULTS_PLAUSIBLE(ptr) || Faults_safe_read(&frame, ptr, sizeof(frame)) < 0) {
            Faults_out_puts(o, "  <invalid frame: unreadable>\n");
            return;
        }
        if (!FAULTS_FRAME_IS_SHIM(&frame)) {
            if (depth >= FAULTS_MAX_FRAMES) {
                Faults_out_puts(o, "  ...\n");
                return;
            }
            if (dump_frame(o, &frame) < 0)
                return;     /* do not follow a link out of a bad frame */
            depth++;
        }
        if (frame.previous == ptr) {
            Faults_out_puts(o, "  <invalid frame: links to itself>\n");
            return;
        }
        ptr = frame.previous;
    }
}

void
Faults_dump_stack(Faults_out *o, PyThreadState *tstate, int header)
{
    if (header)
        Faults_out_puts(o, "Stack (most recent call first):\n");
    dump_frames(o, tstate);
}

static void
write_thread_id(Faults_out *o, PyThreadState *tstate, int is_current)
{
    unsigned long ident = 0;

    (void)FAULTS_LOAD_FIELD(ident, tstate, PyThreadState, thread_id);
    Faults_out_puts(o, is_current ? "Current thread 0x" : "Thread 0x");
    Faults_out_hex(o, ident, (int)sizeof(unsigned long) * 2);
}

/* faulthandler's header, byte for byte: the name goes in a section of its
 * own after the stacks (Faults_dump_thread_names), so that what faulthandler
 * writes is a prefix of what we write. */
static void
write_thread_header(Faults_out *o, PyThreadState *tstate, int is_current)
{
    write_thread_id(o, tstate, is_current);
    Faults_out_puts(o, " (most recent call first):\n");
}

/* The first thread state of interp, or NULL with *err set. */
static PyThreadState *
first_thread(PyInterpreterState **interp, PyThreadState *current, const char **err)
{
    PyThreadState *tstate = NULL;

    if (*interp == NULL && current != NULL)
        (void)FAULTS_LOAD_FIELD(*interp, current, PyThreadState, interp);
    if (!FAULTS_PLAUSIBLE(*interp)) {
        *err = "unable to get the interpreter state";
        return NULL;
    }
    if (FAULTS_LOAD_FIELD(tstate, *interp, PyInterpreterState, threads.head) < 0) {
        *err = "the interpreter state is freed or unreadable";
        return NULL;
    }
    if (tstate == NULL)
        *err = "unable to get the thread head state";
    return tstate;
}

void
Faults_dump_thread_names(Faults_out *o, PyInterpreterState *interp, PyThreadState *current)
{
    PyThreadState *tstate, *next;
    const char *err = NULL;
    unsigned int n = 0;
    int any = 0;
    char name[FAULTS_NAME_MAX];

    tstate = first_thread(&interp, current, &err);
    for (; tstate != NULL && FAULTS_PLAUSIBLE(tstate) && n < FAULTS_MAX_THREADS; n++) {
        unsigned long ident = 0, native = 0;
        (void)FAULTS_LOAD_FIELD(ident, tstate, PyThreadState, thread_id);
        (void)FAULTS_LOAD_FIELD(native, tstate, PyThreadState, native_thread_id);
        if (Faults_names_lookup(ident, native, name)) {
            if (!any)
                Faults_out_puts(o, "\nThread names:\n");
            any = 1;
            Faults_out_puts(o, "  ");
            write_thread_id(o, tstate, tstate == current);
            /* Names are UTF-8 bytes: escape non-ASCII bytes rather than decode. */
            Faults_out_puts(o, " \"");
            for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
                if (*p == '"' || *p == '\\') {
                    Faults_out_puts(o, "\\");
                    Faults_out_write(o, (const char *)p, 1);
                }
                else {
                    Faults_out_char_escaped(o, *p);
                }
            }
            Faults_out_puts(o, "\"\n");
        }
        if (FAULTS_LOAD_FIELD(next, tstate, PyThreadState, next) < 0 || next == tstate)
            break;
        tstate = next;
    }
}

const char *
Faults_dump_threads(Faults_out *o, PyInterpreterState *interp,
                    PyThreadState *current, int show_gc)
{
    PyThreadState *tstate, *next;
    const char *err = NULL;
    unsigned int n = 0;

    tstate = first_thread(&interp, current, &err);
    if (tstate == NULL)
        return err;
    while (tstate != NULL) {
        if (!FAULTS_PLAUSIBLE(tstate)) {
            Faults_out_puts(o, "\n<invalid thread state: the list is damaged>\n");
            break;
        }
        if (n != 0)
            Faults_out_puts(o, "\n");
        if (n >= FAULTS_MAX_THREADS) {
            Faults_out_puts(o, "...\n");
            break;
        }
        write_thread_header(o, tstate, tstate == current);
        if (show_gc && tstate == current) {
            int collecting = 0;
            if (FAULTS_LOAD_FIELD(collecting, interp, PyInterpreterState, gc.collecting) == 0
                    && collecting)
                Faults_out_puts(o, "  Garbage-collecting\n");
        }
        dump_frames(o, tstate);
        if (FAULTS_LOAD_FIELD(next, tstate, PyThreadState, next) < 0 || next == tstate)
            break;
        tstate = next;
        n++;
    }
    return NULL;
}
