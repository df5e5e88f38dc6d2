"""``{% period_form %}``: a statistics panel's period (the context's ``period``, a
`contacts.forms.PeriodForm`), through the Jinja2 partial jinja2/includes/_period_form.html.

Through the Django template engine the form's two fields (their errors, ids, labels and values
looked up by the template one at a time) were about a tenth of a contact card's CPU; the partial
gets them worked out here and its labels kept per language (`contacts.web.PageLabels`), every
value escaped as the Django engine escapes it, so the markup is what it was.
"""

from __future__ import annotations

from types import SimpleNamespace

from django import template
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from contacts.web import PageLabels, render_partial

register = template.Library()

_LABELS = PageLabels(
    lambda: {"period": _("Statistics period"), "show": _("Show"), "all_dates": _("All dates")}
)


@register.simple_tag(takes_context=True)
def period_form(context) -> SafeString:
    period = context["period"]
    fields = []
    for field in period:
        value = field.value()
        fields.append(
            SimpleNamespace(
                name=field.html_name,
                id=field.id_for_label,
                label=escape(field.label),
                value="" if value is None else escape(localize(value)),
                errors=field.errors,  # an ErrorList, rendered by Django's form renderer
            )
        )
    values = {
        "action": escape(context["request"].path),
        "labels": _LABELS(),
        "non_field_errors": period.non_field_errors(),
        "fields": fields,
        "has_changed": period.has_changed(),
    }
    return render_partial("includes/_period_form.html", values, end="\n")
