"""Reads for customers' data rights: a customer's whole data as one document (access and portability),
their consent with its history, and the audit trail of access to personal data."""

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

from core.moments import moment_storable
from crm.csv_safety import csv_safe_writer
from crm.models import AuditEvent, BehaviourEvent, ConsentChannel, ConsentEvent, Customer, Order, OrderLine
from crm.models.customers import CONSENT_FIELDS

DATA_EXPORT_FORMAT_VERSION = 1
AUDIT_CSV_COLUMNS = ("at", "actor", "action", "subject", "via", "detail")

DataExportSection = Callable[[Customer], Any]
_export_sections: dict[str, DataExportSection] = {}


def data_export_section_register(name: str, section: DataExportSection) -> None:
    """Another app adds what it keeps about a customer to their data export (e.g. recommendations)."""
    _export_sections[name] = section


def consent_current(*, customer: Customer) -> dict[str, bool]:
    return {channel: bool(getattr(customer, CONSENT_FIELDS[channel])) for channel in ConsentChannel.values}


def consent_history(*, customer: Customer) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(customer=customer).select_related("recorded_by").order_by("-at", "-pk")


@dataclasses.dataclass(frozen=True)
class ConsentOverview:
    """A customer's consent as a page shows it: per channel ``(label, granted, the change its state
    dates from or None)``, the latest ``shown`` changes, and how many there are."""

    channels: list[tuple[str, bool, ConsentEvent | None]]
    latest_changes: list[ConsentEvent]
    change_count: int


def consent_overview(*, customer: Customer, shown: int) -> ConsentOverview:
    """Each channel with since when its state holds, however many changes of other channels followed
    (one query: the whole history, newest first)."""
    current = consent_current(customer=customer)
    changes = list(consent_history(customer=customer))
    dates_from: dict[str, ConsentEvent] = {}
    for change in changes:  # newest first: the first of each channel is what its state dates from
        dates_from.setdefault(change.channel, change)
    return ConsentOverview(
        channels=[
            (label, current[channel], dates_from.get(channel)) for channel, label in ConsentChannel.choices
        ],
        latest_changes=changes[:shown],
        change_count=len(changes),
    )


def _consent_event_dict(event: ConsentEvent) -> dict[str, Any]:
    return {
        "channel": event.channel,
        "granted": event.granted,
        "at": event.at.isoformat(),
        "source": event.source,
        "lawful_basis": event.lawful_basis,
    }


def customer_consent_document(*, customer: Customer) -> dict[str, Any]:
    return {
        "current": consent_current(customer=customer),
        "history": [_consent_event_dict(event) for event in consent_history(customer=customer)],
    }


