# f-string conditions whose parts have side effects or odd results: the
# order of conversion and spec, and a one-part f-string's own value.
class R:
    def __repr__(self):
        print("REPR called")
        return "R"


class S(str):
    def __bool__(self):
        return False


class F:
    def __format__(self, spec):
        return S("formatted")


def w():
    print("W called")
    return 5


def f(i):
    x = R()
    y = F()
    lst = []
    z = i          # COND_LINE
    return z, x, y, lst


for i in range(2):
    f(i)
print("done")
