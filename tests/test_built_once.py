"""Reads compiled once per process (contacts/built_once.py) give what their queryset gives; link
prefixes kept per process follow the script prefix."""

from __future__ import annotations

import datetime
import threading
import uuid

import pytest
from django import forms
from django.contrib.postgres import signals as postgres_signals
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, connections
from django.db.models import Count, F, Max, OuterRef, Subquery
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import set_script_prefix

from contacts import views as contact_views
from contacts.built_once import BuiltOnceAggregate, BuiltOnceQuery, BuiltOnceUpdate
from contacts.forms import PeriodForm, SetupChoiceField
from contacts.models import Contact, Salesperson
from contacts.selectors import get_contact_for_user
from contacts.web import link_prefix
from interactions.forms import EntryFilterForm
from interactions.models import (
    DraftStatus,
    InitiatedBy,
    InteractionDraft,
    InteractionLogEntry,
    InteractionTemplate,
)
from interactions.selectors import get_draft_for_user
from interactions.wizard_forms import TypeForm
from tests import factories

pytestmark = pytest.mark.django_db

RELATED = ("contact", "template", "context_contact", "context_salesperson", "context_segment")


def own_draft():
    return BuiltOnceQuery(
        lambda owner, pk: (
            InteractionDraft.objects.owned_by(owner).filter(pk=pk).select_related(*RELATED)
        ),
        owner=-1,
        pk=uuid.UUID(int=0),
    )


def fields(obj) -> dict:
    return {key: value for key, value in vars(obj).items() if key != "_state"}


@pytest.fixture
def draft(owner):
    return factories.DraftFactory(
        owner=owner,
        template=factories.TemplateFactory(),
        context_contact=factories.CompanyFactory(),
        context_salesperson=factories.SalespersonFactory(),
        context_segment=factories.SegmentFactory(),
        state={"step": "type", "step_data": {"type": {"type-description": ["é"]}}},
    )


def test_built_once_query_loads_the_same_objects_as_its_queryset(draft, owner):
    query = own_draft()
    orm = (
        InteractionDraft.objects.owned_by(owner.pk).filter(pk=draft.pk).select_related(*RELATED)
    ).get()
    for _ in range(2):  # compiled on the first call, reused on the second
        (loaded,) = query.fetch(owner=owner.pk, pk=draft.pk)
        assert fields(loaded) == fields(orm)
        assert not loaded._state.adding
        assert loaded._state.db == "default"
        for name in RELATED:
            assert getattr(loaded, name) is not None
            assert fields(getattr(loaded, name)) == fields(getattr(orm, name))


def test_built_once_query_runs_its_querysets_sql_as_one_query(draft, owner):
    query = own_draft()
    query.fetch(owner=owner.pk, pk=draft.pk)
    with CaptureQueriesContext(connection) as orm:
        list(own_draft().build(owner=owner.pk, pk=draft.pk))
    with CaptureQueriesContext(connection) as queries:
        (loaded,) = query.fetch(owner=owner.pk, pk=draft.pk)
        assert loaded.template.code  # loaded with the draft, no query of its own
    assert len(queries) == 1
    assert queries[0]["sql"] == orm[0]["sql"]


def test_built_once_query_finds_nothing_for_other_values(draft, owner, colleague):
    query = own_draft()
    assert query.fetch(owner=colleague.pk, pk=draft.pk) == []
    assert query.fetch(owner=owner.pk, pk=uuid.uuid4()) == []
    assert len(query.fetch(owner=owner.pk, pk=draft.pk)) == 1


def test_built_once_query_refuses_a_value_of_another_type(draft, owner):
    query = own_draft()
    with pytest.raises(TypeError):
        query.fetch(owner=str(owner.pk), pk=draft.pk)
    with pytest.raises(TypeError):
        query.fetch(owner=owner.pk, pk=str(draft.pk))
    with pytest.raises(TypeError):
        query.fetch(owner=owner.pk)


def test_built_once_query_refuses_a_stand_in_written_into_the_sql():
    sliced = BuiltOnceQuery(lambda n: InteractionTemplate.objects.all()[:n], n=987654)
    with pytest.raises(ImproperlyConfigured):
        sliced.fetch(n=5)
    prefetching = BuiltOnceQuery(
        lambda pk: InteractionTemplate.objects.filter(pk=pk).prefetch_related("contents"), pk=-1
    )
    with pytest.raises(ImproperlyConfigured):
        prefetching.fetch(pk=5)


