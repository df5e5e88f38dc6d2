"""Forms of the segment pages: header, criteria, a contact by hand, a line, Log Segment, saved
criteria and the follow-up of a logged segment."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from contacts.forms import DateInput, SetupChoiceField
from contacts.models import (
    Campaign,
    Contact,
    ContactQuerySet,
    ContactType,
    CorrespondenceType,
    Language,
    Salesperson,
)
from contacts.web import id_from
from interactions.forms import ContactNumberField
from interactions.merge import validate_merge_fields
from interactions.models import (
    Evaluation,
    InformationFlow,
    InitiatedBy,
    InteractionGroup,
    InteractionLogEntry,
    InteractionTemplate,
)
from segments.models import FollowUpResponse, LoggedSegment, SavedCriteria, Segment, SegmentLine

ANY = ("", _("Any"))
# Evaluations a criterion or a follow-up can ask for ("not evaluated" is no outcome).
EVALUATIONS = [(value, label) for value, label in Evaluation.choices if value]


def _salespeople():
    """Salespeople that can be chosen for new work (blocked ones cannot)."""
    return Salesperson.objects.filter(blocked=False).order_by("name")


def _not_negative(form: forms.Form, *names: str) -> None:
    for name in names:
        form.fields[name].validators.append(MinValueValidator(Decimal(0)))
        form.fields[name].widget.attrs["min"] = "0"


def _merge_fields_checked(form: forms.Form, *names: str) -> None:
    for name in names:
        value = form.cleaned_data.get(name)
        if value:
            try:
                validate_merge_fields(value)
            except forms.ValidationError as error:
                form.add_error(name, error)


class SegmentCreateForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["description", "date", "salesperson"]
        widgets = {"date": DateInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["salesperson"].queryset = _salespeople()


class SegmentHeaderForm(forms.ModelForm):
    """General fields and the assigned interaction's values; the template itself (with its
    content) is chosen through Create Interaction."""

    class Meta:
        model = Segment
        fields = [
            "description",
            "date",
            "salesperson",
            "interaction_description",
            "correspondence_type",
            "ignore_contact_corres_type",
            "information_flow",
            "initiated_by",
            "unit_cost",
            "unit_duration",
            "campaign",
            "campaign_target",
            "campaign_response",
            "subject",
            "body",
        ]
        widgets = {
            "date": DateInput,
            "body": forms.Textarea(attrs={"rows": 8}),
        }

    GENERAL = ("description", "date", "salesperson")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        salespeople = _salespeople()
        if self.instance.salesperson_id:
            # Keep showing a salesperson who was blocked after being chosen.
            salespeople = Salesperson.objects.filter(
                Q(blocked=False) | Q(pk=self.instance.salesperson_id)
            ).order_by("name")
        self.fields["salesperson"].queryset = salespeople
        self.fields["campaign"].queryset = Campaign.objects.order_by("number")
        _not_negative(self, "unit_cost", "unit_duration")

    def clean(self):
        data = super().clean()
        _merge_fields_checked(self, "subject", "body")
        return data

    @property
    def general_fields(self):
        return [self[name] for name in self.GENERAL]

    @property
    def interaction_fields(self):
        return [self[name] for name in self.fields if name not in self.GENERAL]


class AddContactForm(forms.Form):
    contact = ContactNumberField(label=_("Contact No."), required=True, search=True)

    def clean_contact(self):
        contact = self.cleaned_data["contact"]
        if contact is not None and contact.privacy_blocked:
            raise forms.ValidationError(
                _("%(contact)s is privacy blocked and cannot be added to a segment."),
                params={"contact": contact},
            )
        return contact


class LoggedSegmentField(forms.CharField):
    """A logged segment given by its entry no. or its segment no."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", _("Its entry no. or its segment no."))
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"list": "logged-segments", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value.pk if isinstance(value, LoggedSegment) else value

    def clean(self, value) -> LoggedSegment | None:
        value = super().clean(value).strip()
        if not value:
            return None
        match = Q(segment_no__iexact=value)
        if (key := id_from(value)) is not None:
            match |= Q(pk=key)
        logged = LoggedSegment.objects.filter(match).order_by("-pk").first()
        if logged is None:
            raise forms.ValidationError(
                _("There is no logged segment %(value)s."), params={"value": value}
            )
        return logged


@dataclass(frozen=True)
class Criteria:
    """Filled-in criteria: the contacts they select, what a criteria step stores to replay them
    (the values as the form posts them) and the same in words."""

    data: dict[str, Any]
    contacts: ContactQuerySet
    described: str

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Criteria:
        """Stored criteria, checked again against today's data (a template may be gone)."""
        form = CriteriaForm(data)
        if not form.is_valid():
            problems = "; ".join(
                f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
                for name, errors in form.errors.items()
            )
            raise ValidationError(problems)
        return form.criteria()


