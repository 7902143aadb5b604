"""Reorder decisions from forecasts (``replenishment``), by hand."""

import numpy as np
import pytest

from inventory.forecasting import replenishment


def test_replenishment_plan_by_hand():
    daily = np.ones((3, 28))  # one unit a day
    plan = replenishment.replenishment_plan(
        daily_mean=daily,
        dispersion=np.ones(3),
        on_hand=np.array([5, 1000, 0]),
        lead_time_days=np.array([10, 10, 40]),
        review_days=7,
        service_level=0.95,
        min_order_qty=np.array([0, 0, 60]),
        pack_size=np.array([12, 12, 25]),
    )
    assert plan.lead_time_demand.tolist() == [10.0, 10.0, 40.0]  # past the horizon the rate continues
    # safety stock: z(95%) * sqrt(17 days of Poisson demand) = 1.645 * 4.12 -> 7
    assert plan.safety_stock[0] == 7
    assert plan.reorder_point.tolist()[:2] == [24, 24]  # the order-up-to level: 17 + 7
    assert plan.stockout_day.tolist() == [5, -1, 0]
    # product 1 orders up to 17 + 7 = 24, less 5 on hand = 19 -> two packs of 12
    assert plan.order_quantity.tolist()[:2] == [24, 0]
    # product 3: needs 47 + 11 units, at least 60, in packs of 25 -> 75
    assert plan.order_quantity[2] == 75


def _plan(daily: np.ndarray, **overrides) -> replenishment.ReplenishmentPlan:
    n = daily.shape[0]
    arguments = {
        "daily_mean": daily,
        "dispersion": np.ones(n),
        "on_hand": np.zeros(n),
        "lead_time_days": np.full(n, 7),
        "review_days": 7,
        "service_level": 0.95,
        "service_measure": "fill_rate",
        "min_order_qty": np.zeros(n),
        "pack_size": np.ones(n),
    } | overrides
    return replenishment.replenishment_plan(**arguments)


@pytest.mark.parametrize(
    ("mean", "dispersion", "level"), [(3.0, 1.0, 2), (3.0, 4.0, 5), (0.5, 10.0, 1), (40, 3, 0)]
)
def test_expected_shortage_is_the_sum_over_the_distribution(mean, dispersion, level):
    from scipy import stats

    units = np.arange(0, 5_000)
    if dispersion == 1.0:
        probability = stats.poisson.pmf(units, mean)
    else:
        p = 1 / dispersion
        probability = stats.nbinom.pmf(units, mean * p / (1 - p), p)
    by_sum = (np.maximum(units - level, 0) * probability).sum()
    shortage = replenishment.expected_shortage(np.array([level]), np.array([mean]), np.array([dispersion]))
    assert shortage[0] == pytest.approx(by_sum, rel=1e-9)


def test_fill_rate_safety_stock_of_a_smooth_product_follows_the_normal_loss_function():
    from scipy import optimize, stats

    # 10 units a day, variance twice the mean, 14 days' lead time and weekly reviews: 210 units over
    # lead time + review (standard deviation sqrt(420)), 70 in a review period; 95% fill rate allows
    # 3.5 units short per cycle, so G(k) = 3.5 / sqrt(420) with G the standard normal loss function.
    plan = _plan(np.full((1, 28), 10.0), dispersion=np.array([2.0]), lead_time_days=np.array([14]))
    spread = np.sqrt(420.0)
    k = optimize.brentq(lambda k: stats.norm.pdf(k) - k * stats.norm.sf(k) - 3.5 / spread, -5, 5)
    assert k == pytest.approx(0.6, abs=0.01)
    assert plan.lead_time_demand[0] == pytest.approx(140)
    assert plan.safety_stock[0] == pytest.approx(k * spread, abs=1.5)  # 12.3; whole units, skew of the counts
    assert plan.order_up_to[0] == pytest.approx(210 + plan.safety_stock[0], abs=0.5)
    assert plan.reorder_point[0] == plan.order_up_to[0]


