import sys


def main():
    x = 41
    sys.exit(x + 1)


main()
