"""The contact list without words pages by keyset links (First, Previous, Next, Last; issue 19)
and says how many contacts it lists from the kept totals, or "more than" where it counts up to
a limit; old numbered links are served a bounded depth in. A search keeps its numbered pages,
counted once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import selectors
from contacts import views as contact_views
from contacts.models import Contact, ContactType, Salesperson
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = reverse("contacts:contact_list")
ORDERS = ["name", "-name", "number", "-number"]


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(contact_views, "PAGE_SIZE", 3)


@pytest.fixture
def book(db):
    """Eleven contacts with names that tie (three "Jansen"), two salespeople, both types; the
    numbers do not follow the names."""
    ann = factories.SalespersonFactory(code="ANN")
    bob = factories.SalespersonFactory(code="BOB")
    acme = factories.CompanyFactory(number="C09", name="Acme", salesperson=ann)
    factories.CompanyFactory(number="C01", name="Zeta", salesperson=bob)
    people = [
        ("P07", "Jansen", ann),
        ("P02", "Jansen", bob),
        ("P05", "Jansen", ann),
        ("P01", "Bakker", ann),
        ("P09", "Visser", bob),
        ("P03", "de Vries", ann),
        ("P08", "Smit", None),
        ("P04", "Mulder", ann),
        ("P06", "Bos", bob),
    ]
    for number, name, salesperson in people:
        factories.PersonFactory(number=number, name=name, company=acme, salesperson=salesperson)
    return {"ann": ann, "bob": bob, "acme": acme}


def numbers(response) -> list[str]:
    return [row.number for row in response.context["page"].object_list]


def expected(order: str, **filters) -> list[str]:
    contacts = Contact.objects.filter(**filters).order_by(*selectors.CONTACT_ORDERS[order])
    return list(contacts.values_list("number", flat=True))


def walk(client, query: dict, *, backwards: bool = False) -> list[str]:
    """Every number the list shows, following Next from the first page (or Previous from the
    last page), in the list's order."""
    page = client.get(LIST_URL, {**query, "page": "last"} if backwards else query)
    seen = [numbers(page)]
    for _ in range(20):
        link = page.context["page"].previous if backwards else page.context["page"].next
        if link is None:
            break
        page = client.get(LIST_URL, {**query, ("before" if backwards else "after"): link})
        seen.append(numbers(page))
    if backwards:
        seen.reverse()
    return [number for rows in seen for number in rows]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("filters", [{}, {"type": "person"}, {"salesperson": "ann"}])
def test_paging_visits_every_contact_once_in_order_both_ways(
    owner_client, book, small_pages, order, filters
):
    query, lookup = {"sort": order}, {}
    if "type" in filters:
        query["type"], lookup["type"] = filters["type"], filters["type"]
    if "salesperson" in filters:
        query["salesperson"] = book[filters["salesperson"]].pk
        lookup["salesperson"] = book[filters["salesperson"]]
    every = expected(order, **lookup)
    assert len(every) > 3  # more than one page
    assert walk(owner_client, query) == every
    assert walk(owner_client, query, backwards=True) == every


def test_names_that_tie_go_by_number(owner_client, book, small_pages):
    first = owner_client.get(LIST_URL, {"type": "person"})
    assert numbers(first) == ["P01", "P06", "P02"]  # Bakker, Bos, then the first Jansen
    second = owner_client.get(LIST_URL, {"type": "person", "after": "P02"})
    assert numbers(second) == ["P05", "P07", "P04"]  # the other two Jansens, then Mulder


def test_links_keep_the_filters_and_the_order(owner_client, book, small_pages):
    ann = book["ann"].pk
    response = owner_client.get(LIST_URL, {"type": "person", "salesperson": ann, "sort": "-name"})
    html = response.content.decode()
    page = response.context["page"]
    assert f"?type=person&amp;salesperson={ann}&amp;sort=-name&amp;after={page.next}" in html
    assert f"?type=person&amp;salesperson={ann}&amp;sort=-name&amp;page=last" in html
    assert "Previous" not in html  # the first page
    last = owner_client.get(LIST_URL, {"type": "person", "sort": "-name", "page": "last"})
    html = last.content.decode()
    assert "?type=person&amp;sort=-name" in html  # First
    assert f"?type=person&amp;sort=-name&amp;before={last.context['page'].previous}" in html
    assert "Next" not in html


def test_one_page_has_no_page_links(owner_client):
    factories.CompanyFactory.create_batch(3)
    html = owner_client.get(LIST_URL).content.decode()
    assert 'class="pagination"' not in html


