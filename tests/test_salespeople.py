"""Salespeople (list, card, create/edit by Marketing Managers) and the Marketing Setup page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.models import MarketingSetup, Salesperson
from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = reverse("contacts:salesperson_list")
CREATE_URL = reverse("contacts:salesperson_create")
SETUP_URL = reverse("contacts:marketing_setup")


def detail_url(salesperson: Salesperson) -> str:
    return reverse("contacts:salesperson_detail", args=[salesperson.pk])


def edit_url(salesperson: Salesperson) -> str:
    return reverse("contacts:salesperson_edit", args=[salesperson.pk])


def salesperson_data(**overrides) -> dict:
    data = {
        "code": "NEW",
        "name": "Nina New",
        "email": "nina@example.com",
        "phone": "",
        "job_title": "Account Manager",
        "user": "",
    }
    data.update(overrides)
    return data


def setup_data(**overrides) -> dict:
    data = {
        "contact_nos": "",
        "segment_nos": "",
        "default_salesperson": "",
        "default_correspondence_type": "",
        "default_language": "en",
        "currency_code": "EUR",
    }
    data.update(overrides)
    return data


# --- List and card ----------------------------------------------------------------------------


def test_salesperson_list_shows_every_salesperson_by_code(owner_client):
    factories.SalespersonFactory(code="ZED", name="Zed")
    factories.SalespersonFactory(code="ABE", name="Abe", blocked=True)

    response = owner_client.get(LIST_URL)

    codes = [s.code for s in response.context["page"].object_list]
    assert codes == ["ABE", "OWN", "ZED"]
    assert response.context["nav"] == "salespeople"
    assert "Blocked" in response.content.decode()


def test_salesperson_list_search_matches_the_start_of_code_or_name(owner_client):
    factories.SalespersonFactory(code="ZED", name="Zed")

    response = owner_client.get(LIST_URL, {"q": "ze"})

    assert [s.code for s in response.context["page"].object_list] == ["ZED"]


@pytest.mark.parametrize("rows", [3, 30])
def test_salesperson_list_query_count_does_not_grow_with_rows(
    owner_client, django_assert_num_queries, rows
):
    for _ in range(rows):
        factories.SalespersonFactory(user=factories.UserFactory())

    # session, user (with its permissions), count, page (users joined)
    with django_assert_num_queries(4):
        response = owner_client.get(LIST_URL)

    assert len(response.context["page"].object_list) == rows + 1  # plus the owner's own


def test_salesperson_card_shows_statistics_and_recent_entries_without_canceled(owner_client):
    salesperson = factories.SalespersonFactory(name="Sam Seller")
    template = factories.TemplateFactory(description="Visit", unit_cost=Decimal("5.00"))
    kept = factories.LogEntryFactory(
        salesperson=salesperson, template=template, date=datetime.date(2024, 2, 1)
    )
    factories.LogEntryFactory(salesperson=salesperson, template=template, canceled=True)
    factories.LogEntryFactory()  # another salesperson's

    response = owner_client.get(detail_url(salesperson))

    assert response.context["statistics"]["count"] == 1
    assert response.context["statistics"]["cost"] == Decimal("5.00")
    assert [e.pk for e in response.context["history"]] == [kept.pk]
    assert "Visit by Sam Seller" in response.content.decode()


def test_salesperson_card_without_entries_says_what_to_do_next(owner_client):
    salesperson = factories.SalespersonFactory()

    content = owner_client.get(detail_url(salesperson)).content.decode()

    assert "No interactions recorded by this salesperson yet" in content
    assert edit_url(salesperson) not in content  # salespeople do not edit salespeople


def test_unknown_salesperson_is_404(owner_client):
    assert (
        owner_client.get(reverse("contacts:salesperson_detail", args=[999999])).status_code == 404
    )


@pytest.mark.parametrize("rows", [3, 30])
def test_salesperson_card_query_count_does_not_grow_with_rows(
    owner_client, django_assert_num_queries, rows
):
    salesperson = factories.SalespersonFactory(user=factories.UserFactory())
    template = factories.TemplateFactory()
    for _ in range(rows):
        factories.LogEntryFactory(salesperson=salesperson, template=template)

    # session, user (with its permissions), salesperson (user joined), history, statistics
    with django_assert_num_queries(5):
        response = owner_client.get(detail_url(salesperson))

    assert len(response.context["history"]) == min(rows, 20)


# --- Create and edit --------------------------------------------------------------------------


def test_manager_creates_a_salesperson_linked_to_a_user(manager, manager_client):
    user = factories.UserFactory(username="nina")

    response = manager_client.post(CREATE_URL, salesperson_data(user=user.pk))

    salesperson = Salesperson.objects.get(code="NEW")
    assert response.status_code == 302
    assert response["Location"] == detail_url(salesperson)
    assert salesperson.user == user
    assert salesperson.created_by == manager


def test_linking_a_user_who_already_has_a_salesperson_gives_a_clear_error(owner, manager_client):
    response = manager_client.post(CREATE_URL, salesperson_data(user=owner.pk))

    assert response.status_code == 200
    assert response.context["form"].errors["user"] == [
        "This user is already linked to another salesperson."
    ]
    assert not Salesperson.objects.filter(code="NEW").exists()


def test_a_duplicate_code_gives_a_clear_error(manager_client):
    factories.SalespersonFactory(code="NEW")

    response = manager_client.post(CREATE_URL, salesperson_data())

    assert response.context["form"].errors["code"] == ["Another salesperson already has this code."]


def test_salesperson_form_with_bad_input_shows_errors(manager_client):
    response = manager_client.post(
        CREATE_URL, salesperson_data(code="", name="", email="nope", user="999999")
    )

    assert response.status_code == 200
    assert {"code", "name", "email", "user"} <= set(response.context["form"].errors)


def test_manager_edits_and_blocks_a_salesperson(manager, manager_client):
    salesperson = factories.SalespersonFactory(code="SAM", name="Sam")

    response = manager_client.post(
        edit_url(salesperson), salesperson_data(code="SAM", name="Samuel", blocked="on")
    )

    assert response.status_code == 302
    salesperson.refresh_from_db()
    assert salesperson.name == "Samuel"
    assert salesperson.blocked is True
    assert salesperson.updated_by == manager


def test_editing_keeps_the_salespersons_own_user_valid(owner, manager_client):
    salesperson = owner.salesperson

    response = manager_client.post(
        edit_url(salesperson), salesperson_data(code="OWN", name="Olivia", user=owner.pk)
    )

    assert response.status_code == 302


@pytest.mark.parametrize("persona", ["owner", "outsider"])
def test_only_marketing_managers_create_or_edit_salespeople(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    salesperson = factories.SalespersonFactory(code="SAM", name="Sam")

    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, salesperson_data()).status_code == 403
    assert client.get(edit_url(salesperson)).status_code == 403
    assert client.post(edit_url(salesperson), salesperson_data(code="SAM")).status_code == 403
    assert not Salesperson.objects.filter(code="NEW").exists()
    salesperson.refresh_from_db()
    assert salesperson.name == "Sam"


# --- Marketing Setup --------------------------------------------------------------------------


def test_everyone_reads_the_marketing_setup(owner_client):
    response = owner_client.get(SETUP_URL)

    assert response.status_code == 200
    assert response.context["form"] is None
    assert response.context["nav"] == "setup"
    assert "Only Marketing Managers can change these settings." in response.content.decode()


def test_manager_changes_the_marketing_setup(manager, manager_client):
    series = factories.NumberSeriesFactory(code="CONT")
    salesperson = factories.SalespersonFactory()

    response = manager_client.post(
        SETUP_URL,
        setup_data(contact_nos=series.pk, default_salesperson=salesperson.pk, currency_code="USD"),
    )

    assert response.status_code == 302
    setup = MarketingSetup.load()
    assert setup.contact_nos == series
    assert setup.default_salesperson == salesperson
    assert setup.currency_code == "USD"
    assert setup.updated_by == manager


def test_marketing_setup_with_bad_input_shows_errors(manager_client):
    blocked = factories.SalespersonFactory(blocked=True)

    response = manager_client.post(
        SETUP_URL,
        setup_data(default_salesperson=blocked.pk, default_language="xx", currency_code="EURO"),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"default_salesperson", "default_language", "currency_code"} <= set(errors)


def test_salesperson_cannot_change_the_marketing_setup(owner_client):
    response = owner_client.post(SETUP_URL, setup_data(currency_code="USD"))

    assert response.status_code == 403
    assert MarketingSetup.load().currency_code == "EUR"


def test_new_contacts_start_with_the_setup_defaults(owner_client):
    salesperson = factories.SalespersonFactory()
    setup = MarketingSetup.load()
    setup.default_salesperson = salesperson
    setup.default_language = "nl"
    setup.save()

    form = owner_client.get(reverse("contacts:contact_create")).context["form"]

    assert form["salesperson"].value() == salesperson.pk
    assert form["language"].value() == "nl"


def test_salesperson_card_shows_typed_markup_and_quotes_escaped_as_the_django_engine_does(
    owner_client,
):
    # The General panel comes from a Jinja2 partial (jinja2/contacts/_salesperson_fields.html)
    # fed values escaped by Django: a quote is &#x27; there as in the rest of the card.
    salesperson = factories.SalespersonFactory(
        name='Zed <i>"Q"</i> O\'Zed', job_title="", email="z'ed@example.com", phone=""
    )

    html = owner_client.get(detail_url(salesperson)).content.decode()

    assert "<dt>Name</dt><dd>Zed &lt;i&gt;&quot;Q&quot;&lt;/i&gt; O&#x27;Zed</dd>" in html
    assert "<dt>Job Title</dt><dd>—</dd>" in html
    assert '<dd><a href="mailto:z&#x27;ed@example.com">z&#x27;ed@example.com</a></dd>' in html
    assert "<dt>Phone No.</dt><dd>—</dd>" in html
    assert "<dt>User</dt><dd>—</dd>" in html
    assert "<dt>Blocked</dt><dd>No</dd>" in html
    assert "&#39;" not in html
