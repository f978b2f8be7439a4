import sys

SRC = '''
def func():
    x = "sentinel in a function whose globals have no __builtins__"
    return x
'''


def make():
    code = compile(SRC, "<frozen nobuiltins_mod>", "exec").co_consts[0]
    mod = type(sys)("nobuiltins_mod")
    mod.func = type(make)(code, mod.__dict__)
    return mod


mod = make()
print(mod.func())
