"""The kept contact totals (`ContactTotals`, issue 19) equal what the contact table counts after
every path that changes contacts: the services, an import, `seed_demo`'s way (COPY), plain ORM
writes (the admin's), a type or salesperson change, deletes, a truncate, and two connections at
once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count

from contacts import services
from contacts.models import Contact, ContactTotals, ContactType
from tests import factories
from tests.test_segment_history import run_together

pytestmark = pytest.mark.django_db


def counted() -> dict:
    """The contacts per (type, salesperson), counted now."""
    rows = Contact.objects.values_list("type", "salesperson_id").annotate(n=Count("id"))
    return {(kind, salesperson): n for kind, salesperson, n in rows.order_by()}


def kept() -> dict:
    rows = ContactTotals.objects.exclude(contacts=0)
    return {(t.type, t.salesperson_id): t.contacts for t in rows}


def assert_exact() -> dict:
    assert kept() == counted()
    return kept()


@pytest.fixture
def ann(db):
    return factories.SalespersonFactory(code="ANN")


@pytest.fixture
def bob(db):
    return factories.SalespersonFactory(code="BOB")


def test_no_contacts_no_totals():
    assert ContactTotals.objects.number() == 0
    assert kept() == {}


def test_totals_follow_creates_type_and_salesperson_changes_and_deletes(owner, ann, bob):
    company = services.contact_create(
        user=owner, data={"type": ContactType.COMPANY, "name": "Acme", "number": "C1"}
    )
    person = services.contact_create(
        user=owner,
        data={"type": ContactType.PERSON, "name": "Jan", "number": "P1", "company": company},
    )
    assert assert_exact() == {("company", None): 1, ("person", None): 1}

    services.contact_update(user=owner, contact=person, data={"salesperson": ann})
    assert assert_exact() == {("company", None): 1, ("person", ann.pk): 1}
    other = services.contact_create(
        user=owner, data={"type": ContactType.COMPANY, "name": "Beta", "number": "C2"}
    )
    services.contact_update(
        user=owner, contact=other, data={"type": ContactType.PERSON, "salesperson": bob}
    )
    assert assert_exact()[("person", bob.pk)] == 1
    assert ContactTotals.objects.number() == 3
    assert ContactTotals.objects.filter(type=ContactType.PERSON).number() == 2
    assert ContactTotals.objects.filter(salesperson=ann).number() == 1

    services.contact_delete(user=owner, contact=other)
    services.contact_delete(user=owner, contact=person)
    assert assert_exact() == {("company", None): 1}


def test_plain_orm_writes_keep_the_totals(ann, bob):
    factories.PersonFactory.create_batch(3, salesperson=ann)  # and their three companies
    assert assert_exact() == {("company", None): 3, ("person", ann.pk): 3}
    # One statement across several keys, as the admin's bulk actions write.
    Contact.objects.filter(type=ContactType.PERSON).update(salesperson=bob)
    Contact.objects.filter(type=ContactType.COMPANY).update(salesperson=ann)
    assert assert_exact() == {("company", ann.pk): 3, ("person", bob.pk): 3}
    Contact.objects.filter(type=ContactType.PERSON).delete()
    assert assert_exact() == {("company", ann.pk): 3}


def test_an_update_that_changes_no_key_writes_no_totals(ann):
    person = factories.PersonFactory(salesperson=ann)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, ctid::text FROM contacts_contacttotals ORDER BY id")
        before = cursor.fetchall()
        Contact.objects.filter(pk=person.pk).update(email="new@example.com", name="Renamed")
        cursor.execute("SELECT id, ctid::text FROM contacts_contacttotals ORDER BY id")
        # An untouched row keeps its place; an update, even of the same values, moves it.
        assert cursor.fetchall() == before


def test_an_import_adds_its_contacts_to_the_totals(ann, tmp_path):
    factories.CompanyFactory(salesperson=ann)
    factories.import_contacts(
        tmp_path,
        "type,name,first_name,surname,company,salesperson\n"
        "company,Acme BV,,,,ANN\n"
        "person,,Jan,Jansen,Acme BV,ANN\n"
        "person,,Piet,Pietersen,Acme BV,\n",
    )
    assert assert_exact() == {("company", ann.pk): 2, ("person", ann.pk): 1, ("person", None): 1}


def test_a_copy_as_seed_demo_writes_it_is_counted(ann):
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY contacts_contact (number, type, name, first_name, surname, job_title, email,"
            " phone, language, address, postcode, city, country, correspondence_type,"
            " exclude_from_segment, privacy_blocked, salesperson_id, created_at, updated_at)"
            " FROM STDIN"
        ) as copy,
    ):
        for n in range(5):
            copy.write_row(
                (
                    f"K{n}",
                    "company",
                    f"Copied {n}",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    False,
                    False,
                    ann.pk,
                    "2026-01-01T00:00Z",
                    "2026-01-01T00:00Z",
                )
            )
    assert assert_exact() == {("company", ann.pk): 5}


def test_deleting_a_salesperson_without_contacts_takes_its_totals(ann):
    person = factories.PersonFactory(salesperson=ann)
    person.delete()
    assert ContactTotals.objects.filter(salesperson=ann).exists()  # a row at zero
    pk = ann.pk
    ann.delete()
    assert not ContactTotals.objects.filter(salesperson_id=pk).exists()


@pytest.mark.django_db(transaction=True)
def test_truncating_the_contacts_empties_the_totals():
    factories.PersonFactory.create_batch(2)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE contacts_contact CASCADE")
    assert ContactTotals.objects.number() == 0


@pytest.mark.django_db(transaction=True)
def test_two_connections_writing_contacts_at_once_keep_exact_totals(owner, ann, bob):
    companies = factories.CompanyFactory.create_batch(4, salesperson=ann)
    moved = factories.PersonFactory.create_batch(3, company=companies[0], salesperson=bob)

    def create(number: str, salesperson):
        return services.contact_create(
            user=owner,
            data={
                "type": ContactType.COMPANY,
                "name": number,
                "number": number,
                "salesperson": salesperson,
            },
        )

    _results, errors = run_together(
        lambda: create("N1", ann),
        lambda: create("N2", ann),
        lambda: create("N3", None),
        # Two bulk statements crossing keys in opposite directions (no deadlock: key order).
        lambda: Contact.objects.filter(pk__in=[p.pk for p in moved]).update(salesperson=ann),
        lambda: Contact.objects.filter(pk__in=[c.pk for c in companies[1:]]).update(
            salesperson=bob
        ),
        lambda: Contact.objects.bulk_create(
            Contact(type=ContactType.COMPANY, name=f"B{n}", number=f"B{n}", salesperson=bob)
            for n in range(5)
        ),
    )
    assert errors == []
    assert assert_exact() == {
        ("company", ann.pk): 1 + 2,
        ("company", bob.pk): 3 + 5,
        ("company", None): 1,
        ("person", ann.pk): 3,
    }
