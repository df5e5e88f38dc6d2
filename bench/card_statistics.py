"""Benchmark: the contact card's statistics summed from the log entries (as before issue 19
part Q) and read from the kept monthly totals (`CompanyMonthTotals`), by EXPLAIN ANALYZE.

For the busiest company, all time and a year with ends mid-month (the card's two usual
periods), ``--runs`` times each, alternating; prints the median execution and planning time
PostgreSQL reports and the buffers the statement touched, and checks that both give the same
figures; and the same for the busiest person's card, which still sums its entries. Reads only:

    DATABASE_URL=... .venv/bin/python bench/card_statistics.py --runs 7

With ``--writes N`` it instead runs EXPLAIN ANALYZE, N times and rolled back, of what writing
costs the totals: a `Log`-like INSERT ... SELECT of one entry for every contact of the
database (100,000 on `crm_load`: persons naming their company, companies), dated today,
and the same over 700 days; and prints the statement's time and each AFTER trigger's, as
PostgreSQL reports them (docs/benchmarks.md parts I and Q).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import os
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from contacts.models import Contact  # noqa: E402
from interactions.models import (  # noqa: E402
    CompanyMonthTotals,
    InteractionLogEntry,
    InteractionTemplate,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from log_segment import ENTRY_COLUMNS, explain_triggers_rolled_back  # noqa: E402


def busiest(column: str) -> Contact:
    row = InteractionLogEntry.objects.values(column).annotate(n=Count("id")).order_by("-n").first()
    return Contact.objects.get(pk=row[column])


class Caught(Exception):
    pass


def explained(read) -> tuple[float, float, int]:
    """Execution ms, planning ms and shared buffers of the one statement ``read()`` runs."""
    captured = {}

    def explain(execute, sql, params, many, context):
        with connection.connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        captured["plan"] = plan
        raise Caught

    with connection.execute_wrapper(explain), contextlib.suppress(Caught):
        read()
    plan = captured["plan"]
    execution = float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))
    planning = float(re.search(r"Planning Time: ([\d.]+)", plan).group(1))
    hit = re.search(r"Buffers: shared hit=(\d+)(?: read=(\d+))?", plan)
    return execution, planning, int(hit.group(1)) + int(hit.group(2) or 0)


def write_statement(dates: str) -> tuple[str, list]:
    """One entry for every contact; a person's names its company, a company itself."""
    template = InteractionTemplate.objects.order_by("pk").first()
    entries = connection.ops.quote_name(InteractionLogEntry._meta.db_table)
    contacts = connection.ops.quote_name(Contact._meta.db_table)
    sql = f"""INSERT INTO {entries} ({ENTRY_COLUMNS})
        SELECT c.id, CASE WHEN c.type = 'company' THEN c.id ELSE c.company_id END, {dates},
               '10:00', 'Card totals benchmark', '', %s, %s, NULL, 'outbound', 'us', '', 1, 2,
               '', false, NULL, false, false, NULL, 'BENCHQ', NULL, '', '', '', '', 0, NULL, '',
               NULL, false, NULL, NULL, now(), now(), NULL
        FROM {contacts} c"""
    return sql, [template.pk, template.group_id]


def explain_writes(runs: int) -> None:
    statements = {
        "today": write_statement("CURRENT_DATE"),
        "700 days": write_statement("CURRENT_DATE - (c.id %% 700)::int"),
    }
    for number in range(1, runs + 1):
        for label, (sql, params) in statements.items():
            shown = explain_triggers_rolled_back(sql, params)
            print(f"  explain {number} {label}: {'; '.join(shown)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--writes", type=int, default=0, help="only EXPLAIN the writes so often")
    args = parser.parse_args()
    if args.writes:
        print(f"{Contact.objects.count():,} contacts", flush=True)
        explain_writes(args.writes)
        return

    newest = InteractionLogEntry.objects.order_by("-date").values_list("date", flat=True)[0]
    last_month = newest.replace(day=1) - datetime.timedelta(days=1)
    year = ((last_month - datetime.timedelta(days=365)).replace(day=15), last_month.replace(day=14))
    print(f"{InteractionLogEntry.objects.count():,} log entries")
    for contact in (busiest("contact_company"), busiest("contact")):
        entries = InteractionLogEntry.objects.for_contact(contact)
        kind = "company" if contact.is_company else "person"
        for label, period in (("all time", (None, None)), ("a year", year)):
            summed = entries.statistics(*period)
            reads = {"entries": functools.partial(entries.statistics, *period)}
            if contact.is_company:
                kept = CompanyMonthTotals.objects.statistics(contact, *period)
                assert summed == kept, (contact, period, summed, kept)
                reads["totals"] = functools.partial(
                    CompanyMonthTotals.objects.statistics, contact, *period
                )
            times = {name: [] for name in reads}
            for _ in range(args.runs):
                for name, read in reads.items():
                    times[name].append(explained(read))
            line = f"{kind} {contact.pk} ({summed['count']:,} entries), {label}:"
            for name, runs in times.items():
                execution = statistics.median(run[0] for run in runs)
                planning = statistics.median(run[1] for run in runs)
                buffers = statistics.median(run[2] for run in runs)
                line += (
                    f"  {name} {execution:.3f} ms (+{planning:.3f} planning, {buffers:.0f} buffers)"
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()
