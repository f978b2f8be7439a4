"""A second file: "breakpoint in another file" is set on never_called()."""


def helper():
    return 1


def never_called():
    return "breakpoint in another file"               # OTHER_LINE
