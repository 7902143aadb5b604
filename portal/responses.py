"""Responses the portal's views share."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect

from core.selectors import job_latest_unfinished


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


def job_on_its_way(request: HttpRequest, *, kind: str, what: str) -> HttpResponse | None:
    """For a "… now" button: the page of the job of ``kind`` already queued or running, with a message
    saying so (a second click would run the same work again in full once the first is done); None when
    there is none, and the view queues one."""
    job = job_latest_unfinished(kind=kind)
    if job is None:
        return None
    messages.info(request, f"{what} is already {job.status} (job {job.pk}): no other queued.")
    return redirect("staff:job_detail", job_id=job.pk)
