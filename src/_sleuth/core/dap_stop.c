/* dap_stop.c — a thread stopped for a DAP client: the stop decision the
 * engine leaves to the frontend (log points, hit conditions, justMyCode,
 * entry), the wait for requests about the stop, and those requests. */
#include "dap_server.h"
#include "breakpoints.h"
#include "engine.h"
#include "saferepr.h"
#include "completion.h"
#include "cond.h"
#include "jsonw.h"
#include "util.h"
#include <unistd.h>

/* --- log points and hit conditions ---------------------------------------- */

/* A log point's message, compiled once when it is set: a tuple of parts,
 * each a str (text) or a tuple (source, code, capsule of the CondNode or
 * None) for a {expr}: the expression is evaluated as breakpoint conditions
 * are (cond.h: in C when it is simple, else its compiled code). */
#define LOG_CAPSULE "sleuth.logpart"

static void
log_capsule_free(PyObject *cap)
{
    Cond_free(PyCapsule_GetPointer(cap, LOG_CAPSULE));
}

static int
add_text(PyObject *parts, PyObject *message, Py_ssize_t a, Py_ssize_t b)
{
    if (b <= a)
        return 0;
    PyObject *s = PyUnicode_Substring(message, a, b);
    int r = s ? PyList_Append(parts, s) : -1;
    Py_XDECREF(s);
    return r;
}

PyObject *
DapLog_compile(PyObject *message, PyObject **bad_expr)
{
    *bad_expr = NULL;
    PyObject *parts = PyList_New(0);
    if (!parts)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(message), i = 0, lit = 0;
    while (i < n) {
        Py_UCS4 c = PyUnicode_READ_CHAR(message, i);
        if ((c == '{' || c == '}') && i + 1 < n && PyUnicode_READ_CHAR(message, i + 1) == c) {
            /* {{ and }} are braces */
            if (add_text(parts, message, lit, i + 1) < 0)
                goto error;
            i += 2;
            lit = i;
            continue;
        }
        if (c != '{') {
            i++;
            continue;
        }
        Py_ssize_t close = PyUnicode_FindChar(message, '}', i + 1, n, 1);
        if (close == -2)
            goto error;
        if (close < 0)
            break;      /* an unclosed { is text */
        if (add_text(parts, message, lit, i) < 0)
            goto error;
        PyObject *src = PyUnicode_Substring(message, i + 1, close);
        if (!src)
            goto error;
        const char *utf8 = PyUnicode_AsUTF8(src);
        PyObject *code = utf8 ? Py_CompileString(utf8, "<log point>", Py_eval_input) : NULL;
        if (!code) {
            PyErr_Clear();
            *bad_expr = src;
            Py_DECREF(parts);
            return NULL;
        }
        CondNode *node = Cond_compile(src);
        PyObject *cap = node ? PyCapsule_New(node, LOG_CAPSULE, log_capsule_free) : Py_NewRef(Py_None);
        if (!cap)
            Cond_free(node);
        PyObject *part = cap ? PyTuple_Pack(3, src, code, cap) : NULL;
        Py_DECREF(src);
        Py_DECREF(code);
        Py_XDECREF(cap);
        if (!part || PyList_Append(parts, part) < 0) {
            Py_XDECREF(part);
            goto error;
        }
        Py_DECREF(part);
        i = close + 1;
        lit = i;
    }
    if (add_text(parts, message, lit, n) < 0)
        goto error;
    PyObject *t = PyList_AsTuple(parts);
    Py_DECREF(parts);
    return t;
error:
    Py_DECREF(parts);
    return NULL;
}

/* One {expr}'s value in `frame` (new ref), or NULL with an exception set. */
static PyObject *
log_eval(PyObject *part, PyObject *frame)
{
    PyObject *code = PyTuple_GET_ITEM(part, 1), *cap = PyTuple_GET_ITEM(part, 2);
    CondNode *node = cap != Py_None ? PyCapsule_GetPointer(cap, LOG_CAPSULE) : NULL;
    if (!PyFrame_Check(frame)) {
        PyErr_SetString(PyExc_TypeError, "not a frame");
        return NULL;
    }
    PyObject *globals = PyFrame_GetGlobals((PyFrameObject *)frame);
    if (!globals)
        return NULL;
    PyObject *v;
    if (node && Cond_frame_ok(frame)) {
        v = Cond_eval_frame(node, globals, frame);
    } else {
        PyObject *locals = Session_frame_locals(frame);
        v = !locals ? NULL : node ? Cond_eval(node, globals, locals) : PyEval_EvalCode(code, globals, locals);
        Py_XDECREF(locals);
    }
    Py_DECREF(globals);
    return v;
}

/* The message with each {expr} replaced by str() of its value, as debugpy
 * formats it ('%s'). An expression that raises makes the whole line the
 * exception's str(), as debugpy shows it. */
