"""The Create Interaction wizard: django-formtools with its state in the draft's row.

Each run is an `InteractionDraft` whose UUID is in the URL, so two tabs never share state and
a draft survives logout, session expiry and restarts. The view stays thin: storage, a few
overrides, and `interaction_log` for the actual write.
"""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import prefetch_related_objects
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from formtools.wizard.storage.base import BaseStorage
from formtools.wizard.views import NamedUrlWizardView, WizardView

from contacts.models import Contact, CorrespondenceType, Salesperson
from interactions.merge import merge, merge_values
from interactions.models import WIZARD_STEPS, DraftStatus, InteractionTemplate
from interactions.selectors import get_draft_for_user
from interactions.services import (
    draft_delete,
    draft_postpone,
    draft_start,
    interaction_log,
    resolve_correspondence_type,
)
from interactions.wizard_forms import (
    ContentForm,
    RelatedForm,
    ResultForm,
    SegmentTypeForm,
    TypeForm,
)

_UNSET = object()  # step 1 not looked at yet in this request
CONTROL_KEYS = {"csrfmiddlewaretoken", "wizard_goto_step", "wizard_cancel"}

# A draft started from a segment needs two things from `segments`: `assign` (what `Finish` does:
# assign the interaction to the segment) and `lines_follow` (the last step says how many lines
# will follow and which personalised ones will not). `segments` depends on this app, so it
# registers them here at start-up (`SegmentsConfig.ready`) instead of this module importing it.
SEGMENT_SERVICES: dict[str, Callable] = {}


class DraftFileStorage:
    """Uploads of a draft kept under drafts/<uuid>/ in Django's default storage."""

    def __init__(self, draft_id):
        self.folder = f"drafts/{draft_id}/"

    def save(self, name, content):
        return default_storage.save(self.folder + name.rsplit("/", 1)[-1], content)

    def open(self, name, mode="rb"):
        return default_storage.open(name, mode)

    def delete(self, name):
        default_storage.delete(name)


class DraftStorage(BaseStorage):
    """Wizard state read from and written to `InteractionDraft.state` (owner-scoped)."""

    def __init__(self, prefix, request=None, file_storage=None):
        super().__init__(prefix, request, file_storage)
        self.draft = get_draft_for_user(request, prefix.removeprefix("draft_"))
        self.init_data()
        self.data.update(copy.deepcopy(self.draft.state or {}))
        self._saved = self._dump()
        self._saved_type = copy.deepcopy(self._type_data())
        # Set once `Finish` has handed the draft to the service: nothing more to write.
        self.finalized = False
        # Step 1's validated values when the wizard has them (it just validated a new step 1).
        self.type_values: dict | None = None

    def _dump(self) -> str:
        return json.dumps(self.data, sort_keys=True, default=str)

    def _type_data(self) -> dict:
        return self.data[self.step_data_key].get("type", {})

    def update_response(self, response):
        super().update_response(response)
        # Only a POST writes: a GET (a prefetch, a crawler, a reload) never changes the draft.
        if self.request.method == "POST" and not self.finalized and self._dump() != self._saved:
            self.save()

    def save(self) -> None:
        draft = self.draft
        draft.state = self.data
        draft.current_step = self.data.get(self.step_key) or ""
        fields = ["state", "current_step", "updated_at"]
        type_data = self._type_data()
        if type_data != self._saved_type:
            self._summarise(type_data)
            fields += ["contact", "template", "description"]
        draft.save(update_fields=fields)
        self._saved = self._dump()
        self._saved_type = copy.deepcopy(type_data)

    def _summarise(self, type_data: dict) -> None:
        """The list columns of `Postponed Interactions` (contact, template, description),
        from step 1's data; only worked out again when step 1 changed."""
        draft = self.draft
        if self.type_values is not None:  # validated (a description without its outer spaces)
            draft.contact = self.type_values.get("contact")
            draft.template = self.type_values["template"]
            description = self.type_values["description"] or draft.template.description
            draft.description = description[:100]
            return
        number = (type_data.get("type-contact") or [""])[0]
        if number:
            draft.contact = Contact.objects.filter(number__iexact=number.strip()).first()
        elif draft.context_contact_id:
            draft.contact_id = draft.context_contact_id
        template_id = (type_data.get("type-template") or [""])[0]
        draft.template = (
            InteractionTemplate.objects.filter(pk=template_id).first()
            if template_id.isdigit()
            else None
        )
        description = (type_data.get("type-description") or [""])[0]
        draft.description = (description or (draft.template.description if draft.template else ""))[
            :100
        ]


