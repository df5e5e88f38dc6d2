"""Authentication backends: login throttling (django-axes' backend, and the client address it
counts failures for) and permissions read in one query."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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


def lockout_response(
    request: HttpRequest, original_response=None, credentials=None
) -> HttpResponse:
    """The page a locked-out login gets: what happened and when to try again (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)


def _permission_names(permissions):
    """'app_label.codename' of each permission, as ``has_perm`` asks for them."""
    return (
        permissions.annotate(perm=Concat("content_type__app_label", Value("."), "codename"))
        .values_list("perm", flat=True)
        .order_by()
    )


def _granted(user) -> QuerySet[Permission]:
    """The permissions ``user`` (an instance or an OuterRef) has, its own and its roles'."""
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).distinct()


class RolePermissionBackend(ModelBackend):
    """Django's ModelBackend, with the signed-in user and their permissions read in one query.

    Nearly every page asks what the user may do (the role check, the buttons it shows), and
    ModelBackend reads the user, then their own permissions, then their groups' (roles')
    permissions, a query each. Here the user of a request comes with all of them; the result
    is cached on the user object for the request, as ModelBackend does.
    """

    def get_user(self, user_id):
        users = UserModel._default_manager.annotate(
            permission_names=ArraySubquery(_permission_names(_granted(OuterRef("pk"))))
        )
        try:
            user = users.get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:  # a superuser has every permission, listed when asked
            user._perm_cache = set(user.permission_names)
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = _granted(user_obj)
            user_obj._perm_cache = set(_permission_names(permissions))
        return user_obj._perm_cache
