"""base.html's fixed parts, worked out once per process: the top bar (labels, addresses, the
main menu's links and the language options, for each language and current page) and the
addresses of the static files.

Every page shows the top bar. Through the Django template engine it was ~30 tags (the menu
twice, a dozen `{% translate %}`, the language switch's loop over `get_language_info_list`)
that gave the same HTML on every request apart from the user's name, the CSRF token and the
switch's ``next``: about 0.4 ms of a page's 4-10 ms of CPU. `site_header` renders it through a
Jinja2 partial (templates/jinja2/site/_header.html) fed what is kept per language, URL
configuration and prefix, and the page's ``nav`` and ``tab``; nothing of the user or the
request is kept.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info
from django.utils.translation import gettext as _

from contacts.web import address, render_partial

register = template.Library()

_header_parts: dict[tuple, dict] = {}
_addresses: dict[tuple, str] = {}


@register.tag
def site_header(parser, token):
    """``{% site_header %}{% block language_next %}...{% endblock %}{% endsite_header %}``:
    the skip link and the top bar. What it encloses is the language switch's ``next`` (a block,
    so that a page can override it)."""
    nodelist = parser.parse(("endsite_header",))
    parser.delete_first_token()
    return SiteHeaderNode(nodelist)


class SiteHeaderNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist  # found by {% extends %} (Node.child_nodelists)

    def render(self, context) -> SafeString:
        user = context.get("user")
        signed_in = user is not None and user.is_authenticated
        # site_nav: the menu without a signed-in user at hand (the 500 page, which reads no
        # database).
        show_nav = bool(context.get("site_nav")) or signed_in
        values = {
            **_fixed_parts(context.get("nav"), context.get("tab"), show_nav),
            "signed_in": signed_in,
        }
        if signed_in:
            # Escaped as the Django engine escapes (Jinja2 writes quotes differently); escaped
            # values pass through Jinja2 as they are.
            values["username"] = escape(user.get_full_name() or user.get_username())
            values["is_staff"] = user.is_staff
            values["csrf_token"] = escape(context.get("csrf_token", ""))
            values["next"] = self.nodelist.render(context)  # rendered by Django: escaped
        return render_partial("site/_header.html", values)


def _fixed_parts(nav: str | None, tab: str | None, show_nav: bool) -> dict:
    """What site_header shows the same for every user: labels, addresses, the main menu and
    the language options, each escaped by Django."""
    language = get_language()
    key = (language, get_script_prefix(), get_urlconf(), nav, tab, show_nav)
    if (parts := _header_parts.get(key)) is not None:
        return parts
    labels = {
        "skip": _("Skip to content"),
        "crm": _("CRM"),
        "main": _("Main"),
        "menu": _("Menu"),
        "admin": _("Admin"),
        "password": _("Password"),
        "language": _("Language"),
        "change_language": _("Change language"),
        "log_out": _("Log out"),
    }
    urls = {
        "home": site_url("home"),
        "admin": site_url("admin:index"),
        "password_change": site_url("password_change"),
        "set_language": site_url("set_language"),
        "logout": site_url("logout"),
    }
    parts = {
        "show_nav": show_nav,
        "labels": {name: escape(label) for name, label in labels.items()},
        "urls": {name: escape(url) for name, url in urls.items()},
        "nav": _nav_links(nav, tab, in_menu=False) if show_nav else "",
        "nav_in_menu": _nav_links(nav, tab, in_menu=True) if show_nav else "",
        # settings.LANGUAGES, each named in its own language ("Nederlands").
        "languages": [
            (
                escape(code),
                escape(capfirst(get_language_info(code)["name_local"])),
                code == language,
            )
            for code, _name in settings.LANGUAGES
        ],
    }
    if not settings.DEBUG:  # while developing, an edited menu template shows at once
        _header_parts[key] = parts
    return parts


def _nav_links(nav: str | None, tab: str | None, in_menu: bool) -> SafeString:
    """includes/_nav_links.html for a page's ``nav`` and ``tab``."""
    values = {"nav": nav, "tab": tab, "in_menu": in_menu}
    # Rendered by the Django engine, which autoescapes: safe to place as it is.
    return mark_safe(render_to_string("includes/_nav_links.html", values))  # noqa: S308


@register.simple_tag
def site_url(name: str) -> str:
    """``{% url name %}`` for a view without arguments (autoescaped where it is placed), kept
    per process by `contacts.web.address`, which the views' partials use too."""
    return address(name)


@register.simple_tag
def site_static(path: str) -> str:
    """``{% static path %}``: the storage looks the file's hashed name up on every call."""
    key = ("static", path)
    if (url := _addresses.get(key)) is None:
        url = static(path)
        if not settings.DEBUG:
            _addresses[key] = url
    return url


def _forget(**_kwargs) -> None:
    _header_parts.clear()
    _addresses.clear()


# A test that switches URL configurations, languages or templates gets fresh parts.
setting_changed.connect(_forget)
