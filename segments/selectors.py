"""Reads of segments reused by several views: access helpers, lists with totals."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from contacts.models import CorrespondenceType
from interactions import csv_export
from segments.models import (
    LoggedSegment,
    SavedCriteria,
    SavedCriteriaStep,
    Segment,
    SegmentLine,
    SegmentStep,
)

LINE_TOTALS = {
    "line_count": Count("id"),
    "total_cost": Sum("unit_cost", default=0),
    "total_duration": Sum("unit_duration", default=0),
}

# Everyone signed in may read every segment (who may not change it sees it read-only), so the
# access helpers apply no owner filter; who may *change* a segment is `Segment.is_editable_by`.


def get_segment_for_user(request: HttpRequest, pk: int) -> Segment:
    """Open or logged (frozen) segment with what its header shows.

    Only what is shown: each joined table costs query building on every request, and no
    page shows who created a segment (`is_editable_by` reads ``created_by_id``).
    """
    segments = Segment.objects.select_related(
        "salesperson",
        "template",
        "campaign",
        "logged_segment",
        "updated_by",
    )
    return get_object_or_404(segments, pk=pk)


def get_logged_segment_for_user(request: HttpRequest, pk: int) -> LoggedSegment:
    logged = LoggedSegment.objects.select_related("segment", "logged_by", "updated_by")
    return get_object_or_404(logged, pk=pk)


def open_segments() -> QuerySet[Segment]:
    """The `Segments` list: open segments, newest number first."""
    return Segment.objects.open().select_related("salesperson").order_by("-number")


def with_line_totals(segments: Iterable[Segment]) -> list[Segment]:
    """``segments`` with ``line_count``, ``total_cost`` and ``total_duration`` set.

    One grouped query over the lines of these segments only: annotating the list's queryset
    instead would make its pager's COUNT join (and group) every line of every open segment.
    """
    listed = list(segments)
    totals = {
        row["segment"]: row
        for row in SegmentLine.objects.filter(segment__in=listed)
        .order_by()
        .values("segment")
        .annotate(**LINE_TOTALS)
    }
    empty = {"line_count": 0, "total_cost": Decimal(0), "total_duration": Decimal(0)}
    for segment in listed:
        row = totals.get(segment.pk, empty)
        segment.line_count = row["line_count"]
        segment.total_cost = row["total_cost"]
        segment.total_duration = row["total_duration"]
    return listed


def segment_line_ids(segment: Segment) -> QuerySet:
    """Ids of the segment's lines in the order they were added: what its page is paged over."""
    return segment.lines.order_by("id").values_list("id", flat=True)


# What the segment page shows of a line: plain rows, not model instances (a page is 100 lines).
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


def lines_for_page(ids: QuerySet) -> QuerySet:
    """The lines ``ids`` (a page of `segment_line_ids`) as dicts of `LINE_ROW_FIELDS`.

    One query that pages the ids first and joins the contacts after: joining before the LIMIT
    would read a contact for every line up to the page, not only the page's own
    (docs/benchmarks.md, "Figures behind the code's comments"). A line whose template or
    salesperson row is gone (no database constraint) has None there.
    """
    return SegmentLine.objects.filter(id__in=ids).order_by("id").values(*LINE_ROW_FIELDS)


def segment_totals(segment: Segment) -> dict:
    """Number of lines, total cost and total duration of ``segment``."""
    return segment.lines.aggregate(**LINE_TOTALS)


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
    return list(segment.steps.select_related("created_by").order_by("-number")[:limit])


def segment_steps(segment: Segment) -> QuerySet[SegmentStep]:
    return segment.steps.select_related("created_by").order_by("-number")


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
