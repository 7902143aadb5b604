"""Recency, frequency and monetary scores and the named RFM groups.

Input is one row per customer and purchase day (``purchase_days``): a customer's net spend that day,
returns included. Definitions:

* recency: days from the customer's last purchase day to ``as_of``;
* frequency: distinct purchase days (two orders on one day count once, as in the CLV models);
* monetary: net spend over all the customer's days (returns and discounts subtracted).

Scores are quintiles 1..5 of the customers' ranks, ties broken by order of appearance (``rank(method=
"first")``) so that every quintile has its share even when many customers share a value (most customers
buy once). A recent purchase scores 5 for recency.
"""

import datetime as dt

import numpy as np
import pandas as pd

GROUPS = (
    "champions",
    "loyal",
    "potential_loyalists",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose",
    "hibernating",
    "lost",
)

# The common segment map on (R, F) scores. Keys are the R scores, then F scores, of each group; "lost"
# is carved out of the hibernating corner: the oldest and least frequent customers.
SEGMENT_MAP: tuple[tuple[str, set[int], set[int]], ...] = (
    ("lost", {1}, {1}),
    ("hibernating", {1, 2}, {1, 2}),
    ("at_risk", {1, 2}, {3, 4}),
    ("cant_lose", {1, 2}, {5}),
    ("about_to_sleep", {3}, {1, 2}),
    ("need_attention", {3}, {3}),
    ("loyal", {3, 4}, {4, 5}),
    ("promising", {4}, {1}),
    ("new", {5}, {1}),
    ("potential_loyalists", {4, 5}, {2, 3}),
    ("champions", {5}, {4, 5}),
)


def rfm_group(r_score: int, f_score: int) -> str:
    """The named group of an (R, F) score pair; the first match in ``SEGMENT_MAP`` wins."""
    for group, r_scores, f_scores in SEGMENT_MAP:
        if r_score in r_scores and f_score in f_scores:
            return group
    raise ValueError(f"No RFM group for R={r_score}, F={f_score}; scores run from 1 to 5.")


_GROUP_BY_SCORES = np.array(
    [[""] + [rfm_group(r, f) if r else "" for f in range(1, 6)] for r in range(0, 6)], dtype=object
)


def quintile_scores(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """Scores 1..5 by rank; ties broken by position so quintiles stay equal in size."""
    if values.empty:
        return pd.Series([], index=values.index, dtype="int64")
    ranks = (values if higher_is_better else -values).rank(method="first")
    scores = np.ceil(ranks.to_numpy() * 5 / len(values)).astype("int64")
    return pd.Series(np.clip(scores, 1, 5), index=values.index)


def rfm_table(purchase_days: pd.DataFrame, *, as_of: dt.date) -> pd.DataFrame:
    """RFM per customer from ``purchase_days`` (customer_id, day, amount), one row per customer and day.

    Days after ``as_of`` are ignored. A day with a net amount of zero or more is a purchase day; a day of net
    returns lowers the spend but is not a purchase. Customers without a purchase day are left out.
    Returns customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_group.
    """
    _require_columns(purchase_days, ("customer_id", "day", "amount"))
    days = purchase_days[pd.to_datetime(purchase_days["day"]) <= pd.Timestamp(as_of)]
    days = days.assign(day=pd.to_datetime(days["day"]).dt.normalize())
    days = days.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    bought = days[days["amount"] >= 0]
    table = bought.groupby("customer_id").agg(last_day=("day", "max"), frequency=("day", "nunique"))
    table["monetary"] = days.groupby("customer_id")["amount"].sum().reindex(table.index).astype("float64")
    table["recency_days"] = (pd.Timestamp(as_of) - table["last_day"]).dt.days.astype("int64")
    # Ordering by customer id first makes the tie-breaking of the ranks reproducible.
    table = table.sort_index()
    table["r_score"] = quintile_scores(table["recency_days"], higher_is_better=False)
    table["f_score"] = quintile_scores(table["frequency"])
    table["m_score"] = quintile_scores(table["monetary"])
    table["rfm_group"] = _GROUP_BY_SCORES[table["r_score"].to_numpy(), table["f_score"].to_numpy()]
    table = table.reset_index()
    return table[
        ["customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "rfm_group"]
    ].astype({"frequency": "int64", "rfm_group": "str"})


def _require_columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"Missing columns: {', '.join(missing)}")
