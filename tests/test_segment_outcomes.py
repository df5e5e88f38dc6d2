"""Outcome criteria for Add / Reduce / Refine, and the follow-up of a logged segment by its
contacts' response (issue 17). Expectations are counted by hand from the entries below."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from interactions.models import Evaluation, InformationFlow, InitiatedBy
from segments import services
from segments.models import FollowUpResponse, Segment, StepAction
from tests import factories

pytestmark = pytest.mark.django_db

MARCH = datetime.date(2026, 3, 1)


def day(n: int) -> datetime.date:
    return MARCH + datetime.timedelta(days=n - 1)


@pytest.fixture
def segment(owner):
    return factories.SegmentFactory(
        number="SEG00001", salesperson=owner.salesperson, created_by=owner
    )


def contacts_on(segment) -> set:
    return set(segment.lines.values_list("contact__number", flat=True))


# --- Outcome criteria ---------------------------------------------------------------------------


@pytest.fixture
def outcomes(db):
    """Six persons, each with a different outcome in March 2026:

    A  an outbound call evaluated Positive (3 March)
    B  answered: an inbound entry initiated by them (12 March), group ANSWERS
    C  an attempt that failed (5 March), campaign SPRING
    D  an entry evaluated Very Positive, but canceled (8 March)
    E  an entry of logged segment L, evaluated Negative (20 March)
    F  no entries at all
    """
    people = {name: factories.PersonFactory(number=name, company=None) for name in "ABCDEF"}
    call = factories.TemplateFactory(code="CALL")
    answers = factories.GroupFactory(code="ANSWERS")
    reply = factories.TemplateFactory(
        code="REPLY",
        group=answers,
        information_flow=InformationFlow.INBOUND,
        initiated_by=InitiatedBy.THEM,
    )
    spring = factories.CampaignFactory(number="SPRING")
    logged = factories.LoggedSegmentFactory(segment__number="SEG00090")
    entry = factories.LogEntryFactory
    entry(contact=people["A"], template=call, date=day(3), evaluation=Evaluation.POSITIVE)
    entry(
        contact=people["B"],
        template=reply,
        date=day(12),
        information_flow=InformationFlow.INBOUND,
        initiated_by=InitiatedBy.THEM,
    )
    entry(contact=people["C"], template=call, date=day(5), attempt_failed=True, campaign=spring)
    entry(
        contact=people["D"],
        template=call,
        date=day(8),
        evaluation=Evaluation.VERY_POSITIVE,
        canceled=True,
    )
    entry(
        contact=people["E"],
        template=call,
        date=day(20),
        logged_segment=logged,
        evaluation=Evaluation.NEGATIVE,
    )
    return {"people": people, "call": call, "answers": answers, "spring": spring, "logged": logged}


def add(client, segment, **data):
    response = client.post(reverse("segments:segment_criteria", args=[segment.pk, "add"]), data)
    assert response.status_code == 302, response.context["form"].errors
    return segment.steps.order_by("-number").first()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"interaction": "has"}, "ABCE"),
        ({"interaction": "has_no"}, "DF"),  # D's only entry is canceled
        ({"interaction": "has", "evaluation": ["positive", "very_positive"]}, "A"),
        ({"interaction": "has_no", "evaluation": ["positive", "very_positive"]}, "BCDEF"),
        ({"interaction": "has", "attempt_failed": "yes"}, "C"),
        ({"interaction": "has", "attempt_failed": "no"}, "ABE"),
        ({"interaction": "has", "information_flow": "inbound", "initiated_by": "them"}, "B"),
        ({"interaction": "has_no", "information_flow": "inbound", "initiated_by": "them"}, "ACDEF"),
        ({"interaction": "has", "group": "answers"}, "B"),
        ({"interaction": "has", "campaign": "spring"}, "C"),
        ({"interaction": "has", "logged_segment": "SEG00090"}, "E"),
        ({"interaction": "has", "date_from": "2026-03-04", "date_to": "2026-03-12"}, "BC"),
        ({"interaction": "has", "template": "call", "date_to": "2026-03-10"}, "AC"),
    ],
)
def test_add_contacts_by_outcome(owner_client, segment, outcomes, data, expected):
    ids_of = ("group", "campaign", "template")
    ids = {
        "answers": outcomes["answers"].pk,
        "spring": outcomes["spring"].pk,
        "call": outcomes["call"].pk,
    }
    data = {
        name: ids.get(value, value) if name in ids_of else value for name, value in data.items()
    }
    step = add(owner_client, segment, **data)
    assert contacts_on(segment) == set(expected)
    assert step.added == len(expected)


def test_reduce_and_refine_by_outcome(owner_client, segment, outcomes):
    add(owner_client, segment)  # everyone
    base = {"interaction": "has", "evaluation": ["negative"]}
    owner_client.post(reverse("segments:segment_criteria", args=[segment.pk, "reduce"]), base)
    assert contacts_on(segment) == set("ABCDF")
    answered = {"interaction": "has_no", "information_flow": "inbound", "initiated_by": "them"}
    owner_client.post(reverse("segments:segment_criteria", args=[segment.pk, "refine"]), answered)
    assert contacts_on(segment) == set("ACDF")
    assert [s.removed for s in segment.steps.order_by("number")] == [0, 1, 1]


def test_an_entry_condition_without_has_or_has_no_is_an_error(owner_client, segment, outcomes):
    response = owner_client.post(
        reverse("segments:segment_criteria", args=[segment.pk, "add"]),
        {"evaluation": ["positive"], "logged_segment": "NOPE"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"interaction", "logged_segment"}
    assert "There is no logged segment NOPE" in errors["logged_segment"][0]
    assert not segment.lines.exists()
    assert not segment.steps.exists()


def test_outcome_criteria_add_in_one_statement(owner_client, segment, outcomes):
    factories.PersonFactory.create_batch(10)
    with CaptureQueriesContext(connection) as queries:
        add(owner_client, segment, interaction="has_no", evaluation=["positive"])
    inserts = [q["sql"] for q in queries if 'INSERT INTO "segments_segmentline"' in q["sql"]]
    assert len(inserts) == 1
    assert "EXISTS" in inserts[0]
    assert segment.lines.count() == 5 + 10 * 2


# --- Follow-up by response ------------------------------------------------------------------------


@pytest.fixture
def mailing(owner):
    """Logged segment 'SEG00050' (logged on 1 March 2026) of eight persons; P7 is now excluded
    from segments and P8 privacy blocked. What happened since:

    P1  answered: an inbound entry initiated by them on 5 March
    P2  the mailing's attempt failed
    P3  the mailing's entry evaluated Positive; an answer of theirs was canceled
    P4  the mailing's entry evaluated Negative, a later call Very Positive (10 March)
    P5  the mailing's entry evaluated Positive, but canceled
    P6  an inbound entry initiated by them on 20 February: before the mailing, no answer
    P7  answered on 2 March, but now marked Exclude from Segment
    P8  privacy blocked, the mailing's attempt failed
    """
    factories.MarketingSetupFactory()
    segment = factories.SegmentFactory(
        number="SEG00050",
        salesperson=owner.salesperson,
        created_by=owner,
        status="logged",
    )
    logged = factories.LoggedSegmentFactory(segment=segment, segment_no="SEG00050")
    logged.logged_at = datetime.datetime(2026, 3, 1, 16, 0, tzinfo=datetime.UTC)
    logged.save(update_fields=["logged_at"])
    people = {}
    own = {}
    for n in range(1, 9):
        person = factories.PersonFactory(
            number=f"P{n}", company=None, exclude_from_segment=n == 7, privacy_blocked=n == 8
        )
        people[n] = person
        factories.SegmentLineFactory(segment=segment, contact=person)
        own[n] = factories.LogEntryFactory(
            contact=person, logged_segment=logged, segment_no="SEG00050", date=MARCH
        )
    answer = {
        "information_flow": InformationFlow.INBOUND,
        "initiated_by": InitiatedBy.THEM,
    }
    factories.LogEntryFactory(contact=people[1], date=day(5), **answer)
    own[2].attempt_failed = True
    own[3].evaluation = Evaluation.POSITIVE
    factories.LogEntryFactory(contact=people[3], date=day(6), canceled=True, **answer)
    own[4].evaluation = Evaluation.NEGATIVE
    factories.LogEntryFactory(contact=people[4], date=day(10), evaluation=Evaluation.VERY_POSITIVE)
    own[5].evaluation = Evaluation.POSITIVE
    own[5].canceled = True
    factories.LogEntryFactory(contact=people[6], date=datetime.date(2026, 2, 20), **answer)
    factories.LogEntryFactory(contact=people[7], date=day(2), **answer)
    own[8].attempt_failed = True
    for entry in own.values():
        entry.save()
    return logged


@pytest.mark.parametrize(
    ("response", "evaluations", "expected"),
    [
        (FollowUpResponse.ALL, [], {1, 2, 3, 4, 5, 6}),
        (FollowUpResponse.ANSWERED, [], {1}),
        (FollowUpResponse.NOT_ANSWERED, [], {2, 3, 4, 5, 6}),
        (FollowUpResponse.EVALUATED, ["positive"], {3}),
        (FollowUpResponse.EVALUATED, ["positive", "very_positive"], {3, 4}),
        (FollowUpResponse.EVALUATED, ["negative"], {4}),
        (FollowUpResponse.ATTEMPT_FAILED, [], {2}),
    ],
)
def test_follow_up_takes_the_contacts_by_their_response(
    owner_client, owner, mailing, response, evaluations, expected
):
    page = owner_client.post(
        reverse("segments:logged_segment_follow_up", args=[mailing.pk]),
        {"response": response, "evaluation": evaluations},
        follow=True,
    )
    follow_up = Segment.objects.exclude(pk=mailing.segment_id).get()
    assert contacts_on(follow_up) == {f"P{n}" for n in expected}
    assert follow_up.description == "Follow-up on segment SEG00050"
    assert follow_up.salesperson == owner.salesperson
    assert follow_up.created_by == owner
    assert follow_up.template is None
    text = page.content.decode()
    contacts = "contact" if len(expected) == 1 else "contacts"
    assert f"Follow-up segment {follow_up.number} created with {len(expected)} {contacts}" in text
    step = follow_up.steps.get()
    assert (step.action, step.added, step.lines_after) == (
        StepAction.FOLLOW_UP,
        len(expected),
        len(expected),
    )
    assert step.described.startswith(f"Logged segment {mailing.pk}")


def test_a_follow_up_is_one_insert_of_lines(owner, mailing):
    with CaptureQueriesContext(connection) as queries:
        result = services.logged_segment_follow_up(
            logged=mailing, user=owner, response=FollowUpResponse.NOT_ANSWERED
        )
    inserts = [q for q in queries if 'INSERT INTO "segments_segmentline"' in q["sql"]]
    assert len(inserts) == 1
    assert result.added == 5


def test_going_back_on_a_follow_up_empties_it(owner, mailing):
    result = services.logged_segment_follow_up(
        logged=mailing, user=owner, response=FollowUpResponse.ANSWERED
    )
    services.segment_go_back(segment=result.segment, user=owner, step=1)
    assert not result.segment.lines.exists()


def test_follow_up_of_those_evaluated_needs_an_evaluation(owner_client, mailing):
    response = owner_client.post(
        reverse("segments:logged_segment_follow_up", args=[mailing.pk]),
        {"response": FollowUpResponse.EVALUATED},
    )
    assert response.status_code == 200
    assert "evaluation" in response.context["form"].errors
    assert Segment.objects.count() == 1


def test_follow_up_without_segment_nos_says_where_to_set_it_up(owner_client, mailing):
    from contacts.models import MarketingSetup

    MarketingSetup.objects.update(segment_nos=None)
    response = owner_client.post(
        reverse("segments:logged_segment_follow_up", args=[mailing.pk]), {"response": "all"}
    )
    assert response.status_code == 200
    assert "Segment Nos. in Marketing Setup" in str(response.context["form"].non_field_errors())
    assert Segment.objects.count() == 1


def test_the_logged_segment_page_offers_the_follow_up(owner_client, mailing):
    html = owner_client.get(mailing.get_absolute_url()).content.decode()
    assert reverse("segments:logged_segment_follow_up", args=[mailing.pk]) in html


def test_log_with_a_follow_up_still_takes_every_contact_and_records_the_step(owner, mailing):
    result = services.logged_segment_follow_up(logged=mailing, user=owner)
    assert result.added == 6
    assert result.segment.steps.get().described.endswith("All its contacts")
