"""A shopper's basket: lines added, changed and removed, an anonymous basket joining the account at
sign-in, and the order placed from it.

Every change locks the basket's row first, so that two requests of one shopper (two tabs, a double
click) change it one after the other. Placing an order writes it through the import service, as an
imported order would be written (``crm.services.importing.import_canonical_frame``), and lowers the
stock of the products bought in the same transaction, with their rows locked: of two shoppers buying
the last unit, the second is refused. The order gets an id no order holds yet, and the basket keeps it:
placing the basket again finds that order through the basket, never by its id.
"""

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from crm.models import Basket, BasketLine, BehaviourEvent, Customer, Order, Product
from crm.models.orders import LARGEST_AMOUNT
from crm.services.behaviour import behaviour_events_claim
from crm.services.importing import (
    CANONICAL_COLUMNS,
    ORDER_EXISTS_MESSAGE,
    UNIT_PRICE_LIMIT,
    ImportValidationError,
    import_canonical_frame,
)

# The most of one product a basket holds: the shop's and the API's quantity field take 1 to this.
BASKET_LINE_MAX_QUANTITY = 999
# The order placed from basket 12 is "WEB-12" ("WEB-12-2", "-3", ... where an imported order holds that id).
WEB_ORDER_PREFIX = "WEB-"


class BasketError(ValueError):
    """A change the basket cannot take (empty basket, too many of one product); the message says why."""


class BasketStockError(BasketError):
    """A product is not sold any more or has too few units in stock for the basket."""


@dataclass(frozen=True)
class OrderPlacement:
    order: Order
    created: bool


def web_order_id(basket: Basket) -> str:
    """The id of the order placed from ``basket``: ``WEB-<basket id>``, or, where an order the shop did
    not place already holds it (imported under that id), ``WEB-<basket id>-2``, ``-3``, ...: the first
    that no order holds."""
    first = f"{WEB_ORDER_PREFIX}{basket.pk}"
    taken = set(
        Order.objects.filter(Q(external_id=first) | Q(external_id__startswith=f"{first}-")).values_list(
            "external_id", flat=True
        )
    )
    order_id, number = first, 1
    while order_id in taken:
        number += 1
        order_id = f"{first}-{number}"
    return order_id


def basket_create(*, customer: Customer | None = None) -> Basket:
    """The basket to put things in: a customer's one open basket (made if they have none), or a new
    anonymous one."""
    if customer is None:
        return Basket.objects.create()
    basket = Basket.objects.filter(customer=customer, status=Basket.Status.OPEN).first()
    if basket is not None:
        return basket
    try:
        with transaction.atomic():
            return Basket.objects.create(customer=customer)
    except IntegrityError:
        # Another request of the same shopper made it a moment ago (one open basket per customer).
        return Basket.objects.get(customer=customer, status=Basket.Status.OPEN)


def basket_line_add(*, basket: Basket, product: Product, quantity: int, session_key: str = "") -> BasketLine:
    """Put ``quantity`` more of ``product`` in the basket; records an add-to-cart event (by the
    customer, or by ``session_key`` for an anonymous basket)."""
    _check_quantity(quantity, minimum=1)
    with transaction.atomic():
        locked = _locked_open(basket)
        line = BasketLine.objects.filter(basket=locked, product=product).first()
        total = quantity + (line.quantity if line else 0)
        if total > BASKET_LINE_MAX_QUANTITY:
            raise BasketError(
                f"At most {BASKET_LINE_MAX_QUANTITY} of one product fit in a basket; "
                f"yours has {line.quantity if line else 0} of {product.name}."
            )
        _check_available(product, total)
        if line is None:
            line = BasketLine.objects.create(basket=locked, product=product, quantity=total)
        else:
            line.quantity = total
            line.save(update_fields=["quantity", "updated_at"])
        locked.save(update_fields=["updated_at"])
        _record(BehaviourEvent.Kind.ADD_TO_CART, locked, product, session_key)
    return line


def basket_line_set_quantity(
    *, basket: Basket, product: Product, quantity: int, session_key: str = ""
) -> BasketLine | None:
    """Change how many of ``product`` the basket holds; 0 removes the line (and returns None)."""
    _check_quantity(quantity, minimum=0)
    if quantity == 0:
        basket_line_remove(basket=basket, product=product, session_key=session_key)
        return None
    with transaction.atomic():
        locked = _locked_open(basket)
        line = BasketLine.objects.filter(basket=locked, product=product).first()
        if line is None:
            raise BasketLine.DoesNotExist(f"{product.name} is not in this basket.")
        if quantity > line.quantity:
            _check_available(product, quantity)
        line.quantity = quantity
        line.save(update_fields=["quantity", "updated_at"])
        locked.save(update_fields=["updated_at"])
    return line


