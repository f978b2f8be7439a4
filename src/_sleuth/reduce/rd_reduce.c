/* rd_reduce.c — `sleuth reduce`: parallel delta debugging (rd_reduce.h).
 *
 * Sections: options; job slots (one temporary folder each) and verdicts;
 * eval_first, the speculative parallel evaluator; the ddmin loop of one pass;
 * the fixpoint over all passes; start-up checks; the command line.
 *
 * Determinism with parallel jobs: candidates of a sweep are numbered, N of
 * them run at once, and the reducer always adopts the lowest-numbered
 * candidate that still fails, once every lower-numbered one is known not to.
 * That is exactly what a sequential run would pick, so the result does not
 * depend on the number of jobs or on which test finishes first; tests still
 * running above the winner are killed and their verdicts discarded.
 *
 * Termination: a candidate is only tried when it is strictly smaller than the
 * current input, so every adopted change shrinks it.
 */
#define _GNU_SOURCE   /* posix_spawn_file_actions_addchdir_np, pipe2, nftw */
#include "rd_reduce.h"
#include "rd_cache.h"
#include "rd_passes.h"
#include "rd_proc.h"
#include "rd_sig.h"
#include "rd_util.h"
#include "termsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RD_MAX_JOBS 64
#define RD_MAX_PASSES 32
#define RD_SIG_TAIL (256 * 1024)   /* output bytes searched for the last traceback */

enum { V_NO = 0, V_YES = 1, V_PENDING = 2, V_UNKNOWN = 3 };
enum { ST_OK = 0, ST_STOP = -1 };   /* ST_STOP: interrupted or fatal */

typedef struct {
    RdProc proc;
    int busy;
    size_t index;        /* candidate number in the current sweep */
    int attempts;
    RdBuf cand;
    RdKey key;
    char dir[PATH_MAX];
    char file[PATH_MAX];
    char out[PATH_MAX];
    double started;
} Slot;

typedef struct {
    const char *prog;
    /* options */
    const char *test;
    const char *input;
    const char *output;
    const char *format;
    const char *passes_opt;
    const char *expect_re_src;
    int have_expect_exit, expect_exit;
    int jobs, retries, quiet, progress;
    double timeout;
    int timeout_given;
    regex_t expect_re;
    int have_re;
    int exit0;           /* --interestingness: exit 0 means "still fails" (C-Reduce) */
    int use_sig;         /* the default: fail the same way as the original */
    int sig_known;
    RdSig sig;
    /* state */
    RdBuf cur;
    size_t orig_len;
    char tmpdir[PATH_MAX];
    Slot slots[RD_MAX_JOBS];
    RdCache cache;
    size_t tests, cached, timeouts;
    double t0, last_progress, last_write;
    const char *pass_name;
    const RdPass *passes[RD_MAX_PASSES];
    size_t npasses;
    int fatal;           /* a fatal error was reported; exit 2 */
    int dirty_output;    /* cur not yet written to OUTPUT */
    int fixpoint;
    int debug;           /* SLEUTH_REDUCE_DEBUG: one line per pass run */
    RdParseFn python_parses;
    /* Set when the test rejects unparseable input: such candidates are then
     * answered "does not fail" without running the test. */
    RdParseFn valid;
    size_t filtered;
} Reducer;

/* ==== job slots ============================================================ */

static void
progress(Reducer *r, int force)
{
    if (!r->progress)
        return;
    double now = rd_now();
    if (!force && now - r->last_progress < 0.1)
        return;
    r->last_progress = now;
    double el = now - r->t0;
    fprintf(stderr, "\r\033[K%s: %zu/%zu bytes (%.0f%%), %zu tests (%.1f/s), %.1f s, pass %s",
            r->prog, r->cur.len, r->orig_len,
            r->orig_len ? 100.0 * (double)r->cur.len / (double)r->orig_len : 0.0,
            r->tests, el > 0 ? (double)r->tests / el : 0.0, el,
            r->pass_name ? r->pass_name : "check");
    fflush(stderr);
}

