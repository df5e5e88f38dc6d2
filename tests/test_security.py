"""CSRF on every state change, security headers, the HTTPS switch, login throttling, and
`check --deploy` with production settings (spec section 6, issue 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from crm_site.auth_backends import client_ip
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
    return settings.AXES_FAILURE_LIMIT


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


def test_failed_logins_lock_the_address_for_every_account(client, owner, limit):
    for number in range(limit - 1):
        assert attempt(client, f"guess{number}", address="203.0.113.5").status_code == 200
    assert attempt(client, "guess", address="203.0.113.5").status_code == 429

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


def test_failures_are_counted_in_the_database_that_every_app_server_shares(client, owner, limit):
    assert django_settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
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


def test_signed_in_users_keep_working_while_their_address_is_locked(owner_client, limit):
    for number in range(limit):
        attempt(Client(), f"guess{number}", address="127.0.0.1")
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
