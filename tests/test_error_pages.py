"""Error pages (400, 403, 404, 500, CSRF failure): the site's layout with its menu, in the
user's language, with a way back; the 500 page without the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

MENU = 'aria-label="Main"'


def test_a_salesperson_on_a_manager_page_gets_the_403_page_in_the_layout(owner_client):
    response = owner_client.get(reverse("contacts:campaign_create"))

    html = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in html
    assert MENU in html
    assert 'href="/contacts/"' in html  # the way back


def test_a_deleted_segment_is_a_404_in_dutch_with_the_menu(owner_client, owner):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    url = segment.get_absolute_url()
    segment.delete()

    response = owner_client.get(url, HTTP_ACCEPT_LANGUAGE="nl")

    html = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="nl">' in html
    assert "<h1>Niet gevonden</h1>" in html
    assert "Contacten</a>" in html  # the menu
    assert "Naar Contacten" in html


def test_an_unknown_address_is_a_404_page_for_a_visitor_too(client):
    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.content.decode()
    assert MENU not in response.content.decode()  # no menu for someone not signed in


def test_a_bad_request_is_the_400_page(owner_client):
    response = owner_client.get(reverse("contacts:contact_list"), {"q": "a\x00b"})

    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in response.content.decode()


def test_a_form_sent_without_its_csrf_token_gets_the_expired_form_page(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(reverse("logout"), HTTP_ACCEPT_LANGUAGE="nl")

    html = response.content.decode()
    assert response.status_code == 403
    assert "<h1>Het formulier is verlopen</h1>" in html
    assert "Contacten</a>" in html  # the menu: the user is still signed in


def test_logging_out_says_so_on_the_login_page(owner_client):
    response = owner_client.post(reverse("logout"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert "You have been logged out." in response.content.decode()


def test_the_favicon_is_a_static_file_linked_from_every_page(owner_client):
    html = owner_client.get(reverse("contacts:contact_list")).content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert (settings.BASE_DIR / "static" / "favicon.svg").read_text().startswith("<svg")
    assert owner_client.get("/favicon.ico")["Location"] == "/static/favicon.svg"


# The 500 page must render when the database is the problem: a real Django process whose
# database does not answer, asked for a page by a signed-in browser (its session lives in
# the database), in Dutch.
UNREACHABLE = """
import json, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "a-session-the-database-would-know"
response = client.get("/contacts/", HTTP_ACCEPT_LANGUAGE="nl")
print(json.dumps({"status": response.status_code, "html": response.content.decode()}))
"""


def test_the_500_page_renders_without_the_database_in_the_users_language():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/nowhere",  # port 9: nothing listens
        "DEBUG": "False",
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
    }
    result = subprocess.run(
        [sys.executable, "-c", UNREACHABLE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    page = json.loads(result.stdout.splitlines()[-1])

    assert page["status"] == 500
    assert '<html lang="nl">' in page["html"]
    assert "<h1>Er ging iets mis</h1>" in page["html"]
    assert "Contacten</a>" in page["html"]  # the menu
    assert "Naar Contacten" in page["html"]  # the way back
    assert "connection" in result.stderr.lower()  # the error itself was logged
