"""Segment pages cost a fixed number of queries, whatever the number of rows (issue 5)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def owned_segment(owner, rows: int, *, personalised: int = 0):
    segment = factories.SegmentFactory(
        salesperson=owner.salesperson, created_by=owner, template=factories.TemplateFactory()
    )
    for n in range(rows):
        factories.SegmentLineFactory(
            segment=segment,
            template=factories.TemplateFactory(),
            salesperson=factories.SalespersonFactory(),
            personalised=n < personalised,
        )
    return segment


def build_segment_list(owner, rows):
    for segment in factories.SegmentFactory.create_batch(rows, salesperson=owner.salesperson):
        factories.SegmentLineFactory(segment=segment)
    return reverse("segments:segment_list")


def build_segment_page_for_its_owner(owner, rows):
    return owned_segment(owner, rows).get_absolute_url()


def build_segment_page_read_only(owner, rows):
    segment = owned_segment(owner, rows)
    segment.created_by = None
    segment.salesperson = factories.SalespersonFactory()
    segment.save()
    return segment.get_absolute_url()


def build_segment_edit(owner, rows):
    segment = owned_segment(owner, rows)
    return reverse("segments:segment_edit", args=[segment.pk])


def build_segment_criteria(owner, rows):
    factories.TemplateFactory.create_batch(rows)
    factories.SalespersonFactory.create_batch(rows)
    segment = owned_segment(owner, rows)
    return reverse("segments:segment_criteria", args=[segment.pk, "add"])


def build_segment_reuse(owner, rows):
    factories.LoggedSegmentFactory.create_batch(rows)
    segment = owned_segment(owner, rows)
    return reverse("segments:segment_reuse", args=[segment.pk])


def build_line_edit(owner, rows):
    factories.TemplateFactory.create_batch(rows)
    segment = owned_segment(owner, rows)
    return reverse("segments:line_edit", args=[segment.pk, segment.lines.first().pk])


def build_segment_log(owner, rows):
    segment = owned_segment(owner, rows)
    return reverse("segments:segment_log", args=[segment.pk])


def build_segment_delete(owner, rows):
    segment = owned_segment(owner, rows)
    return reverse("segments:segment_delete", args=[segment.pk])


def build_logged_segment_list(owner, rows):
    for _ in range(rows):
        factories.LoggedSegmentFactory(logged_by=factories.UserFactory())
    return reverse("segments:logged_segment_list")


def build_logged_segment_page(owner, rows):
    logged = factories.LoggedSegmentFactory(logged_by=owner)
    factories.LogEntryFactory.create_batch(rows, logged_segment=logged, canceled=True)
    return logged.get_absolute_url()


QUERY_COUNTS = [
    # Every request reads the session and the user (2 queries); pages that offer actions only
    # some users have read the user's permissions (2 more: "perms").
    (build_segment_list, 7),  # perms, pager count, the page, the line totals of the page
    (build_segment_page_for_its_owner, 8),  # segment, pager count, totals, perms, lines
    (build_segment_page_read_only, 8),  # the same page, read-only
    (build_segment_edit, 7),  # segment, perms, salespeople, campaigns
    (build_segment_criteria, 7),  # segment, perms, salespeople, templates
    (build_segment_reuse, 6),  # segment, perms, recent logged segments
    (build_line_edit, 8),  # segment, perms, line, templates, salespeople
    (build_segment_log, 7),  # segment, perms, any Email line, totals
    (build_segment_delete, 6),  # segment, perms, totals
    (build_logged_segment_list, 6),  # perms, pager count, the page
    (build_logged_segment_page, 6),  # logged segment, canceled entries, perms
]


@pytest.mark.parametrize("rows", [3, 30])
@pytest.mark.parametrize(
    ("build", "queries"), QUERY_COUNTS, ids=[build.__name__ for build, _ in QUERY_COUNTS]
)
def test_segment_page_query_count_does_not_grow_with_rows(
    owner_client, owner, django_assert_num_queries, build, queries, rows
):
    page_url = build(owner, rows)
    with django_assert_num_queries(queries):
        response = owner_client.get(page_url)
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_logged_segment_actions_query_count_does_not_grow(
    manager_client, django_assert_num_queries, rows
):
    logged = factories.LoggedSegmentFactory(canceled=True)
    factories.LogEntryFactory.create_batch(rows, logged_segment=logged, canceled=True)
    factories.LoggedSegmentFactory.create_batch(rows, canceled=True)
    pages = [
        (reverse("segments:logged_segment_switch_canceled", args=[logged.pk]), 7),
        (reverse("segments:logged_segments_delete_canceled"), 5),
    ]
    for page_url, queries in pages:
        with django_assert_num_queries(queries):
            assert manager_client.get(page_url).status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_segment_wizard_steps_run_a_fixed_number_of_queries(
    owner_client, owner, django_assert_num_queries, rows
):
    segment = owned_segment(owner, rows, personalised=rows)
    template = factories.TemplateFactory()
    factories.TemplateContentFactory(template=template)
    factories.CampaignFactory.create_batch(rows)
    response = owner_client.post(reverse("segments:segment_create_interaction", args=[segment.pk]))
    draft_url = response["Location"]
    draft_id = draft_url.rstrip("/").rsplit("/", 1)[-1]

    def step(name):
        return reverse("interactions:wizard", kwargs={"draft_id": draft_id, "step": name})

    owner_client.post(
        step("type"), {f"draft_{draft_id}-current_step": "type", "type-template": template.pk}
    )
    owner_client.post(
        step("content"),
        {f"draft_{draft_id}-current_step": "content", "content-subject": "S", "content-body": "B"},
    )
    # Each step includes the 2 queries of the role check (the user's and the groups' perms).
    for name, queries in {"type": 12, "content": 11, "related": 13}.items():
        with django_assert_num_queries(queries):
            assert owner_client.get(step(name)).status_code == 200
