from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import redirect
from django.template import loader
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm_site import draining
from crm_site.auth_backends import client_ip
from crm_site.throttle import password_reset_allowed


def home(request: HttpRequest) -> HttpResponse:
    return redirect("contacts:contact_list")


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Anonymous liveness check: is the database reachable? Nothing else is revealed. A server
    that is draining before it stops answers 503 too (crm_site/draining.py)."""
    if draining.draining():
        return JsonResponse({"draining": True}, status=503)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"database": "unreachable"}, status=503)
    return JsonResponse({"database": "ok"})


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, throttled per address and per account
    (`password_reset_allowed`). The answer is the same whether mails went out, the address
    has no account, or the throttle held them back: it never tells whether an account exists.
    """

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        if password_reset_allowed(address=client_ip(self.request), email=email):
            return super().form_valid(form)
        return HttpResponseRedirect(self.get_success_url())


class LogoutView(auth_views.LogoutView):
    """Django's logout, which then says so on the login page it goes to."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have been logged out."))
        return response


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without a link to one (the admin's, a JSON)."""
    return redirect(static("favicon.svg"), permanent=True)


# --- Error pages (crm_site/urls.py: handler400 ... handler500; settings.CSRF_FAILURE_VIEW) ------
# The site's layout in the user's language (LocaleMiddleware has chosen it by now), with ways
# back.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Django's own renders 400.html without the request, so without the menu.
    body = loader.render_to_string("400.html", request=request)
    return HttpResponseBadRequest(body)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    context = {"no_cookie": reason == REASON_NO_CSRF_COOKIE}
    return HttpResponseForbidden(loader.render_to_string("403_csrf.html", context, request))


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page without the database, which may be why it is shown: no request context
    (the signed-in user, messages and permissions all read the database), the menu shown
    anyway (``site_nav``)."""
    return HttpResponseServerError(loader.render_to_string("500.html", {"site_nav": True}))
