"""Rows -> frames: what the ``recommender.ml`` package reads, built from the crm tables."""

import datetime as dt

import numpy as np
import pandas as pd
from django.db.models import Q

from crm.models import BehaviourEvent, Customer, Order, OrderLine, Product

# Rows fetched per round trip when streaming large tables into frames.
FETCH_CHUNK_SIZE = 50_000


def order_line_frame(*, until: dt.datetime | None = None) -> pd.DataFrame:
    """Order lines of known customers and catalogue products, returns included (negative quantity)."""
    # Erased customers' orders (kept for the books under the anonymous record) are never learnt from.
    queryset = OrderLine.objects.filter(
        product__isnull=False, order__customer__isnull=False, order__customer__anonymous=False
    ).exclude(order__status=Order.Status.CANCELLED)
    if until is not None:
        queryset = queryset.filter(order__placed_at__lt=until)
    rows = queryset.values_list(
        "order__customer_id", "product_id", "order_id", "order__placed_at", "quantity", "unit_price"
    ).iterator(chunk_size=FETCH_CHUNK_SIZE)
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=["customer_id", "product_id", "order_id", "ordered_at", "quantity", "unit_price"],
    )
    if frame.empty:
        return frame.astype(
            {
                "customer_id": "int64",
                "product_id": "int64",
                "order_id": "int64",
                "ordered_at": "datetime64[ns]",
                "quantity": "int64",
                "unit_price": "float64",
            }
        )
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True).dt.tz_localize(None)
    frame["ordered_at"] = frame["ordered_at"].astype("datetime64[ns]")
    frame["unit_price"] = frame["unit_price"].astype("float64")
    return frame.astype(
        {"customer_id": "int64", "product_id": "int64", "order_id": "int64", "quantity": "int64"}
    )


def product_frame() -> pd.DataFrame:
    rows = Product.objects.values_list("id", "category_id", "price", "active", "stock", "name")
    frame = pd.DataFrame.from_records(
        list(rows), columns=["product_id", "category_id", "price", "active", "stock", "name"]
    )
    frame["product_id"] = frame["product_id"].astype("int64")
    frame["category_id"] = frame["category_id"].astype("Int64")
    frame["price"] = frame["price"].astype("float64")
    frame["active"] = frame["active"].astype(bool)
    frame["in_stock"] = frame["stock"].isna() | (frame["stock"].fillna(0) > 0)
    return frame.drop(columns=["stock"])


def customer_frame() -> pd.DataFrame:
    rows = Customer.objects.identified().values_list("id", "country")
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "country"])
    frame["customer_id"] = frame["customer_id"].astype("int64")
    frame["country"] = frame["country"].fillna("").astype(str)
    return frame


def event_frame(*, until: dt.datetime | None = None) -> pd.DataFrame:
    queryset = BehaviourEvent.objects.filter(
        Q(customer__isnull=False) & Q(product__isnull=False),
        kind__in=["view", "add_to_cart", "wishlist", "recommendation_click"],
    )
    if until is not None:
        queryset = queryset.filter(at__lt=until)
    rows = queryset.values_list("customer_id", "product_id", "kind", "at").iterator(
        chunk_size=FETCH_CHUNK_SIZE
    )
    frame = pd.DataFrame.from_records(list(rows), columns=["customer_id", "product_id", "kind", "at"])
    if frame.empty:
        return pd.DataFrame(
            {
                "customer_id": np.array([], dtype="int64"),
                "product_id": np.array([], dtype="int64"),
                "kind": np.array([], dtype=object),
                "at": np.array([], dtype="datetime64[ns]"),
            }
        )
    frame["at"] = pd.to_datetime(frame["at"], utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    return frame.astype({"customer_id": "int64", "product_id": "int64"})


def available_product_ids() -> np.ndarray:
    return np.fromiter(Product.objects.available().values_list("id", flat=True), dtype="int64")
