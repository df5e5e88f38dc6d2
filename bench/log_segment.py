"""Benchmark: `Log` of a 100,000-line segment against a bare INSERT ... SELECT and a per-row ORM
loop, plus `Add Contacts` by criteria for 100,000 contacts (issue 5).

Run it against a scratch database, never a real one (it writes and deletes rows freely):

    psql -h 127.0.0.1 -U postgres -c 'create database crm_bench5'
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench5
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/log_segment.py --lines 100000
    psql -h 127.0.0.1 -U postgres -c 'drop database crm_bench5'

It adds the contacts it needs itself (persons in the city "Benchville", all with an email
address, spread over 100 companies) with one server-side INSERT ... SELECT, so it needs nothing
but a migrated database; contacts seeded by `seed_demo` may exist alongside.

What is timed, each from Python, each ending with its commit (foreign keys are checked at
commit, so a rolled-back run would leave out work that a real one does):

- `Add Contacts`: `segment_add_contacts` with the criteria form's query (city = Benchville).
- `Log`: `segment_log(send_attachments=True)`, i.e. lock, validation of every line, the logged
  segment row, the entries (one INSERT ... SELECT), marking Email entries Pending, counting
  them, freezing the segment. No follow-up segment.
- bare INSERT ... SELECT: the very statement `Log` runs (same columns, same table, same
  indexes), alone in its transaction; run before and after `Log`.
- per-row ORM loop: `InteractionLogEntry.objects.create()` for each line of a sample (default
  2,000 lines, read with their contact and template), extrapolated to the whole segment; run
  before and after `Log` (both baselines are means of two, so that the machine's speed
  drifting during the run biases no ratio).

Between runs the entries are deleted and the table vacuumed, so each run starts alike. Peak
memory is the process's `ru_maxrss` (high-water mark) right after `Log`: Django, the first ORM
loop's 2,000 rows and `Log` itself.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
os.environ.setdefault("DB_APPLICATION_NAME", "crm-bench")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from contacts.models import (  # noqa: E402
    Contact,
    CorrespondenceType,
    MarketingSetup,
    NumberSeries,
    Salesperson,
)
from interactions.models import (  # noqa: E402
    InteractionGroup,
    InteractionLogEntry,
    InteractionTemplate,
    InteractionTemplateContent,
)
from segments import services  # noqa: E402
from segments.forms import Criteria  # noqa: E402
from segments.models import LoggedSegment, Segment, SegmentLine, SegmentStatus  # noqa: E402

CITY = "Benchville"
# Every column of a log entry but its id, for the benchmarks that write entries by SQL.
ENTRY_COLUMNS = """
    contact_id, contact_company_id, date, time, description, subject, template_id,
    group_id, salesperson_id, information_flow, initiated_by, correspondence_type,
    cost, duration, evaluation, attempt_failed, campaign_id, campaign_target,
    campaign_response, opportunity_id, segment_no, logged_segment_id, language, body,
    attachment, delivery_status, delivery_attempts, delivery_next_try_at,
    delivery_last_error, delivered_at, canceled, draft_id, logged_by_id, logged_at,
    updated_at, updated_by_id"""


class _Rollback(Exception):
    pass


def explain_triggers_rolled_back(sql: str, params) -> list[str]:
    """EXPLAIN ANALYZE of the write ``sql``, rolled back: the lines of the plan that give each
    AFTER trigger's time and the statement's (the deferred foreign-key checks fire at commit
    and are not in it)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, SUMMARY ON) {sql}", params)
            plan = [row[0].strip() for row in cursor.fetchall()]
            raise _Rollback
    except _Rollback:
        pass
    return [line for line in plan if line.startswith(("Trigger", "Execution Time"))]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


TICKS = os.sysconf("SC_CLK_TCK")
CPU: dict[str, float] = {}  # label -> CPU seconds (the backend's and this process's)


