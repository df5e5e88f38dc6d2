"""The cron commands run twice at the same moment, as two servers with the same crontab do
(issue 20): two real `manage.py` processes, each with its own database connection.

To start them at the same moment the test holds an exclusive lock on the table the command
reads first, starts both processes, waits until both wait for that lock (or, for the import,
one for the table and one for the import's advisory lock), and lets go: from the commit on
they race. Each test then checks that nothing was done twice, that the work the two summary
lines report adds up to what was there, and that neither run failed.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.utils import timezone

from contacts.models import Contact, CorrespondenceType
from interactions.models import DeliveryStatus, InteractionDraft, InteractionLogEntry
from segments.models import LoggedSegment, Segment
from tests import factories
from tests.database import subprocess_database_url
from tests.smtp_server import SmtpServer

BASE_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def _waiting_for_a_lock(names: list[str]) -> int:
    with connection.cursor() as cursor:
        # Within a transaction pg_stat_activity is a snapshot taken once; drop it each time.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE application_name = ANY(%s) AND wait_event_type = 'Lock'",
            [names],
        )
        return cursor.fetchone()[0]


def run_at_once(
    *commands: list[str], gate: type[models.Model], env: dict | None = None
) -> list[Run]:
    """Run each command as its own `manage.py` process; they start working at the same moment
    (see the module's docstring). Returns how each ended, in the order given."""
    table = connection.ops.quote_name(gate._meta.db_table)
    names = [f"crm-cron-race-{n}" for n in range(len(commands))]
    processes: list[subprocess.Popen] = []
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            for name, command in zip(names, commands, strict=True):
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", *command],
                        cwd=BASE_DIR,
                        env={
                            **os.environ,
                            "DATABASE_URL": subprocess_database_url(),
                            "DB_APPLICATION_NAME": name,
                            **(env or {}),
                        },
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    )
                )
            for _ in range(2400):  # a guard against hanging, not a timing assertion
                if any(process.poll() is not None for process in processes):
                    pytest.fail(f"a run ended before the start: {processes[0].communicate()}")
                if _waiting_for_a_lock(names) == len(processes):
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the runs never reached the locked table")
        # The commit released the lock: both are running now.
        runs = []
        for process in processes:
            out, err = process.communicate(timeout=120)
            runs.append(Run(process.returncode, out, err))
        return runs
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()


def summary_counts(runs: list[Run], pattern: str) -> list[int]:
    """The number each run's one summary line reports (the line must match ``pattern``)."""
    counts = []
    for run in runs:
        assert run.returncode == 0, run.stderr
        [line] = run.stdout.splitlines()
        match = re.fullmatch(pattern, line)
        assert match, line
        counts.append(int(match.group(1)))
    return counts


def totals_match_entries(salesperson) -> bool:
    """The daily totals the statistics read agree with the entries themselves."""
    keys = ("count", "cost", "duration")
    from_totals = salesperson.day_totals.statistics()
    from_entries = salesperson.log_entries.statistics()
    return all(from_totals[key] == from_entries[key] for key in keys)


# --- deliver_interactions -------------------------------------------------------------------------


def test_two_delivery_runs_at_once_send_each_email_once_and_share_the_work(tmp_path):
    entries = [
        factories.LogEntryFactory(
            correspondence_type=CorrespondenceType.EMAIL,
            delivery_status=DeliveryStatus.PENDING,
            subject="Hello {{ first_name }}",
            body="Dear {{ contact_name }}",
        )
        for _ in range(30)
    ]
    with SmtpServer() as smtp:
        # The first mail of each run waits until both runs have a connection open: both are
        # then mid-send at the same moment, each with a batch of its own.
        smtp.handler.hold_until_connections = 2
        runs = run_at_once(
            ["deliver_interactions", "--batch-size", "3"],
            ["deliver_interactions", "--batch-size", "3"],
            gate=InteractionLogEntry,
            env={
                "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp.port),
                "MEDIA_ROOT": str(tmp_path),
            },
        )
        sent_numbers = sorted(int(m["X-CRM-Entry-No"]) for m in smtp.messages)
        connections = smtp.connections

    sent = summary_counts(runs, r"Delivered (\d+) email\(s\); 0 will be retried; 0 failed .*")
    assert sent_numbers == sorted(entry.pk for entry in entries)  # each exactly once
    assert sum(sent) == 30
    assert all(count > 0 for count in sent), sent
    assert connections >= 2
    statuses = InteractionLogEntry.objects.values_list("delivery_status", flat=True)
    assert set(statuses) == {DeliveryStatus.SENT}


# --- delete_canceled_interactions -----------------------------------------------------------------


