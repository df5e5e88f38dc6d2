"""Contacts from a CSV file: validate every row, then COPY them in (docs/operations.md).

The file is UTF-8 (a BOM is allowed), comma-separated, with a header row naming the columns
in ``COLUMNS`` in any order; an unknown column rejects the file. Every bad row is reported with
its line number and the reason. Nothing is imported when any row is bad unless the caller
skips invalid rows (a person whose company row is bad is bad too).

Rows without a number take one from the contact number series of Marketing Setup. A person's
``company`` is a company's number, or its name when exactly one company (in the database or in
the file) has that name; the company may come anywhere in the file. Companies are copied in
first, then persons, each with one ``COPY``: 100,000 rows take seconds, not minutes. A cell
that a CSV export of ours made formula-safe is read without that apostrophe (a segment's
`Export Contacts` writes exactly these columns, so its file can be imported again).

Two imports at once are serialised by an advisory lock taken before the database checks, so
the second sees the first's numbers (a file with numbers is then refused as duplicates).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.utils import timezone

from contacts.models import (
    Contact,
    ContactType,
    CorrespondenceType,
    Language,
    MarketingSetup,
    Salesperson,
)

COLUMNS = (
    "type",
    "number",
    "name",
    "first_name",
    "surname",
    "company",
    "job_title",
    "email",
    "phone",
    "address",
    "postcode",
    "city",
    "country",
    "language",
    "salesperson",
    "correspondence_type",
    "exclude_from_segment",
    "privacy_blocked",
)
TEXT_FIELDS = (
    "name",
    "first_name",
    "surname",
    "job_title",
    "phone",
    "address",
    "postcode",
    "city",
)
TRUE = {"1", "true", "yes", "y", "x"}
FALSE = {"", "0", "false", "no", "n"}
BOOLEANS = TRUE | FALSE
# Plain strings: enum member lookups and `Choices.values` cost real time at 100,000 rows.
COMPANY, PERSON = str(ContactType.COMPANY.value), str(ContactType.PERSON.value)
IMPORT_LOCK = 7_001_008  # arbitrary, fixed: serialises imports
# A cell that our CSV exports made formula-safe (`interactions.csv_export`: an apostrophe before
# = + - @, a tab or a carriage return) is read back without that apostrophe, so a segment's
# Export Contacts can be imported again unchanged (a phone number such as +31 ...).
FORMULA_GUARDED = frozenset("'" + start for start in ("=", "+", "-", "@", "\t", "\r"))

Progress = Callable[[int], None]


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, not UTF-8, bad header, setup)."""


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class Row:
    """One valid row: the contact's column values, plus how to find its company."""

    line: int
    values: dict
    company_ref: str = ""
    company_row: Row | None = None  # the company is on this row of the file
    company_id: int | None = None  # ... or already in the database

    @property
    def is_company(self) -> bool:
        return self.values["type"] == COMPANY


@dataclass
class ImportResult:
    rows: int = 0
    companies: int = 0
    persons: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False
    bad_companies: dict[str, int] = field(default_factory=dict)  # number or name -> line

    @property
    def valid(self) -> int:
        return self.companies + self.persons


