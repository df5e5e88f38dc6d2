"""Views: thin, function-based; objects come through the access helpers, writes through services.

Reading is open to everyone signed in (one shared book); every write checks the
permission of the role that may do it.
"""

from __future__ import annotations

import posixpath
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat, yesno
from django.template.defaultfilters import time as time_filter
from django.template.defaultfilters import urlencode as urlencode_filter
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from markupsafe import Markup

from contacts.built_once import BuiltOnceQuery
from contacts.forms import PeriodForm
from contacts.models import CorrespondenceType
from contacts.selectors import get_contact_for_user, get_salesperson_for_user
from contacts.services import RecordGone
from contacts.web import (
    FixedPart,
    PageLabels,
    SetupPages,
    delete_page,
    id_from,
    link_prefix,
    next_url,
    render_rows,
    save_form,
)
from interactions import csv_export, selectors, services
from interactions.forms import (
    EVALUATION_BLANK,
    EVALUATION_CHOICES,
    CommentForm,
    DraftFilterForm,
    EntryFilterForm,
    EntrySelectionForm,
    EvaluateForm,
    GroupForm,
    TemplateContentForm,
    TemplateForm,
)
from interactions.models import (
    DeliveryStatus,
    DraftStatus,
    Evaluation,
    InteractionComment,
    InteractionGroup,
    InteractionLogEntry,
    InteractionTemplate,
    InteractionTemplateContent,
)
from interactions.selectors import get_draft_for_user
from interactions.wizard import DraftStorage, require_logging_role

ENTRY_PAGE_SIZE = 50
DRAFT_PAGE_SIZE = 50
PAGING_KEYS = ("after", "before")


# --- Interaction Log Entries ----------------------------------------------------------------


def _filter_query(request: HttpRequest) -> str:
    """The list's filters as a query string, without the paging position and sort order."""
    query: QueryDict = request.GET.copy()
    for key in (*PAGING_KEYS, "sort"):
        query.pop(key, None)
    return query.urlencode()


def _filtered_entries(request: HttpRequest):
    """The list's filter form and the entries it selects (None while the form has errors)."""
    form = EntryFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, selectors.filter_entries(InteractionLogEntry.objects.all(), form.cleaned_data)


@require_safe
def entry_list(request: HttpRequest) -> HttpResponse:
    form = EntryFilterForm(request.GET)
    sort = request.GET.get("sort", "")
    if sort not in selectors.ENTRY_ORDERS:
        sort = selectors.DEFAULT_ENTRY_ORDER
    page = None
    if form.is_valid():
        page = selectors.entry_page(
            form.cleaned_data,
            after=selectors.EntryCursor.parse(request.GET.get("after")),
            before=selectors.EntryCursor.parse(request.GET.get("before")),
            size=ENTRY_PAGE_SIZE,
            order=sort,
        )
    user = request.user
    can_cancel = user.has_perm("interactions.cancel_interactionlogentry")
    can_evaluate = user.has_perm("interactions.evaluate_interactionlogentry")
    rows = _entry_rows(page.entries, selectable=can_cancel or can_evaluate) if page else []
    context = {
        "nav": "entries",
        "form": form,
        "page": page,
        "rows": rows,
        "sort": sort,
        "filtered": form.has_changed(),
        "filter_summary": _filter_summary(form),
        "create_params": _create_interaction_params(form),
        "filter_query": _filter_query(request),
        "can_cancel": can_cancel,
        "can_evaluate": can_evaluate,
        "can_delete": user.has_perm("interactions.delete_interactionlogentry"),
        "can_export": user.has_perm("interactions.export_interactionlogentry"),
        "entry_actions": ENTRY_ACTIONS(can_cancel=can_cancel, can_evaluate=can_evaluate),
        "entry_columns": ENTRY_COLUMNS(),
    }
    return render(request, "interactions/entry_list.html", context)


# The list's action bar and its fixed column headers: ~25 tags through the Django template
# engine on every request, the same HTML for a language and the user's two permissions
# (docs/benchmarks.md, "the entry list, third pass").
ENTRY_ACTIONS = FixedPart("interactions/_entry_actions.html", evaluations=EVALUATION_CHOICES)
ENTRY_COLUMNS = FixedPart("interactions/_entry_columns.html")


