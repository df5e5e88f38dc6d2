"""Concurrency and faults on real connections (issue 7, docs/security.md).

The number series, Finish, Log, delivery and delete-canceled already race each other in their
own test modules; here: cancel racing cancel, acting on a row another request deleted
meanwhile, a failure in the middle of every multi-row write of the cancel and delete paths,
reconnecting after the database dropped the app's connection, and `/healthz` when the database
is gone.
"""

from __future__ import annotations

import threading
from wsgiref.util import setup_testing_defaults

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection, transaction
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from contacts import services as contact_services
from contacts.services import RecordGone
from interactions import services as interaction_services
from interactions.models import InteractionComment, InteractionDraft, InteractionLogEntry
from segments import services as segment_services
from segments import views as segment_views
from segments.models import LoggedSegment, Segment
from tests import factories

pytestmark = pytest.mark.django_db


def run_together(*actions, timeout: float = 30) -> list[BaseException]:
    """Run each action on its own thread (so its own database connection), released at the
    same moment; the exceptions they raised."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action):
        try:
            barrier.wait(10)
            action()
        except BaseException as exc:  # reported by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return errors


def totals_match_entries(salesperson) -> bool:
    """The daily totals the statistics read agree with the entries themselves."""
    keys = ("count", "cost", "duration")
    from_totals = salesperson.day_totals.statistics()
    from_entries = salesperson.log_entries.statistics()
    return all(from_totals[key] == from_entries[key] for key in keys)


# --- cancel racing cancel -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_managers_switching_the_same_entries_at_once_switch_them_twice():
    """Each switch locks the rows first: the second sees the first's result and flips it
    back. Without the lock both would read "active" and both would write "canceled"."""
    managers = [factories.ManagerUserFactory(username=f"racer{n}") for n in range(2)]
    salesperson = factories.SalespersonFactory()
    entries = factories.LogEntryFactory.create_batch(30, salesperson=salesperson)
    ids = [entry.pk for entry in entries]

    errors = run_together(
        *[
            lambda user=user: interaction_services.entry_switch_canceled(user=user, entry_ids=ids)
            for user in managers
        ]
    )

    assert errors == []
    assert not InteractionLogEntry.objects.filter(pk__in=ids, canceled=True).exists()
    assert totals_match_entries(salesperson)


@pytest.mark.django_db(transaction=True)
def test_two_managers_switching_a_logged_segment_at_once_leave_it_consistent():
    """The logged segment and every one of its entries end in the same state."""
    managers = [factories.ManagerUserFactory(username=f"racer{n}") for n in range(3)]
    salesperson = factories.SalespersonFactory()
    logged = factories.LoggedSegmentFactory()
    factories.LogEntryFactory.create_batch(40, logged_segment=logged, salesperson=salesperson)

    errors = run_together(
        *[
            lambda user=user: segment_services.logged_segment_switch_canceled(
                logged=LoggedSegment.objects.get(pk=logged.pk), user=user
            )
            for user in managers
        ]
    )

    assert errors == []
    logged.refresh_from_db()
    assert logged.canceled is True  # three switches from active
    states = set(
        InteractionLogEntry.objects.filter(logged_segment=logged).values_list("canceled", flat=True)
    )
    assert states == {True}
    assert totals_match_entries(salesperson)


@pytest.mark.django_db(transaction=True)
def test_switching_a_logged_segment_while_it_is_being_deleted_loses_no_entry():
    manager = factories.ManagerUserFactory(username="racer")
    logged = factories.LoggedSegmentFactory(canceled=True)
    ids = [
        e.pk
        for e in factories.LogEntryFactory.create_batch(20, logged_segment=logged, canceled=True)
    ]

    errors = run_together(
        lambda: segment_services.logged_segment_switch_canceled(
            logged=LoggedSegment.objects.get(pk=logged.pk), user=manager
        ),
        lambda: segment_services.logged_segments_delete_canceled(user=manager),
    )

    # The switch either ran first (segment un-canceled, so not deleted) or found it gone.
    assert all(isinstance(error, RecordGone) for error in errors), errors
    assert InteractionLogEntry.objects.filter(pk__in=ids).count() == 20
    remaining = LoggedSegment.objects.filter(pk=logged.pk).first()
    entries = InteractionLogEntry.objects.filter(pk__in=ids)
    if remaining is None:
        assert set(entries.values_list("canceled", "logged_segment")) == {(True, None)}
    else:
        assert remaining.canceled is False
        assert set(entries.values_list("canceled", flat=True)) == {False}


# --- a failure in the middle of a multi-row write leaves nothing half-done ------------------------


def fail_on_call(monkeypatch, method: str, number: int) -> None:
    """Make the ``number``-th call of ``QuerySet.<method>`` raise, the earlier ones run."""
    original = getattr(QuerySet, method)
    calls = {"n": 0}

    def wrapper(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise OperationalError("the database went away mid-write")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, method, wrapper)


@pytest.mark.django_db(transaction=True)
def test_a_fault_between_cancel_and_un_cancel_changes_no_entry(monkeypatch):
    manager = factories.ManagerUserFactory(username="m")
    active = factories.LogEntryFactory.create_batch(3)
    canceled = factories.LogEntryFactory.create_batch(3, canceled=True)
    fail_on_call(monkeypatch, "update", 2)  # the un-cancel, after the cancel ran

    with pytest.raises(OperationalError):
        interaction_services.entry_switch_canceled(
            user=manager, entry_ids=[e.pk for e in active + canceled]
        )

    assert set(
        InteractionLogEntry.objects.filter(pk__in=[e.pk for e in active]).values_list(
            "canceled", flat=True
        )
    ) == {False}
    assert InteractionLogEntry.objects.filter(canceled=True).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_fault_between_deleting_comments_and_entries_deletes_nothing(monkeypatch):
    manager = factories.ManagerUserFactory(username="m")
    entries = factories.LogEntryFactory.create_batch(3, canceled=True)
    for entry in entries:
        factories.CommentFactory(entry=entry)
    name = default_storage.save("entries/2026/01/gone.pdf", ContentFile(b"%PDF"))
    InteractionLogEntry.objects.filter(pk=entries[0].pk).update(attachment=name)
    fail_on_call(monkeypatch, "delete", 2)  # the entries, after their comments went

    with pytest.raises(OperationalError):
        interaction_services.entry_delete_canceled(
            user=manager, entries=InteractionLogEntry.objects.all()
        )

    assert InteractionLogEntry.objects.count() == 3
    assert InteractionComment.objects.count() == 3
    assert default_storage.exists(name)  # files go only after the commit


@pytest.mark.django_db(transaction=True)
def test_a_fault_while_switching_a_logged_segment_leaves_segment_and_entries_as_they_were(
    monkeypatch,
):
    manager = factories.ManagerUserFactory(username="m")
    logged = factories.LoggedSegmentFactory()
    factories.LogEntryFactory.create_batch(5, logged_segment=logged)
    # The entries' update; the logged segment's own row was saved just before (Model.save).
    fail_on_call(monkeypatch, "update", 1)

    with pytest.raises(OperationalError):
        segment_services.logged_segment_switch_canceled(logged=logged, user=manager)

    logged.refresh_from_db()
    assert logged.canceled is False
    assert not InteractionLogEntry.objects.filter(canceled=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_fault_while_deleting_canceled_logged_segments_deletes_nothing(monkeypatch):
    manager = factories.ManagerUserFactory(username="m")
    logged = factories.LoggedSegmentFactory(canceled=True)
    factories.LogEntryFactory.create_batch(5, logged_segment=logged, canceled=True)
    fail_on_call(monkeypatch, "delete", 2)  # the frozen segments, after the logged segments

    with pytest.raises(OperationalError):
        segment_services.logged_segments_delete_canceled(user=manager)

    assert LoggedSegment.objects.filter(pk=logged.pk).exists()
    assert Segment.objects.filter(pk=logged.segment_id).exists()
    assert InteractionLogEntry.objects.filter(logged_segment=logged).count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_fault_while_deleting_a_segment_keeps_its_lines_drafts_and_files(monkeypatch, owner):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    factories.SegmentLineFactory.create_batch(3, segment=segment)
    draft = factories.DraftFactory(owner=owner, context_segment=segment, contact=None)
    name = default_storage.save(f"drafts/{draft.pk}/offer.pdf", ContentFile(b"%PDF"))
    InteractionDraft.objects.filter(pk=draft.pk).update(
        state={"step_files": {"content": {"attachment": {"tmp_name": name, "name": "o.pdf"}}}}
    )

    def explode(self, *args, **kwargs):
        raise OperationalError("the database went away mid-delete")

    monkeypatch.setattr(Segment, "delete", explode)
    with pytest.raises(OperationalError):
        segment_services.segment_delete(segment=segment, user=owner)

    assert segment.lines.count() == 3
    assert InteractionDraft.objects.filter(pk=draft.pk).exists()
    assert default_storage.exists(name)


# --- acting on a row another request deleted meanwhile --------------------------------------------
# A view reads a row, then its service acts on it; between the two another request may delete
# it. Every such service re-reads the row under a lock (contacts.services.lock_or_gone) and
# turns "gone" into RecordGone, which the page shows as a message: never a 500, never a deleted
# row saved back into existence.


def wait_until_a_connection_waits_for_a_lock(thread: threading.Thread) -> None:
    """Until another connection queues behind a lock this one holds (or ``thread`` ended)."""
    for _attempt in range(3000):  # bounded: 30 s
        with connection.cursor() as cursor:
            # Only this test database's connections: other test runs share the server. Within
            # a transaction pg_stat_activity is a snapshot taken once; drop it each time.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] or not thread.is_alive():
                return
        threading.Event().wait(0.01)
    raise AssertionError("the request never waited for the lock")


@pytest.mark.django_db(transaction=True)
def test_switching_a_logged_segment_that_delete_canceled_segments_removes_meanwhile_says_so():
    """The issue's race, on two connections: Switch Canceled read the logged segment, then
    Delete Canceled Segments (holding the row) deleted it; the switch got
    LoggedSegment.DoesNotExist, a 500. Now it is a message on the list."""
    manager = factories.ManagerUserFactory(username="switcher")
    logged = factories.LoggedSegmentFactory(canceled=True)
    ids = [
        e.pk
        for e in factories.LogEntryFactory.create_batch(5, logged_segment=logged, canceled=True)
    ]
    switcher = Client()
    switcher.force_login(manager)
    url = reverse("segments:logged_segment_switch_canceled", args=[logged.pk])
    outcome: dict = {}

    def switch():
        try:
            outcome["response"] = switcher.post(url, follow=True)
        except BaseException as exc:  # a 500: the test client re-raises it
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=switch)
    # This connection is Delete Canceled Segments: it holds the row while the switch arrives.
    with transaction.atomic():
        LoggedSegment.objects.select_for_update().get(pk=logged.pk)
        thread.start()
        wait_until_a_connection_waits_for_a_lock(thread)
        InteractionLogEntry.objects.filter(logged_segment=logged).update(logged_segment=None)
        LoggedSegment.objects.filter(pk=logged.pk).delete()
        Segment.objects.filter(pk=logged.segment_id).delete()
    thread.join(30)

    assert "error" not in outcome, outcome.get("error")
    response = outcome["response"]
    assert response.redirect_chain[-1][0] == reverse("segments:logged_segment_list")
    assert f"Logged segment {logged.pk} was deleted meanwhile" in response.content.decode()
    entries = InteractionLogEntry.objects.filter(pk__in=ids)
    assert set(entries.values_list("canceled", "logged_segment")) == {(True, None)}


def deleted_meanwhile(instance) -> None:
    """Another request deletes the row after this one read it into ``instance``."""
    type(instance).objects.filter(pk=instance.pk).delete()


def test_editing_a_comment_deleted_meanwhile_does_not_bring_it_back(owner):
    comment = factories.CommentFactory(created_by=owner)
    deleted_meanwhile(comment)

    with pytest.raises(RecordGone):
        interaction_services.comment_update(
            user=owner, comment=comment, date=comment.date, text="edited"
        )
    with pytest.raises(RecordGone):
        interaction_services.comment_delete(user=owner, comment=comment)
    assert not InteractionComment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_commenting_on_an_entry_deleted_meanwhile_is_refused_cleanly():
    user = factories.SalespersonUserFactory(username="commenter")
    entry = factories.LogEntryFactory(canceled=True)
    deleted_meanwhile(entry)

    with pytest.raises(RecordGone):
        interaction_services.comment_create(
            user=user, entry=entry, date=entry.date, text="too late"
        )
    assert not InteractionComment.objects.exists()


@pytest.mark.parametrize(
    ("factory", "update"),
    [
        (
            factories.TemplateFactory,
            lambda u, r: interaction_services.template_update(
                user=u, template=r, data={"description": "changed"}
            ),
        ),
        (
            factories.GroupFactory,
            lambda u, r: interaction_services.group_update(
                user=u, group=r, data={"description": "changed"}
            ),
        ),
        (
            factories.CampaignFactory,
            lambda u, r: contact_services.campaign_update(
                user=u, campaign=r, data={"description": "changed"}
            ),
        ),
        (
            factories.OpportunityFactory,
            lambda u, r: contact_services.opportunity_update(
                user=u, opportunity=r, data={"description": "changed"}
            ),
        ),
        (
            factories.NumberSeriesFactory,
            lambda u, r: contact_services.number_series_update(
                user=u, series=r, data={"description": "changed"}
            ),
        ),
        (
            factories.SalespersonFactory,
            lambda u, r: contact_services.salesperson_update(
                user=u, salesperson=r, data={"name": "changed"}
            ),
        ),
        (
            factories.PersonFactory,
            lambda u, r: contact_services.contact_update(
                user=u, contact=r, data={"job_title": "changed"}
            ),
        ),
    ],
    ids=["template", "group", "campaign", "opportunity", "number series", "salesperson", "contact"],
)
def test_saving_a_record_deleted_meanwhile_is_refused_not_saved_back(manager, factory, update):
    record = factory()
    deleted_meanwhile(record)

    with pytest.raises(RecordGone):
        update(manager, record)
    assert not type(record).objects.filter(pk=record.pk).exists()


def test_changing_a_segment_line_removed_meanwhile_is_refused(owner):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    line = factories.SegmentLineFactory(segment=segment)
    deleted_meanwhile(line)

    with pytest.raises(RecordGone):
        segment_services.segment_line_personalise(
            line=line, user=owner, data={"unit_cost": 1}, changed=["unit_cost"]
        )
    with pytest.raises(RecordGone):
        segment_services.segment_line_reset(line=line, user=owner)
    assert not segment.lines.exists()


@pytest.mark.parametrize(
    ("name", "post"),
    [
        (
            "segments:segment_edit",
            {"description": "x", "date": "2026-01-05", "unit_cost": "0", "unit_duration": "0"},
        ),
        ("segments:segment_delete", {}),
        ("segments:lines_remove", {"line": ["1"]}),
        ("segments:segment_log", {}),
    ],
)
def test_changing_a_segment_deleted_meanwhile_is_a_message(
    owner_client, owner, monkeypatch, name, post
):
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    factories.SegmentLineFactory(segment=segment)
    read = segment_views.selectors.get_segment_for_user

    def read_then_deleted(request, pk):  # the page read it; then another request deleted it
        found = read(request, pk)
        deleted_meanwhile(found)
        return found

    monkeypatch.setattr(segment_views.selectors, "get_segment_for_user", read_then_deleted)

    response = owner_client.post(reverse(name, args=[segment.pk]), post, follow=True)

    # A form shows it above its fields (what was typed is kept); other pages on the list.
    assert response.status_code == 200
    assert "This segment was deleted meanwhile." in response.content.decode()


# --- the database going away ----------------------------------------------------------------------


def wsgi_get(handler: WSGIHandler, path: str) -> tuple[str, bytes]:
    """A request through the same WSGI entry point gunicorn uses (request_started and
    request_finished fire, so the connection handling is production's)."""
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, HTTP_HOST="localhost", REQUEST_METHOD="GET")
    status = {}

    def start_response(line, headers, exc_info=None):
        status["line"] = line

    result = handler(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()  # request_finished: keeps the connection (CONN_MAX_AGE) for the next
    return status["line"], body


@pytest.mark.django_db(transaction=True)
def test_the_app_reconnects_after_the_database_dropped_its_connection(settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    handler = WSGIHandler()
    assert wsgi_get(handler, "/healthz")[0].startswith("200")
    backend = connection.connection.info.backend_pid

    # A second connection (an administrator, a failover, a restart) ends the app's session.
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])

    status, body = wsgi_get(handler, "/healthz")

    assert status.startswith("200"), body
    assert connection.connection.info.backend_pid != backend


def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", unreachable)
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": "unreachable"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_reveals_nothing_else(client):
    response = client.get("/healthz")
    assert response.json() == {"database": "ok"}
    assert b"connection refused" not in response.content
    assert "Server" not in response
    assert client.post("/healthz").status_code == 405


def test_logged_in_pages_keep_working_on_a_fresh_client_after_a_reconnect(owner):
    """Sessions live in the database, not in a worker: any app server serves any user."""
    first, second = Client(), Client()
    first.force_login(owner)
    second.cookies = first.cookies  # the same browser, sent to another app server
    assert second.get("/contacts/").status_code == 200
