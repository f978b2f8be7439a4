"""`sleuth open` fed mutated and random evidence files.

Each case is a seeded mutation of a real evidence file (byte flips, fields
swapped for values of other types, huge numbers, deep nesting, truncation,
terminal controls in every string, gzip damage) or a random file. `sleuth
open` runs it in a child with an address-space limit and a timeout, driven by
a few commands on stdin, and must end with a normal session (status 0) or one
line on stderr (status 2), with no raw control character on either stream.

A few seeds run in the normal suite; `make fuzz-open` runs many
(SLEUTH_FUZZ_OPEN_SEEDS=N, or A-B).
"""
import copy
import gzip
import json
import os
import random
import resource
import subprocess
import sys

import pytest

import sleuth.evidence as ev

from conftest import SANITIZED

# What a terminal acts on (termsafe.c): C0 but newline and tab, DEL, C1, bidi
# and invisible format controls, line/paragraph separators, BOM, surrogates.
UNSAFE = set(chr(c) for c in range(0x20) if chr(c) not in "\n\t")
UNSAFE |= set(chr(c) for c in range(0x7f, 0xa0))
UNSAFE |= set("\u061c\u200b\u200e\u200f\u2028\u2029\ufeff")
UNSAFE |= set(chr(c) for c in range(0x202a, 0x202f)) | set(chr(c) for c in range(0x2066, 0x206a))
CONTROLS = "\x1b[2J\x1b]0;t\x07\r\x08\x00\u202e\u2066\x9b\ud800"
COMMANDS = "where\nlist\nll\nargs\np {local}\np locals()\nexceptions\nup\nlist\ndown\nenv\nq\n"
TIMEOUT = 60
ADDRESS_SPACE = 2 << 30


def seeds():
    spec = os.environ.get("SLEUTH_FUZZ_OPEN_SEEDS", "12")
    if "-" in spec:
        a, b = spec.split("-")
        return range(int(a), int(b) + 1)
    return range(int(spec))


class Shop:
    def __init__(self):
        self.price = 9.5
        self.tags = {"a": [1, 2, {"b": (3, 4)}]}


def _capture_all():
    docs = []

    def inner(order, token, n):
        data = {"items": [Shop(), Shop()], "n": n, "s": "text"}
        raise KeyError("missing")
    try:
        try:
            inner({"k": [1, 2]}, "secret", 3)
        except KeyError as e:
            e.add_note("a note")
            raise ExceptionGroup("group", [e, ValueError("v")]) from e
    except ExceptionGroup as g:
        docs.append(json.loads(ev.capture_json(g)))
    docs.append(json.loads(ev.capture_json()))                 # a stack, no exception
    return docs


@pytest.fixture(scope="module")
def bases():
    return _capture_all()


def walk(node, path=()):
    """(path, value) for every node."""
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (i,))


def set_at(doc, path, value):
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


def deep(n):
    v = 1
    for _ in range(n):
        v = [v]
    return v


def strange(rng):
    return rng.choice([
        None, True, False, 0, -1, 1.5, 1e9, -1e9, 10**9, 2**63, 10**30, float("nan"),
        "", "x", "x" * rng.choice([5000, 100_000]), CONTROLS, [], {}, [1, 2], [None] * 4,
        {"repr": CONTROLS}, deep(rng.choice([50, 150, 500])),
        [10**9, 10**9 + 5, 0, 1], [1, 10**9, 0, 10**7],
    ])


