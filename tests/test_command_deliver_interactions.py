"""`deliver_interactions`: summary line, dry run, bad input (the delivery rules: test_delivery)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from contacts.models import CorrespondenceType
from interactions.models import DeliveryStatus, InteractionLogEntry
from tests import factories

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("deliver_interactions", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def pending(**overrides):
    return factories.LogEntryFactory(
        correspondence_type=CorrespondenceType.EMAIL,
        delivery_status=DeliveryStatus.PENDING,
        subject="Hi {{ first_name }}",
        body="Body",
        **overrides,
    )


def test_deliver_sends_due_entries_and_prints_one_summary_line():
    pending(), pending()
    factories.LogEntryFactory(delivery_status=DeliveryStatus.SENDING)

    output = run()

    assert output.splitlines() == [
        "Delivered 2 email(s); 0 will be retried; 0 failed (Error); "
        "1 found interrupted in Sending (Error, outcome unknown)."
    ]
    assert len(mail.outbox) == 2


def test_dry_run_counts_and_sends_nothing():
    entry = pending()

    output = run("--dry-run")

    assert output.strip() == (
        "Dry run: 1 email(s) due; 0 in Sending "
        "(left by a crashed run unless another run is sending now). Nothing sent."
    )
    assert mail.outbox == []
    assert InteractionLogEntry.objects.get(pk=entry.pk).delivery_status == DeliveryStatus.PENDING


def test_limit_stops_after_that_many():
    for _ in range(3):
        pending()

    output = run("--limit", "2", "--batch-size", "1")

    assert output.startswith("Delivered 2 email(s);")
    assert InteractionLogEntry.objects.filter(delivery_status=DeliveryStatus.PENDING).count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "0"], "expected a whole number >= 1"),
        (["--batch-size", "many"], "expected a whole number >= 1"),
    ],
)
def test_bad_numbers_are_a_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
