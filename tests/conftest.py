"""Shared fixtures: personas (owner, colleague, outsider, manager, staff) and logged-in clients."""

from __future__ import annotations

import os

import pytest

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
