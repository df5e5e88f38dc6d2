"""Forms for contacts, salespeople and Marketing Setup; validation only, writes live in services."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlencode

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import connections
from django.db.models import Field, Model, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from contacts.built_once import BuiltOnceQuery
from contacts.models import (
    Campaign,
    Contact,
    ContactType,
    MarketingSetup,
    NumberSeries,
    Opportunity,
    Salesperson,
)


class ListChoiceIterator(ModelChoiceIterator):
    """The choices read with one plain query.

    Django's iterator streams them through a server-side cursor (DECLARE, FETCH, CLOSE: three
    round trips, and a WITH HOLD cursor that PostgreSQL materialises) to spare memory on huge
    tables; the setup lists offered as selects are a few dozen rows.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        built_once = getattr(self.field, "_built_once", None)
        objects = built_once.choices.fetch() if built_once else self.queryset.all()
        for obj in objects:
            yield self.choice(obj)


# A stand-in for the chosen key of each type (contacts/built_once.py): never a real key.
_KEY_STAND_INS = {int: -918273645, str: "\x00built once"}


@dataclass(frozen=True)
class _BuiltOnceReads:
    key: Field  # the declared queryset's key: to_field_name or the primary key
    choices: BuiltOnceQuery
    lookup: BuiltOnceQuery | None  # by the key, when it is a number or a text


class SetupChoiceField(forms.ModelChoiceField):
    """A select of a short setup list (salespeople, templates, groups, campaigns ...).

    Its list and its chosen object are read by SQL compiled once per process
    (contacts/built_once.py): every list page's filters and every wizard step read them, and
    compiling those small reads cost several times what running them does. Only the declared
    queryset is read that way; one set on a form's field later (a narrower list for one form)
    is read as `ModelChoiceField` reads it.
    """

    iterator = ListChoiceIterator
    # An object of the declared list that the request has already read (with another row,
    # such as a draft's template), taken when the value is its key instead of reading it again.
    # Set on a form's own field, never on a class's: it is that request's row.
    known: Model | None = None

    def __init__(
        self,
        queryset,
        *,
        chosen_annotations: dict | None = None,
        offered: QuerySet | None = None,
        **kwargs,
    ):
        """``chosen_annotations`` (name: expression) are read with the chosen object only, not
        with the list: what a request asks the chosen one next (a template: has it contents?)
        comes with its row instead of a query of its own. ``offered``: the list as read for
        the select, when it can read fewer columns than the chosen object needs (the same
        rows and order, ``only()`` the label's columns, so that `setup_choices` may read it)."""
        super().__init__(queryset, **kwargs)
        declared = self.queryset
        chosen = declared.annotate(**chosen_annotations) if chosen_annotations else declared
        if not BuiltOnceQuery.can_build(declared):
            return
        key = declared.model._meta.get_field(self.to_field_name or declared.model._meta.pk.name)
        kind = key.get_internal_type()
        if kind in ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField"):
            # Signed 32 or 64 bits: the stand-in is in range (a positive or small integer
            # column's range would make the compiled filter match nothing, whatever the value).
            stand_in = _KEY_STAND_INS[int]
        else:
            stand_in = _KEY_STAND_INS.get(str) if kind in ("CharField", "SlugField") else None
        lookup = None
        if stand_in is not None:
            lookup = BuiltOnceQuery(
                lambda value: chosen.filter(**{key.name: value}).order_by(), value=stand_in
            )
        listed = declared if offered is None else offered
        self._built_once = _BuiltOnceReads(
            key=key, choices=BuiltOnceQuery(lambda: listed), lookup=lookup
        )

    def _set_queryset(self, queryset):
        super()._set_queryset(queryset)
        self._built_once = None

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)  # sets the (same) queryset again
        result._built_once = self._built_once
        return result

    def to_python(self, value):
        lookup = self._built_once and self._built_once.lookup
        if lookup is None or value in self.empty_values or isinstance(value, Model):
            return super().to_python(value)
        self.validate_no_null_characters(value)
        key = self._built_once.key
        try:
            value_for_sql = key.get_prep_value(value)
        except (ValueError, TypeError):
            value_for_sql = None
        if type(value_for_sql) is int:
            # As the ORM's lookup: a number out of the column's range matches nothing.
            ops = connections[self.queryset.db].ops
            low, high = ops.integer_field_range(key.get_internal_type())
            if (low is not None and value_for_sql < low) or (
                high is not None and value_for_sql > high
            ):
                value_for_sql = None
        if type(value_for_sql) in _KEY_STAND_INS:
            if self.known is not None and getattr(self.known, key.attname) == value_for_sql:
                return self.known
            found = lookup.fetch(value=value_for_sql)
            if len(found) == 1:
                return found[0]
        raise ValidationError(
            self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )


# Key and label columns the lists below read as text: their text is what str() gives in Python.
_TEXT_ALIKE = {
    "CharField",
    "SlugField",
    "TextField",
    "AutoField",
    "BigAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
}


