"""Every permission boundary of the two roles, for every URL, with an outsider test each.

`BOUNDARIES` names who may use each URL of the app. The tests below walk that table with the
personas: a user without a role, a salesperson where only Marketing Managers may act, a
colleague on another salesperson's segment, anyone but the owner on a draft. A refused
request must change nothing in the database. A test fails when a URL is added without a line
here, so a new view cannot slip past the table.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse

from contacts.roles import SALESPERSON
from interactions.models import DraftStatus
from segments import services
from segments.forms import Criteria
from tests import factories
from tests.test_login_required import ALL, PUBLIC

pytestmark = pytest.mark.django_db

# Who may use a URL (its POST, and its GET unless the URL is in OPEN_GET):
SIGNED_IN = "signed in"  # everyone signed in, role or not (one shared book)
SALESPERSON_ROLE = "salesperson"  # Salesperson or Marketing Manager
MANAGER = "manager"  # Marketing Manager only
SEGMENT_OWNER = "segment owner"  # the segment's owner, or a Marketing Manager
DRAFT_OWNER = "draft owner"  # the draft's owner only; anyone else gets a 404
COMMENT_AUTHOR = "comment author"  # who wrote the comment, or a Marketing Manager

BOUNDARIES: dict[str, str] = {
    # the language switch in the header (Django's set_language)
    "set_language": SIGNED_IN,
    # contacts
    "contacts:contact_list": SIGNED_IN,
    "contacts:contact_search": SIGNED_IN,
    "contacts:contact_detail": SIGNED_IN,
    "contacts:contact_create": SALESPERSON_ROLE,
    "contacts:contact_edit": SALESPERSON_ROLE,
    "contacts:contact_delete": MANAGER,
    "contacts:salesperson_list": SIGNED_IN,
    "contacts:salesperson_detail": SIGNED_IN,
    "contacts:salesperson_create": MANAGER,
    "contacts:salesperson_edit": MANAGER,
    "contacts:marketing_setup": MANAGER,
    "contacts:campaign_list": SIGNED_IN,
    "contacts:campaign_create": MANAGER,
    "contacts:campaign_edit": MANAGER,
    "contacts:campaign_delete": MANAGER,
    "contacts:opportunity_list": SIGNED_IN,
    "contacts:opportunity_create": MANAGER,
    "contacts:opportunity_edit": MANAGER,
    "contacts:opportunity_delete": MANAGER,
    "contacts:number_series_list": SIGNED_IN,
    "contacts:number_series_create": MANAGER,
    "contacts:number_series_edit": MANAGER,
    "contacts:number_series_delete": MANAGER,
    # log entries
    "interactions:entry_list": SIGNED_IN,
    "interactions:entry_detail": SIGNED_IN,
    "interactions:entry_attachment": SIGNED_IN,
    "interactions:entry_export": SALESPERSON_ROLE,
    "interactions:entry_evaluate": SALESPERSON_ROLE,
    "interactions:entry_resend": SALESPERSON_ROLE,
    "interactions:comment_create": SALESPERSON_ROLE,
    "interactions:comment_edit": COMMENT_AUTHOR,
    "interactions:comment_delete": COMMENT_AUTHOR,
    "interactions:entry_switch_canceled": MANAGER,
    "interactions:entry_delete_canceled": MANAGER,
    # templates and groups
    "interactions:template_list": SIGNED_IN,
    "interactions:template_detail": SIGNED_IN,
    "interactions:template_content_attachment": SIGNED_IN,
    "interactions:template_create": MANAGER,
    "interactions:template_edit": MANAGER,
    "interactions:template_delete": MANAGER,
    "interactions:template_content_create": MANAGER,
    "interactions:template_content_edit": MANAGER,
    "interactions:template_content_delete": MANAGER,
    "interactions:group_list": SIGNED_IN,
    "interactions:group_detail": SIGNED_IN,
    "interactions:group_create": MANAGER,
    "interactions:group_edit": MANAGER,
    "interactions:group_delete": MANAGER,
    # the wizard and postponed interactions
    "interactions:draft_list": SIGNED_IN,  # lists the user's own drafts only
    "interactions:wizard_start": SALESPERSON_ROLE,
    "interactions:wizard_resume": DRAFT_OWNER,
    "interactions:wizard": DRAFT_OWNER,
    "interactions:wizard_cancel": DRAFT_OWNER,
    "interactions:draft_delete": DRAFT_OWNER,
    # segments
    "segments:segment_list": SIGNED_IN,
    "segments:segment_detail": SIGNED_IN,
    "segments:logged_segment_list": SIGNED_IN,
    "segments:logged_segment_detail": SIGNED_IN,
    "segments:segment_create": SALESPERSON_ROLE,
    "segments:segment_edit": SEGMENT_OWNER,
    "segments:segment_delete": SEGMENT_OWNER,
    "segments:line_add": SEGMENT_OWNER,
    "segments:segment_criteria": SEGMENT_OWNER,
    "segments:segment_reuse": SEGMENT_OWNER,
    "segments:lines_remove": SEGMENT_OWNER,
    "segments:line_edit": SEGMENT_OWNER,
    "segments:line_reset": SEGMENT_OWNER,
    "segments:segment_create_interaction": SEGMENT_OWNER,
    "segments:wizard": DRAFT_OWNER,
    "segments:segment_log": SEGMENT_OWNER,
    "segments:logged_segment_switch_canceled": MANAGER,
    "segments:logged_segments_delete_canceled": MANAGER,
    "segments:segment_history": SIGNED_IN,
    "segments:segment_go_back": SEGMENT_OWNER,
    "segments:segment_reuse_criteria": SEGMENT_OWNER,
    "segments:segment_export": SALESPERSON_ROLE,
    "segments:logged_segment_follow_up": SALESPERSON_ROLE,
    "segments:segment_save_criteria": MANAGER,
    "segments:saved_criteria_list": MANAGER,
    "segments:saved_criteria_delete": MANAGER,
    # the site
    "home": SIGNED_IN,
    "password_change": SIGNED_IN,
    "password_change_done": SIGNED_IN,
}
# Read by everyone signed in; only the POST is for the role (the page shows a form to it).
OPEN_GET = {"contacts:marketing_setup"}
# Pages that only read, whatever the method is called with (a POST is refused or ignored).
READ_ONLY = {name for name, rule in BOUNDARIES.items() if rule == SIGNED_IN} - {
    "password_change",  # the user's own password: everyone signed in may change it
    "set_language",  # the user's own language: everyone signed in may choose it
}


def names(*rules: str) -> list[str]:
    return sorted(name for name, rule in BOUNDARIES.items() if rule in rules)


@pytest.fixture
def world(owner, colleague, outsider, manager):
    """One of everything, owned by `owner` where ownership matters."""
    setup = factories.MarketingSetupFactory()
    company = factories.CompanyFactory()
    person = factories.PersonFactory(company=company)
    spare_person = factories.PersonFactory(company=company)
    campaign = factories.CampaignFactory()
    opportunity = factories.OpportunityFactory(contact_company=company)
    series = factories.NumberSeriesFactory(code="SPARE")
    template = factories.TemplateFactory()
    content = factories.TemplateContentFactory(template=template)
    content.attachment.save("brochure.pdf", ContentFile(b"%PDF-1.4 brochure"), save=True)
    attachment = default_storage.save("entries/2026/01/offer.pdf", ContentFile(b"%PDF-1.4"))
    entry = factories.LogEntryFactory(
        contact=person, template=template, attachment=attachment, salesperson=owner.salesperson
    )
    canceled = factories.LogEntryFactory(contact=person, template=template, canceled=True)
    comment = factories.CommentFactory(entry=entry, created_by=owner)
    segment = factories.SegmentFactory(salesperson=owner.salesperson, created_by=owner)
    line = factories.SegmentLineFactory(segment=segment, contact=person)
    # A criteria step, which Go Back would undo and Save Criteria would keep.
    services.segment_add_contacts(
        segment=segment, user=owner, criteria=Criteria.from_data({"company": company.number})
    )
    saved = factories.SavedCriteriaStepFactory(saved__code="WORLD").saved
    logged = factories.LoggedSegmentFactory(canceled=True)
    draft = factories.DraftFactory(owner=owner, contact=person, context_contact=person)
    return {
        "setup": setup,
        "contact": person,
        "spare_contact": spare_person,
        "salesperson": owner.salesperson,
        "campaign": campaign,
        "opportunity": opportunity,
        "series": series,
        "template": template,
        "content": content,
        "group": template.group,
        "entry": entry,
        "canceled": canceled,
        "comment": comment,
        "segment": segment,
        "line": line,
        "logged": logged,
        "draft": draft,
        "saved": saved,
    }


def url_for(name: str, world: dict) -> str:
    """The URL of ``name`` pointed at the world's objects."""
    w = world
    kwargs = {
        "contacts:contact_detail": {"pk": w["contact"].pk},
        "contacts:contact_edit": {"pk": w["contact"].pk},
        "contacts:contact_delete": {"pk": w["spare_contact"].pk},
        "contacts:salesperson_detail": {"pk": w["salesperson"].pk},
        "contacts:salesperson_edit": {"pk": w["salesperson"].pk},
        "contacts:campaign_edit": {"pk": w["campaign"].pk},
        "contacts:campaign_delete": {"pk": w["campaign"].pk},
        "contacts:opportunity_edit": {"pk": w["opportunity"].pk},
        "contacts:opportunity_delete": {"pk": w["opportunity"].pk},
        "contacts:number_series_edit": {"pk": w["series"].pk},
        "contacts:number_series_delete": {"pk": w["series"].pk},
        "interactions:entry_detail": {"pk": w["entry"].pk},
        "interactions:entry_attachment": {"pk": w["entry"].pk},
        "interactions:entry_resend": {"pk": w["entry"].pk},
        "interactions:comment_create": {"pk": w["entry"].pk},
        "interactions:comment_edit": {"pk": w["entry"].pk, "comment_pk": w["comment"].pk},
        "interactions:comment_delete": {"pk": w["entry"].pk, "comment_pk": w["comment"].pk},
        "interactions:template_detail": {"pk": w["template"].pk},
        "interactions:template_edit": {"pk": w["template"].pk},
        "interactions:template_delete": {"pk": w["template"].pk},
        "interactions:template_content_create": {"pk": w["template"].pk},
        "interactions:template_content_edit": {
            "pk": w["template"].pk,
            "content_pk": w["content"].pk,
        },
        "interactions:template_content_delete": {
            "pk": w["template"].pk,
            "content_pk": w["content"].pk,
        },
        "interactions:template_content_attachment": {
            "pk": w["template"].pk,
            "content_pk": w["content"].pk,
        },
        "interactions:group_detail": {"pk": w["group"].pk},
        "interactions:group_edit": {"pk": w["group"].pk},
        "interactions:group_delete": {"pk": w["group"].pk},
        "interactions:wizard_resume": {"draft_id": w["draft"].pk},
        "interactions:wizard": {"draft_id": w["draft"].pk, "step": "type"},
        "interactions:wizard_cancel": {"draft_id": w["draft"].pk},
        "interactions:draft_delete": {"draft_id": w["draft"].pk},
        "segments:segment_detail": {"pk": w["segment"].pk},
        "segments:segment_edit": {"pk": w["segment"].pk},
        "segments:segment_delete": {"pk": w["segment"].pk},
        "segments:line_add": {"pk": w["segment"].pk},
        "segments:segment_criteria": {"pk": w["segment"].pk, "action": "add"},
        "segments:segment_reuse": {"pk": w["segment"].pk},
        "segments:lines_remove": {"pk": w["segment"].pk},
        "segments:line_edit": {"pk": w["segment"].pk, "line_pk": w["line"].pk},
        "segments:line_reset": {"pk": w["segment"].pk, "line_pk": w["line"].pk},
        "segments:segment_create_interaction": {"pk": w["segment"].pk},
        # A contact's draft: its owner is sent on to the contact wizard, anyone else gets a 404.
        "segments:wizard": {"draft_id": w["draft"].pk, "step": "type"},
        "segments:segment_log": {"pk": w["segment"].pk},
        "segments:logged_segment_detail": {"pk": w["logged"].pk},
        "segments:logged_segment_switch_canceled": {"pk": w["logged"].pk},
        "segments:logged_segment_follow_up": {"pk": w["logged"].pk},
        "segments:segment_history": {"pk": w["segment"].pk},
        "segments:segment_go_back": {"pk": w["segment"].pk},
        "segments:segment_reuse_criteria": {"pk": w["segment"].pk},
        "segments:segment_save_criteria": {"pk": w["segment"].pk},
        "segments:segment_export": {"pk": w["segment"].pk},
        "segments:saved_criteria_delete": {"pk": w["saved"].pk},
    }.get(name, {})
    return reverse(name, kwargs=kwargs)


