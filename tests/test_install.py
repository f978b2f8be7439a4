"""README's "Use it in your own project": a wheel installed into a fresh
environment, then the three one-line ways to use it, as written there."""
import os
import subprocess
import sys

import pytest

from conftest import SANITIZED, run_python

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

APP = """\
def total(items):
    s = sum(items)
    breakpoint()
    return s

print("total", total([1, 2, 3]))
"""

TEST = """\
def test_fails():
    x = 41
    assert x == 42
"""


@pytest.mark.skipif(SANITIZED, reason="builds a plain wheel; the sanitizer run preloads ASan")
def test_wheel_in_a_fresh_venv(tmp_path):
    wheels = tmp_path / "dist"
    r = run_python(["-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), ROOT], timeout=600)
    assert r.returncode == 0, r.stderr
    (wheel,) = wheels.iterdir()
    venv = tmp_path / "venv"
    # A fresh environment with nothing in it; the wheel goes into its
    # site-packages (pip of this interpreter, --target: no network needed).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    vpy = str(venv / "bin" / "python")
    site = subprocess.run([vpy, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    r = run_python(["-m", "pip", "install", "-q", "--no-deps", "--target", site, str(wheel)],
                   timeout=300)
    assert r.returncode == 0, r.stderr
    # pytest and its dependencies: the ones this test runs under, made visible
    # to the new environment by a .pth file (they are pure Python).
    import _pytest, iniconfig, packaging, pluggy  # noqa: E401
    dirs = {os.path.dirname(os.path.dirname(m.__file__)) for m in (_pytest, iniconfig, packaging, pluggy)}
    with open(os.path.join(site, "zz-test-deps.pth"), "w") as f:
        f.write("\n".join(sorted(dirs)) + "\n")
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "test_app.py").write_text(TEST)
    env = dict(os.environ, PYTHONIOENCODING="utf-8", HOME=str(tmp_path))
    env.pop("PYTHONPATH", None)

    def run(args, stdin, extra=None):
        return subprocess.run(args, input=stdin, capture_output=True, text=True, cwd=tmp_path,
                              env=dict(env, **(extra or {})), timeout=120)

    # PYTHONBREAKPOINT=sleuth.set_trace python app.py
    r = run([vpy, "app.py"], "p s\nc\n", {"PYTHONBREAKPOINT": "sleuth.set_trace"})
    assert "(Pdb) 6\n" in r.stdout and "total 6" in r.stdout, r.stdout + r.stderr
    assert "from sleuth" not in r.stderr
    # python -m sleuth app.py
    r = run([vpy, "-m", "sleuth", "app.py"], "c\np s\nc\nq\n")
    assert "app.py(1)<module>()" in r.stdout and "(Pdb) 6\n" in r.stdout, r.stdout + r.stderr
    # pytest --sleuth
    r = run([vpy, "-m", "pytest", "--sleuth", "-p", "no:cacheprovider", "test_app.py"], "p x\nq\n")
    assert "(Pdb) 41\n" in r.stdout, r.stdout + r.stderr
    assert "1 failed" in r.stdout
    # The venv holds sleuth's files: the import did not come from elsewhere.
    r = run([vpy, "-c", "import sleuth; print(sleuth.__file__)"], "")
    assert r.stdout.startswith(site), r.stdout
