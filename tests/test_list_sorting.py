"""Lists sort on indexed columns only, from the column headers; the order stays in the URL with
the filters, and unknown orders fall back to the default."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from interactions import views
from tests import factories

pytestmark = pytest.mark.django_db

ENTRIES = reverse("interactions:entry_list")
CONTACTS = reverse("contacts:contact_list")
SALESPEOPLE = reverse("contacts:salesperson_list")
TODAY = datetime.date(2025, 3, 14)


def ids(response) -> list[int]:
    return [entry.pk for entry in response.context["page"]]


def names(response) -> list[str]:
    return [row.name for row in response.context["page"].object_list]


@pytest.fixture
def entries(db):
    """Entry numbers that do not follow the dates: the second one is dated earliest."""
    return [
        factories.LogEntryFactory(date=TODAY),
        factories.LogEntryFactory(date=TODAY - datetime.timedelta(days=5)),
        factories.LogEntryFactory(date=TODAY + datetime.timedelta(days=1)),
    ]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", [2, 0, 1]),
        ("-date", [2, 0, 1]),
        ("date", [1, 0, 2]),
        ("-id", [2, 1, 0]),
        ("id", [0, 1, 2]),
    ],
)
def test_entry_list_sorts_by_date_or_entry_number(owner_client, entries, sort, order):
    response = owner_client.get(ENTRIES, {"sort": sort} if sort else {})
    assert ids(response) == [entries[i].pk for i in order]


def test_entry_list_ignores_an_unknown_sort(owner_client, entries):
    response = owner_client.get(ENTRIES, {"sort": "description"})
    assert ids(response) == [entries[i].pk for i in (2, 0, 1)]


@pytest.mark.parametrize("sort", ["-date", "date", "-id", "id"])
def test_entry_list_pages_forward_and_back_in_every_order(owner_client, monkeypatch, sort):
    monkeypatch.setattr(views, "ENTRY_PAGE_SIZE", 2)
    made = [
        factories.LogEntryFactory(date=TODAY - datetime.timedelta(days=(n * 3) % 5))
        for n in range(5)
    ]
    key = {
        "-date": lambda e: (-e.date.toordinal(), -e.pk),
        "date": lambda e: (e.date, e.pk),
        "-id": lambda e: -e.pk,
        "id": lambda e: e.pk,
    }[sort]
    expected = [e.pk for e in sorted(made, key=key)]

    forward, params = [], {"sort": sort}
    while True:
        page = owner_client.get(ENTRIES, params).context["page"]
        forward.append([e.pk for e in page])
        if page.next is None:
            break
        params = {"sort": sort, "after": str(page.next)}
    assert forward == [expected[0:2], expected[2:4], expected[4:5]]

    back = owner_client.get(ENTRIES, {"sort": sort, "before": str(page.previous)})
    assert ids(back) == expected[2:4]


def test_entry_list_headers_link_the_other_direction_and_keep_the_filters(owner_client, entries):
    salesperson = entries[0].salesperson.code
    response = owner_client.get(ENTRIES, {"salesperson": salesperson, "sort": "date"})
    html = response.content.decode()
    assert 'aria-sort="ascending"' in html
    assert f'href="?salesperson={salesperson}&amp;sort=-date"' in html
    # The filter form sends the order along.
    assert '<input type="hidden" name="sort" value="date">' in html
    # Export and Delete Canceled Entries take the filters, not the order.
    export = reverse("interactions:entry_export")
    assert f'href="{export}?salesperson={salesperson}"' in html


def test_contact_list_sorts_by_name_or_number(owner_client):
    company = factories.CompanyFactory(number="CT000009", name="Zeeland BV")
    anna = factories.PersonFactory(number="CP000003", name="Anna Aal", company=company)
    bert = factories.PersonFactory(number="CP000001", name="Bert Bos", company=company)
    assert names(owner_client.get(CONTACTS)) == ["Anna Aal", "Bert Bos", "Zeeland BV"]
    assert names(owner_client.get(CONTACTS, {"sort": "-name"})) == [
        "Zeeland BV",
        "Bert Bos",
        "Anna Aal",
    ]
    assert names(owner_client.get(CONTACTS, {"sort": "number"})) == [
        bert.name,
        anna.name,
        company.name,
    ]
    assert names(owner_client.get(CONTACTS, {"sort": "-number"})) == [
        company.name,
        anna.name,
        bert.name,
    ]


def test_contact_search_keeps_the_chosen_order(owner_client):
    company = factories.CompanyFactory(name="Zeta BV")
    for number, name in (("CP000002", "Qas"), ("CP000001", "Qea")):
        factories.PersonFactory(
            number=number, name=f"{name} Qakker", surname="Qakker", company=company
        )
    response = owner_client.get(CONTACTS, {"q": "Q", "sort": "number"})
    assert names(response) == ["Qea Qakker", "Qas Qakker"]
    response = owner_client.get(CONTACTS, {"q": "q", "sort": "-name"})
    assert names(response) == ["Qea Qakker", "Qas Qakker"]
    assert b'aria-sort="descending"' in response.content
    assert b'href="?q=q&amp;sort=name"' in response.content


def test_contact_list_ignores_an_unknown_sort(owner_client):
    factories.CompanyFactory(name="Beta")
    factories.CompanyFactory(name="Alpha")
    assert names(owner_client.get(CONTACTS, {"sort": "email"})) == ["Alpha", "Beta"]


def test_salesperson_list_sorts_by_code_or_name(owner_client):
    # `owner` is Olivia Owner, code OWN.
    factories.SalespersonFactory(code="AAA", name="Zoe Zwart")
    factories.SalespersonFactory(code="ZZZ", name="Adam Appel")
    assert names(owner_client.get(SALESPEOPLE)) == ["Zoe Zwart", "Olivia Owner", "Adam Appel"]
    assert names(owner_client.get(SALESPEOPLE, {"sort": "name"})) == [
        "Adam Appel",
        "Olivia Owner",
        "Zoe Zwart",
    ]
    assert names(owner_client.get(SALESPEOPLE, {"sort": "-code"}))[0] == "Adam Appel"


@pytest.mark.parametrize(
    ("sort", "cell"),
    [
        (
            "id",
            '<th scope="col" class="num w-no" aria-sort="ascending"><a class="sort"'
            ' href="?x=%3Cb%3E&amp;sort=-id">Entry No.<span class="sort-mark"'
            ' aria-hidden="true"> ▲</span></a></th>\n',
        ),
        (
            "-id",
            '<th scope="col" class="num w-no" aria-sort="descending"><a class="sort"'
            ' href="?x=%3Cb%3E&amp;sort=id">Entry No.<span class="sort-mark"'
            ' aria-hidden="true"> ▼</span></a></th>\n',
        ),
        (
            "date",
            '<th scope="col" class="num w-no" aria-sort="none"><a class="sort"'
            ' href="?x=%3Cb%3E&amp;sort=-id">Entry No.<span class="sort-mark"'
            ' aria-hidden="true"> ↕</span></a></th>\n',
        ),
    ],
)
def test_a_sort_header_links_its_order_keeps_the_filters_and_drops_the_page(
    owner_client, entries, sort, cell
):
    response = owner_client.get(ENTRIES, {"x": "<b>", "sort": sort, "after": "2025-03-14_1"})
    assert cell in response.content.decode()


def test_a_sort_header_without_a_first_order_starts_ascending(owner_client):
    factories.CompanyFactory(name="Alpha")
    html = owner_client.get(SALESPEOPLE, {"sort": "name", "page": "2"}).content.decode()
    assert '<th scope="col" aria-sort="none"><a class="sort" href="?sort=code">Code' in html
    assert '<th scope="col" aria-sort="ascending"><a class="sort" href="?sort=-name">Name' in html
