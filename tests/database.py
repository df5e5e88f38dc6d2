"""The URL of the test database, for tests that run `manage.py` in a child process."""

from urllib.parse import quote

from django.db import connection


def subprocess_database_url() -> str:
    """A DATABASE_URL for the database this test runs on, TCP or Unix socket alike.

    The embedded server (no DATABASE_URL) listens on a socket directory only, so the host
    goes into the query string there, as libpq's own URLs do.
    """
    params = connection.get_connection_params()
    user = quote(params.get("user") or "postgres")
    password = f":{quote(params['password'])}" if params.get("password") else ""
    name = quote(connection.settings_dict["NAME"])
    host = params.get("host") or "127.0.0.1"
    port = params.get("port") or 5432
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{name}?host={quote(host)}&port={port}"
    return f"postgresql://{user}{password}@{host}:{port}/{name}"
