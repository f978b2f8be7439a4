"""The shared DAP pieces in src/_sleuth/common/: the strict JSON reader
(jsonr), the JSON writer of object trees (jsonw's JsonW_obj), Content-Length
framing (dapwire) and the capabilities body (dapcaps), through sleuth._dap's
test-only entry points."""
import json
import os
import random
import threading

import pytest

from sleuth import _dap

loads = _dap._json_loads
dumps = _dap._json_dumps


# --- the JSON reader ---------------------------------------------------------

@pytest.mark.parametrize("text", [
    '{}', '[]', '0', '-0', '1.5', '-1e10', '2E-3', '123456789012345678901234567890',
    '"a"', '""', 'true', 'false', 'null', ' \t\r\n[1, 2 , {"a" : [null]}] \n',
    '"\\u00e9\\ud83d\\ude00 \\"\\\\\\/\\b\\f\\n\\r\\t"', '"é😀"',
    '{"a": 1, "a": 2}', '[[[[[]]]]]', '{"seq": 1, "type": "request", "command": "initialize"}',
])
def test_reader_agrees_with_json_module(text):
    assert loads(text) == json.loads(text)
    assert type(loads(text)) is type(json.loads(text))


@pytest.mark.parametrize("text, what", [
    ('', "expected a value, found the end of the text at line 1 column 1 (byte 0)"),
    ('{"a" 1}', "expected ':' after an object key at line 1 column 6 (byte 5)"),
    ('[1,]', "trailing comma in an array"),
    ('{"a":1,}', "trailing comma in an object"),
    ('{1: 2}', "expected a string key in an object"),
    ('[1 2]', "expected ',' or ']' in an array"),
    ('{"a":1 "b":2}', "expected ',' or '}' in an object"),
    ('[1', "unterminated array"),
    ('{"a":1', "unterminated object"),
    ('"abc', "unterminated string at line 1 column 1"),
    ('"a\nb"', "control character in a string (escape it) at line 1 column 3"),
    ('"\\x"', "invalid escape in a string"),
    ('"\\u12"', "\\u needs four hex digits"),
    ('"\\ud800"', "lone high surrogate escape"),
    ('"\\udc00x"', "lone low surrogate escape"),
    ('01', "leading zero in a number"),
    ('1.', "expected a digit after the decimal point"),
    ('1e', "expected a digit in the exponent"),
    ('-', "expected a digit in a number"),
    ('NaN', "expected a value"),
    ('Infinity', "expected a value"),
    ('1e999', "number out of range"),
    ('tru', "expected a value"),
    ('{} {}', "extra data after the value at line 1 column 4"),
    ('// c\n{}', "expected a value"),
    ('[\n  1,\n  x]', "expected a value at line 3 column 3"),
])
def test_reader_rejects_with_one_line_saying_what_and_where(text, what):
    with pytest.raises(ValueError) as e:
        loads(text)
    msg = str(e.value)
    assert msg.startswith("invalid JSON: ") and "\n" not in msg
    assert what in msg, msg


def test_reader_rejects_invalid_utf8():
    with pytest.raises(ValueError, match="invalid UTF-8 in a string at line 1 column 2"):
        loads(b'["\xff"]')
    with pytest.raises(ValueError, match="invalid UTF-8"):
        loads(b'"\xed\xa0\x80"')        # an encoded surrogate


def test_reader_limits():
    with pytest.raises(ValueError, match="nested deeper than 64 levels"):
        loads("[" * 65 + "]" * 65)
    assert loads("[" * 64 + "]" * 64) is not None
    # far deeper than the C stack would allow without the limit
    with pytest.raises(ValueError, match="nested deeper"):
        loads("[" * 1_000_000)
    with pytest.raises(ValueError, match="text of 11 bytes is over the 10-byte limit"):
        loads('"123456789"', max_size=10)
    with pytest.raises(ValueError, match="string longer than 3 bytes at line 1 column 2"):
        loads('["abcd"]', max_string=3)
    assert loads('"abc"', max_string=3) == "abc"
    with pytest.raises(ValueError, match="number longer than 64 characters"):
        loads("1" * 65)
    with pytest.raises(ValueError, match="nested deeper than 2 levels"):
        loads('{"a": {"b": [1]}}', max_depth=2)