static PyObject *
interpolate(PyObject *frame, PyObject *parts)
{
    PyObject *pieces = PyList_New(0);
    if (!pieces)
        return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(parts); i++) {
        PyObject *p = PyTuple_GET_ITEM(parts, i), *text;
        if (PyUnicode_Check(p)) {
            text = Py_NewRef(p);
        } else {
            PyObject *v = log_eval(p, frame);
            text = v ? PyObject_Str(v) : NULL;
            Py_XDECREF(v);
        }
        if (!text) {
            if (PyErr_ExceptionMatches(PyExc_MemoryError) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
                goto error;
            PyObject *exc = PyErr_GetRaisedException();
            PyObject *why = PyObject_Str(exc);
            Py_DECREF(exc);
            Py_DECREF(pieces);
            if (!why)
                PyErr_Clear();
            return why ? why : PyUnicode_FromString("<the log message could not be formatted>");
        }
        int r = PyList_Append(pieces, text);
        Py_DECREF(text);
        if (r < 0)
            goto error;
    }
    PyObject *empty = PyUnicode_FromString("");
    PyObject *res = empty ? PyUnicode_Join(empty, pieces) : NULL;
    Py_XDECREF(empty);
    Py_DECREF(pieces);
    return res;
error:
    Py_DECREF(pieces);
    return NULL;
}

/* Does this hit count pass hitCondition ("N", "==N", ">N", ">=N", "<N",
 * "<=N", "%N")? */
static int
hit_passes(PyObject *cond, long hits)
{
    const char *s = PyUnicode_AsUTF8(cond);
    if (!s) {
        PyErr_Clear();
        return 1;
    }
    while (*s == ' ')
        s++;
    char op = '=';
    int or_eq = 0;
    if (s[0] == '=' && s[1] == '=') {
        s += 2;
    } else if (s[0] == '>' || s[0] == '<' || s[0] == '%') {
        op = s[0];
        s++;
        if (op != '%' && *s == '=') {
            or_eq = 1;
            s++;
        }
    }
    long n = strtol(s, NULL, 10);
    switch (op) {
    case '>': return or_eq ? hits >= n : hits > n;
    case '<': return or_eq ? hits <= n : hits < n;
    case '%': return n > 0 && hits % n == 0;
    default: return hits == n;
    }
}

/* The message as interpolate() makes it, written escaped into `w` (the
 * inside of a JSON string), with no list or str built for it. 0, or -1
 * (MemoryError, KeyboardInterrupt: nothing is sent, as interpolate()). */
static int
write_interpolated(JsonW *w, PyObject *frame, PyObject *parts)
{
    Py_ssize_t start = w->len;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(parts); i++) {
        PyObject *p = PyTuple_GET_ITEM(parts, i);
        if (PyUnicode_Check(p)) {
            JsonW_str_text(w, p);
            continue;
        }
        PyObject *v = log_eval(p, frame);
        PyObject *text = v ? PyObject_Str(v) : NULL;
        Py_XDECREF(v);
        if (!text) {
            if (PyErr_ExceptionMatches(PyExc_MemoryError) || PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
                return -1;
            PyObject *exc = PyErr_GetRaisedException();
            PyObject *why = PyObject_Str(exc);
            Py_DECREF(exc);
            JsonW_truncate(w, start);
            if (why) {
                JsonW_str_text(w, why);
                Py_DECREF(why);
            } else {
                PyErr_Clear();
                JsonW_lit(w, "<the log message could not be formatted>");
            }
            return 0;
        }
        JsonW_str_text(w, text);
        Py_DECREF(text);
    }
    return 0;
}

static void send_log_dicts(DapServer *srv, PyObject *frame, PyObject *message);

/* A log point's hit: its `output` event written straight as JSON text into
 * a stack buffer and queued for the writer thread, the same bytes as
 * Dap_event(srv, "output", body) with the body's dict (send_log_dicts). */
static void
send_log(DapServer *srv, PyObject *frame, PyObject *message)
{
    if (!Dap_output_queued(srv)) {
        send_log_dicts(srv, frame, message);
        return;
    }
    PyObject *saved = PyErr_GetRaisedException();
    char stack[1024];
    JsonW w;
    JsonW_init_buf(&w, stack, sizeof stack);
#define LIT(s) JsonW_raw(&w, s, (Py_ssize_t)sizeof s - 1)
    LIT("\"type\":\"event\",\"event\":\"output\",\"body\":{\"category\":\"console\",\"output\":\"");
    if (write_interpolated(&w, frame, message) == 0) {
        PyObject *code = Pdb_frame_code(frame);
        if (code) {
            LIT("\\n\",\"source\":{\"path\":");
            JsonW_str(&w, ((PyCodeObject *)code)->co_filename);
            LIT("},\"line\":");
            JsonW_int(&w, Pdb_frame_lineno(frame));
            LIT("}}");
#undef LIT
            Py_DECREF(code);
            if (!w.nomem)
                Dap_output_json(srv, w.buf, (size_t)w.len);
        }
    }
    JsonW_free(&w);
    PyErr_Clear();
    PyErr_SetRaisedException(saved);
}

/* The same event built as dicts, for output that does not go through the
 * writer thread's queue (no writer thread). */
static void
send_log_dicts(DapServer *srv, PyObject *frame, PyObject *message)
{
    PyObject *saved = PyErr_GetRaisedException();
    PyObject *text = interpolate(frame, message);
    if (text) {
        PyObject *code = Pdb_frame_code(frame);
        PyObject *b = code ? Py_BuildValue("{s:s,s:N,s:{s:O},s:i}", "category", "console", "output",
                                           PyUnicode_FromFormat("%U\n", text), "source", "path",
                                           ((PyCodeObject *)code)->co_filename, "line",
                                           Pdb_frame_lineno(frame))
                           : NULL;
        if (b) {
            Dap_event(srv, "output", b);
            Py_DECREF(b);
        }
        Py_XDECREF(code);
        Py_DECREF(text);
    }
    PyErr_Clear();
    PyErr_SetRaisedException(saved);
}

