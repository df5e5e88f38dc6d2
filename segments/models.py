"""Segments with their lines, and logged segments (spec section 4)."""

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
