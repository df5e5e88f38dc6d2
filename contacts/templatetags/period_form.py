"""``{% period_form %}``: a statistics panel's period (the context's ``period``, a
`contacts.forms.PeriodForm`), through the Jinja2 partial jinja2/includes/_period_form.html.

Through the Django template engine the form's two fields (their errors, ids, labels and values
looked up by the template one at a time) were about a tenth of a contact card's CPU; the partial
gets them worked out here and its labels kept per language (`contacts.web.PageLabels`), every
value escaped as the Django engine escapes it, so the markup is what it was.

A period without errors (every card, template and group page but a bad period's) is the same
markup in a language but for the page's path and the two dates typed: that markup is kept per
language, split around those values, and only they are filled in on each request. Rendering
the partial and its fields (an empty error list through the form renderer, about 30 escapes)
was ~0.5 M instructions a page (docs/benchmarks.md, part AB).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from contacts.web import PageLabels, render_partial

register = template.Library()

_LABELS = PageLabels(
    lambda: {"period": _("Statistics period"), "show": _("Show"), "all_dates": _("All dates")}
)

# Stand-ins for the request's values in the kept markup: NUL, which escaping leaves as it is.
_SLOT = re.compile("\x00([a-z_]+)\x00")
# The form's markup without errors, per (language, whether a date was given): the texts
# between the values, and the values' names (`_SLOT.split`: text, name, text, ..., text).
_KEPT: dict[tuple, list[str]] = {}


@register.simple_tag(takes_context=True)
def period_form(context) -> SafeString:
    period = context["period"]
    action = escape(context["request"].path)
    if period.errors:  # a bad period: the partial with the form's errors, rendered in full
        return render_partial("includes/_period_form.html", _values(period, action), end="\n")
    key = (get_language(), period.has_changed())
    if (parts := _KEPT.get(key)) is None:
        values = _values(period, SafeString("\x00action\x00"))
        parts = _SLOT.split(render_partial("includes/_period_form.html", values))
        if not settings.DEBUG:  # while developing, an edited partial shows at once
            _KEPT[key] = parts
    # As `field.value()` and `localize` give them: the typed text (the query string's last).
    values = {"action": action}
    for name in period.fields:
        value = period.data.get(period.add_prefix(name))
        values[period.add_prefix(name)] = "" if value is None else escape(value)
    html = "".join(values[part] if index % 2 else part for index, part in enumerate(parts))
    return mark_safe(html + "\n")  # noqa: S308 (the partial's output and escaped values)


def _values(period, action: str) -> dict:
    """The partial's values; without errors, each date as a stand-in named after its field."""
    errors = bool(period.errors)
    fields = []
    for field in period:
        value = field.value()
        if not errors:
            value = SafeString(f"\x00{field.html_name}\x00")
        elif value is None:
            value = ""
        else:
            value = escape(localize(value))
        fields.append(
            SimpleNamespace(
                name=field.html_name,
                id=field.id_for_label,
                label=escape(field.label),
                value=value,
                errors=field.errors,  # an ErrorList, rendered by Django's form renderer
            )
        )
    return {
        "action": action,
        "labels": _LABELS(),
        "non_field_errors": period.non_field_errors(),
        "fields": fields,
        "has_changed": period.has_changed(),
    }


def _forget_kept(**_kwargs) -> None:
    _KEPT.clear()


# A test that switches languages or templates gets fresh markup.
setting_changed.connect(_forget_kept)
