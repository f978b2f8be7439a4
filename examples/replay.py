"""Type a recorded debugger session into sleuth and show it as a terminal would.

    python examples/replay.py COMMANDS_FILE [sleuth arguments ...]

`make demo` uses it when there is no terminal: each line of COMMANDS_FILE is
sent when the debugger shows its prompt, and echoed after the prompt, so the
transcript reads like the interactive session it replays.
"""
import os
import subprocess
import sys

PROMPTS = (b"(Pdb) ", b"((Pdb)) ", b"(com) ")


def main():
    with open(sys.argv[1]) as f:
        commands = [line.rstrip("\n") for line in f]
    child = subprocess.Popen([sys.executable, "-m", "sleuth", *sys.argv[2:]],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    out = sys.stdout.buffer
    tail = b""
    while True:
        chunk = os.read(child.stdout.fileno(), 4096)
        if not chunk:
            break
        out.write(chunk)
        out.flush()
        tail = (tail + chunk)[-16:]
        if tail.endswith(PROMPTS):
            line = commands.pop(0) if commands else "q"
            out.write(line.encode() + b"\n")
            out.flush()
            try:
                child.stdin.write(line.encode() + b"\n")
                child.stdin.flush()
            except BrokenPipeError:
                break
            tail = b""
    return child.wait()


if __name__ == "__main__":
    sys.exit(main())
