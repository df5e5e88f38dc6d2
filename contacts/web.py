"""What the views of every app share: link prefixes, list rows from Jinja2 partials, the `next`
URL, a service's errors on its form, the delete page, and setup pages declared once.

It lives in `contacts`, the lowest app, so that `interactions` and `segments` may import it
(`crm_site` wires the apps together and no app imports it).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db.models import Model
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import engines
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from contacts.selectors import delete_blockers
from contacts.services import RecordInUse

# The Jinja2 engine of settings.TEMPLATES (autoescape on, undefined names an error).
ROWS_ENGINE = "rows"


def link_prefix(name: str, *args) -> str:
    """The URL of the view ``name`` (with its leading ``args``, if any) without its trailing
    ``<pk>/``, to append pks to.

    Lists link every row; a reverse() per row was a large part of a list's time, a prefix and a
    pk cost almost nothing. The prefixes are kept per process (as `site_url` keeps the menu's
    links): a page asks for four to six, and each reverse() cost ~0.025 ms (0.005 ms kept).
    """
    return _link_prefix(name, args, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=1024)
def _link_prefix(name: str, args: tuple, script_prefix: str, urlconf) -> str:
    url = reverse(name, args=[*args, 0])
    if not url.endswith("/0/"):
        raise ValueError(f"{name} does not end in <pk>/")
    return url[:-2]


def address(name: str) -> str:
    """The URL of the view ``name``, which takes no arguments, kept per process as
    `link_prefix` keeps its prefixes (the layout's ``{% site_url %}`` for a view's partials)."""
    return _address(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=256)
def _address(name: str, script_prefix: str, urlconf) -> str:
    return reverse(name)


class PageLabels:
    """A page's fixed labels for a Jinja2 partial, kept per language: ``build()`` returns them
    by name (gettext in Python, so that makemessages finds them); the partial reads them as
    attributes (``labels.date``), translated and escaped as the Django engine escapes
    (Jinja2 would write an apostrophe as ``&#39;``, Django as ``&#x27;``)."""

    def __init__(self, build: Callable[[], dict[str, str]]) -> None:
        self.build = build
        self._kept: dict[str | None, SimpleNamespace] = {}

    def __call__(self) -> SimpleNamespace:
        language = get_language()
        if (labels := self._kept.get(language)) is None:
            built = {name: escape(label) for name, label in self.build().items()}
            labels = self._kept[language] = SimpleNamespace(**built)
        return labels


class FixedPart:
    """A part of a page that is the same HTML on every request for the language and a few
    flags (the user's permissions): the Django template ``template_name`` rendered once per
    process for each, and kept (as PageLabels keeps labels).

    The template sees the flags and the ``values`` given here (constants of the process, such
    as a list of choices), nothing of the user or the request: its {% translate %} and
    {% site_url %} are what make it depend on the language and the URL configuration. Its
    file's final newline is not part of it (the page places the part on a line of its own).
    """

    def __init__(self, template_name: str, **values: Any) -> None:
        self.template_name = template_name
        self.values = values
        self._kept: dict[tuple, SafeString] = {}
        _FIXED_PARTS.append(self)

    def __call__(self, **flags: bool) -> SafeString:
        flags = {name: bool(flag) for name, flag in flags.items()}
        key = (get_language(), get_script_prefix(), get_urlconf(), *sorted(flags.items()))
        if (html := self._kept.get(key)) is None:
            html = render_to_string(self.template_name, {**self.values, **flags})
            # Rendered by the Django engine, which autoescapes: safe to place as it is.
            html = mark_safe(html.removesuffix("\n"))  # noqa: S308
            if not settings.DEBUG:  # while developing, an edited template shows at once
                self._kept[key] = html
        return html


_FIXED_PARTS: list[FixedPart] = []


def _forget_fixed_parts(**_kwargs) -> None:
    for part in _FIXED_PARTS:
        part._kept.clear()


# A test that switches URL configurations, languages or templates gets fresh parts.
setting_changed.connect(_forget_fixed_parts)


def short_date(value: datetime.date) -> str:
    """``date_format(value, "SHORT_DATE_FORMAT")`` (the ``date:"SHORT_DATE_FORMAT"`` filter),
    kept per process for the language: a company card formats a dozen dates a request, and
    each went through Django's date formatter (a DateFormat and its format string parsed)."""
    return _short_date(value, get_language())


def amount(value: Any, places: int) -> SafeString:
    """``floatformat(value, places)`` for ``places`` >= 0 (what the filter writes for equal
    values is the same), kept per process for the language as `short_date` is: a card's
    history formats its costs and durations through it, each a Decimal's arithmetic."""
    return _amount(value, places, get_language())


# The active language is part of the key: what they write depends on it and on the settings.
@functools.lru_cache(maxsize=4096)
def _short_date(value: datetime.date, language: str | None) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


@functools.lru_cache(maxsize=4096)
def _amount(value: Any, places: int, language: str | None) -> SafeString:
    return floatformat(value, places)


def _forget_formats(**_kwargs) -> None:
    _short_date.cache_clear()
    _amount.cache_clear()


# A test that changes the formats' settings (FORMAT_MODULE_PATH, USE_THOUSAND_SEPARATOR) too.
setting_changed.connect(_forget_formats)


def render_rows(template_name: str, context: dict) -> SafeString:
    """The rows of a list table, rendered by the Jinja2 partial ``template_name``
    (templates/jinja2/...) for a Django template to place as they are.

    Jinja2 escapes every value the partial prints (autoescape), so its output is HTML whose
    every value is escaped and safe to place unescaped. Rows go through Jinja2 because the
    Django template engine spent most of a list's time on them.
    """
    # Stripped, so that no rows is "" and a page template can test for it.
    return mark_safe(render_partial(template_name, context).strip())  # noqa: S308 (escaped)


def render_partial(template_name: str, context: dict, *, end: str = "") -> SafeString:
    """A part of a page rendered by the Jinja2 partial ``template_name`` (templates/jinja2/...)
    for a Django template or tag to place as it is, ``end`` after it (the newline that ended
    the Django template a partial replaced: Jinja2 drops a last one).

    Jinja2 escapes every value the partial prints (autoescape); values the caller escaped
    (Django's `escape`, `Markup`) pass as they are. So the output is safe to place unescaped.
    """
    html = engines[ROWS_ENGINE].get_template(template_name).render(context)
    return mark_safe(html + end)  # noqa: S308 (autoescaped by the Jinja2 engine)


def id_from(value: str) -> int | None:
    """A key typed or posted as text, or None: ASCII digits only (`str.isdigit` also takes "²",
    which `int` refuses) and at most 18 of them, so it fits a bigint key."""
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go back to after an action: the posted ``next`` if it is one of ours."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return default


def add_service_errors(form: BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError next to the fields it names, like the form's own."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def save_form(form: BaseForm, save: Callable[[dict], Any]) -> Any:
    """``save(cleaned_data)`` for a valid form; None, with the errors on the form, otherwise
    (the form's own, or the service's `ValidationError` next to the fields it names)."""
    if not form.is_valid():
        return None
    try:
        return save(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return None


def delete_page(
    request: HttpRequest,
    *,
    record: Model,
    delete: Callable[[], None],
    back: str,
    done: str,
    nav: str,
    note: str = "",
) -> HttpResponse:
    """Confirm and delete ``record`` (``delete()`` calls its service); refused with a message
    naming what still refers to it. ``back``: where a refusal or Cancel goes; ``done``: where
    to go once it is deleted; ``note``: why a refusal is right, if the page should say."""
    if request.method == "POST":
        try:
            delete()
        except RecordInUse as refusal:
            messages.error(request, refusal.message)
            return redirect(back)
        messages.success(request, _("%(record)s deleted.") % {"record": record})
        return redirect(done)
    reasons = delete_blockers(record)
    return render(
        request,
        "includes/confirm_delete.html",
        {
            "nav": nav,
            "record": record,
            "back": back,
            "note": note,
            "refusal": RecordInUse(record, reasons).message if reasons else "",
        },
    )


def form_page(
    request: HttpRequest, form: BaseForm, *, nav: str, title: str, crumbs: list[tuple[str, str]]
) -> HttpResponse:
    """The create or edit page of a record edited in one form: ``crumbs`` (url, label) lead
    back to the list and the record's own page; Cancel goes to the last of them."""
    context = {"nav": nav, "form": form, "title": title, "crumbs": crumbs, "back": crumbs[-1][0]}
    return render(request, "includes/form_page.html", context)


@dataclass(frozen=True)
class SetupPages:
    """The create, edit and delete pages of one kind of setup record (campaigns, opportunities,
    number series, interaction templates and groups), declared once::

        campaign_create, campaign_edit, campaign_delete = SetupPages(...).views()

    Each view checks the model's add/change/delete permission, fetches the record through its
    access helper and writes through its services: ``create(user=, data=)``,
    ``update(user=, <record>=, data=)`` and ``delete(user=, <record>=)``, where ``<record>`` is
    the services' keyword for it. The form page is `form_page`'s, the delete page
    `delete_page`'s.
    """

    model: type[Model]
    form: type[BaseForm]
    get: Callable[[HttpRequest, int], Model]  # the access helper
    create: Callable[..., Model]
    update: Callable[..., Model]
    delete: Callable[..., None]
    record: str  # the services' keyword for the record, and its name in the messages
    key: str  # the field that names a record in the titles ("number", "code")
    nav: str
    list_url: str  # URL name of the list
    heading: str  # the list's title, the form page's way back
    new_title: str
    edit_title: str  # with %(<key>)s
    created: str  # with %(<record>)s (and %(<key>)s)
    saved: str
    detail_url: str | None = None  # URL name of the record's own page, if it has one
    delete_note: str = ""

    def _names(self, record: Model) -> dict[str, Any]:
        return {self.record: record, self.key: getattr(record, self.key)}

    def _detail(self, record: Model) -> str:
        """The record's own page, or the list for records without one."""
        if self.detail_url:
            return reverse(self.detail_url, args=[record.pk])
        return reverse(self.list_url)

    def _crumbs(self, record: Model | None) -> list[tuple[str, str]]:
        """The form page's way back: the list, then the record's own page if it has one."""
        crumbs = [(reverse(self.list_url), self.heading)]
        if record is not None and self.detail_url:
            crumbs.append((self._detail(record), getattr(record, self.key)))
        return crumbs

    def _permission(self, action: str):
        opts = self.model._meta
        perm = f"{opts.app_label}.{action}_{opts.model_name}"
        return permission_required(perm, raise_exception=True)

    def views(self) -> tuple[Callable, Callable, Callable]:
        """The create, edit and delete views."""

        @self._permission("add")
        @require_http_methods(["GET", "POST"])
        def create(request: HttpRequest) -> HttpResponse:
            form = self.form(request.POST or None, request.FILES or None)
            if request.method == "POST":
                record = save_form(form, lambda data: self.create(user=request.user, data=data))
                if record is not None:
                    messages.success(request, self.created % self._names(record))
                    return redirect(self._detail(record))
            return form_page(
                request, form, nav=self.nav, title=self.new_title, crumbs=self._crumbs(None)
            )

        @self._permission("change")
        @require_http_methods(["GET", "POST"])
        def edit(request: HttpRequest, pk: int) -> HttpResponse:
            record = self.get(request, pk)
            # Worked out before the form writes the posted values into `record`.
            title = self.edit_title % self._names(record)
            crumbs = self._crumbs(record)
            form = self.form(request.POST or None, request.FILES or None, instance=record)
            if request.method == "POST":
                saved = save_form(
                    form,
                    lambda data: self.update(user=request.user, **{self.record: record}, data=data),
                )
                if saved is not None:
                    messages.success(request, self.saved % self._names(saved))
                    return redirect(self._detail(saved))
            return form_page(request, form, nav=self.nav, title=title, crumbs=crumbs)

        @self._permission("delete")
        @require_http_methods(["GET", "POST"])
        def delete(request: HttpRequest, pk: int) -> HttpResponse:
            record = self.get(request, pk)
            return delete_page(
                request,
                record=record,
                delete=lambda: self.delete(user=request.user, **{self.record: record}),
                back=self._detail(record),
                done=reverse(self.list_url),
                nav=self.nav,
                note=self.delete_note,
            )

        return create, edit, delete
