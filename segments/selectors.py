"""Reads of segments reused by several views: access helpers, lists with totals, line pages."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from contacts.built_once import BuiltOnceQuery
from contacts.models import CorrespondenceType
from interactions import csv_export
from interactions.selectors import MAX_ID
from segments.models import (
    LoggedSegment,
    SavedCriteria,
    SavedCriteriaStep,
    Segment,
    SegmentLine,
    SegmentStep,
)

# Everyone signed in may read every segment (who may not change it sees it read-only), so the
# access helpers apply no owner filter; who may *change* a segment is `Segment.is_editable_by`.


# The segment with what its header shows, by SQL compiled once per process
# (contacts/built_once.py): only what is shown, and no page shows who created a segment
# (`is_editable_by` reads ``created_by_id``).
_SEGMENT = BuiltOnceQuery(
    lambda pk: (
        Segment.objects.filter(pk=pk)
        .select_related(
            "line_totals", "salesperson", "template", "campaign", "logged_segment", "updated_by"
        )
        .order_by()
    ),
    pk=-1,
)


def get_segment_for_user(request: HttpRequest, pk: int) -> Segment:
    """Open or logged (frozen) segment with what its header shows; unknown ids are a 404."""
    return _SEGMENT.get_by_id(pk, "No segment has this id.")


def get_logged_segment_for_user(request: HttpRequest, pk: int) -> LoggedSegment:
    logged = LoggedSegment.objects.select_related("segment", "logged_by", "updated_by")
    return get_object_or_404(logged, pk=pk)


def open_segments() -> QuerySet[Segment]:
    """The `Segments` list: open segments, newest number first, with their kept line totals
    (`SegmentTotals`): nothing is summed over the lines per request."""
    return Segment.objects.open().select_related("salesperson", "line_totals").order_by("-number")


class LineRow(NamedTuple):
    """What the segment page shows of a line: plain values, not model instances (a page is 100
    lines). A tuple, so that the lines partial unpacks it in its ``for`` instead of asking for
    its values one by one (docs/benchmarks.md "Part S" and the segment page's part)."""

    id: int
    personalised: bool
    contact_id: int
    contact_name: str
    contact_number: str
    template_code: str | None
    interaction_description: str
    correspondence_type: str
    language: str
    salesperson_code: str | None
    unit_cost: Decimal
    unit_duration: Decimal


# The columns of `LineRow`, in its order.
LINE_ROW_FIELDS = (
    "id",
    "personalised",
    "contact_id",
    "contact__name",
    "contact__number",
    "template__code",
    "interaction_description",
    "correspondence_type",
    "language",
    "salesperson__code",
    "unit_cost",
    "unit_duration",
)


@dataclass(frozen=True)
class LinePage:
    """One page of a segment's lines in the order they were added, and where its links go:
    ``previous`` is the ``before`` of the Previous link, ``next`` the ``after`` of the Next
    link (None: no such page)."""

    lines: list[LineRow]
    previous: int | None
    next: int | None

    @property
    def has_other_pages(self) -> bool:
        return self.previous is not None or self.next is not None


def line_page(
    segment: Segment,
    *,
    after: int | None = None,
    before: int | None = None,
    last: bool = False,
    size: int = 100,
) -> LinePage:
    """``size`` lines of ``segment`` as `LineRow`s: the first ones, those after
    line ``after`` (Next), before line ``before`` (Previous), or the ``last`` ones.

    Keyset paging over the (segment, id) index: every page, the last of 100,000 lines included,
    reads ``size + 1`` index entries (the one extra says whether another page follows) and
    joins the contacts for those only, in one query (joining before the LIMIT would read a
    contact for every line up to the page: docs/benchmarks.md, "Figures behind the code's
    comments"). No OFFSET and no COUNT: the number of lines is the segment's kept total. A line
    whose template or salesperson row is gone (no database constraint) has None there.
    """
    backwards = before is not None or last
    if before is not None:
        rows = _line_page_query("before", backwards, size).fetch(segment=segment.pk, cursor=before)
    elif after is not None:
        rows = _line_page_query("after", backwards, size).fetch(segment=segment.pk, cursor=after)
    else:
        rows = _line_page_query(None, backwards, size).fetch(segment=segment.pk)
    lines = [LineRow(*row) for row in rows]
    more = len(lines) > size
    if backwards:
        lines = lines[1:] if more else lines
        previous = lines[0].id if more and lines else None
        following = lines[-1].id if before is not None and lines else None
    else:
        lines = lines[:size]
        previous = lines[0].id if after is not None and lines else None
        following = lines[-1].id if more else None
    return LinePage(lines, previous=previous, next=following)


@functools.cache
def _line_page_query(kind: str | None, backwards: bool, size: int) -> BuiltOnceQuery:
    """`line_page`'s one query for a kind of page (no cursor, or the lines ``before`` or
    ``after`` the ``cursor`` line; forwards or backwards; ``size``), by SQL compiled once per
    process: the ORM built and compiled it again on every request of the segment page."""

    def build(segment: int, cursor: int | None = None) -> QuerySet:
        ids = SegmentLine.objects.filter(segment_id=segment).values("id")
        if kind == "before":
            ids = ids.filter(id__lt=cursor)
        elif kind == "after":
            ids = ids.filter(id__gt=cursor)
        ids = ids.order_by("-id" if backwards else "id")[: size + 1]
        return SegmentLine.objects.filter(id__in=ids).order_by("id").values_list(*LINE_ROW_FIELDS)

    if kind is None:
        return BuiltOnceQuery(build, segment=-1)
    return BuiltOnceQuery(build, segment=-1, cursor=-2)


def parse_line_id(value: str | None) -> int | None:
    """A line id from a paging link; None for a missing or mangled one (the first page)."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number <= MAX_ID else None


def logged_segments(*, text: str = "") -> QuerySet[LoggedSegment]:
    """Logged segments, newest first; with ``text``, those whose segment no. or description
    holds it (any case). A few thousand rows at most: a scan, no index needed."""
    logged = LoggedSegment.objects.select_related("logged_by").order_by("-id")
    if text:
        logged = logged.filter(Q(segment_no__icontains=text) | Q(description__icontains=text))
    return logged


# Personalised lines named when a header change is about to reach the lines.
PERSONALISED_SHOWN = 20


def lines_follow(segment: Segment) -> dict:
    """How many lines follow a header change, and which personalised lines do not."""
    counts = segment.lines.aggregate(
        following=Count("id", filter=Q(personalised=False)),
        personalised=Count("id", filter=Q(personalised=True)),
    )
    shown = segment.lines.filter(personalised=True).select_related("contact").order_by("id")
    return {**counts, "shown": list(shown[:PERSONALISED_SHOWN])}


def has_email_lines(segment: Segment) -> bool:
    """`Send Attachments` is offered only when some line is Email."""
    return segment.lines.filter(correspondence_type=CorrespondenceType.EMAIL).exists()


def canceled_logged_segments_summary() -> dict:
    """What `Delete Canceled Segments` (the page and `delete_canceled_logged_segments`) would
    remove: the canceled logged segments, and how many entries they still have (which stay).

    The entries are counted, not summed from `entry_count` (the number logged): `Delete
    Canceled Entries` may have deleted some of them since.
    """
    return LoggedSegment.objects.filter(canceled=True).aggregate(
        segment_count=Count("id", distinct=True), entry_count=Count("entries")
    )


# --- Criteria history, saved criteria ----------------------------------------------------------


def recent_steps(segment: Segment, limit: int) -> list[SegmentStep]:
    """The segment's newest ``limit`` steps, newest first. Steps are numbered 1..n without gaps
    (Go Back removes the last), so the first one's number is how many there are."""
    return _recent_steps(limit).fetch(segment=segment.pk)


@functools.cache
def _recent_steps(limit: int) -> BuiltOnceQuery:
    """`recent_steps` by SQL compiled once per process (the segment page's every request)."""
    return BuiltOnceQuery(lambda segment: segment_steps_of(segment)[:limit], segment=-1)


def segment_steps(segment: Segment) -> QuerySet[SegmentStep]:
    return segment_steps_of(segment.pk)


def segment_steps_of(segment_id: int) -> QuerySet[SegmentStep]:
    return (
        SegmentStep.objects.filter(segment_id=segment_id)
        .select_related("created_by")
        .order_by("-number")
    )


def saved_criteria() -> QuerySet[SavedCriteria]:
    """Every saved criteria with its steps in order (two queries)."""
    steps = SavedCriteriaStep.objects.order_by("number")
    return (
        SavedCriteria.objects.select_related("created_by")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("code")
    )


def get_saved_criteria_for_user(request: HttpRequest, pk: int) -> SavedCriteria:
    return get_object_or_404(SavedCriteria, pk=pk)


# --- Export Contacts ---------------------------------------------------------------------------

# The columns `import_contacts` reads (`contacts.importer.COLUMNS`), in its order, so that an
# exported file can be imported again: a person's company as its number, the salesperson as
# its code, flags as yes / no. Every text cell is formula-safe (`interactions.csv_export`);
# the importer takes that apostrophe off again.
CONTACT_EXPORT_COLUMNS = [
    ("type", csv_export.text_column("contact__type")),
    ("number", csv_export.text_column("contact__number")),
    ("name", csv_export.text_column("contact__name")),
    ("first_name", csv_export.text_column("contact__first_name")),
    ("surname", csv_export.text_column("contact__surname")),
    ("company", csv_export.text_column("contact__company__number")),
    ("job_title", csv_export.text_column("contact__job_title")),
    ("email", csv_export.text_column("contact__email")),
    ("phone", csv_export.text_column("contact__phone")),
    ("address", csv_export.text_column("contact__address")),
    ("postcode", csv_export.text_column("contact__postcode")),
    ("city", csv_export.text_column("contact__city")),
    ("country", csv_export.text_column("contact__country")),
    ("language", csv_export.text_column("contact__language")),
    ("salesperson", csv_export.text_column("contact__salesperson__code")),
    ("correspondence_type", csv_export.text_column("contact__correspondence_type")),
    ("exclude_from_segment", csv_export.flag_column("contact__exclude_from_segment")),
    ("privacy_blocked", csv_export.flag_column("contact__privacy_blocked")),
]
CONTACT_EXPORT_HEADER = [name for name, _expression in CONTACT_EXPORT_COLUMNS]


def segment_contact_rows(segment: Segment) -> QuerySet:
    """The segment's contacts as tuples of text in ``CONTACT_EXPORT_HEADER`` order, in the
    order of its lines; one query (iterate it inside a transaction to stream it)."""
    return (
        SegmentLine.objects.filter(segment=segment)
        .order_by("id")
        .values_list(*(expression for _name, expression in CONTACT_EXPORT_COLUMNS))
    )
