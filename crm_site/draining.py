"""A server that is stopping first *drains*: for a while it still serves every request that
reaches it, but `/healthz` answers 503, so the load balancer takes it out before it stops
accepting connections (gunicorn.conf.py, `GUNICORN_DRAIN_SECONDS`).

The flag is one byte of shared memory, made when gunicorn's master reads its config, before it
forks the workers: the master sets it and every worker sees it. Outside gunicorn it is never set.
"""

from __future__ import annotations

import mmap

_flag = mmap.mmap(-1, 1)  # anonymous and shared: inherited by every forked worker


def start() -> None:
    _flag[0] = 1


def draining() -> bool:
    return _flag[0] == 1
