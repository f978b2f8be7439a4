"""Redaction follows the value, not only the name (docs/evidence.md, "Redaction").

Each case is a small program holding one secret: it fails, writes an
evidence file with sleuth.evidence.capture() and the text of
sleuth.traceback.format_exc(locals=True); the test greps both for the
secret's text. The docs' redaction table lists these cases.
"""
import json
import os
import random
import string
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
    # High-entropy values next to an auth word (REDACT_ENTROPY_* in redact.h)
    ("entropy_after_word", "", 'msg = "retrying with token 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"',
     "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"),
    ("entropy_after_filler", "", 'msg = "the secret is Zq3XvT9pLm2KdR8sWn4YhB6cJf1GtE5a"',
     "Zq3XvT9pLm2KdR8sWn4YhB6cJf1GtE5a"),
    ("entropy_authorization_no_scheme", "",
     'hdr = "Authorization  q8Lm3ZvT7pXa2KdR9sWn4YhB6cJf1GtE"', "q8Lm3ZvT7pXa2KdR9sWn4YhB6cJf1GtE"),
    ("entropy_api_key_prose", "", 'msg = "using api key k7Pq2Lm9ZvT3xWa8KdR4sWn6YhB1cJf5"',
     "k7Pq2Lm9ZvT3xWa8KdR4sWn6YhB1cJf5"),
    ("entropy_key_assignment", "", 'url = "/v1/upload?key=9c1e4b7a2f8d3c6e5b0a9f8e7d6c5b4a&x=1"',
     "9c1e4b7a2f8d3c6e5b0a9f8e7d6c5b4a"),
    ("entropy_json_sig", "", 'body = \'{"sig": "4d7e1a9c3b8f2e6d5a0c9b8e7f6a5d4c"}\'',
     "4d7e1a9c3b8f2e6d5a0c9b8e7f6a5d4c"),
    ("entropy_local_near_name", "", 'tok = "Xy7Qm2Lp9ZvT3wKa8dR4sWn6YhB1cJf5"',
     "Xy7Qm2Lp9ZvT3wKa8dR4sWn6YhB1cJf5"),
    ("entropy_dict_near_name", "", 'params = {"hmac": "6b2e9f1c4a7d3e8b5c0f9a8d7e6c5b4a"}',
     "6b2e9f1c4a7d3e8b5c0f9a8d7e6c5b4a"),
    ("entropy_attribute_near_name", "class Req:\n    pass",
     'r = Req(); r.signing_key_b64 = "Pq8Lm3ZvT7xWa2KdR9sWn4YhB6cJf1Gt+/e="',
     "Pq8Lm3ZvT7xWa2KdR9sWn4YhB6cJf1Gt+/e="),
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
    prog.write_text('pin_code = "88127311"\nserial = "ssn 123-45-6789"\nraise SystemError("boom")\n')
    ev = tmp_path / "ev"
    ev.mkdir()
    r = run_python([str(prog)], env={"SLEUTH_EVIDENCE": str(ev),
                                     "SLEUTH_EVIDENCE_REDACT_NAMES": "pin, other",
                                     "SLEUTH_EVIDENCE_REDACT_PATTERNS": r"ssn (\d{3}-\d{2}-\d{4})"})
    assert r.returncode == 1
    [name] = os.listdir(ev)
    doc = (ev / name).read_text()
    assert "88127311" not in doc and "123-45-6789" not in doc
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


def test_high_entropy_kind_is_counted(tmp_path):
    doc, _ = run_case(tmp_path, "", 'tok = "Xy7Qm2Lp9ZvT3wKa8dR4sWn6YhB1cJf5"\n'
                                    'msg = "retrying with token 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"')
    d = json.loads(doc)
    assert d["redactions"]["kinds"]["high_entropy"] >= 2
    loc = [f for f in d["frames"] if f["name"] == "work"][0]["locals"]
    assert loc["tok"]["redacted"] is True and loc["tok"]["kind"] == "high_entropy"
    assert loc["msg"]["value"] == "retrying with token [redacted]"


ORDINARY = textwrap.dedent("""\
    commit_msg = "merged da39a3ee5e6b4b0d3255bfef95601890afd80709 into main"
    cache = "/var/cache/app/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.json"
    tfile = "token /srv/tokens/7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d.json"
    request = "token 123e4567-e89b-12d3-a456-426614174000 expired"
    cache_key = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    sha = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
    key_hash = "8f14e45fceea167a5a36dedd4bea2543"
    etag = "b1946ac92492d2347c6235b4d2611184"
    log = "cache miss for key 6f1ed002ab5595859014ebf0951522d9"
    cls = "token MyVeryLongClassNameForTheFactoryBeanImpl"
    path = "key: /etc/ssl/private/d41d8cd98f00b204e9800998ecf8427e"
    short = "token abc123def456"
""")


