/* rd_passes.c — splitting an input into removable units (rd_passes.h).
 *
 * Sections: units and building; a small lexer (words, strings, punctuation,
 * comments) shared by the generic, Python and JSON passes; generic passes
 * (lines, indentation blocks, bracket contents, tokens, bytes); Python
 * (statements, body -> pass, arguments); JSON (members, hoisting); CSV (rows,
 * columns); format detection and the default pass lists.
 */
#define _GNU_SOURCE   /* posix_spawn_file_actions_addchdir_np, pipe2, nftw */
#include "rd_passes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ==== units ================================================================ */

void
rd_units_clear(RdUnits *u)
{
    u->n = 0;
    u->count = 0;
    u->arena.len = 0;
}

void
rd_units_free(RdUnits *u)
{
    free(u->v);
    u->v = NULL;
    u->n = u->cap = u->count = 0;
    rd_buf_free(&u->arena);
}

static int
add_edit(RdUnits *u, size_t start, size_t end, int repl, size_t src, size_t src_len)
{
    if (u->n == u->cap) {
        size_t ncap = u->cap ? u->cap * 2 : 64;
        RdEdit *nv = realloc(u->v, ncap * sizeof *nv);
        if (!nv) {
            errno = ENOMEM;
            return -1;
        }
        u->v = nv;
        u->cap = ncap;
    }
    RdEdit *e = &u->v[u->n++];
    e->start = start;
    e->end = end;
    e->repl = repl;
    e->src = src;
    e->src_len = src_len;
    u->count = u->n;
    return 0;
}

static int
add_delete(RdUnits *u, size_t start, size_t end)
{
    if (end <= start)
        return 0;
    return add_edit(u, start, end, RD_REPL_NONE, 0, 0);
}

static int
apply_edits(const unsigned char *p, size_t n, const RdUnits *u, size_t lo,
            size_t hi, RdBuf *out)
{
    size_t pos = 0;
    out->len = 0;
    for (size_t i = lo; i < hi && i < u->n; i++) {
        const RdEdit *e = &u->v[i];
        if (e->start < pos)   /* overlapping edit: never produced together */
            continue;
        if (rd_buf_append(out, p + pos, e->start - pos) < 0)
            return -1;
        if (e->repl == RD_REPL_SPAN) {
            if (rd_buf_append(out, p + e->src, e->src_len) < 0)
                return -1;
        }
        else if (e->repl == RD_REPL_TEXT) {
            if (rd_buf_append(out, u->arena.data + e->src, e->src_len) < 0)
                return -1;
        }
        pos = e->end;
    }
    return rd_buf_append(out, p + pos, n - pos);
}

int
rd_pass_build(const RdPass *pass, const unsigned char *p, size_t n,
              const RdUnits *u, size_t lo, size_t hi, RdBuf *out)
{
    int rc = pass->build ? pass->build(p, n, u, lo, hi, out)
                         : apply_edits(p, n, u, lo, hi, out);
    if (rc == 0 && pass->fixup)
        rc = pass->fixup(out);
    return rc;
}

/* ==== lexer ================================================================ */

enum { TK_WORD, TK_STR, TK_PUNCT, TK_SPACE, TK_NL, TK_COMMENT };
enum { LEX_GENERIC, LEX_PYTHON, LEX_JSON };

typedef struct {
    size_t start, end;
    int kind;
    int depth;      /* bracket depth before this token */
    long match;     /* for brackets: index of the matching token, else -1 */
} Tok;

typedef struct {
    Tok *v;
    size_t n, cap;
    int max_depth;
} Toks;

static int
is_word(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static int
push_tok(Toks *t, size_t start, size_t end, int kind)
{
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 256;
        Tok *nv = realloc(t->v, ncap * sizeof *nv);
        if (!nv) {
            errno = ENOMEM;
            return -1;
        }
        t->v = nv;
        t->cap = ncap;
    }
    t->v[t->n].start = start;
    t->v[t->n].end = end;
    t->v[t->n].kind = kind;
    t->v[t->n].depth = 0;
    t->v[t->n].match = -1;
    t->n++;
    return 0;
}

/* End of a string literal starting at I (the quote), or 0 if it is not a
 * string (an unterminated single-line quote is then punctuation). */
static size_t
scan_string(const unsigned char *p, size_t n, size_t i, int mode)
{
    unsigned char q = p[i];
    if (mode == LEX_PYTHON && i + 2 < n && p[i + 1] == q && p[i + 2] == q) {
        size_t j = i + 3;
        while (j < n) {
            if (p[j] == '\\') {
                j += 2;
                continue;
            }
            if (j + 2 < n + 0 && p[j] == q && p[j + 1] == q && p[j + 2] == q)
                return j + 3;
            j++;
        }
        return n;
    }
    for (size_t j = i + 1; j < n; j++) {
        if (p[j] == '\\') {
            j++;
            continue;
        }
        if (p[j] == '\n' && mode != LEX_JSON)
            return 0;
        if (p[j] == q)
            return j + 1;
    }
    return 0;
}

