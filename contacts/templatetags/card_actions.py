"""``{% card_actions %}``: the contact card's header buttons (Create Interaction, Postponed
Interactions, Interaction Log Entries, Edit, Delete), through the Jinja2 partial
jinja2/contacts/_card_actions.html.

Through the Django template engine they were an include (interactions/_start_wizard.html, with
its ``{% csrf_token %}``), five ``{% translate %}``, two ``perms`` lookups and two ``{% url %}``
on every card; the tag reads the page's CSRF token from the context as ``{% csrf_token %}``
does (so the page keeps one token), the labels kept per language and the values escaped as the
Django engine escapes them, so the markup is what it was.
"""

from __future__ import annotations

from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from contacts.web import PageLabels, address, render_partial

register = template.Library()

_LABELS = PageLabels(
    lambda: {
        "create": _("Create Interaction"),
        "drafts": _("Postponed Interactions"),
        "entries": _("Interaction Log Entries"),
        "edit": _("Edit"),
        "delete": _("Delete"),
    }
)


@register.simple_tag(takes_context=True)
def card_actions(context) -> SafeString:
    contact = context["contact"]
    user = context["request"].user
    query = context["period"].query
    return render_partial(
        "contacts/_card_actions.html",
        {
            "labels": _LABELS(),
            "blocked": contact.privacy_blocked,
            "csrf_input": _csrf_input(context),
            "pk": contact.pk,
            "number": escape(quote(contact.number, safe="/")),  # as |urlencode
            "kind": "company" if contact.is_company else "contact",
            "period": mark_safe("&amp;" + escape(query)) if query else "",  # noqa: S308
            "wizard": address("interactions:wizard_start"),
            "drafts": address("interactions:draft_list"),
            "entries": address("interactions:entry_list"),
            "edit": (
                reverse("contacts:contact_edit", args=[contact.pk])
                if user.has_perm("contacts.change_contact")
                else ""
            ),
            "delete": (
                reverse("contacts:contact_delete", args=[contact.pk])
                if user.has_perm("contacts.delete_contact")
                else ""
            ),
        },
    )


def _csrf_input(context) -> str:
    """What ``{% csrf_token %}`` writes: the page's token (the context's, so one a page)."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":  # noqa: S105 (csrf_token's stand-in)
        return ""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
