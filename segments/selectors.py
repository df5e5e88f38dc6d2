"""Reads of segments reused by several views: access helpers, lists with totals."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from contacts.models import CorrespondenceType
from segments.models import LoggedSegment, Segment, SegmentLine

LINE_TOTALS = {
    "line_count": Count("id"),
    "total_cost": Sum("unit_cost", default=0),
    "total_duration": Sum("unit_duration", default=0),
}

# Everyone signed in may read every segment (spec section 4: others see it read-only), so the
# access helpers apply no owner filter; who may *change* a segment is `Segment.is_editable_by`.


def get_segment_for_user(request: HttpRequest, pk: int) -> Segment:
    """Open or logged (frozen) segment with what its header shows.

    Only what is shown: each joined table costs ~0.3 ms of query building per request, and no
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
    reads a contact for every line up to the page, ~300 ms on page 500 of 100,000 lines
    instead of ~30 ms. A line whose template or salesperson row is gone (no database
    constraint) has None there.
    """
    return SegmentLine.objects.filter(id__in=ids).order_by("id").values(*LINE_ROW_FIELDS)


def segment_totals(segment: Segment) -> dict:
    """Number of lines, total cost and total duration of ``segment``."""
    return segment.lines.aggregate(**LINE_TOTALS)


def logged_segments() -> QuerySet[LoggedSegment]:
    return LoggedSegment.objects.select_related("logged_by").order_by("-id")


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
