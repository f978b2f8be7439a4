import asyncio
import types


def gen():
    yield 0
    return 1


def sub():
    yield 1
    return 2


def outer():
    got = yield from sub()
    yield got


def by_next():
    it = gen()
    try:
        next(it)
        next(it)
    except StopIteration as ex:
        print("stopped", ex.value)


def by_loop():
    for i in gen():
        print("value", i)
    x = 123
    return x


@types.coroutine
def legacy():
    yield
    return "legacy"


async def coro():
    await asyncio.sleep(0)
    got = await legacy()
    await asyncio.sleep(0)
    return got


async def main():
    print("coro", await coro())


by_next()
by_loop()
print(list(outer()))
asyncio.run(main())
print("done")
