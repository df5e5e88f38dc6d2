"""Building a segment: create, edit the header, add contacts by hand, by criteria and by reuse,
remove lines; who may do it (issue 5)."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.models import ContactType, CorrespondenceType
from segments.models import Segment, SegmentLine, SegmentStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    return factories.MarketingSetupFactory()


@pytest.fixture
def segment(owner):
    return factories.SegmentFactory(
        number="SEG00001",
        description="Spring mailing",
        salesperson=owner.salesperson,
        created_by=owner,
    )


def url(name, segment, *args):
    return reverse(f"segments:{name}", args=[segment.pk, *args])


def contacts_on(segment) -> set:
    return set(segment.lines.values_list("contact__number", flat=True))


# --- Create -----------------------------------------------------------------------------------


def test_new_segment_takes_its_number_from_segment_nos(owner_client, owner, setup):
    response = owner_client.post(
        reverse("segments:segment_create"),
        {"description": "Autumn fair", "date": "2026-10-01", "salesperson": owner.salesperson.pk},
    )
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == segment.get_absolute_url()
    assert segment.number == "SEG00001"
    assert segment.description == "Autumn fair"
    assert segment.date == datetime.date(2026, 10, 1)
    assert segment.created_by == owner
    assert segment.status == SegmentStatus.OPEN
    owner_client.post(reverse("segments:segment_create"), {"description": "Second"})
    assert Segment.objects.filter(number="SEG00002").exists()


def test_new_segment_without_segment_nos_says_where_to_set_it_up(owner_client):
    page = owner_client.get(reverse("segments:segment_create"))
    assert b"Segment Nos. in Marketing Setup" in page.content
    response = owner_client.post(reverse("segments:segment_create"), {"description": "X"})
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert "Segment Nos. in Marketing Setup" in errors[0]
    assert "Marketing Setup page" in errors[0]
    assert response.content.decode().count("no number series is set there") == 1
    assert not Segment.objects.exists()


def test_new_segment_form_refuses_a_blocked_salesperson(owner_client, setup):
    blocked = factories.SalespersonFactory(blocked=True)
    response = owner_client.post(
        reverse("segments:segment_create"), {"description": "X", "salesperson": blocked.pk}
    )
    assert "salesperson" in response.context["form"].errors
    assert not Segment.objects.exists()


def test_new_segment_defaults_to_today_and_the_users_salesperson(owner_client, owner, setup):
    form = owner_client.get(reverse("segments:segment_create")).context["form"]
    assert form.initial["salesperson"] == owner.salesperson
    assert form.initial["date"] == timezone.localdate()


def test_user_without_role_cannot_create_a_segment(client, outsider, setup):
    client.force_login(outsider)
    assert client.get(reverse("segments:segment_create")).status_code == 403
    assert client.post(reverse("segments:segment_create"), {"description": "X"}).status_code == 403
    assert not Segment.objects.exists()


# --- Header -------------------------------------------------------------------------------------


def test_editing_description_date_and_salesperson(owner_client, segment, colleague):
    response = owner_client.post(
        url("segment_edit", segment),
        {
            "description": "Summer mailing",
            "date": "2026-07-01",
            "salesperson": colleague.salesperson.pk,
            "unit_cost": "0",
            "unit_duration": "0",
        },
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.description == "Summer mailing"
    assert segment.date == datetime.date(2026, 7, 1)
    assert segment.salesperson == colleague.salesperson


def header_data(segment, **changes) -> dict:
    data = {
        "description": segment.description,
        "date": segment.date.isoformat() if segment.date else "",
        "salesperson": segment.salesperson_id or "",
        "interaction_description": segment.interaction_description,
        "correspondence_type": segment.correspondence_type,
        "information_flow": segment.information_flow,
        "initiated_by": segment.initiated_by,
        "unit_cost": str(segment.unit_cost),
        "unit_duration": str(segment.unit_duration),
        "campaign": segment.campaign_id or "",
        "subject": segment.subject,
        "body": segment.body,
    }
    data.update(changes)
    return data


def test_header_change_says_which_lines_follow_before_applying(owner_client, segment):
    plain = factories.SegmentLineFactory(segment=segment, unit_cost=0)
    factories.SegmentLineFactory(segment=segment, unit_cost=0)
    special = factories.SegmentLineFactory(
        segment=segment, personalised=True, unit_cost=Decimal("9")
    )
    response = owner_client.post(url("segment_edit", segment), header_data(segment, unit_cost="4"))
    assert response.status_code == 200
    follow = response.context["follow"]
    assert (follow["following"], follow["personalised"]) == (2, 1)
    assert special.contact.name.encode() in response.content
    assert b"2 lines that are not personalised will follow this change" in response.content
    plain.refresh_from_db()
    assert plain.unit_cost == 0  # nothing applied yet

    response = owner_client.post(
        url("segment_edit", segment), {**header_data(segment, unit_cost="4"), "apply": "1"}
    )
    assert response.status_code == 302
    assert set(segment.lines.values_list("unit_cost", flat=True)) == {
        Decimal("4"),
        Decimal("9"),
    }
    special.refresh_from_db()
    assert special.unit_cost == Decimal("9")


def test_header_change_of_the_salesperson_reaches_lines_that_follow(
    owner_client, segment, colleague
):
    line = factories.SegmentLineFactory(segment=segment, salesperson=segment.salesperson)
    owner_client.post(
        url("segment_edit", segment),
        {**header_data(segment, salesperson=colleague.salesperson.pk), "apply": "1"},
    )
    line.refresh_from_db()
    assert line.salesperson == colleague.salesperson


def test_header_change_of_the_description_only_applies_at_once(owner_client, segment):
    factories.SegmentLineFactory(segment=segment)
    response = owner_client.post(
        url("segment_edit", segment), header_data(segment, description="New")
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.description == "New"


def test_header_form_refuses_negative_cost_and_unknown_merge_fields(owner_client, segment):
    response = owner_client.post(
        url("segment_edit", segment), header_data(segment, unit_cost="-1", body="Hi {{ nope }}")
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"unit_cost", "body"}


# --- Adding contacts by hand ---------------------------------------------------------------------


def test_add_contact_by_hand_starts_from_the_header(owner_client, segment):
    template = factories.TemplateFactory(unit_cost=Decimal("3.00"))
    Segment.objects.filter(pk=segment.pk).update(
        template=template, interaction_description="Visit", unit_cost=Decimal("3.00")
    )
    person = factories.PersonFactory()
    response = owner_client.post(url("line_add", segment), {"contact": person.number})
    assert response.status_code == 302
    line = SegmentLine.objects.get()
    assert (line.contact, line.template, line.interaction_description) == (
        person,
        template,
        "Visit",
    )
    assert line.unit_cost == Decimal("3.00")
    assert line.salesperson == segment.salesperson
    assert line.personalised is False


def test_adding_a_contact_twice_keeps_one_line(owner_client, segment):
    person = factories.PersonFactory()
    owner_client.post(url("line_add", segment), {"contact": person.number})
    response = owner_client.post(url("line_add", segment), {"contact": person.number}, follow=True)
    assert segment.lines.count() == 1
    assert b"is on the segment already" in response.content


def test_excluded_contact_added_by_hand_comes_with_a_visible_warning(owner_client, segment):
    person = factories.PersonFactory(exclude_from_segment=True)
    response = owner_client.post(url("line_add", segment), {"contact": person.number}, follow=True)
    assert contacts_on(segment) == {person.number}
    assert b"message-warning" in response.content
    assert b"is marked Exclude from Segment" in response.content


def test_privacy_blocked_contact_is_never_added_by_hand(owner_client, segment):
    person = factories.PersonFactory(privacy_blocked=True)
    response = owner_client.post(url("line_add", segment), {"contact": person.number})
    assert response.status_code == 400
    assert "privacy blocked" in str(response.context["add_form"].errors["contact"])
    assert not segment.lines.exists()


def test_unknown_contact_number_is_an_error_next_to_the_field(owner_client, segment):
    response = owner_client.post(url("line_add", segment), {"contact": "NOPE"})
    assert response.status_code == 400
    assert "There is no contact with number NOPE" in str(response.context["add_form"].errors)


# --- Criteria ------------------------------------------------------------------------------------


@pytest.fixture
def book(db):
    """Contacts that differ in one criterion each."""
    north = factories.SalespersonFactory(code="NORTH")
    acme = factories.CompanyFactory(number="ACME", city="Utrecht", country="NL")
    other = factories.CompanyFactory(number="OTHER", city="Gent", country="BE")
    return {
        "acme": acme,
        "other": other,
        "ann": factories.PersonFactory(number="ANN", company=acme, city="Utrecht", language="nl"),
        "bob": factories.PersonFactory(
            number="BOB",
            company=other,
            city="Berlin",
            country="DE",
            language="de",
            salesperson=north,
        ),
        "cat": factories.PersonFactory(
            number="CAT",
            company=other,
            city="Paris",
            country="FR",
            correspondence_type=CorrespondenceType.EMAIL,
        ),
        "excluded": factories.PersonFactory(
            number="EXCL", company=other, exclude_from_segment=True
        ),
        "blocked": factories.PersonFactory(number="PRIV", company=other, privacy_blocked=True),
        "north": north,
    }


def criteria(client, segment, action, **data):
    return client.post(url("segment_criteria", segment, action), data)


def test_add_contacts_without_criteria_adds_everyone_but_excluded_and_privacy_blocked(
    owner_client, segment, book
):
    response = criteria(owner_client, segment, "add")
    assert response.status_code == 302
    assert contacts_on(segment) == {"ACME", "OTHER", "ANN", "BOB", "CAT"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"type": ContactType.COMPANY}, {"ACME", "OTHER"}),
        ({"company": "ACME"}, {"ACME", "ANN"}),
        ({"salesperson": "north"}, {"BOB"}),
        ({"city": "berlin"}, {"BOB"}),
        ({"country": "fr"}, {"CAT"}),
        ({"language": "nl"}, {"ANN"}),
        ({"correspondence_type": "email"}, {"CAT"}),
        ({"city": "Utrecht", "type": ContactType.PERSON}, {"ANN"}),
    ],
)
def test_add_contacts_by_each_criterion(owner_client, segment, book, data, expected):
    if data.get("salesperson") == "north":
        data = {**data, "salesperson": book["north"].pk}
    criteria(owner_client, segment, "add", **data)
    assert contacts_on(segment) == expected


def test_blank_correspondence_type_criterion_means_contacts_without_a_preference(
    owner_client, segment, book
):
    criteria(owner_client, segment, "add", correspondence_type="blank", type="person")
    assert contacts_on(segment) == {"ANN", "BOB"}


def test_has_and_has_no_interaction_count_non_canceled_entries_between_dates(
    owner_client, segment, book
):
    call = factories.TemplateFactory(code="CALL")
    other = factories.TemplateFactory(code="OTHER")
    day = datetime.date(2026, 3, 15)
    factories.LogEntryFactory(contact=book["ann"], template=call, date=day)
    factories.LogEntryFactory(contact=book["bob"], template=call, date=day, canceled=True)
    factories.LogEntryFactory(contact=book["cat"], template=other, date=day)
    factories.LogEntryFactory(contact=book["acme"], template=call, date=datetime.date(2025, 1, 1))
    window = {"template": call.pk, "date_from": "2026-03-01", "date_to": "2026-03-31"}
    criteria(owner_client, segment, "add", interaction="has", **window)
    assert contacts_on(segment) == {"ANN"}
    criteria(owner_client, segment, "add", interaction="has_no", **window)
    assert contacts_on(segment) == {"ACME", "OTHER", "ANN", "BOB", "CAT"}


def test_reduce_removes_matching_lines_and_refine_keeps_only_them(owner_client, segment, book):
    criteria(owner_client, segment, "add")
    criteria(owner_client, segment, "reduce", country="DE")
    assert "BOB" not in contacts_on(segment)
    criteria(owner_client, segment, "refine", company="ACME")
    assert contacts_on(segment) == {"ACME", "ANN"}


def test_reduce_matches_excluded_contacts_added_by_hand(owner_client, segment, book):
    owner_client.post(url("line_add", segment), {"contact": "EXCL"})
    criteria(owner_client, segment, "reduce", type="person")
    assert contacts_on(segment) == set()


def test_add_by_criteria_is_one_insert_statement(owner_client, segment, book):
    factories.PersonFactory.create_batch(20)
    with CaptureQueriesContext(connection) as queries:
        criteria(owner_client, segment, "add")
    inserts = [q["sql"] for q in queries if q["sql"].lstrip().startswith("INSERT")]
    line_inserts = [sql for sql in inserts if "segments_segmentline" in sql.split("(")[0]]
    assert len(line_inserts) == 1  # besides the step's own row
    assert len(inserts) == 2
    assert "ON CONFLICT" in line_inserts[0]
    assert segment.lines.count() == 5 + 20 * 2  # the book's five, 20 persons with companies


def test_adding_by_criteria_again_adds_only_contacts_not_on_the_segment(
    owner_client, segment, book
):
    criteria(owner_client, segment, "add", type=ContactType.COMPANY)
    criteria(owner_client, segment, "add")
    assert contacts_on(segment) == {"ACME", "OTHER", "ANN", "BOB", "CAT"}
    assert segment.lines.count() == 5


@pytest.mark.django_db(transaction=True)
def test_two_users_adding_the_same_contacts_at_once_give_one_line_each(owner, book):
    """The segment's row lock makes the second adder wait for the first to commit; its
    statement then skips the contacts already there. Two real connections, started together."""
    from segments import services
    from segments.forms import Criteria

    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    start = threading.Barrier(2)
    added, errors = [], []

    def add():
        try:
            start.wait(timeout=10)
            step = services.segment_add_contacts(
                segment=segment, user=owner, criteria=Criteria.from_data({})
            )
            added.append(step.added)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(added) == [0, 5]
    assert contacts_on(segment) == {"ACME", "OTHER", "ANN", "BOB", "CAT"}


def test_criteria_form_bad_input_is_shown_next_to_the_fields(owner_client, segment, book):
    response = criteria(
        owner_client,
        segment,
        "add",
        company="ANN",
        template=factories.TemplateFactory().pk,
        date_from="2026-02-01",
        date_to="2026-01-01",
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    # An interaction condition without "has" or "has no" would be ignored: it is an error.
    assert set(errors) == {"company", "interaction", "date_to"}
    assert not segment.lines.exists()


def test_unknown_criteria_action_is_a_404(owner_client, segment):
    assert owner_client.get(url("segment_criteria", segment, "explode")).status_code == 404


# --- Reuse, remove -------------------------------------------------------------------------------


def test_reuse_segment_appends_the_contacts_of_a_logged_segment_respecting_exclusions(
    owner_client, segment, book
):
    logged = factories.LoggedSegmentFactory(segment__number="SEG00090")
    for key in ("ann", "bob", "excluded", "blocked"):
        factories.SegmentLineFactory(segment=logged.segment, contact=book[key])
    factories.SegmentLineFactory(segment=segment, contact=book["ann"])
    response = owner_client.post(url("segment_reuse", segment), {"logged_segment": "SEG00090"})
    assert response.status_code == 302
    assert contacts_on(segment) == {"ANN", "BOB"}
    owner_client.post(url("segment_reuse", segment), {"logged_segment": str(logged.pk)})
    assert segment.lines.count() == 2


def test_reuse_of_an_unknown_logged_segment_is_a_form_error(owner_client, segment):
    response = owner_client.post(url("segment_reuse", segment), {"logged_segment": "SEG99999"})
    assert "There is no logged segment SEG99999" in str(response.context["form"].errors)


def test_remove_selected_lines(owner_client, segment):
    keep, drop1, drop2 = factories.SegmentLineFactory.create_batch(3, segment=segment)
    other = factories.SegmentLineFactory()
    response = owner_client.post(
        url("lines_remove", segment), {"line": [drop1.pk, drop2.pk, other.pk]}
    )
    assert response.status_code == 302
    assert list(segment.lines.all()) == [keep]
    assert SegmentLine.objects.filter(pk=other.pk).exists()  # another segment's line stays


def test_delete_segment_asks_then_removes_it_with_its_lines(owner_client, segment):
    factories.SegmentLineFactory.create_batch(2, segment=segment)
    page = owner_client.get(url("segment_delete", segment))
    assert b"its 2 lines will be deleted" in page.content
    assert owner_client.post(url("segment_delete", segment)).status_code == 302
    assert not Segment.objects.filter(pk=segment.pk).exists()
    assert not SegmentLine.objects.exists()


def test_segment_totals_count_lines_cost_and_duration(owner_client, segment):
    factories.SegmentLineFactory(segment=segment, unit_cost=Decimal("2.50"), unit_duration=10)
    factories.SegmentLineFactory(segment=segment, unit_cost=Decimal("1.50"), unit_duration=5)
    totals = owner_client.get(segment.get_absolute_url()).context["totals"]
    assert (totals.line_count, totals.total_cost, totals.total_duration) == (
        2,
        Decimal("4.00"),
        Decimal("15"),
    )


# --- Who may change a segment --------------------------------------------------------------------


def change_requests(segment, line):
    """Every request that changes a segment: (method, url, data)."""
    return [
        ("get", url("segment_edit", segment), None),
        ("post", url("segment_edit", segment), header_data(segment, description="Hacked")),
        ("get", url("segment_delete", segment), None),
        ("post", url("segment_delete", segment), {}),
        ("post", url("line_add", segment), {"contact": "ANN"}),
        ("get", url("segment_criteria", segment, "add"), None),
        ("post", url("segment_criteria", segment, "add"), {}),
        ("post", url("segment_criteria", segment, "reduce"), {}),
        ("post", url("segment_criteria", segment, "refine"), {}),
        ("get", url("segment_reuse", segment), None),
        ("post", url("lines_remove", segment), {"line": [line.pk]}),
        ("post", url("segment_go_back", segment), {"step": "1"}),
        ("get", url("segment_reuse_criteria", segment), None),
        ("post", url("segment_reuse_criteria", segment), {"saved": "ANY"}),
        ("get", url("line_edit", segment, line.pk), None),
        ("post", url("line_edit", segment, line.pk), {"unit_cost": "9", "unit_duration": "1"}),
        ("post", url("line_reset", segment, line.pk), {}),
        ("post", url("segment_create_interaction", segment), {}),
        ("get", url("segment_log", segment), None),
        ("post", url("segment_log", segment), {}),
    ]


@pytest.mark.parametrize("persona", ["colleague", "outsider"])
def test_other_users_can_read_a_segment_but_not_change_it(client, segment, book, persona, request):
    user = request.getfixturevalue(persona)
    line = factories.SegmentLineFactory(segment=segment, contact=book["bob"])
    client.force_login(user)
    page = client.get(segment.get_absolute_url())
    assert page.status_code == 200
    assert page.context["can_change"] is False
    assert b"Remove Selected Lines" not in page.content
    for method, target, data in change_requests(segment, line):
        response = getattr(client, method)(target, data)
        assert response.status_code == 403, (method, target)
    segment.refresh_from_db()
    assert segment.description == "Spring mailing"
    assert list(segment.lines.all()) == [line]
    line.refresh_from_db()
    assert line.personalised is False


def test_the_salespersons_user_may_change_a_segment_someone_else_created(client, owner, colleague):
    segment = factories.SegmentFactory(salesperson=colleague.salesperson, created_by=owner)
    client.force_login(colleague)
    assert client.get(url("segment_edit", segment)).status_code == 200


def test_a_marketing_manager_may_change_any_segment(manager_client, segment, book):
    response = manager_client.post(url("line_add", segment), {"contact": "ANN"})
    assert response.status_code == 302
    assert contacts_on(segment) == {"ANN"}


def test_a_logged_segment_is_frozen_for_everyone(manager_client):
    logged = factories.LoggedSegmentFactory()
    line = factories.SegmentLineFactory(segment=logged.segment)
    for method, target, data in change_requests(logged.segment, line):
        response = getattr(manager_client, method)(target, data)
        assert response.status_code == 302, (method, target)
        assert response["Location"] == logged.get_absolute_url()
    line.refresh_from_db()
    assert SegmentLine.objects.filter(pk=line.pk).exists()
    page = manager_client.get(logged.segment.get_absolute_url())
    assert page.context["can_change"] is False


def test_reuse_segment_picks_from_logged_segments_searchable_by_number_or_description(
    owner_client, segment, book
):
    autumn = factories.LoggedSegmentFactory(
        segment__number="SEG00091", segment_no="SEG00091", description="Autumn fair", entry_count=2
    )
    factories.LoggedSegmentFactory(segment_no="SEG00092", description="Spring mailing")
    factories.SegmentLineFactory(segment=autumn.segment, contact=book["ann"])

    listed = owner_client.get(url("segment_reuse", segment)).content.decode()
    searched = owner_client.get(url("segment_reuse", segment), {"q": "autumn"}).content.decode()
    by_number = owner_client.get(url("segment_reuse", segment), {"q": "0092"}).content.decode()
    response = owner_client.post(url("segment_reuse", segment), {"logged_segment": autumn.pk})

    assert "Autumn fair" in listed
    assert "Spring mailing" in listed
    assert f'name="logged_segment" value="{autumn.pk}"' in listed
    assert "Autumn fair" in searched
    assert "Spring mailing" not in searched
    assert "Spring mailing" in by_number
    assert "Autumn fair" not in by_number
    assert response.status_code == 302
    assert contacts_on(segment) == {"ANN"}