static void
toks_free(Toks *t)
{
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

static int
lex(const unsigned char *p, size_t n, int mode, Toks *t)
{
    size_t i = 0;
    t->n = 0;
    t->max_depth = 0;
    while (i < n) {
        unsigned char c = p[i];
        size_t j = i + 1;
        int kind;
        if (c == '\n')
            kind = TK_NL;
        else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            while (j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r' ||
                             p[j] == '\f' || p[j] == '\v'))
                j++;
            kind = TK_SPACE;
        }
        else if (c == '#' && mode == LEX_PYTHON) {
            while (j < n && p[j] != '\n')
                j++;
            kind = TK_COMMENT;
        }
        else if (c == '"' || (c == '\'' && mode != LEX_JSON)) {
            size_t e = scan_string(p, n, i, mode);
            if (e) {
                j = e;
                kind = TK_STR;
            }
            else
                kind = TK_PUNCT;
        }
        else if (is_word(c)) {
            while (j < n && is_word(p[j]))
                j++;
            kind = TK_WORD;
        }
        else
            kind = TK_PUNCT;
        if (push_tok(t, i, j, kind) < 0)
            return -1;
        i = j;
    }
    /* Match brackets; a closer that does not match the innermost opener is
     * ignored rather than trusted. */
    {
        long *stack = malloc((t->n + 1) * sizeof *stack);
        size_t sp = 0;
        if (!stack) {
            errno = ENOMEM;
            return -1;
        }
        for (size_t k = 0; k < t->n; k++) {
            Tok *tk = &t->v[k];
            tk->depth = (int)sp;
            if (tk->kind != TK_PUNCT)
                continue;
            unsigned char ch = p[tk->start];
            int json_ok = mode != LEX_JSON || ch != '(';
            if ((ch == '(' || ch == '[' || ch == '{') && json_ok) {
                stack[sp++] = (long)k;
                if ((int)sp > t->max_depth)
                    t->max_depth = (int)sp;
            }
            else if ((ch == ')' || ch == ']' || ch == '}') && sp) {
                unsigned char open = p[t->v[stack[sp - 1]].start];
                if ((ch == ')' && open == '(') || (ch == ']' && open == '[') ||
                    (ch == '}' && open == '{')) {
                    sp--;
                    tk->depth = (int)sp;
                    tk->match = stack[sp];
                    t->v[stack[sp]].match = (long)k;
                }
            }
        }
        /* Unclosed openers are not brackets. */
        for (size_t k = 0; k < sp; k++)
            t->v[stack[k]].match = -1;
        free(stack);
    }
    return 0;
}

/* ==== generic passes ======================================================= */

static int
split_lines(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    if (level > 0)
        return 1;
    size_t s = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            if (add_delete(out, s, i + 1) < 0)
                return -1;
            s = i + 1;
        }
    }
    return add_delete(out, s, n) < 0 ? -1 : 0;
}

/* Bytes need no edit list (it would be 40 bytes per input byte): unit i
 * is byte i, and build() cuts [lo, hi) directly. */
static int
split_bytes(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    (void)p;
    if (level > 0)
        return 1;
    out->n = 0;
    out->count = n;
    return 0;
}

static int
build_bytes(const unsigned char *p, size_t n, const RdUnits *u, size_t lo,
            size_t hi, RdBuf *out)
{
    (void)u;
    out->len = 0;
    if (rd_buf_append(out, p, lo) < 0)
        return -1;
    return rd_buf_append(out, p + hi, n - hi);
}

static int
split_tokens_mode(const unsigned char *p, size_t n, int level, RdUnits *out, int mode)
{
    Toks t = {0};
    int rc = -1;
    if (level > 0)
        return 1;
    if (lex(p, n, mode, &t) < 0)
        goto done;
    /* A unit is a token with the blanks that follow it. */
    for (size_t k = 0; k < t.n; k++) {
        if (t.v[k].kind == TK_SPACE || t.v[k].kind == TK_NL)
            continue;
        size_t end = t.v[k].end;
        size_t j = k + 1;
        while (j < t.n && (t.v[j].kind == TK_SPACE))
            end = t.v[j++].end;
        if (add_delete(out, t.v[k].start, end) < 0)
            goto done;
    }
    rc = 0;
done:
    toks_free(&t);
    return rc;
}