class CriteriaForm(forms.Form):
    """The criteria of `Add Contacts`, `Reduce Contacts` and `Refine Contacts`.

    Empty fields do not filter; all filled-in criteria must hold together. The interaction
    criteria ask whether a contact has (or has no) non-canceled log entry that meets every
    filled-in entry condition: its outcome (evaluation, attempt failed, an inbound entry
    initiated by them, i.e. an answer), template or group, campaign, logged segment, dates.
    """

    HAS = "has"
    HAS_NO = "has_no"
    BLANK = "blank"
    YES = "yes"
    NO = "no"

    CONTACT_FIELDS = (
        "type",
        "company",
        "salesperson",
        "city",
        "country",
        "language",
        "correspondence_type",
    )
    ENTRY_FIELDS = (
        "template",
        "group",
        "campaign",
        "logged_segment",
        "evaluation",
        "attempt_failed",
        "information_flow",
        "initiated_by",
        "date_from",
        "date_to",
    )

    type = forms.ChoiceField(
        label=_("Contact Type"), choices=[ANY, *ContactType.choices], required=False
    )
    company = ContactNumberField(
        label=_("Company No."),
        search=True,
        help_text=_("The company and its persons."),
    )
    salesperson = SetupChoiceField(
        Salesperson.objects.order_by("name"), label=_("Salesperson"), required=False
    )
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    country = forms.CharField(label=_("Country/Region Code"), max_length=2, required=False)
    language = forms.ChoiceField(
        label=_("Language"), choices=[ANY, *Language.choices], required=False
    )
    correspondence_type = forms.ChoiceField(
        label=_("Correspondence Type"),
        choices=[
            ANY,
            (BLANK, _("(blank)")),
            (CorrespondenceType.HARD_COPY, CorrespondenceType.HARD_COPY.label),
            (CorrespondenceType.EMAIL, CorrespondenceType.EMAIL.label),
        ],
        required=False,
    )
    interaction = forms.ChoiceField(
        label=_("Interactions"),
        choices=[
            ("", _("Any")),
            (HAS, _("Has interactions that match")),
            (HAS_NO, _("Has no interactions that match")),
        ],
        required=False,
        help_text=_("Canceled interactions never count. Empty conditions below do not filter."),
    )
    template = SetupChoiceField(
        InteractionTemplate.objects.order_by("code"),
        label=_("Interaction Template"),
        required=False,
    )
    group = SetupChoiceField(
        InteractionGroup.objects.order_by("code"), label=_("Interaction Group"), required=False
    )
    campaign = SetupChoiceField(
        Campaign.objects.order_by("number"), label=_("Campaign"), required=False
    )
    logged_segment = LoggedSegmentField(label=_("Logged segment"), required=False)
    evaluation = forms.MultipleChoiceField(
        label=_("Evaluation"),
        choices=EVALUATIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Any of those ticked."),
    )
    attempt_failed = forms.ChoiceField(
        label=_("Attempt"),
        choices=[ANY, (YES, _("Attempt failed")), (NO, _("Attempt succeeded"))],
        required=False,
    )
    information_flow = forms.ChoiceField(
        label=_("Information Flow"),
        choices=[ANY, *[(v, label) for v, label in InformationFlow.choices if v]],
        required=False,
    )
    initiated_by = forms.ChoiceField(
        label=_("Initiated By"),
        choices=[ANY, *[(v, label) for v, label in InitiatedBy.choices if v]],
        required=False,
        help_text=_("An inbound interaction initiated by them is an answer."),
    )
    date_from = forms.DateField(label=_("From date"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To date"), required=False, widget=DateInput)

    def clean_company(self):
        company = self.cleaned_data["company"]
        if company is not None and not company.is_company:
            raise forms.ValidationError(
                _("%(contact)s is a person; enter the number of a company."),
                params={"contact": company},
            )
        return company

    def clean_country(self):
        return self.cleaned_data["country"].strip().upper()

    def clean(self):
        data = super().clean()
        conditions = [name for name in self.ENTRY_FIELDS if data.get(name) not in (None, "", [])]
        if conditions and not data.get("interaction"):
            self.add_error(
                "interaction",
                _("Choose whether the contacts have or have no interactions that match."),
            )
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    @property
    def contact_fields(self):
        return [self[name] for name in self.CONTACT_FIELDS]

    @property
    def entry_fields(self):
        return [self[name] for name in ("interaction", *self.ENTRY_FIELDS)]

    def contacts(self) -> ContactQuerySet:
        """The contacts that match every criterion (one query, used as a sub-select)."""
        data = self.cleaned_data
        contacts = Contact.objects.all()
        if data.get("type"):
            contacts = contacts.filter(type=data["type"])
        if data.get("company") is not None:
            company = data["company"]
            contacts = contacts.filter(Q(pk=company.pk) | Q(company=company))
        if data.get("salesperson") is not None:
            contacts = contacts.filter(salesperson=data["salesperson"])
        if data.get("city"):
            contacts = contacts.filter(city__iexact=data["city"].strip())
        if data.get("country"):
            contacts = contacts.filter(country=data["country"])
        if data.get("language"):
            contacts = contacts.filter(language=data["language"])
        if data.get("correspondence_type") == self.BLANK:
            contacts = contacts.filter(correspondence_type="")
        elif data.get("correspondence_type"):
            contacts = contacts.filter(correspondence_type=data["correspondence_type"])
        if data.get("interaction"):
            # EXISTS on the contact's entries: the (contact, date) index finds them.
            has = Exists(self._entries().filter(contact=OuterRef("pk")))
            contacts = contacts.filter(has if data["interaction"] == self.HAS else ~has)
        return contacts

    def _entries(self):
        data = self.cleaned_data
        entries = InteractionLogEntry.objects.active()
        for name in ("template", "group", "campaign", "logged_segment"):
            if data.get(name) is not None:
                entries = entries.filter(**{name: data[name]})
        if data.get("evaluation"):
            entries = entries.filter(evaluation__in=data["evaluation"])
        if data.get("attempt_failed"):
            entries = entries.filter(attempt_failed=data["attempt_failed"] == self.YES)
        if data.get("information_flow"):
            entries = entries.filter(information_flow=data["information_flow"])
        if data.get("initiated_by"):
            entries = entries.filter(initiated_by=data["initiated_by"])
        if data.get("date_from"):
            entries = entries.filter(date__gte=data["date_from"])
        if data.get("date_to"):
            entries = entries.filter(date__lte=data["date_to"])
        return entries

    def _filled(self):
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if value not in (None, "", []):
                yield name, field, value

    def criteria(self) -> Criteria:
        """The valid form's criteria: what they select, to store, and in words."""
        data = {}
        for name, field, value in self._filled():
            value = field.prepare_value(value)
            if isinstance(value, datetime.date):
                value = value.isoformat()
            data[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
        return Criteria(data=data, contacts=self.contacts(), described=self.described())

    def described(self) -> str:
        """The criteria in words, for the confirmation message and the criteria history."""
        parts = []
        for _name, field, value in self._filled():
            if isinstance(field, forms.ChoiceField) and not isinstance(
                field, forms.ModelChoiceField
            ):
                labels = dict(field.choices)
                if isinstance(value, list):
                    value = " / ".join(str(labels.get(v, v)) for v in value)
                else:
                    value = labels.get(value, value)
            parts.append(f"{field.label}: {value}")
        return "; ".join(str(part) for part in parts) or str(_("no criteria (every contact)"))


class ReuseForm(forms.Form):
    logged_segment = LoggedSegmentField(label=_("Logged segment"))


class LineForm(forms.ModelForm):
    """Personalise one line: changing any of these marks it personalised."""

    class Meta:
        model = SegmentLine
        fields = [
            "template",
            "interaction_description",
            "salesperson",
            "date",
            "correspondence_type",
            "language",
            "unit_cost",
            "unit_duration",
            "subject",
            "body",
        ]
        widgets = {
            "date": DateInput,
            "body": forms.Textarea(attrs={"rows": 8}),
        }
        help_texts = {
            "template": _("Another template brings its own defaults to this line."),
            "date": _("Left empty, the segment's date is used."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = InteractionTemplate.objects.order_by("code")
        salespeople = Salesperson.objects.filter(blocked=False)
        if self.instance.salesperson_id:
            salespeople = Salesperson.objects.filter(
                Q(blocked=False) | Q(pk=self.instance.salesperson_id)
            )
        self.fields["salesperson"].queryset = salespeople.order_by("name")
        _not_negative(self, "unit_cost", "unit_duration")

    def clean(self):
        data = super().clean()
        _merge_fields_checked(self, "subject", "body")
        return data

    def _post_clean(self):
        # The service applies the changes (template defaults first); do not touch the instance.
        pass


class LogSegmentForm(forms.Form):
    send_attachments = forms.BooleanField(
        label=_("Send Attachments"),
        required=False,
        help_text=_(
            "Deliver the Email interactions: each contact gets the merged subject and body, "
            "with the attachment."
        ),
    )
    create_follow_up = forms.BooleanField(
        label=_("Create Follow-up Segment"),
        required=False,
        help_text=_("A new segment with the same contacts, ready for the next interaction."),
    )

    def __init__(self, *args, offer_send: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not offer_send:
            del self.fields["send_attachments"]


class SaveCriteriaForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20)
    description = forms.CharField(label=_("Description"), max_length=100)

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        if SavedCriteria.objects.filter(code=code).exists():
            raise forms.ValidationError(
                _("Saved criteria %(code)s already exist; choose another code."),
                params={"code": code},
            )
        return code


class ReuseCriteriaForm(forms.Form):
    saved = SetupChoiceField(
        SavedCriteria.objects.order_by("code"),
        label=_("Saved criteria"),
        to_field_name="code",
    )


class FollowUpForm(forms.Form):
    """`Create Follow-up Segment` of a logged segment: whom, by their response."""

    response = forms.ChoiceField(
        label=_("Contacts"),
        choices=FollowUpResponse.choices,
        initial=FollowUpResponse.ALL,
        widget=forms.RadioSelect,
    )
    evaluation = forms.MultipleChoiceField(
        label=_("Evaluation"),
        choices=EVALUATIONS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For those evaluated as: any of those ticked."),
    )

    def clean(self):
        data = super().clean()
        if data.get("response") == FollowUpResponse.EVALUATED and not data.get("evaluation"):
            self.add_error("evaluation", _("Tick the evaluations to follow up."))
        return data
