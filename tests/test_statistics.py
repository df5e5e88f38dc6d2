"""Statistics: canceled entries and drafts never count, a company includes its
persons, an optional date range; the daily totals the triggers keep always match the log."""

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

from interactions.models import (
    EntryDayTotals,
    InitiatedBy,
    InteractionLogEntry,
    Span,
    split_period,
)
from tests import factories
from tests.test_faults import run_together

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
    rows = EntryDayTotals.objects.filter(template=template).order_by("span")
    assert [(row.span, row.date, row.salesperson_id, row.entries) for row in rows] == [
        (Span.DAY, DAY, None, 3),
        (Span.MONTH, DAY.replace(day=1), None, 3),
    ]


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


# --- Periods: whole months from the month rows, the days at the ends from the day rows ------


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("date_from", "date_to", "days", "months"),
    [
        (None, None, [], (None, None)),
        ("2025-01-01", "2025-03-31", [], ("2025-01-01", "2025-04-01")),
        (
            "2025-01-02",
            "2025-03-30",
            [("2025-01-02", "2025-01-31"), ("2025-03-01", "2025-03-30")],
            ("2025-02-01", "2025-03-01"),
        ),
        ("2024-12-15", "2025-01-31", [("2024-12-15", "2024-12-31")], ("2025-01-01", "2025-02-01")),
        ("2025-02-01", "2025-02-28", [], ("2025-02-01", "2025-03-01")),
        ("2024-02-01", "2024-02-28", [("2024-02-01", "2024-02-28")], None),  # a leap year
        ("2025-01-05", "2025-01-20", [("2025-01-05", "2025-01-20")], None),
        ("2025-01-05", "2025-02-20", [("2025-01-05", "2025-02-20")], None),
        ("2025-01-31", "2025-01-31", [("2025-01-31", "2025-01-31")], None),
        ("2025-01-31", None, [("2025-01-31", "2025-01-31")], ("2025-02-01", None)),
        (None, "2025-01-30", [("2025-01-01", "2025-01-30")], (None, "2025-01-01")),
        ("2025-12-02", "2026-01-01", [("2025-12-02", "2026-01-01")], None),
    ],
)
def test_a_period_splits_into_whole_months_and_the_days_at_its_ends(
    date_from, date_to, days, months
):
    date = lambda text: text and d(text)  # noqa: E731
    expected_months = months and tuple(date(month) for month in months)
    assert split_period(date(date_from), date(date_to)) == (
        [(d(first), d(last)) for first, last in days],
        expected_months,
    )


# Five months across a year's end and a February, in which entries land on the first and the
# last days of months as often as on any other.
HISTORY = [d("2024-11-01") + datetime.timedelta(days=n) for n in range(151)]
EDGES = [
    day for day in HISTORY if day.day in (1, 2) or (day + datetime.timedelta(days=1)).day in (1, 2)
]


def random_day(rng: random.Random) -> datetime.date:
    return rng.choice(EDGES) if rng.random() < 0.5 else rng.choice(HISTORY)


def random_periods(rng: random.Random, count: int):
    """Periods with ends on month edges, inside one month, across months, open or beyond."""
    yield None, None
    for _ in range(count):
        ends = sorted([random_day(rng), random_day(rng)])
        if rng.random() < 0.15:
            ends[0] = None
        if rng.random() < 0.15:
            ends[1] = None
        yield tuple(ends)


def assert_every_period_matches_the_log(rng: random.Random, keys: list[dict]) -> None:
    for date_from, date_to in random_periods(rng, 12):
        for key in keys:
            from_totals = EntryDayTotals.objects.filter(**key).statistics(date_from, date_to)
            from_log = InteractionLogEntry.objects.filter(**key).statistics(date_from, date_to)
            assert from_totals == from_log, (key, date_from, date_to)


