"""The forecasting engine on small seeded frames, without a database."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from inventory.forecasting import engine
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
