import datetime as dt

import numpy as np
import pandas as pd
import pytest

from crm.marketing import clv
from tests.conftest import CDNOW

CALIBRATION_END = dt.date(1997, 9, 30)  # 39 weeks from 1997-01-01
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    raw = pd.read_csv(
        CDNOW / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
        dtype={"date": str},
    )
    raw["day"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return clv.clv_summary(raw[["customer_id", "day", "amount"]], calibration_end=CALIBRATION_END)


@pytest.fixture(scope="module")
def cdnow_fit(cdnow_summary) -> clv.FittedClv:
    return clv.clv_fit(cdnow_summary)


def test_summary_built_from_transactions_agrees_with_the_published_summary(cdnow_summary):
    published = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    shipped = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    merged = cdnow_summary.merge(published, left_on="customer_id", right_on="ID", validate="one_to_one")

    assert len(cdnow_summary) == len(published) == len(shipped) == 2357
    assert (merged["frequency"] == merged["x"]).all()
    assert (merged["frequency"].to_numpy() == shipped["frequency"].to_numpy()).all()
    # the published file rounds weeks and dollars to two decimals
    assert np.abs(merged["recency"] - merged["t_x"]).max() < 0.006
    assert np.abs(merged["T_x"] - merged["T_y"]).max() < 0.006
    assert np.abs(merged["monetary_value"] - merged["zbar"]).max() < 0.006


def test_cdnow_estimates_match_the_published_ones_within_two_percent(cdnow_fit):
    fitted = cdnow_fit.parameters
    for name, published in PUBLISHED_BGNBD.items():
        assert fitted["bgnbd"][name] == pytest.approx(published, rel=0.02), name
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert fitted["gamma_gamma"][name] == pytest.approx(published, rel=0.02), name
    assert fitted["spend_model"] == "gamma-gamma"


def test_clv_predictions_are_sane(cdnow_fit, cdnow_summary):
    predicted = clv.clv_predict(cdnow_fit, cdnow_summary)

    assert len(predicted) == len(cdnow_summary)
    assert predicted["p_alive"].between(0, 1).all()
    assert np.allclose(predicted["churn_risk"], 1 - predicted["p_alive"])
    assert (predicted["expected_purchases_365d"] >= predicted["expected_purchases_90d"]).all()
    assert (predicted["expected_purchases_90d"] >= 0).all()
    # 12-month value is purchases x spend per purchase
    assert np.allclose(
        predicted["predicted_clv_12m"],
        predicted["expected_purchases_365d"] * predicted["expected_order_value"],
    )
    # high value is exactly the top decile of 12-month value
    assert predicted["high_value"].sum() == int(np.ceil(len(predicted) / 10))
    assert predicted.loc[predicted["high_value"], "predicted_clv_12m"].min() >= (
        predicted.loc[~predicted["high_value"], "predicted_clv_12m"].max()
    )
    # single-purchase customers get the Gamma-Gamma population mean spend: v p / (q - 1)
    spend = cdnow_fit.parameters["gamma_gamma"]
    population_mean = spend["v"] * spend["p"] / (spend["q"] - 1)
    single = (cdnow_summary["frequency"] == 0).to_numpy()
    assert np.allclose(predicted.loc[single, "expected_order_value"], population_mean)
    # a customer who bought often and lately is more likely alive than one who bought often long ago
    recent = cdnow_summary.index[
        (cdnow_summary["frequency"] >= 5) & (cdnow_summary["T"] - cdnow_summary["recency"] < 2)
    ]
    lapsed = cdnow_summary.index[
        (cdnow_summary["frequency"] >= 5) & (cdnow_summary["T"] - cdnow_summary["recency"] > 20)
    ]
    assert predicted.loc[recent, "p_alive"].mean() > predicted.loc[lapsed, "p_alive"].mean()


def test_margin_scales_value():
    purchase_days = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2, 3, 4, 4, 5],
            "day": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-02-01",
                    "2024-03-01",
                    "2024-01-15",
                    "2024-03-20",
                    "2024-02-02",
                    "2024-01-05",
                    "2024-01-25",
                    "2024-03-01",
                ]
            ),
            "amount": [10.0, 12.0, 11.0, 30.0, 25.0, 8.0, 5.0, 7.0, 9.0],
        }
    )
    summary = clv.clv_summary(purchase_days, calibration_end=dt.date(2024, 3, 31))
    fitted = clv.clv_fit(summary)
    full = clv.clv_predict(fitted, summary)
    margin = clv.clv_predict(fitted, summary, margin=0.25)

    # too few repeat buyers for Gamma-Gamma: their own mean spend, everyone else the observed mean
    assert fitted.parameters["spend_model"] == "observed mean spend per purchase day"
    assert np.allclose(margin["predicted_clv_12m"], full["predicted_clv_12m"] * 0.25)
    assert full.set_index("customer_id").loc[2, "expected_order_value"] == pytest.approx(25.0)


