def numbers(n):
    for i in range(n):
        yield i * i
    return "end"


def consume():
    total = 0
    for x in numbers(3):
        total += x
    return total


def raising():
    try:
        1 / 0
    except ZeroDivisionError:
        pass
    return 5


result = consume()
r2 = raising()
print(result, r2)
