"""What the spreadsheet-formula guard costs the CSV export: its query with and without it.

    DATABASE_URL=postgres://.../crm_bench python bench/csv_formula_guard.py [--rounds 5]

Both exports write every text column through `interactions.csv_export._text`, which puts an
apostrophe in front of a value that would start a formula, in the database. This runs the
export's query (all entries, oldest first) through `COPY ... TO STDOUT` as it is and with the
guard's CASE replaced by `left(value, 0)` (an empty string from the same inputs; the query is
the same otherwise), alternating, and prints the median of each and their ratio: the
database's extra work for the guard.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import setup_django


def copy_seconds(sql: str, params) -> float:
    from django.db import connection

    start = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy,
    ):
        for _data in copy:
            pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    setup_django()

    from interactions import csv_export
    from interactions.models import OLDEST_FIRST, InteractionLogEntry

    entries = InteractionLogEntry.objects.order_by(*OLDEST_FIRST)
    guarded = csv_export.rows_queryset(entries).query.sql_with_params()
    template = csv_export._FormulaGuard.template
    csv_export._FormulaGuard.template = "left(%(expressions)s, 0)"  # '', the same inputs
    try:
        plain = csv_export.rows_queryset(entries).query.sql_with_params()
    finally:
        csv_export._FormulaGuard.template = template

    copy_seconds(*plain)  # warm the cache
    times: dict[str, list[float]] = {"guarded": [], "plain": []}
    for _round in range(options.rounds):
        times["plain"].append(copy_seconds(*plain))
        times["guarded"].append(copy_seconds(*guarded))
    medians = {name: statistics.median(values) for name, values in times.items()}

    print(f"rows:                   {entries.count():,}")
    print(f"COPY, text plain:       {medians['plain']:6.2f} s (median of {options.rounds})")
    print(f"COPY, formula guard:    {medians['guarded']:6.2f} s")
    print(f"ratio guarded / plain:  {medians['guarded'] / medians['plain']:6.2f}")


if __name__ == "__main__":
    main()
