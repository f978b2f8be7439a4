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
 *    change the test made to tracked files is undone, also after Ctrl-C (or
 *    any catchable signal) or an error. The search itself never touches
 *    refs/bisect or BISECT_LOG;
 *  - refs the test changes (a branch moved, tags, stashes) are reported, and
 *    the branch bisect started on is put back on its commit;
 *  - after SIGKILL, a state file in the git folder lets the next run (or
 *    `sleuth bisect --restore`) put the repository back.
 */
#define _GNU_SOURCE   /* posix_spawn_file_actions_addchdir_np, pipe2, nftw */
#include "rd_bisect.h"
#include "rd_proc.h"
#include "rd_util.h"
#include "termsafe.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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
    int restore_only;        /* --restore */
    char statepath[PATH_MAX];/* git: GIT_DIR/sleuth-bisect-state, "" until known */
    int state_written;
    RdBuf refs_before;       /* git: for-each-ref before the first test */
    RdBuf stash_before;      /* git: stash list (commit ids) before it */
    int refs_known;
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

/* ---- refs the test changed ----------------------------------------------- */

typedef struct {
    const char *sha, *name;   /* into a snapshot's text */
} RefLine;

static int
refline_cmp(const void *a, const void *b)
{
    return strcmp(((const RefLine *)a)->name, ((const RefLine *)b)->name);
}

/* Splits "SHA NAME" lines of TEXT (modified in place) into a sorted array. */
static RefLine *
ref_lines(RdBuf *text, size_t *n)
{
    size_t cap = 1;
    for (size_t i = 0; i < text->len; i++)
        cap += text->data[i] == '\n';
    RefLine *v = calloc(cap, sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    char *p = text->len ? (char *)text->data : NULL;
    while (p && *p) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = '\0';
        char *sp = strchr(p, ' ');
        if (sp) {
            *sp = '\0';
            v[*n].sha = p;
            v[*n].name = sp + 1;
            (*n)++;
        }
        p = eol ? eol + 1 : NULL;
    }
    qsort(v, *n, sizeof *v, refline_cmp);
    return v;
}

static int
snapshot_refs(Bisect *b, RdBuf *refs, RdBuf *stash)
{
    refs->len = stash->len = 0;
    if (git(b, refs, NULL, "for-each-ref", "--format=%(objectname) %(refname)", NULL, NULL, NULL,
            NULL) != 0)
        return -1;
    /* A new stash entry only shows in the reflog of refs/stash. */
    if (git(b, stash, NULL, "stash", "list", "--format=%H", NULL, NULL, NULL) != 0)
        stash->len = 0;
    rd_buf_cstr(stash);
    return 0;
}

static size_t
count_missing(const char *lines, const char *in)
{
    size_t n = 0;
    for (const char *p = lines; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t l = eol ? (size_t)(eol - p) : strlen(p);
        int found = 0;
        for (const char *q = in; q && *q && !found;) {
            const char *e2 = strchr(q, '\n');
            size_t l2 = e2 ? (size_t)(e2 - q) : strlen(q);
            found = l2 == l && memcmp(p, q, l) == 0;
            q = e2 ? e2 + 1 : NULL;
        }
        n += l && !found;
        p = eol ? eol + 1 : NULL;
    }
    return n;
}

/* Tells what the test did to refs between the snapshot taken before the
 * first test and now. Nothing is undone here: a tag or a stash the test made
 * may be what the user wants to look at. */
