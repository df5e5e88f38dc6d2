"""The Create Interaction wizard with postponed interactions (issue 3)."""

from __future__ import annotations

import datetime
import re
import threading
import uuid
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from contacts.forms import setup_choices
from contacts.models import CorrespondenceType
from contacts.services import RecordGone
from contacts.web import ROWS_ENGINE
from interactions.models import (
    DeliveryStatus,
    DraftStatus,
    InteractionDraft,
    InteractionLogEntry,
)
from interactions.services import DraftFinished, draft_claim_finish
from interactions.wizard import field_label, field_rows, widget_context
from interactions.wizard_forms import ContentForm, RelatedForm, ResultForm, TypeForm
from tests import factories
from tests.test_faults import run_together

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------


def start(client, **params) -> uuid.UUID:
    response = client.post(reverse("interactions:wizard_start"), params)
    assert response.status_code == 302, response
    draft = InteractionDraft.objects.order_by("-created_at").first()
    return draft.pk


def step_url(draft_id, step: str) -> str:
    return reverse("interactions:wizard", kwargs={"draft_id": draft_id, "step": step})


def post_step(client, draft_id, step: str, data: dict | None = None, **buttons):
    payload = {f"draft_{draft_id}-current_step": step}
    payload.update({f"{step}-{key}": value for key, value in (data or {}).items()})
    payload.update(buttons)
    return client.post(step_url(draft_id, step), payload)


def type_data(contact, template, **overrides) -> dict:
    salesperson = factories.SalespersonFactory._meta.model.objects.filter(code="OWN").first()
    data = {
        "salesperson": salesperson.pk if salesperson else "",
        "contact": contact.number,
        "template": template.pk,
        "description": "",
        "date": "2026-11-20",
        "time": "09:30",
    }
    data.update(overrides)
    return data


RESULT = {
    "description": "Spoke about the offer",
    "evaluation": "positive",
    "was_successful": "on",
    "cost": "3.00",
    "duration": "15",
    "comments": "Call back in May\nSend brochure",
}


@pytest.fixture
def person(db):
    return factories.PersonFactory(email="pia@example.com")


@pytest.fixture
def call(db):
    return factories.TemplateFactory(code="CALL", description="Phone call")


@pytest.fixture
def email_template(db):
    template = factories.TemplateFactory(
        code="EMAIL", description="Email", correspondence_type=CorrespondenceType.EMAIL
    )
    factories.TemplateContentFactory(
        template=template, subject="Hi {{ first_name }}", body="Dear {{ contact_name }}"
    )
    return template


def finish(client, draft_id):
    return client.get(step_url(draft_id, "finish"))


# --- the happy path ---------------------------------------------------------------------------


def test_the_related_step_of_a_person_without_a_company_offers_no_opportunity(owner_client, call):
    """Its opportunity select is empty (`.none()`): shown and posted without a server error."""
    loner = factories.PersonFactory(company=None)
    draft_id = start(owner_client, contact=loner.pk)
    post_step(owner_client, draft_id, "type", type_data(loner, call))
    response = owner_client.get(step_url(draft_id, "related"))
    assert response.status_code == 200
    assert 'name="related-opportunity"' in response.content.decode()
    response = post_step(owner_client, draft_id, "related", {"opportunity": "5"})
    assert response.status_code == 200
    assert "opportunity" in response.context["form"].errors


def test_wizard_from_a_contact_logs_exactly_one_entry_with_template_defaults(
    owner_client, owner, person, call
):
    draft_id = start(owner_client, contact=person.pk)
    response = post_step(owner_client, draft_id, "type", type_data(person, call))
    assert response.status_code == 302
    assert response["Location"] == step_url(draft_id, "related")  # no content for a call
    assert post_step(owner_client, draft_id, "related", {}).status_code == 302
    response = post_step(owner_client, draft_id, "result", RESULT)  # Finish: logs at once

    entry = InteractionLogEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == person.get_absolute_url()
    assert entry.contact == person
    assert entry.contact_company == person.company
    assert entry.template == call
    assert entry.group == call.group
    assert entry.information_flow == call.information_flow
    assert entry.initiated_by == call.initiated_by
    assert entry.description == "Spoke about the offer"
    assert entry.salesperson == owner.salesperson
    assert entry.date == datetime.date(2026, 11, 20)
    assert entry.time == datetime.time(9, 30)
    assert entry.cost == Decimal("3.00")
    assert entry.duration == Decimal("15")
    assert entry.evaluation == "positive"
    assert entry.attempt_failed is False
    assert entry.logged_by == owner
    assert list(entry.comments.values_list("comment", flat=True)) == [
        "Call back in May",
        "Send brochure",
    ]
    draft = InteractionDraft.objects.get(pk=draft_id)
    assert draft.status == DraftStatus.FINISHED
    assert entry.draft == draft
    page = owner_client.get(person.get_absolute_url())
    assert b"Phone call" in page.content


def wizard_form_tag(page) -> str:
    return re.search(r"<form [^>]*wizard-form[^>]*>", page.content.decode()).group()


def post_urlencoded(client, draft_id, step: str, data: dict, **buttons):
    """A step posted as a browser posts a form without multipart enctype."""
    payload = {f"draft_{draft_id}-current_step": step}
    payload.update({f"{step}-{key}": value for key, value in data.items()})
    payload.update(buttons)
    return client.post(
        step_url(draft_id, step),
        urlencode(payload),
        content_type="application/x-www-form-urlencoded",
    )


def test_only_the_step_with_a_file_field_posts_as_multipart(owner_client, person, email_template):
    """Multipart only where a file may go (the Content step's attachment): the other steps post
    url-encoded, which the server parses more cheaply; every step takes that."""
    draft_id = start(owner_client, contact=person.pk)
    steps = {
        "type": type_data(person, email_template, description="By post"),
        "content": {"subject": "S", "body": "B"},
        "related": {},
        "result": RESULT,
    }
    for step, data in steps.items():
        page = owner_client.get(step_url(draft_id, step))
        multipart = 'enctype="multipart/form-data"' in wizard_form_tag(page)
        assert multipart == (step == "content"), step
        assert post_urlencoded(owner_client, draft_id, step, data).status_code == 302, step
    entry = InteractionLogEntry.objects.get(contact=person)
    assert (entry.template, entry.subject, entry.body) == (email_template, "S", "B")
    assert entry.description == "Spoke about the offer"


def test_back_and_cancel_posted_urlencoded_keep_what_was_typed(owner_client, person, call):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    post_step(owner_client, draft_id, "related", {})
    typed = {"description": "half-typed", "cost": "oops"}
    response = post_urlencoded(owner_client, draft_id, "result", typed, wizard_goto_step="related")
    assert response["Location"] == step_url(draft_id, "related")
    page = owner_client.get(step_url(draft_id, "result"))
    assert page.context["wizard"]["form"]["cost"].value() == "oops"
    assert post_urlencoded(owner_client, draft_id, "related", {}).status_code == 302
    typed = {"description": "typed again"}
    response = post_urlencoded(owner_client, draft_id, "result", typed, wizard_cancel="1")
    assert response["Location"] == reverse("interactions:wizard_cancel", args=[draft_id])
    page = owner_client.get(step_url(draft_id, "result"))
    assert page.context["wizard"]["form"]["description"].value() == "typed again"


