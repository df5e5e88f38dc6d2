"""Journeys through Create Interaction in a real browser: create, postpone, resume and finish; a
contact typed by name; content that follows the template; attachments; Postponed Interactions."""

import pytest
from django.urls import reverse
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
    page.get_by_role("button", name="Create Interaction").click()
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
    page.get_by_role("button", name="Create Interaction").click()
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


@pytest.fixture
def no_script_page(browser, live_server):
    """A page of a browser with JavaScript switched off, signed in as ``user``."""
    contexts = []

    def open_as(user):
        context = browser.new_context(java_script_enabled=False)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_a_contact_typed_by_name_without_javascript(no_script_page, live_server, owner):
    company = factories.CompanyFactory(name="Hudson Ltd")
    factories.PersonFactory(name="Aimee Hudson", company=company, city="Delft")
    gouda = factories.PersonFactory(name="Aimee Hudson", company=company, city="Gouda")
    factories.TemplateFactory(code="CALL", description="Phone call")
    page = no_script_page(owner)

    page.goto(f"{live_server.url}/interactions/entries/")
    page.get_by_role("button", name="Create Interaction").click()
    contact = page.get_by_label("Contact No.")
    expect(contact).to_have_attribute("placeholder", "Type a name or number")
    contact.fill("Aimee Hudson")
    page.get_by_label("Interaction Template").select_option(label="CALL Phone call")
    page.get_by_role("button", name="Next").click()

    # Two match: the step comes back with both to choose from.
    expect(page.get_by_text("Several contacts match")).to_be_visible()
    choices = page.get_by_role("radio")
    expect(choices).to_have_count(2)
    page.get_by_role("radio", name=f"Aimee Hudson {gouda.number} · Hudson Ltd · Gouda").check()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Related to")).to_be_visible()
    assert InteractionDraft.objects.get().contact == gouda

    # Back on step 1 the contact is shown by its number.
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Contact No.")).to_have_value(gouda.number)


def test_postponed_interactions_say_what_each_draft_is_about(
    browser_login, live_server, owner, context
):
    segment = factories.SegmentFactory(
        number="SEG00042", description="Spring mailing", created_by=owner
    )
    page = browser_login(owner)
    # A segment's Create Interaction, postponed at once.
    page.goto(f"{live_server.url}{segment.get_absolute_url()}")
    page.get_by_role("button", name="Create Interaction").click()
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Yes").click()
    # One from the entry list, before a contact was chosen.
    page.goto(f"{live_server.url}/interactions/entries/")
    page.get_by_role("button", name="Create Interaction").click()
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Yes").click()

    expect(page.get_by_role("heading", name="Postponed Interactions")).to_be_visible()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="SEG00042")).to_contain_text("Segment SEG00042 Spring mailing")
    expect(rows.filter(has_text="no contact yet")).to_have_count(1)


WORDS = {
    "en": {
        "username": "Username",
        "password": "Password",
        "log_in": "Log in",
        "create": "Create Interaction",
        "template": "Interaction Template",
        "body": "Body",
        "next": "Next",
        "back": "Back",
        "finish": "Finish",
        "kept": "You edited this text; it was kept.",
        "reset": "Reset to the template's text",
        "logged": "Interaction logged as entry",
    },
    "nl": {
        "username": "Gebruikersnaam",
        "password": "Wachtwoord",
        "log_in": "Aanmelden",
        "create": "Interactie maken",
        "template": "Interactiesjabloon",
        "body": "Berichttekst",
        "next": "Volgende",
        "back": "Terug",
        "finish": "Voltooien",
        "kept": "U hebt deze tekst bewerkt; hij is behouden.",
        "reset": "Terug naar de tekst van het sjabloon",
        "logged": "Interactie geregistreerd als post",
    },
}


