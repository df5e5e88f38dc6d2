"""The four steps of the Create Interaction wizard."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from contacts.forms import DateInput, SetupChoiceField
from contacts.models import (
    Campaign,
    Contact,
    CorrespondenceType,
    Language,
    Opportunity,
    Salesperson,
)
from interactions.forms import ContactNumberField, SharedFields
from interactions.merge import validate_merge_fields
from interactions.models import (
    Evaluation,
    InformationFlow,
    InitiatedBy,
    InteractionTemplate,
    InteractionTemplateContent,
)
from interactions.uploads import validate_attachment


class Select(forms.Select):
    """Django's select, its options written by its own template (Jinja2, the same markup)
    instead of an include of select_option.html and of attrs.html each: ~0.045 ms an option,
    and step 1 offers some forty."""

    template_name = "interactions/widgets/select.html"


class StepForm(SharedFields, forms.Form):
    """A wizard step's form: its instances share their fields but for ``own_fields``
    (`interactions.forms.SharedFields`)."""


# "" in these choices means "take the default" (template, contact precedence), not "blank".
DEFAULT_CHOICE = ("", _("Default"))
CORRESPONDENCE_CHOICES = [
    DEFAULT_CHOICE,
    (CorrespondenceType.HARD_COPY, CorrespondenceType.HARD_COPY.label),
    (CorrespondenceType.EMAIL, CorrespondenceType.EMAIL.label),
]
FLOW_CHOICES = [DEFAULT_CHOICE, *InformationFlow.choices[1:]]
INITIATED_CHOICES = [DEFAULT_CHOICE, *InitiatedBy.choices[1:]]
LANGUAGE_CHOICES = [DEFAULT_CHOICE, *Language.choices]


class TypeForm(StepForm):
    # The contact is disabled when the wizard has one; the template is given the draft's.
    own_fields = ("contact", "template")

    contact = ContactNumberField(label=_("Contact No."), required=True, search=True)
    template = SetupChoiceField(
        InteractionTemplate.objects.select_related("group").order_by("code"),
        # The select's list reads only what its labels show: the step's lists in one query.
        offered=InteractionTemplate.objects.order_by("code").only("code", "description"),
        # Whether there is a Content step (`DraftWizard.needs_content`) asks the chosen
        # template next: read with it, not by a read of its contents.
        chosen_annotations={
            "has_contents": Exists(
                InteractionTemplateContent.objects.filter(template=OuterRef("pk"))
            )
        },
        label=_("Interaction Template"),
        empty_label=_("Choose a template"),
        widget=Select,
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=100,
        required=False,
        help_text=_("Left empty, the template's description is used."),
    )
    # "Show more"
    salesperson = SetupChoiceField(
        Salesperson.objects.filter(blocked=False).order_by("name"),
        offered=Salesperson.objects.filter(blocked=False).order_by("name").only("name", "code"),
        label=_("Salesperson"),
        required=False,
        widget=Select,
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=LANGUAGE_CHOICES, required=False, widget=Select
    )
    date = forms.DateField(label=_("Date"), widget=DateInput)
    time = forms.TimeField(
        label=_("Time of Interaction"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    correspondence_type = forms.ChoiceField(
        label=_("Correspondence Type"),
        choices=CORRESPONDENCE_CHOICES,
        required=False,
        widget=Select,
    )
    information_flow = forms.ChoiceField(
        label=_("Information Flow"), choices=FLOW_CHOICES, required=False, widget=Select
    )
    initiated_by = forms.ChoiceField(
        label=_("Initiated By"), choices=INITIATED_CHOICES, required=False, widget=Select
    )

    MORE = (
        "salesperson",
        "language",
        "date",
        "time",
        "correspondence_type",
        "information_flow",
        "initiated_by",
    )

    def __init__(self, *args, fixed_contact: Contact | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if fixed_contact is not None:
            # The context the wizard was started from is fixed.
            self.fields["contact"].disabled = True
            self.initial["contact"] = fixed_contact
        elif pick := self.data.get(self.add_prefix("contact_pick")):
            # One of the matches a typed name offered (`contact_matches`) was chosen.
            self.data = self.data.copy()
            self.data[self.add_prefix("contact")] = pick

    @property
    def contact_matches(self):
        """The lookup of a typed name that matched several contacts, which the step offers."""
        for error in self.errors.as_data().get("contact", []):
            if error.code == "ambiguous":
                return error.params["lookup"]
        return None

    def clean_contact(self):
        contact = self.cleaned_data["contact"]
        if contact is not None and contact.privacy_blocked:
            raise forms.ValidationError(
                _("%(contact)s is privacy blocked: no new interactions can be logged for it."),
                params={"contact": contact},
            )
        return contact

    def clean(self):
        data = super().clean()
        template = data.get("template")
        if template is not None and not data.get("description"):
            data["description"] = template.description
        return data

    @property
    def more_fields(self):
        return [self[name] for name in self.MORE]

    @property
    def main_fields(self):
        return [self[name] for name in self.fields if name not in self.MORE]


class SegmentTypeForm(StepForm):
    """Step 1 of Create Interaction on a segment: no contact, no date or salesperson (the segment
    header has them); the correspondence type becomes the segment's default."""

    own_fields = ("template",)  # given the draft's template

    template = TypeForm.base_fields["template"]
    description = forms.CharField(
        label=_("Description"),
        max_length=100,
        required=False,
        help_text=_("Left empty, the template's description is used."),
    )
    # "Show more"
    language = forms.ChoiceField(
        label=_("Language"), choices=LANGUAGE_CHOICES, required=False, widget=Select
    )
    correspondence_type = forms.ChoiceField(
        label=_("Correspondence Type (Default)"),
        choices=CORRESPONDENCE_CHOICES,
        required=False,
        widget=Select,
        help_text=_(
            "Used for every contact when Ignore Contact Corres. Type is on; otherwise each "
            "contact's own preference (or the template's default) decides, line by line."
        ),
    )
    ignore_contact_corres_type = forms.BooleanField(
        label=_("Ignore Contact Corres. Type"), required=False
    )
    information_flow = forms.ChoiceField(
        label=_("Information Flow"), choices=FLOW_CHOICES, required=False, widget=Select
    )
    initiated_by = forms.ChoiceField(
        label=_("Initiated By"), choices=INITIATED_CHOICES, required=False, widget=Select
    )

    MORE = (
        "language",
        "correspondence_type",
        "ignore_contact_corres_type",
        "information_flow",
        "initiated_by",
    )

    def clean(self):
        data = super().clean()
        template = data.get("template")
        if template is not None and not data.get("description"):
            data["description"] = template.description
        if (
            data.get("ignore_contact_corres_type")
            and not data.get("correspondence_type")
            and template is not None
            and not template.correspondence_type
        ):
            self.add_error(
                "correspondence_type",
                _("Choose the correspondence type to use instead of the contacts' own."),
            )
        return data

    @property
    def more_fields(self):
        return [self[name] for name in self.MORE]

    @property
    def main_fields(self):
        return [self[name] for name in self.fields if name not in self.MORE]


