"""Rules the interaction services keep themselves, whatever calls them (interactions/services.py).

The pages and the wizard's forms check most of these before they call a service; these tests
call the services directly, so that a rule dropped from a service fails here even while its page
still guards it (found by mutating the services: each test below caught a change the other
tests let through).
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction

from contacts.services import RecordGone
from interactions import services
from interactions.models import (
    DeliveryStatus,
    DraftStatus,
    Evaluation,
    InteractionComment,
    InteractionDraft,
    InteractionLogEntry,
)
from interactions.services import DraftFinished
from tests import factories
from tests.test_faults import wait_until_a_connection_waits_for_a_lock

pytestmark = pytest.mark.django_db


def run_in_a_thread(work) -> tuple[threading.Thread, dict]:
    """Start ``work()`` on a connection of its own; its result or error lands in the dict."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = work()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


# --- Evaluate, comments ---------------------------------------------------------------------


def test_an_unknown_evaluation_is_refused_and_changes_nothing(owner):
    entry = factories.LogEntryFactory(evaluation=Evaluation.POSITIVE)

    with pytest.raises(ValidationError):
        services.entry_evaluate(user=owner, entry_ids=[entry.pk], evaluation="splendid")

    entry.refresh_from_db()
    assert entry.evaluation == Evaluation.POSITIVE


def test_editing_a_comment_changes_its_date_and_text(owner):
    comment = factories.CommentFactory(created_by=owner, date=datetime.date(2026, 1, 5))

    services.comment_update(
        user=owner, comment=comment, date=datetime.date(2026, 2, 7), text="Called back"
    )

    comment.refresh_from_db()
    assert (comment.date, comment.comment) == (datetime.date(2026, 2, 7), "Called back")


def test_only_its_author_or_a_manager_may_change_a_comment_the_service_says_so_too(
    owner, colleague, manager
):
    comment = factories.CommentFactory(created_by=owner, comment="Mine")

    with pytest.raises(PermissionDenied):
        services.comment_update(user=colleague, comment=comment, date=comment.date, text="His")
    with pytest.raises(PermissionDenied):
        services.comment_delete(user=colleague, comment=comment)
    services.comment_update(user=manager, comment=comment, date=comment.date, text="Managed")

    comment.refresh_from_db()
    assert comment.comment == "Managed"


@pytest.mark.django_db(transaction=True)
def test_a_comment_on_an_entry_deleted_while_it_waited_is_refused_with_a_message(owner):
    """`Delete Canceled Entries` holds the entry's row; the comment waits for it, then finds
    the entry gone: RecordGone (a message), not a foreign-key error (a 500)."""
    entry = factories.LogEntryFactory(canceled=True)

    with transaction.atomic():  # this connection is Delete Canceled Entries
        InteractionLogEntry.objects.select_for_update().get(pk=entry.pk)
        thread, outcome = run_in_a_thread(
            lambda: services.comment_create(
                user=owner, entry=entry, date=datetime.date(2026, 3, 1), text="Too late"
            )
        )
        wait_until_a_connection_waits_for_a_lock(thread)
        InteractionLogEntry.objects.filter(pk=entry.pk).delete()
    thread.join(30)

    assert isinstance(outcome.get("error"), RecordGone), outcome
    assert not InteractionComment.objects.exists()


# --- Delete Canceled Entries ----------------------------------------------------------------


def test_delete_canceled_deletes_every_batch_whole(owner, monkeypatch):
    monkeypatch.setattr(services, "DELETE_BATCH", 2)
    for _ in range(5):
        factories.CommentFactory(entry=factories.LogEntryFactory(canceled=True))
    kept = factories.LogEntryFactory()

    deleted = services.entry_delete_canceled(user=owner, entries=InteractionLogEntry.objects.all())

    assert deleted == 5
    assert list(InteractionLogEntry.objects.all()) == [kept]
    assert not InteractionComment.objects.exists()


def test_delete_canceled_keeps_a_file_another_entry_still_uses(
    owner, django_capture_on_commit_callbacks
):
    name = default_storage.save("entries/2025/03/offer.pdf", ContentFile(b"%PDF"))
    factories.LogEntryFactory(canceled=True, attachment=name)
    still_using = factories.LogEntryFactory(attachment=name)

    with django_capture_on_commit_callbacks(execute=True):
        services.entry_delete_canceled(user=owner, entries=InteractionLogEntry.objects.all())

    assert list(InteractionLogEntry.objects.all()) == [still_using]
    assert default_storage.exists(name)


@pytest.mark.django_db(transaction=True)
def test_an_entry_un_canceled_while_the_delete_waited_for_it_is_kept(owner):
    """The delete locks what it decides on: an entry another request un-cancels while holding
    its row is read again when the delete gets the row, and stays."""
    entry = factories.LogEntryFactory(canceled=True)

    with transaction.atomic():  # this connection is Switch Check Mark in Canceled
        InteractionLogEntry.objects.select_for_update().get(pk=entry.pk)
        thread, outcome = run_in_a_thread(
            lambda: services.entry_delete_canceled(
                user=owner, entries=InteractionLogEntry.objects.all()
            )
        )
        wait_until_a_connection_waits_for_a_lock(thread)
        InteractionLogEntry.objects.filter(pk=entry.pk).update(canceled=False)
    thread.join(30)

    assert outcome == {"result": 0}
    assert InteractionLogEntry.objects.filter(pk=entry.pk, canceled=False).exists()