def test_two_delete_canceled_runs_at_once_delete_each_entry_once(tmp_path, settings):
    salesperson = factories.SalespersonFactory()
    canceled = factories.LogEntryFactory.create_batch(60, salesperson=salesperson, canceled=True)
    kept = factories.LogEntryFactory.create_batch(5, salesperson=salesperson)
    files = []
    for entry in canceled[:10]:
        factories.CommentFactory(entry=entry)
        entry.attachment.save("note.txt", ContentFile(b"note"), save=True)
        files.append(entry.attachment.name)

    runs = run_at_once(
        ["delete_canceled_interactions", "--batch-size", "4"],
        ["delete_canceled_interactions", "--batch-size", "4"],
        gate=InteractionLogEntry,
        env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)},
    )

    deleted = summary_counts(runs, r"Deleted (\d+) canceled log entries\.")
    assert sum(deleted) == 60
    assert set(InteractionLogEntry.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert not any(default_storage.exists(name) for name in files)
    assert totals_match_entries(salesperson)


# --- purge_postponed_interactions -----------------------------------------------------------------


def test_two_purge_runs_at_once_purge_each_draft_once(settings):
    stale = factories.DraftFactory.create_batch(40)
    recent = factories.DraftFactory.create_batch(3)
    InteractionDraft.objects.filter(pk__in=[d.pk for d in stale]).update(
        updated_at=timezone.now() - datetime.timedelta(days=40)
    )
    files = []
    for draft in stale[:10]:
        name = default_storage.save(f"drafts/{draft.pk}/letter.pdf", ContentFile(b"pdf"))
        state = {
            **draft.state,
            "step_files": {"content": {"attachment": {"tmp_name": name, "name": "letter.pdf"}}},
        }
        InteractionDraft.objects.filter(pk=draft.pk).update(state=state)
        files.append(name)

    runs = run_at_once(
        ["purge_postponed_interactions", "--older-than", "30", "--batch-size", "3"],
        ["purge_postponed_interactions", "--older-than", "30", "--batch-size", "3"],
        gate=InteractionDraft,
        env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)},
    )

    purged = summary_counts(
        runs, r"Purged (\d+) postponed interactions unchanged for more than 30 days\."
    )
    assert sum(purged) == 40
    assert set(InteractionDraft.objects.values_list("pk", flat=True)) == {d.pk for d in recent}
    assert not any(default_storage.exists(name) for name in files)


# --- delete_canceled_logged_segments --------------------------------------------------------------


def test_two_delete_canceled_segment_runs_at_once_delete_each_once_and_keep_the_entries():
    canceled, active = [], []
    for n in range(8):
        logged = factories.LoggedSegmentFactory(canceled=n < 6)
        factories.LogEntryFactory.create_batch(
            3, logged_segment=logged, segment_no=logged.segment_no, canceled=logged.canceled
        )
        (canceled if logged.canceled else active).append(logged)

    runs = run_at_once(
        ["delete_canceled_logged_segments"],
        ["delete_canceled_logged_segments"],
        gate=LoggedSegment,
    )

    deleted = summary_counts(runs, r"Deleted (\d+) canceled logged segments \(\d+ log entries .*")
    assert sum(deleted) == 6
    assert set(LoggedSegment.objects.all()) == set(active)
    assert not Segment.objects.filter(pk__in=[s.segment_id for s in canceled]).exists()
    assert InteractionLogEntry.objects.count() == 24  # the entries stay
    orphans = InteractionLogEntry.objects.filter(segment_no__in=[s.segment_no for s in canceled])
    assert orphans.count() == 18
    assert all(entry.canceled and entry.logged_segment_id is None for entry in orphans)


# --- import_contacts ------------------------------------------------------------------------------


def test_the_same_file_imported_twice_at_once_is_imported_once(tmp_path):
    """The imports queue behind an advisory lock; the second then finds every number taken and
    refuses the file as a whole (status 1, one line per row saying so), importing nothing."""
    factories.MarketingSetupFactory()
    path = tmp_path / "contacts.csv"
    path.write_text(
        "type,number,name,first_name,surname,company\n"
        + "".join(f"company,N{i:03d},Company {i},,,\n" for i in range(50))
        + "".join(f"person,P{i:03d},,Ann,Smith {i},N{i:03d}\n" for i in range(50))
    )

    runs = run_at_once(["import_contacts", str(path)], ["import_contacts", str(path)], gate=Contact)

    [imported] = [run for run in runs if run.returncode == 0]
    [refused] = [run for run in runs if run.returncode != 0]
    assert imported.stdout == f"Imported 50 companies and 50 persons from {path}.\n"
    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "line 2: number N000 already exists" in refused.stderr.splitlines()
    assert refused.stderr.splitlines()[-1] == (
        "CommandError: 100 of 100 rows are invalid (listed above); nothing imported. "
        "Fix them, or use --skip-invalid to import the other rows."
    )
    assert Contact.objects.count() == 100
    assert Contact.objects.filter(number="P007", company__number="N007").exists()