def assert_months_are_the_sums_of_their_days() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT m.id FROM interactions_entrydaytotals m
            LEFT JOIN LATERAL (
                SELECT coalesce(sum(entries), 0) AS entries, coalesce(sum(cost), 0) AS cost,
                       coalesce(sum(duration), 0) AS duration,
                       coalesce(sum(successful), 0) AS successful,
                       coalesce(sum(attempted), 0) AS attempted
                FROM interactions_entrydaytotals x
                WHERE x.span = 'day' AND date_trunc('month', x.date) = m.date
                  AND x.salesperson_id IS NOT DISTINCT FROM m.salesperson_id
                  AND x.template_id = m.template_id AND x.group_id = m.group_id
            ) s ON true
            WHERE m.span = 'month' AND (m.entries, m.cost, m.duration, m.successful, m.attempted)
                IS DISTINCT FROM (s.entries, s.cost, s.duration, s.successful, s.attempted)
            """
        )
        assert cursor.fetchall() == []


def assert_days_are_what_the_log_adds_up_to() -> None:
    """Every day row (those left at zero aside) is its key's and day's sum over the log."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT salesperson_id, template_id, group_id, date, entries, cost, duration,
                   successful, attempted
              FROM interactions_entrydaytotals
             WHERE span = 'day' AND (entries, cost, duration, successful, attempted)
                   IS DISTINCT FROM (0, 0, 0, 0, 0)
            EXCEPT
            SELECT salesperson_id, template_id, group_id, date, count(*), sum(cost),
                   sum(duration), count(*) FILTER (WHERE NOT attempt_failed),
                   count(*) FILTER (WHERE initiated_by = 'us')
              FROM interactions_interactionlogentry WHERE NOT canceled
             GROUP BY 1, 2, 3, 4
            """
        )
        assert cursor.fetchall() == []
        cursor.execute(
            """
            SELECT count(*) FROM interactions_entrydaytotals
             WHERE span = 'day' AND (entries, cost, duration, successful, attempted)
                   IS DISTINCT FROM (0, 0, 0, 0, 0)
            """
        )
        (rows,) = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(DISTINCT (salesperson_id, template_id, group_id, date))
              FROM interactions_interactionlogentry WHERE NOT canceled
            """
        )
        assert cursor.fetchone() == (rows,)


def test_figures_of_random_periods_equal_the_log_after_every_kind_of_write(db):
    rng = random.Random(19)
    group, other_group = factories.GroupFactory(), factories.GroupFactory()
    templates = [
        factories.TemplateFactory(group=group, initiated_by=InitiatedBy.US),
        factories.TemplateFactory(group=group, initiated_by=InitiatedBy.THEM),
        factories.TemplateFactory(group=other_group),
    ]
    salespeople = [factories.SalespersonFactory(), factories.SalespersonFactory(), None]
    contact = factories.PersonFactory()
    keys = [
        *({"salesperson": salesperson} for salesperson in salespeople),
        *({"template": template} for template in templates),
        {"group": group},
        {"group": other_group},
    ]

    def new_entry() -> InteractionLogEntry:
        template = rng.choice(templates)
        return InteractionLogEntry(
            contact=contact,
            contact_company=contact.company,
            template=template,
            group=template.group,
            salesperson=rng.choice(salespeople),
            date=random_day(rng),
            description="Random",
            cost=Decimal(rng.randrange(0, 1000)) / 100,
            duration=Decimal(rng.randrange(0, 90)),
            attempt_failed=rng.random() < 0.3,
            initiated_by=rng.choice([InitiatedBy.US, InitiatedBy.THEM, InitiatedBy.BLANK]),
            canceled=rng.random() < 0.1,
        )

    def some_ids(count: int) -> list[int]:
        return rng.sample(sorted(InteractionLogEntry.objects.values_list("pk", flat=True)), count)

    InteractionLogEntry.objects.bulk_create(new_entry() for _ in range(300))
    assert_every_period_matches_the_log(rng, keys)

    InteractionLogEntry.objects.filter(pk__in=some_ids(40)).update(canceled=True)
    InteractionLogEntry.objects.filter(pk__in=some_ids(20)).update(canceled=False)
    assert_every_period_matches_the_log(rng, keys)

    # Moved to another day (often another month), another key, other figures.
    for pk in some_ids(40):
        template = rng.choice(templates)
        InteractionLogEntry.objects.filter(pk=pk).update(
            date=random_day(rng),
            template=template,
            group=template.group,
            salesperson=rng.choice(salespeople),
            cost=Decimal(rng.randrange(0, 1000)) / 100,
            attempt_failed=rng.random() < 0.5,
            initiated_by=rng.choice([InitiatedBy.US, InitiatedBy.BLANK]),
        )
    assert_every_period_matches_the_log(rng, keys)

    InteractionLogEntry.objects.filter(pk__in=some_ids(60)).delete()
    InteractionLogEntry.objects.bulk_create(new_entry() for _ in range(20))
    assert_every_period_matches_the_log(rng, keys)
    assert_months_are_the_sums_of_their_days()


