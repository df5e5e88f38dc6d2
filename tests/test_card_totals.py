"""A company card's statistics come from the monthly totals the triggers keep
(`CompanyMonthTotals`: its own entries and its persons'); a person's card sums its entries.
Whatever writes the log (single entries, bulk statements, cancel switches, Log Segment,
updates, deletes), every card's figures equal what the entries themselves add up to, for any
period."""

from __future__ import annotations

import datetime
import functools
import random
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.forms import PeriodForm
from contacts.models import Contact
from contacts.views import _contact_statistics
from interactions import services as interaction_services
from interactions.models import CompanyMonthTotals, InitiatedBy, InteractionLogEntry
from segments import services as segment_services
from tests import factories
from tests.test_faults import run_together
from tests.test_segment_log import add, assign

pytestmark = pytest.mark.django_db

FIRST_DAY = datetime.date(2025, 1, 1)


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def random_day(rng: random.Random) -> datetime.date:
    return FIRST_DAY + datetime.timedelta(days=rng.randrange(0, 400))


def random_period(rng: random.Random) -> tuple[datetime.date | None, datetime.date | None]:
    date_from = random_day(rng) if rng.random() < 0.7 else None
    date_to = random_day(rng) if rng.random() < 0.7 else None
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    return date_from, date_to


def card_figures(contact: Contact, date_from=None, date_to=None) -> dict:
    """The figures the card shows (a company's from its kept totals)."""
    period = PeriodForm({"date_from": date_from or "", "date_to": date_to or ""})
    return _contact_statistics(contact, period)


def log_figures(contact: Contact, date_from=None, date_to=None) -> dict:
    """The figures summed from the entries themselves, as the card did before the totals."""
    return InteractionLogEntry.objects.for_contact(contact).statistics(date_from, date_to)


def assert_cards_match_the_log(contacts, rng: random.Random | None = None) -> None:
    """Every contact's card, all time, fixed periods and random ones (with ends mid-month and
    inside one month), equals the sums of the log."""
    rng = rng or random.Random(5)
    periods = [
        (None, None),
        (d("2025-02-01"), d("2025-06-30")),
        (d("2025-02-15"), d("2025-06-14")),
        (d("2025-03-03"), d("2025-03-20")),
        (None, d("2025-04-10")),
        (d("2025-04-10"), None),
        *(random_period(rng) for _ in range(6)),
    ]
    for contact in contacts:
        for period in periods:
            assert card_figures(contact, *period) == log_figures(contact, *period), (
                contact,
                period,
            )


def assert_rows_are_the_log_by_month() -> None:
    """Every totals row that is not zero is a month of a company's active entries, and every
    such month has its row."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH kept AS (
                SELECT company_id, month, entries, cost, duration, successful, attempted
                FROM interactions_companymonthtotals
                WHERE entries <> 0 OR cost <> 0 OR duration <> 0 OR successful <> 0
                    OR attempted <> 0
            ), log AS (
                SELECT contact_company_id, date_trunc('month', date::timestamp)::date,
                       count(*), sum(cost), sum(duration),
                       count(*) FILTER (WHERE NOT attempt_failed),
                       count(*) FILTER (WHERE initiated_by = 'us')
                FROM interactions_interactionlogentry
                WHERE NOT canceled AND contact_company_id IS NOT NULL
                GROUP BY 1, 2
            )
            SELECT count(*) FROM (
                (SELECT * FROM kept EXCEPT ALL SELECT * FROM log)
                UNION ALL (SELECT * FROM log EXCEPT ALL SELECT * FROM kept)
            ) AS differences
            """
        )
        assert cursor.fetchone() == (0,)


@pytest.fixture
def book(db):
    """Two companies with two persons each, and a person without a company."""
    companies = [factories.CompanyFactory(), factories.CompanyFactory()]
    persons = [factories.PersonFactory(company=company) for company in companies for _ in "ab"]
    loner = factories.PersonFactory(company=None)
    return [*companies, *persons, loner]


def random_entry(rng: random.Random, contacts, templates) -> InteractionLogEntry:
    contact = rng.choice(contacts)
    template = rng.choice(templates)
    return InteractionLogEntry(
        contact=contact,
        contact_company=contact.company_contact,
        template=template,
        group=template.group,
        date=random_day(rng),
        description="Random",
        cost=Decimal(rng.randrange(0, 1000)) / 100,
        duration=Decimal(rng.randrange(0, 90)),
        attempt_failed=rng.random() < 0.3,
        initiated_by=rng.choice([InitiatedBy.US, InitiatedBy.THEM, InitiatedBy.BLANK]),
        canceled=rng.random() < 0.1,
    )


# --- The totals follow every write --------------------------------------------------------------


