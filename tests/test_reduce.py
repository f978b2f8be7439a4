"""sleuth reduce: reduction results, 1-minimality, determinism, helper mode,
Ctrl-C, flaky tests.

Every reduction runs `python -m sleuth reduce` in a child process on a
generated input whose smallest failing variant is known, and checks the
result against the same predicate the test command uses (so 1-minimality is
checked independently of the reducer: every single-unit deletion must make
the predicate false).
"""
import ast
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import SANITIZED

PY = sys.executable


def sleuth_reduce(args, cwd, timeout=120, env=None, interestingness=True):
    """Most tests here use C-Reduce-style test scripts (exit 0 = the input
    still fails): they say so with --interestingness, unless they choose
    another rule (--expect-*) or test the default (interestingness=False)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    rule = []
    if interestingness and not {"--help", "--expect-output", "--expect-exit"} & set(args):
        rule = ["--interestingness"]
    return subprocess.run([PY, "-m", "sleuth", "reduce", *rule, *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def write(path, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)
    return str(path)


def one_byte_deletions(data):
    for i in range(len(data)):
        yield data[:i] + data[i + 1:]


def assert_one_minimal_bytes(result, predicate):
    assert predicate(result)
    for smaller in one_byte_deletions(result):
        assert not predicate(smaller), smaller


# ---- predicates (the same code runs as the test command) ------------------

PY_PRED = r'''
import ast, sys
def pred(src):
    try:
        tree = ast.parse(src)
    except Exception:
        return False
    cls = any(isinstance(n, ast.ClassDef) and n.name == "Trigger" and
              any(isinstance(m, ast.FunctionDef) and m.name == "run" for m in n.body)
              for n in ast.walk(tree))
    call = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and
               n.func.id == "register" and n.args and isinstance(n.args[0], ast.Constant)
               and n.args[0].value == "alpha" for n in ast.walk(tree))
    return cls and call
if __name__ == "__main__":
    sys.exit(0 if pred(open(sys.argv[1], "rb").read()) else 1)
'''

CSV_PRED = r'''
import csv, io, sys
def pred(data):
    try:
        rows = list(csv.DictReader(io.StringIO(data.decode())))
    except Exception:
        return False
    names = {r.get("name") for r in rows if r.get("amount") == "-17"}
    return {"Zed", "Amy"} <= names
if __name__ == "__main__":
    sys.exit(0 if pred(open(sys.argv[1], "rb").read()) else 1)
'''

JSON_PRED = r'''
import json, sys
def walk(x):
    if isinstance(x, dict):
        return x.get("id") == "bug-4711" or any(walk(v) for v in x.values())
    if isinstance(x, list):
        return any(walk(v) for v in x)
    return False
def pred(data):
    try:
        return walk(json.loads(data))
    except Exception:
        return False
if __name__ == "__main__":
    sys.exit(0 if pred(open(sys.argv[1], "rb").read()) else 1)
'''

BIN_PRED = r'''
import sys
def pred(d):
    i = d.find(b"\xf1")
    j = d.find(b"\xf2", i + 1) if i >= 0 else -1
    return j >= 0 and d.find(b"\xf3", j + 1) >= 0
if __name__ == "__main__":
    sys.exit(0 if pred(open(sys.argv[1], "rb").read()) else 1)
'''


# Shell versions of two predicates (no interpreter start-up per test: the
# suite stays fast). They agree with CSV_PRED/BIN_PRED on these inputs, which
# contain no quotes; the Python versions check the results independently.
CSV_SH = (
    "awk -F, 'NR==1{for(i=1;i<=NF;i++){if($i==\"name\")n=i;if($i==\"amount\")a=i}}"
    " NR>1&&n&&a&&$a==\"-17\"{if($n==\"Zed\")z=1;if($n==\"Amy\")y=1}"
    " END{exit !(z&&y)}' \"$1\"\n")
BIN_SH = ("s=$(LC_ALL=C tr -dc '\\361\\362\\363' < \"$1\")\n"
          "case \"$s\" in *$(printf '\\361')*$(printf '\\362')*$(printf '\\363')*) exit 0;; esac\n"
          "exit 1\n")


def load_pred(src):
    ns = {"__name__": "pred"}
    exec(src, ns)
    return ns["pred"]


def python_input():
    out = ["import os", ""]
    for i in range(8):
        out += [f"def helper_{i}(a, b, c={i}):", f"    '''Helper {i}.'''",
                f"    x = a + b * {i}", f"    if x > {i}:", "        for k in range(c):",
                "            x += k", "    return x", ""]
        if i == 2:
            out += ["class Trigger(object):", "    value = 3", "    def run(self, n):",
                    "        total = self.value", "        return total + n", ""]
    out += ["if __name__ == '__main__':", "    print(helper_1(1, 2))",
            "    register('alpha', helper_3)"]
    return "\n".join(out) + "\n"


def csv_input(n=250):
    import random
    rnd = random.Random(5)
    rows = ["id,name,city,amount,note"]
    for i in range(n):
        rows.append(f"{i},name{rnd.randint(0, 999)},city{rnd.randint(0, 99)},"
                    f"{rnd.randint(1, 99999)},n{rnd.random():.4f}")
    rows[n // 5] = f"{n // 5},Zed,Oslo,-17,refund"
    rows[n - 7] = f"{n - 7},Amy,Oslo,-17,refund"
    return "\n".join(rows) + "\n"


def json_input():
    import random
    rnd = random.Random(3)

    def make(depth):
        if depth == 0:
            return rnd.choice([1, 2.5, "xy", None, True])
        return {f"k{depth}_{i}": make(depth - 1) if rnd.random() < 0.6 else [1, 2, 3]
                for i in range(3)}
    doc = make(5)
    d = doc
    for _ in range(5):
        keys = sorted(k for k in d if isinstance(d[k], dict))
        if not keys:
            break
        d = d[keys[-1]]
    d["needle"] = {"id": "bug-4711", "extra": [1, 2, 3], "more": {"a": "b"}}
    return json.dumps(doc, indent=2)


def binary_input():
    import random
    rnd = random.Random(11)
    data = bytearray(rnd.randrange(0, 0xF0) for _ in range(3000))
    data[100], data[1500], data[2900] = 0xF1, 0xF2, 0xF3
    data[10] = 0   # binary for sure
    return bytes(data)


# ---- reduction results -----------------------------------------------------

@pytest.mark.parametrize("kind", ["python", "csv", "json", "binary"])
def test_reaches_known_minimum_and_is_1_minimal(tmp_path, kind):
    pred_src, data, name, minimum, shell = {
        "python": (PY_PRED, python_input(), "in.py", 43, None),
        "csv": (CSV_PRED, csv_input(), "in.csv", len("name,amount\nZed,-17\nAmy,-17"), CSV_SH),
        "json": (JSON_PRED, json_input(), "in.json", len('{"id":"bug-4711"}'), None),
        "binary": (BIN_PRED, binary_input(), "in.bin", 3, BIN_SH),
    }[kind]
    write(tmp_path / "pred.py", pred_src)
    if shell:
        write(tmp_path / "pred.sh", shell)
        test = "sh pred.sh {}"
    else:
        test = f"{PY} -S pred.py {{}}"
    inp = write(tmp_path / name, data)
    original = open(inp, "rb").read()
    pred = load_pred(pred_src)
    assert pred(original)
    r = sleuth_reduce(["--test", test, inp, "-o", "out"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"format {kind}" in r.stderr
    result = open(tmp_path / "out", "rb").read()
    assert len(result) == minimum, result
    assert_one_minimal_bytes(result, pred)
    assert open(inp, "rb").read() == original          # input never modified
    assert "1-minimal for the last pass, bytes" in r.stderr


def test_two_distant_lines_shell_test_and_default_output(tmp_path):
    lines = [f"line {i} filler" for i in range(3000)]
    lines[200], lines[2800] = "AAA here", "BBB there"
    inp = write(tmp_path / "big.txt", "\n".join(lines) + "\n")
    r = sleuth_reduce(["--test", "grep -q AAA {} && grep -q BBB {}", inp], tmp_path)
    assert r.returncode == 0, r.stderr
    assert open(inp + ".reduced").read() == "AAABBB"
    assert "result in " + inp + ".reduced" in r.stderr


def test_path_is_appended_without_braces(tmp_path):
    write(tmp_path / "t.sh", 'grep -q needle "$1"\n')
    inp = write(tmp_path / "in.txt", "a\nb\nneedle\nc\n")
    r = sleuth_reduce(["--test", "sh t.sh", "--passes", "lines", inp, "-o", "o"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert open(tmp_path / "o").read() == "needle\n"


def test_lines_pass_is_1_minimal(tmp_path):
    # Needs lines containing 3, 7 and 11 (as whole lines), any order.
    write(tmp_path / "t.sh", "for n in 3 7 11; do grep -qx $n \"$1\" || exit 1; done\n")
    inp = write(tmp_path / "in.txt", "".join(f"{i}\n" for i in range(40)))
    r = sleuth_reduce(["--test", "sh t.sh", "--passes", "lines", inp, "-o", "o"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert open(tmp_path / "o").read() == "3\n7\n11\n"


def test_deterministic_across_job_counts(tmp_path):
    write(tmp_path / "t.sh", "grep -q 'k[0-9]*7' \"$1\" && grep -q 'z' \"$1\"\n")
    inp = write(tmp_path / "in.txt", "".join(f"k{i} {'z' if i % 13 == 0 else 'y'}\n"
                                             for i in range(300)))
    outs = []
    for jobs in ("1", "2", "4"):
        r = sleuth_reduce(["--test", "sh t.sh", "--jobs", jobs, inp, "-o", f"o{jobs}"], tmp_path)
        assert r.returncode == 0, r.stderr
        outs.append(open(tmp_path / f"o{jobs}").read())
    assert outs[0] == outs[1] == outs[2]


def test_python_body_to_pass_and_args(tmp_path):
    # The test needs a parseable file with a function f called with an argument.
    pred = ("import ast,sys\n"
            "try: t=ast.parse(open(sys.argv[1]).read())\nexcept Exception: sys.exit(1)\n"
            "ok=any(isinstance(n,ast.FunctionDef) and n.name=='f' for n in ast.walk(t)) and "
            "any(isinstance(n,ast.Call) and getattr(n.func,'id','')=='f' and n.args "
            "for n in ast.walk(t))\nsys.exit(0 if ok else 1)\n")
    write(tmp_path / "p.py", pred)
    src = ("def f(a, b=2, *args, **kw):\n    if a:\n        return b\n    for x in args:\n"
           "        print(x)\n    return kw\n\nf(1, 2, 3, x=4)\n")
    inp = write(tmp_path / "in.py", src)
    r = sleuth_reduce(["--test", f"{PY} -S p.py", "--passes", "py-stmts,py-pass,py-args",
                       inp, "-o", "o.py"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "needs parseable python" in r.stderr
    tree = ast.parse(open(tmp_path / "o.py").read())
    fdef, call = tree.body
    assert isinstance(fdef, ast.FunctionDef)
    assert ast.dump(fdef.args) == ast.dump(ast.parse("def f(): pass").body[0].args)
    assert [type(s) for s in fdef.body] == [ast.Pass]          # body -> pass
    assert len(call.value.args) == 1 and not call.value.keywords


def test_json_hoist_and_members(tmp_path):
    write(tmp_path / "p.py", JSON_PRED)
    doc = {"a": [1, {"b": {"c": [{"id": "bug-4711", "x": 1}], "d": 2}}], "e": {"f": 3}}
    inp = write(tmp_path / "in.json", json.dumps(doc, indent=1))
    r = sleuth_reduce(["--test", f"{PY} -S p.py", "--passes", "json-members,json-hoist",
                       inp, "-o", "o.json"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(open(tmp_path / "o.json").read()) == {"id": "bug-4711"}


def test_csv_keeps_header_and_drops_columns(tmp_path):
    write(tmp_path / "p.sh", CSV_SH)
    inp = write(tmp_path / "data.csv", csv_input(60))
    r = sleuth_reduce(["--test", "sh p.sh", "--passes", "csv-rows,csv-cols", inp,
                       "-o", "o.csv"], tmp_path)
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(open(tmp_path / "o.csv").read())))
    assert rows == [["name", "amount"], ["Zed", "-17"], ["Amy", "-17"]]


def test_expect_output_and_exit_helper_mode(tmp_path):
    prog = ("import sys\nfor line in open(sys.argv[1]):\n"
            "    if 'boom' in line and 'x' in line:\n        raise ValueError('boom')\n")
    write(tmp_path / "prog.py", prog)
    inp = write(tmp_path / "in.txt", "".join(f"row {i}\n" for i in range(50)) + "xx boom\nend\n")
    r = sleuth_reduce(["--test", f"{PY} -S prog.py {{}}", "--expect-output",
                       "ValueError: boom", "--expect-exit", "1", inp, "-o", "o"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert open(tmp_path / "o").read() in ("xboom", "boomx")
    # An exit status that never happens: the failure does not reproduce.
    r = sleuth_reduce(["--test", f"{PY} -S prog.py {{}}", "--expect-exit", "3", inp,
                       "-o", "o2"], tmp_path)
    assert r.returncode == 2
    assert "does not reproduce" in r.stderr


def test_output_tail_is_escaped(tmp_path):
    # What a test prints is untrusted: shown with controls and bad bytes escaped.
    evil = (b"start A\x1b]0;pwned\x07B\x1b[2J\rC\xe2\x80\xaeD\xc2\x9bE\xffF\x00G"
            b" caf\xc3\xa9 end\n")
    write(tmp_path / "prog.py", f"import sys\nsys.stdout.buffer.write({evil!r})\nsys.exit(1)\n")
    inp = write(tmp_path / "in.txt", "a\nb\n")
    r = subprocess.run([PY, "-m", "sleuth", "reduce", "--test", f"{PY} -S prog.py {{}}",
                        "--expect-exit", "3", str(inp), "-o", "o"], cwd=tmp_path,
                       capture_output=True, timeout=120)
    assert r.returncode == 2
    for raw in (b"\x1b", b"\x07", b"\r", b"\xe2\x80\xae", b"\xc2\x9b", b"\xff", b"\x00"):
        assert raw not in r.stderr, (raw, r.stderr)
    err = r.stderr.decode("utf-8")
    assert ("the test printed:\nstart A\\x1b]0;pwned\\x07B\\x1b[2J\\x0dC\\u202eD\\x9bE"
            "\\xffF\\x00G café end\n") in err, err


def test_timeout_counts_as_not_failing(tmp_path):
    # Without the line "keep" the test hangs; timeouts must count as "passes".
    write(tmp_path / "t.sh", 'grep -q keep "$1" || sleep 30\ngrep -q bug "$1"\n')
    inp = write(tmp_path / "in.txt", "a\nkeep\nb\nbug\nc\n")
    r = sleuth_reduce(["--test", "sh t.sh", "--timeout", "0.5", "--passes", "lines",
                       inp, "-o", "o"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert open(tmp_path / "o").read() == "keep\nbug\n"
    assert "timed out" in r.stderr


# ---- flaky tests -----------------------------------------------------------

FLAKY = ('n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count\n'
         'grep -q needle "$1" || exit 1\n[ $((n % 2)) = 1 ]\n')


def test_flaky_test_is_reported(tmp_path):
    write(tmp_path / "t.sh", FLAKY)
    inp = write(tmp_path / "in.txt", "a\nneedle\nb\n")
    r = sleuth_reduce(["--test", "sh t.sh", "-j", "1", inp, "-o", "o"], tmp_path)
    assert r.returncode == 2
    assert "flaky" in r.stderr and "--retries" in r.stderr
    assert not os.path.exists(tmp_path / "o")


def test_flaky_test_tolerated_with_retries(tmp_path):
    write(tmp_path / "t.sh", FLAKY)
    inp = write(tmp_path / "in.txt", "a\nneedle\nb\n")
    r = sleuth_reduce(["--test", "sh t.sh", "-j", "1", "--retries", "2", "--passes", "lines",
                       inp, "-o", "o"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "flaky" in r.stderr
    assert open(tmp_path / "o").read() == "needle\n"


# ---- Ctrl-C ------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGTERM])
def test_ctrl_c_leaves_best_result(tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    write(tmp_path / "t.sh", 'sleep 0.05; grep -q AAA "$1" && grep -q BBB "$1"\n')
    lines = [f"filler {i}" for i in range(400)]
    lines[50], lines[350] = "AAA", "BBB"
    inp = write(tmp_path / "in.txt", "\n".join(lines) + "\n")
    original = open(inp).read()
    env = dict(os.environ, TMPDIR=str(tmp))
    p = subprocess.Popen([PY, "-m", "sleuth", "reduce", "--interestingness", "--test", "sh t.sh", inp, "-o", "out"],
                         cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    out = tmp_path / "out"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and p.poll() is None:
        if out.exists() and out.stat().st_size < len(original):
            break
        time.sleep(0.05)
    assert p.poll() is None, "finished before it could be interrupted"
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 128 + sig, err
    assert "interrupted" in err
    assert f"{out.name} holds the smallest failing input found so far" in err
    result = out.read_text()
    assert "AAA" in result and "BBB" in result        # still failing
    assert len(result) < len(original)
    assert open(inp).read() == original
    assert os.listdir(tmp) == []                       # temporary folders removed


# ---- progress line -------------------------------------------------------------

def test_progress_line_on_a_terminal(tmp_path):
    import pty
    inp = write(tmp_path / "in.txt", "".join(f"l{i}\n" for i in range(200)) + "bug\n")
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([PY, "-m", "sleuth", "reduce", "--interestingness", "--test", "sleep 0.02; grep -q bug",
                              inp, "-o", "o"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        p.wait(timeout=60)
    finally:
        os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert p.returncode == 0
    assert "\r" in text and "tests (" in text and "/s)" in text and "bytes (" in text


# ---- bad input -----------------------------------------------------------------

@pytest.fixture
def victim(tmp_path):
    inp = write(tmp_path / "in.txt", "one\ntwo\nbug\nthree\n")
    st = os.stat(inp)
    yield inp
    assert open(inp).read() == "one\ntwo\nbug\nthree\n"
    assert os.stat(inp).st_mtime_ns == st.st_mtime_ns


def bad(tmp_path, args, needle):
    r = sleuth_reduce(args, tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert needle in r.stderr, r.stderr
    return r


def test_missing_input(tmp_path):
    bad(tmp_path, ["--test", "true", "nope.txt"], "cannot read the input nope.txt")


def test_empty_input(tmp_path):
    write(tmp_path / "e.txt", "")
    bad(tmp_path, ["--test", "true", "e.txt"], "is empty")


def test_command_not_found(tmp_path, victim):
    bad(tmp_path, ["--test", "no-such-command-xyz {}", victim, "-o", "o"], "was not found")


def test_command_not_executable(tmp_path, victim):
    write(tmp_path / "t.sh", "exit 0\n")
    os.chmod(tmp_path / "t.sh", 0o644)
    bad(tmp_path, ["--test", "./t.sh", victim, "-o", "o"], "not executable")


def test_test_that_always_passes(tmp_path, victim):
    bad(tmp_path, ["--test", "exit 1", victim, "-o", "o"], "does not reproduce")


def test_test_that_ignores_its_input(tmp_path, victim):
    bad(tmp_path, ["--test", "true", victim, "-o", "o"], "even for an empty file")


def test_test_that_hangs(tmp_path, victim):
    r = bad(tmp_path, ["--test", "sleep 30; cat {}", "--timeout", "0.5", victim, "-o", "o"],
            "did not finish within 0.5 s")
    assert "--timeout" in r.stderr


def test_test_that_writes_its_input(tmp_path, victim):
    bad(tmp_path, ["--test", "echo x >> {}", victim, "-o", "o"], "changed or removed the file")


def test_output_in_read_only_folder(tmp_path, victim):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o555)
    try:
        if os.access(ro, os.W_OK):
            target = "/proc/sleuth-cannot-write-here"   # root ignores permissions
        else:
            target = str(ro / "out")
        bad(tmp_path, ["--test", "grep -q bug", victim, "-o", target], "cannot write the output")
    finally:
        os.chmod(ro, 0o755)


def test_output_is_input(tmp_path, victim):
    bad(tmp_path, ["--test", "grep -q bug", victim, "-o", victim], "is the input itself")


@pytest.mark.parametrize("args,needle", [
    (["in.txt"], "missing --test"),
    (["--test", "true"], "missing INPUT"),
    (["--test", "true", "--jobs", "0", "in.txt"], "--jobs needs a positive number"),
    (["--test", "true", "--timeout", "-1", "in.txt"], "--timeout needs"),
    (["--test", "true", "--passes", "lines,nope", "in.txt"], "unknown pass nope"),
    (["--test", "true", "--format", "yaml", "in.txt"], "unknown --format"),
    (["--test", "true", "--expect-output", "(", "in.txt"], "bad --expect-output"),
    (["--test", "true", "--bogus", "in.txt"], "unknown option --bogus"),
])
def test_usage_errors(tmp_path, args, needle):
    write(tmp_path / "in.txt", "x\n")
    bad(tmp_path, args, needle)


def test_help(tmp_path):
    r = sleuth_reduce(["--help"], tmp_path)
    assert r.returncode == 0
    assert "usage: sleuth reduce --test CMD INPUT" in r.stdout
    assert "json-hoist" in r.stdout


def test_module_entry_point_signature():
    from sleuth import _reduce
    with pytest.raises(TypeError):
        _reduce.main(["sleuth reduce", 3])
    with pytest.raises(TypeError):
        _reduce.main(5)
    assert _reduce.main(["sleuth reduce", "--help"]) == 0


def test_cache_never_runs_a_candidate_twice(tmp_path):
    import hashlib
    write(tmp_path / "t.sh", 'sha256sum "$1" | cut -c1-64 >> log\n'
                             'grep -q A "$1" && grep -q B "$1"\n')
    inp = write(tmp_path / "in.txt", "x\nA\ny\ny\nz\nB\nx\n")
    # One job: with more, a speculative test that gets killed (a lower-numbered
    # candidate won) has no verdict and may legitimately run again later.
    r = sleuth_reduce(["--test", "sh t.sh", "-j", "1", inp, "-o", "o"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert open(tmp_path / "o").read() == "AB"
    seen = open(tmp_path / "log").read().split()
    original = hashlib.sha256(open(inp, "rb").read()).hexdigest()
    # The original is run twice on purpose (the flakiness check); nothing else.
    assert seen.count(original) == 2
    rest = [h for h in seen if h != original]
    assert len(rest) == len(set(rest))
    assert "more answered from the cache" in r.stderr


# --- the default rule: fail the same way as the original ------------------------

PARSE = """\
import csv, sys
def parse_row(row):
    return int(row[1]) / int(row[2])
