"""Authentication backends: login throttling (django-axes' backend and handler, and the client
address it counts failures for) and permissions read in one query."""

from __future__ import annotations

import datetime
import functools
import math

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

UserModel = get_user_model()


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked-out username or address before the password is checked.

    A call without a request is no web login (`Client.login` in tests, a shell): there is no
    address to count, so it is left to the next backend instead of failing as axes does.
    """

    def authenticate(self, request: HttpRequest | None, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str | None:
    """The address to count failed logins for.

    Directly on the internet it is the peer address. Behind a load balancer (BEHIND_PROXY) the
    peer is the balancer: the client is the address the nearest PROXY_COUNT proxies appended
    to X-Forwarded-For; whatever stands further left was written by the client and is ignored.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    if not settings.BEHIND_PROXY:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < settings.PROXY_COUNT:
        return remote
    return forwarded[-settings.PROXY_COUNT]


class LoginThrottleHandler(AxesDatabaseHandler):
    """axes' database handler with two limits: an account is locked after AXES_FAILURE_LIMIT
    failures (from any address), an address after AXES_ADDRESS_FAILURE_LIMIT (for any
    account), higher because an office shares one address.

    axes compares one count with one limit (AXES_FAILURE_LIMIT), so the address's failures are
    counted here less the failures an address may have on top of an account: either count
    reaching its own limit reaches AXES_FAILURE_LIMIT. A successful login clears its account's
    failures, never the address's: logging in with one's own account must not wipe a guesser's
    count.
    """

    def get_failures(self, request, credentials=None) -> int:
        by_account, by_address = (
            sum(failures for _time, failures in rows)
            for rows in self.recent_failures(request, credentials)
        )
        extra_for_an_address = settings.AXES_ADDRESS_FAILURE_LIMIT - settings.AXES_FAILURE_LIMIT
        return max(by_account, by_address - extra_for_an_address)

    def recent_failures(self, request, credentials=None) -> tuple[list, list]:
        """The failures within the cool-off against the login's account and against its
        address, newest first, as (time of the latest, number) per row: axes keeps one row per
        username, address and browser."""
        username = get_client_username(request, credentials)
        address = request.axes_ip_address
        mine = Q(ip_address=address) if username is None else Q(username=username)
        rows = (
            AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
            .filter(mine | Q(ip_address=address))
            .order_by("-attempt_time")
            .values_list("username", "ip_address", "attempt_time", "failures_since_start")
        )
        by_account, by_address = [], []
        for row_username, row_address, time, failures in rows:
            if username is not None and row_username == username:
                by_account.append((time, failures))
            if row_address == address:
                by_address.append((time, failures))
        return by_account, by_address

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        count, _by_model = AccessAttempt.objects.filter(username=username).delete()
        return count


def _lock_end(rows: list, limit: int) -> datetime.datetime | None:
    """When the row whose failures reach ``limit`` (counting from the newest) leaves the
    cool-off, and with it the lock; None when the rows stay below the limit."""
    total = 0
    for time, failures in rows:
        total += failures
        if total >= limit:
            return time + settings.AXES_COOLOFF_TIME
    return None


def locked_until(request: HttpRequest, credentials=None) -> datetime.datetime | None:
    """When the lock on this login (its account's, its address's, or both) ends; None when
    there is none."""
    AxesProxyHandler.update_request(request)
    by_account, by_address = LoginThrottleHandler().recent_failures(request, credentials)
    ends = [
        _lock_end(by_account, settings.AXES_FAILURE_LIMIT),
        _lock_end(by_address, settings.AXES_ADDRESS_FAILURE_LIMIT),
    ]
    return max((end for end in ends if end is not None), default=None)


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """The page a locked-out login gets: that logins are paused, and how long to wait (429).

    It says the same whether or not the password was right (it is not even checked), so it
    tells a guesser nothing about it.
    """
    until = locked_until(request, credentials)
    if until is None:  # lifted between the refusal and this page (staff): say the longest
        until = timezone.now() + settings.AXES_COOLOFF_TIME
    seconds = (until - timezone.now()).total_seconds()
    context = {"minutes": max(1, math.ceil(seconds / 60))}
    return render(request, "registration/locked_out.html", context, status=429)


