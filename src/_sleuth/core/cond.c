/* cond.c — breakpoint conditions evaluated without the interpreter (see cond.h). */
#include "cond.h"
#include "compat.h"
#if !SLEUTH_PY313
/* 3.11 and 3.12: read a frame's fast locals directly (see load_name). */
#  ifndef Py_BUILD_CORE
#    define Py_BUILD_CORE 1
#  endif
#  include "internal/pycore_frame.h"
#  include "internal/pycore_code.h"
#endif
#include <string.h>

enum {
    N_CONST, N_NAME, N_ATTR, N_SUBSCR, N_SLICE, N_BINOP, N_UNARY, N_AND, N_OR,
    N_COMPARE, N_CALL, N_TUPLE, N_LIST, N_SET, N_DICT, N_IFEXP, N_FSTRING, N_FORMAT,
};

enum { U_NOT, U_NEG, U_POS, U_INV };
enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_IS, C_ISNOT, C_IN, C_NOTIN };
enum {
    B_ADD, B_SUB, B_MUL, B_DIV, B_FLOORDIV, B_MOD, B_POW, B_LSHIFT, B_RSHIFT,
    B_OR, B_XOR, B_AND, B_MATMUL,
};

struct CondNode {
    int kind;
    int op;            /* N_BINOP, N_UNARY; N_CALL: the number of keyword arguments;
                        * N_FORMAT: the conversion ('s', 'r', 'a' or -1) */
    PyObject *obj;     /* N_CONST value, N_NAME / N_ATTR name, N_CALL keyword names */
    int n;             /* kids */
    CondNode **kids;   /* N_SLICE: lower, upper, step (NULL = None); N_DICT: key, value, ...;
                        * N_CALL: function, positional, keyword values; N_IFEXP: test, body, orelse;
                        * N_FSTRING: the parts; N_FORMAT: value, format spec (or NULL) */
    int *ops;          /* N_COMPARE: n - 1 operators */
    int refs;          /* the root only: its owner, plus each evaluation under way */
};

#define MAX_NODES 64
#define MAX_DEPTH 24

/* Builtins that look at the calling frame: in eval() that frame is the
 * condition's own, here it would be the debuggee's, so keep them on eval(). */
static const char *const frame_builtins[] = {
    "locals", "globals", "vars", "dir", "super", "eval", "exec", "breakpoint",
    "__import__", "compile", "input", NULL,
};

static const char *const binop_names[] = {
    "Add", "Sub", "Mult", "Div", "FloorDiv", "Mod", "Pow", "LShift", "RShift",
    "BitOr", "BitXor", "BitAnd", "MatMult", NULL,
};
static const char *const cmpop_names[] = {
    "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "Is", "IsNot", "In", "NotIn", NULL,
};
static const char *const unop_names[] = { "Not", "USub", "UAdd", "Invert", NULL };

static void
node_free(CondNode *node)
{
    if (!node)
        return;
    for (int i = 0; i < node->n; i++)
        node_free(node->kids[i]);
    PyMem_Free(node->kids);
    PyMem_Free(node->ops);
    Py_XDECREF(node->obj);
    PyMem_Free(node);
}

/* The owner lets go of a compiled condition. An evaluation under way
 * holds it too (a condition may change its own breakpoint's condition:
 * found in review, a use-after-free), so the last one frees it. */
void
Cond_free(CondNode *root)
{
    if (root && --root->refs == 0)
        node_free(root);
}

/* --- compiling from the AST ------------------------------------------------ */

typedef struct {
    int nodes;
} Compiler;

static int
type_is(PyObject *o, const char *name)
{
    const char *tp = Py_TYPE(o)->tp_name;
    const char *dot = strrchr(tp, '.');
    return strcmp(dot ? dot + 1 : tp, name) == 0;
}

static int
name_index(PyObject *o, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (type_is(o, names[i]))
            return i;
    return -1;
}

static CondNode *compile_node(Compiler *c, PyObject *ast, int depth);

static CondNode *
new_node(Compiler *c, int kind, int nkids)
{
    if (++c->nodes > MAX_NODES)
        return NULL;
    CondNode *n = PyMem_Calloc(1, sizeof(CondNode));
    if (!n)
        return NULL;
    n->kind = kind;
    if (nkids > 0) {
        n->kids = PyMem_Calloc((size_t)nkids, sizeof(CondNode *));
        if (!n->kids) {
            PyMem_Free(n);
            return NULL;
        }
    }
    n->n = nkids;
    return n;
}