# What a refused POST carries: enough to do real harm if the check were missing.
HARMFUL_POST = {
    "interactions:entry_switch_canceled": lambda w: {"entry": [w["entry"].pk], "confirm": "1"},
    "interactions:entry_evaluate": lambda w: {"entry": [w["entry"].pk], "evaluation": "positive"},
    "interactions:entry_delete_canceled": lambda w: {"expected": "1"},
    "interactions:comment_create": lambda w: {"date": "2026-01-01", "comment": "hijacked"},
    "interactions:comment_edit": lambda w: {"date": "2026-01-01", "comment": "hijacked"},
    "interactions:wizard_cancel": lambda w: {"choice": "no"},
    "segments:lines_remove": lambda w: {"line": [w["line"].pk]},
    "segments:line_add": lambda w: {"contact": w["spare_contact"].number},
    "contacts:contact_create": lambda w: {"type": "company", "name": "Hijack Ltd"},
    "segments:segment_go_back": lambda w: {"step": "1"},
    "segments:segment_reuse_criteria": lambda w: {"saved": "WORLD"},
    "segments:segment_save_criteria": lambda w: {"code": "HIJACK", "description": "Hijack"},
    "segments:logged_segment_follow_up": lambda w: {"response": "all"},
}


def harmful(name: str, world: dict) -> dict:
    return HARMFUL_POST.get(name, lambda w: {})(world)


