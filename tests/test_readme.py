"""The README's commands, run as written.

Every command line in a fenced block of README.md must have a scenario here
(or be named in ELSEWHERE with the place that runs it): a README edit that
adds a command without one fails test_every_readme_command_is_covered. Each
scenario runs the command's text with /bin/sh in a folder holding the files
it names, with this interpreter's environment first on PATH (so `python`,
`sleuth` and `pytest` are the ones under test), and checks what it printed.
Absolute paths in the README (/tmp/ev, /srv) are the only thing replaced.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from dapclient import have_debuggee_server
from test_install import APP      # the same breakpoint() program as the install test

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)

# Commands that this file does not run itself, and where they run instead.
ELSEWHERE = {
    "make demo": ".ci/run",
    "make test": ".ci/run",
    "pip install /path/to/sleuth": "tests/test_install.py (a wheel of this checkout)",
}


# Fenced blocks in these languages are editor configurations, not commands:
# test_editor_configurations runs them.
CONFIG_LANGUAGES = ("json", "lua", "elisp")


def readme_commands():
    """Command lines of the README's fenced blocks: `$ ` lines of a shell
    transcript, and the lines of command blocks, without trailing comments.
    Synopses (`sleuth [-c command]...`), the layout block and output lines
    are not commands."""
    text = open(os.path.join(ROOT, "README.md")).read()
    cmds = []
    for info, block in re.findall(r"^```([^\n]*)\n(.*?)^```", text, re.S | re.M):
        if info.strip() in CONFIG_LANGUAGES:     # editor configurations: see below
            continue
        lines = block.splitlines()
        transcript = any(line.startswith("$ ") for line in lines)
        for line in lines:
            if transcript:
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            line = re.sub(r"\s+#.*$", "", line).strip()
            if not line or line.startswith(("src/", "tests/", "bench/", "examples/", "#")):
                continue
            if re.match(r"sleuth \[", line):          # a synopsis
                continue
            cmds.append(line)
    return cmds


# --- the scenarios -------------------------------------------------------------

SHOP = """\
def price_of(order):
    item = order["items"][0]
    return item["price"] * order["qty"]

print(price_of({"items": [], "qty": 2}))
"""

SERVER = """\
import argparse, time
ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.parse_args()
cache = []
def handle(n):
    cache.append(bytearray(2048))      # grows with every request: the leak
for n in range(300):
    handle(n)
    time.sleep(0.005)
print("served", len(cache))
"""

PARSE = """\
import csv, sys
def parse_row(row):
    return int(row[1]) / int(row[2])
for row in csv.reader(open(sys.argv[1])):
    if row and row[0] != "name":
        parse_row(row)
"""

JSON_APP = """\
import json, sys
doc = json.load(open(sys.argv[1]))
for user in doc["users"]:
    print(user["name"], user["email"])
