/* dap_source.c — the program's source text for a DAP client.
 *
 * - `loadedSources`: the .py files of the modules in sys.modules now (read
 *   from the module dicts: no user code runs), in import order.
 * - `source` by path: the file's text as Python decodes it (a BOM or a
 *   PEP 263 coding cookie, else UTF-8; undecodable bytes replaced).
 * - `source` by sourceReference: a frame of the current stop whose code has
 *   no file on disk (exec'd strings, zip imports, generated code that put
 *   its text in linecache) gets a sourceReference in stackTrace, as debugpy
 *   gives one: it is the frame's id, valid until the thread goes on. Its
 *   text is what linecache knows for the frame (with the frame's globals, so
 *   a module's loader can give it, as pdb's `list` reads it); code compiled
 *   from a string that nobody kept has none, and the answer says so
 *   (debugpy shows a disassembly there).
 *
 * Sizes are bounded: a text whose JSON form would not fit in one message
 * the adapter can relay (DAPWIRE_BODY_MAX) is refused with its size.
 */
#include "dap_server.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The content's JSON (escaped) size must leave room for the envelope. */
#define SOURCE_JSON_MAX (DAPWIRE_BODY_MAX - 64 * 1024)
/* At most this many entries in a loadedSources answer. */
#define LOADED_MAX 20000

/* --- files ---------------------------------------------------------------- */

int
DapSource_on_disk(PyObject *filename)
{
    if (!filename || !PyUnicode_Check(filename))
        return 0;
    PyObject *b = PyUnicode_EncodeFSDefault(filename);
    if (!b) {
        PyErr_Clear();
        return 0;
    }
    struct stat sb;
    const char *p = PyBytes_AS_STRING(b);
    int ok = (Py_ssize_t)strlen(p) == PyBytes_GET_SIZE(b) && stat(p, &sb) == 0;
    Py_DECREF(b);
    return ok;
}

/* PEP 263: the encoding a coding cookie on line 1 or 2 names (copied into
 * enc), or NULL. Line 2 counts only when line 1 is blank or a comment. */
static const char *
coding_cookie(const char *buf, Py_ssize_t n, char *enc, size_t encsz)
{
    Py_ssize_t start = 0;
    for (int line = 0; line < 2 && start < n; line++) {
        Py_ssize_t end = start;
        while (end < n && buf[end] != '\n' && buf[end] != '\r')
            end++;
        Py_ssize_t i = start;
        while (i < end && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\f'))
            i++;
        if (i < end && buf[i] == '#') {
            for (Py_ssize_t j = i + 1; j + 6 < end; j++) {
                if (memcmp(buf + j, "coding", 6) != 0 || (buf[j + 6] != ':' && buf[j + 6] != '='))
                    continue;
                Py_ssize_t k = j + 7;
                while (k < end && (buf[k] == ' ' || buf[k] == '\t'))
                    k++;
                size_t m = 0;
                while (k < end && m + 1 < encsz &&
                       (buf[k] == '-' || buf[k] == '_' || buf[k] == '.' || (buf[k] >= '0' && buf[k] <= '9') ||
                        (buf[k] >= 'a' && buf[k] <= 'z') || (buf[k] >= 'A' && buf[k] <= 'Z')))
                    enc[m++] = buf[k++];
                enc[m] = 0;
                return m > 0 ? enc : NULL;
            }
        } else if (i < end) {
            return NULL;   /* code on line 1: line 2 is not looked at */
        }
        /* the next line (\r\n is one end) */
        start = end + 1;
        if (end + 1 < n && buf[end] == '\r' && buf[end + 1] == '\n')
            start++;
    }
    return NULL;
}

/* The bytes of a source file as text: UTF-8 after a BOM, else the cookie's
 * encoding, else UTF-8; bytes that do not decode are replaced. */
static PyObject *
decode_source(const char *buf, Py_ssize_t n)
{
    char enc[64];
    const char *e = NULL;
    if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        buf += 3;
        n -= 3;
    } else {
        e = coding_cookie(buf, n, enc, sizeof enc);
    }
    PyObject *text = e ? PyUnicode_Decode(buf, n, e, "replace") : NULL;
    if (!text) {
        PyErr_Clear();   /* no cookie, or one that names no text codec */
        text = PyUnicode_DecodeUTF8(buf, n, "replace");
    }
    return text;
}

/* The text of the file at `path` (new ref), or NULL with *why (new ref) the
 * reason, or NULL with neither (an exception is set). The read never waits
 * on something that is not a regular file (a FIFO, a device). */
