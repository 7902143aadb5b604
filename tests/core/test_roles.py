"""The staff roles' table (``core.roles``) and the groups the ``core`` migration made from its own copy."""

from django.contrib.auth.models import Group

from core.roles import ROLE_PERMISSIONS


def test_role_table_and_migration_agree(db):
    for role, codenames in ROLE_PERMISSIONS.items():
        granted = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert granted == set(codenames), role
