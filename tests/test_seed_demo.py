"""`seed_demo`: realistic demo data on top of what exists, twice in a row, at small sizes."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext

from contacts.models import Campaign, Contact, ContactType, MarketingSetup, Opportunity
from contacts.roles import MARKETING_MANAGER, SALESPERSON
from interactions.models import InteractionComment, InteractionLogEntry, InteractionTemplate
from segments import demo
from segments.models import LoggedSegment, Segment, SegmentStatus
from tests import factories

pytestmark = pytest.mark.django_db

SMALL = ["--contacts", "40", "--interactions", "200"]


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_writes_the_requested_contacts_and_entries():
    output = seed(*SMALL)

    assert Contact.objects.count() == 40
    assert InteractionLogEntry.objects.count() == 200
    assert Contact.objects.companies().exists()
    assert output.startswith("seeded 40 contacts (")
    assert "200 interaction log entries" in output


def test_every_person_belongs_to_a_company():
    seed(*SMALL)

    persons = Contact.objects.filter(type=ContactType.PERSON)
    assert persons.exists()
    assert not persons.filter(company=None).exists()
    assert not persons.exclude(company__type=ContactType.COMPANY).exists()


def test_every_entry_records_its_contacts_company():
    seed(*SMALL)

    entries = InteractionLogEntry.objects.select_related("contact")
    assert all(entry.contact_company == entry.contact.company_contact for entry in entries)


def test_every_entry_uses_a_demo_template_and_that_templates_group():
    seed(*SMALL)

    assert not InteractionLogEntry.objects.exclude(group=F("template__group")).exists()
    assert InteractionLogEntry.objects.values("template").distinct().count() > 3


def test_history_spans_two_years_of_weekdays_with_some_cancellations_and_failures():
    seed("--contacts", "40", "--interactions", "2000")

    entries = InteractionLogEntry.objects.filter(segment_no="")
    today = datetime.date.today()  # noqa: DTZ011 (the server's current_date, close enough)
    assert entries.filter(date__lt=today - datetime.timedelta(days=365)).exists()
    assert not entries.filter(date__lt=today - datetime.timedelta(days=demo.HISTORY_DAYS + 3))
    weekend = [1, 7]  # Sunday, Saturday
    assert not InteractionLogEntry.objects.filter(date__week_day__in=weekend).exists()
    assert entries.filter(canceled=True).exists()
    assert entries.filter(attempt_failed=True).exists()
    assert entries.exclude(evaluation="").exists()
    canceled = entries.filter(canceled=True).count()
    assert InteractionComment.objects.filter(entry__canceled=True).count() == canceled


def test_sent_emails_carry_merged_content_in_the_contacts_language():
    seed("--contacts", "40", "--interactions", "2000")

    sent = InteractionLogEntry.objects.filter(delivery_status="sent")
    assert sent.exists()
    assert not sent.filter(Q(subject="") | Q(body="")).exists()
    assert not sent.filter(Q(subject__contains="{{") | Q(body__contains="{{")).exists()
    assert not sent.exclude(correspondence_type="email").exists()
    dutch = sent.filter(template__code="EMAIL", language="nl").first()
    if dutch is not None:
        assert dutch.subject.startswith("Naar aanleiding van ons gesprek")
        assert dutch.contact.first_name in dutch.subject


def test_emails_that_greet_a_first_name_go_to_persons_only():
    seed("--contacts", "40", "--interactions", "2000")

    greeting = InteractionLogEntry.objects.filter(template__code__in=["EMAIL", "FOLLOW-UP"])
    assert greeting.exists()
    assert not greeting.exclude(contact__type=ContactType.PERSON).exists()
    assert not greeting.filter(body__startswith="Dear ,").exists()


def test_privacy_blocked_contacts_get_no_interactions():
    seed("--contacts", "200", "--interactions", "1000")

    blocked = Contact.objects.filter(privacy_blocked=True)
    assert blocked.exists()  # else the next line would hold whatever the seed did
    assert not InteractionLogEntry.objects.filter(contact__in=blocked).exists()


def test_demo_logins_exist_with_their_roles(client):
    output = seed(*SMALL)

    user_model = get_user_model()
    admin = user_model.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    manager = user_model.objects.get(username="manager")
    assert manager.groups.filter(name=MARKETING_MANAGER).exists()
    anna = user_model.objects.get(username="anna")
    assert anna.groups.filter(name=SALESPERSON).exists()
    assert anna.salesperson.code == "ANNA"
    for username in ("admin", "manager", "anna", "bram"):
        assert client.login(username=username, password=demo.DEMO_PASSWORD), username
        assert f"  {username} " in output
    assert 'Demo logins (password "demo"):' in output


def test_setup_gets_contact_and_segment_number_series():
    seed(*SMALL)

    setup = MarketingSetup.load()
    assert (setup.contact_nos.code, setup.contact_nos.prefix) == ("CONT", "CT")
    assert (setup.segment_nos.code, setup.segment_nos.prefix) == ("SEG", "SEG")
    assert setup.contact_nos.last_number == 40
    assert Contact.objects.filter(number="CT000040").exists()


def test_campaigns_opportunities_and_segments_are_created():
    seed(*SMALL)

    assert Campaign.objects.count() == 4
    assert Opportunity.objects.exists()
    assert not Opportunity.objects.exclude(contact_company__type=ContactType.COMPANY).exists()
    assert Segment.objects.count() == 3
    assert Segment.objects.filter(lines__isnull=False).distinct().count() == 3


def test_one_segment_is_logged_with_one_entry_per_line():
    seed(*SMALL)

    logged = LoggedSegment.objects.get()
    segment = logged.segment
    assert segment.status == SegmentStatus.LOGGED
    entries = InteractionLogEntry.objects.filter(logged_segment=logged)
    assert entries.count() == logged.entry_count == segment.lines.count() > 0
    assert not entries.exclude(segment_no=segment.number).exists()


def test_running_twice_adds_on_top_without_clashes():
    seed(*SMALL)
    users = get_user_model().objects.count()
    templates = InteractionTemplate.objects.count()

    output = seed(*SMALL)

    assert Contact.objects.count() == 80
    assert InteractionLogEntry.objects.count() == 400
    assert Campaign.objects.count() == 8
    assert Segment.objects.count() == 6
    assert LoggedSegment.objects.count() == 2
    assert get_user_model().objects.count() == users
    assert InteractionTemplate.objects.count() == templates
    assert MarketingSetup.load().contact_nos.last_number == 80
    assert "existed before; password left as it was" in output


def test_seed_continues_after_numbers_typed_by_hand():
    factories.CompanyFactory(number="CT000007")
    factories.SegmentFactory(number="SEG00003")
    factories.CampaignFactory(number="CAMP00002")

    seed(*SMALL)

    assert Contact.objects.count() == 41
    assert Contact.objects.filter(number="CT000008").exists()
    assert Segment.objects.filter(number="SEG00004").exists()
    assert Campaign.objects.filter(number="CAMP00003").exists()


def test_existing_users_keep_their_password():
    factories.SalespersonUserFactory(username="anna")

    output = seed(*SMALL)

    anna = get_user_model().objects.get(username="anna")
    assert anna.check_password(factories.PASSWORD)
    assert "anna     Salesperson (existed before" in output


def test_if_empty_seeds_an_empty_database_then_does_nothing():
    seed("--if-empty", *SMALL)
    assert Contact.objects.count() == 40

    output = seed("--if-empty", *SMALL)

    assert Contact.objects.count() == 40
    assert InteractionLogEntry.objects.count() == 200
    assert output.startswith("Contacts exist already; nothing seeded (--if-empty).")
    assert "  manager " in output


def test_interactions_for_existing_contacts_only():
    seed(*SMALL)

    seed("--contacts", "0", "--interactions", "100")

    assert Contact.objects.count() == 40
    assert InteractionLogEntry.objects.count() == 300


def test_negative_sizes_are_rejected():
    with pytest.raises(CommandError, match="whole number >= 0"):
        seed("--contacts", "-5")


def _schema(tables: list[str]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated "
            "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) "
            "UNION ALL SELECT indrelid::regclass::text, indexrelid::regclass::text, "
            "pg_get_indexdef(indexrelid), indisvalid FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[]) ORDER BY 1, 2, 3",
            [tables, tables],
        )
        return cursor.fetchall()


def test_bulk_path_puts_back_every_index_and_foreign_key(monkeypatch):
    tables = [Contact._meta.db_table, InteractionLogEntry._meta.db_table]
    before = _schema(tables)
    assert len(before) > 20
    monkeypatch.setattr(demo, "BULK_LOAD_MIN_ROWS", 1)

    with CaptureQueriesContext(connection) as queries:
        seed(*SMALL)

    dropped = [q["sql"] for q in queries if q["sql"].startswith(("DROP INDEX", "ALTER TABLE"))]
    assert any(InteractionLogEntry._meta.db_table in sql for sql in dropped)
    assert any(Contact._meta.db_table in sql for sql in dropped)
    assert _schema(tables) == before
    assert InteractionLogEntry.objects.count() == 200
    entries = InteractionLogEntry.objects.select_related("contact")
    assert all(entry.contact_company == entry.contact.company_contact for entry in entries)
