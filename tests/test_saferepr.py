"""Safe reprs: budgets, hostile __repr__, no mutation, redaction."""
import collections
import dataclasses
import sys

import pytest

from sleuth.traceback import DEFAULT_REDACT, redaction_patterns, safe_repr


class Raising:
    def __repr__(self):
        raise ValueError("nope")


class Hanging:
    def __repr__(self):
        while True:
            pass


class Stubborn:
    """Swallows the timeout and keeps looping: the guard must win anyway."""

    def __repr__(self):
        while True:
            try:
                while True:
                    pass
            except Exception:
                pass


class Huge:
    def __repr__(self):
        return "x" * 50_000_000


class Multiline:
    def __repr__(self):
        return "a\nb\r\nc"


class NotStr:
    def __repr__(self):
        return 42


class Recursive:
    def __repr__(self):
        return repr(self)


def test_plain_values_match_repr():
    for v in [None, True, 1, -5, 2.5, 1j, "abc", b"x\x00", [1, "a"], (1,), (), {"a": [1, 2]},
              {1, 2} if False else {3}, frozenset({1}), set(), bytearray(b"ab"), [[], {}],
              collections.OrderedDict() if False else {}]:
        assert safe_repr(v) == repr(v), v


def test_default_budget_is_200_chars():
    text = safe_repr("y" * 10_000)
    assert len(text) == 200 and text.startswith("'yyy") and text.endswith("...")
    assert len(safe_repr(list(range(100_000)))) <= 200


def test_max_length_option():
    assert len(safe_repr("z" * 1000, max_length=50)) == 50


def test_raising_repr():
    assert safe_repr(Raising()) == "<repr failed: ValueError>"
    assert safe_repr(NotStr()) == "<repr failed: TypeError>"
    assert safe_repr(Recursive()) == "<repr failed: RecursionError>"
    assert safe_repr([1, Raising()]) == "[1, <repr failed: ValueError>]"


def test_hanging_repr_times_out():
    assert safe_repr(Hanging(), repr_timeout=0.05) == "<repr timed out>"
    assert safe_repr(Stubborn(), repr_timeout=0.05) == "<repr timed out>"
    # The guard is per value: the next one gets its own budget.
    assert safe_repr([Hanging(), 7], repr_timeout=0.05).startswith("[<repr timed out>")


def test_total_time_budget():
    from sleuth.traceback import format_exception

    def f(a, b, c, d, e, g, h, i):
        raise ValueError("x")
    try:
        f(*[Hanging() for _ in range(8)])
    except ValueError as exc:
        text = "".join(format_exception(exc, locals=True, repr_timeout=0.05,
                                        total_repr_timeout=0.12))
    assert "<repr timed out>" in text
    assert "<repr skipped: time budget spent>" in text
    assert text.endswith("ValueError: x\n")


def test_trace_function_restored():
    calls = []

    def tracer(frame, event, arg):
        calls.append(event)
        return None
    sys.settrace(tracer)
    try:
        safe_repr(Hanging(), repr_timeout=0.02)
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(None)
    assert sys.gettrace() is None
    safe_repr(Hanging(), repr_timeout=0.02)
    assert sys.gettrace() is None


def test_huge_repr_is_cut():
    text = safe_repr(Huge(), repr_timeout=30)
    assert len(text) == 200 and text.endswith("...")


def test_huge_containers_are_partial():
    big = [0] * 5_000_000
    text = safe_repr(big)
    assert text.endswith(", ...]") and len(text) < 200
    d = {i: i for i in range(200_000)}
    assert safe_repr(d).endswith(", ...}")
    assert safe_repr(2 ** 100_000) == "<int of 100001 bits>"


def test_newlines_escaped():
    assert safe_repr(Multiline()) == "a\\nb\\r\\nc"


def test_cycles_and_depth():
    a = [1]
    a.append(a)
    assert safe_repr(a) == repr(a) == "[1, [...]]"
    d = {}
    d["self"] = d
    assert safe_repr(d) == "{'self': {...}}"
    deep = []
    cur = deep
    for _ in range(100):
        cur.append([])
        cur = cur[0]
    assert safe_repr(deep) == "[[[[[...]]]]]"
    assert safe_repr(deep, max_depth=1) == "[[...]]"


def test_nothing_is_mutated_or_consumed():
    touched = []

    class Spy:
        def __init__(self):
            self.password = "pw"

        def __getattr__(self, name):
            touched.append(name)
            raise AttributeError(name)

        @property
        def lazy(self):
            touched.append("lazy")
            return 1

        def __repr__(self):
            return f"Spy({self.password})"

    assert "pw" not in safe_repr(Spy())      # its own repr would print the password
    dd = collections.defaultdict(list, a=[1])
    gen = (i for i in range(3))
    it = iter([1, 2, 3])
    spy = Spy()
    for v in (dd, gen, it, spy, {"k": spy}):
        safe_repr(v)
    assert dict(dd) == {"a": [1]}
    assert list(gen) == [0, 1, 2]
    assert list(it) == [1, 2, 3]
    assert touched == []


