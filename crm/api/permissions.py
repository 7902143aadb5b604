"""Who may read what. Staff read everything; a shopper reads only their own customer record.

A shopper asking for another customer's data gets 404, not 403, so that the API does not reveal
which customer ids exist.
"""

from rest_framework.exceptions import NotFound
from rest_framework.request import Request

from crm.models import Customer


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