def test_reader_survives_random_and_truncated_text():
    rng = random.Random(1515)
    samples = ['{"seq": 3, "type": "request", "command": "setBreakpoints", "arguments": '
               '{"source": {"path": "/tmp/é.py"}, "breakpoints": [{"line": 3, '
               '"condition": "x > 1e3"}], "lines": [3, -4.5e-2, true, false, null]}}']
    alphabet = '{}[]":,\\ utrefalsn0123456789-+.eE\x00\x1f\xe9'
    for _ in range(3000):
        s = rng.choice(samples)
        mode = rng.randrange(3)
        if mode == 0:
            s = s[:rng.randrange(len(s))]
        elif mode == 1:
            i = rng.randrange(len(s))
            s = s[:i] + rng.choice(alphabet) + s[i + 1:]
        else:
            s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(30)))
        try:
            expected = json.loads(s)
        except (ValueError, RecursionError):
            expected = ValueError
        try:
            got = loads(s)
        except ValueError:
            got = ValueError
        if expected is not ValueError and got is not ValueError:
            assert got == expected, s
        elif got is not ValueError:
            # json.loads is laxer (NaN, lone surrogates) never stricter
            raise AssertionError(f"sleuth accepted what json rejects: {s!r}")


# --- the JSON writer -------------------------------------------------------

def test_writer_round_trips_object_trees():
    tree = {"a": [1, -2, 3.25, 2**80, True, False, None, "é\n\"\x01\\"], "b": {}, "c": [],
            "d": ("t", 1), "e": {"nested": {"x": 1e300}}}
    out = dumps(tree)
    assert isinstance(out, bytes)
    back = json.loads(out)
    tree["d"] = list(tree["d"])
    assert back == tree
    assert loads(out) == tree
    assert json.loads(dumps(float("nan"))) is None


def test_writer_refuses_what_json_cannot_say():
    with pytest.raises(TypeError, match="JSON: cannot write a set"):
        dumps({"a": {1}})
    with pytest.raises(TypeError, match="JSON: object keys must be str, not int"):
        dumps({1: 2})
    cyc = []
    cyc.append(cyc)
    with pytest.raises(ValueError, match="nested deeper than 100 levels"):
        dumps(cyc)


def test_writer_does_not_call_int_subclass_repr():
    class Evil(int):
        def __repr__(self):
            raise RuntimeError("called")
        __str__ = __repr__
    assert dumps([Evil(5), Evil(2**70)]) == b"[5,%d]" % 2**70


# --- framing -----------------------------------------------------------------

def read_stream(data: bytes):
    """Feed bytes through a pipe (from a thread) and read them back as messages."""
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as f:
            try:
                f.write(data)
            except BrokenPipeError:
                pass
    t = threading.Thread(target=feed)
    t.start()
    try:
        return _dap._wire_read_all(r)
    finally:
        t.join()
        os.close(r)


def frame(body: bytes, header: bytes = b"") -> bytes:
    return header + b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_framing_reads_messages_and_a_clean_end():
    data = frame(b'{"a":1}') + frame(b"") + frame(b"x" * 100_000, b"Content-Type: application/json\r\n")
    got = read_stream(data)
    assert got == [("message", b'{"a":1}'), ("message", b""), ("message", b"x" * 100_000),
                   ("eof", None)]
    assert read_stream(b"") == [("eof", None)]
    assert read_stream(b"content-length:2\r\n\r\n{}") == [("message", b"{}"), ("eof", None)]


