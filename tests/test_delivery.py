"""Delivery of Email interactions: claim, merge, send, retry, at most once."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from contacts.models import CorrespondenceType
from interactions import delivery, services
from interactions.models import DeliveryStatus, InteractionLogEntry
from tests import factories
from tests.database import subprocess_database_url
from tests.smtp_server import SmtpServer, free_port

BASE_DIR = Path(__file__).resolve().parent.parent


def pending_entry(**overrides) -> InteractionLogEntry:
    values = {
        "correspondence_type": CorrespondenceType.EMAIL,
        "delivery_status": DeliveryStatus.PENDING,
        "subject": "Hello {{ first_name }}",
        "body": (
            "Dear {{ contact_name }} of {{ company_name }},\n\nRegards,\n{{ salesperson_name }}"
        ),
    }
    values.update(overrides)
    return factories.LogEntryFactory(**values)


def reload(entry: InteractionLogEntry) -> InteractionLogEntry:
    return InteractionLogEntry.objects.get(pk=entry.pk)


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        for name, value in server.django_settings().items():
            setattr(settings, name, value)
        yield server


# --- Sending and merging --------------------------------------------------------------------


@pytest.mark.django_db
def test_pending_entry_is_sent_with_its_contacts_merge_fields_and_marked_sent():
    entry = pending_entry()
    contact, salesperson = entry.contact, entry.salesperson

    report = delivery.deliver_pending()

    assert report.sent == 1
    [message] = mail.outbox
    assert message.to == [contact.email]
    assert message.subject == f"Hello {contact.first_name}"
    assert message.body == (
        f"Dear {contact.name} of {contact.company.name},\n\nRegards,\n{salesperson.name}"
    )
    assert message.reply_to == [salesperson.email]
    entry = reload(entry)
    assert entry.delivery_status == DeliveryStatus.SENT
    assert entry.delivery_attempts == 1
    assert entry.delivered_at is not None
    # The merged subject and body actually sent replace the logged ones.
    assert entry.subject == message.subject
    assert entry.body == message.body


@pytest.mark.django_db
def test_merge_fields_are_plain_replacement_and_never_run_as_a_template():
    contact = factories.PersonFactory(first_name="{{ surname }}", surname="Jansen")
    body = (
        "{% load static %}{% debug %}{{ settings.SECRET_KEY }} {{ contact.__class__ }} "
        "{{ first_name|upper }} {{first_name}} {{ surname }}"
    )
    entry = pending_entry(contact=contact, subject="{{ first_name }}", body=body)

    delivery.deliver_pending()

    [message] = mail.outbox
    # Unknown fields and template tags stay literal; a value containing `{{ surname }}` is not
    # substituted again.
    assert message.body == (
        "{% load static %}{% debug %}{{ settings.SECRET_KEY }} {{ contact.__class__ }} "
        "{{ first_name|upper }} {{ surname }} Jansen"
    )
    assert django_settings.SECRET_KEY not in message.body
    assert message.subject == "{{ surname }}"
    assert reload(entry).body == message.body


@pytest.mark.django_db
def test_entry_is_sent_over_a_real_smtp_server_with_its_attachment(smtp):
    entry = pending_entry()
    entry.attachment.save("brochure.pdf", ContentFile(b"%PDF-1.4 brochure"), save=True)

    report = delivery.deliver_pending()

    assert report.sent == 1
    [message] = smtp.messages
    assert message["To"] == entry.contact.email
    assert message["X-CRM-Entry-No"] == str(entry.pk)
    parts = {part.get_filename(): part for part in message.walk() if part.get_filename()}
    assert parts["brochure.pdf"].get_payload(decode=True) == b"%PDF-1.4 brochure"
    assert reload(entry).delivery_status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_the_mail_names_the_attachment_as_it_was_uploaded(smtp):
    entry = pending_entry(attachment_name="Offer 2026 (final).txt")
    entry.attachment.save("Offer 2026 (final).txt", ContentFile(b"offer"), save=True)
    assert entry.attachment.name != "Offer 2026 (final).txt"  # a storage path, made safe

    delivery.deliver_pending()

    [message] = smtp.messages
    assert [p.get_filename() for p in message.walk() if p.get_filename()] == [
        "Offer 2026 (final).txt"
    ]


@pytest.mark.django_db
def test_segment_entries_share_one_attachment_file_and_each_mail_carries_it(smtp):
    name = default_storage.save("segments/SEG00001/offer.txt", ContentFile(b"the offer"))
    entries = [pending_entry(segment_no="SEG00001", attachment=name) for _ in range(3)]

    delivery.deliver_pending()

    assert len(smtp.messages) == 3
    for message in smtp.messages:
        [part] = [p for p in message.walk() if p.get_filename() == "offer.txt"]
        assert part.get_payload(decode=True) == b"the offer"
    assert {reload(e).attachment.name for e in entries} == {name}
    assert default_storage.listdir("segments/SEG00001")[1] == ["offer.txt"]


@pytest.mark.django_db
def test_entries_not_pending_canceled_or_not_yet_due_are_left_alone():
    factories.LogEntryFactory()  # not an email at all
    pending_entry(delivery_status=DeliveryStatus.SENT)
    canceled = pending_entry(canceled=True)
    later = pending_entry(delivery_next_try_at=timezone.now() + datetime.timedelta(minutes=5))

    report = delivery.deliver_pending()

    assert report.handled == 0
    assert mail.outbox == []
    assert reload(canceled).delivery_status == DeliveryStatus.PENDING
    assert reload(later).delivery_status == DeliveryStatus.PENDING


@pytest.mark.django_db
def test_contact_without_email_address_ends_in_error_with_the_reason():
    entry = pending_entry(contact=factories.PersonFactory(email=""))

    report = delivery.deliver_pending()

    assert report.failed == 1
    assert mail.outbox == []
    entry = reload(entry)
    assert entry.delivery_status == DeliveryStatus.ERROR
    assert "has no email address" in entry.delivery_last_error


@pytest.mark.django_db
def test_limit_and_batch_size_bound_the_run():
    entries = [pending_entry() for _ in range(5)]

    report = delivery.deliver_pending(batch_size=2, limit=3)

    assert report.sent == 3
    statuses = sorted(reload(e).delivery_status for e in entries)
    assert statuses == ["pending", "pending", "sent", "sent", "sent"]


# --- Failures before acceptance: retried with back-off, then Error ---------------------------


@pytest.mark.django_db
def test_smtp_refusal_returns_entry_to_pending_with_attempt_reason_and_next_try(smtp):
    entry = pending_entry()
    smtp.handler.refuse_recipients.add(entry.contact.email)
    before = timezone.now()

    report = delivery.deliver_pending()

    assert report.retrying == 1
    entry = reload(entry)
    assert entry.delivery_status == DeliveryStatus.PENDING
    assert entry.delivery_attempts == 1
    assert "550" in entry.delivery_last_error
    assert entry.delivery_next_try_at >= before + delivery.RETRY_DELAYS[0]
    # Not due yet: a run straight after leaves it alone.
    assert delivery.deliver_pending().handled == 0
    assert smtp.messages == []


@pytest.mark.django_db
def test_refused_entry_does_not_stop_the_others_on_the_same_connection(smtp):
    refused, accepted = pending_entry(), pending_entry()
    smtp.handler.refuse_recipients.add(refused.contact.email)

    report = delivery.deliver_pending()

    assert (report.sent, report.retrying) == (1, 1)
    assert [m["To"] for m in smtp.messages] == [accepted.contact.email]


@pytest.mark.django_db
def test_connection_refused_is_retried_with_growing_delays_then_error(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    entry = pending_entry()

    delays = []
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        start = timezone.now()
        delivery.deliver_pending()
        entry = reload(entry)
        assert entry.delivery_attempts == attempt
        if attempt < delivery.MAX_ATTEMPTS:
            assert entry.delivery_status == DeliveryStatus.PENDING
            assert "ConnectionRefusedError" in entry.delivery_last_error
            delays.append(entry.delivery_next_try_at - start)
            # Time passes: make it due.
            InteractionLogEntry.objects.filter(pk=entry.pk).update(delivery_next_try_at=start)

    assert entry.delivery_status == DeliveryStatus.ERROR
    assert f"Gave up after {delivery.MAX_ATTEMPTS} attempts" in entry.delivery_last_error
    assert delays == sorted(delays)
    assert delays[0] >= delivery.RETRY_DELAYS[0]
    assert delays[-1] >= delivery.RETRY_DELAYS[-1]


# --- At most once ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_connection_lost_during_data_is_error_outcome_unknown_and_never_retried(smtp):
    entry = pending_entry()
    smtp.handler.drop_during_data = True

    report = delivery.deliver_pending()

    assert report.failed == 1
    entry = reload(entry)
    assert entry.delivery_status == DeliveryStatus.ERROR
    assert entry.delivery_last_error.startswith(delivery.OUTCOME_UNKNOWN)
    smtp.handler.drop_during_data = False
    assert delivery.deliver_pending().handled == 0
    assert smtp.messages == []


@pytest.mark.django_db
def test_entry_found_in_sending_becomes_error_outcome_unknown_and_is_not_sent():
    entry = pending_entry(delivery_status=DeliveryStatus.SENDING)

    report = delivery.deliver_pending()

    assert report.interrupted == 1
    assert mail.outbox == []
    entry = reload(entry)
    assert entry.delivery_status == DeliveryStatus.ERROR
    assert entry.delivery_last_error.startswith(delivery.OUTCOME_UNKNOWN)


class _Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing handles it."""