def basket_line_remove(*, basket: Basket, product: Product, session_key: str = "") -> bool:
    """Take ``product`` out of the basket; records a remove-from-cart event. False if it was not in it."""
    with transaction.atomic():
        locked = _locked_open(basket)
        deleted, _ = BasketLine.objects.filter(basket=locked, product=product).delete()
        if deleted:
            locked.save(update_fields=["updated_at"])
            _record(BehaviourEvent.Kind.REMOVE_FROM_CART, locked, product, session_key)
    return bool(deleted)


def basket_merge(*, basket: Basket, customer: Customer) -> Basket | None:
    """An anonymous basket joins ``customer``'s open basket (quantities of a product add up, up to
    the most one basket holds); it becomes their basket if they have none. Returns their open basket
    (None if they have none and ``basket`` is not an open anonymous basket)."""
    with transaction.atomic():
        anonymous = (
            Basket.objects.select_for_update()
            .filter(pk=basket.pk, customer__isnull=True, status=Basket.Status.OPEN)
            .first()
        )
        own = Basket.objects.select_for_update().filter(customer=customer, status=Basket.Status.OPEN).first()
        if anonymous is None:
            return own
        if own is None:
            anonymous.customer = customer
            anonymous.save(update_fields=["customer", "updated_at"])
            return anonymous
        held = {line.product_id: line for line in own.lines.all()}
        for line in anonymous.lines.all():
            mine = held.get(line.product_id)
            if mine is None:
                BasketLine.objects.create(basket=own, product_id=line.product_id, quantity=line.quantity)
            else:
                mine.quantity = min(mine.quantity + line.quantity, BASKET_LINE_MAX_QUANTITY)
                mine.save(update_fields=["quantity", "updated_at"])
        anonymous.delete()
        own.save(update_fields=["updated_at"])
        return own


def anonymous_session_join(*, user: AbstractBaseUser, basket_id: int | None, session_key: str) -> bool:
    """A visitor signed in: their anonymous basket joins their customer's basket, and the behaviour
    events they made before signing in (recorded under ``session_key``) become the customer's.

    False when the login has no customer record (e.g. a staff login): then nothing changes.
    """
    customer = Customer.objects.filter(user=user).first()
    if customer is None:
        return False
    with transaction.atomic():
        if basket_id is not None:
            basket = Basket.objects.filter(pk=basket_id, customer__isnull=True).first()
            if basket is not None:
                basket_merge(basket=basket, customer=customer)
        if session_key:
            behaviour_events_claim(session_key=session_key, customer=customer)
    return True


