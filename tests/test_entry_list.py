"""`Interaction Log Entries`: newest first, bookmarkable filters, keyset paging without COUNT."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.db import connection, connections
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from markupsafe import Markup

from contacts.forms import SetupChoiceField, setup_choices
from contacts.models import Salesperson
from interactions import selectors, views
from interactions.forms import EntryFilterForm
from interactions.models import Evaluation, InteractionLogEntry, InteractionTemplate
from interactions.selectors import EntryCursor, entry_list_queryset, entry_page, filter_entries
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("interactions:entry_list")
SETUP_SELECTS = ("salesperson", "template", "group", "campaign")
TODAY = datetime.date(2025, 3, 14)


def shown(response) -> list[int]:
    return [entry.pk for entry in response.context["page"]]


@pytest.fixture
def two_entries(db):
    """Two entries that differ in every filterable column; the first is the one filters find."""
    company = factories.CompanyFactory(number="CT900001")
    person = factories.PersonFactory(number="CP900001", company=company)
    logged = factories.LoggedSegmentFactory(segment__number="SEG90001")
    wanted = factories.LogEntryFactory(
        contact=person,
        salesperson=factories.SalespersonFactory(code="WANT"),
        template=factories.TemplateFactory(code="CALL", group=factories.GroupFactory(code="PHN")),
        campaign=factories.CampaignFactory(number="CAM01"),
        opportunity=factories.OpportunityFactory(number="OPP01", contact_company=company),
        segment_no="SEG90001",
        logged_segment=logged,
        date=TODAY,
        evaluation=Evaluation.POSITIVE,
        canceled=True,
    )
    other = factories.LogEntryFactory(
        salesperson=factories.SalespersonFactory(code="OTHER"),
        campaign=factories.CampaignFactory(number="CAM02"),
        segment_no="SEG90002",
        date=TODAY - datetime.timedelta(days=30),
    )
    return wanted, other


def test_entry_list_loads_for_a_salesperson(owner_client):
    factories.LogEntryFactory(description="Called about the offer")
    response = owner_client.get(URL)
    assert response.status_code == 200
    assert b"Called about the offer" in response.content
    assert b'aria-current="page"' in response.content


def test_empty_entry_list_says_how_entries_get_there(owner_client):
    response = owner_client.get(URL)
    assert b"No interactions have been logged yet" in response.content


def test_entries_are_listed_newest_first_by_date_and_time_with_id_breaking_ties(owner_client):
    # The day: 15:20, 17:28, 17:35 and 08:15 were listed in entry number order.
    at = datetime.time
    old = factories.LogEntryFactory(date=TODAY - datetime.timedelta(days=1), time=at(23, 0))
    afternoon = factories.LogEntryFactory(date=TODAY, time=at(15, 20))
    evening = factories.LogEntryFactory(date=TODAY, time=at(17, 35))
    evening_too = factories.LogEntryFactory(date=TODAY, time=at(17, 35))
    untimed = factories.LogEntryFactory(date=TODAY, time=None)
    morning = factories.LogEntryFactory(date=TODAY, time=at(8, 15))
    newest = factories.LogEntryFactory(date=TODAY + datetime.timedelta(days=1), time=at(7, 0))

    newest_first = shown(owner_client.get(URL))
    oldest_first = shown(owner_client.get(URL, {"sort": "date"}))

    expected = [newest, evening_too, evening, afternoon, morning, untimed, old]
    assert newest_first == [e.pk for e in expected]
    assert oldest_first == [e.pk for e in reversed(expected)]


FILTER_COLUMNS = ["contact", "contact_company", "salesperson", "template", "group", "campaign",
                  "opportunity", "logged_segment"]  # fmt: skip


def test_newest_first_is_an_index_range_scan_for_every_filter(db):
    # Enough rows that a sort would cost more than an index scan, were one possible.
    factories.LogEntryFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")  # a plan that must sort now says so
        for filters in [{}, {"canceled": True}, *({f"{c}_id": 1} for c in FILTER_COLUMNS)]:
            entries = entry_list_queryset().filter(**filters).newest_first()[:51]
            sql, params = entries.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Sort" not in plan, (filters, plan)
            assert "Index Scan" in plan, (filters, plan)


YESTERDAY = TODAY - datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ({"contact": "CP900001"}, "wanted"),
        ({"contact": "cp900001"}, "wanted"),
        ({"company": "CT900001"}, "wanted"),
        ({"salesperson": "WANT"}, "wanted"),
        ({"template": "CALL"}, "wanted"),
        ({"group": "PHN"}, "wanted"),
        ({"campaign": "CAM01"}, "wanted"),
        ({"opportunity": "OPP01"}, "wanted"),
        ({"opportunity": "opp01"}, "wanted"),
        ({"segment_no": "SEG90001"}, "wanted"),
        ({"date_from": TODAY.isoformat()}, "wanted"),
        ({"date_from": TODAY.isoformat(), "date_to": TODAY.isoformat()}, "wanted"),
        ({"date_to": YESTERDAY.isoformat()}, "other"),
        ({"canceled": "yes"}, "wanted"),
        ({"canceled": "no"}, "other"),
        ({"evaluation": "positive"}, "wanted"),
        ({"evaluation": "blank"}, "other"),
    ],
    ids=lambda value: (
        "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else value
    ),
)
def test_each_filter_narrows_the_list(owner_client, two_entries, query, finds):
    wanted, other = two_entries
    response = owner_client.get(URL, query)
    assert response.status_code == 200
    assert response.context["form"].errors == {}
    assert shown(response) == [{"wanted": wanted, "other": other}[finds].pk]


def test_logged_segment_filter_shows_only_its_entries(owner_client, two_entries):
    wanted, _other = two_entries
    response = owner_client.get(URL, {"logged_segment": wanted.logged_segment_id})
    assert shown(response) == [wanted.pk]


def test_filters_combine(owner_client, two_entries):
    wanted, _other = two_entries
    assert shown(owner_client.get(URL, {"salesperson": "WANT", "canceled": "yes"})) == [wanted.pk]
    assert shown(owner_client.get(URL, {"salesperson": "WANT", "canceled": "no"})) == []


def test_company_filter_includes_the_companys_persons(owner_client):
    company = factories.CompanyFactory(number="CT000777")
    on_company = factories.LogEntryFactory(contact=company, date=TODAY)
    on_person = factories.LogEntryFactory(
        contact=factories.PersonFactory(company=company), date=TODAY
    )
    factories.LogEntryFactory(date=TODAY)
    response = owner_client.get(URL, {"company": "CT000777"})
    assert sorted(shown(response)) == sorted([on_company.pk, on_person.pk])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"contact": "NOPE"}, "contact"),
        ({"company": "CP900001"}, "company"),  # a person is not a company
        ({"salesperson": "NOBODY"}, "salesperson"),
        ({"template": "NOTPL"}, "template"),
        ({"group": "NOGRP"}, "group"),
        ({"campaign": "NOCAM"}, "campaign"),
        ({"logged_segment": "abc"}, "logged_segment"),
        ({"logged_segment": "99999999999999999999999"}, "logged_segment"),
        ({"date_from": "31-31-2025"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"date_from": "2025-03-14", "date_to": "2025-03-01"}, "date_to"),
        ({"canceled": "maybe"}, "canceled"),
        ({"evaluation": "great"}, "evaluation"),
        ({"segment_no": "S" * 200}, "segment_no"),
    ],
    ids=lambda value: str(value),
)
def test_bad_filter_value_shows_a_form_error_not_a_server_error(
    owner_client, two_entries, query, field
):
    response = owner_client.get(URL, query)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert response.context["page"] is None
    assert b"errorlist" in response.content


def test_filter_values_are_shown_back_in_the_form(owner_client, two_entries):
    response = owner_client.get(URL, {"contact": "CP900001", "salesperson": "WANT"})
    assert b'value="CP900001"' in response.content
    assert b'<option value="WANT" selected>' in response.content


def _walk(client, query: dict, direction: str, start: dict) -> list[list[int]]:
    """Follow the Older (or Newer) link from ``start`` to the end; the ids of every page."""
    pages, params = [], {**query, **start}
    while True:
        page = client.get(URL, params).context["page"]
        pages.append([entry.pk for entry in page])
        cursor = page.next if direction == "older" else page.previous
        if cursor is None:
            return pages
        key = "after" if direction == "older" else "before"
        params = {**query, key: str(cursor)}


def test_paging_walks_to_the_oldest_entry_and_back_without_counting(owner_client, monkeypatch):
    monkeypatch.setattr(views, "ENTRY_PAGE_SIZE", 2)
    times = [datetime.time(9, 0), None, datetime.time(9, 0), datetime.time(14, 30)]
    entries = [
        factories.LogEntryFactory(
            date=TODAY - datetime.timedelta(days=n // 3), time=times[n % len(times)]
        )
        for n in range(9)
    ]

    def key(entry):  # newest first; an entry without a time last in its day
        return (entry.date, entry.time is not None, entry.time or datetime.time(0), entry.pk)

    newest_first = [e.pk for e in sorted(entries, key=key, reverse=True)]

    with CaptureQueriesContext(connection) as queries:
        older_pages = _walk(owner_client, {}, "older", {})
        oldest = next(e for e in entries if e.pk == older_pages[-1][0])
        newer_pages = _walk(owner_client, {}, "newer", {"before": str(EntryCursor.of(oldest))})

    assert older_pages == [newest_first[n : n + 2] for n in range(0, 9, 2)]
    assert newer_pages == [newest_first[n : n + 2] for n in (6, 4, 2, 0)]
    assert queries.captured_queries
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_paging_links_keep_the_filters(owner_client, monkeypatch):
    monkeypatch.setattr(views, "ENTRY_PAGE_SIZE", 1)
    salesperson = factories.SalespersonFactory(code="KEEP")
    kept = [factories.LogEntryFactory(salesperson=salesperson, date=TODAY) for _ in range(2)]
    factories.LogEntryFactory(date=TODAY)
    response = owner_client.get(URL, {"salesperson": "KEEP"})
    older = response.context["page"].next
    assert f"salesperson=KEEP&amp;after={older}".encode() in response.content
    assert shown(owner_client.get(URL, {"salesperson": "KEEP", "after": str(older)})) == [
        kept[0].pk
    ]


@pytest.mark.parametrize(
    "cursor",
    ["", "garbage", "2025-13-01_-_5", "2025-01-01_-_x", "2025-01-01_-_0", "2025-01-01_2561_5"],
)
def test_mangled_page_cursor_shows_the_first_page(owner_client, cursor):
    entry = factories.LogEntryFactory()
    response = owner_client.get(URL, {"after": cursor, "before": cursor})
    assert response.status_code == 200
    assert shown(response) == [entry.pk]


def test_entry_page_knows_there_is_nothing_newer_on_the_first_page(db):
    entries = factories.LogEntryFactory.create_batch(3, date=TODAY)
    page = entry_page({}, size=3)
    assert [e.pk for e in page] == [e.pk for e in reversed(entries)]
    assert page.previous is None
    assert page.next is None
    assert not page.has_other_pages


@pytest.mark.parametrize("time", [datetime.time(17, 35, 12), None])
def test_entry_cursor_round_trips_through_the_url(time):
    cursor = EntryCursor(TODAY, time, 42)
    assert EntryCursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize("rows", [3, 30])
def test_entry_list_query_count_does_not_grow_with_rows(
    owner_client, django_assert_num_queries, rows
):
    factories.LogEntryFactory.create_batch(rows)
    # session, user (with its permissions, for the Create Interaction button), the four filter
    # selects' lists (salesperson, template, group, campaign) in one statement, the page
    with django_assert_num_queries(4):
        response = owner_client.get(URL)
    assert len(shown(response)) == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_filtered_entry_list_query_count_does_not_grow_with_rows(
    owner_client, django_assert_num_queries, rows
):
    contact = factories.PersonFactory(number="CP424242")
    factories.LogEntryFactory.create_batch(rows, contact=contact)
    # ... plus the contact lookup of the filter
    with django_assert_num_queries(5):
        response = owner_client.get(URL, {"contact": "CP424242", "after": "9999-12-31_1"})
    assert len(shown(response)) == rows


def test_an_unknown_opportunity_is_an_error_not_every_entry(owner_client):
    factories.LogEntryFactory()

    response = owner_client.get(URL, {"opportunity": "OPP99999"})

    assert response.context["page"] is None
    assert "There is no opportunity OPP99999." in response.content.decode()


def test_the_opportunity_list_links_each_opportunitys_log_entries(manager_client):
    factories.OpportunityFactory(number="OPP00004")

    html = manager_client.get(reverse("contacts:opportunity_list")).content.decode()

    assert 'href="/interactions/entries/?opportunity=OPP00004">Log entries</a>' in html


def test_the_filter_selects_offer_what_their_fields_offer(owner_client, two_entries):
    # The lists are read as plain (key, label) pairs in one statement: the same options, in
    # the same order, with the same labels as the fields' own choices.
    factories.SalespersonFactory(code="AAA", name="Ärger & <Sons>")
    form = EntryFilterForm({})
    setup_lists = setup_choices(form.fields.values())
    assert set(setup_lists) == {form.fields[name] for name in SETUP_SELECTS}
    for name in SETUP_SELECTS:
        field = form.fields[name]
        assert setup_lists[field] == [(str(key), label) for key, label in field.choices]
    assert ("AAA", "Ärger & <Sons> (AAA)") in setup_lists[form.fields["salesperson"]]

    html = owner_client.get(URL).content.decode()
    assert '<option value="AAA">Ärger &amp; &lt;Sons&gt; (AAA)</option>' in html


def test_a_salesperson_or_template_added_or_renamed_shows_in_the_filters_on_the_next_request(
    owner_client,
):
    salesperson = factories.SalespersonFactory(code="FIRST", name="Ann")
    owner_client.get(URL)

    salesperson.name = "Anne"
    salesperson.save()
    factories.SalespersonFactory(code="NEW", name="Newton")
    factories.TemplateFactory(code="FRESH", description="Fresh template")
    html = owner_client.get(URL).content.decode()

    assert '<option value="FIRST">Anne (FIRST)</option>' in html
    assert '<option value="NEW">Newton (NEW)</option>' in html
    assert '<option value="FRESH">FRESH Fresh template</option>' in html


def test_a_list_set_on_the_form_later_is_read_as_its_field_reads_it(db):
    factories.SalespersonFactory(code="KEPT")
    factories.SalespersonFactory(code="LEFT")
    form = EntryFilterForm({})
    # A copy of its own: the filter forms share the fields their class declares.
    form.fields["salesperson"] = copy.deepcopy(form.fields["salesperson"])
    form.fields["salesperson"].queryset = Salesperson.objects.filter(code="KEPT")

    setup_lists = setup_choices(form.fields.values())

    assert form.fields["salesperson"] not in setup_lists
    assert form.fields["template"] in setup_lists


def test_a_list_whose_label_reads_more_than_its_columns_is_read_as_its_field_reads_it(db):
    # A template's label is "code description": with only the code there is no label to make.
    field = SetupChoiceField(
        InteractionTemplate.objects.only("code").order_by("code"), to_field_name="code"
    )
    assert setup_choices([field]) == {}


def test_the_rows_show_the_entrys_contact_template_and_salesperson(owner_client):
    entry = factories.LogEntryFactory(
        contact=factories.PersonFactory(number="CP777001", name="Ada <Lovelace>"),
        template=factories.TemplateFactory(code="VISIT"),
        salesperson=factories.SalespersonFactory(code="ROSA"),
    )
    nobody = factories.LogEntryFactory(salesperson=None)

    html = owner_client.get(URL).content.decode()

    assert 'Ada &lt;Lovelace&gt;</a> <span class="muted">CP777001</span>' in html
    assert f'/interactions/templates/{entry.template_id}/">VISIT</a>' in html
    assert f'/contacts/salespeople/{entry.salesperson_id}/">ROSA</a>' in html
    assert shown(owner_client.get(URL)) == [nobody.pk, entry.pk]


def test_the_rows_escape_their_texts(manager_client):
    entry = factories.LogEntryFactory(
        contact=factories.PersonFactory(number="CP<1>&", name='O\'Brien & "Sons"'),
        template=factories.TemplateFactory(code="V<&>"),
        salesperson=factories.SalespersonFactory(code="R&D"),
        description="<script>alert('x')</script>",
    )

    row = manager_client.get(URL).content.decode().split("<tbody>")[1]

    assert f'value="{entry.pk}" aria-label="Select entry {entry.pk}"' in row
    assert 'title="O&#39;Brien &amp; &#34;Sons&#34; CP&lt;1&gt;&amp;"' in row
    assert '<td title="&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;">' in row
    assert f'/interactions/templates/{entry.template_id}/">V&lt;&amp;&gt;</a>' in row
    assert f'/contacts/salespeople/{entry.salesperson_id}/">R&amp;D</a>' in row
    assert "<script>" not in row


def test_what_the_rows_write_without_escaping_is_escaped_by_the_view(db, monkeypatch):
    # The partial's `autoescape false` cells write links, labels and formatted values as given:
    # each must be Markup (escaped once a page), never a plain text.
    factories.LogEntryFactory(time=None)
    factories.LogEntryFactory(time=datetime.time(9, 30), delivery_status="sent")
    given = {}
    monkeypatch.setattr(views, "render_rows", lambda name, context: given.update(context))

    views._entry_rows(entry_page({}).entries, selectable=True)

    written = [
        *vars(given["links"]).values(),
        *vars(given["labels"]).values(),
        *(
            value
            for name in ("dates", "times", "costs", "durations", "correspondence")
            for value in given[name].values()
        ),
        *given["evaluations"].values(),
        *given["delivery"].values(),
        *given["delivery_css"].values(),
        given["correspondence"]["no such type"],
    ]
    assert len(written) > 20
    assert all(isinstance(value, Markup) for value in written)


def test_a_blank_or_unknown_evaluation_or_correspondence_type_shows_an_empty_cell(owner_client):
    entry = factories.LogEntryFactory(evaluation="", correspondence_type="", canceled=False)
    for evaluation, correspondence_type in [("", ""), ("retired", "telex")]:
        InteractionLogEntry.objects.filter(pk=entry.pk).update(
            evaluation=evaluation, correspondence_type=correspondence_type
        )
        row = owner_client.get(URL).content.decode().split("<tbody>")[1]
        # the Corr. Type cell before Cost, the Evaluation cell before Canceled
        assert '<td></td>\n<td class="num" data-label="Cost (LCY)">' in row
        assert "</td>\n<td></td><td></td><td>" in row
        assert "(blank)" not in row
        assert "retired" not in row


def _orm_page_pks(filters, cursor, order, limit) -> list[int]:
    """What the ORM gives for the page statement `entry_page` runs compiled once."""
    entries = filter_entries(entry_list_queryset(), filters)
    if cursor is not None:
        entries = entries.filter(selectors._beyond(cursor, order))
    return [row[0] for row in entries.order_by(*selectors.ENTRY_ORDERS[order])[:limit]]


def test_the_page_statement_compiled_once_reads_what_the_orm_reads(two_entries):
    wanted, _ = two_entries
    times = [datetime.time(9, 0), None, datetime.time(14, 30)]
    for n in range(8):
        factories.LogEntryFactory(
            contact=wanted.contact,
            salesperson=wanted.salesperson,
            date=TODAY - datetime.timedelta(days=n // 3),
            time=times[n % 3],
            canceled=n % 2 == 0,
            evaluation=Evaluation.POSITIVE if n % 3 else Evaluation.BLANK,
        )
    cleaned = {
        "contact": wanted.contact,
        "company": wanted.contact_company,
        "salesperson": wanted.salesperson,
        "template": wanted.template,
        "group": wanted.group,
        "campaign": wanted.campaign,
        "opportunity": wanted.opportunity,
        "segment_no": "SEG90001",
        "logged_segment": wanted.logged_segment_id,
        "date_from": TODAY - datetime.timedelta(days=1),
        "date_to": TODAY,
        "canceled": True,
        "evaluation": Evaluation.BLANK,
    }
    filter_sets = [
        {},
        {"salesperson": wanted.salesperson, "date_from": cleaned["date_from"], "date_to": TODAY},
        {"contact": wanted.contact, "canceled": False},
        {"contact": wanted.contact, "canceled": True, "evaluation": Evaluation.BLANK},
        {"evaluation": Evaluation.POSITIVE},
        *({name: value} for name, value in cleaned.items()),
    ]
    cursors = [
        None,
        EntryCursor(TODAY, datetime.time(9, 0), wanted.pk + 3),
        EntryCursor(TODAY - datetime.timedelta(days=1), None, wanted.pk + 5),
    ]
    checked = 0
    for filters in filter_sets:
        for order in selectors.ENTRY_ORDERS:
            for cursor in cursors:
                expected = _orm_page_pks(filters, cursor, order, 3)
                found = [
                    row.pk
                    for row in selectors._page_rows(
                        selectors.entry_lookups(filters), cursor, order, 3
                    )
                ]
                assert found == expected, (filters, order, cursor)
                checked += bool(expected)
    assert checked > 50  # most of the shapes found rows to compare


def test_the_page_statement_is_compiled_once_per_shape(db, monkeypatch):
    first, second = factories.SalespersonFactory(), factories.SalespersonFactory()
    factories.LogEntryFactory(salesperson=second, date=TODAY)
    cursor = EntryCursor(TODAY + datetime.timedelta(days=1), datetime.time(8, 0), 10**9)
    entry_page({"salesperson": first}, after=cursor)
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    page = entry_page({"salesperson": second}, after=cursor)
    assert [row.salesperson_id for row in page] == [second.pk]
    assert not compiled
    entry_page({"salesperson": second, "canceled": True}, after=cursor)  # another shape
    assert compiled


def test_page_shapes_past_the_bound_are_read_by_the_orm_and_not_kept(db, monkeypatch):
    entry = factories.LogEntryFactory()
    monkeypatch.setattr(selectors, "_PAGE_QUERIES", {})
    monkeypatch.setattr(selectors, "MAX_PAGE_SHAPES", 0)

    def compiled_pages() -> int:
        # The real connection's: `django.db.connection` is a proxy with a __dict__ of its own.
        kept = connections["default"].__dict__.get("_built_once_queries", {})
        return sum("_page_query" in query.build.__qualname__ for query in kept)

    before = compiled_pages()
    assert [row.pk for row in entry_page({"contact": entry.contact})] == [entry.pk]
    assert selectors._PAGE_QUERIES == {}
    assert compiled_pages() == before


def test_the_contact_filter_reads_its_contact_by_sql_compiled_once(db, monkeypatch):
    person = factories.PersonFactory(number="CP424243")
    assert EntryFilterForm({"contact": "CP424242"}).errors  # compiles the lookup
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k)
    )
    form = EntryFilterForm({"contact": "cp424243"})
    assert form.is_valid()
    assert form.cleaned_data["contact"] == person
    assert "company" in form.cleaned_data["contact"]._state.fields_cache  # read with it
    assert not compiled


def test_the_lists_kept_parts_follow_the_language_and_the_users_permissions(client, manager, owner):
    # The action bar, the fixed column headers and the rows' labels are rendered once per
    # language and permissions and kept: each request must still get its own language's, and
    # its user's actions.
    factories.LogEntryFactory(canceled=True)

    def page(user, language):
        client.force_login(user)
        return client.get(URL, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    english, dutch = page(manager, "en"), page(manager, "nl")
    assert '<th class="w-time">Time</th>' in english
    assert ">Switch Check Mark in Canceled</button>" in english
    assert 'data-label="Cost (LCY)"' in english
    assert '<th class="w-time">Tijd</th>' in dutch
    assert ">Vinkje in Geannuleerd omzetten</button>" in dutch
    assert "Switch Check Mark" not in dutch
    assert 'data-label="Cost (LCY)"' not in dutch
    salesperson = page(owner, "en")  # may evaluate, may not cancel
    assert 'id="id_evaluation_action"' in salesperson
    assert "Switch Check Mark in Canceled" not in salesperson
    assert ">Switch Check Mark in Canceled</button>" in page(manager, "en")


def test_looking_up_an_unknown_choice_label_adds_nothing_to_the_kept_labels(db):
    labels = views._entry_row_parts()["correspondence"]

    assert labels["telex"] == ""
    assert isinstance(labels["telex"], Markup)
    assert "telex" not in labels


def test_filter_forms_share_the_declared_fields_and_a_request_leaves_them_unread(
    owner_client, two_entries
):
    first, second = EntryFilterForm({"salesperson": "WANT"}), EntryFilterForm({})
    assert first.fields is not second.fields
    for name, field in EntryFilterForm.base_fields.items():
        assert first.fields[name] is second.fields[name] is field

    response = owner_client.get(URL, {"salesperson": "WANT", "template": "CALL"})
    assert response.context["form"].errors == {}
    assert shown(response) == [two_entries[0].pk]
    # A queryset read in place would keep its rows for every later request of the process.
    for field in EntryFilterForm.base_fields.values():
        assert getattr(field, "queryset", None) is None or field.queryset._result_cache is None
