import sleuth
from sleuth import _sleuth


def test_version_matches_metadata():
    from importlib.metadata import version
    assert sleuth.__version__ == version("sleuth")


def test_unknown_tool_build_reports(py):
    r = py(["-m", "sleuth"])
    assert r.returncode == 2
    assert "usage: " in r.stderr
