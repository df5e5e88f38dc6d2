"""Django admin for interaction groups and templates, the interaction log and drafts."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts.admin import EstimatedCountPaginator, TrackedAdminMixin
from contacts.models import Contact
from contacts.web import id_from
from interactions.models import (
    NEWEST_FIRST,
    InteractionComment,
    InteractionDraft,
    InteractionGroup,
    InteractionLogEntry,
    InteractionTemplate,
    InteractionTemplateContent,
)


@admin.register(InteractionGroup)
class InteractionGroupAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "description")
    search_fields = ("code", "description")
    ordering = ("code",)


class InteractionTemplateContentInline(admin.StackedInline):
    """One block per language; the blank language is the default content."""

    model = InteractionTemplateContent
    fields = ("language", "subject", "body", "attachment")
    extra = 0

    def get_extra(self, request, obj=None, **kwargs):
        # A new template starts with an empty default-language block to fill in.
        return 1 if obj is None else 0


@admin.register(InteractionTemplate)
class InteractionTemplateAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = (
        "code",
        "description",
        "group",
        "unit_cost",
        "unit_duration",
        "information_flow",
        "initiated_by",
        "correspondence_type",
        "language",
        "campaign",
    )
    list_filter = ("group", "information_flow", "initiated_by", "correspondence_type", "language")
    list_select_related = ("group", "campaign")
    search_fields = ("code", "description")
    ordering = ("code",)
    inlines = (InteractionTemplateContentInline,)
    fieldsets = (
        (None, {"fields": ("code", "description", "group")}),
        (
            _("Defaults for new interactions"),
            {
                "fields": (
                    ("unit_cost", "unit_duration"),
                    ("information_flow", "initiated_by"),
                    "correspondence_type",
                    "ignore_contact_corres_type",
                    "language",
                )
            },
        ),
        (_("Campaign"), {"fields": ("campaign", "campaign_target", "campaign_response")}),
    )


@admin.register(InteractionTemplateContent)
class InteractionTemplateContentAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = ("template", "language", "subject", "attachment")
    list_filter = ("language", "template")
    list_select_related = ("template",)
    search_fields = ("^template__code", "subject")
    ordering = ("template__code", "language")
    fields = ("template", "language", "subject", "body", "attachment")


class InteractionCommentInline(admin.TabularInline):
    model = InteractionComment
    fields = ("date", "comment", "created_by")
    readonly_fields = ("created_by",)
    extra = 0

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "date":
            field.initial = timezone.localdate
        return field

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")


# After logging, only these change: the user's verdict and the delivery state
# the system maintains. Everything else on an existing entry is read-only.
EVALUATION_FIELDS = {
    "canceled": "interactions.cancel_interactionlogentry",
    "evaluation": "interactions.evaluate_interactionlogentry",
}
DELIVERY_FIELDS = (
    "delivery_status",
    "delivery_attempts",
    "delivery_next_try_at",
    "delivery_last_error",
    "delivered_at",
)


@admin.register(InteractionLogEntry)
class InteractionLogEntryAdmin(TrackedAdminMixin, admin.ModelAdmin):
    """The log: read-only but for canceled, evaluation, comments and delivery.

    Entries are written by the Create Interaction wizard and Log Segment (which check privacy
    blocks and copy the template), so the admin cannot add them. The changelist is built for
    a million rows: indexed ordering and sorting only, an estimated total, no date hierarchy
    (its year list is a full scan), no facets, and a search that resolves contacts first.
    """

    list_display = (
        "entry_no",
        "date",
        "contact",
        "description",
        "template",
        "salesperson",
        "information_flow",
        "cost",
        "duration",
        "evaluation",
        "delivery_status",
        "canceled",
    )
    list_display_links = ("entry_no", "description")
    list_filter = (
        "date",
        "canceled",
        "evaluation",
        "information_flow",
        "correspondence_type",
        "delivery_status",
        "group",
        "template",
        "salesperson",
        "campaign",
    )
    list_select_related = ("contact", "template", "salesperson")
    search_fields = ("=segment_no",)
    search_help_text = _(
        "Entry no., segment no., or the start of the contact's number, name, surname or email."
    )
    ordering = NEWEST_FIRST
    sortable_by = ("entry_no", "date")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    inlines = (InteractionCommentInline,)
    search_contact_limit = 1000
    actions = ("cancel_entries", "uncancel_entries")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "entry_no",
                    ("date", "time"),
                    "contact",
                    "contact_company",
                    "description",
                    "subject",
                    "template",
                    "group",
                    "salesperson",
                    "language",
                )
            },
        ),
        (
            _("Classification"),
            {
                "fields": (
                    ("information_flow", "initiated_by"),
                    "correspondence_type",
                    "attempt_failed",
                    ("cost", "duration"),
                )
            },
        ),
        (_("Evaluation"), {"fields": ("evaluation", "canceled")}),
        (
            _("Campaign and opportunity"),
            {"fields": ("campaign", "campaign_target", "campaign_response", "opportunity")},
        ),
        (_("Origin"), {"fields": ("segment_no", "logged_segment", "draft")}),
        (_("Content"), {"fields": ("body", "attachment")}),
        (_("Delivery"), {"fields": DELIVERY_FIELDS}),
        (
            _("Record history"),
            {
                "classes": ["collapse"],
                "fields": (("logged_at", "logged_by"), ("updated_at", "updated_by")),
            },
        ),
    )

    @admin.display(description=_("entry no."), ordering="id")
    def entry_no(self, obj: InteractionLogEntry) -> int:
        return obj.pk

    def has_add_permission(self, request) -> bool:
        return False

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm(EVALUATION_FIELDS["canceled"])

    def get_readonly_fields(self, request, obj=None):
        editable = set(DELIVERY_FIELDS)
        editable.update(
            field for field, perm in EVALUATION_FIELDS.items() if request.user.has_perm(perm)
        )
        locked = [
            f.name for f in self.model._meta.fields if not f.primary_key and f.name not in editable
        ]
        return ("entry_no", *locked)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # Contacts first, as a list of keys when there are not too many: the planner then sees
        # how many entries they have (one contact: an index lookup), where a subquery would be
        # a filter tried on the million entries one by one.
        contacts = Contact.objects.search(term).order_by().values_list("pk", flat=True)
        contact_keys = list(contacts[: self.search_contact_limit + 1])
        if len(contact_keys) <= self.search_contact_limit:
            contacts = contact_keys
        match = Q(segment_no=term) | Q(contact__in=contacts)
        if (key := id_from(term)) is not None:
            match |= Q(pk=key)
        return queryset.filter(match), False

    @admin.action(description=_("Cancel selected entries"), permissions=["cancel"])
    def cancel_entries(self, request, queryset):
        self._set_canceled(request, queryset, canceled=True)

    @admin.action(description=_("Un-cancel selected entries"), permissions=["cancel"])
    def uncancel_entries(self, request, queryset):
        self._set_canceled(request, queryset, canceled=False)

    def _set_canceled(self, request, queryset, *, canceled: bool) -> None:
        count = queryset.exclude(canceled=canceled).update(
            canceled=canceled, updated_by=request.user, updated_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext("%(count)d entry changed.", "%(count)d entries changed.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(InteractionComment)
class InteractionCommentAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = ("entry", "date", "comment", "created_by")
    list_select_related = ("entry", "created_by")
    search_fields = ("=entry__id", "comment")
    list_filter = ("date",)
    ordering = ("-id",)
    raw_id_fields = ("entry",)
    show_full_result_count = False
    fields = ("entry", "date", "comment")


@admin.register(InteractionDraft)
class InteractionDraftAdmin(admin.ModelAdmin):
    """Who owns a draft, its state and its dates, for deleting stale ones; nothing it holds.

    A draft is private to its owner: no contact, template, description or
    wizard state on any admin page, and no search by them. Drafts are written by the wizard
    only, so there is no add page and the change page only shows.
    """

    list_display = ("id", "owner", "status", "created_at", "updated_at")
    list_filter = ("status", "updated_at")
    list_select_related = ("owner",)
    search_fields = ("^owner__username",)
    ordering = ("-updated_at",)
    date_hierarchy = "updated_at"
    fields = ("id", "owner", "status", "created_at", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