def test_a_card_equals_the_sum_of_its_entries_after_every_kind_of_write(book):
    rng = random.Random(19)
    templates = [factories.TemplateFactory(), factories.TemplateFactory()]

    def some_ids(count: int) -> list[int]:
        return rng.sample(sorted(InteractionLogEntry.objects.values_list("pk", flat=True)), count)

    InteractionLogEntry.objects.bulk_create(random_entry(rng, book, templates) for _ in range(300))
    for _ in range(5):  # one statement each, as the wizard's Finish writes them
        random_entry(rng, book, templates).save()
    assert_cards_match_the_log(book, rng)
    assert_rows_are_the_log_by_month()

    InteractionLogEntry.objects.filter(pk__in=some_ids(40)).update(canceled=True)
    InteractionLogEntry.objects.filter(pk__in=some_ids(20)).update(canceled=False)
    assert_cards_match_the_log(book, rng)

    # Moved to another day (often another month), another contact or company, other figures.
    for pk in some_ids(40):
        contact = rng.choice(book)
        InteractionLogEntry.objects.filter(pk=pk).update(
            date=random_day(rng),
            contact=contact,
            contact_company=contact.company_contact,
            cost=Decimal(rng.randrange(0, 1000)) / 100,
            duration=Decimal(rng.randrange(0, 90)),
            attempt_failed=rng.random() < 0.5,
            initiated_by=rng.choice([InitiatedBy.US, InitiatedBy.BLANK]),
        )
    # One statement over many entries, days and months.
    InteractionLogEntry.objects.filter(cost__lt=3).update(
        date=F("date") + datetime.timedelta(days=40), cost=F("cost") + 1
    )
    assert_cards_match_the_log(book, rng)
    assert_rows_are_the_log_by_month()

    InteractionLogEntry.objects.filter(pk__in=some_ids(60)).delete()
    InteractionLogEntry.objects.filter(duration__gte=80).delete()
    assert_cards_match_the_log(book, rng)
    assert_rows_are_the_log_by_month()


def test_switching_entries_canceled_and_back_moves_the_cards(book, owner):
    company, person = book[0], book[2]
    entries = [
        factories.LogEntryFactory(contact=person, date=d("2025-03-10"), cost=Decimal("2.50")),
        factories.LogEntryFactory(contact=person, date=d("2025-04-10"), cost=Decimal("4.00")),
        factories.LogEntryFactory(contact=company, date=d("2025-04-11"), cost=Decimal("1.00")),
    ]
    assert card_figures(company)["count"] == 3
    assert card_figures(person)["count"] == 2

    interaction_services.entry_switch_canceled(user=owner, entry_ids=[e.pk for e in entries[1:]])
    assert card_figures(company)["count"] == 1
    assert card_figures(person)["cost"] == Decimal("2.50")
    assert card_figures(person)["last_date"] == d("2025-03-10")
    assert_cards_match_the_log(book)

    interaction_services.entry_switch_canceled(user=owner, entry_ids=[entries[1].pk])
    assert card_figures(company)["count"] == 2
    assert_cards_match_the_log(book)
    assert_rows_are_the_log_by_month()


def test_logging_a_segment_and_canceling_it_moves_the_cards(owner, manager):
    factories.MarketingSetupFactory()
    call = factories.TemplateFactory(unit_cost=Decimal("2"))
    segment = segment_services.segment_create(
        user=owner, description="Calls", date=d("2026-04-01"), salesperson=owner.salesperson
    )
    company = factories.CompanyFactory()
    ann = factories.PersonFactory(company=company)
    bob = factories.PersonFactory(company=company)
    loner = factories.PersonFactory(company=None)
    add(segment, owner, company, ann, bob, loner)
    assign(segment, owner, call)
    factories.LogEntryFactory(contact=ann, date=d("2026-03-31"))
    result = segment_services.segment_log(segment=segment, user=owner)
    contacts = [company, ann, bob, loner]
    assert card_figures(company)["count"] == 4
    assert card_figures(ann)["count"] == 2
    assert_cards_match_the_log(contacts)

    segment_services.logged_segment_switch_canceled(logged=result.logged, user=manager)
    assert card_figures(company)["count"] == 1
    assert card_figures(loner)["count"] == 0
    assert_cards_match_the_log(contacts)
    assert_rows_are_the_log_by_month()


