"""Authentication backends: login throttling (django-axes' backend, and the client address it
counts failures for) and permissions read in one query."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """The page a locked-out login gets: what happened and when to try again (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)


class RolePermissionBackend(ModelBackend):
    """Django's ModelBackend, with a user's permissions read in one query instead of two.

    Nearly every page asks what the user may do (the role check, the buttons it shows), and
    ModelBackend reads the user's own permissions and their groups' (roles') permissions with a
    query each. Here one query reads both; the result is cached on the user object for the
    request, as ModelBackend does.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(
                    Q(user=user_obj) | Q(group__user=user_obj)
                ).distinct()
            rows = permissions.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
