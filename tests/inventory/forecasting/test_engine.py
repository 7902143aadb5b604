"""The forecasting engine on small seeded frames, without a database."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from inventory.forecasting import engine, replenishment
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


def _steady_weeks(weeks: int = 26, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).poisson(50, size=weeks).astype(float)


def test_one_exceptional_week_widens_neither_the_dispersion_nor_the_interval():
    # given a steady seller, and the same seller with one bulk order of 5,000 units 10 weeks ago
    steady = _steady_weeks()
    spiked = steady.copy()
    spiked[-10] += 5_000
    first_week = np.zeros(2, dtype=int)
    # when
    dispersion = engine.dispersion_index(np.stack([steady, spiked]), first_week)
    # then the plain variance over mean would be about 900; the winsorised one stays near the steady's
    assert spiked.var() / spiked.mean() > 500
    assert dispersion[1] < 2 * dispersion[0] + 1
    lower, upper = engine.interval(np.full(2, 50.0), dispersion, 80)
    assert upper[1] <= upper[0] + 5


def test_the_safety_stock_ignores_an_exceptional_week():
    steady = _steady_weeks()
    spiked = steady.copy()
    spiked[-3] *= 80
    dispersion = engine.dispersion_index(np.stack([steady, spiked]), np.zeros(2, dtype=int))
    plan = replenishment.replenishment_plan(
        daily_mean=np.full((2, 28), 50 / 7),
        dispersion=dispersion,
        on_hand=np.zeros(2),
        lead_time_days=np.full(2, 14),
        review_days=7,
        service_level=0.95,
        min_order_qty=np.zeros(2),
        pack_size=np.ones(2),
    )
    assert plan.safety_stock[1] <= 1.5 * plan.safety_stock[0]


def test_a_steady_series_keeps_about_its_dispersion_and_a_new_products_largest_week_counts_in_full():
    steady = _steady_weeks(seed=11)
    plain = steady.var() / steady.mean()
    winsorised = engine.dispersion_index(steady[None, :], np.zeros(1, dtype=int))[0]
    assert winsorised == pytest.approx(plain, rel=0.35)
    # a product that first sold 5 weeks ago: too few weeks to call one exceptional
    new = np.zeros(26)
    new[-5:] = [10, 12, 400, 9, 11]
    first_week = np.array([21])
    expected = new[-5:].var() / new[-5:].mean()
    assert engine.dispersion_index(new[None, :], first_week)[0] == pytest.approx(expected)


def _forecast_with_a_bulk_twin():
    """Product 1's sales twice: as product 1, and as product 99 with one order of 3,000 units; the
    forecast and each product's row in it."""
    sales = seeded_sales(products=12)
    twin = sales[sales["product_id"] == 1].assign(product_id=99)
    bulk = twin.iloc[[len(twin) // 2]].assign(units=3_000.0, revenue=6_000.0)
    history = demand_history(pd.concat([sales, twin, bulk], ignore_index=True), as_of=AS_OF)
    result = engine.forecast_demand(history, horizon_days=14)
    return result, {int(product): index for index, product in enumerate(result.product_ids)}


def test_a_forecast_gives_a_product_with_one_bulk_order_about_the_dispersion_of_its_twin_without():
    result, position = _forecast_with_a_bulk_twin()
    assert result.dispersion[position[99]] < 2 * result.dispersion[position[1]] + 1
    # (the level is the next test's; at the same level the interval is as wide)
    weekly_mean = np.full(2, result.weekly_mean[position[1], 0])
    lower, upper = engine.interval(weekly_mean, result.dispersion[[position[1], position[99]]], 80)
    assert upper[1] <= 1.5 * upper[0] + 2


def test_one_bulk_order_does_not_lift_the_level_the_models_carry_forward():
    result, position = _forecast_with_a_bulk_twin()
    assert result.weekly_mean[position[99]] == pytest.approx(result.weekly_mean[position[1]], rel=0.25)