/* --- the stop ------------------------------------------------------------- */

static PyObject *
exc_of(PyObject *exc_or_tb)
{
    return exc_or_tb && PyExceptionInstance_Check(exc_or_tb) ? exc_or_tb : NULL;
}

static int
send_stopped(DapServer *srv, const char *reason, PyObject *exc, long bpnum)
{
    /* A thread the client has not heard of is announced first. */
    DapThreads_scan(srv);
    PyObject *b = Py_BuildValue("{s:s,s:l,s:O,s:O}", "reason", reason, "threadId",
                                DapThreads_id(srv, srv->stopped_thread),
                                "allThreadsStopped", Py_False, "preserveFocusHint", Py_False);
    if (!b)
        return -1;
    if (exc) {
        PyObject *t = SafeRepr_type_name(Py_TYPE(exc));
        if (t) {
            PyDict_SetItemString(b, "text", t);
            Py_DECREF(t);
        }
    }
    if (bpnum > 0) {
        PyObject *ids = Py_BuildValue("[l]", bpnum);
        if (ids) {
            PyDict_SetItemString(b, "hitBreakpointIds", ids);
            Py_DECREF(ids);
        }
    }
    PyErr_Clear();
    int r = Dap_event(srv, "stopped", b);
    Py_DECREF(b);
    return r;
}

/* Wait (GIL released) for requests about this stop; run them until one
 * resumes the thread or the client leaves. */
static int
serve_stop(DapServer *srv)
{
    for (;;) {
        if (srv->resume_now || !srv->connected) {
            Dap_set_running(srv);
            return 0;
        }
        if (PyList_GET_SIZE(srv->stopq) > 0) {
            PyObject *req = Py_NewRef(PyList_GET_ITEM(srv->stopq, 0));
            if (PySequence_DelItem(srv->stopq, 0) < 0) {
                Py_DECREF(req);
                return -1;
            }
            int r = DapStop_handle(srv, req);
            Py_DECREF(req);
            PyErr_Clear();
            if (r > 0)
                return 0;
            continue;
        }
        Py_BEGIN_ALLOW_THREADS
        usleep(1000);
        Py_END_ALLOW_THREADS
    }
}

