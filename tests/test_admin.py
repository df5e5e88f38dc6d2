"""Django admin: every model reachable, search, audit stamps, the read-only log, big tables."""

from __future__ import annotations

from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.admin import EstimatedCountPaginator
from contacts.models import (
    Campaign,
    Contact,
    ContactType,
    MarketingSetup,
    NumberSeries,
    Opportunity,
    Salesperson,
)
from interactions.models import (
    Evaluation,
    InteractionComment,
    InteractionDraft,
    InteractionGroup,
    InteractionLogEntry,
    InteractionTemplate,
    InteractionTemplateContent,
)
from segments.models import LoggedSegment, Segment, SegmentLine
from tests import factories

pytestmark = pytest.mark.django_db

# How to get one existing object of each registered model (auth's come with the fixtures).
EXISTING = {
    NumberSeries: factories.NumberSeriesFactory,
    MarketingSetup: factories.MarketingSetupFactory,
    Salesperson: factories.SalespersonFactory,
    Contact: factories.PersonFactory,
    Campaign: factories.CampaignFactory,
    Opportunity: factories.OpportunityFactory,
    InteractionGroup: factories.GroupFactory,
    InteractionTemplate: factories.TemplateFactory,
    InteractionTemplateContent: factories.TemplateContentFactory,
    InteractionLogEntry: factories.LogEntryFactory,
    InteractionComment: factories.CommentFactory,
    InteractionDraft: factories.DraftFactory,
    Segment: factories.SegmentFactory,
    SegmentLine: factories.SegmentLineFactory,
    LoggedSegment: factories.LoggedSegmentFactory,
    get_user_model(): lambda: get_user_model().objects.first(),
    Group: lambda: Group.objects.first(),
    # django-axes' records of failed logins: staff lift a lockout by deleting its attempt.
    AccessAttempt: lambda: AccessAttempt.objects.create(
        username="someone", ip_address="127.0.0.1", failures_since_start=5
    ),
    AccessFailureLog: lambda: AccessFailureLog.objects.create(
        username="someone", ip_address="127.0.0.1"
    ),
    AccessLog: lambda: AccessLog.objects.create(username="someone", ip_address="127.0.0.1"),
}
# Written only by the app's workflows (wizard, Log Segment), never typed in the admin; the
# login records only by django-axes.
NOT_ADDABLE = {
    InteractionLogEntry,
    InteractionDraft,
    LoggedSegment,
    AccessAttempt,
    AccessFailureLog,
    AccessLog,
}

REGISTERED = [pytest.param(model, id=model._meta.label_lower) for model in admin.site._registry]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_the_crm_is_registered():
    assert set(EXISTING) <= set(admin.site._registry)
    assert set(admin.site._registry) <= set(EXISTING)


@pytest.mark.parametrize("model", REGISTERED)
def test_changelist_of_every_registered_model_loads(staff_client, model):
    EXISTING[model]()

    response = staff_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED)
def test_add_page_of_every_registered_model_loads_where_adding_is_allowed(staff_client, model):
    response = staff_client.get(admin_url(model, "add"))

    assert response.status_code == (403 if model in NOT_ADDABLE else 200)


@pytest.mark.parametrize("model", REGISTERED)
def test_change_page_of_an_existing_object_loads_for_every_registered_model(staff_client, model):
    obj = EXISTING[model]()

    response = staff_client.get(admin_url(model, "change", obj.pk))

    assert response.status_code == 200


def changelist_rows(response) -> list:
    return list(response.context["cl"].result_list)


