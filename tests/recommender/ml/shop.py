"""Small seeded shops for the ml tests: repeat buyers, popular products and a planted "A then B" habit."""

from __future__ import annotations

import numpy as np
import pandas as pd

COUNTRIES = ("United Kingdom", "France", "Germany")
TRIGGERS = 8  # products 1001..1008 are each followed by product (trigger + 10) a few days later


def make_shop(
    *, seed: int = 0, customers: int = 160, products: int = 60, days: int = 240, start: str = "2024-01-01"
) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    product_ids = np.arange(1001, 1001 + products, dtype=np.int64)
    product_frame = pd.DataFrame(
        {
            "product_id": product_ids,
            "category_id": pd.array((np.arange(products) % 6) + 1, dtype="Int64"),
            "price": np.round(rng.lognormal(1.0, 0.5, products), 2),
            "active": True,
            "in_stock": True,
        }
    )
    customer_ids = np.arange(1, customers + 1, dtype=np.int64)
    country = rng.choice(len(COUNTRIES), size=customers, p=[0.6, 0.25, 0.15])
    customer_frame = pd.DataFrame({"customer_id": customer_ids, "country": np.array(COUNTRIES)[country]})
    popularity = 1.0 / np.arange(1, products + 1) ** 0.8
    popularity = popularity[rng.permutation(products)]
    popularity /= popularity.sum()
    begin = pd.Timestamp(start)
    rows = []
    order_id = 1
    for customer in range(customers):
        favourites = rng.choice(products, size=3, replace=False, p=popularity)
        day = float(rng.uniform(0, 30))
        gap = float(rng.uniform(8, 25))
        pending: list[tuple[float, int]] = []
        while day < days:
            basket = set(rng.choice(favourites, size=int(rng.integers(1, 3)), replace=False).tolist())
            basket.add(int(rng.choice(products, p=popularity)))
            if rng.random() < 0.35:
                basket.add(int(rng.integers(0, TRIGGERS)))
            for due, product in list(pending):
                if due <= day:
                    basket.add(product)
                    pending.remove((due, product))
            for product in basket:
                if product < TRIGGERS:
                    pending.append((day + float(rng.uniform(3, 12)), product + 10))
            at = begin + pd.Timedelta(days=day) + pd.Timedelta(minutes=int(rng.integers(0, 600)))
            for product in sorted(basket):
                rows.append(
                    (
                        customer_ids[customer],
                        product_ids[product],
                        order_id,
                        at,
                        int(rng.integers(1, 6)),
                        float(product_frame["price"].iloc[product]),
                    )
                )
            order_id += 1
            day += gap * float(rng.uniform(0.5, 1.5))
    order_lines = pd.DataFrame(
        rows, columns=["customer_id", "product_id", "order_id", "ordered_at", "quantity", "unit_price"]
    )
    order_lines["ordered_at"] = order_lines["ordered_at"].astype("datetime64[ns]")
    return {"order_lines": order_lines, "products": product_frame, "customers": customer_frame}
