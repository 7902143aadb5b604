"""Who may read what. Staff read everything; a shopper reads only their own customer record.

A shopper asking for another customer's data gets 404, not 403, so that the API does not reveal
which customer ids exist.
"""

from django.conf import settings
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from crm.api.schema import error_response
from crm.models import Customer

NO_LINKED_CUSTOMER = error_response(
    "No customer record is linked to this login (a staff login has none), or no such customer is "
    "visible to it."
)


def customer_for_request(*, request: Request, external_id: str | None = None) -> Customer:
    """The customer the request may see: any for staff, only the linked one for a shopper.

    Without ``external_id`` it is the login's own customer record.
    """
    user = request.user
    customers = Customer.objects.all()
    if external_id is None:
        customer = customers.filter(user=user).first() if user.is_authenticated else None
        if customer is None:
            raise NotFound("No customer record is linked to this login.")
        return customer
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
