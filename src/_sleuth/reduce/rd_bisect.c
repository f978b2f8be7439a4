/* rd_bisect.c — `sleuth bisect` (rd_bisect.h).
 *
 * Differences from `git bisect run`, on purpose:
 *  - both ends are tested first, so a test that also fails on the good end is
 *    reported instead of being blamed on some commit in between;
 *  - a test killed by a signal (or a shell reporting 128+N) is "bad", not a
 *    reason to abort the search;
 *  - --timeout turns a hung test into "skip" (or "bad") explicitly;
 *  - --retries re-runs each verdict and takes the majority, naming the items
 *    where runs disagreed;
 *  - a --build command that fails makes the commit a skip (or bad);
 *  - the repository is restored to the branch or commit it was on, and any
 *    change the test made to tracked files is undone, also after Ctrl-C or an
 *    error. The search itself never touches refs/bisect or BISECT_LOG.
 */
#define _GNU_SOURCE   /* posix_spawn_file_actions_addchdir_np, pipe2, nftw */
#include "rd_bisect.h"
#include "rd_proc.h"
#include "rd_util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { B_GOOD = 0, B_BAD = 1, B_SKIP = 2, B_STOP = 3 };

typedef struct {
    const char *prog;
    const char *good, *bad, *list;
    const char *build;
    char *cmd;               /* malloc'ed shell text (before {} substitution) */
    int cmd_multi;           /* built from several argv words */
    char **cmd_argv;
    int cmd_argc;
    double timeout;
    int timeout_bad;         /* a timeout counts as bad instead of skip */
    int build_bad;
    int retries;
    /* state */
    char **items;            /* commit ids or list lines */
    size_t nitems;
    char *top;               /* git: work tree top */
    char *orig_ref;          /* git: branch name, or NULL when detached */
    char *orig_sha;
    int moved;               /* git: HEAD was changed by us */
    char logpath[PATH_MAX];
    size_t runs;
    int fatal;
} Bisect;

/* ---- git helpers --------------------------------------------------------- */

/* Runs git with ARGS (NULL-terminated) in the work tree; stdout (trimmed) in
 * OUT when not NULL. Returns the exit status, or -1 if git cannot run. */
