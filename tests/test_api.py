"""pdb's API on sleuth: set_trace, breakpoint(), post_mortem, pm, run, runeval,
runcall, the Pdb class (stdin/stdout, subclassing) and the pytest integration.
Where pdb can run the same thing, the output is compared with pdb's."""
import io
import os
import sys
import textwrap

import pytest

import sleuth
from conftest import run_python

PY = sys.version_info[:2]


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return str(p)


def both(args, stdin, tmp_path, env_for=None):
    out = {}
    for tool in ("pdb", "sleuth"):
        env = {"HOME": str(tmp_path)}
        if env_for:
            env.update(env_for(tool))
        r = run_python(args(tool), input=stdin, cwd=str(tmp_path), env=env)
        out[tool] = (r.stdout.replace(tool, "DBG"), r.returncode)
    return out


BREAKPOINT_PROG = """\
    def inner(x):
        y = x * 2
        breakpoint()
        z = y + 1
        return z

    def outer():
        return inner(20)

    print("result", outer())
    """


def test_breakpoint_builtin_stops_where_pdb_stops(tmp_path):
    prog = write(tmp_path, "bp.py", BREAKPOINT_PROG)
    out = both(lambda tool: [prog], "w\np y\nn\np z\nc\n", tmp_path,
               env_for=lambda tool: {"PYTHONBREAKPOINT": tool + ".set_trace"})
    assert out["sleuth"] == out["pdb"]
    assert "result 41" in out["sleuth"][0]


def test_set_trace_from_code(tmp_path):
    prog = write(tmp_path, "st.py", """\
        import sys
        mod = __import__(sys.argv[1])
        def f():
            a = 1
            mod.set_trace()
            b = a + 1
            return b
        f()
        print("end")
        """)
    out = both(lambda tool: [prog, tool], "p a\nn\nn\nn\nc\n", tmp_path)
    assert out["sleuth"] == out["pdb"]


def test_set_trace_header(tmp_path):
    prog = write(tmp_path, "h.py", """\
        import sys
        mod = __import__(sys.argv[1])
        mod.set_trace(header="look here")
        x = 1
        """)
    out = both(lambda tool: [prog, tool], "c\n", tmp_path)
    assert out["sleuth"] == out["pdb"]
    assert out["sleuth"][0].startswith("look here\n")


def test_post_mortem_traceback_and_exception(tmp_path):
    prog = write(tmp_path, "pm.py", """\
        import sys
        mod = __import__(sys.argv[1])
        def boom(v):
            w = v + 1
            raise KeyError(w)
        try:
            boom(1)
        except KeyError as e:
            mod.post_mortem(e.__traceback__)
            mod.post_mortem()
        print("after")
        """)
    out = both(lambda tool: [prog, tool], "p w\nu\nw\nc\np v\nc\n", tmp_path)
    assert out["sleuth"] == out["pdb"]
    assert "after" in out["sleuth"][0]


@pytest.mark.skipif(PY < (3, 13), reason="pdb's `exceptions` and _post_mortem are 3.13's")
def test_post_mortem_default_and_private_entry(tmp_path):
    # post_mortem() takes the handled exception's traceback (no chain to
    # walk), _post_mortem(exc, instance) the exception itself.
    prog = write(tmp_path, "pmchain.py", """\
        import sys
        mod = __import__(sys.argv[1])
        def boom():
            try:
                {}["k"]
            except KeyError as e:
                raise ValueError("wrapped") from e
        try:
            boom()
        except ValueError as e:
            mod.post_mortem()
            mod._post_mortem(e, mod.Pdb())
            try:
                mod._post_mortem(ValueError("no traceback"), mod.Pdb())
            except ValueError as err:
                print("refused:", err)
        print("after")
        """)
    out = both(lambda tool: [prog, tool], "exceptions\nc\nexceptions\nexceptions 0\nc\n", tmp_path)
    # the message names pdb itself, which both() rewrote in pdb's output
    pdb_out = (out["pdb"][0].replace("DBG/post_mortem", "pdb/post_mortem"), out["pdb"][1])
    assert out["sleuth"] == pdb_out
    assert "Did not find chained exceptions" in out["sleuth"][0]
    assert "    0 KeyError('k')" in out["sleuth"][0]
    assert "refused: A valid traceback must be passed" in out["sleuth"][0]