def test_get_draft_for_user_is_one_query_and_a_404_for_a_malformed_id(rf, draft, owner):
    request = rf.get("/")
    request.user = owner
    get_draft_for_user(request, draft.pk)
    with CaptureQueriesContext(connection) as queries:
        found = get_draft_for_user(request, str(draft.pk))
        assert found.context_segment == draft.context_segment
    assert len(queries) == 1
    with pytest.raises(Http404):
        get_draft_for_user(request, "not-a-uuid")


def test_get_draft_for_user_says_whether_the_drafts_template_has_contents(rf, draft, owner):
    request = rf.get("/")
    request.user = owner
    assert get_draft_for_user(request, draft.pk).template.has_contents is False
    factories.TemplateContentFactory(template=draft.template, language="nl")
    with CaptureQueriesContext(connection) as queries:
        assert get_draft_for_user(request, draft.pk).template.has_contents is True
    assert len(queries) == 1
    # A template read on its own reads its contents to say.
    assert InteractionTemplate.objects.get(pk=draft.template_id).has_contents is True
    bare = factories.DraftFactory(owner=owner, template=None)
    assert get_draft_for_user(request, bare.pk).template is None


def unfinished_draft():
    return BuiltOnceUpdate(
        lambda pk: InteractionDraft.objects.filter(pk=pk).exclude(status=DraftStatus.FINISHED),
        pk=uuid.UUID(int=0),
    )


def test_a_built_once_update_writes_what_the_orms_update_writes(draft, owner):
    update = unfinished_draft()
    other = factories.DraftFactory(owner=owner, description="other")
    template = factories.TemplateFactory()
    state = {"step": "content", "step_data": {"type": {"type-description": ["é", "\x01"]}}}
    changes = {"state": state, "template": template, "contact": None, "description": "new"}
    with CaptureQueriesContext(connection) as queries:
        assert update.run(changes, pk=draft.pk) == 1
    with CaptureQueriesContext(connection) as orm:
        InteractionDraft.objects.filter(pk=other.pk).exclude(status=DraftStatus.FINISHED).update(
            **changes
        )
    assert len(queries) == 1
    assert queries[0]["sql"].replace(draft.pk.hex, "?") == orm[0]["sql"].replace(other.pk.hex, "?")
    draft.refresh_from_db()
    other.refresh_from_db()
    assert (draft.state, draft.template, draft.contact, draft.description) == (
        state,
        template,
        None,
        "new",
    )
    assert (other.state, other.template, other.contact) == (state, template, None)
    # Kept with the connection's other built-once statements, under the update itself (the
    # entry list's bound on page shapes reads their `build`).
    kept = connections["default"].__dict__["_built_once_queries"]
    assert update in kept
    assert all(callable(query.build) for query in kept)
    # Compiled once for these fields: the second run only executes it.
    assert update.run({**changes, "description": "again", "template": None}, pk=draft.pk) == 1
    draft.refresh_from_db()
    assert (draft.description, draft.template) == ("again", None)


def test_a_built_once_update_changes_only_the_rows_its_queryset_filters(draft, owner):
    update = unfinished_draft()
    assert update.run({"description": "x"}, pk=uuid.uuid4()) == 0
    InteractionDraft.objects.filter(pk=draft.pk).update(status=DraftStatus.FINISHED)
    assert update.run({"description": "x"}, pk=draft.pk) == 0
    draft.refresh_from_db()
    assert draft.description != "x"
    with pytest.raises(TypeError):
        update.run({"description": "x"}, pk=str(draft.pk))
    with pytest.raises(TypeError):
        update.run({"description": F("current_step")}, pk=draft.pk)


# --- SetupChoiceField read built once: step 1's template and salesperson -------------------------


def test_built_once_choice_field_cleans_to_the_chosen_object_in_one_query():
    template = factories.TemplateFactory()
    field = TypeForm().fields["template"]
    field.clean(str(template.pk))  # compiled
    with CaptureQueriesContext(connection) as queries:
        chosen = TypeForm().fields["template"].clean(str(template.pk))
        assert chosen.group.code == template.group.code  # select_related as declared
    assert len(queries) == 1
    assert chosen == template
    # With what the wizard asks the chosen template next (`chosen_annotations`).
    assert fields(chosen) == {
        **fields(InteractionTemplate.objects.get(pk=template.pk)),
        "has_contents": False,
    }


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "99999999999999999999999", "12\x00"])
def test_built_once_choice_field_refuses_what_is_no_choice(value):
    factories.TemplateFactory()
    with pytest.raises(ValidationError) as refused:
        TypeForm().fields["template"].clean(value)
    assert refused.value.code in ("invalid_choice", "null_characters_not_allowed")


