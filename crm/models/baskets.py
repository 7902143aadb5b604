from decimal import Decimal

from django.db import models
from django.db.models import Q


class Basket(models.Model):
    """What a shopper means to buy. A signed-in shopper has at most one open basket; an anonymous
    visitor's basket has no customer and is found through the id the shop keeps in their session."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ORDERED = "ordered", "Ordered"

    customer = models.ForeignKey(
        "crm.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="baskets",
        help_text="Empty for an anonymous visitor's basket.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    order = models.OneToOneField(
        "crm.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="basket",
        help_text="The order placed from this basket.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(status="open", customer__isnull=False),
                name="basket_one_open_per_customer",
            )
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"Basket {self.pk} ({self.status})"


class BasketLine(models.Model):
    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("crm.Product", on_delete=models.CASCADE, related_name="basket_lines")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["basket", "added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["basket", "product"], name="basket_line_product_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="basket_line_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} x{self.quantity} in basket {self.basket_id}"

    @property
    def unit_price(self) -> Decimal:
        """The product's price now: a basket keeps no price of its own until the order is placed."""
        return self.product.price

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.product.price

    @property
    def orderable(self) -> bool:
        """Whether the product is still sold, at a price, with enough units in stock for this line."""
        stock = self.product.stock
        return self.product.active and self.product.priced and (stock is None or stock >= self.quantity)
