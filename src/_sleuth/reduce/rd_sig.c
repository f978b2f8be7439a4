/* rd_sig.c — the signature of a failure (rd_sig.h).
 *
 * The last "Traceback (most recent call last):" header in the output starts
 * the traceback that ended the program (chained ones come before it). Its
 * frames are the lines `<prefix>  File "F", line N, in FUNC`, the last being
 * the innermost; the exception line is the next one that starts at the
 * header's own column. The prefix is the spaces and bars right before the
 * header ("  | " inside an exception group), so nested tracebacks parse the
 * same way; other text before it on its line (output that did not end with a
 * newline) is not part of it.
 */
#define _GNU_SOURCE   /* memmem */
#include "rd_sig.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static const char HEADER[] = "Traceback (most recent call last):";

/* Copy at most n bytes of s into dst (size cap), NUL-terminated. */
static void
copy_field(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static const char *
last_header(const char *out, size_t len)
{
    const char *found = NULL, *p = out, *end = out + len;
    size_t hl = sizeof HEADER - 1;
    while (p + hl <= end) {
        const char *q = memmem(p, (size_t)(end - p), HEADER, hl);
        if (!q)
            break;
        found = q;
        p = q + hl;
    }
    return found;
}

void
rd_sig_read(RdSig *sig, int status, const char *out, size_t len, const char *cand)
{
    memset(sig, 0, sizeof *sig);
    sig->status = status;
    const char *h = out ? last_header(out, len) : NULL;
    if (!h)
        return;
    const char *end = out + len;
    /* The prefix: the spaces and group bars right before the header (output
     * without a final newline may stand before them on the same line). */
    const char *ls = h;
    while (ls > out && (ls[-1] == ' ' || ls[-1] == '|' || ls[-1] == '+'))
        ls--;
    size_t col = (size_t)(h - ls);
    int frames = 0;
    const char *line = memchr(h, '\n', (size_t)(end - h));
    while (line && ++line < end) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        size_t n = eol ? (size_t)(eol - line) : (size_t)(end - line);
        if (n > col && memcmp(line, ls, col) == 0) {
            const char *c = line + col;
            size_t m = n - col;
            static const char FILE_[] = "  File \"";
            if (m > sizeof FILE_ - 1 && memcmp(c, FILE_, sizeof FILE_ - 1) == 0) {
                const char *f = c + sizeof FILE_ - 1;
                const char *fe = memmem(f, m - (size_t)(f - c), "\", line ", 8);
                const char *in = fe ? memmem(fe, m - (size_t)(fe - c), ", in ", 5) : NULL;
                if (fe) {
                    size_t fl = (size_t)(fe - f);
                    if (cand && strlen(cand) == fl && memcmp(f, cand, fl) == 0)
                        copy_field(sig->file, sizeof sig->file, "INPUT", 5);
                    else
                        copy_field(sig->file, sizeof sig->file, f, fl);
                    if (in)
                        copy_field(sig->func, sizeof sig->func, in + 5, m - (size_t)(in + 5 - c));
                    else
                        sig->func[0] = '\0';
                    frames++;
                }
            }
            else if (frames && *c != ' ' && *c != '\t') {
                /* The exception line: its type ends at ':' (a message follows) or the line. */
                const char *colon = memchr(c, ':', m);
                size_t tl = colon ? (size_t)(colon - c) : m;
                while (tl && (c[tl - 1] == ' ' || c[tl - 1] == '\r'))
                    tl--;
                copy_field(sig->exc, sizeof sig->exc, c, tl);
                sig->have_tb = 1;
                return;
            }
        }
        line = eol;
    }
}

int
rd_sig_same(const RdSig *a, const RdSig *b)
{
    if (a->status != b->status)
        return 0;
    if (!a->have_tb)
        return 1;
    return b->have_tb && strcmp(a->exc, b->exc) == 0 && strcmp(a->file, b->file) == 0 &&
           strcmp(a->func, b->func) == 0;
}

void
rd_sig_describe(const RdSig *sig, char *buf, size_t len)
{
    char st[48];
    if (WIFEXITED(sig->status))
        snprintf(st, sizeof st, "exit status %d", WEXITSTATUS(sig->status));
    else if (WIFSIGNALED(sig->status))
        snprintf(st, sizeof st, "killed by signal %d", WTERMSIG(sig->status));
    else
        snprintf(st, sizeof st, "status %d", sig->status);
    if (!sig->have_tb) {
        snprintf(buf, len, "%s", st);
        return;
    }
    const char *base = strrchr(sig->file, '/');
    snprintf(buf, len, "%s, %s in %s() of %s", st, sig->exc, sig->func,
             base ? base + 1 : sig->file);
}