/* Compile attribute `field` of `ast` into kid `i` of `n`; 0 or -1 (not simple). */
static int
compile_field(Compiler *c, CondNode *n, int i, PyObject *ast, const char *field, int depth)
{
    PyObject *sub = PyObject_GetAttrString(ast, field);
    if (!sub)
        return -1;
    n->kids[i] = compile_node(c, sub, depth + 1);
    Py_DECREF(sub);
    return n->kids[i] ? 0 : -1;
}

/* Compile every element of list field `field` into n->kids[first:], with
 * `after` empty kids left at the end for the caller. */
static CondNode *
compile_list(Compiler *c, int kind, PyObject *ast, const char *field, int first, int after,
             int depth)
{
    PyObject *items = PyObject_GetAttrString(ast, field);
    if (!items || !PyList_Check(items)) {
        Py_XDECREF(items);
        return NULL;
    }
    CondNode *n = new_node(c, kind, first + (int)PyList_GET_SIZE(items) + after);
    for (Py_ssize_t i = 0; n && i < PyList_GET_SIZE(items); i++) {
        n->kids[first + i] = compile_node(c, PyList_GET_ITEM(items, i), depth + 1);
        if (!n->kids[first + i]) {
            node_free(n);
            n = NULL;
        }
    }
    Py_DECREF(items);
    return n;
}

static int
list_len(PyObject *ast, const char *field)
{
    PyObject *items = PyObject_GetAttrString(ast, field);
    int len = items && PyList_Check(items) ? (int)PyList_GET_SIZE(items) : -1;
    Py_XDECREF(items);
    return len;
}

static CondNode *
compile_op_node(Compiler *c, int kind, PyObject *ast, const char *const *names, int depth)
{
    PyObject *op = PyObject_GetAttrString(ast, "op");
    int idx = op ? name_index(op, names) : -1;
    Py_XDECREF(op);
    if (idx < 0)
        return NULL;
    CondNode *n = new_node(c, kind, kind == N_BINOP ? 2 : 1);
    if (!n)
        return NULL;
    n->op = idx;
    int bad = kind == N_BINOP
        ? compile_field(c, n, 0, ast, "left", depth) < 0 || compile_field(c, n, 1, ast, "right", depth) < 0
        : compile_field(c, n, 0, ast, "operand", depth) < 0;
    if (bad) {
        node_free(n);
        return NULL;
    }
    return n;
}

/* `x in [1, 2]`, `x in {1, 2}`: a display of constants after the last `in`
 * of a comparison becomes a tuple or frozenset constant, as the compiler
 * folds it (built once, not at every hit). */
static void
fold_constant_display(CondNode *n)
{
    if (n->kind != N_LIST && n->kind != N_SET)
        return;
    for (int i = 0; i < n->n; i++)
        if (n->kids[i]->kind != N_CONST)
            return;
    PyObject *t = PyTuple_New(n->n);
    for (int i = 0; t && i < n->n; i++)
        PyTuple_SET_ITEM(t, i, Py_NewRef(n->kids[i]->obj));
    PyObject *v = t && n->kind == N_SET ? PyFrozenSet_New(t) : Py_XNewRef(t);
    Py_XDECREF(t);
    if (!v) {
        PyErr_Clear();   /* unhashable: leave it to run time, like the compiler */
        return;
    }
    for (int i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    PyMem_Free(n->kids);
    n->kids = NULL;
    n->n = 0;
    n->kind = N_CONST;
    n->obj = v;
}

static CondNode *
compile_compare(Compiler *c, PyObject *ast, int depth)
{
    PyObject *ops = PyObject_GetAttrString(ast, "ops");
    if (!ops || !PyList_Check(ops) || PyList_GET_SIZE(ops) == 0) {
        Py_XDECREF(ops);
        return NULL;
    }
    CondNode *n = compile_list(c, N_COMPARE, ast, "comparators", 1, 0, depth);
    if (n && n->n - 1 == PyList_GET_SIZE(ops)) {
        int known = 1;
        n->ops = PyMem_Calloc((size_t)n->n, sizeof(int));
        for (Py_ssize_t i = 0; n->ops && known && i < PyList_GET_SIZE(ops); i++)
            known = (n->ops[i] = name_index(PyList_GET_ITEM(ops, i), cmpop_names)) >= 0;
        if (!n->ops || !known || compile_field(c, n, 0, ast, "left", depth) < 0) {
            node_free(n);
            n = NULL;
        }
        /* only the last comparator: one in the middle of a chain is also
         * the left operand of the next comparison, and stays what it is */
        if (n && (n->ops[n->n - 2] == C_IN || n->ops[n->n - 2] == C_NOTIN))
            fold_constant_display(n->kids[n->n - 1]);
    } else {
        node_free(n);
        n = NULL;
    }
    Py_DECREF(ops);
    return n;
}

/* Keyword arguments of a Call into n->kids[first:] and their names into
 * n->obj; `**mapping` is not simple. */
static int
compile_keywords(Compiler *c, CondNode *n, PyObject *keywords, int first, int depth)
{
    Py_ssize_t nkw = PyList_GET_SIZE(keywords);
    PyObject *names = PyTuple_New(nkw);
    if (!names)
        return -1;
    n->obj = names;
    n->op = (int)nkw;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *kw = PyList_GET_ITEM(keywords, i);
        PyObject *arg = PyObject_GetAttrString(kw, "arg");
        if (!arg || !PyUnicode_CheckExact(arg)) {
            Py_XDECREF(arg);
            return -1;
        }
        PyUnicode_InternInPlace(&arg);
        PyTuple_SET_ITEM(names, i, arg);
        if (compile_field(c, n, first + (int)i, kw, "value", depth) < 0)
            return -1;
    }
    return 0;
}

