"""Recording what shoppers do: single events from the shop pages, batches from the API."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from crm.models import BehaviourEvent, Customer, Product


def behaviour_event_record(
    *,
    kind: str,
    customer: Customer | None = None,
    product: Product | None = None,
    session_key: str = "",
    query: str = "",
    model_version_id: int | None = None,
) -> BehaviourEvent:
    if kind not in BehaviourEvent.Kind.values:
        raise ValueError(
            f"Unknown event kind {kind!r}; expected one of {', '.join(BehaviourEvent.Kind.values)}"
        )
    return BehaviourEvent.objects.create(
        kind=kind,
        customer=customer,
        product=product,
        session_key=session_key[:64],
        query=query[:200],
        model_version_id=model_version_id,
        at=timezone.now(),
    )


def behaviour_events_claim(*, session_key: str, customer: Customer) -> int:
    """The events an anonymous visitor made under ``session_key`` become ``customer``'s (they signed
    in); returns how many."""
    if not session_key:
        return 0
    return BehaviourEvent.objects.filter(session_key=session_key, customer__isnull=True).update(
        customer=customer
    )


def behaviour_impressions_record(
    *, customer: Customer, product_ids: Iterable[int], model_version_id: int | None
) -> int:
    """One impression event per recommended product shown, in one INSERT."""
    now = timezone.now()
    events = [
        BehaviourEvent(
            kind=BehaviourEvent.Kind.RECOMMENDATION_IMPRESSION,
            customer=customer,
            product_id=product_id,
            model_version_id=model_version_id,
            at=now,
        )
        for product_id in product_ids
    ]
    with transaction.atomic():
        BehaviourEvent.objects.bulk_create(events)
    return len(events)
