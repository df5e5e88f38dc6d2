"""Marketing Managers maintain templates (with content per language), groups, campaigns,
opportunities and number series in the app; Salespeople see them read-only; whatever the log
refers to cannot be deleted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Campaign, NumberSeries, Opportunity
from interactions.models import (
    InteractionGroup,
    InteractionTemplate,
    InteractionTemplateContent,
)
from tests import factories

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def template_data(group, **changes) -> dict:
    data = {
        "code": "VISIT",
        "description": "Customer visit",
        "group": group.pk,
        "unit_cost": "12.50",
        "unit_duration": "60",
        "information_flow": "outbound",
        "initiated_by": "us",
        "correspondence_type": "",
        "language": "",
        "campaign": "",
    }
    return {**data, **changes}


# --- Interaction templates ------------------------------------------------------------------


def test_manager_creates_a_template_and_is_recorded_as_its_author(manager, manager_client):
    group = factories.GroupFactory()
    response = manager_client.post(url("interactions:template_create"), template_data(group))
    template = InteractionTemplate.objects.get(code="VISIT")
    assert response.status_code == 302
    assert response.url == url("interactions:template_detail", template.pk)
    assert (template.unit_cost, template.group) == (Decimal("12.50"), group)
    assert template.created_by == manager
    assert template.updated_by == manager


def test_template_form_shows_errors_next_to_fields(manager_client):
    group = factories.GroupFactory()
    factories.TemplateFactory(code="TAKEN")
    response = manager_client.post(
        url("interactions:template_create"),
        template_data(group, code="TAKEN", unit_cost="-1", campaign_target="on"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"code", "unit_cost", "campaign"}
    assert "Another interaction template has this code." in errors["code"]


def test_manager_edits_a_template(manager, manager_client):
    template = factories.TemplateFactory(code="CALL")
    response = manager_client.post(
        url("interactions:template_edit", template.pk),
        template_data(template.group, code="CALL", description="Phone call, outbound"),
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.description == "Phone call, outbound"
    assert template.updated_by == manager


def test_a_template_the_log_refers_to_cannot_be_deleted(manager_client):
    template = factories.TemplateFactory(code="USED")
    factories.LogEntryFactory(template=template)
    page = manager_client.get(url("interactions:template_delete", template.pk))
    assert (
        "cannot be deleted because interaction log entries still refer to it"
        in (page.context["refusal"])
    )
    response = manager_client.post(url("interactions:template_delete", template.pk), follow=True)
    assert InteractionTemplate.objects.filter(pk=template.pk).exists()
    assert any("cannot be deleted" in m for m in messages_of(response))


def test_a_template_a_segment_uses_cannot_be_deleted(manager_client):
    template = factories.TemplateFactory()
    factories.SegmentFactory(template=template)
    manager_client.post(url("interactions:template_delete", template.pk))
    assert InteractionTemplate.objects.filter(pk=template.pk).exists()


def test_an_unused_template_is_deleted_with_its_content(manager_client):
    template = factories.TemplateFactory()
    factories.TemplateContentFactory(template=template)
    response = manager_client.post(url("interactions:template_delete", template.pk))
    assert response.url == url("interactions:template_list")
    assert not InteractionTemplate.objects.filter(pk=template.pk).exists()
    assert not InteractionTemplateContent.objects.exists()


# --- Template content per language ----------------------------------------------------------


def test_manager_adds_content_per_language_with_an_attachment(manager, manager_client):
    template = factories.TemplateFactory()
    response = manager_client.post(
        url("interactions:template_content_create", template.pk),
        {
            "language": "nl",
            "subject": "Beste {{ first_name }}",
            "body": "Groeten,\n{{ salesperson_name }}",
            "attachment": SimpleUploadedFile("brochure.pdf", b"%PDF-1.4"),
        },
    )
    assert response.status_code == 302
    content = template.contents.get(language="nl")
    assert content.subject == "Beste {{ first_name }}"
    assert content.attachment.name.endswith("brochure.pdf")
    assert content.created_by == manager

    download = manager_client.get(
        url("interactions:template_content_attachment", template.pk, content.pk)
    )
    assert b"".join(download.streaming_content) == b"%PDF-1.4"


def test_unknown_merge_fields_are_refused_when_content_is_saved(manager_client):
    template = factories.TemplateFactory()
    response = manager_client.post(
        url("interactions:template_content_create", template.pk),
        {"language": "", "subject": "Hi {{ nickname }}", "body": "{{ contact.password }}"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "Unknown merge field(s): nickname" in errors["subject"][0]
    assert "contact.password" in errors["body"][0]
    assert not template.contents.exists()


def test_a_template_has_one_content_per_language(manager_client):
    template = factories.TemplateFactory()
    factories.TemplateContentFactory(template=template, language="de")
    response = manager_client.post(
        url("interactions:template_content_create", template.pk),
        {"language": "de", "subject": "Hallo", "body": ""},
    )
    assert "language" in response.context["form"].errors
    assert template.contents.count() == 1


def test_manager_edits_and_deletes_content(manager_client):
    template = factories.TemplateFactory()
    content = factories.TemplateContentFactory(template=template, subject="Old")
    manager_client.post(
        url("interactions:template_content_edit", template.pk, content.pk),
        {"language": "", "subject": "New {{ date }}", "body": "Body"},
    )
    content.refresh_from_db()
    assert content.subject == "New {{ date }}"
    manager_client.post(url("interactions:template_content_delete", template.pk, content.pk))
    assert not template.contents.exists()


def test_content_of_another_template_is_a_404(manager_client):
    content = factories.TemplateContentFactory()
    other = factories.TemplateFactory()
    edit = url("interactions:template_content_edit", other.pk, content.pk)
    assert manager_client.get(edit).status_code == 404


# --- Interaction groups ---------------------------------------------------------------------


def test_manager_creates_edits_and_deletes_an_unused_group(manager_client):
    response = manager_client.post(
        url("interactions:group_create"), {"code": "MAIL", "description": "Mailings"}
    )
    group = InteractionGroup.objects.get(code="MAIL")
    assert response.url == url("interactions:group_detail", group.pk)
    manager_client.post(
        url("interactions:group_edit", group.pk), {"code": "MAIL", "description": "Letters"}
    )
    group.refresh_from_db()
    assert group.description == "Letters"
    manager_client.post(url("interactions:group_delete", group.pk))
    assert not InteractionGroup.objects.filter(pk=group.pk).exists()


def test_a_group_with_templates_cannot_be_deleted(manager_client):
    template = factories.TemplateFactory()
    response = manager_client.post(url("interactions:group_delete", template.group_id), follow=True)
    assert InteractionGroup.objects.filter(pk=template.group_id).exists()
    assert any(
        "cannot be deleted because interaction templates" in m for m in messages_of(response)
    )


def test_group_form_with_bad_input_shows_errors(manager_client):
    factories.GroupFactory(code="DUP")
    response = manager_client.post(
        url("interactions:group_create"), {"code": "DUP", "description": ""}
    )
    assert set(response.context["form"].errors) == {"code", "description"}


# --- Campaigns, opportunities, number series ------------------------------------------------


def test_manager_creates_and_edits_a_campaign(manager, manager_client):
    response = manager_client.post(
        url("contacts:campaign_create"),
        {"number": "CP1", "description": "Spring", "status": "active"},
    )
    assert response.url == url("contacts:campaign_list")
    campaign = Campaign.objects.get(number="CP1")
    assert campaign.created_by == manager
    manager_client.post(
        url("contacts:campaign_edit", campaign.pk),
        {"number": "CP1", "description": "Spring fair", "status": "completed"},
    )
    campaign.refresh_from_db()
    assert (campaign.description, campaign.status) == ("Spring fair", "completed")


def test_campaign_dates_must_be_in_order(manager_client):
    response = manager_client.post(
        url("contacts:campaign_create"),
        {
            "number": "CP2",
            "description": "Backwards",
            "status": "planned",
            "starting_date": "2025-05-01",
            "ending_date": "2025-04-01",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Campaign.objects.filter(number="CP2").exists()


def test_a_campaign_the_log_refers_to_cannot_be_deleted(manager_client):
    campaign = factories.CampaignFactory()
    factories.LogEntryFactory(campaign=campaign)
    response = manager_client.post(url("contacts:campaign_delete", campaign.pk), follow=True)
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    assert any("interaction log entries" in m for m in messages_of(response))


def test_manager_creates_an_opportunity_for_a_company_by_number(manager_client):
    company = factories.CompanyFactory(number="CT777")
    salesperson = factories.SalespersonFactory()
    response = manager_client.post(
        url("contacts:opportunity_create"),
        {
            "number": "OP1",
            "description": "Fleet renewal",
            "status": "in_progress",
            "contact_company": "CT777",
            "salesperson": salesperson.pk,
            "estimated_value": "25000",
        },
    )
    assert response.status_code == 302
    opportunity = Opportunity.objects.get(number="OP1")
    assert opportunity.contact_company == company


def test_an_opportunity_needs_a_company_not_a_person(manager_client):
    person = factories.PersonFactory()
    response = manager_client.post(
        url("contacts:opportunity_create"),
        {
            "number": "OP2",
            "description": "x",
            "status": "not_started",
            "contact_company": person.number,
            "salesperson": factories.SalespersonFactory().pk,
            "estimated_value": "-5",
        },
    )
    assert set(response.context["form"].errors) == {"contact_company", "estimated_value"}


def test_an_opportunity_with_interactions_cannot_be_deleted(manager_client):
    opportunity = factories.OpportunityFactory()
    factories.LogEntryFactory(opportunity=opportunity)
    manager_client.post(url("contacts:opportunity_delete", opportunity.pk))
    assert Opportunity.objects.filter(pk=opportunity.pk).exists()
    unused = factories.OpportunityFactory()
    manager_client.post(url("contacts:opportunity_delete", unused.pk))
    assert not Opportunity.objects.filter(pk=unused.pk).exists()


def test_number_series_last_number_can_be_raised_but_not_lowered(manager_client):
    series = factories.NumberSeriesFactory(code="CONT", prefix="CT", width=5, last_number=40)
    data = {"code": "CONT", "description": "", "prefix": "CT", "width": 5}
    response = manager_client.post(
        url("contacts:number_series_edit", series.pk), {**data, "last_number": 39}
    )
    assert "last_number" in response.context["form"].errors
    manager_client.post(url("contacts:number_series_edit", series.pk), {**data, "last_number": 50})
    series.refresh_from_db()
    assert series.last_number == 50
    assert series.take() == ["CT00051"]


def test_a_number_series_in_marketing_setup_cannot_be_deleted(manager_client):
    setup = factories.MarketingSetupFactory()
    response = manager_client.get(url("contacts:number_series_delete", setup.contact_nos_id))
    assert "marketing setup" in response.context["refusal"]
    manager_client.post(url("contacts:number_series_delete", setup.contact_nos_id))
    assert NumberSeries.objects.filter(pk=setup.contact_nos_id).exists()


def test_manager_creates_a_number_series(manager_client):
    manager_client.post(
        url("contacts:number_series_create"),
        {
            "code": "OPP",
            "description": "Opportunities",
            "prefix": "OP",
            "width": 4,
            "last_number": 0,
        },
    )
    assert NumberSeries.objects.get(code="OPP").format(7) == "OP0007"


# --- One shape for the five (contacts.web.SetupPages) ---------------------------------------

# (factory, URL name prefix, the field naming a record, where the pages lead back: its own page
# or the list, and the heading of the list)
SETUP_KINDS = [
    (factories.CampaignFactory, "contacts:campaign", "number", None, "Campaigns"),
    (factories.OpportunityFactory, "contacts:opportunity", "number", None, "Opportunities"),
    (factories.NumberSeriesFactory, "contacts:number_series", "code", None, "Number Series"),
    (factories.TemplateFactory, "interactions:template", "code", "detail", "Interaction Templates"),
    (factories.GroupFactory, "interactions:group", "code", "detail", "Interaction Groups"),
]


@pytest.mark.parametrize(("factory", "prefix", "key", "own_page", "heading"), SETUP_KINDS)
def test_a_refused_edit_keeps_the_stored_name_and_leads_back_where_it_came_from(
    manager_client, factory, prefix, key, own_page, heading
):
    record = factory()
    name = getattr(record, key)
    back = url(f"{prefix}_detail", record.pk) if own_page else url(f"{prefix}_list")

    response = manager_client.post(url(f"{prefix}_edit", record.pk), {key: "", "description": ""})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert name in response.context["title"]  # the stored name, not the blank one posted
    assert response.context["back"] == back
    assert response.context["crumbs"][0] == (url(f"{prefix}_list"), heading)
    if own_page:
        assert response.context["crumbs"][1] == (back, name)
    record.refresh_from_db()
    assert getattr(record, key) == name


@pytest.mark.parametrize(("factory", "prefix", "key", "own_page", "heading"), SETUP_KINDS)
def test_deleting_an_unused_record_says_so_and_goes_to_the_list(
    manager_client, factory, prefix, key, own_page, heading
):
    record = factory()

    confirm = manager_client.get(url(f"{prefix}_delete", record.pk))
    response = manager_client.post(url(f"{prefix}_delete", record.pk), follow=True)

    assert "Nothing refers to it" in confirm.content.decode()
    assert response.redirect_chain[-1][0] == url(f"{prefix}_list")
    assert f"{record} deleted." in messages_of(response)
    assert not type(record).objects.filter(pk=record.pk).exists()


# --- Who may do what ------------------------------------------------------------------------


def _write_pages():
    """(method, url) of every write page of the setup records."""
    template = factories.TemplateFactory()
    content = factories.TemplateContentFactory(template=template)
    campaign = factories.CampaignFactory()
    opportunity = factories.OpportunityFactory()
    series = factories.NumberSeriesFactory()
    pages = [
        url("interactions:template_create"),
        url("interactions:template_edit", template.pk),
        url("interactions:template_delete", template.pk),
        url("interactions:template_content_create", template.pk),
        url("interactions:template_content_edit", template.pk, content.pk),
        url("interactions:template_content_delete", template.pk, content.pk),
        url("interactions:group_create"),
        url("interactions:group_edit", template.group_id),
        url("interactions:group_delete", template.group_id),
        url("contacts:campaign_create"),
        url("contacts:campaign_edit", campaign.pk),
        url("contacts:campaign_delete", campaign.pk),
        url("contacts:opportunity_create"),
        url("contacts:opportunity_edit", opportunity.pk),
        url("contacts:opportunity_delete", opportunity.pk),
        url("contacts:number_series_create"),
        url("contacts:number_series_edit", series.pk),
        url("contacts:number_series_delete", series.pk),
    ]
    return pages, [template, content, campaign, opportunity, series]


@pytest.mark.parametrize("persona", ["owner", "outsider"])
def test_only_marketing_managers_change_setup_records(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    pages, records = _write_pages()
    for page in pages:
        assert client.get(page).status_code == 403, page
        assert client.post(page, {"code": "X", "description": "x"}).status_code == 403, page
    for record in records:
        assert type(record).objects.filter(pk=record.pk).exists()


def test_manager_can_open_every_write_page(manager_client):
    pages, _records = _write_pages()
    for page in pages:
        assert manager_client.get(page).status_code == 200, page


READ_PAGES = [
    "interactions:template_list",
    "interactions:group_list",
    "contacts:campaign_list",
    "contacts:opportunity_list",
    "contacts:number_series_list",
]


@pytest.mark.parametrize("name", READ_PAGES)
def test_salespeople_see_setup_lists_read_only(owner_client, name):
    factories.TemplateFactory()
    factories.CampaignFactory()
    factories.OpportunityFactory()
    factories.NumberSeriesFactory()
    response = owner_client.get(reverse(name))
    assert response.status_code == 200
    content = response.content.decode()
    assert "/edit/" not in content
    assert "/delete/" not in content
    assert "/new/" not in content


@pytest.mark.parametrize("name", READ_PAGES)
def test_managers_see_the_buttons_to_change_them(manager_client, name):
    factories.TemplateFactory()
    factories.CampaignFactory()
    factories.OpportunityFactory()
    factories.NumberSeriesFactory()
    assert "/new/" in manager_client.get(reverse(name)).content.decode()


def test_template_page_offers_only_managers_content_maintenance(client, manager, owner):
    template = factories.TemplateFactory()
    factories.TemplateContentFactory(template=template)
    page = url("interactions:template_detail", template.pk)
    client.force_login(manager)
    assert b"Add content" in client.get(page).content
    client.force_login(owner)
    assert b"Add content" not in client.get(page).content


# --- Query counts at two sizes --------------------------------------------------------------


def build_campaigns(rows: int) -> str:
    salesperson = factories.SalespersonFactory()
    factories.CampaignFactory.create_batch(rows, salesperson=salesperson)
    return reverse("contacts:campaign_list")


def build_opportunities(rows: int) -> str:
    company = factories.CompanyFactory()
    salesperson = factories.SalespersonFactory()
    campaign = factories.CampaignFactory()
    factories.OpportunityFactory.create_batch(
        rows, contact_company=company, salesperson=salesperson, campaign=campaign
    )
    return reverse("contacts:opportunity_list")


def build_number_series(rows: int) -> str:
    factories.MarketingSetupFactory()
    factories.NumberSeriesFactory.create_batch(rows)
    return reverse("contacts:number_series_list")


def build_template_form(rows: int) -> str:
    factories.GroupFactory.create_batch(rows)
    factories.CampaignFactory.create_batch(rows)
    return reverse("interactions:template_create")


def build_template_delete(rows: int) -> str:
    template = factories.TemplateFactory()
    factories.LogEntryFactory.create_batch(rows, template=template)
    return url("interactions:template_delete", template.pk)


QUERY_COUNTS = [
    # session, user (with its permissions), then:
    (build_campaigns, 4),  # pager count, the page with salespeople
    (build_opportunities, 4),  # pager count, the page with company, salesperson, campaign
    (build_number_series, 4),  # Marketing Setup, the series
    (build_template_form, 4),  # the group and campaign choices
    # the template; one EXISTS per relation that protects it (entries, segments, lines)
    (build_template_delete, 6),
]


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(
    ("build", "queries"), QUERY_COUNTS, ids=[build.__name__ for build, _ in QUERY_COUNTS]
)
def test_setup_page_query_count_does_not_grow_with_rows(
    manager_client, django_assert_num_queries, build, queries, rows
):
    page = build(rows)
    with django_assert_num_queries(queries):
        response = manager_client.get(page)
    assert response.status_code == 200
