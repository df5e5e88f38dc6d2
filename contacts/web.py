"""What the views of every app share: link prefixes and list rows from Jinja2 partials.

It lives in `contacts`, the lowest app, so that `interactions` and `segments` may import it
(`crm_site` wires the apps together and no app imports it).
"""

from __future__ import annotations

from django.template import engines
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

# The Jinja2 engine of settings.TEMPLATES (autoescape on, undefined names an error).
ROWS_ENGINE = "rows"


def link_prefix(name: str, *args) -> str:
    """The URL of the view ``name`` (with its leading ``args``, if any) without its trailing
    ``<pk>/``, to append pks to.

    Lists link every row; a reverse() per row was a large part of a list's time, a prefix and a
    pk cost almost nothing.
    """
    url = reverse(name, args=[*args, 0])
    if not url.endswith("/0/"):
        raise ValueError(f"{name} does not end in <pk>/")
    return url[:-2]


def render_rows(template_name: str, context: dict) -> SafeString:
    """The rows of a list table, rendered by the Jinja2 partial ``template_name``
    (templates/jinja2/...) for a Django template to place as they are.

    Jinja2 escapes every value the partial prints unless it is markupsafe's ``Markup``, which
    only labels escaped once beforehand are (``markupsafe.escape`` returns it). Its output is
    HTML whose every value is escaped, so it is safe to place unescaped. Rows go through Jinja2
    because the Django template engine spent most of a list's time on them.
    """
    html = engines[ROWS_ENGINE].get_template(template_name).render(context)
    # Stripped, so that no rows is "" and a page template can test for it.
    return mark_safe(html.strip())  # noqa: S308 (autoescaped by the Jinja2 engine)
