"""Views: thin, function-based; objects come through the access helpers, writes through services.

Everyone signed in reads every segment. Changing, logging and deleting one is for its owner and
Marketing Managers (`Segment.is_editable_by`); every view that changes a segment goes through
`segment_change_view`, which also sends a request for a segment that was logged meanwhile to its
logged segment with "already logged as logged segment N".
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe
from markupsafe import Markup

from contacts.models import CorrespondenceType, Language, MarketingSetup
from contacts.services import RecordGone
from contacts.web import FixedPart, id_from, link_prefix, render_rows
from interactions import csv_export
from interactions.models import InteractionLogEntry
from interactions.services import draft_start
from segments import selectors, services
from segments.forms import (
    AddContactForm,
    CriteriaForm,
    FollowUpForm,
    LineForm,
    LogSegmentForm,
    ReuseCriteriaForm,
    ReuseForm,
    SaveCriteriaForm,
    SegmentCreateForm,
    SegmentHeaderForm,
)
from segments.models import FollowUpResponse, Segment, SegmentStatus

SEGMENT_PAGE_SIZE = 50
LINE_PAGE_SIZE = 100
LOGGED_SEGMENT_PAGE_SIZE = 50
REUSE_CHOICES_SHOWN = 50
REUSE_PAGE_SIZE = 20
STEPS_SHOWN = 10  # on the segment page; its history page has them all
STEP_PAGE_SIZE = 100

CRITERIA_ACTIONS = {
    "add": (gettext_lazy("Add Contacts"), services.segment_add_contacts),
    "reduce": (gettext_lazy("Reduce Contacts"), services.segment_reduce_contacts),
    "refine": (gettext_lazy("Refine Contacts"), services.segment_refine_contacts),
}


def _posted(request: HttpRequest):
    """The POST data to bind a form to (even when empty), or None on GET."""
    return request.POST if request.method == "POST" else None


def segment_change_view(view):
    """Fetch the segment, refuse it unless the user may change it, and turn "logged meanwhile"
    (before or inside the service) into a message on the logged segment's page, and "deleted
    meanwhile" (`RecordGone`, the segment or one of its lines) into a message on the segment's
    page, or on the list when the segment itself is gone."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, pk: int, *args, **kwargs) -> HttpResponse:
        segment = selectors.get_segment_for_user(request, pk)
        try:
            if segment.status == SegmentStatus.LOGGED:
                raise services.SegmentAlreadyLogged(segment.logged_segment)
            if not segment.is_editable_by(request.user):
                raise PermissionDenied
            return view(request, segment, *args, **kwargs)
        except services.SegmentAlreadyLogged as logged:
            messages.info(request, logged.message)
            return redirect(logged.logged)
        except RecordGone as gone:
            messages.error(request, gone.message)
            if Segment.objects.filter(pk=segment.pk).exists():
                return redirect(segment)
            return redirect("segments:segment_list")

    return wrapper


# --- Segments list, new segment ------------------------------------------------------------------


@require_safe
def segment_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.open_segments(), SEGMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "segments/segment_list.html", {"nav": "segments", "page": page})


