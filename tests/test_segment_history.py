"""Criteria history and Go Back (issue 17): every change of a segment's contacts is a numbered
step; Go Back undoes the last one exactly, step after step; two users keep steps in order."""

from __future__ import annotations

import itertools
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from segments import services
from segments.forms import Criteria
from segments.models import RemovedLine, SegmentLine, SegmentStep, StepAction
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment(owner):
    return factories.SegmentFactory(
        number="SEG00001", salesperson=owner.salesperson, created_by=owner
    )


@pytest.fixture
def town(db):
    """Four persons in Haarlem (two of them Dutch-speaking), two in Leiden."""
    return {
        number: factories.PersonFactory(number=number, city=city, language=language)
        for number, city, language in (
            ("H1", "Haarlem", "nl"),
            ("H2", "Haarlem", "nl"),
            ("H3", "Haarlem", "en"),
            ("H4", "Haarlem", "en"),
            ("L1", "Leiden", "nl"),
            ("L2", "Leiden", "en"),
        )
    }


def url(name, segment, *args):
    return reverse(f"segments:{name}", args=[segment.pk, *args])


def contacts_on(segment) -> set:
    return set(segment.lines.values_list("contact__number", flat=True))


def criteria(**data) -> Criteria:
    return Criteria.from_data(data)


def line_state(segment) -> list[tuple]:
    """Everything about the segment's lines that Go Back must give back."""
    columns = ["id", "contact_id", *services.LINE_COLUMNS, "step"]
    return sorted(segment.lines.values_list(*columns))


# --- Steps ----------------------------------------------------------------------------------------


def test_every_change_of_the_contacts_is_a_numbered_step(owner_client, owner, segment, town):
    logged = factories.LoggedSegmentFactory(segment__number="SEG00090")
    factories.SegmentLineFactory(segment=logged.segment, contact=town["L1"])
    owner_client.post(url("segment_criteria", segment, "add"), {"city": "Haarlem"})
    owner_client.post(url("segment_criteria", segment, "reduce"), {"language": "en"})
    owner_client.post(url("segment_reuse", segment), {"logged_segment": "SEG00090"})
    owner_client.post(url("line_add", segment), {"contact": "L2"})
    owner_client.post(url("segment_criteria", segment, "refine"), {"language": "nl"})
    h1 = segment.lines.get(contact__number="H1")
    owner_client.post(url("lines_remove", segment), {"line": [h1.pk]})

    steps = list(segment.steps.order_by("number"))
    assert [
        (s.number, s.action, s.lines_before, s.added, s.removed, s.lines_after) for s in steps
    ] == [
        (1, StepAction.ADD, 0, 4, 0, 4),
        (2, StepAction.REDUCE, 4, 0, 2, 2),
        (3, StepAction.REUSE_SEGMENT, 2, 1, 0, 3),
        (4, StepAction.ADD_CONTACT, 3, 1, 0, 4),
        (5, StepAction.REFINE, 4, 0, 1, 3),
        (6, StepAction.REMOVE_LINES, 3, 0, 1, 2),
    ]
    assert contacts_on(segment) == {"H2", "L1"}
    assert steps[0].described == "City: Haarlem"
    assert steps[0].criteria == {"city": "Haarlem"}
    assert steps[1].described == "Language: English"
    assert steps[2].described.startswith(f"Logged segment {logged.pk}: SEG00090")
    assert steps[3].described.startswith("L2 ")
    assert steps[5].described == "H1"
    assert {s.created_by for s in steps} == {owner}

    page = owner_client.get(segment.get_absolute_url())
    assert page.context["step_count"] == 6
    assert [s.number for s in page.context["steps"]] == [6, 5, 4, 3, 2, 1]
    html = page.content.decode()
    assert "Criteria history" in html
    assert "City: Haarlem" in html
    assert 'name="step" value="6"' in html  # Go Back names the step it undoes


def test_adding_a_contact_already_on_the_segment_makes_no_step(owner, segment, town):
    services.segment_add_contact(segment=segment, user=owner, contact=town["H1"])
    services.segment_add_contact(segment=segment, user=owner, contact=town["H1"])
    assert segment.steps.count() == 1


def test_criteria_with_outcomes_and_lists_are_stored_as_posted_and_described(
    owner_client, segment, town
):
    template = factories.TemplateFactory(code="CALL")
    owner_client.post(
        url("segment_criteria", segment, "add"),
        {
            "interaction": "has",
            "template": template.pk,
            "evaluation": ["positive", "very_positive"],
            "date_from": "2026-01-01",
        },
    )
    step = segment.steps.get()
    assert step.criteria == {
        "interaction": "has",
        "template": str(template.pk),
        "evaluation": ["positive", "very_positive"],
        "date_from": "2026-01-01",
    }
    assert "Evaluation: Positive / Very Positive" in step.described
    assert "Interaction Template: CALL" in step.described


def test_the_history_page_lists_every_step_newest_first(owner_client, owner, segment, town):
    for number in ("H1", "H2", "H3"):
        services.segment_add_contact(segment=segment, user=owner, contact=town[number])
    page = owner_client.get(url("segment_history", segment))
    assert [s.number for s in page.context["page"].object_list] == [3, 2, 1]


