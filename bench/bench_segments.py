"""Speed of the segments computation: 100,000 customers, 1,000,000 order lines, built in the bench.

Times the same steps ``segments_compute`` runs after its database read: order lines -> net spend per
customer and day -> RFM -> BG/NBD + Gamma-Gamma fit and prediction -> rows for ``CustomerSegment``.

    .venv/bin/python bench/bench_segments.py [--customers N] [--lines N] [--write]

With ``--database`` it times ``segments_compute`` itself (database read, fits, COPY of the rows) on the
orders already in DATABASE_URL, e.g. those ``bench/bench_generate.py`` writes:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb .venv/bin/python bench/bench_segments.py --database
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


def database_run() -> list[str]:
    """``segments_compute`` on the database of DATABASE_URL, with its progress steps timed."""
    import os
    import resource

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_site.settings.local")
    import django

    django.setup()
    from django.db import connection

    from crm.models import OrderLine
    from crm.services.segments import segments_compute

    marks: list[tuple[float, str]] = []
    started = time.monotonic()
    run = segments_compute(progress=lambda fraction, message="": marks.append((time.monotonic(), message)))
    total = time.monotonic() - started
    steps = []
    for (at, message), (later, _) in zip(marks, [*marks[1:], (started + total, "")], strict=True):
        steps.append(f"| {message} | {later - at:.1f} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    correction = run.parameters.get("seasonal_correction", {})
    return [
        "### Speed in the database",
        "",
        f"`segments_compute` on {connection.vendor} holding {OrderLine.objects.count():,} order lines: "
        f"{run.customer_count:,} customers segmented as of {run.as_of} in **{total:.1f} s**, "
        f"peak RSS {peak:,.0f} MiB; seasonal correction {correction.get('factors')} "
        f"({correction.get('reason')}).",
        "",
        "| step (as the job reports it) | seconds |",
        "|---|---|",
        *steps,
        "",
        "Command: `DATABASE_URL=postgres://... .venv/bin/python bench/bench_generate.py --customers 100000 "
        "--products 10000 --orders 300000 "
        "--lines-per-order 3.33`, then `DATABASE_URL=postgres://... .venv/bin/python "
        f"bench/bench_segments.py --database --write`. Machine: {platform.machine()}, {platform.system()}, "
        f"Python {platform.python_version()}, shared 2-core container.",
    ]


def write_subsection(heading: str, body: list[str]) -> None:
    """Replace the ``heading`` subsection of the segments section, keeping the rest of it."""
    from bench_sections import replace_section

    path = ROOT / "BENCHMARKS.md"
    text = path.read_text().splitlines() if path.exists() else []
    section: list[str] = []
    if SECTION in text:
        start = text.index(SECTION)
        stop = next((i for i in range(start + 1, len(text)) if text[i].startswith("## ")), len(text))
        section = text[start + 1 : stop]
    if heading in section:
        begin = section.index(heading)
        end = next((i for i in range(begin + 1, len(section)) if section[i].startswith("### ")), len(section))
        rest = section[end:]
        section = [*section[:begin], *body, *([""] if rest and rest[0].strip() else []), *rest]
    else:
        while section and not section[-1].strip():
            section.pop()
        section = [*section, "", *body]
    while section and not section[-1].strip():
        section.pop()
    while section and not section[0].strip():
        section.pop(0)
    replace_section(path, SECTION, section)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--database", action="store_true", help="Time segments_compute on DATABASE_URL.")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.database:
        body = database_run()
        print("\n".join(body))
        if args.write:
            write_subsection("### Speed in the database", body)
        return
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
    correction = clv.seasonal_correction(purchase_days, calibration_end=AS_OF)
    timings["seasonal correction (backtest fit a year back)"] = time.monotonic() - step

    step = time.monotonic()
    predicted = clv.clv_predict(fitted, summary, correction=correction)
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
        write_subsection("### Speed", body)


if __name__ == "__main__":
    main()