def _filter_summary(form) -> str:
    """The filters in use, in one line for the closed Filters panel ("Salesperson: BRAM · ...")."""
    # Each field's value() asked for once: Django works it out from the data on every call.
    values = ((field.label, field.value()) for field in form)
    return " · ".join(f"{label}: {value}" for label, value in values if value not in (None, ""))


DELIVERY_BADGES = {
    DeliveryStatus.SENT: "badge-ok",
    DeliveryStatus.ERROR: "badge-danger",
    DeliveryStatus.PENDING: "badge-warn",
    DeliveryStatus.SENDING: "badge-warn",
}


def _entry_rows(entries: list[selectors.EntryRow], *, selectable: bool) -> SafeString:
    """The list's table rows, from the autoescaping partial interactions/_entry_rows.html.

    The template engine spent most of a 50-row page's time on the fourteen cells (reverse() for
    four links, choice labels, date filters): the partial gets the link prefixes and labels
    worked out once, and dates and amounts formatted once per distinct value (rows of a page
    share few), all looked up by subscript: a call from the partial, or a dict's key read as an
    attribute (Jinja2 tries the attribute first, and raises and catches its absence), cost ~0.4
    ms a page more (docs/benchmarks.md "Part M"). The columns are the page template's <thead>.

    Every link, label and formatted value is escaped here, once a page (`_escaped`): the
    partial writes them, and the rows' keys, without escaping them again on every row (Part S).
    """
    return render_rows(
        "interactions/_entry_rows.html",
        {
            "entries": entries,
            "selectable": selectable,
            **_entry_row_parts(),
            "dates": _escaped(
                {d: date_format(d, "SHORT_DATE_FORMAT") for d in {row.date for row in entries}}
            ),
            "times": _escaped(
                {t: t.strftime("%H:%M") if t else "" for t in {row.time for row in entries}}
            ),
            "costs": _escaped({v: localize(v) for v in {row.cost for row in entries}}),
            "durations": _escaped(
                {v: floatformat(v, "-2") for v in {row.duration for row in entries}}
            ),
        },
    )


def _entry_row_parts() -> dict[str, Any]:
    """The rows' link prefixes, labels and choice labels, escaped: the same for every page in
    a language (and URL configuration), so kept per process (~20 gettext and escapes a page)."""
    key = (get_language(), get_script_prefix(), get_urlconf())
    if (parts := _ENTRY_ROW_PARTS.get(key)) is not None:
        return parts
    parts = _ENTRY_ROW_PARTS[key] = {
        "links": SimpleNamespace(
            entry=Markup.escape(link_prefix("interactions:entry_detail")),
            contact=Markup.escape(link_prefix("contacts:contact_detail")),
            template=Markup.escape(link_prefix("interactions:template_detail")),
            salesperson=Markup.escape(link_prefix("contacts:salesperson_detail")),
        ),
        "labels": SimpleNamespace(
            select=Markup.escape(_("Select entry")),
            canceled=Markup.escape(_("Canceled")),
            cost=Markup.escape(_("Cost (LCY)")),
            duration=Markup.escape(_("Duration (Min.)")),
        ),
        "correspondence": _shown_labels(CorrespondenceType.choices),
        "evaluations": _shown_labels(Evaluation.choices),
        "delivery": _escaped({v: label for v, label in DeliveryStatus.choices if v}),
        "delivery_css": _escaped(DELIVERY_BADGES),
    }
    return parts


_ENTRY_ROW_PARTS: dict[tuple, dict[str, Any]] = {}


class _ShownLabels(dict):
    """Labels by value; a value without one (blank, or unknown) shows nothing. Unlike a
    defaultdict, looking one up adds nothing: the labels are shared by every request."""

    def __missing__(self, key) -> Markup:
        return Markup()


def _escaped(values: dict) -> dict[Any, Markup]:
    """``values`` with each value as escaped HTML (Jinja2's escaping: ' as &#39;)."""
    return {key: Markup.escape(value) for key, value in values.items()}


