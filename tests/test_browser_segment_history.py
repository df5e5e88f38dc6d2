"""Journey (issue 17): build a segment by two criteria steps, Go Back once, save the criteria,
log the segment, then create a follow-up segment of those who did not answer."""

import pytest
from playwright.sync_api import expect

from interactions.models import InformationFlow, InitiatedBy
from segments import services
from segments.models import LoggedSegment, SavedCriteria, Segment
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_criteria_go_back_save_log_and_follow_up_of_those_who_did_not_answer(
    browser_login, live_server, manager
):
    factories.MarketingSetupFactory()
    people = {
        name: factories.PersonFactory(
            name=f"{name} Haarlemmer", city="Haarlem", language=language, company=None
        )
        for name, language in (("Anna", "nl"), ("Bram", "nl"), ("Cees", "en"), ("Dirk", "en"))
    }
    factories.PersonFactory(city="Leiden", company=None)
    call = factories.TemplateFactory(code="CALL", description="Phone call")
    page = browser_login(manager)
    page.on("dialog", lambda dialog: dialog.accept())  # Go Back asks first
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))

    # 1. A new segment, built by two criteria steps.
    page.goto(f"{live_server.url}/segments/")
    page.get_by_role("link", name="New Segment").click()
    page.get_by_label("Description").fill("Haarlem call round")
    page.get_by_role("button", name="Create").click()
    page.get_by_role("link", name="Add Contacts").click()
    page.get_by_label("City").fill("Haarlem")
    page.get_by_role("button", name="Add Contacts").click()
    expect(page.get_by_text("Step 1: 4 contacts added (City: Haarlem).")).to_be_visible()
    page.get_by_role("link", name="Reduce Contacts").click()
    page.get_by_role("main").get_by_label("Language").select_option(label="English")
    page.get_by_role("button", name="Reduce Contacts").click()
    expect(page.get_by_text("Step 2: 2 lines removed (Language: English).")).to_be_visible()
    lines = page.get_by_role("table", name="Lines").locator("tbody tr")
    expect(lines).to_have_count(2)
    history = page.get_by_role("table", name="Criteria history")
    expect(history.locator("tbody tr")).to_have_count(2)

    # 2. Go Back once: Cees and Dirk return, the history has one step left.
    page.get_by_role("button", name="Go Back").click()
    expect(
        page.get_by_text("Step 2 (Reduce Contacts) undone: 0 lines taken away, 2 lines put back.")
    ).to_be_visible()
    expect(lines).to_have_count(4)
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history).to_contain_text("City: Haarlem")

    # 3. Save the criteria.
    page.get_by_role("link", name="Save Criteria").click()
    page.get_by_label("Code").fill("HAARLEM")
    page.get_by_label("Description").fill("Everyone in Haarlem")
    page.get_by_role("button", name="Save Criteria").click()
    expect(page.get_by_text("are saved as HAARLEM")).to_be_visible()
    assert list(SavedCriteria.objects.get().steps.values_list("criteria", flat=True)) == [
        {"city": "Haarlem"}
    ]

    # 4. Log it (the interaction is assigned directly: the wizard has journeys of its own).
    segment = Segment.objects.get(number="SEG00001")
    services.segment_update(
        segment=segment,
        user=manager,
        data={
            "template": call,
            "interaction_description": "Phone call",
            "salesperson": factories.SalespersonFactory(),
        },
    )
    page.reload()
    page.get_by_role("link", name="Log", exact=True).click()
    page.get_by_role("button", name="Log", exact=True).click()
    expect(page.get_by_role("heading", name="Logged Segment")).to_be_visible()
    logged = LoggedSegment.objects.get()
    expect(page.get_by_role("heading", name=f"Logged Segment {logged.pk}")).to_be_visible()

    # 5. Bram answers; the follow-up is for those who did not.
    factories.LogEntryFactory(
        contact=people["Bram"],
        information_flow=InformationFlow.INBOUND,
        initiated_by=InitiatedBy.THEM,
    )
    page.get_by_role("link", name="Create Follow-up Segment").click()
    page.get_by_label("Those who did not answer since it was logged").check()
    page.get_by_role("button", name="Create Follow-up Segment").click()
    expect(
        page.get_by_text(
            "Follow-up segment SEG00002 created with 3 contacts "
            "(Those who did not answer since it was logged)."
        )
    ).to_be_visible()
    expect(
        page.get_by_role("heading", name="SEG00002 Follow-up on segment SEG00001")
    ).to_be_visible()
    follow_up = page.get_by_role("table", name="Lines").locator("tbody tr")
    expect(follow_up).to_have_count(3)
    expect(follow_up.filter(has_text="Bram")).to_have_count(0)
    expect(page.get_by_role("table", name="Criteria history")).to_contain_text(
        "Those who did not answer"
    )
    assert errors == []