def test_description_left_empty_takes_the_templates(owner_client, person, call):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    response = owner_client.get(step_url(draft_id, "result"))
    assert response.context["wizard"]["form"].initial["description"] == "Phone call"
    assert response.context["wizard"]["form"].initial["cost"] == call.unit_cost


def test_user_overrides_of_flows_are_kept(owner_client, person, call):
    draft_id = start(owner_client, contact=person.pk)
    post_step(
        owner_client,
        draft_id,
        "type",
        type_data(person, call, information_flow="inbound", initiated_by="them"),
    )
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    entry = InteractionLogEntry.objects.get()
    assert (entry.information_flow, entry.initiated_by) == ("inbound", "them")


def test_unsuccessful_attempt_is_logged_as_failed(owner_client, person, call):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", {**RESULT, "was_successful": ""})
    assert InteractionLogEntry.objects.get().attempt_failed is True


def test_email_template_shows_content_step_prefilled_and_queues_delivery(
    owner_client, person, email_template
):
    draft_id = start(owner_client, contact=person.pk)
    response = post_step(owner_client, draft_id, "type", type_data(person, email_template))
    assert response["Location"] == step_url(draft_id, "content")
    page = owner_client.get(step_url(draft_id, "content"))
    form = page.context["wizard"]["form"]
    assert form.initial["body"] == "Dear {{ contact_name }}"
    assert form.initial["deliver"] is True
    assert f"Dear {person.name}".encode() in page.content  # the merged preview
    post_step(
        owner_client,
        draft_id,
        "content",
        {"subject": "Hi {{ first_name }}", "body": "Dear {{ contact_name }}", "deliver": "on"},
    )
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    entry = InteractionLogEntry.objects.get()
    assert entry.correspondence_type == CorrespondenceType.EMAIL
    assert entry.delivery_status == DeliveryStatus.PENDING
    assert entry.subject == "Hi {{ first_name }}"


def test_email_without_deliver_needs_no_content(owner_client, person, email_template):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    post_step(owner_client, draft_id, "content", {"subject": "", "body": ""})
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    entry = InteractionLogEntry.objects.get()
    assert entry.delivery_status == DeliveryStatus.BLANK


def test_delivering_to_a_contact_without_email_is_an_error_naming_the_contact(
    owner_client, email_template
):
    person = factories.PersonFactory(email="")
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    response = post_step(
        owner_client, draft_id, "content", {"subject": "Hi", "body": "Body", "deliver": "on"}
    )
    assert response.status_code == 200
    assert person.name in str(response.context["wizard"]["form"].errors["deliver"])


def test_recorded_email_to_contact_without_address_is_logged_with_blank_type(
    owner_client, email_template
):
    person = factories.PersonFactory(email="")
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    post_step(owner_client, draft_id, "content", {"subject": "", "body": ""})
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    assert InteractionLogEntry.objects.get().correspondence_type == CorrespondenceType.BLANK


def test_unknown_merge_field_is_a_validation_error(owner_client, person, email_template):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    response = post_step(
        owner_client, draft_id, "content", {"subject": "Hi", "body": "Dear {{ password }}"}
    )
    assert response.status_code == 200
    assert "password" in str(response.context["wizard"]["form"].errors["body"])


def test_attachment_is_kept_with_the_draft_and_moved_to_the_entry(
    owner_client, person, email_template
):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    upload = SimpleUploadedFile("offer.txt", b"the offer", content_type="text/plain")
    payload = {
        f"draft_{draft_id}-current_step": "content",
        "content-subject": "S",
        "content-body": "B",
        "content-attachment": upload,
    }
    owner_client.post(step_url(draft_id, "content"), payload)
    draft = InteractionDraft.objects.get(pk=draft_id)
    stored = draft.state["step_files"]["content"]["content-attachment"]
    assert stored["name"] == "offer.txt"
    assert stored["tmp_name"].startswith(f"drafts/{draft_id}/")
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    entry = InteractionLogEntry.objects.get()
    assert entry.attachment.read() == b"the offer"


def test_the_entry_page_names_the_attachment_as_uploaded_not_by_its_path(
    owner_client, person, email_template
):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    upload = SimpleUploadedFile("My offer (v2).txt", b"the offer", content_type="text/plain")
    owner_client.post(
        step_url(draft_id, "content"),
        {f"draft_{draft_id}-current_step": "content", "content-attachment": upload},
    )
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    entry = InteractionLogEntry.objects.get()
    assert entry.attachment_name == "My offer (v2).txt"
    assert entry.attachment.name.startswith("entries/")
    page = owner_client.get(reverse("interactions:entry_detail", args=[entry.pk])).content
    assert b"My offer (v2).txt</a>" in page
    assert entry.attachment.name.encode() not in page


def upload_on_content(client, draft_id, name="offer.txt", content=b"the offer", **buttons):
    upload = SimpleUploadedFile(name, content, content_type="text/plain")
    payload = {
        f"draft_{draft_id}-current_step": "content",
        "content-subject": "S",
        "content-body": "B",
        "content-attachment": upload,
        **buttons,
    }
    return client.post(step_url(draft_id, "content"), payload)


def stored_attachment(draft_id) -> dict | None:
    state = InteractionDraft.objects.get(pk=draft_id).state
    return state["step_files"].get("content", {}).get("content-attachment")


def test_an_attachment_is_shown_by_name_after_back_and_resume_with_remove_and_replace(
    owner_client, owner, person, email_template
):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    upload_on_content(owner_client, draft_id, name="Offer (v1).txt")
    post_step(owner_client, draft_id, "related", {}, wizard_goto_step="content")  # Back
    page = owner_client.get(step_url(draft_id, "content")).content.decode()
    assert '<strong class="attachment-name">Offer (v1).txt</strong>' in page
    assert 'name="wizard_remove_attachment"' in page
    assert "Replace with another file" in page

    # Resumed in a new session, the same.
    fresh = Client()
    fresh.force_login(owner)
    page = fresh.get(step_url(draft_id, "content")).content.decode()
    assert '<strong class="attachment-name">Offer (v1).txt</strong>' in page

    # Replace: the new file is kept, the old one is gone from the storage.
    first = stored_attachment(draft_id)["tmp_name"]
    upload_on_content(fresh, draft_id, name="Offer (v2).txt", content=b"better offer")
    second = stored_attachment(draft_id)
    assert second["name"] == "Offer (v2).txt"
    assert not default_storage.exists(first)
    assert default_storage.exists(second["tmp_name"])

    # Remove: no attachment, no file.
    response = post_step(fresh, draft_id, "content", {"subject": "S"}, wizard_remove_attachment="1")
    assert response["Location"] == step_url(draft_id, "content")
    assert stored_attachment(draft_id) is None
    assert not default_storage.exists(second["tmp_name"])
    page = fresh.get(step_url(draft_id, "content")).content.decode()
    assert "attachment-name" not in page
    assert (
        fresh.get(step_url(draft_id, "content")).context["wizard"]["form"]["subject"].value() == "S"
    )


