"""Segments with their lines, and logged segments."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.models import CorrespondenceType, Language, Tracked, audit_user_field
from interactions.models import InformationFlow, InitiatedBy, NamedAttachment


class InteractionFields(models.Model):
    """The interaction a segment header assigns, and each line's own (personalisable) copy."""

    template = models.ForeignKey(
        "interactions.InteractionTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("interaction template"),
    )
    interaction_description = models.CharField(
        _("interaction description"), max_length=100, blank=True
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    language = models.CharField(
        _("language code"), max_length=2, choices=Language.choices, blank=True
    )
    correspondence_type = models.CharField(
        _("correspondence type"), max_length=10, choices=CorrespondenceType.choices, blank=True
    )
    information_flow = models.CharField(
        _("information flow"), max_length=10, choices=InformationFlow.choices, blank=True
    )
    initiated_by = models.CharField(
        _("initiated by"), max_length=10, choices=InitiatedBy.choices, blank=True
    )
    unit_cost = models.DecimalField(_("cost (LCY)"), max_digits=12, decimal_places=2, default=0)
    unit_duration = models.DecimalField(
        _("duration (min.)"), max_digits=10, decimal_places=2, default=0
    )
    campaign = models.ForeignKey(
        "contacts.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("campaign"),
    )
    campaign_target = models.BooleanField(_("campaign target"), default=False)
    campaign_response = models.BooleanField(_("campaign response"), default=False)

    class Meta:
        abstract = True


class SegmentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    LOGGED = "logged", _("Logged")


class SegmentQuerySet(models.QuerySet):
    def open(self) -> SegmentQuerySet:
        """Segments on the `Segments` list; logged ones are frozen and shown from their log."""
        return self.filter(status=SegmentStatus.OPEN)


def segment_attachment_path(instance: Segment, filename: str) -> str:
    return f"segments/{instance.number}/{filename}"


class Segment(InteractionFields, NamedAttachment, Tracked):
    number = models.CharField(_("no."), max_length=20, unique=True)
    description = models.CharField(_("description"), max_length=100, blank=True)
    date = models.DateField(_("date"), null=True, blank=True)
    salesperson = models.ForeignKey(
        "contacts.Salesperson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="segments",
        verbose_name=_("salesperson"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SegmentStatus.choices, default=SegmentStatus.OPEN
    )
    ignore_contact_corres_type = models.BooleanField(
        _("Ignore Contact Corres. Type"), default=False
    )
    # Stored once and shared by every entry the segment logs (never copied per entry).
    attachment = models.FileField(
        _("attachment"), upload_to=segment_attachment_path, blank=True, max_length=255
    )

    objects = SegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["-number"]
        permissions = [("manage_all_segments", "Can change, log and delete every segment")]
        constraints = [
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="segment_cost_gte_0"),
            models.CheckConstraint(
                condition=Q(unit_duration__gte=0), name="segment_duration_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["status", "-number"], name="segment_status_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.description}"

    def get_absolute_url(self) -> str:
        return reverse("segments:segment_detail", args=[self.pk])

    def is_editable_by(self, user) -> bool:
        """Owner (its salesperson's user, or its creator) and Marketing Managers (section 4).

        Owning is not enough on its own: a user whose role was taken away keeps no rights."""
        if self.status != SegmentStatus.OPEN:
            return False
        if not user.has_perm("segments.change_segment"):
            return False
        if user.has_perm("segments.manage_all_segments"):
            return True
        if self.created_by_id == user.pk:
            return True
        return self.salesperson_id is not None and self.salesperson.user_id == user.pk


class SegmentTotals(models.Model):
    """A segment's number of lines, total cost and total duration, never summed per request.

    Database triggers on the line table keep them (migration 0007), as they keep the daily
    totals of log entries: every insert, update, delete and truncate of lines, whichever code
    path or bulk statement wrote it (Add Contacts, Reduce, Refine, Go Back, Remove Lines,
    Reset, the header reaching its lines, the admin), adds its difference in the same
    transaction, so they are never stale. A trigger on the segment table writes the row of a
    new segment. A row of its own, not columns of `Segment`: saving a segment from Python would
    write back the totals it read before its lines changed.
    """

    segment = models.OneToOneField(
        "Segment", on_delete=models.CASCADE, primary_key=True, related_name="line_totals"
    )
    line_count = models.IntegerField(_("no. of lines"), default=0)
    total_cost = models.DecimalField(_("cost (LCY)"), max_digits=18, decimal_places=2, default=0)
    total_duration = models.DecimalField(
        _("duration (min.)"), max_digits=18, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("segment totals")
        verbose_name_plural = _("segment totals")

    def __str__(self) -> str:
        return f"{self.segment_id}: {self.line_count}"


class SegmentLine(InteractionFields, Tracked):
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    contact = models.ForeignKey(
        "contacts.Contact",
        on_delete=models.PROTECT,
        related_name="segment_lines",
        verbose_name=_("contact"),
    )
    date = models.DateField(_("date"), null=True, blank=True)
    personalised = models.BooleanField(_("personalised"), default=False)
    # The number of the criteria step (`SegmentStep.number`) that added the line, so that Go
    # Back of that step takes exactly its lines away; empty for lines from before the history.
    step = models.PositiveIntegerField(_("added by step"), null=True, blank=True, editable=False)

    # Lines are written 100,000 at a time (Add Contacts, Log's follow-up), and every index or
    # foreign-key check costs each of those rows. The three columns below are copies of the
    # header's values (unless the line is personalised), never a list filter: no index, and no
    # database constraint. Django's PROTECT still refuses to delete a referenced salesperson,
    # template or campaign; the header's own foreign keys (kept) hold the rows the
    # not-personalised lines point at, since header and lines change in one transaction; and
    # `Log` reports a line whose row is gone as a problem line instead of logging it.
    # (The audit columns inherited from Tracked have neither index nor constraint either.)
    salesperson = models.ForeignKey(
        "contacts.Salesperson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="segment_lines",
        db_index=False,
        db_constraint=False,
        verbose_name=_("salesperson"),
    )
    template = models.ForeignKey(
        "interactions.InteractionTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("interaction template"),
    )
    campaign = models.ForeignKey(
        "contacts.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("campaign"),
    )

    class Meta:
        verbose_name = _("segment line")
        verbose_name_plural = _("segment lines")
        ordering = ["segment", "id"]
        constraints = [
            # A contact is on a segment at most once (the index also serves segment lookups).
            models.UniqueConstraint(fields=["segment", "contact"], name="segmentline_contact_once"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="segmentline_cost_gte_0"),
            models.CheckConstraint(
                condition=Q(unit_duration__gte=0), name="segmentline_duration_gte_0"
            ),
        ]
        # The segment page's keyset paging: a page of 100 lines in the order they were added,
        # from any line on (first, next, previous, last), never an OFFSET over the ones before.
        indexes = [models.Index(fields=["segment", "id"], name="segmentline_segment_id_idx")]

    def __str__(self) -> str:
        return f"{self.segment.number} / {self.contact.number}"


class LoggedSegment(models.Model):
    """The record of one `Log`; the frozen segment stays viewable from it."""

    # OneToOne on the segment: the database refuses a second log of the same segment.
    segment = models.OneToOneField(
        Segment,
        on_delete=models.PROTECT,
        related_name="logged_segment",
        verbose_name=_("segment"),
    )
    segment_no = models.CharField(_("segment no."), max_length=20)
    description = models.CharField(_("description"), max_length=100)
    logged_at = models.DateTimeField(_("date"), auto_now_add=True)
    logged_by = audit_user_field(_("user"))
    entry_count = models.PositiveIntegerField(_("no. of interactions"), default=0)
    canceled = models.BooleanField(_("canceled"), default=False)
    updated_at = models.DateTimeField(_("last changed at"), auto_now=True)
    updated_by = audit_user_field(_("last changed by"))

    class Meta:
        verbose_name = _("logged segment")
        verbose_name_plural = _("logged segments")
        ordering = ["-id"]
        permissions = [("cancel_loggedsegment", "Can cancel and un-cancel logged segments")]
        indexes = [models.Index(fields=["canceled"], name="loggedsegment_canceled_idx")]

    def __str__(self) -> str:
        return f"{self.pk}: {self.segment_no} {self.description}"

    def get_absolute_url(self) -> str:
        return reverse("segments:logged_segment_detail", args=[self.pk])


# --- Criteria history (Go Back) and saved criteria ---------------------------------------------


class StepAction(models.TextChoices):
    ADD = "add", _("Add Contacts")
    REDUCE = "reduce", _("Reduce Contacts")
    REFINE = "refine", _("Refine Contacts")
    REUSE_SEGMENT = "reuse_segment", _("Reuse Segment")
    ADD_CONTACT = "add_contact", _("Add Contact")
    REMOVE_LINES = "remove_lines", _("Remove Lines")
    FOLLOW_UP = "follow_up", _("Create Follow-up Segment")


# Steps that select contacts by criteria: what `Save Criteria` keeps and `Reuse Criteria`
# replays. Adding or removing particular contacts by hand is not a criterion.
CRITERIA_STEP_ACTIONS = (
    StepAction.ADD,
    StepAction.REDUCE,
    StepAction.REFINE,
    StepAction.REUSE_SEGMENT,
)


class StepFields(models.Model):
    """What a step did: its number, its action and its criteria, to replay and in words."""

    number = models.PositiveIntegerField(_("no."))
    action = models.CharField(_("action"), max_length=20, choices=StepAction.choices)
    # The criteria as the form posts them (binding the form to them again selects the same
    # way), or what else the action needs to be described and replayed.
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    described = models.TextField(_("criteria"), blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.number}: {self.get_action_display()}"


class SegmentStep(StepFields):
    """One numbered change of a segment's contacts, newest last; `Go Back` undoes the last one.

    The lines a step added carry its number (`SegmentLine.step`); the lines it removed are kept,
    as they were, in `RemovedLine`. So undoing a step is two set-based statements whatever its
    size, and undoing steps one by one from the newest gives back each earlier state exactly.
    """

    # The unique (segment, number) index serves every read of a segment's steps.
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="steps", db_index=False
    )
    added = models.PositiveIntegerField(_("lines added"), default=0)
    removed = models.PositiveIntegerField(_("lines removed"), default=0)
    lines_before = models.PositiveIntegerField(_("lines before"), default=0)
    lines_after = models.PositiveIntegerField(_("lines after"), default=0)
    created_at = models.DateTimeField(_("date"), auto_now_add=True)
    created_by = audit_user_field(_("user"))

    class Meta:
        verbose_name = _("criteria step")
        verbose_name_plural = _("criteria steps")
        ordering = ["segment", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "number"], name="segmentstep_number_once")
        ]

    @property
    def is_criteria(self) -> bool:
        return self.action in CRITERIA_STEP_ACTIONS


