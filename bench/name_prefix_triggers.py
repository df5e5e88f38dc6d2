"""Benchmark: what the name word starts' triggers (`NamePrefixTotals`, contacts/0007) cost the
contact writes, with those triggers enabled and disabled in the same run, alternating.

Run it against a scratch database, never a real one (it writes and deletes contacts, and
disables the four `name_prefix_totals_*` triggers while it measures; the search words' trigger
and the contact totals' stay on). A copy of a seeded database will do:

    createdb -h 127.0.0.1 -U postgres -T crm_load crm_prefix
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_prefix \\
        .venv/bin/python bench/name_prefix_triggers.py --rounds 3
    dropdb -h 127.0.0.1 -U postgres crm_prefix

Each round measures, with the triggers on and off (the order swapped every round):

- an import's statement: one INSERT ... SELECT of 100,000 contacts (copies of the first
  100,000, new numbers), then one UPDATE of their emails (no name word changes: the triggers
  write nothing) and one DELETE of them;
- one contact at a time, each statement its own transaction (a form's save): ``--single``
  INSERTs, UPDATEs of the name and DELETEs.

Each figure is CPU time of the PostgreSQL backend (from /proc, so the database must run on this
machine) plus this process's. With the triggers off, the totals go stale; every round puts
back exactly what it added, and the totals are checked against a recount at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import setup_django

setup_django()

from django.db import connection, transaction  # noqa: E402
from log_segment import backend_cpu  # noqa: E402

from contacts.models import KEPT_PREFIX_LENGTH  # noqa: E402

CONTACTS = "contacts_contact"
TRIGGERS = ("insert", "update", "delete")
# The columns an insert copies (not id, number and the search words, which its trigger writes).
COPIED = (
    "type, name, first_name, surname, company_id, job_title, salesperson_id, email, phone,"
    " language, address, postcode, city, country, correspondence_type, exclude_from_segment,"
    " privacy_blocked, created_at, updated_at"
)
MARK = "PREFIXBENCH-"


def set_triggers(on: bool) -> None:
    verb = "ENABLE" if on else "DISABLE"
    with transaction.atomic(), connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"ALTER TABLE {CONTACTS} {verb} TRIGGER name_prefix_totals_{name}")


def insert_many(cursor, rows: int) -> None:
    cursor.execute(
        f"""INSERT INTO {CONTACTS} (number, {COPIED})
            SELECT '{MARK}' || id, {COPIED} FROM {CONTACTS}
             WHERE number NOT LIKE '{MARK}%%' ORDER BY id LIMIT %s""",
        [rows],
    )


def update_emails(cursor, rows: int) -> None:
    cursor.execute(
        f"UPDATE {CONTACTS} SET email = 'x' || email WHERE number LIKE '{MARK}%%'",
    )


def delete_marked(cursor, rows: int = 0) -> None:
    cursor.execute(f"DELETE FROM {CONTACTS} WHERE number LIKE '{MARK}%%'")


def ids(cursor) -> list[int]:
    cursor.execute(f"SELECT id FROM {CONTACTS} WHERE number LIKE '{MARK}%%' ORDER BY id")
    return [pk for (pk,) in cursor.fetchall()]


def single_inserts(cursor, rows: int) -> None:
    cursor.execute(f"SELECT id FROM {CONTACTS} ORDER BY id LIMIT %s", [rows])
    for (pk,) in cursor.fetchall():
        cursor.execute(
            f"""INSERT INTO {CONTACTS} (number, {COPIED})
                SELECT '{MARK}' || id, {COPIED} FROM {CONTACTS} WHERE id = %s""",
            [pk],
        )


def single_renames(cursor, rows: int) -> None:
    for pk in ids(cursor):
        cursor.execute(f"UPDATE {CONTACTS} SET name = 'Renamed ' || name WHERE id = %s", [pk])


def single_deletes(cursor, rows: int) -> None:
    for pk in ids(cursor):
        cursor.execute(f"DELETE FROM {CONTACTS} WHERE id = %s", [pk])


def cpu_of(work, rows: int, *, atomic: bool) -> float:
    cpu = backend_cpu() + time.process_time()
    if atomic:
        with transaction.atomic(), connection.cursor() as cursor:
            work(cursor, rows)
    else:
        with connection.cursor() as cursor:
            work(cursor, rows)
    return backend_cpu() + time.process_time() - cpu


def recount_differs() -> int:
    """Starts whose kept total differs from a recount of the contacts' name words."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH counted AS (
                  SELECT left(word, n) AS prefix, count(DISTINCT c.id) AS contacts
                  FROM {CONTACTS} c,
                       unnest(tsvector_to_array(ts_filter(c.search, '{{a}}'))) AS word,
                       generate_series(1, least(length(word), {KEPT_PREFIX_LENGTH})) AS n
                  GROUP BY 1)
                SELECT count(*) FROM counted
                FULL JOIN contacts_nameprefixtotals kept USING (prefix)
                WHERE coalesce(kept.contacts, 0) <> coalesce(counted.contacts, 0)"""
        )
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the bulk statements")
    parser.add_argument("--single", type=int, default=1_000, help="one-row statements of each")
    args = parser.parse_args()
    print(f"database {connection.settings_dict['NAME']}", flush=True)
    with connection.cursor() as cursor:
        delete_marked(cursor)
    steps = [
        (f"INSERT ... SELECT of {args.rows:,}", insert_many, args.rows, True),
        (f"UPDATE of their emails ({args.rows:,})", update_emails, args.rows, True),
        (f"DELETE of the {args.rows:,}", delete_marked, args.rows, True),
        (f"one INSERT at a time, x {args.single:,}", single_inserts, args.single, False),
        (f"one rename at a time, x {args.single:,}", single_renames, args.single, False),
        (f"one DELETE at a time, x {args.single:,}", single_deletes, args.single, False),
    ]
    results: dict[tuple[str, bool], list[float]] = {}
    try:
        for number in range(1, args.rounds + 1):
            for on in (True, False) if number % 2 else (False, True):
                print(f"\nround {number}, triggers {'on' if on else 'off'}", flush=True)
                set_triggers(on)
                for label, work, rows, atomic in steps:
                    cpu = cpu_of(work, rows, atomic=atomic)
                    results.setdefault((label, on), []).append(cpu)
                    print(f"  {label:<40} {cpu:6.2f} s CPU", flush=True)
                with connection.cursor() as cursor:
                    cursor.execute(f"VACUUM ANALYZE {CONTACTS}")
    finally:
        set_triggers(True)
    print(f"\nmedians of {args.rounds} rounds, CPU s: on / off (ratio), and per row")
    for label, _, rows, _ in steps:
        on = statistics.median(results[(label, True)])
        off = statistics.median(results[(label, False)])
        per_row = (on - off) / rows * 1e6
        print(f"  {label:<40} {on:6.2f} / {off:6.2f} ({on / off:4.2f}x), {per_row:+.1f} us a row")
    print(f"\nkept totals differing from a recount: {recount_differs()}")


if __name__ == "__main__":
    main()