int
Dap_stop(DapServer *srv, PyObject *frame, PyObject *exc, PyObject *tb, int what)
{
    if (Dap_forked_child(srv))
        return 0;       /* the parent's client: the child runs on untraced */
    PdbObject *d = srv->pdb;
    unsigned long me = PyThread_get_thread_ident();
    long bpnum = d->currentbp;
    d->currentbp = 0;
    if (me == srv->reader_ident)
        return 0;
    if (!srv->connected || srv->resume_now) {
        /* Nobody to stop for: the program runs on. */
        srv->entry_pending = 0;
        if (what == DAP_STOP_POST_MORTEM)
            return 0;
        Dap_set_running(srv);
        return Pdb_resume_engine(d);
    }
    const char *reason = "step", *break_mode = NULL;
    PyObject *stop_tb = NULL;   /* owned: 'userUnhandled' shows the frame the exception left */
    if (what == DAP_STOP_LINE) {
        PyObject *meta = NULL;
        if (bpnum > 0) {
            PyObject *key = PyLong_FromLong(bpnum);
            meta = key ? PyDict_GetItemWithError(srv->bp_meta, key) : NULL;
            Py_XDECREF(key);
            PyErr_Clear();
        }
        if (meta) {
            /* [logMessage, hitCondition, kind, hits] */
            long hits = PyLong_AsLong(PyList_GET_ITEM(meta, 3)) + 1;
            PyObject *h = PyLong_FromLong(hits);
            if (h)
                PyList_SetItem(meta, 3, h);
            PyObject *hc = PyList_GET_ITEM(meta, 1), *log = PyList_GET_ITEM(meta, 0);
            if (hc != Py_None && !hit_passes(hc, hits))
                return 0;
            if (log != Py_None) {
                send_log(srv, frame, log);
                return 0;
            }
            reason = PyUnicode_CompareWithASCIIString(PyList_GET_ITEM(meta, 2), "function") == 0
                         ? "function breakpoint" : "breakpoint";
        } else if (bpnum > 0) {
            reason = "breakpoint";   /* a breakpoint of the terminal's (`b` in .pdbrc) */
        } else if (srv->entry_pending) {
            srv->entry_pending = 0;
            if (!srv->stop_on_entry) {
                Dap_set_running(srv);
                return Pdb_resume_engine(d);
            }
            reason = "entry";
        } else if (srv->pause_requested) {
            reason = "pause";
        } else if (srv->just_my_code && Dap_is_library_frame(srv, frame)) {
            return 0;   /* stepping goes on until the program's own code */
        }
        srv->entry_pending = 0;
    } else if (what == DAP_STOP_EXCEPTION) {
        /* An exception event, in each frame the exception reaches (the
         * engine also reports exceptions met while stepping). The
         * traceback's first entry is this frame. */
        PyObject *t = tb && tb != Py_None ? Py_NewRef(tb) : exc_of(exc) ? PyException_GetTraceback(exc) : NULL;
        PyObject *from = t && PyTraceBack_Check(t) && ((PyTracebackObject *)t)->tb_next
                             ? (PyObject *)((PyTracebackObject *)t)->tb_next->tb_frame : NULL;
        int lib = Dap_is_library_frame(srv, frame);
        if (!from && srv->filter_raised && !(srv->just_my_code && lib)) {
            /* 'raised': once per exception, where it is raised (on its way
             * out through the callers, or re-raised, the traceback has more
             * than this frame's entry) */
            break_mode = "always";
        } else if (from && lib && srv->filter_user_unhandled && !Dap_is_library_frame(srv, from)) {
            /* 'userUnhandled' (debugpy's): it leaves the program's code
             * (`from`) into library code (this frame). The stop shows it
             * where it left, with this frame's traceback. */
            break_mode = "userUnhandled";
            srv->unhandled_seen = exc;
            stop_tb = Py_NewRef(t);
        }
        Py_XDECREF(t);
        if (!break_mode)
            return 0;
        reason = "exception";
    } else {
        reason = "exception";
        break_mode = "unhandled";
        if (exc && exc == srv->unhandled_seen)
            return 0;   /* a thread's: it stopped as 'userUnhandled' already */
    }
    /* One stopped thread at a time. */
    while (srv->stopped_thread && srv->stopped_thread != me && srv->connected) {
        Py_BEGIN_ALLOW_THREADS
        usleep(1000);
        Py_END_ALLOW_THREADS
    }
    if (!srv->connected) {
        Py_XDECREF(stop_tb);
        return what == DAP_STOP_POST_MORTEM ? 0 : Pdb_resume_engine(d);
    }
    srv->stop_break_mode = break_mode;
    srv->pause_requested = 0;
    int was_in = d->in_interaction;
    unsigned long was_thread = d->interaction_thread;
    d->in_interaction = 1;
    d->interaction_thread = me;
    srv->stopped_thread = me;
    int rc = -1;
    PyObject *the_exc = exc_of(exc);
    if (Session_begin(&srv->session, d->botframe, frame, stop_tb ? stop_tb : tb, the_exc) < 0)
        goto done;
    if (stop_tb && srv->session.index + 1 < PyList_GET_SIZE(srv->session.stack))
        srv->session.index++;   /* the frame it left: the entry after this one */
    send_stopped(srv, reason, the_exc, bpnum);
    rc = serve_stop(srv);
done:
    Session_end(&srv->session);
    Py_XDECREF(stop_tb);
    /* Requests that came too late for this stop. */
    while (PyList_GET_SIZE(srv->stopq) > 0) {
        PyObject *req = Py_NewRef(PyList_GET_ITEM(srv->stopq, 0));
        PySequence_DelItem(srv->stopq, 0);
        Dap_fail(srv, req, "%s", "the thread is running again");
        Py_DECREF(req);
    }
    PyErr_Clear();
    srv->stopped_thread = 0;
    srv->resume_now = 0;
    d->in_interaction = was_in;
    d->interaction_thread = was_in ? was_thread : 0;
    if (rc < 0)
        return -1;
    if (what == DAP_STOP_POST_MORTEM)
        return 0;
    return Pdb_resume_engine(d);
}

/* --- requests about the stop ------------------------------------------------- */

static PyObject *
args_of(PyObject *req)
{
    PyObject *a = PyDict_GetItemString(req, "arguments");
    return a && PyDict_Check(a) ? a : NULL;
}

/* The frame a request names (frameId), or the stopped one. */
static PyObject *
frame_arg(DapServer *srv, PyObject *req, PyObject *args, int *bad)
{
    long fid = 0;
    *bad = 0;
    int r = Dap_arg_long(srv, req, args, "frameId", 0, &fid);
    if (r < 0) {
        *bad = 1;
        return NULL;
    }
    if (r == 0)
        fid = Session_frame_id(&srv->session, 0);
    PyObject *f = Session_frame(&srv->session, fid, NULL);
    if (!f) {
        Dap_fail(srv, req, "unknown frameId %ld (from an earlier stop?)", fid);
        *bad = 1;
    }
    return f;
}

static int
thread_arg(DapServer *srv, PyObject *req, PyObject *args)
{
    long tid = 0;
    int r = Dap_arg_long(srv, req, args, "threadId", 0, &tid);
    if (r < 0)
        return -1;
    if (r > 0 && DapThreads_ident(srv, tid) != srv->stopped_thread) {
        Dap_fail(srv, req, "thread %ld is not stopped", tid);
        return -1;
    }
    return 0;
}