def test_post_mortem_exception_object_walks_chain():
    out = io.StringIO()
    try:
        try:
            {}["k"]
        except KeyError as e:
            raise ValueError("wrapped") from e
    except ValueError as e:
        exc = e
    p = sleuth.Pdb(stdin=io.StringIO("exceptions\nexceptions 0\np 1\nq\n"), stdout=out)
    p.reset()
    p.interaction(None, exc)
    text = out.getvalue()
    assert "    0 KeyError('k')" in text
    assert ">   1 ValueError('wrapped')" in text
    assert "{}[\"k\"]" in text
    assert p.quitting


def test_post_mortem_without_exception_raises():
    with pytest.raises(ValueError, match="A valid traceback must be passed"):
        sleuth.post_mortem()


def test_pm_uses_last_exception(tmp_path):
    prog = write(tmp_path, "lastexc.py", """\
        import sys
        mod = __import__(sys.argv[1])
        def f():
            q = 7
            return 1 / 0
        try:
            f()
        except ZeroDivisionError as e:
            sys.last_exc = e
            sys.last_type, sys.last_value, sys.last_traceback = type(e), e, e.__traceback__
        mod.pm()
        """)
    out = both(lambda tool: [prog, tool], "p q\nc\n", tmp_path)
    assert out["sleuth"] == out["pdb"]
    assert "7" in out["sleuth"][0]


def run_with_io(func, commands):
    out = io.StringIO()
    p = sleuth.Pdb(stdin=io.StringIO(commands), stdout=out, readrc=False)
    result = func(p)
    return out.getvalue(), result


def test_run_runeval_runcall_match_pdb():
    import pdb

    def square(n):
        m = n * n
        return m

    for tool in (pdb, sleuth):
        outs = []
        for method, args in (("run", ("z = 3 * 4\n", {})), ("runeval", ("square(5)", {"square": square})), ("runcall", (square, 6))):
            out = io.StringIO()
            p = tool.Pdb(stdin=io.StringIO("s\nn\nn\nn\nc\n"), stdout=out, readrc=False)
            res = getattr(p, method)(*args)
            outs.append((out.getvalue(), res))
        if tool is pdb:
            expected = outs
        else:
            got = outs
    # pdb's run() starts in bdb's own frames; compare the program's lines.
    for (e_text, e_res), (g_text, g_res) in zip(expected, got):
        assert g_res == e_res
        assert stops(g_text) == stops(e_text)


def stops(text):
    """The program's stop locations and source lines, without bdb's frames."""
    out, skip = [], False
    for line in text.replace("(Pdb) ", "\n").splitlines():
        if line.startswith(("> ", "  ")):
            skip = "bdb.py" in line
            if not skip:
                out.append(line)
        elif line.startswith("-> "):
            if not skip:
                out.append(line)
        elif line.strip():
            out.append(line)
    # pdb may stop once more in bdb's own frame after the program; sleuth has none.
    return out


def test_module_level_run_functions():
    code = ("import sleuth\n"
            "print('runcall', sleuth.runcall(lambda a, b: a + b, 2, 3))\n"
            "print('runeval', sleuth.runeval('1 + 2'))\n"
            "sleuth.run('x = 1')\n"
            "print('done')\n")
    r = run_python(["-c", code], input="c\nc\nc\n")
    assert "runcall 5" in r.stdout
    assert "runeval 3" in r.stdout
    assert "done" in r.stdout
    assert r.stdout.count("(Pdb) ") == 3


def test_subclass_overrides_and_adds_commands():
    class MyPdb(sleuth.Pdb):
        def do_p(self, arg):
            self.message("custom p: " + arg)

        def do_hello(self, arg):
            self.message("hello " + arg)
            return None

    def f():
        secret = 42
        return secret

    out = io.StringIO()
    p = MyPdb(stdin=io.StringIO("p secret\nhello world\npp 1+1\nc\n"), stdout=out, readrc=False)
    p.runcall(f)
    text = out.getvalue()
    assert "custom p: secret" in text
    assert "hello world" in text
    assert "(Pdb) 2\n" in text


def test_pdb_attributes_like_pdb():
    p = sleuth.Pdb(stdin=io.StringIO(""), stdout=io.StringIO(), readrc=False)
    assert p.prompt == "(Pdb) "
    p.prompt = "(x) "
    assert p.prompt == "(x) "
    assert p.use_rawinput == 0
    assert p.aliases == {} and p.displaying == {}
    p.custom = 5
    assert p.custom == 5
    assert sleuth.Pdb(readrc=False).use_rawinput == 1


PYTEST_TEST = """\
    def helper(v):
        return v * 3

    def test_fails():
        value = helper(14)
        assert value == 41
    """