static void
clear_progress(Reducer *r)
{
    if (r->progress) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

static void
fail(Reducer *r, const char *fmt, const char *a, const char *b)
{
    clear_progress(r);
    fprintf(stderr, "%s: ", r->prog);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    fflush(stderr);
    r->fatal = 1;
}

static int
slot_launch(Reducer *r, Slot *s, const unsigned char *p, size_t n, size_t index)
{
    char *cmd = NULL;
    if (s->cand.data != p && rd_buf_set(&s->cand, p, n) < 0)
        goto oom;
    s->key = rd_key(p, n);
    s->index = index;
    /* A test may have deleted or chmod'ed the previous file. */
    unlink(s->file);
    if (rd_write_file(s->file, p, n) < 0) {
        fail(r, "cannot write a candidate to %s: %s", s->file, strerror(errno));
        return -1;
    }
    cmd = rd_subst_command(r->test, s->file);
    if (!cmd)
        goto oom;
    if (rd_proc_spawn_shell(&s->proc, cmd, NULL, s->out, r->timeout) < 0) {
        fail(r, "cannot start /bin/sh: %s%s", strerror(errno), "");
        free(cmd);
        return -1;
    }
    free(cmd);
    s->busy = 1;
    s->started = rd_now();
    r->tests++;
    return 0;
oom:
    fail(r, "out of memory%s%s", "", "");
    return -1;
}

static int
status_matches_exit(int status, int want)
{
    if (want >= 0)
        return WIFEXITED(status) && WEXITSTATUS(status) == want;
    /* A signal: killed directly, or reported by the shell as 128+N. */
    return (WIFSIGNALED(status) && WTERMSIG(status) == -want) ||
           (WIFEXITED(status) && WEXITSTATUS(status) == 128 - want);
}

/* --expect-output searches the test's output as a stream, one window at a
 * time, so memory stays at one window whatever the test prints (reading it
 * whole took 1.5 GB for 1.5 GB of output). Windows are RD_RE_WINDOW bytes and
 * overlap by RD_RE_OVERLAP: a match up to RD_RE_OVERLAP bytes long is found
 * wherever it is (it lies whole in the first window that reaches its end).
 * The byte before a window stays in the buffer and glibc's REG_STARTEND
 * sees it, so ^ (and \< \b) after it are judged as in the whole text; a
 * window that is not the last one ends after a newline when its second half
 * has one, so only a line longer than half a window can be cut, and there
 * the cut counts as the end of a word for GNU's \> and \b. */
#define RD_RE_WINDOW (1024 * 1024)
#define RD_RE_OVERLAP (64 * 1024)

/* 1 when RE matches somewhere in the file PATH, 0 when not, -1 (errno set)
 * when it cannot be read. */
static int
match_file(const regex_t *re, const char *path)
{
    size_t cap = 1 + RD_RE_WINDOW;
    char *buf = malloc(cap + 1);
    int fd = -1, rc = -1, eof = 0;
    size_t len = 0, start = 0;   /* buf[0..len) read; the window starts at start */
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto done;
    for (;;) {
        while (!eof && len < cap) {
            ssize_t n = read(fd, buf + len, cap - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                goto done;
            if (n == 0)
                eof = 1;
            len += (size_t)n;
        }
        size_t end = len;
        if (!eof) {
            /* End after the last newline of the window's second half. */
            size_t half = start + (len - start) / 2;
            char *nl = memrchr(buf + half, '\n', len - half);
            if (nl)
                end = (size_t)(nl - buf) + 1;
        }
        regmatch_t m[1];
        m[0].rm_so = (regoff_t)start;
        m[0].rm_eo = (regoff_t)end;
        /* glibc stops at rm_eo, but sanitizers' regexec reads up to a NUL:
         * give it one (and put back the byte it covers). */
        char covered = buf[end];
        buf[end] = '\0';
        int found = regexec(re, buf, 1, m, REG_STARTEND | (eof ? 0 : REG_NOTEOL)) == 0;
        buf[end] = covered;
        if (found) {
            rc = 1;
            goto done;
        }
        if (eof) {
            rc = 0;
            goto done;
        }
        /* Keep the overlap, the byte before it, and what was not searched. */
        size_t keep_from = end - RD_RE_OVERLAP - 1;
        memmove(buf, buf + keep_from, len - keep_from);
        len -= keep_from;
        start = 1;
    }
done:
    {
        int saved_errno = errno;
        if (fd >= 0)
            close(fd);
        free(buf);
        errno = saved_errno;
    }
    return rc;
}

/* 1 when the file PATH holds exactly P[0..N), compared in chunks (not read
 * whole: the candidate can be as big as the input). */
static int
file_holds(const char *path, const unsigned char *p, size_t n)
{
    unsigned char chunk[65536];
    size_t off = 0;
    int same = 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            same = 0;
            break;
        }
        if (got == 0) {
            same = off == n;
            break;
        }
        if ((size_t)got > n - off || memcmp(chunk, p + off, (size_t)got) != 0) {
            same = 0;
            break;
        }
        off += (size_t)got;
    }
    close(fd);
    return same;
}