static int
stack_trace(DapServer *srv, PyObject *req, PyObject *args)
{
    long start = 0, levels = 0;
    if (thread_arg(srv, req, args) < 0 || Dap_arg_long(srv, req, args, "startFrame", 0, &start) < 0 ||
        Dap_arg_long(srv, req, args, "levels", 0, &levels) < 0)
        return 0;
    Session *s = &srv->session;
    Py_ssize_t depth = Session_depth(s);
    PyObject *frames = PyList_New(0);
    if (!frames)
        return -1;
    for (Py_ssize_t lv = start < 0 ? 0 : start; lv < depth && (levels <= 0 || lv < start + levels); lv++) {
        long fid = Session_frame_id(s, lv);
        int line = 0;
        PyObject *f = Session_frame(s, fid, &line);
        PyObject *code = f ? Pdb_frame_code(f) : NULL;
        if (!code) {
            PyErr_Clear();
            continue;
        }
        PyCodeObject *co = (PyCodeObject *)code;
        PyObject *base = PyUnicode_FromFormat("%U", co->co_filename);
        Py_ssize_t slash = base ? PyUnicode_FindChar(base, '/', 0, PyUnicode_GET_LENGTH(base), -1) : -1;
        if (base && slash >= 0)
            Py_SETREF(base, PyUnicode_Substring(base, slash + 1, PyUnicode_GET_LENGTH(base)));
        /* Code without a file on disk: its text comes by `source` with the
         * frame's id as the reference (dap_source.c); 0 as debugpy sends it. */
        long sref = DapSource_on_disk(co->co_filename) ? 0 : fid;
        PyObject *e = base ? Py_BuildValue("{s:l,s:O,s:{s:O,s:O,s:l},s:i,s:i}", "id", fid, "name",
                                           co->co_qualname, "source", "name", base, "path", co->co_filename,
                                           "sourceReference", sref, "line", line, "column", 1)
                           : NULL;
        Py_XDECREF(base);
        Py_DECREF(code);
        if (!e || PyList_Append(frames, e) < 0) {
            Py_XDECREF(e);
            Py_DECREF(frames);
            return -1;
        }
        Py_DECREF(e);
    }
    PyObject *b = Py_BuildValue("{s:N,s:n}", "stackFrames", frames, "totalFrames", depth);
    int r = b ? Dap_respond(srv, req, b) : -1;
    Py_XDECREF(b);
    return r;
}

static int
scopes(DapServer *srv, PyObject *req, PyObject *args)
{
    long fid = 0;
    if (Dap_arg_long(srv, req, args, "frameId", 1, &fid) < 0)
        return 0;
    PyObject *f = Session_frame(&srv->session, fid, NULL);
    if (!f)
        return Dap_fail(srv, req, "unknown frameId %ld (from an earlier stop?)", fid);
    long lref = Session_ref(&srv->session, SESSION_REF_LOCALS, f, NULL, f);
    long gref = Session_ref(&srv->session, SESSION_REF_GLOBALS, f, NULL, f);
    if (lref < 0 || gref < 0)
        return -1;
    PyObject *b = Py_BuildValue("{s:[{s:s,s:s,s:l,s:O},{s:s,s:s,s:l,s:O}]}", "scopes",
                                "name", "Locals", "presentationHint", "locals", "variablesReference", lref,
                                "expensive", Py_False,
                                "name", "Globals", "presentationHint", "globals", "variablesReference", gref,
                                "expensive", Py_False);
    int r = b ? Dap_respond(srv, req, b) : -1;
    Py_XDECREF(b);
    return r;
}

static int
variables(DapServer *srv, PyObject *req, PyObject *args)
{
    long ref = 0, start = 0, count = 0;
    PyObject *filter = NULL;
    if (Dap_arg_long(srv, req, args, "variablesReference", 1, &ref) < 0 ||
        Dap_arg_long(srv, req, args, "start", 0, &start) < 0 || Dap_arg_long(srv, req, args, "count", 0, &count) < 0 ||
        Dap_arg_str(srv, req, args, "filter", 0, &filter) < 0)
        return 0;
    Session_Kids kids = SESSION_KIDS_ALL;
    if (filter && PyUnicode_CompareWithASCIIString(filter, "indexed") == 0)
        kids = SESSION_KIDS_INDEXED;
    else if (filter && PyUnicode_CompareWithASCIIString(filter, "named") == 0)
        kids = SESSION_KIDS_NAMED;
    else if (filter)
        return Dap_fail(srv, req, "%s", "argument 'filter' must be \"indexed\" or \"named\"");
    if (start < 0 || count < 0)
        return Dap_fail(srv, req, "%s", "arguments 'start' and 'count' must not be negative");
    PyObject *vars = Session_variables(&srv->session, ref, start, count, kids);
    if (!vars) {
        PyObject *why = Session_take_error();
        Dap_fail(srv, req, "%U", why);
        Py_XDECREF(why);
        return 0;
    }
    PyObject *b = Py_BuildValue("{s:N}", "variables", vars);
    int r = b ? Dap_respond(srv, req, b) : -1;
    Py_XDECREF(b);
    return r;
}

static int
respond_value(DapServer *srv, PyObject *req, PyObject *name, PyObject *value, PyObject *evalname, PyObject *frame,
              const char *text_key, Session_Show how)
{
    PyObject *d = Session_describe_as(&srv->session, name, value, evalname, frame, how);
    if (!d)
        return -1;
    if (strcmp(text_key, "value") != 0) {
        PyObject *t = PyDict_GetItemString(d, "value");
        if (t && PyDict_SetItemString(d, text_key, t) < 0) {
            Py_DECREF(d);
            return -1;
        }
        PyDict_DelItemString(d, "value");
    }
    int r = Dap_respond(srv, req, d);
    Py_DECREF(d);
    return r;
}

