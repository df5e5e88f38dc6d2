"""The top bar every page shows (base.html, through crm_site.templatetags.site_nav), pinned to
the byte: the menus, the user menu with the language switch, in both languages, for staff and
others, signed out, and on the error pages. The Django template that once rendered it gave
exactly these lines, blank ones included."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from crm_site import views as site_views
from tests import factories

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _header(html: str) -> str:
    """From the skip link to the end of the top bar (the CSRF tokens as "X")."""
    start = html.index("<body>\n") + len("<body>\n")
    return TOKEN.sub('name="csrfmiddlewaretoken" value="X"', html[start : html.index("\n<main")])


def _nav(lines: list[str]) -> tuple[str, str]:
    """The main menu's links (and the </nav> after them) as the top bar shows them and as
    its Menu (for a phone) does."""
    nav = "\n" + "\n".join(lines)
    return nav, nav.replace(
        '<details class="menu setupmenu">', '<details class="menu setupmenu" open>'
    )


def _top_bar(skip: str, main: str, nav_lines: list[str], *, error_page: bool = False) -> list[str]:
    """The header's lines from the skip link to the main menu's Menu (for a phone)."""
    nav, menu = _nav(nav_lines)
    if error_page:  # no page of the menu is the current one
        nav, menu = (links.replace(' aria-current="page"', "") for links in (nav, menu))
    return [
        f'<a class="skip-link" href="#main">{skip}</a>',
        '<header class="topbar">',
        '  <a class="brand" href="/">CRM</a>',
        "  ",
        "  ",
        f'  <nav class="mainnav" aria-label="{main}">{nav}',
        '  <details class="menu navmenu">',
        "    <summary>Menu</summary>",
        f'    <nav class="menu-items" aria-label="{main}">{menu}',
        "  </details>",
        "  ",
        "  ",
    ]


ENGLISH_NAV_ON_CAMPAIGNS = [
    '<a href="/contacts/">Contacts</a>',
    '<a href="/contacts/salespeople/">Salespeople</a>',
    '<a href="/segments/">Segments</a>',
    '<a href="/segments/logged/">Logged Segments</a>',
    '<a href="/interactions/entries/">Interaction Log Entries</a>',
    '<a href="/interactions/drafts/">Postponed Interactions</a>',
    '<details class="menu setupmenu">',
    '  <summary class="current">Setup</summary>',
    '  <div class="menu-items">',
    '    <a href="/interactions/templates/">Interaction Templates</a>',
    '    <a href="/interactions/groups/">Interaction Groups</a>',
    '    <a href="/contacts/campaigns/" aria-current="page">Campaigns</a>',
    '    <a href="/contacts/opportunities/">Opportunities</a>',
    '    <a href="/contacts/number-series/">Number Series</a>',
    '    <a href="/contacts/setup/">Marketing Setup</a>',
    "  </div>",
    "</details>",
    "</nav>",
]
DUTCH_NAV_ON_ENTRIES = [
    '<a href="/contacts/">Contacten</a>',
    '<a href="/contacts/salespeople/">Verkopers</a>',
    '<a href="/segments/">Segmenten</a>',
    '<a href="/segments/logged/">Geregistreerde segmenten</a>',
    '<a href="/interactions/entries/" aria-current="page">Interactielogposten</a>',
    '<a href="/interactions/drafts/">Uitgestelde interacties</a>',
    '<details class="menu setupmenu">',
    "  <summary>Instellingen</summary>",
    '  <div class="menu-items">',
    '    <a href="/interactions/templates/">Interactiesjablonen</a>',
    '    <a href="/interactions/groups/">Interactiegroepen</a>',
    '    <a href="/contacts/campaigns/">Campagnes</a>',
    '    <a href="/contacts/opportunities/">Verkoopkansen</a>',
    '    <a href="/contacts/number-series/">Nummerreeksen</a>',
    '    <a href="/contacts/setup/">Marketinginstellingen</a>',
    "  </div>",
    "</details>",
    "</nav>",
]


def _messages_cookie() -> str:
    storage = CookieStorage(RequestFactory().get("/"))
    return storage._encode(
        [Message(constants.SUCCESS, "Saved <b>Ann & Co</b>"), Message(constants.WARNING, "Mind")]
    )


def test_header_for_staff_in_english_on_a_setup_page(client, db):
    staff = get_user_model().objects.create_superuser(
        "staff",
        "staff@example.com",
        factories.PASSWORD,
        first_name="Sam",
        last_name="O'Hara & <Sons>",
    )
    client.force_login(staff)
    html = client.get(reverse("contacts:campaign_list") + "?a=1&b=<2>").content.decode()

    assert _header(html) == "\n".join(
        [
            *_top_bar("Skip to content", "Main", ENGLISH_NAV_ON_CAMPAIGNS),
            '  <details class="menu usermenu">',
            '    <summary><span class="username">'
            "Sam O&#x27;Hara &amp; &lt;Sons&gt;</span></summary>",
            '    <div class="menu-items">',
            '      <a href="/admin/">Admin</a>',
            '      <a href="/accounts/password_change/">Password</a>',
            "      ",
            '      <form method="post" action="/i18n/setlang/" class="langswitch" data-autosubmit>',
            '        <input type="hidden" name="csrfmiddlewaretoken" value="X">',
            '        <input type="hidden" name="next"'
            ' value="/contacts/campaigns/?a=1&amp;b=%3C2%3E">',
            '        <label for="id_ui_language">Language</label>',
            '        <select name="language" id="id_ui_language">',
            "          ",
            '          <option value="en" lang="en" selected>English</option>'
            '<option value="nl" lang="nl">Nederlands</option>',
            "        </select>",
            '        <button type="submit" class="button button-small">Change language</button>',
            "      </form>",
            '      <form method="post" action="/accounts/logout/">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="X">'
            '<button type="submit" class="linklike">Log out</button></form>',
            "    </div>",
            "  </details>",
            "  ",
            "</header>",
        ]
    )
    # Both forms carry the page's one token, the one its other forms carry.
    tokens = TOKEN.findall(html)
    assert len(tokens) >= 2
    assert len(set(tokens)) == 1


def test_header_and_messages_for_a_manager_in_dutch(client, db):
    manager = factories.ManagerUserFactory(username="mgr", first_name="Mia", last_name="Ng")
    client.force_login(manager)
    client.cookies["django_language"] = "nl"
    client.cookies["messages"] = _messages_cookie()
    html = client.get(reverse("interactions:entry_list")).content.decode()

    assert _header(html) == "\n".join(
        [
            *_top_bar("Naar de inhoud", "Hoofdmenu", DUTCH_NAV_ON_ENTRIES),
            '  <details class="menu usermenu">',
            '    <summary><span class="username">Mia Ng</span></summary>',
            '    <div class="menu-items">',
            "      ",
            '      <a href="/accounts/password_change/">Wachtwoord</a>',
            "      ",
            '      <form method="post" action="/i18n/setlang/" class="langswitch" data-autosubmit>',
            '        <input type="hidden" name="csrfmiddlewaretoken" value="X">',
            '        <input type="hidden" name="next" value="/interactions/entries/">',
            '        <label for="id_ui_language">Taal</label>',
            '        <select name="language" id="id_ui_language">',
            "          ",
            '          <option value="en" lang="en">English</option>'
            '<option value="nl" lang="nl" selected>Nederlands</option>',
            "        </select>",
            '        <button type="submit" class="button button-small">Taal wijzigen</button>',
            "      </form>",
            '      <form method="post" action="/accounts/logout/">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="X">'
            '<button type="submit" class="linklike">Afmelden</button></form>',
            "    </div>",
            "  </details>",
            "  ",
            "</header>",
        ]
    )
    assert (
        '<main id="main" class="page">\n'
        "  \n"
        '  <ul class="messages" role="status">\n'
        '    <li class="message message-success">Saved &lt;b&gt;Ann &amp; Co&lt;/b&gt;</li>'
        '<li class="message message-warning">Mind</li>\n'
        "  </ul>\n"
        "  \n"
    ) in html


def test_header_shows_the_username_of_a_user_without_a_name(client, db):
    user = factories.ManagerUserFactory(username="mgr", first_name="", last_name="")
    client.force_login(user)
    html = client.get(reverse("contacts:contact_list")).content.decode()
    assert '<summary><span class="username">mgr</span></summary>' in html


@pytest.mark.parametrize(
    ("language", "skip"), [("en", "Skip to content"), ("nl", "Naar de inhoud")]
)
def test_header_when_signed_out_has_neither_menu(client, db, language, skip):
    client.cookies["django_language"] = language
    html = client.get(reverse("login")).content.decode()
    assert _header(html) == "\n".join(
        [
            f'<a class="skip-link" href="#main">{skip}</a>',
            '<header class="topbar">',
            '  <a class="brand" href="/">CRM</a>',
            "  ",
            "  ",
            "  ",
            "</header>",
        ]
    )


def test_error_page_language_switch_comes_back_home(owner_client):
    html = owner_client.get("/no/such/page/?x=1").content.decode()
    assert '<input type="hidden" name="next" value="/">' in _header(html)
    assert 'aria-current="page"' not in _header(html)


def test_server_error_page_shows_the_menu_without_the_database(db, django_assert_num_queries):
    with translation.override("nl"), django_assert_num_queries(0):
        html = site_views.server_error(RequestFactory().get("/")).content.decode()

    assert _header(html) == "\n".join(
        [
            *_top_bar("Naar de inhoud", "Hoofdmenu", DUTCH_NAV_ON_ENTRIES, error_page=True),
            "</header>",
        ]
    )