def test_oversized_attachment_is_refused_with_a_message(
    owner_client, person, email_template, settings
):
    settings.MAX_UPLOAD_SIZE = 10
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    upload = SimpleUploadedFile("big.txt", b"x" * 100)
    response = owner_client.post(
        step_url(draft_id, "content"),
        {
            f"draft_{draft_id}-current_step": "content",
            "content-attachment": upload,
        },
    )
    assert response.status_code == 200
    assert "at most" in str(response.context["wizard"]["form"].errors["attachment"])


# --- validation, context and Back ------------------------------------------------------------


def test_required_fields_are_reported_next_to_the_fields(owner_client, person):
    draft_id = start(owner_client)
    response = post_step(
        owner_client, draft_id, "type", {"contact": "", "template": "", "date": ""}
    )
    assert response.status_code == 200
    errors = response.context["wizard"]["form"].errors
    assert set(errors) >= {"contact", "template", "date"}
    assert b"errorlist" in response.content


def test_unknown_contact_number_is_refused(owner_client, call):
    draft_id = start(owner_client)
    response = post_step(
        owner_client,
        draft_id,
        "type",
        {"contact": "NOPE", "template": call.pk, "date": "2026-01-01"},
    )
    assert "no contact with number NOPE" in str(response.context["wizard"]["form"].errors)


def test_a_contact_typed_by_its_name_is_taken_and_stored_by_its_number(owner_client, call):
    aimee = factories.PersonFactory(first_name="Aimee", surname="Hudson", name="Aimee Hudson")
    factories.PersonFactory(first_name="Aimee", surname="Jones", name="Aimee Jones")
    draft_id = start(owner_client)
    response = post_step(
        owner_client, draft_id, "type", {**type_data(aimee, call), "contact": "aimee hudson"}
    )
    assert response.status_code == 302
    stored = InteractionDraft.objects.get(pk=draft_id).state["step_data"]["type"]
    assert stored["type-contact"] == [aimee.number]
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    assert InteractionLogEntry.objects.get().contact == aimee


def test_a_name_matching_several_contacts_offers_them_and_the_one_picked_is_taken(
    owner_client, call
):
    company = factories.CompanyFactory(name="Hudson Ltd", city="Leiden")
    first = factories.PersonFactory(name="Aimee Hudson", company=company, city="Delft")
    second = factories.PersonFactory(name="Aimee Hudson", company=company, city="Gouda")
    factories.PersonFactory(name="Bram Hudson")
    draft_id = start(owner_client)
    response = post_step(
        owner_client, draft_id, "type", {**type_data(first, call), "contact": "Aimee"}
    )
    assert response.status_code == 200
    form = response.context["wizard"]["form"]
    assert "Several contacts match" in str(form.errors["contact"])
    assert {c.number for c in form.contact_matches.matches} == {first.number, second.number}
    page = response.content.decode()
    for contact in (first, second):
        assert f'name="type-contact_pick" value="{contact.number}"' in page
    assert "Hudson Ltd" in page
    assert "Gouda" in page
    assert "Only the first" not in page

    response = post_step(
        owner_client,
        draft_id,
        "type",
        {**type_data(first, call), "contact": "Aimee", "contact_pick": second.number},
    )
    assert response.status_code == 302
    stored = InteractionDraft.objects.get(pk=draft_id).state["step_data"]["type"]
    assert stored["type-contact"] == [second.number]
    assert "type-contact_pick" not in stored


def test_more_than_ten_matches_show_ten_and_ask_to_type_more(owner_client, call):
    # No companies: a made-up company name ("Ford, Hudson and Johnson") would match too.
    people = [factories.PersonFactory(name=f"Hudson {n:02d}", company=None) for n in range(12)]
    draft_id = start(owner_client)
    response = post_step(
        owner_client, draft_id, "type", {**type_data(people[0], call), "contact": "hud"}
    )
    matches = response.context["wizard"]["form"].contact_matches
    assert [c.name for c in matches.matches] == [f"Hudson {n:02d}" for n in range(10)]
    assert matches.more is True
    assert b"Only the first 10 are shown" in response.content


def test_an_exact_number_wins_over_names_starting_with_it(owner_client, call):
    numbered = factories.PersonFactory(number="ANN", name="Zoe Numbered")
    factories.PersonFactory(name="Anna Other")
    draft_id = start(owner_client)
    response = post_step(
        owner_client, draft_id, "type", {**type_data(numbered, call), "contact": "ann"}
    )
    assert response.status_code == 302
    assert InteractionDraft.objects.get(pk=draft_id).contact == numbered


def test_a_name_nobody_has_is_refused_next_to_the_field(owner_client, call):
    draft_id = start(owner_client)
    response = post_step(
        owner_client, draft_id, "type", {"contact": "Nobody Here", "template": call.pk}
    )
    errors = str(response.context["wizard"]["form"].errors["contact"])
    assert "no contact with number Nobody Here" in errors
    assert "no contact matches it by name" in errors


def test_context_contact_is_fixed(owner_client, person, call):
    other = factories.PersonFactory()
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(other, call))
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    assert InteractionLogEntry.objects.get().contact == person


def test_started_from_a_salesperson_defaults_to_that_salesperson(owner_client, person, call):
    other = factories.SalespersonFactory()
    draft_id = start(owner_client, salesperson=other.pk)
    response = owner_client.get(step_url(draft_id, "type"))
    assert response.context["wizard"]["form"].initial["salesperson"] == other


def test_blocked_salesperson_cannot_be_chosen(owner_client, person, call):
    blocked = factories.SalespersonFactory(blocked=True)
    draft_id = start(owner_client, contact=person.pk)
    response = post_step(
        owner_client, draft_id, "type", type_data(person, call, salesperson=blocked.pk)
    )
    assert "salesperson" in response.context["wizard"]["form"].errors


def test_back_keeps_what_was_typed_on_the_current_step(owner_client, person, call):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    post_step(owner_client, draft_id, "related", {})
    response = post_step(
        owner_client,
        draft_id,
        "result",
        {"description": "half-typed", "cost": "oops"},
        wizard_goto_step="related",
    )
    assert response["Location"] == step_url(draft_id, "related")
    page = owner_client.get(step_url(draft_id, "result"))
    assert page.context["wizard"]["form"]["description"].value() == "half-typed"
    assert page.context["wizard"]["form"]["cost"].value() == "oops"


