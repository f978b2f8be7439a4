/* session.c — a stop's stack, references and evaluation (session.h). */
#include "session.h"
#include "state.h"
#include "saferepr.h"
#include "redact.h"

#define FRAME_ID_SPAN 100000L    /* levels per generation in a frame id */
#define REF_SPAN 1000000L        /* references per generation */
#define GEN_MOD 1000L            /* generations that ids tell apart */

/* --- the stack ------------------------------------------------------------- */

static PyObject *
frame_back(PyObject *f)
{
    if (PyFrame_Check(f))
        return (PyObject *)PyFrame_GetBack((PyFrameObject *)f);   /* new ref or NULL */
    PyObject *b = PyObject_GetAttrString(f, "f_back");
    if (!b) {
        PyErr_Clear();
        return NULL;
    }
    if (b == Py_None) {
        Py_DECREF(b);
        return NULL;
    }
    return b;
}

static int
frame_lineno(PyObject *frame)
{
    if (PyFrame_Check(frame))
        return PyFrame_GetLineNumber((PyFrameObject *)frame);
    PyObject *v = PyObject_GetAttrString(frame, "f_lineno");
    long n = v ? PyLong_AsLong(v) : 0;
    Py_XDECREF(v);
    if (PyErr_Occurred()) {
        PyErr_Clear();
        n = 0;
    }
    return (int)n;
}

PyObject *
Session_build_stack(PyObject *botframe, PyObject *f, PyObject *t, Py_ssize_t *index)
{
    /* Owned */
    PyObject *stack = PyList_New(0), *cur = NULL, *tb = NULL;

    if (!stack)
        return NULL;
    tb = Py_NewRef(t);
    if (tb != Py_None && f != Py_None) {
        PyObject *tf = PyObject_GetAttrString(tb, "tb_frame");
        if (!tf)
            goto error;
        if (tf == f) {
            PyObject *next = PyObject_GetAttrString(tb, "tb_next");
            if (!next) {
                Py_DECREF(tf);
                goto error;
            }
            Py_SETREF(tb, next);
        }
        Py_DECREF(tf);
    }
    cur = f == Py_None ? NULL : Py_NewRef(f);
    while (cur) {
        /* bdb: (frame, frame.f_lineno), which is None on 3.12 where the
         * frame has no line (a return from an except* block). */
        PyObject *ln = PyObject_GetAttr(cur, Sleuth_state()->str_f_lineno);
        if (!ln) {
            PyErr_Clear();
            ln = PyLong_FromLong(frame_lineno(cur));
        }
        PyObject *entry = ln ? PyTuple_Pack(2, cur, ln) : NULL;
        Py_XDECREF(ln);
        if (!entry || PyList_Append(stack, entry) < 0) {
            Py_XDECREF(entry);
            goto error;
        }
        Py_DECREF(entry);
        if (cur == botframe)
            break;
        PyObject *back = frame_back(cur);
        Py_SETREF(cur, back);
    }
    if (PyList_Reverse(stack) < 0)
        goto error;
    Py_ssize_t i = PyList_GET_SIZE(stack) - 1;
    if (i < 0)
        i = 0;
    while (tb != Py_None) {
        PyObject *tf = PyObject_GetAttrString(tb, "tb_frame");
        PyObject *tl = tf ? PyObject_GetAttrString(tb, "tb_lineno") : NULL;
        PyObject *entry = tl ? PyTuple_Pack(2, tf, tl) : NULL;
        Py_XDECREF(tf);
        Py_XDECREF(tl);
        if (!entry || PyList_Append(stack, entry) < 0) {
            Py_XDECREF(entry);
            goto error;
        }
        Py_DECREF(entry);
        PyObject *next = PyObject_GetAttrString(tb, "tb_next");
        if (!next)
            goto error;
        Py_SETREF(tb, next);
    }
    if (f == Py_None) {
        i = PyList_GET_SIZE(stack) - 1;
        if (i < 0)
            i = 0;
    }
    Py_XDECREF(cur);
    Py_DECREF(tb);
    *index = i;
    return stack;
error:
    Py_XDECREF(cur);
    Py_XDECREF(tb);
    Py_DECREF(stack);
    return NULL;
}

/* --- a stop ----------------------------------------------------------------- */