def test_subclasses_of_containers_are_walked():
    class MyList(list):
        def __repr__(self):
            raise AssertionError("must not be called")

    text = safe_repr(MyList(range(3)))
    assert text == "MyList([0, 1, 2])"
    od = collections.OrderedDict(a=1)
    assert safe_repr(od) == "OrderedDict({'a': 1})"
    assert safe_repr(collections.Counter("aa")) == "Counter({'a': 2})"


def test_named_tuples_use_their_repr():
    P = collections.namedtuple("P", "x y")
    assert safe_repr(P(1, 2)) == "P(x=1, y=2)"


# --- redaction ---------------------------------------------------------------

def test_default_patterns():
    assert DEFAULT_REDACT == ("password", "passwd", "secret", "token", "api_key", "apikey",
                              "auth", "credential", "private_key", "session", "cookie", "csrf")
    assert redaction_patterns() == DEFAULT_REDACT


@pytest.mark.parametrize("name", ["password", "DB_PASSWORD", "AuthHeader", "x_csrf_token",
                                  "Session_ID", "my_secret", "apiKey", "API_KEY", "cookies",
                                  "credentials", "PRIVATE_KEY_PEM", "passwd"])
def test_names_redacted_case_insensitive(name):
    assert safe_repr("hunter2", name=name) == "'[redacted]'"


@pytest.mark.parametrize("name", ["user", "count", "keyboard", "pass_", "tokn", ""])
def test_innocent_names_kept(name):
    assert safe_repr("hunter2", name=name) == "'hunter2'"


def test_nested_keys_and_attributes():
    class Conn:
        def __init__(self):
            self.host = "db"
            self.password = "hunter2"

    text = safe_repr({"user": "bob", "auth": {"token": "t"}, "nested": [{"Secret": 1}]})
    assert "hunter2" not in text
    assert text == "{'user': 'bob', 'auth': '[redacted]', 'nested': [{'Secret': '[redacted]'}]}"
    # The object's default repr shows no attributes; it is left alone.
    assert safe_repr(Conn()).startswith("<")
    assert "hunter2" not in safe_repr([Conn()])


def test_objects_whose_repr_would_leak_are_rendered_here():
    @dataclasses.dataclass
    class User:
        name: str
        password: str

    @dataclasses.dataclass
    class Wrapper:
        user: User

    text = safe_repr(User("bob", "hunter2"))
    assert text == "User(name='bob', password='[redacted]')"
    assert "hunter2" not in safe_repr(Wrapper(User("bob", "hunter2")))
    assert "hunter2" not in safe_repr({"x": Wrapper(User("bob", "hunter2"))})
    assert "hunter2" in safe_repr(User("bob", "hunter2"), redact=[])


def test_patterns_extend_and_replace():
    assert safe_repr(1, name="pin_code") == "1"
    assert safe_repr(1, name="pin_code", redact_extra=["PIN"]) == "'[redacted]'"
    assert safe_repr(1, name="password", redact=["pin"]) == "1"
    assert safe_repr(1, name="pin", redact=["pin"]) == "'[redacted]'"
    assert redaction_patterns(redact_extra="Ssn") == DEFAULT_REDACT + ("ssn",)
    assert redaction_patterns(redact=[]) == ()
    with pytest.raises(TypeError):
        redaction_patterns(redact=[1])


def test_traceback_locals_redacted():
    from sleuth.traceback import format_exception

    def login(user, password, headers):
        raise PermissionError("denied")
    the_password, cookie = "hun" + "ter2", "c=" + "1"     # not in the source line
    try:
        login("bob", the_password, {"Cookie": cookie, "Accept": "*/*"})
    except PermissionError as e:
        text = "".join(format_exception(e, locals=True))
    assert "hunter2" not in text and "c=1" not in text
    assert "    password = '[redacted]'\n" in text
    assert "    headers = {'Cookie': '[redacted]', 'Accept': '*/*'}\n" in text
    assert "    user = 'bob'\n" in text
    assert "    the_password = '[redacted]'\n" in text


def test_reprs_that_mutate_what_is_being_shown():
    # A __repr__ may empty or free the container being walked: no crash,
    # and the text shows what was there when the walk started.
    class Clearer:
        def __init__(self, target):
            self.target = target

        def __repr__(self):
            self.target.clear()
            return "C"

    lst = []
    lst.extend([Clearer(lst), 1, 2])
    assert safe_repr(lst) == "[C, 1, 2]"
    assert lst == []
    d = {}
    d.update(a=Clearer(d), b=2)
    assert safe_repr(d) == "{'a': C, 'b': 2}"
    s = set()

    class SetClearer:
        def __repr__(self):
            s.clear()
            return "S"
    s.update({SetClearer(), 5})
    assert sorted(safe_repr(s)[1:-1].split(", ")) == ["5", "S"]