def test_cancel_from_a_tab_left_on_an_earlier_step_keeps_that_steps_fields_there(
    owner_client, person, call
):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    post_step(owner_client, draft_id, "related", {})
    post_step(
        owner_client, draft_id, "result", {"comments": "call back"}, wizard_goto_step="related"
    )
    # Another tab still shows step 1; Cancel is posted from there.
    stale = type_data(person, call, description="typed in the old tab")
    response = post_step(owner_client, draft_id, "type", stale, wizard_cancel="1")
    assert response["Location"] == reverse("interactions:wizard_cancel", args=[draft_id])
    steps = InteractionDraft.objects.get(pk=draft_id).state["step_data"]
    assert steps["type"]["type-description"] == ["typed in the old tab"]
    assert steps["result"]["result-comments"] == ["call back"]
    assert "related" in steps


def test_stored_step_data_holds_no_csrf_token(owner_client, person, call):
    draft_id = start(owner_client, contact=person.pk)
    owner_client.post(
        step_url(draft_id, "type"),
        {
            f"draft_{draft_id}-current_step": "type",
            "csrfmiddlewaretoken": "secret-token",
            **{f"type-{k}": v for k, v in type_data(person, call).items()},
        },
    )
    state = InteractionDraft.objects.get(pk=draft_id).state
    assert "secret-token" not in str(state)
    assert "csrfmiddlewaretoken" not in str(state)


def test_changing_the_template_replaces_an_unedited_body_only(owner_client, person, email_template):
    other = factories.TemplateFactory(correspondence_type=CorrespondenceType.EMAIL)
    factories.TemplateContentFactory(template=other, subject="Other", body="Other body")
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    owner_client.get(step_url(draft_id, "content"))
    post_step(
        owner_client, draft_id, "content", {"subject": "Hi", "body": "Dear {{ contact_name }}"}
    )
    post_step(owner_client, draft_id, "type", type_data(person, other))
    page = owner_client.get(step_url(draft_id, "content"))
    assert page.context["wizard"]["form"]["body"].value() == "Other body"

    post_step(owner_client, draft_id, "content", {"subject": "Mine", "body": "My own words"})
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    page = owner_client.get(step_url(draft_id, "content"))
    assert page.context["wizard"]["form"]["body"].value() == "My own words"


@pytest.fixture
def intro_and_follow_up(db):
    """Two email templates with English and Dutch content."""
    templates = {}
    for code in ("INTRO", "FOLLOW"):
        template = factories.TemplateFactory(
            code=code, description=code.title(), correspondence_type=CorrespondenceType.EMAIL
        )
        factories.TemplateContentFactory(
            template=template, subject=f"{code} subject", body=f"{code} line 1\n{code} line 2"
        )
        factories.TemplateContentFactory(
            template=template, language="nl", subject=f"{code} onderwerp", body=f"{code} regel"
        )
        templates[code] = template
    return templates


def browser_text(text: str) -> str:
    """A textarea as a browser posts it: lines end in CRLF."""
    return text.replace("\n", "\r\n")


def test_content_not_edited_follows_a_new_template_and_finish_logs_it(
    owner_client, person, intro_and_follow_up
):
    intro, follow_up = intro_and_follow_up["INTRO"], intro_and_follow_up["FOLLOW"]
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, intro))
    form = owner_client.get(step_url(draft_id, "content")).context["wizard"]["form"]
    assert form["body"].value() == "INTRO line 1\nINTRO line 2"
    # Back, with the text untouched (as the browser sends it), and another template.
    shown = {"subject": "INTRO subject", "body": browser_text("INTRO line 1\nINTRO line 2")}
    post_step(
        owner_client, draft_id, "content", {**shown, "deliver": "on"}, wizard_goto_step="type"
    )
    post_step(owner_client, draft_id, "type", type_data(person, follow_up))

    page = owner_client.get(step_url(draft_id, "content"))
    form = page.context["wizard"]["form"]
    assert (form["subject"].value(), form["body"].value()) == (
        "FOLLOW subject",
        "FOLLOW line 1\nFOLLOW line 2",
    )
    assert form["deliver"].value() is True
    assert b"You edited this text" not in page.content
    post_step(
        owner_client,
        draft_id,
        "content",
        {"subject": "FOLLOW subject", "body": form["body"].value(), "deliver": "on"},
    )
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    entry = InteractionLogEntry.objects.get()
    assert (entry.template, entry.subject) == (follow_up, "FOLLOW subject")
    assert entry.body.startswith("FOLLOW line 1")


def test_content_follows_the_template_in_the_contacts_language(owner_client, intro_and_follow_up):
    dutch = factories.PersonFactory(language="nl")
    draft_id = start(owner_client, contact=dutch.pk)
    post_step(owner_client, draft_id, "type", type_data(dutch, intro_and_follow_up["INTRO"]))
    post_step(
        owner_client, draft_id, "content", {"subject": "INTRO onderwerp", "body": "INTRO regel"}
    )
    post_step(owner_client, draft_id, "related", {}, wizard_goto_step="type")
    post_step(owner_client, draft_id, "type", type_data(dutch, intro_and_follow_up["FOLLOW"]))
    form = owner_client.get(step_url(draft_id, "content")).context["wizard"]["form"]
    assert (form["subject"].value(), form["body"].value()) == ("FOLLOW onderwerp", "FOLLOW regel")


def test_edited_content_is_kept_with_a_notice_and_reset_brings_the_templates_text(
    owner_client, person, intro_and_follow_up
):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, intro_and_follow_up["INTRO"]))
    mine = {"subject": "INTRO subject", "body": browser_text("My own words\nfor Pia")}
    post_step(owner_client, draft_id, "content", mine, wizard_goto_step="type")
    post_step(owner_client, draft_id, "type", type_data(person, intro_and_follow_up["FOLLOW"]))

    page = owner_client.get(step_url(draft_id, "content"))
    form = page.context["wizard"]["form"]
    assert form["body"].value() == browser_text("My own words\nfor Pia")
    assert form["subject"].value() == "FOLLOW subject"  # not edited: it follows
    assert b"You edited this text; it was kept." in page.content
    assert b'name="wizard_reset_content"' in page.content

    response = post_step(owner_client, draft_id, "content", mine, wizard_reset_content="1")
    assert response["Location"] == step_url(draft_id, "content")
    page = owner_client.get(step_url(draft_id, "content"))
    form = page.context["wizard"]["form"]
    assert (form["subject"].value(), form["body"].value()) == (
        "FOLLOW subject",
        "FOLLOW line 1\nFOLLOW line 2",
    )
    assert b"You edited this text" not in page.content


def test_the_step_after_step_one_follows_the_template_just_posted(
    owner_client, person, call, email_template
):
    """Whether Content comes next is decided by the step 1 just posted, not the one stored
    before it (step 1 is validated once a request and kept until it is stored again)."""
    draft_id = start(owner_client, contact=person.pk)
    response = post_step(owner_client, draft_id, "type", type_data(person, email_template))
    assert response["Location"] == step_url(draft_id, "content")
    post_step(owner_client, draft_id, "content", {"subject": "S", "body": "B"})

    post_step(owner_client, draft_id, "related", {}, wizard_goto_step="type")  # Back to step 1
    response = post_step(owner_client, draft_id, "type", type_data(person, call))
    assert response["Location"] == step_url(draft_id, "related")
    response = post_step(owner_client, draft_id, "related", {})
    assert response["Location"] == step_url(draft_id, "result")

    post_step(owner_client, draft_id, "result", {}, wizard_goto_step="type")
    response = post_step(owner_client, draft_id, "type", type_data(person, email_template))
    assert response["Location"] == step_url(draft_id, "content")


