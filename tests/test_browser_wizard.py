"""Journey: Create Interaction from a contact card, postpone a second one, resume it, finish."""

import pytest
from playwright.sync_api import expect

from interactions.models import DraftStatus, InteractionDraft, InteractionLogEntry
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_postpone_resume_and_finish_in_a_real_browser(
    browser_login, live_server, owner, context
):
    person = factories.PersonFactory(first_name="Mila", surname="Maas", name="Mila Maas")
    factories.TemplateFactory(code="CALL", description="Phone call")
    factories.TemplateFactory(code="MEET", description="Meeting")
    page = browser_login(owner)
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))

    # 1. From the contact card: the whole wizard, Finish.
    page.goto(f"{live_server.url}{person.get_absolute_url()}")
    page.get_by_role("link", name="Create Interaction").click()
    expect(page.get_by_role("heading", name="Create Interaction")).to_be_visible()
    page.get_by_label("Interaction Template").select_option(label="CALL Phone call")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Related to")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Result")).to_be_visible()
    page.get_by_label("Description").fill("Discussed the renewal")
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_text("Interaction logged as entry")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Phone call")

    # 2. A second one: cancel on the Related step and save it for later.
    page.get_by_role("link", name="Create Interaction").click()
    page.get_by_label("Interaction Template").select_option(label="MEET Meeting")
    page.get_by_label("Description").fill("Visit at their office")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Do you want to finish this interaction later?")).to_be_visible()
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_role("heading", name="Postponed Interactions")).to_be_visible()
    assert InteractionDraft.objects.get(status=DraftStatus.POSTPONED).description == (
        "Visit at their office"
    )

    # 3. Resume it from Postponed Interactions in a new page; it opens on the saved step.
    resumed = context.new_page()
    resumed.goto(f"{live_server.url}/interactions/drafts/")
    resumed.get_by_role("link", name="Resume").click()
    expect(resumed.get_by_role("heading", name="Related to")).to_be_visible()
    resumed.get_by_role("button", name="Next").click()
    expect(resumed.get_by_label("Description")).to_have_value("Visit at their office")
    resumed.get_by_role("button", name="Finish").click()

    # 4. Both entries are in the contact's history; the draft left the list.
    history = resumed.locator("main")
    expect(history).to_contain_text("Phone call")
    expect(history).to_contain_text("Meeting")
    assert InteractionLogEntry.objects.filter(contact=person).count() == 2
    resumed.goto(f"{live_server.url}/interactions/drafts/")
    expect(resumed.get_by_text("You have no postponed interactions")).to_be_visible()
    assert errors == []