@pytest.mark.parametrize("cursor", ["NOPE", "x" * 21, ""])
def test_a_link_from_a_contact_that_is_gone_or_mangled_shows_the_first_page(
    owner_client, book, small_pages, cursor
):
    for key in ("after", "before"):
        response = owner_client.get(LIST_URL, {key: cursor})
        assert response.status_code == 200
        assert numbers(response) == expected("name")[:3]


def test_an_old_numbered_link_is_served_up_to_its_depth(owner_client, book, small_pages):
    second = owner_client.get(LIST_URL, {"type": "person", "sort": "number", "page": 2})
    assert numbers(second) == expected("number", type="person")[3:6]
    page = second.context["page"]
    assert (page.previous, page.next) == ("P04", "P06")  # keyset links from there on
    assert numbers(owner_client.get(LIST_URL, {"page": "0"})) == expected("name")[:3]
    assert numbers(owner_client.get(LIST_URL, {"page": "nonsense"})) == expected("name")[:3]
    # Past the end but within the depth: the first page.
    assert numbers(owner_client.get(LIST_URL, {"page": 50})) == expected("name")[:3]


@pytest.mark.parametrize("number", ["1001", "99999999999999999999"])
def test_an_old_numbered_link_deeper_than_served_starts_over_with_its_filters(
    owner_client, book, number
):
    response = owner_client.get(LIST_URL, {"type": "person", "sort": "-number", "page": number})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST_URL}?type=person&sort=-number"


def test_the_list_says_how_many_contacts_from_the_kept_totals(owner_client, book):
    ann = book["ann"].pk

    def subtitle(query) -> str:
        html = owner_client.get(LIST_URL, query).content.decode()
        return html[html.index('class="subtitle">') :].split("<", 1)[0]

    assert "11 contacts" in subtitle({})
    assert "9 contacts" in subtitle({"type": "person"})
    assert "6 contacts" in subtitle({"salesperson": ann})
    assert "5 contacts" in subtitle({"salesperson": ann, "type": "person"})
    assert "9 contacts" in subtitle({"company": book["acme"].pk})
    Contact.objects.filter(number="P09").delete()
    assert "10 contacts" in subtitle({})


