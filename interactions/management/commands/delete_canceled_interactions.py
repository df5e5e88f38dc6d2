"""`delete_canceled_interactions [--before DATE] [--dry-run]` (spec section 8)."""

from __future__ import annotations

import sys

from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from interactions.management.commands._options import iso_date, positive_int
from interactions.models import DeliveryStatus, InteractionLogEntry


def deletable(before=None):
    """Canceled entries (dated before ``before``); one being sent right now stays."""
    entries = InteractionLogEntry.objects.filter(canceled=True).exclude(
        delivery_status=DeliveryStatus.SENDING
    )
    if before is not None:
        entries = entries.filter(date__lt=before)
    return entries


def delete_batch(*, before, batch_size: int) -> int:
    """Claim and delete one batch; rows another run holds are skipped, not waited for."""
    with transaction.atomic(durable=True):
        batch = list(
            deletable(before)
            .select_for_update(skip_locked=True)
            .values_list("id", "attachment")[:batch_size]
        )
        if not batch:
            return 0
        ids = [pk for pk, _name in batch]
        InteractionLogEntry.objects.filter(pk__in=ids).delete()  # their comments go too
        # An attachment uploaded with the entry (under entries/) is its own; a segment's shared
        # file lives under segments/ and stays with the segment.
        files = {name for _pk, name in batch if name and name.startswith("entries/")}
        orphans = files - set(
            InteractionLogEntry.objects.filter(attachment__in=files).values_list(
                "attachment", flat=True
            )
        )
        if orphans:
            transaction.on_commit(lambda: [default_storage.delete(name) for name in orphans])
    return len(ids)


class Command(BaseCommand):
    help = (
        "Delete canceled interaction log entries (with their comments and their own attachment "
        "files), optionally only those dated before a date. Entries being delivered right now "
        "are kept. Safe to run twice at once: each batch is claimed with SKIP LOCKED."
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
        scope = f" dated before {before.isoformat()}" if before else ""
        total = deletable(before).count()
        if dry_run:
            self.stdout.write(
                f"Dry run: would delete {total} canceled log entries{scope}. Nothing deleted."
            )
            return
        deleted = 0
        with tqdm(total=total, unit="entry", disable=None, file=sys.stderr) as bar:
            while count := delete_batch(before=before, batch_size=batch_size):
                deleted += count
                bar.update(count)
        self.stdout.write(f"Deleted {deleted} canceled log entries{scope}.")
