"""pytest plugin hook module: `pytest --sleuth` debugs failures with sleuth.

It only wires sleuth's Pdb class into pytest's own --pdb machinery (the same
as `--pdb --pdbcls=sleuth:Pdb`); all behaviour lives in the C extension.
"""
import pytest


def pytest_addoption(parser):
    group = parser.getgroup("general")
    group.addoption(
        "--sleuth", action="store_true", dest="sleuth", default=False,
        help="start sleuth's debugger (pdb-compatible, C engine) on errors, "
             "failures and breakpoint() calls.")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if config.getoption("sleuth", False):
        config.option.usepdb = True
        config.option.usepdb_cls = ("sleuth", "Pdb")
