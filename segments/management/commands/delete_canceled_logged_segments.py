"""`delete_canceled_logged_segments [--dry-run]` (spec sections 4 and 8)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from interactions.models import InteractionLogEntry
from segments.models import LoggedSegment
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
        canceled = LoggedSegment.objects.filter(canceled=True)
        if dry_run:
            entries = InteractionLogEntry.objects.filter(logged_segment__in=canceled).count()
            self.stdout.write(
                f"Dry run: would delete {canceled.count()} canceled logged segments "
                f"({entries} log entries stay, canceled). Nothing deleted."
            )
            return
        # The service deletes them all in one transaction (a few set-based statements), so the
        # bar moves once, at the end.
        with tqdm(total=canceled.count(), unit="segment", disable=None, file=sys.stderr) as bar:
            deleted = logged_segments_delete_canceled(user=None)
            bar.update(deleted.segments)
        self.stdout.write(
            f"Deleted {deleted.segments} canceled logged segments "
            f"({deleted.entries} log entries kept, canceled)."
        )