@pytest.mark.parametrize("language", ["en", "nl"])
def test_content_follows_the_template_until_edited(browser, live_server, owner, language):
    words = WORDS[language]
    person = factories.PersonFactory(name="Pia Peters", language=language)
    for code in ("INTRO", "FOLLOW"):
        template = factories.TemplateFactory(
            code=code, description=code.title(), correspondence_type="email"
        )
        # Each template speaks the contact's language; the default variant is never shown.
        factories.TemplateContentFactory(template=template, subject="-", body=f"{code} default")
        factories.TemplateContentFactory(
            template=template,
            language=language,
            subject=f"{code} {language}",
            body=f"{code} {language}, line 1\n{code} {language}, line 2",
        )
    context = browser.new_context(locale="nl-NL" if language == "nl" else "en-GB")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(words["username"]).fill(owner.username)
    page.get_by_label(words["password"]).fill(factories.PASSWORD)
    page.get_by_role("button", name=words["log_in"]).click()
    page.goto(f"{live_server.url}{person.get_absolute_url()}")
    page.get_by_role("button", name=words["create"]).click()
    template = page.get_by_label(words["template"])
    body = page.get_by_label(words["body"])

    # INTRO, Next, Back, FOLLOW, Next: the text follows.
    template.select_option(label="INTRO Intro")
    page.get_by_role("button", name=words["next"]).click()
    expect(body).to_have_value(f"INTRO {language}, line 1\nINTRO {language}, line 2")
    page.get_by_role("button", name=words["back"]).click()
    template.select_option(label="FOLLOW Follow")
    page.get_by_role("button", name=words["next"]).click()
    expect(body).to_have_value(f"FOLLOW {language}, line 1\nFOLLOW {language}, line 2")
    expect(page.get_by_text(words["kept"])).to_have_count(0)

    # Edited, Back, INTRO, Next: the edit is kept and the step says so; Reset brings INTRO's.
    body.fill("My own words")
    page.get_by_role("button", name=words["back"]).click()
    template.select_option(label="INTRO Intro")
    page.get_by_role("button", name=words["next"]).click()
    expect(body).to_have_value("My own words")
    expect(page.get_by_text(words["kept"])).to_be_visible()
    page.get_by_role("button", name=words["reset"]).click()
    expect(body).to_have_value(f"INTRO {language}, line 1\nINTRO {language}, line 2")
    expect(page.get_by_text(words["kept"])).to_have_count(0)

    for _step in ("content", "related"):
        page.get_by_role("button", name=words["next"]).click()
    page.get_by_role("button", name=words["finish"]).click()
    expect(page.get_by_text(words["logged"])).to_be_visible()
    entry = InteractionLogEntry.objects.get()
    assert (entry.template.code, entry.subject) == ("INTRO", f"INTRO {language}")
    assert entry.body.replace("\r\n", "\n") == f"INTRO {language}, line 1\nINTRO {language}, line 2"
    context.close()


def test_an_attachment_stays_visible_and_can_be_removed_and_replaced(
    browser_login, live_server, owner, tmp_path
):
    person = factories.PersonFactory(name="Pia Peters")
    template = factories.TemplateFactory(
        code="MAIL", description="Mail", correspondence_type="email"
    )
    factories.TemplateContentFactory(template=template, subject="Offer", body="Our offer")
    first = tmp_path / "Offer 2026 (draft).txt"
    first.write_text("draft offer")
    second = tmp_path / "Offer 2026 (final).txt"
    second.write_text("final offer")
    page = browser_login(owner)
    page.goto(f"{live_server.url}{person.get_absolute_url()}")
    page.get_by_role("button", name="Create Interaction").click()
    page.get_by_label("Interaction Template").select_option(label="MAIL Mail")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Attachment").set_input_files(first)
    page.get_by_role("button", name="Next").click()

    # Back: the file is there by its name, with Remove and Replace.
    page.get_by_role("button", name="Back").click()
    attached = page.locator(".attachment-name")
    expect(attached).to_have_text("Offer 2026 (draft).txt")
    expect(page.get_by_role("button", name="Remove")).to_be_visible()

    # Postponed and resumed: still there; replaced by another file.
    page.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Yes").click()
    page.get_by_role("link", name="Resume").click()
    expect(attached).to_have_text("Offer 2026 (draft).txt")
    page.get_by_label("Replace with another file").set_input_files(second)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Back").click()
    expect(attached).to_have_text("Offer 2026 (final).txt")

    # Removed, then attached again, and Finish.
    page.get_by_role("button", name="Remove").click()
    expect(attached).to_have_count(0)
    page.get_by_label("Attachment").set_input_files(second)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Finish").click()
    expect(page.get_by_text("Interaction logged as entry")).to_be_visible()

    # The entry's page names the file as it was uploaded, and downloads it.
    entry = InteractionLogEntry.objects.get()
    page.goto(f"{live_server.url}{reverse('interactions:entry_detail', args=[entry.pk])}")
    link = page.get_by_role("link", name="Offer 2026 (final).txt")
    expect(link).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("entries/")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "Offer 2026 (final).txt"
