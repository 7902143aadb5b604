"""The served lists' share of products the customer never bought (RECOMMENDER_NEW_ITEM_WEIGHT,
RECOMMENDER_MIN_NEW_ITEMS)."""

import numpy as np
import pytest

from recommender.ml import recommend
from recommender.ml.discovery import DISCOVERY_PLACES, served_order
from recommender.ml.score import keep_new_items, new_item_order


def _kept(row, is_new, *, top_n, min_new):
    keep = keep_new_items(np.array(row), np.array(is_new, dtype=bool), top_n=top_n, min_new=min_new)
    return np.flatnonzero(keep).tolist()


def test_a_list_of_bought_products_gives_its_last_places_to_the_best_new_ones():
    # given one customer's ranked candidates: five bought products, then new ones in the ranker's order
    is_new = [False, False, False, False, False, True, False, True, True]

    kept = _kept([0] * 9, is_new, top_n=5, min_new=2)

    # then the three best bought products and the two best new products, still in ranked order
    assert kept == [0, 1, 2, 5, 7]


def test_a_list_that_already_holds_enough_new_products_is_unchanged():
    is_new = [True, False, True, False, False, False, True]

    assert _kept([0] * 7, is_new, top_n=5, min_new=2) == [0, 1, 2, 3, 4]
    assert _kept([0] * 7, is_new, top_n=5, min_new=0) == [0, 1, 2, 3, 4]


def test_each_row_is_decided_on_its_own_and_short_rows_keep_what_they_have():
    row = [0, 0, 0, 0, 1, 1, 1, 2, 2]
    is_new = [False, False, False, True, False, False, False, False, True]

    kept = _kept(row, is_new, top_n=2, min_new=1)

    # row 0: best bought + its only new one; row 1: no new product to give; row 2: both fit anyway
    assert kept == [0, 3, 4, 5, 7, 8]


def test_more_new_products_asked_than_places_fills_the_list_with_new_ones():
    is_new = [False, False, True, True, True, True]

    assert _kept([0] * 6, is_new, top_n=3, min_new=5) == [2, 3, 4]


def test_the_minimum_is_held_in_a_lists_first_places_and_the_rest_follows_the_ranker():
    # given one customer's 12 ranked candidates: ten bought products, then two new ones
    is_new = [False] * 10 + [True, True]

    served = served_order(np.zeros(12, int), np.array(is_new), top_n=10, min_new=1).tolist()

    # then the best new product takes the last of the first places, and the bought products it
    # displaced follow it, still in the ranker's order
    assert len(served) == 10
    assert served[DISCOVERY_PLACES - 1] == 10
    assert served[: DISCOVERY_PLACES - 1] == list(range(DISCOVERY_PLACES - 1))
    assert served[DISCOVERY_PLACES:] == [DISCOVERY_PLACES - 1, DISCOVERY_PLACES]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="min_new"):
        keep_new_items(np.zeros(2, int), np.zeros(2, bool), top_n=2, min_new=-1)
    with pytest.raises(ValueError, match="top_n"):
        keep_new_items(np.zeros(2, int), np.zeros(2, bool), top_n=0, min_new=1)


def test_a_regular_customers_served_list_holds_new_products_in_the_mlps_order(trained, shop):
    # given customers whose plain top 10 is mostly what they already buy
    customers = shop["customers"]["customer_id"].to_numpy()[:40]
    bought = shop["order_lines"][["customer_id", "product_id"]].drop_duplicates()
    bought_by = bought.groupby("customer_id")["product_id"].apply(set)
    plain = recommend(trained, customer_ids=customers, top_n=10)
    plain_new = plain.apply(lambda row: row.product_id not in bought_by[row.customer_id], axis=1)
    regular = plain[~plain_new].groupby("customer_id").size()
    assert (regular >= 8).any(), "the shop should have customers whose list is mostly repeat buying"

    # when at least 3 never-bought products are asked for, in lists of 20
    served = recommend(trained, customer_ids=customers, top_n=20, min_new_items=3)

    # then every list's first places (what a page shows) hold at least 3 of them, the best new ones of
    # the full ranking, and the places after them go on in the ranker's order
    wide = recommend(trained, customer_ids=customers, top_n=60)
    for customer, rows in served.groupby("customer_id"):
        mine = bought_by[customer]
        first = rows[rows["rank"] <= DISCOVERY_PLACES]
        new_first = [product for product in first["product_id"] if product not in mine]
        new_shown = [product for product in rows["product_id"] if product not in mine]
        ranked_new = [
            product for product in wide[wide["customer_id"] == customer]["product_id"] if product not in mine
        ]
        assert len(new_first) >= min(3, len(ranked_new))
        assert new_shown == ranked_new[: len(new_shown)]
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
        assert first["score"][~first["product_id"].isin(new_first)].is_monotonic_decreasing
        assert rows[rows["rank"] > DISCOVERY_PLACES]["score"].is_monotonic_decreasing
        rows = rows[rows["rank"] <= 10]
        # the bought products kept are the best bought ones of the plain list
        bought_shown = [product for product in rows["product_id"] if product in mine]
        plain_bought = [
            product for product in plain[plain["customer_id"] == customer]["product_id"] if product in mine
        ]
        assert bought_shown == plain_bought[: len(bought_shown)]


def test_the_weight_multiplies_only_never_bought_products_scores():
    scores = np.array([0.6, 0.3, 0.2])
    is_new = np.array([False, True, True])

    assert new_item_order(scores, is_new, 1.0).tolist() == [0.6, 0.3, 0.2]
    assert new_item_order(scores, is_new, 2.5).tolist() == pytest.approx([0.6, 0.75, 0.5])


def test_a_new_item_weight_orders_served_lists_by_the_weighted_score_and_keeps_the_networks(trained, shop):
    # given customers of the shop and what each bought
    customers = shop["customers"]["customer_id"].to_numpy()[:40]
    bought = shop["order_lines"][["customer_id", "product_id"]].drop_duplicates()
    bought_by = bought.groupby("customer_id")["product_id"].apply(set)
    plain = recommend(trained, customer_ids=customers, top_n=10)

    # when never-bought products' scores count three times
    served = recommend(trained, customer_ids=customers, top_n=10, new_item_weight=3.0)

    # then each list runs down the weighted score, while the score column is still the network's
    wide = recommend(trained, customer_ids=customers, top_n=200)
    network = dict(zip(zip(wide["customer_id"], wide["product_id"], strict=True), wide["score"], strict=True))
    new_counts = []
    for customer, rows in served.groupby("customer_id"):
        mine = bought_by[customer]
        is_new = np.array([product not in mine for product in rows["product_id"]])
        weighted = np.where(is_new, rows["score"] * 3.0, rows["score"])
        assert np.all(np.diff(weighted) <= 1e-6)
        for product, score in zip(rows["product_id"], rows["score"], strict=True):
            assert score == pytest.approx(network[(customer, product)])
        new_counts.append(is_new.sum())
    plain_new = plain.apply(lambda row: row.product_id not in bought_by[row.customer_id], axis=1)
    # and the lists hold more products the customer has not found yet than the plain ones
    assert np.mean(new_counts) > plain_new.groupby(plain["customer_id"]).sum().mean()


def test_a_weight_of_zero_or_less_is_refused(trained, shop):
    customers = shop["customers"]["customer_id"].to_numpy()[:2]
    with pytest.raises(ValueError, match="new_item_weight"):
        recommend(trained, customer_ids=customers, top_n=5, new_item_weight=0)