int
Session_begin(Session *s, PyObject *botframe, PyObject *frame, PyObject *tb, PyObject *exc)
{
    Session_end(s);
    s->generation++;
    s->stack = Session_build_stack(botframe, frame ? frame : Py_None, tb ? tb : Py_None, &s->index);
    s->refs = PyList_New(0);
    s->ref_ids = PyDict_New();
    if (!s->stack || !s->refs || !s->ref_ids) {
        Session_end(s);
        return -1;
    }
    s->exc = Py_XNewRef(exc);
    return 0;
}

void
Session_end(Session *s)
{
    Py_CLEAR(s->stack);
    Py_CLEAR(s->exc);
    Py_CLEAR(s->refs);
    Py_CLEAR(s->ref_ids);
    Redact_found_clear(&s->found);
    s->index = 0;
}

int
Session_traverse(Session *s, visitproc visit, void *arg)
{
    Py_VISIT(s->stack);
    Py_VISIT(s->exc);
    Py_VISIT(s->refs);
    Py_VISIT(s->ref_ids);
    Py_VISIT(s->redact);
    Py_VISIT(s->found.values);
    return 0;
}

void
Session_clear(Session *s)
{
    Session_end(s);
    Py_CLEAR(s->redact);
}

Py_ssize_t
Session_depth(Session *s)
{
    return s->stack ? s->index + 1 : 0;
}

long
Session_frame_id(Session *s, Py_ssize_t level)
{
    return (s->generation % GEN_MOD) * FRAME_ID_SPAN + (long)level + 1;
}

PyObject *
Session_frame(Session *s, long frame_id, int *lineno)
{
    if (!s->stack || frame_id <= 0 || frame_id / FRAME_ID_SPAN != s->generation % GEN_MOD)
        return NULL;
    Py_ssize_t level = frame_id % FRAME_ID_SPAN - 1;
    if (level < 0 || level > s->index)
        return NULL;
    PyObject *entry = PyList_GET_ITEM(s->stack, s->index - level);
    PyObject *ln = PyTuple_GET_ITEM(entry, 1);
    if (lineno) {
        *lineno = PyLong_Check(ln) ? (int)PyLong_AsLong(ln) : 0;
        if (PyErr_Occurred()) {
            PyErr_Clear();
            *lineno = 0;
        }
    }
    return PyTuple_GET_ITEM(entry, 0);
}

/* --- references -------------------------------------------------------------- */

long
Session_ref(Session *s, Session_RefKind kind, PyObject *obj, PyObject *evaluate_name, PyObject *frame)
{
    if (!s->refs)
        return 0;
    if (kind == SESSION_REF_VALUE && SafeRepr_kind(obj) == SAFEREPR_ATOM)
        return 0;
    PyObject *key = Py_BuildValue("(in)", (int)kind, (Py_ssize_t)(uintptr_t)obj);
    if (!key)
        return -1;
    PyObject *have = PyDict_GetItemWithError(s->ref_ids, key);
    if (have) {
        Py_DECREF(key);
        return PyLong_AsLong(have);
    }
    if (PyErr_Occurred() || PyList_GET_SIZE(s->refs) >= REF_SPAN - 1) {
        Py_DECREF(key);
        return PyErr_Occurred() ? -1 : 0;
    }
    long ref = (s->generation % GEN_MOD) * REF_SPAN + (long)PyList_GET_SIZE(s->refs) + 1;
    PyObject *entry = Py_BuildValue("(iOOO)", (int)kind, obj, evaluate_name ? evaluate_name : Py_None,
                                    frame ? frame : Py_None);
    PyObject *id = PyLong_FromLong(ref);
    int bad = !entry || !id || PyList_Append(s->refs, entry) < 0 || PyDict_SetItem(s->ref_ids, key, id) < 0;
    Py_XDECREF(entry);
    Py_XDECREF(id);
    Py_DECREF(key);
    return bad ? -1 : ref;
}

/* The entry (kind, obj, evaluateName, frame) of `ref`, borrowed, or NULL. */
static PyObject *
ref_entry(Session *s, long ref)
{
    if (!s->refs || ref <= 0 || ref / REF_SPAN != s->generation % GEN_MOD)
        return NULL;
    Py_ssize_t i = ref % REF_SPAN - 1;
    if (i < 0 || i >= PyList_GET_SIZE(s->refs))
        return NULL;
    return PyList_GET_ITEM(s->refs, i);
}

