import sleuth
from sleuth import _sleuth


def test_version_matches_metadata():
    from importlib.metadata import version
    assert sleuth.__version__ == version("sleuth")


def test_no_arguments_prints_usage(py):
    r = py(["-m", "sleuth"])
    assert r.returncode == 2
    assert "usage: sleuth" in r.stdout
