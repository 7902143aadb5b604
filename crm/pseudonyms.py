"""The one keyed hash that stands in for a customer id outside the shop: pseudonymized exports, the
erasure record and the audit trail all call ``pseudonymize``.

HMAC-SHA256 with ``settings.PSEUDONYMIZATION_KEY``: the same id gives the same pseudonym in every
export (so files can be joined), and without the key nobody can tell which id a pseudonym stands for,
even by hashing every possible id.
"""

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings

PSEUDONYM_PREFIX = "p_"
# 128 bits of the digest: collisions are out of reach for any shop's customer count.
PSEUDONYM_HEX_DIGITS = 32


@lru_cache(maxsize=4)
def _key(configured: str, secret_key: str) -> bytes:
    if configured:
        return configured.encode()
    # Without an explicit key, one derived from SECRET_KEY (so a development shop works as it is);
    # production sets PSEUDONYMIZATION_KEY so that rotating SECRET_KEY does not change pseudonyms.
    return hmac.new(secret_key.encode(), b"retail-crm pseudonymization key", hashlib.sha256).digest()


def pseudonymize(value: str | int) -> str:
    """The keyed, stable, one-way pseudonym of a customer id (``p_`` + 32 hex digits)."""
    key = _key(settings.PSEUDONYMIZATION_KEY, settings.SECRET_KEY)
    digest = hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX_DIGITS]
