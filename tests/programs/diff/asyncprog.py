"""asyncio: tasks, gather, async generators, async with, cancellation."""
import asyncio
import sys

OUT = []


def note(*parts):
    OUT.append(" ".join(str(p) for p in parts))


async def never_called():
    await asyncio.sleep(0)
    return 1


async def ticker(name, n):
    for i in range(n):
        await asyncio.sleep(0)
        yield "%s%d" % (name, i)


async def worker(name, n, log):
    total = 0
    async for tick in ticker(name, n):
        log.append(tick)
        total += len(tick)
    return total


class Resource:
    async def __aenter__(self):
        note("aenter")
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, kind, value, tb):
        note("aexit", kind.__name__ if kind else None)
        return kind is KeyError


async def sleeper():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        note("sleeper cancelled")
        raise
    finally:
        note("sleeper finally")


async def failing():
    await asyncio.sleep(0)
    raise ValueError("task failed")


async def main():
    log = []
    totals = await asyncio.gather(worker("a", 3, log), worker("b", 2, log))
    note("totals", totals, "log", sorted(log))
    async with Resource():
        raise KeyError("swallowed")
    task = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        note("task cancelled", task.cancelled())
    results = await asyncio.gather(failing(), worker("c", 1, log), return_exceptions=True)
    note("gathered", [type(r).__name__ for r in results])
    agen = ticker("z", 5)
    note("anext", await agen.__anext__(), await agen.__anext__())
    await agen.aclose()
    note("comp", [t async for t in ticker("q", 3)])
    try:
        await asyncio.wait_for(sleeper(), timeout=0.01)
    except asyncio.TimeoutError:
        note("timed out")
    q = asyncio.Queue()

    async def producer():
        for i in range(4):
            await q.put(i)
        await q.put(None)

    async def consumer():
        got = []
        while (item := await q.get()) is not None:
            got.append(item)
        return got

    _, got = await asyncio.gather(producer(), consumer())
    note("queue", got)
    return len(OUT)


count = asyncio.run(main())
note("count", count)
data = "\n".join(OUT) + "\n"
status = 3 + sum(data.encode()) % 200
with open(sys.argv[1], "a") as f:
    f.write(data + "=== end %d\n" % status)
sys.exit(status)
