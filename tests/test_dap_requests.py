"""What a DAP client reads from a stopped program (the debuggee's own
server): variables paged on the debuggee side, stackTrace paging, the
redaction rules of evidence files in the variables view, and the evaluate
contexts."""
import json
import textwrap

from test_dap_server import Debuggee

BIG = textwrap.dedent("""\
    class Obj:
        def __init__(self):
            for i in range(2000):
                setattr(self, "a%d" % i, i)
    class Small:
        def __init__(self):
            self.x, self.y = 1, [2]
    big = list(range(100000))
    bigd = {"k%d" % i: i for i in range(100000)}
    bigs = set(range(100000))
    bigo = Obj()
    small = {"a": 1, "b": 2}
    sm = Small()
    def down(n):
        if n == 0:
            return 0
        return down(n - 1)
    down(30)
    print("end")
    """)


def stop_at(tmp_path, line, source=BIG, **attach):
    d = Debuggee(tmp_path, source, attach=False)
    r = d.c.request("initialize", adapterID="test", linesStartAt1=True)
    assert r["success"], r
    d.c.wait_event("initialized")
    r = d.c.request("attach", **attach)
    assert r["success"], r
    d.bps(line)
    d.go()
    tid = d.stopped()["threadId"]
    return d, tid


def scope_vars(d, fid, name):
    sc = d.c.request("scopes", frameId=fid)["body"]["scopes"]
    ref = [s for s in sc if s["name"] == name][0]["variablesReference"]
    r = d.c.request("variables", variablesReference=ref)
    assert r["success"], r
    return {v["name"]: v for v in r["body"]["variables"]}


def kids(d, ref, **kw):
    r = d.c.request("variables", variablesReference=ref, **kw)
    assert r["success"], r
    return r["body"]["variables"]


def end(d, tid):
    d.bps()
    d.c.request("continue", threadId=tid)
    rc, out, err = d.finish()
    return rc, out, err


# --- paging ------------------------------------------------------------------------


def test_big_containers_are_paged_on_the_debuggee_side(tmp_path):
    d, tid = stop_at(tmp_path, 16)     # in down(0), 31 frames deep
    frames = d.top(tid)
    fid = frames[-1]["id"]
    g = scope_vars(d, fid, "Globals")
    big, bigd, bigs, bigo = g["big"], g["bigd"], g["bigs"], g["bigo"]
    # every big container tells a paging client how many children it has
    assert big["indexedVariables"] == 100000 and bigd["indexedVariables"] == 100000
    assert bigs["indexedVariables"] == 100000 and bigo["indexedVariables"] == 2000
    assert g["small"]["namedVariables"] == 2 and "indexedVariables" not in g["small"]
    assert g["sm"]["namedVariables"] == 2
    # a window is exactly that window, whatever the container
    w = kids(d, big["variablesReference"], start=99990, count=5)
    assert [(v["name"], v["value"], v["evaluateName"]) for v in w] == [
        (str(i), str(i), "big[%d]" % i) for i in range(99990, 99995)]
    w = kids(d, bigd["variablesReference"], start=50000, count=3)
    assert [(v["name"], v["value"], v["evaluateName"]) for v in w] == [
        ("'k%d'" % i, str(i), "bigd['k%d']" % i) for i in range(50000, 50003)]
    w = kids(d, bigs["variablesReference"], start=10, count=4)
    assert len(w) == 4 and [v["name"] for v in w] == ["10", "11", "12", "13"]
    w = kids(d, bigo["variablesReference"], start=1998, count=10)
    assert [(v["name"], v["value"], v["evaluateName"]) for v in w] == [
        ("a1998", "1998", "bigo.a1998"), ("a1999", "1999", "bigo.a1999")]
    # past the end: nothing
    assert kids(d, big["variablesReference"], start=100000, count=10) == []
    # a client that does not page gets a bounded first page and how many more
    first = kids(d, big["variablesReference"])
    assert len(first) == 301 and first[299]["name"] == "299"
    assert first[300]["name"] == "..." and first[300]["value"] == "99700 more (100000 in all)"
    assert first[300]["variablesReference"] == 0
    assert first[300]["presentationHint"] == {"kind": "virtual"}
    assert len(kids(d, bigd["variablesReference"])) == 301
    # VS Code's filters: the big ones are all indexed, the small ones named
    assert kids(d, big["variablesReference"], filter="named") == []
    assert [v["name"] for v in kids(d, big["variablesReference"], filter="indexed", start=100, count=2)] == ["100", "101"]
    assert [v["name"] for v in kids(d, g["small"]["variablesReference"], filter="named")] == ["'a'", "'b'"]
    assert kids(d, g["small"]["variablesReference"], filter="indexed") == []
    # a small container comes whole
    assert [v["name"] for v in kids(d, g["sm"]["variablesReference"])] == ["x", "y"]
    r = d.c.request("variables", variablesReference=big["variablesReference"], filter="odd")
    assert not r["success"] and "filter" in r["message"]
    r = d.c.request("variables", variablesReference=big["variablesReference"], start=-1, count=2)
    assert not r["success"] and "negative" in r["message"]
    rc, out, err = end(d, tid)
    assert rc == 0 and out == "end\n", err


