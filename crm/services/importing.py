"""Importing order history from CSV, XLSX and Parquet files and from canonical frames.

Two layouts are read: the canonical order-lines layout of the shop and the UCI Online Retail layout
(I and II). A file is read whole into a pandas frame, every row is validated with vectorised checks,
and only then is anything written, in one transaction: new rows through ``bulk_insert_rows`` (COPY on
PostgreSQL), changed rows through ``bulk_update``, unchanged rows not at all. Re-importing a file
therefore changes nothing.

Line numbers in errors: for CSV the physical line with the header as line 1; for XLSX the sheet row;
for Parquet files and frames the row position + 2, so that all three read the same way.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from core.bulk import bulk_insert_rows
from crm.csv_safety import csv_safe_writer
from crm.models import Category, ConsentEvent, Customer, ErasureRecord, Order, OrderLine, Product
from crm.models.customers import CONSENT_FIELDS
from crm.models.orders import LARGEST_AMOUNT
from crm.services.privacy import ANONYMOUS_CUSTOMER_EXTERNAL_ID, anonymous_customer, customer_subject
from crm.services.uploads import OrderFileTooLarge, order_file_limits_check

Progress = Callable[[float, str], None]

CANONICAL_COLUMNS = [
    "order_id",
    "customer_id",
    "product_id",
    "product_name",
    "category",
    "quantity",
    "unit_price",
    "ordered_at",
    "country",
]
CANONICAL_REQUIRED = ["order_id", "customer_id", "product_id", "quantity", "unit_price", "ordered_at"]
# Optional consent columns of the canonical layout, by the channel they set: yes / no, or empty to leave
# the customer's consent as it is. Without these columns an import never changes consent.
CONSENT_COLUMNS = {
    "email_consent": "email",
    "sms_consent": "sms",
    "push_consent": "push",
    "post_consent": "post",
}
CONSENT_VALUES = {"yes": "1", "y": "1", "true": "1", "1": "1", "no": "0", "n": "0", "false": "0", "0": "0"}
# UCI Online Retail column names by canonical role; the second names are those of Online Retail II.
UCI_COLUMNS = {
    "order_id": ("InvoiceNo", "Invoice"),
    "product_id": ("StockCode",),
    "product_name": ("Description",),
    "quantity": ("Quantity",),
    "ordered_at": ("InvoiceDate",),
    "unit_price": ("UnitPrice", "Price"),
    "customer_id": ("CustomerID", "Customer ID"),
    "country": ("Country",),
}
UCI_REQUIRED = ["order_id", "product_id", "quantity", "ordered_at", "unit_price", "customer_id"]
UCI_PRODUCT_CODE = r"^\d{5}[A-Z]{0,2}$"
LAYOUTS = ("auto", "canonical", "uci")
FILE_READERS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet"}

# Errors kept in a report or an exception: enough to fix a file, bounded for the Job row.
MAX_REPORTED_ERRORS = 100
# Rows per COPY / bulk_create call, so that progress moves and no huge list of tuples is built.
INSERT_CHUNK_ROWS = 50_000
# Keys per ``IN (...)`` lookup: well below SQLite's bound-parameter limit.
LOOKUP_CHUNK_KEYS = 2_000
UPDATE_BATCH_SIZE = 1_000
ID_MAX_LENGTH = 64
NAME_MAX_LENGTH = 255
CATEGORY_PATH_MAX_LENGTH = 255
QUANTITY_LIMIT = 2**31 - 1
# When an order may have been placed: an order time before this, or further ahead of this server's clock
# than a sender's time zone or clock could put it, is a wrong date (year 1, 2300), and one such order
# would move every window measured back from the latest order (segments, forecasts, the dashboard).
EARLIEST_ORDER_TIME = pd.Timestamp("1970-01-01", tz="UTC")
ORDER_TIME_AHEAD_LIMIT = pd.Timedelta(days=1)
UNIT_PRICE_LIMIT = 10**8  # OrderLine.unit_price has 12 digits, 4 of them decimals
# A line's amount and an order's total are checked in ten-thousandths of the currency (a unit price's
# last digit), as whole numbers: a float cannot tell 999,999,999,999.9949 (written as ...999.99) from
# 999,999,999,999.995 (which rounds to a 13th whole digit). The first amount beyond LARGEST_AMOUNT:
AMOUNT_UNITS_LIMIT = int((LARGEST_AMOUNT + Decimal("0.005")) * 10_000)
# An order placed in the shop (channel web) is the shop's: no import writes over it, and the shop itself
# writes only orders new to the database (``_orders_kept_from``).
SHOP_ORDER_MESSAGE = "an order placed in the shop has this order_id; an import cannot change it"
ORDER_EXISTS_MESSAGE = "an order with this order_id exists already; the shop writes new orders only"


@dataclasses.dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return self.describe()

    def describe(self, *, with_value: bool = True) -> str:
        """Where and what is wrong; ``with_value=False`` leaves the cell's content out (for job rows,
        which must not keep customers' data)."""
        where = f"line {self.line}" if self.line else "file"
        column = f", column {self.column}" if self.column else ""
        value = f" (value {self.value!r})" if self.value and with_value else ""
        return f"{where}{column}: {self.message}{value}"


class ImportValidationError(ValueError):
    """A file or frame that cannot be imported as it is; ``errors`` lists the first problems.

    ``error_count`` counts the errors, ``bad_rows`` the order lines holding them (a line may hold
    several); ``bad_rows`` is 0 where the file itself is wrong (no known header, a missing column,
    unreadable), which no row of it would fix.
    """

    def __init__(
        self,
        source: str,
        errors: Sequence[RowError],
        *,
        error_count: int | None = None,
        bad_rows: int = 0,
    ) -> None:
        self.source = source
        self.errors = list(errors)
        self.error_count = error_count if error_count is not None else len(self.errors)
        self.bad_rows = bad_rows
        super().__init__(self.summary())

    def problem(self) -> str:
        """What is wrong in a few words, counted as importing only the valid rows counts what it
        rejects ("5 bad rows", however many errors they hold), so the two answers agree."""
        if self.bad_rows:
            return f"{self.bad_rows} bad row{'s' if self.bad_rows != 1 else ''}"
        return "a problem with the file itself"

    def summary(self, *, with_values: bool = True) -> str:
        shown = "; ".join(error.describe(with_value=with_values) for error in self.errors[:5])
        more = f" (and {self.error_count - 5} more)" if self.error_count > 5 else ""
        return f"{self.source}: {shown}{more}"


