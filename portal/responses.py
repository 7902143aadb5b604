"""Responses the portal's views share."""

from django.http import HttpResponseBadRequest


def bad_request(message: str) -> HttpResponseBadRequest:
    """A 400 as plain text. The message is the view's own words: request values are never echoed into it,
    and plain text is never rendered as a page, so a crafted value cannot become markup."""
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
