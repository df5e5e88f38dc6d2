"""Statistics: canceled entries and drafts never count, a company includes its
persons, an optional date range; the daily totals the triggers keep always match the log."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from interactions.models import EntryDayTotals, InitiatedBy, InteractionLogEntry
from tests import factories

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 5, 20)


def live(**filters) -> dict:
    return InteractionLogEntry.objects.filter(**filters).statistics()


def totals(**filters) -> dict:
    return EntryDayTotals.objects.filter(**filters).statistics()


def assert_totals_match_the_log() -> None:
    """Every key's daily totals equal what the log itself adds up to."""
    for entry in InteractionLogEntry.objects.order_by().distinct("salesperson", "template"):
        keys = {"salesperson": entry.salesperson_id, "template": entry.template_id}
        assert totals(**keys) == live(**keys), keys
        assert totals(group=entry.group_id) == live(group=entry.group_id)


# --- The daily totals follow every write -----------------------------------------------------


def test_totals_follow_inserts_cancels_updates_and_deletes(db):
    template = factories.TemplateFactory()
    salesperson = factories.SalespersonFactory()
    entries = factories.LogEntryFactory.create_batch(
        4, template=template, salesperson=salesperson, date=DAY, cost=Decimal("2.50")
    )
    assert totals(template=template)["count"] == 4
    assert totals(template=template)["cost"] == Decimal("10.00")

    InteractionLogEntry.objects.filter(pk=entries[0].pk).update(canceled=True)
    InteractionLogEntry.objects.filter(pk=entries[1].pk).update(
        cost=Decimal("7.00"), date=DAY - datetime.timedelta(days=3), attempt_failed=True
    )
    InteractionLogEntry.objects.filter(pk=entries[2].pk).delete()
    assert_totals_match_the_log()
    assert totals(template=template)["count"] == 2

    InteractionLogEntry.objects.filter(pk=entries[0].pk).update(canceled=False)
    assert_totals_match_the_log()
    assert totals(template=template)["count"] == 3


def test_set_based_inserts_are_counted_like_single_ones(db):
    template = factories.TemplateFactory()
    contact = factories.PersonFactory()
    InteractionLogEntry.objects.bulk_create(
        InteractionLogEntry(
            contact=contact,
            contact_company=contact.company,
            template=template,
            group=template.group,
            date=DAY - datetime.timedelta(days=n % 5),
            description="Bulk",
            cost=Decimal(n),
            initiated_by=InitiatedBy.US if n % 2 else "",
            canceled=n % 7 == 0,
        )
        for n in range(60)
    )
    assert_totals_match_the_log()


def test_an_entry_without_salesperson_has_totals_of_its_own(db):
    template = factories.TemplateFactory()
    factories.LogEntryFactory.create_batch(3, template=template, salesperson=None, date=DAY)
    rows = EntryDayTotals.objects.filter(template=template)
    assert [(row.salesperson_id, row.entries) for row in rows] == [(None, 3)]