@pytest.mark.parametrize("flag", ["--sleuth", "--pdbcls=sleuth:Pdb"])
def test_pytest_integration(tmp_path, flag):
    write(tmp_path, "test_target.py", PYTEST_TEST)
    args = ["-m", "pytest", "-p", "no:cacheprovider", "test_target.py"]
    if flag != "--sleuth":
        args.append("--pdb")
    r = run_python(args + [flag], input="p value\nw\nc\n", cwd=str(tmp_path))
    assert "(Pdb) 42" in r.stdout, r.stdout + r.stderr
    assert "test_target.py(6)test_fails()" in r.stdout
    assert "1 failed" in r.stdout
    # The same session under pytest's own --pdb prints the same debugger text.
    ref = run_python(["-m", "pytest", "-p", "no:cacheprovider", "test_target.py", "--pdb"],
                     input="p value\nw\nc\n", cwd=str(tmp_path))
    pick = lambda t: [l for l in t.splitlines() if l.startswith(("(Pdb)", ">", "->"))]
    assert pick(r.stdout) == pick(ref.stdout)


def test_pytest_quit_stops_session(tmp_path):
    write(tmp_path, "test_two.py", PYTEST_TEST + "\n\ndef test_second():\n    assert 0\n")
    r = run_python(["-m", "pytest", "-p", "no:cacheprovider", "test_two.py", "--sleuth"],
                   input="q\n", cwd=str(tmp_path))
    assert "Quitting debugger" in r.stdout + r.stderr
    assert "test_second" not in r.stdout.split("Quitting debugger")[-1] or "1 failed" in r.stdout


COND_CALLER_PROG = """\
    import sys
    callers = []

    def probe(x, flag=None):
        callers.append(sys._getframe(1).f_code.co_name)
        return False

    def work():
        for i in range(3):
            i += 1              # line 10
        return callers

    print(sorted(set(work())))
"""


@pytest.mark.parametrize("cond, caller", [
    ("probe(i)", "work"),                            # simple: evaluated in C, in the debuggee's frame
    ("probe(i) or [k for k in ()]", "<module>"),     # a comprehension: eval(), pdb's <string> frame
    ("probe(i, flag=True)", "work"),                 # keyword arguments
    ("probe(i) if i else probe(-i)", "work"),        # conditional expression
    ("not ({probe(i)} and {i: probe(i)})", "work"),  # set and dict displays
    ("i in {7, 8} or probe(i)", "work"),             # a constant set after `in`
    ("f'{probe(i)!r:>9}' == 'x'", "work"),           # f-strings
    ("probe(**{'x': i})", "<module>"),               # ** unpacking: eval()
])
def test_simple_conditions_skip_eval(tmp_path, cond, caller):
    """Simple conditions are evaluated by sleuth's C evaluator, not eval():
    a function called from one sees the debuggee's frame as its caller."""
    prog = write(tmp_path, "condcall.py", COND_CALLER_PROG)
    r = run_python(["-m", "sleuth", "-c", "b 10, " + cond, "-c", "c", prog], input="q\n",
                   cwd=str(tmp_path), env={"HOME": str(tmp_path)})
    assert "[%r]" % caller in r.stdout, r.stdout + r.stderr


# --- run/runeval/runctx with what pdb accepts and refuses (issue 12) --------

RUN_ARGS_PROG = """\
import io, sys
import {tool} as dbg

def quiet():
    return dbg.Pdb(stdin=io.StringIO("c\\n"), stdout=io.StringIO(), readrc=False)

for meth in ("run", "runeval"):
    for arg in (42, lambda: 0, None, [b"x"]):
        try:
            getattr(quiet(), meth)(arg)
        except Exception as e:
            print("@@", meth, type(arg).__name__, type(e).__name__, e)
g = {{}}
print("@@ run bytes", quiet().run(b"x = 6 * 7", g), g["x"])
print("@@ runeval bytes", quiet().runeval(b"x + 1", g))
print("@@ runeval code", quiet().runeval(compile("x + 2", "<e>", "eval"), g))
print("@@ runctx", quiet().runctx("y = x - 2", g, g), g["y"])
for bad in (("x = 1", [], None), ("x = 1", {{}}, 5)):
    try:
        quiet().run(*bad)
    except Exception as e:
        print("@@ run globals/locals", type(e).__name__, e)
try:
    quiet().run("x = (")
except SyntaxError as e:
    print("@@ run syntax", e.msg)
# The module functions start a Pdb on sys.stdin ("c" lines below)
for arg in (42, lambda: 0):
    try:
        dbg.run(arg)
    except TypeError as e:
        print("@@ module run", e)
    try:
        dbg.runeval(arg)
    except TypeError as e:
        print("@@ module runeval", e)
dbg.runctx("z = 5", g, g)
print("@@ module runctx", g["z"])
dbg.run(statement="w = 1", globals=g)
print("@@ module run kw", g["w"], dbg.runeval(expression="w + 1", globals=g))
print("@@ end")
"""