def snapshot() -> list[tuple]:
    """Row counts and the latest change of every table of the app and of the auth tables, in
    one statement (it runs twice in each of 200 tests)."""
    selects = []
    for model in apps.get_models():
        if model._meta.app_label not in {"contacts", "interactions", "segments", "auth"}:
            continue
        fields = {f.name for f in model._meta.concrete_fields}
        latest = "max(updated_at)::text" if "updated_at" in fields else "NULL"
        table = connection.ops.quote_name(model._meta.db_table)
        selects.append(f"SELECT '{model._meta.label}', count(*), {latest} FROM {table}")
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects))
        return cursor.fetchall()


# --- the table covers every URL ---------------------------------------------------------------


def test_every_url_of_the_app_has_a_declared_boundary():
    private = {name for name, _ in ALL} - PUBLIC
    assert private - set(BOUNDARIES) == set(), "add the new URL to BOUNDARIES"
    assert set(BOUNDARIES) - private == set(), "BOUNDARIES names a URL that does not exist"


# --- a user without any role --------------------------------------------------------------------


@pytest.mark.parametrize("name", names(SALESPERSON_ROLE, MANAGER, SEGMENT_OWNER, COMMENT_AUTHOR))
def test_user_without_a_role_cannot_change_anything(client, world, outsider, name):
    client.force_login(outsider)
    target = url_for(name, world)
    before = snapshot()

    posted = client.post(target, harmful(name, world))
    got = client.get(target)

    assert posted.status_code == 403, (name, posted.status_code)
    if name not in OPEN_GET:
        assert got.status_code in (403, 405), (name, got.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("name", names(DRAFT_OWNER))
def test_user_without_a_role_gets_404_for_someone_elses_draft(client, world, outsider, name):
    client.force_login(outsider)
    before = snapshot()
    for method in (client.get, client.post):
        response = method(url_for(name, world), harmful(name, world))
        assert response.status_code == 404, (name, method)
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(READ_ONLY))
def test_user_without_a_role_reads_everything_but_changes_nothing_by_posting(
    client, world, outsider, name
):
    client.force_login(outsider)
    target = url_for(name, world)
    before = snapshot()

    got = client.get(target)
    posted = client.post(target, {"entry": [world["entry"].pk], "confirm": "1"})

    assert got.status_code in (200, 302), (name, got.status_code)
    if name == "home":  # a redirect to the contact list, whatever the method
        assert posted.status_code == 302
    else:
        assert posted.status_code in (403, 405), (name, posted.status_code)
    assert snapshot() == before