def test_built_once_choice_field_keeps_the_declared_filter():
    blocked = factories.SalespersonFactory(blocked=True)
    active = factories.SalespersonFactory(blocked=False)
    field = TypeForm().fields["salesperson"]
    assert field.clean(str(active.pk)) == active
    with pytest.raises(ValidationError):
        field.clean(str(blocked.pk))
    assert field.clean("") is None


class SalespersonForm(forms.Form):
    """Step 1's salesperson in a form that copies its fields (a wizard step's `StepForm`
    shares those it does not change, so a test must not change them)."""

    salesperson = TypeForm.base_fields["salesperson"]


def test_built_once_choice_field_reads_a_queryset_set_later_the_orms_way():
    first, second = factories.SalespersonFactory(), factories.SalespersonFactory()
    form = SalespersonForm()
    form.fields["salesperson"].queryset = Salesperson.objects.filter(pk=second.pk)
    with pytest.raises(ValidationError):
        form.fields["salesperson"].clean(str(first.pk))
    assert form.fields["salesperson"].clean(str(second.pk)) == second
    # Others unchanged.
    assert SalespersonForm().fields["salesperson"].clean(str(first.pk)) == first
    assert TypeForm().fields["salesperson"].clean(str(first.pk)) == first


def test_setup_choice_field_lists_its_choices_in_one_query_each_time():
    templates = [factories.TemplateFactory() for _ in range(3)]
    # Iterated as the selects iterate it (list() would ask for a COUNT first).
    choices = [(value, label) for value, label in TypeForm().fields["template"].choices]
    with CaptureQueriesContext(connection) as queries:
        choices = [(value, label) for value, label in TypeForm().fields["template"].choices]
    assert len(queries) == 1
    assert [str(value) for value, _ in choices[1:]] == [
        str(t.pk) for t in sorted(templates, key=lambda t: t.code)
    ]
    new = factories.TemplateFactory()  # never a list kept: each form reads it again
    assert str(new.pk) in [str(value) for value, _ in TypeForm().fields["template"].choices]


def test_setup_choice_field_by_code_finds_the_same_as_the_orm():
    salesperson = factories.SalespersonFactory(code="BRAM")
    form = EntryFilterForm({"salesperson": "BRAM"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["salesperson"] == salesperson
    for refused in ("bram", "NOBODY", "BRAM\x00"):
        assert not EntryFilterForm({"salesperson": refused}).is_valid()


def test_get_contact_for_user_is_one_query_and_a_404_for_unknown_ids(rf, owner, client):
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company, salesperson=factories.SalespersonFactory())
    request = rf.get("/")
    request.user = owner
    get_contact_for_user(request, person.pk)
    with CaptureQueriesContext(connection) as queries:
        found = get_contact_for_user(request, person.pk)
        assert found.company.name == company.name
        assert found.salesperson.code == person.salesperson.code
    assert len(queries) == 1
    assert fields(found) == fields(Contact.objects.get(pk=person.pk))
    for unknown in (0, -1, person.pk + 10**6, 2**63, 2**70):
        with pytest.raises(Http404):
            get_contact_for_user(request, unknown)
    client.force_login(owner)
    assert client.get(f"/contacts/{2**70}/").status_code == 404


def test_card_histories_are_the_entries_the_orm_gives():
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company)
    salesperson = factories.SalespersonFactory()
    for day in range(1, 25):
        factories.LogEntryFactory(
            contact=person,
            contact_company=company,
            salesperson=salesperson,
            date=datetime.date(2026, 1, day),
            canceled=day % 5 == 0,
        )
    cards = [
        ("contact", person, person.log_entries),
        ("contact_company", company, company.company_log_entries),
        ("salesperson", salesperson, salesperson.log_entries),
    ]
    for relation, record, entries in cards:
        expected = list(contact_views._entries_shown(entries))
        history = contact_views._HISTORY[relation].fetch(owner=record.pk)
        assert history == expected  # named tuples of the same values, in the same order
        assert len(history) == contact_views.HISTORY_SIZE
        newest = history[0]
        assert (newest.contact__name, newest.salesperson__name) == (person.name, salesperson.name)