/* The verdict of a finished test: V_YES when it still fails the same way. */
static int
slot_verdict(Reducer *r, Slot *s)
{
    int status = s->proc.status;
    if (s->proc.timed_out) {
        r->timeouts++;
        return V_NO;
    }
    /* The input must be left alone: a test that edits it would make every
     * later verdict meaningless. */
    {
        if (!file_holds(s->file, s->cand.data, s->cand.len)) {
            fail(r, "the test changed or removed the file it was given (%s); it must only "
                    "read it (copy it first if the program under test writes to it)%s",
                 s->file, "");
            return V_UNKNOWN;
        }
    }
    if (r->use_sig) {
        /* The first run (the original input) sets the signature; a test that
         * passes there leaves nothing to keep. */
        if (!r->sig_known && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            return V_NO;
        /* The traceback that ended the test is at the end of its output:
         * only the tail is read, however much the test printed. */
        RdBuf out = {0};
        RdSig got;
        if (rd_read_file_tail(s->out, RD_SIG_TAIL, &out) < 0)
            rd_buf_free(&out);
        rd_sig_read(&got, status, (const char *)out.data, out.len, s->file);
        rd_buf_free(&out);
        if (!r->sig_known) {
            r->sig = got;
            r->sig_known = 1;
            return V_YES;
        }
        return rd_sig_same(&r->sig, &got) ? V_YES : V_NO;
    }
    if (!r->have_re && !r->have_expect_exit)
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? V_YES : V_NO;
    if (r->have_expect_exit && !status_matches_exit(status, r->expect_exit))
        return V_NO;
    if (r->have_re) {
        int m = match_file(&r->expect_re, s->out);
        if (m < 0) {
            fail(r, "cannot read the test's output %s: %s", s->out, strerror(errno));
            return V_UNKNOWN;
        }
        return m ? V_YES : V_NO;
    }
    return V_YES;
}

static void
kill_all(Reducer *r)
{
    for (int i = 0; i < r->jobs; i++)
        if (r->slots[i].busy) {
            rd_proc_kill(&r->slots[i].proc);
            r->slots[i].busy = 0;
        }
}

static void
wait_slots(Reducer *r)
{
    RdProc *procs[RD_MAX_JOBS];
    size_t n = 0;
    for (int i = 0; i < r->jobs; i++)
        if (r->slots[i].busy)
            procs[n++] = &r->slots[i].proc;
    rd_proc_wait(procs, n, 0.25);
    progress(r, 0);
}

/* Runs one candidate to completion on slot 0 (start-up checks). Returns the
 * verdict, V_UNKNOWN on a fatal error, or -1 when interrupted. */
static int
run_one(Reducer *r, const unsigned char *p, size_t n, int *status, double *secs)
{
    Slot *s = &r->slots[0];
    if (slot_launch(r, s, p, n, 0) < 0)
        return V_UNKNOWN;
    while (!s->proc.done && !rd_interrupted)
        wait_slots(r);
    if (rd_interrupted) {
        kill_all(r);
        return -1;
    }
    s->busy = 0;
    *status = s->proc.timed_out ? -1 : s->proc.status;
    *secs = rd_now() - s->started;
    return slot_verdict(r, s);
}

/* ==== speculative parallel evaluation ===================================== */

typedef int (*GenFn)(void *ctx, size_t i, RdBuf *out);

/* Evaluates candidates 0..count-1 in order, several at once, and returns the
 * lowest index whose candidate still fails (its content in WINNER), -1 when
 * none does, or -2 when interrupted or on a fatal error. */
static long
eval_first(Reducer *r, GenFn gen, void *ctx, size_t count, RdBuf *winner)
{
    unsigned char *res = NULL;
    RdBuf cand = {0};
    size_t next = 0, low = 0, first_yes = count;
    long rc = -2;

    res = malloc(count ? count : 1);
    if (!res) {
        fail(r, "out of memory%s%s", "", "");
        goto done;
    }
    memset(res, V_UNKNOWN, count);
    for (;;) {
        if (rd_interrupted || r->fatal)
            goto done;
        while (low < count && res[low] == V_NO)
            low++;
        if (low == count) {
            rc = -1;
            goto done;
        }
        if (res[low] == V_YES) {
            /* Candidates are input-sized: drop them all before building
             * the winner (tests above it are no longer needed). */
            kill_all(r);
            rd_buf_free(&cand);
            for (int j = 0; j < r->jobs; j++)
                rd_buf_free(&r->slots[j].cand);
            if (gen(ctx, low, winner) < 0) {
                fail(r, "out of memory%s%s", "", "");
                goto done;
            }
            rc = (long)low;
            goto done;
        }
        /* Start as many candidates as there are free slots, in order, but
         * none above a candidate already known to fail. */
        int free_slot = -1;
        for (int i = 0; i < r->jobs; i++)
            if (!r->slots[i].busy) {
                free_slot = i;
                break;
            }
        if (free_slot >= 0 && next < count && next < first_yes) {
            size_t i = next++;
            if (gen(ctx, i, &cand) < 0) {
                fail(r, "out of memory%s%s", "", "");
                goto done;
            }
            int v;
            if (cand.len >= r->cur.len) {
                res[i] = V_NO;
                continue;
            }
            if (r->valid && r->valid(cand.data, cand.len) == 0) {
                r->filtered++;
                res[i] = V_NO;
                continue;
            }
            if (rd_cache_get(&r->cache, rd_key(cand.data, cand.len), &v)) {
                r->cached++;
                res[i] = (unsigned char)v;
                if (v == V_YES && i < first_yes)
                    first_yes = i;
                continue;
            }
            Slot *s = &r->slots[free_slot];
            s->attempts = 0;
            /* The slot takes the buffer over: no copy of a big candidate. */
            rd_buf_free(&s->cand);
            s->cand = cand;
            cand = (RdBuf){0};
            if (slot_launch(r, s, s->cand.data, s->cand.len, i) < 0)
                goto done;
            res[i] = V_PENDING;
            continue;
        }
        int running = 0;
        for (int i = 0; i < r->jobs; i++)
            running += r->slots[i].busy;
        if (!running)
            continue;   /* everything decided from the cache */
        wait_slots(r);
        for (int i = 0; i < r->jobs; i++) {
            Slot *s = &r->slots[i];
            if (!s->busy || !s->proc.done)
                continue;
            s->busy = 0;
            int v = slot_verdict(r, s);
            if (v == V_UNKNOWN)
                goto done;
            if (v == V_NO && !s->proc.timed_out && s->attempts < r->retries) {
                /* A flaky test: give "passes" another chance. */
                s->attempts++;
                if (slot_launch(r, s, s->cand.data, s->cand.len, s->index) < 0)
                    goto done;
                continue;
            }
            rd_cache_put(&r->cache, s->key, v);
            res[s->index] = (unsigned char)v;
            if (v == V_YES && s->index < first_yes) {
                first_yes = s->index;
                /* Nothing above the first failure matters any more. */
                for (int j = 0; j < r->jobs; j++)
                    if (r->slots[j].busy && r->slots[j].index > first_yes) {
                        rd_proc_kill(&r->slots[j].proc);
                        r->slots[j].busy = 0;
                        res[r->slots[j].index] = V_UNKNOWN;
                    }
            }
        }
    }
done:
    /* Speculative tests above the winner are no longer needed. */
    kill_all(r);
    free(res);
    rd_buf_free(&cand);
    return rc;
}

/* ==== one pass ============================================================= */

typedef struct {
    const RdPass *pass;
    const RdBuf *cur;
    const RdUnits *units;
    size_t pos, chunk;
} ChunkCtx;

static int
gen_chunk(void *vctx, size_t i, RdBuf *out)
{
    ChunkCtx *c = vctx;
    size_t lo = (c->pos + i) * c->chunk;
    size_t hi = lo + c->chunk;
    if (hi > c->units->count)
        hi = c->units->count;
    return rd_pass_build(c->pass, c->cur->data, c->cur->len, c->units, lo, hi, out);
}

static void
save_output(Reducer *r, int force)
{
    if (!r->dirty_output)
        return;
    double now = rd_now();
    if (!force && now - r->last_write < 0.5)
        return;
    if (rd_write_file_atomic(r->output, r->cur.data, r->cur.len) == 0) {
        r->dirty_output = 0;
        r->last_write = now;
    }
}

/* ddmin over the units of PASS, one level at a time: try removing each chunk
 * (the complement tests of ddmin), halve the chunks when none can go, and
 * finish with sweeps of single units until one removes nothing, which makes
 * the result 1-minimal for this pass. */
static int
run_pass(Reducer *r, const RdPass *pass, int *changed)
{
    RdUnits u = {0};
    RdBuf winner = {0};
    int rc = ST_STOP;
    size_t before = r->cur.len, tests_before = r->tests;
    *changed = 0;
    r->pass_name = pass->name;
    for (int level = 0;; level++) {
        rd_units_clear(&u);
        int sr = pass->split(r->cur.data, r->cur.len, level, &u);
        if (sr < 0)
            goto oom;
        if (sr == 1)
            break;
        size_t m = u.count;
        if (m == 0)
            continue;
        size_t chunk = pass->single ? 1 : (m + 1) / 2;
        /* Fine passes after coarser ones: big contiguous removals are rare
         * by then, and the sweep of single units is what 1-minimality needs,
         * so small inputs go straight to it. */
        if (pass != r->passes[0] && m <= 64 &&
            (strcmp(pass->name, "bytes") == 0 || strcmp(pass->name, "tokens") == 0))
            chunk = 1;
        size_t pos = 0;
        int swept_clean = 1;
        for (;;) {
            size_t nc = (m + chunk - 1) / chunk;
            if (pos >= nc) {
                if (chunk == 1) {
                    if (swept_clean)
                        break;
                    swept_clean = 1;
                    pos = 0;
                    continue;
                }
                chunk = (chunk + 1) / 2;
                pos = 0;
                swept_clean = 1;
                continue;
            }
            ChunkCtx ctx = {pass, &r->cur, &u, pos, chunk};
            long k = eval_first(r, gen_chunk, &ctx, nc - pos, &winner);
            if (k == -2)
                goto done;
            if (k == -1) {
                pos = nc;
                continue;
            }
            /* Adopt the smaller failing input and cut it again. */
            rd_buf_free(&r->cur);
            r->cur = winner;
            winner = (RdBuf){0};
            *changed = 1;
            swept_clean = 0;
            r->dirty_output = 1;
            save_output(r, 0);
            progress(r, 0);
            rd_units_clear(&u);
            sr = pass->split(r->cur.data, r->cur.len, level, &u);
            if (sr < 0)
                goto oom;
            if (sr == 1)
                break;
            m = u.count;
            if (m == 0)
                break;
            pos += (size_t)k;
            if (chunk > m)
                chunk = m;
        }
    }
    rc = ST_OK;
    if (r->debug)
        fprintf(stderr, "\n[pass %s: %zu -> %zu bytes, %zu tests]\n", pass->name, before,
                r->cur.len, r->tests - tests_before);
    goto done;
oom:
    fail(r, "out of memory%s%s", "", "");
done:
    rd_units_free(&u);
    rd_buf_free(&winner);
    return rc;
}

/* Every pass in turn, again and again until a whole round changes nothing.
 * A pass is skipped when the input is exactly what it last left unchanged. */
static int
reduce_all(Reducer *r)
{
    RdKey done_key[RD_MAX_PASSES];
    int have_key[RD_MAX_PASSES] = {0};
    for (;;) {
        int round_changed = 0;
        for (size_t i = 0; i < r->npasses; i++) {
            RdKey k = rd_key(r->cur.data, r->cur.len);
            if (have_key[i] && rd_key_eq(done_key[i], k))
                continue;
            int changed;
            if (run_pass(r, r->passes[i], &changed) < 0)
                return ST_STOP;
            if (changed)
                round_changed = 1;
            else {
                done_key[i] = k;
                have_key[i] = 1;
            }
        }
        if (!round_changed) {
            r->fixpoint = 1;
            return ST_OK;
        }
    }
}

/* ==== set-up and checks ==================================================== */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int
make_slots(Reducer *r, const char *base)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(r->tmpdir, sizeof r->tmpdir, "%s/sleuth-reduce-XXXXXX", tmp);
    if (!mkdtemp(r->tmpdir)) {
        r->tmpdir[0] = '\0';
        fail(r, "cannot create a temporary folder in %s: %s", tmp, strerror(errno));
        return -1;
    }
    for (int i = 0; i < r->jobs; i++) {
        Slot *s = &r->slots[i];
        char dir[PATH_MAX];
        int w1 = snprintf(dir, sizeof dir, "%s/job%d", r->tmpdir, i);
        int w2 = snprintf(s->out, sizeof s->out, "%s/job%d.out", r->tmpdir, i);
        int w3 = snprintf(s->file, sizeof s->file, "%s/%s", dir, base);
        if (w1 < 0 || w2 < 0 || w3 < 0 || (size_t)w3 >= sizeof s->file) {
            fail(r, "the temporary path for %s is too long%s", base, "");
            return -1;
        }
        memcpy(s->dir, dir, sizeof dir);
        if (mkdir(s->dir, 0700) < 0) {
            fail(r, "cannot create %s: %s", s->dir, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Last lines of a test's output, for error messages. */
static void
show_output_tail(Reducer *r, const char *path)
{
    RdBuf out = {0};
    if (rd_read_file(path, &out) == 0 && out.len) {
        size_t start = out.len > 600 ? out.len - 600 : 0;
        fprintf(stderr, "%s: the test printed%s:\n", r->prog, start ? " (last lines)" : "");
        /* The test's output is untrusted: escape sequences, CR and bidi
         * controls are shown escaped (termsafe.h); the cut may fall inside
         * a UTF-8 sequence, so it starts at the next character. */
        while (start && start < out.len && ((unsigned char)out.data[start] & 0xc0) == 0x80)
            start++;
        TermSafe_fwrite(stderr, (const char *)out.data + start, out.len - start);
        if (out.data[out.len - 1] != '\n')
            fputc('\n', stderr);
    }
    rd_buf_free(&out);
}

static void
describe_status(char *buf, size_t len, int status)
{
    if (status < 0)
        snprintf(buf, len, "timed out");
    else if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, len, "status %d", status);
}

static int
json_valid(const unsigned char *p, size_t n)
{
    return rd_json_valid(p, n);
}

/* The first line a user reads: what "still fails" means in this run. */
static void
announce_rule(Reducer *r)
{
    char what[PATH_MAX + 512];
    if (r->quiet)
        return;
    clear_progress(r);
    if (r->use_sig) {
        rd_sig_describe(&r->sig, what, sizeof what);
        fprintf(stderr, "%s: keeping inputs that fail like the original: %s\n", r->prog, what);
    }
    else if (r->exit0)
        fprintf(stderr, "%s: keeping inputs for which the test exits 0 (--interestingness)\n",
                r->prog);
    else {
        char ex[48] = "";
        if (r->have_expect_exit && r->expect_exit >= 0)
            snprintf(ex, sizeof ex, "it ends with exit status %d", r->expect_exit);
        else if (r->have_expect_exit)
            snprintf(ex, sizeof ex, "it is killed by signal %d", -r->expect_exit);
        if (r->have_re)
            fprintf(stderr, "%s: keeping inputs for which the test's output matches /%s/%s%s\n",
                    r->prog, r->expect_re_src, *ex ? " and " : "", ex);
        else
            fprintf(stderr, "%s: keeping inputs for which %s\n", r->prog, ex);
    }
    fprintf(stderr, "%s: %s, %zu bytes, format %s, %d jobs\n", r->prog, r->input,
            r->orig_len, r->format, r->jobs);
    fflush(stderr);
}

/* Returns ST_OK when the original fails reliably enough to reduce. */
static int
check_original(Reducer *r)
{
    int status;
    double t1 = 0, t2 = 0;
    char what[64];
    int v = run_one(r, r->cur.data, r->cur.len, &status, &t1);
    if (v < 0 || v == V_UNKNOWN)
        return ST_STOP;
    if (v == V_NO) {
        clear_progress(r);
        if (status < 0) {
            char t[32];
            snprintf(t, sizeof t, "%g", r->timeout);
            fail(r, "the test did not finish within %s s on the original input "
                    "(it hangs, or it is slower than that: raise --timeout)%s", t, "");
            return ST_STOP;
        }
        describe_status(what, sizeof what, status);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            fail(r, "the test command was not found (%s): %s", what, r->test);
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 126)
            fail(r, "the test command is not executable (%s): %s", what, r->test);
        else if (r->have_re || r->have_expect_exit)
            fail(r, "the failure does not reproduce on the original input: the command "
                    "ended with %s without the expected %s",
                 what, r->have_re && r->have_expect_exit ? "output and exit status"
                       : r->have_re ? "output" : "exit status");
        else if (r->use_sig)
            fail(r, "the test passes on the original input (%s): there is no failure to "
                    "keep; if it exits 0 for an input that still fails (C-Reduce's "
                    "convention), add --interestingness%s", what, "");
        else
            fail(r, "the failure does not reproduce on the original input: the test "
                    "ended with %s (with --interestingness it must exit 0 when the input "
                    "still fails)%s", what, "");
        show_output_tail(r, r->slots[0].out);
        return ST_STOP;
    }
    announce_rule(r);
    /* Same input again: a test that answers differently is flaky. */
    v = run_one(r, r->cur.data, r->cur.len, &status, &t2);
    if (v < 0 || v == V_UNKNOWN)
        return ST_STOP;
    if (v == V_NO) {
        if (r->retries == 0) {
            describe_status(what, sizeof what, status);
            fail(r, "the test is flaky: it reported the failure on the original input once, "
                    "then not (%s) on the same input; use --retries N to re-run a passing "
                    "verdict up to N times%s", what, "");
            return ST_STOP;
        }
        clear_progress(r);
        fprintf(stderr, "%s: warning: the test is flaky (the same input failed, then passed); "
                        "each passing verdict is retried %d times\n", r->prog, r->retries);
    }
    /* A test that "fails" on an empty file does not look at its input. */
    v = run_one(r, (const unsigned char *)"", 0, &status, &t2);
    if (v < 0 || v == V_UNKNOWN)
        return ST_STOP;
    rd_cache_put(&r->cache, rd_key((const unsigned char *)"", 0), v);
    if (v == V_YES) {
        fail(r, "the test reports the failure even for an empty file, so it does not "
                "depend on its input; the path is passed as {} in the command, or "
                "appended to it%s%s", "", "");
        return ST_STOP;
    }
    /* Does the test need parseable input? One probe: the original with a
     * syntax error appended. If that no longer fails, candidates that do not
     * parse are skipped without running the test. */
    {
        RdParseFn fn = NULL;
        const char *tail = NULL;
        if (strcmp(r->format, "python") == 0 && r->python_parses) {
            fn = r->python_parses;
            tail = "\n)\n";
        }
        else if (strcmp(r->format, "json") == 0) {
            fn = json_valid;
            tail = "\n]";
        }
        if (fn && fn(r->cur.data, r->cur.len) == 1) {
            RdBuf probe = {0};
            if (rd_buf_set(&probe, r->cur.data, r->cur.len) < 0 ||
                rd_buf_append_str(&probe, tail) < 0) {
                rd_buf_free(&probe);
                fail(r, "out of memory%s%s", "", "");
                return ST_STOP;
            }
            if (fn(probe.data, probe.len) == 0) {
                v = run_one(r, probe.data, probe.len, &status, &t2);
                if (v < 0 || v == V_UNKNOWN) {
                    rd_buf_free(&probe);
                    return ST_STOP;
                }
                if (v == V_NO) {
                    r->valid = fn;
                    if (!r->quiet) {
                        clear_progress(r);
                        fprintf(stderr, "%s: the test needs parseable %s: candidates that do "
                                        "not parse are skipped\n", r->prog, r->format);
                    }
                }
            }
            rd_buf_free(&probe);
        }
    }
    if (!r->timeout_given) {
        double t = t1 > t2 ? t1 : t2;
        r->timeout = 10 * t > 2.0 ? 10 * t : 2.0;
    }
    return ST_OK;
}

/* ==== command line ========================================================= */

static void
usage(FILE *f, const char *prog)
{
    fprintf(f,
"usage: %s --test CMD INPUT [-o OUTPUT] [--jobs N] [--timeout S]\n"
"       [--passes P1,P2,...] [--format F] [--expect-output REGEX]\n"
"       [--expect-exit N] [--interestingness] [--retries N] [--quiet]\n"
"\n"
"Shrink INPUT while the test still fails the same way. CMD is run with\n"
"/bin/sh; the candidate's path replaces {} in CMD, or is appended to it.\n"
"\n"
"What \"fails the same way\" means, by default: the test fails on INPUT, and\n"
"a candidate is kept when the test ends with the same exit status (or\n"
"signal) and, if its output holds a Python traceback, the last one has the\n"
"same exception type raised in the same function of the same file. Or:\n"
"  --expect-output REGEX  the output (stdout+stderr) matches REGEX (extended)\n"
"  --expect-exit N        the exit status is N (-N: killed by signal N)\n"
"  --interestingness      CMD exits 0 when the input still fails (C-Reduce's\n"
"                         \"interestingness test\" convention)\n"
"\n"
"  -o, --output OUTPUT  where the result goes (default: INPUT.reduced)\n"
"  -j, --jobs N         tests run at once (default: number of CPUs)\n"
"  --timeout S          per-test timeout; a timeout counts as \"does not fail\"\n"
"                       (default: 10x the original run, at least 2 s)\n"
"  --passes LIST        passes to use, coarse to fine (default: by format)\n"
"  --format F           python, json, csv, text or binary (default: guessed)\n"
"  --retries N          re-run a passing verdict up to N times (flaky tests)\n"
"  -q, --quiet          no progress line and no summary\n"
"\n"
"\n"
"examples:\n"
"  %s --test 'python parse.py {}' big.csv -o small.csv\n"
"  %s --expect-output 'KeyError' --test 'python app.py {}' input.json\n"
"\n"
"passes: %s\n", prog, prog, prog, rd_pass_names());
}

static int
parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0))
        return -1;
    *out = v;
    return 0;
}