/* Runs of blanks outside string literals: cheap to drop all at once when
 * the test ignores layout (JSON, CSV, most text). */
static int
split_blanks(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    Toks t = {0};
    int rc = -1;
    if (level > 0)
        return 1;
    if (lex(p, n, LEX_PYTHON, &t) < 0)
        goto done;
    for (size_t k = 0; k < t.n; k++) {
        if (t.v[k].kind != TK_SPACE && t.v[k].kind != TK_NL)
            continue;
        size_t s = t.v[k].start;
        while (k + 1 < t.n && (t.v[k + 1].kind == TK_SPACE || t.v[k + 1].kind == TK_NL))
            k++;
        if (add_delete(out, s, t.v[k].end) < 0)
            goto done;
    }
    rc = 0;
done:
    toks_free(&t);
    return rc;
}

static int
split_tokens(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    return split_tokens_mode(p, n, level, out, LEX_PYTHON);
}

/* Contents of bracket pairs at nesting LEVEL: "f(a, b)" -> "f()" -> "f". */
static int
split_brackets_mode(const unsigned char *p, size_t n, int level, RdUnits *out, int mode)
{
    Toks t = {0};
    int rc = -1;
    if (lex(p, n, mode, &t) < 0)
        goto done;
    if (level >= t.max_depth) {
        rc = 1;
        goto done;
    }
    for (size_t k = 0; k < t.n; k++) {
        Tok *tk = &t.v[k];
        if (tk->match > (long)k && tk->depth == level) {
            /* Empty the pair; an empty pair goes as a whole ("class A():"
             * -> "class A:"), which no single-byte removal can do. */
            Tok *close = &t.v[tk->match];
            int empty = close->start == tk->end;
            if (add_delete(out, empty ? tk->start : tk->end,
                           empty ? close->end : close->start) < 0)
                goto done;
        }
    }
    rc = 0;
done:
    toks_free(&t);
    return rc;
}

static int
split_brackets(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    return split_brackets_mode(p, n, level, out, LEX_PYTHON);
}

/* ---- indentation structure (generic blocks and Python statements) -------- */

typedef struct {
    size_t start, end;     /* line start of the first line; after its newline */
    size_t body_indent_end;
    int indent;
    int header;            /* ends with ':' (Python) */
    int depth;
    size_t block_end;      /* start of the next statement not nested in it */
} Stmt;

typedef struct {
    Stmt *v;
    size_t n, cap;
    int max_depth;
} Stmts;

static int
push_stmt(Stmts *s, size_t start, size_t end, int indent, int header)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 128;
        Stmt *nv = realloc(s->v, ncap * sizeof *nv);
        if (!nv) {
            errno = ENOMEM;
            return -1;
        }
        s->v = nv;
        s->cap = ncap;
    }
    Stmt *st = &s->v[s->n++];
    memset(st, 0, sizeof *st);
    st->start = start;
    st->end = end;
    st->indent = indent;
    st->header = header;
    return 0;
}

static int
indent_of(const unsigned char *p, size_t n, size_t line_start, size_t *text_start)
{
    int col = 0;
    size_t i = line_start;
    while (i < n && (p[i] == ' ' || p[i] == '\t')) {
        col = p[i] == '\t' ? (col / 8 + 1) * 8 : col + 1;
        i++;
    }
    if (text_start)
        *text_start = i;
    return col;
}

/* Statements: non-blank physical lines, or (LOGICAL) Python logical lines
 * that span bracketed continuation lines, backslashes and triple-quoted
 * strings. Comment-only and blank lines belong to the statement before. */
