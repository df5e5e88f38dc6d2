"""Views: thin, function-based; objects come through the access helpers."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import yesno
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from markupsafe import Markup

from contacts import selectors, services
from contacts.built_once import BuiltOnceAggregate, BuiltOnceQuery
from contacts.forms import (
    CampaignForm,
    ContactForm,
    MarketingSetupForm,
    NumberSeriesForm,
    OpportunityForm,
    PeriodForm,
    SalespersonForm,
)
from contacts.models import (
    Campaign,
    Contact,
    ContactQuerySet,
    ContactType,
    MarketingSetup,
    NumberSeries,
    Opportunity,
    Salesperson,
)
from contacts.web import (
    PageLabels,
    SetupPages,
    address,
    amount,
    form_page,
    link_prefix,
    render_rows,
    save_form,
    short_date,
)

PAGE_SIZE = 50
HISTORY_SIZE = 20
PERSONS_SHOWN = 50
SEARCH_RESULTS = 20
# The salesperson list's sort orders: code is unique, name has an index.
SALESPERSON_ORDERS = {
    "code": ("code",),
    "-code": ("-code",),
    "name": ("name", "code"),
    "-name": ("-name", "-code"),
}
# What the company card's persons table shows (a company can have thousands of persons).
PERSON_COLUMNS = ("company", "number", "name", "job_title", "email", "phone", "privacy_blocked")


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# What a card's history shows (`_history_rows`), `InteractionLogEntry.title`'s values
# included, as plain values: with the entry, template, salesperson and contact as model
# instances (80 for 20 rows, by `Model.from_db`) the history's read and rows took ~1.1 ms of
# CPU, as tuples ~0.35 ms (docs/benchmarks.md, part AB).
HISTORY_COLUMNS = (
    "pk",
    "date",
    "description",
    "attempt_failed",
    "cost",
    "duration",
    "evaluation",
    "information_flow",
    "contact_id",
    "contact__name",
    "template__description",
    "salesperson__name",
)


def _entries_shown(entries):
    """The newest active entries of a card, as named tuples of `HISTORY_COLUMNS`."""
    return entries.active().newest_first().values_list(*HISTORY_COLUMNS, named=True)[:HISTORY_SIZE]


def _history_of(relation: str) -> BuiltOnceQuery:
    """A card's history by SQL compiled once per process (contacts/built_once.py): the contact
    card is about one request in seven of the load run's mix, and compiling this read cost
    about what running it does. ``relation`` is the log entry's key to the card's record."""

    def build(owner: int):
        # The log entry's model through the reverse relation (contacts imports no other app).
        entries = Contact._meta.get_field("log_entries").related_model._default_manager
        return _entries_shown(entries.filter(**{relation: owner}))

    return BuiltOnceQuery(build, owner=-1)


_HISTORY = {name: _history_of(name) for name in ("contact", "contact_company", "salesperson")}


def _statistics_of(relation: str, *, dated_from: bool, dated_to: bool) -> BuiltOnceAggregate:
    """A card's statistics (`LogEntryQuerySet.statistics`) by SQL compiled once per process,
    for a period open or bounded at each end (each shape is a statement of its own)."""

    def build(owner: int, **period):
        entries = Contact._meta.get_field("log_entries").related_model._default_manager
        entries = entries.filter(**{relation: owner}).active().between(**period)
        return entries, entries.STATISTICS

    # Stand-ins: each must differ from the statement's fixed values (False, 0, "us").
    dates = {"date_from": datetime.date(1, 1, 1), "date_to": datetime.date(1, 1, 2)}
    bounded = {"date_from": dated_from, "date_to": dated_to}
    return BuiltOnceAggregate(
        build, owner=-1, **{name: dates[name] for name, given in bounded.items() if given}
    )


# A person's (a company's come from its kept monthly totals).
_STATISTICS = {
    (dated_from, dated_to): _statistics_of("contact", dated_from=dated_from, dated_to=dated_to)
    for dated_from in (False, True)
    for dated_to in (False, True)
}


def _contact_statistics(contact: Contact, period: PeriodForm) -> dict | None:
    """The contact card's statistics in the period the form asks for (a company's include its
    persons'); None while the form has errors.

    A company's come from the monthly totals the log's triggers keep (interactions'
    `CompanyMonthTotals`; contacts imports no other app): summing its entries cost the busiest
    company's card 8,222 entries a request at 10,000,000 (docs/benchmarks.md part Q). A person's
    are summed from its own entries (rows per person would cost Log about a row per entry)."""
    if not period.is_valid():
        return None
    if contact.is_company:
        totals = Contact._meta.get_field("entry_month_totals").related_model._default_manager
        return totals.statistics(contact, **period.period)
    dates = {name: value for name, value in period.period.items() if value is not None}
    return _STATISTICS["date_from" in dates, "date_to" in dates].fetch(owner=contact.pk, **dates)


def _card_links() -> dict[str, str]:
    return {
        "contact": link_prefix("contacts:contact_detail"),
        "entry": link_prefix("interactions:entry_detail"),
    }


def _history_rows(entries: list, *, show_contact: bool, links: dict[str, str]) -> SafeString:
    """The history table's rows, from the autoescaping partial contacts/_history_rows.html.

    Twenty rows through the Django template engine were half of a card's time: the partial
    gets the links and labels worked out once, and dates and amounts formatted as kept per
    process (`short_date`, `amount`). ``entries`` come from `_entries_shown`; ``links`` from
    `_card_links`.
    """
    if not entries:
        return SafeString("")
    log_entry = Contact._meta.get_field("log_entries").related_model
    evaluations = {
        value: str(label)
        for value, label in log_entry._meta.get_field("evaluation").choices
        if value
    }
    title = log_entry.titles()
    # Each row's cells as a tuple the partial unpacks: looking each value up and calling the
    # formatters from the template cost about a third of the rows' time.
    rows = [
        (
            short_date(entry.date),
            entry.pk,
            title(
                entry.template__description,
                entry.information_flow,
                entry.salesperson__name,
                entry.contact__name,
            ),
            entry.attempt_failed,
            entry.description,
            entry.contact_id,
            entry.contact__name if show_contact else "",
            amount(entry.cost, 2),
            amount(entry.duration, 0),
            evaluations.get(entry.evaluation, ""),
        )
        for entry in entries
    ]
    return render_rows(
        "contacts/_history_rows.html",
        {
            "rows": rows,
            "show_contact": show_contact,
            # Plain names, not links.entry: the partial reads them once, not an attribute a row.
            "entry_link": links["entry"],
            "contact_link": links["contact"],
            "failed": _("Attempt failed"),
        },
    )


_HISTORY_LABELS = PageLabels(
    lambda: {
        "history": _("Interaction History"),
        "date": _("Date"),
        "interaction": _("Interaction"),
        "description": _("Description"),
        "contact": _("Contact"),
        "cost": _("Cost (LCY)"),
        "duration": _("Duration (Min.)"),
        "evaluation": _("Evaluation"),
    }
)


def _history_panel(entries: list, *, show_contact: bool, empty: str) -> SafeString:
    """A card's Interaction History panel, from the Jinja2 partial contacts/_history.html, with
    the rows of `_history_rows`; ``empty``: what it says without entries.

    Through the Django template engine its headings were an include, ten `{% translate %}` and
    a `{% blocktranslate %}`: the partial gets them kept per language, escaped as the Django
    engine escapes them, so the card is what it was."""
    return render_rows(
        "contacts/_history.html",
        {
            "rows": _history_rows(entries, show_contact=show_contact, links=_card_links()),
            "show_contact": show_contact,
            "labels": _HISTORY_LABELS(),
            # As {% blocktranslate %} placed it: the translation as it is, the number escaped.
            "newest": mark_safe(  # noqa: S308 (a translation of ours)
                _(
                    "The %(history_size)s newest interactions, newest first; canceled entries "
                    "are not shown."
                )
                % {"history_size": HISTORY_SIZE}
            ),
            "empty": escape(empty),
        },
    )


def _history_empty(contact: Contact) -> str:
    """What a contact card's history says without entries."""
    if contact.privacy_blocked:
        return _("No interactions recorded for this contact.")
    if contact.is_company:
        return _(
            "No interactions recorded for this company or its persons yet. Use Create "
            "Interaction to record a call, meeting, letter or email."
        )
    return _(
        "No interactions recorded for this contact yet. Use Create Interaction to record a "
        "call, meeting, letter or email."
    )