@permission_required("segments.add_segment", raise_exception=True)
def segment_create(request: HttpRequest) -> HttpResponse:
    numbered = MarketingSetup.load().segment_nos_id is not None
    if request.method == "POST":
        form = SegmentCreateForm(request.POST)
        if form.is_valid():
            try:
                segment = services.segment_create(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Segment %(no)s created.") % {"no": segment.number})
                return redirect(segment)
    else:
        own = getattr(request.user, "salesperson", None)
        form = SegmentCreateForm(
            initial={
                "date": timezone.localdate(),
                "salesperson": own if own is not None and not own.blocked else None,
            }
        )
    context = {"nav": "segments", "form": form, "numbered": numbered}
    return render(request, "segments/segment_form.html", context)


# --- One segment -----------------------------------------------------------------------------


@require_safe
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = selectors.get_segment_for_user(request, pk)
    return _render_detail(request, segment, add_form=AddContactForm())


def _render_detail(request, segment: Segment, *, add_form, status: int = 200) -> HttpResponse:
    # A segment can hold 100,000 lines: show them a page at a time (keyset links), with the
    # totals over all of them that the database keeps.
    page = _line_page(request, segment)
    can_change = segment.is_editable_by(request.user)
    steps = selectors.recent_steps(segment, STEPS_SHOWN)
    context = {
        "nav": "segments",
        "segment": segment,
        "links": _segment_links(segment.pk),
        "page": page,
        "line_rows": _line_rows(page.lines, segment=segment, can_change=can_change),
        "totals": segment.line_totals,
        "logged_segment": getattr(segment, "logged_segment", None),
        "can_change": can_change,
        "add_form": add_form,
        "add_contact_field": _add_contact_field(add_form) if can_change else "",
        "steps": steps,
        "step_count": steps[0].number if steps else 0,
    }
    return render(request, "segments/segment_detail.html", context, status=status)


# The segment page's links to the segment's own actions (`_segment_links`).
SEGMENT_LINKS = (
    "segment_create_interaction",
    "segment_edit",
    "segment_log",
    "segment_delete",
    "segment_save_criteria",
    "segment_export",
    "line_add",
    "segment_reuse",
    "segment_reuse_criteria",
    "segment_go_back",
    "segment_history",
    "lines_remove",
)


def _segment_links(pk: int) -> dict[str, str]:
    """The segment page's links to segment ``pk``'s actions by view name (``criteria_add`` and
    so on for `segment_criteria`'s actions), kept per process: the page wrote ~14 ``{% url %}``
    tags, a reverse() each on every request, and a user comes back to the same segment page
    after each of its actions. Not to be changed: the dict is shared."""
    return _links_of_segment(pk, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=1024)
def _links_of_segment(pk: int, script_prefix: str, urlconf) -> dict[str, str]:
    links = {name: reverse(f"segments:{name}", args=[pk]) for name in SEGMENT_LINKS}
    for action in CRITERIA_ACTIONS:
        links[f"criteria_{action}"] = reverse("segments:segment_criteria", args=[pk, action])
    return links


def _add_contact_field(form: AddContactForm) -> SafeString:
    """The Add Contact form's field (segments/_add_contact_field.html).

    A blank form's field is the same on every segment page: it is kept per language, script
    prefix and URL configuration (its search link) instead of rendering its label, input and
    error list through the form renderer on every request (~0.4 ms together, measured on a
    busy machine). A form with what was posted (and its errors) is rendered each time."""
    if form.is_bound:
        html = render_to_string("segments/_add_contact_field.html", {"field": form["contact"]})
        return mark_safe(html.strip())  # noqa: S308 (rendered by the autoescaping Django engine)
    return _BLANK_ADD_CONTACT_FIELD()


_BLANK_ADD_CONTACT_FIELD = FixedPart(
    "segments/_add_contact_field.html", field=AddContactForm()["contact"]
)


def _line_page(request: HttpRequest, segment: Segment) -> selectors.LinePage:
    """The page of lines the links ask for (``after``, ``before`` or ``page=last``); the first
    page for none, or for a link to lines that are gone (Go Back, Remove Lines)."""
    after = selectors.parse_line_id(request.GET.get("after"))
    before = selectors.parse_line_id(request.GET.get("before"))
    last = request.GET.get("page") == "last"
    page = selectors.line_page(segment, after=after, before=before, last=last, size=LINE_PAGE_SIZE)
    if not page.lines and (after or before):
        page = selectors.line_page(segment, size=LINE_PAGE_SIZE)
    return page


def _line_rows(lines: list[selectors.LineRow], *, segment: Segment, can_change: bool) -> SafeString:
    """The lines table's rows, from the autoescaping partial segments/_line_rows.html.

    A page of 100 lines through the Django template engine (two reverse() calls, three
    translations, a choice label and a floatformat a line) was most of the page's time: the
    partial gets the links and labels worked out once, and amounts formatted once per distinct
    value, all looked up by subscript or as a namespace's attribute: a call from the partial,
    or a dict's key read as an attribute (Jinja2 tries the attribute first, and raises and
    catches its absence), cost more (docs/benchmarks.md "Part M" and "Part O").

    Every link, label, choice label, amount and code in those is escaped here, once a page
    (`_escaped`), so that the partial writes them without escaping each again on every line
    (as the entry list's rows do, "Part S"). The columns are the page template's <thead>.
    """
    return render_rows(
        "segments/_line_rows.html",
        {
            "lines": lines,
            "can_change": can_change,
            "links": SimpleNamespace(
                contact=Markup.escape(link_prefix("contacts:contact_detail")),
                line=Markup.escape(link_prefix("segments:line_edit", segment.pk)),
            ),
            "labels": SimpleNamespace(
                personalised=Markup.escape(_("Personalised")),
                select=_("Select %(contact)s"),
                personalise=Markup.escape(_("Personalise")),
                cost=Markup.escape(_("Cost (LCY)")),
                duration=Markup.escape(_("Duration (Min.)")),
            ),
            "correspondence": _ShownAsStored(
                _escaped({v: label for v, label in CorrespondenceType.choices if v})
            ),
            "languages": _ShownAsStored(_escaped(dict(Language.choices))),
            # A line's template and salesperson codes are typed text, and few a page.
            "templates": _escaped({v: v or "" for v in {line.template_code for line in lines}}),
            "salespeople": _escaped(
                {v: v or "" for v in {line.salesperson_code for line in lines}}
            ),
            "costs": _escaped({v: localize(v) for v in {line.unit_cost for line in lines}}),
            "durations": _escaped(
                {v: floatformat(v, "-2") for v in {line.unit_duration for line in lines}}
            ),
        },
    )


def _escaped(values: dict) -> dict:
    """``values`` with each value as escaped HTML (Jinja2's escaping: ' as &#39;)."""
    return {key: Markup.escape(value) for key, value in values.items()}


class _ShownAsStored(dict):
    """A choice's label (escaped) by its value; a value no longer among the choices shows as
    stored (as get_FOO_display does), escaped."""

    def __missing__(self, value):
        # Kept: a page's blank or old values are few, its lines many.
        shown = self[value] = Markup.escape(value)
        return shown


@segment_change_view
def segment_edit(request: HttpRequest, segment: Segment) -> HttpResponse:
    """The header form. When the change reaches the lines, the page first says how many lines
    follow and which personalised ones do not; `Apply` then saves."""
    form = SegmentHeaderForm(_posted(request), instance=segment)
    follow = None
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        reaches_lines = bool(set(data) & set(services.HEADER_FIELDS))
        if reaches_lines and "apply" not in request.POST and segment.lines.exists():
            follow = selectors.lines_follow(segment)
        else:
            try:
                following = services.segment_update(segment=segment, user=request.user, data=data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if reaches_lines:
                    text = _("Segment %(no)s saved; %(lines)s lines follow the change.")
                else:
                    text = _("Segment %(no)s saved.")
                messages.success(request, text % {"no": segment.number, "lines": following})
                return redirect(segment)
    context = {"nav": "segments", "segment": segment, "form": form, "follow": follow}
    return render(request, "segments/segment_edit.html", context)


@segment_change_view
def segment_delete(request: HttpRequest, segment: Segment) -> HttpResponse:
    if request.method == "POST":
        services.segment_delete(segment=segment, user=request.user)
        messages.success(request, _("Segment %(no)s deleted.") % {"no": segment.number})
        return redirect("segments:segment_list")
    context = {"nav": "segments", "segment": segment, "totals": segment.line_totals}
    return render(request, "segments/segment_confirm_delete.html", context)


# --- Building the list of contacts ---------------------------------------------------------------


@require_POST
@segment_change_view
def line_add(request: HttpRequest, segment: Segment) -> HttpResponse:
    """Add one contact by hand (the form on the segment page)."""
    form = AddContactForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, segment, add_form=form, status=400)
    contact = form.cleaned_data["contact"]
    try:
        added = services.segment_add_contact(segment=segment, user=request.user, contact=contact)
    except ValidationError as error:
        form.add_error("contact", error)
        return _render_detail(request, segment, add_form=form, status=400)
    if not added.added:
        messages.info(request, _("%(contact)s is on the segment already.") % {"contact": contact})
    else:
        messages.success(request, _("%(contact)s added.") % {"contact": contact})
    if added.warning:
        messages.warning(request, added.warning)
    return redirect(segment)


@segment_change_view
def segment_criteria(request: HttpRequest, segment: Segment, action: str) -> HttpResponse:
    """`Add Contacts`, `Reduce Contacts` or `Refine Contacts` by criteria."""
    if action not in CRITERIA_ACTIONS:
        raise Http404
    title, service = CRITERIA_ACTIONS[action]
    form = CriteriaForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        step = service(segment=segment, user=request.user, criteria=form.criteria())
        messages.success(request, _step_done(step))
        return redirect(segment)
    context = {
        "nav": "segments",
        "segment": segment,
        "form": form,
        "action": action,
        "title": title,
        "recent": selectors.logged_segments()[:REUSE_CHOICES_SHOWN],
    }
    return render(request, "segments/segment_criteria.html", context)


@segment_change_view
def segment_reuse(request: HttpRequest, segment: Segment) -> HttpResponse:
    """`Reuse Segment`: a picker of logged segments, newest first, searchable by segment no. or
    description; each row's button posts its entry no."""
    form = ReuseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        logged = form.cleaned_data["logged_segment"]
        step = services.segment_reuse(segment=segment, user=request.user, logged=logged)
        messages.success(
            request,
            ngettext(
                "%(count)d contact of logged segment %(logged)s (%(no)s) added.",
                "%(count)d contacts of logged segment %(logged)s (%(no)s) added.",
                step.added,
            )
            % {"count": step.added, "logged": logged.pk, "no": logged.segment_no},
        )
        return redirect(segment)
    text = request.GET.get("q", "").strip()
    found = (
        selectors.logged_segments(text=text)
        .select_related(None)
        .only("pk", "segment_no", "description", "logged_at", "entry_count", "canceled")
    )
    page = Paginator(found, REUSE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"nav": "segments", "segment": segment, "form": form, "page": page, "q": text}
    status = 400 if request.method == "POST" else 200
    return render(request, "segments/segment_reuse.html", context, status=status)


@require_POST
@segment_change_view
def lines_remove(request: HttpRequest, segment: Segment) -> HttpResponse:
    keys = (id_from(value) for value in request.POST.getlist("line"))
    line_ids = [key for key in keys if key is not None]
    if not line_ids:
        messages.error(request, _("Select the lines to remove first."))
        return redirect(segment)
    removed = services.segment_remove_lines(segment=segment, user=request.user, line_ids=line_ids)
    messages.success(
        request,
        ngettext("%(count)d line removed.", "%(count)d lines removed.", removed)
        % {"count": removed},
    )
    return redirect(segment)


def _step_done(step) -> str:
    """What a criteria step did, for the message after it."""
    count = step.added if step.action in ("add", "reuse_segment") else step.removed
    if step.action == "reduce":
        done = ngettext(
            "Step %(step)s: %(count)d line removed (%(criteria)s).",
            "Step %(step)s: %(count)d lines removed (%(criteria)s).",
            count,
        )
    elif step.action == "refine":
        done = ngettext(
            "Step %(step)s: %(count)d line that did not match removed (%(criteria)s).",
            "Step %(step)s: %(count)d lines that did not match removed (%(criteria)s).",
            count,
        )
    else:  # add, reuse_segment
        done = ngettext(
            "Step %(step)s: %(count)d contact added (%(criteria)s).",
            "Step %(step)s: %(count)d contacts added (%(criteria)s).",
            count,
        )
    return done % {"step": step.number, "count": count, "criteria": step.described}


@require_POST
@segment_change_view
def segment_go_back(request: HttpRequest, segment: Segment) -> HttpResponse:
    """`Go Back`: undo the last step; the form names the step the user saw as last."""
    number = id_from(request.POST.get("step", ""))
    if number is None:
        messages.error(request, _("Choose the step to undo from the segment page."))
        return redirect(segment)
    try:
        gone = services.segment_go_back(segment=segment, user=request.user, step=number)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(segment)
    messages.success(
        request,
        _(
            "Step %(step)s (%(action)s) undone: %(taken)s lines taken away, %(restored)s lines "
            "put back."
        )
        % {
            "step": gone.step.number,
            "action": gone.step.get_action_display(),
            "taken": gone.taken,
            "restored": gone.restored,
        },
    )
    return redirect(segment)


@require_safe
def segment_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every step of the segment, newest first, a page at a time."""
    segment = selectors.get_segment_for_user(request, pk)
    page = Paginator(selectors.segment_steps(segment), STEP_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"nav": "segments", "segment": segment, "page": page}
    return render(request, "segments/segment_history.html", context)


@permission_required("segments.add_savedcriteria", raise_exception=True)
def segment_save_criteria(request: HttpRequest, pk: int) -> HttpResponse:
    """`Save Criteria`: the segment's criteria steps under a code (also of a logged segment:
    last month's criteria, for this month's mailing)."""
    segment = selectors.get_segment_for_user(request, pk)
    form = SaveCriteriaForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.saved_criteria_create(
                segment=segment, user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The criteria of segment %(no)s are saved as %(code)s.")
                % {"no": segment.number, "code": saved.code},
            )
            return redirect(segment)
    steps = list(segment.steps.order_by("number"))
    context = {
        "nav": "segments",
        "segment": segment,
        "form": form,
        "criteria_steps": [step for step in steps if step.is_criteria],
        "other_steps": [step for step in steps if not step.is_criteria],
    }
    return render(request, "segments/segment_save_criteria.html", context)


@segment_change_view
def segment_reuse_criteria(request: HttpRequest, segment: Segment) -> HttpResponse:
    """`Reuse Criteria`: replay saved criteria on this segment, step by step."""
    form = ReuseCriteriaForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        saved = form.cleaned_data["saved"]
        try:
            steps = services.segment_reuse_criteria(segment=segment, user=request.user, saved=saved)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                ngettext(
                    "Saved criteria %(code)s replayed in %(count)d step.",
                    "Saved criteria %(code)s replayed in %(count)d steps.",
                    len(steps),
                )
                % {"code": saved.code, "count": len(steps)},
            )
            for step in steps:
                messages.info(request, _step_done(step))
            return redirect(segment)
    context = {
        "nav": "segments",
        "segment": segment,
        "form": form,
        "saved_criteria": selectors.saved_criteria(),
    }
    return render(request, "segments/segment_reuse_criteria.html", context)


@permission_required("contacts.view_contact", raise_exception=True)
@require_safe
def segment_export(request: HttpRequest, pk: int) -> HttpResponse:
    """`Export Contacts`: the segment's contacts as CSV with the columns `import_contacts` reads,
    streamed (memory stays flat at 100,000 lines)."""
    segment = selectors.get_segment_for_user(request, pk)
    rows = selectors.segment_contact_rows(segment).iterator(chunk_size=csv_export.CHUNK_SIZE)
    response = StreamingHttpResponse(
        csv_export.stream_lines(selectors.CONTACT_EXPORT_HEADER, rows),
        content_type="text/csv; charset=utf-8",
    )
    # The segment number is the user's text: keep only what a file name may safely hold.
    number = "".join(c for c in segment.number if c.isalnum() or c in "-_") or str(segment.pk)
    response["Content-Disposition"] = f'attachment; filename="segment-{number}-contacts.csv"'
    return response


# --- Personalising a line ------------------------------------------------------------------------


@segment_change_view
def line_edit(request: HttpRequest, segment: Segment, line_pk: int) -> HttpResponse:
    line = get_object_or_404(
        segment.lines.select_related("contact", "template", "salesperson"), pk=line_pk
    )
    form = LineForm(_posted(request), instance=line)
    if request.method == "POST" and form.is_valid():
        try:
            services.segment_line_personalise(
                line=line, user=request.user, data=form.cleaned_data, changed=form.changed_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if form.changed_data:
                messages.success(
                    request,
                    _("The line for %(contact)s is personalised.") % {"contact": line.contact},
                )
            return redirect(segment)
    context = {"nav": "segments", "segment": segment, "line": line, "form": form}
    return render(request, "segments/line_form.html", context)


@require_POST
@segment_change_view
def line_reset(request: HttpRequest, segment: Segment, line_pk: int) -> HttpResponse:
    line = get_object_or_404(segment.lines.select_related("contact"), pk=line_pk)
    services.segment_line_reset(line=line, user=request.user)
    messages.success(
        request,
        _("The line for %(contact)s follows the segment again.") % {"contact": line.contact},
    )
    return redirect(segment)


# --- Create Interaction, Log -------------------------------------------------------------------


@require_POST
@segment_change_view
def segment_create_interaction(request: HttpRequest, segment: Segment) -> HttpResponse:
    """`Create Interaction` on the segment: the wizard's steps 1-3 with the segment as context."""
    draft = draft_start(user=request.user, segment=segment)
    return redirect(draft.wizard_url())


