"""The Create Interaction wizards: django-formtools, with the state in the draft's row.

Each run is an `InteractionDraft` whose UUID is in the URL (two tabs never share state). A
request: `DraftStorage` reads the draft, formtools validates the posted step or renders one, a
POST writes the draft back, and `Finish` hands every step's cleaned data to one service that
owns its transaction. `DraftWizard` is what `ContactWizard` (below) and
`segments.wizard.SegmentWizard` share.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from functools import cached_property

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.forms import BoundField
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from formtools.wizard.storage.base import BaseStorage
from formtools.wizard.views import NamedUrlWizardView, WizardView

from contacts.built_once import BuiltOnceUpdate
from contacts.forms import setup_choices
from contacts.models import Contact, CorrespondenceType, Salesperson
from contacts.services import RecordGone
from contacts.web import render_rows
from interactions.merge import merge, merge_values
from interactions.models import WIZARD_STEPS, DraftStatus, InteractionDraft
from interactions.selectors import get_draft_for_user
from interactions.services import (
    DraftFinished,
    interaction_finish,
    interaction_language,
    resolve_correspondence_type,
)
from interactions.wizard_forms import ContentForm, RelatedForm, ResultForm, Select, TypeForm


def require_logging_role(request) -> None:
    """A user whose role was taken away since starting a draft may discard it, not finish it.
    (Asked after the draft was fetched: someone else's draft stays a 404.)"""
    if not request.user.has_perm("interactions.add_interactionlogentry"):
        raise PermissionDenied


# Every POST of a step writes its draft back: built and compiled by the ORM each time, that
# UPDATE cost twice what running it does (contacts/built_once.py).
_UNFINISHED_DRAFT = BuiltOnceUpdate(
    lambda pk: InteractionDraft.objects.filter(pk=pk).exclude(status=DraftStatus.FINISHED),
    pk=uuid.UUID(int=0),
)


class DraftStorage(BaseStorage):
    """The wizard's state in `InteractionDraft.state`, the one place that knows formtools'
    layout (step, posted step data, step files, extra data); uploads wait in the draft's
    folder. Another user's draft is a 404."""

    def __init__(self, prefix, request=None, file_storage=None):
        super().__init__(prefix, request, file_storage)
        self.draft = get_draft_for_user(request, prefix.removeprefix("draft_"))
        self.init_data()
        # The state read with this request's draft is its own to change (not copied), and
        # `save` compares it as JSON with what was read: the two deep copies of a Result
        # step's state took 0.08 ms, its JSON text takes 0.02 ms.
        self.data.update(self.draft.state)
        self.loaded = _as_json(self.data)
        self.missing_files = False

    @staticmethod
    def new_state(*, prefill: dict) -> dict:
        return {"step": None, "step_data": {}, "step_files": {}, "extra_data": {"prefill": prefill}}

    def save(self, summary: dict) -> None:
        """Write the state and ``summary`` (the list's columns) back, if it changed; a draft
        finished meanwhile stays as it is (a deleted one has no row left)."""
        if _as_json(self.data) != self.loaded:
            changes = {
                "state": self.data,
                "current_step": self.current_step or "",
                "updated_at": timezone.now(),
                **summary,
            }
            _UNFINISHED_DRAFT.run(changes, pk=self.draft.pk)

    def reset(self) -> None:
        """formtools resets after `done()`; the `Finish` services drop the state and files."""

    def update_step_data(self, step: str, **values: str) -> None:
        stored = self.data[self.step_data_key].setdefault(step, {})
        stored.update({f"{step}-{name}": [value] for name, value in values.items()})

    def get_step_files(self, step):
        """The step's uploads; one whose file went (a `Finish` or discard of this draft that
        committed meanwhile, or a Replace in another tab) is left out (`missing_files`)."""
        stored = self.data[self.step_files_key].get(step, {})
        for field, meta in list(stored.items()):
            if (step, field) in self._files:
                continue
            try:
                handle = default_storage.open(meta["tmp_name"])
            except FileNotFoundError:
                self.missing_files = True
                del stored[field]
                continue
            details = {key: value for key, value in meta.items() if key != "tmp_name"}
            self._files[(step, field)] = UploadedFile(file=handle, **details)
        return {field: self._files[(step, field)] for field in stored} or None

    def set_step_files(self, step, files) -> None:
        """Keep the step's new uploads in the draft's folder; a replaced one is deleted."""
        stored = self.data[self.step_files_key].setdefault(step, {})
        for field, upload in (files or {}).items():
            if field in stored:
                default_storage.delete(stored[field]["tmp_name"])
            folder = InteractionDraft.files_folder(self.draft.pk)
            meta = {
                key: getattr(upload, key) for key in ("name", "content_type", "size", "charset")
            }
            stored[field] = {"tmp_name": default_storage.save(folder + upload.name, upload), **meta}

    def remove_files(self, step: str) -> None:
        for meta in self.data[self.step_files_key].pop(step, {}).values():
            default_storage.delete(meta["tmp_name"])

    def file_names(self, step: str) -> dict[str, str]:
        """The step's uploads by field: the names they were uploaded with."""
        stored = self.data[self.step_files_key].get(step, {})
        return {field: meta["name"] for field, meta in stored.items()}


def _as_json(state: dict) -> str:
    """The state as the draft's JSON column would hold it, keys sorted: equal texts, equal
    states."""
    return json.dumps(state, sort_keys=True)


def field_rows(fields, *, lists: dict, attachment: str = "") -> SafeString:
    """A step's field rows, written by the Jinja2 partial: an ``{% include %}`` of
    `_wizard_field.html` per field was a third of a step's rendering, and then each widget
    and label rendered through a template of its own was a third of what was left. Each row
    is (field, its label kept per language, its widget's context or None when the widget
    renders itself). ``lists``: the step's setup lists as `setup_choices` read them;
    ``attachment`` is the name of the Content step's upload, if any."""
    labels = {"remove": _("Remove"), "replace": _("Replace with another file")}
    rows = [
        (field, field_label(field), widget_context(field, lists.get(field.field)))
        for field in fields
    ]
    context = {"rows": rows, "attachment": attachment, "labels": labels}
    return render_rows("interactions/_wizard_fields.html", context)


# The widgets the partial writes out: Django's input.html family, textarea.html and the
# steps' Select (interactions.wizard_forms) with Django's own options.
_WRITTEN_OUT = {
    *(f"django/forms/widgets/{kind}.html" for kind in ("text", "date", "time", "number")),
    "django/forms/widgets/checkbox.html",
    "django/forms/widgets/textarea.html",
    Select.template_name,
}
_OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


def widget_context(field: BoundField, choices: list | None = None) -> dict | None:
    """What `BoundField.as_widget` hands the field's widget template (its ``widget``), for
    the partial to write; None for a widget it does not write. ``choices``: a select's
    (key, label) pairs as read already, instead of its field's model instances."""
    widget = field.field.widget
    if widget.template_name not in _WRITTEN_OUT or (
        isinstance(widget, Select) and widget.option_template_name != _OPTION_TEMPLATE
    ):
        return None
    if choices is not None:
        widget = copy.copy(widget)  # the field's own is the form class's (StepForm)
        widget.choices = choices
    # As as_widget(), but for the rendering.
    if field.field.localize:
        widget.is_localized = True
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    return widget.get_context(field.html_name, field.value(), attrs)["widget"]


@dataclass(frozen=True)
class _Label:
    tag: SafeString  # label_tag(): the suffix, for= and the label
    text: SafeString  # the label alone, escaped (a checkbox's)


def field_label(field: BoundField) -> _Label:
    """``field``'s label tag and label, kept per language for its form class: a step form's
    labels are its class's (no form changes one), and `label_tag` (the suffix's rule, the
    label template) was ~0.09 ms a field on every step shown."""
    key = (get_language(), type(field.form), field.html_name, field.field.required)
    if (label := _LABELS.get(key)) is None:
        label = _LABELS[key] = _Label(tag=field.label_tag(), text=conditional_escape(field.label))
    return label


_LABELS: dict[tuple, _Label] = {}


def _same_text(typed: str, offered: str) -> bool:
    """A browser posts a textarea's lines ending in CRLF; a template's end in LF."""
    return typed.replace("\r\n", "\n").strip() == offered.replace("\r\n", "\n").strip()


class DraftWizard(NamedUrlWizardView):
    """What both wizards share. A subclass gives `form_list` (step 1 is "type"; "content" is
    shown when the template has content or it is an email), the forms' kwargs and defaults,
    and `handles(draft)`, `finish(values)` and `already_finished()`."""

    storage_name = "interactions.wizard.DraftStorage"
    file_storage = default_storage  # DraftStorage keeps each draft's uploads in its folder
    template_name = "interactions/wizard.html"
    finished = False  # the Finish service committed: nothing more to write

    def dispatch(self, request, *args, **kwargs):
        response = super().dispatch(request, *args, **kwargs)
        # Only a POST writes: a GET (a prefetch, a crawler, a reload) never changes the draft.
        if request.method == "POST" and not self.finished:
            self.storage.save(self.summary())
        return response

    def get_prefix(self, request, *args, **kwargs):
        return f"draft_{kwargs['draft_id']}"

    def get_step_url(self, step):
        return self.draft.wizard_url(step)

    @property
    def draft(self) -> InteractionDraft:
        return self.storage.draft

    def refusal(self):
        """A response instead of a step, when the draft is not (any more) for this wizard."""
        require_logging_role(self.request)
        if not self.handles(self.draft):
            return redirect(self.draft.wizard_url())
        if self.draft.status == DraftStatus.FINISHED:
            self.finished = True
            return self.already_finished()
        return None

    def get(self, request, *args, **kwargs):
        if refusal := self.refusal():
            return refusal
        steps = self.get_form_list()
        if kwargs["step"] not in steps:
            # The finish URL (`Finish` is a POST of the last step), or a step this draft lacks.
            current = self.steps.current
            return redirect(self.get_step_url(current if current in steps else "type"))
        return super().get(request, *args, **kwargs)

    def post(self, *args, **kwargs):
        if refusal := self.refusal():
            return refusal
        posted = self.request.POST
        step = posted.get(f"{self.prefix}-current_step")
        if step not in self.get_form_list():
            # A stale tab or a tampered form: show the step the draft is really on.
            return redirect(self.get_step_url(self.steps.current))
        # The step whose fields are posted, also from a tab left on an earlier step: Back,
        # Cancel, Remove and Reset keep them under that step (formtools moves there only later).
        self.storage.current_step = step
        if "wizard_cancel" in posted:
            self.keep_typed_data()
            return redirect("interactions:wizard_cancel", draft_id=self.draft.pk)
        if "wizard_remove_attachment" in posted or "wizard_reset_content" in posted:
            self.keep_typed_data()
            if "wizard_remove_attachment" in posted:
                self.storage.remove_files("content")
            else:
                subject, body = self.offered_content(self.values)
                self.storage.update_step_data("content", subject=subject, body=body)
            return redirect(self.get_step_url("content"))
        return super().post(*args, **kwargs)

    def render_goto_step(self, goto_step, **kwargs):
        self.keep_typed_data()  # Back keeps what was typed (formtools drops it)
        return super().render_goto_step(goto_step, **kwargs)

    def keep_typed_data(self) -> None:
        """Store what is typed on the current step, valid or not."""
        step = self.storage.current_step = self.steps.current
        form = self.get_form(step, data=self.request.POST, files=self.request.FILES)
        self.storage.set_step_data(step, self.process_step(form))
        valid = {key: f for key, f in form.files.items() if key[len(step) + 1 :] not in form.errors}
        self.storage.set_step_files(step, valid)

    # --- the steps ---------------------------------------------------------------------------

    @cached_property
    def step_one(self):
        """Step 1 as stored, a bound form validated at most once a request: the later steps'
        conditions and defaults and the draft's summary read it. A posted step 1 replaces it."""
        data = self.storage.get_step_data("type")
        if data is not None:
            return self.with_draft_template(
                self.form_list["type"](data=data, prefix="type", **self.get_form_kwargs("type"))
            )
        return None

    def with_draft_template(self, form):
        """Step 1's ``form``, taking the draft's template (its summary column, read with the
        draft's row and written with its state) when it is the one chosen: not read again."""
        form.fields["template"].known = self.draft.template
        return form

    @property
    def values(self) -> dict:
        """Step 1's cleaned values once it is valid."""
        if self.step_one is None or not self.step_one.is_valid():
            return {}
        return self.step_one.cleaned_data

    def get_form(self, step=None, data=None, files=None):
        step = step or self.steps.current
        if step == "type" and data is not None and data is not self.request.POST:
            return self.step_one
        # Defaults only for a form shown empty (a bound one shows its data): they cost queries.
        initial = self.get_form_initial(step) if data is None and files is None else {}
        kwargs = {"prefix": step, "initial": initial, **self.get_form_kwargs(step)}
        form = self.get_form_list()[step](data=data, files=files, **kwargs)
        return self.with_draft_template(form) if step == "type" else form

    def get_form_step_data(self, form):
        # This step's own fields only: never the CSRF token or the buttons.
        return {key: value for key, value in form.data.lists() if key.startswith(f"{form.prefix}-")}

    def process_step(self, form):
        if form.prefix == "type":
            self.follow_template(form.cleaned_data if form.is_valid() else {})
            self.step_one = form
        elif form.prefix == "content":
            self.storage.extra_data.pop("content_kept", None)  # its notice has been seen
        return self.get_form_step_data(form)

    def needs_content(self) -> bool:
        values = self.values
        email = bool(values) and self.correspondence_type(values) == CorrespondenceType.EMAIL
        return email or bool(values and values["template"].has_contents)

    condition_dict = {"content": needs_content}

    def language(self, values: dict) -> str:
        contact, chosen = values.get("contact"), values["language"]
        return interaction_language(template=values["template"], contact=contact, chosen=chosen)

    def correspondence_type(self, values: dict) -> str:
        template, contact = values["template"], values.get("contact")
        chosen = values["correspondence_type"]
        return chosen or resolve_correspondence_type(template=template, contact=contact)

    def offered_content(self, values: dict) -> tuple[str, str]:
        """The subject and body the Content step starts from, for step 1's ``values``."""
        content = values["template"].content_for(self.language(values))
        return (content.subject, content.body) if content else ("", "")

    def follow_template(self, new: dict) -> None:
        """A subject or body not edited follows step 1's new template (or language); an edited
        one is kept, and the Content step says so."""
        typed, old = self.storage.get_step_data("content"), self.values
        if typed is None or not old or not new:
            return
        before, after = self.offered_content(old), self.offered_content(new)
        for field, was, becomes in zip(("subject", "body"), before, after, strict=True):
            if _same_text(typed.get(f"content-{field}", ""), was):
                self.storage.update_step_data("content", **{field: becomes})
            elif was != becomes:
                self.storage.extra_data["content_kept"] = True

    def summary(self) -> dict:
        """The draft's Postponed Interactions columns: what of step 1 is valid, and the latest
        description (the Result step's, else step 1's, else the template's)."""
        if self.step_one is None:
            return {}
        self.step_one.is_valid()
        values = self.step_one.cleaned_data
        template = values.get("template")
        described = (
            (self.storage.get_step_data(step) or {}).get(f"{step}-description", "").strip()
            for step in ("result", "type")
        )
        description = next(filter(None, described), template.description if template else "")
        return {
            "contact": values.get("contact") or self.draft.context_contact,
            "template": template,
            "description": description[:100],
        }

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        current, steps = self.steps.current, list(self.get_form_list())
        on_content = current == "content"
        context.update(
            draft=self.draft,
            step_titles=[(step, WIZARD_STEPS[step], step == current) for step in steps],
            step_title=WIZARD_STEPS[current],
            is_last_step=current == steps[-1],
            content_kept=on_content and self.storage.extra_data.get("content_kept", False),
            # formtools' management form (`wizard.management_form`) written out by the page:
            # its one hidden field, rendered as a form, was 3 % of a step's CPU.
            current_step_field=f"{self.prefix}-current_step",
        )
        # The step's setup lists (templates, salespeople; campaigns) in one round trip.
        lists = setup_choices(form.fields.values())
        if current == "type":
            context["main_field_rows"] = field_rows(form.main_fields, lists=lists)
            context["more_field_rows"] = field_rows(form.more_fields, lists=lists)
        else:
            attachment = on_content and self.storage.file_names("content").get("content-attachment")
            context["field_rows"] = field_rows(
                form.visible_fields(), lists=lists, attachment=attachment or ""
            )
        return context

    # --- Finish ------------------------------------------------------------------------------

    def render_done(self, form, **kwargs):
        # Logs at once: NamedUrlWizardView would redirect to the done URL and log on its GET.
        return WizardView.render_done(self, form, **kwargs)

    def done(self, form_list, form_dict, **kwargs):
        if self.storage.missing_files:
            # Its upload went with a Finish or discard committed meanwhile, or another tab
            # replaced it: never finish without it. The step, read again, shows what happened.
            self.finished = True  # (what this request read is out of date)
            return redirect(self.request.path)
        # Every step's cleaned data; a later step's wins (the Result's description).
        values = {name: value for form in form_list for name, value in form.cleaned_data.items()}
        try:
            response = self.finish(values)
        except DraftFinished:  # a Finish in another request committed first
            response = self.already_finished()
        except RecordGone as gone:  # discarded in another tab
            messages.error(self.request, gone.message)
            response = redirect("interactions:draft_list")
        except ValidationError as problems:  # kept as typed, from step 1
            for problem in problems.messages:
                messages.error(self.request, problem)
            self.storage.current_step = "type"
            return redirect(self.get_step_url("type"))
        self.finished = True
        return response


class ContactWizard(DraftWizard):
    """Create Interaction for one contact: Type, Content, Related to, Result; `Finish` logs one
    entry (`interaction_finish`)."""

    form_list = [
        ("type", TypeForm),
        ("content", ContentForm),
        ("related", RelatedForm),
        ("result", ResultForm),
    ]

    def handles(self, draft):
        return draft.context_segment_id is None

    def get_form_kwargs(self, step=None):
        if step == "type":
            return {"fixed_contact": self.draft.context_contact}
        values = self.values
        contact = values.get("contact")
        if step == "content":
            email = bool(values) and self.correspondence_type(values) == CorrespondenceType.EMAIL
            return {"contact": contact, "is_email": email}
        if step == "related":
            return {"company": contact.company_contact if contact else None}
        return {}

    def get_form_initial(self, step):
        prefill, values = self.storage.extra_data.get("prefill", {}), self.values
        template = values.get("template")
        if step == "type":
            return self.type_initial(prefill)
        if step == "content" and template is not None:
            subject, body = self.offered_content(values)
            email = self.correspondence_type(values) == CorrespondenceType.EMAIL
            return {"subject": subject, "body": body, "deliver": email and bool(subject or body)}
        if step == "related":
            return {
                "campaign": prefill.get("campaign") or (template.campaign_id if template else None),
                "campaign_target": bool(template and template.campaign_target),
                "campaign_response": bool(template and template.campaign_response),
                "opportunity": prefill.get("opportunity"),
            }
        if step == "result" and template is not None:
            return {
                "description": values["description"],
                "cost": template.unit_cost,
                "duration": template.unit_duration,
                "was_successful": True,
            }
        return {}

    def type_initial(self, prefill: dict) -> dict:
        now = timezone.localtime()
        contact = self.draft.context_contact
        if contact is None and prefill.get("prefill_contact"):
            contact = Contact.objects.filter(pk=prefill["prefill_contact"]).first()
        salespeople = self.salesperson_candidates(prefill, contact)
        return {
            "contact": contact,
            "salesperson": next((s for s in salespeople if s is not None and not s.blocked), None),
            "date": now.date(),
            "time": now.time().replace(second=0, microsecond=0),
        }

    def salesperson_candidates(self, prefill: dict, contact: Contact | None):
        """Step 1's salesperson, the first not blocked of: the one chosen when starting, the
        one started from, the user's own, the contact's. Each is read only when none before it
        will do (the contact's was a query on most first steps)."""
        if prefill.get("prefill_salesperson"):
            yield Salesperson.objects.filter(pk=prefill["prefill_salesperson"]).first()
        yield self.draft.context_salesperson
        yield getattr(self.request.user, "salesperson", None)
        if contact is not None:
            yield contact.salesperson

    def process_step(self, form):
        data = super().process_step(form)
        if form.prefix == "type":
            # A contact found by its name (or picked from the matches) is stored by its number.
            data.pop("type-contact_pick", None)
            if (contact := form.cleaned_data.get("contact")) and not form["contact"].field.disabled:
                data["type-contact"] = [contact.number]
            # The Result's description is step 1's shown again.
            if self.storage.get_step_data("result") and data.get("type-description", [""])[0]:
                self.storage.update_step_data("result", description=data["type-description"][0])
        return data

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        if self.steps.current == "content" and (values := self.values).get("contact"):
            merged = merge_values(
                contact=values["contact"], salesperson=values["salesperson"], date=values["date"]
            )
            subject, body = form["subject"].value() or "", form["body"].value() or ""
            context["preview"] = {"subject": merge(subject, merged), "body": merge(body, merged)}
        return context

    def finish(self, values):
        entry = interaction_finish(draft=self.draft, user=self.request.user, values=values)
        messages.success(
            self.request,
            _("Interaction logged as entry %(no)s: %(description)s.")
            % {"no": entry.pk, "description": entry.description},
        )
        return redirect(entry.contact.get_absolute_url())

    def already_finished(self):
        """A replayed `Finish` (or an old tab) lands on what the draft logged."""
        entry = self.draft.log_entries.select_related("contact").first()
        messages.info(self.request, _("This interaction has already been logged."))
        return redirect(entry.contact.get_absolute_url() if entry else "interactions:entry_list")
