"""Input frames: checking them against the contract and cleaning the order lines."""

from __future__ import annotations

import numpy as np
import pandas as pd

ORDER_LINE_COLUMNS = ("customer_id", "product_id", "order_id", "ordered_at", "quantity", "unit_price")
PRODUCT_COLUMNS = ("product_id", "category_id", "price", "active", "in_stock")
CUSTOMER_COLUMNS = ("customer_id", "country")
EVENT_COLUMNS = ("customer_id", "product_id", "kind", "at")


class FrameError(ValueError):
    """An input frame does not follow the contract (the message names the frame and column)."""


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise FrameError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise FrameError(f"{name} is missing column(s) {', '.join(missing)}")


def _require_no_nulls(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    for column in columns:
        nulls = int(frame[column].isna().sum())
        if nulls:
            raise FrameError(f"{name}.{column} has {nulls} empty value(s)")


def check_order_lines(order_lines: pd.DataFrame) -> pd.DataFrame:
    _require_columns(order_lines, ORDER_LINE_COLUMNS, "order_lines")
    _require_no_nulls(order_lines, ORDER_LINE_COLUMNS, "order_lines")
    frame = order_lines.loc[:, list(ORDER_LINE_COLUMNS)].copy()
    for column in ("customer_id", "product_id", "order_id", "quantity"):
        try:
            frame[column] = frame[column].astype(np.int64)
        except (TypeError, ValueError) as error:
            raise FrameError(f"order_lines.{column} must be integers: {error}") from error
    try:
        frame["unit_price"] = frame["unit_price"].astype(np.float64)
    except (TypeError, ValueError) as error:
        raise FrameError(f"order_lines.unit_price must be numbers: {error}") from error
    try:
        ordered_at = pd.to_datetime(frame["ordered_at"])
    except (TypeError, ValueError) as error:
        raise FrameError(f"order_lines.ordered_at must be date-times: {error}") from error
    if getattr(ordered_at.dt, "tz", None) is not None:
        ordered_at = ordered_at.dt.tz_convert("UTC").dt.tz_localize(None)
    frame["ordered_at"] = ordered_at.astype("datetime64[ns]")
    return frame


def check_products(products: pd.DataFrame, order_lines: pd.DataFrame) -> pd.DataFrame:
    """The product frame, with one row for every product that appears in the order lines."""
    _require_columns(products, PRODUCT_COLUMNS, "products")
    _require_no_nulls(products, ("product_id",), "products")
    frame = products.loc[:, list(PRODUCT_COLUMNS)].copy()
    # optional: the product's name, whose words are features (none where the frame has no names)
    frame["name"] = products["name"].fillna("").astype(str) if "name" in products else ""
    frame["product_id"] = frame["product_id"].astype(np.int64)
    if frame["product_id"].duplicated().any():
        raise FrameError("products.product_id has duplicates")
    frame["category_id"] = frame["category_id"].astype("Int64")
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce").astype(np.float64)
    frame["active"] = frame["active"].fillna(True).astype(bool)
    frame["in_stock"] = frame["in_stock"].fillna(True).astype(bool)
    unknown = np.setdiff1d(order_lines["product_id"].unique(), frame["product_id"].to_numpy())
    if len(unknown):
        extra = pd.DataFrame(
            {
                "product_id": unknown.astype(np.int64),
                "category_id": pd.array([pd.NA] * len(unknown), dtype="Int64"),
                "price": np.nan,
                "active": True,
                "in_stock": True,
                "name": "",
            }
        )
        frame = pd.concat([frame, extra], ignore_index=True)
    return frame.sort_values("product_id", ignore_index=True)


def check_customers(customers: pd.DataFrame, order_lines: pd.DataFrame) -> pd.DataFrame:
    """The customer frame, with one row for every customer that appears in the order lines."""
    _require_columns(customers, CUSTOMER_COLUMNS, "customers")
    _require_no_nulls(customers, ("customer_id",), "customers")
    frame = customers.loc[:, list(CUSTOMER_COLUMNS)].copy()
    frame["customer_id"] = frame["customer_id"].astype(np.int64)
    frame = frame.drop_duplicates("customer_id", keep="last")
    frame["country"] = frame["country"].fillna("").astype(str)
    unknown = np.setdiff1d(order_lines["customer_id"].unique(), frame["customer_id"].to_numpy())
    if len(unknown):
        extra = pd.DataFrame({"customer_id": unknown.astype(np.int64), "country": ""})
        frame = pd.concat([frame, extra], ignore_index=True)
    return frame.sort_values("customer_id", ignore_index=True)


def check_events(events: pd.DataFrame | None) -> pd.DataFrame:
    if events is None or len(events) == 0:
        return pd.DataFrame(
            {
                "customer_id": pd.Series([], dtype=np.int64),
                "product_id": pd.Series([], dtype=np.int64),
                "kind": pd.Series([], dtype=str),
                "at": pd.Series([], dtype="datetime64[ns]"),
            }
        )
    _require_columns(events, EVENT_COLUMNS, "events")
    _require_no_nulls(events, EVENT_COLUMNS, "events")
    frame = events.loc[:, list(EVENT_COLUMNS)].copy()
    frame["customer_id"] = frame["customer_id"].astype(np.int64)
    frame["product_id"] = frame["product_id"].astype(np.int64)
    frame["kind"] = frame["kind"].astype(str)
    at = pd.to_datetime(frame["at"])
    if getattr(at.dt, "tz", None) is not None:
        at = at.dt.tz_convert("UTC").dt.tz_localize(None)
    frame["at"] = at.astype("datetime64[ns]")
    return frame


def clean_order_lines(order_lines: pd.DataFrame) -> pd.DataFrame:
    """Purchases only: returns netted out against what they return, then no quantity or price <= 0.

    A return (negative quantity) first cancels the same product in the same order; what is left
    cancels the customer's latest earlier purchases of that product. A line whose whole quantity
    came back is dropped; a partly returned line keeps the quantity that was kept.
    """
    frame = check_order_lines(order_lines)
    frame = frame[frame["unit_price"] > 0]
    purchases = frame[frame["quantity"] > 0].copy()
    returns = frame[frame["quantity"] < 0]
    if len(returns) and len(purchases):
        purchases = _net_returns(purchases, returns)
    purchases = purchases[purchases["quantity"] > 0]
    return purchases.sort_values(["ordered_at", "order_id", "product_id"], kind="stable", ignore_index=True)


def _net_returns(purchases: pd.DataFrame, returns: pd.DataFrame) -> pd.DataFrame:
    key = ["customer_id", "product_id", "order_id"]
    purchases = purchases.sort_values(["customer_id", "product_id", "ordered_at", "order_id"], kind="stable")
    purchases = purchases.reset_index(drop=True)
    returned = returns.groupby(key, as_index=False).agg(
        returned=("quantity", "sum"), returned_at=("ordered_at", "max")
    )
    returned["returned"] = -returned["returned"]
    quantity = purchases["quantity"].to_numpy().copy()
    same_order = purchases[key].merge(returned, on=key, how="left")
    to_return = same_order["returned"].fillna(0).to_numpy(dtype=np.int64)
    # Several lines of one product in one order give back in turn.
    already = purchases.groupby(key)["quantity"].cumsum().to_numpy() - quantity
    taken = np.clip(to_return - already, 0, quantity)
    quantity -= taken
    taken_per_order = purchases[key].assign(taken=taken).groupby(key, as_index=False)["taken"].sum()
    leftover = returned.merge(taken_per_order, on=key, how="left")
    leftover["left"] = leftover["returned"] - leftover["taken"].fillna(0).astype(np.int64)
    leftover = leftover[leftover["left"] > 0]
    if len(leftover):
        lines_of = purchases.groupby(["customer_id", "product_id"]).indices
        ordered_at = purchases["ordered_at"].to_numpy()
        for row in leftover.itertuples(index=False):
            remaining = int(row.left)
            for index in lines_of.get((row.customer_id, row.product_id), [])[::-1]:
                if remaining <= 0:
                    break
                if ordered_at[index] > np.datetime64(row.returned_at):
                    continue
                take = min(remaining, int(quantity[index]))
                quantity[index] -= take
                remaining -= take
    purchases["quantity"] = quantity
    return purchases