_CARD_LABELS = PageLabels(
    lambda: {
        "general": _("General"),
        "number": _("No."),
        "type": _("Type"),
        "name": _("Name"),
        "first_name": _("First Name"),
        "surname": _("Surname"),
        "company_name": _("Company Name"),
        "job_title": _("Job Title"),
        "salesperson": _("Salesperson"),
        "communication": _("Communication"),
        "email": _("Email"),
        "phone": _("Phone No."),
        "address": _("Address"),
        "postcode_city": _("Post Code / City"),
        "country": _("Country/Region Code"),
        "language": _("Language"),
        "correspondence_type": _("Correspondence Type"),
        "segmentation": _("Segmentation and Privacy"),
        "exclude_from_segment": _("Exclude from Segment"),
        "privacy_blocked": _("Privacy Blocked"),
        "created": _("Created"),
        "last_changed": _("Last Changed"),
    }
)


def _card_fields(contact: Contact) -> SafeString:
    """The contact card's panels General, Communication and Segmentation and Privacy, from the
    Jinja2 partial contacts/_card_fields.html.

    Through the Django template engine they were ~25 `{% translate %}`, three
    `get_absolute_url()` and a dozen filters and choice labels: about a fifth of the card's
    CPU. The partial gets its labels kept per language and the values formatted here, each
    escaped as the Django engine escapes them (`PageLabels`), so the card is what it was.
    ``contact`` comes from `get_contact_for_user` (company, salesperson and users loaded).
    """
    company, salesperson = contact.company, contact.salesperson
    yes_no = _("Yes,No")
    shown = {
        "number": contact.number,
        "type": contact.get_type_display(),
        "name": contact.name,
        "first_name": contact.first_name or "—",
        "surname": contact.surname or "—",
        "company": company.name if company else "",
        "company_number": company.number if company else "",
        "job_title": contact.job_title or "—",
        "salesperson": salesperson.name if salesperson else "",
        "email": contact.email,
        "phone": contact.phone or "—",
        "address": contact.address or "—",
        "postcode": contact.postcode,
        "city": contact.city or "—",
        "country": contact.country or "—",
        "language": contact.get_language_display() or "—",
        "correspondence_type": (
            contact.get_correspondence_type_display() if contact.correspondence_type else "—"
        ),
        "exclude_from_segment": yesno(contact.exclude_from_segment, yes_no),
        "privacy_blocked": yesno(contact.privacy_blocked, yes_no),
        "created_by": contact.created_by.get_username() if contact.created_by else "",
        "updated_by": contact.updated_by.get_username() if contact.updated_by else "",
    }
    shown = {name: escape(value) for name, value in shown.items()}
    # As the template's |date:"SHORT_DATETIME_FORMAT", in the current time zone.
    shown["created_at"] = date_filter(
        template_localtime(contact.created_at), "SHORT_DATETIME_FORMAT"
    )
    shown["updated_at"] = date_filter(
        template_localtime(contact.updated_at), "SHORT_DATETIME_FORMAT"
    )
    links = SimpleNamespace(
        contact=link_prefix("contacts:contact_detail"),
        salesperson=link_prefix("contacts:salesperson_detail"),
    )
    return render_rows(
        "contacts/_card_fields.html",
        {
            "contact": contact,
            "shown": SimpleNamespace(**shown),
            "labels": _CARD_LABELS(),
            "links": links,
        },
    )


