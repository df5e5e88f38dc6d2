"""CPU of the reads compiled once per process (contacts/built_once.py) against the ORM's way.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_load   # seed_demo, a draft of anna's
    .venv/bin/python bench/built_once.py [calls]

Each read is run ``calls`` times the ORM's way (the queryset compiled on every call), then built
once, three times alternating; the figures are CPU ms of this process per call.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.shortcuts import get_object_or_404  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from contacts import views as cv  # noqa: E402
from contacts.models import Contact, Salesperson  # noqa: E402
from contacts.selectors import get_contact_for_user  # noqa: E402
from interactions.forms import EntryFilterForm  # noqa: E402
from interactions.models import InteractionDraft, InteractionTemplate  # noqa: E402
from interactions.selectors import get_draft_for_user  # noqa: E402
from interactions.wizard_forms import TypeForm  # noqa: E402
from segments.models import Segment  # noqa: E402
from segments.selectors import get_segment_for_user, recent_steps  # noqa: E402
from segments.views import STEPS_SHOWN as STEPS  # noqa: E402

user = get_user_model().objects.get(username="anna")
request = RequestFactory().get("/")
request.user = user
draft = InteractionDraft.objects.filter(owner=user).first()
template = InteractionTemplate.objects.filter(contents__isnull=False).order_by("pk")[0]
salesperson = Salesperson.objects.filter(blocked=False).first()
contact = Contact.objects.filter(company__isnull=False, privacy_blocked=False).order_by("pk")[0]
segment = Segment.objects.order_by("pk")[0]
SELECTS = ("salesperson", "template", "group", "campaign")
DRAFT_RELATED = ("contact", "template", "context_contact", "context_salesperson", "context_segment")


def orm_field(name, form=TypeForm):
    """The form's field read the ORM's way: a queryset set on it again turns built once off."""
    field = form().fields[name]
    field.queryset = field.queryset
    return field


def choices(field) -> list:
    return [(value, label) for value, label in field.choices]  # (list() would COUNT first)


PAIRS = {  # label: (the ORM's way, built once)
    "draft (get_draft_for_user)": (
        lambda: get_object_or_404(
            InteractionDraft.objects.owned_by(user).select_related(*DRAFT_RELATED), pk=draft.pk
        ),
        lambda: get_draft_for_user(request, draft.pk),
    ),
    "step 1 template + salesperson clean": (
        lambda: (
            orm_field("template").clean(str(template.pk)),
            orm_field("salesperson").clean(str(salesperson.pk)),
        ),
        lambda: (
            TypeForm().fields["template"].clean(str(template.pk)),
            TypeForm().fields["salesperson"].clean(str(salesperson.pk)),
        ),
    ),
    "entry filter's 4 select lists": (
        lambda: [choices(orm_field(name, EntryFilterForm)) for name in SELECTS],
        lambda: [choices(EntryFilterForm().fields[name]) for name in SELECTS],
    ),
    "contact (get_contact_for_user)": (
        lambda: get_object_or_404(
            Contact.objects.select_related("company", "salesperson", "created_by", "updated_by"),
            pk=contact.pk,
        ),
        lambda: get_contact_for_user(request, contact.pk),
    ),
    "card history (20 entries)": (
        lambda: list(cv._entries_shown(contact.log_entries)),
        lambda: cv._HISTORY["contact"].fetch(owner=contact.pk),
    ),
    "segment (get_segment_for_user)": (
        lambda: get_object_or_404(
            Segment.objects.select_related(
                "line_totals", "salesperson", "template", "campaign", "logged_segment", "updated_by"
            ),
            pk=segment.pk,
        ),
        lambda: get_segment_for_user(request, segment.pk),
    ),
    "segment's recent steps": (
        lambda: list(segment.steps.select_related("created_by").order_by("-number")[:STEPS]),
        lambda: recent_steps(segment, STEPS),
    ),
    "card statistics (no period)": (
        lambda: contact.log_entries.statistics(),
        lambda: cv._STATISTICS[False, False].fetch(owner=contact.pk),
    ),
}


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    for label, (orm, built_once) in PAIRS.items():
        for _ in range(10):
            orm()
            built_once()
        times = {"ORM": [], "built once": []}
        for _ in range(3):
            for name, read in (("ORM", orm), ("built once", built_once)):
                start = time.process_time()
                for _ in range(calls):
                    read()
                times[name].append(1000 * (time.process_time() - start) / calls)
        shown = {name: ", ".join(f"{ms:.2f}" for ms in values) for name, values in times.items()}
        print(f"{label:38s} ORM {shown['ORM']} ms | built once {shown['built once']} ms")


if __name__ == "__main__":
    main()
