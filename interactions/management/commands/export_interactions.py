"""`export_interactions [--since DATE] [-o FILE]` (docs/operations.md)."""

from __future__ import annotations

import csv
import os
import signal
import stat
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from contacts.management.words import counted
from interactions.csv_export import CHUNK_SIZE, HEADER, entry_rows
from interactions.management.commands._options import iso_date
from interactions.models import OLDEST_FIRST, InteractionLogEntry
from interactions.selectors import filter_entries


class _Lines:
    """Lets csv.writer write through the command's stdout wrapper (tests capture it)."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        self.stream.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Write interaction log entries as CSV (UTF-8, comma-separated, header row; the same "
        "columns as the browser export), oldest first. Rows are streamed, so memory stays flat "
        "at millions of entries. Text cells that would start a spreadsheet formula (= + - @, "
        "tab, carriage return) get an apostrophe in front. With -o the file appears complete "
        "or not at all: it is written to a temporary file in the same folder and renamed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", type=iso_date, metavar="DATE", help="only entries dated on or after DATE"
        )
        parser.add_argument(
            "-o",
            "--output",
            metavar="FILE",
            help="write to FILE instead of standard output (replaced only when complete)",
        )

    def handle(self, *args, since, output: str | None, **options):
        # The entry list's own filter (`--since` is its "date from"), oldest first.
        entries = filter_entries(InteractionLogEntry.objects.all(), {"date_from": since})
        entries = entries.order_by(*OLDEST_FIRST)
        scope = f" dated on or after {since.isoformat()}" if since else ""
        if output is None:
            count = self._export(entries, _Lines(self.stdout))
            # Standard output carries the CSV; the summary goes beside it.
            self.stderr.write(f"Exported {counted(count, 'log entry', 'log entries')}{scope}.")
            return
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"Cannot write {output}: folder {target.parent} does not exist.")
        if target.exists() and not target.is_file():  # both follow a symlink
            # Renaming over a pipe or a device would replace it, not write to it.
            raise CommandError(
                f"Cannot write {output}: it is {_kind(target)}, not a regular file. "
                "Leave out -o to write to standard output."
            )
        with _signals_interrupt():
            try:
                handle, temporary = tempfile.mkstemp(
                    prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
                )
            except OSError as exc:
                raise CommandError(f"Cannot write {output}: {exc.strerror}.") from exc
            try:
                with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                    count = self._export(entries, stream)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private (0600)
                os.replace(temporary, target)
            except BaseException as exc:
                Path(temporary).unlink(missing_ok=True)
                if isinstance(exc, OSError):
                    raise CommandError(f"Cannot write {output}: {exc}") from exc
                if isinstance(exc, _Interrupted):
                    raise CommandError(
                        f"Interrupted by {exc.name}; {output} was not written.",
                        returncode=128 + exc.signum,
                    ) from None
                raise
        self.stdout.write(
            f"Exported {counted(count, 'log entry', 'log entries')}{scope} to {output}."
        )

    def _export(self, entries, stream) -> int:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        count = 0
        with tqdm(unit="entry", disable=None, file=sys.stderr) as bar:
            if not bar.disable:
                bar.total = entries.count()
                bar.refresh()
            # In a transaction the server-side cursor streams; outside one Django declares it
            # WITH HOLD, which makes Postgres materialise the whole result first.
            with transaction.atomic():
                for row in entry_rows(entries):
                    writer.writerow(row)
                    count += 1
                    if count % CHUNK_SIZE == 0:
                        bar.update(CHUNK_SIZE)
            bar.update(count % CHUNK_SIZE)
        return count


class _Interrupted(KeyboardInterrupt):
    """A termination signal, raised where the export is (a KeyboardInterrupt, so psycopg
    cancels a running query before the transaction rolls back)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name


@contextmanager
def _signals_interrupt():
    """While writing the temporary file, SIGTERM, SIGINT and SIGHUP raise _Interrupted, so
    it is removed (their default would end the process and leave it behind). A signal the
    process ignores (nohup) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers
        return

    def interrupt(signum, frame):
        raise _Interrupted(signum)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _kind(path: Path) -> str:
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