PyObject *
Session_ref_frame(Session *s, long ref)
{
    PyObject *e = ref_entry(s, ref);
    PyObject *f = e ? PyTuple_GET_ITEM(e, 3) : NULL;
    return f == Py_None ? NULL : f;
}

PyObject *
Session_frame_locals(PyObject *frame)
{
    if (PyFrame_Check(frame))
        return PyFrame_GetLocals((PyFrameObject *)frame);
    return PyObject_GetAttrString(frame, "f_locals");
}

/* The text of `value` (named `name`, or NULL) as `how` shows it: the safe
 * repr, and for the view, the redaction rules (a secret name shows
 * "[redacted]"; secret shapes and secrets met earlier in the stop are
 * scrubbed). *secret is set when the name hid the value. */
static PyObject *
safe_text(Session *s, PyObject *name, PyObject *value, Session_Show how, int *secret)
{
    SafeRepr_Options o;
    SafeRepr_options_default(&o);
    int redact = how == SESSION_SHOW_VIEW && s->redact;
    o.max_chars = how == SESSION_SHOW_CLIPBOARD ? 1000000 : how == SESSION_SHOW_REPL ? 100000 : 1000;
    if (how == SESSION_SHOW_CLIPBOARD) {
        o.max_items = 1000000;
        o.max_depth = SAFEREPR_MAX_DEPTH_LIMIT;
    }
    o.redact = redact ? s->redact : NULL;
    SafeRepr_Context c;
    SafeRepr_begin(&c, &o);
    /* The stop's secrets so far go into the batch and come back with the
     * ones this value adds. */
    c.found = s->found;
    c.keep_found = 1;
    memset(&s->found, 0, sizeof s->found);
    PyObject *t = NULL;
    if (secret)
        *secret = 0;
    if (redact && name && SafeRepr_is_secret_name(&c, name)) {
        SafeRepr_note_secret(&c, value, REDACT_K_NAME);
        t = PyUnicode_FromString(REDACT_TEXT);
        if (secret)
            *secret = 1;
    } else {
        t = SafeRepr_value(&c, value);
    }
    SafeRepr_end(&c);
    s->found = c.found;
    if (t && redact)
        Py_SETREF(t, Redact_scrub_str(s->redact, &s->found, t));
    return t;
}

static int
is_identifier(PyObject *name)
{
    return PyUnicode_Check(name) && PyUnicode_IsIdentifier(name) == 1;
}

/* How many children `value` of kind `k` has (no user code). */
static Py_ssize_t
child_count(PyObject *value, SafeRepr_Kind k)
{
    Py_ssize_t total = 0;
    switch (k) {
    case SAFEREPR_SEQUENCE:
        return PyList_Check(value) ? PyList_GET_SIZE(value) : PyTuple_GET_SIZE(value);
    case SAFEREPR_SET:
        return PySet_GET_SIZE(value);
    case SAFEREPR_MAPPING:
        return PyDict_Check(value) ? PyDict_GET_SIZE(value) : 0;
    case SAFEREPR_OBJECT: {
        PyObject *kids = SafeRepr_children(value, 0, &total);
        Py_XDECREF(kids);
        PyErr_Clear();
        return total;
    }
    default:
        return 0;
    }
}

/* Are the children of `value` presented as indexed (paged by a client)? */
static int
shows_indexed(SafeRepr_Kind k, Py_ssize_t n)
{
    return k == SAFEREPR_SEQUENCE || k == SAFEREPR_SET || n > SESSION_BIG;
}

static int
set_count(PyObject *d, const char *key, Py_ssize_t n)
{
    PyObject *v = PyLong_FromSsize_t(n);
    int r = v ? PyDict_SetItemString(d, key, v) : -1;
    Py_XDECREF(v);
    return r;
}

