"""`Log` a segment: validation first, then one transaction; exactly once; Logged Segments
(issue 5)."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, CorrespondenceType, NumberSeries
from interactions.models import DeliveryStatus, InteractionLogEntry
from segments import services
from segments.models import LoggedSegment, Segment, SegmentLine, SegmentStatus
from tests import factories

pytestmark = pytest.mark.django_db


# --- building a segment that can be logged ---------------------------------------------------


def assign(segment, user, template, **header) -> None:
    """What Create Interaction's Finish does, without the wizard."""
    services.segment_update(
        segment=segment,
        user=user,
        data={
            "template": template,
            "interaction_description": template.description,
            "correspondence_type": template.correspondence_type,
            "information_flow": template.information_flow,
            "initiated_by": template.initiated_by,
            "unit_cost": template.unit_cost,
            "unit_duration": template.unit_duration,
            **header,
        },
    )


def add(segment, user, *contacts) -> None:
    for contact in contacts:
        services.segment_add_contact(segment=segment, user=user, contact=contact)


@pytest.fixture
def setup(db):
    return factories.MarketingSetupFactory()


@pytest.fixture
def call(db):
    return factories.TemplateFactory(code="CALL", description="Phone call", unit_cost=Decimal("2"))


@pytest.fixture
def segment(owner, setup):
    return services.segment_create(
        user=owner,
        description="Spring calls",
        date=datetime.date(2026, 4, 1),
        salesperson=owner.salesperson,
    )


@pytest.fixture
def ready(segment, owner, call):
    """A segment of a company and two persons with an interaction assigned."""
    company = factories.CompanyFactory(number="ACME")
    ann = factories.PersonFactory(number="ANN", company=company)
    bob = factories.PersonFactory(number="BOB", company=company)
    add(segment, owner, company, ann, bob)
    assign(segment, owner, call)
    segment.refresh_from_db()
    return segment


