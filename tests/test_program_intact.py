"""The engine never changes the program it debugs: each program here runs plain
and under sleuth, and its own output (written to stderr, away from the
debugger's prompts on stdout) and exit status must be the same."""
import sys
import textwrap

import pytest

from conftest import run_python

MONITORING = sys.version_info >= (3, 12)


def write(tmp_path, source, name="prog.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def plain_and_sleuth(tmp_path, source, commands, timeout=60):
    """Run the program plain, then under `python -m sleuth` typing `commands`."""
    prog = write(tmp_path, source)
    plain = run_python([str(prog)], cwd=tmp_path, timeout=timeout)
    debugged = run_python(["-m", "sleuth", str(prog)], input="\n".join(commands) + "\n",
                          cwd=tmp_path, timeout=timeout)
    return plain, debugged


# --- exceptions thrown into generators (PY_THROW is a global-only event) -----

THROWN = """\
    import contextlib
    import sys

    out = sys.stderr

    @contextlib.contextmanager
    def cm():
        try:
            yield 1
        except KeyError:
            print("cm caught KeyError", file=out)
            raise

    def gen():
        try:
            yield 1
            yield 2
        except ValueError as e:
            print("gen caught", e, file=out)
            yield 3

    def main():
        for _ in range(3):
            try:
                with cm():
                    raise KeyError("k")
            except KeyError as e:
                print("main caught KeyError", e, file=out)
            g = gen()
            print(next(g), file=out)
            print(g.throw(ValueError("v")), file=out)
        print("done", file=out)

    main()
    x = 1
"""


@pytest.mark.parametrize("commands", [
    ["b 35", "c", "c", "q"],             # a breakpoint the throws never come near
    ["b 9", "c", "cl 1", "c", "q"],      # stop in cm() (a generator), then continue
    ["b 11", "c", "c", "c", "c", "q"],   # the breakpoint in the handler of cm(): hit each time
])
def test_exception_thrown_into_generators(tmp_path, commands):
    plain, dbg = plain_and_sleuth(tmp_path, THROWN, commands)
    assert plain.returncode == 0 and "done" in plain.stderr
    assert "Cannot disable" not in dbg.stdout + dbg.stderr
    assert dbg.stderr == plain.stderr
    assert dbg.returncode == plain.returncode
