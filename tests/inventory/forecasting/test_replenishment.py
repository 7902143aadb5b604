"""Reorder decisions from forecasts (``replenishment``), by hand."""

import numpy as np

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
    assert plan.reorder_point.tolist()[:2] == [17, 17]
    assert plan.stockout_day.tolist() == [5, -1, 0]
    # product 1 orders up to 17 + 7 = 24, less 5 on hand = 19 -> two packs of 12
    assert plan.order_quantity.tolist()[:2] == [24, 0]
    # product 3: needs 47 + 11 units, at least 60, in packs of 25 -> 75
    assert plan.order_quantity[2] == 75
