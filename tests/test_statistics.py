"""Statistics (spec section 5): canceled entries and drafts never count, a company includes its
persons, an optional date range; the daily totals the triggers keep always match the log."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
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
