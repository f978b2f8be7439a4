import threading
import time

import sleuth

started = threading.Event()
stop = threading.Event()


def spin():
    started.set()
    n = 0
    while not stop.is_set():
        n += 1                          # line 14: breakpoint set while this loop runs
        time.sleep(0.001)
    return n


t = threading.Thread(target=spin, name="spinner")
t.start()
started.wait()
sleuth.set_trace()
stop.wait(20)
t.join()
print("stopped" if stop.is_set() else "timed out")