def log_url(segment) -> str:
    return reverse("segments:segment_log", args=[segment.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def nothing_written(segment) -> None:
    assert not InteractionLogEntry.objects.exists()
    assert not LoggedSegment.objects.exists()
    segment.refresh_from_db()
    assert segment.status == SegmentStatus.OPEN
    assert Segment.objects.count() == 1


# --- what Log writes -----------------------------------------------------------------------


def test_log_segment_writes_one_entry_per_line(owner_client, owner, ready, call):
    letter = factories.TemplateFactory(code="LETTER", description="Letter")
    ann_line = ready.lines.get(contact__number="ANN")
    services.segment_line_personalise(
        line=ann_line,
        user=owner,
        data={"template": letter, "date": datetime.date(2026, 4, 9)},
        changed=["template", "date"],
    )
    before = timezone.localtime()
    response = owner_client.post(log_url(ready), {})
    logged = LoggedSegment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == logged.get_absolute_url()
    assert "Segment SEG00001 logged as logged segment" in messages_of(response)[0]

    entries = {e.contact.number: e for e in InteractionLogEntry.objects.select_related("contact")}
    assert set(entries) == {"ACME", "ANN", "BOB"}
    bob, ann, acme = entries["BOB"], entries["ANN"], entries["ACME"]
    assert bob.contact_company.number == "ACME"
    assert acme.contact_company == acme.contact  # a company is its own company
    assert (bob.template, bob.group, bob.description) == (call, call.group, "Phone call")
    assert (ann.template, ann.group, ann.description) == (letter, letter.group, "Letter")
    assert bob.date == datetime.date(2026, 4, 1)  # the segment's date
    assert ann.date == datetime.date(2026, 4, 9)  # its own, being personalised
    assert before.replace(second=0, microsecond=0).time() <= bob.time
    assert bob.salesperson == owner.salesperson
    assert (bob.information_flow, bob.initiated_by) == (call.information_flow, call.initiated_by)
    assert (bob.cost, bob.duration) == (Decimal("2"), call.unit_duration)
    assert (bob.segment_no, bob.logged_segment) == ("SEG00001", logged)
    assert (bob.logged_by, bob.canceled, bob.delivery_status) == (owner, False, "")

    assert (logged.segment, logged.segment_no, logged.description) == (
        ready,
        "SEG00001",
        "Spring calls",
    )
    assert (logged.entry_count, logged.logged_by, logged.canceled) == (3, owner, False)
    ready.refresh_from_db()
    assert ready.status == SegmentStatus.LOGGED
    segments = owner_client.get(reverse("segments:segment_list")).context["page"].object_list
    assert ready not in segments
    frozen = owner_client.get(ready.get_absolute_url())
    assert frozen.context["logged_segment"] == logged
    assert frozen.context["can_change"] is False


def test_log_is_one_insert_select_whatever_the_number_of_lines(owner_client, owner, ready):
    add(ready, owner, *factories.PersonFactory.create_batch(10))
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        owner_client.post(log_url(ready), {})
    entry_inserts = [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().startswith('INSERT INTO "interactions_interactionlogentry"')
    ]
    assert len(entry_inserts) == 1
    assert "SELECT" in entry_inserts[0]
    assert InteractionLogEntry.objects.count() == 13


def test_email_lines_are_marked_pending_only_when_sending_attachments(owner, setup):
    mail = factories.TemplateFactory(code="MAIL", correspondence_type=CorrespondenceType.EMAIL)
    factories.TemplateContentFactory(template=mail, subject="Hi", body="Dear {{ contact_name }}")
    letter_person = factories.PersonFactory(correspondence_type=CorrespondenceType.HARD_COPY)
    mail_person = factories.PersonFactory(email="mail@example.com")

    def logged_segment(send: bool):
        segment = services.segment_create(
            user=owner, description="Mail", date=None, salesperson=owner.salesperson
        )
        add(segment, owner, letter_person, mail_person)
        assign(segment, owner, mail, subject="Hi", body="Dear {{ contact_name }}")
        return services.segment_log(segment=segment, user=owner, send_attachments=send)

    quiet = logged_segment(send=False)
    assert set(quiet.logged.entries.values_list("delivery_status", flat=True)) == {""}
    sent = logged_segment(send=True)
    by_contact = {e.contact_id: e for e in sent.logged.entries.all()}
    assert by_contact[mail_person.pk].delivery_status == DeliveryStatus.PENDING
    assert by_contact[mail_person.pk].correspondence_type == CorrespondenceType.EMAIL
    assert by_contact[mail_person.pk].body == "Dear {{ contact_name }}"  # merged when sent
    assert by_contact[letter_person.pk].delivery_status == ""
    assert by_contact[letter_person.pk].correspondence_type == CorrespondenceType.HARD_COPY
    assert sent.delivering == 1
    assert sent.logged.entries.first().date == timezone.localdate()  # no segment date: today


def test_recorded_email_to_a_contact_without_address_is_logged_with_blank_type(owner, segment):
    mail = factories.TemplateFactory(correspondence_type=CorrespondenceType.EMAIL)
    add(segment, owner, factories.PersonFactory(email=""))
    assign(segment, owner, mail)
    result = services.segment_log(segment=segment, user=owner)
    assert result.logged.entries.get().correspondence_type == ""


def test_attachment_is_stored_once_and_shared_by_the_entries(owner, segment):
    mail = factories.TemplateFactory(correspondence_type=CorrespondenceType.EMAIL)
    add(segment, owner, *factories.PersonFactory.create_batch(3))
    assign(segment, owner, mail, subject="Brochure")
    segment.refresh_from_db()
    segment.attachment.save("brochure.pdf", ContentFile(b"%PDF-1.4"), save=True)
    result = services.segment_log(segment=segment, user=owner, send_attachments=True)
    names = set(result.logged.entries.values_list("attachment", flat=True))
    assert names == {segment.attachment.name}
    assert result.delivering == 3


def test_entries_keep_the_name_the_segments_attachment_was_uploaded_with(owner, segment):
    mail = factories.TemplateFactory(correspondence_type=CorrespondenceType.EMAIL)
    add(segment, owner, *factories.PersonFactory.create_batch(2))
    assign(segment, owner, mail, subject="Brochure")
    segment.refresh_from_db()
    segment.attachment_name = "Brochure (spring).pdf"
    segment.attachment.save("Brochure (spring).pdf", ContentFile(b"%PDF-1.4"), save=True)
    result = services.segment_log(segment=segment, user=owner)
    assert {e.attachment_filename for e in result.logged.entries.all()} == {"Brochure (spring).pdf"}


def test_send_attachments_is_offered_only_when_a_line_is_email(owner_client, owner, ready):
    form = owner_client.get(log_url(ready)).context["form"]
    assert "send_attachments" not in form.fields
    SegmentLine.objects.filter(pk=ready.lines.first().pk).update(
        correspondence_type=CorrespondenceType.EMAIL
    )
    form = owner_client.get(log_url(ready)).context["form"]
    assert "send_attachments" in form.fields


# --- validation first ---------------------------------------------------------------------------


def test_validation_lists_every_problem_line_and_writes_nothing(owner_client, owner, ready):
    NumberSeries.objects.all()  # the series must not move either
    last_number = NumberSeries.objects.get(code="SEG").last_number
    blocked = factories.SalespersonFactory(code="GONE", blocked=True)
    mail = factories.TemplateFactory(correspondence_type=CorrespondenceType.EMAIL)
    lines = {line.contact.number: line for line in ready.lines.select_related("contact")}
    SegmentLine.objects.filter(pk=lines["ACME"].pk).update(salesperson=None)
    SegmentLine.objects.filter(pk=lines["ANN"].pk).update(salesperson=blocked, template=None)
    Contact.objects.filter(number="BOB").update(privacy_blocked=True, email="")
    SegmentLine.objects.filter(pk=lines["BOB"].pk).update(
        template=mail, correspondence_type=CorrespondenceType.EMAIL
    )
    Segment.objects.filter(pk=ready.pk).update(description="")

    response = owner_client.post(log_url(ready), {"send_attachments": "on"})
    assert response.status_code == 400
    problems = response.context["problems"]
    assert problems.segment_problems == ["Enter a description for the segment."]
    reasons = {line.contact_number: line.reasons for line in problems.lines}
    assert reasons == {
        "ACME": ["no salesperson"],
        "ANN": ["salesperson GONE is blocked", "no interaction template"],
        "BOB": [
            "the contact is privacy blocked",
            "the contact has no email address to deliver to",
            "an email to deliver needs a subject or a body",
        ],
    }
    assert problems.line_count == 3
    assert b"Nothing was logged" in response.content
    nothing_written(ready)
    assert NumberSeries.objects.get(code="SEG").last_number == last_number


def test_a_line_whose_salesperson_template_or_campaign_is_gone_is_a_problem_line(
    owner_client, owner, ready
):
    """A line's salesperson, template and campaign have no database constraint (bulk speed,
    see SegmentLine); a row deleted behind Django's PROTECT (raw SQL, a race) must stop `Log`
    with a clear reason, never drop the line or fail at commit."""
    gone_template = factories.TemplateFactory(code="OLD")
    gone_salesperson = factories.SalespersonFactory(code="LEFT")
    gone_campaign = factories.CampaignFactory(number="CP-OLD")
    lines = {line.contact.number: line for line in ready.lines.select_related("contact")}
    SegmentLine.objects.filter(pk=lines["ANN"].pk).update(
        template=gone_template, salesperson=gone_salesperson, personalised=True
    )
    SegmentLine.objects.filter(pk=lines["BOB"].pk).update(campaign=gone_campaign)
    with connection.cursor() as cursor:
        for row in (gone_template, gone_salesperson, gone_campaign):
            cursor.execute(f"DELETE FROM {row._meta.db_table} WHERE id = %s", [row.pk])

    response = owner_client.post(log_url(ready))
    assert response.status_code == 400
    reasons = {line.contact_number: line.reasons for line in response.context["problems"].lines}
    assert reasons == {
        "ANN": [
            "its salesperson no longer exists",
            "its interaction template no longer exists",
        ],
        "BOB": ["its campaign no longer exists"],
    }
    nothing_written(ready)


def test_an_empty_segment_without_interaction_cannot_be_logged(owner_client, segment):
    response = owner_client.post(log_url(segment), {})
    assert response.context["problems"].segment_problems == [
        "The segment has no lines: add contacts first.",
        "No interaction is assigned to the segment: use Create Interaction on it.",
    ]
    nothing_written(segment)


def test_follow_up_needs_segment_nos(owner_client, ready, setup):
    setup.segment_nos = None
    setup.save()
    response = owner_client.post(log_url(ready), {"create_follow_up": "on"})
    (problem,) = response.context["problems"].segment_problems
    assert problem.startswith("A follow-up segment needs a number")
    assert "Segment Nos. in Marketing Setup" in problem
    nothing_written(ready)


def test_problem_lines_beyond_the_first_thousand_are_counted(owner, segment, call, monkeypatch):
    monkeypatch.setattr(services, "MAX_PROBLEM_LINES", 2)
    add(segment, owner, *factories.PersonFactory.create_batch(3))
    assign(segment, owner, call, salesperson=None)
    with pytest.raises(services.SegmentLogProblems) as found:
        services.segment_log(segment=segment, user=owner)
    assert (len(found.value.lines), found.value.line_count, found.value.more_lines) == (2, 3, 1)


# --- follow-up -------------------------------------------------------------------------------


def test_follow_up_segment_has_the_same_contacts_respecting_exclusions(owner_client, owner, ready):
    excluded = factories.PersonFactory(number="EXCL", exclude_from_segment=True)
    services.segment_add_contact(segment=ready, user=owner, contact=excluded)
    response = owner_client.post(log_url(ready), {"create_follow_up": "on"})
    follow_up = Segment.objects.get(number="SEG00002")
    assert f"Follow-up segment {follow_up.number} created" in " ".join(messages_of(response))
    assert follow_up.description == "Follow-up on segment SEG00001"
    assert follow_up.status == SegmentStatus.OPEN
    assert follow_up.salesperson == ready.salesperson
    assert follow_up.template is None
    assert set(follow_up.lines.values_list("contact__number", flat=True)) == {"ACME", "ANN", "BOB"}
    assert set(follow_up.lines.values_list("template", flat=True)) == {None}
    assert InteractionLogEntry.objects.count() == 4  # the excluded contact was logged, by hand
    segments = owner_client.get(reverse("segments:segment_list")).context["page"].object_list
    assert [s.number for s in segments] == ["SEG00002"]


# --- exactly once -------------------------------------------------------------------------------


def test_replayed_log_post_says_already_logged(owner_client, ready):
    owner_client.post(log_url(ready), {})
    logged = LoggedSegment.objects.get()
    response = owner_client.post(log_url(ready), {})
    assert response.status_code == 302
    assert response["Location"] == logged.get_absolute_url()
    assert messages_of(response)[-1] == (
        f"Segment SEG00001 is already logged as logged segment {logged.pk}."
    )
    assert LoggedSegment.objects.count() == 1
    assert InteractionLogEntry.objects.count() == 3


def test_the_one_to_one_logged_segment_is_the_backstop(owner, ready):
    """Even past the status check (a row written behind the lock's back), no second log."""
    existing = LoggedSegment.objects.create(segment=ready, segment_no=ready.number, description="x")
    with pytest.raises(services.SegmentAlreadyLogged) as refusal:
        services.segment_log(segment=ready, user=owner)
    assert refusal.value.logged == existing
    assert not InteractionLogEntry.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_users_logging_at_once_give_one_logged_segment(owner, manager, ready):
    barrier = threading.Barrier(2)
    results: list[tuple[int, list[str]]] = []

    def press_log(user) -> None:
        client = Client()
        client.force_login(user)
        try:
            barrier.wait()
            response = client.post(log_url(ready), {"create_follow_up": "on"})
            results.append((response.status_code, messages_of(response)))
        finally:
            connection.close()

    threads = [threading.Thread(target=press_log, args=(user,)) for user in (owner, manager)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    logged = LoggedSegment.objects.get()
    assert [status for status, _messages in results] == [302, 302]
    texts = [" ".join(found) for _status, found in results]
    assert sum("already logged as logged segment" in text for text in texts) == 1
    assert InteractionLogEntry.objects.count() == 3
    assert logged.entry_count == 3
    assert Segment.objects.filter(description__startswith="Follow-up").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_fault_mid_logging_writes_nothing(owner, ready, monkeypatch):
    last_number = NumberSeries.objects.get(code="SEG").last_number

    def explode(segment, *, user):
        assert InteractionLogEntry.objects.count() == 3  # the entries were written...
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_create_follow_up", explode)
    with pytest.raises(RuntimeError):
        services.segment_log(segment=ready, user=owner, create_follow_up=True)
    # ...and rolled back with everything else.
    nothing_written(ready)
    assert NumberSeries.objects.get(code="SEG").last_number == last_number
    assert ready.lines.count() == 3


def test_colleague_cannot_log_someone_elses_segment(client, colleague, ready):
    client.force_login(colleague)
    assert client.post(log_url(ready), {}).status_code == 403
    nothing_written(ready)


def test_a_manager_may_log_any_segment(manager_client, manager, ready):
    assert manager_client.post(log_url(ready), {}).status_code == 302
    assert LoggedSegment.objects.get().logged_by == manager


# --- Logged Segments ----------------------------------------------------------------------------


@pytest.fixture
def logged(owner, ready):
    return services.segment_log(segment=ready, user=owner).logged


def switch_url(logged) -> str:
    return reverse("segments:logged_segment_switch_canceled", args=[logged.pk])


def test_switch_check_mark_in_canceled_confirms_with_the_count_and_cascades(manager_client, logged):
    page = manager_client.get(switch_url(logged))
    assert page.context["entry_count"] == 3
    assert b"all its 3 interaction log entries will be canceled" in page.content
    response = manager_client.post(switch_url(logged))
    assert response["Location"] == logged.get_absolute_url()
    logged.refresh_from_db()
    assert logged.canceled is True
    assert set(logged.entries.values_list("canceled", flat=True)) == {True}

    page = manager_client.get(switch_url(logged))
    assert b"will no longer be canceled" in page.content
    manager_client.post(switch_url(logged))
    logged.refresh_from_db()
    assert logged.canceled is False
    assert set(logged.entries.values_list("canceled", flat=True)) == {False}


def test_salesperson_cannot_cancel_a_logged_segment(owner_client, logged):
    assert owner_client.get(switch_url(logged)).status_code == 403
    assert owner_client.post(switch_url(logged)).status_code == 403
    logged.refresh_from_db()
    assert logged.canceled is False


def test_delete_canceled_segments_keeps_their_entries_canceled_with_the_segment_no(
    manager_client, manager, owner, logged
):
    keep = factories.LoggedSegmentFactory(segment__number="SEG00077")
    manager_client.post(switch_url(logged))
    url = reverse("segments:logged_segments_delete_canceled")
    page = manager_client.get(url)
    assert (page.context["segment_count"], page.context["entry_count"]) == (1, 3)
    assert b"1 canceled logged segment and its frozen segment will be deleted" in page.content
    response = manager_client.post(url)
    assert response["Location"] == reverse("segments:logged_segment_list")
    assert list(LoggedSegment.objects.all()) == [keep]
    assert not Segment.objects.filter(number="SEG00001").exists()
    assert not SegmentLine.objects.filter(segment__number="SEG00001").exists()
    entries = InteractionLogEntry.objects.all()
    assert entries.count() == 3
    assert set(entries.values_list("canceled", "segment_no", "logged_segment")) == {
        (True, "SEG00001", None)
    }


def test_salesperson_cannot_delete_canceled_segments(owner_client, logged):
    url = reverse("segments:logged_segments_delete_canceled")
    assert owner_client.get(url).status_code == 403
    assert owner_client.post(url).status_code == 403


def test_logged_segment_pages_show_the_actions_to_managers_only(
    manager_client, client, owner, logged
):
    page = manager_client.get(logged.get_absolute_url())
    assert switch_url(logged).encode() in page.content
    assert (
        b"Delete Canceled Segments"
        in manager_client.get(reverse("segments:logged_segment_list")).content
    )
    client.force_login(owner)
    assert switch_url(logged).encode() not in client.get(logged.get_absolute_url()).content
    assert (
        b"Delete Canceled Segments"
        not in client.get(reverse("segments:logged_segment_list")).content
    )


# --- each rule alone (each of these caught a mutation of segments/services.py) ------------------


@pytest.mark.parametrize(
    ("problem", "reason"),
    [
        ("blocked salesperson", "salesperson GONE is blocked"),
        ("privacy blocked", "the contact is privacy blocked"),
        ("no address", "the contact has no email address to deliver to"),
        ("no content", "an email to deliver needs a subject or a body"),
    ],
)
def test_each_problem_alone_stops_log(owner, ready, problem, reason):
    """The validation test above gives some lines several problems; here one line has exactly
    one, so each rule must catch it by itself."""
    line = ready.lines.get(contact__number="ANN")
    email_line = {"correspondence_type": CorrespondenceType.EMAIL, "subject": "Hi", "body": ""}
    if problem == "blocked salesperson":
        line_changes = {"salesperson": factories.SalespersonFactory(code="GONE", blocked=True)}
    elif problem == "privacy blocked":
        Contact.objects.filter(pk=line.contact_id).update(privacy_blocked=True)
        line_changes = {}
    elif problem == "no address":
        Contact.objects.filter(pk=line.contact_id).update(email="")
        line_changes = email_line
    else:
        line_changes = {**email_line, "subject": " "}
    SegmentLine.objects.filter(pk=line.pk).update(**line_changes)

    with pytest.raises(services.SegmentLogProblems) as refused:
        services.segment_log(segment=ready, user=owner, send_attachments=True)

    assert [(p.contact_number, p.reasons) for p in refused.value.lines] == [("ANN", [reason])]
    nothing_written(ready)


def test_a_line_without_its_own_description_logs_the_templates(owner, ready, call):
    SegmentLine.objects.filter(segment=ready, contact__number="ANN").update(
        interaction_description=""
    )

    result = services.segment_log(segment=ready, user=owner)

    descriptions = dict(result.logged.entries.values_list("contact__number", "description"))
    assert descriptions["ANN"] == call.description == "Phone call"


def test_a_line_in_another_language_logs_that_languages_attachment(owner, segment, call):
    """The header's attachment is the header language's; a line in another language whose
    template has content in it takes that content's own file."""
    factories.TemplateContentFactory(template=call, language="en")
    dutch_content = factories.TemplateContentFactory(template=call, language="nl")
    dutch_content.attachment.save("folder.pdf", ContentFile(b"%PDF-1.4 nl"), save=True)
    english = factories.PersonFactory(number="EN", language="en")
    dutch = factories.PersonFactory(number="NL", language="nl")
    add(segment, owner, english, dutch)
    assign(segment, owner, call, language="en")
    segment.refresh_from_db()
    segment.attachment.save("brochure.pdf", ContentFile(b"%PDF-1.4 en"), save=True)

    result = services.segment_log(segment=segment, user=owner)

    attachments = dict(result.logged.entries.values_list("contact__number", "attachment"))
    assert attachments == {"EN": segment.attachment.name, "NL": dutch_content.attachment.name}


def test_switching_a_logged_segment_counts_only_the_entries_that_change(owner, manager, logged):
    one = logged.entries.order_by("pk").first()
    InteractionLogEntry.objects.filter(pk=one.pk).update(canceled=True)  # canceled on its own

    changed = services.logged_segment_switch_canceled(logged=logged, user=manager)

    assert changed == 2
    assert set(logged.entries.values_list("canceled", flat=True)) == {True}


def test_the_logged_segment_services_refuse_a_salesperson_themselves(owner, logged):
    with pytest.raises(PermissionDenied):
        services.logged_segment_switch_canceled(logged=logged, user=owner)
    with pytest.raises(PermissionDenied):
        services.logged_segments_delete_canceled(user=owner)

    logged.refresh_from_db()
    assert logged.canceled is False


def test_delete_canceled_segments_leaves_every_one_of_their_entries_canceled(manager):
    """Even one that is not canceled (the admin can change an entry): the entries of a deleted
    logged segment can no longer be un-canceled through it, so they must be canceled."""
    gone = factories.LoggedSegmentFactory(canceled=True)
    stray = factories.LogEntryFactory(logged_segment=gone, segment_no=gone.segment_no)

    services.logged_segments_delete_canceled(user=manager)

    stray.refresh_from_db()
    assert (stray.canceled, stray.logged_segment_id) == (True, None)
