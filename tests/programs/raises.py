def parse(value):
    number = int(value)
    return number * 2


def load(rows):
    out = []
    for row in rows:
        out.append(parse(row))
    return out


def main():
    data = ["1", "2", "x3"]
    return load(data)


main()