static int
git(Bisect *b, RdBuf *out, RdBuf *err, const char *a0, const char *a1, const char *a2,
    const char *a3, const char *a4, const char *a5)
{
    char *argv[10] = {"git", "-c", "advice.detachedHead=false", (char *)a0, (char *)a1,
                      (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL};
    int status;
    RdBuf o = {0}, e = {0};
    if (rd_proc_capture(argv, b->top, out ? out : &o, err ? err : &e, &status) < 0) {
        rd_buf_free(&o);
        rd_buf_free(&e);
        return -1;
    }
    rd_buf_free(&o);
    rd_buf_free(&e);
    if (out) {
        while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
            out->len--;
        rd_buf_cstr(out);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void
report_git_error(Bisect *b, const char *what, RdBuf *err)
{
    rd_msg(b->prog, "%s failed%s%s", what, err && err->len ? ": " : "",
           err && err->len ? (const char *)err->data : "");
    b->fatal = 1;
}

/* Undo what a test may have changed in tracked files, then go back. */
static void
restore_repo(Bisect *b)
{
    RdBuf err = {0};
    if (!b->list && b->moved) {
        git(b, NULL, NULL, "reset", "-q", "--hard", NULL, NULL, NULL);
        /* -f: a file in the way is one the test created where the original
         * commit tracks a path (that path was tracked and clean when we
         * started), so overwriting it loses nothing of the user's. */
        int rc = b->orig_ref
            ? git(b, NULL, &err, "checkout", "-q", "-f", b->orig_ref, NULL, NULL)
            : git(b, NULL, &err, "checkout", "-q", "-f", "--detach", b->orig_sha, NULL);
        if (rc != 0)
            rd_msg(b->prog, "could not return to %s: %s", b->orig_ref ? b->orig_ref : b->orig_sha,
                   err.len ? (const char *)err.data : "git failed");
        else
            b->moved = 0;
    }
    rd_buf_free(&err);
}

static int
push_item(Bisect *b, const char *s, size_t len)
{
    char **nv = realloc(b->items, (b->nitems + 1) * sizeof *nv);
    if (!nv)
        return -1;
    b->items = nv;
    char *c = malloc(len + 1);
    if (!c)
        return -1;
    memcpy(c, s, len);
    c[len] = '\0';
    b->items[b->nitems++] = c;
    return 0;
}

static int
split_lines_into(Bisect *b, const RdBuf *text)
{
    size_t s = 0;
    for (size_t i = 0; i <= text->len; i++) {
        if (i == text->len || text->data[i] == '\n') {
            size_t e = i;
            while (e > s && (text->data[e - 1] == '\r' || text->data[e - 1] == ' ' ||
                             text->data[e - 1] == '\t'))
                e--;
            size_t st = s;
            while (st < e && (text->data[st] == ' ' || text->data[st] == '\t'))
                st++;
            if (e > st && push_item(b, (const char *)text->data + st, e - st) < 0)
                return -1;
            s = i + 1;
        }
    }
    return 0;
}

static char *
resolve(Bisect *b, const char *rev)
{
    RdBuf out = {0}, err = {0};
    char *spec = malloc(strlen(rev) + 16);
    char *res = NULL;
    if (!spec)
        return NULL;
    sprintf(spec, "%s^{commit}", rev);
    if (git(b, &out, &err, "rev-parse", "--verify", "--quiet", spec, NULL, NULL) == 0 && out.len)
        res = strdup((const char *)out.data);
    else
        rd_msg(b->prog, "unknown revision %s (not a commit of this repository)", rev);
    free(spec);
    rd_buf_free(&out);
    rd_buf_free(&err);
    return res;
}

static int
setup_git(Bisect *b)
{
    RdBuf out = {0}, err = {0};
    int rc = -1;
    char *good = NULL, *bad = NULL;

    b->top = NULL;
    if (git(b, &out, &err, "rev-parse", "--show-toplevel", NULL, NULL, NULL, NULL) != 0) {
        rd_msg(b->prog, "not inside a git work tree (run it in the repository, or use --list)");
        goto done;
    }
    b->top = strdup((const char *)out.data);
    out.len = 0;
    if (git(b, &out, &err, "status", "--porcelain", "--untracked-files=no", NULL, NULL, NULL) != 0) {
        report_git_error(b, "git status", &err);
        goto done;
    }
    if (out.len) {
        rd_msg(b->prog, "the work tree has uncommitted changes; commit or stash them first "
                        "(bisect checks out other commits)");
        goto done;
    }
    out.len = 0;
    if (git(b, &out, &err, "rev-parse", "--verify", "HEAD", NULL, NULL, NULL) != 0) {
        rd_msg(b->prog, "the repository has no commits");
        goto done;
    }
    b->orig_sha = strdup((const char *)out.data);
    out.len = 0;
    if (git(b, &out, NULL, "symbolic-ref", "-q", "HEAD", NULL, NULL, NULL) == 0 && out.len)
        b->orig_ref = strdup((const char *)out.data + (strncmp((const char *)out.data,
                                                        "refs/heads/", 11) == 0 ? 11 : 0));
    good = resolve(b, b->good);
    bad = resolve(b, b->bad);
    if (!good || !bad)
        goto done;
    if (strcmp(good, bad) == 0) {
        rd_msg(b->prog, "--good and --bad name the same commit");
        goto done;
    }
    if (git(b, NULL, NULL, "merge-base", "--is-ancestor", good, bad, NULL, NULL) != 0) {
        rd_msg(b->prog, "the good commit %s is not an ancestor of the bad commit %s", b->good,
               b->bad);
        goto done;
    }
    out.len = 0;
    {
        char range[200];
        snprintf(range, sizeof range, "%s..%s", good, bad);
        if (git(b, &out, &err, "rev-list", "--reverse", "--topo-order", "--ancestry-path",
                range, NULL) != 0) {
            report_git_error(b, "git rev-list", &err);
            goto done;
        }
    }
    if (push_item(b, good, strlen(good)) < 0 || split_lines_into(b, &out) < 0) {
        rd_msg(b->prog, "out of memory");
        goto done;
    }
    rc = 0;
done:
    free(good);
    free(bad);
    rd_buf_free(&out);
    rd_buf_free(&err);
    return rc;
}

/* ---- running the test ---------------------------------------------------- */

static char *
command_for(Bisect *b, const char *item)
{
    if (!b->list)
        return strdup(b->cmd);
    if (!b->cmd_multi)
        return rd_subst_command(b->cmd, item);
    RdBuf s = {0};
    int found = 0;
    for (int i = 0; i < b->cmd_argc; i++) {
        RdBuf word = {0};
        for (const char *p = b->cmd_argv[i]; *p; p++) {
            if (p[0] == '{' && p[1] == '}') {
                rd_buf_append_str(&word, item);
                found = 1;
                p++;
            }
            else
                rd_buf_append(&word, p, 1);
        }
        rd_buf_cstr(&word);
        if (i)
            rd_buf_append(&s, " ", 1);
        rd_shell_quote(&s, word.data ? (const char *)word.data : "");
        rd_buf_free(&word);
    }
    if (!found) {
        rd_buf_append(&s, " ", 1);
        rd_shell_quote(&s, item);
    }
    if (rd_buf_cstr(&s) < 0) {
        rd_buf_free(&s);
        return NULL;
    }
    return (char *)s.data;
}

/* Runs CMD to completion. *status = wait status, or -1 on timeout. Returns 0,
 * or -1 when interrupted or the shell could not start. */
static int
run_shell(Bisect *b, const char *cmd, double timeout, int *status)
{
    RdProc p;
    if (rd_proc_spawn_shell(&p, cmd, NULL, b->logpath, timeout) < 0) {
        rd_msg(b->prog, "cannot start /bin/sh: %s", strerror(errno));
        b->fatal = 1;
        return -1;
    }
    RdProc *ps[1] = {&p};
    while (!p.done && !rd_interrupted)
        rd_proc_wait(ps, 1, -1);
    if (!p.done) {
        rd_proc_kill(&p);
        return -1;
    }
    *status = p.timed_out ? -1 : p.status;
    return 0;
}

static int
classify(Bisect *b, int status, char *why, size_t len)
{
    if (status < 0) {
        snprintf(why, len, "timed out after %g s", b->timeout);
        return b->timeout_bad ? B_BAD : B_SKIP;
    }
    if (WIFSIGNALED(status)) {
        snprintf(why, len, "killed by signal %d", WTERMSIG(status));
        return B_BAD;
    }
    int code = WEXITSTATUS(status);
    snprintf(why, len, "exit status %d", code);
    if (code == 0)
        return B_GOOD;
    if (code == 125)
        return B_SKIP;
    if (code > 128 && code < 128 + 65) {
        snprintf(why, len, "killed by signal %d (exit status %d)", code - 128, code);
        return B_BAD;
    }
    return B_BAD;
}

static const char *
verdict_name(int v)
{
    return v == B_GOOD ? "good" : v == B_BAD ? "bad" : "skip";
}

static void
show_log_tail(Bisect *b)
{
    RdBuf out = {0};
    if (rd_read_file(b->logpath, &out) == 0 && out.len) {
        size_t start = out.len > 600 ? out.len - 600 : 0;
        fprintf(stderr, "%s: the test printed%s:\n", b->prog, start ? " (last lines)" : "");
        fwrite(out.data + start, 1, out.len - start, stderr);
        if (out.data[out.len - 1] != '\n')
            fputc('\n', stderr);
    }
    rd_buf_free(&out);
}

/* The verdict for item I (B_STOP when interrupted or on a fatal error).
 * *LAST_STATUS gets the status of the last test run (-1 timeout, -2 none). */
static int
test_item(Bisect *b, size_t i, int *last_status, int at_end)
{
    char why[96];
    int votes[3] = {0, 0, 0};
    int runs = 1 + b->retries, verdict = B_SKIP;
    char *cmd = NULL;
    *last_status = -2;

    if (!b->list) {
        RdBuf err = {0};
        b->moved = 1;
        if (git(b, NULL, &err, "checkout", "-q", "--detach", b->items[i], NULL, NULL) != 0) {
            report_git_error(b, "git checkout", &err);
            rd_buf_free(&err);
            return B_STOP;
        }
        rd_buf_free(&err);
        if (b->build) {
            int st;
            if (run_shell(b, b->build, 0, &st) < 0)
                return B_STOP;
            if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
                verdict = b->build_bad ? B_BAD : B_SKIP;
                fprintf(stderr, "%s: %.12s: build failed -> %s\n", b->prog, b->items[i],
                        verdict_name(verdict));
                git(b, NULL, NULL, "reset", "-q", "--hard", NULL, NULL, NULL);
                return verdict;
            }
        }
    }
    cmd = command_for(b, b->items[i]);
    if (!cmd) {
        rd_msg(b->prog, "out of memory");
        b->fatal = 1;
        return B_STOP;
    }
    for (int k = 0; k < runs; k++) {
        int st;
        if (run_shell(b, cmd, b->timeout, &st) < 0) {
            free(cmd);
            return B_STOP;
        }
        b->runs++;
        *last_status = st;
        int v = classify(b, st, why, sizeof why);
        if (at_end && st >= 0 && WIFEXITED(st) &&
            (WEXITSTATUS(st) == 127 || WEXITSTATUS(st) == 126)) {
            rd_msg(b->prog, "the test command %s (exit status %d): %s",
                   WEXITSTATUS(st) == 127 ? "was not found" : "is not executable",
                   WEXITSTATUS(st), cmd);
            show_log_tail(b);
            b->fatal = 1;
            free(cmd);
            return B_STOP;
        }
        votes[v]++;
        /* Stop as soon as one verdict has a majority of all planned runs. */
        if (votes[v] * 2 > runs)
            break;
    }
    free(cmd);
    if (votes[B_GOOD] * 2 > runs)
        verdict = B_GOOD;
    else if (votes[B_BAD] * 2 > runs)
        verdict = B_BAD;
    else if (votes[B_SKIP] * 2 > runs)
        verdict = B_SKIP;
    else
        verdict = B_SKIP;
    if ((votes[0] != 0) + (votes[1] != 0) + (votes[2] != 0) > 1)
        fprintf(stderr, "%s: warning: flaky test on %s (good %d, bad %d, skip %d runs) -> %s\n",
                b->prog, b->items[i], votes[0], votes[1], votes[2], verdict_name(verdict));
    if (!b->list) {
        /* Undo anything the test changed in tracked files. */
        RdBuf out = {0};
        if (git(b, &out, NULL, "status", "--porcelain", "--untracked-files=no", NULL, NULL,
                NULL) == 0 && out.len)
            git(b, NULL, NULL, "reset", "-q", "--hard", NULL, NULL, NULL);
        rd_buf_free(&out);
    }
    fprintf(stderr, "%s: %.*s: %s (%s)\n", b->prog,
            b->list ? (int)strlen(b->items[i]) : 12, b->items[i], verdict_name(verdict), why);
    return verdict;
}

/* ---- result -------------------------------------------------------------- */

static void
print_commit(Bisect *b, const char *sha)
{
    RdBuf out = {0};
    if (git(b, &out, NULL, "show", "-s", "--format=%H %s%nAuthor: %an <%ae>%nDate:   %ad",
            sha, NULL, NULL) == 0)
        printf("first bad commit: %s\n", (const char *)out.data);
    else
        printf("first bad commit: %s\n", sha);
    out.len = 0;
    if (git(b, &out, NULL, "diff-tree", "--no-commit-id", "--name-status", "-r", "--root",
            sha) == 0) {
        printf("Changed files:\n");
        size_t s = 0;
        for (size_t i = 0; i <= out.len; i++)
            if (i == out.len || out.data[i] == '\n') {
                if (i > s)
                    printf("  %.*s\n", (int)(i - s), (const char *)out.data + s);
                s = i + 1;
            }
    }
    rd_buf_free(&out);
}

/* ---- command line -------------------------------------------------------- */

static void
usage(FILE *f, const char *prog)
{
    fprintf(f,
"usage: %s --good REV --bad REV [options] -- CMD...\n"
"       %s --list FILE [options] -- CMD...\n"
"\n"
"Find the first bad commit between REV good and REV bad (or the first bad\n"
"line of FILE, passed to CMD as {} or appended). CMD exits 0 for good, 125\n"
"to skip, anything else (or a signal) for bad. Both ends are checked first.\n"
"The repository is left on the branch/commit it was on.\n"
"\n"
"  --timeout S              a test running longer than S seconds is a skip\n"
"  --timeout-verdict V      skip (default) or bad\n"
"  --retries N              run every test 1+N times, majority wins\n"
"  --build CMD              run before each test; failure -> skip\n"
"  --build-failure V        skip (default) or bad\n"
"  -h, --help               show this help\n"
"\n"
"examples:\n"
"  %s --good v1.2 --bad HEAD -- make test\n"
"  %s --good v1.2 --bad main --build 'make -j4' -- ./run-tests.sh\n"
"  %s --list versions.txt -- ./try-version.sh {}\n",
        prog, prog, prog, prog, prog);
}

static int
parse_verdict(const char *s, int *bad)
{
    if (strcmp(s, "skip") == 0)
        *bad = 0;
    else if (strcmp(s, "bad") == 0)
        *bad = 1;
    else
        return -1;
    return 0;
}

static int
parse_args(Bisect *b, int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout, b->prog);
            return 1;
        }
        const char *names[] = {"--good", "--bad", "--list", "--timeout", "--timeout-verdict",
                               "--retries", "--build", "--build-failure", NULL};
        int k;
        const char *v = NULL;
        for (k = 0; names[k]; k++) {
            size_t l = strlen(names[k]);
            if (strncmp(a, names[k], l) == 0 && a[l] == '=') {
                v = a + l + 1;
                break;
            }
            if (strcmp(a, names[k]) == 0) {
                if (i + 1 >= argc) {
                    rd_msg(b->prog, "option %s needs a value", a);
                    return -1;
                }
                v = argv[++i];
                break;
            }
        }
        if (!names[k]) {
            if (a[0] == '-') {
                rd_msg(b->prog, "unknown option %s (see --help)", a);
                return -1;
            }
            break;   /* the command starts here (no "--") */
        }
        char *end;
        switch (k) {
        case 0: b->good = v; break;
        case 1: b->bad = v; break;
        case 2: b->list = v; break;
        case 3:
            b->timeout = strtod(v, &end);
            if (*end || !(b->timeout > 0)) {
                rd_msg(b->prog, "--timeout needs a positive number of seconds, not %s", v);
                return -1;
            }
            break;
        case 4:
            if (parse_verdict(v, &b->timeout_bad) < 0) {
                rd_msg(b->prog, "--timeout-verdict is skip or bad, not %s", v);
                return -1;
            }
            break;
        case 5: {
            long r = strtol(v, &end, 10);
            if (*end || r < 0 || r > 100) {
                rd_msg(b->prog, "--retries needs a number from 0 to 100, not %s", v);
                return -1;
            }
            b->retries = (int)r;
            break;
        }
        case 6: b->build = v; break;
        case 7:
            if (parse_verdict(v, &b->build_bad) < 0) {
                rd_msg(b->prog, "--build-failure is skip or bad, not %s", v);
                return -1;
            }
            break;
        }
    }
    if (i >= argc) {
        rd_msg(b->prog, "missing the test command (after --; see --help)");
        return -1;
    }
    b->cmd_argv = argv + i;
    b->cmd_argc = argc - i;
    if (b->cmd_argc == 1) {
        b->cmd = strdup(argv[i]);
    }
    else {
        RdBuf s = {0};
        b->cmd_multi = 1;
        for (int k = i; k < argc; k++) {
            if (k > i)
                rd_buf_append(&s, " ", 1);
            rd_shell_quote(&s, argv[k]);
        }
        rd_buf_cstr(&s);
        b->cmd = (char *)s.data;
    }
    if (!b->cmd) {
        rd_msg(b->prog, "out of memory");
        return -1;
    }
    if (b->list && (b->good || b->bad)) {
        rd_msg(b->prog, "--list cannot be combined with --good/--bad");
        return -1;
    }
    if (!b->list && (!b->good || !b->bad)) {
        rd_msg(b->prog, "give --good REV and --bad REV, or --list FILE");
        return -1;
    }
    return 0;
}

