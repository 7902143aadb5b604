"""The shop: catalogue, product pages, the basket, a shopper's home with recommendations, order history.

Product views, basket views and changes, and recommendation clicks are recorded as behaviour events
(an anonymous visitor's under the key ``shop.sessions`` keeps in their session); showing recommendations
records one impression per product with the model version that produced it.
"""

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from crm.models import (
    AuditEvent,
    BehaviourEvent,
    ConsentChannel,
    ConsentEvent,
    Customer,
    Order,
    OrderLine,
)
from crm.selectors.baskets import basket_line_get, basket_of_customer, basket_summary
from crm.selectors.catalogue import (
    category_get,
    category_list,
    product_get_for_shop,
    product_list_for_shop,
    shopper_order_list,
)
from crm.selectors.privacy import consent_current, consent_history, customer_data_export
from crm.services.baskets import (
    BasketError,
    basket_line_add,
    basket_line_remove,
    basket_line_set_quantity,
    basket_order_place,
)
from crm.services.behaviour import behaviour_event_record, behaviour_impressions_record
from crm.services.privacy import audit_record, consent_set, customer_subject
from recommender.models import ModelVersion
from recommender.selectors import (
    basket_completion_rows,
    recommendation_rows_for_customer,
    recommendation_rows_for_session,
    recommendation_was_shown,
    similar_product_list,
)
from shop.forms import BasketAddForm, BasketOrderForm, BasketQuantityForm
from shop.sessions import (
    ANONYMOUS_KEY,
    session_basket_id,
    shopper_basket,
    shopper_basket_or_new,
    shopper_event_key,
)

PRODUCTS_PER_PAGE = 24
ORDERS_PER_PAGE = 25
RECOMMENDATIONS_SHOWN = 8
# Who changed a shopper's consent, in the words of "My data" (ConsentEvent.Source's labels are staff's).
CONSENT_SOURCE_FOR_SHOPPER = {
    ConsentEvent.Source.SHOP: "by you",
    ConsentEvent.Source.STAFF: "by our staff",
    ConsentEvent.Source.API: "through one of our systems",
    ConsentEvent.Source.IMPORT: "from our records",
    ConsentEvent.Source.MIGRATION: "before this history was kept",
}
BOUGHT_TOGETHER_SHOWN = 6
BASKET_COMPLETION_SHOWN = 4


def shopper_customer(request: HttpRequest) -> Customer | None:
    """The customer record of the signed-in shopper, if they have one."""
    if not request.user.is_authenticated:
        return None
    return Customer.objects.filter(user=request.user).first()


