"""Django admin for contacts, salespeople, campaigns, opportunities and the shared setup.

`TrackedAdminMixin` and `EstimatedCountPaginator` live here because every app's admin uses them
(imports point `segments` -> `interactions` -> `contacts`).
"""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from contacts.models import (
    Campaign,
    Contact,
    MarketingSetup,
    NumberSeries,
    Opportunity,
    Salesperson,
    Tracked,
)

TRACKED_FIELDS = ("created_at", "created_by", "updated_at", "updated_by")


class TrackedAdminMixin:
    """Stamp `created_by`/`updated_by` on every `Tracked` record the admin saves, inlines too.

    The audit columns are shown read-only in a collapsed "Record history" fieldset of the
    change form (never on the add form, where they are still empty).
    """

    def save_model(self, request, obj, form, change):
        if isinstance(obj, Tracked):
            obj.stamp(request.user)
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for obj in instances:
            if isinstance(obj, Tracked):
                obj.stamp(request.user)
            obj.save()
        formset.save_m2m()

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if issubclass(self.model, Tracked):
            fields += tuple(f for f in TRACKED_FIELDS if f not in fields)
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not issubclass(self.model, Tracked):
            return fieldsets
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f not in TRACKED_FIELDS]})
            for name, options in fieldsets
        ]
        if obj is not None:
            fieldsets.append(
                (
                    _("Record history"),
                    {
                        "classes": ["collapse"],
                        "fields": [("created_at", "created_by"), ("updated_at", "updated_by")],
                    },
                )
            )
        return fieldsets


class EstimatedCountPaginator(Paginator):
    """Use the planner's row estimate instead of ``COUNT(*)`` for an unfiltered big table.

    Counting a million log entries scans the whole table on every changelist page; the estimate
    in ``pg_class`` is free and close enough for "about N results" and page links. Filtered
    lists (search, filters) are counted exactly, as are tables the estimate calls small.
    """

    exact_below = 100_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.has_filters():
            estimate = estimated_row_count(queryset)
            if estimate >= self.exact_below:
                return estimate
        return super().count


def estimated_row_count(queryset: QuerySet) -> int:
    """``pg_class.reltuples`` of the queryset's table; -1 while the table was never analysed."""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return row[0] if row else -1


def pinned_if_few(queryset: QuerySet, matches: QuerySet, limit: int) -> QuerySet:
    """``matches`` (``queryset`` narrowed by a search), as a list of keys when there are few.

    A search (an OR of indexed prefix matches) under the changelist's ``ORDER BY ... LIMIT``
    tempts Postgres to walk the ordering index and filter row by row, hoping to meet matches
    early; when they are few, or clustered at the far end ("Z..." ordered by name), that reads
    most of the table. Fetching up to ``limit`` keys without an order is a bitmap OR of the
    indexes, and sorting just those rows is cheap. More matches than that are met early by the
    walk, so the plain filter stays.
    """
    keys = list(matches.order_by().values_list("pk", flat=True)[: limit + 1])
    if len(keys) > limit:
        return matches
    return queryset.filter(pk__in=keys)


def changelist_link(model_label: str, text: str, **filters) -> str:
    """A link to ``model_label``'s admin changelist, filtered by ``filters``."""
    app_label, model_name = model_label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, text)


@admin.register(NumberSeries)
class NumberSeriesAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "description", "prefix", "width", "last_number", "last_code")
    search_fields = ("code", "description")
    ordering = ("code",)

    @admin.display(description=_("last code used"))
    def last_code(self, obj: NumberSeries) -> str:
        return obj.last_code