def test_entropy_rule_keeps_ordinary_values(tmp_path):
    """Git SHAs and digests in ordinary text, hashes in file names, UUIDs,
    digests under digest-like names, prose with "key", identifiers: kept."""
    doc, text = run_case(tmp_path, "", ORDINARY)
    for visible in ("da39a3ee5e6b4b0d3255bfef95601890afd80709",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.json",
                    "7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d.json", "123e4567-e89b-12d3-a456-426614174000",
                    "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                    "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
                    "8f14e45fceea167a5a36dedd4bea2543", "b1946ac92492d2347c6235b4d2611184",
                    "6f1ed002ab5595859014ebf0951522d9", "MyVeryLongClassNameForTheFactoryBeanImpl",
                    "/etc/ssl/private/d41d8cd98f00b204e9800998ecf8427e", "abc123def456"):
        assert visible in text, visible
        assert visible in doc, visible
    assert "high_entropy" not in json.loads(doc)["redactions"]["kinds"]


@pytest.mark.parametrize("alphabet", ["0123456789abcdef", "0123456789ABCDEF",
                                      string.ascii_letters + string.digits + "-_",
                                      string.ascii_letters + string.digits + "+/",
                                      string.ascii_letters + string.digits,
                                      string.ascii_lowercase + string.digits])
def test_random_tokens_after_auth_words_are_hidden(alphabet):
    from sleuth.traceback import safe_repr
    rng = random.Random(4711)
    for i in range(300):
        tok = "".join(rng.choice(alphabet) for _ in range(32 + i % 33))
        if tok[0] == "/":
            continue        # a path, by the rule
        for text in (f"token {tok}", f"key={tok}", f"Authorization: {tok}", f"the secret is {tok}"):
            assert tok not in safe_repr(text), text
        assert safe_repr(tok, name="tok") == "'[redacted]'"


STACKS_TARGET = textwrap.dedent("""\
    import sys, threading

    def work():
        DB_PASS = "dbpass-Secret-4711"
        GITHUB_PAT = "ghpat-Secret-4711"
        token = "token-Secret-4711"
        dsn = "postgres://app:url-Secret-4711@db.internal/prod"
        v = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"
        tok = "Xy7Qm2Lp9ZvT3wKa8dR4sWn6YhB1cJf5"
        msg = "retrying with token 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
        backup = DB_PASS
        count = 42
        print("ready", flush=True)
        sys.stdin.readline()

    work()
""")


def test_stacks_locals_use_the_same_rules(tmp_path):
    """sleuth stacks --locals of a live process: names (word rules), shapes,
    the high-entropy rule, and a copy of a secret under an innocent name."""
    import subprocess
    import sys
    script = tmp_path / "target.py"
    script.write_text(STACKS_TARGET)
    p = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        outs = {}
        for fmt in ([], ["--json"]):
            r = subprocess.run([sys.executable, "-m", "sleuth", "stacks", "--locals", *fmt,
                                str(p.pid)], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stderr
            outs[bool(fmt)] = r.stdout
    finally:
        p.kill()
        p.wait()
    for out in outs.values():
        for secret in ("dbpass-Secret-4711", "ghpat-Secret-4711", "token-Secret-4711",
                       "url-Secret-4711", "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z",
                       "Xy7Qm2Lp9ZvT3wKa8dR4sWn6YhB1cJf5", "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"):
            assert secret not in out, (secret, out)
    frame = [f for t in json.loads(outs[True])["threads"] for f in t["frames"]
             if f["function"] == "work"][0]
    loc = {entry["name"]: entry for entry in frame["locals"]}
    for name in ("DB_PASS", "GITHUB_PAT", "token", "tok"):
        assert loc[name] == {"name": name, "redacted": True}, loc[name]
    assert loc["dsn"]["repr"] == "'postgres://app:[redacted]@db.internal/prod'"
    assert loc["msg"]["repr"] == "'retrying with token [redacted]'"
    assert loc["backup"]["repr"] == "'[redacted]'"
    assert loc["count"]["repr"] == "42"
    assert "        count: 42\n" in outs[False] or "count: 42" in outs[False]


def test_docs_table_is_the_list_of_tests():
    """docs/evidence.md's redaction table names every case and test here, and
    nothing else."""
    import re
    import sys
    docs = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "evidence.md")
    text = open(docs, encoding="utf-8").read()
    start = text.index("| shape | example | handling (kind) | test |")
    rows = text[start:text.index("\n\n", start)].splitlines()[2:]
    named = set()
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 4, row
        found = re.findall(r"`([^`]+)`", cells[3])
        assert found, row
        named.update(found)
    module = sys.modules[__name__]
    tests = {n for n in dir(module) if n.startswith("test_")} - {
        "test_secret_never_written", "test_docs_table_is_the_list_of_tests"}
    cases = {c[0] for c in CASES}
    assert cases - named == set(), "cases without a row"
    assert tests - named == set(), "tests without a row"
    assert named - cases - tests == set(), "rows naming no test"