def test_a_company_with_more_persons_than_counted_says_more_than(owner_client, book, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_LIMIT", 5)
    response = owner_client.get(LIST_URL, {"company": book["acme"].pk})
    assert "More than 5 contacts" in response.content.decode()
    assert len(response.context["page"].object_list) == 9  # all shown, the count capped
    response = owner_client.get(LIST_URL, {"company": book["acme"].pk, "salesperson": "x"})
    assert "More than 5 contacts" in response.content.decode()
    response = owner_client.get(LIST_URL, {"company": book["acme"].pk, "type": "company"})
    assert "0 contacts" in response.content.decode() or "No contacts match" in (
        response.content.decode()
    )


def many(rows: int) -> None:
    salesperson = factories.SalespersonFactory(code="MANY")
    company = factories.CompanyFactory(salesperson=salesperson, name="Many BV")
    factories.PersonFactory.create_batch(rows, salesperson=salesperson, company=company)


# Each: session, user (with its permissions), the page (company and salesperson names in it),
# the count: a kept total (a few rows) or, for a company, counted up to the limit; a company
# or salesperson filter reads that record for the heading.
PAGES = {
    "first": ({}, 4),
    "first, by number descending": ({"sort": "-number"}, 4),
    "deep": ({"after": "cursor"}, 4),
    "before": ({"before": "cursor"}, 4),
    "last": ({"page": "last"}, 4),
    "old numbered link": ({"page": "3"}, 4),
    "filtered, deep": ({"type": "person", "after": "cursor"}, 4),
    "filtered, last": ({"type": "person", "sort": "number", "page": "last"}, 4),
    "a salesperson's, last": ({"salesperson": "many", "page": "last"}, 5),
    "a company's persons": ({"company": "many"}, 5),
}


@pytest.mark.parametrize("rows", [20, 120])
@pytest.mark.parametrize("page", PAGES)
def test_contact_list_pages_cost_the_same_queries_at_any_size(
    owner_client, django_assert_num_queries, small_pages, rows, page
):
    many(rows)
    query, queries = PAGES[page]
    cursor = expected("name")[rows // 2]
    salesperson = Salesperson.objects.get(code="MANY")
    company = Contact.objects.get(name="Many BV")
    values = {"cursor": cursor, "many": salesperson.pk}
    query = {key: values.get(value, value) for key, value in query.items()}
    if "company" in query:
        query["company"] = company.pk
    with django_assert_num_queries(queries):
        response = owner_client.get(LIST_URL, query)
    assert len(response.context["page"].object_list) == 3


@pytest.mark.parametrize("broad", [False, True])
def test_a_search_is_counted_once(owner_client, monkeypatch, small_pages, broad):
    for n in range(8):
        factories.PersonFactory(name=f"Mees {n}", first_name="Mees", surname=f"{n}")
        factories.CompanyFactory(name=f"Firma {n}", city="Maastricht")
    if broad:
        monkeypatch.setattr(selectors, "SEARCH_LIMIT", 5)
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(LIST_URL, {"q": "m"})
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"]]
    assert len(counts) == len(set(counts))  # no count asked twice
    assert "contacts_contacttotals" not in " ".join(q["sql"] for q in queries)
    html = response.content.decode()
    if broad:
        assert "More than 5 contacts match: the best 5 are shown." in html
    else:
        assert f"{Contact.objects.search('m').count()} contacts" in html
    assert "Page 1 of" in html  # a search keeps its numbered pages (at most 10)


def test_a_broad_search_pages_through_its_best_matches_up_to_the_limit(
    owner_client, monkeypatch, small_pages
):
    # More name matches than the limit: the pages walk the names, the last page ends at the
    # limit and a page beyond it shows the last one.
    # Without companies: a made-up company name ("Cline-Mathews") matches "m" too.
    for n in range(8):
        factories.PersonFactory(name=f"Mees {n}", first_name="Mees", surname=f"{n}", company=None)
    monkeypatch.setattr(selectors, "SEARCH_LIMIT", 5)

    pages = [owner_client.get(LIST_URL, {"q": "m", "page": page}) for page in (1, 2, 3)]

    shown = [[row.name for row in page.context["page"].object_list] for page in pages]
    assert shown == [["Mees 0", "Mees 1", "Mees 2"], ["Mees 3", "Mees 4"], ["Mees 3", "Mees 4"]]
    html = pages[1].content.decode()
    assert "More than 5 contacts match: the best 5 are shown." in html
    assert "Page 2 of 2" in html


def test_the_type_filter_counts_by_the_type_it_shows(owner_client, book):
    response = owner_client.get(LIST_URL, {"type": ContactType.COMPANY})
    assert numbers(response) == ["C09", "C01"]
    assert "2 contacts" in response.content.decode()


def _plain(row) -> tuple:
    """A row as comparable values: a values row as it is, a contact as its fields."""
    if isinstance(row, tuple):
        return row
    return tuple(getattr(row, field.attname) for field in Contact._meta.concrete_fields)


def _every_page(book) -> list:
    """What the list without words reads for a set of pages (each order, cursor and
    direction, the filters alone and together, an unknown cursor, ids no key can be) and
    counts, one after another."""
    cursor = expected("name")[5]
    filters = [
        {},
        {"type": "person"},
        {"salesperson_id": book["ann"].pk},
        {"company_id": book["acme"].pk},
        {"type": "person", "company_id": book["acme"].pk, "salesperson_id": book["bob"].pk},
        {"salesperson_id": 2**63},
    ]
    links = [{}, {"after": cursor}, {"before": cursor}, {"last": True}, {"after": "P99"}]
    reads = []
    for given in filters:
        reads.append(selectors.contact_count(**given))
        for order in ORDERS:
            for link in links:
                for shape in ({}, {"shape": contact_views._contact_values}):
                    page = selectors.contact_page(**given, **link, **shape, order=order, size=3)
                    rows = [_plain(row) for row in page.object_list]
                    reads.append((page.previous, page.next, rows))
    return reads


def test_list_pages_and_counts_compiled_once_read_what_the_orm_reads(monkeypatch, book):
    monkeypatch.setattr(selectors, "_PAGE_STATEMENTS", {})
    monkeypatch.setattr(selectors, "_COUNT_STATEMENTS", {})
    compiled = _every_page(book)
    compiled_again = _every_page(book)
    kept = [s for s in selectors._PAGE_STATEMENTS.values() if s is not None]
    monkeypatch.setattr(selectors, "_PAGE_STATEMENTS", {})
    monkeypatch.setattr(selectors, "MAX_PAGE_STATEMENTS", 0)  # every page the ORM's way
    by_the_orm = _every_page(book)

    assert len(kept) == 4 * 2 * 2 * 5  # orders, cursor or none, shapes, filter sets that fit
    assert not selectors._PAGE_STATEMENTS
    assert compiled == by_the_orm
    assert compiled_again == by_the_orm
    assert any(len(rows) == 3 for *_, rows in compiled[1:] if isinstance(rows, list))
    assert selectors.ContactCount(11) in compiled