def test_stack_trace_pages(tmp_path):
    d, tid = stop_at(tmp_path, 16)
    r = d.c.request("stackTrace", threadId=tid)["body"]
    assert r["totalFrames"] == 32 and len(r["stackFrames"]) == 32
    names = [f["name"] for f in r["stackFrames"]]
    assert names == ["down"] * 31 + ["<module>"]
    # what VS Code does with supportsDelayedStackTraceLoading: the top, then the rest
    top = d.c.request("stackTrace", threadId=tid, startFrame=0, levels=1)["body"]
    assert [f["id"] for f in top["stackFrames"]] == [r["stackFrames"][0]["id"]]
    assert top["totalFrames"] == 32
    rest = d.c.request("stackTrace", threadId=tid, startFrame=1, levels=20)["body"]
    assert [f["id"] for f in rest["stackFrames"]] == [f["id"] for f in r["stackFrames"][1:21]]
    tail = d.c.request("stackTrace", threadId=tid, startFrame=30, levels=20)["body"]
    assert [(f["name"], f["line"]) for f in tail["stackFrames"]] == [("down", 17), ("<module>", 18)]
    assert d.c.request("stackTrace", threadId=tid, startFrame=40, levels=5)["body"]["stackFrames"] == []
    rc, out, err = end(d, tid)
    assert rc == 0 and out == "end\n", err


# --- redaction ------------------------------------------------------------------------

SECRETS = textwrap.dedent("""\
    import collections
    class Conf:
        def __init__(self):
            self.host = "db"
            self.api_key = "k-1234567890abcdef"
    Cred = collections.namedtuple("Cred", "user password")
    def work(password, token_file):
        db_url = "postgres://admin:s3cr3tpass@db.example.com/app"
        note = "the password is hunter2hunter2"
        gh = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
        cfg = {"user": "ann", "password": "hunter2hunter2", "nested": {"secret": [1, 2]}}
        pair = ("password", "hunter2hunter2")
        acct = Cred("ann", "hunter2hunter2")
        conf = Conf()
        n = 1
        return n
    work("hunter2hunter2", "/tmp/t")
    print("end")
    """)
SECRET_TEXTS = ["hunter2hunter2", "s3cr3tpass", "ghp_abcdefghijklmnop", "k-1234567890abcdef"]


def no_secret_in(obj):
    text = json.dumps(obj)
    return not any(s in text for s in SECRET_TEXTS)


