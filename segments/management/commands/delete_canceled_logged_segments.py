"""`delete_canceled_logged_segments [--dry-run]` (spec sections 4 and 8)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from segments.selectors import canceled_logged_segments_summary
from segments.services import logged_segments_delete_canceled


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
                f"Dry run: would delete {canceled['segment_count']} canceled logged segments "
                f"({canceled['entry_count']} log entries stay, canceled). Nothing deleted."
            )
            return
        # The service deletes them all in one transaction (a few set-based statements), so the
        # bar moves once, at the end.
        total = canceled["segment_count"]
        with tqdm(total=total, unit="segment", disable=None, file=sys.stderr) as bar:
            deleted = logged_segments_delete_canceled(user=None)
            bar.update(deleted.segments)
        self.stdout.write(
            f"Deleted {deleted.segments} canceled logged segments "
            f"({deleted.entries} log entries kept, canceled)."
        )
