def spin(n):
    x = n
    while x: x -= 1
    total = 0
    for i in range(n):
        total += i
    return total


print(spin(4))