def test_an_update_that_changes_no_figure_writes_no_totals(db):
    entry = factories.LogEntryFactory(date=DAY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM interactions_entrydaytotals")
        before = cursor.fetchall()
        InteractionLogEntry.objects.filter(pk=entry.pk).update(
            delivery_status="sent", evaluation="positive"
        )
        cursor.execute("SELECT xmin::text FROM interactions_entrydaytotals")
        assert cursor.fetchall() == before


def test_truncating_the_log_empties_the_totals(transactional_db):
    factories.LogEntryFactory()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE interactions_interactionlogentry CASCADE")
    assert not EntryDayTotals.objects.exists()


# --- The pages: contact card, salesperson card, template and group pages --------------------


@pytest.fixture
def history(db):
    """A company with a person, a salesperson and a template, and entries in March and April:
    one of each kind that must not count (canceled) next to those that do."""
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company)
    salesperson = factories.SalespersonFactory()
    template = factories.TemplateFactory(initiated_by=InitiatedBy.US)
    common = {"salesperson": salesperson, "template": template}
    factories.LogEntryFactory(
        contact=company, date=datetime.date(2025, 3, 10), cost=Decimal("1.00"), **common
    )
    factories.LogEntryFactory(
        contact=person, date=datetime.date(2025, 4, 10), cost=Decimal("2.00"), **common
    )
    factories.LogEntryFactory(
        contact=person,
        date=datetime.date(2025, 4, 20),
        cost=Decimal("4.00"),
        attempt_failed=True,
        **common,
    )
    factories.LogEntryFactory(
        contact=person, date=datetime.date(2025, 5, 1), cost=Decimal("100"), canceled=True, **common
    )
    # A postponed interaction is a draft, never an entry: it must not count anywhere.
    factories.DraftFactory(contact=person, template=template)
    return {
        "company": reverse("contacts:contact_detail", args=[company.pk]),
        "person": reverse("contacts:contact_detail", args=[person.pk]),
        "salesperson": reverse("contacts:salesperson_detail", args=[salesperson.pk]),
        "template": reverse("interactions:template_detail", args=[template.pk]),
        "group": reverse("interactions:group_detail", args=[template.group_id]),
    }


def statistics_of(client, url, **period) -> dict:
    return client.get(url, period).context["statistics"]


@pytest.mark.parametrize("page", ["company", "salesperson", "template", "group"])
def test_statistics_count_active_entries_only(owner_client, history, page):
    statistics = statistics_of(owner_client, history[page])
    assert statistics["count"] == 3
    assert statistics["cost"] == Decimal("7.00")
    # The failed attempt is the last one attempted, not the last interaction.
    assert statistics["last_date"] == datetime.date(2025, 4, 10)
    assert statistics["last_attempt"] == datetime.date(2025, 4, 20)


def test_a_company_includes_its_persons_and_a_person_only_itself(owner_client, history):
    assert statistics_of(owner_client, history["company"])["count"] == 3
    assert statistics_of(owner_client, history["person"])["count"] == 2


@pytest.mark.parametrize("page", ["company", "salesperson", "template", "group"])
def test_statistics_for_a_date_range(owner_client, history, page):
    april = statistics_of(owner_client, history[page], date_from="2025-04-01", date_to="2025-04-30")
    assert (april["count"], april["cost"]) == (2, Decimal("6.00"))
    since = statistics_of(owner_client, history[page], date_from="2025-04-15")
    assert (since["count"], since["last_date"]) == (1, None)
    until = statistics_of(owner_client, history[page], date_to="2025-03-31")
    assert (until["count"], until["cost"]) == (1, Decimal("1.00"))
    empty = statistics_of(owner_client, history[page], date_from="2026-01-01")
    assert (empty["count"], empty["cost"], empty["last_date"]) == (0, 0, None)


@pytest.mark.parametrize("page", ["person", "salesperson", "template", "group"])
def test_a_bad_period_shows_errors_instead_of_figures(owner_client, history, page):
    response = owner_client.get(history[page], {"date_from": "2025-05-01", "date_to": "2025-04-01"})
    assert response.status_code == 200
    assert response.context["statistics"] is None
    assert "date_to" in response.context["period"].errors
    assert b"Correct the period above" in response.content


def test_the_entries_link_carries_the_period(owner_client, history):
    content = owner_client.get(
        history["template"], {"date_from": "2025-04-01", "date_to": "2025-04-30"}
    ).content.decode()
    assert "&amp;date_from=2025-04-01&amp;date_to=2025-04-30" in content


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("page", ["company", "salesperson", "template", "group"])
def test_statistics_with_a_period_cost_no_extra_queries(
    owner_client, django_assert_num_queries, history, page, rows
):
    """The period adds no query to any of these pages, whatever the number of entries."""
    factories.LogEntryFactory.create_batch(rows, contact=factories.PersonFactory())
    with CaptureQueriesContext(connection) as plain:
        owner_client.get(history[page])
    with django_assert_num_queries(len(plain)):
        owner_client.get(history[page], {"date_from": "2025-04-01", "date_to": "2025-04-30"})