def test_fill_rate_stock_of_an_intermittent_product_by_hand():
    # one unit every 14 days on average, Poisson: 1 unit over lead time + review, 0.5 over the lead
    # time, 0.5 per review period. At 90%, 0.05 units short per cycle are allowed. Units short per
    # cycle with S on hand + on order, E[(D(1) - S)+] - E[(D(0.5) - S)+]:
    #   S = 2: 0.1036 - 0.0163 = 0.087 (too many), S = 3: 0.0233 - 0.0019 = 0.021 -> S = 3.
    plan = _plan(np.full((1, 28), 1 / 14), service_level=0.90)
    assert plan.order_up_to[0] == 3
    assert plan.safety_stock[0] == 2
    assert plan.reorder_point[0] == 3
    assert plan.order_quantity[0] == 3  # nothing on hand
    # lumpier demand with the same mean needs more stock for the same fill rate
    lumpy = _plan(np.full((1, 28), 1 / 14), service_level=0.90, dispersion=np.array([6.0]))
    assert lumpy.order_up_to[0] > 3


def test_fill_rate_safety_stock_is_negative_for_steady_sellers_and_the_levels_never_are():
    daily = np.array([np.full(28, 100.0), np.full(28, 1.0), np.zeros(28)])
    plan = _plan(
        daily,
        service_level=0.8,
        lead_time_days=np.array([7, 70, 7]),
        on_hand=np.array([0, 0, 4]),
    )
    # 700 units a review period, Poisson: the 20% allowed short (140 units) is far more than the spread
    # of the demand over lead time + review (sqrt(1400) = 37), so S is about 1400 - 140.
    assert plan.safety_stock[0] == pytest.approx(-140, abs=3)
    assert plan.reorder_point[0] == pytest.approx(1400 - 140, abs=3)
    assert (plan.order_up_to >= 0).all() and (plan.reorder_point >= 0).all()
    # nothing forecast: nothing kept, nothing ordered
    assert (plan.order_up_to[2], plan.reorder_point[2], plan.order_quantity[2]) == (0, 0, 0)


def test_stock_that_lasts_the_lead_time_but_not_the_review_period_after_it_is_topped_up():
    # One unit a day, 7 days' lead time, weekly reviews: an order placed at the next review arrives 14
    # days from now; safety stock z(95%) x sqrt(14) -> 7, so the level is 21. 16 units cover the lead
    # time and its safety stock but leave the week after it short if nothing is ordered now.
    plan = _plan(np.ones((3, 28)), service_measure="cycle", on_hand=np.array([16, 21, 30]))
    assert plan.order_up_to.tolist() == plan.reorder_point.tolist() == [21, 21, 21]
    assert plan.order_quantity.tolist() == [5, 0, 0]


@pytest.mark.parametrize("measure", ["fill_rate", "cycle"])
def test_units_on_order_are_subtracted_from_the_order_not_from_the_stock_out(measure):
    daily = np.ones((3, 28))
    common = {
        "on_hand": np.array([5, 5, 5]),
        "lead_time_days": np.full(3, 10),
        "pack_size": np.array([1, 1, 1]),
        "min_order_qty": np.zeros(3),
        "service_measure": measure,
    }
    without = _plan(daily, **common)
    plan = _plan(daily, on_order=np.array([0, 8, 100]), **common)
    assert without.order_quantity[0] > 8
    assert plan.order_quantity[0] == without.order_quantity[0]
    assert plan.order_quantity[1] == without.order_quantity[1] - 8
    assert plan.order_quantity[2] == 0  # enough on its way
    assert plan.stockout_day.tolist() == without.stockout_day.tolist() == [5, 5, 5]


def test_an_unknown_service_measure_or_a_level_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="fill_rate, cycle"):
        _plan(np.ones((1, 28)), service_measure="type 3")
    for level in (0.0, 1.0, 95):
        with pytest.raises(ValueError, match="between 0 and 1"):
            _plan(np.ones((1, 28)), service_level=level)
