"""The staff permissions of an API login, read with its token.

The token check (``crm.api.authentication``) reads the login's staff permissions in the same query as
the token and the user, and keeps them on the user for the request; the permission classes
(``crm.api.permissions``) then answer from them without a query. Apart from both, because the
authentication class is loaded by DRF's settings while ``permissions`` is still importing.
"""

from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef

# Every staff permission the login holds, when the token check has read them (PostgreSQL).
_ALL_HELD_ATTRIBUTE = "_staff_permissions_all_held"


def staff_codenames_held(user_id: OuterRef) -> dict[str, ArraySubquery]:
    """Annotations naming the staff permissions (codenames) a user holds through a role and directly,
    for the query that reads the user (``crm.api.authentication``): the API's permission check then
    needs no query of its own. PostgreSQL only (arrays)."""
    staff = Permission.objects.filter(content_type__app_label="core", content_type__model="staffaccess")
    return {
        "staff_codenames_by_role": ArraySubquery(staff.filter(group__user=user_id).values("codename")),
        "staff_codenames_direct": ArraySubquery(staff.filter(user=user_id).values("codename")),
    }


def staff_codenames_remember(user, *codename_lists: list[str] | None) -> None:
    """Keep on ``user`` (for this request) the staff permissions read with it by ``staff_codenames_held``."""
    user.__dict__[_ALL_HELD_ATTRIBUTE] = frozenset(
        codename for codenames in codename_lists for codename in codenames or ()
    )


def staff_codenames_remembered(user) -> frozenset[str] | None:
    """What ``staff_codenames_remember`` kept on ``user`` in this request, or None."""
    return user.__dict__.get(_ALL_HELD_ATTRIBUTE)
