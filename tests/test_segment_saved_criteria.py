"""Save Criteria and Reuse Criteria (issue 17): a segment's criteria steps kept under a code and
replayed, in order, on another segment against the contacts of that day."""

from __future__ import annotations

import pytest
from django.urls import reverse

from segments import services
from segments.forms import Criteria
from segments.models import SavedCriteria, StepAction
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def town(db):
    return {
        number: factories.PersonFactory(
            number=number, city=city, language=language, company=None, **flags
        )
        for number, city, language, flags in (
            ("H1", "Haarlem", "nl", {}),
            ("H2", "Haarlem", "en", {}),
            ("H3", "Haarlem", "nl", {"exclude_from_segment": True}),
            ("L1", "Leiden", "nl", {}),
        )
    }


@pytest.fixture
def built(owner, town):
    """A segment built by two criteria steps and a contact added by hand."""
    segment = factories.SegmentFactory(
        number="SEG00001", salesperson=owner.salesperson, created_by=owner
    )
    services.segment_add_contacts(
        segment=segment, user=owner, criteria=Criteria.from_data({"city": "Haarlem"})
    )
    services.segment_add_contact(segment=segment, user=owner, contact=town["L1"])
    services.segment_refine_contacts(
        segment=segment, user=owner, criteria=Criteria.from_data({"language": "nl"})
    )
    return segment


@pytest.fixture
def empty(owner):
    return factories.SegmentFactory(
        number="SEG00002", salesperson=owner.salesperson, created_by=owner
    )


def contacts_on(segment) -> set:
    return set(segment.lines.values_list("contact__number", flat=True))


def save(client, segment, code="DUTCH-HAARLEM", description="Dutch speakers in Haarlem"):
    return client.post(
        reverse("segments:segment_save_criteria", args=[segment.pk]),
        {"code": code, "description": description},
    )


def test_save_criteria_keeps_the_criteria_steps_in_order(manager_client, manager, built):
    page = manager_client.get(reverse("segments:segment_save_criteria", args=[built.pk]))
    assert "1 step added or removed contacts by hand" in page.content.decode()
    response = save(manager_client, built, code="dutch-haarlem")
    assert response.status_code == 302
    saved = SavedCriteria.objects.get()
    assert (saved.code, saved.description, saved.created_by) == (
        "DUTCH-HAARLEM",
        "Dutch speakers in Haarlem",
        manager,
    )
    assert list(saved.steps.values_list("number", "action", "criteria", "described")) == [
        (1, StepAction.ADD, {"city": "Haarlem"}, "City: Haarlem"),
        (2, StepAction.REFINE, {"language": "nl"}, "Language: Dutch"),
    ]


def test_reuse_criteria_replays_the_steps_on_another_segment_against_todays_contacts(
    owner_client, manager_client, built, empty, town
):
    save(manager_client, built)
    factories.PersonFactory(number="H4", city="Haarlem", language="nl", company=None)  # new
    response = owner_client.post(
        reverse("segments:segment_reuse_criteria", args=[empty.pk]), {"saved": "DUTCH-HAARLEM"}
    )
    assert response.status_code == 302
    # H3 is excluded from segments; H2 speaks English; L1 was added by hand, not by criteria.
    assert contacts_on(empty) == {"H1", "H4"}
    steps = list(empty.steps.order_by("number"))
    assert [(s.action, s.added, s.removed) for s in steps] == [
        (StepAction.ADD, 3, 0),
        (StepAction.REFINE, 0, 1),
    ]
    assert contacts_on(built) == {"H1", "L1"}  # the original is untouched
    # Each replayed step can be undone on its own.
    services.segment_go_back(segment=empty, user=built.created_by, step=2)
    assert contacts_on(empty) == {"H1", "H2", "H4"}


def test_reuse_criteria_on_a_segment_emptied_by_going_back(owner, manager_client, built, town):
    save(manager_client, built)
    for number in (3, 2, 1):
        services.segment_go_back(segment=built, user=owner, step=number)
    assert not built.lines.exists()
    services.segment_reuse_criteria(segment=built, user=owner, saved=SavedCriteria.objects.get())
    assert contacts_on(built) == {"H1"}
    assert list(built.steps.values_list("number", flat=True).order_by("number")) == [1, 2]


