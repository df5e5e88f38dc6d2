"""Rules the segment services keep themselves, whatever calls them (segments/services.py).

The pages check most of these before they call a service; these tests call the services
directly, so that a rule dropped from a service fails here even while its page still guards it
(found by mutating the services: each test below caught a change the page tests let through).
"""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction

from interactions.models import DraftStatus, InteractionDraft
from interactions.services import DraftFinished
from segments import services
from segments.forms import Criteria
from segments.models import LoggedSegment, Segment, SegmentStatus
from tests import factories
from tests.test_faults import wait_until_a_connection_waits_for_a_lock
from tests.test_interaction_services import run_in_a_thread

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment(owner):
    return factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)


def test_a_colleague_is_refused_by_the_service_itself(segment, colleague):
    person = factories.PersonFactory()

    with pytest.raises(PermissionDenied):
        services.segment_add_contact(segment=segment, user=colleague, contact=person)

    assert not segment.lines.exists()


def test_a_privacy_blocked_contact_is_refused_by_the_service_itself(segment, owner):
    blocked = factories.PersonFactory(privacy_blocked=True)

    with pytest.raises(ValidationError, match="privacy blocked"):
        services.segment_add_contact(segment=segment, user=owner, contact=blocked)

    assert not segment.lines.exists()


@pytest.mark.django_db(transaction=True)
def test_a_change_waits_for_the_segments_row_and_then_finds_it_logged(owner):
    """Changes to one segment queue on its row: a change that arrives while `Log` holds the row
    waits, then sees the segment logged and adds nothing (Log never misses lines)."""
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    person = factories.PersonFactory()
    outcome: dict = {}

    def add():
        try:
            outcome["added"] = services.segment_add_contact(
                segment=segment, user=owner, contact=person
            )
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=add)
    # This connection is `Log`: it holds the row (FOR NO KEY UPDATE, as the services take it).
    with transaction.atomic():
        Segment.objects.select_for_update(no_key=True).get(pk=segment.pk)
        thread.start()
        wait_until_a_connection_waits_for_a_lock(thread)
        assert thread.is_alive(), outcome  # it waits for the row, it did not go ahead
        logged = LoggedSegment.objects.create(segment=segment, segment_no=segment.number)
        Segment.objects.filter(pk=segment.pk).update(status=SegmentStatus.LOGGED)
    thread.join(30)

    assert isinstance(outcome.get("error"), services.SegmentAlreadyLogged), outcome
    assert outcome["error"].logged == logged
    assert not segment.lines.exists()


def test_a_new_segment_skips_a_number_already_in_use(owner):
    factories.MarketingSetupFactory()  # Segment Nos.: SEG, five digits
    factories.SegmentFactory(number="SEG00001")  # made in the admin, say

    segment = services.segment_create(user=owner, description="Spring", date=None, salesperson=None)

    assert segment.number == "SEG00002"


