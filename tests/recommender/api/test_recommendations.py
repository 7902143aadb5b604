import pytest
from django.db import connection

from tests.factories import (
    BehaviourEventFactory,
    CustomerFactory,
    ModelVersionFactory,
    OrderLineFactory,
    PopularProductFactory,
    ProductFactory,
    ProductNeighbourFactory,
    RecommendationFactory,
)

pytestmark = pytest.mark.django_db


def product_ids(response):
    assert response.status_code == 200, response.content
    return product_ids_of(response.json())


def product_ids_of(body):
    return [row["product"]["external_id"] for row in body["results"]]


def test_recommendations_come_from_the_active_version_only(staff_client):
    customer = CustomerFactory(external_id="C1")
    active = ModelVersionFactory(status="active")
    retired = ModelVersionFactory(status="retired")
    for rank, sku in enumerate(["A", "B", "C"], start=1):
        RecommendationFactory(
            model_version=active, customer=customer, rank=rank, product=ProductFactory(external_id=sku)
        )
    RecommendationFactory(
        model_version=retired, customer=customer, rank=1, product=ProductFactory(external_id="OLD")
    )

    response = staff_client.get("/api/customers/C1/recommendations/")

    assert product_ids(response) == ["A", "B", "C"]
    assert response.json()["model_version_id"] == active.pk
    assert {row["model_version_id"] for row in response.json()["results"]} == {active.pk}
    assert product_ids(staff_client.get("/api/customers/C1/recommendations/?limit=2")) == ["A", "B"]


def test_recommendation_reasons_name_products(staff_client):
    customer = CustomerFactory(external_id="C1")
    bought = ProductFactory(name="Jumbo bag red retrospot")
    RecommendationFactory(customer=customer, reason=f"Bought with {{product:{bought.pk}}}")

    body = staff_client.get("/api/customers/C1/recommendations/").json()

    assert body["results"][0]["reason"] == "Bought with Jumbo bag red retrospot"


def test_unscored_customers_get_popular_in_their_country(staff_client):
    version = ModelVersionFactory(status="active")
    CustomerFactory(external_id="NEW", country="France")
    PopularProductFactory(
        model_version=version, country="France", rank=1, product=ProductFactory(external_id="FR")
    )
    PopularProductFactory(
        model_version=version, country="", rank=1, product=ProductFactory(external_id="ALL")
    )

    response = staff_client.get("/api/customers/NEW/recommendations/")

    assert product_ids(response) == ["FR", "ALL"]
    assert response.json()["results"][0]["reason"] == "Popular in France"


def test_no_active_version_means_an_empty_list(staff_client):
    CustomerFactory(external_id="C1")
    RecommendationFactory(model_version=ModelVersionFactory(status="ready"), customer__external_id="C2")

    body = staff_client.get("/api/customers/C1/recommendations/").json()

    assert body == {"customer_id": "C1", "model_version_id": None, "results": []}


def test_before_a_version_is_served_the_bestsellers_carry_no_version_as_the_schema_says(staff_client):
    """The bestsellers shown before a first version is served answered model_version_id null where the
    schema promised an integer."""
    CustomerFactory(external_id="C1")
    OrderLineFactory(product=ProductFactory(external_id="BEST"), quantity=5)

    body = staff_client.get("/api/customers/C1/recommendations/").json()
    schema = staff_client.get("/api/schema/?format=json").json()["components"]["schemas"]

    assert product_ids_of(body) == ["BEST"]
    assert body["model_version_id"] is None and body["results"][0]["model_version_id"] is None
    for name in ("Recommendation", "ExplainedRecommendation"):
        assert schema[name]["properties"]["model_version_id"]["nullable"] is True


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_a_bad_limit_is_a_400_naming_it(staff_client, limit):
    CustomerFactory(external_id="C1")

    response = staff_client.get(f"/api/customers/C1/recommendations/?limit={limit}")

    assert response.status_code == 400
    assert "limit" in response.json()


def test_a_shopper_reads_their_own_recommendations_both_ways(shopper_client, shopper):
    RecommendationFactory(customer=shopper, product=ProductFactory(external_id="MINE"))

    assert product_ids(shopper_client.get("/api/me/recommendations/")) == ["MINE"]
    assert product_ids(shopper_client.get(f"/api/customers/{shopper.external_id}/recommendations/")) == [
        "MINE"
    ]


def test_recommendations_cost_a_few_queries_and_no_model(staff_client, django_assert_max_num_queries):
    customer = CustomerFactory(external_id="C1")
    version = ModelVersionFactory(status="active")
    for rank in range(1, 21):
        RecommendationFactory(model_version=version, customer=customer, rank=rank)

    # token + user, the staff permission (core.view_customers), the customer's basket and recent activity
    # (none; one query on PostgreSQL, two where unions cannot take ordered parts), then the served
    # recommendations found by the retailer's customer id
    with django_assert_max_num_queries(4 if connection.features.supports_slicing_ordering_in_compound else 5):
        response = staff_client.get("/api/customers/C1/recommendations/")

    assert response.json()["customer_id"] == "C1"
    assert len(response.json()["results"]) == 20

    # recent activity costs two queries more: the neighbours of what the customer did, and the weight of
    # never-bought products the served version chose (RECOMMENDER_NEW_ITEM_WEIGHT "auto"), which the
    # re-ranked list keeps
    BehaviourEventFactory(customer=customer, product=ProductFactory())
    with django_assert_max_num_queries(6 if connection.features.supports_slicing_ordering_in_compound else 7):
        response = staff_client.get("/api/customers/C1/recommendations/")
    assert len(response.json()["results"]) == 20


def test_a_staff_request_for_an_unknown_customer_is_still_a_404(staff_client):
    ModelVersionFactory(status="active")

    response = staff_client.get("/api/customers/NOPE/recommendations/")

    assert response.status_code == 404


def test_similar_products_from_the_active_version(shopper_client):
    version = ModelVersionFactory(status="active")
    product = ProductFactory(external_id="CUP")
    ProductNeighbourFactory(
        model_version=version, product=product, rank=1, neighbour=ProductFactory(external_id="SAUCER")
    )
    ProductNeighbourFactory(
        model_version=version,
        product=product,
        rank=2,
        neighbour=ProductFactory(external_id="GONE", active=False),
    )
    ProductNeighbourFactory(
        model_version=ModelVersionFactory(status="retired"),
        product=product,
        rank=1,
        neighbour=ProductFactory(external_id="OLD"),
    )

    response = shopper_client.get("/api/products/CUP/similar/")

    assert response.json()["product_id"] == "CUP"
    assert product_ids(response) == ["SAUCER"]
    assert shopper_client.get("/api/products/NOPE/similar/").status_code == 404