@dataclasses.dataclass
class EntityCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclasses.dataclass
class ImportReport:
    source: str
    layout: str = ""
    rows_read: int = 0
    rows_imported: int = 0
    rows_skipped: int = 0
    rows_rejected: int = 0
    customers: EntityCounts = dataclasses.field(default_factory=EntityCounts)
    categories: EntityCounts = dataclasses.field(default_factory=EntityCounts)
    products: EntityCounts = dataclasses.field(default_factory=EntityCounts)
    orders: EntityCounts = dataclasses.field(default_factory=EntityCounts)
    order_lines: EntityCounts = dataclasses.field(default_factory=EntityCounts)
    guest_orders: int = 0
    return_orders: int = 0
    non_product_lines: int = 0
    erased_customers: int = 0
    consent_changes: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    rejects_path: str = ""
    seconds: float = 0.0

    ENTITIES = ("customers", "categories", "products", "orders", "order_lines")

    @property
    def created(self) -> int:
        return sum(getattr(self, entity).created for entity in self.ENTITIES)

    @property
    def updated(self) -> int:
        return sum(getattr(self, entity).updated for entity in self.ENTITIES)

    def to_dict(self, *, with_values: bool = True) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["errors"] = [dataclasses.asdict(error) for error in self.errors]
        if not with_values:
            for error in data["errors"]:
                error.pop("value")
        return data

    def summary_lines(self) -> list[str]:
        lines = [
            f"{self.source} ({self.layout} layout): {self.rows_read} rows read, "
            f"{self.rows_imported} imported, {self.rows_skipped} skipped, {self.rows_rejected} rejected "
            f"in {self.seconds:.1f}s",
        ]
        for entity in self.ENTITIES:
            counts = getattr(self, entity)
            deleted = f", {counts.deleted} deleted" if counts.deleted else ""
            lines.append(
                f"  {entity.replace('_', ' ')}: {counts.created} created, {counts.updated} updated, "
                f"{counts.unchanged} unchanged{deleted}"
            )
        lines.append(
            f"  in this file: {self.guest_orders} guest orders, {self.return_orders} return orders, "
            f"{self.non_product_lines} non-product lines"
        )
        if self.consent_changes:
            lines.append(f"  consent: {self.consent_changes} changes, as the file says")
        if self.erased_customers:
            lines.append(
                f"  {self.erased_customers} erased customers: their orders kept anonymous, not re-created"
            )
        if self.rejects_path:
            lines.append(f"  rejected rows written to {self.rejects_path}")
        return lines