def _not_for_segment(wizard: InteractionWizard) -> bool:
    """A segment's Create Interaction assigns, it logs nothing: no Result step."""
    return wizard.draft.context_segment_id is None


def _needs_content(wizard: InteractionWizard) -> bool:
    values = wizard.type_values()
    if values is None:
        return False
    template = values["template"]
    return bool(template.contents.all()) or wizard.correspondence_type() == CorrespondenceType.EMAIL


class InteractionWizard(NamedUrlWizardView):
    storage_name = "interactions.wizard.DraftStorage"
    form_list = [
        ("type", TypeForm),
        ("content", ContentForm),
        ("related", RelatedForm),
        ("result", ResultForm),
    ]
    condition_dict = {"content": _needs_content, "result": _not_for_segment}
    template_name = "interactions/wizard.html"
    file_storage = None  # set per request in dispatch(): the draft's own folder

    # --- plumbing: the draft in the URL keys everything --------------------------------------

    def dispatch(self, request, *args, **kwargs):
        self.file_storage = DraftFileStorage(kwargs["draft_id"])
        return super().dispatch(request, *args, **kwargs)

    def get_prefix(self, request, *args, **kwargs):
        return f"draft_{kwargs['draft_id']}"

    @property
    def draft(self):
        return self.storage.draft

    @property
    def segment(self):
        """The segment this run was started from, or None for a contact's interaction."""
        return self.draft.context_segment

    def get_form_list(self):
        form_list = super().get_form_list()
        if self.draft.context_segment_id is not None:
            # A copy: formtools may hand out its cached list or even the view's own form_list,
            # which every later request (a contact's wizard too) would then see changed.
            form_list = OrderedDict(form_list)
            form_list["type"] = SegmentTypeForm
        return form_list

    def get_step_url(self, step):
        return reverse(self.url_name, kwargs={"draft_id": self.draft.pk, "step": step})

    def get(self, request, *args, **kwargs):
        _require_logging_role(request)
        if self.draft.status == DraftStatus.FINISHED:
            return self._already_finished()
        if kwargs.get("step") == self.done_step_name:
            # `Finish` is a POST of the last step; a GET of its URL only shows the current step.
            return redirect(self.get_step_url(self.steps.current))
        return super().get(request, *args, **kwargs)

    def post(self, *args, **kwargs):
        _require_logging_role(self.request)
        if self.draft.status == DraftStatus.FINISHED:
            return self._already_finished()
        posted_step = self.request.POST.get(f"{self.prefix}-current_step")
        if posted_step not in self.get_form_list():
            # A stale tab or a tampered form: show the step the draft is really on.
            return redirect(self.get_step_url(self.steps.current))
        if "wizard_cancel" in self.request.POST:
            self._keep_typed_data()
            return redirect("interactions:wizard_cancel", draft_id=self.draft.pk)
        return super().post(*args, **kwargs)

    def _already_finished(self):
        """A replayed `Finish` (or an old tab) lands on what the draft produced."""
        if self.segment is not None:
            messages.info(self.request, _("This interaction has already been assigned."))
            return redirect(self.segment.get_absolute_url())
        entry = self.draft.log_entries.select_related("contact").first()
        messages.info(self.request, _("This interaction has already been logged."))
        if entry is not None:
            return redirect(entry.contact.get_absolute_url())
        return redirect("interactions:entry_list")

    def render_goto_step(self, goto_step, **kwargs):
        # `Back` keeps what was typed on the current step (formtools drops it by default).
        self._keep_typed_data()
        return super().render_goto_step(goto_step, **kwargs)

    def _keep_typed_data(self) -> None:
        step = self.steps.current
        self.storage.current_step = step
        form = self.get_form(step, data=self.request.POST, files=self.request.FILES)
        self.storage.set_step_data(step, self.process_step(form))
        files = {
            key: upload
            for key, upload in form.files.items()
            if key.removeprefix(f"{step}-") not in form.errors
        }
        if files:
            self.storage.set_step_files(step, files)

    def get_form_step_data(self, form):
        # Only this step's own fields: never the CSRF token or the navigation buttons.
        prefix = f"{form.prefix}-"
        return {
            key: values
            for key, values in form.data.lists()
            if key.startswith(prefix) and key not in CONTROL_KEYS
        }

    def process_step(self, form):
        data = self.get_form_step_data(form)
        step_data = self.storage.data[self.storage.step_data_key]
        if form.prefix == "type":
            # A contact found by its name (or picked from the matches) is stored by its number.
            data.pop("type-contact_pick", None)
            form.is_valid()  # cleaned_data, also of a step kept invalid (Back, Cancel)
            contact = form.cleaned_data.get("contact")
            if contact is not None and not form.fields["contact"].disabled:
                data["type-contact"] = [contact.number]
            # About to be stored: the next step's conditions and defaults ask for it, and the
            # draft's list columns are worked out from it.
            # (Not `type_form()`: the storage still holds the step 1 this one replaces.)
            self._remember_type_form(data, form)
            known = self._type_form
            self.storage.type_values = known.cleaned_data if known is not None else None
            self._follow_template_change(data)
            if "result" in step_data and data.get("type-description"):
                step_data["result"]["result-description"] = data["type-description"]
        elif form.prefix == "result" and "type" in step_data:
            step_data["type"]["type-description"] = data.get("result-description", [""])
        return data

    def _follow_template_change(self, new_type_data: dict) -> None:
        """A new template replaces the content only if the user had not edited it."""
        step_data = self.storage.data[self.storage.step_data_key]
        old = step_data.get("type", {}).get("type-template")
        if old == new_type_data.get("type-template") or "content" not in step_data:
            return
        generated = self.storage.extra_data.get("generated_content")
        content = step_data["content"]
        if generated and content.get("content-body", [""])[0] == generated.get("body"):
            del step_data["content"]
            self.storage.extra_data.pop("generated_content", None)

    # --- what the steps know about each other ------------------------------------------------

    def type_values(self) -> dict | None:
        """Step 1's validated values (conditions and initials ask for them), or None."""
        form = self.type_form()
        return form.cleaned_data if form is not None else None

    def type_form(self):
        """Step 1's stored data as a validated form (None if there is none or it is invalid),
        built once for as long as the stored data stays the same.

        The form is built without `get_form_initial()`: bound data needs no defaults, and
        working them out costs queries (the default salesperson). The template's content
        variants are read here once for the conditions and initials that ask for them.
        """
        stored = self.storage.get_step_data("type")
        if getattr(self, "_type_form_data", _UNSET) != stored:
            form = None
            if stored is not None:
                form_class = self.get_form_list()["type"]
                form = form_class(
                    data=stored,
                    prefix=self.get_form_prefix("type", form_class),
                    **self.get_form_kwargs("type"),
                )
            self._remember_type_form(stored, form)
        return self._type_form

    def _remember_type_form(self, data, form) -> None:
        """Keep ``form`` (None if invalid) as step 1 while the stored step 1 is ``data``."""
        valid = form is not None and form.is_valid()
        if valid:
            prefetch_related_objects([form.cleaned_data["template"]], "contents")
        self._type_form_data = copy.deepcopy(data)
        self._type_form = form if valid else None

    def get_form(self, step=None, data=None, files=None):
        # `Finish` validates every step again: step 1's stored data may be validated already.
        # That form was built without the wizard's `initial`, which no step-1 field takes its
        # value from (TypeForm sets the fixed contact itself).
        if step == "type" and data is not None and data == self.storage.get_step_data("type"):
            form = self.type_form()
            if form is not None:
                return form
        return super().get_form(step, data, files)

    def correspondence_type(self) -> str:
        values = self.type_values()
        if values is None:
            return ""
        if values["correspondence_type"]:
            return values["correspondence_type"]
        if self.segment is not None:
            # Resolved per contact when the header is applied to the lines.
            return values["template"].correspondence_type
        return resolve_correspondence_type(template=values["template"], contact=values["contact"])

    def language(self) -> str:
        values = self.type_values() or {}
        contact = values.get("contact")
        template = values.get("template")
        return (
            values.get("language")
            or (contact.language if contact else "")
            or (template.language if template else "")
        )

    def get_form_kwargs(self, step=None):
        if self.segment is not None:
            # Delivering is decided when the segment is logged (`Send Attachments`).
            return {"content": {"is_email": False}, "related": {"for_segment": True}}.get(step, {})
        if step == "type":
            return {"fixed_contact": self.draft.context_contact}
        values = self.type_values() or {}
        contact = values.get("contact")
        if step == "content":
            return {
                "contact": contact,
                "is_email": self.correspondence_type() == CorrespondenceType.EMAIL,
            }
        if step == "related":
            return {"company": contact.company_contact if contact else None}
        return {}

    def get_form_initial(self, step):
        if self.segment is not None:
            return self._segment_initial(step)
        prefill = self.storage.extra_data.get("prefill", {})
        values = self.type_values() or {}
        template = values.get("template")
        if step == "type":
            return self._type_initial(prefill)
        if step == "content" and template is not None:
            content = template.content_for(self.language())
            initial = {
                "subject": content.subject if content else "",
                "body": content.body if content else "",
                "deliver": bool(content) and self.correspondence_type() == CorrespondenceType.EMAIL,
            }
            self.storage.extra_data["generated_content"] = {"body": initial["body"]}
            return initial
        if step == "related":
            campaign = prefill.get("campaign") or (template.campaign_id if template else None)
            return {
                "campaign": campaign,
                "campaign_target": bool(template and template.campaign_target),
                "campaign_response": bool(template and template.campaign_response),
                "opportunity": prefill.get("opportunity"),
            }
        if step == "result":
            return {
                "description": values.get("description", ""),
                "cost": template.unit_cost if template else 0,
                "duration": template.unit_duration if template else 0,
                "was_successful": True,
            }
        return {}

    def _segment_initial(self, step) -> dict:
        """Running Create Interaction again on a segment starts from what its header has."""
        segment = self.segment
        assigned = segment.template
        values = self.type_values() or {}
        template = values.get("template")
        if step == "type":
            if assigned is None:
                return {}
            initial = {
                "template": assigned,
                "ignore_contact_corres_type": segment.ignore_contact_corres_type,
            }
            # Only what differs from the template, so that choosing another template brings
            # that template's defaults.
            if segment.interaction_description != assigned.description:
                initial["description"] = segment.interaction_description
            if segment.language != assigned.language:
                initial["language"] = segment.language
            if segment.correspondence_type != assigned.correspondence_type:
                initial["correspondence_type"] = segment.correspondence_type
            return initial
        same = template is not None and template == assigned
        if step == "content" and template is not None:
            if same and segment.language == self.language() and (segment.subject or segment.body):
                initial = {"subject": segment.subject, "body": segment.body}
            else:
                content = template.content_for(self.language())
                initial = {
                    "subject": content.subject if content else "",
                    "body": content.body if content else "",
                }
            self.storage.extra_data["generated_content"] = {"body": initial["body"]}
            return initial
        if step == "related" and template is not None:
            source = segment if same else template
            return {
                "campaign": source.campaign_id,
                "campaign_target": source.campaign_target,
                "campaign_response": source.campaign_response,
            }
        return {}

    def _type_initial(self, prefill: dict) -> dict:
        now = timezone.localtime()
        contact = self.draft.context_contact
        if contact is None and prefill.get("prefill_contact"):
            contact = Contact.objects.filter(pk=prefill["prefill_contact"]).first()
        return {
            "contact": contact,
            "salesperson": self._default_salesperson(contact, prefill),
            "date": now.date(),
            "time": now.time().replace(second=0, microsecond=0),
        }

    def _default_salesperson(self, contact, prefill) -> Salesperson | None:
        """The salesperson started from, else the user's own, else the contact's (not blocked)."""
        candidates = [
            self.draft.context_salesperson,
            getattr(self.request.user, "salesperson", None),
            contact.salesperson if contact else None,
        ]
        if prefill.get("prefill_salesperson"):
            candidates.insert(
                0, Salesperson.objects.filter(pk=prefill["prefill_salesperson"]).first()
            )
        return next((s for s in candidates if s is not None and not s.blocked), None)

    # --- rendering and finishing -------------------------------------------------------------

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context["draft"] = self.draft
        context["step_titles"] = [
            (step, WIZARD_STEPS[step], step == self.steps.current) for step in self.get_form_list()
        ]
        context["step_title"] = WIZARD_STEPS[self.steps.current]
        context["is_last_step"] = self.steps.current == self.steps.last
        if self.segment is not None and context["is_last_step"]:
            context["segment_follow"] = SEGMENT_SERVICES["lines_follow"](self.segment)
        if self.steps.current == "content":
            context["stored_attachment"] = (
                self.storage.data[self.storage.step_files_key].get("content", {}).get("attachment")
            )
            context["preview"] = self._preview(form)
        return context

    def _preview(self, form) -> dict | None:
        values = self.type_values() or {}
        contact = values.get("contact")
        if contact is None:
            return None
        subject = form["subject"].value() or ""
        body = form["body"].value() or ""
        merged = merge_values(
            contact=contact, salesperson=values.get("salesperson"), date=values.get("date")
        )
        return {"subject": merge(subject, merged), "body": merge(body, merged)}

    def render_done(self, form, **kwargs):
        # `Finish` logs at once. formtools' NamedUrlWizardView would first redirect to the
        # done step's URL and log on that GET: one more round trip for every interaction, and
        # done() ends in a redirect anyway (post/redirect/get). The done URL still works.
        return WizardView.render_done(self, form, **kwargs)

    def done(self, form_list, form_dict, **kwargs):
        if self.segment is not None:
            return self._assign_to_segment(form_dict)
        kind = form_dict["type"].cleaned_data
        content = form_dict["content"].cleaned_data if "content" in form_dict else {}
        related = form_dict["related"].cleaned_data
        result = form_dict["result"].cleaned_data
        template = kind["template"]
        try:
            entry = interaction_log(
                draft=self.draft,
                user=self.request.user,
                contact=kind["contact"],
                template=template,
                description=result["description"],
                salesperson=kind["salesperson"],
                date=kind["date"],
                time=kind["time"],
                language=self.language(),
                correspondence_type=self.correspondence_type(),
                information_flow=kind["information_flow"] or template.information_flow,
                initiated_by=kind["initiated_by"] or template.initiated_by,
                subject=content.get("subject", ""),
                body=content.get("body", ""),
                attachment=content.get("attachment"),
                deliver=content.get("deliver", False),
                campaign=related["campaign"],
                campaign_target=related["campaign_target"],
                campaign_response=related["campaign_response"],
                opportunity=related["opportunity"],
                evaluation=result["evaluation"],
                attempt_failed=not result["was_successful"],
                cost=result["cost"],
                duration=result["duration"],
                comments=result["comments"],
            )
        except ValidationError as problems:
            for problem in problems.messages:
                messages.error(self.request, problem)
            # Keep everything typed: save now, and ignore formtools' reset after done().
            self.storage.current_step = "type"
            self.storage.save()
            self.storage.finalized = True
            return redirect(self.get_step_url("type"))
        self.storage.finalized = True
        messages.success(
            self.request,
            _("Interaction logged as entry %(no)s: %(description)s.")
            % {"no": entry.pk, "description": entry.description},
        )
        return redirect(entry.contact.get_absolute_url())

    def _assign_to_segment(self, form_dict):
        kind = form_dict["type"].cleaned_data
        content = form_dict["content"].cleaned_data if "content" in form_dict else {}
        related = form_dict["related"].cleaned_data
        segment = self.segment
        try:
            following = SEGMENT_SERVICES["assign"](
                draft=self.draft,
                user=self.request.user,
                template=kind["template"],
                interaction_description=kind["description"],
                language=self.language(),
                correspondence_type=kind["correspondence_type"],
                ignore_contact_corres_type=kind["ignore_contact_corres_type"],
                information_flow=kind["information_flow"],
                initiated_by=kind["initiated_by"],
                subject=content.get("subject", ""),
                body=content.get("body", ""),
                attachment=content.get("attachment"),
                campaign=related["campaign"],
                campaign_target=related["campaign_target"],
                campaign_response=related["campaign_response"],
            )
        except ValidationError as problems:
            for problem in problems.messages:
                messages.error(self.request, problem)
            self.storage.current_step = "type"
            self.storage.save()
            self.storage.finalized = True
            return redirect(self.get_step_url("type"))
        except PermissionDenied:
            # Logged meanwhile, or no longer the user's to change: the draft stays as it is.
            self.storage.finalized = True
            messages.error(
                self.request,
                _("Segment %(segment)s can no longer be changed; nothing was assigned.")
                % {"segment": segment.number},
            )
            return redirect(segment.get_absolute_url())
        self.storage.finalized = True
        messages.success(
            self.request,
            _("Interaction %(template)s assigned to segment %(segment)s: %(lines)s lines follow.")
            % {"template": kind["template"].code, "segment": segment.number, "lines": following},
        )
        return redirect(segment.get_absolute_url())


