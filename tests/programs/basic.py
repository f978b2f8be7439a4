import sys


class Order:
    def __init__(self, items):
        self.items = items
        self.total = 0

    def add(self, price, qty=1):
        self.total += price * qty
        return self.total


def compute(values, *args, scale=2, **kw):
    acc = 0
    for v in values:
        acc += v * scale
    result = acc + len(args)
    return result


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main():
    order = Order(["apple", "pear"])
    order.add(3)
    order.add(4, qty=2)
    total = compute([1, 2, 3], "x", scale=3, extra=True)
    f = fib(5)
    text = "done %d %d" % (total, f)
    print(text)
    return text


if __name__ == "__main__":
    main()
    sys.argv.append("ran")
