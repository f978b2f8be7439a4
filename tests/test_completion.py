"""Tab completion at the (Pdb) prompt, as the running Python's pdb has it.

Each pty scenario types the same keys (Tab included) into pdb and into sleuth
on a terminal and expects the same screen, plus what the completion must have
produced, so a scenario holds even if both were wrong the same way. The
in-process tests compare the complete* methods with pdb's directly.
"""
import os
import re
import sys
import textwrap
import time

import pytest

pexpect = pytest.importorskip("pexpect")
readline = pytest.importorskip("readline")

import pdb  # noqa: E402
import sleuth  # noqa: E402

PY313 = sys.version_info >= (3, 13)

if getattr(readline, "backend", "readline") == "editline" or "libedit" in (readline.__doc__ or ""):
    pytest.skip("libedit readline is not supported for pdb", allow_module_level=True)

SCRIPT = textwrap.dedent("""\
    import sys
    dbg = __import__(sys.argv[1])
    value = "speci"
    def func():
        original = "I live Pythin"
        dbg.Pdb().set_trace()
        return original
    func()
    print('hel' + 'lo!')
""")


def run_pty(module, keys, cwd, script=SCRIPT, timeout=30):
    """Run `script` (as prog.py in cwd) on a terminal with `module` as its
    debugger, type `keys` at the first prompt and return the screen. The keys
    arrive while readline holds the terminal (no echo from the terminal
    itself), so what shows is readline's drawing whatever the timing."""
    with open(os.path.join(cwd, "prog.py"), "w") as f:
        f.write(script)
    child = pexpect.spawn(sys.executable, ["prog.py", module], cwd=cwd, timeout=timeout,
                          dimensions=(24, 80), env=dict(os.environ, TERM="xterm"))
    try:
        child.expect_exact(b"(Pdb) ")
        head = child.before + child.after
        child.send(keys)
        child.expect(pexpect.EOF)
        return head + child.before
    finally:
        child.close(force=True)


def same_as_pdb(keys, cwd, **kw):
    """The screen under sleuth; asserts it is pdb's screen."""
    theirs = run_pty("pdb", keys, cwd, **kw)
    ours = run_pty("sleuth", keys, cwd, **kw)
    theirs, ours = (re.sub(rb"0x[0-9a-f]+", b"0x?", t) for t in (theirs, ours))
    assert ours == theirs, "\n--- pdb ---\n%r\n--- sleuth ---\n%r" % (theirs, ours)
    return ours


def test_command_names(tmp_path):
    # Two Tabs list every command starting with 'co'; then 'contin' completes.
    out = same_as_pdb(b"co\t\tntin\t\n", tmp_path)
    assert b"commands   condition  cont       continue" in out
    assert b"(Pdb) continue\r\n" in out
    assert b"hello!" in out


def test_aliases_and_bare_expressions(tmp_path):
    # 3.13 completes aliases and, when no command matches, names of the frame
    # (and builtins and keywords through rlcompleter); 3.11/3.12 do not.
    out = same_as_pdb(b"alias zzfoo p 40 + 2\nzzf\t\nval\t + 'al'\npri\tval\t + 'es')\nc\n", tmp_path)
    if PY313:
        assert b"(Pdb) zzfoo\r\n42" in out
        assert b"'special'" in out
        assert b"species" in out
    else:
        assert b"zzfoo\r\n" not in out
        assert b"'special'" not in out


@pytest.mark.skipif(not PY313, reason="multi-line statements at the prompt are 3.13's")
def test_continuation_lines_complete_names_not_commands(tmp_path):
    # On "...   " lines pdb 3.13 completes names (Tab on an empty line is a
    # tab, 'ret' completes to the keyword 'return'), then commands again.
    out = same_as_pdb(b"def func():\n\tret\t 40 + 2\n\nfun\t()\nco\t\tntin\t\n", tmp_path)
    assert b"42" in out
    assert b"(Pdb) continue\r\n" in out


def test_expressions_after_commands(tmp_path):
    out = same_as_pdb(b"p val\t + 'es'\npp orig\t.repl\t('i', 'o')\nwhatis orig\t\n"
                      b"display val\t\nundisplay val\t\nc\n", tmp_path)
    assert b"(Pdb) p value + 'es'\r\n'species'" in out
    assert b"(Pdb) pp original.replace('i', 'o')\r\n'I love Python'" in out
    assert b"(Pdb) whatis original\r\n<class 'str'>" in out
    assert b"(Pdb) display value\r\ndisplay value: 'speci'" in out
    assert b"(Pdb) undisplay value\r\n" in out


def test_attribute_listing(tmp_path):
    # Tab Tab after 'obj.' lists the attributes with that prefix.
    out = same_as_pdb(b"p original.st\t\t\nc\n", tmp_path)
    assert b"original.startswith  original.strip" in out


