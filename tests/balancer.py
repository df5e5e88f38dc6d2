"""A load balancer for tests: a TCP proxy on loopback in front of several app servers.

It picks the server for each connection from the connection's first line (the request line),
through a function the test gives it, so a test decides which server answers what. gunicorn's
sync workers close the connection after every response, so a connection is one request. The
balancer forwards the bytes untouched: the app sees the balancer's Host, as behind a real one.
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Callable

Backend = tuple[str, int]


class Balancer:
    def __init__(self, backends: list[Backend], choose: Callable[[str], int]) -> None:
        self.backends = backends
        self.choose = choose  # request line -> index into backends
        self.served: list[list[str]] = [[] for _ in backends]  # request lines, per backend
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def __enter__(self) -> Balancer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _address = self._listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        with client:
            client.settimeout(30)
            head = b""
            while b"\r\n" not in head and len(head) < 65536:
                try:
                    chunk = client.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return  # a connection opened ahead of time and never used
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            index = self.choose(line)
            with self._lock:
                self.served[index].append(line)
            with socket.create_connection(self.backends[index], timeout=30) as server:
                server.sendall(head)
                _pipe(client, server)


def _pipe(client: socket.socket, server: socket.socket) -> None:
    """Copy bytes both ways until the server has closed (it closes after its response)."""
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        while True:
            events = selector.select(timeout=30)
            if not events:
                return
            for key, _mask in events:
                source, target = key.fileobj, key.data
                try:
                    data = source.recv(65536)
                except OSError:
                    return
                if not data:
                    if source is server:
                        return
                    selector.unregister(client)  # the client is done sending
                    server.shutdown(socket.SHUT_WR)
                    continue
                target.sendall(data)