PyObject *
Session_describe_as(Session *s, PyObject *name, PyObject *value, PyObject *evaluate_name, PyObject *frame,
                    Session_Show how)
{
    /* Owned */
    PyObject *d = NULL, *text = NULL, *type = NULL, *v = NULL;

    int secret = 0;
    text = safe_text(s, name, value, how, &secret);
    type = SafeRepr_type_name(Py_TYPE(value));
    d = PyDict_New();
    if (!text || !type || !d)
        goto error;
    long ref = secret ? 0 : Session_ref(s, SESSION_REF_VALUE, value, evaluate_name, frame);
    if (ref < 0)
        goto error;
    if (PyDict_SetItemString(d, "value", text) < 0 || PyDict_SetItemString(d, "type", type) < 0)
        goto error;
    v = PyLong_FromLong(ref);
    if (!v || PyDict_SetItemString(d, "variablesReference", v) < 0)
        goto error;
    if (ref > 0) {
        SafeRepr_Kind k = SafeRepr_kind(value);
        Py_ssize_t n = child_count(value, k);
        if (set_count(d, shows_indexed(k, n) ? "indexedVariables" : "namedVariables", n) < 0)
            goto error;
    }
    if (evaluate_name && evaluate_name != Py_None &&
        PyDict_SetItemString(d, "evaluateName", evaluate_name) < 0)
        goto error;
    Py_DECREF(text);
    Py_DECREF(type);
    Py_XDECREF(v);
    return d;
error:
    Py_XDECREF(d);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(v);
    return NULL;
}

PyObject *
Session_describe(Session *s, PyObject *name, PyObject *value, PyObject *evaluate_name, PyObject *frame)
{
    return Session_describe_as(s, name, value, evaluate_name, frame, SESSION_SHOW_VIEW);
}

PyObject *
Session_expression_name(PyObject *expr)
{
    if (!PyUnicode_Check(expr))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(expr);
    while (n > 0 && Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(expr, n - 1)))
        n--;
    /* cfg["password"] / cfg['password'] */
    if (n >= 4 && PyUnicode_READ_CHAR(expr, n - 1) == ']') {
        Py_UCS4 q = PyUnicode_READ_CHAR(expr, n - 2);
        if (q == '"' || q == '\'') {
            Py_ssize_t open = PyUnicode_FindChar(expr, q, 0, n - 2, -1);
            if (open > 0 && PyUnicode_READ_CHAR(expr, open - 1) == '[')
                return PyUnicode_Substring(expr, open + 1, n - 2);
        }
        return NULL;
    }
    Py_ssize_t i = n;
    while (i > 0) {
        Py_UCS4 ch = PyUnicode_READ_CHAR(expr, i - 1);
        if (!(ch == '_' || Py_UNICODE_ISALNUM(ch)))
            break;
        i--;
    }
    return i < n ? PyUnicode_Substring(expr, i, n) : NULL;
}

/* One child as a Variable: `name` shown, `evalname` or NULL. */
static int
add_variable(Session *s, PyObject *out, PyObject *name, PyObject *value, PyObject *evalname, PyObject *frame)
{
    PyObject *d = Session_describe(s, name, value, evalname, frame);
    if (!d)
        return -1;
    int r = PyDict_SetItemString(d, "name", name);
    if (r == 0)
        r = PyList_Append(out, d);
    Py_DECREF(d);
    return r;
}

/* The text of a dict key as a child's name (never redacted: a key is a
 * name, and the value's redaction depends on it). */
static PyObject *
key_text(Session *s, PyObject *k)
{
    return safe_text(s, NULL, k, SESSION_SHOW_REPL, NULL);
}

/* Children of a mapping in insertion order, `start`.. at most `count`
 * (count < 0: all). Dicts only are read item by item (another mapping,
 * such as 3.13's frame locals proxy, is copied to a dict first by its own
 * keys()/[] which run no user code). Skipping to `start` is a C loop over
 * the dict's entries; nothing is built for the skipped ones. */
