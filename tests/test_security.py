"""CSRF on every state change, security headers, the HTTPS switch, login throttling, and
`check --deploy` with production settings (issue 7, docs/security.md)."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from csp import constants as csp_constants
from csp.decorators import csp_exempt, csp_update
from csp.exceptions import CSPNonceError
from csp.utils import build_policy
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from crm_site.auth_backends import client_ip
from crm_site.middleware import ContentSecurityPolicyMiddleware
from tests import factories
from tests.database import subprocess_database_url
from tests.test_login_required import ALL
from tests.test_permissions import BOUNDARIES, DRAFT_OWNER, SEGMENT_OWNER, snapshot, url_for
from tests.test_permissions import world as world  # the fixture, shared

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent

# --- CSRF -----------------------------------------------------------------------------------------

# Every URL of the app, the public ones too (login, logout, password reset).
POSTABLE = sorted(
    name for name, pattern in ALL if name not in {"password_reset_confirm", "password_reset_done"}
)


@pytest.mark.parametrize("name", POSTABLE)
def test_a_post_without_the_csrf_token_is_refused_everywhere(world, owner, manager, name):
    """A forged cross-site form (no token) changes nothing, whoever is signed in."""
    client = Client(enforce_csrf_checks=True)
    rule = BOUNDARIES.get(name)
    client.force_login(owner if rule in (DRAFT_OWNER, SEGMENT_OWNER) else manager)
    target = url_for(name, world) if name in BOUNDARIES else reverse(name)
    before = snapshot()

    response = client.post(target, {"entry": [world["entry"].pk], "confirm": "1", "choice": "no"})

    assert response.status_code == 403, (name, response.status_code)
    assert b"CSRF" in response.content
    assert snapshot() == before


def test_a_post_with_the_csrf_token_goes_through(world, manager):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    page = client.get(reverse("contacts:contact_create"))
    token = page.context["csrf_token"]

    response = client.post(
        reverse("contacts:contact_create"),
        {"csrfmiddlewaretoken": str(token), "type": "company", "name": "Forms Ltd"},
    )

    assert response.status_code == 302, response.context["form"].errors


def test_login_itself_needs_the_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "owner", "password": factories.PASSWORD})
    assert response.status_code == 403


# --- headers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/contacts/", "/interactions/entries/", "/healthz"]
)
def test_every_answer_carries_the_security_headers(owner_client, path):
    response = owner_client.get(path)

    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_templates_hold_no_inline_script_or_style():
    """The CSP forbids inline code; a template that used some would break in the browser."""
    markers = ("<script>", "style=", " onclick=", " onchange=", " onsubmit=", "<style")
    offenders = [
        f"{template.relative_to(BASE_DIR)}: {marker}"
        for template in (BASE_DIR / "templates").rglob("*.html")
        for marker in markers
        if marker in template.read_text()
    ]
    assert offenders == []


def test_session_cookie_is_http_only_and_same_site(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": factories.PASSWORD})
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def production_environment(**env) -> dict:
    """This process's environment without what the test run adds, plus ``env``."""
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**base, "DATABASE_URL": subprocess_database_url(), **env}


