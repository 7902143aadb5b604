import pandas as pd
import pytest

from recommender.ml import FrameError, clean_order_lines


def _lines(rows):
    frame = pd.DataFrame(
        rows, columns=["customer_id", "product_id", "order_id", "ordered_at", "quantity", "unit_price"]
    )
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    return frame


def test_drops_free_and_non_positive_lines_and_nets_out_returns():
    lines = _lines(
        [
            (1, 10, 100, "2024-01-01", 5, 2.0),
            (1, 10, 100, "2024-01-01", -2, 2.0),  # partly returned in the same order
            (1, 11, 100, "2024-01-01", 1, 0.0),  # free
            (1, 12, 101, "2024-01-05", 3, 1.0),
            (1, 12, 102, "2024-01-08", -3, 1.0),  # all returned later, in another order
            (2, 13, 103, "2024-01-02", 0, 1.0),
            (2, 14, 104, "2024-01-03", 4, 1.5),
        ]
    )

    cleaned = clean_order_lines(lines)

    assert list(zip(cleaned["customer_id"], cleaned["product_id"], cleaned["quantity"], strict=True)) == [
        (1, 10, 3),
        (2, 14, 4),
    ]
    assert (cleaned["quantity"] > 0).all() and (cleaned["unit_price"] > 0).all()


def test_a_later_return_takes_from_the_latest_earlier_purchase_only():
    lines = _lines(
        [
            (1, 10, 100, "2024-01-01", 2, 1.0),
            (1, 10, 101, "2024-02-01", 2, 1.0),
            (1, 10, 102, "2024-02-10", -3, 1.0),
            (1, 10, 103, "2024-03-01", 5, 1.0),  # bought after the return: untouched
        ]
    )

    cleaned = clean_order_lines(lines)

    assert cleaned.set_index("order_id")["quantity"].to_dict() == {100: 1, 103: 5}


def test_a_missing_column_is_named():
    lines = _lines([(1, 10, 100, "2024-01-01", 1, 1.0)]).drop(columns="unit_price")
    with pytest.raises(FrameError, match="unit_price"):
        clean_order_lines(lines)


def test_empty_values_are_named():
    lines = _lines([(1, 10, 100, "2024-01-01", 1, 1.0)])
    lines["customer_id"] = lines["customer_id"].astype("Int64")
    lines.loc[0, "customer_id"] = pd.NA
    with pytest.raises(FrameError, match="customer_id"):
        clean_order_lines(lines)
