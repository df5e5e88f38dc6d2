"""Export Contacts of a segment (issue 17): a streamed, formula-safe CSV with exactly the
columns `import_contacts` reads, so a file can go out and come back in."""

from __future__ import annotations

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from contacts.importer import COLUMNS, import_contacts
from contacts.models import Contact
from tests import factories

pytestmark = pytest.mark.django_db

# Every column of a contact that the file carries (the company by its number).
COMPARED = [
    "type",
    "number",
    "name",
    "first_name",
    "surname",
    "company__number",
    "job_title",
    "email",
    "phone",
    "address",
    "postcode",
    "city",
    "country",
    "language",
    "salesperson__code",
    "correspondence_type",
    "exclude_from_segment",
    "privacy_blocked",
]


def export(client, segment) -> list[list[str]]:
    response = client.get(reverse("segments:segment_export", args=[segment.pk]))
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"segment-{segment.number}-contacts.csv" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def segment(owner):
    return factories.SegmentFactory(
        number="SEG00001", salesperson=owner.salesperson, created_by=owner
    )


@pytest.fixture
def book(owner, segment):
    acme = factories.CompanyFactory(
        number="ACME", name='Acme, "the" company', phone="+31 20 555 0100", city="Utrecht"
    )
    people = [
        factories.PersonFactory(
            number="ANN",
            company=acme,
            first_name="Ann",
            surname="-Dash",
            name="Ann -Dash",
            salesperson=owner.salesperson,
            correspondence_type="email",
            language="nl",
            address="Line 1\nLine 2",
            postcode="1234 AB",
            exclude_from_segment=True,
        ),
        factories.PersonFactory(
            number="BOB", company=acme, job_title="@buyer", email="bob@example.com"
        ),
    ]
    for contact in (acme, *people):
        factories.SegmentLineFactory(segment=segment, contact=contact)
    return [acme, *people]


def test_export_has_the_import_columns_and_a_row_per_line_in_line_order(
    owner_client, segment, book
):
    rows = export(owner_client, segment)
    assert rows[0] == list(COLUMNS)
    assert [row[1] for row in rows[1:]] == ["ACME", "ANN", "BOB"]
    ann = dict(zip(rows[0], rows[2], strict=True))
    assert ann["company"] == "ACME"
    assert ann["salesperson"] == "OWN"
    assert ann["exclude_from_segment"] == "yes"
    assert ann["privacy_blocked"] == "no"
    assert ann["address"] == "Line 1\nLine 2"


def test_export_cells_are_formula_safe(owner_client, segment, book):
    rows = export(owner_client, segment)
    acme, ann, bob = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert acme["phone"] == "'+31 20 555 0100"
    assert ann["surname"] == "'-Dash"
    assert bob["job_title"] == "'@buyer"
    assert acme["name"] == 'Acme, "the" company'


def test_every_text_cell_that_starts_a_formula_is_neutralised(owner_client, segment):
    salesperson = factories.SalespersonFactory(code="=SP")
    company = factories.CompanyFactory(number="=CO", name="=company")
    free_text = ["name", "first_name", "surname", "job_title", "phone", "address", "postcode"]
    person = factories.PersonFactory(
        number="+P1",
        company=company,
        salesperson=salesperson,
        email="@person@example.com",
        city="-city",
        **{field: f"=HYPERLINK({field})" for field in free_text},
    )
    factories.SegmentLineFactory(segment=segment, contact=person)
    rows = export(owner_client, segment)
    row = dict(zip(rows[0], rows[1], strict=True))
    for column in [*free_text, "number", "company", "salesperson", "email", "city"]:
        assert row[column][:2] in ("'=", "'+", "'-", "'@"), column


def test_exported_contacts_import_again_unchanged(owner_client, segment, book, tmp_path):
    rows = export(owner_client, segment)
    before = sorted(Contact.objects.filter(segment_lines__segment=segment).values_list(*COMPARED))
    path = tmp_path / "contacts.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    # An emptied database: the segment and its contacts go, then the file comes back in.
    segment.delete()
    Contact.objects.filter(type="person").delete()
    Contact.objects.all().delete()

    result = import_contacts(path)

    assert result.errors == []
    assert (result.companies, result.persons) == (1, 2)
    assert sorted(Contact.objects.values_list(*COMPARED)) == before


def test_export_reads_a_fixed_number_of_queries(owner_client, segment, django_assert_num_queries):
    for _ in range(2):
        with django_assert_num_queries(6):  # session, user, segment, savepoint, rows, release
            export(owner_client, segment)
        factories.SegmentLineFactory.create_batch(20, segment=segment)


def test_a_logged_segments_contacts_can_be_exported(owner_client, book):
    logged = factories.LoggedSegmentFactory()
    factories.SegmentLineFactory(segment=logged.segment, contact=book[1])
    rows = export(owner_client, logged.segment)
    assert [row[1] for row in rows[1:]] == ["ANN"]


def test_the_segment_page_offers_export_contacts(owner_client, segment, book):
    html = owner_client.get(segment.get_absolute_url()).content.decode()
    assert reverse("segments:segment_export", args=[segment.pk]) in html
