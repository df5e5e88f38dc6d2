"""Forms of the segment pages: header, criteria, a contact by hand, a line, Log Segment."""

from __future__ import annotations

from decimal import Decimal

from django import forms
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
from interactions.forms import ContactNumberField
from interactions.merge import validate_merge_fields
from interactions.models import InteractionLogEntry, InteractionTemplate
from segments.models import LoggedSegment, Segment, SegmentLine

ANY = ("", _("Any"))


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


class CriteriaForm(forms.Form):
    """The criteria of `Add Contacts`, `Reduce Contacts` and `Refine Contacts` (spec section 4).

    Empty fields do not filter; all filled-in criteria must hold together.
    """

    HAS = "has"
    HAS_NO = "has_no"
    BLANK = "blank"

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
            (HAS, _("Has an interaction with the template")),
            (HAS_NO, _("Has no interaction with the template")),
        ],
        required=False,
        help_text=_("Canceled interactions do not count."),
    )
    template = SetupChoiceField(
        InteractionTemplate.objects.order_by("code"),
        label=_("Interaction Template"),
        required=False,
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
        if data.get("interaction") and data.get("template") is None:
            self.add_error("template", _("Choose the interaction template."))
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

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
            entries = InteractionLogEntry.objects.active().filter(
                contact=OuterRef("pk"), template=data["template"]
            )
            if data.get("date_from"):
                entries = entries.filter(date__gte=data["date_from"])
            if data.get("date_to"):
                entries = entries.filter(date__lte=data["date_to"])
            has = Exists(entries)
            contacts = contacts.filter(has if data["interaction"] == self.HAS else ~has)
        return contacts

    def described(self) -> str:
        """The criteria in words, for the confirmation message."""
        parts = []
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            if isinstance(field, forms.ChoiceField) and not isinstance(
                field, forms.ModelChoiceField
            ):
                value = dict(field.choices).get(value, value)
            parts.append(f"{field.label}: {value}")
        return "; ".join(str(part) for part in parts) or str(_("no criteria (every contact)"))


class ReuseForm(forms.Form):
    logged_segment = forms.CharField(
        label=_("Logged segment"),
        max_length=20,
        help_text=_("Its entry no. or its segment no."),
        widget=forms.TextInput(attrs={"list": "logged-segments", "autocomplete": "off"}),
    )

    def clean_logged_segment(self):
        value = self.cleaned_data["logged_segment"].strip()
        match = Q(segment_no__iexact=value)
        if value.isdigit():
            match |= Q(pk=int(value))
        logged = LoggedSegment.objects.filter(match).order_by("-pk").first()
        if logged is None:
            raise forms.ValidationError(
                _("There is no logged segment %(value)s."), params={"value": value}
            )
        return logged


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
