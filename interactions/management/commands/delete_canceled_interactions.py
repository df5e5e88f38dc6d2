"""`delete_canceled_interactions [--before DATE] [--dry-run]` (docs/operations.md)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from contacts.management.words import counted
from interactions.management.commands._options import iso_date, positive_int
from interactions.models import InteractionLogEntry
from interactions.selectors import deletable_canceled
from interactions.services import entry_delete_canceled_batch


def canceled(count: int) -> str:
    return counted(count, "canceled log entry", "canceled log entries")


class Command(BaseCommand):
    help = (
        "Delete canceled interaction log entries (with their comments and their own attachment "
        "files), optionally only those dated before a date: what `Delete Canceled Entries` "
        "deletes. Entries being delivered right now are kept. Safe to run twice at once: each "
        "batch is claimed with SKIP LOCKED."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--before", type=iso_date, metavar="DATE", help="only entries dated before YYYY-MM-DD"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="only count what would be deleted"
        )
        parser.add_argument(
            "--batch-size", type=positive_int, default=5000, help="rows per transaction"
        )

    def handle(self, *args, before, dry_run: bool, batch_size: int, **options):
        entries = InteractionLogEntry.objects.all()
        if before is not None:
            entries = entries.filter(date__lt=before)
        scope = f" dated before {before.isoformat()}" if before else ""
        total = deletable_canceled(entries).count()
        if dry_run:
            self.stdout.write(f"Dry run: would delete {canceled(total)}{scope}. Nothing deleted.")
            return
        deleted = 0
        with tqdm(total=total, unit="entry", disable=None, file=sys.stderr) as bar:
            while count := entry_delete_canceled_batch(entries=entries, batch_size=batch_size):
                deleted += count
                bar.update(count)
        self.stdout.write(f"Deleted {canceled(deleted)}{scope}.")