def test_variables_view_hides_secrets_by_name_and_shape(tmp_path):
    d, tid = stop_at(tmp_path, 16, SECRETS)
    st = d.c.request("stackTrace", threadId=tid)
    assert no_secret_in(st)
    fid = st["body"]["stackFrames"][0]["id"]
    loc = scope_vars(d, fid, "Locals")
    assert loc["password"]["value"] == "[redacted]" and loc["password"]["variablesReference"] == 0
    assert loc["db_url"]["value"] == "'postgres://admin:[redacted]@db.example.com/app'"
    assert loc["gh"]["value"] == "'[redacted]'"
    # a secret found by its name is scrubbed from other values too
    assert loc["note"]["value"] == "'the password is [redacted]'"
    assert loc["token_file"]["value"] == "[redacted]"
    assert loc["n"]["value"] == "1"
    assert "hunter2" not in loc["cfg"]["value"] and "'user': 'ann'" in loc["cfg"]["value"]
    cfg = {v["name"]: v for v in kids(d, loc["cfg"]["variablesReference"])}
    assert cfg["'password'"]["value"] == "[redacted]" and cfg["'user'"]["value"] == "'ann'"
    assert cfg["'nested'"]["variablesReference"] > 0
    nested = {v["name"]: v for v in kids(d, cfg["'nested'"]["variablesReference"])}
    assert nested["'secret'"]["value"] == "[redacted]" and nested["'secret'"]["variablesReference"] == 0
    pair = kids(d, loc["pair"]["variablesReference"])
    assert [v["value"] for v in pair] == ["'password'", "[redacted]"]
    cred = kids(d, loc["acct"]["variablesReference"])
    assert [v["value"] for v in cred] == ["'ann'", "[redacted]"]
    conf = {v["name"]: v for v in kids(d, loc["conf"]["variablesReference"])}
    assert conf["api_key"]["value"] == "[redacted]" and conf["host"]["value"] == "'db'"
    everything = [loc, cfg, nested, pair, cred, conf]
    assert no_secret_in(everything), everything
    # hover and watch are the view; the repl and the clipboard show what was asked
    for ctx in ("hover", "watch", None):
        for expr in ("password", "cfg['password']", "conf.api_key", "db_url", "cfg"):
            args = dict(expression=expr, frameId=fid)
            if ctx:
                args["context"] = ctx
            r = d.c.request("evaluate", **args)
            assert r["success"] and no_secret_in(r), (ctx, expr, r)
    r = d.c.request("evaluate", expression="password", frameId=fid, context="hover")
    assert r["body"]["result"] == "[redacted]" and r["body"]["variablesReference"] == 0
    r = d.c.request("evaluate", expression="password", frameId=fid, context="repl")
    assert r["body"]["result"] == "'hunter2hunter2'"
    r = d.c.request("evaluate", expression="db_url", frameId=fid, context="clipboard")
    assert r["body"]["result"] == "'postgres://admin:s3cr3tpass@db.example.com/app'"
    # what setVariable/setExpression answer is the view too
    r = d.c.request("setExpression", expression="password", value="'changed-secret-1'", frameId=fid)
    assert r["success"] and r["body"]["value"] == "[redacted]"
    lref = [s for s in d.c.request("scopes", frameId=fid)["body"]["scopes"]
            if s["name"] == "Locals"][0]["variablesReference"]
    r = d.c.request("setVariable", variablesReference=lref, name="token_file", value="'/tmp/u'")
    assert r["success"] and r["body"]["value"] == "[redacted]"
    rc, out, err = end(d, tid)
    assert rc == 0 and out == "end\n", err


def test_redact_false_in_attach_shows_everything(tmp_path):
    d, tid = stop_at(tmp_path, 16, SECRETS, redact=False)
    fid = d.top(tid)[0]["id"]
    loc = scope_vars(d, fid, "Locals")
    assert loc["password"]["value"] == "'hunter2hunter2'"
    assert loc["db_url"]["value"] == "'postgres://admin:s3cr3tpass@db.example.com/app'"
    r = d.c.request("evaluate", expression="password", frameId=fid, context="hover")
    assert r["body"]["result"] == "'hunter2hunter2'"
    rc, out, err = end(d, tid)
    assert rc == 0 and out == "end\n", err


