"""Actions of `Interaction Log Entries`: Switch Check Mark in Canceled, Evaluate Interaction,
Delete Canceled Entries and the CSV export, with the roles that may run them (spec 5 and 6)."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from interactions import services
from interactions.csv_export import labelled_header
from interactions.models import DeliveryStatus, Evaluation, InteractionComment, InteractionLogEntry
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("interactions:entry_list")
SWITCH = reverse("interactions:entry_switch_canceled")
EVALUATE = reverse("interactions:entry_evaluate")
DELETE = reverse("interactions:entry_delete_canceled")
EXPORT = reverse("interactions:entry_export")
DAY = datetime.date(2025, 3, 14)


def canceled(*entries) -> list[bool]:
    return [InteractionLogEntry.objects.get(pk=e.pk).canceled for e in entries]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Switch Check Mark in Canceled ----------------------------------------------------------


def test_switch_asks_first_and_says_how_many_become_canceled_and_un_canceled(manager_client):
    active = factories.LogEntryFactory.create_batch(2)
    was_canceled = factories.LogEntryFactory(canceled=True)
    ids = [e.pk for e in [*active, was_canceled]]

    response = manager_client.post(SWITCH, {"entry": ids, "next": LIST})

    assert response.status_code == 200
    switch = response.context["switch"]
    assert (len(switch.to_cancel), len(switch.to_uncancel), switch.refused) == (2, 1, ())
    assert b"2 entries become canceled." in response.content
    assert b"1 entry becomes un-canceled." in response.content
    assert canceled(*active, was_canceled) == [False, False, True]  # nothing changed yet


def test_confirmed_switch_flips_each_entry_and_records_who(manager, manager_client):
    active = factories.LogEntryFactory()
    was_canceled = factories.LogEntryFactory(canceled=True)
    response = manager_client.post(
        SWITCH, {"entry": [active.pk, was_canceled.pk], "confirm": "1", "next": LIST}
    )
    assert response.status_code == 302
    assert response.url == LIST
    assert canceled(active, was_canceled) == [True, False]
    assert InteractionLogEntry.objects.get(pk=active.pk).updated_by == manager


def test_an_entry_of_a_canceled_logged_segment_cannot_be_un_canceled(manager_client):
    logged = factories.LoggedSegmentFactory(canceled=True)
    stuck = factories.LogEntryFactory(logged_segment=logged, canceled=True)
    free = factories.LogEntryFactory(canceled=True)

    preview = manager_client.post(SWITCH, {"entry": [stuck.pk, free.pk]})
    assert preview.context["switch"].refused == (stuck.pk,)
    assert b"1 entry stays canceled: its logged segment is canceled." in preview.content

    response = manager_client.post(
        SWITCH, {"entry": [stuck.pk, free.pk], "confirm": "1"}, follow=True
    )
    assert canceled(stuck, free) == [True, False]
    assert "1 entry stays canceled: its logged segment is canceled." in messages_of(response)


def test_switch_service_rechecks_the_logged_segment_after_locking(manager):
    logged = factories.LoggedSegmentFactory(canceled=False)
    entry = factories.LogEntryFactory(logged_segment=logged, canceled=True)
    logged.canceled = True
    logged.save()
    switch = services.entry_switch_canceled(user=manager, entry_ids=[entry.pk])
    assert switch.refused == (entry.pk,)
    assert canceled(entry) == [True]


def test_switch_without_a_selection_says_so(manager_client):
    response = manager_client.post(SWITCH, {"next": LIST}, follow=True)
    assert "Select one or more entries first." in messages_of(response)


def test_switch_goes_back_only_to_our_own_pages(manager_client):
    entry = factories.LogEntryFactory()
    response = manager_client.post(
        SWITCH, {"entry": [entry.pk], "confirm": "1", "next": "https://evil.example/"}
    )
    assert response.url == LIST


@pytest.mark.parametrize("persona", ["owner", "outsider"])
def test_only_marketing_managers_cancel_entries(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    entry = factories.LogEntryFactory()
    assert client.post(SWITCH, {"entry": [entry.pk], "confirm": "1"}).status_code == 403
    assert canceled(entry) == [False]


def test_switch_needs_post(manager_client):
    assert manager_client.get(SWITCH).status_code == 405


# --- Evaluate Interaction -------------------------------------------------------------------


def test_salesperson_evaluates_the_selected_entries(owner, owner_client):
    chosen = factories.LogEntryFactory.create_batch(2)
    other = factories.LogEntryFactory()
    response = owner_client.post(
        EVALUATE, {"entry": [e.pk for e in chosen], "evaluation": "very_positive", "next": LIST}
    )
    assert response.status_code == 302
    evaluations = dict(InteractionLogEntry.objects.values_list("pk", "evaluation"))
    assert [evaluations[e.pk] for e in chosen] == [Evaluation.VERY_POSITIVE] * 2
    assert evaluations[other.pk] == Evaluation.BLANK
    assert InteractionLogEntry.objects.get(pk=chosen[0].pk).updated_by == owner


def test_evaluate_can_clear_an_evaluation(owner_client):
    entry = factories.LogEntryFactory(evaluation=Evaluation.NEGATIVE)
    owner_client.post(EVALUATE, {"entry": [entry.pk], "evaluation": "blank"})
    assert InteractionLogEntry.objects.get(pk=entry.pk).evaluation == Evaluation.BLANK


@pytest.mark.parametrize("evaluation", ["", "brilliant"])
def test_evaluate_without_a_valid_choice_changes_nothing(owner_client, evaluation):
    entry = factories.LogEntryFactory(evaluation=Evaluation.NEGATIVE)
    response = owner_client.post(
        EVALUATE, {"entry": [entry.pk], "evaluation": evaluation}, follow=True
    )
    assert InteractionLogEntry.objects.get(pk=entry.pk).evaluation == Evaluation.NEGATIVE
    assert messages_of(response)


def test_evaluate_refuses_an_unknown_entry_number(owner_client):
    response = owner_client.post(EVALUATE, {"entry": ["987654"], "evaluation": "positive"})
    assert response.status_code == 302


def test_outsider_cannot_evaluate(client, outsider):
    client.force_login(outsider)
    entry = factories.LogEntryFactory()
    response = client.post(EVALUATE, {"entry": [entry.pk], "evaluation": "positive"})
    assert response.status_code == 403


# --- Delete Canceled Entries ----------------------------------------------------------------


@pytest.fixture
def mixed(db):
    """For salesperson DEL: two canceled entries (one with a comment), one active; and a
    canceled entry of another salesperson."""
    salesperson = factories.SalespersonFactory(code="DEL")
    doomed = factories.LogEntryFactory.create_batch(2, salesperson=salesperson, canceled=True)
    factories.CommentFactory(entry=doomed[0])
    kept = factories.LogEntryFactory(salesperson=salesperson)
    elsewhere = factories.LogEntryFactory(canceled=True)
    return doomed, kept, elsewhere


def test_delete_canceled_confirms_with_the_count_of_the_filter(manager_client, mixed):
    response = manager_client.get(DELETE, {"salesperson": "DEL"})
    assert response.status_code == 200
    assert response.context["count"] == 2
    assert b"2 canceled entries will be deleted" in response.content
    assert InteractionLogEntry.objects.count() == 4


def test_delete_canceled_deletes_only_canceled_entries_of_the_filter(manager_client, mixed):
    _doomed, kept, elsewhere = mixed
    response = manager_client.post(f"{DELETE}?salesperson=DEL", {"expected": "2"})
    assert response.status_code == 302
    assert response.url == f"{LIST}?salesperson=DEL"
    assert set(InteractionLogEntry.objects.values_list("pk", flat=True)) == {kept.pk, elsewhere.pk}
    assert not InteractionComment.objects.exists()


def test_delete_canceled_with_a_filter_for_active_entries_deletes_nothing(manager_client, mixed):
    response = manager_client.get(DELETE, {"salesperson": "DEL", "canceled": "no"})
    assert response.context["count"] == 0
    assert b"nothing to delete" in response.content
    manager_client.post(f"{DELETE}?salesperson=DEL&canceled=no", {"expected": "0"})
    assert InteractionLogEntry.objects.count() == 4


def test_delete_canceled_asks_again_when_the_count_changed(manager_client, mixed):
    response = manager_client.post(f"{DELETE}?salesperson=DEL", {"expected": "1"})
    assert response.status_code == 200
    assert response.context["changed"]
    assert response.context["count"] == 2
    assert InteractionLogEntry.objects.count() == 4


def test_delete_canceled_keeps_an_entry_being_sent(manager_client):
    sending = factories.LogEntryFactory(canceled=True, delivery_status=DeliveryStatus.SENDING)
    assert manager_client.get(DELETE).context["count"] == 0
    manager_client.post(DELETE, {"expected": "0"})
    assert InteractionLogEntry.objects.filter(pk=sending.pk).exists()


def test_delete_canceled_removes_the_entrys_own_attachment_file(
    manager_client, django_capture_on_commit_callbacks
):
    name = default_storage.save("entries/2025/03/offer.pdf", ContentFile(b"%PDF"))
    factories.LogEntryFactory(canceled=True, attachment=name)
    shared = default_storage.save("segments/SEG1/shared.pdf", ContentFile(b"%PDF"))
    factories.LogEntryFactory(canceled=True, attachment=shared)
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(DELETE, {"expected": "2"})
    assert not default_storage.exists(name)
    assert default_storage.exists(shared)


def test_delete_canceled_with_a_bad_filter_goes_back_to_the_list(manager_client, mixed):
    response = manager_client.post(f"{DELETE}?salesperson=NOBODY", {"expected": "2"})
    assert response.status_code == 302
    assert InteractionLogEntry.objects.count() == 4


@pytest.mark.parametrize("persona", ["owner", "outsider"])
def test_only_marketing_managers_delete_entries(client, request, persona, mixed):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(DELETE).status_code == 403
    assert client.post(DELETE, {"expected": "3"}).status_code == 403
    assert InteractionLogEntry.objects.count() == 4


@pytest.mark.parametrize("rows", [3, 30])
def test_delete_canceled_confirmation_query_count_does_not_grow(
    manager_client, django_assert_num_queries, rows
):
    factories.SalespersonFactory(code="QC")
    factories.LogEntryFactory.create_batch(rows, canceled=True)
    # session, user (with its permissions), the salesperson of the filter, the count; the filter
    # form's four selects are not rendered on this page.
    with django_assert_num_queries(4):
        response = manager_client.get(DELETE, {"salesperson": "QC"})
    assert response.status_code == 200


# --- The list shows what the user may do ----------------------------------------------------


def test_manager_sees_every_action_on_the_list(manager_client):
    factories.LogEntryFactory()
    content = manager_client.get(LIST).content.decode()
    for text in (
        "Switch Check Mark in Canceled",
        "Evaluate Interaction",
        "Delete Canceled Entries",
        "Export to CSV",
        'name="entry"',
    ):
        assert text in content


def test_salesperson_sees_evaluate_and_export_but_not_cancel_or_delete(owner_client):
    factories.LogEntryFactory()
    content = owner_client.get(LIST).content.decode()
    assert "Evaluate Interaction" in content
    assert "Export to CSV" in content
    assert "Switch Check Mark in Canceled" not in content
    assert "Delete Canceled Entries" not in content


def test_outsider_sees_the_list_without_actions(client, outsider):
    client.force_login(outsider)
    factories.LogEntryFactory(description="Shared book")
    content = client.get(LIST).content.decode()
    assert "Shared book" in content
    assert 'name="entry"' not in content
    assert "Export to CSV" not in content


def test_action_links_keep_the_filter_but_not_the_page_position(manager_client):
    factories.SalespersonFactory(code="KEEP")
    factories.LogEntryFactory()
    content = manager_client.get(LIST, {"salesperson": "KEEP", "after": "2025-01-01_5"}).content
    assert f'href="{EXPORT}?salesperson=KEEP"'.encode() in content
    assert f'href="{DELETE}?salesperson=KEEP"'.encode() in content


# --- CSV export -----------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_holds_exactly_the_filtered_rows_newest_first(owner_client):
    salesperson = factories.SalespersonFactory(code="CSV")
    older = factories.LogEntryFactory(salesperson=salesperson, date=DAY - datetime.timedelta(1))
    newer = factories.LogEntryFactory(salesperson=salesperson, date=DAY)
    factories.LogEntryFactory(salesperson=salesperson, date=DAY, canceled=True)
    factories.LogEntryFactory(date=DAY)
    response = owner_client.get(EXPORT, {"salesperson": "CSV", "canceled": "no"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    rows = read_csv(response)
    assert rows[0] == labelled_header()
    assert rows[0][:3] == ["Entry No.", "Date", "Time"]
    assert [int(row[0]) for row in rows[1:]] == [newer.pk, older.pk]


def test_csv_export_sends_rows_in_pieces_and_loses_none(owner_client, monkeypatch):
    from interactions import csv_export

    monkeypatch.setattr(csv_export, "STREAM_CHUNK_ROWS", 2)
    entries = factories.LogEntryFactory.create_batch(5)
    response = owner_client.get(EXPORT)
    pieces = list(response.streaming_content)
    assert len(pieces) == 4  # the header, then rows 2 + 2 + 1
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode("utf-8-sig"))))
    assert sorted(int(row[0]) for row in rows[1:]) == sorted(e.pk for e in entries)


def test_csv_export_neutralises_formulas(owner_client):
    factories.LogEntryFactory(description="=HYPERLINK(1)", subject="@SUM(A1)")
    rows = read_csv(owner_client.get(EXPORT))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Description"] == "'=HYPERLINK(1)"
    assert row["Subject"] == "'@SUM(A1)"


def test_csv_export_with_a_bad_filter_goes_back_to_the_list(owner_client):
    response = owner_client.get(EXPORT, {"date_from": "soon"})
    assert response.status_code == 302
    assert response.url == f"{LIST}?date_from=soon"


def test_outsider_cannot_export(client, outsider):
    client.force_login(outsider)
    assert client.get(EXPORT).status_code == 403


def test_csv_export_query_count_does_not_grow_with_rows(owner_client, django_assert_num_queries):
    for rows in (3, 30):
        factories.LogEntryFactory.create_batch(rows)
        # session, user (with its permissions); then the rows in one server-side cursor (2,000 a
        # fetch) inside a transaction: a savepoint here, as the test runs in a transaction.
        with django_assert_num_queries(5):
            response = owner_client.get(EXPORT)
            assert len(read_csv(response)) > rows


def test_list_rows_escape_what_users_typed(manager_client):
    contact = factories.PersonFactory(name='<script>alert("x")</script>', number="CP<b>")
    factories.LogEntryFactory(
        contact=contact,
        description='"><img src=x onerror=alert(1)>',
        salesperson=factories.SalespersonFactory(code="S&P"),
        evaluation=Evaluation.POSITIVE,
        canceled=True,
        delivery_status=DeliveryStatus.ERROR,
    )
    content = manager_client.get(LIST).content.decode()
    assert "<script>alert" not in content
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in content
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in content
    assert "CP&lt;b&gt;" in content
    assert ">S&amp;P</a>" in content
    assert "<td>Positive</td>" in content
    assert '<span class="badge badge-danger">Error</span>' in content


# --- Concurrency: two connections against Postgres -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_delete_canceled_never_deletes_an_entry_un_canceled_at_the_same_moment():
    """A manager un-cancels entries while another deletes the canceled ones: whichever locks the
    rows first wins, and every entry that ends up active still exists."""
    import threading

    from django.db import connection

    manager = factories.ManagerUserFactory(username="racer")
    entries = factories.LogEntryFactory.create_batch(40, canceled=True)
    ids = [e.pk for e in entries]
    barrier = threading.Barrier(2)
    errors = []

    def run(action):
        try:
            barrier.wait(10)
            action()
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run,
            args=(lambda: services.entry_switch_canceled(user=manager, entry_ids=ids[::2]),),
        ),
        threading.Thread(
            target=run,
            args=(
                lambda: services.entry_delete_canceled(
                    user=manager, entries=InteractionLogEntry.objects.all()
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    left = dict(InteractionLogEntry.objects.values_list("pk", "canceled"))
    assert not any(left.values()), "a canceled entry survived the delete"
    # Either the switch ran first (its 20 entries are active and kept) or the delete did (all
    # gone, and the switch found nothing to flip).
    assert set(left) in (set(), set(ids[::2]))


def test_card_history_rows_escape_what_users_typed(owner_client):
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company, name="<b>Bold</b> & Co")
    template = factories.TemplateFactory(description="<i>Call</i>", information_flow="inbound")
    factories.LogEntryFactory(
        contact=person, template=template, description="<script>x</script>", attempt_failed=True
    )
    content = owner_client.get(reverse("contacts:contact_detail", args=[company.pk])).content
    content = content.decode()
    assert "<script>x" not in content
    assert "&lt;script&gt;x&lt;/script&gt;" in content
    assert "&lt;i&gt;Call&lt;/i&gt; from &lt;b&gt;Bold&lt;/b&gt; &amp; Co</a>" in content
    assert ">&lt;b&gt;Bold&lt;/b&gt; &amp; Co</a></td>" in content
    assert "Attempt failed" in content


def test_csv_export_writes_the_pages_words_in_the_users_language(owner_client, tmp_path):
    from django.core.management import call_command

    factories.LogEntryFactory(
        template=factories.TemplateFactory(information_flow="outbound"),
        information_flow="outbound",
        correspondence_type="email",
        evaluation="positive",
        canceled=True,
        language="nl",
    )
    english = read_csv(owner_client.get(EXPORT))
    dutch = read_csv(owner_client.get(EXPORT, HTTP_ACCEPT_LANGUAGE="nl"))
    target = tmp_path / "export.csv"
    call_command("export_interactions", "-o", str(target), stdout=io.StringIO())
    command = list(csv.reader(io.StringIO(target.read_text("utf-8-sig"))))

    def cells(rows, *columns):
        row = dict(zip(rows[0], rows[1], strict=True))
        return [row[column] for column in columns]

    assert cells(english, "Information Flow", "Correspondence Type", "Evaluation") == [
        "Outbound", "Email", "Positive",
    ]  # fmt: skip
    assert cells(english, "Canceled", "Language") == ["Yes", "Dutch"]
    assert dutch[0][:2] == ["Postnr.", "Datum"]
    assert cells(dutch, "Informatiestroom", "Geannuleerd", "Taal") == [
        "Uitgaand",
        "Ja",
        "Nederlands",
    ]
    # The command keeps the stable codes (docs/operations.md).
    assert cells(command, "information_flow", "correspondence_type", "canceled", "language") == [
        "outbound", "email", "yes", "nl",
    ]  # fmt: skip
