"""Login-only access, password change in the app, and password reset by email."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.test_faults import run_together

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a much longer secret 42"


def test_login_and_password_reset_pages_need_no_login(client):
    for name in ["login", "password_reset", "password_reset_done", "password_reset_complete"]:
        assert client.get(reverse(name)).status_code == 200, name


def test_password_change_needs_login(client):
    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_user_changes_the_password_in_the_app(owner, client):
    client.force_login(owner)

    page = client.get(reverse("password_change"))
    response = client.post(
        reverse("password_change"),
        {
            "old_password": factories.PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert client.get(response["Location"]).status_code == 200
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_password_change_with_a_wrong_old_password_shows_an_error(owner, client):
    client.force_login(owner)

    response = client.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    owner.refresh_from_db()
    assert owner.check_password(factories.PASSWORD)


def test_password_reset_sends_a_link_that_sets_a_new_password(owner, client):
    response = client.post(reverse("password_reset"), {"email": owner.email})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [owner.email]
    assert "Reset your CRM password" in message.subject
    assert "\n" not in message.subject
    assert "Hello owner," in message.body
    link = re.search(r"https?://testserver(/accounts/reset/\S+)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"] is True
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


def test_a_used_or_forged_reset_link_says_it_is_no_longer_valid(client):
    response = client.get(
        reverse("password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad-token"})
    )

    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "Link No Longer Valid" in response.content.decode()


def test_logging_out_ends_the_session(owner, client):
    client.force_login(owner)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert client.get(reverse("contacts:contact_list")).status_code == 302


def test_logged_out_page_renders(rf):
    request = rf.get("/")
    request.user = AnonymousUser()

    html = render_to_string("registration/logged_out.html", request=request)

    assert "You are logged out." in html


# --- password reset throttle --------------------------------------------------------------------

OFFICE = "203.0.113.30"


def reset(email: str, address: str = OFFICE):
    """A reset request from ``address``, as a fresh browser (another app server, even)."""
    return Client().post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def answer(response) -> tuple:
    """What the requester learns: the status, where it leads, and that page."""
    return response.status_code, response["Location"], Client().get(response["Location"]).content


def test_one_account_gets_at_most_its_limit_of_reset_mails_however_many_addresses_ask(
    owner, settings
):
    limit = settings.PASSWORD_RESET_ACCOUNT_LIMIT
    answers = [reset(owner.email, address=f"192.0.2.{n + 1}") for n in range(limit + 5)]

    assert len(mail.outbox) == limit
    assert len({answer(response) for response in answers}) == 1


def test_one_address_gets_at_most_its_limit_of_reset_mails_sent(settings):
    limit = settings.PASSWORD_RESET_ADDRESS_LIMIT
    users = factories.UserFactory.create_batch(limit + 3)

    answers = [reset(user.email) for user in users]

    assert len(mail.outbox) == limit
    assert [message.to for message in mail.outbox] == [[u.email] for u in users[:limit]]
    assert len({answer(response) for response in answers}) == 1


def test_the_answer_is_the_same_for_a_known_an_unknown_and_a_throttled_address(owner, settings):
    known = reset(owner.email)
    unknown = reset("nobody@example.com")
    for _ in range(settings.PASSWORD_RESET_ACCOUNT_LIMIT):
        throttled = reset(owner.email)

    assert len(mail.outbox) == settings.PASSWORD_RESET_ACCOUNT_LIMIT
    assert answer(known) == answer(unknown) == answer(throttled)


def test_requests_refused_for_the_address_do_not_use_up_the_accounts_mails(owner, settings):
    for number in range(settings.PASSWORD_RESET_ADDRESS_LIMIT):
        reset(f"nobody{number}@example.com")
    for _ in range(settings.PASSWORD_RESET_ACCOUNT_LIMIT + 2):
        reset(owner.email)  # refused: the address is at its limit
    assert mail.outbox == []

    reset(owner.email, address="198.51.100.30")

    assert [message.to for message in mail.outbox] == [[owner.email]]


def test_the_limit_holds_for_the_account_whatever_the_case_of_the_address(owner, settings):
    spellings = [owner.email.upper(), owner.email.title(), owner.email]
    for number in range(settings.PASSWORD_RESET_ACCOUNT_LIMIT + 3):
        reset(spellings[number % 3], address=f"192.0.2.{number + 1}")

    assert len(mail.outbox) == settings.PASSWORD_RESET_ACCOUNT_LIMIT


@pytest.mark.django_db(transaction=True)
def test_requests_at_the_same_moment_still_send_at_most_the_limit(settings):
    """Two app servers at once: the count is one row updated under its lock."""
    user = factories.UserFactory(username="racer")
    requests = settings.PASSWORD_RESET_ACCOUNT_LIMIT + 5

    errors = run_together(
        *[lambda n=n: reset(user.email, address=f"192.0.2.{n + 1}") for n in range(requests)]
    )

    assert errors == []
    assert len(mail.outbox) == settings.PASSWORD_RESET_ACCOUNT_LIMIT
