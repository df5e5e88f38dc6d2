"""Journey: build a segment by criteria, create its interaction, personalise one line with another
template, log it with a follow-up segment, then see the logged segment, its entries and the
follow-up segment (issue 5)."""

import pytest
from playwright.sync_api import expect

from interactions.models import InteractionLogEntry
from segments.models import LoggedSegment, Segment
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_segment_from_criteria_to_logged_segment_and_follow_up_in_a_real_browser(
    browser_login, live_server, owner
):
    factories.MarketingSetupFactory()
    people = {
        name: factories.PersonFactory(
            first_name=name, surname="Haarlemmer", name=f"{name} Haarlemmer", city="Haarlem"
        )
        for name in ("Anna", "Bram", "Cees", "Dirk")
    }
    factories.PersonFactory(city="Leiden")  # not in the criteria
    factories.TemplateFactory(code="CALL", description="Phone call")
    letter = factories.TemplateFactory(code="LETTER", description="Letter")
    page = browser_login(owner)
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))

    # 1. A new segment, numbered from Segment Nos.
    page.goto(f"{live_server.url}/segments/")
    page.get_by_role("link", name="New Segment").click()
    page.get_by_label("Description").fill("Haarlem call round")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="SEG00001 Haarlem call round")).to_be_visible()

    # 2. Add Contacts by criteria: everyone in Haarlem.
    page.get_by_role("link", name="Add Contacts").click()
    page.get_by_label("City").fill("Haarlem")
    page.get_by_role("button", name="Add Contacts").click()
    expect(page.get_by_text("4 contacts added")).to_be_visible()
    lines = page.get_by_role("table", name="Lines").locator("tbody tr")
    expect(lines).to_have_count(4)

    # 3. Create Interaction on the segment: steps 1-3, then Finish assigns it to the lines.
    page.get_by_role("button", name="Create Interaction").click()
    expect(page.get_by_role("heading", name="Create Interaction")).to_be_visible()
    expect(page.get_by_label("Contact No.")).to_have_count(0)
    page.get_by_label("Interaction Template").select_option(label="CALL Phone call")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Related to")).to_be_visible()
    expect(page.get_by_text("the 4 lines that are not personalised")).to_be_visible()
    page.get_by_role("button", name="Finish").click()
    expect(
        page.get_by_text("Interaction CALL assigned to segment SEG00001: 4 lines follow.")
    ).to_be_visible()

    # 4. Personalise Bram's line with another template.
    page.get_by_role("link", name="Bram Haarlemmer: Personalise").click()
    page.get_by_label("Interaction template").select_option(label=str(letter))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The line for Bram Haarlemmer")).to_be_visible()
    bram = lines.filter(has_text="Bram Haarlemmer")
    expect(bram).to_contain_text("LETTER")
    expect(bram).to_contain_text("Personalised")

    # 5. Log it with a follow-up segment.
    page.get_by_role("link", name="Log", exact=True).click()
    expect(page.get_by_role("heading", name="Log Segment")).to_be_visible()
    page.get_by_label("Create Follow-up Segment").check()
    page.get_by_role("button", name="Log", exact=True).click()
    logged = LoggedSegment.objects.get()
    expect(page.get_by_role("heading", name=f"Logged Segment {logged.pk}")).to_be_visible()
    expect(
        page.get_by_text("Follow-up segment SEG00002 created with the same contacts.")
    ).to_be_visible()
    expect(page.locator(".stat").first).to_contain_text("4")

    # 6. Its entries: one per contact, Bram's with its own template.
    page.get_by_role("link", name="Interaction Log Entries").last.click()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.filter(has_text="Bram Haarlemmer")).to_contain_text("LETTER")
    for name in ("Anna", "Cees", "Dirk"):
        expect(rows.filter(has_text=f"{name} Haarlemmer")).to_contain_text("CALL")
    assert InteractionLogEntry.objects.filter(contact=people["Bram"]).get().template == letter

    # 7. The follow-up segment is on the Segments list with the same contacts.
    page.goto(f"{live_server.url}/segments/")
    expect(page.get_by_role("link", name="SEG00001", exact=True)).to_have_count(0)
    page.get_by_role("link", name="SEG00002").click()
    expect(
        page.get_by_role("heading", name="SEG00002 Follow-up on segment SEG00001")
    ).to_be_visible()
    follow_up = page.get_by_role("table", name="Lines").locator("tbody tr")
    expect(follow_up).to_have_count(4)
    for name in people:
        expect(follow_up.filter(has_text=f"{name} Haarlemmer")).to_have_count(1)
    assert Segment.objects.get(number="SEG00002").template is None
    assert errors == []