int
rd_bisect_main(int argc, char **argv)
{
    Bisect *b = calloc(1, sizeof *b);
    RdSigSave sigs;
    int sigs_installed = 0, exit_code = 2;
    char tmpdir[PATH_MAX] = "";
    char *skipped = NULL;

    if (!b)
        return 2;
    b->prog = argc > 0 ? argv[0] : "sleuth bisect";
    {
        int pr = parse_args(b, argc, argv);
        if (pr) {
            exit_code = pr > 0 ? 0 : 2;
            goto done;
        }
    }
    rd_signals_install(&sigs);
    sigs_installed = 1;
    {
        const char *tmp = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/sleuth-bisect-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(tmpdir)) {
            rd_msg(b->prog, "cannot create a temporary folder: %s", strerror(errno));
            tmpdir[0] = '\0';
            goto done;
        }
        int n = snprintf(b->logpath, sizeof b->logpath, "%s/test.log", tmpdir);
        if (n < 0 || (size_t)n >= sizeof b->logpath) {
            rd_msg(b->prog, "the temporary folder's path is too long: %s", tmpdir);
            goto done;
        }
    }
    if (b->list) {
        RdBuf text = {0};
        if (rd_read_file(b->list, &text) < 0) {
            rd_msg(b->prog, "cannot read the list %s: %s", b->list, strerror(errno));
            goto done;
        }
        int rc = split_lines_into(b, &text);
        rd_buf_free(&text);
        if (rc < 0) {
            rd_msg(b->prog, "out of memory");
            goto done;
        }
        if (b->nitems < 2) {
            rd_msg(b->prog, "the list %s needs at least two items (one per line), it has %zu",
                   b->list, b->nitems);
            goto done;
        }
    }
    else if (setup_git(b) < 0)
        goto done;

    size_t n = b->nitems;
    int st;
    fprintf(stderr, "%s: %zu %s to search; checking both ends first\n", b->prog, n,
            b->list ? "items" : "commits");
    int v = test_item(b, 0, &st, 1);
    if (v == B_STOP)
        goto stopped;
    if (v != B_GOOD) {
        if (v == B_BAD)
            rd_msg(b->prog, "the test fails on the good end too (%s): it does not tell good from "
                            "bad, or the bug is older than that", b->items[0]);
        else
            rd_msg(b->prog, "the test cannot run on the good end (%s): it was skipped",
                   b->items[0]);
        show_log_tail(b);
        goto done;
    }
    v = test_item(b, n - 1, &st, 1);
    if (v == B_STOP)
        goto stopped;
    if (v != B_BAD) {
        if (v == B_GOOD)
            rd_msg(b->prog, "the test passes on the bad end (%s): there is nothing to find",
                   b->items[n - 1]);
        else
            rd_msg(b->prog, "the test cannot run on the bad end (%s): it was skipped",
                   b->items[n - 1]);
        show_log_tail(b);
        goto done;
    }
    skipped = calloc(n, 1);
    if (!skipped) {
        rd_msg(b->prog, "out of memory");
        goto done;
    }
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        /* The untested, unskipped item nearest the middle. */
        size_t mid = lo + (hi - lo) / 2, pick = 0;
        int found = 0;
        for (size_t d = 0; d < hi - lo && !found; d++) {
            if (mid >= d && mid - d > lo && !skipped[mid - d]) {
                pick = mid - d;
                found = 1;
            }
            else if (mid + d < hi && mid + d > lo && !skipped[mid + d]) {
                pick = mid + d;
                found = 1;
            }
        }
        if (!found)
            break;
        v = test_item(b, pick, &st, 0);
        if (v == B_STOP)
            goto stopped;
        if (v == B_GOOD)
            lo = pick;
        else if (v == B_BAD)
            hi = pick;
        else
            skipped[pick] = 1;
    }
    restore_repo(b);
    if (hi - lo > 1) {
        printf("the first bad %s could not be found exactly: the items in between were "
               "skipped. It is one of:\n", b->list ? "item" : "commit");
        for (size_t i = lo + 1; i <= hi; i++)
            printf("  %s\n", b->items[i]);
        exit_code = 1;
        goto done;
    }
    if (b->list)
        printf("first bad item: %s (line %zu of %s; the item before it is good)\n",
               b->items[hi], hi + 1, b->list);
    else
        print_commit(b, b->items[hi]);
    fprintf(stderr, "%s: %zu test runs\n", b->prog, b->runs);
    exit_code = b->fatal ? 2 : 0;
    goto done;
stopped:
    if (rd_interrupted && !b->fatal) {
        restore_repo(b);
        rd_msg(b->prog, "interrupted%s", b->list ? "" : "; the repository is back where it was");
        exit_code = 128 + rd_interrupted;
    }
done:
    restore_repo(b);
    if (b->fatal && exit_code != 0 && exit_code < 128)
        exit_code = 2;
    if (sigs_installed)
        rd_signals_restore(&sigs);
    if (tmpdir[0]) {
        unlink(b->logpath);
        rmdir(tmpdir);
    }
    for (size_t i = 0; i < b->nitems; i++)
        free(b->items[i]);
    free(b->items);
    free(skipped);
    free(b->top);
    free(b->orig_ref);
    free(b->orig_sha);
    free(b->cmd);
    free(b);
    fflush(stdout);
    fflush(stderr);
    return exit_code;
}
