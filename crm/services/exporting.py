"""Exporting order history in the canonical order-lines layout, the same one the import reads."""

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd

from crm.csv_safety import csv_safe_writer
from crm.models import OrderLine
from crm.pseudonyms import pseudonymize
from crm.services.importing import CANONICAL_COLUMNS

Progress = Callable[[float, str], None]

# Lines fetched per database round trip while streaming the export.
EXPORT_CHUNK_ROWS = 20_000
EXPORT_FORMATS = {".csv": "csv", ".parquet": "parquet"}


def export_order_lines(*, path: Path, progress: Progress | None = None, pseudonymized: bool = False) -> int:
    """Write every order line to ``path`` (CSV, or Parquet by extension); returns the lines written.

    Returns keep their negative quantities, guest orders an empty ``customer_id`` and non-product
    lines their ``item_code``, so importing the file into an empty database gives the same orders.
    ``pseudonymized`` writes each customer's keyed hash instead of their id (the layout has no names
    or e-mails).
    """
    path = Path(path)
    file_format = EXPORT_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ValueError(f"Unknown export format {path.suffix!r}; expected .csv or .parquet")
    report_progress = progress or (lambda fraction, message="": None)
    total = OrderLine.objects.count()
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    if file_format == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv_safe_writer(handle)
            writer.writerow(CANONICAL_COLUMNS)
            for row in _canonical_rows(pseudonymized=pseudonymized):
                writer.writerow(row)
                written += 1
                if written % EXPORT_CHUNK_ROWS == 0:
                    report_progress(written / total, "Writing order lines")
    else:
        rows = []
        for row in _canonical_rows(pseudonymized=pseudonymized):
            rows.append(row)
            written += 1
            if written % EXPORT_CHUNK_ROWS == 0:
                report_progress(written / total, "Reading order lines")
        frame = pd.DataFrame.from_records(rows, columns=CANONICAL_COLUMNS)
        frame.to_parquet(path, index=False)
    report_progress(1.0, "Exported")
    return written


def _canonical_rows(*, pseudonymized: bool = False) -> Iterator[tuple[str, ...]]:
    lines = OrderLine.objects.order_by("order__placed_at", "order__external_id", "line_number").values_list(
        "order__external_id",
        "order__customer__external_id",
        "product__external_id",
        "item_code",
        "item_name",
        "product__name",
        "product__category__path",
        "quantity",
        "unit_price",
        "order__placed_at",
        "order__country",
    )
    for (
        order_id,
        customer_id,
        product_id,
        item_code,
        item_name,
        product_name,
        category,
        quantity,
        unit_price,
        placed_at,
        country,
    ) in lines.iterator(chunk_size=EXPORT_CHUNK_ROWS):
        if customer_id and pseudonymized:
            customer_id = pseudonymize(customer_id)
        yield (
            order_id,
            customer_id or "",
            product_id or item_code,
            item_name or product_name or "",
            category or "",
            str(quantity),
            _plain_number(unit_price),
            placed_at.isoformat(),
            country,
        )


def _plain_number(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