# --- Template content -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["subject", "body"])
def test_content_with_an_unknown_merge_field_is_refused_by_the_service(manager, field):
    template = factories.TemplateFactory()
    data = {"language": "", "subject": "Hello", "body": "Dear {{ first_name }},"}
    data[field] = "About {{ favourite_colour }}"

    with pytest.raises(ValidationError) as refused:
        services.template_content_create(user=manager, template=template, data=data)

    assert list(refused.value.message_dict) == [field]
    assert not template.contents.exists()


# --- What keeps an interaction from being logged --------------------------------------------


def problems(**changes) -> list[str]:
    """`interaction_problems` for a contact and salesperson that are fine, but for ``changes``."""
    arguments = {
        "contact": factories.PersonFactory(email="ann@example.com"),
        "salesperson": factories.SalespersonFactory(),
        "correspondence_type": "email",
        "deliver": True,
        "subject": "Hello",
        "body": "",
        **changes,
    }
    return services.interaction_problems(**arguments)


def test_nothing_keeps_a_fine_interaction_from_being_logged():
    assert problems() == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"contact": {"privacy_blocked": True}}, "is privacy blocked"),
        ({"salesperson": {"blocked": True}}, "is blocked and cannot be chosen"),
        ({"contact": {"email": ""}}, "has no email address, so the email cannot be delivered"),
        ({"subject": " ", "body": ""}, "An email to deliver needs a subject or a body."),
    ],
)
def test_each_reason_alone_keeps_an_interaction_from_being_logged(changes, problem):
    if "contact" in changes:
        fields = {"email": "ann@example.com", **changes["contact"]}
        changes = {"contact": factories.PersonFactory(**fields)}
    elif "salesperson" in changes:
        changes = {"salesperson": factories.SalespersonFactory(**changes["salesperson"])}

    found = problems(**changes)

    assert len(found) == 1, found
    assert problem in found[0]


# --- Drafts and Finish ----------------------------------------------------------------------


def open_draft(owner, **fields):
    return factories.DraftFactory(owner=owner, status=DraftStatus.IN_PROGRESS, **fields)


def upload_into(draft) -> str:
    return default_storage.save(
        InteractionDraft.files_folder(draft.pk) + "offer.pdf", ContentFile(b"%PDF")
    )


def finish(draft, owner, **values) -> InteractionLogEntry:
    """`Finish` with the steps' values: a call to a person who is fine, but for ``values``."""
    values = {
        "contact": factories.PersonFactory(),
        "template": factories.TemplateFactory(),
        "description": "Call",
        "salesperson": owner.salesperson,
        "date": datetime.date(2026, 4, 1),
        "time": None,
        "language": "",
        "correspondence_type": "",
        "information_flow": "",
        "initiated_by": "",
        "was_successful": True,
        "comments": [],
        **values,
    }
    return services.interaction_finish(draft=draft, user=owner, values=values)


@pytest.mark.parametrize("act", [services.draft_postpone, services.draft_delete])
def test_a_finished_draft_is_neither_postponed_nor_deleted(owner, act):
    draft = factories.DraftFactory(owner=owner, status=DraftStatus.FINISHED)

    with pytest.raises(DraftFinished):
        act(draft=draft)

    draft.refresh_from_db()
    assert draft.status == DraftStatus.FINISHED


def test_deleting_a_draft_deletes_its_uploads(owner, django_capture_on_commit_callbacks):
    draft = open_draft(owner)
    name = upload_into(draft)

    with django_capture_on_commit_callbacks(execute=True):
        services.draft_delete(draft=draft)

    assert not InteractionDraft.objects.filter(pk=draft.pk).exists()
    assert not default_storage.exists(name)


def test_finish_finishes_the_draft_and_deletes_its_state_and_uploads(
    owner, django_capture_on_commit_callbacks
):
    draft = open_draft(owner)
    name = upload_into(draft)

    with django_capture_on_commit_callbacks(execute=True):
        entry = finish(draft, owner)

    draft.refresh_from_db()
    assert (draft.status, draft.state) == (DraftStatus.FINISHED, {})
    assert entry.draft == draft
    assert not default_storage.exists(name)


def test_finish_refuses_what_interaction_problems_finds_and_logs_nothing(owner):
    draft = open_draft(owner)

    with pytest.raises(ValidationError, match="privacy blocked"):
        finish(draft, owner, contact=factories.PersonFactory(privacy_blocked=True))

    assert not InteractionLogEntry.objects.exists()
    draft.refresh_from_db()
    assert draft.status == DraftStatus.IN_PROGRESS


def test_only_an_email_is_queued_for_delivery(owner):
    letter = finish(open_draft(owner), owner, correspondence_type="hard_copy", deliver=True)
    email = finish(
        open_draft(owner), owner, correspondence_type="email", deliver=True, subject="Hi"
    )

    assert letter.delivery_status == ""
    assert email.delivery_status == DeliveryStatus.PENDING


def test_an_interaction_with_a_company_counts_for_that_company(owner):
    company = factories.CompanyFactory()

    entry = finish(open_draft(owner), owner, contact=company)

    assert entry.contact_company == company  # a company is its own company