def backend_cpu() -> float:
    """CPU seconds the PostgreSQL backend of this connection has used so far (from /proc, so
    the database must run on this machine)."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@contextmanager
def timed(label: str, results: dict):
    """Wall time into ``results``, CPU time (backend + this process) into ``CPU``: on this
    shared VM the wall time moves with whatever else runs, the CPU time hardly does."""
    cpu = backend_cpu() + time.process_time()
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
    CPU[label] = backend_cpu() + time.process_time() - cpu
    print(f"  {label:<34} {results[label]:8.2f} s wall {CPU[label]:6.2f} s CPU", flush=True)


def vacuum() -> None:
    with connection.cursor() as cursor:
        for model in (InteractionLogEntry, SegmentLine, Segment):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def forget_earlier_runs() -> None:
    """Drop the segments of earlier runs so that every run starts from the same tables."""
    segments = list(Segment.objects.filter(description="Benchmark segment").values_list("pk"))
    if segments:
        lines = connection.ops.quote_name(SegmentLine._meta.db_table)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {lines} WHERE segment_id = ANY(%s)", [[s for (s,) in segments]]
            )
            LoggedSegment.objects.filter(segment__in=[s for (s,) in segments]).delete()
            Segment.objects.filter(pk__in=[s for (s,) in segments]).delete()
    vacuum()


def ensure_setup():
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )
    salesperson, _ = Salesperson.objects.get_or_create(
        code="BENCH", defaults={"name": "Bench Salesperson", "email": "bench@example.com"}
    )
    series, _ = NumberSeries.objects.get_or_create(
        code="BENCHSEG", defaults={"prefix": "BS", "width": 6}
    )
    setup = MarketingSetup.load()
    if setup.segment_nos_id is None:
        setup.segment_nos = series
        setup.save()
    group, _ = InteractionGroup.objects.get_or_create(
        code="BENCH", defaults={"description": "Benchmark"}
    )
    template, created = InteractionTemplate.objects.get_or_create(
        code="BENCHMAIL",
        defaults={
            "group": group,
            "description": "Benchmark newsletter",
            "unit_cost": 1,
            "unit_duration": 2,
            "correspondence_type": CorrespondenceType.EMAIL,
            "information_flow": "outbound",
            "initiated_by": "us",
        },
    )
    if created:
        InteractionTemplateContent.objects.create(
            template=template, subject="Hello {{ first_name }}", body="Dear {{ contact_name }}"
        )
    return user, salesperson, template


def ensure_contacts(count: int, salesperson: Salesperson) -> None:
    """``count`` persons in Benchville with an email address, under 100 companies."""
    have = Contact.objects.filter(city=CITY, type="person").count()
    if have >= count:
        return
    table = connection.ops.quote_name(Contact._meta.db_table)
    now = timezone.now()
    columns = (
        "number, type, name, first_name, surname, company_id, job_title, salesperson_id, email, "
        "phone, language, address, postcode, city, country, correspondence_type, "
        "exclude_from_segment, privacy_blocked, created_at, updated_at"
    )
    print(f"adding {count - have} contacts in {CITY} ...", flush=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} ({columns})
                SELECT 'BC' || lpad(n::text, 6, '0'), 'company', 'Bench Company ' || n, '', '',
                       NULL, '', %s, 'info' || n || '@bench.example', '', 'en', '', '', %s,
                       'NL', '', false, false, %s, %s
                  FROM generate_series(1, 100) AS n
                ON CONFLICT (number) DO NOTHING""",
            [salesperson.pk, CITY, now, now],
        )
        cursor.execute(
            f"""INSERT INTO {table} ({columns})
                SELECT 'BP' || lpad(n::text, 7, '0'), 'person', 'Person ' || n, 'First' || n,
                       'Last' || n,
                       (SELECT id FROM {table} WHERE number = 'BC' || lpad((n %% 100 + 1)::text,
                        6, '0')),
                       'Buyer', %s, 'p' || n || '@bench.example', '',
                       (ARRAY['en', 'nl', 'de'])[n %% 3 + 1], '', '', %s, 'NL', '', false,
                       false, %s, %s
                  FROM generate_series(%s, %s) AS n
                ON CONFLICT (number) DO NOTHING""",
            [salesperson.pk, CITY, now, now, have + 1, count],
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


def undo_log(segment: Segment) -> None:
    """Back to an open segment without entries (not timed)."""
    entries = connection.ops.quote_name(InteractionLogEntry._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        # Plain SQL: the ORM's delete() would first load every entry (for their comments).
        cursor.execute(f"DELETE FROM {entries} WHERE segment_no = %s", [segment.number])
        LoggedSegment.objects.filter(segment=segment).delete()
        Segment.objects.filter(pk=segment.pk).update(status=SegmentStatus.OPEN)
    segment.status = SegmentStatus.OPEN
    vacuum()


def bare_insert(segment: Segment, user, results: dict, label: str) -> int:
    logged = LoggedSegment.objects.create(
        segment=segment, segment_no=segment.number, description=segment.description
    )
    sql, params = services.log_entries_statement(
        segment=segment,
        logged_segment_id=logged.pk,
        user_id=user.pk,
        now=timezone.now(),
        deliver=True,
    )
    with timed(label, results), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.rowcount
    undo_log(segment)
    return rows


def orm_loop(segment: Segment, user, sample: int, results: dict, label: str) -> None:
    logged = LoggedSegment.objects.create(
        segment=segment, segment_no=segment.number, description=segment.description
    )
    now = timezone.now()
    local = timezone.localtime(now)
    with timed(label, results), transaction.atomic():
        lines = segment.lines.select_related("contact", "template").order_by("id")[:sample]
        for line in lines:
            contact = line.contact
            InteractionLogEntry.objects.create(
                contact=contact,
                contact_company_id=contact.pk if contact.is_company else contact.company_id,
                date=line.date if line.personalised and line.date else segment.date,
                time=local.time().replace(microsecond=0),
                description=line.interaction_description or line.template.description,
                subject=line.subject,
                template_id=line.template_id,
                group_id=line.template.group_id,
                salesperson_id=line.salesperson_id,
                information_flow=line.information_flow,
                initiated_by=line.initiated_by,
                correspondence_type=line.correspondence_type,
                cost=line.unit_cost,
                duration=line.unit_duration,
                campaign_id=line.campaign_id,
                campaign_target=line.campaign_target,
                campaign_response=line.campaign_response,
                segment_no=segment.number,
                logged_segment=logged,
                language=line.language,
                body=line.body,
                attachment=segment.attachment.name,
                delivery_status="pending" if line.correspondence_type == "email" else "",
                logged_by=user,
                updated_by=user,
            )
    undo_log(segment)


def bare_add(segment: Segment, user, results: dict) -> int:
    """The lines `Add Contacts` writes, by the plainest INSERT ... SELECT: same table, same
    columns, constant line values, no header joins, no ON CONFLICT."""
    lines = connection.ops.quote_name(SegmentLine._meta.db_table)
    contacts = connection.ops.quote_name(Contact._meta.db_table)
    now = timezone.now()
    columns = ", ".join(services.LINE_VALUES)
    constants = "NULL, '', '', '', '', '', '', '', 0, 0, NULL, false, false, NULL"
    with (
        timed("bare INSERT ... SELECT of lines", results),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"""INSERT INTO {lines} (segment_id, contact_id, {columns}, personalised,
                                         created_at, created_by_id, updated_at, updated_by_id)
                    SELECT %s, c.id, {constants}, false, %s, %s, %s, %s
                      FROM {contacts} c
                     WHERE c.city = %s AND c.type = 'person'
                       AND NOT c.exclude_from_segment AND NOT c.privacy_blocked""",
            [segment.pk, now, user.pk, now, user.pk, CITY],
        )
        rows = cursor.rowcount
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {lines} WHERE segment_id = %s", [segment.pk])
    vacuum()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000, help="rows of the ORM loop")
    args = parser.parse_args()

    print(f"database {connection.settings_dict['NAME']}, {args.lines:,} lines", flush=True)
    forget_earlier_runs()
    user, salesperson, template = ensure_setup()
    ensure_contacts(args.lines, salesperson)
    segment = services.segment_create(
        user=user,
        description="Benchmark segment",
        date=timezone.localdate(),
        salesperson=salesperson,
    )
    vacuum()
    results: dict[str, float] = {}

    bare_add(segment, user, results)
    criteria = Criteria.from_data({"city": CITY, "type": "person"})
    with timed("Add Contacts by criteria", results):
        added = services.segment_add_contacts(segment=segment, user=user, criteria=criteria).added
    print(f"  ({added:,} lines added)")
    if added > args.lines:  # other Benchville persons from an earlier, larger run
        extra = segment.lines.order_by("-id").values("pk")[: added - args.lines]
        segment.lines.filter(pk__in=list(extra)).delete()
    lines = segment.lines.count()
    with timed("assign interaction to all lines", results):
        services.segment_update(
            segment=segment,
            user=user,
            data={
                "template": template,
                "interaction_description": template.description,
                "correspondence_type": CorrespondenceType.EMAIL,
                "ignore_contact_corres_type": True,
                "unit_cost": template.unit_cost,
                "unit_duration": template.unit_duration,
                "subject": "Hello {{ first_name }}",
                "body": "Dear {{ contact_name }}",
            },
        )
    segment.refresh_from_db()
    vacuum()

    # Each baseline is timed once before and once after `Log` and averaged, so that the
    # machine's speed drifting during the run (noisy shared cores) biases no ratio.
    orm_loop(segment, user, args.sample, results, f"ORM create() x {args.sample} (1)")
    rows = bare_insert(segment, user, results, "bare INSERT ... SELECT (1)")
    assert rows == lines, (rows, lines)
    with timed("Log (validate + insert + pending)", results):
        result = services.segment_log(segment=segment, user=user, send_attachments=True)
    peak_after_log = peak_mb()
    assert result.logged.entry_count == lines
    assert result.delivering == lines
    undo_log(segment)
    bare_insert(segment, user, results, "bare INSERT ... SELECT (2)")
    orm_loop(segment, user, args.sample, results, f"ORM create() x {args.sample} (2)")

    bare = (results["bare INSERT ... SELECT (1)"] + results["bare INSERT ... SELECT (2)"]) / 2
    log = results["Log (validate + insert + pending)"]
    loop = (
        results[f"ORM create() x {args.sample} (1)"] + results[f"ORM create() x {args.sample} (2)"]
    ) / 2
    orm = loop * lines / args.sample
    print()
    print(f"lines                              {lines:>10,}")
    add, bare_lines = (
        results["Add Contacts by criteria"],
        results["bare INSERT ... SELECT of lines"],
    )
    print(f"bare INSERT ... SELECT of the lines {bare_lines:9.2f} s")
    print(f"Add Contacts by criteria           {add:10.2f} s   {add / bare_lines:5.2f} x bare")
    print(f"bare INSERT ... SELECT (mean of 2) {bare:10.2f} s")
    print(f"Log                                {log:10.2f} s   {log / bare:5.2f} x bare")
    print(
        f"ORM create() loop, extrapolated    {orm:10.2f} s   "
        f"({args.sample:,} rows timed twice; Log is {orm / log:5.1f} x faster)"
    )
    cpu_bare = (CPU["bare INSERT ... SELECT (1)"] + CPU["bare INSERT ... SELECT (2)"]) / 2
    cpu_loop = (
        CPU[f"ORM create() x {args.sample} (1)"] + CPU[f"ORM create() x {args.sample} (2)"]
    ) / 2
    cpu_add, cpu_lines = CPU["Add Contacts by criteria"], CPU["bare INSERT ... SELECT of lines"]
    cpu_log, cpu_orm = CPU["Log (validate + insert + pending)"], cpu_loop * lines / args.sample
    print(f"CPU: bare lines {cpu_lines:.2f} s, Add Contacts {cpu_add:.2f} s", end=" ")
    print(
        f"({cpu_add / cpu_lines:.2f} x), bare entries {cpu_bare:.2f} s, Log {cpu_log:.2f} s",
        end=" ",
    )
    print(f"({cpu_log / cpu_bare:.2f} x), ORM loop {cpu_orm:.2f} s", end=" ")
    print(f"(Log {cpu_orm / cpu_log:.1f} x faster)")
    print(f"peak memory after Log (ru_maxrss)  {peak_after_log:10.1f} MB")
    print(f"peak memory at the end             {peak_mb():10.1f} MB")


if __name__ == "__main__":
    main()
