"""The one CSV writer for interaction log entries.

Both the `export_interactions` command and the browser export of the `Interaction Log Entries`
page write their rows with ``entry_rows``, so the two files always have the same columns.

Memory stays flat at millions of rows: the queryset is read as tuples (``values_list``, the
joined codes in the same query) through a server-side cursor, 2,000 rows at a time, and rows
are yielded one by one. Callers write them with ``csv.writer`` to a file, or to ``Echo`` for a
``StreamingHttpResponse``::

    rows = entry_rows(entries, neutralise_formulas=True)
    writer = csv.writer(Echo())
    lines = (writer.writerow(row) for row in itertools.chain([HEADER], rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")

Values are written as stored (choice codes such as ``outbound``, ISO dates, ``yes``/``no``),
not as translated labels, so a file reads the same whatever the user's language.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

# (column name, field path for values_list). The order is the file's column order.
_COLUMNS: list[tuple[str, str]] = [
    ("entry_no", "id"),
    ("date", "date"),
    ("time", "time"),
    ("contact_no", "contact__number"),
    ("contact_name", "contact__name"),
    ("company_no", "contact_company__number"),
    ("company_name", "contact_company__name"),
    ("description", "description"),
    ("subject", "subject"),
    ("template", "template__code"),
    ("group", "group__code"),
    ("salesperson", "salesperson__code"),
    ("information_flow", "information_flow"),
    ("initiated_by", "initiated_by"),
    ("correspondence_type", "correspondence_type"),
    ("cost", "cost"),
    ("duration", "duration"),
    ("evaluation", "evaluation"),
    ("attempt_failed", "attempt_failed"),
    ("campaign", "campaign__number"),
    ("campaign_target", "campaign_target"),
    ("campaign_response", "campaign_response"),
    ("opportunity", "opportunity__number"),
    ("segment_no", "segment_no"),
    ("logged_segment", "logged_segment_id"),
    ("language", "language"),
    ("delivery_status", "delivery_status"),
    ("delivery_attempts", "delivery_attempts"),
    ("delivered_at", "delivered_at"),
    ("canceled", "canceled"),
    ("logged_by", "logged_by__username"),
    ("logged_at", "logged_at"),
]

HEADER: list[str] = [name for name, _path in _COLUMNS]

# Columns holding text someone typed (or imported); only these can start a spreadsheet formula.
_TEXT_COLUMNS = frozenset(
    {"contact_name", "company_name", "description", "subject", "contact_no", "company_no"}
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CHUNK_SIZE = 2000


def neutralise(cell: str) -> str:
    """Prefix an apostrophe to a cell a spreadsheet would run as a formula (spec section 5)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _text(value) -> str:
    if value is None:
        return ""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="seconds")
    return str(value)


def entry_rows(queryset: QuerySet, *, neutralise_formulas: bool) -> Iterator[list[str]]:
    """One list of strings per log entry in ``queryset`` (its filter and order are kept),
    matching ``HEADER``. ``neutralise_formulas`` is for files opened in a spreadsheet."""
    paths = [path for _name, path in _COLUMNS]
    text_positions = [i for i, (name, _path) in enumerate(_COLUMNS) if name in _TEXT_COLUMNS]
    for values in queryset.values_list(*paths).iterator(chunk_size=CHUNK_SIZE):
        row = [_text(value) for value in values]
        if neutralise_formulas:
            for i in text_positions:
                row[i] = neutralise(row[i])
        yield row


class Echo:
    """A file-like object that hands back what is written: ``csv.writer(Echo()).writerow(row)``
    returns the CSV line, ready to yield from a ``StreamingHttpResponse``."""

    def write(self, value: str) -> str:
        return value
