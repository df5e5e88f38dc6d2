"""Delivery of Email interactions: claim, send, record; at most once.

An entry to deliver moves ``Pending -> Sending -> Sent``:

- A run *claims* a batch (``Pending -> Sending``, ``FOR UPDATE SKIP LOCKED``) and commits the
  claim before any mail leaves, so two runs at once never take the same entry.
- Each entry's subject and body get the merge fields of its contact (``interactions.merge``:
  plain string replacement, never a template engine) and go out through Django's email
  backend. The merged subject and body actually sent replace the logged ones, with ``Sent``.
- A failure *before the server accepted the message* (no connection, an SMTP refusal such as
  ``550``) puts the entry back to ``Pending`` with the attempt count, the reason and a next-try
  time that backs off; after ``MAX_ATTEMPTS`` tries it becomes ``Error``.
- A failure that may have come *after* acceptance (the connection dropped during ``DATA``, or
  a backend that is not SMTP raised) is ``Error`` "outcome unknown". So is an entry found in
  ``Sending`` from a run that died. Neither is ever sent again automatically; a user may
  ``Resend`` it (``services.entry_resend``), which queues it again.

Telling "a run died" from "another run is sending right now": every run holds a shared
advisory lock for as long as it lives (Postgres drops it with a dead run's connection). A run
that can take the lock exclusively is the only live one, so whatever is in ``Sending`` then
was left by a crash.
"""

from __future__ import annotations

import datetime
import mimetypes
import smtplib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from interactions.merge import merge, merge_values
from interactions.models import DeliveryStatus, InteractionLogEntry

MAX_ATTEMPTS = 5
# Wait after the 1st, 2nd, ... failed attempt; the last value repeats.
RETRY_DELAYS = (
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=15),
    datetime.timedelta(hours=1),
    datetime.timedelta(hours=4),
)
BATCH_SIZE = 20
OUTCOME_UNKNOWN = "Outcome unknown"
# Arbitrary, fixed: the advisory lock every deliver run holds (shared) while it runs.
RUN_LOCK = 7_001_006

_MAX_REASON = 1000
_SUBJECT_LENGTH = InteractionLogEntry._meta.get_field("subject").max_length


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    interrupted: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed

    def summary(self) -> str:
        return (
            f"Delivered {self.sent} email(s); {self.retrying} will be retried; "
            f"{self.failed} failed (Error); "
            f"{self.interrupted} found interrupted in Sending (Error, outcome unknown)."
        )


class NotAccepted(Exception):
    """The message certainly did not leave: safe to try again later."""


class OutcomeUnknown(Exception):
    """The message may have been accepted: never try again automatically."""


def due_entries():
    """Pending entries whose next try is due (canceled ones wait: a canceled interaction is
    not sent, but goes out if un-canceled)."""
    now = timezone.now()
    return InteractionLogEntry.objects.filter(
        Q(delivery_next_try_at__isnull=True) | Q(delivery_next_try_at__lte=now),
        delivery_status=DeliveryStatus.PENDING,
        canceled=False,
    )


def interrupted_entries():
    return InteractionLogEntry.objects.filter(delivery_status=DeliveryStatus.SENDING)


def retry_delay(attempts: int) -> datetime.timedelta:
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


