def run(n):
    total = n + 1
    return total


print("pkgdemo", run(41))
