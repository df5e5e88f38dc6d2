"""Reads used by several views and services: access helpers and the contact search."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db import models
from django.db.models import Case, Count, ForeignObjectRel, Q, QuerySet, Subquery, Sum, When
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from contacts.built_once import BuiltOnceAggregate, BuiltOnceQuery
from contacts.models import (
    KEPT_PREFIX_LENGTH,
    NAME_WORDS,
    Campaign,
    Contact,
    ContactQuerySet,
    ContactTotals,
    ContactType,
    NamePrefixTotals,
    NumberSeries,
    Opportunity,
    Salesperson,
    name_prefix_search,
    prefix_search,
)
from contacts.search import prefix_query, search_words

# The contact card's contact (and the wizard's start) with four tables joined, by SQL compiled
# once per process (contacts/built_once.py): compiling it cost several times running it.
_CONTACT = BuiltOnceQuery(
    lambda pk: (
        Contact.objects.filter(pk=pk)
        .select_related("company", "salesperson", "created_by", "updated_by")
        .order_by()
    ),
    pk=-1,
)


def get_contact_for_user(request: HttpRequest, pk: int) -> Contact:
    """Every signed-in user sees every contact (one shared book); unknown ids are a 404."""
    return _CONTACT.get_by_id(pk, "No contact has this id.")


def get_salesperson_for_user(request: HttpRequest, pk: int) -> Salesperson:
    return get_object_or_404(Salesperson.objects.select_related("user"), pk=pk)


# The contact list's sort orders (`?sort=`): the (name, number) index and the unique number.
CONTACT_ORDERS = {
    "name": ("name", "number"),
    "-name": ("-name", "-number"),
    "number": ("number",),
    "-number": ("-number",),
}
# A search shows its best matches up to here (10 pages of 50); beyond, it says "more than".
# Below it a group of matches is read whole and sorted, above it found by walking the name
# index, which holds the words. Counting up to here is most of a broad search's cost (about
# 3 us a match at 100,000 contacts), hence not 3,000 (`ContactSearch`, docs/benchmarks.md
# part K); a search of one short word reads its name matches' number instead (part AF).
SEARCH_LIMIT = 500


def _filtered(
    *, type: str = "", company_id: int | None = None, salesperson_id: int | None = None
) -> ContactQuerySet:
    return _where(_lookups(type=type, company_id=company_id, salesperson_id=salesperson_id))


def _lookups(
    *, type: str = "", company_id: int | None = None, salesperson_id: int | None = None
) -> dict[str, str | int]:
    """The list filters in effect, as `Contact` lookups (a type that is none is no filter)."""
    lookups: dict[str, str | int] = {}
    if type in ContactType.values:
        lookups["type"] = type
    if company_id is not None:
        lookups["company_id"] = company_id
    if salesperson_id is not None:
        lookups["salesperson_id"] = salesperson_id
    return lookups


def _where(lookups: Mapping[str, Any]) -> ContactQuerySet:
    """The contacts that pass ``lookups`` (`_lookups`; the search's statements: stand-ins)."""
    contacts = Contact.objects.all()
    for name, value in lookups.items():
        contacts = contacts.filter(**{name: value})
    return contacts


def contact_search(
    *,
    text: str = "",
    type: str = "",
    company_id: int | None = None,
    salesperson_id: int | None = None,
    order: str = "",
) -> ContactQuerySet | ContactSearch:
    """Contacts matching the list filters. Without words: a QuerySet in ``order`` (a key of
    CONTACT_ORDERS; name by default), which an index serves. With words: a `ContactSearch`,
    best matches first unless an ``order`` is asked for."""
    filters = {"type": type, "company_id": company_id, "salesperson_id": salesperson_id}
    if text.strip():
        return ContactSearch(text, **filters, order=CONTACT_ORDERS.get(order, ()))
    return _filtered(**filters).order_by(*CONTACT_ORDERS.get(order, CONTACT_ORDERS["name"]))


# --- The list without words: a kept or bounded count, keyset pages -----------------------------
# Counting 100,000 contacts on every request was most of the list's database time, and an
# OFFSET page reads every row before it; a keyset page starts in the index at the last row seen,
# so the last page costs what the first one costs.

# A filter the kept totals do not cover (a company's persons) is counted up to here; beyond,
# the list says "more than".
COUNT_LIMIT = 1000
# Old `?page=N` links are served up to this many rows deep (an OFFSET over at most this many
# index entries); deeper ones start over at the first page.
PAGE_NUMBER_DEPTH = 3000
# The longest contact number (`Contact.number`): a longer cursor is no contact's.
NUMBER_LENGTH = 20


@dataclass(frozen=True)
class ContactCount:
    """How many contacts a list holds: ``number`` exactly, or at least that many when not
    ``exact`` (counted up to `COUNT_LIMIT` + 1)."""

    number: int
    exact: bool = True


def contact_count(
    *, type: str = "", company_id: int | None = None, salesperson_id: int | None = None
) -> ContactCount:
    """How many contacts the list without words holds: from the kept totals (`ContactTotals`,
    a few rows) for every contact, a type, a salesperson or both; a company's persons are
    counted up to `COUNT_LIMIT` + 1 (the totals do not go down to companies)."""
    lookups = _lookups(type=type, company_id=company_id, salesperson_id=salesperson_id)
    key = tuple(lookups)
    if key not in _COUNT_STATEMENTS:
        stand_ins = {name: _STAND_INS[name] for name in lookups}
        _COUNT_STATEMENTS[key] = BuiltOnceAggregate(_count_statement, **stand_ins)
    if _fits_bigint(lookups):
        found = _COUNT_STATEMENTS[key].fetch(**lookups)["total"]
    else:
        contacts, aggregates = _count_statement(**lookups)
        found = contacts.aggregate(**aggregates)["total"]
    if company_id is not None:
        return ContactCount(min(found, COUNT_LIMIT), exact=found <= COUNT_LIMIT)
    return ContactCount(found)


# The list's counts (`contact_count`), one for each set of filters in use, each compiled once
# per process (`BuiltOnceAggregate`): building and compiling the aggregate with the ORM cost
# more CPU than running it.
_COUNT_STATEMENTS: dict[tuple[str, ...], BuiltOnceAggregate] = {}


def _count_statement(**lookups: str | int) -> tuple[QuerySet, dict[str, Any]]:
    """What `contact_count` sums or counts for ``lookups`` (`_lookups`) and how: a company's
    persons up to `COUNT_LIMIT` + 1, otherwise the kept totals of the type and salesperson
    (as `ContactTotalsQuerySet.number`)."""
    if "company_id" in lookups:
        return _where(lookups).order_by()[: COUNT_LIMIT + 1], {"total": Count("*")}
    totals = ContactTotals.objects.all()
    for name, value in lookups.items():
        totals = totals.filter(**{name: value})
    return totals, {"total": Sum("contacts", default=0)}


def parse_contact_number(value: str | None) -> str | None:
    """A contact number from a paging link; None for a missing or impossible one."""
    if not value or len(value) > NUMBER_LENGTH:
        return None
    return value


@dataclass(frozen=True)
class ContactPage:
    """One page of the list without words, and where its links go: ``previous`` is the
    ``before`` of the Previous link, ``next`` the ``after`` of the Next link (contact numbers;
    None: no such page). The rows are ``object_list``, as on Django's `Page`."""

    object_list: list
    previous: str | None
    next: str | None

    @property
    def has_other_pages(self) -> bool:
        return self.previous is not None or self.next is not None


_REVERSED = {"name": "-name", "-name": "name", "number": "-number", "-number": "number"}


def _beyond(number: str, order: str) -> Q:
    """The contacts after the one numbered ``number`` in ``order`` (a key of `CONTACT_ORDERS`).

    By name, ties go by number; the name is that contact's, read in the same statement. The
    redundant ``name >=`` is the range condition of the (name, number) index."""
    if order == "number":
        return Q(number__gt=number)
    if order == "-number":
        return Q(number__lt=number)
    name = Subquery(Contact.objects.filter(number=number).order_by().values("name"))
    if order == "name":
        return Q(name__gte=name) & (Q(name__gt=name) | Q(number__gt=number))
    return Q(name__lte=name) & (Q(name__lt=name) | Q(number__lt=number))


def contact_page(
    *,
    type: str = "",
    company_id: int | None = None,
    salesperson_id: int | None = None,
    order: str = "name",
    after: str | None = None,
    before: str | None = None,
    last: bool = False,
    offset: int = 0,
    size: int = 50,
    shape: Callable[[ContactQuerySet], Iterable] = lambda queryset: queryset,
) -> ContactPage:
    """``size`` of the contacts that pass the list filters (as `contact_search` without words)
    in ``order``: the first ones, those after the contact numbered ``after`` (Next), before
    ``before`` (Previous), the ``last`` ones, or those ``offset`` rows in (an old numbered
    link; up to `PAGE_NUMBER_DEPTH`). Each row is made by ``shape`` (a row with a ``number``).

    Keyset paging over the (name, number) index or the unique number: every page reads
    ``size + 1`` index entries that match (the one extra says whether another page follows);
    never counts. An ``offset`` page finds its numbers first, then shapes those rows only.
    """
    lookups = _lookups(type=type, company_id=company_id, salesperson_id=salesperson_id)
    backwards = before is not None or last
    walk = _REVERSED[order] if backwards else order
    cursor = before if before is not None else after
    if offset and not backwards and cursor is None:
        # The number is unique and in both sort indexes, so the OFFSET is an index-only walk;
        # asking for the id instead made the planner sort every contact.
        contacts = _where(lookups).order_by(*CONTACT_ORDERS[walk])
        numbers = contacts.values("number")[offset : offset + size + 1]
        contacts = Contact.objects.filter(number__in=numbers).order_by(*CONTACT_ORDERS[walk])
        rows = list(shape(contacts))
    else:
        rows = _page_rows(lookups, walk=walk, cursor=cursor, size=size + 1, shape=shape)
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        previous = rows[0].number if more and rows else None
        following = rows[-1].number if before is not None and rows else None
    else:
        previous = rows[0].number if (after is not None or offset) and rows else None
        following = rows[-1].number if more else None
    return ContactPage(rows, previous=previous, next=following)


def _page_statement(
    lookups: Mapping[str, Any],
    *,
    walk: str,
    cursor: str | None,
    size: int,
    shape: Callable[[ContactQuerySet], Iterable],
):
    """The first ``size`` rows (made by ``shape``) of the contacts that pass ``lookups``
    (`_lookups`), in the order ``walk`` (a key of `CONTACT_ORDERS`), beyond the contact
    numbered ``cursor`` if one is given."""
    contacts = _where(lookups)
    if cursor is not None:
        contacts = contacts.filter(_beyond(cursor, walk))
    return shape(contacts.order_by(*CONTACT_ORDERS[walk]))[:size]


# The list's pages met so far (`_page_rows`), each compiled once per process for its order,
# size, shape and the filters and cursor in use (at most 4 x 2 x 8 for one shape and size);
# None: one read the ORM's way (its shape cannot be built once). Past the bound, the ORM reads.
_PAGE_STATEMENTS: dict[tuple, BuiltOnceQuery | None] = {}
MAX_PAGE_STATEMENTS = 200


def _page_rows(
    lookups: Mapping[str, Any],
    *,
    walk: str,
    cursor: str | None,
    size: int,
    shape: Callable[[ContactQuerySet], Iterable],
) -> list:
    """The rows of `_page_statement`, by SQL compiled once per process for each kind of page:
    building and compiling the keyset page with the ORM on each request cost more CPU than
    its fifty rows. The cursor and the filters' values are parameters; the size is part of the
    SQL text, hence of the key."""
    values = dict(lookups) if cursor is None else {**lookups, "cursor": cursor}

    def build(cursor: str | None = None, **lookups: Any):
        return _page_statement(lookups, walk=walk, cursor=cursor, size=size, shape=shape)

    key = (walk, size, shape, *values)
    if key not in _PAGE_STATEMENTS and len(_PAGE_STATEMENTS) < MAX_PAGE_STATEMENTS:
        stand_ins = {name: _STAND_INS[name] for name in values}
        can = BuiltOnceQuery.can_build(build(**stand_ins))
        _PAGE_STATEMENTS[key] = BuiltOnceQuery(build, **stand_ins) if can else None
    statement = _PAGE_STATEMENTS.get(key) if _fits_bigint(values) else None
    if statement is not None:
        return statement.fetch(**values)
    return list(build(**values))


def _with_company_and_salesperson(contacts: ContactQuerySet) -> ContactQuerySet:
    """A search's rows unless it is given a shape: contacts with their company and salesperson."""
    return contacts.select_related("company", "salesperson")


class ContactSearch:
    """The contacts that hold every typed word (`ContactQuerySet.search`) and pass the list
    filters (as `contact_search`), best first: those with every word in their name, then the
    others (company name, number, email, phone, city), each group by name. At most
    `SEARCH_LIMIT` of them, a sequence Django's Paginator pages through: ``search[a:b]`` is a
    list of ``shape(queryset)`` rows.

    Ranking every match would read and sort all of them (all 100,000 contacts match "e", from
    "example" in their email addresses). So it counts first, up to the limit, the name
    matches (more than the limit: they fill every page; the kept `NamePrefixTotals` say how
    many for one word of up to three letters, the broad searches) and then all matches, and
    picks the cheaper way for each group: up to the limit, read them all through a GIN index
    and sort (a few hundred rows at most); beyond it, walk the name index, which holds the
    words, and keep the matches (at 100,000 contacts one entry in 200 or more matches, so a
    page comes soon, without reading table rows). A page costs a few milliseconds of database
    time either way (docs/benchmarks.md).

    Each statement is compiled once per process for its kind (`_search_statement`): building
    and compiling them with the ORM cost more CPU than the page's rows.
    """

    def __init__(
        self,
        text: str,
        *,
        type: str = "",
        company_id: int | None = None,
        salesperson_id: int | None = None,
        order: tuple[str, ...] = (),
        shape: Callable[[ContactQuerySet], Iterable] = _with_company_and_salesperson,
    ) -> None:
        self.text = text
        self.filters = {"type": type, "company_id": company_id, "salesperson_id": salesperson_id}
        self.order = order
        self.shape = shape
        self.words = words = search_words(text)
        # The statements' parameters: the words as one prefix tsquery text, the filters' values.
        self.values = {"words": prefix_query(words) if words else "", **_lookups(**self.filters)}

    def with_shape(self, shape: Callable[[ContactQuerySet], Iterable]) -> ContactSearch:
        """The same search, its rows made by ``shape`` (e.g. values for a list page)."""
        return ContactSearch(self.text, **self.filters, order=self.order, shape=shape)

    @cached_property
    def named(self) -> int:
        """How many have every word in their name, counted up to one beyond the limit: for
        one short word and no filter, from the kept totals (`NamePrefixTotals`)."""
        if not self.words:
            return 0
        unfiltered = not _lookups(**self.filters)
        if unfiltered and len(self.words) == 1 and _kept_prefix(self.words[0]):
            totals = _NAME_PREFIX_TOTALS.fetch(prefix=self.words[0])
            return min(totals[0][0] if totals else 0, SEARCH_LIMIT + 1)
        return self._count("named")

    @cached_property
    def found(self) -> int:
        """How many contacts match, counted up to one beyond `SEARCH_LIMIT`."""
        if self.named > SEARCH_LIMIT or not self.values["words"]:
            return self.named  # beyond the limit already (or no words: nothing)
        return self._count("all")

    @property
    def more(self) -> bool:
        """Whether more contacts match than the search shows."""
        return self.found > SEARCH_LIMIT

    def count(self) -> int:
        return min(self.found, SEARCH_LIMIT)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        if not isinstance(index, slice) or index.step is not None:
            raise TypeError("ContactSearch takes slices only.")
        start = index.start or 0
        stop = min(SEARCH_LIMIT if index.stop is None else index.stop, SEARCH_LIMIT)
        if start >= stop or not self.found:
            return []
        if self.order:
            # A chosen column order: the same as the list without words.
            return self._rows("all", start, stop, count=self.found, order=self.order)
        if self.found <= SEARCH_LIMIT:
            return self._rows("all", start, stop, count=self.found)
        named = self.named
        rows = []
        if start < named:
            rows += self._rows("named", start, min(stop, named), count=named)
        if stop > named:
            count = self._count("elsewhere")
            rows += self._rows("elsewhere", max(start - named, 0), stop - named, count=count)
        return rows

    def _count(self, group: str) -> int:
        """How many contacts ``group`` (`_search_group`) holds, counted up to one beyond
        `SEARCH_LIMIT` (a COUNT of the group under a LIMIT)."""
        spec = {"count": group, "limit": SEARCH_LIMIT + 1}
        return _search_statement(spec, self.values)["found"]

    def _rows(
        self, group: str, start: int, stop: int, *, count: int, order: tuple[str, ...] = ()
    ) -> list:
        """Rows ``start:stop`` of ``group`` (`_search_page`), which holds ``count`` contacts
        (counted up to one beyond `SEARCH_LIMIT`): up to the limit, read whole and sorted;
        beyond it, found by walking the name index.

        A page that reaches the group's end is asked for without an end (the slice's bounds
        are written into the SQL text): then a search has at most two kinds of page for each
        page number, not one for each number of matches.
        """
        walk = count > SEARCH_LIMIT and not order
        end = None if count <= SEARCH_LIMIT and stop >= count else stop
        spec = {"group": group, "walk": walk, "order": order, "start": start, "end": end}
        rows = _search_statement({**spec, "shape": self.shape}, self.values)
        return rows[: stop - start]


# The contacts with a name word that starts with ``prefix`` (`ContactSearch.named`).
_NAME_PREFIX_TOTALS = BuiltOnceQuery(
    lambda prefix: NamePrefixTotals.objects.filter(prefix=prefix).values_list("contacts"),
    prefix="\x00prefix",
)


def _kept_prefix(word: str) -> bool:
    """Whether `NamePrefixTotals` keeps ``word``'s name matches: a word (`search_words`: letters
    and digits) of up to `KEPT_PREFIX_LENGTH` ASCII ones, which the search's tsquery holds as
    itself."""
    return len(word) <= KEPT_PREFIX_LENGTH and word.isascii()


def _search_group(
    group: str, words: str, lookups: Mapping[str, Any], *, walk: bool = False
) -> ContactQuerySet:
    """The contacts of the filters ``lookups`` that hold ``words`` (a `prefix_query` text):
    ``"all"`` of them, those with every word in their name (``"named"``, the best), or the
    others (``"elsewhere"``).

    The name's words are asked through `NAME_WORDS`, which a GIN index holds; for a ``walk``
    of the name index, which reads every entry it passes, by their weight in `search`
    (`name_prefix_search`): the same contacts, at less than half the CPU an entry."""
    contacts = _where(lookups).alias(name_words=NAME_WORDS)
    named = Q(search=name_prefix_search(words)) if walk else Q(name_words=prefix_search(words))
    if group == "named":
        return contacts.filter(named)
    matches = contacts.filter(search=prefix_search(words))
    return matches if group == "all" else matches.exclude(named)


def _search_page(
    words: str,
    lookups: Mapping[str, Any],
    *,
    group: str,
    walk: bool,
    order: tuple[str, ...],
    start: int,
    end: int | None,
    shape: Callable[[ContactQuerySet], Iterable],
):
    """Rows ``start:end`` of a `_search_group`: in ``order``, or best first and by name. With
    ``walk``, the name index walked: it holds the words (`contact_name_idx`), so the page's
    numbers come from the index alone (no filter but the words), then the rows for those only.
    """
    contacts = _search_group(group, words, lookups, walk=walk)
    if walk:
        numbers = contacts.order_by("name", "number").values("number")[start:end]
        return shape(Contact.objects.filter(number__in=numbers).order_by("name", "number"))
    if not order:  # best first: no index has this order, so the group is read whole and sorted
        rank = Case(When(name_words=prefix_search(words), then=0), default=1)
        contacts = contacts.alias(rank=rank)
        order = ("rank", "name", "number")
    return shape(contacts.order_by(*order))[start:end]


# The search's statements met so far (`_search_statement`), each compiled the first time a
# connection runs it and kept on that connection; None: one read the ORM's way (its shape
# cannot be built once). Past the bound (odd shapes or slices) the ORM reads them.
_SEARCH_STATEMENTS: dict[tuple, BuiltOnceQuery | BuiltOnceAggregate | None] = {}
MAX_SEARCH_STATEMENTS = 500
# A value of each parameter that no statement of the list or the search fixes (`BuiltOnceQuery`).
_STAND_INS = {
    "words": "\x00words",
    "type": "\x00type",
    "company_id": -1,
    "salesperson_id": -2,
    "cursor": "\x00cursor",
}


def _search_statement(spec: dict, values: dict) -> Any:
    """What the search statement ``spec`` gives for ``values`` (its words and filters): a
    count (``spec["count"]``: a `_search_group`, ``spec["limit"]``) as a dict ``found``, or
    the rows of a `_search_page` (the other keys of ``spec``).

    The SQL is compiled once per process for each ``spec`` and the filters in use; the ORM
    built and compiled each statement on every request, which was a third of the JSON
    picker's CPU. The words and the filters' values are parameters; the counts' limit and the
    pages' bounds are part of the SQL text, hence of the ``spec``.
    """
    counting = "count" in spec
    if counting:
        group, limit = spec["count"], spec["limit"]

        def build(words: str, **lookups):
            contacts = _search_group(group, words, lookups).order_by()[:limit]
            return contacts, {"found": Count("*")}

    else:

        def build(words: str, **lookups):
            return _search_page(words, lookups, **spec)

    key = (*spec.items(), *values)
    if key not in _SEARCH_STATEMENTS and len(_SEARCH_STATEMENTS) < MAX_SEARCH_STATEMENTS:
        stand_ins = {name: _STAND_INS[name] for name in values}
        if counting:
            _SEARCH_STATEMENTS[key] = BuiltOnceAggregate(build, **stand_ins)
        elif BuiltOnceQuery.can_build(build(**stand_ins)):
            _SEARCH_STATEMENTS[key] = BuiltOnceQuery(build, **stand_ins)
        else:
            _SEARCH_STATEMENTS[key] = None
    statement = _SEARCH_STATEMENTS.get(key) if _fits_bigint(values) else None
    if statement is not None:
        return statement.fetch(**values)
    if counting:
        contacts, aggregates = build(**values)
        return contacts.aggregate(**aggregates)
    return list(build(**values))


def _fits_bigint(values: dict) -> bool:
    """Whether every id is one a key can be (others are left to the ORM, which finds nothing
    for them without asking the database)."""
    return all(-(2**63) <= value < 2**63 for value in values.values() if type(value) is int)


@dataclass(frozen=True)
class ContactLookup:
    """What a typed number or name found: ``contact`` when it means one contact; otherwise the
    first ``matches`` (none, or several to choose from) and whether ``more`` matched besides."""

    contact: Contact | None
    matches: list[Contact] = field(default_factory=list)
    more: bool = False


def contact_lookup(text: str, *, limit: int = 10) -> ContactLookup:
    """The contact a user means by ``text``: the one with that number (any case), else what the
    contact search finds for it (`ContactSearch`, best first), taken when it is a single
    contact.

    The number is its unique index; the search a few milliseconds at 100,000 contacts.
    """
    text = text.strip()
    if not text:
        return ContactLookup(None)
    contacts = Contact.objects.select_related("company", "salesperson")
    by_number = contacts.filter(number__iexact=text).first()
    if by_number is not None:
        return ContactLookup(by_number, [by_number])
    found = ContactSearch(text)[: limit + 1]
    if len(found) == 1:
        return ContactLookup(found[0], found)
    return ContactLookup(None, found[:limit], more=len(found) > limit)


def contact_usage(contact: Contact) -> list[str]:
    """What still refers to ``contact`` and so keeps it from being deleted.

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