def _shown_labels(choices) -> _ShownLabels:
    """A choice's label (escaped) by its value; a blank or unknown value shows nothing."""
    return _ShownLabels(_escaped({value: label for value, label in choices if value}))


def _create_interaction_params(form: EntryFilterForm) -> dict[str, int]:
    """`Create Interaction` on the list pre-fills what the list is filtered on."""
    if not form.is_valid():
        return {}
    data = form.cleaned_data
    contact = data.get("contact") or data.get("company")
    prefill = {
        "prefill_contact": contact.pk if contact else None,
        "prefill_salesperson": data["salesperson"].pk if data.get("salesperson") else None,
        "campaign": data["campaign"].pk if data.get("campaign") else None,
    }
    return {key: value for key, value in prefill.items() if value is not None}


@permission_required("interactions.cancel_interactionlogentry", raise_exception=True)
@require_POST
def entry_switch_canceled(request: HttpRequest) -> HttpResponse:
    """`Switch Check Mark in Canceled`: a confirmation with the counts, then the switch."""
    back = next_url(request, reverse("interactions:entry_list"))
    form = EntrySelectionForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("entry", []):
            messages.error(request, error)
        return redirect(back)
    if "confirm" not in request.POST:
        entries = InteractionLogEntry.objects.filter(pk__in=form.entry_ids)
        context = {
            "nav": "entries",
            "switch": selectors.canceled_switch(entries),
            "entries": entries.select_related("contact", "logged_segment").newest_first(),
            "entry_ids": form.entry_ids,
            "next": back,
        }
        return render(request, "interactions/entry_switch_canceled.html", context)
    switch = services.entry_switch_canceled(user=request.user, entry_ids=form.entry_ids)
    if switch.changes:
        messages.success(
            request,
            _("%(canceled)s canceled, %(uncanceled)s un-canceled.")
            % {
                "canceled": _entries(len(switch.to_cancel)),
                "uncanceled": _entries(len(switch.to_uncancel)),
            },
        )
    if switch.refused:
        messages.warning(request, _refused_message(len(switch.refused)))
    return redirect(back)


def _entries(count: int) -> str:
    return ngettext("%(count)d entry", "%(count)d entries", count) % {"count": count}


def _refused_message(count: int) -> str:
    return ngettext(
        "%(count)d entry stays canceled: its logged segment is canceled.",
        "%(count)d entries stay canceled: their logged segment is canceled.",
        count,
    ) % {"count": count}


@permission_required("interactions.evaluate_interactionlogentry", raise_exception=True)
@require_POST
def entry_evaluate(request: HttpRequest) -> HttpResponse:
    """`Evaluate Interaction` on the selected entries."""
    back = next_url(request, reverse("interactions:entry_list"))
    form = EvaluateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    evaluation = form.cleaned_data["evaluation"]
    count = services.entry_evaluate(
        user=request.user, entry_ids=form.entry_ids, evaluation=evaluation
    )
    messages.success(
        request,
        ngettext(
            "Evaluation of %(count)d entry set to %(evaluation)s.",
            "Evaluation of %(count)d entries set to %(evaluation)s.",
            count,
        )
        % {"count": count, "evaluation": Evaluation(evaluation).label},
    )
    return redirect(back)


@permission_required("interactions.delete_interactionlogentry", raise_exception=True)
@require_http_methods(["GET", "POST"])
def entry_delete_canceled(request: HttpRequest) -> HttpResponse:
    """`Delete Canceled Entries` of the list's current filter: confirm with the count first."""
    filter_query = _filter_query(request)
    back = reverse("interactions:entry_list") + (f"?{filter_query}" if filter_query else "")
    form, entries = _filtered_entries(request)
    if entries is None:
        messages.error(request, _("Correct the filters first."))
        return redirect(back)
    changed = False
    if request.method == "POST":
        try:
            expected = int(request.POST.get("expected", ""))
        except ValueError:
            expected = -1  # never matches: the page asks again with the real count
        try:
            count = services.entry_delete_canceled(
                user=request.user, entries=entries, expected=expected
            )
        except services.CanceledCountChanged:
            changed = True
        else:
            messages.success(
                request, _("%(entries)s deleted.") % {"entries": _entries(count).capitalize()}
            )
            return redirect(back)
    context = {
        "nav": "entries",
        "form": form,
        "count": selectors.deletable_canceled(entries).count(),
        "changed": changed,
        "filter_query": filter_query,
        "back": back,
        "filters": [
            (field.label, field.value()) for field in form if field.value() not in (None, "")
        ],
    }
    return render(request, "interactions/entry_delete_canceled.html", context)


