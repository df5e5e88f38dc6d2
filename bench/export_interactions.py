"""Time `export_interactions` against a bare `COPY (SELECT ...) TO STDOUT` of the same query.

    DATABASE_URL=postgres://.../crm_bench python bench/export_interactions.py [--since DATE]

Use a scratch database with data, e.g. after `seed_demo --contacts 100000 --interactions
1000000`. The export runs as its own process (as cron runs it) so its peak memory is its own;
an export of no rows gives the memory floor of the process, to show that rows add nothing.
The baseline is Postgres alone writing the same rows as CSV: the ratio is what Python and the
streaming cursor add.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import manage, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", help="only entries dated on or after DATE")
    options = parser.parse_args()
    setup_django()

    from django.db import connection

    from interactions.csv_export import rows_queryset
    from interactions.models import OLDEST_FIRST, InteractionLogEntry

    entries = InteractionLogEntry.objects.order_by(*OLDEST_FIRST)
    since = ["--since", options.since] if options.since else []
    if options.since:
        entries = entries.filter(date__gte=options.since)
    count = entries.count()

    with tempfile.TemporaryDirectory() as folder:
        empty = manage("export_interactions", "--since", "9999-12-31", "-o", f"{folder}/none.csv")
        export = manage("export_interactions", *since, "-o", f"{folder}/export.csv")
        export_bytes = Path(folder, "export.csv").stat().st_size

        sql, params = rows_queryset(entries).query.sql_with_params()
        start = time.perf_counter()
        with (
            open(f"{folder}/copy.csv", "wb") as out,
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", params) as copy,
        ):
            for data in copy:
                out.write(data)
        baseline = time.perf_counter() - start
        copy_bytes = Path(folder, "copy.csv").stat().st_size

    print(f"rows exported:          {count:,}")
    print(
        f"export_interactions:    {export.seconds:7.1f} s  ({count / export.seconds:,.0f} rows/s)"
    )
    print(f"COPY TO STDOUT:         {baseline:7.1f} s  (same query, same columns)")
    print(f"ratio export / COPY:    {export.seconds / baseline:7.2f}")
    print(f"peak memory, export:    {export.peak_mb:7.1f} MB  (target < 200 MB)")
    print(f"peak memory, no rows:   {empty.peak_mb:7.1f} MB  (the process's floor)")
    sizes = f"{export_bytes / 1e6:.0f} MB export, {copy_bytes / 1e6:.0f} MB COPY"
    print(f"file sizes:             {sizes} (COPY quotes empty strings)")


if __name__ == "__main__":
    main()
