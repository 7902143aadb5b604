"""Who a request comes from, for rate limits and login lockouts alike."""

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's, or with ``NUM_PROXIES`` trusted proxies in front, the
    address the outermost of them saw (counted from the right of ``X-Forwarded-For``, so a client cannot
    choose it by sending the header itself). The same rule as the API's throttles."""
    return BaseThrottle().get_ident(request)
