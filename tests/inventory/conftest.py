import datetime as dt
from decimal import Decimal

import pytest

from crm.models import Order
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

AS_OF = dt.date(2024, 3, 4)


def sold(product, day: dt.date, quantity: int, *, customer=None, status=Order.Status.COMPLETED):
    order = OrderFactory(
        customer=customer,
        placed_at=dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
        status=status,
    )
    return OrderLineFactory(order=order, product=product, quantity=quantity, unit_price=Decimal("2.50"))


@pytest.fixture
def small_shop(db):
    """Three products sold every weekday for 20 weeks before AS_OF (6, 2 and 1 units a day), one not
    sold for two years, a return, a cancelled order and a postage line that are not demand."""
    customer = CustomerFactory()
    fast = ProductFactory(external_id="FAST", stock=40)
    slow = ProductFactory(external_id="SLOW", stock=500)
    rare = ProductFactory(external_id="RARE", stock=None)
    old = ProductFactory(external_id="OLD", stock=3)
    start = AS_OF - dt.timedelta(weeks=20)
    day = start
    while day < AS_OF:
        if day.weekday() < 5:
            order = OrderFactory(
                customer=customer, placed_at=dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
            )
            OrderLineFactory(order=order, product=fast, quantity=6, line_number=1)
            OrderLineFactory(order=order, product=slow, quantity=2, line_number=2)
            OrderLineFactory(order=order, product=rare, quantity=1, line_number=3)
        day += dt.timedelta(days=1)
    sold(old, AS_OF - dt.timedelta(days=800), 5, customer=customer)
    # not demand: a return, a cancelled order, a postage line, and sales on or after the as-of date
    sold(fast, AS_OF - dt.timedelta(days=3), -50, customer=customer, status=Order.Status.RETURNED)
    sold(fast, AS_OF - dt.timedelta(days=3), 900, customer=customer, status=Order.Status.CANCELLED)
    postage = OrderFactory(customer=customer, placed_at=dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC))
    OrderLineFactory(order=postage, product=None, item_code="POST", quantity=1)
    sold(fast, AS_OF, 1000, customer=customer)
    sold(fast, AS_OF + dt.timedelta(days=2), 1000, customer=customer)
    return {"fast": fast, "slow": slow, "rare": rare, "old": old}
