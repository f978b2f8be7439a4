"""Redaction follows the value, not only the name (docs/evidence.md, "Redaction").

Each case is a small program holding one secret: it fails, writes an
evidence file with sleuth.evidence.capture() and the text of
sleuth.traceback.format_exc(locals=True); the test greps both for the
secret's text. The docs' redaction table lists these cases.
"""
import json
import os
import textwrap

import pytest

from conftest import run_python

PROGRAM = """\
import collections, sys, threading, types
import sleuth.evidence as ev
import sleuth.traceback as stb
{prelude}

def work():
{setup}
    raise RuntimeError("work failed")

try:
    work()
except Exception as e:
    ev.capture(e, path=sys.argv[1]{options})
    with open(sys.argv[2], "w") as f:
        f.write(stb.format_exc(locals=True{options}))
"""

PEM_BODY = "MIIEowIBAAKCAQEAx4Pem4711Secret"

# (id, module-level prelude, body of work(), the secret's text)
CASES = [
    # Names the documented promise covered but missed
    ("namedtuple_field", 'Creds = collections.namedtuple("Creds", "user password")',
     'c = Creds("bob", "nt-Secret-4711")', "nt-Secret-4711"),
    ("simple_namespace", "", 'ns = types.SimpleNamespace(user="bob", password="ns-Secret-4711")',
     "ns-Secret-4711"),
    ("mappingproxy", "", 'mp = types.MappingProxyType({"password": "mp-Secret-4711"})',
     "mp-Secret-4711"),
    ("bytes_key", "", 'd = {b"password": b"bk-Secret-4711"}', "bk-Secret-4711"),
    ("property", textwrap.dedent("""\
        class Conf:
            def __init__(self, p):
                self._p = p
            @property
            def password(self):
                return self._p
            def __repr__(self):
                return f"Conf(password={self.password!r})"
        """), 'cfg = Conf("prop-Secret-4711")', "prop-Secret-4711"),
    ("instance_dict", "class Conn:\n    pass",
     'conn = Conn(); conn.password = "attr-Secret-4711"', "attr-Secret-4711"),
    ("slots", "class S:\n    __slots__ = ('api_token',)\n    def __init__(self):\n"
              "        self.api_token = 'slot-Secret-4711'", "s = S()", "slot-Secret-4711"),
    # Source lines, messages, notes
    ("source_line", "", 'password = "src-Secret-4711"', "src-Secret-4711"),
    ("exception_message", "",
     'pw_value = "msg-Secret-4711"\n'
     'raise RuntimeError("login failed with " + pw_value)', "msg-Secret-4711"),
    ("exception_note", "",
     'err = RuntimeError("x")\nerr.add_note("retry with ghp_" + "Nq4" * 12)\nraise err',
     "ghp_" + "Nq4" * 12),
    ("thread_name", "",
     'stop = threading.Event()\n'
     't = threading.Thread(target=stop.wait, name="sync xoxb-" + "1234-abcd" * 3, daemon=True)\n'
     't.start()\n'
     'raise RuntimeError("work failed")', "xoxb-" + "1234-abcd" * 3),
    # Names outside the old default list
    ("DB_PASS", "", 'DB_PASS = "dbpass-Secret-4711"', "dbpass-Secret-4711"),
    ("pwd", "", 'pwd = "pwd-Secret-4711"', "pwd-Secret-4711"),
    ("creds", "", 'creds = ["creds-Secret-4711"]', "creds-Secret-4711"),
    ("x-api-key", "", 'headers = {"x-api-key": "xak-Secret-4711"}', "xak-Secret-4711"),
    ("X-Api-Key", "", 'headers = {"X-Api-Key": "XAK-Secret-4711"}', "XAK-Secret-4711"),
    ("GITHUB_PAT", "", 'GITHUB_PAT = "pat-Secret-4711"', "pat-Secret-4711"),
    ("STRIPE_KEY", "", 'STRIPE_KEY = "stripekey-Secret-4711"', "stripekey-Secret-4711"),
    # Values with no telling name
    ("url_local", "", 'dsn = "postgres://app:url-Secret-4711@db.internal/prod"', "url-Secret-4711"),
    ("url_attribute", "class Svc:\n    pass",
     's = Svc(); s.endpoint = "https://bob:urlattr-Secret-4711@api.example.com/v1"',
     "urlattr-Secret-4711"),
    ("pair_tuple", "", 'p = ("password", "pair-Secret-4711")', "pair-Secret-4711"),
    ("pairs_in_list", "", 'form = [("user", "bob"), ("password", "plist-Secret-4711")]',
     "plist-Secret-4711"),
    ("bearer", "", 'h = "Bearer brr4711SecretTokenValue"', "brr4711SecretTokenValue"),
    ("basic", "", 'h = "Basic dXNlcjpTZWNyZXQ0NzEx"', "dXNlcjpTZWNyZXQ0NzEx"),
    ("header_line", "", 'line = "Authorization: Bearer hdr4711SecretTokenValue"',
     "hdr4711SecretTokenValue"),
    ("aws_akia", "", 'k = "AKIAIOSFODNN7EXAMPLE"', "AKIAIOSFODNN7EXAMPLE"),
    ("aws_asia", "", 'k = "ASIAY34FZKBOKMUTVV7A"', "ASIAY34FZKBOKMUTVV7A"),
    ("jwt", "", 'v = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0NzExIn0.c2lnbmF0dXJlNDcxMQ"',
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0NzExIn0.c2lnbmF0dXJlNDcxMQ"),
    ("github_ghp", "", 'v = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"',
     "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"),
    ("github_gho", "", 'v = "gho_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"',
     "gho_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"),
    ("github_ghs", "", 'v = "ghs_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"',
     "ghs_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"),
    ("github_ghu", "", 'v = "ghu_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"',
     "ghu_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"),
    ("github_pat", "", 'v = "github_pat_11ABCDEFG0aB3dE5fG7hJ9_kL1mN3pQ5rS7tU9vW1xY3z"',
     "github_pat_11ABCDEFG0aB3dE5fG7hJ9_kL1mN3pQ5rS7tU9vW1xY3z"),
    ("stripe_sk_live", "", 'v = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"', "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("stripe_sk_test", "", 'v = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"', "sk_test_4eC39HqLyjWDarjtT1zdp7dc"),
    ("stripe_rk_live", "", 'v = "rk_live_4eC39HqLyjWDarjtT1zdp7dc"', "rk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("slack_xoxb", "", 'v = "xoxb-123456789012-abcdefABCDEF"', "xoxb-123456789012-abcdefABCDEF"),
    ("slack_xoxp", "", 'v = "xoxp-123456789012-abcdefABCDEF"', "xoxp-123456789012-abcdefABCDEF"),
    ("pem_block", "",
     'k = "-----BEGIN RSA PRIVATE KEY-----\\n%s\\n-----END RSA PRIVATE KEY-----\\n"' % PEM_BODY,
     PEM_BODY),
    ("pem_multiline_source", "",
     'k = """-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n"""' % PEM_BODY, PEM_BODY),
    ("assignment_in_text", "", 'msg = "retrying with token=tok4711SecretAbc"', "tok4711SecretAbc"),
    ("json_in_text", "", 'body = \'{"password": "json-Secret-4711"}\'', "json-Secret-4711"),
    # Found once, hidden everywhere: the same value under an innocent name
    ("copied_value", "", 'password = "copy-Secret-4711"\nbackup = [password]\nlabel = password.upper()',
     "copy-Secret-4711"),
]


def run_case(tmp_path, prelude, setup, options="", args=(), env=None):
    prog = tmp_path / "prog.py"
    prog.write_text(PROGRAM.format(prelude=prelude, setup=textwrap.indent(setup, "    "),
                                   options=options))
    evidence, tb = tmp_path / "ev.json", tmp_path / "tb.txt"
    r = run_python([str(prog), str(evidence), str(tb), *args], env=env)
    assert r.returncode == 0, r.stderr
    return evidence.read_text(), tb.read_text()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_secret_never_written(tmp_path, case):
    _, prelude, setup, secret = case
    doc, text = run_case(tmp_path, prelude, setup)
    assert secret not in doc
    assert secret not in text
    assert json.dumps(secret)[1:-1] not in doc
    assert "[redacted]" in doc
    red = json.loads(doc)["redactions"]
    assert red["count"] >= 1 and sum(red["kinds"].values()) == red["count"]


def test_summary_at_the_top_has_counts_and_kinds_only(tmp_path):
    doc, _ = run_case(tmp_path, "", 'password = "sum-Secret-4711"\n'
                                    'v = "AKIAIOSFODNN7EXAMPLE"')
    assert list(json.loads(doc))[:3] == ["format", "version", "redactions"]
    red = json.loads(doc)["redactions"]
    assert set(red) == {"count", "kinds"}
    assert red["kinds"]["name"] >= 1 and red["kinds"]["aws_access_key"] >= 1
    assert all(isinstance(n, int) for n in red["kinds"].values())


def test_argv_options_and_pairs(tmp_path):
    doc, _ = run_case(tmp_path, "", "pass", args=[
        "--password=argv-Secret-4711", "--token", "argvtok-Secret-4711", "api_key=kv-Secret-4711",
        "--verbose", "keep-me"])
    argv = json.loads(doc)["environment"]["argv"]
    assert "argv-Secret-4711" not in doc and "argvtok-Secret-4711" not in doc
    assert "kv-Secret-4711" not in doc
    assert argv[-6:] == ["--password=[redacted]", "--token", "[redacted]", "api_key=[redacted]",
                         "--verbose", "keep-me"]


def test_user_names_patterns_and_values(tmp_path):
    setup = ('pin_code = "4711"\nemployee = "ssn 123-45-6789"\n'
             'note = "internal codename bluebird-77"')
    plain, _ = run_case(tmp_path, "", setup)
    assert "123-45-6789" in plain and "bluebird-77" in plain
    opts = (', redact_names=["pin"], redact_patterns=[r"ssn (\\d{3}-\\d{2}-\\d{4})"],'
            ' redact_values=["bluebird-77"]')
    doc, text = run_case(tmp_path, "", setup, options=opts)
    for secret in ("123-45-6789", "bluebird-77", '"4711"'):
        assert secret not in doc and secret not in text
    assert "ssn [redacted]" in text
    kinds = json.loads(doc)["redactions"]["kinds"]
    assert kinds["user_pattern"] >= 1 and kinds["user_value"] >= 1 and kinds["name"] >= 1


def test_user_options_from_the_environment(tmp_path):
    prog = tmp_path / "app.py"
    prog.write_text('pin_code = "8812"\nserial = "ssn 123-45-6789"\nraise SystemError("boom")\n')
    ev = tmp_path / "ev"
    ev.mkdir()
    r = run_python([str(prog)], env={"SLEUTH_EVIDENCE": str(ev),
                                     "SLEUTH_EVIDENCE_REDACT_NAMES": "pin, other",
                                     "SLEUTH_EVIDENCE_REDACT_PATTERNS": r"ssn (\d{3}-\d{2}-\d{4})"})
    assert r.returncode == 1
    [name] = os.listdir(ev)
    doc = (ev / name).read_text()
    assert "8812" not in doc and "123-45-6789" not in doc
    assert json.loads(doc)["redactions"]["kinds"]["user_pattern"] >= 1


INNOCENT = textwrap.dedent("""\
    passenger = "Ada Lovelace"
    keyboard = "qwerty-layout"
    monkey = "capuchin-7"
    compass = "north-by-west"
    sort_key = "by-date-desc"
    pass_ = "keyword-escape"
    site = "https://example.com/a:b@c"
    email = "bob@example.com"
    prose = "Basic usage of the Bearer token API"
    short = ["AKIA1234", "eyJhb", "ghp_short", "sk_live_x", "xoxb-1"]
    count = 3""")


def test_innocent_names_and_values_are_kept(tmp_path):
    doc, text = run_case(tmp_path, "", INNOCENT)
    for visible in ("Ada Lovelace", "qwerty-layout", "capuchin-7", "north-by-west",
                    "by-date-desc", "keyword-escape", "https://example.com/a:b@c",
                    "bob@example.com", "Basic usage of the Bearer token API", "AKIA1234",
                    "ghp_short", "sk_live_x"):
        assert visible in text, visible
        assert visible in doc, visible
    loc = [f for f in json.loads(doc)["frames"] if f["name"] == "work"][0]["locals"]
    assert loc["passenger"]["value"] == "Ada Lovelace"
    assert not any(v.get("redacted") for v in loc.values())


def test_safe_repr_follows_shapes_and_word_rules():
    from sleuth.traceback import safe_repr
    assert safe_repr("postgres://u:pw@h/db") == "'postgres://u:[redacted]@h/db'"
    assert safe_repr({"X-Api-Key": "k1"}) == "{'X-Api-Key': '[redacted]'}"
    for name in ("DB_PASS", "pwd", "creds", "x-api-key", "GITHUB_PAT", "STRIPE_KEY", "pass"):
        assert safe_repr("v", name=name) == "'[redacted]'", name
    for name in ("passenger", "keyboard", "monkey", "compass", "pass_", "sort_key", "patience"):
        assert safe_repr("v", name=name) == "'v'", name
    # redact=[] turns the name rules off; value shapes stay.
    assert safe_repr("v", name="DB_PASS", redact=[]) == "'v'"
    assert safe_repr("AKIAIOSFODNN7EXAMPLE", redact=[]) == "'[redacted]'"


def test_environment_secrets_hidden_everywhere_but_shell_directories_kept(tmp_path):
    # PWD/OLDPWD match the word "pwd" but are the shell's directories: kept
    # (hiding them blanked every path under the working directory).
    setup = 'import os\ncopy = os.environ["SERVICE_API_TOKEN"]\nhere = os.environ["PWD"]'
    doc, text = run_case(tmp_path, "", setup, env={
        "SERVICE_API_TOKEN": "envtok-Secret-4711-abcdef", "PWD": str(tmp_path),
        "OLDPWD": str(tmp_path)})
    d = json.loads(doc)
    assert "envtok-Secret-4711-abcdef" not in doc and "envtok-Secret-4711-abcdef" not in text
    assert d["environment"]["env"]["SERVICE_API_TOKEN"] == "[redacted]"
    assert d["environment"]["env"]["PWD"] == str(tmp_path)
    loc = [f for f in d["frames"] if f["name"] == "work"][0]["locals"]
    assert loc["here"]["value"] == str(tmp_path)
    assert loc["copy"]["value"] == "[redacted]"
