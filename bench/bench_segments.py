"""Speed of the segments computation: 100,000 customers, 1,000,000 order lines, built in the bench.

Times the same steps ``segments_compute`` runs after its database read: order lines -> net spend per
customer and day -> RFM -> BG/NBD + Gamma-Gamma fit and prediction -> rows for ``CustomerSegment``.

    .venv/bin/python bench/bench_segments.py [--customers N] [--lines N] [--write]
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

from crm.marketing import clv, rfm  # noqa: E402

AS_OF = dt.date(2024, 12, 31)
SECTION = "## Segments and lifetime value"


def synthetic_order_lines(customers: int, lines: int, seed: int = 0) -> pd.DataFrame:
    """Customers with gamma-distributed purchase rates over two years; a few lines per order, 3% returns."""
    rng = np.random.default_rng(seed)
    appetite = rng.gamma(0.7, 1.0, size=customers)
    line_customer = rng.choice(customers, size=lines, p=appetite / appetite.sum())
    first_day = rng.integers(0, 700, size=customers)
    span = 730 - first_day
    day_offset = first_day[line_customer] + (rng.random(lines) * span[line_customer]).astype("int64")
    quantity = rng.integers(1, 6, size=lines)
    quantity[rng.random(lines) < 0.03] *= -1
    return pd.DataFrame(
        {
            "customer_id": line_customer.astype("int64") + 1,
            "day": pd.Timestamp("2023-01-01") + pd.to_timedelta(day_offset, unit="D"),
            "amount": quantity * rng.gamma(2.0, 4.0, size=lines),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    lines = synthetic_order_lines(args.customers, args.lines)
    timings: dict[str, float] = {}

    started = time.monotonic()
    purchase_days = lines.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    timings["net spend per customer and day"] = time.monotonic() - started

    step = time.monotonic()
    table = rfm.rfm_table(purchase_days, as_of=AS_OF)
    timings["RFM scores and groups"] = time.monotonic() - step

    step = time.monotonic()
    summary = clv.clv_summary(purchase_days, calibration_end=AS_OF)
    fitted = clv.clv_fit(summary)
    timings["BG/NBD + Gamma-Gamma fit"] = time.monotonic() - step

    step = time.monotonic()
    predicted = clv.clv_predict(fitted, summary)
    merged = table.merge(predicted, on="customer_id", validate="one_to_one")
    rows = list(zip(*[merged[column].tolist() for column in merged.columns], strict=True))
    timings["CLV prediction and rows"] = time.monotonic() - step
    total = time.monotonic() - started

    body = [
        "### Speed",
        "",
        f"Synthetic data built in the bench: {args.customers:,} customers, {args.lines:,} order lines "
        f"({len(purchase_days):,} customer-days, {len(rows):,} segmented customers).",
        "",
        "| step | seconds |",
        "|---|---|",
        *(f"| {name} | {seconds:.1f} |" for name, seconds in timings.items()),
        f"| **total** | **{total:.1f}** |",
        "",
        f"Fitted BG/NBD {', '.join(f'{k}={v:.3g}' for k, v in fitted.parameters['bgnbd'].items())}. "
        "The database read (one aggregate query) and the COPY of the rows come on top; the first fit in a "
        "fresh process also compiles PyTensor's C code (about 20 s, cached in a temp folder afterwards).",
        "",
        f"Command: `.venv/bin/python bench/bench_segments.py --write`. Machine: {platform.machine()}, "
        f"{platform.system()}, Python {platform.python_version()}, shared 2-core container.",
    ]
    print("\n".join(body))
    if args.write:
        from bench_sections import replace_section

        path = ROOT / "BENCHMARKS.md"
        text = path.read_text().splitlines() if path.exists() else []
        kept: list[str] = []
        if SECTION in text:
            start = text.index(SECTION)
            stop = next((i for i in range(start + 1, len(text)) if text[i].startswith("## ")), len(text))
            section = text[start + 1 : stop]
            kept = section[: section.index("### Speed")] if "### Speed" in section else section
        replace_section(path, SECTION, [*kept, *body] if kept else body)


if __name__ == "__main__":
    main()
