"""The forecasting maths on small seeded frames, without a database."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from inventory.forecasting import engine, metrics, replenishment
from inventory.forecasting.demand import demand_history, weekly

AS_OF = dt.date(2024, 3, 4)


def seeded_sales(products: int = 30, days: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp(AS_OF) - pd.Timedelta(days=days)
    for product in range(products):
        rate = rng.gamma(1.0, 2.0)
        sold = rng.poisson(rate, size=days)
        for day in np.flatnonzero(sold):
            rows.append(
                (
                    product + 1,
                    int(rng.integers(1, 20)),
                    start + pd.Timedelta(days=int(day)),
                    sold[day],
                    2.0 * sold[day],
                )
            )
    return pd.DataFrame(rows, columns=["product_id", "customer_id", "day", "units", "revenue"])


def test_demand_history_keeps_sales_before_the_as_of_date_of_products_sold_in_the_last_year():
    sales = pd.DataFrame(
        {
            "product_id": [1, 1, 2, 3],
            "day": pd.to_datetime(["2024-03-03", "2024-03-04", "2022-01-01", "2024-02-26"]),
            "units": [2.0, 5.0, 1.0, 3.0],
            "revenue": [4.0, 10.0, 2.0, 6.0],
        }
    )
    history = demand_history(sales, as_of=AS_OF, days=14)
    # product 2 sold only two years ago; the sale on the as-of date itself is not history
    assert history.product_ids.tolist() == [1, 3]
    assert history.units[0, -1] == 2.0 and history.units.sum() == 5.0
    assert weekly(history.units).tolist() == [[0.0, 2.0], [0.0, 3.0]]
    assert history.first_sale_day.tolist() == [13, 7]


def test_first_sales_older_than_the_window_move_the_first_sale_back():
    sales = pd.DataFrame({"product_id": [1], "day": pd.to_datetime(["2024-03-01"]), "units": [1.0]})
    first = pd.Series({1: dt.date(2023, 1, 1)})
    history = demand_history(sales, as_of=AS_OF, days=14, first_sales=first)
    assert history.first_sale_day[0] < 0


def test_rmsse_and_wrmsse_by_hand():
    history = np.array([[0.0, 2.0, 4.0, 2.0], [1.0, 1.0, 1.0, 3.0]])
    first = np.array([1, 0])
    scale = metrics.rmsse_scale(history, first)
    # product 1 from week 1: changes 2, -2 -> mean square 4; product 2: 0, 0, 2 -> 4/3
    assert scale == pytest.approx([4.0, 4 / 3])
    actual = np.array([[2.0, 2.0], [3.0, 3.0]])
    forecast = np.array([[4.0, 4.0], [3.0, 3.0]])
    assert metrics.rmsse(actual, forecast, scale) == pytest.approx([1.0, 0.0])
    assert metrics.wrmsse(actual, forecast, scale, np.array([1.0, 3.0])) == pytest.approx(0.25)
    baselines = metrics.baseline_forecasts(history, 2)
    assert baselines["last_week"].tolist() == [[2.0, 2.0], [3.0, 3.0]]
    assert baselines["mean_4_weeks"][1].tolist() == [1.5, 1.5]


def test_demand_classes():
    weekly_units = np.array(
        [
            [5, 5, 6, 5, 5, 6],  # every week, steady
            [1, 20, 2, 30, 1, 15],  # every week, sizes vary
            [0, 3, 0, 0, 3, 0],  # rare, same size
            [0, 1, 0, 0, 40, 0],  # rare, sizes vary
        ],
        dtype=float,
    )
    classes = engine.demand_class(weekly_units, np.zeros(4, dtype=int))
    assert classes.tolist() == ["smooth", "erratic", "intermittent", "lumpy"]


def test_interval_covers_about_the_level_of_negative_binomial_draws():
    rng = np.random.default_rng(3)
    mean, dispersion = 6.0, 3.0
    p = 1 / dispersion
    draws = rng.negative_binomial(mean * p / (1 - p), p, size=20_000)
    lower, upper = engine.interval(np.full(1, mean), np.full(1, dispersion), 80)
    inside = ((draws >= lower[0]) & (draws <= upper[0])).mean()
    assert 0.78 <= inside <= 0.92  # a discrete interval covers at least its level
    assert engine.interval(np.zeros(1), np.ones(1), 80)[1][0] == 0.0


def test_forecast_demand_gives_daily_forecasts_with_intervals_for_every_product():
    history = demand_history(seeded_sales(), as_of=AS_OF)
    result = engine.forecast_demand(history, horizon_days=10, level=80)
    n = len(history.product_ids)
    assert result.daily_mean.shape == (n, 10) and result.weekly_mean.shape == (n, 2)
    assert (result.daily_mean >= 0).all()
    assert (result.daily_lower <= result.daily_mean + 1e-9).all()
    assert (result.daily_upper >= result.daily_lower).all()
    assert set(result.model) <= set(engine.CANDIDATES)
    assert set(result.backtest) == {*engine.DEMAND_CLASSES, "all"}
    # a week of the forecast is close to the recent weekly mean of a steady product
    recent = weekly(history.units)[:, -13:].mean(axis=1)
    busy = recent > 20
    assert np.allclose(result.weekly_mean[busy, 0], recent[busy], rtol=0.35)


def test_a_steady_product_is_forecast_at_its_rate_and_split_over_trading_days():
    days = pd.date_range(end=pd.Timestamp(AS_OF) - pd.Timedelta(days=1), periods=200, freq="D")
    trading = days[days.day_of_week < 5]  # nothing sold at weekends
    sales = pd.DataFrame({"product_id": 1, "day": trading, "units": 4.0, "revenue": 4.0})
    result = engine.forecast_demand(demand_history(sales, as_of=AS_OF), horizon_days=14)
    assert result.weekly_mean[0] == pytest.approx([20.0, 20.0], rel=0.02)
    weekend = np.array([(AS_OF + dt.timedelta(days=i)).weekday() >= 5 for i in range(14)])
    assert result.daily_mean[0, weekend].max() == pytest.approx(0.0)
    assert result.daily_mean[0, ~weekend] == pytest.approx(4.0, rel=0.02)


def test_bucket_forecast_sums_days_from_the_first_and_keeps_a_short_last_bucket():
    daily = np.ones((1, 10))
    mean, lower, upper = engine.bucket_forecast(daily, np.array([1.0]), bucket_days=7, level=80)
    assert mean.tolist() == [[7.0, 3.0]]
    assert (lower <= mean).all() and (upper >= mean).all()


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
    assert plan.reorder_point.tolist()[:2] == [17, 17]
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
    assert plan.reorder_point[0] == 140 + plan.safety_stock[0]


def test_fill_rate_stock_of_an_intermittent_product_by_hand():
    # one unit every 14 days on average, Poisson: 1 unit over lead time + review, 0.5 over the lead
    # time, 0.5 per review period. At 90%, 0.05 units short per cycle are allowed. Units short per
    # cycle with S on hand + on order, E[(D(1) - S)+] - E[(D(0.5) - S)+]:
    #   S = 2: 0.1036 - 0.0163 = 0.087 (too many), S = 3: 0.0233 - 0.0019 = 0.021 -> S = 3.
    plan = _plan(np.full((1, 28), 1 / 14), service_level=0.90)
    assert plan.order_up_to[0] == 3
    assert plan.safety_stock[0] == 2
    assert plan.reorder_point[0] == 3  # ceil(0.5 + 2)
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
    assert plan.reorder_point[0] == pytest.approx(700 - 140, abs=3)
    assert (plan.order_up_to >= 0).all() and (plan.reorder_point >= 0).all()
    # nothing forecast: nothing kept, nothing ordered
    assert (plan.order_up_to[2], plan.reorder_point[2], plan.order_quantity[2]) == (0, 0, 0)


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