_PERSONS_LABELS = PageLabels(
    lambda: {
        "persons": _("Persons"),
        "add_person": _("Add Person"),
        "number": _("No."),
        "name": _("Name"),
        "job_title": _("Job Title"),
        "email": _("Email"),
        "phone": _("Phone No."),
        "privacy_blocked": _("Privacy Blocked"),
        "show_all": _("Show all persons of this company"),
        "empty": _(
            "No persons yet. Add the people you deal with at this company so interactions can "
            "be recorded for them."
        ),
    }
)


def _persons_panel(
    company: Contact, persons: list[Contact], *, more: bool, can_add: bool
) -> SafeString:
    """The company card's Persons panel, from the Jinja2 partial contacts/_persons.html.

    Through the Django template engine its table was about a dozen tags a person and seven
    `{% translate %}`: the partial gets its labels kept per language and the persons' values
    escaped here as the Django engine escapes them, so the card is what it was. ``persons``
    have `PERSON_COLUMNS`; ``more``: the company has more than are shown; ``can_add``: the
    user may add a person."""
    shown = [
        SimpleNamespace(
            pk=person.pk,
            privacy_blocked=person.privacy_blocked,
            number=escape(person.number),
            name=escape(person.name),
            job_title=escape(person.job_title),
            email=escape(person.email),
            phone=escape(person.phone),
        )
        for person in persons
    ]
    links = {
        "contact": link_prefix("contacts:contact_detail"),
        "create": address("contacts:contact_create"),
        "list": address("contacts:contact_list"),
    }
    return render_rows(
        "contacts/_persons.html",
        {
            "company": company.pk,
            "persons": shown,
            "more": more,
            "can_add": can_add,
            "labels": _PERSONS_LABELS(),
            "links": links,
        },
    )