def test_an_update_that_changes_no_figure_writes_no_totals(book):
    entry = factories.LogEntryFactory(contact=book[2], date=d("2025-05-20"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM interactions_companymonthtotals")
        before = cursor.fetchall()
        InteractionLogEntry.objects.filter(pk=entry.pk).update(
            delivery_status="sent", evaluation="positive"
        )
        cursor.execute("SELECT xmin::text FROM interactions_companymonthtotals")
        assert cursor.fetchall() == before
    assert len(before) == 1  # the company's month


def test_truncating_the_log_empties_the_totals(transactional_db):
    factories.LogEntryFactory()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE interactions_interactionlogentry CASCADE")
    assert not CompanyMonthTotals.objects.exists()


# --- Reading: whole months from the rows, the days at the ends from the entries --------------


def test_whole_months_are_read_from_the_month_rows(book):
    """A figure put into a month row by hand shows for a period that holds the whole month, not
    for one that holds only some of its days (those are read from the entries)."""
    company, person = book[0], book[2]
    for day in ("2025-01-10", "2025-02-10", "2025-03-10", "2025-03-20"):
        factories.LogEntryFactory(contact=person, date=d(day))
    rows = CompanyMonthTotals.objects.filter(company=company)
    rows.filter(month=d("2025-03-01")).update(entries=100)
    assert card_figures(company, d("2025-01-01"), d("2025-02-28"))["count"] == 2
    assert card_figures(company, d("2025-01-01"), d("2025-03-15"))["count"] == 2 + 1
    assert card_figures(company, d("2025-01-01"), d("2025-03-31"))["count"] == 2 + 100
    assert card_figures(person, d("2025-01-01"), d("2025-03-31"))["count"] == 4


def test_the_last_dates_come_from_the_latest_month_that_has_one(book):
    company, person = book[0], book[2]
    factories.LogEntryFactory(contact=person, date=d("2025-01-17"), initiated_by=InitiatedBy.US)
    factories.LogEntryFactory(contact=person, date=d("2025-02-01"), initiated_by=InitiatedBy.US)
    factories.LogEntryFactory(
        contact=company, date=d("2025-02-28"), attempt_failed=True, initiated_by=InitiatedBy.US
    )
    factories.LogEntryFactory(contact=person, date=d("2025-03-31"), canceled=True)
    factories.LogEntryFactory(
        contact=person, date=d("2025-03-30"), initiated_by=InitiatedBy.THEM, attempt_failed=True
    )
    for date_from, date_to in [
        (None, None),
        (d("2025-01-01"), d("2025-03-31")),
        (d("2024-12-31"), d("2025-04-01")),
        (d("2025-01-18"), d("2025-02-28")),
    ]:
        figures = card_figures(company, date_from, date_to)
        assert (figures["last_date"], figures["last_attempt"]) == (d("2025-02-01"), d("2025-02-28"))
    assert card_figures(person)["last_attempt"] == d("2025-02-01")
    assert card_figures(person, d("2025-02-02"), None)["last_date"] is None
    assert card_figures(company, None, d("2025-01-31"))["last_attempt"] == d("2025-01-17")


def test_a_card_without_entries_shows_zeros(book):
    assert card_figures(book[0]) == log_figures(book[0])
    assert card_figures(book[0])["count"] == 0


def test_the_card_shows_the_kept_figures_in_one_query_whatever_the_period(owner_client, book):
    company = book[0]
    factories.LogEntryFactory(contact=book[2], date=d("2025-03-10"))
    factories.LogEntryFactory(contact=company, date=d("2025-04-01"))
    url = reverse("contacts:contact_detail", args=[company.pk])
    counts = set()
    for date_from, date_to in [
        (None, None),
        (d("2025-02-15"), None),
        (d("2025-03-11"), d("2025-04-02")),
    ]:
        period = {"date_from": date_from or "", "date_to": date_to or ""}
        with CaptureQueriesContext(connection) as queries:
            response = owner_client.get(url, period)
        assert response.context["statistics"] == log_figures(company, date_from, date_to)
        counts.add(len(queries))
    assert len(counts) == 1


# --- Concurrency -----------------------------------------------------------------------------


def test_two_connections_logging_for_one_company_at_once_keep_exact_totals(transactional_db):
    """Concurrent statements upsert the same company card and person rows, in opposite orders
    of their entries; none is lost or deadlocked."""
    company = factories.CompanyFactory()
    persons = [factories.PersonFactory(company=company) for _ in range(3)]
    template = factories.TemplateFactory()
    days = [d("2025-01-31"), d("2025-02-01"), d("2025-02-14"), d("2025-03-01")]

    def write(contacts, order, cancel_some: bool):
        with transaction.atomic():
            InteractionLogEntry.objects.bulk_create(
                InteractionLogEntry(
                    contact=contact,
                    contact_company=company,
                    template=template,
                    group=template.group,
                    date=day,
                    description="Race",
                    cost=Decimal("1.25"),
                )
                for day in order
                for contact in contacts
            )
            if cancel_some:
                InteractionLogEntry.objects.filter(date=days[1]).update(canceled=True)

    def one_by_one(contacts, order):
        for day in order:
            for contact in contacts:
                with transaction.atomic():
                    InteractionLogEntry.objects.create(
                        contact=contact,
                        contact_company=company,
                        template=template,
                        group=template.group,
                        date=day,
                        description="One",
                    )

    for cancel_some in (True, False, True):
        errors = run_together(
            functools.partial(write, persons, days, cancel_some=cancel_some),
            functools.partial(write, persons[::-1], days[::-1], cancel_some=False),
            functools.partial(one_by_one, persons[1:], days[::-1]),
        )
        assert errors == []
    assert_cards_match_the_log([company, *persons])
    assert_rows_are_the_log_by_month()
