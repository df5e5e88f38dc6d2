"""Views: thin, function-based; objects come through the access helpers."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from interactions import selectors
from interactions.forms import DraftFilterForm, EntryFilterForm
from interactions.models import InteractionGroup, InteractionLogEntry, InteractionTemplate

ENTRY_PAGE_SIZE = 50
DRAFT_PAGE_SIZE = 50


@require_safe
def entry_list(request: HttpRequest) -> HttpResponse:
    form = EntryFilterForm(request.GET)
    page = None
    if form.is_valid():
        entries = selectors.filter_entries(selectors.entry_list_queryset(), form.cleaned_data)
        page = selectors.entry_page(
            entries,
            after=selectors.EntryCursor.parse(request.GET.get("after")),
            before=selectors.EntryCursor.parse(request.GET.get("before")),
            size=ENTRY_PAGE_SIZE,
        )
    context = {
        "nav": "entries",
        "form": form,
        "page": page,
        "filtered": form.has_changed(),
        "create_query": _create_interaction_query(form),
    }
    return render(request, "interactions/entry_list.html", context)


def _create_interaction_query(form: EntryFilterForm) -> str:
    """`Create Interaction` on the list pre-fills what the list is filtered on."""
    if not form.is_valid():
        return ""
    data = form.cleaned_data
    contact = data.get("contact") or data.get("company")
    prefill = {
        "prefill_contact": contact.pk if contact else None,
        "prefill_salesperson": data["salesperson"].pk if data.get("salesperson") else None,
        "campaign": data["campaign"].pk if data.get("campaign") else None,
    }
    return urlencode({key: value for key, value in prefill.items() if value is not None})


@require_safe
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.get_entry_for_user(request, pk)
    context = {"nav": "entries", "entry": entry, "comments": entry.comments.all()}
    return render(request, "interactions/entry_detail.html", context)


@require_safe
def draft_list(request: HttpRequest) -> HttpResponse:
    form = DraftFilterForm(request.GET)
    if form.is_valid():
        drafts = selectors.postponed_drafts(request.user, contact=form.cleaned_data["contact"])
    else:
        drafts = selectors.postponed_drafts(request.user).none()
    page = Paginator(drafts, DRAFT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"nav": "drafts", "form": form, "page": page, "filtered": form.has_changed()}
    return render(request, "interactions/draft_list.html", context)


@require_safe
def template_list(request: HttpRequest) -> HttpResponse:
    templates = InteractionTemplate.objects.select_related("group").order_by("code")
    return render(
        request,
        "interactions/template_list.html",
        {"nav": "templates", "templates": templates},
    )


@require_safe
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = selectors.get_template_for_user(request, pk)
    context = {
        "nav": "templates",
        "template": template,
        "contents": template.contents.all(),
        "statistics": InteractionLogEntry.objects.filter(template=template).statistics(),
    }
    return render(request, "interactions/template_detail.html", context)


@require_safe
def group_list(request: HttpRequest) -> HttpResponse:
    groups = InteractionGroup.objects.annotate(template_count=Count("templates")).order_by("code")
    return render(request, "interactions/group_list.html", {"nav": "templates", "groups": groups})


@require_safe
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = selectors.get_group_for_user(request, pk)
    context = {
        "nav": "templates",
        "group": group,
        "templates": group.templates.order_by("code"),
        "statistics": InteractionLogEntry.objects.filter(group=group).statistics(),
    }
    return render(request, "interactions/group_detail.html", context)
