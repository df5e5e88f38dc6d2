"""Create Interaction on a segment (the wizard's steps 1-3 with the segment as context), what the
lines take from the header, and personalised lines (issue 5)."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import CorrespondenceType
from interactions.models import DraftStatus, InformationFlow, InitiatedBy, InteractionDraft
from interactions.services import resolve_correspondence_type
from segments.models import Segment, SegmentLine
from tests import factories

pytestmark = pytest.mark.django_db


# --- helpers --------------------------------------------------------------------------------


def step_url(draft_id, step: str) -> str:
    return reverse("segments:wizard", kwargs={"draft_id": draft_id, "step": step})


def post_step(client, draft_id, step: str, data: dict | None = None, **buttons):
    payload = {f"draft_{draft_id}-current_step": step}
    payload.update({f"{step}-{key}": value for key, value in (data or {}).items()})
    payload.update(buttons)
    return client.post(step_url(draft_id, step), payload)


def start(client, segment):
    response = client.post(reverse("segments:segment_create_interaction", args=[segment.pk]))
    assert response.status_code == 302, response
    draft = InteractionDraft.objects.get(context_segment=segment, status=DraftStatus.IN_PROGRESS)
    assert response["Location"] == step_url(draft.pk, "type")
    return draft.pk


def finish(client, draft_id):
    return client.get(step_url(draft_id, "finish"))


@pytest.fixture
def segment(owner):
    return factories.SegmentFactory(
        number="SEG00001", salesperson=owner.salesperson, created_by=owner
    )


@pytest.fixture
def mailing(db):
    """An Email template with an English default and a Dutch variant."""
    campaign = factories.CampaignFactory(number="CP00001")
    template = factories.TemplateFactory(
        code="MAIL",
        description="Newsletter",
        unit_cost=Decimal("1.20"),
        unit_duration=Decimal("2"),
        correspondence_type=CorrespondenceType.EMAIL,
        language="en",
        campaign=campaign,
        campaign_target=True,
    )
    factories.TemplateContentFactory(template=template, language="", subject="Hello", body="Hi")
    factories.TemplateContentFactory(template=template, language="nl", subject="Hallo", body="Hoi")
    return template


@pytest.fixture
def lines(segment):
    """Lines for an English contact without preference, a Dutch one who wants hard copy, and a
    personalised one."""
    return {
        "en": factories.SegmentLineFactory(
            segment=segment, contact=factories.PersonFactory(number="EN", language="en")
        ),
        "nl": factories.SegmentLineFactory(
            segment=segment,
            contact=factories.PersonFactory(
                number="NL", language="nl", correspondence_type=CorrespondenceType.HARD_COPY
            ),
        ),
        "special": factories.SegmentLineFactory(
            segment=segment,
            contact=factories.PersonFactory(number="SPECIAL"),
            personalised=True,
            interaction_description="Kept",
            unit_cost=Decimal("7"),
        ),
    }


def run_wizard(client, segment, template, *, type_data=None, content=None, related=None):
    draft_id = start(client, segment)
    data = {"template": template.pk, "description": "", **(type_data or {})}
    response = post_step(client, draft_id, "type", data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    if response["Location"] == step_url(draft_id, "content"):
        response = post_step(
            client, draft_id, "content", content or {"subject": "Hello", "body": "Hi"}
        )
        assert response.status_code == 302
    # No Result step for a segment: Related's Next is Finish.
    response = post_step(client, draft_id, "related", related or {})
    assert response.status_code == 302
    assert response["Location"] != step_url(draft_id, "result")
    return draft_id, response


# --- the wizard on a segment --------------------------------------------------------------


def test_segment_wizard_has_no_contact_field_and_no_result_step(owner_client, segment, mailing):
    draft_id = start(owner_client, segment)
    page = owner_client.get(step_url(draft_id, "type"))
    form = page.context["wizard"]["form"]
    assert "contact" not in form.fields
    assert "ignore_contact_corres_type" in form.fields
    assert b"For segment" in page.content
    post_step(owner_client, draft_id, "type", {"template": mailing.pk})
    page = owner_client.get(step_url(draft_id, "related"))
    assert [step for step, _title, _current in page.context["step_titles"]] == [
        "type",
        "content",
        "related",
    ]
    assert "opportunity" not in page.context["wizard"]["form"].fields
    assert page.context["is_last_step"]


def test_finish_assigns_the_interaction_to_the_header_and_lines_that_follow(
    owner_client, segment, mailing, lines
):
    draft_id, response = run_wizard(
        owner_client,
        segment,
        mailing,
        content={"subject": "Hello {{ first_name }}", "body": "Edited body"},
        related={"campaign": mailing.campaign_id, "campaign_target": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == segment.get_absolute_url()
    segment.refresh_from_db()
    assert segment.template == mailing
    assert segment.interaction_description == "Newsletter"
    assert (segment.unit_cost, segment.unit_duration) == (Decimal("1.20"), Decimal("2"))
    assert segment.correspondence_type == CorrespondenceType.EMAIL
    assert (segment.subject, segment.body, segment.language) == (
        "Hello {{ first_name }}",
        "Edited body",
        "en",
    )
    assert segment.information_flow == InformationFlow.OUTBOUND
    assert (segment.campaign_id, segment.campaign_target) == (mailing.campaign_id, True)

    en = SegmentLine.objects.get(pk=lines["en"].pk)
    assert (en.template, en.interaction_description) == (mailing, "Newsletter")
    assert (en.unit_cost, en.unit_duration) == (Decimal("1.20"), Decimal("2"))
    assert (en.information_flow, en.initiated_by) == (InformationFlow.OUTBOUND, InitiatedBy.US)
    assert en.campaign_target is True
    assert en.salesperson == segment.salesperson
    # The contact has no preference: the template's default; content as edited in the wizard.
    assert en.correspondence_type == CorrespondenceType.EMAIL
    assert (en.subject, en.body, en.language) == ("Hello {{ first_name }}", "Edited body", "en")
    # A Dutch contact gets the Dutch variant and keeps its own Hard Copy preference.
    nl = SegmentLine.objects.get(pk=lines["nl"].pk)
    assert nl.correspondence_type == CorrespondenceType.HARD_COPY
    assert (nl.subject, nl.body, nl.language) == ("Hallo", "Hoi", "nl")
    # A personalised line keeps its values.
    special = SegmentLine.objects.get(pk=lines["special"].pk)
    assert special.template is None
    assert (special.interaction_description, special.unit_cost) == ("Kept", Decimal("7"))

    draft = InteractionDraft.objects.get(pk=draft_id)
    assert draft.status == DraftStatus.FINISHED
    page = owner_client.get(segment.get_absolute_url())
    assert b"Interaction MAIL assigned to segment SEG00001: 2 lines follow." in page.content


def test_last_step_says_how_many_lines_follow_and_which_personalised_do_not(
    owner_client, segment, mailing, lines
):
    draft_id = start(owner_client, segment)
    post_step(owner_client, draft_id, "type", {"template": mailing.pk})
    post_step(owner_client, draft_id, "content", {"subject": "S", "body": "B"})
    page = owner_client.get(step_url(draft_id, "related"))
    follow = page.context["segment_follow"]
    assert (follow["following"], follow["personalised"]) == (2, 1)
    assert b"the 2 lines that are not personalised" in page.content
    assert lines["special"].contact.name.encode() in page.content


def test_ignore_contact_corres_type_gives_every_line_the_segments_default(
    owner_client, segment, mailing, lines
):
    run_wizard(
        owner_client,
        segment,
        mailing,
        type_data={
            "correspondence_type": CorrespondenceType.HARD_COPY,
            "ignore_contact_corres_type": "on",
        },
    )
    types = set(
        segment.lines.filter(personalised=False).values_list("correspondence_type", flat=True)
    )
    assert types == {CorrespondenceType.HARD_COPY}


def test_ignore_without_any_default_is_refused_next_to_the_field(owner_client, segment):
    template = factories.TemplateFactory(correspondence_type="")
    draft_id = start(owner_client, segment)
    response = post_step(
        owner_client,
        draft_id,
        "type",
        {"template": template.pk, "ignore_contact_corres_type": "on"},
    )
    assert response.status_code == 200
    assert "correspondence_type" in response.context["wizard"]["form"].errors


@pytest.mark.parametrize(
    ("segment_default", "segment_ignores", "template_default", "template_ignores", "contact"),
    list(
        itertools.product(
            ["", "email"], [False, True], ["", "hard_copy"], [False, True], ["", "email"]
        )
    ),
)
def test_lines_resolve_correspondence_type_exactly_like_the_wizard(
    owner, segment_default, segment_ignores, template_default, template_ignores, contact
):
    """The SQL that fills lines and `resolve_correspondence_type` never disagree."""
    from segments.services import segment_add_contact

    template = factories.TemplateFactory(
        correspondence_type=template_default, ignore_contact_corres_type=template_ignores
    )
    segment = factories.SegmentFactory(
        created_by=owner,
        template=template,
        correspondence_type=segment_default,
        ignore_contact_corres_type=segment_ignores,
    )
    person = factories.PersonFactory(correspondence_type=contact)
    segment_add_contact(segment=segment, user=owner, contact=person)
    assert segment.lines.get().correspondence_type == resolve_correspondence_type(
        template=template,
        contact=person,
        segment_default=segment_default,
        segment_ignores_contact=segment_ignores,
    )


def test_lines_added_later_start_from_the_header_in_the_contacts_language(
    owner_client, segment, mailing
):
    run_wizard(owner_client, segment, mailing, content={"subject": "Hello", "body": "Edited"})
    dutch = factories.PersonFactory(number="NL2", language="nl")
    english = factories.PersonFactory(number="EN2", language="en")
    for contact in (dutch, english):
        owner_client.post(
            reverse("segments:line_add", args=[segment.pk]), {"contact": contact.number}
        )
    by_contact = {line.contact.number: line for line in segment.lines.all()}
    assert (by_contact["NL2"].body, by_contact["NL2"].language) == ("Hoi", "nl")
    assert (by_contact["EN2"].body, by_contact["EN2"].template) == ("Edited", mailing)


def test_cancel_saves_a_segment_draft_that_resumes_and_finishes(
    owner_client, segment, mailing, lines
):
    draft_id = start(owner_client, segment)
    post_step(owner_client, draft_id, "type", {"template": mailing.pk, "description": "Later"})
    response = post_step(owner_client, draft_id, "content", {"subject": "S"}, wizard_cancel="1")
    assert response["Location"] == reverse("interactions:wizard_cancel", args=[draft_id])
    owner_client.post(response["Location"], {"choice": "yes"})
    draft = InteractionDraft.objects.get(pk=draft_id)
    assert draft.status == DraftStatus.POSTPONED
    assert draft.description == "Later"
    assert draft in owner_client.get(reverse("interactions:draft_list")).context["page"].object_list
    segment.refresh_from_db()
    assert segment.template is None  # nothing assigned before Finish

    response = owner_client.get(reverse("interactions:wizard_resume", args=[draft_id]))
    assert response["Location"] == step_url(draft_id, "content")
    post_step(owner_client, draft_id, "content", {"subject": "S", "body": "B"})
    post_step(owner_client, draft_id, "related", {})
    segment.refresh_from_db()
    assert (segment.template, segment.interaction_description) == (mailing, "Later")


def test_segment_content_follows_a_new_template_unless_edited(owner_client, segment, mailing):
    letter = factories.TemplateFactory(code="LETTER", correspondence_type=CorrespondenceType.EMAIL)
    factories.TemplateContentFactory(template=letter, subject="Letter", body="Letter body")
    draft_id = start(owner_client, segment)
    post_step(owner_client, draft_id, "type", {"template": mailing.pk})
    # Back from Content, untouched (a browser's CRLF), to another template: it follows.
    post_step(
        owner_client,
        draft_id,
        "content",
        {"subject": "Hello", "body": "Hi\r\n"},
        wizard_goto_step="type",
    )
    post_step(owner_client, draft_id, "type", {"template": letter.pk})
    form = owner_client.get(step_url(draft_id, "content")).context["wizard"]["form"]
    assert (form["subject"].value(), form["body"].value()) == ("Letter", "Letter body")

    # Edited, then back to the first template: kept, with the notice.
    post_step(
        owner_client,
        draft_id,
        "content",
        {"subject": "Letter", "body": "Mine"},
        wizard_goto_step="type",
    )
    post_step(owner_client, draft_id, "type", {"template": mailing.pk})
    page = owner_client.get(step_url(draft_id, "content"))
    form = page.context["wizard"]["form"]
    assert (form["subject"].value(), form["body"].value()) == ("Hello", "Mine")
    assert b"You edited this text; it was kept." in page.content
    post_step(owner_client, draft_id, "content", {"subject": "Hello", "body": "Mine"})
    post_step(owner_client, draft_id, "related", {})
    segment.refresh_from_db()
    assert (segment.template, segment.subject, segment.body) == (mailing, "Hello", "Mine")


def test_a_file_attached_on_a_segment_keeps_its_name(owner_client, segment, mailing):
    draft_id = start(owner_client, segment)
    post_step(owner_client, draft_id, "type", {"template": mailing.pk})
    upload = SimpleUploadedFile("Spring offer.txt", b"offer", content_type="text/plain")
    owner_client.post(
        step_url(draft_id, "content"),
        {
            f"draft_{draft_id}-current_step": "content",
            "content-subject": "S",
            "content-body": "B",
            "content-attachment": upload,
        },
    )
    post_step(owner_client, draft_id, "related", {})
    segment.refresh_from_db()
    assert segment.attachment_name == "Spring offer.txt"
    assert segment.attachment.read() == b"offer"
    page = owner_client.get(segment.get_absolute_url()).content.decode()
    assert "Spring offer.txt" in page
    assert segment.attachment.name not in page


def test_only_the_content_step_posts_as_multipart_and_urlencoded_posts_finish(
    owner_client, segment, mailing
):
    draft_id = start(owner_client, segment)
    steps = {"type": {"template": mailing.pk}, "content": {"subject": "S", "body": "B"}}
    steps["related"] = {"campaign": mailing.campaign_id}
    for step, data in steps.items():
        page = owner_client.get(step_url(draft_id, step)).content.decode()
        form_tag = re.search(r"<form [^>]*wizard-form[^>]*>", page).group()
        assert ('enctype="multipart/form-data"' in form_tag) == (step == "content"), step
        payload = {f"draft_{draft_id}-current_step": step}
        payload.update({f"{step}-{key}": value for key, value in data.items()})
        response = owner_client.post(
            step_url(draft_id, step),
            urlencode(payload),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 302, step
    segment.refresh_from_db()
    assert (segment.template, segment.subject, segment.body) == (mailing, "S", "B")


def test_cancel_and_discard_returns_to_the_segment(owner_client, segment):
    draft_id = start(owner_client, segment)
    response = owner_client.post(
        reverse("interactions:wizard_cancel", args=[draft_id]), {"choice": "no"}
    )
    assert response["Location"] == segment.get_absolute_url()
    assert not InteractionDraft.objects.filter(pk=draft_id).exists()


def test_replayed_finish_changes_nothing_more(owner_client, segment, mailing, lines):
    draft_id, _response = run_wizard(owner_client, segment, mailing)
    SegmentLine.objects.filter(pk=lines["en"].pk).update(interaction_description="Changed later")
    response = finish(owner_client, draft_id)
    assert response["Location"] == segment.get_absolute_url()
    assert SegmentLine.objects.get(pk=lines["en"].pk).interaction_description == "Changed later"


def test_create_interaction_again_starts_from_the_header(owner_client, segment, mailing):
    run_wizard(
        owner_client,
        segment,
        mailing,
        type_data={"description": "Spring news"},
        content={"subject": "Hello", "body": "Edited"},
    )
    draft_id = start(owner_client, segment)
    form = owner_client.get(step_url(draft_id, "type")).context["wizard"]["form"]
    assert form.initial["template"] == mailing
    assert form.initial["description"] == "Spring news"
    post_step(
        owner_client, draft_id, "type", {"template": mailing.pk, "description": "Spring news"}
    )
    content = owner_client.get(step_url(draft_id, "content")).context["wizard"]["form"]
    assert content.initial["body"] == "Edited"


def test_changing_the_header_template_reapplies_cost_duration_and_flows(
    owner_client, segment, mailing, lines
):
    run_wizard(owner_client, segment, mailing)
    visit = factories.TemplateFactory(
        code="VISIT",
        unit_cost=Decimal("50"),
        unit_duration=Decimal("90"),
        information_flow=InformationFlow.INBOUND,
        initiated_by=InitiatedBy.THEM,
    )
    run_wizard(owner_client, segment, visit)
    line = SegmentLine.objects.get(pk=lines["en"].pk)
    assert (line.template, line.unit_cost, line.unit_duration) == (
        visit,
        Decimal("50"),
        Decimal("90"),
    )
    assert (line.information_flow, line.initiated_by) == (InformationFlow.INBOUND, InitiatedBy.THEM)
    assert (line.subject, line.body) == ("", "")


def test_finish_after_the_segment_was_logged_assigns_nothing(owner_client, segment, mailing):
    draft_id = start(owner_client, segment)
    post_step(owner_client, draft_id, "type", {"template": mailing.pk})
    post_step(owner_client, draft_id, "content", {"subject": "S", "body": "B"})
    factories.LoggedSegmentFactory(segment=segment)
    Segment.objects.filter(pk=segment.pk).update(status="logged")
    response = post_step(owner_client, draft_id, "related", {})  # Finish
    assert response["Location"] == segment.get_absolute_url()
    segment.refresh_from_db()
    assert segment.template is None
    assert InteractionDraft.objects.get(pk=draft_id).status != DraftStatus.FINISHED


def test_another_user_cannot_open_the_segment_draft(owner_client, client, colleague, segment):
    draft_id = start(owner_client, segment)
    client.force_login(colleague)
    assert client.get(step_url(draft_id, "type")).status_code == 404


# --- personalising lines -------------------------------------------------------------------


def personalise(client, line, **changes):
    data = {
        "template": line.template_id or "",
        "interaction_description": line.interaction_description,
        "salesperson": line.salesperson_id or "",
        "date": line.date.isoformat() if line.date else "",
        "correspondence_type": line.correspondence_type,
        "language": line.language,
        "unit_cost": str(line.unit_cost),
        "unit_duration": str(line.unit_duration),
        "subject": line.subject,
        "body": line.body,
    }
    data.update(changes)
    return client.post(reverse("segments:line_edit", args=[line.segment_id, line.pk]), data)


def test_another_template_on_a_line_reapplies_its_defaults_and_marks_it_personalised(
    owner_client, segment, mailing, lines
):
    run_wizard(owner_client, segment, mailing)
    letter = factories.TemplateFactory(
        code="LETTER",
        description="Letter",
        unit_cost=Decimal("3.50"),
        unit_duration=Decimal("15"),
        correspondence_type=CorrespondenceType.HARD_COPY,
        information_flow=InformationFlow.OUTBOUND,
    )
    factories.TemplateContentFactory(template=letter, language="nl", subject="Brief", body="Beste")
    line = SegmentLine.objects.get(pk=lines["nl"].pk)
    response = personalise(owner_client, line, template=letter.pk)
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.personalised is True
    assert (line.template, line.interaction_description) == (letter, "Letter")
    assert (line.unit_cost, line.unit_duration) == (Decimal("3.50"), Decimal("15"))
    assert (line.subject, line.body, line.language) == ("Brief", "Beste", "nl")
    assert line.correspondence_type == CorrespondenceType.HARD_COPY
    page = owner_client.get(segment.get_absolute_url())
    assert page.content.count(b'<span class="badge">Personalised</span>') == 2


def test_fields_changed_with_a_new_template_win_over_its_defaults(
    owner_client, segment, mailing, lines
):
    run_wizard(owner_client, segment, mailing)
    letter = factories.TemplateFactory(unit_cost=Decimal("3.50"))
    line = SegmentLine.objects.get(pk=lines["en"].pk)
    personalise(owner_client, line, template=letter.pk, unit_cost="9.99")
    line.refresh_from_db()
    assert (line.template, line.unit_cost) == (letter, Decimal("9.99"))


def test_personalised_line_keeps_its_values_when_the_header_changes_then_resets(
    owner_client, segment, mailing, lines
):
    run_wizard(owner_client, segment, mailing)
    line = SegmentLine.objects.get(pk=lines["en"].pk)
    personalise(owner_client, line, unit_cost="0.10", interaction_description="Just this one")
    visit = factories.TemplateFactory(code="VISIT", unit_cost=Decimal("50"))
    run_wizard(owner_client, segment, visit)
    line.refresh_from_db()
    assert (line.template, line.unit_cost) == (mailing, Decimal("0.10"))

    response = owner_client.post(reverse("segments:line_reset", args=[segment.pk, line.pk]))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.personalised is False
    assert (line.template, line.unit_cost, line.interaction_description) == (
        visit,
        Decimal("50"),
        visit.description,
    )


def test_saving_a_line_unchanged_does_not_personalise_it(owner_client, segment, lines):
    line = lines["en"]
    assert personalise(owner_client, line).status_code == 302
    line.refresh_from_db()
    assert line.personalised is False


def test_line_form_bad_input_is_shown_next_to_the_fields(owner_client, segment, lines):
    blocked = factories.SalespersonFactory(blocked=True)
    response = personalise(
        owner_client, lines["en"], unit_cost="-5", salesperson=blocked.pk, body="{{ secret }}"
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"unit_cost", "salesperson", "body"}
    lines["en"].refresh_from_db()
    assert lines["en"].personalised is False


def test_a_line_of_another_segment_is_a_404(owner_client, segment):
    other = factories.SegmentLineFactory()
    url = reverse("segments:line_edit", args=[segment.pk, other.pk])
    assert owner_client.get(url).status_code == 404


def test_a_segment_wizard_leaves_the_contacts_wizard_as_it_was(owner_client, segment, mailing):
    """The segment's step 1 replaces the contact's only for that draft, never for later ones."""
    from interactions.wizard_forms import TypeForm

    run_wizard(owner_client, segment, mailing)
    person = factories.PersonFactory()
    response = owner_client.post(reverse("interactions:wizard_start"), {"contact": person.pk})
    page = owner_client.get(response["Location"], follow=True)
    assert isinstance(page.context["wizard"]["form"], TypeForm)
    assert "contact" in page.context["wizard"]["form"].fields
