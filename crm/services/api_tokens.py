"""API tokens: issued at login, revoked one by one or all of a login's at once.

Tokens are django-rest-knox's: the database keeps only a SHA-512 digest of each, so a copy of the
database (or a backup) holds no usable token; each has its own expiry, and a login may hold several
(one per device or integration).

A login revokes its own tokens (``DELETE /api/auth/token/``, the portal's API tokens page); a staff
member holding ``manage_api_tokens`` may revoke anyone's from the portal, and that is recorded in the
audit trail.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings

from crm.models import AuditEvent, Customer
from crm.services.audit import audit_record, customer_subject


def api_token_create(*, user: AbstractBaseUser) -> tuple[AuthToken, str]:
    """A new token of ``user``; returns it and the token string, which is shown this once and never
    stored. The login's expired tokens are deleted on the way."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL)


@transaction.atomic
def api_token_revoke(*, token: AuthToken, revoked_by: AbstractBaseUser | None = None, via: str = "") -> bool:
    """Revokes ``token``; returns whether it was still there. Revoked by another login than its own
    (``revoked_by``), it is an entry of the audit trail."""
    deleted, _ = AuthToken.objects.filter(pk=token.pk).delete()
    if deleted and _is_another_login(revoked_by, token.user_id):
        _revocation_audit(
            owner=token.user, revoked_by=revoked_by, via=via, detail={"tokens": 1, "token": token.token_key}
        )
    return bool(deleted)


@transaction.atomic
def api_tokens_revoke(
    *, user: AbstractBaseUser, revoked_by: AbstractBaseUser | None = None, via: str = ""
) -> int:
    """Revokes every token of ``user`` (e.g. a lost device, a departing employee); returns how many.
    Revoked by another login (``revoked_by``), it is an entry of the audit trail."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    if deleted and _is_another_login(revoked_by, user.pk):
        _revocation_audit(
            owner=user, revoked_by=revoked_by, via=via, detail={"tokens": deleted, "token": "all"}
        )
    return deleted


def _is_another_login(revoked_by: AbstractBaseUser | None, owner_id: int) -> bool:
    return revoked_by is not None and revoked_by.is_authenticated and revoked_by.pk != owner_id


def _revocation_audit(
    *, owner: AbstractBaseUser, revoked_by: AbstractBaseUser, via: str, detail: dict
) -> None:
    # A shopper's login is named like every customer in the trail, by their keyed hash, so the entry
    # outlives their erasure without naming them; a staff login by its username.
    customer = Customer.objects.filter(user_id=owner.pk).only("external_id").first()
    audit_record(
        action=AuditEvent.Action.API_TOKEN_REVOKED,
        actor=revoked_by,
        subject=customer_subject(customer) if customer is not None else owner.get_username(),
        via=via,
        detail={"login_id": owner.pk, **detail},
    )
