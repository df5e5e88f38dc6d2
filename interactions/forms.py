"""Forms of the interactions pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from contacts.models import Campaign, Contact, Salesperson
from interactions.models import Evaluation, InteractionGroup, InteractionTemplate
from interactions.selectors import MAX_ID


class ContactNumberField(forms.CharField):
    """A contact given by its number (typed, or from a link such as ``?contact=CT000001``);
    cleans to the Contact, or None when blank."""

    default_error_messages = {"unknown": _("There is no contact with number %(number)s.")}

    def __init__(self, *, queryset=None, **kwargs):
        self.queryset = Contact.objects.all() if queryset is None else queryset
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", Contact._meta.get_field("number").max_length)
        super().__init__(**kwargs)

    def clean(self, value):
        number = super().clean(value)
        if not number:
            return None
        contact = self.queryset.filter(number__iexact=number).first()
        if contact is None:
            raise ValidationError(
                self.error_messages["unknown"], code="unknown", params={"number": number}
            )
        return contact


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        # The browser's date picker reads and writes ISO dates whatever the language.
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


class YesNoAll:
    ALL, YES, NO = "", "yes", "no"
    choices = [(ALL, _("All")), (YES, _("Yes")), (NO, _("No"))]


# The "any evaluation" choice is blank, so a blank evaluation needs a word of its own in URLs.
EVALUATION_BLANK = "blank"


class EntryFilterForm(forms.Form):
    """The filters of `Interaction Log Entries`, read from the query string (bookmarkable).

    Choice fields take the same keys other pages link with: contact and company numbers,
    salesperson, template and group codes, campaign numbers. Cleans to model instances, or
    booleans and plain values that ``selectors.filter_entries`` applies.
    """

    contact = ContactNumberField(label=_("Contact no."))
    company = ContactNumberField(
        label=_("Company no."),
        queryset=Contact.objects.companies(),
        error_messages={"unknown": _("There is no company with number %(number)s.")},
    )
    salesperson = forms.ModelChoiceField(
        label=_("Salesperson"),
        queryset=Salesperson.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("All"),
    )
    template = forms.ModelChoiceField(
        label=_("Interaction template"),
        queryset=InteractionTemplate.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("All"),
    )
    group = forms.ModelChoiceField(
        label=_("Interaction group"),
        queryset=InteractionGroup.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("All"),
    )
    campaign = forms.ModelChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.order_by("number"),
        to_field_name="number",
        required=False,
        empty_label=_("All"),
    )
    segment_no = forms.CharField(label=_("Segment no."), max_length=20, required=False)
    logged_segment = forms.IntegerField(
        label=_("Logged segment no."), min_value=1, max_value=MAX_ID, required=False
    )
    date_from = forms.DateField(label=_("Date from"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Date to"), required=False, widget=DateInput)
    canceled = forms.ChoiceField(label=_("Canceled"), choices=YesNoAll.choices, required=False)
    evaluation = forms.ChoiceField(
        label=_("Evaluation"),
        choices=[
            ("", _("All")),
            (EVALUATION_BLANK, Evaluation.BLANK.label),
            *[(value, label) for value, label in Evaluation.choices if value],
        ],
        required=False,
    )

    def clean_canceled(self) -> bool | None:
        return {YesNoAll.YES: True, YesNoAll.NO: False}.get(self.cleaned_data["canceled"])

    def clean_evaluation(self) -> str | None:
        value = self.cleaned_data["evaluation"]
        if value == EVALUATION_BLANK:
            return Evaluation.BLANK
        return value or None

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class DraftFilterForm(forms.Form):
    contact = ContactNumberField(label=_("Contact no."))