static int
collect_stmts(const unsigned char *p, size_t n, int logical, Stmts *s)
{
    Toks t = {0};
    int rc = -1;
    s->n = 0;
    s->max_depth = 0;
    if (!logical) {
        size_t ls = 0;
        while (ls < n) {
            size_t le = ls;
            while (le < n && p[le] != '\n')
                le++;
            size_t ts;
            int ind = indent_of(p, n, ls, &ts);
            int blank = 1;
            for (size_t i = ts; i < le; i++)
                if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
                    blank = 0;
            if (!blank && push_stmt(s, ls, le < n ? le + 1 : n, ind, 0) < 0)
                goto done;
            ls = le < n ? le + 1 : n;
        }
    }
    else {
        if (lex(p, n, LEX_PYTHON, &t) < 0)
            goto done;
        size_t k = 0;
        while (k < t.n) {
            /* Skip blank and comment-only lines. */
            size_t first = k;
            while (first < t.n && (t.v[first].kind == TK_SPACE ||
                                   t.v[first].kind == TK_COMMENT ||
                                   t.v[first].kind == TK_NL))
                first++;
            if (first >= t.n)
                break;
            size_t ls = t.v[first].start;
            while (ls > 0 && p[ls - 1] != '\n')
                ls--;
            /* Find the NL that ends the logical line. */
            size_t j = first;
            long last_sig = -1;
            size_t end = n;
            for (; j < t.n; j++) {
                Tok *tk = &t.v[j];
                if (tk->kind == TK_NL) {
                    int cont = tk->depth > 0 && t.v[j].depth > 0;
                    /* backslash continuation */
                    if (j > 0 && t.v[j - 1].kind == TK_PUNCT && p[t.v[j - 1].start] == '\\')
                        cont = 1;
                    if (!cont) {
                        end = tk->end;
                        break;
                    }
                }
                else if (tk->kind != TK_SPACE && tk->kind != TK_COMMENT)
                    last_sig = (long)j;
            }
            int header = last_sig >= 0 && t.v[last_sig].kind == TK_PUNCT &&
                         p[t.v[last_sig].start] == ':';
            if (push_stmt(s, ls, end, indent_of(p, n, ls, NULL), header) < 0)
                goto done;
            k = j < t.n ? j + 1 : t.n;
        }
    }
    /* Depth (number of enclosing blocks) and block extent. */
    {
        int *stack = malloc((s->n + 1) * sizeof *stack);
        size_t sp = 0;
        if (!stack) {
            errno = ENOMEM;
            goto done;
        }
        for (size_t i = 0; i < s->n; i++) {
            while (sp && stack[sp - 1] >= s->v[i].indent)
                sp--;
            s->v[i].depth = (int)sp;
            if (s->v[i].depth > s->max_depth)
                s->max_depth = s->v[i].depth;
            stack[sp++] = s->v[i].indent;
        }
        /* A block ends where the next statement indented no deeper than
         * its first line starts: one pass with a stack of open blocks. */
        free(stack);
        size_t *open = malloc((s->n + 1) * sizeof *open);
        if (!open) {
            errno = ENOMEM;
            goto done;
        }
        sp = 0;
        for (size_t j = 0; j < s->n; j++) {
            while (sp && s->v[open[sp - 1]].indent >= s->v[j].indent)
                s->v[open[--sp]].block_end = s->v[j].start;
            open[sp++] = j;
        }
        while (sp)
            s->v[open[--sp]].block_end = n;
        free(open);
    }
    rc = 0;
done:
    toks_free(&t);
    return rc;
}

static int
split_blocks_mode(const unsigned char *p, size_t n, int level, RdUnits *out, int logical)
{
    Stmts s = {0};
    int rc = -1;
    if (collect_stmts(p, n, logical, &s) < 0)
        goto done;
    if (level > s.max_depth) {
        rc = 1;
        goto done;
    }
    for (size_t i = 0; i < s.n; i++) {
        if (s.v[i].depth != level)
            continue;
        /* The first statement at depth 0 also takes what precedes it. */
        size_t start = (i == 0) ? 0 : s.v[i].start;
        if (add_delete(out, start, s.v[i].block_end) < 0)
            goto done;
    }
    rc = 0;
done:
    free(s.v);
    return rc;
}

static int
split_blocks(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    return split_blocks_mode(p, n, level, out, 0);
}

/* ==== Python =============================================================== */

static int
split_py_stmts(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    return split_blocks_mode(p, n, level, out, 1);
}

/* Body of a block -> "pass", one nesting level at a time. */
static int
split_py_pass(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    Stmts s = {0};
    int rc = -1;
    if (collect_stmts(p, n, 1, &s) < 0)
        goto done;
    if (level > s.max_depth) {
        rc = 1;
        goto done;
    }
    for (size_t i = 0; i + 1 < s.n; i++) {
        Stmt *h = &s.v[i];
        if (h->depth != level || !h->header)
            continue;
        Stmt *b = &s.v[i + 1];
        if (b->indent <= h->indent)
            continue;
        size_t body_start = h->end, body_end = h->block_end;
        size_t ts;
        indent_of(p, n, b->start, &ts);
        size_t off = out->arena.len;
        if (rd_buf_append(&out->arena, p + b->start, ts - b->start) < 0 ||
            rd_buf_append_str(&out->arena, "pass\n") < 0)
            goto done;
        size_t len = out->arena.len - off;
        if (body_end - body_start == len &&
            memcmp(p + body_start, out->arena.data + off, len) == 0) {
            out->arena.len = off;   /* already "pass" */
            continue;
        }
        if (add_edit(out, body_start, body_end, RD_REPL_TEXT, off, len) < 0)
            goto done;
    }
    rc = 0;
done:
    free(s.v);
    return rc;
}

