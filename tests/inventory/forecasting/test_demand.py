"""Sales lines into per-product series (``demand``), on small frames, without a database."""

import datetime as dt

import pandas as pd

from inventory.forecasting.demand import demand_history, weekly

AS_OF = dt.date(2024, 3, 4)


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
