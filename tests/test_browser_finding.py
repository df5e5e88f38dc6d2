"""Finding things in a real browser: the word search's examples, Reuse Segment's picker, the
opportunity filter with its links, and the error pages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def search(page, live_server, text: str) -> list[str]:
    page.goto(f"{live_server.url}{reverse('contacts:contact_list')}")
    page.get_by_role("searchbox").fill(text)
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    return page.locator("table.list tbody td.primary a").all_inner_texts()


def test_the_word_search_finds_a_word_inside_a_name_accents_ignored(
    browser_login, live_server, owner
):
    for name in ("Jansen & De Pauw BV", "Bauwens-Jansen", "Giraud Moreau S.A.S.",
                 "Glasses Oud Ootmarsum Groep", "Müller GmbH", "Zoud Holding"):  # fmt: skip
        factories.CompanyFactory(name=name, city="Zwolle", email="")
    factories.PersonFactory(
        name="Khadija Jansen", first_name="Khadija", surname="Jansen", company=None, email=""
    )
    page = browser_login(owner)

    assert search(page, live_server, "jansen") == [
        "Bauwens-Jansen",
        "Jansen & De Pauw BV",
        "Khadija Jansen",
    ]
    assert search(page, live_server, "moreau") == ["Giraud Moreau S.A.S."]
    assert search(page, live_server, "oud") == ["Glasses Oud Ootmarsum Groep"]
    assert search(page, live_server, "muller") == ["Müller GmbH"]
    assert search(page, live_server, "jansen pauw") == ["Jansen & De Pauw BV"]
    expect(page.get_by_text("1 contact", exact=True)).to_be_visible()


def test_reuse_segment_picks_a_logged_segment_from_a_searchable_list(
    browser_login, live_server, owner
):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    autumn = factories.LoggedSegmentFactory(description="Autumn fair invitations", entry_count=2)
    factories.LoggedSegmentFactory(description="Spring mailing", entry_count=5)
    for person in factories.PersonFactory.create_batch(2):
        factories.SegmentLineFactory(segment=autumn.segment, contact=person)
    page = browser_login(owner)

    page.goto(f"{live_server.url}{segment.get_absolute_url()}")
    page.get_by_role("link", name="Reuse Segment").click()
    expect(page.get_by_role("cell", name="Spring mailing")).to_be_visible()
    page.get_by_role("searchbox").fill("autumn")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("cell", name="Spring mailing")).to_have_count(0)
    page.get_by_role("button", name=f"Reuse {autumn.segment_no}").click()

    expect(page.get_by_text(f"2 contacts of logged segment {autumn.pk}")).to_be_visible()
    assert segment.lines.count() == 2


def test_an_opportunitys_log_entries_from_its_list_and_from_an_entry(
    browser_login, live_server, manager
):
    opportunity = factories.OpportunityFactory(number="OPP00004", description="New warehouse")
    campaign = factories.CampaignFactory(number="CAMP7")
    wanted = factories.LogEntryFactory(
        opportunity=opportunity, campaign=campaign, description="Quote for the warehouse"
    )
    factories.LogEntryFactory(description="Something else")
    page = browser_login(manager)

    page.goto(f"{live_server.url}{reverse('contacts:opportunity_list')}")
    page.get_by_role("link", name="Log entries", exact=True).click()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Quote for the warehouse")
    expect(page.locator(".filter-summary")).to_contain_text("OPP00004")

    page.get_by_role("link", name=str(wanted.pk), exact=True).click()
    page.get_by_role("link", name="CAMP7").click()
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}{reverse('interactions:entry_list')}?opportunity=OPP99999")
    expect(page.get_by_text("There is no opportunity OPP99999.")).to_be_visible()


def test_error_pages_keep_the_menu_and_the_language(browser, live_server, owner):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    url = segment.get_absolute_url()
    segment.delete()
    context = browser.new_context(locale="nl")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill(owner.username)
    page.locator("input[name=password]").fill(factories.PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state()

    response = page.goto(f"{live_server.url}{url}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Niet gevonden")).to_be_visible()
    expect(page.locator(".mainnav").get_by_role("link", name="Contacten")).to_be_visible()

    response = page.goto(f"{live_server.url}{reverse('contacts:campaign_create')}")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Niet toegestaan")).to_be_visible()
    page.get_by_role("link", name="Naar Contacten").click()
    expect(page.get_by_role("heading", name="Contacten")).to_be_visible()
    context.close()
