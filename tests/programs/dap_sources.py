# The program of the DAP sources scenario (tests/dapscenario.py): code
# without a file on disk (a string given to exec, and generated code that
# registers its text in linecache) calls cb(), where the breakpoint is.
import linecache


def cb(v):
    w = v * 2  # BREAK cb
    return w


ns = {"cb": cb}
exec(compile("def f(x):\n    return cb(x + 1)\n", "<string>", "exec"), ns)
gen = "def h(x):\n    return cb(x)  # generated\n"
linecache.cache["<gen-1>"] = (len(gen), None, gen.splitlines(True), "<gen-1>")
exec(compile(gen, "<gen-1>", "exec"), ns)
ns["h"](1)
ns["f"](2)
print("done")
