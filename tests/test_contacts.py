"""Contacts: list, search, card with history and statistics, create/edit, delete, search JSON."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import services
from contacts import views as contact_views
from contacts.models import Contact, ContactType, MarketingSetup
from contacts.selectors import CONTACT_ORDERS
from interactions.models import InformationFlow, InitiatedBy, InteractionDraft
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = reverse("contacts:contact_list")
CREATE_URL = reverse("contacts:contact_create")
SEARCH_URL = reverse("contacts:contact_search")


def detail_url(contact: Contact) -> str:
    return reverse("contacts:contact_detail", args=[contact.pk])


def edit_url(contact: Contact) -> str:
    return reverse("contacts:contact_edit", args=[contact.pk])


def delete_url(contact: Contact) -> str:
    return reverse("contacts:contact_delete", args=[contact.pk])


def person_data(**overrides) -> dict:
    data = {
        "number": "",
        "type": ContactType.PERSON,
        "name": "",
        "first_name": "Ada",
        "surname": "Lovelace",
        "company": "",
        "job_title": "Engineer",
        "salesperson": "",
        "email": "ada@example.com",
        "phone": "",
        "language": "en",
        "address": "",
        "postcode": "",
        "city": "London",
        "country": "GB",
        "correspondence_type": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def contact_series():
    series = factories.NumberSeriesFactory(code="CONT", prefix="CT", width=4)
    setup = MarketingSetup.load()
    setup.contact_nos = series
    setup.save()
    return series


# --- List, search, paging ---------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get(LIST_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_contact_list_shows_contacts_by_name(owner_client):
    factories.CompanyFactory(name="Zeta Works")
    factories.CompanyFactory(name="Alpha Trading")

    response = owner_client.get(LIST_URL)

    assert response.status_code == 200
    names = [c.name for c in response.context["page"].object_list]
    assert names == ["Alpha Trading", "Zeta Works"]
    assert response.context["nav"] == "contacts"


def test_contact_list_search_matches_the_start_of_a_word_of_number_name_or_email(owner_client):
    acme = factories.CompanyFactory(
        number="C-ACME", name="Acme", email="sales@acme.example", city="Boston"
    )
    person = factories.PersonFactory(
        number="P-GH",
        first_name="Grace",
        surname="Hopper",
        name="Grace Hopper",
        company=acme,
        email="grace@navy.example",
        city="Arlington",
    )
    factories.CompanyFactory(number="O-1", name="Other", email="x@other.example", city="Troy")

    def found(q):
        response = owner_client.get(LIST_URL, {"q": q})
        return {c.pk for c in response.context["page"].object_list}

    assert found("c-ac") == {acme.pk}
    assert found("hop") == {person.pk}
    assert found("sales@") == {acme.pk}
    assert found("acm") == {acme.pk, person.pk}  # the person by its company's name
    assert found("cme") == set()


def test_contact_list_filters_by_type(owner_client):
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company)

    companies = owner_client.get(LIST_URL, {"type": "company"}).context["page"].object_list
    persons = owner_client.get(LIST_URL, {"type": "person"}).context["page"].object_list

    assert [c.pk for c in companies] == [company.pk]
    assert [c.pk for c in persons] == [person.pk]


def test_contact_list_shows_fifty_per_page_and_keeps_the_search_in_page_links(owner_client):
    factories.CompanyFactory.create_batch(51, name=factories.factory.Sequence(lambda n: f"Co {n}"))

    first = owner_client.get(LIST_URL, {"q": "co"})
    second = owner_client.get(LIST_URL, {"q": "co", "page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert "?q=co&amp;page=2" in first.content.decode()


def test_contact_list_with_a_bad_page_number_shows_a_page_not_an_error(owner_client):
    company = factories.CompanyFactory()

    response = owner_client.get(LIST_URL, {"page": "nonsense"})

    assert response.status_code == 200
    assert [row.pk for row in response.context["page"].object_list] == [company.pk]


def test_empty_contact_list_says_what_to_do_next(owner_client):
    response = owner_client.get(LIST_URL)

    assert "Create the first contact" in response.content.decode()


def test_search_without_matches_says_so(owner_client):
    factories.CompanyFactory(name="Acme")

    response = owner_client.get(LIST_URL, {"q": "zzz"})

    assert "No contacts match this search" in response.content.decode()


def test_contact_list_escapes_user_data(owner_client):
    factories.CompanyFactory(name="<script>alert(1)</script>")

    content = owner_client.get(LIST_URL).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_contact_list_shows_markup_in_every_column_escaped(owner_client):
    # The rows come from a Jinja2 partial (jinja2/contacts/_contact_rows.html), which writes a
    # quote as &#34;.
    company = factories.CompanyFactory(name="<i>Acme</i> & Co")
    factories.PersonFactory(
        number="<b>P1</b>",
        name="<script>alert(1)</script>",
        company=company,
        salesperson=factories.SalespersonFactory(name="<b>Sam</b>"),
        city='"><img src=x onerror=alert(2)>',
        email='x"onmouseover="alert(3)@example.com',
        phone="<u>0612</u>",
    )

    html = owner_client.get(LIST_URL).content.decode()

    for raw in ("<script>", "<img", "<b>", "<i>Acme", "<u>", '"onmouseover'):
        assert raw not in html
    assert "&lt;b&gt;P1&lt;/b&gt;</a>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in html
    assert "&lt;i&gt;Acme&lt;/i&gt; &amp; Co</a>" in html
    assert 'title="&lt;b&gt;Sam&lt;/b&gt;">&lt;b&gt;Sam&lt;/b&gt;</td>' in html
    assert (
        'title="&#34;&gt;&lt;img src=x onerror=alert(2)&gt;">'
        "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;</td>"
    ) in html
    assert 'href="mailto:x&#34;onmouseover=&#34;alert(3)@example.com"' in html
    assert "<td>&lt;u&gt;0612&lt;/u&gt;</td>" in html


def test_contact_list_rows_link_the_contact_its_company_and_create_interaction(owner_client):
    company = factories.CompanyFactory(name="Acme", email="")
    person = factories.PersonFactory(
        name="Ada", company=company, salesperson=factories.SalespersonFactory(name="Sam")
    )
    blocked = factories.PersonFactory(
        name="Bob", company=company, privacy_blocked=True, exclude_from_segment=True
    )

    html = owner_client.get(LIST_URL, {"type": "person"}).content.decode()

    assert f'<a href="{detail_url(person)}">Ada</a></td><td>Person</td>' in html
    assert f'<td title="Acme"><a href="{detail_url(company)}">Acme</a></td>' in html
    assert '<td title="Sam">Sam</td>' in html
    assert f'<a href="mailto:{person.email}">{person.email}</a>' in html
    assert (
        f'<button type="submit" form="create-interaction" name="contact" value="{person.pk}"'
        ' class="button button-small">Create Interaction</button>'
    ) in html
    assert 'id="create-interaction" method="post"' in html
    # A privacy-blocked contact says so and offers no Create Interaction.
    assert (
        f'<a href="{detail_url(blocked)}">Bob</a>'
        ' <span class="badge badge-danger">Privacy Blocked</span>'
        ' <span class="badge badge-warn">Excluded from segments</span></td>'
    ) in html
    assert f"?contact={blocked.pk}" not in html


def test_contact_list_rows_are_in_the_users_language(owner_client):
    factories.PersonFactory(privacy_blocked=True)
    factories.PersonFactory()

    html = owner_client.get(LIST_URL, {"type": "person"}, HTTP_ACCEPT_LANGUAGE="nl").content
    html = html.decode()

    assert "<td>Persoon</td>" in html
    assert ">Interactie maken</button>" in html
    assert '<span class="badge badge-danger">Privacy geblokkeerd</span>' in html


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize("query", [{}, {"q": "cp"}, {"sort": "-number", "type": "person"}])
def test_contact_list_query_count_does_not_grow_with_rows(
    owner_client, django_assert_num_queries, rows, query
):
    salesperson = factories.SalespersonFactory()
    for _ in range(rows):
        factories.PersonFactory(salesperson=salesperson)

    # session, user (with its permissions), page (company and salesperson names in it), count
    # (a kept total; tests/test_contact_paging.py); a search counts its name matches first
    # (tests/test_contact_search.py)
    with django_assert_num_queries(5 if "q" in query else 4):
        response = owner_client.get(LIST_URL, query)

    shown = min(rows if query else 2 * rows, 50)  # unfiltered, the persons' companies too
    assert len(response.context["page"].object_list) == shown


# --- Card: history and statistics -------------------------------------------------------------


def test_company_card_shows_the_history_of_the_company_and_its_persons_newest_first(owner_client):
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company)
    today = datetime.date(2024, 6, 1)
    older = factories.LogEntryFactory(contact=company, date=today - datetime.timedelta(days=3))
    newer = factories.LogEntryFactory(contact=person, date=today)
    factories.LogEntryFactory()  # someone else's

    response = owner_client.get(detail_url(company))

    assert [e.pk for e in response.context["history"]] == [newer.pk, older.pk]
    assert response.context["statistics"]["count"] == 2
    assert person.name in response.content.decode()


def test_person_card_shows_only_the_persons_own_history(owner_client):
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company)
    own = factories.LogEntryFactory(contact=person)
    factories.LogEntryFactory(contact=company)

    response = owner_client.get(detail_url(person))

    assert [e.pk for e in response.context["history"]] == [own.pk]
    assert response.context["statistics"]["count"] == 1


def test_card_statistics_and_history_exclude_canceled_entries(owner_client):
    person = factories.PersonFactory()
    template = factories.TemplateFactory(unit_cost=Decimal("3.00"), unit_duration=Decimal("15"))
    day = datetime.date(2024, 5, 1)
    kept = factories.LogEntryFactory(contact=person, template=template, date=day)
    factories.LogEntryFactory(
        contact=person, template=template, date=day + datetime.timedelta(days=1), canceled=True
    )

    response = owner_client.get(detail_url(person))

    statistics = response.context["statistics"]
    assert statistics["count"] == 1
    assert statistics["cost"] == Decimal("3.00")
    assert statistics["duration"] == Decimal("15")
    assert statistics["last_date"] == day
    assert statistics["last_attempt"] == day
    assert [e.pk for e in response.context["history"]] == [kept.pk]


def test_history_titles_follow_the_information_flow(owner_client):
    person = factories.PersonFactory(name="Ada Lovelace")
    salesperson = factories.SalespersonFactory(name="Sam Seller")
    outbound = factories.TemplateFactory(description="Letter")
    inbound = factories.TemplateFactory(
        description="Phone call", information_flow=InformationFlow.INBOUND
    )
    neither = factories.TemplateFactory(
        description="Meeting", information_flow=InformationFlow.BLANK
    )
    for template in (outbound, inbound, neither):
        factories.LogEntryFactory(contact=person, template=template, salesperson=salesperson)

    content = owner_client.get(detail_url(person)).content.decode()

    assert "Letter by Sam Seller" in content
    assert "Phone call from Ada Lovelace" in content
    assert "Meeting</a>" in content


def test_history_dates_and_amounts_are_kept_per_language(owner_client):
    # contacts.web.short_date and decimal keep what they wrote per process: the language is
    # part of the key, so a Dutch request after an English one gets its own.
    person = factories.PersonFactory()
    factories.LogEntryFactory(
        contact=person, date=datetime.date(2026, 3, 5), cost=Decimal("1234.5"), duration=7
    )
    row = re.compile(r'<tr><td>([^<]*)</td>.*?<td class="num">([^<]*)</td><td class="num">(\d+)')

    def cells(language):
        content = owner_client.get(detail_url(person), HTTP_ACCEPT_LANGUAGE=language).content
        return row.search(content.decode()).groups()

    assert cells("en") == ("03/05/2026", "1234.50", "7")
    assert cells("nl") == ("5-3-2026", "1234,50", "7")
    assert cells("en") == ("03/05/2026", "1234.50", "7")


def test_card_shows_the_twenty_newest_entries(owner_client):
    person = factories.PersonFactory()
    start = datetime.date(2024, 1, 1)
    entries = [
        factories.LogEntryFactory(contact=person, date=start + datetime.timedelta(days=n))
        for n in range(22)
    ]

    response = owner_client.get(detail_url(person))

    shown = [e.pk for e in response.context["history"]]
    assert shown == [e.pk for e in reversed(entries)][:20]
    assert response.context["statistics"]["count"] == 22


def test_card_shows_create_interaction_and_postponed_interactions(owner_client):
    person = factories.PersonFactory()

    content = owner_client.get(detail_url(person)).content.decode()

    assert "Create Interaction" in content
    assert "Postponed Interactions" in content
    assert "No interactions recorded for this contact yet" in content


def test_company_card_lists_its_persons_and_offers_add_person(owner_client):
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company, name="Grace Hopper")

    html = owner_client.get(detail_url(company)).content.decode()

    assert f'<td><a href="{detail_url(person)}">Grace Hopper</a></td>' in html
    assert f"{CREATE_URL}?company={company.pk}" in html
    assert "Show all persons of this company" not in html


def test_a_user_who_may_not_add_contacts_gets_no_add_person(client, outsider):
    company = factories.CompanyFactory()
    factories.PersonFactory(company=company)
    client.force_login(outsider)

    response = client.get(detail_url(company))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Add Person" not in html
    assert f"{CREATE_URL}?company=" not in html


def test_company_card_links_to_all_its_persons_past_the_ones_shown(owner_client, monkeypatch):
    monkeypatch.setattr(contact_views, "PERSONS_SHOWN", 2)
    company = factories.CompanyFactory()
    for name in ("Ada", "Bob", "Cy"):
        factories.PersonFactory(company=company, name=name)

    html = owner_client.get(detail_url(company)).content.decode()

    assert ">Ada</a>" in html
    assert ">Bob</a>" in html
    assert ">Cy</a>" not in html
    assert f'<a href="{LIST_URL}?company={company.pk}">Show all persons of this company</a>' in html


def test_company_card_shows_its_persons_escaped_as_the_django_engine_does(owner_client):
    # The Persons panel comes from a Jinja2 partial (jinja2/contacts/_persons.html) fed values
    # escaped by Django: a quote is &#x27; (Jinja2 would write &#39;).
    company = factories.CompanyFactory()
    person = factories.PersonFactory(
        company=company,
        name='Sam "O\'Hara" <b>',
        job_title="<i>Boss</i> & co",
        email="sam'o@example.com",
        privacy_blocked=True,
    )

    html = owner_client.get(detail_url(company)).content.decode()

    assert (
        f'<td><a href="{detail_url(person)}">Sam &quot;O&#x27;Hara&quot; &lt;b&gt;</a>'
        ' <span class="badge badge-danger">Privacy Blocked</span></td>'
    ) in html
    assert "<td>&lt;i&gt;Boss&lt;/i&gt; &amp; co</td>" in html
    assert '<a href="mailto:sam&#x27;o@example.com">sam&#x27;o@example.com</a>' in html
    assert "&#39;" not in html


def test_privacy_blocked_card_offers_no_create_interaction(owner_client):
    person = factories.PersonFactory(privacy_blocked=True)

    content = owner_client.get(detail_url(person)).content.decode()

    assert "privacy blocked" in content
    assert "Create Interaction" not in content


def test_card_header_buttons_follow_the_users_permissions_and_the_period(client, owner, manager):
    # The header comes from a Jinja2 partial ({% card_actions %}): the number URL-encoded as
    # |urlencode did, the period carried to the entries link, Edit and Delete as perms allowed,
    # and the page's one CSRF token in the Create Interaction form.
    company = factories.CompanyFactory(number="C&1 <x>'")
    url = detail_url(company)
    period = "date_from=2026-01-15&date_to=2026-02-14"

    client.force_login(owner)
    html = client.get(f"{url}?{period}").content.decode()

    assert '<a class="button" href="/interactions/drafts/?contact=C%261%20%3Cx%3E%27">' in html
    assert (
        '<a class="button" href="/interactions/entries/?company=C%261%20%3Cx%3E%27'
        '&amp;date_from=2026-01-15&amp;date_to=2026-02-14">Interaction Log Entries</a>'
    ) in html
    assert f'<input type="hidden" name="contact" value="{company.pk}">' in html
    assert f'<a class="button" href="/contacts/{company.pk}/edit/">Edit</a>' in html
    assert f"/contacts/{company.pk}/delete/" not in html  # a salesperson may not delete
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert tokens
    assert len(set(tokens)) == 1

    client.force_login(manager)
    html = client.get(url).content.decode()

    assert f'<a class="button" href="/contacts/{company.pk}/delete/">Delete</a>' in html
    assert '/interactions/entries/?company=C%261%20%3Cx%3E%27">' in html


def test_card_shows_typed_markup_and_quotes_escaped_as_the_django_engine_does(owner_client):
    # The panels of fields come from a Jinja2 partial (jinja2/contacts/_card_fields.html) fed
    # values escaped by Django: a quote is &#x27; there as in the rest of the card.
    company = factories.CompanyFactory(name="O'Neil & <Sons>")
    person = factories.PersonFactory(
        company=company,
        first_name="Sam",
        surname="O'Hara",
        job_title="<b>Boss</b>",
        city="'s-Hertogenbosch",
    )

    html = owner_client.get(detail_url(person)).content.decode()

    assert "<h1>Sam O&#x27;Hara</h1>" in html
    assert "<dt>Name</dt><dd>Sam O&#x27;Hara</dd>" in html
    assert "<dt>Surname</dt><dd>O&#x27;Hara</dd>" in html
    assert f'<a href="{detail_url(company)}">O&#x27;Neil &amp; &lt;Sons&gt;</a> (' in html
    assert "<dt>Job Title</dt><dd>&lt;b&gt;Boss&lt;/b&gt;</dd>" in html
    assert " &#x27;s-Hertogenbosch</dd>" in html
    assert "<b>" not in html
    assert "&#39;" not in html


def test_unknown_contact_is_404(owner_client):
    assert owner_client.get(reverse("contacts:contact_detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("rows", [3, 30])
def test_company_card_query_count_does_not_grow_with_rows(
    owner_client, django_assert_num_queries, rows
):
    company = factories.CompanyFactory()
    salesperson = factories.SalespersonFactory()
    template = factories.TemplateFactory()
    for _ in range(rows):
        person = factories.PersonFactory(company=company)
        factories.LogEntryFactory(contact=person, template=template, salesperson=salesperson)
        factories.LogEntryFactory(contact=company, template=template, salesperson=salesperson)

    # session, user (with its permissions), contact, persons, history, statistics
    with django_assert_num_queries(6):
        response = owner_client.get(detail_url(company))
    with django_assert_num_queries(6):  # a year, as bench/page_latency.py asks for one
        owner_client.get(detail_url(company), {"date_from": "2025-11-15", "date_to": "2026-11-14"})

    assert len(response.context["history"]) == min(2 * rows, 20)


@pytest.mark.parametrize("rows", [3, 30])
def test_person_card_query_count_does_not_grow_with_rows(
    owner_client, django_assert_num_queries, rows
):
    person = factories.PersonFactory()
    for _ in range(rows):
        factories.LogEntryFactory(contact=person)

    # session, user (with its permissions), contact, history, statistics
    with django_assert_num_queries(5):
        owner_client.get(detail_url(person))


# --- Create and edit --------------------------------------------------------------------------


def test_salesperson_creates_a_person_under_a_company_given_by_number(owner, owner_client):
    company = factories.CompanyFactory(number="C0001")

    response = owner_client.post(
        CREATE_URL,
        person_data(number="P0001", company="C0001", exclude_from_segment="on"),
    )

    person = Contact.objects.get(number="P0001")
    assert response.status_code == 302
    assert response["Location"] == detail_url(person)
    assert person.company == company
    assert person.name == "Ada Lovelace"  # from first name and surname
    assert person.exclude_from_segment is True
    assert person.privacy_blocked is False
    assert person.created_by == owner
    assert person.updated_by == owner
    follow = owner_client.get(response["Location"])
    assert "Contact Ada Lovelace (P0001) created." in follow.content.decode()


def test_create_sets_privacy_blocked(owner_client):
    owner_client.post(CREATE_URL, person_data(number="P0002", privacy_blocked="on"))

    assert Contact.objects.get(number="P0002").privacy_blocked is True


def test_create_form_for_add_person_starts_with_the_company(owner_client):
    company = factories.CompanyFactory(number="C0042")

    response = owner_client.get(CREATE_URL, {"company": company.pk})

    form = response.context["form"]
    assert form["type"].value() == ContactType.PERSON
    assert form["company"].value() == "C0042"


def test_company_field_is_a_text_input_not_a_select_of_every_contact(owner_client):
    factories.CompanyFactory.create_batch(3)

    response = owner_client.get(CREATE_URL)

    assert 'type="text" name="company"' in response.content.decode()


def test_create_takes_the_number_from_the_contact_series(owner_client, contact_series):
    owner_client.post(CREATE_URL, person_data())
    owner_client.post(CREATE_URL, person_data(first_name="Grace", surname="Hopper"))

    assert set(Contact.objects.values_list("number", flat=True)) == {"CT0001", "CT0002"}
    contact_series.refresh_from_db()
    assert contact_series.last_number == 2


def test_series_skips_numbers_already_typed_in_by_hand(owner_client, contact_series):
    factories.CompanyFactory(number="CT0001")

    owner_client.post(CREATE_URL, person_data())

    assert Contact.objects.filter(number="CT0002", surname="Lovelace").exists()


def test_create_without_number_or_series_explains_what_to_do(owner_client):
    response = owner_client.post(CREATE_URL, person_data())

    assert response.status_code == 200
    assert "No contact number series is set up" in str(response.context["form"].errors["number"])
    assert not Contact.objects.exists()


def test_create_with_a_number_in_use_shows_an_error(owner_client):
    factories.CompanyFactory(number="P0001")

    response = owner_client.post(CREATE_URL, person_data(number="P0001"))

    assert response.status_code == 200
    assert "number" in response.context["form"].errors


def test_create_with_an_unknown_company_number_shows_an_error(owner_client):
    response = owner_client.post(CREATE_URL, person_data(number="P1", company="NOPE"))

    assert response.status_code == 200
    assert "There is no contact with number NOPE." in response.context["form"].errors["company"]


def test_a_person_cannot_be_the_company_of_a_person(owner_client):
    person = factories.PersonFactory(number="P0100")

    response = owner_client.post(CREATE_URL, person_data(number="P1", company=person.number))

    assert "is a person" in str(response.context["form"].errors["company"])


def test_a_company_cannot_belong_to_a_company(owner_client):
    factories.CompanyFactory(number="C0001")

    response = owner_client.post(
        CREATE_URL,
        person_data(number="C0002", type=ContactType.COMPANY, name="Sub", company="C0001"),
    )

    assert response.status_code == 200
    assert "company" in response.context["form"].errors


def test_create_with_bad_input_shows_errors_next_to_fields(owner_client):
    response = owner_client.post(
        CREATE_URL,
        person_data(
            number="P1", first_name="", surname="", email="not-an-email", language="xx", type="?"
        ),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"name", "email", "language", "type"} <= set(errors)
    assert not Contact.objects.exists()


def test_blocked_salespeople_are_not_offered_for_new_contacts(owner_client):
    blocked = factories.SalespersonFactory(blocked=True)
    active = factories.SalespersonFactory()

    choices = owner_client.get(CREATE_URL).context["form"].fields["salesperson"].queryset
    refused = owner_client.post(CREATE_URL, person_data(number="P1", salesperson=blocked.pk))

    assert active in choices
    assert blocked not in choices
    assert "salesperson" in refused.context["form"].errors


def test_editing_keeps_a_salesperson_who_was_blocked_later(owner_client):
    salesperson = factories.SalespersonFactory(blocked=True)
    person = factories.PersonFactory(salesperson=salesperson)

    form = owner_client.get(edit_url(person)).context["form"]

    assert salesperson in form.fields["salesperson"].queryset


def test_edit_changes_the_contact_and_records_who_changed_it(colleague, client):
    person = factories.PersonFactory(number="P0007", company=None)
    company = factories.CompanyFactory(number="C0007")
    client.force_login(colleague)

    response = client.post(
        edit_url(person),
        person_data(number="P0007", company="C0007", city="Utrecht", privacy_blocked="on"),
    )

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.company == company
    assert person.city == "Utrecht"
    assert person.privacy_blocked is True
    assert person.updated_by == colleague


def test_edit_form_shows_the_company_by_its_number(owner_client):
    person = factories.PersonFactory(company=factories.CompanyFactory(number="C0555"))

    form = owner_client.get(edit_url(person)).context["form"]

    assert form["company"].value() == "C0555"


def test_edit_with_an_empty_number_shows_an_error(owner_client):
    person = factories.PersonFactory()

    response = owner_client.post(edit_url(person), person_data(number=""))

    assert response.status_code == 200
    assert "number" in response.context["form"].errors


def test_a_company_with_persons_cannot_become_a_person(owner_client):
    company = factories.CompanyFactory(number="C0001", name="Acme")
    factories.PersonFactory(company=company)

    response = owner_client.post(
        edit_url(company), person_data(number="C0001", type=ContactType.PERSON, name="Acme")
    )

    assert "type" in response.context["form"].errors
    company.refresh_from_db()
    assert company.type == ContactType.COMPANY


def test_manager_can_create_contacts(manager_client):
    response = manager_client.post(CREATE_URL, person_data(number="P9"))

    assert response.status_code == 302


@pytest.mark.parametrize("page", ["create", "edit"])
def test_outsider_without_a_role_gets_403_on_create_and_edit(outsider, client, page):
    person = factories.PersonFactory()
    client.force_login(outsider)
    url = CREATE_URL if page == "create" else edit_url(person)

    assert client.get(url).status_code == 403
    assert client.post(url, person_data(number="P1")).status_code == 403
    assert not Contact.objects.filter(number="P1").exists()


def test_outsider_still_sees_contacts_and_cards(outsider, client):
    person = factories.PersonFactory()
    client.force_login(outsider)

    assert client.get(LIST_URL).status_code == 200
    content = client.get(detail_url(person)).content.decode()
    assert edit_url(person) not in content


# --- Delete -----------------------------------------------------------------------------------


def _entry_as_contact(contact):
    factories.LogEntryFactory(contact=contact)


def _entry_of_a_person(company):
    person = factories.PersonFactory(company=company)
    factories.LogEntryFactory(contact=person)
    # Leave only the history through the company relation: the person itself stays.


def _segment_line(contact):
    factories.SegmentLineFactory(contact=contact)


def _person(company):
    factories.PersonFactory(company=company)


def _draft(contact):
    InteractionDraft.objects.create(owner=factories.UserFactory(), contact=contact)


@pytest.mark.parametrize(
    ("make_reference", "reason"),
    [
        (_entry_as_contact, "interaction log entries"),
        (_entry_of_a_person, "interaction log entries"),
        (_segment_line, "segment lines"),
        (_person, "persons"),
        (_draft, "postponed interactions"),
    ],
)
def test_delete_is_refused_for_a_contact_with_history(staff_client, make_reference, reason):
    company = factories.CompanyFactory()
    make_reference(company)

    page = staff_client.get(delete_url(company))
    response = staff_client.post(delete_url(company), follow=True)

    assert reason in page.context["refusal"]
    assert "Privacy Blocked" in page.context["refusal"]
    assert Contact.objects.filter(pk=company.pk).exists()
    assert "cannot be deleted" in response.content.decode()
    assert "Set Privacy Blocked on it instead" in response.content.decode()


def test_delete_of_an_unused_contact_asks_and_then_deletes(staff_client):
    company = factories.CompanyFactory()

    page = staff_client.get(delete_url(company))
    response = staff_client.post(delete_url(company))

    assert page.status_code == 200
    assert page.context["refusal"] == ""
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert not Contact.objects.filter(pk=company.pk).exists()


def test_delete_service_turns_a_protected_error_into_a_refusal(staff, monkeypatch):
    person = factories.PersonFactory()
    factories.LogEntryFactory(contact=person)
    # As if the entry arrived between the check and the delete.
    monkeypatch.setattr(services, "contact_usage", lambda contact: [])

    with pytest.raises(services.ContactInUse):
        services.contact_delete(user=staff, contact=person)

    assert Contact.objects.filter(pk=person.pk).exists()


def test_salesperson_cannot_delete_contacts(owner_client):
    company = factories.CompanyFactory()

    assert owner_client.get(delete_url(company)).status_code == 403
    assert owner_client.post(delete_url(company)).status_code == 403
    assert Contact.objects.filter(pk=company.pk).exists()


# --- Search JSON ------------------------------------------------------------------------------


def test_contact_search_returns_up_to_twenty_matches_as_json(owner_client):
    company = factories.CompanyFactory(number="C1", name="Acme")
    person = factories.PersonFactory(number="P1", name="Acme Buyer", company=company)
    factories.CompanyFactory.create_batch(
        25, name=factories.factory.Sequence(lambda n: f"Acme {n:02d}")
    )

    first = owner_client.get(SEARCH_URL, {"q": "acme"}).json()
    exact = owner_client.get(SEARCH_URL, {"q": "P1"}).json()

    assert len(first) == 20
    assert exact == [{"id": person.pk, "number": "P1", "name": "Acme Buyer", "company": "Acme"}]


def test_contact_search_can_ask_for_companies_only(owner_client):
    company = factories.CompanyFactory(name="Acme")
    factories.PersonFactory(name="Acme Person", company=company)

    results = owner_client.get(SEARCH_URL, {"q": "acme", "type": "company"}).json()

    assert [r["id"] for r in results] == [company.pk]


# --- Templates --------------------------------------------------------------------------------


def test_contact_templates_have_no_inline_scripts_or_styles():
    # A strict Content-Security-Policy blocks both.
    folder = Path(settings.BASE_DIR) / "templates"
    for template in [*folder.glob("contacts/*.html"), *folder.glob("registration/*.html")]:
        text = template.read_text()
        assert "<script" not in text, template
        assert "style=" not in text, template
        assert "|safe" not in text, template


def test_initiated_by_us_counts_as_an_attempt(owner_client):
    person = factories.PersonFactory()
    them = factories.TemplateFactory(initiated_by=InitiatedBy.THEM)
    factories.LogEntryFactory(contact=person, template=them, date=datetime.date(2024, 3, 1))

    statistics = owner_client.get(detail_url(person)).context["statistics"]

    assert statistics["last_date"] == datetime.date(2024, 3, 1)
    assert statistics["last_attempt"] is None


def test_marketing_manager_may_delete_an_unused_contact(manager_client):
    company = factories.CompanyFactory()
    response = manager_client.post(delete_url(company))
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=company.pk).exists()


@pytest.mark.parametrize("sort", ["name", "-name", "number", "-number"])
def test_an_old_numbered_contact_page_pages_keys_first_and_names_only_its_rows(
    owner_client, monkeypatch, sort
):
    monkeypatch.setattr(contact_views, "PAGE_SIZE", 2)
    company = factories.CompanyFactory(name="Acme")
    for n in range(5):
        factories.PersonFactory(number=f"P{n}", name=f"Person {4 - n}", company=company)
    persons = Contact.objects.filter(type="person").order_by(*CONTACT_ORDERS[sort])
    expected = [c.number for c in persons][2:4]
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(LIST_URL, {"type": "person", "sort": sort, "page": 2})
    rows = response.context["page"].object_list
    assert [row.number for row in rows] == expected
    assert {row.company_name for row in rows} == {"Acme"}
    # The OFFSET is inside the key sub-select; the names' subqueries are outside it.
    (paged,) = [q["sql"] for q in queries if "OFFSET" in q["sql"]]
    keys = paged[paged.index("IN (SELECT") :]
    assert paged.index('"name" FROM "contacts_contact" U0') < paged.index("IN (SELECT")
    assert "contacts_salesperson" not in keys
