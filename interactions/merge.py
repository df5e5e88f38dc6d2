"""Merge fields in subjects and bodies.

Substitution is plain string replacement from a fixed whitelist: user-written text is never
handed to a template engine, so `{% ... %}` or attribute lookups in a body stay literal text.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MERGE_FIELDS = (
    "contact_name",
    "first_name",
    "surname",
    "company_name",
    "job_title",
    "salesperson_name",
    "salesperson_email",
    "date",
)

_FIELD = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


def unknown_fields(text: str) -> list[str]:
    return sorted({name for name in _FIELD.findall(text) if name not in MERGE_FIELDS})


def validate_merge_fields(text: str) -> None:
    unknown = unknown_fields(text)
    if unknown:
        raise ValidationError(
            _("Unknown merge field(s): %(fields)s. Allowed: %(allowed)s."),
            params={
                "fields": ", ".join(unknown),
                "allowed": ", ".join(f"{{{{ {name} }}}}" for name in MERGE_FIELDS),
            },
            code="unknown_merge_field",
        )


def merge_values(*, contact, salesperson=None, date: datetime.date | None = None) -> dict:
    return {
        "contact_name": contact.name,
        "first_name": contact.first_name,
        "surname": contact.surname,
        "company_name": contact.company_name,
        "job_title": contact.job_title,
        "salesperson_name": salesperson.name if salesperson else "",
        "salesperson_email": salesperson.email if salesperson else "",
        "date": (date or timezone.localdate()).isoformat(),
    }


def merge(text: str, values: dict) -> str:
    """Replace each known `{{ field }}`; anything else is left exactly as written."""
    return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)