/* Elements of comma-separated lists inside brackets at nesting LEVEL: call
 * arguments, parameters, list/dict/set items; JSON members and elements.
 * Unit i (but the last) is the element and the comma after it; the last unit
 * is the last element alone, so removing units never creates ",," and at
 * worst leaves a trailing comma (legal in Python, repaired for JSON). */
static int
split_commalist_mode(const unsigned char *p, size_t n, int level, RdUnits *out, int mode)
{
    Toks t = {0};
    int rc = -1;
    if (lex(p, n, mode, &t) < 0)
        goto done;
    if (level >= t.max_depth) {
        rc = 1;
        goto done;
    }
    for (size_t k = 0; k < t.n; k++) {
        Tok *open = &t.v[k];
        if (open->match <= (long)k || open->depth != level)
            continue;
        size_t close = (size_t)open->match;
        size_t elem_start = open->end;
        for (size_t j = k + 1; j < close; j++) {
            Tok *tk = &t.v[j];
            if (tk->depth != level + 1 || tk->kind != TK_PUNCT || p[tk->start] != ',')
                continue;
            if (add_delete(out, elem_start, tk->end) < 0)
                goto done;
            elem_start = tk->end;
        }
        /* Last element, unless blank (a trailing comma). */
        size_t e = t.v[close].start;
        int blank = 1;
        for (size_t i = elem_start; i < e; i++)
            if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
                blank = 0;
        if (!blank && add_delete(out, elem_start, e) < 0)
            goto done;
    }
    rc = 0;
done:
    toks_free(&t);
    return rc;
}

static int
split_py_args(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    return split_commalist_mode(p, n, level, out, LEX_PYTHON);
}

/* ==== JSON ================================================================= */

static int
split_json_members(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    return split_commalist_mode(p, n, level, out, LEX_JSON);
}

static int
is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Replace a container by one of its values: {"a": {"b": 1}} -> {"b": 1}.
 * Outer containers first, so the biggest jumps are tried first. */
static int
split_json_hoist(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    Toks t = {0};
    int rc = -1;
    if (level > 0)
        return 1;
    if (lex(p, n, LEX_JSON, &t) < 0)
        goto done;
    for (size_t k = 0; k < t.n; k++) {
        Tok *open = &t.v[k];
        if (open->match <= (long)k)
            continue;
        size_t close = (size_t)open->match;
        int is_obj = p[open->start] == '{';
        size_t elem_start = open->end;
        long colon = -1;
        for (size_t j = k + 1; j <= close; j++) {
            Tok *tk = &t.v[j];
            int at_end = j == close;
            if (!at_end && tk->depth == open->depth + 1 && tk->kind == TK_PUNCT &&
                p[tk->start] == ':' && colon < 0)
                colon = (long)j;
            if (!at_end && (tk->depth != open->depth + 1 || tk->kind != TK_PUNCT ||
                            p[tk->start] != ','))
                continue;
            size_t vs = elem_start, ve = tk->start;
            if (is_obj)
                vs = colon >= 0 ? t.v[colon].end : ve;
            while (vs < ve && is_blank(p[vs]))
                vs++;
            while (ve > vs && is_blank(p[ve - 1]))
                ve--;
            if (ve > vs && add_edit(out, open->start, t.v[close].end, RD_REPL_SPAN,
                                    vs, ve - vs) < 0)
                goto done;
            elem_start = tk->end;
            colon = -1;
        }
    }
    rc = 0;
done:
    toks_free(&t);
    return rc;
}

/* Drops a comma (outside strings) that is followed only by blanks and a
 * closing bracket: what removing the last member leaves behind. */
static int
json_fixup(RdBuf *b)
{
    size_t w = 0;
    int in_str = 0;
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = b->data[i];
        if (in_str) {
            if (c == '\\' && i + 1 < b->len) {
                b->data[w++] = c;
                b->data[w++] = b->data[++i];
                continue;
            }
            if (c == '"')
                in_str = 0;
        }
        else if (c == '"')
            in_str = 1;
        else if (c == ',') {
            size_t j = i + 1;
            while (j < b->len && is_blank(b->data[j]))
                j++;
            if (j < b->len && (b->data[j] == ']' || b->data[j] == '}'))
                continue;
        }
        b->data[w++] = c;
    }
    b->len = w;
    return 0;
}

/* Strict RFC 8259 check, used to skip candidates a JSON-parsing test would
 * reject anyway. Iterative, so any nesting depth is fine. */
typedef struct {
    const unsigned char *p;
    size_t n, i;
} JScan;

