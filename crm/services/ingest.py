"""Bulk ingest through the API: orders (through the import service) and behaviour events.

Both take plain dicts as the API's input serializers leave them and write all or nothing. A
problem is reported per item (its position in the list) and field, so that the sending system
can fix exactly those items.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crm.models import BehaviourEvent, Customer, Product
from crm.models.behaviour import EVENT_CLOCK_SKEW
from crm.services.importing import (
    CANONICAL_COLUMNS,
    ImportValidationError,
    RowError,
    import_canonical_frame,
)

# One request is one transaction: a thousand orders (some tens of thousands of lines) import in
# a few seconds, well inside a web worker's timeout; larger loads go through the file import.
INGEST_MAX_ORDERS = 1000
# Events are one narrow row each, so a batch may be larger.
INGEST_MAX_EVENTS = 10000


@dataclass(frozen=True)
class IngestError:
    index: int | None
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


class IngestConflictError(Exception):
    """Another request wrote some of the same orders at the same moment; sending again is safe."""


class IngestValidationError(Exception):
    def __init__(self, errors: list[IngestError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"item {e.index} {e.field}: {e.message}" for e in errors[:5]))


def orders_ingest(*, orders: list[dict]) -> dict:
    """Write a batch of orders with their lines, all or nothing; re-sending it changes nothing.

    Each order: ``order_id``, ``customer_id`` (None for a guest), ``ordered_at`` (aware datetime
    or ISO 8601 text), ``country``, ``lines`` of ``product_id``, ``product_name``, ``category``,
    ``quantity``, ``unit_price``. Returns the counts and the import report.
    """
    if len(orders) > INGEST_MAX_ORDERS:
        raise IngestValidationError(
            [IngestError(None, "", f"At most {INGEST_MAX_ORDERS} orders per request; got {len(orders)}.")]
        )
    duplicate_errors = _duplicate_order_errors(orders)
    if duplicate_errors:
        raise IngestValidationError(duplicate_errors)

    frame, positions = _canonical_frame(orders)
    try:
        with transaction.atomic():
            report = import_canonical_frame(frame=frame, source="api", skip_invalid=False)
    except ImportValidationError as exc:
        # An order's error is on each of its lines (so that a file import leaves them all out): once here.
        errors = dict.fromkeys(_ingest_error_for_row(row_error, positions) for row_error in exc.errors)
        raise IngestValidationError(list(errors)) from exc
    except IntegrityError as exc:
        raise IngestConflictError(
            "Some of these orders were being written by another request at the same time; "
            "nothing of this request was written. Send it again."
        ) from exc
    return {"orders": len(orders), "lines": len(frame), "report": report.to_dict()}


def events_ingest(*, events: list[dict]) -> int:
    """Write a batch of behaviour events, all or nothing; returns how many were written.

    Each event: ``customer_id`` (the retailer's id) or ``session_key``, ``product_id`` (the
    retailer's id; may be empty for a search), ``kind``, ``at``, and optionally ``query`` and
    ``model_version_id``. Unknown customer or product ids are reported per event.
    """
    if len(events) > INGEST_MAX_EVENTS:
        raise IngestValidationError(
            [IngestError(None, "", f"At most {INGEST_MAX_EVENTS} events per request; got {len(events)}.")]
        )
    customer_ids = {event["customer_id"] for event in events if event.get("customer_id")}
    product_ids = {event["product_id"] for event in events if event.get("product_id")}
    # the record keeping erased customers' orders is no one's, so it has no behaviour either
    customer_pks = dict(
        Customer.objects.filter(external_id__in=customer_ids, anonymous=False).values_list(
            "external_id", "pk"
        )
    )
    product_pks = dict(Product.objects.filter(external_id__in=product_ids).values_list("external_id", "pk"))

    errors: list[IngestError] = []
    rows: list[BehaviourEvent] = []
    for index, event in enumerate(events):
        customer_id = event.get("customer_id") or None
        product_id = event.get("product_id") or None
        if event.get("kind") not in BehaviourEvent.Kind.values:
            errors.append(IngestError(index, "kind", f"Unknown event kind {event.get('kind')!r}."))
        if customer_id and customer_id not in customer_pks:
            errors.append(IngestError(index, "customer_id", f"Unknown customer id {customer_id!r}."))
        if product_id and product_id not in product_pks:
            errors.append(IngestError(index, "product_id", f"Unknown product id {product_id!r}."))
        if not customer_id and not event.get("session_key"):
            errors.append(IngestError(index, "customer_id", "Give a customer_id or a session_key."))
        at = _aware_datetime(event.get("at"))
        if at is None:
            errors.append(IngestError(index, "at", "An ISO 8601 date and time is required."))
        elif at > timezone.now() + EVENT_CLOCK_SKEW:
            minutes = int(EVENT_CLOCK_SKEW.total_seconds() // 60)
            errors.append(
                IngestError(index, "at", f"More than {minutes} minutes ahead of this server's clock.")
            )
        if errors and errors[-1].index == index:
            continue
        rows.append(
            BehaviourEvent(
                customer_id=customer_pks.get(customer_id) if customer_id else None,
                session_key=(event.get("session_key") or "")[:64],
                product_id=product_pks.get(product_id) if product_id else None,
                kind=event["kind"],
                query=(event.get("query") or "")[:200],
                model_version_id=event.get("model_version_id"),
                at=at,
            )
        )
    if errors:
        raise IngestValidationError(errors)
    with transaction.atomic():
        BehaviourEvent.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _aware_datetime(value: object) -> dt.datetime | None:
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, dt.datetime):
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _duplicate_order_errors(orders: list[dict]) -> list[IngestError]:
    first_index: dict[str, int] = {}
    errors = []
    for index, order in enumerate(orders):
        order_id = str(order["order_id"])
        if order_id in first_index:
            errors.append(
                IngestError(
                    index,
                    "order_id",
                    f"Order {order_id!r} is also item {first_index[order_id]} of this list.",
                )
            )
        else:
            first_index[order_id] = index
    return errors


def _canonical_frame(orders: list[dict]) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """One canonical row per order line, as text (as a canonical CSV would be read), and the
    (order index, line index) of every row."""
    records: list[dict[str, str]] = []
    positions: list[tuple[int, int]] = []
    for order_index, order in enumerate(orders):
        ordered_at = order["ordered_at"]
        ordered_at_text = ordered_at.isoformat() if isinstance(ordered_at, dt.datetime) else str(ordered_at)
        for line_index, line in enumerate(order["lines"]):
            records.append(
                {
                    "order_id": str(order["order_id"]),
                    "customer_id": "" if order.get("customer_id") is None else str(order["customer_id"]),
                    "product_id": str(line["product_id"]),
                    "product_name": line.get("product_name") or "",
                    "category": line.get("category") or "",
                    "quantity": str(line["quantity"]),
                    "unit_price": str(line["unit_price"]),
                    "ordered_at": ordered_at_text,
                    "country": order.get("country") or "",
                }
            )
            positions.append((order_index, line_index))
    frame = pd.DataFrame.from_records(records, columns=CANONICAL_COLUMNS).astype("string")
    return frame, positions


ORDER_LEVEL_COLUMNS = {"order_id", "customer_id", "ordered_at", "country"}


def _ingest_error_for_row(row_error: RowError, positions: list[tuple[int, int]]) -> IngestError:
    # The import service numbers frame rows as lines of a CSV file with a header: position + 2.
    row = row_error.line - 2
    message = f"{row_error.message} (got {row_error.value!r})" if row_error.value else row_error.message
    if not 0 <= row < len(positions):
        return IngestError(None, row_error.column, message)
    order_index, line_index = positions[row]
    column = row_error.column
    field = column if column in ORDER_LEVEL_COLUMNS else f"lines[{line_index}].{column}"
    return IngestError(order_index, field, message)