def interaction_wizard_view():
    return InteractionWizard.as_view(url_name="interactions:wizard", done_step_name="finish")


# --- Entry points around the wizard ---------------------------------------------------------


def _require_logging_role(request) -> None:
    """Continuing a draft logs an interaction: a user whose role was taken away since the draft
    was started may still discard it, not finish it. Checked after the draft was fetched, so
    someone else's draft stays a 404."""
    if not request.user.has_perm("interactions.add_interactionlogentry"):
        raise PermissionDenied


def _int_param(request, name) -> int | None:
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() else None


@require_POST
def wizard_start(request):
    """`Create Interaction`: a new draft with the context it was started from, then step 1.

    A POST, as it writes the draft: a link prefetch or a crawler must not make drafts. contact=
    and salesperson= fix the context; campaign=, opportunity=, prefill_contact= and
    prefill_salesperson= (from the Interaction Log Entries filter) only pre-fill.
    """
    from contacts.selectors import get_contact_for_user, get_salesperson_for_user

    _require_logging_role(request)
    contact = salesperson = None
    if (contact_id := _int_param(request, "contact")) is not None:
        contact = get_contact_for_user(request, contact_id)
        if contact.privacy_blocked:
            messages.error(
                request,
                _("%(contact)s is privacy blocked: no new interactions can be logged for it.")
                % {"contact": contact},
            )
            return redirect(contact.get_absolute_url())
    if (salesperson_id := _int_param(request, "salesperson")) is not None:
        salesperson = get_salesperson_for_user(request, salesperson_id)
    prefill = {
        name: value
        for name in ("campaign", "opportunity", "prefill_contact", "prefill_salesperson")
        if (value := _int_param(request, name)) is not None
    }
    draft = draft_start(
        user=request.user, contact=contact, salesperson=salesperson, prefill=prefill
    )
    return redirect_to_step(draft)


