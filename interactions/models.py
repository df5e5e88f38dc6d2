"""Interaction groups and templates, the interaction log, and postponed interactions (drafts)."""

from __future__ import annotations

import datetime
import posixpath
import uuid
from collections.abc import Callable
from functools import cached_property

from django.conf import settings
from django.db import connections, models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.built_once import BuiltOnceQuery
from contacts.models import CorrespondenceType, Language, Tracked, audit_user_field


class InformationFlow(models.TextChoices):
    BLANK = "", _("(blank)")
    OUTBOUND = "outbound", _("Outbound")
    INBOUND = "inbound", _("Inbound")


class InitiatedBy(models.TextChoices):
    BLANK = "", _("(blank)")
    US = "us", _("Us")
    THEM = "them", _("Them")


class Evaluation(models.TextChoices):
    BLANK = "", _("(blank)")
    VERY_POSITIVE = "very_positive", _("Very Positive")
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
    VERY_NEGATIVE = "very_negative", _("Very Negative")


class DeliveryStatus(models.TextChoices):
    BLANK = "", _("(blank)")
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    ERROR = "error", _("Error")


def _non_negative(field: str, model: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 0}), name=f"{model}_{field}_gte_0"
    )


class InteractionGroup(Tracked):
    code = models.CharField(_("code"), max_length=20, unique=True)
    description = models.CharField(_("description"), max_length=100)

    class Meta:
        verbose_name = _("interaction group")
        verbose_name_plural = _("interaction groups")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class InteractionTemplate(Tracked):
    code = models.CharField(_("code"), max_length=20, unique=True)
    # PROTECT: a group that templates (and so log entries) use cannot be deleted.
    group = models.ForeignKey(
        InteractionGroup,
        on_delete=models.PROTECT,
        related_name="templates",
        verbose_name=_("interaction group"),
    )
    description = models.CharField(_("description"), max_length=100)
    unit_cost = models.DecimalField(
        _("unit cost (LCY)"), max_digits=12, decimal_places=2, default=0
    )
    unit_duration = models.DecimalField(
        _("unit duration (min.)"), max_digits=10, decimal_places=2, default=0
    )
    information_flow = models.CharField(
        _("information flow"), max_length=10, choices=InformationFlow.choices, blank=True
    )
    initiated_by = models.CharField(
        _("initiated by"), max_length=10, choices=InitiatedBy.choices, blank=True
    )
    # Better than BC: new templates default to a blank correspondence type, not Email.
    correspondence_type = models.CharField(
        _("correspondence type (default)"),
        max_length=10,
        choices=CorrespondenceType.choices,
        blank=True,
        default=CorrespondenceType.BLANK,
    )
    ignore_contact_corres_type = models.BooleanField(
        _("Ignore Contact Corres. Type"), default=False
    )
    language = models.CharField(
        _("language code (default)"), max_length=2, choices=Language.choices, blank=True
    )
    campaign = models.ForeignKey(
        "contacts.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="interaction_templates",
        verbose_name=_("campaign"),
    )
    campaign_target = models.BooleanField(_("campaign target"), default=False)
    campaign_response = models.BooleanField(_("campaign response"), default=False)

    class Meta:
        verbose_name = _("interaction template")
        verbose_name_plural = _("interaction templates")
        ordering = ["code"]
        constraints = [
            _non_negative("unit_cost", "interactiontemplate"),
            _non_negative("unit_duration", "interactiontemplate"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    @cached_property
    def variants(self) -> dict[str, InteractionTemplateContent]:
        """Its contents by language (blank: the default), read once per instance, as a prefetch
        would be. Nearly every wizard request asks (is there a Content step, what does it
        offer), so by SQL compiled once per process: the ORM's prefetch of them was 7 % of the
        instructions of a wizard journey (docs/benchmarks.md, issue 19 part G)."""
        return {content.language: content for content in _CONTENTS.fetch(template=self.pk)}

    @cached_property
    def has_contents(self) -> bool:
        """Whether it has any content (the wizard's Content step). A read of the template may
        say so with its row, sparing the read of the contents (`get_draft_for_user`, step 1's
        template field: `TypeForm`)."""
        return bool(self.variants)

    def content_for(self, language: str) -> InteractionTemplateContent | None:
        """The content in ``language``, else the default (blank language), else None."""
        return self.variants.get(language) or self.variants.get("")


def template_attachment_path(instance: InteractionTemplateContent, filename: str) -> str:
    return f"templates/{instance.template_id}/{filename}"


class InteractionTemplateContent(Tracked):
    """Subject, body and attachment of a template; blank language is the default variant."""

    template = models.ForeignKey(
        InteractionTemplate, on_delete=models.CASCADE, related_name="contents"
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    attachment = models.FileField(
        _("attachment"), upload_to=template_attachment_path, blank=True, max_length=255
    )

    class Meta:
        verbose_name = _("interaction template content")
        verbose_name_plural = _("interaction template contents")
        ordering = ["template", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "language"], name="templatecontent_one_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template.code} [{self.language or '-'}]"


_CONTENTS = BuiltOnceQuery(
    lambda template: InteractionTemplateContent.objects.filter(template=template), template=-1
)


# Newest first: by date, then time of interaction (an entry without one last in its day), then
# entry number. Every list index ends in this order; read backwards it is oldest first.
NEWEST_FIRST = (F("date").desc(), F("time").desc(nulls_last=True), F("id").desc())
OLDEST_FIRST = (F("date").asc(), F("time").asc(nulls_first=True), F("id").asc())


class LogEntryQuerySet(models.QuerySet):
    def active(self) -> LogEntryQuerySet:
        """Entries that count: not canceled (drafts are never log entries)."""
        return self.filter(canceled=False)

    def for_contact(self, contact) -> LogEntryQuerySet:
        """A company's entries include those of its persons."""
        if contact.is_company:
            return self.filter(contact_company=contact)
        return self.filter(contact=contact)

    def newest_first(self) -> LogEntryQuerySet:
        return self.order_by(*NEWEST_FIRST)

    def between(self, date_from=None, date_to=None) -> LogEntryQuerySet:
        """Entries dated in the period; either end may be open (None)."""
        entries = self
        if date_from is not None:
            entries = entries.filter(date__gte=date_from)
        if date_to is not None:
            entries = entries.filter(date__lte=date_to)
        return entries

    # Number, cost, duration, the last interaction not failed and the last one initiated by us.
    STATISTICS = {
        "count": models.Count("id"),
        "cost": models.Sum("cost", default=0),
        "duration": models.Sum("duration", default=0),
        "last_date": models.Max("date", filter=Q(attempt_failed=False)),
        "last_attempt": models.Max("date", filter=Q(initiated_by=InitiatedBy.US)),
    }

    def statistics(self, date_from=None, date_to=None) -> dict:
        """`STATISTICS` of the active entries dated in the period (either end may be open)."""
        return self.active().between(date_from, date_to).aggregate(**self.STATISTICS)


class NamedAttachment(models.Model):
    """The name an attachment was uploaded with, beside its file (whose stored name is a path,
    made unique by the storage)."""

    # A database default too: bulk paths (Log's INSERT ... SELECT, seed_demo's COPY) may omit it.
    attachment_name = models.CharField(
        _("attachment name"), max_length=255, blank=True, default="", db_default=""
    )

    class Meta:
        abstract = True

    @property
    def attachment_filename(self) -> str:
        """What pages and emails call the attachment: its name as uploaded, else (a template's
        file, rows from before the name was kept) the stored file's own name."""
        return self.attachment_name or posixpath.basename(self.attachment.name)


def entry_attachment_path(instance: InteractionLogEntry, filename: str) -> str:
    return f"entries/{instance.date:%Y/%m}/{filename}"


class InteractionLogEntry(NamedAttachment):
    """What happened; after logging only canceled, evaluation, comments and delivery change."""

    # The primary key is the entry number (a database sequence).
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.PROTECT,
        related_name="log_entries",
        db_index=False,
        verbose_name=_("contact"),
    )
    # contact_company and group are copies (the contact's company and the template's group when
    # logged) for the list filters: no database constraint, as `Log` writes 100,000 entries in
    # one statement and each constraint is a lookup per row. Django's PROTECT still refuses to
    # delete a company or group an entry names, and the contact's and template's own foreign
    # keys (kept) hold those rows while the entry is written.
    contact_company = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.PROTECT,
        related_name="company_log_entries",
        null=True,
        blank=True,
        db_index=False,
        db_constraint=False,
        verbose_name=_("contact company"),
    )
    date = models.DateField(_("date"))
    time = models.TimeField(_("time of interaction"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=100)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    template = models.ForeignKey(
        InteractionTemplate,
        on_delete=models.PROTECT,
        related_name="log_entries",
        db_index=False,
        verbose_name=_("interaction template"),
    )
    group = models.ForeignKey(
        InteractionGroup,
        on_delete=models.PROTECT,
        related_name="log_entries",
        db_index=False,
        db_constraint=False,
        verbose_name=_("interaction group"),
    )
    salesperson = models.ForeignKey(
        "contacts.Salesperson",
        on_delete=models.PROTECT,
        related_name="log_entries",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("salesperson"),
    )
    information_flow = models.CharField(
        _("information flow"), max_length=10, choices=InformationFlow.choices, blank=True
    )
    initiated_by = models.CharField(
        _("initiated by"), max_length=10, choices=InitiatedBy.choices, blank=True
    )
    correspondence_type = models.CharField(
        _("correspondence type"), max_length=10, choices=CorrespondenceType.choices, blank=True
    )
    cost = models.DecimalField(_("cost (LCY)"), max_digits=12, decimal_places=2, default=0)
    duration = models.DecimalField(_("duration (min.)"), max_digits=10, decimal_places=2, default=0)
    evaluation = models.CharField(
        _("evaluation"), max_length=15, choices=Evaluation.choices, blank=True
    )
    attempt_failed = models.BooleanField(_("attempt failed"), default=False)
    campaign = models.ForeignKey(
        "contacts.Campaign",
        on_delete=models.PROTECT,
        related_name="log_entries",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("campaign"),
    )
    campaign_target = models.BooleanField(_("campaign target"), default=False)
    campaign_response = models.BooleanField(_("campaign response"), default=False)
    opportunity = models.ForeignKey(
        "contacts.Opportunity",
        on_delete=models.PROTECT,
        related_name="log_entries",
        null=True,
        blank=True,
        # The list's opportunity filter has its own index (Meta).
        db_index=False,
        verbose_name=_("opportunity"),
    )
    # Kept as text so that it survives `Delete Canceled Segments`.
    segment_no = models.CharField(_("segment no."), max_length=20, blank=True)
    logged_segment = models.ForeignKey(
        "segments.LoggedSegment",
        on_delete=models.SET_NULL,
        related_name="entries",
        null=True,
        blank=True,
        db_index=False,
        verbose_name=_("logged segment"),
    )
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, blank=True)
    # Content as logged; `body` becomes the merged body actually sent once delivered.
    body = models.TextField(_("body"), blank=True)
    attachment = models.FileField(
        _("attachment"), upload_to=entry_attachment_path, blank=True, max_length=255
    )
    delivery_status = models.CharField(
        _("delivery status"), max_length=10, choices=DeliveryStatus.choices, blank=True
    )
    delivery_attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    delivery_next_try_at = models.DateTimeField(_("next delivery attempt"), null=True, blank=True)
    delivery_last_error = models.TextField(_("last delivery error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    canceled = models.BooleanField(_("canceled"), default=False)
    # The draft whose `Finish` wrote this entry: unique where set (see Meta), so a replayed
    # Finish cannot log twice; segment entries have none and cost that index nothing.
    draft = models.ForeignKey(
        "interactions.InteractionDraft",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="log_entries",
        db_index=False,
        verbose_name=_("draft"),
    )
    logged_by = audit_user_field(_("logged by"))
    logged_at = models.DateTimeField(_("logged at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)
    updated_by = audit_user_field(_("last changed by"))

    objects = LogEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction log entry")
        verbose_name_plural = _("interaction log entries")
        ordering = NEWEST_FIRST
        permissions = [
            ("cancel_interactionlogentry", "Can cancel and un-cancel interaction log entries"),
            ("evaluate_interactionlogentry", "Can evaluate and comment on interaction log entries"),
            ("export_interactionlogentry", "Can export interaction log entries"),
        ]
        constraints = [
            _non_negative("cost", "interactionlogentry"),
            _non_negative("duration", "interactionlogentry"),
            models.UniqueConstraint(
                fields=["draft"], condition=Q(draft__isnull=False), name="entry_one_per_draft"
            ),
        ]
        # One composite index per list filter, each ending in the list order (date, time, id),
        # so a filtered, newest-first page is an index range scan.
        indexes = [
            models.Index(*NEWEST_FIRST, name="entry_newest_idx"),
            models.Index(F("contact"), *NEWEST_FIRST, name="entry_contact_newest_idx"),
            models.Index(F("contact_company"), *NEWEST_FIRST, name="entry_company_newest_idx"),
            models.Index(F("salesperson"), *NEWEST_FIRST, name="entry_salesp_newest_idx"),
            models.Index(F("template"), *NEWEST_FIRST, name="entry_template_newest_idx"),
            models.Index(F("group"), *NEWEST_FIRST, name="entry_group_newest_idx"),
            models.Index(F("campaign"), *NEWEST_FIRST, name="entry_campaign_newest_idx"),
            models.Index(F("opportunity"), *NEWEST_FIRST, name="entry_opp_newest_idx"),
            models.Index(F("logged_segment"), *NEWEST_FIRST, name="entry_lseg_newest_idx"),
            models.Index(fields=["segment_no"], name="entry_segment_no_idx"),
            models.Index(
                *NEWEST_FIRST, condition=Q(canceled=True), name="entry_canceled_newest_idx"
            ),
            models.Index(
                fields=["delivery_next_try_at"],
                condition=Q(delivery_status__in=["pending", "sending"]),
                name="entry_delivery_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.description}"

    def get_absolute_url(self) -> str:
        return reverse("interactions:entry_detail", args=[self.pk])

    @property
    def entry_no(self) -> int:
        return self.pk

    @property
    def title(self) -> str:
        """The history title: "<template> by <salesperson>" outbound, "<template> from <contact>"
        inbound, the template's description alone otherwise."""
        flow = self.information_flow
        outbound = flow == InformationFlow.OUTBOUND and self.salesperson_id
        salesperson = self.salesperson.name if outbound else None
        contact = self.contact.name if flow == InformationFlow.INBOUND else None
        return self.titles()(self.template.description, flow, salesperson, contact)

    @staticmethod
    def titles() -> Callable[[str, str, str | None, str | None], str]:
        """`title` as a function of the values it reads (the template's description, the
        information flow, the salesperson's name or None, the contact's name), with its two
        translations looked up once: a card's history titles its rows from value tuples."""
        by, from_ = str(_("%(what)s by %(who)s")), str(_("%(what)s from %(who)s"))

        def title(description: str, flow: str, salesperson: str | None, contact: str | None):
            if flow == InformationFlow.OUTBOUND and salesperson is not None:
                return by % {"what": description, "who": salesperson}
            if flow == InformationFlow.INBOUND:
                return from_ % {"what": description, "who": contact}
            return description

        return title


class Span(models.TextChoices):
    DAY = "day", _("day")
    MONTH = "month", _("month")


def _first_of_next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=31)).replace(day=1)


def split_period(
    date_from: datetime.date | None, date_to: datetime.date | None
) -> tuple[list[tuple[datetime.date, datetime.date]], tuple[datetime.date | None, ...] | None]:
    """A period as the whole months it covers and the days at its ends outside them.

    Returns ``(days, months)``: up to two ``(first, last)`` ranges of days, and the whole
    months as ``(first month, month after the last)`` (either end None when the period is open
    on that side), or None when the period holds no whole month. Open ends are whole months.
    """
    first = date_from
    if first is not None and first.day != 1:
        first = _first_of_next_month(first)
    # The first day after the last whole month.
    end = None if date_to is None else (date_to + datetime.timedelta(days=1)).replace(day=1)
    if first is not None and end is not None and first >= end:
        return [(date_from, date_to)], None
    days = []
    if date_from is not None and date_from < first:
        days.append((date_from, first - datetime.timedelta(days=1)))
    if date_to is not None and end <= date_to:
        days.append((end, date_to))
    return days, (first, end)


# A period's figures from the totals (`DayTotalsQuerySet.statistics`). {key} is the queryset's
# own filter (a salesperson, a template, a group). The first part reads the period's whole months
# from month rows and the days at its ends from day rows; the last date of an interaction (of an
# attempt) is the latest such day at the ends or, if later, the latest such day inside the latest
# month that has one (a month of day rows at most). Absent parts have NULL bounds: no rows.
def _statistics(db: str, sql: str, params) -> dict:
    """The one row of a statistics statement (count, cost, duration, last date, last attempt)
    as the statistics panels read it."""
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        count, cost, duration, last_date, last_attempt = cursor.fetchone()
    return {
        "count": count,
        "cost": cost,
        "duration": duration,
        "last_date": last_date,
        "last_attempt": last_attempt,
    }


STATISTICS_SQL = """
WITH figures AS (
    SELECT sum(entries) AS entries, sum(cost) AS cost, sum(duration) AS duration,
           max(date) FILTER (WHERE span = 'day' AND successful > 0) AS successful_day,
           max(date) FILTER (WHERE span = 'month' AND successful > 0) AS successful_month,
           max(date) FILTER (WHERE span = 'day' AND attempted > 0) AS attempted_day,
           max(date) FILTER (WHERE span = 'month' AND attempted > 0) AS attempted_month
    FROM {table}
    WHERE {key} AND (
        span = 'day' AND (date BETWEEN %s AND %s OR date BETWEEN %s AND %s)
        OR span = 'month' AND date >= %s AND date < %s
    )
)
SELECT coalesce(entries, 0), coalesce(cost, 0), coalesce(duration, 0),
       greatest(successful_day, (
           SELECT max(date) FROM {table}
           WHERE {key} AND span = 'day' AND successful > 0 AND date >= successful_month
               AND date < (successful_month + interval '1 month')::date
       )),
       greatest(attempted_day, (
           SELECT max(date) FROM {table}
           WHERE {key} AND span = 'day' AND attempted > 0 AND date >= attempted_month
               AND date < (attempted_month + interval '1 month')::date
       ))
FROM figures
"""


class DayTotalsQuerySet(models.QuerySet):
    def statistics(self, date_from=None, date_to=None) -> dict:
        """The same figures as `LogEntryQuerySet.statistics` for the period (either end may be
        open), from the kept totals, in one query (`STATISTICS_SQL`).

        Whole months come from month rows and only the days at the period's ends outside them
        from day rows, so a period reads, per key, at most ~60 day rows and one row a month,
        however many entries or days it holds. Written as SQL, not built by the ORM: building
        this query with its subqueries cost 3.4-3.8 ms of CPU a call, the statement 0.15 ms
        (docs/benchmarks.md). The queryset's filter must be on the table's own columns (as a
        related manager's is): the statement has no joins (PostgreSQL refuses one that would).
        """
        from django.core.exceptions import EmptyResultSet, FullResultSet

        compiler = self.query.get_compiler(using=self.db)
        try:
            key, key_params = compiler.compile(self.query.where)
        except FullResultSet:
            key, key_params = "true", []
        except EmptyResultSet:
            key, key_params = "false", []
        days, months = split_period(date_from, date_to)
        days = [*days, (None, None), (None, None)][:2]
        if months is None:
            months = (None, None)
        else:
            months = (months[0] or datetime.date.min, months[1] or datetime.date.max)
        sql = STATISTICS_SQL.format(table=self.model._meta.db_table, key=key)
        params = [*key_params, *days[0], *days[1], *months, *key_params, *key_params]
        return _statistics(self.db, sql, params)


class EntryDayTotals(models.Model):
    """Totals of the active (not canceled) log entries per salesperson, template and group, per
    day and per month (`span`; a month's row is dated its first day).

    Statistics of a salesperson, template or group cover 100,000s of entries; summed from these
    rows (`DayTotalsQuerySet.statistics`) they cost a few hundred rows instead, and no more as
    the history grows by days. Database triggers on the log entry table keep them (migrations
    0003 and 0009): every insert, update and delete, whichever code path or bulk statement
    wrote it, adds its difference to the day's and the month's rows in the same transaction, so
    they are never stale. Every column is additive, which is what lets a cancel or a delete
    subtract exactly.
    """

    span = models.CharField(max_length=5, choices=Span.choices, default=Span.DAY)
    date = models.DateField(_("date"))
    salesperson = models.ForeignKey(
        "contacts.Salesperson",
        on_delete=models.CASCADE,
        null=True,
        related_name="day_totals",
        db_index=False,
    )
    template = models.ForeignKey(
        InteractionTemplate, on_delete=models.CASCADE, related_name="day_totals", db_index=False
    )
    group = models.ForeignKey(
        InteractionGroup, on_delete=models.CASCADE, related_name="day_totals", db_index=False
    )
    entries = models.IntegerField(_("no. of interactions"), default=0)
    cost = models.DecimalField(_("cost (LCY)"), max_digits=18, decimal_places=2, default=0)
    duration = models.DecimalField(_("duration (min.)"), max_digits=18, decimal_places=2, default=0)
    # Entries not marked `attempt failed`, and entries initiated by us.
    successful = models.IntegerField(default=0)
    attempted = models.IntegerField(default=0)

    objects = DayTotalsQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily totals of log entries")
        verbose_name_plural = _("daily totals of log entries")
        constraints = [
            # The triggers' ON CONFLICT target; a blank salesperson is one key like any other.
            # Salesperson, span and date first: a salesperson's period is one range of it.
            models.UniqueConstraint(
                fields=["salesperson", "span", "date", "template", "group"],
                nulls_distinct=False,
                name="daytotals_one_row_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["template", "span", "date"], name="daytotals_template_idx"),
            models.Index(fields=["group", "span", "date"], name="daytotals_group_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.span} {self.date} {self.salesperson_id}/{self.template_id}/{self.group_id}"


# A company card's figures for a period (`CompanyMonthTotalsManager.statistics`). The whole
# months of the period come from the month rows; the days at its ends outside them (at most two
# ranges, NULL bounds when absent) from the entries themselves, through the (company, date)
# index. The last date of an interaction (of an attempt) is the latest such entry at the ends
# or, if later, in the latest month that has one: a month of the company's entries at most.
COMPANY_STATISTICS_SQL = """
WITH months AS (
    SELECT sum(entries) AS entries, sum(cost) AS cost, sum(duration) AS duration,
           max(month) FILTER (WHERE successful > 0) AS successful_month,
           max(month) FILTER (WHERE attempted > 0) AS attempted_month
    FROM {totals}
    WHERE company_id = %(company)s AND month >= %(first_month)s AND month < %(end_month)s
), days AS (
    SELECT count(*) AS entries, sum(cost) AS cost, sum(duration) AS duration,
           max(date) FILTER (WHERE NOT attempt_failed) AS successful_day,
           max(date) FILTER (WHERE initiated_by = 'us') AS attempted_day
    FROM {entries}
    WHERE contact_company_id = %(company)s AND NOT canceled AND (
        date BETWEEN %(start_from)s AND %(start_to)s OR date BETWEEN %(end_from)s AND %(end_to)s
    )
)
SELECT coalesce(months.entries, 0) + days.entries,
       coalesce(months.cost, 0) + coalesce(days.cost, 0),
       coalesce(months.duration, 0) + coalesce(days.duration, 0),
       greatest(successful_day, (
           SELECT max(date) FROM {entries}
           WHERE contact_company_id = %(company)s AND NOT canceled AND NOT attempt_failed
               AND date >= successful_month
               AND date < (successful_month + interval '1 month')::date
       )),
       greatest(attempted_day, (
           SELECT max(date) FROM {entries}
           WHERE contact_company_id = %(company)s AND NOT canceled AND initiated_by = 'us'
               AND date >= attempted_month
               AND date < (attempted_month + interval '1 month')::date
       ))
FROM months, days
"""


class CompanyMonthTotalsManager(models.Manager):
    def statistics(self, company, date_from=None, date_to=None) -> dict:
        """The same figures as `LogEntryQuerySet.statistics` of the entries whose
        `contact_company` is ``company`` (its own and its persons') in the period (either end
        may be open), in one query (`COMPANY_STATISTICS_SQL`): a row a month of the period and
        the entries of the days at its ends, however long the company's history."""
        days, months = split_period(date_from, date_to)
        (start_from, start_to), (end_from, end_to) = [*days, (None, None), (None, None)][:2]
        first_month, end_month = months or (None, None)
        if months is not None:
            first_month = first_month or datetime.date.min
            end_month = end_month or datetime.date.max
        params = {
            "company": company.pk,
            "first_month": first_month,
            "end_month": end_month,
            "start_from": start_from,
            "start_to": start_to,
            "end_from": end_from,
            "end_to": end_to,
        }
        return _statistics(self.db, _COMPANY_STATISTICS, params)


class CompanyMonthTotals(models.Model):
    """Totals of a company's active (not canceled) log entries per month, its own and its
    persons' (the entries whose `contact_company` it is); a row is dated the month's first day.

    The company card summed them on every request: the busiest company's 8,222 entries at
    10,000,000, and more as the log grows. From these rows a period costs a row a month and the
    entries of the days at its ends (`CompanyMonthTotalsManager.statistics`). Kept by database
    triggers on the log entry table (migration 0011), like `EntryDayTotals`: every insert,
    update and delete, whichever code path or bulk statement wrote it, adds its difference in
    the same transaction, so they are never stale. No day rows (a company has about one entry
    a day: as many rows as entries) and no person rows (a person has about one entry a month;
    rows for persons would make Log's trigger upsert a row per entry; docs/benchmarks.md
    part Q).
    """

    company = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.CASCADE,
        related_name="entry_month_totals",
        db_index=False,
        # The entries' own keys hold the company; a constraint would cost the triggers a lookup
        # for every row they add.
        db_constraint=False,
        verbose_name=_("company"),
    )
    month = models.DateField(_("month"))
    entries = models.IntegerField(_("no. of interactions"), default=0)
    cost = models.DecimalField(_("cost (LCY)"), max_digits=18, decimal_places=2, default=0)
    duration = models.DecimalField(_("duration (min.)"), max_digits=18, decimal_places=2, default=0)
    # Entries not marked `attempt failed`, and entries initiated by us.
    successful = models.IntegerField(default=0)
    attempted = models.IntegerField(default=0)

    objects = CompanyMonthTotalsManager()

    class Meta:
        verbose_name = _("monthly totals of a company's log entries")
        verbose_name_plural = _("monthly totals of companies' log entries")
        constraints = [
            # The triggers' ON CONFLICT target; a company's period is one range of it.
            models.UniqueConstraint(
                fields=["company", "month"], name="companytotals_one_row_per_month"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_id} {self.month}: {self.entries}"


_COMPANY_STATISTICS = COMPANY_STATISTICS_SQL.format(
    totals=CompanyMonthTotals._meta.db_table, entries=InteractionLogEntry._meta.db_table
)


class InteractionComment(Tracked):
    entry = models.ForeignKey(
        InteractionLogEntry,
        on_delete=models.CASCADE,
        related_name="comments",
        verbose_name=_("interaction log entry"),
    )
    date = models.DateField(_("date"))
    comment = models.CharField(_("comment"), max_length=250)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["entry", "id"]
        permissions = [("manage_all_comments", "Can change and delete every user's comments")]

    def __str__(self) -> str:
        return self.comment

    def is_editable_by(self, user) -> bool:
        """Its author and Marketing Managers may change or delete a comment; a user whose
        role was taken away keeps no rights."""
        if not user.has_perm("interactions.change_interactioncomment"):
            return False
        if user.has_perm("interactions.manage_all_comments"):
            return True
        return self.created_by_id is not None and self.created_by_id == user.pk


class DraftStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    POSTPONED = "postponed", _("Postponed")
    FINISHED = "finished", _("Finished")


# The Create Interaction wizard's steps, in order (names appear in URLs and saved drafts).
WIZARD_STEPS = {
    "type": _("Type"),
    "content": _("Content"),
    "related": _("Related to"),
    "result": _("Result"),
}


class DraftQuerySet(models.QuerySet):
    def owned_by(self, user) -> DraftQuerySet:
        return self.filter(owner=user)

    def postponed(self) -> DraftQuerySet:
        return self.filter(status=DraftStatus.POSTPONED)


class InteractionDraft(models.Model):
    """A run of the Create Interaction wizard: its state lives here, keyed by the URL's UUID.

    Its context (contact, salesperson or segment it was started from) is fixed; the summary
    columns (contact, template, description) mirror what the user has typed so far.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="interaction_drafts",
        db_index=False,
        verbose_name=_("owner"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=DraftStatus.choices, default=DraftStatus.IN_PROGRESS
    )
    context_contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="context_drafts",
        verbose_name=_("started from contact"),
    )
    context_salesperson = models.ForeignKey(
        "contacts.Salesperson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="context_drafts",
        verbose_name=_("started from salesperson"),
    )
    context_segment = models.ForeignKey(
        "segments.Segment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="drafts",
        verbose_name=_("started from segment"),
    )
    # Summary for the Postponed Interactions list.
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="drafts",
        verbose_name=_("contact"),
    )
    template = models.ForeignKey(
        InteractionTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("interaction template"),
    )
    description = models.CharField(_("description"), max_length=100, blank=True)
    current_step = models.CharField(_("step"), max_length=20, blank=True)
    # The wizard's state, which only `interactions.wizard.DraftStorage` reads and writes.
    state = models.JSONField(_("wizard state"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)

    objects = DraftQuerySet.as_manager()

    class Meta:
        verbose_name = _("postponed interaction")
        verbose_name_plural = _("postponed interactions")
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["owner", "status", "-updated_at"], name="draft_owner_status_idx"),
            models.Index(fields=["status", "updated_at"], name="draft_status_updated_idx"),
        ]

    def __str__(self) -> str:
        # Its key, not its description: the admin and its history name drafts without showing
        # what they hold (private to the owner).
        return str(self.pk)

    def is_owned_by(self, user) -> bool:
        return self.owner_id == user.pk

    def wizard_url(self, step: str = "") -> str:
        """The wizard at ``step`` (else the step it was left on). A segment's draft runs the
        segment wizard, named here, not imported (`segments` depends on this app)."""
        name = "segments:wizard" if self.context_segment_id else "interactions:wizard"
        return reverse(
            name, kwargs={"draft_id": self.pk, "step": step or self.current_step or "type"}
        )

    @staticmethod
    def files_folder(draft_id) -> str:
        """Where a draft's uploads wait for `Finish` in Django's default storage."""
        return f"drafts/{draft_id}/"

    @property
    def step_title(self) -> str:
        return WIZARD_STEPS.get(self.current_step, WIZARD_STEPS["type"])
