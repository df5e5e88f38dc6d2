"""The kept name word starts (`NamePrefixTotals`, issue 19) equal what the search's own match
counts (`NAME_WORDS` against a prefix tsquery, through its GIN index) after every path that
changes contacts: the services, an import, `seed_demo`'s way (COPY), plain ORM writes (the
admin's), renames, deletes, a truncate and two connections at once; and a search of one short
word asks them instead of counting its name matches."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import importer, selectors, services
from contacts.models import (
    KEPT_PREFIX_LENGTH,
    NAME_WORDS,
    Contact,
    ContactType,
    NamePrefixTotals,
    prefix_search,
)
from tests import factories
from tests.test_segment_history import run_together

pytestmark = pytest.mark.django_db


def name_words() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT unnest(tsvector_to_array(ts_filter(search, '{a}')))"
            " FROM contacts_contact"
        )
        return {word for (word,) in cursor.fetchall()}


def counted() -> dict[str, int]:
    """Each start of a name word, with how many contacts the search finds by name for it."""
    starts = {word[:n] for word in name_words() for n in range(1, KEPT_PREFIX_LENGTH + 1)}
    named = Contact.objects.alias(name_words=NAME_WORDS)
    return {start: named.filter(name_words=prefix_search(f"{start}:*")).count() for start in starts}


def kept() -> dict[str, int]:
    return dict(NamePrefixTotals.objects.exclude(contacts=0).values_list("prefix", "contacts"))


def assert_exact() -> dict[str, int]:
    assert kept() == counted()
    return kept()


def company(name: str, **fields) -> Contact:
    return factories.CompanyFactory(name=name, **fields)


def test_no_contacts_no_totals():
    assert kept() == {}


def test_each_contact_counts_once_for_each_start_of_its_name_words(owner):
    services.contact_create(
        user=owner, data={"type": ContactType.COMPANY, "name": "Maas Mees", "number": "C1"}
    )
    services.contact_create(
        user=owner, data={"type": ContactType.COMPANY, "name": "Bakker-Maas", "number": "C2"}
    )
    services.contact_create(
        user=owner, data={"type": ContactType.COMPANY, "name": "Ö", "number": "C3"}
    )
    totals = assert_exact()
    # "Maas Mees" has two words starting with m: one contact. Words are cut at punctuation.
    assert {start: totals[start] for start in ("m", "ma", "maa", "me", "b", "bak", "o")} == {
        "m": 2,
        "ma": 2,
        "maa": 2,
        "me": 1,
        "b": 1,
        "bak": 1,
        "o": 1,  # accents go, as in the search's words
    }
    assert "maas" not in totals  # at most KEPT_PREFIX_LENGTH letters


def test_totals_follow_renames_and_deletes_through_the_services(owner):
    acme = services.contact_create(
        user=owner, data={"type": ContactType.COMPANY, "name": "Acme", "number": "C1"}
    )
    jan = services.contact_create(
        user=owner,
        data={"type": ContactType.PERSON, "name": "Jan Bos", "number": "P1", "company": acme},
    )
    assert assert_exact()["j"] == 1
    services.contact_update(user=owner, contact=jan, data={"name": "Piet Bos"})
    totals = assert_exact()
    assert "j" not in totals
    assert (totals["pie"], totals["bos"]) == (1, 1)
    services.contact_delete(user=owner, contact=jan)
    assert assert_exact() == {"a": 1, "ac": 1, "acm": 1}


def test_plain_orm_writes_keep_the_totals():
    for name in ("Mees", "Maas", "Bos"):
        company(name)
    assert assert_exact()["m"] == 2
    # One statement across several starts, as the admin's bulk actions write.
    Contact.objects.filter(name__startswith="M").update(name="Bakker")
    assert assert_exact()["b"] == 3
    Contact.objects.filter(name="Bakker").delete()
    assert assert_exact() == {"b": 1, "bo": 1, "bos": 1}


def test_an_update_that_keeps_the_name_words_writes_no_totals():
    contact = company("Mees Maas")
    with connection.cursor() as cursor:
        cursor.execute("SELECT prefix, ctid::text FROM contacts_nameprefixtotals ORDER BY 1")
        before = cursor.fetchall()
        Contact.objects.filter(pk=contact.pk).update(email="new@example.com", city="Venlo")
        Contact.objects.filter(pk=contact.pk).update(name="Maas Mees")  # the same words
        cursor.execute("SELECT prefix, ctid::text FROM contacts_nameprefixtotals ORDER BY 1")
        # An untouched row keeps its place; an update, even of the same values, moves it.
        assert cursor.fetchall() == before


def test_an_import_adds_its_contacts_to_the_totals(tmp_path):
    factories.import_contacts(
        tmp_path,
        "type,name,first_name,surname,company,salesperson\n"
        "company,Acme BV,,,,\n"
        "person,,Jan,Jansen,Acme BV,\n"
        "person,,Piet,Pietersen,Acme BV,\n",
    )
    totals = assert_exact()
    assert (totals["j"], totals["p"], totals["bv"]) == (1, 1, 1)


def test_a_copy_as_seed_demo_writes_it_is_counted():
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY contacts_contact (number, type, name, first_name, surname, job_title, email,"
            " phone, language, address, postcode, city, country, correspondence_type,"
            " exclude_from_segment, privacy_blocked, created_at, updated_at) FROM STDIN"
        ) as copy,
    ):
        for n in range(5):
            row = (f"K{n}", "company", f"Copied {n}", *[""] * 11, False, False)
            copy.write_row((*row, "2026-01-01T00:00Z", "2026-01-01T00:00Z"))
    assert assert_exact()["cop"] == 5


@pytest.mark.django_db(transaction=True)
def test_truncating_the_contacts_empties_the_totals():
    company("Mees")
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE contacts_contact CASCADE")
    assert not NamePrefixTotals.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_connections_writing_contacts_at_once_keep_exact_totals(owner):
    first = [company(f"Mees {n}") for n in range(3)]
    second = [company(f"Bos {n}") for n in range(3)]

    def create(name: str):
        data = {"type": ContactType.COMPANY, "name": name, "number": name}
        return services.contact_create(user=owner, data=data)

    _results, errors = run_together(
        lambda: create("Maas"),
        lambda: create("Mulder"),
        lambda: create("Bakker"),
        # Two bulk statements crossing starts in opposite directions (no deadlock: key order).
        lambda: Contact.objects.filter(pk__in=[c.pk for c in first]).update(name="Bos"),
        lambda: Contact.objects.filter(pk__in=[c.pk for c in second]).update(name="Mees"),
        lambda: Contact.objects.bulk_create(
            Contact(type=ContactType.COMPANY, name=f"Mak {n}", number=f"B{n}") for n in range(5)
        ),
    )
    assert errors == []
    totals = assert_exact()
    assert (totals["m"], totals["b"], totals["bo"]) == (3 + 2 + 5, 3 + 1, 3)


@pytest.mark.django_db(transaction=True)
def test_a_contact_saved_during_an_import_waits_for_it_instead_of_deadlocking(
    monkeypatch, tmp_path
):
    # The import copies its companies, then its persons, in one transaction. A person saved
    # from another connection in between wants the persons' contact totals row and the start
    # "a", which the companies' copy holds; the persons' copy then wants that totals row.
    errors, waited = [], []

    def save_a_person():
        try:
            Contact.objects.create(type=ContactType.PERSON, name="Alice Bos", number="X1")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    saver = threading.Thread(target=save_a_person)
    copy = importer._copy

    def copy_then_save_a_person(rows, progress):
        copy(rows, progress)
        if saver.is_alive() or waited:
            return
        saver.start()
        with connection.cursor() as cursor:
            for _ in range(100):  # until the other connection waits for a lock
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0]:
                    waited.append(True)
                    break
                time.sleep(0.05)

    monkeypatch.setattr(importer, "_copy", copy_then_save_a_person)
    factories.import_contacts(
        tmp_path,
        "type,name,first_name,surname,company\ncompany,Acme,,,\nperson,,Piet,Pietersen,Acme\n",
    )
    saver.join(timeout=30)
    assert waited == [True]
    assert errors == []
    assert Contact.objects.count() == 3
    assert assert_exact()["a"] == 2


def test_the_triggers_run_without_jit():
    # Their statements' plans are kept per connection: one made for a bulk statement was
    # costed high enough for JIT, which then compiled again on every later one-row write.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proconfig FROM pg_proc WHERE proname = 'contacts_name_prefix_totals'"
        )
        assert cursor.fetchone() == (["jit=off"],)


# --- The search asks them -----------------------------------------------------------------------


def statements(text: str, **filters) -> list[str]:
    search = selectors.ContactSearch(text, **filters)
    with CaptureQueriesContext(connection) as queries:
        search[0:50]
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("text", ["m", "Ma", "mAa", "7"])
def test_a_search_of_one_short_word_asks_the_totals_not_a_count(monkeypatch, text):
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 2)
    for name in ("Maas 7", "Maas 70", "Maas 71", "Mees"):
        company(name)
    sql = statements(text)
    assert "contacts_nameprefixtotals" in sql[0]
    assert not any("COUNT(" in statement for statement in sql)  # more than 2 fill the pages
    assert len(selectors.ContactSearch(text)[0:50]) == 2


@pytest.mark.parametrize(
    ("text", "filters"),
    [
        ("maas", {}),  # longer than the kept starts
        ("ma b", {}),  # two words
        ("ma", {"type": "company"}),  # a filter (as the list passes it)
        ("ж", {}),  # not a plain letter or digit
    ],
)
def test_other_searches_count_their_name_matches(text, filters):
    company("Maas Bos")
    sql = statements(text, **filters)
    assert "COUNT(" in sql[0]
    assert "contacts_nameprefixtotals" not in " ".join(sql)


def test_a_kept_start_with_few_name_matches_splits_the_pages_where_counting_did(
    owner_client, monkeypatch
):
    # Three name matches of "m", two more contacts matching by their city, pages of at most
    # four: the first rows are the name matches, as many as the kept number says, then the
    # others.
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 4)
    for name in ("Maas", "Mees", "Bos Mulder"):
        company(name, city="Delft")
    for name in ("Jan Bos", "Piet Kok"):
        company(name, city="Meppel")
    url = reverse("contacts:contact_list")
    kept_rows = owner_client.get(url, {"q": "m"}).context["page"].object_list
    monkeypatch.setattr(selectors, "KEPT_PREFIX_LENGTH", 0)  # count as before
    counted_rows = owner_client.get(url, {"q": "m"}).context["page"].object_list
    assert [row.name for row in kept_rows] == [row.name for row in counted_rows]
    assert [row.name for row in kept_rows] == ["Bos Mulder", "Maas", "Mees", "Jan Bos"]