static int
parse_int(const char *s, int *out, int allow_negative)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v > 100000 || v < (allow_negative ? -128 : 0))
        return -1;
    *out = (int)v;
    return 0;
}

/* "--name VALUE" or "--name=VALUE". Returns the value or NULL. */
static const char *
opt_value(int argc, char **argv, int *i, const char *lng, const char *shrt, int *matched)
{
    const char *a = argv[*i];
    size_t l = strlen(lng);
    *matched = 0;
    if (strncmp(a, lng, l) == 0 && a[l] == '=') {
        *matched = 1;
        return a + l + 1;
    }
    if (shrt && strncmp(a, shrt, 2) == 0 && a[2]) {
        *matched = 1;   /* -j4, -oOUT */
        return a + 2;
    }
    if (strcmp(a, lng) == 0 || (shrt && strcmp(a, shrt) == 0)) {
        *matched = 1;
        if (*i + 1 >= argc)
            return NULL;
        return argv[++*i];
    }
    return NULL;
}

static int
parse_args(Reducer *r, int argc, char **argv)
{
    static const char *valued[][2] = {
        {"--test", "-t"}, {"--output", "-o"}, {"--jobs", "-j"}, {"--timeout", NULL},
        {"--passes", NULL}, {"--format", NULL}, {"--expect-output", NULL},
        {"--expect-exit", NULL}, {"--retries", NULL},
    };
    int only_positional = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_positional && strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (!only_positional && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            usage(stdout, r->prog);
            return 1;
        }
        if (!only_positional && (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)) {
            r->quiet = 1;
            continue;
        }
        if (!only_positional && strcmp(a, "--interestingness") == 0) {
            r->exit0 = 1;
            continue;
        }
        if (!only_positional && a[0] == '-' && a[1]) {
            int matched = 0, k;
            const char *v = NULL;
            for (k = 0; k < (int)(sizeof valued / sizeof valued[0]); k++) {
                v = opt_value(argc, argv, &i, valued[k][0], valued[k][1], &matched);
                if (matched)
                    break;
            }
            if (!matched) {
                rd_msg(r->prog, "unknown option %s (see --help)", a);
                return -1;
            }
            if (!v) {
                rd_msg(r->prog, "option %s needs a value", valued[k][0]);
                return -1;
            }
            switch (k) {
            case 0: r->test = v; break;
            case 1: r->output = v; break;
            case 2:
                if (parse_int(v, &r->jobs, 0) < 0 || r->jobs < 1) {
                    rd_msg(r->prog, "--jobs needs a positive number, not %s", v);
                    return -1;
                }
                break;
            case 3:
                if (parse_double(v, &r->timeout) < 0) {
                    rd_msg(r->prog, "--timeout needs a positive number of seconds, not %s", v);
                    return -1;
                }
                r->timeout_given = 1;
                break;
            case 4: r->passes_opt = v; break;
            case 5:
                if (!rd_format_valid(v)) {
                    rd_msg(r->prog, "unknown --format %s (python, json, csv, text, binary)", v);
                    return -1;
                }
                r->format = v;
                break;
            case 6: r->expect_re_src = v; break;
            case 7:
                if (parse_int(v, &r->expect_exit, 1) < 0) {
                    rd_msg(r->prog, "--expect-exit needs an exit status, not %s", v);
                    return -1;
                }
                r->have_expect_exit = 1;
                break;
            case 8:
                if (parse_int(v, &r->retries, 0) < 0) {
                    rd_msg(r->prog, "--retries needs a number >= 0, not %s", v);
                    return -1;
                }
                break;
            }
            continue;
        }
        if (r->input) {
            rd_msg(r->prog, "only one INPUT, got %s and %s", r->input, a);
            return -1;
        }
        r->input = a;
    }
    if (!r->test || !*r->test) {
        rd_msg(r->prog, "missing --test CMD (see --help)");
        return -1;
    }
    if (!r->input) {
        rd_msg(r->prog, "missing INPUT (see --help)");
        return -1;
    }
    if (r->exit0 && (r->expect_re_src || r->have_expect_exit)) {
        rd_msg(r->prog, "--interestingness and --expect-output/--expect-exit are two "
                        "different rules: give one");
        return -1;
    }
    r->use_sig = !r->exit0 && !r->expect_re_src && !r->have_expect_exit;
    return 0;
}

