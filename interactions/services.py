"""Write paths of the interactions app; each outermost service owns its transaction."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from contacts.models import Campaign, Contact, CorrespondenceType, Opportunity, Salesperson
from interactions.models import (
    DeliveryStatus,
    DraftStatus,
    InteractionComment,
    InteractionDraft,
    InteractionLogEntry,
    InteractionTemplate,
)


def resolve_correspondence_type(
    *,
    template: InteractionTemplate,
    contact: Contact,
    segment_default: str = "",
    segment_ignores_contact: bool = False,
) -> str:
    """Correspondence-type precedence of spec section 3, the one place it is decided."""
    if segment_ignores_contact and segment_default:
        return segment_default
    if template.ignore_contact_corres_type or not contact.correspondence_type:
        return template.correspondence_type
    return contact.correspondence_type


def draft_start(
    *,
    user,
    contact: Contact | None = None,
    salesperson: Salesperson | None = None,
    segment=None,
    prefill: dict | None = None,
) -> InteractionDraft:
    """A new wizard run: its draft row exists from the first step (status in progress)."""
    return InteractionDraft.objects.create(
        owner=user,
        context_contact=contact,
        context_salesperson=salesperson,
        context_segment=segment,
        contact=contact,
        state={
            "step": None,
            "step_data": {},
            "step_files": {},
            "extra_data": {
                "prefill": prefill or {},
            },
        },
    )


def draft_postpone(*, draft: InteractionDraft) -> None:
    """`Cancel` -> `Yes`: keep the draft on the `Postponed Interactions` list."""
    InteractionDraft.objects.filter(pk=draft.pk).exclude(status=DraftStatus.FINISHED).update(
        status=DraftStatus.POSTPONED
    )


def draft_files(draft: InteractionDraft) -> list[str]:
    return [
        meta["tmp_name"]
        for step_files in (draft.state or {}).get("step_files", {}).values()
        for meta in step_files.values()
    ]


def _delete_files_on_commit(names: list[str]) -> None:
    def delete() -> None:
        for name in names:
            default_storage.delete(name)

    if names:
        transaction.on_commit(delete)


def draft_delete(*, draft: InteractionDraft) -> None:
    """`Cancel` -> `No`, or `Delete` on the list: the draft and its uploaded files go."""
    with transaction.atomic():
        _delete_files_on_commit(draft_files(draft))
        InteractionDraft.objects.filter(pk=draft.pk).exclude(status=DraftStatus.FINISHED).delete()


def interaction_log(
    *,
    draft: InteractionDraft,
    user,
    contact: Contact,
    template: InteractionTemplate,
    description: str,
    salesperson: Salesperson | None,
    date: datetime.date,
    time: datetime.time | None,
    language: str = "",
    correspondence_type: str = "",
    information_flow: str = "",
    initiated_by: str = "",
    subject: str = "",
    body: str = "",
    attachment: File | None = None,
    deliver: bool = False,
    campaign: Campaign | None = None,
    campaign_target: bool = False,
    campaign_response: bool = False,
    opportunity: Opportunity | None = None,
    evaluation: str = "",
    attempt_failed: bool = False,
    cost: Decimal = Decimal(0),
    duration: Decimal = Decimal(0),
    comments: list[str] | None = None,
) -> InteractionLogEntry:
    """`Finish`: write one log entry and mark the draft finished, in one transaction.

    The draft row is locked first, so a double-clicked or replayed Finish waits for the first
    and then gets the entry it wrote instead of logging again.
    """
    with transaction.atomic(durable=True):
        locked = InteractionDraft.objects.select_for_update().get(pk=draft.pk)
        if locked.status == DraftStatus.FINISHED:
            return InteractionLogEntry.objects.get(draft=locked)

        problems = interaction_problems(
            contact=contact,
            salesperson=salesperson,
            correspondence_type=correspondence_type,
            deliver=deliver,
            subject=subject,
            body=body,
        )
        if problems:
            raise ValidationError(problems)
        if correspondence_type == CorrespondenceType.EMAIL and not contact.email:
            # Recording an email that already happened to a contact without an address.
            correspondence_type = CorrespondenceType.BLANK
        delivering = deliver and correspondence_type == CorrespondenceType.EMAIL

        entry = InteractionLogEntry(
            contact=contact,
            contact_company=contact.company_contact,
            date=date,
            time=time,
            description=description,
            subject=subject,
            template=template,
            group_id=template.group_id,
            salesperson=salesperson,
            information_flow=information_flow,
            initiated_by=initiated_by,
            correspondence_type=correspondence_type,
            cost=cost,
            duration=duration,
            evaluation=evaluation,
            attempt_failed=attempt_failed,
            campaign=campaign,
            campaign_target=campaign_target,
            campaign_response=campaign_response,
            opportunity=opportunity,
            language=language,
            body=body,
            delivery_status=DeliveryStatus.PENDING if delivering else DeliveryStatus.BLANK,
            draft=locked,
            logged_by=user,
            updated_by=user,
        )
        if attachment is not None:
            entry.attachment.save(attachment.name.rsplit("/", 1)[-1], attachment, save=False)
        entry.save()
        InteractionComment.objects.bulk_create(
            InteractionComment(
                entry=entry, date=date, comment=text, created_by=user, updated_by=user
            )
            for text in comments or []
        )
        _delete_files_on_commit(draft_files(locked))
        locked.status = DraftStatus.FINISHED
        locked.state = {}
        locked.save(update_fields=["status", "state", "updated_at"])
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
