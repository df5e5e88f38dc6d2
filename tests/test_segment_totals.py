"""A segment's kept line totals (`SegmentTotals`, issue 19) equal what its lines add up to after
every path that changes lines: each criteria step, Go Back of each, Add Contact, Remove Lines,
the header reaching its lines, Personalise and Reset, a follow-up segment, plain ORM writes (the
admin's), deleting a segment, truncating the lines, and two connections at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from segments import services
from segments.forms import Criteria
from segments.models import FollowUpResponse, Segment, SegmentLine, SegmentTotals
from tests import factories
from tests.test_segment_history import run_together

pytestmark = pytest.mark.django_db


def counted(segment) -> tuple:
    """What the lines add up to, summed now."""
    live = SegmentLine.objects.filter(segment=segment).aggregate(
        lines=Count("id"),
        cost=Sum("unit_cost", default=Decimal(0)),
        duration=Sum("unit_duration", default=Decimal(0)),
    )
    return live["lines"], live["cost"], live["duration"]


def kept(segment) -> tuple:
    totals = SegmentTotals.objects.get(segment=segment)
    return totals.line_count, totals.total_cost, totals.total_duration


def assert_exact(segment) -> tuple:
    assert kept(segment) == counted(segment)
    return kept(segment)


def criteria(**data) -> Criteria:
    return Criteria.from_data(data)


@pytest.fixture
def segment(owner):
    return factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)


@pytest.fixture
def town(db):
    """Three persons in Haarlem (one Dutch-speaking), two in Leiden."""
    return {
        number: factories.PersonFactory(number=number, city=city, language=language)
        for number, city, language in (
            ("H1", "Haarlem", "nl"),
            ("H2", "Haarlem", "en"),
            ("H3", "Haarlem", "en"),
            ("L1", "Leiden", "nl"),
            ("L2", "Leiden", "en"),
        )
    }


def test_a_new_segment_has_zero_totals(owner):
    factories.MarketingSetupFactory()
    segment = services.segment_create(
        user=owner, description="Empty", date=None, salesperson=owner.salesperson
    )
    assert kept(segment) == (0, Decimal(0), Decimal(0))


def test_totals_follow_every_step_and_every_go_back(owner, segment, town):
    template = factories.TemplateFactory(unit_cost=Decimal("2.50"), unit_duration=Decimal(5))
    services.segment_update(
        segment=segment,
        user=owner,
        data={"template": template, "unit_cost": Decimal("2.50"), "unit_duration": Decimal(5)},
    )
    logged = factories.LoggedSegmentFactory(segment__number="SEG09090")
    factories.SegmentLineFactory(segment=logged.segment, contact=town["L2"])

    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Haarlem"))
    assert assert_exact(segment) == (3, Decimal("7.50"), Decimal(15))
    services.segment_reduce_contacts(segment=segment, user=owner, criteria=criteria(language="nl"))
    assert assert_exact(segment)[0] == 2
    services.segment_reuse(segment=segment, user=owner, logged=logged)
    assert assert_exact(segment)[0] == 3
    services.segment_add_contact(segment=segment, user=owner, contact=town["L1"])
    assert assert_exact(segment)[0] == 4
    services.segment_refine_contacts(segment=segment, user=owner, criteria=criteria(language="en"))
    assert assert_exact(segment)[0] == 3
    line = segment.lines.get(contact=town["H2"])
    services.segment_remove_lines(segment=segment, user=owner, line_ids=[line.pk])
    assert assert_exact(segment) == (2, Decimal("5.00"), Decimal(10))
    assert segment.steps.order_by("-number").first().lines_after == 2

    # Go Back of each step in turn, the removal first: the totals come back each time.
    while (last := segment.steps.order_by("-number").first()) is not None:
        services.segment_go_back(segment=segment, user=owner, step=last.number)
        assert kept(segment)[0] == last.lines_before
        assert_exact(segment)
    assert kept(segment) == (0, Decimal(0), Decimal(0))


def test_totals_follow_the_header_personalise_and_reset(owner, segment, town):
    for person in town.values():
        services.segment_add_contact(segment=segment, user=owner, contact=person)
    services.segment_update(segment=segment, user=owner, data={"unit_cost": Decimal("1.10")})
    assert assert_exact(segment)[1] == Decimal("5.50")

    line = segment.lines.get(contact=town["H1"])
    services.segment_line_personalise(
        line=line,
        user=owner,
        data={"unit_cost": Decimal("10.00"), "unit_duration": Decimal(30)},
        changed=["unit_cost", "unit_duration"],
    )
    assert assert_exact(segment) == (5, Decimal("14.40"), Decimal(30))
    # Personalised lines keep their figures when the header changes again.
    services.segment_update(segment=segment, user=owner, data={"unit_cost": Decimal("2.00")})
    assert assert_exact(segment)[1] == Decimal("18.00")

    services.segment_line_reset(line=segment.lines.get(pk=line.pk), user=owner)
    assert assert_exact(segment) == (5, Decimal("10.00"), Decimal(0))


def test_a_follow_up_segment_has_the_totals_of_its_lines(owner):
    factories.MarketingSetupFactory()
    segment = factories.SegmentFactory(
        salesperson=owner.salesperson, created_by=owner, status="logged"
    )
    logged = factories.LoggedSegmentFactory(segment=segment)
    for _ in range(4):
        factories.SegmentLineFactory(segment=segment, unit_cost=Decimal(3))
    follow_up = services.logged_segment_follow_up(
        logged=logged, user=owner, response=FollowUpResponse.ALL
    )
    assert follow_up.added == 4
    assert assert_exact(follow_up.segment)[0] == 4


def test_plain_orm_writes_of_lines_keep_the_totals(segment):
    lines = factories.SegmentLineFactory.create_batch(3, segment=segment, unit_cost=Decimal(2))
    other = factories.SegmentFactory()
    factories.SegmentLineFactory(segment=other, unit_cost=Decimal(7))
    assert assert_exact(segment)[:2] == (3, Decimal(6))

    # One statement across two segments, as the admin's bulk actions write.
    SegmentLine.objects.update(unit_cost=Decimal(1), unit_duration=Decimal(4))
    assert assert_exact(segment) == (3, Decimal(3), Decimal(12))
    assert assert_exact(other) == (1, Decimal(1), Decimal(4))

    lines[0].unit_cost = Decimal("9.99")
    lines[0].save()
    assert assert_exact(segment)[1] == Decimal("11.99")
    SegmentLine.objects.filter(pk=lines[1].pk).update(segment=other)  # moved to the other one
    assert assert_exact(segment)[0] == 2
    assert assert_exact(other)[0] == 2
    SegmentLine.objects.filter(segment=segment).delete()
    assert assert_exact(segment) == (0, Decimal(0), Decimal(0))


def test_an_update_that_changes_no_figure_writes_no_totals(segment):
    line = factories.SegmentLineFactory(segment=segment, unit_cost=Decimal(2))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xmin::text FROM segments_segmenttotals WHERE segment_id = %s", [segment.pk]
        )
        (before,) = cursor.fetchone()
        SegmentLine.objects.filter(pk=line.pk).update(subject="Another subject")
        cursor.execute(
            "SELECT xmin::text, line_count FROM segments_segmenttotals WHERE segment_id = %s",
            [segment.pk],
        )
        # Same transaction in this test: an untouched row keeps the xmin it had.
        assert cursor.fetchone() == (before, 1)


def test_deleting_a_segment_with_its_lines_takes_its_totals(owner, segment):
    factories.SegmentLineFactory.create_batch(3, segment=segment)
    services.segment_delete(segment=segment, user=owner)
    assert not Segment.objects.filter(pk=segment.pk).exists()
    assert not SegmentTotals.objects.filter(segment_id=segment.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_truncating_the_lines_zeroes_the_totals(db):
    segment = factories.SegmentFactory()
    factories.SegmentLineFactory.create_batch(2, segment=segment, unit_cost=Decimal(1))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE segments_segmentline CASCADE")
    assert kept(segment) == (0, Decimal(0), Decimal(0))


@pytest.mark.django_db(transaction=True)
def test_two_connections_adding_lines_at_once_keep_exact_totals(owner, manager, town):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    other = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    people = [factories.PersonFactory() for _ in range(6)]
    _results, errors = run_together(
        lambda: services.segment_add_contacts(
            segment=segment, user=owner, criteria=criteria(city="Haarlem")
        ),
        lambda: services.segment_add_contact(segment=segment, user=manager, contact=town["L1"]),
        # Plain statements on their own connection (the admin's way), no segment lock first.
        lambda: SegmentLine.objects.bulk_create(
            SegmentLine(segment=segment, contact=person, unit_cost=Decimal(1)) for person in people
        ),
        lambda: services.segment_add_contacts(
            segment=other, user=manager, criteria=criteria(city="Leiden")
        ),
    )
    assert errors == []
    assert assert_exact(segment)[0] == 3 + 1 + 6
    assert assert_exact(other)[0] == 2
