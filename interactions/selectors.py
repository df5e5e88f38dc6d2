"""Reads of interactions reused by several views: access helpers, entry filters, keyset paging."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from contacts.built_once import BuiltOnceQuery
from contacts.models import Contact
from interactions.models import (
    NEWEST_FIRST,
    OLDEST_FIRST,
    DeliveryStatus,
    InteractionDraft,
    InteractionGroup,
    InteractionLogEntry,
    InteractionTemplate,
    InteractionTemplateContent,
    LogEntryQuerySet,
)

# --- Access helpers -------------------------------------------------------------------------
# Everyone signed in shares one book, so only drafts are filtered by owner; the
# others still take the request so that a later ownership rule changes one function.


ENTRY_RELATIONS = ("contact", "contact_company", "template", "group", "salesperson")
ENTRY_MORE_RELATIONS = ("campaign", "opportunity", "logged_segment", "logged_by", "updated_by")


# The entry page's reads, compiled once per process (contacts/built_once.py): with five tables
# joined each, the ORM spent about as much CPU building their SQL as the rest of the page's view.
_ENTRY = BuiltOnceQuery(
    lambda pk: (
        InteractionLogEntry.objects.select_related(*ENTRY_RELATIONS).order_by().filter(pk=pk)
    ),
    pk=-1,
)
_ENTRY_MORE = BuiltOnceQuery(
    lambda pk: (
        InteractionLogEntry.objects.select_related(*ENTRY_MORE_RELATIONS)
        .only("pk", *ENTRY_MORE_RELATIONS)
        .order_by()
        .filter(pk=pk)
    ),
    pk=-1,
)
_ENTRY_MISSING = "No InteractionLogEntry matches the given query."


def get_entry_for_user(request: HttpRequest, pk: int) -> InteractionLogEntry:
    """The entry with every row its page shows, in two queries of five joins each: Postgres's
    join search grows exponentially with the joins, so planning one query of ten took far longer
    than running either half (docs/benchmarks.md, issue 4)."""
    entry = _ENTRY.get_by_id(pk, _ENTRY_MISSING)
    more = _ENTRY_MORE.get_by_id(pk, _ENTRY_MISSING)
    for relation in ENTRY_MORE_RELATIONS:
        setattr(entry, relation, getattr(more, relation))
    return entry


def get_template_for_user(request: HttpRequest, pk: int) -> InteractionTemplate:
    templates = InteractionTemplate.objects.select_related(
        "group", "campaign", "created_by", "updated_by"
    )
    return get_object_or_404(templates, pk=pk)


def get_group_for_user(request: HttpRequest, pk: int) -> InteractionGroup:
    groups = InteractionGroup.objects.select_related("created_by", "updated_by")
    return get_object_or_404(groups, pk=pk)


# Every wizard request reads its draft with six tables joined: compiling that SQL cost ~8x
# what running it does, so it is compiled once per process (contacts/built_once.py). Whether its
# template has contents comes with the row: nearly every wizard request asks (is there a
# Content step), and reading them for that was a query of its own.
_OWN_DRAFT = BuiltOnceQuery(
    lambda owner, pk: (
        InteractionDraft.objects.owned_by(owner)
        .filter(pk=pk)
        .select_related(
            "contact",
            "template",
            # the Related step's company and the merge fields' read the contact's company
            "context_contact__company",
            "context_salesperson",
            "context_segment",
        )
        .annotate(
            template_has_contents=Exists(
                InteractionTemplateContent.objects.filter(template=OuterRef("template"))
            )
        )
        .order_by()
    ),
    owner=-1,
    pk=uuid.UUID(int=0),
)


def get_draft_for_user(request: HttpRequest, pk: uuid.UUID | str) -> InteractionDraft:
    """The user's own draft; another user's draft is a 404, never a 403."""
    try:
        pk = pk if isinstance(pk, uuid.UUID) else uuid.UUID(pk)
    except ValueError:
        raise Http404 from None
    owner = request.user.pk
    drafts = _OWN_DRAFT.fetch(owner=owner, pk=pk) if owner is not None else []
    if not drafts:
        raise Http404("No draft with this id is yours.")
    draft = drafts[0]
    if draft.template is not None:
        draft.template.has_contents = draft.template_has_contents
    return draft


# --- Lists ----------------------------------------------------------------------------------


def postponed_drafts(user, *, contact: Contact | None = None):
    """The `Postponed Interactions` of ``user``, most recently changed first."""
    drafts = (
        InteractionDraft.objects.owned_by(user)
        .postponed()
        .select_related("contact", "template", "context_segment")
        .order_by("-updated_at")
    )
    if contact is not None:
        drafts = drafts.filter(Q(contact=contact) | Q(context_contact=contact))
    return drafts


class EntryRow(NamedTuple):
    """What a row of the entry list shows, as plain values.

    The list read log entries with their contact, template and salesperson as model instances
    (204 objects a page): building them was half the page query's CPU (6.0 ms against 2.9 ms
    for the same columns as values, docs/benchmarks.md "Part F"). A tuple, so that the rows
    partial unpacks it in its ``for`` instead of asking for 34 attributes a row (Part S).
    """

    pk: int
    date: datetime.date
    time: datetime.time | None
    description: str
    correspondence_type: str
    cost: Decimal
    duration: Decimal
    evaluation: str
    canceled: bool
    delivery_status: str
    contact_id: int
    contact_name: str
    contact_number: str
    template_id: int
    template_code: str
    salesperson_id: int | None
    salesperson_code: str | None


# The columns of `EntryRow`, in its order.
ENTRY_ROW_COLUMNS = (
    "pk",
    "date",
    "time",
    "description",
    "correspondence_type",
    "cost",
    "duration",
    "evaluation",
    "canceled",
    "delivery_status",
    "contact_id",
    "contact__name",
    "contact__number",
    "template_id",
    "template__code",
    "salesperson_id",
    "salesperson__code",
)


def entry_list_queryset() -> LogEntryQuerySet:
    """Log entries as the values of `EntryRow` (and only those), so a page costs one query
    whatever its size; `entry_page` makes the rows."""
    return InteractionLogEntry.objects.values_list(*ENTRY_ROW_COLUMNS)


def entry_lookups(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The cleaned data of ``EntryFilterForm`` as ORM lookups of plain values (keys, dates,
    texts, a boolean), in the order they filter."""
    lookups = {}
    for field in ("contact", "salesperson", "template", "group", "campaign", "opportunity"):
        if filters.get(field) is not None:
            lookups[f"{field}_id"] = filters[field].pk
    if filters.get("company") is not None:
        lookups["contact_company_id"] = filters["company"].pk
    if filters.get("segment_no"):
        lookups["segment_no"] = filters["segment_no"]
    if filters.get("logged_segment") is not None:
        lookups["logged_segment_id"] = filters["logged_segment"]
    if filters.get("date_from") is not None:
        lookups["date__gte"] = filters["date_from"]
    if filters.get("date_to") is not None:
        lookups["date__lte"] = filters["date_to"]
    if filters.get("canceled") is not None:
        lookups["canceled"] = filters["canceled"]
    if filters.get("evaluation") is not None:
        lookups["evaluation"] = str(filters["evaluation"])  # a plain text, not the enum
    return lookups