static void
js_ws(JScan *s)
{
    while (s->i < s->n && is_blank(s->p[s->i]))
        s->i++;
}

static int
js_string(JScan *s)
{
    s->i++;   /* opening quote */
    while (s->i < s->n) {
        unsigned char c = s->p[s->i++];
        if (c == '"')
            return 1;
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (s->i >= s->n)
                return 0;
            c = s->p[s->i++];
            if (c == 'u') {
                for (int k = 0; k < 4; k++, s->i++)
                    if (s->i >= s->n || !strchr("0123456789abcdefABCDEF", s->p[s->i]) ||
                        !s->p[s->i])
                        return 0;
            }
            else if (!strchr("\"\\/bfnrt", c) || !c)
                return 0;
        }
    }
    return 0;
}

static int
js_digits(JScan *s)
{
    size_t st = s->i;
    while (s->i < s->n && s->p[s->i] >= '0' && s->p[s->i] <= '9')
        s->i++;
    return s->i > st;
}

static int
js_scalar(JScan *s)
{
    unsigned char c = s->p[s->i];
    if (c == '"')
        return js_string(s);
    static const char *words[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(words[k]);
        if (s->n - s->i >= l && memcmp(s->p + s->i, words[k], l) == 0) {
            s->i += l;
            return 1;
        }
    }
    if (c == '-')
        s->i++;
    if (s->i < s->n && s->p[s->i] == '0')
        s->i++;
    else if (!js_digits(s))
        return 0;
    if (s->i < s->n && s->p[s->i] == '.') {
        s->i++;
        if (!js_digits(s))
            return 0;
    }
    if (s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
        s->i++;
        if (s->i < s->n && (s->p[s->i] == '+' || s->p[s->i] == '-'))
            s->i++;
        if (!js_digits(s))
            return 0;
    }
    return 1;
}

int
rd_json_valid(const unsigned char *p, size_t n)
{
    JScan s = {p, n, 0};
    RdBuf stack = {0};      /* '{' or '[' per open container */
    int ok = 0;
    /* States: expecting a value, or after a value inside a container. */
    for (;;) {
        js_ws(&s);
        if (s.i >= n)
            goto done;
        unsigned char c = p[s.i];
        int in_obj = stack.len && stack.data[stack.len - 1] == '{';
        /* A value (for objects: a key, a colon, then a value). */
        if (c == '{' || c == '[') {
            s.i++;
            if (rd_buf_append(&stack, &c, 1) < 0)
                goto done;
            js_ws(&s);
            if (s.i < n && p[s.i] == (c == '{' ? '}' : ']')) {
                s.i++;
                stack.len--;
                goto after_value;
            }
            if (c == '{')
                goto key;
            continue;
        }
        if (!js_scalar(&s))
            goto done;
        (void)in_obj;
    after_value:
        js_ws(&s);
        if (!stack.len) {
            ok = s.i == n;
            goto done;
        }
        if (s.i >= n)
            goto done;
        c = p[s.i++];
        if (c == ',') {
            if (stack.data[stack.len - 1] == '{')
                goto key;
            continue;
        }
        if ((c == '}' && stack.data[stack.len - 1] == '{') ||
            (c == ']' && stack.data[stack.len - 1] == '[')) {
            stack.len--;
            goto after_value;
        }
        goto done;
    key:
        js_ws(&s);
        if (s.i >= n || p[s.i] != '"' || !js_string(&s))
            goto done;
        js_ws(&s);
        if (s.i >= n || p[s.i] != ':')
            goto done;
        s.i++;
    }
done:
    rd_buf_free(&stack);
    return ok;
}

/* ==== CSV ================================================================== */

typedef struct {
    size_t start, end;       /* the row without its line terminator */
    size_t term_end;         /* after the terminator */
} CsvRow;

static size_t
csv_rows(const unsigned char *p, size_t n, CsvRow **rows_out)
{
    size_t cap = 256, nr = 0;
    CsvRow *rows = malloc(cap * sizeof *rows);
    size_t i = 0;
    if (!rows)
        return (size_t)-1;
    while (i < n) {
        size_t s = i;
        int q = 0;
        while (i < n && (q || p[i] != '\n')) {
            if (p[i] == '"')
                q = !q;
            i++;
        }
        size_t e = i;
        if (e > s && p[e - 1] == '\r')
            e--;
        if (i < n)
            i++;
        if (nr == cap) {
            cap *= 2;
            CsvRow *nrw = realloc(rows, cap * sizeof *nrw);
            if (!nrw) {
                free(rows);
                return (size_t)-1;
            }
            rows = nrw;
        }
        rows[nr].start = s;
        rows[nr].end = e;
        rows[nr].term_end = i;
        nr++;
    }
    *rows_out = rows;
    return nr;
}