def test_saved_criteria_with_a_reused_segment_replay_it(owner, manager, empty, town):
    logged = factories.LoggedSegmentFactory(segment__number="SEG00090")
    factories.SegmentLineFactory(segment=logged.segment, contact=town["L1"])
    source = factories.SegmentFactory(created_by=owner)
    services.segment_reuse(segment=source, user=owner, logged=logged)
    saved = services.saved_criteria_create(
        segment=source, user=manager, code="AGAIN", description="Again"
    )
    steps = services.segment_reuse_criteria(segment=empty, user=owner, saved=saved)
    assert [s.action for s in steps] == [StepAction.REUSE_SEGMENT]
    assert contacts_on(empty) == {"L1"}


def test_criteria_that_no_longer_hold_stop_the_replay_with_nothing_written(
    owner_client, manager, empty, town
):
    template = factories.TemplateFactory(code="GONE")
    source = factories.SegmentFactory(created_by=manager)
    services.segment_add_contacts(
        segment=source, user=manager, criteria=Criteria.from_data({"city": "Haarlem"})
    )
    services.segment_reduce_contacts(
        segment=source,
        user=manager,
        criteria=Criteria.from_data({"interaction": "has", "template": str(template.pk)}),
    )
    services.saved_criteria_create(segment=source, user=manager, code="OLD", description="Old")
    source.delete()
    template.delete()
    response = owner_client.post(
        reverse("segments:segment_reuse_criteria", args=[empty.pk]), {"saved": "OLD"}
    )
    assert response.status_code == 200
    error = str(response.context["form"].non_field_errors())
    assert "Step 2 of saved criteria OLD cannot be replayed" in error
    assert "Interaction Template" in error
    assert not empty.lines.exists()
    assert not empty.steps.exists()


def test_a_segment_without_criteria_steps_has_nothing_to_save(manager_client, manager, town):
    segment = factories.SegmentFactory(created_by=manager)
    services.segment_add_contact(segment=segment, user=manager, contact=town["H1"])
    response = save(manager_client, segment)
    assert response.status_code == 200
    assert "has no criteria steps to save" in str(response.context["form"].non_field_errors())
    assert not SavedCriteria.objects.exists()


def test_a_code_is_saved_once(manager_client, built):
    save(manager_client, built)
    response = save(manager_client, built, code="Dutch-Haarlem ")
    assert "already exist" in str(response.context["form"].errors["code"])
    assert SavedCriteria.objects.count() == 1


def test_salespeople_reuse_saved_criteria_but_do_not_save_or_list_them(owner_client, built, empty):
    assert save(owner_client, built).status_code == 403
    assert owner_client.get(reverse("segments:saved_criteria_list")).status_code == 403
    page = owner_client.get(reverse("segments:segment_reuse_criteria", args=[empty.pk]))
    assert page.status_code == 200
    assert b"Save Criteria" not in owner_client.get(built.get_absolute_url()).content


def test_managers_list_and_delete_saved_criteria(manager_client, built):
    save(manager_client, built)
    saved = SavedCriteria.objects.get()
    page = manager_client.get(reverse("segments:saved_criteria_list")).content.decode()
    assert "DUTCH-HAARLEM" in page
    assert "City: Haarlem" in page
    response = manager_client.post(reverse("segments:saved_criteria_delete", args=[saved.pk]))
    assert response.status_code == 302
    assert not SavedCriteria.objects.exists()


def test_a_logged_segments_criteria_can_be_saved(manager_client):
    logged = factories.LoggedSegmentFactory()
    logged.segment.steps.create(
        number=1, action=StepAction.ADD, criteria={"city": "Leiden"}, described="City: Leiden"
    )
    assert save(manager_client, logged.segment, code="LAST-MONTH").status_code == 302
    assert SavedCriteria.objects.get().steps.get().criteria == {"city": "Leiden"}
