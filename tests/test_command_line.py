"""The cron commands as an operator meets them: `--help`, exit status and messages on bad input.

Each runs as a real `manage.py` process, so argparse's own exits (status 2) are covered too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.database import subprocess_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

COMMANDS = [
    "deliver_interactions",
    "delete_canceled_interactions",
    "purge_postponed_interactions",
    "delete_canceled_logged_segments",
    "import_contacts",
    "export_interactions",
    "seed_demo",
]


def manage(*args: str) -> subprocess.CompletedProcess:
    url = subprocess_database_url()
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself_with_help(command):
    result = manage(command, "--help")

    assert result.returncode == 0
    assert f"usage: manage.py {command}" in result.stdout
    # The description is more than the usage line.
    description = result.stdout.split("\n\n")[1]
    assert len(description.split()) > 10


# What each command needs besides the unknown option, so that only the option is wrong.
REQUIRED = {"purge_postponed_interactions": ["--older-than", "30"], "import_contacts": ["x.csv"]}


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_option_exits_non_zero_with_a_message(command):
    result = manage(command, *REQUIRED.get(command, []), "--frobnicate")

    assert result.returncode == 2
    assert "unrecognized arguments: --frobnicate" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["delete_canceled_interactions", "--before", "31/12/2025"], "is not a date"),
        (["export_interactions", "--since", "2025-13-01"], "is not a date"),
        (["purge_postponed_interactions"], "required: --older-than"),
        (["purge_postponed_interactions", "--older-than", "-3"], "whole number >= 1"),
        (["deliver_interactions", "--limit", "none"], "whole number >= 1"),
        (["import_contacts"], "required: FILE.csv"),
    ],
)
def test_bad_arguments_exit_with_status_2_and_say_what_is_wrong(args, message):
    result = manage(*args)

    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.django_db(transaction=True)
def test_a_missing_import_file_exits_with_status_1_and_a_clear_message(tmp_path):
    result = manage("import_contacts", str(tmp_path / "missing.csv"))

    assert result.returncode == 1
    assert result.stderr.strip() == f"CommandError: {tmp_path / 'missing.csv'}: no such file."


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_an_import_with_a_bad_row_exits_with_status_1_naming_the_line(tmp_path, dry_run):
    """A NUL byte (which PostgreSQL cannot store) is the row's error like any other: no
    traceback; and a dry run's status says whether the file is clean, for a script to use."""
    path = tmp_path / "contacts.csv"
    path.write_bytes(b"type,number,name\ncompany,C1,Fine\ncompany,C2,Nul\0Ltd\n")

    result = manage("import_contacts", str(path), *dry_run)

    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == "line 3: name contains a NUL byte"
    assert result.stderr.splitlines()[1].startswith("CommandError: ")
    assert len(result.stderr.splitlines()) == 2  # no traceback
    assert result.stdout == ""


@pytest.mark.django_db(transaction=True)
def test_under_cron_there_is_no_progress_bar_only_the_summary_line(tmp_path):
    target = tmp_path / "entries.csv"

    result = manage("export_interactions", "-o", str(target))

    assert result.returncode == 0
    assert result.stdout == f"Exported 0 log entries to {target}.\n"
    assert result.stderr == ""  # tqdm stays silent when stderr is not a terminal
