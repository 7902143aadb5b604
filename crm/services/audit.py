"""The audit trail's writer: who did what with personal data, changed what is served, or revoked
another login's API tokens.

A module of its own, so that the services ``crm.services.privacy`` itself uses (erasure revokes the
login's API tokens through ``crm.services.api_tokens``) can record without an import cycle.
"""

import getpass
from typing import Any

from django.utils import timezone

from crm.models import AuditEvent, Customer
from crm.pseudonyms import pseudonymize


def actor_name_of(user=None, *, via: str = "") -> str:
    """How the trail names who acted: a staff login by its username; a shopper's login as every
    customer is named there, by their keyed hash, so the entry outlives their erasure without naming
    them; a command or the system by what ran it."""
    if user is not None and getattr(user, "is_authenticated", False):
        if not user.is_staff:
            customer = Customer.objects.filter(user_id=user.pk).only("external_id").first()
            if customer is not None:
                return customer_subject(customer)
        return user.get_username()
    if via == "command":
        try:
            return f"{getpass.getuser()} (command line)"
        except (KeyError, OSError):
            return "command line"
    return via or "system"


def audit_record(
    *,
    action: str,
    actor=None,
    subject: str = "",
    via: str = "",
    detail: dict[str, Any] | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Record that ``actor`` (a user, or None for a command or the system) did ``action``.

    ``subject`` names what it concerned; a customer is named by ``customer_subject`` (their keyed
    hash), never by their id, name or e-mail, so the trail outlives an erasure without keeping them.
    """
    if action not in AuditEvent.Action.values:
        raise ValueError(f"Unknown audit action {action!r}.")
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=user,
        actor_name=(actor_name or actor_name_of(user, via=via))[:150],
        action=action,
        subject=subject[:200],
        via=via[:16],
        detail=detail or {},
    )


def customer_subject(customer: Customer | str) -> str:
    """How the audit trail and the erasure record name a customer: the keyed hash of their id."""
    external_id = customer if isinstance(customer, str) else customer.external_id
    return pseudonymize(external_id)
