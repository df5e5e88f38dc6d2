"""Segment pages cost a fixed number of queries, whatever the number of rows (issue 5); the
segment page's lines (a Jinja2 partial) show what users typed escaped."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import resolve, reverse
from django.utils import translation
from markupsafe import Markup, escape  # the partial's escaping (a quote is &#34;)

from segments import selectors, views
from segments.forms import AddContactForm
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


def criteria_steps(segment, owner, rows):
    """``rows`` steps on ``segment``, each adding one new contact."""
    from segments import services

    for _ in range(rows):
        services.segment_add_contact(segment=segment, user=owner, contact=factories.PersonFactory())


def build_segment_page_with_steps(owner, rows):
    segment = owned_segment(owner, rows)
    criteria_steps(segment, owner, rows)
    return segment.get_absolute_url()


def build_segment_history(owner, rows):
    segment = owned_segment(owner, 0)
    criteria_steps(segment, owner, rows)
    return reverse("segments:segment_history", args=[segment.pk])


def build_segment_reuse_criteria(owner, rows):
    for n in range(rows):
        saved = factories.SavedCriteriaFactory(code=f"C{n}")
        factories.SavedCriteriaStepFactory.create_batch(2, saved=saved)
    segment = owned_segment(owner, rows)
    return reverse("segments:segment_reuse_criteria", args=[segment.pk])


def build_logged_segment_follow_up(owner, rows):
    logged = factories.LoggedSegmentFactory(logged_by=owner)
    factories.LogEntryFactory.create_batch(rows, logged_segment=logged)
    return reverse("segments:logged_segment_follow_up", args=[logged.pk])


def build_logged_segment_list(owner, rows):
    for _ in range(rows):
        factories.LoggedSegmentFactory(logged_by=factories.UserFactory())
    return reverse("segments:logged_segment_list")


def build_logged_segment_page(owner, rows):
    logged = factories.LoggedSegmentFactory(logged_by=owner)
    factories.LogEntryFactory.create_batch(rows, logged_segment=logged, canceled=True)
    return logged.get_absolute_url()


QUERY_COUNTS = [
    # Every request reads the session and the user, the user with its permissions for the
    # actions only some users may take (2 queries); then:
    (build_segment_list, 4),  # pager count, the page with its kept line totals
    # segment with its kept totals, a page of lines (keyset, no count), the newest steps
    (build_segment_page_for_its_owner, 5),
    (build_segment_page_read_only, 5),  # the same page, read-only
    (build_segment_edit, 5),  # segment, salespeople, campaigns
    # segment, salespeople, templates, groups, campaigns, recent logged segments
    (build_segment_criteria, 8),
    (build_segment_reuse, 5),  # segment, pager count, the page of logged segments
    (build_line_edit, 6),  # segment, line, templates, salespeople
    (build_segment_log, 4),  # segment with its kept totals, any Email line
    (build_segment_delete, 3),  # segment with its kept totals
    (build_segment_page_with_steps, 5),  # the same page with its newest steps
    (build_segment_history, 5),  # segment, pager count, the page of steps
    (build_segment_reuse_criteria, 6),  # segment, the select, saved criteria, their steps
    (build_logged_segment_follow_up, 3),  # logged segment
    (build_logged_segment_list, 4),  # pager count, the page
    (build_logged_segment_page, 4),  # logged segment, canceled entries
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
        (reverse("segments:logged_segment_switch_canceled", args=[logged.pk]), 5),
        (reverse("segments:logged_segments_delete_canceled"), 3),
    ]
    for page_url, queries in pages:
        with django_assert_num_queries(queries):
            assert manager_client.get(page_url).status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_saved_criteria_pages_query_count_does_not_grow(
    manager_client, manager, owner, django_assert_num_queries, rows
):
    segment = owned_segment(owner, 0)
    criteria_steps(segment, owner, rows)
    for n in range(rows):
        saved = factories.SavedCriteriaFactory(code=f"C{n}", created_by=manager)
        factories.SavedCriteriaStepFactory.create_batch(2, saved=saved)
    pages = [
        # segment, its steps
        (reverse("segments:segment_save_criteria", args=[segment.pk]), 4),
        # saved criteria with their authors, their steps
        (reverse("segments:saved_criteria_list"), 4),
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
    draft_id = resolve(response["Location"]).kwargs["draft_id"]

    def step(name):
        return reverse("segments:wizard", kwargs={"draft_id": draft_id, "step": name})

    owner_client.post(
        step("type"), {f"draft_{draft_id}-current_step": "type", "type-template": template.pk}
    )
    owner_client.post(
        step("content"),
        {f"draft_{draft_id}-current_step": "content", "content-subject": "S", "content-body": "B"},
    )
    # The role check needs no query of its own: the user comes with its permissions. Opening a
    # step writes nothing, and a step shown with its stored data works out no defaults. Step 1's
    # template comes with the draft's row (`DraftWizard.with_draft_template`), and whether it
    # has contents (a Content step) too (`get_draft_for_user`): they are not read.
    for name, queries in {"type": 4, "content": 3, "related": 7}.items():
        with django_assert_num_queries(queries):
            assert owner_client.get(step(name)).status_code == 200


# --- the lines, from a Jinja2 partial -------------------------------------------------------------

MARKUP = '<script>alert("x")</script>'


def test_markup_typed_on_a_line_is_shown_escaped_to_owner_and_reader(client, owner, colleague):
    segment = owned_segment(owner, 0)
    factories.SegmentLineFactory(
        segment=segment,
        contact=factories.PersonFactory(name=MARKUP, number="<b>C1</b>"),
        interaction_description=MARKUP,
        template=factories.TemplateFactory(code="<i>TPL</i>"),
        salesperson=factories.SalespersonFactory(code="<u>SP</u>"),
        correspondence_type="<em>",  # not among the choices: shown as stored, escaped
        personalised=True,
    )
    # The owner sees the name in the link, its cell's title (the whole of it on hover), the
    # description's title, the checkbox's label and the Personalise link.
    for user, shown in ((owner, 6), (colleague, 4)):
        client.force_login(user)
        html = client.get(segment.get_absolute_url()).content.decode()
        assert "<script>" not in html
        assert html.count(escape(MARKUP)) == shown, user
        for typed in ("<b>C1</b>", "<i>TPL</i>", "<u>SP</u>", "<em>"):
            assert typed not in html
            assert f">{escape(typed)}<" in html


def test_what_the_line_rows_write_without_escaping_is_escaped_by_the_view(owner, monkeypatch):
    # The partial's `autoescape false` cells write links, labels, choice labels, codes and
    # amounts as given: each must be Markup (escaped once a page), never a plain text.
    segment = owned_segment(owner, 2)
    factories.SegmentLineFactory(segment=segment, template=None, salesperson=None)
    given = {}
    monkeypatch.setattr(views, "render_rows", lambda name, context: given.update(context))

    lines = selectors.line_page(segment).lines
    views._line_rows(lines, segment=segment, can_change=True)

    labels = vars(given["labels"])
    written = [
        *vars(given["links"]).values(),
        *(label for name, label in labels.items() if name != "select"),
        *(
            value
            for name in ("correspondence", "languages", "templates", "salespeople", "costs")
            for value in given[name].values()
        ),
        *given["durations"].values(),
        given["correspondence"]["<no such type>"],
        given["languages"]["<x"],
    ]
    assert len(written) > 20
    assert all(isinstance(value, Markup) for value in written)
    assert given["correspondence"]["<no such type>"] == "&lt;no such type&gt;"
    assert given["templates"][None] == given["salespeople"][None] == ""
    # Formatted with the line's own name by the partial, in an autoescaped cell.
    assert not isinstance(labels["select"], Markup)


def test_segment_page_links_and_marks_each_line(owner_client, owner):
    segment = owned_segment(owner, 2, personalised=1)
    first, second = segment.lines.order_by("id")
    html = owner_client.get(segment.get_absolute_url()).content.decode()
    contact_url = reverse("contacts:contact_detail", args=[first.contact_id])
    assert f'<a href="{contact_url}">{escape(first.contact.name)}</a>' in html
    for line in (first, second):
        assert f'<input type="checkbox" name="line" value="{line.pk}"' in html
        assert f'href="{reverse("segments:line_edit", args=[segment.pk, line.pk])}"' in html
    assert html.count('<tr class="personalised">') == 1
    assert html.count('<span class="badge">Personalised</span>') == 1


def test_the_segment_page_links_each_action_of_its_segment_as_reverse_does(manager_client, owner):
    # The links come from a dict kept per process (views._segment_links), one per segment.
    from segments.models import SegmentStep

    segments = [owned_segment(owner, 1) for _ in range(2)]
    for segment in segments:
        for number in range(1, views.STEPS_SHOWN + 2):  # more than shown: "All 11 steps"
            SegmentStep.objects.create(segment=segment, number=number, action="add")
    for segment in segments:
        html = manager_client.get(segment.get_absolute_url()).content.decode()
        names = [
            "segment_create_interaction", "segment_edit", "segment_log", "segment_delete",
            "segment_save_criteria", "segment_export", "line_add", "segment_reuse",
            "segment_reuse_criteria", "segment_go_back", "segment_history", "lines_remove",
        ]  # fmt: skip
        expected = [reverse(f"segments:{name}", args=[segment.pk]) for name in names]
        expected += [
            reverse("segments:segment_criteria", args=[segment.pk, action])
            for action in ("add", "reduce", "refine")
        ]
        for url in expected:
            assert f'="{url}"' in html, url
        assert f'href="{reverse("segments:segment_list")}"' in html


def test_the_add_contact_field_is_the_forms_own_in_each_language(owner_client, owner):
    # A blank form's field is kept per language (views._add_contact_field); a posted one is not.
    segment = owned_segment(owner, 1)
    for language in ("en", "nl", "en"):
        response = owner_client.get(segment.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
        html = response.content.decode()
        with translation.override(language):
            field = AddContactForm()["contact"]
            assert f'<div class="field">\n      {field.label_tag()}\n      {field}\n' in html

    response = owner_client.post(
        reverse("segments:line_add", args=[segment.pk]), {"contact": "<b>nobody"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert '<div class="field has-error">' in html
    assert 'value="&lt;b&gt;nobody"' in html
    assert 'class="errorlist"' in html
    html = owner_client.get(segment.get_absolute_url()).content.decode()
    assert 'value="&lt;b&gt;nobody"' not in html
    assert "has-error" not in html


def test_segment_lines_speak_the_users_language(owner_client, owner):
    segment = owned_segment(owner, 0)
    factories.SegmentLineFactory(
        segment=segment,
        unit_cost=Decimal("1234.5"),
        unit_duration=Decimal("2.50"),
        correspondence_type="email",
        personalised=True,
    )
    html = owner_client.get(segment.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert (
        'data-label="Kosten (LV)">1234,50</td><td class="num" data-label="Duur (min.)">2,50</td>'
        in html
    )
    assert "<td>E-mail</td>" in html
    assert '<span class="badge">Gepersonaliseerd</span>' in html
    assert "selecteren" in html
    assert "</span>Personaliseren</a>" in html


def shown(html: str, numbers: list[str]) -> list[str]:
    return [number for number in numbers if f">{number}<" in html]


def paging_links(html: str) -> dict[str, str]:
    """The pager's links by their words: First, Previous, Next, Last."""
    nav = html[html.index('<nav class="pagination"') :]
    nav = nav[: nav.index("</nav>")]
    found = re.findall(r'href="([^"]+)">\W*(\w+)', nav)
    return {word: unescape(link) for link, word in found}


