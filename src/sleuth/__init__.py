"""sleuth: a debugging toolkit for Python whose engine is written in C."""
from sleuth._sleuth import __version__

__all__ = ["__version__"]