def test_one_statement_over_many_days_and_months_keeps_every_day_and_month_row_exact(db):
    """The trigger sums a statement's rows by day first and then spreads the sums over days and
    months: one statement that moves many entries into other days and months (old rows out,
    new rows in), and one that deletes many, leave every row as the log adds up."""
    templates = [factories.TemplateFactory(), factories.TemplateFactory()]
    salespeople = [factories.SalespersonFactory(), None]
    contact = factories.PersonFactory()
    InteractionLogEntry.objects.bulk_create(
        InteractionLogEntry(
            contact=contact,
            contact_company=contact.company,
            template=templates[n % 2],
            group=templates[n % 2].group,
            salesperson=salespeople[n % 3 % 2],
            date=DAY + datetime.timedelta(days=n % 70),
            description="Bulk",
            cost=Decimal(n) / 4,
            duration=Decimal(n % 9),
            attempt_failed=n % 5 == 0,
            initiated_by=InitiatedBy.US if n % 2 else "",
            canceled=n % 11 == 0,
        )
        for n in range(200)
    )
    assert_days_are_what_the_log_adds_up_to()
    assert_months_are_the_sums_of_their_days()

    InteractionLogEntry.objects.filter(cost__lt=30).update(
        date=F("date") + datetime.timedelta(days=40), cost=F("cost") + 1
    )
    assert_days_are_what_the_log_adds_up_to()
    assert_months_are_the_sums_of_their_days()

    InteractionLogEntry.objects.filter(duration__gte=5).delete()
    assert_days_are_what_the_log_adds_up_to()
    assert_months_are_the_sums_of_their_days()


def test_the_last_dates_come_from_the_latest_month_that_has_one(db):
    """Whole months are read from month rows; the last date inside one from its day rows."""
    template = factories.TemplateFactory(initiated_by=InitiatedBy.US)
    common = {"template": template, "salesperson": None}
    factories.LogEntryFactory(date=d("2025-01-17"), **common)
    factories.LogEntryFactory(date=d("2025-02-01"), **common)
    factories.LogEntryFactory(date=d("2025-02-28"), attempt_failed=True, **common)
    factories.LogEntryFactory(date=d("2025-03-31"), canceled=True, **common)
    rows = EntryDayTotals.objects.filter(template=template)
    for date_from, date_to in [
        (None, None),
        (d("2025-01-01"), d("2025-03-31")),
        (d("2024-12-31"), d("2025-04-01")),
        (d("2025-01-18"), d("2025-02-28")),
    ]:
        statistics = rows.statistics(date_from, date_to)
        assert (statistics["last_date"], statistics["last_attempt"]) == (
            d("2025-02-01"),
            d("2025-02-28"),
        )
    assert rows.statistics(d("2025-02-02"), None)["last_date"] is None
    assert rows.statistics(None, d("2025-01-31"))["last_attempt"] == d("2025-01-17")


def test_whole_months_are_read_from_the_month_rows(db):
    """A period's whole months cost one row each, not a row a day: a figure put into a day
    row inside a whole month by hand does not show, one at the period's ends does."""
    template = factories.TemplateFactory()
    for day in ("2025-01-10", "2025-02-10", "2025-03-10", "2025-03-20"):
        factories.LogEntryFactory(template=template, date=d(day))
    rows = EntryDayTotals.objects.filter(template=template)
    rows.filter(span=Span.DAY).update(entries=100)
    assert rows.statistics(d("2025-01-01"), d("2025-02-28"))["count"] == 2
    assert rows.statistics(d("2025-01-01"), d("2025-03-15"))["count"] == 2 + 100


def test_two_connections_writing_the_same_months_at_once_keep_exact_totals(transactional_db):
    """Concurrent statements upsert the same day and month rows; none is lost or deadlocked."""
    template = factories.TemplateFactory()
    salesperson = factories.SalespersonFactory()
    contact = factories.PersonFactory()
    days = [d("2025-01-31"), d("2025-02-01"), d("2025-02-14"), d("2025-03-01")]

    def write(order: list[datetime.date], cancel_some: bool):
        with transaction.atomic():
            InteractionLogEntry.objects.bulk_create(
                InteractionLogEntry(
                    contact=contact,
                    contact_company=contact.company,
                    template=template,
                    group=template.group,
                    salesperson=salesperson,
                    date=day,
                    description="Race",
                    cost=Decimal("1.25"),
                )
                for day in order * 5
            )
            if cancel_some:
                InteractionLogEntry.objects.filter(date=days[1]).update(canceled=True)

    for cancel_some in (True, False, True, False, True):
        errors = run_together(
            functools.partial(write, days, cancel_some=cancel_some),
            functools.partial(write, days[::-1], cancel_some=False),
        )
        assert errors == []
    assert_months_are_the_sums_of_their_days()
    for period in [(None, None), (d("2025-01-15"), d("2025-02-28")), (d("2025-02-01"), None)]:
        assert salesperson.day_totals.statistics(*period) == salesperson.log_entries.statistics(
            *period
        )


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


