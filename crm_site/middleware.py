"""Request checks that apply to every view."""

from __future__ import annotations

import functools

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse


class RejectNulBytesMiddleware:
    """Answer 400 to a query string or form that carries a NUL byte.

    PostgreSQL cannot store or compare text with NUL in it: such a value would reach a query
    (a search, a filter, the wizard's JSON state) and fail there as a server error. Forms refuse
    NUL in their own fields already; this covers the parameters that views read directly. No
    person types a NUL, so refusing the whole request loses nothing.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            raise BadRequest("NUL bytes are not accepted.")  # the 400 page (handler400)
        return self.get_response(request)


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values)
               for key, values in data.lists())  # fmt: skip


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the site's policy written out once per process.

    django-csp builds the header from the settings again for every response (copying and
    joining every directive twice, for the policy and the report-only one: ~0.1 ms of CPU, more
    than any other middleware of a page). The site's policy is the same for every response: no
    view changes it and it holds no nonce. A response that asks for anything else (a view's
    own policy or exemption through django-csp's decorators, a nonce a template used, a header
    set by the view, DEBUG's error pages) goes through django-csp's own path.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or HEADER in response
            or HEADER_REPORT_ONLY in response
            or any(name in vars(response) for name in _PER_VIEW_POLICY)
        ):
            return super().process_response(request, response)
        for header, value, excluded in _site_policies():
            if value and not request.path_info.startswith(excluded):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


# What django-csp's decorators set on a response (csp/decorators.py).
_PER_VIEW_POLICY = tuple(
    f"_csp_{kind}{suffix}"
    for kind in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


@functools.cache
def _site_policies() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(header, policy, excluded path prefixes) for the policy and the report-only one, as
    django-csp builds them from the settings; "" for one that is not configured."""
    return tuple(
        (header, build_policy(report_only=report_only),
         tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()))
        for header, setting, report_only in (
            (HEADER, "CONTENT_SECURITY_POLICY", False),
            (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
        )
    )  # fmt: skip


@receiver(setting_changed)
def _forget_site_policies(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _site_policies.cache_clear()
