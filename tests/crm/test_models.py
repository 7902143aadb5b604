import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from crm.models import Customer, Order, OrderLine, Product
from tests.factories import (
    CustomerFactory,
    CustomerSegmentFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    PromotionFactory,
    PromotionTargetFactory,
)

pytestmark = pytest.mark.django_db


def _violates(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


def test_external_ids_are_unique():
    customer = CustomerFactory()
    product = ProductFactory()
    order = OrderFactory()

    assert _violates(lambda: Customer.objects.create(external_id=customer.external_id))
    assert _violates(lambda: Product.objects.create(external_id=product.external_id, name="Twin"))
    assert _violates(lambda: Order.objects.create(external_id=order.external_id, placed_at=order.placed_at))


def test_an_order_line_number_is_unique_within_its_order():
    line = OrderLineFactory(line_number=1)

    assert _violates(lambda: OrderLineFactory(order=line.order, line_number=1))
    assert not _violates(lambda: OrderLineFactory(order=line.order, line_number=2))
    assert not _violates(lambda: OrderLineFactory(line_number=1))


def test_a_product_with_order_lines_cannot_be_deleted():
    line = OrderLineFactory()

    with pytest.raises(Exception, match="protected"):
        line.product.delete()


def test_order_line_amount_and_return():
    line = OrderLineFactory(quantity=-2, unit_price=Decimal("3.50"), discount=Decimal("0.50"))

    assert line.is_return and line.amount == Decimal("-7.50")


def test_sales_exclude_returned_and_cancelled_orders():
    completed = OrderFactory()
    OrderFactory(status=Order.Status.RETURNED)
    OrderFactory(status=Order.Status.CANCELLED)

    assert list(Order.objects.sales()) == [completed]


def test_guest_orders_have_no_customer():
    order = OrderFactory(customer=None)

    OrderLineFactory(order=order, product=None, item_code="POST")

    assert OrderLine.objects.get(order=order).product is None


def test_promotion_window_and_control_share_are_checked():
    start = dt.date(2024, 5, 1)

    assert _violates(lambda: PromotionFactory(starts_on=start, ends_on=start - dt.timedelta(days=1)))
    assert _violates(lambda: PromotionFactory(control_share=0.9))
    assert not _violates(lambda: PromotionFactory(starts_on=start, ends_on=start, control_share=0.5))


def test_one_segment_per_customer_per_run_and_one_target_per_customer_per_promotion():
    segment = CustomerSegmentFactory()
    target = PromotionTargetFactory()

    assert _violates(lambda: CustomerSegmentFactory(run=segment.run, customer=segment.customer))
    assert _violates(lambda: PromotionTargetFactory(promotion=target.promotion, customer=target.customer))