class RemovedLine(models.Model):
    """A line that a step removed, kept with every value it had so that `Go Back` can put it
    back (personalised values included).

    Written by one ``DELETE ... RETURNING`` feeding an ``INSERT ... SELECT`` and read back the
    same way, never row by row. The columns are the line's, under the same names; references
    are bare ids without constraints (a contact deleted meanwhile is skipped by Go Back).
    """

    step = models.ForeignKey(SegmentStep, on_delete=models.CASCADE, related_name="removed_lines")
    line_id = models.BigIntegerField()
    line_step = models.PositiveIntegerField(null=True)  # the line's own `step`
    contact_id = models.BigIntegerField()
    template_id = models.BigIntegerField(null=True)
    salesperson_id = models.BigIntegerField(null=True)
    campaign_id = models.BigIntegerField(null=True)
    interaction_description = models.CharField(max_length=100)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    language = models.CharField(max_length=2)
    correspondence_type = models.CharField(max_length=10)
    information_flow = models.CharField(max_length=10)
    initiated_by = models.CharField(max_length=10)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2)
    unit_duration = models.DecimalField(max_digits=10, decimal_places=2)
    campaign_target = models.BooleanField()
    campaign_response = models.BooleanField()
    date = models.DateField(null=True)
    personalised = models.BooleanField()
    created_at = models.DateTimeField()
    created_by_id = models.IntegerField(null=True)
    updated_at = models.DateTimeField()
    updated_by_id = models.IntegerField(null=True)

    class Meta:
        verbose_name = _("removed segment line")
        verbose_name_plural = _("removed segment lines")

    def __str__(self) -> str:
        return f"{self.step_id} / {self.line_id}"


class SavedCriteria(Tracked):
    """`Save Criteria`: a segment's criteria steps under a code, for `Reuse Criteria`."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    description = models.CharField(_("description"), max_length=100)

    class Meta:
        verbose_name = _("saved criteria")
        verbose_name_plural = _("saved criteria")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class SavedCriteriaStep(StepFields):
    saved = models.ForeignKey(
        SavedCriteria, on_delete=models.CASCADE, related_name="steps", db_index=False
    )

    class Meta:
        verbose_name = _("saved criteria step")
        verbose_name_plural = _("saved criteria steps")
        ordering = ["saved", "number"]
        constraints = [
            models.UniqueConstraint(fields=["saved", "number"], name="savedcriteriastep_once")
        ]


class FollowUpResponse(models.TextChoices):
    """Whom `Create Follow-up Segment` of a logged segment takes (by their response)."""

    ALL = "all", _("All its contacts")
    ANSWERED = "answered", _("Those who answered")
    NOT_ANSWERED = "not_answered", _("Those who did not answer since it was logged")
    EVALUATED = "evaluated", _("Those evaluated as")
    ATTEMPT_FAILED = "attempt_failed", _("Those whose attempt failed")
