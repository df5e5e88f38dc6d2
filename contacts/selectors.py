"""Reads used by several views and services: access helpers and the contact search."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.db.models import ForeignObjectRel
from django.db.models.functions import Upper
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from contacts.models import (
    Campaign,
    Contact,
    ContactQuerySet,
    ContactType,
    NumberSeries,
    Opportunity,
    Salesperson,
)


def get_contact_for_user(request: HttpRequest, pk: int) -> Contact:
    """Every signed-in user sees every contact (spec section 6); unknown ids are a 404."""
    contacts = Contact.objects.select_related("company", "salesperson", "created_by", "updated_by")
    return get_object_or_404(contacts, pk=pk)


def get_salesperson_for_user(request: HttpRequest, pk: int) -> Salesperson:
    return get_object_or_404(Salesperson.objects.select_related("user"), pk=pk)


# The contact list's sort orders (`?sort=`): the (name, number) index and the unique number.
CONTACT_ORDERS = {
    "name": ("name", "number"),
    "-name": ("-name", "-number"),
    "number": ("number",),
    "-number": ("-number",),
}


def contact_search(
    *,
    text: str = "",
    type: str = "",
    company_id: int | None = None,
    salesperson_id: int | None = None,
    order: str = "name",
) -> ContactQuerySet:
    """Contacts matching the list filters, in ``order`` (a key of CONTACT_ORDERS), which an
    index serves."""
    fields = CONTACT_ORDERS.get(order, CONTACT_ORDERS["name"])
    contacts = Contact.objects.select_related("company", "salesperson").order_by(*fields)
    if text.strip():
        # Matches come from the prefix indexes, then a top-N sort. Ordering by the (name, number)
        # or number index instead lets Postgres walk that whole index for broad prefixes (0.7 s
        # at 100k); no index has UPPER(...) in the ORDER BY's operator class.
        first, *rest = fields
        column = Upper(first.lstrip("-"))
        contacts = contacts.search(text).order_by(
            column.desc() if first.startswith("-") else column, *rest
        )
    if type in ContactType.values:
        contacts = contacts.filter(type=type)
    if company_id is not None:
        contacts = contacts.filter(company_id=company_id)
    if salesperson_id is not None:
        contacts = contacts.filter(salesperson_id=salesperson_id)
    return contacts


@dataclass(frozen=True)
class ContactLookup:
    """What a typed number or name found: ``contact`` when it means one contact; otherwise the
    first ``matches`` (none, or several to choose from) and whether ``more`` matched besides."""

    contact: Contact | None
    matches: list[Contact] = field(default_factory=list)
    more: bool = False


def contact_lookup(text: str, *, limit: int = 10) -> ContactLookup:
    """The contact a user means by ``text``: the one with that number (any case), else what the
    contact search finds for it, taken when it is a single contact.

    Both are index scans (the number's unique index; the search's prefix indexes and a top-N
    sort of ``limit + 1`` rows), so a name stays fast at 100,000 contacts.
    """
    text = text.strip()
    if not text:
        return ContactLookup(None)
    contacts = Contact.objects.select_related("company", "salesperson")
    by_number = contacts.filter(number__iexact=text).first()
    if by_number is not None:
        return ContactLookup(by_number, [by_number])
    found = list(contact_search(text=text)[: limit + 1])
    if len(found) == 1:
        return ContactLookup(found[0], found)
    return ContactLookup(None, found[:limit], more=len(found) > limit)


def contact_usage(contact: Contact) -> list[str]:
    """What still refers to ``contact`` and so keeps it from being deleted (spec section 2).

    Reverse relations only: `contacts` must not import the apps that depend on it.
    """
    checks = [
        (_("interaction log entries"), [contact.log_entries, contact.company_log_entries]),
        (_("postponed interactions"), [contact.drafts, contact.context_drafts]),
        (_("segment lines"), [contact.segment_lines]),
        (_("persons"), [contact.persons]),
        (_("opportunities"), [contact.opportunities]),
    ]
    return [
        str(label)
        for label, relations in checks
        if any(relation.exists() for relation in relations)
    ]


def delete_blockers(record: models.Model) -> list[str]:
    """What still refers to ``record`` through a PROTECT or RESTRICT foreign key, so that the
    database would refuse to delete it: plural names such as "interaction log entries".

    One EXISTS per relation (hidden ``related_name="+"`` ones included), never loading the
    referring rows: Django's ProtectedError would read every one of them first.
    """
    blockers: list[str] = []
    for relation in record._meta.get_fields(include_hidden=True):
        if not isinstance(relation, ForeignObjectRel) or relation.many_to_many:
            continue
        if relation.on_delete not in (models.PROTECT, models.RESTRICT):
            continue
        model = relation.related_model
        label = str(model._meta.verbose_name_plural)
        if label in blockers:
            continue
        if model._base_manager.filter(**{relation.field.name: record}).exists():
            blockers.append(label)
    return blockers


def get_campaign_for_user(request: HttpRequest, pk: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("salesperson"), pk=pk)


def get_opportunity_for_user(request: HttpRequest, pk: int) -> Opportunity:
    opportunities = Opportunity.objects.select_related("contact_company", "salesperson", "campaign")
    return get_object_or_404(opportunities, pk=pk)


def get_number_series_for_user(request: HttpRequest, pk: int) -> NumberSeries:
    return get_object_or_404(NumberSeries, pk=pk)
