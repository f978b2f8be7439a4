"""sleuth._stacks: read the Python stacks of another running CPython process."""

def main(args: list[str], /) -> int:
    """Run `sleuth stacks`; args[0] is the program name. Returns the exit status."""
    ...