static PyObject *
read_file(PyObject *path, PyObject **why)
{
    /* Owned */
    PyObject *fs = NULL, *text = NULL;
    char *buf = NULL;
    int fd = -1, err = 0;

    *why = NULL;
    fs = PyUnicode_EncodeFSDefault(path);
    if (!fs)
        goto done;
    const char *p = PyBytes_AS_STRING(fs);
    if ((Py_ssize_t)strlen(p) != PyBytes_GET_SIZE(fs)) {
        *why = PyUnicode_FromFormat("cannot read %R: a path with a NUL character", path);
        goto done;
    }
    struct stat sb;
    int st_ok;
    Py_BEGIN_ALLOW_THREADS
    fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    err = fd < 0 ? errno : 0;
    st_ok = fd >= 0 && fstat(fd, &sb) == 0;
    if (fd >= 0 && !st_ok)
        err = errno;
    Py_END_ALLOW_THREADS
    if (fd < 0 || !st_ok) {
        *why = PyUnicode_FromFormat("cannot read %R: %s", path, strerror(err));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        *why = PyUnicode_FromFormat("cannot read %R: not a regular file", path);
        goto done;
    }
    if (sb.st_size > SOURCE_JSON_MAX) {
        *why = PyUnicode_FromFormat("%R is too big to send (%lld bytes; at most %d)", path,
                                    (long long)sb.st_size, SOURCE_JSON_MAX);
        goto done;
    }
    /* Room for a file that grew since fstat: found by a full buffer. */
    Py_ssize_t cap = (Py_ssize_t)sb.st_size + 4096, len = 0;
    buf = PyMem_RawMalloc((size_t)cap);
    if (!buf) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (;;) {
        ssize_t r = read(fd, buf + len, (size_t)(cap - len));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err = r < 0 ? errno : 0;
            break;
        }
        len += r;
        if (len == cap)
            break;
    }
    Py_END_ALLOW_THREADS
    if (err) {
        *why = PyUnicode_FromFormat("cannot read %R: %s", path, strerror(err));
        goto done;
    }
    if (len == cap) {
        *why = PyUnicode_FromFormat("cannot read %R: it grew while it was read", path);
        goto done;
    }
    text = decode_source(buf, len);
done:
    if (fd >= 0)
        close(fd);
    PyMem_RawFree(buf);
    Py_XDECREF(fs);
    if (!text && !*why && !PyErr_Occurred())
        PyErr_NoMemory();
    return text;
}

/* The size of `text` written as a JSON string (escapes counted as
 * jsonw.c writes them), or -1 with an exception set. */
static Py_ssize_t
json_size(PyObject *text)
{
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(text, &n);
    if (!u)
        return -1;
    Py_ssize_t size = 2;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        size += c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' ? 2 : c < 0x20 || c == 0x7f ? 6 : 1;
    }
    return size;
}

/* Answer with {"content": text}, or refuse a text too big for a message. */
static int
respond_text(DapServer *srv, PyObject *req, PyObject *text, PyObject *what)
{
    Py_ssize_t size = json_size(text);
    if (size < 0)
        return -1;
    if (size > SOURCE_JSON_MAX)
        return Dap_fail(srv, req, "%R is too big to send (%zd bytes as JSON; at most %d)", what, size,
                        SOURCE_JSON_MAX);
    PyObject *b = Py_BuildValue("{s:O}", "content", text);
    int r = b ? Dap_respond(srv, req, b) : -1;
    Py_XDECREF(b);
    return r;
}

/* --- requests ----------------------------------------------------------------- */

/* `source`'s arguments: the reference (source.sourceReference, else the
 * top-level one, which the DAP keeps for old clients) and source.path.
 * 0, or -1 after a failure response. */
static int
source_args(DapServer *srv, PyObject *req, PyObject *args, long *ref, PyObject **path)
{
    PyObject *source = args ? PyDict_GetItemString(args, "source") : NULL;
    *ref = 0;
    *path = NULL;
    if (source == Py_None)
        source = NULL;
    if (source && !PyDict_Check(source)) {
        Dap_fail(srv, req, "%s", "argument 'source' must be an object");
        return -1;
    }
    if (source && (Dap_arg_long(srv, req, source, "sourceReference", 0, ref) < 0 ||
                   Dap_arg_str(srv, req, source, "path", 0, path) < 0))
        return -1;
    if (*ref <= 0 && Dap_arg_long(srv, req, args, "sourceReference", 0, ref) < 0)
        return -1;
    if (*ref < 0) {
        Dap_fail(srv, req, "%s", "argument 'sourceReference' must not be negative");
        return -1;
    }
    return 0;
}

#define UNKNOWN_REF "unknown sourceReference %ld (a reference is valid until its thread goes on)"

