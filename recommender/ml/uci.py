"""UCI Online Retail as the ml frames, with the cleaning of the offline protocol (benchmark and tests only).

Training never calls this: for a live shop the importer cleans stock codes and the services build frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

PROTOCOL_CUTOFF = "2011-11-01"
STOCK_CODE = r"\d{5}[A-Z]{0,2}"
NOT_PRODUCTS = ("23444",)  # carriage, though it looks like a product code
# "Online Retail II" (the same shop, 2009-2011) names three columns differently.
ONLINE_RETAIL_II_COLUMNS = {"Invoice": "InvoiceNo", "Price": "UnitPrice", "Customer ID": "CustomerID"}
UciPaths = Path | str | Sequence[Path | str]  # one file, or several of one shop in any order


def read_uci(path: UciPaths) -> pd.DataFrame:
    """The raw lines of a UCI parquet in the Online Retail layout (InvoiceNo, StockCode, Description,
    Quantity, InvoiceDate, UnitPrice, CustomerID, Country); an Online Retail II file is renamed to it.

    Several files of one shop (e.g. its 2009-2010 and 2010-2011 years) are read as one history: where
    an earlier file runs past the start of a later one (the two UCI years share 2010-12-01 to
    2010-12-09), the later file's lines are kept and the earlier one's from the later file's first line
    on are left out.
    """
    paths = [path] if isinstance(path, str | Path) else list(path)
    frames = [pd.read_parquet(each).rename(columns=ONLINE_RETAIL_II_COLUMNS) for each in paths]
    if len(frames) == 1:
        return frames[0]
    dates = [pd.to_datetime(frame["InvoiceDate"]) for frame in frames]
    order = sorted(range(len(frames)), key=lambda index: dates[index].min())
    columns = list(frames[order[-1]].columns)
    kept = [
        frames[index][dates[index] < dates[later].min()][columns]
        for index, later in zip(order[:-1], order[1:], strict=True)
    ]
    return pd.concat([*kept, frames[order[-1]][columns]], ignore_index=True)


def load_uci_frames(path: UciPaths) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """order_lines, products, customers from a UCI parquet, or several of one shop (``read_uci``)."""
    raw = read_uci(path)
    raw = raw[~raw["InvoiceNo"].astype(str).str.upper().str.startswith("C")]
    raw = raw[raw["CustomerID"].notna() & (raw["Quantity"] > 0) & (raw["UnitPrice"] > 0)]
    stock_code = raw["StockCode"].astype(str).str.strip().str.upper()
    keep = stock_code.str.fullmatch(STOCK_CODE) & ~stock_code.isin(NOT_PRODUCTS)
    raw, stock_code = raw[keep], stock_code[keep]
    codes, unique_codes = pd.factorize(stock_code, sort=True)
    order_lines = pd.DataFrame(
        {
            "customer_id": raw["CustomerID"].astype(np.int64).to_numpy(),
            "product_id": codes.astype(np.int64) + 1,
            "order_id": pd.to_numeric(raw["InvoiceNo"]).astype(np.int64).to_numpy(),
            "ordered_at": pd.to_datetime(raw["InvoiceDate"]).to_numpy(dtype="datetime64[ns]"),
            "quantity": raw["Quantity"].astype(np.int64).to_numpy(),
            "unit_price": raw["UnitPrice"].astype(np.float64).to_numpy(),
        }
    )
    # a product's name: its most frequent description
    names = (
        pd.DataFrame({"product": codes, "name": raw["Description"].fillna("").astype(str).str.strip()})
        .value_counts()
        .reset_index()
        .drop_duplicates("product")
        .set_index("product")["name"]
        .reindex(np.arange(len(unique_codes)), fill_value="")
        .to_numpy()
    )
    products = pd.DataFrame(
        {
            "product_id": np.arange(1, len(unique_codes) + 1, dtype=np.int64),
            "name": names,
            "category_id": pd.array([pd.NA] * len(unique_codes), dtype="Int64"),
            "price": order_lines.groupby("product_id")["unit_price"]
            .median()
            .reindex(np.arange(1, len(unique_codes) + 1))
            .to_numpy(),
            "active": True,
            "in_stock": True,
        }
    )
    customers = (
        pd.DataFrame(
            {"customer_id": order_lines["customer_id"], "country": raw["Country"].astype(str).to_numpy()}
        )
        .groupby("customer_id", as_index=False)["country"]
        .last()
    )
    return order_lines, products, customers
