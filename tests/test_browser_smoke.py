"""A real browser signs in and moves around; no console errors (e.g. CSP violations)."""

import pytest

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_salesperson_signs_in_and_opens_a_contact_card(browser_login, live_server, owner):
    person = factories.PersonFactory(name="Petra Pieters", first_name="Petra", surname="Pieters")
    factories.LogEntryFactory(contact=person)
    page = browser_login(owner)
    console_errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))

    page.goto(f"{live_server.url}/contacts/?q=Petra")
    page.get_by_role("link", name="Petra Pieters").first.click()

    assert page.get_by_role("heading", name="Petra Pieters").is_visible()
    assert page.locator("main").get_by_text(person.number).first.is_visible()
    assert console_errors == []


def test_anonymous_visitor_is_sent_to_the_login_page(live_server, page):
    page.goto(f"{live_server.url}/contacts/")
    assert "/accounts/login/" in page.url
    assert page.get_by_role("button", name="Log in").is_visible()