PERIODS = [
    (None, None),
    (datetime.date(2026, 1, 10), None),
    (None, datetime.date(2026, 1, 20)),
    (datetime.date(2026, 1, 5), datetime.date(2026, 1, 6)),
    (datetime.date(2027, 1, 1), None),  # nothing in it
]


def test_card_statistics_are_the_figures_the_orm_gives_for_every_period():
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company)
    factories.LogEntryFactory(contact=company, date=datetime.date(2026, 1, 3), cost=7)
    for day in range(1, 25):
        factories.LogEntryFactory(
            contact=person,
            date=datetime.date(2026, 1, day),
            canceled=day % 5 == 0,
            attempt_failed=day % 7 == 0,
            initiated_by=InitiatedBy.US if day % 3 else InitiatedBy.THEM,
            cost=day,
            duration=day * 2,
        )
    quiet = factories.PersonFactory()  # no entries at all
    cards = [
        (person, person.log_entries),
        (company, company.company_log_entries),
        (quiet, quiet.log_entries),
    ]
    for record, entries in cards:
        for date_from, date_to in PERIODS:
            period = PeriodForm({"date_from": date_from or "", "date_to": date_to or ""})
            with CaptureQueriesContext(connection) as queries:
                figures = contact_views._contact_statistics(record, period)
            assert figures == entries.statistics(date_from, date_to), (record, date_from, date_to)
            assert len(queries) == 1
    assert contact_views._contact_statistics(person, PeriodForm({"date_from": "x"})) is None


def test_a_built_once_aggregate_runs_one_query_from_its_first_call_and_checks_its_values():
    def build(owner):
        entries = InteractionLogEntry.objects.filter(contact=owner)
        return entries, {"count": Count("id"), "last": Max("date")}

    figures = BuiltOnceAggregate(build, owner=-1)
    entry = factories.LogEntryFactory(date=datetime.date(2026, 2, 1))
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert figures.fetch(owner=entry.contact_id) == {"count": 1, "last": entry.date}
        assert len(queries) == 1
    assert figures.fetch(owner=entry.contact_id + 1) == {"count": 0, "last": None}
    with pytest.raises(TypeError):
        figures.fetch(owner=str(entry.contact_id))
    with pytest.raises(TypeError):
        figures.fetch()


def test_a_built_once_aggregate_of_nothing_answers_as_the_orm_does():
    def build(owner):
        return InteractionLogEntry.objects.none().filter(contact=owner), {"count": Count("id")}

    with CaptureQueriesContext(connection) as queries:
        assert BuiltOnceAggregate(build, owner=-1).fetch(owner=1) == {"count": 0}
    assert len(queries) == 0


def test_a_templates_content_is_its_language_else_the_default_read_in_one_query():
    template = factories.TemplateFactory()
    default = factories.TemplateContentFactory(template=template, language="")
    dutch = factories.TemplateContentFactory(template=template, language="nl")
    factories.TemplateContentFactory(language="de")  # another template's
    template = InteractionTemplate.objects.get(pk=template.pk)
    with CaptureQueriesContext(connection) as queries:
        assert template.content_for("nl") == dutch
        assert template.content_for("de") == default
        assert template.content_for("") == default
    assert len(queries) == 1
    assert fields(template.variants["nl"]) == fields(template.contents.get(language="nl"))
    bare = factories.TemplateFactory()
    assert bare.variants == {}
    assert bare.content_for("nl") is None


def test_link_prefixes_kept_per_process_follow_the_script_prefix():
    assert link_prefix("contacts:contact_detail") == "/contacts/"
    set_script_prefix("/crm/")
    try:
        assert link_prefix("contacts:contact_detail") == "/crm/contacts/"
    finally:
        set_script_prefix("/")
    assert link_prefix("contacts:contact_detail") == "/contacts/"


def test_a_built_once_query_of_nothing_runs_no_query():
    nothing = BuiltOnceQuery(lambda pk: Contact.objects.none().filter(pk=pk), pk=-1)
    with CaptureQueriesContext(connection) as queries:
        assert nothing.fetch(pk=1) == []
    assert len(queries) == 0


