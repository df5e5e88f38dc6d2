"""The database itself refuses data that must never exist (not just the forms)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from contacts.models import Contact, MarketingSetup, NumberSeries
from interactions.models import InteractionTemplate
from segments.models import LoggedSegment, SegmentLine
from tests import factories

pytestmark = pytest.mark.django_db


def assert_refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_template_cost_and_duration_cannot_be_negative():
    group = factories.GroupFactory()
    assert_refused(
        lambda: InteractionTemplate.objects.create(
            code="NEG", group=group, description="x", unit_cost=Decimal("-1")
        )
    )
    assert_refused(
        lambda: InteractionTemplate.objects.create(
            code="NEG2", group=group, description="x", unit_duration=Decimal("-0.01")
        )
    )


def test_log_entry_cost_and_duration_cannot_be_negative():
    assert_refused(lambda: factories.LogEntryFactory(cost=Decimal("-5")))
    assert_refused(lambda: factories.LogEntryFactory(duration=Decimal("-5")))


def test_segment_and_line_cost_cannot_be_negative():
    assert_refused(lambda: factories.SegmentFactory(unit_cost=Decimal("-1")))
    segment = factories.SegmentFactory()
    assert_refused(lambda: factories.SegmentLineFactory(segment=segment, unit_duration=-1))


def test_a_contact_is_on_a_segment_at_most_once():
    line = factories.SegmentLineFactory()
    assert_refused(lambda: SegmentLine.objects.create(segment=line.segment, contact=line.contact))


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (factories.CompanyFactory, "number"),
        (factories.SalespersonFactory, "code"),
        (factories.GroupFactory, "code"),
        (factories.TemplateFactory, "code"),
        (factories.CampaignFactory, "number"),
        (factories.SegmentFactory, "number"),
        (factories.OpportunityFactory, "number"),
    ],
)
def test_codes_and_numbers_are_unique(factory, field):
    existing = factory()
    assert_refused(lambda: factory(**{field: getattr(existing, field)}))


def test_number_series_code_is_unique():
    NumberSeries.objects.create(code="SEG")
    assert_refused(lambda: NumberSeries.objects.create(code="SEG"))


def test_marketing_setup_is_a_singleton():
    MarketingSetup.load()
    assert_refused(lambda: MarketingSetup.objects.create(id=2))


def test_a_company_cannot_belong_to_a_company():
    parent = factories.CompanyFactory()
    assert_refused(lambda: factories.CompanyFactory(company=parent))


def test_a_segment_can_be_logged_only_once():
    segment = factories.SegmentFactory()
    LoggedSegment.objects.create(segment=segment, segment_no=segment.number, description="x")
    assert_refused(
        lambda: LoggedSegment.objects.create(
            segment=segment, segment_no=segment.number, description="y"
        )
    )


def test_a_user_is_linked_to_at_most_one_salesperson(owner):
    assert_refused(lambda: factories.SalespersonFactory(user=owner))


def test_setup_data_referenced_by_the_log_cannot_be_deleted():
    entry = factories.LogEntryFactory()
    for referenced in (entry.template, entry.group, entry.contact, entry.salesperson):
        with pytest.raises(ProtectedError), transaction.atomic():
            referenced.delete()


def test_a_group_used_by_a_template_cannot_be_deleted():
    template = factories.TemplateFactory()
    with pytest.raises(ProtectedError):
        template.group.delete()


def test_a_company_or_group_only_an_entry_names_cannot_be_deleted():
    """An entry's company and group are copies without a database constraint (bulk speed);
    Django's PROTECT still keeps them once the person and the template have moved on."""
    entry = factories.LogEntryFactory(contact=factories.PersonFactory())
    company, group = entry.contact_company, entry.group
    assert company is not None
    Contact.objects.filter(pk=entry.contact_id).update(company=factories.CompanyFactory())
    InteractionTemplate.objects.filter(pk=entry.template_id).update(group=factories.GroupFactory())
    for referenced in (company, group):
        with pytest.raises(ProtectedError), transaction.atomic():
            referenced.delete()
