"""A prepared read returns what its queryset returns, for every value and shape, and sees every change."""

import pytest

from core.prepared import PreparedValues
from recommender.selectors import _served_rows_queryset, served_recommendation_rows
from tests.factories import CustomerFactory, ModelVersionFactory, ProductFactory, RecommendationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def served() -> dict:
    version = ModelVersionFactory(status="active")
    old = ModelVersionFactory(status="retired")
    customers = [CustomerFactory(external_id=f"C{index}") for index in range(3)]
    for customer in customers:
        for rank in range(1, 6):
            RecommendationFactory(model_version=version, customer=customer, rank=rank)
        RecommendationFactory(model_version=old, customer=customer, rank=1)
    return {"version": version, "customers": customers}


def test_prepared_rows_equal_the_querysets_rows_for_each_value_and_shape(served):
    prepared = PreparedValues(_served_rows_queryset)
    for customer in served["customers"]:
        for limit in (1, 3, 20):
            expected = list(
                _served_rows_queryset(customer.external_id, by="customer__external_id", limit=limit)
            )
            assert prepared.rows(customer.external_id, by="customer__external_id", limit=limit) == expected
            assert prepared.rows(customer.pk, by="customer_id", limit=limit) == expected
    assert prepared.rows("NOBODY", by="customer__external_id", limit=5) == []


def test_prepared_rows_see_changes_made_after_the_first_call(served):
    customer = served["customers"][0]
    first = served_recommendation_rows(customer_external_id=customer.external_id, limit=5)
    out_of_stock = first[0]["product__external_id"]
    ProductFactory._meta.model.objects.filter(external_id=out_of_stock).update(stock=0)

    after = served_recommendation_rows(customer_external_id=customer.external_id, limit=5)

    assert [row["product__external_id"] for row in after] == [
        row["product__external_id"] for row in first[1:]
    ]
    assert [row["rank"] for row in after] == [1, 2, 3, 4]
    served["version"].status = "retired"
    served["version"].save(update_fields=["status"])
    assert served_recommendation_rows(customer=customer, limit=5) == []


def test_a_query_that_does_not_use_its_value_is_refused():
    from crm.models import Product

    prepared = PreparedValues(lambda value: Product.objects.values("external_id"))

    with pytest.raises(ValueError, match="use its value at least once"):
        prepared.rows("anything")


def test_a_union_takes_the_value_in_each_part():
    from crm.models import Product

    ProductFactory(external_id="A", name="x")
    ProductFactory(external_id="B", name="A")
    prepared = PreparedValues(
        lambda value: (
            Product.objects.filter(external_id=value)
            .order_by()
            .values("name")
            .union(Product.objects.filter(name=value).order_by().values("name"), all=True)
        )
    )

    assert sorted(row["name"] for row in prepared.rows("A")) == ["A", "x"]
    assert prepared.rows("B") == [{"name": "A"}]


def test_a_tuple_of_ints_fills_an_in_lookup_compiled_once_per_length():
    from crm.models import Product

    first, second, third = ProductFactory(), ProductFactory(), ProductFactory()
    prepared = PreparedValues(lambda ids: Product.objects.filter(pk__in=ids).order_by("pk").values("pk"))

    assert prepared.rows((first.pk, third.pk)) == [{"pk": first.pk}, {"pk": third.pk}]
    assert prepared.rows((second.pk, third.pk)) == [{"pk": second.pk}, {"pk": third.pk}]
    assert prepared.rows((second.pk,)) == [{"pk": second.pk}]
    with pytest.raises(TypeError, match="one int or more"):
        prepared.rows(())
