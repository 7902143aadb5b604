"""Customers: the filtered list (and its CSV) and the customer 360 page with notes."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from crm.models import AuditEvent, Customer
from crm.selectors import customers as customer_selectors
from crm.selectors import marketing
from crm.services.customers import customer_note_create
from crm.services.privacy import audit_record, customer_subject
from portal.csv import csv_response
from portal.customers.forms import CustomerFilterForm, CustomerNoteForm
from portal.guards import staff_required
from recommender.selectors import recommendation_rows_for_customer

CUSTOMERS_PER_PAGE = 50


RECOMMENDATIONS_SHOWN = 10


def _customer_filter_form(request: HttpRequest) -> CustomerFilterForm:
    return CustomerFilterForm(request.GET or None, countries=customer_selectors.customer_country_list())


@staff_required("view_customers")
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    form = _customer_filter_form(request)
    customers = customer_selectors.customer_list(
        filters=form.to_filters(), run_id=customer_selectors.segment_run_latest_id()
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
def customer_list_csv(request: HttpRequest) -> StreamingHttpResponse:
    form = _customer_filter_form(request)
    customers = customer_selectors.customer_list(
        filters=form.to_filters(), run_id=customer_selectors.segment_run_latest_id()
    )
    audit_record(
        action=AuditEvent.Action.PERSONAL_DATA_EXPORTED,
        actor=request.user,
        via="portal",
        detail={"file": "customers.csv", "filters": form.data.urlencode() if form.is_bound else ""},
    )
    return csv_response(customer_selectors.customer_csv_rows(customers), filename="customers.csv")


def _customer_detail_context(customer: Customer, note_form: CustomerNoteForm) -> dict:
    recommendations = recommendation_rows_for_customer(customer=customer, limit=RECOMMENDATIONS_SHOWN)
    return {
        "customer": customer,
        "orders": customer_selectors.customer_order_list(customer=customer),
        "totals": customer_selectors.customer_order_totals(customer=customer),
        "segment": marketing.customer_segment_latest(customer=customer),
        "recommendations": recommendations,
        "notes": customer_selectors.customer_note_list(customer=customer),
        "note_form": note_form,
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
    return render(
        request, "staff/customer_detail.html", _customer_detail_context(customer, CustomerNoteForm())
    )


@staff_required("view_customers")
@require_POST
def customer_note_add(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.select_related("user"), pk=customer_id)
    form = CustomerNoteForm(request.POST)
    if not form.is_valid():
        return render(
            request, "staff/customer_detail.html", _customer_detail_context(customer, form), status=400
        )
    customer_note_create(
        customer=customer, author=request.user, kind=form.cleaned_data["kind"], body=form.cleaned_data["body"]
    )
    messages.success(request, "Note added.")
    return redirect("staff:customer_detail", customer_id=customer.pk)
