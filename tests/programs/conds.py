# Breakpoint conditions of every shape: the ones sleuth evaluates in C and
# the ones it leaves to eval(), compared with pdb's stops.
import sys

LIMIT = 4
shadow = "global"
names = ["alpha", "beta", "gamma", "delta", "eps"]


class Box:
    def __init__(self, v):
        self.v = v
        self.items = list(range(v))

    def __eq__(self, other):
        if other == "boom":
            raise ValueError("no compare")
        return isinstance(other, Box) and other.v == self.v

    __hash__ = object.__hash__


def probe(i, name, box, later):
    if i > 100:
        shadow = "local"
        later = shadow
    total = i * 2                      # COND_LINE
    return total


def main():
    for i in range(6):
        probe(i, names[i % len(names)], Box(i), None)
    return sys.version_info >= (3,)


main()