def mutate(rng, base):
    """(bytes, name) of one fuzz case."""
    doc = copy.deepcopy(base)
    kind = rng.choice(["swap", "swap", "swap", "controls", "flip", "truncate", "gzip",
                       "gzip_damage", "random", "numbers", "drop"])
    nodes = list(walk(doc))
    if kind in ("swap", "numbers", "drop"):
        for _ in range(rng.randint(1, 4)):
            path, _v = rng.choice(nodes[1:])
            if kind == "drop" and isinstance(path[-1], str):
                node = doc
                for k in path[:-1]:
                    node = node[k]
                node.pop(path[-1], None)
                break
            value = strange(rng) if kind == "swap" else rng.choice(
                [10**9, -10**9, 2**31, 2**63 - 1, 10**7, 10**7 + 1, 16_777_217, -2])
            try:
                set_at(doc, path, value)
            except (KeyError, IndexError, TypeError):
                pass
            nodes = list(walk(doc))
    if kind == "controls":
        def taint(n):
            if isinstance(n, dict):
                return {(k + CONTROLS if k not in ("format",) and rng.random() < 0.3 else k):
                        (taint(v) if k != "format" else v) for k, v in n.items()}
            if isinstance(n, list):
                return [taint(v) for v in n]
            return n + CONTROLS if isinstance(n, str) else n
        doc = taint(doc)
    text = json.dumps(doc).encode("utf-8", "surrogatepass")
    if kind == "flip":
        b = bytearray(text)
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        text = bytes(b)
    elif kind == "truncate":
        text = text[: rng.randrange(len(text))]
    elif kind == "gzip":
        text = gzip.compress(text)
    elif kind == "gzip_damage":
        z = bytearray(gzip.compress(text))
        if rng.random() < 0.5:
            z = z[: rng.randrange(2, len(z))]
        else:
            for _ in range(rng.randint(1, 5)):
                z[rng.randrange(10, len(z))] = rng.randrange(256)
        text = bytes(z)
    elif kind == "random":
        if rng.random() < 0.5:
            text = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))
        else:
            text = json.dumps({"format": "sleuth-evidence", "version": 1,
                               **{k: strange(rng) for k in ("frames", "exceptions", "environment",
                                                            "sources", "stack", "threads",
                                                            "exception")}}).encode()
    return text, kind


def local_name(base):
    for f in base["frames"]:
        for name in f.get("locals") or {}:
            return name
    return "x"


def run_case(path, commands):
    def limits():
        if not SANITIZED:
            resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("PYTHONBREAKPOINT", None)
    return subprocess.run([sys.executable, "-m", "sleuth", "open", str(path)], input=commands,
                          capture_output=True, text=True, errors="surrogateescape",
                          timeout=TIMEOUT, env=env, preexec_fn=limits)


def check(r, label):
    assert r.returncode in (0, 2), (label, r.returncode, r.stderr[-3000:])
    if r.returncode == 2:
        assert r.stderr.startswith("sleuth open: error: "), (label, r.stderr[-3000:])
        assert r.stderr.count("\n") == 1, (label, r.stderr[-3000:])
    else:
        assert r.stderr == "", (label, r.stderr[-3000:])
    assert "Traceback (most recent call last)" not in r.stderr, label
    for stream in (r.stdout, r.stderr):
        bad = UNSAFE.intersection(stream)
        # surrogateescape turns undecodable output bytes into lone surrogates
        bad |= {c for c in stream if "\ud800" <= c <= "\udfff"}
        assert not bad, (label, sorted(map(hex, map(ord, bad))), stream[-2000:])


@pytest.mark.parametrize("seed", seeds())
def test_sleuth_open_survives_mutated_files(bases, tmp_path, seed):
    rng = random.Random(seed)
    base = bases[seed % len(bases)]
    data, kind = mutate(rng, base)
    path = tmp_path / ("case.json.gz" if data[:2] == b"\x1f\x8b" else "case.json")
    path.write_bytes(data)
    check(run_case(path, COMMANDS.format(local=local_name(base))), f"seed {seed} ({kind})")


def test_unmutated_bases_open(bases, tmp_path):
    # The harness itself: the real files give a normal session.
    for i, base in enumerate(bases):
        path = tmp_path / f"base{i}.json"
        path.write_text(json.dumps(base))
        r = run_case(path, COMMANDS.format(local=local_name(base)))
        check(r, f"base {i}")
        assert r.returncode == 0 and "(Pdb)" in r.stdout