def _number(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def customer_data_export(*, customer: Customer) -> dict[str, Any]:
    """Everything the shop keeps about ``customer``, as one JSON-ready document.

    Profile, consent with its history, orders with their lines, behaviour events, segment snapshots,
    notes staff wrote about them, and what other apps add (the recommender: current recommendations
    with their reasons). A fixed number of queries, whatever the customer's history.
    """
    user = customer.user
    orders = Order.objects.filter(customer=customer).order_by("placed_at", "external_id")
    # One query for every line of every order (no IN list of the customer's orders or products, which
    # grows with a long history past what SQLite takes in one statement).
    lines_by_order: dict[int, list[OrderLine]] = {}
    for line in (
        OrderLine.objects.filter(order__customer=customer)
        .select_related("product")
        .order_by("order_id", "line_number")
    ):
        lines_by_order.setdefault(line.order_id, []).append(line)
    events = (
        BehaviourEvent.objects.filter(customer=customer)
        .order_by("at", "pk")
        .values("kind", "product__external_id", "query", "at")
    )
    segments = customer.segments.select_related("run").order_by("run__as_of", "run_id")
    document: dict[str, Any] = {
        "format_version": DATA_EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "customer_id": customer.external_id,
            "name": customer.name,
            "email": customer.email,
            "country": customer.country,
            "signed_up_at": customer.signed_up_at.isoformat() if customer.signed_up_at else None,
            "created_at": customer.created_at.isoformat(),
            "login": None
            if user is None
            else {
                "username": user.get_username(),
                "email": user.email,
                "date_joined": user.date_joined.isoformat(),
                "last_login": user.last_login.isoformat() if user.last_login else None,
            },
        },
        "consent": customer_consent_document(customer=customer),
        "orders": [
            {
                "order_id": order.external_id,
                "placed_at": order.placed_at.isoformat(),
                "channel": order.channel,
                "status": order.status,
                "country": order.country,
                "lines": [
                    {
                        "line": line.line_number,
                        "product_id": line.product.external_id if line.product else line.item_code,
                        "product_name": line.item_name or (line.product.name if line.product else ""),
                        "quantity": line.quantity,
                        "unit_price": _number(line.unit_price),
                        "discount": _number(line.discount),
                    }
                    for line in lines_by_order.get(order.pk, [])
                ],
            }
            for order in orders
        ],
        "behaviour_events": [
            {
                "kind": event["kind"],
                "product_id": event["product__external_id"],
                "query": event["query"],
                "at": event["at"].isoformat(),
            }
            for event in events
        ],
        "segments": [
            {
                "as_of": segment.run.as_of.isoformat(),
                "rfm_group": segment.rfm_group,
                "recency_days": segment.recency_days,
                "frequency": segment.frequency,
                "monetary": segment.monetary,
                "predicted_clv_12m": segment.predicted_clv_12m,
                "churn_risk": segment.churn_risk,
                "high_value": segment.high_value,
            }
            for segment in segments
        ],
        "notes": [
            {"kind": note.kind, "body": note.body, "created_at": note.created_at.isoformat()}
            for note in customer.notes.order_by("created_at", "pk")
        ],
    }
    for name, section in _export_sections.items():
        document[name] = section(customer)
    return document


# --- Audit trail ------------------------------------------------------------------------------


def audit_event_list(
    *,
    actor: str | None = None,
    action: str | None = None,
    since: dt.datetime | dt.date | None = None,
    until: dt.datetime | dt.date | None = None,
    subject: str | None = None,
) -> QuerySet[AuditEvent]:
    """The audit trail, newest first. ``actor`` matches the login (or process) name; ``since`` and
    ``until`` are inclusive (a date means the whole day); ``subject`` e.g. a customer's hash."""
    events = AuditEvent.objects.select_related("actor").order_by("-at", "-pk")
    if actor:
        events = events.filter(actor_name__iexact=actor)
    if action:
        events = events.filter(action=action)
    if subject:
        events = events.filter(subject=subject)
    # A day at the calendar's ends bounds nothing: the last one has no day after it, and the first one's
    # first moment, in a time zone ahead of UTC, is before year 1 in UTC (core.moments).
    if since is not None:
        start = _start_of(since)
        if moment_storable(start):
            events = events.filter(at__gte=start)
    if until is not None:
        if isinstance(until, dt.datetime):
            events = events.filter(at__lte=until)
        elif until < dt.date.max:
            events = events.filter(at__lt=_start_of(until + dt.timedelta(days=1)))
    return events


def _start_of(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def audit_events_csv(*, events: QuerySet[AuditEvent], out: IO[str]) -> int:
    """Write audit events as CSV (every cell made safe for spreadsheets); returns the row count."""
    writer = csv_safe_writer(out)
    writer.writerow(AUDIT_CSV_COLUMNS)
    written = 0
    for event in events.iterator(chunk_size=2000):
        detail = ", ".join(f"{key}={value}" for key, value in sorted(event.detail.items()))
        writer.writerow(
            [event.at.isoformat(), event.actor_name, event.action, event.subject, event.via, detail]
        )
        written += 1
    return written