def basket_order_place(*, basket: Basket) -> OrderPlacement:
    """Place the order of a signed-in shopper's basket; no payment is taken.

    The order (``web_order_id``: an id no order holds; channel web, status placed, the products' current
    prices) is written by the import service, as imported orders are; tracked stock is lowered; the
    basket is marked ordered and keeps its order; one purchase event per product is recorded. Placing an
    ordered basket again returns the order it placed (``created`` False). Raises ``BasketError`` for an
    anonymous or empty basket, or one whose prices or total an order cannot hold, and
    ``BasketStockError`` when a product is not sold any more or has too few units left.
    """
    with transaction.atomic():
        locked = Basket.objects.select_for_update().filter(pk=basket.pk).first()
        if locked is None:
            raise BasketError("This basket does not exist any more.")
        if locked.status == Basket.Status.ORDERED:
            order = Order.objects.filter(pk=locked.order_id, customer_id=locked.customer_id).first()
            if order is None:
                raise BasketError("This basket was ordered, and its order is not kept any more.")
            return OrderPlacement(order=order, created=False)
        customer = Customer.objects.filter(pk=locked.customer_id).first()
        if customer is None:
            raise BasketError("Sign in to place an order.")
        lines = list(locked.lines.order_by("added_at", "pk"))
        if not lines:
            raise BasketError("Your basket is empty.")
        # Locked in one order (by primary key) by every placing, so two placings cannot deadlock.
        products = {
            product.pk: product
            for product in Product.objects.select_for_update()
            .filter(pk__in=[line.product_id for line in lines])
            .order_by("pk")
        }
        for line in lines:
            _check_available(products[line.product_id], line.quantity)
        placed_at = timezone.now()
        order_id = web_order_id(locked)
        frame = pd.DataFrame.from_records(
            [
                {
                    "order_id": order_id,
                    "customer_id": customer.external_id,
                    "product_id": products[line.product_id].external_id,
                    "product_name": products[line.product_id].name,
                    "category": "",
                    "quantity": str(line.quantity),
                    "unit_price": str(products[line.product_id].price),
                    "ordered_at": placed_at.isoformat(),
                    "country": customer.country,
                }
                for line in lines
            ],
            columns=CANONICAL_COLUMNS,
        ).astype("string")
        try:
            import_canonical_frame(
                frame=frame,
                source=f"shop basket {locked.pk}",
                order_channel=Order.Channel.WEB,
                order_status=Order.Status.PLACED,
            )
        except ImportValidationError as refusal:
            if any(error.message == ORDER_EXISTS_MESSAGE for error in refusal.errors):
                # An import wrote an order under this id since it was found free: placing again picks another.
                raise BasketError(
                    "Your order could not be placed just now; please place it again."
                ) from refusal
            # A product may be priced beyond what an order line's unit price holds, and 999 of one beyond
            # what an amount holds; nothing else of a basket can be refused by the import.
            raise BasketError(
                f"This order cannot be placed: an order line's unit price is below {UNIT_PRICE_LIMIT:,} "
                f"and an order's total at most {LARGEST_AMOUNT:,}."
            ) from refusal
        for line in lines:
            if products[line.product_id].stock is not None:
                Product.objects.filter(pk=line.product_id).update(
                    stock=F("stock") - line.quantity, updated_at=placed_at
                )
        order = Order.objects.get(external_id=order_id)
        locked.status = Basket.Status.ORDERED
        locked.order = order
        locked.save(update_fields=["status", "order", "updated_at"])
        BehaviourEvent.objects.bulk_create(
            BehaviourEvent(
                kind=BehaviourEvent.Kind.PURCHASE, customer=customer, product_id=line.product_id, at=placed_at
            )
            for line in lines
        )
    return OrderPlacement(order=order, created=True)


def baskets_anonymous_delete(*, updated_before: dt.datetime) -> int:
    """Delete anonymous open baskets untouched since ``updated_before``; returns how many."""
    stale = Basket.objects.filter(
        customer__isnull=True, status=Basket.Status.OPEN, updated_at__lt=updated_before
    )
    _, by_model = stale.delete()
    return by_model.get(Basket._meta.label, 0)


def baskets_retention(now: dt.datetime) -> dict[str, int]:
    """The nightly retention's part for baskets: an anonymous basket untouched for longer than a session
    lasts (``SESSION_COOKIE_AGE``) can no longer be reached by anyone."""
    updated_before = now - dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return {"anonymous_deleted": baskets_anonymous_delete(updated_before=updated_before)}


def _check_quantity(quantity: int, *, minimum: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise BasketError(f"The quantity must be a whole number; got {quantity!r}.")
    if not minimum <= quantity <= BASKET_LINE_MAX_QUANTITY:
        raise BasketError(
            f"The quantity must be from {minimum} to {BASKET_LINE_MAX_QUANTITY}; got {quantity}."
        )


def _check_available(product: Product, quantity: int) -> None:
    if not product.active:
        raise BasketStockError(f"{product.name} is not sold any more; take it out of your basket.")
    if not product.priced:
        raise BasketStockError(f"{product.name} has no price yet, so it cannot be ordered.")
    if product.stock is not None and product.stock < quantity:
        if product.stock <= 0:
            raise BasketStockError(f"{product.name} is out of stock.")
        raise BasketStockError(f"Only {product.stock} of {product.name} left in stock.")


def _locked_open(basket: Basket) -> Basket:
    locked = Basket.objects.select_for_update().filter(pk=basket.pk).first()
    if locked is None:
        raise BasketError("This basket does not exist any more.")
    if locked.status != Basket.Status.OPEN:
        raise BasketError("This basket has been ordered; it cannot change any more.")
    return locked


def _record(kind: str, basket: Basket, product: Product, session_key: str) -> None:
    """An event of the basket's customer, or of the anonymous visitor's ``session_key``."""
    if basket.customer_id is None and not session_key:
        return
    BehaviourEvent.objects.create(
        kind=kind,
        customer_id=basket.customer_id,
        product=product,
        session_key="" if basket.customer_id else session_key[:64],
        at=timezone.now(),
    )
