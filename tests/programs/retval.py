def one():
    x = 1
    return (x,)


def pair():
    return (1, 2)


def empty():
    return ()


print(one(), pair(), empty())
print("done")
