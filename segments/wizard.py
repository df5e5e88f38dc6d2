"""Create Interaction on a segment: the wizard of `interactions` with the segment as context."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from interactions.wizard import DraftWizard
from interactions.wizard_forms import ContentForm, RelatedForm, SegmentTypeForm
from segments.selectors import lines_follow
from segments.services import segment_interaction_finish


class SegmentWizard(DraftWizard):
    """Type (no contact, date or salesperson: the header has them), Content and Related to; no
    Result, as nothing is logged yet. `Finish` assigns the interaction to the header and to the
    lines that follow it (`segment_interaction_finish`)."""

    form_list = [("type", SegmentTypeForm), ("content", ContentForm), ("related", RelatedForm)]

    def handles(self, draft):
        return draft.context_segment_id is not None

    @property
    def segment(self):
        return self.draft.context_segment

    def get_form_kwargs(self, step=None):
        # Delivering is decided by Log (`Send Attachments`); opportunities are a company's.
        return {"content": {"is_email": False}, "related": {"for_segment": True}}.get(step, {})

    def get_form_initial(self, step):
        """Create Interaction again on a segment starts from what its header has."""
        segment, values = self.segment, self.values
        template, assigned = values.get("template"), segment.template
        if step == "type" and assigned is not None:
            initial = {"template": assigned}
            initial["ignore_contact_corres_type"] = segment.ignore_contact_corres_type
            # Only what differs, so that another template brings its own defaults.
            if segment.interaction_description != assigned.description:
                initial["description"] = segment.interaction_description
            if segment.language != assigned.language:
                initial["language"] = segment.language
            if segment.correspondence_type != assigned.correspondence_type:
                initial["correspondence_type"] = segment.correspondence_type
            return initial
        if step == "content" and template is not None:
            subject, body = self.offered_content(values)
            return {"subject": subject, "body": body}
        if step == "related" and template is not None:
            source = segment if template == assigned else template
            return {
                "campaign": source.campaign_id,
                "campaign_target": source.campaign_target,
                "campaign_response": source.campaign_response,
            }
        return {}

    def offered_content(self, values):
        """The header's own text while it has this template and language; else the template's."""
        segment = self.segment
        same = values["template"] == segment.template and self.language(values) == segment.language
        if same and (segment.subject or segment.body):
            return segment.subject, segment.body
        return super().offered_content(values)

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        if context["is_last_step"]:
            context["segment_follow"] = lines_follow(self.segment)
        return context

    def finish(self, values):
        segment, user = self.segment, self.request.user
        try:
            following = segment_interaction_finish(draft=self.draft, user=user, values=values)
        except PermissionDenied:  # logged meanwhile, or no longer the user's to change
            messages.error(
                self.request,
                _("Segment %(segment)s can no longer be changed; nothing was assigned.")
                % {"segment": segment.number},
            )
            return redirect(segment)
        messages.success(
            self.request,
            _("Interaction %(template)s assigned to segment %(segment)s: %(lines)s lines follow.")
            % {"template": values["template"].code, "segment": segment.number, "lines": following},
        )
        return redirect(segment)

    def already_finished(self):
        messages.info(self.request, _("This interaction has already been assigned."))
        return redirect(self.segment)