static unsigned char
csv_delim(const unsigned char *p, size_t n)
{
    size_t counts[3] = {0, 0, 0};
    const unsigned char cand[3] = {',', ';', '\t'};
    int q = 0;
    for (size_t i = 0; i < n && (q || p[i] != '\n'); i++) {
        if (p[i] == '"')
            q = !q;
        for (int k = 0; k < 3; k++)
            if (!q && p[i] == cand[k])
                counts[k]++;
    }
    int best = 0;
    for (int k = 1; k < 3; k++)
        if (counts[k] > counts[best])
            best = k;
    return cand[best];
}

static int
split_csv_rows(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    CsvRow *rows = NULL;
    int rc = -1;
    if (level > 0)
        return 1;
    size_t nr = csv_rows(p, n, &rows);
    if (nr == (size_t)-1) {
        errno = ENOMEM;
        return -1;
    }
    for (size_t r = 1; r < nr; r++)     /* the header row stays */
        if (add_delete(out, rows[r].start, rows[r].term_end) < 0)
            goto done;
    rc = 0;
done:
    free(rows);
    return rc;
}

static int
split_csv_cols(const unsigned char *p, size_t n, int level, RdUnits *out)
{
    if (level > 0)
        return 1;
    unsigned char d = csv_delim(p, n);
    size_t fields = 1;
    int q = 0;
    int any = 0;
    for (size_t i = 0; i < n && (q || p[i] != '\n'); i++) {
        if (p[i] == '"')
            q = !q;
        else if (!q && p[i] == d)
            fields++;
        any = 1;
    }
    out->n = 0;
    out->count = (any && fields > 1) ? fields : 0;
    return 0;
}

/* Every row without its fields [lo, hi). */
static int
build_csv_cols(const unsigned char *p, size_t n, const RdUnits *u, size_t lo,
               size_t hi, RdBuf *out)
{
    (void)u;
    CsvRow *rows = NULL;
    unsigned char d = csv_delim(p, n);
    size_t nr = csv_rows(p, n, &rows);
    int rc = -1;
    if (nr == (size_t)-1) {
        errno = ENOMEM;
        return -1;
    }
    out->len = 0;
    for (size_t r = 0; r < nr; r++) {
        size_t f = 0, fs = rows[r].start;
        int q = 0, first = 1;
        for (size_t i = rows[r].start; i <= rows[r].end; i++) {
            int at_end = i == rows[r].end;
            if (!at_end && p[i] == '"')
                q = !q;
            if (!at_end && (q || p[i] != d))
                continue;
            if (f < lo || f >= hi) {
                if (!first && rd_buf_append(out, &d, 1) < 0)
                    goto done;
                if (rd_buf_append(out, p + fs, i - fs) < 0)
                    goto done;
                first = 0;
            }
            f++;
            fs = i + 1;
        }
        if (rd_buf_append(out, p + rows[r].end, rows[r].term_end - rows[r].end) < 0)
            goto done;
    }
    rc = 0;
done:
    free(rows);
    return rc;
}

/* ==== the pass table ======================================================= */

static const RdPass PASSES[] = {
    {"lines", "remove lines", 0, split_lines, NULL, NULL},
    {"blocks", "remove indentation blocks", 0, split_blocks, NULL, NULL},
    {"brackets", "empty bracket-balanced regions", 0, split_brackets, NULL, NULL},
    {"blanks", "remove runs of blanks (outside strings)", 0, split_blanks, NULL, NULL},
    {"tokens", "remove tokens", 0, split_tokens, NULL, NULL},
    {"bytes", "remove bytes", 0, split_bytes, build_bytes, NULL},
    {"py-stmts", "Python: remove statements and blocks", 0, split_py_stmts, NULL, NULL},
    {"py-pass", "Python: replace a block's body with pass", 0, split_py_pass, NULL, NULL},
    {"py-args", "Python: drop arguments, parameters and items", 0, split_py_args, NULL, NULL},
    {"json-members", "JSON: remove members and elements", 0, split_json_members, NULL, json_fixup},
    {"json-hoist", "JSON: replace a container by one of its values", 1, split_json_hoist, NULL, NULL},
    {"csv-rows", "CSV: remove rows (the header row stays)", 0, split_csv_rows, NULL, NULL},
    {"csv-cols", "CSV: remove columns", 0, split_csv_cols, build_csv_cols, NULL},
};

const RdPass *
rd_pass_find(const char *name)
{
    for (size_t i = 0; i < sizeof PASSES / sizeof PASSES[0]; i++)
        if (strcmp(PASSES[i].name, name) == 0)
            return &PASSES[i];
    return NULL;
}

