"""Write paths of the interactions app; each outermost service owns its transaction."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.built_once import BuiltOnceUpdate
from contacts.models import Contact, CorrespondenceType, Salesperson
from contacts.services import RecordGone, delete_unless_referenced, lock_or_gone, save_tracked
from interactions.merge import validate_merge_fields
from interactions.models import (
    DeliveryStatus,
    DraftStatus,
    Evaluation,
    InteractionComment,
    InteractionDraft,
    InteractionGroup,
    InteractionLogEntry,
    InteractionTemplate,
    InteractionTemplateContent,
)
from interactions.selectors import (
    CanceledSwitch,
    canceled_switch,
    deletable_canceled,
    stale_drafts,
)


def resolve_correspondence_type(
    *,
    template: InteractionTemplate,
    contact: Contact | None,
    segment_default: str = "",
    segment_ignores_contact: bool = False,
) -> str:
    """The correspondence type an interaction gets, decided here only: the segment's default if
    the segment ignores contact preferences and has one; else the template's if the template
    ignores them or the contact has none (a segment's header has no contact); else the contact's."""
    if segment_ignores_contact and segment_default:
        return segment_default
    if template.ignore_contact_corres_type or contact is None or not contact.correspondence_type:
        return template.correspondence_type
    return contact.correspondence_type


def interaction_language(
    *, template: InteractionTemplate, contact: Contact | None = None, chosen: str = ""
) -> str:
    """The language of an interaction's content: the one chosen, else the contact's, else the
    template's."""
    return chosen or (contact.language if contact else "") or template.language


# --- Drafts: the Create Interaction wizard's runs ------------------------------------------------


class DraftFinished(Exception):
    """The draft's `Finish` committed first (a double click, a replay, another tab)."""


def lock_open_draft(draft: InteractionDraft) -> InteractionDraft:
    """``draft``'s row, locked until commit, for finishing or discarding it: another request
    doing either waits here, then finds `DraftFinished` or `RecordGone` (discarded)."""
    locked = lock_or_gone(
        InteractionDraft.objects.select_for_update(),
        pk=draft.pk,
        gone=_("This interaction was discarded meanwhile."),
    )
    if locked.status == DraftStatus.FINISHED:
        raise DraftFinished
    return locked


def draft_start(
    *,
    user,
    contact: Contact | None = None,
    salesperson: Salesperson | None = None,
    segment=None,
    state: dict | None = None,
) -> InteractionDraft:
    """A new wizard run: its draft row exists from the first step (status in progress)."""
    return InteractionDraft.objects.create(
        owner=user,
        context_contact=contact,
        context_salesperson=salesperson,
        context_segment=segment,
        contact=contact,
        state=state or {},
    )


def draft_postpone(*, draft: InteractionDraft) -> None:
    """`Cancel` -> `Yes`: keep the draft on the `Postponed Interactions` list."""
    with transaction.atomic(durable=True):
        locked = lock_open_draft(draft)
        InteractionDraft.objects.filter(pk=locked.pk).update(status=DraftStatus.POSTPONED)


def draft_delete(*, draft: InteractionDraft) -> None:
    """`Cancel` -> `No`, or `Delete` on the list: the draft and its uploads go. One a `Finish`
    logged meanwhile stays (`DraftFinished`); one already gone is done."""
    with transaction.atomic(durable=True):
        try:
            locked = lock_open_draft(draft)
        except RecordGone:
            return
        delete_draft_files_on_commit([locked])
        locked.delete()


def draft_purge_stale_batch(*, changed_before: datetime.datetime, batch_size: int) -> int:
    """One batch of `purge_postponed_interactions`: up to ``batch_size`` drafts unchanged since
    ``changed_before``, deleted with their uploaded files (after commit). Returns how many went;
    0 when none is left.

    A draft being finished or resumed holds its row lock, so it is skipped here (``SKIP
    LOCKED``); the ``updated_at`` test is applied again to the locked row, so one touched
    meanwhile stays. A finished draft's entry keeps its data; only its link to the draft goes.
    """
    with transaction.atomic(durable=True):
        drafts = list(
            stale_drafts(changed_before).select_for_update(skip_locked=True).only("id")[:batch_size]
        )
        delete_draft_files_on_commit(drafts)
        InteractionDraft.objects.filter(pk__in=[draft.pk for draft in drafts]).delete()
    return len(drafts)


# `Finish` claims its draft with the UPDATE that finishes it, compiled once as the steps'
# writes are (interactions/wizard.py): reading the row `FOR UPDATE` first was one more
# statement on every `Finish`.
_OPEN_DRAFT = BuiltOnceUpdate(
    lambda pk: InteractionDraft.objects.filter(pk=pk).exclude(status=DraftStatus.FINISHED),
    pk=uuid.UUID(int=0),
)


def draft_claim_finish(*, draft: InteractionDraft) -> None:
    """The first write of every `Finish`, in its transaction: ``draft`` is finished, its state
    and its uploads go (the files once committed).

    The UPDATE locks the row until commit, as `lock_open_draft` does: a second `Finish` or a
    discard in another request waits, then finds it finished or gone. One that finds no open
    row raises `DraftFinished` (a `Finish` committed first) or `RecordGone` (discarded). An
    error later in the transaction rolls the claim back with the rest.
    """
    changes = {"status": DraftStatus.FINISHED, "state": {}, "updated_at": timezone.now()}
    if not _OPEN_DRAFT.run(changes, pk=draft.pk):
        if InteractionDraft.objects.filter(pk=draft.pk).exists():
            raise DraftFinished
        raise RecordGone(_("This interaction was discarded meanwhile."))
    delete_draft_files_on_commit([draft])


def delete_files_on_commit(names: Iterable[str]) -> None:
    names = list(names)
    if names:
        transaction.on_commit(lambda: [default_storage.delete(name) for name in names])


def delete_draft_files_on_commit(drafts: Iterable[InteractionDraft]) -> None:
    """The drafts' uploads (each draft's folder) go once the transaction commits."""
    folders = [InteractionDraft.files_folder(draft.pk) for draft in drafts]

    def delete() -> None:
        for folder in folders:
            try:
                _folders, names = default_storage.listdir(folder)
            except FileNotFoundError:  # nothing was uploaded
                continue
            for name in names:
                default_storage.delete(folder + name)

    transaction.on_commit(delete)


# The log entry's fields that the wizard's steps give as they are.
ENTRY_VALUES = (
    "contact",
    "template",
    "description",
    "salesperson",
    "date",
    "time",
    "subject",
    "body",
    "campaign",
    "campaign_target",
    "campaign_response",
    "opportunity",
    "evaluation",
    "cost",
    "duration",
)


def interaction_finish(
    *, draft: InteractionDraft, user, values: Mapping[str, Any]
) -> InteractionLogEntry:
    """`Finish` of Create Interaction: one log entry from the steps' cleaned ``values`` (every
    step's; a later step's wins, so the Result's description), queued for delivery when asked,
    and the draft finished, in one transaction.

    The draft is claimed first (`draft_claim_finish`, which locks its row): a second `Finish`
    or a discard in another tab waits, then gets `DraftFinished` or `RecordGone` instead of
    logging again.
    """
    contact, template = values["contact"], values["template"]
    correspondence_type = values["correspondence_type"] or resolve_correspondence_type(
        template=template, contact=contact
    )
    deliver = values.get("deliver", False)  # asked on the Content step of an email only
    with transaction.atomic(durable=True):
        draft_claim_finish(draft=draft)
        problems = interaction_problems(
            contact=contact,
            salesperson=values["salesperson"],
            correspondence_type=correspondence_type,
            deliver=deliver,
            subject=values.get("subject", ""),
            body=values.get("body", ""),
        )
        if problems:
            raise ValidationError(problems)
        if correspondence_type == CorrespondenceType.EMAIL and not contact.email:
            # Recording an email that already happened to a contact without an address.
            correspondence_type = CorrespondenceType.BLANK
        delivering = deliver and correspondence_type == CorrespondenceType.EMAIL
        entry = InteractionLogEntry(
            **{name: values[name] for name in ENTRY_VALUES if name in values},
            contact_company=contact.company_contact,
            group_id=template.group_id,
            language=interaction_language(
                template=template, contact=contact, chosen=values["language"]
            ),
            correspondence_type=correspondence_type,
            information_flow=values["information_flow"] or template.information_flow,
            initiated_by=values["initiated_by"] or template.initiated_by,
            attempt_failed=not values["was_successful"],
            delivery_status=DeliveryStatus.PENDING if delivering else DeliveryStatus.BLANK,
            draft=draft,
            logged_by=user,
            updated_by=user,
        )
        if attachment := values.get("attachment"):
            entry.attachment_name = attachment.name
            entry.attachment.save(attachment.name, attachment, save=False)
        entry.save()
        InteractionComment.objects.bulk_create(
            InteractionComment(
                entry=entry, date=entry.date, comment=text, created_by=user, updated_by=user
            )
            for text in values["comments"]
        )
    return entry


def interaction_problems(
    *,
    contact: Contact,
    salesperson: Salesperson | None,
    correspondence_type: str,
    deliver: bool,
    subject: str,
    body: str,
) -> list[str]:
    """Every reason the interaction cannot be logged, in words a salesperson understands."""
    problems = []
    if contact.privacy_blocked:
        problems.append(
            _("%(contact)s is privacy blocked: no new interactions can be logged for it.")
            % {"contact": contact}
        )
    if salesperson is None:
        problems.append(_("Choose a salesperson."))
    elif salesperson.blocked:
        problems.append(
            _("Salesperson %(salesperson)s is blocked and cannot be chosen.")
            % {"salesperson": salesperson}
        )
    if deliver and correspondence_type == CorrespondenceType.EMAIL:
        if not contact.email:
            problems.append(
                _("%(contact)s has no email address, so the email cannot be delivered.")
                % {"contact": contact}
            )
        if not (subject.strip() or body.strip()):
            problems.append(_("An email to deliver needs a subject or a body."))
    return problems


# --- Entry actions of `Interaction Log Entries` ------------------------------------------------
# After logging, users change only Canceled, Evaluation and comments; each change records who.


def entry_switch_canceled(*, user, entry_ids: Collection[int]) -> CanceledSwitch:
    """`Switch Check Mark in Canceled`: flip each entry, except that an entry of a canceled
    logged segment stays canceled.

    The entries are locked first and split by a second statement, which sees every change
    committed while it waited (a logged segment canceled at that moment included).
    """
    with transaction.atomic(durable=True):
        entries = InteractionLogEntry.objects.filter(pk__in=entry_ids)
        locked = list(entries.order_by("pk").select_for_update().values_list("pk", flat=True))
        switch = canceled_switch(InteractionLogEntry.objects.filter(pk__in=locked))
        changed = {"updated_by": user, "updated_at": timezone.now()}
        InteractionLogEntry.objects.filter(pk__in=switch.to_cancel).update(canceled=True, **changed)
        InteractionLogEntry.objects.filter(pk__in=switch.to_uncancel).update(
            canceled=False, **changed
        )
    return switch


def entry_evaluate(*, user, entry_ids: Collection[int], evaluation: str) -> int:
    """`Evaluate Interaction` on the selected entries; the number of entries changed."""
    if evaluation not in Evaluation.values:
        raise ValidationError(_("Choose an evaluation."))
    with transaction.atomic(durable=True):
        return InteractionLogEntry.objects.filter(pk__in=entry_ids).update(
            evaluation=evaluation, updated_by=user, updated_at=timezone.now()
        )


def entry_resend(*, entry: InteractionLogEntry, user) -> None:
    """`Resend` on an entry in Error: queue it again (Pending, attempts from zero); the next
    `deliver_interactions` run sends it. Raises ValidationError when it is not in Error."""
    if entry.canceled:
        raise ValidationError(_("A canceled entry cannot be resent."))
    if entry.contact.privacy_blocked:
        raise ValidationError(
            _("%(contact)s is privacy blocked; nothing can be sent.") % {"contact": entry.contact}
        )
    requeued = InteractionLogEntry.objects.filter(
        pk=entry.pk, delivery_status=DeliveryStatus.ERROR, canceled=False
    ).update(
        delivery_status=DeliveryStatus.PENDING,
        delivery_attempts=0,
        delivery_next_try_at=None,
        updated_at=timezone.now(),
        updated_by=user,
    )
    if not requeued:
        raise ValidationError(_("Only an entry whose delivery status is Error can be resent."))
    entry.refresh_from_db(
        fields=["delivery_status", "delivery_attempts", "delivery_next_try_at", "updated_at"]
    )


class CanceledCountChanged(Exception):
    """The number of canceled entries changed after the user confirmed another number."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(count)


DELETE_BATCH = 2000


def entry_delete_canceled(*, user, entries: QuerySet, expected: int | None = None) -> int:
    """`Delete Canceled Entries` on ``entries`` (the list's filter): only canceled ones, with
    their comments and their own attachment files. With ``expected``, nothing is deleted unless
    exactly that many match (what the confirmation showed): `CanceledCountChanged` otherwise.
    """
    with transaction.atomic(durable=True):
        # Locked, so none of them can be un-canceled between this read and the delete.
        rows = list(
            deletable_canceled(entries)
            .order_by("pk")
            .select_for_update(of=("self",))
            .values_list("pk", "attachment")
        )
        if expected is not None and len(rows) != expected:
            raise CanceledCountChanged(len(rows))
        return _delete_entries(rows)


def entry_delete_canceled_batch(*, entries: QuerySet, batch_size: int) -> int:
    """One batch of `delete_canceled_interactions`: up to ``batch_size`` of the entries
    `Delete Canceled Entries` would delete of ``entries``, claimed with ``SKIP LOCKED`` (rows
    another run or a user holds are left for later, not waited for) and deleted like there.
    Returns how many went; 0 when none is left."""
    with transaction.atomic(durable=True):
        rows = list(
            deletable_canceled(entries)
            .order_by("pk")
            .select_for_update(of=("self",), skip_locked=True)
            .values_list("pk", "attachment")[:batch_size]
        )
        return _delete_entries(rows)


def _delete_entries(rows: list[tuple[int, str]]) -> int:
    """Delete the locked entries ``rows`` (pk, attachment) with their comments; their own
    attachment files go after commit."""
    ids = [pk for pk, _name in rows]
    for start in range(0, len(ids), DELETE_BATCH):
        batch = ids[start : start + DELETE_BATCH]
        InteractionComment.objects.filter(entry_id__in=batch).delete()
        InteractionLogEntry.objects.filter(pk__in=batch).delete()
    # A file uploaded with an entry (under entries/) is its own; a segment's shared file is
    # not, and stays. Another entry may still use the same name.
    files = {name for _pk, name in rows if name and name.startswith("entries/")}
    still_used = InteractionLogEntry.objects.filter(attachment__in=files).values_list(
        "attachment", flat=True
    )
    delete_files_on_commit(sorted(files - set(still_used)))
    return len(ids)


def comment_create(*, user, entry: InteractionLogEntry, date: datetime.date, text: str):
    with transaction.atomic(durable=True):
        # Locked, so `Delete Canceled Entries` cannot take the entry from under the comment.
        entry = lock_or_gone(
            InteractionLogEntry.objects.select_for_update(no_key=True),
            pk=entry.pk,
            gone=_("This interaction log entry was deleted meanwhile; the comment was not saved."),
        )
        comment = InteractionComment(entry=entry, date=date, comment=text)
        comment.full_clean()
        comment.stamp(user)
        comment.save()
    return comment


def _lock_comment(comment: InteractionComment, user) -> InteractionComment:
    """The comment's row, locked; only its author or a Marketing Manager may go on."""
    locked = lock_or_gone(
        InteractionComment.objects.select_for_update(),
        pk=comment.pk,
        gone=_("This comment was deleted meanwhile."),
    )
    if not locked.is_editable_by(user):
        raise PermissionDenied
    return locked


def comment_update(
    *, user, comment: InteractionComment, date: datetime.date, text: str
) -> InteractionComment:
    """Change a comment: its author or a Marketing Manager (its author stays who wrote it)."""
    with transaction.atomic(durable=True):
        locked = _lock_comment(comment, user)
        locked.date = date
        locked.comment = text
        locked.full_clean()
        locked.stamp(user)
        locked.save()
    return locked


def comment_delete(*, user, comment: InteractionComment) -> None:
    """Delete a comment: its author or a Marketing Manager."""
    with transaction.atomic(durable=True):
        _lock_comment(comment, user).delete()


# --- Interaction groups and templates, maintained by Marketing Managers ----------------------
# A group or template that anything refers to cannot be deleted: the database PROTECTs it, and
# `delete_unless_referenced` says what refers to it before trying.


def _apply(record, data: Mapping[str, Any]):
    for field, value in data.items():
        setattr(record, field, value)
    return record


def group_create(*, user, data: Mapping[str, Any]) -> InteractionGroup:
    return save_tracked(
        user=user,
        record=InteractionGroup(**data),
        conflict=_("Another interaction group with this code was just saved. Try again."),
    )


def group_update(*, user, group: InteractionGroup, data: Mapping[str, Any]) -> InteractionGroup:
    return save_tracked(
        user=user,
        record=_apply(group, data),
        conflict=_("Another interaction group with this code was just saved. Try again."),
    )


def group_delete(*, user, group: InteractionGroup) -> None:
    delete_unless_referenced(record=group)


def template_create(*, user, data: Mapping[str, Any]) -> InteractionTemplate:
    return save_tracked(
        user=user,
        record=InteractionTemplate(**data),
        conflict=_("Another interaction template with this code was just saved. Try again."),
    )


def template_update(
    *, user, template: InteractionTemplate, data: Mapping[str, Any]
) -> InteractionTemplate:
    return save_tracked(
        user=user,
        record=_apply(template, data),
        conflict=_("Another interaction template with this code was just saved. Try again."),
    )


def template_delete(*, user, template: InteractionTemplate) -> None:
    delete_unless_referenced(record=template)


def _check_merge_fields(content: InteractionTemplateContent) -> None:
    errors = {}
    for field in ("subject", "body"):
        try:
            validate_merge_fields(getattr(content, field))
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)


def _save_content(*, user, content: InteractionTemplateContent) -> InteractionTemplateContent:
    _check_merge_fields(content)
    return save_tracked(
        user=user,
        record=content,
        conflict=_("This template was just given content in that language. Try again."),
    )


def template_content_create(
    *, user, template: InteractionTemplate, data: Mapping[str, Any]
) -> InteractionTemplateContent:
    """Content in one language (blank: the default); merge fields are checked on save."""
    return _save_content(user=user, content=InteractionTemplateContent(template=template, **data))


def template_content_update(
    *, user, content: InteractionTemplateContent, data: Mapping[str, Any]
) -> InteractionTemplateContent:
    return _save_content(user=user, content=_apply(content, data))


def template_content_delete(*, user, content: InteractionTemplateContent) -> None:
    # The attachment file stays: entries and segments made from this content may send it.
    with transaction.atomic(durable=True):
        content.delete()