# --- a salesperson where only Marketing Managers may act ----------------------------------------


@pytest.mark.parametrize("name", names(MANAGER))
def test_salesperson_cannot_do_what_only_marketing_managers_do(client, world, owner, name):
    client.force_login(owner)
    target = url_for(name, world)
    before = snapshot()

    posted = client.post(target, harmful(name, world))
    got = client.get(target)

    assert posted.status_code == 403, (name, posted.status_code)
    if name not in OPEN_GET:
        assert got.status_code == 403, (name, got.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("name", names(MANAGER))
def test_marketing_manager_is_let_through(client, world, manager, name):
    client.force_login(manager)
    response = client.get(url_for(name, world))
    if response.status_code == 405:  # POST-only
        response = client.post(url_for(name, world), harmful(name, world))
    assert response.status_code not in (403, 404), (name, response.status_code)


@pytest.mark.parametrize("name", names(SALESPERSON_ROLE))
def test_salesperson_is_let_through(client, world, owner, name):
    client.force_login(owner)
    response = client.get(url_for(name, world))
    if response.status_code == 405:  # POST-only
        response = client.post(url_for(name, world), harmful(name, world))
    assert response.status_code not in (403, 404), (name, response.status_code)


# --- another salesperson's segment ----------------------------------------------------------------


@pytest.mark.parametrize("name", names(SEGMENT_OWNER))
def test_colleague_cannot_change_another_salespersons_segment(client, world, colleague, name):
    client.force_login(colleague)
    target = url_for(name, world)
    before = snapshot()

    posted = client.post(target, harmful(name, world))
    got = client.get(target)

    assert posted.status_code == 403, (name, posted.status_code)
    assert got.status_code in (403, 405), (name, got.status_code)
    assert snapshot() == before
    page = client.get(url_for("segments:segment_detail", world))
    assert page.status_code == 200
    assert page.context["can_change"] is False


@pytest.mark.parametrize("persona", ["owner", "manager"])
@pytest.mark.parametrize("name", names(SEGMENT_OWNER))
def test_segment_owner_and_marketing_manager_are_let_through(client, world, request, persona, name):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(url_for(name, world))
    if response.status_code == 405:  # POST-only
        response = client.post(url_for(name, world), harmful(name, world))
    assert response.status_code not in (403, 404), (name, response.status_code)


# --- another user's comment ----------------------------------------------------------------------


@pytest.mark.parametrize("name", names(COMMENT_AUTHOR))
def test_colleague_cannot_edit_or_delete_another_users_comment(client, world, colleague, name):
    client.force_login(colleague)
    target = url_for(name, world)
    before = snapshot()

    posted = client.post(target, harmful(name, world))
    got = client.get(target)

    assert posted.status_code == 403, (name, posted.status_code)
    assert got.status_code == 403, (name, got.status_code)
    assert snapshot() == before


def test_colleague_sees_no_edit_on_another_users_comment(client, world, colleague):
    own = factories.CommentFactory(entry=world["entry"], created_by=colleague)
    client.force_login(colleague)

    page = client.get(url_for("interactions:entry_detail", world)).content.decode()

    assert reverse("interactions:comment_edit", args=[world["entry"].pk, own.pk]) in page
    assert url_for("interactions:comment_edit", world) not in page
    assert url_for("interactions:comment_delete", world) not in page


@pytest.mark.parametrize("persona", ["owner", "manager"])
@pytest.mark.parametrize("name", names(COMMENT_AUTHOR))
def test_comment_author_and_marketing_manager_are_let_through(
    client, world, request, persona, name
):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(url_for(name, world))
    assert response.status_code == 200, (name, persona, response.status_code)
    response = client.post(url_for(name, world), harmful(name, world))
    assert response.status_code == 302, (name, persona, response.status_code)


# --- another user's draft ------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["colleague", "manager", "staff"])
@pytest.mark.parametrize("name", names(DRAFT_OWNER))
def test_anyone_but_the_owner_gets_404_for_a_draft(client, world, request, persona, name):
    client.force_login(request.getfixturevalue(persona))
    before = snapshot()
    for method in (client.get, client.post):
        response = method(url_for(name, world), harmful(name, world))
        assert response.status_code == 404, (name, persona, method)
        assert str(world["draft"].pk).encode() not in response.content
    assert snapshot() == before


def test_another_users_draft_is_not_listed(client, world, colleague):
    client.force_login(colleague)
    response = client.get(reverse("interactions:draft_list"))
    assert str(world["draft"].pk) not in response.content.decode()


@pytest.mark.parametrize("name", names(DRAFT_OWNER))
def test_the_draft_owner_is_let_through(client, world, owner, name):
    client.force_login(owner)
    response = client.get(url_for(name, world))
    assert response.status_code in (200, 302), (name, response.status_code)


# --- a role taken away ----------------------------------------------------------------------------


@pytest.fixture
def demoted(world, owner):
    """The owner after an administrator took the Salesperson role away."""
    owner.groups.remove(Group.objects.get(name=SALESPERSON))
    return owner


@pytest.mark.parametrize("name", names(SEGMENT_OWNER))
def test_user_whose_role_was_taken_away_cannot_change_their_own_segment(
    client, world, demoted, name
):
    client.force_login(demoted)
    before = snapshot()
    response = client.post(url_for(name, world), harmful(name, world))
    assert response.status_code == 403, (name, response.status_code)
    assert snapshot() == before


def test_user_whose_role_was_taken_away_cannot_finish_their_own_draft(client, world, demoted):
    client.force_login(demoted)
    draft = world["draft"]
    before = snapshot()
    for name in ("interactions:wizard_resume", "interactions:wizard"):
        assert client.get(url_for(name, world)).status_code == 403, name
    response = client.post(
        url_for("interactions:wizard", world), {f"draft_{draft.pk}-current_step": "type"}
    )
    assert response.status_code == 403
    assert snapshot() == before
    draft.refresh_from_db()
    assert draft.status == DraftStatus.POSTPONED


# --- files and the admin --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["outsider", "owner", "manager", "staff"])
def test_stored_files_are_never_served_directly(client, world, request, persona):
    """Attachments are only reachable through the views above (which check who asks); the
    storage's own URLs are not served by the app."""
    client.force_login(request.getfixturevalue(persona))
    for name in (world["entry"].attachment.name, world["content"].attachment.name):
        assert client.get(f"/media/{name}").status_code == 404
        assert client.get(default_storage.url(name)).status_code == 404


def test_anonymous_visitor_cannot_download_a_template_attachment(client, world):
    response = client.get(url_for("interactions:template_content_attachment", world))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["outsider", "owner", "manager"])
def test_admin_is_only_for_staff(client, world, request, persona):
    client.force_login(request.getfixturevalue(persona))
    contact = world["contact"]
    change = reverse("admin:contacts_contact_change", args=[contact.pk])
    before = snapshot()
    for target in (reverse("admin:index"), change, reverse("admin:auth_user_changelist")):
        response = client.get(target)
        assert response.status_code == 302, target
        assert response["Location"].startswith(reverse("admin:login"))
    response = client.post(change, {"name": "Hijacked"})
    assert response.status_code == 302
    assert snapshot() == before


def test_staff_user_reaches_the_admin(staff_client):
    assert staff_client.get(reverse("admin:index")).status_code == 200
