"""base.html's fixed parts, worked out once per process: the main menu's links (for each
language and current page) and the addresses of its other links and static files.

base.html shows the menu twice on every page (the top bar, and the Menu on a phone): 24
`{% url %}` and `{% translate %}` tags that gave the same HTML on every request and took
about a sixth of a page's CPU. The HTML depends only on the language, the URL configuration
and prefix, and the page's ``nav`` and ``tab``, so it is kept per those; nothing of the user
or the request is in it. The same goes for the addresses of the user menu's links and the
static files (`site_url`, `site_static`).
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

_rendered: dict[tuple, SafeString] = {}


@register.simple_tag(takes_context=True)
def nav_links(context, in_menu: bool = False) -> SafeString:
    """includes/_nav_links.html for this page (``nav`` and ``tab`` from the context)."""
    values = {"nav": context.get("nav"), "tab": context.get("tab"), "in_menu": in_menu}
    key = (get_language(), get_script_prefix(), get_urlconf(), *values.values())
    html = _rendered.get(key)
    if html is None:
        # Rendered by the Django engine, which autoescapes: safe to place as it is.
        html = mark_safe(render_to_string("includes/_nav_links.html", values))  # noqa: S308
        if not settings.DEBUG:  # while developing, an edited template shows at once
            _rendered[key] = html
    return html


@register.simple_tag
def site_url(name: str) -> str:
    """``{% url name %}`` for a view without arguments (autoescaped where it is placed)."""
    key = ("url", name, get_script_prefix(), get_urlconf())
    if (url := _addresses.get(key)) is None:
        url = _addresses[key] = reverse(name)
    return url


@register.simple_tag
def site_static(path: str) -> str:
    """``{% static path %}``: the storage looks the file's hashed name up on every call."""
    key = ("static", path)
    if (url := _addresses.get(key)) is None:
        url = static(path)
        if not settings.DEBUG:
            _addresses[key] = url
    return url


_addresses: dict[tuple, str] = {}


def _forget(**_kwargs) -> None:
    _rendered.clear()
    _addresses.clear()


# A test that switches URL configurations, languages or templates gets fresh links.
setting_changed.connect(_forget)