@admin.register(MarketingSetup)
class MarketingSetupAdmin(TrackedAdminMixin, admin.ModelAdmin):
    """A singleton: it can be added once and never deleted."""

    list_display = (
        "__str__",
        "segment_nos",
        "contact_nos",
        "default_salesperson",
        "default_language",
        "currency_code",
    )
    list_select_related = ("segment_nos", "contact_nos", "default_salesperson")
    fieldsets = (
        (_("Numbering"), {"fields": ("segment_nos", "contact_nos")}),
        (
            _("Defaults"),
            {
                "fields": (
                    "default_correspondence_type",
                    "default_salesperson",
                    "default_language",
                    "currency_code",
                )
            },
        ),
    )

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not MarketingSetup.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Salesperson)
class SalespersonAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "job_title", "email", "phone", "user", "blocked")
    list_filter = ("blocked", ("user", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("code", "name", "email")
    ordering = ("code",)
    autocomplete_fields = ("user",)
    fields = ("code", "name", "job_title", "email", "phone", "user", "blocked")


@admin.register(Contact)
class ContactAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "name",
        "type",
        "company",
        "city",
        "country",
        "salesperson",
        "email",
        "privacy_blocked",
    )
    list_filter = (
        "type",
        "salesperson",
        "language",
        "correspondence_type",
        "exclude_from_segment",
        "privacy_blocked",
    )
    list_select_related = ("company", "salesperson")
    # Only what `Contact.objects.search` matches (prefixes, index range scans); see below.
    search_fields = ("^number", "^name", "^surname", "^email")
    search_help_text = _("Start of the number, name, surname or email.")
    ordering = ("name", "number")
    # Columns that an index can sort; anything else would sort 100,000 rows per page.
    sortable_by = ("number", "name", "city")
    autocomplete_fields = ("company",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator
    readonly_fields = ("related_links",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "type",
                    "name",
                    ("first_name", "surname"),
                    "company",
                    "job_title",
                    "salesperson",
                )
            },
        ),
        (
            _("Communication"),
            {"fields": ("email", "phone", "language", "correspondence_type")},
        ),
        (_("Address"), {"fields": ("address", ("postcode", "city"), "country")}),
        (_("Segments and privacy"), {"fields": ("exclude_from_segment", "privacy_blocked")}),
        (_("Related"), {"fields": ("related_links",)}),
    )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            fieldsets = [fs for fs in fieldsets if "related_links" not in fs[1]["fields"]]
        return fieldsets

    search_pin_limit = 1000

    def get_search_results(self, request, queryset, search_term):
        # The whole term is one prefix ("Acme Tr" finds "Acme Trading"), as in the app's search;
        # the admin's default would AND each word against every field. Autocomplete uses it too.
        if not search_term.strip():
            return queryset, False
        return pinned_if_few(queryset, queryset.search(search_term), self.search_pin_limit), False

    @admin.display(description=_("related records"))
    def related_links(self, obj: Contact):
        if obj.pk is None:
            return "-"
        # A company's history includes its persons' entries.
        entry_filter = "contact_company__id__exact" if obj.is_company else "contact__id__exact"
        links = [
            changelist_link(
                "interactions.interactionlogentry",
                _("Interaction log entries"),
                **{entry_filter: obj.pk},
            ),
            changelist_link(
                "segments.segmentline", _("Segment lines"), **{"contact__id__exact": obj.pk}
            ),
        ]
        if obj.is_company:
            links.insert(
                0, changelist_link("contacts.contact", _("Persons"), company__id__exact=obj.pk)
            )
        return format_html_join(" · ", "{}", ((link,) for link in links))


@admin.register(Campaign)
class CampaignAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "description",
        "status",
        "starting_date",
        "ending_date",
        "salesperson",
    )
    list_filter = ("status", "salesperson")
    list_select_related = ("salesperson",)
    search_fields = ("number", "description")
    ordering = ("number",)
    date_hierarchy = "starting_date"


@admin.register(Opportunity)
class OpportunityAdmin(TrackedAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "description",
        "status",
        "contact_company",
        "salesperson",
        "campaign",
        "estimated_value",
    )
    list_filter = ("status", "salesperson", "campaign")
    list_select_related = ("contact_company", "salesperson", "campaign")
    search_fields = ("number", "description", "^contact_company__name")
    ordering = ("number",)
    autocomplete_fields = ("contact_company",)