def import_order_file(
    *,
    path: Path,
    file_format: str = "auto",
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an order file; ``file_format`` is the column layout (auto, canonical or uci).

    Without ``skip_invalid`` any bad row raises ``ImportValidationError`` and nothing is written. With
    it, the good rows are imported and the bad ones written, with ``line`` and ``reason``, to
    ``rejects_path`` when one is given.
    """
    path = Path(path)
    report_progress = progress or _no_progress
    started = time.monotonic()
    if file_format not in LAYOUTS:
        raise ImportValidationError(
            str(path), [RowError(0, "", file_format, f"unknown format; expected one of {', '.join(LAYOUTS)}")]
        )
    report_progress(0.0, "Reading file")
    raw = read_order_file(path)
    return _import_raw(
        raw=raw,
        source=str(path),
        layout=file_format,
        skip_invalid=skip_invalid,
        rejects_path=rejects_path,
        progress=report_progress,
        started=started,
    )


def import_canonical_frame(
    *,
    frame: pd.DataFrame,
    source: str,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    order_channel: str = Order.Channel.IMPORT,
    order_status: str | None = None,
) -> ImportReport:
    """Import a frame in the canonical layout; ``ordered_at`` may hold ISO strings or datetimes.

    Errors name the row position + 2 as their line, as if the frame were a CSV file with a header.
    New orders get ``order_channel``; ``order_status``, when given, is the status of every order of the
    frame (otherwise completed, or returned for an order of only negative quantities), e.g. placed for
    an order from the shop's basket.
    """
    return _import_raw(
        raw=frame.reset_index(drop=True),
        source=source,
        layout="canonical",
        skip_invalid=skip_invalid,
        rejects_path=None,
        progress=progress or _no_progress,
        started=time.monotonic(),
        order_channel=order_channel,
        order_status=order_status,
    )


def read_order_file(path: Path) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet file into a frame, raising ``ImportValidationError`` if it cannot, or
    if it unpacks to more than the import's limits (``order_file_limits_check``)."""
    reader = FILE_READERS.get(path.suffix.lower())
    if reader is None:
        raise ImportValidationError(
            str(path),
            [RowError(0, "", path.suffix, "unknown file format; expected .csv, .xlsx or .parquet")],
        )
    try:
        order_file_limits_check(source=path, file_type=reader)
    except OrderFileTooLarge as too_large:
        raise ImportValidationError(str(path), [RowError(0, "", "", str(too_large))]) from None
    try:
        if reader == "csv":
            return _read_csv(path)
        if reader == "xlsx":
            return pd.read_excel(path, dtype=str, keep_default_na=False, na_filter=False)
        return pd.read_parquet(path)
    except ImportValidationError:
        raise
    except FileNotFoundError:
        raise ImportValidationError(str(path), [RowError(0, "", "", "file not found")]) from None
    except Exception as exc:  # pandas, pyarrow and openpyxl raise many kinds for a broken file
        # The reader's words, without where the file lies on the server (an upload's path is no one's
        # business on a job page): the file's own name stands for it.
        detail = str(exc).replace(str(path), path.name)
        message = f"unreadable {reader} file: {type(exc).__name__}: {detail}"
        raise ImportValidationError(str(path), [RowError(0, "", "", message[:500])]) from exc


def _read_csv(path: Path) -> pd.DataFrame:
    # Blank lines are kept as empty rows so that row positions stay physical line numbers.
    options = {
        "dtype": str,
        "keep_default_na": False,
        "na_filter": False,
        "skip_blank_lines": False,
        "sep": _separator(path),
    }
    try:
        return pd.read_csv(path, encoding="utf-8-sig", **options)
    except UnicodeDecodeError:
        # The UCI CSV exports are Latin-1; every byte decodes, so this is the last resort.
        return pd.read_csv(path, encoding="latin-1", **options)
    except pd.errors.EmptyDataError:
        raise ImportValidationError(str(path), [RowError(1, "", "", "the file is empty")]) from None


CSV_SEPARATORS = (",", ";", "\t")


def _separator(path: Path) -> str:
    """The separator of the header line: a comma, or (as spreadsheets write a CSV where the decimal
    mark is a comma) a semicolon or a tab when the header holds one and no comma."""
    with path.open("rb") as file:
        header = file.readline()
    counts = {separator: header.count(separator.encode()) for separator in CSV_SEPARATORS}
    if counts[","] == 0 and max(counts.values()) > 0:
        return max(counts, key=counts.get)
    return ","


def _no_progress(fraction: float, message: str = "") -> None:
    return None


# --- Validation -------------------------------------------------------------------------------


def _detect_layout(columns: list[str], layout: str, source: str) -> str:
    if layout != "auto":
        return layout
    canonical_hits = len(set(columns) & set(CANONICAL_COLUMNS))
    uci_names = {name for names in UCI_COLUMNS.values() for name in names}
    uci_hits = len(set(columns) & uci_names)
    if canonical_hits == 0 and uci_hits == 0:
        uci_expected = ", ".join(names[0] for names in UCI_COLUMNS.values())
        # The first row's cells are the error's value, not its message: in a file without a header
        # they are a customer's data, which a job row must not keep (``describe(with_value=False)``).
        message = (
            f"unknown layout: no column of the first row has a known name; expected a header with the "
            f"canonical columns {', '.join(CANONICAL_COLUMNS)} or the UCI Online Retail columns "
            f"{uci_expected}"
        )
        raise ImportValidationError(source, [RowError(1, "", ", ".join(columns) or "(none)", message)])
    return "canonical" if canonical_hits >= uci_hits else "uci"


def _source_columns(columns: list[str], layout: str) -> tuple[dict[str, str], list[RowError]]:
    """Map each canonical role to the file's column name; errors for the required ones missing."""
    found: dict[str, str] = {}
    errors = []
    if layout == "canonical":
        for role in [*CANONICAL_COLUMNS, *CONSENT_COLUMNS]:
            if role in columns:
                found[role] = role
        missing = [role for role in CANONICAL_REQUIRED if role not in found]
        errors = [RowError(1, role, "", "missing column") for role in missing]
    else:
        for role, names in UCI_COLUMNS.items():
            name = next((name for name in names if name in columns), None)
            if name:
                found[role] = name
            elif role in UCI_REQUIRED:
                errors.append(RowError(1, " or ".join(names), "", "missing column"))
    return found, errors


def _as_text(series: pd.Series) -> pd.Series:
    """A column as stripped strings, "" where missing; whole floats (17850.0) without their ".0"."""
    if pd.api.types.is_float_dtype(series.dtype):
        text = pd.Series("", index=series.index, dtype="str")
        present = series.notna()
        whole = present & (series % 1 == 0)
        text[whole] = series[whole].astype("int64").astype("str")
        text[present & ~whole] = series[present & ~whole].astype("str")
        return text
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.dt.strftime("%Y-%m-%dT%H:%M:%S%z").fillna("")
    text = series.astype("str").fillna("").str.strip()
    # Our own CSV exports write text that could start a spreadsheet formula with a leading apostrophe
    # (crm.csv_safety): reading such a file back gives the original text.
    quoted = text.str.startswith("'")
    if quoted.any():
        text[quoted] = text[quoted].str.replace(_NEUTRALISED_CELL, "", regex=True)
    return text


_NEUTRALISED_CELL = r"^'(?=[=+\-@\t\r])"


def _parse_datetimes(series: pd.Series, text: pd.Series, *, layout: str) -> pd.Series:
    """Timestamps in UTC (NaT where unparseable); naive values are in the shop's time zone."""
    local_zone = timezone.get_default_timezone()
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        parsed = series if series.dt.tz is not None else series.dt.tz_localize(local_zone)
        return parsed.dt.tz_convert("UTC")
    is_string = series.map(lambda value: isinstance(value, str)) if series.dtype == object else None
    if is_string is not None and not is_string.all():
        # A frame from the API may carry datetime objects beside strings.
        objects = pd.to_datetime(series.where(~is_string), errors="coerce", utc=True)
        strings = _parse_datetimes(text.where(is_string, ""), text.where(is_string, ""), layout=layout)
        return strings.where(is_string, objects)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    if layout == "uci":
        # The original UCI CSV writes month/day/year without seconds.
        retry = parsed.isna() & (text != "")
        if retry.any():
            parsed[retry] = pd.to_datetime(text[retry], format="%m/%d/%Y %H:%M", errors="coerce", utc=True)
    naive = ~text.str.contains(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$", regex=True) & parsed.notna()
    if str(local_zone) != "UTC" and naive.any():
        parsed[naive] = (
            parsed[naive]
            .dt.tz_convert(None)
            .dt.tz_localize(local_zone, ambiguous="NaT", nonexistent="shift_forward")
            .dt.tz_convert("UTC")
        )
    return parsed.dt.floor("us")


def _non_product_mask(codes: pd.Series) -> pd.Series:
    configured = [code.strip().upper() for code in settings.CRM_NON_PRODUCT_CODES if code.strip()]
    exact = {code for code in configured if not code.endswith("*")}
    prefixes = tuple(code[:-1] for code in configured if code.endswith("*"))
    upper = codes.str.upper()
    mask = upper.isin(exact)
    if prefixes:
        mask |= upper.str.startswith(prefixes)
    return mask


def _normalise(
    raw: pd.DataFrame, *, layout: str, columns: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """The rows in canonical form, their errors (line, column, value, message) and the blank-row mask."""
    text = {role: _as_text(raw[name]) for role, name in columns.items()}
    empty = pd.Series("", index=raw.index, dtype="str")
    for role in CANONICAL_COLUMNS:
        text.setdefault(role, empty)
    blank = pd.concat([value == "" for value in text.values()], axis=1).all(axis=1)

    rows = pd.DataFrame(index=raw.index)
    rows["line"] = np.arange(len(raw), dtype="int64") + 2
    rows["order_id"] = text["order_id"]
    customer_id = text["customer_id"]
    if layout == "uci":
        customer_id = customer_id.str.replace(r"\.0+$", "", regex=True)
    rows["customer_id"] = customer_id
    if layout == "uci":
        rows["item_code"] = text["product_id"].str.upper()
        rows["is_product"] = rows["item_code"].str.match(UCI_PRODUCT_CODE)
        rows["is_return"] = rows["order_id"].str.upper().str.startswith("C")
    else:
        rows["item_code"] = text["product_id"]
        rows["is_product"] = ~_non_product_mask(rows["item_code"])
        rows["is_return"] = False
    rows["item_name"] = text["product_name"].str.slice(0, NAME_MAX_LENGTH)
    rows["category"] = (
        text["category"]
        .str.replace(r"\s*/\s*", "/", regex=True)
        .str.replace(r"/{2,}", "/", regex=True)
        .str.strip("/")
    )
    rows["country"] = text["country"].str.slice(0, 64)
    consent_roles = [role for role in CONSENT_COLUMNS if role in columns]
    for role in consent_roles:
        rows[role] = text[role].str.lower().map(CONSENT_VALUES).fillna("")
    quantity = (
        raw[columns["quantity"]]
        if "quantity" in columns and pd.api.types.is_numeric_dtype(raw[columns["quantity"]].dtype)
        else pd.to_numeric(text["quantity"], errors="coerce")
    )
    unit_price = (
        raw[columns["unit_price"]]
        if "unit_price" in columns and pd.api.types.is_numeric_dtype(raw[columns["unit_price"]].dtype)
        else pd.to_numeric(text["unit_price"], errors="coerce")
    )
    quantity = quantity.astype("float64")
    unit_price = unit_price.astype("float64")
    ordered_at = (
        _parse_datetimes(raw[columns["ordered_at"]], text["ordered_at"], layout=layout)
        if "ordered_at" in columns
        else pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    )

    checks: list[tuple[pd.Series, str, str]] = []
    for role in ("order_id", "product_id", "quantity", "unit_price", "ordered_at"):
        checks.append((text[role] == "", role, "required value is empty"))
    for role in ("order_id", "customer_id", "product_id"):
        checks.append((text[role].str.len() > ID_MAX_LENGTH, role, f"longer than {ID_MAX_LENGTH} characters"))
    checks += [
        ((text["quantity"] != "") & quantity.isna(), "quantity", "not a number"),
        (quantity.notna() & (quantity % 1 != 0), "quantity", "not a whole number"),
        (quantity.abs() > QUANTITY_LIMIT, "quantity", "out of range"),
        ((text["unit_price"] != "") & unit_price.isna(), "unit_price", "not a number"),
        (unit_price.abs() >= UNIT_PRICE_LIMIT, "unit_price", "out of range"),
        (
            rows["is_product"] & (unit_price < 0),
            "unit_price",
            "negative price on a product line (allowed only for non-product codes)",
        ),
        ((text["ordered_at"] != "") & ordered_at.isna(), "ordered_at", "not an ISO 8601 date and time"),
        (ordered_at < EARLIEST_ORDER_TIME, "ordered_at", "before 1970: not when an order was placed"),
        (
            ordered_at > pd.Timestamp(timezone.now()) + ORDER_TIME_AHEAD_LIMIT,
            "ordered_at",
            "more than a day ahead of this server's clock",
        ),
        (rows["category"].str.len() > CATEGORY_PATH_MAX_LENGTH, "category", "category path is too long"),
        (
            text["customer_id"] == ANONYMOUS_CUSTOMER_EXTERNAL_ID,
            "customer_id",
            "the id of the record that keeps erased customers' orders, not a customer's",
        ),
    ]
    checks += _amount_checks(rows["order_id"], quantity, unit_price)
    for role in consent_roles:
        checks.append(((text[role] != "") & (rows[role] == ""), role, "not yes or no"))
    error_frames = []
    for mask, role, message in checks:
        mask = mask.fillna(False) & ~blank
        if mask.any():
            error_frames.append(
                pd.DataFrame(
                    {
                        "line": rows.loc[mask, "line"],
                        "column": columns.get(role, role),
                        "value": text[role][mask].str.slice(0, 100),
                        "message": message,
                    }
                )
            )
    errors = (
        pd.concat(error_frames).sort_values("line", kind="stable")
        if error_frames
        else pd.DataFrame(columns=["line", "column", "value", "message"])
    )
    rows["quantity"] = quantity.fillna(0).round().astype("int64")
    rows["unit_price"] = unit_price.round(4)
    rows["ordered_at"] = ordered_at
    return rows, errors, blank


def _amount_checks(
    order_ids: pd.Series, quantity: pd.Series, unit_price: pd.Series
) -> list[tuple[pd.Series, str, str]]:
    """Lines whose amount (quantity x unit price), and every line of an order whose total, is beyond
    LARGEST_AMOUNT. A quantity or unit price refused by the other checks counts as 0 here."""
    readable = (
        quantity.notna()
        & (quantity % 1 == 0)
        & (quantity.abs() <= QUANTITY_LIMIT)
        & unit_price.notna()
        & (unit_price.abs() < UNIT_PRICE_LIMIT)
    )
    units_each = (unit_price.where(readable, 0) * 10_000).round().astype("int64")
    count = quantity.where(readable, 0).astype("int64")
    # |count| x |units_each| >= AMOUNT_UNITS_LIMIT, without the product (up to 2**71) overflowing
    line_over = count.abs() > (AMOUNT_UNITS_LIMIT - 1) // units_each.abs().clip(lower=1)
    amounts = count.where(~line_over, 0) * units_each
    # Exact while an order's total fits in 64 bits (the sum wraps around, and unwraps, on the way); a
    # total beyond twice the limit, which need not fit, shows in the rough sum.
    totals = amounts.groupby(order_ids).transform("sum")
    rough_totals = amounts.astype("float64").groupby(order_ids).transform("sum")
    order_over = (totals.abs() >= AMOUNT_UNITS_LIMIT) | (rough_totals.abs() >= 2 * AMOUNT_UNITS_LIMIT)
    largest = f"{LARGEST_AMOUNT:,}"
    return [
        (
            line_over,
            "quantity",
            f"the line's amount (quantity x unit_price) is beyond the largest, {largest}",
        ),
        (
            order_over,
            "order_id",
            f"the order's total (its lines' amounts added up) is beyond the largest, {largest}",
        ),
    ]


def _orders_kept_from(channel: str) -> Q:
    """The existing orders that an import writing new orders of ``channel`` must leave alone: those
    placed in the shop (channel web); for the shop's own orders, every existing order, so that placing a
    basket never takes over an order of the same id."""
    return Q() if channel == Order.Channel.WEB else Q(channel=Order.Channel.WEB)


def _kept_order_ids(order_ids: Sequence[str], *, channel: str) -> set[str]:
    kept: set[str] = set()
    for chunk in _chunks(order_ids, LOOKUP_CHUNK_KEYS):
        kept.update(
            Order.objects.filter(_orders_kept_from(channel), external_id__in=chunk).values_list(
                "external_id", flat=True
            )
        )
    return kept


def _kept_order_message(channel: str) -> str:
    return ORDER_EXISTS_MESSAGE if channel == Order.Channel.WEB else SHOP_ORDER_MESSAGE


def _with_kept_order_errors(
    rows: pd.DataFrame, errors: pd.DataFrame, blank: pd.Series, *, column: str, channel: str
) -> pd.DataFrame:
    """``errors`` and one more on every line of an order the import must leave alone (a file holds the
    whole of each order, so all its lines are refused, or skipped, together)."""
    named = ~blank & (rows["order_id"] != "")
    kept = _kept_order_ids(rows.loc[named, "order_id"].unique().tolist(), channel=channel)
    if not kept:
        return errors
    refused = named & rows["order_id"].isin(kept)
    kept_errors = pd.DataFrame(
        {
            "line": rows.loc[refused, "line"],
            "column": column,
            "value": rows.loc[refused, "order_id"].str.slice(0, 100),
            "message": _kept_order_message(channel),
        }
    )
    if errors.empty:
        return kept_errors
    return pd.concat([errors, kept_errors]).sort_values("line", kind="stable")


def _row_errors(errors: pd.DataFrame, limit: int = MAX_REPORTED_ERRORS) -> list[RowError]:
    return [
        RowError(int(line), str(column), str(value), str(message))
        for line, column, value, message in errors.head(limit).itertuples(index=False, name=None)
    ]


def _write_rejects(raw: pd.DataFrame, errors: pd.DataFrame, rejects_path: Path) -> None:
    reasons = (
        errors.assign(reason=errors["column"] + ": " + errors["message"])
        .groupby("line", sort=True)["reason"]
        .agg("; ".join)
    )
    rejected = raw.iloc[reasons.index.to_numpy() - 2].copy()
    rejected.insert(0, "line", reasons.index.to_numpy())
    rejected["reason"] = reasons.to_numpy()
    rejects_path.parent.mkdir(parents=True, exist_ok=True)
    # the rows as read, each cell written as our exports write it (a formula as text); the import
    # reads it back as it was, so the corrected file imports
    with rejects_path.open("w", newline="", encoding="utf-8") as out:
        writer = csv_safe_writer(out)
        writer.writerow(rejected.columns)
        writer.writerows(
            rejected.astype(object).where(rejected.notna(), "").itertuples(index=False, name=None)
        )


# --- Import -----------------------------------------------------------------------------------


def _import_raw(
    *,
    raw: pd.DataFrame,
    source: str,
    layout: str,
    skip_invalid: bool,
    rejects_path: Path | None,
    progress: Progress,
    started: float,
    order_channel: str = Order.Channel.IMPORT,
    order_status: str | None = None,
) -> ImportReport:
    raw.columns = [str(column).strip() for column in raw.columns]
    layout = _detect_layout(list(raw.columns), layout, source)
    columns, missing = _source_columns(list(raw.columns), layout)
    if missing:
        raise ImportValidationError(source, missing)
    progress(0.1, "Validating rows")
    rows, errors, blank = _normalise(raw, layout=layout, columns=columns)
    if bool(blank.all()):
        # A header and nothing else (or blank lines only): most often the wrong file, or one cut
        # short when it was saved, so it fails rather than "succeeds" with nothing imported.
        raise ImportValidationError(
            source, [RowError(2, "", "", "no order lines: the file holds a header only")]
        )
    errors = _with_kept_order_errors(
        rows, errors, blank, column=columns.get("order_id", "order_id"), channel=order_channel
    )
    report = ImportReport(source=source, layout=layout, rows_read=len(raw), rows_skipped=int(blank.sum()))
    bad_lines = errors["line"].unique()
    report.rows_rejected = len(bad_lines)
    report.errors = _row_errors(errors)
    if len(bad_lines) and not skip_invalid:
        raise ImportValidationError(source, report.errors, error_count=len(errors), bad_rows=len(bad_lines))
    if len(bad_lines) and rejects_path is not None:
        _write_rejects(raw, errors, rejects_path)
        report.rejects_path = str(rejects_path)
    # Positions within an order are taken before bad rows are dropped, so that fixing a rejected row
    # and importing again puts it in its own place.
    rows["line_number"] = rows.groupby("order_id", sort=False).cumcount() + 1
    good = ~blank & ~rows["line"].isin(bad_lines)
    rows = rows[good].reset_index(drop=True)
    report.rows_imported = len(rows)
    if rows.empty:
        report.seconds = round(time.monotonic() - started, 2)
        return report
    progress(0.2, "Writing customers, categories and products")
    with transaction.atomic():
        _write_rows(
            rows,
            layout=layout,
            report=report,
            progress=progress,
            order_channel=order_channel,
            order_status=order_status,
        )
    report.seconds = round(time.monotonic() - started, 2)
    progress(1.0, "Imported")
    return report


def _write_rows(
    rows: pd.DataFrame,
    *,
    layout: str,
    report: ImportReport,
    progress: Progress,
    order_channel: str = Order.Channel.IMPORT,
    order_status: str | None = None,
) -> None:
    now = timezone.now()
    orders = _order_frame(rows, layout=layout)
    if order_status is not None:
        orders["status"] = order_status
    report.guest_orders = int((orders["customer_id"] == "").sum())
    report.return_orders = int((orders["status"] == Order.Status.RETURNED).sum())
    report.non_product_lines = int((~rows["is_product"]).sum())

    customer_pks = _write_customers(orders, report=report, now=now)
    _write_consent(rows, customer_pks, report=report, now=now)
    category_pks = _write_categories(rows, report=report)
    product_pks = _write_products(rows, category_pks, report=report, now=now)
    progress(0.3, "Writing orders")
    order_pks, new_order_keys = _write_orders(
        orders, customer_pks, report=report, now=now, channel=order_channel
    )
    progress(0.4, "Writing order lines")
    _write_lines(rows, order_pks, new_order_keys, product_pks, report=report, progress=progress)


def _order_frame(rows: pd.DataFrame, *, layout: str) -> pd.DataFrame:
    """One row per order: the first customer and country given in its rows, the earliest time, status."""
    first = rows.drop_duplicates("order_id").set_index("order_id")
    grouped = rows.groupby("order_id", sort=False)
    orders = pd.DataFrame(
        {
            "customer_id": _first_given(rows, "customer_id").reindex(first.index).fillna("").astype("str"),
            "placed_at": grouped["ordered_at"].min(),
            "country": _first_given(rows, "country").reindex(first.index).fillna("").astype("str"),
        }
    )
    # UCI marks returns by the invoice number; in the canonical layout an order of only negative
    # quantities is a return (which is how the export writes returned orders).
    returned = first["is_return"] if layout == "uci" else grouped["quantity"].max() < 0
    orders["status"] = np.where(returned, Order.Status.RETURNED, Order.Status.COMPLETED)
    return orders.rename_axis("order_id").reset_index()


def _first_given(rows: pd.DataFrame, column: str) -> pd.Series:
    return rows[rows[column] != ""].drop_duplicates("order_id").set_index("order_id")[column]


def _most_frequent(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    """Per ``key`` the most frequent non-empty ``value``; ties go to the alphabetically first."""
    present = frame.loc[frame[value] != "", [key, value]]
    counts = present.groupby([key, value], sort=False).size().rename("count").reset_index()
    counts = counts.sort_values([key, "count", value], ascending=[True, False, True], kind="stable")
    return counts.drop_duplicates(key).set_index(key)[value]


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _existing(model, key_field: str, keys: Sequence[Any], fields: Sequence[str]) -> pd.DataFrame:
    """Rows of ``model`` whose ``key_field`` is in ``keys``, as a frame of ``fields``."""
    records: list[tuple] = []
    for chunk in _chunks(list(keys), LOOKUP_CHUNK_KEYS):
        records.extend(model.objects.filter(**{f"{key_field}__in": chunk}).values_list(*fields))
    return pd.DataFrame.from_records(records, columns=list(fields))


def _insert(model, fields: Sequence[str], frame: pd.DataFrame) -> int:
    written = 0
    for start in range(0, len(frame), INSERT_CHUNK_ROWS):
        chunk = frame.iloc[start : start + INSERT_CHUNK_ROWS]
        written += bulk_insert_rows(model, fields, _tuples(chunk, fields))
    return written


def _tuples(frame: pd.DataFrame, fields: Sequence[str]) -> Iterable[tuple]:
    """Plain Python values (None for missing) for the database driver."""
    columns = []
    for field in fields:
        series = frame[field]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            columns.append([value.to_pydatetime() for value in series])
        elif isinstance(series.dtype, pd.Int64Dtype):
            columns.append([None if value is pd.NA else int(value) for value in series.astype(object)])
        else:
            columns.append(series.tolist())
    return zip(*columns, strict=True)


def _update(model, frame: pd.DataFrame, fields: Sequence[str]) -> int:
    instances = [
        model(pk=record[0], **dict(zip(fields, record[1:], strict=True)))
        for record in _tuples(frame, ["pk", *fields])
    ]
    model.objects.bulk_update(instances, list(fields), batch_size=UPDATE_BATCH_SIZE)
    return len(instances)


def _key_map(model, keys: Sequence[str]) -> dict[str, int]:
    existing = _existing(model, "external_id", keys, ["external_id", "pk"])
    return dict(zip(existing["external_id"], existing["pk"], strict=True))


def _erased_customer_ids(external_ids: Sequence[str]) -> set[str]:
    """The ids of customers who were erased: a file written before the erasure must not bring them back."""
    if not ErasureRecord.objects.exists():
        return set()
    by_hash = {customer_subject(external_id): external_id for external_id in external_ids}
    erased: set[str] = set()
    for chunk in _chunks(list(by_hash), LOOKUP_CHUNK_KEYS):
        found = ErasureRecord.objects.filter(subject_hash__in=chunk).values_list("subject_hash", flat=True)
        erased.update(by_hash[subject] for subject in found)
    return erased


def _write_customers(orders: pd.DataFrame, *, report: ImportReport, now) -> dict[str, int]:
    named = orders[orders["customer_id"] != ""]
    if named.empty:
        return {}
    # Orders of erased customers go to the anonymous record, as their earlier orders did.
    erased = _erased_customer_ids(named["customer_id"].unique().tolist())
    if erased:
        report.erased_customers = len(erased)
        named = named[~named["customer_id"].isin(erased)]
    country = _most_frequent(named, "customer_id", "country")
    wanted = pd.DataFrame({"external_id": named["customer_id"].unique()})
    wanted["country"] = wanted["external_id"].map(country).astype(object).fillna("").astype("str")
    existing = _existing(
        Customer, "external_id", wanted["external_id"].tolist(), ["external_id", "pk", "country"]
    )
    merged = wanted.merge(existing, on="external_id", how="left", suffixes=("", "_now"), indicator=True)
    new = merged[merged["_merge"] == "left_only"].copy()
    old = merged[merged["_merge"] == "both"].copy()
    changed = old[(old["country"] != "") & (old["country"] != old["country_now"])].copy()
    if len(new):
        new = new.assign(
            name="", email="", email_opt_in=False, signed_up_at=None, consent_changed_at=None, user_id=None
        )
        new["created_at"] = now
        new["updated_at"] = now
        fields = ["external_id", "name", "email", "country", "email_opt_in", "signed_up_at"]
        fields += ["consent_changed_at", "user_id", "created_at", "updated_at"]
        _insert(Customer, fields, new)
    if len(changed):
        changed["updated_at"] = now
        changed["pk"] = changed["pk"].astype("int64")
        _update(Customer, changed, ["country", "updated_at"])
    report.customers = EntityCounts(created=len(new), updated=len(changed), unchanged=len(old) - len(changed))
    keys = _key_map(Customer, wanted["external_id"].tolist())
    if erased:
        anonymous = anonymous_customer().pk
        keys.update(dict.fromkeys(erased, anonymous))
    return keys


def _write_consent(rows: pd.DataFrame, customer_pks: dict[str, int], *, report: ImportReport, now) -> None:
    """Set consent where the file says so: per customer and channel, the value of their latest row.

    A change is recorded in the consent history (source: import); erased customers are left alone.
    """
    consent_roles = [role for role in CONSENT_COLUMNS if role in rows.columns]
    if not consent_roles:
        return
    anonymous = Customer.objects.filter(anonymous=True).values_list("pk", flat=True).first()
    erased = {external_id for external_id, pk in customer_pks.items() if pk == anonymous}
    events = []
    for role in consent_roles:
        channel = CONSENT_COLUMNS[role]
        field = CONSENT_FIELDS[channel]
        stated = (rows[role] != "") & (rows["customer_id"] != "")
        given = rows.loc[stated, ["customer_id", "ordered_at", role]]
        given = given[~given["customer_id"].isin(erased)]
        if given.empty:
            continue
        latest = given.sort_values("ordered_at", kind="stable").drop_duplicates("customer_id", keep="last")
        wanted = {
            customer_pks[external_id]: value == "1"
            for external_id, value in zip(latest["customer_id"], latest[role], strict=True)
        }
        current = {}
        for chunk in _chunks(list(wanted), LOOKUP_CHUNK_KEYS):
            current.update(Customer.objects.filter(pk__in=chunk).values_list("pk", field))
        for granted in (True, False):
            changed = [pk for pk, value in wanted.items() if value is granted and current.get(pk) != granted]
            for chunk in _chunks(changed, LOOKUP_CHUNK_KEYS):
                updates = {field: granted, "updated_at": now}
                if channel == "email":
                    updates["consent_changed_at"] = now
                Customer.objects.filter(pk__in=chunk).update(**updates)
            events += [
                ConsentEvent(
                    customer_id=pk,
                    channel=channel,
                    granted=granted,
                    at=now,
                    source=ConsentEvent.Source.IMPORT,
                )
                for pk in changed
            ]
    ConsentEvent.objects.bulk_create(events, batch_size=UPDATE_BATCH_SIZE)
    report.consent_changes = len(events)


def _write_categories(rows: pd.DataFrame, *, report: ImportReport) -> dict[str, int]:
    paths = rows.loc[rows["category"] != "", "category"].unique().tolist()
    if not paths:
        return {}
    every_path = set()
    for path in paths:
        parts = path.split("/")
        every_path.update("/".join(parts[: depth + 1]) for depth in range(len(parts)))
    category_pks = dict(Category.objects.filter(path__in=every_path).values_list("path", "pk"))
    missing = sorted(every_path - category_pks.keys(), key=lambda path: (path.count("/"), path))
    for depth in sorted({path.count("/") for path in missing}):
        level = [
            Category(
                name=path.rsplit("/", 1)[-1][:120],
                path=path,
                parent_id=category_pks[path.rsplit("/", 1)[0]] if depth else None,
            )
            for path in missing
            if path.count("/") == depth
        ]
        for category in Category.objects.bulk_create(level):
            category_pks[category.path] = category.pk
    report.categories = EntityCounts(created=len(missing), unchanged=len(every_path) - len(missing))
    return category_pks


def _write_products(
    rows: pd.DataFrame, category_pks: dict[str, int], *, report: ImportReport, now
) -> dict[str, int]:
    """Products for the catalogue codes: name the most frequent text, price that of the latest sale.

    Only a positive price is taken (the latest sale at one, else the latest line at one): order files
    hold lines at 0.00 (UCI's samples and write-offs), which are no catalogue price. A product the file
    gives no positive price keeps the one stored; a new one is stored at 0.00, which the shop does not
    sell or recommend (``available_product_q``). A file whose sales of a product are all older than
    the ones stored leaves its name, price and category as they are.
    """
    columns = ["line", "item_code", "item_name", "category", "quantity", "unit_price", "ordered_at"]
    lines = rows.loc[rows["is_product"], columns]
    if lines.empty:
        return {}
    codes = pd.Index(lines["item_code"].unique())
    name = _most_frequent(lines, "item_code", "item_name").reindex(codes)
    chronological = lines.sort_values(["ordered_at", "line"], kind="stable")
    priced = chronological[chronological["unit_price"] > 0]
    latest_sale = priced[priced["quantity"] > 0].drop_duplicates("item_code", keep="last")
    latest_priced = priced.drop_duplicates("item_code", keep="last")
    price = latest_sale.set_index("item_code")["unit_price"].reindex(codes)
    price = price.fillna(latest_priced.set_index("item_code")["unit_price"].reindex(codes)).round(2)
    with_category = chronological[chronological["category"] != ""].drop_duplicates("item_code", keep="last")
    category_path = with_category.set_index("item_code")["category"].reindex(codes)
    wanted = pd.DataFrame(
        {
            "external_id": codes,
            "name": name.array,
            "price": price.array,
            "category_id": category_path.map(category_pks).astype("Int64").array,
        }
    )
    existing = _existing(
        Product, "external_id", codes.tolist(), ["external_id", "pk", "name", "price", "category_id"]
    )
    existing["price"] = existing["price"].astype("float64")
    existing["category_id"] = existing["category_id"].astype("Int64")
    merged = wanted.merge(existing, on="external_id", how="left", suffixes=("", "_now"), indicator=True)
    new = merged[merged["_merge"] == "left_only"].copy()
    old = merged[merged["_merge"] == "both"].copy()
    # What the file does not say (no description, no category) keeps the value already stored.
    old["name"] = old["name"].fillna(old["name_now"])
    old["category_id"] = old["category_id"].fillna(old["category_id_now"])
    old["price"] = old["price"].fillna(old["price_now"])
    # A file older than the sales already stored (last year's, imported after this year's) says
    # nothing of a product's name, price or category now: those stay as they are.
    file_latest = chronological.drop_duplicates("item_code", keep="last").set_index("item_code")["ordered_at"]
    stored_latest = _latest_stored_sale(old["pk"].astype("int64").tolist())
    stored = pd.to_datetime(old["pk"].astype("int64").map(stored_latest))
    filed = pd.to_datetime(old["external_id"].map(file_latest), utc=True).dt.tz_localize(None)
    outdated = (stored > filed).to_numpy()  # a product never sold before has no stored date: not outdated
    for field in ("name", "price", "category_id"):
        old.loc[outdated, field] = old.loc[outdated, f"{field}_now"]
    changed = old[
        (old["name"] != old["name_now"])
        | ((old["price"] - old["price_now"]).abs() > 1e-6)
        | (old["category_id"].fillna(-1) != old["category_id_now"].fillna(-1))
    ].copy()
    if len(new):
        new["name"] = new["name"].fillna(new["external_id"]).astype("str")
        new["price"] = new["price"].fillna(0.0)
        new = new.assign(description="", active=True, stock=None, created_at=now, updated_at=now)
        new["stock"] = new["stock"].astype(object)
        fields = ["external_id", "name", "description", "category_id", "price", "active", "stock"]
        _insert(Product, [*fields, "created_at", "updated_at"], new)
    if len(changed):
        changed["updated_at"] = now
        changed["pk"] = changed["pk"].astype("int64")
        _update(Product, changed, ["name", "price", "category_id", "updated_at"])
    report.products = EntityCounts(created=len(new), updated=len(changed), unchanged=len(old) - len(changed))
    return _key_map(Product, codes.tolist())


def _latest_stored_sale(product_pks: list[int]) -> dict[int, np.datetime64]:
    """Per product, when the latest order already stored that sold it was placed (UTC, naive)."""
    latest: dict[int, np.datetime64] = {}
    for chunk in _chunks(product_pks, LOOKUP_CHUNK_KEYS):
        rows = (
            OrderLine.objects.filter(product_id__in=chunk, quantity__gt=0)
            .values("product_id")
            .annotate(latest=Max("order__placed_at"))
            .values_list("product_id", "latest")
        )
        for product_id, placed_at in rows:
            latest[product_id] = np.datetime64(
                pd.Timestamp(placed_at).tz_convert("UTC").tz_localize(None), "ns"
            )
    return latest


def _write_orders(
    orders: pd.DataFrame,
    customer_pks: dict[str, int],
    *,
    report: ImportReport,
    now,
    channel: str = Order.Channel.IMPORT,
) -> tuple[dict[str, int], set[str]]:
    wanted = orders.rename(columns={"order_id": "external_id"})
    kept = _kept_order_ids(wanted["external_id"].tolist(), channel=channel)
    if kept:
        # Written since the rows were checked (a basket placed, an import beside this one): nothing of
        # this import is written.
        order_id = min(kept)
        raise ImportValidationError(
            report.source, [RowError(0, "order_id", order_id, _kept_order_message(channel))]
        )
    wanted["customer_pk"] = wanted["customer_id"].map(customer_pks).astype("Int64")
    existing = _existing(
        Order,
        "external_id",
        wanted["external_id"].tolist(),
        ["external_id", "pk", "customer_id", "placed_at", "status", "country"],
    ).rename(columns={"customer_id": "customer_pk"})
    existing["customer_pk"] = existing["customer_pk"].astype("Int64")
    existing["placed_at"] = pd.to_datetime(existing["placed_at"], utc=True)
    merged = wanted.merge(existing, on="external_id", how="left", suffixes=("", "_now"), indicator=True)
    new = merged[merged["_merge"] == "left_only"].copy()
    old = merged[merged["_merge"] == "both"].copy()
    changed = old[
        (old["customer_pk"].fillna(-1) != old["customer_pk_now"].fillna(-1))
        | (old["placed_at"] != old["placed_at_now"])
        | (old["status"] != old["status_now"])
        | (old["country"] != old["country_now"])
    ].copy()
    if len(new):
        new = new.drop(columns="customer_id").rename(columns={"customer_pk": "customer_id"})
        new = new.assign(channel=channel, created_at=now)
        fields = ["external_id", "customer_id", "placed_at", "channel", "status", "country", "created_at"]
        _insert(Order, fields, new)
    if len(changed):
        changed = changed.drop(columns="customer_id").rename(columns={"customer_pk": "customer_id"})
        changed["pk"] = changed["pk"].astype("int64")
        _update(Order, changed, ["customer_id", "placed_at", "status", "country"])
    report.orders = EntityCounts(created=len(new), updated=len(changed), unchanged=len(old) - len(changed))
    order_pks = _key_map(Order, wanted["external_id"].tolist())
    return order_pks, set(new["external_id"])


def _write_lines(
    rows: pd.DataFrame,
    order_pks: dict[str, int],
    new_order_keys: set[str],
    product_pks: dict[str, int],
    *,
    report: ImportReport,
    progress: Progress,
) -> None:
    names = _most_frequent(rows, "item_code", "item_name")
    item_name = rows["item_name"].where(rows["item_name"] != "", rows["item_code"].map(names))
    unnamed = item_name.isna() & rows["is_product"]
    if unnamed.any():
        # A file without product names (the column is optional) names a known product as the catalogue
        # does, rather than by its code.
        codes = rows.loc[unnamed, "item_code"].unique().tolist()
        catalogue = _existing(Product, "external_id", codes, ["external_id", "name"])
        item_name = item_name.fillna(rows["item_code"].map(catalogue.set_index("external_id")["name"]))
    lines = pd.DataFrame(
        {
            "order_id": rows["order_id"].map(order_pks).astype("int64"),
            "line_number": rows["line_number"].astype("int64"),
            "product_id": rows["item_code"].map(product_pks).where(rows["is_product"]).astype("Int64"),
            "item_code": rows["item_code"],
            "item_name": item_name.fillna(rows["item_code"]).astype("str"),
            "quantity": rows["quantity"],
            "unit_price": rows["unit_price"],
        }
    )
    is_new_order = rows["order_id"].isin(new_order_keys)
    existing_order_pks = lines.loc[~is_new_order, "order_id"].unique().tolist()
    existing = _existing_lines(existing_order_pks)
    keys = ["order_id", "line_number"]
    merged = lines.merge(existing, on=keys, how="left", suffixes=("", "_now"), indicator=True)
    new = merged[merged["_merge"] == "left_only"]
    old = merged[merged["_merge"] == "both"]
    gone = existing.merge(lines[keys], on=keys, how="left", indicator=True)
    gone = gone[gone["_merge"] == "left_only"]
    changed = old[
        (old["product_id"].fillna(-1) != old["product_id_now"].fillna(-1))
        | (old["item_code"] != old["item_code_now"])
        | (old["item_name"] != old["item_name_now"])
        | (old["quantity"] != old["quantity_now"])
        | ((old["unit_price"] - old["unit_price_now"]).abs() > 1e-6)
    ].copy()
    fields = ["order_id", "line_number", "product_id", "item_code", "item_name", "quantity", "unit_price"]
    new = new[fields].assign(discount=0)
    for start in range(0, len(new), INSERT_CHUNK_ROWS):
        chunk = new.iloc[start : start + INSERT_CHUNK_ROWS]
        bulk_insert_rows(OrderLine, [*fields, "discount"], _tuples(chunk, [*fields, "discount"]))
        progress(0.4 + 0.55 * (start + len(chunk)) / len(new), "Writing order lines")
    if len(changed):
        changed["pk"] = changed["pk"].astype("int64")
        _update(OrderLine, changed, ["product_id", "item_code", "item_name", "quantity", "unit_price"])
    # The file is the whole of each order it names: lines beyond its rows are removed.
    gone_pks = gone["pk"].astype("int64").tolist()
    for chunk in _chunks(gone_pks, LOOKUP_CHUNK_KEYS):
        OrderLine.objects.filter(pk__in=chunk).delete()
    report.order_lines = EntityCounts(
        created=len(new), updated=len(changed), unchanged=len(old) - len(changed), deleted=len(gone_pks)
    )


def _existing_lines(order_pks: list[int]) -> pd.DataFrame:
    columns = ["pk", "order_id", "line_number", "product_id_now", "item_code_now", "item_name_now"]
    columns += ["quantity_now", "unit_price_now"]
    dtypes = dict(
        zip(columns, ["int64", "int64", "int64", "Int64", "str", "str", "int64", "float64"], strict=True)
    )
    table = connection.ops.quote_name(OrderLine._meta.db_table)
    # A frame per chunk keeps the peak memory to one chunk of Python tuples.
    frames = [pd.DataFrame(columns=columns).astype(dtypes)]
    with connection.cursor() as cursor:
        for chunk in _chunks(order_pks, LOOKUP_CHUNK_KEYS):
            placeholders = ", ".join(["%s"] * len(chunk))
            # The price as a float: no Decimal per row, and compared with a tolerance anyway.
            cursor.execute(
                f"SELECT id, order_id, line_number, product_id, item_code, item_name, quantity, "
                f"CAST(unit_price AS DOUBLE PRECISION) FROM {table} WHERE order_id IN ({placeholders})",
                list(chunk),
            )
            frames.append(pd.DataFrame.from_records(cursor.fetchall(), columns=columns).astype(dtypes))
    return pd.concat(frames, ignore_index=True)
