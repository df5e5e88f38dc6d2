"""The one CSV writer for interaction log entries.

Both the `export_interactions` command and the browser export of the `Interaction Log Entries`
page write their rows with ``entry_rows``, so the two files always have the same columns.

Memory stays flat at millions of rows: the queryset is read as tuples (``values_list``, the
joined codes in the same query) through a server-side cursor, 2,000 rows at a time, and rows
are yielded one by one. Callers write them with ``csv.writer`` to a file, or to ``Echo`` for a
``StreamingHttpResponse``::

    rows = entry_rows(entries)
    writer = csv.writer(Echo())
    lines = (writer.writerow(row) for row in itertools.chain([HEADER], rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")

The command writes values as stored (choice codes such as ``outbound``, ``yes``/``no``) under
the column codes of ``HEADER``, so a file reads the same whatever the language and scripts
can rely on it (docs/operations.md). The browser export (``labelled=True``) writes what the
page shows, in the user's language: the column names (``labelled_header``), the choices'
labels ("Outbound", "Uitgaand") and Yes/No. Both write ISO dates, numbers with a point and
timestamps in UTC such as ``2026-01-31T08:30:00Z``.

Every text cell that a spreadsheet would run as a formula (one starting with ``= + - @``, a
tab or a carriage return) gets an apostrophe in front, in both exports and in every text
column: the codes of templates, groups, salespeople, campaigns and opportunities, segment
numbers and usernames were typed by someone too.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.db.models import Case, F, Func, QuerySet, TextField, Value, When
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.models import CorrespondenceType, Language
from interactions.models import DeliveryStatus, Evaluation, InformationFlow, InitiatedBy

# Each column is formatted to text by the database, so Python only hands strings to the CSV
# writer: at a million rows a Python call per cell would cost more than the query.


class _FormulaGuard(Func):
    """An apostrophe when the text starts a spreadsheet formula (= + - @, tab, carriage
    return), else nothing: what goes in front of the cell."""

    template = (
        "CASE WHEN left(%(expressions)s, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        "THEN '''' ELSE '' END"
    )
    output_field = TextField()


def _text(path: str):
    """A text column: blank for NULL (columns of joined rows that may be missing), and never
    a formula."""
    value = Coalesce(F(path), Value(""), output_field=TextField())
    return Concat(_FormulaGuard(value), value, output_field=TextField())


def _number(path: str):
    return Coalesce(Cast(F(path), TextField()), Value(""), output_field=TextField())


def _flag(path: str):
    return Case(
        When(**{path: True}, then=Value("yes")), default=Value("no"), output_field=TextField()
    )


def _time(path: str):
    return Coalesce(
        Func(F(path), Value("HH24:MI:SS"), function="to_char", output_field=TextField()),
        Value(""),
        output_field=TextField(),
    )


def _timestamp(path: str):
    """ISO 8601 in UTC (`2026-01-31T09:30:00Z`): unambiguous whatever the reader's zone."""
    return Coalesce(
        Func(
            F(path),
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\')',
            output_field=TextField(),
        ),
        Value(""),
        output_field=TextField(),
    )


# The cell formats, for other exports too (a segment's Export Contacts).
text_column = _text
flag_column = _flag


# (column name, how to compute it). The order is the file's column order.
_COLUMNS = [
    ("entry_no", _number("id")),
    ("date", _number("date")),  # date::text is ISO (YYYY-MM-DD)
    ("time", _time("time")),
    ("contact_no", _text("contact__number")),
    ("contact_name", _text("contact__name")),
    ("company_no", _text("contact_company__number")),
    ("company_name", _text("contact_company__name")),
    ("description", _text("description")),
    ("subject", _text("subject")),
    ("template", _text("template__code")),
    ("group", _text("group__code")),
    ("salesperson", _text("salesperson__code")),
    ("information_flow", _text("information_flow")),
    ("initiated_by", _text("initiated_by")),
    ("correspondence_type", _text("correspondence_type")),
    ("cost", _number("cost")),
    ("duration", _number("duration")),
    ("evaluation", _text("evaluation")),
    ("attempt_failed", _flag("attempt_failed")),
    ("campaign", _text("campaign__number")),
    ("campaign_target", _flag("campaign_target")),
    ("campaign_response", _flag("campaign_response")),
    ("opportunity", _text("opportunity__number")),
    ("segment_no", _text("segment_no")),
    ("logged_segment", _number("logged_segment_id")),
    ("language", _text("language")),
    ("delivery_status", _text("delivery_status")),
    ("delivery_attempts", _number("delivery_attempts")),
    ("delivered_at", _timestamp("delivered_at")),
    ("canceled", _flag("canceled")),
    ("logged_by", _text("logged_by__username")),
    ("logged_at", _timestamp("logged_at")),
]

HEADER: list[str] = [name for name, _expression in _COLUMNS]

