"""Help everywhere: `sleuth --help` and `sleuth TOOL --help` list every option
with one line each and an example, in the style of `python -m pdb --help`."""
import re

import pytest

from conftest import run_python

TOOLS = ["run", "open", "stacks", "mem", "reduce", "bisect", "dap"]


def test_top_level_help_lists_every_tool_with_an_example():
    r = run_python(["-m", "sleuth", "--help"])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("usage: sleuth [-h] [-c command] (-m module | pyfile) [args ...]\n")
    for tool in TOOLS:
        assert re.search(rf"^  sleuth {tool} \S.*   \S", out, re.M), tool
    assert "\nexamples:\n  sleuth " in out


@pytest.mark.parametrize("tool", TOOLS)
def test_tool_help(tool):
    r = run_python(["-m", "sleuth", tool, "--help"])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith(f"usage: sleuth {tool} "), out
    # an example that runs the tool, and every option on a line of its own
    assert re.search(rf"^examples?:\n  sleuth {tool} ", out, re.M), out
    options = re.findall(r"^  (-[-\w]+)", out, re.M)
    assert len(options) >= (1 if tool == "open" else 2), out
    for opt in set(re.findall(r"\[(--[\w-]+)", out.split("\n\n")[0])):
        assert re.search(rf"^  (-\w, )?{opt}\b", out, re.M), (tool, opt)
