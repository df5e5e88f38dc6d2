"""Writes for contacts, salespeople and Marketing Setup; each owns its transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError, QuerySet, RestrictedError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from contacts.models import (
    Campaign,
    Contact,
    MarketingSetup,
    NumberSeries,
    Opportunity,
    Salesperson,
    Tracked,
)
from contacts.selectors import contact_usage, delete_blockers

UserLike = AbstractBaseUser | AnonymousUser
M = TypeVar("M", bound=Model)

# A number the series hands out may already be in use when someone typed it by hand; skip
# ahead, but not forever (a series whose range is used up needs a manager, not a loop).
MAX_NUMBER_SKIPS = 100


class ContactInUse(Exception):
    """The contact is still referred to; privacy-block it instead."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(", ".join(reasons))

    @property
    def message(self) -> str:
        return str(
            format_lazy(
                _(
                    "This contact cannot be deleted because it has {reasons}. "
                    "Set Privacy Blocked on it instead."
                ),
                reasons=", ".join(self.reasons),
            )
        )


class RecordGone(ValidationError):
    """What the request was about to change was deleted by another request after this one read
    it (a manager's `Delete Canceled ...` while a user switches, edits or comments).

    A `ValidationError`, so a form shows it above its fields with what the user typed kept;
    views without a form turn it into a message.
    """


def lock_or_gone(queryset: QuerySet[M], *, gone: str, **lookup) -> M:
    """The row of ``queryset`` matching ``lookup``, read again under a lock until commit.

    ``queryset`` says how to lock (``select_for_update(...)``). A row another request deleted
    meanwhile is `RecordGone` with the message ``gone``, never a server error: every service
    that acts on a row a view read earlier starts with this.
    """
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist as missing:
        raise RecordGone(gone) from missing


def lock_unless_new(record: Model) -> None:
    """Lock an existing ``record``'s row before saving it again: saving a row another request
    deleted meanwhile would quietly insert it again. `RecordGone` then."""
    if record._state.adding:
        return
    lock_or_gone(
        type(record)._default_manager.select_for_update(),
        pk=record.pk,
        gone=_("%(record)s was deleted meanwhile; nothing was saved.") % {"record": record},
    )


def _next_contact_number() -> str:
    series = MarketingSetup.load().contact_nos
    if series is None:
        raise ValidationError(
            {
                "number": _(
                    "No contact number series is set up in Marketing Setup (Contact Nos.). "
                    "Enter a number, or ask a Marketing Manager to set up the series."
                )
            }
        )
    for _attempt in range(MAX_NUMBER_SKIPS):
        (number,) = series.take()
        if not Contact.objects.filter(number=number).exists():
            return number
    raise ValidationError(
        {
            "number": _(
                "The contact number series %(series)s keeps giving numbers that are already in "
                "use. Enter a number, or ask a Marketing Manager to check the series."
            )
            % {"series": series.code}
        }
    )


def _save_contact(*, user: UserLike, contact: Contact) -> Contact:
    try:
        with transaction.atomic(durable=True):
            lock_unless_new(contact)
            if not contact.number:
                contact.number = _next_contact_number()
            # clean() derives a person's name from first name and surname; run it before the
            # field checks so that an empty name is filled in rather than refused.
            contact.clean()
            contact.full_clean()
            contact.stamp(user)
            contact.save()
    except IntegrityError as exc:
        # Only a concurrent insert of the same number gets past full_clean().
        raise ValidationError(
            {"number": _("Another contact with this number was just saved. Try again.")}
        ) from exc
    return contact


def contact_create(*, user: UserLike, data: Mapping[str, Any]) -> Contact:
    """Create a contact; an empty number is taken from Marketing Setup's `Contact Nos.`."""
    return _save_contact(user=user, contact=Contact(**data))


def contact_update(*, user: UserLike, contact: Contact, data: Mapping[str, Any]) -> Contact:
    for field, value in data.items():
        setattr(contact, field, value)
    return _save_contact(user=user, contact=contact)


def contact_delete(*, user: UserLike, contact: Contact) -> None:
    """Delete a contact nothing refers to; raise `ContactInUse` otherwise."""
    reasons = contact_usage(contact)
    if reasons:
        raise ContactInUse(reasons)
    try:
        with transaction.atomic(durable=True):
            contact.delete()
    except (ProtectedError, RestrictedError) as exc:
        # Something new refers to it since the check above (or a relation it does not know).
        raise ContactInUse([str(_("records that refer to it"))]) from exc


def _save_salesperson(*, user: UserLike, salesperson: Salesperson) -> Salesperson:
    try:
        with transaction.atomic(durable=True):
            lock_unless_new(salesperson)
            salesperson.full_clean()
            salesperson.stamp(user)
            salesperson.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("Another salesperson with this code or user was just saved. Try again.")
        ) from exc
    return salesperson


def salesperson_create(*, user: UserLike, data: Mapping[str, Any]) -> Salesperson:
    return _save_salesperson(user=user, salesperson=Salesperson(**data))


