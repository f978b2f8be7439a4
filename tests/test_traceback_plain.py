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


OWN = ("format_exc", "format_exception", "format_tb", "print_exc", "print_exception")


def test_every_public_name_of_traceback_with_its_signature():
    """import sleuth.traceback as traceback works: every public name, and
    inspect.signature() of each is the standard library's own text for the
    running version (CPython's TracebackCases.test_signatures: 3.13 ends
    format_exception with **kwargs, value=<implicit>)."""
    import inspect
    public = [n for n in dir(traceback) if not n.startswith("_") and n != "suppress"
              and not inspect.ismodule(getattr(traceback, n))]
    assert sorted(stb.__all__) == sorted(traceback.__all__)
    for name in public:
        ours, theirs = getattr(stb, name), getattr(traceback, name)
        if ours is theirs:
            continue
        assert name in OWN, name
        assert str(inspect.signature(ours)) == str(inspect.signature(theirs)), name
        assert inspect.signature(ours) == inspect.signature(theirs), name
        assert ours.__text_signature__ is None
    assert str(inspect.signature(stb.print_exception)).startswith(
        "(exc, /, value=<implicit>, tb=<implicit>, limit=None, file=None, chain=True")


def test_own_functions_present_themselves_as_the_standard_librarys():
    """sleuth's five functions say __module__ 'traceback' and the standard
    library's __name__/__qualname__ (CPython's MiscTest.test_all counts the
    names whose __module__ is 'traceback' against __all__)."""
    import inspect
    expected = {n for n in dir(stb) if not n.startswith("_") and n != "print_list"
                and getattr(getattr(stb, n), "__module__", None) == "traceback"}
    assert sorted(expected) == sorted(stb.__all__)
    for name in OWN:
        f = getattr(stb, name)
        assert f is not getattr(traceback, name)
        assert (f.__module__, f.__name__, f.__qualname__) == ("traceback", name, name)
        assert re.fullmatch(r"<function %s at 0x[0-9a-f]+>" % name, repr(f)), repr(f)
        assert callable(f) and inspect.isroutine(f)
        # Not bound when stored on a class, as a builtin function.
        holder = type("Holder", (), {"f": f})
        assert holder().f is f and holder.f is f
        with pytest.raises(TypeError):
            type(f)()


def test_options_stay_accepted_and_documented():
    """The runtime signature is the standard library's; sleuth's options are
    still accepted, and help() (the docstring) and the .pyi stub show them."""
    import pathlib
    import pydoc
    try:
        1 / 0
    except ZeroDivisionError as e:
        exc = e
        text = stb.format_exc(locals=True)
    assert "    exc = ZeroDivisionError('division by zero')\n" in text
    assert any(" = " in line for line in stb.format_exception(exc, locals=True))
    out = io.StringIO()
    stb.print_exception(exc, file=out, locals=True, redact_extra=["ex"])
    assert "    exc = '[redacted]'\n" in out.getvalue()
    stub = (pathlib.Path(stb.__file__).parent / "_traceback.pyi").read_text()
    for name in OWN:
        f = getattr(stb, name)
        assert f.__doc__.startswith(name + "(")
        for option in ("locals=False", "max_length=200", "total_repr_timeout=2.0",
                       "redact_extra=None", "redact_values=None"):
            assert option in f.__doc__, (name, option)
        assert "def %s(" % name in stub
        shown = pydoc.render_doc(f, renderer=pydoc.plaintext)
        assert "locals=False" in shown and "redact_extra" in shown, shown
    with pytest.raises(TypeError):
        stb.format_exc(bogus=1)


def test_pickle_and_copy_keep_the_function():
    import copy
    import pickle
    for name in OWN:
        f = getattr(stb, name)
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            assert pickle.loads(pickle.dumps(f, proto)) is f
        assert copy.copy(f) is f and copy.deepcopy(f) is f
        assert copy.deepcopy({"f": [f]})["f"][0] is f


def test_all_is_the_standard_librarys_and_the_extras_stay_importable():
    """`from sleuth.traceback import *` binds what `from traceback import *`
    binds (CPython's MiscTest.test_all); sleuth's own additions are imported
    by name."""
    ns_std, ns_ours = {}, {}
    exec("from traceback import *", ns_std)
    exec("from sleuth.traceback import *", ns_ours)
    assert set(ns_ours) == set(ns_std)
    for name in ("DEFAULT_REDACT", "redaction_patterns", "safe_repr"):
        assert name not in stb.__all__ and getattr(stb, name) is not None
    from sleuth.traceback import DEFAULT_REDACT, redaction_patterns, safe_repr  # noqa: F401
    assert safe_repr([1, 2]) == "[1, 2]"


def test_recursion_cutoff_is_the_one_sleuths_output_uses():
    """_RECURSIVE_CUTOFF (and, 3.12+, _levenshtein_distance) are the standard
    library's: sleuth's text comes from its StackSummary, so a frame repeated
    _RECURSIVE_CUTOFF times is shown in full and one more time is folded,
    with and without locals."""
    def g(count):
        if count:
            return g(count - 1)
        raise ValueError

    for extra in (0, 1):
        try:
            g(stb._RECURSIVE_CUTOFF + extra)
        except ValueError:
            plain, with_locals = stb.format_exc(), stb.format_exc(locals=True)
            assert plain == traceback.format_exc()
        folded = "[Previous line repeated 1 more time]" in plain
        assert folded == bool(extra), plain
        assert ("[Previous line repeated 1 more time]" in with_locals) == bool(extra), with_locals
    assert stb._RECURSIVE_CUTOFF is traceback._RECURSIVE_CUTOFF
    if sys.version_info >= (3, 12):
        assert stb._levenshtein_distance is traceback._levenshtein_distance
        try:
            sys.modulez  # noqa: B018
        except AttributeError as e:
            assert stb.format_exception_only(e) == traceback.format_exception_only(e)
            assert "Did you mean: 'modules'?" in stb.format_exception(e)[-1]


def test_ellipsis_for_value_and_tb_means_implicit():
    """The text signatures show value=..., tb=... (inspect shows constants
    only): passing ... is the same as leaving them out."""
    try:
        1 / 0
    except ZeroDivisionError as e:
        exc = e
    want = traceback.format_exception(exc)
    assert stb.format_exception(exc, ..., ...) == want
    assert stb.format_exception(exc, value=..., tb=...) == want
    assert stb.format_exception(exc, ..., ..., locals=True)[-1] == want[-1]
    out = io.StringIO()
    stb.print_exception(exc, ..., ..., file=out)
    assert out.getvalue() == "".join(want)


def test_print_exception_from_a_destructor_at_exit():
    """A __del__ run at interpreter exit can print with sleuth.traceback (the
    standard library's module may be gone from sys.modules by then). Run
    with -c as CPython's own test does: from a file, 3.13's linecache itself
    cannot import what it needs that late."""
    import subprocess
    code = (
        "import sleuth.traceback as traceback\n"
        "class P:\n"
        "    def __init__(self):\n"
        "        try:\n"
        "            1 / 0\n"
        "        except Exception as e:\n"
        "            self.exc = e\n"
        "            self = None\n"
        "    def __del__(self):\n"
        "        traceback.print_exception(self.exc)\n"
        "obj = P()\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0
    lines = r.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):", r.stderr
    assert lines[-1] == "ZeroDivisionError: division by zero", r.stderr
    assert "Exception ignored" not in r.stderr
