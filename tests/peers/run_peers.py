"""Run the replaced tools' own test suites against sleuth (`make test-peers`).

    python run_peers.py [--suite NAME ...] [-j N] [--timeout S] [--show-failures]

Run with the interpreter under test (a venv where sleuth is installed). Each
test runs in its own process with a time limit (or, for suites that cannot
hang, in one process with a verdict a test); a hang counts as a failure.
For every suite it prints sleuth's count and the stock tool's count side by
side, then one closing line `peers: N passed, N failed`.

Suites:
  pdb      CPython's Lib/test/test_pdb.py of this interpreter, with a `pdb`
           stand-in (standin/pdb.py) first on PYTHONPATH, so that the tests'
           `import pdb`, doctest's Pdb subclass and `python -m pdb` are sleuth.
  pytest   pytest's testing/test_debugging.py from the source distribution of
           the installed pytest version (downloaded once into PEERS_CACHE),
           with the same stand-in: pytest's --pdb, breakpoint() and
           pytest.set_trace() debug with sleuth.
  faulthandler, tracemalloc, traceback
           CPython's Lib/test/test_X.py of this interpreter, copied into
           PEERS_CACHE with every `import X` (child-process code strings
           included) rewritten to sleuth.faults, sleuth.memory and
           sleuth.traceback. faulthandler runs one process a test; the other
           two run in one process with a verdict a test, and tests left
           without one (a crash or a timeout) run one a process.

Known failures are listed per suite and version in known/SUITE-X.Y.txt (one
test id a line, `#` comments). The exit status is 1 when a test outside that
list fails (a regression), 0 otherwise; a listed test that passes is reported
so the list can shrink. docs/compat.md says why the lists hold what they hold.
"""
import argparse
import concurrent.futures as cf
import os
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(HERE, "standin")
CHILD = os.path.join(HERE, "child.py")
VERSION = "%d.%d" % sys.version_info[:2]
CACHE = os.environ.get("PEERS_CACHE") or os.path.join(
    os.path.dirname(os.path.dirname(HERE)), ".venv", "peers")


