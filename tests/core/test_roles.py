"""The staff roles' table (``core.roles``) and the groups the ``core`` migration made from its own copy."""

from django.contrib.auth.models import Group

from core.roles import ROLE_PERMISSIONS, held_by


def test_role_table_and_migration_agree(db):
    for role, codenames in ROLE_PERMISSIONS.items():
        granted = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert granted == set(codenames), role


def test_the_roles_holding_a_permission_read_as_a_list():
    """Four roles read "the buyer and marketing and analyst and data admin roles"."""
    assert held_by("view_portal") == "the buyer, marketing, analyst and data admin roles"
    assert held_by("view_customers") == "the marketing and data admin roles"
    assert held_by("erase_customers") == "the data admin role"
    assert held_by("no_such_permission") == "no role"
