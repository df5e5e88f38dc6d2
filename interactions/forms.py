"""Forms of the interactions pages."""

from __future__ import annotations

import copy
import functools

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MinValueValidator
from django.urls import reverse_lazy
from django.utils.safestring import SafeString
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from contacts.built_once import BuiltOnceQuery
from contacts.forms import DateInput, SetupChoiceField, setup_choices
from contacts.models import Campaign, Contact, Opportunity, Salesperson
from contacts.selectors import contact_lookup
from contacts.web import render_rows
from interactions.merge import MERGE_FIELDS, validate_merge_fields
from interactions.models import (
    Evaluation,
    InteractionComment,
    InteractionGroup,
    InteractionLogEntry,
    InteractionTemplate,
    InteractionTemplateContent,
)
from interactions.selectors import MAX_ID
from interactions.uploads import validate_attachment


class ContactNumberField(forms.CharField):
    """A contact given by its number: typed, picked from the server-side search (``search=True``:
    never a <select> of 100,000 contacts), or from a link such as ``?contact=CT000001``.

    With ``search=True`` a name does too (`contact_lookup`): one match is taken; several are an
    error (code ``ambiguous``) that carries the lookup, so that a form can offer the matches.
    Cleans to the Contact (with its company and salesperson), or None when blank; an unknown
    number is an error next to the field. Optional unless ``required=True``.
    """

    default_error_messages = {
        "unknown": _("There is no contact with number %(number)s."),
        "unknown_name": _(
            "There is no contact with number %(number)s, and no contact matches it by name."
        ),
        "ambiguous": _(
            "Several contacts match “%(number)s”. Type more of the name, or the number."
        ),
    }

    def __init__(self, *, queryset=None, search: bool = False, **kwargs):
        if queryset is None:
            queryset = Contact.objects.select_related("company", "salesperson")
        self.queryset = queryset
        self.search = search
        # Compiled once per process: the lookup's SQL cost ~0.5 ms of CPU to compile on every
        # request that filters a list by contact, several times what running it does.
        self._by_number = BuiltOnceQuery(
            lambda number: _first(queryset.filter(number__iexact=number)), number="\x00built once"
        )
        kwargs.setdefault("required", False)
        longest = Contact._meta.get_field("name" if search else "number").max_length
        kwargs.setdefault("max_length", longest)
        if search:
            kwargs.setdefault(
                "widget",
                forms.TextInput(
                    attrs={
                        "autocomplete": "off",
                        "list": "contact-search-results",
                        "data-contact-search": reverse_lazy("contacts:contact_search"),
                        "placeholder": _("Type a name or number"),
                    }
                ),
            )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return value.number if isinstance(value, Contact) else value

    def clean(self, value):
        if isinstance(value, Contact):  # a disabled field keeps its initial Contact
            return value
        number = super().clean(value)
        if not number:
            return None
        if not self.search:
            found = self._by_number.fetch(number=number)
            if not found:
                self._refuse("unknown", number)
            return found[0]
        found = contact_lookup(number)
        if found.contact is None:
            self._refuse("ambiguous" if found.matches else "unknown_name", number, lookup=found)
        return found.contact

    def _refuse(self, code: str, number: str, **params):
        raise ValidationError(
            self.error_messages[code], code=code, params={"number": number, **params}
        )


def _first(queryset):
    """What ``queryset.first()`` reads, as a queryset."""
    return (queryset if queryset.ordered else queryset.order_by("pk"))[:1]


class YesNoAll:
    ALL, YES, NO = "", "yes", "no"
    choices = [(ALL, _("All")), (YES, _("Yes")), (NO, _("No"))]


# The "any evaluation" choice is blank, so a blank evaluation needs a word of its own in URLs.
EVALUATION_BLANK = "blank"