def base_env(standin):
    env = dict(os.environ)
    for k in ("PYTHONBREAKPOINT", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONSAFEPATH"):
        env.pop(k, None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    if standin:
        env["PYTHONPATH"] = STANDIN
    return env


def run(cmd, env, timeout, cwd=None):
    """(passed_or_skipped, verdict, output) of one child command."""
    try:
        p = subprocess.run(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, errors="replace",
                           timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or "") if isinstance(e.stdout, str) else ""
        return "fail", f"timed out after {timeout} s\n{out}"
    out = p.stdout + p.stderr
    m = re.findall(r"@@RESULT (\w+)", p.stdout)
    if m:
        return m[-1], out
    if p.returncode == 0:
        return "pass", out
    if p.returncode == 5:             # pytest: the id selected nothing
        return "skip", out
    return "fail", out


# --- suites ------------------------------------------------------------------

class UnittestSuite:
    """A CPython test module, one test a process."""

    def __init__(self, name, module):
        self.name, self.module = name, module

    def ids(self):
        p = subprocess.run([sys.executable, CHILD, self.module, "--list"],
                           env=base_env(True), capture_output=True, text=True,
                           timeout=300)
        if p.returncode:
            raise SystemExit(f"cannot list {self.module}:\n{p.stdout}{p.stderr}")
        return p.stdout.split()

    def run_one(self, tid, standin, timeout):
        # Each test in a directory of its own, as regrtest gives it: tests of
        # test_pdb write main.py and .pdbrc into the current directory, and
        # two run side by side (-j) would overwrite each other's files.
        with tempfile.TemporaryDirectory(prefix="peer-") as cwd:
            return run([sys.executable, CHILD, self.module, tid], base_env(standin), timeout,
                       cwd=cwd)

    def run_batch(self, ids, standin, timeout):
        """All of ids in one process (for the stock tool, which does not hang)."""
        p = subprocess.run([sys.executable, CHILD, self.module, "--all"],
                           env=base_env(standin), stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        got = dict(line.split()[2:0:-1] for line in p.stdout.splitlines()
                   if line.startswith("@@VERDICT "))
        return {tid: (got.get(tid, "fail"), "") for tid in ids}


class PytestSuite:
    """pytest's testing/test_debugging.py from its sdist, one test a process."""

    name = "pytest"

    def __init__(self):
        import pytest
        self.version = pytest.__version__
        self.root = os.path.join(CACHE, f"pytest-{self.version}")

    def fetch(self):
        target = os.path.join(self.root, "testing", "test_debugging.py")
        if os.path.exists(target):
            return
        os.makedirs(CACHE, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                            "--no-binary", ":all:", "-d", tmp,
                            f"pytest=={self.version}"], check=True,
                           stdin=subprocess.DEVNULL,
                           # the sdist's version comes from setuptools_scm, which
                           # has no git metadata to read in an unpacked sdist
                           env=dict(os.environ, SETUPTOOLS_SCM_PRETEND_VERSION_FOR_PYTEST=self.version))
            sdist = [f for f in os.listdir(tmp) if f.endswith(".tar.gz")][0]
            with tarfile.open(os.path.join(tmp, sdist)) as tf:
                members = [m for m in tf.getmembers()
                           if m.isfile() and ".." not in m.name
                           and ("/testing/" in m.name or m.name.endswith("/pyproject.toml"))]
                tf.extractall(tmp, members=members, filter="data")
            src = os.path.join(tmp, f"pytest-{self.version}")
            os.makedirs(self.root, exist_ok=True)
            os.rename(os.path.join(src, "pyproject.toml"), os.path.join(self.root, "pyproject.toml"))
            os.rename(os.path.join(src, "testing"), os.path.join(self.root, "testing"))

    def args(self):
        # pytest's own configuration (pyproject.toml: markers, warnings as
        # errors); -p no:cacheprovider keeps a cache folder out of the tree.
        return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                "--rootdir", self.root]

    def ids(self):
        self.fetch()
        p = subprocess.run(self.args() + ["--collect-only", "-q", "testing/test_debugging.py"],
                           env=base_env(True), cwd=self.root, capture_output=True,
                           text=True, timeout=300)
        ids = [line for line in p.stdout.splitlines() if "::" in line]
        if not ids:
            raise SystemExit(f"cannot collect pytest's tests:\n{p.stdout}{p.stderr}")
        return ids

    def run_one(self, tid, standin, timeout):
        return run(self.args() + [tid], base_env(standin), timeout, cwd=self.root)

    def run_batch(self, ids, standin, timeout):
        """All of ids in one pytest process (for stock pdb, which does not hang)."""
        import xml.etree.ElementTree as ET
        with tempfile.TemporaryDirectory() as tmp:
            xml = os.path.join(tmp, "junit.xml")
            subprocess.run(self.args() + ["-q", "--junitxml", xml, "testing/test_debugging.py"],
                           env=base_env(standin), cwd=self.root, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
            got = {}
            for case in ET.parse(xml).iter("testcase"):
                parts = case.get("classname").split(".")
                tid = "/".join(parts[:2]) + ".py::" + "::".join(parts[2:] + [case.get("name")])
                kids = {c.tag for c in case}
                got[tid] = ("fail" if kids & {"failure", "error"} else
                            "skip" if "skipped" in kids else "pass")
        return {tid: (got.get(tid, "fail"), "") for tid in ids}


class StdlibSuite(UnittestSuite):
    """A CPython test module of a stdlib tool that sleuth replaces, run on a
    copy whose `import TOOL` statements (child-process code strings included)
    read `import sleuth.X as TOOL`. The copy is loaded under the original's
    name (child.py NAME=PATH), so ids and `__name__`-based output match; the
    stock run imports the original.

    isolate=True: one process a test with a time limit (the suite crashes and
    hangs on purpose). isolate=False: one process for all, a verdict line per
    test; tests left without a verdict (the process crashed or timed out) are
    then run one a process.
    """

    def __init__(self, name, tool, sleuth_module, isolate):
        super().__init__(name, f"test.test_{tool}")
        self.tool, self.sleuth_module, self.isolate = tool, sleuth_module, isolate
        self.copy = None

    def rewritten(self):
        if self.copy is None:
            import test
            src = os.path.join(os.path.dirname(test.__file__), f"test_{self.tool}.py")
            with open(src, encoding="utf-8") as f:
                text = f.read()
            text, n = re.subn(rf"\bimport {self.tool}\b(?![.\w])",
                              f"import {self.sleuth_module} as {self.tool}", text)
            if not n:
                raise SystemExit(f"no `import {self.tool}` in {src}")
            folder = os.path.join(CACHE, f"stdlib-{VERSION}")
            os.makedirs(folder, exist_ok=True)
            self.copy = os.path.join(folder, f"test_{self.tool}.py")
            with open(self.copy, "w", encoding="utf-8") as f:
                f.write(text)
            # Data files the test reads from beside itself (test_traceback's
            # levenshtein_examples.json): the copy finds the originals.
            for data in re.findall(r"Path\(__file__\)\.parent / '([\w.-]+)'", text):
                target = os.path.join(folder, data)
                if not os.path.lexists(target):
                    os.symlink(os.path.join(os.path.dirname(src), data), target)
        return f"{self.module}={self.copy}"

    def target(self, standin):
        return self.rewritten() if standin else self.module

    def run_one(self, tid, standin, timeout):
        verdict = run([sys.executable, CHILD, self.target(standin), tid], base_env(False), timeout)
        return self.confirm(tid, standin, timeout, verdict)

    def confirm(self, tid, standin, timeout, verdict):
        """A test that fails in this harness runs again alone under CPython's
        own runner (regrtest), as CPython runs it, and that verdict counts:
        test_tracemalloc's test_snapshot, for one, counts the frames under
        the test (more than 10 under regrtest, fewer under child.py).
        A regrtest run that selects no test leaves the first verdict."""
        if verdict[0] != "fail":
            return verdict
        cmd = [sys.executable, "-m", "test"]
        if standin:
            folder = os.path.dirname(self.rewritten().split("=", 1)[1])
            cmd += ["--testdir", folder, f"test_{self.tool}", "-m", tid.split(".", 1)[1]]
        else:
            cmd += [self.module, "-m", tid]
        with tempfile.TemporaryDirectory(prefix="peer-") as cwd:
            try:
                p = subprocess.run(cmd, env=base_env(False), cwd=cwd, stdin=subprocess.DEVNULL,
                                   capture_output=True, text=True, errors="replace",
                                   timeout=timeout, start_new_session=True)
            except subprocess.TimeoutExpired:
                return verdict
        out = p.stdout + p.stderr
        ran = re.search(r"Total tests: run=(\d+)(?: \(filtered\))?(?: failures=\d+)?(?: skipped=(\d+))?", out)
        if not ran or ran.group(1) != "1":
            return verdict
        if p.returncode == 0 and "Result: SUCCESS" in out:
            return ("skip" if ran.group(2) == "1" else "pass"), verdict[1] + "\n[regrtest]\n" + out
        return "fail", verdict[1] + "\n[regrtest]\n" + out

    def run_batch(self, ids, standin, timeout):
        try:
            p = subprocess.run([sys.executable, CHILD, self.target(standin), "--all"],
                               env=base_env(False), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, errors="replace",
                               timeout=timeout, start_new_session=True)
            out = p.stdout
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        got = dict(line.split()[2:0:-1] for line in out.splitlines()
                   if line.startswith("@@VERDICT "))
        return {tid: self.confirm(tid, standin, 60, (got[tid], "")) for tid in ids if tid in got}

    def run_all(self, ids, standin, jobs, timeout):
        if self.isolate:
            return None
        res = self.run_batch(ids, standin, timeout * 10)
        rest = [tid for tid in ids if tid not in res]
        res.update(run_all_each(self, rest, standin, jobs, timeout))
        return res


SUITES = {
    "pdb": lambda: UnittestSuite("pdb", "test.test_pdb"),
    "pytest": PytestSuite,
    "faulthandler": lambda: StdlibSuite("faulthandler", "faulthandler", "sleuth.faults", True),
    "tracemalloc": lambda: StdlibSuite("tracemalloc", "tracemalloc", "sleuth.memory", False),
    "traceback": lambda: StdlibSuite("traceback", "traceback", "sleuth.traceback", False),
}


# --- driver --------------------------------------------------------------------

def known_failures(suite):
    path = os.path.join(HERE, "known", f"{suite}-{VERSION}.txt")
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {line.split("#")[0].strip() for line in f} - {""}


def run_all(suite, ids, standin, jobs, timeout):
    batched = getattr(suite, "run_all", None)
    results = batched(ids, standin, jobs, timeout) if batched else None
    return results if results is not None else run_all_each(suite, ids, standin, jobs, timeout)


def run_all_each(suite, ids, standin, jobs, timeout):
    results = {}
    with cf.ThreadPoolExecutor(jobs) as pool:
        futs = {pool.submit(suite.run_one, tid, standin, timeout): tid for tid in ids}
        for fut in cf.as_completed(futs):
            results[futs[fut]] = fut.result()
    return results


def count(results):
    verdicts = [v for v, _ in results.values()]
    return verdicts.count("pass"), verdicts.count("fail"), verdicts.count("skip")


def main():
    # Children inherit an ignored SIGINT (a job started with `&` by a shell
    # without job control has one), and test_pdb_issue_20766 then fails for
    # the stock pdb too: it prints the SIGINT handler, which Python only
    # installs when SIGINT is not ignored. The suites get the default.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", action="append", choices=sorted(SUITES))
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--no-stock", action="store_true",
                    help="skip the stock tool's run (its count is then not printed)")
    ap.add_argument("--show-failures", action="store_true",
                    help="print each failing test's output")
    ap.add_argument("-k", dest="select", help="only test ids containing this text")
    opts = ap.parse_args()

    total_pass = total_fail = 0
    regressions = []
    for name in opts.suite or sorted(SUITES):
        suite = SUITES[name]()
        t0 = time.monotonic()
        ids = suite.ids()
        if opts.select:
            ids = [i for i in ids if opts.select in i]
        res = run_all(suite, ids, True, opts.jobs, opts.timeout)
        known = known_failures(name)
        failed = sorted(t for t, (v, _) in res.items() if v == "fail")
        # A failure outside the known list is retried once alone: the machine is
        # shared, and a loaded moment must not pass for a regression.
        for tid in [t for t in failed if t not in known]:
            res[tid] = suite.run_one(tid, True, opts.timeout * 2)
        failed = sorted(t for t, (v, _) in res.items() if v == "fail")
        p, f, s = count(res)
        total_pass, total_fail = total_pass + p, total_fail + f
        line = f"{name} {VERSION}: sleuth {p} passed, {f} failed, {s} skipped"
        if not opts.no_stock:
            stock = suite.run_batch(ids, False, 30 * opts.timeout)
            stock = {tid: stock.get(tid, ("fail", "")) for tid in ids}
            sp, sf, ss = count(stock)
            stock_failed = {t for t, (v, _) in stock.items() if v == "fail"}
            line += f"   (stock: {sp} passed, {sf} failed, {ss} skipped)"
            extra = [t for t in failed if t not in stock_failed]
            line += f"; failing where stock passes: {len(extra)}"
        print(line + f"   [{time.monotonic() - t0:.0f} s]", flush=True)
        for tid in failed:
            mark = "known" if tid in known else "NEW"
            print(f"  {mark:5} {tid}")
            if opts.show_failures:
                print("    " + res[tid][1][-3000:].replace("\n", "\n    "))
            if tid not in known:
                regressions.append(f"{name}: {tid}")
        for tid in sorted(known & {t for t, (v, _) in res.items() if v == "pass"}):
            print(f"  fixed {tid}  (passes now: remove it from known/{name}-{VERSION}.txt)")
    if regressions:
        print(f"\n{len(regressions)} test(s) fail that are not in the known lists:")
        print("\n".join("  " + r for r in regressions))
    print(f"peers: {total_pass} passed, {total_fail} failed")
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