# --- privacy and ownership ------------------------------------------------------------------


def test_privacy_blocked_contact_is_refused_at_the_start(owner_client):
    blocked = factories.PersonFactory(privacy_blocked=True)
    response = owner_client.post(reverse("interactions:wizard_start"), {"contact": blocked.pk})
    assert response.status_code == 302
    assert not InteractionDraft.objects.exists()
    page = owner_client.get(response["Location"])
    assert b"privacy blocked" in page.content


def test_privacy_blocked_contact_is_refused_when_typed(owner_client, call):
    blocked = factories.PersonFactory(privacy_blocked=True)
    draft_id = start(owner_client)
    response = post_step(owner_client, draft_id, "type", type_data(blocked, call))
    assert "privacy blocked" in str(response.context["wizard"]["form"].errors["contact"])


def test_outsider_gets_404_for_someone_elses_draft(owner_client, client, colleague, person):
    draft_id = start(owner_client, contact=person.pk)
    intruder = Client()
    intruder.force_login(colleague)
    for url in (
        step_url(draft_id, "type"),
        reverse("interactions:wizard_resume", args=[draft_id]),
        reverse("interactions:wizard_cancel", args=[draft_id]),
        reverse("interactions:draft_delete", args=[draft_id]),
    ):
        assert intruder.get(url).status_code == 404
        assert intruder.post(url, {"choice": "no"}).status_code == 404
    assert InteractionDraft.objects.filter(pk=draft_id).exists()


def test_user_without_role_cannot_start_the_wizard(client, outsider):
    client.force_login(outsider)
    assert client.post(reverse("interactions:wizard_start")).status_code == 403


# --- Cancel, postpone, resume ---------------------------------------------------------------


def test_cancel_asks_whether_to_finish_later(owner_client, person):
    draft_id = start(owner_client, contact=person.pk)
    response = post_step(owner_client, draft_id, "type", {}, wizard_cancel="1")
    assert response["Location"] == reverse("interactions:wizard_cancel", args=[draft_id])
    page = owner_client.get(response["Location"])
    assert b"Do you want to finish this interaction later?" in page.content


def test_yes_saves_a_draft_even_when_nothing_is_filled_in(owner_client):
    draft_id = start(owner_client)
    post_step(owner_client, draft_id, "type", {"contact": "", "template": ""}, wizard_cancel="1")
    owner_client.post(reverse("interactions:wizard_cancel", args=[draft_id]), {"choice": "yes"})
    draft = InteractionDraft.objects.get(pk=draft_id)
    assert draft.status == DraftStatus.POSTPONED
    listing = owner_client.get(reverse("interactions:draft_list"))
    assert draft in list(listing.context["page"])


def test_no_discards_the_draft(owner_client, person):
    draft_id = start(owner_client, contact=person.pk)
    response = owner_client.post(
        reverse("interactions:wizard_cancel", args=[draft_id]), {"choice": "no"}
    )
    assert response.status_code == 302
    assert not InteractionDraft.objects.filter(pk=draft_id).exists()
    assert not InteractionLogEntry.objects.exists()


def postpone_at(client, person, template, step: str) -> uuid.UUID:
    draft_id = start(client, contact=person.pk)
    data = {
        "type": type_data(person, template, description="Resumable"),
        "content": {"subject": "Saved subject", "body": "Saved body"},
        "related": {},
        "result": {**RESULT, "description": "Saved result"},
    }
    steps = ["type", "content", "related", "result"]
    if not template.contents.exists():
        steps.remove("content")
    for current in steps:
        if current == step:
            post_step(client, draft_id, current, data[current], wizard_cancel="1")
            break
        post_step(client, draft_id, current, data[current])
    client.post(reverse("interactions:wizard_cancel", args=[draft_id]), {"choice": "yes"})
    return draft_id


@pytest.mark.parametrize("step", ["type", "content", "related", "result"])
def test_resume_opens_the_saved_step_with_every_saved_value(
    owner_client, client, owner, person, email_template, step
):
    draft_id = postpone_at(owner_client, person, email_template, step)
    # A new session of the same user (logout/login, another device).
    owner_client.logout()
    fresh = Client()
    fresh.force_login(owner)
    response = fresh.get(reverse("interactions:wizard_resume", args=[draft_id]))
    assert response["Location"] == step_url(draft_id, step)
    page = fresh.get(response["Location"])
    form = page.context["wizard"]["form"]
    expected = {
        "type": ("description", "Resumable"),
        "content": ("body", "Saved body"),
        "related": ("campaign", None),
        "result": ("description", "Saved result"),
    }[step]
    assert form[expected[0]].value() == expected[1]
    if step == "type":
        assert form["date"].value() == "2026-11-20"
        assert form["time"].value() == "09:30"


def test_a_posted_step_marks_the_draft_changed_for_the_list_and_the_purge(
    owner_client, person, call
):
    draft_id = start(owner_client, contact=person.pk)
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    InteractionDraft.objects.filter(pk=draft_id).update(updated_at=long_ago)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    assert InteractionDraft.objects.get(pk=draft_id).updated_at > long_ago


def test_the_postponed_list_columns_follow_step_one_and_the_result_description(
    owner_client, person, call
):
    """The draft's contact, template and description (the list's columns) are worked out
    again only when step 1's data changed, so every change must reach them."""
    visit = factories.TemplateFactory(code="VISIT", description="Visit")
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    draft = InteractionDraft.objects.get(pk=draft_id)
    assert (draft.contact, draft.template, draft.description) == (person, call, "Phone call")

    post_step(owner_client, draft_id, "related", {})  # step 1 unchanged
    post_step(owner_client, draft_id, "result", {}, wizard_goto_step="type")  # Back
    post_step(owner_client, draft_id, "type", type_data(person, visit, description="Site tour"))
    draft.refresh_from_db()
    assert (draft.template, draft.description) == (visit, "Site tour")

    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", {"description": "Tour done"}, wizard_cancel="1")
    draft.refresh_from_db()
    assert draft.description == "Tour done"  # Result's description is step 1's too


def test_finishing_a_resumed_draft_logs_it_and_it_leaves_the_list(owner_client, person, call):
    draft_id = postpone_at(owner_client, person, call, "related")
    owner_client.get(reverse("interactions:wizard_resume", args=[draft_id]))
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    assert InteractionLogEntry.objects.filter(draft_id=draft_id).count() == 1
    listing = owner_client.get(reverse("interactions:draft_list"))
    assert str(draft_id) not in listing.content.decode()