class WrittenOutSelects:
    """``rows``: each visible field as ``(field, options, input)`` for `_filter_fields.html`,
    which writes selects and plain inputs out itself; ``fields_html`` renders them.

    Django renders each widget, and each ``<option>`` of a select, through a template of its
    own; on a list page with seven selects and six inputs that was most of the page's time.
    ``options`` is ``[(value, label, selected)]`` for a select; ``input`` is ``(type, value,
    attrs)`` for a plain input; both None for anything else (rendered as ``{{ field }}``).
    """

    def rows(self):
        fields = self.visible_fields()
        # The setup lists (salespeople, templates ...) in one round trip, as plain pairs.
        setup_lists = setup_choices(field.field for field in fields)
        for field in fields:
            widget = field.field.widget
            value = field.value()
            if isinstance(widget, forms.Select) and not widget.allow_multiple_selected:
                current = "" if value is None else str(value)
                if field.field in setup_lists:
                    choices = setup_lists[field.field]
                else:  # iterated once (a model field's choices are one query; no COUNT first)
                    choices = field.field.choices
                yield (
                    field,
                    [(str(key), label, str(key) == current) for key, label in choices],
                    None,
                )
            elif isinstance(widget, forms.widgets.Input) and widget.input_type != "checkbox":
                if value is None:
                    value = ""
                elif not isinstance(value, str):
                    value = widget.format_value(value)
                yield field, None, (widget.input_type, value, widget.attrs)
            else:
                yield field, None, None

    def fields_html(self) -> SafeString:
        """The form's fields as HTML, through the Jinja2 partial: a list's filters have up to
        fifty options, which Django's template engine took 4 ms of CPU to write out."""
        return render_rows("interactions/_filter_fields.html", {"form": self, "rows": self.rows()})


class SharedFields:
    """A form whose instances share the fields its class declares but for ``own_fields``: the
    ones an instance changes (disables, narrows, gives the request's known object).

    Django deep-copies every declared field (its widget, choices, queryset) for each form, so
    that a form may change its own, although no request changes most of them: the entry
    list's filter form spent ~1.8 M instructions a request on its 13 copies, a quarter of what
    the form and its fields cost; the wizard's step 1 form took 0.44 ms to build, 0.09 ms
    sharing them. A field not named in ``own_fields`` must never be changed on a form (nor in
    a test), nor its queryset read in place: the change, or the rows, would reach every form
    of the process.
    """

    own_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        # BaseForm.__init__ deep-copies base_fields: this dict copies only the own fields.
        self.base_fields = _shared_fields(type(self))
        super().__init__(*args, **kwargs)


class _SharedFields(dict):
    def __init__(self, fields: dict, own: tuple[str, ...]) -> None:
        super().__init__(fields)
        self.own = own

    def __deepcopy__(self, memo) -> dict:
        return {
            name: copy.deepcopy(field, memo) if name in self.own else field
            for name, field in self.items()
        }


@functools.cache  # once per form class
def _shared_fields(form_class: type[SharedFields]) -> _SharedFields:
    return _SharedFields(form_class.base_fields, form_class.own_fields)


class EntryFilterForm(SharedFields, WrittenOutSelects, forms.Form):
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
    salesperson = SetupChoiceField(
        label=_("Salesperson"),
        queryset=Salesperson.objects.only("code", "name").order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("All"),
    )
    template = SetupChoiceField(
        label=_("Interaction template"),
        queryset=InteractionTemplate.objects.only("code", "description").order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("All"),
    )
    group = SetupChoiceField(
        label=_("Interaction group"),
        queryset=InteractionGroup.objects.only("code", "description").order_by("code"),
        to_field_name="code",
        required=False,
        empty_label=_("All"),
    )
    campaign = SetupChoiceField(
        label=_("Campaign"),
        queryset=Campaign.objects.only("number", "description").order_by("number"),
        to_field_name="number",
        required=False,
        empty_label=_("All"),
    )
    opportunity = forms.CharField(label=_("Opportunity no."), max_length=20, required=False)
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

    def clean_opportunity(self) -> Opportunity | None:
        number = self.cleaned_data["opportunity"].strip()
        if not number:
            return None
        opportunity = Opportunity.objects.filter(number__iexact=number).first()
        if opportunity is None:
            raise ValidationError(
                _("There is no opportunity %(number)s."), params={"number": number}
            )
        return opportunity

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


class DraftFilterForm(SharedFields, WrittenOutSelects, forms.Form):
    contact = ContactNumberField(label=_("Contact no."))


# --- Entry actions --------------------------------------------------------------------------

# A selection comes from one page of the list (50 rows); more than this is not a person clicking.
MAX_SELECTED = 500


