"""`delete_canceled_logged_segments [--dry-run]`: the cron run of `Delete Canceled Segments`
(docs/operations.md)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from contacts.management.words import counted
from segments.selectors import canceled_logged_segments_summary
from segments.services import logged_segments_delete_canceled


def segments(count: int) -> str:
    return counted(count, "canceled logged segment", "canceled logged segments")


def entries(count: int) -> str:
    return counted(count, "log entry", "log entries")


class Command(BaseCommand):
    help = (
        "Delete canceled logged segments with their frozen segments (`Delete Canceled "
        "Segments`). Their log entries stay, canceled, and keep the segment number as text. "
        "Safe to run twice at once, or while a user presses the button: rows are claimed with "
        "SKIP LOCKED."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count what would go")

    def handle(self, *args, dry_run: bool, **options):
        canceled = canceled_logged_segments_summary()  # what the page's confirmation shows
        if dry_run:
            self.stdout.write(
                f"Dry run: would delete {segments(canceled['segment_count'])} "
                f"({entries(canceled['entry_count'])} stay, canceled). Nothing deleted."
            )
            return
        # The service deletes them all in one transaction (a few set-based statements), so the
        # bar moves once, at the end.
        total = canceled["segment_count"]
        with tqdm(total=total, unit="segment", disable=None, file=sys.stderr) as bar:
            deleted = logged_segments_delete_canceled(user=None)
            bar.update(deleted.segments)
        self.stdout.write(
            f"Deleted {segments(deleted.segments)} ({entries(deleted.entries)} kept, canceled)."
        )