def test_summary_without_repeat_purchases_cannot_be_fitted():
    purchase_days = pd.DataFrame(
        {"customer_id": [1, 2], "day": pd.to_datetime(["2024-01-01", "2024-01-02"]), "amount": [5.0, 6.0]}
    )
    summary = clv.clv_summary(purchase_days, calibration_end=dt.date(2024, 3, 31))
    with pytest.raises(ValueError, match="repeat purchase"):
        clv.clv_fit(summary)


def test_calibration_log_likelihood_matches_the_published_one(cdnow_fit):
    # Fader, Hardie & Lee (2005) report LL = -9582.4 for BG/NBD on the CDNOW calibration period
    assert clv.purchase_model_log_likelihood(cdnow_fit.bgnbd) == pytest.approx(-9582.4, abs=0.1)


def test_pareto_nbd_matches_the_published_estimates(cdnow_summary):
    # Fader & Hardie's Pareto/NBD note on CDNOW: r=0.553, alpha=10.578, s=0.606, beta=11.669, LL=-9595.0
    model = clv.fit_purchase_model(cdnow_summary, kind="pareto/nbd")
    fitted = clv.fitted_parameters(model, ("r", "alpha", "s", "beta"))
    published = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    for name, value in published.items():
        assert fitted[name] == pytest.approx(value, rel=0.02), name
    assert clv.purchase_model_log_likelihood(model) == pytest.approx(-9595.0, abs=0.1)
    # the Pareto/NBD fits CDNOW slightly worse than BG/NBD, as published
    assert clv.purchase_model_log_likelihood(model) < -9582.4


def test_unknown_purchase_model_is_named_in_the_error(cdnow_summary):
    with pytest.raises(ValueError, match="'nbd/xyz'"):
        clv.fit_purchase_model(cdnow_summary, kind="nbd/xyz")


def test_simulated_purchases_average_to_the_models_expected_purchases(cdnow_fit, cdnow_summary):
    # CDNOW's fit has real dropout (a=0.79, b=2.43), so the simulation's dropout step is exercised
    future_t = 39.0
    expected = np.asarray(
        cdnow_fit.bgnbd.expected_purchases(
            cdnow_summary[["customer_id", "frequency", "recency", "T"]], future_t=future_t
        )
    ).reshape(-1)
    simulated = np.zeros(len(cdnow_summary))
    for part, draws in clv.simulate_purchases(cdnow_fit, cdnow_summary, future_t=future_t, draws=4000):
        simulated[part] = draws.mean(axis=1)

    assert simulated.sum() == pytest.approx(expected.sum(), rel=0.02)
    frequency = cdnow_summary["frequency"].to_numpy()
    for low, high in ((0, 0), (1, 2), (3, 6), (7, 100)):
        bucket = (frequency >= low) & (frequency <= high)
        assert simulated[bucket].mean() == pytest.approx(expected[bucket].mean(), rel=0.05), (low, high)


def test_purchase_median_sits_below_the_mean_for_one_time_buyers(cdnow_fit, cdnow_summary):
    median = clv.purchase_quantile(cdnow_fit, cdnow_summary, future_t=39.0)
    again = clv.purchase_quantile(cdnow_fit, cdnow_summary, future_t=39.0)
    once = (cdnow_summary["frequency"] == 0).to_numpy()

    assert np.array_equal(median, again)  # seeded: the same forecast every time
    assert set(np.unique(median)) <= set(range(100))
    # most one-time buyers of CDNOW never come back: their median is 0 though their mean is above 0
    assert (median[once] == 0).all()
    assert median[~once].max() > 0


