"""The UI in English and Dutch: a complete Dutch catalogue (compiled and committed, so a fresh
machine needs no gettext), the language from the browser or the header's switch, and dates and
numbers in the active language, also in the rows the views build themselves."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from tests import factories

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "nl" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# %(name)s / %(count)d and {name}: a translation must keep every one of them.
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def _placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def _translations(entry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[n] for n in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


# --- The catalogue ----------------------------------------------------------------------------


def test_dutch_catalogue_has_no_untranslated_fuzzy_or_obsolete_entries():
    catalogue = polib.pofile(str(PO))
    assert len(catalogue) > 500
    assert not catalogue.metadata_is_fuzzy
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert [e.msgid for e in catalogue.obsolete_entries()] == []
    assert catalogue.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"


def test_dutch_translations_keep_every_placeholder():
    for entry in polib.pofile(str(PO)):
        wanted = _placeholders(entry.msgid) | _placeholders(entry.msgid_plural or "")
        for text in _translations(entry):
            assert _placeholders(text) == wanted, (entry.msgid, text)


def test_committed_mo_file_matches_the_catalogue():
    """django.mo is committed (a fresh machine has no msgfmt); it must be compiled from the
    current django.po."""
    po = {e.msgid: _translations(e) for e in polib.pofile(str(PO))}
    mo = {e.msgid: _translations(e) for e in polib.mofile(str(MO)) if e.msgid}
    assert mo == po


@pytest.mark.skipif(
    shutil.which("xgettext") is None and os.environ.get("CRM_REQUIRE_GETTEXT") != "1",
    reason="needs GNU gettext (xgettext); CI installs it and sets CRM_REQUIRE_GETTEXT=1",
)
def test_catalogue_has_every_string_of_the_code_and_templates(tmp_path):
    """makemessages on a copy of the project finds no msgid the catalogue lacks."""
    for name in ("manage.py", "crm_site", "contacts", "interactions", "segments", "templates"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("*.pyc"))
        else:
            shutil.copy(source, tmp_path / name)
    (tmp_path / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "nl", "--no-location"],
        cwd=tmp_path,
        env={
            **os.environ,
            "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres:///x"),
            "DJANGO_SETTINGS_MODULE": "crm_site.settings",  # the copy has no tests/settings.py
        },
        check=True,
        capture_output=True,
    )
    found = {e.msgid for e in polib.pofile(str(tmp_path / PO.relative_to(ROOT)))}
    known = {e.msgid for e in polib.pofile(str(PO))}
    assert sorted(found - known) == []
    assert sorted(known - found) == []


# --- The active language ----------------------------------------------------------------------


def test_page_is_dutch_when_the_browser_asks_for_dutch(owner_client):
    response = owner_client.get(reverse("contacts:contact_list"), HTTP_ACCEPT_LANGUAGE="nl")
    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert "<title>Contacten · CRM</title>" in html
    for label in ("Interactielogposten", "Uitgestelde interacties", "Marketinginstellingen"):
        assert label in html
    assert "Interaction Log Entries" not in html


def test_page_is_english_by_default_and_for_other_languages(owner_client):
    for accept in ("", "de-DE,de;q=0.9", "en-GB,en;q=0.8"):
        html = owner_client.get(
            reverse("contacts:contact_list"), HTTP_ACCEPT_LANGUAGE=accept
        ).content.decode()
        assert '<html lang="en">' in html
        assert "Interaction Log Entries" in html


def test_language_switch_in_the_header_keeps_the_choice(owner_client):
    url = reverse("interactions:entry_list")
    page = owner_client.get(url).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    assert '<option value="nl" lang="nl">Nederlands</option>' in page

    response = owner_client.post(reverse("set_language"), {"language": "nl", "next": url})
    assert response.status_code == 302
    assert response["Location"] == url
    # The cookie wins over the browser's English.
    html = owner_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<h1>Interactielogposten</h1>" in html
    assert '<option value="nl" lang="nl" selected>Nederlands</option>' in html

    owner_client.post(reverse("set_language"), {"language": "en", "next": url})
    assert "<h1>Interaction Log Entries</h1>" in owner_client.get(url).content.decode()


def test_language_switch_refuses_a_foreign_next_url(owner_client):
    response = owner_client.post(
        reverse("set_language"), {"language": "nl", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


def test_language_switch_adds_no_query_to_a_page(owner_client, django_assert_max_num_queries):
    # The switch is plain markup: the page's queries are the session, the user and the page's.
    factories.CompanyFactory()
    with django_assert_max_num_queries(6):
        owner_client.get(reverse("contacts:contact_list"), HTTP_ACCEPT_LANGUAGE="nl")


# --- Dates and numbers ------------------------------------------------------------------------


@pytest.fixture
def entry(db):
    return factories.LogEntryFactory(
        date=datetime.date(2025, 3, 14),
        cost=Decimal("1234.50"),
        duration=Decimal("7.5"),
        template__code="CALL",
    )


def _cost_label(language: str) -> str:
    return {"en": "Cost (LCY)", "nl": "Kosten (LV)"}[language]


def _duration_label(language: str) -> str:
    return {"en": "Duration (Min.)", "nl": "Duur (min.)"}[language]


@pytest.mark.parametrize(
    ("language", "date", "cost", "duration"),
    [("en", "03/14/2025", "1234.50", "7.50"), ("nl", "14-3-2025", "1234,50", "7,50")],
)
def test_entry_list_rows_follow_the_active_language(
    owner_client, entry, language, date, cost, duration
):
    html = owner_client.get(
        reverse("interactions:entry_list"), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert f"<td>{date}</td>" in html
    assert f'data-label="{_cost_label(language)}">{cost}</td>' in html
    assert f'data-label="{_duration_label(language)}">{duration}</td>' in html


@pytest.mark.parametrize(
    ("language", "date", "cost"), [("en", "03/14/2025", "1234.50"), ("nl", "14-3-2025", "1234,50")]
)
def test_card_history_and_statistics_follow_the_active_language(
    owner_client, entry, language, date, cost
):
    html = owner_client.get(
        entry.contact.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert f"<td>{date}</td>" in html
    assert f'<td class="num">{cost}</td>' in html
    assert f'<div class="value">{cost}</div>' in html  # the statistics panel


def test_date_inputs_keep_iso_values_in_dutch(owner_client):
    contact = factories.PersonFactory()
    factories.TemplateFactory()
    wizard = owner_client.post(
        reverse("interactions:wizard_start"),
        {"contact": contact.pk},
        HTTP_ACCEPT_LANGUAGE="nl",
        follow=True,
    ).content.decode()
    value = re.search(r'<input type="date" name="type-date" value="([^"]*)"', wizard).group(1)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    statistics = owner_client.get(
        contact.get_absolute_url(), {"date_from": "2025-01-31"}, HTTP_ACCEPT_LANGUAGE="nl"
    ).content.decode()
    assert 'value="2025-01-31"' in statistics