def redirect_to_step(draft) -> HttpResponseRedirect:
    """Straight to the step the draft is on (the first for a new one), without the extra hop
    through `wizard_resume`."""
    return redirect("interactions:wizard", draft_id=draft.pk, step=draft.current_step or "type")


def wizard_resume(request, draft_id):
    """`Resume`: back to the exact step the draft was left on."""
    draft = get_draft_for_user(request, draft_id)
    _require_logging_role(request)
    if draft.status == DraftStatus.FINISHED:
        messages.info(request, _("This interaction has already been logged."))
        return redirect("interactions:draft_list")
    return redirect_to_step(draft)


def wizard_cancel(request, draft_id):
    """ "Do you want to finish this interaction later?" Yes postpones, No discards."""
    draft = get_draft_for_user(request, draft_id)
    if draft.status == DraftStatus.FINISHED:
        return wizard_resume(request, draft_id)
    if request.method == "POST":
        choice = request.POST.get("choice")
        if choice == "yes":
            draft_postpone(draft=draft)
            messages.success(
                request,
                _("Saved. You can resume it under Postponed Interactions."),
            )
            return redirect("interactions:draft_list")
        if choice == "no":
            context = draft.context_contact or draft.context_segment
            back = context.get_absolute_url() if context else None
            draft_delete(draft=draft)
            messages.info(request, _("The interaction was discarded."))
            return redirect(back or "interactions:entry_list")
    return render(request, "interactions/wizard_cancel.html", {"draft": draft, "nav": "drafts"})


def draft_delete_view(request, draft_id):
    draft = get_draft_for_user(request, draft_id)
    if request.method == "POST":
        draft_delete(draft=draft)
        messages.success(request, _("The postponed interaction was deleted."))
        return redirect("interactions:draft_list")
    return render(
        request, "interactions/draft_confirm_delete.html", {"draft": draft, "nav": "drafts"}
    )