@dataclass(frozen=True)
class _PlainList:
    """How one field's list is read as (key, label) pairs: its columns and how to label them."""

    db: str
    sql: str
    params: tuple
    columns: tuple[str, ...]  # attnames: the key first, then what the label needs
    label: Callable[[SimpleNamespace], str]


def _plain_list(field: forms.Field) -> _PlainList | None:
    """``field``'s declared list as plain columns, or None when it cannot be labelled without
    its model instances: a list set on the form later, a ``label_from_instance`` of its own,
    a queryset without ``only()`` (what would ``__str__`` read?), or a column whose text is
    not what Python's str() gives (a boolean, a date, a decimal)."""
    reads = getattr(field, "_built_once", None)
    if (
        reads is None
        or getattr(field.label_from_instance, "__func__", None)
        is not forms.ModelChoiceField.label_from_instance
    ):
        return None
    return _plain_list_of(reads)


@functools.cache  # once per process for each declared list
def _plain_list_of(reads: _BuiltOnceReads) -> _PlainList | None:
    declared = reads.choices.build()
    label = declared.model.__str__
    only, deferring = declared.query.deferred_loading
    if deferring or not only:
        return None
    meta = declared.model._meta
    fields = [reads.key, *(meta.get_field(name) for name in sorted(only - {reads.key.name}))]
    if any(f.is_relation or f.get_internal_type() not in _TEXT_ALIKE for f in fields):
        return None
    ordering = declared.query.order_by or meta.ordering
    numbered = declared.annotate(_position=Window(RowNumber(), order_by=list(ordering)))
    columns = tuple(f.attname for f in fields)
    try:
        label(SimpleNamespace(**dict.fromkeys(columns, "")))
    except AttributeError:  # its __str__ reads more than these columns
        return None
    sql, params = numbered.values_list(*columns, "_position").query.sql_with_params()
    return _PlainList(db=declared.db, sql=sql, params=params, columns=columns, label=label)


def setup_choices(fields: Iterable[forms.Field]) -> dict[forms.Field, list[tuple[str, str]]]:
    """The choices of the `SetupChoiceField` lists among ``fields`` as (key, label) pairs,
    every list read by one statement (UNION ALL) built once per process for these lists.

    A list page's filters offered four setup lists, each a query of its own and each option a
    model instance with `ModelChoiceIteratorValue` and `label_from_instance`. The lists are
    still read on every request, so a change made on any app server shows on the next one. A
    label is the model's own ``__str__`` applied to the row's columns (the declared ``only()``
    ones). A field whose list cannot be read so is left out: it gives its ``choices``.
    """
    plain = [(field, _plain_list(field)) for field in fields if isinstance(field, SetupChoiceField)]
    plain = [(field, read) for field, read in plain if read is not None]
    if not plain:
        return {}
    lists = tuple(read for _, read in plain)
    with connections[lists[0].db].cursor() as cursor:
        cursor.execute(*_union(lists))
        rows = cursor.fetchall()
    choices = {
        field: [("", field.empty_label)] if field.empty_label is not None else []
        for field, _ in plain
    }
    for number, _position, *values in rows:
        field, read = plain[number]
        row = SimpleNamespace(**dict(zip(read.columns, values, strict=False)))
        choices[field].append((values[0], read.label(row)))
    return choices


@functools.cache  # once per process for each set of lists
def _union(lists: tuple[_PlainList, ...]) -> tuple[str, list]:
    """One statement for ``lists``: rows (list's number, position, key, columns...) as text."""
    if len({read.db for read in lists}) > 1:
        raise ValueError("setup lists of several databases")
    width = max(len(read.columns) for read in lists)
    parts, params = [], []
    for number, read in enumerate(lists):
        names = [f"c{i}" for i in range(len(read.columns))]
        texts = [f"q.{name}::text" for name in names] + ["NULL"] * (width - len(names))
        parts.append(
            f"SELECT {number}, q.n, {', '.join(texts)}"
            f" FROM ({read.sql}) AS q({', '.join(names)}, n)"
        )
        params.extend(read.params)
    return " UNION ALL ".join(parts) + " ORDER BY 1, 2", params


def selectable_salespeople(current_id: int | None = None):
    """Blocked salespeople cannot be chosen for new work, but a current choice stays valid."""
    return Salesperson.objects.filter(Q(blocked=False) | Q(pk=current_id)).order_by("code")


class CompanyNumberField(forms.CharField):
    """The company as its contact number: a <select> of every contact does not scale."""

    widget = forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})

    def prepare_value(self, value):
        if isinstance(value, Contact):
            return value.number
        return value

    def clean(self, value) -> Contact | None:
        number = super().clean(value)
        if not number:
            return None
        company = Contact.objects.filter(number=number).first()
        if company is None:
            raise forms.ValidationError(
                _("There is no contact with number %(number)s."),
                code="unknown",
                params={"number": number},
            )
        if not company.is_company:
            raise forms.ValidationError(
                _("%(number)s is a person; a person can only belong to a company contact."),
                code="not_company",
                params={"number": number},
            )
        return company


