"""`purge_postponed_interactions --older-than DAYS [--dry-run]` (docs/operations.md)."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from interactions.models import DraftStatus, InteractionDraft, InteractionLogEntry
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("purge_postponed_interactions", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def draft(days_ago: int, **fields) -> InteractionDraft:
    made = factories.DraftFactory(**fields)
    # auto_now would overwrite a saved value; set the age in the database directly.
    InteractionDraft.objects.filter(pk=made.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=days_ago)
    )
    return made


def draft_with_file(days_ago: int) -> tuple[InteractionDraft, str]:
    made = draft(days_ago)
    name = default_storage.save(f"drafts/{made.pk}/letter.pdf", ContentFile(b"pdf"))
    state = {
        **made.state,
        "step_files": {"content": {"attachment": {"tmp_name": name, "name": "letter.pdf"}}},
    }
    InteractionDraft.objects.filter(pk=made.pk).update(state=state)
    return made, name


def left() -> set:
    return set(InteractionDraft.objects.values_list("pk", flat=True))


def test_purges_drafts_of_every_status_older_than_days_and_keeps_recent_ones():
    old = [draft(40, status=status) for status in DraftStatus.values]
    recent = draft(5)

    output = run("--older-than", "30")

    assert output.splitlines() == [
        "Purged 3 postponed interactions unchanged for more than 30 days."
    ]
    assert left() == {recent.pk}
    assert not any(d.pk in left() for d in old)


def test_purged_drafts_take_their_uploaded_files_with_them(django_capture_on_commit_callbacks):
    _old, old_file = draft_with_file(40)
    recent, recent_file = draft_with_file(1)

    with django_capture_on_commit_callbacks(execute=True):
        run("--older-than", "30")

    assert not default_storage.exists(old_file)
    assert default_storage.exists(recent_file)
    assert left() == {recent.pk}


def test_the_entry_a_finished_draft_wrote_stays():
    finished = draft(40, status=DraftStatus.FINISHED)
    entry = factories.LogEntryFactory(draft=finished)

    run("--older-than", "30")

    assert InteractionLogEntry.objects.get(pk=entry.pk).draft is None


def test_dry_run_counts_and_deletes_nothing(django_capture_on_commit_callbacks):
    old, name = draft_with_file(40)

    with django_capture_on_commit_callbacks(execute=True):
        output = run("--older-than", "30", "--dry-run")

    assert output.strip() == (
        "Dry run: would purge 1 postponed interaction unchanged for more than 30 days. "
        "Nothing deleted."
    )
    assert left() == {old.pk}
    assert default_storage.exists(name)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: --older-than"),
        (["--older-than", "0"], "expected a whole number >= 1"),
        (["--older-than", "a month"], "expected a whole number >= 1"),
    ],
)
def test_bad_input_is_a_clear_error(args, message):
    old = draft(40)

    with pytest.raises(CommandError, match=message):
        run(*args)

    assert left() == {old.pk}
