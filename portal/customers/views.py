"""Customers: the filtered list (and its CSV), the customer 360 page with notes, and the customer's data
rights: their consent as they give or withdraw it through staff, their data as one JSON document, and
erasure."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm.models import AuditEvent, ConsentChannel, Customer
from crm.selectors import customers as customer_selectors
from crm.selectors import marketing
from crm.selectors.privacy import consent_overview, customer_data_export
from crm.services.customers import customer_note_create
from crm.services.privacy import (
    audit_record,
    consent_set_by_staff,
    customer_erase,
    customer_subject,
    erasure_record_for,
)
from portal.csv import csv_response
from portal.customers.forms import (
    CustomerConsentForm,
    CustomerEraseForm,
    CustomerFilterForm,
    CustomerNoteForm,
)
from portal.guards import staff_required
from portal.responses import bad_filters
from recommender.selectors import recommendation_rows_for_customer
from recommender.selectors_explain import recommendation_explanations

CUSTOMERS_PER_PAGE = 50


RECOMMENDATIONS_SHOWN = 10
CONSENT_CHANGES_SHOWN = 10


def _customer_filter_form(request: HttpRequest) -> CustomerFilterForm:
    return CustomerFilterForm(request.GET or None, countries=customer_selectors.customer_country_list())


@staff_required("view_customers")
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    form = _customer_filter_form(request)
    if form.is_bound and not form.is_valid():
        # the form's errors beside it, and no list: a filter not understood never lists everyone
        return render(
            request,
            "staff/customer_list.html",
            {"form": form, "page": None, "customers": [], "query": ""},
            status=400,
        )
    customers = customer_selectors.customer_list(
        filters=form.to_filters(),
        run_id=customer_selectors.segment_run_latest_id(),
    )
    page = Paginator(customers, CUSTOMERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/customer_list.html",
        {"form": form, "page": page, "customers": page.object_list, "query": query.urlencode()},
    )


@staff_required("export_personal_data")
@require_GET
def customer_list_csv(request: HttpRequest) -> HttpResponse:
    form = _customer_filter_form(request)
    if form.is_bound and not form.is_valid():
        return bad_filters(form)
    customers = customer_selectors.customer_list(
        filters=form.to_filters(),
        run_id=customer_selectors.segment_run_latest_id(),
    )
    audit_record(
        action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
        actor=request.user,
        via="portal",
        # the filters, but not the search text: it may itself be a name or an e-mail
        detail={"file": "customers.csv", **_filters_for_the_trail(form)},
    )
    return csv_response(customer_selectors.customer_csv_rows(customers), filename="customers.csv")


def _filters_for_the_trail(form: CustomerFilterForm) -> dict:
    if not form.is_bound:
        return {"filters": "", "searched": False}
    filters = form.data.copy()
    searched = bool(filters.pop("q", None) and form.cleaned_data["q"])
    return {"filters": filters.urlencode(), "searched": searched}


def _customer_detail_context(
    customer: Customer,
    note_form: CustomerNoteForm | None = None,
    consent_form: CustomerConsentForm | None = None,
) -> dict:
    recommendations = recommendation_rows_for_customer(customer=customer, limit=RECOMMENDATIONS_SHOWN)
    explanations = recommendation_explanations(customer=customer, rows=recommendations)
    consent = consent_overview(customer=customer, shown=CONSENT_CHANGES_SHOWN)
    return {
        "consent": consent.channels,
        "consent_changes": consent.latest_changes,
        "consent_change_count": consent.change_count,
        "consent_form": consent_form or CustomerConsentForm(),
        "customer": customer,
        "orders": customer_selectors.customer_order_list(customer=customer),
        "totals": customer_selectors.customer_order_totals(customer=customer),
        "segment": marketing.customer_segment_latest(customer=customer),
        "recommendations": list(zip(recommendations, explanations, strict=True)),
        "notes": customer_selectors.customer_note_list(customer=customer),
        "note_form": note_form or CustomerNoteForm(),
    }


@staff_required("view_customers")
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.select_related("user"), pk=customer_id)
    audit_record(
        action=AuditEvent.Action.CUSTOMER_VIEWED,
        actor=request.user,
        subject=customer_subject(customer),
        via="portal",
    )
    return render(request, "staff/customer_detail.html", _customer_detail_context(customer))


@staff_required("view_customers")
@require_POST
def customer_note_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.select_related("user"), pk=customer_id)
    form = CustomerNoteForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "staff/customer_detail.html",
            _customer_detail_context(customer, note_form=form),
            status=400,
        )
    customer_note_create(
        customer=customer, author=request.user, kind=form.cleaned_data["kind"], body=form.cleaned_data["body"]
    )
    messages.success(request, "Note added.")
    return redirect("staff:customer_detail", customer_id=customer.pk)


# --- Data rights: consent, access and erasure ------------------------------------------------


@staff_required("manage_consent")
@require_POST
def customer_consent_change(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Record consent the customer gave or withdrew through staff: in their consent history (source
    "staff") and the audit trail. The API's ``POST /api/customers/{id}/consent/`` does the same."""
    customer = get_object_or_404(Customer.objects.select_related("user"), pk=customer_id, anonymous=False)
    form = CustomerConsentForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "staff/customer_detail.html",
            _customer_detail_context(customer, consent_form=form),
            status=400,
        )
    channel = form.cleaned_data["channel"]
    granted = form.cleaned_data["change"] == CustomerConsentForm.GIVEN
    event = consent_set_by_staff(
        customer=customer,
        channel=channel,
        granted=granted,
        lawful_basis=form.cleaned_data["lawful_basis"],
        staff=request.user,
        via="portal",
    )
    label = ConsentChannel(channel).label
    state = "given" if granted else "withdrawn"
    if event is None:
        messages.info(request, f"{label} consent was already {state}: nothing changed.")
    else:
        messages.success(request, f"{label} consent {state}, recorded in the consent history.")
    return redirect("staff:customer_detail", customer_id=customer.pk)


