class BadRepr:
    def __repr__(self):
        raise ValueError("no repr for you")


class Recursive:
    def __repr__(self):
        return repr(self)


class Huge:
    def __repr__(self):
        return "x" * (50 * 1024 * 1024)


def main():
    bad = BadRepr()
    rec = Recursive()
    huge = Huge()
    big = list(range(100))
    value = 10
    return value                        # line 22


print("main returned", main())