# Searches narrow to a list of keys when the matches are few and filter otherwise; both ways.
@pytest.mark.parametrize("pin_limit", [1000, 1], ids=["few matches", "many matches"])
def test_contact_search_matches_the_start_of_a_word_of_number_name_surname_or_email(
    staff_client, monkeypatch, pin_limit
):
    monkeypatch.setattr(admin.site._registry[Contact], "search_pin_limit", pin_limit)
    by_name = factories.CompanyFactory(name="Zephyr Trading", email="z@example.com")
    by_surname = factories.PersonFactory(first_name="Ann", surname="Zephyrson", name="Ann Z.")
    by_number = factories.CompanyFactory(number="ZEP-1", name="Other", email="o@example.com")
    by_word = factories.CompanyFactory(name="Acme Zephyr", email="acme@example.com")
    factories.CompanyFactory(name="Azephyr", email="a@example.com")  # not the start of a word

    response = staff_client.get(admin_url(Contact, "changelist"), {"q": "zep"})

    assert set(changelist_rows(response)) == {by_name, by_surname, by_number, by_word}


def test_contact_search_narrows_with_every_word(staff_client):
    wanted = factories.CompanyFactory(name="Acme Trading")
    factories.CompanyFactory(name="Acme Holding")

    response = staff_client.get(admin_url(Contact, "changelist"), {"q": "Acme Tr"})

    assert changelist_rows(response) == [wanted]


@pytest.mark.parametrize("contact_limit", [1000, 0], ids=["few contacts", "many contacts"])
def test_log_entry_search_finds_entries_by_contact_entry_number_and_segment_number(
    staff_client, monkeypatch, contact_limit
):
    monkeypatch.setattr(
        admin.site._registry[InteractionLogEntry], "search_contact_limit", contact_limit
    )
    contact = factories.PersonFactory(number="CP-SEARCH", name="Quentin Quill")
    of_contact = factories.LogEntryFactory(contact=contact)
    of_segment = factories.LogEntryFactory(segment_no="SEG-SEARCH")
    other = factories.LogEntryFactory()
    url = admin_url(InteractionLogEntry, "changelist")

    assert changelist_rows(staff_client.get(url, {"q": "quentin"})) == [of_contact]
    assert changelist_rows(staff_client.get(url, {"q": "cp-search"})) == [of_contact]
    assert changelist_rows(staff_client.get(url, {"q": "SEG-SEARCH"})) == [of_segment]
    assert changelist_rows(staff_client.get(url, {"q": str(other.pk)})) == [other]


def test_log_entry_search_for_a_huge_number_finds_nothing_instead_of_failing(staff_client):
    factories.LogEntryFactory()

    response = staff_client.get(admin_url(InteractionLogEntry, "changelist"), {"q": "9" * 30})

    assert response.status_code == 200
    assert changelist_rows(response) == []


def contact_form_data(**overrides) -> dict:
    data = {
        "number": "CT-ADMIN",
        "type": ContactType.COMPANY,
        "name": "Admin Made Ltd",
        "first_name": "",
        "surname": "",
        "company": "",
        "job_title": "",
        "salesperson": "",
        "email": "",
        "phone": "",
        "language": "",
        "address": "",
        "postcode": "",
        "city": "",
        "country": "",
        "correspondence_type": "",
    }
    return {**data, **overrides}


def test_saving_a_contact_in_admin_stamps_who_created_and_who_last_changed_it(client, staff):
    other_staff = get_user_model().objects.create_superuser("other", "o@example.com", "x")
    client.force_login(staff)

    response = client.post(admin_url(Contact, "add"), contact_form_data())

    assert response.status_code == 302
    contact = Contact.objects.get(number="CT-ADMIN")
    assert (contact.created_by, contact.updated_by) == (staff, staff)

    client.force_login(other_staff)
    response = client.post(
        admin_url(Contact, "change", contact.pk), contact_form_data(city="Utrecht")
    )

    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.city == "Utrecht"
    assert (contact.created_by, contact.updated_by) == (staff, other_staff)


def test_saving_a_template_stamps_its_inline_contents(staff_client, staff):
    group = factories.GroupFactory()
    data = {
        "code": "LETTER",
        "description": "Letter",
        "group": group.pk,
        "unit_cost": "1.00",
        "unit_duration": "5",
        "information_flow": "",
        "initiated_by": "",
        "correspondence_type": "",
        "language": "",
        "campaign": "",
        "contents-TOTAL_FORMS": "1",
        "contents-INITIAL_FORMS": "0",
        "contents-0-language": "nl",
        "contents-0-subject": "Hallo",
        "contents-0-body": "Beste {{ contact_name }}",
    }

    response = staff_client.post(admin_url(InteractionTemplate, "add"), data)

    assert response.status_code == 302
    content = InteractionTemplateContent.objects.get(template__code="LETTER")
    assert (content.language, content.created_by, content.updated_by) == ("nl", staff, staff)


