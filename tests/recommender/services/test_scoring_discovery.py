"""RECOMMENDER_MIN_NEW_ITEMS and RECOMMENDER_NEW_ITEM_WEIGHT: served lists hold products the customer
never bought."""

import datetime as dt

import numpy as np
import pytest

from crm.services.demo_data import generate_demo_data
from recommender import ml
from recommender.ml.discovery import NEW_ITEM_WEIGHTS
from recommender.models import ModelVersion, Recommendation
from recommender.services import frames
from recommender.services.scoring import (
    model_version_score,
    model_version_score_range,
    model_version_score_start,
    scoring_ranges,
    trained_model_for,
)
from recommender.services.training import model_version_train

pytestmark = pytest.mark.django_db

FAST = {"epochs": 2, "run_als": False, "training_windows": 2, "patience": 1}


def _trained_version(settings, *, min_new_items, new_item_weight, customers, products, seed):
    """A demo shop (20 orders a customer, 12 months), served lists of 10 with these
    discovery settings, and a version trained on it."""
    generate_demo_data(
        customers=customers,
        products=products,
        orders=customers * 20,
        seed=seed,
        start=dt.date(2024, 1, 1),
        months=12,
    )
    settings.RECOMMENDER_TOP_N = 10
    settings.RECOMMENDER_ALLOW_BOUGHT = True
    settings.RECOMMENDER_MAX_PER_CATEGORY = 0
    settings.RECOMMENDER_MIN_NEW_ITEMS = min_new_items
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = new_item_weight
    return model_version_train(model_version=ModelVersion.objects.create(params={"config": FAST}))


def _stored_rows(version) -> list[tuple[int, int, int]]:
    """The version's stored rows as (customer_id, product_id, rank), by customer then rank."""
    return list(
        Recommendation.objects.filter(model_version=version)
        .order_by("customer_id", "rank")
        .values_list("customer_id", "product_id", "rank")
    )


def _rows(recommended) -> list[tuple[int, int, int]]:
    """``ml.recommend``'s frame as the same (customer_id, product_id, rank) rows."""
    return list(recommended[["customer_id", "product_id", "rank"]].itertuples(index=False, name=None))


def test_served_lists_hold_the_minimum_of_never_bought_products_in_the_models_order(settings):
    # given a trained version and customers whose plain top 10 is mostly what they already buy
    version = _trained_version(
        settings, min_new_items=3, new_item_weight=1.0, customers=120, products=60, seed=5
    )
    model = trained_model_for(version)
    # bought = kept: a line returned in full is not a purchase (the model's own cleaning)
    purchases = ml.clean_order_lines(frames.order_line_frame())
    bought = purchases.groupby("customer_id")["product_id"].apply(set).to_dict()
    customer_ids = np.array(sorted(bought), dtype="int64")
    available = frames.available_product_ids()
    plain = ml.recommend(model, customer_ids=customer_ids, top_n=10, available_product_ids=available)
    plain_new = plain.apply(lambda row: row.product_id not in bought[row.customer_id], axis=1)
    few_new = plain.assign(new=plain_new).groupby("customer_id")["new"].sum()
    assert (few_new < 3).any(), "some plain lists should hold fewer than 3 new products"

    # when the version is scored for serving
    model_version_score(model_version=version)

    # then every served list holds 3 never-bought products: the model's best new ones, best first
    wide = ml.recommend(model, customer_ids=customer_ids, top_n=60, available_product_ids=available)
    for customer_id in few_new.index[few_new < 3]:
        served = list(
            Recommendation.objects.filter(model_version=version, customer_id=customer_id)
            .order_by("rank")
            .values_list("product_id", flat=True)
        )
        assert len(served) == 10
        mine = bought[customer_id]
        new_served = [product for product in served if product not in mine]
        best_new = [
            product
            for product in wide[wide["customer_id"] == customer_id]["product_id"]
            if product not in mine
        ]
        assert len(new_served) == min(3, len(best_new))
        assert new_served == best_new[: len(new_served)]


