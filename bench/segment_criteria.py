"""Benchmark: `Add Contacts` by outcome criteria at 100,000 contacts and 1,000,000 log entries
against a bare INSERT ... SELECT of the same contacts, and `Go Back` of 100,000-line steps
(issue 17).

Run it against a scratch database, never a real one (it writes and deletes rows freely):

    psql -h 127.0.0.1 -U postgres -c 'create database crm_bench17'
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench17
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/segment_criteria.py --runs 3
    psql -h 127.0.0.1 -U postgres -c 'drop database crm_bench17'

It adds what it needs itself: the 100,000 persons of `bench/log_segment.py` (city
"Benchville") and ten log entries for each (one server-side INSERT ... SELECT): the first an
outbound call evaluated Positive, the others spread over 2025-2026 with every evaluation, some
inbound ones initiated by them (answers, never evaluated), some failed attempts and some
canceled ones.

Each run, every timed step ending with its commit:

- bare INSERT ... SELECT: the 100,000 lines by the plainest statement (`log_segment.bare_add`:
  constant line values, no header joins, no ON CONFLICT, no outcome condition), then removed;
- Add Contacts of the same contacts without an outcome condition (issue 5's criteria), undone;
- Add Contacts, has: `segment_add_contacts` with "Benchville persons that have an interaction
  evaluated Positive" (an EXISTS over their entries; all 100,000 match);
- Go Back of that step (its 100,000 lines leave);
- Add Contacts, has no: "... that have no inbound interaction initiated by them evaluated Very
  Negative" (a NOT EXISTS that must look at every contact's entries; all 100,000 match);
- Refine Contacts to nobody: the 100,000 lines move to `RemovedLine` (kept for Go Back);
- Go Back of that step: the 100,000 lines come back;
- bare DELETE of the same 100,000 lines: what Refine costs without keeping them.

Each step is measured as wall time and as CPU time: the PostgreSQL backend's (read from
/proc, so the database must run on this machine) plus this process's. On this shared VM the
wall time moves with whatever else runs (up to 3x within minutes); the CPU time hardly does, and
is about what the step takes on an idle machine (less the waits for the disk at commit).

It prints each run, the medians, the ratios to the bare statements, and the plans of the two
outcome queries (EXPLAIN, once).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import log_segment
from django.db import connection, transaction
from django.utils import timezone
from log_segment import (
    CITY,
    ENTRY_COLUMNS,
    bare_add,
    ensure_contacts,
    ensure_setup,
    forget_earlier_runs,
    vacuum,
)

from contacts.models import Contact
from interactions.models import InteractionLogEntry, InteractionTemplate
from segments import services
from segments.forms import Criteria
from segments.models import RemovedLine, SegmentLine, SegmentStep

ENTRIES_PER_CONTACT = 10
PLAIN = {"city": CITY, "type": "person"}
HAS = {"city": CITY, "type": "person", "interaction": "has", "evaluation": ["positive"]}
HAS_NO = {
    "city": CITY,
    "type": "person",
    "interaction": "has_no",
    "information_flow": "inbound",
    "initiated_by": "them",
    "evaluation": ["very_negative"],
}
NOBODY = {"city": "Nowhere at all"}
TICKS = os.sysconf("SC_CLK_TCK")
CPU: dict[str, float] = {}  # label -> CPU seconds of the last measurement


def backend_cpu() -> float:
    """CPU seconds the PostgreSQL backend of this connection has used so far."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@contextmanager
def timed(label: str, results: dict):
    """Wall time into ``results``, CPU time (backend + this process) into ``CPU``."""
    cpu = backend_cpu() + time.process_time()
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
    CPU[label] = backend_cpu() + time.process_time() - cpu
    print(f"  {label:<36} {results[label]:6.2f} s wall {CPU[label]:6.2f} s CPU", flush=True)