def test_delete_from_the_list_asks_then_removes(owner_client, person, call):
    draft_id = postpone_at(owner_client, person, call, "type")
    url = reverse("interactions:draft_delete", args=[draft_id])
    assert owner_client.get(url).status_code == 200
    assert owner_client.post(url).status_code == 302
    assert not InteractionDraft.objects.filter(pk=draft_id).exists()


def test_two_drafts_in_two_tabs_never_mix(owner_client, person, call):
    other_person = factories.PersonFactory()
    tab_one = start(owner_client, contact=person.pk)
    tab_two = start(owner_client, contact=other_person.pk)
    post_step(owner_client, tab_one, "type", type_data(person, call, description="tab one"))
    post_step(owner_client, tab_two, "type", type_data(other_person, call, description="tab two"))
    for draft_id, who in ((tab_one, "tab one"), (tab_two, "tab two")):
        post_step(owner_client, draft_id, "related", {})
        post_step(owner_client, draft_id, "result", {**RESULT, "description": who})
    entries = {e.description: e.contact for e in InteractionLogEntry.objects.all()}
    assert entries == {"tab one": person, "tab two": other_person}


# --- no writes on GET -----------------------------------------------------------------------------


def test_starting_the_wizard_takes_a_post_and_a_get_makes_no_draft(owner_client, person):
    response = owner_client.get(reverse("interactions:wizard_start"), {"contact": person.pk})
    assert response.status_code == 405
    assert not InteractionDraft.objects.exists()


def test_every_entry_point_starts_the_wizard_with_a_post_button(owner_client, owner, person):
    action = reverse("interactions:wizard_start")
    pages = {
        person.get_absolute_url(): f'name="contact" value="{person.pk}"',
        reverse("contacts:salesperson_detail", args=[owner.salesperson.pk]): (
            f'name="salesperson" value="{owner.salesperson.pk}"'
        ),
        reverse("interactions:entry_list") + f"?contact={person.number}": (
            f'name="prefill_contact" value="{person.pk}"'
        ),
        reverse("contacts:contact_list"): f'name="contact" value="{person.pk}"',
    }
    for url, field in pages.items():
        html = owner_client.get(url).content.decode()
        assert f'method="post" action="{action}"' in html, url
        assert field in html, url
        assert f'href="{action}' not in html, url


def test_a_get_of_any_wizard_url_writes_nothing(owner_client, person, email_template):
    """Every step filled in (Finish would log it): GETs show pages and never write."""
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    post_step(owner_client, draft_id, "content", {"subject": "S", "body": "B"})
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT, wizard_goto_step="related")  # Back
    before = InteractionDraft.objects.values().get(pk=draft_id)
    urls = [step_url(draft_id, step) for step in ("type", "content", "related", "result")]
    urls += [
        step_url(draft_id, "finish"),
        step_url(draft_id, "nonsense"),
        reverse("interactions:wizard_resume", args=[draft_id]),
        reverse("interactions:wizard_cancel", args=[draft_id]),
        reverse("interactions:draft_delete", args=[draft_id]),
    ]
    for url in urls:
        assert owner_client.get(url).status_code in (200, 302), url
    assert InteractionDraft.objects.values().get(pk=draft_id) == before
    assert not InteractionLogEntry.objects.exists()


# --- Finish exactly once ----------------------------------------------------------------------


def test_replayed_finish_logs_once(owner_client, person, call):
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    post_step(owner_client, draft_id, "related", {})
    post_step(owner_client, draft_id, "result", RESULT)
    again = finish(owner_client, draft_id)  # the done URL, replayed
    replayed_post = post_step(owner_client, draft_id, "result", RESULT)
    assert InteractionLogEntry.objects.count() == 1
    assert again.status_code == 302
    assert replayed_post.status_code == 302
    assert again["Location"] == person.get_absolute_url()


def test_finish_claims_an_open_draft_once_and_a_failed_finish_gives_it_back(
    owner_client, person, call
):
    """`draft_claim_finish`: one UPDATE finishes the draft (status, state dropped, time of the
    change); a second claim is `DraftFinished`, a claim of a discarded draft `RecordGone`; a
    claim whose transaction fails later leaves the draft as it was."""
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    draft = InteractionDraft.objects.get(pk=draft_id)
    assert draft.state

    def claim_then_fail():
        with transaction.atomic():
            draft_claim_finish(draft=draft)
            raise RuntimeError("a check after the claim failed")

    with pytest.raises(RuntimeError):
        claim_then_fail()
    assert InteractionDraft.objects.values("status", "state").get(pk=draft_id) == {
        "status": DraftStatus.IN_PROGRESS,
        "state": draft.state,
    }
    with transaction.atomic():
        draft_claim_finish(draft=draft)
    finished = InteractionDraft.objects.get(pk=draft_id)
    assert (finished.status, finished.state) == (DraftStatus.FINISHED, {})
    assert finished.updated_at > draft.updated_at
    with pytest.raises(DraftFinished), transaction.atomic():
        draft_claim_finish(draft=draft)
    InteractionDraft.objects.filter(pk=draft_id).delete()
    with pytest.raises(RecordGone, match="discarded meanwhile"), transaction.atomic():
        draft_claim_finish(draft=draft)


@pytest.mark.django_db(transaction=True)
def test_double_clicked_finish_on_two_connections_logs_once(owner, person, call):
    client = Client()
    client.force_login(owner)
    draft_id = start(client, contact=person.pk)
    post_step(client, draft_id, "type", type_data(person, call))
    post_step(client, draft_id, "related", {})
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def click() -> None:
        try:
            barrier.wait()
            statuses.append(post_step(client, draft_id, "result", RESULT).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302, 302]
    assert InteractionLogEntry.objects.count() == 1


def finish_ready_with_attachment(owner, person, template) -> uuid.UUID:
    """A draft of ``owner``'s with an uploaded file, on its last step."""
    client = Client()
    client.force_login(owner)
    draft_id = start(client, contact=person.pk)
    post_step(client, draft_id, "type", type_data(person, template))
    upload_on_content(client, draft_id)
    post_step(client, draft_id, "related", {})
    return draft_id


def in_a_new_tab(user, request) -> dict:
    """Run ``request(client)`` with a client of its own (its own session); what the user sees
    after the redirects."""
    client = Client()
    client.force_login(user)
    response = request(client)
    if response.status_code != 302:
        return {"status": response.status_code, "page": response.content.decode()}
    landed = client.get(response["Location"], follow=True)
    return {"status": response.status_code, "page": landed.content.decode()}


ROUNDS = 6


