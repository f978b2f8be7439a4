# The program of the DAP scenarios (tests/dapscenario.py): line numbers matter.
import sys


def add(a, b):
    total = a + b  # BREAK add
    return total  # STEP add


items = list(range(5))
name = "sleuth"
print("before")
result = add(2, 3)
print("result", result)
sys.exit(3)