class ContactForm(forms.ModelForm):
    company = CompanyNumberField(
        label=_("Company No."),
        required=False,
        max_length=20,
        help_text=_("For a person: the number of the company contact it belongs to."),
    )

    class Meta:
        model = Contact
        fields = [
            "number",
            "type",
            "name",
            "first_name",
            "surname",
            "company",
            "job_title",
            "salesperson",
            "email",
            "phone",
            "language",
            "address",
            "postcode",
            "city",
            "country",
            "correspondence_type",
            "exclude_from_segment",
            "privacy_blocked",
        ]
        help_texts = {
            "exclude_from_segment": _("Criteria never add this contact to a segment."),
            "privacy_blocked": _("No new interactions can be recorded for this contact."),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        contact = self.instance
        if contact.pk:
            self.initial["company"] = contact.company
        else:
            self.fields["number"].required = False
            self.fields["number"].help_text = _(
                "Leave empty to take the next number from the contact number series."
            )
        self.fields["name"].required = False
        self.fields["name"].help_text = _("For a person, left empty: first name and surname.")
        self.fields["salesperson"].queryset = selectable_salespeople(contact.salesperson_id)

    def clean(self):
        cleaned = super().clean()
        contact = self.instance
        if (
            contact.pk
            and contact.is_company
            and cleaned.get("type") == ContactType.PERSON
            and contact.persons.exists()
        ):
            self.add_error(
                "type",
                _("This company has persons; it cannot become a person itself."),
            )
        return cleaned


class SalespersonForm(forms.ModelForm):
    class Meta:
        model = Salesperson
        fields = ["code", "name", "email", "phone", "job_title", "user", "blocked"]
        help_texts = {
            "user": _("The login of this salesperson; a user can be linked to one salesperson."),
            "blocked": _("Blocked salespeople cannot be chosen for new contacts or interactions."),
        }
        error_messages = {
            "user": {"unique": _("This user is already linked to another salesperson.")},
            "code": {"unique": _("Another salesperson already has this code.")},
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        users = (
            get_user_model()
            .objects.filter(Q(is_active=True) | Q(pk=self.instance.user_id))
            .order_by("username")
        )
        self.fields["user"].queryset = users
        self.fields["user"].label_from_instance = _user_label


def _user_label(user) -> str:
    full_name = user.get_full_name()
    return f"{user.get_username()} ({full_name})" if full_name else user.get_username()


class MarketingSetupForm(forms.ModelForm):
    class Meta:
        model = MarketingSetup
        fields = [
            "contact_nos",
            "segment_nos",
            "default_salesperson",
            "default_correspondence_type",
            "default_language",
            "currency_code",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["default_salesperson"].queryset = selectable_salespeople(
            self.instance.default_salesperson_id
        )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        # The browser's date picker reads and writes ISO dates whatever the language.
        kwargs.setdefault("format", "%Y-%m-%d")
        super().__init__(**kwargs)


class PeriodForm(forms.Form):
    """The optional date range of a statistics panel, read from the query string."""

    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    @property
    def period(self) -> dict:
        """``{"date_from": ..., "date_to": ...}`` (None for an open end), for valid forms."""
        return {
            "date_from": self.cleaned_data["date_from"],
            "date_to": self.cleaned_data["date_to"],
        }

    @property
    def query(self) -> str:
        """The period as query-string fields (``date_from=...&date_to=...``), for links."""
        if not self.is_valid():
            return ""
        return urlencode({k: v.isoformat() for k, v in self.period.items() if v is not None})


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["number", "description", "status", "starting_date", "ending_date", "salesperson"]
        widgets = {"starting_date": DateInput, "ending_date": DateInput}
        error_messages = {"number": {"unique": _("Another campaign already has this number.")}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["salesperson"].queryset = selectable_salespeople(self.instance.salesperson_id)


class OpportunityForm(forms.ModelForm):
    contact_company = CompanyNumberField(
        label=_("Contact Company No."),
        max_length=20,
        help_text=_("The number of the company contact this opportunity is with."),
    )

    class Meta:
        model = Opportunity
        fields = [
            "number",
            "description",
            "status",
            "contact_company",
            "salesperson",
            "campaign",
            "estimated_value",
        ]
        error_messages = {"number": {"unique": _("Another opportunity already has this number.")}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["contact_company"] = self.instance.contact_company
        self.fields["salesperson"].queryset = selectable_salespeople(self.instance.salesperson_id)
        self.fields["campaign"].queryset = Campaign.objects.order_by("number")
        # The database refuses a negative value; say so next to the field.
        self.fields["estimated_value"].validators.append(MinValueValidator(0))
        self.fields["estimated_value"].widget.attrs["min"] = 0


class NumberSeriesForm(forms.ModelForm):
    class Meta:
        model = NumberSeries
        fields = ["code", "description", "prefix", "width", "last_number"]
        help_texts = {
            "last_number": _(
                "The next number handed out is one higher. It can be raised, never lowered: "
                "a lower number would hand out codes that are already in use."
            ),
        }
        error_messages = {"code": {"unique": _("Another number series already has this code.")}}
