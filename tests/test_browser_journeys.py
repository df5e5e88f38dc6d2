"""Journeys in a real browser (issue 8): cancel a logged segment, a card's statistics for a
period, and one whole journey in Dutch, from the browser's language to the header's switch."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from interactions.models import DraftStatus, InteractionDraft, InteractionLogEntry
from segments.models import LoggedSegment
from tests import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    return errors


def test_manager_cancels_a_logged_segment_in_a_real_browser(browser_login, live_server, manager):
    logged = factories.LoggedSegmentFactory(
        segment__number="SEG00042", description="Spring mailing", entry_count=3
    )
    entries = factories.LogEntryFactory.create_batch(
        3, logged_segment=logged, segment_no="SEG00042"
    )
    other = factories.LogEntryFactory()
    page = browser_login(manager)
    errors = _console_errors(page)

    page.goto(f"{live_server.url}/segments/logged/")
    # By its address: the entries column links its count, which may equal the number.
    page.locator(f'a[href="/segments/logged/{logged.pk}/"]').click()
    expect(page.get_by_role("heading", name=f"Logged Segment {logged.pk}")).to_be_visible()
    page.get_by_role("link", name="Switch Check Mark in Canceled").click()

    # The confirmation page says what happens, with the count; nothing has changed yet.
    expect(page.get_by_role("heading", name=f"Cancel logged segment {logged.pk}?")).to_be_visible()
    expect(
        page.get_by_text("Segment SEG00042 and all its 3 interaction log entries will be canceled.")
    ).to_be_visible()
    assert not InteractionLogEntry.objects.filter(canceled=True).exists()
    page.get_by_role("button", name="Switch Check Mark in Canceled").click()

    expect(
        page.get_by_text(f"Logged segment {logged.pk} canceled with 3 interactions.")
    ).to_be_visible()
    expect(page.locator(".page-head .badge-danger")).to_have_text("Canceled")
    expect(page.locator(".stat").nth(1)).to_contain_text("3")  # of which canceled

    # Its entries are canceled, no others; the list shows them so.
    page.get_by_role("link", name="Interaction Log Entries").last.click()
    rows = page.locator("table.list tbody tr")
    expect(rows).to_have_count(3)
    for row in rows.all():
        expect(row).to_contain_text("Canceled")
    assert {e.pk for e in InteractionLogEntry.objects.filter(canceled=True)} == {
        e.pk for e in entries
    }
    other.refresh_from_db()
    assert not other.canceled
    assert LoggedSegment.objects.get().canceled
    assert errors == []


def test_card_statistics_for_a_period_in_a_real_browser(browser_login, live_server, owner):
    person = factories.PersonFactory(first_name="Sara", surname="Smit", name="Sara Smit")
    template = factories.TemplateFactory(code="CALL", unit_cost=Decimal("2.50"))
    for day, cost in ((datetime.date(2025, 1, 10), "2.50"), (datetime.date(2025, 2, 10), "4.00")):
        factories.LogEntryFactory(contact=person, template=template, date=day, cost=Decimal(cost))
    factories.LogEntryFactory(contact=person, date=datetime.date(2025, 2, 11), canceled=True)
    page = browser_login(owner)
    errors = _console_errors(page)

    page.goto(f"{live_server.url}{person.get_absolute_url()}")
    stats = page.locator("section[aria-labelledby=statistics-title] .stat")
    expect(stats.nth(0)).to_contain_text("2")  # the canceled entry does not count
    expect(stats.nth(1)).to_contain_text("6.50")

    # February only: one interaction; the period stays in the URL.
    page.get_by_label("From", exact=True).fill("2025-02-01")
    page.get_by_label("To", exact=True).fill("2025-02-28")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(
        f"{live_server.url}{person.get_absolute_url()}?date_from=2025-02-01&date_to=2025-02-28"
    )
    expect(stats.nth(0)).to_contain_text("1")
    expect(stats.nth(1)).to_contain_text("4.00")
    expect(stats.nth(3)).to_contain_text("02/10/2025")
    expect(page.get_by_text("Only interactions dated in the period are counted.")).to_be_visible()

    # A period that ends before it starts is an error next to the field, not a server error.
    page.get_by_label("To", exact=True).fill("2025-01-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("The end date is before the start date.")).to_be_visible()
    expect(page.get_by_text("Correct the period above to see the statistics.")).to_be_visible()

    # All dates again.
    page.get_by_role("link", name="All dates").click()
    expect(stats.nth(0)).to_contain_text("2")
    assert errors == []


def test_whole_journey_in_dutch(browser, live_server, owner):
    """A Dutch browser gets the Dutch UI: log in, create an interaction from a contact card,
    postpone a second one and resume it, read dates the Dutch way; the header switches to
    English."""
    person = factories.PersonFactory(first_name="Joost", surname="Jansen", name="Joost Jansen")
    factories.TemplateFactory(code="BEL", description="Telefoongesprek")
    visit = factories.TemplateFactory(code="BEZOEK", description="Bezoek")
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    errors = _console_errors(page)

    page.goto(f"{live_server.url}/accounts/login/")
    expect(page).to_have_title("Aanmelden · CRM")
    page.get_by_label("Gebruikersnaam").fill(owner.username)
    page.get_by_label("Wachtwoord").fill(factories.PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    expect(page.get_by_role("heading", name="Contacten")).to_be_visible()

    # Interactie maken from the contact card, all steps, Voltooien.
    page.goto(f"{live_server.url}{person.get_absolute_url()}")
    page.get_by_role("button", name="Interactie maken").click()
    expect(page.get_by_role("heading", name="Interactie maken")).to_be_visible()
    page.get_by_label("Interactiesjabloon").select_option(label="BEL Telefoongesprek")
    page.get_by_role("button", name="Volgende").click()
    expect(page.get_by_role("heading", name="Gerelateerd aan")).to_be_visible()
    page.get_by_role("button", name="Volgende").click()
    expect(page.get_by_role("heading", name="Resultaat")).to_be_visible()
    page.get_by_label("Omschrijving").fill("Offerte besproken")
    page.get_by_role("button", name="Voltooien").click()
    expect(page.get_by_text("Interactie geregistreerd als post")).to_be_visible()
    today = timezone.localdate()  # the wizard's default date
    history = page.locator("section[aria-labelledby=history-title]")
    expect(history).to_contain_text(f"{today.day}-{today.month}-{today.year}")

    # A second one: Annuleren, Ja, then Hervatten from Uitgestelde interacties.
    page.get_by_role("button", name="Interactie maken").click()
    page.get_by_label("Interactiesjabloon").select_option(label="BEZOEK Bezoek")
    page.get_by_role("button", name="Annuleren").click()
    expect(
        page.get_by_role("heading", name="Wilt u deze interactie later voltooien?")
    ).to_be_visible()
    page.get_by_role("button", name="Ja").click()
    expect(page.get_by_role("heading", name="Uitgestelde interacties")).to_be_visible()
    assert InteractionDraft.objects.filter(status=DraftStatus.POSTPONED).count() == 1
    page.get_by_role("link", name="Hervatten").click()
    expect(page.get_by_label("Interactiesjabloon")).to_have_value(str(visit.pk))
    page.get_by_role("button", name="Volgende").click()
    page.get_by_role("button", name="Volgende").click()
    page.get_by_role("button", name="Voltooien").click()
    expect(page.get_by_text("Interactie geregistreerd als post")).to_be_visible()
    assert InteractionLogEntry.objects.filter(contact=person).count() == 2

    # Interactielogposten in Dutch; the switch in the user's menu turns the UI English.
    page.get_by_role("link", name="Interactielogposten", exact=True).first.click()
    expect(page.get_by_role("heading", name="Interactielogposten")).to_be_visible()
    expect(page.locator("table.list tbody tr")).to_have_count(2)
    page.locator(".usermenu > summary").click()
    page.get_by_label("Taal").select_option("en")
    expect(page.get_by_role("heading", name="Interaction Log Entries")).to_be_visible()
    page.locator(".usermenu > summary").click()
    expect(page.get_by_label("Language")).to_have_value("en")
    assert errors == []
    context.close()
