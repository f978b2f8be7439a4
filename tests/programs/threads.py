import threading


def work(n):
    total = 0
    for i in range(n):
        total += i                      # line 7: breakpoint in the worker
    return total


results = {}


def runner():
    results["w"] = work(5)


t = threading.Thread(target=runner, name="worker-1")
t.start()
t.join()
print("worker result", results["w"])
