"""The two roles, Salesperson and Marketing Manager, as Django groups with their permissions."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

SALESPERSON = "Salesperson"
MARKETING_MANAGER = "Marketing Manager"

# app_label -> codenames. Salespeople share one book: they see everything and change contacts,
# interactions and their own segments.
SALESPERSON_PERMISSIONS: dict[str, list[str]] = {
    "contacts": [
        "view_contact",
        "add_contact",
        "change_contact",
        "view_salesperson",
        "view_campaign",
        "view_opportunity",
        "view_marketingsetup",
        "view_numberseries",
    ],
    "interactions": [
        "view_interactiongroup",
        "view_interactiontemplate",
        "view_interactiontemplatecontent",
        "view_interactionlogentry",
        "add_interactionlogentry",
        "evaluate_interactionlogentry",
        "export_interactionlogentry",
        "view_interactioncomment",
        "add_interactioncomment",
        "change_interactioncomment",
        "delete_interactioncomment",
        "view_interactiondraft",
        "add_interactiondraft",
        "change_interactiondraft",
        "delete_interactiondraft",
    ],
    "segments": [
        "view_segment",
        "add_segment",
        "change_segment",
        "delete_segment",
        "view_segmentline",
        "add_segmentline",
        "change_segmentline",
        "delete_segmentline",
        "view_loggedsegment",
        "view_savedcriteria",
    ],
}

# Everything a salesperson may do, for every segment, plus the setup data and cancellations.
MARKETING_MANAGER_EXTRA: dict[str, list[str]] = {
    "contacts": [
        "delete_contact",
        "add_salesperson",
        "change_salesperson",
        "add_campaign",
        "change_campaign",
        "delete_campaign",
        "add_opportunity",
        "change_opportunity",
        "delete_opportunity",
        "change_marketingsetup",
        "add_numberseries",
        "change_numberseries",
        "delete_numberseries",
    ],
    "interactions": [
        "add_interactiongroup",
        "change_interactiongroup",
        "delete_interactiongroup",
        "add_interactiontemplate",
        "change_interactiontemplate",
        "delete_interactiontemplate",
        "add_interactiontemplatecontent",
        "change_interactiontemplatecontent",
        "delete_interactiontemplatecontent",
        "cancel_interactionlogentry",
        "delete_interactionlogentry",
        "manage_all_comments",
    ],
    "segments": [
        "manage_all_segments",
        "cancel_loggedsegment",
        "delete_loggedsegment",
        # Marketing Managers keep the library of saved criteria; salespeople reuse them.
        "add_savedcriteria",
        "change_savedcriteria",
        "delete_savedcriteria",
    ],
}


def _permissions(spec: dict[str, list[str]]) -> list[Permission]:
    query = Q(pk__in=[])
    for app_label, codenames in spec.items():
        query |= Q(content_type__app_label=app_label, codename__in=codenames)
    return list(Permission.objects.filter(query))


def sync_roles() -> None:
    """Create both groups and give them exactly their permissions (idempotent)."""
    salesperson, _ = Group.objects.get_or_create(name=SALESPERSON)
    manager, _ = Group.objects.get_or_create(name=MARKETING_MANAGER)
    salesperson.permissions.set(_permissions(SALESPERSON_PERMISSIONS))
    combined = {
        app: SALESPERSON_PERMISSIONS.get(app, []) + MARKETING_MANAGER_EXTRA.get(app, [])
        for app in {*SALESPERSON_PERMISSIONS, *MARKETING_MANAGER_EXTRA}
    }
    manager.permissions.set(_permissions(combined))


def sync_roles_after_migrate(sender, **kwargs) -> None:
    # post_migrate fires once per app; only the last of ours has every permission in place.
    if sender.name == "segments":
        sync_roles()