static int
mapping_children(Session *s, PyObject *out, PyObject *mapping, PyObject *parent_eval, int scope,
                 PyObject *frame, Py_ssize_t start, Py_ssize_t count)
{
    PyObject *dict = PyDict_Check(mapping) ? Py_NewRef(mapping) : PyDict_New();
    if (!dict)
        return -1;
    if (!PyDict_Check(mapping) && PyDict_Update(dict, mapping) < 0) {
        Py_DECREF(dict);
        return -1;
    }
    PyObject *k, *v;
    Py_ssize_t pos = 0, i = 0;
    int rc = 0;
    if (scope && s->redact) {
        /* Secrets by name first, so that a value shown before the secret's
         * own entry is scrubbed of it too. */
        while (PyDict_Next(dict, &pos, &k, &v))
            if (PyUnicode_Check(k) && Redact_name_matches(s->redact, k) == 1)
                Redact_note(&s->found, v, REDACT_K_NAME, REDACT_MIN_NEEDLE);
        PyErr_Clear();
        pos = 0;
    }
    while (PyDict_Next(dict, &pos, &k, &v)) {
        if (i++ < start)
            continue;
        if (count >= 0 && i > start + count)
            break;
        Py_INCREF(k);
        Py_INCREF(v);
        PyObject *name = NULL, *evalname = NULL;
        if (scope) {
            name = PyUnicode_Check(k) ? Py_NewRef(k) : PyObject_Str(k);
            evalname = is_identifier(k) ? Py_NewRef(k) : NULL;
        } else {
            name = key_text(s, k);
            if (name && parent_eval && parent_eval != Py_None &&
                (PyUnicode_CheckExact(k) || PyLong_CheckExact(k)))
                evalname = PyUnicode_FromFormat("%U[%U]", parent_eval, name);
        }
        /* A str key names its value for the redaction rules. */
        PyObject *rname = scope || !PyUnicode_Check(k) ? Py_XNewRef(name) : Py_NewRef(k);
        PyObject *d = name ? Session_describe(s, rname, v, evalname, frame) : NULL;
        rc = d && PyDict_SetItemString(d, "name", name) == 0 && PyList_Append(out, d) == 0 ? 0 : -1;
        Py_XDECREF(d);
        Py_XDECREF(rname);
        Py_XDECREF(name);
        Py_XDECREF(evalname);
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc < 0)
            break;
    }
    Py_DECREF(dict);
    return rc;
}

/* Items `start`.. of a list or tuple, read by index: the cost is the
 * window's. The list may change size meanwhile (another thread, a
 * __repr__): each index is checked when it is read. */