@contextmanager
def _delivery_run() -> Iterator[int]:
    """Hold the shared run lock while the run lives; yields how many interrupted entries it
    found. Only a run that is alone (it gets the lock exclusively) looks for them, and it does
    so before it lets any other run start."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK])
        (alone,) = cursor.fetchone()
        interrupted = 0
        if alone:
            try:
                interrupted = mark_interrupted()
                cursor.execute("SELECT pg_advisory_lock_shared(%s)", [RUN_LOCK])
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK])
        else:
            cursor.execute("SELECT pg_advisory_lock_shared(%s)", [RUN_LOCK])
    try:
        yield interrupted
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [RUN_LOCK])


def mark_interrupted() -> int:
    """Entries left in Sending by a run that died: Error, outcome unknown (never resent)."""
    return interrupted_entries().update(
        delivery_status=DeliveryStatus.ERROR,
        delivery_attempts=F("delivery_attempts") + 1,
        delivery_next_try_at=None,
        delivery_last_error=_(
            "%(unknown)s: the delivery run stopped while sending; the email may or may not "
            "have been sent. Use Resend to send it again."
        )
        % {"unknown": OUTCOME_UNKNOWN},
        updated_at=timezone.now(),
    )


def claim(batch_size: int = BATCH_SIZE) -> list[int]:
    """Move up to ``batch_size`` due entries to Sending, committed; returns their numbers."""
    with transaction.atomic(durable=True):
        ids = list(
            due_entries()
            .order_by(F("delivery_next_try_at").asc(nulls_first=True), "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:batch_size]
        )
        if ids:
            InteractionLogEntry.objects.filter(pk__in=ids).update(
                delivery_status=DeliveryStatus.SENDING, updated_at=timezone.now()
            )
    return ids


def _release(ids: list[int]) -> None:
    """Claimed entries this run never tried (it is stopping): back to Pending, untouched."""
    if ids:
        InteractionLogEntry.objects.filter(
            pk__in=ids, delivery_status=DeliveryStatus.SENDING
        ).update(delivery_status=DeliveryStatus.PENDING)


def deliver_pending(
    *,
    batch_size: int = BATCH_SIZE,
    limit: int | None = None,
    on_entry: Callable[[InteractionLogEntry, str], None] | None = None,
) -> DeliveryReport:
    """Send every due Pending entry (at most ``limit``); ``on_entry(entry, outcome)`` is called
    after each one (for progress bars and logs)."""
    report = DeliveryReport()
    with _delivery_run() as interrupted:
        report.interrupted = interrupted
        backend = get_connection()
        attachments = _AttachmentCache()
        try:
            while limit is None or report.handled < limit:
                size = batch_size if limit is None else min(batch_size, limit - report.handled)
                ids = claim(size)
                if not ids:
                    break
                entries = InteractionLogEntry.objects.select_related(
                    "contact__company", "salesperson"
                ).filter(pk__in=ids)
                untried = set(ids)
                try:
                    for entry in entries.order_by("id"):
                        # From here the entry's outcome is this run's to record: if the run is
                        # killed mid-send, it must stay Sending (then Error), never be released.
                        untried.discard(entry.pk)
                        outcome = deliver_entry(entry, backend=backend, attachments=attachments)
                        setattr(report, outcome, getattr(report, outcome) + 1)
                        if on_entry is not None:
                            on_entry(entry, outcome)
                finally:
                    _release(sorted(untried))
                attachments.clear()
        except BaseException:
            _drop(backend)  # stopping mid-send: no polite QUIT to a server still in DATA
            raise
        backend.close()
    return report


class _AttachmentCache(dict):
    """Attachment bytes by storage name: a segment's entries share one file, read once."""

    def read(self, field) -> bytes:
        if field.name not in self:
            with field.storage.open(field.name, "rb") as handle:
                self[field.name] = handle.read()
        return self[field.name]


def build_message(entry: InteractionLogEntry, *, backend, attachments=None) -> EmailMessage:
    contact = entry.contact
    values = merge_values(contact=contact, salesperson=entry.salesperson, date=entry.date)
    # A header cannot hold a line break; a merged value could bring one.
    subject = " ".join(merge(entry.subject, values).splitlines())
    body = merge(entry.body, values)
    reply_to = [entry.salesperson.email] if entry.salesperson and entry.salesperson.email else []
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[contact.email],
        reply_to=reply_to,
        headers={"X-CRM-Entry-No": str(entry.pk)},
        connection=backend,
    )
    if entry.attachment:
        cache = attachments if attachments is not None else _AttachmentCache()
        name = entry.attachment_filename
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        message.attach(name, cache.read(entry.attachment), mimetype)
    return message


def deliver_entry(entry: InteractionLogEntry, *, backend, attachments=None) -> str:
    """Send one claimed (Sending) entry and record the outcome: "sent", "retrying", "failed"."""
    contact = entry.contact
    if not contact.email:
        return _record_failure(entry, _("%(contact)s has no email address.") % {"contact": contact})
    if contact.privacy_blocked:
        return _record_failure(
            entry, _("%(contact)s is privacy blocked; nothing was sent.") % {"contact": contact}
        )
    try:
        message = build_message(entry, backend=backend, attachments=attachments)
    except Exception as exc:
        # A missing attachment file, say: nothing has left, so it is worth another try.
        return _record_retry(entry, _reason(exc))
    try:
        send(message, backend=backend)
    except NotAccepted as exc:
        return _record_retry(entry, _reason(exc))
    except OutcomeUnknown as exc:
        return _record_failure(entry, f"{OUTCOME_UNKNOWN}: {exc}")
    now = timezone.now()
    InteractionLogEntry.objects.filter(pk=entry.pk, delivery_status=DeliveryStatus.SENDING).update(
        delivery_status=DeliveryStatus.SENT,
        delivery_attempts=F("delivery_attempts") + 1,
        delivery_next_try_at=None,
        delivery_last_error="",
        delivered_at=now,
        subject=message.subject[:_SUBJECT_LENGTH],
        body=message.body,
        updated_at=now,
    )
    return "sent"


