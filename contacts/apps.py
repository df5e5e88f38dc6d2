from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from contacts.roles import sync_roles_after_migrate

        # Roles must exist on a fresh database right after `migrate`; permissions themselves
        # are only created by post_migrate, so the roles are synced there too (idempotent).
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="contacts.sync_roles")