static void
report_ref_changes(Bisect *b)
{
    RdBuf after = {0}, stash_after = {0}, before = {0};
    RefLine *va = NULL, *vb = NULL;
    size_t na = 0, nb = 0, i = 0, j = 0;
    int header = 0;
    if (!b->refs_known || snapshot_refs(b, &after, &stash_after) < 0)
        goto done;
    if (rd_buf_set(&before, b->refs_before.data, b->refs_before.len) < 0 ||
        rd_buf_cstr(&before) < 0)
        goto done;
    vb = ref_lines(&before, &nb);
    va = ref_lines(&after, &na);
    if (!va || !vb)
        goto done;
#define REF_HEADER()                                                                       \
    do {                                                                                   \
        if (!header++)                                                                     \
            rd_msg(b->prog, "the test changed refs of the repository (left as they are, "  \
                            "except the branch bisect started on):");                    \
    } while (0)
    while (i < nb || j < na) {
        int c = i == nb ? 1 : j == na ? -1 : strcmp(vb[i].name, va[j].name);
        const char *name = c <= 0 ? vb[i].name : va[j].name;
        if (strcmp(name, "refs/stash") == 0) {
            /* Reported below, entry by entry. */
        }
        else if (c < 0) {
            REF_HEADER();
            fprintf(stderr, "  deleted %s (was %.12s)\n", name, vb[i].sha);
        }
        else if (c > 0) {
            REF_HEADER();
            fprintf(stderr, "  created %s at %.12s\n", name, va[j].sha);
        }
        else if (strcmp(vb[i].sha, va[j].sha) != 0) {
            REF_HEADER();
            fprintf(stderr, "  moved   %s: %.12s -> %.12s\n", name, vb[i].sha, va[j].sha);
        }
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    {
        const char *sb = b->stash_before.len ? (const char *)b->stash_before.data : "";
        const char *sa = stash_after.len ? (const char *)stash_after.data : "";
        size_t added = count_missing(sa, sb), dropped = count_missing(sb, sa);
        if (added) {
            REF_HEADER();
            fprintf(stderr, "  stash: %zu %s added (the newest is stash@{0})\n", added,
                    rd_plural(added, "entry", "entries"));
        }
        if (dropped) {
            REF_HEADER();
            fprintf(stderr, "  stash: %zu %s dropped\n", dropped,
                    rd_plural(dropped, "entry", "entries"));
        }
    }
#undef REF_HEADER
    b->refs_known = 0;   /* reported once */
done:
    free(va);
    free(vb);
    rd_buf_free(&after);
    rd_buf_free(&stash_after);
    rd_buf_free(&before);
}

/* The branch bisect started on goes back on its commit when the test moved
 * or deleted it (its old value stays in the branch's reflog). HEAD is
 * detached first: the test may have checked the branch out. */
static void
put_branch_back(Bisect *b)
{
    RdBuf out = {0}, err = {0};
    char ref[PATH_MAX];
    if (!b->orig_ref || snprintf(ref, sizeof ref, "refs/heads/%s", b->orig_ref) >= (int)sizeof ref)
        return;
    int have = git(b, &out, NULL, "rev-parse", "--verify", "-q", ref, NULL, NULL) == 0 && out.len;
    if (have && strcmp((const char *)out.data, b->orig_sha) == 0)
        goto done;
    git(b, NULL, NULL, "checkout", "-q", "-f", "--detach", b->orig_sha, NULL);
    if (git(b, NULL, &err, "update-ref", "-m", "sleuth bisect: put back where it was", ref,
            b->orig_sha, NULL) != 0)
        rd_msg(b->prog, "could not put branch %s back on %.12s: %s", b->orig_ref, b->orig_sha,
               err.len ? (const char *)err.data : "git update-ref failed");
    else if (have)
        rd_msg(b->prog, "branch %s put back on %.12s, where it was (the test had moved it to "
                        "%.12s)", b->orig_ref, b->orig_sha, (const char *)out.data);
    else
        rd_msg(b->prog, "branch %s created again on %.12s (the test had deleted it)",
               b->orig_ref, b->orig_sha);
done:
    rd_buf_free(&out);
    rd_buf_free(&err);
}

/* Undo what a test may have changed in tracked files, then go back. */
static void
restore_repo(Bisect *b)
{
    RdBuf err = {0};
    if (!b->list && b->moved) {
        report_ref_changes(b);
        git(b, NULL, NULL, "reset", "-q", "--hard", NULL, NULL, NULL);
        put_branch_back(b);
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


/* ---- the state file: the way back after SIGKILL --------------------------
 *
 * Caught signals restore the repository; SIGKILL (or a crash, or a power
 * cut) cannot. So before its first checkout, bisect writes
 * GIT_DIR/sleuth-bisect-state: who wrote it (pid, and the process's start
 * time, so that a reused pid is not taken for a live bisect) and where the
 * repository was (the branch, empty when HEAD was detached, and the commit).
 * A normal end removes it once the repository is back. The next
 * `sleuth bisect` that finds it offers to restore (on a terminal) or says
 * what to run and exits 2 without touching anything; `sleuth bisect
 * --restore` puts the repository back: changes to tracked files are stashed
 * (after a kill nobody knows whose they are, so they are never thrown away),
 * the branch goes back on its commit if it moved, and is checked out.
 */
#define STATE_FILE "sleuth-bisect-state"
#define STATE_MAGIC "sleuth bisect state 1"

typedef struct {
    long pid;
    unsigned long long started;
    char branch[1024];   /* short name; "" when HEAD was detached */
    char commit[72];
} BState;

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot), 0 when
 * it cannot be read. */
static unsigned long long
proc_start_time(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');   /* the command name may hold spaces */
    if (!p)
        return 0;
    int field = 2;
    for (p++; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    return field == 22 ? strtoull(p, NULL, 10) : 0;
}

static int
state_owner_alive(const BState *st)
{
    if (st->pid <= 0 || st->pid == (long)getpid())
        return 0;
    if (kill((pid_t)st->pid, 0) < 0 && errno == ESRCH)
        return 0;
    unsigned long long t = proc_start_time(st->pid);
    if (t && st->started && t != st->started)
        return 0;   /* the pid now belongs to another process */
    return 1;
}

static int
state_locate(Bisect *b)
{
    RdBuf out = {0}, err = {0};
    int rc = -1;
    if (git(b, &out, &err, "rev-parse", "--absolute-git-dir", NULL, NULL, NULL, NULL) != 0 ||
        !out.len)
        report_git_error(b, "git rev-parse --absolute-git-dir", &err);
    else if (snprintf(b->statepath, sizeof b->statepath, "%s/" STATE_FILE,
                      (const char *)out.data) >= (int)sizeof b->statepath) {
        rd_msg(b->prog, "the git folder's path is too long: %s", (const char *)out.data);
        b->statepath[0] = '\0';
    }
    else
        rc = 0;
    rd_buf_free(&out);
    rd_buf_free(&err);
    return rc;
}

static int
state_write(Bisect *b)
{
    RdBuf t = {0};
    char head[160];
    int rc = -1;
    snprintf(head, sizeof head, STATE_MAGIC "\npid %ld\nstarted %llu\nbranch ", (long)getpid(),
             proc_start_time((long)getpid()));
    if (b->orig_ref && strlen(b->orig_ref) >= sizeof ((BState *)0)->branch) {
        rd_msg(b->prog, "the branch name is too long to be recorded: %s", b->orig_ref);
        return -1;
    }
    if (rd_buf_append_str(&t, head) == 0 && rd_buf_append_str(&t, b->orig_ref ? b->orig_ref : "") == 0 &&
        rd_buf_append_str(&t, "\ncommit ") == 0 && rd_buf_append_str(&t, b->orig_sha) == 0 &&
        rd_buf_append_str(&t, "\n") == 0 && rd_write_file_atomic(b->statepath, t.data, t.len) == 0)
        rc = 0;
    else
        rd_msg(b->prog, "cannot write %s (the way back if bisect is killed): %s; nothing was "
                        "changed", b->statepath, strerror(errno));
    rd_buf_free(&t);
    return rc;
}

static int
is_hex_id(const char *s)
{
    size_t n = strlen(s);
    if (n != 40 && n != 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 0 read, 1 no state file, -1 unreadable or damaged (said so). */
static int
state_read(Bisect *b, BState *st)
{
    RdBuf t = {0};
    int rc = -1, have_pid = 0, have_branch = 0, have_commit = 0;
    memset(st, 0, sizeof *st);
    if (rd_read_file(b->statepath, &t) < 0) {
        if (errno == ENOENT)
            return 1;
        rd_msg(b->prog, "cannot read %s: %s", b->statepath, strerror(errno));
        return -1;
    }
    if (t.len > 4096 || rd_buf_cstr(&t) < 0 || memchr(t.data, '\0', t.len))
        goto damaged;
    char *p = (char *)t.data;
    size_t ml = sizeof STATE_MAGIC - 1;
    if (strncmp(p, STATE_MAGIC "\n", ml + 1) != 0)
        goto damaged;
    p += ml + 1;
    while (*p) {
        char *eol = strchr(p, '\n');
        if (!eol)
            goto damaged;
        *eol = '\0';
        char *sp = strchr(p, ' ');
        if (!sp)
            goto damaged;
        *sp = '\0';
        const char *v = sp + 1;
        for (const char *c = v; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                goto damaged;
        char *end;
        if (strcmp(p, "pid") == 0) {
            st->pid = strtol(v, &end, 10);
            if (*end || st->pid <= 0)
                goto damaged;
            have_pid = 1;
        }
        else if (strcmp(p, "started") == 0) {
            st->started = strtoull(v, &end, 10);
            if (*end)
                goto damaged;
        }
        else if (strcmp(p, "branch") == 0) {
            if (strlen(v) >= sizeof st->branch || v[0] == '-')
                goto damaged;
            strcpy(st->branch, v);
            have_branch = 1;
        }
        else if (strcmp(p, "commit") == 0) {
            if (!is_hex_id(v))
                goto damaged;
            strcpy(st->commit, v);
            have_commit = 1;
        }
        p = eol + 1;
    }
    if (have_pid && have_branch && have_commit) {
        rc = 0;
        goto done;
    }
damaged:
    rd_msg(b->prog, "%s is damaged or not sleuth's; look at it, then remove it", b->statepath);
done:
    rd_buf_free(&t);
    return rc;
}

/* Where HEAD is now, for messages: "branch NAME (SHA12)" or "commit SHA12". */
static void
describe_head(Bisect *b, char *buf, size_t len)
{
    RdBuf sha = {0}, ref = {0};
    git(b, &sha, NULL, "rev-parse", "--verify", "-q", "HEAD", NULL, NULL);
    if (git(b, &ref, NULL, "symbolic-ref", "-q", "--short", "HEAD", NULL, NULL) == 0 &&
        ref.len)
        snprintf(buf, len, "branch %s (%.12s)", (const char *)ref.data,
                 sha.len ? (const char *)sha.data : "no commit");
    else
        snprintf(buf, len, "commit %.12s", sha.len ? (const char *)sha.data : "?");
    rd_buf_free(&sha);
    rd_buf_free(&ref);
}

/* The repository is already where the killed bisect found it: on its branch
 * (at whatever commit: the user may have gone on working), or detached at
 * its commit with no change to tracked files. */
static int
state_is_back(Bisect *b, const BState *st)
{
    RdBuf ref = {0}, sha = {0}, status = {0};
    int back = 0;
    int attached = git(b, &ref, NULL, "symbolic-ref", "-q", "HEAD", NULL, NULL, NULL) == 0 &&
                   ref.len;
    if (st->branch[0])
        back = attached && strncmp((const char *)ref.data, "refs/heads/", 11) == 0 &&
               strcmp((const char *)ref.data + 11, st->branch) == 0;
    else if (!attached && git(b, &sha, NULL, "rev-parse", "--verify", "-q", "HEAD", NULL,
                              NULL) == 0 && strcmp((const char *)sha.data, st->commit) == 0)
        back = git(b, &status, NULL, "status", "--porcelain", "--untracked-files=no", NULL,
                   NULL, NULL) == 0 && status.len == 0;
    rd_buf_free(&ref);
    rd_buf_free(&sha);
    rd_buf_free(&status);
    return back;
}

/* Puts the repository back where the state says. 0, or -1 (said why). */
static int
state_restore(Bisect *b, const BState *st)
{
    RdBuf out = {0}, err = {0};
    char ref[PATH_MAX], msg[200], where[1100];
    int rc = -1, stashed = 0;
    snprintf(ref, sizeof ref, "refs/heads/%s", st->branch);
    if (git(b, NULL, NULL, "cat-file", "-e", st->commit, NULL, NULL, NULL) != 0) {
        rd_msg(b->prog, "the commit %.12s named in %s is not in this repository", st->commit,
               b->statepath);
        goto done;
    }
    if (git(b, &out, &err, "status", "--porcelain", "--untracked-files=no", NULL, NULL,
            NULL) != 0) {
        report_git_error(b, "git status", &err);
        goto done;
    }
    if (out.len) {
        snprintf(msg, sizeof msg, "sleuth bisect --restore: changes to tracked files found "
                                  "after a killed bisect (pid %ld)", st->pid);
        err.len = 0;
        if (git(b, NULL, &err, "stash", "push", "-q", "-m", msg, NULL) != 0) {
            rd_msg(b->prog, "could not stash the changes to tracked files (%s); commit or stash "
                            "them yourself, then run `%s --restore` again",
                   err.len ? (const char *)err.data : "git stash failed", b->prog);
            goto done;
        }
        stashed = 1;
    }
    err.len = 0;
    if (git(b, NULL, &err, "checkout", "-q", "--detach", st->commit, NULL, NULL) != 0) {
        report_git_error(b, "git checkout", &err);
        goto done;
    }
    if (st->branch[0]) {
        out.len = 0;
        int have = git(b, &out, NULL, "rev-parse", "--verify", "-q", ref, NULL, NULL) == 0 &&
                   out.len;
        if (!have || strcmp((const char *)out.data, st->commit) != 0) {
            err.len = 0;
            if (git(b, NULL, &err, "update-ref", "-m", "sleuth bisect --restore", ref, st->commit,
                    NULL) != 0) {
                report_git_error(b, "git update-ref", &err);
                goto done;
            }
            if (have)
                rd_msg(b->prog, "branch %s put back on %.12s, where it was (it had moved to "
                                "%.12s; that stays in its reflog)", st->branch, st->commit,
                       (const char *)out.data);
            else
                rd_msg(b->prog, "branch %s created again on %.12s (it had been deleted)",
                       st->branch, st->commit);
        }
        err.len = 0;
        if (git(b, NULL, &err, "checkout", "-q", st->branch, NULL, NULL, NULL) != 0) {
            report_git_error(b, "git checkout", &err);
            goto done;
        }
    }
    unlink(b->statepath);
    describe_head(b, where, sizeof where);
    rd_msg(b->prog, "the repository is back on %s, where the killed bisect started%s", where,
           stashed ? "; the changes found in tracked files are in stash@{0}" : "");
    rc = 0;
done:
    rd_buf_free(&out);
    rd_buf_free(&err);
    return rc;
}

/* Before anything else in a repository: a state file left by a bisect that
 * was killed. 0: go on; -1: stop (exit 2), having said why. */
static int
state_check(Bisect *b)
{
    BState st;
    char where[1100];
    int r = state_read(b, &st);
    if (r == 1)
        return 0;
    if (r < 0)
        return -1;
    if (state_owner_alive(&st)) {
        rd_msg(b->prog, "another sleuth bisect (pid %ld) is running in this repository; wait "
                        "for it to end", st.pid);
        return -1;
    }
    if (state_is_back(b, &st)) {
        unlink(b->statepath);
        rd_msg(b->prog, "note: removed the state of a bisect that was killed (pid %ld); the "
                        "repository was already back", st.pid);
        return 0;
    }
    describe_head(b, where, sizeof where);
    if (st.branch[0])
        rd_msg(b->prog, "a bisect that was killed (pid %ld) left this repository on %s; it "
                        "started on branch %s (%.12s)", st.pid, where, st.branch, st.commit);
    else
        rd_msg(b->prog, "a bisect that was killed (pid %ld) left this repository on %s; it "
                        "started on commit %.12s", st.pid, where, st.commit);
    if (isatty(0) && isatty(2)) {
        char line[64];
        fprintf(stderr, "%s: put it back now (changes to tracked files are stashed, not "
                        "lost)? [y/N] ", b->prog);
        fflush(stderr);
        if (fgets(line, sizeof line, stdin) && (line[0] == 'y' || line[0] == 'Y'))
            return state_restore(b, &st);
        rd_msg(b->prog, "nothing was changed; run `%s --restore` to put it back", b->prog);
        return -1;
    }
    rd_msg(b->prog, "nothing was changed; run `%s --restore` here to put it back", b->prog);
    return -1;
}

/* `sleuth bisect --restore`. Returns the exit status. */
static int
restore_main(Bisect *b)
{
    RdBuf out = {0};
    BState st;
    int rc = 2;
    if (git(b, &out, NULL, "rev-parse", "--show-toplevel", NULL, NULL, NULL, NULL) != 0) {
        rd_msg(b->prog, "not inside a git work tree (run --restore in the repository)");
        goto done;
    }
    b->top = strdup((const char *)out.data);
    if (!b->top || state_locate(b) < 0)
        goto done;
    int r = state_read(b, &st);
    if (r < 0)
        goto done;
    if (r == 1) {
        rd_msg(b->prog, "nothing to restore: no bisect was killed in this repository");
        rc = 0;
        goto done;
    }
    if (state_owner_alive(&st)) {
        rd_msg(b->prog, "a sleuth bisect (pid %ld) is still running in this repository; it "
                        "restores the repository when it ends", st.pid);
        goto done;
    }
    if (state_is_back(b, &st)) {
        unlink(b->statepath);
        rd_msg(b->prog, "the repository is already back; removed the killed bisect's state");
        rc = 0;
        goto done;
    }
    rc = state_restore(b, &st) == 0 ? 0 : 2;
done:
    rd_buf_free(&out);
    return rc;
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
    if (!b->top || state_locate(b) < 0 || state_check(b) < 0)
        goto done;
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
    b->refs_known = snapshot_refs(b, &b->refs_before, &b->stash_before) == 0;
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
        if (!b->state_written) {
            if (state_write(b) < 0) {
                b->fatal = 1;
                return B_STOP;
            }
            b->state_written = 1;
        }
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
"       %s --restore\n"
"\n"
"Find the first bad commit between REV good and REV bad (or the first bad\n"
"line of FILE, passed to CMD as {} or appended). CMD exits 0 for good, 125\n"
"to skip, anything else (or a signal) for bad. Both ends are checked first.\n"
"The repository is left on the branch/commit it was on. Refs the test\n"
"changes are reported; the branch bisect started on is put back.\n"
"\n"
"  --timeout S              a test running longer than S seconds is a skip\n"
"  --timeout-verdict V      skip (default) or bad\n"
"  --retries N              run every test 1+N times, majority wins\n"
"  --build CMD              run before each test; failure -> skip\n"
"  --build-failure V        skip (default) or bad\n"
"  --restore                put back a repository left by a bisect that was\n"
"                           killed (SIGKILL): its branch and commit; changes\n"
"                           to tracked files are stashed\n"
"  -h, --help               show this help\n"
"\n"
"examples:\n"
"  %s --good v1.2 --bad HEAD -- make test\n"
"  %s --good v1.2 --bad main --build 'make -j4' -- ./run-tests.sh\n"
"  %s --list versions.txt -- ./try-version.sh {}\n",
        prog, prog, prog, prog, prog, prog);
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
        if (strcmp(a, "--restore") == 0) {
            b->restore_only = 1;
            continue;
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
    if (b->restore_only) {
        if (i < argc || b->good || b->bad || b->list || b->build || b->timeout > 0 ||
            b->retries) {
            rd_msg(b->prog, "--restore takes no other option and no command");
            return -1;
        }
        return 0;
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
    if (b->restore_only) {
        exit_code = restore_main(b);
        goto done;
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
    if (b->state_written && !b->moved)
        unlink(b->statepath);
    else if (b->state_written)
        rd_msg(b->prog, "the way back is kept in %s: run `%s --restore` once the problem "
                        "above is fixed", b->statepath, b->prog);
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
    rd_buf_free(&b->refs_before);
    rd_buf_free(&b->stash_before);
    free(b->cmd);
    free(b);
    fflush(stdout);
    fflush(stderr);
    return exit_code;
}