static CondNode *
compile_call(Compiler *c, PyObject *ast, int depth)
{
    int nkw = list_len(ast, "keywords"), nargs = list_len(ast, "args");
    if (nkw < 0 || nargs < 0)
        return NULL;
    PyObject *func = PyObject_GetAttrString(ast, "func");
    if (!func)
        return NULL;
    int ok = 1;
    if (type_is(func, "Name")) {
        PyObject *id = PyObject_GetAttrString(func, "id");
        for (int i = 0; ok && id && PyUnicode_Check(id) && frame_builtins[i]; i++)
            ok = PyUnicode_CompareWithASCIIString(id, frame_builtins[i]) != 0;
        ok = ok && id != NULL;
        Py_XDECREF(id);
    }
    Py_DECREF(func);
    if (!ok)
        return NULL;
    /* the function, the positional arguments, then room for the keyword values */
    CondNode *n = compile_list(c, N_CALL, ast, "args", 1, nkw, depth);
    if (n && compile_field(c, n, 0, ast, "func", depth) < 0) {
        node_free(n);
        n = NULL;
    }
    if (n && nkw > 0) {
        PyObject *keywords = PyObject_GetAttrString(ast, "keywords");
        if (!keywords || !PyList_Check(keywords) || PyList_GET_SIZE(keywords) != nkw ||
            compile_keywords(c, n, keywords, 1 + nargs, depth) < 0) {
            node_free(n);
            n = NULL;
        }
        Py_XDECREF(keywords);
    }
    return n;
}

/* Past these sizes the compiler builds a display as it goes (each item
 * added as soon as it is evaluated) rather than from all of them at the
 * end: an unhashable item then stops the rest from running. Such displays
 * keep eval(). (Found in review.) */
#define MAX_SET_DISPLAY 30
#define MAX_DICT_DISPLAY 15

static CondNode *
compile_dict(Compiler *c, PyObject *ast, int depth)
{
    PyObject *keys = PyObject_GetAttrString(ast, "keys");
    PyObject *values = keys ? PyObject_GetAttrString(ast, "values") : NULL;
    CondNode *n = NULL;
    if (values && PyList_Check(keys) && PyList_Check(values) &&
        PyList_GET_SIZE(keys) == PyList_GET_SIZE(values) &&
        PyList_GET_SIZE(keys) <= MAX_DICT_DISPLAY) {
        Py_ssize_t len = PyList_GET_SIZE(keys);
        n = new_node(c, N_DICT, 2 * (int)len);
        /* (a None key is a `**mapping`: compile_node refuses it) */
        for (Py_ssize_t i = 0; n && i < len; i++) {
            n->kids[2 * i] = compile_node(c, PyList_GET_ITEM(keys, i), depth + 1);
            n->kids[2 * i + 1] = n->kids[2 * i]
                ? compile_node(c, PyList_GET_ITEM(values, i), depth + 1) : NULL;
            if (!n->kids[2 * i + 1]) {
                node_free(n);
                n = NULL;
            }
        }
    }
    Py_XDECREF(keys);
    Py_XDECREF(values);
    return n;
}

