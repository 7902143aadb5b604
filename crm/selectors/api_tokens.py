"""Reads of API tokens (django-rest-knox's ``AuthToken``) for the portal's API tokens page.

A token is named by its ``token_key``: the first characters of the token string, which knox keeps to
tell a login's tokens apart (the rest of the string is never stored); its ``digest`` is the row's key
and what a revocation form sends back.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken


def api_token_list(*, user: AbstractBaseUser | None = None, username: str = "") -> QuerySet[AuthToken]:
    """Tokens newest first, each with its login and ``expired`` (past its expiry, refused by the API
    and deleted the next time its login logs in): ``user``'s only, or every login's, or those of the
    logins whose username contains ``username``. One query."""
    tokens = (
        AuthToken.objects.select_related("user")
        .only("digest", "token_key", "created", "expiry", "user__id", "user__username", "user__is_staff")
        .annotate(
            expired=ExpressionWrapper(
                Q(expiry__isnull=False, expiry__lte=timezone.now()), output_field=BooleanField()
            )
        )
        .order_by("-created", "digest")
    )
    if user is not None:
        tokens = tokens.filter(user=user)
    if username:
        tokens = tokens.filter(user__username__icontains=username)
    return tokens


def api_token_get(*, digest: str, user: AbstractBaseUser | None = None) -> AuthToken | None:
    """The token with this digest, with its login; only if it is ``user``'s when ``user`` is given."""
    tokens = AuthToken.objects.select_related("user").filter(digest=digest)
    if user is not None:
        tokens = tokens.filter(user=user)
    return tokens.first()


def api_token_login_get(*, user_id: int) -> AbstractBaseUser | None:
    """The login ``user_id``, whose tokens the portal is asked to revoke."""
    return get_user_model().objects.filter(pk=user_id).first()
