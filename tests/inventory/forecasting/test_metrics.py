"""The forecasts' scores the way the M5 competition computed them (``metrics``), by hand."""

import numpy as np
import pytest

from inventory.forecasting import metrics


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
