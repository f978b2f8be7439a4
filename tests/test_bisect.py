"""sleuth bisect: over commits of a temporary git repository built here, and
over a list file. Every test checks that the repository is left on the
branch (or detached commit) it was on, with a clean work tree."""
import os
import signal
import subprocess
import sys
import time

import pytest

PY = sys.executable
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent",
}


def git(repo, *args):
    env = dict(os.environ, **GIT_ENV)
    r = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def make_repo(path, n=16, bad_at=11, extra=None):
    """Commit i writes state.txt; from commit BAD_AT on it says 'broken'."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    shas = []
    for i in range(n):
        (path / "state.txt").write_text("broken\n" if i >= bad_at else "fine\n")
        (path / f"file{i}.txt").write_text(f"{i}\n")
        if extra:
            extra(path, i)
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", f"change number {i}")
        shas.append(git(path, "rev-parse", "HEAD"))
    return shas


def bisect(args, cwd, timeout=120, env=None):
    full_env = dict(os.environ, **GIT_ENV)
    full_env.update(env or {})
    return subprocess.run([PY, "-m", "sleuth", "bisect", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def assert_restored(repo, head="refs/heads/main", sha=None):
    if sha is None:
        assert git(repo, "symbolic-ref", "HEAD") == head
    else:
        r = subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=repo, capture_output=True)
        assert r.returncode != 0     # still detached
        assert git(repo, "rev-parse", "HEAD") == sha
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert not os.path.exists(repo / ".git" / "BISECT_LOG")


def test_finds_first_bad_commit_with_details(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    r = bisect(["--good", shas[0], "--bad", "main", "--", "grep -q fine state.txt"], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]} change number 11" in r.stdout
    assert "Author: Ada Lovelace <ada@example.org>" in r.stdout
    assert "M\tstate.txt" in r.stdout and "A\tfile11.txt" in r.stdout
    assert_restored(repo)


def test_restores_detached_head_and_undoes_test_changes(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    git(repo, "checkout", "-q", "--detach", shas[5])
    # The test scribbles over a tracked file every time.
    r = bisect(["--good", shas[0], "--bad", shas[-1], "--",
                "grep -q fine state.txt; rc=$?; echo junk > file0.txt; exit $rc"], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]}" in r.stdout
    assert_restored(repo, sha=shas[5])
    assert (repo / "file0.txt").read_text() == "0\n"


def test_untracked_file_in_the_way_is_an_error_and_restores(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    # At commit 0 the test creates file5.txt, which later commits track:
    # checking one of those out fails; sleuth says so and goes back.
    r = bisect(["--good", shas[0], "--bad", shas[-1], "--",
                "echo x > file5.txt; grep -q fine state.txt"], repo)
    assert r.returncode == 2
    assert "git checkout failed" in r.stderr and "file5.txt" in r.stderr
    assert_restored(repo)


def test_command_as_several_words(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    r = bisect(["--good", shas[0], "--bad", "HEAD", "--", "grep", "-q", "fine", "state.txt"], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]}" in r.stdout
    assert_restored(repo)


def test_skip_exit_125(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    # Commits 5..7 cannot be tested; 11 is still found exactly.
    test = ("n=$(ls file*.txt | wc -l); if [ $n -ge 6 ] && [ $n -le 8 ]; then exit 125; fi; "
            "grep -q fine state.txt")
    r = bisect(["--good", shas[0], "--bad", shas[-1], "--", test], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]}" in r.stdout
    assert_restored(repo)


def test_all_skipped_gives_a_range(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    test = ("n=$(ls file*.txt | wc -l); if [ $n -ge 10 ] && [ $n -le 12 ]; then exit 125; fi; "
            "grep -q fine state.txt")
    r = bisect(["--good", shas[0], "--bad", shas[-1], "--", test], repo)
    assert r.returncode == 1, r.stderr
    assert "could not be found exactly" in r.stdout
    for i in (10, 11, 12):
        assert shas[i] in r.stdout
    assert_restored(repo)


def test_signal_counts_as_bad(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    r = bisect(["--good", shas[0], "--bad", shas[-1], "--",
                "grep -q fine state.txt || kill -SEGV $$"], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]}" in r.stdout
    assert "signal 11" in r.stderr
    assert_restored(repo)


def test_timeout_is_skip_or_bad(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    # Commit 9 hangs. As a skip the answer stays exact.
    test = "[ $(ls file*.txt | wc -l) = 10 ] && sleep 30; grep -q fine state.txt"
    r = bisect(["--timeout", "0.5", "--good", shas[0], "--bad", shas[-1], "--", test], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]}" in r.stdout
    assert "timed out" in r.stderr
    assert_restored(repo)
    # As bad, the hang itself is the first bad commit.
    r = bisect(["--timeout", "0.5", "--timeout-verdict", "bad", "--good", shas[0], "--bad",
                shas[-1], "--", test], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[9]}" in r.stdout
    assert_restored(repo)


def test_build_failure_is_skip(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    r = bisect(["--build", "[ $(ls file*.txt | wc -l) != 9 ]", "--good", shas[0], "--bad",
                shas[-1], "--", "grep -q fine state.txt"], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]}" in r.stdout
    assert_restored(repo)


def test_retries_take_the_majority(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    counter = tmp_path / "count"
    # Every third run lies ("good" on a bad commit).
    test = (f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; "
            "[ $((n % 3)) = 0 ] && exit 0; grep -q fine state.txt")
    r = bisect(["--retries", "2", "--good", shas[0], "--bad", shas[-1], "--", test], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]}" in r.stdout
    assert "flaky" in r.stderr
    assert_restored(repo)


def test_good_end_already_bad_is_reported(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    r = bisect(["--good", shas[0], "--bad", shas[-1], "--", "false"], repo)
    assert r.returncode == 2
    assert "fails on the good end too" in r.stderr
    assert_restored(repo)


# What a test prints is untrusted: escape sequences, CR, BEL, bidi and C1
# controls, and bytes that are not UTF-8 reach the terminal escaped.
EVIL_OUTPUT = (b"start A\x1b]0;pwned\x07B\x1b[2J\rC\xe2\x80\xaeD\xc2\x9bE\xffF\x00G"
               b" caf\xc3\xa9 end\n")
EVIL_ESCAPED = "A\\x1b]0;pwned\\x07B\\x1b[2J\\x0dC\\u202eD\\x9bE\\xffF\\x00G café end"


def assert_escaped_tail(stderr_bytes):
    for raw in (b"\x1b", b"\x07", b"\r", b"\xe2\x80\xae", b"\xc2\x9b", b"\xff", b"\x00"):
        assert raw not in stderr_bytes, (raw, stderr_bytes)
    err = stderr_bytes.decode("utf-8")
    assert "the test printed:\nstart " + EVIL_ESCAPED + "\n" in err, err


def test_log_tail_is_escaped(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    script = tmp_path / "evil_test.py"
    script.write_text(f"import sys\nsys.stdout.buffer.write({EVIL_OUTPUT!r})\nsys.exit(1)\n")
    r = subprocess.run([PY, "-m", "sleuth", "bisect", "--good", shas[0], "--bad", shas[-1], "--",
                        PY, str(script)], cwd=repo, env=dict(os.environ, **GIT_ENV),
                       capture_output=True, timeout=120)
    assert r.returncode == 2
    assert b"fails on the good end too" in r.stderr
    assert_escaped_tail(r.stderr)
    assert_restored(repo)


def test_bad_end_passing_is_reported(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    r = bisect(["--good", shas[0], "--bad", shas[-1], "--", "true"], repo)
    assert r.returncode == 2
    assert "passes on the bad end" in r.stderr
    assert_restored(repo)


def test_command_not_found(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo, n=4, bad_at=2)
    r = bisect(["--good", shas[0], "--bad", shas[-1], "--", "no-such-cmd-xyz"], repo)
    assert r.returncode == 2
    assert "was not found" in r.stderr
    assert_restored(repo)


def test_dirty_tree_and_bad_revisions(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo, n=4, bad_at=2)
    r = bisect(["--good", "nope", "--bad", shas[-1], "--", "true"], repo)
    assert r.returncode == 2 and "unknown revision nope" in r.stderr
    r = bisect(["--good", shas[-1], "--bad", shas[0], "--", "true"], repo)
    assert r.returncode == 2 and "not an ancestor" in r.stderr
    (repo / "state.txt").write_text("local edit\n")
    r = bisect(["--good", shas[0], "--bad", shas[-1], "--", "true"], repo)
    assert r.returncode == 2 and "uncommitted changes" in r.stderr
    assert (repo / "state.txt").read_text() == "local edit\n"


def test_not_a_repository(tmp_path):
    r = bisect(["--good", "a", "--bad", "b", "--", "true"], tmp_path)
    assert r.returncode == 2
    assert "not inside a git work tree" in r.stderr


@pytest.mark.parametrize("args,needle", [
    ([], "missing the test command"),
    (["--", "true"], "give --good REV and --bad REV, or --list FILE"),
    (["--list", "x", "--good", "a", "--", "true"], "cannot be combined"),
    (["--timeout", "0", "--list", "x", "--", "true"], "--timeout needs"),
    (["--timeout-verdict", "maybe", "--list", "x", "--", "true"], "skip or bad"),
    (["--frobnicate", "--", "true"], "unknown option --frobnicate"),
])
def test_usage_errors(tmp_path, args, needle):
    r = bisect(args, tmp_path)
    assert r.returncode == 2
    assert needle in r.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM])
def test_ctrl_c_restores_repository(tmp_path, sig):
    """Ctrl-C, a closed terminal (SIGHUP), SIGUSR1, SIGTERM: each leaves the
    repository as it was."""
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    marker = tmp_path / "started"
    env = dict(os.environ, **GIT_ENV)
    p = subprocess.Popen([PY, "-m", "sleuth", "bisect", "--good", shas[0], "--bad", shas[-1],
                          "--", f"touch {marker}; sleep 0.3; grep -q fine state.txt"],
                         cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    deadline = time.monotonic() + 60
    # Wait until the search is in the middle (both ends done, HEAD moved).
    while time.monotonic() < deadline and p.poll() is None:
        if p.poll() is None and marker.exists():
            head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                                  text=True).stdout.strip()
            if head not in (shas[0], shas[-1]):
                break
        time.sleep(0.05)
    assert p.poll() is None
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 128 + sig, err
    assert "interrupted" in err
    assert_restored(repo)


# ---- --list ------------------------------------------------------------------

def test_list_mode(tmp_path):
    items = tmp_path / "versions.txt"
    items.write_text("".join(f"{v}\n" for v in range(1, 31)))
    r = bisect(["--list", str(items), "--", "test {} -lt 17"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "first bad item: 17 (line 17 of" in r.stdout


def test_list_mode_appends_item_and_checks_ends(tmp_path):
    items = tmp_path / "flags.txt"
    items.write_text("-O0\n-O1\n-O2\n-O3\n")
    (tmp_path / "t.sh").write_text('[ "$1" != -O3 ] && [ "$1" != -O2 ]\n')
    r = bisect(["--list", str(items), "--", "sh", "t.sh"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "first bad item: -O2" in r.stdout
    r = bisect(["--list", str(items), "--", "sh t.sh -O3"], tmp_path)
    assert r.returncode == 2 and "fails on the good end too" in r.stderr
    (tmp_path / "one.txt").write_text("only\n")
    r = bisect(["--list", str(tmp_path / "one.txt"), "--", "true"], tmp_path)
    assert r.returncode == 2 and "at least two items" in r.stderr
    r = bisect(["--list", str(tmp_path / "missing.txt"), "--", "true"], tmp_path)
    assert r.returncode == 2 and "cannot read the list" in r.stderr


# ---- refs the test changes -----------------------------------------------------

def test_test_that_moves_branches_makes_tags_and_stashes(tmp_path):
    """The test moves main back one commit, tags every commit it runs on, and
    stashes its own edit: bisect says what changed in refs and puts main
    back on the commit it started on."""
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    git(repo, "branch", "keep", shas[3])
    test = ("git branch -f main HEAD~1 2>/dev/null; git branch -D keep >/dev/null 2>&1; "
            "git tag -f t$(ls file*.txt | wc -l) >/dev/null; "
            "echo x >> file0.txt; git stash -q; grep -q fine state.txt")
    r = bisect(["--good", shas[0], "--bad", "main", "--", test], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]}" in r.stdout
    assert "the test changed refs of the repository" in r.stderr
    assert "  moved   refs/heads/main: " in r.stderr
    assert f"  deleted refs/heads/keep (was {shas[3][:12]})" in r.stderr
    assert f"  created refs/tags/t16 at {shas[15][:12]}" in r.stderr
    assert "  stash: " in r.stderr and "entries added" in r.stderr
    assert f"branch main put back on {shas[-1][:12]}" in r.stderr
    assert_restored(repo)
    assert git(repo, "rev-parse", "main") == shas[-1]
    assert git(repo, "rev-parse", "HEAD") == shas[-1]
    # The test's tags and stashes are left for the user to look at.
    assert "t16" in git(repo, "tag").split()
    assert git(repo, "stash", "list")


def test_test_that_deletes_the_starting_branch(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo, n=6, bad_at=3)
    git(repo, "checkout", "-q", "-b", "work")
    r = bisect(["--good", shas[0], "--bad", "work", "--",
                "git branch -D work >/dev/null 2>&1; grep -q fine state.txt"], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[3]}" in r.stderr + r.stdout
    assert f"branch work created again on {shas[-1][:12]}" in r.stderr
    assert_restored(repo, head="refs/heads/work")


def test_no_report_when_refs_are_untouched(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo, n=6, bad_at=3)
    r = bisect(["--good", shas[0], "--bad", "main", "--", "grep -q fine state.txt"], repo)
    assert r.returncode == 0, r.stderr
    assert "changed refs" not in r.stderr and "put back" not in r.stderr
    assert not (repo / ".git" / "sleuth-bisect-state").exists()


# ---- after SIGKILL -------------------------------------------------------------

def test_sigkill_then_next_run_offers_and_restore_puts_back(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo)
    state = repo / ".git" / "sleuth-bisect-state"
    env = dict(os.environ, **GIT_ENV)
    mark = tmp_path / "mid"
    # On a commit inside the range the test edits a tracked file, says so
    # (outside the repository: no git command of ours may race bisect's)
    # and waits to be killed.
    test = ("n=$(ls file*.txt | wc -l); echo junk >> file0.txt; "
            f"if [ $n -ne 1 ] && [ $n -ne 16 ]; then touch {mark}; sleep 3; fi; "
            "grep -q fine state.txt")
    p = subprocess.Popen([PY, "-m", "sleuth", "bisect", "--good", shas[0], "--bad", "main", "--",
                          test], cwd=repo, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    killed_on = None
    while time.monotonic() < deadline and p.poll() is None:
        if mark.exists():
            p.kill()
            killed_on = True
            break
        time.sleep(0.02)
    p.wait(timeout=30)
    assert killed_on, "the bisect never reached the middle with the test's edit"
    assert state.exists()
    # The repository is left detached, with the test's edit.
    assert subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=repo).returncode != 0
    left_head = git(repo, "rev-parse", "HEAD")
    assert "junk" in (repo / "file0.txt").read_text()
    # The next run, with no terminal: says what to run and touches nothing.
    r = subprocess.run([PY, "-m", "sleuth", "bisect", "--good", shas[0], "--bad", "main", "--",
                        "true"], cwd=repo, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert f"a bisect that was killed (pid {p.pid}) left this repository on commit " \
           f"{left_head[:12]}; it started on branch main ({shas[-1][:12]})" in r.stderr
    assert "run `sleuth bisect --restore` here to put it back" in r.stderr
    assert git(repo, "rev-parse", "HEAD") == left_head
    assert "junk" in (repo / "file0.txt").read_text()
    assert state.exists()
    # --restore puts branch, HEAD and work tree back; the edit is stashed.
    r = bisect(["--restore"], repo)
    assert r.returncode == 0, r.stderr
    assert f"the repository is back on branch main ({shas[-1][:12]})" in r.stderr
    assert "stash@{0}" in r.stderr
    assert_restored(repo)
    assert git(repo, "rev-parse", "HEAD") == shas[-1]
    assert (repo / "file0.txt").read_text() == "0\n"
    assert "junk" in git(repo, "stash", "show", "-p", "stash@{0}")
    assert not state.exists()
    r = bisect(["--restore"], repo)
    assert r.returncode == 0 and "nothing to restore" in r.stderr
    # And a normal search works again.
    r = bisect(["--good", shas[0], "--bad", "main", "--", "grep -q fine state.txt"], repo)
    assert r.returncode == 0, r.stderr
    assert f"first bad commit: {shas[11]}" in r.stdout


def test_state_of_a_live_or_damaged_bisect(tmp_path):
    repo = tmp_path / "repo"
    shas = make_repo(repo, n=4, bad_at=2)
    state = repo / ".git" / "sleuth-bisect-state"
    # A state file whose writer is alive (this very test process).
    state.write_text(f"sleuth bisect state 1\npid {os.getpid()}\nstarted 0\nbranch main\n"
                     f"commit {shas[1]}\n")
    r = bisect(["--good", shas[0], "--bad", "main", "--", "true"], repo)
    assert r.returncode == 2
    assert f"another sleuth bisect (pid {os.getpid()}) is running" in r.stderr
    r = bisect(["--restore"], repo)
    assert r.returncode == 2 and "is still running" in r.stderr
    assert git(repo, "rev-parse", "HEAD") == shas[-1] and state.exists()
    # Damaged: said so, nothing done.
    state.write_text("sleuth bisect state 1\npid x\n")
    r = bisect(["--restore"], repo)
    assert r.returncode == 2 and "is damaged or not sleuth's" in r.stderr
    # A dead writer while the repository is already back: removed quietly.
    state.write_text(f"sleuth bisect state 1\npid 999999999\nstarted 1\nbranch main\n"
                     f"commit {shas[-1]}\n")
    r = bisect(["--good", shas[0], "--bad", "main", "--", "grep -q fine state.txt"], repo)
    assert r.returncode == 0, r.stderr
    assert "was already back" in r.stderr
    assert not state.exists()
    r = bisect(["--restore", "--good", "x"], repo)
    assert r.returncode == 2 and "--restore takes no other option" in r.stderr


def test_killed_state_offered_on_a_terminal(tmp_path):
    """On a terminal the next bisect asks; 'y' puts the repository back and
    the new search goes on."""
    import pty
    repo = tmp_path / "repo"
    shas = make_repo(repo, n=6, bad_at=3)
    # What a SIGKILLed bisect leaves: detached mid-range, the state file.
    git(repo, "checkout", "-q", "--detach", shas[2])
    state = repo / ".git" / "sleuth-bisect-state"
    state.write_text(f"sleuth bisect state 1\npid 999999999\nstarted 1\nbranch main\n"
                     f"commit {shas[-1]}\n")
    master, slave = pty.openpty()
    env = dict(os.environ, **GIT_ENV)
    p = subprocess.Popen([PY, "-m", "sleuth", "bisect", "--good", shas[0], "--bad", "main", "--",
                          "grep -q fine state.txt"], cwd=repo, env=env, stdin=slave,
                         stderr=slave, stdout=subprocess.PIPE, text=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    answered = False
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"[y/N] " in seen:
            os.write(master, b"y\n")
            answered = True
    os.close(master)
    out, _ = p.communicate(timeout=60)
    text = seen.decode(errors="replace")
    assert answered, text
    assert p.returncode == 0, text
    assert "a bisect that was killed (pid 999999999) left this repository on commit " \
           f"{shas[2][:12]}" in text
    assert f"the repository is back on branch main ({shas[-1][:12]})" in text
    assert f"first bad commit: {shas[3]}" in out
    assert_restored(repo)
    assert not state.exists()
