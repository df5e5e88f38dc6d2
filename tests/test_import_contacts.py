"""`import_contacts FILE.csv [--dry-run] [--skip-invalid]` (docs/operations.md)."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from contacts.models import Contact, ContactType, NumberSeries
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def series(db):
    setup = factories.MarketingSetupFactory(
        contact_nos=factories.NumberSeriesFactory(code="CONT", prefix="CT", width=5)
    )
    return setup.contact_nos


@pytest.fixture
def write(tmp_path):
    def write(text: str, *, name: str = "contacts.csv", bom: bool = False) -> str:
        path = tmp_path / name
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
        return str(path)

    return write


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_contacts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(*args) -> tuple[str, str]:
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_contacts", *args, stdout=StringIO(), stderr=err)
    return str(raised.value), err.getvalue()


def test_imports_companies_and_persons_numbered_from_the_series(series, write):
    salesperson = factories.SalespersonFactory(code="ANN")
    path = write(
        "type,name,first_name,surname,company,email,city,country,language,salesperson,"
        "correspondence_type,exclude_from_segment,privacy_blocked\n"
        # The person comes before its company and points at it by name.
        "person,,Jan,Jansen,Acme BV,jan@acme.example,,,nl,ANN,email,no,\n"
        "company,Acme BV,,,,info@acme.example,Utrecht,nl,nl,ANN,Hard Copy,yes,0\n",
        bom=True,
    )

    out, err = run(path)

    assert out.splitlines() == [f"Imported 1 company and 1 person from {path}."]
    assert err == ""
    acme = Contact.objects.get(name="Acme BV")
    jan = Contact.objects.get(surname="Jansen")
    assert (acme.number, jan.number) == ("CT00002", "CT00001")
    assert acme.type == ContactType.COMPANY
    assert (acme.city, acme.country, acme.language) == ("Utrecht", "NL", "nl")
    assert acme.correspondence_type == "hard_copy"
    assert acme.exclude_from_segment is True
    assert acme.privacy_blocked is False
    assert jan.company == acme
    assert jan.name == "Jan Jansen"
    assert jan.salesperson == salesperson
    assert jan.correspondence_type == "email"
    assert NumberSeries.objects.get(pk=series.pk).last_number == 2


def test_a_person_may_name_its_company_by_number_in_the_file_or_the_database(series, write):
    existing = factories.CompanyFactory(number="C-OLD", name="Old Corp")
    path = write(
        "number,type,name,company\n"
        "P1,person,Piet,C-NEW\n"
        "P2,person,Kees,C-OLD\n"
        "P3,person,Mies,Old Corp\n"
        "C-NEW,company,New Corp,\n"
    )

    run(path)

    assert Contact.objects.get(number="P1").company.number == "C-NEW"
    assert Contact.objects.get(number="P2").company == existing
    assert Contact.objects.get(number="P3").company == existing
    assert NumberSeries.objects.get(pk=series.pk).last_number == 0  # every row had a number


def test_every_bad_row_is_reported_with_its_line_number_and_nothing_is_imported(series, write):
    factories.SalespersonFactory(code="BLK", blocked=True)
    factories.CompanyFactory(number="TAKEN")
    path = write(
        "type,number,name,email,language,salesperson,correspondence_type,privacy_blocked,company\n"
        "company,,Good Company,,,,,,\n"  # line 2: fine
        "robot,,Bad Type,,,,,,\n"  # line 3
        'company,,"A name\nover two lines",not-an-email,,,,,\n'  # line 4 (spans 4-5)
        "company,,Lang,,xx,BLK,fax,maybe,\n"  # line 6
        "company,TAKEN,Dup,,,,,,\n"  # line 7
        "person,,Lost Person,,,,,,Nowhere Ltd\n"  # line 8
        "company,,,,,,,,\n"  # line 9
        "company,,Short\n"  # line 10
    )

    message, err = fails(path)

    assert message == (
        "7 of 8 rows are invalid (listed above); nothing imported. "
        "Fix them, or use --skip-invalid to import the other rows."
    )
    assert err.splitlines() == [
        "line 3: type must be company or person, not 'robot'",
        "line 4: email 'not-an-email' is not a valid email address",
        "line 6: language 'xx' is not one of da, de, en, es, fi, fr, it, nl, no, pl, pt, sv; "
        "salesperson 'BLK' is blocked; "
        "correspondence_type must be empty, hard_copy or email, not 'fax'; "
        "privacy_blocked must be yes or no (or 1 / 0), not 'maybe'",
        "line 7: number TAKEN already exists",
        "line 8: company 'Nowhere Ltd' not found (neither a number nor a name)",
        "line 9: name is required",
        "line 10: has 3 fields; the header has 9",
    ]
    assert Contact.objects.count() == 1  # only the one made above
    assert NumberSeries.objects.get(pk=series.pk).last_number == 0  # no number used up


def test_skip_invalid_imports_the_good_rows_and_drops_persons_of_a_bad_company(series, write):
    path = write(
        "type,number,name,company,email\n"
        "company,C1,Fine Ltd,,\n"
        "company,C2,Broken Ltd,,broken\n"
        "person,P1,Anna,C1,\n"
        "person,P2,Bert,C2,\n"
        "person,P3,Carla,Broken Ltd,\n"
    )

    out, err = run(path, "--skip-invalid")

    assert out.strip() == (
        f"Imported 1 company and 1 person from {path}; skipped 3 invalid rows (listed above)."
    )
    assert err.splitlines() == [
        "line 3: email 'broken' is not a valid email address",
        "line 5: its company 'C2' (line 3) has errors",
        "line 6: its company 'Broken Ltd' (line 3) has errors",
    ]
    assert set(Contact.objects.values_list("number", flat=True)) == {"C1", "P1"}


def test_dry_run_reports_and_imports_nothing(series, write):
    good = write("type,name\ncompany,One\ncompany,Two\n", name="good.csv")
    bad = write("type,name\ncompany,One\nthing,Two\n", name="bad.csv")

    out, _err = run(good, "--dry-run")
    assert out.strip() == "Dry run: 2 rows, 0 invalid; would import 2 companies and 0 persons."
    message, err = fails(bad, "--dry-run")
    assert message == (
        "Dry run: 2 rows, 1 invalid (listed above); would import nothing. "
        "Fix them, or use --skip-invalid to import the other rows."
    )
    assert err.strip() == "line 3: type must be company or person, not 'thing'"
    message, _err = fails(bad, "--dry-run", "--skip-invalid")
    assert message.startswith(
        "Dry run: 2 rows, 1 invalid (listed above); would import 1 company and 0 persons."
    )
    assert not Contact.objects.exists()
    assert NumberSeries.objects.get(pk=series.pk).last_number == 0


def test_a_nul_byte_in_any_field_is_an_error_of_its_row(series, write):
    path = write(
        "type,number,name,city,company\n"
        "company,C1,Fine Ltd,Delft,\n"
        "company,C2,Nul\0Ltd,,\n"  # line 3
        "person,P1,Anna,Ut\0recht,C1\n"  # line 4
        "person,P2,Bert,,C\0\n"  # line 5: the company reference too
        'company,C3,"Two\nlines\0",,\n'  # line 6 (spans 6-7)
    )

    message, err = fails(path)

    assert message.startswith("4 of 5 rows are invalid (listed above); nothing imported.")
    assert err.splitlines() == [
        "line 3: name contains a NUL byte",
        "line 4: city contains a NUL byte",
        "line 5: company contains a NUL byte",
        "line 6: name contains a NUL byte",
    ]
    assert not Contact.objects.exists()
    out, _err = run(path, "--skip-invalid")
    assert out.strip().startswith("Imported 1 company and 0 persons")
    assert list(Contact.objects.values_list("number", flat=True)) == ["C1"]


def test_duplicate_numbers_and_ambiguous_company_names_are_errors(series, write):
    factories.CompanyFactory(name="Twin BV")
    factories.CompanyFactory(name="Twin BV")
    factories.PersonFactory(number="PERS")
    path = write(
        "type,number,name,company\n"
        "company,C1,One,\n"
        "company,C1,Other,\n"
        "person,,Ann,Twin BV\n"
        "company,,Same,\n"
        "company,,Same,\n"
        "person,,Bob,Same\n"
        "person,,Cy,PERS\n"
    )

    _message, err = fails(path)

    assert err.splitlines() == [
        "line 3: number C1 is also on line 2",
        "line 4: company name 'Twin BV' is not unique (2 companies); use a number",
        "line 7: company name 'Same' is not unique (lines 5, 6); use a number",
        "line 8: contact PERS is a person, not a company",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("type,name,nickname,shoe_size\n", "line 1: unknown column(s) 'nickname', 'shoe_size'"),
        ("name,city\ncompany,x\n", "the column 'type' (company or person) is required"),
        ("type,name,Name\n", "column(s) name appear more than once"),
        ("", "the file is empty"),
        ('type,name\ncompany,"unclosed\n', "not valid CSV"),
    ],
)
def test_a_bad_header_or_file_is_refused_with_a_clear_message(series, write, content, message):
    text, _err = fails(write(content))

    assert message in text
    assert not Contact.objects.exists()


def test_a_file_that_is_not_utf8_names_the_line(series, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("type,name\ncompany,Caf\u00e9\n".encode("latin-1"))

    text, _err = fails(str(path))

    assert "line 2: the file is not UTF-8" in text


def test_a_missing_file_is_a_clear_error(tmp_path):
    text, _err = fails(str(tmp_path / "nope.csv"))

    assert text == f"{tmp_path / 'nope.csv'}: no such file."


def test_rows_without_numbers_need_the_contact_series(write):
    factories.MarketingSetupFactory(contact_nos=None)

    text, _err = fails(write("type,name\ncompany,Acme\n"))

    assert "Contact Nos. is not set up in Marketing Setup" in text


def test_a_series_number_that_already_exists_stops_the_import(series, write):
    factories.CompanyFactory(number="CT00002")

    text, _err = fails(write("type,name\ncompany,A\ncompany,B\n"))

    assert "hands out numbers that already exist or are in the file (CT00002)" in text
    assert Contact.objects.count() == 1
    assert NumberSeries.objects.get(pk=series.pk).last_number == 0  # rolled back


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_file_at_once_import_it_once(write):
    factories.MarketingSetupFactory()
    lines = "".join(f"company,N{i:03d},Company {i}\n" for i in range(200))
    path = write("type,number,name\n" + lines)
    barrier = threading.Barrier(2)
    outcomes = []

    def worker():
        try:
            barrier.wait(10)
            run(path)
            outcomes.append("imported")
        except CommandError as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes) == [
        "200 of 200 rows are invalid (listed above); nothing imported. "
        "Fix them, or use --skip-invalid to import the other rows.",
        "imported",
    ]
    assert Contact.objects.count() == 200
