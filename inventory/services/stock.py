"""Stock levels and buying rules: the CSV import, single updates from the API, read by replenishment.

Units on hand are written to ``crm.Product.stock`` (the one number the shop's "available" rule and
this app read); lead time, minimum order, pack size and the units on order to ``StockPolicy``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
from django.db import transaction

from crm.models import Product
from crm.models.catalogue import LARGEST_QUANTITY
from crm.services.importing import MAX_REPORTED_ERRORS, ImportValidationError, RowError
from inventory.models import StockPolicy

STOCK_COLUMNS = ("product_id", "on_hand", "lead_time_days", "min_order_qty", "pack_size", "on_order")
POLICY_FIELDS = ("lead_time_days", "min_order_qty", "pack_size", "on_order")
# Columns whose empty cell means 0 rather than "not set" (the setting's default).
ZERO_WHEN_EMPTY = ("on_order",)
# (smallest, largest) accepted value of each number; the largest keeps values inside the columns.
LIMITS = {
    "on_hand": (0, LARGEST_QUANTITY),
    "lead_time_days": (0, 3650),
    "min_order_qty": (0, LARGEST_QUANTITY),
    "pack_size": (1, LARGEST_QUANTITY),
    "on_order": (0, LARGEST_QUANTITY),
}
LOOKUP_CHUNK_KEYS = 2_000


@dataclasses.dataclass
class StockImportReport:
    source: str
    rows: int = 0
    products_updated: int = 0
    policies_written: int = 0
    columns: tuple[str, ...] = ()

    def summary(self) -> str:
        return (
            f"{self.source}: {self.rows} rows, stock of {self.products_updated} products updated, "
            f"{self.policies_written} buying rules written (columns: {', '.join(self.columns)})"
        )


def stock_import_file(*, path: Path) -> StockImportReport:
    """Import a stock CSV (``product_id`` and any of ``on_hand``, ``lead_time_days``, ``min_order_qty``,
    ``pack_size``, ``on_order``). Any bad row raises ``ImportValidationError`` with line and column, and
    nothing is written. A column left out keeps the stored values; an empty cell clears the value (stock
    not tracked, or the setting's default; nothing on order for ``on_order``)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportValidationError(str(path), [RowError(0, "", "", f"cannot read the file: {exc}")]) from exc
    return stock_import_frame(frame=frame, source=str(path))


def stock_import_frame(*, frame: pd.DataFrame, source: str) -> StockImportReport:
    frame = frame.rename(columns=lambda name: str(name).strip().lower())
    errors: list[RowError] = []
    unknown = [name for name in frame.columns if name not in STOCK_COLUMNS]
    if unknown:
        errors.append(
            RowError(1, unknown[0], "", f"unknown column; expected some of {', '.join(STOCK_COLUMNS)}")
        )
    if "product_id" not in frame.columns:
        errors.append(RowError(1, "product_id", "", "required column is missing"))
    if errors:
        raise ImportValidationError(source, errors)
    columns = tuple(name for name in STOCK_COLUMNS if name in frame.columns)
    lines = frame.index.to_numpy() + 2
    product_ids = frame["product_id"].str.strip()
    values: dict[str, pd.Series] = {}
    for name in columns[1:]:
        text = frame[name].str.strip()
        number = pd.to_numeric(text, errors="coerce")
        low, high = LIMITS[name]
        whole = number.notna() & (number == number.round())
        bad = (text != "") & ~(whole & (number >= low) & (number <= high))
        for line, value in zip(lines[bad.to_numpy()], text[bad], strict=True):
            errors.append(RowError(int(line), name, value, f"expected a whole number from {low} to {high}"))
        values[name] = number.where(text != "", 0 if name in ZERO_WHEN_EMPTY else float("nan"))
    for line in lines[(product_ids == "").to_numpy()]:
        errors.append(RowError(int(line), "product_id", "", "required value is empty"))
    duplicated = product_ids.duplicated(keep="first") & (product_ids != "")
    for line, value in zip(lines[duplicated.to_numpy()], product_ids[duplicated], strict=True):
        errors.append(RowError(int(line), "product_id", value, "product appears twice in the file"))
    known = _product_pks(set(product_ids[product_ids != ""]))
    missing = (product_ids != "") & ~product_ids.isin(known)
    for line, value in zip(lines[missing.to_numpy()], product_ids[missing], strict=True):
        errors.append(RowError(int(line), "product_id", value, "no product with this id"))
    if errors:
        errors.sort(key=lambda error: error.line)
        raise ImportValidationError(source, errors[:MAX_REPORTED_ERRORS], error_count=len(errors))
    report = StockImportReport(source=source, rows=len(frame), columns=columns)
    pks = product_ids.map(known).astype("int64").tolist()
    with transaction.atomic():
        if "on_hand" in values:
            on_hand = [None if pd.isna(value) else int(value) for value in values["on_hand"]]
            products = [Product(pk=pk, stock=stock) for pk, stock in zip(pks, on_hand, strict=True)]
            Product.objects.bulk_update(products, ["stock"], batch_size=1000)
            report.products_updated = len(products)
        policy_columns = [name for name in POLICY_FIELDS if name in values]
        if policy_columns:
            policies = [
                StockPolicy(
                    product_id=pk,
                    **{
                        name: None if pd.isna(values[name].iloc[i]) else int(values[name].iloc[i])
                        for name in policy_columns
                    },
                )
                for i, pk in enumerate(pks)
            ]
            StockPolicy.objects.bulk_create(
                policies,
                update_conflicts=True,
                unique_fields=["product"],
                update_fields=[*policy_columns, "updated_at"],
                batch_size=1000,
            )
            report.policies_written = len(policies)
    return report


def _product_pks(external_ids: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(external_ids)
    for start in range(0, len(ordered), LOOKUP_CHUNK_KEYS):
        chunk = ordered[start : start + LOOKUP_CHUNK_KEYS]
        found.update(Product.objects.filter(external_id__in=chunk).values_list("external_id", "pk"))
    return found


@transaction.atomic
def stock_update(
    *,
    product: Product,
    on_hand: int | None,
    lead_time_days: int | None,
    min_order_qty: int | None,
    pack_size: int | None,
    fields: set[str],
    on_order: int | None = None,
) -> Product:
    """Change the named ``fields`` of one product's stock and buying rules (the API's write); an
    ``on_order`` of None is 0."""
    if "on_hand" in fields:
        product.stock = on_hand
        product.save(update_fields=["stock", "updated_at"])
    policy_values = {
        name: value
        for name, value in (
            ("lead_time_days", lead_time_days),
            ("min_order_qty", min_order_qty),
            ("pack_size", pack_size),
            ("on_order", on_order or 0),
        )
        if name in fields
    }
    if policy_values:
        StockPolicy.objects.update_or_create(product=product, defaults=policy_values)
    return product
