"""sleuth._reduce: `sleuth reduce` (parallel delta debugging) and `sleuth bisect`."""

def main(args: list[str], /) -> int:
    """Run `sleuth reduce`; args[0] is the program name. Returns the exit status."""

def bisect_main(args: list[str], /) -> int:
    """Run `sleuth bisect`; args[0] is the program name. Returns the exit status."""