static CondNode *
compile_node(Compiler *c, PyObject *ast, int depth)
{
    CondNode *n = NULL;
    if (depth > MAX_DEPTH)
        return NULL;
    if (type_is(ast, "Constant") || type_is(ast, "Name") || type_is(ast, "Attribute")) {
        const char *field = type_is(ast, "Constant") ? "value" : type_is(ast, "Name") ? "id" : "attr";
        int kind = type_is(ast, "Constant") ? N_CONST : type_is(ast, "Name") ? N_NAME : N_ATTR;
        PyObject *v = PyObject_GetAttrString(ast, field);
        if (!v || (kind != N_CONST && !PyUnicode_CheckExact(v)) ||
            (kind == N_NAME && PyUnicode_CompareWithASCIIString(v, "__debug__") == 0)) {
            Py_XDECREF(v);
            return NULL;
        }
        n = new_node(c, kind, kind == N_ATTR ? 1 : 0);
        if (n)
            n->obj = v;
        else
            Py_DECREF(v);
        if (n && kind == N_ATTR && compile_field(c, n, 0, ast, "value", depth) < 0) {
            node_free(n);
            n = NULL;
        }
        return n;
    }
    if (type_is(ast, "Subscript")) {
        n = new_node(c, N_SUBSCR, 2);
        if (n && (compile_field(c, n, 0, ast, "value", depth) < 0 ||
                  compile_field(c, n, 1, ast, "slice", depth) < 0)) {
            node_free(n);
            n = NULL;
        }
        return n;
    }
    if (type_is(ast, "Slice")) {
        static const char *const parts[] = {"lower", "upper", "step"};
        n = new_node(c, N_SLICE, 3);
        for (int i = 0; n && i < 3; i++) {
            PyObject *sub = PyObject_GetAttrString(ast, parts[i]);
            if (sub && sub != Py_None)
                n->kids[i] = compile_node(c, sub, depth + 1);
            if (!sub || (sub != Py_None && !n->kids[i])) {
                node_free(n);
                n = NULL;
            }
            Py_XDECREF(sub);
        }
        return n;
    }
    if (type_is(ast, "BinOp"))
        return compile_op_node(c, N_BINOP, ast, binop_names, depth);
    if (type_is(ast, "UnaryOp")) {
        n = compile_op_node(c, N_UNARY, ast, unop_names, depth);
        /* -1, +2.5, ~0: fold a sign on a number literal, as the compiler does. */
        if (n && n->op != U_NOT && n->kids[0]->kind == N_CONST) {
            PyObject *v = n->kids[0]->obj;
            if (PyLong_CheckExact(v) || PyFloat_CheckExact(v) || PyComplex_CheckExact(v)) {
                PyObject *f = n->op == U_NEG ? PyNumber_Negative(v)
                            : n->op == U_POS ? PyNumber_Positive(v)
                            : PyLong_CheckExact(v) ? PyNumber_Invert(v) : NULL;
                if (f) {
                    node_free(n->kids[0]);
                    n->kids[0] = NULL;
                    n->n = 0;
                    n->kind = N_CONST;
                    n->obj = f;
                }
                PyErr_Clear();
            }
        }
        return n;
    }
    if (type_is(ast, "BoolOp")) {
        PyObject *op = PyObject_GetAttrString(ast, "op");
        int kind = !op ? -1 : type_is(op, "And") ? N_AND : type_is(op, "Or") ? N_OR : -1;
        Py_XDECREF(op);
        return kind < 0 ? NULL : compile_list(c, kind, ast, "values", 0, 0, depth);
    }
    if (type_is(ast, "Compare"))
        return compile_compare(c, ast, depth);
    if (type_is(ast, "Call"))
        return compile_call(c, ast, depth);
    if (type_is(ast, "Tuple") || type_is(ast, "List"))
        return compile_list(c, type_is(ast, "Tuple") ? N_TUPLE : N_LIST, ast, "elts", 0, 0, depth);
    if (type_is(ast, "Set"))
        return list_len(ast, "elts") > MAX_SET_DISPLAY ? NULL
             : compile_list(c, N_SET, ast, "elts", 0, 0, depth);
    if (type_is(ast, "Dict"))
        return compile_dict(c, ast, depth);
    if (type_is(ast, "JoinedStr"))
        return compile_list(c, N_FSTRING, ast, "values", 0, 0, depth);
    if (type_is(ast, "FormattedValue")) {
        PyObject *conv = PyObject_GetAttrString(ast, "conversion");
        PyObject *spec = conv ? PyObject_GetAttrString(ast, "format_spec") : NULL;
        long cv = conv && PyLong_Check(conv) ? PyLong_AsLong(conv) : -2;
        if (spec && (cv == -1 || cv == 's' || cv == 'r' || cv == 'a'))
            n = new_node(c, N_FORMAT, 2);
        if (n) {
            n->op = (int)cv;
            if (compile_field(c, n, 0, ast, "value", depth) < 0 ||
                (spec != Py_None && !(n->kids[1] = compile_node(c, spec, depth + 1)))) {
                node_free(n);
                n = NULL;
            }
        }
        PyErr_Clear();
        Py_XDECREF(conv);
        Py_XDECREF(spec);
        return n;
    }
    if (type_is(ast, "IfExp")) {
        static const char *const parts[] = {"test", "body", "orelse"};
        n = new_node(c, N_IFEXP, 3);
        for (int i = 0; n && i < 3; i++) {
            if (compile_field(c, n, i, ast, parts[i], depth) < 0) {
                node_free(n);
                n = NULL;
            }
        }
        return n;
    }
    return NULL;   /* starred elements included: not simple */
}