def test_deleting_a_segment_deletes_the_files_uploaded_into_its_drafts(
    segment, owner, django_capture_on_commit_callbacks
):
    draft = factories.DraftFactory(owner=owner, context_segment=segment, contact=None)
    name = default_storage.save(f"drafts/{draft.pk}/offer.pdf", ContentFile(b"%PDF"))
    InteractionDraft.objects.filter(pk=draft.pk).update(
        state={"step_files": {"content": {"attachment": {"tmp_name": name, "name": "o.pdf"}}}}
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.segment_delete(segment=segment, user=owner)

    assert not InteractionDraft.objects.filter(pk=draft.pk).exists()
    assert not default_storage.exists(name)


def test_a_header_subject_stays_on_lines_of_contacts_in_the_headers_language(owner):
    """The template's content in a contact's language replaces the header's subject and body
    only when that language differs from the header's: in the header's own language the
    header (which the user may have edited in the wizard) is the content."""
    template = factories.TemplateFactory(language="nl")
    factories.TemplateContentFactory(template=template, language="nl", subject="Hallo")
    factories.TemplateContentFactory(template=template, language="en", subject="Hello")
    segment = factories.SegmentFactory(
        salesperson=owner.salesperson,
        created_by=owner,
        template=template,
        language="nl",
        subject="Ons eigen onderwerp",
    )
    dutch = factories.PersonFactory(language="nl")
    english = factories.PersonFactory(language="en")

    for contact in (dutch, english):
        services.segment_add_contact(segment=segment, user=owner, contact=contact)

    subjects = dict(segment.lines.values_list("contact__language", "subject"))
    assert subjects == {"nl": "Ons eigen onderwerp", "en": "Hello"}


def test_reset_to_segment_clears_the_date_of_a_personalised_line(segment, owner):
    line = factories.SegmentLineFactory(
        segment=segment, personalised=True, date=datetime.date(2026, 5, 1), unit_cost=Decimal(9)
    )

    services.segment_line_reset(line=line, user=owner)

    line.refresh_from_db()
    assert (line.personalised, line.date) == (False, None)  # the segment's date applies again


def test_reduce_removes_lines_of_this_segment_only(segment, owner):
    person = factories.PersonFactory(city="Leiden")
    factories.SegmentLineFactory(segment=segment, contact=person)
    elsewhere = factories.SegmentLineFactory(contact=person)

    step = services.segment_reduce_contacts(
        segment=segment, user=owner, criteria=Criteria.from_data({"city": "Leiden"})
    )

    assert step.removed == 1
    assert not segment.lines.exists()
    assert type(elsewhere).objects.filter(pk=elsewhere.pk).exists()


# --- Finish of Create Interaction on a segment ----------------------------------------------


def segment_draft(owner, segment) -> InteractionDraft:
    return factories.DraftFactory(
        owner=owner, context_segment=segment, contact=None, status=DraftStatus.IN_PROGRESS
    )


def finish(draft, owner, template, **values) -> int:
    """`Finish` of the segment wizard with the steps' values (blank but for ``values``)."""
    values = {
        "template": template,
        "description": "",
        "language": "",
        "correspondence_type": "",
        "ignore_contact_corres_type": False,
        "information_flow": "",
        "initiated_by": "",
        "campaign": None,
        "campaign_target": False,
        "campaign_response": False,
        **values,
    }
    return services.segment_interaction_finish(draft=draft, user=owner, values=values)


def test_a_replayed_finish_assigns_nothing_more(segment, owner):
    first, second = factories.TemplateFactory(), factories.TemplateFactory()
    draft = segment_draft(owner, segment)
    finish(draft, owner, first, description="Mailing")
    services.segment_update(segment=segment, user=owner, data={"template": second})

    with pytest.raises(DraftFinished):
        finish(draft, owner, first, description="Mailing")

    segment.refresh_from_db()
    assert segment.template == second  # the change made since stays


def test_finish_without_a_description_takes_the_templates(segment, owner):
    template = factories.TemplateFactory(description="Spring newsletter")
    factories.SegmentLineFactory(segment=segment)

    finish(segment_draft(owner, segment), owner, template, description="")

    segment.refresh_from_db()
    assert segment.interaction_description == "Spring newsletter"
    assert set(segment.lines.values_list("interaction_description", flat=True)) == {
        "Spring newsletter"
    }


def test_finish_without_an_upload_takes_the_contents_attachment(segment, owner):
    template = factories.TemplateFactory()
    content = factories.TemplateContentFactory(template=template, language="")
    content.attachment.save("brochure.pdf", ContentFile(b"%PDF-1.4"), save=True)

    finish(segment_draft(owner, segment), owner, template, description="x")

    segment.refresh_from_db()
    assert segment.attachment.name == content.attachment.name  # the one file, not a copy


def test_finish_deletes_the_files_uploaded_into_the_draft(
    segment, owner, django_capture_on_commit_callbacks
):
    draft = segment_draft(owner, segment)
    name = default_storage.save(f"drafts/{draft.pk}/offer.pdf", ContentFile(b"%PDF"))
    InteractionDraft.objects.filter(pk=draft.pk).update(
        state={"step_files": {"content": {"attachment": {"tmp_name": name, "name": "o.pdf"}}}}
    )

    with django_capture_on_commit_callbacks(execute=True):
        finish(draft, owner, factories.TemplateFactory(), description="x")

    assert not default_storage.exists(name)
    draft.refresh_from_db()
    assert (draft.status, draft.state) == (DraftStatus.FINISHED, {})


@pytest.mark.django_db(transaction=True)
def test_delete_canceled_segments_passes_over_one_another_run_holds(manager):
    """Rows are claimed with SKIP LOCKED: a run (the cron command, a user's button) does not
    wait for a logged segment another run is deleting; it deletes the others."""
    held = factories.LoggedSegmentFactory(canceled=True)
    factories.LoggedSegmentFactory(canceled=True)

    with transaction.atomic():  # this connection is the other run
        LoggedSegment.objects.select_for_update().get(pk=held.pk)
        thread, outcome = run_in_a_thread(
            lambda: services.logged_segments_delete_canceled(user=manager)
        )
        wait_until_a_connection_waits_for_a_lock(thread)
        finished_while_held = not thread.is_alive()
    thread.join(30)

    assert finished_while_held, "it waited for the held row"
    assert outcome == {"result": services.DeletedSegments(segments=1, entries=0)}
    assert list(LoggedSegment.objects.all()) == [held]