@pytest.mark.skipif(not PY313, reason="pdb has $convenience variables from 3.13")
def test_convenience_variables(tmp_path):
    out = same_as_pdb(b"$_fra\t\np $_fra\t.f_code.co_name\nc\n", tmp_path)
    assert b"(Pdb) $_frame\r\n" in out
    assert b"(Pdb) p $_frame.f_code.co_name\r\n'func'" in out


def test_break_locations(tmp_path):
    (tmp_path / "modfile.py").write_text("x = 1\ny = 2\n")
    (tmp_path / "moddir").mkdir()
    (tmp_path / "modnotes.txt").write_text("")
    (tmp_path / ".modhidden.py").write_text("")
    # Files: a directory gets '/', a Python file ':', other files nothing,
    # hidden ones are left out; functions of the frame complete too.
    out = same_as_pdb(b"b mod\t\t\nb modf\t2\nb fun\t\ntbreak ./modf\t1\nclear modfile.py:\t\nc\n", tmp_path)
    assert re.search(rb"moddir/ +modfile\.py: ", out)
    assert b"modnotes" not in out and b"modhidden" not in out
    assert b"(Pdb) b modfile.py:2\r\nBreakpoint 1 at " in out
    assert re.search(rb"\(Pdb\) b func\r\nBreakpoint 2 at \S*prog\.py:[45]", out)
    assert b"(Pdb) tbreak ./modfile.py:1\r\nBreakpoint 3 at " in out


def test_breakpoint_numbers(tmp_path):
    out = same_as_pdb(b"b 7\nb 8\nb 9\nclear 2\ndisable \t\t1\nenable 3\t\n"
                      b"condition \t\t3 value\nignore 3\t 1\ncommands 1\t\nend\nc\n", tmp_path)
    assert b"1  3" in out
    assert re.search(rb"\(Pdb\) disable 1\r\nDisabled breakpoint 1 at \S*prog\.py:7", out)
    assert re.search(rb"\(Pdb\) enable 3\r\nEnabled breakpoint 3 at \S*prog\.py:9", out)
    assert b"New condition set for breakpoint 3." in out
    assert b"(Pdb) ignore 3 1\r\nWill ignore next 1 crossing of breakpoint 3." in out


def test_help_topics(tmp_path):
    out = same_as_pdb(b"help whe\t\nhelp exe\t\nhelp unti\t\nc\n", tmp_path)
    assert b"(Pdb) help where\r\n" in out
    # 'exe' is also a prefix of the builtin exec( on 3.13 (rlcompleter):
    # readline inserts the common part, 'exec', either way.
    assert b"(Pdb) help exe" in out and b"(!) statement" in out
    assert b"(Pdb) help until\r\n" in out


def test_unalias(tmp_path):
    out = same_as_pdb(b"alias zzfoo p 1\nunalias zz\t\nzzfoo\nc\n", tmp_path)
    assert b"(Pdb) unalias zzfoo\r\n" in out


def test_previous_completer_is_restored_and_no_completion_without_rawinput(tmp_path):
    script = textwrap.dedent("""\
        import sys, readline
        dbg = __import__(sys.argv[1])
        def mine(text, state):
            return None
        readline.set_completer(mine)
        value = 1
        dbg.Pdb().set_trace()
        print('restored', readline.get_completer() is mine)
        # With stdin/stdout given, cmd.Cmd reads stdin itself: no completer.
        dbg.Pdb(stdin=sys.stdin, stdout=sys.stdout).set_trace()
        print('done')
    """)
    out = same_as_pdb(b"p readline.get_completer() is mine\nc\n"
                      b"p readline.get_completer() is mine\nval\t\nc\n", tmp_path, script=script)
    assert b"(Pdb) p readline.get_completer() is mine\r\nFalse\r\n" in out
    assert b"restored True" in out
    assert b"(Pdb) True\r\n" in out
    assert b"done" in out


def test_subclass_commands_and_completers(tmp_path):
    # cmd.Cmd finds do_* names on the class and complete_<command> with
    # getattr: a subclass's own are completed and used.
    script = textwrap.dedent("""\
        import sys
        dbg = __import__(sys.argv[1])
        class Mine(dbg.Pdb):
            def do_zapit(self, arg):
                self.message('zapped ' + arg)
            def complete_zapit(self, text, line, begidx, endidx):
                return [w for w in ('alpha', 'beta', 'betamax') if w.startswith(text)]
        value = "speci"
        Mine().set_trace()
        print('done')
    """)
    out = same_as_pdb(b"zap\t al\t\nzapit b\t\t\t\nc\n", tmp_path, script=script)
    assert b"(Pdb) zapit alpha\r\nzapped alpha" in out
    assert re.search(rb"beta +betamax", out)
    assert b"(Pdb) zapit beta\r\nzapped beta" in out
    assert b"done" in out