def recommendation_click_url(recommendation: dict, customer: Customer | None) -> str:
    """Where a recommendation links: through the click recorder for a customer, straight to the product
    page for a visitor (whose clicks are not counted per version)."""
    if customer is None:
        return reverse("shop:product_detail", kwargs={"product_id": recommendation["product_id"]})
    url = reverse("shop:recommendation_click", kwargs={"product_id": recommendation["product_id"]})
    if recommendation.get("model_version_id"):
        url += "?" + urlencode({"v": recommendation["model_version_id"]})
    return url


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    customer = shopper_customer(request)
    recommendations: list[dict] = []
    if customer is not None:
        recommendations = recommendation_rows_for_customer(customer=customer, limit=RECOMMENDATIONS_SHOWN)
        by_version: dict[int | None, list[int]] = {}
        for recommendation in recommendations:
            by_version.setdefault(recommendation["model_version_id"], []).append(recommendation["product_id"])
        for model_version_id, product_ids in by_version.items():
            behaviour_impressions_record(
                customer=customer, product_ids=product_ids, model_version_id=model_version_id
            )
    else:
        # A visitor: the popular list, re-ranked by what this visit did (if anything yet).
        recommendations = recommendation_rows_for_session(
            session_key=request.session.get(ANONYMOUS_KEY) or "",
            basket_id=session_basket_id(request),
            limit=RECOMMENDATIONS_SHOWN,
        )
    for recommendation in recommendations:
        recommendation["click_url"] = recommendation_click_url(recommendation, customer)
    featured = list(product_list_for_shop()[: PRODUCTS_PER_PAGE // 2])
    return render(
        request,
        "shop/home.html",
        {
            "customer": customer,
            "recommendations": recommendations,
            "featured": featured,
            "categories": category_list(),
        },
    )


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    categories = category_list()
    category = None
    category_path = request.GET.get("category", "")
    if category_path:
        category = category_get(path=category_path)
        if category is None:
            raise Http404(f"No category {category_path!r}.")
    search = request.GET.get("q", "")[:100]
    products = product_list_for_shop(category=category, search=search)
    page = Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "shop/catalogue.html",
        {
            "categories": categories,
            "category": category,
            "search": search,
            "page": page,
            "products": page.object_list,
            "query": query.urlencode(),
        },
    )


@require_GET
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    product = product_get_for_shop(product_id=product_id)
    if product is None:
        raise Http404("No such product.")
    customer = shopper_customer(request)
    # A first-time visitor's view counts too: recording it starts their session.
    behaviour_event_record(
        kind=BehaviourEvent.Kind.VIEW,
        customer=customer,
        product=product,
        session_key=shopper_event_key(request, customer),
    )
    bought_together = list(similar_product_list(product=product, limit=BOUGHT_TOGETHER_SHOWN))
    return render(
        request,
        "shop/product_detail.html",
        {"product": product, "bought_together": bought_together, "customer": customer},
    )


@require_GET
def recommendation_click(request: HttpRequest, product_id: int) -> HttpResponse:
    """Record a click on one of the shopper's own recommendations, then show the product."""
    product = product_get_for_shop(product_id=product_id)
    if product is None:
        raise Http404("No such product.")
    customer = shopper_customer(request)
    try:
        model_version_id = int(request.GET.get("v", ""))
    except ValueError:
        model_version_id = None
    if (
        customer is not None
        and model_version_id is not None
        and ModelVersion.objects.filter(pk=model_version_id).exists()
        and recommendation_was_shown(
            customer=customer, product_id=product.pk, model_version_id=model_version_id
        )
    ):
        behaviour_event_record(
            kind=BehaviourEvent.Kind.RECOMMENDATION_CLICK,
            customer=customer,
            product=product,
            model_version_id=model_version_id,
        )
    return redirect("shop:product_detail", product_id=product.pk)


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    customer = shopper_customer(request)
    orders = shopper_order_list(customer=customer) if customer else Order.objects.none()
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "shop/order_list.html",
        {"customer": customer, "orders": page.object_list, "page": page, "query": ""},
    )


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    """One of the shopper's own orders; anyone else's order is a 404, as if it did not exist."""
    customer = shopper_customer(request)
    if customer is None:
        raise Http404("No such order.")
    order = get_object_or_404(Order, pk=order_id, customer=customer)
    lines = list(OrderLine.objects.filter(order=order).select_related("product").order_by("line_number"))
    total = sum((line.amount for line in lines), Decimal(0))
    return render(request, "shop/order_detail.html", {"order": order, "lines": lines, "total": total})


# --- The basket ---------------------------------------------------------------------------------


