"""Request checks that apply to every view."""

from __future__ import annotations

from django.core.exceptions import BadRequest
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