static int
sequence_children(Session *s, PyObject *out, PyObject *seq, PyObject *parent_eval, PyObject *frame,
                  Py_ssize_t start, Py_ssize_t count)
{
    int is_list = PyList_Check(seq);
    for (Py_ssize_t i = start; count < 0 || i < start + count; i++) {
        Py_ssize_t n = is_list ? PyList_GET_SIZE(seq) : PyTuple_GET_SIZE(seq);
        if (i >= n)
            break;
        PyObject *value = Py_NewRef(is_list ? PyList_GET_ITEM(seq, i) : PyTuple_GET_ITEM(seq, i));
        PyObject *name = PyUnicode_FromFormat("%zd", i), *evalname = NULL;
        if (name && parent_eval && parent_eval != Py_None)
            evalname = PyUnicode_FromFormat("%U[%zd]", parent_eval, i);
        /* ("password", value) pairs and namedtuple fields with a secret name */
        int hide = 0;
        if (s->redact) {
            SafeRepr_Options o;
            SafeRepr_options_default(&o);
            o.redact = s->redact;
            SafeRepr_Context c;
            SafeRepr_begin(&c, &o);
            hide = SafeRepr_hide_item(&c, seq, i);
            SafeRepr_end(&c);
            if (hide)
                Redact_note(&s->found, value, REDACT_K_PAIR, REDACT_MIN_NEEDLE);
        }
        int r = -1;
        if (name && hide) {
            PyObject *d = Py_BuildValue("{s:O,s:s,s:N,s:i}", "name", name, "value", REDACT_TEXT, "type",
                                        SafeRepr_type_name(Py_TYPE(value)), "variablesReference", 0);
            r = d && (!evalname || PyDict_SetItemString(d, "evaluateName", evalname) == 0) ? PyList_Append(out, d) : -1;
            Py_XDECREF(d);
        } else if (name) {
            r = add_variable(s, out, name, value, evalname, frame);
        }
        Py_XDECREF(name);
        Py_XDECREF(evalname);
        Py_DECREF(value);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* Items `start`.. of a set, in its iteration order (the builtin iterator:
 * no user code; the skipped items cost a C call each, nothing else). */
static int
set_children(Session *s, PyObject *out, PyObject *set, PyObject *frame, Py_ssize_t start, Py_ssize_t count)
{
    PyObject *it = PyObject_GetIter(set), *item;
    if (!it)
        return -1;
    Py_ssize_t i = 0;
    int rc = 0;
    while ((count < 0 || i < start + count) && (item = PyIter_Next(it)) != NULL) {
        if (i >= start) {
            PyObject *name = PyUnicode_FromFormat("%zd", i);
            rc = name ? add_variable(s, out, name, item, NULL, frame) : -1;
            Py_XDECREF(name);
        }
        Py_DECREF(item);
        i++;
        if (rc < 0)
            break;
    }
    Py_DECREF(it);
    if (rc == 0 && PyErr_Occurred())
        PyErr_Clear();      /* "set changed size during iteration": keep what we have */
    return rc;
}

/* A client that did not page is told how many more there are. */
static int
add_more(PyObject *out, Py_ssize_t shown_to, Py_ssize_t total)
{
    PyObject *d = Py_BuildValue("{s:s,s:N,s:i,s:{s:s}}", "name", "...", "value",
                                PyUnicode_FromFormat("%zd more (%zd in all)", total - shown_to, total),
                                "variablesReference", 0, "presentationHint", "kind", "virtual");
    int r = d ? PyList_Append(out, d) : -1;
    Py_XDECREF(d);
    return r;
}

PyObject *
Session_variables(Session *s, long ref, Py_ssize_t start, Py_ssize_t count, Session_Kids kids)
{
    /* Owned */
    PyObject *out = NULL, *all = NULL, *mapping = NULL;

    PyObject *e = ref_entry(s, ref);   /* borrowed */
    if (!e) {
        PyErr_Format(PyExc_ValueError, "unknown variablesReference %ld (from an earlier stop?)", ref);
        return NULL;
    }
    if (start < 0)
        start = 0;
    int kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(e, 0));
    PyObject *obj = PyTuple_GET_ITEM(e, 1), *parent_eval = PyTuple_GET_ITEM(e, 2);
    PyObject *frame = PyTuple_GET_ITEM(e, 3);
    if (frame == Py_None)
        frame = NULL;
    out = PyList_New(0);
    if (!out)
        goto error;
    if (kind == SESSION_REF_LOCALS || kind == SESSION_REF_GLOBALS) {
        /* A scope's variables are named, and all of them come unless paged. */
        if (kids == SESSION_KIDS_INDEXED)
            return out;
        mapping = kind == SESSION_REF_LOCALS ? Session_frame_locals(obj)
                                             : PyObject_GetAttrString(obj, "f_globals");
        if (!mapping || mapping_children(s, out, mapping, NULL, 1, obj, start, count > 0 ? count : -1) < 0)
            goto error;
        Py_DECREF(mapping);
        return out;
    }
    SafeRepr_Kind vk = SafeRepr_kind(obj);
    Py_ssize_t total = child_count(obj, vk);
    int indexed = shows_indexed(vk, total);
    if ((kids == SESSION_KIDS_INDEXED && !indexed) || (kids == SESSION_KIDS_NAMED && indexed))
        return out;
    int paged = count > 0;
    if (!paged)
        count = SESSION_FIRST_PAGE;
    int r = 0;
    switch (vk) {
    case SAFEREPR_MAPPING:
        r = mapping_children(s, out, obj, parent_eval, 0, frame, start, count);
        break;
    case SAFEREPR_SEQUENCE:
        r = sequence_children(s, out, obj, parent_eval, frame, start, count);
        break;
    case SAFEREPR_SET:
        r = set_children(s, out, obj, frame, start, count);
        break;
    case SAFEREPR_OBJECT: {
        /* (name, value) pairs from __dict__ and slots; objects are small. */
        Py_ssize_t n = 0;
        all = SafeRepr_children(obj, start + count, &n);
        if (!all) {
            r = -1;
            break;
        }
        for (Py_ssize_t i = start; i < PyList_GET_SIZE(all) && r == 0; i++) {
            PyObject *kid = PyList_GET_ITEM(all, i);
            PyObject *name = PyTuple_GET_ITEM(kid, 0), *value = PyTuple_GET_ITEM(kid, 1), *evalname = NULL;
            if (parent_eval != Py_None && is_identifier(name))
                evalname = PyUnicode_FromFormat("%U.%U", parent_eval, name);
            /* A private attribute behind a secret-named property is secret. */
            PyObject *shown = Py_NewRef(name);
            if (s->redact) {
                SafeRepr_Options o;
                SafeRepr_options_default(&o);
                o.redact = s->redact;
                SafeRepr_Context c;
                SafeRepr_begin(&c, &o);
                int sec = SafeRepr_is_secret_attr(&c, obj, name);
                SafeRepr_end(&c);
                if (sec) {
                    PyObject *d = Py_BuildValue("{s:O,s:s,s:N,s:i}", "name", name, "value", REDACT_TEXT, "type",
                                                SafeRepr_type_name(Py_TYPE(value)), "variablesReference", 0);
                    Redact_note(&s->found, value, REDACT_K_NAME, REDACT_MIN_NEEDLE);
                    r = d ? PyList_Append(out, d) : -1;
                    Py_XDECREF(d);
                    Py_DECREF(shown);
                    Py_XDECREF(evalname);
                    continue;
                }
            }
            r = add_variable(s, out, shown, value, evalname, frame);
            Py_DECREF(shown);
            Py_XDECREF(evalname);
        }
        break;
    }
    default:
        break;
    }
    if (r < 0)
        goto error;
    if (!paged && total > start + count && add_more(out, start + count, total) < 0)
        goto error;
    Py_XDECREF(all);
    return out;
error:
    Py_XDECREF(out);
    Py_XDECREF(all);
    Py_XDECREF(mapping);
    return NULL;
}

/* --- evaluation ------------------------------------------------------------------ */

PyObject *
Session_take_error(void)
{
    PyObject *exc = PyErr_GetRaisedException();
    if (!exc)
        return PyUnicode_FromString("error");
    SafeRepr_Options o;
    SafeRepr_options_default(&o);
    PyObject *msg = NULL;
    /* str(exc) is user code: bounded like a repr, through a one-item tuple
     * would show quotes, so the message is the exception's args' text. */
    PyObject *args = PyObject_GetAttrString(exc, "args");
    if (args && PyTuple_Check(args) && PyTuple_GET_SIZE(args) == 1 &&
        PyUnicode_Check(PyTuple_GET_ITEM(args, 0)))
        msg = Py_NewRef(PyTuple_GET_ITEM(args, 0));
    else if (args && PyTuple_Check(args) && PyTuple_GET_SIZE(args) == 0)
        msg = PyUnicode_FromString("");
    else if (args)
        msg = SafeRepr_repr(PyTuple_Check(args) && PyTuple_GET_SIZE(args) == 1 ? PyTuple_GET_ITEM(args, 0) : args, &o);
    PyErr_Clear();
    Py_XDECREF(args);
    PyObject *tname = PyUnicode_FromString(Py_TYPE(exc)->tp_name);
    PyObject *dot = tname ? PyUnicode_FromString(".") : NULL;
    /* "ZeroDivisionError", "json.decoder.JSONDecodeError" -> its last part */
    if (tname && dot) {
        Py_ssize_t at = PyUnicode_FindChar(tname, '.', 0, PyUnicode_GET_LENGTH(tname), -1);
        if (at >= 0)
            Py_SETREF(tname, PyUnicode_Substring(tname, at + 1, PyUnicode_GET_LENGTH(tname)));
    }
    Py_XDECREF(dot);
    PyObject *text = NULL;
    if (tname && msg && PyUnicode_GET_LENGTH(msg) > 0)
        text = PyUnicode_FromFormat("%U: %U", tname, msg);
    else if (tname)
        text = Py_NewRef(tname);
    Py_XDECREF(tname);
    Py_XDECREF(msg);
    Py_DECREF(exc);
    if (!text)
        PyErr_Clear();
    return text ? text : PyUnicode_FromString("error");
}

static void
locals_to_fast(PyObject *frame)
{
#if !SLEUTH_PY313
    /* 3.11/3.12: f_locals is a snapshot; write it back into the frame, or
     * the next read of f_locals (which re-syncs from the frame) loses it. */
    if (PyFrame_Check(frame)) {
        PyFrame_LocalsToFast((PyFrameObject *)frame, 1);
        PyErr_Clear();
    }
#else
    SLEUTH_UNUSED(frame);
#endif
}

PyObject *
Session_eval(PyObject *frame, PyObject *source, int allow_statement, PyObject **error)
{
    /* Owned */
    PyObject *globals = NULL, *locals = NULL, *code = NULL, *res = NULL;
    /* The program's own pending exception (an exception stop's) is kept. */
    PyObject *saved = PyErr_GetRaisedException();

    *error = NULL;
    const char *src = PyUnicode_AsUTF8(source);
    if (!src)
        goto fail;
    globals = PyObject_GetAttrString(frame, "f_globals");
    locals = globals ? Session_frame_locals(frame) : NULL;
    if (!locals)
        goto fail;
    if (!PyDict_Check(globals)) {
        PyErr_SetString(PyExc_TypeError, "the frame's globals are not a dict");
        goto fail;
    }
    code = Py_CompileString(src, "<string>", Py_eval_input);
    if (!code && allow_statement && PyErr_ExceptionMatches(PyExc_SyntaxError)) {
        PyErr_Clear();
        code = Py_CompileString(src, "<string>", Py_file_input);
    }
    if (!code)
        goto fail;
    res = PyEval_EvalCode(code, globals, locals);
    if (!res) {
        *error = Session_take_error();
        locals_to_fast(frame);
        goto done;
    }
    locals_to_fast(frame);
    goto done;
fail:
    *error = Session_take_error();
    Py_CLEAR(res);
done:
    Py_XDECREF(globals);
    Py_XDECREF(locals);
    Py_XDECREF(code);
    PyErr_Clear();
    PyErr_SetRaisedException(saved);
    if (!res && !*error)
        PyErr_NoMemory();
    return res;
}

/* The key of `mapping` whose safe repr is `name`, borrowed, or NULL. */
static PyObject *
key_shown_as(Session *s, PyObject *mapping, PyObject *name)
{
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(mapping, &pos, &k, &v)) {
        PyObject *t = key_text(s, k);
        int eq = t ? PyUnicode_Compare(t, name) == 0 : 0;
        Py_XDECREF(t);
        if (eq)
            return k;
    }
    return NULL;
}

