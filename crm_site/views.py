from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
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