# --- Go Back ------------------------------------------------------------------------------------


def go_back(client, segment, step):
    return client.post(url("segment_go_back", segment), {"step": str(step)}, follow=True)


def test_go_back_of_an_add_takes_away_exactly_the_lines_it_added(owner_client, segment, town):
    owner_client.post(url("segment_criteria", segment, "add"), {"language": "nl"})
    owner_client.post(url("segment_criteria", segment, "add"), {"city": "Haarlem"})
    assert contacts_on(segment) == {"H1", "H2", "H3", "H4", "L1"}
    response = go_back(owner_client, segment, 2)
    assert "Step 2 (Add Contacts) undone: 2 lines taken away, 0 lines put back." in (
        response.content.decode()
    )
    assert contacts_on(segment) == {"H1", "H2", "L1"}
    assert list(segment.steps.values_list("number", flat=True)) == [1]


def test_go_back_of_a_step_that_removed_personalised_lines_puts_them_back_as_they_were(
    owner_client, owner, segment, town
):
    template = factories.TemplateFactory(unit_cost=Decimal("2.00"))
    segment.template = template
    segment.unit_cost = Decimal("2.00")
    segment.save()
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Haarlem"))
    special = segment.lines.get(contact__number="H3")
    other_template = factories.TemplateFactory(code="VISIT")
    services.segment_line_personalise(
        line=special,
        user=owner,
        data={
            "template": other_template,
            "unit_cost": Decimal("7.50"),
            "interaction_description": "A visit with coffee",
        },
        changed=["template", "unit_cost", "interaction_description"],
    )
    before = line_state(segment)

    owner_client.post(url("segment_criteria", segment, "reduce"), {"language": "en"})
    assert contacts_on(segment) == {"H1", "H2"}
    assert RemovedLine.objects.count() == 2

    go_back(owner_client, segment, 2)
    assert line_state(segment) == before  # same ids, same values, personalised ones too
    restored = segment.lines.get(contact__number="H3")
    assert restored.personalised is True
    assert restored.template == other_template
    assert restored.unit_cost == Decimal("7.50")
    assert restored.interaction_description == "A visit with coffee"
    assert RemovedLine.objects.count() == 0


def test_lines_put_back_that_are_not_personalised_follow_the_header_as_it_is_now(
    owner, segment, town
):
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Haarlem"))
    step = services.segment_refine_contacts(
        segment=segment, user=owner, criteria=criteria(language="nl")
    )
    services.segment_update(segment=segment, user=owner, data={"unit_cost": Decimal("3.00")})
    services.segment_go_back(segment=segment, user=owner, step=step.number)
    assert set(segment.lines.values_list("contact__number", "unit_cost")) == {
        (number, Decimal("3.00")) for number in ("H1", "H2", "H3", "H4")
    }


def test_go_back_step_by_step_gives_back_every_earlier_state(owner, segment, town):
    states = [line_state(segment)]
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Haarlem"))
    states.append(line_state(segment))
    services.segment_add_contact(segment=segment, user=owner, contact=town["L1"])
    states.append(line_state(segment))
    services.segment_refine_contacts(segment=segment, user=owner, criteria=criteria(language="nl"))
    states.append(line_state(segment))
    services.segment_reduce_contacts(segment=segment, user=owner, criteria=criteria(city="Leiden"))
    states.append(line_state(segment))
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria())
    states.append(line_state(segment))
    assert len(set(map(tuple, states))) == 6  # every step changed something

    for number in range(5, 0, -1):
        services.segment_go_back(segment=segment, user=owner, step=number)
        states.pop()
        assert line_state(segment) == states[-1], number
    assert not segment.steps.exists()
    assert not segment.lines.exists()
    assert not RemovedLine.objects.exists()


def test_go_back_of_removed_lines_puts_them_back(owner_client, owner, segment, town):
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Leiden"))
    before = line_state(segment)
    owner_client.post(
        url("lines_remove", segment), {"line": list(segment.lines.values_list("pk", flat=True))}
    )
    assert not segment.lines.exists()
    go_back(owner_client, segment, 2)
    assert line_state(segment) == before


def test_go_back_refuses_a_step_that_is_no_longer_the_last(owner_client, owner, segment, town):
    services.segment_add_contact(segment=segment, user=owner, contact=town["H1"])
    services.segment_add_contact(segment=segment, user=owner, contact=town["H2"])
    response = go_back(owner_client, segment, 1)
    assert "Step 1 is no longer the last step" in response.content.decode()
    assert contacts_on(segment) == {"H1", "H2"}
    assert segment.steps.count() == 2


def test_go_back_without_steps_says_so(owner_client, segment):
    response = go_back(owner_client, segment, 1)
    assert "There is no step to go back from." in response.content.decode()
    response = owner_client.post(url("segment_go_back", segment), {"step": "last"}, follow=True)
    assert "Choose the step to undo" in response.content.decode()


