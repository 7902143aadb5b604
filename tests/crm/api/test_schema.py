"""The OpenAPI schema is valid and documents every answer and bound; its documentation pages work
offline and are for staff. That the API keeps to it is tests/retail_site/test_api_contract.py."""

import re

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from recommender.models import ModelVersion
from recommender.services.scoring import list_settings

pytestmark = pytest.mark.django_db


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/customers/{external_id}/recommendations/:" in (tmp_path / "schema.yaml").read_text()


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_documentation_pages_load_their_assets_from_our_static_files(client, staff_user, url):
    client.force_login(staff_user)
    page = client.get(url).content.decode()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', page)

    assert scripts
    # our static files, or Swagger UI's start-up script served by the page itself (no inline script)
    assert all(src.startswith("/static/") or src.startswith(f"{url}?script") for src in scripts), scripts
    assert "<script>" not in page


def test_the_schema_and_its_pages_are_for_staff_by_default(anonymous_client, shopper_client, staff_client):
    assert anonymous_client.get("/api/schema/?format=json").status_code == 401
    assert shopper_client.get("/api/schema/?format=json").status_code == 403
    assert staff_client.get("/api/schema/?format=json").json()["info"]["title"] == "Retail CRM API"
    # a signed-out browser is sent to the login page and back
    docs = anonymous_client.get("/api/docs/")
    assert docs.status_code == 302
    assert docs["Location"] == "/accounts/login/?next=/api/docs/"
    assert anonymous_client.get("/api/redoc/").status_code == 302


def test_the_schema_and_its_pages_can_be_made_public(anonymous_client, settings):
    settings.API_DOCS_PUBLIC = True

    response = anonymous_client.get("/api/schema/?format=json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Retail CRM API"
    assert anonymous_client.get("/api/docs/").status_code == 200
    assert anonymous_client.get("/api/customers/").status_code == 401


def test_every_operation_documents_its_error_answers_in_the_error_shape():
    # what a client generated from the schema needs to know: each answer an operation can give
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }

    customers = operations["GET", "/api/customers/"]["responses"]
    assert set(customers) == {"200", "400", "401", "403", "404", "429"}
    assert customers["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    assert customers["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert set(operations["GET", "/api/customers/{external_id}/"]["responses"]) == {
        "200", "401", "403", "404", "429"
    }  # fmt: skip
    # a shopper's own data: no 403 (any login may ask), but 404 when no customer is linked
    assert set(operations["GET", "/api/me/"]["responses"]) == {"200", "401", "404", "429"}
    # the login takes no token: no 401 for a missing one, but 401 for wrong credentials
    login = operations["POST", "/api/auth/token/"]
    assert "security" not in login or login["security"] == [{}]
    assert {"200", "400", "401", "415", "429"} <= set(login["responses"])
    for (method, path), operation in operations.items():
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                assert "application/json" in response.get("content", {}), (method, path, code)


def test_every_parameter_documents_its_bounds():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {
        (path, parameter["name"]): parameter["schema"]
        for path, item in schema["paths"].items()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
    }

    assert parameters["/api/customers/{external_id}/recommendations/", "limit"] == {
        "type": "integer", "minimum": 1, "maximum": 100
    }  # fmt: skip
    assert parameters["/api/products/", "page_size"] == {
        "type": "integer", "minimum": 1, "maximum": 500, "default": 50
    }  # fmt: skip
    assert parameters["/api/products/", "page"] == {"type": "integer", "minimum": 1}
    assert parameters["/api/products/", "active"] == {"type": "boolean"}
    assert "-price" in parameters["/api/products/", "ordering"]["items"]["enum"]
    orders_body = schema["paths"]["/api/ingest/orders/"]["post"]["requestBody"]["content"]
    assert set(orders_body) == {"application/json"}
    assert (
        orders_body["application/json"]["schema"]["minItems"],
        orders_body["application/json"]["schema"]["maxItems"],
    ) == (1, 1000)


def test_a_list_links_to_the_operations_on_its_rows():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    links = schema["paths"]["/api/customers/"]["get"]["responses"]["200"]["links"]

    assert links["customers_recommendations_retrieve"]["parameters"] == {
        "external_id": "$response.body#/results/0/external_id"
    }
    assert "customers_retrieve" in links


def test_a_versions_params_name_every_setting_a_scoring_keeps():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    described = schema["components"]["schemas"]["ModelVersion"]["properties"]["params"]["description"]
    kept = [
        ModelVersion.STOCK_RISK_PARAM,
        ModelVersion.SERVED_LISTS_PARAM,
        ModelVersion.NEW_ITEM_WEIGHT_PARAM,
        *list_settings(ModelVersion()),
    ]
    assert [key for key in kept if not re.search(rf"\b{key}\b", described)] == []


def test_a_shoppers_own_orders_offer_no_customer_filter(staff_client):
    """The schema documented ``customer`` on /api/me/orders/, a filter that means nothing there."""
    paths = staff_client.get("/api/schema/?format=json").json()["paths"]

    def parameters(path: str) -> set[str]:
        return {parameter["name"] for parameter in paths[path]["get"].get("parameters", [])}

    assert "customer" in parameters("/api/orders/")
    assert "customer" not in parameters("/api/me/orders/")
    assert {"status", "placed_at_after", "placed_at_before"} <= parameters("/api/me/orders/")
