"""The portal's template filters, which the shop's pages use as well."""

from decimal import Decimal

import pytest

from portal.templatetags.portal import money


@pytest.mark.parametrize(
    ("value", "places", "written"),
    [
        (Decimal("1084.14"), 2, "£1,084.14"),
        (Decimal("-77183.6"), 2, "−£77,183.60"),  # a refund: the sign before the symbol, not "£-77,183.60"
        (Decimal("-2.55"), 2, "−£2.55"),
        (Decimal("2.345"), 2, "£2.35"),  # half up, as floatformat rounded
        (1234567.5, 0, "£1,234,568"),
        (0, 2, "£0.00"),
        (None, 2, "–"),
    ],
)
def test_money_is_written_one_way_everywhere(value, places, written):
    assert money(value, places) == written


def test_money_takes_the_shops_currency(settings):
    settings.CURRENCY_SYMBOL = "€"
    assert money(Decimal("-3.5")) == "−€3.50"
