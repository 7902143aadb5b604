"""Changes to customers made by staff: CRM notes."""

from crm.models import Customer, CustomerNote


def customer_note_create(*, customer: Customer, author, kind: str, body: str) -> CustomerNote:
    return CustomerNote.objects.create(customer=customer, author=author, kind=kind, body=body)