/* evaluate's contexts: `repl` (the debug console) runs statements too and
 * shows the value as asked, secrets included: the user typed the
 * expression. `clipboard` (copy value) is the whole repr, within 1,000,000
 * characters. `hover`, `watch` (and none) are shown as the variables view
 * shows them: bounded, and redacted by the name the expression ends in
 * (`password`, `cfg.token`, `env["API_KEY"]`) and by secret shapes. */
static int
evaluate(DapServer *srv, PyObject *req, PyObject *args)
{
    PyObject *expr = NULL, *context = NULL;
    int bad;
    if (Dap_arg_str(srv, req, args, "expression", 1, &expr) < 0 ||
        Dap_arg_str(srv, req, args, "context", 0, &context) < 0)
        return 0;
    PyObject *f = frame_arg(srv, req, args, &bad);
    if (bad)
        return 0;
    int repl = context && PyUnicode_CompareWithASCIIString(context, "repl") == 0;
    Session_Show how = repl ? SESSION_SHOW_REPL
                       : context && PyUnicode_CompareWithASCIIString(context, "clipboard") == 0 ? SESSION_SHOW_CLIPBOARD
                                                                                             : SESSION_SHOW_VIEW;
    PyObject *err = NULL;
    PyObject *v = Session_eval(f, expr, repl, &err);
    if (!v) {
        int r = err ? Dap_fail(srv, req, "%U", err) : -1;
        Py_XDECREF(err);
        return r;
    }
    PyObject *name = how == SESSION_SHOW_VIEW ? Session_expression_name(expr) : NULL;
    PyErr_Clear();
    int r = respond_value(srv, req, name, v, expr, f, "result", how);
    Py_XDECREF(name);
    Py_DECREF(v);
    return r;
}

static int
set_variable(DapServer *srv, PyObject *req, PyObject *args)
{
    long ref = 0;
    PyObject *name = NULL, *value = NULL, *err = NULL;
    if (Dap_arg_long(srv, req, args, "variablesReference", 1, &ref) < 0 ||
        Dap_arg_str(srv, req, args, "name", 1, &name) < 0 || Dap_arg_str(srv, req, args, "value", 1, &value) < 0)
        return 0;
    PyObject *v = Session_set_variable(&srv->session, ref, name, value, &err);
    if (!v) {
        int r = err ? Dap_fail(srv, req, "%U", err) : -1;
        Py_XDECREF(err);
        return r;
    }
    int r = respond_value(srv, req, name, v, NULL, Session_ref_frame(&srv->session, ref), "value", SESSION_SHOW_VIEW);
    Py_DECREF(v);
    return r;
}

static int
set_expression(DapServer *srv, PyObject *req, PyObject *args)
{
    PyObject *expr = NULL, *value = NULL, *err = NULL;
    int bad;
    if (Dap_arg_str(srv, req, args, "expression", 1, &expr) < 0 || Dap_arg_str(srv, req, args, "value", 1, &value) < 0)
        return 0;
    PyObject *f = frame_arg(srv, req, args, &bad);
    if (bad)
        return 0;
    PyObject *stmt = PyUnicode_FromFormat("%U = (%U)", expr, value);
    if (!stmt)
        return -1;
    PyObject *r1 = Session_eval(f, stmt, 1, &err);
    Py_DECREF(stmt);
    PyObject *v = r1 ? Session_eval(f, expr, 0, &err) : NULL;
    Py_XDECREF(r1);
    if (!v) {
        int r = err ? Dap_fail(srv, req, "%U", err) : -1;
        Py_XDECREF(err);
        return r;
    }
    PyObject *name = Session_expression_name(expr);
    PyErr_Clear();
    int r = respond_value(srv, req, name, v, expr, f, "value", SESSION_SHOW_VIEW);
    Py_XDECREF(name);
    Py_DECREF(v);
    return r;
}

static PyObject *
exc_details(DapServer *srv, PyObject *exc, int depth)
{
    PyObject *type = SafeRepr_type_name(Py_TYPE(exc));
    PyObject *msg = PyUnicode_FromString("");
    PyObject *args = PyObject_GetAttrString(exc, "args");
    PyErr_Clear();
    if (args && PyTuple_Check(args) && PyTuple_GET_SIZE(args) == 1 && PyUnicode_Check(PyTuple_GET_ITEM(args, 0)))
        Py_XSETREF(msg, Py_NewRef(PyTuple_GET_ITEM(args, 0)));
    else if (args && PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 0) {
        SafeRepr_Options o;
        SafeRepr_options_default(&o);
        Py_XSETREF(msg, SafeRepr_repr(PyTuple_GET_SIZE(args) == 1 ? PyTuple_GET_ITEM(args, 0) : args, &o));
    }
    Py_XDECREF(args);
    PyObject *d = type && msg ? Py_BuildValue("{s:O,s:O,s:O}", "message", msg, "typeName", type, "fullTypeName", type)
                              : NULL;
    /* The chain: the cause, else the context (unless suppressed). */
    PyObject *next = d && depth < 20 ? PyException_GetCause(exc) : NULL;
    if (d && !next && depth < 20) {
        PyObject *sup = PyObject_GetAttrString(exc, "__suppress_context__");
        int s = sup ? PyObject_IsTrue(sup) : 0;
        Py_XDECREF(sup);
        PyErr_Clear();
        if (s <= 0)
            next = PyException_GetContext(exc);
    }
    if (next && PyExceptionInstance_Check(next)) {
        PyObject *inner = exc_details(srv, next, depth + 1);
        if (inner) {
            PyObject *lst = PyList_New(1);
            if (lst) {
                PyList_SET_ITEM(lst, 0, inner);
                PyDict_SetItemString(d, "innerException", lst);
                Py_DECREF(lst);
            } else {
                Py_DECREF(inner);
            }
        }
    }
    Py_XDECREF(next);
    Py_XDECREF(type);
    Py_XDECREF(msg);
    PyErr_Clear();
    return d;
}