def test_a_logged_segment_cannot_go_back(manager_client, manager, town):
    logged = factories.LoggedSegmentFactory()
    step = SegmentStep.objects.create(segment=logged.segment, number=1, action=StepAction.ADD)
    factories.SegmentLineFactory(segment=logged.segment, contact=town["H1"], step=1)
    response = manager_client.post(url("segment_go_back", logged.segment), {"step": "1"})
    assert response.status_code == 302
    assert response["Location"] == logged.get_absolute_url()
    assert SegmentStep.objects.filter(pk=step.pk).exists()
    assert logged.segment.lines.count() == 1
    with pytest.raises(services.SegmentAlreadyLogged):
        services.segment_go_back(segment=logged.segment, user=manager, step=1)
    page = manager_client.get(logged.segment.get_absolute_url()).content.decode()
    assert "Criteria history" in page  # shown, read-only
    assert "Go Back" not in page


@pytest.mark.parametrize("size", [3, 30])
def test_go_back_runs_the_same_statements_whatever_the_size_of_the_step(
    owner, segment, size, django_assert_num_queries
):
    factories.PersonFactory.create_batch(size, city="Haarlem")
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Haarlem"))
    step = services.segment_refine_contacts(
        segment=segment, user=owner, criteria=criteria(city="X")
    )
    assert step.removed == size
    # savepoint, lock, the last step, the lines it added, the lines it removed put back (one
    # statement), the step row, release
    with django_assert_num_queries(7):
        services.segment_go_back(segment=segment, user=owner, step=2)
    with django_assert_num_queries(7):
        services.segment_go_back(segment=segment, user=owner, step=1)
    assert not segment.lines.exists()


def test_removed_lines_keep_every_column_of_a_line():
    kept = {field.column for field in RemovedLine._meta.concrete_fields}
    line = {field.column for field in SegmentLine._meta.concrete_fields}
    assert line - {"id", "segment_id", "step"} <= kept
    assert {"line_id", "line_step", "step_id"} <= kept


def test_a_contact_deleted_after_its_line_was_removed_stays_out_on_go_back(owner, segment, town):
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Leiden"))
    step = services.segment_reduce_contacts(segment=segment, user=owner, criteria=criteria())
    town["L2"].delete()
    gone = services.segment_go_back(segment=segment, user=owner, step=step.number)
    assert gone.restored == 1
    assert contacts_on(segment) == {"L1"}


# --- Two users at once ----------------------------------------------------------------------------


def run_together(*actions):
    """Run each action in its own thread and database connection, started together."""
    start = threading.Barrier(len(actions))
    results, errors = [None] * len(actions), []

    def run(index, action):
        try:
            start.wait(timeout=10)
            results[index] = action()
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_two_users_changing_one_segment_at_once_keep_steps_in_order(owner, manager, town):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Haarlem"))
    _results, errors = run_together(
        lambda: services.segment_add_contacts(
            segment=segment, user=owner, criteria=criteria(city="Leiden")
        ),
        lambda: services.segment_reduce_contacts(
            segment=segment, user=manager, criteria=criteria(language="nl")
        ),
    )
    assert errors == []
    steps = list(segment.steps.order_by("number"))
    assert [s.number for s in steps] == [1, 2, 3]
    for earlier, later in itertools.pairwise(steps):
        assert later.lines_before == earlier.lines_after
    assert steps[-1].lines_after == segment.lines.count()
    assert {s.action for s in steps[1:]} == {StepAction.ADD, StepAction.REDUCE}
    last = steps[-1]
    if last.action == StepAction.ADD:  # Leiden came after the Dutch-speakers went
        assert contacts_on(segment) == {"H3", "H4", "L1", "L2"}
        before_last = {"H3", "H4"}
    else:  # the Dutch-speakers, L1 among them, went after Leiden came
        assert contacts_on(segment) == {"H3", "H4", "L2"}
        before_last = {"H1", "H2", "H3", "H4", "L1", "L2"}

    # Go Back undoes whichever came last, and only that one.
    services.segment_go_back(segment=segment, user=owner, step=last.number)
    assert contacts_on(segment) == before_last


@pytest.mark.django_db(transaction=True)
def test_two_users_going_back_at_once_undo_one_step(owner, manager, town):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Haarlem"))
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Leiden"))
    _results, errors = run_together(
        lambda: services.segment_go_back(segment=segment, user=owner, step=2),
        lambda: services.segment_go_back(segment=segment, user=manager, step=2),
    )
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError)
    assert "no longer the last step" in errors[0].messages[0]
    assert contacts_on(segment) == {"H1", "H2", "H3", "H4"}
    assert list(segment.steps.values_list("number", flat=True)) == [1]


def test_deleting_a_segment_deletes_its_steps_and_the_lines_they_kept(owner, segment, town):
    services.segment_add_contacts(segment=segment, user=owner, criteria=criteria(city="Haarlem"))
    services.segment_reduce_contacts(segment=segment, user=owner, criteria=criteria(language="nl"))
    assert RemovedLine.objects.count() == 2
    services.segment_delete(segment=segment, user=owner)
    assert not SegmentStep.objects.exists()
    assert not RemovedLine.objects.exists()