CondNode *
Cond_compile(PyObject *source)
{
    if (!PyUnicode_Check(source))
        return NULL;
    PyObject *exc = PyErr_GetRaisedException();
    CondNode *n = NULL;
    PyObject *ast = PyImport_ImportModule("ast");
    PyObject *tree = ast ? PyObject_CallMethod(ast, "parse", "Oss", source, "<string>", "eval") : NULL;
    PyObject *body = tree ? PyObject_GetAttrString(tree, "body") : NULL;
    if (body) {
        Compiler c = {0};
        n = compile_node(&c, body, 0);
        if (n)
            n->refs = 1;
    }
    Py_XDECREF(body);
    Py_XDECREF(tree);
    Py_XDECREF(ast);
    PyErr_Clear();          /* not simple, or a syntax error that eval() reports */
    PyErr_SetRaisedException(exc);
    return n;
}

/* --- evaluation ------------------------------------------------------------ */

typedef struct {
    PyObject *globals, *locals;
    PyFrameObject *frame;   /* instead of locals: read its fast locals */
} Scope;

#if !SLEUTH_PY313
/* What frame.f_locals would map `name` to, read without building the dict
 * (3.11/3.12 build it on every access): a plain local's value, nothing for
 * an unbound one, else a name the dict holds beyond the locals (set from
 * the prompt). Only for frames Cond_frame_ok accepts. Borrowed, or NULL. */
static PyObject *
frame_local(PyFrameObject *f, PyObject *name)
{
    _PyInterpreterFrame *fr = f->f_frame;
    PyCodeObject *co = fr->f_code;
    PyObject *names = co->co_localsplusnames;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < co->co_nlocalsplus; i++) {
            PyObject *n = PyTuple_GET_ITEM(names, i);
            if (n == name || (pass == 1 && PyUnicode_Compare(n, name) == 0))
                return fr->localsplus[i];   /* NULL: unbound, not in f_locals */
        }
    }
    PyObject *d = fr->f_locals;
    if (d && PyDict_CheckExact(d))
        return PyDict_GetItemWithError(d, name);
    return NULL;
}
#endif

int
Cond_frame_ok(PyObject *frame)
{
#if SLEUTH_PY313
    SLEUTH_UNUSED(frame);
    return 0;
#else
    if (!PyFrame_Check(frame))
        return 0;
    _PyInterpreterFrame *fr = ((PyFrameObject *)frame)->f_frame;
    PyCodeObject *co = fr->f_code;
    /* Plain locals only: cells, free variables and 3.12's hidden
     * comprehension locals keep the f_locals path. */
    if (!(co->co_flags & CO_OPTIMIZED) || co->co_ncellvars || co->co_nfreevars)
        return 0;
    for (int i = 0; i < co->co_nlocalsplus; i++)
        if (_PyLocals_GetKind(co->co_localspluskinds, i) != CO_FAST_LOCAL)
            return 0;
    return 1;
#endif
}

