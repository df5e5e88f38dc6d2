"""`deliver_interactions [--batch-size N] [--limit N] [--dry-run]` (docs/operations.md)."""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

from django.core.management.base import BaseCommand
from tqdm import tqdm

from interactions import delivery
from interactions.management.commands._options import positive_int


@contextmanager
def _sigterm_unwinds():
    """Turn SIGTERM into SystemExit while the run lasts, so it unwinds like Ctrl-C: claimed
    entries not yet tried go back to Pending (the one being sent stays Sending)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Command(BaseCommand):
    help = (
        "Send the Pending Email interactions that are due through Django's email backend "
        "(SMTP from the environment). Each entry is claimed (Pending -> Sending, committed) "
        "before its mail leaves; failures before the server accepted it are retried with "
        f"back-off up to {delivery.MAX_ATTEMPTS} attempts, then Error. Entries left in Sending "
        "by a crashed run become Error (outcome unknown) and are never resent automatically. "
        "Several runs at once share the work; none sends an entry twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=positive_int,
            default=delivery.BATCH_SIZE,
            help=f"entries claimed at a time (default {delivery.BATCH_SIZE})",
        )
        parser.add_argument(
            "--limit", type=positive_int, help="stop after this many entries (default: all due)"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="only say how many entries are due and how many sit in Sending; send nothing",
        )

    def handle(self, *args, batch_size: int, limit: int | None, dry_run: bool, **options):
        due = delivery.due_entries().count()
        if dry_run:
            sending = delivery.interrupted_entries().count()
            self.stdout.write(
                f"Dry run: {due} email(s) due; {sending} in Sending "
                "(left by a crashed run unless another run is sending now). Nothing sent."
            )
            return
        with (
            _sigterm_unwinds(),
            tqdm(
                total=min(due, limit) if limit else due, unit="email", disable=None, file=sys.stderr
            ) as bar,
        ):

            def on_entry(entry, outcome):
                bar.update()
                if outcome != "sent" and options["verbosity"] >= 2:
                    self.stderr.write(f"entry {entry.pk}: {outcome}")

            report = delivery.deliver_pending(batch_size=batch_size, limit=limit, on_entry=on_entry)
        self.stdout.write(report.summary())