@pytest.mark.django_db(transaction=True)
def test_two_finishes_of_a_draft_with_an_attachment_log_once_and_the_second_is_told(
    owner, person, email_template
):
    """Each Finish on its own connection: the second waits for the first's lock, or finds its
    file gone with the first's commit; either way it says the entry is logged, never a 500."""
    for _round in range(ROUNDS):
        draft_id = finish_ready_with_attachment(owner, person, email_template)
        seen: list[dict] = []

        def finish(draft_id=draft_id, seen=seen) -> None:
            seen.append(in_a_new_tab(owner, lambda c: post_step(c, draft_id, "result", RESULT)))

        assert run_together(finish, finish) == []
        assert [answer["status"] for answer in seen] == [302, 302]
        pages = sorted(answer["page"] for answer in seen)
        assert sum("Interaction logged as entry" in page for page in pages) == 1
        assert sum("This interaction has already been logged." in page for page in pages) == 1
        entry = InteractionLogEntry.objects.get(draft_id=draft_id)
        assert entry.attachment.read() == b"the offer"
    assert InteractionLogEntry.objects.count() == ROUNDS


@pytest.mark.django_db(transaction=True)
def test_finish_and_cancel_no_at_once_either_logs_or_discards_and_both_are_told(
    owner, person, email_template
):
    """Finish in one tab, Cancel -> No in another: whichever commits first wins."""
    for _round in range(ROUNDS):
        draft_id = finish_ready_with_attachment(owner, person, email_template)
        seen: dict[str, dict] = {}

        def finish(draft_id=draft_id, seen=seen) -> None:
            request = lambda c: post_step(c, draft_id, "result", RESULT)  # noqa: E731
            seen["finish"] = in_a_new_tab(owner, request)

        def discard(draft_id=draft_id, seen=seen) -> None:
            url = reverse("interactions:wizard_cancel", args=[draft_id])
            seen["discard"] = in_a_new_tab(owner, lambda c: c.post(url, {"choice": "no"}))

        assert run_together(finish, discard) == []
        logged = InteractionLogEntry.objects.filter(draft_id=draft_id).exists()
        draft = InteractionDraft.objects.filter(pk=draft_id).first()
        if logged:
            assert draft.status == DraftStatus.FINISHED
            assert "Interaction logged as entry" in seen["finish"]["page"]
            assert "This interaction has already been logged." in seen["discard"]["page"]
        else:
            assert draft is None
            assert "The interaction was discarded." in seen["discard"]["page"]
            # Told by the wizard, or (if the draft was gone before the Finish read it) by the
            # page a missing draft gets.
            assert seen["finish"]["status"] in (302, 404)
            assert (
                "This interaction was discarded meanwhile." in seen["finish"]["page"]
                or "finished or discarded in another window" in seen["finish"]["page"]
            )
    assert InteractionLogEntry.objects.count() <= ROUNDS


# --- query counts -----------------------------------------------------------------------------


def draft_among_setup_rows(client, person, size: int) -> uuid.UUID:
    """A new draft for ``person`` with ``size`` more templates, campaigns and opportunities
    for the selects to list."""
    for _ in range(size):
        factories.TemplateFactory()
        factories.CampaignFactory()
        factories.OpportunityFactory(contact_company=person.company)
    return start(client, contact=person.pk)


@pytest.mark.parametrize("size", [2, 20])
def test_each_wizard_step_runs_a_fixed_number_of_queries(
    owner_client, person, email_template, django_assert_num_queries, size
):
    draft_id = draft_among_setup_rows(owner_client, person, size)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    post_step(owner_client, draft_id, "content", {"subject": "S", "body": "B"})
    post_step(owner_client, draft_id, "related", {})
    # Opening a step writes nothing (a GET never changes the draft), and a step shown with its
    # stored data works out no defaults.
    # (The draft comes with the contact's company: the Related step and the merge fields.)
    # An email template has a Content step whatever its contents: they are read only to fill
    # that step's defaults (`InteractionTemplate.variants`). Step 1's template comes with the
    # draft's row (`DraftWizard.with_draft_template`), not read again. Step 1's two setup
    # lists (templates, salespeople) are one statement (`setup_choices`).
    expected = {"type": 5, "content": 4, "related": 6, "result": 4}
    for step, count in expected.items():
        with django_assert_num_queries(count):
            assert owner_client.get(step_url(draft_id, step)).status_code == 200


def test_step_one_reads_its_own_template_when_the_draft_names_another(
    owner_client, person, email_template, call
):
    """Step 1 takes the template read with the draft's row only when it is the one stored."""
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, email_template))
    InteractionDraft.objects.filter(pk=draft_id).update(template=call)
    # The email template's Content step, not a redirect for a CALL without one.
    response = owner_client.get(step_url(draft_id, "content"))
    assert response.status_code == 200
    assert response.context["wizard"]["form"]["subject"].value() == "Hi {{ first_name }}"
    post_step(owner_client, draft_id, "content", {"subject": "S", "body": "B"})
    assert InteractionDraft.objects.get(pk=draft_id).template == email_template


@pytest.mark.parametrize("size", [2, 20])
def test_each_wizard_post_runs_a_fixed_number_of_queries(
    owner_client, person, email_template, django_assert_num_queries, size
):
    draft_id = draft_among_setup_rows(owner_client, person, size)
    # Step 1 is validated once per request (`DraftWizard.step_one`): the posted form is kept
    # for the next step's conditions and for the draft's summary, and `Finish` validates the
    # stored step 1 only once although the Result's description changed it. A posted step
    # works out no defaults, and an email template's contents are not read. Once the draft has
    # a template, step 1's comes with the draft's row (the first POST of step 1 reads it).
    steps = {
        "type": (type_data(person, email_template), 6),
        "content": ({"subject": "S", "body": "B"}, 5),
        "related": ({}, 5),
        "result": (RESULT, 9),
    }
    for step, (data, count) in steps.items():
        with django_assert_num_queries(count):
            assert post_step(owner_client, draft_id, step, data).status_code == 302
    assert InteractionLogEntry.objects.filter(contact=person).count() == 1


def test_first_post_of_step_one_goes_to_content_only_for_a_template_with_contents(
    owner_client, person, call
):
    """The chosen template's row says whether it has contents (not an email: that decides
    whether a Content step follows)."""
    letter = factories.TemplateFactory(
        code="LETTER", correspondence_type=CorrespondenceType.HARD_COPY
    )
    factories.TemplateContentFactory(template=letter, subject="Dear", body="Hello")
    for template, step in ((letter, "content"), (call, "related")):
        draft_id = start(owner_client, contact=person.pk)
        response = post_step(owner_client, draft_id, "type", type_data(person, template))
        assert response["Location"] == step_url(draft_id, step)


