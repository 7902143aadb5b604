"""Each version's weight of never-bought products in its served lists, chosen on the held-out period
(``discovery.choose_new_item_weight``; RECOMMENDER_NEW_ITEM_WEIGHT "auto")."""

import numpy as np
import pytest

from recommender.ml import TrainConfig, evaluate_protocol, recommend, train_recommender
from recommender.ml.discovery import (
    NEW_ITEM_WEIGHTS,
    POPULAR_MARGIN,
    choose_new_item_weight,
    popular_bars,
)


def test_the_lowest_weight_whose_lists_clear_popular_by_the_margin_is_chosen():
    bars = popular_bars(0.05, 0.03)
    measured = {1.0: 0.02, 1.4: 0.05, 1.8: POPULAR_MARGIN * 0.05, 2.2: 0.09}

    assert choose_new_item_weight(measured, bars) == 1.8


def test_a_weight_at_popular_but_under_the_margin_is_not_enough():
    measured = {1.0: 0.050, 2.0: 0.054, 3.0: 0.060}

    assert choose_new_item_weight(measured, popular_bars(0.05, 0.05)) == 3.0


def test_the_lists_must_beat_popular_s_never_bought_ranking_too_where_a_weight_can():
    # Popular's served list finds fewer never-bought purchases than its ranking of them (UCI, October)
    bars = popular_bars(0.0306, 0.0430)
    assert bars["popular_both"] == pytest.approx(POPULAR_MARGIN * 0.0430)
    assert popular_bars(0.0430, 0.0306)["popular_both"] == pytest.approx(POPULAR_MARGIN * 0.0430)
    measured = {1.8: 0.0333, 2.0: 0.0397, 2.2: 0.0463, 2.4: 0.0528}
    # 2.0 beats the served list alone; 2.4 is the first to beat both
    assert choose_new_item_weight(measured, bars) == 2.4


def test_where_no_weight_beats_the_never_bought_ranking_the_served_list_is_the_bar():
    # a shop of regular buyers: Popular's never-bought ranking is out of reach of every weight
    bars = popular_bars(0.0247, 0.0474)
    measured = {1.0: 0.0133, 2.0: 0.0256, 2.2: 0.0287, 3.0: 0.0357}

    assert choose_new_item_weight(measured, bars) == 2.2


def test_when_no_weight_clears_popular_the_highest_measured_is_chosen():
    assert choose_new_item_weight({2.0: 0.01, 1.0: 0.0, 3.0: 0.02}, popular_bars(0.05, 0.05)) == 3.0


def test_with_nothing_measured_the_choice_is_refused_by_name():
    with pytest.raises(ValueError, match="no served lists were measured"):
        choose_new_item_weight({}, popular_bars(0.05, 0.05))


def test_the_served_lists_at_several_weights_are_those_recommend_serves(trained):
    # given the trained model and its customers with a history
    history = trained.history
    customers = np.flatnonzero(history.has_history(np.arange(history.n_customers)))[:60]
    allowed = history.product_seen.copy()

    # when the lists are ranked at three weights in one pass
    tops = trained.ranker.served_tops(
        customers, k=10, allowed=allowed, min_new_items=2, weights=(1.0, 1.6, 3.0)
    )

    # then each weight's lists are the products `recommend` serves at that weight, in its order
    for weight, top in tops.items():
        served = recommend(
            trained,
            customer_ids=history.customer_ids[customers],
            top_n=10,
            available_product_ids=history.product_ids[allowed],
            min_new_items=2,
            new_item_weight=weight,
        )
        for row, customer in enumerate(history.customer_ids[customers]):
            expected = served.loc[served["customer_id"] == customer, "product_id"].tolist()
            assert history.product_ids[top[row][top[row] >= 0]].tolist() == expected, (weight, customer)
    # and a higher weight serves more never-bought products
    bought = history.bought[customers]
    counts = {
        weight: sum(
            int(product not in bought[row].indices) for row in range(len(customers)) for product in top[row]
        )
        for weight, top in tops.items()
    }
    assert counts[1.0] < counts[3.0]


def test_the_held_out_run_chooses_the_weight_by_its_own_measurements(shop, fast_config):
    config = TrainConfig(**{**fast_config.as_dict(), "run_als": False})

    trained = train_recommender(**shop, config=config, served_min_new_items=1)

    choice = trained.params["new_item_weight_choice"]
    chosen = trained.params["new_item_weight_chosen"]
    assert choice["min_new_items"] == 1 and choice["margin"] == POPULAR_MARGIN
    assert [float(weight) for weight in choice["by_weight"]] == list(NEW_ITEM_WEIGHTS)
    bars = choice["bars"]
    assert bars["popular_both"] == pytest.approx(
        POPULAR_MARGIN * max(choice["popular_served_new_ndcg@10"], choice["popular_new_ndcg@10"])
    )
    assert bars["popular_served_list"] == pytest.approx(POPULAR_MARGIN * choice["popular_served_new_ndcg@10"])
    new = {float(weight): values["new_ndcg@10"] for weight, values in choice["by_weight"].items()}
    # the chosen weight is the lowest to reach the first bar any weight reaches (or the last measured)
    reachable = [bar for bar in bars.values() if max(new.values()) >= bar]
    if reachable:
        assert new[chosen] >= reachable[0]
        assert all(new[weight] < reachable[0] for weight in NEW_ITEM_WEIGHTS if weight < chosen)
        assert choice["bar_reached"] == next(name for name, bar in bars.items() if new[chosen] >= bar)
    else:
        assert chosen == NEW_ITEM_WEIGHTS[-1] and choice["bar_reached"] is None
    # each weight records the first bar its lists reach
    for values in choice["by_weight"].values():
        assert values["bar_reached"] == next(
            (name for name, bar in bars.items() if values["new_ndcg@10"] >= bar), None
        )
    # a higher weight finds more of the never-bought purchases
    assert new[NEW_ITEM_WEIGHTS[-1]] > new[1.0]


def test_the_choice_measures_the_lists_as_the_protocol_measures_served_lists(shop, fast_config):
    config = TrainConfig(**{**fast_config.as_dict(), "run_als": False})
    cutoff = shop["order_lines"]["ordered_at"].max() - np.timedelta64(30, "D")

    result = evaluate_protocol(
        **shop,
        cutoff=cutoff,
        config=config,
        served_min_new_items=(1,),
        served_new_item_weights=(1.0, 2.0),
        discovery_min_new_items=1,
    )

    served = result["metrics"]["mlp_served"]
    by_weight = result["discovery"]["by_weight"]
    assert by_weight["1"]["ndcg@10"] == pytest.approx(served["1"]["ndcg@10"])
    assert by_weight["2"]["ndcg@10"] == pytest.approx(served["1@2"]["ndcg@10"])
    assert by_weight["2"]["new_ndcg@10"] == pytest.approx(served["1@2"]["new_items"]["ndcg@10"])
    popular = result["metrics"]["popular"]
    assert result["discovery"]["popular_served_new_ndcg@10"] == popular["served_new_ndcg@10"]
    assert result["discovery"]["popular_new_ndcg@10"] == popular["new_items"]["ndcg@10"]


def test_without_the_served_minimum_no_weight_is_chosen(trained):
    assert "new_item_weight_chosen" not in trained.params
