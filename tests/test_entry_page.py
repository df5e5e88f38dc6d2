"""The entry page: every field, content as sent, attachment download, delivery,
comments, Resend for entries in Error, and a print layout for Hard Copy."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from interactions.forms import CommentForm
from interactions.models import DeliveryStatus, Evaluation, InteractionComment, InteractionLogEntry
from tests import factories

pytestmark = pytest.mark.django_db


def page_url(entry) -> str:
    return reverse("interactions:entry_detail", args=[entry.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Attachment download --------------------------------------------------------------------


@pytest.fixture
def with_attachment(db):
    name = default_storage.save("entries/2025/03/offer.pdf", ContentFile(b"%PDF-1.4 offer"))
    return factories.LogEntryFactory(attachment=name)


@pytest.mark.parametrize("persona", ["owner", "manager", "outsider"])
def test_everyone_signed_in_downloads_an_entrys_attachment(
    client, request, persona, with_attachment
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("interactions:entry_attachment", args=[with_attachment.pk]))
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == b"%PDF-1.4 offer"
    assert response["Content-Disposition"] == 'attachment; filename="offer.pdf"'


def test_anonymous_visitor_cannot_download_an_attachment(client, with_attachment):
    response = client.get(reverse("interactions:entry_attachment", args=[with_attachment.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_entry_page_links_the_attachment(owner_client, with_attachment):
    content = owner_client.get(page_url(with_attachment)).content.decode()
    assert reverse("interactions:entry_attachment", args=[with_attachment.pk]) in content


def test_download_of_a_missing_or_absent_attachment_is_a_404(owner_client):
    gone = factories.LogEntryFactory(attachment="entries/2025/03/gone.pdf")
    none = factories.LogEntryFactory()
    for entry in (gone, none):
        url = reverse("interactions:entry_attachment", args=[entry.pk])
        assert owner_client.get(url).status_code == 404
    assert owner_client.get(
        reverse("interactions:entry_attachment", args=[987654])
    ).status_code == (404)


# --- Comments -------------------------------------------------------------------------------


def test_salesperson_adds_a_comment(owner, owner_client):
    entry = factories.LogEntryFactory()
    response = owner_client.post(
        reverse("interactions:comment_create", args=[entry.pk]),
        {"date": "2025-03-14", "comment": "Wants a quote by Friday"},
    )
    assert response.status_code == 302
    comment = InteractionComment.objects.get(entry=entry)
    assert (comment.date, comment.comment) == (
        datetime.date(2025, 3, 14),
        "Wants a quote by Friday",
    )
    assert comment.created_by == owner
    assert b"Wants a quote by Friday" in owner_client.get(page_url(entry)).content


def test_a_comment_with_bad_input_shows_the_errors(owner_client):
    entry = factories.LogEntryFactory()
    response = owner_client.post(
        reverse("interactions:comment_create", args=[entry.pk]), {"date": "", "comment": "x" * 251}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"date", "comment"}
    assert not InteractionComment.objects.exists()


@pytest.mark.parametrize("editor", ["colleague", "manager"])
def test_the_author_or_a_manager_edits_a_comment_and_is_recorded(
    colleague, client, request, editor
):
    comment = factories.CommentFactory(comment="Call back", created_by=colleague)
    user = request.getfixturevalue(editor)
    client.force_login(user)
    edit = reverse("interactions:comment_edit", args=[comment.entry_id, comment.pk])
    assert client.get(edit).status_code == 200
    client.post(edit, {"date": "2025-03-15", "comment": "Called back, all fine"})
    comment.refresh_from_db()
    assert comment.comment == "Called back, all fine"
    assert (comment.created_by, comment.updated_by) == (colleague, user)


def test_the_author_deletes_a_comment_after_confirming(colleague, client):
    comment = factories.CommentFactory(comment="Wrong entry", created_by=colleague)
    keep = factories.CommentFactory(entry=comment.entry, created_by=colleague)
    client.force_login(colleague)
    delete = reverse("interactions:comment_delete", args=[comment.entry_id, comment.pk])

    confirm = client.get(delete)
    response = client.post(delete, follow=True)

    assert "Wrong entry" in confirm.content.decode()
    assert response.redirect_chain[-1][0].startswith(comment.entry.get_absolute_url())
    assert "Comment deleted." in response.content.decode()
    assert list(InteractionComment.objects.all()) == [keep]


def test_a_comment_is_edited_only_under_its_own_entry(owner_client):
    comment = factories.CommentFactory()
    other = factories.LogEntryFactory()
    edit = reverse("interactions:comment_edit", args=[other.pk, comment.pk])
    assert owner_client.get(edit).status_code == 404


def test_outsider_cannot_comment(client, outsider):
    client.force_login(outsider)
    comment = factories.CommentFactory()
    add = reverse("interactions:comment_create", args=[comment.entry_id])
    edit = reverse("interactions:comment_edit", args=[comment.entry_id, comment.pk])
    assert client.post(add, {"date": "2025-03-14", "comment": "x"}).status_code == 403
    assert client.post(edit, {"date": "2025-03-14", "comment": "x"}).status_code == 403
    assert InteractionComment.objects.get().comment == comment.comment
    assert b"Add comment" not in client.get(page_url(comment.entry)).content


# --- Evaluate and cancel from the entry page ------------------------------------------------


def test_entry_page_evaluates_and_returns_to_the_entry(owner_client):
    entry = factories.LogEntryFactory()
    response = owner_client.post(
        reverse("interactions:entry_evaluate"),
        {"entry": [entry.pk], "evaluation": "positive", "next": page_url(entry)},
    )
    assert response.url == page_url(entry)
    assert InteractionLogEntry.objects.get(pk=entry.pk).evaluation == Evaluation.POSITIVE


def test_entry_page_offers_cancel_only_to_managers(client, owner, manager):
    entry = factories.LogEntryFactory()
    client.force_login(owner)
    assert "Cancel entry" not in client.get(page_url(entry)).content.decode()
    client.force_login(manager)
    assert "Cancel entry" in client.get(page_url(entry)).content.decode()


# --- Resend ---------------------------------------------------------------------------------


def test_resend_queues_an_entry_in_error_again(owner, owner_client):
    entry = factories.LogEntryFactory(
        delivery_status=DeliveryStatus.ERROR, delivery_attempts=5, delivery_last_error="550"
    )
    assert b"Resend" in owner_client.get(page_url(entry)).content
    response = owner_client.post(reverse("interactions:entry_resend", args=[entry.pk]))
    assert response.url == page_url(entry)
    entry.refresh_from_db()
    assert (entry.delivery_status, entry.delivery_attempts) == (DeliveryStatus.PENDING, 0)
    assert entry.updated_by == owner


def test_resend_of_an_entry_not_in_error_says_why(owner_client):
    entry = factories.LogEntryFactory(delivery_status=DeliveryStatus.SENT)
    assert b"Resend" not in owner_client.get(page_url(entry)).content
    response = owner_client.post(reverse("interactions:entry_resend", args=[entry.pk]), follow=True)
    assert any("Only an entry whose delivery status is Error" in m for m in messages_of(response))
    entry.refresh_from_db()
    assert entry.delivery_status == DeliveryStatus.SENT


def test_outsider_cannot_resend(client, outsider):
    client.force_login(outsider)
    entry = factories.LogEntryFactory(delivery_status=DeliveryStatus.ERROR)
    assert client.post(reverse("interactions:entry_resend", args=[entry.pk])).status_code == 403
    entry.refresh_from_db()
    assert entry.delivery_status == DeliveryStatus.ERROR


# --- Print layout and the Content-Security-Policy -------------------------------------------


def test_entry_page_has_a_print_button_and_a_print_stylesheet(owner_client):
    entry = factories.LogEntryFactory()
    content = owner_client.get(page_url(entry)).content.decode()
    assert "data-print" in content
    assert 'class="print-only"' in content
    css = (Path(settings.BASE_DIR) / "static/css/crm.css").read_text()
    assert "@media print" in css
    assert ".print-only { display: block; }" in css


def test_interaction_templates_have_no_inline_scripts_or_styles():
    # A strict Content-Security-Policy blocks both.
    folder = Path(settings.BASE_DIR) / "templates"
    for template in [*folder.glob("interactions/*.html"), *folder.glob("includes/*.html")]:
        text = template.read_text()
        assert "<script" not in text, template
        assert "style=" not in text, template
        assert "onclick" not in text, template
        assert "|safe" not in text, template


@pytest.mark.parametrize("persona", ["manager", "owner"])
@pytest.mark.parametrize("rows", [3, 30])
def test_entry_page_query_count_does_not_grow_with_comments(
    client, request, django_assert_num_queries, persona, rows
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    entry = factories.LogEntryFactory(
        attachment="entries/x.pdf", delivery_status=DeliveryStatus.ERROR
    )
    factories.CommentFactory.create_batch(
        rows, entry=entry, created_by=factories.UserFactory(), updated_by=factories.UserFactory()
    )
    factories.CommentFactory(entry=entry, created_by=user)
    # session, user (with its permissions), the entry with its related rows (two queries),
    # comments with their authors; whether each comment may be edited costs no query
    with django_assert_num_queries(5):
        response = client.get(page_url(entry))
    assert response.status_code == 200
    editable = [comment.editable for comment in response.context["comments"]]
    assert editable == ([True] * (rows + 1) if persona == "manager" else [False] * rows + [True])


def test_entry_page_shows_typed_markup_and_quotes_escaped_as_the_django_engine_does(
    owner_client,
):
    # The panels General and Cost and result come from a Jinja2 partial
    # (jinja2/interactions/_entry_fields.html) fed values escaped by Django: a quote is &#x27;
    # there as in the rest of the page.
    entry = factories.LogEntryFactory(
        description="Call O'Hara <b>now</b> & then",
        contact=factories.PersonFactory(first_name="Sam", surname="O'Hara"),
        segment_no="<i>7</i>",
    )

    html = owner_client.get(page_url(entry)).content.decode()

    # the subtitle (the Django template) and the General panel (the partial)
    assert html.count("Call O&#x27;Hara &lt;b&gt;now&lt;/b&gt; &amp; then") == 2
    assert ">Sam O&#x27;Hara</a>" in html
    assert "<dd>&lt;i&gt;7&lt;/i&gt;</dd>" in html
    assert "<b>" not in html
    assert "&#39;" not in html


def test_entry_page_writes_the_comment_forms_own_inputs(owner_client):
    entry = factories.LogEntryFactory()

    html = owner_client.get(page_url(entry)).content.decode()

    form = CommentForm(initial={"date": timezone.localdate()})
    for name in ("date", "comment"):
        assert f'<label for="id_{name}">{form[name].label}</label>' in html
        assert str(form[name]) in html


def test_an_entrys_campaign_and_opportunity_link_to_their_log_entries(owner_client):
    entry = factories.LogEntryFactory(
        campaign=factories.CampaignFactory(number="CAM 7"),
        opportunity=factories.OpportunityFactory(number="OPP00004"),
    )
    html = owner_client.get(page_url(entry)).content.decode()

    assert '<a href="/interactions/entries/?campaign=CAM%207"' in html
    assert '<a href="/interactions/entries/?opportunity=OPP00004"' in html