class EntrySelectionForm(forms.Form):
    """The entries ticked on the list (or the one entry of an entry page)."""

    entry = forms.ModelMultipleChoiceField(
        queryset=InteractionLogEntry.objects.all(),
        widget=forms.MultipleHiddenInput,
        error_messages={
            "required": _("Select one or more entries first."),
            "invalid_choice": _("Entry %(value)s no longer exists."),
            "invalid_pk_value": _("%(pk)s is not an entry number."),
        },
    )

    def clean_entry(self):
        entries = self.cleaned_data["entry"]
        if len(entries) > MAX_SELECTED:
            raise ValidationError(
                _("Select at most %(max)s entries at a time."), params={"max": MAX_SELECTED}
            )
        return entries

    @property
    def entry_ids(self) -> list[int]:
        return sorted(entry.pk for entry in self.cleaned_data["entry"])


# What `Evaluate Interaction` offers: every evaluation, the blank one under a word of its own so
# that an untouched "Choose..." is an error rather than clearing every selected evaluation.
EVALUATION_CHOICES = [
    (EVALUATION_BLANK, Evaluation.BLANK.label),
    *[(value, label) for value, label in Evaluation.choices if value],
]


class EvaluateForm(EntrySelectionForm):
    evaluation = forms.ChoiceField(
        label=_("Evaluation"),
        choices=EVALUATION_CHOICES,
        error_messages={"required": _("Choose the evaluation to set.")},
    )

    def clean_evaluation(self) -> str:
        value = self.cleaned_data["evaluation"]
        return Evaluation.BLANK if value == EVALUATION_BLANK else value


class CommentForm(forms.ModelForm):
    class Meta:
        model = InteractionComment
        fields = ["date", "comment"]
        widgets = {"date": DateInput}


# --- Interaction groups and templates -------------------------------------------------------


class GroupForm(forms.ModelForm):
    class Meta:
        model = InteractionGroup
        fields = ["code", "description"]
        error_messages = {"code": {"unique": _("Another interaction group has this code.")}}


class TemplateForm(forms.ModelForm):
    class Meta:
        model = InteractionTemplate
        fields = [
            "code",
            "description",
            "group",
            "unit_cost",
            "unit_duration",
            "information_flow",
            "initiated_by",
            "correspondence_type",
            "ignore_contact_corres_type",
            "language",
            "campaign",
            "campaign_target",
            "campaign_response",
        ]
        error_messages = {"code": {"unique": _("Another interaction template has this code.")}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = InteractionGroup.objects.order_by("code")
        self.fields["campaign"].queryset = Campaign.objects.order_by("number")
        for name in ("unit_cost", "unit_duration"):
            # The database refuses negative values; say so next to the field.
            self.fields[name].validators.append(MinValueValidator(0))
            self.fields[name].widget.attrs["min"] = 0

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("campaign_target") or cleaned.get("campaign_response")) and not cleaned.get(
            "campaign"
        ):
            self.add_error("campaign", _("Choose the campaign these defaults belong to."))
        return cleaned


class TemplateContentForm(forms.ModelForm):
    """One language's subject, body and attachment; merge fields are checked as typed."""

    class Meta:
        model = InteractionTemplateContent
        fields = ["language", "subject", "body", "attachment"]
        help_texts = {
            "language": _("Leave blank for the default content, used for any other language."),
            "body": format_lazy(
                _("Plain text. Merge fields: {fields}."),
                fields=", ".join(f"{{{{ {name} }}}}" for name in MERGE_FIELDS),
            ),
        }

    def __init__(self, *args, template: InteractionTemplate, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.template = template

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"]
        validate_merge_fields(subject)
        return subject

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        validate_merge_fields(body)
        return body

    def clean_attachment(self):
        attachment = self.cleaned_data["attachment"]
        if isinstance(attachment, UploadedFile):  # a new upload, not the file stored already
            validate_attachment(attachment)
        return attachment

    def clean_language(self) -> str:
        language = self.cleaned_data["language"]
        others = self.template.contents.exclude(pk=self.instance.pk)
        if others.filter(language=language).exists():
            raise ValidationError(
                _("This template already has content in this language; edit that one instead.")
            )
        return language
