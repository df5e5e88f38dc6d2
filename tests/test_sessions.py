"""The session and the signed-in user of every request: each read with one statement written
once (crm_site/sessions.py, crm_site/auth_backends.py), with Django's checks unchanged."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from crm_site.sessions import SessionStore


def test_a_session_is_read_with_one_query(owner_client, django_assert_num_queries):
    key = owner_client.cookies[settings.SESSION_COOKIE_NAME].value
    with django_assert_num_queries(1):
        data = SessionStore(key).load()
    assert data["_auth_user_id"] == str(Session.objects.get(pk=key).get_decoded()["_auth_user_id"])


def test_a_page_reads_the_session_and_the_user_with_their_permissions_in_two_queries(
    owner_client, django_assert_num_queries
):
    # /healthz reads no session; the drafts page reads its own rows once (the list, one query).
    with django_assert_num_queries(3):
        assert owner_client.get(reverse("interactions:draft_list")).status_code == 200


def test_an_expired_session_signs_nobody_in_and_loses_its_key(owner_client):
    key = owner_client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(pk=key).update(expire_date=timezone.now() - datetime.timedelta(1))
    store = SessionStore(key)
    assert store.load() == {}
    assert store.session_key is None  # a new session gets a new key, never the old one

    response = owner_client.get(reverse("contacts:contact_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_or_forged_session_key_signs_nobody_in(client, owner):
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    response = client.get(reverse("contacts:contact_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_changed_password_ends_the_other_sessions(owner_client, owner):
    # Django's session hash check still runs on the user the backend reads.
    owner.set_password("another-long-password-1")
    owner.save()
    response = owner_client.get(reverse("contacts:contact_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_menu_follows_each_requests_language_and_page(owner_client):
    # The menu's HTML is kept per language and page (crm_site/templatetags/site_nav.py).
    pages = [
        ("contacts:contact_list", "en", "Contacts", "Interaction Log Entries"),
        ("contacts:contact_list", "nl", "Contacten", "Interactielogposten"),
        ("interactions:entry_list", "en", "Interaction Log Entries", "Contacts"),
        ("interactions:entry_list", "nl", "Interactielogposten", "Contacten"),
    ]
    for name, language, current, other in pages:
        html = owner_client.get(reverse(name), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert html.count(f'aria-current="page">{current}</a>') == 2, (name, language)
        assert html.count(f'aria-current="page">{other}</a>') == 0
        assert html.count(f">{other}</a>") >= 2
