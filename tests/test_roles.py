"""Roles exist right after `migrate` on an empty database, with the permissions of the spec."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from contacts.roles import MARKETING_MANAGER, SALESPERSON, sync_roles

pytestmark = pytest.mark.django_db


def codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_both_roles_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {SALESPERSON, MARKETING_MANAGER}


def test_migrate_brings_deleted_roles_back():
    # The test database itself was built by `migrate` on an empty database (previous test);
    # here the roles are removed and a plain `migrate` restores them with their permissions.
    Group.objects.all().delete()
    call_command("migrate", verbosity=0)
    assert codenames(SALESPERSON)
    assert codenames(MARKETING_MANAGER) > codenames(SALESPERSON)


def test_salesperson_can_work_with_contacts_and_interactions_but_not_setup():
    perms = codenames(SALESPERSON)
    assert {"contacts.add_contact", "contacts.change_contact"} <= perms
    assert "interactions.add_interactionlogentry" in perms
    assert "interactions.export_interactionlogentry" in perms
    assert "segments.add_segment" in perms
    assert "interactions.change_interactiontemplate" not in perms
    assert "interactions.delete_interactionlogentry" not in perms
    assert "interactions.cancel_interactionlogentry" not in perms
    assert "segments.manage_all_segments" not in perms
    assert "contacts.change_marketingsetup" not in perms


def test_marketing_manager_also_maintains_setup_and_cancels():
    perms = codenames(MARKETING_MANAGER)
    for perm in (
        "interactions.change_interactiontemplate",
        "interactions.add_interactiongroup",
        "contacts.change_campaign",
        "contacts.change_opportunity",
        "contacts.change_marketingsetup",
        "contacts.change_numberseries",
        "interactions.cancel_interactionlogentry",
        "interactions.delete_interactionlogentry",
        "segments.manage_all_segments",
        "segments.cancel_loggedsegment",
    ):
        assert perm in perms


def test_syncing_roles_twice_changes_nothing():
    before = (codenames(SALESPERSON), codenames(MARKETING_MANAGER))
    sync_roles()
    sync_roles()
    assert (codenames(SALESPERSON), codenames(MARKETING_MANAGER)) == before
    assert connection.is_usable()


def test_a_users_permissions_are_their_roles_and_their_own_read_in_one_query(
    django_assert_num_queries,
):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("rosa")
    user.groups.add(Group.objects.get(name=SALESPERSON))
    user.user_permissions.add(Permission.objects.get(codename="delete_interactionlogentry"))
    user = get_user_model().objects.get(pk=user.pk)  # no cached permissions
    with django_assert_num_queries(1):
        assert user.has_perm("interactions.add_interactionlogentry")  # from the role
        assert user.has_perm("interactions.delete_interactionlogentry")  # the user's own
        assert not user.has_perm("interactions.change_interactiontemplate")
    assert user.get_all_permissions() == codenames(SALESPERSON) | {
        "interactions.delete_interactionlogentry"
    }
    user.is_active = False
    assert not user.has_perm("interactions.add_interactionlogentry")


def test_a_superuser_has_every_permission():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    admin = get_user_model().objects.create_superuser("root", password="x")
    assert len(admin.get_all_permissions()) == Permission.objects.count()


def test_the_signed_in_user_comes_with_exactly_the_permissions_django_would_give(
    django_assert_num_queries,
):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission

    from crm_site.auth_backends import RolePermissionBackend

    users = get_user_model().objects
    rosa = users.create_user("rosa")
    rosa.groups.add(Group.objects.get(name=SALESPERSON), Group.objects.get(name=MARKETING_MANAGER))
    rosa.user_permissions.add(Permission.objects.get(codename="delete_interactionlogentry"))
    nobody = users.create_user("nobody")
    own_only = users.create_user("own")
    own_only.user_permissions.add(Permission.objects.get(codename="view_contact"))
    for user in (rosa, nobody, own_only):
        with django_assert_num_queries(1):
            signed_in = RolePermissionBackend().get_user(user.pk)
            granted = signed_in.get_all_permissions()
        assert granted == ModelBackend().get_all_permissions(users.get(pk=user.pk))
    assert RolePermissionBackend().get_user(nobody.pk).get_all_permissions() == set()


def test_a_role_losing_a_permission_loses_it_on_the_next_request(client):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.urls import reverse

    user = get_user_model().objects.create_user("rosa", password="pw-rosa-1234")
    user.groups.add(Group.objects.get(name=SALESPERSON))
    client.force_login(user)
    assert client.post(reverse("interactions:wizard_start")).status_code == 302
    Group.objects.get(name=SALESPERSON).permissions.remove(
        Permission.objects.get(codename="add_interactionlogentry")
    )
    assert client.post(reverse("interactions:wizard_start")).status_code == 403


def test_an_inactive_or_deleted_user_is_not_signed_in_and_a_superuser_has_everything():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    from crm_site.auth_backends import RolePermissionBackend

    backend = RolePermissionBackend()
    users = get_user_model().objects
    gone = users.create_user("gone", is_active=False)
    gone.groups.add(Group.objects.get(name=SALESPERSON))
    assert backend.get_user(gone.pk) is None
    assert backend.get_user(gone.pk + 1000) is None
    root = backend.get_user(users.create_superuser("root", password="x").pk)
    assert root.has_perm("interactions.delete_interactionlogentry")
    assert len(root.get_all_permissions()) == Permission.objects.count()