PyObject *
Session_set_variable(Session *s, long ref, PyObject *name, PyObject *expr, PyObject **error)
{
    *error = NULL;
    PyObject *e = ref_entry(s, ref);
    if (!e) {
        *error = PyUnicode_FromFormat("unknown variablesReference %ld", ref);
        return NULL;
    }
    int kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(e, 0));
    PyObject *obj = PyTuple_GET_ITEM(e, 1), *frame = PyTuple_GET_ITEM(e, 3);
    if (kind != SESSION_REF_VALUE)
        frame = obj;
    if (frame == Py_None) {
        *error = PyUnicode_FromString("no frame to evaluate the value in");
        return NULL;
    }
    PyObject *value = Session_eval(frame, expr, 0, error);
    if (!value)
        return NULL;
    PyObject *saved = PyErr_GetRaisedException();
    int r = -1;
    PyObject *target = NULL;
    if (kind == SESSION_REF_LOCALS) {
        target = Session_frame_locals(frame);
        r = target ? PyObject_SetItem(target, name, value) : -1;
        if (r == 0)
            locals_to_fast(frame);
    } else if (kind == SESSION_REF_GLOBALS) {
        target = PyObject_GetAttrString(frame, "f_globals");
        r = target ? PyObject_SetItem(target, name, value) : -1;
    } else {
        switch (SafeRepr_kind(obj)) {
        case SAFEREPR_SEQUENCE:
            if (!PyList_Check(obj)) {
                PyErr_SetString(PyExc_TypeError, "a tuple's items cannot be set");
                break;
            }
            target = PyNumber_Long(name);
            r = target ? PyObject_SetItem(obj, target, value) : -1;
            break;
        case SAFEREPR_MAPPING: {
            PyObject *key = key_shown_as(s, obj, name);
            if (!key)
                PyErr_Format(PyExc_KeyError, "no key shown as %U", name);
            else
                r = PyObject_SetItem(obj, key, value);
            break;
        }
        case SAFEREPR_OBJECT:
            r = PyObject_SetAttr(obj, name, value);
            break;
        default:
            PyErr_SetString(PyExc_TypeError, "this value's children cannot be set");
        }
    }
    Py_XDECREF(target);
    if (r < 0) {
        *error = Session_take_error();
        Py_CLEAR(value);
    }
    PyErr_Clear();
    PyErr_SetRaisedException(saved);
    return value;
}