# `log_segment.bare_add` (the baseline) is measured the same way.
log_segment.timed = timed


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def ensure_entries(template: InteractionTemplate, salesperson_id: int, user_id: int) -> None:
    """Ten entries for each Benchville person (once)."""
    entries, contacts = table(InteractionLogEntry), table(Contact)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {entries} WHERE segment_no = 'BENCH17'")
        (have,) = cursor.fetchone()
    if have:
        return
    print("adding 10 log entries for each Benchville person ...", flush=True)
    now = timezone.now()
    # k = 0: outbound, Positive; k = 3 and 7: inbound answers initiated by them, never
    # evaluated; the rest outbound with every evaluation. Every 10th (not k = 0) attempt
    # failed, every 17th canceled.
    sql = f"""
        INSERT INTO {entries} ({ENTRY_COLUMNS})
        SELECT c.id, c.company_id,
               DATE '2025-01-01' + ((c.id * 7 + k * 53) %% 700)::int, '10:00',
               'Benchmark entry', '', %s, %s, %s,
               CASE WHEN k IN (3, 7) THEN 'inbound' ELSE 'outbound' END,
               CASE WHEN k IN (3, 7) THEN 'them' ELSE 'us' END,
               '', 1, 2,
               CASE WHEN k = 0 THEN 'positive'
                    WHEN k IN (3, 7) THEN ''
                    ELSE (ARRAY['', 'very_positive', 'positive', 'neutral', 'negative',
                                'very_negative'])[(c.id + k) %% 6 + 1] END,
               k > 0 AND (c.id + k) %% 10 = 0,
               NULL, false, false, NULL, 'BENCH17', NULL, '', '', '', '', 0, NULL, '', NULL,
               k > 0 AND (c.id + k) %% 17 = 0, NULL, %s, %s, %s, %s
          FROM {contacts} c
          CROSS JOIN generate_series(0, %s) AS k
         WHERE c.city = %s AND c.type = 'person'
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                template.pk,
                template.group_id,
                salesperson_id,
                user_id,
                now,
                now,
                user_id,
                ENTRIES_PER_CONTACT - 1,
                CITY,
            ],
        )
        print(f"  {cursor.rowcount:,} entries", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {entries}")


def explain(label: str, data: dict) -> None:
    contacts = Criteria.from_data(data).contacts.segmentable().order_by().values("pk")
    sql, params = contacts.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(f"    {row[0]}" for row in cursor.fetchall())
    print(f"\nplan of the {label} query:\n{plan}")


def bare_delete(segment, results: dict) -> None:
    with (
        timed("bare DELETE of the lines", results),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table(SegmentLine)} WHERE segment_id = %s", [segment.pk])


def forget_steps(segment) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table(RemovedLine)} WHERE step_id IN "
            f"(SELECT id FROM {table(SegmentStep)} WHERE segment_id = %s)",
            [segment.pk],
        )
        cursor.execute(f"DELETE FROM {table(SegmentStep)} WHERE segment_id = %s", [segment.pk])
        cursor.execute(f"DELETE FROM {table(SegmentLine)} WHERE segment_id = %s", [segment.pk])
    vacuum()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table(RemovedLine)}, {table(SegmentStep)}")


def one_run(segment, user, results: dict) -> None:
    bare = bare_add(segment, user, results)
    # The same contacts by issue 5's criteria alone: what the outcome condition adds to a step.
    with timed("Add Contacts, no outcome condition", results):
        step = services.segment_add_contacts(
            segment=segment, user=user, criteria=Criteria.from_data(PLAIN)
        )
    assert step.added == bare, (step.added, bare)
    services.segment_go_back(segment=segment, user=user, step=step.number)
    vacuum()
    with timed("Add Contacts, has (EXISTS)", results):
        step = services.segment_add_contacts(
            segment=segment, user=user, criteria=Criteria.from_data(HAS)
        )
    assert step.added == bare, (step.added, bare)
    with timed("Go Back of the add", results):
        gone = services.segment_go_back(segment=segment, user=user, step=step.number)
    assert gone.taken == bare
    vacuum()
    with timed("Add Contacts, has no (NOT EXISTS)", results):
        step = services.segment_add_contacts(
            segment=segment, user=user, criteria=Criteria.from_data(HAS_NO)
        )
    assert step.added == bare, (step.added, bare)
    vacuum()
    with timed("Refine to nobody (lines kept)", results):
        step = services.segment_refine_contacts(
            segment=segment, user=user, criteria=Criteria.from_data(NOBODY)
        )
    assert step.removed == bare
    with timed("Go Back of the refine", results):
        gone = services.segment_go_back(segment=segment, user=user, step=step.number)
    assert gone.restored == bare
    vacuum()
    bare_delete(segment, results)
    forget_steps(segment)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print(f"database {connection.settings_dict['NAME']}", flush=True)
    forget_earlier_runs()
    user, salesperson, template = ensure_setup()
    ensure_contacts(args.contacts, salesperson)
    ensure_entries(template, salesperson.pk, user.pk)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table(InteractionLogEntry)}")
        (entries,) = cursor.fetchone()
    print(f"{entries:,} log entries in all", flush=True)
    segment = services.segment_create(
        user=user,
        description="Benchmark segment",
        date=timezone.localdate(),
        salesperson=salesperson,
    )
    vacuum()
    explain("has", HAS)
    explain("has no", HAS_NO)

    runs: list[dict[str, float]] = []
    cpu_runs: list[dict[str, float]] = []
    for number in range(1, args.runs + 1):
        print(f"\nrun {number}", flush=True)
        results: dict[str, float] = {}
        one_run(segment, user, results)
        runs.append(results)
        cpu_runs.append(dict(CPU))

    print(f"\nmedians of {args.runs} runs (wall, then CPU: the backend's and this process's)")
    report(runs, "wall")
    report(cpu_runs, "CPU")


def report(runs: list[dict[str, float]], kind: str) -> None:
    median = {label: statistics.median(run[label] for run in runs) for label in runs[0]}
    bare_add_s = median["bare INSERT ... SELECT of lines"]
    bare_delete_s = median["bare DELETE of the lines"]
    for label, seconds in median.items():
        # Go Back of the refine inserts the 100,000 lines again: its baseline is the insert.
        if label.startswith(("Add", "Go Back")):
            ratio = f"{seconds / bare_add_s:5.2f} x bare INSERT"
        elif label.startswith("Refine"):
            ratio = f"{seconds / bare_delete_s:5.2f} x bare DELETE"
        else:
            ratio = ""
        print(f"  {kind:4} {label:<36} {seconds:7.2f} s   {ratio}")
    for label in runs[0]:
        if label.startswith(("Add", "Go Back of the refine")):
            ratios = [run[label] / run["bare INSERT ... SELECT of lines"] for run in runs]
            print(f"  {kind:4} {label}: per-run ratios {', '.join(f'{r:.2f}' for r in ratios)}")


if __name__ == "__main__":
    main()
