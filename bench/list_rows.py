"""CPU time of the four list pages whose rows come from Jinja2 partials, before and after.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench
    .venv/bin/python bench/list_rows.py [--rounds 20] [--requests 10]

The pages are the entry list, a company card (its history shows the contact column), the
contact list and a segment page (100 lines), all requested in-process through Django's whole
middleware stack by a Marketing Manager (who gets every column: the select boxes and the
Personalise links). "before" is the Python builders that wrote each row as an escaped HTML
string (issue 18 replaced them); they are kept below, verbatim but for the join, and swapped in
for the views' row functions. "after" is the code as it is. Each round asks every page
``--requests`` times with one, then the other, alternating which goes first, so both see the
same phase of the machine; the figures are medians over the rounds of the CPU time per request
(``time.process_time``: this process only, PostgreSQL's share excluded).

Before measuring, both versions render each page once and their rows are compared (after
folding the two escape spellings of a quote, ``&quot;``/``&#34;`` and ``&#x27;``/``&#39;``,
and white space between tags): the benchmark stops if they differ.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from functools import cache
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import setup_django

setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.template.defaultfilters import floatformat  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.formats import date_format, localize  # noqa: E402
from django.utils.safestring import mark_safe  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402

from contacts import views as contact_views  # noqa: E402
from contacts.models import Contact, ContactType, CorrespondenceType  # noqa: E402
from contacts.web import link_prefix  # noqa: E402
from interactions import views as interaction_views  # noqa: E402
from interactions.models import DeliveryStatus, Evaluation, InteractionLogEntry  # noqa: E402
from segments import views as segment_views  # noqa: E402
from segments.models import Segment  # noqa: E402

# --- before: the Python builders (interactions/views.py, contacts/views.py, segments/views.py
# at d3de31a), each returning the rows joined as one safe string like the partials do ---------

ENTRY_ROW = (
    "<tr>{select}"
    '<td class="num"><a href="{entry_link}{pk}/">{pk}</a></td><td>{date}</td><td>{time}</td>'
    '<td><a href="{contact_link}{contact_id}/">{contact}</a>'
    ' <span class="muted">{number}</span></td>'
    '<td class="wrap">{description}</td>'
    '<td><a href="{template_link}{template_id}/">{template}</a></td>'
    "<td>{salesperson}</td><td>{correspondence}</td>"
    '<td class="num">{cost}</td><td class="num">{duration}</td>'
    "<td>{evaluation}</td><td>{canceled}</td><td>{delivery}</td></tr>"
)
ENTRY_SELECT_CELL = (
    '<td><input type="checkbox" name="entry" value="{pk}" aria-label="{label} {pk}"></td>'
)
SALESPERSON_CELL = '<a href="{link}{pk}/">{code}</a>'
ENTRY_BADGE = '<span class="badge {css}">{label}</span>'


def old_entry_rows(entries, *, selectable: bool):
    links = {
        "entry_link": escape(link_prefix("interactions:entry_detail")),
        "contact_link": escape(link_prefix("contacts:contact_detail")),
        "template_link": escape(link_prefix("interactions:template_detail")),
    }
    salesperson_link = escape(link_prefix("contacts:salesperson_detail"))
    correspondence = {v: escape(str(label)) for v, label in CorrespondenceType.choices if v}
    evaluation = {v: escape(str(label)) for v, label in Evaluation.choices if v}
    delivery = {
        v: ENTRY_BADGE.format(css=interaction_views.DELIVERY_BADGES[v], label=escape(str(label)))
        for v, label in DeliveryStatus.choices
        if v
    }
    canceled = ENTRY_BADGE.format(css="badge-danger", label=escape(_("Canceled")))
    select_label = escape(_("Select entry"))
    dates = cache(lambda value: escape(date_format(value, "SHORT_DATE_FORMAT")))
    costs = cache(lambda value: escape(localize(value)))
    durations = cache(lambda value: escape(floatformat(value, "-2")))
    rows = []
    for row in entries:
        salesperson = ""
        if row.salesperson_id:
            salesperson = SALESPERSON_CELL.format(
                link=salesperson_link, pk=row.salesperson_id, code=escape(row.salesperson_code)
            )
        html = ENTRY_ROW.format(
            **links,
            select=ENTRY_SELECT_CELL.format(pk=row.pk, label=select_label) if selectable else "",
            pk=row.pk,
            date=dates(row.date),
            time=row.time.strftime("%H:%M") if row.time else "",
            contact_id=row.contact_id,
            contact=escape(row.contact_name),
            number=escape(row.contact_number),
            description=escape(row.description),
            template_id=row.template_id,
            template=escape(row.template_code),
            salesperson=salesperson,
            correspondence=correspondence.get(row.correspondence_type, ""),
            cost=costs(row.cost),
            duration=durations(row.duration),
            evaluation=evaluation.get(row.evaluation, ""),
            canceled=canceled if row.canceled else "",
            delivery=delivery.get(row.delivery_status, ""),
        )
        rows.append(html)
    return mark_safe("\n".join(rows))  # noqa: S308 (every value above is escaped)


HISTORY_ROW = (
    "<tr><td>{date}</td><td>{title}{failed}</td><td>{description}</td>{contact}"
    '<td class="num">{cost}</td><td class="num">{duration}</td><td>{evaluation}</td></tr>'
)


def old_history_rows(entries, *, show_contact: bool, links: dict[str, str]):
    # The rows are contacts.views._entries_shown's named tuples (they were model instances).
    field = InteractionLogEntry._meta.get_field("evaluation")
    evaluations = {value: escape(str(label)) for value, label in field.choices if value}
    titles = InteractionLogEntry.titles()
    failed = ' <span class="badge badge-warn">{}</span>'.format(escape(_("Attempt failed")))
    dates = cache(lambda value: escape(date_format(value, "SHORT_DATE_FORMAT")))
    costs = cache(lambda value: escape(floatformat(value, 2)))
    durations = cache(lambda value: escape(floatformat(value, 0)))
    rows = []
    for entry in entries:
        contact = ""
        if show_contact:
            contact = '<td><a href="{}{}/">{}</a></td>'.format(
                links["contact"], entry.contact_id, escape(entry.contact__name)
            )
        title = titles(
            entry.template__description,
            entry.information_flow,
            entry.salesperson__name,
            entry.contact__name,
        )
        html = HISTORY_ROW.format(
            date=dates(entry.date),
            title='<a href="{}{}/">{}</a>'.format(links["entry"], entry.pk, escape(title)),
            failed=failed if entry.attempt_failed else "",
            description=escape(entry.description),
            contact=contact,
            cost=costs(entry.cost),
            duration=durations(entry.duration),
            evaluation=evaluations.get(entry.evaluation, ""),
        )
        rows.append(html)
    return mark_safe("\n".join(rows))  # noqa: S308 (every value above is escaped)


CONTACT_ROW = (
    '<tr><td><a href="{link}{pk}/">{number}</a></td>'
    '<td><a href="{link}{pk}/">{name}</a>{privacy}{excluded}</td>'
    "<td>{type}</td><td>{company}</td><td>{city}</td><td>{salesperson}</td>"
    "<td>{email}</td><td>{phone}</td><td>{create}</td></tr>"
)
COMPANY_CELL = '<a href="{link}{pk}/">{name}</a>'
EMAIL_CELL = '<a href="mailto:{email}">{email}</a>'
CREATE_CELL = (
    '<button type="submit" form="create-interaction" name="contact" value="{pk}"'
    ' class="button button-small">{label}</button>'
)
CONTACT_BADGE = ' <span class="badge {css}">{label}</span>'


def old_contact_rows(contacts):
    link = escape(link_prefix("contacts:contact_detail"))
    types = {value: escape(str(label)) for value, label in ContactType.choices}
    privacy = CONTACT_BADGE.format(css="badge-danger", label=escape(_("Privacy Blocked")))
    excluded = CONTACT_BADGE.format(css="badge-warn", label=escape(_("Excluded from segments")))
    create_label = escape(_("Create Interaction"))
    rows = []
    for row in contacts:
        company = email = create = ""
        if row.company_id:
            company = COMPANY_CELL.format(
                link=link, pk=row.company_id, name=escape(row.company_name)
            )
        if row.email:
            email = EMAIL_CELL.format(email=escape(row.email))
        if not row.privacy_blocked:
            create = CREATE_CELL.format(pk=row.pk, label=create_label)
        html = CONTACT_ROW.format(
            link=link,
            pk=row.pk,
            number=escape(row.number),
            name=escape(row.name),
            privacy=privacy if row.privacy_blocked else "",
            excluded=excluded if row.exclude_from_segment else "",
            type=types.get(row.type) or escape(row.type),
            company=company,
            city=escape(row.city),
            salesperson=escape(row.salesperson_name or ""),
            email=email,
            phone=escape(row.phone),
            create=create,
        )
        rows.append(html)
    return mark_safe("\n".join(rows))  # noqa: S308 (every value above is escaped)


LINE_ROW = (
    "<tr{css}>{select}"
    '<td><a href="{contact_link}{contact_id}/">{contact}</a>'
    ' <span class="muted">{number}</span></td>'
    "<td>{template}</td><td>{description}</td><td>{correspondence}</td><td>{language}</td>"
    '<td>{salesperson}</td><td class="num">{cost}</td><td class="num">{duration}</td>'
    '<td class="row-actions">{badge} {personalise}</td></tr>'
)
LINE_SELECT_CELL = '<td><input type="checkbox" name="line" value="{pk}" aria-label="{label}"></td>'
PERSONALISE_LINK = '<a class="button button-small" href="{link}{pk}/">{label}</a>'


def old_line_rows(lines, *, segment, can_change: bool):
    contact_link = escape(link_prefix("contacts:contact_detail"))
    edit_link = escape(link_prefix("segments:line_edit", segment.pk))
    correspondence = {v: escape(str(label)) for v, label in CorrespondenceType.choices if v}
    badge = '<span class="badge">{}</span>'.format(escape(_("Personalised")))
    select_label = _("Select %(contact)s")
    # The markup of the translation it had then, around the translation of today's label.
    personalise_label = '<span class="visually-hidden">%(contact)s: </span>' + _("Personalise")
    costs = cache(lambda value: escape(localize(value)))
    durations = cache(lambda value: escape(floatformat(value, "-2")))
    rows = []
    for line in lines:
        contact = escape(line.contact_name)
        template = line.template_code
        salesperson = line.salesperson_code
        select = personalise = ""
        if can_change:
            select = LINE_SELECT_CELL.format(pk=line.id, label=select_label % {"contact": contact})
            personalise = PERSONALISE_LINK.format(
                link=edit_link, pk=line.id, label=personalise_label % {"contact": contact}
            )
        html = LINE_ROW.format(
            css=' class="personalised"' if line.personalised else "",
            select=select,
            contact_link=contact_link,
            contact_id=line.contact_id,
            contact=contact,
            number=escape(line.contact_number),
            template=escape(template) if template is not None else "",
            description=escape(line.interaction_description),
            correspondence=correspondence.get(
                line.correspondence_type, escape(line.correspondence_type)
            ),
            language=escape(line.language),
            salesperson=escape(salesperson) if salesperson is not None else "",
            cost=costs(line.unit_cost),
            duration=durations(line.unit_duration),
            badge=badge if line.personalised else "",
            personalise=personalise,
        )
        rows.append(html)
    return mark_safe("\n".join(rows))  # noqa: S308 (every value above is escaped)


# --- swapping and measuring -------------------------------------------------------------------

BUILDERS = [  # (module, row function, its copy from before)
    (interaction_views, "_entry_rows", old_entry_rows),
    (contact_views, "_history_rows", old_history_rows),
    (contact_views, "_contact_rows", old_contact_rows),
    (segment_views, "_line_rows", old_line_rows),
]
NEW = {name: getattr(module, name) for module, name, _old in BUILDERS}


def use(version: str) -> None:
    for module, name, old in BUILDERS:
        setattr(module, name, old if version == "before" else NEW[name])


def tbody(html: str) -> str:
    """The rows of the page's (last) table, with escapes and white space folded."""
    rows = html.rsplit("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = rows.replace("&quot;", "&#34;").replace("&#x27;", "&#39;")
    return re.sub(r">\s+<", "><", rows.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--requests", type=int, default=10, help="per page, version and round")
    args = parser.parse_args()

    client = Client()
    client.force_login(get_user_model().objects.get(username="manager"))
    company = (
        Contact.objects.filter(type=ContactType.COMPANY)
        .annotate(n=Count("company_log_entries"))
        .order_by("-n")[0]
    )
    segment = (
        Segment.objects.filter(status="open").annotate(n=Count("lines")).order_by("-n").first()
    )
    pages = {
        "entry list": reverse("interactions:entry_list"),
        "company card": company.get_absolute_url(),
        "contact list": reverse("contacts:contact_list"),
        "segment page": segment.get_absolute_url(),
    }
    for label, url in pages.items():
        rendered = {}
        for version in ("before", "after"):
            use(version)
            response = client.get(url)
            assert response.status_code == 200, (label, version, response.status_code)
            rendered[version] = tbody(response.content.decode())
        assert rendered["before"] == rendered["after"], f"{label}: the rows differ"
        assert rendered["after"].count("<tr") >= 20, label
    print(f"rows identical before and after on all {len(pages)} pages")

    samples = {(label, version): [] for label in pages for version in ("before", "after")}
    for round_ in range(args.rounds):
        order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
        for label, url in pages.items():
            for version in order:
                use(version)
                start = time.process_time()
                for _request in range(args.requests):
                    client.get(url)
                cpu_ms = (time.process_time() - start) * 1000 / args.requests
                samples[label, version].append(cpu_ms)
    use("after")

    print(f"{'page':14s} {'before ms':>10s} {'after ms':>9s} {'after/before':>13s}")
    for label in pages:
        before = statistics.median(samples[label, "before"])
        after = statistics.median(samples[label, "after"])
        print(f"{label:14s} {before:10.2f} {after:9.2f} {after / before:13.3f}")


if __name__ == "__main__":
    main()