def import_contacts(
    path: str | Path,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate the file and, unless ``dry_run`` or a row is bad (and not ``skip_invalid``),
    import it in one transaction. Raises ImportFileError for a file that cannot be read."""
    text = _read(path)
    result = ImportResult()
    rows = _parse(text, result, progress)
    if dry_run:
        _check_against_database(rows, result)
        _numbers_needed(rows)  # only to report a missing series
        return result
    with transaction.atomic(durable=True):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK])
        rows = _check_against_database(rows, result)
        if result.errors and not skip_invalid:
            return result
        _insert(rows, progress)
        result.imported = True
    return result


# --- Reading and checking each row --------------------------------------------------------------


def _read(path: str | Path) -> str:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path}: is a folder, not a CSV file.") from None
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read it ({exc.strerror}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"{path}, line {line}: the file is not UTF-8 (byte {exc.start}). "
            "Save it as UTF-8 CSV and try again."
        ) from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields); a quoted field may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for fields in reader:
            yield start, fields
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(f"line {start}: not valid CSV ({exc}).") from None


def _header(fields: list[str]) -> list[str]:
    names = [name.strip().lower() for name in fields]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"line 1: unknown column(s) {', '.join(repr(n) for n in unknown)}. "
            f"Allowed columns: {', '.join(COLUMNS)}."
        )
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    if twice:
        raise ImportFileError(f"line 1: column(s) {', '.join(twice)} appear more than once.")
    if "type" not in names:
        raise ImportFileError("line 1: the column 'type' (company or person) is required.")
    if "name" not in names and not {"first_name", "surname"} & set(names):
        raise ImportFileError("line 1: a 'name' column (or first_name / surname) is required.")
    return names


class _EmailValidator(EmailValidator):
    """Django's email check, remembering each domain's verdict: an import repeats few domains
    over many rows, and the domain check is the costly half."""

    def __init__(self):
        super().__init__()
        self.domains: dict[str, bool] = {}

    def validate_domain_part(self, domain_part: str) -> bool:
        if domain_part not in self.domains:
            self.domains[domain_part] = super().validate_domain_part(domain_part)
        return self.domains[domain_part]


class _Checker:
    """Turns one record into contact values, or the list of what is wrong with it."""

    def __init__(self):
        self.max_length = {
            f.name: f.max_length for f in Contact._meta.concrete_fields if f.max_length
        }
        self.salespeople = {
            code: (pk, blocked)
            for pk, code, blocked in Salesperson.objects.values_list("pk", "code", "blocked")
        }
        self.correspondence = {}
        for value, label in CorrespondenceType.choices:
            self.correspondence[value] = value
            self.correspondence[str(label).lower()] = value
        self.correspondence.update({"hard copy": "hard_copy", "hardcopy": "hard_copy"})
        self.correspondence["e-mail"] = CorrespondenceType.EMAIL
        self.languages = {str(code) for code in Language.values}
        self.validate_email = _EmailValidator()

    def check(self, raw: dict[str, str]) -> tuple[dict, str, list[str]]:
        # PostgreSQL text cannot hold a NUL byte: refuse it here, with the row's line number,
        # rather than as a failing COPY.
        problems = [f"{name} contains a NUL byte" for name, text in raw.items() if "\0" in text]
        values: dict = {}
        kind = raw.get("type", "").strip().lower()
        if kind not in (COMPANY, PERSON):
            problems.append(f"type must be company or person, not {raw.get('type', '')!r}")
        values["type"] = kind
        for name in ("number", *TEXT_FIELDS):
            value = values[name] = raw.get(name, "").strip()
            if len(value) > self.max_length[name]:
                problems.append(
                    f"{name} is longer than {self.max_length[name]} characters ({len(value)})"
                )
        if kind == PERSON and not values["name"]:
            values["name"] = " ".join(p for p in (values["first_name"], values["surname"]) if p)
            if len(values["name"]) > self.max_length["name"]:
                values["name"] = values["name"][: self.max_length["name"]]
        if not values["name"]:
            problems.append(
                "name is required" if kind != PERSON else "name, first_name or surname is required"
            )
        company = raw.get("company", "").strip()
        if company and kind == COMPANY:
            problems.append("a company cannot belong to a company; leave company empty")

        email = raw.get("email", "").strip()
        if email:
            try:
                self.validate_email(email)
            except ValidationError:
                problems.append(f"email {email!r} is not a valid email address")
        values["email"] = email
        country = raw.get("country", "").strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            problems.append(f"country must be a two-letter code such as NL, not {country!r}")
        values["country"] = country
        language = raw.get("language", "").strip().lower()
        if language and language not in self.languages:
            problems.append(
                f"language {language!r} is not one of {', '.join(sorted(self.languages))}"
            )
        values["language"] = language
        code = raw.get("salesperson", "").strip()
        values["salesperson_id"] = None
        if code:
            found = self.salespeople.get(code)
            if found is None:
                problems.append(f"salesperson {code!r} does not exist")
            elif found[1]:
                problems.append(f"salesperson {code!r} is blocked")
            else:
                values["salesperson_id"] = found[0]
        corres = raw.get("correspondence_type", "").strip().lower()
        if corres not in self.correspondence:
            problems.append(
                f"correspondence_type must be empty, hard_copy or email, not {corres!r}"
            )
        values["correspondence_type"] = self.correspondence.get(corres, "")
        for flag in ("exclude_from_segment", "privacy_blocked"):
            text = raw.get(flag, "").strip().lower()
            if text not in BOOLEANS:
                problems.append(f"{flag} must be yes or no (or 1 / 0), not {text!r}")
            values[flag] = text in TRUE
        return values, company, problems


def _parse(text: str, result: ImportResult, progress: Progress | None) -> list[Row]:
    """The valid rows; ``result`` collects the errors and, in ``bad_companies``, the number
    and name of each refused company row (so a person pointing at one is told why)."""
    records = _records(text)
    first = next(records, None)
    if first is None or not any(f.strip() for f in first[1]):
        raise ImportFileError("line 1: the file is empty; it needs a header row.")
    names = _header(first[1])
    checker = _Checker()
    rows: list[Row] = []
    for line, fields in records:
        if not fields or not any(f.strip() for f in fields):
            continue  # blank line
        result.rows += 1
        if progress:
            progress(1)
        if len(fields) != len(names):
            result.errors.append(
                RowError(line, f"has {len(fields)} fields; the header has {len(names)}")
            )
            continue
        raw = {
            name: text[1:] if text[:2] in FORMULA_GUARDED else text
            for name, text in zip(names, fields, strict=True)
        }
        values, company, problems = checker.check(raw)
        if problems:
            result.errors.append(RowError(line, "; ".join(problems)))
            if values["type"] == COMPANY:
                for ref in (values["number"], values["name"]):
                    if ref:
                        result.bad_companies.setdefault(ref, line)
        else:
            rows.append(Row(line, values, company_ref=company))
    _check_numbers_in_file(rows, result)
    _link_companies_in_file(rows, result)
    return rows


def _check_numbers_in_file(rows: list[Row], result: ImportResult) -> None:
    first_line: dict[str, int] = {}
    for row in rows:
        number = row.values["number"]
        if not number:
            continue
        if number in first_line:
            _reject(row, result, f"number {number} is also on line {first_line[number]}")
        else:
            first_line[number] = row.line
    _drop_rejected(rows)


def _link_companies_in_file(rows: list[Row], result: ImportResult) -> None:
    """Point persons at company rows of the same file, by number or by name."""
    by_number = {row.values["number"]: row for row in rows if row.values["number"]}
    companies_by_name: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if row.is_company:
            companies_by_name[row.values["name"]].append(row)
    for row in rows:
        ref = row.company_ref
        if not ref:
            continue
        if ref in result.bad_companies:
            line = result.bad_companies[ref]
            _reject(row, result, f"its company {ref!r} (line {line}) has errors")
            continue
        target = by_number.get(ref)
        if target is not None:
            if not target.is_company:
                _reject(row, result, f"company {ref} (line {target.line}) is a person")
            else:
                row.company_row = target
            continue
        named = companies_by_name.get(ref, [])
        if len(named) > 1:
            lines = ", ".join(str(r.line) for r in named)
            _reject(
                row, result, f"company name {ref!r} is not unique (lines {lines}); use a number"
            )
        elif named:
            row.company_row = named[0]
    _drop_rejected(rows)


def _reject(row: Row, result: ImportResult, message: str) -> None:
    result.errors.append(RowError(row.line, message))
    row.values["bad"] = True
    if row.is_company:
        for ref in (row.values["number"], row.values["name"]):
            if ref:
                result.bad_companies.setdefault(ref, row.line)


def _drop_rejected(rows: list[Row]) -> None:
    rows[:] = [row for row in rows if not row.values.pop("bad", False)]


# --- Checks against the database ----------------------------------------------------------------


# One array parameter (`= ANY(%s)`) instead of `IN` with a placeholder per value: Postgres
# plans 100,000 values in one statement as quickly as ten.


def _rows_where_any(columns: str, column: str, values: Iterable[str], *, type_: str = "") -> list:
    values = sorted(set(values))
    if not values:
        return []
    table = connection.ops.quote_name(Contact._meta.db_table)
    sql = f"SELECT {columns} FROM {table} WHERE {column} = ANY(%s)"
    params: list = [values]
    if type_:
        sql += " AND type = %s"
        params.append(type_)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _existing(numbers: Iterable[str]) -> dict[str, tuple[int, str]]:
    """number -> (id, type) of contacts that already exist."""
    return {
        number: (pk, kind)
        for pk, number, kind in _rows_where_any("id, number, type", "number", numbers)
    }


def _companies_named(names: Iterable[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for pk, name in _rows_where_any("id, name", "name", names, type_=COMPANY):
        found[name].append(pk)
    return found


def _check_against_database(rows: list[Row], result: ImportResult) -> list[Row]:
    """Duplicate numbers and company references; drops the rows that fail (and persons whose
    company row failed). Returns the rows left."""
    existing = _existing(row.values["number"] for row in rows if row.values["number"])
    for row in rows:
        if row.values["number"] in existing:
            _reject(row, result, f"number {row.values['number']} already exists")

    refs = [row.company_ref for row in rows if row.company_ref]
    by_number = _existing(ref for row in rows if (ref := row.company_ref) and not row.company_row)
    names = _companies_named(refs)
    for row in rows:
        ref = row.company_ref
        if not ref or row.values.get("bad"):
            continue
        if row.company_row is not None:
            in_database = names.get(ref, [])
            if row.company_row.values["number"] != ref and in_database:
                _reject(
                    row,
                    result,
                    f"company name {ref!r} is not unique (line {row.company_row.line} and "
                    f"{len(in_database)} existing); use a number",
                )
            continue
        if ref in by_number:
            pk, kind = by_number[ref]
            if kind != COMPANY:
                _reject(row, result, f"contact {ref} is a person, not a company")
            else:
                row.company_id = pk
            continue
        matches = names.get(ref, [])
        if len(matches) == 1:
            row.company_id = matches[0]
        elif len(matches) > 1:
            _reject(
                row,
                result,
                f"company name {ref!r} is not unique ({len(matches)} companies); use a number",
            )
        else:
            _reject(row, result, f"company {ref!r} not found (neither a number nor a name)")

    # A person whose company row was refused cannot be imported either.
    for row in rows:
        company = row.company_row
        if company is not None and company.values.get("bad") and not row.values.get("bad"):
            _reject(
                row,
                result,
                f"its company {row.company_ref!r} (line {row.company_row.line}) has errors",
            )
    _drop_rejected(rows)
    result.errors.sort(key=lambda error: error.line)
    result.companies = sum(1 for row in rows if row.is_company)
    result.persons = len(rows) - result.companies
    return rows


def _numbers_needed(rows: list[Row]) -> int:
    needed = sum(1 for row in rows if not row.values["number"])
    if needed and MarketingSetup.load().contact_nos is None:
        raise ImportFileError(
            f"{needed} row(s) have no number and Contact Nos. is not set up in Marketing "
            "Setup: set up the series or give every row a number."
        )
    return needed


# --- Writing --------------------------------------------------------------------------------------


def _insert(rows: list[Row], progress: Progress | None) -> None:
    # Other writers of contacts wait for the import from here on (reads go on). Each COPY
    # takes the kept totals' rows it changes in key order (ContactTotals, NamePrefixTotals),
    # but the companies' and the persons' COPY take two such sets: a contact saved between
    # them could hold a row of the second set while it waits for one of the first, and one of
    # the two would die of a deadlock.
    with connection.cursor() as cursor:
        cursor.execute(
            "LOCK TABLE contacts_contacttotals, contacts_nameprefixtotals IN EXCLUSIVE MODE"
        )
    needed = _numbers_needed(rows)
    if needed:
        _number(rows, needed)
    companies = [row for row in rows if row.is_company]
    persons = [row for row in rows if not row.is_company]
    _copy(companies, progress)
    ids = {
        number: pk
        for number, (pk, _kind) in _existing(r.values["number"] for r in companies).items()
    }
    for row in persons:
        if row.company_row is not None:
            row.company_id = ids[row.company_row.values["number"]]
    _copy(persons, progress)


def _number(rows: list[Row], needed: int) -> None:
    """Numbers from the contact number series for the rows without one (inside the import's
    transaction: a rollback gives them back)."""
    series = MarketingSetup.load().contact_nos
    explicit = {row.values["number"] for row in rows if row.values["number"]}
    numbers = series.take(needed)
    clashes = sorted(set(_existing(numbers)) | (explicit & set(numbers)))
    if clashes:
        raise ImportFileError(
            f"The contact number series {series.code} hands out numbers that already exist or "
            f"are in the file ({', '.join(clashes[:5])}); move its last number past them "
            "and import again. Nothing was imported."
        )
    unnumbered = (row for row in rows if not row.values["number"])
    for row, number in zip(unnumbered, numbers, strict=True):
        row.values["number"] = number


def _copy(rows: list[Row], progress: Progress | None) -> None:
    if not rows:
        return
    fields = [f for f in Contact._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    defaults = {f.attname: f.get_default() for f in fields}
    defaults.update(created_at=now, updated_at=now, company_id=None)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(Contact._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            values = {**defaults, **row.values, "company_id": row.company_id}
            copy.write_row([values[f.attname] for f in fields])
            if progress:
                progress(1)
