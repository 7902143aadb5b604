import numpy as np
import pytest

from recommender.ml.evaluate import ranking_metrics


def test_metrics_of_hand_made_rankings():
    # given: customer 0 finds products 1 (rank 1) and 3 (rank 3) of its 4; customer 1 finds nothing
    recommended = np.array([[1, 2, 3], [5, 6, 7]])
    relevant = [{1, 3, 8, 9}, {4}]

    # when
    metrics = ranking_metrics(recommended, relevant, k=3, catalogue_size=10)

    # then
    dcg = 1 / np.log2(2) + 1 / np.log2(4)
    ideal = 1 / np.log2(2) + 1 / np.log2(3) + 1 / np.log2(4)
    assert metrics["ndcg@3"] == pytest.approx((dcg / ideal + 0) / 2)
    assert metrics["recall@3"] == pytest.approx((2 / 4 + 0) / 2)
    assert metrics["hit_rate@3"] == pytest.approx(0.5)
    assert metrics["precision@3"] == pytest.approx((2 / 3) / 2)
    assert metrics["map@3"] == pytest.approx(((1 / 1 + 2 / 3) / 3) / 2)
    assert metrics["coverage"] == pytest.approx(6 / 10)
    assert metrics["customers"] == 2


def test_customers_with_nothing_relevant_are_not_counted_and_empty_slots_never_hit():
    recommended = np.array([[4, -1], [2, 3]])
    relevant = [{4}, set()]

    metrics = ranking_metrics(recommended, relevant, k=2, catalogue_size=5)

    assert metrics["customers"] == 1
    assert metrics["ndcg@2"] == pytest.approx(1.0)
    assert metrics["recall@2"] == pytest.approx(1.0)
    assert metrics["precision@2"] == pytest.approx(0.5)
    assert metrics["coverage"] == pytest.approx(1 / 5)