def main(path):
    with open(path) as f:
        for row in csv.reader(f):
            if row and row[0] != "name":
                parse_row(row)
main(sys.argv[1])
"""


def test_default_keeps_the_same_failure(tmp_path):
    """A crashing program, no test script: the README's first example. The
    input holds two bugs; the one that fails first on the original (a
    ZeroDivisionError in parse_row) is kept, not the other (a ValueError in
    the same function) nor any other crash."""
    write(tmp_path / "parse.py", PARSE)
    rows = ["name,a,b"] + [f"n{i},{i % 7 + 1},{i % 5 + 1}" for i in range(200)]
    rows[80] = "bad,3,0"
    rows[120] = "worse,x,1"
    inp = write(tmp_path / "big.csv", "\n".join(rows) + "\n")
    r = sleuth_reduce(["--test", f"{PY} -S parse.py {{}}", inp, "-o", "small.csv", "-j", "2"],
                      tmp_path, interestingness=False)
    assert r.returncode == 0, r.stderr
    first = r.stderr.splitlines()[0]
    assert first == ("sleuth reduce: keeping inputs that fail like the original: exit status 1, "
                     "ZeroDivisionError in parse_row() of parse.py"), r.stderr
    small = open(tmp_path / "small.csv").read()
    assert small.strip().endswith(",3,0") or small.strip().endswith(",0"), small
    p = subprocess.run([PY, "-S", "parse.py", "small.csv"], cwd=tmp_path, capture_output=True, text=True)
    assert "ZeroDivisionError" in p.stderr and "in parse_row" in p.stderr


def test_default_with_the_input_itself_in_the_traceback(tmp_path):
    """A Python program as the input: its frames are in the candidate's own
    file, which each job names differently; they still compare equal."""
    prog = "import os\n" + "".join(f"x{i} = {i}\n" for i in range(30)) + \
        "def boom(d):\n    return d['missing']\nboom({})\nprint('after')\n"
    inp = write(tmp_path / "prog.py", prog)
    r = sleuth_reduce(["--test", f"{PY} -S {{}}", inp, "-o", "out.py", "-j", "2"], tmp_path,
                      interestingness=False)
    assert r.returncode == 0, r.stderr
    assert "KeyError in boom() of INPUT" in r.stderr.splitlines()[0]
    out = open(tmp_path / "out.py").read()
    assert "x1 = 1" not in out and "boom" in out, out


def test_default_refuses_a_test_that_passes(tmp_path):
    inp = write(tmp_path / "in.txt", "hello\n")
    r = sleuth_reduce(["--test", "grep -q hello {}", inp], tmp_path, interestingness=False)
    assert r.returncode == 2
    assert r.stderr == ("sleuth reduce: the test passes on the original input (exit status 0): "
                        "there is no failure to keep; if it exits 0 for an input that still "
                        "fails (C-Reduce's convention), add --interestingness\n")
    r = sleuth_reduce(["--test", "grep -q hello {}", inp, "-o", "o"], tmp_path)   # --interestingness
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines()[0] == ("sleuth reduce: keeping inputs for which the test "
                                        "exits 0 (--interestingness)")


def test_rules_do_not_mix(tmp_path):
    inp = write(tmp_path / "in.txt", "x\n")
    r = sleuth_reduce(["--interestingness", "--expect-exit", "1", "--test", "false", inp],
                      tmp_path, interestingness=False)
    assert r.returncode == 2
    assert "--interestingness and --expect-output/--expect-exit are two different rules" in r.stderr


@pytest.mark.skipif(SANITIZED, reason="ASan's shadow memory makes RSS meaningless")
def test_default_rule_reads_a_bounded_tail_of_the_output(tmp_path):
    """A test that prints 60 MB before its traceback: the signature comes from
    the end of the output, and the reducer does not hold the rest."""
    write(tmp_path / "noisy.py", "import sys\nfor _ in range(60):\n    sys.stdout.write('x' * 1_000_000)\n"
          "if 'bug' in open(sys.argv[1]).read():\n    raise ValueError('bug')\n")
    inp = write(tmp_path / "in.txt", "a\nbug\nc\n")
    script = (f"import resource, subprocess, sys\n"
              f"r = subprocess.run([{PY!r}, '-m', 'sleuth', 'reduce', '-j', '1', '--test', "
              f"{PY!r} + ' -S noisy.py {{}}', 'in.txt', '-o', 'out'], capture_output=True, text=True)\n"
              f"print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
              f"sys.stderr.write(r.stderr)\n")
    p = subprocess.run([PY, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    rc, maxrss_kb = map(int, p.stdout.split())
    assert rc == 0, p.stderr
    assert "ValueError in <module>() of noisy.py" in p.stderr.splitlines()[0]
    assert open(tmp_path / "out").read() == "bug"
    assert maxrss_kb < 45_000, maxrss_kb          # 60 MB read whole would exceed it


def rusage_of_reduce(tmp_path, args):
    """Runs sleuth reduce from a child Python and returns (exit status, the
    largest max RSS in kB among that child's children, stderr)."""
    script = (f"import resource, subprocess, sys\n"
              f"r = subprocess.run([{PY!r}, '-m', 'sleuth', 'reduce', *{args!r}], "
              f"capture_output=True, text=True)\n"
              f"print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
              f"sys.stderr.write(r.stderr)\n")
    p = subprocess.run([PY, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600)
    rc, maxrss_kb = map(int, p.stdout.split())
    return rc, maxrss_kb, p.stderr


@pytest.mark.skipif(SANITIZED, reason="ASan's shadow memory makes RSS meaningless")
def test_expect_output_matches_a_stream(tmp_path):
    """--expect-output on a test that prints 250 MB before the match: the
    output is searched in bounded windows, not read whole (it was: 250 MB of
    RSS and more)."""
    write(tmp_path / "noisy.py",
          "import sys\ndata = open(sys.argv[1]).read()\n"
          "if data.count('\\n') >= 3:\n"
          "    for _ in range(250):\n        sys.stdout.write('x' * 1_000_000)\n"
          "if 'bug' in data:\n    raise ValueError('bug')\n")
    write(tmp_path / "in.txt", "a\nbug\nc\n")
    rc, maxrss_kb, err = rusage_of_reduce(tmp_path, [
        "-j", "1", "--expect-output", "^ValueError: bug$", "--test", f"{PY} -S noisy.py {{}}",
        "in.txt", "-o", "out"])
    assert rc == 0, err
    assert open(tmp_path / "out").read() == "bug"
    assert maxrss_kb < 100_000, maxrss_kb     # 250 MB read whole would exceed it


def test_expect_output_across_window_edges(tmp_path):
    """Matches found wherever they fall: across the 1 MiB window edges (a
    multi-line match across the first window's end in a 3 MB line-oriented
    output, a match across it inside a 3 MB line), and ^ not taken at a
    window start that is no line start."""
    gen = tmp_path / "gen.py"
    write(gen, "import sys\nkind = open(sys.argv[1]).read().split()[0]\nw = sys.stdout.write\n"
          "if kind == 'lines':\n"
          "    for i in range(40000):\n        w(f'line {i:08d} ' + 'y' * 60 + '\\n')\n"
          "    w('BEGIN\\nEND\\n')\n"
          "elif kind == 'long':\n"
          "    w('z' * 1_048_574 + 'NEEDLE' + 'z' * 2_000_000 + '\\n')\n"
          "elif kind == 'mid':\n"
          "    w('q' * 983_041 + 'START' + 'q' * 200_000)\n")
    def run(kind, regex):
        write(tmp_path / "in.txt", f"{kind}\npad\n")
        return sleuth_reduce(["--test", f"{PY} -S gen.py", "--expect-output", regex,
                              "--passes", "lines", "-j", "1", "in.txt", "-o", "o"], tmp_path)
    r = run("lines", "^BEGIN\nEND$")
    assert r.returncode == 0, r.stderr
    assert open(tmp_path / "o").read() == "lines\n"
    # The first window ends after line 13980 (75-byte lines, cut at a newline).
    r = run("lines", "^line 00013980 y+\nline 00013981 ")
    assert r.returncode == 0, r.stderr
    r = run("lines", "^line 00039999 y+$")
    assert r.returncode == 0, r.stderr
    r = run("long", "zNEEDLEz")
    assert r.returncode == 0, r.stderr
    # No line starts with START: a window that begins right before it must
    # not take the window's start for a line start.
    r = run("mid", "^START")
    assert r.returncode == 2 and "does not reproduce" in r.stderr
    r = run("lines", "^00039999")
    assert r.returncode == 2 and "does not reproduce" in r.stderr
