"""Time `import_contacts` on 100,000 rows against a bare COPY of the same rows.

    DATABASE_URL=postgres://.../crm_bench python bench/import_contacts.py [--rows N] [--keep]

Writes a CSV of N rows (a tenth companies with their own numbers; persons numbered from the
Contact Nos. series, pointing at their company by number or, one in four, by name), imports it
with the command as its own process (as an operator runs it), then deletes what it imported
unless --keep. The baseline is Postgres alone: `COPY` of the same rows, already resolved, into
a copy of the contacts table with the same indexes; the ratio is what checking every row,
resolving companies and numbering add.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time

from _common import manage, setup_django

CITIES = ["Amsterdam", "Utrecht", "Rotterdam", "Gent", "Antwerpen", "Köln", "Lyon", "Leeds"]
LANGUAGES = ["nl", "en", "de", "fr", ""]
CORRESPONDENCE = ["", "email", "hard_copy"]


def rows(count: int, tag: str, salespeople: list[str]):
    rng = random.Random(6)
    companies = max(1, count // 10)
    for i in range(companies):
        yield {
            "type": "company",
            "number": f"B{tag}C{i:06d}",
            "name": f"Bench {tag} Company {i:06d}",
            "email": f"info{i}@company{tag}.example",
            "phone": f"+31 20 {i:07d}",
            "address": f"Keizersgracht {i % 900 + 1}",
            "postcode": f"{1000 + i % 8999} AB",
            "city": rng.choice(CITIES),
            "country": "NL",
            "language": rng.choice(LANGUAGES),
            "salesperson": rng.choice(salespeople),
            "correspondence_type": rng.choice(CORRESPONDENCE),
            "exclude_from_segment": "no",
            "privacy_blocked": "no",
        }
    for i in range(count - companies):
        company = rng.randrange(companies)
        by_name = i % 4 == 0
        yield {
            "type": "person",
            "first_name": f"First{i}",
            "surname": f"Surname{i}",
            "company": f"Bench {tag} Company {company:06d}" if by_name else f"B{tag}C{company:06d}",
            "job_title": "Buyer",
            "email": f"person{i}@people{tag}.example",
            "city": rng.choice(CITIES),
            "country": "NL",
            "language": rng.choice(LANGUAGES),
            "salesperson": rng.choice(salespeople),
            "correspondence_type": rng.choice(CORRESPONDENCE),
            "exclude_from_segment": "yes" if i % 50 == 0 else "no",
            "privacy_blocked": "no",
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the imported contacts")
    options = parser.parse_args()
    setup_django()

    from django.db import connection, transaction

    from contacts.importer import COLUMNS
    from contacts.models import Contact, MarketingSetup, NumberSeries, Salesperson

    setup = MarketingSetup.load()
    if setup.contact_nos is None:
        setup.contact_nos, _ = NumberSeries.objects.get_or_create(
            code="CONT", defaults={"prefix": "CT", "width": 6}
        )
        setup.save()
    salespeople = list(Salesperson.objects.filter(blocked=False).values_list("code", flat=True))
    salespeople = salespeople[:8] or [""]
    tag = f"{int(time.time()) % 100000:05d}"
    last_id = Contact.objects.order_by("-id").values_list("id", flat=True).first() or 0

    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        data = list(rows(options.rows, tag, salespeople))
        writer.writerows(data)
        file.flush()
        run = manage("import_contacts", file.name)

    imported = Contact.objects.filter(id__gt=last_id).count()

    # Baseline: the same rows, resolved, COPYed into a same-shaped table with the same indexes.
    fields = [f for f in Contact._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f.column for f in fields)
    codes = dict(Salesperson.objects.values_list("code", "id"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_contact (LIKE contacts_contact INCLUDING ALL) ON COMMIT DROP"
        )
        start = time.perf_counter()
        with cursor.cursor.copy(f"COPY bench_contact ({columns}) FROM STDIN") as copy:
            for n, row in enumerate(data):
                values = {f.attname: f.get_default() for f in fields}
                values.update(
                    {k: v for k, v in row.items() if k in values and k not in ("company",)}
                )
                values["number"] = row.get("number") or f"B{tag}P{n:07d}"
                values["name"] = row.get("name") or f"{row['first_name']} {row['surname']}"
                values["salesperson_id"] = codes.get(row["salesperson"])
                values["exclude_from_segment"] = row["exclude_from_segment"] == "yes"
                values["privacy_blocked"] = False
                values["created_at"] = values["updated_at"] = "now"
                copy.write_row([values[f.attname] for f in fields])
        baseline = time.perf_counter() - start

    if not options.keep:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM contacts_contact WHERE id > %s AND company_id IS NOT NULL", [last_id]
            )
            cursor.execute("DELETE FROM contacts_contact WHERE id > %s", [last_id])

    print(f"rows in the file:       {options.rows:,}")
    print(f"contacts imported:      {imported:,}  ({run.stdout.strip()})")
    print(f"import_contacts:        {run.seconds:7.1f} s  (target < 30 s; process start included)")
    print(f"bare COPY, same rows:   {baseline:7.1f} s  (resolved values, same indexes)")
    print(f"ratio import / COPY:    {run.seconds / baseline:7.2f}")
    print(f"peak memory, import:    {run.peak_mb:7.1f} MB")


if __name__ == "__main__":
    main()
