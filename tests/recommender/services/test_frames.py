"""The frames the recommender reads from the database."""

import pytest

from recommender.ml.data import check_products, clean_order_lines
from recommender.services import frames
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_the_product_frame_carries_each_products_name_for_the_name_word_features():
    lantern = ProductFactory(name="Red heart lantern")
    mug = ProductFactory(name="Blue star mug")

    products = check_products(frames.product_frame(), clean_order_lines(frames.order_line_frame()))

    names = dict(zip(products["product_id"], products["name"], strict=True))
    assert names == {lantern.pk: "Red heart lantern", mug.pk: "Blue star mug"}