@segment_change_view
def segment_log(request: HttpRequest, segment: Segment) -> HttpResponse:
    """`Log Segment`: options, then every problem or the logged segment."""
    offer_send = selectors.has_email_lines(segment)
    form = LogSegmentForm(_posted(request), offer_send=offer_send)
    problems = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.segment_log(
                segment=segment,
                user=request.user,
                send_attachments=form.cleaned_data.get("send_attachments", False),
                create_follow_up=form.cleaned_data["create_follow_up"],
            )
        except services.SegmentLogProblems as found:
            problems = found
        else:
            logged = result.logged
            messages.success(
                request,
                ngettext(
                    "Segment %(no)s logged as logged segment %(logged)s: %(count)d interaction.",
                    "Segment %(no)s logged as logged segment %(logged)s: %(count)d interactions.",
                    logged.entry_count,
                )
                % {"no": segment.number, "logged": logged.pk, "count": logged.entry_count},
            )
            if result.delivering:
                messages.info(
                    request,
                    ngettext(
                        "%(count)d email is queued for delivery.",
                        "%(count)d emails are queued for delivery.",
                        result.delivering,
                    )
                    % {"count": result.delivering},
                )
            if result.follow_up is not None:
                messages.success(
                    request,
                    _("Follow-up segment %(no)s created with the same contacts.")
                    % {"no": result.follow_up.number},
                )
            return redirect(logged)
    context = {
        "nav": "segments",
        "segment": segment,
        "form": form,
        "problems": problems,
        "totals": segment.line_totals,
    }
    return render(request, "segments/segment_log.html", context, status=400 if problems else 200)