_SALESPERSON_LABELS = PageLabels(
    lambda: {
        "general": _("General"),
        "code": _("Code"),
        "name": _("Name"),
        "job_title": _("Job Title"),
        "email": _("Email"),
        "phone": _("Phone No."),
        "user": _("User"),
        "blocked": _("Blocked"),
    }
)


def _salesperson_fields(salesperson: Salesperson) -> SafeString:
    """The salesperson card's General panel, from the Jinja2 partial
    contacts/_salesperson_fields.html: labels kept per language and values formatted as the
    template's filters did (``default:"—"``, ``yesno``), escaped as the Django engine escapes
    them, so the card is what it was. ``salesperson`` comes with its user."""
    user = salesperson.user.get_username() if salesperson.user else ""
    shown = {
        "code": salesperson.code,
        "name": salesperson.name,
        "job_title": salesperson.job_title or "—",
        "email": salesperson.email,
        "phone": salesperson.phone or "—",
        "user": user or "—",
        "blocked": yesno(salesperson.blocked, _("Yes,No")),
    }
    return render_rows(
        "contacts/_salesperson_fields.html",
        {
            "shown": SimpleNamespace(**{name: escape(value) for name, value in shown.items()}),
            "labels": _SALESPERSON_LABELS(),
        },
    )


def _statistics(rows, period: PeriodForm) -> dict | None:
    """Statistics of ``rows`` (log entries, or their daily totals) in the period the form asks
    for; None while the form has errors."""
    if not period.is_valid():
        return None
    return rows.statistics(**period.period)


# --- Contacts ---------------------------------------------------------------------------------


# What the contact list's rows show: plain values, no model instances (50 rows a page).
CONTACT_LIST_COLUMNS = (
    "pk",
    "number",
    "name",
    "type",
    "company_id",
    "company_name",
    "city",
    "salesperson_name",
    "email",
    "phone",
    "privacy_blocked",
    "exclude_from_segment",
)


def _contact_values(contacts: ContactQuerySet):
    """``contacts`` (a page of the list) as rows of `CONTACT_LIST_COLUMNS` (lazily: slice it).

    The company's and salesperson's names are subqueries, not joins: PostgreSQL evaluates them
    for the fifty rows shown only, where a join looked up every match of a search before the
    sort kept fifty.
    """
    company = Contact.objects.filter(pk=OuterRef("company_id")).order_by()
    salesperson = Salesperson.objects.filter(pk=OuterRef("salesperson_id")).order_by()
    return contacts.annotate(
        company_name=Subquery(company.values("name")),
        salesperson_name=Subquery(salesperson.values("name")),
    ).values_list(*CONTACT_LIST_COLUMNS, named=True)