int
Cond_frame_ok_cached(PyObject *frame, PyObject **code, int *ok)
{
#if SLEUTH_PY313
    SLEUTH_UNUSED(frame);
    SLEUTH_UNUSED(code);
    SLEUTH_UNUSED(ok);
    return 0;
#else
    if (!PyFrame_Check(frame))
        return 0;
    PyObject *co = (PyObject *)((PyFrameObject *)frame)->f_frame->f_code;
    if (co != *code) {
        *ok = Cond_frame_ok(frame);
        Py_XSETREF(*code, Py_NewRef(co));
    }
    return *ok;
#endif
}

/* eval()'s builtins: globals['__builtins__'] (a module stands for its dict),
 * else the running frame's. Borrowed, or NULL with an exception set. */
static PyObject *
builtins_of(PyObject *globals)
{
    static PyObject *key;
    if (!key && !(key = PyUnicode_InternFromString("__builtins__")))
        return NULL;
    PyObject *b = PyDict_GetItemWithError(globals, key);
    if (!b && PyErr_Occurred())
        return NULL;
    if (b && PyModule_Check(b))
        return PyModule_GetDict(b);
    return b ? b : PyEval_GetBuiltins();
}

/* LOAD_NAME: the locals mapping, then globals, then builtins. */
static PyObject *
load_name(Scope *s, PyObject *name)
{
    PyObject *v;
#if !SLEUTH_PY313
    if (s->frame) {
        v = frame_local(s->frame, name);
        if (v)
            return Py_NewRef(v);
        if (PyErr_Occurred())
            return NULL;
    } else
#endif
    if (PyDict_CheckExact(s->locals)) {
        v = PyDict_GetItemWithError(s->locals, name);
        if (v)
            return Py_NewRef(v);
        if (PyErr_Occurred())
            return NULL;
    } else {
        v = PyObject_GetItem(s->locals, name);
        if (v)
            return v;
        if (!PyErr_ExceptionMatches(PyExc_KeyError))
            return NULL;
        PyErr_Clear();
    }
    v = PyDict_GetItemWithError(s->globals, name);
    if (v)
        return Py_NewRef(v);
    if (PyErr_Occurred())
        return NULL;
    PyObject *builtins = builtins_of(s->globals);
    if (!builtins)
        return NULL;
    Py_INCREF(builtins);
    if (PyDict_CheckExact(builtins)) {
        v = Py_XNewRef(PyDict_GetItemWithError(builtins, name));
    } else {
        v = PyObject_GetItem(builtins, name);
        if (!v && PyErr_ExceptionMatches(PyExc_KeyError))
            PyErr_Clear();
    }
    Py_DECREF(builtins);
    if (!v && !PyErr_Occurred())
        PyErr_Format(PyExc_NameError, "name '%U' is not defined", name);
    return v;
}

static PyObject *eval_node(CondNode *n, Scope *s);

static PyObject *
binop(int op, PyObject *a, PyObject *b)
{
    switch (op) {
    case B_ADD: return PyNumber_Add(a, b);
    case B_SUB: return PyNumber_Subtract(a, b);
    case B_MUL: return PyNumber_Multiply(a, b);
    case B_DIV: return PyNumber_TrueDivide(a, b);
    case B_FLOORDIV: return PyNumber_FloorDivide(a, b);
    case B_MOD: return PyNumber_Remainder(a, b);
    case B_POW: return PyNumber_Power(a, b, Py_None);
    case B_LSHIFT: return PyNumber_Lshift(a, b);
    case B_RSHIFT: return PyNumber_Rshift(a, b);
    case B_OR: return PyNumber_Or(a, b);
    case B_XOR: return PyNumber_Xor(a, b);
    case B_AND: return PyNumber_And(a, b);
    default: return PyNumber_MatrixMultiply(a, b);
    }
}

static PyObject *
compare(int op, PyObject *a, PyObject *b)
{
    static const int rich[] = {Py_EQ, Py_NE, Py_LT, Py_LE, Py_GT, Py_GE};
    int r;
    switch (op) {
    case C_IS: return Py_NewRef(a == b ? Py_True : Py_False);
    case C_ISNOT: return Py_NewRef(a != b ? Py_True : Py_False);
    case C_IN:
    case C_NOTIN:
        r = PySequence_Contains(b, a);
        if (r < 0)
            return NULL;
        return Py_NewRef((r == (op == C_IN)) ? Py_True : Py_False);
    default:
        return PyObject_RichCompare(a, b, rich[op]);
    }
}

