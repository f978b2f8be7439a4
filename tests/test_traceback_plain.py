"""sleuth.traceback without options is byte-identical to the stdlib, and with
locals=True it has the stdlib's capture_locals layout."""
import io
import re
import sys
import traceback

import pytest

import sleuth.traceback as stb


def catch(fn):
    try:
        fn()
    except BaseException as e:  # noqa: B902 - the corpus includes BaseException
        return e
    raise AssertionError("no exception")


# --- the corpus: functions that raise ------------------------------------

def simple():
    x = 1
    return {"a": x}["b"]


def nested():
    def inner(n):
        return 1 / n
    return inner(0)


def caused():
    try:
        simple()
    except KeyError as e:
        raise RuntimeError("wrapped") from e


def context():
    try:
        nested()
    except ZeroDivisionError:
        raise ValueError("during handling")


def suppressed():
    try:
        simple()
    except KeyError:
        raise ValueError("no context") from None


def with_notes():
    e = TypeError("typed")
    e.add_note("first note")
    e.add_note("second\nmultiline note")
    raise e


def group():
    def f():
        raise ValueError("one")

    def g():
        raise KeyError("two")
    errs = []
    for fn in (f, g):
        try:
            fn()
        except Exception as e:
            errs.append(e)
    inner = ExceptionGroup("inner", [OSError("three")])
    eg = ExceptionGroup("outer", errs + [inner])
    eg.add_note("group note")
    raise eg


def big_group():
    raise ExceptionGroup("many", [ValueError(i) for i in range(20)])


def syntax():
    compile("x = (1,\n  2 3)\n", "<corpus>", "exec")


def syntax_eval():
    eval("1 +* 2")


def recursion():
    def r(n):
        return r(n + 1)
    r(0)


def positions():
    data = {"k": [1, 2]}
    return data["k"][5] + \
        data["k"][0]


def custom_str():
    class Weird(Exception):
        def __str__(self):
            raise RuntimeError("str broke")
    raise Weird()


def key_tuple():
    raise KeyError((1, 2))


def from_exec():
    exec("def h():\n    raise LookupError('in exec')\nh()", {"__builtins__": {"LookupError": LookupError}})


def context_cycle():
    a = ValueError("a")
    b = TypeError("b")
    try:
        try:
            raise a
        except ValueError:
            raise b
    except TypeError:
        a.__context__ = b
        raise a


def base_exc():
    raise KeyboardInterrupt()


def unicode_msg():
    raise ValueError("ünïcødé ☃ " + "x" * 300)


CORPUS = [simple, nested, caused, context, suppressed, with_notes, group, big_group,
          syntax, syntax_eval, recursion, positions, custom_str, key_tuple, from_exec,
          context_cycle, base_exc, unicode_msg]
IDS = [f.__name__ for f in CORPUS]


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_format_exception_identical(case):
    e = catch(case)
    assert stb.format_exception(e) == traceback.format_exception(e)
    assert stb.format_exception(type(e), e, e.__traceback__) == \
        traceback.format_exception(type(e), e, e.__traceback__)
    assert stb.format_exception(e, limit=2, chain=False) == \
        traceback.format_exception(e, limit=2, chain=False)
    assert stb.format_tb(e.__traceback__) == traceback.format_tb(e.__traceback__)


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_format_exc_and_print_identical(case):
    try:
        case()
    except BaseException:
        ours, theirs = stb.format_exc(), traceback.format_exc()
        a, b = io.StringIO(), io.StringIO()
        stb.print_exc(file=a)
        traceback.print_exc(file=b)
        assert ours == theirs
        assert a.getvalue() == b.getvalue() == theirs


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_locals_layout_is_stdlib_capture_locals(case):
    # Locals here have short, ordinary reprs, so the safe reprs equal repr()
    # and the text must equal the stdlib's capture_locals output exactly.
    # One documented difference: module-level frames leave out dunder
    # globals (__builtins__, __spec__, ...).
    e = catch(case)
    expected = "".join(traceback.TracebackException(
        type(e), e, e.__traceback__, capture_locals=True, compact=True).format())
    expected = "".join(ln for ln in expected.splitlines(True)
                       if not re.match(r"    __\w+__ = ", ln))
    assert "".join(stb.format_exception(e, locals=True)) == expected


def test_locals_differs_from_plain():
    e = catch(nested)
    plain = "".join(stb.format_exception(e))
    rich = "".join(stb.format_exception(e, locals=True))
    assert plain != rich
    assert "    n = 0\n" in rich
    assert "    n = 0\n" not in plain


def test_print_exception_locals_to_file():
    e = catch(nested)
    out = io.StringIO()
    stb.print_exception(e, file=out, locals=True)
    assert out.getvalue() == "".join(stb.format_exception(e, locals=True))


def test_print_exception_goes_to_stderr(capsys):
    e = catch(simple)
    stb.print_exception(e)
    plain = capsys.readouterr().err
    traceback.print_exception(e)
    assert plain == capsys.readouterr().err


def test_format_tb_locals():
    e = catch(nested)
    lines = stb.format_tb(e.__traceback__, locals=True)
    assert len(lines) == len(traceback.format_tb(e.__traceback__))
    assert lines[-1].endswith("    n = 0\n")


def test_negative_limit_keeps_innermost_locals():
    e = catch(nested)
    text = "".join(stb.format_exception(e, limit=-1, locals=True))
    assert "in inner" in text and "in nested" not in text
    assert "    n = 0\n" in text


def test_tracebacklimit_is_respected(monkeypatch):
    e = catch(nested)
    monkeypatch.setattr(sys, "tracebacklimit", 1, raising=False)
    assert stb.format_exception(e, locals=True) == [
        ln for ln in stb.format_exception(e, locals=True)]
    text = "".join(stb.format_exception(e, locals=True))
    assert text.count('  File "') == 1
    assert "    fn = <function nested" in text


def test_unknown_options_behave_like_stdlib():
    e = catch(simple)
    # Unknown keywords are the stdlib's business (3.13 accepts **kwargs).
    try:
        expected = traceback.format_exception(e, bogus=1)
    except TypeError:
        with pytest.raises(TypeError):
            stb.format_exception(e, bogus=1)
    else:
        assert stb.format_exception(e, bogus=1) == expected
    with pytest.raises(ValueError):
        stb.format_exception(e, locals=True, max_length=2)


def test_format_exc_without_exception():
    assert stb.format_exc() == traceback.format_exc()
    assert stb.format_exc(locals=True) == traceback.format_exc()
