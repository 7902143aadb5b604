"""Holdout check of the lifetime-value model on UCI Online Retail.

Fit BG/NBD on purchase days before 2011-09-01, predict each customer's purchase days from then to the
end of the data (2011-12-09), compare with what they did. The naive forecast keeps each customer's
calibration rate: repeat purchase days per week since their first purchase, times the holdout weeks.

    .venv/bin/python bench/bench_clv_holdout.py [--write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from crm.marketing import clv  # noqa: E402

UCI = ROOT.parent / "shared" / "datasets" / "uci_online_retail" / "online_retail_2010-12_2011-12.parquet"
CALIBRATION_END = dt.date(2011, 8, 31)  # fit on data before 2011-09-01
SECTION = "## Segments and lifetime value"


def uci_purchase_days() -> pd.DataFrame:
    lines = pd.read_parquet(UCI)
    lines = lines[
        ~lines["InvoiceNo"].astype(str).str.startswith("C")
        & lines["CustomerID"].notna()
        & (lines["Quantity"] > 0)
        & (lines["UnitPrice"] > 0)
    ]
    frame = pd.DataFrame(
        {
            "customer_id": lines["CustomerID"].astype("int64"),
            "day": pd.to_datetime(lines["InvoiceDate"]).dt.normalize(),
            "amount": lines["Quantity"] * lines["UnitPrice"],
        }
    )
    return frame.groupby(["customer_id", "day"], as_index=False)["amount"].sum()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="Write the table into BENCHMARKS.md.")
    args = parser.parse_args()
    started = time.monotonic()
    days = uci_purchase_days()
    end = days["day"].max().date()
    summary = clv.clv_summary(days, calibration_end=CALIBRATION_END)
    fit_started = time.monotonic()
    fitted = clv.clv_fit(summary)
    fit_seconds = time.monotonic() - fit_started
    holdout_days = (end - CALIBRATION_END).days
    model = fitted.bgnbd
    predicted = np.asarray(
        model.expected_purchases(
            summary[["customer_id", "frequency", "recency", "T"]], future_t=holdout_days / 7
        )
    ).reshape(-1)
    naive = np.where(summary["T"] > 0, summary["frequency"] / summary["T"].clip(lower=1e-9), 0.0) * (
        holdout_days / 7
    )
    later = days[days["day"] > pd.Timestamp(CALIBRATION_END)]
    actual = (
        later.groupby("customer_id")["day"].nunique().reindex(summary["customer_id"], fill_value=0).to_numpy()
    )

    def row(name: str, forecast: np.ndarray, mask: np.ndarray | None = None) -> str:
        mask = np.ones(len(actual), dtype=bool) if mask is None else mask
        error = forecast[mask] - actual[mask]
        return (
            f"| {name} | {mask.sum():,} | {np.abs(error).mean():.3f} | {np.sqrt((error**2).mean()):.3f} | "
            f"{forecast[mask].sum():,.0f} | {actual[mask].sum():,} |"
        )

    recent = (summary["T"] < 13).to_numpy()
    beats_mae = np.abs(predicted - actual).mean() < np.abs(naive - actual).mean()
    beats_rmse = np.sqrt(((predicted - actual) ** 2).mean()) < np.sqrt(((naive - actual) ** 2).mean())

    parameters = fitted.parameters["bgnbd"]
    body = [
        f"Holdout check of BG/NBD on UCI Online Retail (cleaned: no cancellations, no missing CustomerID, "
        f"quantity and price > 0). Fit on purchase days up to {CALIBRATION_END} "
        f"({len(summary):,} customers), "
        f"forecast each customer's purchase days {CALIBRATION_END + dt.timedelta(days=1)} to {end} "
        f"({holdout_days} days). Naive = the customer's calibration rate of repeat purchase days per week "
        "(since the first purchase) kept for the holdout.",
        "",
        "| forecast | customers | MAE per customer | RMSE per customer | total predicted | total actual |",
        "|---|---|---|---|---|---|",
        row("BG/NBD (PyMC-Marketing, MAP, flat priors)", predicted),
        row("naive: same rate as in calibration", naive),
        row("BG/NBD, customers first seen < 13 weeks before the cutoff", predicted, recent),
        row("naive, customers first seen < 13 weeks before the cutoff", naive, recent),
        "",
        f"BG/NBD beats naive on MAE: {'yes' if beats_mae else 'no'}; "
        f"on RMSE: {'yes' if beats_rmse else 'no'}. "
        "The holdout holds the pre-Christmas peak (more purchases than any rate from the calibration "
        "months implies), which neither forecast models.",
        "",
        f"Fitted r={parameters['r']:.4f}, alpha={parameters['alpha']:.3f}, a={parameters['a']:.4f}, "
        f"b={parameters['b']:.4f} (weeks; {fitted.parameters['bgnbd_priors']} priors); "
        f"fit {fit_seconds:.1f} s, whole run {time.monotonic() - started:.1f} s.",
        "",
        f"Command: `.venv/bin/python bench/bench_clv_holdout.py --write`. Machine: {platform.machine()}, "
        f"{platform.system()}, Python {platform.python_version()}, shared 2-core container.",
    ]
    print("\n".join(body))
    if args.write:
        from bench_sections import replace_section

        replace_section(ROOT / "BENCHMARKS.md", SECTION, _keep_other_lines(body))


def _keep_other_lines(body: list[str]) -> list[str]:
    """The segments bench writes its own table into the same section; keep it below this one."""
    path = ROOT / "BENCHMARKS.md"
    if not path.exists():
        return body
    lines = path.read_text().splitlines()
    try:
        start = lines.index(SECTION)
    except ValueError:
        return body
    stop = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = lines[start + 1 : stop]
    marker = "### Speed"
    if marker in section:
        return [*body, "", *section[section.index(marker) :]]
    return body


if __name__ == "__main__":
    main()
