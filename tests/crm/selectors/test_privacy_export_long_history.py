"""A shopper with a long history gets their data export (a demo shopper's download answered 500 on SQLite:
the export prefetched lines and products with one IN list per order and product)."""

from crm.models import Order
from crm.selectors.privacy import customer_data_export
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory


def test_the_export_of_a_customer_with_more_orders_and_products_than_one_statement_takes(db):
    customer = CustomerFactory()
    products = ProductFactory.create_batch(1100)
    for number, product in enumerate(products):
        order = OrderFactory(customer=customer, external_id=f"LONG-{number}")
        OrderLineFactory(order=order, product=product, line_number=1)

    document = customer_data_export(customer=customer)

    assert len(document["orders"]) == Order.objects.filter(customer=customer).count() == 1100
    assert all(len(order["lines"]) == 1 for order in document["orders"])
    assert {line["product_id"] for order in document["orders"] for line in order["lines"]} == {
        product.external_id for product in products
    }