def test_redact_rules_from_attach_arguments(tmp_path):
    src = "def f(pin, password):\n    ssn = '123-45-6789'\n    return pin\nf(1234, 'abc')\n"
    d, tid = stop_at(tmp_path, 3, src, redact=["pin"], redactExtra=["ssn"])
    loc = scope_vars(d, d.top(tid)[0]["id"], "Locals")
    # the list replaces the default patterns: password is no longer one
    assert loc["pin"]["value"] == "[redacted]" and loc["ssn"]["value"] == "[redacted]"
    assert loc["password"]["value"] == "'abc'"
    rc, out, err = end(d, tid)
    assert rc == 0, err


def test_bad_redaction_arguments_are_refused(tmp_path):
    d = Debuggee(tmp_path, "print('end')\n", attach=False)
    d.c.request("initialize", adapterID="test")
    r = d.c.request("attach", redact="no")
    assert not r["success"] and "'redact'" in r["message"]
    r = d.c.request("attach", redactExtra="pin")
    assert not r["success"] and "'redactExtra'" in r["message"]
    r = d.c.request("attach", redact=[1])
    assert not r["success"] and "redaction" in r["message"]
    assert d.c.request("attach")["success"]
    d.go()
    rc, out, err = d.finish()
    assert rc == 0 and out == "end\n", err


# --- evaluate contexts and the safe repr -----------------------------------------------

EVAL = textwrap.dedent("""\
    class Loop:
        def __repr__(self):
            while True:
                pass
    long = "x" * 5000
    big = list(range(100000))
    loop = Loop()
    print("end")
    """)


def test_evaluate_contexts_and_bounds(tmp_path):
    d, tid = stop_at(tmp_path, 8, EVAL)
    fid = d.top(tid)[0]["id"]

    def ev(expr, ctx):
        r = d.c.request("evaluate", expression=expr, frameId=fid, context=ctx)
        assert r["success"], r
        return r["body"]

    # the view (hover, watch) is bounded at 1000 characters, the repl at 100,000
    assert len(ev("long", "hover")["result"]) == 1000 and ev("long", "hover")["result"].endswith("...")
    assert len(ev("long", "watch")["result"]) == 1000
    assert ev("long", "repl")["result"] == repr("x" * 5000)
    # the clipboard: the whole repr, every item
    assert ev("big", "clipboard")["result"] == repr(list(range(100000)))
    assert ev("big", "repl")["result"].endswith("...]")
    # a container's result can be expanded, and says how many children
    b = ev("big", "watch")
    assert b["indexedVariables"] == 100000 and b["variablesReference"] > 0
    # a looping __repr__ is cut off in every context; the program is unharmed
    for ctx in ("hover", "watch", "repl", "clipboard"):
        assert ev("loop", ctx)["result"] == "<repr timed out>"
    rc, out, err = end(d, tid)
    assert rc == 0 and out == "end\n", err


def test_completions_in_the_stopped_frame(tmp_path):
    d, tid = stop_at(tmp_path, 8, EVAL)
    fid = d.top(tid)[0]["id"]
    r = d.c.request("completions", frameId=fid, text="lo", column=3)
    assert r["success"], r
    labels = [t["label"] for t in r["body"]["targets"]]
    # the frame's names and the builtins, as the terminal completes `p lo`
    assert {"long", "loop", "locals"} <= set(labels) and labels == sorted(labels)
    assert all(t["start"] == 0 and t["length"] == 2 for t in r["body"]["targets"])
    # the last part of a chain, at its offset in the text (0-based, as VS Code reads it)
    r = d.c.request("completions", frameId=fid, text="x = big.ap", column=11)
    assert r["body"]["targets"] == [{"label": "append", "start": 8, "length": 2}]
    r = d.c.request("completions", frameId=fid, text="nothing_like_this", column=18)
    assert r["success"] and r["body"]["targets"] == []
    rc, out, err = end(d, tid)
    assert rc == 0 and out == "end\n", err
