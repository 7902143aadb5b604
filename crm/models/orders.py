from decimal import Decimal

from django.db import models


class OrderQuerySet(models.QuerySet):
    def sales(self) -> "OrderQuerySet":
        return self.exclude(status__in=[Order.Status.CANCELLED, Order.Status.RETURNED])


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

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["customer", "placed_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"Order {self.external_id}"


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
