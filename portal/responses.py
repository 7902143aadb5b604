"""Responses the portal's views share."""

from django import forms
from django.http import HttpResponseBadRequest


def bad_request(message: str) -> HttpResponseBadRequest:
    """A 400 as plain text. The message is the view's own words: request values are never echoed into it,
    and plain text is never rendered as a page, so a crafted value cannot become markup."""
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def bad_filters(form: forms.Form) -> HttpResponseBadRequest:
    """A 400 naming the filters of a bound, invalid ``form`` that were not understood (by their
    parameter names, never their values): an export must never fall back to everything."""
    names = ", ".join(sorted(form.errors))
    return bad_request(
        f"Filter(s) not understood: {names}. Nothing was exported; correct them and try again."
    )
