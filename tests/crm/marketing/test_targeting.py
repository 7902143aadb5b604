import numpy as np
import pytest
from scipy import stats

from crm.marketing import targeting, uplift


def test_expected_value_is_probability_times_margin_summed_over_products():
    probabilities = np.array([[0.5, 0.1], [0.0, 0.2]])
    margins = np.array([2.0, 10.0])
    assert targeting.expected_values(probabilities, margins).tolist() == pytest.approx([2.0, 2.0])
    assert targeting.any_purchase_probability(probabilities).tolist() == pytest.approx([0.55, 0.2])
    with pytest.raises(ValueError, match="one margin per product"):
        targeting.expected_values(probabilities, np.array([1.0]))


def test_audience_is_the_best_eligible_customers_ties_by_customer_id():
    customer_ids = np.array([10, 11, 12, 13, 14])
    values = np.array([1.0, 5.0, 3.0, 5.0, 4.0])
    eligible = np.array([True, True, True, False, True])

    chosen = targeting.select_audience(customer_ids, values, eligible=eligible, audience_size=3)

    assert customer_ids[chosen].tolist() == [11, 14, 12]
    everyone = targeting.select_audience(customer_ids, values, eligible=np.ones(5, bool), audience_size=10)
    assert customer_ids[everyone].tolist() == [11, 13, 14, 12, 10]


def test_equal_values_go_to_the_likelier_buyers_first():
    """A 100% discount leaves no margin: every value was 0, and the audience came in id order."""
    customer_ids = np.array([10, 11, 12, 13])
    values = np.zeros(4)
    scores = np.array([0.1, 0.7, 0.7, 0.4])

    chosen = targeting.select_audience(
        customer_ids, values, eligible=np.ones(4, bool), audience_size=3, scores=scores
    )

    assert customer_ids[chosen].tolist() == [11, 12, 13]


def test_control_split_is_reproducible_and_sized_by_share():
    first = targeting.control_mask(1000, control_share=0.2, seed=7, promotion_id=3)
    again = targeting.control_mask(1000, control_share=0.2, seed=7, promotion_id=3)
    other_promotion = targeting.control_mask(1000, control_share=0.2, seed=7, promotion_id=4)

    assert first.sum() == 200
    assert (first == again).all()
    assert not (first == other_promotion).all()
    # spread over the ranking, not the tail of it
    assert 60 < first[:500].sum() < 140
    assert targeting.control_mask(7, control_share=0.0, seed=0, promotion_id=1).sum() == 0
    with pytest.raises(ValueError, match="between 0 and 0.5"):
        targeting.control_mask(10, control_share=0.6, seed=0, promotion_id=1)


def test_category_purchase_rates_without_history_are_zero():
    rates = targeting.category_purchase_rates(np.array([2, 0, 0]), np.array([4, 3, 0]))
    assert rates.tolist() == [0.4, 0.0, 0.0]


def test_a_category_purchase_rate_is_never_a_certainty():
    """One purchase day, with the category, read as 100%; five of five ranked no higher."""
    rates = targeting.category_purchase_rates(np.array([1, 5]), np.array([1, 5]))
    assert rates.tolist() == [0.5, 5 / 6]


@pytest.mark.parametrize(
    ("counts", "published"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, table II, method 10
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.0582, 0.8062)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ],
)
def test_conversion_uplift_interval_matches_newcombe(counts, published):
    difference = uplift.proportion_difference(*counts)
    assert difference.estimate == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (round(difference.low, 4), round(difference.high, 4)) == published


def test_revenue_uplift_is_welch_interval():
    rng = np.random.default_rng(5)
    target = rng.gamma(2.0, 6.0, size=400)  # planted: mean 12
    control = rng.gamma(2.0, 4.0, size=100)  # mean 8

    difference = uplift.mean_difference(target, control)

    reference = stats.ttest_ind(target, control, equal_var=False).confidence_interval(0.95)
    assert difference.estimate == pytest.approx(target.mean() - control.mean())
    assert (difference.low, difference.high) == pytest.approx((reference.low, reference.high))
    assert difference.low > 0
    with pytest.raises(ValueError, match="at least two"):
        uplift.mean_difference(target, control[:1])