static int
choose_passes(Reducer *r, const char *format)
{
    if (!r->passes_opt) {
        r->npasses = rd_default_passes(format, r->passes, RD_MAX_PASSES);
        return 0;
    }
    const char *p = r->passes_opt;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        char name[64];
        if (l == 0 || l >= sizeof name) {
            rd_msg(r->prog, "bad --passes list %s", r->passes_opt);
            return -1;
        }
        memcpy(name, p, l);
        name[l] = '\0';
        const RdPass *ps = rd_pass_find(name);
        if (!ps) {
            rd_msg(r->prog, "unknown pass %s; passes: %s", name, rd_pass_names());
            return -1;
        }
        if (r->npasses == RD_MAX_PASSES) {
            rd_msg(r->prog, "too many passes");
            return -1;
        }
        r->passes[r->npasses++] = ps;
        p += l;
        if (*p == ',')
            p++;
    }
    if (!r->npasses) {
        rd_msg(r->prog, "--passes is empty");
        return -1;
    }
    return 0;
}

/* The output folder must take a file; found out now, not after an hour. */
static int
check_output_writable(Reducer *r)
{
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s.sleuth-probe%ld", r->output, (long)getpid());
    if (rd_write_file(probe, (const unsigned char *)"", 0) < 0) {
        fail(r, "cannot write the output %s: %s", r->output, strerror(errno));
        return -1;
    }
    unlink(probe);
    return 0;
}