@pytest.mark.parametrize("size", [2, 20])
def test_each_step_of_a_template_with_contents_runs_a_fixed_number_of_queries(
    owner_client, person, django_assert_num_queries, size
):
    """Not an email: whether it has a Content step is whether its template has contents, which
    the draft's row says (`get_draft_for_user`) once step 1 names the draft's template, and
    the chosen template's row on the first POST of step 1 (`chosen_annotations`); the contents
    are read only for the Content step's defaults. Step 1's salesperson is the user's own: the
    contact's is not read."""
    letter = factories.TemplateFactory(
        code="LETTER", correspondence_type=CorrespondenceType.HARD_COPY
    )
    factories.TemplateContentFactory(template=letter, subject="Dear", body="Hello")
    person.salesperson = factories.SalespersonFactory()
    person.save()
    draft_id = draft_among_setup_rows(owner_client, person, size)
    requests = [
        ("type", None, 5),  # session, user, draft, the user's salesperson, the two lists
        ("type", type_data(person, letter), 6),  # the template read with whether it has contents
        ("content", None, 5),
        ("content", {"subject": "S", "body": "B"}, 5),
        ("related", None, 6),
        ("related", {}, 5),
        ("result", None, 4),
        ("result", RESULT, 9),  # Finish (its transaction a savepoint in a test)
    ]
    for step, data, count in requests:
        with django_assert_num_queries(count):
            if data is None:
                assert owner_client.get(step_url(draft_id, step)).status_code == 200
            else:
                assert post_step(owner_client, draft_id, step, data).status_code == 302
    assert InteractionLogEntry.objects.filter(contact=person, template=letter).count() == 1


@pytest.mark.parametrize("size", [2, 20])
def test_postponed_interactions_page_runs_a_fixed_number_of_queries(
    owner_client, owner, call, django_assert_num_queries, size
):
    for _ in range(size):
        factories.DraftFactory(
            owner=owner,
            status=DraftStatus.POSTPONED,
            template=call,
            contact=factories.PersonFactory(),
        )
    with django_assert_num_queries(4):
        assert owner_client.get(reverse("interactions:draft_list")).status_code == 200


def test_create_interaction_from_the_log_list_prefills_its_filter(owner_client, person, call):
    salesperson = factories.SalespersonFactory(code="PRE")
    listing = owner_client.get(
        reverse("interactions:entry_list"), {"contact": person.number, "salesperson": "PRE"}
    )
    params = listing.context["create_params"]
    assert params["prefill_contact"] == person.pk
    response = owner_client.post(reverse("interactions:wizard_start"), params)
    draft = InteractionDraft.objects.get()
    assert draft.context_contact is None  # pre-filled, not fixed
    page = owner_client.get(response["Location"], follow=True)
    initial = page.context["wizard"]["form"].initial
    assert initial["contact"] == person
    assert initial["salesperson"] == salesperson


# --- the steps' field rows --------------------------------------------------------------------

# The field rows as the partial wrote them before it wrote widgets and labels out: each widget
# and label rendered by Django (`{{ field }}`, `label_tag()`).
DJANGO_RENDERED_ROWS = (
    "{% for field, label, widget in rows %}\n"
    '<div class="field{% if field.field.required %} required{% endif %}'
    '{% if field.errors %} has-error{% endif %}">'
    """
  {% if field.widget_type == "checkbox" %}
  <label>{{ field }} {{ field.label }}</label>
  {% else %}
  {{ field.label_tag() }}
  {{ field }}
  {% endif %}
  {% if field.help_text %}<span class="helptext">{{ field.help_text }}</span>{% endif %}
  {% if field.errors %}{{ field.errors }}{% endif %}
</div>
{% endfor %}"""
)

HOSTILE = "<script>&\"' x"


def step_forms(person, template):
    """Each step's form shown empty (with defaults), bound with errors, and bound valid."""
    company = person.company
    yield TypeForm(prefix="type", initial={"contact": person, "date": datetime.date(2026, 1, 2)})
    yield TypeForm(prefix="type", fixed_contact=person)
    yield TypeForm(
        prefix="type",
        data={"type-contact": HOSTILE, "type-template": "x", "type-date": HOSTILE},
    )
    yield TypeForm(prefix="type", data=dict(type_data(person, template, description=HOSTILE)))
    yield ContentForm(prefix="content", initial={"subject": HOSTILE, "body": HOSTILE})
    yield ContentForm(
        prefix="content", is_email=True, contact=person, data={"content-deliver": "on"}
    )
    yield RelatedForm(prefix="related", company=company, initial={"campaign_target": True})
    yield RelatedForm(prefix="related", data={"related-campaign_target": "on"})
    yield RelatedForm(prefix="related", for_segment=True)
    yield ResultForm(prefix="result", initial={"description": HOSTILE, "was_successful": True})
    yield ResultForm(prefix="result", data={"result-cost": "-1", "result-comments": HOSTILE})


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_field_rows_write_what_djangos_widgets_and_labels_write(person, call, language):
    """The partial writes inputs, text areas, selects and labels itself (from Django's own
    widget context, the setup lists read as plain pairs, labels kept per language): the same
    HTML as Django rendering each widget and label."""
    factories.CampaignFactory(description=HOSTILE)
    factories.OpportunityFactory(contact_company=person.company, description=HOSTILE)
    django_rows = engines[ROWS_ENGINE].from_string(DJANGO_RENDERED_ROWS)
    with translation.override(language):
        for form in step_forms(person, call):
            if form.is_bound:
                form.is_valid()
            fields = form.visible_fields()
            written = field_rows(fields, lists=setup_choices(form.fields.values()))
            rows = [(field, field_label(field), widget_context(field)) for field in fields]
            assert written == django_rows.render({"rows": rows}).strip(), form


def test_the_kept_labels_follow_the_language(owner_client, person):
    draft_id = start(owner_client, contact=person.pk)
    labels = {}
    for language in ("en", "nl", "en"):
        page = owner_client.get(step_url(draft_id, "type"), HTTP_ACCEPT_LANGUAGE=language)
        labels.setdefault(language, []).append(
            re.search(r'<label for="id_type-template">([^<]*)</label>', page.content.decode())[1]
        )
    assert labels == {"en": ["Interaction Template:"] * 2, "nl": ["Interactiesjabloon:"]}


def test_a_step_forms_own_fields_are_its_own_and_the_rest_the_classs(person):
    """`StepForm`: only the fields a form changes are copied for it."""
    fixed, free = TypeForm(fixed_contact=person), TypeForm()
    assert fixed.fields["contact"].disabled
    assert not free.fields["contact"].disabled
    assert fixed.fields["template"] is not free.fields["template"]
    assert fixed.fields["language"] is free.fields["language"] is TypeForm.base_fields["language"]
    for_company, without = RelatedForm(company=person.company), RelatedForm()
    assert for_company.fields["opportunity"].queryset.query.where
    assert not without.fields["opportunity"].queryset.exists()
    assert without.fields["campaign"] is RelatedForm.base_fields["campaign"]
    assert TypeForm.base_fields["contact"].disabled is False


def test_a_post_that_changes_nothing_writes_nothing(owner_client, person, call):
    """`DraftStorage` tells a change by the state's JSON text (not a deep copy of it)."""
    draft_id = start(owner_client, contact=person.pk)
    post_step(owner_client, draft_id, "type", type_data(person, call))
    with CaptureQueriesContext(connection) as queries:
        post_step(owner_client, draft_id, "type", type_data(person, call))
    assert not [q for q in queries if q["sql"].startswith("UPDATE")]
    with CaptureQueriesContext(connection) as queries:
        post_step(owner_client, draft_id, "type", type_data(person, call, description="New"))
    assert len([q for q in queries if q["sql"].startswith("UPDATE")]) == 1