def seasonal_purchase_days(peak: float, *, seed: int = 3) -> pd.DataFrame:
    """Customers joining in the first half of 2022 and buying at their own steady daily rate, times
    ``peak`` from September to November each year; no dropout."""
    rng = np.random.default_rng(seed)
    customers = 1500
    calendar = pd.date_range("2022-01-01", "2023-11-30", freq="D")
    joined = rng.integers(0, 181, size=customers)
    rate = rng.gamma(2.0, 0.012, size=customers)
    season = np.where(calendar.month.isin([9, 10, 11]), peak, 1.0)
    bought = rng.random((customers, len(calendar))) < rate[:, None] * season[None, :]
    bought |= np.arange(len(calendar))[None, :] == joined[:, None]
    bought &= np.arange(len(calendar))[None, :] >= joined[:, None]
    customer, day = np.nonzero(bought)
    return pd.DataFrame({"customer_id": customer + 1, "day": calendar[day], "amount": 20.0})


def forecast_and_actual(purchase_days, calibration_end, correction):
    summary = clv.clv_summary(purchase_days, calibration_end=calibration_end)
    fitted = clv.clv_fit(summary)
    forecast = clv.clv_predict(fitted, summary, correction=correction)["expected_purchases_90d"].sum()
    window = purchase_days[
        (purchase_days["day"] > pd.Timestamp(calibration_end))
        & (purchase_days["day"] <= pd.Timestamp(calibration_end + dt.timedelta(days=90)))
    ]
    return forecast, len(window)


def test_seasonal_correction_learns_a_yearly_peak_from_the_year_before():
    purchase_days = seasonal_purchase_days(peak=1.6)
    calibration_end = dt.date(2023, 8, 31)
    history = purchase_days[purchase_days["day"] <= pd.Timestamp(calibration_end)]
    correction = clv.seasonal_correction(history, calibration_end=calibration_end)

    assert correction.backtest_cutoff == dt.date(2022, 8, 31)
    assert 1.3 < correction.factor(90) < 1.9
    assert correction.factor(365) < correction.factor(90)  # a whole year holds three peak months of twelve
    corrected, actual = forecast_and_actual(purchase_days, calibration_end, correction)
    plain, _ = forecast_and_actual(purchase_days, calibration_end, clv.NO_CORRECTION)
    assert abs(corrected - actual) < abs(plain - actual) / 2
    # it reads nothing after calibration_end: the same factor from the whole frame
    assert clv.seasonal_correction(purchase_days, calibration_end=calibration_end) == correction


def test_seasonal_correction_stays_near_one_without_a_season():
    purchase_days = seasonal_purchase_days(peak=1.0)
    correction = clv.seasonal_correction(purchase_days, calibration_end=dt.date(2023, 8, 31))

    assert 0.85 < correction.factor(90) < 1.15
    assert 0.85 < correction.factor(365) < 1.15


def test_seasonal_correction_needs_a_year_and_a_half_of_history():
    purchase_days = seasonal_purchase_days(peak=1.6)
    correction = clv.seasonal_correction(purchase_days, calibration_end=dt.date(2023, 6, 1))

    assert correction.factors == {90: 1.0, 365: 1.0}
    assert correction.backtest_cutoff is None
    assert "year and a half" in correction.reason
    with pytest.raises(ValueError, match="Horizons"):
        clv.seasonal_correction(purchase_days, calibration_end=dt.date(2023, 8, 31), horizons=(400,))


def test_a_failed_backtest_fit_leaves_the_forecast_uncorrected(monkeypatch):
    purchase_days = seasonal_purchase_days(peak=1.6)

    def no_fit(summary):
        raise ValueError("BG/NBD did not converge on this data.")

    monkeypatch.setattr(clv, "_fit_purchases", no_fit)
    correction = clv.seasonal_correction(purchase_days, calibration_end=dt.date(2023, 8, 31))

    assert correction.factors == {90: 1.0, 365: 1.0}
    assert (
        correction.reason == "the backtest fit up to 2022-08-31 failed: BG/NBD did not converge on this data."
    )
