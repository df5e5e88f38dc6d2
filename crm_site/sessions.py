"""Sessions in the database (Django's store), each read with one statement written once.

Every signed-in request reads its session first. Django's database store reads it through the
ORM, which compiles the same SELECT again on every request; here the statement is built once
per process from the model's table and column names and only executed. Saving, expiry, key
cycling and `clearsessions` are Django's store unchanged.
"""

from __future__ import annotations

import functools

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    def load(self) -> dict:
        """The session's data, or nothing (and no key) when it is missing or expired."""
        db = router.db_for_read(self.model)
        with connections[db].cursor() as cursor:
            cursor.execute(_select_sql(db, self.model), [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])


@functools.cache
def _select_sql(db: str, model) -> str:
    q = connections[db].ops.quote_name
    meta = model._meta

    def column(name: str) -> str:
        return q(meta.get_field(name).column)

    return (
        f"SELECT {column('session_data')} FROM {q(meta.db_table)} "
        f"WHERE {column('session_key')} = %s AND {column('expire_date')} > %s"
    )
