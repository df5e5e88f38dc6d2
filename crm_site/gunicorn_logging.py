"""gunicorn's logger: access lines whose atoms are worked out only as the format names them,
and, when LOG_FORMAT=json, gunicorn's own logs as JSON lines (see gunicorn.conf.py)."""

from __future__ import annotations

import json
import logging
import os
import traceback
from collections.abc import Iterator, Mapping

from gunicorn import glogging

from crm_site.log_format import JsonFormatter


class Logger(glogging.Logger):
    """gunicorn's logger, with each access line's atoms worked out when the format asks for
    them. gunicorn works out every atom for every line, each request and response header and
    each variable of the WSGI environ among them, and escapes them all (~75 us of CPU a
    request); the site's format names five. The line is the same."""

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        atoms = Atoms(self, resp, req, environ, request_time, escape=True)
        try:
            self.access_log.info(self.cfg.access_log_format, atoms)
        except Exception:
            self.error(traceback.format_exc())


class Atoms(Mapping):
    """What `glogging.SafeAtoms(logger.atoms(...))` holds, each value worked out when asked
    for: "-" for an atom or header that is not there, case-insensitive header names, and
    (with ``escape``) double quotes escaped in text, as gunicorn writes them. (A Mapping, as
    logging formats a message with one only; it lists the one-letter atoms.)"""

    def __init__(self, logger, resp, req, environ, request_time, *, escape: bool) -> None:
        self.logger, self.resp, self.req = logger, resp, req
        self.environ, self.request_time, self.escape = environ, request_time, escape

    def __getitem__(self, key: str):
        value = self._value(key)
        if self.escape and isinstance(value, str):
            return value.replace('"', '\\"')
        return value

    def _value(self, key: str):
        if key.startswith("{"):
            name, _, kind = key.lower()[1:].rpartition("}")
            if kind == "i":
                return _last(_items(getattr(self.req, "headers", self.req)), name)
            if kind == "o":
                return _last(_items(self.resp.headers), name)
            if kind == "e":
                return _last(self.environ.items(), name)
            return "-"
        atom = _ATOMS.get(key)
        return "-" if atom is None else atom(self)

    def __iter__(self) -> Iterator[str]:
        return iter(_ATOMS)

    def __len__(self) -> int:
        return len(_ATOMS)


def _items(headers):
    return headers.items() if hasattr(headers, "items") else headers


def _last(pairs, name: str):
    """The value of the last pair named ``name`` (as gunicorn's dict of them keeps), or "-"."""
    found = "-"
    for key, value in pairs:
        if key.lower() == name:
            found = value
    return found


def _status(atoms: Atoms):
    status = atoms.resp.status
    return status.split(None, 1)[0] if isinstance(status, str) else status


def _sent(atoms: Atoms):
    return getattr(atoms.resp, "sent", None)


# gunicorn's atoms (glogging.Logger.atoms), one function each.
_ATOMS = {
    "h": lambda a: a.environ.get("REMOTE_ADDR", "-"),
    "l": lambda a: "-",
    "u": lambda a: a.logger._get_user(a.environ) or "-",
    "t": lambda a: a.logger.now(),
    "r": lambda a: "{} {} {}".format(
        a.environ["REQUEST_METHOD"], a.environ["RAW_URI"], a.environ["SERVER_PROTOCOL"]
    ),
    "s": _status,
    "m": lambda a: a.environ.get("REQUEST_METHOD"),
    "U": lambda a: a.environ.get("PATH_INFO"),
    "q": lambda a: a.environ.get("QUERY_STRING"),
    "H": lambda a: a.environ.get("SERVER_PROTOCOL"),
    "b": lambda a: "-" if _sent(a) is None else str(_sent(a)) or "-",
    "B": _sent,
    "f": lambda a: a.environ.get("HTTP_REFERER", "-"),
    "a": lambda a: a.environ.get("HTTP_USER_AGENT", "-"),
    "T": lambda a: a.request_time.seconds,
    "D": lambda a: a.request_time.seconds * 1000000 + a.request_time.microseconds,
    "M": lambda a: a.request_time.seconds * 1000 + int(a.request_time.microseconds / 1000),
    "L": lambda a: f"{a.request_time.seconds}.{a.request_time.microseconds:06d}",
    "p": lambda a: f"<{os.getpid()}>",
}


class JsonLogger(Logger):
    """Error log through the app's JSON formatter; one JSON object per access line."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        atoms = Atoms(self, resp, req, environ, request_time, escape=False)
        line = {
            "time": self.now().strip("[]"),
            "logger": "gunicorn.access",
            "remote": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"],
            "status": atoms["s"],
            "bytes": atoms["B"],
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            # "-" without the header (a balancer's health probe), as in the plain access line.
            "forwarded_for": atoms["{x-forwarded-for}i"],
            "user_agent": atoms["a"],
        }
        self.access_log.info(json.dumps(line, ensure_ascii=False))