def _contact_rows(contacts: list) -> SafeString:
    """The contact list's table rows, from the autoescaping partial contacts/_contact_rows.html.

    Fifty rows through the Django template engine (three reverse() calls, a choice label and
    two translations a row) were most of the page's time: the partial gets the links and labels
    worked out once. ``contacts`` are rows of `CONTACT_LIST_COLUMNS`; the columns are the page
    template's <thead>.
    """
    return render_rows(
        "contacts/_contact_rows.html",
        {
            "contacts": contacts,
            "link": Markup.escape(link_prefix("contacts:contact_detail")),
            "labels": SimpleNamespace(
                privacy=Markup.escape(_("Privacy Blocked")),
                excluded=Markup.escape(_("Excluded from segments")),
                create=Markup.escape(_("Create Interaction")),
            ),
            "types": _TypeLabels(
                {value: Markup.escape(label) for value, label in ContactType.choices}
            ),
        },
    )


class _TypeLabels(dict):
    """A type's label by its value; an unknown value shows as it is (escaped by the partial).
    Read by subscript: ``types.get(type, type)`` was a call from the partial on every row."""

    def __missing__(self, key: str) -> str:
        return key


@require_GET
def contact_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()
    contact_type = request.GET.get("type", "")
    company_id = _int_or_none(request.GET.get("company"))
    salesperson_id = _int_or_none(request.GET.get("salesperson"))
    sort = request.GET.get("sort", "")
    if sort not in selectors.CONTACT_ORDERS:
        # Without words the list is by name; a search lists its best matches first.
        sort = "" if text else "name"
    filters = {"type": contact_type, "company_id": company_id, "salesperson_id": salesperson_id}
    if text:  # (stripped) a search: `contact_search` gives a `ContactSearch`
        # At most `SEARCH_LIMIT` matches: numbered pages, counted once (the Paginator's count
        # is the search's own, kept on it).
        found = selectors.contact_search(text=text, order=sort, **filters)
        page = Paginator(found.with_shape(_contact_values), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows, more = page.object_list, page.paginator.object_list.more
        count = selectors.ContactCount(page.paginator.count)
    else:
        page = _contact_page(request, filters, order=sort)
        if page is None:  # an old numbered link deeper than the list serves them
            query = request.GET.copy()
            del query["page"]
            return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)
        rows, more = page.object_list, False
        count = selectors.contact_count(**filters)
    return render(
        request,
        "contacts/contact_list.html",
        {
            "nav": "contacts",
            "page": page,
            "keyset": not text,
            "count": count,
            "count_limit": selectors.COUNT_LIMIT,
            "rows": _contact_rows(rows),
            "q": text,
            "sort": sort,
            "more": more,
            "search_limit": selectors.SEARCH_LIMIT,
            "type": contact_type,
            "types": ContactType.choices,
            "company": Contact.objects.filter(pk=company_id).first() if company_id else None,
            "salesperson": (
                Salesperson.objects.filter(pk=salesperson_id).first() if salesperson_id else None
            ),
            "filtered": bool(text or contact_type or company_id or salesperson_id),
        },
    )


def _contact_page(
    request: HttpRequest, filters: dict, *, order: str
) -> selectors.ContactPage | None:
    """The page of the list without words that the links ask for: ``after`` or ``before`` a
    contact number, ``page=last``, or an old ``page=N`` (served up to
    `selectors.PAGE_NUMBER_DEPTH` rows deep; None beyond). A link from a contact that is
    gone, or past the end, shows the first page."""
    after = selectors.parse_contact_number(request.GET.get("after"))
    before = selectors.parse_contact_number(request.GET.get("before"))
    number = request.GET.get("page", "")
    last = number == "last"
    offset = 0
    if not (after or before or last) and number.isascii() and number.isdigit():
        if len(number) > 6 or (int(number) - 1) * PAGE_SIZE >= selectors.PAGE_NUMBER_DEPTH:
            return None
        offset = max(int(number) - 1, 0) * PAGE_SIZE
    paged = {**filters, "order": order, "size": PAGE_SIZE, "shape": _contact_values}
    page = selectors.contact_page(after=after, before=before, last=last, offset=offset, **paged)
    if not page.object_list and (after or before or offset):
        page = selectors.contact_page(**paged)
    return page


