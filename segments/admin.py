"""Django admin for segments with their lines, and logged segments."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts.admin import TrackedAdminMixin, changelist_link
from segments.models import LoggedSegment, Segment, SegmentLine, SegmentStatus

INTERACTION_FIELDSETS = (
    (
        _("Interaction"),
        {
            "fields": (
                "template",
                "interaction_description",
                "subject",
                "body",
                "language",
                "correspondence_type",
                ("information_flow", "initiated_by"),
                ("unit_cost", "unit_duration"),
            )
        },
    ),
    (_("Campaign"), {"fields": ("campaign", "campaign_target", "campaign_response")}),
)


def is_frozen(segment: Segment | None) -> bool:
    """A logged segment is kept exactly as it was logged."""
    return segment is not None and segment.status == SegmentStatus.LOGGED


class SegmentLineInline(admin.TabularInline):
    """The lines of a small segment; big ones are edited in the segment line list instead.

    Each line is a row of form fields, so a segment with thousands of lines would make a page
    nobody can save (``DATA_UPLOAD_MAX_NUMBER_FIELDS``); see `SegmentAdmin.get_inlines`.
    """

    model = SegmentLine
    fields = (
        "contact",
        "salesperson",
        "interaction_description",
        "unit_cost",
        "unit_duration",
        "personalised",
    )
    autocomplete_fields = ("contact",)
    extra = 0
    max_lines = 50

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("segment", "contact")

    def has_add_permission(self, request, obj=None) -> bool:
        return not is_frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not is_frozen(obj) and super().has_delete_permission(request, obj)


@admin.register(Segment)
class SegmentAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = ("number", "description", "date", "salesperson", "status", "template")
    list_filter = ("status", "salesperson", "date")
    list_select_related = ("salesperson", "template")
    search_fields = ("^number", "description")
    ordering = ("-number",)
    date_hierarchy = "date"
    readonly_fields = ("status", "totals", "lines_link")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "description",
                    "date",
                    "salesperson",
                    "status",
                    "ignore_contact_corres_type",
                    "attachment",
                )
            },
        ),
        *INTERACTION_FIELDSETS,
        (_("Lines"), {"fields": ("totals", "lines_link")}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            fieldsets = [fs for fs in fieldsets if "totals" not in fs[1]["fields"]]
        return fieldsets

    def get_inlines(self, request, obj):
        if obj is not None and obj.lines.count() > SegmentLineInline.max_lines:
            return []
        return [SegmentLineInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_frozen(obj) and super().has_change_permission(request, obj)

    @admin.display(description=_("totals"))
    def totals(self, obj: Segment) -> str:
        kept = obj.line_totals  # kept by the database (`SegmentTotals`)
        totals = {
            "count": kept.line_count,
            "cost": kept.total_cost,
            "duration": kept.total_duration,
        }
        return (
            ngettext("%(count)d line", "%(count)d lines", totals["count"]) % totals
            + ", "
            + _("cost %(cost)s, duration %(duration)s min.") % totals
        )

    @admin.display(description=_("all lines"))
    def lines_link(self, obj: Segment):
        return changelist_link(
            "segments.segmentline", _("Open the lines of this segment"), segment__id__exact=obj.pk
        )


@admin.register(SegmentLine)
class SegmentLineAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = (
        "segment",
        "contact",
        "salesperson",
        "template",
        "unit_cost",
        "unit_duration",
        "personalised",
    )
    list_filter = ("personalised", "segment__status")
    list_select_related = ("segment", "contact", "salesperson", "template")
    search_fields = ("^segment__number", "^contact__number", "^contact__name")
    ordering = ("-id",)
    sortable_by = ()
    autocomplete_fields = ("segment", "contact")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fieldsets = (
        (None, {"fields": ("segment", "contact", "salesperson", "date", "personalised")}),
        *INTERACTION_FIELDSETS,
    )

    def has_change_permission(self, request, obj=None) -> bool:
        return not is_frozen(obj and obj.segment) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not is_frozen(obj and obj.segment) and super().has_delete_permission(request, obj)


@admin.register(LoggedSegment)
class LoggedSegmentAdmin(admin.ModelAdmin):
    """A logged segment is a record of what happened: view it, follow its entries, or delete it.

    View-only: canceling one must cancel its entries with it, which is the app's `Cancel` (a
    service), so the admin does not offer a half-done version of it.
    """

    list_display = (
        "id",
        "segment_no",
        "description",
        "logged_at",
        "logged_by",
        "entry_count",
        "canceled",
    )
    list_filter = ("canceled", "logged_at")
    list_select_related = ("logged_by",)
    search_fields = ("^segment_no", "description")
    ordering = ("-id",)
    date_hierarchy = "logged_at"
    fields = (
        "segment",
        "segment_no",
        "description",
        "logged_at",
        "logged_by",
        "entry_count",
        "entries_link",
        "canceled",
        "updated_at",
        "updated_by",
    )
    readonly_fields = ("entries_link",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("interaction log entries"))
    def entries_link(self, obj: LoggedSegment):
        return changelist_link(
            "interactions.interactionlogentry",
            _("Open the entries of this logged segment"),
            logged_segment__id__exact=obj.pk,
        )
