"""Every staff endpoint of the API with every role: a role reaches what the matching portal room lets it
see or do, and nothing else; a staff login without a role reaches nothing; a superuser everything."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.roles import ANALYST, BUYER, DATA_ADMIN, MARKETING, ROLE_PERMISSIONS
from crm.api.permissions import missing_permission_message
from crm.models import Customer, ErasureRecord
from inventory.models import ForecastRun, ProductForecast
from retail_site import api_urls
from tests.crm.api.tokens import api_token_for
from tests.factories import (
    CustomerFactory,
    CustomerSegmentFactory,
    JobFactory,
    ModelVersionFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    PromotionFactory,
    PromotionTargetFactory,
    RecommendationFactory,
    SegmentRunFactory,
    StaffUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ALL = {BUYER, MARKETING, ANALYST, DATA_ADMIN}
CUSTOMERS = {MARKETING, DATA_ADMIN}
# Written out by hand (not derived from the code): which roles may use each staff endpoint, by URL name
# and method. The portal's page for the same data names the same permission (tests/portal/test_roles.py).
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("customer-list", "GET"): CUSTOMERS,
    ("customer-detail", "GET"): CUSTOMERS,
    ("customer-recommendations", "GET"): CUSTOMERS,
    ("customer-consent", "GET"): CUSTOMERS,
    ("customer-consent", "POST"): {DATA_ADMIN},
    ("customer-data-export", "GET"): {DATA_ADMIN},
    ("customer-erase", "POST"): {DATA_ADMIN},
    ("order-list", "GET"): CUSTOMERS,
    ("order-detail", "GET"): CUSTOMERS,
    ("product-list", "GET"): ALL,
    ("product-detail", "GET"): ALL,
    ("segments", "GET"): ALL,
    ("segment-customers", "GET"): CUSTOMERS,
    ("promotion-list", "GET"): ALL,
    ("promotion-detail", "GET"): ALL,
    ("promotion-targets", "GET"): CUSTOMERS,
    ("model-version-list", "GET"): ALL,
    ("model-version-detail", "GET"): ALL,
    ("job-list", "GET"): ALL,
    ("job-detail", "GET"): ALL,
    ("ingest-orders", "POST"): {DATA_ADMIN},
    ("ingest-events", "POST"): {DATA_ADMIN},
    ("inventory-stock-list", "GET"): {BUYER},
    ("inventory-stock-detail", "GET"): {BUYER},
    ("inventory-stock-detail", "PATCH"): {BUYER},
    ("inventory-product-forecast", "GET"): {BUYER},
    ("inventory-product-replenishment", "GET"): {BUYER},
    ("inventory-replenishment", "GET"): {BUYER},
    ("inventory-run", "GET"): {BUYER},
}
# Open to any signed-in login (a shopper's own data and basket, the shop's "bought together", completing
# a cart, the token) or to anyone (the login, the docs for staff by is_staff alone): not staff endpoints.
NOT_STAFF = {
    *("token", "schema", "docs", "redoc", "me", "my-orders", "my-recommendations", "product-similar"),
    *("basket-current", "basket-lines", "basket-line", "basket-order", "basket-recommendations"),
    "recommendations-for-items",
}


def _api_routes(patterns=None) -> dict[str, object]:
    routes = {}
    for pattern in api_urls.urlpatterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            routes |= _api_routes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            routes[pattern.name] = pattern.callback
    return routes


def _staff_methods(callback) -> set[str]:
    """The methods of a route whose view names a staff permission (``crm.api.permissions``)."""
    view_class = getattr(callback, "cls", None)
    if view_class is None:  # the documentation pages, which wrap the schema's view
        return set()
    if not any(hasattr(permission, "read_permission") for permission in view_class.permission_classes):
        return set()
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF adds "head" to a viewset's actions on its first request
        return {method.upper() for method in actions if method != "head"}
    return {
        method.upper()
        for method in view_class.http_method_names
        if method not in ("head", "options", "trace") and hasattr(view_class, method)
    }


def test_the_table_covers_every_staff_endpoint_and_nothing_else():
    routes = _api_routes()
    listed = {name for name, _ in ALLOWED}
    assert set(routes) == listed | NOT_STAFF
    for name, callback in routes.items():
        expected = {method for route, method in ALLOWED if route == name}
        assert _staff_methods(callback) == expected, name


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


@pytest.fixture
def api_shop():
    """One of everything a staff endpoint reads: a customer with an order, a segment, a recommendation
    and a promotion target; a product with stock and a forecast; a model version; a job."""
    customer = CustomerFactory(external_id="C-ROLES")
    product = ProductFactory(external_id="P-ROLES", stock=30)
    order = OrderFactory(customer=customer, external_id="O-ROLES")
    OrderLineFactory(order=order, product=product, quantity=2, unit_price=Decimal("3.00"))
    run = SegmentRunFactory()
    CustomerSegmentFactory(run=run, customer=customer)
    version = ModelVersionFactory(status="active")
    RecommendationFactory(model_version=version, customer=customer, product=product, rank=1)
    promotion = PromotionFactory(products=[product])
    PromotionTargetFactory(promotion=promotion, customer=customer)
    forecast_run = ForecastRun.objects.create(as_of=dt.date(2024, 3, 4), horizon_days=14, product_count=1)
    ProductForecast.objects.create(
        run=forecast_run,
        product=product,
        model="TSB",
        demand_class="smooth",
        dispersion=1.0,
        total=28.0,
        daily=[2.0] * 14,
        lower=[1.0] * 14,
        upper=[3.0] * 14,
    )
    job = JobFactory()
    return {
        "customer": customer,
        "product": product,
        "order": order,
        "promotion": promotion,
        "version": version,
        "job": job,
    }


def _request(client: APIClient, name: str, method: str, shop: dict, erasable: Customer):
    kwargs = {
        "customer-detail": {"external_id": shop["customer"].external_id},
        "customer-recommendations": {"external_id": shop["customer"].external_id},
        "customer-consent": {"external_id": shop["customer"].external_id},
        "customer-data-export": {"external_id": shop["customer"].external_id},
        "customer-erase": {"external_id": erasable.external_id},
        "order-detail": {"external_id": shop["order"].external_id},
        "product-detail": {"external_id": shop["product"].external_id},
        "promotion-detail": {"pk": shop["promotion"].pk},
        "promotion-targets": {"pk": shop["promotion"].pk},
        "model-version-detail": {"pk": shop["version"].pk},
        "job-detail": {"pk": shop["job"].pk},
        "inventory-stock-detail": {"external_id": shop["product"].external_id},
        "inventory-product-forecast": {"external_id": shop["product"].external_id},
        "inventory-product-replenishment": {"external_id": shop["product"].external_id},
    }.get(name, {})
    url = reverse(f"api:{name}", kwargs=kwargs)
    body = {
        "customer-consent": {"channel": "sms", "granted": True},
        "ingest-orders": [
            {
                "order_id": "O-INGEST",
                "customer_id": shop["customer"].external_id,
                "ordered_at": "2024-03-01T10:00:00Z",
                "lines": [{"product_id": shop["product"].external_id, "quantity": 1, "unit_price": "3.00"}],
            }
        ],
        "ingest-events": [
            {
                "customer_id": shop["customer"].external_id,
                "product_id": shop["product"].external_id,
                "kind": "view",
                "at": timezone.now().isoformat(),
            }
        ],
        "inventory-stock-detail": {"on_hand": 25},
    }.get(name)
    return (
        getattr(client, method.lower())(url, body, format="json")
        if body is not None
        else getattr(client, method.lower())(url)
    )


def _outcomes(user, shop: dict) -> dict[tuple[str, str], int]:
    client = _client(user)
    erasable = CustomerFactory(external_id=f"C-ERASABLE-{user.username}")
    return {
        (name, method): _request(client, name, method, shop, erasable).status_code for name, method in ALLOWED
    }


@pytest.mark.parametrize("role", sorted(ALL))
def test_each_role_reaches_exactly_its_endpoints(api_shop, role):
    outcomes = _outcomes(StaffUserFactory(username=f"api-{role.replace(' ', '-')}", roles=[role]), api_shop)

    forbidden = {endpoint for endpoint, status in outcomes.items() if status == 403}
    assert forbidden == {endpoint for endpoint, roles in ALLOWED.items() if role not in roles}, outcomes
    reached = {endpoint: status for endpoint, status in outcomes.items() if endpoint not in forbidden}
    assert all(200 <= status < 300 for status in reached.values()), reached


def test_a_staff_login_without_a_role_reaches_no_staff_endpoint(api_shop):
    outcomes = _outcomes(StaffUserFactory(username="api-no-role", roles=[]), api_shop)

    assert set(outcomes.values()) == {403}, outcomes
    assert Customer.objects.filter(external_id="C-ERASABLE-api-no-role").exists()


def test_a_superuser_reaches_every_staff_endpoint(api_shop):
    superuser = UserFactory(username="api-root", is_staff=True, is_superuser=True)

    outcomes = _outcomes(superuser, api_shop)

    assert all(200 <= status < 300 for status in outcomes.values()), outcomes
    assert ErasureRecord.objects.count() == 1


def test_a_shopper_reaches_no_staff_endpoint_but_their_own_record(api_shop):
    shopper = CustomerFactory(external_id="C-SHOPPER", user=UserFactory(username="api-shopper"))
    client = _client(shopper.user)

    assert client.get("/api/customers/").status_code == 403
    assert client.post(f"/api/customers/{shopper.external_id}/erase/").status_code == 403
    assert client.get(f"/api/customers/{shopper.external_id}/data-export/").status_code == 200
    assert client.get(f"/api/customers/{shopper.external_id}/consent/").status_code == 200
    # another customer's record is not found rather than forbidden: ids are not revealed
    assert client.get(f"/api/customers/{api_shop['customer'].external_id}/data-export/").status_code == 404


def test_the_403_names_the_permission_and_the_roles_that_hold_it(api_shop):
    marketing = _client(StaffUserFactory(username="api-marketer", roles=[MARKETING]))

    response = marketing.post(f"/api/customers/{api_shop['customer'].external_id}/erase/")

    assert response.status_code == 403
    assert response.json() == {"detail": missing_permission_message("erase_customers")}
    assert "core.erase_customers" in response.json()["detail"] and "data admin" in response.json()["detail"]


def test_a_role_taken_away_applies_from_the_next_request(api_shop):
    user = StaffUserFactory(username="api-leaver", roles=[BUYER])
    client = _client(user)
    assert client.get("/api/inventory/stock/").status_code == 200

    user.groups.clear()

    assert client.get("/api/inventory/stock/").status_code == 403


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the token read names the roles on PostgreSQL")
def test_a_token_request_reads_its_staff_permissions_with_the_token(api_shop):
    by_role = _client(StaffUserFactory(username="api-by-role", roles=[BUYER]))
    direct = StaffUserFactory(username="api-direct", roles=[])
    direct.user_permissions.add(
        Permission.objects.get(content_type__app_label="core", codename="view_inventory")
    )
    by_grant = _client(direct)
    no_role = _client(StaffUserFactory(username="api-nothing", roles=[]))

    with CaptureQueriesContext(connection) as queries:
        answers = [client.get("/api/inventory/stock/").status_code for client in (by_role, by_grant, no_role)]

    # the role, a direct grant and no permission at all each decide as before ...
    assert answers == [200, 200, 403]
    # ... from the one read of the token and its login: no query of the permission tables of its own
    reads = [query["sql"] for query in queries.captured_queries if "auth_permission" in query["sql"]]
    assert len(reads) == 3 and all("knox_authtoken" in sql for sql in reads)


def test_the_schema_documents_the_403_of_each_staff_endpoint_with_its_permission():
    staff_client = _client(StaffUserFactory(username="api-reader"))
    schema = staff_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    erase = schema["paths"]["/api/customers/{external_id}/erase/"]["post"]["responses"]["403"]
    stock_patch = schema["paths"]["/api/inventory/stock/{external_id}/"]["patch"]["responses"]["403"]
    stock_get = schema["paths"]["/api/inventory/stock/{external_id}/"]["get"]["responses"]["403"]
    export = schema["paths"]["/api/customers/{external_id}/data-export/"]["get"]["responses"]["403"]
    assert "`core.erase_customers`" in erase["description"] and "data admin" in erase["description"]
    assert "`core.manage_inventory`" in stock_patch["description"]
    assert "`core.view_inventory`" in stock_get["description"]
    assert "`core.export_customer_data`" in export["description"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/inventory/") or path.startswith("/api/jobs/"):
                assert "403" in operation["responses"], (method, path)


def test_every_role_of_the_table_exists():
    assert set(ROLE_PERMISSIONS) == ALL
