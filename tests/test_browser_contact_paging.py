"""Journey: page through the contact list with First, Previous, Next and Last (keyset links,
issue 19), filtered and sorted, in a real browser."""

import pytest
from playwright.sync_api import expect

from contacts import views
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contact_list_pages_by_first_previous_next_and_last(
    browser_login, live_server, owner, monkeypatch
):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    company = factories.CompanyFactory(name="Acme")
    for n in range(1, 6):
        factories.PersonFactory(number=f"P{n}", name=f"Person {n}", company=company)
    page = browser_login(owner)
    page.goto(f"{live_server.url}/contacts/?type=person")
    rows = page.locator("table.contacts tbody tr")
    pager = page.get_by_role("navigation", name="Pages")

    def shows(*expected):
        expect(rows).to_have_count(len(expected))
        for row, name in enumerate(expected):
            expect(rows.nth(row)).to_contain_text(name)

    expect(page.get_by_text("5 contacts")).to_be_visible()  # the kept total
    shows("Person 1", "Person 2")
    expect(pager.get_by_role("link", name="Previous")).to_have_count(0)
    pager.get_by_role("link", name="Next").click()
    shows("Person 3", "Person 4")
    pager.get_by_role("link", name="Last").click()
    shows("Person 4", "Person 5")
    expect(pager.get_by_role("link", name="Next")).to_have_count(0)
    pager.get_by_role("link", name="Previous").click()
    shows("Person 2", "Person 3")
    pager.get_by_role("link", name="First").click()
    shows("Person 1", "Person 2")

    # Sorting keeps the filter and starts over; the links keep both.
    page.get_by_role("link", name="No.").click()
    page.get_by_role("link", name="No.").click()  # descending
    shows("Person 5", "Person 4")
    pager.get_by_role("link", name="Next").click()
    shows("Person 3", "Person 2")
    expect(page).to_have_url(f"{live_server.url}/contacts/?type=person&sort=-number&after=P4")
