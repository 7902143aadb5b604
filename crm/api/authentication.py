"""Token authentication: one indexed read of the token and its user, by a prepared query.

Tokens are django-rest-knox's, kept as SHA-512 digests: the digest of the token a client sends is the
token row's primary key, so a check is one primary-key read joined to the user, compiled once per
process (knox's own authentication reads the user's other tokens on every request to clean up expired
ones; here an expired token is refused and deleted the next time its login logs in). On PostgreSQL
the same read also names the login's staff permissions (``crm.api.staff_access``), so the role check of a
staff endpoint costs no query of its own. Deactivation, revocation and lost staff rights apply from the
next request: nothing is kept between requests.
"""

import binascii
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connections
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core.prepared import PreparedValues
from crm.api.staff_access import staff_codenames_held, staff_codenames_remember
from crm.services.api_tokens import api_tokens_revoke


@cache
def _user_attnames() -> tuple[str, ...]:
    return tuple(field.attname for field in get_user_model()._meta.concrete_fields)


@cache
def _token_attnames() -> tuple[str, ...]:
    return tuple(field.attname for field in AuthToken._meta.concrete_fields)


def _token_with_user(value, **shape):
    user_fields = (f"user__{name}" for name in _user_attnames())
    tokens = AuthToken.objects.filter(digest=value)
    if connections[tokens.db].vendor == "postgresql":
        # The login's staff permissions in the same read: the staff API's role check needs no query.
        tokens = tokens.annotate(**staff_codenames_held(OuterRef("user_id")))
    return tokens.values(*_token_attnames(), *user_fields, *tokens.query.annotations)


_TOKENS = PreparedValues(_token_with_user)


class PreparedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <token>``; ``request.auth`` is the knox ``AuthToken``."""

    def authenticate_credentials(self, key: str):
        try:
            digest = hash_token(key)
        except (TypeError, ValueError, binascii.Error) as error:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from error
        rows = _TOKENS.rows(digest)
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        row = rows[0]
        names = _user_attnames()
        user = get_user_model().from_db(AuthToken.objects.db, names, [row[f"user__{name}"] for name in names])
        token_names = _token_attnames()
        token = AuthToken.from_db(AuthToken.objects.db, token_names, [row[name] for name in token_names])
        token.user = user
        if "staff_codenames_by_role" in row:
            staff_codenames_remember(user, row["staff_codenames_by_role"], row["staff_codenames_direct"])
        if token.expiry is not None and token.expiry <= timezone.now():
            raise exceptions.AuthenticationFailed(_("Token expired; log in again."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, token)


class ApiTokensRevokedOnPasswordChange:
    """An entry of ``AUTH_PASSWORD_VALIDATORS`` that checks nothing: Django calls ``password_changed``
    on every validator when a login's password is set and saved (a reset, the admin, the portal,
    ``changepassword``), and the login's API tokens are revoked then, so a changed password locks out
    whoever had a token."""

    def validate(self, password: str, user: AbstractBaseUser | None = None) -> None:
        return None

    def password_changed(self, password: str, user: AbstractBaseUser | None = None) -> None:
        if user is not None and user.pk is not None:
            api_tokens_revoke(user=user)

    def get_help_text(self) -> str:
        return _("Changing your password revokes your API tokens: apps that use one must log in again.")
