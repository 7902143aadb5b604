"""Bulk deletes in batches, against the test database (PostgreSQL in CI)."""

import pytest

from core.bulk import bulk_delete
from crm.models import Basket, Order, OrderLine
from tests.factories import BasketFactory, OrderFactory, OrderLineFactory


@pytest.mark.django_db
def test_a_delete_in_batches_reaches_related_rows_as_one_delete_would():
    orders = [OrderFactory() for _ in range(5)]
    for order in orders:
        OrderLineFactory(order=order)
    basket = BasketFactory(order=orders[0])
    kept = OrderFactory()

    deleted = bulk_delete(Order.objects.exclude(pk=kept.pk), batch_size=2)

    assert deleted == 10  # five orders and their five lines
    assert list(Order.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not OrderLine.objects.exists()
    basket.refresh_from_db()
    assert basket.order_id is None  # SET_NULL, as Order.delete() does
    assert Basket.objects.count() == 1
