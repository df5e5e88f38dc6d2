"""Read-only pages of interactions and segments: what they show, to whom, in how many queries."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.http import Http404
from django.urls import reverse

from contacts.models import Language
from interactions.models import DeliveryStatus, DraftStatus
from interactions.selectors import get_draft_for_user
from segments.models import SegmentStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(owner):
    """One of everything the read pages show."""
    template = factories.TemplateFactory(code="MEET", description="Meeting")
    factories.TemplateContentFactory(template=template)
    segment = factories.SegmentFactory(number="SEG00001", template=template)
    factories.SegmentLineFactory(segment=segment, template=template)
    logged = factories.LoggedSegmentFactory(segment__number="SEG00002", entry_count=1)
    entry = factories.LogEntryFactory(template=template, logged_segment=logged)
    factories.CommentFactory(entry=entry)
    factories.DraftFactory(owner=owner, template=template)
    return {
        "entry": entry,
        "template": template,
        "group": template.group,
        "segment": segment,
        "logged": logged,
    }


PAGES = [
    ("interactions:entry_list", None, "entries"),
    ("interactions:entry_detail", "entry", "entries"),
    ("interactions:draft_list", None, "drafts"),
    ("interactions:template_list", None, "templates"),
    ("interactions:template_detail", "template", "templates"),
    ("interactions:group_list", None, "templates"),
    ("interactions:group_detail", "group", "templates"),
    ("segments:segment_list", None, "segments"),
    ("segments:segment_detail", "segment", "segments"),
    ("segments:logged_segment_list", None, "logged_segments"),
    ("segments:logged_segment_detail", "logged", "logged_segments"),
]


def url(name: str, obj=None) -> str:
    return reverse(name, args=[obj.pk] if obj is not None else [])


@pytest.mark.parametrize(("name", "key", "nav"), PAGES, ids=[p[0] for p in PAGES])
def test_each_read_page_loads_for_a_salesperson_and_marks_its_nav_link(
    owner_client, book, name, key, nav
):
    response = owner_client.get(url(name, book[key] if key else None))
    assert response.status_code == 200
    assert response.context["nav"] == nav
    # Once in the laptop's menu, once in the phone's Menu (the same links, one shown at a time).
    assert response.content.count(b'aria-current="page"') == 2


@pytest.mark.parametrize(
    "name", [name for name, key, _nav in PAGES if key], ids=[n for n, k, _ in PAGES if k]
)
def test_unknown_object_is_a_404(owner_client, name):
    assert owner_client.get(reverse(name, args=[987654])).status_code == 404


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("interactions:entry_list", b"No interactions have been logged yet"),
        ("interactions:draft_list", b"You have no postponed interactions"),
        ("interactions:template_list", b"There are no interaction templates yet"),
        ("interactions:group_list", b"There are no interaction groups yet"),
        ("segments:segment_list", b"There are no open segments"),
        ("segments:logged_segment_list", b"No segment has been logged yet"),
    ],
)
def test_empty_lists_say_what_to_do_next(owner_client, name, text):
    response = owner_client.get(reverse(name))
    assert response.status_code == 200
    assert text in response.content


# --- Entry page -----------------------------------------------------------------------------


def test_entry_page_shows_content_delivery_and_comments_escaped(owner_client):
    entry = factories.LogEntryFactory(
        subject="Your offer",
        body="Dear <b>Ann</b>,\n<script>alert(1)</script>",
        attachment="entries/2025/03/offer.pdf",
        delivery_status=DeliveryStatus.ERROR,
        delivery_attempts=3,
        delivery_last_error="550 mailbox unavailable",
    )
    factories.CommentFactory(entry=entry, comment="Call back on Monday")
    content = owner_client.get(url("interactions:entry_detail", entry)).content.decode()
    assert "Your offer" in content
    assert '<pre class="content-body">Dear &lt;b&gt;Ann&lt;/b&gt;,\n&lt;script&gt;' in content
    assert "<script>alert(1)" not in content
    assert ">offer.pdf</a>" in content  # the file's name, never its storage path
    assert "entries/2025/03/" not in content
    assert "550 mailbox unavailable" in content
    assert "Call back on Monday" in content
    assert f"?contact={entry.contact.number}" in content


# --- Postponed interactions -----------------------------------------------------------------


def test_draft_list_shows_only_the_users_own_postponed_drafts(owner_client, owner, colleague):
    mine = factories.DraftFactory(owner=owner, description="Mine, postponed")
    factories.DraftFactory(
        owner=owner, status=DraftStatus.IN_PROGRESS, description="Mine, in progress"
    )
    factories.DraftFactory(owner=owner, status=DraftStatus.FINISHED, description="Mine, finished")
    factories.DraftFactory(owner=colleague, description="The colleague's")
    response = owner_client.get(reverse("interactions:draft_list"))
    assert list(response.context["page"].object_list) == [mine]
    assert b"Mine, postponed" in response.content
    assert reverse("interactions:wizard_resume", args=[mine.pk]).encode() in response.content
    assert reverse("interactions:draft_delete", args=[mine.pk]).encode() in response.content
    for other in (b"Mine, in progress", b"Mine, finished", b"The colleague&#x27;s"):
        assert other not in response.content


def test_draft_list_filters_by_contact_number(owner_client, owner):
    contact = factories.PersonFactory(number="CP000123")
    about = factories.DraftFactory(owner=owner, contact=contact)
    started_from = factories.DraftFactory(owner=owner, contact=None, context_contact=contact)
    factories.DraftFactory(owner=owner)
    response = owner_client.get(reverse("interactions:draft_list"), {"contact": "CP000123"})
    assert set(response.context["page"].object_list) == {about, started_from}


def test_draft_list_with_an_unknown_contact_shows_a_form_error(owner_client, owner):
    factories.DraftFactory(owner=owner)
    response = owner_client.get(reverse("interactions:draft_list"), {"contact": "NOPE"})
    assert response.status_code == 200
    assert "contact" in response.context["form"].errors
    assert list(response.context["page"].object_list) == []


def test_get_draft_for_user_gives_another_user_a_404(rf, owner, colleague):
    draft = factories.DraftFactory(owner=owner)
    request = rf.get("/")
    request.user = colleague
    with pytest.raises(Http404):
        get_draft_for_user(request, draft.pk)
    request.user = owner
    assert get_draft_for_user(request, draft.pk) == draft
    assert get_draft_for_user(request, str(draft.pk)) == draft


def test_get_draft_for_user_gives_404_for_an_unknown_draft(rf, owner):
    request = rf.get("/")
    request.user = owner
    with pytest.raises(Http404):
        get_draft_for_user(request, uuid.uuid4())


# --- Templates and groups -------------------------------------------------------------------


def test_template_page_shows_content_per_language_and_statistics_without_canceled(owner_client):
    template = factories.TemplateFactory(code="LETTER")
    factories.TemplateContentFactory(template=template, subject="Default subject")
    factories.TemplateContentFactory(template=template, language="nl", subject="Onderwerp")
    factories.LogEntryFactory(template=template, cost=Decimal("4.00"), duration=Decimal("5"))
    factories.LogEntryFactory(template=template, cost=Decimal("6.00"), duration=Decimal("7"))
    factories.LogEntryFactory(template=template, cost=Decimal("100.00"), canceled=True)
    response = owner_client.get(url("interactions:template_detail", template))
    statistics = response.context["statistics"]
    assert statistics["count"] == 2
    assert statistics["cost"] == Decimal("10.00")
    assert statistics["duration"] == Decimal("12")
    assert b"Default subject" in response.content
    assert b"Onderwerp" in response.content
    assert b"?template=LETTER" in response.content


def test_group_page_lists_its_templates_and_statistics_without_canceled(owner_client):
    group = factories.GroupFactory(code="MAIL")
    first = factories.TemplateFactory(group=group, code="MAIL1")
    second = factories.TemplateFactory(group=group, code="MAIL2")
    factories.LogEntryFactory(template=first)
    factories.LogEntryFactory(template=second)
    factories.LogEntryFactory(template=second, canceled=True)
    response = owner_client.get(url("interactions:group_detail", group))
    assert response.context["statistics"]["count"] == 2
    assert list(response.context["templates"]) == [first, second]
    assert b"?group=MAIL" in response.content


# --- Segments -------------------------------------------------------------------------------


def test_segment_list_shows_open_segments_with_line_totals(owner_client):
    segment = factories.SegmentFactory(number="SEG00010")
    factories.SegmentLineFactory(segment=segment, unit_cost=Decimal("2.50"), unit_duration=10)
    factories.SegmentLineFactory(segment=segment, unit_cost=Decimal("1.25"), unit_duration=5)
    empty = factories.SegmentFactory(number="SEG00011")
    factories.SegmentFactory(number="SEG00012", status=SegmentStatus.LOGGED)
    response = owner_client.get(reverse("segments:segment_list"))
    rows = {s.number: s for s in response.context["page"].object_list}
    assert set(rows) == {segment.number, empty.number}
    totals = {number: segment.line_totals for number, segment in rows.items()}
    assert (totals["SEG00010"].line_count, totals["SEG00010"].total_cost) == (2, Decimal("3.75"))
    assert totals["SEG00010"].total_duration == Decimal("15")
    assert (totals["SEG00011"].line_count, totals["SEG00011"].total_cost) == (0, 0)


def test_segment_page_shows_lines_totals_and_personalised_lines(owner_client):
    segment = factories.SegmentFactory()
    factories.SegmentLineFactory(
        segment=segment, unit_cost=Decimal("3"), interaction_description="Plain line"
    )
    factories.SegmentLineFactory(
        segment=segment,
        unit_cost=Decimal("4"),
        personalised=True,
        interaction_description="Special line",
    )
    response = owner_client.get(url("segments:segment_detail", segment))
    assert response.context["totals"].line_count == 2
    assert response.context["totals"].total_cost == Decimal("7")
    assert b"Plain line" in response.content
    assert b"Special line" in response.content
    assert response.content.count(b'<span class="badge">Personalised</span>') == 1


def test_logged_segment_page_links_to_its_entries_and_its_frozen_segment(owner_client):
    logged = factories.LoggedSegmentFactory(entry_count=2)
    factories.LogEntryFactory(logged_segment=logged)
    factories.LogEntryFactory(logged_segment=logged, canceled=True)
    response = owner_client.get(url("segments:logged_segment_detail", logged))
    content = response.content.decode()
    assert response.context["canceled_count"] == 1
    assert f"{reverse('interactions:entry_list')}?logged_segment={logged.pk}" in content
    assert reverse("segments:segment_detail", args=[logged.segment_id]) in content


def test_frozen_segment_says_which_logged_segment_it_became(owner_client):
    logged = factories.LoggedSegmentFactory()
    response = owner_client.get(url("segments:segment_detail", logged.segment))
    assert response.context["logged_segment"] == logged
    assert logged.get_absolute_url().encode() in response.content


def test_logged_segment_list_shows_its_columns(owner_client):
    logged = factories.LoggedSegmentFactory(
        segment__number="SEG00042", description="Spring mailing", entry_count=12, canceled=True
    )
    content = owner_client.get(reverse("segments:logged_segment_list")).content.decode()
    for text in ("SEG00042", "Spring mailing", ">12<", "Canceled", f">{logged.pk}<"):
        assert text in content


# --- Query counts: every list and detail costs the same at 3 and at 30 rows ---------------
# Each request also reads the session and the user: the first two queries of every count.


def build_entry(rows: int):
    entry = factories.LogEntryFactory()
    factories.CommentFactory.create_batch(rows, entry=entry)
    return url("interactions:entry_detail", entry)


def build_drafts(rows: int):
    from django.contrib.auth import get_user_model

    owner = get_user_model().objects.get(username="owner")
    factories.DraftFactory.create_batch(rows, owner=owner, template=factories.TemplateFactory())
    return reverse("interactions:draft_list")


def build_templates(rows: int):
    factories.TemplateFactory.create_batch(rows)
    return reverse("interactions:template_list")


def build_template(rows: int):
    template = factories.TemplateFactory()
    for language in ["", *Language.values[: rows - 1]]:
        factories.TemplateContentFactory(template=template, language=language)
    factories.LogEntryFactory.create_batch(rows, template=template)
    return url("interactions:template_detail", template)


def build_groups(rows: int):
    for group in factories.GroupFactory.create_batch(rows):
        factories.TemplateFactory(group=group)
    return reverse("interactions:group_list")


def build_group(rows: int):
    group = factories.GroupFactory()
    for template in factories.TemplateFactory.create_batch(rows, group=group):
        factories.LogEntryFactory(template=template)
    return url("interactions:group_detail", group)


def build_segments(rows: int):
    for segment in factories.SegmentFactory.create_batch(
        rows, salesperson=factories.SalespersonFactory()
    ):
        factories.SegmentLineFactory(segment=segment)
    return reverse("segments:segment_list")


def build_segment(rows: int):
    segment = factories.SegmentFactory(salesperson=factories.SalespersonFactory())
    for _ in range(rows):
        factories.SegmentLineFactory(
            segment=segment,
            template=factories.TemplateFactory(),
            salesperson=factories.SalespersonFactory(),
        )
    return url("segments:segment_detail", segment)


def build_logged_segments(rows: int):
    for _ in range(rows):
        factories.LoggedSegmentFactory(logged_by=factories.UserFactory())
    return reverse("segments:logged_segment_list")


def build_logged_segment(rows: int):
    logged = factories.LoggedSegmentFactory(logged_by=factories.UserFactory())
    factories.LogEntryFactory.create_batch(rows, logged_segment=logged, canceled=True)
    return url("segments:logged_segment_detail", logged)


QUERY_COUNTS = [
    # builder, queries: session + user, then what the page itself reads
    # the user comes with its permissions, which the pages check for their buttons and actions
    (build_entry, 5),  # entry with its related rows (two queries), comments
    (build_drafts, 4),  # count for the pager, the page of drafts
    (build_templates, 3),  # templates with their group
    (build_template, 5),  # template, its content variants, statistics from the daily totals
    (build_groups, 3),  # groups with their template count
    (build_group, 5),  # group, its templates, statistics from the daily totals
    (build_segments, 4),  # count for the pager, the page with its kept line totals
    # segment with its kept totals, a page of lines, the newest criteria steps
    (build_segment, 5),
    (build_logged_segments, 4),  # count for the pager, the page
    (build_logged_segment, 4),  # logged segment with its segment, canceled entries
]


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(
    ("build", "queries"), QUERY_COUNTS, ids=[build.__name__ for build, _ in QUERY_COUNTS]
)
def test_read_page_query_count_does_not_grow_with_rows(
    owner_client, django_assert_num_queries, build, queries, rows
):
    page_url = build(rows)
    with django_assert_num_queries(queries):
        response = owner_client.get(page_url)
    assert response.status_code == 200
