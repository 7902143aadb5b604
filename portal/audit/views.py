"""The audit trail: who opened, exported or erased whose personal data, and who changed what is served."""

import datetime as dt

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from crm.models import AuditEvent
from crm.selectors.privacy import audit_event_list, audit_events_csv
from portal.guards import staff_required
from portal.responses import bad_filters

EVENTS_PER_PAGE = 50


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="Who")
    action = forms.ChoiceField(required=False, choices=[("", "Any"), *AuditEvent.Action.choices])
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    subject = forms.CharField(required=False, max_length=128, help_text="E.g. a customer's keyed hash.")


def _events(request: HttpRequest) -> tuple[AuditFilterForm, object]:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_event_list(**{name: value for name, value in filters.items() if value})
    return form, events


@staff_required("view_audit")
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    form, events = _events(request)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/audit_list.html",
        {"form": form, "page": page, "events": page.object_list, "query": query.urlencode()},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@staff_required("view_audit")
@require_GET
def audit_csv(request: HttpRequest) -> HttpResponse:
    form, events = _events(request)
    if form.is_bound and not form.is_valid():
        return bad_filters(form)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="audit-{dt.date.today():%Y-%m-%d}.csv"'
    audit_events_csv(events=events, out=response)
    return response