def production_settings(**env) -> dict:
    """Settings as a production process computes them from its environment."""
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ("
        "'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER', "
        "'DEBUG', 'SESSION_COOKIE_HTTPONLY')}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=production_environment(DJANGO_SETTINGS_MODULE="crm_site.settings", **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_https_switch_turns_on_hsts_secure_cookies_and_the_redirect():
    plain = production_settings(HTTPS="false")
    https = production_settings(HTTPS="true", BEHIND_PROXY="true")

    assert plain["SECURE_SSL_REDIRECT"] is False
    assert plain["SESSION_COOKIE_SECURE"] is False
    assert plain["SECURE_HSTS_SECONDS"] == 0
    assert https["SECURE_SSL_REDIRECT"] is True
    assert https["SESSION_COOKIE_SECURE"] is True
    assert https["CSRF_COOKIE_SECURE"] is True
    assert https["SECURE_HSTS_SECONDS"] >= 31536000
    assert https["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert https["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert https["DEBUG"] is False
    assert https["SESSION_COOKIE_HTTPONLY"] is True


def test_with_https_on_plain_http_is_redirected_and_https_answers_carry_hsts(settings, owner):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()  # a new client loads the middleware with these settings

    plain = client.get("/accounts/login/")
    secure = client.get("/accounts/login/", secure=True)
    login = client.post(
        "/accounts/login/",
        {"username": "owner", "password": factories.PASSWORD},
        secure=True,
    )

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/"
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert login.cookies[django_settings.SESSION_COOKIE_NAME]["secure"]
    assert secure.cookies[django_settings.CSRF_COOKIE_NAME]["secure"]


def test_with_https_healthz_answers_plain_http_and_every_other_path_is_redirected():
    """A load balancer probes /healthz over plain HTTP without X-Forwarded-Proto; a
    production process (HTTPS and BEHIND_PROXY from its environment) answers it."""
    code = (
        "import json, django; django.setup(); from django.test import Client; "
        "client = Client(headers={'host': 'crm.example.com'}); "
        "answers = {p: client.get(p) for p in ('/healthz', '/healthz/', '/accounts/login/', "
        "'/contacts/', '/admin/')}; "
        "print(json.dumps({p: [r.status_code, r.get('Location'), r.content.decode()] "
        "for p, r in answers.items()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=production_environment(
            DJANGO_SETTINGS_MODULE="crm_site.settings",
            HTTPS="true",
            BEHIND_PROXY="true",
            ALLOWED_HOSTS="crm.example.com",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers = json.loads(result.stdout)

    assert answers.pop("/healthz") == [200, None, '{"database": "ok"}']
    for path, (status, location, _body) in answers.items():
        assert (status, location) == (301, f"https://crm.example.com{path}")


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_environment(
            DEBUG="false",
            HTTPS="true",
            SECRET_KEY="a-long-random-production-secret-key-for-the-deploy-check-0123456789",
            ALLOWED_HOSTS="crm.example.com",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- login throttling -----------------------------------------------------------------------------


WRONG = "wrong password"


def attempt(client, username, password=WRONG, address="192.0.2.10", **extra):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


@pytest.fixture
def limit(settings):
    """Failures that lock an account (from any address)."""
    return settings.AXES_FAILURE_LIMIT


@pytest.fixture
def address_limit(settings):
    """Failures that lock an address (for any account): more, as an office shares one."""
    return settings.AXES_ADDRESS_FAILURE_LIMIT


OFFICE = "203.0.113.20"  # everyone behind the office's NAT
HOME = "198.51.100.20"


def guess_from(address: str, failures: int, per_username: int) -> list[int]:
    """A guesser's wrong passwords for made-up usernames, ``per_username`` each; the answers."""
    return [
        attempt(Client(), f"ghost{number // per_username}", address=address).status_code
        for number in range(failures)
    ]


def test_the_address_limit_is_higher_than_the_account_limit(limit, address_limit):
    assert address_limit > limit


def test_a_guesser_locking_a_made_up_account_leaves_the_office_logging_in(client, owner, limit):
    """The issue's office: one guesser, a made-up username, colleagues behind the same NAT."""
    answers = [attempt(Client(), "madeup", address=OFFICE).status_code for _ in range(limit)]
    assert answers == [200] * (limit - 1) + [429]  # the made-up account is locked, not the office

    # A colleague behind the same address types her correct password, again and again.
    for _ in range(limit):
        colleague = Client()
        assert attempt(colleague, "owner", factories.PASSWORD, address=OFFICE).status_code == 302
        assert colleague.session["_auth_user_id"] == str(owner.pk)
    assert not AccessAttempt.objects.filter(username="owner").exists()


def test_logins_refused_because_the_address_is_locked_never_count_against_the_account(
    owner, limit, address_limit
):
    answers = guess_from(OFFICE, address_limit, per_username=limit - 1)
    assert answers[-1] == 429  # the office's address is locked now

    for _ in range(limit + 1):  # her correct password, refused while the address is locked
        refused = attempt(Client(), "owner", factories.PASSWORD, address=OFFICE)
        assert refused.status_code == 429
        assert b"Try again in 15 minutes" in refused.content

    assert not AccessAttempt.objects.filter(username="owner").exists()
    # Her account is not locked: from home she logs in at once.
    assert attempt(Client(), "owner", factories.PASSWORD, address=HOME).status_code == 302


@pytest.mark.parametrize(
    ("language", "wait"),
    [("en", "Try again in 5 minutes."), ("nl", "Probeer het over 5 minuten opnieuw.")],
)
def test_a_locked_out_user_with_the_right_password_sees_how_long_to_wait(
    owner, limit, language, wait
):
    for number in range(limit):
        attempt(Client(), "owner", address=f"192.0.2.{number + 1}")
    # The lock began ten minutes ago (of its 15).
    AccessAttempt.objects.filter(username="owner").update(
        attempt_time=timezone.now() - datetime.timedelta(minutes=10)
    )
    before = list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time"))

    locked = attempt(
        Client(), "owner", factories.PASSWORD, address=HOME, HTTP_ACCEPT_LANGUAGE=language
    )

    assert locked.status_code == 429
    assert wait in locked.content.decode()
    # A refused login neither counts nor pushes the end of the lock further away.
    assert list(AccessAttempt.objects.values_list("failures_since_start", "attempt_time")) == before


def test_failed_logins_lock_the_account_from_any_address(client, owner, limit):
    for number in range(limit - 1):
        address = f"192.0.2.{number + 1}"
        assert attempt(client, "owner", address=address).status_code == 200
    assert attempt(client, "owner", address="192.0.2.99").status_code == 429  # the limit-th

    # The right password, from a fresh address: still refused while the account is locked.
    locked = attempt(client, "owner", factories.PASSWORD, address="198.51.100.7")

    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert b"Try again in 15 minutes" in locked.content
    assert "_auth_user_id" not in client.session
    # Another account from the same addresses is not affected.
    factories.SalespersonUserFactory(username="other")
    other = attempt(client, "other", factories.PASSWORD, address="198.51.100.7")
    assert other.status_code == 302


def test_failed_logins_lock_the_address_for_every_account(client, owner, limit, address_limit):
    answers = guess_from("203.0.113.5", address_limit, per_username=limit - 1)
    assert answers == [200] * (address_limit - 1) + [429]

    locked = attempt(client, "owner", factories.PASSWORD, address="203.0.113.5")
    elsewhere = attempt(Client(), "owner", factories.PASSWORD, address="203.0.113.6")

    assert locked.status_code == 429
    assert elsewhere.status_code == 302


def test_a_successful_login_clears_the_accounts_failures(client, owner, limit):
    for _ in range(limit - 1):
        attempt(client, "owner", address="192.0.2.50")
    assert attempt(client, "owner", factories.PASSWORD, address="192.0.2.51").status_code == 302
    client.logout()
    for _ in range(limit - 1):
        attempt(client, "owner", address="192.0.2.52")

    assert attempt(client, "owner", factories.PASSWORD, address="192.0.2.53").status_code == 302


def test_a_successful_login_clears_the_accounts_failures_but_not_the_addresss(
    owner, limit, address_limit
):
    guess_from(OFFICE, address_limit - 1, per_username=limit - 1)
    assert attempt(Client(), "owner", factories.PASSWORD, address=OFFICE).status_code == 302

    # Logging in with one's own account does not wipe a guesser's count at the same address.
    assert attempt(Client(), "ghost-last", address=OFFICE).status_code == 429


def test_failures_are_counted_in_the_database_that_every_app_server_shares(client, owner, limit):
    handler = import_string(django_settings.AXES_HANDLER)
    assert issubclass(handler, AxesDatabaseHandler)
    for _ in range(limit):
        attempt(client, "owner", address="192.0.2.60")

    assert AccessAttempt.objects.filter(username="owner").exists()
    # A second app server is another process with its own client: the same database says no.
    assert attempt(Client(), "owner", factories.PASSWORD, address="192.0.2.61").status_code == 429


def test_the_admin_login_is_throttled_too(client, staff, limit):
    for _ in range(limit):
        client.post(
            reverse("admin:login"),
            {"username": "staff", "password": "nope"},
            REMOTE_ADDR="192.0.2.70",
        )
    response = client.post(
        reverse("admin:login"),
        {"username": "staff", "password": factories.PASSWORD},
        REMOTE_ADDR="192.0.2.71",
    )
    assert response.status_code == 429


def test_signed_in_users_keep_working_while_their_address_is_locked(
    owner_client, limit, address_limit
):
    assert guess_from("127.0.0.1", address_limit, per_username=limit - 1)[-1] == 429
    assert owner_client.get(reverse("contacts:contact_list")).status_code == 200


def test_behind_a_proxy_the_client_is_the_address_the_proxy_appended(rf, settings):
    settings.BEHIND_PROXY = True
    settings.PROXY_COUNT = 1
    spoofed = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 192.0.2.99", REMOTE_ADDR="10.0.0.1")
    direct = rf.get("/", REMOTE_ADDR="10.0.0.1")
    assert client_ip(spoofed) == "192.0.2.99"
    assert client_ip(direct) == "10.0.0.1"
    settings.BEHIND_PROXY = False
    assert client_ip(spoofed) == "10.0.0.1"


def test_without_a_request_authenticate_still_works(owner):
    """`Client.login` and shells call authenticate() without a request: nothing to throttle."""
    assert Client().login(username="owner", password=factories.PASSWORD)


# --- the policy header written once per process (crm_site.middleware) ---------------------------


def _csp_answer(rf, view, path="/contacts/"):
    request = rf.get(path)
    middleware = ContentSecurityPolicyMiddleware(view)
    return request, middleware(request)


def _page(request):
    return HttpResponse("page")


def test_the_policy_header_is_the_one_django_csp_builds(owner_client):
    response = owner_client.get(reverse("contacts:contact_list"))
    assert response["Content-Security-Policy"] == build_policy()
    assert "Content-Security-Policy-Report-Only" not in response


def test_a_changed_policy_setting_changes_the_header(rf):
    _request, before = _csp_answer(rf, _page)
    policy = {"DIRECTIVES": {"default-src": [csp_constants.SELF, "cdn.example.com"]}}
    with override_settings(
        CONTENT_SECURITY_POLICY=policy, CONTENT_SECURITY_POLICY_REPORT_ONLY=policy
    ):
        _request, during = _csp_answer(rf, _page)
    _request, after = _csp_answer(rf, _page)

    assert during["Content-Security-Policy"] == "default-src 'self' cdn.example.com"
    assert during["Content-Security-Policy-Report-Only"] == "default-src 'self' cdn.example.com"
    assert before["Content-Security-Policy"] == after["Content-Security-Policy"] == build_policy()
    assert "Content-Security-Policy-Report-Only" not in after


def test_a_view_that_changes_the_policy_or_is_exempt_gets_what_it_asked_for(rf):
    _request, updated = _csp_answer(rf, csp_update({"img-src": "images.example.com"})(_page))
    _request, exempt = _csp_answer(rf, csp_exempt()(_page))

    assert "img-src 'self' data: images.example.com" in updated["Content-Security-Policy"]
    assert "Content-Security-Policy" not in exempt


def test_a_header_the_view_wrote_is_kept(rf):
    def view(request):
        response = HttpResponse("page")
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    _request, response = _csp_answer(rf, view)
    assert response["Content-Security-Policy"] == "default-src 'none'"


def test_a_nonce_a_template_used_is_in_the_header_and_none_can_be_asked_after_it(rf):
    def view(request):
        return HttpResponse(f'<script nonce="{request.csp_nonce}"></script>')

    policy = {"DIRECTIVES": {"script-src": [csp_constants.SELF, csp_constants.NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        request, response = _csp_answer(rf, view)
        nonce = request._csp_nonce
        assert f"script-src 'self' 'nonce-{nonce}'" in response["Content-Security-Policy"]

        request, response = _csp_answer(rf, _page)
        with pytest.raises(CSPNonceError):
            str(request.csp_nonce)