class ContentForm(StepForm):
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=_("Body"), required=False, widget=forms.Textarea(attrs={"rows": 10})
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)
    deliver = forms.BooleanField(
        label=_("Deliver"),
        required=False,
        help_text=_("For Email: send it when the interaction is logged."),
    )

    def __init__(self, *args, contact: Contact | None = None, is_email: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact
        self.is_email = is_email
        if not is_email:
            del self.fields["deliver"]

    def clean_subject(self):
        subject = self.cleaned_data["subject"]
        validate_merge_fields(subject)
        return subject

    def clean_body(self):
        body = self.cleaned_data["body"]
        validate_merge_fields(body)
        return body

    def clean_attachment(self):
        attachment = self.cleaned_data["attachment"]
        if attachment:
            validate_attachment(attachment)
        return attachment

    def clean(self):
        data = super().clean()
        if data.get("deliver"):
            if self.contact is not None and not self.contact.email:
                self.add_error(
                    "deliver",
                    _("%(contact)s has no email address, so the email cannot be delivered.")
                    % {"contact": self.contact},
                )
            if not (data.get("subject", "").strip() or data.get("body", "").strip()):
                self.add_error("body", _("An email to deliver needs a subject or a body."))
        return data


class RelatedForm(StepForm):
    own_fields = ("opportunity",)  # the company's opportunities

    campaign = SetupChoiceField(
        Campaign.objects.order_by("number"),
        offered=Campaign.objects.order_by("number").only("number", "description"),
        label=_("Campaign"),
        required=False,
        widget=Select,
    )
    campaign_target = forms.BooleanField(
        label=_("This contact is being targeted as part of campaign"), required=False
    )
    campaign_response = forms.BooleanField(
        label=_("This interaction is a response to a campaign"), required=False
    )
    opportunity = SetupChoiceField(
        Opportunity.objects.none(), label=_("Opportunity"), required=False, widget=Select
    )

    def __init__(self, *args, company: Contact | None = None, for_segment: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if for_segment:
            # A segment header has a campaign but no opportunity (those belong to one company).
            del self.fields["opportunity"]
        elif company is not None:
            self.fields["opportunity"].queryset = (
                Opportunity.objects.open().filter(contact_company=company).order_by("number")
            )
        else:
            self.fields["opportunity"].help_text = _("Opportunities belong to a company.")

    def clean(self):
        data = super().clean()
        if (data.get("campaign_target") or data.get("campaign_response")) and not data.get(
            "campaign"
        ):
            self.add_error("campaign", _("Choose the campaign this interaction belongs to."))
        return data


class ResultForm(StepForm):
    description = forms.CharField(label=_("Description"), max_length=100)
    evaluation = forms.ChoiceField(
        label=_("Evaluation"), choices=Evaluation.choices, required=False, widget=Select
    )
    was_successful = forms.BooleanField(label=_("Was Successful"), required=False, initial=True)
    cost = forms.DecimalField(
        label=_("Cost (LCY)"), min_value=Decimal(0), max_digits=12, decimal_places=2
    )
    duration = forms.DecimalField(
        label=_("Duration (Min.)"), min_value=Decimal(0), max_digits=10, decimal_places=2
    )
    comments = forms.CharField(
        label=_("Comments"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One comment per line."),
    )

    def clean_comments(self):
        lines = [line.strip() for line in self.cleaned_data["comments"].splitlines()]
        lines = [line for line in lines if line]
        too_long = [n for n, line in enumerate(lines, 1) if len(line) > 250]
        if too_long:
            raise forms.ValidationError(
                _("Comment line %(line)s is longer than 250 characters."),
                params={"line": too_long[0]},
            )
        return lines