/* Evaluate n->kids[first:] into a fresh array of new references. */
static PyObject **
eval_kids(CondNode *n, int first, Scope *s)
{
    int count = n->n - first;
    PyObject **vals = PyMem_Calloc((size_t)(count > 0 ? count : 1), sizeof(PyObject *));
    if (!vals) {
        PyErr_NoMemory();
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        vals[i] = eval_node(n->kids[first + i], s);
        if (!vals[i]) {
            for (int j = 0; j < i; j++)
                Py_DECREF(vals[j]);
            PyMem_Free(vals);
            return NULL;
        }
    }
    return vals;
}

static void
free_vals(PyObject **vals, int count)
{
    for (int i = 0; i < count; i++)
        Py_DECREF(vals[i]);
    PyMem_Free(vals);
}

static PyObject *
eval_compare(CondNode *n, Scope *s)
{
    PyObject *left = eval_node(n->kids[0], s), *res = NULL;
    for (int i = 1; left && i < n->n; i++) {
        PyObject *right = eval_node(n->kids[i], s);
        if (!right)
            break;
        Py_XSETREF(res, compare(n->ops[i - 1], left, right));
        Py_SETREF(left, right);
        if (!res || i == n->n - 1)
            break;
        int t = PyObject_IsTrue(res);   /* a < b < c: stop at the first false */
        if (t <= 0) {
            if (t < 0)
                Py_CLEAR(res);
            break;
        }
    }
    Py_XDECREF(left);
    return res;
}

/* An f-string field's conversion (!s, !r, !a; -1 for none); steals v. */
static PyObject *
format_convert(PyObject *v, int conversion)
{
    if (conversion == -1)
        return v;
    PyObject *r = conversion == 's' ? PyObject_Str(v)
                : conversion == 'r' ? PyObject_Repr(v) : PyObject_ASCII(v);
    Py_DECREF(v);
    return r;
}