"""


def big_csv():
    rows = ["name,a,b"] + [f"n{i},{i % 7 + 1},{i % 5 + 1}" for i in range(150)]
    rows[90] = "bad,3,0"
    return "\n".join(rows) + "\n"


def input_json():
    import json
    users = [{"name": f"u{i}", "email": f"u{i}@example.org"} for i in range(40)]
    del users[25]["email"]
    return json.dumps({"users": users, "version": 3}, indent=1)


def bisect_repo(tmp):
    def git(*a):
        subprocess.run(["git", *a], cwd=tmp, check=True, capture_output=True,
                       env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
                                GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"))
    git("init", "-q", "-b", "main")
    (tmp / "Makefile").write_text("test:\n\tgrep -qx ok status.txt\n")
    for i in range(8):
        (tmp / "status.txt").write_text("ok\n" if i < 5 else "broken\n")
        (tmp / "log.txt").write_text(f"commit {i}\n")
        git("add", "-A")
        git("commit", "-q", "-m", f"commit {i}")
        if i == 1:
            git("tag", "v1.2")


SCENARIOS = {
    # command: (files, stdin, checks on (stdout, stderr, returncode, folder))
    "PYTHONBREAKPOINT=sleuth.set_trace python app.py": (
        {"app.py": APP}, "p s\nc\n",
        lambda out, err, rc, d: "(Pdb) 6\n" in out and "total 6\n" in out and rc == 0),
    "python -m sleuth app.py": (
        {"app.py": APP}, "c\np s\nc\nq\n",
        lambda out, err, rc, d: out.startswith("> ") and "app.py(1)<module>()" in out
        and "(Pdb) 6\n" in out),
    "pytest --sleuth": (
        {"test_app.py": "def test_fails():\n    x = 41\n    assert x == 42\n"}, "p x\nq\n",
        lambda out, err, rc, d: "(Pdb) 41\n" in out and rc != 0),
    "SLEUTH_EVIDENCE=/tmp/ev python shop.py": (
        {"shop.py": SHOP}, "",
        lambda out, err, rc, d: rc == 1 and "IndexError: list index out of range\n" in err
        and re.search(r"\nsleuth: evidence saved to .*/ev/sleuth-evidence-[^/]*\.json\n$", err)),
    "sleuth open /tmp/ev": (
        {"shop.py": SHOP}, "p order\nq\n",
        lambda out, err, rc, d: "shop.py(2)price_of()\n-> item = order[\"items\"][0]\n" in out
        and "(Pdb) {'items': [], 'qty': 2}\n" in out),
    "sleuth mem --interval 0.5 --top 5 server.py --port 8080": (
        {"server.py": SERVER}, "",
        lambda out, err, rc, d: rc == 0 and out == "served 300\n"
        and "grew at every interval" in err and "cache.append(bytearray(2048))" in err),
    "sleuth mem --sample 65536 server.py": (
        {"server.py": SERVER}, "",
        lambda out, err, rc, d: rc == 0 and out == "served 300\n"
        and "sampling (mean gap 65536 bytes)" in err),
    "sleuth reduce --test 'python parse.py {}' big.csv -o small.csv": (
        {"parse.py": PARSE, "big.csv": big_csv()}, "",
        lambda out, err, rc, d: rc == 0
        and "ZeroDivisionError in parse_row() of parse.py" in err.splitlines()[0]
        and (d / "small.csv").read_text().strip().endswith("0")
        and len((d / "small.csv").read_text()) < 10),
    "sleuth reduce --expect-output 'KeyError' --test 'python app.py {}' input.json": (
        {"app.py": JSON_APP, "input.json": input_json()}, "",
        lambda out, err, rc, d: rc == 0
        and len((d / "input.json.reduced").read_text()) < 60
        and "KeyError" in subprocess.run([sys.executable, "app.py", "input.json.reduced"],
                                         cwd=d, capture_output=True, text=True).stderr),
    "sleuth dap --help": (
        {}, "",
        lambda out, err, rc, d: rc == 0 and out.startswith("usage: sleuth dap ")),
    "sleuth bisect --good v1.2 --bad HEAD -- make test": (
        {}, "",
        lambda out, err, rc, d: rc == 0 and "commit 5" in out + err),
}


def test_every_readme_command_is_covered():
    cmds = readme_commands()
    assert len(cmds) >= 10, cmds
    missing = [c for c in cmds if c not in SCENARIOS and c not in ELSEWHERE]
    assert not missing, f"README commands without a scenario in tests/test_readme.py: {missing}"
    unused = [c for c in SCENARIOS if c not in cmds]
    assert not unused, f"scenarios for commands the README no longer has: {unused}"
    ci = open(os.path.join(ROOT, ".ci", "run")).read()
    for cmd, where in ELSEWHERE.items():
        if where == ".ci/run":
            assert re.search(rf"^{re.escape(cmd)}$", ci, re.M), cmd


def run_command(cmd, tmp, stdin):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], HOME=str(tmp),
               PYTHONIOENCODING="utf-8")
    for k in ("PYTHONBREAKPOINT", "SLEUTH_EVIDENCE", "PYTHONPATH"):
        env.pop(k, None)
    text = cmd.replace("/tmp/ev", str(tmp / "ev"))
    return subprocess.run(["/bin/sh", "-c", text], cwd=tmp, input=stdin, env=env,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("cmd", sorted(SCENARIOS))
def test_readme_command(cmd, tmp_path):
    files, stdin, check = SCENARIOS[cmd]
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    if cmd.startswith("sleuth open"):
        # the transcript before it: the program that left the evidence
        r = run_command("SLEUTH_EVIDENCE=/tmp/ev python shop.py", tmp_path, "")
        assert r.returncode == 1, r.stderr
    if cmd.startswith("sleuth bisect"):
        bisect_repo(tmp_path)
    r = run_command(cmd, tmp_path, stdin)
    assert check(r.stdout, r.stderr, r.returncode, tmp_path), \
        textwrap.dedent(f"""\
            command: {cmd}
            exit status: {r.returncode}
            stdout:
            {r.stdout[-3000:]}
            stderr:
            {r.stderr[-3000:]}""")


# --- the editor configurations of "From your editor" ----------------------------

def readme_block(language):
    text = open(os.path.join(ROOT, "README.md")).read()
    blocks = re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)
    assert len(blocks) == 1, (language, len(blocks))
    return blocks[0]


PROGRAM = 'print("hello from", __file__.rsplit("/", 1)[-1])\n'
need_server = pytest.mark.skipif(not have_debuggee_server(),
                                 reason="this build has no debuggee server yet (sleuth.listen)")


@need_server
def test_vscode_configuration(tmp_path):
    """launch.json as written: sleuth dap --listen on its debugServer port
    (another port here), the launch request with its keys, ${file} filled in."""
    from dapclient import DapClient
    conf = json.loads(readme_block("json"))["configurations"][0]
    assert conf["debugServer"] == 5678 and conf["request"] == "launch"
    prog = tmp_path / "app.py"
    prog.write_text(PROGRAM)
    args = {k: v for k, v in conf.items() if k not in ("name", "type", "request", "debugServer")}
    args["program"] = args["program"].replace("${file}", str(prog))
    args["python"] = sys.executable     # the Python extension adds the selected interpreter
    proc = subprocess.Popen([sys.executable, "-m", "sleuth", "dap", "--listen", "127.0.0.1:0"],
                            stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stderr.readline().rsplit(":", 1)[1])
        with DapClient.connect("127.0.0.1", port) as c:
            assert c.request("initialize", adapterID="python")["success"]
            seq = c.request_async("launch", **args)
            c.wait_event("initialized")
            assert c.request("configurationDone")["success"]
            assert c.response(seq)["success"]
            c.wait_event("terminated")
            assert c.output["stdout"] == "hello from app.py\n"
            c.request("disconnect")
    finally:
        proc.kill()
        proc.wait()


# Runs the README's Lua with a stand-in for nvim-dap's module and prints what
# it configured as JSON (lua5.4 from `make editor-deps`; no Neovim needed).
LUA_DUMP = """
package.preload["dap"] = function() return { adapters = {}, configurations = {} } end
local chunk = assert(load(io.read("a"), "README", "t"))
chunk()
local function dump(v)
  local t = type(v)
  if t == "string" then
    return '"' .. v:gsub('[%c"\\\\]', function(c) return string.format("\\\\u%04x", c:byte()) end) .. '"'
  elseif t == "number" or t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    local parts = {}
    if #v > 0 then
      for _, x in ipairs(v) do parts[#parts + 1] = dump(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    for k, x in pairs(v) do parts[#parts + 1] = dump(tostring(k)) .. ":" .. dump(x) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  error("cannot dump a " .. t)
end
print(dump(package.loaded["dap"]))
"""


def neovim_config():
    lua = shutil.which("lua5.4") or shutil.which("lua")
    if not lua:
        pytest.skip("no Lua interpreter (make editor-deps installs lua5.4)")
    r = subprocess.run([lua, "-e", LUA_DUMP], input=readme_block("lua"), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@need_server
def test_neovim_configuration(tmp_path):
    """The Lua as written (run by Lua with a stand-in nvim-dap module): the
    adapter it names is started exactly as nvim-dap would (command + args on
    stdin/stdout), and its python configuration's launch arguments, ${file}
    filled in as nvim-dap does, run the program to its end."""
    from dapclient import DapClient
    dap = neovim_config()
    adapter = dap["adapters"]["sleuth"]
    assert adapter["type"] == "executable", adapter
    (conf,) = dap["configurations"]["python"]
    assert conf["type"] == "sleuth" and conf["request"] == "launch", conf
    prog = tmp_path / "app.py"
    prog.write_text(PROGRAM)
    args = {k: v.replace("${file}", str(prog)) if isinstance(v, str) else v
            for k, v in conf.items() if k not in ("type", "request", "name")}
    command = shutil.which(adapter["command"], path=BIN + os.pathsep + os.environ["PATH"])
    assert command and os.path.dirname(command) == BIN, command
    proc = subprocess.Popen([command, *adapter.get("args", [])], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    with DapClient(proc.stdout, proc.stdin, proc=proc) as c:
        assert c.request("initialize", adapterID="sleuth", clientID="neovim")["success"]
        seq = c.request_async("launch", **args)
        c.wait_event("initialized")
        assert c.request("configurationDone")["success"]
        assert c.response(seq)["success"]
        c.wait_event("terminated")
        assert c.output["stdout"] == "hello from app.py\n"
        c.request("disconnect")


@need_server
@pytest.mark.skipif(not shutil.which("emacs"), reason="emacs is not installed (make editor-deps)")
def test_emacs_configuration(tmp_path):
    """The elisp as written, in a headless Emacs: M-x dap-debug's template runs
    the visited file to its end; its output reaches the session's buffer."""
    prog = tmp_path / "app.py"
    prog.write_text(PROGRAM)
    script = tmp_path / "run.el"
    # Emacs 28's native compiler spawns a child Emacs to compile subr
    # trampolines into a fresh HOME's eln-cache; under make test-asan that
    # child inherits libasan through LD_PRELOAD and hangs (the Emacs waits on
    # it forever: the 240 s hang of two rehearsals). The trampolines are not
    # what is tested, so they are off, as is deferred compilation.
    script.write_text("(setq comp-enable-subr-trampolines nil native-comp-enable-subr-trampolines nil"
                      " native-comp-deferred-compilation nil)\n"
                      "(require 'package)\n(package-initialize)\n(require 'dap-ui)\n"
                      "(setq dap-auto-configure-features nil)\n" + readme_block("elisp") + f"""
(defvar done nil)
(add-hook 'dap-terminated-hook (lambda (_s) (setq done t)))
(find-file {json.dumps(str(prog))})
(dap-debug (cdr (assoc "sleuth: current file" dap-debug-template-configurations)))
(let ((deadline (+ (float-time) 60)))
  (while (and (not done) (< (float-time) deadline)) (accept-process-output nil 0.05)))
(with-current-buffer (dap--debug-session-output-buffer (dap--cur-session))
  (princ (format "DONE %s OUTPUT %S\\n" done (buffer-string))))
""")
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"], HOME=str(tmp_path))
    r = subprocess.run(["emacs", "--batch", "-l", str(script)], env=env, capture_output=True,
                       text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert 'DONE t OUTPUT "hello from app.py\n"' in r.stdout, (r.stdout, r.stderr[-3000:])