def test_framing_recovers_after_bad_headers():
    data = (b"Content-Type: x\r\n\r\n" + frame(b"1")
            + b"Content-Length: ten\r\n\r\n" + frame(b"2")
            + b"X" * 5000 + b"\r\n\r\n" + frame(b"3"))
    assert read_stream(data) == [
        ("bad", "header without Content-Length"), ("message", b"1"),
        ("bad", "Content-Length is not a number"), ("message", b"2"),
        ("bad", "header longer than 4096 bytes"), ("message", b"3"), ("eof", None)]


def test_framing_resyncs_when_a_length_was_wrong():
    # The first message claims 2 bytes but has 9: the rest is read as junk
    # in front of the next header, which is still found.
    data = b"Content-Length: 2\r\n\r\n{}1234567" + frame(b'{"ok":1}')
    assert read_stream(data) == [("message", b"{}"), ("message", b'{"ok":1}'), ("eof", None)]


def test_framing_skips_an_oversized_body_and_goes_on():
    big = 16 * 1024 * 1024 + 1
    data = b"Content-Length: %d\r\n\r\n" % big + b" " * big + frame(b"after")
    assert read_stream(data) == [
        ("bad", f"body of {big} bytes is over the 16777216-byte limit (skipped)"),
        ("message", b"after"), ("eof", None)]


def test_framing_truncation_is_fatal_not_eof():
    assert read_stream(b"Content-Length: 10\r\n\r\n{}") == [
        ("fatal", "end of input after 2 of 10 body bytes")]
    assert read_stream(b"Content-Len") == [
        ("fatal", "end of input inside a header (11 bytes)")]
    assert read_stream(b"Content-Length: 99999999999\r\n\r\n") == [
        ("fatal", "body of 99999999999 bytes is over the 16777216-byte limit")]


def test_framing_random_streams_never_crash():
    rng = random.Random(15)
    good = frame(b'{"seq":1,"type":"request","command":"threads"}')
    for _ in range(300):
        parts = []
        for _ in range(rng.randrange(1, 6)):
            m = bytearray(good)
            for _ in range(rng.randrange(3)):
                m[rng.randrange(len(m))] = rng.randrange(256)
            if rng.random() < 0.3:
                m = m[:rng.randrange(len(m))]
            parts.append(bytes(m))
        got = read_stream(b"".join(parts))
        assert got and got[-1][0] in ("eof", "fatal")
        for kind, payload in got:
            assert kind in ("message", "bad", "eof", "fatal")


def test_writer_frames_messages_whole_from_many_threads():
    r, w = os.pipe()
    bodies = [(b'{"n":%d,"pad":"%s"}' % (i, b"p" * (i * 997 % 70000))) for i in range(40)]
    got = []
    reader = threading.Thread(target=lambda: got.extend(_dap._wire_read_all(r)))
    reader.start()
    _dap._wire_write_threads(w, bodies, 4)      # C threads, one writer, no GIL
    os.close(w)
    reader.join()
    os.close(r)
    assert got[-1] == ("eof", None)
    assert sorted(p for _, p in got[:-1]) == sorted(bodies)


def test_writer_reports_a_closed_peer():
    r, w = os.pipe()
    os.close(r)
    with pytest.raises(BrokenPipeError):
        _dap._wire_write(w, b"{}")
    os.close(w)


# --- capabilities --------------------------------------------------------------

def test_capabilities_are_json_and_name_real_dap_fields():
    caps = _dap._capabilities()
    assert json.loads(dumps(caps)) == caps
    assert caps["supportsConfigurationDoneRequest"] is True
    assert caps["supportTerminateDebuggee"] is True       # the spec's spelling
    assert [f["filter"] for f in caps["exceptionBreakpointFilters"]] == ["raised", "uncaught", "userUnhandled"]
    for k, v in caps.items():
        assert k.startswith(("supports", "support", "exceptionBreakpointFilters")), k