static PyObject *
eval_node(CondNode *n, Scope *s)
{
    PyObject *a, *b, *r, **vals;
    switch (n->kind) {
    case N_CONST:
        return Py_NewRef(n->obj);
    case N_NAME:
        return load_name(s, n->obj);
    case N_ATTR:
        a = eval_node(n->kids[0], s);
        if (!a)
            return NULL;
        r = PyObject_GetAttr(a, n->obj);
        Py_DECREF(a);
        return r;
    case N_SUBSCR:
    case N_BINOP:
        a = eval_node(n->kids[0], s);
        b = a ? eval_node(n->kids[1], s) : NULL;
        r = !b ? NULL : n->kind == N_SUBSCR ? PyObject_GetItem(a, b) : binop(n->op, a, b);
        Py_XDECREF(a);
        Py_XDECREF(b);
        return r;
    case N_SLICE: {
        PyObject *part[3] = {NULL, NULL, NULL};
        for (int i = 0; i < 3; i++) {
            if (n->kids[i] && !(part[i] = eval_node(n->kids[i], s))) {
                Py_XDECREF(part[0]);
                Py_XDECREF(part[1]);
                return NULL;
            }
        }
        r = PySlice_New(part[0], part[1], part[2]);
        for (int i = 0; i < 3; i++)
            Py_XDECREF(part[i]);
        return r;
    }
    case N_UNARY:
        a = eval_node(n->kids[0], s);
        if (!a)
            return NULL;
        if (n->op == U_NOT) {
            int t = PyObject_Not(a);
            r = t < 0 ? NULL : Py_NewRef(t ? Py_True : Py_False);
        } else {
            r = n->op == U_NEG ? PyNumber_Negative(a) : n->op == U_POS ? PyNumber_Positive(a) : PyNumber_Invert(a);
        }
        Py_DECREF(a);
        return r;
    case N_AND:
    case N_OR:
        /* The value of the first operand that decides, as Python's and/or. */
        for (int i = 0; i < n->n; i++) {
            a = eval_node(n->kids[i], s);
            if (!a || i == n->n - 1)
                return a;
            int t = PyObject_IsTrue(a);
            if (t < 0 || t == (n->kind == N_OR)) {
                if (t < 0)
                    Py_CLEAR(a);
                return a;
            }
            Py_DECREF(a);
        }
        /* Not reached (a BoolOp has two or more values); keep NULL's meaning. */
        PyErr_SetString(PyExc_SystemError, "empty boolean operation");
        return NULL;
    case N_COMPARE:
        return eval_compare(n, s);
    case N_CALL:
        vals = eval_kids(n, 0, s);
        if (!vals)
            return NULL;
        /* keyword values last, their names in n->obj, as CALL_KW passes them */
        r = PyObject_Vectorcall(vals[0], vals + 1, (size_t)(n->n - 1 - n->op), n->obj);
        free_vals(vals, n->n);
        return r;
    case N_IFEXP: {
        a = eval_node(n->kids[0], s);
        if (!a)
            return NULL;
        int t = PyObject_IsTrue(a);
        Py_DECREF(a);
        return t < 0 ? NULL : eval_node(n->kids[t ? 1 : 2], s);
    }
    case N_FORMAT: {
        /* 3.13 (CONVERT_VALUE, then FORMAT_WITH_SPEC): the value, its
         * conversion, then the spec; 3.11/3.12 (FORMAT_VALUE): the value and
         * the spec, then the conversion. Then format(). */
        a = eval_node(n->kids[0], s);
#if SLEUTH_PY313
        a = a ? format_convert(a, n->op) : NULL;
        b = a && n->kids[1] ? eval_node(n->kids[1], s) : NULL;
#else
        b = a && n->kids[1] ? eval_node(n->kids[1], s) : NULL;
        if (a && n->kids[1] && !b)
            Py_CLEAR(a);   /* the spec raised: no conversion runs */
        a = a ? format_convert(a, n->op) : NULL;
#endif
        r = !a || (n->kids[1] && !b) ? NULL : PyObject_Format(a, b);
        Py_XDECREF(a);
        Py_XDECREF(b);
        return r;
    }
    case N_FSTRING: {
        /* One part is the value itself (no BUILD_STRING: a str subclass that
         * __format__ returned stays one); more are joined. */
        if (n->n == 1)
            return eval_node(n->kids[0], s);
        vals = eval_kids(n, 0, s);
        if (!vals)
            return NULL;
        PyObject *sep = PyUnicode_FromStringAndSize(NULL, 0);
        PyObject *parts = sep ? PyTuple_New(n->n) : NULL;
        for (int i = 0; parts && i < n->n; i++)
            PyTuple_SET_ITEM(parts, i, Py_NewRef(vals[i]));
        r = parts ? PyUnicode_Join(sep, parts) : NULL;
        Py_XDECREF(parts);
        Py_XDECREF(sep);
        free_vals(vals, n->n);
        return r;
    }
    case N_SET:
    case N_DICT:
        /* every element first (a dict: key, then its value), then built in
         * order, as BUILD_SET and BUILD_MAP do */
        vals = eval_kids(n, 0, s);
        if (!vals)
            return NULL;
        r = n->kind == N_SET ? PySet_New(NULL) : PyDict_New();
        for (int i = 0; r && i < n->n; i += n->kind == N_SET ? 1 : 2) {
            if ((n->kind == N_SET ? PySet_Add(r, vals[i])
                                  : PyDict_SetItem(r, vals[i], vals[i + 1])) < 0)
                Py_CLEAR(r);
        }
        free_vals(vals, n->n);
        return r;
    default:   /* N_TUPLE, N_LIST */
        vals = eval_kids(n, 0, s);
        if (!vals)
            return NULL;
        r = n->kind == N_TUPLE ? PyTuple_New(n->n) : PyList_New(n->n);
        for (int i = 0; r && i < n->n; i++) {
            if (n->kind == N_TUPLE)
                PyTuple_SET_ITEM(r, i, Py_NewRef(vals[i]));
            else
                PyList_SET_ITEM(r, i, Py_NewRef(vals[i]));
        }
        free_vals(vals, n->n);
        return r;
    }
}

PyObject *
Cond_eval(CondNode *node, PyObject *globals, PyObject *locals)
{
    if (!PyDict_Check(globals)) {
        PyErr_SetString(PyExc_TypeError, "globals must be a dict");
        return NULL;
    }
    Scope s = {globals, locals, NULL};
    node->refs++;
    PyObject *r = eval_node(node, &s);
    Cond_free(node);
    return r;
}

PyObject *
Cond_eval_frame(CondNode *node, PyObject *globals, PyObject *frame)
{
    if (!PyDict_Check(globals)) {
        PyErr_SetString(PyExc_TypeError, "globals must be a dict");
        return NULL;
    }
    Scope s = {globals, NULL, (PyFrameObject *)frame};
    node->refs++;
    PyObject *r = eval_node(node, &s);
    Cond_free(node);
    return r;
}