const char *
rd_pass_names(void)
{
    return "lines, blocks, brackets, blanks, tokens, bytes, py-stmts, py-pass, py-args, "
           "json-members, json-hoist, csv-rows, csv-cols";
}

/* ==== formats ============================================================== */

static int
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int
looks_binary(const unsigned char *p, size_t n)
{
    size_t lim = n < 65536 ? n : 65536, odd = 0;
    for (size_t i = 0; i < lim; i++) {
        if (p[i] == 0)
            return 1;
        if (p[i] < 32 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' && p[i] != '\f')
            odd++;
    }
    return lim && odd * 10 > lim;
}

static int
looks_json(const unsigned char *p, size_t n)
{
    size_t a = 0, b = n;
    while (a < b && is_blank(p[a]))
        a++;
    while (b > a && is_blank(p[b - 1]))
        b--;
    if (b - a < 2 || !((p[a] == '{' && p[b - 1] == '}') || (p[a] == '[' && p[b - 1] == ']')))
        return 0;
    Toks t = {0};
    int ok = 0;
    if (lex(p, n, LEX_JSON, &t) == 0) {
        ok = 1;
        for (size_t k = 0; k < t.n && ok; k++) {
            Tok *tk = &t.v[k];
            if (tk->kind == TK_PUNCT) {
                unsigned char c = p[tk->start];
                if (strchr("{}[]:,-+.", c) == NULL)
                    ok = 0;
                if (strchr("{}[]", c) && tk->match < 0)
                    ok = 0;
            }
        }
    }
    toks_free(&t);
    return ok;
}

static int
looks_csv(const unsigned char *p, size_t n)
{
    /* At least two lines, and the first few have the same number (>= 1) of
     * delimiters. */
    unsigned char d = csv_delim(p, n);
    size_t i = 0, lines = 0, want = 0;
    while (i < n && lines < 5) {
        size_t c = 0;
        int q = 0;
        while (i < n && (q || p[i] != '\n')) {
            if (p[i] == '"')
                q = !q;
            else if (!q && p[i] == d)
                c++;
            i++;
        }
        i++;
        if (lines == 0)
            want = c;
        else if (c != want)
            return 0;
        lines++;
    }
    return lines >= 2 && want >= 1;
}

static int
looks_python(const unsigned char *p, size_t n)
{
    static const char *starts[] = {"def ", "class ", "import ", "from ", "async def ", NULL};
    size_t ls = 0;
    while (ls < n) {
        for (int k = 0; starts[k]; k++) {
            size_t l = strlen(starts[k]);
            if (n - ls >= l && memcmp(p + ls, starts[k], l) == 0)
                return 1;
        }
        while (ls < n && p[ls] != '\n')
            ls++;
        ls++;
    }
    return 0;
}

const char *
rd_detect_format(const char *path, const unsigned char *p, size_t n)
{
    if (looks_binary(p, n))
        return "binary";
    if (ends_with(path, ".py") || ends_with(path, ".pyi") || ends_with(path, ".pyw"))
        return "python";
    if (ends_with(path, ".json") || looks_json(p, n))
        return "json";
    if (ends_with(path, ".csv") || ends_with(path, ".tsv"))
        return "csv";
    if (looks_python(p, n))
        return "python";
    if (looks_csv(p, n))
        return "csv";
    return "text";
}

int
rd_format_valid(const char *format)
{
    static const char *names[] = {"python", "json", "csv", "text", "binary", NULL};
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], format) == 0)
            return 1;
    return 0;
}

size_t
rd_default_passes(const char *format, const RdPass **out, size_t max)
{
    static const char *python[] = {"py-stmts", "py-pass", "lines", "py-args",
                                   "brackets", "tokens", "bytes", NULL};
    static const char *json[] = {"json-members", "json-hoist", "lines", "blanks",
                                 "tokens", "bytes", NULL};
    static const char *csv[] = {"csv-rows", "csv-cols", "lines", "blanks", "tokens",
                                "bytes", NULL};
    static const char *text[] = {"lines", "blocks", "brackets", "blanks", "tokens",
                                 "bytes", NULL};
    static const char *binary[] = {"bytes", NULL};
    const char **list = text;
    if (strcmp(format, "python") == 0)
        list = python;
    else if (strcmp(format, "json") == 0)
        list = json;
    else if (strcmp(format, "csv") == 0)
        list = csv;
    else if (strcmp(format, "binary") == 0)
        list = binary;
    size_t k = 0;
    for (; list[k] && k < max; k++)
        out[k] = rd_pass_find(list[k]);
    return k;
}