def test_non_staff_salesperson_is_redirected_to_the_admin_login(owner_client):
    url = admin_url(Contact, "changelist")

    response = owner_client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('admin:login')}?next={url}"


def test_log_entry_change_form_shows_contact_and_cost_read_only(staff_client):
    entry = factories.LogEntryFactory()

    response = staff_client.get(admin_url(InteractionLogEntry, "change", entry.pk))

    form = response.context["adminform"].form
    assert "contact" not in form.fields
    assert "cost" not in form.fields
    assert {"canceled", "evaluation", "delivery_status"} <= set(form.fields)


def log_entry_form_data(**overrides) -> dict:
    data = {
        "evaluation": "",
        "delivery_status": "",
        "delivery_attempts": "0",
        "delivery_next_try_at_0": "",
        "delivery_next_try_at_1": "",
        "delivery_last_error": "",
        "delivered_at_0": "",
        "delivered_at_1": "",
        "comments-TOTAL_FORMS": "0",
        "comments-INITIAL_FORMS": "0",
    }
    return {**data, **overrides}


def test_log_entry_change_form_keeps_contact_and_cost_and_saves_evaluation_and_comment(
    staff_client, staff
):
    entry = factories.LogEntryFactory(cost=Decimal("2.50"))
    original_contact = entry.contact
    data = log_entry_form_data(
        contact=factories.PersonFactory().pk,
        cost="999.00",
        evaluation=Evaluation.POSITIVE,
        **{
            "comments-TOTAL_FORMS": "1",
            "comments-0-date": "2025-01-31",
            "comments-0-comment": "Called back, happy customer",
        },
    )

    response = staff_client.post(admin_url(InteractionLogEntry, "change", entry.pk), data)

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.contact == original_contact
    assert entry.cost == Decimal("2.50")
    assert entry.evaluation == Evaluation.POSITIVE
    assert entry.updated_by == staff
    comment = entry.comments.get()
    assert (comment.comment, comment.created_by) == ("Called back, happy customer", staff)


def test_cancel_action_cancels_the_selected_entries_and_records_who(staff_client, staff):
    chosen, untouched = factories.LogEntryFactory(), factories.LogEntryFactory()

    response = staff_client.post(
        admin_url(InteractionLogEntry, "changelist"),
        {"action": "cancel_entries", "_selected_action": [chosen.pk]},
    )

    assert response.status_code == 302
    chosen.refresh_from_db()
    untouched.refresh_from_db()
    assert (chosen.canceled, chosen.updated_by) == (True, staff)
    assert untouched.canceled is False


def test_marketing_setup_cannot_be_added_twice_or_deleted(staff_client):
    setup = factories.MarketingSetupFactory()

    assert staff_client.get(admin_url(MarketingSetup, "add")).status_code == 403
    assert staff_client.get(admin_url(MarketingSetup, "delete", setup.pk)).status_code == 403


def test_a_logged_segment_and_its_lines_are_view_only(staff_client):
    logged = factories.LoggedSegmentFactory()
    line = factories.SegmentLineFactory(segment=logged.segment)

    segment_page = staff_client.get(admin_url(Segment, "change", logged.segment.pk))
    line_page = staff_client.get(admin_url(SegmentLine, "change", line.pk))
    post = staff_client.post(admin_url(Segment, "change", logged.segment.pk), {"number": "X"})

    assert segment_page.context["has_change_permission"] is False
    assert line_page.context["has_change_permission"] is False
    assert post.status_code == 403