def test_a_built_once_aggregate_compiled_first_on_a_new_connection_keeps_its_own_statement():
    """A new connection runs statements of its own first (contrib.postgres asks for its types'
    oids, once a process): the aggregate compiled then must not take one of those for its
    own."""
    figures = BuiltOnceAggregate(
        lambda pk: (Contact.objects.filter(pk=pk), {"count": Count("id")}), pk=-1
    )

    def in_a_thread():
        postgres_signals.get_hstore_oids.cache_clear()
        postgres_signals.get_citext_oids.cache_clear()
        try:
            return figures.fetch(pk=-5)
        finally:
            connections["default"].close()

    results = []
    thread = threading.Thread(target=lambda: results.append(in_a_thread()))
    thread.start()
    thread.join()
    assert results == [{"count": 0}]


def test_queries_compiled_for_a_thread_go_with_its_connection():
    """Kept on the connection, not in a table the compiler's own reference would keep alive."""
    query = BuiltOnceQuery(lambda pk: Contact.objects.filter(pk=pk), pk=-1)

    def in_a_thread():
        query.fetch(pk=1)
        kept = connections["default"].__dict__.get("_built_once_queries", {})
        connections["default"].close()
        return query in kept

    results = []
    thread = threading.Thread(target=lambda: results.append(in_a_thread()))
    thread.start()
    thread.join()
    assert results == [True]
    assert query not in connections["default"].__dict__.get("_built_once_queries", {})


def test_setup_choice_field_keyed_by_a_positive_integer_finds_its_choice():
    """The number stand-in is below a positive integer column's range: such a key is read the
    ORM's way, not by a filter compiled to match nothing."""
    from segments.models import SegmentStep

    step = SegmentStep.objects.create(segment=factories.SegmentFactory(), number=3, action="add")
    field = SetupChoiceField(SegmentStep.objects.all(), to_field_name="number")
    assert field.clean("3") == step


def test_the_segment_page_reads_its_segment_and_steps_as_the_orm_does(rf, owner):
    from segments import selectors as segment_selectors
    from segments.models import Segment, SegmentStep

    segment = factories.SegmentFactory(
        salesperson=factories.SalespersonFactory(),
        template=factories.TemplateFactory(),
        campaign=factories.CampaignFactory(),
    )
    for number in range(1, 8):
        SegmentStep.objects.create(
            segment=segment, number=number, action="add", criteria={"city": f"é{number}"}
        )
    request = rf.get("/")
    request.user = owner
    expected = Segment.objects.select_related(
        "line_totals", "salesperson", "template", "campaign", "logged_segment", "updated_by"
    ).get(pk=segment.pk)
    with CaptureQueriesContext(connection) as queries:
        found = segment_selectors.get_segment_for_user(request, segment.pk)
        header = (found.line_totals, found.salesperson, found.template, found.campaign)
        assert getattr(found, "logged_segment", None) is None
        steps = segment_selectors.recent_steps(found, 5)
        shown = [(step.number, step.criteria, step.created_by) for step in steps]
    assert len(queries) == 2
    assert fields(found) == fields(expected)
    assert header == (expected.line_totals, segment.salesperson, segment.template, segment.campaign)
    orm_steps = segment.steps.select_related("created_by").order_by("-number")[:5]
    assert shown == [(step.number, step.criteria, step.created_by) for step in orm_steps]
    assert [number for number, _, _ in shown] == [7, 6, 5, 4, 3]
    for unknown in (0, -1, segment.pk + 10**6, 2**63, 2**70):
        with pytest.raises(Http404):
            segment_selectors.get_segment_for_user(request, unknown)


def test_a_built_once_named_values_list_with_annotations_gives_the_orms_rows():
    company = factories.CompanyFactory(name="Acme")
    factories.PersonFactory(name="Ann", company=company)
    factories.PersonFactory(name="Bob", company=None)

    def build(kind):
        names = Contact.objects.filter(pk=OuterRef("company_id")).values("name")
        return (
            Contact.objects.filter(type=kind)
            .annotate(company_name=Subquery(names))
            .values_list("name", "company_name", "pk", named=True)
            .order_by("name")
        )

    rows = BuiltOnceQuery(build, kind="\x00").fetch(kind="person")

    assert rows == list(build("person"))
    assert [(row.name, row.company_name) for row in rows] == [("Ann", "Acme"), ("Bob", None)]
    assert type(rows[0]) is type(next(iter(build("person"))))