def filter_entries(entries: LogEntryQuerySet, filters: Mapping[str, Any]) -> LogEntryQuerySet:
    """Apply the cleaned data of ``EntryFilterForm``; each filter column has a (col, date, id)
    index, so a filtered newest-first page stays an index range scan."""
    for lookup, value in entry_lookups(filters).items():
        entries = entries.filter(**{lookup: value})
    return entries


# --- Keyset paging on (date, time, id) or id ---------------------------------------------------
# An OFFSET page (and the COUNT a numbered pager needs) reads every row before it; a keyset page
# starts in the index at the last row seen, so page 20,000 costs what page 1 costs.

MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class EntryCursor:
    """A position in the newest-first order (date, time of interaction, entry number), written
    in URLs as ``2025-01-31_152000_1234`` (``-`` for an entry without a time)."""

    date: datetime.date
    time: datetime.time | None
    pk: int

    @classmethod
    def of(cls, entry: InteractionLogEntry | EntryRow) -> EntryCursor:
        return cls(entry.date, entry.time, entry.pk)

    @classmethod
    def parse(cls, value: str | None) -> EntryCursor | None:
        """The cursor in ``value``; None for a missing or mangled one (the first page)."""
        parts = (value or "").split("_")
        if len(parts) != 3:
            return None
        date_text, time_text, pk_text = parts
        try:
            time = None if time_text == "-" else datetime.time.fromisoformat(time_text)
            cursor = cls(datetime.date.fromisoformat(date_text), time, int(pk_text))
        except ValueError:
            return None
        return cursor if 0 < cursor.pk <= MAX_ID else None

    def __str__(self) -> str:
        time = self.time.strftime("%H%M%S") if self.time is not None else "-"
        return f"{self.date.isoformat()}_{time}_{self.pk}"

    def older(self) -> Q:
        """Rows after this one newest first (a missing time comes last in its day). The
        redundant ``date <=`` is the index range condition; the rest sorts out that day."""
        if self.time is None:
            same_day = Q(time__isnull=True, pk__lt=self.pk)
        else:
            same_day = (
                Q(time__lt=self.time) | Q(time__isnull=True) | Q(time=self.time, pk__lt=self.pk)
            )
        return Q(date__lte=self.date) & (Q(date__lt=self.date) | Q(date=self.date) & same_day)

    def newer(self) -> Q:
        """Rows after this one oldest first (a missing time comes first in its day)."""
        if self.time is None:
            same_day = Q(time__isnull=False) | Q(time__isnull=True, pk__gt=self.pk)
        else:
            same_day = Q(time__gt=self.time) | Q(time=self.time, pk__gt=self.pk)
        return Q(date__gte=self.date) & (Q(date__gt=self.date) | Q(date=self.date) & same_day)


