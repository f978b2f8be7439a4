import time

i = 0
while True:
    i += 1
    if i % 100000 == 0:
        time.sleep(0.001)
