"""The staff roles: which of ``StaffAccess``'s permissions each role (a Django group) grants.

The ``core`` migration that creates the groups keeps its own copy of this table (migrations must not
change when code does); ``tests/core/test_roles.py`` checks the two agree.
"""

BUYER = "buyer"
MARKETING = "marketing"
ANALYST = "analyst"
DATA_ADMIN = "data admin"

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # Keeps stock right: demand forecasts, reorder points, what to order.
    BUYER: ("view_portal", "view_inventory", "manage_inventory"),
    # Runs campaigns: segments, promotions and their target files.
    MARKETING: (
        "view_portal",
        "view_customers",
        "export_personal_data",
        "manage_segments",
        "manage_promotions",
    ),
    # Reads the portal's figures; exports only pseudonymized files; sees no one's personal data.
    ANALYST: ("view_portal", "export_pseudonymized"),
    # Looks after the data and the models: imports, customers' erasure and data-export requests, the
    # consent they give or withdraw by phone or letter (not marketing, whose campaigns read it),
    # training, the audit trail, and every login's API tokens (revoking a lost or leaked one).
    DATA_ADMIN: (
        "view_portal",
        "view_customers",
        "export_personal_data",
        "manage_models",
        "import_data",
        "erase_customers",
        "export_customer_data",
        "view_audit",
        "manage_api_tokens",
        "manage_consent",
    ),
}


def staff_permission(codename: str) -> str:
    """The full permission name a user is checked against, e.g. ``core.view_portal``."""
    return f"core.{codename}"


def roles_holding(codename: str) -> list[str]:
    """The roles that grant ``codename``, in the table's order (superusers hold every permission)."""
    return [role for role, codenames in ROLE_PERMISSIONS.items() if codename in codenames]


def held_by(codename: str) -> str:
    """The roles that grant ``codename`` in words: "the marketing and data admin roles", "the buyer,
    marketing, analyst and data admin roles"."""
    roles = roles_holding(codename)
    if not roles:
        return "no role"
    if len(roles) == 1:
        return f"the {roles[0]} role"
    return f"the {', '.join(roles[:-1])} and {roles[-1]} roles"


def missing_permission_message(codename: str) -> str:
    """What a 403 says, in the portal and the API alike."""
    return f"This needs the staff permission {staff_permission(codename)} (held by {held_by(codename)})."


def roles_ensure(**kwargs) -> None:
    """Create the role groups with exactly their permissions, if anything is missing or different.

    Run after every ``migrate`` (``post_migrate``, see ``core.apps``), so a database flushed by a test, or
    one whose groups someone edited, gets the roles of this code back.
    """
    from django.contrib.auth.models import Group, Permission

    permissions = {
        permission.codename: permission
        for permission in Permission.objects.filter(
            content_type__app_label="core", content_type__model="staffaccess"
        )
    }
    for role, codenames in ROLE_PERMISSIONS.items():
        if not all(codename in permissions for codename in codenames):
            continue  # the permissions are created by post_migrate too; the next run completes the role
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([permissions[codename] for codename in codenames])