@pytest.mark.django_db
def test_crash_after_the_mail_left_ends_in_error_and_a_second_run_sends_nothing(monkeypatch):
    crashed, waiting = pending_entry(), pending_entry()
    real_send = delivery.send

    def send_then_die(message, *, backend):
        real_send(message, backend=backend)
        raise _Crash

    monkeypatch.setattr(delivery, "send", send_then_die)
    with pytest.raises(_Crash):
        delivery.deliver_pending()
    monkeypatch.setattr(delivery, "send", real_send)
    assert len(mail.outbox) == 1
    assert reload(crashed).delivery_status == DeliveryStatus.SENDING
    # The claimed entry it never reached goes back to Pending as the run unwinds.
    assert reload(waiting).delivery_status == DeliveryStatus.PENDING

    report = delivery.deliver_pending()

    assert (report.interrupted, report.sent) == (1, 1)
    assert reload(crashed).delivery_status == DeliveryStatus.ERROR
    assert [m.to for m in mail.outbox].count([crashed.contact.email]) == 1


def _test_database_url() -> str:
    return subprocess_database_url()


def _advisory_lock_holders() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
            "AND pid <> pg_backend_pid()",
            [delivery.RUN_LOCK],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_killed_run_after_the_server_got_the_mail_never_sends_it_again(smtp, tmp_path):
    """A real process, killed (SIGKILL) while the server holds its message: at most once."""
    entry = pending_entry()
    smtp.handler.hold_data = threading.Event()
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "MEDIA_ROOT": str(tmp_path),
    }
    run = subprocess.Popen(
        [sys.executable, "manage.py", "deliver_interactions"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert smtp.handler.data_received.wait(30), run.communicate(timeout=5)
        assert reload(entry).delivery_status == DeliveryStatus.SENDING
        run.send_signal(signal.SIGKILL)
        run.wait(10)
    finally:
        if run.poll() is None:
            run.kill()
        run.communicate()
    smtp.handler.hold_data.set()
    deadline = time.monotonic() + 10
    while _advisory_lock_holders() and time.monotonic() < deadline:
        time.sleep(0.05)

    report = delivery.deliver_pending()

    assert report.interrupted == 1
    assert report.sent == 0
    assert len(smtp.messages) == 1
    entry = reload(entry)
    assert entry.delivery_status == DeliveryStatus.ERROR
    assert entry.delivery_last_error.startswith(delivery.OUTCOME_UNKNOWN)


@pytest.mark.django_db(transaction=True)
def test_a_run_starting_while_another_sends_does_not_take_its_entries_for_crashed(smtp):
    entry = pending_entry()
    smtp.handler.hold_data = threading.Event()
    reports = {}

    def first_run():
        try:
            reports["first"] = delivery.deliver_pending()
        finally:
            connection.close()

    thread = threading.Thread(target=first_run)
    thread.start()
    try:
        assert smtp.handler.data_received.wait(30)
        second = delivery.deliver_pending()  # starts while the first is mid-send
        assert second.interrupted == 0
        assert reload(entry).delivery_status == DeliveryStatus.SENDING
    finally:
        smtp.handler.hold_data.set()
        thread.join(30)

    assert reports["first"].sent == 1
    assert reload(entry).delivery_status == DeliveryStatus.SENT
    assert len(smtp.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_every_entry_exactly_once(smtp):
    entries = [pending_entry() for _ in range(40)]
    smtp.handler.delay = 0.01
    start = threading.Barrier(2)
    reports = []

    def run():
        try:
            start.wait(10)
            reports.append(delivery.deliver_pending(batch_size=3))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    numbers = [m["X-CRM-Entry-No"] for m in smtp.messages]
    assert sorted(numbers) == sorted(str(e.pk) for e in entries)
    assert sum(r.sent for r in reports) == 40
    assert all(r.sent > 0 for r in reports), "both runs should have shared the work"
    assert set(
        InteractionLogEntry.objects.filter(pk__in=[e.pk for e in entries]).values_list(
            "delivery_status", flat=True
        )
    ) == {DeliveryStatus.SENT}


# --- Resend ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_resend_queues_an_entry_in_error_again_and_the_next_run_sends_it(owner):
    entry = pending_entry(
        delivery_status=DeliveryStatus.ERROR, delivery_attempts=5, delivery_last_error="x"
    )

    services.entry_resend(entry=entry, user=owner)

    assert entry.delivery_status == DeliveryStatus.PENDING
    assert entry.delivery_attempts == 0
    assert reload(entry).updated_by == owner
    assert delivery.deliver_pending().sent == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("status", [DeliveryStatus.PENDING, DeliveryStatus.SENDING, "sent", ""])
def test_resend_refuses_an_entry_that_is_not_in_error(owner, status):
    entry = pending_entry(delivery_status=status)

    with pytest.raises(ValidationError, match="Error can be resent"):
        services.entry_resend(entry=entry, user=owner)

    assert reload(entry).delivery_status == status


@pytest.mark.django_db
def test_resend_refuses_a_canceled_entry_or_a_privacy_blocked_contact(owner):
    canceled = pending_entry(delivery_status=DeliveryStatus.ERROR, canceled=True)
    blocked = pending_entry(
        delivery_status=DeliveryStatus.ERROR,
        contact=factories.PersonFactory(privacy_blocked=True),
    )

    with pytest.raises(ValidationError, match="canceled"):
        services.entry_resend(entry=canceled, user=owner)
    with pytest.raises(ValidationError, match="privacy blocked"):
        services.entry_resend(entry=blocked, user=owner)


@pytest.mark.django_db(transaction=True)
def test_sigterm_mid_send_keeps_that_entry_in_sending_and_releases_the_rest(smtp, tmp_path):
    entries = [pending_entry() for _ in range(4)]
    smtp.handler.hold_data = threading.Event()
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "MEDIA_ROOT": str(tmp_path),
    }
    run = subprocess.Popen(
        [sys.executable, "manage.py", "deliver_interactions", "--batch-size", "4"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert smtp.handler.data_received.wait(30), run.communicate(timeout=5)
        run.send_signal(signal.SIGTERM)
        assert run.wait(10) == 128 + signal.SIGTERM
    finally:
        if run.poll() is None:
            run.kill()
        run.communicate()
        smtp.handler.hold_data.set()

    statuses = {e.pk: reload(e).delivery_status for e in entries}
    assert sorted(statuses.values()) == ["pending", "pending", "pending", "sending"]
    smtp.handler.hold_data = None
    report = delivery.deliver_pending()
    assert (report.interrupted, report.sent) == (1, 3)
    assert len(smtp.messages) == 4  # the interrupted one reached the server once, never again