@staff_required("export_customer_data")
@require_GET
def customer_data_download(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Everything kept about the customer as one JSON file: the document of the shopper's own "My data"
    download and of ``GET /api/customers/{id}/data-export/``."""
    customer = get_object_or_404(Customer, pk=customer_id, anonymous=False)
    document = customer_data_export(customer=customer)
    audit_record(
        action=AuditEvent.Action.DATA_EXPORT_OPENED,
        actor=request.user,
        subject=customer_subject(customer),
        via="portal",
    )
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    # Named by the portal's row number: the retailer's id is itself personal data, and any text.
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-data.json"'
    return response


@staff_required("erase_customers")
def customer_erasure(request: HttpRequest, customer_id: int) -> HttpResponse:
    """GET: what erasure does, and a form asking for the customer's id. POST: erase them (the service of
    ``erase_customer`` and ``POST /api/customers/{id}/erase/``), then back to the customer list.

    Posting again once they are gone (a second click, another tab) finds the record of the erasure by
    the id typed and says so; it never erases anyone but the customer of the address.
    """
    customer = Customer.objects.filter(pk=customer_id, anonymous=False).first()
    form = CustomerEraseForm(request.POST or None, expected_id=customer.external_id if customer else None)
    if request.method == "POST" and form.is_valid():
        if customer is None:
            record = erasure_record_for(form.cleaned_data["confirm_id"])
            if record is None:
                raise Http404("No such customer.")
            messages.info(request, f"This customer was already erased on {record.erased_at:%d %b %Y %H:%M}.")
            return redirect("staff:customer_list")
        outcome = customer_erase(customer=customer, erased_by=request.user, via="portal")
        messages.success(
            request,
            f"Customer erased (record {outcome.record.subject_hash}): {outcome.record.counts_summary()}.",
        )
        return redirect("staff:customer_list")
    if customer is None:
        raise Http404("No such customer.")
    status = 400 if request.method == "POST" else 200
    context = {
        "customer": customer,
        "form": form,
        "totals": customer_selectors.customer_order_totals(customer=customer),
    }
    return render(request, "staff/customer_erase.html", context, status=status)