# --- Logged segments -----------------------------------------------------------------------------


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


@permission_required("segments.add_segment", raise_exception=True)
def logged_segment_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """`Create Follow-up Segment` of a logged segment: all its contacts, or by their response."""
    logged = selectors.get_logged_segment_for_user(request, pk)
    form = FollowUpForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        response = form.cleaned_data["response"]
        try:
            follow_up = services.logged_segment_follow_up(
                logged=logged,
                user=request.user,
                response=response,
                evaluations=form.cleaned_data["evaluation"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                ngettext(
                    "Follow-up segment %(no)s created with %(count)d contact (%(whom)s).",
                    "Follow-up segment %(no)s created with %(count)d contacts (%(whom)s).",
                    follow_up.added,
                )
                % {
                    "no": follow_up.segment.number,
                    "count": follow_up.added,
                    "whom": FollowUpResponse(response).label,
                },
            )
            return redirect(follow_up.segment)
    context = {"nav": "logged_segments", "logged": logged, "form": form}
    return render(request, "segments/logged_segment_follow_up.html", context)


# --- Saved criteria ------------------------------------------------------------------------------


@permission_required("segments.add_savedcriteria", raise_exception=True)
@require_safe
def saved_criteria_list(request: HttpRequest) -> HttpResponse:
    context = {"nav": "segments", "saved_criteria": selectors.saved_criteria()}
    return render(request, "segments/saved_criteria_list.html", context)


@permission_required("segments.delete_savedcriteria", raise_exception=True)
@require_POST
def saved_criteria_delete(request: HttpRequest, pk: int) -> HttpResponse:
    saved = selectors.get_saved_criteria_for_user(request, pk)
    services.saved_criteria_delete(saved=saved, user=request.user)
    messages.success(request, _("Saved criteria %(code)s deleted.") % {"code": saved.code})
    return redirect("segments:saved_criteria_list")


@permission_required("segments.cancel_loggedsegment", raise_exception=True)
def logged_segment_switch_canceled(request: HttpRequest, pk: int) -> HttpResponse:
    """`Switch Check Mark in Canceled`: the confirmation says how many entries change."""
    logged = selectors.get_logged_segment_for_user(request, pk)
    if request.method == "POST":
        try:
            changed = services.logged_segment_switch_canceled(logged=logged, user=request.user)
        except RecordGone as gone:
            messages.error(request, gone.message)
            return redirect("segments:logged_segment_list")
        if logged.canceled:
            text = ngettext(
                "Logged segment %(logged)s canceled with %(count)d interaction.",
                "Logged segment %(logged)s canceled with %(count)d interactions.",
                changed,
            )
        else:
            text = ngettext(
                "Logged segment %(logged)s no longer canceled; %(count)d interaction restored.",
                "Logged segment %(logged)s no longer canceled; %(count)d interactions restored.",
                changed,
            )
        messages.success(request, text % {"logged": logged.pk, "count": changed})
        return redirect(logged)
    entries = InteractionLogEntry.objects.filter(logged_segment=logged)
    context = {
        "nav": "logged_segments",
        "logged": logged,
        "entry_count": entries.count(),
        "changing": entries.exclude(canceled=not logged.canceled).count(),
    }
    return render(request, "segments/logged_segment_switch.html", context)


@permission_required("segments.delete_loggedsegment", raise_exception=True)
def logged_segments_delete_canceled(request: HttpRequest) -> HttpResponse:
    """`Delete Canceled Segments`: the confirmation says how many go."""
    if request.method == "POST":
        deleted = services.logged_segments_delete_canceled(user=request.user)
        messages.success(
            request,
            ngettext(
                "%(segments)d canceled logged segment deleted.",
                "%(segments)d canceled logged segments deleted.",
                deleted.segments,
            )
            % {"segments": deleted.segments}
            + " "
            + ngettext(
                "%(entries)d interaction stays canceled, with its segment number.",
                "%(entries)d interactions stay canceled, with their segment numbers.",
                deleted.entries,
            )
            % {"entries": deleted.entries},
        )
        return redirect("segments:logged_segment_list")
    context = {"nav": "logged_segments", **selectors.canceled_logged_segments_summary()}
    return render(request, "segments/logged_segments_delete_canceled.html", context)