@permission_required("interactions.export_interactionlogentry", raise_exception=True)
@require_safe
def entry_export(request: HttpRequest) -> HttpResponse:
    """The list's filtered rows as CSV, streamed: memory stays flat at a million rows."""
    _form, entries = _filtered_entries(request)
    if entries is None:
        messages.error(request, _("Correct the filters first."))
        filter_query = _filter_query(request)
        return redirect(reverse("interactions:entry_list") + f"?{filter_query}")
    response = StreamingHttpResponse(
        _csv_lines(entries.newest_first()), content_type="text/csv; charset=utf-8"
    )
    filename = f"interaction-log-entries-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_lines(entries):
    """The browser's file: the page's words in the user's language (the command's codes are
    for scripts)."""
    rows = csv_export.entry_rows(entries, labelled=True)
    return csv_export.stream_lines(csv_export.labelled_header(), rows)


# --- The entry page -------------------------------------------------------------------------


# The entry's comments (`entry.comments`, in the model's order) by SQL compiled once per process.
_COMMENTS = BuiltOnceQuery(
    lambda entry: InteractionComment.objects.filter(entry=entry).select_related(
        "created_by", "updated_by"
    ),
    entry=-1,
)


@require_safe
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.get_entry_for_user(request, pk)
    user = request.user
    comments = _COMMENTS.fetch(entry=entry.pk)
    for comment in comments:
        comment.editable = comment.is_editable_by(user)
    context = {
        "nav": "entries",
        "entry": entry,
        "comments": comments,
        "comment_form": CommentForm(),  # its labels; the page writes its inputs out
        "comment_date": timezone.localdate(),
        "can_cancel": user.has_perm("interactions.cancel_interactionlogentry"),
        "can_evaluate": user.has_perm("interactions.evaluate_interactionlogentry"),
        "can_resend": user.has_perm("interactions.add_interactionlogentry"),
        # (value, label, selected): an entry not evaluated shows "(blank)" selected.
        "evaluations": [
            (value, label, value == (entry.evaluation or EVALUATION_BLANK))
            for value, label in EVALUATION_CHOICES
        ],
        "entry_fields": _entry_fields(entry),
    }
    return render(request, "interactions/entry_detail.html", context)


_ENTRY_LABELS = PageLabels(
    lambda: {
        "general": _("General"),
        "entry_no": _("Entry No."),
        "contact": _("Contact"),
        "contact_company": _("Contact company"),
        "date": _("Date"),
        "time": _("Time of interaction"),
        "description": _("Description"),
        "template": _("Interaction template"),
        "group": _("Interaction group"),
        "salesperson": _("Salesperson"),
        "information_flow": _("Information flow"),
        "initiated_by": _("Initiated by"),
        "correspondence_type": _("Correspondence Type"),
        "language": _("Language"),
        "cost_and_result": _("Cost and result"),
        "cost": _("Cost (LCY)"),
        "duration": _("Duration (Min.)"),
        "evaluation": _("Evaluation"),
        "attempt_failed": _("Attempt failed"),
        "canceled": _("Canceled"),
        "campaign": _("Campaign"),
        "campaign_target": _("Campaign target"),
        "campaign_response": _("Campaign response"),
        "opportunity": _("Opportunity"),
        "segment_no": _("Segment No."),
        "logged_segment": _("Logged segment"),
        "logged_by": _("Logged by"),
        "logged_at": _("Logged at"),
        "last_changed": _("Last changed"),
    }
)