static int
exception_info(DapServer *srv, PyObject *req, PyObject *args)
{
    if (thread_arg(srv, req, args) < 0)
        return 0;
    PyObject *exc = srv->session.exc;
    if (!exc)
        return Dap_fail(srv, req, "%s", "this stop is not an exception");
    PyObject *details = exc_details(srv, exc, 0);
    if (!details)
        return -1;
    PyObject *b = Py_BuildValue("{s:O,s:O,s:s,s:N}", "exceptionId", PyDict_GetItemString(details, "typeName"),
                                "description", PyDict_GetItemString(details, "message"), "breakMode",
                                srv->stop_break_mode ? srv->stop_break_mode : "unhandled", "details", details);
    int r = b ? Dap_respond(srv, req, b) : -1;
    Py_XDECREF(b);
    return r;
}

/* The stopped frame (borrowed), or NULL in post-mortem. */
static PyObject *
top_frame(DapServer *srv)
{
    return Session_frame(&srv->session, Session_frame_id(&srv->session, 0), NULL);
}

/* The stopped thread goes on: `continued`, after the response, as debugpy
 * sends it after continue, next, stepIn, stepOut and goto (the DAP does not
 * require it after a request that implies it; clients take it as
 * confirmation). allThreadsContinued is false: only this thread was
 * stopped (debugpy stops and resumes them all and says true). */
static void
send_continued(DapServer *srv)
{
    if (!srv->continued_events)
        return;
    PyObject *b = Py_BuildValue("{s:l,s:O}", "threadId", DapThreads_id(srv, srv->stopped_thread),
                                "allThreadsContinued", Py_False);
    if (b)
        Dap_event(srv, "continued", b);
    Py_XDECREF(b);
    PyErr_Clear();
}

static int
resume(DapServer *srv, PyObject *req, PyObject *args, const char *how)
{
    if (thread_arg(srv, req, args) < 0)
        return 0;
    PdbObject *d = srv->pdb;
    PyObject *f = top_frame(srv);
    if (!f || strcmp(how, "continue") == 0) {
        Dap_set_running(srv);
    } else if (strcmp(how, "next") == 0) {
        Engine_set_next(d, f);
    } else if (strcmp(how, "stepIn") == 0) {
        Engine_set_step(d);
    } else if (Engine_set_return(d, f) < 0) {
        PyErr_Clear();
        Dap_set_running(srv);
    }
    PyObject *b = strcmp(how, "continue") == 0 ? Py_BuildValue("{s:O}", "allThreadsContinued", Py_False) : NULL;
    Dap_respond(srv, req, b);
    Py_XDECREF(b);
    send_continued(srv);
    PyErr_Clear();
    return 1;
}

static int
goto_targets(DapServer *srv, PyObject *req, PyObject *args)
{
    long line = 0;
    if (Dap_arg_long(srv, req, args, "line", 1, &line) < 0)
        return 0;
    PyObject *b = Py_BuildValue("{s:[{s:l,s:N,s:l}]}", "targets", "id", line, "label",
                                PyUnicode_FromFormat("line %ld", line), "line", line);
    int r = b ? Dap_respond(srv, req, b) : -1;
    Py_XDECREF(b);
    return r;
}

static int
do_goto(DapServer *srv, PyObject *req, PyObject *args)
{
    long target = 0;
    if (thread_arg(srv, req, args) < 0 || Dap_arg_long(srv, req, args, "targetId", 1, &target) < 0)
        return 0;
    PyObject *f = top_frame(srv);
    if (!f || srv->session.index != PyList_GET_SIZE(srv->session.stack) - 1)
        return Dap_fail(srv, req, "%s", "cannot jump here (only the stopped frame of a live stop can jump)");
    PyObject *ln = PyLong_FromLong(target);
    int r = ln ? Util_frame_jump(f, ln) : -1;
    Py_XDECREF(ln);
    if (r < 0) {
        PyObject *why = Session_take_error();
        Dap_fail(srv, req, "cannot jump to line %ld: %U", target, why);
        Py_XDECREF(why);
        return 0;
    }
    Dap_respond(srv, req, NULL);
    /* The thread stays stopped, at the new line: a new stop, announced as
     * debugpy does (it goes on to the line, then stops there). */
    send_continued(srv);
    PdbObject *d = srv->pdb;
    if (Session_begin(&srv->session, d->botframe, f, Py_None, NULL) < 0)
        return -1;
    return send_stopped(srv, "goto", NULL, 0);
}

/* completions (the debug console): the word before the cursor, a name or
 * an `a.b.c` chain, completed in the frame as the terminal completes `p`'s
 * argument, plus the builtins. Targets as debugpy gives them (VS Code reads
 * `start` as a 0-based offset in `text` and `length` as what is replaced):
 * the label is the last part of the chain. */
