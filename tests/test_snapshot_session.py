"""The debugger on saved frames (what `sleuth open FILE` uses): duck-typed
frames, tracebacks and exceptions, read-only."""
import io
import linecache
import types

import sleuth

SOURCE = """\
def price_of(order):
    item = order["items"][0]
    return item.price * order["qty"]


def main():
    order = {"items": [], "qty": 2}
    return price_of(order)
"""
FILE = "/saved/elsewhere/shop.py"


class Code:
    def __init__(self, name, first):
        self.co_filename = FILE
        self.co_name = name
        self.co_qualname = name
        self.co_firstlineno = first


class Frame:
    def __init__(self, name, first, line, local_vars, back=None):
        self.f_code = Code(name, first)
        self.f_lineno = line
        self.f_lasti = -1
        self.f_locals = local_vars
        self.f_globals = {"__name__": "shop", "__file__": FILE}
        self.f_back = back


class TB:
    def __init__(self, frame, nxt=None):
        self.tb_frame = frame
        self.tb_lineno = frame.f_lineno
        self.tb_lasti = -1
        self.tb_next = nxt


class SavedExc:
    def __init__(self, tb, text):
        self.__traceback__ = tb
        self.__cause__ = None
        self.__context__ = None
        self.__suppress_context__ = False
        self._text = text

    def __repr__(self):
        return self._text


def session(commands):
    linecache.cache[FILE] = (len(SOURCE), None, SOURCE.splitlines(True), FILE)
    f_main = Frame("main", 6, 8, {"order": {"items": [], "qty": 2}})
    f_price = Frame("price_of", 1, 2, {"order": {"items": [], "qty": 2}}, back=f_main)
    tb = TB(f_main, TB(f_price))
    exc = SavedExc(tb, "IndexError('list index out of range')")
    out = io.StringIO()
    sleuth._sleuth.open_snapshot(exc, tb, {"python": "3.x", "argv": ["shop.py"]},
                                 stdin=io.StringIO("\n".join(commands) + "\n"), stdout=out)
    return out.getvalue()


def test_location_where_and_listing():
    text = session(["w", "ll", "l 1, 3", "u", "p order['qty']", "q"])
    assert text.startswith("> /saved/elsewhere/shop.py(2)price_of()\n-> item = order[\"items\"][0]\n")
    assert "  /saved/elsewhere/shop.py(8)main()\n-> return price_of(order)\n" in text
    assert "  1  \tdef price_of(order):\n  2  ->\t    item = order[\"items\"][0]\n" in text
    assert "(Pdb) 2\n" in text


def test_commands_that_need_a_running_program():
    text = session(["n", "s", "c", "j 3", "order['qty'] = 5", "p order['qty']", "q"])
    assert text.count("*** The program is not running") == 5
    assert "(Pdb) 2\n" in text


def test_exceptions_and_env():
    text = session(["exceptions", "env", "q"])
    assert ">   0 IndexError('list index out of range')" in text
    assert "'python': '3.x'" in text
