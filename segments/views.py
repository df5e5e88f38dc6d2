"""Views: thin, function-based; objects come through the access helpers."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from interactions.models import InteractionLogEntry
from segments import selectors

SEGMENT_PAGE_SIZE = 50
LINE_PAGE_SIZE = 100
LOGGED_SEGMENT_PAGE_SIZE = 50


@require_safe
def segment_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.open_segments(), SEGMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.with_line_totals(page.object_list)
    return render(request, "segments/segment_list.html", {"nav": "segments", "page": page})


@require_safe
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = selectors.get_segment_for_user(request, pk)
    # A segment can hold 100,000 lines: show them a page at a time, totals over all of them.
    lines = Paginator(selectors.segment_lines(segment), LINE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "nav": "segments",
        "segment": segment,
        "page": lines,
        "totals": selectors.segment_totals(segment),
        "logged_segment": getattr(segment, "logged_segment", None),
    }
    return render(request, "segments/segment_detail.html", context)


@require_safe
def logged_segment_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.logged_segments(), LOGGED_SEGMENT_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"nav": "logged_segments", "page": page}
    return render(request, "segments/logged_segment_list.html", context)


@require_safe
def logged_segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    logged = selectors.get_logged_segment_for_user(request, pk)
    context = {
        "nav": "logged_segments",
        "logged": logged,
        "canceled_count": InteractionLogEntry.objects.filter(
            logged_segment=logged, canceled=True
        ).count(),
    }
    return render(request, "segments/logged_segment_detail.html", context)