#define COMPLETIONS_MAX 500

static int
completions(DapServer *srv, PyObject *req, PyObject *args)
{
    PyObject *text = NULL;
    long column = 0, line = 1;
    int bad;
    if (Dap_arg_str(srv, req, args, "text", 1, &text) < 0 || Dap_arg_long(srv, req, args, "column", 1, &column) < 0 ||
        Dap_arg_long(srv, req, args, "line", 0, &line) < 0)
        return 0;
    PyObject *f = frame_arg(srv, req, args, &bad);
    if (bad)
        return 0;
    /* Owned */
    PyObject *lines = NULL, *cur = NULL, *word = NULL, *globals = NULL, *locals = NULL, *found = NULL;
    PyObject *targets = NULL;
    int r = -1;

    lines = PyUnicode_Splitlines(text, 0);
    if (!lines)
        goto done;
    if (line < 1 || line > PyList_GET_SIZE(lines))
        line = PyList_GET_SIZE(lines) > 0 ? 1 : 0;
    cur = line > 0 ? Py_NewRef(PyList_GET_ITEM(lines, line - 1)) : PyUnicode_FromString("");
    if (!cur)
        goto done;
    Py_ssize_t end = column - 1;
    if (end < 0)
        end = 0;
    if (end > PyUnicode_GET_LENGTH(cur))
        end = PyUnicode_GET_LENGTH(cur);
    Py_ssize_t at = end;
    while (at > 0) {
        Py_UCS4 ch = PyUnicode_READ_CHAR(cur, at - 1);
        if (!(ch == '_' || ch == '.' || Py_UNICODE_ISALNUM(ch)))
            break;
        at--;
    }
    word = PyUnicode_Substring(cur, at, end);
    globals = word ? PyObject_GetAttrString(f, "f_globals") : NULL;
    locals = globals ? Session_frame_locals(f) : NULL;
    if (!locals)
        goto done;
    found = Completion_in_namespace(globals, locals, word, COMPLETIONS_MAX);
    targets = found ? PyList_New(0) : NULL;
    if (!targets)
        goto done;
    Py_ssize_t dot = PyUnicode_FindChar(word, '.', 0, PyUnicode_GET_LENGTH(word), -1);
    Py_ssize_t keep = dot + 1;   /* the chain before the last part stays */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(found); i++) {
        PyObject *m = PyList_GET_ITEM(found, i);
        PyObject *label = PyUnicode_Substring(m, keep, PyUnicode_GET_LENGTH(m));
        PyObject *t = label ? Py_BuildValue("{s:N,s:n,s:n}", "label", label, "start", at + keep, "length",
                                            end - at - keep)
                            : NULL;
        if (!t || PyList_Append(targets, t) < 0) {
            Py_XDECREF(t);
            goto done;
        }
        Py_DECREF(t);
    }
    PyObject *b = Py_BuildValue("{s:O}", "targets", targets);
    r = b ? Dap_respond(srv, req, b) : -1;
    Py_XDECREF(b);
done:
    if (r < 0 && !PyErr_Occurred())
        r = 0;
    Py_XDECREF(lines);
    Py_XDECREF(cur);
    Py_XDECREF(word);
    Py_XDECREF(globals);
    Py_XDECREF(locals);
    Py_XDECREF(found);
    Py_XDECREF(targets);
    return r;
}

int
DapStop_handle(DapServer *srv, PyObject *req)
{
    const char *cmd = PyUnicode_AsUTF8(PyDict_GetItemString(req, "command"));
    PyObject *args = args_of(req);
    int r;
    if (!cmd)
        return -1;
    if (strcmp(cmd, "stackTrace") == 0)
        r = stack_trace(srv, req, args);
    else if (strcmp(cmd, "scopes") == 0)
        r = scopes(srv, req, args);
    else if (strcmp(cmd, "variables") == 0)
        r = variables(srv, req, args);
    else if (strcmp(cmd, "evaluate") == 0)
        r = evaluate(srv, req, args);
    else if (strcmp(cmd, "setVariable") == 0)
        r = set_variable(srv, req, args);
    else if (strcmp(cmd, "setExpression") == 0)
        r = set_expression(srv, req, args);
    else if (strcmp(cmd, "exceptionInfo") == 0)
        r = exception_info(srv, req, args);
    else if (strcmp(cmd, "completions") == 0)
        r = completions(srv, req, args);
    else if (strcmp(cmd, "gotoTargets") == 0)
        r = goto_targets(srv, req, args);
    else if (strcmp(cmd, "goto") == 0)
        r = do_goto(srv, req, args);
    else if (strcmp(cmd, "source") == 0)
        r = DapSource_stop_request(srv, req, args);
    else if (strcmp(cmd, "continue") == 0 || strcmp(cmd, "next") == 0 || strcmp(cmd, "stepIn") == 0 ||
             strcmp(cmd, "stepOut") == 0)
        return resume(srv, req, args, cmd);
    else
        r = Dap_fail(srv, req, "unknown command '%s'", cmd);
    if (r < 0) {
        PyErr_Clear();
        Dap_fail(srv, req, "%s", "internal error");
    }
    return 0;
}