def _back_to(request: HttpRequest, default: str) -> str:
    """Where a basket form came from (its ``next`` field), if that is a page of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _basket_page(
    request: HttpRequest, customer: Customer | None, *, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    summary = basket_summary(basket=shopper_basket(request, customer))
    completing = []
    if summary.lines:
        completing = basket_completion_rows(
            basket=[(line.product_id, line.product.name) for line in summary.lines],
            customer=customer,
            limit=BASKET_COMPLETION_SHOWN,
        )
        for recommendation in completing:
            recommendation["click_url"] = recommendation_click_url(recommendation, customer)
    return render(
        request,
        "shop/basket.html",
        {"customer": customer, "summary": summary, "errors": errors or [], "completing": completing},
        status=status,
    )


def _form_errors(form) -> list[str]:
    return [message for messages_of_field in form.errors.values() for message in messages_of_field]


@require_GET
def basket(request: HttpRequest) -> HttpResponse:
    customer = shopper_customer(request)
    behaviour_event_record(
        kind=BehaviourEvent.Kind.BASKET_VIEW,
        customer=customer,
        session_key=shopper_event_key(request, customer),
    )
    return _basket_page(request, customer)


@require_POST
def basket_add(request: HttpRequest) -> HttpResponse:
    """Put a product in the basket (an anonymous visitor gets a basket kept in their session)."""
    customer = shopper_customer(request)
    form = BasketAddForm(request.POST)
    if not form.is_valid():
        return _basket_page(request, customer, errors=_form_errors(form), status=400)
    product = product_get_for_shop(product_id=form.cleaned_data["product_id"])
    if product is None:
        raise Http404("No such product.")
    quantity = form.cleaned_data["quantity"]
    try:
        basket_line_add(
            basket=shopper_basket_or_new(request, customer),
            product=product,
            quantity=quantity,
            session_key=shopper_event_key(request, customer),
        )
    except BasketError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"Added {quantity} × {product.name} to your basket.")
    return redirect(_back_to(request, reverse("shop:basket")))


@require_POST
def basket_line_update(request: HttpRequest, product_id: int) -> HttpResponse:
    """Change how many of a product the basket holds; 0 takes it out."""
    customer = shopper_customer(request)
    line = basket_line_get(basket=shopper_basket(request, customer), product_id=product_id)
    if line is None:
        return _not_in_basket(request)
    form = BasketQuantityForm(request.POST)
    if not form.is_valid():
        return _basket_page(request, customer, errors=_form_errors(form), status=400)
    try:
        basket_line_set_quantity(
            basket=line.basket,
            product=line.product,
            quantity=form.cleaned_data["quantity"],
            session_key=shopper_event_key(request, customer),
        )
    except BasketError as refusal:
        messages.error(request, str(refusal))
    return redirect("shop:basket")


def _not_in_basket(request: HttpRequest) -> HttpResponse:
    """A form for a line the basket no longer holds (sent twice, or from a page shown before the line
    went): back to the basket, which shows what it holds now."""
    messages.info(request, "That product is no longer in your basket.")
    return redirect("shop:basket")


@require_POST
def basket_line_remove_view(request: HttpRequest, product_id: int) -> HttpResponse:
    customer = shopper_customer(request)
    line = basket_line_get(basket=shopper_basket(request, customer), product_id=product_id)
    if line is None:
        return _not_in_basket(request)
    try:
        basket_line_remove(
            basket=line.basket, product=line.product, session_key=shopper_event_key(request, customer)
        )
    except BasketError as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, f"{line.product.name} is out of your basket.")
    return redirect("shop:basket")


@require_POST
def basket_order(request: HttpRequest) -> HttpResponse:
    """Place the order of the basket (no payment); a visitor signs in first and comes back here."""
    basket_url = reverse("shop:basket")
    if not request.user.is_authenticated:
        return redirect_to_login(basket_url)
    customer = shopper_customer(request)
    if customer is None:
        messages.error(request, "Your login is not linked to a customer account, so it cannot place orders.")
        return redirect(basket_url)
    form = BasketOrderForm(request.POST)
    if not form.is_valid():
        return _basket_page(request, customer, errors=_form_errors(form), status=400)
    basket_id = form.cleaned_data["basket_id"]
    # The basket the form was shown with: sending it twice (a double click) finds the first order.
    placing = (
        basket_of_customer(customer=customer, basket_id=basket_id)
        if basket_id
        else shopper_basket(request, customer)
    )
    if placing is None:
        messages.error(request, "Your basket is empty.")
        return redirect(basket_url)
    try:
        placement = basket_order_place(basket=placing)
    except BasketError as refusal:
        messages.error(request, str(refusal))
        return redirect(basket_url)
    if placement.created:
        messages.success(request, f"Thank you: your order {placement.order.external_id} is placed.")
    else:
        messages.info(request, f"Your order {placement.order.external_id} was placed already.")
    return redirect("shop:order_detail", order_id=placement.order.pk)


# --- My data: access, portability and consent -------------------------------------------------


@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    """What the shop keeps about the shopper, their consent per channel, and the download."""
    customer = shopper_customer(request)
    context: dict = {"customer": customer}
    if customer is not None:
        current = consent_current(customer=customer)
        context["channels"] = [
            {"value": value, "label": label, "granted": current[value]}
            for value, label in ConsentChannel.choices
        ]
        context["consent_history"] = [
            (event, CONSENT_SOURCE_FOR_SHOPPER.get(event.source, ""))
            for event in consent_history(customer=customer)[:50]
        ]
    return render(request, "shop/my_data.html", context)


@login_required
@require_GET
def my_data_download(request: HttpRequest) -> HttpResponse:
    """All of the shopper's data as one JSON file (access and portability)."""
    customer = shopper_customer(request)
    if customer is None:
        raise Http404("Your login is not linked to a customer account.")
    document = customer_data_export(customer=customer)
    audit_record(
        action=AuditEvent.Action.DATA_EXPORT_OPENED,
        actor=request.user,
        subject=customer_subject(customer),
        via="shop",
    )
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


@login_required
@require_POST
def my_consent(request: HttpRequest) -> HttpResponse:
    """The shopper grants or withdraws marketing on one channel."""
    customer = shopper_customer(request)
    if customer is None:
        raise Http404("Your login is not linked to a customer account.")
    channel = request.POST.get("channel", "")
    granted = request.POST.get("granted", "")
    if channel not in ConsentChannel.values or granted not in ("yes", "no"):
        return HttpResponseBadRequest("Choose a channel (email, sms, push, post) and yes or no.")
    consent_set(
        customer=customer,
        channel=channel,
        granted=granted == "yes",
        source=ConsentEvent.Source.SHOP,
        recorded_by=request.user,
    )
    label = ConsentChannel(channel).label
    messages.success(
        request, f"{label}: {'you will hear from us' if granted == 'yes' else 'no more marketing'}."
    )
    return redirect("shop:my_data")
