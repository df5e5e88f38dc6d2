"""Shared fixtures: personas (owner, colleague, outsider, manager, staff) and logged-in clients."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from tests import factories

# Playwright's sync API runs an event loop in the test thread; Django's ORM must be allowed there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in Dutch leaves Dutch active in the
    thread (LocaleMiddleware activates, nothing deactivates), and a service called directly
    afterwards would answer in Dutch."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def owner(db):
    """A salesperson user linked to a salesperson record."""
    user = factories.SalespersonUserFactory(username="owner")
    factories.SalespersonFactory(code="OWN", name="Olivia Owner", user=user)
    return user


@pytest.fixture
def colleague(db):
    user = factories.SalespersonUserFactory(username="colleague")
    factories.SalespersonFactory(code="COL", name="Carl Colleague", user=user)
    return user


@pytest.fixture
def outsider(db):
    """Signed in, but holds no role at all."""
    return factories.UserFactory(username="outsider")


@pytest.fixture
def manager(db):
    return factories.ManagerUserFactory(username="manager")


@pytest.fixture
def staff(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(
        "staff", "staff@example.com", factories.PASSWORD
    )


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


# --- Browser tests ---------------------------------------------------------------------------
# Playwright drives the system Chromium; it cannot download browsers on these machines.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("CRM_REQUIRE_BROWSER") == "1"
_skipped_browser_tests: list[str] = []


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    if REQUIRE_BROWSER and browser_items:
        raise pytest.UsageError(
            f"CRM_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}: "
            f"{len(browser_items)} browser tests cannot run."
        )
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
    for item in browser_items:
        item.add_marker(skip)
        _skipped_browser_tests.append(item.nodeid)


def pytest_terminal_summary(terminalreporter):
    if _skipped_browser_tests:
        terminalreporter.section("BROWSER TESTS SKIPPED", sep="!", red=True, bold=True)
        for nodeid in _skipped_browser_tests:
            terminalreporter.write_line(f"skipped: {nodeid}", red=True)
        terminalreporter.write_line(
            "Install Chromium (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH, "
            "then run `make test` again.",
            red=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def browser_login(live_server, page):
    """Log ``user`` in through the real login form; returns the page."""

    def login(user, password=factories.PASSWORD):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page

    return login
