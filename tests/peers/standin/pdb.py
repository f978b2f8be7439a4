"""A `pdb` stand-in for running pdb's own tests against sleuth (test harness only).

Put this folder first on PYTHONPATH: `import pdb` then gets sleuth's debugger,
and `python -m pdb` runs sleuth's command line.
"""
import sys

import sleuth._sleuth as _impl

globals().update({k: v for k, v in vars(_impl).items()
                  if not (k.startswith("__") and k.endswith("__"))})

if __name__ == "__main__":
    sys.exit(_impl.main(sys.argv))
