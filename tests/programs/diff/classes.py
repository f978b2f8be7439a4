"""Class bodies: statements, metaclasses, __init_subclass__, decorators, descriptors."""
import dataclasses
import functools
import sys

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


def never_called():
    class Never:
        x = 1
    return Never


class Meta(type):
    def __new__(mcls, name, bases, ns, **kw):
        note("meta new", name, sorted(k for k in ns if not k.startswith("__")), sorted(kw))
        return super().__new__(mcls, name, bases, ns, **kw)


class Base(metaclass=Meta):
    registry = []

    def __init_subclass__(cls, tag="none", **kw):
        super().__init_subclass__(**kw)
        Base.registry.append((cls.__name__, tag))


class Child(Base, tag="c"):
    total = 0
    for i in range(4):
        total += i
    squares = [i * i for i in range(3)]
    doubled = {k: k * 2 for k in range(3)}
    del i

    @property
    def value(self):
        return self.total * 10

    @staticmethod
    def helper(x):
        return x + 1

    @classmethod
    def make(cls):
        return cls()


class Logged:
    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        note("get", self.name)
        return 42 if obj is not None else self


class User:
    answer = Logged()


def deco(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        note("call", fn.__name__)
        return fn(*args)
    return wrapper


@dataclasses.dataclass(order=True)
class Point:
    x: int
    y: int = 0

    @deco
    def norm(self):
        return abs(self.x) + abs(self.y)


def main():
    note("registry", Base.registry)
    c = Child.make()
    note("child", c.total, c.squares, c.doubled, c.value, Child.helper(1))
    note("user", User().answer, type(User.answer).__name__)
    pts = sorted([Point(3, 1), Point(1, 2), Point(1)])
    note("points", pts, [p.norm() for p in pts])
    try:
        class Bad(Base, nope=1):
            pass
    except TypeError as exc:
        note("bad subclass", type(exc).__name__)
    return len(OUT)


count = main()
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