def test_run_refuses_and_accepts_what_pdb_does(tmp_path):
    """A non-code object reached PyEval_EvalCode and crashed the interpreter
    (run(42), runeval(42), run(lambda: 0), run(b"x=1")); pdb raises exec()'s
    and eval()'s TypeError and runs bytes source."""
    outs = {}
    for tool in ("pdb", "sleuth"):
        r = run_python(["-c", RUN_ARGS_PROG.format(tool=tool)], input="c\n" * 20, cwd=str(tmp_path))
        assert r.returncode == 0, r.stderr
        outs[tool] = [l for l in r.stdout.replace("(Pdb) ", "\n").splitlines() if l.startswith("@@")]
    assert outs["sleuth"] == outs["pdb"]
    assert outs["sleuth"][-1] == "@@ end" and len(outs["sleuth"]) > 15


def test_pdb_module_names():
    import pdb
    from sleuth import _sleuth
    assert _sleuth._usage == pdb._usage
    assert _sleuth.line_prefix == pdb.line_prefix == "\n-> "
    assert "_previous_sigint_handler" in vars(_sleuth.Pdb)   # on the class, as pdb has it
    for name in ("find_function", "runctx", "run", "runeval", "runcall", "set_trace",
                 "post_mortem", "pm", "Pdb", "Restart"):
        assert callable(getattr(_sleuth, name)), name


def test_find_function_like_pdb(tmp_path):
    import pdb
    from sleuth import _sleuth
    src = tmp_path / "ff.py"
    src.write_bytes(textwrap.dedent("""\
        # -*- coding: latin-1 -*-
        def foo(): pass

        def b\xe9r(a,
                b):
            # comment
            return a

        class C:
            def meth(self):
                pass
        """).encode("latin-1"))
    for name in ("foo", "b\xe9r", "meth", "C", "nosuch", "f"):
        assert _sleuth.find_function(name, str(src)) == pdb.find_function(name, str(src)), name
    assert _sleuth.find_function("foo", str(tmp_path / "nosuch.py")) is None
    empty = tmp_path / "empty.py"
    empty.write_text("")
    assert _sleuth.find_function("foo", str(empty)) is None


def test_checkline_before_debugging_like_pdb(tmp_path):
    import pdb
    src = tmp_path / "cl.py"
    src.write_text('\n# comment\n"""doc"""\nx = 1\n')
    results = {}
    for tool in (pdb, sleuth):
        out = io.StringIO()
        p = tool.Pdb(stdin=io.StringIO(""), stdout=out, readrc=False)
        got = [p.checkline(str(src), n) for n in range(0, 7)]
        p.reset()
        got.append(p.checkline(str(src), 4))
        results[tool.__name__] = (got, out.getvalue())
    assert results["sleuth"] == results["pdb"]
    assert results["sleuth"][0] == [0, 0, 0, 0, 4, 0, 0, 4]


def test_set_trace_header_goes_through_the_method(monkeypatch):
    """pdb.set_trace(header=...) prints the header, then calls
    Pdb().set_trace(frame): a patched or subclassed method is the one run."""
    calls = []
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(sleuth.Pdb, "set_trace", lambda self, frame=None: calls.append(frame))
    sleuth.set_trace(header="the header")
    out = sys.stdout.getvalue()
    monkeypatch.undo()
    assert out == "the header\n"
    assert calls == [sys._getframe()]


def test_previous_sigint_handler_like_pdb():
    """pdb keeps the handler that `continue` replaced on the class, as
    Pdb._previous_sigint_handler, until the next prompt puts it back."""
    prog = textwrap.dedent("""\
        import signal, sys
        import {tool} as dbg
        print("@@ before", dbg.Pdb._previous_sigint_handler)
        for i in (1, 2):
            sess = dbg.Pdb()
            sess.set_trace(sys._getframe())
            print("@@", i, sess._previous_sigint_handler, dbg.Pdb._previous_sigint_handler)
        """)
    outs = {}
    for tool in ("pdb", "sleuth"):
        r = run_python(["-c", prog.format(tool=tool)], input="c\nc\nc\n")
        assert r.returncode == 0, r.stderr
        outs[tool] = [l.replace(tool, "DBG") for l in r.stdout.replace("(Pdb) ", "\n").splitlines() if l.startswith("@@")]
    assert outs["sleuth"] == outs["pdb"]
    assert len(outs["sleuth"]) == 3