def _entry_fields(entry: InteractionLogEntry) -> SafeString:
    """The entry page's panels General and Cost and result, from the Jinja2 partial
    interactions/_entry_fields.html.

    Through the Django template engine they were ~30 `{% translate %}`, two `{% url %}`, five
    `get_absolute_url()` and a dozen filters and choice labels: about a third of the page's
    CPU. The partial gets its labels kept per language and the values formatted here, each
    escaped as the Django engine escapes them (`PageLabels`), so the page is what it was.
    ``entry`` comes from `get_entry_for_user` (its ten related rows loaded).
    """
    company = entry.contact_company
    shown = {
        "contact": entry.contact.name,
        "contact_number": entry.contact.number,
        "company": company.name if company else "",
        "company_number": company.number if company else "",
        "description": entry.description,
        "template": str(entry.template),
        "group": str(entry.group),
        "salesperson": str(entry.salesperson) if entry.salesperson else "",
        "information_flow": entry.get_information_flow_display(),
        "initiated_by": entry.get_initiated_by_display(),
        "correspondence_type": entry.get_correspondence_type_display(),
        "language": entry.get_language_display(),
        "evaluation": entry.get_evaluation_display(),
        "attempt_failed": yesno(entry.attempt_failed),
        "canceled": yesno(entry.canceled),
        "campaign": str(entry.campaign) if entry.campaign else "",
        "campaign_target": yesno(entry.campaign_target),
        "campaign_response": yesno(entry.campaign_response),
        "opportunity": str(entry.opportunity) if entry.opportunity else "",
        "segment_no": entry.segment_no,
        "logged_segment": str(entry.logged_segment) if entry.logged_segment else "",
        "logged_by": _user_name(entry.logged_by),
        "updated_by": _user_name(entry.updated_by),
    }
    shown = {name: escape(value) for name, value in shown.items()}
    # Formatted as the template's filters did; dates, times and numbers need no escaping.
    shown.update(
        date=date_format(entry.date, "SHORT_DATE_FORMAT"),
        time=time_filter(entry.time, "H:i"),
        cost=localize(entry.cost),
        duration=floatformat(entry.duration, "-2"),
        logged_at=_short_datetime(entry.logged_at),
        updated_at=_short_datetime(entry.updated_at),
        campaign_query="",
        campaign_title="",
        opportunity_query="",
        opportunity_title="",
        logged_segment_url="",
    )
    if entry.campaign:
        number = entry.campaign.number
        shown["campaign_query"] = urlencode_filter(number)
        # As {% blocktranslate %}: the value escaped, the translation as it is.
        shown["campaign_title"] = mark_safe(  # noqa: S308
            _("Log entries of campaign %(campaign)s") % {"campaign": escape(number)}
        )
    if entry.opportunity:
        number = entry.opportunity.number
        shown["opportunity_query"] = urlencode_filter(number)
        shown["opportunity_title"] = mark_safe(  # noqa: S308
            _("Log entries of opportunity %(opportunity)s") % {"opportunity": escape(number)}
        )
    if entry.logged_segment:
        shown["logged_segment_url"] = entry.logged_segment.get_absolute_url()
    links = SimpleNamespace(
        contact=link_prefix("contacts:contact_detail"),
        salesperson=link_prefix("contacts:salesperson_detail"),
        template=link_prefix("interactions:template_detail"),
        group=link_prefix("interactions:group_detail"),
        entry_list=reverse("interactions:entry_list")
        if entry.campaign_id or entry.opportunity_id
        else "",
    )
    return render_rows(
        "interactions/_entry_fields.html",
        {
            "entry": entry,
            "shown": SimpleNamespace(**shown),
            "labels": _ENTRY_LABELS(),
            "links": links,
        },
    )


def _user_name(user) -> str:
    """As the template's ``user.get_full_name|default:user.get_username``; "" for no user."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _short_datetime(value) -> str:
    """As the template's ``value|date:"SHORT_DATETIME_FORMAT"`` (in the current time zone)."""
    return date_filter(template_localtime(value), "SHORT_DATETIME_FORMAT")


def _stream_file(name: str, filename: str = "") -> FileResponse:
    """A stored file as a download named ``filename`` (else the stored file's own name), read
    through Django's storage API (any backend)."""
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404(_("The attachment file is missing from storage.")) from exc
    filename = filename or posixpath.basename(name)
    return FileResponse(handle, as_attachment=True, filename=filename)