def test_the_kept_period_form_follows_the_language_the_dates_and_the_page(owner_client, history):
    # {% period_form %} keeps its markup per language and fills in the page and the dates.
    def form(page, language, **period):
        content = owner_client.get(history[page], period, HTTP_ACCEPT_LANGUAGE=language)
        html = content.content.decode()
        start = html.index('<form method="get" action="/')
        return html[start : html.index("</form>", start)]

    english = form("company", "en", date_from="2025-04-01", date_to="2025-04-30")
    assert f'action="{history["company"]}"' in english
    assert 'id="id_date_from" value="2025-04-01">' in english
    assert 'id="id_date_to" value="2025-04-30">' in english
    assert f'<a class="button" href="{history["company"]}">All dates</a>' in english
    dutch = form("person", "nl", date_from="2025-05-01", date_to="")
    assert f'action="{history["person"]}"' in dutch
    assert '<label for="id_date_from">Van</label>' in dutch
    assert 'id="id_date_from" value="2025-05-01">' in dutch
    assert 'id="id_date_to" value="">' in dutch
    assert "All dates" not in dutch
    assert "All dates" not in form("company", "en")
    bad = form("template", "en", date_from="2025-04-01", date_to="<b>&")  # the form in full
    assert 'value="&lt;b&gt;&amp;" aria-invalid="true"' in bad
    assert 'value="2025-04-01">' in form("group", "en", date_from="2025-04-01")


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


def a_history_of(months: int, **key) -> None:
    """An entry on the 1st, the 15th and the last day of each of ``months`` months."""
    first = d("2023-01-01")
    for n in range(months):
        month = (first + datetime.timedelta(days=31 * n)).replace(day=1)
        last = (month + datetime.timedelta(days=31)).replace(day=1) - datetime.timedelta(days=1)
        for day in (month, month.replace(day=15), last):
            factories.LogEntryFactory(date=day, **key)


@pytest.mark.parametrize("page", ["salesperson", "template", "group"])
def test_statistics_pages_cost_the_same_queries_for_2_and_24_months_of_history(
    owner_client, django_assert_num_queries, page
):
    urls = {}
    for months in (2, 24):
        template = factories.TemplateFactory()
        salesperson = factories.SalespersonFactory()
        a_history_of(months, template=template, salesperson=salesperson)
        urls[months] = {
            "salesperson": reverse("contacts:salesperson_detail", args=[salesperson.pk]),
            "template": reverse("interactions:template_detail", args=[template.pk]),
            "group": reverse("interactions:group_detail", args=[template.group_id]),
        }[page]
    for period in ({}, {"date_from": "2023-01-10", "date_to": "2024-06-20"}):
        with CaptureQueriesContext(connection) as short:
            response = owner_client.get(urls[2], period)
        assert response.context["statistics"]["count"] > 0
        with django_assert_num_queries(len(short)):
            response = owner_client.get(urls[24], period)
        assert response.context["statistics"]["count"] > 0


@pytest.mark.parametrize("page", ["person", "salesperson"])
def test_the_cards_statistics_panel_shows_the_figures_formatted(owner_client, page):
    # The panel comes from a Jinja2 partial ({% card_statistics %}) fed values formatted as the
    # Django template's filters did: floatformat, a short date, "—" for none.
    salesperson = factories.SalespersonFactory()
    person = factories.PersonFactory()
    factories.LogEntryFactory(
        contact=person,
        salesperson=salesperson,
        date=DAY,
        cost=Decimal("1234.565"),
        duration=Decimal("90.5"),
    )
    url = {
        "person": reverse("contacts:contact_detail", args=[person.pk]),
        "salesperson": reverse("contacts:salesperson_detail", args=[salesperson.pk]),
    }[page]

    def panel(**period) -> str:
        html = owner_client.get(url, period).content.decode()
        start = html.index('<div class="stats">')
        return html[start : html.index("</section>", start)]

    def stat(value: str, label: str) -> str:
        value = f'<div class="value">{value}</div>'
        return f'    <div class="stat">{value}<div class="label">{label}</div></div>\n'

    assert panel(date_from="2025-05-01") == (
        '<div class="stats">\n'
        + stat("1", "No. of Interactions")
        + stat("1234.57", "Cost (LCY)")
        + stat("91", "Duration (Min.)")
        + stat("05/20/2025", "Date of Last Interaction")
        + stat("05/20/2025", "Last Date Attempted")
        + "  </div>\n  \n"
        '  <p class="helptext">Canceled entries and postponed interactions are not counted.'
        " Only interactions dated in the period are counted.</p>\n"
    )
    assert panel(date_from="2026-01-01") == (
        '<div class="stats">\n'
        + stat("0", "No. of Interactions")
        + stat("0.00", "Cost (LCY)")
        + stat("0", "Duration (Min.)")
        + stat("—", "Date of Last Interaction")
        + stat("—", "Last Date Attempted")
        + "  </div>\n  \n"
        '  <p class="helptext">Canceled entries and postponed interactions are not counted.'
        " Only interactions dated in the period are counted.</p>\n"
    )
    assert panel().endswith(
        '<p class="helptext">Canceled entries and postponed interactions are not counted.</p>\n'
    )
