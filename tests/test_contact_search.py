"""Word search for contacts: every word of name, company name, email, phone, city and number
matches by prefix, accents ignored, several words narrow, best matches first; the same search
in the list, the JSON picker, the wizard's contact field and a segment's Add Contact."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from contacts import search, selectors
from contacts.models import Contact
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = reverse("contacts:contact_list")
SEARCH_URL = reverse("contacts:contact_search")


def company(name: str, **fields) -> Contact:
    fields = {"city": "Zwolle", "email": "", **fields}
    return factories.CompanyFactory(name=name, **fields)


def person(name: str, **fields) -> Contact:
    first, _, surname = name.partition(" ")
    fields = {"city": "Zwolle", "email": "", "company": None, **fields}
    return factories.PersonFactory(name=name, first_name=first, surname=surname, **fields)


def listed(client, text: str, **params) -> list[str]:
    response = client.get(LIST_URL, {"q": text, **params})
    assert response.status_code == 200
    return [row.name for row in response.context["page"].object_list]


def test_the_issues_examples_find_a_word_inside_a_name(owner_client):
    company("Jansen & De Pauw BV")
    person("Khadija Jansen")
    company("Bauwens-Jansen")
    company("Giraud Moreau S.A.S.")
    company("Glasses Oud Ootmarsum Groep")
    company("Oudenaarde Trading")
    company("Zoud Holding")  # "oud" inside a word, not at its start

    assert sorted(listed(owner_client, "jansen")) == [
        "Bauwens-Jansen",
        "Jansen & De Pauw BV",
        "Khadija Jansen",
    ]
    assert listed(owner_client, "moreau") == ["Giraud Moreau S.A.S."]
    assert listed(owner_client, "oud") == ["Glasses Oud Ootmarsum Groep", "Oudenaarde Trading"]


def test_accents_and_case_are_ignored_both_ways(owner_client):
    company("Müller GmbH")
    company("Muller & Søn")
    person("Zoë Ærø Straße")

    assert listed(owner_client, "muller") == ["Muller & Søn", "Müller GmbH"]
    assert listed(owner_client, "MÜLLER") == ["Muller & Søn", "Müller GmbH"]
    assert listed(owner_client, "son") == ["Muller & Søn"]
    assert listed(owner_client, "zoe aero strasse") == ["Zoë Ærø Straße"]


def test_several_words_narrow_the_result(owner_client):
    company("Jansen & De Pauw BV")
    person("Khadija Jansen")
    person("Pieter Jansen")

    assert listed(owner_client, "jansen pauw") == ["Jansen & De Pauw BV"]
    assert listed(owner_client, "j k") == ["Khadija Jansen"]
    assert listed(owner_client, "jansen zzz") == []


def test_every_word_of_email_phone_city_and_number_matches(owner_client):
    found = company(
        "Acme",
        number="CT004711",
        email="k.verbeek@acme-logistics.example",
        phone="+31 (0)20 555-0147",
        city="Den Haag",
    )
    company("Other", number="CT000001", email="x@other.example", phone="010 1234", city="Delft")

    for text in ["verbeek", "logistics", "k.verbeek@acme", "555", "0147", "haag", "ct0047"]:
        assert listed(owner_client, text) == [found.name], text
    assert listed(owner_client, "310205550147") == [found.name]  # the phone's digits in a row


def test_persons_are_found_by_their_companys_name_and_follow_its_renaming(owner_client):
    acme = company("Acme Trading")
    person("Grace Hopper", company=acme)
    company("Other")

    assert listed(owner_client, "acme") == ["Acme Trading", "Grace Hopper"]

    acme.name = "Zenith Works"
    acme.save()

    assert listed(owner_client, "acme") == []
    assert listed(owner_client, "zenith") == ["Zenith Works", "Grace Hopper"]


def test_name_matches_come_first_then_the_others_each_by_name(owner_client):
    # "jansen" in the name beats "jansen" in the company name, email or city.
    by_company = company("Jansen Logistics")
    person("Anna Bakker", company=by_company)
    person("Bart Smit", email="bart@jansen.example")
    person("Zeger Jansen")
    company("Berg Jansen BV")

    assert listed(owner_client, "jansen") == [
        "Berg Jansen BV",
        "Jansen Logistics",
        "Zeger Jansen",
        "Anna Bakker",
        "Bart Smit",
    ]


def test_a_broad_search_shows_its_best_matches_in_the_same_order(owner_client, monkeypatch):
    # Over the limit the search reads each group on its own (name matches, then the others),
    # page by page; the order is the same as a ranked narrow search.
    names = [f"Mees {n}" for n in range(4)] + [f"Adam {n}" for n in range(3)]
    for name in names:
        person(name, city="Maastricht")
    narrow = listed(owner_client, "m")
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 5)

    response = owner_client.get(LIST_URL, {"q": "m"})

    assert response.context["more"]
    assert response.context["page"].paginator.count == 5
    assert narrow == [*(f"Mees {n}" for n in range(4)), "Adam 0", "Adam 1", "Adam 2"]
    assert [row.name for row in response.context["page"].object_list] == narrow[:5]
    assert "More than 5 contacts match" in response.content.decode()
    search = selectors.contact_search(text="m")
    assert [c.name for c in search[3:5]] == narrow[3:5]  # a page across both groups
    assert [c.name for c in search[4:5]] == narrow[4:5]  # a page of the second group only


def test_a_broad_search_keeps_the_list_filters_on_every_page(owner_client, monkeypatch):
    # Over the limit a page's contacts are picked by number first, then read: the filters
    # must hold in the picking, or other contacts' rows would fill the page.
    for n in range(4):
        person(f"Mees {n}")
        company(f"Mees Bouw {n}")
    person("Adam Mol", city="Maastricht")
    company("Atlas Bouw", city="Maastricht")
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 2)

    companies = listed(owner_client, "m", type="company")
    picked = owner_client.get(SEARCH_URL, {"q": "m", "type": "company"}).json()

    assert companies == [f"Mees Bouw {n}" for n in range(2)]
    assert [row["name"] for row in picked] == [f"Mees Bouw {n}" for n in range(2)]
    search = selectors.contact_search(text="m", type="company")
    assert [c.name for c in search[1:2]] == ["Mees Bouw 1"]  # a page further in


def test_a_chosen_column_order_wins_over_the_ranking(owner_client):
    person("Zeger Jansen")
    person("Anna Bakker", email="anna@jansen.example")

    assert listed(owner_client, "jansen", sort="name") == ["Anna Bakker", "Zeger Jansen"]


def test_text_without_letters_or_digits_matches_nothing(owner_client):
    company("Acme")

    assert listed(owner_client, "%_-!") == []
    assert owner_client.get(SEARCH_URL, {"q": "%"}).json() == []


def test_the_python_words_are_the_database_words():
    # The query's words (Python) must be what the trigger stores (SQL) for the same text.
    samples = [
        "".join(chr(code) for code in range(0xC0, 0x250)),  # Latin-1 and Latin Extended A, B
        "".join(search.LIGATURES) + search.STROKED,
        "Jansen & De Pauw B.V., k.jansen@example.com +31 (0)20-555 0147 O'Brien_Smith",
        "ÉCOLE Ærø STRASSE ß Œuvre",
    ]
    with connection.cursor() as cursor:
        for text in samples:
            cursor.execute("SELECT contact_search_words(%s)", [text])
            assert cursor.fetchone()[0].split() == search.plain_words(text), text


def test_contacts_written_by_copy_are_found(owner_client, tmp_path):
    factories.import_contacts(
        tmp_path,
        "type,name,first_name,surname,company,email,city,country,language\n"
        "person,,Jan,Jansen,Brouwerij Ötzi BV,jan@otzi.example,,,nl\n"
        "company,Brouwerij Ötzi BV,,,,info@otzi.example,Utrecht,nl,nl\n",
    )

    assert listed(owner_client, "otzi") == ["Brouwerij Ötzi BV", "Jan Jansen"]
    assert listed(owner_client, "utrecht brouwerij") == ["Brouwerij Ötzi BV"]


def test_seeded_contacts_are_found_by_a_word_of_their_companys_name(owner_client):
    call_command("seed_demo", "--contacts", "30", "--interactions", "0", stdout=StringIO())
    worker = Contact.objects.filter(company__isnull=False).select_related("company").first()
    word = search.search_words(worker.company.name)[-1]

    found = {c.pk for c in selectors.contact_search(text=word)[:1000]}

    assert worker.pk in found
    assert worker.company_id in found


def test_json_picker_returns_the_best_matches_first(owner_client):
    company("Jansen Logistics")
    person("Bart Smit", email="bart@jansen.example")
    person("Zeger Jansen")

    names = [row["name"] for row in owner_client.get(SEARCH_URL, {"q": "jans"}).json()]

    assert names == ["Jansen Logistics", "Zeger Jansen", "Bart Smit"]


def test_the_wizard_and_add_contact_lookup_finds_a_word_inside_a_name():
    wanted = company("Giraud Moreau S.A.S.")
    company("Moreau-Lebrun")

    assert selectors.contact_lookup("giraud moreau").contact == wanted
    several = selectors.contact_lookup("moreau")
    assert several.contact is None
    assert [c.name for c in several.matches] == ["Giraud Moreau S.A.S.", "Moreau-Lebrun"]


def test_segment_add_contact_takes_a_word_of_the_name(owner_client, owner):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    wanted = company("Glasses Oud Ootmarsum Groep")
    company("Ootmarsum Bakkerij")

    several = owner_client.post(
        reverse("segments:line_add", args=[segment.pk]), {"contact": "ootmarsum"}
    )
    one = owner_client.post(
        reverse("segments:line_add", args=[segment.pk]), {"contact": "glasses ootmarsum"}
    )

    assert several.status_code == 400  # two match: the form offers them
    assert one.status_code == 302
    assert [line.contact for line in segment.lines.all()] == [wanted]


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("broad", [False, True])
def test_a_search_page_costs_the_same_queries_whatever_the_rows(
    owner_client, django_assert_num_queries, monkeypatch, rows, broad
):
    for n in range(rows):
        person(f"Mees {n:02d}", city="Amsterdam")
        person(f"Adam {n:02d}", city="Maastricht")
    if broad:
        monkeypatch.setattr(selectors, "SEARCH_LIMIT", rows + 1)
    # session, user, the name matches and all matches counted up to the limit; narrow: the
    # ranked page; broad: the page of name matches, the others counted, their page
    with django_assert_num_queries(7 if broad else 5):
        response = owner_client.get(LIST_URL, {"q": "m"})

    shown = rows + 1 if broad else min(2 * rows, 50)
    assert len(response.context["page"].object_list) == shown


# --- The search's statements compiled once -----------------------------------------------------


def _plain(row) -> tuple:
    """A row as comparable values: a values row as it is, a contact with its fields and those
    of the company and salesperson loaded with it."""
    if isinstance(row, tuple):
        return type(row).__name__, row
    loaded = row._state.fields_cache
    return tuple(
        {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}
        if obj is not None
        else None
        for obj in (row, loaded.get("company"), loaded.get("salesperson"))
    )


def _every_read(search_limit: int) -> list:
    """What a set of searches reads (counts, pages of both groups, filters, sort orders, both
    shapes of rows), one after another."""
    from contacts.views import _contact_values

    salesperson = Contact.objects.exclude(salesperson=None).values("salesperson_id")[0]
    maas = Contact.objects.get(name="Maas Holding")
    filters = [
        {},
        {"type": "company"},
        {"type": "person"},
        {"salesperson_id": salesperson["salesperson_id"]},
        {"company_id": maas.pk},
        {"company_id": maas.pk, "type": "person", "salesperson_id": -5},
    ]
    slices = [(0, 3), (3, 5), (4, 5), (2, None), (0, 50)]
    reads = []
    for text in ["m", "ma", "maas", "maastricht", "Mées Maas", "zzz", "%"]:
        for given in filters:
            for order in ["", "-name"]:
                found = selectors.contact_search(text=text, order=order, **given)
                if not isinstance(found, selectors.ContactSearch):
                    continue
                reads.append((text, given, order, search_limit, found.count(), found.more))
                for shape in (None, _contact_values):
                    rows = found.with_shape(shape) if shape else found
                    for start, stop in slices:
                        reads.append([_plain(row) for row in rows[start:stop]])
    return reads


@pytest.mark.parametrize("search_limit", [4, 500])
def test_search_statements_compiled_once_read_what_the_orm_reads(monkeypatch, search_limit):
    # Name matches, matches elsewhere (city, email, company), over the limit and under it.
    salespeople = [factories.SalespersonFactory(), factories.SalespersonFactory()]
    maas = company("Maas Holding", city="Utrecht", salesperson=salespeople[0])
    for n in range(6):
        person(f"Mees {n}", company=maas if n % 2 else None, salesperson=salespeople[n % 2])
        person(f"Adam {n}", city="Maastricht", salesperson=salespeople[1])
        company(f"Mare Bouw {n}", city="Delft")
        person(f"Zoë {n}", email=f"zoe{n}@mail.example", company=maas)
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", search_limit)

    monkeypatch.setattr(selectors, "_SEARCH_STATEMENTS", {})
    compiled = _every_read(search_limit)
    compiled_again = _every_read(search_limit)
    kept = [s for s in selectors._SEARCH_STATEMENTS.values() if s is not None]
    bound = selectors.MAX_SEARCH_STATEMENTS
    monkeypatch.setattr(selectors, "_SEARCH_STATEMENTS", {})
    monkeypatch.setattr(selectors, "MAX_SEARCH_STATEMENTS", 0)  # every read the ORM's way
    by_the_orm = _every_read(search_limit)

    assert 0 < len(kept) < bound  # none read the ORM's way
    assert not selectors._SEARCH_STATEMENTS
    assert compiled == by_the_orm
    assert compiled_again == by_the_orm
    assert any(len(rows) == 3 for rows in compiled if isinstance(rows, list))


def test_search_statements_are_kept_up_to_their_bound(monkeypatch):
    person("Mees Maas")
    monkeypatch.setattr(selectors, "_SEARCH_STATEMENTS", {})
    monkeypatch.setattr(selectors, "MAX_SEARCH_STATEMENTS", 3)

    for start in range(10):
        assert selectors.contact_search(text="mees")[start : start + 1] == (
            [Contact.objects.get()] if start == 0 else []
        )

    assert len(selectors._SEARCH_STATEMENTS) == 3


def test_a_search_with_an_id_no_key_can_hold_finds_nothing(owner_client):
    person("Mees Maas")

    for value in (2**63, -(2**63) - 1, 10**30):
        assert listed(owner_client, "mees", company=value) == []
        assert listed(owner_client, "mees", salesperson=value) == []


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("broad", [False, True])
def test_the_json_picker_costs_the_same_queries_whatever_the_rows(
    owner_client, django_assert_num_queries, monkeypatch, rows, broad
):
    for n in range(rows):
        person(f"Mees {n:02d}", city="Amsterdam")
        person(f"Adam {n:02d}", city="Maastricht")
    if broad:
        monkeypatch.setattr(selectors, "SEARCH_LIMIT", rows - 1)
    owner_client.get(SEARCH_URL, {"q": "m"})  # its statements compiled (no query of their own)
    # session, user, the name matches counted up to the limit; narrow: all matches counted,
    # the ranked page; broad: the page of name matches (they fill it)
    with django_assert_num_queries(4 if broad else 5):
        response = owner_client.get(SEARCH_URL, {"q": "m"})

    assert len(response.json()) == min(rows - 1 if broad else 2 * rows, 20)


def test_the_json_picker_names_each_contacts_company_as_the_contact_does(owner_client):
    acme = company("Mees Acme")
    person("Mees Worker", company=acme)
    person("Mees Alone")
    found = Contact.objects.filter(name__startswith="Mees").order_by("name")

    rows = owner_client.get(SEARCH_URL, {"q": "mees"}).json()

    assert rows == [
        {"id": c.pk, "number": c.number, "name": c.name, "company": c.company_name} for c in found
    ]
    assert [row["company"] for row in rows] == ["Mees Acme", "", "Mees Acme"]


def test_a_walk_asks_for_the_name_words_by_weight_and_finds_the_same_contacts():
    # The walk of the name index asks `search` for the name's words by their weight; the
    # counts and the ranked pages ask the indexed `ts_filter` of them. Words in the name only,
    # in the company's name, the city and the email only, and in both.
    maas = company("Maas Holding", city="Maastricht", email="info@maas.example")
    person("Mees Maas", company=maas)
    person("Adam de Vries", city="Maastricht", email="mees@mail.example")
    person("Zoë Mare", company=maas, city="Venlo")
    company("Vries Bouw", city="Delft", email="de.vries@bouw.example")
    found = set()
    for text in ["m", "ma", "maas", "mees maas", "de v", "vries", "zo", "info", "zzz"]:
        words = search.prefix_query(search.search_words(text))
        for group in ("named", "elsewhere", "all"):
            by_weight = selectors._search_group(group, words, {}, walk=True)
            by_filter = selectors._search_group(group, words, {})
            assert "ts_filter" not in str(by_weight.query) or group == "all"
            found_here = set(by_weight.values_list("pk", flat=True))
            assert found_here == set(by_filter.values_list("pk", flat=True)), (text, group)
            found.add((group, len(found_here)))
    assert {count for group, count in found if group == "elsewhere"} - {0}
    assert {count for group, count in found if group == "named"} - {0}