int
DapSource_request(DapServer *srv, PyObject *req, PyObject *args)
{
    long ref;
    PyObject *path, *why = NULL;
    if (source_args(srv, req, args, &ref, &path) < 0)
        return 0;
    if (ref > 0) {
        /* A frame of the stop: the stopped thread reads it. */
        if (srv->stopped_thread)
            return PyList_Append(srv->stopq, req);
        return Dap_fail(srv, req, UNKNOWN_REF, ref);
    }
    if (!path)
        return Dap_fail(srv, req, "%s", "missing argument 'sourceReference' (or 'source' with a 'path')");
    PyObject *text = read_file(path, &why);
    if (!text) {
        int r = why ? Dap_fail(srv, req, "%U", why) : -1;
        Py_XDECREF(why);
        return r;
    }
    int r = respond_text(srv, req, text, path);
    Py_DECREF(text);
    return r;
}

int
DapSource_stop_request(DapServer *srv, PyObject *req, PyObject *args)
{
    long ref;
    PyObject *path;
    if (source_args(srv, req, args, &ref, &path) < 0)
        return 0;
    if (ref <= 0)
        return DapSource_request(srv, req, args);
    PyObject *frame = Session_frame(&srv->session, ref, NULL);   /* borrowed */
    PyObject *code = frame && PyFrame_Check(frame) ? Pdb_frame_code(frame) : NULL;
    if (!code) {
        PyErr_Clear();
        return Dap_fail(srv, req, UNKNOWN_REF, ref);
    }
    PyObject *file = ((PyCodeObject *)code)->co_filename;
    PyObject *globals = PyFrame_GetGlobals((PyFrameObject *)frame);
    PyObject *lines = globals ? Util_call("linecache", "getlines", "(OO)", file, globals) : NULL;
    PyObject *empty = PyUnicode_FromString("");
    PyObject *text = lines && empty && PyList_Check(lines) && PyList_GET_SIZE(lines) > 0
                         ? PyUnicode_Join(empty, lines) : NULL;
    PyErr_Clear();   /* a loader that fails: no source */
    int r = text ? respond_text(srv, req, text, file)
                 : Dap_fail(srv, req, "no source for %R: its code was compiled from a string that was not kept",
                            file);
    Py_XDECREF(text);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(globals);
    Py_DECREF(code);
    return r;
}

int
DapSource_loaded_request(DapServer *srv, PyObject *req, PyObject *args)
{
    SLEUTH_UNUSED(args);
    /* Owned */
    PyObject *mods = NULL, *seen = NULL, *out = NULL, *key = NULL, *py = NULL, *pyw = NULL;
    int r = -1;

    PyObject *modules = PySys_GetObject("modules");   /* borrowed */
    if (!modules || !PyDict_Check(modules))
        return Dap_fail(srv, req, "%s", "sys.modules is not a dict");
    mods = PyDict_Values(modules);   /* a snapshot: imports may go on meanwhile */
    seen = PySet_New(NULL);
    out = PyList_New(0);
    key = PyUnicode_InternFromString("__file__");
    py = PyUnicode_FromString(".py");
    pyw = PyUnicode_FromString(".pyw");
    if (!mods || !seen || !out || !key || !py || !pyw)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(mods) && PyList_GET_SIZE(out) < LOADED_MAX; i++) {
        PyObject *m = PyList_GET_ITEM(mods, i);
        if (!PyModule_Check(m))
            continue;
        PyObject *f = PyDict_GetItemWithError(PyModule_GetDict(m), key);   /* borrowed */
        if (!f) {
            if (PyErr_Occurred())
                goto done;
            continue;
        }
        if (!PyUnicode_CheckExact(f) || (PyUnicode_Tailmatch(f, py, 0, PY_SSIZE_T_MAX, 1) != 1 &&
                                         PyUnicode_Tailmatch(f, pyw, 0, PY_SSIZE_T_MAX, 1) != 1))
            continue;
        int have = PySet_Contains(seen, f);
        if (have < 0)
            goto done;
        if (have || !DapSource_on_disk(f))
            continue;
        Py_ssize_t len = PyUnicode_GET_LENGTH(f);
        Py_ssize_t slash = PyUnicode_FindChar(f, '/', 0, len, -1);
        PyObject *base = PyUnicode_Substring(f, slash + 1, len);
        PyObject *s = base ? Py_BuildValue("{s:N,s:O}", "name", base, "path", f) : NULL;
        if (!s || PySet_Add(seen, f) < 0 || PyList_Append(out, s) < 0) {
            Py_XDECREF(s);
            goto done;
        }
        Py_DECREF(s);
    }
    PyObject *b = Py_BuildValue("{s:O}", "sources", out);
    r = b ? Dap_respond(srv, req, b) : -1;
    Py_XDECREF(b);
done:
    Py_XDECREF(mods);
    Py_XDECREF(seen);
    Py_XDECREF(out);
    Py_XDECREF(key);
    Py_XDECREF(py);
    Py_XDECREF(pyw);
    return r;
}