@dataclass(frozen=True)
class EntryPage:
    entries: list[EntryRow]
    previous: EntryCursor | None  # the `before` of the Previous link; None on the first page
    next: EntryCursor | None  # the `after` of the Next link; None on the last page

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def has_other_pages(self) -> bool:
        return self.previous is not None or self.next is not None


# The list's sort orders (`?sort=`), each one an index scan: (date, time, id) has the
# entry_*_newest_idx indexes (read backwards for oldest first), the entry number the primary key.
ENTRY_ORDERS = {
    "-date": NEWEST_FIRST,
    "date": OLDEST_FIRST,
    "-id": ("-id",),
    "id": ("id",),
}
DEFAULT_ENTRY_ORDER = "-date"
_REVERSED = {"-date": "date", "date": "-date", "-id": "id", "id": "-id"}


def _beyond(cursor: EntryCursor, order: str) -> Q:
    """The rows that come after ``cursor`` in ``order``."""
    if order == "-date":
        return cursor.older()
    if order == "date":
        return cursor.newer()
    return Q(pk__lt=cursor.pk) if order == "-id" else Q(pk__gt=cursor.pk)


def entry_page(
    filters: Mapping[str, Any],
    *,
    after: EntryCursor | None = None,
    before: EntryCursor | None = None,
    size: int = 50,
    order: str = DEFAULT_ENTRY_ORDER,
) -> EntryPage:
    """One page of the entries that ``filters`` (the cleaned data of ``EntryFilterForm``)
    select, in ``order`` (newest first by default): ``size`` rows after ``after`` (the next
    page) or before ``before`` (the previous one).

    Fetches ``size + 1`` rows to learn whether another page follows; never counts.
    """
    lookups = entry_lookups(filters)
    if before is not None:
        # Walk backwards from the cursor, then show the rows in the list's order.
        rows = _page_rows(lookups, before, _REVERSED[order], size + 1)
        more_before = len(rows) > size
        rows = rows[:size][::-1]
        return EntryPage(
            rows,
            previous=EntryCursor.of(rows[0]) if more_before else None,
            next=EntryCursor.of(rows[-1]) if rows else None,
        )
    rows = _page_rows(lookups, after, order, size + 1)
    more_after = len(rows) > size
    rows = rows[:size]
    return EntryPage(
        rows,
        previous=EntryCursor.of(rows[0]) if after is not None and rows else None,
        next=EntryCursor.of(rows[-1]) if more_after else None,
    )


