"""`export_interactions [--since DATE] [-o FILE]` and the shared CSV writer (docs/operations.md)."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import ServerCursor

from interactions import csv_export
from interactions.csv_export import HEADER, Echo, entry_rows
from interactions.models import InteractionLogEntry
from tests import factories
from tests.database import subprocess_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("export_interactions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def read(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def entries():
    return [
        factories.LogEntryFactory(date=datetime.date(2026, 3, 1), description="March"),
        factories.LogEntryFactory(date=datetime.date(2026, 1, 1), description="January"),
        factories.LogEntryFactory(date=datetime.date(2026, 2, 1), description="=HYPERLINK(x)"),
    ]


def test_export_to_a_file_writes_every_entry_oldest_first_and_prints_a_summary(entries, tmp_path):
    target = tmp_path / "entries.csv"

    out, _err = run("-o", str(target))

    assert out.splitlines() == [f"Exported 3 log entries to {target}."]
    rows = read(target)
    assert list(rows[0]) == HEADER
    assert [r["description"] for r in rows] == ["January", "'=HYPERLINK(x)", "March"]
    first = rows[0]
    entry = entries[1]
    assert first["entry_no"] == str(entry.pk)
    assert first["contact_no"] == entry.contact.number
    assert first["company_no"] == entry.contact.company.number
    assert first["template"] == entry.template.code
    assert first["salesperson"] == entry.salesperson.code
    assert first["cost"] == "2.50"
    assert first["canceled"] == "no"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_since_keeps_entries_dated_on_or_after_the_date(entries, tmp_path):
    target = tmp_path / "entries.csv"

    out, _err = run("--since", "2026-02-01", "-o", str(target))

    assert out.strip() == f"Exported 2 log entries dated on or after 2026-02-01 to {target}."
    assert [r["date"] for r in read(target)] == ["2026-02-01", "2026-03-01"]


def test_without_output_the_csv_goes_to_stdout_and_the_summary_to_stderr(entries):
    out, err = run()

    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == HEADER
    assert len(rows) == 4
    assert err.strip() == "Exported 3 log entries."


def test_formulas_are_neutralised_in_the_file_and_on_standard_output(entries, tmp_path):
    target = tmp_path / "entries.csv"

    run("-o", str(target))
    out, _err = run()

    assert read(target)[1]["description"] == "'=HYPERLINK(x)"
    assert list(csv.DictReader(io.StringIO(out)))[1]["description"] == "'=HYPERLINK(x)"


def test_a_failed_export_leaves_the_previous_file_untouched(entries, tmp_path, monkeypatch):
    target = tmp_path / "entries.csv"
    target.write_text("previous export\n")

    def broken_rows(queryset):
        yield ["1"] * len(HEADER)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(
        "interactions.management.commands.export_interactions.entry_rows", broken_rows
    )
    with pytest.raises(CommandError, match="No space left on device"):
        run("-o", str(target))

    assert target.read_text() == "previous export\n"
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "'yesterday' is not a date; write it as YYYY-MM-DD"),
        (["-o", "/no/such/folder/out.csv"], "folder /no/such/folder does not exist"),
    ],
)
def test_bad_input_is_a_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def special_file(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe")
        return tmp_path / "pipe"
    link = tmp_path / "link.csv"
    if kind == "symlink to a fifo":
        os.mkfifo(tmp_path / "pipe")
        link.symlink_to(tmp_path / "pipe")
    else:
        # Through a link: were the refusal broken, the rename would replace the link, never
        # the machine's /dev/null (the command once did that, as root).
        link.symlink_to("/dev/null")
    return link


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        ("fifo", "a named pipe (FIFO)"),
        ("symlink to a fifo", "a named pipe (FIFO)"),
        ("symlink to /dev/null", "a device"),
    ],
)
def test_an_output_that_is_not_a_regular_file_is_refused_and_nothing_is_written(
    entries, tmp_path, kind, what
):
    target = special_file(kind, tmp_path)
    before = set(tmp_path.iterdir())

    with pytest.raises(CommandError) as refused:
        run("-o", str(target))

    assert str(refused.value) == (
        f"Cannot write {target}: it is {what}, not a regular file. "
        "Leave out -o to write to standard output."
    )
    assert set(tmp_path.iterdir()) == before
    assert not target.is_file()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_export_interrupted_by_a_signal_removes_its_temporary_file(tmp_path, signum):
    """A real `manage.py export_interactions -o` process gets the signal while it waits for
    its rows (this test holds a lock on the table): it stops, removes its temporary file and
    leaves the previous export as it was."""
    target = tmp_path / "entries.csv"
    target.write_text("previous export\n")
    table = connection.ops.quote_name(InteractionLogEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # until the test ends
    export = subprocess.Popen(
        [sys.executable, "manage.py", "export_interactions", "-o", str(target)],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DATABASE_URL": subprocess_database_url(),
            "DB_APPLICATION_NAME": "crm-interrupted-export",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as at a terminal, even when this test run itself ignores SIGINT (a background job).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_until_waiting_for_a_lock(export, "crm-interrupted-export")
        temporary = [p for p in tmp_path.iterdir() if p != target]
        assert [p.name.startswith(".entries.csv.") for p in temporary] == [True]

        export.send_signal(signum)
        out, err = export.communicate(timeout=60)
    finally:
        export.kill()

    name = signal.Signals(signum).name
    assert export.returncode == 128 + signum, err
    assert err == f"CommandError: Interrupted by {name}; {target} was not written.\n"
    assert out == ""
    assert list(tmp_path.iterdir()) == [target]
    assert target.read_text() == "previous export\n"


def wait_until_waiting_for_a_lock(process: subprocess.Popen, application_name: str) -> None:
    for _ in range(1200):  # a guard against hanging, not a timing assertion
        if process.poll() is not None:
            pytest.fail(f"the export ended early: {process.communicate()}")
        with connection.cursor() as cursor:
            # Within a transaction pg_stat_activity is a snapshot taken once; drop it each time.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT 1 FROM pg_stat_activity "
                "WHERE application_name = %s AND wait_event_type = 'Lock'",
                [application_name],
            )
            if cursor.fetchone():
                return
        time.sleep(0.05)
    pytest.fail("the export never started waiting for the table")


@pytest.mark.django_db(transaction=True)
def test_two_exports_to_the_same_file_at_once_leave_one_complete_file(tmp_path):
    for _ in range(50):
        factories.LogEntryFactory()
    target = tmp_path / "entries.csv"
    barrier = threading.Barrier(2)
    errors = []

    def export():
        try:
            barrier.wait(10)
            run("-o", str(target))
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=export) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    assert len(read(target)) == 50
    assert list(tmp_path.iterdir()) == [target]


# --- The shared writer ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+31 20 123", "'+31 20 123"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_a_text_cell_starting_a_formula_gets_an_apostrophe(cell, expected):
    entry = factories.LogEntryFactory(description=cell)

    (row,) = entry_rows(InteractionLogEntry.objects.filter(pk=entry.pk))

    assert row[HEADER.index("description")] == expected


def test_entry_rows_follow_the_header_and_the_querysets_filter_and_order(entries):
    queryset = InteractionLogEntry.objects.filter(description__in=["March", "January"])

    rows = list(entry_rows(queryset.order_by("-date")))

    assert [len(r) for r in rows] == [len(HEADER)] * 2
    assert [r[HEADER.index("description")] for r in rows] == ["March", "January"]


def test_entry_rows_stream_from_a_server_side_cursor_a_chunk_at_a_time(entries, monkeypatch):
    # A million rows as one list would be the whole export in memory at once: the rows come
    # from one server-side cursor, CHUNK_SIZE rows a fetch, while the first ones are written.
    monkeypatch.setattr(csv_export, "CHUNK_SIZE", 2)
    fetches = []
    # psycopg's named cursor, which Django's client-side-binding variant (prepared statements
    # off) derives from too.
    fetchmany = ServerCursor.fetchmany

    def counted(self, size=0):
        rows = fetchmany(self, size)
        fetches.append(len(rows))
        return rows

    monkeypatch.setattr(ServerCursor, "fetchmany", counted)

    rows = entry_rows(InteractionLogEntry.objects.order_by("id"))
    first = next(rows)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        (open_cursors,) = cursor.fetchone()
    rest = list(rows)

    assert open_cursors == 1  # the export's, still open on the server after its first row
    assert fetches[:2] == [2, 1]  # three entries: a chunk of two, then the last one
    assert [first[0], *(row[0] for row in rest)] == sorted(str(e.pk) for e in entries)


def test_echo_turns_csv_writer_calls_into_lines_for_a_streaming_response(entries):
    writer = csv.writer(Echo())
    rows = entry_rows(InteractionLogEntry.objects.order_by("id"))

    lines = [writer.writerow(row) for row in itertools.chain([HEADER], rows)]

    assert lines[0] == ",".join(HEADER) + "\r\n"
    assert len(lines) == 4
