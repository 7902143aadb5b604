"""API tokens: issued at login, revoked one by one or all of a login's at once.

Tokens are django-rest-knox's: the database keeps only a SHA-512 digest of each, so a copy of the
database (or a backup) holds no usable token; each has its own expiry, and a login may hold several
(one per device or integration).
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings


def api_token_create(*, user: AbstractBaseUser) -> tuple[AuthToken, str]:
    """A new token of ``user``; returns it and the token string, which is shown this once and never
    stored. The login's expired tokens are deleted on the way."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    return AuthToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL)


def api_token_revoke(*, token: AuthToken) -> None:
    AuthToken.objects.filter(pk=token.pk).delete()


def api_tokens_revoke(*, user: AbstractBaseUser) -> int:
    """Revokes every token of ``user`` (e.g. a lost device, a departing employee); returns how many."""
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