def test_hostile_objects_do_not_hang_or_leak(tmp_path):
    script = textwrap.dedent("""\
        import sys
        dbg = __import__(sys.argv[1])
        class Loops:
            def __dir__(self):
                while True:
                    pass
        class Raises:
            def __dir__(self):
                raise RuntimeError("no dir")
            def __getattr__(self, name):
                raise RuntimeError("no " + name)
        loops, raises = Loops(), Raises()
        dbg.Pdb().set_trace()
        print('after', 'ok')
    """)
    start = time.monotonic()
    out = run_pty("sleuth", b"p loops.\t\t\np raises.\t\t\np raises.x.\t\nloo\t.\t\np 6 * 7\nc\n",
                  tmp_path, script=script, timeout=60)
    took = time.monotonic() - start
    assert b"(Pdb) p loops.\x07" in out or b"(Pdb) p loops.\r\n" in out
    assert b"\r\n42\r\n" in out
    assert b"after ok" in out
    assert b"Traceback" not in out and b"TimeoutError" not in out and b"RuntimeError" not in out
    # Each Tab that meets the loop gives up after about a second.
    assert took < 20, took


# --- in-process: the complete* methods against pdb's ---------------------------

def _frame():
    value = "speci"    # noqa: F841
    original = "I live Pythin"    # noqa: F841
    return sys._getframe()


@pytest.fixture
def pair():
    frame = _frame()
    theirs = pdb.Pdb(nosigint=True, readrc=False)
    ours = sleuth.Pdb(nosigint=True, readrc=False)
    for d in (theirs, ours):
        d.reset()
        d.setup(frame, None)
    yield theirs, ours
    for d in (theirs, ours):
        d.forget()


@pytest.mark.parametrize("method,text,line", [
    ("completenames", "co", "co"),
    ("completenames", "", ""),
    ("completenames", "val", "val"),
    ("completenames", "pri", "pri"),
    ("completedefault", "val", "x val"),
    ("completedefault", "orig", "x orig"),
    ("complete_p", "val", "p val"),
    ("complete_p", "original.st", "p original.st"),
    ("complete_p", "original.nope.x", "p original.nope.x"),
    ("complete_p", "nosuch.x", "p nosuch.x"),
    ("complete_pp", "", "pp "),
    ("complete_display", "ori", "display ori"),
    ("complete_whatis", "sys.ver", "whatis sys.ver"),
    ("complete_break", "_fr", "break _fr"),
    ("complete_break", "x", "break x:"),
    ("complete_help", "wh", "help wh"),
    ("complete_help", "ex", "help ex"),
    ("complete_help", "", "help "),
    ("complete_enable", "", "enable "),
])
def test_methods_match_pdb(pair, method, text, line):
    theirs, ours = pair
    begidx = len(line) - len(text)
    want = getattr(theirs, method)(text, line, begidx, len(line))
    got = getattr(ours, method)(text, line, begidx, len(line))
    # Commands sleuth has beyond this version's pdb complete too.
    extra = {n[3:] for n in set(dir(sleuth.Pdb)) - set(dir(pdb.Pdb)) if n.startswith("do_")}
    assert sorted(set(got) - extra) == sorted(want)


def test_delimiters_match_pdb():
    pdb.Pdb(readrc=False)
    theirs = readline.get_completer_delims()
    readline.set_completer_delims(" ")
    sleuth.Pdb(readrc=False)
    assert readline.get_completer_delims() == theirs
    assert ("$" in theirs) == (not PY313)


def test_instance_completenames_is_honoured(pair):
    # 3.13's pdb swaps completenames for completedefault while a multi-line
    # statement is typed; complete() must look it up on the instance.
    # Off a terminal readline's buffer is empty, so complete() asks
    # completenames, as at the start of a line.
    _, ours = pair
    assert readline.get_line_buffer() == "" and readline.get_begidx() == 0
    assert ours.complete("contin", 0) == "continue"
    assert ours.complete("contin", 1) is None
    ours.completenames = lambda *a: ["zz-instance"]
    assert ours.complete("x", 0) == "zz-instance"
    assert ours.complete("x", 1) is None


def test_completion_does_not_leak(pair, tmp_path):
    # sys.getallocatedblocks, not tracemalloc: on 3.13 tracemalloc leaves
    # the interpreter's reference tracer taken, which sleuth.memory minds.
    import gc
    _, ours = pair
    (tmp_path / "leakmod.py").write_text("")
    prefix = str(tmp_path / "leakm")

    def once():
        ours.complete("co", 0)            # through the deadline watcher
        ours.complete_p("original.st", "p original.st", 2, 13)
        ours.complete_break(prefix, "b " + prefix, 2, 2 + len(prefix))
        ours.complete_help("wh", "help wh", 5, 7)
        ours.complete_enable("", "enable ", 7, 7)
        ours.completedefault("val", "x val", 2, 5)

    for _ in range(50):
        once()
    gc.collect()
    before = sys.getallocatedblocks()
    for _ in range(2000):
        once()
    gc.collect()
    grown = sys.getallocatedblocks() - before
    # A reference lost on any path would leave 2000 blocks or more; caches
    # (rlcompleter's re, dicts growing) account for a few hundred.
    assert grown < 1000, grown