@require_safe
def entry_attachment(request: HttpRequest, pk: int) -> FileResponse:
    """The entry's attachment; anyone who can see the entry can download it."""
    entry = selectors.get_entry_for_user(request, pk)
    if not entry.attachment:
        raise Http404(_("This entry has no attachment."))
    return _stream_file(entry.attachment.name, entry.attachment_filename)


@permission_required("interactions.add_interactionlogentry", raise_exception=True)
@require_POST
def entry_resend(request: HttpRequest, pk: int) -> HttpResponse:
    """`Resend` for an entry in Error: queued again for the next delivery run."""
    entry = selectors.get_entry_for_user(request, pk)
    try:
        services.entry_resend(entry=entry, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Queued for delivery again; the next delivery run sends it."))
    return redirect(entry)


@permission_required("interactions.evaluate_interactionlogentry", raise_exception=True)
@require_POST
def comment_create(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.get_entry_for_user(request, pk)
    form = CommentForm(request.POST)
    comment = save_form(
        form,
        lambda data: services.comment_create(
            user=request.user, entry=entry, date=data["date"], text=data["comment"]
        ),
    )
    if comment is None:
        return render(
            request,
            "interactions/comment_form.html",
            {"nav": "entries", "entry": entry, "form": form},
        )
    messages.success(request, _("Comment added."))
    return redirect(reverse("interactions:entry_detail", args=[entry.pk]) + "#comments-heading")


def _get_comment_to_change(request: HttpRequest, pk: int, comment_pk: int):
    """The entry and one of its comments, for its author or a Marketing Manager (403 else)."""
    entry = selectors.get_entry_for_user(request, pk)
    comment = get_object_or_404(
        InteractionComment.objects.select_related("created_by"), pk=comment_pk, entry=entry
    )
    if not comment.is_editable_by(request.user):
        raise PermissionDenied
    return entry, comment


@permission_required("interactions.evaluate_interactionlogentry", raise_exception=True)
@require_http_methods(["GET", "POST"])
def comment_edit(request: HttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    entry, comment = _get_comment_to_change(request, pk, comment_pk)
    form = CommentForm(request.POST or None, instance=comment)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.comment_update(
                user=request.user, comment=comment, date=data["date"], text=data["comment"]
            ),
        )
        if saved is not None:
            messages.success(request, _("Comment saved."))
            return redirect(
                reverse("interactions:entry_detail", args=[entry.pk]) + "#comments-heading"
            )
    return render(
        request,
        "interactions/comment_form.html",
        {"nav": "entries", "entry": entry, "form": form, "comment": comment},
    )


@permission_required("interactions.delete_interactioncomment", raise_exception=True)
@require_http_methods(["GET", "POST"])
def comment_delete(request: HttpRequest, pk: int, comment_pk: int) -> HttpResponse:
    entry, comment = _get_comment_to_change(request, pk, comment_pk)
    back = reverse("interactions:entry_detail", args=[entry.pk]) + "#comments-heading"
    if request.method == "POST":
        try:
            services.comment_delete(user=request.user, comment=comment)
        except RecordGone as gone:
            messages.error(request, gone.message)
        else:
            messages.success(request, _("Comment deleted."))
        return redirect(back)
    context = {"nav": "entries", "entry": entry, "comment": comment, "back": back}
    return render(request, "interactions/comment_confirm_delete.html", context)


# --- Postponed interactions -----------------------------------------------------------------


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


# --- Templates and groups -------------------------------------------------------------------


def _period_context(request: HttpRequest, totals) -> dict:
    """The statistics panel: the period form and the figures of ``totals`` in that period."""
    period = PeriodForm(request.GET)
    valid = period.is_valid()
    return {
        "period": period,
        "statistics": totals.statistics(**period.period) if valid else None,
    }


# A setup record the log refers to stays (the database PROTECTs it); its delete page says why.
HISTORY_NOTE = gettext_lazy("The history must stay complete, so what it refers to stays too.")


@require_safe
def template_list(request: HttpRequest) -> HttpResponse:
    templates = InteractionTemplate.objects.select_related("group").order_by("code")
    return render(
        request,
        "interactions/template_list.html",
        {"nav": "templates", "rows": templates},
    )


@require_safe
def template_detail(request: HttpRequest, pk: int) -> HttpResponse:
    template = selectors.get_template_for_user(request, pk)
    context = {
        "nav": "templates",
        "template": template,
        "contents": template.contents.all(),
        **_period_context(request, template.day_totals),
    }
    return render(request, "interactions/template_detail.html", context)


template_create, template_edit, template_delete = SetupPages(
    model=InteractionTemplate,
    form=TemplateForm,
    get=selectors.get_template_for_user,
    create=services.template_create,
    update=services.template_update,
    delete=services.template_delete,
    record="template",
    key="code",
    nav="templates",
    list_url="interactions:template_list",
    detail_url="interactions:template_detail",
    heading=gettext_lazy("Interaction Templates"),
    new_title=gettext_lazy("New Interaction Template"),
    edit_title=gettext_lazy("Edit Interaction Template %(code)s"),
    created=gettext_lazy(
        "Template %(template)s created. Add its content (subject, body, attachment)."
    ),
    saved=gettext_lazy("Template %(template)s saved."),
    delete_note=HISTORY_NOTE,
).views()


def _get_content(request: HttpRequest, template_pk: int, pk: int) -> InteractionTemplateContent:
    contents = InteractionTemplateContent.objects.select_related("template")
    return get_object_or_404(contents, pk=pk, template_id=template_pk)


@permission_required("interactions.add_interactiontemplatecontent", raise_exception=True)
@require_http_methods(["GET", "POST"])
def template_content_create(request: HttpRequest, pk: int) -> HttpResponse:
    template = selectors.get_template_for_user(request, pk)
    form = TemplateContentForm(request.POST or None, request.FILES or None, template=template)
    if request.method == "POST":
        content = save_form(
            form,
            lambda data: services.template_content_create(
                user=request.user, template=template, data=data
            ),
        )
        if content is not None:
            messages.success(request, _("Content added."))
            return redirect("interactions:template_detail", pk=template.pk)
    return render(
        request,
        "interactions/template_content_form.html",
        {"nav": "templates", "form": form, "template": template},
    )


@permission_required("interactions.change_interactiontemplatecontent", raise_exception=True)
@require_http_methods(["GET", "POST"])
def template_content_edit(request: HttpRequest, pk: int, content_pk: int) -> HttpResponse:
    content = _get_content(request, pk, content_pk)
    template = content.template
    form = TemplateContentForm(
        request.POST or None, request.FILES or None, instance=content, template=template
    )
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.template_content_update(
                user=request.user, content=content, data=data
            ),
        )
        if saved is not None:
            messages.success(request, _("Content saved."))
            return redirect("interactions:template_detail", pk=template.pk)
    return render(
        request,
        "interactions/template_content_form.html",
        {"nav": "templates", "form": form, "template": template, "content": content},
    )


@permission_required("interactions.delete_interactiontemplatecontent", raise_exception=True)
@require_http_methods(["GET", "POST"])
def template_content_delete(request: HttpRequest, pk: int, content_pk: int) -> HttpResponse:
    content = _get_content(request, pk, content_pk)
    back = reverse("interactions:template_detail", args=[pk])
    return delete_page(
        request,
        record=content,
        delete=lambda: services.template_content_delete(user=request.user, content=content),
        back=back,
        done=back,
        nav="templates",
        note=HISTORY_NOTE,
    )


@require_safe
def template_content_attachment(request: HttpRequest, pk: int, content_pk: int) -> FileResponse:
    content = _get_content(request, pk, content_pk)
    if not content.attachment:
        raise Http404(_("This content has no attachment."))
    return _stream_file(content.attachment.name)


@require_safe
def group_list(request: HttpRequest) -> HttpResponse:
    groups = InteractionGroup.objects.annotate(template_count=Count("templates")).order_by("code")
    return render(request, "interactions/group_list.html", {"nav": "templates", "rows": groups})


@require_safe
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = selectors.get_group_for_user(request, pk)
    context = {
        "nav": "templates",
        "group": group,
        "templates": group.templates.order_by("code"),
        **_period_context(request, group.day_totals),
    }
    return render(request, "interactions/group_detail.html", context)


group_create, group_edit, group_delete = SetupPages(
    model=InteractionGroup,
    form=GroupForm,
    get=selectors.get_group_for_user,
    create=services.group_create,
    update=services.group_update,
    delete=services.group_delete,
    record="group",
    key="code",
    nav="templates",
    list_url="interactions:group_list",
    detail_url="interactions:group_detail",
    heading=gettext_lazy("Interaction Groups"),
    new_title=gettext_lazy("New Interaction Group"),
    edit_title=gettext_lazy("Edit Interaction Group %(code)s"),
    created=gettext_lazy("Group %(group)s created."),
    saved=gettext_lazy("Group %(group)s saved."),
    delete_note=HISTORY_NOTE,
).views()


# --- Create Interaction: starting, resuming, cancelling and deleting drafts ------------------
# (The steps are the wizards: interactions.wizard, segments.wizard.)


def _posted_id(request: HttpRequest, name: str) -> int | None:
    return id_from(request.POST.get(name, ""))


@require_POST
def wizard_start(request: HttpRequest) -> HttpResponse:
    """`Create Interaction`: a new draft, then step 1 (a POST: a link prefetch or a crawler
    makes no drafts). contact= and salesperson= fix the context; campaign=, opportunity=,
    prefill_contact= and prefill_salesperson= (the entry list's filter) only pre-fill."""
    require_logging_role(request)
    contact = salesperson = None
    if (contact_id := _posted_id(request, "contact")) is not None:
        contact = get_contact_for_user(request, contact_id)
        if contact.privacy_blocked:
            messages.error(
                request,
                _("%(contact)s is privacy blocked: no new interactions can be logged for it.")
                % {"contact": contact},
            )
            return redirect(contact)
    if (salesperson_id := _posted_id(request, "salesperson")) is not None:
        salesperson = get_salesperson_for_user(request, salesperson_id)
    names = ("campaign", "opportunity", "prefill_contact", "prefill_salesperson")
    prefill = {name: value for name in names if (value := _posted_id(request, name)) is not None}
    draft = services.draft_start(
        user=request.user,
        contact=contact,
        salesperson=salesperson,
        state=DraftStorage.new_state(prefill=prefill),
    )
    return redirect(draft.wizard_url())


def wizard_resume(request: HttpRequest, draft_id) -> HttpResponse:
    """`Resume`: back to the step the draft was left on (of a finished draft, the wizard says
    what it logged; so below, for a draft a Finish in another tab got first)."""
    draft = get_draft_for_user(request, draft_id)
    require_logging_role(request)
    return redirect(draft.wizard_url())


def wizard_cancel(request: HttpRequest, draft_id) -> HttpResponse:
    """ "Do you want to finish this interaction later?" Yes postpones, No discards."""
    draft = get_draft_for_user(request, draft_id)
    choice = request.POST.get("choice") if request.method == "POST" else None
    if draft.status == DraftStatus.FINISHED:
        return redirect(draft.wizard_url())
    if choice not in ("yes", "no"):
        return render(request, "interactions/wizard_cancel.html", {"draft": draft, "nav": "drafts"})
    started_from = draft.context_contact or draft.context_segment
    try:
        if choice == "yes":
            services.draft_postpone(draft=draft)
        else:
            services.draft_delete(draft=draft)
    except services.DraftFinished:  # its Finish, in another tab, committed first
        return redirect(draft.wizard_url())
    except RecordGone as gone:  # discarded in another tab
        messages.info(request, gone.message)
        return redirect("interactions:draft_list")
    if choice == "yes":
        messages.success(request, _("Saved. You can resume it under Postponed Interactions."))
        return redirect("interactions:draft_list")
    messages.info(request, _("The interaction was discarded."))
    return redirect(started_from or "interactions:entry_list")


def draft_delete(request: HttpRequest, draft_id) -> HttpResponse:
    draft = get_draft_for_user(request, draft_id)
    if request.method != "POST":
        context = {"draft": draft, "nav": "drafts"}
        return render(request, "interactions/draft_confirm_delete.html", context)
    try:
        services.draft_delete(draft=draft)
    except services.DraftFinished:
        return redirect(draft.wizard_url())
    messages.success(request, _("The postponed interaction was deleted."))
    return redirect("interactions:draft_list")
