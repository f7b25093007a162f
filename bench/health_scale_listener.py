#!/usr/bin/env python3
"""Accept-and-close TCP listener for bench/health-scale.sh.

Binds 0.0.0.0:PORT so that one socket accepts connections to every 127.x.y.z address (all of
127.0.0.0/8 is local on Linux); the bench only ever connects over loopback. Exits by itself
after --seconds, and prints how many connections it accepted.
"""
import argparse
import selectors
import socket
import time


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--seconds", type=float, default=120.0)
    a = p.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.bind, a.port))
    s.listen(4096)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + a.seconds
    accepted = 0
    while time.monotonic() < deadline:
        if not sel.select(timeout=0.5):
            continue
        for _ in range(512):  # drain the queue
            try:
                c, _ = s.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError:  # EMFILE and friends: drop this round, keep serving
                break
            c.close()
            accepted += 1
    print(f"accepted {accepted}", flush=True)


if __name__ == "__main__":
    main()
