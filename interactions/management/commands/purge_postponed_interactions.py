"""`purge_postponed_interactions --older-than DAYS [--dry-run]` (docs/operations.md)."""

from __future__ import annotations

import datetime
import sys

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from contacts.management.words import counted
from interactions.management.commands._options import positive_int
from interactions.selectors import stale_drafts
from interactions.services import draft_purge_stale_batch


def postponed(count: int) -> str:
    return counted(count, "postponed interaction", "postponed interactions")


class Command(BaseCommand):
    help = (
        "Delete postponed interactions (drafts) nobody has changed for DAYS days, together with "
        "abandoned in-progress and finished wizard runs of that age and the files uploaded into "
        "them. Safe to run twice at once: each batch is claimed with SKIP LOCKED."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=positive_int,
            required=True,
            metavar="DAYS",
            help="purge drafts last changed more than DAYS days ago (at least 1)",
        )
        parser.add_argument("--dry-run", action="store_true", help="only count what would go")
        parser.add_argument(
            "--batch-size", type=positive_int, default=1000, help="drafts per transaction"
        )

    def handle(self, *args, older_than: int, dry_run: bool, batch_size: int, **options):
        changed_before = timezone.now() - datetime.timedelta(days=older_than)
        total = stale_drafts(changed_before).count()
        if dry_run:
            self.stdout.write(
                f"Dry run: would purge {postponed(total)} unchanged for more than "
                f"{older_than} days. Nothing deleted."
            )
            return
        purged = 0
        with tqdm(total=total, unit="draft", disable=None, file=sys.stderr) as bar:
            while count := draft_purge_stale_batch(
                changed_before=changed_before, batch_size=batch_size
            ):
                purged += count
                bar.update(count)
        self.stdout.write(f"Purged {postponed(purged)} unchanged for more than {older_than} days.")
