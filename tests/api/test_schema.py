"""The OpenAPI schema is valid, its documentation pages work offline, and the API keeps to it."""

import re

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.factories import (
    CustomerFactory,
    CustomerSegmentFactory,
    JobFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ProductNeighbourFactory,
    PromotionFactory,
    PromotionTargetFactory,
    RecommendationFactory,
    StaffUserFactory,
)

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/customers/{external_id}/recommendations/:" in (tmp_path / "schema.yaml").read_text()


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_documentation_pages_load_their_assets_from_our_static_files(staff_client, url):
    page = staff_client.get(url).content.decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)

    assert scripts
    assert all(src.startswith("/static/") for src in scripts), scripts


def test_the_schema_and_its_pages_are_public_but_the_data_is_not(anonymous_client):
    response = anonymous_client.get("/api/schema/?format=json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Retail CRM API"
    assert anonymous_client.get("/api/docs/").status_code == 200
    assert anonymous_client.get("/api/customers/").status_code == 401


schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()


@pytest.fixture
def staff_token(db) -> str:
    """A staff login, and one of everything so that list responses have rows to check."""
    customer = CustomerFactory(external_id="C1")
    product = ProductFactory(external_id="P1")
    OrderLineFactory(order=OrderFactory(external_id="O1", customer=customer), product=product)
    CustomerSegmentFactory(customer=customer)
    PromotionTargetFactory(promotion=PromotionFactory(products=[product]), customer=customer)
    recommendation = RecommendationFactory(customer=customer, product=ProductFactory())
    ProductNeighbourFactory(model_version=recommendation.model_version, product=product)
    JobFactory(status="failed", error="Line 2: bad quantity")
    return Token.objects.create(user=StaffUserFactory(username="schema-staff")).key


@pytest.fixture
def connections_kept_open():
    """Requests go straight to the WSGI handler, which would close the test's database connection
    at the end of each request; Django's own test client suspends that the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_operation_within_its_schema(case, staff_token, connections_kept_open):
    case.call_and_validate(
        headers={"Authorization": f"Token {staff_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
