"""Journey: page through a segment's lines with First, Previous, Next and Last (keyset links,
issue 19) in a real browser."""

import pytest
from playwright.sync_api import expect

from segments import views
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_segment_lines_page_by_first_previous_next_and_last(
    browser_login, live_server, owner, monkeypatch
):
    monkeypatch.setattr(views, "LINE_PAGE_SIZE", 2)
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    names = [f"Person {n}" for n in range(1, 6)]
    for name in names:
        factories.SegmentLineFactory(segment=segment, contact__name=name)
    page = browser_login(owner)
    page.goto(f"{live_server.url}{segment.get_absolute_url()}")
    rows = page.get_by_role("table", name="Lines").locator("tbody tr")
    pager = page.get_by_role("navigation", name="Pages")

    def shows(*expected):
        expect(rows).to_have_count(len(expected))
        for row, name in zip(range(len(expected)), expected, strict=True):
            expect(rows.nth(row)).to_contain_text(name)

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
    expect(page.get_by_text("5", exact=True).first).to_be_visible()  # No. of Lines, kept
