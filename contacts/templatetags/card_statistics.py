"""``{% card_statistics %}``: the contact and salesperson cards' Statistics panel (the context's
``statistics``, a dict or None while ``period`` has errors), through the Jinja2 partial
jinja2/contacts/_statistics.html, with the period form of ``{% period_form %}``.

Through the Django template engine the panel was an include, eight ``{% translate %}`` and five
values through filters on every card; the partial gets its labels kept per language
(`contacts.web.PageLabels`) and the values formatted here as the template's filters did
(``floatformat``, ``date:"SHORT_DATE_FORMAT"``, ``default:"—"``), escaped as the Django engine
escapes them, so the markup is what it was.
"""

from __future__ import annotations

from types import SimpleNamespace

from django import template
from django.template.defaultfilters import date, floatformat
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from contacts.templatetags.period_form import period_form
from contacts.web import PageLabels, render_partial

register = template.Library()

_LABELS = PageLabels(
    lambda: {
        "statistics": _("Statistics"),
        "correct_the_period": _("Correct the period above to see the statistics."),
        "count": _("No. of Interactions"),
        "cost": _("Cost (LCY)"),
        "duration": _("Duration (Min.)"),
        "last_date": _("Date of Last Interaction"),
        "last_attempt": _("Last Date Attempted"),
        "not_counted": _("Canceled entries and postponed interactions are not counted."),
        "only_in_period": _("Only interactions dated in the period are counted."),
    }
)


@register.simple_tag(takes_context=True)
def card_statistics(context) -> SafeString:
    statistics = context["statistics"]
    shown = None
    if statistics is not None:
        shown = SimpleNamespace(
            count=escape(localize(statistics["count"])),
            cost=floatformat(statistics["cost"], 2),  # safe, as the filter's
            duration=floatformat(statistics["duration"], 0),
            last_date=escape(date(statistics["last_date"], "SHORT_DATE_FORMAT") or "—"),
            last_attempt=escape(date(statistics["last_attempt"], "SHORT_DATE_FORMAT") or "—"),
        )
    values = {
        "labels": _LABELS(),
        "period_form": period_form(context),
        "shown": shown,
        "has_changed": context["period"].has_changed(),
    }
    return render_partial("contacts/_statistics.html", values, end="\n")