def send(message: EmailMessage, *, backend) -> None:
    """Send through ``backend``; raise NotAccepted or OutcomeUnknown on failure."""
    try:
        backend.open()
    except Exception as exc:
        _drop(backend)
        raise NotAccepted(_reason(exc)) from exc
    phase = _SmtpDataPhase.watch(getattr(backend, "connection", None))
    try:
        sent = backend.send_messages([message])
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
        # The server answered with a refusal (sender, recipient or data): not accepted.
        _reset(backend)
        raise NotAccepted(_reason(exc)) from exc
    except Exception as exc:
        _drop(backend)
        if phase is not None and not phase.entered:
            # Lost before DATA (MAIL FROM / RCPT TO): the server cannot have accepted it.
            raise NotAccepted(_reason(exc)) from exc
        raise OutcomeUnknown(_reason(exc)) from exc
    if not sent:
        # A backend that declines without raising (fail_silently): nothing left.
        raise NotAccepted(_("The email backend did not send the message."))


class _SmtpDataPhase:
    """Notes whether smtplib reached DATA on a connection: a connection lost before it means
    the message was certainly not accepted; one lost during it might have been."""

    entered = False

    @classmethod
    def watch(cls, smtp) -> _SmtpDataPhase | None:
        if not isinstance(smtp, smtplib.SMTP):
            return None
        phase = getattr(smtp, "_crm_data_phase", None)
        if phase is None:
            phase = cls()
            original = smtp.data

            def data(msg):
                phase.entered = True
                return original(msg)

            smtp.data = data
            smtp._crm_data_phase = phase
        phase.entered = False
        return phase


def _drop(backend) -> None:
    """Close the backend's connection at once: after a timeout or a lost line a QUIT would
    only wait for a server that is not listening."""
    smtp = getattr(backend, "connection", None)
    if isinstance(smtp, smtplib.SMTP):
        smtp.close()
        backend.connection = None
    else:
        backend.close()


def _reset(backend) -> None:
    """After a refusal smtplib has sent RSET; drop the connection if that failed too."""
    smtp = getattr(backend, "connection", None)
    if isinstance(smtp, smtplib.SMTP) and smtp.sock is None:
        backend.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{address}: {code} {_decode(msg)}" for address, (code, msg) in exc.recipients.items()
        )
        return f"Recipient refused: {text}"[:_MAX_REASON]
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_decode(exc.smtp_error)}"[:_MAX_REASON]
    if isinstance(exc, NotAccepted | OutcomeUnknown):
        return str(exc)[:_MAX_REASON]
    return f"{type(exc).__name__}: {exc}"[:_MAX_REASON]


def _decode(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _record_retry(entry: InteractionLogEntry, reason: str) -> str:
    attempts = entry.delivery_attempts + 1
    if attempts >= MAX_ATTEMPTS:
        return _record_failure(
            entry,
            _("Gave up after %(attempts)d attempts. Last error: %(reason)s")
            % {"attempts": attempts, "reason": reason},
        )
    now = timezone.now()
    InteractionLogEntry.objects.filter(pk=entry.pk, delivery_status=DeliveryStatus.SENDING).update(
        delivery_status=DeliveryStatus.PENDING,
        delivery_attempts=F("delivery_attempts") + 1,
        delivery_next_try_at=now + retry_delay(attempts),
        delivery_last_error=reason,
        updated_at=now,
    )
    return "retrying"


def _record_failure(entry: InteractionLogEntry, reason: str) -> str:
    InteractionLogEntry.objects.filter(pk=entry.pk, delivery_status=DeliveryStatus.SENDING).update(
        delivery_status=DeliveryStatus.ERROR,
        delivery_attempts=F("delivery_attempts") + 1,
        delivery_next_try_at=None,
        delivery_last_error=reason[:_MAX_REASON],
        updated_at=timezone.now(),
    )
    return "failed"
