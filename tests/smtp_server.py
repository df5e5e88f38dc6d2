"""A real SMTP server on loopback (aiosmtpd) for the delivery tests, with knobs for failures."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from email.message import Message

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """Accepts mail and keeps it; can refuse recipients, drop the line during DATA, or hold
    DATA until released (to catch a sender mid-send)."""

    def __init__(self):
        self.messages: list[Message] = []
        self.envelopes = []
        self.refuse_recipients: set[str] = set()
        self.drop_during_data = False
        self.data_received = threading.Event()  # set once a DATA body has arrived
        self.hold_data: threading.Event | None = None  # when set, DATA waits for it
        self.delay = 0.0
        # When set to n, DATA waits (up to 30 s) until n connections have given a recipient:
        # two senders are then both mid-send at the same moment.
        self.hold_until_connections: int | None = None
        self._peers: set = set()
        self._enough_connections = threading.Event()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_recipients:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        with self._lock:
            self._peers.add(session.peer)
            if self.hold_until_connections and len(self._peers) >= self.hold_until_connections:
                self._enough_connections.set()
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_during_data:
            server.transport.close()
            return "421 closing"
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(email.message_from_bytes(envelope.original_content))
        self.data_received.set()
        if self.hold_until_connections:
            await asyncio.get_running_loop().run_in_executor(
                None, self._enough_connections.wait, 30
            )
        if self.hold_data is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.hold_data.wait, 30)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.handler.hold_data is not None:
            self.handler.hold_data.set()
        self.controller.stop()

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages

    @property
    def connections(self) -> int:
        """Connections that have given at least one recipient."""
        return len(self.handler._peers)

    def django_settings(self) -> dict:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_TIMEOUT": 10,
        }