# What the browser export calls the columns: the page's words, in the user's language.
LABELS = {
    "entry_no": gettext_lazy("Entry No."),
    "date": gettext_lazy("Date"),
    "time": gettext_lazy("Time"),
    "contact_no": gettext_lazy("Contact No."),
    "contact_name": gettext_lazy("Contact Name"),
    "company_no": gettext_lazy("Company No."),
    "company_name": gettext_lazy("Company Name"),
    "description": gettext_lazy("Description"),
    "subject": gettext_lazy("Subject"),
    "template": gettext_lazy("Template"),
    "group": gettext_lazy("Interaction Group"),
    "salesperson": gettext_lazy("Salesperson"),
    "information_flow": gettext_lazy("Information Flow"),
    "initiated_by": gettext_lazy("Initiated By"),
    "correspondence_type": gettext_lazy("Correspondence Type"),
    "cost": gettext_lazy("Cost (LCY)"),
    "duration": gettext_lazy("Duration (Min.)"),
    "evaluation": gettext_lazy("Evaluation"),
    "attempt_failed": gettext_lazy("Attempt failed"),
    "campaign": gettext_lazy("Campaign"),
    "campaign_target": gettext_lazy("Campaign target"),
    "campaign_response": gettext_lazy("Campaign response"),
    "opportunity": gettext_lazy("Opportunity"),
    "segment_no": gettext_lazy("Segment No."),
    "logged_segment": gettext_lazy("Logged segment no."),
    "language": gettext_lazy("Language"),
    "delivery_status": gettext_lazy("Delivery Status"),
    "delivery_attempts": gettext_lazy("Delivery attempts"),
    "delivered_at": gettext_lazy("Delivered at"),
    "canceled": gettext_lazy("Canceled"),
    "logged_by": gettext_lazy("Logged by"),
    "logged_at": gettext_lazy("Logged at"),
}
# The columns whose codes the browser export writes as labels.
_CHOICES = {
    "information_flow": InformationFlow,
    "initiated_by": InitiatedBy,
    "correspondence_type": CorrespondenceType,
    "evaluation": Evaluation,
    "delivery_status": DeliveryStatus,
    "language": Language,
}
_FLAGS = {"attempt_failed", "campaign_target", "campaign_response", "canceled"}


def labelled_header() -> list[str]:
    """``HEADER`` as the page words it, in the active language."""
    return [str(LABELS[name]) for name in HEADER]


def _labelled_columns() -> list:
    """The columns with choices and flags as labels in the active language: a CASE over each
    choice (a code no longer among them stays as stored, guarded as any text)."""
    columns = []
    for name, expression in _COLUMNS:
        if name in _CHOICES:
            whens = [
                When(**{name: value}, then=Value(str(label)))
                for value, label in _CHOICES[name].choices
                if value
            ]
            expression = Case(*whens, default=_text(name), output_field=TextField())
        elif name in _FLAGS:
            expression = Case(
                When(**{name: True}, then=Value(_("Yes"))),
                default=Value(_("No")),
                output_field=TextField(),
            )
        columns.append(expression)
    return columns


CHUNK_SIZE = 2000


def rows_queryset(queryset: QuerySet, *, labelled: bool = False) -> QuerySet:
    """``queryset`` (its filter and order kept) as tuples of text in ``HEADER`` order: the one
    query both exports run, and the statement a benchmark can hand to ``COPY``. ``labelled``:
    choices and flags as the page's labels in the active language."""
    if labelled:
        return queryset.values_list(*_labelled_columns())
    return queryset.values_list(*(expression for _name, expression in _COLUMNS))


def entry_rows(queryset: QuerySet, *, labelled: bool = False) -> Iterator[list[str]]:
    """One list of strings per log entry in ``queryset`` (its filter and order are kept),
    matching ``HEADER`` (``labelled``: see `rows_queryset`).

    Run it inside ``transaction.atomic()``: there the server-side cursor streams; outside one
    Django declares it WITH HOLD and Postgres computes the whole result before the first row.
    """
    for values in rows_queryset(queryset, labelled=labelled).iterator(chunk_size=CHUNK_SIZE):
        yield list(values)


def stream_lines(header: list[str], rows: Iterable[Iterable[str]]) -> Iterator[str]:
    """A CSV file for a ``StreamingHttpResponse``: a byte-order mark and the header, then the
    rows in pieces of ``STREAM_CHUNK_ROWS`` (a piece per row would be a socket write per row,
    which took twice as long as writing the rows themselves).

    ``rows`` are read inside a transaction: there a server-side cursor hands rows over as they
    are read; outside one Postgres first copies the whole result aside for a WITH HOLD cursor.
    """
    writer = csv.writer(Echo())
    # The byte-order mark tells spreadsheets the file is UTF-8.
    yield "\ufeff" + writer.writerow(header)
    with transaction.atomic():
        lines = []
        for row in rows:
            lines.append(writer.writerow(row))
            if len(lines) == STREAM_CHUNK_ROWS:
                yield "".join(lines)
                lines = []
        if lines:
            yield "".join(lines)


STREAM_CHUNK_ROWS = 500


class Echo:
    """A file-like object that hands back what is written: ``csv.writer(Echo()).writerow(row)``
    returns the CSV line, ready to yield from a ``StreamingHttpResponse``."""

    def write(self, value: str) -> str:
        return value