@require_GET
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_contact_for_user(request, pk)
    persons_panel = ""
    if contact.is_company:
        persons = list(
            contact.persons.only(*PERSON_COLUMNS).order_by("name", "number")[: PERSONS_SHOWN + 1]
        )
        persons_panel = _persons_panel(
            contact,
            persons[:PERSONS_SHOWN],
            more=len(persons) > PERSONS_SHOWN,
            can_add=request.user.has_perm("contacts.add_contact"),
        )
    period = PeriodForm(request.GET)
    history = _HISTORY["contact_company" if contact.is_company else "contact"].fetch(
        owner=contact.pk
    )
    return render(
        request,
        "contacts/contact_detail.html",
        {
            "nav": "contacts",
            "contact": contact,
            "history": history,
            "history_panel": _history_panel(
                history, show_contact=contact.is_company, empty=_history_empty(contact)
            ),
            "period": period,
            "statistics": _contact_statistics(contact, period),
            "card_fields": _card_fields(contact),
            "persons_panel": persons_panel,
        },
    )


@permission_required("contacts.add_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ContactForm(request.POST)
        contact = save_form(
            form, lambda data: services.contact_create(user=request.user, data=data)
        )
        if contact is not None:
            messages.success(request, _("Contact %(contact)s created.") % {"contact": contact})
            return redirect(contact)
    else:
        setup = MarketingSetup.load()
        initial = {
            "salesperson": setup.default_salesperson_id,
            "language": setup.default_language,
            "correspondence_type": setup.default_correspondence_type,
        }
        # "Add Person" on a company card starts a person under that company.
        company_id = _int_or_none(request.GET.get("company"))
        company = Contact.objects.companies().filter(pk=company_id).first() if company_id else None
        if company is not None:
            initial.update(type=ContactType.PERSON, company=company)
        form = ContactForm(initial=initial)
    return form_page(
        request, form, nav="contacts", title=_("New Contact"), crumbs=_contacts_crumbs()
    )


@permission_required("contacts.change_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_contact_for_user(request, pk)
    title = str(contact)  # before the form writes the posted values into `contact`
    if request.method == "POST":
        form = ContactForm(request.POST, instance=contact)
        saved = save_form(
            form,
            lambda data: services.contact_update(user=request.user, contact=contact, data=data),
        )
        if saved is not None:
            messages.success(request, _("Contact %(contact)s saved.") % {"contact": contact})
            return redirect(contact)
    else:
        form = ContactForm(instance=contact)
    crumbs = [*_contacts_crumbs(), (contact.get_absolute_url(), title)]
    return form_page(request, form, nav="contacts", title=_("Edit Contact"), crumbs=crumbs)


def _contacts_crumbs() -> list[tuple[str, str]]:
    return [(reverse("contacts:contact_list"), _("Contacts"))]


@permission_required("contacts.delete_contact", raise_exception=True)
@require_http_methods(["GET", "POST"])
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_contact_for_user(request, pk)
    if request.method == "POST":
        try:
            services.contact_delete(user=request.user, contact=contact)
        except services.ContactInUse as refusal:
            messages.error(request, refusal.message)
            return redirect(contact)
        messages.success(request, _("Contact %(contact)s deleted.") % {"contact": contact})
        return redirect("contacts:contact_list")
    reasons = selectors.contact_usage(contact)
    return render(
        request,
        "contacts/contact_confirm_delete.html",
        {
            "nav": "contacts",
            "contact": contact,
            "refusal": services.ContactInUse(reasons).message if reasons else "",
        },
    )


def _picker_values(contacts: ContactQuerySet):
    """``contacts`` as the picker's rows: id, number, name and `Contact.company_name` (a
    company's own name, a person's company's, or ""), plain values, not three model instances
    a row with every column (the words' `search` vectors too)."""
    company = Contact.objects.filter(pk=OuterRef("company_id")).order_by().values("name")
    company_name = Case(
        When(type=ContactType.COMPANY, then=F("name")),
        default=Coalesce(Subquery(company), Value("")),
    )
    return contacts.annotate(company_name=company_name).values_list(
        "pk", "number", "name", "company_name", named=True
    )


@require_GET
def contact_search(request: HttpRequest) -> JsonResponse:
    """Up to 20 contacts for pickers, best matches first: [{id, number, name, company}]."""
    found = selectors.contact_search(
        text=request.GET.get("q", ""), type=request.GET.get("type", "")
    )
    if not isinstance(found, selectors.ContactSearch):
        return JsonResponse([], safe=False)
    results = [
        {"id": c.pk, "number": c.number, "name": c.name, "company": c.company_name}
        for c in found.with_shape(_picker_values)[:SEARCH_RESULTS]
    ]
    return JsonResponse(results, safe=False)


# --- Salespeople ------------------------------------------------------------------------------


@require_GET
def salesperson_list(request: HttpRequest) -> HttpResponse:
    text = request.GET.get("q", "").strip()
    sort = request.GET.get("sort", "")
    if sort not in SALESPERSON_ORDERS:
        sort = "code"
    salespeople = Salesperson.objects.select_related("user").order_by(*SALESPERSON_ORDERS[sort])
    if text:
        salespeople = salespeople.filter(Q(code__istartswith=text) | Q(name__istartswith=text))
    page = Paginator(salespeople, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contacts/salesperson_list.html",
        {"nav": "salespeople", "page": page, "q": text, "sort": sort},
    )


@require_GET
def salesperson_detail(request: HttpRequest, pk: int) -> HttpResponse:
    salesperson = selectors.get_salesperson_for_user(request, pk)
    period = PeriodForm(request.GET)
    history = _HISTORY["salesperson"].fetch(owner=salesperson.pk)
    return render(
        request,
        "contacts/salesperson_detail.html",
        {
            "nav": "salespeople",
            "salesperson": salesperson,
            "salesperson_fields": _salesperson_fields(salesperson),
            "history": history,
            "history_panel": _history_panel(
                history,
                show_contact=True,
                empty=_(
                    "No interactions recorded by this salesperson yet. Start one with Create "
                    "Interaction, from here or from a contact card."
                ),
            ),
            "period": period,
            # Summed from the daily totals: a salesperson has 100,000s of entries.
            "statistics": _statistics(salesperson.day_totals, period),
        },
    )


@permission_required("contacts.add_salesperson", raise_exception=True)
@require_http_methods(["GET", "POST"])
def salesperson_create(request: HttpRequest) -> HttpResponse:
    form = SalespersonForm(request.POST or None)
    if request.method == "POST":
        salesperson = save_form(
            form, lambda data: services.salesperson_create(user=request.user, data=data)
        )
        if salesperson is not None:
            messages.success(
                request, _("Salesperson %(salesperson)s created.") % {"salesperson": salesperson}
            )
            return redirect(salesperson)
    return form_page(
        request, form, nav="salespeople", title=_("New Salesperson"), crumbs=_salespeople_crumbs()
    )


@permission_required("contacts.change_salesperson", raise_exception=True)
@require_http_methods(["GET", "POST"])
def salesperson_edit(request: HttpRequest, pk: int) -> HttpResponse:
    salesperson = selectors.get_salesperson_for_user(request, pk)
    title = str(salesperson)  # before the form writes the posted values into `salesperson`
    form = SalespersonForm(request.POST or None, instance=salesperson)
    if request.method == "POST":
        saved = save_form(
            form,
            lambda data: services.salesperson_update(
                user=request.user, salesperson=salesperson, data=data
            ),
        )
        if saved is not None:
            messages.success(
                request, _("Salesperson %(salesperson)s saved.") % {"salesperson": salesperson}
            )
            return redirect(salesperson)
    crumbs = [*_salespeople_crumbs(), (salesperson.get_absolute_url(), title)]
    return form_page(request, form, nav="salespeople", title=_("Edit Salesperson"), crumbs=crumbs)


def _salespeople_crumbs() -> list[tuple[str, str]]:
    return [(reverse("contacts:salesperson_list"), _("Salespeople"))]


# --- Marketing Setup --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def marketing_setup(request: HttpRequest) -> HttpResponse:
    """Everyone reads the setup; Marketing Managers change it on the same page."""
    setup = MarketingSetup.load()
    can_change = request.user.has_perm("contacts.change_marketingsetup")
    form = None
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied
        form = MarketingSetupForm(request.POST, instance=setup)
        saved = save_form(
            form,
            lambda data: services.marketing_setup_update(user=request.user, setup=setup, data=data),
        )
        if saved is not None:
            messages.success(request, _("Marketing Setup saved."))
            return redirect("contacts:marketing_setup")
    elif can_change:
        form = MarketingSetupForm(instance=setup)
    return render(
        request,
        "contacts/marketing_setup.html",
        {"nav": "setup", "setup": setup, "form": form},
    )


# --- Campaigns, opportunities and number series -----------------------------------------------
# Everyone reads these lists; Marketing Managers add, change and delete. Each
# table is small (setup data), so a plain counted pager is fine here.


@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = Campaign.objects.select_related("salesperson").order_by("number")
    page = Paginator(campaigns, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contacts/campaign_list.html",
        {"nav": "setup", "tab": "campaigns", "page": page, "rows": page.object_list},
    )


campaign_create, campaign_edit, campaign_delete = SetupPages(
    model=Campaign,
    form=CampaignForm,
    get=selectors.get_campaign_for_user,
    create=services.campaign_create,
    update=services.campaign_update,
    delete=services.campaign_delete,
    record="campaign",
    key="number",
    nav="setup",
    list_url="contacts:campaign_list",
    heading=gettext_lazy("Campaigns"),
    new_title=gettext_lazy("New Campaign"),
    edit_title=gettext_lazy("Edit Campaign %(number)s"),
    created=gettext_lazy("Campaign %(campaign)s created."),
    saved=gettext_lazy("Campaign %(campaign)s saved."),
).views()


@require_GET
def opportunity_list(request: HttpRequest) -> HttpResponse:
    opportunities = Opportunity.objects.select_related(
        "contact_company", "salesperson", "campaign"
    ).order_by("number")
    page = Paginator(opportunities, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contacts/opportunity_list.html",
        {"nav": "setup", "tab": "opportunities", "page": page, "rows": page.object_list},
    )


opportunity_create, opportunity_edit, opportunity_delete = SetupPages(
    model=Opportunity,
    form=OpportunityForm,
    get=selectors.get_opportunity_for_user,
    create=services.opportunity_create,
    update=services.opportunity_update,
    delete=services.opportunity_delete,
    record="opportunity",
    key="number",
    nav="setup",
    list_url="contacts:opportunity_list",
    heading=gettext_lazy("Opportunities"),
    new_title=gettext_lazy("New Opportunity"),
    edit_title=gettext_lazy("Edit Opportunity %(number)s"),
    created=gettext_lazy("Opportunity %(opportunity)s created."),
    saved=gettext_lazy("Opportunity %(opportunity)s saved."),
).views()


@require_GET
def number_series_list(request: HttpRequest) -> HttpResponse:
    setup = MarketingSetup.load()
    series = list(NumberSeries.objects.order_by("code"))
    for row in series:
        row.used_for = [
            label
            for label, used in (
                (_("Contact Nos."), setup.contact_nos_id == row.pk),
                (_("Segment Nos."), setup.segment_nos_id == row.pk),
            )
            if used
        ]
    return render(
        request,
        "contacts/number_series_list.html",
        {"nav": "setup", "tab": "number_series", "rows": series},
    )


number_series_create, number_series_edit, number_series_delete = SetupPages(
    model=NumberSeries,
    form=NumberSeriesForm,
    get=selectors.get_number_series_for_user,
    create=services.number_series_create,
    update=services.number_series_update,
    delete=services.number_series_delete,
    record="series",
    key="code",
    nav="setup",
    list_url="contacts:number_series_list",
    heading=gettext_lazy("Number Series"),
    new_title=gettext_lazy("New Number Series"),
    edit_title=gettext_lazy("Edit Number Series %(code)s"),
    created=gettext_lazy("Number series %(code)s created."),
    saved=gettext_lazy("Number series %(code)s saved."),
).views()
