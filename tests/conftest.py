"""Shared test helpers: run sleuth or plain Python in a child process."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SANITIZED = bool(os.environ.get("SLEUTH_SANITIZED"))


def run_python(args, *, input=None, cwd=None, env=None, timeout=60):
    """Run `python ARGS...` with this interpreter; return CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.pop("PYTHONBREAKPOINT", None)
    full_env["PYTHONDONTWRITEBYTECODE"] = "1"
    full_env["PYTHONIOENCODING"] = "utf-8"
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, *args], input=input, cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def py():
    return run_python
