"""Generate the reducer benchmark set: four inputs whose smallest failing
variant is known, each with the predicate its test uses.

    python bench/reduce_gen.py OUTDIR

writes OUTDIR/<case>/<input>, OUTDIR/<case>/pred.py and OUTDIR/manifest.json
({case: {input, minimum, example}}). The predicate exits 0 when the file
still "fails"; every test also sleeps 10 ms, as a real test would take time.
"""
import json
import os
import random
import sys

SLEEP = "import time; time.sleep(0.01)\n"

PY_PRED = SLEEP + r'''
import ast, sys
def pred(src):
    try:
        tree = ast.parse(src)
    except Exception:
        return False
    cls = any(isinstance(n, ast.ClassDef) and n.name == "Trigger" and
              any(isinstance(m, ast.FunctionDef) and m.name == "run" for m in n.body)
              for n in ast.walk(tree))
    call = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and
               n.func.id == "register" and n.args and isinstance(n.args[0], ast.Constant)
               and n.args[0].value == "alpha" for n in ast.walk(tree))
    return cls and call
sys.exit(0 if pred(open(sys.argv[1], "rb").read()) else 1)
'''

CSV_PRED = SLEEP + r'''
import csv, io, sys
try:
    rows = list(csv.DictReader(io.StringIO(open(sys.argv[1], "rb").read().decode())))
except Exception:
    sys.exit(1)
names = {r.get("name") for r in rows if r.get("amount") == "-17"}
sys.exit(0 if {"Zed", "Amy"} <= names else 1)
'''

JSON_PRED = SLEEP + r'''
import json, sys
def walk(x):
    if isinstance(x, dict):
        return x.get("id") == "bug-4711" or any(walk(v) for v in x.values())
    if isinstance(x, list):
        return any(walk(v) for v in x)
    return False
try:
    doc = json.loads(open(sys.argv[1], "rb").read())
except Exception:
    sys.exit(1)
sys.exit(0 if walk(doc) else 1)
'''

BIN_PRED = SLEEP + r'''
import sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"\xf1")
j = d.find(b"\xf2", i + 1) if i >= 0 else -1
sys.exit(0 if j >= 0 and d.find(b"\xf3", j + 1) >= 0 else 1)
'''


def python_case(rnd):
    """~2,000 lines; class Trigger near the top, register('alpha') near the end."""
    out = ["import os", "import sys", ""]
    i = 0
    while len(out) < 1950:
        out += [f"def helper_{i}(a, b, c={i}):", f"    '''Helper number {i}.'''",
                f"    x = a + b * {rnd.randint(1, 99)}", f"    if x > {i}:",
                "        for k in range(c):", "            x += k % 7",
                "    else:", f"        x = [a, b, {{'k': {i}}}]", "    return x", ""]
        if i == 8:
            out += ["class Trigger(object):", "    value = 3", "",
                    "    def run(self, n, *rest):", "        total = self.value",
                    "        for r in rest:", "            total += r",
                    "        return total + n", ""]
        i += 1
    out += ["if __name__ == '__main__':", "    print(helper_1(1, 2))",
            "    register('alpha', helper_3, strict=True)", ""]
    example = "class Trigger:\n def run():register('alpha')"
    return "in.py", "\n".join(out), example


def csv_case(rnd):
    rows = ["id,name,city,amount,note"]
    for i in range(10000):
        rows.append(f"{i},name{rnd.randint(0, 999)},city{rnd.randint(0, 99)},"
                    f"{rnd.randint(1, 99999)},n{rnd.random():.6f}")
    rows[1234] = "1233,Zed,Oslo,-17,refund"
    rows[8765] = "8764,Amy,Oslo,-17,refund"
    return "in.csv", "\n".join(rows) + "\n", "name,amount\nZed,-17\nAmy,-17"


def json_case(rnd):
    def make(depth):
        if depth == 0:
            return rnd.choice([1, 2.5, "xyz", None, True, [1, 2]])
        return {f"k{depth}_{i}": make(depth - 1) if rnd.random() < 0.55 else
                [rnd.randint(0, 999) for _ in range(4)] for i in range(4)}
    doc = make(8)
    d = doc
    for _ in range(8):
        keys = sorted(k for k in d if isinstance(d[k], dict))
        if not keys:
            break
        d = d[keys[-1]]
    d["needle"] = {"id": "bug-4711", "extra": [1, 2, 3], "more": {"a": "b"}}
    return "in.json", json.dumps(doc, indent=2), '{"id":"bug-4711"}'


def binary_case(rnd):
    data = bytearray(rnd.randrange(0, 0xF0) for _ in range(65536))
    data[1000], data[30000], data[60000] = 0xF1, 0xF2, 0xF3
    return "in.bin", bytes(data), b"\xf1\xf2\xf3"


CASES = {"python": (python_case, PY_PRED), "csv": (csv_case, CSV_PRED),
         "json": (json_case, JSON_PRED), "binary": (binary_case, BIN_PRED)}


def main(outdir):
    manifest = {}
    for name, (make, pred) in CASES.items():
        rnd = random.Random(2026)
        fname, data, example = make(rnd)
        d = os.path.join(outdir, name)
        os.makedirs(d, exist_ok=True)
        raw = data if isinstance(data, bytes) else data.encode()
        with open(os.path.join(d, fname), "wb") as f:
            f.write(raw)
        with open(os.path.join(d, "pred.py"), "w") as f:
            f.write(pred)
        ex = example if isinstance(example, bytes) else example.encode()
        manifest[name] = {"input": fname, "size": len(raw), "minimum": len(ex),
                          "example": ex.decode("latin-1")}
    with open(os.path.join(outdir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "bench_reduce_data"), indent=1))
