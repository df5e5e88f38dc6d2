"""`delete_canceled_interactions [--before DATE] [--dry-run]` (docs/operations.md)."""

from __future__ import annotations

import datetime
import threading
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from interactions.models import DeliveryStatus, InteractionComment, InteractionLogEntry
from interactions.services import entry_delete_canceled_batch
from tests import factories

pytestmark = pytest.mark.django_db

JAN = datetime.date(2026, 1, 15)
MAR = datetime.date(2026, 3, 15)


def run(*args) -> str:
    out = StringIO()
    call_command("delete_canceled_interactions", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def remaining() -> set[int]:
    return set(InteractionLogEntry.objects.values_list("pk", flat=True))


def test_deletes_canceled_entries_with_their_comments_and_keeps_the_rest():
    kept = factories.LogEntryFactory()
    canceled = factories.LogEntryFactory(canceled=True)
    factories.CommentFactory(entry=canceled)

    output = run()

    assert output.splitlines() == ["Deleted 1 canceled log entry."]
    assert remaining() == {kept.pk}
    assert not InteractionComment.objects.exists()


def test_before_keeps_canceled_entries_dated_on_or_after_the_date():
    old = factories.LogEntryFactory(canceled=True, date=JAN)
    recent = factories.LogEntryFactory(canceled=True, date=MAR)

    output = run("--before", "2026-03-15")

    assert output.strip() == "Deleted 1 canceled log entry dated before 2026-03-15."
    assert remaining() == {recent.pk}
    assert old.pk not in remaining()


def test_an_entry_being_delivered_right_now_is_kept():
    sending = factories.LogEntryFactory(canceled=True, delivery_status=DeliveryStatus.SENDING)

    run()

    assert remaining() == {sending.pk}


def test_dry_run_counts_and_deletes_nothing():
    entries = {factories.LogEntryFactory(canceled=True, date=JAN).pk for _ in range(2)}

    output = run("--before", "2026-02-01", "--dry-run")

    assert output.strip() == (
        "Dry run: would delete 2 canceled log entries dated before 2026-02-01. Nothing deleted."
    )
    assert remaining() == entries


def test_an_entrys_own_attachment_file_goes_with_it(django_capture_on_commit_callbacks):
    entry = factories.LogEntryFactory(canceled=True)
    entry.attachment.save("note.txt", ContentFile(b"x"), save=True)
    shared = default_storage.save("segments/SEG1/offer.txt", ContentFile(b"y"))
    factories.LogEntryFactory(canceled=True, attachment=shared)

    with django_capture_on_commit_callbacks(execute=True):
        run()

    assert not default_storage.exists(entry.attachment.name)
    assert default_storage.exists(shared)  # the segment's file is the segment's


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--before", "15-03-2026"], "is not a date; write it as YYYY-MM-DD"),
        (["--before", "2026-02-30"], "is not a date"),
        (["--batch-size", "0"], "expected a whole number >= 1"),
    ],
)
def test_bad_input_is_a_clear_error(args, message):
    factories.LogEntryFactory(canceled=True)

    with pytest.raises(CommandError, match=message):
        run(*args)

    assert InteractionLogEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_delete_each_entry_once():
    for _ in range(30):
        factories.LogEntryFactory(canceled=True)
    counts = []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait(10)
            total = 0
            entries = InteractionLogEntry.objects.all()
            while count := entry_delete_canceled_batch(entries=entries, batch_size=4):
                total += count
            counts.append(total)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sum(counts) == 30
    assert not InteractionLogEntry.objects.exists()
