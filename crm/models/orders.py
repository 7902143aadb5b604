from decimal import Decimal

from django.db import models
from django.db.models import DecimalField, ExpressionWrapper, F

# An amount (a line's, an order's total) as the API writes it: to the cent, in 14 digits, so at most
# 999,999,999,999.99. A line's own fields allow some 2 x 10**17 (a 32-bit quantity times a unit price of
# 12 digits): the import refuses a line or an order beyond this.
AMOUNT_MAX_DIGITS = 14
AMOUNT_DECIMAL_PLACES = 2
LARGEST_AMOUNT = Decimal(10) ** (AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES) - Decimal("0.01")


def line_amount(prefix: str = "") -> ExpressionWrapper:
    """What a line is worth: quantity x unit price - discount (negative for a returned line).

    ``prefix`` reaches the line through a relation, e.g. ``"lines__"`` from an order.
    """
    return ExpressionWrapper(
        F(f"{prefix}quantity") * F(f"{prefix}unit_price") - F(f"{prefix}discount"),
        output_field=DecimalField(max_digits=18, decimal_places=4),
    )


class OrderQuerySet(models.QuerySet):
    def sales(self) -> "OrderQuerySet":
        """Orders that count as sales: not cancelled, not a return order."""
        return self.exclude(status__in=Order.NOT_SALES)


class Order(models.Model):
    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        RETURNED = "returned", "Returned"

    class Channel(models.TextChoices):
        WEB = "web", "Web shop"
        STORE = "store", "Store"
        PHONE = "phone", "Phone"
        MARKETPLACE = "marketplace", "Marketplace"
        IMPORT = "import", "Imported"

    external_id = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey(
        "crm.Customer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        help_text="Empty for a guest order.",
    )
    placed_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.IMPORT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    country = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Orders whose lines are not sales: cancelled, and the return orders of a cancellation invoice.
    NOT_SALES = (Status.CANCELLED, Status.RETURNED)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["customer", "placed_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Order {self.external_id}"


class OrderLineQuerySet(models.QuerySet):
    def sales(self) -> "OrderLineQuerySet":
        """Lines of orders that count as sales (see ``OrderQuerySet.sales``), returned lines included."""
        return self.exclude(order__status__in=Order.NOT_SALES)

    def net_of_returns(self) -> "OrderLineQuerySet":
        """What customers paid and kept: lines of orders not cancelled, where a sale order refunded in full
        (marked returned) keeps only its returned lines, which subtract."""
        return self.exclude(order__status=Order.Status.CANCELLED).exclude(
            order__status=Order.Status.RETURNED, quantity__gt=0
        )

    def with_amount(self) -> "OrderLineQuerySet":
        return self.annotate(amount_value=line_amount())


class OrderLine(models.Model):
    """One line of an order. A negative quantity is a return of that product.

    Lines whose item is not a catalogue product (postage, fees, manual adjustments) have no
    ``product`` and keep the retailer's code and text in ``item_code`` / ``item_name``.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    product = models.ForeignKey(
        "crm.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines"
    )
    item_code = models.CharField(max_length=64)
    item_name = models.CharField(max_length=255, blank=True)
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=4)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    objects = OrderLineQuerySet.as_manager()

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="order_line_number_unique"),
        ]
        indexes = [models.Index(fields=["product", "order"])]

    def __str__(self) -> str:
        return f"{self.order.external_id}#{self.line_number} {self.item_code} x{self.quantity}"

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount

    @property
    def is_return(self) -> bool:
        return self.quantity < 0