@functools.cache
def _granted_names_sql() -> str:
    """SQL for the names ('app_label.codename', as ``has_perm`` asks for them) of the
    permissions of the user row in the outer query, its own and its roles', as an array.

    Written out because the ORM compiled the same subquery again on every request, most of
    `get_user`'s CPU (docs/benchmarks.md, issue 7, fourth round); the table and column names
    come from the models.
    """
    own = UserModel.user_permissions.through._meta
    roles = UserModel.groups.through._meta
    role_permissions = Group.permissions.through._meta
    q = connection.ops.quote_name
    user = f"{q(UserModel._meta.db_table)}.{q(UserModel._meta.pk.column)}"

    def column(meta, field: str) -> str:
        return q(meta.get_field(field).column)

    return f"""ARRAY(
        SELECT ct.app_label || '.' || p.codename
        FROM {q(Permission._meta.db_table)} p
        JOIN {q(ContentType._meta.db_table)} ct ON ct.id = p.content_type_id
        WHERE p.id IN (
            SELECT {column(own, "permission")} FROM {q(own.db_table)}
            WHERE {column(own, UserModel._meta.model_name)} = {user}
            UNION ALL
            SELECT gp.{column(role_permissions, "permission")}
            FROM {q(role_permissions.db_table)} gp
            JOIN {q(roles.db_table)} ug
              ON ug.{column(roles, "group")} = gp.{column(role_permissions, "group")}
            WHERE ug.{column(roles, UserModel._meta.model_name)} = {user}
        )
    )"""


def _with_permission_names(users: QuerySet) -> QuerySet:
    """``users``, each with ``permission_names``: the one definition of what a user may do."""
    # Built from the models' table names only: nothing in it comes from a request.
    return users.annotate(permission_names=RawSQL(_granted_names_sql(), ()))  # noqa: S611


@functools.cache
def _signed_in_user_sql() -> tuple[str, list[str]]:
    """The statement that reads a user by pk with ``permission_names`` (last), and the
    attribute names of the other columns, in order.

    The query of every signed-in request, so it is built once per process: through the ORM
    (``_with_permission_names(...).get(pk=...)``) compiling it took about three quarters of
    `get_user`'s CPU (0.74 against 0.16 ms a call, docs/benchmarks.md, issue 19).
    """
    q = connection.ops.quote_name
    meta = UserModel._meta
    table = q(meta.db_table)
    fields = meta.concrete_fields
    columns = ", ".join(f"{table}.{q(field.column)}" for field in fields)
    sql = (
        f"SELECT {columns}, {_granted_names_sql()} FROM {table} "
        f"WHERE {table}.{q(meta.pk.column)} = %s"
    )
    return sql, [field.attname for field in fields]


class RolePermissionBackend(ModelBackend):
    """Django's ModelBackend, with the signed-in user and their permissions read in one query.

    Nearly every page asks what the user may do (the role check, the buttons it shows), and
    ModelBackend reads the user, then their own permissions, then their groups' (roles')
    permissions, a query each. Here the user of a request comes with all of them; the result
    is cached on the user object for the request, as ModelBackend does.
    """

    def get_user(self, user_id):
        sql, names = _signed_in_user_sql()
        with connection.cursor() as cursor:
            cursor.execute(sql, [user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        user = UserModel.from_db(connection.alias, names, row[:-1])
        user.permission_names = row[-1]
        if not self.user_can_authenticate(user):
            return None
        # A superuser has every permission (`has_perm` does not look); the array, cheap to
        # read, is simply not used for them, and `get_all_permissions` lists all when asked.
        if not user.is_superuser:
            user._perm_cache = set(user.permission_names)
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.order_by().values_list(
                    "content_type__app_label", "codename"
                )
                names = [f"{app_label}.{codename}" for app_label, codename in rows]
            else:
                users = _with_permission_names(UserModel._default_manager.filter(pk=user_obj.pk))
                # A user row deleted meanwhile has no permissions left.
                names = users.values_list("permission_names", flat=True).first() or []
            user_obj._perm_cache = set(names)
        return user_obj._perm_cache