def salesperson_update(
    *, user: UserLike, salesperson: Salesperson, data: Mapping[str, Any]
) -> Salesperson:
    for field, value in data.items():
        setattr(salesperson, field, value)
    return _save_salesperson(user=user, salesperson=salesperson)


def marketing_setup_update(
    *, user: UserLike, setup: MarketingSetup, data: Mapping[str, Any]
) -> MarketingSetup:
    for field, value in data.items():
        setattr(setup, field, value)
    with transaction.atomic(durable=True):
        setup.full_clean()
        setup.stamp(user)
        setup.save()
    return setup


# --- Setup records: campaigns, opportunities, number series (and, from `interactions`, templates
# and groups). Marketing Managers maintain them; whatever refers to one keeps it alive.


class RecordInUse(Exception):
    """Other records still refer to this one, and the database PROTECTs it."""

    def __init__(self, record, reasons: list[str]) -> None:
        self.record = record
        self.reasons = reasons
        super().__init__(", ".join(reasons))

    @property
    def message(self) -> str:
        return str(
            format_lazy(
                _("{record} cannot be deleted because {reasons} still refer to it."),
                record=self.record,
                reasons=", ".join(self.reasons),
            )
        )


def save_tracked(*, user: UserLike, record: Tracked, conflict: str) -> Tracked:
    """Validate, stamp who changed it and save ``record`` in its own transaction.

    ``conflict`` is the message for a unique value someone else saved in the meantime (the only
    way past ``full_clean``).
    """
    try:
        with transaction.atomic(durable=True):
            lock_unless_new(record)
            record.full_clean()
            record.stamp(user)
            record.save()
    except IntegrityError as exc:
        raise ValidationError(conflict) from exc
    return record


def delete_unless_referenced(*, record: Tracked) -> None:
    """Delete ``record``, or raise `RecordInUse` naming what still refers to it."""
    reasons = delete_blockers(record)
    if reasons:
        raise RecordInUse(record, reasons)
    try:
        with transaction.atomic(durable=True):
            record.delete()
    except (ProtectedError, RestrictedError, IntegrityError) as exc:
        # Something started referring to it after the check above.
        raise RecordInUse(record, [str(_("other records"))]) from exc


def _apply(record: Tracked, data: Mapping[str, Any]) -> Tracked:
    for field, value in data.items():
        setattr(record, field, value)
    return record


def campaign_create(*, user: UserLike, data: Mapping[str, Any]) -> Campaign:
    return save_tracked(
        user=user,
        record=Campaign(**data),
        conflict=_("Another campaign with this number was just saved. Try again."),
    )


def campaign_update(*, user: UserLike, campaign: Campaign, data: Mapping[str, Any]) -> Campaign:
    return save_tracked(
        user=user,
        record=_apply(campaign, data),
        conflict=_("Another campaign with this number was just saved. Try again."),
    )


def campaign_delete(*, user: UserLike, campaign: Campaign) -> None:
    delete_unless_referenced(record=campaign)


def opportunity_create(*, user: UserLike, data: Mapping[str, Any]) -> Opportunity:
    return save_tracked(
        user=user,
        record=Opportunity(**data),
        conflict=_("Another opportunity with this number was just saved. Try again."),
    )


def opportunity_update(
    *, user: UserLike, opportunity: Opportunity, data: Mapping[str, Any]
) -> Opportunity:
    return save_tracked(
        user=user,
        record=_apply(opportunity, data),
        conflict=_("Another opportunity with this number was just saved. Try again."),
    )


def opportunity_delete(*, user: UserLike, opportunity: Opportunity) -> None:
    delete_unless_referenced(record=opportunity)


def number_series_create(*, user: UserLike, data: Mapping[str, Any]) -> NumberSeries:
    return save_tracked(
        user=user,
        record=NumberSeries(**data),
        conflict=_("Another number series with this code was just saved. Try again."),
    )


def number_series_update(
    *, user: UserLike, series: NumberSeries, data: Mapping[str, Any]
) -> NumberSeries:
    """Change a series; its last number used may be raised, never lowered.

    The row lock is the one `NumberSeries.take` waits on, so the check compares against the
    number really last handed out: lowering it would hand out codes that exist already.
    """
    try:
        with transaction.atomic(durable=True):
            last_used = lock_or_gone(
                NumberSeries.objects.select_for_update(),
                pk=series.pk,
                gone=_("%(record)s was deleted meanwhile; nothing was saved.") % {"record": series},
            ).last_number
            if data.get("last_number", last_used) < last_used:
                raise ValidationError(
                    {
                        "last_number": _(
                            "Numbers up to %(number)s have been handed out already; the last "
                            "number used cannot go below that."
                        )
                        % {"number": last_used}
                    }
                )
            _apply(series, data)
            series.full_clean()
            series.stamp(user)
            series.save()
    except IntegrityError as exc:
        raise ValidationError(
            _("Another number series with this code was just saved. Try again.")
        ) from exc
    return series


def number_series_delete(*, user: UserLike, series: NumberSeries) -> None:
    delete_unless_referenced(record=series)