def test_segment_page_pages_its_lines_by_keyset_links(
    owner_client, owner, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(views, "LINE_PAGE_SIZE", 2)
    segment = owned_segment(owner, 5)
    page_url = segment.get_absolute_url()
    numbers = [line.contact.number for line in segment.lines.order_by("id")]
    ids = list(segment.lines.order_by("id").values_list("id", flat=True))
    first = owner_client.get(page_url).content.decode()
    assert shown(first, numbers) == numbers[:2]
    assert set(paging_links(first)) == {"Next", "Last"}
    assert paging_links(first)["Next"] == f"?after={ids[1]}"

    with django_assert_num_queries(5):
        response = owner_client.get(page_url + paging_links(first)["Next"])
    second = response.content.decode()
    assert shown(second, numbers) == numbers[2:4]
    assert set(paging_links(second)) == {"First", "Previous", "Next", "Last"}
    assert response.context["totals"].line_count == 5

    last = owner_client.get(page_url + paging_links(second)["Last"]).content.decode()
    assert shown(last, numbers) == numbers[3:]
    assert set(paging_links(last)) == {"First", "Previous"}

    back = owner_client.get(page_url + paging_links(last)["Previous"]).content.decode()
    assert shown(back, numbers) == numbers[1:3]
    assert paging_links(back)["Next"] == f"?after={ids[2]}"
    home = owner_client.get(page_url + paging_links(last)["First"]).content.decode()
    assert shown(home, numbers) == numbers[:2]


@pytest.mark.parametrize("query", ["?after=999999999", "?before=1", "?after=x", "?before=-5"])
def test_a_paging_link_to_lines_that_are_gone_shows_the_first_page(owner_client, owner, query):
    segment = owned_segment(owner, 3)
    numbers = [line.contact.number for line in segment.lines.order_by("id")]
    response = owner_client.get(segment.get_absolute_url() + query)
    assert response.status_code == 200
    assert shown(response.content.decode(), numbers) == numbers


@pytest.mark.parametrize("rows", [3, 30])
def test_the_last_page_of_lines_costs_the_same_queries_at_any_size(
    owner_client, owner, monkeypatch, django_assert_num_queries, rows
):
    monkeypatch.setattr(views, "LINE_PAGE_SIZE", 2)
    segment = owned_segment(owner, rows)
    with django_assert_num_queries(5):
        response = owner_client.get(segment.get_absolute_url(), {"page": "last"})
    numbers = [line.contact.number for line in segment.lines.order_by("id")]
    assert shown(response.content.decode(), numbers) == numbers[-2:]