def test_served_lists_are_ordered_with_the_new_item_weight_setting(settings):
    # given a trained version and the discovery settings of a shop
    version = _trained_version(
        settings, min_new_items=0, new_item_weight=3.0, customers=80, products=50, seed=7
    )
    model = trained_model_for(version)
    customer_ids = np.array(
        sorted(ml.clean_order_lines(frames.order_line_frame())["customer_id"].unique()), dtype="int64"
    )
    available = frames.available_product_ids()
    weighted = ml.recommend(
        model, customer_ids=customer_ids, top_n=10, available_product_ids=available, new_item_weight=3.0
    )
    plain = ml.recommend(model, customer_ids=customer_ids, top_n=10, available_product_ids=available)
    assert not weighted[["customer_id", "product_id"]].equals(plain[["customer_id", "product_id"]])

    # when the version is scored for serving
    model_version_score(model_version=version)

    # then the stored lists are the weighted ones, rank for rank
    stored = _stored_rows(version)
    served_customers = {row[0] for row in stored}
    assert served_customers.issuperset(customer_ids)
    stored = [row for row in stored if row[0] in set(customer_ids.tolist())]
    assert stored == _rows(weighted)


def test_a_scoring_keeps_the_list_settings_it_began_with_and_the_version_records_them(settings):
    # given a trained version and a shop's list settings when its scoring begins
    version = _trained_version(
        settings, min_new_items=2, new_item_weight=1.5, customers=120, products=60, seed=11
    )
    model = trained_model_for(version)
    at_start = {
        "top_n": 10,
        "allow_bought": True,
        "max_per_category": 0,
        "min_new_items": 2,
        "new_item_weight": 1.5,
        "explanations": settings.RECOMMENDER_EXPLANATIONS,
    }
    scored = model_version_score_start(model_version=version)
    ranges = scoring_ranges(scored, chunk_size=40)
    assert len(ranges) >= 3

    # when the settings change while the chunks run (a worker started with other ones)
    settings.RECOMMENDER_TOP_N = 5
    settings.RECOMMENDER_MIN_NEW_ITEMS = 0
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = 3.0
    for low, high in ranges:
        model_version_score_range(model_version=ModelVersion.objects.get(pk=version.pk), low=low, high=high)

    # then every chunk followed the settings of the start, and the version says what they were
    expected = ml.recommend(
        model, customer_ids=scored, available_product_ids=frames.available_product_ids(), **at_start
    )
    stored = _stored_rows(version)
    assert stored == _rows(expected)
    assert max(rank for _, _, rank in stored) == 10
    assert ModelVersion.objects.get(pk=version.pk).params["served_lists"] == at_start


def test_with_the_weight_auto_a_version_serves_the_weight_its_training_chose(settings):
    # given a version trained with RECOMMENDER_NEW_ITEM_WEIGHT "auto"
    version = _trained_version(
        settings, min_new_items=1, new_item_weight="auto", customers=80, products=50, seed=13
    )
    chosen = version.params[ModelVersion.NEW_ITEM_WEIGHT_PARAM]
    assert chosen in NEW_ITEM_WEIGHTS
    assert version.params["new_item_weight_choice"]["new_item_weight"] == chosen

    # when it is scored for serving
    model_version_score(model_version=version)

    # then its lists were ordered by the weight it chose, and the version says so
    version.refresh_from_db()
    assert version.served_lists["new_item_weight"] == chosen
    model = trained_model_for(version)
    expected = ml.recommend(
        model,
        customer_ids=np.array(sorted({row[0] for row in _stored_rows(version)}), dtype="int64"),
        available_product_ids=frames.available_product_ids(),
        **version.served_lists,
    )
    assert _stored_rows(version) == _rows(expected)


def test_a_weight_set_for_every_version_overrides_the_one_it_chose(settings):
    version = _trained_version(
        settings, min_new_items=1, new_item_weight="auto", customers=60, products=40, seed=17
    )
    settings.RECOMMENDER_NEW_ITEM_WEIGHT = 2.7

    model_version_score(model_version=version)

    version.refresh_from_db()
    assert version.served_lists["new_item_weight"] == 2.7
