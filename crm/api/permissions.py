"""Who may read what through the API.

Staff endpoints check the same role permissions as the portal's rooms (``core.roles``: a page and the
endpoint that serves the same data name the same permission), not only ``is_staff``:
``HasStaffPermission("erase_customers")`` on a view. A shopper reads only their own customer record;
staff with the permission a view names (``CustomerOwnerOrStaff("view_customers")``) read anyone's.

A shopper asking for another customer's data gets 404, not 403, so that the API does not reveal
which customer ids exist.
"""

import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from core.roles import held_by, missing_permission_message, staff_permission
from crm.api.schema import error_response
from crm.api.staff_access import staff_codenames_remembered
from crm.models import Customer

NO_LINKED_CUSTOMER = error_response(
    "No customer record is linked to this login (a staff login has none), or no such customer is "
    "visible to it."
)
_CACHE_ATTRIBUTE = "_staff_permissions_held"


@functools.cache
def _holding_sql() -> str:
    """Whether a user (by id) holds a staff permission (by codename), through a role or directly.

    Plain SQL over the join tables, the permission found once in a CTE: this is read on every staff
    request of the API's hot path, and the ORM's two EXISTS over the permission, content type and
    group joins took PostgreSQL a millisecond to plan each time, more than the request's other queries.
    """
    User = get_user_model()

    def through(field) -> tuple[str, str, str]:
        meta = field.remote_field.through._meta
        own = meta.get_field(field.m2m_field_name()).column
        other = meta.get_field(field.m2m_reverse_field_name()).column
        return meta.db_table, own, other

    user_groups, ug_user, ug_group = through(User._meta.get_field("groups"))
    group_grants, gg_group, gg_permission = through(Group._meta.get_field("permissions"))
    user_grants, ud_user, ud_permission = through(User._meta.get_field("user_permissions"))
    return f"""
        WITH wanted AS (
            SELECT permission.id FROM {Permission._meta.db_table} permission
            JOIN {ContentType._meta.db_table} kind ON kind.id = permission.content_type_id
            WHERE kind.app_label = 'core' AND kind.model = 'staffaccess' AND permission.codename = %s
        )
        SELECT EXISTS (
            SELECT 1 FROM {user_groups} role
            JOIN {group_grants} grant_ ON grant_.{gg_group} = role.{ug_group}
            WHERE role.{ug_user} = %s AND grant_.{gg_permission} IN (SELECT id FROM wanted)
        ) OR EXISTS (
            SELECT 1 FROM {user_grants} direct
            WHERE direct.{ud_user} = %s AND direct.{ud_permission} IN (SELECT id FROM wanted)
        )
    """


def holds_staff_permission(user, codename: str) -> bool:
    """Whether ``user`` may do what ``core.<codename>`` allows: an active staff login holding it through
    a role (or directly), or a superuser. The answer ``user.has_perm`` gives with the portal's guard
    (``portal.guards.staff_required``), kept on the user object for the rest of the request."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    all_held = staff_codenames_remembered(user)
    if all_held is not None:
        return codename in all_held
    held = user.__dict__.setdefault(_CACHE_ATTRIBUTE, {})
    if codename not in held:
        # One read per permission a request needs (Django's own check reads all of the user's and their
        # groups' permissions in two queries on each request; this is the recommendations' hot path).
        with connections[router.db_for_read(Permission)].cursor() as cursor:
            cursor.execute(_holding_sql(), [codename, user.pk, user.pk])
            held[codename] = bool(cursor.fetchone()[0])
    return held[codename]


class _StaffPermission(BasePermission):
    """A staff login holding ``read_permission`` (for GET, HEAD, OPTIONS) or ``write_permission`` (for
    the other methods); made by ``HasStaffPermission``."""

    read_permission: str = ""
    write_permission: str = ""

    def permission_for(self, method: str) -> str:
        return self.read_permission if method.upper() in SAFE_METHODS else self.write_permission

    def describe_forbidden(self, method: str) -> str:
        """The 403 answer of ``method``, as the schema documents it."""
        codename = self.permission_for(method)
        return (
            f"The login is not staff, or lacks the staff permission `{staff_permission(codename)}` (held by "
            f"{held_by(codename)}; a superuser holds every permission); or a session request lacks its "
            "CSRF token."
        )

    def has_permission(self, request: Request, view) -> bool:
        codename = self.permission_for(request.method)
        if holds_staff_permission(request.user, codename):
            return True
        self.message = missing_permission_message(codename)
        return False


def HasStaffPermission(codename: str, *, write: str | None = None) -> type[BasePermission]:  # noqa: N802
    """The permission class of a staff endpoint: ``core.<codename>``, as the portal page that shows the
    same data; ``write`` for the methods that change something, when it differs."""
    name = f"HasStaffPermission_{codename}" + (f"_{write}" if write else "")
    return type(
        name, (_StaffPermission,), {"read_permission": codename, "write_permission": write or codename}
    )


class _CustomerOwnerOrStaff(BasePermission):
    """A signed-in shopper (for their own record: ``customer_for_request`` answers 404 for anyone
    else's) or a staff login holding ``read_permission`` (``write_permission`` for the methods that
    change something); made by ``CustomerOwnerOrStaff``."""

    read_permission: str = ""
    write_permission: str = ""

    def permission_for(self, method: str) -> str:
        return self.read_permission if method.upper() in SAFE_METHODS else self.write_permission

    def describe_forbidden(self, method: str) -> str:
        codename = self.permission_for(method)
        return (
            f"A staff login lacks the staff permission `{staff_permission(codename)}` (held by "
            f"{held_by(codename)}; a superuser holds every permission); or a session request lacks its "
            "CSRF token. A shopper asking for another customer gets 404."
        )

    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        codename = self.permission_for(request.method)
        if user.is_staff and not holds_staff_permission(user, codename):
            self.message = missing_permission_message(codename)
            return False
        return True


def CustomerOwnerOrStaff(codename: str, *, write: str | None = None) -> type[BasePermission]:  # noqa: N802
    """The permission class of an endpoint about one customer that the customer may use too; ``write``
    is the staff permission of the methods that change something, when it differs."""
    name = f"CustomerOwnerOrStaff_{codename}" + (f"_{write}" if write else "")
    return type(
        name, (_CustomerOwnerOrStaff,), {"read_permission": codename, "write_permission": write or codename}
    )


def customer_for_request(
    *, request: Request, external_id: str | None = None, staff_codename: str = "view_customers"
) -> Customer:
    """The customer the request may see: any for staff holding ``core.<staff_codename>`` (403 for staff
    without it), only the linked one for a shopper.

    Without ``external_id`` it is the login's own customer record.
    """
    user = request.user
    # the record that keeps erased customers' orders is no one's: no consent, data or list of its own
    customers = Customer.objects.filter(anonymous=False)
    if external_id is None:
        customer = customers.filter(user=user).first() if user.is_authenticated else None
        if customer is None:
            raise NotFound("No customer record is linked to this login.")
        return customer
    if user.is_staff and not holds_staff_permission(user, staff_codename):
        raise PermissionDenied(missing_permission_message(staff_codename))
    if not user.is_staff:
        customers = customers.filter(user=user)
    customer = customers.filter(external_id=external_id).first()
    if customer is None:
        raise NotFound(f"No customer with id {external_id!r}.")
    return customer


class ApiDocsPermission(BasePermission):
    """The schema and its documentation pages: staff only, unless ``API_DOCS_PUBLIC``."""

    def has_permission(self, request: Request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_staff)