def _page_rows(
    lookups: dict[str, Any], cursor: EntryCursor | None, order: str, limit: int
) -> list[EntryRow]:
    """The first ``limit`` rows matching ``lookups`` beyond ``cursor`` in ``order``.

    The statement is compiled once per process for each shape (the filters in use, the order,
    the kind of cursor), not on each request: the ORM took ~0.7 ms of CPU to build and compile
    it, about what the rows cost to render. The values are the statement's parameters, except
    a boolean (``canceled``), which is part of the shape.
    """
    values = {name: value for name, value in lookups.items() if type(value) is not bool}
    fixed = {name: value for name, value in lookups.items() if type(value) is bool}
    if cursor is not None:
        values["cursor_pk"] = cursor.pk
        if order in ("-date", "date"):
            values["cursor_date"] = cursor.date
            if cursor.time is not None:
                values["cursor_time"] = cursor.time
    shape = (
        tuple(lookups),
        tuple(fixed.items()),
        tuple((name, type(value)) for name, value in values.items()),
        order,
        limit,
    )
    query = _PAGE_QUERIES.get(shape)
    if query is None:
        query = _page_query(tuple(lookups), fixed, order, limit, values)
        if len(_PAGE_QUERIES) >= MAX_PAGE_SHAPES:  # odd URLs past the bound: the ORM reads them
            return [EntryRow(*row) for row in query.build(**values)]
        _PAGE_QUERIES[shape] = query
    return [EntryRow(*row) for row in query.fetch(**values)]


# The page statement of each shape met so far (`_page_rows`); its SQL is compiled the first
# time a connection runs it and kept on that connection.
_PAGE_QUERIES: dict[tuple, BuiltOnceQuery] = {}
MAX_PAGE_SHAPES = 500


def _page_query(
    names: tuple[str, ...], fixed: dict[str, Any], order: str, limit: int, values: dict
) -> BuiltOnceQuery:
    """The page statement for lookups ``names`` (``fixed`` ones with their values), built
    with a stand-in of the same type for each of ``values`` (`_stand_in`)."""

    def build(cursor_pk=None, cursor_date=None, cursor_time=None, **parameters):
        entries = entry_list_queryset()
        for name in names:
            value = fixed[name] if name in fixed else parameters[name]
            entries = entries.filter(**{name: value})
        if cursor_pk is not None:
            entries = entries.filter(
                _beyond(EntryCursor(cursor_date, cursor_time, cursor_pk), order)
            )
        return entries.order_by(*ENTRY_ORDERS[order])[:limit]

    stand_ins = {
        name: _stand_in(value, number) for number, (name, value) in enumerate(values.items())
    }
    return BuiltOnceQuery(build, **stand_ins)


def _stand_in(value: Any, number: int) -> Any:
    """A value of ``value``'s type that no page statement fixes, distinct for each ``number``:
    a negative key, a date of year 1, a microsecond past midnight, a text with a NUL."""
    if type(value) is int:
        return -1 - number
    if type(value) is datetime.date:
        return datetime.date(1, 1, 1) + datetime.timedelta(days=number)
    if type(value) is datetime.time:
        return datetime.time(0, 0, 0, number + 1)
    if type(value) is str:
        return f"\x00stand-in {number}"
    raise TypeError(f"no stand-in for {value!r}")


# --- Entry actions --------------------------------------------------------------------------


@dataclass(frozen=True)
class CanceledSwitch:
    """What `Switch Check Mark in Canceled` does to a selection of entries."""

    to_cancel: tuple[int, ...]
    to_uncancel: tuple[int, ...]
    # Canceled entries of a canceled logged segment: they stay canceled while it is.
    refused: tuple[int, ...]

    @property
    def changes(self) -> int:
        return len(self.to_cancel) + len(self.to_uncancel)


def canceled_switch(entries: LogEntryQuerySet) -> CanceledSwitch:
    """Split ``entries`` into those the switch cancels, un-cancels and must leave alone."""
    to_cancel, to_uncancel, refused = [], [], []
    rows = entries.order_by("pk").values_list("pk", "canceled", "logged_segment__canceled")
    for pk, canceled, segment_canceled in rows:
        if not canceled:
            to_cancel.append(pk)
        elif segment_canceled:
            refused.append(pk)
        else:
            to_uncancel.append(pk)
    return CanceledSwitch(tuple(to_cancel), tuple(to_uncancel), tuple(refused))


def deletable_canceled(entries: LogEntryQuerySet) -> LogEntryQuerySet:
    """What `Delete Canceled Entries` and `delete_canceled_interactions` delete of
    ``entries``: the canceled ones, except an entry that is being sent this very moment."""
    return entries.filter(canceled=True).exclude(delivery_status=DeliveryStatus.SENDING)


def stale_drafts(changed_before: datetime.datetime):
    """What `purge_postponed_interactions` purges: drafts of every status (postponed, abandoned
    in progress, finished) that nobody changed since ``changed_before``."""
    return InteractionDraft.objects.filter(updated_at__lt=changed_before)