def test_a_big_segment_links_to_its_lines_instead_of_an_inline(staff_client, monkeypatch):
    from segments.admin import SegmentLineInline

    monkeypatch.setattr(SegmentLineInline, "max_lines", 2)
    small = factories.SegmentFactory()
    factories.SegmentLineFactory(segment=small)
    big = factories.SegmentFactory()
    factories.SegmentLineFactory.create_batch(3, segment=big)

    small_page = staff_client.get(admin_url(Segment, "change", small.pk))
    big_page = staff_client.get(admin_url(Segment, "change", big.pk))

    assert len(small_page.context["inline_admin_formsets"]) == 1
    assert big_page.context["inline_admin_formsets"] == []
    assert f"segment__id__exact={big.pk}" in big_page.content.decode()


def count_changelist_queries(client, model) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", [InteractionLogEntry, Contact, SegmentLine])
def test_big_table_changelists_run_the_same_queries_for_few_and_many_rows(staff_client, model):
    build = {
        InteractionLogEntry: factories.LogEntryFactory,
        Contact: factories.PersonFactory,
        SegmentLine: factories.SegmentLineFactory,
    }[model]
    build.create_batch(2)
    few = count_changelist_queries(staff_client, model)
    build.create_batch(20)

    assert count_changelist_queries(staff_client, model) == few


def test_estimated_count_paginator_trusts_the_table_estimate_only_when_unfiltered():
    factories.LogEntryFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {InteractionLogEntry._meta.db_table}")
    entries = InteractionLogEntry.objects.all()

    class Paginator(EstimatedCountPaginator):
        exact_below = 0

    with CaptureQueriesContext(connection) as queries:
        assert Paginator(entries, 100).count == 3
    assert not any("COUNT(" in q["sql"].upper() for q in queries)

    filtered = Paginator(entries.filter(canceled=True), 100)
    assert filtered.count == 0


def test_big_tables_never_count_all_rows_twice():
    for model in (Contact, InteractionLogEntry, SegmentLine, InteractionComment):
        assert admin.site._registry[model].show_full_result_count is False


# --- drafts: private to their owner, even in the admin ---------------------------------------

SECRET = "Secret-7"


@pytest.fixture
def private_draft():
    """A draft with the secret in everything it holds: what the user typed and the wizard's
    state."""
    contact = factories.PersonFactory(name=f"{SECRET} contact")
    template = factories.TemplateFactory(code=f"{SECRET}-T", description=f"{SECRET} template")
    return factories.DraftFactory(
        owner=factories.UserFactory(username="drafter"),
        contact=contact,
        template=template,
        description=f"{SECRET} description",
        state={"step": "type", "step_data": {"type": {"description": f"{SECRET} typed"}}},
    )


def test_staff_see_a_drafts_owner_state_and_dates_but_nothing_it_holds(staff_client, private_draft):
    entry = factories.LogEntryFactory(draft=private_draft)  # the entry's page links its draft
    pages = {
        "list": admin_url(InteractionDraft, "changelist"),
        "change": admin_url(InteractionDraft, "change", private_draft.pk),
        "delete": admin_url(InteractionDraft, "delete", private_draft.pk),
        "entry": admin_url(InteractionLogEntry, "change", entry.pk),
    }

    for name, url in pages.items():
        response = staff_client.get(url)
        assert response.status_code == 200, name
        assert SECRET not in response.content.decode(), name
    listing = staff_client.get(pages["list"]).content.decode()
    assert "drafter" in listing
    assert private_draft.get_status_display() in listing


def test_a_drafts_content_cannot_be_found_by_searching_the_admin(staff_client, private_draft):
    response = staff_client.get(admin_url(InteractionDraft, "changelist"), {"q": SECRET})

    assert changelist_rows(response) == []


def test_staff_delete_a_stale_draft_but_cannot_change_one(staff_client, private_draft):
    change = admin_url(InteractionDraft, "change", private_draft.pk)

    staff_client.post(change, {"status": "finished"})
    private_draft.refresh_from_db()
    assert private_draft.status == "postponed"

    staff_client.post(admin_url(InteractionDraft, "delete", private_draft.pk), {"post": "yes"})
    assert not InteractionDraft.objects.filter(pk=private_draft.pk).exists()
