"""Request limits counted in the database, so that every app server sees the same counts.

The login throttle is django-axes' (crm_site/auth_backends.py); this is for the rest: the
password reset (crm_site/views.py).
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.db import connection, transaction

from crm_site.models import ThrottleCount


def count_request(key: str, *, window: datetime.timedelta) -> int:
    """Count one more request for ``key``; how many it has made in its window, this one too.

    One statement: ``INSERT ... ON CONFLICT DO UPDATE`` takes the row's lock, so requests at
    the same moment on any app server are counted one after the other, never twice as the same
    number. A window that has ended starts again at 1; ended windows of other keys are deleted.
    The database's clock decides, the same for every app server.
    """
    table = connection.ops.quote_name(ThrottleCount._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE window_start <= statement_timestamp() - %s", [window]
        )
        cursor.execute(
            f"""INSERT INTO {table} AS t (key, window_start, count)
            VALUES (%s, statement_timestamp(), 1)
            ON CONFLICT (key) DO UPDATE SET
                window_start = CASE WHEN t.window_start <= statement_timestamp() - %s
                    THEN statement_timestamp() ELSE t.window_start END,
                count = CASE WHEN t.window_start <= statement_timestamp() - %s
                    THEN 1 ELSE t.count + 1 END
            RETURNING count""",
            [key, window, window],
        )
        (count,) = cursor.fetchone()
    return count


def password_reset_allowed(*, address: str | None, email: str) -> bool:
    """May this request send reset mails? At most PASSWORD_RESET_ADDRESS_LIMIT requests from
    one address and PASSWORD_RESET_ACCOUNT_LIMIT for one email address per
    PASSWORD_RESET_WINDOW.

    The address is counted first, and a request it refuses is not counted for the account:
    one requester at a shared address cannot use up a colleague's reset mails. The email
    address is kept as a hash: nobody's typing is stored.
    """
    window = settings.PASSWORD_RESET_WINDOW
    by_address = count_request(f"password-reset:address:{address}", window=window)
    if by_address > settings.PASSWORD_RESET_ADDRESS_LIMIT:
        return False
    account = hashlib.sha256(email.strip().casefold().encode()).hexdigest()
    by_account = count_request(f"password-reset:account:{account}", window=window)
    return by_account <= settings.PASSWORD_RESET_ACCOUNT_LIMIT