int
rd_reduce_main(int argc, char **argv, RdParseFn python_parses)
{
    Reducer *r = calloc(1, sizeof *r);
    RdSigSave sigs;
    int sigs_installed = 0, exit_code = 2;
    char *default_out = NULL;
    const char *format;
    const char *base;
    RdBuf orig = {0};

    if (!r) {
        rd_msg(argv[0], "out of memory");
        return 2;
    }
    r->prog = argc > 0 ? argv[0] : "sleuth reduce";
    r->python_parses = python_parses;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    r->jobs = ncpu > 0 ? (int)ncpu : 1;
    r->timeout = 60.0;
    {
        int pr = parse_args(r, argc, argv);
        if (pr != 0) {
            exit_code = pr > 0 ? 0 : 2;
            goto done;
        }
    }
    if (r->jobs > RD_MAX_JOBS)
        r->jobs = RD_MAX_JOBS;
    r->progress = !r->quiet && isatty(2);
    r->debug = getenv("SLEUTH_REDUCE_DEBUG") != NULL;
    if (r->expect_re_src) {
        int e = regcomp(&r->expect_re, r->expect_re_src, REG_EXTENDED | REG_NEWLINE);
        if (e) {
            char msg[200];
            regerror(e, &r->expect_re, msg, sizeof msg);
            rd_msg(r->prog, "bad --expect-output regular expression: %s", msg);
            goto done;
        }
        r->have_re = 1;
    }
    if (rd_read_file(r->input, &orig) < 0) {
        rd_msg(r->prog, "cannot read the input %s: %s", r->input, strerror(errno));
        goto done;
    }
    if (orig.len == 0) {
        rd_msg(r->prog, "the input %s is empty: there is nothing to reduce", r->input);
        goto done;
    }
    if (!r->output) {
        size_t l = strlen(r->input) + sizeof ".reduced";
        default_out = malloc(l);
        if (!default_out) {
            rd_msg(r->prog, "out of memory");
            goto done;
        }
        snprintf(default_out, l, "%s.reduced", r->input);
        r->output = default_out;
    }
    {
        struct stat sa, sb;
        if (stat(r->input, &sa) == 0 && stat(r->output, &sb) == 0 &&
            sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) {
            rd_msg(r->prog, "the output %s is the input itself; the input is never "
                            "modified, choose another -o", r->output);
            goto done;
        }
    }
    format = r->format ? r->format : rd_detect_format(r->input, orig.data, orig.len);
    r->format = format;
    if (choose_passes(r, format) < 0)
        goto done;
    if (check_output_writable(r) < 0)
        goto done;
    base = strrchr(r->input, '/');
    base = base ? base + 1 : r->input;
    rd_signals_install(&sigs);
    sigs_installed = 1;
    if (make_slots(r, base) < 0)
        goto done;
    /* The input moves into cur (no second copy of a big input). */
    r->orig_len = orig.len;
    r->cur = orig;
    orig = (RdBuf){0};
    r->t0 = r->last_progress = rd_now();
    if (check_original(r) != ST_OK) {
        if (rd_interrupted && !r->fatal) {
            clear_progress(r);
            rd_msg(r->prog, "interrupted during the first checks; nothing written");
            exit_code = 128 + rd_interrupted;
        }
        goto done;
    }
    /* From here on OUTPUT always holds a failing input. */
    r->dirty_output = 1;
    save_output(r, 1);
    if (r->dirty_output) {
        fail(r, "cannot write the output %s: %s", r->output, strerror(errno));
        goto done;
    }
    int st = reduce_all(r);
    r->dirty_output = 1;
    save_output(r, 1);
    clear_progress(r);
    if (r->fatal)
        goto done;
    double el = rd_now() - r->t0;
    if (st != ST_OK) {
        exit_code = 128 + (rd_interrupted ? rd_interrupted : 2);
        fprintf(stderr, "%s: interrupted; %s holds the smallest failing input found so far "
                        "(%zu of %zu bytes, %zu tests, %.1f s)\n",
                r->prog, r->output, r->cur.len, r->orig_len, r->tests, el);
        goto done;
    }
    exit_code = 0;
    if (!r->quiet) {
        fprintf(stderr, "%s: %zu -> %zu bytes (%.1f%%) in %zu tests (%zu more answered "
                        "from the cache, %zu skipped as unparseable, %zu timed out), %.1f s\n",
                r->prog, r->orig_len, r->cur.len,
                100.0 * (double)r->cur.len / (double)r->orig_len, r->tests, r->cached,
                r->filtered, r->timeouts, el);
        fprintf(stderr, "%s: result in %s (1-minimal for the last pass, %s)\n", r->prog,
                r->output, r->passes[r->npasses - 1]->name);
    }
done:
    if (r->tmpdir[0]) {
        kill_all(r);
        nftw(r->tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    if (sigs_installed)
        rd_signals_restore(&sigs);
    if (r->fatal)
        exit_code = 2;
    if (r->have_re)
        regfree(&r->expect_re);
    for (int i = 0; i < RD_MAX_JOBS; i++)
        rd_buf_free(&r->slots[i].cand);
    rd_cache_free(&r->cache);
    rd_buf_free(&r->cur);
    rd_buf_free(&orig);
    free(default_out);
    free(r);
    fflush(stdout);
    fflush(stderr);
    return exit_code;
}
