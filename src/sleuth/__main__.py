"""`python -m sleuth` and the `sleuth` console script."""
import sys


def main():
    from sleuth._sleuth import main as _main
    return _main(sys.argv)


if __name__ == "__main__":
    sys.exit(main())
