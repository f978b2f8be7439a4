"""The same DAP scenarios against debugpy's adapter (`python -m
debugpy.adapter`, debugpy from PyPI as a test dependency) and sleuth's
(`python -m sleuth dap`): what a user sees must agree — stop reasons, frame
names and lines, variable values, evaluation results, program output and
exit status. tests/dapscenario.py runs the scenarios."""
import os
import subprocess
import sys

import pytest

import dapscenario
from dapclient import DapClient, free_port, wait_listening, have_debuggee_server

debugpy = pytest.importorskip("debugpy", reason="debugpy is not installed for this Python "
                                                "(requirements-test.txt installs it)")
HAVE_SERVER = have_debuggee_server()
need_server = pytest.mark.skipif(not HAVE_SERVER,
                                 reason="this build has no debuggee server yet (sleuth.listen)")

ADAPTERS = {
    "debugpy": [sys.executable, "-m", "debugpy.adapter"],
    "sleuth": [sys.executable, "-m", "sleuth", "dap"],
}
LISTENERS = {
    "debugpy": [sys.executable, "-m", "debugpy", "--listen"],
    "sleuth": [sys.executable, "-m", "sleuth", "--listen"],
}


def spawn_adapter(name):
    proc = subprocess.Popen(ADAPTERS[name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    return DapClient(proc.stdout, proc.stdin, proc=proc)


def launch_summary(name, **extra):
    with spawn_adapter(name) as c:
        return dapscenario.breakpoint_scenario(
            c, program=dapscenario.PROGRAM, console="internalConsole",
            cwd=os.path.dirname(dapscenario.PROGRAM), justMyCode=True, **extra)


def attach_summary(name):
    port = free_port()
    prog = subprocess.Popen([*LISTENERS[name], f"127.0.0.1:{port}", "--wait-for-client",
                             dapscenario.PROGRAM], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_listening(port)
        # `--listen` programs speak DAP themselves (debugpy's runs its adapter
        # there): the client connects straight to them, as VS Code's debugServer
        # or nvim-dap's server adapters do
        with DapClient.connect("127.0.0.1", port) as c:
            out = dapscenario.breakpoint_scenario(c, "attach", justMyCode=True)
        rc = prog.wait(30)
        out.pop("stdout")                  # attached: the output stays in the program's own stdout
        out["program_stdout"] = prog.stdout.read()
        out["program_rc"] = rc
        return out
    finally:
        prog.kill()
        prog.wait()


@pytest.fixture(scope="module")
def debugpy_launch():
    return launch_summary("debugpy")


def test_debugpy_scenario_is_what_we_expect(debugpy_launch):
    # pins the reference: if debugpy itself changes, this says so first
    brk, step = dapscenario.marker_line("BREAK add"), dapscenario.marker_line("STEP add")
    assert debugpy_launch["stop1"] == ("breakpoint", "add", brk)
    assert debugpy_launch["stop2"] == ("step", "add", step)
    assert debugpy_launch["locals1"] == {"a": "2", "b": "3"}
    assert debugpy_launch["exit"] == 3


@need_server
@pytest.mark.parametrize("key", ["stop1", "frames1", "locals1", "eval1", "stop2", "eval2",
                                 "stdout", "exit"])
def test_launch_agrees_with_debugpy(debugpy_launch, sleuth_launch, key):
    assert sleuth_launch[key] == debugpy_launch[key]


@pytest.fixture(scope="module")
def sleuth_launch():
    return launch_summary("sleuth")


@pytest.fixture(scope="module")
def debugpy_attach():
    return attach_summary("debugpy")


@pytest.fixture(scope="module")
def sleuth_attach():
    return attach_summary("sleuth")


def test_debugpy_attach_is_what_we_expect(debugpy_attach):
    assert debugpy_attach["stop1"][0] == "breakpoint"
    assert debugpy_attach["program_stdout"] == "before\nresult 5\n"
    assert debugpy_attach["program_rc"] == 3


@need_server
@pytest.mark.parametrize("key", ["stop1", "frames1", "locals1", "eval1", "stop2", "eval2",
                                 "program_stdout", "program_rc"])
def test_attach_agrees_with_debugpy(debugpy_attach, sleuth_attach, key):
    assert sleuth_attach[key] == debugpy_attach[key]


# --- sources and continued events ----------------------------------------------------


def sources_summary(name):
    with spawn_adapter(name) as c:
        return dapscenario.sources_scenario(c)


@pytest.fixture(scope="module")
def debugpy_sources():
    return sources_summary("debugpy")


@pytest.fixture(scope="module")
def sleuth_sources():
    return sources_summary("sleuth")


def test_debugpy_sources_are_what_we_expect(debugpy_sources):
    prog = dapscenario.SOURCES_PROGRAM
    assert debugpy_sources["frames"] == [("cb", prog, False), ("h", "<gen-1>", True),
                                         ("<module>", prog, False)]
    assert debugpy_sources["gen_source"] == (True, "def h(x):\n    return cb(x)  # generated\n")
    assert debugpy_sources["unknown_reference"] is False
    assert debugpy_sources["after_next"] == ["continued", "stopped"]
    assert debugpy_sources["continued_next"] == [(True, True)]


@need_server
@pytest.mark.parametrize("key", ["frames", "gen_source", "unknown_reference", "after_next",
                                 "continued_next", "after_continue", "continued_continue"])
def test_sources_and_continued_agree_with_debugpy(debugpy_sources, sleuth_sources, key):
    assert sleuth_sources[key] == debugpy_sources[key]
