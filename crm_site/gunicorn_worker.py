"""gunicorn's sync worker, woken alone for a new connection (see gunicorn.conf.py)."""

from __future__ import annotations

import os
import select

from gunicorn.workers.sync import SyncWorker as GunicornSyncWorker


class SyncWorker(GunicornSyncWorker):
    """gunicorn's sync worker, waiting with epoll instead of select().

    Every idle worker waits on the one shared listening socket. With select() a new connection
    wakes all of them; all but one find nothing to accept and go back to waiting, each after a
    few system calls and a raised EAGAIN. With ``EPOLLEXCLUSIVE`` the kernel wakes one waiting
    worker per connection. Five workers, three clients making connections to /healthz: 4.5-5.0
    wake-ups of the workers a request (three of them its own queries' replies) fell to
    3.9-4.1, and their CPU from a median of 1.18 to 1.04 ms a request (docs/benchmarks.md,
    part AE). Everything else, accept() and the heartbeat included, is gunicorn's own; where
    epoll is missing (not Linux), gunicorn's select() stays.
    """

    poller: select.epoll | None = None

    def run(self) -> None:
        if hasattr(select, "EPOLLEXCLUSIVE"):
            self.poller = select.epoll()
            for listener in self.sockets:
                self.poller.register(listener, select.EPOLLIN | select.EPOLLEXCLUSIVE)
            # gunicorn's signal handlers write to this pipe to end the wait.
            self.poller.register(self.PIPE[0], select.EPOLLIN)
            self.waited_on = {listener.fileno(): listener for listener in self.sockets}
            self.waited_on[self.PIPE[0]] = self.PIPE[0]
        super().run()

    def wait(self, timeout: float) -> list:
        """What is ready, as gunicorn's wait() returns it: listeners and the pipe."""
        if self.poller is None:
            return super().wait(timeout)
        self.notify()
        ready = [self.waited_on[fd] for fd, _ in self.poller.poll(timeout)]
        if self.PIPE[0] in ready:
            os.read(self.PIPE[0], 1)
        return ready
