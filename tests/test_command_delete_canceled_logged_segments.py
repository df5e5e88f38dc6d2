"""`delete_canceled_logged_segments [--dry-run]` (docs/operations.md)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from interactions.models import InteractionLogEntry
from segments.models import LoggedSegment, Segment
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("delete_canceled_logged_segments", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def logged(*, canceled: bool, entries: int = 2) -> LoggedSegment:
    made = factories.LoggedSegmentFactory(canceled=canceled)
    for _ in range(entries):
        factories.LogEntryFactory(
            logged_segment=made, segment_no=made.segment_no, canceled=canceled
        )
    return made


def test_deletes_canceled_logged_segments_and_keeps_their_entries_canceled():
    gone, kept = logged(canceled=True), logged(canceled=False)

    output = run()

    assert output.splitlines() == [
        "Deleted 1 canceled logged segment (2 log entries kept, canceled)."
    ]
    assert list(LoggedSegment.objects.all()) == [kept]
    assert not Segment.objects.filter(pk=gone.segment_id).exists()
    orphans = InteractionLogEntry.objects.filter(segment_no=gone.segment_no)
    assert orphans.count() == 2
    assert all(e.canceled and e.logged_segment_id is None for e in orphans)


def test_dry_run_counts_and_deletes_nothing():
    logged(canceled=True, entries=3)

    output = run("--dry-run")

    assert output.strip() == (
        "Dry run: would delete 1 canceled logged segment (3 log entries stay, canceled). "
        "Nothing deleted."
    )
    assert LoggedSegment.objects.count() == 1


def test_nothing_to_do_says_so():
    assert run().strip() == "Deleted 0 canceled logged segments (0 log entries kept, canceled)."


def test_the_command_and_the_page_count_the_entries_left_not_the_entries_logged(manager_client):
    made = logged(canceled=True, entries=3)
    LoggedSegment.objects.filter(pk=made.pk).update(entry_count=3)
    # `Delete Canceled Entries` took one of its (canceled) entries since it was logged.
    InteractionLogEntry.objects.filter(logged_segment=made).first().delete()

    output = run("--dry-run")
    page = manager_client.get(reverse("segments:logged_segments_delete_canceled"))

    assert "(2 log entries stay, canceled)" in output
    assert (page.context["segment_count"], page.context["entry_count"]) == (1, 2)
