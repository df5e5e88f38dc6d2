"""Benchmark: what the totals' triggers cost the writes (issue 19), with the triggers enabled
and disabled in the same run, alternating.

Run it against a scratch database, never a real one (it writes and deletes rows freely, and
disables the user triggers of the segment line and log entry tables while it measures; the
foreign keys' triggers stay on):

    createdb -h 127.0.0.1 -U postgres crm_bench19
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench19
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/totals_triggers.py --rounds 3
    dropdb -h 127.0.0.1 -U postgres crm_bench19

It adds the 100,000 "Benchville" persons of `bench/log_segment.py`. Each round measures, with
the triggers on and off (the order swapped every round, so that the machine's drift biases
neither):

- lines: one INSERT ... SELECT of 100,000 segment lines (`log_segment.bare_add`'s statement)
  and one DELETE of them; the line triggers keep `SegmentTotals` (segments/0007);
- entries: one INSERT ... SELECT of 100,000 log entries of one template and salesperson, spread
  over 700 days (700 day rows and 24 month rows of `EntryDayTotals` to upsert), and one DELETE;
- one line and one entry at a time: single-row INSERTs, each in its own transaction (a
  Finish of the wizard writes one entry so; Add Contact of one person one line).

Each is CPU time of the PostgreSQL backend (from /proc, so the database must run on this
machine) plus this process's, and wall time; rows are deleted and the tables vacuumed between
measurements, untimed, with the same trigger setting as their insert (so the totals stay right).

With `--explain N` it only runs EXPLAIN ANALYZE of the two 100,000-row inserts N times, rolled
back, and prints the statement's time and each AFTER trigger's as PostgreSQL reports them: the
triggers' share measured inside the one execution. On a busy shared machine that is the figure
to read for the bulk inserts: whole statements there vary from run to run by more than their
triggers cost (docs/benchmarks.md, issue 19, part I); the single-row figures hold up better.

With `--only entry_contact_totals` the rounds switch only those triggers (the contact card's
monthly totals, part Q) and leave the others on: what they add to the same writes.

On a database migrated to before issue 19 (no line triggers, day rows only) the same script
measures the old triggers; there "lines on" and "lines off" are the same statement (a control).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.db import connection, transaction
from django.utils import timezone
from log_segment import (
    CITY,
    ENTRY_COLUMNS,
    backend_cpu,
    ensure_contacts,
    ensure_setup,
    explain_triggers_rolled_back,
    forget_earlier_runs,
)

from contacts.models import Contact
from interactions.models import EntryDayTotals, InteractionLogEntry
from segments import services
from segments.models import SegmentLine

ROWS = 100_000


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def entry_values(contact: str) -> str:
    """The SELECT list of one entry for ``contact`` (an SQL expression with id and
    company_id); parameters: template, group, salesperson, user, now, now, user."""
    return f"""
        {contact}.id, {contact}.company_id, DATE '2025-01-01' + ({contact}.id %% 700)::int,
        '10:00', 'Trigger benchmark', '', %s, %s, %s, 'outbound', 'us', '', 1, 2, '', false,
        NULL, false, false, NULL, 'BENCH19', NULL, '', '', '', '', 0, NULL, '', NULL, false,
        NULL, %s, %s, %s, %s"""


def line_sql(columns: str) -> str:
    return f"""INSERT INTO {table(SegmentLine)} (segment_id, contact_id, {columns}, personalised,
                    created_at, created_by_id, updated_at, updated_by_id)"""


LINE_CONSTANTS = "NULL, '', '', '', '', '', '', '', 1, 2, NULL, false, false, NULL"


class Bench:
    def __init__(self, segment, user, template, salesperson, contact_ids, single: int):
        self.segment, self.user, self.template = segment, user, template
        self.salesperson, self.contact_ids, self.single = salesperson, contact_ids, single
        self.columns = ", ".join(services.LINE_VALUES)

    def entry_params(self) -> list:
        now = timezone.now()
        t, u = self.template, self.user.pk
        return [t.pk, t.group_id, self.salesperson.pk, u, now, now, u]

    def lines_statement(self) -> tuple[str, list]:
        now = timezone.now()
        return (
            f"""{line_sql(self.columns)}
                SELECT %s, c.id, {LINE_CONSTANTS}, false, %s, %s, %s, %s
                  FROM {table(Contact)} c WHERE c.city = %s AND c.type = 'person'""",
            [self.segment.pk, now, self.user.pk, now, self.user.pk, CITY],
        )

    def lines_many(self, cursor) -> None:
        cursor.execute(*self.lines_statement())
        assert cursor.rowcount == ROWS, cursor.rowcount

    def lines_delete(self, cursor) -> None:
        cursor.execute(f"DELETE FROM {table(SegmentLine)} WHERE segment_id = %s", [self.segment.pk])

    def entries_statement(self) -> tuple[str, list]:
        return (
            f"""INSERT INTO {table(InteractionLogEntry)} ({ENTRY_COLUMNS})
                SELECT {entry_values("c")} FROM {table(Contact)} c
                 WHERE c.city = %s AND c.type = 'person'""",
            [*self.entry_params(), CITY],
        )

    def entries_many(self, cursor) -> None:
        cursor.execute(*self.entries_statement())
        assert cursor.rowcount == ROWS, cursor.rowcount

    def entries_delete(self, cursor) -> None:
        cursor.execute(f"DELETE FROM {table(InteractionLogEntry)} WHERE segment_no = 'BENCH19'")

    def lines_single(self, cursor) -> None:
        """One line per statement, each in its own transaction (autocommit)."""
        sql = f"""{line_sql(self.columns)}
                  VALUES (%s, %s, {LINE_CONSTANTS}, false, %s, %s, %s, %s)"""
        for contact_id in self.contact_ids[: self.single]:
            now = timezone.now()
            cursor.execute(sql, [self.segment.pk, contact_id, now, self.user.pk, now, self.user.pk])

    def entries_single(self, cursor) -> None:
        sql = f"""INSERT INTO {table(InteractionLogEntry)} ({ENTRY_COLUMNS})
                  SELECT {entry_values("c")} FROM {table(Contact)} c WHERE c.id = %s"""
        for contact_id in self.contact_ids[: self.single]:
            cursor.execute(sql, [*self.entry_params(), contact_id])


def set_triggers(on: bool, only: str = "") -> None:
    """Every user trigger of the line and entry tables on or off; with ``only``, just the
    triggers whose names start so (the others stay on)."""
    verb = "ENABLE" if on else "DISABLE"
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (SegmentLine, InteractionLogEntry):
            if not only:
                cursor.execute(f"ALTER TABLE {table(model)} {verb} TRIGGER USER")
                continue
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = %s::regclass"
                " AND starts_with(tgname, %s)",
                [model._meta.db_table, only],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {table(model)} {verb} TRIGGER {name}")


def vacuum() -> None:
    with connection.cursor() as cursor:
        for model in (SegmentLine, InteractionLogEntry, EntryDayTotals):
            cursor.execute(f"VACUUM ANALYZE {table(model)}")
        cursor.execute("SELECT to_regclass('segments_segmenttotals')")
        if cursor.fetchone()[0]:
            cursor.execute("VACUUM ANALYZE segments_segmenttotals")


def measure(work, *, atomic: bool) -> tuple[float, float]:
    """Wall and CPU seconds of ``work(cursor)``; in one transaction with ``atomic`` (ending
    with its commit), else each statement its own."""
    cpu = backend_cpu() + time.process_time()
    start = time.perf_counter()
    if atomic:
        with transaction.atomic(), connection.cursor() as cursor:
            work(cursor)
    else:
        with connection.cursor() as cursor:
            work(cursor)
    return time.perf_counter() - start, backend_cpu() + time.process_time() - cpu


def cleanup(bench: Bench) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        bench.lines_delete(cursor)
        bench.entries_delete(cursor)
    vacuum()


def explain_triggers(bench: Bench, rounds: int) -> None:
    """EXPLAIN ANALYZE of the two 100,000-row inserts, rolled back: the time
    PostgreSQL reports for the statement and, apart, for each AFTER trigger it fired (the
    deferred foreign-key checks fire at commit and are not in it)."""
    for number in range(1, rounds + 1):
        for label, statement in (
            ("lines", bench.lines_statement),
            ("entries", bench.entries_statement),
        ):
            sql, params = statement()
            shown = explain_triggers_rolled_back(sql, params)
            print(f"  explain {number} {label}: {'; '.join(shown)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--single", type=int, default=2_000, help="single-row inserts of each")
    parser.add_argument(
        "--explain", type=int, default=0, help="only EXPLAIN ANALYZE the inserts this many times"
    )
    parser.add_argument(
        "--only",
        default="",
        help="switch only the triggers whose names start so (e.g. entry_contact_totals)",
    )
    args = parser.parse_args()

    print(f"database {connection.settings_dict['NAME']}", flush=True)
    forget_earlier_runs()
    user, salesperson, template = ensure_setup()
    ensure_contacts(ROWS, salesperson)
    contact_ids = list(
        Contact.objects.filter(city=CITY, type="person").order_by("pk").values_list("pk", flat=True)
    )
    segment = services.segment_create(
        user=user,
        description="Benchmark segment",
        date=timezone.localdate(),
        salesperson=salesperson,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE NOT tgisinternal "
            "AND tgrelid IN (%s::regclass, %s::regclass) ORDER BY 1, 2",
            [SegmentLine._meta.db_table, InteractionLogEntry._meta.db_table],
        )
        print("user triggers:", ", ".join(f"{t}.{n}" for t, n in cursor.fetchall()))
    bench = Bench(segment, user, template, salesperson, contact_ids, args.single)
    steps = [
        ("lines: INSERT ... SELECT of 100,000", bench.lines_many, True),
        ("lines: DELETE of the 100,000", bench.lines_delete, True),
        ("entries: INSERT ... SELECT of 100,000", bench.entries_many, True),
        ("entries: DELETE of the 100,000", bench.entries_delete, True),
        (f"one line at a time, x {args.single}", bench.lines_single, False),
        (f"one entry at a time, x {args.single}", bench.entries_single, False),
    ]
    if args.explain:
        explain_triggers(bench, args.explain)
        return
    results: dict[tuple[str, bool], list[tuple[float, float]]] = {}
    cleanup(bench)
    try:
        for number in range(1, args.rounds + 1):
            order = (True, False) if number % 2 else (False, True)
            for on in order:
                print(f"\nround {number}, triggers {'on' if on else 'off'}", flush=True)
                set_triggers(on, args.only)
                for label, work, atomic in steps:
                    wall, cpu = measure(work, atomic=atomic)
                    results.setdefault((label, on), []).append((wall, cpu))
                    print(f"  {label:<40} {wall:7.2f} s wall {cpu:6.2f} s CPU", flush=True)
                    if "DELETE" in label or "one entry" in label:
                        vacuum()
                cleanup(bench)
    finally:
        set_triggers(True, args.only)
        cleanup(bench)

    print(f"\nmedians of {args.rounds} rounds: on / off (ratio), wall then CPU")
    for label, _, _ in steps:
        line = f"  {label:<40}"
        for index, kind in ((0, "wall"), (1, "CPU")):
            on = statistics.median(r[index] for r in results[(label, True)])
            off = statistics.median(r[index] for r in results[(label, False)])
            line += f"  {kind} {on:6.2f} / {off:6.2f} s ({on / off:4.2f}x)"
        print(line)
        ratios = [
            on[1] / off[1]
            for on, off in zip(results[(label, True)], results[(label, False)], strict=True)
        ]
        print(f"    CPU ratio per round: {', '.join(f'{r:.2f}' for r in ratios)}")
        if label.startswith("one"):
            per = [
                (on[1] - off[1]) / args.single * 1000
                for on, off in zip(results[(label, True)], results[(label, False)], strict=True)
            ]
            print(f"    CPU the triggers add per row, ms: {', '.join(f'{p:.3f}' for p in per)}")


if __name__ == "__main__":
    main()
