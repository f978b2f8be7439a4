"""Build script: one C extension per tool, discovered from src/_sleuth/<tool>/.

src/_sleuth/core/*.c   -> sleuth._sleuth   (debugger engine, session, frontends, CLI)
src/_sleuth/<tool>/*.c -> sleuth._<tool>   (faults, stacks, memory, reduce, traceback, ...)
src/_sleuth/common/*.c is compiled into every extension (small shared helpers).

SLEUTH_SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer.
"""
import glob
import os

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))
CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-missing-field-initializers",
          "-Wno-cast-function-type", "-fvisibility=hidden", "-O2", "-g"]
LDFLAGS = []
if os.environ.get("SLEUTH_SANITIZE"):
    san = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
           "-fno-omit-frame-pointer"]
    CFLAGS = [f for f in CFLAGS if f != "-O2"] + ["-O1"] + san
    LDFLAGS += san


def _extensions():
    base = os.path.join("src", "_sleuth")
    common = sorted(glob.glob(os.path.join(base, "common", "*.c")))
    exts = []
    for tool in sorted(os.listdir(os.path.join(ROOT, base))):
        tdir = os.path.join(base, tool)
        if tool == "common" or not os.path.isdir(os.path.join(ROOT, tdir)):
            continue
        sources = sorted(glob.glob(os.path.join(tdir, "*.c")))
        if not sources:
            continue
        name = "sleuth._sleuth" if tool == "core" else "sleuth._" + tool
        exts.append(Extension(
            name, sources=sources + common,
            include_dirs=[os.path.join(base, "common"), tdir],
            depends=sorted(glob.glob(os.path.join(tdir, "*.h")) +
                           glob.glob(os.path.join(base, "common", "*.h"))),
            extra_compile_args=CFLAGS, extra_link_args=LDFLAGS,
        ))
    return exts


class build_py_with_pth(build_py):
    """Also install sleuth-autostart.pth at the top of site-packages: it
    imports sleuth only when SLEUTH_FAULTS or SLEUTH_EVIDENCE is set."""

    def run(self):
        super().run()
        self.copy_file(os.path.join("src", "sleuth-autostart.pth"),
                       os.path.join(self.build_lib, "sleuth-autostart.pth"), preserve_mode=0)


setup(ext_modules=_extensions(), cmdclass={"build_py": build_py_with_pth})
